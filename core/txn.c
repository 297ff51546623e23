/* txn.c - the one transaction engine. Every command that changes the host (detach, reattach,
 * reset, numvfs, acquire, release, reserve) runs as a transaction here: lock the IOMMU groups it
 * touches (recovering what dead processes left on them), journal each step's intent (fsynced)
 * before its write, verify, commit (the map write for acquire/release, a "commit" line for the
 * rest), and on any failure undo every started step, newest first. A dry run goes through the
 * same planning and reports the same steps, but takes no lock and writes nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct hd_txn {
    struct hd_ctx *ctx;
    struct hd_op *op; /* where planned and done steps are reported */
    enum hd_jop kind;
    bool dry_run;
    char vm[HD_VM_ID_MAX + 1];
    struct hd_lockset *locks;
    struct hd_journal *j;
    int hold_fd; /* while holds: the hold on the journal (hd_journal_hold) */
    bool holds;
    bool lazy; /* HD_TXN_LAZY */
    /* How many of @j's steps its last flush that worked wrote: a step after them was never
     * journaled, so it never started and nothing undoes it. */
    size_t journaled;
    /* The reported step (its index among @op's) of each journaled one, so an undo's outcome
     * reaches the step it undid; SIZE_MAX for one not reported. */
    size_t *op_step_of;
    size_t nop_steps, capop_steps;
};

/* ---- shared helpers ------------------------------------------------------------------------ */

int hd_txn_refresh(struct hd_device *dev)
{
    return hd_device_fill_fields(
        dev, HD_TXN_FILL_BIND | (hd_device_has_filled(dev, HD_FILL_EXTRA) ? HD_FILL_EXTRA : 0u),
        true);
}

int hd_txn_set_owner(struct hd_ctx *ctx, const struct hd_node_owner *n)
{
    struct stat st;
    int fd = hd_fs_node_open(ctx, n->path, &st), r;

    if (fd < 0)
        return fd;
    r = hd_fs_node_set_owner(fd, n->uid, n->gid, n->mode);
    close(fd);
    return r;
}

/* A device whose detach stopped after driver_override was set but before the unbind: still on
 * its host driver, with an override that would send it to the stub at the next probe. */
static int clear_stale_override(struct hd_device *dev)
{
    if (hd_device_get_driver(dev) == NULL || hd_device_on_stub(dev) ||
        hd_device_get_driver_override(dev) == NULL ||
        !hd_driver_is_stub(hd_device_get_driver_override(dev)))
        return 0;
    hd_info(hd_device_get_ctx(dev), "%s: clearing the stale driver_override %s",
            hd_device_get_name(dev), hd_device_get_driver_override(dev));
    return hd_device_write_attr(dev, "driver_override", "\n");
}

/* ---- undo ---------------------------------------------------------------------------------- */

/* The flags of an undo's bind back onto the stub @dev was on: that one exactly. With no IOMMU
 * group, it was on a vfio driver through vfio's no-IOMMU mode, which its operation was asked
 * to use: while the mode is on, it goes back the same way. */
static unsigned int back_on_stub(struct hd_device *dev)
{
    return HD_DETACH_EXACT | (hd_device_get_iommu_group(dev) < 0 &&
                                      hd_vfio_noiommu_mode(hd_device_get_ctx(dev))
                                  ? HD_DETACH_NOIOMMU
                                  : 0u);
}

/* It was unbound: back to none, though a boot's record says the kernel's choice. The record,
 * so corrected, is the reattach's: @record and @flags (HD_BIND_RECORD or HD_BIND_NO_RECORD), so
 * it is read once. */
static int record_kernel_as_none(struct hd_device *dev, char *record, size_t size,
                                 unsigned int *flags)
{
    char *rec = NULL, override[HD_DRIVER_NAME_MAX];
    int r = hd_bind_read_record(dev, &rec, override, sizeof(override));

    if (r == 0 && strcmp(rec, HD_ORIGINAL_DRIVER_KERNEL) == 0 &&
        (r = hd_bind_put_record(dev, "", override)) == 0)
        rec[0] = '\0';
    if (r == 0)
        hd_bind_format_record(record, size, rec, override);
    *flags = r == 0 ? HD_BIND_RECORD : HD_BIND_NO_RECORD;
    free(rec);
    return r == -ENOENT ? 0 : r;
}

/* Back to the host driver (or to none) the record names; the record is put back first when a
 * crash came between the journal line and the record write. */
