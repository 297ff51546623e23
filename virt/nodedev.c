/* nodedev.c - virNodeDevice: lookup, name, parent, XML, caps, and PCI detach/reattach/reset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virt.h"

virNodeDevicePtr virt_nodedev_new(virConnectPtr conn, struct hd_nodedev *nd)
{
    virNodeDevicePtr dev = calloc(1, sizeof(*dev));

    if (dev == NULL)
        return NULL;
    dev->refs = 1;
    dev->conn = conn;
    conn->refs++;
    dev->nd = hd_nodedev_ref(nd);
    return dev;
}

static bool valid(virNodeDevicePtr dev, const char *fn)
{
    if (dev != NULL && dev->refs > 0)
        return true;
    virt_error(VIR_ERR_INVALID_NODE_DEVICE, "%s", fn);
    return false;
}

VIR_EXPORT virNodeDevicePtr virNodeDeviceLookupByName(virConnectPtr conn, const char *name)
{
    struct hd_nodedev *nd;
    virNodeDevicePtr dev;
    int r;

    virt_reset();
    if (conn == NULL) {
        virt_error(VIR_ERR_INVALID_CONN, "%s", __func__);
        return NULL;
    }
    if (name == NULL) {
        virt_error(VIR_ERR_INVALID_ARG, "name in %s must not be NULL", __func__);
        return NULL;
    }
    hd_ctx_clear_error(conn->ctx);
    r = hd_nodedev_lookup(conn->ctx, name, &nd);
    if (r < 0) {
        virt_lib_error(conn->ctx, r == -ENODEV ? VIR_ERR_NO_NODE_DEVICE : VIR_ERR_INTERNAL_ERROR,
                       r);
        return NULL;
    }
    dev = virt_nodedev_new(conn, nd);
    hd_nodedev_unref(nd);
    if (dev == NULL)
        virt_lib_error(NULL, VIR_ERR_NO_MEMORY, -ENOMEM);
    return dev;
}

VIR_EXPORT const char *virNodeDeviceGetName(virNodeDevicePtr dev)
{
    virt_reset();
    return valid(dev, __func__) ? hd_nodedev_get_name(dev->nd) : NULL;
}

/* NULL without an error for "computer", the root of the tree, as libvirt does. */
VIR_EXPORT const char *virNodeDeviceGetParent(virNodeDevicePtr dev)
{
    virt_reset();
    return valid(dev, __func__) ? hd_nodedev_get_parent(dev->nd) : NULL;
}

