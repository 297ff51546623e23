/* virt.h - libhostdev-virt's private declarations: the objects behind the libvirt types. */
#ifndef HOSTDEV_VIRT_H
#define HOSTDEV_VIRT_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <hostdev/hostdev.h>

#define VIR_EXPORT __attribute__((visibility("default")))

struct _virConnect {
    int refs;
    bool readonly; /* virConnectOpenReadOnly: every write is refused */
    struct hd_ctx *ctx;
};

struct _virNodeDevice {
    int refs;
    virConnectPtr conn; /* a reference */
    struct hd_nodedev *nd;
};

/* error.c: set the thread's last error. @fmt is the detail; the message is formed as
 * libvirt forms it for @code ("Node device not found: %s"). */
void virt_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A libhostdev call failed with @err: its context message becomes the error. */
void virt_lib_error(struct hd_ctx *ctx, int code, int err);
/* Every public call starts here, as in libvirt. */
void virt_reset(void);

/* nodedev.c: wrap a libhostdev node device (takes a reference). */
virNodeDevicePtr virt_nodedev_new(virConnectPtr conn, struct hd_nodedev *nd);

#endif
