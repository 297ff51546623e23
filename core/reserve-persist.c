/* reserve-persist.c - `hostdev persist`'s files: one hostdev.d file per selector, written and
 * removed atomically through the state records' writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void file_name(const struct hd_pci_selector *sel, char *buf, size_t size)
{
    char addr[HD_PCI_ADDR_BUFSZ];

    if (sel->kind == HD_SELECTOR_ADDR)
        snprintf(buf, size, "persist-%s.conf", hd_pci_addr_format(&sel->addr, addr));
    else
        snprintf(buf, size, "persist-%04x:%04x.conf", sel->vendor, sel->device);
}

void hd_reserve_persist_path(const struct hd_pci_selector *sel, char *buf, size_t size)
{
    char name[64];

    file_name(sel, name, sizeof(name));
    snprintf(buf, size, "%s/%s", HD_RESERVE_DIR, name);
}

HD_EXPORT bool hd_reserve_entry_is_persisted(const struct hd_reserve_entry *entry)
{
    char path[128];

    hd_reserve_persist_path(&entry->sel, path, sizeof(path));
    return entry->file != NULL && strcmp(entry->file, path) == 0;
}

HD_EXPORT unsigned int hd_reserve_boot_images(struct hd_ctx *ctx)
{
    unsigned int images = 0;

    if (hd_fs_exists(ctx, "usr/share/initramfs-tools/hooks/hostdev") > 0)
        images |= HD_BOOT_IMAGE_INITRAMFS_TOOLS;
    if (hd_fs_exists(ctx, "usr/lib/dracut/modules.d/90hostdev/module-setup.sh") > 0)
        images |= HD_BOOT_IMAGE_DRACUT;
    return images;
}

/* What a persisted entry must be: a stub driver, VF counts for one address. */
static int check_entry(struct hd_ctx *ctx, const struct hd_reserve_entry *entry)
{
    struct hd_stub_driver stub;

    if (entry->driver == NULL && entry->numvfs < 0)
        return hd_err(ctx, -EINVAL, "nothing to persist: no driver and no numvfs");
    if (entry->numvfs >= 0 && entry->sel.kind != HD_SELECTOR_ADDR)
        return hd_err(ctx, -EINVAL, "numvfs needs the address of one SR-IOV device, not ids");
    if (entry->driver != NULL && hd_stub_driver_get(entry->driver, &stub) < 0)
        return hd_err(ctx, -EINVAL, "'%s' is not a stub driver (vfio-pci, a vfio-pci variant "
                      "or pci-stub)", entry->driver);
    return 0;
}

HD_EXPORT int hd_reserve_persist(struct hd_ctx *ctx, const struct hd_reserve_entry *entry)
{
    char name[64], *line = NULL, *text = NULL;
    int r;

    if ((r = check_entry(ctx, entry)) < 0)
        return r;
    file_name(&entry->sel, name, sizeof(name));
    if ((r = hd_reserve_entry_format(entry, &line)) < 0)
        return r;
    if (asprintf(&text, "# Written by `hostdev persist`; `hostdev unpersist` removes it.\n%s\n",
                 line) < 0) {
        free(line);
        return -ENOMEM;
    }
    free(line);
    r = hd_record_put(ctx, HD_RESERVE_DIR, name, text, 0644);
    free(text);
    return r;
}

/* A plan's refusals reach the caller's function; what it would do does not (it is not done). */
struct refusals {
    hd_reserve_fn fn;
    void *data;
};

static void pass_refusal(void *data, const struct hd_reserve_result *res, size_t i)
{
    const struct refusals *to = data;

    if (hd_reserve_result_get_outcome(res, i) == HD_RESERVE_FAILED)
        to->fn(to->data, res, i);
}

/* What a detach would choose now (a variant from modules.alias, else vfio-pci) is what the
 * file names: the boot binds what was checked here. */
HD_EXPORT void hd_reserve_entry_choose_driver(struct hd_ctx *ctx,
                                              const struct hd_reserve_entry *entry, char *driver,
                                              size_t size)
{
    struct hd_device *dev;

    hd_strlcpy(driver, "vfio-pci", size);
    if (entry->sel.kind == HD_SELECTOR_ADDR && hd_device_open(ctx, &entry->sel.addr, &dev) == 0) {
        if (hd_device_get_vfio_driver(dev, driver, size) < 0)
            hd_strlcpy(driver, "vfio-pci", size);
        hd_device_unref(dev);
    }
    hd_ctx_clear_error(ctx);
}

