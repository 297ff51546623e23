/* ops.c - the engine's device operations: detach (one device, several, whole groups),
 * reattach, reset and a PF's VF count. Each is a transaction (txn.c): open and check every
 * device against the kernel and the assignment map first, then journal, apply and verify each
 * step, commit; any failure puts back everything started. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct devset {
    struct hd_device **v;
    bool *named;
    size_t n, cap;
};

static void devset_free(struct devset *d)
{
    for (size_t i = 0; i < d->n; i++)
        hd_device_unref(d->v[i]);
    free(d->v);
    free(d->named);
    memset(d, 0, sizeof(*d));
}

static struct hd_device *devset_find(const struct devset *d, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < d->n; i++) {
        if (hd_pci_addr_equal(hd_device_get_addr(d->v[i]), addr))
            return d->v[i];
    }
    return NULL;
}

static int devset_add(struct devset *d, struct hd_device *dev, bool named)
{
    if (devset_find(d, hd_device_get_addr(dev)) != NULL)
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        struct hd_device **v = realloc(d->v, cap * sizeof(*v));
        bool *nm;
        if (v == NULL)
            return -ENOMEM;
        d->v = v;
        if ((nm = realloc(d->named, cap * sizeof(*nm))) == NULL)
            return -ENOMEM;
        d->named = nm;
        d->cap = cap;
    }
    d->named[d->n] = named;
    d->v[d->n++] = hd_device_ref(dev);
    return 0;
}

/* Every device the request names, opened once each and read (@fill) before any lock file is
 * made: what is wrong with it (a link to another device's directory, a driver link that cannot
 * be read, garbage in an attribute) stops us with nothing changed. */
static int open_named(struct hd_ctx *ctx, const struct hd_op_request *req, unsigned int fill,
                      struct devset *d)
{
    if (req->n == 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "no device given");
    for (size_t i = 0; i < req->n; i++) {
        struct hd_device *dev;
        char name[HD_PCI_ADDR_BUFSZ];
        /* Config space tells the header type (a bridge?) and the revision; a VF is an
         * endpoint (SR-IOV: type 0), and nothing here asks its revision. */
        /* Its driver link is checked before any lock or record is made, not halfway. */
        int r = hd_device_open_agreed(ctx, &req->addrs[i], fill & ~(unsigned)HD_FILL_CONFIG, &dev);
        if (r == 0 && (fill & HD_FILL_CONFIG) && hd_device_get_physfn(dev) == NULL &&
            (r = hd_device_fill_fields(dev, HD_FILL_CONFIG, false)) < 0)
            hd_device_unref(dev); /* opened, but its config space could not be read */
        if (r == -ENODEV)
            return hd_errr(ctx, r, HD_REASON_NO_DEVICE, "%s: no such PCI device under %s",
                           hd_pci_addr_format(&req->addrs[i], name), hd_ctx_get_root(ctx));
        if (r < 0)
            return r;
        r = devset_add(d, dev, true);
        hd_device_unref(dev);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Which devices an operation locks and reads beside those named. */
enum devop_members {
    MEMBERS_NONE,
    MEMBERS_GROUP, /* the named devices' IOMMU groups (detach and reattach --group) */
    MEMBERS_VFS,   /* a PF's VFs, which a new VF count destroys */
};

/* The VFs of the named PF: their groups are locked with it, so that no detach of one runs
 * while the count changes, and they are read under the locks for what destroying them takes
 * (an open VFIO device, a driver record). */
static int add_vfs(struct hd_ctx *ctx, unsigned int fill, struct devset *d)
{
    struct hd_device *pf = d->v[0];
    int r = 0;

    for (size_t i = 0; i < hd_device_get_virtfn_count(pf) && r == 0; i++) {
        struct hd_device *vf;
        r = hd_device_open_fill(ctx, hd_device_get_virtfn(pf, i),
                                fill & ~(unsigned)(HD_FILL_CONFIG | HD_FILL_SRIOV), &vf);
        if (r == -ENODEV) { /* going with a count being changed: the locks tell */
            r = 0;
            continue;
        }
        if (r == 0)
            r = devset_add(d, vf, false);
        hd_device_unref(vf);
    }
    return r;
}

/* The endpoints of the named devices' groups, each read for @fill's HD_FILL_CONFIG (else a
 * bridge is told by its class). */
static int add_group_members(struct hd_ctx *ctx, unsigned int fill, struct devset *d,
                             bool unbound_too)
{
    size_t named = d->n;

    for (size_t i = 0; i < named; i++) {
        struct hd_group *g;
        int r;
        if (hd_device_get_iommu_group(d->v[i]) < 0)
            continue;
        if ((r = hd_group_open_fill(ctx, hd_device_get_iommu_group(d->v[i]),
                                    HD_FILL_IDENT | (fill & HD_FILL_CONFIG), &g)) < 0)
            return r;
        for (size_t k = 0; k < hd_group_get_member_count(g) && r == 0; k++) {
            struct hd_device *m = hd_group_get_member(g, k);
            /* Bridges stay on pcieport (which does not block). Unbound members already fit a
             * detach; a reattach gives one back when its record names a driver. */
            if (hd_device_is_assignable(m) && (unbound_too || hd_device_get_driver(m) != NULL))
                r = devset_add(d, m, false);
        }
        hd_group_unref(g);
        if (r < 0)
            return r;
    }
    return 0;
}

static struct hd_jdev *jdevs_of(const struct devset *d)
{
    struct hd_jdev *j = calloc(d->n + 1, sizeof(*j));

    for (size_t i = 0; j != NULL && i < d->n; i++) {
        j[i].addr = *hd_device_get_addr(d->v[i]);
        j[i].group = hd_device_get_iommu_group(d->v[i]);
    }
    return j;
}

/* The map says a VM holds @dev: refuse, naming it. */
static int check_not_held(struct hd_ctx *ctx, const struct hd_assignment_list *map,
                          const struct hd_device *dev, const char *what)
{
    const struct hd_assignment *a = hd_map_find(map, hd_device_get_addr(dev));

    if (a == NULL && (a = hd_map_find_below(ctx, map, hd_device_get_name(dev))) != NULL)
        return hd_errr(ctx, -EBUSY, HD_REASON_HELD,
                       "%s has %s behind it, which vm %s holds: %s "
                       "would take that from under the VM; release it first",
                       hd_device_get_name(dev), a->name, a->vm, what);
    if (a == NULL)
        return 0;
    return hd_errr(ctx, -EBUSY, HD_REASON_HELD,
                   "%s is assigned to vm %s: %s would take it "
                   "from under the VM; release it first",
                   hd_device_get_name(dev), a->vm, what);
}

/* A VM holds another device of @dev's IOMMU group (the group is the VM's, whole): refuse
 * @what, which would @harm it. */
static int check_group_not_held(struct hd_ctx *ctx, const struct hd_assignment_list *map,
                                const struct hd_device *dev, const char *what, const char *harm)
{
    int group = hd_device_get_iommu_group(dev);

    for (size_t i = 0; group >= 0 && i < hd_assignment_list_count(map); i++) {
        const struct hd_assignment *a = hd_map_at(map, i);
        if (a->kind == HD_ASSIGNMENT_PCI && a->group == group &&
            !hd_pci_addr_equal(&a->addr, hd_device_get_addr(dev)))
            return hd_errr(ctx, -EBUSY, HD_REASON_HELD,
                           "%s shares IOMMU group %d with %s, which vm %s holds: %s would %s; "
                           "release that first",
                           hd_device_get_name(dev), group, a->name, a->vm, what, harm);
    }
    return 0;
}

/* A VF that a forced PF move would destroy, though --force does not cover it: one hostdev
 * moved off its host driver (its driver record would outlive it, claiming a device that is
 * gone) or one a process has open through VFIO. The VF count operation handles both. */
static int check_vf_destroyable(struct hd_ctx *ctx, const struct hd_device *pf,
                                const struct hd_pci_addr *addr, const char *what)
{
    char name[HD_PCI_ADDR_BUFSZ], *rec = NULL;
    struct hd_device *vf;
    int r;

    hd_pci_addr_format(addr, name);
    if ((r = hd_state_get(ctx, "drivers", name, &rec)) == 0) {
        free(rec);
        return hd_errr(ctx, -EBUSY, HD_REASON_HOST_USE,
                       "%s: its VF %s was detached from its host driver (a driver record says "
                       "so): %s would destroy it and leave the record; set the VF count to 0 "
                       "first, which forgets that record too",
                       hd_device_get_name(pf), name, what);
    }
    if (r != -ENOENT)
        return r;
    if ((r = hd_device_open_fill(ctx, addr, HD_FILL_IDENT, &vf)) == -ENODEV)
        return 0; /* going already */
    if (r < 0)
        return r;
    r = hd_check_not_open(ctx, vf, "destroying it with its PF's driver");
    hd_device_unref(vf);
    return r;
}

/* hd_check_pf_keeps_vfs() for @pf with the VFs @planned (-1: those it has) a dry run's step
 * before plans it: not made yet, so none is in use, as the run's then finds them. */
static int check_pf_keeps_vfs(struct hd_ctx *ctx, struct hd_device *pf, int planned, bool force,
                              const char *what)
{
    size_t n = planned >= 0 ? (size_t)planned : hd_device_get_virtfn_count(pf);
    int r = 0;

    for (size_t i = 0; force && planned < 0 && r == 0 && i < n; i++)
        r = check_vf_destroyable(ctx, pf, hd_device_get_virtfn(pf, i), what);
    if (force || n == 0)
        return r;
    return hd_errr(ctx, -EBUSY, HD_REASON_HOST_USE,
                   "%s is an SR-IOV PF with %zu VF%s: %s would destroy %s (a PF's driver turns "
                   "SR-IOV off when it lets go); set its VF count to 0 first",
                   hd_device_get_name(pf), n, n == 1 ? "" : "s", what, n == 1 ? "it" : "them");
}

int hd_check_pf_keeps_vfs(struct hd_ctx *ctx, struct hd_device *pf, bool force, const char *what)
{
    return check_pf_keeps_vfs(ctx, pf, -1, force, what);
}

int hd_check_not_with_own_vf(struct hd_ctx *ctx, struct hd_device *pf,
                             struct hd_device *const *devs, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const struct hd_pci_addr *physfn = hd_device_get_physfn(devs[i]);
        if (physfn != NULL && hd_pci_addr_equal(physfn, hd_device_get_addr(pf)))
            return hd_errr(ctx, -EINVAL, HD_REASON_INVALID,
                           "%s is a VF of %s, and %s destroys its VFs (a PF's driver turns "
                           "SR-IOV off when it lets go): ask for one or the other",
                           hd_device_get_name(devs[i]), hd_device_get_name(pf), what);
    }
    return 0;
}

int hd_check_not_open(struct hd_ctx *ctx, struct hd_device *dev, const char *what)
{
    int count = 0, r;

    if (!hd_device_is_on_vfio(dev))
        return 0;
    r = hd_device_read_enable_count(dev, &count);
    if (r == -ENOENT || (r == 0 && count == 0))
        return 0; /* closed (or a kernel that shows no count) */
    if (r < 0)
        return r;
    return hd_errr(ctx, -EBUSY, HD_REASON_HELD,
                   "%s is open through VFIO by a process (a VM or a user-space driver; %s "
                   "counts it enabled): %s would take it from under that process; stop it "
                   "first",
                   hd_device_get_name(dev), hd_device_get_driver(dev), what);
}

int hd_check_mdev_not_open(struct hd_ctx *ctx, const char *uuid, int group, const char *what)
{
    if (hd_vfio_group_held_ops(ctx, group, NULL) != 1)
        return 0;
    return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "mediated device %s is open through VFIO by a "
                   "process (a VM or a user-space driver has its group, /dev/vfio/%d): %s would "
                   "take it from under that process; stop it first", uuid, group, what);
}

