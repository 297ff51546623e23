/* reserve-apply.c - applying reservations: every configured device at boot, one device as udev
 * reports it, one entry (persist), and giving devices back (unpersist). Each device is an
 * operation of the engine of its own, so one that fails leaves the others to their stubs; what
 * happened to each is an item of a result, told to the caller as it happens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct item {
    enum hd_reserve_action action;
    enum hd_reserve_outcome outcome;
    struct hd_device *dev;                /* PCI items: read again after the operation */
    const struct hd_reserve_entry *entry; /* the result's config's, or its own copy */
    struct hd_op *op;                     /* HD_RESERVE_DONE */
    char *error;                          /* HD_RESERVE_FAILED */
    char *warning; /* the first item of a PF reserved for a stub with a VF count asked of it */
    enum hd_reason reason;
    char *uuid, *parent, *type; /* HD_RESERVE_MDEV */
};

struct hd_reserve_result {
    atomic_int refcount;
    struct item *v;
    size_t n, cap;
    size_t failed;
    struct hd_ctx *ctx;
    unsigned int flags;
    hd_reserve_fn fn;
    void *data;
    struct hd_reserve_config *config; /* holds the entries the items point to */
    /* An entry's call (persist): the configuration, for the entries that reserve the VFs its
     * count makes, which the call itself does not apply */
    struct hd_reserve_config *reservations;
    struct hd_reserve_entry entry;    /* hd_reserve_entry_apply()'s, copied */
    char *entry_driver, *entry_file;
    /* VFs a planned count removes, told as such already */
    struct hd_pci_addr *gone;
    size_t ngone, gone_cap;
    /* Results whose items were moved here (hd_reserve_result_join()): they hold the entries
     * those items point to */
    struct hd_reserve_result **joined;
    size_t njoined;
};

static int result_new(struct hd_ctx *ctx, struct hd_reserve_config *config, unsigned int flags,
                      hd_reserve_fn fn, void *data, struct hd_reserve_result **out)
{
    struct hd_reserve_result *res = calloc(1, sizeof(*res));

    *out = NULL;
    if (res == NULL) {
        hd_err(ctx, -ENOMEM, "out of memory");
        return -ENOMEM;
    }
    hd_ref_init(&res->refcount);
    res->ctx = ctx;
    res->flags = flags;
    res->fn = fn;
    res->data = data;
    res->config = hd_reserve_config_ref(config);
    *out = res;
    return 0;
}

static void item_free(struct item *it)
{
    hd_device_unref(it->dev);
    hd_op_unref(it->op);
    free(it->error);
    free(it->warning);
    free(it->uuid);
    free(it->parent);
    free(it->type);
}

HD_EXPORT struct hd_reserve_result *hd_reserve_result_ref(struct hd_reserve_result *res)
{
    if (res != NULL)
        hd_ref_take(&res->refcount);
    return res;
}

HD_EXPORT struct hd_reserve_result *hd_reserve_result_unref(struct hd_reserve_result *res)
{
    if (res == NULL || !hd_ref_drop(&res->refcount))
        return NULL;
    for (size_t i = 0; i < res->n; i++)
        item_free(&res->v[i]);
    free(res->v);
    free(res->gone);
    hd_reserve_config_unref(res->config);
    hd_reserve_config_unref(res->reservations);
    free(res->entry_driver);
    free(res->entry_file);
    for (size_t i = 0; i < res->njoined; i++)
        hd_reserve_result_unref(res->joined[i]);
    free(res->joined);
    free(res);
    return NULL;
}

int hd_reserve_result_join(struct hd_reserve_result **into, struct hd_reserve_result *from)
{
    struct hd_reserve_result *to = *into;

    if (to == NULL) {
        *into = from;
        return 0;
    }
    struct item *v = realloc(to->v, (to->n + from->n + 1) * sizeof(*v));
    struct hd_reserve_result **joined =
        realloc(to->joined, (to->njoined + 1) * sizeof(*joined));
    if (v != NULL)
        to->v = v;
    if (joined != NULL)
        to->joined = joined;
    if (v == NULL || joined == NULL) {
        hd_reserve_result_unref(from);
        return hd_err(to->ctx, -ENOMEM, "out of memory");
    }
    to->cap = to->n + from->n + 1;
    memcpy(&to->v[to->n], from->v, from->n * sizeof(*v));
    to->n += from->n;
    to->failed += from->failed;
    from->n = 0; /* the items are @to's now */
    from->failed = 0;
    to->joined[to->njoined++] = from;
    return 0;
}

/* A new item about @dev (NULL: a mediated device), failed until told otherwise. */
static struct item *item_add(struct hd_reserve_result *res, enum hd_reserve_action action,
                             struct hd_device *dev, const struct hd_reserve_entry *entry)
{
    struct item *v = hd_array_grow(res->v, &res->cap, res->n, sizeof(*v), 8);

    if (v == NULL) {
        hd_err(res->ctx, -ENOMEM, "out of memory");
        return NULL;
    }
    res->v = v;
    v[res->n] = (struct item){.action = action, .outcome = HD_RESERVE_FAILED,
                              .dev = hd_device_ref(dev), .entry = entry};
    return &v[res->n++];
}

/* A PF reserved for a stub with a VF count asked of it may be left without VFs: the warning, on
 * @it (the PF's reservation, or the count of an entry without a stub) unless an item before
 * tells it, from the entries this result applies (an entry's call, persist's: its own, and the
 * configuration's for what it leaves unsaid). */
static void warn_stub_numvfs(struct hd_reserve_result *res, struct item *it)
{
    for (struct item *v = res->v; v < it; v++)
        if (v->warning != NULL &&
            hd_pci_addr_equal(hd_device_get_addr(v->dev), hd_device_get_addr(it->dev)))
            return; /* told with that one */
    it->warning = res->config != NULL
                      ? hd_reserve_stub_numvfs_warning(res->config, NULL, false, it->dev)
                      : hd_reserve_stub_numvfs_warning(res->reservations, &res->entry, true,
                                                       it->dev);
}

/* @it, the entry's reservation of devs[@i] of the @n devices it takes (an entry's call,
 * persist's): warn_stub_numvfs(); else, for VFs among them that no VF count of the
 * configuration makes at boot, that the entry does nothing for them then (once per PF). */
static void warn_entry_bind(struct hd_reserve_result *res, struct item *it,
                            struct hd_device *const *devs, size_t n, size_t i)
{
    warn_stub_numvfs(res, it);
    if (it->warning == NULL)
        it->warning = hd_reserve_vf_boot_warning(res->reservations, devs, n, i);
}

/* @it is complete: the caller hears of it. 1 when it failed, else 0. */
static int item_done(struct hd_reserve_result *res, struct item *it)
{
    size_t i = (size_t)(it - res->v);

    if (it->outcome == HD_RESERVE_FAILED)
        res->failed++;
    if (res->fn != NULL)
        res->fn(res->data, res, i);
    return it->outcome == HD_RESERVE_FAILED;
}

