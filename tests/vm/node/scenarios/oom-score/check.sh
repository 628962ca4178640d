# oom-score on the real node (host side). The kernel is the oracle: every process's computed
# oom_score (ps's oom_score_model) must equal /proc/PID/oom_score exactly, in each of three
# snapshots, on every kernel and cgroup mode.
VM_MEM=1024
VM_TIMEOUT=420

check_scenario() {
    local i f scored unscored wrong
    for i in 1 2 3; do
        f=$OUT/ps-$i.json
        json_ok "$SCN: ps --json snapshot $i is JSON" "$f" || continue
        scored=$(jq '[.processes[] | select(.oom_score_model != null)] | length' "$f")
        unscored=$(ps_unscored "$f")
        wrong=$(ps_model_wrong "$f")
        expect_eq "$SCN: snapshot $i: every user process is scored" "" "$unscored"
        expect_eq "$SCN: snapshot $i: oom_score_model == /proc/PID/oom_score for all $scored processes" "" "$wrong"
    done
    f=$OUT/ps-1.json
    [ -f "$f" ] || return
    echo "# $SCN: kernel $(jq -r .kernel_release "$f"), rss_source $(jq -r .rss_source "$f"), counter_error_pages $(jq -r .counter_error_pages "$f"), $(jq '[.processes[] | select(.oom_score_model != null)] | length' "$f") processes scored"
    # the node's real daemons are there and scored
    local d missing=""
    for d in systemd systemd-journal systemd-network systemd-resolve systemd-logind sshd containerd dbus-daemon agetty; do
        jq -e --arg c "$d" 'any(.processes[]; .comm == $c and .oom_score_model != null)' "$f" >/dev/null || missing="$missing $d"
    done
    expect_eq "$SCN: the node's daemons are scored (systemd ... agetty)" "" "${missing# }"

    # the pods as the kubelet makes them
    local cap pod ns uid qos ctr cid pid cg adj want
    cap=$(fact capacity_bytes)
    expect_eq "$SCN: kubepods.slice's limit is node allocatable (= capacity, nothing reserved)" "$cap" "$(fact kubepods_max)"
    while read -r pod ns uid qos ctr cid pid cg adj; do
        case "$qos" in
        guaranteed) want=-997 ;;
        besteffort) want=1000 ;;
        burstable) want=$((1000 - (1000 * 64 * 1048576) / cap)) ;;
        esac
        expect_eq "$SCN: $pod ($qos): oom_score_adj as the kubelet sets it" "$want" "$(fact "adj_$pod")"
        local slice=kubepods-$qos-pod${uid//-/_}.slice parent=kubepods.slice/kubepods-$qos.slice
        [ "$qos" = guaranteed ] && slice=kubepods-pod${uid//-/_}.slice parent=kubepods.slice
        expect_eq "$SCN: $pod: cgroup is the kubelet's systemd layout" "/$parent/$slice/cri-containerd-$cid.scope" "$cg"
        expect_eq "$SCN: $pod: ps shows that cgroup and adj" "$cg $want" \
            "$(jq -r --argjson p "$pid" '.processes[] | select(.pid == $p) | "\(.cgroup) \(.oom_score_adj)"' "$f")"
        grep -q "${pod}_${ns}_${ctr}-$cid.log -> /var/log/pods/${ns}_${pod}_$uid/$ctr/0.log" "$OUT/log-layout.txt" &&
            ok "$SCN: $pod: the kubelet's log layout (/var/log/containers -> /var/log/pods)" ||
            not_ok "$SCN: $pod: the kubelet's log layout" "$(cat "$OUT/log-layout.txt")"
        if [ "$NODE_CG" = v2 ]; then
            expect_eq "$SCN: $pod: memory.oom.group as the kubelet writes it on v2" 1 "$(fact "oomgroup_$pod")"
        fi
    done <"$OUT/pods.txt"
    expect_eq "$SCN: container limits (memory.max / limit_in_bytes)" "100663296 268435456 max" \
        "$(fact max_api) $(fact max_web) $(fact max_batch | sed 's/^9223372036854771712$/max/')"
    expect_eq "$SCN: the Guaranteed pod's badness is negative (5.9+: signed)" true \
        "$(jq --argjson p "$(awk '$1 == "api" { print $7 }' "$OUT/pods.txt")" '.processes[] | select(.pid == $p) | .badness < 0' "$f")"
}
