#!/bin/sh
# hostdev-reserve.sh - dracut pre-udev hook: the stub drivers, then every reservation.
modprobe -q vfio-pci 2>/dev/null
modprobe -q pci-stub 2>/dev/null
@BINDIR@/hostdev reserve --keep-going || warn "hostdev: some devices were not reserved"
