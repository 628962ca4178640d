# oomwarden lab run on cgroup v2 (host side): the summary is the kernel's own account.
VM_MEM=256
VM_TIMEOUT=240

check_scenario() {
    local n=lab-run j=$OUT/lab-run.json pid cg line info polled u_kb l_kb
    expect_eq "$n: lab run exits 0 (the predicted eater was OOM-killed)" 0 "$(fact lab_rc)"
    json_ok "$n: --json is valid" "$j" || return
    pid=$(jq -r .kill.pid "$j") cg=$(jq -r .cgroup "$j")
    expect_eq "$n: cgroup v2, PSI from the cgroup itself" "2 cgroup" "$(jq -r '"\(.cgroup_version) \(.psi_source)"' "$j")"
    expect_eq "$n: predicted victim = the eater = the one killed" "$(jq -r '.eaters[0].pid' "$j") $pid" \
        "$(jq -r .prediction.victim_pid "$j") $(jq -r '.eaters[0].pid' "$j")"
    # the kernel's lines
    line=$(kernel_kill_line "$pid")
    expect_eq "$n: one 'Memory cgroup out of memory' kill of the eater in the log" 1 \
        "$(grep -c "Memory cgroup out of memory: Killed process $pid (ow-lab-eater)" "$OUT/kernel.log")"
    info=$(kernel_oomkill_info "$pid")
    expect_eq "$n: CONSTRAINT_MEMCG, oom_memcg = task_memcg = the lab's cgroup" "CONSTRAINT_MEMCG $cg $cg" \
        "$(kv constraint "$info") $(kv oom_memcg "$info") $(kv task_memcg "$info")"
    expect_eq "$n: the kernel killed nothing else (vmstat oom_kill +1... +2 with the plain run)" 2 \
        "$(($(fact vmstat_after) - $(fact vmstat_before) + 1))"
    u_kb=$(awk -v k="Killed process $pid (ow-lab-eater)" '/memory: usage/ { u = $0 } index($0, k) { print u; exit }' "$OUT/kernel.log" |
        sed -n 's/.*memory: usage \([0-9]*\)kB, limit \([0-9]*\)kB.*/\1 \2/p')
    expect_eq "$n: the report's limit is memory.max 48 MiB" 49152 "${u_kb#* }"
    expect_eq "$n: summary usage at the kill = the report's usage" "$((${u_kb%% *} * 1024))" "$(jq .summary.usage_at_kill "$j")"
    # memory.events, as polled in the guest while the cgroup lived
    polled=$(fact polled)
    expect_eq "$n: memory.max was 48 MiB" 50331648 "$(awk '{ print $2 }' <<<"$polled")"
    expect_eq "$n: events oom_kill 0 -> 1" "0 1" "$(jq -r '"\(.summary.events_before.oom_kill) \(.summary.events_after.oom_kill)"' "$j")"
    if [ "$(events_field "${polled#* * }" high)" -le "$(jq .summary.events_after.high "$j")" ] &&
        [ "$(events_field "${polled#* * }" high)" -gt 0 ]; then
        ok "$n: memory.events high counted the throttle (polled $(events_field "${polled#* * }" high) <= $(jq .summary.events_after.high "$j") after)"
    else
        not_ok "$n: memory.events high counted the throttle" "polled: $polled; after: $(jq -c .summary.events_after "$j")"
    fi
    check "$n: oom >= 1 and max >= 1 after" jq -e '.summary.events_after.oom >= 1 and .summary.events_after.max >= 1' "$j"
    # the kill's time: its stamp in the log minus the marker's
    local m k
    m=$(grep -F "oomwarden lab" "$OUT/kernel.log" | grep -F "eaters go in $cg" | head -1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
    k=$(sed -n "s/^\[ *\([0-9.]*\)\] Memory cgroup out of memory: Killed process $pid .*/\1/p" "$OUT/kernel.log")
    expect_eq "$n: kill seconds = the kill line's stamp - the marker's" \
        "$(awk -v a="$k" -v b="$m" 'BEGIN { printf "%.3f", a - b }')" "$(jq -r .kill.seconds "$j" | awk '{ printf "%.3f", $1 }')"
    # memory.high: the throttle, and PSI during it
    check "$n: it went above memory.high and spent time there before the kill" jq -e '
      .summary.high_first_seconds != null and .summary.throttled_seconds > 0.2
      and .summary.high_first_seconds < .kill.seconds' "$j"
    check "$n: it grew slower above high than below (throttled)" jq -e '
      .summary.growth_above_high < .summary.growth_below_high / 2' "$j"
    check "$n: the throttle's sleeps are memory stall: full stall rate >= 10% before the kill" jq -e '
      .summary.peak_full_rate >= 10 and .summary.stall_rate_crossed_seconds != null' "$j"
    echo "# $n: above high for $(jq .summary.throttled_seconds "$j") s (predicted $(jq .prediction.high_to_max_seconds "$j") s); full stall rate crossed 10% at $(jq .summary.stall_rate_crossed_seconds "$j") s, $(jq .summary.stall_rate_warning_seconds "$j") s before the kill; avg10 warning $(jq .summary.warning_seconds "$j") s"
    check "$n: the measured time above high is within a factor 2 of the kernel formula's" jq -e '
      .prediction.high_to_max_seconds as $p | .summary.throttled_seconds as $m
      | $p > 0 and $m < 2 * $p and $m > $p / 2' "$j"
    # the plot
    if command -v rsvg-convert >/dev/null; then
        check "$n: the SVG renders to a 900x560 PNG" bash -c 'rsvg-convert -o "$1.png" "$1" && file "$1.png" | grep -q "PNG image data, 900 x 560"' _ "$OUT/lab-run.svg"
    fi
    check "$n: the SVG shows memory.high and the kill" bash -c 'grep -q "memory.high 45 MiB" "$1" && grep -q "OOM kill: pid $2" "$1"' _ "$OUT/lab-run.svg" "$pid"
    # the others
    expect_eq "$n: a plain run (no high) exits 0" 0 "$(fact plain_rc)"
    check "$n: its summary names the kill as predicted" grep -q "as predicted" "$OUT/lab-run-plain.txt"
    expect_eq "$n: --kind mixed on tmpfs is refused" 1 "$(fact mixed_rc)"
    check "$n: and says why" grep -q "whose pages are shmem" "$OUT/lab-mixed.txt"
    expect_eq "$n: no lab cgroup and no eater left" " " "$(fact leftover) $(fact eaters_left)"
}
