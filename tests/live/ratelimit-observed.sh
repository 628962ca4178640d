#!/usr/bin/env bash
# Rate-limited OOM reports, forced on purpose, as the commands that watch kills see them.
# dump_header() prints at most 10 OOM reports per 5 s (oom_rs in mm/oom_kill.c); 12 memcg OOMs
# in about a second in a v1 scratch cgroup of ours use that up, so the kills after them print
# only their "Killed process" line, which names neither the cgroup nor its limit. Within that
# window:
#   - `oomwarden lab run` kills its eater: its JSON must name its own cgroup, the limit it read
#     and oom_kill 0 -> 1 as its own observation, the usage from the cgroup's peak;
#   - `oomwarden watch --json` (and its --exec hook), started before, must put every suppressed
#     kill of ours in our cgroup from the cgroup's own memory.oom_control oom_kill, with the
#     count that kill took it to and the cgroup's limit, as its own observation;
#   - the agent's kill follower (log-events, text) says the same, and its kill counter carries
#     the cgroup label.
# The kernel's own text is the oracle for which reports it suppressed: a printed report has its
# summary line "oom-kill:...,pid=<victim>,uid=" (5.0+), a suppressed one only the kill line. A
# kill whose report was printed must show the kernel's cgroup and no observation.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
[ -r /dev/kmsg ] || skip_all "no /dev/kmsg"
command -v curl >/dev/null || skip_all "curl not installed"

LIMIT=$((16 << 20)) LAB_MAX=$((48 << 20))
v1_cgroup ratelimit "$LIMIT" || { not_ok "create scratch cgroup"; done_testing; exit; }
cg=$CG rel=$CG_REL

# the watchers first: they must see every kill from the first one
hookdir=$LIVE_TMP/hooks
mkdir -p "$hookdir"
hook='[ "$OOMWARDEN_EVENT" = oom_kill ] && env | grep ^OOMWARDEN_ | sort >'"$hookdir"'/$OOMWARDEN_PID.env'
"$BIN" watch --json --alert none --exec "$hook" --exec-max 64 --duration 300s \
    >"$LIVE_TMP/watch.jsonl" 2>"$LIVE_TMP/watch.err" &
wpid=$!
LIVE_PIDS+=("$wpid")
APORT=$(free_port)
cat >"$LIVE_TMP/agent.conf" <<EOC
[agent]
listen = 127.0.0.1:$APORT
kmsg = yes
log-events = yes
event-format = text
[exporter]
cgroup-depth = 1
next-victim = no
EOC
"$BIN" agent --config "$LIVE_TMP/agent.conf" >"$LIVE_TMP/agent.out" 2>"$LIVE_TMP/agent.err" &
apid=$!
LIVE_PIDS+=("$apid")
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$APORT/healthz" >/dev/null && break; sleep 0.1; done
sleep 0.5
if kill -0 "$wpid" 2>/dev/null && kill -0 "$apid" 2>/dev/null; then
    ok "watch and the agent are running"
else
    not_ok "watch and the agent are running" "$(cat "$LIVE_TMP/watch.err" "$LIVE_TMP/agent.err")"
fi

marker=$(kmsg_marker)
oom_once() { # NAME: a hog in our cgroup until the OOM killer ends it; sets LAST_PID
    sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --name "$3" --grow-fast' sh "$cg" "$HOG" "$1" \
        </dev/null >/dev/null 2>&1 &
    LAST_PID=$!
    LIVE_PIDS+=("$LAST_PID")
    wait "$LAST_PID" 2>/dev/null
}
kmsg_since_marker() { timeout 2 cat /dev/kmsg 2>/dev/null | awk -v m="$marker" 'index($0, m) { on = 1 } on'; }
printed() { grep -q ",pid=$1,uid=" <<<"$KMSG"; } # the kernel printed this kill's report

# A burst, then the lab within the same 5 s; again (after the window) if the lab's report still
# got printed, which only a slow machine would do.
pids=() lab_json="" lab_pid=""
for attempt in 1 2 3; do
    t0=$(date +%s%N)
    for i in $(seq 12); do
        oom_once "ow-rl$attempt-$i"
        pids+=("$LAST_PID")
    done
    echo "# attempt $attempt: 12 OOM kills in $((($(date +%s%N) - t0) / 1000000)) ms"
    "$BIN" lab run --max "$LAB_MAX" --rate 200M/s --json >"$LIVE_TMP/lab.json" 2>"$LIVE_TMP/lab.err"
    lab_rc=$?
    lab_pid=$(jq -r '.eaters[0].pid' "$LIVE_TMP/lab.json" 2>/dev/null)
    echo "# the lab ended $((($(date +%s%N) - t0) / 1000000)) ms after the burst began (exit $lab_rc)"
    sleep 0.5
    KMSG=$(kmsg_since_marker)
    if [ -n "$lab_pid" ] && grep -q "Killed process $lab_pid " <<<"$KMSG" && ! printed "$lab_pid"; then
        break
    fi
    sleep 6
done
# the watchers settle (a report is complete 300 ms after its last line)
sleep 1
KMSG=$(kmsg_since_marker)

# --- the lab -------------------------------------------------------------------------------------
lj=$LIVE_TMP/lab.json
expect_eq "lab run exits 0 (its eater was OOM-killed as predicted)" 0 "$lab_rc"
check "lab --json is one valid document" jq -e . "$lj"
lab_cg=$(jq -r .cgroup "$lj")
if printed "$lab_pid"; then
    not_ok "the kernel suppressed the lab's report (3 attempts)" "$(grep -F "pid=$lab_pid," <<<"$KMSG")"
