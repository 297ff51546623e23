/* sysfs.c - lays the model out as ROOT/sys, ROOT/dev and ROOT/proc, the way Linux 6.1 does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fakesys.h"

/* Device numbers: misc 10:196 vfio, 10:123 iommu; the group and cdev majors are dynamic on a
 * real system, these are what a Debian 6.1 guest happened to use. */
enum { VFIO_GROUP_MAJOR = 243, VFIO_CDEV_MAJOR = 511 };

char *device_path(const struct device *dev)
{
    const struct device *top = dev;
    struct buf b = {0};

    while (top->parent)
        top = top->parent;
    buf_printf(&b, "sys/devices/pci%04x:%02x", (unsigned)top->addr.domain, top->addr.bus);
    /* Ancestors outermost first: collect them, then print in reverse. */
    const struct device *chain[64];
    size_t n = 0;
    for (const struct device *p = dev; p && n < FS_ARRAY_SIZE(chain); p = p->parent)
        chain[n++] = p;
    while (n > 0)
        buf_printf(&b, "/%s", chain[--n]->name);
    return buf_steal(&b);
}

/* ---- small attributes of the kernel as a whole --------------------------------------------- */

static void cmdline_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_printf(out, "%s\n", k->cmdline);
}

/* The first CPU as x86 shows it: the IOMMU probe reads the vendor and the hypervisor flag. */
static void cpuinfo_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_printf(out, "processor\t: 0\nvendor_id\t: %s\ncpu family\t: 6\n"
                    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic%s\n\n",
               k->cpu_vendor, k->cpu_hypervisor ? " hypervisor" : "");
}

static void version_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_printf(out, "Linux version %s (hostdev-fakesys) #1 SMP PREEMPT_DYNAMIC\n", k->version);
}

static void osrelease_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_printf(out, "%s\n", k->version);
}

static void modules_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    for (size_t i = 0; i < k->nmodules; i++) {
        const struct module *m = k->modules[i];
        if (m->loaded && !m->builtin)
            buf_printf(out, "%s 16384 0 - Live 0x0000000000000000\n", m->name);
    }
}

/* The character majors, as /proc/devices lists them: "vfio-dev" is the cdev region, registered
 * only by a kernel that makes VFIO cdevs (6.6+ with VFIO_DEVICE_CDEV). */
static void devices_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_puts(out, "Character devices:\n  1 mem\n  4 tty\n 10 misc\n");
    buf_printf(out, "%3d vfio\n", VFIO_GROUP_MAJOR);
    if (k->feat_vfio_cdev)
        buf_printf(out, "%3d vfio-dev\n", VFIO_CDEV_MAJOR);
    buf_puts(out, "\nBlock devices:\n  8 sd\n");
}

static void group_type_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    const struct device *first = obj;
    /* a no-IOMMU group has no default domain; lazy flushing got its own name in 5.15 */
    buf_puts(out, first->noiommu              ? "unknown\n"
                  : k->iommu_pt               ? "identity\n"
                  : kernel_at_least(k, 5, 15) ? "DMA-FQ\n"
                                              : "DMA\n");
}

/* vfio_noiommu_group_alloc() names the group it makes; other groups have no name file. */
static void group_name_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)k, (void)a, (void)obj;
    buf_puts(out, "vfio-noiommu\n");
}

static void reserved_regions_show(struct kernel *k, const struct attr *a, void *obj,
                                  struct buf *out)
{
    (void)a;
    (void)k;
    (void)obj;
    buf_puts(out, "0x00000000fee00000 0x00000000feefffff msi\n");
}

static void live_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    (void)obj;
    buf_puts(out, "live\n");
}

static void refcnt_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    (void)obj;
    buf_puts(out, "0\n");
}

static void param_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    buf_printf(out, "%s\n", *(char **)obj);
}

static int param_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)k;
    char **value = obj;
    size_t n = strcspn(data, "\n");
    bool is_bool = strcmp(*value, "Y") == 0 || strcmp(*value, "N") == 0;

    (void)len;
    if (is_bool) {
        bool on; /* param_set_bool() */
        if (hd_kstrtobool(data, &on) < 0)
            return -EINVAL;
        free(*value);
        *value = xstrdup(on ? "Y" : "N");
    } else {
        free(*value);
        *value = strndup(data, n);
    }
    return 0;
}

static void intel_cap_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    (void)obj;
    buf_puts(out, "d2008c40660462\n");
}

static void intel_ecap_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    /* ECAP bit 3 is Interrupt Remapping support. */
    buf_printf(out, "%llx\n", 0xf050d2ULL | (k->irq_remap ? 0x8 : 0));
}

