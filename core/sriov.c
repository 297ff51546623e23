/* sriov.c - set the number of SR-IOV VFs of a PF: through 0, bounded waits, undo. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* How many virtfnN links the PF has now, or -errno. */
static int count_virtfns(struct hd_ctx *ctx, const char *pf)
{
    char path[HD_PATH_MAX];
    char **names;
    size_t n;
    int count = 0, r;

    r = hd_path(path, sizeof(path), "sys/bus/pci/devices/%s", pf);
    if (r < 0)
        return r;
    r = hd_fs_list_dir(ctx, path, &names, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], "virtfn", 6) == 0)
            count++;
    }
    hd_strv_free(names, n);
    return count;
}

struct wait_virtfns {
    struct hd_ctx *ctx;
    const char *pf;
    unsigned int want;
    int seen;
};

static int virtfns_as_wanted(void *data)
{
    struct wait_virtfns *w = data;
    int n = count_virtfns(w->ctx, w->pf);

    if (n < 0)
        return n;
    w->seen = n;
    return (unsigned int)n == w->want;
}

/* Poll (bounded) until the PF shows exactly @want VFs. 0, -ETIMEDOUT, or -errno. */
static int wait_virtfns(struct hd_ctx *ctx, const char *pf, unsigned int want, int *seen)
{
    struct wait_virtfns w = {ctx, pf, want, -1};
    int r = hd_poll(hd_ctx_get_timeout_ms(ctx), virtfns_as_wanted, &w);

    *seen = w.seen;
    return r;
}

