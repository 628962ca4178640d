#!/usr/bin/env bash
# New processes told apart by taskstats, against the kernel. With the proc connector, where the
# rules that set oom_score_adj match on the name and uid only, the agent asks taskstats for a new
# process's name, parent and uid and reads /proc only for those a rule may change:
#   - a process that starts under another name is left alone, and gets its value when it renames
#     itself into the rule's name later (its comm event, its name asked again);
#   - a process started under a uid a `uid` rule names gets that rule's value;
#   - with a rule on the cgroup (which taskstats does not say), a new process in that cgroup is
#     read from /proc and gets its value.
# Each change is a policy_change event naming the process as /proc does. Only processes and a
# cgroup this test made match the rules.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
command -v curl >/dev/null || skip_all "curl not installed"
command -v jq >/dev/null || skip_all "jq not installed"
command -v setpriv >/dev/null || skip_all "setpriv not installed (util-linux)"

T=owt-$$
# a uid no one else on this machine runs under
U=$((47000 + $$ % 1000))
# start_agent NAME RULES: the agent with the connector and RULES; sets out, err, apid, src
start_agent() {
    conf=$LIVE_TMP/agent-$1.conf
    out=$LIVE_TMP/agent-$1.jsonl
    err=$LIVE_TMP/agent-$1.err
    printf '[agent]\nlisten = 127.0.0.1:%s\nevent-format = json\nkmsg = no\n[exporter]\nnext-victim = no\n[policy]\nnew-processes = auto\nrecheck-interval = 1h\n\n%s\n' \
        "$(free_port)" "$2" >"$conf"
    policy_agent_up "$conf" "$out" "$err"
    echo "# $1: $src"
}
# event PID: the policy_change events for PID, as "comm rule before after state"
event() {
    jq -r --argjson p "$1" 'select(.event == "policy_change" and .change.pid == $p) |
        "\(.change.comm) \(.change.rule) \(.change.before) \(.change.after) \(.change.state)"' "$out" | paste -sd'|'
}

start_agent names "$(printf '[rule late]\ncomm = ^%s-r$\noom-score-adj = 556\n\n[rule user]\nuid = %s\noom-score-adj = 557\n' "$T" "$U")"
if [[ "$src" != *"proc connector ("* ]]; then
    skip "taskstats: the proc connector" "not usable here: $src"
    policy_agent_down names
    done_testing
    exit 0
fi
if [[ "$src" != *"names from taskstats"* ]]; then
    # the reason is the agent's own (no CONFIG_TASKSTATS, not the initial network namespace, ...)
    skip "taskstats" "not usable here: ${src#*later; }"
    policy_agent_down names
    done_testing
    exit 0
fi
ok "names: the log says new processes are named by taskstats"

# under another name first: left alone; renamed into the rule's name 1.5 s later: 556
bash -c 'sleep 1.5; printf %s "$1" >/proc/$$/comm; while :; do sleep 0.2; done' late "$T-r" </dev/null >/dev/null 2>&1 &
R=$!
disown "$R"
LIVE_PIDS+=("$R")
sleep 1
expect_eq "names: a new process under another name (bash) is left alone" "bash 0" "$(cat "/proc/$R/comm") $(adj "$R")"
wait_adj "$R" 556 5000 && ok "names: renamed to $T-r, it got 556 in $DT ms" ||
    not_ok "names: renamed to $T-r, it got 556" "comm $(cat "/proc/$R/comm") adj $(adj "$R") after $DT ms"

# started under uid U: 557; a process of root's beside it: left alone
setpriv --reuid="$U" --regid="$U" --clear-groups sleep 300 </dev/null >/dev/null 2>&1 &
P=$!
disown "$P"
LIVE_PIDS+=("$P")
sleep 300 </dev/null >/dev/null 2>&1 &
Q=$!
disown "$Q"
LIVE_PIDS+=("$Q")
wait_adj "$P" 557 3000 && ok "names: a new process under uid $U got 557 in $DT ms" ||
    not_ok "names: a new process under uid $U got 557" "uid $(stat -c %u "/proc/$P") adj $(adj "$P") after $DT ms"
sleep 0.5
expect_eq "names: root's new sleep beside it is left alone" 0 "$(adj "$Q")"
sleep 0.2
expect_eq "names: the events: the renamed process and the uid's, as /proc names them" \
    "$T-r late 0 556 done|sleep user 0 557 done" "$(event "$R")|$(event "$P")"
expect_eq "names: no event for root's sleep" "" "$(event "$Q")"
policy_agent_down names
kill -9 "$R" "$P" "$Q" 2>/dev/null

# a rule on the cgroup: what taskstats does not say, so a new process is read from /proc
if [ -f "$V1_MEMORY/memory.limit_in_bytes" ]; then
    v1_cgroup names || not_ok "scratch cgroup"
    start_agent cgroup "$(printf '[rule cg]\ncgroup = %s\noom-score-adj = 558\n' "$CG_REL")"
    expect_eq "cgroup: the log says names come from /proc with a rule on the cgroup" \
        yes "$([[ "$src" == *"names from /proc (a rule that sets oom_score_adj matches on"* ]] && echo yes)"
    sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 300' sh "$CG" </dev/null >/dev/null 2>&1 &
    C=$!
    disown "$C"
    LIVE_PIDS+=("$C")
    wait_adj "$C" 558 3000 && ok "cgroup: a new process in $CG_REL got 558 in $DT ms" ||
        not_ok "cgroup: a new process in $CG_REL got 558" "adj $(adj "$C") after $DT ms"
    policy_agent_down cgroup
    kill -9 "$C" 2>/dev/null
else
    skip "cgroup: a rule on the cgroup" "no cgroup v1 memory controller at $V1_MEMORY"
fi
done_testing
