#!/usr/bin/env bash
# The kernel's OOM report rate limit, for real: more than 10 memcg OOM kills within 5 s in a
# scratch v1 cgroup, so dump_header() (oom_rs in mm/oom_kill.c: 10 reports per 5 s) prints only
# the kill line for the later ones; then one more OOM after the window, whose report is preceded
# by "oom_kill_process: N callbacks suppressed". `oomwarden explain --json` on /dev/kmsg must
# mark exactly the kills whose report the kernel did not print as rate_limited. The oracle is the
# kernel's own text, read here with grep: a printed report carries the summary line
# "oom-kill:...,pid=<victim>,uid=" (5.0+), a suppressed one does not.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
[ -r /dev/kmsg ] || skip_all "no /dev/kmsg"

v1_cgroup ratelimit $((16 * 1024 * 1024)) || { not_ok "create scratch cgroup"; done_testing; exit; }
cg=$CG
marker=$(kmsg_marker)
marker_us=$(timeout 2 cat /dev/kmsg 2>/dev/null | grep -F "$marker" | head -1 | cut -d, -f3)
[ -n "$marker_us" ] || { not_ok "the marker is in /dev/kmsg"; done_testing; exit; }
since=$((marker_us / 1000000)).$(printf '%06d' $((marker_us % 1000000)))

# one hog at a time, each killed as soon as it passes the limit
oom_once() { # NAME: runs a hog in the cgroup until the OOM killer ends it; sets LAST_PID
    sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --name "$3" --grow-fast' sh "$cg" "$HOG" "$1" \
        </dev/null >/dev/null 2>&1 &
    LAST_PID=$!
    LIVE_PIDS+=("$LAST_PID")
    wait "$LAST_PID" 2>/dev/null
}
# dump_header()'s limit is 10 reports per 5 s window, and a window begins at the first report
# after the last one expired: a burst that starts in a window opened by an earlier test's OOMs
# can straddle its reset and get all 14 printed (seen: 14 in 232 ms, none suppressed). 5.5 s
# without an OOM first, so the window opens with our first kill and the last 4 are suppressed.
sleep 5.5
pids=()
t0=$(date +%s%N)
for i in $(seq 14); do
    oom_once "ow-rl$i"
    pids+=("$LAST_PID")
done
burst_ms=$((($(date +%s%N) - t0) / 1000000))
echo "# 14 OOM kills in $burst_ms ms"
# the next report after the window: the kernel prints the suppressed count before it
sleep 6
oom_once ow-rl-after
pids+=("$LAST_PID")
sleep 0.5

kmsg=$(timeout 2 cat /dev/kmsg 2>/dev/null | awk -v m="$marker" 'index($0, m) { on = 1 } on')
if [ -n "${OOMWARDEN_SAVE_KMSG:-}" ]; then printf '%s\n' "$kmsg" >"$OOMWARDEN_SAVE_KMSG"; fi
json=$("$BIN" explain --json --since "uptime:$since")
expect_eq "explain exits 0" 0 "$?"

printed=0 limited=0
for p in "${pids[@]}"; do
    if ! grep -q "Killed process $p " <<<"$kmsg"; then
        not_ok "the kernel logged the kill of pid $p"
        continue
    fi
    if grep -q ",pid=$p,uid=" <<<"$kmsg"; then want=false printed=$((printed + 1))
    else want=true limited=$((limited + 1)); fi
    got=$(jq -r --argjson p "$p" '[.events[] | select(.victims[0].pid == $p) | .rate_limited] | if length == 0 then "missing" else .[0] end' <<<"$json")
    expect_eq "pid $p: rate_limited is $want (the kernel's own text says so)" "$want" "$got"
done
if [ "$limited" -gt 0 ]; then
    ok "the kernel rate-limited $limited of ${#pids[@]} reports ($printed printed)"
elif [ "$burst_ms" -lt 5000 ]; then
    not_ok "a rate-limited report" "14 OOMs in $burst_ms ms, all printed: no 5 s window holds 10 of them?"
else
    skip "a rate-limited report" "the burst took $burst_ms ms, longer than the kernel's 5 s window"
fi
# the count the kernel printed, and explain's
n=$(grep -o 'oom_kill_process: [0-9]* callbacks suppressed' <<<"$kmsg" | awk '{ s += $2 } END { print s + 0 }')
expect_eq "the suppressed count equals the kernel's" "$n" "$(jq '[.events[].suppressed_reports] | add // 0' <<<"$json")"
if [ "$limited" -gt 0 ]; then
    check "the words say a report was rate-limited" bash -c \
        '"$1" explain --since "uptime:$2" | grep -q "the kernel rate-limited"' _ "$BIN" "$since"
fi
done_testing
