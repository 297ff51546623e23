# virsh-detach-reattach.sh - hostdev-virsh answers as virsh does on a real kernel: the e1000e's
# libvirt name is listed, its XML has its driver and group, nodedev-detach puts it on vfio-pci
# (/dev/vfio/N appears), nodedev-reattach gives it back; messages and exit codes are virsh's.
# Needs /bin/hostdev-virsh in the guest (built like /bin/hostdev: static, HOSTDEV_NO_UDEV=1
# HOSTDEV_NO_KMOD=1 LDFLAGS=-static BUILD/hostdev-virsh).
V=/bin/hostdev-virsh
[ -x "$V" ] || skip "hostdev-virsh is not in the guest"
a=$(find_dev 8086 10d3 root) || fail "no e1000e on the root bus"
g=$(group_of "$a")
n=pci_$(echo "$a" | tr ':.' '__')
expect "$(driver_of "$a")" e1000e "$a driver before nodedev-detach"

"$V" nodedev-list --cap pci >"$T/list"
expect "$?" 0 "nodedev-list --cap pci: exit status"
grep -qx "$n" "$T/list" || fail "$n missing from nodedev-list --cap pci"
"$V" nodedev-dumpxml "$n" >"$T/xml"
expect "$?" 0 "nodedev-dumpxml $n: exit status"
grep -q "^    <name>e1000e</name>$" "$T/xml" || fail "nodedev-dumpxml $n: no e1000e driver"
grep -q "^    <iommuGroup number='$g'>$" "$T/xml" || fail "nodedev-dumpxml $n: no group $g"

out=$("$V" nodedev-detach "$n")
expect "$?" 0 "nodedev-detach $n: exit status"
expect "$out" "Device $n detached" "nodedev-detach $n: output"
expect "$(driver_of "$a")" vfio-pci "$a driver after nodedev-detach"
exists "/dev/vfio/$g" || fail "/dev/vfio/$g missing right after nodedev-detach returned"

out=$("$V" nodedev-reattach "$n")
expect "$?" 0 "nodedev-reattach $n: exit status"
expect "$out" "Device $n re-attached" "nodedev-reattach $n: output"
expect "$(driver_of "$a")" e1000e "$a driver after nodedev-reattach"
expect "$(attr "$a" driver_override)" "(null)" "$a driver_override after nodedev-reattach"
absent "/dev/vfio/$g" || fail "/dev/vfio/$g still there right after nodedev-reattach returned"

"$V" nodedev-detach pci_0000_00_1f_7 2>"$T/err"
expect "$?" 1 "nodedev-detach of a missing device: exit status"
expect "$(head -n1 "$T/err")" "error: Could not find matching device 'pci_0000_00_1f_7'" \
    "nodedev-detach of a missing device: message"
pass
