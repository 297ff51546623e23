/* acquire.c - giving devices to a VM and taking them back, all or nothing, as libvirt
 * prepares host devices: check all, detach the managed ones, reset all once all are detached,
 * hand the VFIO nodes to the VM's user, record; undo newest-first on any failure. Each step is
 * announced in the intent log (journal.c) before it touches the kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

struct pdev {
    struct hd_device *dev;
    bool via_group;
    bool on_vfio;    /* on vfio-pci (or a variant) before we started: nothing to detach */
    char driver[64]; /* the driver it had ("" unbound) */
};

struct plan {
    struct pdev *v;
    size_t n, cap;
    int *groups; /* unique */
    size_t ngroups;
};

static void plan_free(struct plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        hd_device_unref(p->v[i].dev);
    free(p->v);
    free(p->groups);
    memset(p, 0, sizeof(*p));
}

static struct pdev *plan_find(const struct plan *p, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < p->n; i++) {
        if (hd_pci_addr_equal(&p->v[i].dev->addr, addr))
            return &p->v[i];
    }
    return NULL;
}

/* VFIO needs vfio-pci (or a variant); pci-stub will not do. */
static bool on_vfio(const struct hd_device *dev)
{
    return dev->driver != NULL && hd_driver_is_vfio(dev->driver);
}

static bool on_stub(const struct hd_device *dev)
{
    return on_vfio(dev) || (dev->driver != NULL && hd_stub_driver_find(dev->driver) != NULL);
}

/* Add @dev (a reference is taken) and its group. */
static int plan_add(struct plan *p, struct hd_device *dev, bool via_group)
{
    struct pdev *d;

    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        struct pdev *v = realloc(p->v, cap * sizeof(*v));
        int *g = realloc(p->groups, cap * sizeof(*g));
        if (v != NULL)
            p->v = v;
        if (g != NULL)
            p->groups = g;
        if (v == NULL || g == NULL)
            return -ENOMEM;
        p->cap = cap;
    }
    d = &p->v[p->n++];
    memset(d, 0, sizeof(*d));
    d->dev = hd_device_ref(dev);
    d->via_group = via_group;
    d->on_vfio = on_vfio(dev);
    if (dev->driver != NULL)
        hd_strlcpy(d->driver, dev->driver, sizeof(d->driver));
    for (size_t i = 0; i < p->ngroups; i++) {
        if (p->groups[i] == dev->group)
            return 0;
    }
    p->groups[p->ngroups++] = dev->group;
    return 0;
}

static int refresh(struct hd_device *dev)
{
    return hd_device_fill_fields(dev, HD_FILL_ALL & ~(unsigned)HD_FILL_NAMES, true);
}

/* Keep the first error's message while cleaning up after it. */
struct saved_error {
    int err;
    char msg[512];
};

static void save_error(struct hd_ctx *ctx, struct saved_error *s, int err)
{
    s->err = err;
    hd_strlcpy(s->msg, hd_ctx_last_error(ctx), sizeof(s->msg));
}

static int restore_error(struct hd_ctx *ctx, const struct saved_error *s)
{
    return hd_err(ctx, s->err, "%s", s->msg);
}

/* ---- undo ---------------------------------------------------------------------------------- */

static int set_owner(struct hd_ctx *ctx, const struct hd_node_owner *n)
{
    int r = hd_fs_chown(ctx, n->path, n->uid, n->gid);

    if (r == 0)
        r = hd_fs_chmod(ctx, n->path, n->mode);
    return r;
}

/* A device whose detach stopped after driver_override was set but before the unbind: still on
 * its host driver, with an override that would send it to the stub at the next probe. */
static int clear_stale_override(struct hd_device *dev)
{
    if (dev->driver == NULL || on_stub(dev) || hd_device_get_driver_override(dev) == NULL ||
        hd_stub_driver_find(hd_device_get_driver_override(dev)) == NULL)
        return 0;
    hd_info(dev->ctx, "%s: clearing the stale driver_override %s", dev->name,
            hd_device_get_driver_override(dev));
    return hd_device_write_attr(dev, "driver_override", "\n");
}

