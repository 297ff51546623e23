/* nodedev-create.c - virNodeDeviceCreateXML and virNodeDeviceDestroy for mediated devices, as
 * libvirt's node device driver does them with mdevctl: the XML names the parent and the type
 * (and may give the UUID); the device is made through libhostdev's engine operation, so it is
 * journaled and undone on failure like `hostdev mdev create`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virt.h"

/* What a node device XML for an mdev says: the few elements and attributes that matter. */
struct mdev_xml {
    char parent[128];      /* <parent>: a node device name */
    char parent_addr[128]; /* <capability type='mdev'><parent_addr> */
    char type[128];        /* <type id='...'/> */
    char uuid[64];         /* <uuid> */
    bool is_mdev;          /* <capability type='mdev'> */
};

/* The text of the first <@name>...</@name> in @xml, trimmed; 0, -ENOENT, -EINVAL. */
static int element_text(const char *xml, const char *name, char *out, size_t size)
{
    char open[64], close[64];
    const char *s, *e;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    if ((s = strstr(xml, open)) == NULL)
        return -ENOENT;
    s += strlen(open);
    if ((e = strstr(s, close)) == NULL)
        return -EINVAL;
    while (s < e && strchr(" \t\r\n", *s))
        s++;
    while (e > s && strchr(" \t\r\n", e[-1]))
        e--;
    if ((size_t)(e - s) >= size || memchr(s, '<', (size_t)(e - s)) || memchr(s, '&', (size_t)(e - s)))
        return -EINVAL;
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    return 0;
}

/* The value of attribute @attr in the tag starting at @tag (up to its '>'). */
static int attribute(const char *tag, const char *attr, char *out, size_t size)
{
    const char *end = strchr(tag, '>'), *p = tag;
    size_t n = strlen(attr);

    while (end != NULL && (p = strstr(p, attr)) != NULL && p < end) {
        if (p[-1] == ' ' && p[n] == '=' && (p[n + 1] == '\'' || p[n + 1] == '"')) {
            const char *v = p + n + 2, *q = strchr(v, p[n + 1]);
            if (q == NULL || q > end || (size_t)(q - v) >= size || memchr(v, '&', (size_t)(q - v)))
                return -EINVAL;
            memcpy(out, v, (size_t)(q - v));
            out[q - v] = '\0';
            return 0;
        }
        p += n;
    }
    return -ENOENT;
}

/* A copy of @xml with its comments blanked out, when its elements are well formed: every tag
 * closed, in order, under one root; no DTD or CDATA (a device's XML has none). NULL with *@why
 * otherwise. Enough for the plain XML a device is: the attributes and texts parse() reads. */
