/* connect.c - virConnect: a libhostdev context on the root the URI or HOSTDEV_ROOT names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virt.h"

/* The root a URI names: "hostdev:///srv/tree" a tree; "hostdev:///", libvirt's local
 * hypervisor URIs (qemu:///system, qemu:///session) and none at all the host, or
 * $HOSTDEV_ROOT when it is set. Anything else is refused (-EINVAL) rather than read as the
 * host: "hostdev://tmp/x" (a host name, "tmp") or qemu+ssh://remote/system must not act here. */
static int root_from_uri(const char *name, const char **root)
{
    static const char scheme[] = "hostdev://";
    static const char *const local[] = {"qemu:///system", "qemu:///session"};

    *root = getenv("HOSTDEV_ROOT");
    if (name == NULL || name[0] == '\0')
        name = getenv("LIBVIRT_DEFAULT_URI");
    if (name == NULL || name[0] == '\0')
        return 0;
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        if (strcmp(name, local[i]) == 0)
            return 0;
    }
    if (strncmp(name, scheme, sizeof(scheme) - 1) != 0)
        return -EINVAL;
    name += sizeof(scheme) - 1;
    /* An empty authority, an absolute path, no query or fragment. */
    if (name[0] != '/' || strpbrk(name, "?#") != NULL)
        return -EINVAL;
    if (name[1] != '\0')
        *root = name;
    return 0;
}

VIR_EXPORT int virInitialize(void)
{
    return 0;
}

VIR_EXPORT int virGetVersion(unsigned long *libVer, const char *type, unsigned long *typeVer)
{
    virt_reset();
    if (libVer != NULL)
        *libVer = LIBVIR_VERSION_NUMBER;
    if (typeVer != NULL)
        *typeVer = type == NULL ? 0 : LIBVIR_VERSION_NUMBER;
    return 0;
}

static virConnectPtr open_conn(const char *name, bool readonly)
{
    const char *root;
    virConnectPtr conn;
    int r;

    virt_reset();
    if (root_from_uri(name, &root) < 0) {
        virt_error(VIR_ERR_INVALID_ARG, "URI '%s' is not supported: hostdev:///PATH names a root "
                   "directory (hostdev:/// and qemu:///system the local host); there is no host "
                   "part and no other scheme", name ? name : getenv("LIBVIRT_DEFAULT_URI"));
        return NULL;
    }
    conn = calloc(1, sizeof(*conn));
    if (conn == NULL) {
        virt_lib_error(VIR_ERR_NO_MEMORY, -ENOMEM);
        return NULL;
    }
    r = hd_ctx_new(root, &conn->ctx);
    if (r < 0) {
        virt_error(VIR_ERR_NO_CONNECT, "%s: root '%s': %s", name ? name : "hostdev:///",
                   root ? root : "/", strerror(-r));
        free(conn);
        return NULL;
    }
    /* As the hostdev tool: a pci.ids file instead of the host's names database. */
    if (getenv("HOSTDEV_NAMES") != NULL)
        hd_ctx_set_names_file(conn->ctx, getenv("HOSTDEV_NAMES"));
    pthread_mutex_init(&conn->lock, NULL);
    atomic_init(&conn->refs, 1);
    conn->readonly = readonly;
    return conn;
}

void virt_lock(virConnectPtr conn)
{
    pthread_mutex_lock(&conn->lock);
    hd_ctx_clear_error(conn->ctx);
}

int virt_unlock(virConnectPtr conn, int r)
{
    if (r < 0)
        virt_keep_lib_error(conn->ctx);
    pthread_mutex_unlock(&conn->lock);
    return r;
}

VIR_EXPORT virConnectPtr virConnectOpen(const char *name)
{
    return open_conn(name, false);
}

/* Lookups and XML work; detach, reattach and reset fail with VIR_ERR_OPERATION_DENIED, as in
 * libvirt. */
VIR_EXPORT virConnectPtr virConnectOpenReadOnly(const char *name)
{
    return open_conn(name, true);
}

bool virt_conn_valid(virConnectPtr conn, const char *fn)
{
    if (conn != NULL)
        return true;
    virt_error(VIR_ERR_INVALID_CONN, "%s", fn);
    return false;
}

bool virt_arg_given(const void *arg, const char *name, const char *fn)
{
    if (arg != NULL)
        return true;
    virt_error(VIR_ERR_INVALID_ARG, "%s in %s must not be NULL", name, fn);
    return false;
}

VIR_EXPORT int virConnectRef(virConnectPtr conn)
{
    virt_reset();
    if (!virt_conn_valid(conn, __func__))
        return -1;
    atomic_fetch_add_explicit(&conn->refs, 1, memory_order_relaxed);
    return 0;
}