static int undo_step(struct hd_ctx *ctx, const struct hd_jstep *s)
{
    struct hd_device *dev;
    int r;

    if (s->kind == HD_JSTEP_RESET)
        return 0;
    if (s->kind == HD_JSTEP_OWN) {
        r = set_owner(ctx, &s->node);
        if (r == -ENOENT)
            return 0; /* the node went with the group's last vfio-pci member */
        if (r < 0)
            return hd_err(ctx, r, "restoring %s/%s to %u:%u %04o: %s", ctx->root, s->node.path,
                          (unsigned)s->node.uid, (unsigned)s->node.gid,
                          (unsigned)s->node.mode, strerror(-r));
        return 0;
    }
    r = hd_device_open(ctx, &s->addr, &dev);
    if (r == -ENODEV)
        return 0; /* unplugged: nothing left to put back */
    if (r < 0)
        return r;
    if (s->kind == HD_JSTEP_DETACH) {
        r = hd_device_reattach(dev);
        if (r == 0 && (r = refresh(dev)) == 0)
            r = clear_stale_override(dev);
    } else if (!on_vfio(dev)) { /* HD_JSTEP_REATTACH: it goes back to vfio-pci */
        r = hd_device_detach(dev, "vfio-pci", 0);
    } else {
        r = clear_stale_override(dev);
    }
    hd_device_unref(dev);
    return r;
}

int hd_txn_undo(struct hd_ctx *ctx, const struct hd_journal *j)
{
    struct saved_error first = {0};

    for (size_t i = j->nsteps; i > 0; i--) {
        int r = undo_step(ctx, &j->steps[i - 1]);
        if (r < 0 && first.err == 0)
            save_error(ctx, &first, r);
    }
    return first.err ? restore_error(ctx, &first) : 0;
}

bool hd_txn_committed(const struct hd_journal *j, const struct hd_assignment_list *map)
{
    /* The map write is the commit: it adds (acquire) or drops (release) all devices at once,
     * and nothing else can change those entries before this journal is dealt with. */
    for (size_t i = 0; i < j->ndevs; i++) {
        const struct hd_assignment *a = hd_map_find(map, &j->devs[i].addr);
        bool there = a != NULL && strcmp(a->vm, j->vm) == 0;
        if (there != (j->op == HD_JOP_ACQUIRE))
            return false;
    }
    return j->ndevs > 0 || j->op == HD_JOP_RELEASE;
}

/* Undo in-process after a failed step; on -ETIMEDOUT leave the journal to recover: the unbind
 * still runs in the kernel (its child holds the journal's lock until it returns). */
static int abort_txn(struct hd_ctx *ctx, struct hd_journal *j, int err)
{
    struct saved_error why;

    save_error(ctx, &why, err);
    if (err == -ETIMEDOUT) {
        hd_journal_close(j);
        return hd_err(ctx, err, "%s; 'hostdev recover' puts everything back once it returns",
                      why.msg);
    }
    if (hd_txn_undo(ctx, j) < 0) {
        char undo[512];
        hd_strlcpy(undo, hd_ctx_last_error(ctx), sizeof(undo));
        hd_journal_close(j);
        return hd_err(ctx, err, "%s; undoing it failed too (%s): run 'hostdev recover'",
                      why.msg, undo);
    }
    hd_journal_end(ctx, j);
    return restore_error(ctx, &why);
}

/* ---- shared steps ---------------------------------------------------------------------------- */

static int step(struct hd_ctx *ctx, struct hd_journal *j, enum hd_jstep_kind kind,
                const struct hd_pci_addr *addr, const struct hd_node_owner *node)
{
    struct hd_jstep s;

    memset(&s, 0, sizeof(s));
    s.kind = kind;
    if (addr != NULL)
        s.addr = *addr;
    if (node != NULL)
        s.node = *node;
    return hd_journal_step(ctx, j, &s);
}

