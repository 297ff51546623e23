/* enumerate.c - every PCI device under the root, read with as few syscalls as possible. */
#include <stdlib.h>
#include <string.h>

#include "pci.h"

struct hd_device_list {
    atomic_int refcount;
    struct hd_device **devs; /* sorted by address */
    size_t count;
};

static int cmp_dev(const void *a, const void *b)
{
    const struct hd_device *x = *(struct hd_device *const *)a, *y = *(struct hd_device *const *)b;
    return hd_pci_addr_compare(hd_device_get_addr(x), hd_device_get_addr(y));
}

/* Which driver each bound device is on, from the drivers' directories: the kernel links every
 * device a driver holds there by its name (driver_sysfs_add()), so a few directory reads for
 * the whole bus replace one driver-link read per device. */
struct bound {
    struct hd_pci_addr addr;
    const char *driver; /* in the context's strings */
};

struct bound_map {
    struct hd_ctx *ctx;
    struct bound *v;
    size_t n, cap;
    const char *driver; /* the one being read */
    bool complete;      /* every driver's directory was read: a device missing is unbound */
};

static int cmp_bound(const void *a, const void *b)
{
    return hd_pci_addr_compare(&((const struct bound *)a)->addr,
                               &((const struct bound *)b)->addr);
}

/* One entry of a driver's directory: bind, unbind, new_id, module... are not devices. */
static int add_bound(void *data, const char *name)
{
    struct bound_map *m = data;
    struct hd_pci_addr addr;
    char canon[HD_PCI_ADDR_BUFSZ];

    if (hd_pci_addr_parse(name, &addr) < 0 || strcmp(hd_pci_addr_format(&addr, canon), name) != 0)
        return 0;
    struct bound *grown = hd_array_grow(m->v, &m->cap, m->n, sizeof(*grown), 256);
    if (grown == NULL)
        return -ENOMEM;
    m->v = grown;
    m->v[m->n++] = (struct bound){addr, m->driver};
    return 0;
}

static int add_driver(void *data, const char *name)
{
    struct bound_map *m = data;
    char path[HD_PATH_MAX];
    int r;

    if (!hd_name_valid(name) || hd_path(path, sizeof(path), "sys/bus/pci/drivers/%s", name) < 0) {
        m->complete = false; /* a name no driver link could carry: ask the devices */
        return 0;
    }
    if ((m->driver = hd_strings_add(hd_ctx_get_strings(m->ctx), name, strlen(name))) == NULL)
        return -ENOMEM;
    r = hd_fs_scan_dir(m->ctx, path, add_bound, m);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        m->complete = false;
    return 0;
}

/* The map, sorted; incomplete (each device reads its own link) when a directory failed. */
static int read_bound_map(struct hd_ctx *ctx, struct bound_map *m)
{
    int r;

    *m = (struct bound_map){.ctx = ctx, .complete = true};
    r = hd_fs_scan_dir(ctx, "sys/bus/pci/drivers", add_driver, m);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        m->complete = false;
    else if (m->n > 1)
        qsort(m->v, m->n, sizeof(*m->v), cmp_bound);
    return 0;
}

struct scan {
    struct hd_ctx *ctx;
    struct bound_map bound; /* complete: the driver of each device, without its link */
    struct hd_device_list *list;
    size_t cap;
    unsigned int fill;
    bool bulk;          /* ids and config together: hd_device_fill_bulk() */
    size_t nvf_pending; /* VFs whose ids wait for their PF */
};

/* A device that could not be read: gone between readdir and read (hot unplug, VFs removed), or
 * garbage in its files. The rest of the host is still worth listing. */
static int skip_device(struct scan *s, struct hd_device *dev, int r)
{
    if (r != -ENODEV && r != -ENOENT)
        hd_warn(s->ctx, "%s", hd_ctx_last_error(s->ctx));
    hd_ctx_clear_error(s->ctx); /* not the listing's failure: its reason must not outlive it */
    hd_device_unref(dev);
    return 0;
}

