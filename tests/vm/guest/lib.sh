# lib.sh - sourced before each scenario in the guest: verdicts, bounded waits, sysfs helpers.
# Scenarios run under busybox sh with `set -u`; every assertion reads the guest's own sysfs
# or /dev, not only what hostdev says.
set -u
PCI=/sys/bus/pci/devices
HD=/bin/hostdev
T=/tmp/$HDTEST_NAME
mkdir -p "$T"

# ---- verdicts: one line each on ttyS1 (fd 3), echoed on the console ------------------------
verdict() {
    [ -s /tmp/verdict ] && return 0 # the first verdict counts
    echo "HDTEST $*" >&3
    echo "HDTEST $*" >/tmp/verdict
    echo "HDTEST $*"
}
pass() { verdict "PASS $HDTEST_NAME"; exit 0; }
fail() { verdict "FAIL $HDTEST_NAME: $*"; exit 1; }
skip() { verdict "SKIP $HDTEST_NAME: $*"; exit 0; }
note() { echo "[$HDTEST_NAME] $*"; }

# expect ACTUAL EXPECTED WHAT
expect() {
    [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# ---- time and bounded waits -------------------------------------------------------------------
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# wait_until MS CMD...: poll CMD every 10 ms until it succeeds; 1 after MS ms.
wait_until() {
    _deadline=$(($(now_ms) + $1))
    shift
    while ! "$@"; do
        [ "$(now_ms)" -ge "$_deadline" ] && return 1
        usleep 10000
    done
    return 0
}
exists() { [ -e "$1" ] || [ -L "$1" ]; }
absent() { ! exists "$1"; }
driver_is() { [ "$(driver_of "$1")" = "$2" ]; }
# A node's mode and owner as ls shows them: "crw-rw---- 107:108".
owner() { ls -ln "$1" | awk '{ print $1, $3 ":" $4 }'; }

# ---- sysfs helpers ----------------------------------------------------------------------------
driver_of() {
    if [ -L "$PCI/$1/driver" ]; then basename "$(readlink "$PCI/$1/driver")"; else echo none; fi
}
group_of() {
    if [ -L "$PCI/$1/iommu_group" ]; then basename "$(readlink "$PCI/$1/iommu_group")"; else echo none; fi
}
attr() { cat "$PCI/$1/$2" 2>/dev/null; }
# Devices with these ids (VVVV DDDD, no 0x), one address a line, sorted.
find_ids() {
    for d in "$PCI"/*; do
        [ "$(cat "$d/vendor")" = "0x$1" ] && [ "$(cat "$d/device")" = "0x$2" ] && basename "$d"
    done | sort
}
# Devices with these ids whose parent is the root bus (WHERE=root) or a bridge with the ids
# WHERE=VVVV:DDDD (1b36:000c pcie-root-port, 1b36:000e pcie-pci-bridge); one a line.
find_all() {
    for a in $(find_ids "$1" "$2"); do
        parent=$(basename "$(dirname "$(readlink -f "$PCI/$a")")")
        case "$parent" in
        pci*) [ "$3" = root ] && echo "$a" ;;
        *) [ "$(cat "$PCI/$parent/vendor"):$(cat "$PCI/$parent/device")" = "0x${3%:*}:0x${3#*:}" ] &&
            echo "$a" ;;
        esac
    done
    return 0
}
# The first of those; fails when there is none.
find_dev() {
    _f=$(find_all "$@" | head -n1)
    [ -n "$_f" ] && echo "$_f"
}

# ---- hostdev ------------------------------------------------------------------------------------
# has_cmd NAME: the binary under test offers this command (engine commands land one by one).
has_cmd() {
    [ -x "$HD" ] && "$HD" --help 2>/dev/null | grep -q "^  $1 "
}
need_cmd() {
    [ -x "$HD" ] || fail "no hostdev binary in the guest (the static build failed)"
    for _c in "$@"; do
        has_cmd "$_c" || skip "hostdev has no '$_c' command yet"
    done
}
# hd ARGS...: run hostdev, keep stdout in $T/out, stderr in $T/err, exit status in $rc; echo
# all of it to the console for the record.
hd() {
    rc=0
    "$HD" "$@" >"$T/out" 2>"$T/err" || rc=$?
    echo "[$HDTEST_NAME] \$ hostdev $* -> exit $rc"
    sed 's/^/    | /' "$T/out"
    sed 's/^/    ! /' "$T/err"
}
out_has() { grep -qi -- "$1" "$T/out" "$T/err"; }

# Bind a device to a driver by hand through driver_override (no hostdev involved), waiting for
# the driver link. Used by the harness self-test and to set up states for hostdev.
bind_by_hand() {
    _a=$1 _drv=$2
    echo "$_drv" >"$PCI/$_a/driver_override" || return 1
    if [ -L "$PCI/$_a/driver" ]; then echo "$_a" >"$PCI/$_a/driver/unbind" || return 1; fi
    echo "$_a" >/sys/bus/pci/drivers_probe || return 1
    wait_until 5000 driver_is "$_a" "$_drv"
}
# Bind to vfio-pci by hand and wait for /dev/vfio/<group>; fails the scenario otherwise.
vfio_by_hand() {
    bind_by_hand "$1" vfio-pci || fail "binding $1 to vfio-pci by hand: driver is $(driver_of "$1")"
    wait_until 5000 exists "/dev/vfio/$(group_of "$1")" ||
        fail "/dev/vfio/$(group_of "$1") did not appear for $1"
}
unbind_by_hand() {
    _a=$1
    echo >"$PCI/$_a/driver_override" || return 1
    if [ -L "$PCI/$_a/driver" ]; then echo "$_a" >"$PCI/$_a/driver/unbind" || return 1; fi
    return 0
}
restore_by_hand() {
    unbind_by_hand "$1" && echo "$1" >/sys/bus/pci/drivers_probe && wait_until 5000 driver_is "$1" "$2"
}

# refused_while_mounted SD NAME NODE: with a filesystem on /dev/SD mounted, acquiring device
# NAME is refused (exit 1, saying it is mounted) and its NODE keeps its owner; unmounted after.
refused_while_mounted() {
    _was=$(owner "$3")
    mke2fs -q "/dev/$1" >/dev/null 2>&1 || fail "mke2fs /dev/$1"
    mkdir -p "/mnt/$1"
    mount -t ext4 "/dev/$1" "/mnt/$1" || fail "mount /dev/$1"
    hd acquire --vm vm-m --owner 107:108 "$2"
    expect "$rc" 1 "acquire of $2 with /dev/$1 mounted: exit status"
    out_has "mounted" || fail "the refusal of $2 does not say /dev/$1 is mounted"
    expect "$(owner "$3")" "$_was" "$3 owner after a refusal"
    umount "/mnt/$1"
}

# ---- the boot-path boots (Debian root, tests/vm/debroot) --------------------------------------
# reserved_at_boot ADDR MODULE: ADDR is on vfio-pci with a lasting override, and MODULE, its
# host driver, was loaded during the boot (it could have taken the device) but never probed it
# (e1000e, e1000 and nvme log every device they probe, naming its address).
reserved_at_boot() {
    expect "$(driver_of "$1")" vfio-pci "$1 driver"
    expect "$(attr "$1" driver_override)" vfio-pci "$1 driver_override"
    exists "/dev/vfio/$(group_of "$1")" || fail "/dev/vfio/$(group_of "$1") missing for $1"
    [ -d "/sys/module/$2" ] || fail "$2 was never loaded: nothing proves it could not take $1"
    dmesg >"$T/dmesg"
    case $2 in
    nvme) ! grep "pci function $1\$" "$T/dmesg" || fail "nvme probed $1 (line above)" ;;
    *) ! grep "$2 $1" "$T/dmesg" || fail "$2 probed $1 (line above)" ;;
    esac
}
# kernels_choice_after_boot ADDR DRIVER: the boot found ADDR unbound (not probed yet), so its
# record says the kernel's choice ('*'), and a reattach gives it to DRIVER, which the coldplug
# loaded meanwhile (not to none), with no override left; the run says where it went.
kernels_choice_after_boot() {
    expect "$(cat "/run/hostdev/drivers/$1" 2>/dev/null)" "*" "$1 driver record"
    hd reattach "$1"
    expect "$rc" 0 "hostdev reattach $1: exit status"
    out_has "^$1: vfio-pci -> $2\$" || fail "reattach of $1 did not say it went to $2"
    expect "$(driver_of "$1")" "$2" "$1 driver after reattach"
    expect "$(attr "$1" driver_override)" "(null)" "$1 driver_override after reattach"
    absent "/run/hostdev/drivers/$1" || fail "the record of $1 outlived its reattach"
}
# vfs_reserved_at_boot PF N: the PF has N VFs (numvfs= in hostdev.d), each reserved at boot.
vfs_reserved_at_boot() {
    expect "$(attr "$1" sriov_numvfs)" "$2" "$1 sriov_numvfs (numvfs=$2 in hostdev.d)"
    for _l in "$PCI/$1"/virtfn*; do
        [ -L "$_l" ] || fail "$1 has no VFs"
        reserved_at_boot "$(basename "$(readlink "$_l")")" nvme
    done
}
# The shipped rule masked for this boot (hdtest.norule), or not.
rule_masked() { [ "$(readlink /run/udev/rules.d/60-hostdev.rules 2>/dev/null)" = /dev/null ]; }
unit_state() { systemctl show -p "$2" --value "$1"; }
# The initramfs boots: the rule and the unit are masked in the real root (hdtest.norule,
# systemd.mask=), so what is reserved was reserved by the initramfs. Its script (init-top,
# pre-udev hook) logs what it did to the kernel log: each device found unbound and bound to
# vfio-pci before either NIC driver loaded (the rule the hook copies into the initramfs
# would take them too, from udev there, but says nothing: these lines are the script's);
# 00:06.0, an e1000e nobody names, is e1000e's (it was there to take).
reserved_by_initramfs() {
    udevadm settle -t 30 || note "udevadm settle timed out"
    rule_masked || fail "the udev rule is not masked in the real root (hdtest.norule)"
    expect "$(unit_state hostdev-reserve.service ActiveState)" inactive "hostdev-reserve.service state"
    reserved_at_boot 0000:00:02.0 e1000e # /etc/hostdev.d, copied into the initramfs
    reserved_at_boot 0000:00:04.0 e1000  # hostdev.reserve=
    _nic=$(grep -n -E 'e1000e?: Intel' "$T/dmesg" | head -n1 | cut -d: -f1)
    [ -n "$_nic" ] || fail "no NIC driver loaded in the kernel log (e1000e, e1000)"
    for _l in "0000:00:02.0: unbound -> vfio-pci (etc/hostdev.d/10-hdtest.conf:2)" \
        "0000:00:04.0: unbound -> vfio-pci (proc/cmdline)"; do
        _n=$(grep -n -F "hostdev: $_l" "$T/dmesg" | head -n1 | cut -d: -f1)
        [ -n "$_n" ] || fail "no 'hostdev: $_l' in the kernel log: the initramfs script did not reserve it"
        [ "$_n" -lt "$_nic" ] || fail "'hostdev: $_l' (log line $_n) came after a NIC driver loaded (line $_nic)"
    done
    expect "$(driver_of 0000:00:06.0)" e1000e "0000:00:06.0 driver (the control, not reserved)"
    grep -q "e1000e 0000:00:06.0" "$T/dmesg" || fail "no e1000e probe of 0000:00:06.0 in the log (control)"
    pass
}
