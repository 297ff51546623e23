/* variant.c - which vfio-pci family driver takes a device: a variant driver (mlx5_vfio_pci,
 * hisi_acc_vfio_pci, virtio_vfio_pci, ...) when the running kernel's modules.alias has a
 * "vfio_pci:" alias matching the device, else vfio-pci itself. Variant drivers list their ids
 * with PCI_DRIVER_OVERRIDE_DEVICE_VFIO, which file2alias writes as "vfio_pci:v...d..."
 * aliases; vfio-pci's own "match all" entry is one of them, with wildcards only. The text file
 * is read (not libkmod's index): it is what a fake root carries, and only these lines count. */
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "internal.h"

/* A real modules.alias is about 1.5 MB; a file much larger is not one. */
#define ALIASES_MAX (64u << 20)

struct vfio_alias {
    char *pattern; /* "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*" */
    char *module;
};

struct hd_vfio_aliases {
    struct vfio_alias *v;
    size_t n, cap;
};

static void hd_vfio_aliases_free(struct hd_vfio_aliases *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].pattern);
        free(a->v[i].module);
    }
    free(a->v);
    free(a);
}

static int add_alias(struct hd_vfio_aliases *a, const char *pattern, size_t plen,
                     const char *module, size_t mlen)
{
    struct vfio_alias *v = hd_array_grow(a->v, &a->cap, a->n, sizeof(*a->v), 8), *e;

    if (v == NULL)
        return -ENOMEM;
    a->v = v;
    e = &a->v[a->n];
    e->pattern = strndup(pattern, plen);
    e->module = strndup(module, mlen);
    if (e->pattern == NULL || e->module == NULL) {
        free(e->pattern);
        free(e->module);
        return -ENOMEM;
    }
    a->n++;
    return 0;
}

/* The "alias vfio_pci:PATTERN MODULE" lines of @text; others are not ours to judge. */
static int parse_aliases(struct hd_vfio_aliases *a, const char *text, size_t len)
{
    static const char prefix[] = "alias vfio_pci:";
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *pat, *mod, *q;
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > sizeof(prefix) - 1 && memcmp(p, prefix, sizeof(prefix) - 1) == 0) {
            pat = p + 6; /* "vfio_pci:..." */
            for (q = pat; q < eol && *q != ' ' && *q != '\t'; q++)
                ;
            size_t plen = (size_t)(q - pat);
            while (q < eol && (*q == ' ' || *q == '\t'))
                q++;
            mod = q;
            while (q < eol && *q != ' ' && *q != '\t' && *q != '\r')
                q++;
            char module[HD_DRIVER_NAME_MAX];
            size_t mlen = (size_t)(q - mod);
            if (mlen > 0 && mlen < sizeof(module)) {
                memcpy(module, mod, mlen);
                module[mlen] = '\0';
                /* A module name that is not a plain name would end up in a sysfs path. */
                int r = hd_name_valid(module) ? add_alias(a, pat, plen, mod, mlen) : 0;
                if (r < 0)
                    return r;
            }
        }
        p = eol + 1;
    }
    return 0;
}

/* The same from modules.builtin.modinfo: NUL-separated "MODULE.alias=vfio_pci:PATTERN"
 * entries of the drivers built into the kernel (no modules.alias line names them). */
static int parse_builtin(struct hd_vfio_aliases *a, const char *text, size_t len)
{
    static const char key[] = ".alias=vfio_pci:";
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *eos = memchr(p, '\0', (size_t)(end - p)), *k;
        char module[HD_DRIVER_NAME_MAX];
        if (eos == NULL)
            eos = end;
        k = memchr(p, '.', (size_t)(eos - p));
        if (k != NULL && (size_t)(eos - k) > sizeof(key) - 1 &&
            memcmp(k, key, sizeof(key) - 1) == 0 && (size_t)(k - p) < sizeof(module)) {
            memcpy(module, p, (size_t)(k - p));
            module[k - p] = '\0';
            const char *pat = k + 7; /* "vfio_pci:..." */
            int r = hd_name_valid(module)
                        ? add_alias(a, pat, (size_t)(eos - pat), module, strlen(module))
                        : 0;
            if (r < 0)
                return r;
        }
        p = eos + 1;
    }
    return 0;
}

/* The release whose modules count: the fake kernel's under a root, ours on the host. */
static void kernel_release(struct hd_ctx *ctx, char *buf, size_t size)
{
    struct utsname u;

    if (hd_ctx_root_is_host(ctx) && uname(&u) == 0)
        hd_strlcpy(buf, u.release, size);
    else if (hd_fs_read_attr(ctx, "proc/sys/kernel/osrelease", buf, size) < 0)
        buf[0] = '\0';
    if (!hd_name_valid(buf))
        buf[0] = '\0';
}