static int read_uint(struct hd_ctx *ctx, const char *pf, const char *attr, unsigned int *out)
{
    char path[HD_PATH_MAX], buf[32];
    unsigned long long v;
    ssize_t n;
    int r;

    r = hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/%s", pf, attr);
    if (r < 0)
        return r;
    n = hd_fs_read_attr(ctx, path, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    r = hd_parse_uint(buf, 10, 0xffff, &v);
    if (r < 0)
        return r;
    *out = (unsigned int)v;
    return 0;
}

/* Write @n to sriov_numvfs (in a child with the context timeout: removing VFs waits for their
 * drivers and users to let go) and wait for the virtfn links to match. */
/* sriov_numvfs said ENOENT: only the PF's driver creates VFs (sriov_configure). Which one is
 * bound, and why it would not. */
static void why_no_vfs(struct hd_ctx *ctx, const char *pf, char *hint, size_t size)
{
    char drv[HD_DRIVER_NAME_MAX] = "";
    struct hd_device *dev = NULL;
    struct hd_pci_addr a;

    if (hd_pci_addr_parse(pf, &a) == 0 && hd_device_open(ctx, &a, &dev) == 0)
        hd_device_read_driver(dev, drv, sizeof(drv));
    hd_device_unref(dev);
    if (drv[0] == '\0')
        snprintf(hint, size, " (the PF has no driver, and only its driver creates VFs)");
    else if (hd_driver_is_vfio(drv))
        snprintf(hint, size, " (%s creates VFs only with its enable_sriov parameter set to Y)",
                 drv);
    else
        snprintf(hint, size, " (its driver %s cannot create VFs)", drv);
}

static int write_numvfs(struct hd_ctx *ctx, const char *pf, unsigned int n, char *why,
                        size_t whysize)
{
    char path[HD_PATH_MAX], value[16];
    int r, seen = -1;

    r = hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_numvfs", pf);
    if (r < 0)
        return r;
    snprintf(value, sizeof(value), "%u", n);
    r = hd_fs_write_attr_timeout(ctx, path, value, hd_ctx_get_timeout_ms(ctx));
    if (r == -ETIMEDOUT) {
        snprintf(why, whysize,
                 "writing %u to sriov_numvfs did not return within %u ms (a VF "
                 "still in use?)",
                 n, hd_ctx_get_timeout_ms(ctx));
        return r;
    }
    if (r < 0) {
        char hint[160] = "";
        if (r == -ENOENT)
            why_no_vfs(ctx, pf, hint, sizeof(hint));
        else if (r == -EBUSY)
            snprintf(hint, sizeof(hint), " (VFs already exist or are in use)");
        snprintf(why, whysize, "writing %u to sriov_numvfs: %s%s", n, strerror(-r), hint);
        return r;
    }
    r = wait_virtfns(ctx, pf, n, &seen);
    if (r < 0) {
        snprintf(why, whysize, "the kernel took %u VFs but shows %d virtfn links after %u ms", n,
                 seen, hd_ctx_get_timeout_ms(ctx));
        return r;
    }
    return 0;
}

int hd_sriov_set_numvfs(struct hd_device *dev, unsigned int numvfs)
{
    char path[HD_PATH_MAX], why[256] = "", why2[256] = "";
    struct hd_ctx *ctx;
    const char *pf;
    unsigned int total, cur, autoprobe = 0;
    int r, r2;

    if (dev == NULL)
        return -EINVAL;
    ctx = hd_device_get_ctx(dev);
    pf = hd_device_get_name(dev);
    r = hd_device_refresh(dev);
    if (r < 0)
        return r;
    if (hd_device_get_physfn(dev) != NULL)
        return hd_err(ctx, -ENOTSUP, "%s is itself a virtual function, not a PF", pf);
    if (hd_device_get_sriov_totalvfs(dev) < 0)
        return hd_err(ctx, -ENOTSUP, "%s is not SR-IOV capable (no sriov_totalvfs)", pf);
    total = (unsigned int)hd_device_get_sriov_totalvfs(dev);
    if (numvfs > total)
        return hd_err(ctx, -ERANGE, "%s supports at most %u VFs (sriov_totalvfs), not %u", pf,
                      total, numvfs);
    if (hd_device_get_sriov_numvfs(dev) < 0)
        return hd_err(ctx, -EIO, "%s: sriov_numvfs is missing or unreadable", pf);
    cur = (unsigned int)hd_device_get_sriov_numvfs(dev);

    /* VFs must come up unbound, ready for vfio-pci, not grabbed by a host driver first. */
    r = read_uint(ctx, pf, "sriov_drivers_autoprobe", &autoprobe);
    if (r == 0 && autoprobe != 0) {
        hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
        r = hd_fs_write_attr(ctx, path, "0");
        if (r < 0)
            return hd_err(ctx, r, "%s: writing 0 to sriov_drivers_autoprobe: %s", pf, strerror(-r));
        hd_info(ctx, "%s: sriov_drivers_autoprobe 1 -> 0", pf);
    }

    if (cur == numvfs) {
        int seen = -1;
        r = wait_virtfns(ctx, pf, numvfs, &seen);
        if (r < 0)
            return hd_err(ctx, r, "%s: sriov_numvfs is %u but %d virtfn links are there", pf, cur,
                          seen);
        return (int)cur;
    }
    /* The kernel refuses N -> M with EBUSY when both are non-zero: go through 0. */
    if (cur != 0) {
        r = write_numvfs(ctx, pf, 0, why, sizeof(why));
        if (r < 0)
            return hd_err(ctx, r, "%s: removing the %u VFs failed: %s", pf, cur, why);
    }
    if (numvfs != 0) {
        r = write_numvfs(ctx, pf, numvfs, why, sizeof(why));
        if (r < 0) {
            r2 = write_numvfs(ctx, pf, 0, why2, sizeof(why2));
            if (cur == 0)
                return hd_err(ctx, r, "%s: %s; %s", pf, why,
                              r2 == 0 ? "no VFs left, as before" : why2);
            /* The VFs come back as they were: probed by their host driver if they were. */
            if (r2 == 0 && autoprobe != 0) {
                hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe",
                        pf);
                r2 = hd_fs_write_attr(ctx, path, "1");
                if (r2 < 0)
                    snprintf(why2, sizeof(why2), "writing 1 to sriov_drivers_autoprobe: %s",
                             strerror(-r2));
            }
            if (r2 == 0)
                r2 = write_numvfs(ctx, pf, cur, why2, sizeof(why2));
            if (r2 == 0)
                return hd_err(ctx, r, "%s: %s; the previous %u VFs were put back", pf, why, cur);
            return hd_err(ctx, r, "%s: %s; putting the previous %u VFs back failed too: %s", pf,
                          why, cur, why2);
        }
    }
    hd_info(ctx, "%s: sriov_numvfs %u -> %u", pf, cur, numvfs);
    r = hd_device_refresh(dev);
    return r < 0 ? r : (int)cur;
}

int hd_sriov_restore(struct hd_ctx *ctx, const struct hd_pci_addr *addr, int numvfs,
                     int autoprobe)
{
    char pf[HD_PCI_ADDR_BUFSZ], path[HD_PATH_MAX], why[256] = "";
    unsigned int cur;
    int r;

    hd_pci_addr_format(addr, pf);
    /* Autoprobe first: VFs that come back are probed as they were before. */
    if (autoprobe >= 0 &&
        hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf) == 0 &&
        (r = hd_fs_write_attr(ctx, path, autoprobe ? "1" : "0")) < 0 && r != -ENOENT)
        return hd_err(ctx, r, "%s: restoring sriov_drivers_autoprobe: %s", pf, strerror(-r));
    if ((r = read_uint(ctx, pf, "sriov_numvfs", &cur)) < 0)
        return r == -ENOENT ? 0 : r; /* the PF is gone */
    if (numvfs < 0 || cur == (unsigned int)numvfs)
        return 0;
    if ((cur != 0 && (r = write_numvfs(ctx, pf, 0, why, sizeof(why))) < 0) ||
        (numvfs != 0 && (r = write_numvfs(ctx, pf, (unsigned)numvfs, why, sizeof(why))) < 0))
        return hd_err(ctx, r, "%s: putting back %d VFs: %s", pf, numvfs, why);
    return 0;
}