static int undo_detach(struct hd_device *dev, const struct hd_jstep *s)
{
    char *rec = NULL, record[HD_RECORD_MAX] = "";
    unsigned int flags = 0; /* the reattach reads the record */
    int r;

    if (s->from_known && !hd_driver_is_stub(s->from) &&
        hd_device_get_original_driver(dev, &rec) == -ENOENT && hd_device_on_stub(dev) &&
        (r = hd_state_put(hd_device_get_ctx(dev), "drivers", hd_device_get_name(dev), s->from)) < 0)
        return r;
    free(rec);
    if (s->from_known && s->from[0] &&
        hd_driver_is_stub(s->from)) {
        /* A move between stubs: back to the first one; the record stays as it was, none
         * included (a kill in the unbind leaves it unbound, and a bind from unbound records
         * "" where there was nothing). */
        r = hd_bind_detach(dev, s->from, back_on_stub(dev));
        if (r == 0 && s->record == HD_JREC_NONE)
            r = hd_state_del(hd_device_get_ctx(dev), "drivers", hd_device_get_name(dev));
        return r;
    }
    if (s->from_known && s->from[0] == '\0' &&
        (r = record_kernel_as_none(dev, record, sizeof(record), &flags)) < 0)
        return r;
    r = hd_bind_reattach(dev, flags, record);
    if (r == 0 && (r = hd_txn_refresh(dev)) == 0)
        r = clear_stale_override(dev);
    /* Killed between the record and the first sysfs write: the device never left its host
     * driver, and the record this step wrote must not outlive it. */
    if (r == 0 && s->from_known && s->record == HD_JREC_NONE && !hd_device_on_stub(dev))
        r = hd_state_del(hd_device_get_ctx(dev), "drivers", hd_device_get_name(dev));
    return r;
}

/* Back onto the stub it was on, with its record as it was. */
static int undo_reattach(struct hd_device *dev, const struct hd_jstep *s)
{
    char *rec = NULL;
    int r;

    if (!s->from_known) { /* a version 1 journal: it goes back to vfio-pci */
        if (!hd_device_is_on_vfio(dev))
            return hd_bind_detach(dev, "vfio-pci", 0);
        return clear_stale_override(dev);
    }
    if (s->record == HD_JREC_DRIVER && hd_device_get_original_driver(dev, &rec) == -ENOENT &&
        (r = hd_bind_put_record(dev, s->record_driver, s->record_override)) < 0)
        return r;
    free(rec);
    if (s->from[0] == '\0')
        return 0;
    r = hd_bind_detach(dev, s->from, back_on_stub(dev));
    if (r == 0 && s->record == HD_JREC_NONE)
        hd_state_del(hd_device_get_ctx(dev), "drivers",
                     hd_device_get_name(dev)); /* there was none before */
    return r;
}

/* A VF the count took, back with the count's undo (journaled after this step, so undone
 * before it): its record as it was, and it on the driver it was on. */
static int undo_forget(struct hd_device *dev, const struct hd_jstep *s)
{
    char *rec = NULL;
    int r = hd_device_get_original_driver(dev, &rec);

    free(rec);
    if (r == -ENOENT)
        r = hd_bind_put_record(dev, s->record_driver, s->record_override);
    if (r < 0 || s->from[0] == '\0' ||
        (hd_device_get_driver(dev) != NULL && strcmp(hd_device_get_driver(dev), s->from) == 0))
        return r;
    return hd_bind_detach(dev, s->from, back_on_stub(dev));
}

static int undo_step(struct hd_ctx *ctx, const struct hd_jstep *s)
{
    struct hd_device *dev;
    int r;

    switch (s->kind) {
    case HD_JSTEP_RESET:
        return 0;
    case HD_JSTEP_OWN:
        r = hd_txn_set_owner(ctx, &s->node);
        if (r == -ENOENT)
            return 0; /* the node went with the group's last vfio-pci member */
        if (r < 0)
            return hd_err(ctx, r, "restoring %s/%s to %u:%u %04o: %s", hd_ctx_get_root(ctx),
                          s->node.path, (unsigned)s->node.uid, (unsigned)s->node.gid,
                          (unsigned)s->node.mode, strerror(-r));
        return 0;
    case HD_JSTEP_NUMVFS:
        return hd_sriov_restore(ctx, &s->addr, s->old_numvfs, s->old_autoprobe);
    case HD_JSTEP_MDEV_CREATE:
    case HD_JSTEP_MDEV_REMOVE:
        return hd_mdev_undo(ctx, s);
    default:
        break;
    }
    /* Only what puts it back: an attribute no undo needs must not leave the host half-way. */
    r = hd_device_open_fill(ctx, &s->addr, HD_TXN_FILL_BIND, &dev);
    if (r == -ENODEV)
        return 0; /* unplugged (or a VF gone with its PF's count): nothing left to put back */
    if (r < 0)
        return r;
    if (s->kind == HD_JSTEP_DETACH)
        r = undo_detach(dev, s);
    else if (s->kind == HD_JSTEP_FORGET)
        r = undo_forget(dev, s);
    else if (s->kind == HD_JSTEP_REATTACH)
        r = undo_reattach(dev, s);
    else /* HD_JSTEP_OVERRIDE */
        r = hd_device_write_attr(dev, "driver_override", s->from[0] ? s->from : "\n");
    hd_device_unref(dev);
    return r;
}