/* @it failed with @err: the context's message, after @what unless it starts with it already
 * (as the tools print a library error), kept with its reason, since the next device's
 * operation replaces both on the context. */
static void item_fail(struct hd_reserve_result *res, struct item *it, const char *what, int err)
{
    const char *msg = hd_ctx_last_error(res->ctx);
    const char *tail = msg[0] ? msg : strerror(-err);
    size_t len = what != NULL ? strlen(what) : 0;

    it->outcome = HD_RESERVE_FAILED;
    it->reason = hd_ctx_last_reason(res->ctx);
    if (what == NULL || (strncmp(tail, what, len) == 0 && (tail[len] == ':' || tail[len] == ' ')))
        it->error = strdup(tail);
    else if (asprintf(&it->error, "%s: %s", what, tail) < 0)
        it->error = NULL;
}

/* Whether @it's operation (a reservation) turns @dev's SR-IOV off: its driver lets go of the
 * PF, a "numvfs" step to 0. */
static bool turns_sriov_off(const struct item *it, struct hd_device *dev)
{
    for (size_t k = 0; it->op != NULL && k < hd_op_get_step_count(it->op); k++)
        if (strcmp(hd_op_step_get_action(it->op, k), "numvfs") == 0 &&
            strcmp(hd_op_step_get_to(it->op, k), "0") == 0 &&
            strcmp(hd_op_step_get_device(it->op, k), hd_device_get_name(dev)) == 0)
            return true;
    return false;
}

/* Under a dry run, the VF count an item before plans @dev (a PF) to have (-1: none): set by a
 * count, or 0 by a reservation that takes the PF from its driver. Not so yet, so the operation
 * after it is told (the run's finds it so). */
static int planned_numvfs(const struct hd_reserve_result *res, struct hd_device *dev)
{
    for (size_t i = res->n; (res->flags & HD_RESERVE_DRY_RUN) && i-- > 0;) {
        const struct item *it = &res->v[i];
        if (it->outcome != HD_RESERVE_DONE || it->dev == NULL || it->entry == NULL ||
            !hd_pci_addr_equal(hd_device_get_addr(it->dev), hd_device_get_addr(dev)))
            continue;
        if (it->action == HD_RESERVE_NUMVFS)
            return it->entry->numvfs;
        if (it->action == HD_RESERVE_BIND && turns_sriov_off(it, dev))
            return 0;
    }
    return -1;
}

/* Under a dry run, the driver an item before plans to bind @dev to (NULL: none): not bound yet,
 * so the operation after it is told (the run's finds it bound). */
static const char *planned_driver(const struct hd_reserve_result *res, struct hd_device *dev)
{
    for (size_t i = res->n; (res->flags & HD_RESERVE_DRY_RUN) && i-- > 0;) {
        const struct item *it = &res->v[i];
        if (it->action == HD_RESERVE_BIND && it->outcome == HD_RESERVE_DONE &&
            it->dev != NULL && it->entry != NULL && it->entry->driver != NULL &&
            hd_pci_addr_equal(hd_device_get_addr(it->dev), hd_device_get_addr(dev)))
            return it->entry->driver;
    }
    return NULL;
}

/* @dev's driver as the run finds it here: under a dry run, the one an item before plans. */
static const char *driver_now(const struct hd_reserve_result *res, struct hd_device *dev)
{
    const char *planned = planned_driver(res, dev);

    return planned ? planned : hd_device_get_driver(dev);
}

/* The operation @kind as @it's entry asks, for the @n devices @devs (NULL: @it's device
 * alone), all of them or none; @it holds it, and each device is read again after it. */
static void run_op(struct hd_reserve_result *res, struct item *it, enum hd_op_kind kind,
                   struct hd_device *const *devs, size_t n)
{
    const struct hd_reserve_entry *e = it->entry;
    struct hd_op *op;
    int r;

    if (devs == NULL) {
        devs = &it->dev;
        n = 1;
    }
    if ((r = hd_op_new(res->ctx, kind, &op)) < 0) {
        item_fail(res, it, hd_device_get_name(it->dev), r);
        return;
    }
    /* A configuration's reservation is the boot's (an entry's alone is persist's, now); a
     * give-back's devices are those no other reservation keeps. */
    hd_op_set_flags(op, (res->flags & HD_RESERVE_DRY_RUN ? HD_OP_DRY_RUN : 0) |
                            (res->flags & HD_RESERVE_FORCE ? HD_OP_FORCE : 0) |
                            (kind == HD_OP_RESERVE && res->config != NULL ? HD_OP_AT_BOOT : 0) |
                            (kind == HD_OP_REATTACH ? HD_OP_NO_NOTES : 0) |
                            (kind == HD_OP_RESERVE && e != NULL && e->noiommu ? HD_OP_NOIOMMU
                                                                               : 0));
    if (e != NULL && e->driver != NULL) /* a give-back has no entry */
        hd_op_set_driver(op, e->driver);
    if (e != NULL && e->numvfs >= 0)
        hd_op_set_numvfs(op, (unsigned int)e->numvfs);
    hd_ctx_clear_error(res->ctx);
    r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        int planned = planned_numvfs(res, devs[i]);
        const char *driver = planned_driver(res, devs[i]);
        if (planned >= 0)
            hd_op_set_planned_numvfs(op, hd_device_get_addr(devs[i]), planned);
        if (driver != NULL)
            hd_op_set_planned_driver(op, hd_device_get_addr(devs[i]), driver);
        r = hd_op_add_device(op, hd_device_get_addr(devs[i]), true);
    }
    it->op = op; /* a failed one's too: its steps say how each ended */
    if (r < 0 || (r = hd_op_run(op)) < 0) {
        item_fail(res, it, NULL, r);
        return;
    }
    it->outcome = HD_RESERVE_DONE;
    for (size_t i = 0; i < n; i++) {
        /* The operation worked on its own snapshot: the caller reads this one. */
        hd_device_reread(devs[i], HD_FILL_EXTRA);
    }
}

static bool is_gone(const struct hd_reserve_result *res, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < res->ngone; i++)
        if (hd_pci_addr_equal(&res->gone[i], addr))
            return true;
    return false;
}

/* @addr is gone (a VF a count removes): not to be reserved as a device. -ENOMEM, else 0. */
static int mark_gone(struct hd_reserve_result *res, const struct hd_pci_addr *addr)
{
    struct hd_pci_addr *v = hd_array_grow(res->gone, &res->gone_cap, res->ngone, sizeof(*v), 8);

    if (v == NULL)
        return hd_err(res->ctx, -ENOMEM, "out of memory");
    (res->gone = v)[res->ngone++] = *addr;
    return 0;
}

/* A VF the planned count of @pf makes or removes, as an item (HD_RESERVE_DONE: planned). */
static int vf_item(struct hd_reserve_result *res, enum hd_reserve_action action,
                   struct hd_device *vf, const struct hd_reserve_entry *e,
                   enum hd_reserve_outcome outcome)
{
    struct item *it = item_add(res, action, vf, e);

