/* pci.h - pci/: the PCI device model and what sysfs shows beside it: addresses and selectors
 * (pciaddr.c), device snapshots (device.c), listings (enumerate.c), vendor and device names
 * (names.c), mediated devices' types and devices (mdev.c). Reads only. Uses os/, gateway/,
 * shared/. */
#ifndef HOSTDEV_PCI_H
#define HOSTDEV_PCI_H

#include "os.h"

#define HD_DRIVER_NAME_MAX 64

/* ---- device.c ----------------------------------------------------------------------------- */

/* A device's fields are device.c's own: the rest of the library reads them through the
 * public getters (hd_device_get_*) and the internal ones below, and changes them only through
 * device.c's operations (fills, hd_device_set_listed_group). */
struct hd_device;

/* A snapshot with nothing read yet. */
struct hd_device *hd_device_new(struct hd_ctx *ctx, const struct hd_pci_addr *addr);
/* Read the @fill fields; with @again also those already read. */
int hd_device_fill_fields(struct hd_device *dev, unsigned int fill, bool again);
/* The driver alone, from its link (HD_FILL_IDENT reads it with the rest): NULL when unbound. */
int hd_device_fill_driver(struct hd_device *dev);
/* hd_device_fill_driver() with the link's name (@driver, "" unbound) its caller has just read. */
int hd_device_set_read_driver(struct hd_device *dev, const char *driver);
/* HD_FILL_IDENT | HD_FILL_CONFIG the way a listing reads them (device.c says how); a VF is left
 * with *vf_pending, its ids for hd_device_fill_vf_ids(). With @driver_known, @driver (NULL:
 * none) is the device's driver and its link is not read. */
int hd_device_fill_bulk(struct hd_device *dev, bool driver_known, const char *driver,
                        bool *vf_pending);
/* A PF's VFs now: VF i is at routing id PF + @offset + @stride * i, for i < @numvfs.
 * -ENOENT when @pf is no PF. */
int hd_device_read_vf_layout(struct hd_device *pf, int *offset, int *stride, int *numvfs);
/* Where VF @i of the PF at @pf is (pci_iov_virtfn_bus/devfn): its routing id + @offset +
 * @stride * @i, in its domain; also for a VF not made yet. -ERANGE past bus 255. */
int hd_pci_vf_addr(const struct hd_pci_addr *pf, int offset, int stride, int i,
                   struct hd_pci_addr *vf);
/* A pending VF's ids and physfn from its PF @pf: the PF's vendor and its sriov_vf_device, read
 * once per PF. -ENOENT when the PF cannot tell (a kernel without sriov_vf_device). */
int hd_device_fill_vf_ids(struct hd_device *vf, struct hd_device *pf);
/* The uevent file's text (cut up in place): DRIVER, PCI_ID, PCI_CLASS, PCI_SUBSYS_ID, MODALIAS
 * into @dev's HD_FILL_IDENT fields. -EINVAL with a message naming the bad line. */
int hd_device_parse_uevent(struct hd_device *dev, char *buf);
/* hd_device_get_driver(), or @unbound when it has none. */
const char *hd_device_get_driver_or(const struct hd_device *dev, const char *unbound);
/* Whether the kernel said the device is on no VFIO driver while on its present driver
 * (hd_device_is_on_vfio()'s cache), and to remember that it did. */
bool hd_device_known_not_on_vfio(const struct hd_device *dev);
void hd_device_set_not_on_vfio(const struct hd_device *dev);
/* Whether every one of the @fill fields has been read. */
bool hd_device_has_filled(const struct hd_device *dev, unsigned int fill);
/* The kernel listed @dev in IOMMU group @group (a group's devices directory): that is its
 * HD_FILL_GROUP, without reading its iommu_group link. */
void hd_device_set_listed_group(struct hd_device *dev, int group);
/* The IOMMU group that the iommu_group link at @path (of device @name: a PCI address, a
 * mediated device's UUID) names: 0, -ENOENT (none, no error set), else -errno with the error
 * set naming @name and the link; a link the kernel would not make (no link, looping, too long,
 * leading outside kernel/iommu_groups, naming no group number) is bad input
 * (HD_REASON_INVALID). */
int hd_sysfs_read_group_link(struct hd_ctx *ctx, const char *name, const char *path, int *group);
/* "sys/bus/pci/devices/<BDF>/<attr>" */
int hd_device_attr_path(const struct hd_device *dev, const char *attr, char *buf, size_t size);
ssize_t hd_device_read_attr(struct hd_device *dev, const char *attr, char *buf, size_t size);
ssize_t hd_device_read_attr_bytes(struct hd_device *dev, const char *attr, void *buf,
                                  size_t size);
