/* fakesys.h - hostdev-fakesys private declarations, one section per .c file. */
#ifndef HOSTDEV_FAKESYS_H
#define HOSTDEV_FAKESYS_H

/*
 * The plan (after libvirt's virpcimock, but a whole fake kernel behind FUSE):
 *
 *   spec.c     reads a tree spec (docs/fakesys-spec.md) into a model: struct kernel.
 *   model.c    the model: drivers, devices, IOMMU groups, modules; lookups; the log.
 *   bind.c     the driver core: match, probe, attach, detach, bind/unbind/new_id/...
 *   pciattr.c  per-device attributes (show/store), like drivers/pci/pci-sysfs.c.
 *   hotplug.c  remove and rescan.
 *   config.c   the config space a device shows, generated from the model.
 *   acpi.c     the firmware's DMAR/IVRS table.
 *   kstr.c     how the kernel parses what is written to attributes.
 *   reset.c    reset and reset_method.
 *   sriov.c    sriov_* attributes, VF creation and removal.
 *   hostuse.c  what the host uses: net state, routes, addresses, block numbers, mounts, swaps.
 *   mdev.c     mediated devices; usb.c, scsi.c  USB and SCSI devices below PCI controllers.
 *   sysfs.c    lays the model out as ROOT/{sys,dev,proc,.fakesys} (again when it changes shape).
 *   tree.c     the in-memory tree (directories, attribute files, symlinks, plain files).
 *   ctl.c      the hidden control file: fault injection, hangs, hotplug; the action log.
 *   fuse.c     FUSE operations over the tree; plain in-memory files outside sys/dev/proc.
 *   materialize.c, capture.c, main.c, exec.c   the other subcommands, the command table.
 *
 * Locking: one mutex (kernel.lock) covers the model and the tree. Every FUSE operation takes
 * it; a hanging unbind drops it while it sleeps, so that other operations go on. As in the
 * kernel, writes to one device wait for each other (device.busy, device_lock()) and writes
 * to different devices do not, to the same file (drivers/X/unbind) too: FUSE serves requests
 * from many threads and allows parallel writes to a file (fuse.c).
 */

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <hostdev/hostdev.h>

#include "shared.h"

#define FS_PRINTF(a, b)  __attribute__((format(printf, a, b)))
#define FS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes of every subcommand. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* ---- buf.c: growable byte buffer, errno names --------------------------------------------- */

struct buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
};

void buf_add(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) FS_PRINTF(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) FS_PRINTF(2, 0);
/* Append @s quoted for a spec or a log line: "..." with \\, \", \n, \t and \xHH escapes. */
void buf_quote(struct buf *b, const char *s, size_t len);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Take the string; the buffer is empty afterwards. Never NULL. */
char *buf_steal(struct buf *b);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) FS_PRINTF(1, 2);

/* Binary search of a sorted array of pointers: where @key is (*found) or would go. */
size_t sorted_index(void *const *items, size_t n, const void *key,
                    int (*cmp)(const void *item, const void *key), bool *found);
/* A whole file, NUL-terminated (free it); -errno. */
int read_file(const char *path, char **data, size_t *len);
/* "EBUSY" for 16; "E123" for unknown numbers. */
const char *errno_name(int err);
/* "EBUSY", "16", "-16" -> 16; -1 for anything else. */
int errno_parse(const char *s);

/* ---- tree.c: the in-memory tree ----------------------------------------------------------- */

struct kernel;
struct node;
struct handle;

/* A kernel attribute file. show() writes the whole content; store() gets one write(2), NUL
 * terminated at @len. */
struct attr {
    const char *name;
    mode_t mode;
    void (*show)(struct kernel *k, const struct attr *a, void *obj, struct buf *out);
    int (*store)(struct kernel *k, void *obj, const char *data, size_t len);
    size_t size;   /* st_size; 0 means 4096 like sysfs */
    size_t off;    /* show_hex16()/show_int(): where the field is in the object;
                    * show_const(): the value itself */
    size_t unpriv; /* readable by non-root up to here (config: 64 bytes); 0 all */
    /* May it be opened now? -errno refuses every open (a held block node: EBUSY); NULL: yes */
    int (*open)(struct kernel *k, void *obj);
};

enum node_type { NODE_DIR, NODE_ATTR, NODE_FILE, NODE_LINK, NODE_CHR };

