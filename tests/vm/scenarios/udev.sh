# udev.sh - boot deb-udev: a Debian root under systemd and udev with hostdev from `make
# install`, no hostdev in the initramfs and hostdev-reserve.service masked (systemd.mask=):
# the shipped udev rule alone, run for each device's "add" event before 80-drivers.rules loads
# its driver, reserves what /etc/hostdev.d and hostdev.reserve= name, and gives the SR-IOV PF
# its persisted VF count (numvfs=), whose VFs come up reserved.
udevadm settle -t 30 || note "udevadm settle timed out"
! rule_masked || fail "the udev rule is masked in this boot"
expect "$(unit_state hostdev-reserve.service ActiveState)" inactive "hostdev-reserve.service state"
expect "$(unit_state hostdev-reserve.service UnitFileState)" masked-runtime \
    "hostdev-reserve.service (systemd.mask=)"
hd persisted
reserved_at_boot 0000:00:02.0 e1000e # /etc/hostdev.d
reserved_at_boot 0000:00:04.0 e1000  # hostdev.reserve=
vfs_reserved_at_boot 0000:01:00.0 2
kernels_choice_after_boot 0000:00:02.0 e1000e
pass