/* Undo the first @nsteps steps of @j, newest first; a step whose undo failed ends not-undone
 * in @t's operation when @t is given. */
static int undo_all(struct hd_ctx *ctx, const struct hd_journal *j, size_t nsteps,
                    struct hd_txn *t)
{
    struct hd_saved_error first = {0};
    size_t all;
    const struct hd_jstep *steps = hd_journal_steps(j, &all);

    for (size_t i = nsteps < all ? nsteps : all; i > 0; i--) {
        int r = undo_step(ctx, &steps[i - 1]);
        if (r < 0 && first.err == 0)
            hd_saved_error_save(ctx, &first, r);
        if (r < 0 && t != NULL && t->op != NULL && i - 1 < t->nop_steps &&
            t->op_step_of[i - 1] != SIZE_MAX)
            hd_op_settle_step_at(t->op, t->op_step_of[i - 1], HD_STEP_NOT_UNDONE);
    }
    return first.err ? hd_saved_error_restore(ctx, &first) : 0;
}

int hd_txn_undo(struct hd_ctx *ctx, const struct hd_journal *j)
{
    return undo_all(ctx, j, SIZE_MAX, NULL);
}

bool hd_txn_committed(const struct hd_journal *j, const struct hd_assignment_list *map)
{
    enum hd_jop op = hd_journal_op(j);
    size_t ndevs;
    const struct hd_jdev *devs = hd_journal_devs(j, &ndevs);

    if (hd_journal_is_committed(j))
        return true;
    if (op != HD_JOP_ACQUIRE && op != HD_JOP_RELEASE)
        return false;
    /* The map write is the commit of acquire and release: it adds (acquire) or drops
     * (release) all devices at once, and nothing else can change those entries before this
     * journal is dealt with. */
    for (size_t i = 0; i < ndevs; i++) {
        const struct hd_assignment *a = hd_map_find_jdev(map, &devs[i]);
        bool there = a != NULL && strcmp(a->vm, hd_journal_vm(j)) == 0;
        if (there != (op == HD_JOP_ACQUIRE))
            return false;
    }
    return ndevs > 0 || op == HD_JOP_RELEASE;
}

/* ---- locking ------------------------------------------------------------------------------- */

int hd_lock_and_recover(struct hd_ctx *ctx, const int *groups, size_t n,
                        const struct hd_pci_addr *addrs, size_t naddrs,
                        const struct hd_pci_addr *covered, size_t ncovered,
                        struct hd_lockset **locks, int *busy)
{
    uint64_t deadline = hd_now_ms() + hd_ctx_get_timeout_ms(ctx);
    unsigned int delay = 1;

