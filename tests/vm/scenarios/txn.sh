# txn.sh - the transaction engine on a real kernel, with the two e1000e of the earlyboot boot
# (one reserved at boot, on vfio-pci; one on e1000e): one acquire of a managed and an unmanaged
# device, given back as taken, by command-line flags and by a libvirt domain XML (also killed
# and recovered); a device the VM holds refused by reattach and reset; kill -9 of
# acquire and release at growing delays, each followed by recover: the host ends either as
# before or with the assignment whole, never in between.
need_cmd acquire release assignments recover detach reattach reset
b=0000:00:02.0 # on vfio-pci since boot: the unmanaged one
a=0000:00:04.0 # on e1000e: the managed one
expect "$(driver_of "$a")" e1000e "$a driver before"
expect "$(driver_of "$b")" vfio-pci "$b driver before"
# kill -9 PID after MS milliseconds, then recover. An unbind the kill interrupted may still run
# in its writer, which then undoes the operation itself; recover is refused (exit 1) until it
# is done. Bounded.
kill_and_recover() {
    usleep $(($2 * 1000))
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    _tries=0
    while hd recover && [ "$rc" != 0 ]; do
        _tries=$((_tries + 1))
        [ "$_tries" -lt 50 ] || fail "recover after $3 killed at $2 ms: still exit $rc"
        usleep 100000
    done
}
ga=$(group_of "$a") gb=$(group_of "$b")

hd acquire --vm vm-m --owner 107:108 --managed "$a" --unmanaged "$b"
expect "$rc" 0 "mixed acquire: exit status"
expect "$(driver_of "$a")" vfio-pci "$a after the mixed acquire"
expect "$(owner "/dev/vfio/$ga")" "crw-rw---- 107:108" "/dev/vfio/$ga owner"
expect "$(owner "/dev/vfio/$gb")" "crw-rw---- 107:108" "/dev/vfio/$gb owner"
hd assignments
out_has "$a *vm-m *managed *e1000e" || fail "assignments: $a managed"
out_has "$b *vm-m *unmanaged" || fail "assignments: $b unmanaged"
# The VM's devices are refused by name by the commands that would take them.
for c in "reattach $a" "reset --force $b" "detach -d pci-stub $b"; do
    hd $c
    expect "$rc" 1 "$c while vm-m holds it: exit status"
    out_has "assigned to vm vm-m" || fail "$c: the refusal does not name vm-m"
done
hd release --vm vm-m
expect "$rc" 0 "release of the mixed VM: exit status"
expect "$(driver_of "$a")" e1000e "$a back on e1000e"
expect "$(driver_of "$b")" vfio-pci "$b stays on vfio-pci (unmanaged)"
expect "$(owner "/dev/vfio/$gb")" "crw------- 0:0" "/dev/vfio/$gb owner given back"
hd release --vm vm-m
expect "$rc" 1 "release of a VM that holds nothing: exit status"

# The same through a libvirt domain XML (one managed, one unmanaged hostdev), read by the
# dynamic hostdev with libxml2 (/dyn/hostdev; the static one has no XML reader).
[ -x /dyn/hostdev ] || fail "/dyn/hostdev (hostdev with libxml2) is not in this boot's initramfs"
hex() { echo "domain='0x${1%%:*}' bus='0x$(echo "$1" | cut -d: -f2)' slot='0x$(echo "$1" | cut -d: -f3 | cut -d. -f1)' function='0x${1##*.}'"; }
cat >/tmp/vm-x.xml <<XML
<domain type='kvm'>
  <name>vm-x</name>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address $(hex "$a")/></source>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address $(hex "$b")/></source>
    </hostdev>
  </devices>
</domain>
XML
HD_STATIC=$HD HD=/dyn/hostdev
t0=$(now_ms)
hd acquire --domain-xml /tmp/vm-x.xml --owner 107:108
took=$(($(now_ms) - t0))
expect "$rc" 0 "domain-XML acquire: exit status"
expect "$(driver_of "$a")" vfio-pci "$a after the domain-XML acquire"
expect "$(owner "/dev/vfio/$gb")" "crw-rw---- 107:108" "/dev/vfio/$gb owner (domain XML)"
hd --json assignments
out_has "\"vm\": *\"vm-x\"" || fail "assignments: vm-x named in JSON"
HD=$HD_STATIC
hd assignments
out_has "$a *vm-x *managed *e1000e" || fail "assignments: $a managed for vm-x"
out_has "$b *vm-x *unmanaged" || fail "assignments: $b unmanaged for vm-x"
HD=/dyn/hostdev
hd release --domain-xml /tmp/vm-x.xml
expect "$rc" 0 "domain-XML release: exit status"
expect "$(driver_of "$a")" e1000e "$a back on e1000e (domain XML)"
expect "$(driver_of "$b")" vfio-pci "$b stays on vfio-pci (unmanaged, domain XML)"
expect "$(owner "/dev/vfio/$gb")" "crw------- 0:0" "/dev/vfio/$gb given back (domain XML)"
# Killed in the middle of the domain-XML acquire (at sixths of what one took: loading libxml2
# takes most of it under TCG): recover leaves the host as before or whole.
for k in 1 2 3 4 5; do
    ms=$((took * k / 6))
    "$HD" acquire --domain-xml /tmp/vm-x.xml --owner 107:108 >/dev/null 2>&1 &
    kill_and_recover $! "$ms" "the domain-XML acquire"
    hd assignments
    if out_has "$a *vm-x"; then
        out_has "$b *vm-x" || fail "after a kill at $ms ms vm-x holds $a but not $b"
        hd release --domain-xml /tmp/vm-x.xml
        expect "$rc" 0 "release after the domain-XML acquire killed at $ms ms"
    else
        out_has "$b *vm-x" && fail "after a kill at $ms ms vm-x holds $b but not $a"
    fi
    expect "$(driver_of "$a")" e1000e "$a after the domain-XML acquire killed at $ms ms"
    expect "$(driver_of "$b")" vfio-pci "$b after the domain-XML acquire killed at $ms ms"
    expect "$(owner "/dev/vfio/$gb")" "crw------- 0:0" "/dev/vfio/$gb after a kill at $ms ms"
done
HD=$HD_STATIC

# kill -9 at growing delays; recover; then the host is whole one way or the other.
for ms in 0 2 5 10 20 40 80 160; do
    for op in acquire release; do
        if [ "$op" = acquire ]; then
            "$HD" acquire --vm vm-k --owner 107:108 "$a" >/dev/null 2>&1 &
        else
            hd acquire --vm vm-k --owner 107:108 "$a"
            expect "$rc" 0 "acquire before the killed release ($ms ms)"
            "$HD" release --vm vm-k >/dev/null 2>&1 &
        fi
        kill_and_recover $! "$ms" "$op"
        hd assignments
        if out_has "$a *vm-k"; then
            expect "$(driver_of "$a")" vfio-pci "$a assigned (after $op killed at $ms ms)"
            expect "$(owner "/dev/vfio/$ga")" "crw-rw---- 107:108" "/dev/vfio/$ga of vm-k"
            hd release --vm vm-k
            expect "$rc" 0 "release after $op killed at $ms ms"
        fi
        expect "$(driver_of "$a")" e1000e "$a after $op killed at $ms ms and recover"
        expect "$(attr "$a" driver_override)" "(null)" "$a override after $op killed at $ms ms"
        [ -z "$(ls /run/hostdev/journal 2>/dev/null)" ] || fail "an intent log is left after $op killed at $ms ms"
        [ ! -e /run/hostdev/drivers/$a ] || fail "a driver record of $a is left after $op killed at $ms ms"
    done
done
pass
