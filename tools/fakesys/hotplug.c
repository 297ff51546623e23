/* hotplug.c - devices going and coming: remove, rescan, and their power-on state. */
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

static bool below(const struct device *dev, const struct device *ancestor)
{
    for (const struct device *p = dev->parent; p; p = p->parent)
        if (p == ancestor)
            return true;
    return false;
}

void device_reset_state(struct device *dev)
{
    free(dev->override);
    dev->override = NULL;
    memcpy(dev->reset_cur, dev->reset_default, sizeof(dev->reset_cur));
    dev->nreset_cur = dev->nreset_default;
    dev->enabled_by_user = false;
    dev->numvfs = 0;
    dev->vf_autoprobe = true;
}

void device_remove(struct kernel *k, struct device *dev, const char *why)
{
    struct hd_pci_addr addr = dev->addr;

    /* Children first, like pci_stop_and_remove_bus_device(); look everything up anew after
     * each removal, since unbinding may sleep and other writes may go on meanwhile. */
    for (;;) {
        struct device *child = NULL;
        for (size_t i = 0; i < k->ndevices && child == NULL; i++) {
            struct device *d = k->devices[i];
            if (d->present && d->parent == dev && d->physfn == NULL)
                child = d;
        }
        if (child == NULL)
            break;
        device_remove(k, child, why);
        dev = device_find(k, &addr);
        if (dev == NULL || !dev->present)
            return;
    }
    dev = device_release_driver(k, dev);
    if (dev == NULL || !dev->present)
        return;
    if (dev->numvfs > 0)
        sriov_disable(k, dev);
    dev->present = false;
    kernel_log(k, "%s %s", why, dev->name);
    kernel_uevent(k, "remove", dev);
    k->dirty = true;
    if (dev->physfn)
        device_delete(k, dev);
}

void bus_rescan(struct kernel *k, const struct device *under)
{
    bool again = true;
    struct hd_pci_addr *found = NULL;
    size_t nfound = 0;

    /* Parents before children, whatever their addresses. */
    while (again) {
        again = false;
        for (size_t i = 0; i < k->ndevices; i++) {
            struct device *dev = k->devices[i];
            if (dev->present || dev->physfn || (dev->parent && !dev->parent->present) ||
                (under && !below(dev, under)))
                continue;
            device_reset_state(dev);
            dev->present = true;
            kernel_log(k, "add %s", dev->name);
            kernel_uevent(k, "add", dev);
            found = xrealloc(found, (nfound + 1) * sizeof(*found));
            found[nfound++] = dev->addr;
            again = true;
        }
    }
    k->dirty = true;
    /* pci_bus_add_device() calls device_attach() itself: bus drivers_autoprobe only governs
     * drivers that register later. */
    for (size_t i = 0; i < nfound; i++) {
        struct device *dev = device_find(k, &found[i]);
        if (dev && dev->present)
            device_attach(k, dev);
    }
    free(found);
}
