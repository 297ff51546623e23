/* op.c - the public face of the transaction engine: an operation is a request (what, which
 * devices, how) that hd_op_run() hands to the engine, and a report of the steps it planned,
 * did, or undid, for the caller to print. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct op_step {
    char action[24]; /* "captured-unbound" the longest */
    char device[HD_NODE_PATH_MAX];
    char from[HD_DRIVER_NAME_MAX + 16];
    char to[HD_DRIVER_NAME_MAX + 16];
    enum hd_op_step_state state;
    bool settled; /* its state is its own: not the operation's outcome */
    bool note;    /* no write of its own (hd_op_report_note()) */
    /* A detach's: its device's IOMMU group as the operation read it (-1: none), which a
     * device keeps while it exists; the note after it reads no link for it again. */
    bool group_known;
    int group;
    bool noiommu; /* a detach's: that group is one vfio's unsafe no-IOMMU mode made */
};

struct op_unviable {
    char device[HD_PCI_ADDR_BUFSZ]; /* the first of the operation's devices in the group */
    struct hd_group *group;
};

struct op_note {
    char device[HD_PCI_ADDR_BUFSZ];
    char *message;
    const struct hd_reserve_entry *reservation; /* an entry of the op's notes_config */
};

struct hd_op {
    int refcount;
    struct hd_ctx *ctx;
    struct hd_op_request req;
    size_t capdevs;
    struct op_step *steps;
    size_t nsteps, capsteps, marked; /* steps before @marked already have their final state */
    int previous_numvfs, previous_autoprobe;
    char vf_driver[HD_DRIVER_NAME_MAX]; /* NUMVFS: "" when its new VFs come up unbound */
    /* NUMVFS: reservations of VFs a lower count removes that no count the boot sets makes,
     * entries of @unmade_config (read under the operation's locks) */
    struct hd_reserve_config *unmade_config;
    const struct hd_reserve_entry **unmade;
    size_t nunmade;
    /* NUMVFS: the entry of @unmade_config whose VF count the boot sets the PF to, when that is
     * not the count asked for */
    const struct hd_reserve_entry *boot_numvfs;
    struct op_unviable *unviable; /* after a detach: groups it left not viable */
    size_t nunviable;
    /* after a reattach or a release: devices it gave back that a reservation of
     * @notes_config still names */
    struct hd_reserve_config *notes_config;
    struct op_note *notes;
    size_t nnotes;
};

static void unviable_clear(struct hd_op *op)
{
    for (size_t i = 0; i < op->nunviable; i++)
        hd_group_unref(op->unviable[i].group);
    free(op->unviable);
    op->unviable = NULL;
    op->nunviable = 0;
}

static void notes_clear(struct hd_op *op)
{
    for (size_t i = 0; i < op->nnotes; i++)
        free(op->notes[i].message);
    free(op->notes);
    op->notes = NULL;
    op->nnotes = 0;
    op->notes_config = hd_reserve_config_unref(op->notes_config);
}

static void unmade_clear(struct hd_op *op)
{
    op->unmade_config = hd_reserve_config_unref(op->unmade_config);
    free(op->unmade);
    op->unmade = NULL;
    op->nunmade = 0;
    op->boot_numvfs = NULL;
}

HD_EXPORT int hd_op_new(struct hd_ctx *ctx, enum hd_op_kind kind, struct hd_op **out)
{
    struct hd_op *op;

    *out = NULL;
    if ((unsigned)kind > HD_OP_FOLLOW)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "unknown operation %d", (int)kind);
    if ((op = calloc(1, sizeof(*op))) == NULL)
        return -ENOMEM;
    op->refcount = 1;
    op->ctx = hd_ctx_ref(ctx);
    hd_ctx_op_begin(ctx);
    op->req.kind = kind;
    op->previous_numvfs = op->previous_autoprobe = -1;
    op->req.planned_numvfs = -1;
    *out = op;
    return 0;
}

HD_EXPORT struct hd_op *hd_op_ref(struct hd_op *op)
{
    if (op != NULL)
        op->refcount++;
    return op;
}

