# noiommu.sh - vfio's unsafe no-IOMMU mode, what dpdk-devbind users turn on: detach refuses a
# device with no IOMMU group until --noiommu, which binds it with /dev/vfio/noiommu-N (show and
# list say noiommu); acquire refuses it (QEMU cannot assign it); reattach gives it back. The
# mode is turned off again.
need_cmd detach reattach acquire show list
a=$(find_dev 8086 10d3 root) || fail "no e1000e on the root bus"
[ -z "$(ls /sys/class/iommu 2>/dev/null)" ] || fail "this boot should have no IOMMU: $(ls /sys/class/iommu)"
expect "$(group_of "$a")" none "iommu group of $a without an IOMMU"
mode=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
[ -e $mode ] || modprobe vfio enable_unsafe_noiommu_mode=1 2>/dev/null || true
[ -e $mode ] || skip "this kernel's vfio has no no-IOMMU mode (CONFIG_VFIO_NOIOMMU)"
echo Y >$mode || fail "turning vfio's no-IOMMU mode on"
hd detach "$a"
expect "$rc" 1 "detach of a group-less device without --noiommu: exit status"
out_has "--noiommu" || fail "the refusal did not name --noiommu"
expect "$(driver_of "$a")" e1000e "driver after the refused detach"
hd detach --noiommu "$a"
expect "$rc" 0 "detach --noiommu: exit status"
expect "$(driver_of "$a")" vfio-pci "driver after detach --noiommu"
g=$(group_of "$a")
[ "$g" != none ] || fail "no group after the no-IOMMU bind"
exists "/dev/vfio/noiommu-$g" || fail "/dev/vfio/noiommu-$g does not exist"
out_has "/dev/vfio/noiommu-$g" || fail "detach did not name /dev/vfio/noiommu-$g"
out_has "no DMA isolation" || fail "detach did not warn that the device is DMA-unsafe"
hd show "$a"
out_has "noiommu" || fail "show did not say noiommu"
hd list "$a"
out_has "group=$g noiommu" || fail "list did not mark $a noiommu"
hd acquire --vm noiommu-vm "$a"
expect "$rc" 2 "acquire of a no-IOMMU device: exit status"
out_has "QEMU cannot assign" || fail "acquire did not say that QEMU cannot assign it"
hd reattach "$a"
expect "$rc" 0 "reattach: exit status"
expect "$(driver_of "$a")" e1000e "driver after reattach"
wait_until 5000 absent "/dev/vfio/noiommu-$g" || fail "/dev/vfio/noiommu-$g outlived the reattach"
echo N >$mode || fail "turning vfio's no-IOMMU mode off"
pass