    for (;;) {
        int r = hd_lock_groups(ctx, groups, n, locks, busy);
        if (r == 0 && naddrs > 0 && (r = hd_lockset_add_devices(ctx, *locks, addrs, naddrs)) < 0)
            *locks = hd_lockset_release(*locks);
        if (r == 0 && (r = hd_lockset_cover_devices(*locks, covered, ncovered)) < 0)
            *locks = hd_lockset_release(*locks);
        if (r < 0)
            return r;
        r = hd_recover_held(ctx, *locks, NULL, NULL);
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

int *hd_jdev_groups(const struct hd_jdev *devs, size_t n, size_t *count)
{
    int *groups = calloc(n + 1, sizeof(*groups));

    *count = 0;
    if (groups == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        bool seen = devs[i].group < 0;
        for (size_t k = 0; k < *count && !seen; k++)
            seen = groups[k] == devs[i].group;
        if (!seen)
            groups[(*count)++] = devs[i].group;
    }
    return groups;
}

void hd_jdev_add_parent(struct hd_ctx *ctx, struct hd_jdev *j, size_t *n,
                        enum hd_assignment_kind kind, const char *name, const char *pci_name)
{
    struct hd_jdev *d = &j[*n];
    struct hd_pci_addr addr;
    struct hd_device *dev;
    int group;

    if (hd_pci_addr_parse(pci_name, &addr) < 0 || hd_device_open(ctx, &addr, &dev) < 0) {
        hd_ctx_clear_error(ctx); /* no PCI device to wait for: the map lock orders the rest */
        return;
    }
    group = hd_device_get_iommu_group(dev);
    hd_device_unref(dev);
    if (group < 0)
        return;
    d->addr = addr;
    d->group = group;
    d->kind = kind;
    d->on_parent = true;
    hd_strlcpy(d->name, name, sizeof(d->name));
    (*n)++;
}

/* Group @busy, which the operation could not lock, was wanted only for the device that lives
 * on a PCI device of it (@devs' on_parent entries): the message says so, rather than naming a
 * group the user did not ask about. */
static int busy_for_parent(struct hd_ctx *ctx, const struct hd_jdev *devs, size_t n, int busy)
{
    const struct hd_jdev *via = NULL;
    char pci[HD_PCI_ADDR_BUFSZ], whose[HD_PATH_MAX];

    for (size_t i = 0; i < n; i++) {
        if (devs[i].group == busy && !devs[i].on_parent)
            return -EBUSY; /* its own: the message as it is */
        if (devs[i].group == busy && via == NULL)
            via = &devs[i];
    }
    if (via == NULL)
        return -EBUSY;
    hd_pci_addr_format(&via->addr, pci);
    snprintf(whose, sizeof(whose), "%s%s: its %s %s",
             via->kind == HD_ASSIGNMENT_MDEV ? "mediated device " : "", via->name,
             via->kind == HD_ASSIGNMENT_MDEV ? "parent" : "controller", pci);
    return hd_lock_busy(ctx, busy, whose);
}

/* The addresses of @devs' PCI devices (not those only locked for a device on them): @all of
 * them, or those locked by address (hd_jdev_addrs_to_lock()). */
static struct hd_pci_addr *jdev_addrs(struct hd_ctx *ctx, const struct hd_jdev *devs, size_t n,
                                      bool all, size_t *naddrs)
{
    struct hd_pci_addr *addrs = calloc(n + 1, sizeof(*addrs));

    *naddrs = 0;
    for (size_t i = 0; addrs != NULL && i < n; i++) {
        if (devs[i].kind == HD_ASSIGNMENT_PCI && !devs[i].on_parent &&
            (all || devs[i].group < 0 ||
             (!devs[i].iommu_group && hd_group_number_is_noiommu(ctx, devs[i].group))))
            addrs[(*naddrs)++] = devs[i].addr;
    }
    return addrs;
}

/* A device with no IOMMU group (vfio's no-IOMMU mode makes one only when it binds) has nothing
 * stable to lock but its address; one in such a group is locked so too, or an operation that
 * found its group made could run beside the detach still making it. */
struct hd_pci_addr *hd_jdev_addrs_to_lock(struct hd_ctx *ctx, const struct hd_jdev *devs,
                                          size_t n, size_t *naddrs)
{
    return jdev_addrs(ctx, devs, n, false, naddrs);
}

int hd_txn_lock(struct hd_txn *t, const struct hd_jdev *devs, size_t n)
{
    size_t ngroups, naddrs, nall;
    int *groups = hd_jdev_groups(devs, n, &ngroups), r = 0, busy = -1;

    if (groups == NULL)
        return -ENOMEM;
    /* Only a lock asks which groups vfio's no-IOMMU mode made: a dry run takes none. Every
     * device is covered: a dead operation's log naming it under a group it had before (gone
     * since, or another) is ours to recover before we write, not a recover's to run beside us,
     * holding other locks. */
    if (!t->dry_run && t->locks == NULL) {
        struct hd_pci_addr *addrs = hd_jdev_addrs_to_lock(t->ctx, devs, n, &naddrs);
        struct hd_pci_addr *all = jdev_addrs(t->ctx, devs, n, true, &nall);
        r = addrs == NULL || all == NULL
                ? -ENOMEM
                : hd_lock_and_recover(t->ctx, groups, ngroups, addrs, naddrs, all, nall,
                                      &t->locks, &busy);
        free(addrs);
        free(all);
    }
    if (r == -EBUSY && busy >= 0)
        r = busy_for_parent(t->ctx, devs, n, busy);
    /* After recovering: what it set aside counts too. */
    if (r == 0)
        r = hd_journal_check_damaged(t->ctx, groups, ngroups);
    free(groups);
    return r;
}

/* ---- the transaction ----------------------------------------------------------------------- */

int hd_txn_new(struct hd_op *op, enum hd_jop kind, const char *vm, unsigned int flags,
               struct hd_txn **out)
{
    struct hd_txn *t = calloc(1, sizeof(*t));

    *out = t;
    if (t == NULL)
        return -ENOMEM;
    t->ctx = hd_op_ctx(op);
    t->op = op;
    t->kind = kind;
    t->dry_run = hd_op_request(op)->flags & HD_OP_DRY_RUN;
    hd_strlcpy(t->vm, vm != NULL ? vm : "", sizeof(t->vm));
    t->hold_fd = -1;
    t->lazy = flags & HD_TXN_LAZY;
    return 0;
}

void hd_txn_free(struct hd_txn *t)
{
    if (t != NULL)
        free(t->op_step_of);
    free(t);
}

struct hd_ctx *hd_txn_ctx(const struct hd_txn *t)
{
    return t->ctx;
}

bool hd_txn_dry_run(const struct hd_txn *t)
{
    return t->dry_run;
}

const char *hd_txn_vm(const struct hd_txn *t)
{
    return t->vm;
}

bool hd_txn_holds_group(const struct hd_txn *t, int group)
{
    return hd_lockset_holds(t->locks, group);
}

const struct hd_jstep *hd_txn_find_own(const struct hd_txn *t, const char *path)
{
    return hd_journal_find_own(t->j, path);
}

/* In a writer child, once its write returned and before its caller hears of it: the
 * operation's hold came along with the fork, and held the journal while the write was in the
 * kernel (the caller's closing its own copy does not end it); this copy goes now, so a caller
 * that has the result and then gives up finds no write of its own in the way. */
static void writer_end(struct hd_ctx *ctx, void *data)
{
    struct hd_txn *t = data;

    (void)ctx;
    if (t->holds)
        close(t->hold_fd);
    t->holds = false;
    t->hold_fd = -1;
}

/* In a writer child whose caller gave up on it (a timeout) or died, once its write returned:
 * it holds the journal's and the groups' locks (inherited), so nobody else can be recovering
 * it. The last writer of the operation to get here undoes the whole transaction as recover
 * would, and ends the journal; the others leave it to that one. */
static void writer_abandoned(struct hd_ctx *ctx, void *data)
{
    struct hd_txn *t = data;

    hd_ctx_set_writer(ctx, NULL, NULL); /* an undo write that hangs in turn is left to recover */
    if (t->j != NULL && hd_journal_last(ctx, t->j, &t->hold_fd) &&
        undo_all(ctx, t->j, t->journaled, NULL) == 0)
        hd_journal_end(ctx, t->j);
}

static const struct hd_writer_hooks txn_writer = {writer_end, writer_abandoned};

/* The operation's hold on its journal, once the file is made. */
static int hold(struct hd_txn *t)
{
    int r = hd_journal_hold(t->ctx, t->j);

    if (r < 0) {
        r = hd_err(t->ctx, r, "holding the intent log %s/%s: %s", hd_ctx_get_root(t->ctx),
                   hd_journal_path(t->j), strerror(-r));
        hd_journal_end(t->ctx, t->j);
        t->j = NULL;
        return r;
    }
    t->hold_fd = r;
    t->holds = true;
    return 0;
}

int hd_txn_begin(struct hd_txn *t, const struct hd_jdev *devs, size_t n)
{
    int r;

    if (t->dry_run)
        return 0;
    r = t->lazy ? hd_journal_prepare(t->ctx, t->kind, t->vm[0] ? t->vm : NULL, devs, n, &t->j)
                : hd_journal_begin(t->ctx, t->kind, t->vm[0] ? t->vm : NULL, devs, n, &t->j);
    if (r == 0 && !t->lazy)
        r = hold(t);
    if (r == 0) {
        hd_ctx_set_writer(t->ctx, &txn_writer, t);
    }
    return r;
}

static void report(struct hd_txn *t, const struct hd_jstep *s)
{
    char device[HD_NODE_PATH_MAX], from[HD_DRIVER_NAME_MAX + 16], to[HD_DRIVER_NAME_MAX + 16];
    const char *kind = "";

    if (t->op == NULL)
        return;
    hd_pci_addr_format(&s->addr, device);
    from[0] = to[0] = '\0';
    switch (s->kind) {
    case HD_JSTEP_DETACH:
        kind = "detach";
        snprintf(from, sizeof(from), "%s", s->from[0] ? s->from : "none");
        snprintf(to, sizeof(to), "%s", s->to);
        break;
    case HD_JSTEP_REATTACH:
        kind = "reattach";
        snprintf(from, sizeof(from), "%s", s->from[0] ? s->from : "none");
        snprintf(to, sizeof(to), "%s", s->record != HD_JREC_DRIVER ? s->to
                                       : hd_original_driver_words(s->record_driver));
        break;
    case HD_JSTEP_RESET:
        kind = "reset";
        hd_strlcpy(to, s->to, sizeof(to)); /* the methods the kernel will try */
        break;
    case HD_JSTEP_OWN:
        kind = "own";
        hd_strlcpy(device, s->node.path, sizeof(device));
        snprintf(from, sizeof(from), "%u:%u %04o", (unsigned)s->node.uid,
                 (unsigned)s->node.gid, (unsigned)s->node.mode);
        hd_strlcpy(to, s->to, sizeof(to));
        break;
    case HD_JSTEP_NUMVFS:
        kind = "numvfs";
        snprintf(from, sizeof(from), "%d", s->old_numvfs);
        hd_strlcpy(to, s->to, sizeof(to));
        break;
    case HD_JSTEP_OVERRIDE:
        kind = "override";
        snprintf(from, sizeof(from), "%s", s->from[0] ? s->from : "none");
        snprintf(to, sizeof(to), "%s", s->to[0] ? s->to : "none");
        break;
    case HD_JSTEP_FORGET:
        kind = "forget"; /* from: the driver it is on; to: the host driver its record named */
        snprintf(from, sizeof(from), "%s", s->from[0] ? s->from : "none");
        snprintf(to, sizeof(to), "%s", hd_original_driver_words(s->record_driver));
        break;
    case HD_JSTEP_MDEV_CREATE:
    case HD_JSTEP_MDEV_REMOVE:
        kind = s->kind == HD_JSTEP_MDEV_CREATE ? "mdev-create" : "mdev-remove";
        hd_strlcpy(device, s->mdev_uuid, sizeof(device));
        hd_strlcpy(from, s->mdev_parent, sizeof(from));
        hd_strlcpy(to, s->mdev_type, sizeof(to));
        break;
    }
    hd_op_report_step(t->op, kind, device, from, to);
}

int hd_txn_step(struct hd_txn *t, const struct hd_jstep *s)
{
    int r;

    if ((r = hd_txn_defer(t, s)) == 1 && (r = hd_txn_flush(t)) == 0)
        r = 1;
    return r;
}

/* Journal step @i is the operation's step @op_step (SIZE_MAX: none). */
static int map_step(struct hd_txn *t, size_t i, size_t op_step)
{
    while (i >= t->capop_steps) {
        size_t *v = hd_array_grow(t->op_step_of, &t->capop_steps, i, sizeof(*v), 16);
        if (v == NULL)
            return -ENOMEM;
        t->op_step_of = v;
    }
    while (t->nop_steps < i)
        t->op_step_of[t->nop_steps++] = SIZE_MAX;
    t->op_step_of[i] = op_step;
    t->nop_steps = i + 1;
    return 0;
}

int hd_txn_defer(struct hd_txn *t, const struct hd_jstep *s)
{
    size_t before = t->op != NULL ? hd_op_get_step_count(t->op) : 0, nsteps;
    int r;

    report(t, s);
    if (t->dry_run)
        return 0;
    if ((r = hd_journal_defer(t->ctx, t->j, s)) < 0)
        return hd_err(t->ctx, r, "writing the intent log %s/%s: %s", hd_ctx_get_root(t->ctx),
                      hd_journal_path(t->j), strerror(-r));
    hd_journal_steps(t->j, &nsteps);
    if ((r = map_step(t, nsteps - 1,
                      t->op != NULL && hd_op_get_step_count(t->op) > before ? before
                                                                             : SIZE_MAX)) < 0)
        return r;
    return 1;
}

int hd_txn_defer_vfs_go(struct hd_txn *t, const struct hd_device *pf)
{
    return hd_txn_defer_vfs_go_planned(t, pf, -1);
}

int hd_txn_defer_vfs_go_planned(struct hd_txn *t, const struct hd_device *pf, int planned)
{
    struct hd_jstep s = {.kind = HD_JSTEP_NUMVFS, .addr = *hd_device_get_addr(pf), .to = "0"};
    int numvfs = planned >= 0 ? planned : hd_device_get_sriov_numvfs(pf);

    if (hd_device_get_physfn(pf) != NULL || numvfs <= 0)
        return 1;
    s.old_numvfs = numvfs;
    s.old_autoprobe = hd_device_get_sriov_autoprobe(pf);
    return hd_txn_defer(t, &s);
}

int hd_txn_defer_mdevs_go(struct hd_txn *t, const struct hd_device *parent, bool forced)
{
    struct hd_mdev_list *l;
    char path[HD_PATH_MAX];
    int r;

    /* Unforced, the host-use check has refused a parent with mediated devices already (it
     * listed them): nothing to look up, on the path every detach takes. Only a host driver
     * makes them, and registers their parent in the mdev_bus class: any other device has none
     * to lose, and costs no listing. */
    if (!forced || hd_device_get_driver(parent) == NULL || hd_device_on_stub(parent) ||
        hd_path(path, sizeof(path), "sys/class/mdev_bus/%s", hd_device_get_name(parent)) < 0 ||
        hd_fs_exists(t->ctx, path) <= 0)
        return 1;
    if ((r = hd_mdev_list_new(t->ctx, &l)) < 0)
        return r;
    r = 1;
    for (size_t i = 0; i < hd_mdev_list_count(l) && r >= 0; i++) {
        struct hd_jstep s = {.kind = HD_JSTEP_MDEV_REMOVE};
        if (strcmp(hd_mdev_list_get_parent(l, i), hd_device_get_name(parent)) != 0)
            continue;
        hd_strlcpy(s.mdev_uuid, hd_mdev_list_get_uuid(l, i), sizeof(s.mdev_uuid));
        hd_strlcpy(s.mdev_parent, hd_mdev_list_get_parent(l, i), sizeof(s.mdev_parent));
        hd_strlcpy(s.mdev_type, hd_mdev_list_get_type(l, i), sizeof(s.mdev_type));
        r = hd_txn_defer(t, &s);
    }
    hd_mdev_list_unref(l);
    return r;
}

/* The steps after the last flush that worked (it failed for them): their intent never
 * reached the journal, so their writes were never made. */
static void settle_unjournaled(struct hd_txn *t)
{
    for (size_t i = t->journaled; t->op != NULL && i < t->nop_steps; i++) {
        if (t->op_step_of[i] != SIZE_MAX)
            hd_op_settle_step_at(t->op, t->op_step_of[i], HD_STEP_NOT_RUN);
    }
}

int hd_txn_flush(struct hd_txn *t)
{
    bool made;
    int r;

    if (t->dry_run || t->j == NULL)
        return 0;
    made = hd_journal_is_made(t->j);
    if ((r = hd_journal_flush(t->ctx, t->j)) < 0) {
        /* The flush that makes the file failed: nothing was written, no step will run. The
         * abort finds no journal to undo, so the steps end here, as after any failure. */
        if (!made && t->op != NULL) {
            settle_unjournaled(t);
            hd_op_mark_steps(t->op, HD_STEP_UNDONE);
        }
        return r;
    }
    hd_journal_steps(t->j, &t->journaled);
    return made || !hd_journal_is_made(t->j) ? 0 : hold(t);
}

void hd_txn_note(struct hd_txn *t, const char *kind, const char *device, const char *from,
                 const char *to)
{
    if (t->op != NULL)
        hd_op_report_note(t->op, kind, device, from, to);
}

void hd_txn_settle(struct hd_txn *t, const char *action, const char *device, int state)
{
    if (t->op != NULL)
        hd_op_settle_step(t->op, action, device, state);
}

void hd_txn_arrived(struct hd_txn *t, const char *action, const char *device, const char *to)
{
    if (t->op != NULL)
        hd_op_step_arrived(t->op, action, device, to);
}

void hd_txn_settle_resets(struct hd_txn *t, const struct hd_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->v[i].kind == HD_TASK_RESET && b->v[i].ran && b->v[i].result == 1)
            hd_txn_settle(t, "reset", hd_device_get_name(b->v[i].dev), HD_STEP_DEFERRED);
    }
}

