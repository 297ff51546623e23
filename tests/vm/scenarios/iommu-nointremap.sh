# iommu-nointremap.sh - vIOMMU with intremap=off: `hostdev iommu` reports that interrupt
# remapping is missing (whatever its exit status).
need_cmd iommu
hd iommu
[ "$rc" -le 1 ] || fail "hostdev iommu: exit status $rc"
grep -qi "remap" "$T/out" "$T/err" || fail "hostdev iommu does not mention interrupt remapping"
grep -qiE "remapping[^.]*(off|disabled|not|missing|unavailable|no)|(no|without)[^.]*remapping|unsafe" \
    "$T/out" "$T/err" || fail "hostdev iommu does not say interrupt remapping is off"
pass
