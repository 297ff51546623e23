# reset.sh - `hostdev reset` with pm (e1000e on the root bus), flr (nvme), bus (e1000 alone
# behind a pcie-root-port with x-speed=5): the method it reports is the kernel's first
# reset_method entry; a device without a reset file (edu) gets a clear answer and exit 1.
need_cmd reset
check_reset() { # ADDR EXPECTED_METHOD
    expect "$(attr "$1" reset_method)" "$2" "reset_method of $1"
    drv=$(driver_of "$1")
    # A device its host driver is using is refused without --force, and left alone.
    if [ -n "$drv" ]; then
        hd reset "$1"
        expect "$rc" 1 "reset $1 on its host driver $drv without --force: exit status"
        grep -q "in use by its host driver" "$T/err" || fail "reset $1: refusal gave no reason"
        expect "$(driver_of "$1")" "$drv" "driver of $1 after a refused reset"
    fi
    hd reset --force "$1"
    expect "$rc" 0 "reset $1 ($2): exit status"
    grep -qw -- "$2" "$T/out" "$T/err" || fail "reset $1 did not report the method '$2'"
    # If the JSON names a method, it is the kernel's.
    hd --json reset --force "$1"
    expect "$rc" 0 "reset --json $1 ($2): exit status"
    # The first method the JSON lists is the kernel's first.
    m=$(tr -d ' \n' <"$T/out" | sed -n 's/.*"methods":\["\([a-z_]*\)".*/\1/p')
    expect "$m" "$2" "first method in reset --json output for $1"
    expect "$(driver_of "$1")" "$drv" "driver of $1 after reset"
}
check_reset "$(find_dev 8086 10d3 root)" pm
nvme=""
for a in $(find_ids 1b36 0010); do [ -e "$PCI/$a/sriov_totalvfs" ] || nvme=$a; done
check_reset "$nvme" flr
check_reset "$(find_dev 8086 100e 1b36:000c)" bus
edu=$(find_dev 1234 11e8 root) || fail "no edu device"
absent "$PCI/$edu/reset" || fail "$edu unexpectedly has a reset file"
hd reset --force "$edu"
expect "$rc" 1 "reset of $edu (no reset file): exit status"
out_has "reset" || fail "reset of $edu gave no reason"
grep -qiE "no reset|not support|cannot be reset|no way|does not support" "$T/err" "$T/out" ||
    fail "reset of $edu did not say it cannot be reset"
pass