    hd_device_unref(vf);
    if (it == NULL)
        return -ENOMEM;
    it->outcome = outcome;
    item_done(res, it);
    return 0;
}

/* A VF the count makes, with the entry that reserves it. Applying a configuration reserves it
 * next, as a device (HD_RESERVE_DONE); an entry's call (persist's) leaves it unbound, to its
 * "add" event (hostdev's udev rule applies the configuration to it) and the boot
 * (HD_RESERVE_LATER with the entry). Its ids not known, no entry is known to take it either
 * (HD_RESERVE_LATER, no entry). */
static int vf_made(struct hd_reserve_result *res, struct hd_device *vf, bool ids_known)
{
    const struct hd_reserve_config *config = res->config ? res->config : res->reservations;
    const struct hd_reserve_entry *e =
        ids_known && config != NULL ? hd_reserve_config_match(config, vf) : NULL;

    return vf_item(res, HD_RESERVE_VF_MADE, vf, e,
                   ids_known && (e == NULL || res->config != NULL) ? HD_RESERVE_DONE
                                                                   : HD_RESERVE_LATER);
}

/* Under a dry run, what the planned count @numvfs of @pf does to its VFs, which no operation
 * can plan as devices before they exist: those there now go (the count changes through 0;
 * @told_gone: an item before planned that already),
 * then the new ones come unbound (sriov_drivers_autoprobe 0), each to the stub an entry of the
 * configuration reserves it for, as the run's listing then finds them. Their addresses come
 * from the PF's sriov_offset and sriov_stride now. -ENOMEM, else 0. */
static int plan_vfs(struct hd_reserve_result *res, struct hd_device *pf, int numvfs,
                    bool told_gone)
{
    int offset, stride, now, r = 0;
    /* None left when an item planned before removed them (told gone with it). */
    size_t there = told_gone ? 0 : hd_device_get_virtfn_count(pf);

    for (size_t i = 0; r == 0 && i < there; i++) {
        const struct hd_pci_addr *a = hd_device_get_virtfn(pf, i);
        struct hd_device *vf;
        if (mark_gone(res, a) < 0)
            return -ENOMEM;
        if (hd_device_open_fill(res->ctx, a, HD_FILL_IDENT, &vf) < 0 &&
            (vf = hd_device_new(res->ctx, a)) == NULL)
            return hd_err(res->ctx, -ENOMEM, "out of memory");
        r = vf_item(res, HD_RESERVE_VF_GONE, vf, NULL, HD_RESERVE_DONE);
    }
    hd_ctx_clear_error(res->ctx);
    if (r < 0)
        return r;
    if (hd_device_read_vf_layout(pf, &offset, &stride, &now) < 0) {
        /* No layout, no VFs to plan: not the dry run's failure, nor its reason. */
        hd_ctx_clear_error(res->ctx);
        return 0;
    }
    for (int i = 0; r == 0 && i < numvfs; i++) {
        struct hd_pci_addr a;
        struct hd_device *vf;
        bool ids;
        if (hd_pci_vf_addr(hd_device_get_addr(pf), offset, stride, i, &a) < 0)
            break;
        if ((vf = hd_device_new(res->ctx, &a)) == NULL)
            return hd_err(res->ctx, -ENOMEM, "out of memory");
        ids = hd_device_fill_vf_ids(vf, pf) == 0;
        r = vf_made(res, vf, ids);
    }
    return r;
}

/* The VFs @pf has now, each read as it is (@out, @n; they are unreferenced by vf_item()).
 * -ENOMEM, else 0. */
static int vfs_now(struct hd_reserve_result *res, struct hd_device *pf, struct hd_device ***out,
                   size_t *n)
{
    size_t count = hd_device_get_virtfn_count(pf);

    *n = 0;
    if ((*out = calloc(count + 1, sizeof(**out))) == NULL)
        return hd_err(res->ctx, -ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const struct hd_pci_addr *a = hd_device_get_virtfn(pf, i);
        struct hd_device *vf;
        if (hd_device_open_fill(res->ctx, a, HD_FILL_IDENT, &vf) < 0 &&
            (vf = hd_device_new(res->ctx, a)) == NULL)
            break;
        (*out)[(*n)++] = vf;
    }
    hd_ctx_clear_error(res->ctx);
    return 0;
}

/* After the run set @pf's count, what it did to the VFs, told as a dry run plans it
 * (plan_vfs()): the @ngone there before (read then) went, and those there now were made,
 * each with the entry that reserves it. -ENOMEM, else 0. */
static int tell_vfs(struct hd_reserve_result *res, struct hd_device *pf, struct hd_device **gone,
                    size_t ngone)
{
    struct hd_device **made = NULL;
    size_t nmade = 0;
    int r = 0;

    for (size_t i = 0; i < ngone; i++) {
        struct hd_device *vf = gone[i];
        gone[i] = NULL;
        if (r == 0)
            r = vf_item(res, HD_RESERVE_VF_GONE, vf, NULL, HD_RESERVE_DONE);
        else
            hd_device_unref(vf);
    }
    hd_device_fill(pf, HD_FILL_SRIOV);
    if (r == 0 && (r = vfs_now(res, pf, &made, &nmade)) == 0) {
        for (size_t i = 0; i < nmade; i++) {
            struct hd_device *vf = made[i];
            if (r == 0)
                r = vf_made(res, vf, true);
            else
                hd_device_unref(vf);
        }
    }
    free(made);
    return r;
}

/* What no host state makes possible (a VF count above sriov_totalvfs, a bridge) fails @it
 * before anything is planned, as `persisted` and `show` say it will. */
static bool refused(struct hd_reserve_result *res, struct item *it)
{
    int r;

    hd_ctx_clear_error(res->ctx);
    if ((r = hd_reserve_entry_check(it->entry, it->dev)) == 0)
        return false;
    item_fail(res, it, NULL, r);
    return true;
}

/* The PF @dev's VF count as @e asks: now, or once its driver binds (the driver makes VFs).
 * 1 failed, 0 done, -ENOMEM. */
