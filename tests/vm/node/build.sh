# The node image's builder (sourced by lib.sh's node_image): debootstrap, the three kernels,
# the configuration, mkfs.ext4 -d. This file is one of the image's inputs: changing it rebuilds
# the image; the boot side (lib.sh) can change without that.

# node_image_inputs KERNEL_PKGS: everything the image is made of, as text; its hash names the
# cached image (the package list, the builder, the files baked into the image, the kernels).
node_image_inputs() {
    echo "suite $NODE_SUITE"
    echo "$1"
    (cd "$NODE_DIR" && find packages build.sh rootfs -type f | LC_ALL=C sort | xargs sha256sum)
}

# _node_chroot ROOT CMD...: a command inside the image being built, with nothing started
_node_chroot() {
    local root=$1
    shift
    LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$root" "$@"
}

# node_image_build DIR KERNEL_PKGS: debootstrap + kernels + configuration + mkfs.ext4 -d.
# Everything happens in DIR.tmp, renamed to DIR at the end (a half-built image never counts).
node_image_build() {
    local dir=$1 pkgs=$2 tmp=$1.tmp t0 mirrors main sec include root
    t0=$(date +%s)
    rm -rf "$tmp"
    mkdir -p "$tmp/kernels"
    root=$tmp/root
    local log=$tmp/build.log
    mirrors=$(node_mirrors) || { NODE_FAILURE="no Debian mirror in this machine's apt sources (set OOMWARDEN_DEBIAN_MIRROR)"; return 1; }
    read -r main sec <<<"$mirrors"
    include=$(sed 's/#.*//' "$NODE_DIR/packages" | awk 'NF { printf "%s%s", sep, $1; sep = "," }')
    node_log "building the node image in $tmp (debootstrap $NODE_SUITE from $main; log: $log)"
    mkdir -p "$NODE_CACHE/debs/bootstrap" "$NODE_CACHE/debs/kernels"
    if ! debootstrap --variant=minbase --include="$include" --cache-dir="$NODE_CACHE/debs/bootstrap" \
        "$NODE_SUITE" "$root" "$main" >>"$log" 2>&1; then
        NODE_FAILURE="debootstrap failed: $(tail -3 "$log" | tr '\n' ' ') (log: $log)"
        return 1
    fi
    local t_boot=$(($(date +%s) - t0))
    # the kernels: downloaded with each suite's private apt state, kept between builds
    local suite pkg ver debs=()
    while read -r suite pkg ver; do
        local deb
        deb=$(ls "$NODE_CACHE/debs/kernels/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -1)
        if [ -z "$deb" ]; then
            node_log "downloading $pkg $ver ($suite)"
            if ! (cd "$NODE_CACHE/debs/kernels" && _node_apt "$suite" apt-get download "$pkg=$ver") >>"$log" 2>&1; then
                NODE_FAILURE="apt-get download $pkg=$ver failed (log: $log)"
                return 1
            fi
            deb=$(ls "$NODE_CACHE/debs/kernels/${pkg}_"*.deb | head -1)
        fi
        debs+=("$deb")
    done <<<"$pkgs"
    # older kernel packages of the same suites are no longer needed
    local keep
    keep=$(printf '%s\n' "${debs[@]}")
    for deb in "$NODE_CACHE"/debs/kernels/*.deb; do
        grep -qxF "$deb" <<<"$keep" || rm -f "$deb"
    done
    # nothing is started inside the chroot
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    # the files baked into the image (units, network, journald, initramfs settings)
    cp -a "$NODE_DIR/rootfs/." "$root/"
    mkdir -p "$root/tmp/kernels"
    cp "${debs[@]}" "$root/tmp/kernels/"
    # dpkg runs each kernel's postinst: depmod and update-initramfs for that kernel (MODULES=list
    # from rootfs/etc/initramfs-tools: virtio and ext4 only, not this host's hardware)
    if ! _node_chroot "$root" sh -c 'dpkg -i /tmp/kernels/*.deb' >>"$log" 2>&1; then
        NODE_FAILURE="installing the kernels failed: $(tail -3 "$log" | tr '\n' ' ') (log: $log)"
        return 1
    fi
    rm -rf "$root/tmp/kernels"
    _node_configure "$root" >>"$log" 2>&1 || { NODE_FAILURE="configuring the image failed (log: $log)"; return 1; }
    # each kernel, its initramfs and config, for qemu -kernel/-initrd (no boot loader)
    local v
    for v in $(ls "$root/lib/modules"); do
        [ -f "$root/boot/vmlinuz-$v" ] && [ -f "$root/boot/initrd.img-$v" ] || {
            NODE_FAILURE="kernel $v has no vmlinuz or initrd.img in /boot (log: $log)"
            return 1
        }
        mkdir -p "$tmp/kernels/$v"
        cp "$root/boot/vmlinuz-$v" "$tmp/kernels/$v/vmlinuz"
        cp "$root/boot/initrd.img-$v" "$tmp/kernels/$v/initrd.img"
        cp "$root/boot/config-$v" "$tmp/kernels/$v/config"
    done
    rm -f "$root/usr/sbin/policy-rc.d"
    # the disk: the root's size plus room for containerd, journals and scenarios (writes go to a
    # per-boot snapshot; the image itself is never changed by a boot)
    local used size
    used=$(du -sm "$root" | cut -f1)
    size=$((used + 1024))
    if ! mkfs.ext4 -q -F -L node-root -d "$root" "$tmp/root.img" "${size}M" >>"$log" 2>&1; then
        NODE_FAILURE="mkfs.ext4 -d failed (log: $log)"
        return 1
    fi
    local secs=$(($(date +%s) - t0))
    {
        echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "seconds $secs"
        echo "debootstrap_seconds $t_boot"
        echo "root_mb $used"
        echo "disk_mb $size"
        echo "$pkgs" | sed 's/^/kernel_pkg /'
        for v in $(ls "$tmp/kernels"); do echo "kernel $v"; done
    } >"$tmp/manifest"
    rm -rf "$root"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    # earlier images (other inputs) go; the one in use by a concurrent boot is opened already
    local old
    for old in "$NODE_CACHE"/image-*; do
        [ "$old" = "$dir" ] || [ "${old%.tmp}" != "$old" ] || rm -rf "$old"
    done
    node_log "node image built in ${secs}s (debootstrap ${t_boot}s): $dir, root ${used} MB, disk ${size} MB"
}

# _node_configure ROOT: what a node needs beyond the packages. Output goes to the build log.
_node_configure() {
    local root=$1
    set -e
    echo node >"$root/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 node\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
    printf 'LABEL=node-root / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
    # a fixed machine-id: an empty one makes every boot a "first boot", which applies presets and
    # would enable the peers (earlyoom, systemd-oomd) the scenarios must turn on themselves
    echo 0123456789abcdef0123456789abcdef >"$root/etc/machine-id"
    # root without a password: a console login for --shell (the VM has no network to the outside)
    _node_chroot "$root" passwd -d root
    _node_chroot "$root" systemctl enable systemd-networkd.service systemd-resolved.service \
        containerd.service ssh.service oomwarden-scenario.service
    # the peers and what slows a boot without a network down stay off (after the enable, which
    # brings networkd's wait-online along); scenarios start what they test
    _node_chroot "$root" systemctl disable earlyoom.service systemd-oomd.service systemd-oomd.socket \
        systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
        e2scrub_all.timer e2scrub_reap.service fstrim.timer 2>&1 || true
    apt_clean=$root/var/cache/apt/archives
    rm -f "$apt_clean"/*.deb
    rm -rf "$root"/var/lib/apt/lists/*_Packages "$root"/var/lib/apt/lists/*_InRelease
    set +e
}

