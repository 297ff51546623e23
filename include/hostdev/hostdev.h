/* hostdev.h - libhostdev public API: PCI passthrough preparation without libvirt. */
#ifndef HOSTDEV_HOSTDEV_H
#define HOSTDEV_HOSTDEV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Conventions (as in libkmod):
 * - Every function that can fail returns 0 (or a count) on success and a negative errno on
 *   failure, and leaves a one-line message on the context (hd_ctx_last_error()).
 * - Results come through out-parameters. Strings returned by getters are owned by the object
 *   they came from and live as long as it does.
 * - Objects are reference counted: *_unref() returns NULL when it freed the object.
 * - Names: every reference-counted type has _ref() and _unref(); a list-like object has
 *   hd_T_count() and hd_T_get(i) (or hd_T_get_X(i) for its items' fields); a collection an
 *   object holds, hd_T_get_X_count() and hd_T_get_X(i); an enum's name, hd_E_to_string(); an
 *   object's own name, hd_T_get_name().
 * - ABI: every function here is listed in core/libhostdev.sym (make abi-check compares them);
 *   one removed, renamed or changed bumps the library's SOVERSION and the version node.
 * - Nothing here prints, exits or keeps global state: two contexts with different roots work
 *   side by side.
 *
 * Threads: a context and every object made from it (devices, lists, node devices, groups,
 * operations, reports, ...) are one thread's at a time. The context keeps the last error, the
 * names cache and the strings its devices share, without locks of its own. So:
 * - Use one context per thread; contexts in different threads work at once, on the same root
 *   too (writers exclude each other with the same file locks as separate processes).
 * - Or share a context, and hold one lock of your own around every call on it and on the
 *   objects made from it, reading hd_ctx_last_error() and hd_ctx_last_reason() before letting
 *   the lock go (libhostdev-virt does this for a connection).
 * - Safe in any thread without that lock: every object's _ref and _unref (hd_ctx_ref,
 *   hd_device_ref, hd_group_ref, hd_device_list_unref, ...: atomic counts; a reference may be
 *   dropped in another thread than the one that took it, once no thread uses the object
 *   through it), and the functions that take
 *   no context or object (hd_pci_addr_parse, hd_reason_to_string, hd_nodedev_cap_to_string, ...).
 * - The log function is called in the thread that made the call, never by two threads at
 *   once. An operation on devices of several IOMMU groups runs their steps on worker threads
 *   of its own (each with a context of its own); their log lines reach the log function in
 *   the calling thread while the call lasts.
 */

/* ------------------------------------------------------------------------------------------ */
/* Context                                                                                    */

struct hd_ctx;

enum hd_log_priority {
    HD_LOG_ERR = 3,
    HD_LOG_WARNING = 4,
    HD_LOG_NOTICE = 5,
    HD_LOG_INFO = 6,
    HD_LOG_DEBUG = 7,
};

typedef void (*hd_log_fn)(void *data, int priority, const char *file, int line, const char *fn,
                          const char *format, va_list args);

/* Create a context whose kernel lives under @root ("/" when NULL): ROOT/sys, ROOT/proc/cmdline,
 * ROOT/dev, and the state directory ROOT/run/hostdev. -ENOENT/-ENOTDIR when @root is not a
 * directory. */
int hd_ctx_new(const char *root, struct hd_ctx **ctx);
struct hd_ctx *hd_ctx_ref(struct hd_ctx *ctx);
struct hd_ctx *hd_ctx_unref(struct hd_ctx *ctx);
const char *hd_ctx_get_root(const struct hd_ctx *ctx);

/* Logging goes only through this function; the default logs nothing. */
void hd_ctx_set_log_fn(struct hd_ctx *ctx, hd_log_fn fn, void *data);
void hd_ctx_set_log_priority(struct hd_ctx *ctx, int priority);
int hd_ctx_get_log_priority(const struct hd_ctx *ctx);

/* The message left by the last call that failed on this context ("" when none). */
const char *hd_ctx_last_error(const struct hd_ctx *ctx);
void hd_ctx_clear_error(struct hd_ctx *ctx);

/* Why the last call failed, as a code callers act on (never parse the message). */
enum hd_reason {
    HD_REASON_NONE = 0,
    HD_REASON_FAILED,        /* a write or read failed; what was changed was put back */
    HD_REASON_INVALID,       /* bad input: an address, a VM id, an option, a driver name, sysfs
                              * contents the kernel would not write (met before any change) */
    HD_REASON_NO_DEVICE,     /* no such device */
    HD_REASON_HELD,          /* a VM holds the device or a member of its IOMMU group */
    HD_REASON_HOST_USE,      /* the host uses it (mounted disk, routed interface, console) */
    HD_REASON_PLATFORM,      /* a platform function (host bridge, LPC/ISA bridge, SMBus...) */
    HD_REASON_NOT_VIABLE,    /* its IOMMU group keeps devices the host keeps */
    HD_REASON_STATE_DAMAGED, /* the assignment map or a record is damaged */
    HD_REASON_BLOCKED,       /* an unreadable or still running intent log holds the groups */
    HD_REASON_TIMEOUT,       /* an unbind or reset did not return in time */
    HD_REASON_NOT_ASSIGNED,  /* the VM does not hold what was asked to be released */
    HD_REASON_UNSUPPORTED,   /* not possible on this device or host (no IOMMU group, no SR-IOV) */
    HD_REASON_NOIOMMU,       /* no IOMMU group, vfio's unsafe no-IOMMU mode on: only with
                              * HD_OP_NOIOMMU (the caller's explicit opt-in) */
};
enum hd_reason hd_ctx_last_reason(const struct hd_ctx *ctx);
/* Whether a force flag overrides a refusal of this reason. */
bool hd_reason_forceable(enum hd_reason reason);
/* "held-by-vm", "host-use", ...: stable names for machine-readable output. */
const char *hd_reason_to_string(enum hd_reason reason);

/* How long an unbind, a bind or a device node may take before the operation gives up
 * (default 10000 ms). */
void hd_ctx_set_timeout_ms(struct hd_ctx *ctx, unsigned int ms);
unsigned int hd_ctx_get_timeout_ms(const struct hd_ctx *ctx);

/* Where names come from: a pci.ids or a udev hwdb.bin file. NULL: udev's hwdb.bin (the root's
 * etc/udev or usr/lib/udev, else the host's), else ROOT/usr/share/hwdata/pci.ids, else the
 * host's pci.ids. "" turns names off. */
int hd_ctx_set_names_file(struct hd_ctx *ctx, const char *path);

/* State directory, relative to the root (default "run/hostdev"). */
int hd_ctx_set_state_dir(struct hd_ctx *ctx, const char *dir);
const char *hd_ctx_get_state_dir(const struct hd_ctx *ctx);

/* ------------------------------------------------------------------------------------------ */
/* PCI addresses and selectors                                                                */

struct hd_pci_addr {
    uint32_t domain;  /* 0..0xffff usually; VMD domains go beyond */
    uint8_t bus;      /* 0..0xff */
    uint8_t slot;     /* 0..0x1f */
    uint8_t function; /* 0..7 */
};

/* "ffffffff:ff:1f.7" plus NUL */
#define HD_PCI_ADDR_BUFSZ 17

/* Accepts DDDD:BB:SS.F, BB:SS.F (domain 0) and libvirt's pci_DDDD_BB_SS_F, hex in any case.
 * -EINVAL for anything else or out of range. */
int hd_pci_addr_parse(const char *text, struct hd_pci_addr *addr);
/* Canonical "DDDD:BB:SS.F" (lower-case hex). Returns @buf. */
char *hd_pci_addr_format(const struct hd_pci_addr *addr, char buf[HD_PCI_ADDR_BUFSZ]);
int hd_pci_addr_compare(const struct hd_pci_addr *a, const struct hd_pci_addr *b);
bool hd_pci_addr_equal(const struct hd_pci_addr *a, const struct hd_pci_addr *b);

enum hd_selector_kind {
    HD_SELECTOR_ADDR, /* one device */
    HD_SELECTOR_IDS,  /* every device with these vendor:device ids */
};

struct hd_pci_selector {
    enum hd_selector_kind kind;
    struct hd_pci_addr addr;
    uint16_t vendor;
    uint16_t device;
};

/* An address (any form above) or "VVVV:DDDD". -EINVAL otherwise. */
int hd_pci_selector_parse(const char *text, struct hd_pci_selector *sel);
struct hd_device;
/* Does @sel select @dev (its address, or its ids: @dev needs HD_FILL_IDENT)? */
bool hd_pci_selector_match(const struct hd_pci_selector *sel, const struct hd_device *dev);

/* ------------------------------------------------------------------------------------------ */
/* Devices                                                                                    */

struct hd_device;

/* What a snapshot holds; hd_device_open() fills everything, enumeration only what is asked,
 * so that a listing reads as few files as possible. */
enum hd_fill {
    HD_FILL_IDENT = 1u << 0,  /* ids, class, driver, modalias (from uevent) */
    HD_FILL_GROUP = 1u << 1,  /* IOMMU group number */
    HD_FILL_PARENT = 1u << 2, /* parent bridge */
    HD_FILL_CONFIG = 1u << 3, /* revision, header type (config space) */
    HD_FILL_NAMES = 1u << 4,  /* vendor and product names */
    HD_FILL_SRIOV = 1u << 5,  /* physfn, virtfns, totalvfs, numvfs */
    HD_FILL_EXTRA = 1u << 6,  /* numa node, reset methods, vfio cdev; implies _OVERRIDE */
    HD_FILL_OVERRIDE = 1u << 7, /* driver_override alone (one file: what a listing can afford) */
    HD_FILL_ALL = 0xff,
};

/* -ENODEV when there is no such device under the root; -EINVAL (reason HD_REASON_INVALID) when
 * sysfs holds for it what the kernel would not write (with HD_FILL_IDENT: its driver link too). */
int hd_device_open(struct hd_ctx *ctx, const struct hd_pci_addr *addr, struct hd_device **dev);
/* The same, reading only the @fill fields (HD_FILL_*; hd_device_fill() adds more later). */
int hd_device_open_fill(struct hd_ctx *ctx, const struct hd_pci_addr *addr, unsigned int fill,
                        struct hd_device **dev);
struct hd_device *hd_device_ref(struct hd_device *dev);
struct hd_device *hd_device_unref(struct hd_device *dev);
/* Read @fill fields that the snapshot does not have yet. */
int hd_device_fill(struct hd_device *dev, unsigned int fill);
/* The driver link read again, as the snapshot's driver (a listing's takes the drivers'
 * directories and reads no link): 0; -EINVAL (reason HD_REASON_INVALID) for a link the kernel
 * would not make, -EAGAIN for one naming another driver (the device is changing), each with
 * the error set naming the device. Every later step reads the link, so this stops a caller
 * before its first write. */
int hd_device_check_driver_link(struct hd_device *dev);
/* Re-read everything the snapshot holds (after a bind, say). */
int hd_device_refresh(struct hd_device *dev);
struct hd_ctx *hd_device_get_ctx(const struct hd_device *dev);

const struct hd_pci_addr *hd_device_get_addr(const struct hd_device *dev);
const char *hd_device_get_name(const struct hd_device *dev); /* "0000:03:00.0" */
uint16_t hd_device_get_vendor_id(const struct hd_device *dev);
uint16_t hd_device_get_device_id(const struct hd_device *dev);
uint16_t hd_device_get_subsystem_vendor_id(const struct hd_device *dev);
uint16_t hd_device_get_subsystem_device_id(const struct hd_device *dev);
uint32_t hd_device_get_class(const struct hd_device *dev); /* 0xCCSSPP */
int hd_device_get_revision(const struct hd_device *dev);   /* -1 unknown */
/* 0 endpoint, 1 bridge, 2 cardbus; -1 unknown */
int hd_device_get_header_type(const struct hd_device *dev);
const char *hd_device_get_vendor_name(const struct hd_device *dev);  /* NULL unknown */
const char *hd_device_get_product_name(const struct hd_device *dev); /* NULL unknown */
const char *hd_device_get_modalias(const struct hd_device *dev);
const char *hd_device_get_driver(const struct hd_device *dev);          /* NULL when unbound */
const char *hd_device_get_driver_override(const struct hd_device *dev); /* NULL when unset */
bool hd_device_has_driver_override(const struct hd_device *dev); /* the attribute exists */
int hd_device_get_iommu_group(const struct hd_device *dev);     /* -1 when none */
int hd_device_get_numa_node(const struct hd_device *dev);       /* -1 when none */
const struct hd_pci_addr *hd_device_get_parent(const struct hd_device *dev); /* NULL: root bus */
const struct hd_pci_addr *hd_device_get_physfn(const struct hd_device *dev); /* NULL: not a VF */
/* A VF whose driver_override its PF set: a PF on vfio-pci (or a variant) makes its VFs with
 * driver_override set to the name of that driver's vfio device ops (the kernel's
 * vfio_pci_bus_notifier, "Captured SR-IOV VF"): vfio-pci's is "vfio-pci", so its VFs bind to
 * it; a variant's is the variant's to choose ("mlx5-vfio-pci" for mlx5_vfio_pci), a name no
 * driver has, so its VFs stay unbound. No file shows that name: true when the PF is on vfio-pci
 * or a variant now (by the driver's name, or its vfio-dev directory) and the override is its
 * driver's name or one no driver registered has (not a stub's), read then (one open, one link,
 * a look or two). */
bool hd_device_is_captured_by_pf(struct hd_device *dev);
/* The same, with the PF's driver in @buf (NULL: not wanted): 1 captured, 0 not. The VF binds to
 * that driver when the override is its name, and stays unbound when not. */
int hd_device_get_capturing_driver(struct hd_device *dev, char *buf, size_t size);
/* A VF whose PF is on vfio-pci (or a variant, as hd_device_is_on_vfio() tells): vfio-pci opens it
 * only with the VF token the PF's user set, which libvirt never passes ("VF token required to
 * access device"); false for a PF, a VF whose PF is elsewhere and a PF that cannot be read. */
bool hd_device_needs_vf_token(struct hd_device *dev);
size_t hd_device_get_virtfn_count(const struct hd_device *dev);
const struct hd_pci_addr *hd_device_get_virtfn(const struct hd_device *dev, size_t i);
int hd_device_get_sriov_totalvfs(const struct hd_device *dev); /* -1: not SR-IOV capable */
int hd_device_get_sriov_numvfs(const struct hd_device *dev);   /* -1: not SR-IOV capable */
/* sriov_drivers_autoprobe: 0 or 1, -1 when it has none (no PF, a kernel before 4.12). */
int hd_device_get_sriov_autoprobe(const struct hd_device *dev);
bool hd_device_has_reset(const struct hd_device *dev);         /* a `reset` attribute exists */
const char *hd_device_get_reset_methods(const struct hd_device *dev); /* NULL: no reset_method */
/* Its VFIO character device, "vfio3" (vfio-dev/vfio3/dev: kernels with VFIO cdev support, 6.6
 * on); NULL without one (6.1 has vfio-dev/vfioN but no device). */
const char *hd_device_get_vfio_cdev(const struct hd_device *dev);
/* Bound to a VFIO driver: vfio-pci or a variant, by the driver's name or, a variant named
 * otherwise, by the kernel's vfio-dev directory (Linux 6.1 on; one read, for such names only). */
