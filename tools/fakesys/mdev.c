/* mdev.c - mediated devices, as drivers/vfio/mdev lays them out: a parent (a PCI device, or a
 * virtual one such as the mtty sample's devices/virtual/mtty/mtty) lists its types under
 * mdev_supported_types/ID (name, description, device_api, available_instances, create,
 * devices/), and is linked from class/mdev_bus; writing a UUID to a type's create makes
 * PARENT/UUID (mdev_type, remove, iommu_group, driver, uevent), bus/mdev/devices/UUID and,
 * since vfio registers mdevs with an emulated IOMMU, a group of its own with dev/vfio/N.
 * Writing 1 to remove takes it all away again (-EBUSY while a VM holds the group open). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

int mdev_type_add(struct kernel *k, const char *parent, const char *id, struct mdev_type **out,
                  char *err, size_t errsz)
{
    const char *dash = strchr(id, '-');

    /* The kernel names a type "<driver>-<its own name>" and uses it as a directory name. */
    if (dash == NULL || dash == id || dash[1] == '\0' || strchr(id, '/') || strchr(parent, '/')) {
        snprintf(err, errsz, "mdev type '%s' of '%s': want PARENT DRIVER-NAME", id, parent);
        return -EINVAL;
    }
    if (strchr(parent, ':') != NULL) {
        struct device *dev = device_find_name(k, parent, strlen(parent));
        if (dev == NULL) {
            snprintf(err, errsz, "mdev type %s: no device %s (declare it first)", id, parent);
            return -EINVAL;
        }
    }
    if (mdev_type_find(k, parent, id) != NULL) {
        snprintf(err, errsz, "mdev type %s of %s is given twice", id, parent);
        return -EINVAL;
    }
    struct mdev_type *t = xcalloc(1, sizeof(*t));
    t->parent = xstrdup(parent);
    t->id = xstrdup(id);
    t->api = xstrdup("vfio-pci");
    t->max = 1;
    k->mtypes = xrealloc(k->mtypes, (k->nmtypes + 1) * sizeof(*k->mtypes));
    k->mtypes[k->nmtypes++] = t;
    k->dirty = true;
    *out = t;
    return 0;
}

struct mdev_type *mdev_type_find(const struct kernel *k, const char *parent, const char *id)
{
    for (size_t i = 0; i < k->nmtypes; i++) {
        if (strcmp(k->mtypes[i]->parent, parent) == 0 && strcmp(k->mtypes[i]->id, id) == 0)
            return k->mtypes[i];
    }
    return NULL;
}

static int type_count(const struct kernel *k, const struct mdev_type *t)
{
    int n = 0;

    for (size_t i = 0; i < k->nmdevs; i++)
        n += k->mdevs[i]->type == t;
    return n;
}

static struct mdev *mdev_find(const struct kernel *k, const char *uuid)
{
    for (size_t i = 0; i < k->nmdevs; i++) {
        if (strcasecmp(k->mdevs[i]->uuid, uuid) == 0)
            return k->mdevs[i];
    }
    return NULL;
}

/* uuid_parse(): 8-4-4-4-12 hex digits; stored in lower case, as the kernel prints %pUl. */
static bool uuid_parse(const char *s, size_t len, char out[37])
{
    if (len > 0 && s[len - 1] == '\n')
        len--;
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                                (c >= 'A' && c <= 'F')))
            return false;
        out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    out[36] = '\0';
    return true;
}

/* As the kernel's uevent for the mdev bus says it (kernel_uevent's form). */
static void mdev_uevent(struct kernel *k, const char *action, const struct mdev *m)
{
    char *ppath = mdev_parent_path(k, m->type->parent);

    buf_printf(&k->uevents, "%s@/%s/%s ACTION=%s DEVPATH=/%s/%s SUBSYSTEM=mdev MDEV_TYPE=%s "
               "SEQNUM=%llu\n", action, ppath + 4, m->uuid, action, ppath + 4, m->uuid,
               m->type->id, ++k->seqnum);
    free(ppath);
}

