/* nodedev.c - libvirt's node devices: every device of every capability, its name and parent. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nodedev.h"

static const char *const cap_names[HD_CAP_LAST] = {
    [HD_CAP_SYSTEM] = "system",
    [HD_CAP_PCI] = "pci",
    [HD_CAP_USB_DEVICE] = "usb_device",
    [HD_CAP_USB_INTERFACE] = "usb",
    [HD_CAP_NET] = "net",
    [HD_CAP_SCSI_HOST] = "scsi_host",
    [HD_CAP_SCSI_TARGET] = "scsi_target",
    [HD_CAP_SCSI] = "scsi",
    [HD_CAP_STORAGE] = "storage",
    [HD_CAP_FC_HOST] = "fc_host",
    [HD_CAP_VPORTS] = "vports",
    [HD_CAP_SCSI_GENERIC] = "scsi_generic",
    [HD_CAP_DRM] = "drm",
    [HD_CAP_MDEV_TYPES] = "mdev_types",
    [HD_CAP_MDEV] = "mdev",
};

HD_EXPORT const char *hd_nodedev_cap_to_string(enum hd_nodedev_cap cap)
{
    return (unsigned)cap < HD_CAP_LAST ? cap_names[cap] : NULL;
}

HD_EXPORT int hd_nodedev_cap_from_string(const char *name)
{
    for (int i = 0; name != NULL && i < HD_CAP_LAST; i++) {
        if (strcmp(cap_names[i], name) == 0)
            return i;
    }
    return -EINVAL;
}

struct hd_nodedev {
    atomic_int refcount;
    struct hd_ctx *ctx;
    enum hd_nodedev_cap cap;
    char *name;
    char *parent;  /* NULL only for "computer" */
    char *path;    /* the device's directory, relative to the root: "sys/devices/..." */
    char *abspath; /* "/" + path, what <path> shows */
    char *sysname; /* last component of path: "0000:00:1f.2", "1-2:1.0", "sda" */
    char *driver;
    char *devnode;       /* "/dev/..." from uevent DEVNAME */
    const char *caps[4]; /* what virNodeDeviceListCaps reports */
    size_t ncaps;
    struct hd_device *pci; /* HD_CAP_PCI */
    unsigned int source; /* where the listing found it: SOURCE_PCI, else 1 + its sources[] index */
    /* pci: the types it offers as a mediated device parent (the listing's, shared) */
    struct hd_mdev_type_list *mdev_types;
    struct hd_nodedev_props props;
};

/* The families a listing reads, in the order that decides which one a directory is when two
 * claim it: the PCI devices, then each of sources[] (1 + its index). */
#define SOURCE_PCI 0u

struct hd_nodedev_list {
    atomic_int refcount;
    struct hd_nodedev **devs;
    size_t count, cap;
};

static struct hd_nodedev *nodedev_new(struct hd_ctx *ctx, enum hd_nodedev_cap cap, const char *path)
{
    struct hd_nodedev *dev = calloc(1, sizeof(*dev));
    const char *slash = strrchr(path, '/');

    if (dev == NULL)
        return NULL;
    dev->refcount = 1;
    dev->ctx = hd_ctx_ref(ctx);
    dev->cap = cap;
    dev->props.vendor_id = dev->props.product_id = -1;
    dev->props.num[1] = -1; /* scsi_host unique_id */
    dev->path = strdup(path);
    dev->sysname = strdup(slash ? slash + 1 : path);
    if (asprintf(&dev->abspath, "/%s", path) < 0)
        dev->abspath = NULL;
    if (dev->path == NULL || dev->sysname == NULL || dev->abspath == NULL)
        return hd_nodedev_unref(dev);
    dev->caps[dev->ncaps++] = cap_names[cap];
    return dev;
}

HD_EXPORT struct hd_nodedev *hd_nodedev_ref(struct hd_nodedev *dev)
{
    if (dev != NULL)
        atomic_fetch_add_explicit(&dev->refcount, 1, memory_order_relaxed);
    return dev;
}

HD_EXPORT struct hd_nodedev *hd_nodedev_unref(struct hd_nodedev *dev)
{
    /* acq_rel: what other threads did with it happens before the free */
    if (dev == NULL || atomic_fetch_sub_explicit(&dev->refcount, 1, memory_order_acq_rel) > 1)
        return dev;
    char *strings[] = {
        dev->name, dev->parent, dev->path, dev->abspath, dev->sysname, dev->driver, dev->devnode,
    };
    for (size_t i = 0; i < HD_ARRAY_SIZE(strings); i++)
        free(strings[i]);
    hd_nodedev_props_clear(&dev->props);
    hd_device_unref(dev->pci);
    hd_mdev_type_list_unref(dev->mdev_types);
    hd_ctx_unref(dev->ctx);
    free(dev);
    return NULL;
}

