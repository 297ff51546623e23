/* devargs.h - device-list arguments shared by detach, reattach, reset, check, show,
 * acquire, release. */
#ifndef HOSTDEV_DEVARGS_H
#define HOSTDEV_DEVARGS_H

#include "tool.h"

/* Parse every ADDR in argv[0..argc-1] (an allocated array, free() it); EXIT_USAGE (message
 * printed) when there is none or any is malformed. */
int devargs_parse(struct tool *t, int argc, char **argv, struct hd_pci_addr **addrs);
/* Parse and open every ADDR in argv[0..argc-1]; EXIT_USAGE (message printed) when any is
 * malformed or missing. */
int devargs_open(struct tool *t, int argc, char **argv, struct hd_device ***devs, size_t *n);
void devargs_free(struct hd_device **devs, size_t n);
/* As devargs_open(), where an argument VVVV:DDDD stands for every device there now with these
 * ids (in address order, where it stands), as hostdev.reserve= reads it; EXIT_USAGE (printed)
 * when none has them. A device named both ways is taken once. @all: the listing (HD_FILL_IDENT)
 * the ids are matched in, made when it is NULL and an argument is ids. */
int devargs_open_ids(struct tool *t, int argc, char **argv, struct hd_device_list **all,
                     struct hd_device ***devs, size_t *n);

/* A device that is not a PCI function, named on the command line: a mediated device (its
 * UUID or mdev_<uuid>), a USB device (usb_B_D, libvirt's node-device name, or usb:VVVV:PPPP) or
 * a SCSI device (scsi_H_B_T_L). */
struct devarg_other {
    enum hd_nodedev_cap cap; /* HD_CAP_MDEV, HD_CAP_USB_DEVICE or HD_CAP_SCSI */
    char name[128];          /* its node-device name (mdev: its UUID) */
    char uuid[37];           /* mdev */
    char api[32];            /* mdev: vfio-pci, vfio-ccw, vfio-ap */
    unsigned long addr[4];   /* usb: bus, device; scsi: host, bus, target, lun */
    int vendor, product;     /* usb */
    bool ids_unique;         /* usb: no other device has these ids */
    char sg[64];             /* scsi: its /dev/sgN, "" when it has none */
};
/* As devargs_open(), where an argument naming such a device fills (*@others)[i] and leaves
 * (*@devs)[i] NULL. EXIT_USAGE (printed) when one does not exist. Free both with
 * devargs_free_any(). */
int devargs_open_any(struct tool *t, int argc, char **argv, struct hd_device ***devs,
                     struct devarg_other **others, size_t *n);
void devargs_free_any(struct hd_device **devs, struct devarg_other *others, size_t n);
/* As devargs_open_any(), for the devices the assignment map says VM @vm holds, in its order,
 * without those it holds only as members of their IOMMU groups (on vfio for the group's sake,
 * not the guest's). EXIT_USAGE (printed) for a bad VM id or a device that is not what its
 * record says; EXIT_FAILED when the VM holds nothing to give. */
int devargs_open_vm(struct tool *t, const char *vm, struct hd_device ***devs,
                    struct devarg_other **others, size_t *n);
/* Whether acquire would refuse USB or SCSI device @o as the host's (a hub, the host's keyboard,
 * storage it uses), with the reason in @buf: a VM given it would not get it (QEMU's usb-host
 * skips hubs) or would take it from the host. */
bool devarg_host_keeps(struct tool *t, const struct devarg_other *o, char *buf, size_t size);

/* Whether a VM given @dev (NULL: @other) would fail or take it from the host, said in @buf: a
 * PCI device off vfio-pci (unless @managed: libvirt then detaches it, and only one the host
 * keeps or uses is said), a USB or SCSI device the host keeps. Detaching it is the advice only
 * when detach would take it: the library's check of what the host keeps or uses of it (an
 * SR-IOV PF's VFs among that) is what detach refuses without --force, so that is said
 * instead. */
bool devarg_vm_would_fail(struct tool *t, struct hd_device *dev, const struct devarg_other *other,
                          bool managed, char *buf, size_t size);

#endif
