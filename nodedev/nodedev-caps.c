/* nodedev-caps.c - what each kind of node device (usb, scsi, net, block, the host) says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodedev.h"

void hd_nodedev_props_clear(struct hd_nodedev_props *props)
{
    char *strings[] = {
        props->vendor_name, props->product_name, props->description, props->ifname,
        props->mac,         props->model,        props->vendor,      props->serial,
        props->sys_product, props->hw_vendor,    props->hw_version,  props->hw_serial,
        props->hw_uuid,     props->fw_vendor,    props->fw_version,  props->fw_date,
        props->mdev_type,   props->mdev_parent,
    };

    for (size_t i = 0; i < HD_ARRAY_SIZE(strings); i++)
        free(strings[i]);
    memset(props, 0, sizeof(*props));
}

/* @attr as a number: 0, -EINVAL when it holds none, or the read's -errno. */
static int attr_read_number(struct hd_nodedev *dev, const char *attr, int base, long long *out)
{
    char buf[64];
    unsigned long long v;
    ssize_t n = hd_nodedev_read_attr(dev, attr, buf, sizeof(buf));

    if (n < 0)
        return (int)n;
    /* Some attributes are space-padded ("  12"). */
    char *p = buf;
    while (*p == ' ')
        p++;
    if (hd_parse_uint(p, base, (1ull << 62), &v) < 0)
        return -EINVAL;
    *out = (long long)v;
    return 0;
}

static long long attr_number(struct hd_nodedev *dev, const char *attr, int base, long long dflt)
{
    long long v;

    return attr_read_number(dev, attr, base, &v) == 0 ? v : dflt;
}

/* A number the node device's XML must show (libvirt's schema wants it; libvirt leaves out a
 * device it cannot read it of): one that cannot be read is the device's error, so the listing
 * leaves it out too, instead of showing a 0 the kernel never said. */
static int attr_required(struct hd_nodedev *dev, const char *attr, int base, long long *out)
{
    int r = attr_read_number(dev, attr, base, out);

    if (r == -ENOMEM)
        return r;
    if (r == -EINVAL || r == -ENOENT)
        return hd_errr(hd_nodedev_get_ctx(dev), -EINVAL, HD_REASON_INVALID,
                       "%s/%s: %s", hd_nodedev_get_dir(dev), attr,
                       r == -ENOENT ? "missing" : "not a number");
    return r;
}

static int devtype(struct hd_nodedev *dev, char *buf, size_t size)
{
    int r = hd_nodedev_uevent(dev, "DEVTYPE", buf, size);

    if (r < 0)
        buf[0] = '\0';
    return r == -ENOENT ? 0 : r;
}

