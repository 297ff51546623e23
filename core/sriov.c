/* sriov.c - set the number of SR-IOV VFs of a PF: through 0, bounded waits, undo. */
#include <stdio.h>
#include <stdlib.h>
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

/* HD_AUTOPROBE_RECORD holds "1" while the PF's sriov_drivers_autoprobe is 0 because a count
 * of ours turned it off: the count of 0 gives it back (no VF is left for it to keep unbound). */
bool hd_sriov_autoprobe_was_on(struct hd_ctx *ctx, const char *pf)
{
    char *value = NULL;
    bool on = hd_state_get(ctx, HD_AUTOPROBE_RECORD, pf, &value) == 0 && strcmp(value, "1") == 0;

    free(value);
    hd_ctx_clear_error(ctx);
    return on;
}

/* Autoprobe back to 1 as it was (an undo, a PF's VFs put back): no longer ours to give back. */
static int autoprobe_on(struct hd_device *dev)
{
    int r = hd_device_write_attr(dev, "sriov_drivers_autoprobe", "1");

    if (r == 0)
        hd_state_del(hd_device_get_ctx(dev), HD_AUTOPROBE_RECORD, hd_device_get_name(dev));
    return r;
}

/* sriov_numvfs said ENOENT: only the PF's driver creates VFs (sriov_configure). Which one is
 * bound, and why it would not. A hint: the driver link alone is read, and nothing it finds is
 * an error of the caller's (none is left on the context). */
static void why_no_vfs(struct hd_device *pf, char *hint, size_t size)
{
    char drv[HD_DRIVER_NAME_MAX];

    if (hd_device_read_driver(pf, drv, sizeof(drv)) < 0)
        hint[0] = '\0';
    else if (drv[0] == '\0')
        snprintf(hint, size, " (the PF has no driver, and only its driver creates VFs)");
    else if (strcmp(drv, hd_stub_vfio_pci.name) == 0)
        snprintf(hint, size, " (%s creates VFs only with its enable_sriov parameter set to Y)",
                 drv);
    else if (!hd_sriov_variant_makes_none(hd_device_get_ctx(pf), hd_device_get_name(pf), drv,
                                          hint, size))
        snprintf(hint, size, " (its driver %s cannot create VFs)", drv);
}

bool hd_sriov_variant_makes_none(struct hd_ctx *ctx, const char *pf, const char *driver,
                                 char *hint, size_t size)
{
    /* No in-tree variant has sriov_configure. */
    if (strcmp(driver, hd_stub_vfio_pci.name) == 0 || !hd_bound_to_vfio(ctx, pf, driver))
        return false;
    snprintf(hint, size,
             " (its driver %s, a vfio-pci variant, cannot create VFs: only the PF's host "
             "driver, or vfio-pci loaded with enable_sriov=1, makes them)", driver);
    return true;
}

/* Write @n to sriov_numvfs (in a child with the context timeout: removing VFs waits for their
 * drivers and users to let go) and wait for the virtfn links to match. */
