# The node-crash scenario (host side; the guest side is guest.sh): `ps` predicts the global kill
# order before the pod grows; the kernel's own "Killed process" lines must follow it exactly;
# `cgroup` shows the pod's cgroup; `explain` finds every kill and describes the cascade.
VM_MEM=384 # little RAM: the cascade comes quickly
VM_TIMEOUT=240

GLOBAL_DAEMONS="sshd systemd-network rngd systemd-homed agetty" # comm: 15 characters at most
GLOBAL_POD=pod-hog

check_scenario() {
    local n=global-oom f=$OUT/ps-before.json
    json_ok "$n: ps --json before the growth is JSON" "$f" || return

    # the prediction: every process the kernel would consider, in ps's kill order
    local predicted actual
    predicted=$(jq -r '[.processes[] | select(.eligible) | "\(.pid) \(.comm)"] | .[]' "$f")
    actual=$(kernel_kills)
    expect_eq "$n: the prediction is the designed one: daemons by size, then the pod at -997" \
        "$GLOBAL_DAEMONS $GLOBAL_POD" "$(awk '{ print $2 }' <<<"$predicted" | xargs)"
    expect_eq "$n: the kernel killed exactly in the predicted order (pid comm)" \
        "$(xargs <<<"$predicted")" "$(xargs <<<"$actual")"
    echo "# $n: predicted: $(awk '{ printf "%s(%s) ", $2, $1 }' <<<"$predicted")"
    echo "# $n: kernel:    $(awk '{ printf "%s(%s) ", $2, $1 }' <<<"$actual")"

    # the pod outlived every daemon: its kill is the last, after all five
    local pod_pid last
    pod_pid=$(hog_pid pod)
    last=$(tail -1 <<<"$actual")
    expect_eq "$n: the pod (-997) outlived the daemons: killed last, after $(($(wc -l <<<"$actual") - 1)) others" \
        "$pod_pid $GLOBAL_POD" "$last"
    expect_eq "$n: nothing else was killed (vmstat oom_kill $(fact oom_kill_before) -> 6)" 6 "$(fact oom_kill_after)"

    # each kill a global OOM, and the kernel's task_memcg is the v2 path ps showed
    local pid comm info bad="" memcg want
    while read -r pid comm; do
        [ -n "$pid" ] || continue
        info=$(kernel_oomkill_info "$pid")
        case "$info" in *constraint=CONSTRAINT_NONE,*global_oom,*) ;; *) bad="$bad $pid: not a global OOM: $info;" ;; esac
        memcg=$(kv task_memcg "$info")
        want=$(jq -r --argjson p "$pid" '.processes[] | select(.pid == $p) | .cgroup' "$f")
        [ "$memcg" = "$want" ] || bad="$bad $pid: kernel task_memcg=$memcg, ps cgroup=$want;"
    done <<<"$actual"
    expect_eq "$n: every kill is CONSTRAINT_NONE/global_oom and its task_memcg == ps's cgroup" "" "$bad"
    expect_eq "$n: the pod's cgroup is the Kubernetes-shaped v2 path" "$(fact pod_cgroup)" \
        "$(jq -r --argjson p "$pod_pid" '.processes[] | select(.pid == $p) | .cgroup' "$f")"

    # the daemons did not move between ps and their kill: the kernel's numbers are ps's numbers
    local line rss_k rss_ps
    bad=""
    while read -r pid comm; do
        [ "$comm" = "$GLOBAL_POD" ] && continue
        line=$(kernel_kill_line "$pid")
        rss_k=$(($(kb_pages "$(kv anon-rss "$line")") + $(kb_pages "$(kv file-rss "$line")") + $(kb_pages "$(kv shmem-rss "$line")")))
        rss_ps=$(jq --argjson p "$pid" '.page_size as $ps | .processes[] | select(.pid == $p) | .rss / $ps' "$f")
        [ "$rss_k" = "$rss_ps" ] || bad="$bad $comm: kernel rss $rss_k pages, ps $rss_ps;"
    done <<<"$actual"
    expect_eq "$n: each daemon's rss in the kernel's kill line == ps's rss before" "" "$bad"

    # The design's arithmetic: badness(pod) = pages - 997 * (totalpages / 1000). Even at its
    # largest (at its own kill) it stays below the smallest daemon's badness, so at every step
    # the kernel's choice among the daemons was unambiguous (and decided by size alone).
    local T line pod_pages pod_bad min_daemon
    T=$(jq .totalpages "$f")
    line=$(kernel_kill_line "$pod_pid")
    pod_pages=$(($(kb_pages "$(kv anon-rss "$line")") + $(kb_pages "$(kv file-rss "$line")") + $(kb_pages "$(kv shmem-rss "$line")") + $(kb_pages "$(kv pgtables "$line")")))
    pod_bad=$((pod_pages - 997 * (T / 1000)))
    min_daemon=$(jq '[.processes[] | select(.eligible and .oom_score_adj == 0) | .badness] | min' "$f")
    echo "# $n: totalpages $T; pod at its kill: $pod_pages pages, badness $pod_bad; smallest daemon badness $min_daemon"
    if [ -n "$line" ] && [ "$pod_bad" -lt 0 ] && [ "$pod_bad" -lt "$min_daemon" ]; then
        ok "$n: the pod's badness at its largest ($pod_bad) < 0 < smallest daemon's ($min_daemon)"
    else
        not_ok "$n: the pod's badness at its largest < smallest daemon's" "pod $pod_bad, daemon $min_daemon; kill line: $line"
    fi
    expect_eq "$n: the kill lines carry the adj ps showed (0 x5, -997)" "0 0 0 0 0 -997" \
        "$(while read -r pid comm; do kv oom_score_adj "$(kernel_kill_line "$pid")"; done <<<"$actual" | xargs)"

    # the cgroups counted the kills (oom_kill counts global kills too)
    expect_eq "$n: the pod's memory.events oom_kill == 1" 1 "$(events_field "$(fact events_pod)" oom_kill)"
    expect_eq "$n: /system.slice memory.events oom_kill == 5 (hierarchical)" 5 "$(events_field "$(fact events_system)" oom_kill)"
    expect_eq "$n: no process of the six survived" "" "$(fact alive)"
    json_ok "$n: ps --json after the OOMs is JSON" "$OUT/ps-after.json"

    # oomwarden cgroup on the pod's container cgroup: by path and by pid, before; events after
    local cb=$OUT/cgroup-pod-before.json ctr
    ctr=$(fact pod_cgroup)
    json_ok "$n: cgroup --json on the pod's cgroup is JSON" "$cb" || return
    expect_eq "$n: cgroup: the pod's container cgroup, a Guaranteed pod's containerd container, 1 process" \
        "$ctr kubernetes 4f6c2a1e-8d3b-4c5f-9e7a-1b2c3d4e5f60 guaranteed containerd ${ctr##*cri-containerd-} 1" \
        "$(jq -r '.cgroup | "\(.path) \(.identity.kind) \(.identity.pod_uid) \(.identity.qos_class) \(.identity.container_runtime) \(.identity.container_id).scope \(.processes)"' "$cb")"
    expect_eq "$n: cgroup pid:<pod> is the same cgroup" "$ctr" "$(jq -r .cgroup.path "$OUT/cgroup-pod-pid.json")"
    expect_eq "$n: cgroup: no limit, so nothing but a global OOM can kill it (max, binding_max)" "max max" \
        "$(jq -r '.cgroup | "\(.max) \(.binding_max)"' "$cb")"
    expect_eq "$n: cgroup --json after: events == memory.events of the pod (oom_kill 1)" \
        "$(fact events_pod | xargs)" \
        "$(jq -r '.cgroup.events | "low \(.low) high \(.high) max \(.max) oom \(.oom) oom_kill \(.oom_kill) oom_group_kill \(.oom_group_kill)"' "$OUT/cgroup-pod-after.json")"

    # explain on the cascade, read from /dev/kmsg in the guest
    local e=$OUT/explain.json bad="" i=0 line invokers
    json_ok "$n: explain --json (guest, /dev/kmsg) is JSON" "$e" || return
    expect_eq "$n: explain: every kill, in the kernel's order (pid comm)" "$(xargs <<<"$actual")" \
        "$(jq -r '[.events[] | .victims[0] | "\(.pid) \(.comm)"] | join(" ")' "$e")"
    expect_eq "$n: explain: each event is global (scope, CONSTRAINT_NONE, global_oom), one victim" \
        "$(for _ in $(seq "$(grep -c . <<<"$actual")"); do printf 'global CONSTRAINT_NONE true 1 '; done)" \
        "$(jq -r '[.events[] | "\(.scope) \(.constraint) \(.global_oom) \(.victims | length)"] | join(" ")' "$e") "
    while read -r pid comm; do
        [ -n "$pid" ] || continue
        line=$(kill_line_json "$(kernel_kill_line "$pid")")
        [ "$line" = "$(jq -c --argjson i "$i" ".events[\$i].victims[0] | $EXPLAIN_VICTIM" "$e")" ] || bad="$bad $pid: kernel $line;"
        [ "$(kv task_memcg "$(kernel_oomkill_info "$pid")")" = "$(jq -r --argjson i "$i" '.events[$i].task_memcg' "$e")" ] ||
            bad="$bad $pid: task_memcg;"
        i=$((i + 1))
    done <<<"$actual"
    expect_eq "$n: explain: each victim's numbers and task_memcg == its kernel lines (parsed here)" "" "$bad"
    # who asked, OOM by OOM: mostly pod-hog, but a busybox helper of the scenario (at -1000) may
    # be the one whose page fault finds no memory
    invokers=$(sed -n 's/.*\] \(.*\) invoked oom-killer: .*oom_score_adj=\(-*[0-9]*\)$/\1 \2/p' "$OUT/kernel.log" | xargs)
    expect_eq "$n: explain: the invokers (comm adj) are the kernel's" "$invokers" \
        "$(jq -r '[.events[] | "\(.invoker.comm) \(.invoker.oom_score_adj)"] | join(" ")' "$e")"
    echo "# $n: invokers: $invokers"
    expect_eq "$n: explain: one cascade of all $(grep -c . <<<"$actual") kills" "0 5 6" \
        "$(jq -r '.cascades | if length == 1 then .[0] | "\(.first_event) \(.last_event) \(.kills)" else "\(length) cascades" end' "$e")"
    local summary
    summary=$(jq -r '.cascades[0].summary' "$e")
    echo "# $n: cascade: $summary"
    # the words: six kills of the whole machine, small ones first, memory back only with the
    # pod's kill, and the -997 pod as the reason the daemons went first
    local want_words="6 kills|(whole machine)|each of the first 5 freed under|memory came back only when pod-hog|pod-hog (pid $pod_pid|oom_score_adj -997"
    bad=""
    local IFS_OLD=$IFS w
    IFS='|'
    for w in $want_words; do
        [[ "$summary" == *"$w"* ]] || bad="$bad '$w'"
    done
    IFS=$IFS_OLD
    expect_eq "$n: explain: the cascade's text describes it (kills, scope, who freed what, the -997 pod)" "" "$bad"
    "$VM_BIN" explain --json "$OUT/kernel.log" >"$OUT/explain-host.json" 2>/dev/null
    expect_eq "$n: explain on the dmesg text (host) == explain on /dev/kmsg (guest)" \
        "$(explain_facts "$e")" "$(explain_facts "$OUT/explain-host.json")"
}
