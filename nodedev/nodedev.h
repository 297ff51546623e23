/* nodedev.h - nodedev/: node devices as libvirt names and describes them (every capability:
 * PCI, USB, SCSI, net, storage, mdev, the system), listed and looked up (nodedev.c), probed
 * (nodedev-caps.c, netdev-features.c) and written as libvirt's node-device XML
 * (nodedev-xml.c). These declarations are the folder's own: the layers above use the public
 * hd_nodedev_* API. Uses pci/ and below. */
#ifndef HOSTDEV_NODEDEV_H
#define HOSTDEV_NODEDEV_H

#include "pci.h"

/* ---- nodedev.c, nodedev-caps.c, nodedev-xml.c ---------------------------------------------- */

struct hd_nodedev {
    atomic_int refcount;
    struct hd_ctx *ctx;
    enum hd_nodedev_cap cap;
    char *name;
    char *parent;  /* NULL only for "computer" */
    char *path;    /* the device's directory, relative to the root: "sys/devices/..." */
    char *abspath; /* "/" + path, what <path> shows */
    char *sysname; /* last component of path: "0000:00:1f.2", "1-2:1.0", "sda" */
    char *driver;
    char *devnode; /* "/dev/..." from uevent DEVNAME */
    const char *caps[4]; /* what virNodeDeviceListCaps reports */
    size_t ncaps;
    struct hd_device *pci; /* HD_CAP_PCI */
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
    /* pci: the types it offers as a mediated device parent (the listing's, shared) */
    struct hd_mdev_type_list *mdev_types;
    /* mdev: its type and its parent's sysfs name; its group is num[0] (-1: none) */
    char *mdev_type, *mdev_parent;
    /* system ("computer"): from the DMI attributes */
    char *sys_product, *hw_vendor, *hw_version, *hw_serial, *hw_uuid;
    char *fw_vendor, *fw_version, *fw_date;
};

/* netdev-features.c: libvirt's net <feature> names, in its order, and the ones @ifname has on
 * the host (bit i: hd_netdev_feature_names[i]). rdma and switchdev are never set. */
#define HD_NETDEV_FEATURES 14
extern const char *const hd_netdev_feature_names[HD_NETDEV_FEATURES];
int hd_netdev_features(const char *ifname, unsigned int *mask);

/* nodedev-caps.c: fill the capability's fields of @dev from its sysfs directory. */
int hd_nodedev_probe_usb(struct hd_nodedev *dev);
int hd_nodedev_probe_scsi(struct hd_nodedev *dev);
int hd_nodedev_probe_scsi_generic(struct hd_nodedev *dev);
int hd_nodedev_probe_net(struct hd_nodedev *dev);
int hd_nodedev_probe_storage(struct hd_nodedev *dev); /* 0: keep, 1: not a disk, skip */
int hd_nodedev_probe_system(struct hd_nodedev *dev);
int hd_nodedev_probe_mdev(struct hd_nodedev *dev);
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