static int reset_device(struct hd_ctx *ctx, struct hd_journal *j, struct hd_device *dev)
{
    int r = refresh(dev);

    if (r < 0)
        return r;
    if (!hd_device_has_reset(dev)) {
        hd_info(ctx, "%s: no reset method; vfio-pci resets what it can when the VM opens it",
                dev->name);
        return 0;
    }
    if ((r = step(ctx, j, HD_JSTEP_RESET, &dev->addr, NULL)) < 0)
        return r;
    r = hd_device_reset(dev, 0, NULL);
    if (r == -ENOTTY && dev->driver != NULL && hd_driver_is_vfio(dev->driver)) {
        /* No method works from here (a bus reset with siblings on the bus): vfio-pci resets
         * it, by a hot reset of the whole bus if need be, when the VM opens it (libvirt
         * leaves vfio-pci devices to it for the same reason). */
        hd_info(ctx, "%s: %s; vfio-pci will reset it when the VM opens it", dev->name,
                hd_ctx_last_error(ctx));
        hd_ctx_clear_error(ctx);
        return 0;
    }
    return r;
}

/* Give @path to @uid:@gid 0660, journalled with what it had. */
static int give_node(struct hd_ctx *ctx, struct hd_journal *j, const char *path, uid_t uid,
                     gid_t gid, struct hd_node_owner *was)
{
    struct hd_node_owner to = {.uid = uid, .gid = gid, .mode = 0660};
    struct stat st;
    int r = hd_fs_stat(ctx, path, &st);

    if (r < 0)
        return hd_err(ctx, r, "%s/%s: %s", ctx->root, path, strerror(-r));
    memset(was, 0, sizeof(*was));
    hd_strlcpy(was->path, path, sizeof(was->path));
    was->uid = st.st_uid;
    was->gid = st.st_gid;
    was->mode = st.st_mode & 07777;
    hd_strlcpy(to.path, path, sizeof(to.path));
    if ((r = step(ctx, j, HD_JSTEP_OWN, NULL, was)) < 0)
        return r;
    r = set_owner(ctx, &to);
    if (r < 0)
        return hd_err(ctx, r, "giving %s/%s to %u:%u: %s", ctx->root, path, (unsigned)uid,
                      (unsigned)gid, strerror(-r));
    return 0;
}

/* ---- acquire -------------------------------------------------------------------------------- */

static int check_vm(struct hd_ctx *ctx, const char *vm)
{
    if (!hd_vm_id_valid(vm))
        return hd_err(ctx, -EINVAL, "VM id '%s' is not valid (1 to %d of A-Z a-z 0-9 . _ : @ -)",
                      vm ? vm : "", HD_VM_ID_MAX);
    return 0;
}

/* Open the devices asked for, each once, each with an IOMMU group. */
static int open_requested(struct hd_ctx *ctx, const struct hd_pci_addr *addrs, size_t n,
                          struct plan *p)
{
    int r = 0;

    for (size_t i = 0; i < n && r == 0; i++) {
        struct hd_device *dev;
        char name[HD_PCI_ADDR_BUFSZ];
        hd_pci_addr_format(&addrs[i], name);
        if (plan_find(p, &addrs[i]) != NULL)
            return hd_err(ctx, -EINVAL, "%s is given twice", name);
        r = hd_device_open(ctx, &addrs[i], &dev);
        if (r == -ENODEV)
            return hd_err(ctx, r, "%s: no such PCI device under %s", name, ctx->root);
        if (r < 0)
            return r;
        if (dev->group < 0)
            r = hd_err(ctx, -ENOTSUP, "%s has no IOMMU group: the IOMMU is off or absent, so "
                       "no VM can have it (see 'hostdev doctor')", name);
        else
            r = plan_add(p, dev, false);
        hd_device_unref(dev);
    }
    return r;
}

