/* device.c - one PCI device as a snapshot of its sysfs directory, filled lazily. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"

struct hd_device_ext {
    /* HD_FILL_PARENT */
    bool has_parent;
    struct hd_pci_addr parent;
    /* HD_FILL_SRIOV */
    struct hd_pci_addr *virtfns;
    size_t nvirtfns;
    int totalvfs, numvfs;
    int autoprobe; /* sriov_drivers_autoprobe: -1 none */
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
    /* The kernel said (no vfio-dev) that @driver holds it for no VFIO driver: a driver
     * registers a VFIO device for every device it binds or for none, so it is asked once a
     * command, not at every check. Cleared with every change of @driver. */
    bool not_on_vfio;
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
     * that a plain listing of 10,000 devices does not carry them (64 bytes a device). */
    struct hd_device_ext *ext;
    struct hd_pci_addr physfn; /* with has_physfn */
    /* A PF's sriov_vf_device, read when a listing resolves its VFs (hd_device_fill_vf_ids). */
    int vf_device;
};
#define HD_VF_DEVICE_UNREAD (-1)
#define HD_VF_DEVICE_NONE (-2)
/* What a listing's memory rests on (BENCHMARKS.md); on 64-bit hosts, where it was measured. */
_Static_assert(sizeof(void *) != 8 || sizeof(struct hd_device) == 128,
               "a listed device is 128 bytes");

struct hd_device *hd_device_new(struct hd_ctx *ctx, const struct hd_pci_addr *addr)
{
    struct hd_device *dev = calloc(1, sizeof(*dev));

    if (dev == NULL)
        return NULL;
    dev->refcount = 1;
    dev->ctx = hd_ctx_ref(ctx);
    dev->addr = *addr;
    hd_pci_addr_format(addr, dev->name);
    dev->revision = dev->header_type = -1;
    dev->group = -1;
    dev->vf_device = HD_VF_DEVICE_UNREAD;
    return dev;
}

HD_EXPORT struct hd_device *hd_device_ref(struct hd_device *dev)
{
    if (dev != NULL)
        atomic_fetch_add_explicit(&dev->refcount, 1, memory_order_relaxed);
    return dev;
}

static void clear_fields(struct hd_device *dev)
{
    if (dev->ext != NULL) {
        free(dev->ext->virtfns);
        free(dev->ext->reset_methods);
        free(dev->ext->vfio_cdev);
        free(dev->ext);
        dev->ext = NULL;
    }
    dev->vendor_name = dev->product_name = dev->modalias = dev->driver = NULL;
    dev->not_on_vfio = false;
}

/* The fields a plain listing does not read, allocated on first need. */
static struct hd_device_ext *ext_of(struct hd_device *dev)
{
    if (dev->ext == NULL && (dev->ext = calloc(1, sizeof(*dev->ext))) != NULL) {
        dev->ext->numa_node = -1;
        dev->ext->totalvfs = dev->ext->numvfs = dev->ext->autoprobe = -1;
    }
    return dev->ext;
}

HD_EXPORT struct hd_device *hd_device_unref(struct hd_device *dev)
{
    /* acq_rel: what other threads did with it happens before the free */
    if (dev == NULL || atomic_fetch_sub_explicit(&dev->refcount, 1, memory_order_acq_rel) > 1)
        return dev;
    clear_fields(dev);
    hd_ctx_unref(dev->ctx);
    free(dev);
    return NULL;
}

int hd_device_attr_path(const struct hd_device *dev, const char *attr, char *buf, size_t size)
{
    /* "sys/bus/pci/devices/%s/%s" without printf: a listing builds a few of these per device. */
    static const char dir[] = "sys/bus/pci/devices/";
    size_t nlen = strlen(dev->name), alen = strlen(attr);

    if (sizeof(dir) - 1 + nlen + 1 + alen + 1 > size)
        return -ENAMETOOLONG;
    memcpy(buf, dir, sizeof(dir) - 1);
    memcpy(buf + sizeof(dir) - 1, dev->name, nlen);
    buf[sizeof(dir) - 1 + nlen] = '/';
    memcpy(buf + sizeof(dir) + nlen, attr, alen + 1);
    return 0;
}

ssize_t hd_device_read_attr(struct hd_device *dev, const char *attr, char *buf, size_t size)
{
    char path[HD_PATH_MAX];
    int r = hd_device_attr_path(dev, attr, path, sizeof(path));

    return r < 0 ? r : hd_fs_read_attr(dev->ctx, path, buf, size);
}

ssize_t hd_device_read_attr_bytes(struct hd_device *dev, const char *attr, void *buf, size_t size)
{
    char path[HD_PATH_MAX];
    int r = hd_device_attr_path(dev, attr, path, sizeof(path));

    return r < 0 ? r : hd_fs_read_bytes(dev->ctx, path, buf, size);
}

int hd_device_write_attr(struct hd_device *dev, const char *attr, const char *value)
{
    char path[HD_PATH_MAX];
    int r = hd_device_attr_path(dev, attr, path, sizeof(path));

    return r < 0 ? r : hd_fs_write_attr(dev->ctx, path, value);
}

