/* internal.h - core/: the PCI passthrough engine's private declarations, one section per .c
 * file. core/ uses the layers below through their headers (nodedev/, pci/, os/, gateway/,
 * shared/: docs/design.md, Layers); the layers above use only the public API. */
#ifndef HOSTDEV_INTERNAL_H
#define HOSTDEV_INTERNAL_H

#include "pci.h"

/* ---- stub.c: what each stub driver needs ------------------------------------------------- */

struct hd_stub_driver {
    const char *name;   /* as in sys/bus/pci/drivers/ */
    const char *module; /* what to load when the driver is missing */
    bool vfio;          /* a VFIO driver: dev/vfio/<group> exists while a member is bound */
    bool variant;       /* a vfio-pci variant: its ids are override-only, new_id cannot bind */
};

extern const struct hd_stub_driver hd_stub_vfio_pci;
/* NULL when @name is not a stub driver hostdev binds to. */
const struct hd_stub_driver *hd_stub_driver_find(const char *name);
/* @name as a driver to detach to: one of the stubs above, or a vfio-pci variant driver (named
 * after vfio_pci; its module has its name), described in *@out, whose name is @name itself.
 * -EINVAL when it is neither. */
int hd_stub_driver_get(const char *name, struct hd_stub_driver *out);
/* A stub or a vfio-pci variant: a device on it is detached. */
bool hd_driver_is_stub(const char *name);
/* @bdf, bound to @driver (NULL or "": none), is on VFIO: the driver's name says so (vfio-pci,
 * a variant named after it), or the kernel does: a VFIO driver, a variant named otherwise too,
 * registers a vfio device for each it binds, sysfs's <BDF>/vfio-dev (Linux 6.1 on). The one
 * rule for a device; hd_device_is_on_vfio() asks it of a snapshot. */
bool hd_bound_to_vfio(struct hd_ctx *ctx, const char *bdf, const char *driver);
/* The driver_override vfio_pci_bus_notifier() (drivers/vfio/pci/vfio_pci_core.c) gives each VF
 * a PF on vfio driver @pfdrv makes is the name of the driver's vfio_device_ops, which no sysfs
 * file shows: vfio-pci's is "vfio-pci", an in-tree variant's its driver name with '-' for '_'
 * ("mlx5-vfio-pci"), some with a suffix ("hisi-acc-vfio-pci-migration"). Whether VFs made
 * later will bind to @pfdrv by it (only when it is the driver's own name): a guess by that
 * convention, for a plan; a VF that exists is judged by what sysfs shows
 * (hd_device_get_capturing_driver()). */
bool hd_vfio_capture_binds(const char *pfdrv);

/* ---- variant.c: vfio-pci variants ---------------------------------------------------------- */

/* The vfio-pci family driver for a device of this modalias: the most
 * specific "vfio_pci:" alias of the kernel's modules.alias (a variant driver), else
 * "vfio-pci". The aliases are read once per context. */
int hd_vfio_driver_for(struct hd_ctx *ctx, const char *modalias, char *driver, size_t size);
/* Whether vfio-pci variant @driver drives @dev: a variant binds only the devices its
 * "vfio_pci:" aliases name (override-only ids), whatever driver_override says. 0 when it does,
 * or when no alias names the variant (what it drives is not known); -EINVAL (naming the driver
 * that fits) when it does not; -errno. */
int hd_vfio_variant_fits(struct hd_device *dev, const char *driver);

/* ---- bind.c -------------------------------------------------------------------------------- */

/* Bound to vfio-pci, a variant of it, or pci-stub. */
bool hd_device_on_stub(const struct hd_device *dev);

/* The single writes the engine journals and undoes, one device each (here and in reset.c,
 * sriov.c, reserve.c). Only the engine calls them: the public hd_device_detach() and friends
 * (device-ops.c) are one-device operations.
 * To a stub and verified, recording the host driver once; back to the recorded one. */
int hd_bind_detach(struct hd_device *dev, const char *stub, unsigned int flags);
/* hd_bind_detach() flag of the engine's own: onto @stub itself, even from another vfio-pci
 * family driver (an undo puts a device back on the exact driver it was on). */
#define HD_DETACH_EXACT (1u << 8)
/* hd_bind_detach() flag of reserve.c: from another stub (pci-stub), or on its stub already,
 * and with no record, that stub is recorded as where it goes back to (a plain detach keeps the
 * record a move between stubs finds, none included). */
#define HD_DETACH_RECORD_STUB (1u << 14)
/* hd_bind_detach() and hd_reserve_apply() flag of a boot's reservation: a device found unbound
 * has not been probed yet, and its record says the kernel's choice (HD_ORIGINAL_DRIVER_KERNEL),
 * not none. */
#define HD_DETACH_AT_BOOT (1u << 15)
/* hd_bind_detach() also takes the public HD_DETACH_NOIOMMU (from HD_OP_NOIOMMU): a vfio driver
 * may take a device with no IOMMU group (vfio's unsafe no-IOMMU mode, which the caller checked
 * is on). */
/* Flags of both: @dev was read under the operation's locks (its driver from the link) and
 * nothing was written to it since, so it is not read again before acting (HD_BIND_FRESH);
 * the caller reads nothing of it afterwards (a batch leaves snapshots stale anyway), so it is
 * not read again when done (HD_BIND_NO_REREAD). */
#define HD_BIND_FRESH (1u << 9)
#define HD_BIND_NO_REREAD (1u << 10)
/* hd_bind_reattach() flags: the caller read the driver record under the operation's locks
 * (nobody else writes it while they are held): @record is it as its file has it
 * (hd_bind_format_record(); HD_BIND_RECORD, "" when it says none), or there is none
 * (HD_BIND_NO_RECORD). Without either it is read here. */
#define HD_BIND_RECORD (1u << 11)
#define HD_BIND_NO_RECORD (1u << 12)
/* Flag of both: the caller found the driver the device goes to registered, under its locks;
 * it is not looked for (nor its module loaded) again. */
#define HD_BIND_DRIVER_THERE (1u << 13)
int hd_bind_reattach(struct hd_device *dev, unsigned int flags, const char *record);
/* What a give-back of @dev to the kernel's choice (a "*" record) would meet, loading nothing:
 * a module its modalias resolves to may load, yet none is in the kernel nor would be loaded
 * (under another root none is), so nothing would bind and hd_bind_reattach() would fail.
 * -EIO with the message then, else 0. */
int hd_bind_check_kernel_choice(struct hd_device *dev);
/* The driver record of @dev: the driver in *@driver ("" none), the driver_override it had in
 * @override ("" none); -ENOENT without one, -EINVAL (reason state-damaged) for a damaged one. */
int hd_bind_read_record(struct hd_device *dev, char **driver, char *override, size_t size);
/* Write it (an undo puts back what a journal line says it was). */
int hd_bind_put_record(struct hd_device *dev, const char *driver, const char *override);
/* @dev has no record (a damaged one is one: nothing overwrites it; its error is cleared). */
bool hd_bind_unrecorded(struct hd_device *dev);
/* A reservation for @stub of @dev, which stays where it is (on @stub, or unbound until @stub
 * loads), records where that is when it has no record, as a detach would: its driver ("" none)
 * and its override unless that names @stub. */
int hd_bind_record_reserved(struct hd_device *dev, const char *stub, unsigned int flags);
/* A record's text, as its file holds it (@override "": no line), in @buf (HD_RECORD_MAX). */
#define HD_RECORD_MAX (2 * HD_DRIVER_NAME_MAX + 16)
void hd_bind_format_record(char *buf, size_t size, const char *driver, const char *override);

/* ---- reset.c ------------------------------------------------------------------------------- */

/* Through sysfs `reset` (HD_RESET_FORCE: also under a driver using it). */
int hd_reset_apply(struct hd_device *dev, unsigned int flags, char **methods);
/* The methods the kernel will try, in order, in *@out (allocated): reset_method, else what
 * config space offers; a config space that fails to read is an error naming it. */
int hd_reset_methods(struct hd_device *dev, char **out);

/* ---- sriov.c ------------------------------------------------------------------------------- */

/* sriov_numvfs through 0, waited for; the previous count or -errno. */
int hd_sriov_set_numvfs(struct hd_device *dev, unsigned int numvfs);
/* STATE/autoprobe/<PF>: "1" while a count of ours keeps the PF's sriov_drivers_autoprobe off. */
#define HD_AUTOPROBE_RECORD "autoprobe"
/* A count of ours turned @pf's sriov_drivers_autoprobe off (it was 1): the count of 0 gives it
 * back, and its commit drops the record (hd_txn_drop_at_commit()). */
bool hd_sriov_autoprobe_was_on(struct hd_ctx *ctx, const char *pf);
/* Put a PF's VF count and sriov_drivers_autoprobe (-1: leave) back. */
int hd_sriov_restore(struct hd_ctx *ctx, const struct hd_pci_addr *pf, int numvfs,
                     int autoprobe);
