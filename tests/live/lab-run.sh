#!/usr/bin/env bash
# oomwarden lab run against this machine's kernel (v1 memory controller, PSI through the
# unified twin): its summary must be the kernel's own numbers, read here without oomwarden
# (the kill lines in dmesg, memory.oom_control and memory.failcnt polled while it ran, the
# limit) whether the kernel printed its report or rate-limited it, it must clean up on SIGTERM
# and after a crash, and its --svg must render.
# Others force OOMs on this machine too: everything is picked out by our cgroup and pids.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
[ -r /dev/kmsg ] || skip_all "no /dev/kmsg"

V2=/sys/fs/cgroup/unified
lab_dirs() { ls -d "$V1_MEMORY"/oomwarden-lab-* "$V2"/oomwarden-lab-* 2>/dev/null; }

# polls the lab's cgroup while it exists: the last memory.oom_control / failcnt seen
poll_cgroup() {
    local out=$1 cg=""
    for _ in $(seq 400); do
        cg=$(ls -d "$V1_MEMORY"/oomwarden-lab-"$2" 2>/dev/null) && break
        sleep 0.01
    done
    [ -n "$cg" ] || return
    # builtins only (no fork per read): the cgroup lives only a few ms after the kill
    local line o f l s
    while [ -d "$cg" ]; do
        o="" f="" l="" s=""
        while read -r line; do
            case $line in "oom_kill "*) o=${line#oom_kill } ;; esac
        done 2>/dev/null <"$cg/memory.oom_control"
        read -r f 2>/dev/null <"$cg/memory.failcnt"
        read -r l 2>/dev/null <"$cg/memory.limit_in_bytes"
        read -r s 2>/dev/null <"$cg/memory.swappiness"
        # a cgroup removed between two of these reads leaves some empty: not a reading
        [ -n "$o" ] && [ -n "$f" ] && [ -n "$l" ] && [ -n "$s" ] && echo "$o $f $l $s" >"$out"
    done
}

# --- an anonymous eater into 48 MiB ------------------------------------------------------------
json=$LIVE_TMP/run.json svg=$LIVE_TMP/run.svg
"$BIN" lab run --max 48M --rate 60M/s --json --svg "$svg" >"$json" 2>"$LIVE_TMP/run.err" &
lab=$!
poll_cgroup "$LIVE_TMP/poll" "$lab" &
poller=$!
wait "$lab"
rc=$?
wait "$poller"
expect_eq "lab run exits 0 (killed as predicted)" 0 "$rc"
check "--json is one valid document" jq -e . "$json"
pid=$(jq -r '.eaters[0].pid' "$json")
cg=$(jq -r .cgroup "$json")
expect_eq "the cgroup is /oomwarden-lab-<lab's pid>" "/oomwarden-lab-$lab" "$cg"
expect_eq "end is oom_kill" oom_kill "$(jq -r .end "$json")"
expect_eq "the prediction named the eater" "$pid" "$(jq -r .prediction.victim_pid "$json")"
expect_eq "the kill is the eater's" "$pid" "$(jq -r .kill.pid "$json")"

