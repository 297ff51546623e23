/* devout.h - shared device output of the list and show commands. */
#ifndef HOSTDEV_DEVOUT_H
#define HOSTDEV_DEVOUT_H

#include "tool.h"

const char *device_class_name(uint32_t class);

/* What a listing says beside each device's own fields, each read once for all of them:
 * its network interfaces, the VM that holds it, the driver it had before a stub. */
struct device_facts {
    struct hd_netif_list *netifs;          /* NULL: not read */
    struct hd_assignment_list *map;        /* NULL: not read (or unreadable) */
    struct hd_ctx *ctx;                    /* where the guard leaves what the host uses */
    struct hd_host_use *host_use;          /* the guard, reading the host once for all */
    struct vfio_drivers *vfio_drivers;     /* which drivers were found on VFIO, or not */
};
void device_facts_read(struct tool *t, struct device_facts *f);
void device_facts_free(struct device_facts *f);
/* What the host uses @dev for, or the VFs detaching it would destroy, in the words check and
 * detach refuse it with (allocated), or NULL. Asked only of storage, network, display and
 * serial-bus (USB) functions and PFs with VFs on a host driver: what the guard can find used.
 * A listing reads no VFs (a file per device), so only a one-device look sees a PF's. */
char *device_host_use(const struct device_facts *f, struct hd_device *dev);

/* "0000:03:00.0 Ethernet controller [0200]: Intel ... [8086:10d3] (rev 01) driver=e1000e
 * group=3 if=enp3s0 vm=web1 orig_driver=e1000e" (@f may be NULL: the device's own fields) */
void device_print_line(FILE *out, struct hd_device *dev, const struct device_facts *f);
/* The keys of one device object (the caller opens and closes the object): a listing's (the
 * fields of the text line), or with @detail every field of a one-device look. */
void device_print_json_fields(struct json *j, struct hd_device *dev, const struct device_facts *f,
                              bool detail);

#endif
