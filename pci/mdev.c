/* mdev.c - mediated devices (drivers/vfio/mdev) as sysfs shows them: the types parents offer
 * (class/mdev_bus/PARENT/mdev_supported_types/TYPE) and the devices made of them
 * (bus/mdev/devices/UUID). Node devices list them too; the engine's operations on them are
 * core/mdev-ops.c. Every name read from sysfs is checked before it becomes part of a path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "pci.h"

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

int hd_mdev_parent_name(const char *text, char buf[HD_DRIVER_NAME_MAX])
{
    struct hd_pci_addr a;

    if (text == NULL)
        return -EINVAL;
    if (hd_pci_addr_parse(text, &a) == 0) {
        hd_pci_addr_format(&a, buf);
        return 0;
    }
    if (!hd_name_valid(text) || strlen(text) >= HD_DRIVER_NAME_MAX)
        return -EINVAL;
    strcpy(buf, text);
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

/* hd_mdev_scan() of one @parent (a valid name). */
static int scan_parent(struct hd_ctx *ctx, const char *top, const char *parent,
                       const char *middle, int (*fn)(void *data, const char *parent,
                                                     const char *name), void *data)
{
    char **names = NULL, path[HD_PATH_MAX];
    size_t n = 0;
    int r;

    if ((r = hd_path(path, sizeof(path), "%s/%s%s%s", top, parent, middle ? "/" : "",
                     middle ? middle : "")) == 0 &&
        (r = names_in(ctx, path, &names, &n)) == -ENOTDIR)
        r = 0; /* a stray file beside the parents' directories */
    for (size_t k = 0; r == 0 && k < n; k++)
        r = fn(data, parent, names[k]);
    names_free(names, n);
    return r;
}

int hd_mdev_scan(struct hd_ctx *ctx, const char *top, const char *middle,
                 int (*fn)(void *data, const char *parent, const char *name), void *data)
{
    char **parents = NULL;
    size_t np = 0;
    int r = names_in(ctx, top, &parents, &np);

    for (size_t i = 0; r == 0 && i < np; i++)
        r = scan_parent(ctx, top, parents[i], middle, fn, data);
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

HD_EXPORT int hd_mdev_type_list_new_for_parent(struct hd_ctx *ctx, const char *parent,
                                               struct hd_mdev_type_list **out)
{
    static const char top[] = "sys/class/mdev_bus", middle[] = "mdev_supported_types";
    struct hd_mdev_type_list *l;
    struct type_scan scan;
    int r;

    *out = NULL;
    /* A name that could not be a parent's (and could not be in a path) offers nothing. */
    if (parent != NULL && (!hd_name_valid(parent) || strlen(parent) >= HD_DRIVER_NAME_MAX))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a device name", parent);
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return -ENOMEM;
    hd_ref_init(&l->refcount);
    scan = (struct type_scan){ctx, l};
    r = parent != NULL ? scan_parent(ctx, top, parent, middle, scan_type, &scan)
                       : hd_mdev_scan(ctx, top, middle, scan_type, &scan);
    if (r == -ENOENT && parent != NULL)
        r = 0; /* no such parent: no types */
    if (r < 0) {
        hd_mdev_type_list_unref(l);
        hd_err(ctx, r, "reading the mediated device types under %s/sys/class/mdev_bus: %s",
               hd_ctx_get_root(ctx), strerror(-r));
        return r;
    }
    *out = l;
    return 0;
}

HD_EXPORT int hd_mdev_type_list_new(struct hd_ctx *ctx, struct hd_mdev_type_list **out)
{
    return hd_mdev_type_list_new_for_parent(ctx, NULL, out);
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

struct hd_mdev_list {
    atomic_int refcount;
    struct hd_mdev *v;
    size_t n, cap;
};

int hd_mdev_read(struct hd_ctx *ctx, const char *uuid, struct hd_mdev *m)
{
    char path[HD_PATH_MAX], target[HD_PATH_MAX];
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
    if ((r = hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/iommu_group", uuid)) < 0 ||
        ((r = hd_sysfs_read_group_link(ctx, uuid, path, &m->group)) < 0 && r != -ENOENT))
        return r;
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
        struct hd_mdev *v;
        if (hd_mdev_uuid_parse(names[i], uuid) < 0)
            continue; /* not a name the kernel gives an mdev */
        if ((v = hd_array_grow(l->v, &l->cap, l->n, sizeof(*v), 8)) == NULL) {
            r = -ENOMEM;
            break;
        }
        l->v = v;
        r = hd_mdev_read(ctx, names[i], &l->v[l->n]);
        if (r == -ENOENT) /* removed meanwhile */
            r = 0;
        else if (r < 0 && hd_ctx_last_reason(ctx) == HD_REASON_INVALID) {
            /* Bad sysfs contents: left out, said, and not the listing's reason. */
            hd_warn(ctx, "%s", hd_ctx_last_error(ctx));
            hd_ctx_clear_error(ctx);
            r = 0;
        }
        else if (r == 0)
            l->n++;
    }
    names_free(names, n);
    if (r < 0) {
        hd_mdev_list_unref(l);
        hd_err(ctx, r, "reading the mediated devices under %s/sys/bus/mdev/devices: %s",
               hd_ctx_get_root(ctx), strerror(-r));
        return r;
    }
    *out = l;
    return 0;
}

/* hd_mdev_read() for one device asked for by name: its reasons and messages. */
static int read_one(struct hd_ctx *ctx, const char *uuid, struct hd_mdev *m)
{
    int r = hd_mdev_read(ctx, uuid, m);

    if (r == -ENOENT)
        return hd_errr(ctx, r, HD_REASON_NO_DEVICE, "%s: no such mediated device under %s", uuid,
                       hd_ctx_get_root(ctx));
    if (r < 0 && hd_ctx_last_reason(ctx) == HD_REASON_INVALID)
        return r; /* its message names the device and the link */
    if (r < 0)
        return hd_err(ctx, r, "reading mediated device %s: %s", uuid, strerror(-r));
    return 0;
}

HD_EXPORT int hd_mdev_list_new_uuid(struct hd_ctx *ctx, const char *uuid,
                                    struct hd_mdev_list **out)
{
    struct hd_mdev_list *l;
    char canon[37];
    int r;

    *out = NULL;
    if (hd_mdev_uuid_parse(uuid, canon) < 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a UUID",
                       uuid ? uuid : "");
    if ((l = calloc(1, sizeof(*l))) == NULL || (l->v = calloc(1, sizeof(*l->v))) == NULL) {
        free(l);
        return hd_err(ctx, -ENOMEM, "%s: out of memory", canon);
    }
    hd_ref_init(&l->refcount);
    l->cap = 1;
    if ((r = read_one(ctx, canon, &l->v[0])) < 0) {
        hd_mdev_list_unref(l);
        return r;
    }
    l->n = 1;
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
    struct hd_mdev m;
    size_t n = 0;
    int r = read_one(ctx, uuid, &m);

    memset(info, 0, sizeof(*info));
    if (r < 0)
        return r;
    hd_strlcpy(info->parent, m.parent, sizeof(info->parent));
    hd_strlcpy(info->driver, m.driver, sizeof(info->driver));
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