bool hd_device_is_on_vfio(const struct hd_device *dev);
bool hd_device_is_bridge(const struct hd_device *dev);
/* Endpoint (header type 0, not a bridge class): what VDSM calls is_assignable. */
bool hd_device_is_assignable(const struct hd_device *dev);
/* 0 for an endpoint; a bridge is bad input: -EINVAL, reason HD_REASON_INVALID, and the message
 * "ADDR is a bridge (header type N), not an endpoint: @refusal" (e.g. "it cannot be assigned
 * to a VM") on the device's context. The header type is read (HD_FILL_CONFIG) unless it was, or
 * the device is a VF: a config space that fails to read is that failure, naming the file. */
int hd_device_check_endpoint(struct hd_device *dev, const char *refusal);

/* ------------------------------------------------------------------------------------------ */
/* Enumeration                                                                                */

struct hd_device_list;

/* Every PCI device under the root, sorted by address, with @fill fields read. */
int hd_device_list_new(struct hd_ctx *ctx, unsigned int fill, struct hd_device_list **list);
struct hd_device_list *hd_device_list_ref(struct hd_device_list *list);
struct hd_device_list *hd_device_list_unref(struct hd_device_list *list);
size_t hd_device_list_count(const struct hd_device_list *list);
/* Borrowed: valid while the list lives (take a ref to keep it longer). */
struct hd_device *hd_device_list_get(const struct hd_device_list *list, size_t i);
struct hd_device *hd_device_list_find(const struct hd_device_list *list,
                                      const struct hd_pci_addr *addr);
/* Whether a PCI driver named @driver is registered (sys/bus/pci/drivers/@driver): 1, 0 (not,
 * or no driver name at all), or -errno when that cannot be read. */
int hd_pci_driver_registered(struct hd_ctx *ctx, const char *driver);

/* Network interfaces by the PCI function they belong to (what dpdk-devbind shows as if=),
 * read once for the whole host from sys/class/net's links, not per device. */
struct hd_netif_list;
int hd_netif_list_new(struct hd_ctx *ctx, struct hd_netif_list **list);
struct hd_netif_list *hd_netif_list_ref(struct hd_netif_list *list);
struct hd_netif_list *hd_netif_list_unref(struct hd_netif_list *list);
/* The interfaces of @addr, sorted, joined by ',' ("" when it has none): valid while @list. */
const char *hd_netif_list_get(const struct hd_netif_list *list, const struct hd_pci_addr *addr);
/* The PCI function whose interface is @ifname: 0, or -ENOENT. */
int hd_netif_list_find(const struct hd_netif_list *list, const char *ifname,
                       struct hd_pci_addr *addr);

/* ------------------------------------------------------------------------------------------ */
/* IOMMU groups: the unit VFIO hands to a VM                                                   */

struct hd_group;

/* A snapshot of group @number: its members with their drivers. -ENOENT when there is no such
 * group (no IOMMU, or a wrong number). */
int hd_group_open(struct hd_ctx *ctx, int number, struct hd_group **group);
/* The same with the members' @fill fields read (hd_group_open: HD_FILL_IDENT | HD_FILL_CONFIG);
 * 0 reads their drivers alone, all that viability and its blockers need. */
int hd_group_open_fill(struct hd_ctx *ctx, int number, unsigned int fill,
                       struct hd_group **group);
struct hd_group *hd_group_ref(struct hd_group *group);
struct hd_group *hd_group_unref(struct hd_group *group);
int hd_group_get_number(const struct hd_group *group);
size_t hd_group_get_member_count(const struct hd_group *group);
/* Borrowed: valid while the group lives. */
struct hd_device *hd_group_get_member(const struct hd_group *group, size_t i);
/* Viable: every member is unbound or bound to a driver that leaves DMA to its user
 * (vfio-pci and its variants, pci-stub, pcieport). Blockers are the members that are not. */
bool hd_group_is_viable(const struct hd_group *group);
size_t hd_group_get_blocker_count(const struct hd_group *group);
struct hd_device *hd_group_get_blocker(const struct hd_group *group, size_t i);
/* vfio's unsafe no-IOMMU mode (sys/module/vfio/parameters/enable_unsafe_noiommu_mode Y; while
 * vfio is not loaded, what it takes as it loads: vfio.enable_unsafe_noiommu_mode on the kernel
 * command line, else modprobe.d's `options vfio enable_unsafe_noiommu_mode=`; a value the
 * kernel rejects fails vfio's load, so none is on): a device with no IOMMU group bound to
 * vfio-pci gets a group of its own without DMA isolation, dev/vfio/noiommu-N, for user-space
 * drivers such as DPDK; no VM can have it. */
bool hd_vfio_noiommu_mode(struct hd_ctx *ctx);
/* Whether group @number is one that mode made up (the kernel names it vfio-noiommu): it
 * isolates nothing. */
bool hd_group_number_is_noiommu(struct hd_ctx *ctx, int number);

/* A platform function the host keeps whatever is asked ("a host bridge", "an ISA/LPC bridge",
 * "an SMBus controller", ...; docs/design.md has the list), or NULL. Detach, acquire and
 * reserve refuse these without their force flag, also as members of a group. */
const char *hd_device_get_platform_role(struct hd_device *dev);

/* ---- Mediated devices (drivers/vfio/mdev) -------------------------------------------------
 * Parents (a PCI device, or a virtual one such as the mtty sample's) offer types; a device of
 * a type is made by writing a UUID to its create file and has an IOMMU group of its own.
 * Creating and removing them are operations (HD_OP_MDEV_CREATE, HD_OP_MDEV_REMOVE). */
struct hd_mdev_type_list;
/* Every type of every parent in sys/class/mdev_bus, by parent then type. */
int hd_mdev_type_list_new(struct hd_ctx *ctx, struct hd_mdev_type_list **list);
/* The types of one parent (a PCI address or another device's name) only; none when it offers
 * none or does not exist. A name that cannot be a device's is -EINVAL (HD_REASON_INVALID). */
int hd_mdev_type_list_new_for_parent(struct hd_ctx *ctx, const char *parent,
                                     struct hd_mdev_type_list **list);
struct hd_mdev_type_list *hd_mdev_type_list_ref(struct hd_mdev_type_list *list);
struct hd_mdev_type_list *hd_mdev_type_list_unref(struct hd_mdev_type_list *list);
size_t hd_mdev_type_list_count(const struct hd_mdev_type_list *list);
const char *hd_mdev_type_list_get_parent(const struct hd_mdev_type_list *list, size_t i);
const char *hd_mdev_type_list_get_id(const struct hd_mdev_type_list *list, size_t i);
const char *hd_mdev_type_list_get_name(const struct hd_mdev_type_list *list, size_t i);
const char *hd_mdev_type_list_get_description(const struct hd_mdev_type_list *list, size_t i);
const char *hd_mdev_type_list_get_device_api(const struct hd_mdev_type_list *list, size_t i);
int hd_mdev_type_list_get_available(const struct hd_mdev_type_list *list, size_t i);

struct hd_mdev_list;
/* Every mediated device (sys/bus/mdev/devices), in UUID order. */
int hd_mdev_list_new(struct hd_ctx *ctx, struct hd_mdev_list **list);
/* Mediated device @uuid (any form hd_mdev_uuid_parse() takes) alone, as a list of one: -ENOENT
 * (reason HD_REASON_NO_DEVICE) when there is none; -EINVAL (HD_REASON_INVALID) for a @uuid that
 * is not one, or sysfs contents the kernel would not write (a bad iommu_group link: the
 * message names the device and the link), which the full listing leaves out with a warning. */
int hd_mdev_list_new_uuid(struct hd_ctx *ctx, const char *uuid, struct hd_mdev_list **list);
struct hd_mdev_list *hd_mdev_list_ref(struct hd_mdev_list *list);
struct hd_mdev_list *hd_mdev_list_unref(struct hd_mdev_list *list);
size_t hd_mdev_list_count(const struct hd_mdev_list *list);
const char *hd_mdev_list_get_uuid(const struct hd_mdev_list *list, size_t i);
const char *hd_mdev_list_get_parent(const struct hd_mdev_list *list, size_t i);
const char *hd_mdev_list_get_type(const struct hd_mdev_list *list, size_t i);
const char *hd_mdev_list_get_driver(const struct hd_mdev_list *list, size_t i); /* NULL: none */
int hd_mdev_list_get_iommu_group(const struct hd_mdev_list *list, size_t i); /* -1: none */
/* Why giving @parent mediated device type @type (to a cloud's scheduler, which makes its
 * devices) would meet its running ones: when @mdevs has devices of @parent of other types, a
 * message (allocated: the caller frees it) naming @parent, those types and @type, as most vGPU
 * parents (NVIDIA's) make one type at a time and refuse another while those run. NULL when
 * @parent runs none or only @type, or out of memory. */
char *hd_mdev_type_mix_warning(const struct hd_mdev_list *mdevs, const char *parent,
                               const char *type);
/* Mediated devices defined to come back at every boot, in mdevctl's files
 * (ROOT/etc/mdevctl.d/PARENT/UUID: {"mdev_type": TYPE, "start": "auto"|"manual", "attrs": []});
 * a file that is not such an object (or no regular file, or over 64 KiB) is -EINVAL naming
 * it. By parent, then UUID. */
struct hd_mdev_defined_list;
int hd_mdev_defined_list_new(struct hd_ctx *ctx, struct hd_mdev_defined_list **list);
/* The same, but a file that is no definition, or cannot be read (EIO, EACCES), does not fail
 * the call: it is an error of the list, one line naming it (the boot makes the other
 * definitions). -errno when the directory cannot be read, -ENOMEM. */
int hd_mdev_defined_list_load(struct hd_ctx *ctx, struct hd_mdev_defined_list **list);
size_t hd_mdev_defined_list_get_error_count(const struct hd_mdev_defined_list *list);
const char *hd_mdev_defined_list_get_error(const struct hd_mdev_defined_list *list, size_t i);
struct hd_mdev_defined_list *hd_mdev_defined_list_ref(struct hd_mdev_defined_list *list);
struct hd_mdev_defined_list *hd_mdev_defined_list_unref(struct hd_mdev_defined_list *list);
size_t hd_mdev_defined_list_count(const struct hd_mdev_defined_list *list);
const char *hd_mdev_defined_list_get_uuid(const struct hd_mdev_defined_list *list, size_t i);
const char *hd_mdev_defined_list_get_parent(const struct hd_mdev_defined_list *list, size_t i);
const char *hd_mdev_defined_list_get_type(const struct hd_mdev_defined_list *list, size_t i);
bool hd_mdev_defined_list_get_autostart(const struct hd_mdev_defined_list *list, size_t i);
/* It sets attributes after creating (mdevctl's attrs), which hostdev does not apply. */
bool hd_mdev_defined_list_has_attrs(const struct hd_mdev_defined_list *list, size_t i);
/* Write (atomically) or remove such a definition; nothing in the kernel changes. @parent as
 * for hd_op_set_mdev(): a PCI address's directory is its full form (0000:00:02.0). */
int hd_mdev_define(struct hd_ctx *ctx, const char *parent, const char *type, const char *uuid,
                   bool autostart);
/* What hd_mdev_define() checks, writing nothing: the parent, type and UUID well formed, and the
 * UUID not defined already as another device (another parent or type: -EEXIST, reason
 * HD_REASON_INVALID); the same definition again is allowed. */
int hd_mdev_define_check(struct hd_ctx *ctx, const char *parent, const char *type,
                         const char *uuid);
/* The file hd_mdev_define() writes for @uuid under @parent, relative to the root
 * ("etc/mdevctl.d/0000:00:02.0/UUID"), in @buf: 0, or -EINVAL (reason HD_REASON_INVALID) for
 * a malformed parent or UUID, -ENAMETOOLONG when @size is too small. */
int hd_mdev_define_file(struct hd_ctx *ctx, const char *parent, const char *uuid, char *buf,
                        size_t size);
/* What a definition of @type under @parent calls for noting, as the parent is now: when it is
 * a mediated device parent (class/mdev_bus/PARENT) whose mdev_supported_types do not list
 * @type, *@note (allocated: the caller frees it) says so and names the types it offers, or
 * that it offers none. *@note NULL when it lists @type, or is no parent now (its driver may
 * come later: the definition is accepted, as mdevctl accepts it). 0, or -errno (-EINVAL, reason
 * HD_REASON_INVALID, for a malformed parent; the types cannot be read; -ENOMEM). */
int hd_mdev_define_note(struct hd_ctx *ctx, const char *parent, const char *type, char **note);
int hd_mdev_undefine(struct hd_ctx *ctx, const char *uuid);
/* What hd_mdev_undefine() checks, removing nothing: the UUID well formed (-EINVAL, reason
 * HD_REASON_INVALID) and defined (-ENOENT, reason HD_REASON_NO_DEVICE). */
int hd_mdev_undefine_check(struct hd_ctx *ctx, const char *uuid);
/* A UUID as the kernel takes it (8-4-4-4-12 hex digits), or libvirt's mdev_<uuid with _>:
 * the canonical lower-case UUID in @buf (37 bytes), or -EINVAL. */
int hd_mdev_uuid_parse(const char *text, char buf[37]);
/* A new random (version 4) UUID in @buf (37 bytes), as mdevctl makes one; -EIO without one. */
int hd_mdev_uuid_new(char buf[37]);

/* Driver families. */
/* A driver's name: vfio-pci, or a variant by its naming convention (mlx5_vfio_pci...). For
 * a name given (a --driver, a config line); a device asks hd_device_is_on_vfio(). */
bool hd_driver_is_vfio(const char *driver);
bool hd_driver_is_dma_safe(const char *driver); /* does not block a group's viability */
/* The vfio-pci family driver a detach binds @dev to by default: the variant driver of the
 * most specific "vfio_pci:" alias in the running kernel's modules.alias that matches it (read
 * through the root), else "vfio-pci". */
int hd_device_get_vfio_driver(struct hd_device *dev, char *buf, size_t size);

/* ------------------------------------------------------------------------------------------ */
/* Detach, reattach, reset                                                                   */

/* Each call below is one operation of the engine on one device (as hd_op_run() with that one
 * device): the assignment map is consulted (a device a VM holds: -EBUSY, reason
 * HD_REASON_HELD), every write is journaled first and undone on failure, and @dev's snapshot
 * is read again afterwards. hd_op gives several devices, dry runs and the steps taken. */
enum hd_detach_flags {
    HD_DETACH_NEW_ID = 1u << 0, /* bind through new_id even where driver_override exists */
    HD_DETACH_FORCE = 1u << 1,  /* host use and platform functions do not refuse (HD_OP_FORCE) */
    /* a device with no IOMMU group goes to vfio-pci in vfio's unsafe no-IOMMU mode, no DMA
     * isolation (HD_OP_NOIOMMU); without it such a device is -EPERM, HD_REASON_NOIOMMU */
    HD_DETACH_NOIOMMU = 1u << 2,
};

/* Bind @dev to the stub driver @stub ("vfio-pci", a vfio-pci variant such as "mlx5_vfio_pci",
 * or "pci-stub"; NULL: the device's own, hd_device_get_vfio_driver(), or "vfio-pci" with
 * HD_DETACH_NEW_ID, since a variant binds only through driver_override: one asked for with it
 * is -EINVAL, reason HD_REASON_INVALID, before anything is written), verify that it is bound
 * (and, for the vfio family, that dev/vfio/<group> exists), and record the driver it had.
 * Already on @stub: 0, nothing written. On failure the device is put back on its driver. A
 * platform function or a device the host uses is refused without HD_DETACH_FORCE. */
