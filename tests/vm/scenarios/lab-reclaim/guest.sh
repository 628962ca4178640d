# oomwarden reclaim on cgroup v2 (6.1, memory.reclaim since 5.19). This VM has no disk and no
# swap: its only file pages are tmpfs (shmem, not reclaimable without swap). What reclaim can
# take here is reclaimable slab: dentries and inodes of /sys and /proc walked from inside the
# cgroup (kernfs and procfs keep them on the per-memcg LRU after use; they are charged to the
# walker's cgroup). An anonymous hog sits next to them: reclaim cannot touch it.
M=/reclaim-demo
cg_make "$M" || fail "cgroup $M"
start_hog anon "$M" --name ow-anon --anon 12 --adj 0 || fail "hog"
sh -c 'echo $$ >/sys/fs/cgroup/reclaim-demo/cgroup.procs; find /sys /proc/[0-9]* >/dev/null 2>&1; ls -lR /sys/fs/cgroup >/dev/null 2>&1' 
# the walk's exit frees things after an RCU grace period: let memory.current settle first, so
# that "before" means the same for us and for the tool (three equal reads 200 ms apart)
_last="" _same=0 _i=0
while [ $_same -lt 2 ] && [ $_i -lt 50 ]; do
    _now=$(cat /sys/fs/cgroup$M/memory.current)
    if [ "$_now" = "$_last" ]; then _same=$((_same + 1)); else _same=0; fi
    _last=$_now _i=$((_i + 1))
    sleep 0.2
done
fact before "$(cat /sys/fs/cgroup$M/memory.current) $(grep -E '^(slab_reclaimable|anon) ' /sys/fs/cgroup$M/memory.stat | tr '\n' ' ')"
oomwarden reclaim --dry-run "$M" 1M >"$OUT/dry.txt" 2>&1
fact dry_rc $?
fact after_dry "$(cat /sys/fs/cgroup$M/memory.current)"
# a small ask it can meet: exit 0
oomwarden reclaim "$M" 256K --json >"$OUT/small.json" 2>"$OUT/small.err"
fact small_rc $?
fact after_small "$(cat /sys/fs/cgroup$M/memory.current) $(grep -E '^(slab_reclaimable|anon) ' /sys/fs/cgroup$M/memory.stat | tr '\n' ' ')"
# more than there is: it takes the slab, not the anon, and says EAGAIN (exit 1)
oomwarden reclaim "$M" 64M --json >"$OUT/big.json" 2>"$OUT/big.err"
fact big_rc $?
fact after_big "$(cat /sys/fs/cgroup$M/memory.current) $(grep -E '^(slab_reclaimable|anon) ' /sys/fs/cgroup$M/memory.stat | tr '\n' ' ')"
oomwarden reclaim "$M" 64M >"$OUT/big.txt" 2>&1
fact text_rc $?
oomwarden reclaim / 1K >"$OUT/root.txt" 2>&1
fact root_rc $?
oomwarden reclaim /nope 1M >"$OUT/nope.txt" 2>&1
fact nope_rc $?
log "done"
