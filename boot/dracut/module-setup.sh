#!/bin/bash
# 90hostdev - dracut module: reserve PCI devices for VMs in the initramfs, before udev loads
# any host driver module (a pre-udev hook), and as devices appear (the udev rule).

check() {
    require_binaries @BINDIR@/hostdev || return 1
    # In host-only images only when something is reserved.
    if [[ $hostonly ]]; then
        [[ -n $(ls /etc/hostdev.d/*.conf 2>/dev/null) ]] && return 0
        grep -q 'hostdev\.reserve=' /proc/cmdline && return 0
        return 255
    fi
    return 0
}

depends() {
    return 0
}

installkernel() {
    hostonly='' instmods vfio-pci pci-stub
}

install() {
    if [[ -x @BINDIR@/hostdev-static ]]; then
        inst_simple @BINDIR@/hostdev-static @BINDIR@/hostdev
    else
        inst_binary @BINDIR@/hostdev
    fi
    # By its path: dracut looks for a bare name only in /usr/lib/udev/rules.d (and /etc in
    # host-only images), so the rule of a /usr/local install was skipped.
    inst_rules @UDEVDIR@/rules.d/60-hostdev.rules
    inst_multiple -o /etc/hostdev.d/*.conf
    # shellcheck disable=SC2154 # dracut sets moddir
    inst_hook pre-udev 30 "$moddir/hostdev-reserve.sh"
}