/* Host use and platform functions, for a device about to leave a host driver; *@hu is read
 * for the @ndevices devices of the operation. */
static int check_may_leave_host(struct hd_ctx *ctx, struct hd_host_use **hu, size_t ndevices,
                                struct hd_device *dev, bool force)
{
    const char *platform = hd_platform_function(dev);
    int r;

    if (force)
        return 0;
    if (platform != NULL)
        return hd_errr(ctx, -EBUSY, HD_REASON_PLATFORM,
                       "%s is %s: the host keeps it (no VM "
                       "needs it)",
                       hd_device_get_name(dev), platform);
    /* What the host uses is read once for all the devices of the operation. */
    if (*hu == NULL && (r = hd_host_use_new_for(ctx, ndevices, hu)) < 0)
        return r;
    return hd_host_use_check_leaving(ctx, hu, dev);
}

/* Read the record of @dev into @s (DETACH: the record before; REATTACH: the one it uses). */
static int read_record(struct hd_device *dev, struct hd_jstep *s)
{
    char *rec = NULL;
    int r = hd_bind_read_record(dev, &rec, s->record_override, sizeof(s->record_override));

    s->record = HD_JREC_NONE;
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    s->record = HD_JREC_DRIVER;
    hd_strlcpy(s->record_driver, rec, sizeof(s->record_driver));
    free(rec);
    return 0;
}

/* On @stub already; when none was asked for ("") or vfio-pci was, any vfio-pci family driver
 * will do (a variant is vfio-pci with more). */
static bool already_on(const struct hd_device *dev, const char *stub)
{
    return hd_device_get_driver(dev) != NULL &&
           (hd_cmdline_name_equal(hd_device_get_driver(dev), stub) ||
            ((stub[0] == '\0' || strcmp(stub, "vfio-pci") == 0) && hd_device_is_on_vfio(dev)));
}

/* One device operation under way: its transaction, its devices, the map as it was under
 * the locks, and (numvfs) the step planned during the checks. */
struct devop {
    struct hd_op *op;
    struct hd_txn *t;
    struct hd_ctx *ctx; /* the operation's */
    const struct hd_op_request *req;
    struct devset d;
    struct devfound *found; /* one a device of d, what the checks read under the locks */
    struct hd_assignment_list *map;
    struct hd_host_use *host_use; /* read when a device first leaves a host driver */
    struct hd_jstep planned;
};

/* What a check read of a device under the locks, which its step uses instead of reading it
 * again (nobody else writes either while the locks are held). */
struct devfound {
    bool record_read;
    struct hd_jstep record; /* its record and record_driver */
    bool driver_there;      /* the driver its step binds it to is registered */
    bool to_kernel;         /* its reattach goes to whatever the kernel binds */
    bool noiommu;           /* no IOMMU group: vfio's unsafe no-IOMMU mode will make one */
};

typedef int (*devop_fn)(struct devop *o);

/* The record of the @i-th device, read once under the locks by whichever of its check and its
 * step asks first. */
static int found_record(struct devop *o, size_t i, struct hd_jstep *s)
{
    struct devfound *f = &o->found[i];
    int r;

    if (!f->record_read) {
        if ((r = read_record(o->d.v[i], &f->record)) < 0)
            return r;
        f->record_read = true;
    }
    s->record = f->record.record;
    hd_strlcpy(s->record_driver, f->record.record_driver, sizeof(s->record_driver));
    hd_strlcpy(s->record_override, f->record.record_override, sizeof(s->record_override));
    return 0;
}

