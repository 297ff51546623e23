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

HD_EXPORT int hd_device_list_new(struct hd_ctx *ctx, unsigned int fill,
                                 struct hd_device_list **out)
{
    struct hd_device_list *list;
    char **names;
    size_t count;
    int r;

    *out = NULL;
    r = hd_fs_list_dir(ctx, "sys/bus/pci/devices", &names, &count);
    if (r == -ENOENT) {
        names = NULL; /* no PCI bus at all: an empty list */
        count = 0;
    } else if (r < 0) {
        return hd_err(ctx, r, "%s/sys/bus/pci/devices: cannot list: %s", ctx->root,
                      strerror(-r));
    }
    list = calloc(1, sizeof(*list));
    if (list == NULL || (count && (list->devs = calloc(count, sizeof(*list->devs))) == NULL)) {
        free(list);
        hd_strv_free(names, count);
        return -ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        struct hd_pci_addr addr;
        struct hd_device *dev;

        if (hd_pci_addr_parse(names[i], &addr) < 0 || strchr(names[i], '_') != NULL) {
            hd_warn(ctx, "sys/bus/pci/devices/%.64s: not a PCI address, skipped", names[i]);
            continue;
        }
        dev = hd_device_new(ctx, &addr);
        if (dev == NULL) {
            r = -ENOMEM;
            goto fail;
        }
        r = hd_device_fill_fields(dev, fill, false);
        if (r == -ENOMEM) {
            hd_device_unref(dev);
            goto fail;
        }
        if (r < 0) {
            /* Gone between readdir and read (hot unplug, VFs removed), or garbage in its
             * files: the rest of the host is still worth listing. */
            if (r != -ENODEV && r != -ENOENT)
                hd_warn(ctx, "%s", hd_ctx_last_error(ctx));
            hd_device_unref(dev);
            continue;
        }
        list->devs[list->count++] = dev;
    }
    hd_strv_free(names, count);
    if (list->count > 1)
        qsort(list->devs, list->count, sizeof(*list->devs), cmp_dev);
    *out = list;
    return 0;
fail:
    hd_strv_free(names, count);
    hd_device_list_unref(list);
    return r;
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