# the kernel's lines, parsed here. Its report comes in one of two forms: whole, or (when other
# OOMs used up dump_header()'s 10 reports per 5 s just before) only the kill line, without the
# summary "oom-kill:...,pid=<victim>,uid=" or the "memory: usage" line. Both are right; each has
# its own checks (tests/live/ratelimit-observed.sh forces the second).
kill_line=$(dmesg | grep -F "Killed process $pid (ow-lab-eater)" | tail -1)
info=$(dmesg | grep "oom-kill:constraint=.*,pid=$pid,uid=" | tail -1)
if [ -n "$kill_line" ]; then ok "the kernel logged the kill of $pid"; else not_ok "the kernel logged the kill of $pid"; fi
expect_eq "it is a memcg kill" 1 "$(grep -c "Memory cgroup out of memory: Killed process $pid " <<<"$kill_line")"
if [ -n "$info" ]; then
    echo "# the kernel printed the whole report"
    # the "memory: usage" line of the same report: the last one before the kill line
    usage_line=$(dmesg | awk -v k="Killed process $pid (ow-lab-eater)" '/memory: usage/ { u = $0 } index($0, k) { print u; exit }')
    expect_eq "oom_memcg and task_memcg are the lab's cgroup" "oom_memcg=$cg,task_memcg=$cg" \
        "$(grep -o "oom_memcg=[^,]*,task_memcg=[^,]*" <<<"$info")"
    kills_here=$(dmesg | grep -c "oom_memcg=$cg,")
    expect_eq "exactly one kill in that cgroup" 1 "$kills_here"
    u_kb=$(sed -n 's/.*memory: usage \([0-9]*\)kB, limit \([0-9]*\)kB, failcnt \([0-9]*\).*/\1/p' <<<"$usage_line")
    l_kb=$(sed -n 's/.*memory: usage \([0-9]*\)kB, limit \([0-9]*\)kB, failcnt \([0-9]*\).*/\2/p' <<<"$usage_line")
    expect_eq "the report's limit is --max" $((48 * 1024)) "$l_kb"
    expect_eq "summary usage at the kill = the report's usage line" "$((u_kb * 1024)) kernel_report" \
        "$(jq -r '"\(.summary.usage_at_kill) \(.summary.usage_source)"' "$json")"
    expect_eq "the report in --json is that kill, in the lab's cgroup; nothing observed on top" \
        "$pid $cg false null" "$(jq -r '"\(.report.victims[0].pid) \(.report.oom_memcg) \(.report.rate_limited) \(.observed)"' "$json")"
else
    echo "# the kernel rate-limited the report: only its kill line"
    # the lab says where from what it saw itself: its cgroup, its counter, the limit it read
    expect_eq "the report in --json is that kill, rate-limited, without a cgroup" "$pid true null" \
        "$(jq -r '"\(.report.victims[0].pid) \(.report.rate_limited) \(.report.oom_memcg)"' "$json")"
    expect_eq "observed: the lab's cgroup, oom_kill 0 -> 1" "lab_cgroup $cg 0 1" \
        "$(jq -r '.observed | "\(.source) \(.cgroup) \(.oom_kill_before) \(.oom_kill_after)"' "$json")"
    expect_eq "observed: the limit is --max, read from the lab's cgroup" "$((48 << 20)) $cg memory.limit_in_bytes" \
        "$(jq -r '.observed | "\(.limit) \(.limit_cgroup) \(.limit_file)"' "$json")"
    kills_here=$(dmesg | grep -c "Killed process $pid (ow-lab-eater)")
    expect_eq "exactly one kill line for the eater" 1 "$kills_here"
    # the peak: the eater only grows, so the OOM came at the cgroup's high-water mark
    u_kb=$(($(jq .summary.usage_at_kill "$json") / 1024)) l_kb=$((48 * 1024))
    check "summary usage at the kill = the cgroup's peak, within 128 KiB of the limit" jq -e \
        '.summary.usage_source == "peak" and .summary.usage_at_kill == .summary.peak
         and .summary.usage_at_kill > .limit - 131072 and .summary.usage_at_kill <= .limit' "$json"
fi
expect_eq "percent of the limit from those two" \
    "$(awk -v u="$u_kb" -v l="$l_kb" 'BEGIN { printf "%.2f", 100 * u / l }')" \
    "$(jq -r .summary.percent_of_limit "$json" | awk '{ printf "%.2f", $1 }')"
