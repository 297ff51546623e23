/* acquire.c - giving devices to a VM and taking them back, all or nothing, as libvirt
 * prepares host devices: check all, detach the managed ones, reset all once all are detached,
 * hand the VFIO nodes to the VM's user, record; undo newest-first on any failure. Both are
 * transactions of the engine (txn.c): each step is announced in the intent log before it
 * touches the kernel, and the map write is the commit. Each device carries its own managed
 * flag, so a domain with managed and unmanaged devices is one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct pdev {
    struct hd_device *dev;
    bool via_group;
    bool managed;    /* acquire detaches it (else it must be on vfio-pci already) */
    bool mode_asked; /* managed or not was asked for (else a held device's mode is as asked) */
    bool on_vfio;    /* on vfio-pci (or a variant) before we started: nothing to detach */
    bool already;    /* the VM holds it as asked (the kernel agrees): nothing to do */
    char driver[64]; /* the driver it had ("" unbound) */
    char override[64]; /* the driver_override it had ("" none) */
    int numvfs, autoprobe; /* a PF: its VF count and sriov_drivers_autoprobe (-1 none) */
};

/* A mediated device: nothing to detach or reset (its parent's driver owns the hardware), only
 * its group's nodes to hand over. */
struct pmdev {
    char uuid[37];
    struct hd_mdev_info info;
    bool already;
};

struct plan {
    struct pdev *v;
    size_t n, cap;
    struct pmdev *mdevs;
    size_t nmdevs;
    struct hd_node_target *targets; /* USB and SCSI devices */
    bool *targets_already;
    size_t ntargets;
    int *groups; /* unique */
    size_t ngroups;
    struct hd_host_use *host_use; /* what the host uses, read once for every device */
};

static void plan_free(struct plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        hd_device_unref(p->v[i].dev);
    free(p->v);
    free(p->mdevs);
    free(p->targets);
    free(p->targets_already);
    free(p->groups);
    hd_host_use_unref(p->host_use);
    memset(p, 0, sizeof(*p));
}

static struct pdev *plan_find(const struct plan *p, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < p->n; i++) {
        if (hd_pci_addr_equal(hd_device_get_addr(p->v[i].dev), addr))
            return &p->v[i];
    }
    return NULL;
}

/* Add @dev (a reference is taken) and its group. */
static int plan_add(struct plan *p, struct hd_device *dev, bool via_group, bool managed)
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
    d->managed = managed;
    d->on_vfio = hd_device_is_on_vfio(dev);
    if (hd_device_get_driver(dev) != NULL)
        hd_strlcpy(d->driver, hd_device_get_driver(dev), sizeof(d->driver));
    for (size_t i = 0; i < p->ngroups; i++) {
        if (p->groups[i] == hd_device_get_iommu_group(dev))
            return 0;
    }
    p->groups[p->ngroups++] = hd_device_get_iommu_group(dev);
    return 0;
}

/* ---- shared steps ---------------------------------------------------------------------------- */

static int step_to(struct hd_txn *t, enum hd_jstep_kind kind, const struct hd_device *dev,
                   const struct hd_node_owner *node, const char *to)
{
    struct hd_jstep s;

    memset(&s, 0, sizeof(s));
    s.kind = kind;
    s.from_known = true;
    if (dev != NULL)
        s.addr = *hd_device_get_addr(dev);
    if (node != NULL)
        s.node = *node;
    if (kind == HD_JSTEP_DETACH && dev != NULL) {
        char *rec = NULL;
        hd_strlcpy(s.from, hd_device_get_driver_or(dev, ""), sizeof(s.from));
        hd_strlcpy(s.to, to, sizeof(s.to));
        s.record = HD_JREC_NONE;
        if (hd_device_get_original_driver((struct hd_device *)dev, &rec) == 0) {
            s.record = HD_JREC_DRIVER;
            hd_strlcpy(s.record_driver, rec, sizeof(s.record_driver));
        }
        free(rec);
    } else if (kind == HD_JSTEP_RESET && dev != NULL) {
        char *methods;
        int r = hd_reset_methods((struct hd_device *)dev, &methods);
        if (r < 0)
            return r;
        hd_strlcpy(s.to, methods, sizeof(s.to));
        free(methods);
    }
    return hd_txn_step(t, &s);
}

static int step(struct hd_txn *t, enum hd_jstep_kind kind, const struct hd_device *dev,
                const struct hd_node_owner *node)
{
    return step_to(t, kind, dev, node, "");
}

/* A dry run foresees what the kernel will answer: a bus reset is its only method and other
 * functions share its bus (the kernel's ENOTTY), so the reset step ends in @state as the run's
 * will: HD_STEP_DEFERRED where vfio-pci is left to reset it (par.c), HD_STEP_FAILED where the
 * device goes back without it (release_force()). */
static int plan_refused_reset(struct hd_txn *t, struct hd_device *dev, int state)
{
    struct hd_reset_check *c = NULL;
    int r = hd_device_check_reset(dev, &c);

    if (r == 0 && hd_reset_check_get_scope(c) == HD_RESET_BUS_SHARED)
        hd_txn_settle(t, "reset", hd_device_get_name(dev), state);
    hd_reset_check_unref(c);
    return r;
}

/* Journal @dev's reset and add it to @b (a device without a reset method is left to
 * vfio-pci); a reset with no method working on vfio-pci is fine (par.c). */
static int plan_reset(struct hd_txn *t, struct hd_device *dev, struct hd_batch *b)
{
    int r = hd_txn_refresh(dev);

    if (r < 0)
        return r;
    if (!hd_device_has_reset(dev)) {
        hd_info(hd_txn_ctx(t),
                "%s: no reset method; vfio-pci resets what it can when the VM opens it",
                hd_device_get_name(dev));
        return 0;
    }
    if ((r = step(t, HD_JSTEP_RESET, dev, NULL)) == 0 && hd_txn_dry_run(t))
        return plan_refused_reset(t, dev, HD_STEP_DEFERRED);
    if (r <= 0 || (r = hd_batch_add(b, HD_TASK_RESET, dev, NULL, 0)) < 0)
        return r;
    b->v[b->n - 1].vfio_resets = true;
    return 0;
}

static void owner_text(char *buf, size_t size, uid_t uid, gid_t gid, mode_t mode)
{
    snprintf(buf, size, "%u:%u %04o", (unsigned)uid, (unsigned)gid, (unsigned)mode);
}

/* Give @path to @uid:@gid 0660, journalled with what it had. */
static int give_node(struct hd_txn *t, const char *path, uid_t uid, gid_t gid,
                     struct hd_node_owner *was)
{
    struct hd_ctx *ctx = hd_txn_ctx(t);
    struct hd_node_owner to = {.uid = uid, .gid = gid, .mode = 0660};
    struct hd_jstep s = {.kind = HD_JSTEP_OWN};
    struct stat st;
    /* The inode whose owner is recorded is the one changed: a link swapped in meanwhile
     * changes nothing. */
    int fd = hd_fs_node_open(ctx, path, &st), r;

    memset(was, 0, sizeof(*was));
    hd_strlcpy(was->path, path, sizeof(was->path));
    if (fd == -ENOENT && hd_txn_dry_run(t))
        st.st_uid = st.st_gid = 0, st.st_mode = 0600; /* made by the detach this run plans */
    else if (fd < 0)
        return hd_err(ctx, fd, "%s/%s: %s", hd_ctx_get_root(ctx), path,
                      fd == -ELOOP ? "a symbolic link, not a device node" : strerror(-fd));
    was->uid = st.st_uid;
    was->gid = st.st_gid;
    was->mode = st.st_mode & 0777;
    /* Already the user's, as release would leave it alone: nothing to change or undo. */
    if (st.st_uid == uid && st.st_gid == gid && (st.st_mode & 07777) == 0660) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    hd_strlcpy(to.path, path, sizeof(to.path));
    s.node = *was;
    owner_text(s.to, sizeof(s.to), uid, gid, 0660);
    if ((r = hd_txn_step(t, &s)) <= 0) {
        if (fd >= 0)
            close(fd);
        return r;
    }
    r = hd_fs_node_set_owner(fd, uid, gid, 0660);
    close(fd);
    if (r < 0)
        hd_txn_step_failed(t);
    if (r < 0)
        return hd_err(ctx, r, "giving %s/%s to %u:%u: %s", hd_ctx_get_root(ctx), path,
                      (unsigned)uid, (unsigned)gid, strerror(-r));
    return 0;
}

/* Has @t changed @path's owner already (a group's node, with the group's first device)? The
 * journal says so; a dry run has none, and the steps it planned say so instead. */
static bool node_done(const struct hd_txn *t, const struct hd_op *op, const char *path)
{
    if (hd_txn_find_own(t, path) != NULL)
        return true;
    for (size_t i = 0; hd_txn_dry_run(t) && i < hd_op_get_step_count(op); i++) {
        if (strcmp(hd_op_step_get_action(op, i), "own") == 0 &&
            strcmp(hd_op_step_get_device(op, i), path) == 0)
            return true;
    }
    return false;
}

/* ---- acquire -------------------------------------------------------------------------------- */

/* A device on a stub VFIO cannot use (pci-stub) moves to @to: a bind leaves the override
 * naming the driver it binds, so one that named another (none: pci-stub.ids=, new_id) is
 * journaled first, and an undo puts it back as it was. 1 journaled, 0 nothing to (or a dry
 * run), -errno. */
static int step_override_of_stub(struct hd_txn *t, const struct pdev *d, const char *to)
{
    struct hd_jstep s = {.kind = HD_JSTEP_OVERRIDE, .from_known = true};

    if (!d->driver[0] || !hd_driver_is_stub(d->driver) ||
        !hd_device_has_driver_override(d->dev) || strcmp(d->override, d->driver) == 0)
        return 0;
    s.addr = *hd_device_get_addr(d->dev);
    hd_strlcpy(s.from, d->override, sizeof(s.from));
    hd_strlcpy(s.to, to, sizeof(s.to));
    return hd_txn_step(t, &s);
}

/* A VM needs the IOMMU to isolate the device. A group vfio's unsafe no-IOMMU mode made (or
 * would make) isolates nothing, and QEMU's vfio-pci refuses it: asking for one is a mistake
 * in what was asked, not a state to wait out. */
static int check_has_iommu(struct hd_ctx *ctx, struct hd_device *dev, const char *name)
{
    int group = hd_device_get_iommu_group(dev);

    if (hd_group_number_is_noiommu(ctx, group))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s is a no-IOMMU device (on vfio in "
                       "its unsafe no-IOMMU mode, /dev/vfio/noiommu-%d: no DMA isolation, for "
                       "user-space drivers such as DPDK); QEMU cannot assign a no-IOMMU device "
                       "to a VM", name, group);
    if (group < 0 && hd_vfio_noiommu_mode(ctx))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s has no IOMMU group; vfio's unsafe "
                       "no-IOMMU mode would only make it a no-IOMMU device (no DMA isolation), "
                       "and QEMU cannot assign a no-IOMMU device to a VM", name);
    if (group < 0)
        return hd_errr(ctx, -ENOTSUP, HD_REASON_UNSUPPORTED, "%s has no IOMMU group: the IOMMU "
                       "is off or absent, so no VM can have it", name);
    return 0;
}

/* Open the devices asked for, each once, each with an IOMMU group; a USB or SCSI device and
 * one behind it are not both given: the VM taking the one takes the other from the host. */
