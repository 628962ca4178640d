#!/usr/bin/env bash
# The agent keeps the policy applied, against the kernel: a new matching process gets its
# oom_score_adj within the scan interval; a value changed back by hand is set again by the next
# full pass (recheck-interval); each change is an event on stdout and counted in /metrics; a
# write that fails (EACCES) and a rule v1 cannot apply (memory.oom.group) are reported once, not
# at every pass; with [policy] plan-only each is reported once and nothing is written. Only
# processes and a cgroup this test made match the rules.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
command -v curl >/dev/null || skip_all "curl not installed"
command -v jq >/dev/null || skip_all "jq not installed"

T=owr-$$
RECHECK_S=2
v1_cgroup reconcile $((64 << 20)) || not_ok "scratch cgroup"
PORT=$(free_port)
A=http://127.0.0.1:$PORT
conf=$LIVE_TMP/agent.conf
cat >"$conf" <<EOC
[agent]
listen = 127.0.0.1:$PORT
event-format = json
kmsg = no
[exporter]
cgroup-depth = 1
next-victim = no
[policy]
scan-interval = 1s
recheck-interval = ${RECHECK_S}s

[rule live]
comm = ^$T\$
oom-score-adj = 555

[rule lower]
comm = ^$T-n\$
oom-score-adj = -50

[rule knobs]
cgroup = $CG_REL
oom-group = 1
EOC
out=$LIVE_TMP/agent.jsonl
# without CAP_SYS_RESOURCE (this machine has none; elsewhere setpriv drops it) the -50 fails
nocap=()
command -v setpriv >/dev/null && nocap=(setpriv --bounding-set=-sys_resource --inh-caps=-sys_resource)
"${nocap[@]}" "$BIN" agent --config "$conf" >"$out" 2>"$LIVE_TMP/agent.err" &
apid=$!
LIVE_PIDS+=("$apid")
for _ in $(seq 50); do curl -sf "$A/healthz" >/dev/null && break; sleep 0.1; done
expect_eq "the agent is up" ok "$(curl -sf "$A/healthz")"
t_start=$(now_ms)
# HTTP answers before the first full pass is through; its last step, the cgroups, ends with the
# skip: only then is a process started after it new to the agent
for _ in $(seq 100); do grep -q '"state":"skipped"' "$out" && break; sleep 0.05; done

# a new process: set within the scan interval (1 s) and the scan itself
t0=$(now_ms)
start_hog "" live --name "$T"
P=$HOG_PID
while [ "$(adj "$P")" != 555 ] && [ $(($(now_ms) - t0)) -lt 5000 ]; do sleep 0.02; done
dt=$(($(now_ms) - t0))
if [ "$(adj "$P")" = 555 ] && [ "$dt" -le 2500 ]; then
    ok "a new matching process got oom_score_adj 555 in $dt ms (scan interval 1 s)"
else
    not_ok "a new matching process got oom_score_adj 555 within 2.5 s" "adj $(adj "$P") after $dt ms; $(tail -3 "$LIVE_TMP/agent.err")"
fi
ev() { jq -c --argjson p "$1" 'select(.event == "policy_change" and .change.pid == $p) | .change' "$out"; }
expect_eq "event: the change, before -> after, done" "$P $T live 0 555 done" \
    "$(ev "$P" | jq -r '"\(.pid) \(.comm) \(.rule) \(.before) \(.after) \(.state)"' | head -1)"

# changed back by hand, once the process is past its first seconds (young processes are matched
# again at every scan; this must be the full pass)
while [ $(($(now_ms) - t0)) -lt 6000 ]; do sleep 0.1; done
# put_back NAME: P's oom_score_adj written to 0 by hand is set to 555 again by the next recheck
put_back() {
    echo 0 >"/proc/$P/oom_score_adj"
    local t1 dt
    t1=$(now_ms)
    while [ "$(adj "$P")" != 555 ] && [ $(($(now_ms) - t1)) -lt 8000 ]; do sleep 0.02; done
    dt=$(($(now_ms) - t1))
    if [ "$(adj "$P")" = 555 ] && [ "$dt" -le $((RECHECK_S * 1000 + 700)) ]; then
        ok "$1: put back to 555 by the recheck in $dt ms (recheck-interval ${RECHECK_S} s)"
    else
        not_ok "$1: put back to 555 within the recheck interval" "adj $(adj "$P") after $dt ms"
    fi
}
put_back "changed back by hand"
# and again: the drift check now reads the file it kept open at the first one
put_back "changed back a second time"
sleep 0.2
expect_eq "events: three changes for the process, the later ones from 0 again" "0 555 done|0 555 done|0 555 done" \
    "$(ev "$P" | jq -r '"\(.before) \(.after) \(.state)"' | paste -sd'|')"