int hd_device_detach(struct hd_device *dev, const char *stub, unsigned int flags);
/* Detach every endpoint of @dev's IOMMU group; all or nothing. */
int hd_device_detach_group(struct hd_device *dev, const char *stub, unsigned int flags);
/* Return @dev from its stub to the driver it had before (or the one the kernel picks), and
 * verify it. Not on a stub: 0, nothing written. */
int hd_device_reattach(struct hd_device *dev);
/* The driver recorded when @dev was detached: 0 and an allocated name ("" for none,
 * HD_ORIGINAL_DRIVER_KERNEL for the kernel's choice), -ENOENT, or -EINVAL (reason
 * HD_REASON_STATE_DAMAGED) when the record holds no driver name. */
int hd_device_get_original_driver(struct hd_device *dev, char **driver);
/* The operation an intent log holds @dev in, whose records (its driver record among them) are
 * its own until it ends: 0 with *@op its name ("detach") and *@live whether it is under way
 * (its process, or an unbind it started, still in the kernel) or was interrupted (recover
 * undoes it); -ENOENT when none names @dev. */
int hd_device_get_operation(struct hd_device *dev, const char **op, bool *live);
/* The record of a device a boot's reservation (hd_reserve_config_apply()) found unbound: not
 * probed yet, so it goes back to whatever driver the kernel binds, or none. No driver's name. */
#define HD_ORIGINAL_DRIVER_KERNEL "*"
/* A recorded original driver in words, for people: its name, "none" for "", or what
 * HD_ORIGINAL_DRIVER_KERNEL means. Static text or @driver itself. */
const char *hd_original_driver_words(const char *driver);

enum hd_reset_flags {
    HD_RESET_FORCE = 1u << 0, /* also a device a host driver is using */
};

/* Reset through sysfs `reset`. *@methods (may be NULL) receives the methods the kernel tries,
 * in order (allocated). -ENOTTY when the device has no reset or none worked; -EBUSY when a
 * host driver is using it (a reset under a live driver can take the host down with it) and
 * @flags lacks HD_RESET_FORCE; without `reset_method` (before Linux 5.15) the methods come
 * from config space, and a failed read of it fails the reset, nothing written. */
int hd_device_reset(struct hd_device *dev, unsigned int flags, char **methods);

struct hd_reset_check;
/* Can @dev be reset (and so assigned) on its own, or must it be co-assigned with the other
 * functions on its bus? A config space the methods are read from that fails to read is an
 * error (as hd_device_reset()). */
int hd_device_check_reset(struct hd_device *dev, struct hd_reset_check **check);
struct hd_reset_check *hd_reset_check_ref(struct hd_reset_check *check);
struct hd_reset_check *hd_reset_check_unref(struct hd_reset_check *check);
enum hd_reset_scope {
    HD_RESET_NONE,     /* no reset method at all */
    HD_RESET_FUNCTION, /* flr, af_flr, pm, acpi, device_specific: this function alone */
    HD_RESET_BUS,      /* only a bus reset, and nothing else on the bus */
    HD_RESET_BUS_SHARED, /* only a bus reset, and the bus has other functions: co-assign */
};
enum hd_reset_scope hd_reset_check_get_scope(const struct hd_reset_check *check);
const char *hd_reset_check_get_methods(const struct hd_reset_check *check);
/* The other functions a bus reset would hit, and whether each is on a host driver. */
size_t hd_reset_check_get_peer_count(const struct hd_reset_check *check);
struct hd_device *hd_reset_check_get_peer(const struct hd_reset_check *check, size_t i);
/* Kernel command line                                                                        */
/*
 * Read the way the kernel reads it (lib/cmdline.c next_arg, kernel/params.c parse_args):
 * blank-separated words; double quotes hold blanks, around the value (`p="a b"`) or the whole
 * word (`"p=a b"`), and an unterminated quote takes the rest of the line; `--` ends the
 * kernel's parameters (the rest goes to init); in parameter NAMES '-' and '_' are the same
 * (values are taken as written); `module.param` is a parameter like any other. A bare word has
 * no value (NULL), which is not the same as an empty one (`p=`).
 */

struct hd_cmdline;

/* Parse @text (NULL reads as ""). Never fails on syntax, every input has a reading: only
 * -ENOMEM. */
int hd_cmdline_new_from_string(const char *text, struct hd_cmdline **cmdline);
/* Parse ROOT/proc/cmdline. -ENOENT (or another read error) when it cannot be read, -EILSEQ
 * when it holds a NUL byte. */
int hd_cmdline_new_from_ctx(struct hd_ctx *ctx, struct hd_cmdline **cmdline);
struct hd_cmdline *hd_cmdline_ref(struct hd_cmdline *cmdline);
struct hd_cmdline *hd_cmdline_unref(struct hd_cmdline *cmdline);

/* Every kernel parameter in order, repeats included (listing); NULL for @i >= count. */
size_t hd_cmdline_count(const struct hd_cmdline *cmdline);
const char *hd_cmdline_get_name_at(const struct hd_cmdline *cmdline, size_t i);
const char *hd_cmdline_get_value_at(const struct hd_cmdline *cmdline, size_t i); /* NULL: bare */
/* What follows `--` (blanks at its start skipped); NULL when there is no `--`. */
const char *hd_cmdline_get_init_args(const struct hd_cmdline *cmdline);

/* Names compare with '-' and '_' equal, as the kernel compares them. */
bool hd_cmdline_name_equal(const char *a, const char *b);
/* The LAST occurrence of @name: 0 and *value (NULL for a bare word), or -ENOENT. */
int hd_cmdline_get(const struct hd_cmdline *cmdline, const char *name, const char **value);
bool hd_cmdline_has(const struct hd_cmdline *cmdline, const char *name);
/* The last occurrence as a boolean, the way module bool parameters read it (kstrtobool:
 * y/Y/1/t/T/on true, n/N/0/f/F/off false; a bare word is true). -ENOENT absent, -EINVAL when
 * the kernel would reject the value. */
int hd_cmdline_get_bool(const struct hd_cmdline *cmdline, const char *name, bool *value);
/* Whether any occurrence of @name (a comma list, like pci=) has the item @item, either alone
 * or as `item=...`. */
bool hd_cmdline_list_has(const struct hd_cmdline *cmdline, const char *name, const char *item);

enum hd_tristate {
    HD_TRISTATE_UNSET = -1, /* not said / not known */
    HD_TRISTATE_NO = 0,
    HD_TRISTATE_YES = 1,
};

/* What the command line asks for, every occurrence applied in order as the kernel does. */
enum hd_cmdline_setting {
    HD_CMDLINE_INTEL_IOMMU,          /* intel_iommu=on (YES) / off (NO) */
    HD_CMDLINE_INTEL_IOMMU_IGFX_OFF, /* intel_iommu=igfx_off: integrated graphics left out */
    HD_CMDLINE_INTEL_IOMMU_SM,       /* intel_iommu=sm_on / sm_off: scalable mode */
    HD_CMDLINE_AMD_IOMMU,            /* amd_iommu=off (NO) / force_enable (YES) */
    HD_CMDLINE_IOMMU_OFF,            /* iommu=off: every IOMMU off (YES) */
    HD_CMDLINE_IOMMU_FORCE,          /* iommu=force / noforce */
    HD_CMDLINE_IOMMU_PASSTHROUGH,    /* iommu=pt (YES) / nopt (NO), iommu.passthrough=1/0 */
    HD_CMDLINE_IOMMU_STRICT,         /* iommu.strict=, intel_iommu=strict, amd_iommu=fullflush */
    HD_CMDLINE_INTREMAP,             /* intremap=on/off, nointremap: interrupt remapping */
    HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS, /* vfio_iommu_type1.allow_unsafe_interrupts */
    HD_CMDLINE_NOIOMMU_MODE,            /* vfio.enable_unsafe_noiommu_mode */
    HD_CMDLINE_PCI_REALLOC,             /* pci=realloc[=on|off] */
    HD_CMDLINE_SETTING_COUNT,
};
enum hd_tristate hd_cmdline_get_setting(const struct hd_cmdline *cmdline,
                                        enum hd_cmdline_setting setting);
/* A short key for @setting ("intel_iommu", "iommu_passthrough", ...); NULL out of range. */
const char *hd_cmdline_setting_to_string(enum hd_cmdline_setting setting);

/* Options the kernel does not take, or takes other than meant (amd_iommu=on, iommu=on,
 * vfio-pci.ids=808x, iommu.strict=maybe). @param and @option are as written; @why says it in
 * plain words; @kernel_log is what the kernel logs about it, NULL when it says nothing. */
size_t hd_cmdline_get_invalid_count(const struct hd_cmdline *cmdline);
int hd_cmdline_get_invalid(const struct hd_cmdline *cmdline, size_t i, const char **param,
                           const char **option, const char **why, const char **kernel_log);

/* vfio-pci.ids: VVVV:DDDD[:SVVV[:SDDD[:CLASS[:MASK]]]] (hex), comma-separated. Fields not
 * given match anything (HD_PCI_ANY_ID; class and mask 0). */
#define HD_PCI_ANY_ID 0xffffffffu
struct hd_pci_id_match {
    uint32_t vendor;
    uint32_t device;
    uint32_t subvendor;
    uint32_t subdevice;
    uint32_t class_code;
    uint32_t class_mask;
};
size_t hd_cmdline_get_vfio_pci_id_count(const struct hd_cmdline *cmdline);
int hd_cmdline_get_vfio_pci_id(const struct hd_cmdline *cmdline, size_t i,
                               struct hd_pci_id_match *match);

/* ------------------------------------------------------------------------------------------ */
/* IOMMU probe                                                                                */
/*
 * Whether this kernel can give devices to VFIO, and if not, why and what to do. The command
 * line is only a hint: what decides is what the kernel made (/sys/class/iommu units and
 * /sys/kernel/iommu_groups), read together with the firmware tables (DMAR, IVRS), interrupt
 * remapping and the vfio module parameters. Nothing is changed.
 */

struct hd_iommu_report;

enum hd_iommu_vendor {
    HD_IOMMU_VENDOR_UNKNOWN,
    HD_IOMMU_VENDOR_INTEL, /* VT-d: DMAR table, dmar* units */
    HD_IOMMU_VENDOR_AMD,   /* AMD-Vi: IVRS table, ivhd* units */
    HD_IOMMU_VENDOR_OTHER, /* e.g. an Arm SMMU, virtio-iommu */
};

/* ------------------------------------------------------------------------------------------ */
/* Findings: what the IOMMU probe, VFIO verification and the doctor find                      */
/*
 * One type for all three: a list, worst first, each finding with a severity, a stable code for
 * scripts ("no-dmar-table", "group-not-viable", "no-interrupt-remapping"), the device it is
 * about (a PCI address or mdev UUID; NULL: the host), what is wrong, and the fix. A list
 * returned by a report's getter belongs to the report (take a reference to keep it longer).
 */

struct hd_findings;

enum hd_severity {
    HD_SEVERITY_INFO,    /* worth knowing (a performance hint) */
    HD_SEVERITY_WARNING, /* works, but not as it should (unsafe, ignored option) */
    HD_SEVERITY_ERROR,   /* VFIO cannot work until this is fixed */
};
const char *hd_severity_to_string(enum hd_severity severity); /* "info", "warning", "error" */

struct hd_findings *hd_findings_ref(struct hd_findings *findings);
struct hd_findings *hd_findings_unref(struct hd_findings *findings);
size_t hd_findings_count(const struct hd_findings *findings);
/* How many are @severity or worse (HD_SEVERITY_WARNING: the problems, notes left out). */
size_t hd_findings_count_at_least(const struct hd_findings *findings, enum hd_severity severity);
/* NULL (HD_SEVERITY_INFO for the severity) for @i >= count. */
enum hd_severity hd_findings_get_severity(const struct hd_findings *findings, size_t i);
const char *hd_findings_get_code(const struct hd_findings *findings, size_t i);
const char *hd_findings_get_device(const struct hd_findings *findings, size_t i); /* NULL: host */
const char *hd_findings_get_message(const struct hd_findings *findings, size_t i);
const char *hd_findings_get_fix(const struct hd_findings *findings, size_t i);
/* What the fix asks a caller to do with the finding's device, for a program to spell as its own
 * commands (the fix text says it in words, never as a command of a particular tool). */
enum hd_remedy {
    HD_REMEDY_NONE,              /* the fix text is all */
    HD_REMEDY_DETACH,            /* detach the device (to vfio-pci) */
    HD_REMEDY_DETACH_GROUP,      /* detach its whole IOMMU group, or give the VM the group */
    HD_REMEDY_REDETACH,          /* reattach it, then detach it again */
    HD_REMEDY_REACQUIRE,         /* release it from the VM that holds it, acquire it again for
                                  * the same VM and owner (hd_findings_get_remedy_holder()
                                  * says which) */
    HD_REMEDY_ACQUIRE,           /* acquire it for a VM with the VM's user as owner */
    HD_REMEDY_DETACH_OR_MANAGED, /* detach it ahead of the VM, or acquire it managed */
    HD_REMEDY_RELEASE_FORCE,     /* the emergency release: back to the host, record dropped */
    HD_REMEDY_LIST,              /* list the PCI devices (the address is wrong): the VFIO
                                  * check's finding for an address with no device (doctor
                                  * refuses such an address instead) */
    HD_REMEDY_PERSIST_VF_COUNT,  /* a reserved VF nothing makes: persist its PF's VF count
                                  * (hd_findings_get_remedy_vf_count() says which and how
                                  * many), or forget the VF's reservation */
    HD_REMEDY_RELEASE,           /* release it from the VM that holds it, nothing to give back
                                  * (a mediated device that is gone): the map's record goes
                                  * (hd_findings_get_remedy_holder() says which VM) */
    HD_REMEDY_ACQUIRE_GROUP,     /* acquire it for a VM with the VM's user as owner, with its
                                  * IOMMU group (acquire refuses it alone) */
    HD_REMEDY_RECOVER,           /* undo (or finish) the operations a dead process left
                                  * half-done (hd_assign_recover()) */
    HD_REMEDY_PERSIST_MEMBERS,   /* the boot reserves the device but leaves its IOMMU group
                                  * not viable: persist the other members
                                  * hd_findings_get_remedy_members() names, which reserves them
                                  * now as well; or, lasting only until the next boot, what
                                  * HD_REMEDY_DETACH_GROUP asks (done already when the group is
                                  * viable now) */
};
enum hd_remedy hd_findings_get_remedy(const struct hd_findings *findings, size_t i);
/* HD_REMEDY_PERSIST_VF_COUNT's arguments, as the check that found it read the configuration:
 * *@pf the VF's PF, *@numvfs the VF count that makes the VF, *@persisted whether its
 * reservation is a persisted file's (hd_reserve_unpersist() removes it) rather than a line of
 * the admin's own. 0, or -ENOENT for a finding with another remedy. */
int hd_findings_get_remedy_vf_count(const struct hd_findings *findings, size_t i,
                                    struct hd_pci_addr *pf, int *numvfs, bool *persisted);
