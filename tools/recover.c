/* recover.c - `hostdev recover`: finish or undo what killed hostdev processes left. */
#include <errno.h>

#include "tool.h"

static int run(struct tool *t, int argc, char **argv)
{
    unsigned int n = 0;
    int r;

    (void)argv;
    if (argc > 1)
        return tool_error(t, EXIT_USAGE, "takes no arguments");
    hd_ctx_clear_error(t->ctx);
    r = hd_assign_recover(t->ctx, &n);
    if (r < 0 && r != -EBUSY)
        return tool_lib_error(t, EXIT_FAILED, r, "%u operation%s dealt with, then", n,
                              n == 1 ? "" : "s");
    printf("%u interrupted operation%s dealt with\n", n, n == 1 ? "" : "s");
    if (r == -EBUSY)
        return tool_lib_error(t, EXIT_FAILED, r, "not everything");
    return EXIT_DONE;
}

const struct tool_command cmd_recover = {
    .name = "recover",
    .run = run,
    .usage = "",
    .summary = "undo (or finish) acquires and releases a killed process left half-done",
    .help = "acquire and release run this first. An operation whose process still runs, or\n"
            "whose unbind still hangs in the kernel, is left alone (exit 1).\n",
};