static char *well_formed(const char *xml, const char **why)
{
    const char *open[32];
    size_t lens[32], depth = 0;
    int roots = 0;
    char *c = strdup(xml), *p = c;

#define FAIL(reason)                                                                               \
    do {                                                                                           \
        *why = (reason);                                                                           \
        goto fail;                                                                                 \
    } while (0)
    *why = "out of memory";
    while (p != NULL && (p = strchr(p, '<')) != NULL) {
        char *q, quote = 0, *end;
        if (strncmp(p, "<!--", 4) == 0) {
            if ((end = strstr(p + 4, "-->")) == NULL)
                FAIL("a comment that never ends");
            memset(p, ' ', (size_t)(end + 3 - p));
            p = end + 3;
            continue;
        }
        if (p[1] == '!')
            FAIL("a DTD or CDATA section");
        if (p[1] == '?') { /* <?xml ...?>, before the root */
            if ((end = strstr(p, "?>")) == NULL || depth > 0 || roots > 0)
                FAIL("a misplaced processing instruction");
            p = end + 2;
            continue;
        }
        for (q = p + 1; *q != '\0' && (quote != 0 || *q != '>'); q++) {
            if (quote != 0 ? *q == quote : (*q == '"' || *q == '\''))
                quote = quote != 0 ? 0 : *q;
        }
        if (*q == '\0')
            FAIL("a tag that never ends");
        bool closing = p[1] == '/', empty = q[-1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strcspn(name, " \t\r\n/>");
        if (len == 0)
            FAIL("a tag without a name");
        if (closing) {
            if (depth == 0 || lens[depth - 1] != len || strncmp(open[depth - 1], name, len) != 0)
                FAIL("a closing tag that does not match its element");
            depth--;
        } else if (depth == 0 && roots++ > 0) {
            FAIL("more than one root element");
        } else if (!empty) {
            if (depth == sizeof(lens) / sizeof(lens[0]))
                FAIL("elements nested too deep");
            open[depth] = name;
            lens[depth++] = len;
        }
        p = q + 1;
    }
    if (c != NULL && (depth > 0 || roots == 0))
        FAIL(roots == 0 ? "no element" : "an element that is never closed");
    return c;
fail:
    free(c);
    return NULL;
#undef FAIL
}

static int parse(const char *xml, struct mdev_xml *m)
{
    const char *cap, *type;
    char value[32];
    int r;

    memset(m, 0, sizeof(*m));
    if (strstr(xml, "<device") == NULL || strstr(xml, "<!") != NULL)
        return -EINVAL; /* not a device; no DTDs or comments to trip over */
    for (cap = strstr(xml, "<capability"); cap != NULL; cap = strstr(cap + 1, "<capability")) {
        if (attribute(cap, "type", value, sizeof(value)) == 0 && strcmp(value, "mdev") == 0)
            break;
    }
    if (cap == NULL)
        return -ENOTSUP;
    m->is_mdev = true;
    if ((type = strstr(cap, "<type")) == NULL ||
        attribute(type, "id", m->type, sizeof(m->type)) < 0)
        return -EINVAL;
    if ((r = element_text(xml, "parent", m->parent, sizeof(m->parent))) < 0 && r != -ENOENT)
        return r;
    if ((r = element_text(cap, "parent_addr", m->parent_addr, sizeof(m->parent_addr))) < 0 &&
        r != -ENOENT)
        return r;
    if ((r = element_text(cap, "uuid", m->uuid, sizeof(m->uuid))) < 0 && r != -ENOENT)
        return r;
    return m->parent[0] || m->parent_addr[0] ? 0 : -EINVAL;
}

/* The parent's name as the mdev core has it (class/mdev_bus): a PCI node device's address. */
static int parent_name(virConnectPtr conn, const struct mdev_xml *m, char *out, size_t size)
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
    if (r == 0 && made != NULL)
        snprintf(made, size, "%s", hd_op_get_mdev_uuid(op));
    hd_op_unref(op);
    return r;
}

VIR_EXPORT virNodeDevicePtr virNodeDeviceCreateXML(virConnectPtr conn, const char *xmlDesc,
                                                   unsigned int flags)
{
    char parent[128], uuid[37];
    struct hd_nodedev *nd = NULL;
    virNodeDevicePtr dev;
    struct mdev_xml m;
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
    char *xml = well_formed(xmlDesc, &why);
    if (xml == NULL) {
        virt_error(VIR_ERR_XML_ERROR, "the XML is not well formed: %s", why);
        return NULL;
    }
    r = parse(xml, &m);
    free(xml);
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
    if (r == 0)
        r = hd_nodedev_lookup_mdev(conn->ctx, uuid, &nd);
    if (virt_unlock(conn, r) < 0) {
        virt_lib_error(r == -ENODEV || r == -ENOENT ? VIR_ERR_NO_NODE_DEVICE
                       : r == -EINVAL              ? VIR_ERR_INVALID_ARG
                                                   : VIR_ERR_OPERATION_FAILED,
                       r);
        return NULL;
    }
    dev = virt_nodedev_new(conn, nd);
    hd_nodedev_unref(nd);
    if (dev == NULL)
        virt_lib_error(VIR_ERR_NO_MEMORY, -ENOMEM);
    return dev;
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
    if (virt_unlock(dev->conn, r) < 0) {
        virt_lib_error(r == -ENOENT ? VIR_ERR_NO_NODE_DEVICE : VIR_ERR_OPERATION_FAILED, r);
        return -1;
    }
    return 0;
}