static int open_requested(struct hd_ctx *ctx, const struct hd_op_request *req, struct plan *p)
{
    int r = 0;

    if (req->n == 0 && req->nmdevs == 0 && req->nnamed == 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "no device given");
    if (req->nnamed > 0 &&
        ((p->targets = calloc(req->nnamed, sizeof(*p->targets))) == NULL ||
         (p->targets_already = calloc(req->nnamed, sizeof(*p->targets_already))) == NULL))
        return -ENOMEM;
    for (size_t i = 0; i < req->nnamed; i++) {
        struct hd_node_target *t = &p->targets[p->ntargets];
        if ((r = hd_node_target_find(ctx, req->named[i], t)) < 0)
            return r;
        for (size_t k = 0; k < p->ntargets; k++) {
            if (strcmp(p->targets[k].name, t->name) == 0)
                return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s is given twice (as %s)",
                               t->name, req->named[i]);
            if ((r = hd_check_targets_apart(ctx, &p->targets[k], t)) < 0)
                return r;
        }
        p->ntargets++;
    }
    if (req->nmdevs > 0 && (p->mdevs = calloc(req->nmdevs, sizeof(*p->mdevs))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < req->nmdevs; i++) {
        struct pmdev *m = &p->mdevs[p->nmdevs];
        char why[2 * HD_DRIVER_NAME_MAX + 128];
        strcpy(m->uuid, req->mdevs[i]);
        if ((r = hd_mdev_lookup(ctx, m->uuid, &m->info)) < 0)
            return r;
        if (hd_mdev_readiness(m->info.parent, m->info.driver, m->info.group, why,
                              sizeof(why)) != HD_MDEV_READY)
            return hd_errr(ctx, -ENOTSUP, HD_REASON_UNSUPPORTED, "mediated device %s %s",
                           m->uuid, why);
        p->nmdevs++;
    }
    for (size_t i = 0; i < req->n && r == 0; i++) {
        struct hd_device *dev;
        char name[HD_PCI_ADDR_BUFSZ];
        hd_pci_addr_format(&req->addrs[i], name);
        r = hd_device_open_fill(ctx, &req->addrs[i], HD_TXN_FILL, &dev);
        if (r == -ENODEV)
            return hd_errr(ctx, r, HD_REASON_NO_DEVICE, "%s: no such PCI device under %s", name,
                           hd_ctx_get_root(ctx));
        if (r < 0)
            return r;
        /* What it is decides before any lock file is made. */
        if ((r = hd_device_check_endpoint(dev, HD_REFUSE_ASSIGN)) == 0)
            r = check_has_iommu(ctx, dev, name);
        if (r == 0)
            r = plan_add(p, dev, false, !req->unmanaged[i]);
        if (r == 0)
            p->v[p->n - 1].mode_asked = req->mode_asked[i];
        hd_device_unref(dev);
    }
    return r;
}

/* A device acquire unbinds takes what lives on it along: a PF its VFs, a parent its mediated
 * devices, a controller the USB and SCSI devices behind it. Both in one acquire would fail
 * half-way with the child gone: one or the other. */
static int check_not_with_child(struct hd_ctx *ctx, const struct plan *p, struct hd_device *dev)
{
    const char *name = hd_device_get_name(dev);
    struct hd_device **devs = malloc((p->n ? p->n : 1) * sizeof(*devs));
    int r;

    if (devs == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < p->n; i++)
        devs[i] = p->v[i].dev;
    r = hd_check_not_with_own_vf(ctx, dev, devs, p->n, "detaching it");
    free(devs);
    for (size_t i = 0; r == 0 && i < p->nmdevs; i++)
        r = hd_check_not_below(ctx, p->mdevs[i].uuid, p->mdevs[i].info.parent, NULL, name);
    for (size_t i = 0; r == 0 && i < p->ntargets; i++)
        r = hd_check_not_below(ctx, p->targets[i].name, NULL, p->targets[i].sysfs, name);
    return r;
}

int hd_check_not_below(struct hd_ctx *ctx, const char *child, const char *parent,
                       const char *sysfs, const char *pci_name)
{
    if (parent != NULL && strcmp(parent, pci_name) == 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "mediated device %s lives on %s, and "
                       "detaching %s removes it: ask for one or the other",
                       child, pci_name, pci_name);
    if (sysfs != NULL && hd_sysfs_is_below(sysfs, pci_name))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s is behind %s, and detaching %s "
                       "removes it from the host: ask for one or the other",
                       child, pci_name, pci_name);
    return 0;
}

/* @sysfs is below @dir: a SCSI disk of a USB stick, a device behind a USB hub. */
static bool sysfs_within(const char *sysfs, const char *dir)
{
    size_t n = strlen(dir);

    return strncmp(sysfs, dir, n) == 0 && sysfs[n] == '/';
}

int hd_check_targets_apart(struct hd_ctx *ctx, const struct hd_node_target *a,
                           const struct hd_node_target *b)
{
    const struct hd_node_target *above = sysfs_within(b->sysfs, a->sysfs) ? a
                                         : sysfs_within(a->sysfs, b->sysfs) ? b : NULL;
    const struct hd_node_target *below = above == a ? b : a;

    if (above == NULL)
        return 0;
    return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s is behind %s: QEMU's usb-host claims %s "
                   "from the host, and %s goes with it: ask for one or the other", below->name,
                   above->name, above->name, below->name);
}

int hd_check_target_chain_free(struct hd_ctx *ctx, const struct hd_assignment_list *map,
                               const struct hd_node_target *t)
{
    for (size_t i = 0; i < hd_assignment_list_count(map); i++) {
        const struct hd_assignment *a = hd_map_at(map, i);
        struct hd_node_target o;
        if (a->kind == HD_ASSIGNMENT_PCI && hd_sysfs_is_below(t->sysfs, a->name))
            return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s is behind %s, which vm %s holds: "
                           "release that first", t->name, a->name, a->vm);
        if ((a->kind != HD_ASSIGNMENT_USB && a->kind != HD_ASSIGNMENT_SCSI) ||
            strcmp(a->name, t->name) == 0)
            continue;
        if (hd_node_target_find(ctx, a->name, &o) < 0 && o.name[0] == '\0') {
            hd_ctx_clear_error(ctx); /* gone: nothing of it above or below anything */
            continue;
        }
        hd_ctx_clear_error(ctx); /* one without its node is still where it is */
        if (sysfs_within(t->sysfs, o.sysfs))
            return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s is behind %s, which vm %s holds: "
                           "release that first", t->name, a->name, a->vm);
        if (sysfs_within(o.sysfs, t->sysfs))
            return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s has %s behind it, which vm %s "
                           "holds: release that first", t->name, a->name, a->vm);
    }
    return 0;
}

int hd_check_nothing_held_below(struct hd_ctx *ctx, const struct hd_assignment_list *map,
                                const struct hd_device *dev)
{
    const struct hd_assignment *a = hd_map_find_below(ctx, map, hd_device_get_name(dev));

    if (a == NULL)
        return 0;
    return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s has %s behind it, which vm %s holds: "
                   "release that first", hd_device_get_name(dev), a->name, a->vm);
}

/* A retry of an acquire that was done (an orchestrator's: KubeVirt, Nova, a unit restarted)
 * is not a conflict. For an entry @a of the VM asking, whose device the kernel still shows as
 * recorded: 1 when the request asks for the owner it has, or for none (nothing to do), else
 * -EBUSY naming both owners. */
static int owner_as_asked(struct hd_ctx *ctx, const struct hd_op_request *req,
                          const struct hd_assignment *a)
{
    if (!req->owner_asked || (a->uid == req->uid && a->gid == req->gid))
        return 1;
    return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s is already assigned to vm %s with owner "
                   "%u:%u, not %u:%u: release it first to give it to another owner", a->name,
                   a->vm, (unsigned)a->uid, (unsigned)a->gid, (unsigned)req->uid,
                   (unsigned)req->gid);
}

/* Is the node @path other than @a's acquire left it (gone, or not @a's owner's: taken back
 * since)? What it is then, in @why. */
static bool node_disagrees(struct hd_ctx *ctx, const struct hd_assignment *a, const char *path,
                           char *why, size_t size)
{
    struct stat st;

    if (hd_fs_stat(ctx, path, &st) < 0)
        snprintf(why, size, "there is no %s", path);
    else if (st.st_uid != a->uid || st.st_gid != a->gid)
        snprintf(why, size, "%s is %u:%u's, not %u:%u's", path, (unsigned)st.st_uid,
                 (unsigned)st.st_gid, (unsigned)a->uid, (unsigned)a->gid);
    else
        return false;
    return true;
}

static bool group_node_disagrees(struct hd_ctx *ctx, const struct hd_assignment *a, char *why,
                                 size_t size)
{
    char path[HD_NODE_PATH_MAX];

    snprintf(path, sizeof(path), "dev/vfio/%d", a->group);
    return node_disagrees(ctx, a, path, why, size);
}

/* The refusal of a device the map gives to the VM asking, where the kernel shows otherwise
 * (@why): neither "as asked" nor a change can be judged from a record that is not true, and
 * what is true is for a check of the records to find out. */
static int record_disagrees(struct hd_ctx *ctx, const char *what, const struct hd_assignment *a,
                            const char *why)
{
    return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s%s is recorded as assigned to vm %s, but %s: "
                   "the record and the kernel disagree", what, a->name, a->vm, why);
}

/* @d, which the map says @a of the VM asking holds: 1 when the kernel agrees (on vfio-pci in
 * the recorded group, the group's node the recorded owner's) and the request asks for just
 * that: nothing to do. -EBUSY when the kernel disagrees with the record (saying how), or when
 * it asks for the device otherwise (another owner, mode or driver): the record would not say
 * what was asked. */
static int held_as_asked(struct hd_ctx *ctx, const struct hd_op_request *req, const struct pdev *d,
                         const struct hd_assignment *a)
{
    const char *asked = hd_op_request_driver(req, hd_device_get_addr(d->dev));
    const char *driver = hd_device_get_driver_or(d->dev, "");
    char why[HD_NODE_PATH_MAX + 64];

    if (!d->on_vfio)
        snprintf(why, sizeof(why), "the kernel has it on %s, not vfio-pci",
                 driver[0] ? driver : "no driver");
    else if (hd_device_get_iommu_group(d->dev) != a->group)
        snprintf(why, sizeof(why), "the kernel has it in IOMMU group %d, not %d",
                 hd_device_get_iommu_group(d->dev), a->group);
    else if (!group_node_disagrees(ctx, a, why, sizeof(why)))
        why[0] = '\0';
    if (why[0] != '\0')
        return record_disagrees(ctx, "", a, why);
    if (d->mode_asked && d->managed != a->managed)
        return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s is already assigned to vm %s %s, not "
                       "%s: release it first to change that", a->name, a->vm,
                       a->managed ? "managed" : "unmanaged", d->managed ? "managed" : "unmanaged");
    if (asked[0] != '\0' && strcmp(asked, driver) != 0)
        return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s is already assigned to vm %s on %s, not "
                       "%s: release it first to change that", a->name, a->vm, driver, asked);
    return owner_as_asked(ctx, req, a);
}

/* The refusal of a device @a holds: another VM's (@as_asked 0), or the VM asking's otherwise
 * than asked (-errno, its refusal); none when it is the VM asking's as asked (1). */
static int refuse_held(struct hd_ctx *ctx, const char *what, const char *name,
                       const struct hd_assignment *a, int as_asked)
{
    if (as_asked != 0)
        return as_asked < 0 ? as_asked : 0;
    return hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s%s is already assigned to vm %s: release "
                   "it there first", what, name, a->vm);
}

/* Bad input, before any lock file is made: a device and what lives on it, asked for together
 * (the members --group brings in are asked under the locks, once they are in). */
