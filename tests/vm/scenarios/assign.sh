# assign.sh - a VM's life on a real kernel: `acquire` detaches an e1000e, resets it and gives
# /dev/vfio/N to the VM's user; verify passes; another VM is refused; the VM is not migratable;
# `release` gives the device back to e1000e, the node goes, the map empties. Then the unmanaged
# mode: refused on the host driver, accepted once detached, and release leaves it on vfio-pci.
need_cmd acquire release assignments migratable detach reattach verify
a=$(find_dev 8086 10d3 root) || fail "no e1000e on the root bus"
g=$(group_of "$a")
expect "$(driver_of "$a")" e1000e "$a driver before acquire"

hd acquire --vm vm-a --owner 107:108 "$a"
expect "$rc" 0 "acquire --vm vm-a $a: exit status"
expect "$(driver_of "$a")" vfio-pci "$a driver after acquire"
exists "/dev/vfio/$g" || fail "/dev/vfio/$g missing after acquire"
expect "$(owner "/dev/vfio/$g")" "crw-rw---- 107:108" "/dev/vfio/$g owner and mode"
hd verify "$a"
expect "$rc" 0 "verify $a while assigned: exit status"
hd acquire --vm vm-b "$a"
expect "$rc" 1 "acquire by a second VM: exit status"
out_has "assigned to vm vm-a" || fail "the refusal did not name the VM holding $a"
hd assignments
out_has "$a *vm-a *managed *e1000e" || fail "assignments does not list $a for vm-a"
hd migratable --vm vm-a
expect "$rc" 1 "migratable while holding $a: exit status"

hd release --vm vm-a
expect "$rc" 0 "release --vm vm-a: exit status"
expect "$(driver_of "$a")" e1000e "$a driver after release"
expect "$(attr "$a" driver_override)" "(null)" "$a driver_override after release"
absent "/dev/vfio/$g" || fail "/dev/vfio/$g still there after release"
hd assignments
out_has "no devices are assigned" || fail "assignments after release"
hd migratable --vm vm-a
expect "$rc" 0 "migratable after release: exit status"
hd recover
expect "$rc" 0 "recover with nothing to do: exit status"

hd acquire --vm vm-c --unmanaged "$a"
expect "$rc" 1 "unmanaged acquire of a device on e1000e: exit status"
out_has "detached ahead of booting" || fail "the unmanaged refusal did not say why"
expect "$(driver_of "$a")" e1000e "$a driver after the refused unmanaged acquire"
hd detach "$a"
expect "$rc" 0 "detach $a for unmanaged use"
hd acquire --vm vm-c --unmanaged --owner 107:108 "$a"
expect "$rc" 0 "unmanaged acquire of a detached device: exit status"
expect "$(owner "/dev/vfio/$g")" "crw-rw---- 107:108" "/dev/vfio/$g after unmanaged acquire"
hd release --vm vm-c
expect "$rc" 0 "release of the unmanaged device: exit status"
expect "$(driver_of "$a")" vfio-pci "$a stays on vfio-pci after an unmanaged release"
expect "$(owner "/dev/vfio/$g")" "crw------- 0:0" "/dev/vfio/$g owner given back"
hd reattach "$a"
expect "$rc" 0 "reattach $a"
expect "$(driver_of "$a")" e1000e "$a driver at the end"
pass
