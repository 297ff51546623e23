/* reset.c - function reset through sysfs, and whether a device can be reset on its own or
 * must be co-assigned with the other functions a bus reset would hit. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct hd_reset_check {
    atomic_int refcount;
    enum hd_reset_scope scope;
    char *methods;
    struct hd_device **peers;
    size_t npeers;
};

/* Methods that reset this function alone. */
static bool is_function_method(const char *m)
{
    static const char *const fn[] = {"device_specific", "acpi", "flr", "af_flr", "pm"};
    for (size_t i = 0; i < HD_ARRAY_SIZE(fn); i++) {
        if (strcmp(m, fn[i]) == 0)
            return true;
    }
    return false;
}

/* PCI config space capabilities, for kernels without reset_method: what they would try. */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_PM 0x01
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_AF 0x13
#define PCI_PM_CTRL 4
#define PCI_PM_CTRL_NO_SOFT_RESET 0x0008
#define PCI_EXP_DEVCAP 4
#define PCI_EXP_DEVCAP_FLR 0x10000000u
#define PCI_AF_CAP 3
#define PCI_AF_CAP_FLR 0x02

/* A config space that fails to read is an error: methods chosen from it would be a guess. */
static int methods_from_config(struct hd_device *dev, char **out)
{
    unsigned char cfg[256];
    char buf[64] = "";
    ssize_t n = hd_device_read_config(dev, cfg, sizeof(cfg));
    bool flr = false, af = false, pm = false;

    if (n < 0)
        return (int)n;
    if (n >= 64 && (cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST)) {
        unsigned pos = cfg[PCI_CAPABILITY_LIST] & ~3u;
        for (int guard = 0; pos >= 0x40 && pos + 8 <= (unsigned)n && guard < 48; guard++) {
            unsigned id = cfg[pos];
            if (id == PCI_CAP_ID_EXP) {
                uint32_t devcap = (uint32_t)cfg[pos + PCI_EXP_DEVCAP] |
                                  (uint32_t)cfg[pos + PCI_EXP_DEVCAP + 1] << 8 |
                                  (uint32_t)cfg[pos + PCI_EXP_DEVCAP + 2] << 16 |
                                  (uint32_t)cfg[pos + PCI_EXP_DEVCAP + 3] << 24;
                flr = flr || (devcap & PCI_EXP_DEVCAP_FLR);
            } else if (id == PCI_CAP_ID_AF) {
                af = af || (cfg[pos + PCI_AF_CAP] & PCI_AF_CAP_FLR);
            } else if (id == PCI_CAP_ID_PM) {
                pm = !(cfg[pos + PCI_PM_CTRL] & PCI_PM_CTRL_NO_SOFT_RESET);
            }
            pos = cfg[pos + 1] & ~3u;
        }
    }
    if (flr)
        strcat(buf, "flr ");
    if (af)
        strcat(buf, "af_flr ");
    if (pm)
        strcat(buf, "pm ");
    if (hd_device_get_parent(dev) != NULL)
        strcat(buf, "bus ");
    if (buf[0])
        buf[strlen(buf) - 1] = '\0';
    return (*out = strdup(buf)) != NULL ? 0 : -ENOMEM;
}

int hd_reset_methods(struct hd_device *dev, char **out)
{
    *out = NULL;
    if (hd_device_get_reset_methods(dev) != NULL)
        return (*out = strdup(hd_device_get_reset_methods(dev))) != NULL ? 0 : -ENOMEM;
    return methods_from_config(dev, out);
}

int hd_reset_apply(struct hd_device *dev, unsigned int flags, char **methods_out)
{
    const char *name = hd_device_get_name(dev);
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    char path[HD_PATH_MAX], *methods;
    int r;

    if (methods_out != NULL)
        *methods_out = NULL;
    if ((r = hd_device_fill_fields(dev, HD_FILL_IDENT | HD_FILL_EXTRA | HD_FILL_PARENT, true)) < 0)
        return r;
    if (hd_device_get_driver(dev) != NULL && !hd_driver_is_stub(hd_device_get_driver(dev)) &&
        !(flags & HD_RESET_FORCE))
        return hd_err(ctx, -EBUSY,
                      "%s is in use by its host driver %s: detach it first (a reset "
                      "under a live driver can take the host down), or force it",
                      name, hd_device_get_driver(dev));
    if (!hd_device_has_reset(dev))
        return hd_err(ctx, -ENOTTY,
                      "%s cannot be reset: the kernel offers no reset method for "
                      "it (no 'reset' attribute)",
                      name);
    if ((r = hd_reset_methods(dev, &methods)) < 0)
        return r;
    hd_device_attr_path(dev, "reset", path, sizeof(path));
    hd_info(ctx, "%s: reset (methods: %s)", name, methods[0] ? methods : "unknown");
    r = hd_fs_write_attr_timeout(ctx, path, "1", hd_ctx_get_timeout_ms(ctx));
    if (r == -ENOTTY)
        r = hd_err(ctx, r, "%s: no reset method worked (tried: %s)%s", name,
                   methods[0] ? methods : "none",
                   strstr(methods, "bus") ? "; a bus reset needs the device alone on its bus: "
                                            "its reset check says more"
                                          : "");
    else if (r < 0)
        r = hd_err(ctx, r, "%s: reset failed: %s", name, strerror(-r));
    if (r == 0 && methods_out != NULL)
        *methods_out = methods;
    else
        free(methods);
    return r;
}