static int write_numvfs(struct hd_device *dev, unsigned int n, char *why, size_t whysize)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    const char *pf = hd_device_get_name(dev);
    char path[HD_PATH_MAX], value[16];
    int r, seen = -1;

    r = hd_device_attr_path(dev, "sriov_numvfs", path, sizeof(path));
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
        char hint[256] = "";
        if (r == -ENOENT)
            why_no_vfs(dev, hint, sizeof(hint));
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
    char why[384] = "", why2[384] = "";
    struct hd_ctx *ctx;
    const char *pf;
    unsigned int total, cur;
    int autoprobe;
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

    /* The same count changes nothing, not even autoprobe: VFs a VM holds may be among them. */
    if (cur == numvfs) {
        int seen = -1;
        r = wait_virtfns(ctx, pf, numvfs, &seen);
        if (r < 0)
            return hd_err(ctx, r, "%s: sriov_numvfs is %u but %d virtfn links are there", pf, cur,
                          seen);
        return (int)cur;
    }

    /* VFs must come up unbound, ready for vfio-pci, not grabbed by a host driver first; what
     * it was is recorded first, for the count of 0 to give back. */
    autoprobe = hd_device_get_sriov_autoprobe(dev);
    if (autoprobe > 0 && numvfs != 0) {
        if ((r = hd_state_put(ctx, HD_AUTOPROBE_RECORD, pf, "1")) < 0)
            return hd_err(ctx, r, "%s: recording its sriov_drivers_autoprobe 1 in %s/%s: %s", pf,
                          hd_ctx_get_state_dir(ctx), HD_AUTOPROBE_RECORD, strerror(-r));
        if ((r = hd_device_write_attr(dev, "sriov_drivers_autoprobe", "0")) < 0)
            return hd_err(ctx, r, "%s: writing 0 to sriov_drivers_autoprobe: %s", pf, strerror(-r));
        hd_info(ctx, "%s: sriov_drivers_autoprobe 1 -> 0", pf);
    }

    /* The kernel refuses N -> M with EBUSY when both are non-zero: go through 0. */
    if (cur != 0) {
        r = write_numvfs(dev, 0, why, sizeof(why));
        if (r < 0)
            return hd_err(ctx, r, "%s: removing the %u VFs failed: %s", pf, cur, why);
    }
    if (numvfs != 0) {
        r = write_numvfs(dev, numvfs, why, sizeof(why));
        if (r < 0) {
            r2 = write_numvfs(dev, 0, why2, sizeof(why2));
            if (cur == 0)
                return hd_err(ctx, r, "%s: %s; %s", pf, why,
                              r2 == 0 ? "no VFs left, as before" : why2);
            /* The VFs come back as they were: probed by their host driver if they were. */
            if (r2 == 0 && autoprobe > 0) {
                r2 = autoprobe_on(dev);
                if (r2 < 0)
                    snprintf(why2, sizeof(why2), "writing 1 to sriov_drivers_autoprobe: %s",
                             strerror(-r2));
            }
            if (r2 == 0)
                r2 = write_numvfs(dev, cur, why2, sizeof(why2));
            if (r2 == 0)
                return hd_err(ctx, r, "%s: %s; the previous %u VFs were put back", pf, why, cur);
            return hd_err(ctx, r, "%s: %s; putting the previous %u VFs back failed too: %s", pf,
                          why, cur, why2);
        }
    }
    hd_info(ctx, "%s: sriov_numvfs %u -> %u", pf, cur, numvfs);
    /* No VF left: autoprobe as it was before a count of ours turned it off. The record stays
     * until the commit (the caller's hd_txn_drop_at_commit()): an undo puts 0 back, and a later
     * count of 0 must still find it. */
    if (numvfs == 0 && autoprobe == 0 && hd_sriov_autoprobe_was_on(ctx, pf)) {
        if ((r = hd_device_write_attr(dev, "sriov_drivers_autoprobe", "1")) < 0)
            return hd_err(ctx, r, "%s: writing 1 to sriov_drivers_autoprobe: %s", pf,
                          strerror(-r));
        hd_info(ctx, "%s: sriov_drivers_autoprobe 0 -> 1", pf);
    }
    r = hd_device_refresh(dev);
    return r < 0 ? r : (int)cur;
}

