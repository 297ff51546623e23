/* stub.c - the stub drivers hostdev binds to, which drivers are stubs (vfio-pci's variants
 * too), and which leave a group viable: what the engine knows of drivers. */
#include <string.h>

#include "internal.h"

/* The VFIO stub: binds by driver_override or new_id (its id table is empty), and gives the
 * group to user space as dev/vfio/<group>. */
const struct hd_stub_driver hd_stub_vfio_pci = {
    .name = "vfio-pci",
    .module = "vfio_pci",
    .vfio = true,
};

/* The legacy stub (KVM device assignment before VFIO): claims a device and does nothing with
 * it; no device node. */
static const struct hd_stub_driver pci_stub = {
    .name = "pci-stub",
    .module = "pci_stub",
    .vfio = false,
};

static const struct hd_stub_driver *const stubs[] = {&hd_stub_vfio_pci, &pci_stub};

const struct hd_stub_driver *hd_stub_driver_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < HD_ARRAY_SIZE(stubs); i++) {
        if (strcmp(stubs[i]->name, name) == 0)
            return stubs[i];
    }
    return NULL;
}

/* What a kernel module (and so a variant driver) can be called: letters, digits, '_', '-'.
 * Nothing that a config line or a journal word could read differently. */
static bool module_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= HD_DRIVER_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    }
    return true;
}

int hd_stub_driver_get(const char *name, struct hd_stub_driver *out)
{
    const struct hd_stub_driver *stub = hd_stub_driver_find(name);

    if (stub != NULL) {
        *out = *stub;
        return 0;
    }
    if (!hd_driver_is_vfio(name) || !module_name(name))
        return -EINVAL;
    *out = (struct hd_stub_driver){.name = name, .module = name, .vfio = true, .variant = true};
    return 0;
}

bool hd_driver_is_stub(const char *name)
{
    return hd_stub_driver_find(name) != NULL || hd_driver_is_vfio(name);
}

bool hd_vfio_capture_binds(const char *pfdrv)
{
    return strchr(pfdrv, '_') == NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

HD_EXPORT bool hd_driver_is_vfio(const char *driver)
{
    /* Variant drivers (mlx5_vfio_pci, hisi_acc_vfio_pci, ...) are named after vfio_pci: a
     * convention, for names users give; a bound device asks the kernel (hd_bound_to_vfio). */
    return driver != NULL && (strcmp(driver, "vfio-pci") == 0 || ends_with(driver, "_vfio_pci") ||
                              ends_with(driver, "-vfio-pci"));
}

bool hd_bound_to_vfio(struct hd_ctx *ctx, const char *bdf, const char *driver)
{
    char path[HD_PATH_MAX];

    if (driver == NULL || driver[0] == '\0')
        return false;
    if (hd_driver_is_vfio(driver))
        return true;
    /* Only a name the rule does not know costs a read (pci-stub is known: no VFIO driver). */
    return hd_stub_driver_find(driver) == NULL &&
           hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/vfio-dev", bdf) == 0 &&
           hd_fs_exists(ctx, path) == 1;
}

HD_EXPORT bool hd_device_is_on_vfio(const struct hd_device *dev)
{
    /* A vfio-dev directory its snapshot read already answers without another, and so does
     * the kernel's "no" on this driver, asked once (a command asks at every check). */
    if (hd_device_get_vfio_cdev(dev) != NULL)
        return true;
    if (hd_driver_is_vfio(hd_device_get_driver(dev)))
        return true;
    if (hd_device_known_not_on_vfio(dev))
        return false;
    if (hd_bound_to_vfio(hd_device_get_ctx(dev), hd_device_get_name(dev),
                         hd_device_get_driver(dev)))
        return true;
    hd_device_set_not_on_vfio(dev);
    return false;
}

HD_EXPORT bool hd_driver_is_dma_safe(const char *driver)
{
    /* The drivers with driver_managed_dma since the 2022 DMA-ownership rework. */
    return driver == NULL || hd_driver_is_vfio(driver) || strcmp(driver, "pci-stub") == 0 ||
           strcmp(driver, "pcieport") == 0;
}

/* Does @cl give @param a value the kernel rejects (hd_cmdline_get_invalid())? */
static bool rejects(const struct hd_cmdline *cl, const char *param)
{
    for (size_t i = 0; i < hd_cmdline_get_invalid_count(cl); i++) {
        const char *name, *option, *why, *log;
        if (hd_cmdline_get_invalid(cl, i, &name, &option, &why, &log) == 0 &&
            hd_cmdline_name_equal(name, param))
            return true;
    }
    return false;
}

HD_EXPORT bool hd_vfio_noiommu_mode(struct hd_ctx *ctx)
{
    static const char param[] = "vfio.enable_unsafe_noiommu_mode";
    const struct hd_cmdline *source;
    struct hd_cmdline *cl = NULL;
    char buf[8];
    bool on = false;

    if (hd_fs_read_attr(ctx, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", buf,
                        sizeof(buf)) > 0)
        return hd_kstrtobool(buf, &on) == 0 && on;
    /* vfio not loaded yet (a module, loaded by the first vfio-pci bind, as at boot before any
     * was made): it takes the mode modprobe gives it as it loads, the last value said. One the
     * kernel rejects fails that load (parse_args()): no mode, whatever the others say. */
    if (hd_fs_exists(ctx, "sys/module/vfio") != 0)
        return false;
    if (hd_cmdline_read(ctx, &cl) < 0)
        cl = NULL;
    source = hd_modprobe_param_source(ctx, cl, param);
    on = source != NULL && !rejects(source, param) &&
         hd_cmdline_get_setting(source, HD_CMDLINE_NOIOMMU_MODE) == HD_TRISTATE_YES;
    hd_cmdline_unref(cl);
    return on;
}

HD_EXPORT bool hd_group_number_is_noiommu(struct hd_ctx *ctx, int number)
{
    char path[HD_PATH_MAX], name[32];

    /* The kernel names such a group "vfio-noiommu" (vfio_noiommu_group_alloc()) and no other
     * (other groups have no name file): one read, a failed open for most, which every
     * operation's locking pays for each device. */
    return number >= 0 &&
           hd_path(path, sizeof(path), "sys/kernel/iommu_groups/%d/name", number) == 0 &&
           hd_fs_read_attr(ctx, path, name, sizeof(name)) > 0 && strcmp(name, "vfio-noiommu") == 0;
}
