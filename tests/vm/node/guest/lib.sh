# Helpers for scenarios on the node image (bash; sourced after the busybox harness's common.sh,
# whose log, fact, fail, alive, wait_gone, vmstat_oom_kill, start_agent ... work here too).
#
# No kubelet exists in Debian, so kube_setup and pod_run reproduce what a kubelet with the
# systemd cgroup driver and containerd's CRI plugin would make, with containerd + runc doing
# the real work (ctr run, runc's systemd cgroup manager creating the scope through systemd):
#   kubepods.slice                                   memory.max = node allocatable
#     kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope
#     kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope
#     kubepods-pod<uid>.slice/cri-containerd-<id>.scope            (Guaranteed: no QoS slice)
# and the kubelet's log layout (/var/log/pods, /var/log/containers).

# v2 or v1: the memory controller's hierarchy on this boot
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    NODE_CGROUP=v2
    MEMCG=/sys/fs/cgroup
else
    NODE_CGROUP=v1
    MEMCG=/sys/fs/cgroup/memory
fi
export NODE_CGROUP MEMCG
NODE_STATE=/var/lib/oomwarden-node
mkdir -p "$NODE_STATE"

# mem_capacity: the node's memory capacity as the kubelet sees it (cadvisor's MemoryCapacity:
# MemTotal in bytes); the Burstable formula and node allocatable are based on it
mem_capacity() { awk '$1 == "MemTotal:" { print $2 * 1024 }' /proc/meminfo; }

# kube_adj QOS REQUEST_BYTES: the oom_score_adj the kubelet gives a container.
# pkg/kubelet/qos/policy.go (GetContainerOOMScoreAdjust): guaranteedOOMScoreAdj = -997,
# besteffortOOMScoreAdj = 1000; Burstable: 1000 - (1000 * memoryRequest) / memoryCapacity,
# raised to 1000 + guaranteedOOMScoreAdj (3) when below it, 999 when it comes out at 1000.
kube_adj() {
    local qos=$1 req=${2:-0} adj
    case "$qos" in
    guaranteed) echo -997 ;;
    besteffort) echo 1000 ;;
    burstable)
        adj=$((1000 - (1000 * req) / $(mem_capacity)))
        if [ "$adj" -lt 3 ]; then adj=3; elif [ "$adj" -eq 1000 ]; then adj=999; fi
        echo "$adj"
        ;;
    *) return 1 ;;
    esac
}