/* HD_REMEDY_REACQUIRE's and HD_REMEDY_RELEASE's arguments, as the check read the assignment map:
 * *@vm the VM that holds the device (valid while @findings is), *@uid and *@gid the owner it was
 * acquired with. 0, or -ENOENT for a finding with another remedy. */
int hd_findings_get_remedy_holder(const struct hd_findings *findings, size_t i, const char **vm,
                                  uid_t *uid, gid_t *gid);
/* HD_REMEDY_PERSIST_MEMBERS's arguments, as the check read the reservations: *@members the
 * addresses of the group's members to persist (valid while @findings is), *@count how many
 * (one or more). 0, or -ENOENT for a finding with another remedy. */
int hd_findings_get_remedy_members(const struct hd_findings *findings, size_t i,
                                   const struct hd_pci_addr **members, size_t *count);

/* Kernel command-line advice, in one place for every finding and command that gives it. */
enum hd_cmdline_advice {
    HD_ADVICE_IOMMU_ON,          /* turn the IOMMU on: intel_iommu=on on Intel; NULL for AMD
                                  * (on by default; amd_iommu=on is not an option) and others */
    HD_ADVICE_IOMMU_PT,          /* iommu=pt: host devices skip translation */
    HD_ADVICE_UNSAFE_INTERRUPTS, /* vfio_iommu_type1.allow_unsafe_interrupts=1 (a risk) */
    HD_ADVICE_IOMMUFD_UNSAFE_INTERRUPTS, /* iommufd.allow_unsafe_interrupts=1 (a risk) */
    HD_ADVICE_NOIOMMU_OFF,       /* vfio.enable_unsafe_noiommu_mode=0 */
    HD_ADVICE_PCI_REALLOC,       /* pci=realloc: BARs the firmware left unassigned */
    HD_ADVICE_NO_SYSFB,          /* initcall_blacklist=sysfb_init: no boot framebuffer */
    HD_ADVICE_NOIOMMU_ON,        /* vfio.enable_unsafe_noiommu_mode=1 (no DMA isolation) */
};
/* The parameter to add for @what on an IOMMU of @vendor; NULL when nothing is needed. */
const char *hd_cmdline_advice(enum hd_cmdline_advice what, enum hd_iommu_vendor vendor);

/* ------------------------------------------------------------------------------------------ */
/* IOMMU probe: the report                                                                    */

/* Read everything; 0 with a report even when the answer is "not usable". Errors only for
 * out-of-memory. */
int hd_iommu_probe(struct hd_ctx *ctx, struct hd_iommu_report **report);
struct hd_iommu_report *hd_iommu_report_ref(struct hd_iommu_report *report);
struct hd_iommu_report *hd_iommu_report_unref(struct hd_iommu_report *report);

/* VFIO can isolate devices: an IOMMU is on and no problem is an error. */
bool hd_iommu_report_is_usable(const struct hd_iommu_report *report);
/* The kernel runs an IOMMU: IOMMU groups exist. */
bool hd_iommu_report_is_enabled(const struct hd_iommu_report *report);
enum hd_iommu_vendor hd_iommu_report_get_vendor(const struct hd_iommu_report *report);
const char *hd_iommu_vendor_to_string(enum hd_iommu_vendor vendor); /* "intel", "amd", ... */
size_t hd_iommu_report_get_unit_count(const struct hd_iommu_report *report);
size_t hd_iommu_report_get_group_count(const struct hd_iommu_report *report);
/* The groups' default domain type ("DMA-FQ", "DMA", "identity"), "mixed", or NULL. */
const char *hd_iommu_report_get_domain_type(const struct hd_iommu_report *report);
enum hd_tristate hd_iommu_report_get_interrupt_remapping(const struct hd_iommu_report *report);
/* The command line it read; NULL when ROOT/proc/cmdline could not be read. */
const struct hd_cmdline *hd_iommu_report_get_cmdline(const struct hd_iommu_report *report);
/* Where the ids vfio-pci takes at boot come from: the kernel command line's vfio-pci.ids= when it
 * has one, else modprobe.d's `options vfio-pci ids=` (unless vfio-pci is built into the kernel,
 * which modprobe.d's options do not reach). */
enum hd_vfio_pci_ids_from {
    HD_VFIO_PCI_IDS_NONE,
    HD_VFIO_PCI_IDS_CMDLINE,
    HD_VFIO_PCI_IDS_MODPROBE_D,
};
/* Those ids (hd_cmdline_get_vfio_pci_id()), and where from in *@from (may be NULL); NULL when
 * the boot gives vfio-pci none. */
const struct hd_cmdline *hd_iommu_report_get_vfio_pci_ids(const struct hd_iommu_report *report,
                                                          enum hd_vfio_pci_ids_from *from);

/* What was read and what it says: @source is the file or directory (relative to the root),
 * @text the finding ("dmar0 dmar1: Intel VT-d units"). */
size_t hd_iommu_report_get_evidence_count(const struct hd_iommu_report *report);
const char *hd_iommu_report_get_evidence_source(const struct hd_iommu_report *report, size_t i);
const char *hd_iommu_report_get_evidence_text(const struct hd_iommu_report *report, size_t i);

/* Its findings (device NULL: they are about the host), worst first; owned by the report. */
struct hd_findings *hd_iommu_report_get_findings(const struct hd_iommu_report *report);

/* ------------------------------------------------------------------------------------------ */
/* SR-IOV                                                                                     */

/* Set the number of virtual functions of a PF. sriov_drivers_autoprobe is set to 0 first and
 * left so (the VFs come up unbound, ready to detach; nothing probes VFs behind the caller's
 * back later either) until a count of 0, which turns it back on when a count of hostdev's
 * turned it off; a change N -> M goes through 0 (the kernel refuses N -> M with EBUSY),
 * and the call waits (bounded by the context timeout) until the kernel shows exactly
 * @numvfs virtfn links. -ENOTSUP: not an SR-IOV PF (no sriov_totalvfs, or a VF itself);
 * -ERANGE: @numvfs > sriov_totalvfs; any other -errno: the change failed, and the previous
 * count was put back when possible (the message says whether it was). On success returns the
 * previous count (>= 0) and refreshes the snapshot. */
int hd_device_set_numvfs(struct hd_device *dev, unsigned int numvfs);

/* ------------------------------------------------------------------------------------------ */
/* Reservations: devices kept from host drivers from boot on                                  */
/*
 * Sources, in the order they are read (a later entry for the same device wins; an address
 * entry wins over an ids entry):
 * - ROOT/etc/hostdev.d/ *.conf in lexical order (hostdev.d(5)), one device a line:
 *       SELECTOR [vfio-pci|pci-stub|driver=NAME] [numvfs=N]     # comment
 *   SELECTOR is an address or VVVV:DDDD. A line with numvfs= and no driver only sets the
 *   SR-IOV VF count of that PF (it keeps its host driver).
 * - the kernel command line: hostdev.reserve=SELECTOR[,SELECTOR...] (every occurrence) with
 *   hostdev.driver=vfio-pci|pci-stub (the last one; default vfio-pci).
 */

#define HD_RESERVE_DIR "etc/hostdev.d"

struct hd_reserve_entry {
    struct hd_pci_selector sel;
    const char *driver; /* "vfio-pci", "pci-stub"; NULL: only numvfs */
    int numvfs;         /* -1: not set */
    const char *file;   /* "etc/hostdev.d/10-gpu.conf", "proc/cmdline" (root-relative) */
    unsigned int line;  /* 1-based; 0 for the command line */
    /* Its vfio driver may take a device with no IOMMU group in vfio's unsafe no-IOMMU mode
     * (the word "noiommu"; HD_OP_NOIOMMU): no DMA isolation, for DPDK and the like */
    bool noiommu;
};
/* noiommu's form on the kernel command line: after a device of hostdev.reserve=
 * (hostdev.reserve=0000:03:00.0+noiommu), whose devices are split at commas. */
#define HD_RESERVE_CMDLINE_NOIOMMU "+noiommu"

struct hd_reserve_config;

int hd_reserve_config_new(struct hd_reserve_config **config);
struct hd_reserve_config *hd_reserve_config_ref(struct hd_reserve_config *config);
struct hd_reserve_config *hd_reserve_config_unref(struct hd_reserve_config *config);
/* Parse one file's text (a pure function of @text: no I/O). Bad lines are left out and
 * recorded as errors "FILE:LINE: why". Returns how many lines were bad, or -ENOMEM. */
int hd_reserve_config_parse(struct hd_reserve_config *config, const char *text, size_t len,
                            const char *file);
/* Add what the command line asks for (hostdev.reserve=, a device's HD_RESERVE_CMDLINE_NOIOMMU,
 * hostdev.driver=); bad entries are recorded as errors "proc/cmdline: ...", and a bad word
 * naming a device as a doubt of it. Returns how many were bad, or -ENOMEM. */
int hd_reserve_config_add_cmdline(struct hd_reserve_config *config,
                                  const struct hd_cmdline *cmdline);
/* Read every source under the context's root (a missing directory or command line is no
 * error). Syntax errors do not fail the call, nor does a file that is no reservation file or
 * cannot be read (EACCES, EIO): see hd_reserve_config_get_error(). -errno when the directory
 * cannot be read, -ENOMEM. */
int hd_reserve_config_load(struct hd_ctx *ctx, struct hd_reserve_config **config);
size_t hd_reserve_config_count(const struct hd_reserve_config *config);
const struct hd_reserve_entry *hd_reserve_config_get(const struct hd_reserve_config *config,
                                                     size_t i);
size_t hd_reserve_config_get_error_count(const struct hd_reserve_config *config);
const char *hd_reserve_config_get_error(const struct hd_reserve_config *config, size_t i);
/* The entry that reserves @dev for a driver (NULL: none), and the one that sets its VF count
 * (NULL: none). @dev needs HD_FILL_IDENT. */
const struct hd_reserve_entry *hd_reserve_config_match(const struct hd_reserve_config *config,
                                                       struct hd_device *dev);
const struct hd_reserve_entry *hd_reserve_config_match_numvfs(
    const struct hd_reserve_config *config, struct hd_device *dev);
/* hd_reserve_config_match() among the files' entries alone (hostdev.d's), the kernel command
 * line's (hd_reserve_entry_is_cmdline()) left out: what a boot whose command line reserves
 * nothing applies to @dev, where the running kernel's hostdev.reserve= would override it. */
const struct hd_reserve_entry *hd_reserve_config_match_files(
    const struct hd_reserve_config *config, struct hd_device *dev);
/* Whether @entry can ever be applied to @dev (a device it selects), whatever the host or a VM
 * does with it now, checked as the operations that apply it check: a stub for a bridge, or a VF
 * count for a device that is no SR-IOV PF or that supports fewer VFs, cannot be. 0, or -errno
 * with the context's message and reason HD_REASON_INVALID. Applying an entry checks it so. */
int hd_reserve_entry_check(const struct hd_reserve_entry *entry, struct hd_device *dev);
/* hd_reserve_entry_check() for every entry of @config, against each device there now for which
 * it is the entry that applies (a device not there is checked when it appears). Returns how
 * many entries cannot be applied, or -errno (the PCI devices cannot be listed). */
int hd_reserve_config_check(struct hd_reserve_config *config, struct hd_ctx *ctx);
/* hd_reserve_config_check() as a run applying @config with @flags (hd_reserve_config_apply())
 * refuses: with HD_RESERVE_FORCE a stub for a platform function is no refusal (the boot, which
 * does not force, leaves it with the host); other flags change nothing. */
int hd_reserve_config_check_flags(struct hd_reserve_config *config, struct hd_ctx *ctx,
                                  unsigned int flags);
/* The entry the boot applies instead of @entry, one of @config's (NULL: none, @entry applies):
 * a later entry with the same selector for each part @entry has (driver, VF count), the last
 * read winning; or, for an ids entry (after hd_reserve_config_check()), an address entry for a
 * device there now with those ids: for that device alone, the ids still reserve the others. */
const struct hd_reserve_entry *
hd_reserve_config_get_override(const struct hd_reserve_config *config,
                               const struct hd_reserve_entry *entry);
/* The first error of @config that may name @dev, "FILE[:LINE]: why": a bad line whose device
 * word selects it (the boot skips it, whatever it was meant to do), or a file that cannot be
 * read. NULL when none. */
const char *hd_reserve_config_get_doubt(const struct hd_reserve_config *config,
                                        struct hd_device *dev);
/* Why @entry, one of @config's, cannot be applied (after hd_reserve_config_check()), naming
 * the device; NULL when it can, or was not checked. */
const char *hd_reserve_config_get_refusal(const struct hd_reserve_config *config,
                                          const struct hd_reserve_entry *entry);
/* Whether the device @entry names is there (after hd_reserve_config_check()). An address entry
 * whose device is not there reserves nothing until it appears; for a VF, only its PF's VF count
 * makes it: at boot, that of an entry for the PF (hd_reserve_config_match_numvfs()). */
enum hd_reserve_presence {
    HD_RESERVE_PRESENT,    /* there; or ids (whatever has them, unless VF_NOT_AT_BOOT), or not
                            * checked */
    HD_RESERVE_ABSENT,     /* not there, and no PF there now would make it one of its VFs */
    HD_RESERVE_VF_AT_BOOT, /* a VF not made now, which the PF's VF count at boot makes */
    HD_RESERVE_VF_NEVER,   /* a VF not made now, and no entry the boot applies sets its PF's
                            * VF count that high: nothing makes it, the entry reserves nothing */
    HD_RESERVE_VF_NOT_AT_BOOT, /* a VF there now (an address entry reserving it; for ids, some
                                * of those they select), but no entry the boot applies sets its
                                * PF's VF count that high: it is not made at boot, and the entry
                                * reserves nothing (for it) then */
};
/* For a VF_* answer, *@pf is its PF and *@numvfs the VF count that makes it (either may be
 * NULL). */
enum hd_reserve_presence hd_reserve_config_get_presence(const struct hd_reserve_config *config,
                                                        const struct hd_reserve_entry *entry,
                                                        struct hd_pci_addr *pf, int *numvfs);
/* The entries of @config that reserve a VF of @pf with index @first to @end - 1 (the VFs a
 * count of @first leaves out when @pf has @end) that no VF count the boot applies makes
 * either: their reservations would do nothing (an ids entry, the one that applies to such a VF
 * there now, listed once: for those VFs; it may still reserve others). Up to @max in @out;
 * returns how many there are. @pf needs HD_FILL_IDENT; its VF layout is read now. */
size_t hd_reserve_config_get_unmade_vfs(const struct hd_reserve_config *config,
                                        struct hd_device *pf, unsigned int first,
                                        unsigned int end, const struct hd_reserve_entry **out,
                                        size_t max);
/* Why reserving the SR-IOV PF @dev for a stub at boot while asking a VF count of it may leave it
 * without VFs (the count is set once the PF is on the stub, and only vfio-pci with
 * enable_sriov=1 makes VFs of a PF it holds), and what to do instead: a warning,
 * allocated (free() it), naming @dev. @entry (NULL: none) is a line to be added (the kernel
 * command line's), and @config's entries (NULL: none) give what it leaves unsaid, the stub or
 * the count: those it names, "FILE:LINE: " before the rest (the stub's, else the count's), the
 * count's after "numvfs=N" when it is another line. NULL when they ask no count above 0 of a
 * PF reserved for a stub. */
