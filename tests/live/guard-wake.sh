#!/usr/bin/env bash
# The guard woken by the kernel on this v1 host: a usage threshold (cgroup.event_control +
# eventfd on memory.usage_in_bytes) at twice the headroom under a scratch cgroup's limit.
#   - the log says the cgroup wakes the guard by the kernel's events, none is polled;
#   - while the cgroup idles under its line the guard's loop sleeps: a few wake-ups in 3 s
#     (polled, a 64 MiB cgroup with 5% headroom at the default 2 GiB/s fill rate would be looked
#     at every ~30 ms, ~100 times);
#   - a process growing past the line wakes it at once (the debug log says so) and from there the
#     adaptive poll runs (many wake-ups while the usage sits inside the line);
#   - the list of cgroups follows the tree by inotify on its directories: a cgroup made and
#     limited after the agent started is watched, a changed limit seen, a removed cgroup
#     dropped, each within a second (without the events, the tree is walked every 60 s).
# The v2 side (inotify on memory.events past memory.high) runs in tests/vm/scenarios/guard-band.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory

v1_cgroup wake $((64 << 20)) || skip_all "cannot make a v1 memory cgroup"
port=$(free_port)
cat >"$LIVE_TMP/agent.conf" <<EOC
[agent]
listen = 127.0.0.1:$port
event-format = json
kmsg = no
[exporter]
next-victim = no
[guard]
enabled = yes
dry-run = yes
memory-floor = 0
cgroups = /$SCRATCH_PREFIX-$$-*
EOC
"$BIN" agent --config "$LIVE_TMP/agent.conf" -v </dev/null >"$LIVE_TMP/agent.jsonl" 2>"$LIVE_TMP/agent.err" &
A=$!
disown "$A"
LIVE_PIDS+=("$A")
for _ in $(seq 100); do grep -q "guard: on" "$LIVE_TMP/agent.err" 2>/dev/null && break; sleep 0.05; done
# the loop's thread: its voluntary context switches are its wake-ups
wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$A/task/$A/status"; }

check "the cgroup wakes the guard by a usage threshold, none polled" \
    grep -q 'guard: 1 cgroup(s) wake the guard by the kernel.s events (a usage threshold, cgroup.event_control), 0 polled' \
    "$LIVE_TMP/agent.err"
# wakeups_within NAME SECONDS MIN MAX: the loop's wake-ups over SECONDS are within MIN..MAX
wakeups_within() {
    local w0 w1
    w0=$(wakeups)
    sleep "$2"
    w1=$(wakeups)
    if [ $((w1 - w0)) -ge "$3" ] && [ $((w1 - w0)) -le "$4" ]; then
        ok "$1: $((w1 - w0)) wake-ups of the guard's loop in $2 s"
    else
        not_ok "$1: $3 to $4 wake-ups of the guard's loop in $2 s" "$((w1 - w0))"
    fi
}
sleep 1
wakeups_within "idle under its line" 3 0 20

# within_log NAME PATTERN: the agent's log has PATTERN within 1.5 s
within_log() {
    local t0=$(date +%s%3N)
    for _ in $(seq 75); do grep -q "$2" "$LIVE_TMP/agent.err" && break; sleep 0.02; done
    check "$1 ($(($(date +%s%3N) - t0)) ms)" grep -q "$2" "$LIVE_TMP/agent.err"
}
late=$V1_MEMORY/$SCRATCH_PREFIX-$$-late
mkdir "$late" && LIVE_CGROUPS+=("$late")
sleep 0.3
echo $((32 << 20)) >"$late/memory.limit_in_bytes"
within_log "a cgroup made, then limited, after the start: watched" "guard: watching /$SCRATCH_PREFIX-$$-late (limit 33554432)"
echo $((48 << 20)) >"$late/memory.limit_in_bytes"
within_log "its limit raised: seen" "guard: /$SCRATCH_PREFIX-$$-late: limit now 50331648"
rmdir "$late"
within_log "removed: dropped" "guard: no longer watching /$SCRATCH_PREFIX-$$-late"

# 40 MiB, then to 60 MiB at 8 MiB/s: the line is at 64 - 2 * 3.2 = 57.6 MiB
start_hog "$CG" grower --name "ow$$w" --anon 40 --grow 8 --grow-to 60 --chunk 1 \
    --grown "$LIVE_TMP/grown"
for _ in $(seq 100); do [ -f "$LIVE_TMP/grown" ] && break; sleep 0.05; done
check "the grower reached 60 MiB" test -f "$LIVE_TMP/grown"
check "crossing the line woke the guard" grep -q "guard: woken: a cgroup's usage crossed its threshold" \
    "$LIVE_TMP/agent.err"
wakeups_within "inside the line: the adaptive poll runs" 2 40 100000
check "the agent is alive" kill -0 "$A"
done_testing
