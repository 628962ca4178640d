# bench/thrash, the guest side (bash, on the node image; bench/thrash/run boots it): thrashing
# without swap in a cgroup, ended by whoever ends it. A cgroup with memory.max 64 MiB (the node has no swap) holds a reader that
# keeps re-reading a 32 MiB file it maps (from the root disk, ext4 on virtio: file-backed like
# program text and libraries) and a grower that starts at 24 MiB of anon and grows 4 MiB/s. From
# about 30 MiB of anon on, the file no longer fits beside it: its pages are dropped and read back
# over and over, every task of the cgroup waits (PSI full), and the cgroup is frozen until
# something is killed; the kernel's OOM killer comes only once the anon memory alone fills the
# limit (measured on 6.1 under TCG: PSI full peaks at 50-75% of a second as the squeeze begins,
# while active file pages are still being evicted, then sits at 20-30% with 25-60 MiB/s of
# refaults: the re-reads of pages that were not active before their eviction are not memory
# stall). Phases, in this order, each with a fresh cgroup and file:
#
#   kernel     nothing but the kernel
#   earlyoom   Debian's earlyoom with its defaults (`earlyoom -r 0`)
#   guard      `oomwarden agent` with the thrash trigger, until THRASH_RUNS runs have frozen
#              (PSI full >= 50% of a second; a run whose squeeze stays under that is no freeze
#              by this measure and is recorded as such), at most GUARD_MAX runs
#
# A phase without a kill is stopped by the scenario after PHASE_S seconds, saying so. A sampler outside the cgroup writes, every 100 ms, "ms full_total_us refault_file alive"
# into $OUT/samples-PHASE.txt (ms: CLOCK_REALTIME; alive: how many of the two still run);
# freeze.awk computes the freeze from it, the same way for every phase: from the first sample
# whose trailing second had PSI full >= 50% to the first sample with a process gone for good
# (and, beside it, from the first trailing second with 1 MiB/s of refaults: the squeeze's onset).
#
# This shell and the sampler run at -1000 (the harness's); the reader and the grower at 0.
MiB=1048576
THRASH_RUNS=${THRASH_RUNS:-3}
GUARD_MAX=${GUARD_MAX:-8}
PHASE_S=${PHASE_S:-40}
if [ "$NODE_CGROUP" != v2 ]; then
    log "cgroup $NODE_CGROUP: nothing to do (v2 only: memory.pressure per cgroup)"
    return 0 2>/dev/null || exit 0
fi
fact swap "$(awk '$1 == "SwapTotal:" { print $2 }' /proc/meminfo)"

