# cdev.sh - the vfio device cdev and iommufd. On the suite's own kernel (CONFIG_IOMMUFD,
# CONFIG_VFIO_DEVICE_CDEV): a detach gives vfio-dev/vfioN, /dev/vfio/devices/vfioN and
# /dev/iommu; verify binds the device through iommufd (VFIO_DEVICE_BIND_IOMMUFD,
# IOMMU_IOAS_ALLOC, attach) and says so; acquire hands the cdev and /dev/iommu to the VM's
# user and release gives them back; /dev/iommu, shared by two VMs, goes to the user of the VM
# still holding a device and back to root only when none does (docs/design.md). Kernel fact on
# Debian's stock 6.1 and 6.12 (neither built with IOMMUFD): no vfio-dev, no /dev/iommu, and
# verify takes the group path; the scenario checks that instead.
need_cmd detach reattach acquire release verify
set -- $(find_all 8086 10d3 root)
[ $# -ge 2 ] || fail "need two e1000e on the root bus, found $#"
a=$1 b=$2
# The cdev's name, where the kernel made a character device (6.1-6.5 have vfio-dev/vfioN
# without one: no `dev` in it).
cdev_of() {
    for d in "$PCI/$1"/vfio-dev/vfio*; do [ -e "$d/dev" ] && basename "$d" && return; done
}

hd detach "$a" "$b"
expect "$rc" 0 "detach $a $b: exit status"
na=$(cdev_of "$a") nb=$(cdev_of "$b")
if [ ! -e /dev/iommu ] && [ -z "$na" ]; then
    case $(uname -r) in *-hostdev) fail "the suite's own kernel has no vfio cdev" ;; esac
    hd verify "$a"
    expect "$rc" 0 "verify $a on a kernel without the cdev: exit status"
    out_has "cdev .* with iommufd" && fail "verify claims the cdev path on a kernel without one"
    hd reattach "$a" "$b"
    expect "$rc" 0 "reattach $a $b: exit status"
    note "kernel $(uname -r): no vfio cdev, no /dev/iommu (not built with IOMMUFD)"
    pass
fi
[ -n "$na" ] && [ -n "$nb" ] || fail "no vfio-dev/vfioN under $a or $b after detach"
exists "/dev/vfio/devices/$na" || fail "/dev/vfio/devices/$na missing after detach"
exists /dev/iommu || fail "/dev/iommu missing with the vfio cdev"
expect "$(owner /dev/iommu)" "crw-rw---- 0:0" "/dev/iommu as the kernel makes it"

hd verify "$a"
expect "$rc" 0 "verify $a through the cdev: exit status"
out_has "VFIO_DEVICE_BIND_IOMMUFD" || fail "verify did not bind through iommufd"
out_has "IOMMU_IOAS_ALLOC" || fail "verify did not allocate an IOAS"
out_has "cdev $na with iommufd" || fail "verify did not say it used cdev $na with iommufd"

hd acquire --vm vm-a --owner 107:108 "$a"
expect "$rc" 0 "acquire --vm vm-a $a: exit status"
expect "$(owner "/dev/vfio/devices/$na")" "crw-rw---- 107:108" "/dev/vfio/devices/$na for vm-a"
expect "$(owner /dev/iommu)" "crw-rw---- 107:108" "/dev/iommu for vm-a"
hd acquire --vm vm-b --owner 109:110 "$b"
expect "$rc" 0 "acquire --vm vm-b $b: exit status"
expect "$(owner "/dev/vfio/devices/$nb")" "crw-rw---- 109:110" "/dev/vfio/devices/$nb for vm-b"
expect "$(owner "/dev/vfio/devices/$na")" "crw-rw---- 107:108" "$na stays vm-a's"
expect "$(owner /dev/iommu)" "crw-rw---- 109:110" "/dev/iommu with two VMs: the last one's"
hd release --vm vm-b
expect "$rc" 0 "release --vm vm-b: exit status"
expect "$(owner /dev/iommu)" "crw-rw---- 107:108" "/dev/iommu back to vm-a's user"
hd release --vm vm-a
expect "$rc" 0 "release --vm vm-a: exit status"
expect "$(owner /dev/iommu)" "crw-rw---- 0:0" "/dev/iommu given back when no VM holds a device"
hd reattach "$a" "$b"
expect "$rc" 0 "reattach $a $b: exit status"
absent "$PCI/$a/vfio-dev" || fail "vfio-dev still under $a after reattach"
pass