static void intel_version_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    (void)obj;
    buf_puts(out, "1:0\n");
}

static void amd_features_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    (void)obj;
    buf_puts(out, "25bf732fa2295afe\n");
}

static void acpi_table_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    acpi_iommu_table(k, out);
}

static void vfio_dev_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    buf_printf(out, "%d:%d\n", VFIO_CDEV_MAJOR, ((struct device *)obj)->vfio_index);
}

static void child_uevent_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    const struct child *c = obj;

    if (strcmp(c->subsystem, "net") == 0)
        buf_printf(out, "INTERFACE=%s\n", c->name);
    else if (strcmp(c->subsystem, "block") == 0)
        buf_printf(out, "DEVNAME=%s\nDEVTYPE=%s\n", c->name, c->disk ? "partition" : "disk");
    else
        buf_printf(out, "DEVNAME=%s\n", c->name);
}

static void child_address_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    const struct child *c = obj;

    buf_printf(out, "%s\n", c->mac ? c->mac : "52:54:00:12:34:56");
}

static void uevents_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    if (k->uevents.len > 0)
        buf_add(out, k->uevents.data, k->uevents.len);
}

static const struct attr a_cmdline = {.name = "cmdline", .mode = 0444, .show = cmdline_show};
/* No kernel has it: hostdev monitor reads the fake's device events here (hostdev-fakesys(5)). */
static const struct attr a_uevents = {
    .name = "hostdev-uevents", .mode = 0444, .show = uevents_show};
static const struct attr a_version = {.name = "version", .mode = 0444, .show = version_show};
static const struct attr a_cpuinfo = {.name = "cpuinfo", .mode = 0444, .show = cpuinfo_show};
static const struct attr a_osrelease = {.name = "osrelease", .mode = 0444, .show = osrelease_show};
static const struct attr a_modules = {.name = "modules", .mode = 0444, .show = modules_show};
static const struct attr a_devices = {.name = "devices", .mode = 0444, .show = devices_show};
static const struct attr a_group_type = {.name = "type", .mode = 0444, .show = group_type_show};
static const struct attr a_group_name = {.name = "name", .mode = 0444, .show = group_name_show};
static const struct attr a_reserved = {
    .name = "reserved_regions", .mode = 0444, .show = reserved_regions_show};
static const struct attr a_initstate = {.name = "initstate", .mode = 0444, .show = live_show};
static const struct attr a_refcnt = {.name = "refcnt", .mode = 0444, .show = refcnt_show};
static const struct attr a_param = {
    .name = "", .mode = 0644, .show = param_show, .store = param_store};
static const struct attr a_intel_cap = {.name = "cap", .mode = 0444, .show = intel_cap_show};
static const struct attr a_intel_ecap = {.name = "ecap", .mode = 0444, .show = intel_ecap_show};
static const struct attr a_intel_version = {
    .name = "version", .mode = 0444, .show = intel_version_show};
static const struct attr a_amd_features = {
    .name = "features", .mode = 0444, .show = amd_features_show};
static const struct attr a_dmar = {
    .name = "DMAR", .mode = 0400, .show = acpi_table_show, .size = ACPI_DMAR_SIZE};
static const struct attr a_ivrs = {
    .name = "IVRS", .mode = 0400, .show = acpi_table_show, .size = ACPI_IVRS_SIZE};
static const struct attr a_vfio_dev = {.name = "dev", .mode = 0444, .show = vfio_dev_show};
static const struct attr a_child_uevent = {
    .name = "uevent", .mode = 0644, .show = child_uevent_show};
static const struct attr a_child_address = {
    .name = "address", .mode = 0444, .show = child_address_show};

/* ---- the tree ---------------------------------------------------------------------------- */

static struct node *top_dir(struct kernel *k, const char *name, mode_t mode)
{
    struct node *n = tree_add(k->root, tree_new(name, NODE_DIR, mode));

    n->kernel = true;
    return n;
}

struct node *sysfs_chr(struct node *dir, const char *name, mode_t mode, unsigned int major,
                       unsigned int minor, struct node_perm *perm)
{
    struct node *n = tree_add(dir, tree_new(name, NODE_CHR, perm ? perm->mode : mode));

    n->rdev = makedev(major, minor);
    if (perm) {
        n->uid = perm->uid;
        n->gid = perm->gid;
        n->perm = perm;
    }
    return n;
}