static int apply_numvfs(struct hd_reserve_result *res, struct hd_device *dev,
                        const struct hd_reserve_entry *e)
{
    struct item *it = item_add(res, HD_RESERVE_NUMVFS, dev, e);
    bool dry_run = res->flags & HD_RESERVE_DRY_RUN;
    struct hd_device **gone = NULL;
    size_t ngone = 0;
    int r;

    if (it == NULL)
        return -ENOMEM;
    /* The reservation of the PF tells it, when this call makes one (an entry's count alone is
     * persist's without it). */
    if (res->config == NULL && res->entry.driver == NULL)
        warn_stub_numvfs(res, it);
    hd_device_fill(dev, HD_FILL_SRIOV);
    int planned = planned_numvfs(res, dev);
    if (refused(res, it)) {
        it->outcome = HD_RESERVE_FAILED; /* as it stands: said why */
    } else if ((planned >= 0 ? planned : hd_device_get_sriov_numvfs(dev)) == e->numvfs) {
        it->outcome = HD_RESERVE_UNCHANGED;
    } else if (driver_now(res, dev) == NULL) {
        it->outcome = HD_RESERVE_LATER; /* its driver's "bind" event comes back for it */
    } else {
        /* The run tells the VFs the count removes as they were before it: read them now. */
        if (!dry_run && vfs_now(res, dev, &gone, &ngone) < 0)
            return -ENOMEM;
        run_op(res, it, HD_OP_NUMVFS, NULL, 0);
    }
    /* An entry's call gives its devices back when their count fails, and those items leave
     * the result: the warning said with the PF's reservation goes with the failure. */
    for (struct item *v = res->v; res->config == NULL && it->outcome == HD_RESERVE_FAILED &&
                                  it->warning == NULL && v < it; v++)
        if (v->warning != NULL && v->dev != NULL &&
            hd_pci_addr_equal(hd_device_get_addr(v->dev), hd_device_get_addr(dev)))
            it->warning = v->warning, v->warning = NULL;
    r = item_done(res, it);
    if (it->outcome == HD_RESERVE_DONE &&
        (dry_run ? plan_vfs(res, dev, e->numvfs, planned >= 0)
                 : tell_vfs(res, dev, gone, ngone)) < 0)
        r = -ENOMEM;
    for (size_t i = 0; i < ngone; i++)
        hd_device_unref(gone[i]); /* not told: the count failed */
    free(gone);
    return r;
}

/* @dev to the stub @e names, for good. 1 failed, 0 done, -ENOMEM. */
static int apply_bind(struct hd_reserve_result *res, struct hd_device *dev,
                      const struct hd_reserve_entry *e)
{
    struct item *it = item_add(res, HD_RESERVE_BIND, dev, e);

    if (it == NULL)
        return -ENOMEM;
    warn_stub_numvfs(res, it);
    if (!refused(res, it))
        run_op(res, it, HD_OP_RESERVE, NULL, 0);
    return item_done(res, it);
}

/* Whether @addr has a reservation item already. */
static bool has_bind_item(const struct hd_reserve_result *res, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < res->n; i++)
        if (res->v[i].action == HD_RESERVE_BIND && res->v[i].dev != NULL &&
            hd_pci_addr_equal(hd_device_get_addr(res->v[i].dev), addr))
            return true;
    return false;
}

/* Whether the VF @dev is to wait for its PF: one in @list that @config reserves and that has no
 * reservation item yet. */
static bool waits_for_pf(const struct hd_reserve_result *res,
                         const struct hd_reserve_config *config,
                         const struct hd_device_list *list, struct hd_device *dev)
{
    const struct hd_pci_addr *physfn = hd_device_get_physfn(dev);
    struct hd_device *pf = physfn != NULL ? hd_device_list_find(list, physfn) : NULL;

    return pf != NULL && hd_reserve_config_match(config, pf) != NULL && !has_bind_item(res, physfn);
}

/* A whole step of the run that could not be read (@what: what it was reading). */
static int mdevs_failed(struct hd_reserve_result *res, const char *what, int err)
{
    struct item *it = item_add(res, HD_RESERVE_MDEV, NULL, NULL);

    if (it == NULL)
        return -ENOMEM;
    item_fail(res, it, what, err);
    return item_done(res, it);
}

static bool mdev_exists(const struct hd_mdev_list *have, const char *uuid)
{
    for (size_t k = 0; k < hd_mdev_list_count(have); k++)
        if (strcmp(hd_mdev_list_get_uuid(have, k), uuid) == 0)
            return true;
    return false;
}

static bool type_offered(const struct hd_mdev_type_list *types, const char *parent,
                         const char *type)
{
    for (size_t k = 0; k < hd_mdev_type_list_count(types); k++)
        if (strcmp(hd_mdev_type_list_get_parent(types, k), parent) == 0 &&
            strcmp(hd_mdev_type_list_get_id(types, k), type) == 0)
            return true;
    return false;
}

/* Make mediated device @i of @defs, each its own operation. 1 failed, 0 done, -ENOMEM. */
static int start_mdev(struct hd_reserve_result *res, const struct hd_mdev_defined_list *defs,
                      size_t i, bool offered)
{
    const char *uuid = hd_mdev_defined_list_get_uuid(defs, i);
    const char *parent = hd_mdev_defined_list_get_parent(defs, i);
    const char *type = hd_mdev_defined_list_get_type(defs, i);
    struct item *it = item_add(res, HD_RESERVE_MDEV, NULL, NULL);
    struct hd_op *op;
    int r;

    if (it == NULL || (it->uuid = strdup(uuid)) == NULL || (it->parent = strdup(parent)) == NULL ||
        (it->type = strdup(type)) == NULL) {
        if (it != NULL)
            res->n--, free(it->uuid), free(it->parent);
        return hd_err(res->ctx, -ENOMEM, "out of memory");
    }
    if (!offered) { /* its parent's driver is not loaded (yet): nothing to make it on */
        it->outcome = HD_RESERVE_LATER;
        return item_done(res, it);
    }
    if ((r = hd_op_new(res->ctx, HD_OP_MDEV_CREATE, &op)) < 0) {
        item_fail(res, it, "starting the operation", r);
        return item_done(res, it);
    }
    hd_op_set_flags(op, res->flags & HD_RESERVE_DRY_RUN ? HD_OP_DRY_RUN : 0);
    hd_ctx_clear_error(res->ctx);
    it->op = op; /* a failed one's too: its steps say how each ended */
    if ((r = hd_op_set_mdev(op, parent, type, uuid)) < 0 || (r = hd_op_run(op)) < 0)
        item_fail(res, it, NULL, r);
    else
        it->outcome = HD_RESERVE_DONE;
    return item_done(res, it);
}

/* Mediated devices defined to start at boot (mdevctl's start=auto) that are not there yet:
 * made where their parent offers their type; from @loaded, else read here; @parent: only
 * those under it (NULL: all). -ENOMEM, else 0 (failures are items). */
