/* pciattr.c - the attributes of one PCI device directory, and remove/rescan. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

void pci_modalias(struct buf *b, const struct device *dev)
{
    buf_printf(b, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", dev->vendor, dev->device,
               dev->subvendor, dev->subdevice, (dev->class >> 16) & 0xff, (dev->class >> 8) & 0xff,
               dev->class & 0xff);
}

static void class_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    buf_printf(out, "0x%06x\n", ((struct device *)obj)->class);
}

static void revision_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    buf_printf(out, "0x%02x\n", ((struct device *)obj)->revision);
}

static void config_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    const struct device *dev = obj;
    uint8_t cfg[CONFIG_SIZE_PCIE];

    config_build(k, dev, cfg);
    buf_add(out, cfg, config_size(dev));
}

static int config_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    /* setpci works on real hardware; the model keeps its own idea of the registers. */
    (void)k;
    (void)obj;
    (void)data;
    (void)len;
    return 0;
}

static void uevent_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    const struct device *dev = obj;

    if (dev->driver)
        buf_printf(out, "DRIVER=%s\n", dev->driver->name);
    buf_printf(out, "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n", dev->class,
               dev->vendor, dev->device, dev->subvendor, dev->subdevice);
    buf_printf(out, "PCI_SLOT_NAME=%s\nMODALIAS=", dev->name);
    pci_modalias(out, dev);
    buf_puts(out, "\n");
}

static int uevent_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    static const char *const actions[] = {"add",    "remove",  "change", "move",
                                          "online", "offline", "bind",   "unbind"};
    const struct device *dev = obj;
    size_t n = strcspn(data, " \n");

    (void)len;
    for (size_t i = 0; i < FS_ARRAY_SIZE(actions); i++) {
        if (strlen(actions[i]) == n && strncmp(actions[i], data, n) == 0) {
            kernel_log(k, "uevent %s %s", dev->name, actions[i]);
            return 0;
        }
    }
    return -EINVAL;
}

static void modalias_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    pci_modalias(out, obj);
    buf_puts(out, "\n");
}

static void override_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    const struct device *dev = obj;

    /* sysfs_emit("%s\n", NULL) */
    buf_printf(out, "%s\n", dev->override ? dev->override : "(null)");
}

static int override_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)k;
    struct device *dev = obj;

    if (len >= 4096 - 1)
        return -EINVAL;
    /* driver_set_override(): cut at the first newline; empty clears. */
    size_t n = strcspn(data, "\n");
    free(dev->override);
    dev->override = n ? strndup(data, n) : NULL;
    return 0;
}

static int numa_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)k;
    struct device *dev = obj;
    int v;

    (void)len;
    if (kstrtoint(data, &v) < 0 || v < -1 || v > 1023)
        return -EINVAL;
    dev->numa = v;
    return 0;
}

static bool device_enabled(struct kernel *k, const struct device *dev)
{
    /* Host drivers enable the device in probe(); vfio-pci when the device is opened. */
    if (dev->enabled_by_user)
        return true;
    if (dev->driver && (dev->driver->flags & DRV_VFIO)) {
        const struct group_node *gn = group_node_find(k, dev->group);
        return gn && gn->open;
    }
    return dev->driver && !(dev->driver->flags & DRV_STUB);
}

static void enable_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    buf_printf(out, "%d\n", device_enabled(k, obj));
}

static int enable_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)k;
    struct device *dev = obj;
    unsigned long v;

    (void)len;
    if (kstrtoul(data, &v) < 0)
        return -EINVAL;
    if (dev->driver)
        return -EBUSY;
    if (v)
        dev->enabled_by_user = true;
    else if (dev->enabled_by_user)
        dev->enabled_by_user = false;
    else
        return -EIO;
    return 0;
}

static const char *device_cpus(const struct device *dev)
{
    return dev->cpus ? dev->cpus : "0-3";
}

static void cpulist_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    buf_printf(out, "%s\n", device_cpus(obj));
}

/* local_cpus: the same CPUs as a mask ("0-3" -> 0000000f), for the first 64 CPUs. */
static void cpumask_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    unsigned long long mask = 0;
    const char *p = device_cpus(obj);
    char *end;

    while (*p) {
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        if (end == p)
            break;
        if (*end == '-')
            hi = strtoul(end + 1, &end, 10);
        for (unsigned long c = lo; c <= hi && c < 64; c++)
            mask |= 1ULL << c;
        p = *end == ',' ? end + 1 : end;
        if (*p && !(*p >= '0' && *p <= '9'))
            break;
    }
    if (mask >> 32)
        buf_printf(out, "%08llx,%08llx\n", mask >> 32, mask & 0xffffffffULL);
    else
        buf_printf(out, "%08llx\n", mask);
}

/* msi_bus, broken_parity_status, d3cold_allowed: writable, nothing here depends on them. */
static int number_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    unsigned long v;

    (void)k;
    (void)obj;
    (void)len;
    return kstrtoul(data, &v);
}

static void resource_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    const struct device *dev = obj;
    unsigned long long base = config_bar0(dev);
    /* 13 resources for endpoints (6 BARs, ROM, 6 VF BARs), 17 for bridges */
    int lines = device_is_bridge(dev) ? 17 : 13;

    for (int i = 0; i < lines; i++) {
        if (i == 0 && !device_is_bridge(dev))
            buf_printf(out, "0x%016llx 0x%016llx 0x%016llx\n", base, base + CONFIG_BAR0_SIZE - 1,
                       0x40200ULL); /* IORESOURCE_MEM | IORESOURCE_SIZEALIGN */
        else
            buf_printf(out, "0x%016llx 0x%016llx 0x%016llx\n", 0ULL, 0ULL, 0ULL);
    }
}

