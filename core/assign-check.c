/* assign-check.c - can a device go to a VM, alone or with the devices given beside it: its
 * reset, its IOMMU group's other endpoints, whether the host keeps or uses it (asked as acquire
 * asks, of it and of the other devices it needs: its group's, its bus reset's), and what it
 * still needs beside the set. Nothing here writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct hd_assign_check {
    atomic_int refcount;
    struct hd_reset_check *reset;
    struct hd_group *group;     /* NULL: the device has none */
    struct hd_device **company; /* the group's other endpoints, borrowed from group */
    struct hd_device **needs;   /* borrowed from group and reset */
    /* The company and the functions its bus reset also resets, each once, with what the host
     * uses of it (NULL: nothing, or not asked); devices borrowed from group and reset. */
    struct other {
        struct hd_device *dev;
        char *host_use;
    } *others;
    size_t ncompany, nneeds, nothers;
    const char *host_keeps; /* static text, NULL */
    bool bridge;            /* no endpoint: no VM can be given it, whatever its reset */
    bool no_group;          /* no IOMMU group: the IOMMU is off, VFIO cannot take it */
    char *host_use;         /* NULL: nothing */
    char *chain_held;       /* acquire's refusal for a device behind it a VM holds; NULL */
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

/* @m among @c's others (the group's and the bus reset's are distinct objects for one device). */
static struct other *other_of(const struct hd_assign_check *c, const struct hd_device *m)
{
    for (size_t k = 0; m != NULL && k < c->nothers; k++) {
        if (hd_pci_addr_equal(hd_device_get_addr(c->others[k].dev), hd_device_get_addr(m)))
            return &c->others[k];
    }
    return NULL;
}

/* Add @m to @c's others unless it is there already. */
static void add_other(struct hd_assign_check *c, struct hd_device *m)
{
    if (other_of(c, m) == NULL)
        c->others[c->nothers++].dev = m;
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
        (c->others = calloc(members + peers + 1, sizeof(*c->others))) == NULL ||
        (c->needs = calloc(members + peers + 1, sizeof(*c->needs))) == NULL)
        return hd_err(hd_device_get_ctx(dev), -ENOMEM, "out of memory");
    for (size_t k = 0; k < members; k++) {
        struct hd_device *m = hd_group_get_member(c->group, k);
        if (is_company(m, dev)) {
            c->company[c->ncompany++] = m;
            add_need(c, set, n, m);
            add_other(c, m);
        }
    }
    for (size_t k = 0; k < peers; k++) {
        add_need(c, set, n, hd_reset_check_get_peer(c->reset, k));
        add_other(c, hd_reset_check_get_peer(c->reset, k));
    }
    return 0;
}

/* What the host uses of the device, of each other endpoint of its group and of each function
 * its bus reset also resets: acquiring them with it (the group whole, the bus's functions to
 * one VM, as vfio-pci resets a bus only then) is refused for any of them. */
static int find_host_uses(struct hd_assign_check *c, struct hd_device *dev, struct hd_host_use *hu)
{
    struct hd_host_use *own = hd_host_use_ref(hu);
    int r = own == NULL ? hd_host_use_new_for(hd_device_get_ctx(dev), 1 + c->nothers, &own) : 0;

    if (r == 0)
        r = hd_host_use_find_own(dev, &own, &c->host_use);
    for (size_t k = 0; k < c->nothers && r == 0; k++)
        r = hd_host_use_find(c->others[k].dev, &own, &c->others[k].host_use);
    hd_host_use_unref(own);
    return r;
}

/* A device behind @dev (USB, SCSI, a mediated device) that a VM holds: as acquire refuses
 * @dev, unless the map gives @dev itself to a VM (then that is said). */
static int find_chain_held(struct hd_assign_check *c, struct hd_device *dev)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    struct hd_assignment_list *map = NULL;
    int r = hd_map_read(ctx, &map);

    if (r == 0 && hd_map_find(map, hd_device_get_addr(dev)) == NULL &&
        hd_check_nothing_held_below(ctx, map, dev) < 0) {
        if ((c->chain_held = strdup(hd_ctx_last_error(ctx))) == NULL)
            r = hd_err(ctx, -ENOMEM, "out of memory");
        else
            hd_ctx_clear_error(ctx);
    }
    hd_assignment_list_unref(map);
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
    c->bridge = !hd_device_is_assignable(dev);
    /* A group vfio's unsafe no-IOMMU mode made is no group to a VM. */
    c->no_group = number < 0 || hd_group_number_is_noiommu(ctx, number);
    if ((r = find_company(c, dev, set, n)) < 0 || (r = find_host_uses(c, dev, hu)) < 0 ||
        (r = find_chain_held(c, dev)) < 0) {
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
    for (size_t k = 0; k < c->nothers; k++)
        free(c->others[k].host_use);
    free(c->others);
    free(c->company);
    free(c->needs);
    free(c->host_use);
    free(c->chain_held);
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
    const struct other *o = other_of(c, hd_assign_check_get_company(c, i));

    return o ? o->host_use : NULL;
}

