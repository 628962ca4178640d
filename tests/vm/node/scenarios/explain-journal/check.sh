# explain-journal on the real node (host side): the kernel's own kill lines (dmesg, kernel.log)
# are the answer; every form journald and the remote receivers printed the same OOMs in must
# give explain the same victims, field for field, with the kernel's uptime where the form keeps
# it and a wall-clock time where it prints one. The readings are made here, by the oomwarden
# under test, from the files the guest saved (a later oomwarden can be checked against the same
# real output without a boot: OUT=... and check_scenario).
VM_MEM=1024
VM_TIMEOUT=480
# the sender's and the receiver's NICs (node_boot): netconsole needs a device netpoll takes
NODE_HUB_NICS=1

# the forms that keep the kernel's own stamp (_SOURCE_MONOTONIC_TIMESTAMP, or the printed
# [seconds] of short-monotonic)
EJ_UPTIME_FORMS="short-monotonic short-delta verbose export json json-pretty json-seq json-sse"
# the forms that show a message that is not printable UTF-8 as "[57B blob data]" (without --all):
# round 2's kill line is not in them (-o cat prints the bytes as they are)
EJ_BLOB_FORMS="short short-precise short-iso short-iso-precise short-full short-monotonic short-unix
    short-delta with-unit verbose"
# the forms that print a wall-clock time
EJ_WALL_FORMS="short short-precise short-iso short-iso-precise short-full short-unix with-unit
    short-precise-all"

# ej_victims FILE: "pid comm total_vm anon file shmem uid pgtables adj" of every victim
ej_victims() {
    jq -r '.events[].victims[] | [.pid, .comm, .total_vm_kb, .anon_rss_kb, .file_rss_kb,
        .shmem_rss_kb, .uid, .pgtables_kb, .oom_score_adj] | map(tostring) | join(" ")' "$1" 2>/dev/null
}