int hd_sriov_restore(struct hd_ctx *ctx, const struct hd_pci_addr *addr, int numvfs,
                     int autoprobe)
{
    struct hd_device *dev = hd_device_new(ctx, addr);
    char why[384] = "";
    int cur, r;

    if (dev == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    /* Autoprobe first: VFs that come back are probed as they were before. */
    if (autoprobe >= 0 &&
        (r = autoprobe ? autoprobe_on(dev)
                       : hd_device_write_attr(dev, "sriov_drivers_autoprobe", "0")) < 0 &&
        r != -ENOENT)
        r = hd_err(ctx, r, "%s: restoring sriov_drivers_autoprobe: %s", hd_device_get_name(dev),
                   strerror(-r));
    else if ((r = hd_device_read_int(dev, "sriov_numvfs", 0, 65535, &cur)) < 0)
        r = r == -ENOENT ? 0 : r; /* the PF is gone */
    else if (numvfs >= 0 && cur != numvfs &&
             ((cur != 0 && (r = write_numvfs(dev, 0, why, sizeof(why))) < 0) ||
              (numvfs != 0 && (r = write_numvfs(dev, (unsigned)numvfs, why, sizeof(why))) < 0)))
        r = hd_err(ctx, r, "%s: putting back %d VFs: %s", hd_device_get_name(dev), numvfs, why);
    else
        r = 0;
    hd_device_unref(dev);
    return r;
}

int hd_sriov_read_pf_driver(struct hd_device *vf, char *buf, size_t size)
{
    const struct hd_pci_addr *physfn = hd_device_get_physfn(vf);
    struct hd_device *pf;
    int r;

    if (physfn == NULL)
        return -ENODEV;
    if ((r = hd_device_open_fill(hd_device_get_ctx(vf), physfn, 0, &pf)) < 0)
        return r;
    r = hd_device_read_driver(pf, buf, size);
    hd_device_unref(pf);
    return r;
}

/* No driver registered under @name: an override naming it binds nothing. Not a usable name, or
 * the look failing, is not taken for that; nor is a stub's name (vfio-pci not loaded yet): the
 * capture writes one only as the PF's own driver. */
static bool no_driver_named(struct hd_ctx *ctx, const char *name)
{
    char path[HD_PATH_MAX];

    return hd_name_valid(name) && hd_stub_driver_find(name) == NULL &&
           hd_path(path, sizeof(path), "sys/bus/pci/drivers/%s", name) == 0 &&
           hd_fs_exists(ctx, path) == 0;
}

/* @vf's PF is bound to vfio-pci or a variant, that driver's name in @driver (@size bytes);
 * false for no VF and for a PF that cannot be read. */
static bool pf_on_vfio(struct hd_device *vf, char *driver, size_t size)
{
    struct hd_ctx *ctx = hd_device_get_ctx(vf);
    char pf[HD_PCI_ADDR_BUFSZ];
    bool on;

    if (hd_device_get_physfn(vf) == NULL)
        return false;
    on = hd_sriov_read_pf_driver(vf, driver, size) == 0 &&
         hd_bound_to_vfio(ctx, hd_pci_addr_format(hd_device_get_physfn(vf), pf), driver);
    hd_ctx_clear_error(ctx); /* a PF that cannot be read is on no driver of vfio's */
    return on;
}

/* vfio-pci opens such a VF only with the VF token its PF was given (VFIO_DEVICE_FEATURE
 * PCI_VF_TOKEN), which libvirt never passes. */
HD_EXPORT bool hd_device_needs_vf_token(struct hd_device *dev)
{
    char driver[HD_DRIVER_NAME_MAX];

    return pf_on_vfio(dev, driver, sizeof(driver));
}

/* What the kernel shows, not how a variant names its vfio device (that name is the variant's
 * to choose, and sysfs shows it nowhere): the PF on a vfio-pci family driver, and the VF's
 * override either that driver or a name no driver has, as only the capture writes. */
HD_EXPORT int hd_device_get_capturing_driver(struct hd_device *dev, char *buf, size_t size)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    const char *ovr = hd_device_get_driver_override(dev);
    char driver[HD_DRIVER_NAME_MAX];
    bool captured;

    if (ovr == NULL)
        return 0;
    captured = pf_on_vfio(dev, driver, sizeof(driver)) &&
               (strcmp(ovr, driver) == 0 || no_driver_named(ctx, ovr));
    hd_ctx_clear_error(ctx);
    if (captured && buf != NULL)
        hd_strlcpy(buf, driver, size);
    return captured;
}

HD_EXPORT bool hd_device_is_captured_by_pf(struct hd_device *dev)
{
    return hd_device_get_capturing_driver(dev, NULL, 0) == 1;
}
