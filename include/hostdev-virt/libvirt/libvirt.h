/* libvirt.h - hostdev's libvirt API subset: node devices, with libvirt's names and rules. */
#ifndef HOSTDEV_VIRT_LIBVIRT_H
#define HOSTDEV_VIRT_LIBVIRT_H

/*
 * Programs written for libvirt's node-device API build against this header unchanged
 * (`pkg-config --cflags --libs hostdev-virt`, or `libvirt` through the libvirt.pc hostdev
 * installs in its own pkgconfig directory) and run without libvirtd: every call acts on the
 * kernel directly through libhostdev.
 *
 * Semantics follow libvirt: functions return -1 (or NULL) on failure and leave the reason in
 * the thread's last error (virGetLastError()); every call clears it first. Names, parents and
 * XML are libvirt's own.
 *
 * The root of the kernel tree comes from the URI ("hostdev:///path/to/root") or, for any
 * other URI or NULL, from $HOSTDEV_ROOT, else "/".
 *
 * Threads, as in libvirt: a connection and the node devices got from it may be shared by any
 * number of threads, and every call may be made from any thread at once. References
 * (virConnectRef/virConnectClose, virNodeDeviceRef/virNodeDeviceFree) are atomic; the calls
 * that read the kernel tree on one connection take turns (a lock per connection: open one
 * connection per thread for reads in parallel). The last error is per thread (virterror.h).
 * The strings a node device returns (name, parent) live as long as the device does. The
 * error handler (virSetErrorFunc) is process-wide and is called in the thread that failed.
 */

#ifdef __cplusplus
extern "C" {
#endif

#define LIBVIR_VERSION_NUMBER 9000000 /* the libvirt API level this subset follows */

typedef struct _virConnect virConnect;
typedef virConnect *virConnectPtr;

typedef struct _virNodeDevice virNodeDevice;
typedef virNodeDevice *virNodeDevicePtr;

/* Declared for virterror.h's virError; hostdev never hands them out. */
typedef struct _virDomain virDomain;
typedef virDomain *virDomainPtr;
typedef struct _virNetwork virNetwork;
typedef virNetwork *virNetworkPtr;

/* Library: nothing to set up (0); the version is the libvirt API level followed. */
int virInitialize(void);
int virGetVersion(unsigned long *libVer, const char *type, unsigned long *typeVer);

/* Connections */
virConnectPtr virConnectOpen(const char *name);
/* Lookups and XML only: detach, reattach and reset fail with VIR_ERR_OPERATION_DENIED. */
virConnectPtr virConnectOpenReadOnly(const char *name);
/* Returns the references left (0 when closed) or -1. */
int virConnectClose(virConnectPtr conn);
int virConnectRef(virConnectPtr conn);

/* Listing node devices */
typedef enum {
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM = 1 << 0,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV = 1 << 1,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV = 1 << 2,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_INTERFACE = 1 << 3,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET = 1 << 4,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_HOST = 1 << 5,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_TARGET = 1 << 6,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI = 1 << 7,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_STORAGE = 1 << 8,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_FC_HOST = 1 << 9,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_VPORTS = 1 << 10,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_GENERIC = 1 << 11,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_DRM = 1 << 12,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV_TYPES = 1 << 13,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV = 1 << 14,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_CCW_DEV = 1 << 15,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_CSS_DEV = 1 << 16,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_VDPA = 1 << 17,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_AP_CARD = 1 << 18,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_AP_QUEUE = 1 << 19,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_AP_MATRIX = 1 << 20,
    VIR_CONNECT_LIST_NODE_DEVICES_CAP_VPD = 1 << 21,
    VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE = 1 << 30,
    VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE = 1U << 31,
} virConnectListAllNodeDeviceFlags;

/* *devices (when not NULL) gets a NULL-terminated array the caller frees, each element with
 * virNodeDeviceFree. Returns the count or -1. */
int virConnectListAllNodeDevices(virConnectPtr conn, virNodeDevicePtr **devices,
                                 unsigned int flags);
/* @cap: a capability name ("pci") or NULL for all. */
int virNodeNumOfDevices(virConnectPtr conn, const char *cap, unsigned int flags);
/* Up to @maxnames allocated names (free() each); returns how many or -1. */
int virNodeListDevices(virConnectPtr conn, const char *cap, char **const names, int maxnames,
                       unsigned int flags);

/* Node devices */
virNodeDevicePtr virNodeDeviceLookupByName(virConnectPtr conn, const char *name);
const char *virNodeDeviceGetName(virNodeDevicePtr dev);
const char *virNodeDeviceGetParent(virNodeDevicePtr dev);
/* Allocated; free() it. */
char *virNodeDeviceGetXMLDesc(virNodeDevicePtr dev, unsigned int flags);
int virNodeDeviceNumOfCaps(virNodeDevicePtr dev);
int virNodeDeviceListCaps(virNodeDevicePtr dev, char **const names, int maxnames);
int virNodeDeviceRef(virNodeDevicePtr dev);
int virNodeDeviceFree(virNodeDevicePtr dev);

/* PCI passthrough: detach from the host driver (to vfio-pci), give back, reset. Detach and
 * reset run libhostdev's host-use check first (hd_device_check_host_use: a disk mounted, a
 * NIC carrying the host's addresses or routes, the console) and refuse with
 * VIR_ERR_OPERATION_INVALID and its reasons. */
int virNodeDeviceDettach(virNodeDevicePtr dev); /* sic: libvirt's historic spelling */
/* @driverName: NULL or "vfio" (vfio-pci), "stub" (pci-stub). */
int virNodeDeviceDetachFlags(virNodeDevicePtr dev, const char *driverName, unsigned int flags);
int virNodeDeviceReAttach(virNodeDevicePtr dev);
/* Resets through the kernel, which picks the method (flr, pm, bus...); -1 when none works,
 * the answer the libvirt manual's passthrough check looks for ("co-assign"). Unlike libvirt,
 * which skips devices bound to vfio-pci and reports success, the reset is done for them too,
 * so the check means the same whichever driver the device is on; and a device its host
 * driver is using is refused (VIR_ERR_OPERATION_INVALID): detach it first. */
int virNodeDeviceReset(virNodeDevicePtr dev);
/* Mediated devices only: <device><parent>NAME</parent><capability type='mdev'><type id='...'/>
 * [<uuid>...</uuid>]</capability></device>. */
virNodeDevicePtr virNodeDeviceCreateXML(virConnectPtr conn, const char *xmlDesc,
                                        unsigned int flags);
int virNodeDeviceDestroy(virNodeDevicePtr dev);

#ifdef __cplusplus
}
#endif

#include <libvirt/virterror.h>

#endif
