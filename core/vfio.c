/* vfio.c - proves through the VFIO API that a VM can use a device, or says why not. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "internal.h"

/* Layouts of the vfio cdev and iommufd uAPI (Linux 6.6); the request numbers are in internal.h. */
struct hd_vfio_bind_iommufd {
    uint32_t argsz;
    uint32_t flags;
    int32_t iommufd;
    uint32_t out_devid;
};
struct hd_vfio_attach_iommufd_pt {
    uint32_t argsz;
    uint32_t flags;
    uint32_t pt_id;
};
struct hd_iommu_ioas_alloc {
    uint32_t size;
    uint32_t flags;
    uint32_t out_ioas_id;
};
_Static_assert(HD_VFIO_DEVICE_BIND_IOMMUFD == _IO(VFIO_TYPE, VFIO_BASE + 18), "uAPI number");
_Static_assert(HD_VFIO_DEVICE_ATTACH_IOMMUFD_PT == _IO(VFIO_TYPE, VFIO_BASE + 19), "uAPI number");
_Static_assert(HD_IOMMU_IOAS_ALLOC == _IO(';', 0x81), "uAPI number");

#define MAX_STEPS    24
#define MAX_BLOCKERS 32

struct step {
    char *name;
    enum hd_vfio_step_status status;
    int err;
    char *detail;
};

struct blocker {
    char name[HD_PCI_ADDR_BUFSZ];
    char driver[256];
};

struct hd_vfio_report {
    int refcount;
    char name[40]; /* a PCI address, or a mediated device's UUID */
    int group;
    char *driver;
    const char *iommu_type;
    struct hd_findings *findings; /* the first failure, once found */
    char *explanation;            /* it in one line: "MESSAGE. Fix: FIX." (the context's error) */
    char fix[1024];               /* fixf()'s */
    char *cdev;
    struct step steps[MAX_STEPS];
    size_t nsteps;
    struct blocker blockers[MAX_BLOCKERS];
    size_t nblockers;
    char *blocker_use; /* what the host uses of a blocker, as detach would refuse it; or NULL */
    bool have_info;
    struct vfio_device_info info;
    bool usable;
};

/* ---- the real system calls ------------------------------------------------------------------ */

static int real_open(void *data, struct hd_ctx *ctx, const char *path, int flags)
{
    (void)data;
    return hd_fs_open(ctx, path, flags, 0);
}

static int real_ioctl(void *data, int fd, unsigned long request, void *arg)
{
    int r;

    (void)data;
    r = ioctl(fd, request, arg);
    return r < 0 ? -errno : r;
}

static int real_ioctl_val(void *data, int fd, unsigned long request, unsigned long arg)
{
    int r;

    (void)data;
    r = ioctl(fd, request, arg);
    return r < 0 ? -errno : r;
}

static void real_close(void *data, int fd)
{
    (void)data;
    close(fd);
}

static bool real_nodev(void *data, struct hd_ctx *ctx, const char *path)
{
    (void)data;
    return hd_fs_on_nodev(ctx, path);
}

static const struct hd_vfio_ops real_ops = {
    .open = real_open,
    .ioctl = real_ioctl,
    .ioctl_val = real_ioctl_val,
    .close = real_close,
    .nodev = real_nodev,
};

/* ---- the report ------------------------------------------------------------------------------ */

static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;

    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

/* Record a step; @detail may be NULL. Returns the step's index (or -1 when full/no memory). */
static int add_step(struct hd_vfio_report *r, const char *name, enum hd_vfio_step_status status,
                    int err, const char *fmt, ...) HD_PRINTF(5, 6);
static int add_step(struct hd_vfio_report *r, const char *name, enum hd_vfio_step_status status,
                    int err, const char *fmt, ...)
{
    struct step *s;
    va_list ap;

    if (r->nsteps >= MAX_STEPS)
        return -1;
    s = &r->steps[r->nsteps];
    s->name = strdup(name);
    if (s->name == NULL)
        return -1;
    s->status = status;
    s->err = err;
    s->detail = NULL;
    if (fmt != NULL) {
        va_start(ap, fmt);
        s->detail = vformat(fmt, ap);
        va_end(ap);
    }
    return (int)r->nsteps++;
}

/* A fix with the report's names in it; valid until the next fixf(). */
static const char *fixf(struct hd_vfio_report *r, const char *fmt, ...) HD_PRINTF(2, 3);
static const char *fixf(struct hd_vfio_report *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->fix, sizeof(r->fix), fmt, ap);
    va_end(ap);
    return r->fix;
}

/* What a failed step without a better explanation can be fixed with. */
#define SEE_KERNEL_LOG "the kernel log (dmesg) says why"

/* The first failure decides the outcome: record it as the report's one finding (an error
 * about the device, @code stable for scripts), explain it, return @err. */
static int explain(struct hd_vfio_report *r, int err, const char *code, const char *fix,
                   const char *fmt, ...) HD_PRINTF(5, 6);
static int explain(struct hd_vfio_report *r, int err, const char *code, const char *fix,
                   const char *fmt, ...)
{
    char *message;
    va_list ap;

    if (r->explanation != NULL || hd_findings_count(r->findings) > 0)
        return err;
    va_start(ap, fmt);
    message = vformat(fmt, ap);
    va_end(ap);
    if (message != NULL &&
        hd_findings_add(r->findings, HD_SEVERITY_ERROR, code, r->name, fix, "%s", message) == 0 &&
        asprintf(&r->explanation, "%s. Fix: %s.", message, fix) < 0)
        r->explanation = NULL;
    /* What the fix asks done with the device: a program spells it as its own command. */
    if (strcmp(code, "group-not-viable") == 0)
        hd_findings_set_remedy(r->findings, HD_REMEDY_DETACH_GROUP);
    else if (strcmp(code, "not-detached") == 0 || strcmp(code, "vfio-node-missing") == 0)
        hd_findings_set_remedy(r->findings, HD_REMEDY_DETACH);
    free(message);
    return err;
}