# _slice_start NAME PARENT [MEMORY_MAX_BYTES]: a transient slice made through systemd's D-Bus API
# as the kubelet's cgroup manager makes one (libcontainer's systemd manager: StartTransientUnit
# with Description, Wants=<parent>, DefaultDependencies=no, accounting on, MemoryMax). systemd
# places NAME from its dashes: kubepods-burstable-podX.slice lives in kubepods-burstable.slice.
_slice_start() {
    local name=$1 parent=$2 max=${3:-} n=4
    local -a props=(Description s "$name (oomwarden's stand-in for the kubelet)"
        DefaultDependencies b false MemoryAccounting b true TasksAccounting b true)
    if [ -n "$parent" ]; then
        props+=(Wants as 1 "$parent")
        n=$((n + 1))
    fi
    if [ -n "$max" ]; then
        props+=(MemoryMax t "$max")
        n=$((n + 1))
    fi
    busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager \
        StartTransientUnit 'ssa(sv)a(sa(sv))' "$name" replace "$n" "${props[@]}" 0 >/dev/null || return 1
    local i=0
    until [ "$(systemctl is-active "$name")" = active ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && { log "slice $name did not become active"; return 1; }
        sleep 0.1
    done
}

# kube_setup [ALLOCATABLE_BYTES]: the QoS slices the kubelet creates at start
# (pkg/kubelet/cm/node_container_manager_linux.go, qos_container_manager_linux.go): kubepods.slice
# with memory.max = node allocatable (capacity minus kube-reserved and system-reserved; with none
# reserved, as on the seed incident's node, that is all of MemTotal), and the Burstable and
# BestEffort slices below it without limits.
kube_setup() {
    local alloc=${1:-$(mem_capacity)}
    _slice_start kubepods.slice "" "$alloc" &&
        _slice_start kubepods-burstable.slice kubepods.slice &&
        _slice_start kubepods-besteffort.slice kubepods.slice
}

# _hex64: a 64-hex container ID like containerd's
_hex64() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# _pod_rootfs DIR: the container's root: busybox-static and hog with the libraries hog links
# (the guest's bookworm glibc: the same as the build's); on the root disk, so that the binaries
# are file-backed as in a real container's overlayfs, not tmpfs shmem
_pod_rootfs() {
    local r=$1 l
    mkdir -p "$r/bin" "$r/tmp" "$r/proc" "$r/dev" "$r/sys" "$r/etc"
    cp /bin/busybox "$r/bin/busybox"
    for l in sh sleep cat echo ls; do ln -sf busybox "$r/bin/$l"; done
    cp /oomwarden/bin/hog "$r/bin/hog"
    for l in $(ldd /oomwarden/bin/hog | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]*ld-linux/ { print $1 }'); do
        mkdir -p "$r$(dirname "$l")"
        cp -L "$l" "$r$l"
    done
    echo 'root:x:0:0:root:/:/bin/sh' >"$r/etc/passwd"
}

# pod_run POD NAMESPACE QOS REQUEST LIMIT CONTAINER CMD...: one pod with one container, started
# the way the kubelet + containerd's CRI plugin start it. QOS is guaranteed|burstable|besteffort
# (REQUEST and LIMIT in bytes, 0 for none, consistent with the QoS class). CMD runs in the
# container's rootfs (/bin/hog, /bin/sh). Sets POD_UID, POD_CID, POD_PID, POD_CGROUP (the
# container's memory cgroup path, relative to $MEMCG), POD_ADJ; appends a line to $OUT/pods.txt:
#   POD NAMESPACE UID QOS CONTAINER CID PID CGROUP ADJ
pod_run() {
    local pod=$1 ns=$2 qos=$3 req=$4 limit=$5 ctr_name=$6
    shift 6
    POD_UID=$(cat /proc/sys/kernel/random/uuid)
    POD_CID=$(_hex64)
    # pkg/kubelet/cm/cgroup_manager_linux.go (systemd driver): the pod's cgroup "pod<uid>" under
    # its QoS cgroup, converted to a slice name with the uid's dashes escaped as underscores
    local podslice qosslice
    case "$qos" in
    guaranteed) qosslice=kubepods.slice podslice=kubepods-pod${POD_UID//-/_}.slice ;;
    burstable) qosslice=kubepods-burstable.slice podslice=kubepods-burstable-pod${POD_UID//-/_}.slice ;;
    besteffort) qosslice=kubepods-besteffort.slice podslice=kubepods-besteffort-pod${POD_UID//-/_}.slice ;;
    *) fail "pod_run: QoS class '$qos'" ;;
    esac
    POD_ADJ=$(kube_adj "$qos" "$req")
    # the pod cgroup's memory.max: the sum of its containers' limits (one container here), none
    # when a container has no limit (pkg/kubelet/cm/helpers_linux.go ResourceConfigForPod)
    local podmax=""
    [ "$limit" -gt 0 ] && podmax=$limit
    _slice_start "$podslice" "$qosslice" "$podmax" || fail "pod_run: cannot make $podslice"
    local rootfs=$NODE_STATE/rootfs/$POD_CID
    _pod_rootfs "$rootfs"
    # the kubelet's log layout (pkg/kubelet/kuberuntime/kuberuntime_manager.go BuildPodLogsDirectory,
    # BuildContainerLogsDirectory; pkg/kubelet/kuberuntime/helpers.go logSymlink):
    #   /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restartCount>.log
    #   /var/log/containers/<pod>_<namespace>_<container>-<containerID>.log -> that file
    local logdir=/var/log/pods/${ns}_${pod}_${POD_UID}/$ctr_name
    mkdir -p "$logdir" /var/log/containers
    : >"$logdir/0.log"
    ln -sf "$logdir/0.log" "/var/log/containers/${pod}_${ns}_${ctr_name}-${POD_CID}.log"
    # the OCI spec the CRI plugin hands runc: cgroupsPath "<pod slice>:cri-containerd:<id>" (runc's
    # systemd driver makes cri-containerd-<id>.scope in that slice), the process's oom_score_adj,
    # the container's memory.max, and on cgroup v2 memory.oom.group=1 (the kubelet asks for it
    # since 1.28 unless singleProcessOOMKill: pkg/kubelet/kuberuntime/kuberuntime_container_linux.go)
    local spec=$NODE_STATE/spec-$POD_CID.json
    local args
    args=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
    ctr oci spec | jq --arg root "$rootfs" --arg cg "$podslice:cri-containerd:$POD_CID" \
        --argjson adj "$POD_ADJ" --argjson args "$args" --arg host "$pod" \
        --argjson limit "$limit" --arg v "$NODE_CGROUP" '
        .root = {path: $root, readonly: false}
        | .hostname = $host
        | .process.args = $args
        | .process.terminal = false
        | .process.oomScoreAdj = $adj
        | .linux.cgroupsPath = $cg
        | .linux.resources = ({}
            + (if $limit > 0 then {memory: {limit: $limit}} else {} end)
            + (if $v == "v2" then {unified: {"memory.oom.group": "1"}} else {} end))
        ' >"$spec" || fail "pod_run: cannot write the OCI spec"
    ctr run --config "$spec" --runc-systemd-cgroup --cgroup "$podslice:cri-containerd:$POD_CID" --log-uri "file://$logdir/0.log" -d "$POD_CID" \
        >"$NODE_STATE/ctr-$POD_CID.log" 2>&1 || fail "pod_run: ctr run $pod/$ctr_name: $(cat "$NODE_STATE/ctr-$POD_CID.log")"
    POD_PID=$(ctr task ls | awk -v id="$POD_CID" '$1 == id { print $2 }')
    [ -n "$POD_PID" ] || fail "pod_run: no task for $pod/$ctr_name"
    POD_CGROUP=$(pid_memcg "$POD_PID")
    echo "$pod $ns $POD_UID $qos $ctr_name $POD_CID $POD_PID $POD_CGROUP $POD_ADJ" >>"$OUT/pods.txt"
}