struct node {
    char *name;
    enum node_type type;
    mode_t mode; /* permission bits */
    uid_t uid;
    gid_t gid;
    struct node *parent;
    bool kernel; /* made by sysfs.c (rebuilt); false: a plain file somebody created */
    struct timespec mtime, ctime;
    /* NODE_DIR */
    struct node **kids; /* sorted by name */
    size_t nkids, kcap;
    /* NODE_ATTR */
    const struct attr *attr;
    void *obj;
    const char *key; /* the path writes are logged and faulted under (static or owned) */
    char *key_owned;
    /* NODE_FILE: contents; NODE_LINK: target */
    char *data;
    size_t size;
    /* NODE_CHR */
    dev_t rdev;
    struct node_perm *perm; /* where chmod/chown are kept */
    /* plain files: open handles; an unlinked file lives until the last one closes */
    int refs;
};

struct node *tree_new_root(void);
void tree_free(struct node *n);
/* Detach @n from its parent (does not free it). */
void tree_detach(struct node *n);
struct node *tree_child(const struct node *dir, const char *name);
/* Add @n (fresh) to @dir; an existing child of that name is freed and replaced. */
struct node *tree_add(struct node *dir, struct node *n);
struct node *tree_new(const char *name, enum node_type type, mode_t mode);
/* Get or create directories along @path (relative, '/'-separated) below @dir. */
struct node *tree_mkdirs(struct node *dir, const char *path);
struct node *tree_attr(struct node *dir, const struct attr *a, void *obj);
/* The same under another name (module parameters). */
struct node *tree_attr_named(struct node *dir, const char *name, const struct attr *a, void *obj);
struct node *tree_file(struct node *dir, const char *name, mode_t mode, const char *data,
                       size_t len);
struct node *tree_symlink(struct node *dir, const char *name, const char *target);
/* A read-only file of the kernel's (rebuilt with the tree) with printf-made contents: what
 * sysfs shows of objects the model keeps no attribute for (USB and SCSI devices). */
struct node *tree_kfile(struct node *dir, const char *name, const char *fmt, ...)
    FS_PRINTF(3, 4);
/* A symlink named @name in @dir to @target (a root-relative path), written relative to @dir
 * the way sysfs writes them ("../../../bus/pci/drivers/e1000e"). */
struct node *tree_link_to(struct node *dir, const char *name, const char *target);
/* Root-relative path of @n ("" for the root). Caller frees. */
char *tree_path(const struct node *n);
/* Find @path below @root without following symlinks (FUSE hands us resolved paths). */
struct node *tree_lookup(struct node *root, const char *path);
/* Find @path following symlinks in every component (for ctl paths). */
struct node *tree_resolve(struct node *root, const char *path);

/* ---- kstr.c: values written to attributes, the kernel's way -------------------------------- */

/* A number (base prefix allowed), one optional trailing newline. -EINVAL or -ERANGE. */
int kstrtoul(const char *s, unsigned long *v);
int kstrtoint(const char *s, int *v);
void show_hex16(struct kernel *k, const struct attr *a, void *obj, struct buf *out);
void show_int(struct kernel *k, const struct attr *a, void *obj, struct buf *out);
void show_const(struct kernel *k, const struct attr *a, void *obj, struct buf *out);

/* ---- model.c: the kernel's objects ------------------------------------------------------- */

#define ID_ANY 0xffffffffu

struct pci_id {
    uint32_t vendor, device, subvendor, subdevice; /* ID_ANY matches anything */
    uint32_t class, class_mask;
};

enum {
    DRV_STUB = 1u << 0,  /* empty id table: binds only by override or new_id */
    DRV_VFIO = 1u << 1,  /* a vfio-pci family driver: needs a group, makes dev/vfio/N */
    DRV_SRIOV = 1u << 2, /* has sriov_configure */
};

struct module {
    char *name;
    bool builtin;
    bool loaded;
    char **param_names, **param_values;
    size_t nparams;
};

struct driver {
    char *name;
    struct module *module; /* NULL: no module directory at all */
    unsigned int flags;
    /* DRV_VFIO: the name its vfio_device_ops carry, which vfio_pci_bus_notifier() writes as
     * the driver_override of each VF a PF on it makes (vfio-pci: "vfio-pci"; mlx5_vfio_pci:
     * "mlx5-vfio-pci", no driver's name) */
    char *ops_name;
    struct pci_id *ids; /* static table */
    size_t nids;
    struct pci_id *dyn; /* new_id */
    size_t ndyn;
    int unbind_hang_ms; /* 0 none, -1 until `ctl release` */
    int probe_errno;    /* probe fails with this (positive) errno; 0 works */
};

