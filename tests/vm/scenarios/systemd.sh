# systemd.sh - boot deb-systemd: the Debian root with the shipped udev rule masked
# (hdtest.norule) and no hostdev in the initramfs: hostdev-reserve.service, enabled as a
# package would (systemctl enable), takes the devices of /etc/hostdev.d and hostdev.reserve=
# before udev's coldplug loads their drivers (it is ordered before systemd-udev-trigger and
# found them unbound), and sets the SR-IOV PF's persisted VF count (the PF's driver bound in
# the initramfs), whose VFs come up reserved.
udevadm settle -t 30 || note "udevadm settle timed out"
rule_masked || fail "the udev rule is not masked in this boot (hdtest.norule)"
expect "$(unit_state hostdev-reserve.service ActiveState)" active "hostdev-reserve.service state"
expect "$(unit_state hostdev-reserve.service Result)" success "hostdev-reserve.service result"
# Before udev's coldplug (systemd-udev-trigger.service) starts: until then no driver module
# is loaded for these devices, so the unit finds them unbound by its order, not by luck.
done_at=$(unit_state hostdev-reserve.service ActiveEnterTimestampMonotonic)
trigger_at=$(unit_state systemd-udev-trigger.service InactiveExitTimestampMonotonic)
note "hostdev-reserve.service done at $done_at us, coldplug started at $trigger_at us"
if [ "$done_at" -eq 0 ] || [ "$done_at" -gt "$trigger_at" ]; then
    fail "hostdev-reserve.service finished (${done_at} us) after udev's coldplug started (${trigger_at} us): host drivers could take the devices first"
fi
journalctl -b -o cat -u hostdev-reserve.service >"$T/journal" 2>&1
note "hostdev-reserve.service said:"
sed 's/^/    | /' "$T/journal"
for a in 0000:00:02.0 0000:00:04.0 0000:01:00.1 0000:01:00.2; do
    grep -q "^$a: unbound -> vfio-pci" "$T/journal" ||
        fail "the unit did not find $a unbound and bind it to vfio-pci"
done
grep "^0000:01:00.0: 2 virtual functions" "$T/journal" | grep -qv " already " ||
    fail "the unit did not create the VFs"
reserved_at_boot 0000:00:02.0 e1000e # /etc/hostdev.d
reserved_at_boot 0000:00:04.0 e1000  # hostdev.reserve=
vfs_reserved_at_boot 0000:01:00.0 2
kernels_choice_after_boot 0000:00:02.0 e1000e
pass