/* Under the group locks: everything that can refuse, before anything is written. */
static int check_acquire(struct hd_ctx *ctx, const char *vm, struct plan *p,
                         const struct hd_assignment_list *map, unsigned int flags)
{
    bool managed = !(flags & HD_ACQUIRE_UNMANAGED);
    size_t requested = p->n;
    int r;

    for (size_t i = 0; i < requested; i++) {
        struct hd_device *dev = p->v[i].dev;
        const struct hd_assignment *a;
        if ((r = refresh(dev)) < 0)
            return r;
        p->v[i].on_vfio = on_vfio(dev);
        hd_strlcpy(p->v[i].driver, dev->driver ? dev->driver : "", sizeof(p->v[i].driver));
        if (!hd_device_is_assignable(dev))
            return hd_err(ctx, -EINVAL, "%s is a bridge (header type %d), not an endpoint: it "
                          "cannot be assigned to a VM", dev->name, dev->header_type);
        if ((a = hd_map_find(map, &dev->addr)) != NULL)
            return hd_err(ctx, -EBUSY, "%s is already assigned to vm %s%s", dev->name, a->vm,
                          strcmp(a->vm, vm) == 0 ? "" : ": release it there first");
        if (!p->v[i].on_vfio && dev->driver != NULL && hd_stub_driver_find(dev->driver))
            return hd_err(ctx, -EBUSY, "%s is on %s, which VFIO cannot use: move it to "
                          "vfio-pci first ('hostdev detach %s'), or give it back to the host "
                          "('hostdev reattach %s')", dev->name, dev->driver, dev->name,
                          dev->name);
        if (!managed && !p->v[i].on_vfio)
            return hd_err(ctx, -EBUSY, "%s is bound to %s: in unmanaged mode it must be "
                          "detached ahead of booting the guest ('hostdev detach %s'), or "
                          "acquire it --managed", dev->name, dev->driver ? dev->driver
                                                                          : "no driver",
                          dev->name);
    }
    for (size_t gi = 0; gi < p->ngroups; gi++) {
        struct hd_group *g;
        if ((r = hd_group_open(ctx, p->groups[gi], &g)) < 0)
            return r;
        for (size_t k = 0; k < hd_group_get_member_count(g) && r == 0; k++) {
            struct hd_device *m = hd_group_get_member(g, k);
            const struct hd_assignment *a = hd_map_find(map, &m->addr);
            if (a != NULL && strcmp(a->vm, vm) != 0)
                r = hd_err(ctx, -EBUSY, "IOMMU group %d goes to one VM, and its member %s is "
                           "assigned to vm %s", p->groups[gi], m->name, a->vm);
        }
        for (size_t k = 0; k < hd_group_get_blocker_count(g) && r == 0; k++) {
            struct hd_device *b = hd_group_get_blocker(g, k);
            if (plan_find(p, &b->addr) != NULL)
                continue;
            if (managed && (flags & HD_ACQUIRE_GROUP) && hd_device_is_assignable(b))
                r = plan_add(p, b, true);
            else
                r = hd_err(ctx, -EBUSY, "IOMMU group %d would not be viable: %s stays on %s "
                           "on the host; %s", p->groups[gi], b->name, b->driver,
                           !managed ? "detach it too ('hostdev detach --group')"
                           : hd_device_is_assignable(b)
                               ? "ask for it too, or use --group"
                               : "that bridge's driver keeps the group from any VM");
        }
        hd_group_unref(g);
        if (r < 0)
            return r;
    }
    if (!(flags & HD_ACQUIRE_FORCE)) {
        for (size_t i = 0; i < p->n; i++) {
            if (managed && !p->v[i].on_vfio && p->v[i].driver[0] &&
                (r = hd_device_check_host_use(p->v[i].dev)) < 0)
                return r;
        }
    }
    return 0;
}

/* The nodes a VM opens for @d: its group's, its cdev, and dev/iommu with a cdev. */
static size_t nodes_for(struct hd_ctx *ctx, const struct hd_device *dev,
                        char paths[][HD_NODE_PATH_MAX])
{
    size_t n = 0;

    snprintf(paths[n++], HD_NODE_PATH_MAX, "dev/vfio/%d", dev->group);
    if (hd_device_get_vfio_cdev(dev) != NULL && hd_name_valid(hd_device_get_vfio_cdev(dev)) &&
        hd_path(paths[n], HD_NODE_PATH_MAX, "dev/vfio/devices/%s",
                hd_device_get_vfio_cdev(dev)) == 0 &&
        hd_fs_exists(ctx, paths[n]) == 1) {
        n++;
        if (hd_fs_exists(ctx, "dev/iommu") == 1)
            strcpy(paths[n++], "dev/iommu");
    }
    return n;
}

static const struct hd_jstep *journal_own(const struct hd_journal *j, const char *path)
{
    for (size_t i = 0; i < j->nsteps; i++) {
        if (j->steps[i].kind == HD_JSTEP_OWN && strcmp(j->steps[i].node.path, path) == 0)
            return &j->steps[i];
    }
    return NULL;
}