HD_EXPORT const char *hd_assign_check_get_peer_host_use(const struct hd_assign_check *c, size_t i)
{
    const struct other *o = other_of(c, hd_reset_check_get_peer(c->reset, i));

    return o ? o->host_use : NULL;
}

HD_EXPORT const char *hd_assign_check_get_host_keeps(const struct hd_assign_check *c)
{
    return c->host_keeps;
}

HD_EXPORT const char *hd_assign_check_get_host_use(const struct hd_assign_check *c)
{
    return c->host_use;
}

HD_EXPORT const char *hd_assign_check_get_chain_held(const struct hd_assign_check *c)
{
    return c->chain_held;
}

HD_EXPORT bool hd_assign_check_is_assignable_alone(const struct hd_assign_check *c)
{
    enum hd_reset_scope scope = hd_reset_check_get_scope(c->reset);

    return (scope == HD_RESET_FUNCTION || scope == HD_RESET_BUS) && c->ncompany == 0 &&
           !c->bridge && !c->no_group && c->host_keeps == NULL && c->host_use == NULL &&
           c->chain_held == NULL;
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
    const struct other *o = other_of(c, hd_assign_check_get_need(c, i));

    return o ? o->host_use : NULL;
}

HD_EXPORT bool hd_assign_check_is_assignable_together(const struct hd_assign_check *c)
{
    /* One without any reset stays a "no": a VM would get it as the last user left it. */
    return hd_reset_check_get_scope(c->reset) != HD_RESET_NONE && c->nneeds == 0 &&
           !c->bridge && !c->no_group && c->host_keeps == NULL && c->host_use == NULL &&
           c->chain_held == NULL;
}

enum hd_mdev_readiness hd_mdev_readiness(const char *parent, const char *driver, int group,
                                        char *why, size_t size)
{
    if (driver == NULL || driver[0] == '\0') {
        snprintf(why, size, "is bound to no mdev driver: the driver of its parent %s did not "
                 "take it, so VFIO has no device to hand out", parent);
        return HD_MDEV_NO_DRIVER;
    }
    if (group < 0) {
        snprintf(why, size, "has no IOMMU group: its vendor driver %s has not made it a VFIO "
                 "device", driver);
        return HD_MDEV_NO_GROUP;
    }
    return HD_MDEV_READY;
}

/* A mediated device: its vendor driver took it and made it a VFIO device (an IOMMU group of
 * its own, so nothing else goes with it). Its parent into *@parent (@l's). */
static int check_mdev(struct hd_ctx *ctx, const char *uuid, struct hd_mdev_list **l,
                      struct hd_node_check *out, const char **parent)
{
    char why[sizeof(out->not_ready) - 3];
    int r = hd_mdev_list_new_uuid(ctx, uuid, l);

    if (r < 0)
        return r;
    hd_strlcpy(out->name, uuid, sizeof(out->name));
    *parent = hd_mdev_list_get_parent(*l, 0);
    if (hd_mdev_readiness(*parent, hd_mdev_list_get_driver(*l, 0),
                          hd_mdev_list_get_iommu_group(*l, 0), why, sizeof(why)) != HD_MDEV_READY)
        snprintf(out->not_ready, sizeof(out->not_ready), "it %s", why);
    else
        snprintf(out->node, sizeof(out->node), "/dev/vfio/%d",
                 hd_mdev_list_get_iommu_group(*l, 0));
    return 0;
}

int hd_node_target_find_ready(struct hd_ctx *ctx, const char *sel, struct hd_node_target *t,
                              struct hd_node_check *out)
{
    int r = hd_node_target_find(ctx, sel, t);

    if (r < 0 && t->name[0] != '\0' && hd_ctx_last_reason(ctx) == HD_REASON_UNSUPPORTED) {
        hd_strlcpy(out->not_ready, hd_ctx_last_error(ctx), sizeof(out->not_ready));
        hd_ctx_clear_error(ctx);
    } else if (r < 0) {
        return r;
    } else {
        snprintf(out->node, sizeof(out->node), "/%s", t->node);
    }
    hd_strlcpy(out->name, t->name, sizeof(out->name));
    return 0;
}