# the uptime stamp of the kill line against the marker's: the kill's time since go
marker_us=$(timeout 2 cat /dev/kmsg 2>/dev/null | grep -F "oomwarden lab $lab: eaters go in $cg" | tail -1 | cut -d, -f3 | cut -d';' -f1)
kill_us=$(timeout 2 cat /dev/kmsg 2>/dev/null | grep -F "Killed process $pid (ow-lab-eater)" | tail -1 | cut -d, -f3)
expect_eq "kill seconds = kill line's stamp - the marker's" \
    "$(awk -v a="$kill_us" -v b="$marker_us" 'BEGIN { printf "%.3f", (a - b) / 1e6 }')" \
    "$(jq -r '.kill.seconds' "$json" | awk '{ printf "%.3f", $1 }')"
# the cgroup's own counters, as the poller last saw them
read -r p_oom p_fail p_limit p_swp <"$LIVE_TMP/poll" 2>/dev/null
expect_eq "memory.limit_in_bytes was 48 MiB" $((48 << 20)) "${p_limit:-}"
expect_eq "memory.swappiness was 0" 0 "${p_swp:-}"
# the lab reads the counters after the kill; the poller may or may not catch that last moment
after_kill=$(jq .summary.events_after.oom_kill "$json")
expect_eq "oom_kill 0 -> 1 (memory.oom_control) = the one kill line for the cgroup" \
    "0 1 $kills_here" \
    "$(jq .summary.events_before.oom_kill "$json") $after_kill $((after_kill - $(jq .summary.events_before.oom_kill "$json")))"
if [ -n "${p_oom:-}" ] && [ "$p_oom" -le "$after_kill" ]; then
    ok "the last oom_kill polled ($p_oom) <= the one reported ($after_kill)"
else
    not_ok "the last oom_kill polled <= the one reported" "polled ${p_oom:-nothing}"
fi
expect_eq "events_before oom_kill 0, failcnt 0" "0 0" \
    "$(jq -r '"\(.summary.events_before.oom_kill) \(.summary.events_before.max)"' "$json")"
if [ -n "${p_fail:-}" ] && [ "$(jq .summary.events_after.max "$json")" -ge "$p_fail" ]; then
    ok "failcnt after ($(jq .summary.events_after.max "$json")) >= the last failcnt polled ($p_fail)"
else
    not_ok "failcnt after >= the last failcnt polled" "polled ${p_fail:-none}"
fi
check "samples every ~0.5 s with the PSI of the unified twin" jq -e '
  (.psi_source == "unified_twin") and (.samples | length >= 2)
  and ([.samples[] | .psi != null] | all) and (.samples[0].t == 0)' "$json"
check "the samples' usage never exceeds the limit" jq -e '[.samples[].current <= .limit] | all' "$json"
if [ -z "$(lab_dirs)" ]; then ok "no lab cgroup left behind"; else not_ok "no lab cgroup left behind" "$(lab_dirs)"; fi
if ! kill -0 "$pid" 2>/dev/null; then ok "no eater left behind"; else not_ok "no eater left behind"; fi

# --- the plot renders -----------------------------------------------------------------------------
if command -v rsvg-convert >/dev/null; then
    if rsvg-convert -o "$LIVE_TMP/run.png" "$svg" 2>"$LIVE_TMP/rsvg.err"; then
        ok "rsvg-convert renders the SVG"
        check "a 900x560 PNG" bash -c 'file "$1" | grep -q "PNG image data, 900 x 560"' _ "$LIVE_TMP/run.png"
        sz=$(stat -c %s "$LIVE_TMP/run.png")
        if [ "$sz" -gt 10000 ] && [ "$sz" -lt 2000000 ]; then ok "PNG of a sane size ($sz bytes)"; else not_ok "PNG of a sane size" "$sz"; fi
    else
        not_ok "rsvg-convert renders the SVG" "$(cat "$LIVE_TMP/rsvg.err")"
    fi
else
    skip "rsvg-convert renders the SVG" "no rsvg-convert (librsvg2-bin)"
fi
check "the SVG marks the kill" grep -q "OOM kill: pid $pid (ow-lab-eater)" "$svg"