/* Under the map lock: hand the nodes over and write the map, so that a node shared between
 * VMs (dev/iommu) keeps the original owner recorded by whoever changed it first. */
static int give_and_commit(struct hd_ctx *ctx, struct hd_journal *j, const char *vm,
                           struct plan *p, uid_t uid, gid_t gid, unsigned int flags)
{
    struct hd_assignment_list *map = NULL;
    int lockfd = -1, r;

    if ((r = hd_lock_map(ctx, &lockfd)) < 0 || (r = hd_map_read(ctx, &map)) < 0)
        goto out;
    for (size_t i = 0; i < p->n; i++) {
        struct hd_device *dev = p->v[i].dev;
        char paths[3][HD_NODE_PATH_MAX];
        struct hd_assignment a;
        size_t np;
        if ((r = refresh(dev)) < 0)
            goto out;
        memset(&a, 0, sizeof(a));
        a.addr = dev->addr;
        strcpy(a.name, dev->name);
        hd_strlcpy(a.vm, vm, sizeof(a.vm));
        a.managed = !(flags & HD_ACQUIRE_UNMANAGED);
        a.detached = a.managed && !p->v[i].on_vfio;
        a.via_group = p->v[i].via_group;
        if (a.detached)
            strcpy(a.driver, p->v[i].driver);
        a.group = dev->group;
        a.since = (long long)time(NULL);
        a.uid = uid;
        a.gid = gid;
        np = nodes_for(ctx, dev, paths);
        for (size_t k = 0; k < np; k++) {
            const struct hd_node_owner *orig = hd_map_node_orig(map, paths[k]);
            const struct hd_jstep *done = journal_own(j, paths[k]);
            struct hd_node_owner was;
            if (done != NULL) {
                was = done->node;
            } else if ((r = give_node(ctx, j, paths[k], uid, gid, &was)) < 0) {
                goto out;
            }
            a.nodes[a.nnodes++] = orig ? *orig : was;
        }
        if ((r = hd_map_add(map, &a)) < 0)
            goto out;
    }
    r = hd_map_write(ctx, map);
out:
    hd_assignment_list_unref(map);
    hd_unlock(lockfd);
    return r;
}

int hd_lock_and_recover(struct hd_ctx *ctx, const int *groups, size_t n,
                        struct hd_lockset **locks)
{
    uint64_t deadline = hd_now_ms() + ctx->timeout_ms;
    unsigned int delay = 1;

    for (;;) {
        int r = hd_lock_groups(ctx, groups, n, locks);
        if (r < 0)
            return r;
        r = hd_recover_held(ctx, *locks, NULL);
        if (r != -EAGAIN) {
            if (r < 0)
                *locks = hd_lockset_release(*locks);
            return r;
        }
        /* Someone recovering our groups waits for these locks: let it finish first. */
        *locks = hd_lockset_release(*locks);
        if (hd_now_ms() >= deadline)
            return r;
        hd_sleep_ms(delay);
        delay = delay < 32 ? delay * 2 : delay;
    }
}