static int check_not_with_children(struct hd_ctx *ctx, const struct plan *p)
{
    int r = 0;

    for (size_t i = 0; i < p->n && r == 0; i++) {
        if (p->v[i].managed && !p->v[i].on_vfio)
            r = check_not_with_child(ctx, p, p->v[i].dev);
    }
    return r;
}

/* Under the group locks: everything that can refuse, before anything is written. */
static int check_acquire(struct hd_ctx *ctx, const struct hd_op_request *req, struct plan *p,
                         const struct hd_assignment_list *map)
{
    const char *vm = req->vm;
    unsigned int flags = req->flags;
    size_t requested = p->n;
    int r;

    for (size_t i = 0; i < p->ntargets; i++) {
        const struct hd_node_target *t = &p->targets[i];
        const struct hd_assignment *a = hd_map_find_key(map, t->kind, t->name);
        /* Held as asked: the node it has now is the one recorded, the recorded owner's. */
        if (a != NULL) {
            char why[2 * HD_NODE_PATH_MAX + 64] = "";
            int as_asked = 0;
            if (strcmp(a->vm, vm) != 0)
                ; /* another VM's: refused below */
            else if (a->nnodes != 1 || strcmp(a->nodes[0].path, t->node) != 0)
                snprintf(why, sizeof(why), "its node is %s, not %s", t->node,
                         a->nnodes == 1 ? a->nodes[0].path : "the one recorded");
            else if (!node_disagrees(ctx, a, t->node, why, sizeof(why)))
                as_asked = owner_as_asked(ctx, req, a);
            if (why[0] != '\0')
                as_asked = record_disagrees(ctx, "", a, why);
            if ((r = refuse_held(ctx, "", t->name, a, as_asked)) < 0)
                return r;
            p->targets_already[i] = true;
            continue;
        }
        if ((r = hd_check_target_chain_free(ctx, map, t)) < 0)
            return r;
        if (!(flags & HD_OP_FORCE) && (r = hd_node_target_check_host_use(ctx, &p->host_use, t)) < 0)
            return r;
    }
    for (size_t i = 0; i < p->nmdevs; i++) {
        const struct hd_assignment *a = hd_map_find_mdev(map, p->mdevs[i].uuid);
        /* Read again under its group's lock: it may have been removed meanwhile. */
        if ((r = hd_mdev_lookup(ctx, p->mdevs[i].uuid, &p->mdevs[i].info)) < 0)
            return r;
        if (a != NULL) {
            char why[HD_NODE_PATH_MAX + 64] = "";
            int as_asked = 0;
            if (strcmp(a->vm, vm) != 0)
                ; /* another VM's: refused below */
            else if (p->mdevs[i].info.group != a->group)
                snprintf(why, sizeof(why), "the kernel has it in IOMMU group %d, not %d",
                         p->mdevs[i].info.group, a->group);
            else if (!group_node_disagrees(ctx, a, why, sizeof(why)))
                as_asked = owner_as_asked(ctx, req, a);
            if (why[0] != '\0')
                as_asked = record_disagrees(ctx, "mediated device ", a, why);
            if ((r = refuse_held(ctx, "mediated device ", a->name, a, as_asked)) < 0)
                return r;
            p->mdevs[i].already = true;
        }
    }
    for (size_t i = 0; i < requested; i++) {
        struct hd_device *dev = p->v[i].dev;
        const struct hd_assignment *a;
        if ((r = hd_txn_refresh(dev)) < 0)
            return r;
        p->v[i].on_vfio = hd_device_is_on_vfio(dev);
        hd_strlcpy(p->v[i].driver, hd_device_get_driver_or(dev, ""), sizeof(p->v[i].driver));
        hd_strlcpy(p->v[i].override,
                   hd_device_get_driver_override(dev) ? hd_device_get_driver_override(dev) : "",
                   sizeof(p->v[i].override));
        p->v[i].numvfs = hd_device_get_physfn(dev) ? -1 : hd_device_get_sriov_numvfs(dev);
        p->v[i].autoprobe = hd_device_get_sriov_autoprobe(dev);
        if ((a = hd_map_find(map, hd_device_get_addr(dev))) != NULL) {
            int as_asked = strcmp(a->vm, vm) == 0 ? held_as_asked(ctx, req, &p->v[i], a) : 0;
            if ((r = refuse_held(ctx, "", hd_device_get_name(dev), a, as_asked)) < 0)
                return r;
            p->v[i].already = true;
            continue; /* the VM may have it open: what follows asks of a device to be given */
        }
        if ((r = hd_check_nothing_held_below(ctx, map, dev)) < 0)
            return r;
        if (p->v[i].managed && !p->v[i].on_vfio &&
            (r = hd_check_vfs_free(ctx, dev, map, "detaching the PF")) < 0)
            return r;
        /* Open elsewhere: the VM could not open it (a VFIO group has one user at a time). */
        if ((r = hd_check_not_open(ctx, dev, "giving it to a VM")) < 0)
            return r;
        /* Managed, it moves to vfio-pci and back (libvirt's detach and reattach); unmanaged,
         * nothing is moved. */
        if (!p->v[i].managed && !p->v[i].on_vfio && hd_device_get_driver(dev) != NULL &&
            hd_driver_is_stub(hd_device_get_driver(dev)))
            return hd_errr(ctx, -EBUSY, HD_REASON_FAILED,
                           "%s is on %s, which VFIO cannot use: "
                           "move it to vfio-pci first, or acquire it managed",
                           hd_device_get_name(dev), hd_device_get_driver(dev));
        if (!p->v[i].managed && !p->v[i].on_vfio)
            return hd_errr(ctx, -EBUSY, HD_REASON_FAILED,
                           "%s is bound to %s: in unmanaged mode "
                           "it must be detached ahead of booting the guest, or acquired managed",
                           hd_device_get_name(dev), hd_device_get_driver_or(dev, "no driver"));
    }
    for (size_t gi = 0; gi < p->ngroups; gi++) {
        struct hd_group *g;
        bool managed = false, asked = false;
        for (size_t i = 0; i < requested; i++) {
            bool in = hd_device_get_iommu_group(p->v[i].dev) == p->groups[gi] && !p->v[i].already;
            asked = asked || in;
            managed = managed || (in && p->v[i].managed);
        }
        if (!asked) /* the VM holds this group as asked already */
            continue;
        if ((r = hd_group_open(ctx, p->groups[gi], &g)) < 0)
            return r;
        for (size_t k = 0; k < hd_group_get_member_count(g) && r == 0; k++) {
            struct hd_device *m = hd_group_get_member(g, k);
            const struct hd_assignment *a = hd_map_find(map, hd_device_get_addr(m));
            if (a != NULL && strcmp(a->vm, vm) != 0)
                r = hd_errr(ctx, -EBUSY, HD_REASON_HELD,
                            "IOMMU group %d goes to one VM, and "
                            "its member %s is assigned to vm %s",
                            p->groups[gi], hd_device_get_name(m), a->vm);
        }
        for (size_t k = 0; k < hd_group_get_blocker_count(g) && r == 0; k++) {
            struct hd_device *b = hd_group_get_blocker(g, k);
            if (plan_find(p, hd_device_get_addr(b)) != NULL)
                continue;
            if (managed && (flags & HD_OP_GROUP) && hd_device_is_assignable(b))
                r = plan_add(p, b, true, true);
            /* Asking for a member the host keeps is refused too: no way to send the user. */
            else if (hd_device_get_platform_role(b) != NULL && !(flags & HD_OP_FORCE))
                r = hd_errr(ctx, -EBUSY, HD_REASON_NOT_VIABLE,
                            "IOMMU group %d would not be viable: %s stays on %s, %s the host "
                            "keeps: no VM can have this group on this host as it is",
                            p->groups[gi], hd_device_get_name(b), hd_device_get_driver(b),
                            hd_device_get_platform_role(b));
            else
                r = hd_errr(ctx, -EBUSY, HD_REASON_NOT_VIABLE,
                            "IOMMU group %d would not be "
                            "viable: %s stays on %s on the host; %s",
                            p->groups[gi], hd_device_get_name(b), hd_device_get_driver(b),
                            !managed ? "detach it too"
                            : hd_device_is_assignable(b)
                                ? "ask for it too, or take the whole group"
                                : "that bridge's driver keeps the group from any VM");
        }
        hd_group_unref(g);
        if (r < 0)
            return r;
    }
    /* The driver each managed device goes to can be had: a dry run finds it out too. What
     * lives on a member --group brought in is asked now that it is in. */
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].managed && !p->v[i].on_vfio && !p->v[i].already &&
            ((r = hd_op_check_target_available(ctx, req, p->v[i].dev)) < 0 ||
             (p->v[i].via_group && (r = check_not_with_child(ctx, p, p->v[i].dev)) < 0)))
            return r;
    }
    for (size_t i = 0; i < p->n && !(flags & HD_OP_FORCE); i++) {
        struct hd_device *dev = p->v[i].dev;
        const char *platform = hd_platform_function(dev);
        if (p->v[i].already)
            continue;
        if (platform != NULL)
            return hd_errr(ctx, -EBUSY, HD_REASON_PLATFORM,
                           "%s is %s: the host keeps it (no "
                           "VM needs it)%s",
                           hd_device_get_name(dev), platform,
                           p->v[i].via_group ? "; it shares the IOMMU group asked for" : "");
        /* What the host uses is read once for all the devices of the VM. */
        if (p->v[i].managed && p->host_use == NULL &&
            (r = hd_host_use_new_for(ctx, p->n, &p->host_use)) < 0)
            return r;
        if (p->v[i].managed && (r = hd_host_use_check_leaving(ctx, &p->host_use, dev)) < 0)
            return r;
    }
    /* After the host's use, which names a VF carrying the host's traffic as show does (and
     * detach refuses it): any VF at all refuses a managed PF here. */
    for (size_t i = 0; i < requested; i++) {
        if (p->v[i].managed && !p->v[i].on_vfio && !p->v[i].already &&
            (r = hd_check_pf_keeps_vfs(ctx, p->v[i].dev, flags & HD_OP_FORCE, "detaching it")) < 0)
            return r;
    }
    return 0;
}

/* Whether binding a device to vfio-pci makes it a VFIO cdev: the kernel registered the cdevs'
 * character region, "vfio-dev" in proc/devices (6.6+ built with VFIO_DEVICE_CDEV). */
static bool kernel_makes_vfio_cdevs(struct hd_ctx *ctx)
{
    char *data = NULL, *line, *save = NULL;
    bool found = false;
    size_t len;

    if (hd_fs_read_alloc(ctx, "proc/devices", HD_READ_MAX, &data, &len) < 0)
        return false;
    for (line = strtok_r(data, "\n", &save); line != NULL && !found;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "Block devices:", 14) == 0)
            break;
        char *name = line + strspn(line, " 0123456789");
        found = name > line && strcmp(name, "vfio-dev") == 0;
    }
    free(data);
    return found;
}

/* The nodes a VM opens for a device of @group with VFIO cdev @cdev (NULL: none): the group's,
 * the cdev, and dev/iommu with a cdev. @binding names a device this dry run would bind to
 * vfio-pci: its cdev, when the kernel makes one, gets its name only then. */