enum reset_method {
    RESET_DEVICE_SPECIFIC,
    RESET_ACPI,
    RESET_FLR,
    RESET_AF_FLR,
    RESET_PM,
    RESET_BUS,
    RESET_CXL_BUS,
    RESET_NMETHODS,
};

#define RESET_LIST_MAX RESET_NMETHODS

enum port_type {
    PORT_ENDPOINT = 0,
    PORT_LEGACY = 1,
    PORT_RC_ENDPOINT = 9,
    PORT_ROOT = 4,
    PORT_UPSTREAM = 5,
    PORT_DOWNSTREAM = 6,
    PORT_PCIE_PCI = 7,
};

/* Owner and mode of a device node the kernel makes (devtmpfs: root:root 0600 when made);
 * chmod/chown land here, since the tree is rebuilt. */
struct node_perm {
    mode_t mode;
    uid_t uid;
    gid_t gid;
};

/* A non-PCI child of a PCI device (what its host driver registers in probe() and unregisters
 * in remove()), or a virtual one (hostuse.c: netdev, holder, loop). A device's children are
 * declared by the spec and exist only while device_children_live() says so. */
struct child {
    struct device *owner; /* the PCI device; NULL: a virtual one */
    char *subsystem; /* "net", "block", "graphics" */
    char *name;
    char *mac;
    /* hostuse.c: what host-safety checks read */
    bool down;     /* net: administratively down (flags without IFF_UP, operstate down) */
    char **routes; /* net: IPv4 routes "A.B.C.D/LEN" (proc/net/route); NULL-terminated */
    char **inet6;  /* net: IPv6 addresses "ADDR/LEN" (proc/net/if_inet6); NULL-terminated */
    char *devnum;  /* block: "MAJ:MIN" (the dev attribute, mountinfo); NULL: none */
    char **routes6; /* net: IPv6 routes "ADDR/LEN[@TABLE]" (proc/net/ipv6_route) */
    char **inet;    /* net: IPv4 addresses "A.B.C.D/LEN" (proc/net/hostdev-rtnl) */
    char *kind;     /* net: a virtual interface's type (bridge, bond, vlan, vrf); NULL: a NIC's */
    char *master;   /* net: the bridge, bond or VRF it is enslaved to */
    char *lower;    /* net: a VLAN's lower interface */
    char *disk;     /* block: the disk a partition is on (a block child of the same device) */
    char *serial;   /* block: a disk's own serial attribute (virtio_blk's); NULL: none */
    char **slaves;  /* block: what a virtual block device (md, dm) holds */
    char *dm;       /* block: device-mapper name (dm/name, /dev/mapper/NAME) */
    char *under;    /* where below the device it sits (a SCSI disk: hostH/.../H:B:T:L); NULL */
    unsigned long long sectors; /* block: size in 512-byte sectors */
    int speed;      /* net: link speed in Mb/s; 0: unknown (the kernel shows -1) */
};

/* A mounted btrfs filesystem or an imported ZFS pool: the block devices it holds. */
struct blockset {
    char *name; /* the btrfs UUID or the pool */
    bool zfs;
    char **devs;
};

