/* mdev-ops.c - the engine's two operations on mediated devices (pci/mdev.c reads them).
 * Creating writes the UUID to the type's create file, removing writes 1 to the device's
 * remove file; each is journaled first and undone (the device removed again, or made again
 * with its UUID) when the operation fails or its process dies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- the single writes, verified --------------------------------------------------------- */

static int exists(struct hd_ctx *ctx, const char *uuid)
{
    char path[HD_PATH_MAX];
    int r = hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s", uuid);

    return r < 0 ? r : hd_fs_exists(ctx, path);
}

static int write_create(struct hd_ctx *ctx, const char *parent, const char *type,
                        const char *uuid)
{
    char path[HD_PATH_MAX], dev[HD_PATH_MAX];
    int r = hd_path(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
                    parent, type);

    if (r == 0 && (r = hd_fs_write_attr_timeout(ctx, path, uuid, hd_ctx_get_timeout_ms(ctx))) < 0)
        return hd_err(ctx, r, "creating mediated device %s of type %s on %s failed: %s%s", uuid,
                      type, parent, strerror(-r),
                      r == -EUSERS ? " (no instance of that type is left)" : "");
    if (r == 0 && (r = hd_path(dev, sizeof(dev), "sys/bus/mdev/devices/%s", uuid)) == 0 &&
        hd_fs_wait_for(ctx, dev, true, hd_ctx_get_timeout_ms(ctx)) < 0)
        r = hd_err(ctx, -EIO, "%s: the kernel took the create of %s but %s/%s did not appear",
                   parent, uuid, hd_ctx_get_root(ctx), dev);
    return r;
}

static int write_remove(struct hd_ctx *ctx, const char *uuid)
{
    char path[HD_PATH_MAX], dev[HD_PATH_MAX];
    int r = hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/remove", uuid);

    /* The kernel's remove waits while a VM has the device open: bounded, as an unbind. */
    if (r == 0 && (r = hd_fs_write_attr_timeout(ctx, path, "1", hd_ctx_get_timeout_ms(ctx))) < 0)
        return hd_err(ctx, r, "removing mediated device %s failed: %s%s", uuid, strerror(-r),
                      r == -EBUSY || r == -ETIMEDOUT ? " (a VM has it open)" : "");
    if (r == 0 && (r = hd_path(dev, sizeof(dev), "sys/bus/mdev/devices/%s", uuid)) == 0 &&
        hd_fs_wait_for(ctx, dev, false, hd_ctx_get_timeout_ms(ctx)) < 0)
        r = hd_err(ctx, -EIO, "the kernel took the remove of %s but %s/%s is still there", uuid,
                   hd_ctx_get_root(ctx), dev);
    return r;
}

int hd_mdev_undo(struct hd_ctx *ctx, const struct hd_jstep *s)
{
    int there = exists(ctx, s->mdev_uuid);

    if (there < 0)
        return there;
    if (s->kind == HD_JSTEP_MDEV_CREATE)
        return there ? write_remove(ctx, s->mdev_uuid) : 0;
    return there ? 0 : write_create(ctx, s->mdev_parent, s->mdev_type, s->mdev_uuid);
}

/* ---- the operations ---------------------------------------------------------------------- */

/* Journal @s, then do it: the one write of either operation. The caller took the operation's
 * locks (hd_txn_lock() with only the group of a PCI parent, which is not touched: nothing of
 * it is journaled; a crash is for recover, as any other). */
static int run_step(struct hd_txn *t, const struct hd_jstep *s)
{
    int r;

    if ((r = hd_txn_begin(t, NULL, 0)) < 0 || (r = hd_txn_step(t, s)) < 0)
        return hd_txn_abort(t, r);
    if (r == 1)
        r = s->kind == HD_JSTEP_MDEV_CREATE
                ? write_create(hd_txn_ctx(t), s->mdev_parent, s->mdev_type, s->mdev_uuid)
                : write_remove(hd_txn_ctx(t), s->mdev_uuid);
    if (r < 0)
        hd_txn_step_failed(t);
    return r < 0 ? hd_txn_abort(t, r) : hd_txn_commit(t);
}

/* Why @parent, a PCI device, makes no mediated devices now, when it is because it left its
 * host driver (whose driver offers the types): a VM holds it (-EBUSY, HD_REASON_HELD) or it is
 * on vfio-pci or a variant (-EBUSY, HD_REASON_FAILED), as a PCI operation says a device in the
 * wrong state. 0 otherwise: no such device, or its driver offers no types. */
