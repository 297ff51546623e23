# iommu-off.sh - a machine without an IOMMU (intel_iommu=on is still on the command line):
# `hostdev iommu` exits 1 and says the IOMMU is missing.
need_cmd iommu
[ -z "$(ls /sys/class/iommu 2>/dev/null)" ] || fail "this boot should have no IOMMU"
hd iommu
expect "$rc" 1 "hostdev iommu without an IOMMU: exit status"
grep -qiE "no iommu|not (enabled|active|present|found)|missing|absent|disabled" "$T/out" "$T/err" ||
    fail "hostdev iommu did not say that there is no IOMMU"
# The guest is an Intel (q35, GenuineIntel) machine: the reason is the missing DMAR / VT-d.
grep -qiE "DMAR|VT-d" "$T/out" "$T/err" || fail "hostdev iommu did not name the missing DMAR/VT-d"
pass