static size_t nodes_for(struct hd_ctx *ctx, int group, const char *cdev, const char *binding,
                        char paths[][HD_NODE_PATH_MAX])
{
    size_t n = 0;

    snprintf(paths[n++], HD_NODE_PATH_MAX, "dev/vfio/%d", group);
    if (binding != NULL && kernel_makes_vfio_cdevs(ctx)) {
        snprintf(paths[n++], HD_NODE_PATH_MAX, "dev/vfio/devices/<the cdev of %s>", binding);
        if (hd_fs_exists(ctx, "dev/iommu") == 1)
            strcpy(paths[n++], "dev/iommu");
    } else if (cdev != NULL && cdev[0] && hd_name_valid(cdev) &&
               hd_path(paths[n], HD_NODE_PATH_MAX, "dev/vfio/devices/%s", cdev) == 0 &&
               hd_fs_exists(ctx, paths[n]) == 1) {
        n++;
        if (hd_fs_exists(ctx, "dev/iommu") == 1)
            strcpy(paths[n++], "dev/iommu");
    }
    return n;
}

/* Under the map lock (a dry run takes none): read the map, let @fn look at or change it, and
 * write it back when @fn changed it (returned 0) and @write. @fn returns -errno, 0 (changed)
 * or 1 (as it was). A node shared between VMs (dev/iommu) is given and taken back under this
 * lock, so that it keeps the original owner recorded by whoever changed it first. */
static int with_map(struct hd_txn *t, bool write,
                    int (*fn)(struct hd_txn *t, struct hd_assignment_list *map, void *data),
                    void *data)
{
    struct hd_assignment_list *map = NULL;
    int lockfd = -1, r;

    if ((!hd_txn_dry_run(t) && (r = hd_lock_map(hd_txn_ctx(t), &lockfd)) < 0) ||
        (r = hd_map_read(hd_txn_ctx(t), &map)) < 0 || (r = fn(t, map, data)) < 0)
        goto out;
    r = r == 0 && write && !hd_txn_dry_run(t) ? hd_map_write(hd_txn_ctx(t), map) : 0;
out:
    hd_assignment_list_unref(map);
    hd_unlock(lockfd);
    return r;
}

/* A new entry of @t's VM. */
static void entry_init(struct hd_assignment *a, const struct hd_txn *t,
                       enum hd_assignment_kind kind, const char *name, int group, uid_t uid,
                       gid_t gid)
{
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    hd_strlcpy(a->name, name, sizeof(a->name));
    hd_strlcpy(a->vm, hd_txn_vm(t), sizeof(a->vm));
    a->group = group;
    a->since = (long long)time(NULL);
    a->uid = uid;
    a->gid = gid;
    a->autoprobe = -1;
}

/* Hand @paths to @a's owner, recording in @a what each had (the first recorded original when
 * another entry of @map lists the node already, as dev/iommu), and record @a. A device
 * without a group lock (USB, SCSI) may have been taken meanwhile: the map, read under its
 * lock, says so before any node is touched. */
static int give_and_record(struct hd_txn *t, const struct hd_op *op,
                           struct hd_assignment_list *map, struct hd_assignment *a,
                           char paths[][HD_NODE_PATH_MAX], size_t np)
{
    int r;

    if (hd_map_find_same(map, a) != NULL)
        return hd_errr(hd_txn_ctx(t), -EBUSY, HD_REASON_HELD, "%s was assigned meanwhile", a->name);
    for (size_t k = 0; k < np; k++) {
        const struct hd_node_owner *orig = hd_map_node_orig(map, paths[k]);
        const struct hd_jstep *done = hd_txn_find_own(t, paths[k]);
        struct hd_node_owner was = {0};
        if (done != NULL)
            was = done->node;
        else if (node_done(t, op, paths[k]))
            hd_strlcpy(was.path, paths[k], sizeof(was.path)); /* planned: its map is not kept */
        else if ((r = give_node(t, paths[k], a->uid, a->gid, &was)) < 0)
            return r;
        a->nodes[a->nnodes++] = orig ? *orig : was;
    }
    if ((r = hd_map_add(map, a)) == 0)
        hd_txn_note(t, "record", a->name, "", hd_txn_vm(t));
    return r;
}

struct give {
    struct plan *p;
    const struct hd_op *op;
    uid_t uid;
    gid_t gid;
};

/* with_map(): every device of the plan, its nodes given and recorded. */
static int give_all(struct hd_txn *t, struct hd_assignment_list *map, void *data)
{
    const struct give *g = data;
    struct plan *p = g->p;
    char paths[3][HD_NODE_PATH_MAX];
    struct hd_assignment a;
    int r = 0;

    for (size_t i = 0; i < p->ntargets && r == 0; i++) {
        const struct hd_node_target *nt = &p->targets[i];
        if (p->targets_already[i])
            continue;
        /* No group lock keeps one above or below it from being given meanwhile. */
        if ((r = hd_check_target_chain_free(hd_txn_ctx(t), map, nt)) < 0)
            break;
        entry_init(&a, t, nt->kind, nt->name, -1, g->uid, g->gid);
        strcpy(a.ids, nt->ids);
        strcpy(paths[0], nt->node);
        r = give_and_record(t, g->op, map, &a, paths, 1);
    }
    for (size_t i = 0; i < p->nmdevs && r == 0; i++) {
        const struct pmdev *m = &p->mdevs[i];
        if (m->already)
            continue;
        entry_init(&a, t, HD_ASSIGNMENT_MDEV, m->uuid, m->info.group, g->uid, g->gid);
        strcpy(a.parent, m->info.parent);
        r = give_and_record(t, g->op, map, &a, paths,
                            nodes_for(hd_txn_ctx(t), a.group, m->info.cdev, NULL, paths));
    }
    for (size_t i = 0; i < p->n && r == 0; i++) {
        struct hd_device *dev = p->v[i].dev;
        if (p->v[i].already)
            continue;
        if (!hd_txn_dry_run(t) && (r = hd_txn_refresh(dev)) < 0)
            break;
        /* The devices behind it have no group or one of their own: their acquires take its
         * group lock too, and the map is asked again all the same (a hostdev before that). */
        if ((r = hd_check_nothing_held_below(hd_txn_ctx(t), map, dev)) < 0)
            break;
        entry_init(&a, t, HD_ASSIGNMENT_PCI, hd_device_get_name(dev),
                   hd_device_get_iommu_group(dev), g->uid, g->gid);
        a.addr = *hd_device_get_addr(dev);
        a.managed = p->v[i].managed;
        a.detached = a.managed && !p->v[i].on_vfio;
        a.via_group = p->v[i].via_group;
        if (a.detached)
            strcpy(a.driver, p->v[i].driver);
        if (hd_assignment_from_stub(&a))
            strcpy(a.override, p->v[i].override);
        /* Its driver destroyed its VFs as it let go (--force): release makes them again. */
        if (a.detached && p->v[i].numvfs > 0) {
            a.numvfs = p->v[i].numvfs;
            a.autoprobe = p->v[i].autoprobe;
        }
        r = give_and_record(t, g->op, map, &a, paths,
                            nodes_for(hd_txn_ctx(t), a.group, hd_device_get_vfio_cdev(dev),
                                      hd_txn_dry_run(t) && a.detached ? a.name : NULL, paths));
    }
    return r;
}

static int give_and_commit(struct hd_txn *t, const struct hd_op *op, struct plan *p, uid_t uid,
                           gid_t gid)
{
    struct give g = {p, op, uid, gid};

    return with_map(t, true, give_all, &g);
}

/* The devices of the plan (@changing: less those the VM holds as asked), their number in @n.
 * To lock (not @changing), a device that lives on a PCI device (a USB or SCSI device on its
 * controller, the nearest PCI device of its sysfs path; a mediated device on its parent) also
 * takes that one's group: an acquire, detach or reset of it, which checks before it unbinds
 * (and so removes the device) and records after, is over before the device's is checked, or
 * starts after it is recorded. */
static struct hd_jdev *plan_jdevs(struct hd_ctx *ctx, const struct plan *p, bool changing,
                                  size_t *n)
{
    struct hd_jdev *j = calloc(p->n + 2 * (p->nmdevs + p->ntargets) + 1, sizeof(*j));
    struct hd_pci_addr addr;
    char pci[HD_PCI_ADDR_BUFSZ];

    *n = 0;
    for (size_t i = 0; j != NULL && i < p->n; i++) {
        if (changing && p->v[i].already)
            continue;
        j[*n].addr = *hd_device_get_addr(p->v[i].dev);
        j[(*n)++].group = hd_device_get_iommu_group(p->v[i].dev);
    }
    for (size_t i = 0; j != NULL && i < p->nmdevs; i++) {
        const struct pmdev *m = &p->mdevs[i];
        if (changing && m->already)
            continue;
        j[*n].kind = HD_ASSIGNMENT_MDEV;
        strcpy(j[*n].name, m->uuid);
        j[(*n)++].group = m->info.group;
        if (!changing)
            hd_jdev_add_parent(ctx, j, n, HD_ASSIGNMENT_MDEV, m->uuid, m->info.parent);
    }
    for (size_t i = 0; j != NULL && i < p->ntargets; i++) {
        const struct hd_node_target *t = &p->targets[i];
        if (changing && p->targets_already[i])
            continue;
        j[*n].kind = t->kind;
        strcpy(j[*n].name, t->name);
        j[(*n)++].group = -1; /* no group of its own: the map lock orders acquires of one */
        if (!changing && hd_sysfs_pci_of(t->sysfs, &addr))
            hd_jdev_add_parent(ctx, j, n, t->kind, t->name, hd_pci_addr_format(&addr, pci));
    }
    return j;
}

/* Report each device the VM holds as asked (its step done: it was, before this run); 1 when
 * the plan has nothing else. */
static bool note_already(struct hd_txn *t, const struct plan *p)
{
    size_t changing = 0;

    for (size_t i = 0; i < p->n + p->nmdevs + p->ntargets; i++) {
        const char *name = i < p->n ? hd_device_get_name(p->v[i].dev)
                           : i < p->n + p->nmdevs ? p->mdevs[i - p->n].uuid
                                                  : p->targets[i - p->n - p->nmdevs].name;
        bool already = i < p->n ? p->v[i].already
                       : i < p->n + p->nmdevs ? p->mdevs[i - p->n].already
                                              : p->targets_already[i - p->n - p->nmdevs];
        if (!already) {
            changing++;
            continue;
        }
        hd_txn_note(t, "already", name, "", hd_txn_vm(t));
        hd_txn_settle(t, "already", name, HD_STEP_DONE);
    }
    return changing == 0;
}

