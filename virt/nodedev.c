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
    atomic_init(&dev->refs, 1);
    dev->conn = conn;
    atomic_fetch_add_explicit(&conn->refs, 1, memory_order_relaxed);
    dev->nd = hd_nodedev_ref(nd);
    return dev;
}

virNodeDevicePtr virt_nodedev_found(virConnectPtr conn, struct hd_nodedev *nd)
{
    virNodeDevicePtr dev = virt_nodedev_new(conn, nd);

    hd_nodedev_unref(nd);
    if (dev == NULL)
        virt_lib_error(VIR_ERR_NO_MEMORY, -ENOMEM);
    return dev;
}

bool virt_nodedev_valid(virNodeDevicePtr dev, const char *fn)
{
    if (dev != NULL && atomic_load_explicit(&dev->refs, memory_order_relaxed) > 0)
        return true;
    virt_error(VIR_ERR_INVALID_NODE_DEVICE, "%s", fn);
    return false;
}

VIR_EXPORT virNodeDevicePtr virNodeDeviceLookupByName(virConnectPtr conn, const char *name)
{
    struct hd_nodedev *nd;
    int r;

    virt_reset();
    if (!virt_conn_valid(conn, __func__) || !virt_arg_given(name, "name", __func__))
        return NULL;
    virt_lock(conn);
    r = virt_unlock(conn, hd_nodedev_lookup(conn->ctx, name, &nd));
    if (r < 0) {
        virt_lib_error(r == -ENODEV ? VIR_ERR_NO_NODE_DEVICE : VIR_ERR_INTERNAL_ERROR, r);
        return NULL;
    }
    return virt_nodedev_found(conn, nd);
}

/* Name, parent and capabilities were read at lookup and never change: no lock. */
VIR_EXPORT const char *virNodeDeviceGetName(virNodeDevicePtr dev)
{
    virt_reset();
    return virt_nodedev_valid(dev, __func__) ? hd_nodedev_get_name(dev->nd) : NULL;
}

/* NULL without an error for "computer", the root of the tree, as libvirt does. */
VIR_EXPORT const char *virNodeDeviceGetParent(virNodeDevicePtr dev)
{
    virt_reset();
    return virt_nodedev_valid(dev, __func__) ? hd_nodedev_get_parent(dev->nd) : NULL;
}