struct device {
    struct hd_pci_addr addr;
    char name[HD_PCI_ADDR_BUFSZ];
    int line; /* spec line, for messages; 0 for VFs */
    bool present;
    uint16_t vendor, device, subvendor, subdevice;
    uint32_t class;
    uint8_t revision;
    int header;            /* 0, 1, 2 */
    struct device *parent; /* bridge above, NULL on a root bus */
    bool root_bus;         /* spec said parent=root */
    int secondary;         /* bridges: secondary bus number */
    bool pcie;
    enum port_type port;
    int link_speed, link_width; /* status; speed in PCIe generations 1..6, 0 none */
    int cap_speed, cap_width;
    int link_port; /* Link Capabilities' port number (bits 31:24) */
    int group; /* -1 none */
    int numa;
    int irq;
    bool boot_vga; /* the firmware's console (boot_vga reads 1; shown for VGA class only) */
    char *cpus;
    /* reset: the methods the device supports (spec order) and those in effect */
    int reset_default[RESET_LIST_MAX], nreset_default;
    int reset_cur[RESET_LIST_MAX], nreset_cur;
    /* binding */
    struct driver *driver;
    const void *busy; /* fuse.c: the write working on it (device_lock()); NULL: none */
    char *override;
    int vfio_index;             /* vfio-dev/vfioN while bound to a vfio driver, else -1 */
    struct node_perm cdev_perm; /* dev/vfio/devices/vfioN */
    bool noiommu;               /* group made up by vfio's unsafe no-IOMMU mode while bound */
    bool enabled_by_user;
    /* initial state from the spec, restored by rescan */
    char *spec_driver;
    /* SR-IOV (PF) */
    int totalvfs; /* 0: not SR-IOV capable */
    int numvfs;
    uint16_t vf_device;
    int vf_offset, vf_stride;
    bool vf_autoprobe;
    int spec_numvfs;
    struct driver *vf_driver; /* spec sugar: this driver's table gets the VF ids */
    /* SR-IOV (VF) */
    struct device *physfn;
    int vf_index;
    struct child *children;
    size_t nchildren;
};

enum iommu_kind { IOMMU_NONE, IOMMU_INTEL, IOMMU_AMD, IOMMU_SMMU };

struct group_node {
    int group;
    bool noiommu; /* dev/vfio/noiommu-N */
    bool open;    /* a VM holds it (ctl open-group): vfio unbinds in the group wait */
    struct node_perm perm;
};

struct fault {
    char *key;
    int err;
    unsigned int nth;   /* fail from the nth access on (1-based) */
    unsigned int count; /* how many times; 0 forever */
    bool on_read;       /* reads (each read from offset 0) instead of writes */
    unsigned int seen, fired;
};

/* A mediated device type a parent offers (mdev_supported_types/ID). */
struct mdev_type {
    /* a PCI device's name, or a virtual parent's ("mtty": devices/virtual/mtty/mtty) */
    char *parent;
    char *id;     /* "mtty-2": the driver's name, '-', its own type name */
    char *name, *description, *api;
    int max; /* how many there can be: available_instances with none made */
    int line;
};

/* A mediated device: its own IOMMU group (vfio's emulated one) and dev/vfio/N. */
struct mdev {
    char uuid[37];
    struct mdev_type *type;
    int group;
};

/* A USB device's interface: class, subclass, protocol, the driver bound (NULL none). */
struct usb_iface {
    int cls, sub, proto;
    char *driver;
    char *text; /* its interface string (iInterface); NULL none */
};

/* A USB device below a PCI host controller (usb.c). */
struct usbdev {
    struct device *ctrl;
    int bus;    /* busnum: the number before the '-' of @port */
    char *port; /* its sysfs name, "1-2" */
    int devnum; /* changes when it re-enumerates */
    uint16_t vendor, product;
    int cls; /* bDeviceClass */
    char *serial, *name, *manufacturer;
    struct usb_iface *ifaces;
    size_t nifaces;
    struct node_perm perm; /* dev/bus/usb/BBB/DDD */
    char *disk;    /* a stick: its SCSI disk's block device; NULL none */
    int scsi_host; /* a stick: its SCSI host; -1 none */
};

/* A SCSI device (scsi.c), on a PCI adapter or below a USB stick. */
struct scsidev {
    struct device *ctrl;  /* the PCI device it is below (a stick: the USB controller) */
    struct usbdev *usb;   /* NULL: on the adapter itself */
    int host, channel, target, lun;
    int type;             /* 0 disk, 5 CD-ROM, ... */
    char *vendor, *model, *serial;
    unsigned long long sectors; /* the disk's size */
    int sg;               /* dev/sgN */
    char *disk;           /* its block device, NULL none */
    struct node_perm perm; /* dev/sgN */
};

struct seed_file {
    char *path;
    char *data; /* NULL: a directory */
    size_t len;
    mode_t mode;
};

struct kernel {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* hangs wait on it; `ctl release` and unmount broadcast */
    unsigned long release_gen;
    bool stopping;
    /* Asks the server whether it is going away (so that hangs end): fuse.c sets it. */
    bool (*stop_requested)(struct kernel *k);
    void *server;
    struct handle *handles; /* fuse.c: open file handles */
    /* The tree's shape changed (a link, a directory, a file came or went): rebuild it before
     * unlocking. Attribute contents are generated at read time and need no rebuild. */
    bool dirty;

