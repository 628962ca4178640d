# pod-memcg-oom on the real node (bash, in the guest): ten memcg OOMs in real containers, each a
# fresh Burstable pod whose container (limit 48, 56 or 64 MiB) runs busybox sh with two resident
# hogs and one grower, sizes varying per round. The grower starts as the container's largest
# process and stays so while it grows (all share the container's oom_score_adj, as the kubelet
# sets it), so the kernel's victim is the allocator: a victim that is not the allocator can be
# followed by a second kill before its pages are uncharged (tests/vm/README.md, 6.1 facts),
# and this scenario is about the prediction, not that race.
# Before each push: `ps --cgroup SCOPE --json` and `cgroup --json` (the prediction); after it:
# who is still alive, memory.events, `cgroup --json` again.
MiB=1048576
kube_setup || fail "kube_setup"
for i in 1 2 3 4 5 6 7 8 9 10; do
    limit=$(((48 + 8 * (i % 3)) * MiB))
    r1=$((4 + (i * 3) % 11)) r2=$((2 + (i * 5) % 7))
    g=$((r1 > r2 ? r1 : r2))
    g=$((g + 2 + i % 3))
    pod_run "grow-$i" default burstable $((limit / 2)) "$limit" app /bin/sh -c \
        "/bin/hog --name ow-res1 --anon $r1 --ready /tmp/r1 & /bin/hog --name ow-res2 --anon $r2 --ready /tmp/r2 & /bin/hog --name ow-grow --anon $g --ready /tmp/ready --go /tmp/go --grow 32 & wait"
    cid=$POD_CID cg=$POD_CGROUP
    for f in /tmp/r1 /tmp/r2 /tmp/ready; do
        pod_wait_file "$cid" "$f" 60 || fail "round $i: $f not there"
    done
    pids=$(cat "$MEMCG$cg/cgroup.procs" | xargs)
    grow=$(cat "$NODE_STATE/rootfs/$cid/tmp/ready")
    # hog --ready writes the pid it has in the container's pid namespace; the host pid is the
    # one named ow-grow in the scope
    for p in $pids; do [ "$(cat "/proc/$p/comm")" = ow-grow ] && grow=$p; done
    fact "round$i" "$cid $cg $limit $grow $pids"
    oomwarden ps --cgroup "$cg" --json >"$OUT/ps-$i.json" || fail "round $i: ps --cgroup"
    oomwarden cgroup "$cg" --json >"$OUT/cgroup-before-$i.json" || fail "round $i: cgroup"
    # the QoS slice's events (hierarchical; the scope and then the transient pod slice go with
    # the last process)
    fact "events_before$i" "$(tr '\n' ' ' <"$MEMCG/kubepods.slice/kubepods-burstable.slice/memory.events" 2>/dev/null)"
    touch "$NODE_STATE/rootfs/$cid/tmp/go"
    wait_gone "$grow" 60 || fail "round $i: the grower $grow is still alive after 60 s"
    sleep 0.5
    fact "alive_after$i" "$(alive $pids)"
    fact "events_after$i" "$(tr '\n' ' ' <"$MEMCG/kubepods.slice/kubepods-burstable.slice/memory.events" 2>/dev/null)"
    ctr task kill -s KILL "$cid" 2>/dev/null
    sleep 0.3
    ctr task delete -f "$cid" >/dev/null 2>&1
    ctr container delete "$cid" >/dev/null 2>&1
    log "round $i: limit $((limit / MiB)) MiB, res $r1/$r2 MiB, grower $g MiB: alive after: $(alive $pids)"
    # stay well under the kernel's 10 reports per 5 s
    sleep 0.6
done
oomwarden explain --json >"$OUT/explain.json" 2>"$OUT/explain.err"
log "done"