# pod_run_seed: the seed incident's pod: Guaranteed (-997), limit 95% of the node (within node
# allocatable, so a scheduler admits it), one hog holding 32 MiB that grows at 48 MiB/s from
# pod_go on until something dies. Waits until it is ready; sets what pod_run sets.
pod_run_seed() {
    local lim=$(($(mem_capacity) * 95 / 100 / 1048576 * 1048576))
    pod_run store prod guaranteed "$lim" "$lim" db /bin/hog --name ow-store --anon 32 --ready /tmp/ready --go /tmp/go --grow 48
    pod_wait_file "$POD_CID" /tmp/ready 60 || fail "the seed's pod did not start"
}

# pod_go CID: lets a hog started with --go /tmp/go in that container go on
pod_go() { touch "$NODE_STATE/rootfs/$1/tmp/go"; }

# pid_memcg PID: the process's memory cgroup path ("/kubepods.slice/..."), v1 or v2
pid_memcg() {
    if [ "$NODE_CGROUP" = v2 ]; then
        sed -n 's/^0:://p' "/proc/$1/cgroup"
    else
        awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$1/cgroup"
    fi
}

# pod_wait_file CID PATH SECS: waits until PATH exists in the container's rootfs (hog --ready)
pod_wait_file() {
    local f=$NODE_STATE/rootfs/$1$2 i=0
    while [ ! -e "$f" ]; do
        i=$((i + 1))
        [ $i -gt $(($3 * 10)) ] && return 1
        sleep 0.1
    done
}

# pods_stop: every container of the scenario, and its rootfs
pods_stop() {
    local id
    for id in $(ctr task ls -q 2>/dev/null); do ctr task kill -s KILL "$id" 2>/dev/null; done
    sleep 0.5
    for id in $(ctr task ls -q 2>/dev/null); do ctr task delete -f "$id" >/dev/null 2>&1; done
    for id in $(ctr container ls -q 2>/dev/null); do ctr container delete "$id" >/dev/null 2>&1; done
}

# hub_nic N: the name of the Nth NIC on the qemu hub (node_boot with NODE_HUB_NICS: 1 the
# sender's, 2 the receiver's), found by its address; returns 1 when the boot has none
hub_nic() {
    local mac d
    mac=$(awk -v n="$1" '{ print $n }' /oomwarden/hub_macs 2>/dev/null)
    [ -n "$mac" ] || return 1
    udevadm settle -t 10 2>/dev/null
    for d in /sys/class/net/*; do
        [ "$(cat "$d/address" 2>/dev/null)" = "$mac" ] && { basename "$d"; return 0; }
    done
    return 1
}

# hub_unmanage: networkd leaves the hub NICs alone (the image's 20-wired.network would run DHCP
# on them and may drop the addresses a scenario gives them): a runtime .network that sorts first
hub_unmanage() {
    mkdir -p /run/systemd/network
    {
        echo "[Match]"
        echo "MACAddress=$(cat /oomwarden/hub_macs)"
        echo "[Link]"
        echo "Unmanaged=yes"
    } >/run/systemd/network/10-oomwarden-hub.network
    networkctl reload
}
