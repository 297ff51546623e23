/* reset.c - `hostdev reset`: reset devices through the kernel's reset attribute. */
#include "opout.h"

static int run(struct tool *t, int argc, char **argv)
{
    return tool_run_device_op(t, argc, argv, HD_OP_RESET, &cmd_reset, false);
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
