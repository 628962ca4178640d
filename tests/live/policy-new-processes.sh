#!/usr/bin/env bash
# New processes and the policy, against the kernel. A process that writes its own oom_score_adj
# just after the policy set it (a runtime's or program's own write, after the policy's read at
# exec) gets the rule's value back at the policy's second look, about 1 s after the match and
# again at about 5 s, long before the recheck (1 h here): with the proc connector and with the
# scan of /proc. Each put-back is a policy_change event with "put_back": true; the first write is
# not one. With the connector, a child that only forked from a matched process is not read but
# takes its parent's verdict: the recheck's drift check still puts its value back. Only processes
# this test made match.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
command -v curl >/dev/null || skip_all "curl not installed"
command -v jq >/dev/null || skip_all "jq not installed"

T=owl-$$
# start_agent MODE [RECHECK]: the agent with new-processes = MODE, recheck-interval = RECHECK (1h);
# sets port, conf, out, err, apid, src (the log's source of new processes)
start_agent() {
    local mode=$1 recheck=${2:-1h}
    port=$(free_port)
    conf=$LIVE_TMP/agent-$mode-$recheck.conf
    out=$LIVE_TMP/agent-$mode-$recheck.jsonl
    err=$LIVE_TMP/agent-$mode-$recheck.err
    cat >"$conf" <<EOC
[agent]
listen = 127.0.0.1:$port
event-format = json
kmsg = no
[exporter]
next-victim = no
[policy]
new-processes = $mode
scan-interval = 1s
recheck-interval = $recheck

[rule own]
comm = ^$T\$
oom-score-adj = 555
EOC
    policy_agent_up "$conf" "$out" "$err"
    echo "# $mode: $src"
}

one_mode() {
    local mode=$1 port conf out err apid src P
    start_agent "$mode"
    if [ "$mode" = auto ] && [[ "$src" != *"proc connector ("* ]]; then
        skip "auto: the proc connector" "not usable here: $src"
        policy_agent_down "$mode"
        return
    fi

    start_hog "" "own-$mode" --name "$T"
    P=$HOG_PID
    wait_adj "$P" 555 5000 && ok "$mode: the new process got 555 in $DT ms" ||
        not_ok "$mode: the new process got 555" "adj $(adj "$P") after $DT ms"
    # the program's own write, just after the policy's
    echo 100 >"/proc/$P/oom_score_adj"
    wait_adj "$P" 555 3000 && [ "$DT" -le 2500 ] &&
        ok "$mode: its own write (100) put back to 555 in $DT ms (recheck-interval 1 h)" ||
        not_ok "$mode: its own write (100) put back to 555 within 2.5 s" "adj $(adj "$P") after $DT ms"
    # again before the look at 5 s
    echo 200 >"/proc/$P/oom_score_adj"
    wait_adj "$P" 555 6000 && ok "$mode: a second write (200) put back to 555 by a later look in $DT ms" ||
        not_ok "$mode: a second write (200) put back to 555 by a later look" "adj $(adj "$P") after $DT ms"
    sleep 0.2
    expect_eq "$mode: events: the first change, then two put-backs" \
        "false 0 555 done|true 100 555 done|true 200 555 done" \
        "$(jq -r --argjson p "$P" 'select(.event == "policy_change" and .change.pid == $p) |
            "\(.put_back) \(.change.before) \(.change.after) \(.change.state)"' "$out" | paste -sd'|')"
    check "$mode: every policy_change event has put_back" \
        jq -e -s 'all(.[] | select(.event == "policy_change"); .put_back | type == "boolean")' "$out"
    policy_agent_down "$mode"
    kill -9 "$P" 2>/dev/null
}

# forked: a matched process (the script, comm $T: 555) forks a subshell 1.5 s after its start,
# which inherits 555 from the kernel and is not read; written to 0 by hand, the recheck (2 s)
# puts it back, as for a process read
forked() {
    local port conf out err apid src S C
    start_agent auto 2s
    if [[ "$src" != *"proc connector ("* ]]; then
        skip "forked: the proc connector" "not usable here: $src"
        policy_agent_down forked
        return
    fi
    printf '#!/bin/bash\nsleep 1.5\n( while :; do sleep 1; done ) &\necho $! >"$1.tmp" && mv "$1.tmp" "$1"\nwait\n' >"$LIVE_TMP/$T"
    chmod +x "$LIVE_TMP/$T"
    "$LIVE_TMP/$T" "$LIVE_TMP/child" </dev/null >/dev/null 2>&1 &
    S=$!
    LIVE_PIDS+=("$S")
    for _ in $(seq 100); do [ -s "$LIVE_TMP/child" ] && break; sleep 0.05; done
    C=$(cat "$LIVE_TMP/child" 2>/dev/null)
    LIVE_PIDS+=("$C")
    expect_eq "forked: the script and its subshell are $T at 555 (the subshell by inheritance)" \
        "$T 555 $T 555" "$(cat "/proc/$S/comm") $(adj "$S") $(cat "/proc/$C/comm") $(adj "$C")"
    sleep 0.5 # the fork's batch (200 to 400 ms after it) is through
    echo 0 >"/proc/$C/oom_score_adj"
    wait_adj "$C" 555 4000 && ok "forked: the subshell's 0 put back to 555 by the recheck in $DT ms" ||
        not_ok "forked: the subshell's 0 put back to 555 by the recheck" "adj $(adj "$C") after $DT ms"
    sleep 0.2
    expect_eq "forked: one event for the subshell, a put-back from 0" "true 0 555 done" \
        "$(jq -r --argjson p "$C" 'select(.event == "policy_change" and .change.pid == $p) |
            "\(.put_back) \(.change.before) \(.change.after) \(.change.state)"' "$out" | paste -sd'|')"
    policy_agent_down forked
    kill -9 "$C" "$S" 2>/dev/null
}
one_mode auto
one_mode scan
forked
done_testing