/* The last component of one of the device's links ("driver", "iommu_group"), which the kernel
 * points into directory @dir (NULL: any): 0, -ENOENT, -EINVAL when it leads elsewhere. */
static int hd_device_link_name(struct hd_device *dev, const char *link, const char *dir,
                               char *buf, size_t size)
{
    char path[HD_PATH_MAX];
    int r = hd_device_attr_path(dev, link, path, sizeof(path));

    return r < 0 ? r : hd_fs_link_basename_in(dev->ctx, path, dir, buf, size);
}

/* What sysfs holds that the kernel would not write is bad input (HD_REASON_INVALID): the caller
 * refuses before it changes anything, as it would a bad address. Reads that fail are not. */
static int bad_attr(struct hd_device *dev, const char *attr, const char *value)
{
    return hd_errr(dev->ctx, -EINVAL, HD_REASON_INVALID,
                   "%s: sysfs attribute %s holds '%.40s', not what the kernel "
                   "writes there",
                   dev->name, attr, value);
}

/* A failed read of @attr (@n): longer than the @size read, a NUL in its text or a path that
 * loops is bad input as above; -ENOENT is returned as it is, anything else (an I/O error)
 * with a message naming the device and attribute. */
static int attr_read_error(struct hd_device *dev, const char *attr, ssize_t n, size_t size)
{
    if (n == -ELOOP)
        return hd_errr(dev->ctx, (int)n, HD_REASON_INVALID,
                       "%s: sysfs attribute %s: its path loops, which the kernel's never do",
                       dev->name, attr);
    if (n == -EFBIG)
        return hd_errr(dev->ctx, (int)n, HD_REASON_INVALID,
                       "%s: sysfs attribute %s is longer than %zu bytes, not what the kernel "
                       "writes there",
                       dev->name, attr, size - 1);
    if (n == -EILSEQ)
        return hd_errr(dev->ctx, (int)n, HD_REASON_INVALID,
                       "%s: sysfs attribute %s holds a NUL byte, not what the kernel writes there",
                       dev->name, attr);
    /* Absent is the caller's to judge (many attributes are optional); a failure names what
     * could not be read, where the user met a bare "Input/output error". */
    if (n != -ENOENT)
        return hd_err(dev->ctx, (int)n, "%s: sysfs attribute %s cannot be read: %s", dev->name,
                      attr, strerror((int)-n));
    return (int)n;
}

/* A link of the device's (@r from hd_device_link_name) that is not one the kernel makes there
 * (a plain file, leading elsewhere, a name no driver or group has, too long) is bad input; one
 * that cannot be read is a failure. */
static int bad_link_of(struct hd_ctx *ctx, const char *name, const char *link, int r)
{
    if (r == -EINVAL || r == -ENAMETOOLONG || r == -ELOOP)
        return hd_errr(ctx, r, HD_REASON_INVALID,
                       "%s: sysfs link %s does not lead where the kernel points it", name, link);
    return hd_err(ctx, r, "%s: sysfs link %s cannot be read: %s", name, link, strerror(-r));
}

static int bad_link(struct hd_device *dev, const char *link, int r)
{
    return bad_link_of(dev->ctx, dev->name, link, r);
}

int hd_sysfs_read_group_link(struct hd_ctx *ctx, const char *name, const char *path, int *group)
{
    char num[32];
    long long g;
    int r = hd_fs_link_basename_in(ctx, path, "iommu_groups", num, sizeof(num));

    *group = -1;
    if (r == -ENOENT)
        return r;
    if (r < 0)
        return bad_link_of(ctx, name, "iommu_group", r);
    if (hd_parse_int(num, 0, 0x7fffffff, &g) < 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID,
                       "%s: sysfs link iommu_group names '%.40s', not a group number", name, num);
    *group = (int)g;
    return 0;
}

static int parse_id_pair(const char *s, uint16_t *a, uint16_t *b)
{
    unsigned long long x, y;
    char first[8];
    const char *colon = strchr(s, ':');

    if (colon == NULL || colon - s > 4 || colon == s)
        return -EINVAL;
    memcpy(first, s, (size_t)(colon - s));
    first[colon - s] = '\0';
    if (hd_parse_uint(first, 16, 0xffff, &x) < 0 || strlen(colon + 1) > 4 ||
        hd_parse_uint(colon + 1, 16, 0xffff, &y) < 0)
        return -EINVAL;
    *a = (uint16_t)x;
    *b = (uint16_t)y;
    return 0;
}

/* uevent carries the driver, ids, class and modalias in one read:
 * DRIVER=e1000e PCI_CLASS=20000 PCI_ID=8086:10D3 PCI_SUBSYS_ID=8086:A01F MODALIAS=pci:v... */
