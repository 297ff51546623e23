# mdev.sh - mediated devices on a real kernel, with the mtty sample driver (the suite's own
# kernel builds it; Debian's kernels do not, and there the scenario checks that fact: no mdev
# parent at all). `mdev types` lists mtty's two types with their instances; a dry run changes
# nothing; `mdev create` makes the device with an IOMMU group of its own and /dev/vfio/N;
# `verify` opens that group through the VFIO API and gets the device by its UUID; a second
# create of one UUID is refused; acquire gives the group's node to the VM's user and release
# gives it back (no remove meanwhile), and while a process the map does not know of holds it
# open the remove is refused; `mdev remove` takes it away, and with it the group's node.
need_cmd mdev verify
if [ ! -d /sys/class/mdev_bus/mtty ]; then
    case $(uname -r) in *-hostdev) fail "mtty is not loaded on the suite's own kernel" ;; esac
    hd mdev types
    expect "$rc" 0 "mdev types without parents: exit status"
    out_has "no mediated device parents" || fail "mdev types did not say there are none"
    note "kernel $(uname -r): no mdev parent (mtty is not built)"
    pass
fi
u=0b5b8f4a-0000-4000-8000-0000000000a1
hd mdev types
expect "$rc" 0 "mdev types: exit status"
out_has "^mtty mtty-1 .*available=" || fail "mdev types does not list mtty-1"
out_has "^mtty mtty-2 .*api=vfio-pci" || fail "mdev types does not list mtty-2 as vfio-pci"
before=$(cat /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/available_instances)

hd mdev create mtty mtty-2 --uuid "$u" --dry-run
expect "$rc" 0 "mdev create --dry-run: exit status"
absent "/sys/bus/mdev/devices/$u" || fail "a dry run created $u"

hd mdev create mtty mtty-2 --uuid "$u"
expect "$rc" 0 "mdev create: exit status"
exists "/sys/bus/mdev/devices/$u" || fail "/sys/bus/mdev/devices/$u missing after create"
g=$(basename "$(readlink "/sys/bus/mdev/devices/$u/iommu_group")")
exists "/dev/vfio/$g" || fail "/dev/vfio/$g (the mdev's group) missing"
expect "$(cat /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/available_instances)" \
    "$((before - 1))" "available_instances after create"
hd mdev list
out_has "^$u mtty mtty-2 driver=mtty group=$g" || fail "mdev list does not show $u"

hd verify "$u"
expect "$rc" 0 "verify $u: exit status"
out_has "VFIO_GROUP_GET_DEVICE_FD" || fail "verify did not get the device from its group"

# A retry finds it made as asked: done, nothing written; as another type it is refused.
hd mdev create mtty mtty-2 --uuid "$u"
expect "$rc" 0 "creating $u twice: exit status"
out_has "already there" || fail "creating $u twice did not say it is there already"
hd mdev create mtty mtty-1 --uuid "$u"
expect "$rc" 1 "creating $u as another type: exit status"

# A process that the map does not know of has it open through VFIO (its group, as QEMU opens
# it): remove is refused at once, the dry run says so too, and the device stays.
vfio-hold "$g" "$u" >"$T/hold" 2>&1 &
holder=$!
wait_until 5000 grep -q held "$T/hold" || fail "vfio-hold could not open $u: $(cat "$T/hold")"
hd mdev remove "$u" --dry-run
expect "$rc" 1 "mdev remove --dry-run while a process holds it: exit status"
hd mdev remove "$u"
expect "$rc" 1 "mdev remove while a process holds it: exit status"
out_has "open through VFIO" || fail "mdev remove did not say $u is open through VFIO"
exists "/sys/bus/mdev/devices/$u" || fail "$u removed while a process held it"
kill "$holder"; wait "$holder" 2>/dev/null

# Acquire hands the mdev's own group node to the VM's user; while held it cannot be removed;
# release gives the node back as it was.
was=$(owner "/dev/vfio/$g")
hd acquire --vm vm-m --owner 107:108 "$u"
expect "$rc" 0 "acquire --vm vm-m $u: exit status"
expect "$(owner "/dev/vfio/$g")" "crw-rw---- 107:108" "/dev/vfio/$g owner and mode while assigned"
hd assignments
out_has "^$u  *vm-m  *mdev " || fail "assignments does not show $u held by vm-m"
hd verify "$u"
expect "$rc" 0 "verify $u while assigned: exit status"
hd mdev remove "$u"
expect "$rc" 1 "mdev remove while assigned: exit status"
exists "/sys/bus/mdev/devices/$u" || fail "$u removed while a VM held it"
hd release --vm vm-m "$u"
expect "$rc" 0 "release --vm vm-m $u: exit status"
expect "$(owner "/dev/vfio/$g")" "$was" "/dev/vfio/$g owner and mode after release"

hd mdev remove "mdev_$(echo "$u" | tr - _)"
expect "$rc" 0 "mdev remove (libvirt's name): exit status"
absent "/sys/bus/mdev/devices/$u" || fail "$u still there after remove"
absent "/dev/vfio/$g" || fail "/dev/vfio/$g still there after remove"
hd mdev remove "$u"
expect "$rc" 0 "removing $u twice: exit status"
out_has "not there" || fail "removing $u twice did not say it is not there"
expect "$(cat /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/available_instances)" \
    "$before" "available_instances after remove"
pass
