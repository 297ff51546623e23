# iommu-off.sh - a virtual machine without an IOMMU (intel_iommu=on is still on the command
# line): `hostdev iommu` exits 1, says the IOMMU is missing and how a hypervisor gives one.
need_cmd iommu
[ -z "$(ls /sys/class/iommu 2>/dev/null)" ] || fail "this boot should have no IOMMU"
hd iommu
expect "$rc" 1 "hostdev iommu without an IOMMU: exit status"
grep -qiE "no iommu|not (enabled|active|present|found)|missing|absent|disabled" "$T/out" "$T/err" ||
    fail "hostdev iommu did not say that there is no IOMMU"
# The guest is a virtual machine (its CPU says "hypervisor"): the fix is a virtual IOMMU from
# the hypervisor, not a firmware setting.
grep -qi "virtual machine" "$T/out" "$T/err" || fail "hostdev iommu did not see it is a guest"
grep -q "intel-iommu" "$T/out" "$T/err" || fail "hostdev iommu did not say how to give it an IOMMU"
if grep -qi "firmware setup" "$T/out" "$T/err"; then fail "hostdev iommu sends a guest to the firmware setup"; fi
pass
