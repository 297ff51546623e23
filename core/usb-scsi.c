/* usb-scsi.c - USB and SCSI devices a VM is given through their one device node: a USB
 * device's dev/bus/usb/BBB/DDD (QEMU's usb-host opens it), a SCSI device's dev/sgN
 * (scsi-generic). Nothing is unbound: acquire hands the node to the VM's user and records the
 * device under libvirt's node-device name (usb_1_3, scsi_2_0_0_0); release gives it back.
 * A USB device is found again after it re-enumerates (a new device number, so a new node):
 * its key is its port (sysfs name), which stays. What the host needs is refused without
 * --force: a hub (what is behind it is the host's), the host's keyboard, and storage or a
 * network interface below the device that the host uses (the host-safety checks, by the
 * device's place in sysfs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* USB: libvirt's names are "usb_" + the sysfs name with '-' and '.' as '_' (a root hub's:
 * usb_usbN); SCSI: "scsi_" + H_B_T_L. A name is the map's key: only these characters. */
bool hd_node_target_name_valid(const char *name)
{
    const char *rest = strncmp(name, "usb_", 4) == 0    ? name + 4
                       : strncmp(name, "scsi_", 5) == 0 ? name + 5
                                                        : NULL;

    if (rest != NULL && rest == name + 4 && strncmp(rest, "usb", 3) == 0)
        rest += 3; /* a root hub: usb_usbN */
    return rest != NULL && *rest && strlen(name) < HD_NODE_TARGET_NAME_MAX &&
           strspn(rest, "0123456789_") == strlen(rest) && rest[0] != '_';
}

/* "/dev/bus/usb/001/004" -> "dev/bus/usb/001/004", checked as a node a VM may be given. */
static int node_of(const char *devnode, char *buf)
{
    if (devnode == NULL || devnode[0] != '/' || strlen(devnode + 1) >= HD_NODE_PATH_MAX)
        return -ENOENT;
    strcpy(buf, devnode + 1);
    return hd_node_path_valid(buf) ? 0 : -EINVAL;
}

/* A USB device by ids: exactly one must have them (and the serial, when given). */
static int find_usb_ids(struct hd_ctx *ctx, const struct hd_nodedev_list *l, const char *sel,
                        struct hd_nodedev **out)
{
    unsigned long long v, p;
    char buf[128], *save = NULL, *vs, *ps, *serial;
    int matches = 0;

    if (strlen(sel) >= sizeof(buf))
        return -EINVAL;
    strcpy(buf, sel);
    vs = strtok_r(buf, ":", &save);
    ps = strtok_r(NULL, ":", &save);
    serial = strtok_r(NULL, "", &save);
    if (vs == NULL || ps == NULL || strlen(vs) != 4 || strlen(ps) != 4 ||
        hd_parse_uint(vs, 16, 0xffff, &v) < 0 || hd_parse_uint(ps, 16, 0xffff, &p) < 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'usb:%s' is not usb:VVVV:PPPP[:SERIAL]",
                       sel);
    *out = NULL;
    for (size_t i = 0; i < hd_nodedev_list_count(l); i++) {
        struct hd_nodedev *d = hd_nodedev_list_get(l, i);
        char path[HD_PATH_MAX], s[128];
        if (hd_nodedev_get_cap(d) != HD_CAP_USB_DEVICE ||
            hd_nodedev_get_vendor_id(d) != (int)v || hd_nodedev_get_product_id(d) != (int)p)
            continue;
        if (serial != NULL &&
            (hd_path(path, sizeof(path), "%s/serial", hd_nodedev_get_sysfs_path(d) + 1) < 0 ||
             hd_fs_read_attr(ctx, path, s, sizeof(s)) < 0 || strcmp(s, serial) != 0))
            continue;
        if (matches++ == 0)
            *out = d;
    }
    if (matches == 0)
        return hd_errr(ctx, -ENODEV, HD_REASON_NO_DEVICE, "no USB device %s under %s", sel,
                       hd_ctx_get_root(ctx));
    if (matches > 1)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%d USB devices are %s: name one by "
                       "its node-device name (usb_BUS_PORT)%s", matches, sel,
                       serial ? "" : " or add its serial");
    return 0;
}

