/* reset.c - the `reset` and `reset_method` attributes (drivers/pci/pci.c rules). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

const char *const reset_method_names[RESET_NMETHODS] = {
    [RESET_DEVICE_SPECIFIC] = "device_specific",
    [RESET_ACPI] = "acpi",
    [RESET_FLR] = "flr",
    [RESET_AF_FLR] = "af_flr",
    [RESET_PM] = "pm",
    [RESET_BUS] = "bus",
    [RESET_CXL_BUS] = "cxl_bus",
};

static int method_lookup(const char *name, size_t len)
{
    for (int m = 0; m < RESET_NMETHODS; m++)
        if (strlen(reset_method_names[m]) == len && strncmp(reset_method_names[m], name, len) == 0)
            return m;
    return -1;
}

int reset_list_parse(const char *text, size_t len, char sep, int *list, int *n)
{
    const char *p = text, *end = text + len;

    *n = 0;
    while (p < end) {
        const char *q = p;
        while (q < end && *q != sep && *q != '\n')
            q++;
        if (q > p) {
            int m = method_lookup(p, (size_t)(q - p));
            if (m < 0)
                return -EINVAL;
            for (int i = 0; i < *n; i++)
                if (list[i] == m)
                    return -EINVAL; /* "Duplicate reset method" */
            list[(*n)++] = m;
        }
        p = q + (q < end);
    }
    return 0;
}

static bool supported(const struct device *dev, int m)
{
    for (int i = 0; i < dev->nreset_default; i++)
        if (dev->reset_default[i] == m)
            return true;
    return false;
}

static void reset_method_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)k;
    const struct device *dev = obj;

    for (int i = 0; i < dev->nreset_cur; i++)
        buf_printf(out, "%s%s", i ? " " : "", reset_method_names[dev->reset_cur[i]]);
    if (dev->nreset_cur)
        buf_puts(out, "\n");
}

static int reset_method_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    (void)k;
    struct device *dev = obj;
    int list[RESET_LIST_MAX], n;
    size_t l = strcspn(data, "\n");

    if (len >= 4096 - 1)
        return -EINVAL;
    if (l == 7 && strncmp(data, "default", 7) == 0) {
        memcpy(dev->reset_cur, dev->reset_default, sizeof(dev->reset_cur));
        dev->nreset_cur = dev->nreset_default;
        return 0;
    }
    if (reset_list_parse(data, l, ' ', list, &n) < 0)
        return -EINVAL;
    for (int i = 0; i < n; i++)
        if (!supported(dev, list[i]))
            return -EINVAL; /* "Unsupported reset method" */
    memcpy(dev->reset_cur, list, sizeof(list));
    dev->nreset_cur = n; /* an empty write disables every method */
    return 0;
}

/* pci_parent_bus_reset(): a secondary bus reset needs a bridge above and nobody else on the
 * bus, since it resets every function there. */
static int bus_reset(const struct kernel *k, const struct device *dev)
{
    if (dev->parent == NULL || device_is_bridge(dev))
        return -ENOTTY;
    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *o = k->devices[i];
        if (o != dev && o->present && o->addr.domain == dev->addr.domain &&
            o->addr.bus == dev->addr.bus)
            return -ENOTTY;
    }
    return 0;
}

static int reset_store(struct kernel *k, void *obj, const char *data, size_t len)
{
    struct device *dev = obj;
    unsigned long v;

    (void)len;
    if (kstrtoul(data, &v) < 0 || v != 1)
        return -EINVAL;
    /* Try each method in turn; -ENOTTY means "not this one". */
    for (int i = 0; i < dev->nreset_cur; i++) {
        int m = dev->reset_cur[i];
        int r = m == RESET_BUS ? bus_reset(k, dev) : 0;
        if (r == -ENOTTY)
            continue;
        kernel_log(k, "reset %s %s", dev->name, reset_method_names[m]);
        return r;
    }
    kernel_log(k, "reset-failed %s ENOTTY", dev->name);
    return -ENOTTY;
}

const struct attr reset_attr = {.name = "reset", .mode = 0200, .store = reset_store};
const struct attr reset_method_attr = {
    .name = "reset_method", .mode = 0644, .show = reset_method_show, .store = reset_method_store};