int mdev_create(struct kernel *k, struct mdev_type *t, const char *uuid)
{
    char id[37];

    if (!uuid_parse(uuid, strlen(uuid), id))
        return -EINVAL;
    if (mdev_find(k, id) != NULL)
        return -EEXIST;
    if (type_count(k, t) >= t->max)
        return -EUSERS;
    struct mdev *m = xcalloc(1, sizeof(*m));
    memcpy(m->uuid, id, sizeof(m->uuid));
    m->type = t;
    m->group = group_alloc(k);
    k->mdevs = xrealloc(k->mdevs, (k->nmdevs + 1) * sizeof(*k->mdevs));
    k->mdevs[k->nmdevs++] = m;
    /* devtmpfs makes the group's node root:root 0600. */
    k->gnodes = xrealloc(k->gnodes, (k->ngnodes + 1) * sizeof(*k->gnodes));
    k->gnodes[k->ngnodes++] = (struct group_node){.group = m->group, .perm = {0600, 0, 0}};
    kernel_log(k, "mdev-create %s %s %s group %d", m->uuid, t->parent, t->id, m->group);
    mdev_uevent(k, "add", m);
    k->dirty = true;
    return 0;
}

static int create_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    char id[37];

    if (!uuid_parse(data, len, id))
        return -EINVAL;
    return mdev_create(k, obj, id);
}

/* Take mdev @i away with its group's node, logged (@why: "" or " (...)") and announced. */
static void mdev_drop(struct kernel *k, size_t i, const char *why)
{
    struct mdev *m = k->mdevs[i];
    struct group_node *gn = group_node_find(k, m->group);

    if (gn != NULL)
        *gn = k->gnodes[--k->ngnodes];
    kernel_log(k, "mdev-remove %s%s", m->uuid, why);
    mdev_uevent(k, "remove", m);
    memmove(&k->mdevs[i], &k->mdevs[i + 1], (k->nmdevs - i - 1) * sizeof(*k->mdevs));
    k->nmdevs--;
    free(m);
    k->dirty = true;
}

static int remove_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    struct mdev *m = obj;
    bool yes;
    size_t i;

    (void)len;
    if (hd_kstrtobool(data, &yes) < 0)
        return -EINVAL;
    if (!yes)
        return 0;
    for (i = 0; i < k->nmdevs && k->mdevs[i] != m; i++)
        ;
    if (i == k->nmdevs)
        return -ENODEV;
    struct group_node *gn = group_node_find(k, m->group);
    if (gn != NULL && gn->open)
        return -EBUSY; /* the vfio device is open: the kernel's remove would wait for it */
    mdev_drop(k, i, "");
    return 0;
}

static void type_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    const struct mdev_type *t = obj;
    const char *v = strcmp(a->name, "name") == 0          ? t->name
                    : strcmp(a->name, "description") == 0 ? t->description
                                                          : t->api;

    (void)k;
    buf_printf(out, "%s\n", v ? v : "");
}

static void available_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    buf_printf(out, "%d\n", ((struct mdev_type *)obj)->max - type_count(k, obj));
}

static void mdev_uevent_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    const struct mdev *m = obj;
    const char *dash = strchr(m->type->id, '-');

    (void)k;
    (void)a;
    buf_printf(out, "DRIVER=%.*s\nMDEV_TYPE=%s\n", (int)(dash - m->type->id), m->type->id,
               m->type->id);
}

static const struct attr a_name = {.name = "name", .mode = 0444, .show = type_show};
static const struct attr a_description = {.name = "description", .mode = 0444, .show = type_show};
static const struct attr a_api = {.name = "device_api", .mode = 0444, .show = type_show};
static const struct attr a_available = {
    .name = "available_instances", .mode = 0444, .show = available_show};
static const struct attr a_create = {.name = "create", .mode = 0200, .store = create_store};
static const struct attr a_remove = {.name = "remove", .mode = 0200, .store = remove_store};
static const struct attr a_uevent = {.name = "uevent", .mode = 0644, .show = mdev_uevent_show};

/* A PCI parent offers its types only while the driver the type is named after is bound: that
 * driver registered it with the mdev core. A virtual parent always does. */