/* The file alone, for a device that is there (or those its ids select now): what could never
 * be applied to it (a bridge, a VF count for a device without SR-IOV) is bad input all the
 * same; what the host or a VM does with it now is not the next boot's concern. */
static int check_could_apply(struct hd_ctx *ctx, const struct hd_reserve_entry *entry)
{
    struct hd_reserve_result *plan;
    struct hd_device *dev;
    enum hd_reason reason;
    char *why = NULL;
    int r;

    if (entry->sel.kind == HD_SELECTOR_ADDR) {
        if (hd_device_open_fill(ctx, &entry->sel.addr, 0, &dev) < 0) {
            hd_ctx_clear_error(ctx);
            return 0;
        }
        hd_device_unref(dev);
    }
    r = hd_reserve_entry_apply(entry, ctx, HD_RESERVE_DRY_RUN | HD_RESERVE_FORCE, NULL, NULL,
                               &plan);
    for (size_t i = 0; r > 0 && why == NULL && i < hd_reserve_result_count(plan); i++) {
        const char *msg = hd_reserve_result_get_error(plan, i, &reason);
        if (msg != NULL && reason == HD_REASON_INVALID && (why = strdup(msg)) == NULL)
            r = -ENOMEM;
    }
    hd_reserve_result_unref(plan);
    hd_ctx_clear_error(ctx);
    if (why != NULL) {
        r = hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s", why);
        free(why);
        return r;
    }
    return r == -ENOMEM ? hd_err(ctx, r, "out of memory") : 0;
}

/* The boot's reserve never forces, so it leaves a platform function with the host at every
 * boot: a line that reserves one (by address, or by ids that one here has) would promise what
 * no boot keeps. Forcing takes it now, as a detach does, for this boot only. Nor does a boot
 * bind a device to a vfio-pci variant that does not drive it. */
static int check_not_platform(struct hd_ctx *ctx, const struct hd_reserve_entry *entry,
                              struct hd_device *dev)
{
    struct hd_device_list *list = NULL;
    struct hd_stub_driver stub;
    int r = 0;

    if (entry->driver == NULL || (entry->sel.kind == HD_SELECTOR_ADDR && dev == NULL))
        return 0; /* a VF count alone takes no device; one not there is checked when it is */
    bool variant = hd_stub_driver_get(entry->driver, &stub) == 0 && stub.variant;
    if (entry->sel.kind != HD_SELECTOR_ADDR)
        r = hd_device_list_new(ctx, HD_FILL_IDENT, &list);
    for (size_t i = 0; r == 0 && i < (list ? hd_device_list_count(list) : 1); i++) {
        struct hd_device *d = list ? hd_device_list_get(list, i) : dev;
        const char *platform = hd_pci_selector_match(&entry->sel, d)
                                   ? hd_device_get_platform_role(d) : NULL;
        if (platform != NULL)
            r = hd_errr(ctx, -EPERM, HD_REASON_INVALID, "%s is %s: the boot's reservation, "
                        "which never forces, leaves it with the host at every boot, so it is "
                        "not persisted (forced, it can be detached for this boot only)",
                        hd_device_get_name(d), platform);
        /* A variant not made for it is refused: its aliases say what it drives. */
        if (r == 0 && variant && hd_pci_selector_match(&entry->sel, d))
            r = hd_vfio_variant_fits(d, entry->driver);
    }
    hd_device_list_unref(list);
    return r;
}

/* How many items of @res (NULL: none) failed. */
static int failed_items(const struct hd_reserve_result *res)
{
    int failed = 0;

    for (size_t i = 0; res != NULL && i < hd_reserve_result_count(res); i++)
        failed += hd_reserve_result_get_outcome(res, i) == HD_RESERVE_FAILED;
    return failed;
}

/* @sel as the user names it: DDDD:BB:SS.F or VVVV:DDDD. */
static const char *selector_name(const struct hd_pci_selector *sel,
                                 char buf[HD_PCI_ADDR_BUFSZ])
{
    if (sel->kind == HD_SELECTOR_ADDR)
        return hd_pci_addr_format(&sel->addr, buf);
    snprintf(buf, HD_PCI_ADDR_BUFSZ, "%04x:%04x", sel->vendor, sel->device);
    return buf;
}