char *hd_reserve_config_numvfs_warning(const struct hd_reserve_config *config,
                                       const struct hd_reserve_entry *entry,
                                       struct hd_device *dev);
/* One config line for @entry ("0000:03:00.0 pci-stub numvfs=4"), allocated. */
int hd_reserve_entry_format(const struct hd_reserve_entry *entry, char **line);

/* Persisted reservations: one file per selector, ROOT/etc/hostdev.d/persist-SELECTOR.conf,
 * holding hd_reserve_entry_format()'s line, written atomically (what driverctl keeps in
 * /etc/driverctl.d). The address of @entry is written in canonical form. */
int hd_reserve_persist(struct hd_ctx *ctx, const struct hd_reserve_entry *entry);
/* Remove it: 0, or -ENOENT when @sel has no such file. */
int hd_reserve_unpersist(struct hd_ctx *ctx, const struct hd_pci_selector *sel);
/* Whether @entry is its selector's persisted file's (hd_reserve_unpersist() removes it), not a
 * line of a file of the admin's own. */
bool hd_reserve_entry_is_persisted(const struct hd_reserve_entry *entry);
/* Whether @entry is the kernel command line's (hostdev.reserve=, read from proc/cmdline): the
 * boot loader's configuration ends it, not a file. */
bool hd_reserve_entry_is_cmdline(const struct hd_reserve_entry *entry);
/* The early-boot images that carry a copy of ROOT/etc/hostdev.d, taken when the image is made:
 * those whose generator has hostdev's hook installed under the root (initramfs-tools'
 * usr/share/initramfs-tools/hooks/hostdev, dracut's usr/lib/dracut/modules.d/90hostdev). Until
 * the image is made again, its boot reserves (before the root file system's files are read)
 * what the files said then: a file added is applied only later in the boot, a file removed
 * still reserves its devices. 0 when none. */
enum hd_boot_image {
    HD_BOOT_IMAGE_INITRAMFS_TOOLS = 1u << 0,
    HD_BOOT_IMAGE_DRACUT = 1u << 1,
};
unsigned int hd_reserve_boot_images(struct hd_ctx *ctx);

/* Reserve @dev for @driver ("vfio-pci" when NULL, or "pci-stub"): driver_override is set so
 * that no host driver takes it at any later probe, and the device is bound to @driver (taken
 * from its host driver first when it has one; see hd_device_detach()). Returns 0 bound,
 * 1 pending: the driver is not loaded and cannot be loaded here, the override is set and the
 * driver takes the device when it registers (only for a device no driver holds; a bound one
 * is left alone with an error). */
int hd_device_reserve(struct hd_device *dev, const char *driver);

/* Applying reservations. Each device is an operation of its own (see Operations below), so one
 * that fails does not keep the others from their stubs; what happened to each is an item of a
 * result, and @fn (when not NULL) hears of each item as soon as it is complete, in the calling
 * thread. Each call returns how many items failed (>= 0) with *result, or -errno with the
 * context's message when it could not go on (the PCI devices cannot be listed, no memory): the
 * items done before it were told to @fn. */
enum hd_reserve_flags {
    HD_RESERVE_DRY_RUN = 1u << 0, /* plan every operation (HD_OP_DRY_RUN), write nothing */
    HD_RESERVE_FORCE = 1u << 1,   /* reserve what the host uses, a platform function, or a PF
                                   * whose VFs on host drivers go with it (HD_OP_FORCE) */
    HD_RESERVE_FILE_ONLY = 1u << 2, /* hd_reserve_unpersist_apply(): no device given back */
    HD_RESERVE_NO_APPLY = 1u << 3,  /* hd_reserve_persist_apply(): the file alone */
};
enum hd_reserve_action {
    HD_RESERVE_NUMVFS,    /* an SR-IOV PF's VF count, as its entry's numvfs says */
    HD_RESERVE_BIND,      /* a device reserved for its entry's stub (HD_OP_RESERVE) */
    HD_RESERVE_MDEV,      /* a mediated device defined to start at boot (HD_OP_MDEV_CREATE) */
    HD_RESERVE_GIVE_BACK, /* a device back to its host driver (HD_OP_REATTACH) */
    /* After an HD_RESERVE_NUMVFS item that changed a PF's count, what that did to its VFs;
     * under HD_RESERVE_DRY_RUN what it would do (they cannot be planned as devices before they
     * exist), so that a dry run and the run tell the same. Applying a configuration or an
     * entry (persist) also tells, after the HD_RESERVE_BIND item that took the PF from its
     * driver (forced, which turns SR-IOV off), the VFs its count made as HD_RESERVE_VF_GONE: */
    HD_RESERVE_VF_GONE, /* a VF there now, which goes (the kernel goes through 0) */
    HD_RESERVE_VF_MADE, /* a VF the new count makes, at the address the PF's sriov_offset and
                         * sriov_stride give, unbound; hd_reserve_result_get_entry(): the
                         * entry that reserves it (NULL: none, it stays so). HD_RESERVE_LATER
                         * with no entry: the PF does not tell its VFs' ids, so whether an ids
                         * entry takes it is known only once it is there; with an entry:
                         * hd_reserve_entry_apply() (persist) applies its own entry alone and
                         * leaves the VF unbound, for the configuration to reserve when the
                         * VF's "add" event reaches hostdev's udev rule, and at boot */
};
enum hd_reserve_outcome {
    HD_RESERVE_DONE,      /* its operation ran (under HD_RESERVE_DRY_RUN: was planned) */
    HD_RESERVE_UNCHANGED, /* nothing to do: the PF has that VF count already; a device given
                           * back that stays on its stub, with no record of another driver */
    HD_RESERVE_LATER,     /* not now: a PF without its driver (its "bind" event sets the count),
                           * an mdev whose parent offers no such type (yet) */
    HD_RESERVE_HELD,      /* not given back: another entry still reserves it */
    HD_RESERVE_FAILED,    /* hd_reserve_result_get_error() */
};
struct hd_reserve_result;
typedef void (*hd_reserve_fn)(void *data, const struct hd_reserve_result *result, size_t i);
/* At boot: VF counts first (VFs may be reserved by ids; a PF an entry reserves goes to its stub
 * just before its count, which the stub sets), then every other device an entry reserves,
 * then the mediated devices defined with start=auto that are not there yet (a failure to read
 * those is an HD_RESERVE_MDEV item that failed, with no UUID). */
int hd_reserve_config_apply(struct hd_reserve_config *config, struct hd_ctx *ctx,
                            unsigned int flags, hd_reserve_fn fn, void *data,
                            struct hd_reserve_result **result);
/* The same, with the mediated device definitions @mdevs the caller loaded (and checked:
 * hd_mdev_defined_list_load()) rather than read again, so that what was checked is what is
 * made; NULL: read here, as hd_reserve_config_apply() does. */
int hd_reserve_config_apply_with_mdevs(struct hd_reserve_config *config,
                                       const struct hd_mdev_defined_list *mdevs,
                                       struct hd_ctx *ctx, unsigned int flags, hd_reserve_fn fn,
                                       void *data, struct hd_reserve_result **result);
/* A mediated device parent registered (udev's "change" event with MDEV_STATE=registered:
 * its driver loaded, at boot after the reservation's run, or back after a detach): the
 * definitions with start=auto under @parent (a PCI address or a virtual parent's name) that
 * are not there yet are made, as hd_reserve_config_apply() makes them. */
int hd_reserve_mdev_parent_event(struct hd_ctx *ctx, const char *parent, unsigned int flags,
                                 hd_reserve_fn fn, void *data, struct hd_reserve_result **result);
/* One device as udev reports it: @action "add" reserves it and, when its driver is bound
 * already, sets its VF count; "bind" sets its VF count. Another action is -EINVAL. */
int hd_reserve_config_apply_event(struct hd_reserve_config *config, struct hd_device *dev,
                                  const char *action, unsigned int flags, hd_reserve_fn fn,
                                  void *data, struct hd_reserve_result **result);
/* @entry to every device it selects now: its stub, for all of them in one operation (an item a
 * device, the first holding the operation), then its VF count, set on the stub (vfio-pci whose
 * enable_sriov parameter reads N is refused before anything is done); when that fails nothing
 * was changed (a count that fails gives the devices back: their items, told as it happened,
 * leave the result) and one failed item tells why. No item: no device matches. */
int hd_reserve_entry_apply(const struct hd_reserve_entry *entry, struct hd_ctx *ctx,
                           unsigned int flags, hd_reserve_fn fn, void *data,
                           struct hd_reserve_result **result);
/* Every device @sel selects back to the driver its record names (or to none) unless an entry
 * of @config still reserves it (HD_RESERVE_HELD, hd_reserve_result_get_entry()), up to the
 * first failure; one on a stub with no record (its record lost: a reservation records a device
 * it finds on its stub) stays there (HD_RESERVE_UNCHANGED). When an error of @config could
 * name a device to give back (a file that could not be read or is none, a bad line whose
 * device word selects it), none is given back: one failed item (HD_REASON_INVALID) names the
 * device and the error. */
int hd_reserve_config_give_back(struct hd_reserve_config *config, struct hd_ctx *ctx,
                                const struct hd_pci_selector *sel, unsigned int flags,
                                hd_reserve_fn fn, void *data, struct hd_reserve_result **result);
/* `persist`: @entry written for every boot (hd_reserve_persist()) and applied now
 * (hd_reserve_entry_apply()), all or nothing: when applying fails, the file is put back as it
 * was (or removed). HD_RESERVE_DRY_RUN plans the applying and writes nothing;
 * HD_RESERVE_NO_APPLY writes the file alone, its result only the warnings the applying would
 * give, each on an HD_RESERVE_BIND item, HD_RESERVE_LATER (the boot applies it). Returns as
 * hd_reserve_entry_apply(). */
int hd_reserve_persist_apply(struct hd_ctx *ctx, const struct hd_reserve_entry *entry,
                             unsigned int flags, hd_reserve_fn fn, void *data,
                             struct hd_reserve_result **result);
/* hd_reserve_persist_apply() of the @n @entries together, all or nothing: each is checked and
 * planned before any file is written (bad input or a refusal anywhere changes nothing), then
 * every file is written and each entry applied in turn; when one fails, the devices of those
 * before it are given back and every file is put back as it was. One result holds the items of
 * every entry, in order. Several entries are each a device (or ids) of its own, given once,
 * none with a VF count (-EINVAL, HD_REASON_INVALID). When it fails (or an item does), *@failed
 * (when not NULL) is the index of the entry it failed on, @n when no entry is to blame (no
 * memory, @n 0). */
int hd_reserve_persist_apply_all(struct hd_ctx *ctx, const struct hd_reserve_entry *entries,
                                 size_t n, unsigned int flags, hd_reserve_fn fn, void *data,
                                 size_t *failed, struct hd_reserve_result **result);
/* The stub a persisted @entry that names none is for: the vfio-pci variant the kernel's
 * modules.alias gives the device at @entry's address (what a detach would choose), else
 * "vfio-pci" (always for ids). */
void hd_reserve_entry_choose_driver(struct hd_ctx *ctx, const struct hd_reserve_entry *entry,
                                    char *driver, size_t size);
/* `unpersist`: @sel's persisted file removed and every device it selects given back (as
 * hd_reserve_config_give_back() does, with the configuration read without that file), all or
 * nothing: the give-back is planned first, and when a device would be refused (a VM holds it)
 * the file stays and nothing changes; when one fails after all, the file is written back.
 * HD_RESERVE_DRY_RUN plans only; HD_RESERVE_FILE_ONLY removes the file alone. A VF count the
 * file set is not undone: a last item, HD_RESERVE_NUMVFS and HD_RESERVE_UNCHANGED, for the PF
 * (when it is there; hd_reserve_result_get_entry(): the entry removed) says so; a file that set
 * a count alone reserved no device, and none is given back. -ENOENT (the dry run too) when
 * @sel was not persisted; else as hd_reserve_config_give_back(). */
int hd_reserve_unpersist_apply(struct hd_ctx *ctx, const struct hd_pci_selector *sel,
                               unsigned int flags, hd_reserve_fn fn, void *data,
                               struct hd_reserve_result **result);
/* hd_reserve_unpersist_apply() of the @n selectors @sels together, all or nothing: every file
 * is read before any is removed (one not persisted, or given twice, changes nothing), the
 * devices of them all are given back in one operation planned first, as if none of the files
 * were there (a device one file reserved that another of them reserves too goes back), and
 * when that fails every file is written back. One result; *@failed (when not NULL) as
 * hd_reserve_persist_apply_all() sets it: the selector a failure (or a failed item's device)
 * is about. */
int hd_reserve_unpersist_apply_all(struct hd_ctx *ctx, const struct hd_pci_selector *sels,
                                   size_t n, unsigned int flags, hd_reserve_fn fn, void *data,
                                   size_t *failed, struct hd_reserve_result **result);
struct hd_reserve_result *hd_reserve_result_ref(struct hd_reserve_result *result);
struct hd_reserve_result *hd_reserve_result_unref(struct hd_reserve_result *result);
size_t hd_reserve_result_count(const struct hd_reserve_result *result);
enum hd_reserve_action hd_reserve_result_get_action(const struct hd_reserve_result *result,
                                                    size_t i);
enum hd_reserve_outcome hd_reserve_result_get_outcome(const struct hd_reserve_result *result,
                                                      size_t i);
/* The PCI device (NULL for a mediated device), read again after its operation. */
struct hd_device *hd_reserve_result_get_device(const struct hd_reserve_result *result, size_t i);
/* The entry applied (its driver, numvfs, file and line), or the one that still holds the
 * device (HD_RESERVE_HELD); NULL for a mediated device. */
const struct hd_reserve_entry *hd_reserve_result_get_entry(const struct hd_reserve_result *result,
                                                           size_t i);
/* HD_RESERVE_DONE: the operation that ran (its steps, hd_op_get_previous_numvfs()).
 * HD_RESERVE_FAILED: the operation that failed, when one was run: its steps as they ended
 * (all planned when it was refused before any write; else undone, failed, not-run or
 * not-undone, as hd_op_run() leaves them). Else NULL. */
const struct hd_op *hd_reserve_result_get_op(const struct hd_reserve_result *result, size_t i);
/* HD_RESERVE_FAILED: the message (naming the device) and, when @reason is not NULL, the reason
 * (as hd_ctx_last_reason() said it); else NULL. */
const char *hd_reserve_result_get_error(const struct hd_reserve_result *result, size_t i,
                                        enum hd_reason *reason);
/* Why item @i's PF, reserved for a stub with a VF count asked of it, may be left without VFs
 * (hd_reserve_config_numvfs_warning()), on its reservation's item (or, when the call makes none,
 * its count's), whatever its outcome; or, for hd_reserve_entry_apply()'s entry (address or ids)
 * taking VFs that no VF count of the configuration makes at boot, on the first of each PF's,
 * that the reservation does nothing for them then; NULL: none. */
const char *hd_reserve_result_get_warning(const struct hd_reserve_result *result, size_t i);
/* An HD_RESERVE_MDEV item's mediated device: 0, or -EINVAL when the item has none. */
int hd_reserve_result_get_mdev(const struct hd_reserve_result *result, size_t i,
                               const char **uuid, const char **parent, const char **type);

/* ------------------------------------------------------------------------------------------ */
/* VFIO verification: can a VM really use this device?                                       */

