# Host side of the VM harness (sourced by tests/vm/run): the kernel from Debian's .deb, the
# initramfs, one boot with hard timeouts, and the results the guest sends back.
#
# Two serial ports: ttyS0 is the kernel console (for people: console.log), ttyS1 belongs to the
# guest's init alone and carries framed, gzip+base64 files (data.log), so kernel messages can
# never interleave with results.

VM_DIR=${VM_DIR:-$TOP/tests/vm}
VM_CACHE=${OOMWARDEN_VM_CACHE:-$VM_DIR/cache}
VM_LOGS=${OOMWARDEN_VM_LOGS:-$TOP/build/vm-logs}
VM_BIN=${OOMWARDEN:-$TOP/build/oomwarden}
VM_HOG=${HOG:-$TOP/build/tests/helpers/hog}
VM_QEMU=${QEMU:-qemu-system-x86_64}
VM_META_PKG=linux-image-amd64 # Debian 12: depends on the current linux-image-6.1.*-amd64

# Set by vm_kernel: the kernel image and a human-readable name for it.
VM_KERNEL=""
VM_KERNEL_DESC=""
# Set by vm_initrd.
VM_INITRD=""
# Set by vm_boot.
VM_FAILURE=""
VM_GUEST_RC=""
VM_SECONDS=""

vm_log() { echo "# vm: $*" >&2; }