else
    ok "the kernel printed only the kill line of the lab's eater $lab_pid (rate-limited)"
    expect_eq "lab: the report is marked rate_limited and names no cgroup" "true null null" \
        "$(jq -r '"\(.report.rate_limited) \(.report.oom_memcg) \(.report.task_memcg)"' "$lj")"
    expect_eq "lab: observed = its own cgroup, oom_kill 0 -> 1 in memory.oom_control" \
        "lab_cgroup $lab_cg memory.oom_control 0 1" \
        "$(jq -r '.observed | "\(.source) \(.cgroup) \(.counter) \(.oom_kill_before) \(.oom_kill_after)"' "$lj")"
    expect_eq "lab: observed limit = --max, read from its cgroup's memory.limit_in_bytes" \
        "$LAB_MAX $lab_cg memory.limit_in_bytes rate_limited" \
        "$(jq -r '.observed | "\(.limit) \(.limit_cgroup) \(.limit_file) \(.report)"' "$lj")"
    # the eater only grows, so the cgroup's high-water mark is where the OOM came: at the limit
    # (the failed charge is at most a batch of 32 pages below it)
    check "lab: usage at the kill from the cgroup's peak, within 128 KiB of the limit" jq -e \
        --argjson l "$LAB_MAX" '.summary.usage_source == "peak" and .summary.usage_at_kill <= $l
        and .summary.usage_at_kill > $l - 131072' "$lj"
    expect_eq "lab: its events agree (oom_kill 0 -> 1)" "0 1" \
        "$(jq -r '"\(.summary.events_before.oom_kill) \(.summary.events_after.oom_kill)"' "$lj")"
fi

# --- watch and the agent, kill by kill ------------------------------------------------------------
kill -TERM "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
wj=$LIVE_TMP/watch.jsonl
scrape=$(curl -sf "http://127.0.0.1:$APORT/metrics")
kill -TERM "$apid" 2>/dev/null
wait "$apid" 2>/dev/null
check "watch wrote JSON Lines" jq -e . "$wj"
n=0 suppressed=0 bad_watch="" bad_hook="" bad_agent="" bad_metric=""
for p in "${pids[@]}"; do
    grep -q "Killed process $p " <<<"$KMSG" || { not_ok "the kernel logged the kill of $p"; continue; }
    n=$((n + 1)) # this kill took our cgroup's oom_kill to n
    ev=$(jq -c --argjson p "$p" 'select(.event == "oom_kill" and .pid == $p)' "$wj")
    comm=$(jq -r .comm <<<"$ev" 2>/dev/null)
    if printed "$p"; then
        # the kernel named the cgroup: watch says the kernel's words, and observes nothing
        [ "$(jq -r '"\(.task_memcg) \(.observed)"' <<<"$ev")" = "$rel null" ] || bad_watch="$bad_watch $p:$ev"
        grep -q "OOMWARDEN_CGROUP_SOURCE=kernel" "$hookdir/$p.env" 2>/dev/null || bad_hook="$bad_hook $p"
        grep -q "killed [^ ]* (pid $p) in $rel\$" "$LIVE_TMP/agent.out" || bad_agent="$bad_agent $p"
    else
        suppressed=$((suppressed + 1))
        want="true null oom_kill_counter $rel memory.oom_control $((n - 1)) $n $LIMIT $rel memory.limit_in_bytes"
        got=$(jq -r '"\(.report.rate_limited) \(.task_memcg) \(.observed.source) \(.observed.cgroup) \(.observed.counter) \(.observed.oom_kill_before) \(.observed.oom_kill_after) \(.observed.limit) \(.observed.limit_cgroup) \(.observed.limit_file)"' <<<"$ev" 2>/dev/null)
        [ "$got" = "$want" ] || bad_watch="$bad_watch $p:[$got]"
        grep -qx "OOMWARDEN_CGROUP=$rel" "$hookdir/$p.env" 2>/dev/null &&
            grep -qx "OOMWARDEN_CGROUP_SOURCE=observed" "$hookdir/$p.env" || bad_hook="$bad_hook $p"
        grep -qF "killed $comm (pid $p) in $rel; observed in $rel (its oom_kill $((n - 1)) -> $n in memory.oom_control), limit 16 MiB (memory.limit_in_bytes of $rel): oomwarden's own observation" \
            "$LIVE_TMP/agent.out" || bad_agent="$bad_agent $p"
    fi
    grep -qx "oomwarden_oom_kills_seen_total{scope=\"memcg\",cgroup=\"$rel\",comm=\"$comm\"} 1" <<<"$scrape" ||
        bad_metric="$bad_metric $p($comm)"
done
expect_eq "our cgroup's oom_kill counted every kill of ours" "$n" \
    "$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control")"
if [ "$suppressed" -gt 0 ]; then
    ok "the kernel suppressed $suppressed of $n reports of the bursts ($((n - suppressed)) printed)"
else
    not_ok "the kernel suppressed some reports of the bursts" "all $n printed"
fi
expect_eq "watch: each kill in our cgroup, the kernel's word or its own observation (counter, limit)" "" "${bad_watch# }"
expect_eq "watch --exec: OOMWARDEN_CGROUP and its source for each kill" "" "${bad_hook# }"
expect_eq "agent: each kill in our cgroup, observed where the report was suppressed" "" "${bad_agent# }"
expect_eq "agent: oomwarden_oom_kills_seen_total carries our cgroup for each kill" "" "${bad_metric# }"
check "watch said nothing on stderr" test ! -s "$LIVE_TMP/watch.err"
done_testing