static int parent_left_its_driver(struct hd_ctx *ctx, const char *parent)
{
    struct hd_assignment_list *map = NULL;
    const struct hd_assignment *a;
    struct hd_device *dev = NULL;
    struct hd_pci_addr addr;
    int r = 0;

    if (hd_pci_addr_parse(parent, &addr) < 0 || hd_device_open(ctx, &addr, &dev) < 0)
        return 0;
    if (hd_map_read(ctx, &map) == 0 && (a = hd_map_find(map, &addr)) != NULL)
        r = hd_errr(ctx, -EBUSY, HD_REASON_HELD, "%s is held by vm %s: its host driver must be "
                    "back for it to make mediated devices", parent, a->vm);
    else if (hd_device_is_on_vfio(dev))
        r = hd_errr(ctx, -EBUSY, HD_REASON_FAILED, "%s is on %s: its host driver must be back "
                    "for it to make mediated devices", parent, hd_device_get_driver(dev));
    hd_assignment_list_unref(map);
    hd_device_unref(dev);
    return r;
}

/* The parent and type of @s: as asked, or (none asked) those @s's UUID is defined with, as
 * mdevctl starts a defined device by its UUID. A UUID defined as another parent or type is
 * refused: made so, it would not be the device every boot makes. Files that are no definition
 * are left to define and reserve to name. */
static int as_defined(struct hd_ctx *ctx, const struct hd_op_request *req, struct hd_jstep *s)
{
    struct hd_mdev_defined_list *l;
    size_t i, n;
    int r;

    if ((r = hd_mdev_defined_list_load(ctx, &l)) < 0)
        return r;
    n = hd_mdev_defined_list_count(l);
    for (i = 0; i < n && strcmp(hd_mdev_defined_list_get_uuid(l, i), req->mdev_uuid) != 0; i++)
        ;
    if (!req->mdev_parent[0] && i == n)
        r = hd_errr(ctx, -ENOENT, HD_REASON_NO_DEVICE, "mediated device %s is not defined: "
                    "making it needs its parent and type", req->mdev_uuid);
    else if (!req->mdev_parent[0])
        r = 1;
    else if (i < n && (strcmp(hd_mdev_defined_list_get_parent(l, i), req->mdev_parent) != 0 ||
                       strcmp(hd_mdev_defined_list_get_type(l, i), req->mdev_type) != 0))
        r = hd_errr(ctx, -EEXIST, HD_REASON_INVALID, "mediated device %s is defined as type %s "
                    "of %s, not %s of %s: make it as defined, or undefine it first",
                    req->mdev_uuid, hd_mdev_defined_list_get_type(l, i),
                    hd_mdev_defined_list_get_parent(l, i), req->mdev_type, req->mdev_parent);
    hd_strlcpy(s->mdev_parent, r == 1 ? hd_mdev_defined_list_get_parent(l, i) : req->mdev_parent,
               sizeof(s->mdev_parent));
    hd_strlcpy(s->mdev_type, r == 1 ? hd_mdev_defined_list_get_type(l, i) : req->mdev_type,
               sizeof(s->mdev_type));
    hd_mdev_defined_list_unref(l);
    return r < 0 ? r : 0;
}

/* Whether @s's UUID is made already: 1 as @s asks (a retry finds it made: nothing to do), 0
 * not there. Made as another parent or type it is refused: it is not the device asked for. */
static int made_as_asked(struct hd_ctx *ctx, const struct hd_jstep *s)
{
    struct hd_mdev m;
    int r = hd_mdev_read(ctx, s->mdev_uuid, &m);

    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return hd_err(ctx, r, "reading mediated device %s: %s", s->mdev_uuid, strerror(-r));
    if (strcmp(m.parent, s->mdev_parent) == 0 && strcmp(m.type, s->mdev_type) == 0)
        return 1;
    return hd_errr(ctx, -EEXIST, HD_REASON_FAILED, "mediated device %s exists already, as type "
                   "%s of %s, not %s of %s: remove it first, or choose another UUID", s->mdev_uuid,
                   m.type, m.parent, s->mdev_type, s->mdev_parent);
}

/* Whether @s's parent can make a device of its type now: 0, or -errno saying why not. With
 * @offered_only, only whether a parent that offers types offers this one (bad input asked
 * before the locks: a driver that offers types offers these or none). */