/* The driver @vf's PF is on now in @buf ("" none), read then (one open, one link); -ENODEV
 * for a device that is no VF. */
int hd_sriov_read_pf_driver(struct hd_device *vf, char *buf, size_t size);
/* PF @pf on (or going to) @driver, a vfio-pci variant (hd_bound_to_vfio(), not vfio-pci): why
 * the kernel answers its sriov_numvfs with ENOENT, " (...)" in @hint, and true. What a count's
 * failure says, and its dry run warns of. */
bool hd_sriov_variant_makes_none(struct hd_ctx *ctx, const char *pf, const char *driver,
                                 char *hint, size_t size);

/* ---- reserve-config.c, reserve-apply.c ------------------------------------------------------ */

/* hd_reserve_config_load() with the command line read already (@cmdline; NULL: unreadable,
 * none of its reservations), for a run that reads it once. */
int hd_reserve_config_load_cmdline(struct hd_ctx *ctx, const struct hd_cmdline *cmdline,
                                   struct hd_reserve_config **config);

/* Why the boot's reservation of the SR-IOV PF @dev may leave it without the VFs asked of it:
 * the stub and the VF count that @entry (NULL: none) gives it, and @config's entries (NULL:
 * none) for what @entry leaves unsaid; with @replaces, @entry is persist's and takes the place
 * of its selector's persisted file, whose entries are left out. It names the lines of @config
 * it is about ("FILE:LINE: " before it, the count's after numvfs= when another's), never
 * @entry's. Allocated; NULL when they ask no count above 0 of a PF reserved for a stub (or no
 * memory). */
/* Where @e is, for a message: "FILE:LINE", or FILE for one with no line (the kernel command
 * line's); @buf, returned. */
const char *hd_reserve_entry_where(const struct hd_reserve_entry *e, char *buf, size_t size);
char *hd_reserve_stub_numvfs_warning(const struct hd_reserve_config *config,
                                     const struct hd_reserve_entry *entry, bool replaces,
                                     struct hd_device *dev);
/* Why a reservation of the @n devices @devs there now (those an entry takes) does nothing at
 * boot for some, VFs of devs[@i]'s PF: no entry of @config (NULL: none) sets that PF's VF count
 * high enough to make them, and VFs are made by that count each boot. Said once per PF, for
 * the first of its VFs among @devs. Allocated; NULL when a count makes them, when devs[@i] is
 * no VF or not the first (or no memory). */
char *hd_reserve_vf_boot_warning(const struct hd_reserve_config *config,
                                 struct hd_device *const *devs, size_t n, size_t i);
/* The refusal of an ids entry that refuses several devices: @first, the first one's reason
 * (naming it), then the @n others named, a few of them and how many more. Allocated; NULL
 * with no memory. */
char *hd_reserve_refusal_join(const char *first, const char *const *others, size_t n);
/* hd_reserve_config_match(), the entries of the @nfiles @files (root-relative) left out. */
const struct hd_reserve_entry *
hd_reserve_config_match_except(const struct hd_reserve_config *config, struct hd_device *dev,
                               const char *const *files, size_t nfiles);
/* An error of @config, none of the @nfiles @files' (root-relative), that may name @dev: a
 * file that could not be read or is no reservation file, or a bad line whose device word
 * selects @dev (the boot skips it, but it was meant for something). Its message ("FILE[:LINE]:
 * why"), or NULL when no error could name @dev. */
const char *hd_reserve_config_doubt_except(const struct hd_reserve_config *config,
                                           struct hd_device *dev, const char *const *files,
                                           size_t nfiles);
/* The refusal to give @dev back to a host driver for @doubt, a message of
 * hd_reserve_config_doubt_except(): bad input (-EINVAL), said on @ctx. */
int hd_reserve_doubt_error(struct hd_ctx *ctx, struct hd_device *dev, const char *doubt);
/* hd_reserve_config_give_back() of the devices any of the @nsels @sels selects, in one
 * operation, as if the @nfiles @files (root-relative) were not there. */
int hd_reserve_give_back_except(struct hd_reserve_config *config, struct hd_ctx *ctx,
                                const struct hd_pci_selector *sels, size_t nsels,
                                unsigned int flags, hd_reserve_fn fn, void *data,
                                struct hd_reserve_result **result, const char *const *files,
                                size_t nfiles);

/* The root-relative path of @sel's persisted file (etc/hostdev.d/persist-SEL.conf). */
void hd_reserve_persist_path(const struct hd_pci_selector *sel, char *buf, size_t size);

/* What persist --no-apply says of @entry without applying it: the warnings its call would give
 * (a PF given a stub and a VF count, VFs no count makes at boot), each on an HD_RESERVE_BIND
 * item (HD_RESERVE_NUMVFS for a VF count alone), HD_RESERVE_LATER (the boot applies it), of a
 * device it selects now; no item without one. Returns as hd_reserve_entry_apply(). */
int hd_reserve_entry_warnings(const struct hd_reserve_entry *entry, struct hd_ctx *ctx,
                              hd_reserve_fn fn, void *data, struct hd_reserve_result **result);
/* The items of @from moved to the end of *@into (@from itself when *@into is NULL), which
 * keeps @from (its entries) as long as it lives: 0, or -ENOMEM (@from dropped). */
int hd_reserve_result_join(struct hd_reserve_result **into, struct hd_reserve_result *from);
/* Every device an entry's call reserved in @res (the entries persisted before one that failed)
 * given back, in one operation (only those it moved: one on its stub before stays): the items
 * leave the result; a failure to is a failed item
 * (1). 0 when none was reserved or under a dry run; -ENOMEM. */
int hd_reserve_result_put_back(struct hd_reserve_result *res);
/* What unpersist leaves of @entry, the one it removed: the VF count it set (an
 * HD_RESERVE_NUMVFS item, HD_RESERVE_UNCHANGED, for the PF when it is there), added to
 * *@result (a new result when NULL). -ENOMEM, else 0. */
int hd_reserve_numvfs_kept(struct hd_ctx *ctx, const struct hd_reserve_entry *entry,
                           unsigned int flags, hd_reserve_fn fn, void *data,
                           struct hd_reserve_result **result);

/* ---- reserve.c ----------------------------------------------------------------------------- */

/* driver_override and bound to it; 1 when pending until the stub registers. */
int hd_reserve_apply(struct hd_device *dev, const char *driver, unsigned int flags);

/* ---- platform.c ---------------------------------------------------------------------------- */

/* Functions the host keeps whatever is asked (host bridges, LPC/ISA bridges,
 * SMBus, ...): the class's description, or NULL for an ordinary function. */
const char *hd_platform_function(const struct hd_device *dev);

/* ---- state.c: small records under the state directory ------------------------------------- */

/* Write @value to @dir/@name (relative to the root) atomically and durably, for records that
 * outlive the boot: temporary file, fsync, rename, directory fsync. @dir is created when
 * missing (0700 for 0600 records, 0755 for 0644). The state directory's go through
 * hd_state_put(), atomically but without the fsyncs. */
int hd_record_put(struct hd_ctx *ctx, const char *dir, const char *name, const char *value,
                  mode_t mode);
/* Remove @dir/@name: 0, -ENOENT when there was none, or another -errno. */
int hd_record_del(struct hd_ctx *ctx, const char *dir, const char *name);

/* The state directory may be trusted: ours, a directory, not writable by group or others
 * (absent is fine). Else -errno with reason HD_REASON_STATE_DAMAGED. */
int hd_state_dir_check(struct hd_ctx *ctx);
/* Write @value to STATE/@kind/@name atomically (temporary file, rename; see hd_record_put()). */
int hd_state_put(struct hd_ctx *ctx, const char *kind, const char *name, const char *value);
/* Read it back (allocated); -ENOENT when there is none. */
int hd_state_get(struct hd_ctx *ctx, const char *kind, const char *name, char **value);
int hd_state_del(struct hd_ctx *ctx, const char *kind, const char *name);

/* ---- owner.c ------------------------------------------------------------------------------ */

#define HD_VM_ID_MAX 128

/* ---- assign.c: the assignment map --------------------------------------------------------- */

#define HD_NODE_PATH_MAX 96
#define HD_NODES_MAX 8

/* A device node a VM opens, with the owner and mode it had before the VM got it. */
struct hd_node_owner {
    char path[HD_NODE_PATH_MAX]; /* "dev/vfio/12", relative to the root */
    uid_t uid;
    gid_t gid;
    mode_t mode;
};

