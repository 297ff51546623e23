/* usb.c - USB devices below a PCI host controller, as drivers/usb/core lays them out: the
 * controller's root hub CTRL/usbB (devnum 1, a hub), each device CTRL/usbB/B-PORT with its
 * ids, busnum, devnum, class and interfaces B-PORT:1.N (class, subclass, protocol, driver),
 * sys/bus/usb/devices links, and dev/bus/usb/BBB/DDD (major 189; devtmpfs makes it root:root
 * 0664 with Debian's udev rules). A device that re-enumerates (`ctl usb-replug PORT`) gets
 * the next free device number, so a new node with the default owner: what a VM's owner must
 * be given again. A device with `disk=` is a USB stick: usb-storage on interface 0 and a
 * SCSI disk below it (scsi.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fakesys.h"

#define USB_MAJOR 189

struct usbdev *usb_find(const struct kernel *k, const char *port)
{
    for (size_t i = 0; i < k->nusbs; i++) {
        if (strcmp(k->usbs[i]->port, port) == 0)
            return k->usbs[i];
    }
    return NULL;
}

static int next_devnum(const struct kernel *k, int bus)
{
    int n = 1; /* the root hub's */

    for (size_t i = 0; i < k->nusbs; i++) {
        if (k->usbs[i]->bus == bus && k->usbs[i]->devnum > n)
            n = k->usbs[i]->devnum;
    }
    return n + 1;
}

static int parse_hex(const char *s, unsigned long max, unsigned long *v)
{
    char *end;

    if (*s == '\0')
        return -1;
    *v = strtoul(s, &end, 16);
    return *end == '\0' && *v <= max ? 0 : -1;
}

/* iface=CC:SS:PP[:DRIVER[:TEXT]]: TEXT is the rest of the word, colons and all. */
static int parse_iface(const char *s, struct usb_iface *f)
{
    char buf[128], *save = NULL, *c, *sc, *pr, *drv, *text = NULL;
    unsigned long v[3];

    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    c = strtok_r(buf, ":", &save);
    sc = strtok_r(NULL, ":", &save);
    pr = strtok_r(NULL, ":", &save);
    drv = strtok_r(NULL, ":", &save);
    if (drv != NULL && save != NULL && *save != '\0')
        text = save;
    if (c == NULL || sc == NULL || pr == NULL || parse_hex(c, 0xff, &v[0]) < 0 ||
        parse_hex(sc, 0xff, &v[1]) < 0 || parse_hex(pr, 0xff, &v[2]) < 0)
        return -1;
    f->cls = (int)v[0];
    f->sub = (int)v[1];
    f->proto = (int)v[2];
    if (drv != NULL && !spec_name_ok(drv))
        return -1; /* it names a directory: sys/bus/usb/drivers/DRIVER */
    f->driver = drv ? xstrdup(drv) : NULL;
    f->text = text ? xstrdup(text) : NULL;
    return 0;
}