static int check_makeable(struct hd_ctx *ctx, const struct hd_jstep *s, bool offered_only)
{
    struct hd_mdev_type_list *types;
    int r, available = -2;
    bool parent = false;

    if ((r = hd_mdev_type_list_new_for_parent(ctx, s->mdev_parent, &types)) < 0)
        return r;
    for (size_t i = 0; i < hd_mdev_type_list_count(types); i++) {
        parent = true;
        if (strcmp(hd_mdev_type_list_get_id(types, i), s->mdev_type) == 0)
            available = hd_mdev_type_list_get_available(types, i);
    }
    hd_mdev_type_list_unref(types);
    if (offered_only && !parent)
        return 0;
    if (!parent && (r = parent_left_its_driver(ctx, s->mdev_parent)) < 0)
        return r;
    if (!parent)
        return hd_errr(ctx, -ENOENT, HD_REASON_NO_DEVICE, "%s is not a mediated device parent "
                       "(%s/sys/class/mdev_bus has no %s: no such device, or its driver "
                       "offers no types)", s->mdev_parent, hd_ctx_get_root(ctx), s->mdev_parent);
    if (available == -2)
        return hd_errr(ctx, -ENOENT, HD_REASON_NO_DEVICE, "%s offers no mediated device type "
                       "%s (see the types it has in %s/sys/class/mdev_bus/%s/mdev_supported_types)",
                       s->mdev_parent, s->mdev_type, hd_ctx_get_root(ctx), s->mdev_parent);
    if (available == 0 && !offered_only)
        return hd_errr(ctx, -EUSERS, HD_REASON_FAILED, "%s has no instance of type %s left "
                       "(available_instances is 0)", s->mdev_parent, s->mdev_type);
    return 0;
}

int hd_ops_mdev_create(struct hd_op *op)
{
    const struct hd_op_request *req = hd_op_request(op);
    struct hd_jstep s = {.kind = HD_JSTEP_MDEV_CREATE};
    struct hd_ctx *ctx = hd_op_ctx(op);
    struct hd_jdev parent = {0};
    size_t nparent = 0;
    struct hd_txn *t;
    int r, already = 0, mapfd = -1;

    if (!req->mdev_uuid[0] || !req->mdev_parent[0] != !req->mdev_type[0])
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID,
                       "creating a mediated device needs its parent and type, or the UUID of "
                       "a defined one");
    if ((r = as_defined(ctx, req, &s)) < 0)
        return r;
    hd_strlcpy(s.mdev_uuid, req->mdev_uuid, sizeof(s.mdev_uuid));
    if ((r = hd_txn_new(op, HD_JOP_MDEV, NULL, 0, &t)) < 0)
        return r;
    /* A PCI parent's group is locked, as an acquire of its mediated devices locks it: an
     * acquire, detach or reset of the parent, which takes its host driver (and so its types
     * and devices) away, is over before the parent is checked here, or starts after the
     * device is made. */
    hd_jdev_add_parent(ctx, &parent, &nparent, HD_ASSIGNMENT_MDEV, s.mdev_uuid, s.mdev_parent);
    /* Whether it is made already is asked under the lock remove holds (the map's): a create or
     * remove of the UUID meanwhile is seen whole, so a retry is not told "already" of a device
     * being removed, nor does a failed write undo another's device. The operation's own locks
     * come first, as remove takes them. Before the type's instances are counted: the device
     * itself may be the last one. */
    if ((r = check_makeable(ctx, &s, true)) < 0 || (r = hd_txn_lock(t, &parent, nparent)) < 0 ||
        (!hd_txn_dry_run(t) && (r = hd_lock_map(ctx, &mapfd)) < 0) ||
        (already = made_as_asked(ctx, &s)) < 0 ||
        (!already && (r = check_makeable(ctx, &s, false)) < 0)) {
        r = hd_txn_abort(t, already < 0 ? already : r);
    } else if (already) { /* asked again for what is: done, nothing written */
        hd_txn_note(t, "already", s.mdev_uuid, s.mdev_parent, s.mdev_type);
        hd_txn_settle(t, "already", s.mdev_uuid, HD_STEP_DONE);
        r = hd_txn_commit(t);
    } else {
        r = run_step(t, &s);
    }
    hd_unlock(mapfd);
    hd_txn_free(t);
    return r;
}

