# ps oracle on 6.1 + cgroup v2 (host side; the guest side is guest.sh).
# The kernel is the oracle: every oom_score_model must equal /proc/PID/oom_score exactly. 6.1
# predates the per-CPU RSS counters (6.2), so /proc/PID/status, /proc/PID/stat and oom_badness()
# all read the same counters, and there is no slack to excuse a difference.
VM_MEM=512
VM_TIMEOUT=240

# the designed kill order of the hogs (see guest.sh): neither the size order nor the adj order
PS_ORACLE_ORDER="ow-max ow-pos ow-big ow-shm ow-neg1 ow-neg500 ow-neg997 ow-neg999"

check_scenario() {
    local n=ps-oracle f i row name pid want got

    for i in 1 2 3; do json_ok "$n: ps --json snapshot $i is JSON" "$OUT/ps-$i.json"; done
    f=$OUT/ps-1.json
    expect_eq "$n: kernel_release is the VM's 6.1" 6.1 "$(jq -r '.kernel_release | split(".")[0:2] | join(".")' "$f")"
    expect_eq "$n: badness_formula is 6.1's (5.9+ signed)" "signed pages (5.9+)" "$(jq -r .badness_formula "$f")"
    expect_eq "$n: rss_source is 6.1's (stat = status before 6.2)" stat "$(jq -r .rss_source "$f")"
    expect_eq "$n: counter_error_pages is 0 before 6.2" 0 "$(jq -r .counter_error_pages "$f")"
    expect_eq "$n: totalpages = MemTotal pages (no swap in the VM)" \
        "$(jq .totalram_pages "$f") 0" "$(jq -r '"\(.totalpages) \(.total_swap_pages)"' "$f")"

    # every process, in every snapshot: exact
    for i in 1 2 3; do
        f=$OUT/ps-$i.json
        local scored unscored wrong
        scored=$(jq '[.processes[] | select(.oom_score_model != null)] | length' "$f")
        unscored=$(ps_unscored "$f")
        wrong=$(ps_model_wrong "$f")
        expect_eq "$n: snapshot $i: every user process is scored" "" "$unscored"
        expect_eq "$n: snapshot $i: oom_score_model == kernel oom_score for all $scored processes" "" "$wrong"
    done

    f=$OUT/ps-1.json
    # the hogs one by one: present, adj as set, and what the kernel said
    local summary=""
    for name in $PS_ORACLE_ORDER ow-min; do
        row=$(jq -c --arg c "$name" '.processes[] | select(.comm == $c)' "$f")
        [ -n "$row" ] || { not_ok "$n: $name is listed"; continue; }
        summary="$summary $name=$(jq -r '"\(.oom_score)/\(.oom_score_model)"' <<<"$row")"
    done
    echo "# $n: kernel/model oom_score:$summary"
    expect_eq "$n: negative adj set inside the VM (CAP_SYS_RESOURCE)" "-1 -500 -997 -999 -1000" \
        "$(jq -r '[.processes[] | select(.comm | test("^ow-neg|^ow-min$"))] | sort_by(-.oom_score_adj) | map(.oom_score_adj) | join(" ")' "$f")"
    expect_eq "$n: ow-min (-1000) is never a victim: ineligible, rank null, kernel oom_score 0" \
        "false null 0 0" "$(jq -r '.processes[] | select(.comm == "ow-min") | "\(.eligible) \(.rank) \(.oom_score) \(.oom_score_model)"' "$f")"
    expect_eq "$n: ow-neg999 (-999) is still eligible (only -1000 exempts)" true \
        "$(jq -r '.processes[] | select(.comm == "ow-neg999") | .eligible' "$f")"
    expect_eq "$n: ow-neg997 badness is negative (5.9+: signed, no floor of 1)" true \
        "$(jq -r '.processes[] | select(.comm == "ow-neg997") | .badness < 0' "$f")"

    # ranking: the designed order, and never against the kernel's own scores
    expect_eq "$n: ps ranks the hogs in the designed order" "$PS_ORACLE_ORDER" \
        "$(jq -r --arg o "$PS_ORACLE_ORDER" '($o | split(" ")) as $h | [.processes[] | select(.comm as $c | $h | index($c)) | .comm] | join(" ")' "$f")"
    expect_eq "$n: ranked list never contradicts the kernel's oom_score (non-increasing)" "" \
        "$(jq -r '[.processes[] | select(.eligible)] | . as $p | range(1; length) | select($p[.].oom_score > $p[. - 1].oom_score) | "\($p[. - 1].pid)(\($p[. - 1].oom_score)) before \($p[.].pid)(\($p[.].oom_score))"' "$f")"
    expect_eq "$n: eligible processes ranked 1..N, the rest never" true \
        "$(jq '[.processes[] | select(.eligible) | .rank] == [range(1; 1 + ([.processes[] | select(.eligible)] | length))] and ([.processes[] | select(.eligible | not) | .rank] | all(. == null))' "$f")"

    # cgroup v2 paths: ps's cgroup == the designed path == the kernel's /proc/PID/cgroup "0::" line
    local bad=""
    while read -r name pid want; do
        [ "$name" = grow ] && continue
        got=$(jq -r --argjson p "$pid" '.processes[] | select(.pid == $p) | "\(.cgroup) \(.cgroup_unified)"' "$f")
        [ "$got" = "$want $want" ] || bad="$bad $name: ps=$got designed=$want;"
        [ "$(fact "cgroup_$name")" = "0::$want" ] || bad="$bad $name: kernel=$(fact "cgroup_$name");"
    done <"$OUT/hogs.txt"
    expect_eq "$n: cgroup and cgroup_unified are the v2 paths the kernel shows (0::/oracle.slice/...)" "" "$bad"
    expect_eq "$n: --cgroup-prefix /oracle.slice lists exactly the 9 hogs" \
        "$(tr ' ' '\n' <<<"$PS_ORACLE_ORDER ow-min" | sort | xargs)" \
        "$(jq -r '.processes[].comm' "$OUT/ps-prefix.json" | sort | xargs)"

    # memory as the kernel counts it
    expect_eq "$n: a MAP_SHARED tmpfs file counts as rss_shmem (>= 24 MiB)" true \
        "$(jq '.processes[] | select(.comm == "ow-shm") | .rss_shmem >= 24 * 1048576' "$f")"
    # 6.1 (SPLIT_RSS_COUNTING, gone in 6.2): each thread keeps its last page faults' counts to
    # itself until its 65th fault since the last sync, so a sleeping process's counters stay up
    # to 65 pages short of what it touched, in status, stat, oom_score and the OOM report alike.
    local big_anon
    big_anon=$(jq '.processes[] | select(.comm == "ow-big") | .rss_anon' "$f")
    if [ "$big_anon" -ge $((80 * 1048576 - 65 * 4096)) ] && [ "$big_anon" -lt $((82 * 1048576)) ]; then
        ok "$n: ow-big's 80 MiB are rss_anon, less at most 65 unsynced faults ($(((80 * 1048576 - big_anon) / 4096)) pages short)"
    else
        not_ok "$n: ow-big's 80 MiB are rss_anon (80 MiB - 65 pages .. 82 MiB)" "$big_anon"
    fi

    # a growing process frozen at each sample
    local samples wrong_g
    samples=$(jq -s 'length' "$OUT/grow.json" 2>/dev/null || echo 0)
    wrong_g=$(jq -rs '.[] | .processes[0] | select(.oom_score_model != .oom_score) | "rss=\(.rss) kernel=\(.oom_score) model=\(.oom_score_model)"' "$OUT/grow.json" 2>/dev/null)
    local span
    span=$(jq -rs '[.[] | .processes[0].oom_score] | "\(min)..\(max)"' "$OUT/grow.json" 2>/dev/null)
    if [ "$samples" -ge 30 ] && [ -z "$wrong_g" ]; then
        ok "$n: growing process: model == kernel at all $samples frozen sizes (oom_score $span)"
    else
        not_ok "$n: growing process: model == kernel at every frozen size" "$samples samples; $wrong_g"
    fi
}