static bool offered(const struct kernel *k, const struct mdev_type *t)
{
    const struct device *dev;
    const char *dash = strchr(t->id, '-');

    if (strchr(t->parent, ':') == NULL)
        return true;
    dev = device_find_name(k, t->parent, strlen(t->parent));
    return dev != NULL && dev->driver != NULL &&
           strlen(dev->driver->name) == (size_t)(dash - t->id) &&
           strncmp(dev->driver->name, t->id, (size_t)(dash - t->id)) == 0;
}

void mdev_parent_unbound(struct kernel *k, const struct device *dev)
{
    char why[64];

    /* The parent driver's remove() unregisters the parent: its mdevs go with it. */
    snprintf(why, sizeof(why), " (its parent %s left its driver)", dev->name);
    for (size_t i = k->nmdevs; i-- > 0;) {
        if (strcmp(k->mdevs[i]->type->parent, dev->name) == 0)
            mdev_drop(k, i, why);
    }
}

char *mdev_parent_path(const struct kernel *k, const char *parent)
{
    struct device *dev = strchr(parent, ':') ? device_find_name(k, parent, strlen(parent)) : NULL;

    if (dev != NULL)
        return device_path(dev);
    return xasprintf("sys/devices/virtual/%s/%s", parent, parent);
}

void mdev_build_sys(struct kernel *k)
{
    char target[128];

    if (k->nmtypes > 0) {
        tree_mkdirs(k->root, "sys/bus/mdev/devices");
        tree_mkdirs(k->root, "sys/class/mdev_bus");
    }
    for (size_t i = 0; i < k->nmtypes; i++) {
        struct mdev_type *t = k->mtypes[i];
        char *ppath = mdev_parent_path(k, t->parent), *tpath;
        const char *dash = strchr(t->id, '-');
        /* A parent whose PCI device went away, or is off its driver, offers nothing. */
        if (!offered(k, t)) {
            free(ppath);
            continue;
        }
        struct node *pdir = tree_mkdirs(k->root, ppath);
        struct node *td = tree_mkdirs(tree_mkdirs(pdir, "mdev_supported_types"), t->id);
        tree_attr(td, &a_name, t);
        tree_attr(td, &a_description, t);
        tree_attr(td, &a_api, t);
        tree_attr(td, &a_available, t);
        tree_attr(td, &a_create, t);
        tree_mkdirs(td, "devices");
        tree_link_to(tree_mkdirs(k->root, "sys/class/mdev_bus"), t->parent, ppath);
        snprintf(target, sizeof(target), "sys/bus/mdev/drivers/%.*s", (int)(dash - t->id), t->id);
        tree_mkdirs(k->root, target);
        tpath = tree_path(td);
        for (size_t j = 0; j < k->nmdevs; j++) {
            struct mdev *m = k->mdevs[j];
            if (m->type != t)
                continue;
            struct node *md = tree_mkdirs(pdir, m->uuid);
            char *mpath = tree_path(md);
            tree_link_to(md, "mdev_type", tpath);
            tree_attr(md, &a_remove, m);
            tree_attr(md, &a_uevent, m);
            tree_link_to(md, "subsystem", "sys/bus/mdev");
            tree_link_to(md, "driver", target);
            tree_link_to(tree_mkdirs(k->root, target), m->uuid, mpath);
            tree_link_to(tree_mkdirs(td, "devices"), m->uuid, mpath);
            tree_link_to(tree_mkdirs(k->root, "sys/bus/mdev/devices"), m->uuid, mpath);
            char gpath[64];
            snprintf(gpath, sizeof(gpath), "sys/kernel/iommu_groups/%d", m->group);
            tree_link_to(md, "iommu_group", gpath);
            tree_link_to(tree_mkdirs(tree_mkdirs(k->root, gpath), "devices"), m->uuid, mpath);
            free(mpath);
        }
        free(tpath);
        free(ppath);
    }
}

void mdev_free_all(struct kernel *k)
{
    for (size_t i = 0; i < k->nmdevs; i++)
        free(k->mdevs[i]);
    for (size_t i = 0; i < k->nmtypes; i++) {
        free(k->mtypes[i]->parent);
        free(k->mtypes[i]->id);
        free(k->mtypes[i]->name);
        free(k->mtypes[i]->description);
        free(k->mtypes[i]->api);
        free(k->mtypes[i]);
    }
    free(k->mdevs);
    free(k->mtypes);
}