struct hd_assignment {
    enum hd_assignment_kind kind;
    struct hd_pci_addr addr; /* PCI */
    char name[37]; /* PCI: its address; mdev: its UUID; USB, SCSI: libvirt's node-device name */
    char parent[HD_DRIVER_NAME_MAX]; /* mdev: its parent, as in sys/class/mdev_bus */
    char ids[16];                    /* USB: VVVV:PPPP, to know it again after a replug */
    char vm[HD_VM_ID_MAX + 1];
    bool managed;   /* release reattaches it */
    bool detached;  /* acquire took it from @driver (else it was on a stub already) */
    bool via_group; /* came with --group */
    char driver[64]; /* "" when none */
    char override[64]; /* taken from a stub that is not vfio (pci-stub): the driver_override it
                        * had ("" none), put back with it at release */
    int numvfs;    /* a PF acquire detached: the VFs it had (its driver destroyed them when it let
                    * go), made again at release; 0 none */
    int autoprobe; /* with @numvfs: its sriov_drivers_autoprobe then; -1 not known */
    int group;
    long long since;
    uid_t uid; /* who the nodes were given to */
    gid_t gid;
    struct hd_node_owner nodes[HD_NODES_MAX]; /* the originals, restored at release */
    size_t nnodes;
};

bool hd_node_path_valid(const char *path);
/* Acquire took @a from a stub VFIO cannot use (pci-stub): release puts it back there, with
 * its override, not on a host driver. */
bool hd_assignment_from_stub(const struct hd_assignment *a);
/* The map: a list of entries (private to assign.c); hd_assignment_list_count() and
 * hd_assignment_list_unref() are the public ones. */
struct hd_assignment_list *hd_map_new(void);
/* Entry @i (< the count), to read or change in place. */
struct hd_assignment *hd_map_at(const struct hd_assignment_list *list, size_t i);
void hd_map_clear(struct hd_assignment_list *list); /* no entries */
int hd_map_add(struct hd_assignment_list *list, const struct hd_assignment *a);
void hd_map_remove(struct hd_assignment_list *list, size_t i);
struct hd_assignment *hd_map_find(const struct hd_assignment_list *list,
                                  const struct hd_pci_addr *addr);
struct hd_assignment *hd_map_find_key(const struct hd_assignment_list *list,
                                      enum hd_assignment_kind kind, const char *name);
struct hd_assignment *hd_map_find_mdev(const struct hd_assignment_list *list, const char *uuid);
/* How a journal names a kind ("dev" for PCI, "mdev", "usb", "scsi") and back (-1: none). */
const char *hd_assignment_kind_word(enum hd_assignment_kind kind);
int hd_assignment_kind_parse(const char *word);
/* A map or journal key of @kind as written (canonical only) into @out; -EINVAL. */
int hd_assignment_key_parse(enum hd_assignment_kind kind, const char *text, char out[37]);
/* The entry of @list for the same device as @a (PCI or mdev). */
struct hd_assignment *hd_map_find_same(const struct hd_assignment_list *list,
                                       const struct hd_assignment *a);
/* The original owner of @path as recorded by whichever entry gave it away first. */
const struct hd_node_owner *hd_map_node_orig(const struct hd_assignment_list *list,
                                             const char *path);
/* STATE/map/assignments; an absent file is an empty map. */
int hd_map_read(struct hd_ctx *ctx, struct hd_assignment_list **list);
/* Replace it atomically (state.c). Call with the map lock held. */
int hd_map_write(struct hd_ctx *ctx, const struct hd_assignment_list *list);
/* Told of each entry of a damaged map: @name (a line that cannot be read: its text), @vm,
 * whether it is kept, and why not. */
typedef void (*hd_map_entry_fn)(void *data, const char *name, const char *vm, bool kept,
                                const char *why);
/* A damaged map as it would be rebuilt, writing nothing: the entries that can still be read
 * whole and that the kernel confirms (a PCI device on a vfio-pci family driver in the group
 * recorded, a mediated device with its parent, the same USB or SCSI device in its place). */
int hd_map_rebuild(struct hd_ctx *ctx, hd_map_entry_fn fn, void *data,
                   struct hd_assignment_list **out);
/* Under the map lock: a damaged map set aside (@aside: its new root-relative path, "" when it
 * was missing) and replaced by its rebuilt form. 1 repaired, 0 not damaged, -errno. */
int hd_map_repair(struct hd_ctx *ctx, hd_map_entry_fn fn, void *data, char *aside, size_t size);

struct hd_jdev;
/* The map entry a journal's device is (NULL: none). */
struct hd_assignment *hd_map_find_jdev(const struct hd_assignment_list *list,
                                       const struct hd_jdev *d);

/* ---- assign-check.c: can a device go to a VM ------------------------------------------------ */

/* Whether a VM can open a mediated device of @parent now: @driver, its parent's mdev driver
 * (NULL or "": none), took it (HD_MDEV_NO_DRIVER) and made it a VFIO device, with IOMMU
 * group @group (-1: none, HD_MDEV_NO_GROUP). When not, @why says so after the device's name
 * ("is bound to no mdev driver: ..."). check, doctor, acquire and verify all ask it, so they
 * say it alike. */
enum hd_mdev_readiness { HD_MDEV_READY, HD_MDEV_NO_DRIVER, HD_MDEV_NO_GROUP };
enum hd_mdev_readiness hd_mdev_readiness(const char *parent, const char *driver, int group,
                                        char *why, size_t size);
struct hd_node_target;
/* USB or SCSI device @sel found (hd_node_target_find()) into @t, and in @out its name and the
 * node a VM opens; one there without that node (a SCSI device with no dev/sgN) is found all
 * the same, why in @out->not_ready. -errno when there is none. */
int hd_node_target_find_ready(struct hd_ctx *ctx, const char *sel, struct hd_node_target *t,
                              struct hd_node_check *out);
/* What acquire refuses of USB or SCSI device @t unforced, into @out: what the host keeps
 * (host_keeps: a hub, a keyboard) or uses below it (host_use); *@hu as
 * hd_node_target_check_host_use() takes it. */
int hd_node_target_judge_host(struct hd_ctx *ctx, struct hd_host_use **hu,
                              const struct hd_node_target *t, struct hd_node_check *out);

/* ---- usb-scsi.c: USB and SCSI devices, given through their node ----------------------------- */

#define HD_NODE_TARGET_NAME_MAX 37 /* fits the map's key */
#define HD_NODE_SELECTOR_MAX 128   /* usb:VVVV:PPPP:SERIAL */
struct hd_node_target {
    enum hd_assignment_kind kind; /* HD_ASSIGNMENT_USB or _SCSI */
    char name[HD_NODE_TARGET_NAME_MAX]; /* libvirt's node-device name: usb_1_3, scsi_2_0_0_0 */
    char sysname[64];                   /* its sysfs name: 1-3, 2:0:0:0 */
    char sysfs[HD_PATH_MAX];            /* root-relative */
    char node[HD_NODE_PATH_MAX];        /* dev/bus/usb/001/004, dev/sg2 */
    char ids[16];                       /* USB: VVVV:PPPP */
};
bool hd_node_target_name_valid(const char *name);
/* @sel: a node-device name, or usb:VVVV:PPPP[:SERIAL] (one device must match). -ENODEV or
 * -EINVAL with a message. */
int hd_node_target_find(struct hd_ctx *ctx, const char *sel, struct hd_node_target *t);
/* -EBUSY (reason host-use) for a hub, a keyboard, or storage / an interface the host uses
 * below it; *@hu is made on first use and reused. */
int hd_node_target_check_host_use(struct hd_ctx *ctx, struct hd_host_use **hu,
                                  const struct hd_node_target *t);
/* "a hub", "a keyboard": what the host keeps of USB device @t (NULL: neither, or SCSI). */
const char *hd_node_target_host_role(struct hd_ctx *ctx, const struct hd_node_target *t);
/* Where recorded USB or SCSI device @a's node is now (a USB device that re-enumerated has a
 * new one); -ENODEV when it is gone or another device is in its place. */
int hd_node_target_refind(struct hd_ctx *ctx, const struct hd_assignment *a, char *node);
/* The entry of a device that sits below PCI device @pci_name (a USB or SCSI device behind
 * it, a mediated device it is the parent of): what taking that PCI device from its driver
 * would take from under a VM. NULL: none. */
const struct hd_assignment *hd_map_find_below(struct hd_ctx *ctx,
                                              const struct hd_assignment_list *map,
                                              const char *pci_name);
/* The host's keyboard (a HID boot keyboard) among the USB devices @l behind PCI device
 * @pci_name, a USB controller: 1 and its node-device name in @name, 0 when none. */
int hd_usb_keyboard_below(struct hd_ctx *ctx, const struct hd_nodedev_list *l,
                          const char *pci_name, char *name, size_t size);
/* Sysfs path @sysfs (root-relative, or a link's target) is below PCI device @pci_name: a
 * component of it, not the last (a class link never names the device itself). */
bool hd_sysfs_is_below(const char *sysfs, const char *pci_name);
/* The PCI device sysfs path (or link target) @sysfs lies below, the nearest: its last component
 * that is a PCI address (a disk behind a controller behind a bridge is the controller's). */
bool hd_sysfs_pci_of(const char *sysfs, struct hd_pci_addr *out);
/* -EINVAL (HD_REASON_INVALID) naming both when device @child lives on PCI device @pci_name:
 * a mediated device whose @parent it is, or a USB or SCSI device whose root-relative @sysfs is
 * below it (NULL: not asked). Detaching @pci_name takes @child from the host, so the two cannot
 * go to a VM together: acquire refuses them, check says so (acquire.c). */
