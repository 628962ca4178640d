#!/usr/bin/env bash
# `oomwarden cgroup` against the kernel's own files: a scratch v1 memory cgroup with a limit, one
# process that fills the page cache from a file and one that holds anonymous memory. The report's
# numbers must be the raw files' numbers, and the observations must name the page cache.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
command -v jq >/dev/null || skip_all "needs jq"

LIMIT=$((600 * 1048576))
v1_cgroup report "$LIMIT" || { not_ok "create scratch cgroup"; done_testing; exit; }
cg=$CG rel=$CG_REL

# The file is written around the page cache (O_DIRECT), so that its pages are charged to the
# scratch cgroup when the hog reads them, not to whoever wrote them.
data=$LIVE_TMP/cache.data
dd if=/dev/zero of="$data" bs=1M count=150 oflag=direct status=none ||
    { not_ok "write a 150 MiB file"; done_testing; exit; }
start_hog "$cg" cache --name ow-rep-cache --cache "$data"
cache_pid=$HOG_PID
start_hog "$cg" anon --name ow-rep-anon --anon 100
anon_pid=$HOG_PID

# The hogs are idle now; read the raw files around the report until nothing moved in between,
# and compare the report with that snapshot (the kernel may age or charge pages a moment later:
# a fresh read after the fact is not what the report saw).
raw() {
    echo "usage $(cat "$cg/memory.usage_in_bytes")"
    echo "peak $(cat "$cg/memory.max_usage_in_bytes")"
    awk '$1=="total_cache"||$1=="total_rss"||$1=="total_inactive_file"||$1=="total_active_file"||$1=="total_shmem"' "$cg/memory.stat"
    echo "kmem $(cat "$cg/memory.kmem.usage_in_bytes")"
    echo "failcnt $(cat "$cg/memory.failcnt")"
    cat "$cg/memory.oom_control"
}
for _ in 1 2 3 4 5 6 7 8 9 10; do
    before=$(raw)
    json=$("$BIN" cgroup "$rel" --json --interval 0) # the same instant as the raw reads
    after=$(raw)
    [ "$before" = "$after" ] && break
    sleep 0.2
done
expect_eq "the files did not change while the report was read" "$before" "$after"
snap() { awk -v k="$1" '$1==k{print $2}' <<<"$after"; }

j() { jq -r "$1" <<<"$json"; }
expect_eq "path" "$rel" "$(j .cgroup.path)"
expect_eq "v1 memory controller, hybrid or v1 layout" "1 ok" \
    "$(j '.memory_version') $(j 'if .layout=="hybrid" or .layout=="v1" then "ok" else .layout end')"
expect_eq "max == memory.limit_in_bytes" "$(cat "$cg/memory.limit_in_bytes")" "$(j .cgroup.max)"
expect_eq "current == memory.usage_in_bytes" "$(snap usage)" "$(j .cgroup.current)"
expect_eq "peak == memory.max_usage_in_bytes" "$(snap peak)" "$(j .cgroup.peak)"
expect_eq "stat.file == total_cache" "$(snap total_cache)" "$(j .cgroup.stat.file)"
expect_eq "stat.anon == total_rss" "$(snap total_rss)" "$(j .cgroup.stat.anon)"
expect_eq "stat.inactive_file == total_inactive_file" "$(snap total_inactive_file)" "$(j .cgroup.stat.inactive_file)"
expect_eq "stat.active_file == total_active_file" "$(snap total_active_file)" "$(j .cgroup.stat.active_file)"
expect_eq "kernel == memory.kmem.usage_in_bytes" "$(snap kmem)" "$(j .cgroup.kernel)"
expect_eq "events.max == memory.failcnt" "$(snap failcnt)" "$(j .cgroup.events.max)"
expect_eq "events.oom_kill == oom_control's oom_kill" "$(snap oom_kill)" "$(j .cgroup.events.oom_kill)"
expect_eq "swappiness == memory.swappiness" "$(cat "$cg/memory.swappiness")" "$(j .cgroup.swappiness)"
usage=$(snap usage) inactive=$(snap total_inactive_file)
expect_eq "working_set == usage - total_inactive_file" "$((usage > inactive ? usage - inactive : 0))" \
    "$(j .cgroup.working_set)"
expect_eq "headroom == limit - usage" "$((LIMIT - usage))" "$(j .cgroup.headroom)"
expect_eq "v2-only values are null, not 0" "null null null null" \
    "$(j '[.cgroup.high, .cgroup.low, .cgroup.oom_group, .cgroup.events_local] | map(tostring) | join(" ")')"
expect_eq "processes: the two hogs" "2" "$(j .cgroup.processes)"

# what the hogs did is what the files say
cache=$(j .cgroup.stat.file) anon=$(j .cgroup.stat.anon)
if [ "$cache" -ge $((145 * 1048576)) ] && [ "$cache" -le $((160 * 1048576)) ]; then
    ok "the 150 MiB file read is charged as page cache ($cache)"
else
    not_ok "the 150 MiB file read is charged as page cache" "file=$cache"
fi
if [ "$anon" -ge $((100 * 1048576)) ] && [ "$anon" -le $((110 * 1048576)) ]; then
    ok "the 100 MiB anonymous hog is charged as anon ($anon)"
else
    not_ok "the 100 MiB anonymous hog is charged as anon" "anon=$anon"
fi

# the observations name the page cache with its share of usage
pct=$(awk -v c="$cache" -v u="$usage" 'BEGIN{printf "%d", c * 100 / u + 0.5}')
obs=$(j '.observations[]')
if grep -q "^page cache is $pct% of usage" <<<"$obs" && grep -q "counts toward the limit" <<<"$obs"; then
    ok "observations: page cache is $pct% of usage and counts toward the limit"
else
    not_ok "observations name the page cache share ($pct%)" "$obs"
fi
grep -q "cgroup v1 has no memory.high" <<<"$obs" && ok "observations: no memory.high on v1" ||
    not_ok "observations: no memory.high on v1" "$obs"

# the text report shows the same split
text=$("$BIN" cgroup "$rel")
grep -q "^  page cache (file) " <<<"$text" && grep -q "^  anon " <<<"$text" &&
    grep -q "^  - page cache is" <<<"$text" && ok "text report: breakdown and observations" ||
    not_ok "text report: breakdown and observations" "$text"

# pid:N finds the same cgroup; the list has it with the same numbers
expect_eq "pid:N resolves to the process's memory cgroup" "$rel" \
    "$("$BIN" cgroup "pid:$cache_pid" --json | jq -r .cgroup.path)"
row=$("$BIN" cgroup --json | jq -c --arg p "$rel" '.cgroups[] | select(.path==$p) | [.max, .stat.file >= 145*1048576, .processes]')
expect_eq "the list has it: limit, page cache, processes" "[$LIMIT,true,2]" "$row"

# a cgroup the user names that is not there: a clear error naming the directory, exit 1
err=$("$BIN" cgroup "$rel-nope" 2>&1 >/dev/null); rc=$?
if [ "$rc" = 1 ] && grep -q "no memory cgroup $rel-nope ($V1_MEMORY$rel-nope does not exist)" <<<"$err"; then
    ok "a missing cgroup is exit 1 and names the directory"
else
    not_ok "a missing cgroup is exit 1 and names the directory" "rc=$rc: $err"
fi

# and the scratch cgroup goes away
kill -9 "$cache_pid" "$anon_pid" 2>/dev/null
for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
[ ! -d "$cg" ] && ok "scratch cgroup removed" || not_ok "scratch cgroup removed" "$cg still exists"
done_testing
