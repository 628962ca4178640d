# memory.high back-pressure (host side; the guest side is guest.sh): over memory.high the kernel
# throttles and never kills; PSI and memory.events `high` show it, and so must `cgroup`.
VM_MEM=256
VM_TIMEOUT=180

# psi_total "some avg10=... total=N full avg10=... total=M" some|full: N or M (µs)
psi_total() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) if ($i == k) { for (j = i + 1; j <= NF; j++) if ($j ~ /^total=/) { sub(/^total=/, "", $j); print $j; exit } } }' <<<"$1"; }
psi_avg10() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) if ($i == k) { sub(/^avg10=/, "", $(i + 1)); print $(i + 1); exit } }' <<<"$1"; }

check_scenario() {
    local n=memory-high H before after cb=$OUT/cgroup-before.json ca=$OUT/cgroup-after.json cl=$OUT/cgroup-later.json
    H=$(fact cgroup)
    before=$(fact events_before) after=$(fact events_after)
    expect_eq "$n: memory.high 32 MiB below memory.max 64 MiB" "33554432 67108864" "$(fact memory_high) $(fact memory_max)"

    # the kernel's evidence: throttled, stalled, not killed
    expect_eq "$n: memory.events high 0 before" 0 "$(events_field "$before" high)"
    expect_eq "$n: memory.events high grew (reclaim/throttle at memory.high: $(events_field "$after" high))" true \
        "$([ "$(events_field "$after" high)" -gt 0 ] && echo true)"
    expect_eq "$n: no max, oom or oom_kill events (memory.events)" "0 0 0" \
        "$(events_field "$after" max) $(events_field "$after" oom) $(events_field "$after" oom_kill)"
    expect_eq "$n: no OOM kill anywhere: vmstat oom_kill 0 -> 0, no kill line, the allocator alive" "0 0 yes" \
        "$(fact oom_kill_after) $(kernel_kills | grep -c .) $(fact alive)"
    local cur
    cur=$(fact current_after)
    if [ "$cur" -gt "$(fact memory_high)" ] && [ "$cur" -lt "$(fact memory_max)" ]; then
        ok "$n: memory.current ($cur) stays above memory.high and below memory.max: high throttles, it does not cap"
    else
        not_ok "$n: memory.current between memory.high and memory.max" "$cur"
    fi
    local p0 p1 p2 s1 f1
    p0=$(fact pressure_before) p1=$(fact pressure_after) p2=$(fact pressure_later)
    s1=$(psi_total "$p1" some) f1=$(psi_total "$p1" full)
    expect_eq "$n: memory.pressure some/full totals 0 before" "0 0" "$(psi_total "$p0" some) $(psi_total "$p0" full)"
    if [ "${s1:-0}" -gt 0 ] && [ "${f1:-0}" -gt 0 ]; then
        ok "$n: memory.pressure totals grew: some ${s1} us, full ${f1} us (one task: stalled means all stalled)"
    else
        not_ok "$n: memory.pressure some and full totals grew" "$p1"
    fi
    expect_eq "$n: some avg10 > 0 once the 2 s averaging ran ($(psi_avg10 "$p2" some)%)" true \
        "$(awk -v a="$(psi_avg10 "$p2" some)" 'BEGIN { print (a > 0) ? "true" : "false" }')"
    echo "# $n: growth 24 -> 34 MiB at a nominal 4 MiB/s (2.5 s) took $(fact grow_seconds) s; high events $(events_field "$after" high); stall some ${s1} us, full ${f1} us; later: $p2"

    # oomwarden cgroup: the same numbers
    json_ok "$n: cgroup --json before is JSON" "$cb" && json_ok "$n: cgroup --json after is JSON" "$ca" &&
        json_ok "$n: cgroup --json 2.5 s later is JSON" "$cl" || return
    local EV='.cgroup.events | "low \(.low) high \(.high) max \(.max) oom \(.oom) oom_kill \(.oom_kill) oom_group_kill \(.oom_group_kill)"'
    expect_eq "$n: cgroup --json: high 32 MiB, max 64 MiB" "33554432 67108864" "$(jq -r '.cgroup | "\(.high) \(.max)"' "$ca")"
    expect_eq "$n: cgroup --json events before/after == memory.events" "$(xargs <<<"$before") | $(xargs <<<"$after")" \
        "$(jq -r "$EV" "$cb") | $(jq -r "$EV" "$ca")"
    expect_eq "$n: cgroup --json events_local high == memory.events.local" \
        "$(events_field "$(fact events_local_after)" high)" "$(jq -r '.cgroup.events_local.high' "$ca")"
    expect_eq "$n: cgroup --json current == memory.current" "$cur" "$(jq -r '.cgroup.current' "$ca")"
    expect_eq "$n: cgroup --json PSI totals == memory.pressure (some full, us)" "$s1 $f1" \
        "$(jq -r '.cgroup.psi | "\(.some.total_us) \(.full.total_us)"' "$ca")"
    expect_eq "$n: cgroup --json PSI is the cgroup's own file, non-zero after the averaging" \
        "$H true true" "$(jq -r '.cgroup.psi | "\(.source) \(.some.avg10 > 0) \(.full.total_us > 0)"' "$cl")"
    local got_avg
    got_avg=$(jq -r '.cgroup.psi | "\(.some.avg10) \(.full.avg10)"' "$cl" | awk '{ printf "%.2f %.2f", $1, $2 }')
    if [ "$got_avg" = "$(psi_avg10 "$p2" some) $(psi_avg10 "$p2" full)" ] ||
        [ "$got_avg" = "$(psi_avg10 "$(fact pressure_later2)" some) $(psi_avg10 "$(fact pressure_later2)" full)" ]; then
        ok "$n: cgroup --json avg10 (some full: $got_avg) == memory.pressure's, read just before or after"
    else
        not_ok "$n: cgroup --json avg10 == memory.pressure's" "oomwarden $got_avg; before: $p2; after: $(fact pressure_later2)"
    fi
    expect_eq "$n: cgroup --json observations: throttled at memory.high, no OOM" "1 0" \
        "$(jq -r '[.observations[] | select(test("throttled at memory.high"))] | length' "$ca") $(jq -r '[.observations[] | select(test("OOM kill"))] | length' "$ca")"
}
