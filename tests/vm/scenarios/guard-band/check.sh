# The guard band at fault speed (host side; guest.sh has the machine and the phases). With the
# band the guard must win every trial (the app killed by the guard, the protected sidecar alive,
# memory.events oom_kill unmoved) and put memory.high back when it stops; without it the count
# is recorded, not asserted (it is a race under an emulated CPU).
#   GUARD_BAND_RUNS=N       trials per phase (default 20)
#   GUARD_BAND_PHASES=...   off,band (default), manual: see guest.sh
VM_MEM=384
VM_TIMEOUT=$((120 + 2 * ${GUARD_BAND_RUNS:-20} * 15))
VM_APPEND="oomwarden.runs=${GUARD_BAND_RUNS:-20} oomwarden.phases=${GUARD_BAND_PHASES:-off,band}"

# guard_band_phase PHASE: "N WON KERNEL_KILLS SIDECAR_DEAD HIGH_EVENTS" over that phase's trials
# (won: the guard's kill of that trial's app, which exited, and no kernel OOM kill)
guard_band_phase() {
    local phase=$1 n=0 won=0 kk=0 dead=0 high=0 line app k gk
    while read -r line; do
        app=$(awk '{ print $6 }' <<<"$line")
        k=$(sed 's/.* oom_kills \([0-9]*\) .*/\1/' <<<"$line")
        gk=$(jq -r --argjson p "$app" 'select(.event == "guard_kill" and .pid == $p and .exited) | .pid' \
            "$OUT/agent-$phase.jsonl" | grep -c .)
        n=$((n + 1))
        kk=$((kk + k))
        [ "$gk" = 1 ] && [ "$k" = 0 ] && won=$((won + 1))
        [[ "$line" == *"sidecar_alive 0"* ]] && dead=$((dead + 1))
        high=$((high + $(sed 's/.* high \([0-9]*\) .*/\1/' <<<"$line")))
    done < <(awk -v p="$phase" '$1 == "run" && $4 == p' "$OUT/runs.txt")
    echo "$n $won $kk $dead $high"
}

check_scenario() {
    local n=guard-band runs=${GUARD_BAND_RUNS:-20} phase r
    local max=$((64 << 20)) target
    target=$(((max - max * 4 / 100) / 4096 * 4096))
    for phase in $(echo "${GUARD_BAND_PHASES:-off,band}" | tr ',' ' '); do
        read -r -a r < <(guard_band_phase "$phase")
        expect_eq "$n: $phase: $runs trials ran" "$runs" "${r[0]}"
        echo "# $n: $phase: the guard won ${r[1]} of ${r[0]} trials; kernel OOM kills ${r[2]}; sidecar killed in ${r[3]}; memory.events high +${r[4]}"
        expect_eq "$n: $phase: the agent lived through every trial" 1 "$(fact "agent_alive_$phase")"
        case $phase in
        band)
            expect_eq "$n: band: memory.high set 4% under memory.max (in pages) while the agent runs" \
                "$target" "$(fact high_during_band)"
            expect_eq "$n: band: the guard won every trial, the kernel's OOM killer never fired, the sidecar always lived" \
                "${r[0]} 0 0" "${r[1]} ${r[2]} ${r[3]}"
            expect_eq "$n: band: memory.high put back (max) when the agent stopped" max "$(fact high_after_band)"
            check "$n: band: a guard_band set event, then a restore" jq -e -s '
              [.[] | select(.event == "guard_band") | .action] == ["set", "restore"]' "$OUT/agent-band.jsonl"
            check "$n: band: the cgroup wakes the guard by memory.events (inotify), not polled" grep -q \
                "guard: 1 cgroup(s) wake the guard by the kernel's events (memory.events past memory.high), 0 polled" \
                "$OUT/agent-band.log"
            ;;
        off)
            expect_eq "$n: off: no band, memory.high untouched" "max max" \
                "$(fact high_during_off) $(fact high_after_off)"
            check "$n: off: without a memory.high the cgroup is polled, and the log says why" grep -q \
                "guard: 0 cgroup(s) wake the guard by the kernel's events (memory.events past memory.high), 1 polled: no memory.high under its limit" \
                "$OUT/agent-off.log"
            ;;
        manual)
            # memory.high set by hand 4% under: the agent leaves it (it is not its own)
            expect_eq "$n: manual: the agent did not touch a memory.high it did not set" \
                "$target $target" "$(fact high_during_manual) $(fact high_after_manual)"
            ;;
        esac
    done
}
