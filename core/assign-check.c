/* assign-check.c - can a device go to a VM, alone or with the devices given beside it: its
 * reset, its IOMMU group's other endpoints, whether the host keeps or uses it (asked as acquire
 * asks, of it and of the other endpoints it needs), and what it still needs beside the set.
 * Nothing here writes. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct hd_assign_check {
    atomic_int refcount;
    struct hd_reset_check *reset;
    struct hd_group *group;     /* NULL: the device has none */
    struct hd_device **company; /* the group's other endpoints, borrowed from group */
    char **company_host_use;    /* what the host uses of each (NULL: nothing, or not asked) */
    struct hd_device **needs;   /* borrowed from group and reset */
    size_t ncompany, nneeds;
    const char *host_keeps; /* static text, NULL */
    char *host_use;         /* NULL: nothing */
};

/* Whether @m, a member of @dev's IOMMU group, is another endpoint (bridges do not count). */
static bool is_company(const struct hd_device *m, const struct hd_device *dev)
{
    return hd_device_is_assignable(m) &&
           !hd_pci_addr_equal(hd_device_get_addr(m), hd_device_get_addr(dev));
}

static bool among(struct hd_device *const *v, size_t n, const struct hd_device *m)
{
    for (size_t k = 0; k < n; k++) {
        if (hd_pci_addr_equal(hd_device_get_addr(v[k]), hd_device_get_addr(m)))
            return true;
    }
    return false;
}

/* Add @m to what @c needs unless the set has it or it is there already. */
static void add_need(struct hd_assign_check *c, struct hd_device *const *set, size_t n,
                     struct hd_device *m)
{
    if (!among(c->needs, c->nneeds, m) && !among(set, n, m))
        c->needs[c->nneeds++] = m;
}

/* The other endpoints of the group (VFIO hands a group to one VM whole), and what the device
 * must go to its VM with that is not in @set: those, and the functions its bus reset also
 * resets. Given together, a GPU and its audio function need nothing more. */
static int find_company(struct hd_assign_check *c, struct hd_device *dev,
                        struct hd_device *const *set, size_t n)
{
    size_t members = c->group ? hd_group_get_member_count(c->group) : 0;
    size_t peers = hd_reset_check_get_peer_count(c->reset);

    if ((c->company = calloc(members + 1, sizeof(*c->company))) == NULL ||
        (c->company_host_use = calloc(members + 1, sizeof(*c->company_host_use))) == NULL ||
        (c->needs = calloc(members + peers + 1, sizeof(*c->needs))) == NULL)
        return hd_err(hd_device_get_ctx(dev), -ENOMEM, "out of memory");
    for (size_t k = 0; k < members; k++) {
        struct hd_device *m = hd_group_get_member(c->group, k);
        if (is_company(m, dev)) {
            c->company[c->ncompany++] = m;
            add_need(c, set, n, m);
        }
    }
    for (size_t k = 0; k < peers; k++)
        add_need(c, set, n, hd_reset_check_get_peer(c->reset, k));
    return 0;
}

/* What the host uses of @dev, asked as acquire asks it (the one decision they share), into
 * *@use (NULL: nothing); *@hu reads the host once for the device and its company. A device the
 * host keeps is refused as that already: not asked. */
static int find_host_use(struct hd_device *dev, struct hd_host_use **hu, char **use)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    int r;

    if (hd_device_get_platform_role(dev) != NULL)
        return 0;
    if ((r = hd_host_use_check_leaving(ctx, hu, dev)) != -EBUSY)
        return r;
    if ((*use = strdup(hd_ctx_last_error(ctx))) == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    hd_ctx_clear_error(ctx);
    return 0;
}

/* What the host uses of the device and of each other endpoint of its group: acquiring the
 * group takes them all, and is refused for any of them. */
static int find_host_uses(struct hd_assign_check *c, struct hd_device *dev, struct hd_host_use *hu)
{
    struct hd_host_use *own = hd_host_use_ref(hu);
    int r = find_host_use(dev, &own, &c->host_use);

    for (size_t k = 0; k < c->ncompany && r == 0; k++)
        r = find_host_use(c->company[k], &own, &c->company_host_use[k]);
    hd_host_use_unref(own);
    return r;
}

