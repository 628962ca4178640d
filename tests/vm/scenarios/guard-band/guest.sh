# The guard at fault speed (cgroup v2, 6.1): a service cgroup with memory.max 64 MiB and no swap
# holds a 36 MiB sidecar that a rule protects (guard = protect; its oom_score_adj left at 0, so
# to the kernel it is the biggest) and an app that grows 8 MiB at a time with no pause, from
# 1 MiB until something dies. `oomwarden agent` guards /work.slice/*. Each phase is a run of the
# agent with one setting; each trial records who died and whether the kernel's OOM killer ran.
#   oomwarden.runs=N           trials per phase (default 20)
#   oomwarden.phases=a,b,...   off (no band), band (band = 4%), manual (memory.high set by hand
#                              4% under memory.max, the agent without a band)
arg() {
    _v=""
    for w in $(cat /proc/cmdline); do
        case "$w" in "oomwarden.$1="*) _v=${w#*=} ;; esac
    done
    echo "$_v"
}
RUNS=$(arg runs)
RUNS=${RUNS:-20}
PHASES=$(arg phases)
PHASES=${PHASES:-off,band}
C=/work.slice/app.service
cg_make "$C" || fail "cgroup $C"
MAX=$((64 * 1024 * 1024))
echo $MAX >"$CG$C/memory.max" || fail "memory.max"
echo 0 >"$CG$C/memory.swap.max" 2>/dev/null
fact cgroup "$C"
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

ev() { awk -v k="$1" '$1 == k { print $2 }' "$CG$C/memory.events"; }
: >"$OUT/runs.txt"
for phase in $(echo "$PHASES" | tr ',' ' '); do
    band=""
    [ "$phase" = band ] && band="band = 4%"
    cat >/run/guard-$phase.conf <<CONF
[agent]
listen = 127.0.0.1:10090
event-format = json
kmsg = no
[guard]
enabled = yes
memory-floor = 0
cgroups = /work.slice/*
cooldown = 2s
$band
[rule sidecar]
comm = ^ow-sidecar\$
guard = protect
CONF
    [ "$phase" = manual ] && echo $((MAX - MAX / 25)) >"$CG$C/memory.high"
    fact "high_before_$phase" "$(cat "$CG$C/memory.high")"
    start_agent "agent-$phase" --config "/run/guard-$phase.conf"
    # the guard looks at its cgroups every 2 s at most: it has seen this one by then
    sleep 2.5
    fact "high_during_$phase" "$(cat "$CG$C/memory.high")"
    run=1
    while [ $run -le "$RUNS" ]; do
        start_hog "sidecar.$phase.$run" "$C" --name ow-sidecar --anon 36 --adj 0 || fail "sidecar"
        SIDECAR=$HOG_PID
        start_hog "app.$phase.$run" "$C" --name ow-app --anon 1 --adj 0 --grow-fast --chunk 8 \
            --go "/run/go.$phase.$run" || fail "app"
        APP=$HOG_PID
        # settle: the usage the hogs' start left is seen at least once by a slow check
        sleep 1.2
        k0=$(ev oom_kill) h0=$(ev high) m0=$(ev max)
        t0=$(up)
        touch "/run/go.$phase.$run"
        wait_gone "$APP" 60 || log "$phase run $run: the app is alive 60 s after it started to grow"
        t1=$(up)
        sleep 0.3
        echo "run $run phase $phase app $APP sidecar $SIDECAR sidecar_alive $(alive01 "$SIDECAR") oom_kills $(($(ev oom_kill) - k0)) high $(($(ev high) - h0)) max $(($(ev max) - m0)) seconds $t0 $t1" >>"$OUT/runs.txt"
        kill -9 "$SIDECAR" "$APP" 2>/dev/null
        wait_gone "$SIDECAR" 10
        wait_gone "$APP" 10
        # the episode is over once the usage is back under the line: the next trial starts clean
        sleep 0.5
        run=$((run + 1))
    done
    fact "agent_alive_$phase" "$(kill -0 "$AGENT" 2>/dev/null && echo 1 || echo 0)"
    kill "$AGENT"
    wait_gone "$AGENT" 10
    fact "high_after_$phase" "$(cat "$CG$C/memory.high")"
    [ "$phase" = manual ] && echo max >"$CG$C/memory.high"
done
log "done"
