# The guard's cgroup headroom trigger on cgroup v2 (6.1): a service cgroup with memory.max 64 MiB
# and no swap holds a 36 MiB "sidecar" (adj 0) and an app that grows from 1 MiB until something
# dies. At the limit the sidecar is the biggest: the kernel's memcg OOM kills it (baseline). With
# `oomwarden agent` guarding /work.slice/* (machine-wide floor off) and a rule that protects the
# sidecar (and sets its oom_score_adj to -500 for the kernel's sake), the guard must kill the app
# before the kernel's OOM killer runs, every time at 32 MiB/s. As fast as the app can fault
# (hundreds of MiB/s, 3.2 MiB of headroom), a 10 ms poll cannot always see it in time: there the
# runs record who won, and the sidecar must live either way (the kernel's kill goes to the app).
RUNS=${RUNS:-5}
C=/work.slice/app.service
cg_make "$C" || fail "cgroup $C"
echo $((64 * 1024 * 1024)) >"$CG$C/memory.max" || fail "memory.max"
echo 0 >"$CG$C/memory.swap.max" 2>/dev/null
fact cgroup "$C"

# start_pair RUN GROWTH...: the sidecar and the app (held before its growth by /run/go.RUN)
start_pair() {
    _run=$1
    shift
    start_hog "sidecar.$_run" "$C" --name ow-sidecar --anon 36 --adj 0 || fail "sidecar"
    SIDECAR=$HOG_PID
    start_hog "app.$_run" "$C" --name ow-app --anon 1 --adj 0 "$@" --chunk 1 --go "/run/go.$_run" ||
        fail "app"
    APP=$HOG_PID
}
stop_pair() {
    kill -9 "$SIDECAR" "$APP" 2>/dev/null
    wait_gone "$SIDECAR" 10
    wait_gone "$APP" 10
}
oom_kills() { events_of oom_kill; }
events_of() { awk -v k="$1" '$1 == k { print $2 }' "$CG$C/memory.events"; }

# ---- baseline: the kernel alone kills the sidecar ----------------------------------------------
start_pair baseline --grow 32
k0=$(oom_kills)
touch /run/go.baseline
wait_gone "$SIDECAR" 60 || log "baseline: the sidecar is alive 60 s after the app started to grow"
fact baseline "sidecar_alive $(alive01 "$SIDECAR") oom_kills $(($(oom_kills) - k0))"
stop_pair

