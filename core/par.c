/* par.c - independent steps at once. An operation's steps on single devices (detach, reattach,
 * reset, reserve), each journaled by the caller already, are a batch; the batch falls into
 * chains of steps that must keep their order: the members of one IOMMU group, a VF and its PF,
 * everything a bus reset hits, every bind through new_id (it grabs every unbound twin). The
 * chains run side by side on worker threads (par-threads.c), each with a context of its own;
 * the kernel lets unbinds of different devices proceed in parallel, so eight GPUs whose driver
 * takes a second to let go take a second, not eight. After a failure no new step starts; what
 * was started finishes, and the caller undoes the journal as always. Each step's error is
 * kept, and the failed ones are merged into the caller's context. Without threads (or with
 * one chain) the steps run one after another in the caller's thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- the batch ------------------------------------------------------------------------------ */

int hd_batch_add(struct hd_batch *b, enum hd_task_kind kind, struct hd_device *dev,
                 const char *driver, unsigned int flags)
{
    struct hd_task *t;

    struct hd_task *v = hd_array_grow(b->v, &b->cap, b->n, sizeof(*v), 8);
    if (v == NULL)
        return -ENOMEM;
    b->v = v;
    t = &b->v[b->n++];
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->dev = hd_device_ref(dev);
    hd_strlcpy(t->driver, driver ? driver : "", sizeof(t->driver));
    t->flags = flags;
    return 0;
}

void hd_batch_free(struct hd_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        hd_device_unref(b->v[i].dev);
    free(b->v);
    memset(b, 0, sizeof(*b));
}

/* ---- chains --------------------------------------------------------------------------------- */

static size_t root_of(size_t *up, size_t i)
{
    while (up[i] != i)
        i = up[i] = up[up[i]];
    return i;
}

/* One set, named by its first task. */
static void join(size_t *up, size_t a, size_t b)
{
    a = root_of(up, a);
    b = root_of(up, b);
    if (a != b)
        up[a > b ? a : b] = a < b ? a : b;
}

/* The kernel may reset the device's bus (secondary bus reset): its neighbours feel it. */
static bool may_reset_bus(struct hd_device *dev)
{
    char *methods, *save = NULL;
    bool bus = hd_reset_methods(dev, &methods) < 0; /* not known: assume so */

    if (bus) /* the reset's own read says why: this only orders it */
        hd_ctx_clear_error(hd_device_get_ctx(dev));
    for (char *m = methods ? strtok_r(methods, " ", &save) : NULL; m && !bus;
         m = strtok_r(NULL, " ", &save))
        bus = strcmp(m, "bus") == 0 || strcmp(m, "cxl_bus") == 0;
    free(methods);
    return bus;
}

/* new_id binds every unbound device with the ids, so such binds go one at a time. */
static bool binds_by_new_id(const struct hd_task *t)
{
    return (t->kind == HD_TASK_DETACH || t->kind == HD_TASK_RESERVE) &&
           ((t->flags & HD_DETACH_NEW_ID) || !hd_device_has_driver_override(t->dev));
}

static bool same_chain(const struct hd_task *a, bool a_bus, const struct hd_task *b, bool b_bus)
{
    const struct hd_device *x = a->dev, *y = b->dev;
    const struct hd_pci_addr *xpf = hd_device_get_physfn(x), *ypf = hd_device_get_physfn(y);
    const struct hd_pci_addr *xa = hd_device_get_addr(x), *ya = hd_device_get_addr(y);
    int xg = hd_device_get_iommu_group(x), yg = hd_device_get_iommu_group(y);

    if (xg == yg || (xg < 0 && yg < 0))
        return true;
    if ((xpf && hd_pci_addr_equal(xpf, ya)) || (ypf && hd_pci_addr_equal(ypf, xa)))
        return true;
    if (binds_by_new_id(a) && binds_by_new_id(b))
        return true;
    return (a_bus || b_bus) && xa->domain == ya->domain && xa->bus == ya->bus;
}

/* Fill p->order, p->chain_start, p->nchains. */
static int make_chains(struct hd_par_plan *p)
{
    struct hd_batch *b = p->b;
    size_t *up = calloc(b->n, sizeof(*up)), *count = calloc(b->n + 1, sizeof(*count));
    bool *bus = calloc(b->n, sizeof(*bus));
    int r = -ENOMEM;

    p->order = calloc(b->n, sizeof(*p->order));
    p->chain_start = calloc(b->n + 1, sizeof(*p->chain_start));
    if (up == NULL || count == NULL || bus == NULL || p->order == NULL || p->chain_start == NULL)
        goto out;
    for (size_t i = 0; i < b->n; i++) {
        up[i] = i;
        bus[i] = b->v[i].kind == HD_TASK_RESET && may_reset_bus(b->v[i].dev);
    }
    for (size_t i = 0; i < b->n; i++) {
        for (size_t k = i + 1; k < b->n; k++) {
            if (same_chain(&b->v[i], bus[i], &b->v[k], bus[k]))
                join(up, i, k);
        }
    }
    /* Chains in the order of their first task, each in the batch's order. */
    p->nchains = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (root_of(up, i) == i)
            count[i] = p->nchains++; /* reused: the chain number of a root */
    }
    size_t *fill = calloc(p->nchains + 1, sizeof(*fill));
    if (fill == NULL)
        goto out;
    for (size_t i = 0; i < b->n; i++)
        p->chain_start[count[root_of(up, i)] + 1]++;
    for (size_t c = 0; c < p->nchains; c++)
        p->chain_start[c + 1] += p->chain_start[c];
    for (size_t i = 0; i < b->n; i++) {
        size_t c = count[root_of(up, i)];
        p->order[p->chain_start[c] + fill[c]++] = i;
    }
    free(fill);
    r = 0;