HD_EXPORT struct hd_op *hd_op_unref(struct hd_op *op)
{
    if (op == NULL || --op->refcount > 0)
        return NULL;
    free(op->req.addrs);
    free(op->req.unmanaged);
    free(op->req.mode_asked);
    free(op->req.drivers);
    free(op->req.mdevs);
    free(op->req.named);
    free(op->steps);
    unviable_clear(op);
    unmade_clear(op);
    notes_clear(op);
    hd_ctx_op_end(op->ctx);
    hd_ctx_unref(op->ctx);
    free(op);
    return NULL;
}

HD_EXPORT int hd_op_add_device(struct hd_op *op, const struct hd_pci_addr *addr, bool managed)
{
    char name[HD_PCI_ADDR_BUFSZ];

    for (size_t i = 0; i < op->req.n; i++) {
        if (hd_pci_addr_equal(&op->req.addrs[i], addr))
            return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "%s is given twice",
                           hd_pci_addr_format(addr, name));
    }
    if (op->req.n == op->capdevs) {
        size_t cap = op->capdevs ? op->capdevs * 2 : 8;
        struct hd_pci_addr *a = realloc(op->req.addrs, cap * sizeof(*a));
        char(*d)[HD_DRIVER_NAME_MAX];
        bool *u;
        if (a == NULL)
            return -ENOMEM;
        op->req.addrs = a;
        if ((u = realloc(op->req.unmanaged, cap * sizeof(*u))) == NULL)
            return -ENOMEM;
        op->req.unmanaged = u;
        if ((u = realloc(op->req.mode_asked, cap * sizeof(*u))) == NULL)
            return -ENOMEM;
        op->req.mode_asked = u;
        if ((d = realloc(op->req.drivers, cap * sizeof(*d))) == NULL)
            return -ENOMEM;
        op->req.drivers = d;
        op->capdevs = cap;
    }
    op->req.addrs[op->req.n] = *addr;
    op->req.drivers[op->req.n][0] = '\0';
    op->req.mode_asked[op->req.n] = true;
    op->req.unmanaged[op->req.n++] = !managed;
    return 0;
}

HD_EXPORT int hd_op_add_device_default(struct hd_op *op, const struct hd_pci_addr *addr)
{
    int r = hd_op_add_device(op, addr, true);

    if (r == 0)
        op->req.mode_asked[op->req.n - 1] = false;
    return r;
}

/* Why @op takes no @what ("a mediated device", "a USB or SCSI device"): a reset is a PCI
 * function's; detach and reattach change a driver such a device does not have. */
static int kind_not_taken(struct hd_op *op, const char *what)
{
    if (op->req.kind == HD_OP_RESET)
        return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "%s has no PCI reset: only a PCI "
                       "device can be reset", what);
    return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "%s has no driver to change: only an "
                   "acquire or a release takes one", what);
}

HD_EXPORT int hd_op_add_mdev(struct hd_op *op, const char *uuid)
{
    char canon[37], (*v)[37];

    if (op->req.kind != HD_OP_ACQUIRE && op->req.kind != HD_OP_RELEASE)
        return kind_not_taken(op, "a mediated device");
    if (hd_mdev_uuid_parse(uuid, canon) < 0)
        return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a mediated device's "
                       "UUID", uuid);
    for (size_t i = 0; i < op->req.nmdevs; i++) {
        if (strcmp(op->req.mdevs[i], canon) == 0)
            return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "%s is given twice", canon);
    }
    if ((v = realloc(op->req.mdevs, (op->req.nmdevs + 1) * sizeof(*v))) == NULL)
        return -ENOMEM;
    op->req.mdevs = v;
    strcpy(op->req.mdevs[op->req.nmdevs++], canon);
    return 0;
}

HD_EXPORT int hd_op_add_node_device(struct hd_op *op, const char *name)
{
    char(*v)[HD_NODE_SELECTOR_MAX];

    if (op->req.kind != HD_OP_ACQUIRE && op->req.kind != HD_OP_RELEASE &&
        op->req.kind != HD_OP_FOLLOW)
        return kind_not_taken(op, "a USB or SCSI device");
    if (strlen(name) >= HD_NODE_SELECTOR_MAX ||
        (strncmp(name, "usb:", 4) != 0 && !hd_node_target_name_valid(name)))
        return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a USB or SCSI device's "
                       "name (usb_BUS_PORT, usb:VVVV:PPPP[:SERIAL], scsi_H_B_T_L)", name);
    for (size_t i = 0; i < op->req.nnamed; i++) {
        if (strcmp(op->req.named[i], name) == 0)
            return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "%s is given twice", name);
    }
    if ((v = realloc(op->req.named, (op->req.nnamed + 1) * sizeof(*v))) == NULL)
        return -ENOMEM;
    op->req.named = v;
    strcpy(op->req.named[op->req.nnamed++], name);
    return 0;
}