int hd_ops_mdev_remove(struct hd_op *op)
{
    const struct hd_op_request *req = hd_op_request(op);
    struct hd_jstep s = {.kind = HD_JSTEP_MDEV_REMOVE};
    struct hd_ctx *ctx = hd_op_ctx(op);
    struct hd_jdev parent = {0};
    size_t nparent = 0;
    struct hd_mdev m;
    struct hd_txn *t;
    int r;

    if (!req->mdev_uuid[0])
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID,
                       "removing a mediated device needs its UUID");
    /* Its parent, to lock: as create, this waits for an acquire, detach or reset of a PCI
     * parent, which takes the device away with the parent's driver. */
    r = hd_mdev_read(ctx, req->mdev_uuid, &m);
    if (r < 0 && r != -ENOENT)
        return hd_err(ctx, r, "reading mediated device %s: %s", req->mdev_uuid, strerror(-r));
    if (r == 0)
        hd_jdev_add_parent(ctx, &parent, &nparent, HD_ASSIGNMENT_MDEV, m.uuid, m.parent);
    /* A VM's device goes only with its release: the map is consulted, and its lock held until
     * the device is gone, so that an acquire (which records under that lock) either is seen
     * here or finds the device gone. The operation's own locks come first: recovering what
     * they cover may take the map lock. */
    struct hd_assignment_list *map = NULL;
    const struct hd_assignment *a;
    int mapfd = -1;
    bool gone;
    if ((r = hd_txn_new(op, HD_JOP_MDEV, NULL, 0, &t)) < 0)
        return r;
    if ((r = hd_txn_lock(t, &parent, nparent)) < 0 ||
        (!hd_txn_dry_run(t) && (r = hd_lock_map(ctx, &mapfd)) < 0) ||
        (r = hd_map_read(ctx, &map)) < 0)
        goto out;
    /* Gone already (a retry, say, or with its parent's driver while this waited): nothing to
     * remove, once the map is seen not to hold it. Asked again under the locks. */
    r = hd_mdev_read(ctx, req->mdev_uuid, &m);
    if (!(gone = r == -ENOENT) && r < 0) {
        r = hd_err(ctx, r, "reading mediated device %s: %s", req->mdev_uuid, strerror(-r));
        goto out;
    }
    /* Gone or not, a VM's record goes with its release, never here. */
    if ((a = hd_map_find_mdev(map, m.uuid)) != NULL) {
        r = hd_errr(ctx, -EBUSY, HD_REASON_HELD, "mediated device %s is assigned to vm %s: "
                    "release it first", m.uuid, a->vm);
        goto out;
    }
    if (gone) { /* step "already", from no parent to no type: not there, nothing done */
        hd_txn_note(t, "already", m.uuid, "", "");
        hd_txn_settle(t, "already", m.uuid, HD_STEP_DONE);
        r = hd_txn_commit(t);
        goto done;
    }
    /* A process the map does not know of may have it open: the kernel's remove would ask that
     * process to let go (QEMU unplugs it from its guest) and wait. Asked of the kernel first. */
    if ((r = hd_check_mdev_not_open(ctx, m.uuid, m.group, "removing it")) < 0)
        goto out;
    /* What it was, so that an undo makes it again the same. */
    hd_strlcpy(s.mdev_parent, m.parent, sizeof(s.mdev_parent));
    hd_strlcpy(s.mdev_type, m.type, sizeof(s.mdev_type));
    hd_strlcpy(s.mdev_uuid, m.uuid, sizeof(s.mdev_uuid));
    r = run_step(t, &s);
done:
    hd_assignment_list_unref(map);
    hd_unlock(mapfd);
    hd_txn_free(t);
    return r;
out:
    hd_assignment_list_unref(map);
    hd_unlock(mapfd);
    r = hd_txn_abort(t, r);
    hd_txn_free(t);
    return r;
}

/* ---- a type beside the running ones -------------------------------------------------------- */

HD_EXPORT char *hd_mdev_type_mix_warning(const struct hd_mdev_list *mdevs, const char *parent,
                                         const char *type)
{
    char *msg = NULL;
    size_t len = 0, nothers = 0;
    FILE *mem;

    if ((mem = open_memstream(&msg, &len)) == NULL)
        return NULL;
    fprintf(mem, "%s runs mediated devices of type ", parent);
    for (size_t i = 0; i < hd_mdev_list_count(mdevs); i++) {
        const char *t = hd_mdev_list_get_type(mdevs, i);
        bool said = false;
        if (strcmp(hd_mdev_list_get_parent(mdevs, i), parent) != 0 || strcmp(t, type) == 0)
            continue;
        /* each other type once (the list is by UUID, so one type's devices are apart) */
        for (size_t k = 0; k < i && !said; k++)
            said = strcmp(hd_mdev_list_get_parent(mdevs, k), parent) == 0 &&
                   strcmp(hd_mdev_list_get_type(mdevs, k), t) == 0;
        if (!said)
            fprintf(mem, "%s%s", nothers++ ? ", " : "", t);
    }
    fprintf(mem, ", not %s: most vGPU parents make one type at a time and refuse to create %s "
                 "while those run", type, type);
    if (fclose(mem) != 0 || nothers == 0) {
        free(msg);
        return NULL;
    }
    return msg;
}
