# verify-noiommu.sh - no IOMMU at all: vfio-pci cannot take the device, and verify says why.
need_cmd verify
a=$(find_dev 8086 10d3 root) || fail "no e1000e on the root bus"
[ -z "$(ls /sys/class/iommu 2>/dev/null)" ] || fail "this boot should have no IOMMU: $(ls /sys/class/iommu)"
expect "$(group_of "$a")" none "iommu group of $a without an IOMMU"
# The probe fails (no group), drivers_probe still says success: the device is left driverless.
echo vfio-pci >"$PCI/$a/driver_override"
echo "$a" >"$PCI/$a/driver/unbind"
echo "$a" >/sys/bus/pci/drivers_probe
hd verify "$a"
expect "$rc" 1 "verify without an IOMMU: exit status"
out_has "has no IOMMU group" || fail "verify did not say there is no IOMMU group"
out_has "intel_iommu=on" || fail "verify did not point at the kernel command line"
restore_by_hand "$a" e1000e || fail "giving $a back to e1000e"
pass