int hd_check_not_below(struct hd_ctx *ctx, const char *child, const char *parent,
                       const char *sysfs, const char *pci_name);
/* -EINVAL (HD_REASON_INVALID) naming both when one of USB or SCSI devices @a and @b is below
 * the other (a stick's own SCSI disk, a device behind a hub): QEMU's usb-host claims the one
 * from the host and the other goes with it, so acquire refuses the two, check says so. */
int hd_check_targets_apart(struct hd_ctx *ctx, const struct hd_node_target *a,
                           const struct hd_node_target *b);
/* -EBUSY (HD_REASON_HELD) naming the device and its VM when the map gives a VM (any, the one
 * asking too: the same hardware twice) a device USB or SCSI device @t is behind (its PCI
 * controller, a hub, the stick whose SCSI disk it is) or one behind @t: QEMU's usb-host or
 * a detach would take the one from whoever has the other. Acquire refuses it, check says so
 * (acquire.c). */
int hd_check_target_chain_free(struct hd_ctx *ctx, const struct hd_assignment_list *map,
                               const struct hd_node_target *t);
/* -EBUSY (HD_REASON_HELD) naming the device and its VM when the map gives a VM a device
 * behind PCI device @dev (hd_map_find_below()): taking @dev from its driver would take that
 * from under the VM. Acquire refuses @dev, check says so (acquire.c). */
int hd_check_nothing_held_below(struct hd_ctx *ctx, const struct hd_assignment_list *map,
                                const struct hd_device *dev);

/* ---- safety.c ------------------------------------------------------------------------------ */

/* hd_host_use_new() for a caller that will ask about @devices devices (0: not known): a few
 * are each asked from their own directory first, which spares the host's listings for one
 * that has nothing they could find; more (or not known) read the listings once for all. */
int hd_host_use_new_for(struct hd_ctx *ctx, size_t devices, struct hd_host_use **out);
/* The host-safety checks of storage and interfaces below sysfs component @component (a USB
 * device's 1-3, a SCSI device's 2:0:0:0); the reasons call it @label (usb_1_3, scsi_2_0_0_0). */
int hd_host_use_check_below(struct hd_host_use *hu, const char *component, const char *label);
/* Would @dev leaving its driver for a VM pull something from under the host? 0 when it is on no
 * driver or a DMA-safe one (a stub, pcieport: nothing of the host's lives on it), or the host
 * uses nothing of it; -EBUSY, reason HD_REASON_HOST_USE, with hd_host_use_check()'s reasons.
 * *@hu (NULL at first) reads the host once for every device an operation or check asks about.
 * The one decision acquire, detach and check share; platform functions are asked apart. */
int hd_host_use_check_leaving(struct hd_ctx *ctx, struct hd_host_use **hu, struct hd_device *dev);
/* What the host uses of @dev, asked as acquire asks it (the one decision they share), into
 * *@use (allocated; NULL: nothing); *@hu reads the host once for every device asked about. A
 * device the host keeps (a platform function) is refused as that already: not asked. 0, or
 * -errno when the host cannot be read. */
int hd_host_use_find(struct hd_device *dev, struct hd_host_use **hu, char **use);
/* hd_host_use_find(), and for an SR-IOV PF on a host driver that has VFs the VFs its detach
 * would destroy: everything acquire and detach refuse @dev itself for without force, in their
 * words (check and doctor say it so, and advise neither while it stands). */
int hd_host_use_find_own(struct hd_device *dev, struct hd_host_use **hu, char **use);

/* ---- group.c ------------------------------------------------------------------------------ */

/* Count blocker @i of @g as no longer in the way (a dry run's view of what its plan detaches):
 * it stays a member. */
void hd_group_drop_blocker(struct hd_group *g, size_t i);
/* A member's driver (@driver, "" unbound) that its caller has just read from its link. */
struct hd_known_driver {
    struct hd_pci_addr addr;
    const char *driver;
};
/* hd_group_open_fill(), the members in @known taking their driver from it, not their link. */
int hd_group_open_known(struct hd_ctx *ctx, int number, unsigned int fill,
                        const struct hd_known_driver *known, size_t nknown, struct hd_group **out);

/* ---- lock.c ------------------------------------------------------------------------------- */

struct hd_lockset;
/* Lock STATE/locks/group-N for every group in @groups, in ascending order, waiting up to the
 * context's timeout for each. -EBUSY (message names the group; @busy, unless NULL, gets it). */
int hd_lock_groups(struct hd_ctx *ctx, const int *groups, size_t n, struct hd_lockset **set,
                   int *busy);
/* -EBUSY, the message saying IOMMU group @group is busy; @whose (NULL: none) says why the
 * operation wanted it ("usb_1_2: its controller 0000:00:04.0"). */
int hd_lock_busy(struct hd_ctx *ctx, int group, const char *whose);
bool hd_lockset_holds(const struct hd_lockset *set, int group);
/* A device with no IOMMU group has no group lock to serialise its operations: it is locked by
 * address (STATE/locks/device-ADDR), after the groups, in ascending order. 0, -EBUSY naming it. */
int hd_lockset_add_devices(struct hd_ctx *ctx, struct hd_lockset *set,
                           const struct hd_pci_addr *addrs, size_t n);
bool hd_lockset_holds_device(const struct hd_lockset *set, const struct hd_pci_addr *addr);
/* The holder works on the devices @addrs too (under their groups' locks): a dead operation's
 * intent log naming one is the holder's to recover, whatever group it names (the device may
 * have had another, gone since). No lock is taken. */
int hd_lockset_cover_devices(struct hd_lockset *set, const struct hd_pci_addr *addrs, size_t n);
/* @addr is locked by address or covered. */
bool hd_lockset_covers_device(const struct hd_lockset *set, const struct hd_pci_addr *addr);
struct hd_lockset *hd_lockset_release(struct hd_lockset *set);
/* STATE/locks/map, for read-modify-write of the map. */
int hd_lock_map(struct hd_ctx *ctx, int *fd);
void hd_unlock(int fd);

/* ---- journal.c: the intent log ------------------------------------------------------------ */

/* Every writing operation of the engine (txn.c) keeps one. */
enum hd_jop {
    HD_JOP_ACQUIRE,
    HD_JOP_RELEASE,
    HD_JOP_DETACH,
    HD_JOP_REATTACH,
    HD_JOP_RESET,
    HD_JOP_NUMVFS,
    HD_JOP_RESERVE,
    HD_JOP_MDEV, /* creating or removing a mediated device */
    HD_JOP_COUNT
};
extern const char *const hd_jop_names[HD_JOP_COUNT];

enum hd_jstep_kind {
    HD_JSTEP_DETACH,   /* about to move a device from @from ("" none) to the stub @to */
    HD_JSTEP_REATTACH, /* about to move a device from the stub @from back to its record */
    HD_JSTEP_RESET,    /* about to reset (nothing to undo) */
    HD_JSTEP_OWN,      /* about to chown/chmod node: the owner and mode it has now */
    HD_JSTEP_NUMVFS,   /* about to change a PF's VF count from @old_numvfs */
    HD_JSTEP_OVERRIDE, /* about to set driver_override; @from is its value now ("" none) */
    HD_JSTEP_MDEV_CREATE, /* about to create mediated device @mdev_uuid of @mdev_type there */
    HD_JSTEP_MDEV_REMOVE, /* about to remove it (what it was: to make again) */
    HD_JSTEP_FORGET,   /* about to drop the record of a VF the VF count destroys (@record_driver;
                        * @from: the driver it is on) */
};

/* What a device's driver record says (STATE/drivers/<BDF>). */
enum hd_jrecord {
    HD_JREC_UNKNOWN, /* a version 1 journal did not say */
    HD_JREC_NONE,    /* there was no record */
    HD_JREC_DRIVER,  /* it named a driver (or "" for "no driver") */
};

struct hd_jdev {
    enum hd_assignment_kind kind;
    struct hd_pci_addr addr; /* PCI */
    int group;               /* -1: none (USB, SCSI) */
    char name[37];           /* the others: the map's key (mdev UUID, usb_1_3, scsi_2_0_0_0) */
    /* Only to lock, never journaled: @addr and @group are those of the PCI device @name lives
     * on (a USB or SCSI device's controller, a mediated device's parent). */
    bool on_parent;
    /* Only to lock, never journaled: the device was read on no VFIO driver, so @group is an
     * IOMMU group, not one vfio's no-IOMMU mode made (vfio makes those only for a device it
     * holds, and a device in an IOMMU group gets none): its name need not be read. */
    bool iommu_group;
};