    char *spec_file;
    char *version;
    bool feat_override, feat_reset_method, feat_vfio_dev, feat_vfio_cdev;
    bool feat_mountinfo; /* proc/self/mountinfo (off: proc/mounts alone, as before 2.6.26) */
    /* dev/vfio/vfio and dev/iommu (0666 when made): chmod/chown survive tree rebuilds */
    struct node_perm container_perm, iommu_perm;
    char *cmdline;
    char *cpu_vendor;    /* proc/cpuinfo's vendor_id; NULL: no proc/cpuinfo (no `cpu` line) */
    bool cpu_hypervisor; /* the "hypervisor" flag: a virtual machine */
    enum iommu_kind iommu;
    bool iommu_enabled, irq_remap, iommu_pt;
    bool drivers_autoprobe;

    struct module **modules;
    size_t nmodules;
    struct driver **drivers; /* registration order = probe order */
    size_t ndrivers;
    struct device **devices; /* sorted by address; removed ones stay with present=false */
    size_t ndevices;
    struct group_node *gnodes; /* dev/vfio/N that exist, with their owner and mode */
    size_t ngnodes;
    struct fault *faults;
    size_t nfaults;
    struct seed_file *seeds;
    size_t nseeds;
    struct mdev_type **mtypes; /* mdev.c */
    size_t nmtypes;
    struct mdev **mdevs; /* in creation order */
    size_t nmdevs;
    struct usbdev **usbs; /* usb.c, spec order */
    size_t nusbs;
    struct scsidev **scsis; /* scsi.c, spec order */
    size_t nscsis;
    char **mounts; /* hostuse.c: "SOURCE\tMOUNTPOINT\tFSTYPE" in spec order; NULL-terminated */
    char **swaps;  /* hostuse.c: active swap devices or files; NULL-terminated */
    struct child *vnets;   /* hostuse.c: virtual interfaces (netdev), in spec order */
    size_t nvnets;
    struct child *vblocks; /* hostuse.c: virtual block devices (holder: md, dm) */
    size_t nvblocks;
    struct blockset *sets; /* hostuse.c: btrfs filesystems, zpools */
    size_t nsets;

    struct buf log; /* what the kernel did: .fakesys/log */
    struct buf uevents; /* proc/hostdev-uevents: the device events, one a line */
    unsigned long long seqnum;
    FILE *logfile;  /* --log */
    char ctl_status[512];
    struct node *root;
};

struct kernel *kernel_new(void);
void kernel_free(struct kernel *k);
/* The kernel version is @major.@minor or later (what sysfs has depends on it). */
bool kernel_at_least(const struct kernel *k, int major, int minor);
void kernel_lock(struct kernel *k);
/* Rebuilds the tree when the model changed, then unlocks. */
void kernel_unlock(struct kernel *k);
/* Append one line to the action log (and --log). */
void kernel_log(struct kernel *k, const char *fmt, ...) FS_PRINTF(2, 3);
/* Announce a device event (add, remove, bind, unbind) on proc/hostdev-uevents, in the words
 * of the kernel's uevent messages, one event a line, fields separated by blanks. */
void kernel_uevent(struct kernel *k, const char *action, const struct device *dev);

struct module *module_get(struct kernel *k, const char *name);
struct module *module_find(const struct kernel *k, const char *name);
const char *module_param(const struct module *m, const char *name);
void module_set_param(struct module *m, const char *name, const char *value);
struct driver *driver_find(const struct kernel *k, const char *name);
bool driver_loaded(const struct driver *drv);
struct driver *driver_new(struct kernel *k, const char *name);
struct device *device_find(const struct kernel *k, const struct hd_pci_addr *addr);
/* A present device by name ("0000:03:00.0", trailing newline allowed, as sysfs_streq). */
struct device *device_find_name(const struct kernel *k, const char *text, size_t len);
struct device *device_new(struct kernel *k, const struct hd_pci_addr *addr);
void device_delete(struct kernel *k, struct device *dev);
bool device_is_bridge(const struct device *dev);
/* Another function in the same slot is present (multifunction bit). */
bool device_multifunction(const struct kernel *k, const struct device *dev);
/* The first free IOMMU group number, vfio-dev index. */
int group_alloc(const struct kernel *k);
int vfio_index_alloc(const struct kernel *k);
struct group_node *group_node_find(struct kernel *k, int group);
/* Present devices of @group bound to a vfio driver. */
size_t group_vfio_users(const struct kernel *k, int group);
int add_child(struct device *dev, const char *subsystem, const char *name, const char *mac);
/* Do @dev's children exist now? They are its host driver's (netdevs, disks, framebuffers, a
 * host controller's root hub and USB devices, an HBA's SCSI hosts): present only while @dev
 * is bound to a driver that is neither a stub nor of the vfio family, made again (with their
 * spec's names and options) when such a driver binds again. */
