/* reserve.c - keep a device for VMs: a driver_override that outlives every later probe, and a
 * bind to the stub now, or as soon as the stub driver registers. */
#include <string.h>

#include "internal.h"

int hd_reserve_apply(struct hd_device *dev, const char *driver, unsigned int flags)
{
    const char *name = hd_device_get_name(dev);
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    struct hd_stub_driver stub_desc, *stub = &stub_desc;
    int r;

    if (hd_stub_driver_get(driver && driver[0] ? driver : "vfio-pci", stub) < 0)
        return hd_err(ctx, -EINVAL, "'%s' is not a stub driver (vfio-pci, a vfio-pci variant "
                      "or pci-stub)", driver);
    r = hd_txn_refresh(dev);
    if (r < 0)
        return r;
    /* Checked before the pending path writes anything; detach checks them again. */
    if ((r = hd_device_check_endpoint(dev, HD_REFUSE_RESERVE)) < 0)
        return r;
    if (stub->vfio && hd_device_get_iommu_group(dev) < 0 && !(flags & HD_DETACH_NOIOMMU))
        return hd_err(ctx, -ENOTSUP,
                      "%s has no IOMMU group: the IOMMU is off or absent, so "
                      "%s cannot take it",
                      name, stub->name);
    r = hd_module_ensure_driver(ctx, stub->name, stub->module);
    if (r == -ENOENT && hd_device_get_driver(dev) == NULL && hd_device_has_driver_override(dev)) {
        /* Early boot: the stub is not there yet. The override keeps every host driver away,
         * and the stub binds the device itself when it registers (driver_attach). */
        hd_ctx_clear_error(ctx);
        /* Recorded as a detach from no driver records it, before the override changes. */
        if ((r = hd_bind_record_reserved(dev, stub->name, flags & HD_DETACH_AT_BOOT)) < 0)
            return r;
        if (hd_device_get_driver_override(dev) == NULL ||
            strcmp(hd_device_get_driver_override(dev), stub->name) != 0) {
            r = hd_device_write_attr(dev, "driver_override", stub->name);
            if (r < 0)
                return hd_err(ctx, r, "%s: writing driver_override failed: %s", name, strerror(-r));
        }
        hd_info(ctx, "%s: reserved for %s, which is not loaded yet", name, stub->name);
        hd_device_reread(dev, 0);
        return 1;
    }
    if (r < 0)
        return r;
    if ((r = hd_bind_detach(dev, stub->name, HD_DETACH_RECORD_STUB |
                                                 (flags & (HD_DETACH_AT_BOOT | HD_DETACH_NOIOMMU))))
        < 0)
        return r;
    /* Already on the stub (vfio-pci.ids, an earlier detach by new_id): the override is what
     * keeps it there across a reprobe. */
    if (hd_device_has_driver_override(dev) &&
        (hd_device_get_driver_override(dev) == NULL ||
         strcmp(hd_device_get_driver_override(dev), stub->name) != 0)) {
        r = hd_device_write_attr(dev, "driver_override", stub->name);
        if (r < 0)
            return hd_err(ctx, r, "%s: writing driver_override failed: %s", name, strerror(-r));
        hd_device_reread(dev, 0);
    }
    return 0;
}
