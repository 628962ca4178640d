# oom-score on the real node (bash, in the guest): the node's own daemons (systemd, journald,
# networkd, resolved, logind, sshd, containerd, dbus, getty) plus three pods placed and scored
# as the kubelet does: a Guaranteed pod (-997), a Burstable one (the request formula) and a
# BestEffort one (1000). Then `oomwarden ps --json` three times; the host compares every
# process's computed oom_score with the kernel's /proc/PID/oom_score in each.
MiB=1048576
kube_setup || fail "kube_setup"
pod_run api prod guaranteed $((96 * MiB)) $((96 * MiB)) api /bin/hog --anon 48 --ready /tmp/ready
pod_wait_file "$POD_CID" /tmp/ready 60 || fail "api not ready"
pod_run web prod burstable $((64 * MiB)) $((256 * MiB)) web /bin/hog --anon 32 --ready /tmp/ready
pod_wait_file "$POD_CID" /tmp/ready 60 || fail "web not ready"
pod_run batch jobs besteffort 0 0 worker /bin/hog --anon 24 --ready /tmp/ready
pod_wait_file "$POD_CID" /tmp/ready 60 || fail "batch not ready"
fact capacity_bytes "$(mem_capacity)"
fact kubepods_max "$(cat "$MEMCG/kubepods.slice/memory.max" 2>/dev/null || cat "$MEMCG/kubepods.slice/memory.limit_in_bytes")"
while read -r pod ns uid qos ctr cid pid cg adj; do
    fact "adj_$pod" "$(cat "/proc/$pid/oom_score_adj")"
    if [ "$NODE_CGROUP" = v2 ]; then
        fact "max_$pod" "$(cat "$MEMCG$cg/memory.max")"
        fact "oomgroup_$pod" "$(cat "$MEMCG$cg/memory.oom.group")"
    else
        fact "max_$pod" "$(cat "$MEMCG$cg/memory.limit_in_bytes")"
    fi
done <"$OUT/pods.txt"
ls -l /var/log/containers >"$OUT/log-layout.txt"
for i in 1 2 3; do
    oomwarden ps --json >"$OUT/ps-$i.json" || fail "ps --json"
    sleep 0.5
done
log "done"
