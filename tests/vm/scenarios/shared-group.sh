# shared-group.sh - two e1000 behind a pcie-pci-bridge share a group: a plain detach of one says
# which member blocks and how to fix it; `detach --group` moves both, and verify passes;
# `reattach --group` gives both back.
need_cmd detach reattach verify
set -- $(find_all 8086 100e 1b36:000e)
[ $# -eq 2 ] || fail "expected two e1000 behind the pcie-pci-bridge, found $#"
a=$1 b=$2
g=$(group_of "$a")
expect "$(group_of "$b")" "$g" "group of $b"

hd detach "$a"
cat "$T/out" "$T/err" >"$T/plain"
if [ "$rc" = 1 ]; then
    expect "$(driver_of "$a")" e1000 "$a driver after a refused detach (state restored)"
else
    expect "$rc" 0 "plain detach in a shared group: exit status (0 with a warning, or 1)"
    hd verify "$a"
    expect "$rc" 1 "verify of $a with $b still on e1000"
fi
grep -q -- "$b" "$T/plain" || fail "the plain detach did not name the blocking member $b"
grep -q -- "--group" "$T/plain" || fail "the plain detach did not suggest --group"
expect "$(driver_of "$b")" e1000 "$b driver after the plain detach"
[ "$(driver_of "$a")" = vfio-pci ] && { hd reattach "$a"; expect "$rc" 0 "reattach $a"; }

hd detach --group "$a"
expect "$rc" 0 "detach --group $a: exit status"
expect "$(driver_of "$a")" vfio-pci "$a driver after detach --group"
expect "$(driver_of "$b")" vfio-pci "$b driver after detach --group"
exists "/dev/vfio/$g" || fail "/dev/vfio/$g missing"
hd verify "$a"
expect "$rc" 0 "verify $a after detach --group"
hd verify "$b"
expect "$rc" 0 "verify $b after detach --group"

hd reattach --group "$b"
expect "$rc" 0 "reattach --group $b: exit status"
expect "$(driver_of "$a")" e1000 "$a driver after reattach --group"
expect "$(driver_of "$b")" e1000 "$b driver after reattach --group"
pass
