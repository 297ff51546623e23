#!/bin/sh
# hostdev-reserve.sh - dracut pre-udev hook: the stub drivers, then every reservation.
modprobe -q vfio-pci 2>/dev/null
modprobe -q pci-stub 2>/dev/null
if hostdev_out=$(@BINDIR@/hostdev reserve --keep-going 2>&1); then :; else
    warn "hostdev: some devices were not reserved"
fi
# What the initramfs did, in the kernel log too (dmesg, journalctl -k), as the init-top
# script of initramfs-tools does.
if [ -n "$hostdev_out" ]; then
    printf '%s\n' "$hostdev_out"
    if [ -w /dev/kmsg ]; then
        printf '%s\n' "$hostdev_out" | while IFS= read -r line; do echo "hostdev: $line"; done >/dev/kmsg
    fi
fi
unset hostdev_out
