/* devargs.c - commands that take a list of devices: check every argument before touching
 * anything, then open each device. */
#include <stdlib.h>

#include "devargs.h"

int devargs_parse(struct tool *t, int argc, char **argv, struct hd_pci_addr **out)
{
    struct hd_pci_addr *addrs;

    *out = NULL;
    if (argc < 1)
        return tool_error(t, EXIT_USAGE, "no device given (an address such as 0000:03:00.0)");
    addrs = calloc((size_t)argc, sizeof(*addrs));
    if (addrs == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    /* Syntax first, for all: a typo in the third address must not leave two devices done. */
    for (int i = 0; i < argc; i++) {
        if (tool_parse_addr(t, argv[i], &addrs[i]) < 0) {
            free(addrs);
            return EXIT_USAGE;
        }
    }
    *out = addrs;
    return EXIT_DONE;
}

int devargs_open(struct tool *t, int argc, char **argv, struct hd_device ***out, size_t *n)
{
    struct hd_pci_addr *addrs;
    struct hd_device **devs;
    int r;

    *out = NULL;
    *n = 0;
    if ((r = devargs_parse(t, argc, argv, &addrs)) != EXIT_DONE)
        return r;
    free(addrs);
    devs = calloc((size_t)argc, sizeof(*devs));
    if (devs == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (int i = 0; i < argc; i++) {
        r = tool_open_device(t, argv[i], &devs[i]);
        if (r != EXIT_DONE) {
            devargs_free(devs, (size_t)i);
            return r;
        }
    }
    *out = devs;
    *n = (size_t)argc;
    return EXIT_DONE;
}

void devargs_free(struct hd_device **devs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hd_device_unref(devs[i]);
    free(devs);
}