static int start_defined_mdevs(struct hd_reserve_result *res,
                               const struct hd_mdev_defined_list *loaded, const char *parent)
{
    const struct hd_mdev_defined_list *defs = loaded;
    struct hd_mdev_defined_list *own = NULL;
    struct hd_mdev_type_list *types = NULL;
    struct hd_mdev_list *have = NULL;
    int r;

    hd_ctx_clear_error(res->ctx);
    if (defs == NULL) {
        if ((r = hd_mdev_defined_list_load(res->ctx, &own)) < 0)
            return mdevs_failed(res, "reading the mdev definitions", r) < 0 ? -ENOMEM : 0;
        defs = own;
    }
    /* A file that is no definition fails alone (bad input): the others are made. */
    for (size_t i = 0; i < hd_mdev_defined_list_get_error_count(defs); i++) {
        hd_errr(res->ctx, -EINVAL, HD_REASON_INVALID, "%s",
                hd_mdev_defined_list_get_error(defs, i));
        if (mdevs_failed(res, "reading the mdev definitions", -EINVAL) < 0) {
            hd_mdev_defined_list_unref(own);
            return -ENOMEM;
        }
    }
    if (hd_mdev_defined_list_count(defs) > 0 &&
        ((r = hd_mdev_list_new(res->ctx, &have)) < 0 ||
         (r = hd_mdev_type_list_new(res->ctx, &types)) < 0))
        r = mdevs_failed(res, "listing mediated devices", r) < 0 ? -ENOMEM : 0;
    else
        r = 0;
    for (size_t i = 0; r >= 0 && types != NULL && i < hd_mdev_defined_list_count(defs); i++) {
        if (!hd_mdev_defined_list_get_autostart(defs, i) ||
            (parent != NULL && strcmp(hd_mdev_defined_list_get_parent(defs, i), parent) != 0) ||
            mdev_exists(have, hd_mdev_defined_list_get_uuid(defs, i)))
            continue;
        r = start_mdev(res, defs, i,
                       type_offered(types, hd_mdev_defined_list_get_parent(defs, i),
                                    hd_mdev_defined_list_get_type(defs, i)));
    }
    hd_mdev_defined_list_unref(own);
    hd_mdev_list_unref(have);
    hd_mdev_type_list_unref(types);
    return r < 0 ? r : 0;
}

/* The run is over: the result, with the count of items that failed; or -errno. */
static int finish(struct hd_reserve_result *res, int r, struct hd_reserve_result **result)
{
    if (r < 0) {
        hd_reserve_result_unref(res);
        return r;
    }
    *result = res;
    return (int)res->failed;
}

HD_EXPORT int hd_reserve_config_apply(struct hd_reserve_config *config, struct hd_ctx *ctx,
                                      unsigned int flags, hd_reserve_fn fn, void *data,
                                      struct hd_reserve_result **result)
{
    return hd_reserve_config_apply_with_mdevs(config, NULL, ctx, flags, fn, data, result);
}

HD_EXPORT int hd_reserve_config_apply_with_mdevs(struct hd_reserve_config *config,
                                                 const struct hd_mdev_defined_list *mdevs,
                                                 struct hd_ctx *ctx, unsigned int flags,
                                                 hd_reserve_fn fn, void *data,
                                                 struct hd_reserve_result **result)
{
    struct hd_reserve_result *res;
    struct hd_device_list *list = NULL;
    int r;

    *result = NULL;
    if ((r = result_new(ctx, config, flags, fn, data, &res)) < 0)
        return r;
    /* VF counts first: VFs can be reserved by ids, so they must exist before the listing. A PF
     * reserved for a stub is bound before its count, which the stub sets then: its host driver
     * turns SR-IOV off as it lets go, so VFs counted before would go with it. */
    for (size_t i = 0; r >= 0 && i < hd_reserve_config_count(config); i++) {
        const struct hd_reserve_entry *e = hd_reserve_config_get(config, i), *stub;
        struct hd_device *dev;
        if (e->numvfs < 0 || hd_device_open(ctx, &e->sel.addr, &dev) < 0)
            continue;
        if (hd_reserve_config_match_numvfs(config, dev) == e) {
            stub = hd_reserve_config_match(config, dev);
            r = stub != NULL ? apply_bind(res, dev, stub) : 0;
            if (r == 0) /* not after a failed bind: the count is the stub's */
                r = apply_numvfs(res, dev, e);
        }
        hd_device_unref(dev);
    }
    if (r >= 0) {
        hd_ctx_clear_error(ctx);
        r = hd_device_list_new(ctx, HD_FILL_IDENT, &list);
    }
    /* Each reserved PF before its VFs, whatever the listing's order (a VF's routing id is above
     * its PF's, but nothing here needs it to be): a forced reservation of the PF destroys its
     * VFs. A PF reserved before its count is not reserved again. */
    bool *waited = r >= 0 ? calloc(hd_device_list_count(list) + 1, sizeof(*waited)) : NULL;
    if (r >= 0 && waited == NULL)
        r = hd_err(ctx, -ENOMEM, "out of memory");
    for (int pass = 0; r >= 0 && waited != NULL && pass < 2; pass++) {
        for (size_t i = 0; r >= 0 && i < hd_device_list_count(list); i++) {
            struct hd_device *dev = hd_device_list_get(list, i);
            const struct hd_reserve_entry *e = hd_reserve_config_match(config, dev);
            if (e == NULL || is_gone(res, hd_device_get_addr(dev)) || /* a dry run's: told */
                (pass == 0 && has_bind_item(res, hd_device_get_addr(dev))) || /* before its count */
                (pass == 1 && !waited[i]))
                continue;
            if (pass == 0 && (waited[i] = waits_for_pf(res, config, list, dev)))
                continue;
            r = apply_bind(res, dev, e);
        }
    }
    free(waited);
    hd_device_list_unref(list);
    /* After the PCI devices: a parent may be one of them (its driver bound by now). */
    if (r >= 0)
        r = start_defined_mdevs(res, mdevs, NULL);
    return finish(res, r, result);
}

HD_EXPORT int hd_reserve_mdev_parent_event(struct hd_ctx *ctx, const char *parent,
                                           unsigned int flags, hd_reserve_fn fn, void *data,
                                           struct hd_reserve_result **result)
{
    char canon[HD_DRIVER_NAME_MAX];
    struct hd_reserve_result *res;
    int r;

    *result = NULL;
    if (hd_mdev_parent_name(parent, canon) < 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a mediated device parent",
                       parent ? parent : "");
    if ((r = result_new(ctx, NULL, flags, fn, data, &res)) < 0)
        return r;
    return finish(res, start_defined_mdevs(res, NULL, canon), result);
}

HD_EXPORT int hd_reserve_config_apply_event(struct hd_reserve_config *config,
                                            struct hd_device *dev, const char *action,
                                            unsigned int flags, hd_reserve_fn fn, void *data,
                                            struct hd_reserve_result **result)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    const struct hd_reserve_entry *e;
    struct hd_reserve_result *res;
    bool add = action != NULL && strcmp(action, "add") == 0;
    int r;

    *result = NULL;
    if (!add && (action == NULL || strcmp(action, "bind") != 0))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID,
                       "'%s' is not a device event that reservations act on (add, bind)",
                       action ? action : "");
    if ((r = result_new(ctx, config, flags, fn, data, &res)) < 0)
        return r;
    if (add && (e = hd_reserve_config_match(config, dev)) != NULL)
        r = apply_bind(res, dev, e);
    /* A PF's VFs once its driver is bound: on "bind", and on "add" of a PF that has one
     * already. udev's coldplug replays only "add" events, so a PF whose driver bound before
     * udev started (in the initramfs, or built in) never sends a "bind" udev sees. */
    if (r == 0 && (e = hd_reserve_config_match_numvfs(config, dev)) != NULL &&
        (!add || driver_now(res, dev) != NULL))
        r = apply_numvfs(res, dev, e);
    return finish(res, r, result);
}

