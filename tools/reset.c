/* reset.c - `hostdev reset`: reset devices through the kernel's reset attribute. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    struct hd_device **devs;
    unsigned int flags = 0;
    int c, r, status = EXIT_DONE;
    struct json j;
    size_t n;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c != 'f') {
            tool_usage(&cmd_reset, stderr, t->prog);
            return EXIT_USAGE;
        }
        flags |= HD_RESET_FORCE;
    }
    if ((r = devargs_open(t, argc - optind, argv + optind, &devs, &n)) != EXIT_DONE)
        return r;
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < n; i++) {
        char *methods = NULL;
        hd_ctx_clear_error(t->ctx);
        r = hd_device_reset(devs[i], flags, &methods);
        if (r < 0)
            status = tool_lib_error(t, EXIT_FAILED, r, "%s", hd_device_get_name(devs[i]));
        if (tool_json(t)) {
            json_begin_object(&j);
            json_kv_string(&j, "address", hd_device_get_name(devs[i]));
            json_kv_bool(&j, "reset", r == 0);
            json_kv_words(&j, "methods", methods);
            json_kv_string(&j, "error", r < 0 ? hd_ctx_last_error(t->ctx) : NULL);
            json_end_object(&j);
        } else if (r == 0) {
            printf("%s: reset (the kernel tries, in order: %s)\n", hd_device_get_name(devs[i]),
                   methods && methods[0] ? methods : "unknown");
        }
        free(methods);
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    devargs_free(devs, n);
    return status;
}

const struct tool_command cmd_reset = {
    .name = "reset",
    .run = run,
    .usage = "ADDR... [--force]",
    .summary = "reset devices (the method the kernel picks from reset_method)",
    .help = "  -f, --force   also reset a device that a host driver is using (a reset under a\n"
            "                live driver can take the host down; detach it first instead)\n",
};