# a write the kernel refuses: reported once, counted once, not retried at every pass
start_hog "" lower --name "$T-n"
N=$HOG_PID
# two full passes after it was first seen
sleep $((RECHECK_S * 2 + 2))
expect_eq "lowering without CAP_SYS_RESOURCE: failed, reported once" \
    "failed Permission denied 0 -50" \
    "$(ev "$N" | jq -r '"\(.state) \(.error) \(.before) \(.after)"' | paste -sd'|')"
expect_eq "its value is unchanged" 0 "$(adj "$N")"
# the v1 cgroup rule: skipped, with the reason, once, though every pass plans it again
skips=$(jq -c --arg c "$CG_REL" 'select(.event == "policy_change" and .change.cgroup == $c) | .change' "$out")
expect_eq "v1 memory.oom.group: skipped once with the reason, through $(( ($(now_ms) - t_start) / 1000 / RECHECK_S )) passes" \
    "memory.oom.group skipped cgroup v1 has no memory.oom.group (4.19+, v2)" \
    "$(jq -r '"\(.kind) \(.state) \(.reason)"' <<<"$skips" | paste -sd'|')"
expect_eq "no other process or cgroup was touched" "$(printf '%s\n' "$P" "$P" "$P" "$N" "$CG_REL" | sort | xargs)" \
    "$(jq -r 'select(.event == "policy_change") | .change | (.pid // .cgroup) | tostring' "$out" | sort | xargs)"

scrape=$(curl -sf "$A/metrics")
expect_eq "/metrics: policy changes done" 3 "$(grep '^oomwarden_policy_changes_total{result="done"}' <<<"$scrape" | awk '{print $2}')"
expect_eq "/metrics: policy changes failed" 1 "$(grep '^oomwarden_policy_changes_total{result="failed"}' <<<"$scrape" | awk '{print $2}')"
check "every line on stdout is a JSON event" jq -e -s 'all(.[]; .event | type == "string")' "$out"

kill -TERM "$apid"
wait "$apid"
expect_eq "SIGTERM: exit 0" 0 "$?"

# [policy] plan-only: the change is reported once as planned, and not written, through passes
PORT2=$(free_port)
sed -e "s/^listen = .*/listen = 127.0.0.1:$PORT2/" -e 's/^\[policy\]$/[policy]\nplan-only = yes/' "$conf" >"$conf.dry"
out2=$LIVE_TMP/agent-dry.jsonl
"$BIN" agent --config "$conf.dry" >"$out2" 2>"$LIVE_TMP/agent-dry.err" &
dpid=$!
LIVE_PIDS+=("$dpid")
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT2/healthz" >/dev/null && break; sleep 0.1; done
for _ in $(seq 50); do grep -q "dry run: reported, not written" "$LIVE_TMP/agent-dry.err" && break; sleep 0.1; done
check "dry run: said at start" grep -q "dry run: reported, not written" "$LIVE_TMP/agent-dry.err"
start_hog "" dry --name "$T"
D=$HOG_PID
sleep $((RECHECK_S * 2 + 2))
expect_eq "dry run: the new process is reported once, planned 0 -> 555" "0 555 planned" \
    "$(jq -c --argjson p "$D" 'select(.event == "policy_change" and .change.pid == $p) | .change' "$out2" |
        jq -r '"\(.before) \(.after) \(.state)"' | paste -sd'|')"
expect_eq "dry run: its oom_score_adj is unchanged" 0 "$(adj "$D")"
expect_eq "dry run: /metrics counts no change done" 0 \
    "$(curl -sf "http://127.0.0.1:$PORT2/metrics" | grep '^oomwarden_policy_changes_total{result="done"}' | awk '{print $2}')"
kill -TERM "$dpid"
wait "$dpid"
done_testing