HD_EXPORT int hd_assign_acquire(struct hd_ctx *ctx, const char *vm,
                                const struct hd_pci_addr *addrs, size_t n, uid_t uid, gid_t gid,
                                unsigned int flags)
{
    struct hd_assignment_list *map = NULL;
    struct hd_lockset *locks = NULL;
    struct hd_journal *j = NULL;
    struct hd_jdev *jdevs = NULL;
    struct plan p = {0};
    int r;

    if ((r = check_vm(ctx, vm)) < 0)
        return r;
    if (n == 0)
        return hd_err(ctx, -EINVAL, "no device given");
    hd_assign_recover(ctx, NULL); /* leftovers of killed processes; ours are checked below */
    hd_ctx_clear_error(ctx);
    if ((r = open_requested(ctx, addrs, n, &p)) < 0 ||
        (r = hd_lock_and_recover(ctx, p.groups, p.ngroups, &locks)) < 0 ||
        (r = hd_map_read(ctx, &map)) < 0 ||
        (r = check_acquire(ctx, vm, &p, map, flags)) < 0)
        goto out;
    /* --group may have brought in members of the same groups only: the locks still cover. */
    if ((jdevs = calloc(p.n + 1, sizeof(*jdevs))) == NULL) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < p.n; i++) {
        jdevs[i].addr = p.v[i].dev->addr;
        jdevs[i].group = p.v[i].dev->group;
    }
    if ((r = hd_journal_begin(ctx, HD_JOP_ACQUIRE, vm, jdevs, p.n, &j)) < 0)
        goto out;
    /* 1. detach the managed devices, all of them before any reset (a bus reset hits
     * siblings). */
    for (size_t i = 0; i < p.n && !(flags & HD_ACQUIRE_UNMANAGED); i++) {
        if (p.v[i].on_vfio)
            continue;
        if ((r = step(ctx, j, HD_JSTEP_DETACH, &p.v[i].dev->addr, NULL)) < 0 ||
            (r = hd_device_detach(p.v[i].dev, "vfio-pci", 0)) < 0) {
            r = abort_txn(ctx, j, r);
            goto out;
        }
    }
    /* 2. reset all. */
    for (size_t i = 0; i < p.n; i++) {
        if ((r = reset_device(ctx, j, p.v[i].dev)) < 0) {
            r = abort_txn(ctx, j, r);
            goto out;
        }
    }
    /* 3. the VM's user may open the nodes, 4. record. */
    if ((r = give_and_commit(ctx, j, vm, &p, uid, gid, flags)) < 0) {
        r = abort_txn(ctx, j, r);
        goto out;
    }
    hd_journal_end(ctx, j);
out:
    free(jdevs);
    hd_assignment_list_unref(map);
    hd_lockset_release(locks);
    plan_free(&p);
    return r;
}

/* ---- release -------------------------------------------------------------------------------- */

/* The entries of @vm to release: all, or those named (each must be @vm's). */
static int select_entries(struct hd_ctx *ctx, const struct hd_assignment_list *map,
                          const char *vm, const struct hd_pci_addr *addrs, size_t n,
                          struct hd_assignment_list *out)
{
    int r = 0;

    out->n = 0;
    if (n == 0) {
        for (size_t i = 0; i < map->n && r == 0; i++) {
            if (strcmp(map->v[i].vm, vm) == 0)
                r = hd_map_add(out, &map->v[i]);
        }
        return r;
    }
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct hd_assignment *a = hd_map_find(map, &addrs[i]);
        char name[HD_PCI_ADDR_BUFSZ];
        hd_pci_addr_format(&addrs[i], name);
        if (a == NULL)
            return hd_err(ctx, -ENOENT, "%s is not assigned to any VM", name);
        if (strcmp(a->vm, vm) != 0)
            return hd_err(ctx, -EPERM, "%s is assigned to vm %s, not %s", name, a->vm, vm);
        if (hd_map_find(out, &addrs[i]) == NULL)
            r = hd_map_add(out, a);
    }
    return r;
}

/* The last assignment outside @sel that lists @path (NULL: nobody keeps it). */
static const struct hd_assignment *node_keeper(const struct hd_assignment_list *map,
                                               const struct hd_assignment_list *sel,
                                               const char *path)
{
    const struct hd_assignment *keeper = NULL;

    for (size_t i = 0; i < map->n; i++) {
        if (hd_map_find(sel, &map->v[i].addr) != NULL)
            continue;
        for (size_t k = 0; k < map->v[i].nnodes; k++) {
            if (strcmp(map->v[i].nodes[k].path, path) == 0)
                keeper = &map->v[i];
        }
    }
    return keeper;
}

/* Take back the nodes nobody else keeps; a node another VM keeps (dev/iommu) goes to that
 * VM's user if it is not its already. Under the map lock: see give_and_commit. */
