/* sriov.c - SR-IOV: the PF's sriov_* attributes, VF creation and removal (drivers/pci/iov.c). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

int sriov_vf_addr(const struct device *pf, int i, struct hd_pci_addr *addr)
{
    unsigned int rid =
        (unsigned int)pf->addr.bus << 8 | (unsigned int)pf->addr.slot << 3 | pf->addr.function;

    rid += (unsigned int)(pf->vf_offset + pf->vf_stride * i);
    if (rid > 0xffff)
        return -ERANGE;
    *addr = (struct hd_pci_addr){pf->addr.domain, (uint8_t)(rid >> 8), (uint8_t)((rid >> 3) & 0x1f),
                                 (uint8_t)(rid & 7)};
    return 0;
}

int sriov_enable(struct kernel *k, struct device *pf, int n, bool probe)
{
    struct hd_pci_addr addr;

    for (int i = 0; i < n; i++)
        if (sriov_vf_addr(pf, i, &addr) < 0 || device_find(k, &addr))
            return -EBUSY;
    for (int i = 0; i < n; i++) {
        sriov_vf_addr(pf, i, &addr);
        struct device *vf = device_new(k, &addr);
        vf->vendor = pf->vendor;
        vf->device = pf->vf_device;
        vf->subvendor = pf->subvendor;
        vf->subdevice = pf->subdevice;
        vf->class = pf->class;
        vf->revision = pf->revision;
        vf->parent = pf->parent;
        vf->pcie = pf->pcie;
        vf->port = PORT_ENDPOINT;
        vf->cap_speed = pf->cap_speed;
        vf->cap_width = pf->cap_width;
        vf->link_speed = pf->link_speed;
        vf->link_width = pf->link_width;
        vf->link_port = pf->link_port;
        vf->numa = pf->numa;
        vf->cpus = pf->cpus ? xstrdup(pf->cpus) : NULL;
        /* VFs have no ACS upstream of them to share: each gets its own group here. */
        vf->group = k->iommu_enabled ? group_alloc(k) : -1;
        vf->reset_default[0] = RESET_FLR;
        vf->nreset_default = 1;
        device_reset_state(vf);
        vf->physfn = pf;
        vf->vf_index = i;
        /* vfio_pci_bus_notifier(): a PF on a vfio-pci family driver captures each VF it makes
         * (BUS_NOTIFY_ADD_DEVICE, before the "add" uevent) with driver_override = the name of
         * its vfio_device_ops, so no host driver gets a VF of a PF user space owns. vfio-pci's
         * is its driver's name; a variant's ("mlx5-vfio-pci") is no driver's, and the VF stays
         * unbound. Nothing clears it when the PF is unbound. */
        if (pf->driver && (pf->driver->flags & DRV_VFIO) && k->feat_override) {
            vf->override = xstrdup(pf->driver->ops_name);
            kernel_log(k, "captured %s %s", vf->name, vf->override);
        }
        kernel_uevent(k, "add", vf);
    }
    pf->numvfs = n;
    kernel_log(k, "sriov-enable %s %d", pf->name, n);
    /* pci_bus_add_device() attaches each VF; driver_probe() is pci_device_can_probe(): with
     * sriov_drivers_autoprobe 0 only an override binds it, so a captured VF binds anyway. */
    for (int i = 0; probe && i < n; i++) {
        sriov_vf_addr(pf, i, &addr);
        struct device *vf = device_find(k, &addr);
        if (vf && vf->present)
            device_attach(k, vf);
    }
    k->dirty = true;
    return 0;
}

void sriov_disable(struct kernel *k, struct device *pf)
{
    struct hd_pci_addr addr;

    for (int i = pf->numvfs - 1; i >= 0; i--) {
        if (sriov_vf_addr(pf, i, &addr) < 0)
            continue;
        struct device *vf = device_find(k, &addr);
        if (vf && vf->physfn == pf)
            vf = device_release_driver(k, vf);
        if (vf && vf->physfn == pf) {
            kernel_log(k, "remove %s", vf->name);
            device_delete(k, vf);
        }
    }
    pf->numvfs = 0;
    kernel_log(k, "sriov-disable %s", pf->name);
    k->dirty = true;
}

static void vf_device_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    buf_printf(out, "%x\n", ((struct device *)obj)->vf_device);
}

static void autoprobe_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    buf_printf(out, "%d\n", ((struct device *)obj)->vf_autoprobe);
}

static int autoprobe_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)k;
    struct device *pf = obj;

    (void)len;
    if (hd_kstrtobool(data, &pf->vf_autoprobe) < 0)
        return -EINVAL;
    return 0;
}

static int numvfs_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    struct device *pf = obj;
    unsigned long n;

    (void)len;
    int r = kstrtoul(data, &n); /* kstrtou16 */
    if (r < 0)
        return r;
    if (n > 0xffff)
        return -ERANGE;
    if (n > (unsigned long)pf->totalvfs)
        return -ERANGE;
    if ((int)n == pf->numvfs)
        return 0;
    /* "no driver bound to device" / "driver does not support SR-IOV configuration"; vfio-pci
     * refuses too unless loaded with enable_sriov=1. */
    if (pf->driver == NULL || !(pf->driver->flags & DRV_SRIOV))
        return -ENOENT;
    const char *enable =
        pf->driver->module ? module_param(pf->driver->module, "enable_sriov") : NULL;
    if (enable && strcmp(enable, "Y") != 0)
        return -ENOENT;
    if (n == 0) {
        sriov_disable(k, pf);
        return 0;
    }
    if (pf->numvfs)
        return -EBUSY; /* "VFs already enabled. Disable before enabling" */
    return sriov_enable(k, pf, (int)n, true);
}

const struct attr sriov_attrs[] = {
    {.name = "sriov_drivers_autoprobe",
     .mode = 0644,
     .show = autoprobe_show,
     .store = autoprobe_store},
    {.name = "sriov_numvfs",
     .mode = 0644,
     .show = show_int,
     .store = numvfs_store,
     .off = offsetof(struct device, numvfs)},
    {.name = "sriov_offset",
     .mode = 0444,
     .show = show_int,
     .off = offsetof(struct device, vf_offset)},
    {.name = "sriov_stride",
     .mode = 0444,
     .show = show_int,
     .off = offsetof(struct device, vf_stride)},
    {.name = "sriov_totalvfs",
     .mode = 0444,
     .show = show_int,
     .off = offsetof(struct device, totalvfs)},
    {.name = "sriov_vf_device", .mode = 0444, .show = vf_device_show},
};
const size_t sriov_nattrs = FS_ARRAY_SIZE(sriov_attrs);