/* What makes @entry one to persist, before anything is read of what it would do: a stub or a
 * count, a device that is there (unless the file alone is written), not a platform
 * function. */
static int check_persistable(struct hd_ctx *ctx, const struct hd_reserve_entry *entry,
                             unsigned int flags)
{
    struct hd_device *dev = NULL;
    int r;

    if ((r = check_entry(ctx, entry)) < 0)
        return r;
    /* An address that is not there cannot be applied: bad input, unless the file alone is. */
    if (entry->sel.kind == HD_SELECTOR_ADDR &&
        (r = hd_device_open_fill(ctx, &entry->sel.addr, 0, &dev)) < 0) {
        char addr[HD_PCI_ADDR_BUFSZ];
        if (r == -ENODEV && !(flags & HD_RESERVE_NO_APPLY))
            return hd_errr(ctx, r, HD_REASON_NO_DEVICE, "%s: no such PCI device under %s",
                           hd_pci_addr_format(&entry->sel.addr, addr), hd_ctx_get_root(ctx));
        if (r != -ENODEV)
            return r;
    }
    r = check_not_platform(ctx, entry, dev);
    hd_device_unref(dev);
    return r;
}

/* The first of @entries whose selector one before it has too, named (-EINVAL, bad input; its
 * index in *@failed, when not NULL); 0 when each is given once. */
static int given_twice(struct hd_ctx *ctx, const struct hd_reserve_entry *entries, size_t n,
                       size_t *failed)
{
    char name[HD_PCI_ADDR_BUFSZ], other[HD_PCI_ADDR_BUFSZ];

    for (size_t i = 1; i < n; i++) {
        selector_name(&entries[i].sel, name);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(name, selector_name(&entries[j].sel, other)) != 0)
                continue;
            if (failed != NULL)
                *failed = i;
            return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s: given twice", name);
        }
    }
    return 0;
}

/* Several entries: each its own device or ids, none a VF count (what a count did to the VFs
 * is not taken back when another entry fails). The one in the way in *@failed. */
static int check_together(struct hd_ctx *ctx, const struct hd_reserve_entry *entries, size_t n,
                          size_t *failed)
{
    char name[HD_PCI_ADDR_BUFSZ];

    for (size_t i = 0; n > 1 && i < n; i++) {
        if (entries[i].numvfs < 0)
            continue;
        if (failed != NULL)
            *failed = i;
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s: a VF count is persisted alone, "
                       "not with other devices", selector_name(&entries[i].sel, name));
    }
    return given_twice(ctx, entries, n, failed);
}

/* A PF that one of @entries takes off its driver and a VF of it that another reserves: the
 * PF's driver letting go destroys the VF, so one or the other is asked for (bad input, as in
 * detach), not a plan whose VF step the run never meets. The VF's entry in *@failed. */
static int check_not_with_own_vf(struct hd_ctx *ctx, const struct hd_reserve_entry *entries,
                                 size_t n, size_t *failed)
{
    int r = 0;

    for (size_t i = 0; r == 0 && i < n; i++) {
        struct hd_device *vf = NULL, *pf = NULL;
        const struct hd_pci_addr *physfn;
        /* One not there, or unreadable, is the plan's to judge. */
        if (entries[i].sel.kind != HD_SELECTOR_ADDR || entries[i].driver == NULL ||
            hd_device_open_fill(ctx, &entries[i].sel.addr, HD_FILL_SRIOV, &vf) < 0 ||
            (physfn = hd_device_get_physfn(vf)) == NULL) {
            hd_device_unref(vf);
            hd_ctx_clear_error(ctx);
            continue;
        }
        for (size_t j = 0; r == 0 && j < n; j++) {
            if (entries[j].sel.kind != HD_SELECTOR_ADDR || entries[j].driver == NULL ||
                !hd_pci_addr_equal(&entries[j].sel.addr, physfn))
                continue;
            if (hd_device_open_fill(ctx, physfn, HD_FILL_IDENT, &pf) < 0) {
                hd_ctx_clear_error(ctx);
                continue;
            }
            const char *drv = hd_device_get_driver(pf);
            if (drv == NULL || strcmp(drv, entries[j].driver) != 0)
                r = hd_check_not_with_own_vf(ctx, pf, &vf, 1, "reserving it for another driver");
            hd_device_unref(pf);
        }
        if (r < 0 && failed != NULL)
            *failed = i;
        hd_device_unref(vf);
    }
    return r;
}

