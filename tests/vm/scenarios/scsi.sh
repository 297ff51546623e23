# scsi.sh - a SCSI device on a real kernel (hostuse boot: virtio-scsi with a scsi-hd; the sg
# module gives it /dev/sgN). Refused while the guest has its disk mounted; once unmounted it
# is acquired (its /dev/sgN goes to the VM's user 0660), refused to a second VM, released
# (the node as it was). A kernel without SCSI makes the scenario check that hostdev says there
# is none; one without sd skips the mounted-disk refusal, saying so.
need_cmd acquire release
# The SCSI device on virtio-scsi (not the USB stick's): its H:B:T:L.
virtio_lun() {
    for d in /sys/bus/scsi/devices/*:*:*:*; do
        case $(readlink -f "$d") in *virtio*) basename "$d" && return 0 ;; esac
    done
    return 1
}
if [ ! -d /sys/bus/scsi/devices ]; then
    hd acquire --vm vm-s scsi_0_0_0_0
    expect "$rc" 2 "acquire of a SCSI device where there is none: exit status"
    note "kernel $(uname -r): no SCSI built"
    pass
fi
wait_until 10000 virtio_lun >/dev/null || fail "the virtio-scsi disk did not appear"
lun=$(virtio_lun)
name=scsi_$(echo "$lun" | tr : _)
sg=$(ls "/sys/bus/scsi/devices/$lun/scsi_generic" 2>/dev/null | head -n1)
[ -n "$sg" ] || fail "$lun has no scsi_generic device (is sg loaded?)"
node=/dev/$sg
wait_until 5000 test -c "$node" || fail "$node missing"
was=$(owner "$node")
if [ -d /sys/bus/scsi/drivers/sd ]; then
    wait_until 5000 test -d "/sys/bus/scsi/devices/$lun/block" || fail "$lun has no disk"
    refused_while_mounted "$(ls "/sys/bus/scsi/devices/$lun/block" | head -n1)" "$name" "$node"
else
    note "kernel $(uname -r): no sd: the mounted-disk refusal is not tried"
fi

hd acquire --vm vm-s --owner 107:108 "$name"
expect "$rc" 0 "acquire $name: exit status"
expect "$(owner "$node")" "crw-rw---- 107:108" "$node owner and mode while assigned"
hd acquire --vm vm-t "$name"
expect "$rc" 1 "acquire by a second VM: exit status"
hd release --vm vm-s "$name"
expect "$rc" 0 "release: exit status"
expect "$(owner "$node")" "$was" "$node owner and mode after release"
pass
