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

# A process that has the device open through VFIO (a VM hostdev does not know of): the kernel
# counts it enabled, and reattach, reset and a move to pci-stub are refused, nothing changed.
expect "$(attr "$a" enable)" 0 "$a enable count on vfio-pci, closed"
vfio-hold "$g" "$a" >"$T/hold" 2>&1 &
holder=$!
wait_until 5000 grep -q held "$T/hold" || fail "vfio-hold could not open $a: $(cat "$T/hold")"
expect "$(attr "$a" enable)" 1 "$a enable count while a process has it open"
hd reattach "$a"
expect "$rc" 1 "reattach of a device open through VFIO: exit status"
out_has "is open through VFIO" || fail "reattach did not say $a is open through VFIO"
hd reset "$a"
expect "$rc" 1 "reset of a device open through VFIO: exit status"
hd detach -d pci-stub "$a"
expect "$rc" 1 "move to pci-stub of a device open through VFIO: exit status"
expect "$(driver_of "$a")" vfio-pci "$a driver while held"
kill "$holder"; wait "$holder" 2>/dev/null
expect "$(attr "$a" enable)" 0 "$a enable count after the holder closed it"

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
