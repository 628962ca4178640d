# node-global-oom (host side): the seed incident on a real node. What ps, status and doctor said
# before the growth is checked against the kernel's cascade; explain must name every kill with
# its systemd unit or pod and container, read from /dev/kmsg and from journalctl -k's text.
VM_MEM=1024
VM_TIMEOUT=600

# critical_comm COMM: doctor's default node-critical names (src/engine/doctor.c)
critical_comm() { [[ "$1" =~ ^(sshd|systemd-.*|dbus-daemon|dbus-broker.*|containerd|containerd-shim.*|chronyd|rsyslogd)$ ]]; }

check_scenario() {
    local b=$OUT/ps-before.json kills store tiny pid comm
    json_ok "$SCN: ps --json before the growth" "$b" || return
    # the kernel's kill lines, each pid once (the oom.group victim is logged twice)
    kills=$(kernel_kills | awk '!seen[$1]++')
    store=$(fact store_pid) tiny=$(fact tiny_pid)
    echo "# $SCN: the kernel killed, in order: $(xargs <<<"$kills") (cascade $(fact cascade_seconds) s)"
    # the kernel's kills of processes that existed before the growth, once each; a daemon that
    # systemd restarted during the cascade can be killed again under a pid ps could not know
    local known restarted predicted
    known=$(while read -r pid comm; do
        jq -e --argjson p "$pid" 'any(.processes[]; .pid == $p)' "$b" >/dev/null && echo "$pid $comm"
    done <<<"$kills")
    restarted=$(while read -r pid comm; do
        jq -e --argjson p "$pid" 'any(.processes[]; .pid == $p)' "$b" >/dev/null || echo "$comm($pid)"
    done <<<"$kills" | xargs)
    [ -n "$restarted" ] && echo "# $SCN: killed after systemd restarted them (new pids): $restarted"
    # ps's prediction: its ranking before the growth, of the processes that still lived at the
    # first OOM (in that report's task table; a udev worker exits when idle), with badness >= 0:
    # those die before a -997 pod whatever it holds below 99.7% of RAM; then the pod. Below 0
    # (journald -250, dbus -900, ...) a process goes before the pod only while the pod is small.
    local first_table predicted
    first_table=$(awk '/invoked oom-killer:/ { n++ } n == 1' "$OUT/kernel.log" | task_rows_of_stdin)
    predicted=$(jq -r --arg t " $first_table " '[.processes[] | select(.eligible and .badness >= 0)
        | " \(.pid) " as $p | select($t | contains($p))] | sort_by(.rank)[] | "\(.pid) \(.comm)"' "$b" | xargs)
    predicted="$predicted $store $(jq -r --argjson s "$store" '.processes[] | select(.pid == $s) | .comm' "$b")"
    # ps ranks a machine-wide OOM by the badness it will find: reclaim has unmapped the file
    # pages by then (file-rss:0kB in the daemons' kill lines), so anon + shmem + swap + page
    # tables + adj; the order must be the kernel's exactly
    expect_eq "$SCN: the kernel's cascade == ps's rank order before the growth (badness at the OOM >= 0, alive at the first OOM), then the -997 pod" \
        "$predicted" "$(xargs <<<"$known")"
    echo "# $SCN: file-rss in the kill lines (kB): $(grep -o 'Killed process [0-9]* ([^)]*)[^,]*, anon-rss:[0-9]*kB, file-rss:[0-9]*kB' "$OUT/kernel.log" | sed 's/Killed process \([0-9]*\) (\([^)]*\)).*file-rss:\([0-9]*\)kB/\1 \2=\3/' | awk '!seen[$1]++ { print $2 }' | xargs)"
    # the same order transcribed independently from ps's raw fields: anon + shmem + swap + page
    # tables + adj (no daemon here mlocks); a tie goes to the later task in the scan (fork order,
    # here pid order: 5.1+ oom_evaluate_task() replaces the chosen one on equal points)
    local unrecl
    unrecl=$(jq -r --arg p " $predicted " '(.totalpages / 1000 | floor) as $w | [.processes[]
        | " \(.pid) " as $k | select($p | contains($k))
        | {pid, comm, pts: (((.rss_anon + .rss_shmem + .swap) / 4096 | floor) + (.pgtables / 4096 | floor) + .oom_score_adj * $w)}]
        | sort_by(-.pts, -.pid) | .[] | "\(.pid) \(.comm)"' "$b" | xargs)
    expect_eq "$SCN: the kernel's cascade == ps's processes ordered by anon + shmem + swap + page tables + adj (what is left once reclaim took the file pages)" \
        "$unrecl" "$(xargs <<<"$known")"
    # journald (-250), dbus (-900), containerd (-999): ranked before the pod while it was small,
    # never the kernel's victims once it had grown. (A slow squeeze can still cost journald its
    # watchdog: systemd restarts it; that is not an OOM kill.)
    local spared=""
    for comm in systemd-journal dbus-daemon containerd; do
        grep -q " $comm\$" <<<"$kills" && spared="$spared $comm"
    done
    expect_eq "$SCN: the kernel killed none of journald (-250), dbus (-900), containerd (-999)" "" "${spared# }"
    echo "# $SCN: after the cascade (state, systemd restarts): journald $(fact unit_after_systemd-journald), dbus $(fact unit_after_dbus), containerd $(fact unit_after_containerd), sshd $(fact unit_after_ssh)"
    expect_eq "$SCN: the first kill is the tiny BestEffort pod (1000), the last the -997 pod" \
        "$tiny ... $store" "$(head -1 <<<"$kills" | cut -d' ' -f1) ... $(tail -1 <<<"$kills" | cut -d' ' -f1)"
    local bad=""
    while read -r pid comm; do
        local info
        info=$(kernel_oomkill_info "$pid")
        [ "$(kv constraint "$info")" = CONSTRAINT_NONE ] || bad="$bad $comm($pid): $(kv constraint "$info");"
        local want
        want=$(jq -r --argjson p "$pid" '.processes[] | select(.pid == $p) | .cgroup' "$b")
        [ -z "$want" ] || [ "$(kv task_memcg "$info")" = "$want" ] || bad="$bad $comm($pid): task_memcg $(kv task_memcg "$info"), ps $want;"
    done <<<"$kills"
    expect_eq "$SCN: every kill machine-wide (CONSTRAINT_NONE), task_memcg == ps's cgroup" "" "${bad# }"
    expect_eq "$SCN: vmstat oom_kill counted every kill line" "$(($(fact oom_kill_before) + $(kernel_kills | wc -l)))" "$(fact oom_kill_after)"

    # status before: its next machine-wide victims are the kernel's first kills, of those still
    # alive at the first OOM (as for ps: a udev worker status saw can exit when idle before it)
    if json_ok "$SCN: status --json before" "$OUT/status-before.json"; then
        local nv sv gone
        sv=$(jq -r --arg t " $first_table " '.global_victims[] | " \(.pid) " as $p
            | select($t | contains($p)) | "\(.pid) \(.comm)"' "$OUT/status-before.json" | xargs)
        gone=$(jq -r --arg t " $first_table " '.global_victims[] | " \(.pid) " as $p
            | select($t | contains($p) | not) | "\(.comm)(\(.pid))"' "$OUT/status-before.json" | xargs)
        [ -n "$gone" ] && echo "# $SCN: status named, but gone before the first OOM: $gone"
        nv=$(wc -w <<<"$sv")
        nv=$((nv / 2))
        [ "$nv" -ge 1 ] || sv="(none of status's victims was alive at the first OOM)"
        expect_eq "$SCN: status's next $nv machine-wide victims (alive at the first OOM) == the kernel's first $nv kills" \
            "$(head -"$nv" <<<"$kills" | xargs)" "$sv"
    fi

    # doctor before: the node-critical daemons die before the workload holding the memory
    if json_ok "$SCN: doctor --json before" "$OUT/doctor-before.json"; then
        local crit_kernel crit_doctor
        crit_kernel=$(while read -r pid comm; do
            [ "$pid" = "$store" ] && break
            critical_comm "$comm" && echo "$pid $comm"
        done <<<"$known" | xargs)
        [ -n "$crit_kernel" ] || crit_kernel="(the kernel killed no node-critical process: the scenario's premise failed)"
        crit_doctor=$(jq -r '.findings[] | select(.id == "kill-order") | .data.critical_before_workload[]? | "\(.pid) \(.comm)"' "$OUT/doctor-before.json" | xargs)
        expect_eq "$SCN: doctor's kill-order finding is critical (exit 2) though a tiny pod ranks first" \
            "critical 2" "$(jq -r '[.findings[] | select(.id == "kill-order") | .severity][0]' "$OUT/doctor-before.json") $(fact doctor_exit)"
        expect_eq "$SCN: doctor's node-critical processes before the memory's holder == the kernel's kills of them, in order" \
            "$crit_kernel" "$crit_doctor"
        # kubepods.slice at all of RAM, as the seed's node had it: a warning
        expect_eq "$SCN: doctor's limits finding is a warning (kubepods.slice limited to all of RAM)" \
            warning "$(jq -r '[.findings[] | select(.id == "limits") | .severity][0]' "$OUT/doctor-before.json")"
    fi

    # explain names each kill with its unit or pod/container, from /dev/kmsg and from journalctl -k
    local src f
    "${OOMWARDEN:-$TOP/build/oomwarden}" explain --json "$OUT/journal-k.log" >"$OUT/explain-journal.json" 2>"$OUT/explain-journal.err"
    for src in kmsg journal; do
        f=$OUT/explain-$src.json
        json_ok "$SCN: explain --json ($src)" "$f" || continue
        local got want=""
        got=$(jq -r '.events[] | .victims[0] as $v | "\($v.pid)=\(if .identity.pod_uid then "pod:\(.identity.pod_uid)/\(.identity.container_id[0:12])" else "unit:\(.identity.systemd_unit)" end)"' "$f" | xargs)
        while read -r pid comm; do
            local unit
            unit=$(awk -v p="$pid" '$1 == p { print $2 }' "$OUT/units-before.txt")
            # a daemon restarted during the cascade: its unit is the one its name had before
            [ -n "$unit" ] || unit=$(awk -v p="$(jq --arg c "$comm" '[.processes[] | select(.comm == $c) | .pid][0]' "$b")" \
                '$1 == p { print $2 }' "$OUT/units-before.txt")
            if row=$(grep -m1 " $pid " "$OUT/pods.txt"); then
                want="$want $pid=pod:$(awk '{ print $3 "/" substr($6, 1, 12) }' <<<"$row")"
            else
                want="$want $pid=unit:${unit:-?}"
            fi
        done <<<"$kills"
        expect_eq "$SCN: explain ($src): one event per kill, each named with its systemd unit or pod/container" "${want# }" "$got"
    done
    expect_eq "$SCN: the two readings (kmsg, journalctl -k) agree on every event" \
        "$(explain_facts "$OUT/explain-kmsg.json")" "$(explain_facts "$OUT/explain-journal.json")"
}

# task_rows_of_stdin: the pids of an OOM report's task table read from stdin (one line, spaces)
task_rows_of_stdin() {
    sed -n 's/^\[ *[0-9.]*\] \[ *\([0-9]*\)\] .*/\1/p' | xargs
}