/* What detach and acquire bind to: a stub, or a vfio-pci variant; "" is the default. */
static int driver_name(struct hd_op *op, const char *name, char *out)
{
    struct hd_stub_driver stub;

    if (name == NULL || strcmp(name, "vfio") == 0) { /* libvirt's <driver name='vfio'/> */
        out[0] = '\0';
        return 0;
    }
    if (hd_stub_driver_get(name, &stub) < 0)
        return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a stub driver "
                       "(vfio-pci, a vfio-pci variant such as mlx5_vfio_pci, or pci-stub)", name);
    hd_strlcpy(out, name, HD_DRIVER_NAME_MAX);
    return 0;
}

HD_EXPORT int hd_op_set_device_driver(struct hd_op *op, const struct hd_pci_addr *addr,
                                      const char *driver)
{
    char name[HD_PCI_ADDR_BUFSZ];

    for (size_t i = 0; i < op->req.n; i++) {
        if (hd_pci_addr_equal(&op->req.addrs[i], addr))
            return driver_name(op, driver, op->req.drivers[i]);
    }
    return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "%s is not a device of this operation",
                   hd_pci_addr_format(addr, name));
}

const char *hd_op_request_driver(const struct hd_op_request *req, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < req->n; i++) {
        if (req->drivers[i][0] != '\0' && hd_pci_addr_equal(&req->addrs[i], addr))
            return req->drivers[i];
    }
    return req->driver;
}

int hd_op_target_driver(struct hd_ctx *ctx, const struct hd_op_request *req,
                        struct hd_device *dev, char *buf, size_t size)
{
    const char *asked = hd_op_request_driver(req, hd_device_get_addr(dev));

    if (asked[0] != '\0') {
        hd_strlcpy(buf, asked, size);
        return 0;
    }
    /* A variant's ids are override-only: new_id binds vfio-pci itself. */
    if (req->flags & HD_OP_NEW_ID) {
        hd_strlcpy(buf, "vfio-pci", size);
        return 0;
    }
    return hd_vfio_driver_for(ctx, hd_device_get_modalias(dev), buf, size);
}

int hd_op_check_target_available(struct hd_ctx *ctx, const struct hd_op_request *req,
                                 struct hd_device *dev)
{
    char target[HD_DRIVER_NAME_MAX];
    struct hd_stub_driver stub;
    int r;

    if ((r = hd_op_target_driver(ctx, req, dev, target, sizeof(target))) < 0)
        return r;
    if (hd_stub_driver_get(target, &stub) < 0)
        return 0; /* not a stub: the write says why */
    if (stub.variant && (req->flags & HD_OP_NEW_ID))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID,
                       "%s: %s binds only through driver_override, not new_id; through new_id "
                       "only vfio-pci itself can take it",
                       hd_device_get_name(dev), stub.name);
    return hd_module_check_driver(ctx, stub.name, stub.module);
}

HD_EXPORT void hd_op_set_flags(struct hd_op *op, unsigned int flags)
{
    op->req.flags = flags;
}

HD_EXPORT int hd_op_set_driver(struct hd_op *op, const char *stub)
{
    return driver_name(op, stub, op->req.driver);
}

HD_EXPORT int hd_op_set_mdev(struct hd_op *op, const char *parent, const char *type,
                             const char *uuid)
{
    struct hd_op_request *req = &op->req;
    char canon[HD_DRIVER_NAME_MAX] = "";
    int r;

    /* The parent as sysfs names it: 00:02.0 is 0000:00:02.0 there. */
    if (parent != NULL && hd_mdev_parent_name(parent, canon) < 0)
        return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a mediated device "
                       "parent", parent);
    if (type != NULL && (!hd_name_valid(type) || strlen(type) >= sizeof(req->mdev_type)))
        return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a mediated device type",
                       type);
    if (uuid != NULL && hd_mdev_uuid_parse(uuid, req->mdev_uuid) < 0)
        return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a UUID "
                       "(8-4-4-4-12 hex digits, or mdev_ with '_' for '-')", uuid);
    if (uuid == NULL && (r = hd_mdev_uuid_new(req->mdev_uuid)) < 0)
        return hd_err(op->ctx, r, "no random UUID: %s", strerror(-r));
    hd_strlcpy(req->mdev_parent, canon, sizeof(req->mdev_parent));
    hd_strlcpy(req->mdev_type, type ? type : "", sizeof(req->mdev_type));
    return 0;
}

