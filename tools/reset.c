/* reset.c - `hostdev reset`: reset devices through the kernel's reset attribute. */
#include <getopt.h>
#include <stdlib.h>

#include "opout.h"

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    unsigned int flags = 0;
    struct hd_op *op;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c == 'f') {
            flags |= HD_OP_FORCE;
        } else if (c == 'n') {
            t->dry_run = true;
        } else {
            tool_usage(&cmd_reset, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if ((r = tool_op_new(t, HD_OP_RESET, flags, &op)) != EXIT_DONE)
        return r;
    if ((r = tool_op_add_args(t, op, argc - optind, argv + optind, true)) == EXIT_DONE)
        r = tool_run_op(t, op, "reset", flags & HD_OP_FORCE ? NULL : "--force", NULL);
    hd_op_unref(op);
    return r;
}

const struct tool_command cmd_reset = {
    .name = "reset",
    .run = run,
    .usage = "ADDR... [--force] [--dry-run]",
    .summary = "reset devices (the method the kernel picks from reset_method)",
    .help = "  -f, --force     also reset a device that a host driver is using (a reset under\n"
            "                  a live driver can take the host down; detach it first instead)\n"
            "      --dry-run   print the plan, change nothing\n"
            "A device a VM holds is refused, --force or not: release it first.\n",
};