struct hd_jstep {
    enum hd_jstep_kind kind;
    struct hd_pci_addr addr;   /* all but OWN */
    struct hd_node_owner node; /* OWN */
    bool from_known;           /* DETACH/REATTACH of a version 1 journal: false */
    char from[HD_DRIVER_NAME_MAX];
    char to[HD_DRIVER_NAME_MAX];
    enum hd_jrecord record;    /* DETACH: the record before it; REATTACH: the record it used */
    char record_driver[HD_DRIVER_NAME_MAX];
    char record_override[HD_DRIVER_NAME_MAX]; /* REATTACH, FORGET: its override line, "" none */
    int old_numvfs, old_autoprobe; /* NUMVFS; -1 unknown */
    /* MDEV_*: the parent (as in sys/class/mdev_bus), the type, the device */
    char mdev_parent[HD_DRIVER_NAME_MAX], mdev_type[HD_DRIVER_NAME_MAX], mdev_uuid[37];
};

/* An operation's intent log, open while it runs or read back by recover (private to journal.c). */
struct hd_journal;
enum hd_jop hd_journal_op(const struct hd_journal *j);
const char *hd_journal_vm(const struct hd_journal *j); /* "" for operations without a VM */
const char *hd_journal_path(const struct hd_journal *j); /* relative to the root */
/* Never got its name: its process died before any write (hd_journal_claim()). */
bool hd_journal_is_tmp(const struct hd_journal *j);
bool hd_journal_is_committed(const struct hd_journal *j); /* its "commit" line is there */
/* Its file is made (hd_journal_prepare() makes none until the first flush). */
bool hd_journal_is_made(const struct hd_journal *j);
/* The plan, and what was started, in order. */
const struct hd_jdev *hd_journal_devs(const struct hd_journal *j, size_t *n);
const struct hd_jstep *hd_journal_steps(const struct hd_journal *j, size_t *n);
/* The OWN step that gave node @path away (NULL: none, or @j NULL). */
const struct hd_jstep *hd_journal_find_own(const struct hd_journal *j, const char *path);

/* Create, lock and fsync a journal naming the plan (@vm may be NULL). */
int hd_journal_begin(struct hd_ctx *ctx, enum hd_jop op, const char *vm,
                     const struct hd_jdev *devs, size_t n, struct hd_journal **j);
/* The same, kept in memory (fd -1) until hd_journal_flush(): an operation that has nothing to
 * do never makes one, and the header goes to disk with the first intents, in one write and
 * one fsync. */
int hd_journal_prepare(struct hd_ctx *ctx, enum hd_jop op, const char *vm,
                       const struct hd_jdev *devs, size_t n, struct hd_journal **j);
/* Add @step's line without writing it: hd_journal_flush() writes every such line (and makes
 * the file first when it is not made yet) in one write and one fsync, before the first of
 * those steps is done. */
int hd_journal_defer(struct hd_ctx *ctx, struct hd_journal *j, const struct hd_jstep *step);
int hd_journal_flush(struct hd_ctx *ctx, struct hd_journal *j);
/* A "drop DIR NAME" line (written with the next flush): state record @dir/@name goes once the
 * operation commits. Only a PF's autoprobe record (HD_AUTOPROBE_RECORD, its address): -EINVAL
 * for anything else. */
int hd_journal_defer_drop(struct hd_ctx *ctx, struct hd_journal *j, const char *dir,
                          const char *name);
/* The record @j's commit drops (its "drop" line): true and @dir/@name, or false. */
bool hd_journal_drop(const struct hd_journal *j, const char **dir, const char **name);
/* The operation reached its commit: say so durably before cleaning up. */
int hd_journal_commit(struct hd_ctx *ctx, struct hd_journal *j);
/* The operation is over (done or undone): unlink, then unlock. */
void hd_journal_end(struct hd_ctx *ctx, struct hd_journal *j);
/* Unlock and free, leaving the file (for recover). */
struct hd_journal *hd_journal_close(struct hd_journal *j);
/*
 * Who undoes an operation whose caller gave up on a hanging write, or died: the last of its
 * writers to leave the kernel. The operation holds a shared lock on the journal through an
 * open file description of its own (F_OFD_SETLKW, apart from the flock that says the operation
 * lives); each writer child shares that description from the fork until its write returned,
 * so the lock stands while the operation or any write is in the kernel. Whoever is done and
 * finds the caller gone lets go and tries the lock exclusively on a description of its own:
 * only the last one gets it.
 */
/* A shared hold on @j's file: the descriptor, or -errno. */
int hd_journal_hold(struct hd_ctx *ctx, const struct hd_journal *j);
/* Close the hold *@hold_fd (-1: none) and take @j's lock exclusively on a new description if
 * nobody else holds it and the journal was not ended meanwhile: true then, and *@hold_fd holds
 * it exclusively until closed; false with *@hold_fd -1. */
bool hd_journal_last(struct hd_ctx *ctx, const struct hd_journal *j, int *hold_fd);
/* After hd_journal_last(): a shared hold again, so the undo's own writers can hold it too. */
void hd_journal_rehold(int fd);
/* Names in STATE/journal (none when it does not exist). */
int hd_journal_list(struct hd_ctx *ctx, char ***names, size_t *n);
/* Lock and read a journal whose process is gone: -EBUSY while it lives, -ENOENT when it
 * finished meanwhile, -EAGAIN for a temporary one just being created, -EBADMSG when it cannot
 * be read (then *j holds what could be read, for hd_journal_set_aside()). */
int hd_journal_claim(struct hd_ctx *ctx, const char *name, struct hd_journal **j);
/* Whether a live process holds intent log @name: its operation runs, or a write it started
 * still hangs in the kernel (what hd_journal_claim() would find -EBUSY), without locking it. */
bool hd_journal_is_live(struct hd_ctx *ctx, const char *name);
/* Read a journal without locking it (to see which groups a busy one is about). */
int hd_journal_peek(struct hd_ctx *ctx, const char *name, struct hd_journal **j);
/* @fn for each device of each intent log in STATE/journal, read without locking it, with
 * whether its operation is under way (hd_journal_is_live()); a log that cannot be read, or a
 * temporary one, is recover's to say and skipped. A non-zero return of @fn stops the walk and
 * is returned; 0 when it went through (none: no state directory). */
typedef int hd_journal_dev_fn(void *data, const struct hd_journal *j, const struct hd_jdev *dev,
                              bool live);
int hd_journal_each_dev(struct hd_ctx *ctx, hd_journal_dev_fn *fn, void *data);
/* Move a damaged journal to STATE/damaged/, where it holds back the groups it names until
 * someone removes it. */
int hd_journal_set_aside(struct hd_ctx *ctx, struct hd_journal *j);
/* How many journals are set aside. */
int hd_journal_count_damaged(struct hd_ctx *ctx, unsigned int *count);
/* The first set-aside journal naming one of @groups: -EBUSY with a message naming it, else 0. */
int hd_journal_check_damaged(struct hd_ctx *ctx, const int *groups, size_t n);

/* ---- txn.c: the one transaction engine ------------------------------------------------------ */
/*
 * Every command that changes the host is a transaction: its devices' groups are locked (and
 * what dead processes left on them recovered), each step is journaled and fsynced before its
 * write, verified against the kernel, and the transaction commits through the records (the
 * map for acquire/release, a "commit" line for the rest); any failure undoes every started
 * step, newest first. A dry run plans the same steps and writes nothing at all.
 */
struct hd_op;
struct hd_txn; /* private to txn.c */
/* hd_txn_new() flag: the journal's file is made by the first hd_txn_step() or hd_txn_flush()
 * (and never when there is nothing to do), not by hd_txn_begin(). */
#define HD_TXN_LAZY (1u << 0)
/* A transaction of @op (on its context, a dry run when its request says so; its planned and
 * done steps are reported there), journaled as @kind for @vm (NULL or "": none). -ENOMEM. */
int hd_txn_new(struct hd_op *op, enum hd_jop kind, const char *vm, unsigned int flags,
               struct hd_txn **t);
/* After hd_txn_commit() or hd_txn_abort(), or instead of them when it never locked. */
void hd_txn_free(struct hd_txn *t);
struct hd_ctx *hd_txn_ctx(const struct hd_txn *t);
bool hd_txn_dry_run(const struct hd_txn *t);
const char *hd_txn_vm(const struct hd_txn *t); /* "" for none */
/* Does the transaction hold @group's lock (hd_txn_lock())? */
bool hd_txn_holds_group(const struct hd_txn *t, int group);
/* The OWN step this transaction journaled for node @path (NULL: none). */
const struct hd_jstep *hd_txn_find_own(const struct hd_txn *t, const char *path);

/* Add at j[*n] (and count it in @n) the entry that locks, for device @kind @name, the IOMMU
 * group of the PCI device @pci_name it lives on (a mediated device's parent, a USB or SCSI
 * device's controller): none added when @pci_name is no PCI device, or has no group. */
void hd_jdev_add_parent(struct hd_ctx *ctx, struct hd_jdev *j, size_t *n,
                        enum hd_assignment_kind kind, const char *name, const char *pci_name);
