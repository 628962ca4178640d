# oomwarden lab protect on cgroup v2 (6.1), where we have CAP_SYS_RESOURCE: the protected eater
# (the bigger, 55% of memory.max) at oom_score_adj -900, the other at 0 growing into the limit.
# Ten runs; the host checks every kill line in the log against what the lab said.
i=1
while [ $i -le 10 ]; do
    oomwarden lab protect --max 16M --rate 16M/s --json >"$OUT/protect-$i.json" 2>"$OUT/protect-$i.err"
    fact rc_$i $?
    i=$((i + 1))
done
oomwarden lab protect --max 16M --rate 16M/s >"$OUT/protect-text.txt" 2>&1
fact text_rc $?
fact leftover "$(ls -d /sys/fs/cgroup/oomwarden-lab-* 2>/dev/null | xargs)"
log "done"
