# initramfs-tools.sh - boot deb-initramfs-tools: the Debian root's own initramfs, made by its
# mkinitramfs with hostdev's hook (MODULES=most: e1000e and e1000 are in it and udev loads
# them there). The udev rule and the unit are masked in the real root, so only the
# initramfs reserves: its init-top script, before init-top/udev, takes the devices of
# /etc/hostdev.d (copied in by the hook) and hostdev.reserve=; the second e1000e, not named,
# is e1000e's (the control).
reserved_by_initramfs