/* ---- attribute helpers shared with nodedev-caps.c ---------------------------------------- */

ssize_t hd_nodedev_read_attr(struct hd_nodedev *dev, const char *attr, char *buf, size_t size)
{
    char path[HD_PATH_MAX];

    if (hd_path(path, sizeof(path), "%s/%s", dev->path, attr) < 0)
        return -ENAMETOOLONG;
    return hd_fs_read_attr(dev->ctx, path, buf, size);
}

int hd_nodedev_dup_attr(struct hd_nodedev *dev, const char *attr, char **out)
{
    char buf[HD_ATTR_MAX];
    ssize_t n = hd_nodedev_read_attr(dev, attr, buf, sizeof(buf));

    *out = NULL;
    if (n < 0)
        return n == -ENOMEM ? -ENOMEM : 0;
    /* sysfs strings often carry padding (SCSI vendor and model are space-filled). */
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\n'))
        buf[--n] = '\0';
    if (n == 0)
        return 0;
    return (*out = strdup(buf)) == NULL ? -ENOMEM : 0;
}

int hd_nodedev_uevent(struct hd_nodedev *dev, const char *key, char *buf, size_t size)
{
    char data[HD_ATTR_MAX], *line, *save = NULL;
    size_t klen = strlen(key);
    ssize_t n = hd_nodedev_read_attr(dev, "uevent", data, sizeof(data));

    if (n < 0)
        return (int)n;
    for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            if (strlen(line + klen + 1) >= size)
                return -ENAMETOOLONG;
            strcpy(buf, line + klen + 1);
            return 0;
        }
    }
    return -ENOENT;
}

/* libvirt's names have letters, digits and '_' only: anything else becomes '_'. */
static void name_sanitize(char *name)
{
    for (char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)
            *p = '_';
    }
}

int hd_nodedev_set_name(struct hd_nodedev *dev, const char *subsystem, const char *suffix)
{
    char *name;

    if (asprintf(&name, "%s_%s%s%s", subsystem, dev->sysname, suffix ? "_" : "",
                 suffix ? suffix : "") < 0)
        return -ENOMEM;
    name_sanitize(name);
    free(dev->name);
    dev->name = name;
    return 0;
}

HD_EXPORT int hd_nodedev_name_of(const char *subsystem, const char *sysname, char *buf,
                                 size_t size)
{
    int n = snprintf(buf, size, "%s_%s", subsystem, sysname);

    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    name_sanitize(buf);
    return 0;
}

/* ---- where a device sits in the sysfs tree -------------------------------------------------- */

/* Lexically resolve @entry (a path that may be a symlink, as sys/class/net/eth0 is) to the
 * device directory it stands for, relative to the root. Sysfs links are relative and stay
 * inside sys/, so ".." handling on the text is exact; a plain directory is its own path.
 * -EINVAL for a link that leads out of sys/devices. */
static int resolve_entry(struct hd_ctx *ctx, const char *entry, char *out, size_t size)
{
    char target[HD_PATH_MAX], joined[2 * HD_PATH_MAX];
    char *parts[128], *save = NULL;
    size_t n = 0, used = 0;
    ssize_t len = hd_fs_read_link(ctx, entry, target, sizeof(target));

    if (len == -EINVAL) {
        if (strlen(entry) >= size)
            return -ENAMETOOLONG;
        strcpy(out, entry);
        return 0;
    }
    if (len < 0)
        return (int)len;
    if (target[0] == '/')
        snprintf(joined, sizeof(joined), "%s", target + 1);
    else
        snprintf(joined, sizeof(joined), "%.*s/%s", (int)(strrchr(entry, '/') - entry), entry,
                 target);
    for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            if (n == 0)
                return -EINVAL; /* escapes the root */
            n--;
            continue;
        }
        if (n == HD_ARRAY_SIZE(parts))
            return -ENAMETOOLONG;
        parts[n++] = c;
    }
    /* Every device directory of a kernel lives under sys/devices; a link elsewhere is not one
     * (and may be a trap: /proc/self, /etc). */
    if (n < 3 || strcmp(parts[0], "sys") != 0 || strcmp(parts[1], "devices") != 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + used, size - used, "%s%s", i ? "/" : "", parts[i]);
        if (w < 0 || (size_t)w >= size - used)
            return -ENAMETOOLONG;
        used += (size_t)w;
    }
    return 0;
}

