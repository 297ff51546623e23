/* bind.c - detach a device to a stub driver and reattach it to its host driver. Every step is
 * verified by reading the driver link back (drivers_probe reports success even when the probe
 * fails), and every failure puts the device back where it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* How long an asynchronous probe may take to show in the driver link. */
#define PROBE_GRACE_MS 1000

static int driver_file(char *buf, size_t size, const char *driver, const char *file)
{
    if (!hd_name_valid(driver))
        return -EINVAL;
    return hd_path(buf, size, "sys/bus/pci/drivers/%s/%s", driver, file);
}

/* On a stub now (vfio-pci, a variant, pci-stub): leaving it is not leaving a host driver. */
bool hd_device_on_stub(const struct hd_device *dev)
{
    return hd_driver_is_stub(hd_device_get_driver(dev)) || hd_device_is_on_vfio(dev);
}

/* Module-derived names use '_' where driver names may use '-': the kernel's own rule for
 * parameter and module names. */
static bool driver_is(const char *bound, const char *want)
{
    return hd_cmdline_name_equal(bound, want);
}

/* Wait, briefly, for the driver link to name @want ("" = unbound, NULL = any driver). */
static int wait_driver(struct hd_device *dev, const char *want, char *got, size_t size)
{
    uint64_t deadline = hd_now_ms() + PROBE_GRACE_MS;
    unsigned int delay = 1;

    for (;;) {
        int r = hd_device_read_driver(dev, got, size);
        if (r < 0)
            return r;
        if (want == NULL ? got[0] != '\0' : want[0] ? driver_is(got, want) : got[0] == '\0')
            return 0;
        /* A different driver already bound will not change by itself. */
        if (got[0] != '\0' || hd_now_ms() >= deadline)
            return -EIO;
        hd_sleep_ms(delay);
        delay = delay < 32 ? delay * 2 : delay;
    }
}

static int unbind(struct hd_device *dev, const char *driver)
{
    const char *name = hd_device_get_name(dev);
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    char path[HD_PATH_MAX], now[256];
    int r = driver_file(path, sizeof(path), driver, "unbind");

    if (r < 0)
        return hd_err(ctx, r, "%s: driver name '%s' is not usable in a path", name, driver);
    hd_info(ctx, "%s: unbinding from %s", name, driver);
    r = hd_fs_write_attr_timeout(ctx, path, name, hd_ctx_get_timeout_ms(ctx));
    if (r == -ETIMEDOUT) {
        hd_device_read_driver(dev, now, sizeof(now));
        return hd_err(ctx, r,
                      "%s: unbinding from %s did not finish in %u ms (its remove() "
                      "hangs; see the kernel log); the device is %s%s",
                      name, driver, hd_ctx_get_timeout_ms(ctx),
                      now[0] ? "still bound to " : "now unbound", now);
    }
    if (r == -ENODEV && hd_device_read_driver(dev, now, sizeof(now)) == 0 &&
        !driver_is(now, driver))
        return 0; /* it left that driver on its own meanwhile */
    if (r < 0)
        return hd_err(ctx, r, "%s: unbinding from %s failed: %s", name, driver, strerror(-r));
    return 0;
}

static int drivers_probe(struct hd_device *dev)
{
    int r = hd_fs_write_attr(hd_device_get_ctx(dev), "sys/bus/pci/drivers_probe",
                             hd_device_get_name(dev));

    if (r < 0)
        return hd_err(hd_device_get_ctx(dev), r, "%s: drivers_probe failed: %s",
                      hd_device_get_name(dev), strerror(-r));
    return 0;
}

static int set_override(struct hd_device *dev, const char *driver)
{
    /* A lone newline clears it; the kernel takes the value with or without one. */
    int r = hd_device_write_attr(dev, "driver_override", driver ? driver : "\n");

    if (r < 0)
        return hd_err(hd_device_get_ctx(dev), r, "%s: writing driver_override failed: %s",
                      hd_device_get_name(dev), strerror(-r));
    return 0;
}