HD_EXPORT struct hd_vfio_report *hd_vfio_report_ref(struct hd_vfio_report *r)
{
    if (r != NULL)
        r->refcount++;
    return r;
}

HD_EXPORT struct hd_vfio_report *hd_vfio_report_unref(struct hd_vfio_report *r)
{
    if (r == NULL || --r->refcount > 0)
        return r;
    for (size_t i = 0; i < r->nsteps; i++) {
        free(r->steps[i].name);
        free(r->steps[i].detail);
    }
    free(r->driver);
    free(r->blocker_use);
    free(r->explanation);
    hd_findings_unref(r->findings);
    free(r->cdev);
    free(r);
    return NULL;
}

HD_EXPORT bool hd_vfio_report_is_usable(const struct hd_vfio_report *r)
{
    return r->usable;
}

HD_EXPORT const char *hd_vfio_report_get_name(const struct hd_vfio_report *r)
{
    return r->name;
}

HD_EXPORT int hd_vfio_report_get_group(const struct hd_vfio_report *r)
{
    return r->group;
}

HD_EXPORT const char *hd_vfio_report_get_driver(const struct hd_vfio_report *r)
{
    return r->driver;
}

HD_EXPORT const char *hd_vfio_report_get_iommu_type(const struct hd_vfio_report *r)
{
    return r->iommu_type;
}

HD_EXPORT struct hd_findings *hd_vfio_report_get_findings(const struct hd_vfio_report *r)
{
    return r->findings;
}

HD_EXPORT size_t hd_vfio_report_get_step_count(const struct hd_vfio_report *r)
{
    return r->nsteps;
}

HD_EXPORT const char *hd_vfio_report_get_step_name(const struct hd_vfio_report *r, size_t i)
{
    return i < r->nsteps ? r->steps[i].name : NULL;
}

HD_EXPORT enum hd_vfio_step_status hd_vfio_report_get_step_status(const struct hd_vfio_report *r,
                                                              size_t i)
{
    return i < r->nsteps ? r->steps[i].status : HD_VFIO_STEP_SKIPPED;
}

HD_EXPORT int hd_vfio_report_get_step_error(const struct hd_vfio_report *r, size_t i)
{
    return i < r->nsteps ? r->steps[i].err : 0;
}

HD_EXPORT const char *hd_vfio_report_get_step_detail(const struct hd_vfio_report *r, size_t i)
{
    return i < r->nsteps ? r->steps[i].detail : NULL;
}

HD_EXPORT size_t hd_vfio_report_get_blocker_count(const struct hd_vfio_report *r)
{
    return r->nblockers;
}

HD_EXPORT const char *hd_vfio_report_get_blocker_name(const struct hd_vfio_report *r, size_t i)
{
    return i < r->nblockers ? r->blockers[i].name : NULL;
}

HD_EXPORT const char *hd_vfio_report_get_blocker_driver(const struct hd_vfio_report *r, size_t i)
{
    return i < r->nblockers ? r->blockers[i].driver : NULL;
}

HD_EXPORT int hd_vfio_report_get_device_info(const struct hd_vfio_report *r, uint32_t *flags,
                                             uint32_t *num_regions, uint32_t *num_irqs)
{
    if (!r->have_info)
        return -ENODATA;
    if (flags != NULL)
        *flags = r->info.flags;
    if (num_regions != NULL)
        *num_regions = r->info.num_regions;
    if (num_irqs != NULL)
        *num_irqs = r->info.num_irqs;
    return 0;
}

HD_EXPORT const char *hd_vfio_report_get_cdev(const struct hd_vfio_report *r)
{
    return r->cdev;
}

/* ---- what sysfs says (through the device and group snapshots) ------------------------------ */


/* Members of the group on a driver that does DMA for the host (group.c's viability rule). */
static void find_blockers(struct hd_ctx *ctx, struct hd_vfio_report *r)
{
    struct hd_group *g = NULL;

    struct hd_host_use *hu = NULL;

    r->nblockers = 0;
    if (hd_group_open(ctx, r->group, &g) < 0)
        return;
    for (size_t i = 0; i < hd_group_get_blocker_count(g) && r->nblockers < MAX_BLOCKERS; i++) {
        struct hd_device *m = hd_group_get_blocker(g, i);
        struct blocker *b = &r->blockers[r->nblockers++];

        hd_strlcpy(b->name, hd_device_get_name(m), sizeof(b->name));
        hd_strlcpy(b->driver, hd_device_get_driver_or(m, "none"), sizeof(b->driver));
        /* A blocker the host uses is not one to detach with the group: say what it is used
         * for (a host that cannot be read leaves the usual advice). */
        if (r->blocker_use == NULL && hd_host_use_find(m, &hu, &r->blocker_use) < 0)
            hd_ctx_clear_error(ctx);
    }
    hd_host_use_unref(hu);
    hd_group_unref(g);
}

