# unsafe-interrupts.sh - vIOMMU without interrupt remapping: VFIO_SET_IOMMU fails with EPERM and
# verify explains allow_unsafe_interrupts and its risk; with the parameter set, it works.
need_cmd verify
a=$(find_dev 8086 10d3 root) || fail "no e1000e on the root bus"
g=$(group_of "$a")
unsafe=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
expect "$(cat $unsafe)" N "allow_unsafe_interrupts at boot"
vfio_by_hand "$a"
hd verify "$a"
expect "$rc" 1 "verify without interrupt remapping: exit status"
out_has "VFIO_SET_IOMMU was refused (EPERM)" || fail "verify did not report EPERM on VFIO_SET_IOMMU"
out_has "interrupt remapping" || fail "verify did not name interrupt remapping"
out_has "allow_unsafe_interrupts=1" || fail "verify did not give allow_unsafe_interrupts"
out_has "inject" || fail "verify did not state the risk"
hd --json verify "$a"
grep -q '"errno": "EPERM"' "$T/out" || fail "--json does not carry errno EPERM"
# The documented way out works (here, in the throwaway guest). With the vfio cdev (the suite's
# own kernel), iommufd has a switch of its own, which verify names when only it refuses.
echo Y >$unsafe
iommufd=/sys/module/iommufd/parameters/allow_unsafe_interrupts
if [ -e "$iommufd" ]; then
    hd verify "$a"
    expect "$rc" 1 "verify with only vfio_iommu_type1's switch on, iommufd's off: exit status"
    out_has "VFIO_DEVICE_BIND_IOMMUFD was refused (EPERM)" || fail "the cdev bind was not refused"
    out_has "iommufd.allow_unsafe_interrupts=1" || fail "verify did not name iommufd's switch"
    echo Y >"$iommufd"
fi
hd verify "$a"
echo N >$unsafe
[ ! -e "$iommufd" ] || echo N >"$iommufd"
expect "$rc" 0 "verify with allow_unsafe_interrupts=Y: exit status"
restore_by_hand "$a" e1000e || fail "giving $a back to e1000e"
pass