VIR_EXPORT char *virNodeDeviceGetXMLDesc(virNodeDevicePtr dev, unsigned int flags)
{
    char *xml;
    int r;

    virt_reset();
    if (!valid(dev, __func__))
        return NULL;
    if (flags != 0) {
        virt_error(VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s", flags, __func__);
        return NULL;
    }
    r = hd_nodedev_format_xml(dev->nd, &xml);
    if (r < 0) {
        virt_lib_error(dev->conn->ctx, VIR_ERR_INTERNAL_ERROR, r);
        return NULL;
    }
    return xml;
}

VIR_EXPORT int virNodeDeviceNumOfCaps(virNodeDevicePtr dev)
{
    virt_reset();
    return valid(dev, __func__) ? (int)hd_nodedev_get_cap_count(dev->nd) : -1;
}

VIR_EXPORT int virNodeDeviceListCaps(virNodeDevicePtr dev, char **const names, int maxnames)
{
    int n = 0;

    virt_reset();
    if (!valid(dev, __func__))
        return -1;
    if (maxnames < 0 || (names == NULL && maxnames > 0)) {
        virt_error(VIR_ERR_INVALID_ARG, "maxnames or names invalid in %s", __func__);
        return -1;
    }
    for (size_t i = 0; i < hd_nodedev_get_cap_count(dev->nd) && n < maxnames; i++) {
        if ((names[n] = strdup(hd_nodedev_get_cap_name(dev->nd, i))) == NULL) {
            while (n > 0)
                free(names[--n]);
            virt_lib_error(NULL, VIR_ERR_NO_MEMORY, -ENOMEM);
            return -1;
        }
        n++;
    }
    return n;
}

VIR_EXPORT int virNodeDeviceRef(virNodeDevicePtr dev)
{
    virt_reset();
    if (!valid(dev, __func__))
        return -1;
    dev->refs++;
    return 0;
}

VIR_EXPORT int virNodeDeviceFree(virNodeDevicePtr dev)
{
    virt_reset();
    if (!valid(dev, __func__))
        return -1;
    if (--dev->refs > 0)
        return 0;
    hd_nodedev_unref(dev->nd);
    virConnectClose(dev->conn);
    free(dev);
    return 0;
}

/* The PCI device behind @dev, re-read now: the node device is a snapshot from lookup time. */
static struct hd_device *pci_device(virNodeDevicePtr dev, const char *fn)
{
    struct hd_device *pci;
    int r;

    if (!valid(dev, fn))
        return NULL;
    pci = hd_nodedev_get_pci_device(dev->nd);
    if (pci == NULL) {
        virt_error(VIR_ERR_INVALID_ARG, "device %s is not a PCI device",
                   hd_nodedev_get_name(dev->nd));
        return NULL;
    }
    hd_ctx_clear_error(dev->conn->ctx);
    r = hd_device_refresh(pci);
    if (r < 0) {
        virt_lib_error(dev->conn->ctx, VIR_ERR_OPERATION_FAILED, r);
        return NULL;
    }
    return pci;
}

/* One operation of the engine on @pci: journaled, checked against the assignment map, host
 * use and platform functions, undone on failure, as the hostdev commands are. */
static int run_op(virNodeDevicePtr dev, struct hd_device *pci, enum hd_op_kind kind,
                  const char *stub)
{
    struct hd_ctx *ctx = dev->conn->ctx;
    struct hd_op *op;
    int r = hd_op_new(ctx, kind, &op);

    if (r == 0 && stub != NULL)
        r = hd_op_set_driver(op, stub);
    if (r == 0)
        r = hd_op_add_device(op, hd_device_get_addr(pci), true);
    if (r == 0)
        r = hd_op_run(op);
    hd_op_unref(op);
    if (r < 0) {
        enum hd_reason why = hd_ctx_last_reason(ctx);
        virt_lib_error(ctx, why == HD_REASON_HOST_USE || why == HD_REASON_HELD ||
                                    why == HD_REASON_PLATFORM
                                ? VIR_ERR_OPERATION_INVALID
                                : VIR_ERR_OPERATION_FAILED, r);
        return -1;
    }
    return 0;
}

/* The PCI device behind @dev for a call that changes the host: refused on a read-only
 * connection. The guards (host use, the map, platform functions) are the engine's. */
static struct hd_device *pci_device_for_write(virNodeDevicePtr dev, const char *fn)
{
    if (!valid(dev, fn))
        return NULL;
    if (dev->conn->readonly) {
        virt_error(VIR_ERR_OPERATION_DENIED, "read only access prevents %s", fn);
        return NULL;
    }
    return pci_device(dev, fn);
}

VIR_EXPORT int virNodeDeviceDetachFlags(virNodeDevicePtr dev, const char *driverName,
                                        unsigned int flags)
{
    const char *stub = "vfio-pci";
    struct hd_device *pci;

    virt_reset();
    if (flags != 0) {
        virt_error(VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s", flags, __func__);
        return -1;
    }
    if (driverName != NULL && strcmp(driverName, "vfio") != 0) {
        if (strcmp(driverName, "stub") != 0) {
            virt_error(VIR_ERR_INVALID_ARG, "unknown driver name '%s'", driverName);
            return -1;
        }
        stub = "pci-stub";
    }
    if ((pci = pci_device_for_write(dev, __func__)) == NULL)
        return -1;
    return run_op(dev, pci, HD_OP_DETACH, stub);
}

VIR_EXPORT int virNodeDeviceDettach(virNodeDevicePtr dev)
{
    return virNodeDeviceDetachFlags(dev, NULL, 0);
}

VIR_EXPORT int virNodeDeviceReAttach(virNodeDevicePtr dev)
{
    struct hd_device *pci;

    virt_reset();
    if ((pci = pci_device_for_write(dev, __func__)) == NULL)
        return -1;
    return run_op(dev, pci, HD_OP_REATTACH, NULL);
}

VIR_EXPORT int virNodeDeviceReset(virNodeDevicePtr dev)
{
    struct hd_device *pci;

    virt_reset();
    if ((pci = pci_device_for_write(dev, __func__)) == NULL)
        return -1;
    /* Never under a host driver that is using the device (hostdev's rule: such a reset can
     * take the host down); the manual's flow detaches first. */
    return run_op(dev, pci, HD_OP_RESET, NULL);
}
