#!/usr/bin/env bash
# Thrashing diagnosed from refaults, against a real thrash: in a scratch v1 memory cgroup with a
# 64 MiB limit (and a twin in the unified tree for its PSI), a 160 MiB file is read in a loop, so
# every page is dropped before it is read again. `cgroup`, `status` and `doctor` must say the cache
# is being re-read as fast as it is dropped. A control cgroup reading a 16 MiB file in a loop (it
# fits) must not be called thrashing.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
command -v jq >/dev/null || skip_all "needs jq"
MiB=1048576
UNIFIED=/sys/fs/cgroup/unified
[ "$(stat -f -c %T /var/tmp)" != tmpfs ] || skip_all "/var/tmp is tmpfs: its pages are shmem, not page cache"
dir=$(mktemp -d /var/tmp/oomwarden-thrash.XXXXXX)
trap 'rm -rf "$dir"; live_cleanup' EXIT
head -c $((160 * MiB)) /dev/urandom >"$dir/big"
head -c $((16 * MiB)) /dev/urandom >"$dir/small"
"$BIN" evict "$dir/big" "$dir/small" >/dev/null

# reader NAME FILE: a shell in the v1 cgroup (and its unified twin) that reads FILE forever
reader() {
    local name=$1 file=$2 twin=""
    v1_cgroup "$name" $((64 * MiB)) || return 1
    if [ -d "$UNIFIED" ]; then
        twin=$UNIFIED/$SCRATCH_PREFIX-$$-$name
        mkdir "$twin" && LIVE_CGROUPS+=("$twin")
    fi
    sh -c '[ -n "$3" ] && echo $$ > "$3/cgroup.procs"; echo $$ > "$1/cgroup.procs" &&
        while :; do cat "$2" >/dev/null; done' sh "$CG" "$file" "$twin" </dev/null >/dev/null 2>&1 &
    READER=$!
    disown "$READER"
    LIVE_PIDS+=("$READER")
}

reader thrash "$dir/big" || { not_ok "create scratch cgroup"; text=$("$BIN" doctor --only pressure --interval 1s)
if grep -q "^\(WARNING\|INFO\) pressure: .*the cache is being re-read as fast as it is dropped: the working set does not fit" <<<"$text" &&
    grep -q "^    $rel: .*of page cache read again after reclaim, all .* of it every .*: thrashing$" <<<"$text"; then
    ok "doctor: the words, and the cgroup named as thrashing"
else
    not_ok "doctor: the words, and the cgroup named as thrashing" "$text"
fi
done_testing; exit; }
rel=$CG_REL
reader fits "$dir/small" || { not_ok "create scratch cgroup"; text=$("$BIN" doctor --only pressure --interval 1s)
if grep -q "^\(WARNING\|INFO\) pressure: .*the cache is being re-read as fast as it is dropped: the working set does not fit" <<<"$text" &&
    grep -q "^    $rel: .*of page cache read again after reclaim, all .* of it every .*: thrashing$" <<<"$text"; then
    ok "doctor: the words, and the cgroup named as thrashing"
else
    not_ok "doctor: the words, and the cgroup named as thrashing" "$text"
fi
done_testing; exit; }
rel_fits=$CG_REL
sleep 4 # a few passes, and PSI's 10 s average on its way up

json=$("$BIN" cgroup "$rel" --json --interval 1s)
check "cgroup: thrashing, >= 1 MiB/s re-read, the cache turned over in under 10 s" jq -e '
    .refaults.measured and .refaults.level == "thrashing" and .refaults.bytes_per_s >= 1048576
    and .refaults.turnover_s <= 10 and .refaults.interval_s >= 1' <<<"$json"
check "cgroup: the observation says it in words" jq -e '
    [.observations[] | select(startswith("the cache is being re-read as fast as it is dropped: the working set does not fit"))]
    | length == 1' <<<"$json"
rate=$(jq -r '.refaults.bytes_per_s / 1048576 | floor' <<<"$json")
echo "# $rel: $rate MiB/s re-read, the $(jq -r '.refaults.cache / 1048576 | floor' <<<"$json") MiB cache every $(jq -r .refaults.turnover_s <<<"$json") s"
if jq -e '.cgroup.psi != null' <<<"$json" >/dev/null; then
    check "cgroup: PSI from the unified twin is in the words" jq -e '
        [.observations[] | select(test("tasks waited for memory [0-9.]+% of the last 10 s"))] | length == 1' <<<"$json"
else
    skip "cgroup: PSI in the words" "no unified twin here"
fi
json=$("$BIN" cgroup "$rel_fits" --json --interval 1s)
check "cgroup: the file that fits is not thrashing" jq -e '
    .refaults.measured and .refaults.level == "none"' <<<"$json"

json=$("$BIN" status --json --top 100 --interval 1s)
check "status: the cgroup's row says thrashing; the one that fits does not" jq -e --arg t "$rel" --arg f "$rel_fits" '
    ([.cgroups.nearest_limit[] | select(.path == $t) | .refaults.level] == ["thrashing"])
    and ([.cgroups.nearest_limit[] | select(.path == $f) | .refaults.level] == ["none"])' <<<"$json"
# the machine's refault counter counts the cgroup's too; with RAM to spare it is not the machine
# that thrashes
avail_pct=$(awk '$1=="MemAvailable:"{a=$2} $1=="MemTotal:"{t=$2} END{print int(a*100/t)}' /proc/meminfo)
if [ "$avail_pct" -ge 10 ]; then
    check "status: the machine ($avail_pct% of RAM available) is not called thrashing, its refaults are the cgroups'" jq -e '
        .refaults.measured and .refaults.refaults > 0 and .refaults_from_limits and .refaults.level == "none"' <<<"$json"
else
    skip "status: the machine is not called thrashing" "only $avail_pct% of RAM available here"
fi
text=$("$BIN" status --top 100 --interval 1s)
if grep -q "$(basename "$rel"): thrashing: .*/s of page cache read again, all of it every" <<<"$text"; then
    ok "status: a line under the table says the cgroup thrashes"
else
    not_ok "status: a line under the table says the cgroup thrashes" "$(grep -A30 '^cgroups' <<<"$text")"
fi
json=$("$BIN" doctor --only pressure --json --interval 1s)
check "doctor: the pressure finding names the cgroup as thrashing, not the one that fits" jq -e --arg t "$rel" --arg f "$rel_fits" '
    (.findings[0].id == "pressure")
    and ([.findings[0].data.cgroups[] | select(.path == $t) | .refaults.level] == ["thrashing"])
    and ([.findings[0].data.cgroups[] | select(.path == $f)] == [])' <<<"$json"
text=$("$BIN" doctor --only pressure --interval 1s)
if grep -q "^\(WARNING\|INFO\) pressure: .*the cache is being re-read as fast as it is dropped: the working set does not fit" <<<"$text" &&
    grep -q "^    $rel: .*of page cache read again after reclaim, all .* of it every .*: thrashing$" <<<"$text"; then
    ok "doctor: the words, and the cgroup named as thrashing"
else
    not_ok "doctor: the words, and the cgroup named as thrashing" "$text"
fi
done_testing