int hd_ops_acquire(struct hd_op *op)
{
    const struct hd_op_request *req = hd_op_request(op);
    struct hd_ctx *ctx = hd_op_ctx(op);
    struct hd_assignment_list *map = NULL;
    struct hd_jdev *jdevs = NULL;
    struct hd_batch b = {0};
    struct plan p = {0};
    struct hd_txn *t;
    size_t njdevs;
    uid_t uid;
    gid_t gid;
    int r;

    if ((r = hd_txn_new(op, HD_JOP_ACQUIRE, req->vm, 0, &t)) < 0)
        return r;
    if (!hd_vm_id_valid(req->vm)) {
        r = hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "no valid VM id given");
        goto fail;
    }
    for (size_t i = 0; i <= req->n; i++) {
        const char *d = i < req->n ? req->drivers[i] : req->driver;
        if (d[0] != '\0' && !hd_driver_is_vfio(d)) {
            r = hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "a VM gets devices through VFIO: %s "
                        "is not a vfio-pci family driver", d);
            goto fail;
        }
    }
    if (!hd_txn_dry_run(t)) {
        hd_assign_recover(ctx, NULL); /* leftovers of killed processes; ours are checked below */
        hd_ctx_clear_error(ctx);
    }
    if ((r = open_requested(ctx, req, &p)) < 0 || (r = check_not_with_children(ctx, &p)) < 0 ||
        (jdevs = plan_jdevs(ctx, &p, false, &njdevs)) == NULL ||
        (r = hd_txn_lock(t, jdevs, njdevs)) < 0 || (r = hd_map_read(ctx, &map)) < 0 ||
        (r = check_acquire(ctx, req, &p, map)) < 0)
        goto fail;
    /* Asked again for what it holds, with nothing new: done, nothing written. */
    if (note_already(t, &p)) {
        r = hd_txn_commit(t);
        goto out;
    }
    /* --group may have brought in members of the same groups only: the locks still cover. */
    free(jdevs);
    if ((jdevs = plan_jdevs(ctx, &p, true, &njdevs)) == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = hd_txn_begin(t, jdevs, njdevs)) < 0)
        goto fail;
    /* 1. detach the managed devices (groups side by side), all of them before any reset (a
     * bus reset hits siblings). */
    for (size_t i = 0; i < p.n && r >= 0; i++) {
        char to[HD_DRIVER_NAME_MAX];
        if (p.v[i].managed && !p.v[i].on_vfio && !p.v[i].already &&
            (r = hd_op_target_driver(ctx, req, p.v[i].dev, to, sizeof(to))) == 0 &&
            (r = step_override_of_stub(t, &p.v[i], to)) >= 0 &&
            (r = hd_txn_defer_vfs_go(t, p.v[i].dev)) >= 0 &&
            (r = hd_txn_defer_mdevs_go(t, p.v[i].dev, req->flags & HD_OP_FORCE)) >= 0 &&
            (r = step_to(t, HD_JSTEP_DETACH, p.v[i].dev, NULL, to)) == 1)
            r = hd_batch_add(&b, HD_TASK_DETACH, p.v[i].dev, to, 0);
    }
    if ((r = hd_txn_run_batch(t, &b, r)) < 0)
        goto fail;
    hd_batch_free(&b);
    /* 2. reset all; 3. the VM's user may open the nodes, 4. record. */
    for (size_t i = 0; i < p.n && r >= 0; i++) {
        if (!p.v[i].already) /* never a device its VM may be using */
            r = plan_reset(t, p.v[i].dev, &b);
    }
    if ((r = hd_txn_run_batch(t, &b, r)) < 0)
        goto fail;
    hd_txn_settle_resets(t, &b);
    uid = req->uid;
    gid = req->gid;
    if (!req->owner_asked)
        hd_owner_default(ctx, &uid, &gid);
    if ((r = give_and_commit(t, op, &p, uid, gid)) < 0)
        goto fail;
    r = hd_txn_commit(t);
    goto out;
fail:
    r = hd_txn_abort(t, r);
out:
    free(jdevs);
    hd_batch_free(&b);
    hd_assignment_list_unref(map);
    plan_free(&p);
    hd_txn_free(t);
    return r;
}

/* ---- release -------------------------------------------------------------------------------- */

/* A device named to be released that no VM holds: 0 when it is there (a retried release:
 * nothing to do), else the error that there is no such device. */
static int check_not_held(struct hd_ctx *ctx, bool mdev, const char *name,
                          const struct hd_pci_addr *addr)
{
    struct hd_node_target t;
    struct hd_mdev_info info;
    struct hd_device *dev;
    int r;

    if (mdev)
        return hd_mdev_lookup(ctx, name, &info);
    if (addr == NULL)
        return hd_node_target_find(ctx, name, &t);
    if ((r = hd_device_open_fill(ctx, addr, 0, &dev)) == -ENODEV)
        return hd_errr(ctx, r, HD_REASON_NO_DEVICE, "%s: no such PCI device under %s", name,
                       hd_ctx_get_root(ctx));
    hd_device_unref(dev);
    return r;
}

/* The entries of @vm to release: all, or those named (each must be @vm's, or no VM's: those
 * are set in @not_held, in the order targets, mediated devices, PCI devices) with the members
 * of their groups that came along with them (acquire --group): what acquire took together
 * goes back together. */
static int select_entries(struct hd_ctx *ctx, const struct hd_assignment_list *map,
                          const char *vm, const struct hd_op_request *req,
                          const struct hd_node_target *targets, size_t ntargets,
                          struct hd_assignment_list *out, bool *not_held)
{
    const struct hd_pci_addr *addrs = req->addrs;
    size_t n = req->n;
    int r = 0;

    hd_map_clear(out);
    for (size_t i = 0; i < ntargets + req->nmdevs + n; i++) {
        bool mdev = i >= ntargets && i < ntargets + req->nmdevs;
        const struct hd_pci_addr *addr = i >= ntargets + req->nmdevs
                                             ? &addrs[i - ntargets - req->nmdevs] : NULL;
        const char *what = mdev ? "mediated device " : "";
        char name[HD_NODE_SELECTOR_MAX];
        const struct hd_assignment *a;
        if (addr != NULL) {
            hd_pci_addr_format(addr, name);
            a = hd_map_find(map, addr);
        } else if (mdev) {
            hd_strlcpy(name, req->mdevs[i - ntargets], sizeof(name));
            a = hd_map_find_mdev(map, name);
        } else {
            hd_strlcpy(name, targets[i].name, sizeof(name));
            a = hd_map_find_key(map, targets[i].kind, name);
        }
        if (a != NULL && strcmp(a->vm, vm) != 0)
            return hd_errr(ctx, -EPERM, HD_REASON_HELD, "%s%s is assigned to vm %s, not %s",
                           what, name, a->vm, vm);
        if ((not_held[i] = a == NULL) && (r = check_not_held(ctx, mdev, name, addr)) < 0)
            return r;
    }
    for (size_t i = 0; i < hd_assignment_list_count(map) && r == 0; i++) {
        const struct hd_assignment *a = hd_map_at(map, i);
        bool take = n == 0 && req->nmdevs == 0 && ntargets == 0;
        for (size_t k = 0; k < n && !take && a->kind == HD_ASSIGNMENT_PCI; k++) {
            const struct hd_assignment *named = hd_map_find(map, &addrs[k]);
            take = hd_pci_addr_equal(&a->addr, &addrs[k]) ||
                   (named != NULL && a->via_group && named->group >= 0 &&
                    named->group == a->group);
        }
        for (size_t k = 0; k < req->nmdevs && !take && a->kind == HD_ASSIGNMENT_MDEV; k++)
            take = strcmp(a->name, req->mdevs[k]) == 0;
        for (size_t k = 0; k < ntargets && !take; k++)
            take = a->kind == targets[k].kind && strcmp(a->name, targets[k].name) == 0;
        if (take && strcmp(a->vm, vm) == 0)
            r = hd_map_add(out, a);
    }
    /* A device given back to a host driver while the VM keeps another device of its IOMMU
     * group would leave the VM a group that is not viable (a kernel refuses that probe, an
     * older one crashes): those go back together. */
    for (size_t i = 0; i < hd_assignment_list_count(out) && r == 0; i++) {
        const struct hd_assignment *a = hd_map_at(out, i);
        /* Back to a stub (pci-stub), the group stays viable. */
        if (a->kind != HD_ASSIGNMENT_PCI || !a->detached || a->driver[0] == '\0' || a->group < 0 ||
            hd_assignment_from_stub(a))
            continue;
        for (size_t k = 0; k < hd_assignment_list_count(map) && r == 0; k++) {
            const struct hd_assignment *kept = hd_map_at(map, k);
            if (kept->kind == HD_ASSIGNMENT_PCI && kept->group == a->group &&
                strcmp(kept->vm, vm) == 0 && hd_map_find_same(out, kept) == NULL)
                r = hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s would go back to %s while the VM "
                            "keeps %s of its IOMMU group %d: release both together", a->name,
                            a->driver, kept->name, a->group);
        }
    }
    return r;
}

/* The last assignment outside @sel that lists @path (NULL: nobody keeps it). */
static const struct hd_assignment *node_keeper(const struct hd_assignment_list *map,
                                               const struct hd_assignment_list *sel,
                                               const char *path)
{
    const struct hd_assignment *keeper = NULL;

    for (size_t i = 0; i < hd_assignment_list_count(map); i++) {
        const struct hd_assignment *a = hd_map_at(map, i);
        if (hd_map_find_same(sel, a) != NULL)
            continue;
        for (size_t k = 0; k < a->nnodes; k++) {
            if (strcmp(a->nodes[k].path, path) == 0)
                keeper = a;
        }
    }
    return keeper;
}

/* Take back the nodes nobody else keeps; a node another VM keeps (dev/iommu) goes to that
 * VM's user if it is not its already. Under the map lock: see give_and_commit. */
struct restore {
    const struct hd_assignment_list *sel;
    const struct hd_op *op;
};

static int restore_in(struct hd_txn *t, struct hd_assignment_list *map, void *data)
{
    const struct restore *rs = data;
    const struct hd_assignment_list *sel = rs->sel;
    struct hd_ctx *ctx = hd_txn_ctx(t);
    int r = 0;

    for (size_t i = 0; i < hd_assignment_list_count(sel) && r == 0; i++) {
        const struct hd_assignment *a = hd_map_at(sel, i);
        for (size_t k = 0; k < a->nnodes && r == 0; k++) {
            const struct hd_node_owner *orig = &a->nodes[k];
            const struct hd_assignment *keeper = node_keeper(map, sel, orig->path);
            struct hd_node_owner to = *orig;
            struct hd_jstep s = {.kind = HD_JSTEP_OWN};
            struct stat st;
            if (node_done(t, rs->op, orig->path))
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
            s.node = *orig;
            s.node.uid = st.st_uid;
            s.node.gid = st.st_gid;
            s.node.mode = st.st_mode & 0777;
            owner_text(s.to, sizeof(s.to), to.uid, to.gid, to.mode);
            if ((r = hd_txn_step(t, &s)) == 1 && (r = hd_txn_set_owner(ctx, &to)) < 0) {
                hd_txn_step_failed(t);
                r = hd_err(ctx, r, "restoring %s/%s: %s", hd_ctx_get_root(ctx), orig->path,
                           strerror(-r));
            }
            if (r > 0)
                r = 0;
        }
    }
    return r;
}

static int restore_nodes(struct hd_txn *t, const struct hd_op *op,
                         const struct hd_assignment_list *sel)
{
    struct restore rs = {sel, op};

    return with_map(t, false, restore_in, &rs);
}

struct drop {
    const char *vm;
    const struct hd_assignment_list *sel;
};

static int drop_in(struct hd_txn *t, struct hd_assignment_list *map, void *data)
{
    const struct drop *d = data;

    (void)t;
    for (size_t i = hd_assignment_list_count(map); i > 0; i--) {
        const struct hd_assignment *a = hd_map_at(map, i - 1);
        if (hd_map_find_same(d->sel, a) && strcmp(a->vm, d->vm) == 0)
            hd_map_remove(map, i - 1);
    }
    return 0;
}

static int drop_entries(struct hd_txn *t, const char *vm, const struct hd_assignment_list *sel)
{
    struct drop d = {vm, sel};

    for (size_t i = 0; i < hd_assignment_list_count(sel); i++)
        hd_txn_note(t, "unrecord", hd_map_at(sel, i)->name, vm, "");
    return with_map(t, true, drop_in, &d);
}

/* The map knows the driver even if the detach record went missing (a stub it was taken from
 * is no host driver: the record, or none, stays as it was). */
static void restore_record(struct hd_ctx *ctx, struct hd_device *dev,
                           const struct hd_assignment *a, bool dry_run)
{
    char *orig = NULL;

    if (!dry_run && a->detached && !hd_assignment_from_stub(a) &&
        hd_device_get_original_driver(dev, &orig) == -ENOENT)
        hd_state_put(ctx, "drivers", hd_device_get_name(dev), a->driver);
    free(orig);
}

