# The acceptance test of the guard (host side; guest.sh runs the three phases): the node-crash
# machine without oomwarden (the kernel kills the daemons first), with `agent` and the shipped
# Kubernetes example policy (the pod dies, every daemon lives, the kernel's OOM killer never
# fires: in every run), and with Debian's earlyoom (recorded for bench/guard).
VM_MEM=384
VM_TIMEOUT=600

# kills_between START END: the kernel's kill lines ("PID COMM") between two scenario markers
kills_between() {
    awk -v s="oomwarden-scenario: $1" -v e="oomwarden-scenario: $2" '
        index($0, s) { on = 1; next } index($0, e) { on = 0 }
        on && /Killed process/ { sub(/.*Killed process /, ""); sub(/ total-vm.*/, ""); gsub(/[()]/, ""); print }' \
        "$OUT/kernel.log"
}

check_scenario() {
    local n=guard-node
    # 1. baseline
    local base
    base=$(kills_between "baseline start" "baseline end" | awk '{ print $2 }' | xargs)
    expect_eq "$n: baseline: the kernel alone kills the five adj-0 daemons first, the -997 pod last" \
        "sshd systemd-network rngd systemd-homed agetty pod-hog" "$base"
    expect_eq "$n: baseline: 6 kernel OOM kills, no daemon left" "6 " "$(fact baseline_oom_kills) $(fact baseline_alive)"
    echo "# $n: baseline (kernel only): killed $base"

    # 2. the guard
    local runs=$OUT/runs.txt want=${GUARD_RUNS:-20}
    expect_eq "$n: guard: $want runs" "$want" "$(grep -c '^run ' "$runs" 2>/dev/null)"
    check "$n: the agent checked the shipped example config" grep -q "configuration OK" "$OUT/agent-check.txt"
    local bad="" line run pod daemons alive adj kk
    while read -r line; do
        run=$(awk '{ print $2 }' <<<"$line")
        pod=$(awk '{ print $4 }' <<<"$line")
        daemons=$(sed 's/.*daemons \[\([^]]*\)\].*/\1/' <<<"$line" | xargs)
        alive=$(sed 's/.*alive \[\([^]]*\)\].*/\1/' <<<"$line" | xargs)
        adj=$(sed 's/.*pod_adj \([-0-9]*\).*/\1/' <<<"$line")
        kk=$(sed 's/.*kernel_kills \([0-9]*\).*/\1/' <<<"$line")
        [ "$daemons" = "$alive" ] || bad="$bad run $run: daemons alive [$alive] of [$daemons];"
        [ "$kk" = 0 ] || bad="$bad run $run: $kk kernel OOM kills;"
        [ "$adj" = 900 ] || bad="$bad run $run: pod adj $adj, not 900;"
        # the guard's kill of this run: the pod, and nothing else
        local kills
        kills=$(jq -r 'select(.event == "guard_kill") | .pid' "$OUT/agent.jsonl" | grep -cx "$pod")
        [ "$kills" = 1 ] || bad="$bad run $run: the guard killed pod $pod $kills times;"
    done < <(grep '^run ' "$runs")
    expect_eq "$n: guard: in every run the pod died by the guard, all 5 daemons lived, no kernel OOM kill, the policy had set the pod to 900" "" "$bad"
    expect_eq "$n: guard: the guard killed only pods ($want kills, each a pod-hog)" \
        "$want pod-hog" "$(jq -r 'select(.event == "guard_kill") | .comm' "$OUT/agent.jsonl" | sort | uniq -c | xargs)"
    expect_eq "$n: guard: no kernel OOM kill line while the agent ran" "" "$(kills_between "guard start" "guard end")"
    expect_eq "$n: guard: every kill by reason memory_floor, the pod's exit confirmed" "$want" \
        "$(jq -r 'select(.event == "guard_kill" and .reason == "memory_floor" and .exited) | .pid' "$OUT/agent.jsonl" | grep -c .)"
    expect_eq "$n: guard: the daemons were never candidates (protected by policy)" "" \
        "$(jq -r 'select(.event == "guard_kill") | .table' "$OUT/agent.jsonl" | awk '$1 ~ /^[0-9]+$/ && $3 != "pod-hog"')"
    check "$n: oomwarden_guard_kills_total{reason=\"memory_floor\"} == $want" \
        grep -qx "oomwarden_guard_kills_total{reason=\"memory_floor\"} $want" "$OUT/metrics.txt"
    local self
    self=$(fact agent_self)
    [[ "$self" == *"adj -1000"* && "$self" != *"VmLck: 0 "* ]] &&
        ok "$n: the agent is at -1000 and mlocked ($self)" || not_ok "$n: the agent is at -1000 and mlocked" "$self"
    expect_eq "$n: the agent lived through every run" "$(fact agent_pid)" "$(fact agent_alive)"
    # trigger to kill, and kill to exit
    local t
    t=$(jq -r 'select(.event == "guard_kill") | "\(.trigger_to_signal_us) \(.signal_to_exit_us)"' "$OUT/agent.jsonl" |
        sort -n | awk '{ a[NR] = $1; b[NR] = $2; sa += $1; sb += $2 }
            END { if (NR) printf "trigger->SIGKILL min %.1f median %.1f max %.1f ms; SIGKILL->exit mean %.1f ms (n=%d)", a[1]/1000, a[int((NR+1)/2)]/1000, a[NR]/1000, sb/NR/1000, NR }')
    echo "# $n: guard: $t"
    fact guard_timing "$t" 2>/dev/null || true

    # 3. earlyoom (recorded, compared in bench/guard)
    if [ "$(fact earlyoom_version)" != none ]; then
        local eo
        eo=$(grep -o 'sending SIG[A-Z]* to process [0-9]* uid [0-9]* "[^"]*"' "$OUT/earlyoom.log" | awk '{ print $2, $NF }' | tr -d '"' | xargs)
        echo "# $n: earlyoom ($(fact earlyoom_version)): $eo; kernel OOM kills $(fact earlyoom_oom_kills); daemons alive: $(fact earlyoom_alive)"
        ok "$n: earlyoom ran (its kills are recorded for bench/guard)"
    else
        skip "$n: earlyoom" "no earlyoom for the VM (neither on the host nor downloadable: Debian package earlyoom)"
    fi
}
