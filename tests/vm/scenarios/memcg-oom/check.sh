# memcg v2 OOM (host side; the guest side is guest.sh): the kill happened in the cgroup whose
# memory.max was hit, by the kernel's own accounts (memory.events and its report); `ps --cgroup`
# predicted it, `cgroup` and `explain` say what the kernel's files and report say.
VM_MEM=256
VM_TIMEOUT=180

check_scenario() {
    local n=memcg-oom M before after kills victim vpid info
    M=$(fact cgroup)
    before=$(fact events_before) after=$(fact events_after)
    expect_eq "$n: memory.max is 48 MiB" 50331648 "$(fact memory_max)"
    expect_eq "$n: memory.events oom_kill 0 before" 0 "$(events_field "$before" oom_kill)"
    expect_eq "$n: memory.events oom_kill += 1 (exactly one kill)" 1 \
        "$(($(events_field "$after" oom_kill) - $(events_field "$before" oom_kill)))"
    # `oom` counts OOM invocations: the dying allocator may pass through once more
    expect_eq "$n: memory.events oom >= 1 (and max hits: $(events_field "$after" max))" true \
        "$([ "$(events_field "$after" oom)" -ge 1 ] && echo true || echo "$(events_field "$after" oom)")"
    expect_eq "$n: memory.events.local agrees (the OOM was this cgroup's own)" 1 \
        "$(events_field "$(fact events_local_after)" oom_kill)"

    kills=$(kernel_kills)
    expect_eq "$n: the kernel logged exactly one kill" 1 "$(grep -c . <<<"$kills")"
    vpid=$(awk '{ print $1; exit }' <<<"$kills")
    victim=$(awk -v p="$vpid" '$2 == p { print $1 " " $3 }' "$OUT/hogs.txt")
    expect_eq "$n: the kill line names a process of $M (the designed victim ow-leak)" "leak $M" "$victim"
    expect_eq "$n: it is a memcg kill ('Memory cgroup out of memory')" 1 \
        "$(grep -c "Memory cgroup out of memory: Killed process $vpid " "$OUT/kernel.log")"
    expect_eq "$n: the OOM was invoked by the leaking process" "ow-leak" \
        "$(sed -n 's/.*\] \(.*\) invoked oom-killer: .*/\1/p' "$OUT/kernel.log" | sort -u | xargs)"
    info=$(kernel_oomkill_info "$vpid")
    expect_eq "$n: constraint, oom_memcg and task_memcg are the v2 cgroup" \
        "CONSTRAINT_MEMCG $M $M" "$(kv constraint "$info") $(kv oom_memcg "$info") $(kv task_memcg "$info")"
    expect_eq "$n: ps (before) showed the victim in that cgroup" "$M" \
        "$(jq -r --argjson p "$vpid" '.processes[] | select(.pid == $p) | .cgroup' "$OUT/ps-before.json")"
    expect_eq "$n: the other three live on in $M" \
        "$(for h in big small steady; do hog_pid $h; done | sort -n | xargs)" "$(xargs -n1 <<<"$(fact procs_after)" | sort -n | xargs)"

    # ps --cgroup before the push: the memcg domain and its prediction
    local f=$OUT/ps-cgroup-before.json T
    json_ok "$n: ps --cgroup --json before the push is JSON" "$f" || return
    expect_eq "$n: ps --cgroup: domain memcg, its own limit, totalpages = memory.max pages (no swap)" \
        "memcg own_limit $M 12288" "$(jq -r '"\(.domain) \(.oom_domain.reason) \(.oom_domain.oom_cgroup) \(.oom_domain.totalpages)"' "$f")"
    expect_eq "$n: ps --cgroup predicted the victim the kernel killed (rank 1 and next_victim: $vpid)" \
        "$vpid $vpid" "$(jq -r '"\([.processes[] | select(.rank == 1) | .pid][0]) \(.oom_domain.next_victim)"' "$f")"
    expect_eq "$n: ps --cgroup: the victim dies alone (memory.oom.group 0)" "null null" \
        "$(jq -r --argjson p "$vpid" '"\(.oom_domain.next_kill_unit) \(.processes[] | select(.pid == $p) | .kill_unit)"' "$f")"
    # The resident hogs did not change between ps and the OOM: ps's memcg badness must be the
    # kernel's own, from the report's task table (lib/check.sh: row_points)
    T=$(jq .oom_domain.totalpages "$f")
    expect_eq "$n: ps --cgroup badness == the kernel's task-table badness for the 3 resident hogs" "" \
        "$(ps_vs_rows "$f" "$vpid")"
    expect_eq "$n: the memcg badness of the kernel's rows picks the kernel's victim" "$vpid" "$(row_choice "$T")"
    echo "# $n: ps --cgroup before: $(jq -r '[.processes[] | "\(.comm)(\(.pid)) \(.badness)"] | join(", ")' "$f")"
    echo "# $n: kernel rows at the OOM: $(row_points "$T" | awk '{ printf "%s%s(%s) %s", (NR > 1 ? ", " : ""), $3, $1, $2 }')"

    # cgroup --json before and after: the same counters the kernel's files had
    local cb=$OUT/cgroup-before.json ca=$OUT/cgroup-after.json
    json_ok "$n: cgroup --json before is JSON" "$cb" && json_ok "$n: cgroup --json after is JSON" "$ca" || return
    local EV='.cgroup.events | "low \(.low) high \(.high) max \(.max) oom \(.oom) oom_kill \(.oom_kill) oom_group_kill \(.oom_group_kill)"'
    expect_eq "$n: cgroup --json: path, max 48 MiB, oom_group false" "$M 50331648 false" \
        "$(jq -r '.cgroup | "\(.path) \(.max) \(.oom_group)"' "$cb")"
    expect_eq "$n: cgroup --json events before == memory.events" "$(xargs <<<"$before")" "$(jq -r "$EV" "$cb")"
    expect_eq "$n: cgroup --json events after == memory.events" "$(xargs <<<"$after")" "$(jq -r "$EV" "$ca")"
    expect_eq "$n: cgroup --json: oom_kill 0 -> 1, oom 0 -> >= 1, max 0 -> > 0" "0 1 0 true 0 true" \
        "$(jq -rs '"\(.[0].cgroup.events.oom_kill) \(.[1].cgroup.events.oom_kill) \(.[0].cgroup.events.oom) \(.[1].cgroup.events.oom >= 1) \(.[0].cgroup.events.max) \(.[1].cgroup.events.max > 0)"' "$cb" "$ca")"
    expect_eq "$n: cgroup --json current before/after == memory.current" \
        "$(fact current_before) $(fact current_after)" "$(jq -rs '"\(.[0].cgroup.current) \(.[1].cgroup.current)"' "$cb" "$ca")"
    expect_eq "$n: cgroup --json: 4 processes before, 3 after; PSI read from the cgroup's own file" \
        "4 3 $M $M" "$(jq -rs '"\(.[0].cgroup.processes) \(.[1].cgroup.processes) \(.[0].cgroup.psi.source) \(.[1].cgroup.psi.source)"' "$cb" "$ca")"

    # explain: this kernel's report, read from /dev/kmsg in the guest and from dmesg text here
    local e=$OUT/explain.json kline
    json_ok "$n: explain --json (guest, /dev/kmsg) is JSON" "$e" || return
    kline=$(kill_line_json "$(kernel_kill_line "$vpid")")
    expect_eq "$n: explain: one event, one victim" "1 1" "$(jq -r '"\(.events | length) \([.events[].victims[]] | length)"' "$e")"
    expect_eq "$n: explain: scope memcg, constraint, oom_memcg = task_memcg = $M" \
        "memcg CONSTRAINT_MEMCG $M $M" "$(jq -r '.events[0] | "\(.scope) \(.constraint) \(.oom_memcg) \(.task_memcg)"' "$e")"
    expect_eq "$n: explain: the victim's pid, comm and memory numbers == the kernel's kill line (parsed here)" \
        "$kline" "$(jq -c ".events[0].victims[0] | $EXPLAIN_VICTIM" "$e")"
    expect_eq "$n: explain: the invoker is the victim itself (ow-leak, adj 500)" "ow-leak $vpid 500" \
        "$(jq -r '.events[0].invoker | "\(.comm) \(.pid) \(.oom_score_adj)"' "$e")"
    local usage
    usage=$(sed -n 's/.*\] memory: usage \([0-9]*\)kB, limit \([0-9]*\)kB, failcnt \([0-9]*\)$/\1 \2 \3/p' "$OUT/kernel.log")
    expect_eq "$n: explain: memcg usage/limit/failcnt == the 'memory: usage' line" "$usage" \
        "$(jq -r '.events[0].memcg | "\(.usage_kb) \(.limit_kb) \(.failcnt)"' "$e")"
    expect_eq "$n: explain: its badness is the kernel's (memcg totalpages 12288)" "12288 $(row_points "$T" | awk -v p="$vpid" '$1 == p { print $2 }')" \
        "$(jq -r '.events[0].victims[0].badness | "\(.totalpages) \(.points)"' "$e")"
    "$VM_BIN" explain --json "$OUT/kernel.log" >"$OUT/explain-host.json" 2>/dev/null
    expect_eq "$n: explain on the dmesg text (host) == explain on /dev/kmsg (guest)" \
        "$(explain_facts "$e")" "$(explain_facts "$OUT/explain-host.json")"
}