static int list_add(struct hd_nodedev_list *list, struct hd_nodedev *dev)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        struct hd_nodedev **grown = realloc(list->devs, cap * sizeof(*grown));
        if (grown == NULL) {
            hd_nodedev_unref(dev);
            return -ENOMEM;
        }
        list->devs = grown;
        list->cap = cap;
    }
    list->devs[list->count++] = dev;
    return 0;
}

static struct hd_nodedev *find_by_path(const struct hd_nodedev_list *list, const char *path)
{
    for (size_t k = 0; k < list->count; k++) {
        if (list->devs[k]->cap != HD_CAP_SYSTEM && strcmp(list->devs[k]->path, path) == 0)
            return list->devs[k];
    }
    return NULL;
}

static int add_pci(struct hd_ctx *ctx, struct hd_nodedev_list *list)
{
    struct hd_device_list *pci;
    int r = hd_device_list_new(ctx, HD_FILL_ALL, &pci);

    if (r < 0)
        return r;
    for (size_t i = 0; r == 0 && i < hd_device_list_count(pci); i++) {
        struct hd_device *d = hd_device_list_get(pci, i);
        char entry[HD_PATH_MAX], path[HD_PATH_MAX];
        struct hd_nodedev *dev;

        hd_path(entry, sizeof(entry), "sys/bus/pci/devices/%s", hd_device_get_name(d));
        if ((r = resolve_entry(ctx, entry, path, sizeof(path))) < 0)
            break;
        if ((dev = nodedev_new(ctx, HD_CAP_PCI, path)) == NULL) {
            r = -ENOMEM;
            break;
        }
        /* The name comes from the address, whatever the directory is called. */
        free(dev->sysname);
        dev->sysname = strdup(hd_device_get_name(d));
        dev->pci = hd_device_ref(d);
        dev->source = SOURCE_PCI;
        dev->props.vendor_id = hd_device_get_vendor_id(d);
        dev->props.product_id = hd_device_get_device_id(d);
        dev->props.vendor_name = hd_strdup_or_null(hd_device_get_vendor_name(d));
        dev->props.product_name = hd_strdup_or_null(hd_device_get_product_name(d));
        dev->driver = hd_strdup_or_null(hd_device_get_driver(d));
        if (hd_device_get_physfn(d) != NULL)
            dev->caps[dev->ncaps++] = "phys_function";
        if (hd_device_get_sriov_totalvfs(d) > 0)
            dev->caps[dev->ncaps++] = "virt_functions";
        if (dev->sysname == NULL || (hd_device_get_vendor_name(d) && !dev->props.vendor_name) ||
            (hd_device_get_product_name(d) && !dev->props.product_name) ||
            (hd_device_get_driver(d) && !dev->driver) ||
            hd_nodedev_set_name(dev, "pci", NULL) < 0) {
            hd_nodedev_unref(dev);
            r = -ENOMEM;
            break;
        }
        r = list_add(list, dev);
    }
    hd_device_list_unref(pci);
    return r;
}

/* PCI devices that offer mediated device types: each gets the listing's types (one read for
 * all) and the mdev_types capability. */
static int mark_mdev_parents(struct hd_ctx *ctx, struct hd_nodedev_list *list)
{
    struct hd_mdev_type_list *types;
    int r = hd_mdev_type_list_new(ctx, &types);

    if (r < 0)
        return r;
    for (size_t i = 0; i < list->count; i++) {
        struct hd_nodedev *dev = list->devs[i];
        for (size_t k = 0; dev->cap == HD_CAP_PCI && k < hd_mdev_type_list_count(types); k++) {
            if (strcmp(hd_mdev_type_list_get_parent(types, k), dev->sysname) == 0) {
                dev->mdev_types = hd_mdev_type_list_ref(types);
                dev->caps[dev->ncaps++] = cap_names[HD_CAP_MDEV_TYPES];
                break;
            }
        }
    }
    hd_mdev_type_list_unref(types);
    return 0;
}

#define CAP_BIT(c) (1u << (c))