/* The devices of @list that @e selects, into *@devs (@n; the list's): 0, or -ENOMEM. */
static int selected(struct hd_reserve_result *res, struct hd_device_list *list,
                    const struct hd_reserve_entry *e, struct hd_device ***devs, size_t *n)
{
    size_t cap = 0;

    *devs = NULL;
    *n = 0;
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        struct hd_device **v;
        if (!hd_pci_selector_match(&e->sel, dev))
            continue;
        if ((v = hd_array_grow(*devs, &cap, *n, sizeof(*v), 8)) == NULL) {
            free(*devs);
            *devs = NULL;
            *n = 0;
            return hd_err(res->ctx, -ENOMEM, "out of memory");
        }
        *devs = v;
        (*devs)[(*n)++] = dev;
    }
    return 0;
}

/* What no host state makes possible for the @n devices @devs that @e selects (a bridge, a
 * variant not made for it): the first one's reason, naming every device refused, on the
 * context, as the operation would refuse the first alone. The first refusal's -errno, 0 when
 * none is refused, -ENOMEM. */
static int refused_all(struct hd_reserve_result *res, const struct hd_reserve_entry *e,
                       struct hd_device *const *devs, size_t n)
{
    const char **others = calloc(n + 1, sizeof(*others));
    enum hd_reason reason = HD_REASON_INVALID;
    char *first = NULL, *msg;
    size_t nothers = 0;
    int err = 0;

    if (others == NULL)
        return hd_err(res->ctx, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int r;
        hd_ctx_clear_error(res->ctx);
        if ((r = hd_reserve_entry_check(e, devs[i])) == 0)
            continue;
        if (err == 0) {
            err = r;
            reason = hd_ctx_last_reason(res->ctx);
            first = strdup(hd_ctx_last_error(res->ctx));
        } else {
            others[nothers++] = hd_device_get_name(devs[i]);
        }
    }
    hd_ctx_clear_error(res->ctx);
    msg = err != 0 && first != NULL ? hd_reserve_refusal_join(first, others, nothers) : NULL;
    if (err != 0 && msg == NULL)
        err = hd_err(res->ctx, -ENOMEM, "out of memory");
    else if (err != 0)
        hd_errr(res->ctx, err, reason, "%s", msg);
    free(msg);
    free(first);
    free(others);
    return err;
}

/* Every device of @list that @e selects to its stub, in one operation: all of them or none.
 * An item a device, the first holding the operation; when it fails, that item alone, failed
 * (when the entry is refused for several, naming them all). 1 failed, 0 done (or nothing
 * selected), -ENOMEM. */
static int apply_bind_all(struct hd_reserve_result *res, struct hd_device_list *list,
                          const struct hd_reserve_entry *e)
{
    struct hd_device **devs;
    size_t n;
    int r = selected(res, list, e, &devs, &n);

    /* Told one by one, each once it is complete, as every item is. */
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct item *it = item_add(res, HD_RESERVE_BIND, devs[i], e);
        if (it == NULL) {
            r = -ENOMEM;
            break;
        }
        warn_entry_bind(res, it, devs, n, i);
        if (i == 0 && (r = refused_all(res, e, devs, n)) == -ENOMEM)
            break;
        if (i == 0 && r < 0)
            item_fail(res, it, NULL, r);
        else if (i == 0)
            run_op(res, it, HD_OP_RESERVE, devs, n);
        else
            it->outcome = HD_RESERVE_DONE;
        r = item_done(res, it);
    }
    free(devs);
    return r;
}

/* Items @from to @to (excluded) are no longer true: out of the result (they were told). */
static void drop_items(struct hd_reserve_result *res, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (res->v[i].outcome == HD_RESERVE_FAILED)
            res->failed--;
        item_free(&res->v[i]);
    }
    memmove(&res->v[from], &res->v[to], (res->n - to) * sizeof(*res->v));
    res->n -= to - from;
}

/* Before @e binds the PF @dev to its stub: whether the count @e asks is refused then, as what
 * no host state makes possible (above sriov_totalvfs: bad input), or as what that stub cannot
 * set (vfio-pci whose enable_sriov is N), which would leave the PF on it without VFs. 1 refused
 * (a failed count item), 0 not (no item), -ENOMEM. */
static int refuse_stub_count(struct hd_reserve_result *res, struct hd_device *dev,
                             const struct hd_reserve_entry *e)
{
    struct item *it = item_add(res, HD_RESERVE_NUMVFS, dev, e);
    int r;

    if (it == NULL)
        return -ENOMEM;
    if (refused(res, it))
        return item_done(res, it);
    hd_device_fill(dev, HD_FILL_SRIOV);
    /* A host driver lets go of the PF with its VFs: the stub starts from none. */
    bool on_stub = hd_device_get_driver(dev) && strcmp(hd_device_get_driver(dev), e->driver) == 0;
    if (e->numvfs != (on_stub ? hd_device_get_sriov_numvfs(dev) : 0) &&
        (r = hd_check_stub_sets_count(res->ctx, dev, e->driver, !on_stub)) < 0) {
        item_fail(res, it, NULL, r);
        return item_done(res, it);
    }
    item_free(it); /* nothing to say yet: the count comes after the bind */
    res->n--;
    return 0;
}

/* Whether @op changed @dev: a step of it done other than keeping it where it was. */
static bool moved(const struct hd_op *op, struct hd_device *dev)
{
    for (size_t i = 0; i < hd_op_get_step_count(op); i++)
        if (strcmp(hd_op_step_get_device(op, i), hd_device_get_name(dev)) == 0 &&
            strcmp(hd_op_step_get_action(op, i), "keep") != 0 &&
            hd_op_step_get_state(op, i) == HD_STEP_DONE)
            return true;
    return false;
}

/* The reservation items 0 to @end (excluded) made, taken back: the VF count after it failed.
 * Given back, the devices are where they were (VFs the reservation removed with the PF's
 * driver excepted: only a count makes them), and those items leave the result; a failure to
 * is an item, and they stay, true. */
