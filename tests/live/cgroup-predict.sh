#!/usr/bin/env bash
# The kernel is the oracle for `ps --cgroup`: in a scratch v1 memory cgroup with a small limit
# (swappiness 0, so totalpages is the limit alone), start 3-5 processes of different sizes and
# oom_score_adj, predict the victim, then push the cgroup over its limit with one more process and
# check that the process the kernel killed (its oom-kill line in the kernel log, and
# memory.oom_control's oom_kill going up by one) is the predicted one. Several layouts: the largest
# process, a small one that a raised oom_score_adj puts first, and the pusher itself.
set -u
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/live.sh"
require_root
require_v1_memory
command -v jq >/dev/null || skip_all "needs jq"
MiB=1048576

# layout NAME LIMIT_MB PUSHER_ADJ EXPECTED "NAME:ANON_MB:ADJ"...
# EXPECTED is what the arithmetic says (a hog's name or "pusher"); the test checks that the model
# predicts it and that the kernel kills it. The sizes leave >= 10 MiB between the first two.
layout() {
    local lname=$1 limit_mb=$2 padj=$3 expected=$4
    shift 4
    v1_cgroup "p-$lname" $((limit_mb * MiB)) || { not_ok "$lname: create scratch cgroup"; return; }
    local cg=$CG rel=$CG_REL spec name mb adj
    local -A pid_of=() name_of=()
    for spec in "$@"; do
        IFS=: read -r name mb adj <<<"$spec"
        start_hog "$cg" "$lname-$name" --name "ow-$lname-$name" --anon "$mb" --adj "$adj"
        pid_of[$name]=$HOG_PID name_of[$HOG_PID]=$name
    done
    # The pusher starts small and waits (--hold) until the prediction is made. It then grows to
    # 6 MiB past the room that is left, and stops: after the first kill (which frees at least
    # 45 MiB in every layout) its growth fits, so there is one OOM kill and no cascade.
    local room_mb=$(( ($(cat "$cg/memory.limit_in_bytes") - $(cat "$cg/memory.usage_in_bytes")) / MiB ))
    start_hog "$cg" "$lname-pusher" --name "ow-$lname-push" --anon 1 --adj "$padj" --hold \
        --grow 60 --chunk 2 --grow-to $((room_mb + 6))
    local pusher=$HOG_PID
    pid_of[pusher]=$pusher name_of[$pusher]=pusher

    local json predicted
    json=$("$BIN" ps --cgroup "$rel" --json)
    predicted=$(jq -r '.oom_domain.next_victim' <<<"$json")
    local T=$((limit_mb * MiB / 4096))
    expect_eq "$lname: totalpages is the limit in pages (swappiness 0, no swap counted)" \
        "$T memcg $rel" "$(jq -r '"\(.oom_domain.totalpages) \(.domain) \(.oom_domain.oom_cgroup)"' <<<"$json")"
    expect_eq "$lname: the model predicts $expected" "$expected" "${name_of[$predicted]:-?$predicted}"

    # Unless the pusher is the prediction, it must not be able to overtake it: even grown to fill
    # all the room the others leave, its points stay below the predicted victim's.
    if [ "$expected" != pusher ]; then
        local others pb room
        others=$(jq --argjson p "$pusher" '[.processes[] | select(.pid != $p) | .rss] | add' <<<"$json")
        pb=$(jq --argjson p "$predicted" '.processes[] | select(.pid == $p) | .badness' <<<"$json")
        room=$(((limit_mb * MiB - others) / 4096 + padj * (T / 1000)))
        if [ "$room" -lt "$pb" ]; then
            ok "$lname: the pusher can reach at most $room points, below the victim's $pb"
        else
            not_ok "$lname: the layout leaves the prediction to chance" "pusher up to $room, victim $pb"
        fi
    fi

    local kills_before marker
    kills_before=$(awk '$1=="oom_kill"{print $2}' "$cg/memory.oom_control")
    marker=$(kmsg_marker)
    kill -USR1 "$pusher"
    # wait for the first death in the cgroup (then stop the pusher all the same)
    local dead="" p
    for _ in $(seq 300); do
        for p in "${!name_of[@]}"; do
            kill -0 "$p" 2>/dev/null || { dead=$p; break; }
        done
        [ -n "$dead" ] && break
        sleep 0.02
    done
    [ "$dead" != "$pusher" ] && kill -STOP "$pusher" 2>/dev/null
    local killed_log=""
    for _ in $(seq 100); do
        # the oom-kill summary line of an OOM in OUR memcg (others force OOMs on this machine too)
        killed_log=$(dmesg | sed -n "/$marker/,\$p" | grep -o "oom-kill:.*oom_memcg=$rel,task_memcg=$rel,task=[^,]*,pid=[0-9]*" | head -1)
        [ -n "$killed_log" ] && break
        sleep 0.05
    done
    local killed_pid=${killed_log##*pid=}
    local kills_after
    kills_after=$(awk '$1=="oom_kill"{print $2}' "$cg/memory.oom_control")
    expect_eq "$lname: the kernel log's victim is the predicted $expected" \
        "${pid_of[$expected]}" "${killed_pid:-none}"
    expect_eq "$lname: and it is the process that died" "${pid_of[$expected]}" "${dead:-none}"
    expect_eq "$lname: memory.oom_control oom_kill went up by exactly one" \
        "$((kills_before + 1))" "$kills_after"
    if dmesg | sed -n "/$marker/,\$p" | grep -q "Memory cgroup out of memory: Killed process $killed_pid (ow-$lname-"; then
        ok "$lname: \"Memory cgroup out of memory: Killed process $killed_pid\""
    else
        not_ok "$lname: the Killed process line names the victim" "$(dmesg | sed -n "/$marker/,\$p" | grep -F "$rel" | head -5)"
    fi

    # tear this layout down before the next: kill everything, remove the cgroup
    for p in "${!name_of[@]}"; do kill -9 "$p" 2>/dev/null; done
    for p in "${!name_of[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    done
    for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
}

# Every victim holds at least 45 MiB: exit_mmap() hides a dying victim from the OOM killer
# (MMF_OOM_SKIP) before the pages it gathered last are freed, and a victim small enough to fit in
# one mmu_gather run (~38 MiB) stays fully charged in that window; the pusher's retries can then
# fail and a second process is killed (seen with a 10 MiB victim, see docs/kernel-notes.md).
#
# The largest wins when nobody raised oom_score_adj (the pusher stays smaller).
layout big 200 0 a a:100:0 b:30:0 c:50:0
# A raised adj outweighs size: 50 MiB + 300 x 76 pages (~90 MiB) beats 120 MiB.
layout adj 300 0 b a:120:0 b:50:300 c:60:0
# A process a third the size of another goes first at adj 700 (700 x 81 pages ~ 221 MiB); five
# processes.
layout small 320 0 b a:150:0 b:50:700 c:40:50 d:20:0
# The allocating process itself, when its adj is high enough: 600 x 51 pages before any growth.
layout pusher 200 600 pusher a:80:0 b:50:0
# Five processes of similar size: 50 MiB + 250 x 128 pages (~125 MiB) beats 100, 95 and 90 MiB.
layout five 500 0 d a:100:0 b:90:10 c:95:0 d:50:250

done_testing
