# list.sh - `hostdev --json list` matches the guest's sysfs device by device: address, vendor and
# device ids, subsystem ids, class, revision, driver, IOMMU group. With two VFs of the nvme PF
# present: a listing reads ids from config space, where a VF's read ffff, and takes a VF's from
# its PF's sriov_vf_device.
need_cmd list
pf=""
for a in $(find_ids 1b36 0010); do [ -e "$PCI/$a/sriov_totalvfs" ] && pf=$a; done
if [ -n "$pf" ] && has_cmd sriov; then
    autoprobe=$(attr "$pf" sriov_drivers_autoprobe)
    hd sriov "$pf" --numvfs 2
    expect "$rc" 0 "sriov --numvfs 2: exit status"
    vf=$(basename "$(readlink "$PCI/$pf/virtfn1")")
    cfg=$(od -An -tx1 -N4 "$PCI/$vf/config" | tr -d ' ')
    note "VF $vf: config space ids read $cfg, sysfs says $(attr "$vf" vendor):$(attr "$vf" device)"
fi
hd --json list
expect "$rc" 0 "hostdev --json list: exit status"
# sysfs, one line per device: address vendor device subsystem-vendor subsystem-device class
# revision driver group (hex without 0x).
for d in "$PCI"/*; do
    a=$(basename "$d")
    v=$(cat "$d/vendor") p=$(cat "$d/device") c=$(cat "$d/class") r=$(cat "$d/revision")
    sv=$(cat "$d/subsystem_vendor") sd=$(cat "$d/subsystem_device")
    echo "$a ${v#0x} ${p#0x} ${sv#0x} ${sd#0x} ${c#0x} ${r#0x} $(driver_of "$a") $(group_of "$a")"
done | sort >"$T/sysfs"
# The JSON, tokenised in awk: every object that has an address and a vendor id is a device,
# whatever it is nested in. Accepted keys: address; vendor_id|vendor; device_id|device;
# subsystem_vendor_id; subsystem_device_id; class; revision; driver; iommu_group|group. Quoted
# numbers are hex ("0x8086"), bare ones decimal.
awk '
function norm(v, w,   h) {
    if (v == "null" || v == "") return "none"
    if (v ~ /^"/) { v = substr(v, 2, length(v) - 2); sub(/^0[xX]/, "", v); v = tolower(v)
                    while (w && length(v) < w) v = "0" v; return v }
    if (w) { h = sprintf("%0" w "x", v + 0); return h }
    return v
}
function emit(d,   a, v, p, c, drv, g, sv, sd, r) {
    a = f[d, "address"]; if (a == "") return
    v = (f[d, "vendor_id"] != "") ? f[d, "vendor_id"] : f[d, "vendor"]
    p = (f[d, "device_id"] != "") ? f[d, "device_id"] : f[d, "device"]
    if (v == "" || p == "") return
    c = f[d, "class"]; drv = f[d, "driver"]; r = f[d, "revision"]
    sv = f[d, "subsystem_vendor_id"]; sd = f[d, "subsystem_device_id"]
    g = (f[d, "iommu_group"] != "") ? f[d, "iommu_group"] : f[d, "group"]
    print norm(a, 0), norm(v, 4), norm(p, 4), norm(sv, 4), norm(sd, 4), norm(c, 6), norm(r, 2),
          norm(drv, 0), norm(g, 0)
}
{ text = text $0 "\n" }
END {
    n = length(text); depth = 0; key = ""; i = 1
    while (i <= n) {
        ch = substr(text, i, 1)
        if (ch == "\"") {
            j = i + 1
            while (j <= n) { c2 = substr(text, j, 1); if (c2 == "\\") { j += 2; continue }
                             if (c2 == "\"") break; j++ }
            tok = substr(text, i, j - i + 1); i = j + 1
            k = i; while (substr(text, k, 1) ~ /[ \t\n]/) k++
            if (substr(text, k, 1) == ":") { key = substr(tok, 2, length(tok) - 2); i = k + 1 }
            else { if (key != "") f[depth, key] = tok; key = "" }
            continue
        }
        if (ch == "{") {
            depth++; key = ""
            for (x in f) { split(x, q, SUBSEP); if (q[1] == depth) delete f[x] }
        }
        else if (ch == "}") { emit(depth); depth-- ; key = "" }
        else if (ch == "[") { key = "" }
        else if (ch ~ /[-0-9tfn]/) {
            j = i; while (substr(text, j, 1) ~ /[-0-9.a-zA-Z+]/) j++
            if (key != "") f[depth, key] = substr(text, i, j - i); key = ""; i = j; continue
        }
        i++
    }
}' "$T/out" | sort >"$T/json"
[ -s "$T/json" ] || fail "found no device objects in hostdev --json list (keys expected:" \
    "address, vendor_id, device_id, class, driver, iommu_group)"
if ! diff "$T/sysfs" "$T/json" >"$T/diff"; then
    echo "--- sysfs / +++ hostdev --json list (address vendor device subsystem class rev driver group)"
    cat "$T/diff"
    fail "hostdev --json list differs from sysfs" \
        "($(grep -c '^[-+][0-9]' "$T/diff") lines, diff above)"
fi
note "$(wc -l <"$T/sysfs") devices match"
hd list
expect "$rc" 0 "hostdev list: exit status"
if [ -n "$pf" ] && has_cmd sriov; then
    grep -qi "^$vf .*\[$(attr "$vf" vendor | sed 's/0x//'):$(attr "$vf" device | sed 's/0x//')\]" \
        "$T/out" || fail "hostdev list does not show VF $vf with its ids: $(grep "^$vf" "$T/out")"
    hd sriov "$pf" --numvfs 0
    expect "$rc" 0 "sriov --numvfs 0: exit status"
    # `hostdev sriov` leaves autoprobe off; the sriov scenario after this one expects the
    # boot's value.
    echo "$autoprobe" >"$PCI/$pf/sriov_drivers_autoprobe"
fi
pass