int hd_node_target_find(struct hd_ctx *ctx, const char *sel, struct hd_node_target *t)
{
    struct hd_nodedev_list *l = NULL;
    struct hd_nodedev *d = NULL;
    bool usb = strncmp(sel, "usb", 3) == 0;
    int r;

    memset(t, 0, sizeof(*t));
    if (!usb && strncmp(sel, "scsi_", 5) != 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a USB or SCSI device's "
                       "name (usb_BUS_PORT, usb:VVVV:PPPP[:SERIAL], scsi_H_B_T_L)", sel);
    if (strncmp(sel, "usb:", 4) != 0 && !hd_node_target_name_valid(sel))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a node-device name "
                       "(usb_BUS_PORT, scsi_H_B_T_L)", sel);
    if ((r = hd_nodedev_list_new(ctx, usb ? 1u << HD_CAP_USB_DEVICE
                                          : 1u << HD_CAP_SCSI | 1u << HD_CAP_SCSI_GENERIC,
                                 &l)) < 0)
        return r;
    if (strncmp(sel, "usb:", 4) == 0)
        r = find_usb_ids(ctx, l, sel + 4, &d);
    else if ((d = hd_nodedev_list_find(l, sel)) == NULL ||
             hd_nodedev_get_cap(d) != (usb ? HD_CAP_USB_DEVICE : HD_CAP_SCSI))
        r = hd_errr(ctx, -ENODEV, HD_REASON_NO_DEVICE, "no %s device %s under %s",
                    usb ? "USB" : "SCSI", sel, hd_ctx_get_root(ctx));
    if (r < 0)
        goto out;
    t->kind = usb ? HD_ASSIGNMENT_USB : HD_ASSIGNMENT_SCSI;
    if (!hd_node_target_name_valid(hd_nodedev_get_name(d))) {
        r = hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s: a name hostdev cannot record",
                    hd_nodedev_get_name(d));
        goto out;
    }
    strcpy(t->name, hd_nodedev_get_name(d));
    hd_strlcpy(t->sysfs, hd_nodedev_get_sysfs_path(d) + 1, sizeof(t->sysfs));
    {
        const char *slash = strrchr(t->sysfs, '/');
        hd_strlcpy(t->sysname, slash ? slash + 1 : t->sysfs, sizeof(t->sysname));
    }
    if (usb) {
        r = node_of(hd_nodedev_get_devnode(d), t->node);
        snprintf(t->ids, sizeof(t->ids), "%04x:%04x", (unsigned)hd_nodedev_get_vendor_id(d),
                 (unsigned)hd_nodedev_get_product_id(d));
    } else {
        /* Its generic node: the scsi_generic device below it. */
        r = -ENOENT;
        for (size_t i = 0; i < hd_nodedev_list_count(l) && r == -ENOENT; i++) {
            struct hd_nodedev *g = hd_nodedev_list_get(l, i);
            if (hd_nodedev_get_cap(g) == HD_CAP_SCSI_GENERIC && hd_nodedev_get_parent(g) &&
                strcmp(hd_nodedev_get_parent(g), t->name) == 0)
                r = node_of(hd_nodedev_get_interface(g) ? hd_nodedev_get_interface(g)
                                                        : hd_nodedev_get_devnode(g),
                            t->node);
        }
    }
    if (r < 0)
        r = hd_errr(ctx, r == -ENOENT ? -ENODEV : r, HD_REASON_UNSUPPORTED, "%s has no %s "
                    "node a VM could open", t->name, usb ? "dev/bus/usb" : "dev/sg (is the sg "
                    "module loaded?)");
out:
    hd_nodedev_list_unref(l);
    return r;
}

/* An attribute of the device's directory (or of @sub below it) as a number in @base. */
static long attr_num(struct hd_ctx *ctx, const char *dir, const char *sub, const char *name,
                     int base)
{
    char path[HD_PATH_MAX], buf[32];
    unsigned long long v;

    if (hd_path(path, sizeof(path), "%s%s%s/%s", dir, sub ? "/" : "", sub ? sub : "", name) < 0 ||
        hd_fs_read_attr(ctx, path, buf, sizeof(buf)) < 0 ||
        hd_parse_uint(buf, base, 0xffff, &v) < 0)
        return -1;
    return (long)v;
}

/* A hub, or the host's keyboard: by the device's class and its interfaces' (HID boot
 * keyboard: class 3, subclass 1, protocol 1). NULL when it is neither. */
static const char *usb_role(struct hd_ctx *ctx, const struct hd_node_target *t)
{
    const char *role = attr_num(ctx, t->sysfs, NULL, "bDeviceClass", 16) == 9 ? "a hub" : NULL;
    char **names = NULL;
    size_t n = 0;

    if (hd_fs_list_dir(ctx, t->sysfs, &names, &n) < 0)
        return role;
    for (size_t i = 0; i < n && role == NULL; i++) {
        /* its interfaces: SYSNAME:CONFIG.N */
        if (strncmp(names[i], t->sysname, strlen(t->sysname)) != 0 ||
            names[i][strlen(t->sysname)] != ':' || !hd_name_valid(names[i]))
            continue;
        long cls = attr_num(ctx, t->sysfs, names[i], "bInterfaceClass", 16);
        if (cls == 9)
            role = "a hub";
        else if (cls == 3 && attr_num(ctx, t->sysfs, names[i], "bInterfaceSubClass", 16) == 1 &&
                 attr_num(ctx, t->sysfs, names[i], "bInterfaceProtocol", 16) == 1)
            role = "a keyboard";
    }
    hd_strv_free(names, n);
    return role;
}

