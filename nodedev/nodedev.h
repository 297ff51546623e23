/* nodedev.h - nodedev/: node devices as libvirt names and describes them (every capability:
 * PCI, USB, SCSI, net, storage, mdev, the system), listed and looked up (nodedev.c), probed
 * (nodedev-caps.c, netdev-features.c) and written as libvirt's node-device XML
 * (nodedev-xml.c). These declarations are the folder's own: the layers above use the public
 * hd_nodedev_* API. Uses pci/ and below. */
#ifndef HOSTDEV_NODEDEV_H
#define HOSTDEV_NODEDEV_H

#include "pci.h"

/* What a node device's capability says, as its probe (nodedev-caps.c) read it while the device
 * was made, and as nodedev-xml.c writes it out. A plain record inside the device: no
 * references, its strings its own (hd_nodedev_props_clear() frees them). The device around it
 * (struct hd_nodedev: its references, identity and lifetime) is nodedev.c's own. */
struct hd_nodedev_props {
    /* pci (copied from the snapshot), usb_device */
    int vendor_id, product_id;
    char *vendor_name, *product_name;
    /* usb_device: bus, device; usb interface: number, class, subclass, protocol;
     * scsi: host, bus, target, lun; scsi_host: host, unique_id (-1: none) */
    long long num[4];
    char *description; /* usb interface */
    /* net */
    char *ifname, *mac;
    const char *link_state; /* "up", "down", ... from operstate; NULL: unknown/absent */
    unsigned int link_speed;
    const char *net_subtype; /* "80203", "80211" or NULL */
    unsigned int net_features; /* hd_netdev_features(), on the host only */
    /* scsi */
    const char *scsi_type;
    /* storage */
    char *model, *vendor, *serial;
    const char *drive_type;
    bool removable;
    unsigned long long num_blocks, block_size;
    /* mdev: its type and its parent's sysfs name; its group is num[0] (-1: none) */
    char *mdev_type, *mdev_parent;
    /* system ("computer"): from the DMI attributes */
    char *sys_product, *hw_vendor, *hw_version, *hw_serial, *hw_uuid;
    char *fw_vendor, *fw_version, *fw_date;
};

/* ---- nodedev.c: the device's own fields, for nodedev-caps.c and nodedev-xml.c ------------- */

/* A node device is nodedev.c's own (struct hd_nodedev); the public hd_nodedev_get_* getters
 * and these read it. */
struct hd_ctx *hd_nodedev_get_ctx(const struct hd_nodedev *dev);
/* Its directory relative to the root ("sys/devices/..."), and that directory's last component
 * ("0000:00:1f.2", "1-2:1.0", "sda"). */
const char *hd_nodedev_get_dir(const struct hd_nodedev *dev);
const char *hd_nodedev_get_sysname(const struct hd_nodedev *dev);
const struct hd_nodedev_props *hd_nodedev_get_props(const struct hd_nodedev *dev);
/* pci: the types it offers as a mediated device parent; NULL when none. */
const struct hd_mdev_type_list *hd_nodedev_get_mdev_types(const struct hd_nodedev *dev);
/* A probe found it to be @cap (a USB interface, a SCSI host, ...) rather than what its
 * source lists: its capability and the first name virNodeDeviceListCaps shows. */
void hd_nodedev_set_cap(struct hd_nodedev *dev, enum hd_nodedev_cap cap);

/* netdev-features.c: libvirt's net <feature> names, in its order, and the ones @ifname has on
 * the host (bit i: hd_netdev_feature_names[i]). rdma and switchdev are never set. */
#define HD_NETDEV_FEATURES 14
extern const char *const hd_netdev_feature_names[HD_NETDEV_FEATURES];
int hd_netdev_features(const char *ifname, unsigned int *mask);

/* nodedev.c: the devices of one source alone (@cap: HD_CAP_USB_DEVICE, HD_CAP_NET, ...), named
 * and probed, with no parents looked for: for a question about places in sysfs (what is below
 * a controller). */
int hd_nodedev_list_new_only(struct hd_ctx *ctx, enum hd_nodedev_cap cap,
                             struct hd_nodedev_list **out);

/* nodedev-caps.c: fill @props, the capability's fields of @dev (which is being made), from
 * its sysfs directory. */
int hd_nodedev_probe_usb(struct hd_nodedev *dev, struct hd_nodedev_props *props);
int hd_nodedev_probe_scsi(struct hd_nodedev *dev, struct hd_nodedev_props *props);
int hd_nodedev_probe_scsi_generic(struct hd_nodedev *dev, struct hd_nodedev_props *props);
int hd_nodedev_probe_net(struct hd_nodedev *dev, struct hd_nodedev_props *props);
/* 0: keep, 1: not a disk, skip */
int hd_nodedev_probe_storage(struct hd_nodedev *dev, struct hd_nodedev_props *props);
int hd_nodedev_probe_system(struct hd_nodedev *dev, struct hd_nodedev_props *props);
int hd_nodedev_probe_mdev(struct hd_nodedev *dev, struct hd_nodedev_props *props);
/* Free what @props holds (the device it is in goes). */
void hd_nodedev_props_clear(struct hd_nodedev_props *props);
/* Read attribute @attr of @dev's directory; -ENOENT when absent. */
ssize_t hd_nodedev_read_attr(struct hd_nodedev *dev, const char *attr, char *buf, size_t size);
/* The same, allocated; *@out stays NULL when the attribute is absent or empty. */
int hd_nodedev_dup_attr(struct hd_nodedev *dev, const char *attr, char **out);
/* KEY's value in @dev's uevent file; -ENOENT when there is no such key. */
int hd_nodedev_uevent(struct hd_nodedev *dev, const char *key, char *buf, size_t size);
/* libvirt's naming rule: "@subsystem_@sysname[_@suffix]" with every byte that is not an
 * ASCII letter or digit turned into '_'. */
int hd_nodedev_set_name(struct hd_nodedev *dev, const char *subsystem, const char *suffix);

#endif
