/* detach.c - `hostdev detach`: hand devices to vfio-pci (or pci-stub), all or nothing. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"

/* Say which members keep the group from a VM, and how to fix it. */
static void warn_if_not_viable(struct tool *t, struct hd_device *dev)
{
    int number = hd_device_get_iommu_group(dev);
    struct hd_group *g;

    if (number < 0 || hd_group_open(t->ctx, number, &g) < 0)
        return;
    if (!hd_group_is_viable(g)) {
        fprintf(stderr, "hostdev detach: warning: IOMMU group %d is not viable, a VM cannot "
                        "use %s yet:", number, hd_device_get_name(dev));
        for (size_t i = 0; i < hd_group_get_blocker_count(g); i++) {
            struct hd_device *b = hd_group_get_blocker(g, i);
            fprintf(stderr, "%s %s is bound to %s", i ? "," : "", hd_device_get_name(b),
                    hd_device_get_driver(b));
        }
        fprintf(stderr, ". Detach %s too, or all at once with 'hostdev detach --group %s'.\n",
                hd_group_get_blocker_count(g) > 1 ? "them" : "it", hd_device_get_name(dev));
    }
    hd_group_unref(g);
}

/* Refuse, naming the reason, a device (or with --group a member) that would lose a driver
 * the host is using. */
static int check_host_use(struct tool *t, struct hd_device *dev, bool group)
{
    struct hd_group *g = NULL;
    int r = 0;

    if (!group || hd_device_get_iommu_group(dev) < 0 ||
        hd_group_open(t->ctx, hd_device_get_iommu_group(dev), &g) < 0) {
        if (hd_device_get_driver(dev) != NULL && (r = hd_device_check_host_use(dev)) < 0)
            return tool_lib_error(t, EXIT_FAILED, r, "refusing");
        return EXIT_DONE;
    }
    for (size_t i = 0; i < hd_group_get_member_count(g) && r == 0; i++) {
        struct hd_device *m = hd_group_get_member(g, i);
        if (hd_device_is_assignable(m) && hd_device_get_driver(m) != NULL &&
            !hd_driver_is_dma_safe(hd_device_get_driver(m)))
            r = hd_device_check_host_use(m);
    }
    hd_group_unref(g);
    return r < 0 ? tool_lib_error(t, EXIT_FAILED, r, "refusing") : EXIT_DONE;
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"driver", required_argument, NULL, 'd'},
                                         {"group", no_argument, NULL, 'g'},
                                         {"new-id", no_argument, NULL, 'n'},
                                         {"force", no_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    const char *stub = "vfio-pci";
    struct hd_device **devs;
    unsigned int flags = 0;
    bool group = false, force = false;
    size_t n, done;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = getopt_long(argc, argv, "d:gnf", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            stub = strcmp(optarg, "vfio") == 0 ? "vfio-pci" : optarg;
            if (strcmp(stub, "vfio-pci") != 0 && strcmp(stub, "pci-stub") != 0)
                return tool_error(t, EXIT_USAGE, "--driver '%s': use vfio-pci or pci-stub",
                                  optarg);
            break;
        case 'g':
            group = true;
            break;
        case 'n':
            flags |= HD_DETACH_NEW_ID;
            break;
        case 'f':
            force = true;
            break;
        default:
            tool_usage(&cmd_detach, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if ((r = devargs_open(t, argc - optind, argv + optind, &devs, &n)) != EXIT_DONE)
        return r;
    for (size_t i = 0; i < n && !force; i++) {
        hd_ctx_clear_error(t->ctx);
        if ((r = check_host_use(t, devs[i], group)) != EXIT_DONE) {
            fprintf(stderr, "hostdev detach: --force takes it anyway\n");
            devargs_free(devs, n);
            return r;
        }
    }
    for (done = 0; done < n; done++) {
        struct hd_device *dev = devs[done];
        char *before = NULL;
        hd_ctx_clear_error(t->ctx);
        if (hd_device_get_driver(dev) != NULL)
            before = strdup(hd_device_get_driver(dev));
        r = group ? hd_device_detach_group(dev, stub, flags) : hd_device_detach(dev, stub, flags);
        if (r < 0) {
            free(before);
            break;
        }
        if (!t->json)
            printf("%s: %s -> %s\n", hd_device_get_name(dev), before ? before : "unbound",
                   hd_device_get_driver(dev) ? hd_device_get_driver(dev) : "unbound");
        free(before);
    }
    if (done < n) {
        int err = r;
        tool_lib_error(t, EXIT_FAILED, err, "%s", hd_device_get_name(devs[done]));
        /* All or nothing: the devices done in this call go back. */
        while (done > 0)
            hd_device_reattach(devs[--done]);
        devargs_free(devs, n);
        return EXIT_FAILED;
    }
    if (t->json) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            json_begin_object(&j);
            json_kv_string(&j, "address", hd_device_get_name(devs[i]));
            json_kv_string(&j, "driver", hd_device_get_driver(devs[i]));
            json_kv_int_or_null(&j, "iommu_group", hd_device_get_iommu_group(devs[i]),
                                hd_device_get_iommu_group(devs[i]) >= 0);
            json_end_object(&j);
        }
        json_end_array(&j);
        json_finish(&j);
    }
    for (size_t i = 0; i < n; i++)
        warn_if_not_viable(t, devs[i]);
    devargs_free(devs, n);
    return EXIT_DONE;
}

const struct tool_command cmd_detach = {
    .name = "detach",
    .run = run,
    .usage = "ADDR... [--driver vfio-pci|pci-stub] [--group] [--new-id] [--force]",
    .summary = "detach devices from their host drivers for passthrough",
    .help = "  -d, --driver NAME   stub driver: vfio-pci (default) or pci-stub\n"
            "  -g, --group         detach every endpoint of each device's IOMMU group\n"
            "  -n, --new-id        bind through new_id even where driver_override exists\n"
            "  -f, --force         detach even what the host uses (a mounted disk, an\n"
            "                      interface up with addresses or routes, the console)\n"
            "The driver each device had is recorded so that reattach can restore it. If any\n"
            "device fails, those already detached by this command are reattached.\n",
};