HD_EXPORT int hd_device_check_reset(struct hd_device *dev, struct hd_reset_check **out)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    struct hd_reset_check *c;
    struct hd_device_list *list = NULL;
    bool function = false, bus = false;
    char *save = NULL, *copy;
    int r;

    *out = NULL;
    if ((r = hd_device_fill_fields(dev, HD_FILL_EXTRA | HD_FILL_PARENT, true)) < 0)
        return r;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    hd_ref_init(&c->refcount);
    if ((r = hd_reset_methods(dev, &c->methods)) < 0 ||
        (copy = strdup(c->methods)) == NULL) {
        hd_reset_check_unref(c);
        return r < 0 ? r : -ENOMEM;
    }
    for (char *m = strtok_r(copy, " ", &save); m; m = strtok_r(NULL, " ", &save)) {
        function = function || is_function_method(m);
        bus = bus || strcmp(m, "bus") == 0 || strcmp(m, "cxl_bus") == 0;
    }
    free(copy);
    if (!hd_device_has_reset(dev) && hd_device_get_reset_methods(dev) != NULL)
        function = bus = false; /* methods listed but the kernel has disabled them all */
    if (function) {
        c->scope = HD_RESET_FUNCTION;
    } else if (!bus || !hd_device_has_reset(dev)) {
        c->scope = HD_RESET_NONE;
    } else {
        /* A bus reset hits every function on the device's bus. */
        if ((r = hd_device_list_new(ctx, HD_FILL_IDENT, &list)) < 0) {
            hd_reset_check_unref(c);
            return r;
        }
        c->peers = calloc(hd_device_list_count(list) + 1, sizeof(*c->peers));
        if (c->peers == NULL) {
            hd_device_list_unref(list);
            hd_reset_check_unref(c);
            return -ENOMEM;
        }
        for (size_t i = 0; i < hd_device_list_count(list); i++) {
            struct hd_device *d = hd_device_list_get(list, i);
            const struct hd_pci_addr *da = hd_device_get_addr(d), *own = hd_device_get_addr(dev);
            if (da->domain == own->domain && da->bus == own->bus && !hd_pci_addr_equal(da, own))
                c->peers[c->npeers++] = hd_device_ref(d);
        }
        hd_device_list_unref(list);
        c->scope = c->npeers ? HD_RESET_BUS_SHARED : HD_RESET_BUS;
    }
    *out = c;
    return 0;
}

HD_EXPORT struct hd_reset_check *hd_reset_check_ref(struct hd_reset_check *c)
{
    if (c != NULL)
        hd_ref_take(&c->refcount);
    return c;
}

HD_EXPORT struct hd_reset_check *hd_reset_check_unref(struct hd_reset_check *c)
{
    if (c == NULL || !hd_ref_drop(&c->refcount))
        return NULL;
    for (size_t i = 0; i < c->npeers; i++)
        hd_device_unref(c->peers[i]);
    free(c->peers);
    free(c->methods);
    free(c);
    return NULL;
}

HD_EXPORT enum hd_reset_scope hd_reset_check_get_scope(const struct hd_reset_check *c)
{
    return c->scope;
}

HD_EXPORT const char *hd_reset_check_get_methods(const struct hd_reset_check *c)
{
    return c->methods;
}

HD_EXPORT size_t hd_reset_check_get_peer_count(const struct hd_reset_check *c)
{
    return c->npeers;
}

HD_EXPORT struct hd_device *hd_reset_check_get_peer(const struct hd_reset_check *c, size_t i)
{
    return i < c->npeers ? c->peers[i] : NULL;
}
