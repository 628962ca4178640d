# Which accelerator a test VM may use, decided by booting one (sourced by any harness that boots
# a VM: tests/vm/run, tests/vm/node/...). Needs bash, qemu-system-x86_64, busybox-static, cpio.
#
#   . tests/vm/lib/accel.sh
#   vm_accel_probe KERNEL [QEMU_ARG...]   sets VM_ACCEL (kvm or tcg) and VM_ACCEL_REASON
#   echo "# $(vm_accel_describe)"          "accel: tcg (kvm present but a probe guest ...)"
#
# A /dev/kvm that opens is not a KVM that runs guests: on a nested-virtualization host of the
# project's kind qemu -accel kvm spins at 100% CPU and the guest never prints (the default CPU
# model warns CPUID.01H:ECX.pni; -cpu host/max abort on "failed to set MSR 0x10a"), so a harness
# that trusted the device waited out every scenario's timeout. KVM is used only when a guest
# booted with it reached its init and printed a marker within OOMWARDEN_VM_PROBE_SECONDS (15).
#
# The probe boots KERNEL (the harness's own, so the verdict is about the guests it will run)
# with a one-file initramfs; QEMU_ARGs are added to the probe's command line (e.g. the -cpu or
# -machine options a harness boots with; they are part of the cache key). The verdict of a boot
# is cached per boot of this machine (/proc/sys/kernel/random/boot_id) in
# $OOMWARDEN_VM_CACHE/accel/; what can change without a reboot (OOMWARDEN_VM_NO_KVM, the device
# node, its permissions) is checked every time, before the cache. OOMWARDEN_VM_PROBE_AGAIN=1
# ignores the cached verdict.

VM_ACCEL=""
VM_ACCEL_REASON=""
VM_ACCEL_QEMU=${VM_QEMU:-${QEMU:-qemu-system-x86_64}}
VM_ACCEL_DEV=/dev/kvm
VM_ACCEL_MARKER=OOMWARDEN-ACCEL-PROBE-INIT

# vm_accel_describe: one line, "accel: ACCEL (REASON)"
vm_accel_describe() { echo "accel: ${VM_ACCEL:-unknown} (${VM_ACCEL_REASON:-vm_accel_probe not run})"; }

_vm_accel_set() { VM_ACCEL=$1 VM_ACCEL_REASON=$2; }

# _vm_accel_cache_dir: where verdicts live: $VM_ACCEL_CACHE, else accel/ in the VM cache shared
# by the harnesses
_vm_accel_cache_dir() {
    local top=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
    echo "${VM_ACCEL_CACHE:-${VM_CACHE:-${OOMWARDEN_VM_CACHE:-$top/tests/vm/cache}}/accel}"
}