struct hd_vfio_report;

enum hd_vfio_step_status {
    HD_VFIO_STEP_OK = 0,
    HD_VFIO_STEP_FAILED = 1,
    HD_VFIO_STEP_SKIPPED = 2, /* not applicable here (e.g. no vfio cdev in this kernel) */
};

/* Go through the VFIO API the way a VMM does, relative to the context's root:
 * ROOT/dev/vfio/vfio (VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION), ROOT/dev/vfio/<group>
 * (VFIO_GROUP_GET_STATUS viable, VFIO_GROUP_SET_CONTAINER), VFIO_SET_IOMMU (Type1v2, else
 * Type1), VFIO_GROUP_GET_DEVICE_FD, VFIO_DEVICE_GET_INFO; then, when the kernel offers
 * <BDF>/vfio-dev/vfioX, ROOT/dev/vfio/devices/vfioX with ROOT/dev/iommu
 * (VFIO_DEVICE_BIND_IOMMUFD, IOMMU_IOAS_ALLOC, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
 * VFIO_DEVICE_GET_INFO). Everything opened is closed again before returning.
 * Returns 0 when the device is usable; otherwise the negative errno of the first step that
 * failed, with *report explaining why and how to fix it. -ENODEV: no such device. *report is
 * NULL only on -ENOMEM or -EINVAL (bad arguments). */
int hd_vfio_verify(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                   struct hd_vfio_report **report);
/* The same for a mediated device (its UUID, or libvirt's mdev_<uuid>): its own group opened
 * through a container and VFIO_GROUP_GET_DEVICE_FD by UUID, then its cdev, where it has one. */
int hd_vfio_verify_mdev(struct hd_ctx *ctx, const char *uuid, struct hd_vfio_report **report);
struct hd_vfio_report *hd_vfio_report_ref(struct hd_vfio_report *r);
struct hd_vfio_report *hd_vfio_report_unref(struct hd_vfio_report *r);
bool hd_vfio_report_is_usable(const struct hd_vfio_report *r);
const char *hd_vfio_report_get_name(const struct hd_vfio_report *r); /* "0000:00:02.0" */
int hd_vfio_report_get_group(const struct hd_vfio_report *r);        /* -1: none */
const char *hd_vfio_report_get_driver(const struct hd_vfio_report *r); /* NULL: unbound */
/* "Type1v2" or "Type1"; NULL when no IOMMU was set. */
const char *hd_vfio_report_get_iommu_type(const struct hd_vfio_report *r);
/* Why it is not usable: one error finding for the first step that failed (its code, the
 * device, what went wrong, the fix); empty when usable. Owned by the report. */
struct hd_findings *hd_vfio_report_get_findings(const struct hd_vfio_report *r);
/* Every step tried, in order. */
size_t hd_vfio_report_get_step_count(const struct hd_vfio_report *r);
const char *hd_vfio_report_get_step_name(const struct hd_vfio_report *r, size_t i);
enum hd_vfio_step_status hd_vfio_report_get_step_status(const struct hd_vfio_report *r, size_t i);
int hd_vfio_report_get_step_error(const struct hd_vfio_report *r, size_t i); /* -errno or 0 */
const char *hd_vfio_report_get_step_detail(const struct hd_vfio_report *r, size_t i); /* or NULL */
/* Group members that keep the group from being viable (on a host driver). */
size_t hd_vfio_report_get_blocker_count(const struct hd_vfio_report *r);
const char *hd_vfio_report_get_blocker_name(const struct hd_vfio_report *r, size_t i);
const char *hd_vfio_report_get_blocker_driver(const struct hd_vfio_report *r, size_t i);
/* What VFIO_DEVICE_GET_INFO said (group path): -ENODATA when it was not reached. */
int hd_vfio_report_get_device_info(const struct hd_vfio_report *r, uint32_t *flags,
                                   uint32_t *num_regions, uint32_t *num_irqs);
/* The vfio cdev ("vfio3") when the kernel has one for the device, else NULL. */
const char *hd_vfio_report_get_cdev(const struct hd_vfio_report *r);

/* ------------------------------------------------------------------------------------------ */
/* Node devices: libvirt's view of the host (PCI, USB, SCSI, net, block), for the adapters    */

/* Capability types, numbered as libvirt numbers them (1 << cap is libvirt's
 * VIR_CONNECT_LIST_NODE_DEVICES_CAP_* flag). */
enum hd_nodedev_cap {
    HD_CAP_SYSTEM = 0,        /* "system": the host itself, named "computer" */
    HD_CAP_PCI = 1,           /* "pci" */
    HD_CAP_USB_DEVICE = 2,    /* "usb_device" */
    HD_CAP_USB_INTERFACE = 3, /* "usb" */
    HD_CAP_NET = 4,           /* "net" */
    HD_CAP_SCSI_HOST = 5,     /* "scsi_host" */
    HD_CAP_SCSI_TARGET = 6,   /* "scsi_target" */
    HD_CAP_SCSI = 7,          /* "scsi" */
    HD_CAP_STORAGE = 8,       /* "storage" */
    HD_CAP_FC_HOST = 9,       /* "fc_host": known by name, never listed */
    HD_CAP_VPORTS = 10,       /* "vports": known by name, never listed */
    HD_CAP_SCSI_GENERIC = 11, /* "scsi_generic" */
    HD_CAP_DRM = 12,          /* "drm": known by name, never listed */
    HD_CAP_MDEV_TYPES = 13,   /* "mdev_types": a PCI device that is a mediated device parent
                               * (never a device's own capability; a filter finds them) */
    HD_CAP_MDEV = 14,         /* "mdev": a mediated device, mdev_<uuid>_<parent> */
    HD_CAP_LAST,
};

/* "pci", "usb_device", ...; NULL when out of range. */
const char *hd_nodedev_cap_to_string(enum hd_nodedev_cap cap);
/* The capability named @name, or -EINVAL. */
int hd_nodedev_cap_from_string(const char *name);

struct hd_nodedev;
struct hd_nodedev_list;

/* Every node device under the root whose capability bit (1 << cap) is in @caps (0: all),
 * sorted by name as virsh sorts them (case-insensitively). Each one has libvirt's name
 * (pci_0000_00_1f_2, usb_1_2, scsi_host1, net_eth0_52_54_00_12_34_56, block_sda_SERIAL...)
 * and its parent's name ("computer" for roots), found by walking up its sysfs path. Only the
 * families @caps asks for are read (PCI devices for pci and mdev_types); a parent of another
 * family is read alone, and named as the listing of all would name it. */
int hd_nodedev_list_new(struct hd_ctx *ctx, unsigned int caps, struct hd_nodedev_list **list);
struct hd_nodedev_list *hd_nodedev_list_ref(struct hd_nodedev_list *list);
struct hd_nodedev_list *hd_nodedev_list_unref(struct hd_nodedev_list *list);
size_t hd_nodedev_list_count(const struct hd_nodedev_list *list);
/* Borrowed: valid while the list lives (take a ref to keep it longer). */
struct hd_nodedev *hd_nodedev_list_get(const struct hd_nodedev_list *list, size_t i);
struct hd_nodedev *hd_nodedev_list_find(const struct hd_nodedev_list *list, const char *name);

/* libvirt's name for what sysfs calls @sysname in @subsystem ("usb", "1-2.3" -> "usb_1_2_3"),
 * as a listing names it: what a uevent's DEVPATH names, with no lookup. -ENAMETOOLONG when it
 * does not fit @size. */
int hd_nodedev_name_of(const char *subsystem, const char *sysname, char *buf, size_t size);
/* The node device named @name; -ENODEV (with libvirt's message) when there is none. */
int hd_nodedev_lookup(struct hd_ctx *ctx, const char *name, struct hd_nodedev **dev);
/* The node device of mediated device @uuid (mdev_<uuid>_<parent>), read alone; -ENODEV when
 * none, -EINVAL (HD_REASON_INVALID) as hd_mdev_list_new_uuid() for one that cannot be read. */
int hd_nodedev_lookup_mdev(struct hd_ctx *ctx, const char *uuid, struct hd_nodedev **dev);
struct hd_nodedev *hd_nodedev_ref(struct hd_nodedev *dev);
struct hd_nodedev *hd_nodedev_unref(struct hd_nodedev *dev);

const char *hd_nodedev_get_name(const struct hd_nodedev *dev);
const char *hd_nodedev_get_parent(const struct hd_nodedev *dev); /* NULL for "computer" */
enum hd_nodedev_cap hd_nodedev_get_cap(const struct hd_nodedev *dev);
/* What virNodeDeviceListCaps reports: the capability, then the nested ones a PCI device has
 * (phys_function, virt_functions). */
size_t hd_nodedev_get_cap_count(const struct hd_nodedev *dev);
const char *hd_nodedev_get_cap_name(const struct hd_nodedev *dev, size_t i);
const char *hd_nodedev_get_sysfs_path(const struct hd_nodedev *dev); /* "/sys/devices/..." */
const char *hd_nodedev_get_driver(const struct hd_nodedev *dev);     /* NULL: none */
const char *hd_nodedev_get_devnode(const struct hd_nodedev *dev);    /* "/dev/sda" or NULL */
/* Ids and names where the capability has them (pci, usb_device): -1 / NULL otherwise.
 * For storage the product is the model, as VDSM reports it. */
int hd_nodedev_get_vendor_id(const struct hd_nodedev *dev);
int hd_nodedev_get_product_id(const struct hd_nodedev *dev);
const char *hd_nodedev_get_vendor_name(const struct hd_nodedev *dev);
const char *hd_nodedev_get_product_name(const struct hd_nodedev *dev);
/* The interface name of a net device, the /dev node of a scsi_generic one; NULL otherwise. */
const char *hd_nodedev_get_interface(const struct hd_nodedev *dev);
/* The PCI snapshot behind a pci node device (borrowed), NULL for other capabilities. */
struct hd_device *hd_nodedev_get_pci_device(const struct hd_nodedev *dev);
/* The numbers of a device's address: pci domain/bus/slot/function, scsi host/bus/target/lun,
 * usb_device bus/device. Returns how many (0 when the capability has no address). */
size_t hd_nodedev_get_address(const struct hd_nodedev *dev, const char *keys[4],
                              unsigned long values[4]);

/* libvirt's node-device XML for @dev, as virNodeDeviceGetXMLDesc returns it: allocated,
 * NUL-terminated, free() it. */
int hd_nodedev_format_xml(struct hd_nodedev *dev, char **xml);

/* ------------------------------------------------------------------------------------------ */
/* Host safety                                                                                */

/* Would taking @dev from its driver pull something from under the host? Of an SR-IOV PF on a
 * host driver, its VFs are asked too (that driver letting go destroys them). 0 when not;
 * -EBUSY with every reason in the message ("0000:03:00.0 backs /dev/sda1 mounted on /", "...
 * eth0 is up with routes", "... eth0 is under br0, which is up with addresses", "... is the
 * boot VGA device (the console)", "0000:03:00.0's VF 0000:03:10.0 (gone when the PF leaves its
 * driver): eth1 is up with routes"); another -errno when it cannot tell (out of memory).
 * Reads ROOT/sys (block holders, sys/fs/btrfs, net master/upper/lower links, brif, bonding),
 * ROOT/proc (mountinfo or mounts, swaps, spl/kstat/zfs), run/udev/data (ZFS pool members), opens
 * block nodes under ROOT/dev read-only with O_EXCL (never writes); addresses and routes of every
 * table come from rtnetlink when ROOT is the host, else from proc/net/route, ipv6_route,
 * if_inet6 and hostdev-rtnl (docs/design.md). */
int hd_device_check_host_use(struct hd_device *dev);

/* The same check for many devices, with what the host uses read once (the block, net and
 * graphics classes; addresses, routes and how interfaces stack when an interface that is up
 * sits below a device asked about): a listing or an operation on many devices asks this
 * instead. hd_host_use_check() answers as hd_device_check_host_use() does, for a device of
 * the same context; what changed on the host after hd_host_use_new() may go unseen, so make
 * a new one for each command. */
struct hd_host_use;
int hd_host_use_new(struct hd_ctx *ctx, struct hd_host_use **out);
struct hd_host_use *hd_host_use_ref(struct hd_host_use *hu);
struct hd_host_use *hd_host_use_unref(struct hd_host_use *hu);
int hd_host_use_check(struct hd_host_use *hu, struct hd_device *dev);
/* hd_host_use_check() as detach asks it of @dev itself: 0 for a device on no driver or a
 * DMA-safe one (a stub), and -EBUSY too for an SR-IOV PF on a host driver with VFs (detaching
 * it would destroy them), in the words check and detach refuse it with. */
int hd_host_use_check_own(struct hd_host_use *hu, struct hd_device *dev);

/* ------------------------------------------------------------------------------------------ */
/* Whether a device can go to a VM, alone or with others                                      */

/* How @dev stands for a VM as one of the @n devices of @set given to one VM together (@dev
 * among them; @n 1 asks about it alone): its reset (hd_device_check_reset()), the other
 * endpoints of its IOMMU group (VFIO gives a group to one VM whole), whether the host keeps it
 * (hd_device_get_platform_role()) or uses it (hd_host_use_check(), asked as acquiring it asks:
 * only of a device on a driver that is not DMA-safe; the acquire refuses either without
 * HD_OP_FORCE; asked of the group's other endpoints and of the functions its bus reset also
 * resets too, as acquiring them with it asks), and
 * what it still needs beside the set. @hu reads the host once for many devices and their
 * groups (NULL: read once for this call). -errno when its reset or its group cannot be read
 * (-EINVAL, reason HD_REASON_INVALID, for sysfs contents the kernel would not write), or what
 * the host uses cannot be told. Reads only. */
struct hd_assign_check;
int hd_device_check_assign(struct hd_device *dev, struct hd_device *const *set, size_t n,
                           struct hd_host_use *hu, struct hd_assign_check **check);
struct hd_assign_check *hd_assign_check_ref(struct hd_assign_check *check);
struct hd_assign_check *hd_assign_check_unref(struct hd_assign_check *check);
/* Its reset: the scope, the methods, the functions a bus reset also hits (borrowed). */
const struct hd_reset_check *hd_assign_check_get_reset(const struct hd_assign_check *check);
/* The other endpoints of its IOMMU group (bridges do not count), borrowed. */
size_t hd_assign_check_get_company_count(const struct hd_assign_check *check);
struct hd_device *hd_assign_check_get_company(const struct hd_assign_check *check, size_t i);
/* What the host uses of other endpoint @i, asked as of the device (acquiring the group is
 * refused for it without HD_OP_FORCE); NULL: nothing (or not asked: one the host keeps). */
const char *hd_assign_check_get_company_host_use(const struct hd_assign_check *check, size_t i);
/* What the host keeps it as ("an SMBus controller"), NULL when it is no platform function. */
const char *hd_assign_check_get_host_keeps(const struct hd_assign_check *check);
/* What the host uses of it, in hd_host_use_check()'s words; NULL: nothing (or not asked, for a
 * device the host keeps). */
const char *hd_assign_check_get_host_use(const struct hd_assign_check *check);
/* A device behind it (USB, SCSI, a mediated device) that a VM holds, in the acquire's words
 * ("0000:00:04.0 has usb_1_2 behind it, which vm b holds: release that first"): the acquire
 * refuses it, taking it from its driver would take that from under the VM. NULL: none, or the
 * device itself is held. */