out:
    free(up);
    free(count);
    free(bus);
    return r;
}

/* ---- one step ------------------------------------------------------------------------------- */

static int apply(struct hd_device *dev, const struct hd_task *t)
{
    /* A worker's own snapshot has nothing read yet: only the caller's is fresh. */
    unsigned int bind_flags = dev == t->dev ? t->flags : t->flags & ~HD_BIND_FRESH;
    int r;

    switch (t->kind) {
    case HD_TASK_DETACH:
        return hd_bind_detach(dev, t->driver, bind_flags);
    case HD_TASK_REATTACH:
        return hd_bind_reattach(dev, bind_flags, t->driver);
    case HD_TASK_RESERVE:
        return hd_reserve_apply(dev, t->driver, t->flags);
    case HD_TASK_RESET:
        r = hd_reset_apply(dev, t->flags, NULL);
        if (r == -ENOTTY && t->vfio_resets && hd_device_is_on_vfio(dev)) {
            /* No method works from here (a bus reset with siblings on the bus): vfio-pci
             * resets it, by a hot reset of the whole bus if need be, when the VM opens it
             * (libvirt leaves vfio-pci devices to it for the same reason). */
            hd_info(hd_device_get_ctx(dev), "%s: %s; vfio-pci will reset it when the VM opens it",
                    hd_device_get_name(dev), hd_ctx_last_error(hd_device_get_ctx(dev)));
            hd_ctx_clear_error(hd_device_get_ctx(dev));
            r = 1; /* done, by vfio-pci later: its step says so (hd_txn_settle_resets()) */
        }
        return r;
    }
    return -EINVAL;
}

void hd_task_run(struct hd_ctx *ctx, struct hd_device *dev, struct hd_task *t)
{
    hd_ctx_clear_error(ctx); /* this step's message, not an earlier one's */
    t->result = apply(dev, t);
    t->ran = true;
    if (t->result >= 0)
        return;
    if (hd_ctx_last_error(ctx)[0] == '\0')
        hd_err(ctx, t->result, "%s: %s", hd_device_get_name(t->dev), strerror(-t->result));
    hd_saved_error_save(ctx, &t->error, t->result);
}

/* One step after another in the caller's thread, on its own snapshots, in the batch's order
 * (which keeps every chain's). */
static void run_inline(struct hd_ctx *ctx, struct hd_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        /* Fresh only before any write of the batch (a PF's unbind takes its VFs away). */
        if (i > 0)
            b->v[i].flags &= ~HD_BIND_FRESH;
        hd_task_run(ctx, b->v[i].dev, &b->v[i]);
        if (b->v[i].result < 0)
            break;
    }
}

/* The failed steps' errors as one, on @ctx: a timeout makes it a timeout (the transaction
 * then waits for that write), else the first failure's code and reason; one failure keeps
 * its message as it was. */
static int merge_errors(struct hd_ctx *ctx, const struct hd_batch *b)
{
    const struct hd_task *first = NULL;
    bool timeout = false;
    size_t failed = 0, len = 0;
    char msg[HD_ERROR_MAX] = "";

    for (size_t i = 0; i < b->n; i++) {
        const struct hd_task *t = &b->v[i];
        if (!t->ran || t->result >= 0)
            continue;
        first = first ? first : t;
        timeout = timeout || t->result == -ETIMEDOUT;
        failed++;
        len += (size_t)snprintf(msg + len, len < sizeof(msg) ? sizeof(msg) - len : 0, "%s%s",
                                len ? "; " : "", t->error.msg);
        if (len >= sizeof(msg))
            len = sizeof(msg);
    }
    if (first == NULL)
        return 0;
    if (failed == 1)
        return hd_saved_error_restore(ctx, &first->error);
    return hd_errr(ctx, timeout ? -ETIMEDOUT : first->result,
                   timeout ? HD_REASON_TIMEOUT
                           : first->error.reason ? first->error.reason : HD_REASON_FAILED,
                   "%s", msg);
}

int hd_batch_run(struct hd_ctx *ctx, struct hd_batch *b)
{
    struct hd_par_plan p = {.b = b};
    int r;

    if (b->n == 0)
        return 0;
    if ((r = make_chains(&p)) == 0) {
        if (p.nchains < 2 || !hd_par_run(ctx, &p))
            run_inline(ctx, b);
        r = merge_errors(ctx, b);
    }
    free(p.order);
    free(p.chain_start);
    return r;
}