/* One directory of entries, each a device of one family. */
static const struct source {
    const char *dir;
    enum hd_nodedev_cap cap; /* the probe may change it (usb device or interface...) */
    unsigned int caps;       /* every capability its probe gives (CAP_BIT) */
    int (*probe)(struct hd_nodedev *dev, struct hd_nodedev_props *props);
} sources[] = {
    {"sys/bus/usb/devices", HD_CAP_USB_DEVICE,
     CAP_BIT(HD_CAP_USB_DEVICE) | CAP_BIT(HD_CAP_USB_INTERFACE), hd_nodedev_probe_usb},
    {"sys/bus/scsi/devices", HD_CAP_SCSI,
     CAP_BIT(HD_CAP_SCSI_HOST) | CAP_BIT(HD_CAP_SCSI_TARGET) | CAP_BIT(HD_CAP_SCSI),
     hd_nodedev_probe_scsi},
    {"sys/class/scsi_generic", HD_CAP_SCSI_GENERIC, CAP_BIT(HD_CAP_SCSI_GENERIC),
     hd_nodedev_probe_scsi_generic},
    {"sys/class/net", HD_CAP_NET, CAP_BIT(HD_CAP_NET), hd_nodedev_probe_net},
    {"sys/class/block", HD_CAP_STORAGE, CAP_BIT(HD_CAP_STORAGE), hd_nodedev_probe_storage},
    {"sys/bus/mdev/devices", HD_CAP_MDEV, CAP_BIT(HD_CAP_MDEV), hd_nodedev_probe_mdev},
};

