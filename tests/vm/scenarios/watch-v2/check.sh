# watch on cgroup v2 (host side): the events the guest's watch printed, against the kernel's
# own evidence (its kill line, memory.events, memory.pressure).
VM_MEM=256
VM_TIMEOUT=180

check_scenario() {
    local n=watch-v2 w=$OUT/watch.jsonl L T victim
    L=$(fact late) T=$(fact throttled) victim=$(fact victim)
    json_lines_ok() { jq -e -s 'length > 0 and all(.[]; (.time|type=="string") and (.event|type=="string"))' "$w" >/dev/null 2>&1; }
    if json_lines_ok; then ok "$n: the stream is JSON Lines with time and event"; else not_ok "$n: the stream is JSON Lines" "$(head -5 "$w"; cat "$OUT/watch.err")"; return; fi
    expect_eq "$n: watch exited 0 on SIGTERM" 0 "$(fact watch_rc)"

    # the kill, from /dev/kmsg: the kernel's own kill line names the same pid
    expect_eq "$n: the kernel killed the victim (its kill line)" "$victim ow-watch-oom" "$(kernel_kills | head -1)"
    local k
    k=$(jq -c --argjson p "$victim" 'select(.event=="oom_kill" and .pid==$p)' "$w" | head -1)
    expect_eq "$n: oom_kill event: comm, scope, oom_memcg, task_memcg" "ow-watch-oom memcg $L $L" \
        "$(jq -r '"\(.comm) \(.scope) \(.oom_memcg) \(.task_memcg)"' <<<"$k" 2>/dev/null)"

    # memory.events through inotify, for a cgroup created after the watch started
    local e
    e=$(jq -c --arg c "$L" 'select(.event=="memory_events" and .cgroup==$c and .changes.oom_kill)' "$w" | head -1)
    expect_eq "$n: memory_events oom_kill +1 for $L (source memory.events: v2 inotify)" "1 memory.events" \
        "$(jq -r '"\(.changes.oom_kill.delta) \(.source)"' <<<"$e" 2>/dev/null)"
    expect_eq "$n: ... and the kernel's memory.events says 1" 1 "$(events_field "$(fact events_late)" oom_kill)"

    # throttling above memory.high: "high" events and PSI, no kill
    local high
    high=$(events_field "$(fact events_throttled)" high)
    e=$(jq -c --arg c "$T" 'select(.event=="memory_events" and .cgroup==$c and .changes.high)' "$w" | tail -1)
    if [ -n "$e" ] && [ "$(jq .changes.high.total <<<"$e")" -ge 1 ] && [ "$(jq .changes.high.total <<<"$e")" -le "$high" ]; then
        ok "$n: memory_events high for $T (last reported total $(jq .changes.high.total <<<"$e"), kernel $high)"
    else
        not_ok "$n: memory_events high for $T" "event: $e; kernel: $(fact events_throttled)"
    fi
    expect_eq "$n: no OOM kill in $T" 0 "$(events_field "$(fact events_throttled)" oom_kill)"
    local p
    p=$(jq -c --arg c "$T" 'select(.event=="psi_trigger" and .target==$c)' "$w" | head -1)
    if [ -n "$p" ]; then
        ok "$n: psi_trigger on $T itself (its memory.pressure; some total $(jq .pressure.some.total_us <<<"$p") us)"
    else
        not_ok "$n: psi_trigger on $T" "kernel: $(fact pressure_throttled); events: $(jq -c 'select(.event=="psi_trigger")' "$w" | head -3)"
    fi
}
