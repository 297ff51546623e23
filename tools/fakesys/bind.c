/* bind.c - the driver core: matching, probing, unbinding, and the bus and driver attributes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

static bool id_matches(const struct pci_id *id, uint32_t vendor, uint32_t device,
                       uint32_t subvendor, uint32_t subdevice, uint32_t class)
{
    return (id->vendor == ID_ANY || id->vendor == vendor) &&
           (id->device == ID_ANY || id->device == device) &&
           (id->subvendor == ID_ANY || id->subvendor == subvendor) &&
           (id->subdevice == ID_ANY || id->subdevice == subdevice) &&
           !((id->class ^ class) & id->class_mask);
}

static bool table_matches(const struct pci_id *ids, size_t n, uint32_t vendor, uint32_t device,
                          uint32_t subvendor, uint32_t subdevice, uint32_t class)
{
    for (size_t i = 0; i < n; i++)
        if (id_matches(&ids[i], vendor, device, subvendor, subdevice, class))
            return true;
    return false;
}

bool driver_matches(const struct driver *drv, const struct device *dev)
{
    if (dev->override && strcmp(dev->override, drv->name) != 0)
        return false;
    if (table_matches(drv->dyn, drv->ndyn, dev->vendor, dev->device, dev->subvendor, dev->subdevice,
                      dev->class) ||
        table_matches(drv->ids, drv->nids, dev->vendor, dev->device, dev->subvendor, dev->subdevice,
                      dev->class))
        return true;
    /* An override naming the driver matches whatever its id table says. */
    return dev->override != NULL;
}

int driver_probe(struct kernel *k, struct device *dev, struct driver *drv)
{
    int err = 0;

    /* pci_device_can_probe(): VFs of a PF with autoprobe off bind only by override. */
    if (dev->physfn && !dev->physfn->vf_autoprobe && dev->override == NULL)
        return -ENODEV;
    /* vfio-pci: endpoints only, and only in an IOMMU group ("failed with error -22") unless
     * vfio's unsafe no-IOMMU mode makes one up. */
    bool noiommu = false;
    if (drv->flags & DRV_VFIO) {
        const struct module *vfio = module_find(k, "vfio");
        const char *mode = vfio ? module_param(vfio, "enable_unsafe_noiommu_mode") : NULL;
        noiommu = dev->group < 0 && mode && strcmp(mode, "Y") == 0;
        if (dev->header != 0 || (dev->group < 0 && !noiommu))
            err = EINVAL;
    }
    if (err == 0)
        err = drv->probe_errno;
    if (err) {
        kernel_log(k, "probe-failed %s %s %s", dev->name, drv->name, errno_name(err));
        return -err;
    }
    if (noiommu) {
        dev->group = group_alloc(k);
        dev->noiommu = true;
    }
    driver_bind(k, dev, drv);
    return 0;
}

void driver_bind(struct kernel *k, struct device *dev, struct driver *drv)
{
    dev->driver = drv;
    /* A host driver's probe() registers the device's children again (device_children_live()):
     * new USB buses and nodes. */
    if (device_children_live(dev)) {
        usb_host_probed(k, dev);
        scsi_host_probed(k, dev);
    }
    kernel_log(k, "bind %s %s", dev->name, drv->name);
    kernel_uevent(k, "bind", dev);
    if (drv->flags & DRV_VFIO) {
        dev->vfio_index = vfio_index_alloc(k);
        dev->cdev_perm = (struct node_perm){0600, 0, 0};
        if (group_vfio_users(k, dev->group) == 1) {
            /* devtmpfs makes the node root:root 0600; nothing remembers an earlier chmod. */
            k->gnodes = xrealloc(k->gnodes, (k->ngnodes + 1) * sizeof(*k->gnodes));
            k->gnodes[k->ngnodes++] = (struct group_node){
                .group = dev->group, .noiommu = dev->noiommu, .perm = {0600, 0, 0}};
            kernel_log(k, "vfio-add %s%d", dev->noiommu ? "noiommu-" : "", dev->group);
        }
    }
    k->dirty = true;
}

void device_attach(struct kernel *k, struct device *dev)
{
    for (size_t i = 0; i < k->ndrivers && dev->driver == NULL; i++) {
        struct driver *drv = k->drivers[i];
        /* A failed probe lets the next matching driver try its luck. */
        if (driver_loaded(drv) && driver_matches(drv, dev))
            driver_probe(k, dev, drv);
    }
}