/* Open the devices of @sel under the locks (NULL for one unplugged while assigned, or back on
 * a host driver: only its records are left, and they go with it), and refuse when a process
 * still has one open: the VM still runs, and neither a reset nor an unbind may happen under
 * it. */
static int open_selected(struct hd_txn *t, const struct hd_assignment_list *sel,
                         struct hd_device **devs)
{
    for (size_t i = 0; i < hd_assignment_list_count(sel); i++) {
        const struct hd_assignment *a = hd_map_at(sel, i);
        int r;
        if (a->kind != HD_ASSIGNMENT_PCI)
            continue; /* nothing to reset or reattach */
        r = hd_device_open_fill(hd_txn_ctx(t), &a->addr, HD_TXN_FILL_RELEASE, &devs[i]);
        if (r == -ENODEV)
            continue;
        if (r < 0 || (r = hd_txn_refresh(devs[i])) < 0 ||
            (r = hd_check_not_open(hd_txn_ctx(t), devs[i], "releasing it")) < 0)
            return r;
        /* Given back to a host driver by hand meanwhile: the host has it already. No reset
         * under that driver, nothing to reattach; its records go as an unplugged one's. */
        const char *driver = hd_device_get_driver(devs[i]);
        if (driver != NULL && !hd_device_on_stub(devs[i])) {
            hd_txn_note(t, "keep", a->name, driver, driver);
            hd_device_unref(devs[i]);
            devs[i] = NULL;
        }
    }
    return 0;
}

/* The records of devices unplugged while assigned (or given back by hand) go with them. */
static void drop_unplugged(struct hd_txn *t, const struct hd_assignment_list *sel,
                           struct hd_device **devs)
{
    for (size_t i = 0; i < hd_assignment_list_count(sel) && !hd_txn_dry_run(t); i++) {
        if (hd_map_at(sel, i)->kind == HD_ASSIGNMENT_PCI && devs[i] == NULL)
            hd_state_del(hd_txn_ctx(t), "drivers", hd_map_at(sel, i)->name);
    }
}

/* A device a reservation keeps for a stub (persist, hostdev.d, the command line) stays on its
 * stub when its VM lets it go, as the next boot would put it: "stay", from the entry's file
 * and line, to the driver. 1 when it stays. */
static int stays_reserved(struct hd_txn *t, const struct hd_reserve_config *config,
                          struct hd_device *dev)
{
    const struct hd_reserve_entry *e = config ? hd_reserve_config_match(config, dev) : NULL;
    char where[300];

    if (e == NULL || e->driver == NULL || !hd_device_on_stub(dev))
        return 0;
    if (e->line > 0)
        snprintf(where, sizeof(where), "%s:%u", e->file, e->line);
    else
        snprintf(where, sizeof(where), "%s", e->file);
    hd_txn_note(t, "stay", hd_device_get_name(dev), where, hd_device_get_driver(dev));
    return 1;
}

/* A device back on the stub it was taken from, with the driver_override it had there (the
 * bind leaves the stub's name in it): journaled, so an undo puts back the bind's. */
static int put_back_override(struct hd_txn *t, struct hd_device *dev,
                             const struct hd_assignment *a)
{
    struct hd_jstep s = {.kind = HD_JSTEP_OVERRIDE, .from_known = true};
    const char *now;
    int r;

    if (!hd_txn_dry_run(t) && (r = hd_txn_refresh(dev)) < 0)
        return r;
    /* A dry run foresees the bind's: the stub's name, where the kernel has the attribute. */
    now = hd_txn_dry_run(t) ? a->driver : hd_device_get_driver_override(dev);
    if (!hd_device_has_driver_override(dev) || !hd_driver_is_stub(hd_device_get_driver(dev)) ||
        strcmp(now ? now : "", a->override) == 0)
        return 0;
    s.addr = *hd_device_get_addr(dev);
    hd_strlcpy(s.from, now ? now : "", sizeof(s.from));
    hd_strlcpy(s.to, a->override, sizeof(s.to));
    const char *override = a->override[0] ? a->override : "\n";
    if ((r = hd_txn_step(t, &s)) == 1 &&
        (r = hd_device_write_attr(dev, "driver_override", override)) < 0) {
        hd_txn_step_failed(t);
        return hd_err(hd_txn_ctx(t), r, "%s: writing driver_override failed: %s",
                      hd_device_get_name(dev), strerror(-r));
    }
    return r < 0 ? r : 0;
}

/* A PF back on its host driver gets the VFs it had when acquire took it (its driver destroyed
 * them as it let go), with the sriov_drivers_autoprobe it had: journaled from the count it has
 * now, so an undo removes them again. */
static int put_back_vfs(struct hd_txn *t, struct hd_device *dev, const struct hd_assignment *a)
{
    struct hd_jstep s = {.kind = HD_JSTEP_NUMVFS, .addr = *hd_device_get_addr(dev)};
    struct hd_ctx *ctx = hd_txn_ctx(t);
    int r;

    if (!hd_txn_dry_run(t) && (r = hd_txn_refresh(dev)) < 0)
        return r;
    /* A dry run foresees the host driver's bind: no VFs yet. */
    s.old_numvfs = hd_txn_dry_run(t) ? 0 : hd_device_get_sriov_numvfs(dev);
    s.old_autoprobe = hd_device_get_sriov_autoprobe(dev);
    if (s.old_numvfs == a->numvfs && (a->autoprobe < 0 || s.old_autoprobe == a->autoprobe))
        return 0;
    snprintf(s.to, sizeof(s.to), "%d", a->numvfs);
    if ((r = hd_txn_step(t, &s)) == 1 &&
        (r = hd_sriov_restore(ctx, hd_device_get_addr(dev), a->numvfs, a->autoprobe)) < 0) {
        hd_txn_step_failed(t);
        return r;
    }
    return r < 0 ? r : 0;
}

/* The reservations release honours (stays_reserved()), read before anything changes, when a
 * device is to leave its stub. One release would give back to a host driver (not taken from
 * a stub) that no entry keeps, but that an error of the configuration could name (a file that
 * could not be read or is none, a bad line whose device word selects it), may be reserved all
 * the same: whether the next boot keeps it is not known, so nothing is released (bad input),
 * as unpersist refuses. A directory that cannot be read refuses it too. */
static int release_config(struct hd_ctx *ctx, const struct hd_assignment_list *sel,
                          struct hd_device **devs, struct hd_reserve_config **config)
{
    int r;

    *config = NULL;
    for (size_t i = 0; i < hd_assignment_list_count(sel); i++) {
        const struct hd_assignment *a = hd_map_at(sel, i);
        const struct hd_reserve_entry *e;
        const char *doubt;
        if (devs[i] == NULL || !a->managed || !a->detached)
            continue;
        if (*config == NULL && (r = hd_reserve_config_load(ctx, config)) < 0)
            return r;
        if (hd_assignment_from_stub(a) ||
            ((e = hd_reserve_config_match(*config, devs[i])) != NULL && e->driver != NULL))
            continue;
        if ((doubt = hd_reserve_config_doubt_except(*config, devs[i], NULL, 0)) != NULL) {
            r = hd_reserve_doubt_error(ctx, devs[i], doubt);
            *config = hd_reserve_config_unref(*config);
            return r;
        }
    }
    return 0;
}

/* Reset every device (groups side by side), then reattach the managed ones acquire detached,
 * newest first (those a reservation of @config keeps stay; those taken from pci-stub go back
 * to it). */
static int release_devices(struct hd_txn *t, const struct hd_assignment_list *sel,
                           struct hd_device **devs, const struct hd_reserve_config *config)
{
    struct hd_batch b = {0};
    /* What each one's reattach did: back to the stub it came from, or to its host driver */
    enum { STAYS, TO_STUB, TO_HOST } *went = calloc(hd_assignment_list_count(sel) + 1,
                                                     sizeof(*went));
    int r = 0;

    if (went == NULL)
        return -ENOMEM;

    for (size_t i = 0; i < hd_assignment_list_count(sel) && r >= 0; i++) {
        if (devs[i] != NULL)
            r = plan_reset(t, devs[i], &b);
    }
    if ((r = hd_txn_run_batch(t, &b, r)) >= 0)
        hd_txn_settle_resets(t, &b);
    hd_batch_free(&b);
    for (size_t i = hd_assignment_list_count(sel); i > 0 && r >= 0; i--) {
        const struct hd_assignment *a = hd_map_at(sel, i - 1);
        struct hd_device *dev = devs[i - 1];
        struct hd_jstep s = {.kind = HD_JSTEP_REATTACH, .from_known = true,
                             .record = HD_JREC_DRIVER};
        if (dev == NULL || !a->managed || !a->detached)
            continue;
        if ((r = hd_txn_refresh(dev)) < 0)
            break;
        restore_record(hd_txn_ctx(t), dev, a, hd_txn_dry_run(t));
        if (stays_reserved(t, config, dev))
            continue;
        if (hd_assignment_from_stub(a)) {
            /* Back on the stub it was taken from (pci-stub): a move between stubs, the
             * record as it is. */
            went[i - 1] = TO_STUB;
            if ((r = step_to(t, HD_JSTEP_DETACH, dev, NULL, a->driver)) == 1)
                r = hd_batch_add(&b, HD_TASK_DETACH, dev, a->driver, HD_DETACH_EXACT);
            continue;
        }
        s.addr = *hd_device_get_addr(dev);
        hd_strlcpy(s.from, hd_device_get_driver_or(dev, ""), sizeof(s.from));
        hd_strlcpy(s.record_driver, a->driver, sizeof(s.record_driver));
        /* The override line the record keeps, journaled so that an undo writes it back; the
         * record read here is the one the reattach uses (a damaged one is the reattach's to
         * read again and report). */
        char *rec = NULL, text[HD_RECORD_MAX] = "";
        unsigned int flags = 0;
        if (hd_bind_read_record(dev, &rec, s.record_override, sizeof(s.record_override)) < 0) {
            hd_ctx_clear_error(hd_txn_ctx(t));
        } else {
            hd_bind_format_record(text, sizeof(text), rec, s.record_override);
            flags = HD_BIND_RECORD;
        }
        free(rec);
        went[i - 1] = TO_HOST;
        if ((r = hd_txn_step(t, &s)) == 1)
            r = hd_batch_add(&b, HD_TASK_REATTACH, dev, text, flags);
    }
    r = hd_txn_run_batch(t, &b, r);
    hd_batch_free(&b);
    for (size_t i = 0; i < hd_assignment_list_count(sel) && r >= 0; i++) {
        const struct hd_assignment *a = hd_map_at(sel, i);
        if (went[i] == TO_STUB && a != NULL)
            r = put_back_override(t, devs[i], a);
        else if (went[i] == TO_HOST && a != NULL && a->numvfs > 0)
            r = put_back_vfs(t, devs[i], a);
    }
    free(went);
    return r < 0 ? r : 0;
}

static void jdev_of(const struct hd_assignment *a, struct hd_jdev *j)
{
    memset(j, 0, sizeof(*j));
    j->kind = a->kind;
    j->addr = a->addr;
    j->group = a->group;
    if (a->kind != HD_ASSIGNMENT_PCI)
        strcpy(j->name, a->name);
}

/* The USB and SCSI devices a release names, as recorded: a node-device name as it is (the
 * device may be gone), usb:VVVV:PPPP[:SERIAL] by the device that has those ids now. */