int hd_device_parse_uevent(struct hd_device *dev, char *buf)
{
    char *line, *save = NULL;
    bool have_id = false, have_class = false;

    /* A snapshot of uevent: no DRIVER= line now means unbound now. */
    dev->driver = dev->modalias = NULL;
    dev->not_on_vfio = false;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        const char *val;
        if (eq == NULL)
            continue;
        *eq = '\0';
        val = eq + 1;
        if (strcmp(line, "DRIVER") == 0) {
            if (!hd_name_valid(val))
                return bad_attr(dev, "uevent DRIVER", val);
            dev->driver = hd_strings_add(hd_ctx_get_strings(dev->ctx), val, strlen(val));
            if (dev->driver == NULL)
                return -ENOMEM;
        } else if (strcmp(line, "PCI_ID") == 0) {
            if (parse_id_pair(val, &dev->vendor, &dev->device) < 0)
                return bad_attr(dev, "uevent PCI_ID", val);
            have_id = true;
        } else if (strcmp(line, "PCI_SUBSYS_ID") == 0) {
            if (parse_id_pair(val, &dev->subsystem_vendor, &dev->subsystem_device) < 0)
                return bad_attr(dev, "uevent PCI_SUBSYS_ID", val);
        } else if (strcmp(line, "PCI_CLASS") == 0) {
            unsigned long long c;
            if (hd_parse_uint(val, 16, 0xffffff, &c) < 0)
                return bad_attr(dev, "uevent PCI_CLASS", val);
            dev->class = (uint32_t)c;
            have_class = true;
        } else if (strcmp(line, "MODALIAS") == 0) {
            dev->modalias = hd_strings_add(hd_ctx_get_strings(dev->ctx), val, strlen(val));
            if (dev->modalias == NULL)
                return -ENOMEM;
        }
    }
    if (!have_id || !have_class)
        return hd_errr(dev->ctx, -EINVAL, HD_REASON_INVALID, "%s: sysfs attribute uevent has no %s",
                       dev->name, have_id ? "PCI_CLASS" : "PCI_ID");
    return 0;
}

static int fill_ident(struct hd_device *dev)
{
    char buf[HD_ATTR_MAX];
    ssize_t n = hd_device_read_attr(dev, "uevent", buf, sizeof(buf));

    if (n < 0)
        return n == -ENOENT ? -ENODEV : attr_read_error(dev, "uevent", n, sizeof(buf));
    return hd_device_parse_uevent(dev, buf);
}

static int fill_group(struct hd_device *dev)
{
    char path[HD_PATH_MAX];
    int r = hd_device_attr_path(dev, "iommu_group", path, sizeof(path));

    dev->group = -1;
    if (r == 0)
        r = hd_sysfs_read_group_link(dev->ctx, dev->name, path, &dev->group);
    return r == -ENOENT ? 0 : r;
}

/* The device's place in the hierarchy comes from where its link points:
 * ../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0 -> parent 0000:00:1c.0. */
static int fill_parent(struct hd_device *dev)
{
    char path[HD_PATH_MAX], target[HD_PATH_MAX], *last, *prev;
    ssize_t n;

    if (ext_of(dev) == NULL)
        return -ENOMEM;
    dev->ext->has_parent = false;
    if (hd_path(path, sizeof(path), "sys/bus/pci/devices/%s", dev->name) < 0)
        return -ENAMETOOLONG;
    n = hd_fs_read_link(dev->ctx, path, target, sizeof(target));
    if (n == -EINVAL)
        return 0; /* a plain directory, not a link: no hierarchy known */
    if (n == -ENAMETOOLONG)
        return hd_errr(dev->ctx, (int)n, HD_REASON_INVALID,
                       "%s: sys/bus/pci/devices/%s points further than any device directory",
                       dev->name, dev->name);
    if (n < 0)
        return n == -ENOENT ? -ENODEV : (int)n;
    last = strrchr(target, '/');
    /* The link must lead to this device's own directory (never beside itself: a link to its
     * own name loops): one pointing at another device would have every write meant for this
     * one land on that one. */
    if (last == NULL || strcmp(last + 1, dev->name) != 0)
        return hd_errr(dev->ctx, -EINVAL, HD_REASON_INVALID,
                       "%s: sys/bus/pci/devices/%s points to '%.80s', not to "
                       "the device's own directory",
                       dev->name, dev->name, target);
    *last = '\0';
    prev = strrchr(target, '/');
    prev = prev ? prev + 1 : target;
    if (hd_pci_addr_parse(prev, &dev->ext->parent) == 0)
        dev->ext->has_parent = true;
    return 0;
}

ssize_t hd_device_read_config(struct hd_device *dev, void *buf, size_t size)
{
    ssize_t n = hd_device_read_attr_bytes(dev, "config", buf, size);

    if (n == -ENOENT || n == -ENODEV)
        return 0;
    if (n < 0)
        attr_read_error(dev, "config", n, 0); /* the message; n is what it returns */
    return n;
}

static int fill_config(struct hd_device *dev)
{
    unsigned char cfg[64];
    ssize_t n = hd_device_read_config(dev, cfg, sizeof(cfg));

    if (n < 0)
        return (int)n;
    if (n >= 0x10) {
        dev->revision = cfg[0x08];
        dev->header_type = cfg[0x0e] & 0x7f;
        return 0;
    }
    /* No readable config space: the revision attribute still says something. */
    char buf[32];
    unsigned long long rev;
    if (hd_device_read_attr(dev, "revision", buf, sizeof(buf)) >= 0 &&
        hd_parse_hex(buf, 0xff, &rev) == 0)
        dev->revision = (int)rev;
    return 0;
}