static int put_back_binds(struct hd_reserve_result *res, size_t end)
{
    struct hd_device **devs = calloc(end + 1, sizeof(*devs));
    const struct hd_op *reserving = NULL;
    struct hd_op *op = NULL;
    size_t n = 0;
    int r = devs == NULL ? -ENOMEM : 0;

    /* Only what the reservation moved: one on its stub already (a detach before) stays. */
    for (size_t i = 0; r == 0 && i < end; i++) {
        if (res->v[i].action != HD_RESERVE_BIND)
            continue;
        if (res->v[i].op != NULL) /* the first item of an entry holds its operation */
            reserving = res->v[i].op;
        if (reserving == NULL || moved(reserving, res->v[i].dev))
            devs[n++] = res->v[i].dev;
    }
    hd_ctx_clear_error(res->ctx);
    if (r == 0 && n > 0 && (r = hd_op_new(res->ctx, HD_OP_REATTACH, &op)) == 0) {
        hd_op_set_flags(op, HD_OP_NO_NOTES);
        for (size_t i = 0; r == 0 && i < n; i++)
            r = hd_op_add_device(op, hd_device_get_addr(devs[i]), true);
        if (r == 0)
            r = hd_op_run(op);
    }
    for (size_t i = 0; i < n; i++)
        hd_device_reread(devs[i], HD_FILL_EXTRA);
    if (r == 0 || r == -ENOMEM) {
        free(devs);
        hd_op_unref(op);
        if (r == 0)
            drop_items(res, 0, end);
        return r == 0 ? 0 : hd_err(res->ctx, -ENOMEM, "out of memory");
    }
    struct item *it = item_add(res, HD_RESERVE_GIVE_BACK, devs[0], NULL);
    free(devs);
    if (it == NULL) {
        hd_op_unref(op);
        return -ENOMEM;
    }
    it->op = op; /* its steps say how each ended */
    item_fail(res, it, hd_device_get_name(it->dev), r);
    return item_done(res, it);
}

int hd_reserve_result_put_back(struct hd_reserve_result *res)
{
    bool bound = false;

    for (size_t i = 0; i < res->n; i++)
        bound = bound || (res->v[i].action == HD_RESERVE_BIND &&
                          res->v[i].outcome == HD_RESERVE_DONE);
    if (!bound || (res->flags & HD_RESERVE_DRY_RUN))
        return 0;
    return put_back_binds(res, res->n);
}

/* An entry's call (persist's): its result, with its own copy of @entry and the configuration
 * (res->reservations), and the PCI devices there now (*@list). 0, or -errno with *@res all
 * the same (to finish()). */
static int entry_result_new(const struct hd_reserve_entry *entry, struct hd_ctx *ctx,
                            unsigned int flags, hd_reserve_fn fn, void *data,
                            struct hd_reserve_result **out, struct hd_device_list **list)
{
    struct hd_reserve_result *res;
    int r;

    if ((r = result_new(ctx, NULL, flags, fn, data, out)) < 0)
        return r;
    res = *out;
    res->entry = *entry;
    res->entry.driver = res->entry_driver = entry->driver ? strdup(entry->driver) : NULL;
    res->entry.file = res->entry_file = strdup(entry->file ? entry->file : "");
    if ((entry->driver != NULL && res->entry_driver == NULL) || res->entry_file == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    /* Only to say which entry reserves a VF its count makes, and what the configuration adds
     * to a PF's stub or count (warn_stub_numvfs()): none read, none said. */
    hd_reserve_config_load(ctx, &res->reservations);
    hd_ctx_clear_error(ctx);
    return hd_device_list_new(ctx, HD_FILL_IDENT, list);
}

HD_EXPORT int hd_reserve_entry_apply(const struct hd_reserve_entry *entry, struct hd_ctx *ctx,
                                     unsigned int flags, hd_reserve_fn fn, void *data,
                                     struct hd_reserve_result **result)
{
    struct hd_reserve_result *res;
    struct hd_device_list *list = NULL;
    int r;

    *result = NULL;
    if ((r = entry_result_new(entry, ctx, flags, fn, data, &res, &list)) < 0)
        return finish(res, r, result);
    const struct hd_reserve_entry *e = &res->entry;
    /* Every device it selects to its stub first, all or none, then its VF count (numvfs needs
     * an address: one PF), on the stub then: a PF's host driver turns SR-IOV off as it lets
     * go, so VFs counted before would go with it. What cannot be applied now is not to be
     * persisted either: a count that fails gives the devices back. */
    for (size_t i = 0; r == 0 && e->driver != NULL && e->numvfs >= 0 &&
                       i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        if (hd_pci_selector_match(&e->sel, dev))
            r = refuse_stub_count(res, dev, e);
    }
    if (r == 0 && e->driver != NULL)
        r = apply_bind_all(res, list, e);
    size_t bind_items = res->n;
    for (size_t i = 0; r == 0 && e->numvfs >= 0 && i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        if (hd_pci_selector_match(&e->sel, dev))
            r = apply_numvfs(res, dev, e);
    }
    if (r == 1 && bind_items > 0 && res->v[0].outcome == HD_RESERVE_DONE &&
        !(flags & HD_RESERVE_DRY_RUN) && put_back_binds(res, bind_items) < 0)
        r = -ENOMEM;
    hd_device_list_unref(list);
    return finish(res, r, result);
}

int hd_reserve_entry_warnings(const struct hd_reserve_entry *entry, struct hd_ctx *ctx,
                              hd_reserve_fn fn, void *data, struct hd_reserve_result **result)
{
    struct hd_reserve_result *res;
    struct hd_device_list *list = NULL;
    struct hd_device **devs = NULL;
    size_t n = 0;
    int r;

    *result = NULL;
    if ((r = entry_result_new(entry, ctx, 0, fn, data, &res, &list)) == 0)
        r = selected(res, list, &res->entry, &devs, &n);
    for (size_t i = 0; r == 0 && i < n; i++) {
        /* A VF count alone (one PF) binds nothing: what its count adds to a stub another
         * entry gives the PF is said of the count, as apply_numvfs() says it. */
        struct item *it = item_add(res, entry->driver ? HD_RESERVE_BIND : HD_RESERVE_NUMVFS,
                                   devs[i], &res->entry);
        if (it == NULL) {
            r = -ENOMEM;
            break;
        }
        if (entry->driver != NULL)
            warn_entry_bind(res, it, devs, n, i);
        else
            warn_stub_numvfs(res, it);
        if (it->warning == NULL) { /* nothing to say of it */
            item_free(it);
            res->n--;
            continue;
        }
        it->outcome = HD_RESERVE_LATER;
        item_done(res, it);
    }
    free(devs);
    hd_device_list_unref(list);
    return finish(res, r, result);
}

HD_EXPORT int hd_reserve_config_give_back(struct hd_reserve_config *config, struct hd_ctx *ctx,
                                          const struct hd_pci_selector *sel, unsigned int flags,
                                          hd_reserve_fn fn, void *data,
                                          struct hd_reserve_result **result)
{
    return hd_reserve_give_back_except(config, ctx, sel, 1, flags, fn, data, result, NULL, 0);
}

/* Records are the truth: a device on a stub with no record of where it was before (its record
 * lost: a reservation records the stub it finds a device on) has nowhere to go back to, and
 * stays. A damaged record is the operation's to tell. */
static bool stays_unrecorded(struct hd_device *dev)
{
    return hd_device_on_stub(dev) && hd_bind_unrecorded(dev);
}

/* Whether one of the @n @sels selects @dev. */
static bool any_selects(const struct hd_pci_selector *sels, size_t n, struct hd_device *dev)
{
    for (size_t i = 0; i < n; i++)
        if (hd_pci_selector_match(&sels[i], dev))
            return true;
    return false;
}

int hd_reserve_give_back_except(struct hd_reserve_config *config, struct hd_ctx *ctx,
                                const struct hd_pci_selector *sels, size_t nsels,
                                unsigned int flags, hd_reserve_fn fn, void *data,
                                struct hd_reserve_result **result, const char *const *files,
                                size_t nfiles)
{
    struct hd_reserve_result *res;
    struct hd_device_list *list = NULL;
    struct hd_device **back = NULL, *doubted = NULL;
    size_t nback = 0, cap = 0;
    /* Per device of the listing: the entry that keeps it reserved, or whether it stays. */
    struct fate {
        const struct hd_reserve_entry *keeps;
        bool stays;
    } *fate = NULL;
    bool ran = false;
    const char *doubt = NULL;
    int r;

    *result = NULL;
    if ((r = result_new(ctx, config, flags, fn, data, &res)) < 0)
        return r;
    r = hd_device_list_new(ctx, HD_FILL_IDENT | HD_FILL_EXTRA, &list);
    if (r == 0 && (fate = calloc(hd_device_list_count(list) + 1, sizeof(*fate))) == NULL)
        r = -ENOMEM;
    /* Those no other reservation keeps go back in one operation: all of them or none. Which
     * stay is decided here, before the operation changes what the records and drivers say. */
    for (size_t i = 0; r == 0 && i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i), **v;
        if (!any_selects(sels, nsels, dev) ||
            (fate[i].keeps = hd_reserve_config_match_except(config, dev, files, nfiles)) != NULL ||
            (fate[i].stays = stays_unrecorded(dev)))
            continue;
        if (doubt == NULL &&
            (doubt = hd_reserve_config_doubt_except(config, dev, files, nfiles)) != NULL)
            doubted = dev;
        if ((v = hd_array_grow(back, &cap, nback, sizeof(*v), 8)) == NULL)
            r = -ENOMEM;
        else
            (back = v)[nback++] = dev;
    }
    /* A file that could not be read, or a bad line naming the device, may keep it at the next
     * boot: whether another reservation holds it is not known, so none goes back. */
    if (r == 0 && doubt != NULL) {
        struct item *it = item_add(res, HD_RESERVE_GIVE_BACK, doubted, NULL);
        if (it == NULL) {
            r = -ENOMEM;
        } else {
            item_fail(res, it, NULL, hd_reserve_doubt_error(ctx, doubted, doubt));
            r = item_done(res, it);
        }
    }
    /* Told one by one, in the listing's order: the first given back holds the operation. */
    for (size_t i = 0; r == 0 && doubt == NULL && i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        struct item *it;
        if (!any_selects(sels, nsels, dev))
            continue;
        if ((it = item_add(res, HD_RESERVE_GIVE_BACK, dev, fate[i].keeps)) == NULL) {
            r = -ENOMEM;
            break;
        }
        if (fate[i].keeps != NULL) {
            it->outcome = HD_RESERVE_HELD;
        } else if (fate[i].stays) {
            it->outcome = HD_RESERVE_UNCHANGED;
        } else if (!ran) {
            run_op(res, it, HD_OP_REATTACH, back, nback);
            ran = true;
        } else {
            it->outcome = HD_RESERVE_DONE;
        }
        r = item_done(res, it);
    }
    free(back);
    free(fate);
    hd_device_list_unref(list);
    return finish(res, r, result);
}