static int release_targets(struct hd_ctx *ctx, const struct hd_op_request *req,
                           struct hd_node_target **out)
{
    struct hd_node_target *v = calloc(req->nnamed + 1, sizeof(*v));
    int r = 0;

    *out = v;
    if (v == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < req->nnamed && r == 0; i++) {
        if (strncmp(req->named[i], "usb:", 4) == 0) {
            r = hd_node_target_find(ctx, req->named[i], &v[i]);
        } else {
            v[i].kind = req->named[i][0] == 'u' ? HD_ASSIGNMENT_USB : HD_ASSIGNMENT_SCSI;
            strcpy(v[i].name, req->named[i]);
        }
    }
    return r;
}

/* A USB device that re-enumerated has a new node: that one goes back, as recorded; one that
 * is gone (or with another device in its port) has nothing to give back. */
static void follow_nodes(struct hd_ctx *ctx, struct hd_assignment_list *sel)
{
    for (size_t i = 0; i < hd_assignment_list_count(sel); i++) {
        struct hd_assignment *a = hd_map_at(sel, i);
        char node[HD_NODE_PATH_MAX];
        if (a->kind != HD_ASSIGNMENT_USB && a->kind != HD_ASSIGNMENT_SCSI)
            continue;
        if (hd_node_target_refind(ctx, a, node) < 0)
            a->nnodes = 0;
        else if (a->nnodes == 1)
            strcpy(a->nodes[0].path, node);
    }
}

static int release_force(struct hd_op *op);

/* Report each device named that no VM holds (step "already" from the VM, "" to: nothing to
 * give back, done before this run). */
static void note_not_held(struct hd_txn *t, const struct hd_op_request *req,
                          const struct hd_node_target *targets, const bool *not_held)
{
    for (size_t i = 0; i < req->nnamed + req->nmdevs + req->n; i++) {
        char name[HD_NODE_SELECTOR_MAX];
        if (!not_held[i])
            continue;
        if (i < req->nnamed)
            hd_strlcpy(name, targets[i].name, sizeof(name));
        else if (i < req->nnamed + req->nmdevs)
            hd_strlcpy(name, req->mdevs[i - req->nnamed], sizeof(name));
        else
            hd_pci_addr_format(&req->addrs[i - req->nnamed - req->nmdevs], name);
        hd_txn_note(t, "already", name, hd_txn_vm(t), "");
        hd_txn_settle(t, "already", name, HD_STEP_DONE);
    }
}

/* with_map(): the entry's node is where the device's is now, and the VM's user's. */
static int follow_in(struct hd_txn *t, struct hd_assignment_list *map, void *data)
{
    const struct hd_node_target *nt = data;
    struct hd_assignment *a = hd_map_find_key(map, nt->kind, nt->name);
    struct hd_node_owner was;
    struct stat st;
    int r;

    /* None held, or another device in its port: nothing of ours. */
    if (a == NULL || a->nnodes != 1 || (a->ids[0] && strcmp(a->ids, nt->ids) != 0))
        return 1;
    if (strcmp(hd_txn_vm(t), a->vm) != 0)
        return hd_err(hd_txn_ctx(t), -EAGAIN, "%s changed hands meanwhile; try again", a->name);
    if (strcmp(a->nodes[0].path, nt->node) == 0 && hd_fs_stat(hd_txn_ctx(t), nt->node, &st) == 0 &&
        st.st_uid == a->uid && st.st_gid == a->gid && (st.st_mode & 07777) == 0660)
        return 1; /* as it should be */
    if ((r = give_node(t, nt->node, a->uid, a->gid, &was)) < 0)
        return r;
    /* What the new node had when it came is what release gives it back. */
    if (strcmp(a->nodes[0].path, nt->node) != 0)
        a->nodes[0] = was;
    hd_txn_note(t, "follow", a->name, "", a->vm);
    return 0;
}

int hd_ops_follow(struct hd_op *op)
{
    const struct hd_op_request *req = hd_op_request(op);
    struct hd_ctx *ctx = hd_op_ctx(op);
    struct hd_node_target nt;
    struct hd_jdev jdev = {.group = -1};
    char vm[HD_VM_ID_MAX + 1] = "";
    struct hd_txn *t;
    int r;

    if (req->nnamed != 1 || req->n > 0 || req->nmdevs > 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "following a device takes one USB "
                       "device");
    if ((r = hd_node_target_find(ctx, req->named[0], &nt)) < 0)
        return r;
    if (nt.kind != HD_ASSIGNMENT_USB)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s is no USB device: its node does "
                       "not change", nt.name);
    jdev.kind = nt.kind;
    strcpy(jdev.name, nt.name);
    /* The journal names the VM that holds it (recover's commit check); none: nothing to do. */
    struct hd_assignment_list *map = NULL;
    const struct hd_assignment *a;
    if ((r = hd_map_read(ctx, &map)) < 0)
        return r;
    if ((a = hd_map_find_key(map, nt.kind, nt.name)) != NULL)
        hd_strlcpy(vm, a->vm, sizeof(vm));
    hd_assignment_list_unref(map);
    if (vm[0] == '\0')
        return 0;
    /* A crash after the node was given leaves it given, and the map as it was: release gives
     * back the node the device has then, with the owner recorded for the old one (udev's
     * default for both). */
    if ((r = hd_txn_new(op, HD_JOP_ACQUIRE, vm, 0, &t)) < 0)
        return r;
    if ((r = hd_txn_lock(t, &jdev, 1)) < 0 || (r = hd_txn_begin(t, &jdev, 1)) < 0 ||
        (r = with_map(t, true, follow_in, &nt)) < 0)
        r = hd_txn_abort(t, r);
    else
        r = hd_txn_commit(t);
    hd_txn_free(t);
    return r;
}

int hd_ops_release(struct hd_op *op)
{
    const struct hd_op_request *req = hd_op_request(op);
    struct hd_ctx *ctx = hd_op_ctx(op);
    struct hd_assignment_list *map = NULL, *sel = hd_map_new();
    struct hd_node_target *named = NULL;
    struct hd_device **devs = NULL;
    struct hd_jdev *jdevs = NULL;
    struct hd_reserve_config *config = NULL;
    struct hd_txn *t = NULL;
    size_t nnamed = req->nnamed + req->nmdevs + req->n;
    bool *not_held = NULL;
    int r;

    if ((req->flags & HD_OP_FORCE) && req->vm[0] == '\0') {
        hd_assignment_list_unref(sel);
        return release_force(op);
    }
    if (sel == NULL || hd_txn_new(op, HD_JOP_RELEASE, req->vm, 0, &t) < 0) {
        hd_assignment_list_unref(sel);
        return -ENOMEM;
    }
    if (!hd_vm_id_valid(req->vm)) {
        r = hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "no valid VM id given");
        goto fail;
    }
    if (!hd_txn_dry_run(t)) {
        hd_assign_recover(ctx, NULL);
        hd_ctx_clear_error(ctx);
    }
    if ((not_held = calloc(nnamed + 1, sizeof(*not_held))) == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = release_targets(ctx, req, &named)) < 0 || (r = hd_map_read(ctx, &map)) < 0 ||
        (r = select_entries(ctx, map, req->vm, req, named, req->nnamed, sel, not_held)) < 0)
        goto fail;
    if (hd_assignment_list_count(sel) == 0)
        goto none_held;
    if ((jdevs = calloc(hd_assignment_list_count(sel), sizeof(*jdevs))) == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < hd_assignment_list_count(sel); i++)
        jdev_of(hd_map_at(sel, i), &jdevs[i]);
    if ((r = hd_txn_lock(t, jdevs, hd_assignment_list_count(sel))) < 0)
        goto fail;
    /* Read again under the locks: another release may have been quicker. */
    hd_assignment_list_unref(map);
    map = NULL;
    if ((r = hd_map_read(ctx, &map)) < 0 ||
        (r = select_entries(ctx, map, req->vm, req, named, req->nnamed, sel, not_held)) < 0)
        goto fail;
    for (size_t i = 0; i < hd_assignment_list_count(sel); i++) {
        int group = hd_map_at(sel, i)->group;
        if (!hd_txn_dry_run(t) && group >= 0 && !hd_txn_holds_group(t, group)) {
            r = hd_err(ctx, -EAGAIN, "the assignments of vm %s changed meanwhile; try again",
                       req->vm);
            goto fail;
        }
        jdev_of(hd_map_at(sel, i), &jdevs[i]);
    }
    if (hd_assignment_list_count(sel) == 0)
        goto none_held;
    if ((devs = calloc(hd_assignment_list_count(sel) + 1, sizeof(*devs))) == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    if ((r = open_selected(t, sel, devs)) < 0 ||
        (r = release_config(ctx, sel, devs, &config)) < 0)
        goto fail;
    note_not_held(t, req, named, not_held);
    if ((r = hd_txn_begin(t, jdevs, hd_assignment_list_count(sel))) < 0)
        goto fail;
    /* The VM's user loses the nodes first, then each device is reset and, when managed,
     * reattached (newest first), then the records go. */
    drop_unplugged(t, sel, devs);
    follow_nodes(ctx, sel);
    if ((r = restore_nodes(t, op, sel)) == 0 && (r = release_devices(t, sel, devs, config)) == 0)
        r = drop_entries(t, req->vm, sel);
    if (r < 0)
        goto fail;
    r = hd_txn_commit(t);
    goto out;
none_held:
    /* Every device named is no VM's: a retried release, done (nothing is written). Asked for
     * all of them, a VM that holds none may be a mistyped id: said. */
    if (nnamed == 0) {
        r = hd_errr(ctx, -ENOENT, HD_REASON_NOT_ASSIGNED, "vm %s holds no device", req->vm);
        goto fail;
    }
    note_not_held(t, req, named, not_held);
    r = hd_txn_commit(t);
    goto out;
fail:
    r = hd_txn_abort(t, r);
out:
    for (size_t i = 0; devs != NULL && i < hd_assignment_list_count(sel); i++)
        hd_device_unref(devs[i]);
    free(devs);
    free(jdevs);
    free(not_held);
    free(named);
    hd_reserve_config_unref(config);
    hd_assignment_list_unref(sel);
    hd_assignment_list_unref(map);
    hd_txn_free(t);
    return r;
}

/* The entry the emergency release names: its PCI device's, or its mediated device's. */
static const struct hd_assignment *forced_entry(const struct hd_assignment_list *map,
                                                const struct hd_op_request *req)
{
    return req->nmdevs ? hd_map_find_mdev(map, req->mdevs[0]) : hd_map_find(map, req->addrs);
}

/* The emergency release of a device no VM holds that is not detached either: nothing to
 * give back (a retry after one that finished, or a device never taken), step "already" from
 * no VM, to what it is on (@driver, "" for a mediated device), done in a dry run too. */
static void note_nothing_forced(struct hd_txn *t, const char *name, const char *driver)
{
    hd_txn_note(t, "already", name, "", driver);
    hd_txn_settle(t, "already", name, HD_STEP_DONE);
}

/* A mediated device the map does not hold: -ENODEV when it is not there either, else 0 and
 * an "already" step: nothing to release (its node is the host's), as a retry finds it. */
static int mdev_not_held(struct hd_txn *t, struct hd_ctx *ctx, const char *uuid)
{
    struct hd_mdev_info info;

    if (hd_mdev_lookup(ctx, uuid, &info) < 0)
        return hd_errr(ctx, -ENODEV, HD_REASON_NO_DEVICE, "%s: no such mediated device under "
                       "%s, and no record of it", uuid, hd_ctx_get_root(ctx));
    note_nothing_forced(t, uuid, "");
    return 0;
}

