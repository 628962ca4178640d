# Host-side helpers for the scenarios' check.sh (sourced by tests/vm/run after tap.sh).
# $OUT is the directory of the scenario's results: kernel.log (the guest's whole kernel log),
# scenario.log, facts.txt, hogs.txt and whatever the scenario saved.

# fact KEY: the value(s) of the first "KEY ..." line of facts.txt
fact() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$OUT/facts.txt" 2>/dev/null; }

# hog_pid NAME / hog_cgroup NAME: from hogs.txt ("NAME PID CGROUP" per hog the scenario started)
hog_pid() { awk -v n="$1" '$1 == n { print $2; exit }' "$OUT/hogs.txt" 2>/dev/null; }
hog_cgroup() { awk -v n="$1" '$1 == n { print $3; exit }' "$OUT/hogs.txt" 2>/dev/null; }

# kernel_kills: the kernel's own kill lines, in log order, as "PID COMM" (6.1 format:
# "<reason>: Killed process PID (COMM) total-vm:..."; reason "Out of memory" or
# "Memory cgroup out of memory")
kernel_kills() {
    sed -n 's/.*: Killed process \([0-9]*\) (\(.*\)) total-vm:.*/\1 \2/p' "$OUT/kernel.log"
}

# kernel_kill_line PID: the whole "Killed process" line for PID
kernel_kill_line() { grep -m1 ": Killed process $1 (" "$OUT/kernel.log"; }

# kernel_oomkill_info PID: the "oom-kill:constraint=...,task=...,pid=PID,uid=..." line for PID
kernel_oomkill_info() { grep -m1 "oom-kill:constraint=.*,pid=$1,uid=" "$OUT/kernel.log"; }

# kv FIELD LINE: the value of "FIELD=value," or "FIELD:value" in a kernel line (up to , or space)
kv() { printf '%s\n' "$2" | sed -n "s/.*[ ,:]$1[=:]\([^, ]*\).*/\1/p" | head -1; }

# kb_pages VALUE: "1764kB" -> pages (4 KiB)
kb_pages() { echo $((${1%kB} / 4)); }

# events_field "low 0 high 0 max 3 oom 1 oom_kill 1" KEY
events_field() { printf '%s\n' "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i += 2) if ($i == k) { print $(i + 1); exit } }'; }

# json_ok NAME FILE: FILE is one (or more) JSON document(s)
json_ok() {
    if [ -s "$2" ] && jq -e . "$2" >/dev/null 2>&1; then
        ok "$1"
    else
        not_ok "$1" "$(head -c 400 "$2" 2>/dev/null)"
        return 1
    fi
}

# kill_line_json LINE: a 6.1 "Killed process" line as JSON, parsed here with sed (not by
# oomwarden), in explain's victim field names:
#   {pid, comm, total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, uid, pgtables_kb, oom_score_adj}
kill_line_json() {
    local pid comm
    pid=$(printf '%s\n' "$1" | sed -n 's/.*: Killed process \([0-9]*\) (.*/\1/p')
    comm=$(printf '%s\n' "$1" | sed -n 's/.*: Killed process [0-9]* (\(.*\)) total-vm:.*/\1/p')
    [ -n "$pid" ] || { echo null; return; }
    jq -cn --argjson pid "$pid" --arg comm "$comm" --arg vm "$(kv total-vm "$1")" \
        --arg anon "$(kv anon-rss "$1")" --arg file "$(kv file-rss "$1")" \
        --arg shmem "$(kv shmem-rss "$1")" --arg uid "$(kv UID "$1")" \
        --arg pt "$(kv pgtables "$1")" --arg adj "$(kv oom_score_adj "$1")" '
        def kb: rtrimstr("kB") | tonumber;
        {pid: $pid, comm: $comm, total_vm_kb: ($vm | kb), anon_rss_kb: ($anon | kb),
         file_rss_kb: ($file | kb), shmem_rss_kb: ($shmem | kb), uid: ($uid | tonumber),
         pgtables_kb: ($pt | kb), oom_score_adj: ($adj | tonumber)}'
}

# EXPLAIN_VICTIM: the part of an explain --json victim that a kill line shows
EXPLAIN_VICTIM='{pid, comm, total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, uid, pgtables_kb, oom_score_adj}'

# explain_facts FILE: what explain --json says about each event, for comparing two readings of
# the same kernel log (the guest's /dev/kmsg, the host's dmesg text)
explain_facts() {
    jq -c '[.events[] | {scope, constraint, oom_memcg, task_memcg, group_memcg,
        invoker: (.invoker | if . then {comm, pid, gfp_mask, order, oom_score_adj} else null end),
        memcg: (.memcg | if . then {usage_kb, limit_kb, failcnt} else null end),
        victims: [.victims[] | '"$EXPLAIN_VICTIM"' + {group_kill, kind}]}]' "$1" 2>/dev/null
}

# task_rows: the rows of every OOM report's task table in the kernel log, as "PID RSS
# PGTABLES_BYTES SWAPENTS ADJ NAME" (4.19-6.7 layout: [pid] uid tgid total_vm rss pgtables_bytes swapents adj name)
task_rows() {
    sed -n 's/^\[ *[0-9.]*\] \[ *\([0-9]*\)\] *[0-9]* *[0-9]* *[0-9]* *\([0-9]*\) *\([0-9]*\) *\([0-9]*\) *\(-*[0-9]*\) \(.*\)$/\1 \2 \3 \4 \5 \6/p' "$OUT/kernel.log"
}

# row_points T: oom_badness() of each task-table row for a domain of T pages, as "PID POINTS
# NAME" (rss + pgtables_bytes/4096 + swapents + adj * (T / 1000)); rows at -1000 are left out
# (never candidates)
row_points() {
    task_rows | awk -v t="$1" '$5 != -1000 { print $1, $2 + int($3 / 4096) + $4 + $5 * int(t / 1000), $6 }'
}

# row_choice T: the pid the kernel's scan picks from those rows (a memcg OOM dumps the task table
# in the order it scans: the highest points, a later row winning a tie)
row_choice() { row_points "$1" | awk 'NR == 1 || $2 >= best { best = $2; pid = $1 } END { print pid }'; }

# ps_vs_rows PS_JSON SKIP_PID: "comm(pid): ps X, kernel row Y;" for every row whose points
# differ from the badness ps gave that pid (SKIP_PID grew in between; it is not compared)
ps_vs_rows() {
    local T pid pts name got
    T=$(jq .totalpages "$1")
    row_points "$T" | while read -r pid pts name; do
        [ "$pid" = "$2" ] && continue
        got=$(jq --argjson p "$pid" '.processes[] | select(.pid == $p) | .badness' "$1")
        [ "$got" = "$pts" ] || printf '%s(%s): ps %s, kernel row %s; ' "$name" "$pid" "$got" "$pts"
    done
}

# ps_unscored PS_JSON: user processes ps gave no computed oom_score ("PID COMM" lines; a zombie
# has none to give)
ps_unscored() {
    jq -r '.processes[] | select(.oom_score_model == null and (.kernel_thread | not) and .state != "Z") | "\(.pid) \(.comm)"' "$1"
}

# ps_model_wrong PS_JSON: processes whose computed oom_score differs from the kernel's, one line
# each with what went into it
ps_model_wrong() {
    jq -r '.processes[] | select(.oom_score_model != null and .oom_score_model != .oom_score)
        | "\(.pid) \(.comm) kernel=\(.oom_score) model=\(.oom_score_model) badness=\(.badness) rss=\(.rss) pgtables=\(.pgtables) adj=\(.oom_score_adj)"' "$1"
}
