/* reattach.c - `hostdev reattach`: give devices back to their host drivers. */
#include <stdlib.h>
#include <string.h>

#include "devargs.h"

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_device **devs;
    int r, status = EXIT_DONE;
    size_t n;

    if ((r = devargs_open(t, argc - 1, argv + 1, &devs, &n)) != EXIT_DONE)
        return r;
    for (size_t i = 0; i < n; i++) {
        char *before = hd_device_get_driver(devs[i]) ? strdup(hd_device_get_driver(devs[i]))
                                                     : NULL;
        hd_ctx_clear_error(t->ctx);
        r = hd_device_reattach(devs[i]);
        if (r < 0) {
            /* Each device stands alone: returning one to the host does not need the next. */
            status = tool_lib_error(t, EXIT_FAILED, r, "%s", hd_device_get_name(devs[i]));
        } else {
            printf("%s: %s -> %s\n", hd_device_get_name(devs[i]), before ? before : "unbound",
                   hd_device_get_driver(devs[i]) ? hd_device_get_driver(devs[i]) : "unbound");
        }
        free(before);
    }
    devargs_free(devs, n);
    return status;
}

const struct tool_command cmd_reattach = {
    .name = "reattach",
    .run = run,
    .usage = "ADDR...",
    .summary = "return detached devices to their host drivers",
    .help = "The driver recorded at detach time is restored; without a record, the one the\n"
            "device's modalias resolves to, or whichever the kernel picks.\n",
};