/* The files of @entries 0 to @n (excluded) put back as they were: @was[i] (NULL: none). */
static int put_back_files(struct hd_ctx *ctx, const struct hd_reserve_entry *entries,
                          char *const *was, size_t n)
{
    char name[64];
    int err = 0;

    for (size_t i = 0; i < n; i++) {
        file_name(&entries[i].sel, name, sizeof(name));
        if ((was[i] != NULL ? hd_record_put(ctx, HD_RESERVE_DIR, name, was[i], 0644)
                            : hd_record_del(ctx, HD_RESERVE_DIR, name)) < 0)
            err = hd_err(ctx, -EIO, "%s/%s/%s: could not be put back as it was after a "
                         "device failed", hd_ctx_get_root(ctx), HD_RESERVE_DIR, name);
    }
    return err;
}

/* The file alone for each of @entries: checked as the boot would apply it, its warnings said,
 * then every file written (or none). */
static int persist_files(struct hd_ctx *ctx, const struct hd_reserve_entry *entries, size_t n,
                         unsigned int flags, hd_reserve_fn fn, void *data, char *const *was,
                         size_t *at, struct hd_reserve_result **result)
{
    struct hd_reserve_result *warnings;
    int r = 0;

    for (size_t i = 0; r == 0 && i < n; i++)
        if ((r = check_could_apply(ctx, &entries[*at = i])) == 0 &&
            (r = hd_reserve_entry_warnings(&entries[i], ctx, fn, data, &warnings)) >= 0)
            r = hd_reserve_result_join(result, warnings);
    for (size_t i = 0; r == 0 && !(flags & HD_RESERVE_DRY_RUN) && i < n; i++)
        if ((r = hd_reserve_persist(ctx, &entries[*at = i])) < 0)
            put_back_files(ctx, entries, was, i);
    if (r < 0)
        *result = hd_reserve_result_unref(*result);
    return r;
}

HD_EXPORT int hd_reserve_persist_apply_all(struct hd_ctx *ctx,
                                           const struct hd_reserve_entry *entries, size_t n,
                                           unsigned int flags, hd_reserve_fn fn, void *data,
                                           size_t *failed, struct hd_reserve_result **result)
{
    struct hd_reserve_result *one = NULL;
    char name[64], rel[128], **was = NULL;
    size_t len = 0, done = 0, at = n;
    int r;

    *result = NULL;
    if (failed != NULL)
        *failed = n;
    if (n == 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "no device to persist");
    /* Bad input anywhere: nothing read of what they would do, nothing written. */
    if ((r = check_together(ctx, entries, n, failed)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if ((r = check_persistable(ctx, &entries[i], flags)) < 0) {
            if (failed != NULL)
                *failed = i;
            return r;
        }
    }
    if (!(flags & HD_RESERVE_NO_APPLY) && (r = check_not_with_own_vf(ctx, entries, n, failed)) < 0)
        return r;
    if ((was = calloc(n, sizeof(*was))) == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    /* Kept: what each file said is put back when applying fails. */
    for (size_t i = 0; i < n && !(flags & HD_RESERVE_DRY_RUN); i++) {
        file_name(&entries[i].sel, name, sizeof(name));
        snprintf(rel, sizeof(rel), "%s/%s", HD_RESERVE_DIR, name);
        if ((r = hd_fs_read_alloc(ctx, rel, HD_CONFIG_MAX, &was[i], &len)) < 0 && r != -ENOENT) {
            r = hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), rel, strerror(-r));
            at = i;
            goto out;
        }
    }
    r = 0;
    /* The files alone: what the boot would make of them is said all the same. */
    if (flags & HD_RESERVE_NO_APPLY) {
        r = persist_files(ctx, entries, n, flags, fn, data, was, &at, result);
        goto out;
    }
    /* Planned first, every entry: what would be refused (a bridge, a device the host or a VM
     * uses) leaves everything as it is, the files too. A dry run is that plan, told. */
    for (size_t i = 0; r == 0 && i < n; i++) {
        at = i;
        if (flags & HD_RESERVE_DRY_RUN)
            r = hd_reserve_entry_apply(&entries[i], ctx, flags, fn, data, &one);
        else
            r = hd_reserve_entry_apply(&entries[i], ctx, flags | HD_RESERVE_DRY_RUN,
                                       fn != NULL ? pass_refusal : NULL,
                                       &(struct refusals){fn, data}, &one);
        if (r >= 0 && ((flags & HD_RESERVE_DRY_RUN) || r > 0))
            r = hd_reserve_result_join(result, one) < 0 ? -ENOMEM : r;
        else
            hd_reserve_result_unref(one);
        one = NULL;
    }
    if (r != 0 || (flags & HD_RESERVE_DRY_RUN))
        goto out;
    /* Then written: a file is put back as it was for sure, a device only as far as the
     * kernel lets it; so the devices are the last to change. */
    while (done < n && (r = hd_reserve_persist(ctx, &entries[at = done])) == 0)
        done++;
    /* Each entry applied; one that fails gave its own devices back, and those of the entries
     * before it are given back here. */
    for (size_t i = 0; r == 0 && i < n; i++) {
        if ((r = hd_reserve_entry_apply(&entries[at = i], ctx, flags, fn, data, &one)) > 0 &&
            *result != NULL && hd_reserve_result_put_back(*result) < 0)
            r = -ENOMEM;
        if (r >= 0 && hd_reserve_result_join(result, one) < 0)
            r = -ENOMEM;
        one = NULL;
    }
    if (r != 0)
        put_back_files(ctx, entries, was, done);
out:
    for (size_t i = 0; i < n; i++)
        free(was[i]);
    free(was);
    if (r != 0 && failed != NULL)
        *failed = at;
    if (r < 0)
        *result = hd_reserve_result_unref(*result);
    return r < 0 ? r : failed_items(*result);
}