/* One directory entry: the device is read as it is met, no list of names kept. */
static int add_device(void *data, const char *name)
{
    struct scan *s = data;
    struct hd_device_list *list = s->list;
    struct hd_pci_addr addr;
    struct hd_device *dev;
    unsigned int fill;
    int r;

    if (hd_pci_addr_parse(name, &addr) < 0 || strchr(name, '_') != NULL) {
        hd_warn(s->ctx, "sys/bus/pci/devices/%.64s: not a PCI address, skipped", name);
        return 0;
    }
    struct hd_device **grown = hd_array_grow(list->devs, &s->cap, list->count, sizeof(*grown), 256);
    if (grown == NULL)
        return -ENOMEM;
    list->devs = grown;
    if ((dev = hd_device_new(s->ctx, &addr)) == NULL)
        return -ENOMEM;
    r = 0;
    hd_fs_distrust_dir(s->ctx); /* a directory kept from an earlier listing may be stale */
    fill = s->fill & ~(unsigned)HD_FILL_NAMES; /* names wait for every device's ids */
    if (s->bulk) {
        bool pending;
        const struct bound key = {.addr = addr}, *b = NULL;
        if (s->bound.complete && s->bound.n > 0)
            b = bsearch(&key, s->bound.v, s->bound.n, sizeof(*s->bound.v), cmp_bound);
        r = hd_device_fill_bulk(dev, s->bound.complete, b ? b->driver : NULL, &pending);
        s->nvf_pending += pending;
        if (pending)
            fill &= ~(unsigned)HD_FILL_IDENT; /* from its PF in finish_devices() */
    }
    if (r == 0)
        r = hd_device_fill_fields(dev, fill, false);
    if (r == -ENOMEM) {
        hd_device_unref(dev);
        return r;
    }
    if (r < 0)
        return skip_device(s, dev, r);
    list->devs[list->count++] = dev;
    return 0;
}

static bool vf_pending(const struct hd_device *dev)
{
    return !hd_device_has_filled(dev, HD_FILL_IDENT);
}

/* The VFs of one PF, found where the kernel puts them: VF i at the PF's routing id + offset +
 * stride * i (pci_iov_virtfn_bus/devfn), in the PF's domain. A few attribute reads per PF
 * instead of a physfn link per VF. */
static void map_vfs_of(struct hd_device_list *list, struct hd_device *pf)
{
    int offset, stride, numvfs;
    struct hd_saved_error saved;

    /* A layout that cannot be read is no failure of the listing (each VF reads its uevent):
     * its error, bad input perhaps, must not stay for a later call's to inherit. */
    hd_saved_error_save(hd_device_get_ctx(pf), &saved, 0);
    if (hd_device_read_vf_layout(pf, &offset, &stride, &numvfs) < 0) {
        hd_saved_error_put_back(hd_device_get_ctx(pf), &saved);
        return;
    }
    for (int i = 0; i < numvfs; i++) {
        struct hd_pci_addr a;
        struct hd_device *vf;
        if (hd_pci_vf_addr(hd_device_get_addr(pf), offset, stride, i, &a) < 0)
            break;
        vf = hd_device_list_find(list, &a);
        if (vf != NULL && vf_pending(vf) && hd_device_fill_vf_ids(vf, pf) < 0)
            break; /* the PF does not tell its VF device id: each VF reads its uevent */
    }
}

/* Once the list is sorted: the ids of VFs from their PFs, then names. A VF no PF claims
 * reads its own uevent. Only an endpoint that is no VF can be a PF: its sriov_numvfs is
 * tried, one failed open for every other device. */
static int finish_devices(struct scan *s)
{
    struct hd_device_list *list = s->list;
    size_t kept = 0;

    for (size_t i = 0; i < list->count && s->nvf_pending > 0; i++) {
        struct hd_device *dev = list->devs[i];
        if (!vf_pending(dev) && hd_device_get_physfn(dev) == NULL &&
            hd_device_get_header_type(dev) == 0)
            map_vfs_of(list, dev);
    }
    for (size_t i = 0; i < list->count; i++) {
        struct hd_device *dev = list->devs[i];
        /* A VF still pending reads its ids here: bulk listings ask for HD_FILL_IDENT. */
        int r = hd_device_fill_fields(dev, s->fill, false);
        if (r == -ENOMEM)
            return r;
        if (r < 0) {
            skip_device(s, dev, r);
            continue;
        }
        list->devs[kept++] = dev;
    }
    list->count = kept;
    return 0;
}