static int vfio_node_path(const struct hd_device *dev, char *buf, size_t size)
{
    return hd_path(buf, size, "dev/vfio/%d", hd_device_get_iommu_group(dev));
}

/* Put a device whose detach failed back on @original (NULL: it was unbound), with the
 * driver_override it had (@override, NULL: none). Best effort: the first error is the one the
 * caller reports. */
static void restore(struct hd_device *dev, const struct hd_stub_driver *stub,
                    const char *original, bool use_override, const char *override)
{
    char now[256];
    /* Back to a stub it held without an override (pci-stub.ids=, new_id): a probe would find
     * the host driver first, so the override steers it, and then goes back to none. */
    bool steer = use_override && original != NULL && hd_driver_is_stub(original) &&
                 (override == NULL || !driver_is(override, original));

    if (use_override)
        set_override(dev, steer ? original : override);
    if (hd_device_read_driver(dev, now, sizeof(now)) == 0 && now[0] != '\0' &&
        (original == NULL || !driver_is(now, original)))
        unbind(dev, now);
    if (original != NULL && hd_device_read_driver(dev, now, sizeof(now)) == 0 && now[0] == '\0') {
        char path[HD_PATH_MAX];
        drivers_probe(dev);
        if (wait_driver(dev, original, now, sizeof(now)) < 0 &&
            driver_file(path, sizeof(path), original, "bind") == 0)
            hd_fs_write_attr(hd_device_get_ctx(dev), path, hd_device_get_name(dev));
    }
    if (steer)
        set_override(dev, override);
    hd_info(hd_device_get_ctx(dev), "%s: restored after a failed bind to %s",
            hd_device_get_name(dev), stub->name);
}

/* Bind through driver_override: set it, unbind, probe. */
static int bind_override(struct hd_device *dev, const struct hd_stub_driver *stub,
                         const char *original)
{
    int r = set_override(dev, stub->name);

    if (r < 0)
        return r;
    if (original != NULL && (r = unbind(dev, original)) < 0) {
        if (r != -ETIMEDOUT)
            set_override(dev, NULL);
        return r;
    }
    return drivers_probe(dev);
}

/* Devices with these ids that no driver holds: new_id would grab every one of them. */
static int unbound_twins(struct hd_device *dev, struct hd_pci_addr **out, size_t *n)
{
    struct hd_device_list *list;
    int r = hd_device_list_new(hd_device_get_ctx(dev), HD_FILL_IDENT, &list);

    *out = NULL;
    *n = 0;
    if (r < 0)
        return r;
    *out = calloc(hd_device_list_count(list) + 1, sizeof(**out));
    if (*out == NULL) {
        hd_device_list_unref(list);
        return -ENOMEM;
    }
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *d = hd_device_list_get(list, i);
        if (hd_device_get_vendor_id(d) == hd_device_get_vendor_id(dev) &&
            hd_device_get_device_id(d) == hd_device_get_device_id(dev) &&
            hd_device_get_driver(d) == NULL &&
            !hd_pci_addr_equal(hd_device_get_addr(d), hd_device_get_addr(dev)))
            (*out)[(*n)++] = *hd_device_get_addr(d);
    }
    hd_device_list_unref(list);
    return 0;
}

/* Bind through new_id (kernels without driver_override): new_id binds every unbound device
 * with these ids, so the twins it grabbed are let go again, and the id is removed so that
 * hotplugged devices are not grabbed later. */