/* What an operation on @devs locks, and recovery of a journal of them too: their IOMMU groups,
 * each once (*@count of them), and the devices it locks by address (*@naddrs: those with no
 * group, or in one vfio's no-IOMMU mode made). Allocated; NULL: no memory. */
int *hd_jdev_groups(const struct hd_jdev *devs, size_t n, size_t *count);
struct hd_pci_addr *hd_jdev_addrs_to_lock(struct hd_ctx *ctx, const struct hd_jdev *devs,
                                          size_t n, size_t *naddrs);
/* Lock the groups of @devs, recover what dead processes left on them, refuse groups a damaged
 * journal names. Dry runs lock nothing. */
int hd_txn_lock(struct hd_txn *t, const struct hd_jdev *devs, size_t n);
/* Open the journal (not in a dry run). Call after the checks, before the first step. */
int hd_txn_begin(struct hd_txn *t, const struct hd_jdev *devs, size_t n);
/* Journal @s (dry run: only report it) before doing it. Returns 1 when the caller is to do
 * the step, 0 in a dry run, or -errno. @detail describes it for the plan. */
int hd_txn_step(struct hd_txn *t, const struct hd_jstep *s);
/* The same, its line written by the next hd_txn_flush() (or hd_txn_step()): a phase's steps
 * are journaled together, in one write and one fsync, before the first of them is done. */
int hd_txn_defer(struct hd_txn *t, const struct hd_jstep *s);
int hd_txn_flush(struct hd_txn *t);
/* Before the step that moves PF @pf off its driver (forced: the driver turns SR-IOV off as it
 * lets go), its VF count as a deferred step "N -> 0": nothing is written for it, but its undo,
 * done after the move's (newest first), makes the VFs again as they were. 1 (none when @pf has
 * no VFs), 0 in a dry run, or -errno, as hd_txn_defer(). */
int hd_txn_defer_vfs_go(struct hd_txn *t, const struct hd_device *pf);
/* The same with @planned VFs (-1: those it has), the count a dry run's earlier step plans
 * (hd_op_set_planned_numvfs()): the plan tells them going as the run does. */
int hd_txn_defer_vfs_go_planned(struct hd_txn *t, const struct hd_device *pf, int planned);
/* Before the step that moves @parent off its host driver (forced: the driver removes its
 * mediated devices as it lets go), each of its mediated devices as a deferred "mdev-remove":
 * the plan and the run say it goes, and its undo, done after the move's, makes it again with
 * its UUID and type; looked up only when @forced (else host use refused such a parent). 1
 * (none when it has none), 0 in a dry run, or -errno. */
int hd_txn_defer_mdevs_go(struct hd_txn *t, const struct hd_device *parent, bool forced);
/* Report a step that needs no undo and no journal line (a record written with its step). */
void hd_txn_note(struct hd_txn *t, const char *kind, const char *device, const char *from,
                 const char *to);
/* The newest reported step @action of @device ends in @state (hd_op_settle_step()). */
void hd_txn_settle(struct hd_txn *t, const char *action, const char *device, int state);
/* The newest reported step @action of @device went to @to (hd_op_step_arrived()). */
void hd_txn_arrived(struct hd_txn *t, const char *action, const char *device, const char *to);
/* The reset tasks of @b that vfio-pci was left to do (result 1): their steps say so. */
struct hd_batch;
void hd_txn_settle_resets(struct hd_txn *t, const struct hd_batch *b);
/* Run @b (hd_batch_run()) unless planning it failed (@planned < 0, returned): on a failure
 * its steps say which task failed and which never started (every one, when it never ran). */
int hd_txn_run_batch(struct hd_txn *t, struct hd_batch *b, int planned);
/* The step reported last failed (the write after its hd_txn_step() did): it says so whatever
 * the undo does. */
void hd_txn_step_failed(struct hd_txn *t);
/* The state record @dir/@name goes once the operation commits, not before: an undo (in the
 * process, or recover's after a kill) may still need it. Journaled (hd_journal_defer_drop()),
 * so that recover, finishing the operation after a kill between its commit line and the
 * removal, drops it too. One per transaction. */
int hd_txn_drop_at_commit(struct hd_txn *t, const char *dir, const char *name);
/* Done: write the commit line, drop the journal (and the record hd_txn_drop_at_commit() named),
 * unlock. */
int hd_txn_commit(struct hd_txn *t);
/* Failed with @err: undo newest first (or, for a hang, leave it to recover); unlock. Returns
 * @err with the first failure's message. */
int hd_txn_abort(struct hd_txn *t, int err);
/* Undo what @j started, newest first. 0 when everything is back. */
int hd_txn_undo(struct hd_ctx *ctx, const struct hd_journal *j);
/* Did the operation of @j reach its commit? */
bool hd_txn_committed(const struct hd_journal *j, const struct hd_assignment_list *map);

/* Shared by the engine's operations. */
/* What the engine reads of a device: everything but names (messages name addresses). */
#define HD_TXN_FILL (HD_FILL_ALL & ~(unsigned)HD_FILL_NAMES)
/* What binding and unbinding it needs (an undo too): HD_FILL_EXTRA (numa node, reset methods)
 * and HD_FILL_CONFIG (the header type: hd_device_check_endpoint() reads it) left out, so what
 * only a reset, an acquire or a move to a stub reads never stands in the way of the rest: a
 * device whose config space fails to read still goes back to its host driver. */
#define HD_TXN_FILL_BIND (HD_TXN_FILL & ~(unsigned)(HD_FILL_EXTRA | HD_FILL_CONFIG))
/* What giving a device back from a VM reads: its reset's side (HD_FILL_EXTRA) and its bind's,
 * no config space but where a reset's methods come from it. */
#define HD_TXN_FILL_RELEASE (HD_TXN_FILL_BIND | HD_FILL_EXTRA)
/* HD_TXN_FILL_BIND read again, and HD_FILL_EXTRA too when the device has it (config space is
 * the slot's: no bind changes it). */
int hd_txn_refresh(struct hd_device *dev);
int hd_txn_set_owner(struct hd_ctx *ctx, const struct hd_node_owner *n);
/* Lock @groups and the @naddrs group-less devices @addrs, then recover what dead processes
 * left on them and on the @ncovered devices @covered (every PCI device the operation works
 * on: hd_lockset_cover_devices()). -EBUSY as hd_lock_groups(). */
int hd_lock_and_recover(struct hd_ctx *ctx, const int *groups, size_t n,
                        const struct hd_pci_addr *addrs, size_t naddrs,
                        const struct hd_pci_addr *covered, size_t ncovered,
                        struct hd_lockset **set, int *busy);

/* ---- recover.c ----------------------------------------------------------------------------- */

/* Deal with dead journals touching the groups in @held (NULL: all), whose locks
 * this process already holds. With @held, -EAGAIN when another process is recovering a
 * journal about those groups (it waits for our locks: let go and try again). @report (NULL:
 * none) gets a step per intent log, as hd_ops_recover()'s dry run plans them. */
int hd_recover_held(struct hd_ctx *ctx, const struct hd_lockset *held, unsigned int *count,
                    struct hd_op *report);
int hd_ops_recover(struct hd_op *op);

/* ---- par.c: independent steps at once -------------------------------------------------------- */
/*
 * An operation's single-device writes, journaled by the caller before the batch runs: the
 * members of one IOMMU group, a VF with its PF, what a bus reset hits and binds by new_id keep
 * their order (one chain); the chains run side by side, each worker thread on a context of
 * its own (at most HD_PAR_WORKERS). After a failure no step starts; the started ones finish.
 */
enum hd_task_kind { HD_TASK_DETACH, HD_TASK_REATTACH, HD_TASK_RESET, HD_TASK_RESERVE };

struct hd_task {
    enum hd_task_kind kind;
    struct hd_device *dev; /* a reference: the caller's snapshot; a worker opens its own */
    char driver[HD_RECORD_MAX]; /* DETACH, RESERVE: the stub; REATTACH: the record */
    unsigned int flags;    /* DETACH: HD_DETACH_*, HD_BIND_*; REATTACH: HD_BIND_*; RESET:
                            * HD_RESET_* */
    bool vfio_resets;      /* RESET: no method working on a vfio-pci device is fine */
    /* The outcome: */
    bool ran;
    int result; /* 0 done, 1 RESERVE pending until the stub registers or RESET left to
                 * vfio-pci, -errno */
    struct hd_saved_error error;
};

struct hd_batch {
    struct hd_task *v;
    size_t n, cap;
};

int hd_batch_add(struct hd_batch *b, enum hd_task_kind kind, struct hd_device *dev,
                 const char *driver, unsigned int flags);
/* Run every task; 0, or -errno with the failed tasks' messages merged on @ctx (a timeout
 * among them makes it -ETIMEDOUT). The caller's snapshots are stale afterwards. */
int hd_batch_run(struct hd_ctx *ctx, struct hd_batch *b);
void hd_batch_free(struct hd_batch *b);
/* The chains of a batch, and one step on @dev (a snapshot of @ctx), its result and
 * error kept in @t. */
