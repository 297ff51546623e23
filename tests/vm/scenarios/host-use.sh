# host-use.sh - what the host uses stays with it, asked of a real kernel: an NVMe disk whose
# namespace carries a mounted filesystem, and an e1000e enslaved to a bridge that carries the
# host's address and default route (the port itself has neither), are refused by detach and
# acquire (exit 1, naming the use, nothing changed), as is the NIC with a route only in table
# 100; once unmounted, and once out of the bridge and the route gone, each detaches and comes
# back. check says so too, with the same reason, and stops saying it once the use is gone.
need_cmd detach reattach acquire check
d=0000:00:03.0 # nvme with a namespace (hostuse boot)
n=0000:00:02.0 # e1000e
expect "$(driver_of "$d")" nvme "$d driver before"
wait_until 5000 test -b /dev/nvme0n1 || fail "/dev/nvme0n1 did not appear"
mke2fs -q /dev/nvme0n1 >/dev/null 2>&1 || fail "mke2fs /dev/nvme0n1"
mkdir -p /mnt/disk
mount -t ext4 /dev/nvme0n1 /mnt/disk || fail "mount /dev/nvme0n1"
hd detach "$d"
expect "$rc" 1 "detach of the disk with a mounted filesystem: exit status"
out_has "mounted" || fail "the refusal does not say it is mounted"
expect "$(driver_of "$d")" nvme "$d stays on nvme while mounted"
hd acquire --vm v --owner 0:0 "$d"
expect "$rc" 1 "acquire of the mounted disk: exit status"
hd check "$d"
expect "$rc" 1 "check of the mounted disk: exit status"
out_has "in use by the host" || fail "check does not say the mounted disk is in use"
out_has "mounted" || fail "check does not say the disk is mounted"
umount /mnt/disk
hd check "$d"
out_has "in use by the host" && fail "check still says the unmounted disk is in use"
hd detach "$d"
expect "$rc" 0 "detach once unmounted: exit status"
hd reattach "$d"
expect "$rc" 0 "reattach of the disk: exit status"
expect "$(driver_of "$d")" nvme "$d back on nvme"

# The NIC as a bridge port: the bridge holds the address and the default route.
ifc=$(ls "$PCI/$n/net" 2>/dev/null | head -n1)
[ -n "$ifc" ] || fail "$n has no network interface"
ip link add br0 type bridge || fail "ip link add br0 type bridge"
ip link set "$ifc" master br0 || fail "enslaving $ifc to br0"
ip link set "$ifc" up
ip link set br0 up
ip addr add 192.0.2.10/24 dev br0
ip route add default via 192.0.2.1 dev br0
hd detach "$n"
expect "$rc" 1 "detach of a bridge port whose bridge routes: exit status"
out_has "br0" || fail "the refusal does not name the bridge"
hd check "$n"
expect "$rc" 1 "check of a bridge port whose bridge routes: exit status"
out_has "br0" || fail "check does not name the bridge"
expect "$(driver_of "$n")" e1000e "$n stays on e1000e while bridged"
ip link set "$ifc" nomaster
# Up, with no address and a route only in table 100 (policy routing): rtnetlink alone shows it.
ip route add 198.51.100.0/24 dev "$ifc" table 100 || fail "ip route add ... table 100"
hd detach "$n"
expect "$rc" 1 "detach of a NIC with a route in table 100: exit status"
out_has "$ifc" || fail "the refusal does not name $ifc"
expect "$(driver_of "$n")" e1000e "$n stays on e1000e while it routes in table 100"
ip route del 198.51.100.0/24 dev "$ifc" table 100
hd check "$n"
out_has "in use by the host" && fail "check still says the NIC is in use once it routes nothing"
hd detach "$n"
expect "$rc" 0 "detach once out of the bridge: exit status"
hd reattach "$n"
expect "$rc" 0 "reattach of the NIC: exit status"
expect "$(driver_of "$n")" e1000e "$n back on e1000e"
pass
