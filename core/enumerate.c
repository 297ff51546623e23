/* enumerate.c - every PCI device under the root, read with as few syscalls as possible. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct hd_device_list {
    struct hd_device **devs; /* sorted by address */
    size_t count;
};

static int cmp_dev(const void *a, const void *b)
{
    const struct hd_device *x = *(struct hd_device *const *)a, *y = *(struct hd_device *const *)b;
    return hd_pci_addr_compare(&x->addr, &y->addr);
}

struct scan {
    struct hd_ctx *ctx;
    struct hd_device_list *list;
    size_t cap;
    unsigned int fill;
};

/* One directory entry: the device is read as it is met, no list of names kept. */
static int add_device(void *data, const char *name)
{
    struct scan *s = data;
    struct hd_device_list *list = s->list;
    struct hd_pci_addr addr;
    struct hd_device *dev;
    int r;

    if (hd_pci_addr_parse(name, &addr) < 0 || strchr(name, '_') != NULL) {
        hd_warn(s->ctx, "sys/bus/pci/devices/%.64s: not a PCI address, skipped", name);
        return 0;
    }
    if (list->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct hd_device **grown = realloc(list->devs, cap * sizeof(*grown));
        if (grown == NULL)
            return -ENOMEM;
        list->devs = grown;
        s->cap = cap;
    }
    if ((dev = hd_device_new(s->ctx, &addr)) == NULL)
        return -ENOMEM;
    r = hd_device_fill_fields(dev, s->fill, false);
    if (r == -ENOMEM) {
        hd_device_unref(dev);
        return r;
    }
    if (r < 0) {
        /* Gone between readdir and read (hot unplug, VFs removed), or garbage in its files:
         * the rest of the host is still worth listing. */
        if (r != -ENODEV && r != -ENOENT)
            hd_warn(s->ctx, "%s", hd_ctx_last_error(s->ctx));
        hd_device_unref(dev);
        return 0;
    }
    list->devs[list->count++] = dev;
    return 0;
}

HD_EXPORT int hd_device_list_new(struct hd_ctx *ctx, unsigned int fill,
                                 struct hd_device_list **out)
{
    struct scan s = {.ctx = ctx, .fill = fill};
    int r;

    *out = NULL;
    if ((s.list = calloc(1, sizeof(*s.list))) == NULL)
        return -ENOMEM;
    r = hd_fs_scan_dir(ctx, "sys/bus/pci/devices", add_device, &s);
    if (r == -ENOMEM) {
        hd_device_list_unref(s.list);
        return r;
    }
    if (r < 0 && r != -ENOENT) { /* no PCI bus at all: an empty list */
        hd_device_list_unref(s.list);
        return hd_err(ctx, r, "%s/sys/bus/pci/devices: cannot list: %s", ctx->root,
                      strerror(-r));
    }
    /* Directory order is the file system's: sort once, by address. */
    if (s.list->count > 1)
        qsort(s.list->devs, s.list->count, sizeof(*s.list->devs), cmp_dev);
    *out = s.list;
    return 0;
}

HD_EXPORT struct hd_device_list *hd_device_list_unref(struct hd_device_list *list)
{
    if (list == NULL)
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
        int c = hd_pci_addr_compare(&list->devs[mid]->addr, addr);
        if (c == 0)
            return list->devs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