struct hd_par_plan {
    struct hd_batch *b;
    size_t *order;       /* task indices, chain after chain */
    size_t *chain_start; /* nchains + 1 offsets into order */
    size_t nchains;
};
void hd_task_run(struct hd_ctx *ctx, struct hd_device *dev, struct hd_task *t);

/* ---- par-threads.c (par-none.c without threads) -------------------------------------------- */

/* Run @plan's chains on worker threads; false when it could not
 * start one (nothing ran: the caller runs them itself). */
bool hd_par_run(struct hd_ctx *ctx, struct hd_par_plan *plan);

/* ---- op.c: the operation object ------------------------------------------------------------ */

/* The request an operation was given, and its report. */
struct hd_op_request {
    enum hd_op_kind kind;
    struct hd_pci_addr *addrs;
    bool *unmanaged; /* per device (acquire) */
    bool *mode_asked; /* per device (acquire): false from hd_op_add_device_default() */
    size_t n;
    unsigned int flags; /* enum hd_op_flags, HD_OP_AT_BOOT */
    char driver[HD_DRIVER_NAME_MAX]; /* "": each device's vfio-pci family driver */
    char (*drivers)[HD_DRIVER_NAME_MAX]; /* per device; "": @driver */
    char vm[HD_VM_ID_MAX + 1];
    uid_t uid;
    gid_t gid;
    bool owner_asked; /* hd_op_set_owner() was called; else hd_owner_default()'s, and a held
                       * device's owner is whatever it has */
    unsigned int numvfs;
    /* A dry run's: the VF count a step planned before this operation leaves the PF
     * @planned_pf with (-1: none), which its checks count on, as the run's find it set. */
    struct hd_pci_addr planned_pf;
    int planned_numvfs;
    /* A dry run's: the driver a step planned before this operation binds @planned_bound to
     * ("": none), as the run's find it bound. */
    struct hd_pci_addr planned_bound;
    char planned_driver[HD_DRIVER_NAME_MAX];
    char mdev_parent[HD_DRIVER_NAME_MAX], mdev_type[HD_DRIVER_NAME_MAX], mdev_uuid[37];
    char (*mdevs)[37]; /* acquire, release: mediated devices, by canonical UUID */
    size_t nmdevs;
    char (*named)[HD_NODE_SELECTOR_MAX]; /* acquire, release: USB and SCSI devices, as given */
    size_t nnamed;
};
/* Request flag of the engine's own: a boot's reservation (hd_reserve_config_apply()), whose
 * binds are HD_DETACH_AT_BOOT. */
#define HD_OP_AT_BOOT (1u << 16)
/* Request flag of the engine's own: nobody reads the report's notes (a call that returns no
 * operation; unpersist's give-back, whose devices are those no other reservation keeps), so
 * none is looked for. */
#define HD_OP_NO_NOTES (1u << 17)
const struct hd_op_request *hd_op_request(const struct hd_op *op);
/* The driver asked for @addr: its own, else the operation's ("": the default). */
const char *hd_op_request_driver(const struct hd_op_request *req, const struct hd_pci_addr *addr);
/* The driver @dev is detached to: the one asked for, else its vfio-pci family driver (vfio-pci
 * itself with HD_OP_NEW_ID: a variant binds only through driver_override). */
int hd_op_target_driver(struct hd_ctx *ctx, const struct hd_op_request *req,
                        struct hd_device *dev, char *buf, size_t size);
/* That driver can be had, when it is a stub: loaded, or loadable on the host itself (what the
 * bind would find out, said in the plan, before anything is written); a variant asked for with
 * HD_OP_NEW_ID is bad input (-EINVAL, HD_REASON_INVALID). 1 when it is a stub
 * registered now, 0 when it can be had otherwise, or -errno with the reason on @ctx. */
int hd_op_check_target_available(struct hd_ctx *ctx, const struct hd_op_request *req,
                                 struct hd_device *dev);
/* NUMVFS: the PF's VF count and sriov_drivers_autoprobe before, as read under the locks, and
 * the vfio-pci family driver its new VFs come up on (NULL: none, unbound). */
void hd_op_set_previous_sriov(struct hd_op *op, int numvfs, int autoprobe, const char *vf_driver);
/* NUMVFS: the @n @entries of @config (referenced) that reserve a VF the lower count removes
 * and no count the boot sets makes; @entries (allocated) becomes the operation's. @boot_numvfs:
 * @config's entry that sets the PF to another count at boot, or NULL. */
void hd_op_set_unmade(struct hd_op *op, struct hd_reserve_config *config,
                      const struct hd_reserve_entry **entries, size_t n,
                      const struct hd_reserve_entry *boot_numvfs);
/* Under a dry run, the VF count @n a step planned before this operation sets the PF @pf to. */
void hd_op_set_planned_numvfs(struct hd_op *op, const struct hd_pci_addr *pf, int n);
/* Under a dry run, the driver @driver a step planned before this operation binds @dev to. */
void hd_op_set_planned_driver(struct hd_op *op, const struct hd_pci_addr *dev, const char *driver);
/* The public operation object's report side, filled by the engine. */
int hd_op_report_step(struct hd_op *op, const char *kind, const char *device, const char *from,
                      const char *to);
/* The same for a step with no write of its own (hd_txn_note()): a failure does not read it
 * undone (hd_op_mark_steps()). */
int hd_op_report_note(struct hd_op *op, const char *kind, const char *device, const char *from,
                      const char *to);
/* Step @i's @to, known only once what it reports is done. */
void hd_op_set_step_to(struct hd_op *op, size_t i, const char *to);
void hd_op_mark_steps(struct hd_op *op, int state);
/* A failure nothing undoes (the emergency release: no journal, each step reported just before
 * its write): the newest step not settled is the one that failed, those before it are done. */
void hd_op_mark_stopped(struct hd_op *op);
/* The newest unmarked step @action of @device ends in @state whatever the operation's outcome
 * (but undone when the operation is). */
void hd_op_settle_step(struct hd_op *op, const char *action, const char *device, int state);
/* Step @i (unmarked) ends in @state whatever the operation's outcome: a failure's marking
 * leaves failed, not-run and not-undone as they are. */
void hd_op_settle_step_at(struct hd_op *op, size_t i, int state);
/* The newest unmarked step @action of @device never started (its batch stopped at another's
 * failure): it, and the steps journaled just before it for the same device, are not-run. */
void hd_op_settle_unrun(struct hd_op *op, const char *action, const char *device);
/* Its target, as the run found it (the kernel's choice, read back). */
void hd_op_step_arrived(struct hd_op *op, const char *action, const char *device, const char *to);
/* The IOMMU group (-1: none) of the newest step @action of @device's device, as the operation
 * read it: what the note on groups left not viable takes instead of reading the link again. */
void hd_op_step_group(struct hd_op *op, const char *action, const char *device, int group);
/* The group a detach step's device got is one vfio's unsafe no-IOMMU mode made. */
void hd_op_step_noiommu(struct hd_op *op, const char *action, const char *device);
struct hd_ctx *hd_op_ctx(const struct hd_op *op);

/* ---- ops.c: the device operations ---------------------------------------------------------- */

/* Refuse, naming the VM, when a VM holds @pf or one of its VFs (which @what, a PF
 * leaving its driver or a new VF count, would destroy). */
int hd_check_vfs_free(struct hd_ctx *ctx, struct hd_device *pf,
                      const struct hd_assignment_list *map, const char *what);
/* Refuse, unless @force, when @pf has VFs, which @what (its driver letting go) destroys. */
int hd_check_pf_keeps_vfs(struct hd_ctx *ctx, struct hd_device *pf, bool force, const char *what);
/* Refuse (bad input) when @devs, the operation's other devices, hold a VF of @pf, which @what
 * (its driver letting go) destroys half-way through: one or the other, never both. */
int hd_check_not_with_own_vf(struct hd_ctx *ctx, struct hd_device *pf,
                             struct hd_device *const *devs, size_t n, const char *what);
/* Refuse when user space has @dev open through VFIO (a VM, or a user-space driver hostdev
 * may not know of: QEMU run by hand, DPDK): vfio-pci counts the device enabled while its VFIO
 * device is open; an unbind (@what) would wait for that process and take the device from it,
 * a reset would reset it under it. */
int hd_check_not_open(struct hd_ctx *ctx, struct hd_device *dev, const char *what);
/* The same for mediated device @uuid: its IOMMU group @group held through VFIO. */
int hd_check_mdev_not_open(struct hd_ctx *ctx, const char *uuid, int group, const char *what);
/* Refuse (bad input) what no host state makes possible, so that a reservation entry can be
 * checked as the operation checks it (hd_reserve_entry_check()): a VF count @numvfs for @pf
 * when it is no PF or it supports fewer; a reservation of @dev when it is a bridge. */