int usb_add(struct kernel *k, int argc, char **argv, char *err, size_t errsz)
{
    unsigned long vendor, product, cls = 0;
    struct device *ctrl;
    struct usbdev *u;
    const char *dash;
    char *end;
    long bus;

    if (argc < 4) {
        snprintf(err, errsz, "usage: usb CONTROLLER BUS-PORT VVVV:PPPP [class=HH] [serial=TEXT] "
                 "[product=TEXT] [manufacturer=TEXT] [iface=CC:SS:PP[:DRIVER[:TEXT]]]... "
                 "[disk=NAME]");
        return -1;
    }
    if ((ctrl = device_find_name(k, argv[1], strlen(argv[1]))) == NULL) {
        snprintf(err, errsz, "usb: no device %s (declare the controller first)", argv[1]);
        return -1;
    }
    dash = strchr(argv[2], '-');
    bus = dash ? strtol(argv[2], &end, 10) : 0;
    if (dash == NULL || end != dash || bus < 1 || bus > 127 || dash[1] == '\0' ||
        strspn(dash + 1, "0123456789.") != strlen(dash + 1) || usb_find(k, argv[2])) {
        snprintf(err, errsz, "usb: '%s' is not a new BUS-PORT (1-2, 3-1.4)", argv[2]);
        return -1;
    }
    for (size_t i = 0; i < k->nusbs; i++) {
        if (k->usbs[i]->bus == bus && k->usbs[i]->ctrl != ctrl) {
            snprintf(err, errsz, "usb %s: bus %ld is %s's", argv[2], bus, k->usbs[i]->ctrl->name);
            return -1;
        }
    }
    char ids[10] = "";
    if (strlen(argv[3]) == 9 && argv[3][4] == ':') {
        memcpy(ids, argv[3], sizeof(ids));
        ids[4] = '\0';
    }
    if (ids[0] == '\0' || parse_hex(ids, 0xffff, &vendor) < 0 ||
        parse_hex(ids + 5, 0xffff, &product) < 0) {
        snprintf(err, errsz, "usb %s: '%s' is not VVVV:PPPP", argv[2], argv[3]);
        return -1;
    }
    u = xcalloc(1, sizeof(*u));
    u->ctrl = ctrl;
    u->bus = (int)bus;
    u->port = xstrdup(argv[2]);
    u->vendor = (uint16_t)vendor;
    u->product = (uint16_t)product;
    u->perm = (struct node_perm){.mode = 0664};
    u->scsi_host = -1;
    k->usbs = xrealloc(k->usbs, (k->nusbs + 1) * sizeof(*k->usbs));
    k->usbs[k->nusbs++] = u;
    u->devnum = next_devnum(k, u->bus);
    for (int i = 4; i < argc; i++) {
        const char *o = argv[i];
        struct usb_iface f;
        if (strncmp(o, "class=", 6) == 0 && parse_hex(o + 6, 0xff, &cls) == 0) {
            u->cls = (int)cls;
        } else if (strncmp(o, "serial=", 7) == 0 && o[7]) {
            free(u->serial);
            u->serial = xstrdup(o + 7);
        } else if (strncmp(o, "product=", 8) == 0 && o[8]) {
            free(u->name);
            u->name = xstrdup(o + 8);
        } else if (strncmp(o, "manufacturer=", 13) == 0 && o[13]) {
            free(u->manufacturer);
            u->manufacturer = xstrdup(o + 13);
        } else if (strncmp(o, "iface=", 6) == 0 && parse_iface(o + 6, &f) == 0) {
            u->ifaces = xrealloc(u->ifaces, (u->nifaces + 1) * sizeof(*u->ifaces));
            u->ifaces[u->nifaces++] = f;
        } else if (strncmp(o, "disk=", 5) == 0 && spec_name_ok(o + 5)) {
            free(u->disk);
            u->disk = xstrdup(o + 5);
        } else {
            snprintf(err, errsz, "usb %s: bad option '%s'", argv[2], o);
            return -1;
        }
    }
    if (u->disk != NULL) {
        /* A stick: mass storage (08), SCSI transparent (06), bulk-only (50), on usb-storage. */
        if (u->nifaces == 0) {
            u->ifaces = xcalloc(1, sizeof(*u->ifaces));
            u->ifaces[u->nifaces++] = (struct usb_iface){8, 6, 0x50, xstrdup("usb-storage"), NULL};
        }
        u->scsi_host = scsi_host_alloc(k);
        if (scsi_add_below_usb(k, u, err, errsz) < 0)
            return -1;
    }
    k->dirty = true;
    return 0;
}

void usb_free_all(struct kernel *k)
{
    for (size_t i = 0; i < k->nusbs; i++) {
        struct usbdev *u = k->usbs[i];
        for (size_t f = 0; f < u->nifaces; f++) {
            free(u->ifaces[f].driver);
            free(u->ifaces[f].text);
        }
        free(u->ifaces);
        free(u->port);
        free(u->serial);
        free(u->name);
        free(u->manufacturer);
        free(u->disk);
        free(u);
    }
    free(k->usbs);
    k->usbs = NULL;
    k->nusbs = 0;
}

int usb_replug(struct kernel *k, const char *port)
{
    struct usbdev *u = usb_find(k, port);

    if (u == NULL || !device_children_live(u->ctrl))
        return -ENODEV;
    u->devnum = next_devnum(k, u->bus);
    u->perm = (struct node_perm){.mode = 0664}; /* a new node: udev's default again */
    kernel_log(k, "usb-replug %s devnum %d", u->port, u->devnum);
    k->dirty = true;
    return 0;
}

