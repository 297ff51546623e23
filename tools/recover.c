/* recover.c - `hostdev recover`: finish or undo what killed hostdev processes left. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "opout.h"

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'D'},
                                         {NULL, 0, NULL, 0}};
    unsigned long long many = 0;
    unsigned int n;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = tool_getopt(argc, argv, "", opts)) != -1) {
        if (c != 'D') {
            tool_usage(&cmd_recover, stderr, t->prog);
            return EXIT_USAGE;
        }
        t->dry_run = true;
    }
    if (optind < argc)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s' (see '%s recover --help')",
                          argv[optind], t->prog);
    struct hd_op *op;
    if ((r = tool_op_new(t, HD_OP_RECOVER, 0, &op)) != EXIT_DONE)
        return r;
    if (t->dry_run) {
        r = tool_run_op(t, op, "recover", NULL, NULL);
        /* What the real run would leave alone makes it fail: so does the plan. */
        size_t left = 0;
        for (size_t i = 0; r == EXIT_DONE && i < hd_op_get_step_count(op); i++) {
            const char *a = hd_op_step_get_action(op, i), *d = hd_op_step_get_device(op, i);
            unsigned long long held = 1; /* damaged/ says how many it holds */
            if (strcmp(d, "damaged/") == 0 &&
                tool_parse_count(hd_op_step_get_to(op, i), 1u << 30, &held) < 0)
                held = 1;
            if (strcmp(a, "busy") == 0 || strcmp(a, "damaged") == 0)
                left += (size_t)held;
        }
        if (left > 0)
            r = tool_error(t, EXIT_FAILED,
                           "%zu intent log%s would be left as %s (busy: a live "
                           "operation or an unbind still in the kernel; damaged: for a person "
                           "to check)",
                           left, left == 1 ? "" : "s", left == 1 ? "it is" : "they are");
        hd_op_unref(op);
        return r;
    }
    hd_ctx_clear_error(t->ctx);
    r = hd_op_run(op);
    size_t steps = hd_op_get_step_count(op);
    /* The last step counts the operations dealt with; those before it rebuilt a damaged map. */
    if (steps > 0 && strcmp(hd_op_step_get_action(op, steps - 1), "recovered") == 0)
        tool_parse_count(hd_op_step_get_to(op, --steps), 1u << 30, &many);
    n = (unsigned int)many;
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_string(&j, "operation", "recover");
        json_kv_int(&j, "recovered", n);
        json_kv_bool(&j, "complete", r == 0);
        if (steps > 0) { /* the map was damaged: what became of it */
            json_key(&j, "map");
            json_begin_object(&j);
            json_kv_string(&j, "damaged", hd_op_step_get_from(op, 0));
            const char *aside = hd_op_step_get_to(op, 0);
            json_kv_string(&j, "set_aside", aside[0] ? aside : NULL);
            for (int kept = 1; kept >= 0; kept--) {
                json_key(&j, kept ? "kept" : "dropped");
                json_begin_array(&j);
                for (size_t i = 1; i < steps; i++) {
                    if (strcmp(hd_op_step_get_action(op, i), kept ? "map-keep" : "map-drop") != 0)
                        continue;
                    json_begin_object(&j);
                    json_kv_string(&j, "device", hd_op_step_get_device(op, i));
                    json_kv_string(&j, "vm", hd_op_step_get_from(op, i));
                    if (!kept)
                        json_kv_string(&j, "why", hd_op_step_get_to(op, i));
                    json_end_object(&j);
                }
                json_end_array(&j);
            }
            json_end_object(&j);
        }
        json_end_object(&j);
        json_finish(&j);
    } else {
        for (size_t i = 0; i < steps; i++) {
            if (strncmp(hd_op_step_get_action(op, i), "map-", 4) == 0)
                tool_op_print_step(op, i);
        }
        printf("%u interrupted operation%s dealt with\n", n, n == 1 ? "" : "s");
    }
    if (r < 0)
        r = tool_op_error(t, r, NULL, NULL);
    else
        r = EXIT_DONE;
    hd_op_unref(op);
    return r;
}

const struct tool_command cmd_recover = {
    .name = "recover",
    .run = run,
    .usage = "[--dry-run]",
    .summary = "undo (or finish) operations a killed process left half-done",
    .help = "Every writing command runs this for its own IOMMU groups first. An operation\n"
            "whose process still runs, or whose unbind still hangs in the kernel, is left\n"
            "alone (exit 1); an intent log that cannot be read is moved to STATE/damaged/\n"
            "and holds back the groups it names until it is removed (exit 1). A damaged\n"
            "assignment map is set aside beside itself (map/assignments.damaged-SECONDS)\n"
            "and rebuilt from what the devices show: each entry the kernel confirms is\n"
            "kept, the others are named and dropped.\n",
};
