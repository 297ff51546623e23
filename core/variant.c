/* variant.c - which vfio-pci family driver takes a device: a variant driver (mlx5_vfio_pci,
 * hisi_acc_vfio_pci, virtio_vfio_pci, ...) when the running kernel's modules.alias has a
 * "vfio_pci:" alias matching the device, else vfio-pci itself. Variant drivers list their ids
 * with PCI_DRIVER_OVERRIDE_DEVICE_VFIO, which file2alias writes as "vfio_pci:v...d..."
 * aliases; vfio-pci's own "match all" entry is one of them, with wildcards only. The aliases
 * are os/modalias.c's (modules.alias and the built-in drivers'), which keeps these apart. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static size_t wildcards(const char *pattern)
{
    size_t n = 0;

    for (; *pattern; pattern++)
        n += *pattern == '*' || *pattern == '?' || *pattern == '[';
    return n;
}

/* The aliases (*@v, *@n) and the name they are matched against (@subject) for a PCI
 * @modalias: 1; 0 when it is none (no variant is for it). */
static int vfio_aliases_for(struct hd_ctx *ctx, const char *modalias,
                            const struct hd_modalias **v, size_t *n, char *subject, size_t size)
{
    int r;

    /* "pci:v..." is what the kernel matches "vfio_pci:v..." aliases against. */
    if (modalias == NULL || strncmp(modalias, "pci:", 4) != 0)
        return 0;
    if ((r = hd_modaliases_get_vfio(ctx, v, n)) < 0)
        return r;
    snprintf(subject, size, "vfio_%s", modalias);
    return 1;
}

int hd_vfio_driver_for(struct hd_ctx *ctx, const char *modalias, char *driver, size_t size)
{
    const struct hd_modalias *v = NULL, *best = NULL;
    char subject[256];
    size_t n = 0;
    int r;

    hd_strlcpy(driver, "vfio-pci", size);
    if ((r = vfio_aliases_for(ctx, modalias, &v, &n, subject, sizeof(subject))) <= 0)
        return r;
    /* The most specific match wins (libvirt chooses the same way): vfio-pci's own alias
     * matches everything and is all wildcards. */
    for (size_t i = 0; i < n; i++) {
        if (hd_modalias_match(v[i].pattern, subject) &&
            (best == NULL || wildcards(v[i].pattern) < wildcards(best->pattern)))
            best = &v[i];
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
    const struct hd_modalias *v = NULL;
    char subject[256], fits[HD_DRIVER_NAME_MAX];
    bool known = false;
    size_t n = 0;
    int r;

    if ((r = vfio_aliases_for(ctx, modalias, &v, &n, subject, sizeof(subject))) <= 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (!hd_cmdline_name_equal(v[i].module, driver))
            continue;
        known = true;
        if (hd_modalias_match(v[i].pattern, subject))
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