static int bind_new_id(struct hd_device *dev, const struct hd_stub_driver *stub,
                       const char *original)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    char ids[16], path[HD_PATH_MAX], now[256];
    struct hd_pci_addr *twins;
    bool added = false;
    size_t ntwins;
    int r;

    snprintf(ids, sizeof(ids), "%04x %04x", hd_device_get_vendor_id(dev),
             hd_device_get_device_id(dev));
    if ((r = unbound_twins(dev, &twins, &ntwins)) < 0)
        return r;
    if (original != NULL && (r = unbind(dev, original)) < 0)
        goto out;
    driver_file(path, sizeof(path), stub->name, "new_id");
    r = hd_fs_write_attr(ctx, path, ids);
    if (r == 0)
        added = true;
    else if (r != -EEXIST) /* already there: someone else's id, leave it */
        r = hd_err(ctx, r, "%s: writing '%s' to %s new_id failed: %s", hd_device_get_name(dev), ids,
                   stub->name, strerror(-r));
    if (r < 0 && r != -EEXIST)
        goto out;
    r = 0;
    if (hd_device_read_driver(dev, now, sizeof(now)) == 0 && now[0] == '\0') {
        driver_file(path, sizeof(path), stub->name, "bind");
        r = hd_fs_write_attr(ctx, path, hd_device_get_name(dev));
        if (r < 0)
            r = hd_err(ctx, r, "%s: binding to %s failed: %s", hd_device_get_name(dev), stub->name,
                       strerror(-r));
    }
    if (added) {
        driver_file(path, sizeof(path), stub->name, "remove_id");
        hd_fs_write_attr(ctx, path, ids);
    }
    for (size_t i = 0; i < ntwins; i++) {
        struct hd_device *twin = hd_device_new(ctx, &twins[i]);
        if (twin == NULL)
            continue;
        if (hd_device_read_driver(twin, now, sizeof(now)) == 0 && driver_is(now, stub->name)) {
            hd_info(ctx, "%s: new_id also grabbed %s; letting it go", hd_device_get_name(dev),
                    hd_device_get_name(twin));
            unbind(twin, stub->name);
        }
        hd_device_unref(twin);
    }
out:
    free(twins);
    return r;
}

static int verify_detached(struct hd_device *dev, const struct hd_stub_driver *stub)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    char now[256], node[HD_PATH_MAX];
    int r = wait_driver(dev, stub->name, now, sizeof(now));

    if (r < 0)
        return hd_err(ctx, -EIO,
                      "%s: %s did not take the device (it is %s%s%s); the kernel "
                      "log says why",
                      hd_device_get_name(dev), stub->name, now[0] ? "bound to " : "unbound", now,
                      stub->vfio && hd_device_get_iommu_group(dev) < 0 ? ": no IOMMU group" : "");
    if (stub->vfio && hd_device_get_iommu_group(dev) < 0) {
        /* No group before: vfio's no-IOMMU mode made one with the bind, and its node is
         * dev/vfio/noiommu-N. */
        int r2 = hd_device_fill_fields(dev, HD_FILL_GROUP, true);
        if (r2 < 0 || hd_device_get_iommu_group(dev) < 0)
            return hd_err(ctx, -EIO, "%s: bound to %s but it has no IOMMU group: vfio's "
                          "no-IOMMU mode did not make one", hd_device_get_name(dev), stub->name);
        hd_path(node, sizeof(node), "dev/vfio/noiommu-%d", hd_device_get_iommu_group(dev));
        if (hd_fs_wait_for(ctx, node, true, hd_ctx_get_timeout_ms(ctx)) < 0)
            return hd_err(ctx, -EIO, "%s: bound to %s but %s/%s did not appear",
                          hd_device_get_name(dev), stub->name, hd_ctx_get_root(ctx), node);
    } else if (stub->vfio) {
        vfio_node_path(dev, node, sizeof(node));
        if (hd_fs_wait_for(ctx, node, true, hd_ctx_get_timeout_ms(ctx)) < 0)
            return hd_err(ctx, -EIO, "%s: bound to %s but %s/%s did not appear",
                          hd_device_get_name(dev), stub->name, hd_ctx_get_root(ctx), node);
    }
    return 0;
}

/* What the device is now, unless the caller read it under its locks a moment ago. */
static int refresh_unless_fresh(struct hd_device *dev, unsigned int flags)
{
    int r = flags & HD_BIND_FRESH ? 0 : hd_txn_refresh(dev);

    if (r == -ENODEV) /* opened a moment ago, e.g. listed with its group: unplugged since */
        return hd_err(hd_device_get_ctx(dev), r,
                      "%s: the device went away (it is no longer in sysfs)",
                      hd_device_get_name(dev));
    return r;
}

