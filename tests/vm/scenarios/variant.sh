# variant.sh - vfio-pci variant drivers on a real kernel, with the kernel's own modules.alias:
# a modern virtio-net (1af4:1041) goes to virtio_vfio_pci where the kernel has it (its alias
# "vfio_pci:v00001AF4d00001041..."), else to vfio-pci, whose own "vfio_pci:v*d*..." alias
# matches everything. Kernel fact: Debian's stock 6.1 and 6.12 build no variant at all
# (CONFIG_VIRTIO_VFIO_PCI, CONFIG_MLX5_VFIO_PCI... unset), so there it is vfio-pci, chosen
# from the real file. `show` says which, `detach` binds it (through driver_override), verify
# opens the group, reattach gives it back to virtio-pci; --driver vfio-pci and the variant by
# name move it between the two.
need_cmd show detach reattach verify
a=$(find_dev 1af4 1041 root) || fail "no modern virtio-net on the root bus"
g=$(group_of "$a")
aliases=/lib/modules/$(uname -r)/modules.alias
[ -s "$aliases" ] || fail "$aliases is missing: the guest image has no modules.alias"
grep -q "^alias vfio_pci:v\*d\*sv\*sd\*bc\*sc\*i\* vfio_pci$" "$aliases" ||
    fail "vfio_pci's own match-all alias is not in $aliases"
variants=$(sed -n 's/^alias vfio_pci:[^ ]* \([^ ]*\)$/\1/p' "$aliases" | grep -v '^vfio_pci$' |
    sort -u | tr '\n' ' ')
note "vfio-pci variants of kernel $(uname -r): ${variants:-none}"
if grep -qi "^alias vfio_pci:v00001AF4d00001041.* virtio_vfio_pci$" "$aliases"; then
    want=virtio_vfio_pci
    [ -d /sys/bus/pci/drivers/virtio_vfio_pci ] || fail "virtio_vfio_pci is not loaded"
else
    want=vfio-pci
fi
note "a detach of $a binds $want"
host=$(driver_of "$a")
[ -n "$host" ] || fail "$a has no host driver"

hd show "$a"
expect "$rc" 0 "show $a: exit status"
out_has "detach binds: *$want" || fail "show does not say that a detach binds $want"
hd detach "$a"
expect "$rc" 0 "detach $a: exit status"
expect "$(driver_of "$a")" "$want" "$a driver after detach"
expect "$(attr "$a" driver_override)" "$want" "$a driver_override after detach"
exists "/dev/vfio/$g" || fail "/dev/vfio/$g missing after detach to $want"
hd verify "$a"
expect "$rc" 0 "verify $a on $want: exit status"
hd reattach "$a"
expect "$rc" 0 "reattach $a: exit status"
expect "$(driver_of "$a")" "$host" "$a driver after reattach"
expect "$(attr "$a" driver_override)" "(null)" "$a driver_override after reattach"

hd detach --driver vfio-pci "$a"
expect "$rc" 0 "detach --driver vfio-pci $a: exit status"
expect "$(driver_of "$a")" vfio-pci "$a driver after detach --driver vfio-pci"
if [ "$want" != vfio-pci ]; then
    hd detach --driver "$want" "$a"
    expect "$rc" 0 "detach --driver $want $a: exit status"
    expect "$(driver_of "$a")" "$want" "$a driver after detach --driver $want"
fi
hd reattach "$a"
expect "$rc" 0 "the last reattach of $a: exit status"
expect "$(driver_of "$a")" "$host" "$a driver at the end"
pass
