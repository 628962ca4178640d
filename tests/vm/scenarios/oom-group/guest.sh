# memory.oom.group on cgroup v2: a memcg OOM whose victim sits in a cgroup with
# memory.oom.group = 1 kills the whole group, as the kubelet (1.28+, cgroup v2) arranges for a
# container. `ps --cgroup` must name the kill unit before the push: the *highest* oom.group
# cgroup between the victim's memcg and the OOMing one, and every member the kernel kills.
#
#   P = /oomwarden-lab.slice/group-demo.slice      memory.max 48 MiB, no swap: the OOM domain
#   ├── app.scope              memory.oom.group 1   <- the kill unit (the highest with 1)
#   │   ├── main               memory.oom.group 1   (also 1: the kernel takes the highest)
#   │   │     ow-worker  8 MiB adj 0,  ow-leak 1 MiB and growing adj 500
#   │   └── aux                memory.oom.group 0   (inherits nothing: the group is app.scope's)
#   │         ow-helper  4 MiB adj 0,  ow-guard 2 MiB adj -1000 (oom_kill_memcg_member() spares it)
#   └── sidecar.scope          memory.oom.group 0
#         ow-sidecar 16 MiB adj 0   (outside the group: lives on)
#
# Designed victim, memcg domain: totalpages = 12288 pages, one adj point = 12 pages:
#   ow-leak ~560 + 6000 = ~6600 and growing, ow-sidecar ~4400, ow-worker ~2400, ow-helper ~1350,
#   ow-guard never. As in memcg-oom the allocator is the victim, so nothing allocates after the
#   kill (6.1 can otherwise OOM twice, see README.md). 6.1's oom_kill_process() kills the victim,
#   prints "Tasks in <group> are going to be killed due to memory.oom.group set" and then kills
#   every member of the group in mem_cgroup_scan_tasks() order, the victim again among them
#   when its mm is still there (it is: it is the task running the OOM killer).

P=/oomwarden-lab.slice/group-demo.slice
A=$P/app.scope
S=$P/sidecar.scope
for c in "$A/main" "$A/aux" "$S"; do cg_make "$c" || fail "cgroup $c"; done
echo $((48 * 1024 * 1024)) >"$CG$P/memory.max" || fail "memory.max"
echo 0 >"$CG$P/memory.swap.max" 2>/dev/null
echo 1 >"$CG$A/memory.oom.group" || fail "memory.oom.group on $A"
echo 1 >"$CG$A/main/memory.oom.group" || fail "memory.oom.group on $A/main"
fact domain "$P"
fact group "$A"
fact sidecar_cgroup "$S"

start_hog sidecar "$S" --name ow-sidecar --anon 16 --adj 0 || fail "ow-sidecar"
start_hog worker "$A/main" --name ow-worker --anon 8 --adj 0 || fail "ow-worker"
start_hog helper "$A/aux" --name ow-helper --anon 4 --adj 0 || fail "ow-helper"
start_hog guard "$A/aux" --name ow-guard --anon 2 --adj -1000 || fail "ow-guard"
start_hog leak "$A/main" --name ow-leak --anon 1 --adj 500 --grow-fast --chunk 1 --go /run/go || fail "ow-leak"
leak=$HOG_PID

for c in "$P" "$A" "$A/main" "$A/aux" "$S"; do fact "events_before$c" "$(cg_events "$c")"; done
# the prediction from the OOMing cgroup, and from the victim's own (which has no limit)
oomwarden ps --cgroup "$P" --json >"$OUT/ps-cgroup-domain.json" || fail "ps --cgroup $P: exit $?"
oomwarden ps --cgroup "$P" >"$OUT/ps-cgroup-domain.txt" 2>&1
oomwarden ps --cgroup "$A/main" --json >"$OUT/ps-cgroup-main.json" || fail "ps --cgroup $A/main: exit $?"
oomwarden cgroup "$A" --json >"$OUT/cgroup-group-before.json" || fail "cgroup $A: exit $?"

log "ow-leak grows until $P hits memory.max"
touch /run/go
wait_gone "$leak" 60 || log "ow-leak ($leak) still alive 60 s later"
for h in worker helper; do
    wait_gone "$(awk -v n=$h '$1 == n { print $2 }' "$OUT/hogs.txt")" 10 || log "$h still alive"
done
sleep 1 # a second OOM, if the kernel made one, would be in the log by now

for c in "$P" "$A" "$A/main" "$A/aux" "$S"; do fact "events_after$c" "$(cg_events "$c")"; done
fact events_local_after$A "$(tr '\n' ' ' <"$CG$A/memory.events.local")"
alive=""
while read -r n pid cg; do
    [ -n "$(alive "$pid")" ] && alive="$alive $n"
done <"$OUT/hogs.txt"
fact alive "${alive# }"
fact procs_after$A "$(cat "$CG$A/main/cgroup.procs" "$CG$A/aux/cgroup.procs" | xargs)"
oomwarden cgroup "$A" --json >"$OUT/cgroup-group-after.json" || fail "cgroup $A after: exit $?"
oomwarden cgroup "$A" >"$OUT/cgroup-group-after.txt" 2>&1
oomwarden explain --json >"$OUT/explain.json" || fail "explain --json: exit $?"
oomwarden explain >"$OUT/explain.txt" 2>&1
log "done"