VIR_EXPORT char *virNodeDeviceGetXMLDesc(virNodeDevicePtr dev, unsigned int flags)
{
    char *xml;
    int r;

    virt_reset();
    if (!virt_nodedev_valid(dev, __func__))
        return NULL;
    if (flags != 0) {
        virt_error(VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s", flags, __func__);
        return NULL;
    }
    /* The XML reads more of the tree (IOMMU group, config space) through the context. */
    virt_lock(dev->conn);
    r = virt_unlock(dev->conn, hd_nodedev_format_xml(dev->nd, &xml));
    if (r < 0) {
        virt_lib_error(VIR_ERR_INTERNAL_ERROR, r);
        return NULL;
    }
    return xml;
}

VIR_EXPORT int virNodeDeviceNumOfCaps(virNodeDevicePtr dev)
{
    virt_reset();
    return virt_nodedev_valid(dev, __func__) ? (int)hd_nodedev_get_cap_count(dev->nd) : -1;
}

VIR_EXPORT int virNodeDeviceListCaps(virNodeDevicePtr dev, char **const names, int maxnames)
{
    int n = 0;

    virt_reset();
    if (!virt_nodedev_valid(dev, __func__))
        return -1;
    if (maxnames < 0 || (names == NULL && maxnames > 0)) {
        virt_error(VIR_ERR_INVALID_ARG, "maxnames or names invalid in %s", __func__);
        return -1;
    }
    for (size_t i = 0; i < hd_nodedev_get_cap_count(dev->nd) && n < maxnames; i++) {
        if ((names[n] = strdup(hd_nodedev_get_cap_name(dev->nd, i))) == NULL) {
            while (n > 0)
                free(names[--n]);
            virt_lib_error(VIR_ERR_NO_MEMORY, -ENOMEM);
            return -1;
        }
        n++;
    }
    return n;
}

VIR_EXPORT int virNodeDeviceRef(virNodeDevicePtr dev)
{
    virt_reset();
    if (!virt_nodedev_valid(dev, __func__))
        return -1;
    atomic_fetch_add_explicit(&dev->refs, 1, memory_order_relaxed);
    return 0;
}

VIR_EXPORT int virNodeDeviceFree(virNodeDevicePtr dev)
{
    virt_reset();
    if (!virt_nodedev_valid(dev, __func__))
        return -1;
    if (atomic_fetch_sub_explicit(&dev->refs, 1, memory_order_acq_rel) > 1)
        return 0;
    /* No lock: the last reference is this thread's, and dropping the node device touches
     * nothing of the context but its (atomic) reference count. */
    hd_nodedev_unref(dev->nd);
    virConnectClose(dev->conn);
    free(dev);
    return 0;
}

/* One operation of the engine on the PCI device behind @dev, re-read first (the node device
 * is a snapshot from lookup time): journaled, checked against the assignment map, host use and
 * platform functions, undone on failure, as the hostdev commands are. Refused on a read-only
 * connection. */
static int run_op(virNodeDevicePtr dev, const char *fn, enum hd_op_kind kind, const char *stub)
{
    struct hd_ctx *ctx;
    struct hd_device *pci;
    struct hd_op *op = NULL;
    enum hd_reason why;
    int r;

    if (!virt_nodedev_valid(dev, fn))
        return -1;
    if (dev->conn->readonly) {
        virt_error(VIR_ERR_OPERATION_DENIED, "read only access prevents %s", fn);
        return -1;
    }
    pci = hd_nodedev_get_pci_device(dev->nd);
    if (pci == NULL) {
        virt_error(VIR_ERR_INVALID_ARG, "device %s is not a PCI device",
                   hd_nodedev_get_name(dev->nd));
        return -1;
    }
    ctx = dev->conn->ctx;
    virt_lock(dev->conn);
    r = hd_device_refresh(pci);
    if (r == 0)
        r = hd_op_new(ctx, kind, &op);
    if (r == 0 && stub != NULL)
        r = hd_op_set_driver(op, stub);
    if (r == 0)
        r = hd_op_add_device(op, hd_device_get_addr(pci), true);
    if (r == 0)
        r = hd_op_run(op);
    hd_op_unref(op);
    if (virt_unlock(dev->conn, r) < 0) {
        why = virt_lib_reason();
        virt_lib_error(why == HD_REASON_HOST_USE || why == HD_REASON_HELD ||
                               why == HD_REASON_PLATFORM
                           ? VIR_ERR_OPERATION_INVALID
                           : VIR_ERR_OPERATION_FAILED,
                       r);
        return -1;
    }
    return 0;
}

VIR_EXPORT int virNodeDeviceDetachFlags(virNodeDevicePtr dev, const char *driverName,
                                        unsigned int flags)
{
    const char *stub = NULL; /* "vfio": the device's vfio-pci variant driver, or vfio-pci */

    virt_reset();
    if (flags != 0) {
        virt_error(VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s", flags, __func__);
        return -1;
    }
    /* libvirt's names ("vfio", "stub"), or a vfio-pci variant driver by its own name. */
    if (driverName != NULL && strcmp(driverName, "vfio") != 0) {
        if (strcmp(driverName, "stub") == 0) {
            stub = "pci-stub";
        } else if (hd_driver_is_vfio(driverName)) {
            stub = driverName;
        } else {
            virt_error(VIR_ERR_INVALID_ARG, "unknown driver name '%s'", driverName);
            return -1;
        }
    }
    return run_op(dev, __func__, HD_OP_DETACH, stub);
}

VIR_EXPORT int virNodeDeviceDettach(virNodeDevicePtr dev)
{
    return virNodeDeviceDetachFlags(dev, NULL, 0);
}

VIR_EXPORT int virNodeDeviceReAttach(virNodeDevicePtr dev)
{
    virt_reset();
    return run_op(dev, __func__, HD_OP_REATTACH, NULL);
}

VIR_EXPORT int virNodeDeviceReset(virNodeDevicePtr dev)
{
    virt_reset();
    /* Never under a host driver that is using the device (hostdev's rule: such a reset can
     * take the host down); the manual's flow detaches first. */
    return run_op(dev, __func__, HD_OP_RESET, NULL);
}
