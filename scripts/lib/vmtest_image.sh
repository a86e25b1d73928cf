# vmtest_image.sh: the cached Debian 12 guest image of scripts/vmtest (sourced).
#
# .build-vm/image-KEY/ holds root.img (ext4, the whole root file system), vmlinuz and initrd.
# KEY hashes the package list, VMTEST_IMAGE_VERSION and the guest files, so changing any of
# them builds a new image; an image is used only once its "ready" file exists. The base image
# is never written to: each run boots a qcow2 overlay on top of it.

# Bump when the way the image is made changes without the package list changing.
VMTEST_IMAGE_VERSION=1
VMTEST_SUITE=bookworm
VMTEST_PACKAGES=systemd-sysv,udev,iproute2,ethtool,kmod,linux-image-amd64,iperf3,procps,iputils-ping,dbus
VMTEST_IMAGE_SIZE=2G
guest_files=scripts/lib/vmtest_guest

image_key() {
    { printf '%s\n' "$VMTEST_IMAGE_VERSION" "$VMTEST_SUITE" "$VMTEST_PACKAGES"
      cat "$guest_files"/*; } | sha256sum | cut -c1-16
}

# The Debian mirror the host's apt uses for the suite (VMTEST_MIRROR wins); empty: debootstrap's default.
image_mirror() {
    if [[ -n ${VMTEST_MIRROR:-} ]]; then echo "$VMTEST_MIRROR"; return; fi
    local file
    for file in /etc/apt/sources.list.d/*.sources; do
        [[ -f $file ]] || continue
        awk -v suite="$VMTEST_SUITE" '
            /^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
            /^$/ { if (ok && uri !~ /security/) { print uri; exit } ok = 0 }
            END { if (ok && uri !~ /security/) print uri }' "$file" | head -1
    done | head -1
}

# Prints the image directory; builds it first when it is missing.
image_ensure() {
    local dir=.build-vm/image-$(image_key)
    if [[ -f $dir/ready ]]; then
        echo "vmtest: image: cached $dir" >&2
        echo "$dir"; return 0
    fi
    need_tools debootstrap:debootstrap mkfs.ext4:e2fsprogs || return 1
    local started=$SECONDS tmp=$dir.partial
    image_remove "$tmp" && mkdir -p "$tmp" || return 1
    echo "vmtest: image: debootstrap $VMTEST_SUITE (minbase + $VMTEST_PACKAGES) into $tmp/rootfs" >&2
    if ! debootstrap --variant=minbase --include="$VMTEST_PACKAGES" "$VMTEST_SUITE" "$tmp/rootfs" \
            $(image_mirror) >"$tmp/debootstrap.log" 2>&1; then
        tail -20 "$tmp/debootstrap.log" >&2
        echo "vmtest: image: debootstrap failed (log: $tmp/debootstrap.log); is a Debian mirror reachable? (VMTEST_MIRROR=URL)" >&2
        return 1
    fi
    echo "vmtest: image: debootstrap took $((SECONDS - started)) s" >&2
    image_configure "$tmp/rootfs" || return 1
    cp "$tmp"/rootfs/boot/vmlinuz-* "$tmp/vmlinuz" && cp "$tmp"/rootfs/boot/initrd.img-* "$tmp/initrd" || {
        echo "vmtest: image: no kernel or initrd in $tmp/rootfs/boot (linux-image-amd64 not installed?)" >&2; return 1; }
    mkfs.ext4 -q -F -L vmroot -d "$tmp/rootfs" "$tmp/root.img" "$VMTEST_IMAGE_SIZE" >&2 || return 1
    image_remove "$tmp/rootfs"
    image_remove "$dir" && mv "$tmp" "$dir" && touch "$dir/ready" || return 1
    echo "vmtest: image: built $dir in $((SECONDS - started)) s" >&2
    echo "$dir"
}

# An interrupted debootstrap leaves /proc and /sys mounted in the tree: unmount them, and never
# let rm cross into another file system.
image_remove() {
    [[ -e $1 ]] || return 0
    local path=$(realpath "$1")
    findmnt -rn -o TARGET | grep -F "$path/" | sort -r | xargs -r umount -l 2>/dev/null
    rm -rf --one-file-system "$path"
}

# Turns a debootstrapped tree into a bootable test guest: root on /dev/vda, the control
# channel agent, root without a password on the serial console, no timers doing work mid-test.
image_configure() {
    local root=$1
    echo vmtest >"$root/etc/hostname"
    printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
    install -m 0755 "$guest_files/vmtest-ctl" "$root/usr/local/sbin/vmtest-ctl"
    install -m 0644 "$guest_files/vmtest-ctl.service" "$root/etc/systemd/system/vmtest-ctl.service"
    mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
    ln -sf ../vmtest-ctl.service "$root/etc/systemd/system/sysinit.target.wants/vmtest-ctl.service"
    chroot "$root" passwd -d root >/dev/null
    local unit
    for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
                systemd-timesyncd.service dpkg-db-backup.timer; do
        ln -sf /dev/null "$root/etc/systemd/system/$unit"
    done
    # systemd-networkd with DHCP on every Ethernet device, as cloud images ship it (dbus: networkctl reload).
    install -D -m 0644 "$guest_files/10-cloud-dhcp.network" "$root/etc/systemd/network/10-cloud-dhcp.network"
    chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1 ||
        { echo "vmtest: image: could not enable systemd-networkd" >&2; return 1; }
    # The guest's only network is the test bridge; no resolver, no time sync.
    : >"$root/etc/resolv.conf"
}
