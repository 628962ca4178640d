# The node-crash scenario three times over, in one boot (tests/vm/scenarios/global-oom has the
# machine and its arithmetic: five adj-0 "daemons" in /system.slice/*.service, a -997 Guaranteed
# pod in a Kubernetes-shaped cgroup growing 1 MiB at a time until something dies):
#
#   1. baseline, nothing but the kernel: it kills the daemons one by one, the pod last;
#   2. `oomwarden agent` with deploy/examples/kubernetes-node.conf as shipped, GUARD_RUNS times:
#      the policy raises the new pod's oom_score_adj to 900, the guard kills the pod at the
#      memory floor, every daemon lives, the kernel's OOM killer never runs;
#   3. Debian's earlyoom with its defaults (when the VM has it): what it kills.
#
# This shell, oomwarden, earlyoom and the busybox helpers run at init's -1000.
GUARD_RUNS=${GUARD_RUNS:-20}
SYS=/system.slice
DAEMONS="sshd:20 systemd-networkd:16 rngd:12 systemd-homed:8 agetty:4"
POD_UID=4f6c2a1e-8d3b-4c5f-9e7a-1b2c3d4e5f60
CTR_ID=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
POD=/kubepods.slice/kubepods-pod$(echo $POD_UID | tr - _).slice
CTR=$POD/cri-containerd-$CTR_ID.scope

for d in $DAEMONS; do
    cg_make "$SYS/${d%%:*}.service" || fail "cgroup $SYS/${d%%:*}.service"
done
cg_make "$CTR" || fail "cgroup $CTR"
fact pod_cgroup "$CTR"
fact meminfo "$(awk '/^(MemTotal|MemAvailable|SwapTotal):/ { printf "%s %s ", $1, $2 }' /proc/meminfo)"

# start_node RUN: the five daemons and the pod (held before its growth by /run/go.RUN); sets
# DPIDS and POD_PID
start_node() {
    DPIDS=""
    for d in $DAEMONS; do
        name=${d%%:*} mb=${d##*:}
        start_hog "$name" "$SYS/$name.service" --name "$name" --anon "$mb" --adj 0 || fail "daemon $name"
        DPIDS="$DPIDS $HOG_PID"
    done
    # the kubelet gives a Guaranteed pod -997, from its first instruction
    start_hog pod "$CTR" --name pod-hog --anon 1 --adj -997 --grow-fast --chunk 1 --go "/run/go.$1" ||
        fail "pod hog"
    POD_PID=$HOG_PID
}

stop_node() {
    for _p in $DPIDS $POD_PID; do kill -9 "$_p" 2>/dev/null; done
    for _p in $DPIDS $POD_PID; do wait_gone "$_p" 10; done
}

# ---- 1. baseline: the kernel alone ----------------------------------------------------------
echo "oomwarden-scenario: baseline start" >/dev/kmsg
start_node baseline
fact baseline_pids "$DPIDS $POD_PID"
k0=$(vmstat_oom_kill)
touch /run/go.baseline
wait_gone "$POD_PID" 120 || fail "baseline: the pod is alive 120 s after it started to grow"
fact baseline_oom_kills "$(($(vmstat_oom_kill) - k0))"
fact baseline_alive "$(alive $DPIDS)"
stop_node
echo "oomwarden-scenario: baseline end" >/dev/kmsg

# ---- 2. the agent with the Kubernetes example policy -------------------------------------------
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
CONF=/oomwarden/examples/kubernetes-node.conf
oomwarden agent --check-config --config "$CONF" >"$OUT/agent-check.txt" 2>&1 || fail "--check-config: $(cat "$OUT/agent-check.txt")"
# the example as shipped; only the listen address (there is no pod network here) and the event
# format (JSON lines for the host) differ
start_agent agent --config "$CONF" --listen 127.0.0.1:10090 --event-format json
fact agent_pid "$AGENT"
fact agent_self "$(awk '/^(VmLck|VmRSS):/ { printf "%s %s ", $1, $2 }' /proc/$AGENT/status) adj $(cat /proc/$AGENT/oom_score_adj)"

echo "oomwarden-scenario: guard start" >/dev/kmsg
: >"$OUT/runs.txt"
run=1
while [ $run -le "$GUARD_RUNS" ]; do
    start_node "$run"
    # the policy's reconciliation: a new pod process goes to 900 200-400 ms after its exec; the hog
    # writes its own -997 just after exec (done before its ready file), and when that write came
    # after the policy's, the policy's second look puts 900 back 1 s after its match (or at 5 s)
    t=0
    while [ "$(cat /proc/$POD_PID/oom_score_adj)" != 900 ] && [ $t -lt 100 ]; do
        t=$((t + 1))
        sleep 0.1
    done
    adj=$(cat /proc/$POD_PID/oom_score_adj)
    dadj=$(for p in $DPIDS; do cat /proc/$p/oom_score_adj; done | xargs)
    k0=$(vmstat_oom_kill)
    g0=$(up)
    touch "/run/go.$run"
    wait_gone "$POD_PID" 60 || log "run $run: the pod is alive 60 s after it started to grow"
    g1=$(up)
    # the agent logs the kill after the victim's exit: give it a moment to write the line
    sleep 0.3
    k1=$(vmstat_oom_kill)
    echo "run $run pod $POD_PID daemons [$DPIDS ] alive [$(alive $DPIDS)] pod_adj $adj daemon_adj [$dadj] adj_wait_ds $t kernel_kills $((k1 - k0)) grow_s $g0 $g1" >>"$OUT/runs.txt"
    stop_node
    run=$((run + 1))
done
echo "oomwarden-scenario: guard end" >/dev/kmsg
fact agent_alive "$(alive $AGENT)"
fact agent_self_after "$(awk '/^(VmLck|VmRSS):/ { printf "%s %s ", $1, $2 }' /proc/$AGENT/status)"
wget -q -O "$OUT/metrics.txt" http://127.0.0.1:10090/metrics 2>/dev/null || log "no /metrics"
kill "$AGENT"
wait_gone "$AGENT" 10

# ---- 3. earlyoom, as Debian ships it ------------------------------------------------------------
if command -v earlyoom >/dev/null; then
    echo "oomwarden-scenario: earlyoom start" >/dev/kmsg
    earlyoom -r 0 >"$OUT/earlyoom.log" 2>&1 </dev/null &
    EO=$!
    sleep 1
    start_node earlyoom
    fact earlyoom_pids "$DPIDS $POD_PID"
    fact earlyoom_names "sshd systemd-network rngd systemd-homed agetty pod-hog"
    k0=$(vmstat_oom_kill)
    touch /run/go.earlyoom
    wait_gone "$POD_PID" 120 || log "earlyoom: the pod is alive 120 s after it started to grow"
    sleep 0.5
    fact earlyoom_oom_kills "$(($(vmstat_oom_kill) - k0))"
    fact earlyoom_alive "$(alive $DPIDS)"
    kill "$EO"
    stop_node
    echo "oomwarden-scenario: earlyoom end" >/dev/kmsg
    fact earlyoom_version "$(earlyoom -h 2>&1 | head -1)"
else
    fact earlyoom_version none
fi
log "done"