const char *hd_assign_check_get_chain_held(const struct hd_assign_check *check);
/* An endpoint (no bridge) in an IOMMU group, reset on its own (or by a bus reset with nothing
 * else on the bus), no other endpoint in its group, neither kept nor used by the host, and no
 * device behind it that a VM holds. */
bool hd_assign_check_is_assignable_alone(const struct hd_assign_check *check);
/* What must go to the VM with it that the set lacks: the other endpoints of its group and the
 * functions its bus reset also resets (borrowed). */
size_t hd_assign_check_get_need_count(const struct hd_assign_check *check);
struct hd_device *hd_assign_check_get_need(const struct hd_assign_check *check, size_t i);
/* What the host uses of need @i, an endpoint of the group or a function its bus reset also
 * resets (acquiring it with the device is refused for it without HD_OP_FORCE); NULL: nothing,
 * or not asked (one the host keeps). */
const char *hd_assign_check_get_need_host_use(const struct hd_assign_check *check, size_t i);
/* What the host uses of hd_reset_check_get_peer(hd_assign_check_get_reset(check), @i), a
 * function its bus reset also resets, asked as of the device; NULL: nothing, or not asked. */
const char *hd_assign_check_get_peer_host_use(const struct hd_assign_check *check, size_t i);
/* Whether it can go to the VM with the set: it has a reset, needs nothing more, the host
 * neither keeps nor uses it, and no VM holds a device behind it. */
bool hd_assign_check_is_assignable_together(const struct hd_assign_check *check);

/* ------------------------------------------------------------------------------------------ */
/* Device events: what the kernel announces as devices come, go and change drivers          */

/* On the host, the kernel's uevent netlink socket (its own messages, never udevd's); under
 * another root, the fake kernel's channel proc/hostdev-uevents (hostdev-fakesys(5)). Only
 * events from hd_monitor_new() on are seen. */
enum hd_uevent_action {
    HD_UEVENT_UNKNOWN = -1,
    HD_UEVENT_ADD,
    HD_UEVENT_REMOVE,
    HD_UEVENT_CHANGE,
    HD_UEVENT_BIND,
    HD_UEVENT_UNBIND,
    HD_UEVENT_MOVE,
    HD_UEVENT_ONLINE,
    HD_UEVENT_OFFLINE,
};
const char *hd_uevent_action_to_string(enum hd_uevent_action a); /* "bind" */

struct hd_monitor;
struct hd_uevent;
int hd_monitor_new(struct hd_ctx *ctx, struct hd_monitor **out);
struct hd_monitor *hd_monitor_ref(struct hd_monitor *m);
struct hd_monitor *hd_monitor_unref(struct hd_monitor *m);
/* For poll(): readable when an event waits (-1 under a fake root: it is polled). */
int hd_monitor_get_fd(const struct hd_monitor *m);
/* The next event, waiting at most @timeout_ms (-1: until one comes): 0 with *@ev valid until
 * the next call, -EAGAIN when none came, -EINTR when a signal came, another -errno (ENOBUFS:
 * the kernel dropped events, so what was read before may be stale). Malformed messages are
 * skipped. */
int hd_monitor_next(struct hd_monitor *m, int timeout_ms, const struct hd_uevent **ev);
enum hd_uevent_action hd_uevent_get_action(const struct hd_uevent *ev);
const char *hd_uevent_get_subsystem(const struct hd_uevent *ev); /* "pci" */
const char *hd_uevent_get_devpath(const struct hd_uevent *ev);   /* "/devices/pci0000:00/..." */
const char *hd_uevent_get_driver(const struct hd_uevent *ev);    /* NULL when it names none */
const struct hd_pci_addr *hd_uevent_get_addr(const struct hd_uevent *ev); /* NULL: not PCI */
unsigned long long hd_uevent_get_seqnum(const struct hd_uevent *ev);      /* 0: none given */
/* Whether the kernel under the root has uevent subsystem @name now: a bus (sys/bus/NAME) or a
 * class (sys/class/NAME). 1 it has; 0 not (a module may still bring it), with @nearest the
 * bus or class @name is likely a slip of ("pci" for "pcii"; "" when none is near); -EINVAL for
 * what cannot be a name (a '/', a leading '.'), another -errno when sys/bus cannot be read. */
int hd_uevent_subsystem_known(struct hd_ctx *ctx, const char *name, char *nearest, size_t size);

/* ------------------------------------------------------------------------------------------ */
/* Assignments of devices to VMs (the map under the state directory)                         */

/* A VM id: [A-Za-z0-9._:@-]{1,128} (names and UUIDs), not "." or "..". */
bool hd_vm_id_valid(const char *id);
/* "USER", "USER:GROUP", ":GROUP", numeric ids too. Names resolve from ROOT/etc/passwd and
 * ROOT/etc/group first, then the host's databases. A missing group is the user's primary
 * group. -EINVAL (message names the part) when something does not resolve. */
int hd_owner_parse(struct hd_ctx *ctx, const char *spec, uid_t *uid, gid_t *gid);
/* root:qemu when a qemu group exists, else root:root. */
int hd_owner_default(struct hd_ctx *ctx, uid_t *uid, gid_t *gid);

enum hd_acquire_flags {
    HD_ACQUIRE_UNMANAGED = 1u << 0, /* the devices must already be on vfio-pci */
    HD_ACQUIRE_GROUP = 1u << 1,     /* detach the rest of each IOMMU group too (managed) */
    HD_ACQUIRE_FORCE = 1u << 2,     /* skip the host-safety checks */
};

/* Give @n devices to @vm, all or nothing: check all (endpoint, not held by another VM, nor a
 * member of their groups, group viable, host safety), detach the managed ones, reset all,
 * hand dev/vfio/N (and dev/vfio/devices/vfioX, dev/iommu) to @uid:@gid mode 0660, record
 * the assignment. Any failure restores drivers, overrides, ownership and the map. A device
 * @vm holds already, as asked (owner, mode) and as the kernel still shows it, is left as it
 * is (a retry succeeds). -EBUSY: held by another VM, by @vm otherwise than asked or than the
 * kernel shows (the record and the kernel disagree), or in host use; -EINVAL: bad input;
 * -ETIMEDOUT: an unbind hangs (the intent log stays; 'recover' finishes the job once it
 * returns). */
int hd_assign_acquire(struct hd_ctx *ctx, const char *vm, const struct hd_pci_addr *addrs,
                      size_t n, uid_t uid, gid_t gid, unsigned int flags);
/* Take devices back from @vm (all of them when @n is 0): restore node ownership, reset,
 * reattach managed devices to their original drivers, drop the records. All or nothing. A
 * device given that no VM holds is left as it is (a retry succeeds); -EPERM (HD_REASON_HELD):
 * another VM holds one; -ENODEV: one is not there; -ENOENT: with @n 0, @vm holds nothing. */
int hd_assign_release(struct hd_ctx *ctx, const char *vm, const struct hd_pci_addr *addrs,
                      size_t n);
/* Emergency release of one device whatever its record says (VDSM's hostdevRelease). */
int hd_assign_release_force(struct hd_ctx *ctx, const struct hd_pci_addr *addr);
/* Finish or undo what processes killed half-way left in the intent log. *@recovered (may be
 * NULL) counts the operations dealt with; -EBUSY when one is still running (or its unbind
 * still hangs) and was left alone. Run by acquire and release before they start. */
int hd_assign_recover(struct hd_ctx *ctx, unsigned int *recovered);

struct hd_assignment;
struct hd_assignment_list;
/* What an entry holds: a PCI function, or a mediated device (named by its UUID). */
enum hd_assignment_kind {
    HD_ASSIGNMENT_PCI,
    HD_ASSIGNMENT_MDEV,
    HD_ASSIGNMENT_USB,  /* given through dev/bus/usb/BBB/DDD; named usb_BUS_PORT */
    HD_ASSIGNMENT_SCSI, /* given through dev/sgN; named scsi_H_B_T_L */
};
/* The map as it is now (empty when nothing was ever assigned). */
int hd_assignment_list_new(struct hd_ctx *ctx, struct hd_assignment_list **list);
/* The entries of VM @vm, in the map's order (IOMMU group members included: see
 * hd_assignment_is_group_member()); empty when it holds nothing. -EINVAL (reason
 * HD_REASON_INVALID) for a malformed VM id; a damaged map fails as hd_assignment_list_new(). */
int hd_assignment_list_new_vm(struct hd_ctx *ctx, const char *vm,
                              struct hd_assignment_list **list);
struct hd_assignment_list *hd_assignment_list_ref(struct hd_assignment_list *list);
struct hd_assignment_list *hd_assignment_list_unref(struct hd_assignment_list *list);
size_t hd_assignment_list_count(const struct hd_assignment_list *list);
/* Borrowed: valid while the list lives. NULL when out of range / not found. */
const struct hd_assignment *hd_assignment_list_get(const struct hd_assignment_list *list,
                                                   size_t i);
const struct hd_assignment *hd_assignment_list_find(const struct hd_assignment_list *list,
                                                    const struct hd_pci_addr *addr);
/* The entry of mediated device @uuid (any form hd_mdev_uuid_parse() takes). */
const struct hd_assignment *hd_assignment_list_find_mdev(const struct hd_assignment_list *list,
                                                         const char *uuid);
enum hd_assignment_kind hd_assignment_get_kind(const struct hd_assignment *a);
/* A PCI entry's address; NULL for a mediated device. */
const struct hd_pci_addr *hd_assignment_get_addr(const struct hd_assignment *a);
/* "0000:03:00.0", or a mediated device's UUID. */
const char *hd_assignment_get_name(const struct hd_assignment *a);
/* A USB or SCSI entry by its node-device name (usb_1_3, scsi_2_0_0_0). */
const struct hd_assignment *hd_assignment_list_find_name(const struct hd_assignment_list *list,
                                                         const char *name);
/* A USB or SCSI entry's device node ("dev/bus/usb/001/004", "dev/sg2"); NULL for others. */
const char *hd_assignment_get_node(const struct hd_assignment *a);
/* A mediated device's parent (as in sys/class/mdev_bus); NULL for a PCI entry. */
const char *hd_assignment_get_parent(const struct hd_assignment *a);
const char *hd_assignment_get_vm(const struct hd_assignment *a);
bool hd_assignment_is_managed(const struct hd_assignment *a);
/* Came along with --group rather than being asked for. */
bool hd_assignment_is_group_member(const struct hd_assignment *a);
/* Acquire took it from its host driver, or from no driver, and release gives it back to that;
 * false when it was on a stub already and stays there. */
bool hd_assignment_is_detached(const struct hd_assignment *a);
/* The driver acquire took it from; NULL when it had none or was already on a stub (which
 * hd_assignment_is_detached() tells apart). */
const char *hd_assignment_get_driver(const struct hd_assignment *a);
int hd_assignment_get_iommu_group(const struct hd_assignment *a);
long long hd_assignment_get_since(const struct hd_assignment *a); /* seconds since the epoch */
uid_t hd_assignment_get_uid(const struct hd_assignment *a);
gid_t hd_assignment_get_gid(const struct hd_assignment *a);

/* ------------------------------------------------------------------------------------------ */
/* Operations: every change to the host, as one planned, journaled, undoable transaction      */
/*
 * A command that changes the host builds one operation, runs it, and reads its steps back:
 *
 *     hd_op_new(ctx, HD_OP_DETACH, &op); hd_op_add_device(op, &addr, true);
 *     hd_op_set_flags(op, HD_OP_GROUP); r = hd_op_run(op);
 *     for (i = 0; i < hd_op_get_step_count(op); i++) ... hd_op_step_get_action(op, i) ...
 *
 * hd_op_run() checks the whole operation first (the assignment map: a device a VM holds is
 * refused naming the VM; host use; platform functions; IOMMU group viability), then journals
 * each step before its write, verifies it against the kernel and commits through the records;
 * any failure undoes every started step, newest first, and the host is as it was (drivers,
 * driver_override, node owners, VF counts, the records and the map). With HD_OP_DRY_RUN it
 * plans the same steps and writes nothing at all (no sysfs write, no state file, no lock).
 * Failures leave a message and a reason (hd_ctx_last_reason()) on the context.
 */
enum hd_op_kind {
    HD_OP_DETACH,   /* to a stub driver (hd_op_set_driver(); vfio-pci family by default) */
    HD_OP_REATTACH, /* back to the recorded host driver, or to none when it had none */
    HD_OP_RESET,
    HD_OP_NUMVFS,   /* one PF; hd_op_set_numvfs() */
    HD_OP_ACQUIRE,  /* to a VM (hd_op_set_vm(), hd_op_set_owner()); a device the VM holds as
                     * asked (the kernel agrees) is step "already" (state done), not changed */
    HD_OP_RELEASE,  /* from a VM: the devices given, or all of them; one given that no VM
                     * holds is step "already" (from the VM, to "", state done), not changed;
                     * HD_OP_FORCE: one device, whatever its record says, no VM needed;
                     * one no VM holds and not detached is step "already" (from "", to its
                     * driver, "none" without one, "" for a mediated device), not changed */
    HD_OP_RESERVE,  /* keep for a stub from now on: driver_override set, bound now or when the
                     * stub registers (step "pending"); see hd_device_reserve() */
    HD_OP_RECOVER,  /* hd_assign_recover(); per intent log (dry run: as it would) "undo",
                     * "finish", "drop", "busy" or "damaged" (device: the log's name, from: its
                     * operation, to: steps); "damaged" of "damaged/": those set aside before
                     * (to: how many) */
    HD_OP_MDEV_CREATE, /* a mediated device (hd_op_set_mdev(): parent, type, UUID or none: a
                        * new one, hd_op_get_mdev_uuid()); step "mdev-create" */
    HD_OP_MDEV_REMOVE, /* the mediated device hd_op_set_mdev() names by UUID; "mdev-remove" */
    HD_OP_FOLLOW,      /* a USB device a VM holds re-enumerated (a new device number, so a new
                        * node): the new node goes to the VM's user and the record follows
                        * (hd_op_add_node_device(), one); nothing when it holds none */
};

enum hd_op_flags {
    HD_OP_DRY_RUN = 1u << 0, /* plan and report, write nothing */
    HD_OP_FORCE = 1u << 1,   /* host use and platform functions do not refuse */
    HD_OP_GROUP = 1u << 2,   /* the rest of each device's IOMMU group too */
    HD_OP_NEW_ID = 1u << 3,  /* bind through new_id even where driver_override exists */
    HD_OP_NOIOMMU = 1u << 4, /* detach: a device with no IOMMU group goes to vfio-pci in vfio's
                              * unsafe no-IOMMU mode (no DMA isolation; hd_vfio_noiommu_mode()) */
};

enum hd_op_step_state {
    HD_STEP_PLANNED, /* a dry run, or not reached; a dry run's reset step the kernel will
                      * refuse (a bus reset with other devices on the bus) is planned in the
                      * state its run will end in: deferred, or failed */
    HD_STEP_DONE, /* a reset done stays so after a later failure: nothing undoes it */
    HD_STEP_UNDONE, /* started, then put back after a later failure */
    HD_STEP_DEFERRED, /* a reset that no method could do from here (the kernel's ENOTTY, as
                       * for a bus reset with other devices on the bus): the device is on
                       * vfio-pci, which resets it when the VM opens it */
    HD_STEP_FAILED, /* tried and failed: the step that made the operation fail (what it had
                     * begun is put back, with the steps done before it), or one it went on
                     * without (an emergency release's reset: the device is given back all
                     * the same) */
    HD_STEP_NOT_RUN, /* journaled, never started: an earlier step failed and the operation
                      * stopped; a reset not done when the operation failed (a deferred one
                      * too: nothing was written, and its operation is put back) */
    HD_STEP_NOT_UNDONE, /* begun, and its undo after a failure failed too: the device is not
                         * as it was; the intent log stays for recover */
};

