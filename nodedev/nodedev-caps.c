/* nodedev-caps.c - what each kind of node device (usb, scsi, net, block, the host) says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodedev.h"

static long long attr_number(struct hd_nodedev *dev, const char *attr, int base, long long dflt)
{
    char buf[64];
    unsigned long long v;

    if (hd_nodedev_read_attr(dev, attr, buf, sizeof(buf)) < 0)
        return dflt;
    /* Some attributes are space-padded ("  12"). */
    char *p = buf;
    while (*p == ' ')
        p++;
    if (hd_parse_uint(p, base, (1ull << 62), &v) < 0)
        return dflt;
    return (long long)v;
}

static int devtype(struct hd_nodedev *dev, char *buf, size_t size)
{
    int r = hd_nodedev_uevent(dev, "DEVTYPE", buf, size);

    if (r < 0)
        buf[0] = '\0';
    return r == -ENOENT ? 0 : r;
}

/* USB: devices ("1-2", root hubs "usb1") and their interfaces ("1-2:1.0"). */
int hd_nodedev_probe_usb(struct hd_nodedev *dev)
{
    char type[64];
    int r;

    if ((r = devtype(dev, type, sizeof(type))) < 0 && r != -ENOENT)
        return r;
    if (strcmp(type, "usb_interface") == 0 ||
        (type[0] == '\0' && strchr(dev->sysname, ':') != NULL)) {
        dev->cap = HD_CAP_USB_INTERFACE;
        dev->caps[0] = hd_nodedev_cap_to_string(dev->cap);
        dev->num[0] = attr_number(dev, "bInterfaceNumber", 16, 0);
        dev->num[1] = attr_number(dev, "bInterfaceClass", 16, 0);
        dev->num[2] = attr_number(dev, "bInterfaceSubClass", 16, 0);
        dev->num[3] = attr_number(dev, "bInterfaceProtocol", 16, 0);
        if ((r = hd_nodedev_dup_attr(dev, "interface", &dev->description)) < 0)
            return r;
    } else if (strcmp(type, "usb_device") == 0 || type[0] == '\0') {
        dev->num[0] = attr_number(dev, "busnum", 10, 0);
        dev->num[1] = attr_number(dev, "devnum", 10, 0);
        dev->vendor_id = (int)attr_number(dev, "idVendor", 16, 0);
        dev->product_id = (int)attr_number(dev, "idProduct", 16, 0);
        if ((r = hd_nodedev_dup_attr(dev, "manufacturer", &dev->vendor_name)) < 0 ||
            (r = hd_nodedev_dup_attr(dev, "product", &dev->product_name)) < 0)
            return r;
    } else {
        return 1; /* a USB port or something else that is not a node device */
    }
    return hd_nodedev_set_name(dev, "usb", NULL);
}

/* SCSI peripheral type -> the word libvirt shows. */
static const char *scsi_type_name(long long type)
{
    switch (type) {
    case 0x00:
        return "disk";
    case 0x01:
        return "tape";
    case 0x03:
        return "processor";
    case 0x04:
        return "worm";
    case 0x05:
        return "cdrom";
    case 0x06:
        return "scanner";
    case 0x07:
        return "mod";
    case 0x08:
        return "changer";
    case 0x0c:
        return "raid";
    case 0x0d:
        return "enclosure";
    default:
        return NULL;
    }
}

/* "@prefix N:N:..." with exactly @n decimal numbers separated by ':' (sysfs SCSI names:
 * "host1", "target1:0:0", "1:0:0:0"). 0, or -EINVAL for anything else. */
static int scsi_numbers(const char *name, const char *prefix, unsigned int *out, int n)
{
    char copy[64], *save = NULL, *part;
    size_t plen = strlen(prefix);
    int i = 0;

    if (strncmp(name, prefix, plen) != 0 || strlen(name + plen) >= sizeof(copy))
        return -EINVAL;
    strcpy(copy, name + plen);
    if (copy[0] == ':' || copy[strlen(copy) ? strlen(copy) - 1 : 0] == ':' || strstr(copy, "::"))
        return -EINVAL;
    for (part = strtok_r(copy, ":", &save); part; part = strtok_r(NULL, ":", &save)) {
        unsigned long long v;
        if (i == n || hd_parse_uint(part, 10, 0xffffffffu, &v) < 0)
            return -EINVAL;
        out[i++] = (unsigned int)v;
    }
    return i == n ? 0 : -EINVAL;
}