/* A kernel driver's name: letters, digits and _ - . : + (what the PCI core registers), so a
 * record can never carry control bytes or broken UTF-8 to a terminal or a JSON reader. */
static bool driver_name_valid(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:+");

    return n < HD_DRIVER_NAME_MAX && s[n] == '\0' && hd_name_valid(s);
}

/* The record of @dev leaving @original (NULL: none) for @stub, with the driver_override it
 * has unless that names @stub (the bind's own, or a reservation's made before the stub was
 * there): split_record()'s form. */
static int put_record(struct hd_device *dev, const char *original, const char *stub,
                      unsigned int flags)
{
    const char *ovr = hd_device_get_driver_override(dev);

    /* Unbound at boot: not probed yet, so its driver is whatever the kernel would bind. */
    if (original == NULL && (flags & HD_DETACH_AT_BOOT))
        original = HD_ORIGINAL_DRIVER_KERNEL;
    return hd_bind_put_record(dev, original ? original : "",
                              ovr != NULL && !driver_is(ovr, stub) && driver_name_valid(ovr) ? ovr
                                                                                             : "");
}

bool hd_bind_unrecorded(struct hd_device *dev)
{
    char *rec = NULL;
    int r = hd_device_get_original_driver(dev, &rec);

    free(rec);
    if (r < 0 && r != -ENOENT)
        hd_ctx_clear_error(hd_device_get_ctx(dev)); /* damaged: what reads it says so */
    return r == -ENOENT;
}

int hd_bind_record_reserved(struct hd_device *dev, const char *stub, unsigned int flags)
{
    return hd_bind_unrecorded(dev) ? put_record(dev, hd_device_get_driver(dev), stub, flags) : 0;
}

static bool is_kernel_choice(const char *driver)
{
    return strcmp(driver, HD_ORIGINAL_DRIVER_KERNEL) == 0;
}

HD_EXPORT const char *hd_original_driver_words(const char *driver)
{
    return !driver[0]                  ? "none"
           : is_kernel_choice(driver) ? "the kernel's choice (unbound when reserved at boot)"
                                      : driver;
}

void hd_bind_format_record(char *buf, size_t size, const char *driver, const char *override)
{
    if (override[0])
        snprintf(buf, size, "%s\noverride=%s", driver, override);
    else
        hd_strlcpy(buf, driver, size);
}

int hd_bind_put_record(struct hd_device *dev, const char *driver, const char *override)
{
    char rec[HD_RECORD_MAX];

    hd_bind_format_record(rec, sizeof(rec), driver, override);
    return hd_state_put(hd_device_get_ctx(dev), "drivers", hd_device_get_name(dev), rec);
}

