/* migratable.c - `hostdev migratable`: can this VM migrate? Not while it holds devices. */
#include <getopt.h>

#include "tool.h"
#include "opout.h"

static const struct option migratable_opts[] = {{"vm", required_argument, NULL, 'm'},
                                                {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_assignment_list *list;
    const char *vm = NULL;
    size_t blocking = 0;
    struct json j;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = tool_getopt(argc, argv, cmd_migratable.shortopts, cmd_migratable.opts)) != -1) {
        if (c != 'm') {
            tool_usage(&cmd_migratable, stderr, t->prog);
            return EXIT_USAGE;
        }
        if ((r = tool_take_once(t, "--vm", &vm, optarg)) != EXIT_DONE)
            return r;
    }
    if (optind != argc)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s' (see '%s migratable "
                          "--help')", argv[optind], t->prog);
    if (vm == NULL)
        return tool_error(t, EXIT_USAGE, "--vm ID is required");
    if ((r = tool_check_vm_id(t, vm)) != EXIT_DONE)
        return r;
    if ((r = hd_assignment_list_new_vm(t->ctx, vm, &list)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the assignments");
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_string(&j, "vm", vm);
        json_key(&j, "blocking_devices");
        json_begin_array(&j);
    }
    for (size_t i = 0; i < hd_assignment_list_count(list); i++) {
        const struct hd_assignment *a = hd_assignment_list_get(list, i);
        blocking++;
        if (tool_json(t))
            json_string(&j, hd_assignment_get_name(a));
        else
            printf("%s: assigned to vm %s: a VM holding a host device cannot migrate\n",
                   hd_assignment_get_name(a), vm);
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_kv_bool(&j, "migratable", blocking == 0);
        json_end_object(&j);
        json_finish(&j);
    } else if (blocking == 0) {
        printf("vm %s: migratable (no host devices assigned)\n", vm);
    }
    hd_assignment_list_unref(list);
    return blocking ? EXIT_FAILED : EXIT_DONE;
}

const struct tool_command cmd_migratable = {
    .shortopts = "m:",
    .opts = migratable_opts,
    .name = "migratable",
    .run = run,
    .usage = "--vm ID",
    .summary = "exit 1, naming them, when a VM holds devices that block migration",
    .help = "  -m, --vm ID     the VM (its name or UUID, as acquire was given it)\n"
            "A VM that holds host devices (PCI, mediated, USB, SCSI) cannot migrate: each is\n"
            "named. With --json: {vm, blocking_devices, migratable}.\n"
            "Exit status: 0 migratable, 1 it holds devices, 2 bad input.\n",
};
