/* recover.c - deal with what killed processes left: a journal nobody holds belongs to an
 * operation that died half-way. If it reached its commit (its commit line, or for acquire and
 * release the map write), it is finished (only the journal goes); otherwise every step it
 * started is undone, newest first, so the host is as it was before that operation began. A
 * journal that cannot be read is set aside (journal.c), blocking only the groups it names. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/file.h>
#include <unistd.h>

#include "internal.h"

/* Of what an operation on @j's devices locks, what this process does not hold yet: the groups
 * @j names, and the devices such an operation locks by address now. A group @j names that is
 * gone is none now (vfio's no-IOMMU mode's go as their device leaves vfio-pci; a real one
 * lasts as long as its device): an operation on its device locks it by address. */
static int lock_missing_groups(struct hd_ctx *ctx, const struct hd_journal *j,
                               const struct hd_lockset *held, struct hd_lockset **locks)
{
    char path[HD_PATH_MAX];
    size_t ndevs, ngroups = 0, naddrs = 0, n = 0, k = 0;
    const struct hd_jdev *journaled = hd_journal_devs(j, &ndevs);
    struct hd_jdev *now = calloc(ndevs + 1, sizeof(*now));
    int *groups = hd_jdev_groups(journaled, ndevs, &ngroups);
    struct hd_pci_addr *addrs = NULL;
    int r = -ENOMEM;

    *locks = NULL;
    for (size_t i = 0; now != NULL && i < ndevs; i++) {
        now[i] = journaled[i];
        if (now[i].group >= 0 &&
            hd_path(path, sizeof(path), "sys/kernel/iommu_groups/%d", now[i].group) == 0 &&
            hd_fs_exists(ctx, path) == 0)
            now[i].group = -1;
    }
    if (now == NULL || groups == NULL ||
        (addrs = hd_jdev_addrs_to_lock(ctx, now, ndevs, &naddrs)) == NULL)
        goto out;
    for (size_t i = 0; i < ngroups; i++) {
        if (!hd_lockset_holds(held, groups[i]))
            groups[n++] = groups[i];
    }
    for (size_t i = 0; i < naddrs; i++) {
        if (!hd_lockset_holds_device(held, &addrs[i]))
            addrs[k++] = addrs[i];
    }
    r = hd_lock_groups(ctx, groups, n, locks, NULL);
    if (r == 0 && k > 0 && (r = hd_lockset_add_devices(ctx, *locks, addrs, k)) < 0)
        *locks = hd_lockset_release(*locks);
out:
    free(now);
    free(groups);
    free(addrs);
    return r;
}

static bool touches_held(const struct hd_journal *j, const struct hd_lockset *held)
{
    size_t ndevs;
    const struct hd_jdev *devs = hd_journal_devs(j, &ndevs);

    /* A device held by address, or covered under its group's lock, is touched whatever group
     * the journal gave it: one it was in when journaled may be gone since (or renumbered by
     * a replug), or made by vfio's no-IOMMU mode. */
    for (size_t i = 0; i < ndevs; i++) {
        if ((devs[i].group >= 0 && hd_lockset_holds(held, devs[i].group)) ||
            (devs[i].kind == HD_ASSIGNMENT_PCI && !devs[i].on_parent &&
             hd_lockset_covers_device(held, &devs[i].addr)))
            return true;
    }
    return false;
}

static bool busy_touches_held(struct hd_ctx *ctx, const char *name,
                              const struct hd_lockset *held)
{
    struct hd_journal *j;
    bool touches;

    if (hd_journal_peek(ctx, name, &j) < 0)
        return false; /* gone, or a temporary one: no sysfs write of its own yet */
    touches = touches_held(j, held);
    hd_journal_close(j);
    return touches;
}

/* Step @action of intent log @name for @report (NULL: none), in @state: from, its operation
 * and VM; to, how many steps it started. The dry run reports the same (hd_ops_recover()). */
