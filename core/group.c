/* group.c - IOMMU groups: members, and whether VFIO can hand the group to a VM. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct hd_group {
    atomic_int refcount;
    int number;
    struct hd_device **members;
    size_t nmembers;
    struct hd_device **blockers; /* borrowed from members */
    size_t nblockers;
};

static bool member_is_dma_safe(const struct hd_device *dev)
{
    return hd_driver_is_dma_safe(hd_device_get_driver(dev)) || hd_device_is_on_vfio(dev);
}

HD_EXPORT int hd_group_open(struct hd_ctx *ctx, int number, struct hd_group **out)
{
    return hd_group_open_fill(ctx, number, HD_FILL_IDENT | HD_FILL_CONFIG, out);
}

HD_EXPORT int hd_group_open_fill(struct hd_ctx *ctx, int number, unsigned int fill,
                                 struct hd_group **out)
{
    return hd_group_open_known(ctx, number, fill, NULL, 0, out);
}

/* The driver @known gives for @addr, or NULL. */
static const char *known_driver(const struct hd_known_driver *known, size_t nknown,
                                const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < nknown; i++) {
        if (hd_pci_addr_equal(&known[i].addr, addr))
            return known[i].driver;
    }
    return NULL;
}

int hd_group_open_known(struct hd_ctx *ctx, int number, unsigned int fill,
                        const struct hd_known_driver *known, size_t nknown, struct hd_group **out)
{
    char path[HD_PATH_MAX];
    struct hd_group *g;
    char **names;
    size_t count;
    int r;

    *out = NULL;
    if (number < 0)
        return hd_err(ctx, -ENOENT, "IOMMU group %d: no such group", number);
    hd_path(path, sizeof(path), "sys/kernel/iommu_groups/%d/devices", number);
    r = hd_fs_list_dir(ctx, path, &names, &count);
    if (r < 0)
        return hd_err(ctx, r == -ENOTDIR ? -ENOENT : r, "IOMMU group %d: %s", number,
                      r == -ENOENT ? "no such group" : strerror(-r));
    if ((g = calloc(1, sizeof(*g))) != NULL)
        hd_ref_init(&g->refcount);
    if (g == NULL || (count && ((g->members = calloc(count, sizeof(*g->members))) == NULL ||
                                (g->blockers = calloc(count, sizeof(*g->blockers))) == NULL))) {
        hd_group_unref(g);
        hd_strv_free(names, count);
        return -ENOMEM;
    }
    g->number = number;
    for (size_t i = 0; i < count; i++) {
        struct hd_pci_addr addr;
        struct hd_device *dev;
        if (hd_pci_addr_parse(names[i], &addr) < 0) {
            hd_warn(ctx, "%s/%.64s: not a PCI address, skipped", path, names[i]);
            continue;
        }
        dev = hd_device_new(ctx, &addr);
        if (dev == NULL) {
            r = -ENOMEM;
            break;
        }
        /* The kernel lists it in the group: that is its group, no link to read. */
        hd_device_set_listed_group(dev, number);
        /* Viability needs the drivers alone: their links, one read a member, where uevent and
         * config space take six. */
        const char *driver = known_driver(known, nknown, &addr);
        r = fill & HD_FILL_IDENT ? 0
            : driver != NULL     ? hd_device_set_read_driver(dev, driver)
                                 : hd_device_fill_driver(dev);
        if (r == 0)
            r = hd_device_fill_fields(dev, fill, false);
        /* A vfio cdev (HD_FILL_EXTRA) matters only to a member on a driver not DMA-safe. */
        if (r == 0 && !hd_driver_is_dma_safe(hd_device_get_driver(dev)))
            r = hd_device_fill_fields(dev, HD_FILL_EXTRA, false);
        if (r < 0) {
            /* Bad sysfs contents say the member and the file already, the group not; a
             * failed read says nothing yet. */
            if (r != -ENODEV && r != -ENOMEM && hd_ctx_last_reason(ctx) == HD_REASON_INVALID) {
                char said[HD_ERROR_MAX];
                hd_strlcpy(said, hd_ctx_last_error(ctx), sizeof(said));
                hd_errr(ctx, r, HD_REASON_INVALID, "IOMMU group %d: member %s", number, said);
            } else if (r != -ENODEV && r != -ENOMEM) {
                hd_err(ctx, r, "IOMMU group %d: reading member %s: %s", number,
                       hd_device_get_name(dev), strerror(-r));
            }
            hd_device_unref(dev);
            if (r == -ENODEV)
                continue; /* went away while we looked */
            break;
        }
        r = 0;
        g->members[g->nmembers++] = dev;
        if (!member_is_dma_safe(dev))
            g->blockers[g->nblockers++] = dev;
    }
    hd_strv_free(names, count);
    if (r < 0) {
        hd_group_unref(g);
        return r;
    }
    *out = g;
    return 0;
}

HD_EXPORT struct hd_group *hd_group_ref(struct hd_group *g)
{
    if (g != NULL)
        hd_ref_take(&g->refcount);
    return g;
}

HD_EXPORT struct hd_group *hd_group_unref(struct hd_group *g)
{
    if (g == NULL || !hd_ref_drop(&g->refcount))
        return NULL;
    for (size_t i = 0; i < g->nmembers; i++)
        hd_device_unref(g->members[i]);
    free(g->members);
    free(g->blockers);
    free(g);
    return NULL;
}

void hd_group_drop_blocker(struct hd_group *g, size_t i)
{
    if (i >= g->nblockers)
        return;
    memmove(&g->blockers[i], &g->blockers[i + 1], (g->nblockers - i - 1) * sizeof(*g->blockers));
    g->nblockers--;
}

HD_EXPORT int hd_group_get_number(const struct hd_group *g)
{
    return g->number;
}

HD_EXPORT size_t hd_group_get_member_count(const struct hd_group *g)
{
    return g->nmembers;
}

HD_EXPORT struct hd_device *hd_group_get_member(const struct hd_group *g, size_t i)
{
    return i < g->nmembers ? g->members[i] : NULL;
}

HD_EXPORT bool hd_group_is_viable(const struct hd_group *g)
{
    return g->nblockers == 0;
}

HD_EXPORT size_t hd_group_get_blocker_count(const struct hd_group *g)
{
    return g->nblockers;
}

HD_EXPORT struct hd_device *hd_group_get_blocker(const struct hd_group *g, size_t i)
{
    return i < g->nblockers ? g->blockers[i] : NULL;
}