int hd_bind_detach(struct hd_device *dev, const char *stub_name, unsigned int flags)
{
    const char *name = hd_device_get_name(dev);
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    struct hd_stub_driver stub_desc, *stub = &stub_desc;
    bool use_override, recorded = false;
    char *original = NULL, *prev_override = NULL;
    int r;

    if (hd_stub_driver_get(stub_name && stub_name[0] ? stub_name : "vfio-pci", stub) < 0)
        return hd_err(ctx, -EINVAL, "'%s' is not a stub driver (vfio-pci, a vfio-pci variant "
                      "such as mlx5_vfio_pci, or pci-stub)", stub_name);
    if ((r = refresh_unless_fresh(dev, flags)) < 0)
        return r;
    /* A fresh caller checked the driver link itself under its locks. */
    if (!(flags & HD_BIND_FRESH) && (r = hd_device_check_driver_link(dev)) < 0)
        return r;
    /* vfio-pci asked for: a variant will do (it is vfio-pci with more); a variant asked for:
     * that one. */
    if (hd_device_get_driver(dev) != NULL &&
        (driver_is(hd_device_get_driver(dev), stub->name) ||
         (stub->vfio && !stub->variant && !(flags & HD_DETACH_EXACT) &&
          hd_device_is_on_vfio(dev)))) {
        hd_info(ctx, "%s: already on %s", name, hd_device_get_driver(dev));
        /* A reservation records a device it finds on its stub: unpersist leaves it there. */
        return flags & HD_DETACH_RECORD_STUB ? hd_bind_record_reserved(dev, stub->name, flags)
                                             : 0;
    }
    if ((r = hd_device_check_endpoint(dev, HD_REFUSE_ASSIGN)) < 0)
        return r;
    if (stub->vfio && hd_device_get_iommu_group(dev) < 0 && !(flags & HD_DETACH_NOIOMMU))
        return hd_err(ctx, -ENOTSUP,
                      "%s has no IOMMU group: the IOMMU is off or absent, so "
                      "vfio-pci cannot take it",
                      name);
    if (stub->variant && (!hd_device_has_driver_override(dev) || (flags & HD_DETACH_NEW_ID)))
        /* Its ids are override-only (PCI_DRIVER_OVERRIDE_DEVICE_VFIO): new_id does not bind. */
        return hd_err(
            ctx, -ENOTSUP, "%s: %s binds only through driver_override%s", name, stub->name,
            hd_device_has_driver_override(dev) ? ", not new_id" : ", which this kernel lacks");
    if (!(flags & HD_BIND_DRIVER_THERE) &&
        (r = hd_module_ensure_driver(ctx, stub->name, stub->module)) < 0)
        return r;
    if (hd_device_get_driver(dev) != NULL && (original = strdup(hd_device_get_driver(dev))) == NULL)
        return -ENOMEM;
    /* The record comes first: a crash after the unbind still knows where to return. It is
     * written once, when the device leaves a host driver (or no driver: ""), and a move
     * between stubs keeps it. */
    if (hd_device_get_driver(dev) != NULL) {
        recorded = !hd_device_on_stub(dev);
        /* A reservation takes a device from another stub (pci-stub) for good: with no record
         * of a host driver, that stub is where unpersist puts it back. */
        if (!recorded && (flags & HD_DETACH_RECORD_STUB))
            recorded = hd_bind_unrecorded(dev);
    } else {
        /* Unbound with a record: a reattach stopped half-way; the record still tells. */
        recorded = hd_bind_unrecorded(dev);
    }
    if (recorded && (r = put_record(dev, original, stub->name, flags)) < 0)
        goto out;
    use_override = hd_device_has_driver_override(dev) && !(flags & HD_DETACH_NEW_ID);
    if (hd_device_get_driver_override(dev) != NULL &&
        (prev_override = strdup(hd_device_get_driver_override(dev))) == NULL) {
        r = -ENOMEM;
        goto out;
    }
    hd_info(ctx, "%s: %s -> %s (%s)", name, original ? original : "unbound", stub->name,
            use_override ? "driver_override" : "new_id");
    r = use_override ? bind_override(dev, stub, original) : bind_new_id(dev, stub, original);
    if (r == 0)
        r = verify_detached(dev, stub);
    if (r < 0 && r != -ETIMEDOUT) {
        char *why = strdup(hd_ctx_last_error(ctx));
        restore(dev, stub, original, use_override, prev_override);
        if (why != NULL)
            hd_err(ctx, r, "%s", why); /* restoring must not bury the reason */
        free(why);
        if (recorded)
            hd_state_del(ctx, "drivers", name);
    }
out:
    free(original);
    free(prev_override);
    if (!(flags & HD_BIND_NO_REREAD))
        hd_device_reread(dev, 0);
    return r;
}

/* A driver record is the driver's name ("" for none, HD_ORIGINAL_DRIVER_KERNEL for the kernel's
 * choice), then, when the device had a driver_override naming another driver than the stub it
 * went to, a line "override=NAME": the reattach puts it back, so a device goes back as it was,
 * its override too (as a map entry's override= does for a release to pci-stub). Split in
 * place: @rec keeps the driver, @override gets the name ("" without the line). 0, or -EINVAL
 * when either is not a driver's name. */