HD_EXPORT int hd_reserve_persist_apply(struct hd_ctx *ctx, const struct hd_reserve_entry *entry,
                                       unsigned int flags, hd_reserve_fn fn, void *data,
                                       struct hd_reserve_result **result)
{
    return hd_reserve_persist_apply_all(ctx, entry, 1, flags, fn, data, NULL, result);
}

HD_EXPORT int hd_reserve_unpersist(struct hd_ctx *ctx, const struct hd_pci_selector *sel)
{
    char name[64];
    int r;

    file_name(sel, name, sizeof(name));
    r = hd_record_del(ctx, HD_RESERVE_DIR, name);
    if (r == -ENOENT)
        return hd_err(ctx, r, "%s/%s/%s: not persisted", hd_ctx_get_root(ctx), HD_RESERVE_DIR,
                      name);
    if (r < 0)
        return hd_err(ctx, r, "%s/%s/%s: %s", hd_ctx_get_root(ctx), HD_RESERVE_DIR, name,
                      strerror(-r));
    return 0;
}

/* Unpersist of @sel, which no persisted file holds: when another source reserves it all the
 * same (an admin's own file, the kernel command line), as the listing of the configuration
 * shows, that is the error (bad input, -ENOENT still), naming where to end it. -ENOENT. */
static int not_persisted(struct hd_ctx *ctx, const struct hd_pci_selector *sel, const char *rel)
{
    struct hd_reserve_config *config = NULL;
    const struct hd_reserve_entry *other = NULL;
    char name[HD_PCI_ADDR_BUFSZ], where[HD_PATH_MAX + 16];

    if (hd_reserve_config_load(ctx, &config) < 0) {
        hd_ctx_clear_error(ctx);
        return hd_err(ctx, -ENOENT, "%s/%s: not persisted", hd_ctx_get_root(ctx), rel);
    }
    for (size_t i = 0; i < hd_reserve_config_count(config); i++) {
        const struct hd_reserve_entry *e = hd_reserve_config_get(config, i);
        if (e->sel.kind == sel->kind &&
            (sel->kind == HD_SELECTOR_ADDR ? hd_pci_addr_equal(&e->sel.addr, &sel->addr)
                                           : e->sel.vendor == sel->vendor &&
                                                 e->sel.device == sel->device))
            other = e;
    }
    /* An address not persisted as such may be by its ids: that entry is the one to end. */
    struct hd_device *dev = NULL;
    if (other == NULL && sel->kind == HD_SELECTOR_ADDR &&
        hd_device_open_fill(ctx, &sel->addr, HD_FILL_IDENT, &dev) == 0) {
        for (size_t i = 0; other == NULL && i < hd_reserve_config_count(config); i++) {
            const struct hd_reserve_entry *e = hd_reserve_config_get(config, i);
            if (e->sel.kind != HD_SELECTOR_ADDR && e->driver != NULL &&
                hd_pci_selector_match(&e->sel, dev))
                other = e;
        }
    }
    hd_device_unref(dev);
    hd_ctx_clear_error(ctx);
    if (other == NULL) {
        hd_reserve_config_unref(config);
        return hd_err(ctx, -ENOENT, "%s/%s: not persisted", hd_ctx_get_root(ctx), rel);
    }
    selector_name(sel, name);
    hd_reserve_entry_where(other, where, sizeof(where));
    if (other->sel.kind != sel->kind) {
        char ids[HD_PCI_ADDR_BUFSZ];
        hd_errr(ctx, -ENOENT, HD_REASON_INVALID, "%s is not persisted by its address, but %s "
                "reserves it by its ids, %s: %s", name, where, selector_name(&other->sel, ids),
                hd_reserve_entry_is_persisted(other) ? "those are what to unpersist"
                : other->line == 0 ? "remove them from the kernel command line (hostdev.reserve=)"
                                   : "a line of the admin's own, to be removed there");
        hd_reserve_config_unref(config);
        return -ENOENT;
    }
    hd_errr(ctx, -ENOENT, HD_REASON_INVALID,
            "%s is not persisted, but %s reserves it: %s", name, where,
            other->line == 0 ? "remove it from the kernel command line (hostdev.reserve=)"
                             : "a line of the admin's own, to be removed there");
    hd_reserve_config_unref(config);
    return -ENOENT;
}