void hd_txn_step_failed(struct hd_txn *t)
{
    size_t n;

    /* A dry run wrote nothing that could fail. */
    if (t->op == NULL || t->dry_run || t->j == NULL)
        return;
    hd_journal_steps(t->j, &n);
    if (n > 0 && n <= t->nop_steps && t->op_step_of[n - 1] != SIZE_MAX)
        hd_op_settle_step_at(t->op, t->op_step_of[n - 1], HD_STEP_FAILED);
}

static const char *task_action(enum hd_task_kind kind)
{
    switch (kind) {
    case HD_TASK_REATTACH:
        return "reattach";
    case HD_TASK_RESET:
        return "reset";
    default:
        return "detach"; /* a reservation's bind is journaled as a detach */
    }
}

int hd_txn_run_batch(struct hd_txn *t, struct hd_batch *b, int planned)
{
    int r = planned < 0 ? planned : hd_batch_run(t->ctx, b);

    if (t->op == NULL)
        return r;
    /* A reset done stays done whatever fails after it: nothing puts a device's state back. */
    for (size_t i = 0; i < b->n; i++) {
        if (b->v[i].kind == HD_TASK_RESET && b->v[i].ran && b->v[i].result == 0)
            hd_txn_settle(t, "reset", hd_device_get_name(b->v[i].dev), HD_STEP_DONE);
    }
    /* Worked; or refused before any write, every step planned, as the abort leaves them (or
     * settled by the flush that failed to make the journal). */
    if (r >= 0 || t->dry_run || t->j == NULL || !hd_journal_is_made(t->j))
        return r;
    /* A task never started wrote nothing, though its step was journaled (and is undone as
     * a no-op): not-run, whether its batch stopped at another's failure or never ran. */
    for (size_t i = 0; i < b->n; i++) {
        const struct hd_task *k = &b->v[i];
        if (!k->ran)
            hd_op_settle_unrun(t->op, task_action(k->kind), hd_device_get_name(k->dev));
        else if (k->result < 0)
            hd_txn_settle(t, task_action(k->kind), hd_device_get_name(k->dev), HD_STEP_FAILED);
    }
    return r;
}

