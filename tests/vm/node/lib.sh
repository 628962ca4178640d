# Host side of the node harness (sourced by tests/vm/node/image, tests/vm/run --script and the
# node matrix): the Debian 12 node image with three real kernels, cached by its inputs, and one
# boot of it with a scenario disk. See tests/vm/node/README.md.
#
# Needs: debootstrap, e2fsprogs (mkfs.ext4 -d, debugfs), qemu-system-x86, apt; root (chroot).

. "$TOP/tests/vm/lib/accel.sh"

NODE_DIR=${NODE_DIR:-$TOP/tests/vm/node}
NODE_CACHE=${OOMWARDEN_VM_CACHE:-$TOP/tests/vm/cache}/node
NODE_SUITE=bookworm
# The three kernels: Debian release -> its linux-image-amd64's real package. The order is the
# matrix's.
NODE_KERNEL_SUITES="bullseye bookworm trixie"
NODE_QEMU=${QEMU:-qemu-system-x86_64}
# A failure's reason, for the caller to print.
NODE_FAILURE=""

node_log() { echo "# node: $*" >&2; }

# node_kernel_suite 5.10|6.1|6.12: the Debian release whose kernel that is
node_kernel_suite() {
    case "$1" in
    5.10) echo bullseye ;;
    6.1) echo bookworm ;;
    6.12) echo trixie ;;
    *) return 1 ;;
    esac
}

