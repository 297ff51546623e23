/* nodedev-create.c - virNodeDeviceCreateXML and virNodeDeviceDestroy for mediated devices, as
 * libvirt's node device driver does them with mdevctl: the XML names the parent and the type
 * (and may give the UUID); the device is made through libhostdev's engine operation, so it is
 * journaled and undone on failure like `hostdev mdev create`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdev-xml.h"
#include "virt.h"

/* The parent's name as the mdev core has it (class/mdev_bus): a PCI node device's address. */
static int parent_name(virConnectPtr conn, const struct virt_mdev_xml *m, char *out, size_t size)
{
    struct hd_nodedev *nd;
    const char *path, *slash;
    int r;

    if (m->parent_addr[0]) {
        snprintf(out, size, "%s", m->parent_addr);
        return 0;
    }
    if ((r = hd_nodedev_lookup(conn->ctx, m->parent, &nd)) < 0)
        return r;
    path = hd_nodedev_get_sysfs_path(nd);
    slash = path ? strrchr(path, '/') : NULL;
    snprintf(out, size, "%s", slash ? slash + 1 : "");
    hd_nodedev_unref(nd);
    return out[0] ? 0 : -ENODEV;
}

static int run(virConnectPtr conn, enum hd_op_kind kind, const char *parent, const char *type,
               const char *uuid, char *made, size_t size)
{
    struct hd_op *op;
    int r = hd_op_new(conn->ctx, kind, &op);

    if (r == 0)
        r = hd_op_set_mdev(op, parent, type, uuid);
    if (r == 0)
        r = hd_op_run(op);
    /* The engine takes a retry's create of what is, or remove of what is not, as done; libvirt
     * calls either an error: 1, for the caller to say which. */
    if (r == 0 && hd_op_get_step_count(op) > 0 &&
        strcmp(hd_op_step_get_action(op, 0), "already") == 0)
        r = 1;
    if (r >= 0 && made != NULL)
        snprintf(made, size, "%s", hd_op_get_mdev_uuid(op));
    hd_op_unref(op);
    return r;
}

VIR_EXPORT virNodeDevicePtr virNodeDeviceCreateXML(virConnectPtr conn, const char *xmlDesc,
                                                   unsigned int flags)
{
    char parent[128], uuid[37];
    struct hd_nodedev *nd = NULL;
    struct virt_mdev_xml m;
    int r;

    virt_reset();
    if (!virt_conn_valid(conn, __func__) || !virt_arg_given(xmlDesc, "xmlDesc", __func__))
        return NULL;
    if (flags != 0) {
        virt_error(VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s", flags,
                   __func__);
        return NULL;
    }
    if (conn->readonly) {
        virt_error(VIR_ERR_OPERATION_DENIED, "read only access prevents %s", __func__);
        return NULL;
    }
    const char *why;
    r = virt_mdev_xml_read(xmlDesc, &m, &why);
    if (r == -EBADMSG) {
        virt_error(VIR_ERR_XML_ERROR, "the XML is not well formed: %s", why);
        return NULL;
    }
    if (r == -ENOTSUP) {
        virt_error(VIR_ERR_CONFIG_UNSUPPORTED, "only mediated devices (<capability "
                   "type='mdev'>) can be created");
        return NULL;
    }
    if (r < 0) {
        virt_error(VIR_ERR_XML_ERROR, "a mediated device needs <parent> (or <parent_addr>) and "
                   "<type id='...'/>, with plain text and attributes");
        return NULL;
    }
    virt_lock(conn);
    hd_ctx_clear_error(conn->ctx);
    r = parent_name(conn, &m, parent, sizeof(parent));
    if (r == 0)
        r = run(conn, HD_OP_MDEV_CREATE, parent, m.type, m.uuid[0] ? m.uuid : NULL, uuid,
                sizeof(uuid));
    /* The new node device, as a listing has it. */
    if (r == 1) {
        virt_unlock(conn, 0);
        virt_error(VIR_ERR_OPERATION_FAILED, "mediated device %s exists already", uuid);
        return NULL;
    }
    if (r == 0)
        r = hd_nodedev_lookup_mdev(conn->ctx, uuid, &nd);
    if (virt_unlock(conn, r) < 0) {
        virt_lib_error(r == -ENODEV || r == -ENOENT ? VIR_ERR_NO_NODE_DEVICE
                       : r == -EINVAL              ? VIR_ERR_INVALID_ARG
                                                   : VIR_ERR_OPERATION_FAILED,
                       r);
        return NULL;
    }
    return virt_nodedev_found(conn, nd);
}

VIR_EXPORT int virNodeDeviceDestroy(virNodeDevicePtr dev)
{
    const char *path, *slash;
    int r;

    virt_reset();
    if (!virt_nodedev_valid(dev, __func__))
        return -1;
    if (dev->conn->readonly) {
        virt_error(VIR_ERR_OPERATION_DENIED, "read only access prevents %s", __func__);
        return -1;
    }
    if (hd_nodedev_get_cap(dev->nd) != HD_CAP_MDEV) {
        virt_error(VIR_ERR_OPERATION_INVALID, "%s is not a mediated device: only those can be "
                   "destroyed", hd_nodedev_get_name(dev->nd));
        return -1;
    }
    path = hd_nodedev_get_sysfs_path(dev->nd);
    slash = path ? strrchr(path, '/') : NULL;
    virt_lock(dev->conn);
    hd_ctx_clear_error(dev->conn->ctx);
    r = run(dev->conn, HD_OP_MDEV_REMOVE, NULL, NULL, slash ? slash + 1 : "", NULL, 0);
    if (r == 1) {
        virt_unlock(dev->conn, 0);
        virt_error(VIR_ERR_NO_NODE_DEVICE, "mediated device %s is gone already",
                   hd_nodedev_get_name(dev->nd));
        return -1;
    }
    if (virt_unlock(dev->conn, r) < 0) {
        virt_lib_error(r == -ENOENT ? VIR_ERR_NO_NODE_DEVICE : VIR_ERR_OPERATION_FAILED, r);
        return -1;
    }
    return 0;
}