vm_accel_probe() {
    local kernel=${1:-}
    shift
    VM_ACCEL="" VM_ACCEL_REASON=""
    # what needs no guest, checked every time
    if [ -n "${OOMWARDEN_VM_NO_KVM:-}" ]; then
        _vm_accel_set tcg "OOMWARDEN_VM_NO_KVM is set"
        return 0
    fi
    if [ ! -e "$VM_ACCEL_DEV" ]; then
        _vm_accel_set tcg "no $VM_ACCEL_DEV"
        return 0
    fi
    if [ ! -c "$VM_ACCEL_DEV" ]; then
        _vm_accel_set tcg "$VM_ACCEL_DEV is not a character device"
        return 0
    fi
    # open it as qemu will (read-write); -w alone says yes to root on any mode
    local err
    if ! err=$( (exec 3<>"$VM_ACCEL_DEV") 2>&1); then
        err=${err##*: }
        _vm_accel_set tcg "$VM_ACCEL_DEV cannot be opened read-write by uid $(id -u): ${err:-error}"
        return 0
    fi
    if [ -z "$kernel" ] || [ ! -f "$kernel" ]; then
        _vm_accel_set tcg "kvm present but not probed: no kernel to boot (${kernel:-none given})"
        return 0
    fi

    # the cached verdict of this boot of the machine, for this qemu command line
    local dir boot key cache lockfd
    dir=$(_vm_accel_cache_dir)
    boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
    key=$(printf '%s\n' "$(command -v "$VM_ACCEL_QEMU")" "$@" | sha256sum | cut -c1-12)
    cache=$dir/$boot-$key
    if ! mkdir -p "$dir" 2>/dev/null; then
        dir="" cache=""
    fi
    # one probe at a time: a second harness waits for the first one's verdict
    if [ -n "$dir" ] && exec {lockfd}>>"$dir/probe.lock"; then
        flock "$lockfd"
    else
        lockfd=""
    fi
    if [ -n "$boot" ] && [ -n "$cache" ] && [ -s "$cache" ] && [ -z "${OOMWARDEN_VM_PROBE_AGAIN:-}" ]; then
        local verdict reason
        IFS=$'\t' read -r verdict reason <"$cache"
        if [ "$verdict" = kvm ] || [ "$verdict" = tcg ]; then
            _vm_accel_set "$verdict" "$reason; verdict cached for this boot ${boot:0:8}"
            [ -n "$lockfd" ] && exec {lockfd}>&-
            return 0
        fi
    fi
    _vm_accel_boot "$kernel" "$@"
    # a probe that could not even run (no qemu, no busybox) is not a verdict about KVM
    if [ -n "$boot" ] && [ -n "$cache" ] && [ "${_VM_ACCEL_CACHEABLE:-0}" = 1 ]; then
        printf '%s\t%s\n' "$VM_ACCEL" "$VM_ACCEL_REASON" >"$cache.tmp" && mv "$cache.tmp" "$cache"
        # verdicts of earlier boots are worthless
        find "$dir" -maxdepth 1 -type f ! -name "$boot-*" ! -name probe.lock -delete 2>/dev/null
    fi
    [ -n "$lockfd" ] && exec {lockfd}>&-
    return 0
}

# _vm_accel_boot KERNEL [QEMU_ARG...]: boots KERNEL under KVM with an init that prints the marker
# on the console and powers off; sets the verdict, and _VM_ACCEL_CACHEABLE=1 when it is one.
_vm_accel_boot() {
    local kernel=$1
    shift
    local deadline=${OOMWARDEN_VM_PROBE_SECONDS:-15} busybox tmp
    _VM_ACCEL_CACHEABLE=0
    if ! command -v "$VM_ACCEL_QEMU" >/dev/null; then
        _vm_accel_set tcg "kvm present but not probed: no $VM_ACCEL_QEMU"
        return 0
    fi
    busybox=$(command -v busybox)
    if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
        _vm_accel_set tcg "kvm present but not probed: no static busybox for the probe's init (package busybox-static)"
        return 0
    fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/oomwarden-accel.XXXXXX") || {
        _vm_accel_set tcg "kvm present but not probed: cannot make a temporary directory"
        return 0
    }
    mkdir -p "$tmp/root/bin"
    cp "$busybox" "$tmp/root/bin/busybox"
    # PID 1: the marker on the console, then off; nothing else (no mounts: the console is there)
    printf '#!/bin/busybox sh\necho %s\n/bin/busybox poweroff -f\n' "$VM_ACCEL_MARKER" >"$tmp/root/init"
    chmod 755 "$tmp/root/init"
    if ! (cd "$tmp/root" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$tmp/initrd"; then
        rm -rf "$tmp"
        _vm_accel_set tcg "kvm present but not probed: cannot pack the probe's initramfs (cpio)"
        return 0
    fi
    local t0 pid rc=running now elapsed
    t0=$(date +%s.%N)
    "$VM_ACCEL_QEMU" -nodefaults -no-user-config -machine pc,accel=kvm -smp 1 -m 128 \
        -display none -no-reboot -monitor none "$@" \
        -kernel "$kernel" -initrd "$tmp/initrd" -append "console=ttyS0 panic=-1" \
        -serial "file:$tmp/console.log" </dev/null >"$tmp/qemu.log" 2>&1 &
    pid=$!
    # poll: a working KVM guest prints the marker in about a second
    while :; do
        if grep -qa "^$VM_ACCEL_MARKER" "$tmp/console.log" 2>/dev/null; then
            rc=marker
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            rc=$?
            grep -qa "^$VM_ACCEL_MARKER" "$tmp/console.log" 2>/dev/null && rc=marker
            break
        fi
        now=$(date +%s.%N)
        awk -v a="$now" -v b="$t0" -v d="$deadline" 'BEGIN { exit !(a - b >= d) }' && break
        sleep 0.1
    done 2>/dev/null # bash reports a qemu that died of a signal here: qemu.log says it better
    elapsed=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        sleep 0.3
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    local lines qerr
    lines=$(cat "$tmp/console.log" 2>/dev/null | tr -d '\r' | grep -c .)
    qerr=$(grep -v 'terminating on signal' "$tmp/qemu.log" 2>/dev/null | tail -1)
    qerr=${qerr#"$VM_ACCEL_QEMU": }
    qerr=${qerr#qemu-system-x86_64: }
    _VM_ACCEL_CACHEABLE=1
    case "$rc" in
    marker) _vm_accel_set kvm "a probe guest reached its init under kvm in $elapsed s" ;;
    running)
        if [ "$lines" -eq 0 ]; then
            _vm_accel_set tcg "kvm present but a probe guest printed nothing in $deadline s${qerr:+; qemu: $qerr}"
        else
            _vm_accel_set tcg "kvm present but a probe guest did not reach its init in $deadline s ($lines console lines)"
        fi
        ;;
    *)
        local how="exited with status $rc"
        [ "$rc" -gt 128 ] && how="died of SIG$(kill -l $((rc - 128)) 2>/dev/null)"
        _vm_accel_set tcg "kvm present but qemu -accel kvm $how before the probe guest's init${qerr:+: $qerr}"
        ;;
    esac
    rm -rf "$tmp"
    return 0
}
