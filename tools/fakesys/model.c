/* model.c - the fake kernel's objects: modules, drivers, devices, IOMMU groups, the log. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fakesys.h"

struct kernel *kernel_new(void)
{
    struct kernel *k = xcalloc(1, sizeof(*k));

    pthread_condattr_t ca;

    pthread_mutex_init(&k->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* kernel_sleep() uses it */
    pthread_cond_init(&k->wake, &ca);
    pthread_condattr_destroy(&ca);
    k->version = xstrdup("6.1.0");
    k->cmdline = xstrdup("");
    k->feat_override = k->feat_reset_method = k->feat_vfio_dev = true;
    k->drivers_autoprobe = true;
    k->container_perm = (struct node_perm){0666, 0, 0};
    k->iommu_perm = (struct node_perm){0660, 0, 0}; /* iommufd's misc device: .mode = 0660 */
    k->root = tree_new_root();
    return k;
}

static void module_free(struct module *m)
{
    for (size_t i = 0; i < m->nparams; i++) {
        free(m->param_names[i]);
        free(m->param_values[i]);
    }
    free(m->param_names);
    free(m->param_values);
    free(m->name);
    free(m);
}

static void device_free(struct device *dev)
{
    for (size_t i = 0; i < dev->nchildren; i++) {
        free(dev->children[i].subsystem);
        free(dev->children[i].name);
        free(dev->children[i].mac);
        free(dev->children[i].under);
        hostuse_child_free(&dev->children[i]);
    }
    free(dev->children);
    free(dev->cpus);
    free(dev->override);
    free(dev->spec_driver);
    free(dev);
}

void kernel_free(struct kernel *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->nmodules; i++)
        module_free(k->modules[i]);
    for (size_t i = 0; i < k->ndrivers; i++) {
        free(k->drivers[i]->name);
        free(k->drivers[i]->ops_name);
        free(k->drivers[i]->ids);
        free(k->drivers[i]->dyn);
        free(k->drivers[i]);
    }
    for (size_t i = 0; i < k->ndevices; i++)
        device_free(k->devices[i]);
    for (size_t i = 0; i < k->nfaults; i++)
        free(k->faults[i].key);
    for (size_t i = 0; i < k->nseeds; i++) {
        free(k->seeds[i].path);
        free(k->seeds[i].data);
    }
    free(k->modules);
    free(k->drivers);
    free(k->devices);
    free(k->gnodes);
    free(k->faults);
    free(k->seeds);
    strv_free(k->mounts);
    strv_free(k->swaps);
    hostuse_free(k);
    mdev_free_all(k);
    usb_free_all(k);
    scsi_free_all(k);
    free(k->spec_file);
    free(k->version);
    free(k->cmdline);
    free(k->cpu_vendor);
    buf_free(&k->log);
    buf_free(&k->uevents);
    if (k->logfile)
        fclose(k->logfile);
    tree_free(k->root);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->wake);
    free(k);
}

bool kernel_at_least(const struct kernel *k, int major, int minor)
{
    long ma = strtol(k->version, NULL, 10);
    const char *dot = strchr(k->version, '.');
    long mi = dot ? strtol(dot + 1, NULL, 10) : 0;

    return ma > major || (ma == major && mi >= minor);
}

void kernel_lock(struct kernel *k)
{
    pthread_mutex_lock(&k->lock);
}

void kernel_unlock(struct kernel *k)
{
    if (k->dirty)
        sysfs_build(k);
    pthread_mutex_unlock(&k->lock);
}

void kernel_log(struct kernel *k, const char *fmt, ...)
{
    va_list ap;
    size_t start = k->log.len;

    va_start(ap, fmt);
    buf_vprintf(&k->log, fmt, ap);
    va_end(ap);
    buf_puts(&k->log, "\n");
    if (k->logfile) {
        fputs(k->log.data + start, k->logfile);
        fflush(k->logfile);
    }
}

/* Its sysfs path below /sys, as DEVPATH says it: /devices/pciDDDD:BB/<bridges>/<it>. */
static void devpath(struct buf *b, const struct device *dev)
{
    const struct device *top = dev->physfn ? dev->physfn : dev;

    if (dev->parent != NULL) {
        devpath(b, dev->parent);
    } else {
        while (top->parent != NULL)
            top = top->parent;
        buf_printf(b, "/devices/pci%04x:%02x", top->addr.domain, top->addr.bus);
    }
    buf_printf(b, "/%s", dev->name);
}