HD_EXPORT int hd_device_check_assign(struct hd_device *dev, struct hd_device *const *set, size_t n,
                                     struct hd_host_use *hu, struct hd_assign_check **out)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    struct hd_assign_check *c;
    int number, r;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    hd_ref_init(&c->refcount);
    /* Its group decides "alone": one that cannot be read (a member's bad sysfs contents, a
     * read that fails) leaves the question open. */
    number = hd_device_get_iommu_group(dev);
    if ((r = hd_device_check_reset(dev, &c->reset)) < 0 ||
        (number >= 0 && (r = hd_group_open(ctx, number, &c->group)) < 0)) {
        hd_assign_check_unref(c);
        return r;
    }
    c->host_keeps = hd_device_get_platform_role(dev);
    if ((r = find_company(c, dev, set, n)) < 0 || (r = find_host_uses(c, dev, hu)) < 0) {
        hd_assign_check_unref(c);
        return r;
    }
    *out = c;
    return 0;
}

HD_EXPORT struct hd_assign_check *hd_assign_check_ref(struct hd_assign_check *c)
{
    if (c != NULL)
        hd_ref_take(&c->refcount);
    return c;
}

HD_EXPORT struct hd_assign_check *hd_assign_check_unref(struct hd_assign_check *c)
{
    if (c == NULL || !hd_ref_drop(&c->refcount))
        return NULL;
    for (size_t k = 0; k < c->ncompany; k++)
        free(c->company_host_use[k]);
    free(c->company_host_use);
    free(c->company);
    free(c->needs);
    free(c->host_use);
    hd_group_unref(c->group);
    hd_reset_check_unref(c->reset);
    free(c);
    return NULL;
}

HD_EXPORT const struct hd_reset_check *hd_assign_check_get_reset(const struct hd_assign_check *c)
{
    return c->reset;
}

HD_EXPORT size_t hd_assign_check_get_company_count(const struct hd_assign_check *c)
{
    return c->ncompany;
}

HD_EXPORT struct hd_device *hd_assign_check_get_company(const struct hd_assign_check *c, size_t i)
{
    return i < c->ncompany ? c->company[i] : NULL;
}

HD_EXPORT const char *hd_assign_check_get_company_host_use(const struct hd_assign_check *c,
                                                          size_t i)
{
    return i < c->ncompany ? c->company_host_use[i] : NULL;
}

HD_EXPORT const char *hd_assign_check_get_host_keeps(const struct hd_assign_check *c)
{
    return c->host_keeps;
}

HD_EXPORT const char *hd_assign_check_get_host_use(const struct hd_assign_check *c)
{
    return c->host_use;
}

HD_EXPORT bool hd_assign_check_is_assignable_alone(const struct hd_assign_check *c)
{
    enum hd_reset_scope scope = hd_reset_check_get_scope(c->reset);

    return (scope == HD_RESET_FUNCTION || scope == HD_RESET_BUS) && c->ncompany == 0 &&
           c->host_keeps == NULL && c->host_use == NULL;
}

HD_EXPORT size_t hd_assign_check_get_need_count(const struct hd_assign_check *c)
{
    return c->nneeds;
}

HD_EXPORT struct hd_device *hd_assign_check_get_need(const struct hd_assign_check *c, size_t i)
{
    return i < c->nneeds ? c->needs[i] : NULL;
}

HD_EXPORT const char *hd_assign_check_get_need_host_use(const struct hd_assign_check *c, size_t i)
{
    for (size_t k = 0; i < c->nneeds && k < c->ncompany; k++) {
        if (c->company[k] == c->needs[i])
            return c->company_host_use[k];
    }
    return NULL;
}

HD_EXPORT bool hd_assign_check_is_assignable_together(const struct hd_assign_check *c)
{
    /* One without any reset stays a "no": a VM would get it as the last user left it. */
    return hd_reset_check_get_scope(c->reset) != HD_RESET_NONE && c->nneeds == 0 &&
           c->host_keeps == NULL && c->host_use == NULL;
}