# sampler CGDIR FILE PIDS...: the sampler's loop (no fork per sample but the sleep)
sampler() {
    local cg=$1 f=$2 t L k v rf p n st
    shift 2
    while :; do
        t=${EPOCHREALTIME/./}
        mapfile -t L <"$cg/memory.pressure" 2>/dev/null || break
        rf=""
        while read -r k v; do
            [ "$k" = workingset_refault_file ] && { rf=$v; break; }
        done <"$cg/memory.stat"
        # a read that came back without the counter (seen once on 6.1, mid-thrash): no sample
        # rather than a line with a field missing
        [ -n "$rf" ] && [ -n "${L[1]}" ] || { sleep 0.1; continue; }
        n=0
        for p in "$@"; do
            st=""
            { read -r st <"/proc/$p/stat"; } 2>/dev/null
            st=${st##*) }
            [ -n "$st" ] && [ "${st%% *}" != Z ] && n=$((n + 1))
        done
        echo "$((t / 1000)) ${L[1]##*total=} $rf $n" >>"$f"
        sleep 0.1
    done
}

# phase NAME SECONDS: one thrash in a fresh cgroup /owthrash-NAME; sets READER, GROWER, DIED
# ("reader", "grower", "both" or "none") and FROZE (1 when PSI full was >= 50% of a second)
phase() {
    local name=$1 secs=$2 cg=/owthrash-$1 file=/var/tmp/owthrash-$1.dat
    local d=$CG$cg
    cg_make "$cg" || fail "$name: cgroup"
    echo $((64 * MiB)) >"$d/memory.max"
    [ -f "$d/memory.swap.max" ] && echo 0 >"$d/memory.swap.max"
    rm -f "$file"
    start_hog "reader-$name" "$cg" --name ow-reader --adj 0 --map-file "$file" --map-mb 32 --rewalk ||
        fail "$name: reader"
    READER=$HOG_PID
    # the reader wrote its file through the mapping: written back now, so that reclaim can drop
    # its pages without waiting on writeback
    sync
    start_hog "grower-$name" "$cg" --name ow-grower --adj 0 --anon 24 --chunk 1 --grow 4 \
        --go "/run/go.$name" || fail "$name: grower"
    GROWER=$HOG_PID
    fact "${name}_pids" "$READER $GROWER"
    fact "${name}_events_before" "$(cg_events "$cg")"
    local k0 s0
    k0=$(vmstat_oom_kill)
    : >"$OUT/samples-$name.txt"
    sampler "$d" "$OUT/samples-$name.txt" "$READER" "$GROWER" &
    local smp=$!
    echo "oomwarden-scenario: $name go" >/dev/kmsg
    s0=$(up)
    touch "/run/go.$name"
    local i=0
    while [ -n "$(alive "$READER")" ] && [ -n "$(alive "$GROWER")" ] && [ $i -lt $((secs * 10)) ]; do
        i=$((i + 1))
        sleep 0.1
    done
    # a few samples after the kill
    sleep 0.5
    kill "$smp" 2>/dev/null
    wait "$smp" 2>/dev/null
    # frozen as the host measures it (freeze.awk, beside this script on the scenario disk)
    local cross
    read -r cross _ <<<"$(awk -f /oomwarden/freeze.awk "$OUT/samples-$name.txt")"
    FROZE=$([ "$cross" != 0 ] && echo 1 || echo 0)
    DIED=none
    [ -z "$(alive "$READER")" ] && DIED=reader
    [ -z "$(alive "$GROWER")" ] && { [ "$DIED" = reader ] && DIED=both || DIED=grower; }
    fact "${name}_died" "$DIED"
    fact "${name}_seconds" "$(awk -v a="$s0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')"
    fact "${name}_oom_kills" "$(($(vmstat_oom_kill) - k0))"
    fact "${name}_events_after" "$(cg_events "$cg")"
    echo "oomwarden-scenario: $name end" >/dev/kmsg
    [ "$DIED" = none ] && log "$name: nothing killed in $secs s; the scenario stops it"
    kill -9 "$READER" "$GROWER" 2>/dev/null
    wait_gone "$READER" 10
    wait_gone "$GROWER" 10
    rm -f "$file" "/run/go.$name"
    rmdir "$d" 2>/dev/null || log "$name: $cg not removed"
}

# ---- 1. the kernel alone ----------------------------------------------------------------------
# (QUICK=1, bench/thrash/run --quick: the guard alone)
[ "${QUICK:-0}" = 1 ] || phase kernel "$PHASE_S"

# ---- 2. earlyoom, as Debian ships it ----------------------------------------------------------
if [ "${QUICK:-0}" = 1 ]; then
    fact earlyoom_version skipped
elif command -v earlyoom >/dev/null; then
    fact earlyoom_version "$(earlyoom -h 2>&1 | head -1)"
    earlyoom -r 0 >"$OUT/earlyoom.log" 2>&1 </dev/null &
    EO=$!
    sleep 1
    phase earlyoom "$PHASE_S"
    fact earlyoom_alive "$(alive "$EO")"
    kill "$EO" 2>/dev/null
    wait_gone "$EO" 10
else
    fact earlyoom_version none
fi

# ---- 3. the guard with the thrash trigger -----------------------------------------------------
# headroom = 0: the headroom trigger (a working set near the limit and stalling) watches this
# cgroup too; at 0 it acts only when the working set is the limit itself (as the kernel's OOM
# killer would, a moment later), so that what ends a freeze is the thrash trigger (its defaults).
# A run it ends before any freeze is printed and not counted.
cat >/tmp/thrash.conf <<'CONF'
[agent]
listen = 127.0.0.1:10090
event-format = json
[guard]
enabled = yes
thrash = yes
headroom = 0
CONF
oomwarden agent --check-config --config /tmp/thrash.conf >"$OUT/agent-check.txt" 2>&1 ||
    fail "--check-config: $(cat "$OUT/agent-check.txt")"
start_agent agent --config /tmp/thrash.conf
fact agent_pid "$AGENT"
run=1 froze=0
while [ $froze -lt "$THRASH_RUNS" ] && [ $run -le "$GUARD_MAX" ]; do
    phase "guard$run" "$PHASE_S"
    froze=$((froze + FROZE))
    run=$((run + 1))
done
fact guard_runs "$((run - 1)) $froze"
fact agent_alive "$(alive "$AGENT")"
kill "$AGENT"
wait_gone "$AGENT" 10
log "done"