# _vm_resolve_kernel_pkg: prints the real linux-image-6.1.*-amd64 package the metapackage
# depends on (resolved every run, so a Debian security update brings the new kernel).
_vm_resolve_kernel_pkg() {
    apt-cache depends "$VM_META_PKG" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# vm_kernel: sets VM_KERNEL (a bzImage) and VM_KERNEL_DESC; returns 1 with a reason in
# VM_FAILURE when there is no way to get a kernel. $OOMWARDEN_VM_KERNEL overrides everything
# (e.g. to try another kernel by hand).
vm_kernel() {
    if [ -n "${OOMWARDEN_VM_KERNEL:-}" ]; then
        VM_KERNEL=$OOMWARDEN_VM_KERNEL
        VM_KERNEL_DESC="$(basename "$VM_KERNEL") (OOMWARDEN_VM_KERNEL)"
        [ -f "$VM_KERNEL" ] || { VM_FAILURE="OOMWARDEN_VM_KERNEL=$VM_KERNEL does not exist"; return 1; }
        return 0
    fi
    local pkg
    pkg=$(_vm_resolve_kernel_pkg)
    if [ -z "$pkg" ]; then
        # no package lists yet (fresh machine): fetch them once from Debian's registry
        vm_log "no package lists for $VM_META_PKG; running apt-get update"
        apt-get update -q >/dev/null 2>&1
        pkg=$(_vm_resolve_kernel_pkg)
    fi
    local dir
    if [ -n "$pkg" ]; then
        dir=$VM_CACHE/kernel/$pkg
        if [ ! -f "$dir/vmlinuz" ]; then
            _vm_fetch_kernel "$pkg" "$dir" || dir=""
        fi
    fi
    if [ -z "$pkg" ] || [ -z "$dir" ]; then
        # the registry is unreachable: an older cached kernel is still a real 6.1 kernel
        dir=$(ls -d "$VM_CACHE"/kernel/linux-image-*/ 2>/dev/null | sort -V | tail -1)
        dir=${dir%/}
        if [ -z "$dir" ] || [ ! -f "$dir/vmlinuz" ]; then
            VM_FAILURE="cannot get a kernel: ${pkg:-$VM_META_PKG} not resolvable or not downloadable from Debian's registry, and nothing cached in $VM_CACHE/kernel"
            return 1
        fi
        vm_log "using the cached $(basename "$dir") (could not get ${pkg:-the current one})"
    fi
    VM_KERNEL=$dir/vmlinuz
    VM_KERNEL_DESC="$(basename "$dir") $(cat "$dir/VERSION" 2>/dev/null)"
}

# _vm_unpack_deb PKG TMP MEMBER: apt-get download PKG into TMP and unpack MEMBER (./boot,
# ./usr/bin/x) of it under TMP/x; prints the .deb's path. Nothing is installed.
_vm_unpack_deb() {
    local pkg=$1 tmp=$2 member=$3 deb
    vm_log "downloading $pkg from Debian's registry"
    # the sandbox user _apt cannot write into our private temp dir
    if ! (cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$pkg" >"$tmp/apt.log" 2>&1); then
        vm_log "apt-get download $pkg failed: $(tail -2 "$tmp/apt.log")"
        return 1
    fi
    deb=$(ls "$tmp"/*.deb)
    mkdir -p "$tmp/x"
    if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" "$member"; then
        vm_log "cannot unpack $member from $deb"
        return 1
    fi
    echo "$deb"
}

# _vm_fetch_kernel PKG DIR: the kernel's .deb unpacked; keeps vmlinuz and config (8 MB), not the
# .deb (70 MB) nor the modules (the scenarios need none, see README).
_vm_fetch_kernel() {
    local pkg=$1 dir=$2 tmp deb rc=1
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/oomwarden-vm-kernel.XXXXXX") || return 1
    if deb=$(_vm_unpack_deb "$pkg" "$tmp" ./boot); then
        mkdir -p "$dir"
        cp "$tmp"/x/boot/vmlinuz-* "$dir/vmlinuz.tmp" && cp "$tmp"/x/boot/config-* "$dir/config" &&
            dpkg-deb -f "$deb" Version >"$dir/VERSION" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
        rc=$?
    fi
    rm -rf "$tmp"
    return $rc
}

# vm_extra_bin NAME: the path of the program NAME (the Debian package of the same name), for the
# guest: this machine's when installed, else taken out of the package's .deb into
# $VM_CACHE/bin/NAME-VERSION/ (a peer such as earlyoom is a daemon: installing it on the host
# would start it there). Prints nothing when neither can be had.
vm_extra_bin() {
    local name=$1 path ver dir tmp
    path=$(command -v "$name" 2>/dev/null) && { echo "$path"; return 0; }
    ver=$(apt-cache policy "$name" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
    dir=$VM_CACHE/bin/$name-$ver
    if [ ! -x "$dir/$name" ]; then
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/oomwarden-vm-bin.XXXXXX") || return 1
        if _vm_unpack_deb "$name" "$tmp" "./usr/bin/$name" >/dev/null; then
            mkdir -p "$dir" && cp "$tmp/x/usr/bin/$name" "$dir/$name.tmp" && mv "$dir/$name.tmp" "$dir/$name"
        fi
        rm -rf "$tmp"
    fi
    [ -x "$dir/$name" ] && echo "$dir/$name"
}

# vm_kernel_config_check: what the harness relies on must be built in (=y), since the initramfs
# carries no modules. Prints the missing options.
vm_kernel_config_check() {
    local cfg=${VM_KERNEL%/*}/config opt missing=""
    [ -f "$cfg" ] || return 0 # a kernel given by hand: we cannot tell; the boot will
    for opt in CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP CONFIG_DEVTMPFS CONFIG_TMPFS CONFIG_CGROUPS \
        CONFIG_MEMCG CONFIG_PSI CONFIG_SERIAL_8250 CONFIG_SERIAL_8250_CONSOLE; do
        grep -qx "$opt=y" "$cfg" || missing="$missing $opt"
    done
    grep -qx 'CONFIG_PSI_DEFAULT_DISABLED=y' "$cfg" && vm_log "PSI is off by default in this kernel; psi=1 turns it on"
    echo "${missing# }"
}

# _vm_hash FILE...: one hash over the names and contents of files, to name cached archives.
_vm_hash() { { printf '%s\n' "$@"; cat "$@"; } | sha256sum | cut -c1-16; }

# _vm_libs BIN...: the shared libraries (and loader) the binaries need, as absolute paths.
_vm_libs() {
    ldd "$@" 2>/dev/null | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]*ld-linux/ { print $1 }' | sort -u
}

# _vm_cpio DIR OUT: a gzip'd newc archive of DIR, owned by root, reproducible enough to cache.
_vm_cpio() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 -n >"$2.tmp" &&
        mv "$2.tmp" "$2"
}

# vm_initrd: sets VM_INITRD. Two archives, concatenated (the kernel unpacks them in turn):
#   base: busybox-static, the shared libraries of the binaries, /etc; cached by content
#   payload: oomwarden, hog, the guest init and every scenario; rebuilt when any of them changes
# The scenario to run is chosen on the kernel command line, so one initramfs serves them all.
vm_initrd() {
    local busybox
    busybox=$(command -v busybox) || { VM_FAILURE="busybox not found (package busybox-static)"; return 1; }
    # the guest has no libraries of its own but those _vm_libs copies for our binaries
    if ldd "$busybox" >/dev/null 2>&1; then
        VM_FAILURE="$busybox is not statically linked (install busybox-static)"
        return 1
    fi
    # peers to compare with (bench/guard, guard-node): Debian's earlyoom
    local extra=()
    local e
    for e in ${VM_EXTRA_BINS:-earlyoom}; do
        e=$(vm_extra_bin "$e") && extra+=("$e")
    done
    local libs
    libs=$(_vm_libs "$VM_BIN" "$VM_HOG" "${extra[@]}")
    mkdir -p "$VM_CACHE/initramfs"
    # shellcheck disable=SC2086
    local base_key payload_key
    base_key=$(_vm_hash "$busybox" $libs "$VM_DIR/lib/vm.sh")
    payload_key=$(cd "$VM_DIR" && _vm_hash "$VM_BIN" "$VM_HOG" "${extra[@]}" guest/* \
        $(find scenarios -type f | LC_ALL=C sort) $(find "$TOP/deploy/examples" -type f | LC_ALL=C sort))
    local base=$VM_CACHE/initramfs/base-$base_key.cpio.gz
    local payload=$VM_CACHE/initramfs/payload-$payload_key.cpio.gz
    local all=$VM_CACHE/initramfs/initrd-$base_key-$payload_key.img
    if [ -f "$all" ]; then
        VM_INITRD=$all
        return 0
    fi
    local tmp
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/oomwarden-vm-initrd.XXXXXX") || return 1
    if [ ! -f "$base" ]; then
        local r=$tmp/base l
        mkdir -p "$r"/{bin,sbin,dev,proc,sys,tmp,run,out,etc,root}
        cp "$busybox" "$r/bin/busybox"
        for l in $libs; do
            mkdir -p "$r$(dirname "$l")"
            cp -L "$l" "$r$l"
        done
        # names for uid 0 (ps shows a user) and nothing else
        echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
        echo 'root:x:0:' >"$r/etc/group"
        _vm_cpio "$r" "$base" || { rm -rf "$tmp"; VM_FAILURE="cannot build the base initramfs"; return 1; }
    fi
    if [ ! -f "$payload" ]; then
        local p=$tmp/payload
        mkdir -p "$p/bin" "$p/oomwarden"
        cp "$VM_BIN" "$p/bin/oomwarden"
        cp "$VM_HOG" "$p/bin/hog"
        for e in "${extra[@]}"; do cp "$e" "$p/bin/"; done
        # the shipped example configs: scenarios run the agent with them as they are
        cp -r "$TOP/deploy/examples" "$p/oomwarden/examples"
        cp "$VM_DIR/guest/init" "$p/init"
        cp "$VM_DIR/guest/lib.sh" "$p/oomwarden/lib.sh"
        cp -r "$VM_DIR/scenarios" "$p/oomwarden/scenarios"
        chmod 755 "$p/init"
        _vm_cpio "$p" "$payload" || { rm -rf "$tmp"; VM_FAILURE="cannot build the payload initramfs"; return 1; }
    fi
    rm -rf "$tmp"
    # old archives of earlier binaries: keep the cache from growing without bound
    find "$VM_CACHE/initramfs" -name '*.img' -mmin +60 -delete 2>/dev/null
    find "$VM_CACHE/initramfs" -name 'payload-*' -mmin +60 -delete 2>/dev/null
    cat "$base" "$payload" >"$all.tmp" && mv "$all.tmp" "$all"
    VM_INITRD=$all
}

# The qemu process of the boot in progress, for the trap.
VM_QEMU_PID=""
vm_kill_qemu() {
    if [ -n "$VM_QEMU_PID" ]; then
        kill -TERM "$VM_QEMU_PID" 2>/dev/null
        sleep 0.5
        kill -KILL "$VM_QEMU_PID" 2>/dev/null
        wait "$VM_QEMU_PID" 2>/dev/null
        VM_QEMU_PID=""
    fi
}

# vm_accel: the accelerator of the boots, KVM only when lib/accel.sh's probe saw a guest run
# with it (vm_accel_probe, run by tests/vm/run once the kernel is known), else TCG emulation.
vm_accel() { echo "${VM_ACCEL:-tcg}"; }

# vm_boot NAME OUT MEM_MB TIMEOUT_S APPEND [interactive]: boots the scenario NAME; the guest's
# files land in OUT (kernel.log, scenario.log, and what the scenario saved), with console.log
# and data.log beside them. Sets VM_GUEST_RC, VM_SECONDS and, when the boot itself went wrong,
# VM_FAILURE (kernel panic, hang, no userspace, scenario error) and returns 1.
vm_boot() {
    local name=$1 out=$2 mem=$3 timeout_s=$4 append=$5 interactive=${6:-}
    VM_FAILURE="" VM_GUEST_RC="" VM_SECONDS=""
    rm -rf "$out"
    mkdir -p "$out"
    # the guest gives the scenario all but 20 s, so that a stuck scenario still sends its logs
    local guest_timeout=$((timeout_s - 20))
    local cmdline="console=ttyS0 psi=1 log_buf_len=8M panic=-1 loglevel=${VM_LOGLEVEL:-4}"
    cmdline="$cmdline oomwarden.scenario=$name oomwarden.timeout=$guest_timeout $append"
    local -a qemu=("$VM_QEMU" -nodefaults -no-user-config -machine "pc,accel=$(vm_accel)"
        -smp 1 -m "$mem" -display none -no-reboot -monitor none
        -kernel "$VM_KERNEL" -initrd "$VM_INITRD")
    local t0 rc
    t0=$(date +%s.%N)
    if [ -n "$interactive" ]; then
        # the console is this terminal; the guest runs the scenario, then a shell (Ctrl-A X quits)
        echo "console below; Ctrl-A X ends qemu; results go to $out" >&2
        "${qemu[@]}" -append "$cmdline oomwarden.debug=1" -serial mon:stdio -serial "file:$out/data.log"
        rc=$?
    else
        timeout --kill-after=5 "$timeout_s" "${qemu[@]}" -append "$cmdline" \
            -serial "file:$out/console.log" -serial "file:$out/data.log" </dev/null >"$out/qemu.log" 2>&1 &
        VM_QEMU_PID=$!
        wait "$VM_QEMU_PID"
        rc=$?
        VM_QEMU_PID=""
    fi
    VM_SECONDS=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }')
    _vm_unpack "$out/data.log" "$out"
    VM_GUEST_RC=$(sed -n 's/^OOMWARDEN-VM EXIT \([0-9]*\).*/\1/p' "$out/data.log" 2>/dev/null | tail -1)
    [ -n "$interactive" ] && return 0
    local panic
    panic=$(grep -a -m1 'Kernel panic' "$out/console.log" 2>/dev/null | tr -d '\r')
    if [ -n "$panic" ]; then
        VM_FAILURE="kernel panic: ${panic#*] } (console.log)"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        if grep -qa '^OOMWARDEN-VM BOOTED' "$out/data.log" 2>/dev/null; then
            VM_FAILURE="hang: the VM booted but did not finish within ${timeout_s}s (console.log has the scenario output so far)"
        else
            VM_FAILURE="hang: the VM did not reach the guest init within ${timeout_s}s (console.log)"
        fi
    elif [ "$rc" -ne 0 ]; then
        VM_FAILURE="qemu exited with status $rc: $(tail -3 "$out/qemu.log" | tr '\n' ' ')"
    elif ! grep -qa '^OOMWARDEN-VM BOOTED' "$out/data.log" 2>/dev/null; then
        VM_FAILURE="the VM stopped before the guest init ran (console.log)"
    elif [ -z "$VM_GUEST_RC" ]; then
        VM_FAILURE="the VM stopped before the scenario finished (no exit marker; console.log)"
    elif [ "$VM_GUEST_RC" = 124 ]; then
        VM_FAILURE="scenario timed out inside the VM after ${guest_timeout}s (scenario.log)"
    elif [ "$VM_GUEST_RC" != 0 ]; then
        VM_FAILURE="scenario error: exit status $VM_GUEST_RC; last lines of scenario.log: $(tail -5 "$out/scenario.log" 2>/dev/null | tr '\n' '|')"
    fi
    [ -z "$VM_FAILURE" ]
}

# _vm_unpack DATA OUT: the framed files of the guest's ttyS1 stream:
#   OOMWARDEN-VM FILE <name>      then base64 of the gzip'd file, then
#   OOMWARDEN-VM END <name>
_vm_unpack() {
    local data=$1 out=$2 name
    [ -f "$data" ] || return 0
    for name in $(sed -n 's/^OOMWARDEN-VM FILE \([A-Za-z0-9._-]*\)\r*$/\1/p' "$data"); do
        awk -v n="$name" '
            $0 ~ "^OOMWARDEN-VM FILE " n "\r?$" { on = 1; next }
            $0 ~ "^OOMWARDEN-VM END " n "\r?$" { on = 0; exit }
            on { print }' "$data" | tr -d '\r' | base64 -d 2>/dev/null | gunzip -c >"$out/$name" 2>/dev/null ||
            echo "# vm: $name arrived truncated" >&2
    done
}