static const char *iommu_name(const struct kernel *k)
{
    /* an Arm SMMUv3 is named after its MMIO base (QEMU virt's) */
    return k->iommu == IOMMU_AMD    ? "ivhd0"
           : k->iommu == IOMMU_SMMU ? "smmu3.0x0000000009050000"
                                    : "dmar0";
}

/* A partition's number: its place among its disk's partitions, in spec order. */
static int partition_number(const struct device *dev, const struct child *part)
{
    int n = 0;

    for (const struct child *c = dev->children; c <= part; c++)
        n += c->disk != NULL && strcmp(c->subsystem, "block") == 0 &&
             strcmp(c->disk, part->disk) == 0;
    return n;
}

/* The children @dev's host driver registered (none while it has no such driver). */
static void build_children(struct kernel *k, struct device *dev, struct node *dir, const char *path)
{
    for (size_t i = 0; device_children_live(dev) && i < dev->nchildren; i++) {
        struct child *c = &dev->children[i];
        /* a partition lives in its disk's directory */
        struct node *sd = tree_mkdirs(c->under ? tree_mkdirs(dir, c->under) : dir, c->subsystem);
        struct node *cd = tree_mkdirs(c->disk ? tree_mkdirs(sd, c->disk) : sd, c->name);
        char *at = c->under ? xasprintf("%s/%s", path, c->under) : xstrdup(path);
        char *cpath = c->disk ? xasprintf("%s/%s/%s/%s", at, c->subsystem, c->disk, c->name)
                              : xasprintf("%s/%s/%s", at, c->subsystem, c->name);
        char *cls = xasprintf("sys/class/%s", c->subsystem);

        tree_attr(cd, &a_child_uevent, c);
        if (strcmp(c->subsystem, "net") == 0) {
            tree_attr(cd, &a_child_address, c);
            if (c->speed > 0)
                tree_kfile(cd, "speed", "%d\n", c->speed);
        } else if (strcmp(c->subsystem, "block") == 0) {
            tree_kfile(cd, "size", "%llu\n", c->sectors);
            if (c->disk == NULL) { /* a disk, not a partition */
                tree_kfile(cd, "removable", "0\n");
                if (c->serial != NULL) /* virtio_blk prints it without a newline */
                    tree_kfile(cd, "serial", "%s", c->serial);
                tree_kfile(tree_mkdirs(cd, "queue"), "logical_block_size", "512\n");
            } else {
                tree_kfile(cd, "partition", "%d\n", partition_number(dev, c));
            }
        }
        hostuse_child_attrs(c, cd);
        tree_link_to(cd, "device", at);
        tree_link_to(cd, "subsystem", cls);
        tree_link_to(tree_mkdirs(k->root, cls), c->name, cpath);
        if (strcmp(c->subsystem, "block") == 0)
            tree_link_to(tree_mkdirs(k->root, "sys/block"), c->name, cpath);
        free(cls);
        free(cpath);
        free(at);
    }
}

/* The framebuffer console: a virtual device whose name starts with "fb" too, below no PCI
 * device. fbcon registers it once, with the first framebuffer, and keeps it when that one goes
 * (its driver unbound, its device removed), so it is there once a device declares one. */
static void build_fbcon(struct kernel *k)
{
    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *dev = k->devices[i];
        for (size_t c = 0; c < dev->nchildren; c++) {
            if (strcmp(dev->children[c].subsystem, "graphics") == 0) {
                tree_link_to(tree_mkdirs(k->root, "sys/devices/virtual/graphics/fbcon"),
                             "subsystem", "sys/class/graphics");
                tree_link_to(tree_mkdirs(k->root, "sys/class/graphics"), "fbcon",
                             "sys/devices/virtual/graphics/fbcon");
                return;
            }
        }
    }
}