/* The modalias as the kernel's modalias attribute spells it (drivers/pci/pci-sysfs.c). */
static int compose_modalias(struct hd_device *dev)
{
    /* "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" */
    char buf[64], *p = buf;

    memcpy(p, "pci:v", 5);
    p = hd_put_hex(p + 5, dev->vendor, 8, true);
    *p++ = 'd';
    p = hd_put_hex(p, dev->device, 8, true);
    memcpy(p, "sv", 2);
    p = hd_put_hex(p + 2, dev->subsystem_vendor, 8, true);
    memcpy(p, "sd", 2);
    p = hd_put_hex(p + 2, dev->subsystem_device, 8, true);
    memcpy(p, "bc", 2);
    p = hd_put_hex(p + 2, dev->class >> 16 & 0xff, 2, true);
    memcpy(p, "sc", 2);
    p = hd_put_hex(p + 2, dev->class >> 8 & 0xff, 2, true);
    *p++ = 'i';
    p = hd_put_hex(p, dev->class & 0xff, 2, true);
    dev->modalias = hd_strings_add(hd_ctx_get_strings(dev->ctx), buf, (size_t)(p - buf));
    return dev->modalias ? 0 : -ENOMEM;
}

static uint16_t le16_at(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

int hd_device_read_driver(struct hd_device *dev, char *buf, size_t size)
{
    int r = hd_device_link_name(dev, "driver", "drivers", buf, size);

    if (r == -ENOENT) {
        buf[0] = '\0';
        return 0;
    }
    return r;
}

/* The driver link's name ("" unbound); one the kernel would not make is bad input. */
static int read_driver_link(struct hd_device *dev, char *buf, size_t size)
{
    int r = hd_device_read_driver(dev, buf, size);

    if (r < 0) {
        buf[0] = '\0';
        return bad_link(dev, "driver", r);
    }
    return 0;
}

int hd_device_set_read_driver(struct hd_device *dev, const char *driver)
{
    /* The same driver read again keeps the kernel's "no": it registers a VFIO device for
     * every device it binds or for none (a detach reads its device again under the locks). */
    bool same = dev->driver != NULL && strcmp(dev->driver, driver) == 0;

    dev->not_on_vfio = dev->not_on_vfio && same;
    dev->driver = NULL;
    if (driver[0] == '\0')
        return 0;
    dev->driver = hd_strings_add(hd_ctx_get_strings(dev->ctx), driver, strlen(driver));
    return dev->driver ? 0 : -ENOMEM;
}

/* The driver from its link: NULL when unbound. */
int hd_device_fill_driver(struct hd_device *dev)
{
    char name[128];
    int r = read_driver_link(dev, name, sizeof(name));

    if (r < 0) {
        dev->driver = NULL;
        dev->not_on_vfio = false;
        return r;
    }
    return hd_device_set_read_driver(dev, name);
}

HD_EXPORT int hd_device_check_driver_link(struct hd_device *dev)
{
    char now[256];
    int r = read_driver_link(dev, now, sizeof(now));

    if (r < 0)
        return r;
    if (strcmp(now, hd_device_get_driver_or(dev, "")) != 0)
        return hd_err(dev->ctx, -EAGAIN,
                      "%s: the driver link names '%s' but the device was read as bound to "
                      "'%s': the device is changing under us",
                      dev->name, now, hd_device_get_driver_or(dev, ""));
    return 0;
}

/* HD_FILL_IDENT and HD_FILL_CONFIG for a listing, from the first 64 bytes of config space (what
 * an unprivileged reader gets too) and the driver (from the drivers' directories, else its
 * link): 3 or 4 syscalls where uevent and config took 6. The kernel's own attributes are read when
 * config space does not tell:
 * - a bridge's subsystem ids live in a capability past those 64 bytes: uevent then;
 * - a VF's vendor and device ids read as ffff (the SR-IOV spec): the device is left with
 *   *vf_pending set, everything but the ids read, for the caller to take them from its PF
 *   (hd_device_fill_vf_ids, or uevent when the PF cannot tell);
 * - config space missing or short (a fake tree, a device going away): uevent and revision; one
 *   that fails to read otherwise is an error naming it. */
int hd_device_fill_bulk(struct hd_device *dev, bool driver_known, const char *driver,
                        bool *vf_pending)
{
    unsigned char cfg[64];
    ssize_t n = hd_device_read_config(dev, cfg, sizeof(cfg));
    int r;

    *vf_pending = false;
    if (n < 0)
        return (int)n;
    if (n < (ssize_t)sizeof(cfg))
        return hd_device_fill_fields(dev, HD_FILL_IDENT | HD_FILL_CONFIG, false);
    dev->revision = cfg[0x08];
    dev->header_type = cfg[0x0e] & 0x7f;
    dev->filled |= HD_FILL_CONFIG;
    dev->vendor = le16_at(cfg);
    dev->device = le16_at(cfg + 2);
    if (dev->header_type != 0)
        return hd_device_fill_fields(dev, HD_FILL_IDENT, false);
    dev->class = (uint32_t)cfg[0x0b] << 16 | (uint32_t)cfg[0x0a] << 8 | cfg[0x09];
    dev->subsystem_vendor = le16_at(cfg + 0x2c);
    dev->subsystem_device = le16_at(cfg + 0x2e);
    if (driver_known) {
        dev->driver = driver; /* the drivers' directories told (enumerate.c) */
        dev->not_on_vfio = false;
    }
    else if ((r = hd_device_fill_driver(dev)) < 0)
        return r;
    if (dev->vendor == 0xffff) {
        *vf_pending = true;
        return 0;
    }
    if ((r = compose_modalias(dev)) < 0)
        return r;
    dev->filled |= HD_FILL_IDENT;
    return 0;
}

int hd_device_read_vf_layout(struct hd_device *pf, int *offset, int *stride, int *numvfs)
{
    int r = hd_device_read_int(pf, "sriov_numvfs", 0, 65535, numvfs);

    if (r == 0)
        r = hd_device_read_int(pf, "sriov_offset", 0, 65535, offset);
    if (r == 0)
        r = hd_device_read_int(pf, "sriov_stride", 0, 65535, stride);
    return r;
}

int hd_pci_vf_addr(const struct hd_pci_addr *pf, int offset, int stride, int i,
                   struct hd_pci_addr *vf)
{
    unsigned int rid = (unsigned)pf->bus << 8 | (unsigned)pf->slot << 3 | pf->function;

    rid += (unsigned)offset + (unsigned)stride * (unsigned)i;
    if (rid > 0xffff)
        return -ERANGE;
    *vf = (struct hd_pci_addr){.domain = pf->domain,
                               .bus = (uint8_t)(rid >> 8),
                               .slot = (uint8_t)(rid >> 3 & 0x1f),
                               .function = (uint8_t)(rid & 7)};
    return 0;
}

int hd_device_fill_vf_ids(struct hd_device *vf, struct hd_device *pf)
{
    if (pf == NULL || !(pf->filled & HD_FILL_IDENT))
        return -ENOENT;
    if (pf->vf_device == HD_VF_DEVICE_UNREAD) {
        char buf[32];
        unsigned long long id;
        pf->vf_device = HD_VF_DEVICE_NONE;
        if (hd_device_read_attr(pf, "sriov_vf_device", buf, sizeof(buf)) >= 0 &&
            hd_parse_hex(buf, 0xffff, &id) == 0)
            pf->vf_device = (int)id;
    }
    if (pf->vf_device < 0)
        return -ENOENT;
    vf->vendor = pf->vendor;
    vf->device = (uint16_t)pf->vf_device;
    vf->physfn = pf->addr;
    vf->has_physfn = true;
    vf->filled |= HD_FILL_IDENT;
    return compose_modalias(vf);
}

int hd_device_read_enable_count(struct hd_device *dev, int *count)
{
    return hd_device_read_int(dev, "enable", 0, INT_MAX, count);
}

static int fill_names(struct hd_device *dev)
{
    return hd_names_lookup(dev->ctx, dev->vendor, dev->device, &dev->vendor_name,
                           &dev->product_name);
}

int hd_device_read_int(struct hd_device *dev, const char *attr, long long min, long long max,
                       int *out)
{
    char buf[32];
    long long v;
    ssize_t n = hd_device_read_attr(dev, attr, buf, sizeof(buf));

    if (n < 0)
        return attr_read_error(dev, attr, n, sizeof(buf));
    if (hd_parse_int(buf, min, max, &v) < 0)
        return bad_attr(dev, attr, buf);
    *out = (int)v;
    return 0;
}

static int fill_sriov(struct hd_device *dev)
{
    char name[64];
    int r;

    if (ext_of(dev) == NULL)
        return -ENOMEM;
    dev->has_physfn = false;
    r = hd_device_link_name(dev, "physfn", NULL, name, sizeof(name));
    if (r == 0 && hd_pci_addr_parse(name, &dev->physfn) == 0)
        dev->has_physfn = true;
    else if (r == 0)
        return hd_errr(dev->ctx, -EINVAL, HD_REASON_INVALID,
                       "%s: sysfs link physfn names '%.40s', not a PCI device", dev->name, name);
    else if (r != -ENOENT)
        return bad_link(dev, "physfn", r);
    dev->ext->totalvfs = dev->ext->numvfs = dev->ext->autoprobe = -1;
    free(dev->ext->virtfns);
    dev->ext->virtfns = NULL;
    dev->ext->nvirtfns = 0;
    if (dev->has_physfn)
        return 0; /* a VF has no SR-IOV capability of its own (PCIe: no VFs of VFs) */
    r = hd_device_read_int(dev, "sriov_totalvfs", 0, 65535, &dev->ext->totalvfs);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    r = hd_device_read_int(dev, "sriov_numvfs", 0, 65535, &dev->ext->numvfs);
    if (r < 0 && r != -ENOENT)
        return r;
    /* What a VF count's undo puts back, read with the count: before any lock or write. */
    r = hd_device_read_int(dev, "sriov_drivers_autoprobe", 0, 1, &dev->ext->autoprobe);
    if (r < 0 && r != -ENOENT)
        return r;
    if (dev->ext->numvfs <= 0)
        return 0;
    dev->ext->virtfns = calloc((size_t)dev->ext->numvfs, sizeof(*dev->ext->virtfns));
    if (dev->ext->virtfns == NULL)
        return -ENOMEM;
    for (int i = 0; i < dev->ext->numvfs; i++) {
        char link[32];
        snprintf(link, sizeof(link), "virtfn%d", i);
        if (hd_device_link_name(dev, link, NULL, name, sizeof(name)) < 0 ||
            hd_pci_addr_parse(name, &dev->ext->virtfns[dev->ext->nvirtfns]) < 0)
            continue; /* VFs come and go while sriov_numvfs changes */
        dev->ext->nvirtfns++;
    }
    return 0;
}

static int fill_override(struct hd_device *dev)
{
    char buf[HD_ATTR_MAX];
    ssize_t n;

    dev->driver_override = NULL;
    n = hd_device_read_attr(dev, "driver_override", buf, sizeof(buf));
    dev->has_driver_override = n >= 0;
    /* Unset reads back as the literal "(null)". */
    if (n > 0 && strcmp(buf, "(null)") != 0 &&
        (dev->driver_override =
             hd_strings_add(hd_ctx_get_strings(dev->ctx), buf, strlen(buf))) == NULL)
        return -ENOMEM;
    return n < 0 && n != -ENOENT ? attr_read_error(dev, "driver_override", n, sizeof(buf)) : 0;
}

static int fill_extra(struct hd_device *dev)
{
    char buf[HD_ATTR_MAX];
    char **names = NULL;
    size_t count = 0;
    ssize_t n;
    int r;

    if (ext_of(dev) == NULL)
        return -ENOMEM;
    dev->ext->numa_node = -1;
    r = hd_device_read_int(dev, "numa_node", -1, 65535, &dev->ext->numa_node);
    if (r < 0 && r != -ENOENT)
        return r;

    r = hd_device_attr_path(dev, "reset", buf, sizeof(buf));
    if (r < 0 || (r = hd_fs_exists(dev->ctx, buf)) < 0)
        return r;
    dev->ext->has_reset = r == 1;

    free(dev->ext->reset_methods);
    dev->ext->reset_methods = NULL;
    n = hd_device_read_attr(dev, "reset_method", buf, sizeof(buf));
    if (n >= 0 && (dev->ext->reset_methods = strdup(buf)) == NULL)
        return -ENOMEM;
    if (n < 0 && n != -ENOENT)
        return attr_read_error(dev, "reset_method", n, sizeof(buf));

    free(dev->ext->vfio_cdev);
    dev->ext->vfio_cdev = NULL;
    if (hd_device_attr_path(dev, "vfio-dev", buf, sizeof(buf)) == 0 &&
        hd_fs_list_dir(dev->ctx, buf, &names, &count) == 0) {
        /* vfio-dev/vfioN is there from 6.1, its character device (a "dev" attribute, and
         * dev/vfio/devices/vfioN) only with the kernel's VFIO cdev support (6.6 on). */
        char attr[HD_PATH_MAX];
        for (size_t i = 0; i < count && dev->ext->vfio_cdev == NULL; i++) {
            if (strncmp(names[i], "vfio", 4) == 0 && hd_name_valid(names[i]) &&
                snprintf(attr, sizeof(attr), "%s/%s/dev", buf, names[i]) < (int)sizeof(attr) &&
                hd_fs_exists(dev->ctx, attr) == 1)
                dev->ext->vfio_cdev = strdup(names[i]);
        }
        hd_strv_free(names, count);
    }
    return 0;
}

static const struct {
    unsigned int flag;
    int (*fill)(struct hd_device *dev);
} fillers[] = {
    /* The parent comes from the link in sys/bus/pci/devices, the rest from the device's own
     * directory: last, so that directory is resolved once (sysfs.c keeps the last one). */
    {HD_FILL_IDENT, fill_ident},   {HD_FILL_GROUP, fill_group},   {HD_FILL_CONFIG, fill_config},
    {HD_FILL_NAMES, fill_names},   {HD_FILL_SRIOV, fill_sriov},   {HD_FILL_OVERRIDE, fill_override},
    {HD_FILL_EXTRA, fill_extra},   {HD_FILL_PARENT, fill_parent},
};

int hd_device_fill_fields(struct hd_device *dev, unsigned int fill, bool again)
{
    if (again) /* the device may have been remade since it was last read */
        hd_fs_distrust_dir(dev->ctx);
    /* Names need the ids. */
    if (fill & HD_FILL_NAMES)
        fill |= HD_FILL_IDENT;
    if (fill & HD_FILL_EXTRA) /* it always came with them */
        fill |= HD_FILL_OVERRIDE;
    for (size_t i = 0; i < HD_ARRAY_SIZE(fillers); i++) {
        int r;
        if (!(fill & fillers[i].flag) || (!again && (dev->filled & fillers[i].flag)))
            continue;
        r = fillers[i].fill(dev);
        if (r < 0)
            return r;
        dev->filled |= fillers[i].flag;
    }
    return 0;
}

const char *hd_device_get_driver_or(const struct hd_device *dev, const char *unbound)
{
    return dev->driver != NULL ? dev->driver : unbound;
}

bool hd_device_has_filled(const struct hd_device *dev, unsigned int fill)
{
    return (dev->filled & fill) == fill;
}

void hd_device_set_listed_group(struct hd_device *dev, int group)
{
    dev->group = group;
    dev->filled |= HD_FILL_GROUP;
}

HD_EXPORT int hd_device_fill(struct hd_device *dev, unsigned int fill)
{
    hd_fs_distrust_dir(dev->ctx); /* the caller's time since the last read is unknown */
    return hd_device_fill_fields(dev, fill, false);
}

HD_EXPORT int hd_device_refresh(struct hd_device *dev)
{
    /* Names do not change with binding; everything else may. */
    return hd_device_fill_fields(dev, dev->filled & ~(unsigned)HD_FILL_NAMES, true);
}

void hd_device_reread(struct hd_device *dev, unsigned int fill)
{
    struct hd_saved_error saved;

    hd_saved_error_save(dev->ctx, &saved, 0);
    if (hd_device_refresh(dev) < 0 || (fill != 0 && hd_device_fill(dev, fill) < 0))
        hd_saved_error_put_back(dev->ctx, &saved);
}

HD_EXPORT int hd_device_open(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                             struct hd_device **out)
{
    return hd_device_open_fill(ctx, addr, HD_FILL_ALL, out);
}

/* With HD_FILL_IDENT, the driver link is read too: one the kernel would not make is refused;
 * when @agree, one that names another driver than uevent did, too. */
static int open_fill(struct hd_ctx *ctx, const struct hd_pci_addr *addr, unsigned int fill,
                     bool agree, struct hd_device **out)
{
    struct hd_device *dev;
    char path[HD_PATH_MAX];
    int r;

    *out = NULL;
    dev = hd_device_new(ctx, addr);
    if (dev == NULL)
        return -ENOMEM;
    hd_fs_distrust_dir(ctx);
    r = hd_path(path, sizeof(path), "sys/bus/pci/devices/%s", dev->name);
    if (r == 0 && (fill & HD_FILL_PARENT)) {
        /* The link read for the parent says whether the device is there, too. */
        r = hd_device_fill_fields(dev, HD_FILL_PARENT, false);
    } else if (r == 0 && (fill & HD_FILL_GROUP) &&
               (r = hd_device_fill_fields(dev, HD_FILL_GROUP, false)) == 0 && dev->group >= 0) {
        /* So does its iommu_group link; without one (no IOMMU), the directory is looked for. */
    } else if (r == 0) {
        r = hd_fs_exists(ctx, path);
        if (r == 0)
            r = hd_err(ctx, -ENODEV, "%s: no such PCI device", dev->name);
    }
    if (r >= 0)
        r = hd_device_fill_fields(dev, fill, false);
    /* uevent told the driver; its link, which the kernel makes with it, must be one the kernel
     * makes too: a device named alone is refused for it (a listing takes the drivers' own
     * directories and reads no link). */
    if (r >= 0 && (fill & HD_FILL_IDENT)) {
        char link[128];
        r = agree ? hd_device_check_driver_link(dev) : read_driver_link(dev, link, sizeof(link));
    }
    if (r == -ENODEV && hd_ctx_last_error(ctx)[0] == '\0')
        r = hd_err(ctx, -ENODEV, "%s: no such PCI device", dev->name);
    if (r < 0) {
        hd_device_unref(dev);
        return r;
    }
    *out = dev;
    return 0;
}

HD_EXPORT int hd_device_open_fill(struct hd_ctx *ctx, const struct hd_pci_addr *addr,
                                  unsigned int fill, struct hd_device **out)
{
    return open_fill(ctx, addr, fill, false, out);
}

int hd_device_open_agreed(struct hd_ctx *ctx, const struct hd_pci_addr *addr, unsigned int fill,
                          struct hd_device **out)
{
    return open_fill(ctx, addr, fill, true, out);
}

HD_EXPORT struct hd_ctx *hd_device_get_ctx(const struct hd_device *dev)
{
    return dev->ctx;
}

HD_EXPORT const struct hd_pci_addr *hd_device_get_addr(const struct hd_device *dev)
{
    return &dev->addr;
}

HD_EXPORT const char *hd_device_get_name(const struct hd_device *dev)
{
    return dev->name;
}

HD_EXPORT uint16_t hd_device_get_vendor_id(const struct hd_device *dev)
{
    return dev->vendor;
}

HD_EXPORT uint16_t hd_device_get_device_id(const struct hd_device *dev)
{
    return dev->device;
}

HD_EXPORT uint16_t hd_device_get_subsystem_vendor_id(const struct hd_device *dev)
{
    return dev->subsystem_vendor;
}

HD_EXPORT uint16_t hd_device_get_subsystem_device_id(const struct hd_device *dev)
{
    return dev->subsystem_device;
}

HD_EXPORT uint32_t hd_device_get_class(const struct hd_device *dev)
{
    return dev->class;
}

HD_EXPORT int hd_device_get_revision(const struct hd_device *dev)
{
    return dev->revision;
}

HD_EXPORT int hd_device_get_header_type(const struct hd_device *dev)
{
    return dev->header_type;
}

HD_EXPORT const char *hd_device_get_vendor_name(const struct hd_device *dev)
{
    return dev->vendor_name;
}

HD_EXPORT const char *hd_device_get_product_name(const struct hd_device *dev)
{
    return dev->product_name;
}

HD_EXPORT const char *hd_device_get_modalias(const struct hd_device *dev)
{
    return dev->modalias;
}

HD_EXPORT const char *hd_device_get_driver(const struct hd_device *dev)
{
    return dev->driver;
}

HD_EXPORT const char *hd_device_get_driver_override(const struct hd_device *dev)
{
    return dev->driver_override;
}

HD_EXPORT bool hd_device_has_driver_override(const struct hd_device *dev)
{
    return dev->has_driver_override;
}

HD_EXPORT int hd_device_get_iommu_group(const struct hd_device *dev)
{
    return dev->group;
}

HD_EXPORT int hd_device_get_numa_node(const struct hd_device *dev)
{
    return dev->ext ? dev->ext->numa_node : -1;
}

HD_EXPORT const struct hd_pci_addr *hd_device_get_parent(const struct hd_device *dev)
{
    return dev->ext && dev->ext->has_parent ? &dev->ext->parent : NULL;
}

HD_EXPORT const struct hd_pci_addr *hd_device_get_physfn(const struct hd_device *dev)
{
    return dev->has_physfn ? &dev->physfn : NULL;
}

HD_EXPORT size_t hd_device_get_virtfn_count(const struct hd_device *dev)
{
    return dev->ext ? dev->ext->nvirtfns : 0;
}

HD_EXPORT const struct hd_pci_addr *hd_device_get_virtfn(const struct hd_device *dev, size_t i)
{
    return dev->ext && i < dev->ext->nvirtfns ? &dev->ext->virtfns[i] : NULL;
}

HD_EXPORT int hd_device_get_sriov_totalvfs(const struct hd_device *dev)
{
    return dev->ext ? dev->ext->totalvfs : -1;
}

HD_EXPORT int hd_device_get_sriov_numvfs(const struct hd_device *dev)
{
    return dev->ext ? dev->ext->numvfs : -1;
}

HD_EXPORT int hd_device_get_sriov_autoprobe(const struct hd_device *dev)
{
    return dev->ext ? dev->ext->autoprobe : -1;
}

HD_EXPORT bool hd_device_has_reset(const struct hd_device *dev)
{
    return dev->ext ? dev->ext->has_reset : false;
}

HD_EXPORT const char *hd_device_get_reset_methods(const struct hd_device *dev)
{
    return dev->ext ? dev->ext->reset_methods : NULL;
}

bool hd_device_known_not_on_vfio(const struct hd_device *dev)
{
    return dev->not_on_vfio;
}

void hd_device_set_not_on_vfio(const struct hd_device *dev)
{
    /* A cache of a kernel fact beside the snapshot, not the device's state: a const device
     * may keep it. */
    ((struct hd_device *)dev)->not_on_vfio = true;
}

HD_EXPORT const char *hd_device_get_vfio_cdev(const struct hd_device *dev)
{
    return dev->ext ? dev->ext->vfio_cdev : NULL;
}

HD_EXPORT bool hd_device_is_bridge(const struct hd_device *dev)
{
    uint32_t cls = dev->class >> 8;

    if (dev->header_type == 1 || dev->header_type == 2)
        return true;
    /* Without config space, the class says it: PCI, CardBus and semi-transparent bridges. */
    return dev->header_type < 0 && (cls == 0x0604 || cls == 0x0607 || cls == 0x0609);
}

HD_EXPORT bool hd_device_is_assignable(const struct hd_device *dev)
{
    return !hd_device_is_bridge(dev) && (dev->header_type == 0 || dev->header_type < 0);
}

HD_EXPORT int hd_device_check_endpoint(struct hd_device *dev, const char *refusal)
{
    int r;

    /* A VF is an endpoint (SR-IOV: type 0); anything else is judged by its header type, read
     * here if it was not yet: a refusal, or the write it lets through, rests on no guess. */
    if (!dev->has_physfn && (r = hd_device_fill_fields(dev, HD_FILL_CONFIG, false)) < 0)
        return r;
    if (hd_device_is_assignable(dev))
        return 0;
    return hd_errr(dev->ctx, -EINVAL, HD_REASON_INVALID,
                   "%s is a bridge (header type %d), not an endpoint: %s", dev->name,
                   dev->header_type, refusal);
}
