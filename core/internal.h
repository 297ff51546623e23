/* internal.h - libhostdev's private declarations, one section per .c file. */
#ifndef HOSTDEV_INTERNAL_H
#define HOSTDEV_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hostdev/hostdev.h>

#define HD_EXPORT __attribute__((visibility("default")))
#define HD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Longest attribute value we read into a stack buffer; larger files use hd_fs_read_alloc(). */
#define HD_ATTR_MAX 4096
/* Longest relative path we build. */
#define HD_PATH_MAX 512
#define HD_DIR_SLOTS 8 /* directories kept open on a context (sysfs.c) */

/* ---- ctx.c -------------------------------------------------------------------------------- */

struct hd_names;
struct hd_par;
struct hd_writer_hooks;

/* A set of pointers by open addressing (util.c): NULL slots are free, cap a power of two. */
struct hd_ptrset {
    void **slots;
    size_t count, cap;
};

/* A set of strings (util.c), each stored once and never moved or freed before the set: what
 * many devices share (driver names, modaliases, vendor and product names) costs one copy. */
struct hd_strings {
    struct hd_chunk *chunks;
    struct hd_ptrset index;
};

/* How the gateway resolves a path under the root (sysfs.c). */
enum hd_resolve {
    HD_RESOLVE_IN_ROOT, /* openat2(RESOLVE_IN_ROOT): links and ".." stay under the root */
    HD_RESOLVE_WALK,    /* no openat2 (before 5.6, or filtered): the same, component by
                         * component with O_NOFOLLOW, links read and followed here */
    HD_RESOLVE_HOST,    /* the root is "/": nothing lies outside it, plain *at() calls */
};

/* Reference counts of contexts, devices and node devices are atomic: a program may drop its
 * references from any thread (hostdev.h: threads). */
struct hd_ctx {
    atomic_int refcount;
    int rootfd;     /* O_PATH|O_DIRECTORY of the root; every I/O is openat() relative to it */
    char *root;     /* as given, for messages */
    bool root_is_host; /* root is "/": the only case where modules may be loaded */
    enum hd_resolve resolve;
    /* The directories the last paths resolved under the root were in, least recently used
     * replaced first: a listing reads a device's attributes one after another, and an
     * operation goes back and forth between a device, the state directory and the journal's,
     * so each is resolved once. Those outside the state directory are distrusted at every
     * attribute write, which may make or remove directories (sysfs.c). */
    struct hd_dir_slot {
        int fd; /* -1: free */
        /* Resolved since the last hd_fs_distrust_dir(): a name missing there is missing (an
         * unbound device has no driver link), not a sign that the directory went away. */
        bool trusted;
        unsigned int used; /* dir_clock when last used */
        char path[HD_PATH_MAX];
    } dirs[HD_DIR_SLOTS];
    unsigned int dir_clock;
    char *state_dir;   /* relative to root */
    /* hd_state_dir_check() during an operation (hd_op_run()): its lock and map reads check
     * the state directory once. 0: no operation under way (every call checks), 1: not yet
     * checked in this one, 2: checked. */
    int state_checked;
    char *names_file;  /* NULL: default search; "": off */
    struct hd_names *names; /* loaded on first use */
    struct hd_strings strings; /* shared by the context's devices, live as long as it */
    unsigned int timeout_ms;
    hd_log_fn log_fn;
    void *log_data;
    int log_priority;
    char last_error[512];
    enum hd_reason last_reason;
    /* What a timed write's writer (a forked child, sysfs.c) does for the transaction it
     * belongs to; the engine sets it while a transaction applies its steps (txn.c). */
    const struct hd_writer_hooks *writer;
    void *writer_data;
    /* The parallel run this context is a worker of (par.c); NULL: none. */
    struct hd_par *par;
    /* The kernel's "vfio_pci:" module aliases, read on first use (drivers/variant.c). */
    struct hd_vfio_aliases *vfio_aliases;
};

/* Run in a timed write's writer child (sysfs.c): @end when the write returned (before the
 * caller hears of it), @abandoned when the caller gave up or died. */
struct hd_writer_hooks {
    void (*end)(struct hd_ctx *ctx, void *data);
    void (*abandoned)(struct hd_ctx *ctx, void *data);
};

/* A context for a worker thread of @parent's operation (par.c): the same root, state
 * directory, timeout, log priority and writer hooks, its own last error, directory cache and
 * strings; names are not read. */
int hd_ctx_worker_new(struct hd_ctx *parent, struct hd_ctx **out);

void hd_log(struct hd_ctx *ctx, int priority, const char *file, int line, const char *fn,
            const char *fmt, ...) HD_PRINTF(6, 7);
/* Leave @fmt as the context's last error, log it, and return @err (a negative errno). */
int hd_error(struct hd_ctx *ctx, int err, const char *file, int line, const char *fn,
             const char *fmt, ...) HD_PRINTF(6, 7);

/* The same with the reason a caller acts on (exit status, --force hint), which outer messages
 * wrapping this one keep. */
int hd_error_reason(struct hd_ctx *ctx, int err, enum hd_reason reason, const char *file,
                    int line, const char *fn, const char *fmt, ...) HD_PRINTF(7, 8);

/* Keep the message, say why: returns @err. */
int hd_ctx_set_reason(struct hd_ctx *ctx, int err, enum hd_reason reason);

