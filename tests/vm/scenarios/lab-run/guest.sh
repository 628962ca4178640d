# oomwarden lab run on cgroup v2 (6.1): memory.max 48 MiB with memory.high 45 MiB, an anonymous
# eater at 24 MiB/s. Below high it grows at the rate; above it the kernel throttles it
# (mem_cgroup_handle_over_high(): a sleep per 64 pages that grows with the square of the
# overage, which counts as memory stall in PSI) until it reaches memory.max and is OOM-killed.
# The host compares the lab's summary with the kernel log and memory.events as polled here.
# Plus a plain run without memory.high, --kind mixed refused on tmpfs, and nothing left behind.
fact vmstat_before "$(vmstat_oom_kill)"
# memory.events of the lab's cgroup, polled while it lives (the lab removes it at the end)
poll() {
    while :; do
        for d in /sys/fs/cgroup/oomwarden-lab-*; do
            # both files read whole before the line is kept: the lab removes the cgroup at the
            # end, maybe between the two reads
            m=$(cat "$d/memory.max" 2>/dev/null) && e=$(tr '\n' ' ' <"$d/memory.events" 2>/dev/null) &&
                [ -n "$m" ] && [ -n "$e" ] && echo "$d $m $e" >/run/poll.last
        done
        sleep 0.05
    done
}
poll &
poller=$!
oomwarden lab run --max 48M --high 45M --rate 24M/s --timeout 60s --json --svg "$OUT/lab-run.svg" \
    >"$OUT/lab-run.json" 2>"$OUT/lab-run.err"
fact lab_rc $?
kill $poller
fact polled "$(cat /run/poll.last 2>/dev/null)"
fact vmstat_after "$(vmstat_oom_kill)"
oomwarden lab run --max 32M --rate 32M/s >"$OUT/lab-run-plain.txt" 2>&1
fact plain_rc $?
oomwarden lab run --max 32M --kind mixed --file-dir /run >"$OUT/lab-mixed.txt" 2>&1
fact mixed_rc $?
fact leftover "$(ls -d /sys/fs/cgroup/oomwarden-lab-* 2>/dev/null | xargs)"
fact eaters_left "$(pidof ow-lab-eater 2>/dev/null)"
log "done"
