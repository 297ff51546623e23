/* detach.c - `hostdev detach`: hand devices to vfio-pci, its variant for the device, or
 * pci-stub, all or nothing. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"

static const struct option detach_opts[] = {{"driver", required_argument, NULL, 'd'},
                                            {"group", no_argument, NULL, 'g'},
                                            {"new-id", no_argument, NULL, 'n'},
                                            {"force", no_argument, NULL, 'f'},
                                            {"noiommu", no_argument, NULL, 'U'},
                                            {"dry-run", no_argument, NULL, 'D'},
                                            {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    const char *stub = NULL; /* each device's vfio-pci family driver */
    const char *driver = NULL; /* --driver as given */
    unsigned int flags = 0;
    struct hd_op *op;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = tool_getopt(argc, argv, cmd_detach.shortopts, cmd_detach.opts)) != -1) {
        switch (c) {
        case 'd':
            if ((r = tool_take_once(t, "--driver", &driver, optarg)) != EXIT_DONE)
                return r;
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
        case 'U':
            flags |= HD_OP_NOIOMMU;
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
    else if ((r = tool_op_add_args(t, op, argc - optind, argv + optind, true, true)) == EXIT_DONE)
        r = tool_run_op(t, op, "detach", flags & HD_OP_FORCE ? NULL : "--force", NULL);
    hd_op_unref(op);
    return r;
}

const struct tool_command cmd_detach = {
    .shortopts = "d:gnf",
    .opts = detach_opts,
    .name = "detach",
    .run = run,
    .usage = "ADDR... [--driver NAME] [--group] [--new-id] [--force]\n"
             "       [--noiommu] [--dry-run]",
    .summary = "detach devices from their host drivers for passthrough",
    .help = "  -d, --driver NAME   vfio (default: the device's vfio-pci variant driver when\n"
            "                      the kernel's modules.alias has one, else vfio-pci),\n"
            "                      vfio-pci, a variant (mlx5_vfio_pci, ...) or pci-stub\n"
            "  -g, --group         detach every endpoint of each device's IOMMU group\n"
            "  -n, --new-id        bind through new_id even where driver_override exists\n"
            "  -f, --force         detach even what the host uses (a mounted disk, an\n"
            "                      interface up with addresses or routes, the console) and\n"
            "                      platform functions (host/ISA bridges, SMBus, ...)\n"
            "      --noiommu       UNSAFE: a device with no IOMMU group goes to vfio-pci\n"
            "                      in vfio's enable_unsafe_noiommu_mode (/dev/vfio/noiommu-N:\n"
            "                      no DMA isolation; for DPDK and the like, never a VM)\n"
            "      --dry-run       print the plan, change nothing\n"
            "The driver each device had (or that it had none) is recorded once, when it\n"
            "leaves its host driver, so that reattach can restore it. A device a VM holds is\n"
            "refused (release it first). If any step fails, everything is put back.\n",
};
