/* virt.h - libhostdev-virt's private declarations: the objects behind the libvirt types. */
#ifndef HOSTDEV_VIRT_H
#define HOSTDEV_VIRT_H

#include <pthread.h>
#include <stdatomic.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <hostdev/hostdev.h>

#define VIR_EXPORT __attribute__((visibility("default")))

/* Threads share connections and node devices (libvirt.h says what is safe): references are
 * atomic, and every libhostdev call on the context, or on a node device made from it, holds
 * the connection's lock, because a libhostdev context is one thread's at a time (its last
 * error, names cache and string table). */
struct _virConnect {
    atomic_int refs;
    bool readonly; /* virConnectOpenReadOnly: every write is refused */
    pthread_mutex_t lock;
    struct hd_ctx *ctx;
};

struct _virNodeDevice {
    atomic_int refs;
    virConnectPtr conn; /* a reference */
    struct hd_nodedev *nd;
};

/* connect.c: take the connection's lock for libhostdev calls; the context's error is cleared. */
void virt_lock(virConnectPtr conn);
/* Let it go. A failure (@r < 0) first keeps the context's message and reason for this thread
 * (virt_lib_error, virt_lib_reason): once unlocked, another thread's call may replace them.
 * Returns @r. */
int virt_unlock(virConnectPtr conn, int r);

/* error.c: set the thread's last error. @fmt is the detail; the message is formed as
 * libvirt forms it for @code ("Node device not found: %s"). */
void virt_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Under the connection's lock: keep @ctx's last message and reason for this thread. */
void virt_keep_lib_error(struct hd_ctx *ctx);
/* A libhostdev call failed with @err: the message virt_unlock kept becomes the error. */
void virt_lib_error(int code, int err);
/* The reason libhostdev gave for that failure. */
enum hd_reason virt_lib_reason(void);
/* Every public call starts here, as in libvirt. */
void virt_reset(void);

/* nodedev.c: wrap a libhostdev node device (takes a reference). */
virNodeDevicePtr virt_nodedev_new(virConnectPtr conn, struct hd_nodedev *nd);
/* A lookup's answer: @nd wrapped, the lookup's reference to it dropped; NULL with
 * VIR_ERR_NO_MEMORY set when out of memory. */
virNodeDevicePtr virt_nodedev_found(virConnectPtr conn, struct hd_nodedev *nd);
/* A device handle still referenced; else VIR_ERR_INVALID_NODE_DEVICE naming @fn, false. */
bool virt_nodedev_valid(virNodeDevicePtr dev, const char *fn);
/* libvirt's checks at the top of a call @fn: a connection (VIR_ERR_INVALID_CONN), and an
 * argument @name that may not be NULL (VIR_ERR_INVALID_ARG); false (error set) when not. */
bool virt_conn_valid(virConnectPtr conn, const char *fn);
bool virt_arg_given(const void *arg, const char *name, const char *fn);

#endif