/* The driver the request asks @dev to be on, "" for the default. */
static const char *asked(const struct devop *o, const struct hd_device *dev)
{
    return hd_op_request_driver(o->req, hd_device_get_addr(dev));
}

/* Every device operation: open the devices (with @group, their groups' endpoints), refuse what
 * they are (@check_devices: what no lock changes, before any lock file is made), lock and
 * recover their groups, read them and the map again under the locks, @check everything, then
 * journal and @apply, and commit; undo on any failure. */
static int run_devop(struct hd_op *op, enum hd_jop kind, enum devop_members members,
                     devop_fn check_devices, devop_fn check, devop_fn apply)
{
    struct devop o = {.op = op, .req = hd_op_request(op)};
    struct hd_jdev *jdevs = NULL;
    int r;

    if ((r = hd_txn_new(op, kind, NULL, HD_TXN_LAZY, &o.t)) < 0)
        return r;
    o.ctx = hd_txn_ctx(o.t);
    /* Only a reset needs the reset methods (and what else HD_FILL_EXTRA reads); config space
     * (the header type) only what refuses a bridge: a reattach or a VF count reads none, so a
     * device whose config space fails to read can still go back to its host driver. */
    unsigned int fill = kind == HD_JOP_RESET ? HD_TXN_FILL
                        : kind == HD_JOP_DETACH || kind == HD_JOP_RESERVE
                            ? HD_TXN_FILL_BIND | HD_FILL_CONFIG
                            : HD_TXN_FILL_BIND;
    /* The override is read under the locks only: another process may change it until then,
     * and there is nothing in it to refuse before a lock file is made. */
    if ((r = open_named(o.ctx, o.req, fill & ~(unsigned)HD_FILL_OVERRIDE, &o.d)) < 0 ||
        (members == MEMBERS_GROUP &&
         (r = add_group_members(o.ctx, fill, &o.d, kind == HD_JOP_REATTACH)) < 0) ||
        (members == MEMBERS_VFS && (r = add_vfs(o.ctx, fill, &o.d)) < 0))
        goto fail;
    /* (+ 1: like jdevs_of's, never a calloc of 0) */
    if ((jdevs = jdevs_of(&o.d)) == NULL ||
        (o.found = calloc(o.d.n + 1, sizeof(*o.found))) == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    if (check_devices != NULL && (r = check_devices(&o)) < 0)
        goto fail;
    /* A device on no VFIO driver is in an IOMMU group, not a no-IOMMU one: the lock reads no
     * group name for it. A detach's checks asked already (the device keeps the answer);
     * elsewhere it costs a stat at most, for the name's failed open. */
    for (size_t i = 0; i < o.d.n; i++)
        jdevs[i].iommu_group = !hd_device_is_on_vfio(o.d.v[i]);
    if ((r = hd_txn_lock(o.t, jdevs, o.d.n)) < 0)
        goto fail;
    /* Under the locks: what the devices are now, and who holds them. What another process
     * may have changed meanwhile is read again: the driver, the override, a PF's VFs; the
     * ids, the class, the group, the place and the header type are the slot's, not the
     * driver's (uevent and the driver link agreed before the locks). A group's members get
     * what they were not read for yet. */
    for (size_t i = 0; i < o.d.n && r == 0; i++) {
        /* A VF's physfn is its slot's, and it has no VFs: only a PF's SR-IOV side changes. */
        unsigned int again = HD_FILL_OVERRIDE |
                             (hd_device_get_physfn(o.d.v[i]) ? 0 : HD_FILL_SRIOV);
        r = hd_device_fill_fields(o.d.v[i], again, true);
        /* The driver from its link (one read where uevent takes three); a device without one
         * may have gone: its uevent tells (-ENODEV). */
        if (r == 0)
            r = hd_device_fill_driver(o.d.v[i]);
        if (r == 0 && hd_device_get_driver(o.d.v[i]) == NULL)
            r = hd_device_fill_fields(o.d.v[i], HD_FILL_IDENT, true);
        if (r == 0)
            r = hd_device_fill_fields(o.d.v[i], fill & ~(hd_device_get_physfn(o.d.v[i])
                                                             ? (unsigned)HD_FILL_CONFIG : 0u),
                                      false);
    }
    if (r < 0 || (r = hd_map_read(o.ctx, &o.map)) < 0 || (r = check(&o)) < 0 ||
        (r = hd_txn_begin(o.t, jdevs, o.d.n)) < 0 || (r = apply(&o)) < 0)
        goto fail;
    r = hd_txn_commit(o.t);
    goto out;
fail:
    r = hd_txn_abort(o.t, r);
out:
    free(jdevs);
    free(o.found);
    hd_assignment_list_unref(o.map);
    hd_host_use_unref(o.host_use);
    devset_free(&o.d);
    hd_txn_free(o.t);
    return r;
}

/* ---- detach -------------------------------------------------------------------------------- */

/* The stub asked for, in *@stub: one VFIO cannot use (pci-stub) would leave a VM that holds
 * another device of @dev's group a group that is not viable. */
static int check_stub_keeps_group(struct devop *o, struct hd_device *dev,
                                  struct hd_stub_driver *stub, const char *what)
{
    char doing[96];

    if (asked(o, dev)[0] != '\0')
        hd_stub_driver_get(asked(o, dev), stub);
    if (stub->vfio)
        return 0;
    snprintf(doing, sizeof(doing), "%s to a stub VFIO cannot use", what);
    return check_group_not_held(o->ctx, o->map, dev, doing,
                                "leave the VM a group that is not viable");
}

/* The driver @dev would be bound to can be had: there, or loadable on the host itself (what
 * the write would find out, said before anything is written). @pending_ok: a device no driver
 * holds may wait for it (a reservation's override). */
static int check_stub_available(struct devop *o, size_t i, bool pending_ok)
{
    struct hd_device *dev = o->d.v[i];
    int r = hd_op_check_target_available(o->ctx, o->req, dev);

    o->found[i].driver_there = r == 1;
    if (r == -ENOENT && pending_ok && hd_device_get_driver(dev) == NULL &&
        hd_device_has_driver_override(dev)) {
        hd_ctx_clear_error(o->ctx);
        return 0;
    }
    return r;
}

/* Before the locks: a bridge, or a PF asked for with its own VF, is refused as what it is,
 * with no lock file made for it (the second is asked again under the locks: the PF's driver
 * may change until then). */
static int check_detach_devices(struct devop *o)
{
    int r = 0;

    for (size_t i = 0; i < o->d.n && r == 0; i++) {
        if (!already_on(o->d.v[i], asked(o, o->d.v[i])) &&
            (r = hd_device_check_endpoint(o->d.v[i], HD_REFUSE_ASSIGN)) == 0)
            r = hd_check_not_with_own_vf(o->ctx, o->d.v[i], o->d.v, o->d.n,
                                         "moving it to another driver");
    }
    return r;
}

/* @dev has no IOMMU group, so @stub (a vfio one) takes it only in vfio's unsafe no-IOMMU
 * mode, and then only when asked for in so many words: it gets a group that isolates nothing. */
static int check_noiommu(struct devop *o, size_t i, const char *stub)
{
    struct hd_device *dev = o->d.v[i];
    bool mode = hd_vfio_noiommu_mode(o->ctx);

    if (!mode)
        return hd_errr(o->ctx, -ENOTSUP, HD_REASON_UNSUPPORTED,
                       "%s has no IOMMU group: the IOMMU is off or absent, so %s cannot take it "
                       "(vfio's enable_unsafe_noiommu_mode, %s on the kernel command line, would "
                       "let a user-space driver have it without DMA isolation; no VM can)",
                       hd_device_get_name(dev), stub,
                       hd_cmdline_advice(HD_ADVICE_NOIOMMU_ON, HD_IOMMU_VENDOR_UNKNOWN));
    if (!(o->req->flags & HD_OP_NOIOMMU))
        return hd_errr(o->ctx, -EPERM, HD_REASON_NOIOMMU,
                       "%s has no IOMMU group; vfio's unsafe no-IOMMU mode is on and would give "
                       "it to %s without DMA isolation (the device could write anywhere in "
                       "memory), which is done only when asked for as such",
                       hd_device_get_name(dev), stub);
    o->found[i].noiommu = true;
    return 0;
}

static int check_detach(struct devop *o)
{
    struct hd_ctx *ctx = o->ctx;
    int r;

    for (size_t i = 0; i < o->d.n; i++) {
        struct hd_device *dev = o->d.v[i];
        struct hd_stub_driver stub = {.vfio = true};
        /* A VM's device is the VM's: refused even where nothing would change, as libvirt
         * refuses to detach a device a domain uses. */
        if ((r = check_not_held(ctx, o->map, dev, "detaching it")) < 0)
            return r;
        if (already_on(dev, asked(o, dev)))
            continue;
        /* A PF that leaves its driver takes its VFs with it. */
        if ((r = hd_check_not_with_own_vf(ctx, dev, o->d.v, o->d.n,
                                          "moving it to another driver")) < 0 ||
            (r = hd_check_vfs_free(ctx, dev, o->map, "moving it to another driver")) < 0 ||
            (r = hd_check_not_open(ctx, dev, "moving it to another driver")) < 0)
            return r;
        if ((r = check_stub_keeps_group(o, dev, &stub, "moving it")) < 0)
            return r;
        if (stub.vfio && hd_device_get_iommu_group(dev) < 0 &&
            (r = check_noiommu(o, i, stub.name ? stub.name : "vfio-pci")) < 0)
            return r;
        if ((r = check_stub_available(o, i, false)) < 0)
            return r;
        if ((r = check_may_leave_host(ctx, &o->host_use, o->d.n, dev,
                                        o->req->flags & HD_OP_FORCE)) < 0) {
            if (!o->d.named[i]) { /* say why a device nobody named is in it */
                char why[HD_ERROR_MAX];
                hd_strlcpy(why, hd_ctx_last_error(ctx), sizeof(why));
                return hd_errr(ctx, r, hd_ctx_last_reason(ctx), "%s; it shares an IOMMU group with "
                               "what was asked for", why);
            }
            return r;
        }
        /* After the host's use of it, which names a VF carrying the host's traffic as show
         * does: any VF at all refuses it here. */
        if ((r = hd_check_pf_keeps_vfs(ctx, dev, o->req->flags & HD_OP_FORCE,
                                       "moving it to another driver")) < 0)
            return r;
    }
    return 0;
}

/* Every step is journaled first, then the batch runs them (devices of different groups side
 * by side: par.c). */
static int run_batch(struct devop *o, struct hd_batch *b, int r)
{
    if (r >= 0)
        r = hd_txn_flush(o->t);
    r = hd_txn_run_batch(o->t, b, r);
    hd_batch_free(b);
    return r < 0 ? r : 0;
}

/* A device that had no group has the one vfio's no-IOMMU mode made for it now (its bind's
 * read-back checked that): its step names that group, and the log warns. */
static int report_noiommu(struct devop *o)
{
    for (size_t i = 0; i < o->d.n; i++) {
        struct hd_device *dev = o->d.v[i];
        int r, group;
        if (!o->found[i].noiommu)
            continue;
        if ((r = hd_device_fill_fields(dev, HD_FILL_GROUP, true)) < 0)
            return r;
        if ((group = hd_device_get_iommu_group(dev)) < 0)
            continue;
        hd_op_step_group(o->op, "detach", hd_device_get_name(dev), group);
        hd_warn(o->ctx, "%s: on vfio in its unsafe no-IOMMU mode: /dev/vfio/noiommu-%d "
                "has no DMA isolation (the device can reach all of memory); for user-space "
                "drivers such as DPDK, never a VM", hd_device_get_name(dev), group);
    }
    return 0;
}

static int apply_detach(struct devop *o)
{
    const struct hd_op_request *req = o->req;
    struct hd_batch b = {0};
    int r = 0;

    for (size_t i = 0; i < o->d.n && r >= 0; i++) {
        struct hd_device *dev = o->d.v[i];
        struct hd_jstep s = {
            .kind = HD_JSTEP_DETACH, .addr = *hd_device_get_addr(dev), .from_known = true};
        if (already_on(dev, asked(o, dev))) {
            if (o->d.named[i]) {
                hd_txn_note(o->t, "keep", hd_device_get_name(dev), hd_device_get_driver(dev),
                            hd_device_get_driver(dev));
                hd_op_step_group(o->op, "keep", hd_device_get_name(dev),
                                 hd_device_get_iommu_group(dev));
            }
            continue;
        }
        hd_strlcpy(s.from, hd_device_get_driver_or(dev, ""), sizeof(s.from));
        if ((r = hd_op_target_driver(o->ctx, req, dev, s.to, sizeof(s.to))) < 0)
            break;
        if ((r = found_record(o, i, &s)) == 0 && (r = hd_txn_defer_vfs_go(o->t, dev)) >= 0 &&
            (r = hd_txn_defer_mdevs_go(o->t, dev, req->flags & HD_OP_FORCE)) >= 0 &&
            (r = hd_txn_defer(o->t, &s)) >= 0) {
            hd_op_step_group(o->op, "detach", hd_device_get_name(dev),
                             hd_device_get_iommu_group(dev));
            if (o->found[i].noiommu)
                hd_op_step_noiommu(o->op, "detach", hd_device_get_name(dev));
        }
        if (r == 1)
            r = hd_batch_add(&b, HD_TASK_DETACH, dev, s.to, HD_BIND_FRESH | HD_BIND_NO_REREAD |
                             (o->found[i].driver_there ? HD_BIND_DRIVER_THERE : 0) |
                             (req->flags & HD_OP_NEW_ID ? HD_DETACH_NEW_ID : 0) |
                             (req->flags & HD_OP_NOIOMMU ? HD_DETACH_NOIOMMU : 0));
    }
    if ((r = run_batch(o, &b, r)) < 0 || hd_txn_dry_run(o->t))
        return r;
    return report_noiommu(o);
}

int hd_ops_detach(struct hd_op *op)
{
    return run_devop(op, HD_JOP_DETACH,
                     hd_op_request(op)->flags & HD_OP_GROUP ? MEMBERS_GROUP : MEMBERS_NONE,
                     check_detach_devices, check_detach, apply_detach);
}

/* ---- reattach ------------------------------------------------------------------------------ */

/* Would hd_bind_reattach() change anything? */
static bool detached(struct hd_device *dev, const struct hd_jstep *rec)
{
    const char *ovr = hd_device_get_driver_override(dev);

    if (hd_device_on_stub(dev))
        return true;
    if (hd_device_get_driver(dev) != NULL)
        return false; /* on a host driver already */
    return hd_driver_is_stub(ovr) ||
           (rec->record == HD_JREC_DRIVER && rec->record_driver[0] != '\0');
}

/* Is @dev a VF its PF's driver captured (hd_device_get_capturing_driver()), with no record of
 * hostdev's? Such a VF goes to its PF's vfio driver, or for a variant's stays unbound (its
 * override is the variant's vfio device name, no driver's), and never to a host driver while
 * user space owns the PF (the kernel warns when one does): it is where the kernel puts it and had
 * no host driver to go back to, and a reattach that cleared the override would hand a VF of a
 * user-owned PF to the host. The step's action (captured: on its PF's driver by the override,
 * captured-unbound: a variant's), NULL not one; the PF's address in @pf. */
static const char *captured_by_pf(struct hd_device *dev, const struct hd_jstep *rec,
                                  char pf[HD_PCI_ADDR_BUFSZ])
{
    char pfdrv[HD_DRIVER_NAME_MAX];

    if (rec->record != HD_JREC_NONE || !hd_device_get_capturing_driver(dev, pfdrv, sizeof(pfdrv)))
        return NULL;
    hd_pci_addr_format(hd_device_get_physfn(dev), pf);
    return strcmp(pfdrv, hd_device_get_driver_override(dev)) == 0 ? "captured" : "captured-unbound";
}

/* The driver a reattach gives @dev back to is there, when the record names one: under another
 * root nothing loads it, and the probe would leave the device with none (what the bind would
 * find out, said by the plan). The kernel's choice likewise: a module its modalias resolves to
 * in the kernel. On the host the bind loads it, as modprobe can. */
static int check_host_driver_there(struct devop *o, size_t i)
{
    struct hd_jstep rec;
    int r;

    if (hd_ctx_root_is_host(o->ctx))
        return 0;
    if ((r = found_record(o, i, &rec)) < 0 || rec.record != HD_JREC_DRIVER ||
        rec.record_driver[0] == '\0')
        return r;
    if (strcmp(rec.record_driver, HD_ORIGINAL_DRIVER_KERNEL) == 0)
        return detached(o->d.v[i], &rec) ? hd_bind_check_kernel_choice(o->d.v[i]) : 0;
    /* A blacklist does not stop a reattach: the driver had the device before. */
    if ((r = hd_module_check_driver(o->ctx, rec.record_driver, rec.record_driver)) == -EPERM) {
        hd_ctx_clear_error(o->ctx);
        r = 0;
    }
    o->found[i].driver_there = r == 1;
    return r < 0 ? r : 0;
}

/* Before the locks: a PF that made VFs on vfio-pci, asked for with its own VF, is refused as
 * what they are, with no lock file made (asked again under the locks, as the rest). */
static int check_reattach_devices(struct devop *o)
{
    int r = 0;

    for (size_t i = 0; i < o->d.n && r == 0; i++) {
        if (hd_device_is_on_vfio(o->d.v[i]) && hd_device_get_virtfn_count(o->d.v[i]) > 0)
            r = hd_check_not_with_own_vf(o->ctx, o->d.v[i], o->d.v, o->d.n,
                                         "giving it back to the host");
    }
    return r;
}

static int check_reattach(struct devop *o)
{
    int r = 0;

    for (size_t i = 0; i < o->d.n && r == 0; i++) {
        struct hd_device *dev = o->d.v[i];
        const char *what = "giving it back to the host";
        if ((r = check_not_held(o->ctx, o->map, dev, what)) == 0 &&
            (r = check_group_not_held(o->ctx, o->map, dev, what,
                                      "leave the VM a group that is not viable")) == 0 &&
            (r = hd_check_not_open(o->ctx, dev, what)) == 0 &&
            (r = check_host_driver_there(o, i)) == 0 && hd_device_is_on_vfio(dev) &&
            hd_device_get_virtfn_count(dev) > 0 &&
            /* A PF made VFs on vfio-pci (enable_sriov): its unbind destroys them. */
            (r = hd_check_not_with_own_vf(o->ctx, dev, o->d.v, o->d.n, what)) == 0 &&
            (r = hd_check_vfs_free(o->ctx, dev, o->map, what)) == 0)
            r = hd_check_pf_keeps_vfs(o->ctx, dev, o->req->flags & HD_OP_FORCE, what);
    }
    return r;
}

static int apply_reattach(struct devop *o)
{
    struct hd_batch b = {0};
    int r = 0;

    for (size_t i = 0; i < o->d.n && r >= 0; i++) {
        struct hd_device *dev = o->d.v[i];
        struct hd_jstep s = {
            .kind = HD_JSTEP_REATTACH, .addr = *hd_device_get_addr(dev), .from_known = true};
        const char *ovr = hd_device_get_driver_override(dev);
        char pf[HD_PCI_ADDR_BUFSZ];
        const char *captured;
        if ((r = found_record(o, i, &s)) < 0)
            break;
        if ((captured = captured_by_pf(dev, &s, pf)) != NULL) {
            hd_txn_note(o->t, captured, hd_device_get_name(dev), pf, ovr);
            continue;
        }
        if (!detached(dev, &s)) {
            hd_txn_note(o->t, "keep", hd_device_get_name(dev),
                        hd_device_get_driver_or(dev, "none"), hd_device_get_driver_or(dev, "none"));
            continue;
        }
        /* A PF that made VFs on vfio-pci loses them (forced); the override goes first; their
         * own lines put them back if a later step fails. */
        if ((r = hd_txn_defer_vfs_go(o->t, dev)) < 0)
            break;
        if (ovr != NULL) {
            struct hd_jstep ov = {
                .kind = HD_JSTEP_OVERRIDE, .addr = *hd_device_get_addr(dev), .from_known = true};
            hd_strlcpy(ov.from, ovr, sizeof(ov.from));
            if ((r = hd_txn_defer(o->t, &ov)) < 0)
                break;
        }
        hd_strlcpy(s.from, hd_device_get_driver_or(dev, ""), sizeof(s.from));
        if (s.record == HD_JREC_NONE) {
            char *guess = NULL;
            if (hd_module_for_modalias(o->ctx, hd_device_get_modalias(dev), &guess) == 0)
                hd_strlcpy(s.to, guess, sizeof(s.to));
            else
                strcpy(s.to, "the kernel's choice");
            o->found[i].to_kernel = guess == NULL;
            free(guess);
        } else {
            o->found[i].to_kernel = strcmp(s.record_driver, HD_ORIGINAL_DRIVER_KERNEL) == 0;
        }
        /* The record read above, under the locks, is the one the bind uses. */
        char rec[HD_RECORD_MAX];
        hd_bind_format_record(rec, sizeof(rec), s.record_driver, s.record_override);
        if ((r = hd_txn_defer(o->t, &s)) == 1)
            r = hd_batch_add(&b, HD_TASK_REATTACH, dev, rec,
                             HD_BIND_FRESH | HD_BIND_NO_REREAD |
                             (o->found[i].driver_there ? HD_BIND_DRIVER_THERE : 0) |
                             (s.record == HD_JREC_DRIVER ? HD_BIND_RECORD : HD_BIND_NO_RECORD));
    }
    if ((r = run_batch(o, &b, r)) < 0 || hd_txn_dry_run(o->t))
        return r;
    /* Where the kernel's choice took each device: the run says it, the plan could not. */
    for (size_t i = 0; i < o->d.n; i++) {
        char now[HD_DRIVER_NAME_MAX];
        if (o->found[i].to_kernel && hd_device_read_driver(o->d.v[i], now, sizeof(now)) == 0)
            hd_txn_arrived(o->t, "reattach", hd_device_get_name(o->d.v[i]), now[0] ? now : "none");
    }
    hd_ctx_clear_error(o->ctx);
    return 0;
}

int hd_ops_reattach(struct hd_op *op)
{
    return run_devop(op, HD_JOP_REATTACH,
                     hd_op_request(op)->flags & HD_OP_GROUP ? MEMBERS_GROUP : MEMBERS_NONE,
                     check_reattach_devices, check_reattach, apply_reattach);
}

/* ---- reset --------------------------------------------------------------------------------- */

/* A function whose only method is a bus reset, on a bus with other functions: the kernel
 * refuses that reset (ENOTTY), whichever of them are named; say so before planning it. */
static int check_bus_reset_alone(struct hd_ctx *ctx, struct hd_device *dev)
{
    struct hd_reset_check *c;
    int r = hd_device_check_reset(dev, &c);

    if (r < 0)
        return r;
    if (hd_reset_check_get_scope(c) == HD_RESET_BUS_SHARED)
        r = hd_errr(ctx, -ENOTTY, HD_REASON_UNSUPPORTED,
                    "%s cannot be reset on its own: the kernel's only method for it is a bus "
                    "reset, and %s is on its bus too (the kernel refuses that reset); vfio-pci "
                    "resets the bus when a VM opens every function on it",
                    hd_device_get_name(dev),
                    hd_device_get_name(hd_reset_check_get_peer(c, 0)));
    hd_reset_check_unref(c);
    return r;
}

/* Before the locks: a bridge is not what hostdev resets, with no lock file made for it. */
static int check_reset_devices(struct devop *o)
{
    int r = 0;

    for (size_t i = 0; i < o->d.n && r == 0; i++)
        r = hd_device_check_endpoint(o->d.v[i], "only what a VM can be given is reset");
    return r;
}

static int check_reset(struct devop *o)
{
    int r;

    for (size_t i = 0; i < o->d.n; i++) {
        struct hd_device *dev = o->d.v[i];
        /* A PF's reset is its VFs' too (VF Enable is cleared): one a VM holds is refused. */
        if ((r = hd_check_vfs_free(o->ctx, dev, o->map, "resetting it")) < 0 ||
            (r = check_group_not_held(o->ctx, o->map, dev, "resetting it",
                                      "reset the VM's device too, when the reset is a bus's")) <
                0 ||
            (r = hd_check_not_open(o->ctx, dev, "resetting it")) < 0)
            return r;
        /* A reset under a live host driver can take the host down with it. */
        if (!(o->req->flags & HD_OP_FORCE) && hd_device_get_driver(dev) != NULL &&
            !hd_device_on_stub(dev))
            return hd_errr(o->ctx, -EBUSY, HD_REASON_HOST_USE,
                           "%s is in use by its host "
                           "driver %s: detach it first (a reset under a live driver can take "
                           "the host down)",
                           hd_device_get_name(dev), hd_device_get_driver(dev));
        if (!hd_device_has_reset(dev))
            return hd_errr(o->ctx, -ENOTTY, HD_REASON_UNSUPPORTED,
                           "%s cannot be reset: the "
                           "kernel offers no reset method for it (no 'reset' attribute)",
                           hd_device_get_name(dev));
        if ((r = check_bus_reset_alone(o->ctx, dev)) < 0)
            return r;
    }
    return 0;
}

static int apply_reset(struct devop *o)
{
    struct hd_batch b = {0};
    int r = 0;

    for (size_t i = 0; i < o->d.n && r >= 0; i++) {
        struct hd_jstep s = {.kind = HD_JSTEP_RESET, .addr = *hd_device_get_addr(o->d.v[i])};
        char *methods;
        if ((r = hd_reset_methods(o->d.v[i], &methods)) < 0)
            break;
        hd_strlcpy(s.to, methods, sizeof(s.to));
        free(methods);
        if ((r = hd_txn_defer(o->t, &s)) == 1)
            r = hd_batch_add(&b, HD_TASK_RESET, o->d.v[i], NULL, HD_RESET_FORCE);
    }
    return run_batch(o, &b, r);
}

int hd_ops_reset(struct hd_op *op)
{
    return run_devop(op, HD_JOP_RESET, MEMBERS_NONE, check_reset_devices, check_reset,
                     apply_reset);
}

/* ---- SR-IOV VF count ----------------------------------------------------------------------- */

int hd_check_vfs_free(struct hd_ctx *ctx, struct hd_device *pf,
                      const struct hd_assignment_list *map, const char *what)
{
    int r = check_not_held(ctx, map, pf, what);

    for (size_t i = 0; r == 0 && i < hd_device_get_virtfn_count(pf); i++) {
        const struct hd_pci_addr *vf = hd_device_get_virtfn(pf, i);
        const struct hd_assignment *a = hd_map_find(map, vf);
        char name[HD_PCI_ADDR_BUFSZ];
        if (a != NULL)
            r = hd_errr(ctx, -EBUSY, HD_REASON_HELD,
                        "%s: its VF %s is assigned to vm %s: %s "
                        "would destroy it under the VM; release it first",
                        hd_device_get_name(pf), hd_pci_addr_format(vf, name), a->vm, what);
    }
    return r;
}

/* The driver @pf is on when its count changes: a dry run's is the one an earlier step plans it
 * to have, as the run finds it. NULL: none. */
static const char *pf_driver_at_count(const struct hd_op_request *req, struct hd_device *pf)
{
    bool planned = (req->flags & HD_OP_DRY_RUN) && req->planned_driver[0] &&
                   hd_pci_addr_equal(&req->planned_bound, hd_device_get_addr(pf));
    return planned ? req->planned_driver : hd_device_get_driver(pf);
}

/* Only a PF's driver changes its VF count (sriov_configure): the kernel answers ENOENT when the
 * PF has none, and vfio-pci does while its enable_sriov parameter is N. Said before planned. */
static int check_pf_changes_count(struct hd_ctx *ctx, const struct hd_op_request *req,
                                  struct hd_device *pf)
{
    const char *drv = pf_driver_at_count(req, pf);
    char hint[256];

    if (drv == NULL)
        return hd_errr(ctx, -ENOENT, HD_REASON_UNSUPPORTED,
                       "%s has no driver, and only a PF's driver changes its VF count: bind it "
                       "to one first", hd_device_get_name(pf));
    /* A variant could have sriov_configure (vfio_pci_core exports it; VFs it has now say so),
     * so only the run's write tells; its plan warns of what that write says when it fails. */
    bool made_some = hd_device_get_sriov_numvfs(pf) > 0 && drv == hd_device_get_driver(pf);
    if ((req->flags & HD_OP_DRY_RUN) && !made_some &&
        hd_sriov_variant_makes_none(ctx, hd_device_get_name(pf), drv, hint, sizeof(hint)))
        hd_warn(ctx, "%s: the kernel is likely to refuse a count of %u VFs%s",
                hd_device_get_name(pf), req->numvfs, hint);
    return hd_check_stub_sets_count(ctx, pf, drv, false);
}

int hd_check_stub_sets_count(struct hd_ctx *ctx, struct hd_device *pf, const char *driver,
                             bool first)
{
    char val[8];

    /* pci-stub has no sriov_configure: the kernel answers ENOENT whatever the host's state, so
     * a reservation that binds a PF to it before its count is bad input. */
    if (hd_driver_is_stub(driver) && !hd_driver_is_vfio(driver))
        return hd_errr(ctx, -ENOENT, first ? HD_REASON_INVALID : HD_REASON_UNSUPPORTED,
                       "%s %s %s, which changes no VF count (it has no sriov_configure): %s",
                       hd_device_get_name(pf), first ? "goes to" : "is on", driver,
                       first ? "keep the PF on its host driver with the count alone and "
                               "reserve its VFs, or reserve it for vfio-pci loaded with "
                               "enable_sriov=1"
                             : "only its host driver, or vfio-pci loaded with enable_sriov=1, "
                               "makes VFs of it");
    if (strcmp(driver, hd_stub_vfio_pci.name) == 0 &&
        hd_fs_read_attr(ctx, "sys/module/vfio_pci/parameters/enable_sriov", val, sizeof(val)) > 0 &&
        val[0] == 'N')
        return hd_errr(ctx, -ENOENT, HD_REASON_UNSUPPORTED,
                       "%s %s, which changes a VF count only with its enable_sriov parameter "
                       "set to Y (/sys/module/vfio_pci/parameters/enable_sriov is N; load "
                       "vfio-pci with enable_sriov=1, or write Y there)",
                       hd_device_get_name(pf),
                       first ? "goes to vfio-pci before its VF count is set, on vfio-pci"
                             : "is on vfio-pci");
    return 0;
}

int hd_check_numvfs_possible(struct hd_ctx *ctx, struct hd_device *pf, unsigned int numvfs)
{
    if (hd_device_get_physfn(pf) != NULL || hd_device_get_sriov_totalvfs(pf) < 0)
        return hd_errr(ctx, -ENOTSUP, HD_REASON_INVALID, "%s is %s", hd_device_get_name(pf),
                       hd_device_get_physfn(pf) ? "itself a virtual function, not a PF"
                                                : "not SR-IOV capable (no sriov_totalvfs)");
    if (numvfs > (unsigned)hd_device_get_sriov_totalvfs(pf))
        return hd_errr(ctx, -ERANGE, HD_REASON_INVALID,
                       "%s supports at most %d VFs (sriov_totalvfs), not %u",
                       hd_device_get_name(pf), hd_device_get_sriov_totalvfs(pf), numvfs);
    return 0;
}

/* What the boot does with @pf's VF count, which the report says: the reservations of VFs a
 * lower count removes from @pf (which has @had) that no VF count the boot sets makes either
 * (they would do nothing from then on), and a count the boot sets other than the one asked
 * (the one set now lasts until the next boot). Read with the PF, under the locks; only notes,
 * so a configuration that cannot be read has none. */
static void note_boot_count(struct hd_device *pf, struct devop *o, unsigned int had)
{
    struct hd_reserve_config *config = NULL;
    const struct hd_reserve_entry **unmade = NULL, *boot = NULL;
    size_t n = 0;

    if (hd_reserve_config_load(o->ctx, &config) < 0 ||
        hd_reserve_config_check(config, o->ctx) < 0) {
        hd_reserve_config_unref(config);
        hd_ctx_clear_error(o->ctx);
        return;
    }
    boot = hd_reserve_config_match_numvfs(config, pf);
    if (boot != NULL && (boot->numvfs == (int)o->req->numvfs ||
                         hd_reserve_config_get_refusal(config, boot) != NULL))
        boot = NULL;
    /* No more of them than entries: the PF's VF layout is read once. */
    if (had > o->req->numvfs &&
        (unmade = calloc(hd_reserve_config_count(config) + 1, sizeof(*unmade))) != NULL)
        n = hd_reserve_config_get_unmade_vfs(config, pf, o->req->numvfs, had, unmade,
                                             hd_reserve_config_count(config));
    if (n > 0 || boot != NULL)
        hd_op_set_unmade(o->op, config, unmade, n, boot);
    else
        free(unmade);
    hd_reserve_config_unref(config);
    hd_ctx_clear_error(o->ctx);
}

/* The VF count a dry run's earlier step plans @dev to have (-1: none planned; the run finds it
 * set). */
static int planned_numvfs(const struct devop *o, const struct hd_device *dev)
{
    bool planned = (o->req->flags & HD_OP_DRY_RUN) && o->req->planned_numvfs >= 0 &&
                   hd_pci_addr_equal(&o->req->planned_pf, hd_device_get_addr(dev));

    return planned ? o->req->planned_numvfs : -1;
}

/* Before the locks: a count no PF could take (a VF, a device without SR-IOV, more than its
 * sriov_totalvfs) is bad input, refused with no lock file made for it. */
static int check_numvfs_devices(struct devop *o)
{
    if (hd_op_request(o->op)->n != 1)
        return hd_errr(o->ctx, -EINVAL, HD_REASON_INVALID, "one PF at a time");
    return hd_check_numvfs_possible(o->ctx, o->d.v[0], o->req->numvfs);
}

static int check_numvfs(struct devop *o)
{
    struct hd_device *pf = o->d.v[0];
    struct hd_jstep *s = &o->planned;
    int r;

    /* Asked again: the PF's driver, which may have changed until the locks, can lower
     * sriov_totalvfs. */
    if ((r = hd_check_numvfs_possible(o->ctx, pf, o->req->numvfs)) < 0)
        return r;
    /* The same count destroys no VF (the kernel takes it as nothing to do): a VM may hold
     * the PF or its VFs. */
    int planned = planned_numvfs(o, pf); /* 0 after a reservation that removes the VFs */
    int now = planned >= 0 ? planned : hd_device_get_sriov_numvfs(pf);
    bool same = now == (int)o->req->numvfs;
    if (!same && (r = hd_check_vfs_free(o->ctx, pf, o->map, "changing the VF count")) < 0)
        return r;
    for (size_t i = 1; !same && i < o->d.n; i++) { /* its VFs (add_vfs) */
        if ((r = hd_check_not_open(o->ctx, o->d.v[i], "changing the VF count")) < 0)
            return r;
    }
    s->kind = HD_JSTEP_NUMVFS;
    s->addr = *hd_device_get_addr(pf);
    s->old_numvfs = now;
    s->old_autoprobe = hd_device_get_sriov_autoprobe(pf);
    if (s->old_numvfs < 0)
        return hd_err(o->ctx, -EIO, "%s: sriov_numvfs is missing or unreadable",
                      hd_device_get_name(pf));
    if ((unsigned)s->old_numvfs != o->req->numvfs &&
        (r = check_pf_changes_count(o->ctx, o->req, pf)) < 0)
        return r;
    /* VFs made by a PF on a vfio-pci family driver come up on it (its override), those of one
     * on a variant unbound (its override names no driver). */
    const char *pfdrv = pf_driver_at_count(o->req, pf);
    bool bound = pfdrv && hd_driver_is_vfio(pfdrv) && hd_vfio_capture_binds(pfdrv);
    hd_op_set_previous_sriov(o->op, s->old_numvfs, s->old_autoprobe,
                             o->req->numvfs > 0 && bound ? pfdrv : NULL);
    note_boot_count(pf, o, (unsigned)s->old_numvfs);
    snprintf(s->to, sizeof(s->to), "%u", o->req->numvfs);
    return 0;
}

/* The count of 0 gives autoprobe back when a count of ours turned it off (hd_sriov_set_numvfs()
 * writes it; the count's undo puts it back): said as its own step. The record saying it was
 * ours goes with the commit, so that an undo, here or recover's, leaves it for the next count
 * of 0. */
static int note_autoprobe_back(struct devop *o)
{
    const char *pf = hd_device_get_name(o->d.v[0]);

    if (o->req->numvfs == 0 && o->planned.old_autoprobe == 0 &&
        hd_sriov_autoprobe_was_on(o->ctx, pf)) {
        hd_txn_note(o->t, "autoprobe", pf, "0", "1");
        return hd_txn_drop_at_commit(o->t, HD_AUTOPROBE_RECORD, pf);
    }
    return 0;
}

/* The count changes; a VF that hostdev detached goes with it, and so does its driver record,
 * which would otherwise claim a device that no longer exists (and give a later VF at that
 * address its predecessor's host driver). The records are journaled first and go first: the
 * undo, newest first, puts the count back, then each record and its VF on the driver it was
 * on. */
static int apply_numvfs(struct devop *o)
{
    /* o->d: the PF, then its VFs (add_vfs); the same count destroys none. */
    size_t nvfs = o->planned.old_numvfs == (int)o->req->numvfs ? 0 : o->d.n - 1, nforget = 0;
    struct hd_jstep *forget = calloc(nvfs + 1, sizeof(*forget));
    int r = forget == NULL ? -ENOMEM : 0;

    for (size_t i = 0; i < nvfs && r >= 0; i++) {
        struct hd_device *vf = o->d.v[i + 1];
        struct hd_jstep *s = &forget[nforget];
        s->kind = HD_JSTEP_FORGET;
        s->addr = *hd_device_get_addr(vf);
        s->from_known = true;
        if ((r = read_record(vf, s)) < 0 || s->record != HD_JREC_DRIVER)
            continue;
        hd_strlcpy(s->from, hd_device_get_driver_or(vf, ""), sizeof(s->from));
        if ((r = hd_txn_defer(o->t, s)) >= 0)
            nforget++;
    }
    /* The same count: no step to journal or report, only the VFs' links to wait for. */
    if (r >= 0 && o->planned.old_numvfs == (int)o->req->numvfs)
        r = hd_txn_dry_run(o->t) ? 0 : hd_sriov_set_numvfs(o->d.v[0], o->req->numvfs);
    else if (r >= 0 && (r = hd_txn_defer(o->t, &o->planned)) >= 0) {
        int journaled = r; /* 0: a dry run */
        if ((r = note_autoprobe_back(o)) == 0 && journaled && (r = hd_txn_flush(o->t)) == 0) {
            for (size_t i = 0; i < nforget && r == 0; i++) {
                char name[HD_PCI_ADDR_BUFSZ];
                r = hd_state_del(o->ctx, "drivers", hd_pci_addr_format(&forget[i].addr, name));
            }
            if (r == 0 && (r = hd_sriov_set_numvfs(o->d.v[0], o->req->numvfs)) < 0)
                hd_txn_step_failed(o->t);
        }
    }
    free(forget);
    return r < 0 ? r : 0;
}

int hd_ops_numvfs(struct hd_op *op)
{
    return run_devop(op, HD_JOP_NUMVFS, MEMBERS_VFS, check_numvfs_devices, check_numvfs,
                     apply_numvfs);
}

/* ---- reserve ------------------------------------------------------------------------------- */

static int check_reserve(struct devop *o)
{
    bool force = o->req->flags & HD_OP_FORCE;
    int r;

    for (size_t i = 0; i < o->d.n; i++) {
        struct hd_device *dev = o->d.v[i];
        if (already_on(dev, asked(o, dev)))
            continue;
        /* As a detach is checked: a reservation takes the device from its driver now. */
        if ((r = hd_check_not_with_own_vf(o->ctx, dev, o->d.v, o->d.n,
                                          "reserving it for another driver")) < 0 ||
            (r = hd_check_vfs_free(o->ctx, dev, o->map, "reserving it for another driver")) < 0 ||
            (r = hd_check_not_open(o->ctx, dev, "reserving it for another driver")) < 0 ||
            (r = check_may_leave_host(o->ctx, &o->host_use, o->d.n, dev, force)) < 0 ||
            (r = check_pf_keeps_vfs(o->ctx, dev, planned_numvfs(o, dev), force,
                                    "reserving it for another driver")) < 0)
            return r;
        struct hd_stub_driver stub = {.vfio = true};
        if ((r = check_stub_keeps_group(o, dev, &stub, "reserving it")) < 0)
            return r;
        if ((r = hd_device_check_endpoint(dev, HD_REFUSE_RESERVE)) < 0)
            return r;
        if (stub.vfio && hd_device_get_iommu_group(dev) < 0 &&
            (r = check_noiommu(o, i, stub.name ? stub.name : "vfio-pci")) < 0)
            return r;
        if ((r = check_stub_available(o, i, true)) < 0)
            return r;
    }
    return 0;
}

/* Keep devices for VMs from now on: driver_override to the stub, and bound to it (now, or when
 * the stub registers: hd_reserve_apply()). */
static int apply_reserve(struct devop *o)
{
    struct hd_batch b = {0};
    int r = 0;

    for (size_t i = 0; i < o->d.n && r >= 0; i++) {
        struct hd_device *dev = o->d.v[i];
        const char *ovr = hd_device_get_driver_override(dev);
        struct hd_jstep ov = {
            .kind = HD_JSTEP_OVERRIDE, .addr = *hd_device_get_addr(dev), .from_known = true};
        struct hd_jstep s = {
            .kind = HD_JSTEP_DETACH, .addr = *hd_device_get_addr(dev), .from_known = true};
        char driver[HD_DRIVER_NAME_MAX];
        /* On a vfio-pci family driver and none asked for: it stays on the one it is on. */
        if (asked(o, dev)[0] == '\0' && already_on(dev, ""))
            hd_strlcpy(driver, hd_device_get_driver(dev), sizeof(driver));
        else if ((r = hd_op_target_driver(o->ctx, o->req, dev, driver, sizeof(driver))) < 0)
            break;
        if (already_on(dev, driver) && ovr != NULL && strcmp(ovr, driver) == 0) {
            hd_txn_note(o->t, "keep", hd_device_get_name(dev), hd_device_get_driver(dev),
                        hd_device_get_driver(dev));
            continue;
        }
        hd_strlcpy(ov.from, ovr ? ovr : "", sizeof(ov.from));
        hd_strlcpy(ov.to, driver, sizeof(ov.to));
        if ((r = hd_txn_step(o->t, &ov)) < 0)
            break;
        if (!already_on(dev, driver)) {
            hd_strlcpy(s.from, hd_device_get_driver_or(dev, ""), sizeof(s.from));
            hd_strlcpy(s.to, driver, sizeof(s.to));
            if ((r = read_record(dev, &s)) < 0 ||
                (r = hd_txn_defer_vfs_go_planned(o->t, dev, planned_numvfs(o, dev))) < 0 ||
                (r = hd_txn_defer_mdevs_go(o->t, dev, o->req->flags & HD_OP_FORCE)) < 0 ||
                (r = hd_txn_step(o->t, &s)) < 0)
                break;
            if (o->found[i].noiommu)
                hd_op_step_noiommu(o->op, "detach", hd_device_get_name(dev));
        } else if (hd_bind_unrecorded(dev)) {
            /* On its stub with no record: the reservation records that stub (the one it is
             * on) and the override it had, a detach onto it whose undo removes the record. */
            hd_strlcpy(s.from, hd_device_get_driver(dev), sizeof(s.from));
            hd_strlcpy(s.to, hd_device_get_driver(dev), sizeof(s.to));
            s.record = HD_JREC_NONE;
            if ((r = hd_txn_step(o->t, &s)) < 0)
                break;
        }
        if (r == 1)
            r = hd_batch_add(&b, HD_TASK_RESERVE, dev, driver,
                             (o->req->flags & HD_OP_AT_BOOT ? HD_DETACH_AT_BOOT : 0) |
                             (o->found[i].noiommu ? HD_DETACH_NOIOMMU : 0));
    }
    if ((r = hd_txn_run_batch(o->t, &b, r)) == 0) {
        for (size_t i = 0; i < b.n; i++) {
            if (b.v[i].result == 1)
                hd_txn_note(o->t, "pending", hd_device_get_name(b.v[i].dev), "", b.v[i].driver);
        }
    }
    hd_batch_free(&b);
    if (r == 0 && !hd_txn_dry_run(o->t))
        r = report_noiommu(o);
    return r < 0 ? r : 0;
}

int hd_ops_reserve(struct hd_op *op)
{
    return run_devop(op, HD_JOP_RESERVE, MEMBERS_NONE, NULL, check_reserve, apply_reserve);
}