# ---- the guard ----------------------------------------------------------------------------------
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
cat >/run/guard.conf <<CONF
[agent]
listen = 127.0.0.1:10090
event-format = json
[guard]
enabled = yes
memory-floor = 0
cgroups = /work.slice/*
headroom = 5%
cooldown = 5s
[rule batch]
cgroup = /work.slice/batch.service
kill-unit = cgroup

[rule sidecar]
comm = ^ow-sidecar\$
guard = protect
oom-score-adj = -500
CONF
start_agent agent --config /run/guard.conf
: >"$OUT/runs.txt"
run=1
while [ $run -le $((2 * RUNS)) ]; do
    # odd runs at 32 MiB/s, even runs as fast as it can fault
    if [ $((run % 2)) = 1 ]; then growth="--grow 32"; else growth="--grow-fast"; fi
    start_pair "$run" $growth
    # the policy gives the new sidecar its -500 200-400 ms after its exec; the hog writes its own 0
    # just after exec (done before its ready file), and when that write came after the policy's,
    # the policy's second look puts -500 back 1 s after its match, or the next one at 5 s
    t=0
    while [ "$(cat /proc/$SIDECAR/oom_score_adj)" != -500 ] && [ $t -lt 100 ]; do
        t=$((t + 1))
        sleep 0.1
    done
    k0=$(oom_kills)
    touch "/run/go.$run"
    wait_gone "$APP" 60 || log "run $run: the app is alive 60 s after it started to grow"
    sleep 0.3
    sc=$(alive01 "$SIDECAR")
    echo "run $run growth ${growth#--} app $APP sidecar $SIDECAR sidecar_adj $(cat /proc/$SIDECAR/oom_score_adj 2>/dev/null) sidecar_alive $sc oom_kills $(($(oom_kills) - k0))" >>"$OUT/runs.txt"
    stop_pair
    # the episode is over when the usage is back under the line; the next run starts clean
    sleep 0.5
    run=$((run + 1))
done
# kill-unit = cgroup: a batch service of two workers (8 MiB each, one growing at 32 MiB/s) in a
# 48 MiB cgroup; the guard kills the whole cgroup (cgroup.kill: nothing in it is spared)
B=/work.slice/batch.service
cg_make "$B" || fail "cgroup $B"
echo $((48 * 1024 * 1024)) >"$CG$B/memory.max" || fail "memory.max $B"
echo 0 >"$CG$B/memory.swap.max" 2>/dev/null
start_hog worker-a "$B" --name ow-worker-a --anon 8 --adj 0 || fail "worker-a"
WA=$HOG_PID
start_hog worker-b "$B" --name ow-worker-b --anon 8 --adj 0 --grow 32 --chunk 1 --go /run/go.batch || fail "worker-b"
WB=$HOG_PID
sleep 1.5 # the policy's scan sees them (kill-unit comes from the rules)
bk0=$(awk '$1 == "oom_kill" { print $2 }' "$CG$B/memory.events")
touch /run/go.batch
wait_gone "$WB" 60 || log "batch: worker-b is alive 60 s after it started to grow"
wait_gone "$WA" 5 || log "batch: worker-a outlived worker-b"
fact batch "worker_a $WA worker_b $WB alive $(alive "$WA" "$WB") oom_kills $(($(awk '$1 == "oom_kill" { print $2 }' "$CG$B/memory.events") - bk0)) procs $(wc -l <"$CG$B/cgroup.procs")"
fact agent_alive "$(kill -0 "$AGENT" 2>/dev/null && echo 1 || echo 0)"
wget -q -O "$OUT/metrics.txt" http://127.0.0.1:10090/metrics 2>/dev/null || log "no /metrics"
kill "$AGENT"
wait_gone "$AGENT" 10

# ---- PSI: a cgroup throttled far under its limit, stalling for good -----------------------------
# memory.high 16 MiB, memory.max 256 MiB: over high the kernel makes the grower sleep (up to 2 s
# per charge batch), which PSI counts as memory stall; it never comes near max, so only the PSI
# trigger (psi-cgroups, psi-kill-after 2 s) can end it
T=/work.slice/throttled.service
cg_make "$T" || fail "cgroup $T"
echo $((256 * 1024 * 1024)) >"$CG$T/memory.max" || fail "memory.max $T"
echo $((16 * 1024 * 1024)) >"$CG$T/memory.high" || fail "memory.high $T"
echo 0 >"$CG$T/memory.swap.max" 2>/dev/null
cat >/run/psi.conf <<CONF
[agent]
listen = 127.0.0.1:10091
event-format = json
kmsg = no
[guard]
enabled = yes
memory-floor = 0
cgroups = /none
psi = some 100ms 1s
psi-cgroups = $T
psi-kill-after = 2s
CONF
start_agent agent-psi --config /run/psi.conf
start_hog throttled "$T" --name ow-throttled --anon 8 --adj 0 --grow 8 --chunk 1 --go /run/go.psi || fail "throttled"
TP=$HOG_PID
k0=$(awk '$1 == "oom_kill" { print $2 }' "$CG$T/memory.events")
g0=$(up)
touch /run/go.psi
wait_gone "$TP" 60 || log "psi: the throttled grower is alive 60 s after it started"
g1=$(up)
sleep 0.3
fact psi "pid $TP alive $(alive01 "$TP") oom_kills $(($(awk '$1 == "oom_kill" { print $2 }' "$CG$T/memory.events") - k0)) high $(awk '$1 == "high" { print $2 }' "$CG$T/memory.events") seconds $g0 $g1"
kill "$AGENT"
wait_gone "$AGENT" 10
log "done"
