# pci-stub.sh - `hostdev detach --driver pci-stub`: only the named device moves (its twin with
# the same ids stays on e1000e), no dynamic id is left in pci-stub, reattach undoes it.
need_cmd detach reattach
set -- $(find_all 8086 10d3 root)
[ $# -ge 2 ] || fail "need two e1000e on the root bus, found $#"
keep=$1 a=$2
snapshot() { for d in "$PCI"/*; do echo "$(basename "$d") $(driver_of "$(basename "$d")")"; done; }
snapshot | grep -v "^$a " >"$T/before"

hd detach --driver pci-stub "$a"
expect "$rc" 0 "detach --driver pci-stub $a: exit status"
expect "$(driver_of "$a")" pci-stub "$a driver after detach --driver pci-stub"
snapshot | grep -v "^$a " >"$T/after"
diff "$T/before" "$T/after" || fail "other devices changed driver (diff above)"
# A dynamic id left behind would make this identical new_id fail with EEXIST.
echo "8086 10d3" >/sys/bus/pci/drivers/pci-stub/new_id 2>"$T/newid" ||
    fail "pci-stub already has a dynamic id 8086 10d3: $(cat "$T/newid")"
echo "8086 10d3" >/sys/bus/pci/drivers/pci-stub/remove_id
expect "$(driver_of "$keep")" e1000e "$keep driver (same ids, must not be captured)"

hd reattach "$a"
expect "$rc" 0 "reattach $a: exit status"
expect "$(driver_of "$a")" e1000e "$a driver after reattach"
expect "$(attr "$a" driver_override)" "(null)" "$a driver_override after reattach"

# If hostdev offers a way to force the new_id method, the same must hold with it.
if "$HD" detach --help 2>&1 | grep -q -- "--method"; then
    hd detach --driver pci-stub --method new_id "$a"
    expect "$rc" 0 "detach --method new_id: exit status"
    expect "$(driver_of "$a")" pci-stub "$a driver after detach --method new_id"
    expect "$(driver_of "$keep")" e1000e "$keep driver after --method new_id"
    echo "8086 10d3" >/sys/bus/pci/drivers/pci-stub/new_id 2>"$T/newid" ||
        fail "--method new_id left a dynamic id in pci-stub"
    echo "8086 10d3" >/sys/bus/pci/drivers/pci-stub/remove_id
    hd reattach "$a"
    expect "$(driver_of "$a")" e1000e "$a driver after the second reattach"
else
    note "hostdev detach has no --method: the new_id path is not exercised"
fi
pass