bool device_children_live(const struct device *dev);

/* ---- acpi.c ------------------------------------------------------------------------------ */

enum { ACPI_DMAR_SIZE = 64, ACPI_IVRS_SIZE = 72 };

/* The DMAR (intel) or IVRS (amd) table of @k's IOMMU. */
void acpi_iommu_table(const struct kernel *k, struct buf *out);

/* ---- bind.c: the driver core ------------------------------------------------------------- */

/* pci_match_device(): driver_override, then dynamic ids, then the static table. */
bool driver_matches(const struct driver *drv, const struct device *dev);
/* Probe @drv on an unbound @dev: 0 bound, else the probe's -errno (logged). */
int driver_probe(struct kernel *k, struct device *dev, struct driver *drv);
/* Bind without probing (a spec says so): the vfio node and cdev come along. */
void driver_bind(struct kernel *k, struct device *dev, struct driver *drv);
/* driver_attach(): probe @drv on every unbound device it matches. */
void driver_attach(struct kernel *k, struct driver *drv);
/* device_attach(): try every loaded matching driver in order; never fails. */
void device_attach(struct kernel *k, struct device *dev);
/* Unbind, sleeping first when the driver's remove() hangs (drops the lock). Returns the
 * device again (looked up anew: it may have gone while we slept) or NULL. */
struct device *device_release_driver(struct kernel *k, struct device *dev);
/* The bus-wide attributes sys/bus/pci/{drivers_probe,drivers_autoprobe,rescan}. */
extern const struct attr bus_attrs[];
extern const size_t bus_nattrs;
/* The per-driver attributes {bind,unbind,new_id,remove_id,uevent}. */
extern const struct attr driver_attrs[];
extern const size_t driver_nattrs;
int id_parse(const char *text, struct pci_id *id);
void id_format(struct buf *b, const struct pci_id *id);

/* ---- pciattr.c: per-device attributes ---------------------------------------------------- */

/* Add @dev's attribute files to @dir, honouring the kernel's feature switches. */
void pci_add_attrs(struct kernel *k, struct device *dev, struct node *dir);
/* "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00" */
void pci_modalias(struct buf *b, const struct device *dev);

/* ---- hotplug.c --------------------------------------------------------------------------- */

/* Remove @dev (and what hangs below it) as the `remove` attribute does; logged as @why. */
void device_remove(struct kernel *k, struct device *dev, const char *why);
/* Bring back removed devices below @under (NULL: everything) and probe them. */
void bus_rescan(struct kernel *k, const struct device *under);
/* Put a device back in its power-on state (rescan, hotplug). */
void device_reset_state(struct device *dev);

/* ---- config.c: config space -------------------------------------------------------------- */

#define CONFIG_SIZE_PCI  256
#define CONFIG_SIZE_PCIE 4096

#define CONFIG_BAR0_SIZE 0x4000u

size_t config_size(const struct device *dev);
/* Where an endpoint's one memory BAR is (resource and config agree). */
uint32_t config_bar0(const struct device *dev);
void config_build(const struct kernel *k, const struct device *dev, uint8_t *cfg);
/* Speeds: 1 = 2.5 GT/s ... 6 = 64 GT/s. */
const char *link_speed_name(int gen);
int link_speed_parse(const char *text);

/* ---- reset.c ----------------------------------------------------------------------------- */

extern const char *const reset_method_names[RESET_NMETHODS];
/* "flr,pm,bus" or "flr pm bus" into @list; -EINVAL names an unknown method. */
int reset_list_parse(const char *text, size_t len, char sep, int *list, int *n);
extern const struct attr reset_attr, reset_method_attr;

/* ---- sriov.c ----------------------------------------------------------------------------- */