HD_EXPORT const char *hd_op_get_mdev_uuid(const struct hd_op *op)
{
    return op->req.mdev_uuid;
}

HD_EXPORT int hd_op_set_vm(struct hd_op *op, const char *vm)
{
    if (!hd_vm_id_valid(vm))
        return hd_errr(op->ctx, -EINVAL, HD_REASON_INVALID,
                       "VM id '%s' is not valid (1 to %d of A-Z a-z 0-9 . _ : @ -)",
                       vm ? vm : "", HD_VM_ID_MAX);
    hd_strlcpy(op->req.vm, vm, sizeof(op->req.vm));
    return 0;
}

HD_EXPORT void hd_op_set_owner(struct hd_op *op, uid_t uid, gid_t gid)
{
    op->req.uid = uid;
    op->req.gid = gid;
    op->req.owner_asked = true;
}

HD_EXPORT void hd_op_set_numvfs(struct hd_op *op, unsigned int numvfs)
{
    op->req.numvfs = numvfs;
}

/* Does a planned step of @op put @addr on a driver that keeps its group viable? */
static bool planned_dma_safe(const struct hd_op *op, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < op->nsteps; i++) {
        struct hd_pci_addr a;
        if ((strcmp(op->steps[i].action, "detach") == 0 ||
             strcmp(op->steps[i].action, "keep") == 0) &&
            hd_driver_is_dma_safe(op->steps[i].to) &&
            hd_pci_addr_parse(op->steps[i].device, &a) == 0 && hd_pci_addr_equal(&a, addr))
            return true;
    }
    return false;
}

/* After a detach (or persist's reservation): the groups of the devices it put on (or found on)
 * a vfio-pci family driver in which a member is still on a host driver, each once: the other
 * members read as they are now (outside its locks: what a VM would find), a detach's own
 * devices as its steps read them back, not read again. A VM can use none of a
 * group's devices until every member is detached. Only a note: a group that cannot be read is left
 * out. A dry run's groups are read as they are, less the members its plan detaches: what the run
 * would leave, so that the plan says the same note. */
static void note_unviable(struct hd_op *op)
{
    /* A run's own devices (not a plan's): the drivers its steps read back under its locks. */
    struct hd_known_driver *known = calloc(op->nsteps, sizeof(*known));
    size_t nknown = 0;

    for (size_t i = 0; known != NULL && !(op->req.flags & HD_OP_DRY_RUN) && i < op->nsteps; i++) {
        const struct op_step *s = &op->steps[i];
        if (s->group_known &&
            (strcmp(s->action, "detach") == 0 || strcmp(s->action, "keep") == 0) &&
            hd_pci_addr_parse(s->device, &known[nknown].addr) == 0)
            known[nknown++].driver = s->to;
    }
    for (size_t i = 0; i < op->nsteps; i++) {
        const struct op_step *s = &op->steps[i];
        struct hd_pci_addr addr;
        struct hd_device *dev;
        struct hd_group *g = NULL;
        bool seen = false;
        int number;

        if ((strcmp(s->action, "detach") != 0 && strcmp(s->action, "keep") != 0) ||
            !hd_driver_is_vfio(s->to))
            continue;
        if (s->group_known) {
            number = s->group;
        } else {
            if (hd_pci_addr_parse(s->device, &addr) < 0 ||
                hd_device_open_fill(op->ctx, &addr, HD_FILL_GROUP, &dev) < 0)
                continue;
            number = hd_device_get_iommu_group(dev);
            hd_device_unref(dev);
        }
        for (size_t k = 0; k < op->nunviable && !seen; k++)
            seen = hd_group_get_number(op->unviable[k].group) == number;
        if (number < 0 || seen || hd_group_open_known(op->ctx, number, 0, known, nknown, &g) < 0)
            continue;
        if (op->req.flags & HD_OP_DRY_RUN)
            for (size_t k = hd_group_get_blocker_count(g); k-- > 0;)
                if (planned_dma_safe(op, hd_device_get_addr(hd_group_get_blocker(g, k))))
                    hd_group_drop_blocker(g, k);
        struct op_unviable *v = hd_group_is_viable(g) ? NULL
                                : realloc(op->unviable, (op->nunviable + 1) * sizeof(*v));
        if (v == NULL) {
            hd_group_unref(g);
            continue;
        }
        op->unviable = v;
        hd_strlcpy(v[op->nunviable].device, s->device, sizeof(v->device));
        v[op->nunviable++].group = g;
    }
    free(known);
    hd_ctx_clear_error(op->ctx);
}