/* The persisted files of @keys (their selectors) removed, each; when one cannot be, those
 * before it are written back (@texts) and it is the error (its index in *@at). */
static int remove_files(struct hd_ctx *ctx, const struct hd_reserve_entry *keys,
                        char *const *texts, size_t n, size_t *at)
{
    int r;

    for (size_t i = 0; i < n; i++) {
        if ((r = hd_reserve_unpersist(ctx, &keys[i].sel)) < 0) {
            put_back_files(ctx, keys, texts, i);
            *at = i;
            return r;
        }
    }
    return 0;
}

/* The first of the @n @sels that selects a device a failed item of @res is about (@n: none). */
static size_t failed_selector(const struct hd_reserve_result *res,
                              const struct hd_pci_selector *sels, size_t n)
{
    for (size_t i = 0; i < hd_reserve_result_count(res); i++) {
        struct hd_device *dev = hd_reserve_result_get_device(res, i);
        if (hd_reserve_result_get_outcome(res, i) != HD_RESERVE_FAILED || dev == NULL)
            continue;
        for (size_t k = 0; k < n; k++)
            if (hd_pci_selector_match(&sels[k], dev))
                return k;
    }
    return n;
}

HD_EXPORT int hd_reserve_unpersist_apply_all(struct hd_ctx *ctx,
                                             const struct hd_pci_selector *sels, size_t n,
                                             unsigned int flags, hd_reserve_fn fn, void *data,
                                             size_t *failed, struct hd_reserve_result **result)
{
    struct refusals to = {fn, data};
    struct hd_reserve_config *config = NULL, **was = calloc(n + 1, sizeof(*was));
    struct hd_reserve_entry *keys = calloc(n + 1, sizeof(*keys));
    const struct hd_reserve_entry **removed = calloc(n + 1, sizeof(*removed));
    struct hd_pci_selector *giving = calloc(n + 1, sizeof(*giving));
    char **texts = calloc(n + 1, sizeof(*texts)), (*rels)[128] = calloc(n + 1, sizeof(*rels));
    const char **files = calloc(n + 1, sizeof(*files));
    char name[64];
    size_t len = 0, ngiving = 0, at = n;
    int r = 0;

    *result = NULL;
    if (failed != NULL)
        *failed = n;
    if (!was || !keys || !removed || !giving || !texts || !rels || !files) {
        r = -ENOMEM;
        hd_err(ctx, r, "out of memory");
        goto out;
    }
    if (n == 0) {
        r = -EINVAL;
        hd_errr(ctx, r, HD_REASON_INVALID, "no device to unpersist");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (struct hd_reserve_entry){.sel = sels[i], .numvfs = -1};
    if ((r = given_twice(ctx, keys, n, &at)) < 0)
        goto out;
    /* Every file read first, kept: written back when giving a device back fails after all. */
    for (size_t i = 0; i < n; i++) {
        at = i;
        file_name(&sels[i], name, sizeof(name));
        snprintf(rels[i], sizeof(rels[i]), "%s/%s", HD_RESERVE_DIR, name);
        files[i] = rels[i];
        if ((r = hd_fs_read_alloc(ctx, rels[i], HD_CONFIG_MAX, &texts[i], &len)) == -ENOENT)
            r = not_persisted(ctx, &sels[i], rels[i]);
        else if (r < 0)
            r = hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), rels[i], strerror(-r));
        /* What the file asked: a VF count alone reserved no device, so none is given back. */
        if (r < 0 || (r = hd_reserve_config_new(&was[i])) < 0 ||
            (r = hd_reserve_config_parse(was[i], texts[i], len, rels[i])) < 0)
            goto out;
        removed[i] = hd_reserve_config_get(was[i], hd_reserve_config_count(was[i]) - 1);
        if (removed[i] == NULL || removed[i]->driver != NULL)
            giving[ngiving++] = sels[i];
    }
    at = n;
    if ((flags & HD_RESERVE_FILE_ONLY) || ngiving == 0) {
        r = flags & HD_RESERVE_DRY_RUN ? 0 : remove_files(ctx, keys, texts, n, &at);
        goto out;
    }
    /* The devices of them all given back in one operation, as if none of the files were
     * there: planned as one, then done as one. */
    if ((r = hd_reserve_config_load(ctx, &config)) < 0)
        goto out;
    if (flags & HD_RESERVE_DRY_RUN) {
        r = hd_reserve_give_back_except(config, ctx, giving, ngiving, flags, fn, data, result,
                                        files, n);
        goto out;
    }
    /* Planned first: a device that would be refused leaves the files and everything as is. */
    r = hd_reserve_give_back_except(config, ctx, giving, ngiving, flags | HD_RESERVE_DRY_RUN,
                                    fn != NULL ? pass_refusal : NULL, &to, result, files, n);
    if (r != 0)
        goto out;
    *result = hd_reserve_result_unref(*result);
    if ((r = remove_files(ctx, keys, texts, n, &at)) < 0)
        goto out;
    r = hd_reserve_give_back_except(config, ctx, giving, ngiving, flags, fn, data, result,
                                    files, n);
    if (r != 0)
        put_back_files(ctx, keys, texts, n);