void kernel_uevent(struct kernel *k, const char *action, const struct device *dev)
{
    struct buf path = {0};

    devpath(&path, dev);
    buf_printf(&k->uevents, "%s@%s ACTION=%s DEVPATH=%s SUBSYSTEM=pci", action, path.data, action,
               path.data);
    /* The kernel names the driver in a bind event; after unbind there is none to name. */
    if (strcmp(action, "bind") == 0 && dev->driver != NULL)
        buf_printf(&k->uevents, " DRIVER=%s", dev->driver->name);
    buf_printf(&k->uevents, " PCI_ID=%04X:%04X PCI_SLOT_NAME=%s SEQNUM=%llu\n", dev->vendor,
               dev->device, dev->name, ++k->seqnum);
    buf_free(&path);
}

struct module *module_find(const struct kernel *k, const char *name)
{
    for (size_t i = 0; i < k->nmodules; i++)
        if (strcmp(k->modules[i]->name, name) == 0)
            return k->modules[i];
    return NULL;
}

struct module *module_get(struct kernel *k, const char *name)
{
    struct module *m = module_find(k, name);

    if (m)
        return m;
    m = xcalloc(1, sizeof(*m));
    m->name = xstrdup(name);
    m->loaded = true;
    k->modules = xrealloc(k->modules, (k->nmodules + 1) * sizeof(*k->modules));
    k->modules[k->nmodules++] = m;
    return m;
}

const char *module_param(const struct module *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->param_names[i], name) == 0)
            return m->param_values[i];
    return NULL;
}

void module_set_param(struct module *m, const char *name, const char *value)
{
    for (size_t i = 0; i < m->nparams; i++) {
        if (strcmp(m->param_names[i], name) == 0) {
            free(m->param_values[i]);
            m->param_values[i] = xstrdup(value);
            return;
        }
    }
    m->param_names = xrealloc(m->param_names, (m->nparams + 1) * sizeof(char *));
    m->param_values = xrealloc(m->param_values, (m->nparams + 1) * sizeof(char *));
    m->param_names[m->nparams] = xstrdup(name);
    m->param_values[m->nparams++] = xstrdup(value);
}

struct driver *driver_find(const struct kernel *k, const char *name)
{
    for (size_t i = 0; i < k->ndrivers; i++)
        if (strcmp(k->drivers[i]->name, name) == 0)
            return k->drivers[i];
    return NULL;
}

bool driver_loaded(const struct driver *drv)
{
    return drv->module == NULL || drv->module->loaded;
}

struct driver *driver_new(struct kernel *k, const char *name)
{
    struct driver *drv = xcalloc(1, sizeof(*drv));

    drv->name = xstrdup(name);
    k->drivers = xrealloc(k->drivers, (k->ndrivers + 1) * sizeof(*k->drivers));
    k->drivers[k->ndrivers++] = drv;
    return drv;
}

static int cmp_addr(const void *item, const void *key)
{
    return hd_pci_addr_compare(&((const struct device *)item)->addr, key);
}

static size_t device_index(const struct kernel *k, const struct hd_pci_addr *addr, bool *found)
{
    return sorted_index((void *const *)k->devices, k->ndevices, addr, cmp_addr, found);
}

struct device *device_find(const struct kernel *k, const struct hd_pci_addr *addr)
{
    bool found;
    size_t i = device_index(k, addr, &found);

    return found ? k->devices[i] : NULL;
}

struct device *device_find_name(const struct kernel *k, const char *text, size_t len)
{
    char name[64];
    struct hd_pci_addr addr;

    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len >= sizeof(name))
        return NULL;
    memcpy(name, text, len);
    name[len] = '\0';
    /* The kernel compares names, so only the canonical form finds a device. */
    if (hd_pci_addr_parse(name, &addr) < 0)
        return NULL;
    char canon[HD_PCI_ADDR_BUFSZ];
    if (strcmp(hd_pci_addr_format(&addr, canon), name) != 0)
        return NULL;
    struct device *dev = device_find(k, &addr);
    return dev && dev->present ? dev : NULL;
}

