# The node-crash scenario: a global OOM on a node whose system daemons sit at oom_score_adj 0
# while a Kubernetes Guaranteed pod (−997) eats the memory. The kernel kills the daemons one by
# one, largest first, and the pod lives on until nothing else is left. `oomwarden ps` must have
# predicted that order before the pod started to grow.
#
# This shell runs at init's −1000 (inherited), and so do oomwarden and the busybox helpers: the
# only processes the OOM killer may take are the six started here.
#
# Why the order is unambiguous. In a 384 MB VM, totalpages T = MemTotal ~ 75600 pages (no swap),
# so the pod's badness is pages − 997 * (T / 1000) = pages − 74775. The pod can never hold more
# than what is free plus what the daemons free when they die (~67500 pages here: kernel, initramfs
# and page cache keep the rest), so its badness stays below about −7000, while each daemon's is
# its own rss + page tables (>= ~1300 pages, adj 0). At every OOM the largest live daemon is the
# only choice; once they are all gone the pod, with its negative badness, is the last eligible
# process and dies (5.9+: the scan starts at LONG_MIN). check.sh recomputes this from the
# pod's kill line.

# "system daemons": small, long-running, adj 0, each in its systemd service cgroup; sizes 4 MiB
# (1024 pages) apart, far more than any difference in page tables, so their order is defined.
SYS=/system.slice
for d in sshd:20 systemd-networkd:16 rngd:12 systemd-homed:8 agetty:4; do
    name=${d%%:*} mb=${d##*:}
    cg_make "$SYS/$name.service" || fail "cgroup $SYS/$name.service"
    start_hog "$name" "$SYS/$name.service" --name "$name" --anon "$mb" --adj 0 || fail "daemon $name"
done

# the "pod": a Guaranteed pod's container (kubelet's systemd cgroup driver, containerd)
POD_UID=4f6c2a1e-8d3b-4c5f-9e7a-1b2c3d4e5f60
CTR_ID=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
POD=/kubepods.slice/kubepods-pod$(echo $POD_UID | tr - _).slice
CTR=$POD/cri-containerd-$CTR_ID.scope
cg_make "$CTR" || fail "cgroup $CTR"
fact pod_cgroup "$CTR"
# it starts small, waits for /run/go, then allocates 1 MiB at a time until the OOM killer comes
start_hog pod "$CTR" --name pod-hog --anon 1 --adj -997 --grow-fast --chunk 1 --go /run/go || fail "pod hog"
pod=$HOG_PID

fact oom_kill_before "$(vmstat_oom_kill)"
fact meminfo "$(awk '/^(MemTotal|MemAvailable|SwapTotal):/ { printf "%s %s ", $1, $2 }' /proc/meminfo)"
# the prediction, before any growth
oomwarden ps --json >"$OUT/ps-before.json" || fail "oomwarden ps --json: exit $?"
oomwarden ps >"$OUT/ps-before.txt" 2>&1
# the pod's cgroup as oomwarden sees it: by path, and by the pod process's pid
oomwarden cgroup "$CTR" --json >"$OUT/cgroup-pod-before.json" || fail "oomwarden cgroup $CTR: exit $?"
oomwarden cgroup "$CTR" >"$OUT/cgroup-pod-before.txt" 2>&1
oomwarden cgroup "pid:$pod" --json >"$OUT/cgroup-pod-pid.json" || fail "oomwarden cgroup pid:$pod: exit $?"

log "the pod starts to allocate"
touch /run/go
wait_gone $pod 150 || fail "the pod hog is still alive 150 s after it started to grow"
log "the pod hog is gone"

fact oom_kill_after "$(vmstat_oom_kill)"
fact events_pod "$(cg_events "$CTR")"
fact events_system "$(cg_events "$SYS")"
alive=""
while read -r n pid cg; do
    [ -n "$(alive "$pid")" ] && alive="$alive $n"
done <"$OUT/hogs.txt"
fact alive "${alive# }"
oomwarden ps --json >"$OUT/ps-after.json" || fail "oomwarden ps --json after the OOMs: exit $?"
oomwarden cgroup "$CTR" --json >"$OUT/cgroup-pod-after.json" || fail "oomwarden cgroup $CTR after: exit $?"
# the cascade as explain reads it from /dev/kmsg
oomwarden explain --json >"$OUT/explain.json" || fail "oomwarden explain --json: exit $?"
oomwarden explain >"$OUT/explain.txt" 2>&1
log "done"
