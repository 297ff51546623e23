/* check.c - `hostdev check`: can each device be reset, and so assigned, on its own? */
#include "devargs.h"

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_device **devs;
    int r, status = EXIT_DONE;
    size_t n;

    if ((r = devargs_open(t, argc - 1, argv + 1, &devs, &n)) != EXIT_DONE)
        return r;
    for (size_t i = 0; i < n; i++) {
        const char *name = hd_device_get_name(devs[i]);
        struct hd_reset_check *c;
        r = hd_device_check_reset(devs[i], &c);
        if (r < 0) {
            status = tool_lib_error(t, EXIT_FAILED, r, "%s", name);
            continue;
        }
        const char *m = hd_reset_check_get_methods(c);
        switch (hd_reset_check_get_scope(c)) {
        case HD_RESET_FUNCTION:
            printf("%s: can be reset on its own (methods: %s): assignable alone\n", name, m);
            break;
        case HD_RESET_BUS:
            printf("%s: only a bus reset, and it is alone on its bus: assignable alone\n", name);
            break;
        case HD_RESET_NONE:
            printf("%s: cannot be reset (no reset method): a VM would get it in whatever state "
                   "the last user left it\n", name);
            status = EXIT_FAILED;
            break;
        case HD_RESET_BUS_SHARED:
            printf("%s: only a bus reset, which also resets", name);
            for (size_t k = 0; k < hd_reset_check_get_peer_count(c); k++) {
                struct hd_device *p = hd_reset_check_get_peer(c, k);
                const char *drv = hd_device_get_driver(p);
                printf("%s %s (%s)", k ? "," : "", hd_device_get_name(p),
                       drv ? drv : "unbound");
            }
            printf(": co-assign them to the same VM\n");
            status = EXIT_FAILED;
            break;
        }
        hd_reset_check_unref(c);
    }
    devargs_free(devs, n);
    return status;
}

const struct tool_command cmd_check = {
    .name = "check",
    .run = run,
    .usage = "ADDR...",
    .summary = "tell whether devices can be reset (and assigned) alone or need co-assignment",
    .help = "Exit 0 when every device can be reset on its own, 1 otherwise.\n",
};
