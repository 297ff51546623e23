# early-reserve.sh - hostdev.reserve=0000:00:02.0 on the kernel command line, applied by the
# shipped initramfs-tools init-top script with the static musl binary before e1000e is loaded:
# the NIC is never bound to e1000e (no probe in the kernel log, no netdev) and ends on vfio-pci;
# the other e1000e, not asked for, is e1000e's.
a=0000:00:02.0 b=0000:00:04.0
[ -x /early/hostdev ] || fail "no /early/hostdev in the initramfs (make static failed)"
[ -s /tmp/early.rc ] || fail "the init-top script did not run before e1000e was loaded"
note "init-top script output:"
sed 's/^/    | /' /tmp/early.out
expect "$(cat /tmp/early.rc)" 0 "init-top script exit status"
grep -q "^$a: unbound -> vfio-pci (proc/cmdline)\$" /tmp/early.out ||
    fail "early reserve did not say it bound $a to vfio-pci: $(cat /tmp/early.out)"

expect "$(driver_of "$a")" vfio-pci "$a driver"
expect "$(attr "$a" driver_override)" vfio-pci "$a driver_override"
exists "/dev/vfio/$(group_of "$a")" || fail "/dev/vfio/$(group_of "$a") missing"
absent "$PCI/$a/net" || fail "$a has a network interface: e1000e probed it"
# e1000e logs every device it probes ("e1000e 0000:00:04.0 eth0: ..."); the kernel log holds
# the whole boot. The control: the other NIC is in it, so the grep can see such lines.
dmesg >"$T/dmesg"
grep -q "e1000e $b" "$T/dmesg" || fail "no e1000e probe of $b in the kernel log (control)"
! grep "e1000e $a" "$T/dmesg" || fail "e1000e probed $a (lines above)"
expect "$(driver_of "$b")" e1000e "$b driver (not reserved)"
grep -q "hdtest: early reserve" "$T/dmesg" || fail "no early reserve marker in the kernel log"
# The marker precedes e1000e's first line: the reservation came before the driver.
first_e1000e=$(grep -n "e1000e" "$T/dmesg" | grep -v "hdtest" | head -n1 | cut -d: -f1)
marker=$(grep -n "hdtest: early reserve" "$T/dmesg" | head -n1 | cut -d: -f1)
[ "$marker" -lt "$first_e1000e" ] || fail "e1000e logged (line $first_e1000e) before the reservation (line $marker)"

# Later boot stages (the systemd unit, the udev rule) find it done.
hd reserve
expect "$rc" 0 "hostdev reserve after boot: exit status"
out_has "reserved for vfio-pci already" || fail "reserve after boot did not find $a reserved"
hd persisted
expect "$rc" 0 "hostdev persisted: exit status"
out_has "0000:00:02.0 vfio-pci" || fail "persisted does not list the command line's reservation"
pass