static int add_reserved_note(struct hd_op *op, const char *device,
                             const struct hd_reserve_entry *e)
{
    struct op_note *v = realloc(op->notes, (op->nnotes + 1) * sizeof(*v));
    char where[HD_PATH_MAX + 16];

    if (v == NULL)
        return -ENOMEM;
    op->notes = v;
    v = &op->notes[op->nnotes];
    if (hd_reserve_entry_is_cmdline(e))
        snprintf(where, sizeof(where), "hostdev.reserve= on the kernel command line, %s", e->file);
    else
        hd_reserve_entry_where(e, where, sizeof(where));
    if (asprintf(&v->message, "%s is still reserved for %s (%s): the next boot, or its next add "
                 "event, takes it again", device, e->driver, where) < 0)
        return -ENOMEM;
    hd_strlcpy(v->device, device, sizeof(v->device));
    v->reservation = e;
    op->nnotes++;
    return 0;
}

/* After a reattach or a release (a dry run: its plan): the devices it gives back to a host
 * driver that a reservation still names, which the next boot, or the device's next add event,
 * puts back on its stub. The reservations are read as the boot and the add event read them,
 * the files and the kernel command line's hostdev.reserve= (a device left out here was taken
 * again with no word), once, and only when a device goes back; a device is opened again only
 * when there is an entry to match (an ids entry needs its ids). Only a note: what cannot be
 * read is left out. */
static void note_reserved(struct hd_op *op)
{
    struct hd_reserve_config *config = NULL;

    for (size_t i = 0; i < op->nsteps; i++) {
        const struct op_step *s = &op->steps[i];
        const struct hd_reserve_entry *e;
        struct hd_pci_addr addr;
        struct hd_device *dev;

        if (strcmp(s->action, "reattach") != 0 || hd_driver_is_stub(s->to) ||
            hd_pci_addr_parse(s->device, &addr) < 0)
            continue;
        if (config == NULL && hd_reserve_config_load(op->ctx, &config) < 0)
            break;
        if (hd_reserve_config_count(config) == 0)
            break;
        if (hd_device_open_fill(op->ctx, &addr, HD_FILL_IDENT, &dev) < 0)
            continue;
        e = hd_reserve_config_match(config, dev);
        hd_device_unref(dev);
        if (e != NULL && add_reserved_note(op, s->device, e) < 0)
            break;
    }
    if (op->nnotes > 0)
        op->notes_config = hd_reserve_config_ref(config);
    hd_reserve_config_unref(config);
    hd_ctx_clear_error(op->ctx);
}

HD_EXPORT int hd_op_run(struct hd_op *op)
{
    static int (*const run[])(struct hd_op *) = {
        [HD_OP_DETACH] = hd_ops_detach,   [HD_OP_REATTACH] = hd_ops_reattach,
        [HD_OP_RESET] = hd_ops_reset,     [HD_OP_NUMVFS] = hd_ops_numvfs,
        [HD_OP_ACQUIRE] = hd_ops_acquire, [HD_OP_RELEASE] = hd_ops_release,
        [HD_OP_RESERVE] = hd_ops_reserve, [HD_OP_RECOVER] = hd_ops_recover,
        [HD_OP_MDEV_CREATE] = hd_ops_mdev_create, [HD_OP_MDEV_REMOVE] = hd_ops_mdev_remove,
        [HD_OP_FOLLOW] = hd_ops_follow,
    };

    int r;

    op->nsteps = op->marked = 0;
    hd_ctx_clear_error(op->ctx);
    /* The state directory is checked once per operation, and again by the next one (or by
     * a reader outside any operation): someone may change it between two. */
    hd_ctx_state_check_begin(op->ctx);
    unviable_clear(op);
    unmade_clear(op);
    notes_clear(op);
    r = run[op->req.kind](op);
    hd_ctx_state_check_end(op->ctx);
    /* persist's reservation too (not the boot's: its later entries may still take the rest of
     * a group, and nobody reads a note there). */
    if (r == 0 && (op->req.kind == HD_OP_DETACH ||
                   (op->req.kind == HD_OP_RESERVE && !(op->req.flags & HD_OP_AT_BOOT))))
        note_unviable(op);
    if (r == 0 && (op->req.kind == HD_OP_REATTACH || op->req.kind == HD_OP_RELEASE) &&
        !(op->req.flags & HD_OP_NO_NOTES))
        note_reserved(op);
    return r;
}