static void report_journal(struct hd_op *report, const char *action, const char *name,
                           const struct hd_journal *j, int state)
{
    char what[HD_VM_ID_MAX + 16] = "", steps[32] = "";

    if (report == NULL)
        return;
    if (j != NULL && !hd_journal_is_tmp(j)) {
        const char *vm = hd_journal_vm(j);
        size_t nsteps;
        snprintf(what, sizeof(what), "%s%s%s", hd_jop_names[hd_journal_op(j)], vm[0] ? " " : "",
                 vm);
        hd_journal_steps(j, &nsteps);
        snprintf(steps, sizeof(steps), "%zu step%s", nsteps, nsteps == 1 ? "" : "s");
    }
    hd_op_report_step(report, action, name, what, steps);
    hd_op_mark_steps(report, state);
}

/* 1 dealt with, 0 left alone (not ours now), -errno. */
static int recover_one(struct hd_ctx *ctx, const char *name, struct hd_journal *j,
                       const struct hd_lockset *held, struct hd_op *report)
{
    struct hd_assignment_list *map = NULL;
    struct hd_lockset *locks = NULL;
    const char *action = "undo";
    size_t nsteps;
    int r;

    if (hd_journal_is_tmp(j)) {
        report_journal(report, "drop", name, j, HD_STEP_DONE);
        hd_journal_end(ctx, j); /* died before its first write */
        return 1;
    }
    if (held != NULL && !touches_held(j, held)) {
        hd_journal_close(j);
        return 0;
    }
    if ((r = lock_missing_groups(ctx, j, held, &locks)) < 0 || (r = hd_map_read(ctx, &map)) < 0)
        goto out;
    if (hd_txn_committed(j, map)) {
        const char *dir, *rec;
        action = "finish";
        hd_info(ctx, "%s: %s %s had committed; dropping its journal", hd_journal_path(j),
                hd_jop_names[hd_journal_op(j)], hd_journal_vm(j));
        /* Killed between its commit line and the removal of the record its commit drops
         * (a PF's autoprobe record, given back by a count of 0): that record goes now, or it
         * would claim a state hostdev no longer keeps. */
        if (hd_journal_drop(j, &dir, &rec))
            r = hd_state_del(ctx, dir, rec);
    } else {
        hd_journal_steps(j, &nsteps);
        hd_info(ctx, "%s: undoing an unfinished %s %s (%zu step%s)", hd_journal_path(j),
                hd_jop_names[hd_journal_op(j)], hd_journal_vm(j), nsteps, nsteps == 1 ? "" : "s");
        r = hd_txn_undo(ctx, j);
    }
out:
    report_journal(report, action, name, j, r == 0 ? HD_STEP_DONE : HD_STEP_FAILED);
    if (r == 0) {
        hd_journal_end(ctx, j);
        r = 1;
    } else {
        hd_journal_close(j); /* kept for the next try */
    }
    hd_assignment_list_unref(map);
    hd_lockset_release(locks);
    return r;
}

/* The intent logs set aside before this run, @n of them, as one step of @report (NULL:
 * none): they stay for a person to check. */
static void report_damaged_dir(struct hd_op *report, unsigned int n)
{
    char count[32];

    if (report == NULL)
        return;
    snprintf(count, sizeof(count), "%u", n);
    hd_op_report_step(report, "damaged", "damaged/", "", count);
    hd_op_mark_steps(report, HD_STEP_PLANNED);
}

/* What is left for a person or for later, worded alike by the run and (@dry_run) its plan:
 * @damaged intent logs that cannot be read, or one a live process still holds (@busy). */
