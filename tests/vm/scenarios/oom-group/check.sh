# memory.oom.group (host side; the guest side is guest.sh): `ps --cgroup` names the kill unit
# before the push; the kernel kills all of it and nothing else (its kill lines, memory.events
# oom_group_kill, who is left); `explain` reports a group kill.
VM_MEM=256
VM_TIMEOUT=180

check_scenario() {
    local n=oom-group P A S f=$OUT/ps-cgroup-domain.json kills vpid leak
    P=$(fact domain) A=$(fact group) S=$(fact sidecar_cgroup)
    leak=$(hog_pid leak)
    json_ok "$n: ps --cgroup $P --json before the push is JSON" "$f" || return
    json_ok "$n: ps --cgroup $A/main --json is JSON" "$OUT/ps-cgroup-main.json" || return

    # the kernel's account: one OOM, the victim, the group line, the members' kill lines
    kills=$(kernel_kills)
    vpid=$(sed -n 's/.*oom-kill:constraint=.*,pid=\([0-9]*\),uid=.*/\1/p' "$OUT/kernel.log" | head -1)
    expect_eq "$n: one OOM invocation, by ow-leak" "ow-leak" \
        "$(sed -n 's/.*\] \(.*\) invoked oom-killer: .*/\1/p' "$OUT/kernel.log" | xargs)"
    expect_eq "$n: the kernel chose ow-leak in $A/main, in the OOM of $P" \
        "$leak CONSTRAINT_MEMCG $P $A/main" \
        "$vpid $(kv constraint "$(kernel_oomkill_info "$vpid")") $(kv oom_memcg "$(kernel_oomkill_info "$vpid")") $(kv task_memcg "$(kernel_oomkill_info "$vpid")")"
    expect_eq "$n: the kernel's group line names $A (the highest oom.group cgroup, not $A/main)" \
        "$A" "$(sed -n 's/.*\] Tasks in \(.*\) are going to be killed due to memory.oom.group set$/\1/p' "$OUT/kernel.log" | xargs)"
    expect_eq "$n: the first kill line is the chosen victim" "$vpid" "$(awk '{ print $1; exit }' <<<"$kills")"
    local killed predicted
    killed=$(awk '{ print $1 }' <<<"$kills" | sort -un | xargs)
    echo "# $n: kernel kill lines: $(awk '{ printf "%s(%s) ", $2, $1 }' <<<"$kills")"

    # the prediction
    expect_eq "$n: ps --cgroup: domain memcg, own limit, totalpages 12288" "memcg own_limit $P 12288" \
        "$(jq -r '"\(.domain) \(.oom_domain.reason) \(.oom_domain.oom_cgroup) \(.oom_domain.totalpages)"' "$f")"
    expect_eq "$n: ps --cgroup predicted the victim (next_victim, rank 1)" "$vpid $vpid" \
        "$(jq -r '"\(.oom_domain.next_victim) \([.processes[] | select(.rank == 1) | .pid][0])"' "$f")"
    expect_eq "$n: ps --cgroup predicted the kill unit: the whole of $A" "$A" \
        "$(jq -r '.oom_domain.next_kill_unit.cgroup' "$f")"
    predicted=$(jq -r '.oom_domain.next_kill_unit.pids | sort | join(" ")' "$f")
    expect_eq "$n: the predicted members are exactly the processes the kernel killed" "$killed" "$predicted"
    echo "# $n: predicted kill unit: $(jq -r '.oom_domain.next_kill_unit.pids as $u | [.processes[] | select(.pid as $p | $u | index($p)) | "\(.comm)(\(.pid))"] | join(" ")' "$f")"
    expect_eq "$n: ps: the -1000 process in $A is not in the kill unit; the sidecar dies alone" \
        "guard null, sidecar null" \
        "guard $(jq -c --argjson p "$(hog_pid guard)" '.processes[] | select(.pid == $p) | .kill_unit' "$f"), sidecar $(jq -c --argjson p "$(hog_pid sidecar)" '.processes[] | select(.pid == $p) | .kill_unit' "$f")"
    expect_eq "$n: every member's kill_unit is the same group" "$predicted" \
        "$(jq -r --arg a "$A" '[.processes[] | select(.kill_unit.cgroup == $a) | .pid] | sort | join(" ")' "$f")"
    expect_eq "$n: ps --cgroup $A/main (no limit of its own): the ancestor $P OOMs, same victim and unit" \
        "ancestor $P $vpid $A $predicted" \
        "$(jq -r '.oom_domain | "\(.reason) \(.oom_cgroup) \(.next_victim) \(.next_kill_unit.cgroup) \(.next_kill_unit.pids | sort | join(" "))"' "$OUT/ps-cgroup-main.json")"
    expect_eq "$n: ps --cgroup badness == the kernel's task-table badness for the resident hogs" "" \
        "$(ps_vs_rows "$f" "$vpid")"

    # what is left: the sidecar and the -1000 guard; every member gone
    expect_eq "$n: every member is gone; the sidecar (outside) and ow-guard (-1000) live on" "sidecar guard" "$(fact alive)"
    expect_eq "$n: what is left in $A is ow-guard" "$(hog_pid guard)" "$(fact "procs_after$A")"

    # memory.events: one group kill; every kill line counted (the victim is logged twice when the
    # group scan meets it again with its mm still there)
    ev() { events_field "$(fact "events_$1$2")" "$3"; }
    expect_eq "$n: memory.events oom_group_kill of $A 0 -> 1 (.local too), of $P 1" "0 1 1 1" \
        "$(ev before "$A" oom_group_kill) $(ev after "$A" oom_group_kill) $(events_field "$(fact "events_local_after$A")" oom_group_kill) $(ev after "$P" oom_group_kill)"
    expect_eq "$n: memory.events oom_kill of $P == the kernel's kill lines ($(grep -c . <<<"$kills"))" \
        "$(grep -c . <<<"$kills")" "$(ev after "$P" oom_kill)"
    expect_eq "$n: memory.events oom of $P >= 1; the sidecar's oom_kill 0" "true 0" \
        "$([ "$(ev after "$P" oom)" -ge 1 ] && echo true) $(ev after "$S" oom_kill)"

    # cgroup --json on the group, before and after
    local cb=$OUT/cgroup-group-before.json ca=$OUT/cgroup-group-after.json
    json_ok "$n: cgroup --json before is JSON" "$cb" && json_ok "$n: cgroup --json after is JSON" "$ca" || return
    local EV='.cgroup.events | "low \(.low) high \(.high) max \(.max) oom \(.oom) oom_kill \(.oom_kill) oom_group_kill \(.oom_group_kill)"'
    expect_eq "$n: cgroup --json events before/after == memory.events of $A" \
        "$(fact "events_before$A" | xargs) | $(fact "events_after$A" | xargs)" "$(jq -r "$EV" "$cb") | $(jq -r "$EV" "$ca")"
    expect_eq "$n: cgroup --json: oom_group true; oom_group_kill 0 -> 1; 4 processes -> 1 (the guard)" \
        "true 0 4 | true 1 1" \
        "$(jq -r '.cgroup | "\(.oom_group) \(.events.oom_group_kill) \(.processes_subtree)"' "$cb") | $(jq -r '.cgroup | "\(.oom_group) \(.events.oom_group_kill) \(.processes_subtree)"' "$ca")"

    expect_eq "$n: cgroup --json observations: the group kill spares oom_score_adj -1000 (ow-guard lived)" 1 \
        "$(jq -r '[.observations[] | select(test("memory.oom.group is set.*but those at oom_score_adj -1000"))] | length' "$ca")"

    # explain: one event, a group kill
    local e=$OUT/explain.json pid line bad=""
    json_ok "$n: explain --json (guest, /dev/kmsg) is JSON" "$e" || return
    expect_eq "$n: explain: one event, scope memcg, oom_memcg $P, task_memcg $A/main, group_memcg $A" \
        "1 memcg $P $A/main $A" "$(jq -r '"\(.events | length) \(.events[0] | "\(.scope) \(.oom_memcg) \(.task_memcg) \(.group_memcg)")"' "$e")"
    expect_eq "$n: explain: the victims are the killed processes, the chosen one first" \
        "$vpid | $killed" "$(jq -r '.events[0].victims | "\(.[0].pid) | \(map(.pid) | sort | join(" "))"' "$e")"
    expect_eq "$n: explain: group_kill false for the chosen one, true for the other members" \
        "selected:false $(for p in $killed; do [ "$p" = "$vpid" ] || printf 'group:true '; done)" \
        "$(jq -r '.events[0].victims | map("\(.kind):\(.group_kill)") | join(" ")' "$e") "
    for pid in $killed; do
        line=$(kill_line_json "$(kernel_kill_line "$pid")")
        [ "$line" = "$(jq -c --argjson p "$pid" ".events[0].victims[] | select(.pid == \$p) | $EXPLAIN_VICTIM" "$e")" ] ||
            bad="$bad $pid: kernel $line;"
    done
    expect_eq "$n: explain: each victim's numbers == its kernel kill line (parsed here)" "" "$bad"
    expect_eq "$n: explain's text names the group kill" 1 \
        "$(jq -r '.events[0].explanation' "$e" | grep -c "memory.oom.group is set on $A")"
    # ow-guard (-1000) was in the group and lived: the text must not say the whole cgroup went
    expect_eq "$n: explain's text: the -1000 member is spared, not 'the whole cgroup went'" "0 1" \
        "$(jq -r '.events[0].explanation' "$e" | grep -c 'the whole cgroup went') $(jq -r '.events[0].explanation' "$e" | grep -c "ow-guard (pid $(hog_pid guard)): the kernel spares it")"
    "$VM_BIN" explain --json "$OUT/kernel.log" >"$OUT/explain-host.json" 2>/dev/null
    expect_eq "$n: explain on the dmesg text (host) == explain on /dev/kmsg (guest)" \
        "$(explain_facts "$e")" "$(explain_facts "$OUT/explain-host.json")"
}
