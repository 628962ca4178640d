#!/usr/bin/env bash
# The container image (scripts/image, `make image`): reproducible — the same binary gives the same
# digest and the same archive bytes whatever the file's time stamp, owner, mode or the umask —
# named as the DaemonSet names it, configured as the DaemonSet runs it (the entrypoint is the
# binary, the manifest gives the arguments; user root; no shell), and holding nothing but a
# binary that runs with no other file around it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
BIN=${OOMWARDEN:-$top/build/oomwarden}

for t in umoci skopeo; do
    command -v "$t" >/dev/null || skip_all "$t is not installed (Debian packages umoci, skopeo)"
done
[ -x "$BIN" ] || skip_all "no built binary at $BIN"

version=$("$top/scripts/version")
name=oomwarden:$version
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000

digest_of() { skopeo inspect --format '{{.Digest}}' "oci-archive:$1:$name"; }

# 1: from the binary as built
out=$("$top/scripts/image" "$BIN" "$tmp/a.tar" 2>&1)
check "scripts/image builds an OCI archive" test -s "$tmp/a.tar"
[ -s "$tmp/a.tar" ] || { echo "# $out"; done_testing; exit 1; }
d1=$(digest_of "$tmp/a.tar")
echo "# first build:  $d1"

# 2: the same bytes, but another owner, mode, time stamp and umask on the host
cp "$BIN" "$tmp/oomwarden"
chown 4242:4242 "$tmp/oomwarden"
chmod 0700 "$tmp/oomwarden"
touch -d '2001-02-03 04:05:06' "$tmp/oomwarden"
(umask 077 && "$top/scripts/image" "$tmp/oomwarden" "$tmp/b.tar" >/dev/null 2>&1)
d2=$(digest_of "$tmp/b.tar")
echo "# second build: $d2"
expect_eq "two builds give the same image digest (host owner, mode, mtime, umask do not leak)" "$d1" "$d2"
check "two builds give the same archive, byte for byte" cmp "$tmp/a.tar" "$tmp/b.tar"

# the epoch is what stamps it: another epoch, another image (the test above can fail)
SOURCE_DATE_EPOCH=1700000001 "$top/scripts/image" "$BIN" "$tmp/c.tar" >/dev/null 2>&1
d3=$(digest_of "$tmp/c.tar")
[ -n "$d3" ] && [ "$d3" != "$d1" ] && ok "SOURCE_DATE_EPOCH is the image's time (another epoch: $d3)" ||
    not_ok "SOURCE_DATE_EPOCH is the image's time" "digest $d3 vs $d1"

# the configuration, as skopeo reads it from the archive
cfg=$(skopeo inspect --config "oci-archive:$tmp/a.tar:$name")
expect_eq "entrypoint: the binary (the DaemonSet gives only args)" '["/usr/bin/oomwarden"]' "$(jq -c '.config.Entrypoint' <<<"$cfg")"
expect_eq "no default command" "null" "$(jq -c '.config.Cmd' <<<"$cfg")"
expect_eq "user: root (runAsUser: 0 and the capabilities of the manifest)" '"0:0"' "$(jq -c '.config.User' <<<"$cfg")"
expect_eq "linux/$(dpkg --print-architecture)" "linux/$(dpkg --print-architecture)" "$(jq -r '.os + "/" + .architecture' <<<"$cfg")"
expect_eq "created at SOURCE_DATE_EPOCH" "2023-11-14T22:13:20Z" "$(jq -r '.created' <<<"$cfg")"
expect_eq "version label" "$version" "$(jq -r '.config.Labels["org.opencontainers.image.version"]' <<<"$cfg")"
expect_eq "one layer" "1" "$(jq '.rootfs.diff_ids | length' <<<"$cfg")"

# the name in the archive is the DaemonSet's image
mkdir "$tmp/layout"
tar -C "$tmp/layout" -xf "$tmp/a.tar"
ref=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$tmp/layout/index.json")
ds=$(sed -n 's/^ *image: *//p' "$top/deploy/kubernetes/oomwarden.yaml")
expect_eq "the archive's reference is the DaemonSet's image" "$ds" "$ref"
stat=$(umoci stat --image "$tmp/layout:$name" 2>&1)
grep -q 'scripts/image: /usr/bin/oomwarden' <<<"$stat" && ok "umoci stat: one layer, made by scripts/image" ||
    not_ok "umoci stat: one layer, made by scripts/image" "$stat"

# what is in it: the binary and its two directories, root's, stamped with the epoch
layer=$(jq -r '.layers[0].digest' "$tmp/layout/blobs/sha256/${d1#sha256:}")
listing=$(tar -tvzf "$tmp/layout/blobs/sha256/${layer#sha256:}" | awk '{ print $1, $2, $4, $5, $6 }')
expect_eq "the layer: usr/, usr/bin/, usr/bin/oomwarden; root:root; the epoch; no shell" \
    "drwxr-xr-x 0/0 2023-11-14 22:13 usr/
drwxr-xr-x 0/0 2023-11-14 22:13 usr/bin/
-rwxr-xr-x 0/0 2023-11-14 22:13 usr/bin/oomwarden" "$listing"

# unpacked as a runtime would (umoci unpack: a bundle with config.json and rootfs) the binary
# runs with nothing else in its root: no loader, no libraries, no /etc
if umoci unpack --image "$tmp/layout:$name" "$tmp/bundle" >/dev/null 2>&1; then
    expect_eq "runtime config: process args are the entrypoint" '["/usr/bin/oomwarden"]' "$(jq -c '.process.args' "$tmp/bundle/config.json")"
    expect_eq "runtime config: uid 0" "0" "$(jq '.process.user.uid' "$tmp/bundle/config.json")"
    v=$(chroot "$tmp/bundle/rootfs" /usr/bin/oomwarden --version 2>&1)
    expect_eq "the binary runs alone in the image's root (chroot)" "oomwarden $version" "$v"
    # and reads a host mounted under --root the DaemonSet's way: a fixture Kubernetes node here,
    # read the same as by the binary outside
    fx=$top/tests/fixtures/dr-k8s-node
    mkdir -p "$tmp/bundle/rootfs/host"
    cp -a "$fx/." "$tmp/bundle/rootfs/host/"
    inside=$(chroot "$tmp/bundle/rootfs" /usr/bin/oomwarden ps --root /host --json 2>&1)
    outside=$("$BIN" ps --root "$fx" --json 2>&1)
    [ -n "$inside" ] && [ "$inside" = "$outside" ] && [ "$(jq length <<<"$inside")" -gt 0 ] &&
        ok "in the image's root, ps --root /host reads a mounted node as outside it does" ||
        not_ok "in the image's root, ps --root /host reads a mounted node as outside it does" "$inside"
    size=$(du -sb "$tmp/bundle/rootfs/usr/bin/oomwarden" | cut -f1)
    echo "# binary in the image: $size bytes (stripped); archive: $(stat -c %s "$tmp/a.tar") bytes"
else
    skip "umoci unpack" "umoci unpack needs root (it keeps owners)"
fi

done_testing
