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