static void build_device(struct kernel *k, struct device *dev)
{
    char *path = device_path(dev);
    struct node *dir = tree_mkdirs(k->root, path);
    char target[128];

    pci_add_attrs(k, dev, dir);
    for (size_t i = 0; i < dir->nkids; i++) {
        struct node *a = dir->kids[i];
        if (a->type == NODE_ATTR && a->key == NULL) {
            a->key_owned = xasprintf("sys/bus/pci/devices/%s/%s", dev->name, a->name);
            a->key = a->key_owned;
        }
    }
    tree_link_to(dir, "subsystem", "sys/bus/pci");
    tree_link_to(tree_mkdirs(k->root, "sys/bus/pci/devices"), dev->name, path);
    if (dev->driver) {
        snprintf(target, sizeof(target), "sys/bus/pci/drivers/%s", dev->driver->name);
        tree_link_to(dir, "driver", target);
        tree_link_to(tree_mkdirs(k->root, target), dev->name, path);
    }
    if (dev->group >= 0) {
        snprintf(target, sizeof(target), "sys/kernel/iommu_groups/%d", dev->group);
        tree_link_to(dir, "iommu_group", target);
        struct node *g = tree_mkdirs(k->root, target);
        tree_link_to(tree_mkdirs(g, "devices"), dev->name, path);
        if (tree_child(g, "devices")->nkids == 1) {
            /* type came with 4.19, reserved_regions with 4.11 */
            if (kernel_at_least(k, 4, 19))
                tree_attr(g, &a_group_type, dev);
            if (kernel_at_least(k, 4, 11))
                tree_attr(g, &a_reserved, NULL);
            if (dev->noiommu)
                tree_attr(g, &a_group_name, NULL);
        }
        if (k->iommu_enabled && k->iommu != IOMMU_NONE && !dev->noiommu) {
            snprintf(target, sizeof(target), "sys/devices/virtual/iommu/%s", iommu_name(k));
            tree_link_to(dir, "iommu", target);
            tree_link_to(tree_mkdirs(tree_mkdirs(k->root, target), "devices"), dev->name, path);
        }
    }
    if (dev->physfn) {
        char *pf = device_path(dev->physfn);
        tree_link_to(dir, "physfn", pf);
        free(pf);
    }
    for (int i = 0; i < dev->numvfs; i++) {
        struct hd_pci_addr a;
        struct device *vf = sriov_vf_addr(dev, i, &a) == 0 ? device_find(k, &a) : NULL;
        if (vf) {
            char *vpath = device_path(vf);
            snprintf(target, sizeof(target), "virtfn%d", i);
            tree_link_to(dir, target, vpath);
            free(vpath);
        }
    }
    if (dev->vfio_index >= 0 && k->feat_vfio_dev) {
        char name[32];
        snprintf(name, sizeof(name), "vfio%d", dev->vfio_index);
        struct node *vd = tree_mkdirs(tree_mkdirs(dir, "vfio-dev"), name);
        char *vpath = tree_path(vd);
        if (k->feat_vfio_cdev)
            tree_attr(vd, &a_vfio_dev, dev);
        tree_link_to(vd, "device", path);
        tree_link_to(vd, "subsystem", "sys/class/vfio-dev");
        tree_link_to(tree_mkdirs(k->root, "sys/class/vfio-dev"), name, vpath);
        free(vpath);
    }
    build_children(k, dev, dir, path);
    free(path);
}

static void build_sys(struct kernel *k)
{
    struct node *sys = top_dir(k, "sys", 0555);
    struct node *bus = tree_mkdirs(sys, "bus/pci");

    tree_mkdirs(bus, "devices");
    tree_mkdirs(bus, "slots");
    tree_mkdirs(sys, "kernel/iommu_groups");
    tree_mkdirs(sys, "class/iommu");
    /* the classes are registered at boot, whether a device has an interface or disk now */
    tree_mkdirs(sys, "class/net");
    tree_mkdirs(sys, "class/block");
    tree_mkdirs(sys, "block");
    tree_mkdirs(sys, "devices/virtual");
    tree_mkdirs(sys, "firmware/acpi/tables");
    for (size_t i = 0; i < bus_nattrs; i++)
        tree_attr(bus, &bus_attrs[i], NULL);

    for (size_t i = 0; i < k->nmodules; i++) {
        struct module *m = k->modules[i];
        if (!m->loaded || (m->builtin && m->nparams == 0))
            continue;
        struct node *md = tree_mkdirs(sys, "module");
        md = tree_mkdirs(md, m->name);
        if (!m->builtin) {
            tree_attr(md, &a_initstate, m);
            tree_attr(md, &a_refcnt, m);
        }
        if (m->nparams) {
            struct node *pd = tree_mkdirs(md, "parameters");
            for (size_t j = 0; j < m->nparams; j++)
                tree_attr_named(pd, m->param_names[j], &a_param, &m->param_values[j]);
        }
    }
    for (size_t i = 0; i < k->ndrivers; i++) {
        struct driver *drv = k->drivers[i];
        if (!driver_loaded(drv))
            continue;
        struct node *dd = tree_mkdirs(tree_mkdirs(bus, "drivers"), drv->name);
        for (size_t j = 0; j < driver_nattrs; j++)
            tree_attr(dd, &driver_attrs[j], drv);
        if (drv->module && !drv->module->builtin) {
            char *mpath = xasprintf("sys/module/%s", drv->module->name);
            char *dpath = tree_path(dd);
            char *lname = xasprintf("pci:%s", drv->name);
            tree_link_to(dd, "module", mpath);
            tree_link_to(tree_mkdirs(tree_mkdirs(k->root, mpath), "drivers"), lname, dpath);
            free(lname);
            free(dpath);
            free(mpath);
        }
    }
    if (k->iommu != IOMMU_NONE) {
        /* An SMMU is described by IORT or the device tree, which hostdev does not read. */
        if (k->iommu != IOMMU_SMMU)
            tree_attr(tree_mkdirs(sys, "firmware/acpi/tables"),
                      k->iommu == IOMMU_INTEL ? &a_dmar : &a_ivrs, k);
        if (k->iommu_enabled) {
            char *ipath = xasprintf("sys/devices/virtual/iommu/%s", iommu_name(k));
            struct node *id = tree_mkdirs(k->root, ipath);
            tree_mkdirs(id, "devices");
            if (k->iommu == IOMMU_INTEL) {
                struct node *ii = tree_mkdirs(id, "intel-iommu");
                tree_attr(ii, &a_intel_cap, k);
                tree_attr(ii, &a_intel_ecap, k);
                tree_attr(ii, &a_intel_version, k);
            } else if (k->iommu == IOMMU_AMD) {
                tree_attr(tree_mkdirs(id, "amd-iommu"), &a_amd_features, k);
            }
            tree_link_to(id, "subsystem", "sys/class/iommu");
            tree_link_to(tree_mkdirs(sys, "class/iommu"), iommu_name(k), ipath);
            free(ipath);
        }
    }
    for (size_t i = 0; i < k->ndevices; i++)
        if (k->devices[i]->present)
            build_device(k, k->devices[i]);
    build_fbcon(k);
    mdev_build_sys(k);
    usb_build_sys(k);
    scsi_build_sys(k);
    hostuse_build_sys(k);
}

