#!/usr/bin/env bash
# One version, meson.build's project() (scripts/version): the Debian package's version
# (debian/changelog), the image the DaemonSet runs (deploy/kubernetes: oomwarden:<version>, the
# name scripts/image gives the archive) and what the binary prints must all be it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
BIN=${OOMWARDEN:-$top/build/oomwarden}

v=$("$top/scripts/version")
[ -n "$v" ] && ok "scripts/version reads meson.build: $v" || not_ok "scripts/version reads meson.build"
deb=$(sed -n '1s/^oomwarden (\([^)]*\)).*/\1/p' "$top/debian/changelog")
expect_eq "debian/changelog's version is meson.build's (add a changelog entry when the version moves)" "$v" "$deb"
ds=$(sed -n 's/^ *image: *//p' "$top/deploy/kubernetes/oomwarden.yaml")
expect_eq "the DaemonSet's image is oomwarden:<version> (what scripts/image builds)" "oomwarden:$v" "$ds"
if [ -x "$BIN" ]; then
    expect_eq "oomwarden --version" "oomwarden $v" "$("$BIN" --version)"
else
    skip "oomwarden --version" "no built binary at $BIN"
fi
done_testing