static int left_over(struct hd_ctx *ctx, unsigned int damaged, bool busy, bool dry_run)
{
    if (damaged > 0)
        return hd_errr(ctx, -EBADMSG, HD_REASON_BLOCKED, "%u intent log%s could not be read and "
                       "%s in %s/%s/damaged: check the devices %s names by hand, then remove %s",
                       damaged, damaged == 1 ? "" : "s",
                       dry_run ? "would be" : damaged == 1 ? "is" : "are", hd_ctx_get_root(ctx),
                       hd_ctx_get_state_dir(ctx), damaged == 1 ? "it" : "each",
                       damaged == 1 ? "it" : "them");
    if (busy)
        return hd_err(ctx, -EBUSY, "another hostdev operation is still running (or an unbind "
                      "it started still hangs in the kernel); %s alone",
                      dry_run ? "it would be left" : "left");
    return 0;
}

int hd_recover_held(struct hd_ctx *ctx, const struct hd_lockset *held, unsigned int *count,
                    struct hd_op *report)
{
    char **names;
    size_t n;
    bool busy = false, blocked = false;
    unsigned int damaged = 0, set_aside = 0;
    int first = 0, r;

    if (count != NULL)
        *count = 0;
    if ((r = hd_journal_list(ctx, &names, &n)) < 0)
        return hd_err(ctx, r, "reading the intent logs: %s", strerror(-r));
    for (size_t i = 0; i < n; i++) {
        struct hd_journal *j;
        r = hd_journal_claim(ctx, names[i], &j);
        if (r == -EBUSY) {
            /* A live operation, or its unbind still hangs in the kernel, or another process
             * recovering it. Under our group locks only the last can be about our groups:
             * it waits for us, and we must not work on what it has not undone yet. */
            if (held != NULL && busy_touches_held(ctx, names[i], held)) {
                blocked = true;
            } else {
                struct hd_journal *peeked = NULL;
                busy = true;
                if (report != NULL && hd_journal_peek(ctx, names[i], &peeked) < 0)
                    peeked = NULL;
                report_journal(report, "busy", names[i], peeked, HD_STEP_PLANNED);
                hd_journal_close(peeked);
            }
            continue;
        }
        if (r == -ENOENT || r == -EAGAIN)
            continue; /* finished while we looked, or just being created */
        if (r == -EBADMSG) {
            /* Unreadable: nothing can be undone from it, and it must not stop operations on
             * groups it does not name. Aside, it holds back only the groups it names. */
            if (hd_journal_set_aside(ctx, j) == 0) {
                set_aside++;
                report_journal(report, "damaged", names[i], NULL, HD_STEP_DONE);
            }
            hd_journal_close(j);
            continue;
        }
        if (r == 0)
            r = recover_one(ctx, names[i], j, held, report);
        if (r == 1 && count != NULL)
            (*count)++;
        if (r < 0 && first == 0)
            first = r;
    }
    hd_strv_free(names, n);
    if (first < 0)
        return first;
    if (held == NULL && (r = hd_journal_count_damaged(ctx, &damaged)) < 0)
        return r;
    if (held == NULL && damaged > set_aside)
        report_damaged_dir(report, damaged - set_aside);
    if (held == NULL && damaged > 0)
        return left_over(ctx, damaged, false, false);
    if (blocked)
        return hd_err(ctx, -EAGAIN, "another process is recovering an interrupted operation on "
                      "these IOMMU groups");
    return held == NULL ? left_over(ctx, 0, busy, false) : 0;
}

HD_EXPORT int hd_assign_recover(struct hd_ctx *ctx, unsigned int *recovered)
{
    return hd_recover_held(ctx, NULL, recovered, NULL);
}

/* hd_map_entry_fn: each entry of a damaged map a step, kept or dropped. */
static void report_entry(void *data, const char *name, const char *vm, bool kept, const char *why)
{
    hd_op_report_step(data, kept ? "map-keep" : "map-drop", name, vm, kept ? "" : why);
}

/* The assignment map read, or when damaged rebuilt from what the kernel shows (for real, or
 * as it would be): a step says why it was damaged and where it was set aside, one step each
 * entry. The journals' commit checks read the map this leaves. */
