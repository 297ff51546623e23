/* check.c - `hostdev check`: can each device be reset, and so assigned, on its own? */
#include "devargs.h"

static const char *const scope_names[] = {
    [HD_RESET_NONE] = "none",
    [HD_RESET_FUNCTION] = "function",
    [HD_RESET_BUS] = "bus",
    [HD_RESET_BUS_SHARED] = "bus-shared",
};

static void print_text(const char *name, const struct hd_reset_check *c)
{
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
               "the last user left it\n",
               name);
        break;
    case HD_RESET_BUS_SHARED:
        printf("%s: only a bus reset, which also resets", name);
        for (size_t k = 0; k < hd_reset_check_get_peer_count(c); k++) {
            struct hd_device *p = hd_reset_check_get_peer(c, k);
            const char *drv = hd_device_get_driver(p);
            printf("%s %s (%s)", k ? "," : "", hd_device_get_name(p), drv ? drv : "unbound");
        }
        printf(": co-assign them to the same VM\n");
        break;
    }
}

/* One object per device: {address, scope, methods, assignable_alone, peers, error}. */
static void print_json(struct json *j, const char *name, const struct hd_reset_check *c,
                       const char *error)
{
    enum hd_reset_scope scope = c ? hd_reset_check_get_scope(c) : HD_RESET_NONE;

    json_begin_object(j);
    json_kv_string(j, "address", name);
    json_kv_string(j, "scope", c ? scope_names[scope] : NULL);
    json_kv_words(j, "methods", c ? hd_reset_check_get_methods(c) : NULL);
    json_kv_bool(j, "assignable_alone", c && (scope == HD_RESET_FUNCTION || scope == HD_RESET_BUS));
    json_key(j, "peers");
    json_begin_array(j);
    for (size_t k = 0; c && k < hd_reset_check_get_peer_count(c); k++) {
        struct hd_device *p = hd_reset_check_get_peer(c, k);
        json_begin_object(j);
        json_kv_string(j, "address", hd_device_get_name(p));
        json_kv_string(j, "driver", hd_device_get_driver(p));
        json_end_object(j);
    }
    json_end_array(j);
    json_kv_string(j, "error", error);
    json_end_object(j);
}

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_device **devs;
    struct json j;
    int r, status = EXIT_DONE;
    size_t n;

    if ((r = devargs_open(t, argc - 1, argv + 1, &devs, &n)) != EXIT_DONE)
        return r;
    if (t->json) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = hd_device_get_name(devs[i]);
        struct hd_reset_check *c = NULL;
        r = hd_device_check_reset(devs[i], &c);
        if (r < 0) {
            status = tool_lib_error(t, EXIT_FAILED, r, "%s", name);
            if (t->json)
                print_json(&j, name, NULL, hd_ctx_last_error(t->ctx));
            continue;
        }
        enum hd_reset_scope scope = hd_reset_check_get_scope(c);
        if (scope == HD_RESET_NONE || scope == HD_RESET_BUS_SHARED)
            status = EXIT_FAILED;
        if (t->json)
            print_json(&j, name, c, NULL);
        else
            print_text(name, c);
        hd_reset_check_unref(c);
    }
    if (t->json) {
        json_end_array(&j);
        json_finish(&j);
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