void driver_attach(struct kernel *k, struct driver *drv)
{
    for (size_t i = 0; i < k->ndevices; i++) {
        struct device *dev = k->devices[i];
        if (dev->present && dev->driver == NULL && driver_matches(drv, dev))
            driver_probe(k, dev, drv);
    }
}

struct device *device_release_driver(struct kernel *k, struct device *dev)
{
    struct driver *drv = dev->driver;

    if (drv == NULL)
        return dev;
    if (drv->unbind_hang_ms) {
        struct hd_pci_addr addr = dev->addr;
        kernel_log(k, "unbind-hang %s %s", dev->name, drv->name);
        kernel_sleep(k, drv->unbind_hang_ms);
        /* Somebody else may have unbound or removed it while we slept. */
        dev = device_find(k, &addr);
        if (dev == NULL || !dev->present || dev->driver != drv)
            return dev;
    }
    /* vfio-pci's remove() waits until the user (a VM) closes the device. */
    if (drv->flags & DRV_VFIO) {
        struct hd_pci_addr addr = dev->addr;
        bool logged = false;
        for (;;) {
            struct group_node *gn = group_node_find(k, dev->group);
            if (gn == NULL || !gn->open || kernel_stopping(k))
                break;
            if (!logged)
                kernel_log(k, "unbind-wait %s %s group %d is open", dev->name, drv->name,
                           dev->group);
            logged = true;
            kernel_sleep(k, 100);
            dev = device_find(k, &addr);
            if (dev == NULL || !dev->present || dev->driver != drv)
                return dev;
        }
    }
    /* PF drivers turn SR-IOV off in remove(), as vfio-pci and most NIC drivers do. */
    if (dev->numvfs > 0)
        sriov_disable(k, dev);
    if (k->nmdevs > 0)
        mdev_parent_unbound(k, dev);
    dev->driver = NULL;
    kernel_log(k, "unbind %s %s", dev->name, drv->name);
    kernel_uevent(k, "unbind", dev);
    if (drv->flags & DRV_VFIO) {
        dev->vfio_index = -1;
        if (group_vfio_users(k, dev->group) == 0) {
            struct group_node *gn = group_node_find(k, dev->group);
            if (gn)
                *gn = k->gnodes[--k->ngnodes];
            kernel_log(k, "vfio-del %s%d", dev->noiommu ? "noiommu-" : "", dev->group);
        }
        if (dev->noiommu) {
            dev->group = -1; /* the made-up group goes with the device's vfio registration */
            dev->noiommu = false;
        }
    }
    k->dirty = true;
    return dev;
}

/* ---- sys/bus/pci ------------------------------------------------------------------------ */

static int drivers_probe_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)obj;
    struct device *dev = device_find_name(k, data, len);

    if (dev == NULL)
        return -ENODEV;
    /* The kernel ignores the probe's result: success even when the device stays driverless. */
    device_attach(k, dev);
    return 0;
}

static void drivers_autoprobe_show(struct kernel *k, const struct attr *a, void *obj,
                                   struct buf *out)
{
    (void)a;
    (void)obj;
    buf_printf(out, "%d\n", k->drivers_autoprobe);
}

static int drivers_autoprobe_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)obj;
    (void)len;
    k->drivers_autoprobe = data[0] != '0'; /* exactly what bus.c does */
    return 0;
}

static int rescan_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)obj;
    (void)len;
    unsigned long v;

    if (kstrtoul(data, &v) < 0)
        return -EINVAL;
    if (v)
        bus_rescan(k, NULL);
    return 0;
}

static int uevent_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)k;
    (void)obj;
    (void)data;
    (void)len;
    return 0;
}

const struct attr bus_attrs[] = {
    {.name = "drivers_autoprobe",
     .mode = 0644,
     .show = drivers_autoprobe_show,
     .store = drivers_autoprobe_store},
    {.name = "drivers_probe", .mode = 0200, .store = drivers_probe_store},
    {.name = "rescan", .mode = 0200, .store = rescan_store},
    {.name = "uevent", .mode = 0200, .store = uevent_store},
};
const size_t bus_nattrs = FS_ARRAY_SIZE(bus_attrs);

/* ---- sys/bus/pci/drivers/X ---------------------------------------------------------------- */

static int bind_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    struct driver *drv = obj;
    struct device *dev = device_find_name(k, data, len);

    if (dev == NULL || !driver_matches(drv, dev))
        return -ENODEV;
    if (dev->driver)
        return -EBUSY;
    return driver_probe(k, dev, drv);
}

static int unbind_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    struct driver *drv = obj;
    struct device *dev = device_find_name(k, data, len);

    if (dev == NULL || dev->driver != drv)
        return -ENODEV;
    device_release_driver(k, dev);
    return 0;
}

