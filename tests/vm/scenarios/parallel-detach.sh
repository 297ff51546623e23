# parallel-detach.sh - one command on devices of different IOMMU groups (the two e1000e on the
# root bus, the e1000 behind a root port), whose steps the engine runs side by side: `detach`
# puts each on vfio-pci with its /dev/vfio/N (verify passes for each), `reattach` gives each
# back to its driver; `acquire` of all of them (detached, then reset, then given to the VM's
# user) and `release` end the same way; nothing is left in the intent log.
need_cmd detach reattach verify acquire release recover
set -- $(find_all 8086 10d3 root) $(find_all 8086 100e 1b36:000c)
[ $# -ge 2 ] || skip "fewer than two devices to detach at once (found: $*)"
groups="" drivers=""
for a in "$@"; do
    g=$(group_of "$a")
    [ "$g" != none ] || skip "$a has no IOMMU group"
    case " $groups " in *" $g "*) skip "$a shares IOMMU group $g with another of $*" ;; esac
    groups="$groups $g"
    drivers="$drivers $(driver_of "$a")"
done
note "devices $*, groups$groups, drivers$drivers"

# back WHAT: each device is on the driver it had, without override, its node gone.
devices="$*"
back() {
    _what=$1
    set -- $devices
    for d in $drivers; do
        expect "$(driver_of "$1")" "$d" "$1 driver after $_what"
        expect "$(attr "$1" driver_override)" "(null)" "$1 driver_override after $_what"
        absent "/dev/vfio/$(group_of "$1")" || fail "/dev/vfio/$(group_of "$1") left after $_what"
        shift
    done
}

hd detach "$@"
expect "$rc" 0 "detach $*: exit status"
for a in "$@"; do
    expect "$(driver_of "$a")" vfio-pci "$a driver after detach"
    exists "/dev/vfio/$(group_of "$a")" || fail "/dev/vfio/$(group_of "$a") missing after detach"
    hd verify "$a"
    expect "$rc" 0 "verify $a after detach: exit status"
done
hd reattach "$@"
expect "$rc" 0 "reattach $*: exit status"
back reattach

hd acquire --vm par --owner 107:108 "$@"
expect "$rc" 0 "acquire --vm par $*: exit status"
for a in "$@"; do
    expect "$(driver_of "$a")" vfio-pci "$a driver after acquire"
    expect "$(ls -ln "/dev/vfio/$(group_of "$a")" | awk '{ print $3 ":" $4 }')" 107:108 \
        "/dev/vfio/$(group_of "$a") owner after acquire"
done
hd release --vm par
expect "$rc" 0 "release --vm par: exit status"
back release
[ -z "$(ls /run/hostdev/journal 2>/dev/null)" ] || fail "an intent log was left: $(ls /run/hostdev/journal)"
hd recover
expect "$rc" 0 "recover with nothing to do: exit status"
pass
