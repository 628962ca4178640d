# `oomwarden watch` on cgroup v2 (the host has only v1 memory cgroups): memory.events through
# inotify on kernfs, per-cgroup PSI triggers, cgroups created after the watch started, the OOM
# kill from /dev/kmsg, and a clean SIGTERM.
#
#   /oomwarden-watch.slice/late.scope      made after watch started; memory.max 32 MiB; a hog
#                                          grows into it: one memcg OOM kill
#   /oomwarden-watch.slice/throttled.scope memory.high 12 MiB: a hog allocating 28 MiB is
#                                          throttled above it, so its tasks stall on memory
#                                          (PSI) and memory.events "high" counts (no OOM: no max)

S=/oomwarden-watch.slice
cg_make "$S/placeholder.scope" || fail "cgroup $S"
oomwarden watch --json --psi "some 50ms 1s" --cgroup "$S/*" --alert none \
    >"$OUT/watch.jsonl" 2>"$OUT/watch.err" &
watch=$!
fact watch_pid "$watch"
sleep 2

T=$S/throttled.scope
cg_make "$T" || fail "cgroup $T"
echo $((12 * 1024 * 1024)) >"$CG$T/memory.high" || fail "memory.high"
fact throttled "$T"
sleep 1 # the watch sees the new cgroup (inotify IN_CREATE) and registers its PSI trigger
start_hog slow "$T" --name ow-throttled --anon 1 --grow 8 --chunk 1 --grow-to 28 --adj 0 ||
    fail "ow-throttled"

L=$S/late.scope
cg_make "$L" || fail "cgroup $L"
echo $((32 * 1024 * 1024)) >"$CG$L/memory.max" || fail "memory.max"
echo 0 >"$CG$L/memory.swap.max" 2>/dev/null
fact late "$L"
sleep 1
start_hog victim "$L" --name ow-watch-oom --anon 1 --adj 0 --grow-fast --chunk 1 --go /run/go ||
    fail "ow-watch-oom"
victim=$HOG_PID
fact victim "$victim"
touch /run/go
wait_gone "$victim" 60 || log "victim still alive"
sleep 6 # let the throttled one stall and the watch report
fact events_late "$(cg_events "$L")"
fact events_throttled "$(cg_events "$T")"
fact pressure_throttled "$(tr '\n' ' ' <"$CG$T/memory.pressure")"
kill -TERM "$watch"
wait "$watch"
fact watch_rc "$?"
log "done"