/* What every device has: its driver and its /dev node (uevent DEVNAME). */
static int read_common(struct hd_nodedev *dev)
{
    char path[HD_PATH_MAX], buf[256];

    if (dev->driver == NULL && hd_path(path, sizeof(path), "%s/driver", dev->path) == 0 &&
        hd_fs_link_basename(dev->ctx, path, buf, sizeof(buf)) == 0 &&
        (dev->driver = strdup(buf)) == NULL)
        return -ENOMEM;
    /* The uevent names the driver too (and is all a plain-directory tree may have). */
    if (dev->driver == NULL && hd_nodedev_uevent(dev, "DRIVER", buf, sizeof(buf)) == 0 &&
        hd_name_valid(buf) && (dev->driver = strdup(buf)) == NULL)
        return -ENOMEM;
    if (dev->devnode == NULL && hd_nodedev_uevent(dev, "DEVNAME", buf, sizeof(buf)) == 0 &&
        hd_path_valid(buf) && asprintf(&dev->devnode, "/dev/%s", buf) < 0) {
        dev->devnode = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* Entry @name of @src's directory, probed and added to @list unless it is no device of the
 * family (a partition) or cannot be read (warned about: not the listing's failure). */
static int add_entry(struct hd_ctx *ctx, const struct source *src, const char *name,
                     struct hd_nodedev_list *list)
{
    char entry[HD_PATH_MAX], path[HD_PATH_MAX];
    struct hd_nodedev *dev;
    int r;

    if (!hd_name_valid(name) || hd_path(entry, sizeof(entry), "%s/%s", src->dir, name) < 0)
        return 0;
    if (resolve_entry(ctx, entry, path, sizeof(path)) < 0) {
        hd_warn(ctx, "%s: cannot resolve, skipped", entry);
        return 0;
    }
    if ((dev = nodedev_new(ctx, src->cap, path)) == NULL)
        return -ENOMEM;
    dev->source = 1 + (unsigned)(src - sources);
    r = src->probe(dev, &dev->props);
    if (r != 0) {
        /* 1: not a device of this family (a partition, a virtual disk) */
        hd_nodedev_unref(dev);
        if (r == -ENOMEM)
            return r;
        if (r < 0 && hd_ctx_last_reason(ctx) == HD_REASON_INVALID)
            hd_warn(ctx, "%s, skipped", hd_ctx_last_error(ctx)); /* names the file */
        else if (r < 0)
            hd_warn(ctx, "%s: %s, skipped", entry, strerror(-r));
        hd_ctx_clear_error(ctx); /* not the listing's failure: its reason must not outlive it */
        return 0;
    }
    if ((r = read_common(dev)) < 0) {
        hd_nodedev_unref(dev);
        return r;
    }
    return list_add(list, dev);
}

static int add_source(struct hd_ctx *ctx, const struct source *src, struct hd_nodedev_list *list)
{
    char **names;
    size_t count;
    int r = hd_fs_list_dir(ctx, src->dir, &names, &count);

    if (r == -ENOENT || r == -ENOTDIR)
        return 0; /* no such bus or class on this host */
    if (r < 0)
        return hd_err(ctx, r, "%s/%s: cannot list: %s", hd_ctx_get_root(ctx), src->dir,
                      strerror(-r));
    for (size_t i = 0; r >= 0 && i < count; i++)
        r = add_entry(ctx, src, names[i], list);
    hd_strv_free(names, count);
    return r;
}

static int cmp_name(const void *a, const void *b)
{
    const struct hd_nodedev *x = *(struct hd_nodedev *const *)a;
    const struct hd_nodedev *y = *(struct hd_nodedev *const *)b;
    int c = strcasecmp(x->name, y->name);

    return c ? c : strcmp(x->name, y->name);
}

/* ---- parents ------------------------------------------------------------------------------ */

/* A listing of some capabilities reads only their families (@read: bit SOURCE_PCI, bit 1 + i
 * for sources[i]); a parent may be of a family it did not read (a USB controller is a PCI
 * device, a disk's SCSI device), which is then asked about that one directory: what the
 * whole listing would have named there. */
struct parents {
    struct hd_ctx *ctx;
    struct hd_nodedev_list *list;
    unsigned int read;
    struct {
        char *path, *name; /* name NULL: no node device there */
    } *seen;               /* the answers for directories asked about */
    size_t nseen, cap;
};

/* Whether @path is the directory of a PCI device add_pci() would list: sys/bus/pci/devices
 * links each by its address, which is its directory's name (a link to another directory makes
 * the device unreadable, HD_FILL_PARENT), and a device that cannot be read is left out. */
static int pci_at(struct hd_ctx *ctx, const char *path, char **name)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char canon[HD_PCI_ADDR_BUFSZ], entry[HD_PATH_MAX], resolved[HD_PATH_MAX], buf[64];
    struct hd_pci_addr addr;
    int r;

    if (hd_pci_addr_parse(base, &addr) < 0 || strcmp(hd_pci_addr_format(&addr, canon), base) != 0 ||
        hd_path(entry, sizeof(entry), "sys/bus/pci/devices/%s", base) < 0 ||
        resolve_entry(ctx, entry, resolved, sizeof(resolved)) < 0 || strcmp(resolved, path) != 0)
        return 0;
    if ((r = hd_device_read_listed(ctx, &addr, HD_FILL_ALL)) < 0)
        return r == -ENOMEM ? r : 0;
    if (hd_nodedev_name_of("pci", base, buf, sizeof(buf)) < 0)
        return 0;
    return (*name = strdup(buf)) == NULL ? -ENOMEM : 0;
}

/* Whether @path is the directory of a device that @src lists, by the entry its name makes
 * there (sysfs names each link as the directory it points to), probed as add_source() would. */
static int source_at(struct hd_ctx *ctx, const struct source *src, const char *path, char **name)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char entry[HD_PATH_MAX], resolved[HD_PATH_MAX];
    struct hd_saved_error saved;
    struct hd_nodedev *dev;
    int r;

    if (!hd_name_valid(base) || hd_path(entry, sizeof(entry), "%s/%s", src->dir, base) < 0 ||
        resolve_entry(ctx, entry, resolved, sizeof(resolved)) < 0 || strcmp(resolved, path) != 0)
        return 0;
    if ((dev = nodedev_new(ctx, src->cap, path)) == NULL)
        return -ENOMEM;
    hd_saved_error_save(ctx, &saved, 0);
    r = src->probe(dev, &dev->props);
    hd_saved_error_put_back(ctx, &saved);
    if (r == 0) {
        *name = dev->name;
        dev->name = NULL;
    }
    hd_nodedev_unref(dev);
    return r == -ENOMEM ? r : 0;
}

/* The name of the node device at @path (NULL: none), by the families' order: the first one
 * listed there, unless a family before it that the listing did not read has one there. */
static int name_at(struct parents *ps, const char *path, const char **name)
{
    const struct hd_nodedev *listed = find_by_path(ps->list, path);
    unsigned int before = listed ? listed->source : 1 + HD_ARRAY_SIZE(sources);
    char *found = NULL;
    int r = 0;

    *name = listed ? listed->name : NULL;
    if ((ps->read | ~(~0u << before)) == ps->read)
        return 0; /* every family before it was read */
    for (size_t i = 0; i < ps->nseen; i++) {
        if (strcmp(ps->seen[i].path, path) == 0) {
            *name = ps->seen[i].name ? ps->seen[i].name : *name;
            return 0;
        }
    }
    for (unsigned int s = 0; r == 0 && found == NULL && s < before; s++) {
        if (!(ps->read & (1u << s)))
            r = s == SOURCE_PCI ? pci_at(ps->ctx, path, &found)
                                : source_at(ps->ctx, &sources[s - 1], path, &found);
    }
    void *grown =
        r < 0 ? NULL : hd_array_grow(ps->seen, &ps->cap, ps->nseen, sizeof(*ps->seen), 16);
    if (grown == NULL) {
        free(found);
        return r < 0 ? r : -ENOMEM;
    }
    ps->seen = grown;
    ps->seen[ps->nseen].name = found;
    if ((ps->seen[ps->nseen].path = strdup(path)) == NULL) {
        free(found);
        return -ENOMEM;
    }
    ps->nseen++;
    *name = found ? found : *name;
    return 0;
}

/* Parent: the nearest ancestor directory that is itself a node device; "computer" when none
 * is (a device on a root bus, a virtual interface). */
static int assign_parents(struct parents *ps)
{
    int r = 0;

    for (size_t i = 0; r == 0 && i < ps->list->count; i++) {
        struct hd_nodedev *dev = ps->list->devs[i];
        const char *parent = NULL;
        char path[HD_PATH_MAX], *slash;

        if (dev->cap == HD_CAP_SYSTEM)
            continue;
        hd_strlcpy(path, dev->path, sizeof(path));
        while (r == 0 && parent == NULL && (slash = strrchr(path, '/')) != NULL) {
            *slash = '\0';
            r = name_at(ps, path, &parent);
        }
        if (r == 0 && (dev->parent = strdup(parent ? parent : "computer")) == NULL)
            r = -ENOMEM;
    }
    for (size_t i = 0; i < ps->nseen; i++) {
        free(ps->seen[i].path);
        free(ps->seen[i].name);
    }
    free(ps->seen);
    return r;
}

/* ---- listings ----------------------------------------------------------------------------- */

static bool wanted(unsigned int caps, unsigned int these)
{
    return caps == 0 || (caps & these) != 0;
}

HD_EXPORT int hd_nodedev_list_new(struct hd_ctx *ctx, unsigned int caps,
                                  struct hd_nodedev_list **out)
{
    struct hd_nodedev_list *list = calloc(1, sizeof(*list));
    struct parents ps = {.ctx = ctx, .list = list};
    size_t kept = 0;
    int r = 0;

    *out = NULL;
    if (list == NULL)
        return -ENOMEM;
    hd_ref_init(&list->refcount);
    if (wanted(caps, CAP_BIT(HD_CAP_SYSTEM))) {
        struct hd_nodedev *computer = nodedev_new(ctx, HD_CAP_SYSTEM, "sys/devices");
        if (computer == NULL || (computer->name = strdup("computer")) == NULL) {
            hd_nodedev_unref(computer);
            r = -ENOMEM;
            goto fail;
        }
        if ((r = hd_nodedev_probe_system(computer, &computer->props)) < 0 ||
            (r = list_add(list, computer)) < 0)
            goto fail;
    }
    /* Each family only when asked for: PCI devices are read whole (the mdev_types capability
     * is theirs); parents of other families are looked for one directory at a time. */
    if (wanted(caps, CAP_BIT(HD_CAP_PCI) | CAP_BIT(HD_CAP_MDEV_TYPES))) {
        if ((r = add_pci(ctx, list)) < 0 || (r = mark_mdev_parents(ctx, list)) < 0)
            goto fail;
        ps.read |= 1u << SOURCE_PCI;
    }
    for (size_t i = 0; i < HD_ARRAY_SIZE(sources); i++) {
        if (!wanted(caps, sources[i].caps))
            continue;
        if ((r = add_source(ctx, &sources[i], list)) < 0)
            goto fail;
        ps.read |= 1u << (1 + i);
    }
    if ((r = assign_parents(&ps)) < 0)
        goto fail;
    for (size_t i = 0; i < list->count; i++) {
        if (caps == 0 || (caps & CAP_BIT(list->devs[i]->cap)) ||
            ((caps & CAP_BIT(HD_CAP_MDEV_TYPES)) && list->devs[i]->mdev_types != NULL))
            list->devs[kept++] = list->devs[i];
        else
            hd_nodedev_unref(list->devs[i]);
    }
    list->count = kept;
    if (list->count > 1)
        qsort(list->devs, list->count, sizeof(*list->devs), cmp_name);
    *out = list;
    return 0;
fail:
    hd_nodedev_list_unref(list);
    return r;
}

int hd_nodedev_list_new_only(struct hd_ctx *ctx, enum hd_nodedev_cap cap,
                             struct hd_nodedev_list **out)
{
    struct hd_nodedev_list *list = calloc(1, sizeof(*list));
    int r = 0;

    *out = NULL;
    if (list == NULL)
        return -ENOMEM;
    hd_ref_init(&list->refcount);
    for (size_t i = 0; r == 0 && i < HD_ARRAY_SIZE(sources); i++) {
        if (sources[i].cap == cap)
            r = add_source(ctx, &sources[i], list);
    }
    if (r < 0) {
        hd_nodedev_list_unref(list);
        return r;
    }
    if (list->count > 1)
        qsort(list->devs, list->count, sizeof(*list->devs), cmp_name);
    *out = list;
    return 0;
}

HD_EXPORT struct hd_nodedev_list *hd_nodedev_list_ref(struct hd_nodedev_list *list)
{
    if (list != NULL)
        hd_ref_take(&list->refcount);
    return list;
}

HD_EXPORT struct hd_nodedev_list *hd_nodedev_list_unref(struct hd_nodedev_list *list)
{
    if (list == NULL || !hd_ref_drop(&list->refcount))
        return NULL;
    for (size_t i = 0; i < list->count; i++)
        hd_nodedev_unref(list->devs[i]);
    free(list->devs);
    free(list);
    return NULL;
}

HD_EXPORT size_t hd_nodedev_list_count(const struct hd_nodedev_list *list)
{
    return list->count;
}

HD_EXPORT struct hd_nodedev *hd_nodedev_list_get(const struct hd_nodedev_list *list, size_t i)
{
    return i < list->count ? list->devs[i] : NULL;
}

HD_EXPORT struct hd_nodedev *hd_nodedev_list_find(const struct hd_nodedev_list *list,
                                                  const char *name)
{
    for (size_t i = 0; name != NULL && i < list->count; i++) {
        if (strcmp(list->devs[i]->name, name) == 0)
            return list->devs[i];
    }
    return NULL;
}

HD_EXPORT int hd_nodedev_lookup(struct hd_ctx *ctx, const char *name, struct hd_nodedev **out)
{
    struct hd_nodedev_list *list;
    struct hd_nodedev *dev;
    int r;

    *out = NULL;
    if ((r = hd_nodedev_list_new(ctx, 0, &list)) < 0)
        return r;
    dev = hd_nodedev_list_find(list, name);
    if (dev != NULL)
        *out = hd_nodedev_ref(dev);
    hd_nodedev_list_unref(list);
    if (dev == NULL)
        return hd_err(ctx, -ENODEV, "no node device with matching name '%s'", name ? name : "");
    return 0;
}

HD_EXPORT int hd_nodedev_lookup_mdev(struct hd_ctx *ctx, const char *uuid,
                                     struct hd_nodedev **out)
{
    struct hd_nodedev_list *list;
    struct hd_mdev_list *mdev;
    struct parents ps = {.ctx = ctx};
    const struct source *src = sources;
    char canon[37];
    int r;

    *out = NULL;
    /* The one device, read alone: another one that cannot be read is none of its business. */
    if ((r = hd_mdev_list_new_uuid(ctx, uuid, &mdev)) < 0)
        return r == -ENOENT ? hd_err(ctx, -ENODEV, "no node device for mediated device %s",
                                     hd_mdev_uuid_parse(uuid, canon) == 0 ? canon : uuid)
                            : r;
    snprintf(canon, sizeof(canon), "%s", hd_mdev_list_get_uuid(mdev, 0));
    hd_mdev_list_unref(mdev);
    if ((ps.list = list = calloc(1, sizeof(*list))) == NULL)
        return -ENOMEM;
    hd_ref_init(&list->refcount);
    while (src->cap != HD_CAP_MDEV)
        src++;
    ps.read = 1u << (1 + (src - sources));
    if ((r = add_entry(ctx, src, canon, list)) == 0 && list->count == 0)
        r = hd_err(ctx, -ENODEV, "no node device for mediated device %s", canon);
    if (r == 0 && (r = assign_parents(&ps)) == 0)
        *out = hd_nodedev_ref(list->devs[0]);
    hd_nodedev_list_unref(list);
    return r;
}

/* ---- getters -------------------------------------------------------------------------------- */

struct hd_ctx *hd_nodedev_get_ctx(const struct hd_nodedev *dev)
{
    return dev->ctx;
}

const char *hd_nodedev_get_dir(const struct hd_nodedev *dev)
{
    return dev->path;
}

const char *hd_nodedev_get_sysname(const struct hd_nodedev *dev)
{
    return dev->sysname;
}

const struct hd_nodedev_props *hd_nodedev_get_props(const struct hd_nodedev *dev)
{
    return &dev->props;
}

const struct hd_mdev_type_list *hd_nodedev_get_mdev_types(const struct hd_nodedev *dev)
{
    return dev->mdev_types;
}

void hd_nodedev_set_cap(struct hd_nodedev *dev, enum hd_nodedev_cap cap)
{
    dev->cap = cap;
    dev->caps[0] = cap_names[cap];
}

HD_EXPORT const char *hd_nodedev_get_name(const struct hd_nodedev *dev)
{
    return dev->name;
}

HD_EXPORT const char *hd_nodedev_get_parent(const struct hd_nodedev *dev)
{
    return dev->parent;
}

HD_EXPORT enum hd_nodedev_cap hd_nodedev_get_cap(const struct hd_nodedev *dev)
{
    return dev->cap;
}

HD_EXPORT size_t hd_nodedev_get_cap_count(const struct hd_nodedev *dev)
{
    return dev->ncaps;
}

HD_EXPORT const char *hd_nodedev_get_cap_name(const struct hd_nodedev *dev, size_t i)
{
    return i < dev->ncaps ? dev->caps[i] : NULL;
}

HD_EXPORT const char *hd_nodedev_get_sysfs_path(const struct hd_nodedev *dev)
{
    return dev->abspath;
}

HD_EXPORT const char *hd_nodedev_get_driver(const struct hd_nodedev *dev)
{
    return dev->driver;
}

HD_EXPORT const char *hd_nodedev_get_devnode(const struct hd_nodedev *dev)
{
    return dev->devnode;
}

HD_EXPORT int hd_nodedev_get_vendor_id(const struct hd_nodedev *dev)
{
    return dev->props.vendor_id;
}

HD_EXPORT int hd_nodedev_get_product_id(const struct hd_nodedev *dev)
{
    return dev->props.product_id;
}

HD_EXPORT const char *hd_nodedev_get_vendor_name(const struct hd_nodedev *dev)
{
    return dev->cap == HD_CAP_STORAGE ? dev->props.vendor : dev->props.vendor_name;
}

HD_EXPORT const char *hd_nodedev_get_product_name(const struct hd_nodedev *dev)
{
    return dev->cap == HD_CAP_STORAGE ? dev->props.model : dev->props.product_name;
}

HD_EXPORT const char *hd_nodedev_get_interface(const struct hd_nodedev *dev)
{
    if (dev->cap == HD_CAP_NET)
        return dev->props.ifname;
    return dev->cap == HD_CAP_SCSI_GENERIC ? dev->devnode : NULL;
}

HD_EXPORT struct hd_device *hd_nodedev_get_pci_device(const struct hd_nodedev *dev)
{
    return dev->pci;
}

HD_EXPORT size_t hd_nodedev_get_address(const struct hd_nodedev *dev, const char *keys[4],
                                        unsigned long values[4])
{
    static const char *const pci[] = {"domain", "bus", "slot", "function"};
    static const char *const scsi[] = {"host", "bus", "target", "lun"};
    static const char *const usb[] = {"bus", "device"};

    switch (dev->cap) {
    case HD_CAP_PCI:
        values[0] = hd_device_get_addr(dev->pci)->domain;
        values[1] = hd_device_get_addr(dev->pci)->bus;
        values[2] = hd_device_get_addr(dev->pci)->slot;
        values[3] = hd_device_get_addr(dev->pci)->function;
        memcpy(keys, pci, sizeof(pci));
        return 4;
    case HD_CAP_SCSI:
        for (int i = 0; i < 4; i++)
            values[i] = (unsigned long)dev->props.num[i];
        memcpy(keys, scsi, sizeof(scsi));
        return 4;
    case HD_CAP_USB_DEVICE:
        values[0] = (unsigned long)dev->props.num[0];
        values[1] = (unsigned long)dev->props.num[1];
        memcpy(keys, usb, sizeof(usb));
        return 2;
    default:
        return 0;
    }
}
