/* recover.c - `hostdev recover`: finish or undo what killed hostdev processes left. */
#include <errno.h>
#include <string.h>

#include "opout.h"

static int run(struct tool *t, int argc, char **argv)
{
    unsigned int n = 0;
    int r;

    if (argc > 1 && strcmp(argv[1], "--dry-run") == 0) {
        t->dry_run = true;
        argc--, argv++;
    }
    if (argc > 1)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s': recover takes none", argv[1]);
    if (t->dry_run) {
        struct hd_op *op;
        if ((r = tool_op_new(t, HD_OP_RECOVER, 0, &op)) != EXIT_DONE)
            return r;
        r = tool_run_op(t, op, "recover", NULL, NULL);
        /* What the real run would leave alone makes it fail: so does the plan. */
        size_t left = 0;
        for (size_t i = 0; r == EXIT_DONE && i < hd_op_get_step_count(op); i++) {
            const char *a = hd_op_step_get_action(op, i), *d = hd_op_step_get_device(op, i);
            unsigned long long many = 1; /* damaged/ says how many it holds */
            if (strcmp(d, "damaged/") == 0 &&
                tool_parse_count(hd_op_step_get_to(op, i), 1u << 30, &many) < 0)
                many = 1;
            if (strcmp(a, "busy") == 0 || strcmp(a, "damaged") == 0)
                left += (size_t)many;
        }
        if (left > 0)
            r = tool_error(t, EXIT_FAILED, "%zu intent log%s would be left as %s (busy: a live "
                           "operation or an unbind still in the kernel; damaged: for a person "
                           "to check)", left, left == 1 ? "" : "s", left == 1 ? "it is" : "they are");
        hd_op_unref(op);
        return r;
    }
    hd_ctx_clear_error(t->ctx);
    r = hd_assign_recover(t->ctx, &n);
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_string(&j, "operation", "recover");
        json_kv_int(&j, "recovered", n);
        json_kv_bool(&j, "complete", r == 0);
        json_end_object(&j);
        json_finish(&j);
    } else {
        printf("%u interrupted operation%s dealt with\n", n, n == 1 ? "" : "s");
    }
    if (r < 0)
        return tool_op_error(t, r, NULL, NULL);
    return EXIT_DONE;
}

const struct tool_command cmd_recover = {
    .name = "recover",
    .run = run,
    .usage = "[--dry-run]",
    .summary = "undo (or finish) operations a killed process left half-done",
    .help = "Every writing command runs this for its own IOMMU groups first. An operation\n"
            "whose process still runs, or whose unbind still hangs in the kernel, is left\n"
            "alone (exit 1); an intent log that cannot be read is moved to STATE/damaged/\n"
            "and holds back the groups it names until it is removed (exit 1).\n",
};
