/* mdev.c - mediated devices (drivers/vfio/mdev): the types parents offer
 * (class/mdev_bus/PARENT/mdev_supported_types/TYPE), the devices made of them
 * (bus/mdev/devices/UUID), and the engine's two operations on them. Creating writes the UUID
 * to the type's create file, removing writes 1 to the device's remove file; each is journaled
 * first and undone (the device removed again, or made again with its UUID) when the operation
 * fails or its process dies. Every name read from sysfs is checked before it becomes part of
 * a path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"

/* ---- UUIDs ------------------------------------------------------------------------------- */

HD_EXPORT int hd_mdev_uuid_parse(const char *text, char buf[37])
{
    /* libvirt names the node device mdev_<uuid with '_'>; the parent's name may follow. */
    bool nodedev = text != NULL && strncmp(text, "mdev_", 5) == 0;
    const char *s = nodedev ? text + 5 : text;

    if (s == NULL || strlen(s) < 36 || (s[36] != '\0' && !(nodedev && s[36] == '_')))
        return -EINVAL;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash) {
            if (c != '-' && !(nodedev && c == '_'))
                return -EINVAL;
            c = '-';
        } else if (c >= 'A' && c <= 'F') {
            c = (char)(c - 'A' + 'a');
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return -EINVAL;
        }
        buf[i] = c;
    }
    buf[36] = '\0';
    return 0;
}

/* A random (version 4) UUID, as mdevctl makes one. */
HD_EXPORT int hd_mdev_uuid_new(char buf[37])
{
    unsigned char b[16];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return 0;
}

/* ---- the types parents offer ------------------------------------------------------------- */

struct mdev_type {
    char *parent, *id, *name, *description, *api;
    int available;
};

struct hd_mdev_type_list {
    atomic_int refcount;
    struct mdev_type *v;
    size_t n, cap;
};

/* An attribute of a type, allocated and without its newline; NULL when absent. */
static char *type_attr(struct hd_ctx *ctx, const char *parent, const char *id, const char *attr)
{
    char path[HD_PATH_MAX], *text = NULL;
    size_t len = 0;

    if (hd_path(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types/%s/%s", parent,
                id, attr) < 0 ||
        hd_fs_read_alloc(ctx, path, 4096, &text, &len) < 0)
        return NULL;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    return text;
}

static int add_type(struct hd_ctx *ctx, struct hd_mdev_type_list *l, const char *parent,
                    const char *id)
{
    struct mdev_type *v = hd_array_grow(l->v, &l->cap, l->n, sizeof(*v), 8), *t;
    char *avail;
    long long n = -1;

    if (v == NULL)
        return -ENOMEM;
    l->v = v;
    t = &l->v[l->n];
    memset(t, 0, sizeof(*t));
    if ((t->parent = strdup(parent)) == NULL || (t->id = strdup(id)) == NULL) {
        free(t->parent);
        return -ENOMEM;
    }
    t->name = type_attr(ctx, parent, id, "name");
    t->description = type_attr(ctx, parent, id, "description");
    t->api = type_attr(ctx, parent, id, "device_api");
    avail = type_attr(ctx, parent, id, "available_instances");
    if (avail == NULL || hd_parse_int(avail, 0, 1 << 30, &n) < 0)
        n = -1; /* unreadable: unknown, not none */
    free(avail);
    t->available = (int)n;
    l->n++;
    return 0;
}

/* The names in a sysfs directory that may be used in a path, sorted (hd_fs_list_dir() sorts);
 * none when it is absent. */
static int names_in(struct hd_ctx *ctx, const char *path, char ***names, size_t *n)
{
    int r = hd_fs_list_dir(ctx, path, names, n);

    if (r == -ENOENT) {
        *names = NULL;
        *n = 0;
        return 0;
    }
    if (r < 0)
        return r;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (hd_name_valid((*names)[i]) && strlen((*names)[i]) < HD_DRIVER_NAME_MAX)
            (*names)[k++] = (*names)[i];
        else
            free((*names)[i]);
    }
    *n = k;
    return 0;
}

static void names_free(char **names, size_t n)
{
    hd_strv_free(names, n);
}

