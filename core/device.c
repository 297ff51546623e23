/* device.c - PLACEHOLDER (branch vm) for the engine's device.c, which replaces it whole. */
#include <stdlib.h>

#include "internal.h"

/* This file exists so that branch vm links a hostdev binary for the VM suite before the
 * engine's device snapshot lands. On merge, take the engine's core/device.c and drop this one:
 * nothing here is meant to survive, and callers use only the public header. */

struct hd_device {
    int refcount;
    struct hd_ctx *ctx;
    struct hd_pci_addr addr;
    char name[HD_PCI_ADDR_BUFSZ];
};

HD_EXPORT int hd_device_open(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                             struct hd_device **out)
{
    char path[HD_PATH_MAX];
    struct hd_device *dev;

    *out = NULL;
    dev = calloc(1, sizeof(*dev));
    if (dev == NULL)
        return -ENOMEM;
    hd_pci_addr_format(addr, dev->name);
    if (hd_path(path, sizeof(path), "sys/bus/pci/devices/%s", dev->name) < 0 ||
        hd_fs_exists(ctx, path) != 1) {
        free(dev);
        return hd_err(ctx, -ENODEV, "%s: no such PCI device", path);
    }
    dev->refcount = 1;
    dev->ctx = hd_ctx_ref(ctx);
    dev->addr = *addr;
    *out = dev;
    return 0;
}

HD_EXPORT struct hd_device *hd_device_ref(struct hd_device *dev)
{
    if (dev != NULL)
        dev->refcount++;
    return dev;
}

HD_EXPORT struct hd_device *hd_device_unref(struct hd_device *dev)
{
    if (dev == NULL || --dev->refcount > 0)
        return dev;
    hd_ctx_unref(dev->ctx);
    free(dev);
    return NULL;
}

HD_EXPORT int hd_device_refresh(struct hd_device *dev)
{
    (void)dev;
    return 0;
}

HD_EXPORT struct hd_ctx *hd_device_get_ctx(const struct hd_device *dev)
{
    return dev->ctx;
}

HD_EXPORT const struct hd_pci_addr *hd_device_get_addr(const struct hd_device *dev)
{
    return &dev->addr;
}

HD_EXPORT const char *hd_device_get_name(const struct hd_device *dev)
{
    return dev->name;
}