extern const struct attr sriov_attrs[];
extern const size_t sriov_nattrs;
/* Create @n VFs of @pf (probing them when autoprobe allows). -errno when it cannot. */
int sriov_enable(struct kernel *k, struct device *pf, int n, bool probe);
/* Remove every VF of @pf (unbinding them first). */
void sriov_disable(struct kernel *k, struct device *pf);
/* The address of VF @i of @pf; -ERANGE when it falls off the bus numbers. */
int sriov_vf_addr(const struct device *pf, int i, struct hd_pci_addr *addr);

/* ---- mdev.c: mediated devices ------------------------------------------------------------ */

/* `mdev-type PARENT ID [name=] [description=] [api=] [instances=N]` (spec.c calls it). */
int mdev_type_add(struct kernel *k, const char *parent, const char *id, struct mdev_type **out,
                  char *err, size_t errsz);
struct mdev_type *mdev_type_find(const struct kernel *k, const char *parent, const char *id);
/* Make a mediated device of @t (the create file does, and `mdev UUID PARENT TYPE`): -EINVAL
 * for a malformed UUID, -EEXIST when it is taken, -EUSERS when @t has no instance left. */
int mdev_create(struct kernel *k, struct mdev_type *t, const char *uuid);
/* The root-relative directory of a parent: the PCI device's, or devices/virtual/NAME/NAME. */
char *mdev_parent_path(const struct kernel *k, const char *parent);
/* Lay the parents' types, the mdevs and the mdev bus out (sysfs.c calls it). */
void mdev_build_sys(struct kernel *k);
void mdev_free_all(struct kernel *k);
/* @dev's driver let go of it: the mediated devices it was the parent of are gone. */
void mdev_parent_unbound(struct kernel *k, const struct device *dev);

/* ---- usb.c, scsi.c: USB and SCSI devices -------------------------------------------------- */

/* `usb CONTROLLER BUS-PORT VVVV:PPPP [options]`, `scsi ADAPTER H:B:T:L [options]` (spec.c). */
int usb_add(struct kernel *k, int argc, char **argv, char *err, size_t errsz);
int scsi_add(struct kernel *k, int argc, char **argv, char *err, size_t errsz);
struct usbdev *usb_find(const struct kernel *k, const char *port);
/* Re-enumerate: the next free device number (a new node, default owner); -ENODEV, also while
 * its controller has no host driver. */
int usb_replug(struct kernel *k, const char *port);
/* A host driver bound @ctrl: its buses enumerate anew (device numbers from 2 in spec order,
 * new dev/bus/usb nodes with the default owner); its SCSI hosts' dev/sgN nodes are new. */
void usb_host_probed(struct kernel *k, const struct device *ctrl);
void scsi_host_probed(struct kernel *k, const struct device *ctrl);
char *usb_path(const struct usbdev *u);
void usb_build_sys(struct kernel *k);
void usb_build_dev(struct kernel *k, struct node *dev);
void usb_free_all(struct kernel *k);
int scsi_host_alloc(const struct kernel *k);
int scsi_add_below_usb(struct kernel *k, struct usbdev *u, char *err, size_t errsz);
struct scsidev *scsi_find(const struct kernel *k, int sg);
/* Where SCSI device @s is below its PCI device's directory ("host2/target2:0:0/2:0:0:0"). */
char *scsi_rel_path(const struct scsidev *s);
void scsi_build_sys(struct kernel *k);
void scsi_build_dev(struct kernel *k, struct node *dev);
void scsi_free_all(struct kernel *k);

/* ---- sysfs.c ----------------------------------------------------------------------------- */

/* A device node in @dir; with @perm its owner and mode come from (and chmod/chown go to) the
 * model, else @mode and root. */
struct node *sysfs_chr(struct node *dir, const char *name, mode_t mode, unsigned int major,
                       unsigned int minor, struct node_perm *perm);

/* (Re)build ROOT/{sys,dev,proc,.fakesys} from the model; plain files elsewhere are kept. */
void sysfs_build(struct kernel *k);
/* Root-relative path of @dev's directory: "sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.0". */
char *device_path(const struct device *dev);

/* ---- spec.c ------------------------------------------------------------------------------ */

/* Parse a spec (file name for messages, text). On error returns -1 with "file:line: why" in
 * @err. The kernel is then in its initial state (drivers bound, VFs created). */
