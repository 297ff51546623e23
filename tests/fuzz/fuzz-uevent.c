/* fuzz-uevent.c - fuzz target: a PCI device's uevent file (pci/device.c). */
#include <stdio.h>
#include <unistd.h>

#include "internal.h"

#include "fuzz.h"

static struct hd_ctx *ctx;
static char root[] = "/tmp/hostdev-fuzz-uevent-XXXXXX";

static void cleanup(void)
{
    hd_ctx_unref(ctx);
    rmdir(root);
}

/* The parser needs a context for its messages: one on an empty directory of our own, never
 * the host's root (nothing here reads or writes through it). */
static struct hd_ctx *fuzz_ctx(void)
{
    if (ctx == NULL) {
        if (mkdtemp(root) == NULL || hd_ctx_new(root, &ctx) < 0) {
            perror("fuzz-uevent: context");
            abort();
        }
        atexit(cleanup);
    }
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct hd_pci_addr addr = {.domain = 0, .bus = 3, .slot = 0, .function = 0};
    struct hd_device *dev;
    char *s;

    /* hd_fs_read_attr() never hands over more than HD_ATTR_MAX - 1 bytes. */
    if (size >= HD_ATTR_MAX)
        return 0;
    if ((s = fuzz_str(data, size)) == NULL)
        return 0;
    if ((dev = hd_device_new(fuzz_ctx(), &addr)) == NULL) {
        free(s);
        return 0;
    }
    if (hd_device_parse_uevent(dev, s) == 0) {
        const char *driver = hd_device_get_driver(dev);
        fuzz_sink = hd_device_get_vendor_id(dev) + hd_device_get_class(dev);
        if (driver != NULL && !hd_name_valid(driver))
            abort(); /* it becomes part of a path */
    } else if (strchr(hd_ctx_last_error(ctx), '\n') != NULL) {
        abort(); /* every error is one line */
    }
    hd_device_unref(dev);
    free(s);
    return 0;
}