/* "owner uid 0 gid 0, mode 0600" of a node, for permission explanations. */
static void describe_node(struct hd_ctx *ctx, const char *path, char *buf, size_t size)
{
    struct stat st;

    if (hd_fs_stat(ctx, path, &st) < 0)
        snprintf(buf, size, "cannot stat it");
    else
        snprintf(buf, size, "owner uid %u gid %u, mode %04o", (unsigned)st.st_uid,
                 (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
}

/* The vfio cdev: <BDF>/vfio-dev/vfioX with a `dev` attribute. Linux 6.1-6.5 have the vfio-dev
 * directory but no character device (no `dev`): then r->cdev stays NULL and *dir_only is set. */
static void find_cdev(struct hd_ctx *ctx, const struct hd_device *dev, struct hd_vfio_report *r,
                      bool *dir_only)
{
    const char *name = hd_device_get_vfio_cdev(dev);
    char path[HD_PATH_MAX];

    *dir_only = name != NULL;
    if (name == NULL || !hd_name_valid(name) ||
        hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/vfio-dev/%s/dev", r->name, name) < 0 ||
        hd_fs_exists(ctx, path) != 1)
        return;
    r->cdev = strdup(name);
    *dir_only = r->cdev == NULL;
}

/* ---- the legacy path: container + group ------------------------------------------------------ */

struct fds {
    int container, group, device, iommufd, cdev;
};

static void close_fds(const struct hd_vfio_ops *ops, struct fds *f)
{
    /* Device first: the group and container cannot let go while it is open. */
    int *order[] = {&f->device, &f->cdev, &f->iommufd, &f->group, &f->container};

    for (size_t i = 0; i < HD_ARRAY_SIZE(order); i++) {
        if (*order[i] >= 0)
            ops->close(ops->data, *order[i]);
        *order[i] = -1;
    }
}

static int open_failed(struct hd_ctx *ctx, const struct hd_vfio_ops *ops,
                       struct hd_vfio_report *r, const char *path, int err)
{
    char node[128];

    describe_node(ctx, path, node, sizeof(node));
    /* Not a permission at all: on a nodev mount (a container's /dev, a bind mount) no one
     * may open a device node, whatever its owner and mode. */
    if ((err == -EACCES || err == -EPERM) && ops->nodev != NULL &&
        ops->nodev(ops->data, ctx, path))
        return explain(r, err, "vfio-node-nodev",
                       fixf(r, "give the VM's process a /dev without nodev (devtmpfs is mounted "
                            "without it); in a container, pass the node in as a device "
                            "(docker/podman --device /%s, or the runtime's device list) rather "
                            "than bind-mounting /dev", path),
                       "cannot open /%s: it is on a file system mounted nodev, where no device "
                       "node can be opened whatever its owner and mode (%s)",
                       path, node);
    if (err == -EACCES || err == -EPERM)
        return explain(r, err, "vfio-permission",
                       "give that user the node (chown, or a udev rule such as "
                       "SUBSYSTEM==\"vfio\", OWNER=\"qemu\" so it lasts), or run the check as "
                       "that user to see what it sees",
                       "permission denied opening /%s (%s; this process runs as uid %u): the "
                       "process that runs the VM (QEMU, often user qemu or libvirt-qemu) needs "
                       "read-write access to /%s",
                       path, node, (unsigned)geteuid(), path);
    if (err == -EBUSY)
        return explain(r, err, "vfio-busy",
                       fixf(r, "stop it first; `fuser -v /%s` names the holder", path),
                       "/%s is already open elsewhere: a VFIO group can be opened by one "
                       "process at a time, so another VM or program is using group %d",
                       path, r->group);
    return explain(r, err, "vfio-open-failed", SEE_KERNEL_LOG, "opening /%s failed: %s", path,
                   strerror(-err));
}

static int legacy_path(struct hd_ctx *ctx, const struct hd_vfio_ops *ops, struct hd_vfio_report *r,
                       struct fds *f)
{
    struct vfio_group_status status = {.argsz = sizeof(status)};
    char gpath[64], sname[96];
    int v, type = 0, err;

    f->container = ops->open(ops->data, ctx, "dev/vfio/vfio", O_RDWR);
    if (f->container < 0) {
        err = f->container;
        if (err == -ENOENT && r->cdev != NULL) {
            /* Linux 6.6+ built without CONFIG_VFIO_GROUP: only the cdev exists. */
            add_step(r, "open /dev/vfio/vfio", HD_VFIO_STEP_SKIPPED, err,
                     "no VFIO group interface in this kernel; the cdev %s decides", r->cdev);
            return 0;
        }
        add_step(r, "open /dev/vfio/vfio", HD_VFIO_STEP_FAILED, err, NULL);
        if (err == -ENOENT)
            return explain(r, err, "vfio-not-loaded",
                           "load them (modprobe vfio-pci); /dev must be a devtmpfs",
                           "/dev/vfio/vfio does not exist: the vfio modules are not loaded, or "
                           "/dev is not a devtmpfs");
        return open_failed(ctx, ops, r, "dev/vfio/vfio", err);
    }
    add_step(r, "open /dev/vfio/vfio", HD_VFIO_STEP_OK, 0, NULL);

    v = ops->ioctl_val(ops->data, f->container, VFIO_GET_API_VERSION, 0);
    if (v != VFIO_API_VERSION) {
        err = v < 0 ? v : -EPROTO;
        add_step(r, "VFIO_GET_API_VERSION", HD_VFIO_STEP_FAILED, err, "version %d", v);
        return explain(r, err, "vfio-api-version",
                       fixf(r, "use a kernel whose VFIO speaks version %d", VFIO_API_VERSION),
                       "the kernel speaks VFIO API version %d, not %d", v, VFIO_API_VERSION);
    }
    add_step(r, "VFIO_GET_API_VERSION", HD_VFIO_STEP_OK, 0, "version %d", v);

    if (ops->ioctl_val(ops->data, f->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0) {
        type = VFIO_TYPE1v2_IOMMU;
        r->iommu_type = "Type1v2";
    } else if (ops->ioctl_val(ops->data, f->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) >
               0) {
        type = VFIO_TYPE1_IOMMU;
        r->iommu_type = "Type1";
    }
    if (type == 0) {
        add_step(r, "VFIO_CHECK_EXTENSION", HD_VFIO_STEP_FAILED, -ENOTSUP,
                 "neither VFIO_TYPE1v2_IOMMU nor VFIO_TYPE1_IOMMU");
        return explain(r, -ENOTSUP, "vfio-no-type1", "load it: modprobe vfio_iommu_type1",
                       "the VFIO container offers no Type1 IOMMU backend: vfio_iommu_type1 is "
                       "not loaded");
    }
    add_step(r, "VFIO_CHECK_EXTENSION", HD_VFIO_STEP_OK, 0, "%s", r->iommu_type);

    snprintf(gpath, sizeof(gpath), "dev/vfio/%d", r->group);
    snprintf(sname, sizeof(sname), "open /dev/vfio/%d", r->group);
    f->group = ops->open(ops->data, ctx, gpath, O_RDWR);
    if (f->group < 0) {
        err = f->group;
        add_step(r, sname, HD_VFIO_STEP_FAILED, err, NULL);
        if (err == -ENOENT)
            return explain(r, err, "vfio-node-missing",
                           fixf(r, "detach %s to vfio-pci", r->name),
                           "/dev/vfio/%d does not exist: no device of group %d is bound to "
                           "vfio-pci, or /dev is not a devtmpfs and udev has not made the node",
                           r->group, r->group);
        return open_failed(ctx, ops, r, gpath, err);
    }
    add_step(r, sname, HD_VFIO_STEP_OK, 0, NULL);

    err = ops->ioctl(ops->data, f->group, VFIO_GROUP_GET_STATUS, &status);
    if (err < 0) {
        add_step(r, "VFIO_GROUP_GET_STATUS", HD_VFIO_STEP_FAILED, err, NULL);
        return explain(r, err, "vfio-group-status-failed", SEE_KERNEL_LOG,
                       "VFIO_GROUP_GET_STATUS on group %d failed: %s", r->group, strerror(-err));
    }
    if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        char list[1024] = "";
        size_t used = 0;

        find_blockers(ctx, r);
        for (size_t i = 0; i < r->nblockers && used < sizeof(list); i++)
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (on %s)",
                                     i ? ", " : "", r->blockers[i].name, r->blockers[i].driver);
        add_step(r, "VFIO_GROUP_GET_STATUS", HD_VFIO_STEP_FAILED, -EPERM,
                 "group %d not viable (flags 0x%x)", r->group, status.flags);
        if (r->blocker_use != NULL) {
            /* Never advise what detach would refuse: that use must move off first. */
            err = explain(r, -EPERM, "group-not-viable",
                          fixf(r, "move that use off it first (another interface, disk or "
                               "display); detaching the group is refused while the host uses "
                               "it, unless forced"),
                          "IOMMU group %d is not viable: every device in it must be unbound or "
                          "on vfio-pci, and the host uses a member of it: %s. Blocking: %s",
                          r->group, r->blocker_use, list);
            hd_findings_set_remedy(r->findings, HD_REMEDY_NONE);
            return err;
        }
        return explain(
            r, -EPERM, "group-not-viable",
            fixf(r, "detach the whole group of %s to vfio-pci, or unbind the blockers from "
                 "their drivers (vfio_iommu_type1.allow_unsafe_interrupts does not help here: "
                 "it is about interrupt remapping, not about group isolation)", r->name),
            "IOMMU group %d is not viable: every device in it must be unbound or on vfio-pci "
            "(or pci-stub, or a bridge on pcieport), because they can reach each other's "
            "memory. %s%s",
            r->group,
            r->nblockers ? "Blocking: "
                         : "No member on a host driver was found in "
                           "sysfs; it may have changed meanwhile",
            r->nblockers ? list : "");
    }
    add_step(r, "VFIO_GROUP_GET_STATUS", HD_VFIO_STEP_OK, 0, "group %d viable (flags 0x%x)",
             r->group, status.flags);

    err = ops->ioctl(ops->data, f->group, VFIO_GROUP_SET_CONTAINER, &f->container);
    if (err < 0) {
        add_step(r, "VFIO_GROUP_SET_CONTAINER", HD_VFIO_STEP_FAILED, err, NULL);
        if (err == -EBUSY)
            return explain(r, err, "vfio-busy",
                           fixf(r, "stop it first; `fuser -v /dev/vfio/%d` names the holder",
                                r->group),
                           "group %d is already attached to a container: another process set "
                           "it up and still holds it",
                           r->group);
        return explain(r, err, "vfio-set-container-failed", SEE_KERNEL_LOG,
                       "VFIO_GROUP_SET_CONTAINER failed: %s", strerror(-err));
    }
    add_step(r, "VFIO_GROUP_SET_CONTAINER", HD_VFIO_STEP_OK, 0, NULL);

    err = ops->ioctl_val(ops->data, f->container, VFIO_SET_IOMMU, (unsigned long)type);
    if (err < 0) {
        char unsafe[16] = "N";

        add_step(r, "VFIO_SET_IOMMU", HD_VFIO_STEP_FAILED, err, "%s", r->iommu_type);
        r->iommu_type = NULL;
        if (err == -EPERM) {
            hd_fs_read_attr(ctx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
                            unsafe, sizeof(unsafe));
            return explain(
                r, err, "no-interrupt-remapping",
                fixf(r, "enable interrupt remapping (firmware setting; remove "
                     "intremap=off/nointremap). Only if you accept the risk: %s on the kernel "
                     "command line, or 1 written to "
                     "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts at run "
                     "time - a device given to a guest can then forge MSI writes and inject "
                     "interrupts into the host, so only for trusted guests",
                     hd_cmdline_advice(HD_ADVICE_UNSAFE_INTERRUPTS, HD_IOMMU_VENDOR_UNKNOWN)),
                "VFIO_SET_IOMMU was refused (EPERM): the IOMMU does not remap interrupts "
                "(interrupt remapping is off: intremap=off or nointremap on the kernel command "
                "line, or missing in the platform or firmware), and vfio_iommu_type1 refuses "
                "unsafe interrupts (allow_unsafe_interrupts=%s). The IOMMU report shows the "
                "interrupt remapping state",
                unsafe);
        }
        return explain(r, err, "vfio-set-iommu-failed", SEE_KERNEL_LOG,
                       "VFIO_SET_IOMMU (%s) failed: %s",
                       type == VFIO_TYPE1v2_IOMMU ? "Type1v2" : "Type1", strerror(-err));
    }
    add_step(r, "VFIO_SET_IOMMU", HD_VFIO_STEP_OK, 0, "%s", r->iommu_type);

    f->device = ops->ioctl(ops->data, f->group, VFIO_GROUP_GET_DEVICE_FD, r->name);
    if (f->device < 0) {
        err = f->device;
        add_step(r, "VFIO_GROUP_GET_DEVICE_FD", HD_VFIO_STEP_FAILED, err, "%s", r->name);
        if (err == -EBUSY)
            return explain(r, err, "vfio-busy", "stop the VM or program that uses it first",
                           "%s is already open through VFIO: a VM or another program is "
                           "using it",
                           r->name);
        if (err == -ENODEV || err == -EINVAL || err == -ENOENT)
            return explain(r, err, "not-detached", fixf(r, "detach %s to vfio-pci", r->name),
                           "group %d does not hand out %s: the device is not bound to vfio-pci "
                           "(driver: %s)",
                           r->group, r->name, r->driver ? r->driver : "none");
        return explain(r, err, "vfio-get-device-failed", SEE_KERNEL_LOG,
                       "VFIO_GROUP_GET_DEVICE_FD failed: %s", strerror(-err));
    }
    add_step(r, "VFIO_GROUP_GET_DEVICE_FD", HD_VFIO_STEP_OK, 0, "%s", r->name);

    r->info.argsz = sizeof(r->info);
    err = ops->ioctl(ops->data, f->device, VFIO_DEVICE_GET_INFO, &r->info);
    if (err < 0) {
        add_step(r, "VFIO_DEVICE_GET_INFO", HD_VFIO_STEP_FAILED, err, NULL);
        return explain(r, err, "vfio-device-info-failed", SEE_KERNEL_LOG,
                       "VFIO_DEVICE_GET_INFO failed: %s", strerror(-err));
    }
    r->have_info = true;
    add_step(r, "VFIO_DEVICE_GET_INFO", HD_VFIO_STEP_OK, 0, "flags 0x%x%s%s, %u regions, %u irqs",
             r->info.flags, (r->info.flags & VFIO_DEVICE_FLAGS_PCI) ? " pci" : "",
             (r->info.flags & VFIO_DEVICE_FLAGS_RESET) ? " reset" : "", r->info.num_regions,
             r->info.num_irqs);
    return 0;
}

/* ---- the cdev path: /dev/vfio/devices/vfioX + /dev/iommu ------------------------------------- */

/* @dir_only: what find_cdev() said, already called by the caller. */
static int cdev_path(struct hd_ctx *ctx, const struct hd_vfio_ops *ops, struct hd_vfio_report *r,
                     struct fds *f, bool dir_only)
{
    struct hd_vfio_bind_iommufd bind = {.argsz = sizeof(bind)};
    struct hd_iommu_ioas_alloc ioas = {.size = sizeof(ioas)};
    struct hd_vfio_attach_iommufd_pt attach = {.argsz = sizeof(attach)};
    struct vfio_device_info info = {.argsz = sizeof(info)};
    char path[HD_PATH_MAX], sname[96];
    int err;

    if (r->cdev == NULL) {
        add_step(r, "vfio cdev", HD_VFIO_STEP_SKIPPED, 0,
                 "%s: this kernel has no vfio character device (needs Linux 6.6+ with "
                 "CONFIG_VFIO_DEVICE_CDEV)",
                 dir_only ? "vfio-dev without a dev attribute" : "no vfio-dev");
        return 0;
    }
    add_step(r, "vfio cdev", HD_VFIO_STEP_OK, 0, "%s", r->cdev);

    if (hd_path(path, sizeof(path), "dev/vfio/devices/%s", r->cdev) < 0)
        return -EINVAL;
    snprintf(sname, sizeof(sname), "open /dev/vfio/devices/%s", r->cdev);
    f->cdev = ops->open(ops->data, ctx, path, O_RDWR);
    if (f->cdev < 0) {
        add_step(r, sname, HD_VFIO_STEP_FAILED, f->cdev, NULL);
        if (f->cdev == -ENOENT)
            return explain(r, f->cdev, "vfio-node-missing",
                           "mount a devtmpfs on /dev, or let udev make the node",
                           "the kernel has the vfio cdev %s but /%s does not exist: /dev is not "
                           "a devtmpfs and udev has not made the node",
                           r->cdev, path);
        return open_failed(ctx, ops, r, path, f->cdev);
    }
    add_step(r, sname, HD_VFIO_STEP_OK, 0, NULL);

    f->iommufd = ops->open(ops->data, ctx, "dev/iommu", O_RDWR);
    if (f->iommufd < 0) {
        err = f->iommufd;
        add_step(r, "open /dev/iommu", HD_VFIO_STEP_FAILED, err, NULL);
        if (err == -ENOENT)
            return explain(r, err, "iommufd-not-loaded", "load it: modprobe iommufd",
                           "/dev/iommu does not exist: the iommufd module is not loaded, so the "
                           "vfio cdev %s cannot be used",
                           r->cdev);
        return open_failed(ctx, ops, r, "dev/iommu", err);
    }
    add_step(r, "open /dev/iommu", HD_VFIO_STEP_OK, 0, NULL);

    bind.iommufd = f->iommufd;
    err = ops->ioctl(ops->data, f->cdev, HD_VFIO_DEVICE_BIND_IOMMUFD, &bind);
    if (err < 0) {
        add_step(r, "VFIO_DEVICE_BIND_IOMMUFD", HD_VFIO_STEP_FAILED, err, NULL);
        if (err == -EBUSY)
            return explain(r, err, "vfio-busy", "stop the VM or program that uses it first",
                           "%s is already open (through its group or its cdev): a VM or "
                           "another program is using it",
                           r->name);
        if (err == -EPERM) {
            /* iommufd has its own switch: vfio_iommu_type1's does not reach the cdev path
             * (seen on 6.12 with intremap=off: the group path works, the bind is refused). */
            char unsafe[8] = "?";
            hd_fs_read_attr(ctx, "sys/module/iommufd/parameters/allow_unsafe_interrupts", unsafe,
                            sizeof(unsafe));
            return explain(r, err, "iommufd-bind-refused",
                           fixf(r, "enable interrupt remapping; only if you accept that a guest "
                                "can then inject interrupts into the host: %s on the kernel "
                                "command line, or 1 written to "
                                "/sys/module/iommufd/parameters/allow_unsafe_interrupts "
                                "(vfio_iommu_type1's parameter does not cover the cdev)",
                                hd_cmdline_advice(HD_ADVICE_IOMMUFD_UNSAFE_INTERRUPTS,
                                                  HD_IOMMU_VENDOR_UNKNOWN)),
                           "VFIO_DEVICE_BIND_IOMMUFD was refused (EPERM): the IOMMU does not "
                           "remap interrupts and iommufd refuses unsafe interrupts "
                           "(allow_unsafe_interrupts=%s), or the group is not viable; the IOMMU "
                           "report says which", unsafe);
        }
        return explain(r, err, "iommufd-bind-failed", SEE_KERNEL_LOG,
                       "VFIO_DEVICE_BIND_IOMMUFD failed: %s", strerror(-err));
    }
    add_step(r, "VFIO_DEVICE_BIND_IOMMUFD", HD_VFIO_STEP_OK, 0, "devid %u", bind.out_devid);

    err = ops->ioctl(ops->data, f->iommufd, HD_IOMMU_IOAS_ALLOC, &ioas);
    if (err < 0) {
        add_step(r, "IOMMU_IOAS_ALLOC", HD_VFIO_STEP_FAILED, err, NULL);
        return explain(r, err, "iommufd-ioas-failed", SEE_KERNEL_LOG,
                       "IOMMU_IOAS_ALLOC failed: %s", strerror(-err));
    }
    add_step(r, "IOMMU_IOAS_ALLOC", HD_VFIO_STEP_OK, 0, "ioas %u", ioas.out_ioas_id);

    attach.pt_id = ioas.out_ioas_id;
    err = ops->ioctl(ops->data, f->cdev, HD_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
    if (err < 0) {
        add_step(r, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", HD_VFIO_STEP_FAILED, err, NULL);
        return explain(r, err, "iommufd-attach-failed", SEE_KERNEL_LOG,
                       "VFIO_DEVICE_ATTACH_IOMMUFD_PT failed: %s", strerror(-err));
    }
    add_step(r, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", HD_VFIO_STEP_OK, 0, "pt %u", attach.pt_id);

    err = ops->ioctl(ops->data, f->cdev, VFIO_DEVICE_GET_INFO, &info);
    if (err < 0) {
        add_step(r, "VFIO_DEVICE_GET_INFO (cdev)", HD_VFIO_STEP_FAILED, err, NULL);
        return explain(r, err, "vfio-device-info-failed", SEE_KERNEL_LOG,
                       "VFIO_DEVICE_GET_INFO on the cdev failed: %s", strerror(-err));
    }
    add_step(r, "VFIO_DEVICE_GET_INFO (cdev)", HD_VFIO_STEP_OK, 0,
             "flags 0x%x, %u regions, %u irqs", info.flags, info.num_regions, info.num_irqs);
    return 0;
}

/* ---- the whole check ------------------------------------------------------------------------- */

/* Open what a VMM opens: the group through a container, then (a separate try, from nothing
 * open: an open group blocks the cdev and back) the cdev through iommufd. */
static int open_paths(struct hd_ctx *ctx, const struct hd_vfio_ops *ops, struct hd_vfio_report *r,
                      bool dir_only)
{
    struct fds f = {-1, -1, -1, -1, -1};
    int err = legacy_path(ctx, ops, r, &f);

    close_fds(ops, &f);
    if (err == 0)
        err = cdev_path(ctx, ops, r, &f, dir_only);
    close_fds(ops, &f);
    return err;
}

int hd_vfio_verify_ops(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                       const struct hd_vfio_ops *ops, struct hd_vfio_report **out)
{
    struct hd_device *dev = NULL;
    struct hd_vfio_report *r;
    bool dir_only;
    int err;

    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    if (ctx == NULL || addr == NULL || ops == NULL)
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return -ENOMEM;
    r->refcount = 1;
    r->group = -1;
    hd_pci_addr_format(addr, r->name);
    if ((r->findings = hd_findings_new()) == NULL) {
        free(r);
        return -ENOMEM;
    }
    *out = r;

    err = hd_device_open(ctx, addr, &dev);
    if (err < 0) {
        add_step(r, "device", HD_VFIO_STEP_FAILED, err, NULL);
        explain(r, err, err == -ENODEV ? "no-device" : "device-unreadable",
                err == -ENODEV ? "check the PCI address (lspci -D lists the devices)"
                               : SEE_KERNEL_LOG,
                "%s: %s", r->name,
                err == -ENODEV ? "no such PCI device" : hd_ctx_last_error(ctx));
        if (err == -ENODEV) /* the address is wrong: a listing shows the right one */
            hd_findings_set_remedy(r->findings, HD_REMEDY_LIST);
        return hd_err(ctx, err, "%s", r->explanation ? r->explanation : strerror(-err));
    }
    if (hd_device_get_driver(dev) != NULL &&
        (r->driver = strdup(hd_device_get_driver(dev))) == NULL) {
        hd_device_unref(dev);
        return hd_err(ctx, -ENOMEM, "%s: out of memory", r->name);
    }

    r->group = hd_device_get_iommu_group(dev);
    if (r->group < 0) {
        add_step(r, "iommu group", HD_VFIO_STEP_FAILED, -ENODEV, NULL);
        err = explain(r, -ENODEV, "no-iommu-group",
                      fixf(r, "turn the IOMMU on: in the firmware setup, and on Intel with %s on "
                           "the kernel command line (the AMD IOMMU is on by default: remove "
                           "amd_iommu=off or iommu=off if there); the IOMMU report says which",
                           hd_cmdline_advice(HD_ADVICE_IOMMU_ON, HD_IOMMU_VENDOR_INTEL)),
                      "%s has no IOMMU group: the kernel runs without an IOMMU for it%s",
                      r->name, hd_vfio_noiommu_mode(ctx)
                                   ? " (vfio's unsafe no-IOMMU mode is on: it could serve a "
                                     "user-space driver such as DPDK without DMA isolation, "
                                     "never a VM)"
                                   : "");
        goto out;
    }
    if (hd_group_number_is_noiommu(ctx, r->group)) {
        /* Opening it would work (for DPDK), but a VM cannot have it: the question is a VM's. */
        add_step(r, "iommu group", HD_VFIO_STEP_FAILED, 0, "%d, noiommu", r->group);
        err = explain(r, -ENODEV, "noiommu-group",
                      fixf(r, "for a VM, turn the IOMMU on (on Intel with %s on the kernel "
                           "command line; the IOMMU report says which); as it is, the device "
                           "serves user-space drivers such as DPDK only",
                           hd_cmdline_advice(HD_ADVICE_IOMMU_ON, HD_IOMMU_VENDOR_INTEL)),
                      "%s is a no-IOMMU device: vfio's unsafe no-IOMMU mode made its group "
                      "(/dev/vfio/noiommu-%d), which has no DMA isolation, and QEMU cannot "
                      "assign it to a VM",
                      r->name, r->group);
        hd_findings_set_remedy(r->findings, HD_REMEDY_NONE);
        goto out;
    }
    add_step(r, "iommu group", HD_VFIO_STEP_OK, 0, "%d", r->group);

    if (!hd_device_is_on_vfio(dev)) {
        const char *platform = hd_platform_function(dev);
        struct hd_host_use *hu = NULL;
        char *use = NULL;
        err = -ENOENT;
        /* No call failed: the step's errno stays 0, or the text would read "nouveau: No such
         * file or directory". */
        add_step(r, "driver", HD_VFIO_STEP_FAILED, 0, "%s, not vfio-pci",
                 r->driver ? r->driver : "none");
        /* Never advise a detach that refuses it: a bridge, what the host keeps or uses. */
        if (!hd_device_is_assignable(dev))
            explain(r, err, "not-assignable",
                    "give the VM the endpoints behind it (the devices on its secondary bus), "
                    "not the bridge",
                    "%s is a bridge (header type %d), not an endpoint: it cannot be assigned "
                    "to a VM",
                    r->name, hd_device_get_header_type(dev));
        else if (platform != NULL)
            explain(r, err, "not-assignable",
                    "none for it: give the VM the device it is meant to use; the host needs "
                    "this one",
                    "%s is %s: the host keeps it (no VM needs it), and detaching or assigning "
                    "it is refused",
                    r->name, platform);
        else if (hd_host_use_find_own(dev, &hu, &use) == 0 && use != NULL) {
            explain(r, err, "not-detached",
                    fixf(r, "none while the host uses it: %s. Until that changes, detaching it "
                         "is refused unless forced (which would pull it from under the host)",
                         use),
                    "%s is not detached: it is bound to %s, not to vfio-pci, so VFIO cannot "
                    "hand it to a VM",
                    r->name, r->driver ? r->driver : "no driver");
            hd_findings_set_remedy(r->findings, HD_REMEDY_NONE);
        } else if (r->driver != NULL)
            explain(r, err, "not-detached", "detach it to vfio-pci",
                    "%s is not detached: it is bound to %s, not to vfio-pci, so VFIO cannot "
                    "hand it to a VM",
                    r->name, r->driver);
        else
            explain(r, err, "not-detached", "detach it to vfio-pci",
                    "%s is not detached: it is bound to no driver, and VFIO only hands out "
                    "devices bound to vfio-pci",
                    r->name);
        hd_ctx_clear_error(ctx); /* a host that cannot be read leaves the usual advice */
        hd_host_use_unref(hu);
        free(use);
        goto out;
    }
    add_step(r, "driver", HD_VFIO_STEP_OK, 0, "%s", r->driver);

    find_cdev(ctx, dev, r, &dir_only);
    err = open_paths(ctx, ops, r, dir_only);
out:
    hd_device_unref(dev);
    if (err < 0)
        return hd_err(ctx, err, "%s", r->explanation ? r->explanation : strerror(-err));
    r->usable = true;
    return 0;
}

/* A VFIO group's node opens once at a time, and (Linux 6.6+) not while a device of the group is
 * bound through its cdev: EBUSY is the kernel saying that a process has the group. An open that
 * succeeds changes nothing and is closed at once. */
int hd_vfio_group_held_ops(struct hd_ctx *ctx, int group, const struct hd_vfio_ops *ops)
{
    char path[32];
    int fd;

    if (group < 0)
        return 0;
    if (ops == NULL)
        ops = &real_ops;
    snprintf(path, sizeof(path), "dev/vfio/%d", group);
    fd = ops->open(ops->data, ctx, path, O_RDWR);
    if (fd >= 0) {
        ops->close(ops->data, fd);
        return 0;
    }
    return fd == -EBUSY;
}

int hd_vfio_verify_mdev_ops(struct hd_ctx *ctx, const char *uuid, const struct hd_vfio_ops *ops,
                            struct hd_vfio_report **out)
{
    char path[HD_PATH_MAX], ready[2 * HD_DRIVER_NAME_MAX + 128], fix[HD_DRIVER_NAME_MAX + 64];
    struct hd_mdev_info info;
    struct hd_vfio_report *r;
    char **cdevs = NULL;
    size_t ncdevs = 0;
    int err;

    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    if (ctx == NULL || ops == NULL || (r = calloc(1, sizeof(*r))) == NULL)
        return ctx == NULL || ops == NULL ? -EINVAL : -ENOMEM;
    if ((r->findings = hd_findings_new()) == NULL) {
        free(r);
        return -ENOMEM;
    }
    r->refcount = 1;
    r->group = -1;
    *out = r;
    if (hd_mdev_uuid_parse(uuid, r->name) < 0) {
        hd_strlcpy(r->name, "?", sizeof(r->name));
        explain(r, -EINVAL, "invalid-uuid",
                "give its UUID (8-4-4-4-12 hex digits) or libvirt's mdev_<uuid>",
                "'%s' is not a mediated device's UUID", uuid ? uuid : "");
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s",
                       r->explanation ? r->explanation : strerror(EINVAL));
    }
    /* The mdev core links the device to its parent, its (vendor's) mdev driver and its
     * group; whether that makes it a VFIO device is hd_mdev_readiness()'s to say, as check
     * and acquire say it. */
    err = hd_mdev_lookup(ctx, r->name, &info);
    if (err < 0) {
        /* None there, or a link the kernel does not make (bad input): its message names the
         * device and the link. */
        enum hd_reason why = hd_ctx_last_reason(ctx);
        char msg[HD_ERROR_MAX];
        hd_strlcpy(msg, hd_ctx_last_error(ctx), sizeof(msg));
        add_step(r, "device", HD_VFIO_STEP_FAILED, err, NULL);
        if (why == HD_REASON_NO_DEVICE)
            explain(r, err, "no-device", "check the UUID against /sys/bus/mdev/devices",
                    "%s: no such mediated device", r->name);
        else if (why == HD_REASON_INVALID) /* the message alone: no fix of the kernel's */
            return explain(r, hd_errr(ctx, err, why, "%s", msg), "device-unreadable",
                           "look at what is mounted on /sys: the kernel makes no such link",
                           "%s", msg);
        else
            explain(r, err, "device-unreadable", SEE_KERNEL_LOG, "%s", msg);
        return hd_errr(ctx, err, why, "%s", r->explanation ? r->explanation : strerror(-err));
    }
    r->group = info.group;
    if (info.driver[0] != '\0' && (r->driver = strdup(info.driver)) == NULL)
        return hd_err(ctx, -ENOMEM, "%s: out of memory", r->name);
    switch (hd_mdev_readiness(info.parent, info.driver, info.group, ready, sizeof(ready))) {
    /* No call failed in either: the step's errno stays 0, or the text would read "none: No
     * such file or directory" (-ENOENT is only the report's code for "not ready"). */
    case HD_MDEV_NO_DRIVER:
        add_step(r, "driver", HD_VFIO_STEP_FAILED, 0, "none, no mdev driver took it");
        explain(r, -ENOENT, "mdev-no-driver",
                "the kernel log (dmesg) says why the parent's mdev driver did not take it",
                "%s %s", r->name, ready);
        return hd_err(ctx, -ENOENT, "%s", r->explanation ? r->explanation : strerror(ENOENT));
    case HD_MDEV_NO_GROUP:
        add_step(r, "driver", HD_VFIO_STEP_OK, 0, "%s", r->driver);
        add_step(r, "iommu group", HD_VFIO_STEP_FAILED, 0, "none, not a VFIO device");
        snprintf(fix, sizeof(fix), "the kernel log (dmesg) says why %s did not register it "
                 "with VFIO", r->driver);
        explain(r, -ENOENT, "mdev-no-group", fix, "%s %s", r->name, ready);
        return hd_err(ctx, -ENOENT, "%s", r->explanation ? r->explanation : strerror(ENOENT));
    case HD_MDEV_READY:
        break;
    }
    add_step(r, "driver", HD_VFIO_STEP_OK, 0, "%s", r->driver);
    add_step(r, "iommu group", HD_VFIO_STEP_OK, 0, "%d", r->group);
    /* Its vfio-dev/vfioN, where the kernel has the cdev (6.6+ with VFIO_DEVICE_CDEV). */
    hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/vfio-dev", r->name);
    if (hd_fs_list_dir(ctx, path, &cdevs, &ncdevs) == 0 && ncdevs > 0 && hd_name_valid(cdevs[0]) &&
        hd_path(path, sizeof(path), "sys/bus/mdev/devices/%s/vfio-dev/%s/dev", r->name, cdevs[0]) ==
            0 &&
        hd_fs_exists(ctx, path) == 1)
        r->cdev = strdup(cdevs[0]);
    err = open_paths(ctx, ops, r, ncdevs > 0 && r->cdev == NULL);
    hd_strv_free(cdevs, ncdevs);
    if (err < 0)
        return hd_err(ctx, err, "%s", r->explanation ? r->explanation : strerror(-err));
    r->usable = true;
    return 0;
}

HD_EXPORT int hd_vfio_verify_mdev(struct hd_ctx *ctx, const char *uuid,
                                  struct hd_vfio_report **report)
{
    return hd_vfio_verify_mdev_ops(ctx, uuid, &real_ops, report);
}

HD_EXPORT int hd_vfio_verify(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                             struct hd_vfio_report **report)
{
    return hd_vfio_verify_ops(ctx, addr, &real_ops, report);
}
