/* detach.c - `hostdev detach`: hand devices to vfio-pci, its variant for the device, or
 * pci-stub, all or nothing. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"

/* Say which members keep the group from a VM, and how to fix it. */
static void warn_if_not_viable(struct tool *t, const char *name)
{
    struct hd_device *dev;
    struct hd_group *g;
    int number;

    if (tool_json(t) || tool_open_device_fill(t, name, HD_FILL_GROUP, &dev) != EXIT_DONE)
        return;
    number = hd_device_get_iommu_group(dev);
    if (number >= 0 && hd_group_open_fill(t->ctx, number, 0, &g) == 0) {
        if (!hd_group_is_viable(g)) {
            fprintf(stderr, "hostdev detach: note: IOMMU group %d is not viable yet, a VM cannot "
                            "use %s:", number, name);
            for (size_t i = 0; i < hd_group_get_blocker_count(g); i++) {
                struct hd_device *b = hd_group_get_blocker(g, i);
                fprintf(stderr, "%s %s is bound to %s", i ? "," : "", hd_device_get_name(b),
                        hd_device_get_driver(b));
            }
            fprintf(stderr, ". Detach %s too, or all at once with 'hostdev detach --group %s'.\n",
                    hd_group_get_blocker_count(g) > 1 ? "them" : "it", name);
        }
        hd_group_unref(g);
    }
    hd_device_unref(dev);
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"driver", required_argument, NULL, 'd'},
                                         {"group", no_argument, NULL, 'g'},
                                         {"new-id", no_argument, NULL, 'n'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"dry-run", no_argument, NULL, 'D'},
                                         {NULL, 0, NULL, 0}};
    const char *stub = NULL; /* each device's vfio-pci family driver */
    unsigned int flags = 0;
    struct hd_op *op;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = getopt_long(argc, argv, "d:gnf", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            stub = strcmp(optarg, "vfio") == 0 ? NULL : optarg;
            if (stub != NULL && !hd_driver_is_vfio(stub) && strcmp(stub, "pci-stub") != 0)
                return tool_error(t, EXIT_USAGE, "--driver '%s': use vfio-pci, a vfio-pci "
                                  "variant (mlx5_vfio_pci, ...) or pci-stub", optarg);
            break;
        case 'g':
            flags |= HD_OP_GROUP;
            break;
        case 'n':
            flags |= HD_OP_NEW_ID;
            break;
        case 'f':
            flags |= HD_OP_FORCE;
            break;
        case 'D':
            t->dry_run = true;
            break;
        default:
            tool_usage(&cmd_detach, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if ((r = tool_op_new(t, HD_OP_DETACH, flags, &op)) != EXIT_DONE)
        return r;
    if ((c = hd_op_set_driver(op, stub)) < 0)
        r = tool_lib_error(t, EXIT_USAGE, c, "--driver");
    else if ((r = tool_op_add_args(t, op, argc - optind, argv + optind, true)) == EXIT_DONE)
        r = tool_run_op(t, op, "detach", "--force", NULL);
    /* The devices as the operation resolved them: an interface name given on the command
     * line went with its host driver. */
    for (size_t i = 0; r == EXIT_DONE && !t->dry_run && (stub == NULL || hd_driver_is_vfio(stub)) &&
                       i < hd_op_get_step_count(op);
         i++) {
        const char *a = hd_op_step_get_action(op, i), *d = hd_op_step_get_device(op, i);
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(hd_op_step_get_device(op, k), d) == 0;
        if (!seen && (strcmp(a, "detach") == 0 || strcmp(a, "keep") == 0))
            warn_if_not_viable(t, d);
    }
    hd_op_unref(op);
    return r;
}

const struct tool_command cmd_detach = {
    .name = "detach",
    .run = run,
    .usage = "ADDR... [--driver NAME] [--group] [--new-id] [--force] [--dry-run]",
    .summary = "detach devices from their host drivers for passthrough",
    .help = "  -d, --driver NAME   vfio (default: the device's vfio-pci variant driver when\n"
            "                      the kernel's modules.alias has one, else vfio-pci),\n"
            "                      vfio-pci, a variant (mlx5_vfio_pci, ...) or pci-stub\n"
            "  -g, --group         detach every endpoint of each device's IOMMU group\n"
            "  -n, --new-id        bind through new_id even where driver_override exists\n"
            "  -f, --force         detach even what the host uses (a mounted disk, an\n"
            "                      interface up with addresses or routes, the console) and\n"
            "                      platform functions (host/ISA bridges, SMBus, ...)\n"
            "      --dry-run       print the plan, change nothing\n"
            "The driver each device had (or that it had none) is recorded once, when it\n"
            "leaves its host driver, so that reattach can restore it. A device a VM holds is\n"
            "refused (release it first). If any step fails, everything is put back.\n",
};