void usb_host_probed(struct kernel *k, const struct device *ctrl)
{
    for (size_t i = 0; i < k->nusbs; i++) {
        struct usbdev *u = k->usbs[i];
        if (u->ctrl != ctrl)
            continue;
        /* a new bus: the root hub is 1, the devices number on from 2 as they enumerate */
        u->devnum = 2;
        for (size_t j = 0; j < i; j++)
            u->devnum += k->usbs[j]->bus == u->bus;
        u->perm = (struct node_perm){.mode = 0664};
    }
}

/* ---- sysfs ------------------------------------------------------------------------------- */

char *usb_path(const struct usbdev *u)
{
    char *ctrl = device_path(u->ctrl), *p = xasprintf("%s/usb%d/%s", ctrl, u->bus, u->port);

    free(ctrl);
    return p;
}

/* The device directory @path (root-relative) of a USB device; @port is its sysfs name, @ifbase
 * what its interfaces' names start with (a root hub's: "B-0"). */
static void build_one(struct kernel *k, const char *path, const char *port, const char *ifbase,
                      int bus, int devnum, unsigned vendor, unsigned product, int cls,
                      const char *serial, const char *name, const char *manufacturer,
                      const struct usb_iface *ifaces, size_t nifaces)
{
    struct node *dir = tree_mkdirs(k->root, path);

    tree_kfile(dir, "idVendor", "%04x\n", vendor);
    tree_kfile(dir, "idProduct", "%04x\n", product);
    tree_kfile(dir, "busnum", "%d\n", bus);
    tree_kfile(dir, "devnum", "%d\n", devnum);
    tree_kfile(dir, "bDeviceClass", "%02x\n", (unsigned)cls);
    tree_kfile(dir, "bNumInterfaces", "%2zu\n", nifaces);
    if (serial != NULL)
        tree_kfile(dir, "serial", "%s\n", serial);
    if (name != NULL)
        tree_kfile(dir, "product", "%s\n", name);
    if (manufacturer != NULL)
        tree_kfile(dir, "manufacturer", "%s\n", manufacturer);
    tree_kfile(dir, "uevent",
         "MAJOR=%d\nMINOR=%d\nDEVNAME=bus/usb/%03d/%03d\nDEVTYPE=usb_device\nDRIVER=usb\n"
         "PRODUCT=%x/%x/0\nTYPE=%d/0/0\nBUSNUM=%03d\nDEVNUM=%03d\n",
         USB_MAJOR, (bus - 1) * 128 + devnum - 1, bus, devnum, vendor, product, cls, bus, devnum);
    tree_link_to(dir, "driver", "sys/bus/usb/drivers/usb");
    tree_link_to(dir, "subsystem", "sys/bus/usb");
    tree_link_to(tree_mkdirs(k->root, "sys/bus/usb/devices"), port, path);
    for (size_t i = 0; i < nifaces; i++) {
        char *ifname = xasprintf("%s:1.%zu", ifbase, i), *ipath = xasprintf("%s/%s", path, ifname);
        struct node *id = tree_mkdirs(dir, ifname);
        tree_kfile(id, "bInterfaceNumber", "%02zx\n", i);
        tree_kfile(id, "bInterfaceClass", "%02x\n", (unsigned)ifaces[i].cls);
        tree_kfile(id, "bInterfaceSubClass", "%02x\n", (unsigned)ifaces[i].sub);
        tree_kfile(id, "bInterfaceProtocol", "%02x\n", (unsigned)ifaces[i].proto);
        if (ifaces[i].text != NULL)
            tree_kfile(id, "interface", "%s\n", ifaces[i].text);
        tree_kfile(id, "uevent", "DEVTYPE=usb_interface\n%s%s%sINTERFACE=%d/%d/%d\n",
             ifaces[i].driver ? "DRIVER=" : "", ifaces[i].driver ? ifaces[i].driver : "",
             ifaces[i].driver ? "\n" : "", ifaces[i].cls, ifaces[i].sub, ifaces[i].proto);
        tree_link_to(id, "subsystem", "sys/bus/usb");
        if (ifaces[i].driver != NULL) {
            char *dpath = xasprintf("sys/bus/usb/drivers/%s", ifaces[i].driver);
            tree_mkdirs(k->root, dpath);
            tree_link_to(id, "driver", dpath);
            free(dpath);
        }
        tree_link_to(tree_mkdirs(k->root, "sys/bus/usb/devices"), ifname, ipath);
        free(ifname);
        free(ipath);
    }
}

