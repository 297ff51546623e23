/* reset.c - `hostdev reset`: reset devices through the kernel's reset attribute. */
#include <stdlib.h>

#include "devargs.h"

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_device **devs;
    int r, status = EXIT_DONE;
    size_t n;

    if ((r = devargs_open(t, argc - 1, argv + 1, &devs, &n)) != EXIT_DONE)
        return r;
    for (size_t i = 0; i < n; i++) {
        char *methods = NULL;
        hd_ctx_clear_error(t->ctx);
        r = hd_device_reset(devs[i], &methods);
        if (r < 0)
            status = tool_lib_error(t, EXIT_FAILED, r, "%s", hd_device_get_name(devs[i]));
        else
            printf("%s: reset (kernel methods, tried in order: %s)\n",
                   hd_device_get_name(devs[i]), methods && methods[0] ? methods : "unknown");
        free(methods);
    }
    devargs_free(devs, n);
    return status;
}

const struct tool_command cmd_reset = {
    .name = "reset",
    .run = run,
    .usage = "ADDR...",
    .summary = "reset devices (the method the kernel picks from reset_method)",
};