static int split_record(char *rec, char *override, size_t size)
{
    char *nl = strchr(rec, '\n');

    override[0] = '\0';
    if (nl != NULL) {
        *nl++ = '\0';
        if (strncmp(nl, "override=", 9) != 0 || !driver_name_valid(nl + 9) ||
            strlen(nl + 9) >= size)
            return -EINVAL;
        strcpy(override, nl + 9);
    }
    return rec[0] == '\0' || is_kernel_choice(rec) || driver_name_valid(rec) ? 0 : -EINVAL;
}

int hd_bind_read_record(struct hd_device *dev, char **driver, char *override, size_t size)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    int r = hd_state_get(ctx, "drivers", hd_device_get_name(dev), driver);

    override[0] = '\0';
    /* What is there must be a driver's name ("" for none): anything else reaches nobody. */
    if (r == 0 && split_record(*driver, override, size) < 0) {
        free(*driver);
        *driver = NULL;
        override[0] = '\0';
        return hd_errr(ctx, -EINVAL, HD_REASON_STATE_DAMAGED, "%s: the driver record "
                       "%s/%s/drivers/%s is not a driver name", hd_device_get_name(dev),
                       hd_ctx_get_root(ctx), hd_ctx_get_state_dir(ctx), hd_device_get_name(dev));
    }
    return r;
}

HD_EXPORT int hd_device_get_original_driver(struct hd_device *dev, char **driver)
{
    char override[HD_DRIVER_NAME_MAX];

    return hd_bind_read_record(dev, driver, override, sizeof(override));
}

/* The kernel's choice is what coldplug would have given the device: the modules its modalias
 * resolves to, loaded (a blacklisted one is not, as udev's modprobe skips it), then a probe.
 * @expect gets the first module that may load ("" when none is known: no driver is then the
 * kernel's choice), @why why one is not loaded (the message if nothing binds). @load false:
 * what loading would find, loading nothing (a plan). Whether one of them is in the kernel (or
 * was, or would be, loaded now). */
static bool load_kernel_choice(struct hd_device *dev, bool load, char *expect, size_t size,
                               char *why, size_t why_size)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    const struct hd_pci_addr *pf = hd_device_get_physfn(dev);
    char **modules = NULL, path[HD_PATH_MAX], pfname[HD_PCI_ADDR_BUFSZ], autoprobe[8];
    size_t n = 0;
    bool in = false;

    expect[0] = why[0] = '\0';
    /* A VF of a PF that does not autoprobe its VFs (a count hostdev set leaves it so) is probed
     * by the kernel only through an override: none is its choice, whatever is loaded. */
    if (pf != NULL && hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe",
                              hd_pci_addr_format(pf, pfname)) == 0 &&
        hd_fs_read_attr(ctx, path, autoprobe, sizeof(autoprobe)) > 0 && autoprobe[0] == '0')
        return false;
    if (hd_modules_for_modalias(ctx, hd_device_get_modalias(dev), &modules, &n) < 0) {
        hd_ctx_clear_error(ctx);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int r = load ? hd_module_ensure_loaded(ctx, modules[i])
                     : hd_module_check_loaded(ctx, modules[i]);
        if (r == -EPERM) {
            hd_ctx_clear_error(ctx);
            continue;
        }
        if (!expect[0])
            hd_strlcpy(expect, modules[i], size);
        if (r < 0 && !why[0])
            snprintf(why, why_size, "%s", hd_ctx_last_error(ctx)[0] ? hd_ctx_last_error(ctx)
                     : "a module it resolves to cannot be loaded");
        if (r < 0) /* said only if nothing binds */
            hd_ctx_clear_error(ctx);
        in = in || r >= 0;
    }
    hd_strv_free(modules, n);
    return in;
}