out:
    /* The VF counts they set are not undone: the count before is nowhere recorded (the boot
     * set it from what the PF came up with), and the VFs may be in use. Said so, each in a
     * result of its own, which keeps its entry. */
    for (size_t i = 0; r == 0 && removed != NULL && i < n; i++) {
        struct hd_reserve_result *kept = NULL;
        if (removed[i] != NULL &&
            (r = hd_reserve_numvfs_kept(ctx, removed[i], flags, fn, data, &kept)) == 0 &&
            kept != NULL)
            r = hd_reserve_result_join(result, kept);
    }
    if (r > 0)
        at = failed_selector(*result, sels, n);
    if (r != 0 && failed != NULL)
        *failed = at;
    hd_reserve_config_unref(config);
    for (size_t i = 0; i < n && was != NULL && texts != NULL; i++) {
        hd_reserve_config_unref(was[i]);
        free(texts[i]);
    }
    free(was);
    free(keys);
    free(removed);
    free(giving);
    free(texts);
    free(rels);
    free(files);
    return r;
}

HD_EXPORT int hd_reserve_unpersist_apply(struct hd_ctx *ctx, const struct hd_pci_selector *sel,
                                         unsigned int flags, hd_reserve_fn fn, void *data,
                                         struct hd_reserve_result **result)
{
    return hd_reserve_unpersist_apply_all(ctx, sel, 1, flags, fn, data, NULL, result);
}