/* ---- the engine's side ----------------------------------------------------------------------- */

const struct hd_op_request *hd_op_request(const struct hd_op *op)
{
    return &op->req;
}

struct hd_ctx *hd_op_ctx(const struct hd_op *op)
{
    return op->ctx;
}

void hd_op_set_previous_sriov(struct hd_op *op, int numvfs, int autoprobe, const char *vf_driver)
{
    op->previous_numvfs = numvfs;
    op->previous_autoprobe = autoprobe;
    hd_strlcpy(op->vf_driver, vf_driver ? vf_driver : "", sizeof(op->vf_driver));
}

void hd_op_set_unmade(struct hd_op *op, struct hd_reserve_config *config,
                      const struct hd_reserve_entry **entries, size_t n,
                      const struct hd_reserve_entry *boot_numvfs)
{
    unmade_clear(op);
    op->unmade_config = hd_reserve_config_ref(config);
    op->unmade = entries;
    op->nunmade = n;
    op->boot_numvfs = boot_numvfs;
}

void hd_op_set_planned_numvfs(struct hd_op *op, const struct hd_pci_addr *pf, int n)
{
    op->req.planned_pf = *pf;
    op->req.planned_numvfs = n;
}

void hd_op_set_planned_driver(struct hd_op *op, const struct hd_pci_addr *dev, const char *driver)
{
    op->req.planned_bound = *dev;
    hd_strlcpy(op->req.planned_driver, driver, sizeof(op->req.planned_driver));
}

void hd_op_set_step_to(struct hd_op *op, size_t i, const char *to)
{
    if (i < op->nsteps)
        hd_strlcpy(op->steps[i].to, to, sizeof(op->steps[i].to));
}

int hd_op_report_step(struct hd_op *op, const char *action, const char *device,
                      const char *from, const char *to)
{
    struct op_step *s;

    struct op_step *v = hd_array_grow(op->steps, &op->capsteps, op->nsteps, sizeof(*v), 16);
    if (v == NULL)
        return -ENOMEM;
    op->steps = v;
    s = &op->steps[op->nsteps++];
    *s = (struct op_step){.state = HD_STEP_PLANNED}; /* every field known, a new one too */
    hd_strlcpy(s->action, action, sizeof(s->action));
    hd_strlcpy(s->device, device, sizeof(s->device));
    hd_strlcpy(s->from, from ? from : "", sizeof(s->from));
    hd_strlcpy(s->to, to ? to : "", sizeof(s->to));
    return 0;
}

int hd_op_report_note(struct hd_op *op, const char *action, const char *device, const char *from,
                      const char *to)
{
    int r = hd_op_report_step(op, action, device, from, to);

    if (r == 0)
        op->steps[op->nsteps - 1].note = true;
    return r;
}

/* The newest step @action of @device reported since the last mark, or NULL. */
static struct op_step *newest_step(struct hd_op *op, const char *action, const char *device)
{
    for (size_t i = op->nsteps; i > op->marked; i--) {
        struct op_step *s = &op->steps[i - 1];
        if (strcmp(s->action, action) == 0 && strcmp(s->device, device) == 0)
            return s;
    }
    return NULL;
}

/* What a failure's marking leaves as it is: the step that failed, one never started, one whose
 * undo failed, a reset done (no undo puts a device's state back). */
static bool stays_after_failure(const struct op_step *s)
{
    return s->settled && (s->state == HD_STEP_FAILED || s->state == HD_STEP_NOT_RUN ||
                          s->state == HD_STEP_NOT_UNDONE || s->state == HD_STEP_DONE);
}