int hd_reserve_numvfs_kept(struct hd_ctx *ctx, const struct hd_reserve_entry *entry,
                           unsigned int flags, hd_reserve_fn fn, void *data,
                           struct hd_reserve_result **result)
{
    struct hd_reserve_result *res = *result;
    struct hd_device *dev;
    struct item *it;
    int r;

    if (entry->numvfs < 0 || entry->sel.kind != HD_SELECTOR_ADDR ||
        hd_device_open(ctx, &entry->sel.addr, &dev) < 0) {
        hd_ctx_clear_error(ctx);
        return 0; /* none set, or no PF to say it of */
    }
    if (res == NULL && (r = result_new(ctx, NULL, flags, fn, data, &res)) < 0) {
        hd_device_unref(dev);
        return r;
    }
    *result = res;
    /* The item points to the result's own copy: the entry's file is gone. */
    free(res->entry_driver);
    free(res->entry_file);
    res->entry = *entry;
    res->entry.driver = res->entry_driver = entry->driver ? strdup(entry->driver) : NULL;
    res->entry.file = res->entry_file = strdup(entry->file);
    it = (entry->driver == NULL || res->entry_driver != NULL) && res->entry_file != NULL
             ? item_add(res, HD_RESERVE_NUMVFS, dev, &res->entry)
             : NULL;
    hd_device_unref(dev);
    if (it == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    it->outcome = HD_RESERVE_UNCHANGED;
    item_done(res, it);
    return 0;
}

HD_EXPORT size_t hd_reserve_result_count(const struct hd_reserve_result *res)
{
    return res != NULL ? res->n : 0;
}

HD_EXPORT enum hd_reserve_action hd_reserve_result_get_action(const struct hd_reserve_result *res,
                                                             size_t i)
{
    return i < res->n ? res->v[i].action : HD_RESERVE_BIND;
}

HD_EXPORT enum hd_reserve_outcome
hd_reserve_result_get_outcome(const struct hd_reserve_result *res, size_t i)
{
    return i < res->n ? res->v[i].outcome : HD_RESERVE_FAILED;
}

HD_EXPORT struct hd_device *hd_reserve_result_get_device(const struct hd_reserve_result *res,
                                                        size_t i)
{
    return i < res->n ? res->v[i].dev : NULL;
}

HD_EXPORT const struct hd_reserve_entry *
hd_reserve_result_get_entry(const struct hd_reserve_result *res, size_t i)
{
    return i < res->n ? res->v[i].entry : NULL;
}

HD_EXPORT const struct hd_op *hd_reserve_result_get_op(const struct hd_reserve_result *res,
                                                      size_t i)
{
    return i < res->n ? res->v[i].op : NULL;
}

HD_EXPORT const char *hd_reserve_result_get_error(const struct hd_reserve_result *res, size_t i,
                                                  enum hd_reason *reason)
{
    if (i >= res->n || res->v[i].outcome != HD_RESERVE_FAILED)
        return NULL;
    if (reason != NULL)
        *reason = res->v[i].reason;
    return res->v[i].error != NULL ? res->v[i].error : "out of memory";
}

HD_EXPORT const char *hd_reserve_result_get_warning(const struct hd_reserve_result *res,
                                                    size_t i)
{
    return i < res->n ? res->v[i].warning : NULL;
}

HD_EXPORT int hd_reserve_result_get_mdev(const struct hd_reserve_result *res, size_t i,
                                         const char **uuid, const char **parent,
                                         const char **type)
{
    if (i >= res->n || res->v[i].uuid == NULL)
        return -EINVAL;
    *uuid = res->v[i].uuid;
    *parent = res->v[i].parent;
    *type = res->v[i].type;
    return 0;
}