static void txn_release(struct hd_txn *t)
{
    void *writer_data;

    hd_ctx_get_writer(t->ctx, &writer_data);
    if (writer_data == t)
        hd_ctx_set_writer(t->ctx, NULL, NULL);
    if (t->holds)
        close(t->hold_fd);
    t->holds = false;
    t->locks = hd_lockset_release(t->locks);
}

int hd_txn_drop_at_commit(struct hd_txn *t, const char *dir, const char *name)
{
    int r;

    if (t->dry_run || t->j == NULL)
        return 0;
    if ((r = hd_journal_defer_drop(t->ctx, t->j, dir, name)) < 0)
        return hd_err(t->ctx, r, "writing the intent log %s/%s: %s", hd_ctx_get_root(t->ctx),
                      hd_journal_path(t->j), strerror(-r));
    return 0;
}

int hd_txn_commit(struct hd_txn *t)
{
    int r = 0;

    if (t->j != NULL) {
        r = hd_journal_commit(t->ctx, t->j);
        if (r < 0)
            return hd_txn_abort(t, r);
        /* Committed, still under the locks: no undo can want the record any more, and no
         * other operation has written it meanwhile. Killed before this, recover drops it. */
        const char *dir, *name;
        if (hd_journal_drop(t->j, &dir, &name))
            hd_state_del(t->ctx, dir, name);
        hd_journal_end(t->ctx, t->j);
        t->j = NULL;
    }
    if (t->op != NULL)
        hd_op_mark_steps(t->op, t->dry_run ? HD_STEP_PLANNED : HD_STEP_DONE);
    txn_release(t);
    return 0;
}

