# sriov-vf.sh - a VF made by `hostdev sriov` is detached, verified and removed with its siblings.
need_cmd sriov detach verify
pf=""
for a in $(find_ids 1b36 0010); do [ -e "$PCI/$a/sriov_totalvfs" ] && pf=$a; done
[ -n "$pf" ] || fail "no SR-IOV nvme PF"
hd sriov "$pf" --numvfs 2
expect "$rc" 0 "sriov --numvfs 2: exit status"
vf=$(basename "$(readlink "$PCI/$pf/virtfn0")")
g=$(group_of "$vf")
[ "$g" != none ] || fail "VF $vf has no IOMMU group"
hd detach "$vf"
expect "$rc" 0 "detach of VF $vf: exit status"
expect "$(driver_of "$vf")" vfio-pci "driver of $vf after detach"
wait_until 5000 exists "/dev/vfio/$g" || fail "/dev/vfio/$g did not appear"
hd verify "$vf"
expect "$rc" 0 "verify of VF $vf: exit status"
exists "/run/hostdev/drivers/$vf" || fail "detach of $vf wrote no driver record"
# A VF open through VFIO keeps the count: the kernel's remove would wait for its holder.
vfio-hold "$g" "$vf" >"$T/hold" 2>&1 &
holder=$!
wait_until 5000 grep -q held "$T/hold" || fail "vfio-hold could not open $vf: $(cat "$T/hold")"
hd sriov "$pf" --numvfs 0
expect "$rc" 1 "sriov --numvfs 0 with a VF open through VFIO: exit status"
out_has "$vf is open through VFIO" || fail "sriov did not name $vf as open through VFIO"
expect "$(attr "$pf" sriov_numvfs)" 2 "sriov_numvfs after the refusal"
kill "$holder"; wait "$holder" 2>/dev/null
# Writing 0 while a VF sits on vfio-pci (not open) removes the VFs cleanly, and its record.
hd sriov "$pf" --numvfs 0
expect "$rc" 0 "sriov --numvfs 0 with a detached VF: exit status"
out_has "$vf: was on vfio-pci" || fail "sriov did not name the detached VF it destroyed"
absent "/run/hostdev/drivers/$vf" || fail "the record of $vf outlived its VF"
expect "$(attr "$pf" sriov_numvfs)" 0 "sriov_numvfs after --numvfs 0"
absent "$PCI/$vf" || fail "VF $vf still present"
wait_until 5000 absent "/dev/vfio/$g" || fail "/dev/vfio/$g still there after the VFs went"
pass
