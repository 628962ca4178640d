# memory.high back-pressure on cgroup v2: a cgroup whose memory.high is below its memory.max and
# one slow allocator that ends between the two. Over memory.high the kernel reclaims and then
# throttles the allocator on its way back to user space (mem_cgroup_handle_over_high()); it
# never kills. PSI counts the reclaim and the throttle sleep as memory stall, memory.events
# counts `high`; `oomwarden cgroup` must show all of it.
#
# The numbers (6.1, HZ 250, no swap, so reclaim finds nothing: anon cannot go anywhere and the
# binary's pages are initramfs tmpfs, charged to the root at unpack time):
#   memory.high 32 MiB, memory.max 64 MiB; ow-throttled touches 24 MiB, then grows 1 MiB at a time
#   at 4 MiB/s up to 34 MiB (~34.2 MiB charged with page tables and slab): 2 MiB over high, 30
#   MiB under max. calculate_high_delay(): each 64-page charge batch over high sleeps
#   64 * overage^2 seconds (overage = (usage - high) / high; the cap, 2 s, needs overage 18%,
#   and below 1.25% it does not sleep), so the last ~8 batches sleep 16..250 ms each, ~0.8 s
#   in all, plus the reclaim attempts before each sleep (16 retries). Memory stall of about a
#   second: deterministic in kind (high events, stall time, no OOM), not in the exact µs.
#   Nothing comes near memory.max: no `max` or `oom` events, no kill.

H=/oomwarden-lab.slice/throttle.scope
cg_make "$H" || fail "cgroup $H"
echo $((64 * 1024 * 1024)) >"$CG$H/memory.max" || fail "memory.max"
echo $((32 * 1024 * 1024)) >"$CG$H/memory.high" || fail "memory.high"
echo 0 >"$CG$H/memory.swap.max" 2>/dev/null
fact cgroup "$H"
fact memory_high "$(cat "$CG$H/memory.high")"
fact memory_max "$(cat "$CG$H/memory.max")"

start_hog throttled "$H" --name ow-throttled --anon 24 --adj 0 --grow 4 --chunk 1 --grow-to 34 \
    --go /run/go --grown /run/grown || fail "ow-throttled"
hog=$HOG_PID

fact oom_kill_before "$(vmstat_oom_kill)"
fact events_before "$(cg_events "$H")"
fact pressure_before "$(tr '\n' ' ' <"$CG$H/memory.pressure")"
oomwarden cgroup "$H" --json >"$OUT/cgroup-before.json" || fail "cgroup --json: exit $?"

log "ow-throttled grows from 24 to 34 MiB at 4 MiB/s over memory.high 32 MiB"
t0=$(up)
touch /run/go
i=0
while [ ! -f /run/grown ]; do
    kill -0 "$hog" 2>/dev/null || fail "ow-throttled ($hog) died while growing"
    i=$((i + 1))
    [ $i -gt 600 ] && fail "ow-throttled not grown after 60 s"
    sleep 0.1
done
fact grow_seconds "$(echo "$t0 $(up)" | awk '{ printf "%.2f", $2 - $1 }')"
log "ow-throttled has its 34 MiB"

fact events_after "$(cg_events "$H")"
fact events_local_after "$(tr '\n' ' ' <"$CG$H/memory.events.local")"
fact current_after "$(cat "$CG$H/memory.current")"
fact pressure_after "$(tr '\n' ' ' <"$CG$H/memory.pressure")"
oomwarden cgroup "$H" --json >"$OUT/cgroup-after.json" || fail "cgroup --json after: exit $?"
oomwarden cgroup "$H" >"$OUT/cgroup-after.txt" 2>&1
# PSI averages are recomputed on a fixed 2 s grid (a read recomputes them when that is due):
# after 2.5 s they include the stall. The two reads around oomwarden's bracket its averages (one
# grid step may fall between them, not two)
sleep 2.5
fact pressure_later "$(tr '\n' ' ' <"$CG$H/memory.pressure")"
oomwarden cgroup "$H" --json >"$OUT/cgroup-later.json" || fail "cgroup --json later: exit $?"
fact pressure_later2 "$(tr '\n' ' ' <"$CG$H/memory.pressure")"
oomwarden cgroup "$H" >"$OUT/cgroup-later.txt" 2>&1
fact alive "$(kill -0 "$hog" 2>/dev/null && echo yes)"
fact oom_kill_after "$(vmstat_oom_kill)"
kill "$hog"
log "done"