#define hd_err(ctx, err, ...) hd_error((ctx), (err), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define hd_errr(ctx, err, reason, ...)                                                          \
    hd_error_reason((ctx), (err), (reason), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define hd_warn(ctx, ...) hd_log((ctx), HD_LOG_WARNING, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define hd_info(ctx, ...) hd_log((ctx), HD_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define hd_dbg(ctx, ...) hd_log((ctx), HD_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* ---- sysfs.c: THE filesystem gateway ------------------------------------------------------- */
/*
 * Every path is relative to the context's root and must be "safe": no leading '/', no "." or
 * ".." component, no empty component. Callers build paths with hd_path() from constants,
 * formatted addresses and names checked by hd_name_valid().
 */

/* The context's kept directories: none yet (a new context), all closed (its end). */
void hd_fs_dirs_init(struct hd_ctx *ctx);
void hd_fs_dirs_close(struct hd_ctx *ctx);
/* Distrust the kept directories of the state directory (sysfs.c keeps them trusted across
 * device reads and attribute writes): once per operation, when it checks the state
 * directory, since someone may have removed and made it again since the last one. */
void hd_fs_distrust_state(struct hd_ctx *ctx);
/* A single path component from outside (driver, module, group, interface name): non-empty,
 * no '/', not "." or "..", printable, shorter than NAME_MAX. */
bool hd_name_valid(const char *name);
bool hd_path_valid(const char *path);
/* snprintf into @buf; -ENAMETOOLONG when it does not fit. */
int hd_path(char *buf, size_t size, const char *fmt, ...) HD_PRINTF(3, 4);

/* Read a small attribute into @buf (NUL-terminated), one trailing newline stripped.
 * Returns the length or -errno. -EFBIG when it does not fit. */
ssize_t hd_fs_read_attr(struct hd_ctx *ctx, const char *path, char *buf, size_t size);
/* A whole regular file under the root, NUL-terminated, at most @max bytes: -EFBIG beyond,
 * -EINVAL for a FIFO or device (opened non-blocking: neither blocks nor never ends),
 * -EISDIR for a directory. */
#define HD_READ_MAX (16u << 20)  /* kernel tables and host databases */
#define HD_CONFIG_MAX (1u << 20) /* a configuration file or a record */
int hd_fs_read_alloc(struct hd_ctx *ctx, const char *path, size_t max, char **data, size_t *len);
/* Read up to @size bytes from offset 0 (binary, e.g. config space). Returns bytes read. */
ssize_t hd_fs_read_bytes(struct hd_ctx *ctx, const char *path, void *buf, size_t size);
/* One write(2) of @value, as the kernel expects for attributes. Returns 0 or the -errno of
 * open, write or close. */
int hd_fs_write_attr(struct hd_ctx *ctx, const char *path, const char *value);
/* The same, done in a child process that is abandoned after @timeout_ms: a driver whose
 * remove() hangs leaves the child blocked, not us. -ETIMEDOUT then. */
int hd_fs_write_attr_timeout(struct hd_ctx *ctx, const char *path, const char *value,
                             unsigned int timeout_ms);
/* readlink(2); returns the length or -errno. */
ssize_t hd_fs_read_link(struct hd_ctx *ctx, const char *path, char *buf, size_t size);
/* The last component of a symlink's target (e.g. a driver name or a group number). */
int hd_fs_link_basename(struct hd_ctx *ctx, const char *path, char *buf, size_t size);
/* Names in a directory, "." and ".." left out, sorted. Free with hd_strv_free(). */
int hd_fs_list_dir(struct hd_ctx *ctx, const char *path, char ***names, size_t *count);
/* The same names, unsorted, one call of @fn each (no list kept); a negative return of @fn
 * stops the scan and is returned. */
int hd_fs_scan_dir(struct hd_ctx *ctx, const char *path,
                   int (*fn)(void *data, const char *name), void *data);
/* 1 exists (without following a final symlink), 0 not, -errno on other errors. */
int hd_fs_exists(struct hd_ctx *ctx, const char *path);
/* What follows may come after a change by someone else: a kept directory may be stale. */
void hd_fs_distrust_dir(struct hd_ctx *ctx);
int hd_fs_stat(struct hd_ctx *ctx, const char *path, void *statbuf /* struct stat */);
/* Poll until @path exists (@present) or not, at most @timeout_ms. 0 or -ETIMEDOUT. */
int hd_fs_wait_for(struct hd_ctx *ctx, const char *path, bool present, unsigned int timeout_ms);
/* open(2) relative to the root, O_CLOEXEC added; every link and ".." is resolved inside the
 * root (a link to "/x" means ROOT/x). With O_CREAT the last component is never a link
 * (O_NOFOLLOW is added): nothing is created through one. Returns fd or -errno. */
int hd_fs_open(struct hd_ctx *ctx, const char *path, int flags, mode_t mode);
int hd_fs_mkdir_p(struct hd_ctx *ctx, const char *path, mode_t mode);
/* hd_fs_open() of a file in a directory of the state (@flags with O_CREAT): its directory
 * and their parents are made (@dir_mode) only when it is missing, not tried every time. */
int hd_fs_open_mkdir(struct hd_ctx *ctx, const char *path, int flags, mode_t mode,
                     mode_t dir_mode);
/* A device node a VM opens, as an O_PATH|O_NOFOLLOW fd with its stat: what is recorded as its
 * owner and what is changed are the same inode. -ELOOP for a link, -EINVAL for anything but
 * a character device or regular file (the fake kernel's nodes). */
int hd_fs_node_open(struct hd_ctx *ctx, const char *path, void *statbuf /* struct stat */);
/* Is @path (resolved under the root) on a file system mounted nodev? */
bool hd_fs_on_nodev(struct hd_ctx *ctx, const char *path);
/* Owner, then mode (permission bits only), of the node @fd refers to. */
int hd_fs_node_set_owner(int fd, uid_t uid, gid_t gid, mode_t mode);
int hd_fs_unlink(struct hd_ctx *ctx, const char *path);
int hd_fs_rename(struct hd_ctx *ctx, const char *from, const char *to);
/* Make a rename or an unlink in directory @path durable. */
int hd_fs_fsync_dir(struct hd_ctx *ctx, const char *path);
/* write(2) all of @data to an fd opened through the gateway. */
int hd_fs_write_all(int fd, const char *data, size_t len);
/* Map a whole file read-only (a names database): relative to the root, or, with @host, the one
 * exception to "relative to the root": a file the user named or the host's names database
 * (never kernel state). An empty file maps as NULL, 0. Undo with hd_fs_unmap(). */
int hd_fs_map(struct hd_ctx *ctx, const char *path, bool host, const char **data, size_t *len);
/* Open a regular file for reading (relative to the root, or with @host the host's absolute
 * @path): the fd, its size in *@size; -errno, -EINVAL when not a regular file. */
int hd_fs_open_regular(struct hd_ctx *ctx, const char *path, bool host, uint64_t *size);
void hd_fs_unmap(const char *data, size_t len);
/* Let the pages read so far go (they come back when touched): a one-off pass over a big file
 * does not stay in the resident set. */
void hd_fs_map_release(const char *data, size_t len);

/* ---- hwdb.c ------------------------------------------------------------------------------- */

struct hd_hwdb_file;
/* A hwdb.bin read from @fd (of @size bytes; the file takes the fd, closed with it) or held in
 * memory: 0; -ENOENT not a hwdb at all; -EPROTO a hwdb of a layout we do not know (libudev may
 * read it); -ENOMEM. */
int hd_hwdb_file_open(int fd, uint64_t size, struct hd_hwdb_file **out);
int hd_hwdb_file_open_mem(const char *data, size_t len, struct hd_hwdb_file **out);
void hd_hwdb_file_close(struct hd_hwdb_file *f);
/* The value of @property ("ID_VENDOR_FROM_DATABASE") under the exact key @key
 * ("pci:v00008086*"); NULL when absent or malformed. Valid until the next call on @f. */
const char *hd_hwdb_file_get(struct hd_hwdb_file *f, const char *key, const char *property);

/* ---- device.c ----------------------------------------------------------------------------- */

struct hd_device_ext {
    /* HD_FILL_PARENT */
    bool has_parent;
    struct hd_pci_addr parent;
    char *sysfs_path; /* "sys/devices/pci0000:00/..." */
    /* HD_FILL_SRIOV */
    struct hd_pci_addr *virtfns;
    size_t nvirtfns;
    int totalvfs, numvfs;
    /* HD_FILL_EXTRA */
    int numa_node;
    bool has_reset;
    char *reset_methods;
    char *vfio_cdev;
};

struct hd_device {
    /* Ordered for size, not by fill: a listing of 10,000 holds 10,000 of these (128 bytes). */
    atomic_int refcount;
    unsigned int filled; /* enum hd_fill bits read so far */
    struct hd_ctx *ctx;
    struct hd_pci_addr addr;
    char name[HD_PCI_ADDR_BUFSZ];
    bool has_physfn;          /* HD_FILL_SRIOV, or a listing that found the VF's PF */
    bool has_driver_override; /* HD_FILL_OVERRIDE: the attribute exists (Linux >= 3.16) */
    /* HD_FILL_IDENT */
    uint16_t vendor, device, subsystem_vendor, subsystem_device;
    uint32_t class;
    /* HD_FILL_GROUP */
    int group;
    /* HD_FILL_CONFIG */
    int16_t revision, header_type;
    const char *modalias; /* HD_FILL_IDENT, in ctx->strings */
    const char *driver;   /* HD_FILL_IDENT, in ctx->strings; NULL: unbound */
    /* HD_FILL_OVERRIDE (here, not in ext: a listing reads it for every unbound device), in
     * ctx->strings; NULL: none set */
    const char *driver_override;
    /* HD_FILL_NAMES */
    const char *vendor_name, *product_name; /* in ctx->strings */
    /* HD_FILL_PARENT, HD_FILL_SRIOV, HD_FILL_EXTRA: allocated when one is first filled, so
     * that a plain listing of 10,000 devices does not carry them (72 bytes a device). */
    struct hd_device_ext *ext;
    struct hd_pci_addr physfn; /* with has_physfn */
    /* A PF's sriov_vf_device, read when a listing resolves its VFs (hd_device_fill_vf_ids). */
    int vf_device;
};

#define HD_VF_DEVICE_UNREAD (-1)
#define HD_VF_DEVICE_NONE (-2)

/* A snapshot with nothing read yet. */
struct hd_device *hd_device_new(struct hd_ctx *ctx, const struct hd_pci_addr *addr);
/* Read the @fill fields; with @again also those already read. */
int hd_device_fill_fields(struct hd_device *dev, unsigned int fill, bool again);
/* HD_FILL_IDENT | HD_FILL_CONFIG the way a listing reads them (device.c says how); a VF is left
 * with *vf_pending, its ids for hd_device_fill_vf_ids(). With @driver_known, @driver (NULL:
 * none) is the device's driver and its link is not read. */
int hd_device_fill_bulk(struct hd_device *dev, bool driver_known, const char *driver,
                        bool *vf_pending);
/* A PF's VFs now: VF i is at routing id PF + @offset + @stride * i, for i < @numvfs.
 * -ENOENT when @pf is no PF. */
int hd_device_read_vf_layout(struct hd_device *pf, int *offset, int *stride, int *numvfs);
/* A pending VF's ids and physfn from its PF @pf: the PF's vendor and its sriov_vf_device, read
 * once per PF. -ENOENT when the PF cannot tell (a kernel without sriov_vf_device). */
int hd_device_fill_vf_ids(struct hd_device *vf, struct hd_device *pf);
/* The uevent file's text (cut up in place): DRIVER, PCI_ID, PCI_CLASS, PCI_SUBSYS_ID, MODALIAS
 * into @dev's HD_FILL_IDENT fields. -EINVAL with a message naming the bad line. */
int hd_device_parse_uevent(struct hd_device *dev, char *buf);
/* "sys/bus/pci/devices/<BDF>/<attr>" */
int hd_device_attr_path(const struct hd_device *dev, const char *attr, char *buf, size_t size);
ssize_t hd_device_read_attr(struct hd_device *dev, const char *attr, char *buf, size_t size);
ssize_t hd_device_read_attr_bytes(struct hd_device *dev, const char *attr, void *buf,
                                  size_t size);
int hd_device_write_attr(struct hd_device *dev, const char *attr, const char *value);
/* bind.c: bound to vfio-pci, a variant of it, or pci-stub. */
bool hd_device_on_stub(const struct hd_device *dev);
/* The driver bound right now, from the driver link: 0 with @buf "" when unbound. */
int hd_device_read_driver(struct hd_device *dev, char *buf, size_t size);

/* ---- nodedev.c, nodedev-caps.c, nodedev-xml.c ---------------------------------------------- */

struct hd_nodedev {
    atomic_int refcount;
    struct hd_ctx *ctx;
    enum hd_nodedev_cap cap;
    char *name;
    char *parent;  /* NULL only for "computer" */
    char *path;    /* the device's directory, relative to the root: "sys/devices/..." */
    char *abspath; /* "/" + path, what <path> shows */
    char *sysname; /* last component of path: "0000:00:1f.2", "1-2:1.0", "sda" */
    char *driver;
    char *devnode; /* "/dev/..." from uevent DEVNAME */
    const char *caps[4]; /* what virNodeDeviceListCaps reports */
    size_t ncaps;
    struct hd_device *pci; /* HD_CAP_PCI */
    /* pci (copied from the snapshot), usb_device */
    int vendor_id, product_id;
    char *vendor_name, *product_name;
    /* usb_device: bus, device; usb interface: number, class, subclass, protocol;
     * scsi: host, bus, target, lun; scsi_host: host, unique_id (-1: none) */
    long long num[4];
    char *description; /* usb interface */
    /* net */
    char *ifname, *mac;
    const char *link_state; /* "up", "down", ... from operstate; NULL: unknown/absent */
    unsigned int link_speed;
    const char *net_subtype; /* "80203", "80211" or NULL */
    unsigned int net_features; /* hd_netdev_features(), on the host only */
    /* scsi */
    const char *scsi_type;
    /* storage */
    char *model, *vendor, *serial;
    const char *drive_type;
    bool removable;
    unsigned long long num_blocks, block_size;
    /* pci: the types it offers as a mediated device parent (the listing's, shared) */
    struct hd_mdev_type_list *mdev_types;
    /* mdev: its type and its parent's sysfs name; its group is num[0] (-1: none) */
    char *mdev_type, *mdev_parent;
    /* system ("computer"): from the DMI attributes */
    char *sys_product, *hw_vendor, *hw_version, *hw_serial, *hw_uuid;
    char *fw_vendor, *fw_version, *fw_date;
};

/* netdev-features.c: libvirt's net <feature> names, in its order, and the ones @ifname has on
 * the host (bit i: hd_netdev_feature_names[i]). rdma and switchdev are never set. */
#define HD_NETDEV_FEATURES 14
extern const char *const hd_netdev_feature_names[HD_NETDEV_FEATURES];
int hd_netdev_features(const char *ifname, unsigned int *mask);

/* nodedev-caps.c: fill the capability's fields of @dev from its sysfs directory. */
int hd_nodedev_probe_usb(struct hd_nodedev *dev);
int hd_nodedev_probe_scsi(struct hd_nodedev *dev);
int hd_nodedev_probe_scsi_generic(struct hd_nodedev *dev);
int hd_nodedev_probe_net(struct hd_nodedev *dev);
int hd_nodedev_probe_storage(struct hd_nodedev *dev); /* 0: keep, 1: not a disk, skip */
int hd_nodedev_probe_system(struct hd_nodedev *dev);
int hd_nodedev_probe_mdev(struct hd_nodedev *dev);
/* Read attribute @attr of @dev's directory; -ENOENT when absent. */
ssize_t hd_nodedev_read_attr(struct hd_nodedev *dev, const char *attr, char *buf, size_t size);
/* The same, allocated; *@out stays NULL when the attribute is absent or empty. */
int hd_nodedev_dup_attr(struct hd_nodedev *dev, const char *attr, char **out);
/* KEY's value in @dev's uevent file; -ENOENT when there is no such key. */
int hd_nodedev_uevent(struct hd_nodedev *dev, const char *key, char *buf, size_t size);
/* libvirt's naming rule: "@subsystem_@sysname[_@suffix]" with every byte that is not an
 * ASCII letter or digit turned into '_'. */
int hd_nodedev_set_name(struct hd_nodedev *dev, const char *subsystem, const char *suffix);

/* ---- drivers/: what each stub driver needs ---------------------------------------------- */

struct hd_stub_driver {
    const char *name;   /* as in sys/bus/pci/drivers/ */
    const char *module; /* what to load when the driver is missing */
    bool vfio;          /* a VFIO driver: dev/vfio/<group> exists while a member is bound */
    bool variant;       /* a vfio-pci variant: its ids are override-only, new_id cannot bind */
};

extern const struct hd_stub_driver hd_stub_vfio_pci; /* drivers/vfio-pci.c */
extern const struct hd_stub_driver hd_stub_pci_stub; /* drivers/pci-stub.c */
/* NULL when @name is not a stub driver hostdev binds to. */
const struct hd_stub_driver *hd_stub_driver_find(const char *name);
/* @name as a driver to detach to: one of the stubs above, or a vfio-pci variant driver (named
 * after vfio_pci; its module has its name), described in *@out, whose name is @name itself.
 * -EINVAL when it is neither. */
int hd_stub_driver_get(const char *name, struct hd_stub_driver *out);
/* A stub or a vfio-pci variant: a device on it is detached. */
bool hd_driver_is_stub(const char *name);

/* drivers/variant.c: the vfio-pci family driver for a device of this modalias: the most
 * specific "vfio_pci:" alias of the kernel's modules.alias (a variant driver), else
 * "vfio-pci". The aliases are read once per context. */
int hd_vfio_driver_for(struct hd_ctx *ctx, const char *modalias, char *driver, size_t size);
struct hd_vfio_aliases;
void hd_vfio_aliases_free(struct hd_vfio_aliases *aliases);

/* drivers/module.c: make sure sys/bus/pci/drivers/@driver exists, loading @module when the
 * root is the host itself. -EPERM when the module is blacklisted. */
int hd_module_ensure_driver(struct hd_ctx *ctx, const char *driver, const char *module);

/* Run modprobe for @module: what inserts it when libkmod is not there. */
int hd_module_run_modprobe(const char *module);

/* drivers/kmod.c or kmod-none.c, the module backend: */
/* Is @module blacklisted in the root's modprobe.d? 1 yes, 0 no (or cannot tell). */
int hd_module_blacklisted(struct hd_ctx *ctx, const char *module);
/* Insert @module into the running kernel (the caller made sure the root is the host). */
int hd_module_insert(struct hd_ctx *ctx, const char *module);
/* The module the modalias resolves to ("e1000e"), allocated; -ENOENT when unknown. */
int hd_module_for_modalias(struct hd_ctx *ctx, const char *modalias, char **module);

/* ---- state.c: small records under the state directory ------------------------------------- */

/* Write @value to @dir/@name (relative to the root) atomically: temporary file, fsync, rename,
 * directory fsync. @dir is created when missing (0700 for 0600 records, 0755 for 0644). */
int hd_record_put(struct hd_ctx *ctx, const char *dir, const char *name, const char *value,
                  mode_t mode);
/* Remove @dir/@name: 0, -ENOENT when there was none, or another -errno. */
int hd_record_del(struct hd_ctx *ctx, const char *dir, const char *name);

/* The state directory may be trusted: ours, a directory, not writable by group or others
 * (absent is fine). Else -errno with reason HD_REASON_STATE_DAMAGED. */
int hd_state_dir_check(struct hd_ctx *ctx);
/* Write @value to STATE/@kind/@name atomically (temporary file, fsync, rename). */
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

#define HD_DRIVER_NAME_MAX 64

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
    int group;
    long long since;
    uid_t uid; /* who the nodes were given to */
    gid_t gid;
    struct hd_node_owner nodes[HD_NODES_MAX]; /* the originals, restored at release */
    size_t nnodes;
};

struct hd_assignment_list {
    atomic_int refcount;
    struct hd_assignment *v;
    size_t n, cap;
};

bool hd_node_path_valid(const char *path);
struct hd_assignment_list *hd_map_new(void);
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
int hd_map_parse(struct hd_ctx *ctx, const char *text, struct hd_assignment_list *list);
char *hd_map_format(const struct hd_assignment_list *list); /* NULL: out of memory */
/* STATE/map/assignments; an absent file is an empty map. */
int hd_map_read(struct hd_ctx *ctx, struct hd_assignment_list **list);
/* Replace it atomically (state.c). Call with the map lock held. */
int hd_map_write(struct hd_ctx *ctx, const struct hd_assignment_list *list);

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
/* Where recorded USB or SCSI device @a's node is now (a USB device that re-enumerated has a
 * new one); -ENODEV when it is gone or another device is in its place. */
int hd_node_target_refind(struct hd_ctx *ctx, const struct hd_assignment *a, char *node);
/* The entry of a device that sits below PCI device @pci_name (a USB or SCSI device behind
 * it, a mediated device it is the parent of): what taking that PCI device from its driver
 * would take from under a VM. NULL: none. */
const struct hd_assignment *hd_map_find_below(struct hd_ctx *ctx,
                                              const struct hd_assignment_list *map,
                                              const char *pci_name);
/* safety.c: the host-safety checks of storage and interfaces below sysfs component @name. */
int hd_host_use_check_below(struct hd_host_use *hu, const char *name);

/* ---- lock.c ------------------------------------------------------------------------------- */

struct hd_lockset;
/* Lock STATE/locks/group-N for every group in @groups, in ascending order, waiting up to the
 * context's timeout for each. -EBUSY (message names the group). */
int hd_lock_groups(struct hd_ctx *ctx, const int *groups, size_t n, struct hd_lockset **set);
/* The same, then recover what dead processes left on those groups (txn.c). */
int hd_lock_and_recover(struct hd_ctx *ctx, const int *groups, size_t n,
                        struct hd_lockset **set);
bool hd_lockset_holds(const struct hd_lockset *set, int group);
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
};
/* The map entry a journal's device is (NULL: none). */
struct hd_assignment *hd_map_find_jdev(const struct hd_assignment_list *list,
                                       const struct hd_jdev *d);

struct hd_jstep {
    enum hd_jstep_kind kind;
    struct hd_pci_addr addr;   /* all but OWN */
    struct hd_node_owner node; /* OWN */
    bool from_known;           /* DETACH/REATTACH of a version 1 journal: false */
    char from[HD_DRIVER_NAME_MAX];
    char to[HD_DRIVER_NAME_MAX];
    enum hd_jrecord record;    /* DETACH: the record before it; REATTACH: the record it used */
    char record_driver[HD_DRIVER_NAME_MAX];
    int old_numvfs, old_autoprobe; /* NUMVFS; -1 unknown */
    /* MDEV_*: the parent (as in sys/class/mdev_bus), the type, the device */
    char mdev_parent[HD_DRIVER_NAME_MAX], mdev_type[HD_DRIVER_NAME_MAX], mdev_uuid[37];
};

struct hd_journal {
    int fd; /* holds the flock while the operation runs */
    char path[HD_PATH_MAX];
    bool is_tmp; /* never got its name: its process died before any write */
    enum hd_jop op;
    char vm[HD_VM_ID_MAX + 1]; /* "" for operations without a VM */
    struct hd_jdev *devs; /* the plan */
    size_t ndevs;
    struct hd_jstep *steps; /* what was started, in order */
    size_t nsteps, capsteps;
    bool committed; /* its "commit" line was written */
    char *pending; /* lines not written yet (fd -1: the file is not made yet) */
    size_t npending, cappending;
};

/* Create, lock and fsync a journal naming the plan (@vm may be NULL). */
int hd_journal_begin(struct hd_ctx *ctx, enum hd_jop op, const char *vm,
                     const struct hd_jdev *devs, size_t n, struct hd_journal **j);
/* The same, kept in memory (fd -1) until hd_journal_flush(): an operation that has nothing to
 * do never makes one, and the header goes to disk with the first intents, in one write and
 * one fsync. */
int hd_journal_prepare(struct hd_ctx *ctx, enum hd_jop op, const char *vm,
                       const struct hd_jdev *devs, size_t n, struct hd_journal **j);
/* Append @step and fsync, before doing it. */
int hd_journal_step(struct hd_ctx *ctx, struct hd_journal *j, const struct hd_jstep *step);
/* Add @step's line without writing it: hd_journal_flush() writes every such line (and makes
 * the file first when it is not made yet) in one write and one fsync, before the first of
 * those steps is done. */
int hd_journal_defer(struct hd_ctx *ctx, struct hd_journal *j, const struct hd_jstep *step);
int hd_journal_flush(struct hd_ctx *ctx, struct hd_journal *j);
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
/* Parse @text into @j. With a damaged journal, the devices named before the damage are still
 * in @j (so that their groups can be held back) and -EBADMSG is returned. */
int hd_journal_parse(struct hd_ctx *ctx, const char *text, struct hd_journal *j);
/* Names in STATE/journal (none when it does not exist). */
int hd_journal_list(struct hd_ctx *ctx, char ***names, size_t *n);
/* Lock and read a journal whose process is gone: -EBUSY while it lives, -ENOENT when it
 * finished meanwhile, -EAGAIN for a temporary one just being created, -EBADMSG when it cannot
 * be read (then *j holds what could be read, for hd_journal_set_aside()). */
int hd_journal_claim(struct hd_ctx *ctx, const char *name, struct hd_journal **j);
/* Read a journal without locking it (to see which groups a busy one is about). */
int hd_journal_peek(struct hd_ctx *ctx, const char *name, struct hd_journal **j);
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
    /* The journal's file is made by the first hd_txn_step() or hd_txn_flush() (and never
     * when there is nothing to do), not by hd_txn_begin(). */
    bool lazy;
};

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
/* Report a step that needs no undo and no journal line (a record written with its step). */
void hd_txn_note(struct hd_txn *t, const char *kind, const char *device, const char *from,
                 const char *to);
/* Done: write the commit line, drop the journal, unlock. */
int hd_txn_commit(struct hd_txn *t);
/* Failed with @err: undo newest first (or, for a hang, leave it to recover); unlock. Returns
 * @err with the first failure's message. */
int hd_txn_abort(struct hd_txn *t, int err);
/* Undo what @j started, newest first. 0 when everything is back. */
int hd_txn_undo(struct hd_ctx *ctx, const struct hd_journal *j);
/* Did the operation of @j reach its commit? */
bool hd_txn_committed(const struct hd_journal *j, const struct hd_assignment_list *map);
/* recover.c: deal with dead journals touching the groups in @held (NULL: all), whose locks
 * this process already holds. With @held, -EAGAIN when another process is recovering a
 * journal about those groups (it waits for our locks: let go and try again). */
int hd_recover_held(struct hd_ctx *ctx, const struct hd_lockset *held, unsigned int *count);

/* Shared by the engine's operations. */
struct hd_saved_error { /* the first error's message, kept while cleaning up after it */
    int err;
    enum hd_reason reason;
    char msg[512];
};
void hd_saved_error_save(struct hd_ctx *ctx, struct hd_saved_error *s, int err);
int hd_saved_error_restore(struct hd_ctx *ctx, const struct hd_saved_error *s);
bool hd_txn_on_vfio(const struct hd_device *dev); /* vfio-pci or a variant */
/* What the engine reads of a device: everything but names (messages name addresses). */
#define HD_TXN_FILL (HD_FILL_ALL & ~(unsigned)HD_FILL_NAMES)
int hd_txn_refresh(struct hd_device *dev);         /* everything but names, read again */
int hd_txn_set_owner(struct hd_ctx *ctx, const struct hd_node_owner *n);
/* Lock @groups, then recover what dead processes left on them. */
int hd_lock_and_recover(struct hd_ctx *ctx, const int *groups, size_t n,
                        struct hd_lockset **set);

/* sriov.c: put a PF's VF count and sriov_drivers_autoprobe (-1: leave) back. */
int hd_sriov_restore(struct hd_ctx *ctx, const struct hd_pci_addr *pf, int numvfs,
                     int autoprobe);

/* platform.c: functions the host keeps whatever is asked (host bridges, LPC/ISA bridges,
 * SMBus, ...): the class's description, or NULL for an ordinary function. */
const char *hd_platform_function(const struct hd_device *dev);

/* ops.c: refuse, naming the VM, when a VM holds @pf or one of its VFs (which @what, a PF
 * leaving its driver or a new VF count, would destroy). */
int hd_check_vfs_free(struct hd_ctx *ctx, struct hd_device *pf,
                      const struct hd_assignment_list *map, const char *what);

/* The single writes the engine journals and undoes, one device each. Only the engine calls
 * them: the public hd_device_detach() and friends (device-ops.c) are one-device operations.
 * bind.c: to a stub and verified, recording the host driver once; back to the recorded one. */
int hd_bind_detach(struct hd_device *dev, const char *stub, unsigned int flags);
/* hd_bind_detach() flag of the engine's own: onto @stub itself, even from another vfio-pci
 * family driver (an undo puts a device back on the exact driver it was on). */
#define HD_DETACH_EXACT (1u << 8)
/* Flags of both: @dev was read under the operation's locks and nothing was written to it
 * since, so it is not read again before acting (HD_BIND_FRESH); the caller reads nothing of
 * it afterwards (a batch leaves snapshots stale anyway), so it is not read again when done
 * (HD_BIND_NO_REREAD). */
#define HD_BIND_FRESH (1u << 9)
#define HD_BIND_NO_REREAD (1u << 10)
/* hd_bind_reattach() flags: the caller read the driver record under the operation's locks
 * (nobody else writes it while they are held): @record is it (HD_BIND_RECORD; "" when it says
 * none), or there is none (HD_BIND_NO_RECORD). Without either it is read here. */
#define HD_BIND_RECORD (1u << 11)
#define HD_BIND_NO_RECORD (1u << 12)
int hd_bind_reattach(struct hd_device *dev, unsigned int flags, const char *record);
/* reset.c: through sysfs `reset` (HD_RESET_FORCE: also under a driver using it). */
int hd_reset_apply(struct hd_device *dev, unsigned int flags, char **methods);
/* reset.c: the methods the kernel will try, in order (allocated). */
char *hd_reset_methods(struct hd_device *dev);
/* sriov.c: sriov_numvfs through 0, waited for; the previous count or -errno. */
int hd_sriov_set_numvfs(struct hd_device *dev, unsigned int numvfs);
/* reserve.c: driver_override and bound to it; 1 when pending until the stub registers. */
int hd_reserve_apply(struct hd_device *dev, const char *driver);

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
    char driver[HD_DRIVER_NAME_MAX]; /* DETACH, RESERVE: the stub; REATTACH: the record */
    unsigned int flags;    /* DETACH: HD_DETACH_*, HD_BIND_*; REATTACH: HD_BIND_*; RESET:
                            * HD_RESET_* */
    bool vfio_resets;      /* RESET: no method working on a vfio-pci device is fine */
    /* The outcome: */
    bool ran;
    int result; /* 0 done, 1 RESERVE pending until the stub registers, -errno */
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
/* par.c: the chains of a batch, and one step on @dev (a snapshot of @ctx), its result and
 * error kept in @t. */
struct hd_par_plan {
    struct hd_batch *b;
    size_t *order;       /* task indices, chain after chain */
    size_t *chain_start; /* nchains + 1 offsets into order */
    size_t nchains;
};
void hd_task_run(struct hd_ctx *ctx, struct hd_device *dev, struct hd_task *t);
/* par-threads.c (par-none.c): run @plan's chains on worker threads; false when it could not
 * start one (nothing ran: the caller runs them itself). */
bool hd_par_run(struct hd_ctx *ctx, struct hd_par_plan *plan);
/* sysfs.c's timed write in a worker: forks one at a time, under the lock; each writer child
 * closes the result sockets of the others (which it would otherwise keep open, and its caller
 * would never see it gone). No-ops outside a parallel run. */
void hd_par_fork_lock(struct hd_ctx *ctx);
void hd_par_fork_unlock(struct hd_ctx *ctx, int pipe_fd); /* @pipe_fd: its result socket */
void hd_par_pipe_close(struct hd_ctx *ctx, int pipe_fd);
void hd_par_close_pipes(struct hd_ctx *ctx); /* in the child */

/* The operations of the engine (ops.c: devices; acquire.c: VMs), run by hd_op_run(). */
int hd_ops_detach(struct hd_op *op);
int hd_ops_reattach(struct hd_op *op);
int hd_ops_reset(struct hd_op *op);
int hd_ops_numvfs(struct hd_op *op);
int hd_ops_acquire(struct hd_op *op);
int hd_ops_release(struct hd_op *op);
int hd_ops_reserve(struct hd_op *op);
int hd_ops_recover(struct hd_op *op); /* recover.c */
/* mdev.c: what acquire needs of mediated device @uuid (canonical); -ENOENT (message left)
 * when there is none. */
struct hd_mdev_info {
    char parent[HD_DRIVER_NAME_MAX];
    int group;    /* -1: none (its vendor driver has not registered it with VFIO) */
    char cdev[32]; /* "vfioN", "" without one */
};
int hd_mdev_lookup(struct hd_ctx *ctx, const char *uuid, struct hd_mdev_info *info);
int hd_ops_mdev_create(struct hd_op *op); /* mdev.c */
int hd_ops_follow(struct hd_op *op);      /* acquire.c */
int hd_ops_mdev_remove(struct hd_op *op);
/* mdev.c: put back what an MDEV_* step of a journal started (remove what it made, make again
 * what it removed); 0 when it is as it was. */
int hd_mdev_undo(struct hd_ctx *ctx, const struct hd_jstep *s);
/* For each plain name P in @top and each plain name N in @top/P[/@middle]: @fn(@data, P, N),
 * sorted; a missing @top is empty, a P that is not a directory is left out. */
int hd_mdev_scan(struct hd_ctx *ctx, const char *top, const char *middle,
                 int (*fn)(void *data, const char *parent, const char *name), void *data);

/* op.c: the request an operation was given, and its report. */
struct hd_op_request {
    enum hd_op_kind kind;
    struct hd_pci_addr *addrs;
    bool *unmanaged; /* per device (acquire) */
    size_t n;
    unsigned int flags; /* enum hd_op_flags */
    char driver[HD_DRIVER_NAME_MAX]; /* "": each device's vfio-pci family driver */
    char (*drivers)[HD_DRIVER_NAME_MAX]; /* per device; "": @driver */
    char vm[HD_VM_ID_MAX + 1];
    uid_t uid;
    gid_t gid;
    unsigned int numvfs;
    char mdev_parent[HD_DRIVER_NAME_MAX], mdev_type[HD_DRIVER_NAME_MAX], mdev_uuid[37];
    char (*mdevs)[37]; /* acquire, release: mediated devices, by canonical UUID */
    size_t nmdevs;
    char (*named)[HD_NODE_SELECTOR_MAX]; /* acquire, release: USB and SCSI devices, as given */
    size_t nnamed;
};
const struct hd_op_request *hd_op_request(const struct hd_op *op);
/* The driver asked for @addr: its own, else the operation's ("": the default). */
const char *hd_op_request_driver(const struct hd_op_request *req, const struct hd_pci_addr *addr);
/* The driver @dev is detached to: the one asked for, else its vfio-pci family driver. */
int hd_op_target_driver(struct hd_ctx *ctx, const struct hd_op_request *req,
                        struct hd_device *dev, char *buf, size_t size);
void hd_op_set_previous_numvfs(struct hd_op *op, int n);
/* op.c: the public operation object's report side, filled by the engine. */
int hd_op_report_step(struct hd_op *op, const char *kind, const char *device, const char *from,
                      const char *to);
void hd_op_mark_steps(struct hd_op *op, int state);
struct hd_ctx *hd_op_ctx(const struct hd_op *op);

/* ---- names.c ------------------------------------------------------------------------------ */

void hd_names_free(struct hd_names *names);
/* Forget the source (the names file changed); strings handed out stay valid. */
void hd_names_forget(struct hd_names *names);
/* Vendor and product names for these ids; either may come back NULL (unknown or names off).
 * The strings are in ctx->strings and live as long as the context. */
int hd_names_lookup(struct hd_ctx *ctx, uint16_t vendor, uint16_t device, const char **vendor_name,
                    const char **product_name);

/* ---- drivers/udev.c (or udev-none.c) -------------------------------------------------------- */

struct hd_hwdb;
/* The udev hwdb: NULL when built without libudev or when no hwdb is installed. */
struct hd_hwdb *hd_hwdb_open(void);
void hd_hwdb_close(struct hd_hwdb *hwdb);
/* Allocated names (either may be NULL); -ENOENT when the hwdb knows nothing of these ids. */
int hd_hwdb_lookup(struct hd_hwdb *hwdb, uint16_t vendor, uint16_t device, char **vendor_name,
                   char **product_name);

/* ---- kernel-cmdline/cmdline.c: words, names, values ---------------------------------------- */

/* kstrtobool(): 0 and *value, or -EINVAL (NULL included). */
int hd_kstrtobool(const char *s, bool *value);
/* hd_cmdline_new_from_ctx() without leaving a message on the context (for callers to which an
 * unreadable command line is a finding, not a failure). -EILSEQ when it holds a NUL. */
int hd_cmdline_read(struct hd_ctx *ctx, struct hd_cmdline **cmdline);
/* Record an option the kernel does not take (see hd_cmdline_get_invalid()); @kernel_log may
 * be NULL. -ENOMEM. */
int hd_cmdline_add_invalid(struct hd_cmdline *cmdline, const char *param, const char *option,
                           const char *why, const char *kernel_log);

/* ---- kernel-cmdline/options.c: what the IOMMU-related parameters mean --------------------- */

struct hd_cmdline_settings {
    signed char value[HD_CMDLINE_SETTING_COUNT]; /* enum hd_tristate */
    struct hd_pci_id_match *ids;                 /* vfio-pci.ids */
    size_t n_ids;
};

/* Fill @settings from the parsed parameters, recording invalid options on @cmdline. */
int hd_cmdline_interpret(struct hd_cmdline *cmdline, struct hd_cmdline_settings *settings);
void hd_cmdline_settings_free(struct hd_cmdline_settings *settings);


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
/* The same from bytes (tests). */
int hd_dmar_parse(const unsigned char *data, size_t len, struct hd_dmar_info *info);

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

int hd_iommu_report_add_problem(struct hd_iommu_report *report, enum hd_severity severity,
                                const char *code, const char *message, const char *fix);

/* ---- iommu-rules.c: from facts to problems and fixes -------------------------------------- */

/* Add the problems @facts show to @report; returns whether VFIO can isolate devices, or
 * -ENOMEM. */
int hd_iommu_diagnose(struct hd_iommu_report *report, const struct hd_iommu_facts *facts);

/* ---- util.c ------------------------------------------------------------------------------- */

/* Room for one more entry (grows at three quarters full, rehashing with @hash_of). */
int hd_ptrset_reserve(struct hd_ptrset *set, size_t (*hash_of)(const void *entry));
/* The slot holding the entry @same as @key, or the free slot where it goes (then store the
 * entry there and count it). Call hd_ptrset_reserve() first. */
void **hd_ptrset_find(struct hd_ptrset *set, size_t hash,
                      bool (*same)(const void *entry, const void *key), const void *key);
/* The stored copy of @s (@len bytes, no NUL needed); NULL when out of memory. */
const char *hd_strings_add(struct hd_strings *set, const char *s, size_t len);
void hd_strings_free(struct hd_strings *set);

void hd_strv_free(char **v, size_t n);
/* Strict number parsing of a whole string (optional one trailing newline): -EINVAL otherwise. */
int hd_parse_uint(const char *s, int base, unsigned long long max, unsigned long long *out);
int hd_parse_int(const char *s, long long min, long long max, long long *out);
/* Parse "0x8086" or "8086" as hex up to @max. */
int hd_parse_hex(const char *s, unsigned long long max, unsigned long long *out);
/* @v in hex, at least @width digits, at @p (not terminated); returns the end. printf's
 * "%0*llx" at a tenth of the cost, for what a listing formats per device. */
char *hd_put_hex(char *p, unsigned long long v, int width, bool upper);
char *hd_strdup_or_null(const char *s);
/* Copy with truncation; always NUL-terminates. */
void hd_strlcpy(char *dst, const char *src, size_t size);
/* Room for element @n of an array of *@cap elements of @size bytes: @v itself while there is,
 * else @v grown to twice (at first @first) with *@cap updated. NULL: out of memory, @v kept. */
void *hd_array_grow(void *v, size_t *cap, size_t n, size_t size, size_t first);
/* Reference counts of public objects, atomic (hostdev.h: a reference may be dropped in another
 * thread): one at creation; hd_ref_drop() says whether the last one went. */
void hd_ref_init(atomic_int *count);
void hd_ref_take(atomic_int *count);
bool hd_ref_drop(atomic_int *count);
/* A public list object of plain elements: struct TYPE { atomic_int refcount; ELEM *v; size_t n,
 * cap; }. Its _ref, _unref and _count, and a getter of one string field of element i. */
#define HD_PLAIN_LIST_REFS(type, prefix)                                                       \
    HD_EXPORT struct type *prefix##_ref(struct type *l)                                        \
    {                                                                                          \
        if (l != NULL)                                                                         \
            hd_ref_take(&l->refcount);                                                         \
        return l;                                                                              \
    }                                                                                          \
    HD_EXPORT struct type *prefix##_unref(struct type *l)                                      \
    {                                                                                          \
        if (l == NULL || !hd_ref_drop(&l->refcount))                                           \
            return NULL;                                                                       \
        free(l->v);                                                                            \
        free(l);                                                                               \
        return NULL;                                                                           \
    }                                                                                          \
    HD_EXPORT size_t prefix##_count(const struct type *l)                                      \
    {                                                                                          \
        return l ? l->n : 0;                                                                   \
    }
#define HD_LIST_STRING_FIELD(type, fn, field)                                                  \
    HD_EXPORT const char *fn(const struct type *l, size_t i)                                   \
    {                                                                                          \
        return l != NULL && i < l->n ? l->v[i].field : NULL;                                   \
    }
uint64_t hd_now_ms(void);
void hd_sleep_ms(unsigned int ms);
/* Call @done until it returns > 0 (then 0) or < 0 (that error), at most @timeout_ms: sleeps of
 * 1, 2, 4 ... 64 ms in between. -ETIMEDOUT when time runs out. */
int hd_poll(unsigned int timeout_ms, int (*done)(void *data), void *data);

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