# --- --kind file: page cache thrashes, the kernel evicts instead of killing ----------------------
"$BIN" lab run --max 32M --kind file --rate 32M/s --timeout 4s --json >"$LIVE_TMP/file.json" 2>"$LIVE_TMP/file.err"
expect_eq "--kind file: no kill, exit 1" 1 $?
check "--kind file: end timeout, oom_kill 0 -> 0, the file pages stalled (full stall rate > 5%)" jq -e '
  .end == "timeout" and .summary.events_after.oom_kill == 0 and .summary.peak_full_rate > 5
  and .file_bytes == 50331648' "$LIVE_TMP/file.json"

# --- SIGTERM in the middle: cleaned up, exit 1 ---------------------------------------------------
"$BIN" lab run --max 256M --rate 8M/s >"$LIVE_TMP/term.out" 2>&1 &
lab=$!
for _ in $(seq 100); do grep -q "^   1.0s" "$LIVE_TMP/term.out" && break; sleep 0.05; done
eater=$(pgrep -P "$lab" -x ow-lab-eater)
kill -TERM "$lab"
wait "$lab"
expect_eq "SIGTERM: exit 1" 1 $?
check "SIGTERM: says it cleaned up" grep -q "interrupted by signal 15 (Terminated).*cleaned up" "$LIVE_TMP/term.out"
if [ -z "$(lab_dirs)" ]; then ok "SIGTERM: no lab cgroup left"; else not_ok "SIGTERM: no lab cgroup left" "$(lab_dirs)"; fi
if [ -n "$eater" ] && ! kill -0 "$eater" 2>/dev/null; then ok "SIGTERM: the eater is gone"; else not_ok "SIGTERM: the eater is gone" "${eater:-no eater seen}"; fi

# --- a crashed run (SIGKILL) leaves its cgroup; the next run removes it --------------------------
"$BIN" lab run --max 256M --rate 8M/s >"$LIVE_TMP/crash.out" 2>&1 &
lab=$!
for _ in $(seq 100); do grep -q "^   0.5s" "$LIVE_TMP/crash.out" && break; sleep 0.05; done
kill -KILL "$lab"
wait "$lab" 2>/dev/null
check "SIGKILL leaves /oomwarden-lab-$lab behind" test -d "$V1_MEMORY/oomwarden-lab-$lab"
out=$("$BIN" lab protect --max 16M 2>&1)
check "the next run says it removed it" grep -q "removed /oomwarden-lab-$lab, left by a lab run that did not finish" <<<"$out"
if [ ! -e "$V1_MEMORY/oomwarden-lab-$lab" ] && [ ! -e "$V2/oomwarden-lab-$lab" ]; then
    ok "the stale cgroup and its unified twin are gone"
else
    not_ok "the stale cgroup and its unified twin are gone" "$(lab_dirs)"
fi
check "no eater of the crashed run is left" bash -c '! pgrep -x ow-lab-eater >/dev/null || ! pgrep -x ow-lab-eater | xargs -I{} grep -q "oomwarden-lab-$1\$" /proc/{}/cgroup' _ "$lab"

# --- usage errors and v1 limits ------------------------------------------------------------------
"$BIN" lab run --max 64M --high 32M >/dev/null 2>"$LIVE_TMP/high.err"
expect_eq "--high on v1: exit 1" 1 $?
check "--high on v1: says memory.high needs cgroup v2" grep -q "needs cgroup v2" "$LIVE_TMP/high.err"
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
    "$BIN" lab run --max 64M --kind mixed --file-dir /dev/shm >/dev/null 2>"$LIVE_TMP/shm.err"
    expect_eq "--kind mixed on tmpfs: exit 1" 1 $?
    check "and says why (shmem, not evictable)" grep -q "on tmpfs, whose pages are shmem" "$LIVE_TMP/shm.err"
fi
if [ -z "$(lab_dirs)" ]; then ok "no lab cgroup left after the errors"; else not_ok "no lab cgroup left after the errors" "$(lab_dirs)"; fi
done_testing