int hd_check_numvfs_possible(struct hd_ctx *ctx, struct hd_device *pf, unsigned int numvfs);
/* Refuse a VF count on @pf once it is on @driver when @driver is vfio-pci and its enable_sriov
 * parameter reads N (vfio-pci's sriov_configure answers ENOENT then), or a stub that has none
 * (pci-stub: with @first, bad input); @first: the PF is not on it yet, a reservation binds it
 * before its count is set. */
int hd_check_stub_sets_count(struct hd_ctx *ctx, struct hd_device *pf, const char *driver,
                             bool first);
/* Refuse (bad input) a bridge where a VM's device is asked for, or a reservation of one: what
 * it is, not who holds it, so it is asked before any lock file is made. */
#define HD_REFUSE_ASSIGN "it cannot be assigned to a VM"
#define HD_REFUSE_RESERVE "it cannot be reserved for a VM"

/* The operations of the engine, run by hd_op_run() (acquire.c, mdev-ops.c and recover.c have
 * the others). */
int hd_ops_detach(struct hd_op *op);
int hd_ops_reattach(struct hd_op *op);
int hd_ops_reset(struct hd_op *op);
int hd_ops_numvfs(struct hd_op *op);
int hd_ops_reserve(struct hd_op *op);

/* ---- acquire.c: the VM operations ---------------------------------------------------------- */

int hd_ops_acquire(struct hd_op *op);
int hd_ops_release(struct hd_op *op);
int hd_ops_follow(struct hd_op *op);

/* ---- mdev-ops.c: mediated devices made and removed ----------------------------------------- */

int hd_ops_mdev_create(struct hd_op *op);
int hd_ops_mdev_remove(struct hd_op *op);
/* Put back what an MDEV_* step of a journal started (remove what it made, make again what it
 * removed); 0 when it is as it was. */
int hd_mdev_undo(struct hd_ctx *ctx, const struct hd_jstep *s);

/* ---- dmar.c: the ACPI DMAR table (Intel VT-d) --------------------------------------------- */

#define HD_DMAR_MAX_RMRR_DEVICES 16

struct hd_dmar_info {
    bool intr_remap;    /* flags bit 0: the platform supports interrupt remapping */
    bool x2apic_opt_out; /* flags bit 1: firmware asks the OS not to use x2APIC */
    size_t drhd;        /* remapping units */
    size_t rmrr;        /* reserved memory regions */
    size_t rmrr_behind_bridge; /* RMRR device scopes whose endpoint is behind a bridge */
    size_t n_rmrr_devices;     /* RMRR endpoints on a root bus (listed below) */
    struct hd_pci_addr rmrr_devices[HD_DMAR_MAX_RMRR_DEVICES];
};

/* Parse ROOT/sys/firmware/acpi/tables/DMAR. -ENOENT absent, -EACCES unreadable, -EBADMSG
 * when it is not a well-formed DMAR table. */
int hd_dmar_read(struct hd_ctx *ctx, struct hd_dmar_info *info);

/* ---- iommu.c: what the kernel, the firmware and the modules say --------------------------- */

enum hd_module_state {
    HD_MODULE_ABSENT,
    HD_MODULE_LOADED,  /* sys/module/NAME/initstate exists: a loadable module, loaded */
    HD_MODULE_BUILTIN, /* sys/module/NAME without initstate */
};

struct hd_iommu_facts {
    const struct hd_cmdline *cmdline; /* NULL: unreadable */
    size_t intel_units, amd_units, other_units;
    size_t groups;
    int acpi_tables;         /* 1: sys/firmware/acpi/tables readable; 0 missing */
    bool dmar_table, ivrs_table;
    int dmar_parsed;         /* 0 parsed into dmar; else the -errno */
    struct hd_dmar_info dmar;
    enum hd_iommu_vendor cpu_vendor;
    bool virtual_machine;               /* cpuinfo's "hypervisor" flag: we are a guest */
    enum hd_iommu_vendor vendor;        /* the IOMMU's: units, else tables, else the CPU */
    enum hd_tristate interrupt_remapping;
    enum hd_tristate unsafe_interrupts; /* sysfs vfio_iommu_type1 parameter */
    enum hd_tristate noiommu;           /* sysfs vfio parameter */
    enum hd_module_state vfio, vfio_pci, vfio_iommu_type1;
    bool vfio_pci_driver; /* sys/bus/pci/drivers/vfio-pci */
    const char *domain_type;
};

/* ---- iommu-rules.c: from facts to findings and fixes -------------------------------------- */

/* Add the findings @facts show to @findings; returns whether VFIO can isolate devices, or
 * -ENOMEM. */
int hd_iommu_diagnose(struct hd_findings *findings, const struct hd_iommu_facts *facts);

/* ---- findings.c: the one findings type -------------------------------------------------- */

struct hd_findings *hd_findings_new(void); /* NULL: out of memory */
/* Add a finding (@device NULL: the host); -ENOMEM, which sticks, when out of memory. */
int hd_findings_add(struct hd_findings *findings, enum hd_severity severity, const char *code,
                    const char *device, const char *fix, const char *fmt, ...) HD_PRINTF(6, 7);
int hd_findings_error(const struct hd_findings *findings); /* 0, or the sticky -ENOMEM */
void hd_findings_set_error(struct hd_findings *findings, int err); /* the first one sticks */
/* The remedy of the finding added last (none added, or the add failed: nothing). */
void hd_findings_set_remedy(struct hd_findings *findings, enum hd_remedy remedy);
/* Its HD_REMEDY_PERSIST_VF_COUNT's arguments (hd_findings_get_remedy_vf_count()). */
void hd_findings_set_remedy_vf_count(struct hd_findings *findings, const struct hd_pci_addr *pf,
                                     int numvfs, bool persisted);
/* Its HD_REMEDY_REACQUIRE's arguments (hd_findings_get_remedy_holder()). */
void hd_findings_set_remedy_holder(struct hd_findings *findings, const char *vm, uid_t uid,
                                   gid_t gid);
/* Its HD_REMEDY_PERSIST_MEMBERS' arguments, the @n addresses copied
 * (hd_findings_get_remedy_members()). */
void hd_findings_set_remedy_members(struct hd_findings *findings,
                                    const struct hd_pci_addr *members, size_t n);
void hd_findings_sort(struct hd_findings *findings);       /* worst first, stable */
/* How to put a parameter on the kernel command line, for fixes that add one. */
#define HD_ADVICE_HOW_TO_ADD "(e.g. GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub)"

/* ---- vfio.c ------------------------------------------------------------------------------- */

/* The vfio cdev and iommufd uAPI of Linux 6.6, under our own names (older headers lack it; the
 * numbers are ABI): _IO(VFIO_TYPE, VFIO_BASE + 18), + 19, _IO(IOMMUFD_TYPE, 0x81). */
#define HD_VFIO_DEVICE_BIND_IOMMUFD 0x3b76u
#define HD_VFIO_DEVICE_ATTACH_IOMMUFD_PT 0x3b77u
#define HD_IOMMU_IOAS_ALLOC 0x3b81u

/* The system calls hd_vfio_verify() makes, so that unit tests can play the kernel and make any
 * step fail with any errno. Each returns >= 0 or -errno. */
struct hd_vfio_ops {
    int (*open)(void *data, struct hd_ctx *ctx, const char *path, int flags); /* rel. to root */
    int (*ioctl)(void *data, int fd, unsigned long request, void *arg);    /* arg: a struct */
    int (*ioctl_val)(void *data, int fd, unsigned long request, unsigned long arg); /* a number */
    void (*close)(void *data, int fd);
    /* Is @path on a file system mounted nodev (no device node there can be opened)? */
    bool (*nodev)(void *data, struct hd_ctx *ctx, const char *path);
    void *data;
};
int hd_vfio_verify_ops(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                       const struct hd_vfio_ops *ops, struct hd_vfio_report **report);
int hd_vfio_verify_mdev_ops(struct hd_ctx *ctx, const char *uuid, const struct hd_vfio_ops *ops,
                            struct hd_vfio_report **out);
/* Is IOMMU group @group open through VFIO by a process (a VM, a user-space driver)? 1: the
 * kernel refused this process the group's node because another has it; 0: it did not, or the
 * node cannot tell (no node, a nodev mount, no permission). @ops NULL: the real calls. */
int hd_vfio_group_held_ops(struct hd_ctx *ctx, int group, const struct hd_vfio_ops *ops);

/* ---- monitor.c ---------------------------------------------------------------------------- */
/* One device event, parsed ("ACTION@DEVPATH" then KEY=VALUE fields, NUL-separated). */
struct hd_uevent {
    enum hd_uevent_action action;
    char action_name[16];
    char devpath[512];
    char subsystem[64];
    char driver[64];
    char slot[HD_PCI_ADDR_BUFSZ]; /* PCI_SLOT_NAME, "" for other subsystems */
    struct hd_pci_addr addr;
    bool has_addr;
    unsigned long long seqnum;
};
/* 0, or -EINVAL for a message that is not a kernel device event (it is skipped). */
int hd_uevent_parse(const char *msg, size_t len, struct hd_uevent *ev);

#endif