static int remove_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    unsigned long v;

    (void)len;
    if (kstrtoul(data, &v) < 0)
        return -EINVAL;
    if (v)
        device_remove(k, obj, "remove");
    return 0;
}

static int dev_rescan_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    const struct device *dev = obj;
    unsigned long v;

    (void)len;
    if (kstrtoul(data, &v) < 0)
        return -EINVAL;
    /* pci_rescan_bus(pdev->bus): everything below the bridge the device sits behind. */
    if (v)
        bus_rescan(k, dev->parent);
    return 0;
}

static void link_speed_show(struct kernel *k, void *obj, struct buf *out, bool cap)
{
    (void)k;
    const struct device *dev = obj;
    int gen = cap ? dev->cap_speed : dev->link_speed;

    buf_printf(out, "%s\n", gen ? link_speed_name(gen) : "Unknown");
}

static void cur_speed_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    link_speed_show(k, obj, out, false);
}

static void max_speed_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    link_speed_show(k, obj, out, true);
}

static const struct attr common_attrs[] = {
    {.name = "class", .mode = 0444, .show = class_show},
    {.name = "device", .mode = 0444, .show = show_hex16, .off = offsetof(struct device, device)},
    {.name = "enable", .mode = 0644, .show = enable_show, .store = enable_store},
    {.name = "irq", .mode = 0444, .show = show_int, .off = offsetof(struct device, irq)},
    {.name = "local_cpulist", .mode = 0444, .show = cpulist_show},
    {.name = "local_cpus", .mode = 0444, .show = cpumask_show},
    {.name = "consistent_dma_mask_bits", .mode = 0444, .show = show_const, .off = 64},
    {.name = "dma_mask_bits", .mode = 0444, .show = show_const, .off = 64},
    {.name = "msi_bus", .mode = 0644, .show = show_const, .store = number_store, .off = 1},
    {.name = "broken_parity_status",
     .mode = 0644,
     .show = show_const,
     .store = number_store,
     .off = 0},
    {.name = "d3cold_allowed", .mode = 0644, .show = show_const, .store = number_store, .off = 1},
    {.name = "modalias", .mode = 0444, .show = modalias_show},
    {.name = "numa_node",
     .mode = 0644,
     .show = show_int,
     .store = numa_store,
     .off = offsetof(struct device, numa)},
    {.name = "remove", .mode = 0200, .store = remove_store},
    {.name = "rescan", .mode = 0200, .store = dev_rescan_store},
    {.name = "resource", .mode = 0444, .show = resource_show},
    {.name = "revision", .mode = 0444, .show = revision_show},
    {.name = "subsystem_device",
     .mode = 0444,
     .show = show_hex16,
     .off = offsetof(struct device, subdevice)},
    {.name = "subsystem_vendor",
     .mode = 0444,
     .show = show_hex16,
     .off = offsetof(struct device, subvendor)},
    {.name = "uevent", .mode = 0644, .show = uevent_show, .store = uevent_store},
    {.name = "vendor", .mode = 0444, .show = show_hex16, .off = offsetof(struct device, vendor)},
};
static const struct attr config_pci = {.name = "config",
                                       .mode = 0644,
                                       .show = config_show,
                                       .store = config_store,
                                       .size = CONFIG_SIZE_PCI,
                                       .unpriv = 64};
static const struct attr config_pcie = {.name = "config",
                                        .mode = 0644,
                                        .show = config_show,
                                        .store = config_store,
                                        .size = CONFIG_SIZE_PCIE,
                                        .unpriv = 64};
/* pci_dev_attrs_are_visible(): boot_vga exists for VGA-compatible display devices only. */
static void boot_vga_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)k;
    (void)a;
    buf_printf(out, "%d\n", ((struct device *)obj)->boot_vga ? 1 : 0);
}
static const struct attr boot_vga_attr = {.name = "boot_vga", .mode = 0444, .show = boot_vga_show};
static const struct attr override_attr = {
    .name = "driver_override", .mode = 0644, .show = override_show, .store = override_store};
static const struct attr link_attrs[] = {
    {.name = "current_link_speed", .mode = 0444, .show = cur_speed_show},
    {.name = "current_link_width",
     .mode = 0444,
     .show = show_int,
     .off = offsetof(struct device, link_width)},
    {.name = "max_link_speed", .mode = 0444, .show = max_speed_show},
    {.name = "max_link_width",
     .mode = 0444,
     .show = show_int,
     .off = offsetof(struct device, cap_width)},
};

void pci_add_attrs(struct kernel *k, struct device *dev, struct node *dir)
{
    for (size_t i = 0; i < FS_ARRAY_SIZE(common_attrs); i++)
        tree_attr(dir, &common_attrs[i], dev);
    tree_attr(dir, dev->pcie ? &config_pcie : &config_pci, dev);
    if (k->feat_override)
        tree_attr(dir, &override_attr, dev);
    if ((dev->class >> 8) == 0x0300)
        tree_attr(dir, &boot_vga_attr, dev);
    if (dev->nreset_default > 0) {
        tree_attr(dir, &reset_attr, dev);
        if (k->feat_reset_method)
            tree_attr(dir, &reset_method_attr, dev);
    }
    if (dev->pcie && dev->cap_speed)
        for (size_t i = 0; i < FS_ARRAY_SIZE(link_attrs); i++)
            tree_attr(dir, &link_attrs[i], dev);
    if (dev->totalvfs > 0)
        for (size_t i = 0; i < sriov_nattrs; i++)
            tree_attr(dir, &sriov_attrs[i], dev);
}