int hd_bind_check_kernel_choice(struct hd_device *dev)
{
    char expect[HD_DRIVER_NAME_MAX], why[512];

    if (load_kernel_choice(dev, false, expect, sizeof(expect), why, sizeof(why)) || !expect[0])
        return 0;
    return hd_err(hd_device_get_ctx(dev), -EIO, "%s: no driver would take the device back: %s",
                  hd_device_get_name(dev), why);
}

int hd_bind_reattach(struct hd_device *dev, unsigned int flags, const char *record)
{
    const char *name = hd_device_get_name(dev);
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    struct hd_stub_driver stub_desc, *stub;
    char *target = NULL, now[256], path[HD_PATH_MAX], was_override[HD_DRIVER_NAME_MAX] = "";
    char expect[HD_DRIVER_NAME_MAX] = "", not_loaded[512] = "";
    bool override_to_stub, to_none, to_kernel, to_stub, recorded;
    int r;

    if ((r = refresh_unless_fresh(dev, flags)) < 0)
        return r;
    stub = hd_device_get_driver(dev) != NULL &&
                   hd_stub_driver_get(hd_device_get_driver(dev), &stub_desc) == 0
               ? &stub_desc
               : NULL;
    override_to_stub = hd_driver_is_stub(hd_device_get_driver_override(dev));
    if (hd_device_get_driver(dev) != NULL && stub == NULL) {
        hd_info(ctx, "%s: on its host driver %s already", name, hd_device_get_driver(dev));
        return 0;
    }
    if (flags & HD_BIND_RECORD) {
        /* The caller's record, as the file holds it: the driver and the override it had. */
        r = (target = strdup(record ? record : "")) != NULL ? 0 : -ENOMEM;
        if (r == 0 && (r = split_record(target, was_override, sizeof(was_override))) < 0) {
            free(target);
            target = NULL;
            return hd_errr(ctx, r, HD_REASON_STATE_DAMAGED, "%s: the driver record given is "
                           "not a driver name", name);
        }
    } else if (flags & HD_BIND_NO_RECORD) {
        r = -ENOENT;
    } else {
        r = hd_bind_read_record(dev, &target, was_override, sizeof(was_override));
    }
    if (r < 0 && r != -ENOENT)
        return r;
    recorded = r == 0;
    /* "" is a record too: it had no driver, and goes back to none. */
    to_none = target != NULL && target[0] == '\0';
    /* Reserved at boot before any probe: whatever the kernel binds now, or none. */
    to_kernel = target != NULL && is_kernel_choice(target);
    if (to_none || to_kernel) {
        free(target);
        target = NULL;
    }
    if (hd_device_get_driver(dev) == NULL && !override_to_stub && !to_kernel &&
        (target == NULL || to_none)) {
        hd_info(ctx, "%s: not detached, nothing to do", name);
        if (to_none && hd_device_get_driver_override(dev) == NULL)
            hd_state_del(ctx, "drivers", name);
        return 0;
    }
    if (target == NULL && !to_none && !to_kernel &&
        hd_module_for_modalias(ctx, hd_device_get_modalias(dev), &target) < 0)
        target = NULL; /* unknown: whatever the kernel picks */
    if (target != NULL && !hd_name_valid(target)) {
        free(target);
        return hd_err(ctx, -EINVAL, "%s: recorded driver name is not valid", name);
    }
    /* Recorded on the stub it is on (a reservation found it there): it stays, bound, and only
     * its override becomes what it was. */
    if (stub != NULL && recorded && target != NULL &&
        driver_is(hd_device_get_driver(dev), target)) {
        const char *ovr = hd_device_get_driver_override(dev);
        hd_info(ctx, "%s: stays on %s, the driver it had before", name, target);
        r = 0;
        if (hd_device_has_driver_override(dev) &&
            (was_override[0] ? ovr == NULL || strcmp(ovr, was_override) != 0 : ovr != NULL))
            r = set_override(dev, was_override[0] ? was_override : NULL);
        if (r == 0)
            hd_state_del(ctx, "drivers", name);
        goto out;
    }
    hd_info(ctx, "%s: %s -> %s", name, hd_device_get_driver_or(dev, "unbound"),
            target    ? target
            : to_none ? "no driver"
                      : "(the kernel's choice)");
    /* Back to a stub (pci-stub, which a reservation took it from): the override steers the
     * probe there, as no id table of its may match, and then becomes what it was. */
    to_stub = target != NULL && hd_driver_is_stub(target);
    if ((hd_device_get_driver_override(dev) != NULL ||
         (to_stub && hd_device_has_driver_override(dev))) &&
        (r = set_override(dev, to_stub ? target : NULL)) < 0)
        goto out;
    if (stub != NULL && (r = unbind(dev, hd_device_get_driver(dev))) < 0) {
        if (r != -ETIMEDOUT && override_to_stub)
            set_override(dev, hd_device_get_driver_override(dev));
        goto out;
    }
    if (to_none) {
        /* No probe: with the override gone nothing binds it until someone asks. */
        if (hd_device_read_driver(dev, now, sizeof(now)) == 0 && now[0] != '\0') {
            r = hd_err(ctx, -EIO, "%s: still bound to %s after the unbind", name, now);
            goto rollback;
        }
        if (was_override[0] && (r = set_override(dev, was_override)) < 0)
            goto rollback;
        hd_state_del(ctx, "drivers", name);
        r = 0;
        goto out;
    }
    if (target != NULL && !(flags & HD_BIND_DRIVER_THERE))
        hd_module_ensure_driver(ctx, target, target); /* best effort: builtin names differ */
    if (to_kernel)
        load_kernel_choice(dev, true, expect, sizeof(expect), not_loaded, sizeof(not_loaded));
    if ((r = drivers_probe(dev)) < 0)
        goto rollback;
    /* A module is there for it (or should be): none binding is a failure, not the choice. */
    if (expect[0] && wait_driver(dev, NULL, now, sizeof(now)) < 0) {
        if (not_loaded[0])
            r = hd_err(ctx, -EIO, "%s: no driver took the device back: %s", name, not_loaded);
        else
            r = hd_err(ctx, -EIO, "%s: no driver took the device back, though its modalias "
                       "resolves to module %s (the kernel log says why)", name, expect);
        goto rollback;
    }
    if (target != NULL && wait_driver(dev, target, now, sizeof(now)) < 0) {
        /* Its id table may not match (dynamic ids are gone): ask that driver directly. */
        if (now[0] == '\0' && driver_file(path, sizeof(path), target, "bind") == 0)
            hd_fs_write_attr(ctx, path, name);
        if (wait_driver(dev, target, now, sizeof(now)) < 0) {
            r = hd_err(ctx, -EIO, "%s: %s did not take the device back (it is %s%s)", name, target,
                       now[0] ? "bound to " : "unbound", now);
            goto rollback;
        }
    }
    /* The kernel's choice may be none, but not the stub it is to leave (its ids matching). */
    if (to_kernel && hd_device_read_driver(dev, now, sizeof(now)) == 0 && hd_driver_is_stub(now)) {
        r = hd_err(ctx, -EIO, "%s: back on %s after the probe, not given to the host", name, now);
        goto rollback;
    }
    /* The override it had before it left (the record's), or none. */
    if ((was_override[0] || to_stub) &&
        (r = set_override(dev, was_override[0] ? was_override : NULL)) < 0)
        goto rollback;
    hd_state_del(ctx, "drivers", name);
    r = 0;
    goto out;
rollback:
    if (stub != NULL) {
        char *why = strdup(hd_ctx_last_error(ctx));
        if (hd_device_read_driver(dev, now, sizeof(now)) == 0 && now[0] != '\0')
            unbind(dev, now);
        if (hd_device_has_driver_override(dev))
            set_override(dev, stub->name);
        drivers_probe(dev);
        if (why != NULL)
            hd_err(ctx, r, "%s", why);
        free(why);
    }
out:
    free(target);
    if (!(flags & HD_BIND_NO_REREAD))
        hd_device_reread(dev, 0);
    return r;
}