static void build_dev(struct kernel *k)
{
    struct node *dev = top_dir(k, "dev", 0755);
    struct node *vfio = tree_mkdirs(dev, "vfio");

    sysfs_chr(vfio, "vfio", 0666, 10, 196, &k->container_perm);
    hostuse_build_dev(k, dev);
    usb_build_dev(k, dev);
    scsi_build_dev(k, dev);
    for (size_t i = 0; i < k->ngnodes; i++) {
        struct group_node *gn = &k->gnodes[i];
        char name[32];
        snprintf(name, sizeof(name), "%s%d", gn->noiommu ? "noiommu-" : "", gn->group);
        sysfs_chr(vfio, name, 0, VFIO_GROUP_MAJOR, (unsigned)gn->group, &gn->perm);
    }
    if (k->feat_vfio_cdev) {
        sysfs_chr(dev, "iommu", 0660, 10, 123, &k->iommu_perm);
        struct node *devices = tree_mkdirs(vfio, "devices");
        for (size_t i = 0; i < k->ndevices; i++) {
            const struct device *d = k->devices[i];
            if (d->present && d->vfio_index >= 0) {
                char name[32];
                snprintf(name, sizeof(name), "vfio%d", d->vfio_index);
                sysfs_chr(devices, name, 0, VFIO_CDEV_MAJOR, (unsigned)d->vfio_index,
                    &k->devices[i]->cdev_perm);
            }
        }
    }
}

static void build_proc(struct kernel *k)
{
    struct node *proc = top_dir(k, "proc", 0555);

    tree_attr(proc, &a_cmdline, k);
    tree_attr(proc, &a_uevents, k);
    tree_attr(proc, &a_version, k);
    if (k->cpu_vendor != NULL)
        tree_attr(proc, &a_cpuinfo, k);
    hostuse_build_proc(k, proc);
    tree_attr(proc, &a_modules, k);
    tree_attr(proc, &a_devices, k);
    tree_attr(tree_mkdirs(proc, "sys/kernel"), &a_osrelease, k);
}

void sysfs_build(struct kernel *k)
{
    for (size_t i = k->root->nkids; i-- > 0;) {
        struct node *n = k->root->kids[i];
        if (n->kernel) {
            tree_detach(n);
            tree_free(n);
        }
    }
    build_sys(k);
    build_dev(k);
    build_proc(k);
    struct node *ctl = top_dir(k, ".fakesys", 0700);
    for (size_t i = 0; i < ctl_nattrs; i++)
        tree_attr(ctl, &ctl_attrs[i], NULL);
    k->dirty = false;
}