/* Loaded once per context: a plan for 64 VFs asks 64 times. */
static int load_aliases(struct hd_ctx *ctx, struct hd_vfio_aliases **out)
{
    char release[128], path[HD_PATH_MAX], *text = NULL;
    struct hd_vfio_aliases *a;
    size_t len = 0;
    int r = 0;

    if ((a = hd_ctx_get_vfio_aliases(ctx)) != NULL) {
        *out = a;
        return 0;
    }
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return -ENOMEM;
    release[0] = '\0';
    /* Under another root, a tree without lib/modules (a bare fake root) has no aliases:
     * one look says so, not the release read and a look per file. */
    int fd = hd_ctx_root_is_host(ctx) ? 0 : hd_fs_open(ctx, "lib/modules", O_PATH | O_DIRECTORY, 0);
    if (fd > 0)
        close(fd);
    if (fd != -ENOENT && fd != -ENOTDIR)
        kernel_release(ctx, release, sizeof(release));
    static const char *const files[] = {"modules.alias", "modules.builtin.modinfo"};
    for (size_t i = 0; r == 0 && i < HD_ARRAY_SIZE(files); i++) {
        r = release[0] ? hd_path(path, sizeof(path), "lib/modules/%s/%s", release, files[i])
                       : -ENOENT;
        if (r == 0)
            r = hd_fs_read_alloc(ctx, path, ALIASES_MAX, &text, &len);
        if (r == 0)
            r = i == 0 ? parse_aliases(a, text, len) : parse_builtin(a, text, len);
        else if (r == -ENOENT || r == -ENOTDIR)
            r = 0; /* no modules directory (a minimal image, a bare fake root): vfio-pci */
        free(text);
        text = NULL;
    }
    if (r < 0) {
        hd_vfio_aliases_free(a);
        hd_err(ctx, r, "reading %s/%s failed: %s", hd_ctx_get_root(ctx), path, strerror(-r));
        return r;
    }
    hd_ctx_set_vfio_aliases(ctx, a, hd_vfio_aliases_free); /* the context knows nothing of them */
    *out = a;
    return 0;
}

static size_t wildcards(const char *pattern)
{
    size_t n = 0;

    for (; *pattern; pattern++)
        n += *pattern == '*' || *pattern == '?' || *pattern == '[';
    return n;
}

/* The aliases (*@a) and the name they are matched against (@subject) for a PCI @modalias:
 * 1; 0 when it is none (no variant is for it). */
static int vfio_aliases_for(struct hd_ctx *ctx, const char *modalias, struct hd_vfio_aliases **a,
                            char *subject, size_t size)
{
    int r;

    /* "pci:v..." is what the kernel matches "vfio_pci:v..." aliases against. */
    if (modalias == NULL || strncmp(modalias, "pci:", 4) != 0)
        return 0;
    if ((r = load_aliases(ctx, a)) < 0)
        return r;
    snprintf(subject, size, "vfio_%s", modalias);
    return 1;
}

int hd_vfio_driver_for(struct hd_ctx *ctx, const char *modalias, char *driver, size_t size)
{
    struct hd_vfio_aliases *a = NULL;
    const struct vfio_alias *best = NULL;
    char subject[256];
    int r;

    hd_strlcpy(driver, "vfio-pci", size);
    if ((r = vfio_aliases_for(ctx, modalias, &a, subject, sizeof(subject))) <= 0)
        return r;
    /* The most specific match wins (libvirt chooses the same way): vfio-pci's own alias
     * matches everything and is all wildcards. */
    for (size_t i = 0; i < a->n; i++) {
        if (fnmatch(a->v[i].pattern, subject, 0) == 0 &&
            (best == NULL || wildcards(a->v[i].pattern) < wildcards(best->pattern)))
            best = &a->v[i];
    }
    if (best != NULL && !hd_cmdline_name_equal(best->module, "vfio_pci"))
        hd_strlcpy(driver, best->module, size);
    return 0;
}

HD_EXPORT int hd_device_get_vfio_driver(struct hd_device *dev, char *buf, size_t size)
{
    return hd_vfio_driver_for(hd_device_get_ctx(dev), hd_device_get_modalias(dev), buf, size);
}

int hd_vfio_variant_fits(struct hd_device *dev, const char *driver)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    const char *modalias = hd_device_get_modalias(dev);
    struct hd_vfio_aliases *a = NULL;
    char subject[256], fits[HD_DRIVER_NAME_MAX];
    bool known = false;
    int r;

    if ((r = vfio_aliases_for(ctx, modalias, &a, subject, sizeof(subject))) <= 0)
        return r;
    for (size_t i = 0; i < a->n; i++) {
        if (!hd_cmdline_name_equal(a->v[i].module, driver))
            continue;
        known = true;
        if (fnmatch(a->v[i].pattern, subject, 0) == 0)
            return 0;
    }
    /* No alias names it (no modules.alias here, a driver built outside it): not known what
     * it drives, so not refused on a guess. */
    if (!known)
        return 0;
    if ((r = hd_vfio_driver_for(ctx, modalias, fits, sizeof(fits))) < 0)
        return r;
    return hd_errr(ctx, -EINVAL, HD_REASON_INVALID,
                   "%s: %s does not drive it (%04x:%04x: no vfio_pci alias of %s in the "
                   "kernel's modules.alias matches it: a driver_override forces it onto a "
                   "device it is not made for); %s does",
                   hd_device_get_name(dev), driver, hd_device_get_vendor_id(dev),
                   hd_device_get_device_id(dev), driver, fits);
}
