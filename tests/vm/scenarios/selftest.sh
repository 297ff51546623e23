# selftest.sh - the harness checks itself with busybox only: bind an e1000e to vfio-pci by hand,
# see /dev/vfio/N appear, give it back to e1000e, see the node go. No hostdev involved.
a=$(find_dev 8086 10d3 root) || fail "no e1000e on the root bus"
g=$(group_of "$a")
[ "$g" != none ] || fail "$a has no IOMMU group: is the vIOMMU on?"
expect "$(driver_of "$a")" e1000e "$a driver at boot"
expect "$(attr "$a" driver_override)" "(null)" "$a driver_override at boot"
[ -d /sys/bus/pci/drivers/vfio-pci ] || fail "vfio-pci is not loaded"

vfio_by_hand "$a"
note "$a on vfio-pci, /dev/vfio/$g present"

restore_by_hand "$a" e1000e || fail "giving $a back to e1000e: driver is $(driver_of "$a")"
expect "$(attr "$a" driver_override)" "(null)" "$a driver_override after restore"
wait_until 5000 absent "/dev/vfio/$g" || fail "/dev/vfio/$g still there after unbind"
pass
