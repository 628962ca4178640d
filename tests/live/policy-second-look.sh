#!/usr/bin/env bash
# A process that writes its own oom_score_adj just after the policy set it (a runtime's or
# program's own write, after the policy's read at exec) gets the rule's value back at the policy's
# second look, about 1 s after the match and again at about 5 s, long before the recheck (1 h
# here): with the proc connector and with the scan of /proc. Each put-back is a policy_change
# event with "put_back": true; the first write is not one. Only processes this test made match.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
command -v curl >/dev/null || skip_all "curl not installed"
command -v jq >/dev/null || skip_all "jq not installed"

now_ms() { date +%s%3N; }
adj() { cat "/proc/$1/oom_score_adj" 2>/dev/null; }
T=owl-$$
# wait_adj PID VALUE MS: until PID's oom_score_adj is VALUE (0) or MS passed (1); DT the time taken
wait_adj() {
    local t0
    t0=$(now_ms)
    while [ "$(adj "$1")" != "$2" ] && [ $(($(now_ms) - t0)) -lt "$3" ]; do sleep 0.02; done
    DT=$(($(now_ms) - t0))
    [ "$(adj "$1")" = "$2" ]
}

# one_mode MODE: the agent with new-processes = MODE
one_mode() {
    local mode=$1 port conf out apid P
    port=$(free_port)
    conf=$LIVE_TMP/agent-$mode.conf
    out=$LIVE_TMP/agent-$mode.jsonl
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
recheck-interval = 1h

[rule own]
comm = ^$T\$
oom-score-adj = 555
EOC
    "$BIN" agent --config "$conf" >"$out" 2>"$LIVE_TMP/agent-$mode.err" &
    apid=$!
    LIVE_PIDS+=("$apid")
    for _ in $(seq 100); do grep -q "(new processes: " "$LIVE_TMP/agent-$mode.err" && curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    local src
    src=$(grep -m1 -o "(new processes: [^;]*" "$LIVE_TMP/agent-$mode.err")
    echo "# $mode: $src"
    if [ "$mode" = auto ] && [[ "$src" != *"proc connector ("* ]]; then
        skip "auto: the proc connector" "not usable here: $src"
        kill -TERM "$apid"
        wait "$apid"
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
    kill -TERM "$apid"
    wait "$apid"
    expect_eq "$mode: SIGTERM: exit 0" 0 "$?"
    kill -9 "$P" 2>/dev/null
}
one_mode auto
one_mode scan
done_testing