int hd_txn_abort(struct hd_txn *t, int err)
{
    struct hd_ctx *ctx = t->ctx;
    struct hd_saved_error why;

    hd_saved_error_save(ctx, &why, err);
    if (t->j == NULL || !hd_journal_is_made(t->j)) { /* nothing was written (or a dry run) */
        t->j = hd_journal_close(t->j);
        txn_release(t);
        return hd_saved_error_restore(ctx, &why);
    }
    /* Bad input met once writing began (what sysfs holds, read again after a write) is no
     * longer "nothing changed": the operation failed and is undone. */
    if (why.reason == HD_REASON_INVALID)
        why.reason = HD_REASON_FAILED;
    if (err == -ETIMEDOUT && !(t->holds && hd_journal_last(ctx, t->j, &t->hold_fd))) {
        t->holds = false;
        /* A write still runs in the kernel; its writer child holds the journal's lock until
         * it returns, and the last writer to return puts everything back. */
        t->j = hd_journal_close(t->j);
        txn_release(t);
        return hd_errr(ctx, err, HD_REASON_TIMEOUT, "%s; everything is put back as soon "
                       "as it returns", why.msg);
    }
    /* Every write has returned (a timed-out one meanwhile too): the undo is ours. Its own
     * writers hold the journal beside us again. */
    if (err == -ETIMEDOUT)
        hd_journal_rehold(t->hold_fd);
    settle_unjournaled(t);
    if (undo_all(ctx, t->j, t->journaled, t) < 0) {
        char undo[512];
        hd_strlcpy(undo, hd_ctx_last_error(ctx), sizeof(undo));
        t->j = hd_journal_close(t->j);
        if (t->op != NULL) /* the others are back */
            hd_op_mark_steps(t->op, HD_STEP_UNDONE);
        txn_release(t);
        return hd_errr(ctx, err, why.reason, "%s; undoing it failed too (%s): the intent log "
                       "stays for recover", why.msg, undo);
    }
    hd_journal_end(ctx, t->j);
    t->j = NULL;
    if (t->op != NULL)
        hd_op_mark_steps(t->op, HD_STEP_UNDONE);
    txn_release(t);
    return hd_saved_error_restore(ctx, &why);
}