int hd_mdev_scan(struct hd_ctx *ctx, const char *top, const char *middle,
                 int (*fn)(void *data, const char *parent, const char *name), void *data)
{
    char **parents = NULL, path[HD_PATH_MAX];
    size_t np = 0;
    int r = names_in(ctx, top, &parents, &np);

    for (size_t i = 0; r == 0 && i < np; i++) {
        char **names = NULL;
        size_t n = 0;
        if ((r = hd_path(path, sizeof(path), "%s/%s%s%s", top, parents[i], middle ? "/" : "",
                         middle ? middle : "")) == 0 &&
            (r = names_in(ctx, path, &names, &n)) == -ENOTDIR)
            r = 0; /* a stray file beside the parents' directories */
        for (size_t k = 0; r == 0 && k < n; k++)
            r = fn(data, parents[i], names[k]);
        names_free(names, n);
    }
    names_free(parents, np);
    return r;
}

struct type_scan {
    struct hd_ctx *ctx;
    struct hd_mdev_type_list *l;
};

static int scan_type(void *data, const char *parent, const char *id)
{
    struct type_scan *s = data;

    return add_type(s->ctx, s->l, parent, id);
}

HD_EXPORT int hd_mdev_type_list_new(struct hd_ctx *ctx, struct hd_mdev_type_list **out)
{
    struct hd_mdev_type_list *l = calloc(1, sizeof(*l));
    struct type_scan scan = {ctx, l};
    int r;

    *out = NULL;
    if (l == NULL)
        return -ENOMEM;
    hd_ref_init(&l->refcount);
    r = hd_mdev_scan(ctx, "sys/class/mdev_bus", "mdev_supported_types", scan_type, &scan);
    if (r < 0) {
        hd_mdev_type_list_unref(l);
        hd_err(ctx, r, "reading the mediated device types under %s/sys/class/mdev_bus: %s",
               ctx->root, strerror(-r));
        return r;
    }
    *out = l;
    return 0;
}

HD_EXPORT struct hd_mdev_type_list *hd_mdev_type_list_ref(struct hd_mdev_type_list *l)
{
    if (l != NULL)
        hd_ref_take(&l->refcount);
    return l;
}

HD_EXPORT struct hd_mdev_type_list *hd_mdev_type_list_unref(struct hd_mdev_type_list *l)
{
    if (l == NULL || !hd_ref_drop(&l->refcount))
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].parent);
        free(l->v[i].id);
        free(l->v[i].name);
        free(l->v[i].description);
        free(l->v[i].api);
    }
    free(l->v);
    free(l);
    return NULL;
}

HD_EXPORT size_t hd_mdev_type_list_count(const struct hd_mdev_type_list *l)
{
    return l ? l->n : 0;
}

HD_LIST_STRING_FIELD(hd_mdev_type_list, hd_mdev_type_list_get_parent, parent)
HD_LIST_STRING_FIELD(hd_mdev_type_list, hd_mdev_type_list_get_id, id)
HD_LIST_STRING_FIELD(hd_mdev_type_list, hd_mdev_type_list_get_name, name)
HD_LIST_STRING_FIELD(hd_mdev_type_list, hd_mdev_type_list_get_description, description)
HD_LIST_STRING_FIELD(hd_mdev_type_list, hd_mdev_type_list_get_device_api, api)

HD_EXPORT int hd_mdev_type_list_get_available(const struct hd_mdev_type_list *l, size_t i)
{
    return l != NULL && i < l->n ? l->v[i].available : -1;
}

/* ---- the devices ------------------------------------------------------------------------- */

struct mdev {
    char uuid[37];
    char parent[HD_DRIVER_NAME_MAX], type[HD_DRIVER_NAME_MAX], driver[HD_DRIVER_NAME_MAX];
    int group;
};

struct hd_mdev_list {
    atomic_int refcount;
    struct mdev *v;
    size_t n, cap;
};