struct hd_op;
int hd_op_new(struct hd_ctx *ctx, enum hd_op_kind kind, struct hd_op **op);
struct hd_op *hd_op_ref(struct hd_op *op);
struct hd_op *hd_op_unref(struct hd_op *op);
/* @managed: acquire detaches it (true) or it must be on vfio-pci already (false); the other
 * operations ignore it. A device given twice is -EINVAL. */
int hd_op_add_device(struct hd_op *op, const struct hd_pci_addr *addr, bool managed);
/* The same, managed, with no mode asked for: a device the VM holds already is as asked
 * whether it holds it managed or not (acquire's retry by a caller that left the mode out). */
int hd_op_add_device_default(struct hd_op *op, const struct hd_pci_addr *addr);
/* Acquire and release: a mediated device too, by its UUID (or libvirt's mdev_ name). It has
 * no driver to change: acquire hands its group's nodes over and records it. */
int hd_op_add_mdev(struct hd_op *op, const char *uuid);
/* Acquire and release: a USB or SCSI device, by libvirt's node-device name (usb_1_3,
 * scsi_2_0_0_0) or, for USB, usb:VVVV:PPPP[:SERIAL]. Its node (dev/bus/usb/BBB/DDD, dev/sgN)
 * goes to the VM's user; a hub, the host's keyboard and storage the host uses are refused
 * without HD_OP_FORCE. */
int hd_op_add_node_device(struct hd_op *op, const char *name);
/* The USB or SCSI device @sel names (as hd_op_add_node_device() takes it): its node-device
 * name and the node a VM opens ("/dev/bus/usb/001/004", "/dev/sg2"). -ENODEV, -EINVAL. */
int hd_node_device_find(struct hd_ctx *ctx, const char *sel, char *name, size_t name_size,
                        char *node, size_t node_size);
/* Would acquire refuse it as the host's (a hub, the keyboard, storage or an interface the host
 * uses below it)? 0 when not; -EBUSY with the reason as the context's message. */
int hd_node_device_check_host_use(struct hd_ctx *ctx, const char *sel);
/* What check says of a device given through its node rather than its PCI function: a USB or
 * SCSI device (as hd_op_add_node_device() takes it) or a mediated device (its UUID, or
 * libvirt's mdev_<uuid>). A text left "" says nothing stands in the way. */
struct hd_node_check {
    char name[64];       /* usb_1_3, scsi_2_0_0_0; a mediated device's UUID */
    char node[128];      /* what a VM opens: /dev/bus/usb/001/004, /dev/sg2, /dev/vfio/N; "" none */
    char host_keeps[16]; /* "a hub", "a keyboard": acquire refuses it without HD_OP_FORCE */
    char host_use[512];  /* storage or an interface below it that the host uses (the same) */
    char not_ready[512]; /* why no VM can open it yet: a SCSI device without its dev/sgN, a
                          * mediated device no driver took or without an IOMMU group */
    bool assignable;     /* none of these: a VM can be given it now (alone) */
    char not_together[512]; /* why it cannot go to a VM with the PCI devices given, in
                             * acquire's words: one is the controller it is behind or the
                             * parent it lives on (detaching that takes it from the host) */
    char chain_held[512]; /* a USB or SCSI device: the device it is behind (its controller, a
                           * hub, the stick whose SCSI disk it is) or one behind it that a VM
                           * holds, in acquire's words; not "": no VM can be given it now */
};
/* Judge @sel as acquire would take it, alone and together with the PCI devices @set (@n of
 * them; none: alone), reading only, the device found once: 0 and *@out. -EINVAL
 * (HD_REASON_INVALID) for a @sel that names no such device the way acquire takes one, or sysfs
 * contents the kernel would not write; -ENODEV / -ENOENT (HD_REASON_NO_DEVICE) when there is
 * none. @hu as hd_device_check_assign() takes it (NULL: read for this call when needed). */
int hd_node_device_check_assign(struct hd_ctx *ctx, const char *sel, struct hd_device *const *set,
                                size_t n, struct hd_host_use *hu, struct hd_node_check *out);
/* Whether @sel and @other, both given through their nodes, can go to one VM: one behind the
 * other (a USB stick and its SCSI disk, a hub and a device on it) cannot, since QEMU's usb-host
 * claims the one from the host and the other goes with it; acquire refuses the two. 0 and
 * *@why NULL (also for a mediated device), or *@why (allocated) in acquire's words; -errno as
 * hd_node_device_check_assign(). */
int hd_node_device_check_pair(struct hd_ctx *ctx, const char *sel, const char *other,
                              char **why);
void hd_op_set_flags(struct hd_op *op, unsigned int flags);
/* Detach and acquire bind to @stub: "vfio-pci", "pci-stub" or a vfio-pci variant driver
 * ("mlx5_vfio_pci"). NULL or "vfio" (the default): each device's own vfio-pci family driver,
 * a variant when the kernel's modules.alias has one for it (hd_device_get_vfio_driver()). */
int hd_op_set_driver(struct hd_op *op, const char *stub);
/* The same for one device added before (libvirt's <driver model='...'/>). */
int hd_op_set_device_driver(struct hd_op *op, const struct hd_pci_addr *addr, const char *driver);
int hd_op_set_vm(struct hd_op *op, const char *vm);
/* Acquire: who may open the nodes. Not called: hd_owner_default()'s for the devices given,
 * and a device the VM holds already is as asked whatever its owner. */
void hd_op_set_owner(struct hd_op *op, uid_t uid, gid_t gid);
void hd_op_set_numvfs(struct hd_op *op, unsigned int numvfs);
/* The mediated device of HD_OP_MDEV_CREATE (@parent: a PCI address in any form hostdev reads,
 * kept in full as sys/class/mdev_bus names it, or a virtual parent's name such as "mtty";
 * @type: "mtty-2", @uuid: NULL for a new random one) or of
 * HD_OP_MDEV_REMOVE (@uuid alone; @parent and @type NULL). -EINVAL for a malformed one. */
int hd_op_set_mdev(struct hd_op *op, const char *parent, const char *type, const char *uuid);
/* Its UUID (made up when none was given), "" before hd_op_set_mdev(). */
const char *hd_op_get_mdev_uuid(const struct hd_op *op);
/* Check, then apply (or, dry, only plan). 0 or -errno with the context's error and reason. */
int hd_op_run(struct hd_op *op);
/* The steps, in order: action "detach", "reattach", "reset", "own", "numvfs", "record",
 * "unrecord", "override", "keep" (nothing to do), "already" (acquire: the VM holds it as
 * asked; release: no VM holds it), "pending" (bound when the stub loads),
 * "stay" (release: a reservation keeps the device on its stub; from: the entry's file:line),
 * "mdev-create", "mdev-remove" (device the UUID, from its parent, to its type: also a forced
 * parent's mediated devices, which go with its driver); device an address or a node path;
 * from/to what it was and becomes ("" where it does not apply). */
/* The kind @op was made with (hd_op_new()): what its steps are of, for a caller that says
 * them (an "already" step of a create, a remove, an acquire or a release). */
enum hd_op_kind hd_op_get_kind(const struct hd_op *op);
size_t hd_op_get_step_count(const struct hd_op *op);
const char *hd_op_step_get_action(const struct hd_op *op, size_t i);
const char *hd_op_step_get_device(const struct hd_op *op, size_t i);
const char *hd_op_step_get_from(const struct hd_op *op, size_t i);
const char *hd_op_step_get_to(const struct hd_op *op, size_t i);
enum hd_op_step_state hd_op_step_get_state(const struct hd_op *op, size_t i);
/* Whether step @i is a detach of a device with no IOMMU group to vfio in its unsafe no-IOMMU
 * mode (HD_OP_NOIOMMU); *@group (unless NULL) the group it got, dev/vfio/noiommu-N (-1 in a
 * plan). */
bool hd_op_step_get_noiommu(const struct hd_op *op, size_t i, int *group);
/* HD_OP_NUMVFS: the count before (-1 until run). */
int hd_op_get_previous_numvfs(const struct hd_op *op);
/* HD_OP_NUMVFS: the PF's sriov_drivers_autoprobe before (-1 until run, or when it has none). A
 * change of the count that found it 1 turned it to 0 for good (a dry run: would). */
int hd_op_get_previous_autoprobe(const struct hd_op *op);
/* HD_OP_NUMVFS making VFs: the driver they come up on, NULL when unbound (autoprobe 0). A PF on
 * a vfio-pci family driver has the kernel give each VF it makes that driver as driver_override
 * (vfio_pci_bus_notifier), so they bind to it, whatever autoprobe says. */
const char *hd_op_get_vf_driver(const struct hd_op *op);
/* HD_OP_NUMVFS lowering a count: the reservations (hd_reserve_config_load()'s entries, read
 * under the operation's locks) of VFs it removes that no VF count the boot sets makes either,
 * so that they do nothing for them from then on (hd_reserve_config_get_unmade_vfs(); address
 * entries, and ids entries that select such VFs). Valid until the
 * operation's next run or unref. */
size_t hd_op_get_unmade_count(const struct hd_op *op);
const struct hd_reserve_entry *hd_op_unmade_get_entry(const struct hd_op *op, size_t i);
/* HD_OP_NUMVFS: the reservation (as hd_op_get_unmade_count()'s) whose VF count the boot sets
 * the PF to, when that is not the count this operation sets: the count set now lasts only
 * until the next boot. NULL when none does, or the boot refuses it. Valid as those are. */
const struct hd_reserve_entry *hd_op_get_boot_numvfs_entry(const struct hd_op *op);
/* After a detach (or hd_reserve_persist_apply()'s reservation): the IOMMU groups it left not
 * viable, each once: a member is still on a host driver, so a VM can use none of the group's
 * devices yet; after a dry run, those its plan would leave so (the members it would detach do
 * not count as in the way). With each, the first of the operation's devices in it;
 * hd_group_get_blocker() names the members in the way. The group belongs to the operation
 * (valid until its next run or unref). */
size_t hd_op_get_unviable_count(const struct hd_op *op);
const char *hd_op_unviable_get_device(const struct hd_op *op, size_t i);
struct hd_group *hd_op_unviable_get_group(const struct hd_op *op, size_t i);
/* After a reattach or a release (a dry run: its plan): notes on what it leaves, each naming one
 * of its devices, with a one-line message that says it. So far one kind: a device it gives back
 * to a host driver that a reservation still names (a file of HD_RESERVE_DIR or the kernel
 * command line's hostdev.reserve=, read once after the run, as the boot reads them;
 * hd_op_note_get_reservation(), the entry that wins, and the message name which), so that the
 * next boot, or the device's next add event (hd_reserve_config_apply_event()), puts it back
 * on its stub. Valid until the operation's next run or unref. */
size_t hd_op_get_note_count(const struct hd_op *op);
const char *hd_op_note_get_device(const struct hd_op *op, size_t i);
const char *hd_op_note_get_message(const struct hd_op *op, size_t i);
const struct hd_reserve_entry *hd_op_note_get_reservation(const struct hd_op *op, size_t i);

/* ------------------------------------------------------------------------------------------ */
/* Doctor: plain-language diagnosis, each finding with its fix                                */

/* Diagnose @addr (its device and IOMMU group) or, when NULL, every device that is detached or
 * assigned; the IOMMU is always checked (its findings as hd_iommu_probe() gives them). Codes:
 * the IOMMU probe's ("no-dmar-table") or "group-not-viable", "vfio-permission",
 * "vfio-node-missing", "not-detached", "not-assignable" (@addr is a bridge or a function the
 * host keeps), "bar-unassigned", "stale-record", "stale-override", "map-mismatch" (also for a
 * device the map gives a VM that is gone), "boot-framebuffer", "interrupted-operation" (an
 * intent log whose process died: HD_REMEDY_RECOVER), "operation-running" (one whose process,
 * or a write it started, is still in the kernel); a device either names has neither
 * "stale-record" nor "stale-override": its record and override are the operation's. Worst
 * first; *findings is the caller's (hd_findings_unref()). -ENODEV when @addr is neither there
 * nor in the map. */
int hd_doctor_run(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                  struct hd_findings **findings);
/* Diagnose the mediated device @uuid (its UUID, or libvirt's mdev_<uuid> name) as
 * hd_doctor_run() does a PCI device: the IOMMU, a vendor driver that took it
 * ("mdev-no-driver"), its IOMMU group ("mdev-no-group"), /dev/vfio/N and who may open it
 * ("vfio-node-missing", "vfio-permission"), the map's record of it ("map-mismatch": gone, or
 * under another parent). hd_doctor_run() without an address checks every assigned mediated
 * device so. -EINVAL (HD_REASON_INVALID) when @uuid is not a UUID; -ENOENT
 * (HD_REASON_NO_DEVICE) when it is neither there nor recorded. */
int hd_doctor_run_mdev(struct hd_ctx *ctx, const char *uuid, struct hd_findings **findings);
/* Diagnose the USB or SCSI device @sel (usb_BUS_PORT, usb:VVVV:PPPP[:SERIAL], scsi_H_B_T_L)
 * as hd_doctor_run() without an address does each the map gives a VM: the IOMMU, and when the
 * map gives it, that it is still in its place ("map-mismatch"), its node the recorded one
 * ("node-moved") and the VM's user's ("node-permission"); when the map does not, what keeps
 * it from a VM now, as hd_node_device_check_assign() says it: no node a VM could open
 * ("node-missing"), a device the host keeps ("not-assignable": a hub, its keyboard) or uses
 * ("host-use": storage or an interface below it). -EINVAL (HD_REASON_INVALID) when @sel names
 * no such device; -ENODEV (HD_REASON_NO_DEVICE) when it is neither there nor recorded. */
int hd_doctor_run_node(struct hd_ctx *ctx, const char *sel, struct hd_findings **findings);
/* Add what VFIO needs of the process that will run the VM: it pins all guest RAM, so the
 * process's RLIMIT_MEMLOCK (ROOT/proc/PID/limits) must cover @vm_bytes plus 1 GiB (libvirt's
 * margin) unless it has CAP_IPC_LOCK. @pid 0: this process (its limit is what a shell it runs
 * in passes on); @unit (or NULL): the first process of that running systemd unit (its
 * cgroup's cgroup.procs). A finding "memlock-too-low" (error) or "memlock-ok" (info), or, when
 * @pid is 0 and no @unit is given and the root has no proc/self/limits (a tree that is not
 * this host's), "memlock-unchecked" (info: nothing was asked wrongly, the check is not done);
 * findings stay worst first. -ENOENT (and a message) when the process or unit named is not
 * there. */
int hd_doctor_check_memlock(struct hd_ctx *ctx, struct hd_findings *findings, pid_t pid,
                            const char *unit, uint64_t vm_bytes);

#ifdef __cplusplus
}
#endif

#endif
