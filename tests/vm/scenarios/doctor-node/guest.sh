# doctor before the node crash: the node-crash scenario's machine (global-oom), examined by
# `oomwarden doctor` and `status` before the pod grows, then the cascade itself. The host checks
# that doctor's kill-order finding named, in order, the daemons the kernel then killed, and that
# after the cascade doctor reports it from the kernel log.
#
# Same design as global-oom (whose guest.sh has the arithmetic): five adj-0 "daemons" in
# /system.slice/*.service, 4 MiB apart, and a -997 pod that grows 1 MiB at a time; a 384 MB VM,
# so totalpages ~75600 and the pod's badness stays below about -7000 while each daemon's is its
# own size (>= ~1300 pages). This shell, oomwarden and busybox run at init's -1000.

SYS=/system.slice
for d in sshd:20 systemd-networkd:16 rngd:12 systemd-homed:8 agetty:4; do
    name=${d%%:*} mb=${d##*:}
    cg_make "$SYS/$name.service" || fail "cgroup $SYS/$name.service"
    start_hog "$name" "$SYS/$name.service" --name "$name" --anon "$mb" --adj 0 || fail "daemon $name"
done
POD_UID=2b7e1516-28ae-4d2a-a6ab-f7158809cf4f
CTR_ID=3c6ef372fe94f82ba54ff53a5f1d36f1510e527fade682d19b05688c2b3e6c1f
CTR=/kubepods.slice/kubepods-pod$(echo $POD_UID | tr - _).slice/cri-containerd-$CTR_ID.scope
cg_make "$CTR" || fail "cgroup $CTR"
fact pod_cgroup "$CTR"
start_hog pod "$CTR" --name pod-hog --anon 1 --adj -997 --grow-fast --chunk 1 --go /run/go || fail "pod hog"
pod=$HOG_PID
fact oom_kill_before "$(vmstat_oom_kill)"

# before: the default node-critical list, and the list with rngd and agetty added
oomwarden doctor --json >"$OUT/doctor-before.json"
fact doctor_exit "$?"
oomwarden doctor --json --only kill-order --critical +rngd,agetty >"$OUT/doctor-all5.json"
oomwarden doctor >"$OUT/doctor-before.txt" 2>&1
oomwarden status --json >"$OUT/status-before.json" || fail "oomwarden status --json: exit $?"
oomwarden status >"$OUT/status-before.txt" 2>&1

log "the pod starts to allocate"
touch /run/go
wait_gone $pod 150 || fail "the pod hog is still alive 150 s after it started to grow"
log "the pod hog is gone"
fact oom_kill_after "$(vmstat_oom_kill)"

# after: the cascade, as doctor and status read it from the kernel log
oomwarden doctor --json --only recent-kills,kernel-log >"$OUT/doctor-after.json"
oomwarden status --json >"$OUT/status-after.json"
oomwarden status >"$OUT/status-after.txt" 2>&1
log "done"
