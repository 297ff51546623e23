/* release.c - `hostdev release`: take devices back from a VM, or force one back. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "domain-args.h"
#include "opout.h"

static const struct option release_opts[] = {{"vm", required_argument, NULL, 'm'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"domain-xml", required_argument, NULL, 'x'},
                                             {"dry-run", no_argument, NULL, 'D'},
                                             {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    const char *vm = NULL, *domain_xml = NULL;
    struct domain_args da = {0};
    bool force = false;
    struct hd_op *op;
    char what[160];
    int c, r, n;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = tool_getopt(argc, argv, cmd_release.shortopts, cmd_release.opts)) != -1) {
        switch (c) {
        case 'm':
            if ((r = tool_take_once(t, "--vm", &vm, optarg)) != EXIT_DONE)
                return r;
            break;
        case 'f':
            force = true;
            break;
        case 'x':
            if ((r = tool_take_once(t, "--domain-xml", &domain_xml, optarg)) != EXIT_DONE)
                return r;
            break;
        case 'D':
            t->dry_run = true;
            break;
        default:
            tool_usage(&cmd_release, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    n = argc - optind;
    if (domain_xml != NULL) {
        if (force || n > 0)
            return tool_error(t, EXIT_USAGE, "--domain-xml gives the devices: no ADDR or --force "
                              "with it");
        if ((r = domain_args_read(t, domain_xml, &vm, &da)) != EXIT_DONE)
            return r;
    }
    if (force && (vm != NULL || n != 1)) {
        domain_args_free(&da);
        return tool_error(t, EXIT_USAGE, "--force takes exactly one ADDR or UUID and no --vm");
    }
    if (!force && vm == NULL)
        return tool_error(t, EXIT_USAGE, "--vm ID is required (or --force ADDR|UUID)");
    if (vm != NULL && (r = tool_check_vm_id(t, vm)) != EXIT_DONE) {
        domain_args_free(&da);
        return r;
    }
    if ((r = tool_op_new(t, HD_OP_RELEASE, force ? HD_OP_FORCE : 0, &op)) != EXIT_DONE) {
        domain_args_free(&da);
        return r;
    }
    if (vm != NULL)
        hd_op_set_vm(op, vm);
    for (size_t i = 0; domain_xml != NULL && i < da.nall && r == EXIT_DONE; i++) {
        if ((c = hd_op_add_device(op, &da.all[i], true)) < 0)
            r = tool_lib_error(t, EXIT_USAGE, c, "%s", domain_xml);
    }
    for (size_t i = 0; domain_xml != NULL && i < da.nmdevs && r == EXIT_DONE; i++) {
        if ((c = hd_op_add_mdev(op, da.mdevs[i])) < 0)
            r = tool_lib_error(t, EXIT_USAGE, c, "%s", domain_xml);
    }
    for (size_t i = 0; domain_xml != NULL && i < da.nnodes && r == EXIT_DONE; i++) {
        if ((c = hd_op_add_node_device(op, da.nodes[i])) < 0)
            r = tool_lib_error(t, EXIT_USAGE, c, "%s", domain_xml);
    }
    if (r == EXIT_DONE && domain_xml == NULL && n > 0)
        r = tool_op_add_args(t, op, n, argv + optind, true, true);
    snprintf(what, sizeof(what), "%s%s", force ? "" : "vm ", force ? argv[optind] : vm);
    if (r == EXIT_DONE)
        r = tool_run_op(t, op, "release", NULL, what);
    hd_op_unref(op);
    domain_args_free(&da);
    return r;
}

const struct tool_command cmd_release = {
    .shortopts = "m:fx:",
    .opts = release_opts,
    .name = "release",
    .takes = TOOL_TAKES_ANY,
    .run = run,
    .usage = "--vm ID [ADDR...] | [--vm ID] --domain-xml FILE\n"
             "       | --force ADDR|UUID [--dry-run]",
    .summary = "take devices back from a VM (reset, reattach, restore /dev/vfio)",
    .help = "  -m, --vm ID     release this VM's devices (all of them when no ADDR is given);\n"
            "                  a device acquired with its IOMMU group brings the group back\n"
            "  -x, --domain-xml F  the <hostdev> and <interface type='hostdev'> elements of a\n"
            "                  libvirt domain XML\n"
            "  -f, --force     emergency release of one device (a mediated one by UUID)\n"
            "                  whatever its record says (a record whose device is gone is\n"
            "                  dropped); not all or nothing:\n"
            "                  when it fails, run it again once the kernel has returned;\n"
            "                  one no VM holds and not detached is left as it is (exit 0)\n"
            "      --dry-run   print the plan, change nothing\n"
            "Without --force, all or nothing: on failure the devices stay assigned as they\n"
            "were. A device named that no VM holds is left as it is (exit 0: a retry\n"
            "succeeds). A VM that holds nothing, without ADDR, is an error (exit 1), and so\n"
            "is a device that would go back to a host driver while the VM keeps another of\n"
            "its IOMMU group.\n",
};