static int restore_nodes(struct hd_ctx *ctx, struct hd_journal *j,
                         const struct hd_assignment_list *sel)
{
    struct hd_assignment_list *map = NULL;
    int lockfd = -1, r;

    if ((r = hd_lock_map(ctx, &lockfd)) < 0 || (r = hd_map_read(ctx, &map)) < 0)
        goto out;
    for (size_t i = 0; i < sel->n && r == 0; i++) {
        for (size_t k = 0; k < sel->v[i].nnodes && r == 0; k++) {
            const struct hd_node_owner *orig = &sel->v[i].nodes[k];
            const struct hd_assignment *keeper = node_keeper(map, sel, orig->path);
            struct hd_node_owner now, to = *orig;
            struct stat st;
            if (journal_own(j, orig->path) != NULL)
                continue;
            if ((r = hd_fs_stat(ctx, orig->path, &st)) == -ENOENT) {
                r = 0;
                continue;
            }
            if (keeper != NULL) {
                to.uid = keeper->uid;
                to.gid = keeper->gid;
                to.mode = 0660;
            }
            if (r < 0 || (st.st_uid == to.uid && st.st_gid == to.gid &&
                          (st.st_mode & 07777) == to.mode))
                continue;
            now = *orig;
            now.uid = st.st_uid;
            now.gid = st.st_gid;
            now.mode = st.st_mode & 07777;
            if ((r = step(ctx, j, HD_JSTEP_OWN, NULL, &now)) == 0 &&
                (r = set_owner(ctx, &to)) < 0)
                r = hd_err(ctx, r, "restoring %s/%s: %s", ctx->root, orig->path, strerror(-r));
        }
    }
out:
    hd_assignment_list_unref(map);
    hd_unlock(lockfd);
    return r;
}

static int drop_entries(struct hd_ctx *ctx, const char *vm, const struct hd_assignment_list *sel)
{
    struct hd_assignment_list *map = NULL;
    int lockfd = -1, r;

    if ((r = hd_lock_map(ctx, &lockfd)) == 0 && (r = hd_map_read(ctx, &map)) == 0) {
        for (size_t i = map->n; i > 0; i--) {
            if (hd_map_find(sel, &map->v[i - 1].addr) && strcmp(map->v[i - 1].vm, vm) == 0)
                hd_map_remove(map, i - 1);
        }
        r = hd_map_write(ctx, map);
    }
    hd_assignment_list_unref(map);
    hd_unlock(lockfd);
    return r;
}

static int release_one(struct hd_ctx *ctx, struct hd_journal *j, const struct hd_assignment *a,
                       bool do_reset, bool do_reattach)
{
    struct hd_device *dev;
    char *orig = NULL;
    int r = hd_device_open(ctx, &a->addr, &dev);

    if (r == -ENODEV)
        return 0; /* unplugged while assigned: only its record is left */
    if (r < 0)
        return r;
    if (do_reset)
        r = reset_device(ctx, j, dev);
    if (r == 0 && do_reattach && a->managed && a->detached) {
        /* The map knows the driver even if the detach record went missing. */
        if (a->driver[0] && hd_device_get_original_driver(dev, &orig) == -ENOENT)
            hd_state_put(ctx, "drivers", dev->name, a->driver);
        free(orig);
        if ((r = step(ctx, j, HD_JSTEP_REATTACH, &dev->addr, NULL)) == 0)
            r = hd_device_reattach(dev);
    }
    hd_device_unref(dev);
    return r;
}

HD_EXPORT int hd_assign_release(struct hd_ctx *ctx, const char *vm,
                                const struct hd_pci_addr *addrs, size_t n)
{
    struct hd_assignment_list *map = NULL, *sel = hd_map_new();
    struct hd_lockset *locks = NULL;
    struct hd_journal *j = NULL;
    struct hd_jdev *jdevs = NULL;
    int *groups = NULL, r;

    if (sel == NULL)
        return -ENOMEM;
    if ((r = check_vm(ctx, vm)) < 0)
        goto out;
    hd_assign_recover(ctx, NULL);
    hd_ctx_clear_error(ctx);
    if ((r = hd_map_read(ctx, &map)) < 0 || (r = select_entries(ctx, map, vm, addrs, n, sel)) < 0)
        goto out;
    if (sel->n == 0)
        goto out; /* the VM holds nothing: done */
    if ((groups = calloc(sel->n, sizeof(*groups))) == NULL ||
        (jdevs = calloc(sel->n, sizeof(*jdevs))) == NULL) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < sel->n; i++)
        groups[i] = sel->v[i].group;
    if ((r = hd_lock_and_recover(ctx, groups, sel->n, &locks)) < 0)
        goto out;
    /* Read again under the locks: another release may have been quicker. */
    hd_assignment_list_unref(map);
    map = NULL;
    if ((r = hd_map_read(ctx, &map)) < 0 || (r = select_entries(ctx, map, vm, addrs, n, sel)) < 0)
        goto out;
    for (size_t i = 0; i < sel->n; i++) {
        if (!hd_lockset_holds(locks, sel->v[i].group)) {
            r = hd_err(ctx, -EAGAIN, "the assignments of vm %s changed meanwhile; try again",
                       vm);
            goto out;
        }
        jdevs[i].addr = sel->v[i].addr;
        jdevs[i].group = sel->v[i].group;
    }
    if (sel->n == 0 || (r = hd_journal_begin(ctx, HD_JOP_RELEASE, vm, jdevs, sel->n, &j)) < 0)
        goto out;
    /* The VM's user loses the nodes first, then each device is reset and, when managed,
     * reattached (newest first), then the records go. */
    r = restore_nodes(ctx, j, sel);
    for (size_t i = 0; i < sel->n && r == 0; i++)
        r = release_one(ctx, j, &sel->v[i], true, false);
    for (size_t i = sel->n; i > 0 && r == 0; i--)
        r = release_one(ctx, j, &sel->v[i - 1], false, true);
    if (r == 0)
        r = drop_entries(ctx, vm, sel);
    if (r < 0) {
        r = abort_txn(ctx, j, r);
        goto out;
    }
    hd_journal_end(ctx, j);