static bool is_action(const struct op_step *s, const char *const *actions)
{
    for (; *actions != NULL; actions++)
        if (strcmp(s->action, *actions) == 0)
            return true;
    return false;
}

/* How note @i ended when the operation failed: nothing it says was undone. One that found its
 * device as asked (kept on its driver, held by the VM already, staying reserved, captured by
 * its PF) did nothing: done, as in a run that worked. A companion (autoprobe back with a
 * count, a bind left pending for its stub) ended as the write it goes with (the newest before
 * it of the same device). A record the commit writes (record, unrecord) never was: not-run. */
static enum hd_op_step_state note_after_failure(const struct hd_op *op, size_t i)
{
    static const char *const found[] = {"keep", "already", "stay", "captured",
                                        "captured-unbound", NULL};
    static const char *const companions[] = {"autoprobe", "pending", NULL};
    static const char *const commits[] = {"record", "unrecord", NULL};
    const struct op_step *s = &op->steps[i];

    if (s->settled)
        return s->state;
    if (is_action(s, found))
        return HD_STEP_DONE;
    if (is_action(s, commits))
        return HD_STEP_NOT_RUN;
    if (!is_action(s, companions))
        return HD_STEP_UNDONE;
    while (i-- > op->marked)
        if (!op->steps[i].note && strcmp(op->steps[i].device, s->device) == 0)
            return op->steps[i].state;
    return HD_STEP_NOT_RUN;
}

/* How step @i ended when the operation failed and what it wrote was put back. Nothing undoes
 * a reset: one neither done nor failed never was (not-run), a deferred one too, as nothing was
 * written and the operation it was part of is put back. */
static enum hd_op_step_state after_failure(const struct hd_op *op, size_t i)
{
    const struct op_step *s = &op->steps[i];

    if (stays_after_failure(s))
        return s->state;
    if (strcmp(s->action, "reset") == 0)
        return HD_STEP_NOT_RUN;
    return s->note ? note_after_failure(op, i) : HD_STEP_UNDONE;
}

void hd_op_mark_steps(struct hd_op *op, int state)
{
    for (size_t i = op->marked; i < op->nsteps; i++) {
        if (state == HD_STEP_UNDONE)
            op->steps[i].state = after_failure(op, i);
        else if (!op->steps[i].settled)
            op->steps[i].state = (enum hd_op_step_state)state;
    }
    op->marked = op->nsteps;
}

void hd_op_mark_stopped(struct hd_op *op)
{
    bool failed = false;

    for (size_t i = op->nsteps; i > op->marked; i--) {
        struct op_step *s = &op->steps[i - 1];
        if (s->settled)
            continue;
        s->state = failed ? HD_STEP_DONE : HD_STEP_FAILED;
        failed = true;
    }
    op->marked = op->nsteps;
}

void hd_op_settle_step_at(struct hd_op *op, size_t i, int state)
{
    if (i >= op->marked && i < op->nsteps) {
        op->steps[i].state = (enum hd_op_step_state)state;
        op->steps[i].settled = true;
    }
}

void hd_op_settle_unrun(struct hd_op *op, const char *action, const char *device)
{
    struct op_step *s = newest_step(op, action, device);

    if (s == NULL)
        return;
    s->state = HD_STEP_NOT_RUN;
    s->settled = true;
    /* The steps journaled just before it for the same device are part of the same task: its
     * PF's VF count, its override, its mediated devices ("from" names their parent). */
    for (size_t i = (size_t)(s - op->steps); i > op->marked; i--) {
        s = &op->steps[i - 1];
        bool mine = strcmp(s->device, device) == 0 &&
                    (strcmp(s->action, "numvfs") == 0 || strcmp(s->action, "override") == 0);
        if (s->settled || !(mine || (strcmp(s->action, "mdev-remove") == 0 &&
                                     strcmp(s->from, device) == 0)))
            break;
        s->state = HD_STEP_NOT_RUN;
        s->settled = true;
    }
}

void hd_op_settle_step(struct hd_op *op, const char *action, const char *device, int state)
{
    struct op_step *s = newest_step(op, action, device);

    if (s != NULL) {
        s->state = (enum hd_op_step_state)state;
        s->settled = true;
    }
}

