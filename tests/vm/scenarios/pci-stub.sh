# pci-stub.sh - `hostdev detach --driver pci-stub`, through driver_override and through new_id
# (--new-id): only the named device moves, its unbound twin with the same ids is not captured,
# no dynamic id is left in pci-stub, a managed acquire takes it to vfio-pci and release back
# to pci-stub, and reattach gives the device back to e1000e.
need_cmd detach reattach
set -- $(find_all 8086 10d3 root)
[ $# -ge 2 ] || fail "need two e1000e on the root bus, found $#"
twin=$1 a=$2
snapshot() { for d in "$PCI"/*; do echo "$(basename "$d") $(driver_of "$(basename "$d")")"; done; }
no_dynamic_id() {
    # A dynamic id left behind makes this identical new_id fail with EEXIST. Nothing matching
    # is unbound at this point, so the probe itself captures nothing.
    echo "8086 10d3" >/sys/bus/pci/drivers/pci-stub/new_id 2>"$T/newid" ||
        fail "$1 left a dynamic id 8086 10d3 in pci-stub: $(cat "$T/newid")"
    echo "8086 10d3" >/sys/bus/pci/drivers/pci-stub/remove_id
}

for how in override new-id; do
    flag=""
    if [ "$how" = new-id ]; then
        if ! "$HD" detach --help 2>&1 | grep -q -- "--new-id"; then
            note "hostdev detach has no --new-id: the new_id path is not exercised"
            break
        fi
        flag=--new-id
    fi
    # The twin sits unbound: new_id would capture every unbound device with these ids.
    unbind_by_hand "$twin" || fail "unbinding $twin"
    snapshot | grep -v "^$a " >"$T/before"
    hd detach --driver pci-stub $flag "$a"
    expect "$rc" 0 "detach --driver pci-stub $flag $a: exit status"
    expect "$(driver_of "$a")" pci-stub "$a driver after detach --driver pci-stub $flag"
    snapshot | grep -v "^$a " >"$T/after"
    diff "$T/before" "$T/after" || fail "detach $flag changed other devices (diff above)"
    expect "$(driver_of "$twin")" none "unbound twin $twin after detach $flag (not captured)"
    restore_by_hand "$twin" e1000e || fail "giving $twin back to e1000e"
    no_dynamic_id "detach $flag"
    if [ "$how" = override ] && "$HD" acquire --help 2>&1 | grep -q -- "--vm"; then
        # A managed acquire takes it from pci-stub to vfio-pci; release puts it back there.
        hd acquire --vm stubvm "$a"
        expect "$rc" 0 "acquire --vm stubvm $a (on pci-stub): exit status"
        expect "$(driver_of "$a")" vfio-pci "$a driver after acquire from pci-stub"
        hd release --vm stubvm
        expect "$rc" 0 "release --vm stubvm: exit status"
        expect "$(driver_of "$a")" pci-stub "$a driver after release (back on pci-stub)"
        expect "$(attr "$a" driver_override)" pci-stub "$a driver_override after release"
    fi

    hd reattach "$a"
    expect "$rc" 0 "reattach $a ($how): exit status"
    expect "$(driver_of "$a")" e1000e "$a driver after reattach ($how)"
    expect "$(attr "$a" driver_override)" "(null)" "$a driver_override after reattach ($how)"
    no_dynamic_id "reattach after detach $flag"
done
pass