out:
    free(groups);
    free(jdevs);
    hd_assignment_list_unref(sel);
    hd_assignment_list_unref(map);
    hd_lockset_release(locks);
    return r;
}

HD_EXPORT int hd_assign_release_force(struct hd_ctx *ctx, const struct hd_pci_addr *addr)
{
    struct hd_assignment_list *map = NULL, *sel = hd_map_new();
    struct hd_lockset *locks = NULL;
    struct hd_device *dev = NULL;
    const struct hd_assignment *a;
    int group = -1, r;

    /* No journal: each step can be run again, and the record goes last, so a crash leaves
     * the device recorded and `release --force` can simply be repeated. */
    if (sel == NULL)
        return -ENOMEM;
    if ((r = hd_map_read(ctx, &map)) < 0)
        goto out;
    r = hd_device_open(ctx, addr, &dev);
    if (r < 0 && r != -ENODEV)
        goto out;
    a = hd_map_find(map, addr);
    group = a ? a->group : dev ? dev->group : -1;
    if (group >= 0 && (r = hd_lock_and_recover(ctx, &group, 1, &locks)) < 0)
        goto out;
    hd_assignment_list_unref(map);
    map = NULL;
    if ((r = hd_map_read(ctx, &map)) < 0)
        goto out;
    if ((a = hd_map_find(map, addr)) != NULL) {
        struct hd_assignment_list *rest = NULL;
        int lockfd = -1;
        if ((r = hd_map_add(sel, a)) < 0 || (r = hd_lock_map(ctx, &lockfd)) < 0)
            goto out;
        if ((r = hd_map_read(ctx, &rest)) == 0) {
            for (size_t k = 0; k < a->nnodes; k++) {
                if (!node_keeper(rest, sel, a->nodes[k].path) &&
                    set_owner(ctx, &a->nodes[k]) < 0)
                    hd_warn(ctx, "%s: could not restore %s", a->name, a->nodes[k].path);
            }
        }
        hd_assignment_list_unref(rest);
        hd_unlock(lockfd);
        if (r < 0)
            goto out;
    }
    if (dev != NULL) {
        if (a != NULL && a->driver[0]) {
            char *orig = NULL;
            if (hd_device_get_original_driver(dev, &orig) == -ENOENT)
                hd_state_put(ctx, "drivers", dev->name, a->driver);
            free(orig);
        }
        if (refresh(dev) == 0 && on_stub(dev) && hd_device_has_reset(dev) &&
            hd_device_reset(dev, 0, NULL) < 0)
            hd_warn(ctx, "%s: reset failed; reattaching anyway", dev->name);
        if ((r = hd_device_reattach(dev)) < 0)
            goto out;
    }
    r = a != NULL ? drop_entries(ctx, a->vm, sel) : 0;
out:
    hd_device_unref(dev);
    hd_assignment_list_unref(sel);
    hd_assignment_list_unref(map);
    hd_lockset_release(locks);
    return r;
}
