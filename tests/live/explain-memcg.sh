#!/usr/bin/env bash
# A real memcg OOM kill in a scratch v1 memory cgroup (32 MiB, swappiness 0, a hog that grows
# until it dies), then `oomwarden explain --json` reading /dev/kmsg: it must report that kill
# with the right pid, comm, cgroup and scope, and its numbers must be the kernel's own kill line
# (read here independently from dmesg with grep/sed). Other engineers force OOMs on this machine
# too: our event is picked out by its pid and a marker written to /dev/kmsg before it.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
[ -r /dev/kmsg ] || skip_all "no /dev/kmsg"

v1_cgroup explain $((32 * 1024 * 1024)) || { not_ok "create scratch cgroup"; done_testing; exit; }
cg=$CG rel=$CG_REL
name=ow-x$$
name=${name:0:15}
before=$(awk '/^oom_kill /{print $2}' "$cg/memory.oom_control")

marker=$(kmsg_marker)
# the marker's own stamp: the earliest time our event can have
marker_us=$(timeout 2 cat /dev/kmsg 2>/dev/null | grep -F "$marker" | head -1 | cut -d, -f3)
start_hog "$cg" x --name "$name" --anon 4 --grow-fast
pid=$HOG_PID
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    not_ok "the hog was OOM-killed within 30 s" "pid $pid still alive; $(cat "$cg/memory.usage_in_bytes")"
    done_testing
    exit
fi
after=$(awk '/^oom_kill /{print $2}' "$cg/memory.oom_control")
if [ "$after" -gt "$before" ]; then ok "memory.oom_control oom_kill moved ($before -> $after)"
else not_ok "memory.oom_control oom_kill moved" "$before -> $after"; fi

# the kernel's line, parsed here without oomwarden
line=""
for _ in $(seq 50); do
    line=$(dmesg | grep -F "Killed process $pid ($name)" | tail -1)
    [ -n "$line" ] && break
    sleep 0.1
done
[ -n "$line" ] || { not_ok "the kernel logged the kill" "no 'Killed process $pid' in dmesg"; done_testing; exit; }
field() { sed -n "s/.*[ ,]$1:\\(-\\?[0-9]*\\).*/\\1/p" <<<"$line"; }

json=$("$BIN" explain --json)
rc=$?
expect_eq "explain exits 0 when it finds events" 0 "$rc"
ev=$(jq -c --argjson pid "$pid" '[.events[] | select(.victims[0].pid == $pid)] | .[0] // empty' <<<"$json")
if [ -z "$ev" ]; then
    not_ok "explain reports the kill of pid $pid" "$(jq -c '[.events[].victims[0] | {pid, comm}]' <<<"$json")"
    done_testing
    exit
fi
ok "explain reports the kill of pid $pid"
expect_eq "victim comm" "$name" "$(jq -r '.victims[0].comm' <<<"$ev")"
expect_eq "scope" memcg "$(jq -r .scope <<<"$ev")"
expect_eq "constraint" CONSTRAINT_MEMCG "$(jq -r .constraint <<<"$ev")"
expect_eq "task_memcg is our scratch cgroup" "$rel" "$(jq -r .task_memcg <<<"$ev")"
expect_eq "oom_memcg is our scratch cgroup" "$rel" "$(jq -r .oom_memcg <<<"$ev")"
expect_eq "memcg limit" 32768 "$(jq -r .memcg.limit_kb <<<"$ev")"
expect_eq "the task that asked is the hog" "$name" "$(jq -r .invoker.comm <<<"$ev")"
for f in total-vm:total_vm_kb anon-rss:anon_rss_kb file-rss:file_rss_kb shmem-rss:shmem_rss_kb \
    UID:uid pgtables:pgtables_kb oom_score_adj:oom_score_adj; do
    expect_eq "${f%%:*} equals the kernel's line" "$(field "${f%%:*}")" "$(jq -r ".victims[0].${f#*:}" <<<"$ev")"
done
# the uptime stamp of the kill line is the record's
kmsg_us=$(timeout 2 cat /dev/kmsg 2>/dev/null | grep -F "Killed process $pid ($name)" | tail -1 | cut -d, -f3)
expect_eq "uptime of the kill" "$kmsg_us" "$(jq -r '.victims[0].uptime_s * 1000000 | round' <<<"$ev")"
check "its task-table row is the victim's" jq -e --argjson pid "$pid" \
    '.victims[0].task.pid == $pid and .victims[0].task.rss_anon_pages > 0' <<<"$ev"

# --since: from the marker on, our event is there and nothing from before the marker is
if [ -n "$marker_us" ]; then
    since=$((marker_us / 1000000)).$(printf '%06d' $((marker_us % 1000000)))
    s=$("$BIN" explain --json --since "uptime:$since")
    check "--since uptime:<marker> keeps our kill" jq -e --argjson pid "$pid" \
        '[.events[].victims[0].pid] | index($pid) != null' <<<"$s"
    check "--since uptime:<marker> drops everything before the marker" jq -e --argjson t "$since" \
        '[.events[] | .uptime_s >= $t] | all' <<<"$s"
else
    skip "--since uptime:<marker>" "the marker was not found in /dev/kmsg"
fi
check "the words name the pid and the cgroup" bash -c \
    '"$1" explain --since 10m | grep -q "$2 (pid $3)" && "$1" explain --since 10m | grep -qF "memory cgroup $4 hit memory.limit_in_bytes 32 MiB"' \
    _ "$BIN" "$name" "$pid" "$rel"

# kernel.dmesg_restrict=1: without CAP_SYSLOG the log is closed, and the message says why
if [ "$(cat /proc/sys/kernel/dmesg_restrict)" = 1 ]; then
    err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" explain 2>&1 >/dev/null)
    rc=$?
    expect_eq "explain as nobody under dmesg_restrict exits 2" 2 "$rc"
    check "and names dmesg_restrict and CAP_SYSLOG" bash -c 'grep -q "dmesg_restrict" <<<"$1" && grep -q CAP_SYSLOG <<<"$1"' _ "$err"
else
    skip "dmesg_restrict message" "kernel.dmesg_restrict is 0 here"
fi
done_testing
