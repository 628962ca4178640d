# The node-crash scenario (host side; the guest side is guest.sh): `ps` predicts the global kill
# order before the pod grows; the kernel's own "Killed process" lines must follow it exactly.
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
    # TODO(explain issue): `oomwarden explain --json` on kernel.log must list these six kills,
    # in this order, as global OOMs with these pids, comms, task_memcgs and rss numbers, and
    # describe the cascade (five adj-0 daemons killed while the -997 pod kept growing).
}