/* USB: devices ("1-2", root hubs "usb1") and their interfaces ("1-2:1.0"). */
int hd_nodedev_probe_usb(struct hd_nodedev *dev, struct hd_nodedev_props *props)
{
    char type[64];
    int r;

    if ((r = devtype(dev, type, sizeof(type))) < 0 && r != -ENOENT)
        return r;
    if (strcmp(type, "usb_interface") == 0 ||
        (type[0] == '\0' && strchr(hd_nodedev_get_sysname(dev), ':') != NULL)) {
        static const char *const numbers[] = {"bInterfaceNumber", "bInterfaceClass",
                                               "bInterfaceSubClass", "bInterfaceProtocol"};
        hd_nodedev_set_cap(dev, HD_CAP_USB_INTERFACE);
        for (size_t i = 0; i < HD_ARRAY_SIZE(numbers); i++) {
            if ((r = attr_required(dev, numbers[i], 16, &props->num[i])) < 0)
                return r;
        }
        if ((r = hd_nodedev_dup_attr(dev, "interface", &props->description)) < 0)
            return r;
    } else if (strcmp(type, "usb_device") == 0 || type[0] == '\0') {
        long long vendor = 0, product = 0;
        if ((r = attr_required(dev, "busnum", 10, &props->num[0])) < 0 ||
            (r = attr_required(dev, "devnum", 10, &props->num[1])) < 0 ||
            (r = attr_required(dev, "idVendor", 16, &vendor)) < 0 ||
            (r = attr_required(dev, "idProduct", 16, &product)) < 0)
            return r;
        props->vendor_id = (int)vendor;
        props->product_id = (int)product;
        if ((r = hd_nodedev_dup_attr(dev, "manufacturer", &props->vendor_name)) < 0 ||
            (r = hd_nodedev_dup_attr(dev, "product", &props->product_name)) < 0)
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
int hd_nodedev_probe_scsi(struct hd_nodedev *dev, struct hd_nodedev_props *props)
{
    unsigned int num[4];
    char type[64];
    int r;

    if ((r = devtype(dev, type, sizeof(type))) < 0)
        return r;
    if (strcmp(type, "scsi_host") == 0 ||
        (type[0] == '\0' && scsi_numbers(hd_nodedev_get_sysname(dev), "host", num, 1) == 0)) {
        char attr[HD_PATH_MAX];
        if (scsi_numbers(hd_nodedev_get_sysname(dev), "host", num, 1) < 0)
            return -EINVAL;
        hd_nodedev_set_cap(dev, HD_CAP_SCSI_HOST);
        props->num[0] = num[0];
        hd_path(attr, sizeof(attr), "scsi_host/%s/unique_id", hd_nodedev_get_sysname(dev));
        props->num[1] = attr_number(dev, attr, 10, -1);
    } else if (strcmp(type, "scsi_target") == 0 ||
               (type[0] == '\0' && strncmp(hd_nodedev_get_sysname(dev), "target", 6) == 0)) {
        hd_nodedev_set_cap(dev, HD_CAP_SCSI_TARGET);
    } else if (strcmp(type, "scsi_device") == 0 || type[0] == '\0') {
        if (scsi_numbers(hd_nodedev_get_sysname(dev), "", num, 4) < 0)
            return 1;
        hd_nodedev_set_cap(dev, HD_CAP_SCSI);
        for (int i = 0; i < 4; i++)
            props->num[i] = num[i];
        props->scsi_type = scsi_type_name(attr_number(dev, "type", 10, -1));
    } else {
        return 1;
    }
    return hd_nodedev_set_name(dev, "scsi", NULL);
}

int hd_nodedev_probe_scsi_generic(struct hd_nodedev *dev, struct hd_nodedev_props *props)
{
    (void)props; /* a scsi_generic node has nothing of its own to show but its /dev node */
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

int hd_nodedev_probe_net(struct hd_nodedev *dev, struct hd_nodedev_props *props)
{
    char buf[64], type[64];
    int r;

    if ((props->ifname = strdup(hd_nodedev_get_sysname(dev))) == NULL)
        return -ENOMEM;
    if ((r = hd_nodedev_dup_attr(dev, "address", &props->mac)) < 0)
        return r;
    if (hd_nodedev_read_attr(dev, "operstate", buf, sizeof(buf)) >= 0)
        props->link_state = link_state(buf);
    /* The kernel answers EINVAL for the speed of a link that is not up, and -1 when it does
     * not know; libvirt reads that as an unsigned int and shows 4294967295. */
    if (props->link_state != NULL && strcmp(props->link_state, "up") == 0 &&
        hd_nodedev_read_attr(dev, "speed", buf, sizeof(buf)) >= 0) {
        long long speed;
        if (hd_parse_int(buf, -1, 0xffffffffLL, &speed) == 0)
            props->link_speed = (unsigned int)speed;
    }
    if ((r = devtype(dev, type, sizeof(type))) < 0)
        return r;
    props->net_subtype = strcmp(type, "wlan") == 0 ? "80211" : "80203";
    /* Offloads are the host network stack's: a tree under another root has none to show. */
    if (hd_ctx_root_is_host(hd_nodedev_get_ctx(dev)))
        hd_netdev_features(props->ifname, &props->net_features);
    return hd_nodedev_set_name(dev, "net", props->mac);
}

/* Whole disks backed by hardware; partitions and virtual block devices (loop, dm, zram,
 * which have no device link) are not node devices. */
int hd_nodedev_probe_storage(struct hd_nodedev *dev, struct hd_nodedev_props *props)
{
    char path[HD_PATH_MAX], type[64];
    int r;

    if (hd_nodedev_read_attr(dev, "partition", type, sizeof(type)) >= 0)
        return 1;
    if ((r = devtype(dev, type, sizeof(type))) < 0)
        return r;
    if (type[0] != '\0' && strcmp(type, "disk") != 0)
        return 1;
    if (hd_path(path, sizeof(path), "%s/device", hd_nodedev_get_dir(dev)) < 0 ||
        hd_fs_exists(hd_nodedev_get_ctx(dev), path) != 1)
        return 1;
    /* As libvirt: vendor and model from the device's attributes, whatever they hold (a virtio
     * disk's "vendor" is its PCI vendor id, 0x1af4). */
    if ((r = hd_nodedev_dup_attr(dev, "device/model", &props->model)) < 0 ||
        (r = hd_nodedev_dup_attr(dev, "device/vendor", &props->vendor)) < 0 ||
        (r = hd_nodedev_dup_attr(dev, "device/serial", &props->serial)) < 0)
        return r;
    if (props->serial == NULL && (r = hd_nodedev_dup_attr(dev, "serial", &props->serial)) < 0)
        return r;
    /* SCSI peripheral type 5 is an optical drive; everything else we meet is a disk. */
    props->drive_type = attr_number(dev, "device/type", 10, 0) == 5 ? "cd" : "disk";
    props->removable = attr_number(dev, "removable", 10, 0) == 1;
    long long blocks = 0, block_size = 0;
    if ((r = attr_required(dev, "size", 10, &blocks)) < 0 ||
        (r = attr_required(dev, "queue/logical_block_size", 10, &block_size)) < 0)
        return r;
    props->num_blocks = (unsigned long long)blocks;
    props->block_size = (unsigned long long)block_size;
    return hd_nodedev_set_name(dev, "block", props->serial);
}

/* The host: SMBIOS strings from sys/class/dmi/id (product_uuid is readable by root only). */
int hd_nodedev_probe_system(struct hd_nodedev *dev, struct hd_nodedev_props *props)
{
    static const struct {
        const char *attr;
        size_t offset;
    } fields[] = {
        {"product_name", offsetof(struct hd_nodedev_props, sys_product)},
        {"sys_vendor", offsetof(struct hd_nodedev_props, hw_vendor)},
        {"product_version", offsetof(struct hd_nodedev_props, hw_version)},
        {"product_serial", offsetof(struct hd_nodedev_props, hw_serial)},
        {"product_uuid", offsetof(struct hd_nodedev_props, hw_uuid)},
        {"bios_vendor", offsetof(struct hd_nodedev_props, fw_vendor)},
        {"bios_version", offsetof(struct hd_nodedev_props, fw_version)},
        {"bios_date", offsetof(struct hd_nodedev_props, fw_date)},
    };

    for (size_t i = 0; i < HD_ARRAY_SIZE(fields); i++) {
        char path[HD_PATH_MAX], buf[256];
        char **out = (char **)((char *)props + fields[i].offset);
        ssize_t n;

        hd_path(path, sizeof(path), "sys/class/dmi/id/%s", fields[i].attr);
        n = hd_fs_read_attr(hd_nodedev_get_ctx(dev), path, buf, sizeof(buf));
        while (n > 0 && buf[n - 1] == ' ')
            buf[--n] = '\0';
        if (n > 0 && (*out = strdup(buf)) == NULL)
            return -ENOMEM;
    }
    return 0;
}

/* A mediated device (bus/mdev/devices/UUID, in its parent's directory): its type, group, and
 * libvirt's name mdev_<uuid>_<parent>. */
int hd_nodedev_probe_mdev(struct hd_nodedev *dev, struct hd_nodedev_props *props)
{
    char path[HD_PATH_MAX], buf[HD_DRIVER_NAME_MAX], uuid[37];
    const char *slash;
    int group = -1, r;

    if (hd_mdev_uuid_parse(hd_nodedev_get_sysname(dev), uuid) < 0 ||
        strcmp(uuid, hd_nodedev_get_sysname(dev)) != 0)
        return 1;
    if ((r = hd_path(path, sizeof(path), "%s/mdev_type", hd_nodedev_get_dir(dev))) < 0 ||
        (r = hd_fs_link_basename(hd_nodedev_get_ctx(dev), path, buf, sizeof(buf))) < 0)
        return r;
    if ((props->mdev_type = strdup(buf)) == NULL)
        return -ENOMEM;
    slash = strrchr(hd_nodedev_get_dir(dev), '/');
    for (const char *p = slash; p != NULL && p > hd_nodedev_get_dir(dev); p--) {
        if (p[-1] == '/') {
            if ((props->mdev_parent = strndup(p, (size_t)(slash - p))) == NULL)
                return -ENOMEM;
            break;
        }
    }
    if (props->mdev_parent == NULL || !hd_name_valid(props->mdev_parent))
        return -EINVAL;
    if (hd_path(path, sizeof(path), "%s/iommu_group", hd_nodedev_get_dir(dev)) == 0 &&
        (r = hd_sysfs_read_group_link(hd_nodedev_get_ctx(dev), uuid, path, &group)) < 0 &&
        r != -ENOENT)
        return r;
    props->num[0] = group;
    return hd_nodedev_set_name(dev, "mdev", props->mdev_parent);
}