int hd_node_target_judge_host(struct hd_ctx *ctx, struct hd_host_use **hu,
                              const struct hd_node_target *t, struct hd_node_check *out)
{
    const char *role = hd_node_target_host_role(ctx, t);
    int r;

    if (role != NULL) {
        hd_strlcpy(out->host_keeps, role, sizeof(out->host_keeps));
        return 0;
    }
    if ((r = hd_node_target_check_host_use(ctx, hu, t)) == -EBUSY) {
        hd_strlcpy(out->host_use, hd_ctx_last_error(ctx), sizeof(out->host_use));
        hd_ctx_clear_error(ctx);
        r = 0;
    }
    return r;
}

/* A device @t is behind, or one behind it, that a VM holds: as acquire refuses it. */
static int judge_chain(struct hd_ctx *ctx, const struct hd_node_target *t,
                       struct hd_node_check *out)
{
    struct hd_assignment_list *map = NULL;
    int r = hd_map_read(ctx, &map);

    if (r == 0 && hd_check_target_chain_free(ctx, map, t) < 0) {
        hd_strlcpy(out->chain_held, hd_ctx_last_error(ctx), sizeof(out->chain_held));
        hd_ctx_clear_error(ctx);
    }
    hd_assignment_list_unref(map);
    return r;
}

HD_EXPORT int hd_node_device_check_assign(struct hd_ctx *ctx, const char *sel,
                                          struct hd_device *const *set, size_t n,
                                          struct hd_host_use *hu, struct hd_node_check *out)
{
    struct hd_host_use *own = hd_host_use_ref(hu);
    struct hd_mdev_list *l = NULL;
    struct hd_node_target t;
    const char *parent = NULL, *sysfs = NULL; /* what it lives on or is behind */
    char uuid[37];
    int r;

    memset(out, 0, sizeof(*out));
    if (sel == NULL)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "no device given");
    if (hd_mdev_uuid_parse(sel, uuid) == 0) {
        r = check_mdev(ctx, uuid, &l, out, &parent);
    } else {
        if ((r = hd_node_target_find_ready(ctx, sel, &t, out)) == 0)
            r = hd_node_target_judge_host(ctx, &own, &t, out);
        if (r == 0)
            r = judge_chain(ctx, &t, out);
        sysfs = t.sysfs;
    }
    /* Detaching the PCI device it is behind or lives on takes it from the host: acquire
     * refuses the two together, in these words. */
    for (size_t k = 0; r == 0 && k < n; k++) {
        if (hd_check_not_below(ctx, out->name, parent, sysfs, hd_device_get_name(set[k])) < 0) {
            hd_strlcpy(out->not_together, hd_ctx_last_error(ctx), sizeof(out->not_together));
            hd_ctx_clear_error(ctx);
            break;
        }
    }
    out->assignable = r == 0 && !out->host_keeps[0] && !out->host_use[0] && !out->not_ready[0] &&
                      !out->chain_held[0];
    hd_mdev_list_unref(l);
    hd_host_use_unref(own);
    return r;
}

/* @sel as a USB or SCSI device: its name and place, also when it has no node (a SCSI device
 * without its dev/sgN is still behind its controller); 1: a mediated device's UUID. */
static int node_target_place(struct hd_ctx *ctx, const char *sel, struct hd_node_target *t)
{
    char uuid[37];
    int r;

    if (hd_mdev_uuid_parse(sel, uuid) == 0)
        return 1;
    r = hd_node_target_find(ctx, sel, t);
    if (r < 0 && t->name[0] == '\0')
        return r;
    hd_ctx_clear_error(ctx);
    return 0;
}

HD_EXPORT int hd_node_device_check_pair(struct hd_ctx *ctx, const char *sel, const char *other,
                                        char **why)
{
    struct hd_node_target a, b;
    int r;

    *why = NULL;
    if (sel == NULL || other == NULL)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "no device given");
    if ((r = node_target_place(ctx, sel, &a)) != 0 || (r = node_target_place(ctx, other, &b)) != 0)
        return r < 0 ? r : 0;
    if (hd_check_targets_apart(ctx, &a, &b) < 0) {
        if ((*why = strdup(hd_ctx_last_error(ctx))) == NULL)
            return hd_err(ctx, -ENOMEM, "out of memory");
        hd_ctx_clear_error(ctx);
    }
    return 0;
}