int hd_usb_keyboard_below(struct hd_ctx *ctx, const struct hd_nodedev_list *l,
                          const char *pci_name, char *name, size_t size)
{
    int found = 0;

    for (size_t i = 0; !found && i < hd_nodedev_list_count(l); i++) {
        struct hd_nodedev *d = hd_nodedev_list_get(l, i);
        struct hd_node_target t = {.kind = HD_ASSIGNMENT_USB};
        const char *role, *slash;
        if (hd_nodedev_get_sysfs_path(d) == NULL ||
            !hd_sysfs_is_below(hd_nodedev_get_sysfs_path(d) + 1, pci_name))
            continue;
        hd_strlcpy(t.sysfs, hd_nodedev_get_sysfs_path(d) + 1, sizeof(t.sysfs));
        slash = strrchr(t.sysfs, '/');
        hd_strlcpy(t.sysname, slash ? slash + 1 : t.sysfs, sizeof(t.sysname));
        role = usb_role(ctx, &t);
        if (role != NULL && strcmp(role, "a keyboard") == 0) {
            hd_strlcpy(name, hd_nodedev_get_name(d), size);
            found = 1;
        }
    }
    return found;
}

const char *hd_node_target_host_role(struct hd_ctx *ctx, const struct hd_node_target *t)
{
    return t->kind == HD_ASSIGNMENT_USB ? usb_role(ctx, t) : NULL;
}

int hd_node_target_check_host_use(struct hd_ctx *ctx, struct hd_host_use **hu,
                                  const struct hd_node_target *t)
{
    const char *role = hd_node_target_host_role(ctx, t);
    int r;

    if (role != NULL)
        return hd_errr(ctx, -EBUSY, HD_REASON_HOST_USE, "%s is %s: the host keeps it%s", t->name,
                       role, strcmp(role, "a hub") == 0 ? " (the devices behind it are the "
                                                          "host's; give a VM those)" : "");
    if (*hu == NULL && (r = hd_host_use_new(ctx, hu)) < 0)
        return r;
    /* Storage or a network interface below it, by its place in sysfs. */
    if ((r = hd_host_use_check_below(*hu, t->sysname, t->name)) == -EBUSY)
        return hd_ctx_set_reason(ctx, r, HD_REASON_HOST_USE);
    return r;
}

HD_EXPORT int hd_node_device_find(struct hd_ctx *ctx, const char *sel, char *name,
                                  size_t name_size, char *node, size_t node_size)
{
    struct hd_node_target t;
    int r = hd_node_target_find(ctx, sel, &t);

    if (r < 0)
        return r;
    hd_strlcpy(name, t.name, name_size);
    if (snprintf(node, node_size, "/%s", t.node) >= (int)node_size)
        return -ENAMETOOLONG;
    return 0;
}

HD_EXPORT int hd_node_device_check_host_use(struct hd_ctx *ctx, const char *sel)
{
    struct hd_host_use *hu = NULL;
    struct hd_node_target t;
    int r = hd_node_target_find(ctx, sel, &t);

    if (r == 0)
        r = hd_node_target_check_host_use(ctx, &hu, &t);
    hd_host_use_unref(hu);
    return r;
}

bool hd_sysfs_is_below(const char *sysfs, const char *pci_name)
{
    size_t len = strlen(pci_name);

    for (const char *at = sysfs; (at = strstr(at, pci_name)) != NULL; at += len) {
        if ((at == sysfs || at[-1] == '/') && at[len] == '/')
            return true;
    }
    return false;
}

bool hd_sysfs_pci_of(const char *sysfs, struct hd_pci_addr *out)
{
    char comp[32]; /* longer is no PCI address */
    bool found = false;

    for (const char *c = sysfs; *c != '\0';) {
        size_t len = strcspn(c, "/");
        struct hd_pci_addr a;
        if (len < sizeof(comp)) {
            memcpy(comp, c, len);
            comp[len] = '\0';
            if (hd_pci_addr_parse(comp, &a) == 0) {
                *out = a;
                found = true;
            }
        }
        c += len;
        c += *c == '/';
    }
    return found;
}

const struct hd_assignment *hd_map_find_below(struct hd_ctx *ctx,
                                              const struct hd_assignment_list *map,
                                              const char *pci_name)
{
    for (size_t i = 0; i < hd_assignment_list_count(map); i++) {
        const struct hd_assignment *a = hd_map_at(map, i);
        struct hd_node_target t;
        if (a->kind == HD_ASSIGNMENT_MDEV && strcmp(a->parent, pci_name) == 0)
            return a;
        if (a->kind != HD_ASSIGNMENT_USB && a->kind != HD_ASSIGNMENT_SCSI)
            continue;
        if (hd_node_target_find(ctx, a->name, &t) < 0) {
            hd_ctx_clear_error(ctx); /* gone: nothing of it below anything */
            continue;
        }
        if (hd_sysfs_is_below(t.sysfs, pci_name))
            return a;
    }
    return NULL;
}

int hd_node_target_refind(struct hd_ctx *ctx, const struct hd_assignment *a, char *node)
{
    struct hd_node_target t;
    int r;

    hd_ctx_clear_error(ctx);
    if ((r = hd_node_target_find(ctx, a->name, &t)) < 0) {
        hd_ctx_clear_error(ctx); /* gone: nothing of it to give back */
        return r;
    }
    /* The same port with another device in it is not the device recorded. */
    if (a->ids[0] && strncmp(t.ids, a->ids, strlen(t.ids)) != 0)
        return -ENODEV;
    strcpy(node, t.node);
    return 0;
}
