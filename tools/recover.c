/* recover.c - `hostdev recover`: finish or undo what killed hostdev processes left. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "opout.h"

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'D'},
                                         {NULL, 0, NULL, 0}};
    unsigned int n = 0;
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
    hd_ctx_clear_error(t->ctx);
    r = hd_op_run(op);
    size_t steps = hd_op_get_step_count(op), map_steps = 0;
    /* The intent logs dealt with (or that would be); the map's steps come first. */
    for (size_t i = 0; i < steps; i++) {
        const char *a = hd_op_step_get_action(op, i);
        if (strncmp(a, "map-", 4) == 0)
            map_steps = i + 1;
        else if ((strcmp(a, "undo") == 0 || strcmp(a, "finish") == 0 ||
                  strcmp(a, "drop") == 0) && hd_op_step_get_state(op, i) != HD_STEP_FAILED)
            n++;
    }
    if (tool_json(t)) {
        struct json j;
        tool_op_json_begin(&j, "recover", t->dry_run);
        json_kv_int(&j, "recovered", n);
        json_kv_bool(&j, "complete", r == 0);
        if (map_steps > 0) { /* the map was damaged: what became of it */
            json_key(&j, "map");
            json_begin_object(&j);
            json_kv_string(&j, "damaged", hd_op_step_get_from(op, 0));
            const char *aside = hd_op_step_get_to(op, 0);
            json_kv_string(&j, "set_aside", aside[0] ? aside : NULL);
            for (int kept = 1; kept >= 0; kept--) {
                json_key(&j, kept ? "kept" : "dropped");
                json_begin_array(&j);
                for (size_t i = 1; i < map_steps; i++) {
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
        tool_op_json_steps(t, &j, op);
        json_end_object(&j);
        json_finish(&j);
    } else if (t->dry_run && steps == 0 && r == 0) {
        printf("dry run: nothing changed; recover would do nothing\n");
    } else {
        /* The plan is the run's report under a heading, as every dry run prints it. */
        const char *indent = t->dry_run ? "  " : "";
        if (t->dry_run)
            printf("dry run: nothing changed; recover would do:\n");
        for (size_t i = 0; i < steps; i++) {
            fputs(indent, stdout);
            tool_op_print_step(op, i);
        }
        printf("%s%u interrupted operation%s %sdealt with\n", indent, n, n == 1 ? "" : "s",
               t->dry_run ? "would be " : "");
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
            "kept, the others are named and dropped. A line per intent log says what became\n"
            "of it; --dry-run prints the same under a \"would do\" heading and changes nothing.\n",
};