check_scenario() {
    local B=${VM_BIN:-$TOP/build/oomwarden} fmt f want got kills rounds p missing
    if [ "$NODE_CG" != v2 ]; then
        skip "$SCN: journal forms" "v2 cells only (the rounds' MemoryMax= and memory.oom.group)"
        return
    fi
    local w=$OUT/host
    mkdir -p "$w"
    # the kernel's kill lines, and the processes the rounds made die
    kills=$(sed -n 's/.*Killed process \([0-9]*\) .*/\1/p' "$OUT/kernel.log" | sort -un | xargs)
    rounds=$(echo "$(fact round1) $(fact round2) $(fact round3)" | xargs -n1 | sort -un | xargs)
    missing=$(for p in $rounds; do [[ " $kills " == *" $p "* ]] || echo "$p"; done | xargs)
    # round 3's member: on v1 nothing but us kills it. On v2 the kernel's memory.oom.group kill
    # races systemd: systemd 252 stops a scope as soon as memory.events counts an OOM kill in it
    # (scope_notify_cgroup_oom_event: SIGTERM to the rest, "Failed with result 'oom-kill'"; an
    # OOMPolicy= for scopes came in 253), and the kernel's group walk skips a process that has
    # already exited (css_task_iter_advance, signal->live == 0). Its walk yields between members
    # (cond_resched), so under TCG the member dies by either hand. Without a kill line it must
    # have died by systemd's, and the journal must say systemd stopped the scope for the kill.
    local member stopped
    member=$(fact round3 | cut -d' ' -f2)
    stopped=$(grep -c "ow-group.scope: Failed with result 'oom-kill'" "$OUT/journal.log" 2>/dev/null)
    if [[ " $missing " == *" $member "* ]] && { [ "$NODE_CG" != v2 ] || [ "${stopped:-0}" -gt 0 ]; }; then
        missing=$(for p in $missing; do [ "$p" = "$member" ] || echo "$p"; done | xargs)
        [ "$NODE_CG" = v2 ] && echo "# $SCN: round 3's member $member died by systemd's stop of ow-group.scope before the kernel's group kill reached it"
    fi
    expect_eq "$SCN: the kernel printed a kill line for every process the rounds made die" "" "$missing"
    expect_eq "$SCN: the guest's alive-after is empty (every hog died)" "" "$(fact alive_after)"
    "$B" explain --json "$OUT/kernel.log" >"$w/dmesg.json" 2>"$w/dmesg.err"
    want=$(ej_victims "$w/dmesg.json")
    expect_eq "$SCN: explain on dmesg names every kill line's pid" "$kills" \
        "$(jq -r '.events[].victims[].pid' "$w/dmesg.json" 2>/dev/null | sort -un | xargs)"
    echo "# $SCN: $(cat "$OUT/journalctl-version.txt" 2>/dev/null); kill lines: $kills"
    # round 2's comm is not UTF-8: journald keeps that kill line as bytes
    local blob=$(fact round2) want_text
    want_text=$(grep -v "^$blob " <<<"$want")
    expect_eq "$SCN: round 2's victim (comm not UTF-8) is among the kernel's kills" "$blob" \
        "$(grep -o "^$blob " <<<"$want" | xargs)"
    for fmt in short short-precise short-iso short-iso-precise short-full short-monotonic short-unix \
        short-delta with-unit cat verbose export json json-pretty json-seq json-sse short-precise-all; do
        f=$OUT/journal-$fmt.log
        [ -s "$f" ] || { not_ok "$SCN: journalctl -k -o $fmt wrote something"; continue; }
        "$B" explain --json "$f" >"$w/$fmt.json" 2>"$w/$fmt.err"
        got=$(ej_victims "$w/$fmt.json")
        if [[ " ${EJ_BLOB_FORMS//$'\n'/ } " == *" $fmt "* ]]; then
            expect_eq "$SCN: -o $fmt: every victim it shows, every field, as from dmesg" "$want_text" "$got"
            expect_eq "$SCN: -o $fmt: round 2's kill line is there as blob data only" "1" \
                "$(grep -c '\[[0-9.]*[BKMG] blob data\]' "$f" | awk '{ print ($1 > 0) }')"
        else
            expect_eq "$SCN: -o $fmt: every victim, every field, as from dmesg" "$want" "$got"
        fi
        if [[ " $EJ_UPTIME_FORMS " == *" $fmt "* ]]; then
            expect_eq "$SCN: -o $fmt: the kernel's uptime of every victim" \
                "$(jq -c --argjson b "$blob" '[.events[].victims[] | select(.pid != $b or $f) | .uptime_s]' --argjson f "$([[ " ${EJ_BLOB_FORMS//$'\n'/ } " == *" $fmt "* ]] && echo false || echo true)" "$w/dmesg.json")" \
                "$(jq -c '[.events[].victims[].uptime_s]' "$w/$fmt.json" 2>/dev/null)"
        fi
        if [[ " ${EJ_WALL_FORMS//$'\n'/ } $EJ_UPTIME_FORMS " == *" $fmt "* ]] &&
            [ "$fmt" != short-monotonic ] && [ "$fmt" != short-delta ]; then
            expect_eq "$SCN: -o $fmt: a wall-clock time on every victim" "" \
                "$(jq -r '.events[].victims[] | select(.time == null) | .pid' "$w/$fmt.json" 2>/dev/null | xargs)"
        fi
    done
    # the whole journal (userspace records between the kernel's) and a pipe of -o export
    "$B" explain --json "$OUT/journal-all-json.log" >"$w/all-json.json" 2>"$w/all-json.err"
    expect_eq "$SCN: the whole journal as JSON: the kernel's victims only" "$want" "$(ej_victims "$w/all-json.json")"
    "$B" explain --json - <"$OUT/journal-export.log" >"$w/export-pipe.json" 2>"$w/export-pipe.err"
    expect_eq "$SCN: -o export through a pipe" "$want" "$(ej_victims "$w/export-pipe.json")"
    # the guest's own reading of /dev/kmsg
    expect_eq "$SCN: explain on the guest's /dev/kmsg" "$want" "$(ej_victims "$OUT/explain-kmsg.json")"
    # remote receivers: every datagram as it came
    for n in syslog netconsole netconsole-ext; do
        f=$OUT/rx-$n.log
        [ -s "$f" ] || { not_ok "$SCN: the $n receiver got the kernel's log" "$(head -3 "$OUT/rx-$n.err" 2>/dev/null)"; continue; }
        "$B" explain --json "$f" >"$w/rx-$n.json" 2>"$w/rx-$n.err"
        expect_eq "$SCN: $n receiver: every victim, every field" "$want" "$(ej_victims "$w/rx-$n.json")"
    done
}