/* Emergency release of one device whatever its record says (the record may be what is
 * broken). No journal: each step can be run again, and the record goes last, so a crash or a
 * timed-out unbind leaves the device recorded and the emergency release is simply repeated
 * (once the kernel has returned). A record whose device is gone is simply dropped. A mediated
 * device only has its node given back and its record dropped, as a release does. */
static int release_force(struct hd_op *op)
{
    const struct hd_op_request *req = hd_op_request(op);
    struct hd_ctx *ctx = hd_op_ctx(op);
    const struct hd_pci_addr *addr = req->addrs;
    const char *uuid = req->nmdevs == 1 ? req->mdevs[0] : NULL;
    struct hd_assignment_list *map = NULL, *sel = hd_map_new();
    struct hd_lockset *locks = NULL;
    struct hd_device *dev = NULL;
    const struct hd_assignment *a;
    struct hd_txn *t = NULL;
    int group = -1, r;

    if (sel == NULL || hd_txn_new(op, HD_JOP_RELEASE, req->vm, 0, &t) < 0) {
        hd_assignment_list_unref(sel);
        return -ENOMEM;
    }
    if (req->n + req->nmdevs != 1 || req->nnamed > 0) {
        r = hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "the emergency release takes one PCI "
                    "or mediated device");
        goto out;
    }
    if ((r = hd_map_read(ctx, &map)) < 0)
        goto out;
    r = uuid != NULL ? 0 : hd_device_open_fill(ctx, addr, HD_TXN_FILL_RELEASE, &dev);
    if (r < 0 && r != -ENODEV)
        goto out;
    a = forced_entry(map, req);
    if (uuid != NULL && a == NULL) {
        r = mdev_not_held(t, ctx, uuid);
        goto out;
    }
    if (dev == NULL && a == NULL) {
        char name[HD_PCI_ADDR_BUFSZ];
        r = hd_errr(ctx, -ENODEV, HD_REASON_NO_DEVICE, "%s: no such PCI device under %s, and "
                    "no record of it", hd_pci_addr_format(addr, name), hd_ctx_get_root(ctx));
        goto out;
    }
    group = a ? a->group : dev ? hd_device_get_iommu_group(dev) : -1;
    if (!hd_txn_dry_run(t) && group >= 0 &&
        (r = hd_lock_and_recover(ctx, &group, 1, NULL, 0, uuid == NULL ? addr : NULL,
                                 uuid == NULL ? 1 : 0, &locks, NULL)) < 0)
        goto out;
    hd_assignment_list_unref(map);
    map = NULL;
    if ((r = hd_map_read(ctx, &map)) < 0)
        goto out;
    /* Whatever the records say, the kernel's word stands: a device a process has open through
     * VFIO (a VM still running) is not reset or taken from under it, nor its node. */
    if (dev != NULL && ((r = hd_txn_refresh(dev)) < 0 ||
                        (r = hd_check_not_open(ctx, dev, "releasing it")) < 0))
        goto out;
    a = forced_entry(map, req);
    if (uuid != NULL && a == NULL) { /* dropped by another release meanwhile */
        r = mdev_not_held(t, ctx, uuid);
        goto out;
    }
    if (uuid != NULL && (r = hd_check_mdev_not_open(ctx, uuid, a->group, "releasing it")) < 0)
        goto out;
    if (a != NULL) {
        struct hd_assignment_list *rest = NULL;
        int lockfd = -1;
        if ((r = hd_map_add(sel, a)) < 0 ||
            (!hd_txn_dry_run(t) && (r = hd_lock_map(ctx, &lockfd)) < 0))
            goto out;
        if ((r = hd_map_read(ctx, &rest)) == 0) {
            for (size_t k = 0; k < a->nnodes; k++) {
                const struct hd_node_owner *was = &a->nodes[k];
                char from[32] = "", to[32];
                struct stat st;
                /* Said as a release says it, owner and mode now -> recorded; a node that is
                 * gone, or is as recorded already, has nothing to give back. One that cannot
                 * be read is given back all the same (its owner now unknown: ""). */
                int sr = node_keeper(rest, sel, was->path) ? -ENOENT
                                                           : hd_fs_stat(ctx, was->path, &st);
                if (sr == -ENOENT || (sr == 0 && st.st_uid == was->uid && st.st_gid == was->gid &&
                                      (st.st_mode & 07777) == was->mode))
                    continue;
                if (sr == 0)
                    owner_text(from, sizeof(from), st.st_uid, st.st_gid, st.st_mode & 0777);
                owner_text(to, sizeof(to), was->uid, was->gid, was->mode);
                hd_txn_note(t, "own", was->path, from, to);
                if (!hd_txn_dry_run(t) && hd_txn_set_owner(ctx, was) < 0) {
                    hd_warn(ctx, "%s: could not restore %s", a->name, a->nodes[k].path);
                    hd_txn_settle(t, "own", a->nodes[k].path, HD_STEP_FAILED);
                }
            }
        }
        hd_assignment_list_unref(rest);
        hd_unlock(lockfd);
        if (r < 0)
            goto out;
    }
    if (dev != NULL) {
        if (a != NULL)
            restore_record(ctx, dev, a, hd_txn_dry_run(t));
        hd_txn_refresh(dev);
        /* Neither held nor detached: nothing to give back, as a retry finds it; a device on a
         * stub with no record (the record lost) is still given back below. */
        if (a == NULL && !hd_device_on_stub(dev)) {
            note_nothing_forced(t, hd_device_get_name(dev), hd_device_get_driver_or(dev, "none"));
            r = 0;
            goto out;
        }
        /* The plan says what is done: the reset, and the driver the reattach goes to. */
        bool reset = hd_device_on_stub(dev) && hd_device_has_reset(dev);
        if (reset) {
            char *methods = NULL;
            /* Methods that cannot be read fail the reset below, not the way back. */
            if (hd_reset_methods(dev, &methods) < 0)
                hd_ctx_clear_error(ctx);
            hd_txn_note(t, "reset", hd_device_get_name(dev), "", methods ? methods : "");
            free(methods);
            /* Planned as the kernel will answer it; a check that fails leaves it planned. */
            if (hd_txn_dry_run(t) && plan_refused_reset(t, dev, HD_STEP_FAILED) < 0)
                hd_ctx_clear_error(ctx);
        }
        char *orig = NULL;
        bool to_stub = a != NULL && hd_assignment_from_stub(a) && hd_device_on_stub(dev);
        if (hd_device_get_original_driver(dev, &orig) < 0)
            orig = NULL;
        if (to_stub) /* back on the stub acquire took it from, with its override */
            hd_txn_note(t, "detach", hd_device_get_name(dev),
                        hd_device_get_driver_or(dev, "none"), a->driver);
        else
            hd_txn_note(t, "reattach", hd_device_get_name(dev),
                        hd_device_get_driver_or(dev, "none"),
                        orig == NULL ? "the kernel's choice" : hd_original_driver_words(orig));
        free(orig);
        if (!hd_txn_dry_run(t) && reset && hd_reset_apply(dev, 0, NULL) < 0) {
            /* Said by its step (not "done"); the device goes back all the same. */
            hd_info(ctx, "%s: reset failed: %s", hd_device_get_name(dev), hd_ctx_last_error(ctx));
            hd_ctx_clear_error(ctx);
            hd_txn_settle(t, "reset", hd_device_get_name(dev), HD_STEP_FAILED);
        } else if (!hd_txn_dry_run(t) && reset) { /* done, whatever fails after it */
            hd_txn_settle(t, "reset", hd_device_get_name(dev), HD_STEP_DONE);
        }
        if (!hd_txn_dry_run(t) && to_stub &&
            ((r = hd_bind_detach(dev, a->driver, HD_DETACH_EXACT)) < 0 ||
             (r = hd_txn_refresh(dev)) < 0 ||
             (hd_device_has_driver_override(dev) &&
              (r = hd_device_write_attr(dev, "driver_override",
                                        a->override[0] ? a->override : "\n")) < 0)))
            goto out;
        if (!hd_txn_dry_run(t) && !to_stub && (r = hd_bind_reattach(dev, 0, NULL)) < 0)
            goto out;
        /* Its VFs, as release makes them again (run again, the count it has is kept). */
        if (a != NULL && !to_stub && a->numvfs > 0) {
            char n[16];
            snprintf(n, sizeof(n), "%d", a->numvfs);
            hd_txn_note(t, "numvfs", hd_device_get_name(dev), "0", n);
            if (!hd_txn_dry_run(t) &&
                (r = hd_sriov_restore(ctx, hd_device_get_addr(dev), a->numvfs, a->autoprobe)) < 0)
                goto out;
        }
    }
    if (dev == NULL && a != NULL && a->kind == HD_ASSIGNMENT_PCI && !hd_txn_dry_run(t))
        hd_state_del(ctx, "drivers", a->name); /* gone: its driver record goes too */
    if (a != NULL) {
        char vm[HD_VM_ID_MAX + 1];
        hd_strlcpy(vm, a->vm, sizeof(vm));
        r = drop_entries(t, vm, sel);
    }
    if (r == 0 && op != NULL)
        hd_op_mark_steps(op, hd_txn_dry_run(t) ? HD_STEP_PLANNED : HD_STEP_DONE);
out:
    /* Nothing is undone: each step reads what it did, as a retry finds it. */
    if (r < 0 && !hd_txn_dry_run(t))
        hd_op_mark_stopped(op);
    hd_device_unref(dev);
    hd_assignment_list_unref(sel);
    hd_assignment_list_unref(map);
    hd_lockset_release(locks);
    hd_txn_free(t);
    return r;
}

/* ---- the calls before operations: each is one operation -------------------------------------- */

static int run_simple(struct hd_ctx *ctx, enum hd_op_kind kind, const char *vm,
                      const struct hd_pci_addr *addrs, size_t n, bool managed, uid_t uid,
                      gid_t gid, unsigned int flags)
{
    struct hd_op *op;
    int r = hd_op_new(ctx, kind, &op);

    if (r < 0)
        return r;
    hd_op_set_flags(op, flags | HD_OP_NO_NOTES); /* no report: nobody reads its notes */
    hd_op_set_owner(op, uid, gid);
    if (vm != NULL && (r = hd_op_set_vm(op, vm)) < 0)
        goto out;
    for (size_t i = 0; i < n && r == 0; i++)
        r = hd_op_add_device(op, &addrs[i], managed);
    if (r == 0)
        r = hd_op_run(op);
out:
    hd_op_unref(op);
    return r;
}

HD_EXPORT int hd_assign_acquire(struct hd_ctx *ctx, const char *vm,
                                const struct hd_pci_addr *addrs, size_t n, uid_t uid, gid_t gid,
                                unsigned int flags)
{
    unsigned int opflags = (flags & HD_ACQUIRE_GROUP ? (unsigned)HD_OP_GROUP : 0) |
                           (flags & HD_ACQUIRE_FORCE ? (unsigned)HD_OP_FORCE : 0);

    return run_simple(ctx, HD_OP_ACQUIRE, vm, addrs, n, !(flags & HD_ACQUIRE_UNMANAGED), uid,
                      gid, opflags);
}

HD_EXPORT int hd_assign_release(struct hd_ctx *ctx, const char *vm,
                                const struct hd_pci_addr *addrs, size_t n)
{
    return run_simple(ctx, HD_OP_RELEASE, vm, addrs, n, true, 0, 0, 0);
}

HD_EXPORT int hd_assign_release_force(struct hd_ctx *ctx, const struct hd_pci_addr *addr)
{
    return run_simple(ctx, HD_OP_RELEASE, NULL, addr, 1, true, 0, 0, HD_OP_FORCE);
}