HD_EXPORT int hd_pci_driver_registered(struct hd_ctx *ctx, const char *driver)
{
    char path[HD_PATH_MAX];

    if (!hd_name_valid(driver) || hd_path(path, sizeof(path), "sys/bus/pci/drivers/%s", driver) < 0)
        return 0;
    return hd_fs_exists(ctx, path);
}

HD_EXPORT int hd_device_list_new(struct hd_ctx *ctx, unsigned int fill, struct hd_device_list **out)
{
    struct scan s = {.ctx = ctx, .fill = fill};
    int r;

    s.bulk = (fill & HD_FILL_IDENT) && (fill & HD_FILL_CONFIG);
    *out = NULL;
    if ((s.list = calloc(1, sizeof(*s.list))) == NULL)
        return -ENOMEM;
    hd_ref_init(&s.list->refcount);
    r = s.bulk ? read_bound_map(ctx, &s.bound) : 0;
    if (r == 0)
        r = hd_fs_scan_dir(ctx, "sys/bus/pci/devices", add_device, &s);
    free(s.bound.v);
    if (r == -ENOMEM) {
        hd_device_list_unref(s.list);
        return r;
    }
    if (r < 0 && r != -ENOENT) { /* no PCI bus at all: an empty list */
        hd_device_list_unref(s.list);
        return hd_err(ctx, r, "%s/sys/bus/pci/devices: cannot list: %s", hd_ctx_get_root(ctx),
                      strerror(-r));
    }
    /* Directory order is the file system's: sort once, by address. */
    if (s.list->count > 1)
        qsort(s.list->devs, s.list->count, sizeof(*s.list->devs), cmp_dev);
    if ((r = finish_devices(&s)) < 0) {
        hd_device_list_unref(s.list);
        return r;
    }
    *out = s.list;
    return 0;
}

int hd_device_read_listed(struct hd_ctx *ctx, const struct hd_pci_addr *addr, unsigned int fill)
{
    /* A complete map without it: no driver, and no link read (the listing reads none). */
    struct scan s = {.ctx = ctx, .fill = fill, .bound.complete = true};
    char name[HD_PCI_ADDR_BUFSZ];
    int r;

    s.bulk = (fill & HD_FILL_IDENT) && (fill & HD_FILL_CONFIG);
    if ((s.list = calloc(1, sizeof(*s.list))) == NULL)
        return -ENOMEM;
    hd_ref_init(&s.list->refcount);
    r = add_device(&s, hd_pci_addr_format(addr, name));
    if (r == 0)
        r = finish_devices(&s);
    if (r == 0 && s.list->count == 0)
        r = -ENODEV;
    hd_device_list_unref(s.list);
    return r;
}

HD_EXPORT struct hd_device_list *hd_device_list_ref(struct hd_device_list *list)
{
    if (list != NULL)
        hd_ref_take(&list->refcount);
    return list;
}

HD_EXPORT struct hd_device_list *hd_device_list_unref(struct hd_device_list *list)
{
    if (list == NULL || !hd_ref_drop(&list->refcount))
        return NULL;
    for (size_t i = 0; i < list->count; i++)
        hd_device_unref(list->devs[i]);
    free(list->devs);
    free(list);
    return NULL;
}

HD_EXPORT size_t hd_device_list_count(const struct hd_device_list *list)
{
    return list->count;
}

HD_EXPORT struct hd_device *hd_device_list_get(const struct hd_device_list *list, size_t i)
{
    return i < list->count ? list->devs[i] : NULL;
}

HD_EXPORT struct hd_device *hd_device_list_find(const struct hd_device_list *list,
                                                const struct hd_pci_addr *addr)
{
    size_t lo = 0, hi = list->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = hd_pci_addr_compare(hd_device_get_addr(list->devs[mid]), addr);
        if (c == 0)
            return list->devs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
