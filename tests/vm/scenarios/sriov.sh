# sriov.sh - `hostdev sriov PF --numvfs N` on QEMU's SR-IOV nvme: VFs appear unbound (autoprobe
# off), N -> M goes through 0, bad counts and non-SR-IOV devices are refused, 0 removes them;
# on vfio-pci without enable_sriov a count is refused before any write, the dry run too.
need_cmd sriov
pf=""
for a in $(find_ids 1b36 0010); do [ -e "$PCI/$a/sriov_totalvfs" ] && pf=$a; done
[ -n "$pf" ] || fail "no SR-IOV nvme PF"
expect "$(attr "$pf" sriov_totalvfs)" 2 "$pf sriov_totalvfs"
expect "$(attr "$pf" sriov_numvfs)" 0 "$pf sriov_numvfs at boot"
expect "$(attr "$pf" sriov_drivers_autoprobe)" 1 "$pf sriov_drivers_autoprobe at boot"
vfs() { ls -d "$PCI/$pf"/virtfn* 2>/dev/null | wc -l; }

hd sriov "$pf" --numvfs 2
expect "$rc" 0 "sriov --numvfs 2: exit status"
expect "$(attr "$pf" sriov_numvfs)" 2 "sriov_numvfs after --numvfs 2"
expect "$(attr "$pf" sriov_drivers_autoprobe)" 0 "sriov_drivers_autoprobe after --numvfs 2"
expect "$(vfs)" 2 "virtfn links after --numvfs 2"
for l in "$PCI/$pf"/virtfn*; do
    vf=$(basename "$(readlink "$l")")
    [ -d "$PCI/$vf" ] || fail "VF $vf listed but not in /sys/bus/pci/devices"
    expect "$(driver_of "$vf")" none "driver of new VF $vf (autoprobe off)"
    expect "$(basename "$(readlink "$PCI/$vf/physfn")")" "$pf" "physfn of $vf"
done

hd sriov "$pf" --numvfs 3
expect "$rc" 2 "sriov --numvfs 3 > sriov_totalvfs: exit status"
out_has "at most 2" || fail "sriov did not say the limit"
expect "$(attr "$pf" sriov_numvfs)" 2 "sriov_numvfs after a refused --numvfs 3"

e=$(find_dev 8086 10d3 root) || fail "no e1000e"
hd sriov "$e" --numvfs 1
expect "$rc" 2 "sriov on a non-SR-IOV device: exit status"
out_has "not SR-IOV capable" || fail "sriov did not say $e is not SR-IOV capable"
vf0=$(basename "$(readlink "$PCI/$pf/virtfn0")")
hd sriov "$vf0" --numvfs 1
expect "$rc" 2 "sriov on a VF: exit status"
hd sriov "$pf" --numvfs x
expect "$rc" 2 "sriov --numvfs x: exit status"

# 2 -> 1: the kernel refuses it directly (EBUSY); hostdev goes through 0.
hd sriov "$pf" --numvfs 1
expect "$rc" 0 "sriov 2 -> 1: exit status"
expect "$(attr "$pf" sriov_numvfs)" 1 "sriov_numvfs after 2 -> 1"
expect "$(vfs)" 1 "virtfn links after 2 -> 1"
hd --json sriov "$pf" --numvfs 1
expect "$rc" 0 "sriov 1 -> 1: exit status"
grep -q '"changed": false' "$T/out" || fail "--json does not say changed: false for 1 -> 1"

hd sriov "$pf" --numvfs 0
expect "$rc" 0 "sriov --numvfs 0: exit status"
expect "$(attr "$pf" sriov_numvfs)" 0 "sriov_numvfs after --numvfs 0"
expect "$(vfs)" 0 "virtfn links after --numvfs 0"

# On vfio-pci, whose enable_sriov is N unless it was loaded with it, the kernel would refuse a
# count: the dry run and the run say why before writing, and the PF stays at 0.
drv=$(driver_of "$pf")
hd detach "$pf"
expect "$rc" 0 "detach $pf: exit status"
expect "$(cat /sys/module/vfio_pci/parameters/enable_sriov)" N "vfio-pci's enable_sriov"
hd sriov "$pf" --numvfs 1 --dry-run
expect "$rc" 1 "sriov --dry-run on vfio-pci without enable_sriov: exit status"
out_has "enable_sriov" || fail "the dry run did not say why"
hd sriov "$pf" --numvfs 1
expect "$rc" 1 "sriov on vfio-pci without enable_sriov: exit status"
out_has "enable_sriov parameter set to Y" || fail "sriov did not say why"
expect "$(attr "$pf" sriov_numvfs)" 0 "sriov_numvfs after the refusal"
hd reattach "$pf"
expect "$rc" 0 "reattach $pf: exit status"
expect "$(driver_of "$pf")" "$drv" "$pf driver after reattach"
pass