/* What the root hub of the host controller @ctrl says of itself: its product id (1 for a USB
 * 1.1 bus, 2 for USB 2.0, an xHCI's high-speed bus too), its product string, and the HCD's
 * name, which its manufacturer string ends with ("Linux 6.1.0 uhci_hcd"). */
static void root_hub_strings(const struct device *ctrl, unsigned *product, const char **name,
                             const char **hcd)
{
    static const struct {
        uint32_t class;
        unsigned product;
        const char *name, *hcd;
    } hcds[] = {
        {0x0c0300, 1, "UHCI Host Controller", "uhci_hcd"},
        {0x0c0310, 1, "OHCI PCI host controller", "ohci_hcd"},
        {0x0c0320, 2, "EHCI Host Controller", "ehci_hcd"},
    };

    *product = 2;
    *name = "xHCI Host Controller";
    *hcd = "xhci-hcd";
    for (size_t i = 0; i < FS_ARRAY_SIZE(hcds); i++) {
        if (ctrl->class == hcds[i].class) {
            *product = hcds[i].product;
            *name = hcds[i].name;
            *hcd = hcds[i].hcd;
        }
    }
}

void usb_build_sys(struct kernel *k)
{
    static const struct usb_iface hub = {9, 0, 0, (char *)"hub", NULL};

    if (k->nusbs > 0)
        tree_mkdirs(k->root, "sys/bus/usb/drivers/usb");
    for (size_t i = 0; i < k->nusbs; i++) {
        const struct usbdev *u = k->usbs[i];
        if (!device_children_live(u->ctrl)) /* the HCD made the bus, root hub and all */
            continue;
        char *ctrl = device_path(u->ctrl), *hpath = xasprintf("%s/usb%d", ctrl, u->bus);
        char hname[16], hif[16], *path = usb_path(u);
        snprintf(hname, sizeof(hname), "usb%d", u->bus);
        snprintf(hif, sizeof(hif), "%d-0", u->bus);
        struct node *hd = tree_child(tree_mkdirs(k->root, ctrl), hname);
        if (hd == NULL || tree_child(hd, "busnum") == NULL) { /* the root hub, once */
            unsigned product;
            const char *name, *hcd;
            root_hub_strings(u->ctrl, &product, &name, &hcd);
            char *maker = xasprintf("Linux %s %s", k->version, hcd);
            build_one(k, hpath, hname, hif, u->bus, 1, 0x1d6b, product, 9, NULL, name, maker,
                      &hub, 1);
            free(maker);
        }
        build_one(k, path, u->port, u->port, u->bus, u->devnum, u->vendor, u->product, u->cls,
                  u->serial, u->name, u->manufacturer, u->ifaces, u->nifaces);
        free(ctrl);
        free(hpath);
        free(path);
    }
}

void usb_build_dev(struct kernel *k, struct node *dev)
{
    for (size_t i = 0; i < k->nusbs; i++) {
        struct usbdev *u = k->usbs[i];
        char bus[32], name[8];
        if (!device_children_live(u->ctrl))
            continue;
        snprintf(bus, sizeof(bus), "bus/usb/%03d", u->bus);
        struct node *bd = tree_mkdirs(dev, bus);
        if (tree_child(bd, "001") == NULL)
            sysfs_chr(bd, "001", 0664, USB_MAJOR, (unsigned)(u->bus - 1) * 128, NULL);
        snprintf(name, sizeof(name), "%03d", u->devnum);
        sysfs_chr(bd, name, 0, USB_MAJOR, (unsigned)((u->bus - 1) * 128 + u->devnum - 1), &u->perm);
    }
}