int spec_load(struct kernel *k, const char *file, const char *text, char *err, size_t errsz);
/* Parse one `device` line at run time (ctl add). */
int spec_device_line(struct kernel *k, const char *line, struct device **out, char *err,
                     size_t errsz);
/* Split @line into words (quotes, backslash escapes, # comments). Returns the count, or -1
 * with a message in @err. Free with strv_free(). */
int spec_split(const char *line, char ***words, char *err, size_t errsz);
/* The same, with each word's length in *@lens (allocated): a word may hold "\x00". */
int spec_split_len(const char *line, char ***words, size_t **lens, char *err, size_t errsz);
void strv_free(char **v);
/* A name that may be a file name in the tree: 1 to 64 of A-Z a-z 0-9 . _ - */
bool spec_name_ok(const char *s);

/* ---- hostuse.c: what the host uses (net state, routes, addresses, mounts, swaps) ---------- */

/* One spec option of a net or block child of @dev ("down", "route=0.0.0.0/0",
 * "inet6=2001:db8::5/64", "master=br0", "dev=8:0", "disk=sda"): 0, or -EINVAL when it is not
 * one (or names what is not declared). */
int hostuse_child_option(struct kernel *k, struct device *dev, struct child *c, const char *opt);
void hostuse_child_free(struct child *c);
void hostuse_free(struct kernel *k);
/* The `mount`, `swap`, `netdev`, `holder`, `zpool` and `btrfs` keywords: 0, or -1 with @err. */
int hostuse_keyword(struct kernel *k, int argc, char **argv, char *err, size_t errsz);
/* flags and operstate of a net child, dev of a block child. */
void hostuse_child_attrs(struct child *c, struct node *dir);
/* Virtual interfaces and block devices, the links between them (master, upper_, lower_, brif,
 * bonding/slaves, holders, slaves), sys/fs/btrfs; after the devices are laid out. */
void hostuse_build_sys(struct kernel *k);
/* dev/NAME of every block device with a number: opens fail with EBUSY while it is held. */
void hostuse_build_dev(struct kernel *k, struct node *dev);
/* proc/mounts, proc/swaps, proc/self/mountinfo, proc/net/{route,ipv6_route,if_inet6,
 * hostdev-rtnl}, proc/spl/kstat/zfs/POOL. */
void hostuse_build_proc(struct kernel *k, struct node *proc);

/* ---- ctl.c ------------------------------------------------------------------------------- */

/* Run one control command (a line written to .fakesys/ctl). 0 or -errno; a message for the
 * user in k->ctl_status. */
int ctl_run(struct kernel *k, const char *line);
/* `fault PATH ERRNO [nth=N] [count=N] [on=read|write]` (spec line or ctl command) into @f. */
int fault_parse(int argc, char **argv, struct fault *f, char *err, size_t errsz);
/* Arm @f for PATH (ROOT-relative, resolved through symlinks to the attribute's log name). */
void fault_add(struct kernel *k, const char *path, const struct fault *f);
/* A read or write of the attribute @key is about to happen: -errno when a fault fires. */
int fault_check(struct kernel *k, const char *key, bool on_read);
/* Wait @ms (-1: until released or unmounted) with the lock dropped. */
void kernel_sleep(struct kernel *k, int ms);
/* The server is going away: nothing may wait any longer. */
bool kernel_stopping(struct kernel *k);
extern const struct attr ctl_attrs[];
extern const size_t ctl_nattrs;

/* ---- exec.c ------------------------------------------------------------------------------ */

/* Run a command with its output thrown away: its exit status, -1 when it could not run. */
int run_quiet(const char *const argv[]);
/* fusermount3 -u [-z], or umount2() as root. 0 or -1. */
int unmount_path(const char *root, bool lazy);

/* ---- fuse.c ------------------------------------------------------------------------------ */

/* Mount @k on @mountpoint and serve until unmounted. With @owner > 0, unmount (and remove the
 * empty mount point) once that process is gone, so a crashed test leaves nothing behind. */
int fuse_serve(struct kernel *k, const char *mountpoint, bool foreground, pid_t owner);

/* ---- materialize.c, capture.c, main.c ---------------------------------------------------- */

int materialize_tree(struct kernel *k, const char *dir, char *err, size_t errsz);
int capture_sysfs(const char *sysfs, const char *procdir, FILE *out, char *err, size_t errsz);

#endif
