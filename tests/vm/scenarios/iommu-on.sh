# iommu-on.sh - with the emulated Intel IOMMU (intremap on): `hostdev iommu` exits 0.
need_cmd iommu
[ -e /sys/class/iommu/dmar0 ] || fail "no /sys/class/iommu/dmar0: the vIOMMU is missing"
hd iommu
expect "$rc" 0 "hostdev iommu with a vIOMMU: exit status"
hd --json iommu
expect "$rc" 0 "hostdev --json iommu: exit status"
pass
