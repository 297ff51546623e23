# verify-errors.sh - `hostdev verify` against states set by hand through sysfs (no engine needed):
# not detached, usable, group open elsewhere (EBUSY), no permission (EACCES), not viable.
need_cmd verify
a=$(find_dev 8086 100e 1b36:000c) || fail "no e1000 behind a root port"
g=$(group_of "$a")

# Not detached: still on its host driver.
expect "$(driver_of "$a")" e1000 "$a driver at boot"
hd verify "$a"
expect "$rc" 1 "verify of a device on e1000: exit status"
out_has "not detached" || fail "verify did not say $a is not detached"
out_has "hostdev detach $a" || fail "verify did not give the fix (hostdev detach $a)"

# Usable: on vfio-pci, nothing else open.
vfio_by_hand "$a"
hd verify "$a"
expect "$rc" 0 "verify of $a on vfio-pci: exit status"
out_has "usable by a VM" || fail "verify did not say usable"
hd --json verify "$a"
expect "$rc" 0 "verify --json exit status"
grep -q '"usable": true' "$T/out" || fail "--json does not say usable: true"
grep -q '"name": "VFIO_DEVICE_GET_INFO"' "$T/out" || fail "--json lacks the VFIO_DEVICE_GET_INFO step"
grep -q '"pci": true' "$T/out" || fail "--json device_info does not say pci"
# verify closed everything: the group can be opened again at once.
( exec 4<>"/dev/vfio/$g" ) 2>/dev/null || fail "/dev/vfio/$g cannot be opened after verify (left open?)"

# Group open elsewhere: a process holds /dev/vfio/N.
sleep 60 4<>"/dev/vfio/$g" &
holder=$!
wait_until 2000 exists "/proc/$holder/fd/4" || fail "could not hold /dev/vfio/$g open"
hd verify "$a"
kill "$holder"; wait "$holder" 2>/dev/null
expect "$rc" 1 "verify with the group held open: exit status"
out_has "already open elsewhere" || fail "verify did not explain EBUSY (group open elsewhere)"
out_has "EBUSY" || fail "verify did not name EBUSY"

# Permissions: an unprivileged user cannot open /dev/vfio/N (root-owned 0600).
grep -q '^tester:' /etc/passwd || {
    echo 'tester:x:1000:1000::/tmp:/bin/sh' >>/etc/passwd
    echo 'tester:x:1000:' >>/etc/group
}
rc=0
su -s /bin/sh tester -c "$HD verify $a" >"$T/out" 2>"$T/err" || rc=$?
cat "$T/out" "$T/err"
expect "$rc" 1 "verify as uid 1000: exit status"
out_has "permission denied opening /dev/vfio/$g" || fail "verify did not explain EACCES on /dev/vfio/$g"
out_has "owner uid 0" || fail "verify did not show the node's owner"

restore_by_hand "$a" e1000 || fail "giving $a back to e1000"
wait_until 5000 absent "/dev/vfio/$g" || fail "/dev/vfio/$g still there"

# Not viable: one e1000 behind the pcie-pci-bridge on vfio-pci, its sibling still on e1000.
set -- $(find_all 8086 100e 1b36:000e)
[ $# -eq 2 ] || fail "expected two e1000 behind the pcie-pci-bridge, found $#"
b1=$1 b2=$2
gb=$(group_of "$b1")
expect "$(group_of "$b2")" "$gb" "group of $b2 (shares $b1's)"
vfio_by_hand "$b1"
hd verify "$b1"
expect "$rc" 1 "verify of $b1 with $b2 on e1000: exit status"
out_has "group $gb is not viable" || fail "verify did not say group $gb is not viable"
out_has "$b2 (on e1000)" || fail "verify did not name the blocker $b2 (on e1000)"
out_has "hostdev detach --group $b1" || fail "verify did not give the fix (hostdev detach --group)"
hd --json verify "$b1"
grep -q "\"address\": \"$b2\"" "$T/out" || fail "--json blockers do not list $b2"
# The sibling merely unbound: viable (the driverless bridge does not block).
unbind_by_hand "$b2" || fail "unbinding $b2"
hd verify "$b1"
expect "$rc" 0 "verify of $b1 with $b2 unbound: exit status"
restore_by_hand "$b1" e1000 || fail "giving $b1 back to e1000"
restore_by_hand "$b2" e1000 || fail "giving $b2 back to e1000"
pass
