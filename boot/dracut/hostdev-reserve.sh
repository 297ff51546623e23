#!/bin/sh
# hostdev-reserve.sh - dracut pre-udev hook: the stub drivers, then every reservation.
modprobe -q vfio-pci
modprobe -q pci-stub
@BINDIR@/hostdev reserve --keep-going || warn "hostdev: some devices were not reserved"