/* What sysfs says of mediated device @uuid: -ENOENT when there is none. */
static int mdev_read(struct hd_ctx *ctx, const char *uuid, struct mdev *m)
{
    char path[HD_PATH_MAX], target[HD_PATH_MAX], group[32];
    const char *end, *start;
    ssize_t n;
    int r;

    memset(m, 0, sizeof(*m));
    hd_strlcpy(m->uuid, uuid, sizeof(m->uuid));
    if ((r = hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s", uuid)) < 0)
        return r;
    /* ../../../devices/virtual/mtty/mtty/UUID: the parent is the directory it is in. */
    if ((n = hd_fs_read_link(ctx, path, target, sizeof(target))) < 0)
        return (int)n;
    end = strrchr(target, '/');
    for (start = end; start != NULL && start > target && start[-1] != '/'; start--)
        ;
    if (end == NULL || start == NULL || (size_t)(end - start) >= sizeof(m->parent))
        return -EINVAL;
    memcpy(m->parent, start, (size_t)(end - start));
    m->parent[end - start] = '\0';
    if ((r = hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/mdev_type", uuid)) < 0 ||
        (r = hd_fs_link_basename(ctx, path, m->type, sizeof(m->type))) < 0)
        return r;
    if (hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/driver", uuid) < 0 ||
        hd_fs_link_basename(ctx, path, m->driver, sizeof(m->driver)) < 0)
        m->driver[0] = '\0';
    long long g = -1;
    if (hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/iommu_group", uuid) < 0 ||
        hd_fs_link_basename(ctx, path, group, sizeof(group)) < 0 ||
        hd_parse_int(group, 0, 1 << 30, &g) < 0)
        g = -1;
    m->group = (int)g;
    if (!hd_name_valid(m->parent) || !hd_name_valid(m->type))
        return -EINVAL;
    return 0;
}

HD_EXPORT int hd_mdev_list_new(struct hd_ctx *ctx, struct hd_mdev_list **out)
{
    struct hd_mdev_list *l = calloc(1, sizeof(*l));
    char **names = NULL, uuid[37];
    size_t n = 0;
    int r;

    *out = NULL;
    if (l == NULL)
        return -ENOMEM;
    hd_ref_init(&l->refcount);
    r = names_in(ctx, "sys/bus/mdev/devices", &names, &n);
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct mdev *v;
        if (hd_mdev_uuid_parse(names[i], uuid) < 0)
            continue; /* not a name the kernel gives an mdev */
        if ((v = hd_array_grow(l->v, &l->cap, l->n, sizeof(*v), 8)) == NULL) {
            r = -ENOMEM;
            break;
        }
        l->v = v;
        r = mdev_read(ctx, names[i], &l->v[l->n]);
        if (r == -ENOENT) /* removed meanwhile */
            r = 0;
        else if (r == 0)
            l->n++;
    }
    names_free(names, n);
    if (r < 0) {
        hd_mdev_list_unref(l);
        hd_err(ctx, r, "reading the mediated devices under %s/sys/bus/mdev/devices: %s",
               ctx->root, strerror(-r));
        return r;
    }
    *out = l;
    return 0;
}

HD_PLAIN_LIST_REFS(hd_mdev_list, hd_mdev_list)
HD_LIST_STRING_FIELD(hd_mdev_list, hd_mdev_list_get_uuid, uuid)
HD_LIST_STRING_FIELD(hd_mdev_list, hd_mdev_list_get_parent, parent)
HD_LIST_STRING_FIELD(hd_mdev_list, hd_mdev_list_get_type, type)

HD_EXPORT const char *hd_mdev_list_get_driver(const struct hd_mdev_list *l, size_t i)
{
    return l != NULL && i < l->n && l->v[i].driver[0] ? l->v[i].driver : NULL;
}

HD_EXPORT int hd_mdev_list_get_iommu_group(const struct hd_mdev_list *l, size_t i)
{
    return l != NULL && i < l->n ? l->v[i].group : -1;
}

int hd_mdev_lookup(struct hd_ctx *ctx, const char *uuid, struct hd_mdev_info *info)
{
    char path[HD_PATH_MAX], **names = NULL;
    struct mdev m;
    size_t n = 0;
    int r = mdev_read(ctx, uuid, &m);

    memset(info, 0, sizeof(*info));
    if (r == -ENOENT)
        return hd_errr(ctx, r, HD_REASON_NO_DEVICE, "there is no mediated device %s under %s",
                       uuid, ctx->root);
    if (r < 0)
        return hd_err(ctx, r, "reading mediated device %s: %s", uuid, strerror(-r));
    hd_strlcpy(info->parent, m.parent, sizeof(info->parent));
    info->group = m.group;
    /* Its VFIO cdev (kernels with CONFIG_VFIO_DEVICE_CDEV): vfio-dev/vfioN, as for PCI. */
    if ((r = hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/vfio-dev", uuid)) < 0 ||
        ((r = names_in(ctx, path, &names, &n)) < 0 && r != -ENOTDIR))
        return r;
    for (size_t i = 0; i < n && !info->cdev[0]; i++) {
        if (strncmp(names[i], "vfio", 4) == 0 && strlen(names[i]) < sizeof(info->cdev))
            strcpy(info->cdev, names[i]);
    }
    names_free(names, n);
    return 0;
}

/* ---- the single writes, verified --------------------------------------------------------- */

static int exists(struct hd_ctx *ctx, const char *uuid)
{
    char path[HD_PATH_MAX];
    int r = hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s", uuid);

    return r < 0 ? r : hd_fs_exists(ctx, path);
}

static int write_create(struct hd_ctx *ctx, const char *parent, const char *type,
                        const char *uuid)
{
    char path[HD_PATH_MAX], dev[HD_PATH_MAX];
    int r = hd_path(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
                    parent, type);

    if (r == 0 && (r = hd_fs_write_attr_timeout(ctx, path, uuid, ctx->timeout_ms)) < 0)
        return hd_err(ctx, r, "creating mediated device %s of type %s on %s failed: %s%s", uuid,
                      type, parent, strerror(-r),
                      r == -EUSERS ? " (no instance of that type is left)" : "");
    if (r == 0 && (r = hd_path(dev, sizeof(dev), "sys/bus/mdev/devices/%s", uuid)) == 0 &&
        hd_fs_wait_for(ctx, dev, true, ctx->timeout_ms) < 0)
        r = hd_err(ctx, -EIO, "%s: the kernel took the create of %s but %s/%s did not appear",
                   parent, uuid, ctx->root, dev);
    return r;
}

static int write_remove(struct hd_ctx *ctx, const char *uuid)
{
    char path[HD_PATH_MAX], dev[HD_PATH_MAX];
    int r = hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/remove", uuid);

    /* The kernel's remove waits while a VM has the device open: bounded, as an unbind. */
    if (r == 0 && (r = hd_fs_write_attr_timeout(ctx, path, "1", ctx->timeout_ms)) < 0)
        return hd_err(ctx, r, "removing mediated device %s failed: %s%s", uuid, strerror(-r),
                      r == -EBUSY || r == -ETIMEDOUT ? " (a VM has it open)" : "");
    if (r == 0 && (r = hd_path(dev, sizeof(dev), "sys/bus/mdev/devices/%s", uuid)) == 0 &&
        hd_fs_wait_for(ctx, dev, false, ctx->timeout_ms) < 0)
        r = hd_err(ctx, -EIO, "the kernel took the remove of %s but %s/%s is still there", uuid,
                   ctx->root, dev);
    return r;
}

int hd_mdev_undo(struct hd_ctx *ctx, const struct hd_jstep *s)
{
    int there = exists(ctx, s->mdev_uuid);

    if (there < 0)
        return there;
    if (s->kind == HD_JSTEP_MDEV_CREATE)
        return there ? write_remove(ctx, s->mdev_uuid) : 0;
    return there ? 0 : write_create(ctx, s->mdev_parent, s->mdev_type, s->mdev_uuid);
}

/* ---- the operations ---------------------------------------------------------------------- */

static void txn_init(struct hd_txn *t, struct hd_op *op)
{
    memset(t, 0, sizeof(*t));
    t->ctx = hd_op_ctx(op);
    t->op = op;
    t->kind = HD_JOP_MDEV;
    t->dry_run = hd_op_request(op)->flags & HD_OP_DRY_RUN;
}

/* Journal @s, then do it: the one write of either operation. */
static int run_step(struct hd_txn *t, const struct hd_jstep *s)
{
    int r;

    /* No PCI device is touched: no group to lock; a crash is for recover, as any other. */
    if ((r = hd_txn_lock(t, NULL, 0)) < 0 || (r = hd_txn_begin(t, NULL, 0)) < 0 ||
        (r = hd_txn_step(t, s)) < 0)
        return hd_txn_abort(t, r);
    if (r == 1)
        r = s->kind == HD_JSTEP_MDEV_CREATE ? write_create(t->ctx, s->mdev_parent, s->mdev_type,
                                                           s->mdev_uuid)
                                            : write_remove(t->ctx, s->mdev_uuid);
    return r < 0 ? hd_txn_abort(t, r) : hd_txn_commit(t);
}

int hd_ops_mdev_create(struct hd_op *op)
{
    const struct hd_op_request *req = hd_op_request(op);
    struct hd_jstep s = {.kind = HD_JSTEP_MDEV_CREATE};
    struct hd_mdev_type_list *types;
    struct hd_txn t;
    int r, available = -2;

    txn_init(&t, op);
    if (!req->mdev_parent[0] || !req->mdev_type[0] || !req->mdev_uuid[0])
        return hd_errr(t.ctx, -EINVAL, HD_REASON_INVALID,
                       "creating a mediated device needs its parent and type");
    if ((r = hd_mdev_type_list_new(t.ctx, &types)) < 0)
        return r;
    for (size_t i = 0; i < types->n; i++) {
        if (strcmp(types->v[i].parent, req->mdev_parent) == 0 &&
            strcmp(types->v[i].id, req->mdev_type) == 0)
            available = types->v[i].available;
    }
    hd_mdev_type_list_unref(types);
    if (available == -2)
        return hd_errr(t.ctx, -ENOENT, HD_REASON_NO_DEVICE, "%s offers no mediated device type "
                       "%s (see the types it has in %s/sys/class/mdev_bus/%s/mdev_supported_types)",
                       req->mdev_parent, req->mdev_type, t.ctx->root, req->mdev_parent);
    if (available == 0)
        return hd_errr(t.ctx, -EUSERS, HD_REASON_FAILED, "%s has no instance of type %s left "
                       "(available_instances is 0)", req->mdev_parent, req->mdev_type);
    if ((r = exists(t.ctx, req->mdev_uuid)) != 0)
        return r < 0 ? r : hd_errr(t.ctx, -EEXIST, HD_REASON_INVALID, "mediated device %s "
                                   "exists already", req->mdev_uuid);
    hd_strlcpy(s.mdev_parent, req->mdev_parent, sizeof(s.mdev_parent));
    hd_strlcpy(s.mdev_type, req->mdev_type, sizeof(s.mdev_type));
    hd_strlcpy(s.mdev_uuid, req->mdev_uuid, sizeof(s.mdev_uuid));
    return run_step(&t, &s);
}

int hd_ops_mdev_remove(struct hd_op *op)
{
    const struct hd_op_request *req = hd_op_request(op);
    struct hd_jstep s = {.kind = HD_JSTEP_MDEV_REMOVE};
    struct mdev m;
    struct hd_txn t;
    int r;

    txn_init(&t, op);
    if (!req->mdev_uuid[0])
        return hd_errr(t.ctx, -EINVAL, HD_REASON_INVALID,
                       "removing a mediated device needs its UUID");
    r = mdev_read(t.ctx, req->mdev_uuid, &m);
    if (r == -ENOENT)
        return hd_errr(t.ctx, r, HD_REASON_NO_DEVICE, "there is no mediated device %s",
                       req->mdev_uuid);
    if (r < 0)
        return hd_err(t.ctx, r, "reading mediated device %s: %s", req->mdev_uuid, strerror(-r));
    /* A VM's device goes only with its release: the map is consulted first. */
    struct hd_assignment_list *map = NULL;
    const struct hd_assignment *a;
    if ((r = hd_map_read(t.ctx, &map)) < 0)
        return r;
    if ((a = hd_map_find_mdev(map, m.uuid)) != NULL) {
        r = hd_errr(t.ctx, -EBUSY, HD_REASON_HELD, "mediated device %s is assigned to vm %s: "
                    "release it first", m.uuid, a->vm);
        hd_assignment_list_unref(map);
        return r;
    }
    hd_assignment_list_unref(map);
    /* What it was, so that an undo makes it again the same. */
    hd_strlcpy(s.mdev_parent, m.parent, sizeof(s.mdev_parent));
    hd_strlcpy(s.mdev_type, m.type, sizeof(s.mdev_type));
    hd_strlcpy(s.mdev_uuid, m.uuid, sizeof(s.mdev_uuid));
    return run_step(&t, &s);
}