/* The SCSI bus holds hosts ("host1"), targets ("target1:0:0") and devices ("1:0:0:0"). */
int hd_nodedev_probe_scsi(struct hd_nodedev *dev)
{
    unsigned int num[4];
    char type[64];
    int r;

    if ((r = devtype(dev, type, sizeof(type))) < 0)
        return r;
    if (strcmp(type, "scsi_host") == 0 ||
        (type[0] == '\0' && scsi_numbers(dev->sysname, "host", num, 1) == 0)) {
        char attr[HD_PATH_MAX];
        if (scsi_numbers(dev->sysname, "host", num, 1) < 0)
            return -EINVAL;
        dev->cap = HD_CAP_SCSI_HOST;
        dev->num[0] = num[0];
        hd_path(attr, sizeof(attr), "scsi_host/%s/unique_id", dev->sysname);
        dev->num[1] = attr_number(dev, attr, 10, -1);
    } else if (strcmp(type, "scsi_target") == 0 ||
               (type[0] == '\0' && strncmp(dev->sysname, "target", 6) == 0)) {
        dev->cap = HD_CAP_SCSI_TARGET;
    } else if (strcmp(type, "scsi_device") == 0 || type[0] == '\0') {
        if (scsi_numbers(dev->sysname, "", num, 4) < 0)
            return 1;
        dev->cap = HD_CAP_SCSI;
        for (int i = 0; i < 4; i++)
            dev->num[i] = num[i];
        dev->scsi_type = scsi_type_name(attr_number(dev, "type", 10, -1));
    } else {
        return 1;
    }
    dev->caps[0] = hd_nodedev_cap_to_string(dev->cap);
    return hd_nodedev_set_name(dev, "scsi", NULL);
}

int hd_nodedev_probe_scsi_generic(struct hd_nodedev *dev)
{
    return hd_nodedev_set_name(dev, "scsi_generic", NULL);
}

/* operstate values libvirt knows (RFC 2863 states). */
static const char *link_state(const char *operstate)
{
    static const char *const known[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                        "testing", "dormant",    "up"};

    for (size_t i = 0; i < HD_ARRAY_SIZE(known); i++) {
        if (strcmp(operstate, known[i]) == 0)
            return known[i];
    }
    return NULL;
}

int hd_nodedev_probe_net(struct hd_nodedev *dev)
{
    char buf[64], type[64];
    int r;

    if ((dev->ifname = strdup(dev->sysname)) == NULL)
        return -ENOMEM;
    if ((r = hd_nodedev_dup_attr(dev, "address", &dev->mac)) < 0)
        return r;
    if (hd_nodedev_read_attr(dev, "operstate", buf, sizeof(buf)) >= 0)
        dev->link_state = link_state(buf);
    /* The kernel answers EINVAL for the speed of a link that is not up, and -1 when it does
     * not know; libvirt reads that as an unsigned int and shows 4294967295. */
    if (dev->link_state != NULL && strcmp(dev->link_state, "up") == 0 &&
        hd_nodedev_read_attr(dev, "speed", buf, sizeof(buf)) >= 0) {
        long long speed;
        if (hd_parse_int(buf, -1, 0xffffffffLL, &speed) == 0)
            dev->link_speed = (unsigned int)speed;
    }
    if ((r = devtype(dev, type, sizeof(type))) < 0)
        return r;
    dev->net_subtype = strcmp(type, "wlan") == 0 ? "80211" : "80203";
    /* Offloads are the host network stack's: a tree under another root has none to show. */
    if (hd_ctx_root_is_host(dev->ctx))
        hd_netdev_features(dev->ifname, &dev->net_features);
    return hd_nodedev_set_name(dev, "net", dev->mac);
}

/* Whole disks backed by hardware; partitions and virtual block devices (loop, dm, zram,
 * which have no device link) are not node devices. */