static int read_or_repair_map(struct hd_op *op, bool dry_run, struct hd_assignment_list **map)
{
    struct hd_ctx *ctx = hd_op_ctx(op);
    char why[HD_DRIVER_NAME_MAX + 16], aside[HD_PATH_MAX] = "";
    const char *msg, *from, *to;
    size_t first;
    int r;

    if ((r = hd_map_read(ctx, map)) == 0 || hd_ctx_last_reason(ctx) != HD_REASON_STATE_DAMAGED)
        return r;
    /* The why of the damage, from the message that says it: "... is damaged (WHY): ...". */
    msg = hd_ctx_last_error(ctx);
    from = strstr(msg, "is damaged (");
    to = from != NULL ? strstr(from, "): ") : NULL;
    if (from != NULL && to != NULL)
        snprintf(why, sizeof(why), "%.*s", (int)(to - from - 12), from + 12);
    else
        hd_strlcpy(why, "damaged", sizeof(why));
    hd_ctx_clear_error(ctx);
    first = hd_op_get_step_count(op);
    hd_op_report_step(op, "map-aside", "map/assignments", why, "");
    if (dry_run) {
        char path[HD_PATH_MAX];
        /* Where it would go, when it is there: the seconds are the run's. */
        if ((r = hd_map_rebuild(ctx, report_entry, op, map)) == 0 &&
            (r = hd_path(path, sizeof(path), "%s/map/assignments",
                         hd_ctx_get_state_dir(ctx))) == 0 &&
            hd_fs_exists(ctx, path) == 1)
            r = hd_path(aside, sizeof(aside), "%s.damaged-SECONDS", path);
    } else if ((r = hd_map_repair(ctx, report_entry, op, aside, sizeof(aside))) >= 0) {
        r = hd_map_read(ctx, map);
    }
    if (r < 0)
        return r;
    hd_op_set_step_to(op, first, aside); /* "": it was missing, nothing to set aside */
    return 0;
}

int hd_ops_recover(struct hd_op *op)
{
    struct hd_ctx *ctx = hd_op_ctx(op);
    struct hd_assignment_list *map = NULL;
    char **names = NULL;
    bool dry_run = hd_op_request(op)->flags & HD_OP_DRY_RUN, busy = false;
    size_t n = 0;
    unsigned int damaged = 0, unreadable = 0;
    int r;

    if ((r = read_or_repair_map(op, dry_run, &map)) < 0)
        return r;
    if (!dry_run) {
        hd_op_mark_steps(op, HD_STEP_DONE); /* the map's repair */
        hd_assignment_list_unref(map);
        return hd_recover_held(ctx, NULL, NULL, op);
    }
    /* The plan: each intent log as hd_recover_held() would report it, without its lock. */
    if ((r = hd_journal_list(ctx, &names, &n)) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct hd_journal *j = NULL;
        /* One that never got its name died before its first write: the run drops it. */
        bool tmp = strstr(names[i], ".tmp") != NULL;
        bool held = hd_journal_is_live(ctx, names[i]);
        busy = busy || held;
        if (!held && (tmp || hd_journal_peek(ctx, names[i], &j) < 0)) {
            report_journal(op, tmp ? "drop" : "damaged", names[i], NULL, HD_STEP_PLANNED);
            unreadable += !tmp;
            continue;
        }
        if (held && hd_journal_peek(ctx, names[i], &j) < 0)
            j = NULL;
        report_journal(op, held ? "busy" : hd_txn_committed(j, map) ? "finish" : "undo", names[i],
                       j, HD_STEP_PLANNED);
        hd_journal_close(j);
    }
    if ((r = hd_journal_count_damaged(ctx, &damaged)) == 0 && damaged > 0)
        report_damaged_dir(op, damaged);
    if (r == 0)
        r = left_over(ctx, damaged + unreadable, busy, true);
out:
    hd_strv_free(names, n);
    hd_assignment_list_unref(map);
    return r;
}