VIR_EXPORT int virConnectClose(virConnectPtr conn)
{
    int left;

    virt_reset();
    if (!virt_conn_valid(conn, __func__))
        return -1;
    /* acq_rel: every other thread's use of it happens before the free */
    left = atomic_fetch_sub_explicit(&conn->refs, 1, memory_order_acq_rel) - 1;
    if (left > 0)
        return left;
    pthread_mutex_destroy(&conn->lock);
    hd_ctx_unref(conn->ctx);
    free(conn);
    return 0;
}

/* A capability name as virNodeNumOfDevices takes it, as a libhostdev filter (0: all). */
static int cap_filter(const char *cap, unsigned int *caps)
{
    int c;

    *caps = 0;
    if (cap == NULL)
        return 0;
    c = hd_nodedev_cap_from_string(cap);
    if (c < 0)
        return -1;
    *caps = 1u << c;
    return 0;
}

static struct hd_nodedev_list *collect(virConnectPtr conn, const char *fn, unsigned int caps)
{
    struct hd_nodedev_list *list;
    int r;

    if (!virt_conn_valid(conn, fn))
        return NULL;
    virt_lock(conn);
    r = virt_unlock(conn, hd_nodedev_list_new(conn->ctx, caps, &list));
    /* The list and its node devices are this thread's: reading them takes no lock. */
    if (r < 0) {
        virt_lib_error(VIR_ERR_INTERNAL_ERROR, r);
        return NULL;
    }
    return list;
}

VIR_EXPORT int virNodeNumOfDevices(virConnectPtr conn, const char *cap, unsigned int flags)
{
    struct hd_nodedev_list *list;
    unsigned int caps;
    int n;

    virt_reset();
    if (flags != 0) {
        virt_error(VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s", flags, __func__);
        return -1;
    }
    if (cap_filter(cap, &caps) < 0)
        return 0; /* libvirt counts no device for an unknown capability */
    if ((list = collect(conn, __func__, caps)) == NULL)
        return -1;
    n = (int)hd_nodedev_list_count(list);
    hd_nodedev_list_unref(list);
    return n;
}

VIR_EXPORT int virNodeListDevices(virConnectPtr conn, const char *cap, char **const names,
                                  int maxnames, unsigned int flags)
{
    struct hd_nodedev_list *list;
    unsigned int caps;
    int n = 0;

    virt_reset();
    if (flags != 0 || maxnames < 0 || (names == NULL && maxnames > 0)) {
        virt_error(VIR_ERR_INVALID_ARG,
                   flags ? "unsupported flags in function %s" : "maxnames or names invalid in %s",
                   __func__);
        return -1;
    }
    if (cap_filter(cap, &caps) < 0)
        return 0;
    if ((list = collect(conn, __func__, caps)) == NULL)
        return -1;
    for (size_t i = 0; i < hd_nodedev_list_count(list) && n < maxnames; i++) {
        names[n] = strdup(hd_nodedev_get_name(hd_nodedev_list_get(list, i)));
        if (names[n] == NULL) {
            while (n > 0)
                free(names[--n]);
            hd_nodedev_list_unref(list);
            virt_lib_error(VIR_ERR_NO_MEMORY, -ENOMEM);
            return -1;
        }
        n++;
    }
    hd_nodedev_list_unref(list);
    return n;
}

VIR_EXPORT int virConnectListAllNodeDevices(virConnectPtr conn, virNodeDevicePtr **devices,
                                            unsigned int flags)
{
    const unsigned int known = (1u << HD_CAP_LAST) - 1;
    const unsigned int state =
        VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE | VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE;
    struct hd_nodedev_list *list;
    virNodeDevicePtr *out = NULL;
    size_t n;

    virt_reset();
    if (devices != NULL)
        *devices = NULL;
    /* Capability bits hostdev does not know of select nothing it has; every device here is
     * active (it exists in sysfs), so INACTIVE alone selects nothing. */
    if ((flags & ~state) != 0 && (flags & ~state & known) == 0)
        return devices && (*devices = calloc(1, sizeof(**devices))) == NULL ? -1 : 0;
    if ((flags & state) == VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE)
        return devices && (*devices = calloc(1, sizeof(**devices))) == NULL ? -1 : 0;
    if ((list = collect(conn, __func__, flags & known)) == NULL)
        return -1;
    n = hd_nodedev_list_count(list);
    if (devices != NULL) {
        out = calloc(n + 1, sizeof(*out));
        for (size_t i = 0; out != NULL && i < n; i++) {
            out[i] = virt_nodedev_new(conn, hd_nodedev_list_get(list, i));
            if (out[i] == NULL) {
                while (i > 0)
                    virNodeDeviceFree(out[--i]);
                free(out);
                out = NULL;
            }
        }
        if (out == NULL) {
            hd_nodedev_list_unref(list);
            virt_lib_error(VIR_ERR_NO_MEMORY, -ENOMEM);
            return -1;
        }
        *devices = out;
    }
    hd_nodedev_list_unref(list);
    return (int)n;
}