struct device *device_new(struct kernel *k, const struct hd_pci_addr *addr)
{
    bool found;
    size_t i = device_index(k, addr, &found);

    if (found)
        return NULL;
    struct device *dev = xcalloc(1, sizeof(*dev));
    dev->addr = *addr;
    hd_pci_addr_format(addr, dev->name);
    dev->present = true;
    dev->group = -1;
    dev->numa = -1;
    dev->link_port = 1;
    dev->vfio_index = -1;
    dev->vf_autoprobe = true;
    dev->secondary = -1;
    k->devices = xrealloc(k->devices, (k->ndevices + 1) * sizeof(*k->devices));
    memmove(&k->devices[i + 1], &k->devices[i], (k->ndevices - i) * sizeof(*k->devices));
    k->devices[i] = dev;
    k->ndevices++;
    k->dirty = true;
    return dev;
}

void device_delete(struct kernel *k, struct device *dev)
{
    bool found;
    size_t i = device_index(k, &dev->addr, &found);

    if (found && k->devices[i] == dev) {
        memmove(&k->devices[i], &k->devices[i + 1], (k->ndevices - i - 1) * sizeof(*k->devices));
        k->ndevices--;
    }
    device_free(dev);
    k->dirty = true;
}

bool device_is_bridge(const struct device *dev)
{
    return dev->header == 1 || dev->header == 2;
}

bool device_multifunction(const struct kernel *k, const struct device *dev)
{
    for (uint8_t fn = 0; fn < 8; fn++) {
        struct hd_pci_addr a = dev->addr;
        a.function = fn;
        struct device *other = fn == dev->addr.function ? NULL : device_find(k, &a);
        if (other && other->present && other->physfn == NULL)
            return true;
    }
    return false;
}

/* The lowest number that no device holds (like the kernel's ida), in one pass; with @mdevs,
 * no mediated device's group either. */
static int lowest_free(const struct kernel *k, size_t field, bool mdevs)
{
    size_t n = k->ndevices + k->nmdevs + 1;
    bool *used = xcalloc(n, sizeof(*used));
    int r = 0;

    for (size_t i = 0; i < k->ndevices; i++) {
        int v = *(const int *)((const char *)k->devices[i] + field);
        if (v >= 0 && (size_t)v < n)
            used[v] = true;
    }
    for (size_t i = 0; mdevs && i < k->nmdevs; i++) {
        if (k->mdevs[i]->group >= 0 && (size_t)k->mdevs[i]->group < n)
            used[k->mdevs[i]->group] = true;
    }
    while (used[r])
        r++;
    free(used);
    return r;
}

int group_alloc(const struct kernel *k)
{
    return lowest_free(k, offsetof(struct device, group), true);
}

int vfio_index_alloc(const struct kernel *k)
{
    return lowest_free(k, offsetof(struct device, vfio_index), false);
}

struct group_node *group_node_find(struct kernel *k, int group)
{
    for (size_t i = 0; i < k->ngnodes; i++)
        if (k->gnodes[i].group == group)
            return &k->gnodes[i];
    return NULL;
}

size_t group_vfio_users(const struct kernel *k, int group)
{
    size_t n = 0;

    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *d = k->devices[i];
        if (d->present && d->group == group && d->driver && (d->driver->flags & DRV_VFIO))
            n++;
    }
    return n;
}

int add_child(struct device *dev, const char *subsystem, const char *name, const char *mac)
{
    for (size_t i = 0; i < dev->nchildren; i++)
        if (strcmp(dev->children[i].subsystem, subsystem) == 0 &&
            strcmp(dev->children[i].name, name) == 0)
            return -EEXIST;
    dev->children = xrealloc(dev->children, (dev->nchildren + 1) * sizeof(*dev->children));
    dev->children[dev->nchildren++] = (struct child){
        .owner = dev,
        .subsystem = xstrdup(subsystem),
        .name = xstrdup(name),
        .mac = mac ? xstrdup(mac) : NULL,
    };
    return 0;
}

bool device_children_live(const struct device *dev)
{
    /* vfio-pci, pci-stub and the vfio variants register nothing of the device's own kind */
    return dev->present && dev->driver != NULL &&
           (dev->driver->flags & (DRV_STUB | DRV_VFIO)) == 0;
}
