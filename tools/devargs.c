/* devargs.c - commands that take a list of devices: check every argument before touching
 * anything, then open each device. */
#include <stdlib.h>
#include <string.h>

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

/* Fill @m for @uuid from the kernel: EXIT_USAGE when there is no such mediated device. */
static int mdev_arg(struct tool *t, struct hd_mdev_list *l, struct hd_mdev_type_list *types,
                    const char *arg, const char *uuid, struct devarg_mdev *m)
{
    for (size_t i = 0; i < hd_mdev_list_count(l); i++) {
        if (strcmp(hd_mdev_list_get_uuid(l, i), uuid) != 0)
            continue;
        snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
        snprintf(m->api, sizeof(m->api), "vfio-pci"); /* what nearly all of them are */
        for (size_t k = 0; k < hd_mdev_type_list_count(types); k++) {
            const char *api = hd_mdev_type_list_get_device_api(types, k);
            if (strcmp(hd_mdev_type_list_get_parent(types, k), hd_mdev_list_get_parent(l, i)) == 0 &&
                strcmp(hd_mdev_type_list_get_id(types, k), hd_mdev_list_get_type(l, i)) == 0 &&
                api != NULL && (strcmp(api, "vfio-pci") == 0 || strcmp(api, "vfio-ccw") == 0 ||
                                strcmp(api, "vfio-ap") == 0))
                snprintf(m->api, sizeof(m->api), "%s", api);
        }
        return EXIT_DONE;
    }
    return tool_error(t, EXIT_USAGE, "%s: no such mediated device under %s", arg,
                      hd_ctx_get_root(t->ctx));
}

int devargs_open_any(struct tool *t, int argc, char **argv, struct hd_device ***devs,
                     struct devarg_mdev **mdevs, size_t *n)
{
    struct hd_mdev_type_list *types = NULL;
    struct hd_mdev_list *l = NULL;
    char uuid[37];
    int r = EXIT_DONE;

    *devs = NULL;
    *mdevs = NULL;
    *n = 0;
    if (argc < 1)
        return tool_error(t, EXIT_USAGE, "no device given (an address such as 0000:03:00.0, "
                          "or a mediated device's UUID)");
    *devs = calloc((size_t)argc, sizeof(**devs));
    *mdevs = calloc((size_t)argc, sizeof(**mdevs));
    if (*devs == NULL || *mdevs == NULL) {
        devargs_free_any(*devs, *mdevs, 0);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    /* Syntax first, for all. */
    for (int i = 0; i < argc && r == EXIT_DONE; i++) {
        struct hd_pci_addr a;
        if (hd_mdev_uuid_parse(argv[i], uuid) < 0 && tool_parse_addr(t, argv[i], &a) < 0)
            r = EXIT_USAGE;
    }
    for (int i = 0; i < argc && r == EXIT_DONE; i++) {
        if (hd_mdev_uuid_parse(argv[i], uuid) < 0) {
            r = tool_open_device(t, argv[i], &(*devs)[i]);
            continue;
        }
        int e = 0;
        if (l == NULL && ((e = hd_mdev_list_new(t->ctx, &l)) < 0 ||
                          (e = hd_mdev_type_list_new(t->ctx, &types)) < 0))
            r = tool_lib_error(t, EXIT_FAILED, e, "listing mediated devices");
        else
            r = mdev_arg(t, l, types, argv[i], uuid, &(*mdevs)[i]);
    }
    hd_mdev_list_unref(l);
    hd_mdev_type_list_unref(types);
    if (r != EXIT_DONE) {
        devargs_free_any(*devs, *mdevs, (size_t)argc);
        *devs = NULL;
        *mdevs = NULL;
        return r;
    }
    *n = (size_t)argc;
    return EXIT_DONE;
}

void devargs_free_any(struct hd_device **devs, struct devarg_mdev *mdevs, size_t n)
{
    for (size_t i = 0; devs != NULL && i < n; i++)
        hd_device_unref(devs[i]);
    free(devs);
    free(mdevs);
}
