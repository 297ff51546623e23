# dracut.sh - boot deb-dracut: the Debian root's own dracut initramfs (--no-hostonly,
# --add-drivers "e1000e e1000", systemd inside) with hostdev's module 90hostdev. The udev rule
# and the unit are masked in the real root, so only the initramfs reserves: the module's
# pre-udev hook takes the devices of /etc/hostdev.d (copied in) and hostdev.reserve= before
# systemd-udevd loads any NIC driver; the second e1000e, not named, is e1000e's (the control).
reserved_by_initramfs
