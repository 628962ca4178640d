#!/usr/bin/env bash
# oomwarden reclaim on this machine's cgroup v1 memory controller: memory.reclaim does not exist
# in v1, so it must refuse with exit 1 and a message that says so (and nothing is written).
# What the message says about v1's memory.force_empty is checked here against the kernel: it
# takes no size and empties the cgroup of what it can reclaim. (memory.reclaim itself is
# exercised on cgroup v2 in the VM: tests/vm/scenarios/lab-reclaim.)
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory

v1_cgroup reclaim || { not_ok "create scratch cgroup"; done_testing; exit; }
cg=$CG rel=$CG_REL
# 32 MiB of page cache charged to the cgroup
f=$(mktemp /var/tmp/oomwarden-reclaim.XXXXXX)
head -c $((32 << 20)) /dev/urandom >"$f"
sync "$f"
"$BIN" evict "$f" >/dev/null
sh -c 'echo $$ >"$1/cgroup.procs" && cat "$2" >/dev/null' sh "$cg" "$f"
before=$(cat "$cg/memory.usage_in_bytes")
if [ "$before" -ge $((30 << 20)) ]; then ok "the cgroup holds the file's cache ($before bytes)"; else not_ok "the cgroup holds the file's cache" "$before"; fi

for args in "$rel 16M" "--dry-run $rel 16M" "--json $rel 16M"; do
    # shellcheck disable=SC2086
    err=$("$BIN" reclaim $args 2>&1 >/dev/null)
    rc=$?
    expect_eq "reclaim $args on v1: exit 1" 1 "$rc"
    check "reclaim $args: says memory.reclaim is cgroup v2 only" \
        grep -q "is a cgroup v1 memory cgroup: memory.reclaim exists only in cgroup v2 (Linux 5.19+)" <<<"$err"
done
after=$(cat "$cg/memory.usage_in_bytes")
if [ "$after" -ge $((before - (1 << 20))) ]; then ok "nothing was reclaimed ($after bytes)"; else not_ok "nothing was reclaimed" "$before -> $after"; fi
err=$("$BIN" reclaim /oomwarden-test-none 16M 2>&1)
expect_eq "a cgroup that is not there: exit 1" 1 $?
check "and it names it" grep -q "oomwarden-test-none" <<<"$err"

# the message's claim about force_empty: no size, everything reclaimable goes
echo 0 >"$cg/memory.force_empty"
fe=$(cat "$cg/memory.usage_in_bytes")
if [ "$fe" -le $((1 << 20)) ]; then ok "v1 memory.force_empty emptied the cgroup ($before -> $fe bytes)"; else not_ok "v1 memory.force_empty emptied the cgroup" "$before -> $fe"; fi
rm -f "$f"
done_testing
