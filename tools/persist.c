/* persist.c - `hostdev persist`, `unpersist`, `persisted`: reservations that survive reboots
 * (driverctl's set-override / unset-override / list-persisted, done with verification). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"
#include "reserve.h"

static int parse_selector(struct tool *t, const char *arg, struct hd_pci_selector *sel)
{
    if (hd_pci_selector_parse(arg, sel) < 0)
        return tool_error(t, EXIT_USAGE,
                          "invalid device '%s' (expected an address "
                          "DDDD:BB:SS.F or ids VVVV:DDDD)",
                          arg);
    return EXIT_DONE;
}

/* Apply @e to the devices it selects now; an address that is not there is bad input. The
 * operations run are kept in @keep for the JSON document. */
static int apply(struct tool *t, const struct hd_reserve_entry *e, struct reserve_ops *keep)
{
    struct hd_device_list *list;
    size_t found = 0;
    int code = EXIT_DONE, r;

    hd_ctx_clear_error(t->ctx);
    if ((r = hd_device_list_new(t->ctx, HD_FILL_IDENT, &list)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "listing PCI devices");
    for (size_t i = 0; i < hd_device_list_count(list) && code == EXIT_DONE; i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        if (!hd_pci_selector_match(&e->sel, dev))
            continue;
        found++;
        if (e->numvfs >= 0)
            code = reserve_numvfs(t, dev, e, keep);
        if (code == EXIT_DONE && e->driver != NULL)
            code = reserve_device(t, dev, e, keep);
    }
    hd_device_list_unref(list);
    if (found == 0 && e->sel.kind == HD_SELECTOR_ADDR) {
        char name[HD_PCI_ADDR_BUFSZ];
        return tool_error(t, EXIT_USAGE,
                          "%s: no such PCI device under %s (--no-apply persists "
                          "it all the same)",
                          hd_pci_addr_format(&e->sel.addr, name), hd_ctx_get_root(t->ctx));
    }
    if (found == 0 && !tool_json(t))
        printf("%04x:%04x: no such device now; reserved when one appears\n", e->sel.vendor,
               e->sel.device);
    return code;
}

static int run_persist(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"driver", required_argument, NULL, 'd'},
                                         {"numvfs", required_argument, NULL, 'n'},
                                         {"no-apply", no_argument, NULL, 'N'},
                                         {"dry-run", no_argument, NULL, 'D'},
                                         {NULL, 0, NULL, 0}};
    struct hd_reserve_entry e = {.driver = NULL, .numvfs = -1, .file = "persist"};
    bool no_apply = false;
    char *line = NULL;
    int c, code, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, "d:n:", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (!hd_driver_is_vfio(optarg) && strcmp(optarg, "pci-stub") != 0)
                return tool_error(t, EXIT_USAGE, "--driver '%s': use vfio-pci, a vfio-pci "
                                  "variant (mlx5_vfio_pci, ...) or pci-stub", optarg);
            e.driver = optarg;
            break;
        case 'n': {
            char *end;
            long n;
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || n < 0 || n > 65535)
                return tool_error(t, EXIT_USAGE, "invalid --numvfs '%s' (a count)", optarg);
            e.numvfs = (int)n;
            break;
        }
        case 'N':
            no_apply = true;
            break;
        case 'D':
            t->dry_run = true;
            break;
        default:
            tool_usage(&cmd_persist, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return tool_error(t, EXIT_USAGE, "give exactly one device (an address or VVVV:DDDD)");
    if ((code = parse_selector(t, argv[optind], &e.sel)) != EXIT_DONE)
        return code;
    if (e.numvfs >= 0 && e.sel.kind != HD_SELECTOR_ADDR)
        return tool_error(t, EXIT_USAGE, "--numvfs needs the address of one SR-IOV device");
    /* What a detach would choose now (a variant from modules.alias, else vfio-pci) is what
     * the file names: the boot binds what was checked here. */
    char chosen[64] = "vfio-pci";
    struct hd_device *dev;
    if (e.driver == NULL && e.numvfs < 0 && e.sel.kind == HD_SELECTOR_ADDR &&
        hd_device_open(t->ctx, &e.sel.addr, &dev) == 0) {
        if (hd_device_get_vfio_driver(dev, chosen, sizeof(chosen)) < 0)
            strcpy(chosen, "vfio-pci");
        hd_device_unref(dev);
    }
    hd_ctx_clear_error(t->ctx);
    if (e.driver == NULL && e.numvfs < 0)
        e.driver = chosen;
    /* Applied first: a reservation that cannot work now is not written for the next boot. */
    struct reserve_ops ops = {0};
    if (!no_apply && (code = apply(t, &e, tool_json(t) ? &ops : NULL)) != EXIT_DONE) {
        reserve_ops_free(&ops);
        return code;
    }
    /* Under --dry-run the plan printed by apply() is all: no file either. */
    hd_ctx_clear_error(t->ctx);
    if (!t->dry_run && (r = hd_reserve_persist(t->ctx, &e)) < 0) {
        reserve_ops_free(&ops);
        return tool_lib_error(t, EXIT_FAILED, r, "%s", argv[optind]);
    }
    if (hd_reserve_entry_format(&e, &line) < 0) {
        reserve_ops_free(&ops);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    if (tool_json(t)) {
        /* One document: what was (or would be) written, and the steps that applied it. */
        struct json j;
        tool_op_json_begin(&j, "persist", t->dry_run);
        json_kv_string(&j, "persisted", line);
        reserve_ops_json(&j, &ops);
        json_end_object(&j);
        json_finish(&j);
    } else {
        printf(t->dry_run ? "dry run: would persist %s\n" : "persisted: %s\n", line);
    }
    reserve_ops_free(&ops);
    free(line);
    return EXIT_DONE;
}

/* Give back the devices @sel selected, unless another source still reserves them. The
 * operations run are kept in @keep (JSON), and so are the entries that still reserve a device
 * (@still_json: "still_reserved" of the document @j, when given). */
static int release(struct tool *t, const struct hd_pci_selector *sel, struct reserve_ops *keep,
                   struct json *still_json)
{
    struct hd_reserve_config *config = NULL;
    struct hd_device_list *list;
    int code = EXIT_DONE, r;

    if ((r = hd_reserve_config_load(t->ctx, &config)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the configuration");
    if ((r = hd_device_list_new(t->ctx, HD_FILL_IDENT | HD_FILL_EXTRA, &list)) < 0) {
        hd_reserve_config_unref(config);
        return tool_lib_error(t, EXIT_FAILED, r, "listing PCI devices");
    }
    for (size_t i = 0; i < hd_device_list_count(list) && code == EXIT_DONE; i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        const struct hd_reserve_entry *still = hd_reserve_config_match(config, dev);
        if (!hd_pci_selector_match(sel, dev))
            continue;
        if (still != NULL) {
            if (!tool_json(t))
                printf("%s: still reserved for %s by %s%s%.0u\n", hd_device_get_name(dev),
                       still->driver, still->file, still->line ? ":" : "", still->line);
        } else {
            struct hd_op *op = NULL;
            if ((r = hd_op_new(t->ctx, HD_OP_REATTACH, &op)) == 0 &&
                (r = hd_op_add_device(op, hd_device_get_addr(dev), true)) == 0)
                r = hd_op_run(op);
            if (r < 0)
                code = tool_lib_error(t, EXIT_FAILED, r, "%s", hd_device_get_name(dev));
            else if (keep == NULL)
                tool_op_print(t, op, "unpersist", false);
            else {
                code = reserve_ops_keep(t, keep, op); /* kept, or dropped when it cannot be */
                op = NULL;
            }
            hd_op_unref(op);
        }
    }
    if (still_json != NULL && code == EXIT_DONE) {
        json_key(still_json, "still_reserved");
        json_begin_array(still_json);
        for (size_t i = 0; i < hd_device_list_count(list); i++) {
            struct hd_device *dev = hd_device_list_get(list, i);
            const struct hd_reserve_entry *still = hd_reserve_config_match(config, dev);
            if (still == NULL || !hd_pci_selector_match(sel, dev))
                continue;
            json_begin_object(still_json);
            json_kv_string(still_json, "device", hd_device_get_name(dev));
            json_kv_string(still_json, "driver", still->driver);
            json_kv_string(still_json, "file", still->file);
            json_kv_int_or_null(still_json, "line", still->line, still->line > 0);
            json_end_object(still_json);
        }
        json_end_array(still_json);
    }
    hd_device_list_unref(list);
    hd_reserve_config_unref(config);
    return code;
}

static int run_unpersist(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"no-apply", no_argument, NULL, 'N'},
                                         {"dry-run", no_argument, NULL, 'D'},
                                         {NULL, 0, NULL, 0}};
    struct hd_pci_selector sel;
    bool no_apply = false;
    int c, code, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'D') {
            t->dry_run = true;
            continue;
        }
        if (c != 'N') {
            tool_usage(&cmd_unpersist, stderr, t->prog);
            return EXIT_USAGE;
        }
        no_apply = true;
    }
    if (argc - optind != 1)
        return tool_error(t, EXIT_USAGE, "give exactly one device (an address or VVVV:DDDD)");
    if ((code = parse_selector(t, argv[optind], &sel)) != EXIT_DONE)
        return code;
    /* Said back in canonical form, not as typed. */
    char name[HD_PCI_ADDR_BUFSZ];
    if (sel.kind == HD_SELECTOR_ADDR)
        hd_pci_addr_format(&sel.addr, name);
    else
        snprintf(name, sizeof(name), "%04x:%04x", sel.vendor, sel.device);
    if (t->dry_run && !tool_json(t)) {
        printf("dry run: would unpersist %s%s\n", name,
               no_apply ? "" : " and give the device back to the host");
        return EXIT_DONE;
    }
    if (!t->dry_run) {
        hd_ctx_clear_error(t->ctx);
        r = hd_reserve_unpersist(t->ctx, &sel);
        if (r == -ENOENT)
            return tool_error(t, EXIT_USAGE, "%s is not persisted (see hostdev persisted)",
                              name);
        if (r < 0)
            return tool_lib_error(t, EXIT_FAILED, r, "%s", name);
    }
    if (!tool_json(t)) {
        printf("unpersisted: %s\n", name);
        return no_apply ? EXIT_DONE : release(t, &sel, NULL, NULL);
    }
    /* One document: the entry removed and the steps that gave the devices back (none asked
     * for under --no-apply; none run under --dry-run, which only says whether they would be). */
    struct reserve_ops ops = {0};
    struct json j;
    tool_op_json_begin(&j, "unpersist", t->dry_run);
    json_kv_string(&j, "unpersisted", name);
    json_kv_bool(&j, "give_back", !no_apply);
    code = t->dry_run || no_apply ? EXIT_DONE : release(t, &sel, &ops, &j);
    if (!t->dry_run)
        reserve_ops_json(&j, &ops);
    json_end_object(&j);
    json_finish(&j);
    reserve_ops_free(&ops);
    return code;
}

