# detach-reattach.sh - `hostdev detach` puts an e1000e on vfio-pci (/dev/vfio/N appears, verify
# passes); `hostdev reattach` gives it back to e1000e (override cleared, node gone).
need_cmd detach reattach verify
a=$(find_dev 8086 10d3 root) || fail "no e1000e on the root bus"
g=$(group_of "$a")
expect "$(driver_of "$a")" e1000e "$a driver before detach"

hd detach "$a"
expect "$rc" 0 "detach $a: exit status"
expect "$(driver_of "$a")" vfio-pci "$a driver after detach"
exists "/dev/vfio/$g" || fail "/dev/vfio/$g missing right after detach returned"
hd verify "$a"
expect "$rc" 0 "verify $a after detach: exit status"

hd detach "$a"
expect "$rc" 0 "detach of an already detached device: exit status"
expect "$(driver_of "$a")" vfio-pci "$a driver after a second detach"

hd reattach "$a"
expect "$rc" 0 "reattach $a: exit status"
expect "$(driver_of "$a")" e1000e "$a driver after reattach"
expect "$(attr "$a" driver_override)" "(null)" "$a driver_override after reattach"
absent "/dev/vfio/$g" || fail "/dev/vfio/$g still there right after reattach returned"
hd verify "$a"
expect "$rc" 1 "verify after reattach: exit status"
hd detach 0000:00:1f.7
expect "$rc" 2 "detach of a missing device: exit status"
hd detach not-an-address
expect "$rc" 2 "detach of a bad address: exit status"
pass