/* Up to @size bytes of the device's config space: how many were read, 0 when it has none (a
 * fake tree, a device going away: the kernel's own attributes tell what it would), or a failed
 * read's -errno with a message naming the device and file (what must not be taken from a guess). */
ssize_t hd_device_read_config(struct hd_device *dev, void *buf, size_t size);
int hd_device_write_attr(struct hd_device *dev, const char *attr, const char *value);
/* The driver bound right now, from the driver link: 0 with @buf "" when unbound. */
int hd_device_read_driver(struct hd_device *dev, char *buf, size_t size);
/* hd_device_open_fill(), whose driver link (with HD_FILL_IDENT) must also agree with uevent's
 * driver, as hd_device_check_driver_link() (hostdev.h) asks: read once for both. */
int hd_device_open_agreed(struct hd_ctx *ctx, const struct hd_pci_addr *addr, unsigned int fill,
                          struct hd_device **out);
/* The kernel's enable count (`enable`): host drivers enable their device in probe; vfio-pci
 * while user space has the VFIO device open, and disables it at the last close. -ENOENT when
 * the kernel shows none. */
int hd_device_read_enable_count(struct hd_device *dev, int *count);
/* An integer attribute within [@min, @max]: 0, -ENOENT (no error set), else -errno with the
 * error set naming the device and the attribute: what the kernel would not write there (out
 * of range, no number, a NUL, too long) is bad input (HD_REASON_INVALID). */
int hd_device_read_int(struct hd_device *dev, const char *attr, long long min, long long max,
                       int *out);
/* hd_device_refresh(), then hd_device_fill(@fill) (0: none), for a caller that goes on
 * whatever they find: a failure leaves the context's error as it was, so no reason of a read
 * the caller tolerated (bad input) outlives it to be taken for a later failure's. */
void hd_device_reread(struct hd_device *dev, unsigned int fill);

/* ---- enumerate.c -------------------------------------------------------------------------- */

/* Whether hd_device_list_new(@fill) would keep the device at @addr, read as it reads it (its
 * driver left unread: the listing takes drivers from their directories, reading no link): 0,
 * -ENODEV when it is not there or would be left out (warned about as the listing does),
 * -ENOMEM. */
int hd_device_read_listed(struct hd_ctx *ctx, const struct hd_pci_addr *addr, unsigned int fill);

/* ---- names.c ------------------------------------------------------------------------------ */

/* Vendor and product names for these ids; either may come back NULL (unknown or names off).
 * The strings are in the context's string pool and live as long as the context. */
int hd_names_lookup(struct hd_ctx *ctx, uint16_t vendor, uint16_t device, const char **vendor_name,
                    const char **product_name);

/* ---- mdev.c: mediated devices ------------------------------------------------------------- */

/* struct hd_mdev and struct hd_mdev_info are plain result records, not objects: no references,
 * no lifetime, nothing to free; the caller owns the memory (on its stack, or an array of
 * struct hd_mdev_list's) and mdev.c fills it in. So their fields are public to the library,
 * unlike those of the objects (struct hd_mdev_list, struct hd_mdev_type_list: mdev.c's own). */

/* A mediated device's parent as sysfs names it (class/mdev_bus/PARENT) into @buf of
 * HD_DRIVER_NAME_MAX: a PCI address in full however it was given (00:02.0 is 0000:00:02.0),
 * another name (a virtual parent such as mtty) as it is. -EINVAL when it is neither. */
int hd_mdev_parent_name(const char *text, char buf[HD_DRIVER_NAME_MAX]);
/* One mediated device as sysfs shows it. */
struct hd_mdev {
    char uuid[37];
    char parent[HD_DRIVER_NAME_MAX], type[HD_DRIVER_NAME_MAX], driver[HD_DRIVER_NAME_MAX];
    int group;
};
/* What sysfs says of mediated device @uuid: -ENOENT when there is none. */
int hd_mdev_read(struct hd_ctx *ctx, const char *uuid, struct hd_mdev *m);
/* What acquire and verify need of mediated device @uuid (canonical); -ENOENT (message left)
 * when there is none. */
struct hd_mdev_info {
    char parent[HD_DRIVER_NAME_MAX];
    char driver[HD_DRIVER_NAME_MAX]; /* "": none (its parent's mdev driver did not take it) */
    int group;    /* -1: none (its vendor driver has not registered it with VFIO) */
    char cdev[32]; /* "vfioN", "" without one */
};
int hd_mdev_lookup(struct hd_ctx *ctx, const char *uuid, struct hd_mdev_info *info);
/* For each plain name P in @top and each plain name N in @top/P[/@middle]: @fn(@data, P, N),
 * sorted; a missing @top is empty, a P that is not a directory is left out. */
int hd_mdev_scan(struct hd_ctx *ctx, const char *top, const char *middle,
                 int (*fn)(void *data, const char *parent, const char *name), void *data);

#endif