static int new_id_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)len;
    struct driver *drv = obj;
    unsigned int v, d, sv = ID_ANY, sd = ID_ANY, cls = 0, mask = 0;
    unsigned long driver_data = 0;
    /* sscanf() as the kernel's new_id_store() does: it takes what it takes, as the kernel. */
    int fields = sscanf(data, "%x %x %x %x %x %x %lx", /* NOLINT(cert-err34-c) */
                        &v, &d, &sv, &sd, &cls, &mask, &driver_data);

    if (fields < 2)
        return -EINVAL;
    if (fields != 7) {
        /* The kernel probes its tables with a made-up device carrying these ids. */
        if (table_matches(drv->dyn, drv->ndyn, v, d, sv & 0xffff, sd & 0xffff, cls) ||
            table_matches(drv->ids, drv->nids, v, d, sv & 0xffff, sd & 0xffff, cls))
            return -EEXIST;
    }
    drv->dyn = xrealloc(drv->dyn, (drv->ndyn + 1) * sizeof(*drv->dyn));
    drv->dyn[drv->ndyn++] = (struct pci_id){v, d, sv, sd, cls, mask};
    kernel_log(k, "new_id %s %04x:%04x", drv->name, v, d);
    /* every unbound device it now matches, not just one */
    driver_attach(k, drv);
    return 0;
}

static int remove_id_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)len;
    struct driver *drv = obj;
    unsigned int v, d, sv = ID_ANY, sd = ID_ANY, cls = 0, mask = 0;
    int fields = sscanf(data, "%x %x %x %x %x %x", /* NOLINT(cert-err34-c): as the kernel */
                        &v, &d, &sv, &sd, &cls, &mask);

    if (fields < 2)
        return -EINVAL;
    for (size_t i = 0; i < drv->ndyn; i++) {
        const struct pci_id *id = &drv->dyn[i];
        if (id->vendor == v && id->device == d && id->subvendor == sv && id->subdevice == sd &&
            !((id->class ^ cls) & mask)) {
            memmove(&drv->dyn[i], &drv->dyn[i + 1], (drv->ndyn - i - 1) * sizeof(*drv->dyn));
            drv->ndyn--;
            kernel_log(k, "remove_id %s %04x:%04x", drv->name, v, d);
            return 0; /* unbinds nothing */
        }
    }
    return -ENODEV;
}

const struct attr driver_attrs[] = {
    {.name = "bind", .mode = 0200, .store = bind_store},
    {.name = "new_id", .mode = 0200, .store = new_id_store},
    {.name = "remove_id", .mode = 0200, .store = remove_id_store},
    {.name = "uevent", .mode = 0200, .store = uevent_store},
    {.name = "unbind", .mode = 0200, .store = unbind_store},
};
const size_t driver_nattrs = FS_ARRAY_SIZE(driver_attrs);

/* ---- id table entries in specs: VVVV:DDDD[:SSSS:ssss], '*' for any ----------------------- */

static int id_field(const char *s, size_t len, uint32_t *out)
{
    char tmp[8];
    char *end;

    if (len == 1 && s[0] == '*') {
        *out = ID_ANY;
        return 0;
    }
    if (len == 0 || len > 4)
        return -EINVAL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    unsigned long v = strtoul(tmp, &end, 16);
    if (*end != '\0')
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

int id_parse(const char *text, struct pci_id *id)
{
    uint32_t f[4] = {ID_ANY, ID_ANY, ID_ANY, ID_ANY};
    const char *p = text;
    int n = 0;

    for (;;) {
        size_t len = strcspn(p, ":");
        if (n == 4 || id_field(p, len, &f[n]) < 0)
            return -EINVAL;
        n++;
        p += len;
        if (*p == '\0')
            break;
        p++;
    }
    if (n != 2 && n != 4)
        return -EINVAL;
    *id = (struct pci_id){f[0], f[1], f[2], f[3], 0, 0};
    return 0;
}

static void id_field_format(struct buf *b, uint32_t v)
{
    if (v == ID_ANY)
        buf_puts(b, "*");
    else
        buf_printf(b, "%04x", v);
}

void id_format(struct buf *b, const struct pci_id *id)
{
    id_field_format(b, id->vendor);
    buf_puts(b, ":");
    id_field_format(b, id->device);
    if (id->subvendor != ID_ANY || id->subdevice != ID_ANY) {
        buf_puts(b, ":");
        id_field_format(b, id->subvendor);
        buf_puts(b, ":");
        id_field_format(b, id->subdevice);
    }
}