int hd_nodedev_probe_storage(struct hd_nodedev *dev)
{
    char path[HD_PATH_MAX], type[64];
    int r;

    if (hd_nodedev_read_attr(dev, "partition", type, sizeof(type)) >= 0)
        return 1;
    if ((r = devtype(dev, type, sizeof(type))) < 0)
        return r;
    if (type[0] != '\0' && strcmp(type, "disk") != 0)
        return 1;
    if (hd_path(path, sizeof(path), "%s/device", dev->path) < 0 ||
        hd_fs_exists(dev->ctx, path) != 1)
        return 1;
    /* As libvirt: vendor and model from the device's attributes, whatever they hold (a virtio
     * disk's "vendor" is its PCI vendor id, 0x1af4). */
    if ((r = hd_nodedev_dup_attr(dev, "device/model", &dev->model)) < 0 ||
        (r = hd_nodedev_dup_attr(dev, "device/vendor", &dev->vendor)) < 0 ||
        (r = hd_nodedev_dup_attr(dev, "device/serial", &dev->serial)) < 0)
        return r;
    if (dev->serial == NULL && (r = hd_nodedev_dup_attr(dev, "serial", &dev->serial)) < 0)
        return r;
    /* SCSI peripheral type 5 is an optical drive; everything else we meet is a disk. */
    dev->drive_type = attr_number(dev, "device/type", 10, 0) == 5 ? "cd" : "disk";
    dev->removable = attr_number(dev, "removable", 10, 0) == 1;
    dev->num_blocks = (unsigned long long)attr_number(dev, "size", 10, 0);
    dev->block_size = (unsigned long long)attr_number(dev, "queue/logical_block_size", 10, 512);
    return hd_nodedev_set_name(dev, "block", dev->serial);
}

/* The host: SMBIOS strings from sys/class/dmi/id (product_uuid is readable by root only). */
int hd_nodedev_probe_system(struct hd_nodedev *dev)
{
    static const struct {
        const char *attr;
        size_t offset;
    } fields[] = {
        {"product_name", offsetof(struct hd_nodedev, sys_product)},
        {"sys_vendor", offsetof(struct hd_nodedev, hw_vendor)},
        {"product_version", offsetof(struct hd_nodedev, hw_version)},
        {"product_serial", offsetof(struct hd_nodedev, hw_serial)},
        {"product_uuid", offsetof(struct hd_nodedev, hw_uuid)},
        {"bios_vendor", offsetof(struct hd_nodedev, fw_vendor)},
        {"bios_version", offsetof(struct hd_nodedev, fw_version)},
        {"bios_date", offsetof(struct hd_nodedev, fw_date)},
    };

    for (size_t i = 0; i < HD_ARRAY_SIZE(fields); i++) {
        char path[HD_PATH_MAX], buf[256];
        char **out = (char **)((char *)dev + fields[i].offset);
        ssize_t n;

        hd_path(path, sizeof(path), "sys/class/dmi/id/%s", fields[i].attr);
        n = hd_fs_read_attr(dev->ctx, path, buf, sizeof(buf));
        while (n > 0 && buf[n - 1] == ' ')
            buf[--n] = '\0';
        if (n > 0 && (*out = strdup(buf)) == NULL)
            return -ENOMEM;
    }
    return 0;
}

/* A mediated device (bus/mdev/devices/UUID, in its parent's directory): its type, group, and
 * libvirt's name mdev_<uuid>_<parent>. */
int hd_nodedev_probe_mdev(struct hd_nodedev *dev)
{
    char path[HD_PATH_MAX], buf[HD_DRIVER_NAME_MAX], uuid[37];
    const char *slash;
    long long g = -1;
    int r;

    if (hd_mdev_uuid_parse(dev->sysname, uuid) < 0 || strcmp(uuid, dev->sysname) != 0)
        return 1;
    if ((r = hd_path(path, sizeof(path), "%s/mdev_type", dev->path)) < 0 ||
        (r = hd_fs_link_basename(dev->ctx, path, buf, sizeof(buf))) < 0)
        return r;
    if ((dev->mdev_type = strdup(buf)) == NULL)
        return -ENOMEM;
    slash = strrchr(dev->path, '/');
    for (const char *p = slash; p != NULL && p > dev->path; p--) {
        if (p[-1] == '/') {
            if ((dev->mdev_parent = strndup(p, (size_t)(slash - p))) == NULL)
                return -ENOMEM;
            break;
        }
    }
    if (dev->mdev_parent == NULL || !hd_name_valid(dev->mdev_parent))
        return -EINVAL;
    if (hd_path(path, sizeof(path), "%s/iommu_group", dev->path) == 0 &&
        hd_fs_link_basename(dev->ctx, path, buf, sizeof(buf)) == 0 &&
        hd_parse_int(buf, 0, 1 << 30, &g) < 0)
        g = -1;
    dev->num[0] = g;
    return hd_nodedev_set_name(dev, "mdev", dev->mdev_parent);
}