# node_mirrors: "MIRROR SECURITY_MIRROR" — the Debian archive this machine's apt already uses
# (deb822 .sources or one-line sources.list), so that a machine behind its own mirror or proxy
# builds from it too. $OOMWARDEN_DEBIAN_MIRROR / $OOMWARDEN_DEBIAN_SECURITY override. The
# security mirror may be "-" (none known: point releases carry the kernels too).
node_mirrors() {
    local main=${OOMWARDEN_DEBIAN_MIRROR:-} sec=${OOMWARDEN_DEBIAN_SECURITY:-}
    if [ -z "$main" ] || [ -z "$sec" ]; then
        local found
        found=$(
            {
                # deb822: one stanza per blank-line-separated block
                cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
                    /^[ \t]*$/ { flush(); next }
                    /^#/ { next }
                    tolower($1) == "types:" { types = $0 }
                    tolower($1) == "uris:" { uri = $2 }
                    tolower($1) == "suites:" { suites = $0 }
                    function flush() {
                        if (types ~ /[ \t]deb([ \t]|$)/ && uri != "") {
                            n = split(suites, s, /[ \t]+/)
                            for (i = 2; i <= n; i++)
                                if (s[i] ~ /-security$/) print "sec", uri
                                else if (s[i] ~ /^[a-z]+$/) print "main", uri
                        }
                        types = uri = suites = ""
                    }
                    END { flush() }'
                # one-line format: deb [opts] URI SUITE COMPONENTS...
                cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
                    $1 == "deb" {
                        i = 2
                        if ($2 ~ /^\[/) while (i <= NF && $i !~ /\]$/) i++
                        if ($2 ~ /^\[/) i++
                        if ($(i + 1) ~ /-security$/) print "sec", $i
                        else if ($(i + 1) ~ /^[a-z]+$/) print "main", $i
                    }'
            } | awk '!seen[$1]++'
        )
        [ -z "$main" ] && main=$(echo "$found" | awk '$1 == "main" { print $2 }')
        [ -z "$sec" ] && sec=$(echo "$found" | awk '$1 == "sec" { print $2 }')
    fi
    [ -n "$main" ] || return 1
    echo "${main%/} ${sec:--}"
}

# _node_apt SUITE CMD ARGS...: apt-get/apt-cache with a private state for SUITE under the
# cache (its own sources list, lists and archives): the host's apt sources stay as they are.
_node_apt() {
    local suite=$1 cmd=$2 d=$NODE_CACHE/apt/$1
    shift 2
    "$cmd" -q -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts="$d/parts" \
        -o Dir::State="$d/state" -o Dir::State::Lists="$d/lists" -o Dir::State::status=/dev/null \
        -o Dir::Cache="$d/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

# _node_apt_update SUITE: refreshes SUITE's private lists when they are missing or older than
# 12 hours (a Debian kernel update then rebuilds the image). Returns 1 when there are no lists.
_node_apt_update() {
    local suite=$1 d=$NODE_CACHE/apt/$1 mirrors main sec
    mkdir -p "$d/parts" "$d/state" "$d/lists/partial" "$d/cache/archives/partial"
    if [ -n "$(find "$d/lists" -maxdepth 1 -name '*_Packages*' -mmin -720 2>/dev/null)" ]; then
        return 0
    fi
    mirrors=$(node_mirrors) || { node_log "no Debian mirror in this machine's apt sources (set OOMWARDEN_DEBIAN_MIRROR)"; mirrors=""; }
    if [ -n "$mirrors" ]; then
        read -r main sec <<<"$mirrors"
        {
            echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main $suite main"
            [ "$sec" != - ] && echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $sec $suite-security main"
        } >"$d/sources.list"
        _node_apt "$suite" apt-get update >"$d/update.log" 2>&1 ||
            node_log "apt-get update for $suite failed: $(tail -2 "$d/update.log" | tr '\n' ' ')"
    fi
    [ -n "$(find "$d/lists" -maxdepth 1 -name '*_Packages*' 2>/dev/null)" ]
}

# node_kernel_pkgs: one line per suite, "SUITE PACKAGE VERSION" of the real kernel package that
# SUITE's linux-image-amd64 depends on today. Returns 1 (NODE_FAILURE) when a suite has no lists.
node_kernel_pkgs() {
    local suite pkg ver
    for suite in $NODE_KERNEL_SUITES; do
        if ! _node_apt_update "$suite"; then
            NODE_FAILURE="no package lists for $suite (Debian's registry unreachable?)"
            return 1
        fi
        pkg=$(_node_apt "$suite" apt-cache depends linux-image-amd64 2>/dev/null |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
        ver=$(_node_apt "$suite" apt-cache show "$pkg" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
        if [ -z "$pkg" ] || [ -z "$ver" ]; then
            NODE_FAILURE="cannot resolve $suite's linux-image-amd64"
            return 1
        fi
        echo "$suite $pkg $ver"
    done
}

# node_image: sets NODE_IMAGE to the directory of a built image (root.img, kernels/VERSION/
# {vmlinuz,initrd.img,config}, manifest), building it when its inputs changed. When Debian's
# registry cannot be reached, the newest image already built is used.
NODE_IMAGE=""
node_image() {
    local pkgs key dir
    NODE_FAILURE=""
    mkdir -p "$NODE_CACHE"
    . "$NODE_DIR/build.sh"
    if pkgs=$(node_kernel_pkgs); then
        key=$(node_image_inputs "$pkgs" | sha256sum | cut -c1-16)
        dir=$NODE_CACHE/image-$key
        if [ ! -f "$dir/manifest" ]; then
            # one build at a time; a second caller waits and then finds it built
            exec {_node_lock}>"$NODE_CACHE/.build.lock"
            flock "$_node_lock"
            if [ ! -f "$dir/manifest" ]; then
                node_image_build "$dir" "$pkgs" || {
                    flock -u "$_node_lock"
                    return 1
                }
            fi
            flock -u "$_node_lock"
        fi
    else
        # the newest complete one (a build in progress or cut short has no manifest)
        dir=$(ls -t "$NODE_CACHE"/image-*/manifest 2>/dev/null | head -1)
        dir=${dir%/manifest}
        [ -n "$dir" ] || {
            NODE_FAILURE="$NODE_FAILURE; no node image built before in $NODE_CACHE"
            return 1
        }
        node_log "$NODE_FAILURE: using the image built before ($(basename "$dir"))"
        NODE_FAILURE=""
    fi
    NODE_IMAGE=$dir
}

# node_cells: the matrix, one "KERNEL CGROUP" per line, from the image's kernels: v2 on each;
# v1 where the kernel still has the v1 memory controller (6.11+ needs CONFIG_MEMCG_V1) and
# bookworm's systemd 252 boots with systemd.unified_cgroup_hierarchy=0.
node_cells() {
    local k v
    for k in 5.10 6.1 6.12; do
        v=$(node_kernel_version "$k") || continue
        echo "$k v2"
    done
    for k in 5.10 6.1 6.12; do
        v=$(node_kernel_version "$k") || continue
        if node_has_v1 "$v"; then echo "$k v1"; fi
    done
}

# node_kernel_version 5.10|6.1|6.12: the image's kernel of that series ("6.1.0-57-amd64")
node_kernel_version() {
    local v
    for v in $(ls "$NODE_IMAGE/kernels"); do
        case "$v" in "$1".*) echo "$v"; return 0 ;; esac
    done
    return 1
}

# node_has_v1 VERSION: the kernel can mount the v1 memory controller (CONFIG_MEMCG_V1 exists
# since 6.11 and may be off; before it, v1 came with CONFIG_MEMCG)
node_has_v1() {
    local cfg=$NODE_IMAGE/kernels/$1/config
    if grep -q '^# CONFIG_MEMCG_V1 is not set' "$cfg"; then return 1; fi
    grep -qx 'CONFIG_MEMCG=y' "$cfg"
}

# node_accel [SERIES]: sets NODE_ACCEL to "kvm" only where tests/vm/lib/accel.sh's probe saw a
# guest run under KVM (this machine's /dev/kvm opens but cannot run one), else "tcg", and
# NODE_ACCEL_WHY to the probe's reason. The probe boots the node image's SERIES kernel (default
# 6.1, else the first one the image has) with its own tiny init; its verdict is cached per boot
# of the machine and shared with tests/vm/run's.
NODE_ACCEL="" NODE_ACCEL_WHY=""
node_accel() {
    [ -n "$NODE_ACCEL" ] && return 0
    local kv="" kernel=""
    if [ -n "${NODE_IMAGE:-}" ]; then
        kv=$(node_kernel_version "${1:-6.1}") || kv=$(ls "$NODE_IMAGE/kernels" 2>/dev/null | head -1)
        [ -n "$kv" ] && kernel=$NODE_IMAGE/kernels/$kv/vmlinuz
    fi
    vm_accel_probe "$kernel"
    NODE_ACCEL=$VM_ACCEL NODE_ACCEL_WHY=$VM_ACCEL_REASON
}

# node_cmdline KERNEL_SERIES CGROUP: the kernel command line of a node boot, with
# $NODE_CMDLINE_EXTRA at its end
node_cmdline() {
    local c="root=/dev/vda rw console=ttyS0,115200 psi=1 log_buf_len=8M panic=-1 loglevel=4"
    c="$c systemd.unit=oomwarden.target oomwarden.node=1"
    # bookworm's systemd 252 still boots on v1 (a hybrid layout, as on this project's own
    # machines: v1 controllers, systemd's tree on a v2 mount at /sys/fs/cgroup/unified)
    [ "$2" = v1 ] && c="$c systemd.unified_cgroup_hierarchy=0"
    # a caller's own additions (bench/node-peers: a soft lockup ends the boot with a panic)
    echo "$c${NODE_CMDLINE_EXTRA:+ $NODE_CMDLINE_EXTRA}"
}

# node_scenario_disk STAGE IMG: the small second disk (mkfs.ext4 -d, no ext4 journal so that a
# sync in the guest puts everything on it): oomwarden, hog, the guest harness, the scenario.
# STAGE already holds scenario (the script) and anything else the caller put there.
node_scenario_disk() {
    local stage=$1 img=$2
    mkdir -p "$stage/bin" "$stage/guest" "$stage/out"
    cp "${OOMWARDEN:-$TOP/build/oomwarden}" "$stage/bin/oomwarden" || return 1
    cp "${HOG:-$TOP/build/tests/helpers/hog}" "$stage/bin/hog" || return 1
    cp "$NODE_DIR/guest/run" "$NODE_DIR/guest/lib.sh" "$stage/guest/"
    # the busybox harness's helpers (log, fact, fail, alive, wait_gone, start_agent, ...)
    cp "$TOP/tests/vm/guest/lib.sh" "$stage/guest/common.sh"
    cp -r "$TOP/deploy/examples" "$stage/examples"
    rm -f "$img"
    mkfs.ext4 -q -F -O ^has_journal -L owscen -d "$stage" "$img" 512M
}

# node_boot KERNEL_SERIES CGROUP STAGE OUT TIMEOUT_S MEM_MB [interactive]: boots the node image
# with that kernel and cgroup mode and the scenario in STAGE (node_scenario_disk), and with
# $NODE_HUB_NICS set two NICs more, wired to each other (NODE_HUB_MACS); the guest's
# out/ lands in OUT with console.log beside it. Sets NODE_SECONDS, NODE_GUEST_RC and, when the
# boot itself went wrong, NODE_FAILURE (panic, hang, no multi-user.target, scenario timeout).
# The qemu in progress is VM_QEMU_PID, for tests/vm/lib/vm.sh's vm_kill_qemu (the callers' traps).
NODE_SECONDS=""
NODE_GUEST_RC=""
# the hub NICs' addresses (sender, receiver), when $NODE_HUB_NICS is set; the guest finds them
# by these (guest/lib.sh hub_nic)
NODE_HUB_MACS="52:54:00:99:00:01 52:54:00:99:00:02"
node_boot() {
    local series=$1 cg=$2 stage=$3 out=$4 timeout_s=$5 mem=$6 interactive=${7:-}
    NODE_FAILURE="" NODE_SECONDS="" NODE_GUEST_RC=""
    local kv kdir
    kv=$(node_kernel_version "$series") || { NODE_FAILURE="no $series kernel in the node image"; return 1; }
    kdir=$NODE_IMAGE/kernels/$kv
    rm -rf "$out"
    mkdir -p "$out"
    # the guest gives the scenario all but 60 s (boot, collecting the journal, power-off)
    echo $((timeout_s - 60)) >"$stage/timeout"
    [ -n "${NODE_HUB_NICS:-}" ] && echo "$NODE_HUB_MACS" >"$stage/hub_macs"
    node_scenario_disk "$stage" "$out/scenario.img" >"$out/mkfs.log" 2>&1 || {
        NODE_FAILURE="cannot make the scenario disk: $(tail -2 "$out/mkfs.log")"
        return 1
    }
    node_accel
    local -a qemu=("$NODE_QEMU" -nodefaults -no-user-config -machine "pc,accel=$NODE_ACCEL"
        -smp "${NODE_SMP:-2}" -m "$mem" -display none -no-reboot -monitor none
        -kernel "$kdir/vmlinuz" -initrd "$kdir/initrd.img" -append "$(node_cmdline "$series" "$cg")"
        -drive "file=$NODE_IMAGE/root.img,if=virtio,format=raw,snapshot=on"
        -drive "file=$out/scenario.img,if=virtio,format=raw"
        -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0)
    # two more NICs on a qemu hub of their own, wired to each other only (NODE_HUB_MACS):
    # a sender and a receiver of the kernel's netconsole, which 6.12 no longer lets use a veth
    # ("owtx doesn't support polling"), while virtio-net still takes it on every kernel
    if [ -n "${NODE_HUB_NICS:-}" ]; then
        local mac
        for mac in $NODE_HUB_MACS; do
            qemu+=(-netdev "hubport,id=h${mac##*:},hubid=1" -device "virtio-net-pci,netdev=h${mac##*:},mac=$mac")
        done
    fi
    local t0 rc
    t0=$(date +%s.%N)
    if [ -n "$interactive" ]; then
        echo "console below (root shell on it after the boot); Ctrl-A X ends qemu" >&2
        "${qemu[@]}" -serial mon:stdio
        rc=$?
    else
        timeout --kill-after=5 "$timeout_s" "${qemu[@]}" -serial "file:$out/console.log" \
            </dev/null >"$out/qemu.log" 2>&1 &
        VM_QEMU_PID=$!
        # A guest that has said its results are on the disk (guest/run: "OOMWARDEN-NODE SYNCED"
        # after its sync) and does not power off within 20 s is stopped here: seen once in 6.1-v2's
        # explain-journal under TCG, "reboot: Power down" on the console and then qemu ran on to
        # the timeout, 420 s later, with the scenario's results complete on the disk.
        local synced_at="" stuck=""
        while kill -0 "$VM_QEMU_PID" 2>/dev/null; do
            if [ -z "$synced_at" ]; then
                grep -qa '^OOMWARDEN-NODE SYNCED' "$out/console.log" 2>/dev/null && synced_at=$SECONDS
            elif [ $((SECONDS - synced_at)) -ge 20 ]; then
                stuck=1
                kill -TERM "$VM_QEMU_PID" 2>/dev/null
                break
            fi
            sleep 1
        done
        wait "$VM_QEMU_PID"
        rc=$?
        VM_QEMU_PID=""
        if [ -n "$stuck" ]; then
            echo "# node: the guest synced its results, but qemu had not exited 20 s later: stopped it" >&2
            echo "poweroff_stuck 1" >>"$out/host-notes.txt"
            rc=0
        fi
    fi
    NODE_SECONDS=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }')
    # the guest's results, read from the disk image without mounting it
    debugfs -R "rdump /out $out" "$out/scenario.img" >"$out/debugfs.log" 2>&1
    if [ -d "$out/out" ]; then
        mv "$out"/out/* "$out"/ 2>/dev/null
        rmdir "$out/out" 2>/dev/null
    fi
    rm -f "$out/scenario.img"
    NODE_GUEST_RC=$(sed -n 's/^scenario_exit //p' "$out/boot.txt" 2>/dev/null)
    [ -n "$interactive" ] && return 0
    local panic
    panic=$(grep -a -m1 'Kernel panic' "$out/console.log" 2>/dev/null | tr -d '\r')
    if [ -n "$panic" ]; then
        NODE_FAILURE="kernel panic: ${panic#*] } (console.log)"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        if grep -qa '^OOMWARDEN-NODE BOOTED' "$out/console.log" 2>/dev/null; then
            NODE_FAILURE="hang: the node booted but did not finish within ${timeout_s}s (console.log)"
        else
            NODE_FAILURE="hang: the node did not reach multi-user.target and the scenario within ${timeout_s}s (console.log)"
        fi
    elif [ "$rc" -ne 0 ]; then
        NODE_FAILURE="qemu exited with status $rc: $(tail -3 "$out/qemu.log" | tr '\n' ' ')"
    elif [ ! -f "$out/boot.txt" ]; then
        NODE_FAILURE="the node stopped before the scenario ran (console.log)"
    elif [ -z "$NODE_GUEST_RC" ]; then
        NODE_FAILURE="the node stopped before the scenario finished (console.log)"
    elif [ "$NODE_GUEST_RC" = 124 ] || [ "$NODE_GUEST_RC" = 137 ]; then
        NODE_FAILURE="scenario timed out inside the node after $(cat "$stage/timeout")s (scenario.log)"
    fi
    [ -z "$NODE_FAILURE" ]
}