void hd_op_step_arrived(struct hd_op *op, const char *action, const char *device, const char *to)
{
    struct op_step *s = newest_step(op, action, device);

    if (s != NULL)
        hd_strlcpy(s->to, to, sizeof(s->to));
}

void hd_op_step_group(struct hd_op *op, const char *action, const char *device, int group)
{
    struct op_step *s = newest_step(op, action, device);

    if (s != NULL) {
        s->group_known = true;
        s->group = group;
    }
}

void hd_op_step_noiommu(struct hd_op *op, const char *action, const char *device)
{
    struct op_step *s = newest_step(op, action, device);

    if (s != NULL)
        s->noiommu = true;
}

/* ---- the caller's side ----------------------------------------------------------------------- */

HD_EXPORT enum hd_op_kind hd_op_get_kind(const struct hd_op *op)
{
    return op->req.kind;
}

HD_EXPORT bool hd_op_step_get_noiommu(const struct hd_op *op, size_t i, int *group)
{
    bool noiommu = i < op->nsteps && op->steps[i].noiommu;

    if (group != NULL)
        *group = noiommu && op->steps[i].group_known ? op->steps[i].group : -1;
    return noiommu;
}

HD_EXPORT size_t hd_op_get_step_count(const struct hd_op *op)
{
    return op->nsteps;
}

HD_EXPORT const char *hd_op_step_get_action(const struct hd_op *op, size_t i)
{
    return i < op->nsteps ? op->steps[i].action : NULL;
}

HD_EXPORT const char *hd_op_step_get_device(const struct hd_op *op, size_t i)
{
    return i < op->nsteps ? op->steps[i].device : NULL;
}

HD_EXPORT const char *hd_op_step_get_from(const struct hd_op *op, size_t i)
{
    return i < op->nsteps ? op->steps[i].from : NULL;
}

HD_EXPORT const char *hd_op_step_get_to(const struct hd_op *op, size_t i)
{
    return i < op->nsteps ? op->steps[i].to : NULL;
}

HD_EXPORT enum hd_op_step_state hd_op_step_get_state(const struct hd_op *op, size_t i)
{
    return i < op->nsteps ? op->steps[i].state : HD_STEP_PLANNED;
}

HD_EXPORT int hd_op_get_previous_numvfs(const struct hd_op *op)
{
    return op->previous_numvfs;
}

HD_EXPORT int hd_op_get_previous_autoprobe(const struct hd_op *op)
{
    return op->previous_autoprobe;
}

HD_EXPORT const char *hd_op_get_vf_driver(const struct hd_op *op)
{
    return op->vf_driver[0] ? op->vf_driver : NULL;
}

HD_EXPORT size_t hd_op_get_unmade_count(const struct hd_op *op)
{
    return op->nunmade;
}

HD_EXPORT const struct hd_reserve_entry *hd_op_unmade_get_entry(const struct hd_op *op, size_t i)
{
    return i < op->nunmade ? op->unmade[i] : NULL;
}

HD_EXPORT const struct hd_reserve_entry *hd_op_get_boot_numvfs_entry(const struct hd_op *op)
{
    return op->boot_numvfs;
}

HD_EXPORT size_t hd_op_get_unviable_count(const struct hd_op *op)
{
    return op->nunviable;
}

HD_EXPORT const char *hd_op_unviable_get_device(const struct hd_op *op, size_t i)
{
    return i < op->nunviable ? op->unviable[i].device : NULL;
}

HD_EXPORT struct hd_group *hd_op_unviable_get_group(const struct hd_op *op, size_t i)
{
    return i < op->nunviable ? op->unviable[i].group : NULL;
}

HD_EXPORT size_t hd_op_get_note_count(const struct hd_op *op)
{
    return op->nnotes;
}

HD_EXPORT const char *hd_op_note_get_device(const struct hd_op *op, size_t i)
{
    return i < op->nnotes ? op->notes[i].device : NULL;
}

HD_EXPORT const char *hd_op_note_get_message(const struct hd_op *op, size_t i)
{
    return i < op->nnotes ? op->notes[i].message : NULL;
}

HD_EXPORT const struct hd_reserve_entry *hd_op_note_get_reservation(const struct hd_op *op,
                                                                    size_t i)
{
    return i < op->nnotes ? op->notes[i].reservation : NULL;
}
