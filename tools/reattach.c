/* reattach.c - `hostdev reattach`: give devices back to their host drivers. */
#include <getopt.h>
#include <stdlib.h>

#include "opout.h"

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
                                         {"force", no_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    unsigned int flags = 0;
    struct hd_op *op;
    int c, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c == 'f') {
            flags |= HD_OP_FORCE;
        } else if (c == 'n') {
            t->dry_run = true;
        } else {
            tool_usage(&cmd_reattach, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if ((r = tool_op_new(t, HD_OP_REATTACH, flags, &op)) != EXIT_DONE)
        return r;
    if ((r = tool_op_add_args(t, op, argc - optind, argv + optind, true)) == EXIT_DONE)
        r = tool_run_op(t, op, "reattach", flags & HD_OP_FORCE ? NULL : "--force", NULL);
    hd_op_unref(op);
    return r;
}

const struct tool_command cmd_reattach = {
    .name = "reattach",
    .run = run,
    .usage = "ADDR... [--force] [--dry-run]",
    .summary = "return detached devices to their host drivers",
    .help = "  -f, --force     give back an SR-IOV PF with VFs, which its driver's unbind\n"
            "                  from vfio-pci destroys (never one a VM holds)\n"
            "      --dry-run   print the plan, change nothing\n"
            "The driver recorded when the device left its host driver is restored, or no\n"
            "driver when it had none; without a record, the one its modalias resolves to.\n"
            "A device a VM holds is refused: release it (release --force in an emergency).\n"
            "All or nothing: if one device fails, the others are put back on their stubs.\n",
};