static int run_persisted(struct tool *t, int argc, char **argv)
{
    struct hd_reserve_config *config;
    struct json j;
    int code, r;

    if (argc > 1)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s'", argv[1]);
    hd_ctx_clear_error(t->ctx);
    if ((r = hd_reserve_config_load(t->ctx, &config)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the configuration");
    code = reserve_print_errors(t, config);
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < hd_reserve_config_count(config); i++) {
        const struct hd_reserve_entry *e = hd_reserve_config_get(config, i);
        char *line = NULL;
        if (hd_reserve_entry_format(e, &line) < 0)
            break;
        if (tool_json(t)) {
            char *sp = strchr(line, ' ');
            if (sp != NULL)
                *sp = '\0';
            json_begin_object(&j);
            json_kv_string(&j, "device", line);
            json_kv_string(&j, "driver", e->driver);
            json_kv_int_or_null(&j, "numvfs", e->numvfs, e->numvfs >= 0);
            json_kv_string(&j, "file", e->file);
            json_kv_int_or_null(&j, "line", e->line, e->line > 0);
            json_end_object(&j);
        } else {
            printf("%-36s %s%s%.0u\n", line, e->file, e->line ? ":" : "", e->line);
        }
        free(line);
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    hd_reserve_config_unref(config);
    return code;
}

const struct tool_command cmd_persist = {
    .name = "persist",
    .run = run_persist,
    .usage = "ADDR|VVVV:DDDD [--driver NAME] [--numvfs N] [--no-apply]",
    .summary = "reserve a device now and at every boot",
    .help = "  -d, --driver NAME   vfio-pci, a vfio-pci variant (mlx5_vfio_pci, ...) or\n"
            "                      pci-stub; default: for an address, the one detach would\n"
            "                      choose (its variant, else vfio-pci); for ids, vfio-pci\n"
            "  -n, --numvfs N      an SR-IOV PF: create N VFs at boot (alone: the PF keeps\n"
            "                      its driver)\n"
            "      --no-apply      only write the file; change nothing now\n"
            "The device is reserved now (as `hostdev reserve` does), then\n"
            "ROOT/etc/hostdev.d/persist-DEVICE.conf is written atomically. If reserving fails,\n"
            "nothing is written.\n",
};

const struct tool_command cmd_unpersist = {
    .name = "unpersist",
    .run = run_unpersist,
    .usage = "ADDR|VVVV:DDDD [--no-apply]",
    .summary = "forget a persisted reservation and give the device back",
    .help = "Removes ROOT/etc/hostdev.d/persist-DEVICE.conf, then reattaches the devices it\n"
            "reserved to their host drivers, unless another file or the kernel command line\n"
            "still reserves them. --no-apply: only remove the file.\n",
};

const struct tool_command cmd_persisted = {
    .name = "persisted",
    .run = run_persisted,
    .usage = "",
    .summary = "list the reservations configured for boot, with where each comes from",
    .help = "Every entry of ROOT/etc/hostdev.d/*.conf and of hostdev.reserve= on the kernel\n"
            "command line, in the order they apply (a later entry for a device wins). Errors\n"
            "are named FILE:LINE on stderr; exit status 2 when there is any.\n",
};
