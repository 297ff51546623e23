/* mdev.c - `hostdev mdev`: mediated devices (vGPUs, the mtty sample...): the types parents
 * offer, the devices made of them, creating and removing one (mdevctl's start/stop, done
 * through the engine: journaled and put back on failure). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"
#include "reserve.h"

static int types(struct tool *t)
{
    struct hd_mdev_type_list *l;
    struct json j;
    int r;

    hd_ctx_clear_error(t->ctx);
    if ((r = hd_mdev_type_list_new(t->ctx, &l)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "listing mediated device types");
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    } else if (hd_mdev_type_list_count(l) == 0) {
        printf("no mediated device parents (no driver offers mdev types)\n");
    }
    for (size_t i = 0; i < hd_mdev_type_list_count(l); i++) {
        const char *name = hd_mdev_type_list_get_name(l, i);
        const char *api = hd_mdev_type_list_get_device_api(l, i);
        int avail = hd_mdev_type_list_get_available(l, i);
        if (tool_json(t)) {
            json_begin_object(&j);
            json_kv_string(&j, "parent", hd_mdev_type_list_get_parent(l, i));
            json_kv_string(&j, "type", hd_mdev_type_list_get_id(l, i));
            json_kv_string(&j, "name", name);
            json_kv_string(&j, "description", hd_mdev_type_list_get_description(l, i));
            json_kv_string(&j, "device_api", api);
            json_key(&j, "available_instances");
            if (avail >= 0)
                json_int(&j, avail);
            else
                json_null(&j);
            json_end_object(&j);
            continue;
        }
        printf("%s %s", hd_mdev_type_list_get_parent(l, i), hd_mdev_type_list_get_id(l, i));
        if (name != NULL && name[0]) {
            printf(" \"");
            tool_put_text(stdout, name);
            printf("\"");
        }
        printf(" api=%s available=", api && api[0] ? api : "?");
        if (avail >= 0)
            printf("%d\n", avail);
        else
            printf("?\n");
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    hd_mdev_type_list_unref(l);
    return EXIT_DONE;
}

static int list(struct tool *t)
{
    struct hd_assignment_list *map = NULL;
    struct hd_mdev_list *l;
    struct json j;
    int r;

    hd_ctx_clear_error(t->ctx);
    if ((r = hd_mdev_list_new(t->ctx, &l)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "listing mediated devices");
    /* The VM that holds each, as list says it of a PCI device: a map that cannot be read
     * leaves the fact out, never the listing. */
    if (hd_assignment_list_new(t->ctx, &map) < 0)
        map = NULL;
    hd_ctx_clear_error(t->ctx);
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    } else if (hd_mdev_list_count(l) == 0) {
        printf("no mediated devices\n");
    }
    for (size_t i = 0; i < hd_mdev_list_count(l); i++) {
        int g = hd_mdev_list_get_iommu_group(l, i);
        const struct hd_assignment *a =
            map != NULL ? hd_assignment_list_find_mdev(map, hd_mdev_list_get_uuid(l, i)) : NULL;
        const char *vm = a != NULL ? hd_assignment_get_vm(a) : NULL;
        if (tool_json(t)) {
            json_begin_object(&j);
            json_kv_string(&j, "uuid", hd_mdev_list_get_uuid(l, i));
            json_kv_string(&j, "parent", hd_mdev_list_get_parent(l, i));
            json_kv_string(&j, "type", hd_mdev_list_get_type(l, i));
            json_kv_string(&j, "driver", hd_mdev_list_get_driver(l, i));
            json_key(&j, "iommu_group");
            if (g >= 0)
                json_int(&j, g);
            else
                json_null(&j);
            json_kv_string(&j, "vm", vm);
            json_end_object(&j);
            continue;
        }
        printf("%s %s %s", hd_mdev_list_get_uuid(l, i), hd_mdev_list_get_parent(l, i),
               hd_mdev_list_get_type(l, i));
        if (hd_mdev_list_get_driver(l, i))
            printf(" driver=%s", hd_mdev_list_get_driver(l, i));
        if (g >= 0)
            printf(" group=%d", g);
        if (vm != NULL)
            printf(" vm=%s", vm);
        printf("\n");
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    hd_assignment_list_unref(map);
    hd_mdev_list_unref(l);
    return EXIT_DONE;
}

static const char random_uuid_note[] =
    "the UUID shown is a random one: the run makes another (--uuid UUID chooses it)";

/* create PARENT TYPE [--uuid U] | create --uuid U | remove UUID, with --dry-run. */
static int change(struct tool *t, bool create, int argc, char **argv)
{
    /* Each its own: remove's --uuid is named as not one of its options, not taken. */
    static const struct option create_opts[] = {{"uuid", required_argument, NULL, 'u'},
                                                {"dry-run", no_argument, NULL, 'D'},
                                                {NULL, 0, NULL, 0}};
    static const struct option remove_opts[] = {{"dry-run", no_argument, NULL, 'D'},
                                                {NULL, 0, NULL, 0}};
    const char *uuid = NULL;
    struct hd_op *op;
    int c, r;

    optind = 0;
    tool_usage_argv(argv);
    while ((c = tool_getopt(argc, argv, create ? "u:" : "",
                            create ? create_opts : remove_opts)) != -1) {
        if (c == 'u' && create) {
            if ((r = tool_take_once(t, "--uuid", &uuid, optarg)) != EXIT_DONE)
                return r;
        } else if (c == 'D') {
            t->dry_run = true;
        } else {
            tool_usage(&cmd_mdev, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    /* create --uuid UUID alone: a defined one, made as defined (mdevctl start --uuid). */
    bool defined = create && uuid != NULL && argc == optind;
    if (argc - optind != (create ? 2 : 1) && !defined)
        return tool_error(t, EXIT_USAGE, create ? "needs PARENT TYPE (or --uuid UUID alone: "
                                                  "a defined one)"
                                                : "needs one UUID");
    if ((r = tool_op_new(t, create ? HD_OP_MDEV_CREATE : HD_OP_MDEV_REMOVE, 0, &op)) != EXIT_DONE)
        return r;
    hd_ctx_clear_error(t->ctx);
    c = defined  ? hd_op_set_mdev(op, NULL, NULL, uuid)
        : create ? hd_op_set_mdev(op, argv[optind], argv[optind + 1], uuid)
                 : hd_op_set_mdev(op, NULL, NULL, argv[optind]);
    /* The library's message names the parent, type or UUID: no "create:" before it. */
    /* A dry run's UUID is drawn for it alone: the run draws another, so say so rather than
     * let the user write the one shown into a domain. */
    const char *note = create && uuid == NULL && t->dry_run ? random_uuid_note : NULL;
    r = c < 0 ? tool_op_error(t, c, NULL, NULL)
              : tool_run_op_noted(t, op, create ? "mdev create" : "mdev remove", NULL, NULL,
                                  &note, note ? 1 : 0);
    hd_op_unref(op);
    return r;
}

/* define's options: every option of an mdev subcommand is one of them (cmd_mdev's). */
static const struct option define_opts[] = {{"uuid", required_argument, NULL, 'u'},
                                            {"manual", no_argument, NULL, 'm'},
                                            {"auto", no_argument, NULL, 'a'},
                                            {"dry-run", no_argument, NULL, 'D'},
                                            {NULL, 0, NULL, 0}};

/* define PARENT TYPE [--uuid U] [--auto|--manual] | undefine UUID: mdevctl's files, no kernel
 * write. */
static int persist(struct tool *t, bool define, int argc, char **argv)
{
    static const struct option undefine_opts[] = {{"dry-run", no_argument, NULL, 'D'},
                                                  {NULL, 0, NULL, 0}};
    const char *uuid = NULL;
    bool autostart = true, asked_auto = false;
    char id[37];
    int c, r;

    optind = 0;
    tool_usage_argv(argv);
    while ((c = tool_getopt(argc, argv, define ? cmd_mdev.shortopts : "",
                            define ? cmd_mdev.opts : undefine_opts)) != -1) {
        if (c == 'u' && define) {
            if ((r = tool_take_once(t, "--uuid", &uuid, optarg)) != EXIT_DONE)
                return r;
        } else if (c == 'm' && define) {
            autostart = false;
        } else if (c == 'a' && define) { /* mdevctl's word for what is the default here */
            asked_auto = true;
        } else if (c == 'D') {
            t->dry_run = true;
        } else {
            tool_usage(&cmd_mdev, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (asked_auto && !autostart)
        return tool_error(t, EXIT_USAGE, "--auto or --manual, not both");
    if (argc - optind != (define ? 2 : 1))
        return tool_error(t, EXIT_USAGE, define ? "needs PARENT TYPE" : "needs one UUID");
    if (!define)
        uuid = argv[optind];
    if (uuid == NULL) { /* a new one, as mdevctl define does */
        if ((r = hd_mdev_uuid_new(id)) < 0)
            return tool_lib_error(t, EXIT_FAILED, r, "making a UUID");
    } else if (hd_mdev_uuid_parse(uuid, id) < 0) {
        return tool_error(t, EXIT_USAGE, "'%s' is not a UUID (8-4-4-4-12 hex digits, or mdev_ "
                          "with '_' for '-')", uuid);
    }
    /* What undefine removes, found before the run removes it: its parent, type, start and
     * file, said as the define's are. Unreadable definitions fail the undefine itself. */
    char parent[PATH_MAX] = "", type[PATH_MAX] = "";
    if (!define) {
        struct hd_mdev_defined_list *l;
        if (hd_mdev_defined_list_new(t->ctx, &l) == 0) {
            for (size_t i = 0; i < hd_mdev_defined_list_count(l); i++)
                if (strcmp(hd_mdev_defined_list_get_uuid(l, i), id) == 0) {
                    snprintf(parent, sizeof(parent), "%s", hd_mdev_defined_list_get_parent(l, i));
                    snprintf(type, sizeof(type), "%s", hd_mdev_defined_list_get_type(l, i));
                    autostart = hd_mdev_defined_list_get_autostart(l, i);
                    break;
                }
            hd_mdev_defined_list_unref(l);
        }
    } else {
        snprintf(type, sizeof(type), "%s", argv[optind + 1]);
    }
    hd_ctx_clear_error(t->ctx);
    r = t->dry_run ? (define ? hd_mdev_define_check(t->ctx, argv[optind], argv[optind + 1], id)
                             : hd_mdev_undefine_check(t->ctx, id))
        : define   ? hd_mdev_define(t->ctx, argv[optind], argv[optind + 1], id, autostart)
                   : hd_mdev_undefine(t->ctx, id);
    if (r < 0)
        return tool_op_error(t, r, NULL, NULL); /* it names the parent, type or UUID */
    /* Where the definition goes (or was), said by the dry run as what the run writes. */
    char file[PATH_MAX] = "", path[PATH_MAX + 64] = "";
    if (define || parent[0]) {
        const char *root = hd_ctx_get_root(t->ctx);
        if ((r = hd_mdev_define_file(t->ctx, define ? argv[optind] : parent, id, file,
                                     sizeof(file))) < 0)
            return tool_op_error(t, r, NULL, NULL);
        snprintf(path, sizeof(path), "%s%s%s", root,
                 root[0] && root[strlen(root) - 1] == '/' ? "" : "/", file);
        /* The parent as the file names it (00:02.0 is 0000:00:02.0): the directory's name. */
        *strrchr(file, '/') = '\0';
        snprintf(parent, sizeof(parent), "%s", strrchr(file, '/') + 1);
    }
    /* A type the parent, there now, does not offer: accepted (as mdevctl does), and said. */
    char *type_note = NULL;
    if (define && hd_mdev_define_note(t->ctx, argv[optind], argv[optind + 1], &type_note) < 0)
        hd_ctx_clear_error(t->ctx); /* only a note: none when the types cannot be read */
    const char *notes[2];
    size_t nnotes = 0;
    if (t->dry_run && uuid == NULL)
        notes[nnotes++] = random_uuid_note;
    if (type_note != NULL)
        notes[nnotes++] = type_note;
    if (tool_json(t)) {
        /* One document, --dry-run too: what is (or would be) defined or undefined. */
        struct json j;
        tool_op_json_begin(&j, define ? "mdev define" : "mdev undefine", t->dry_run);
        json_kv_string(&j, define ? "defined" : "undefined", id);
        if (parent[0]) {
            json_kv_string(&j, "parent", parent);
            json_kv_string(&j, "type", type);
            json_kv_string(&j, "start", autostart ? "auto" : "manual");
            json_kv_string(&j, "file", path);
        }
        if (nnotes > 0)
            json_kv_strings(&j, "warnings", notes, nnotes);
        json_end_object(&j);
        json_finish(&j);
    } else {
        if (t->dry_run && define)
            printf("dry run: nothing changed; mdev define would do:\n"
                   "  %s: defined as type %s of %s, %s (start %s), in %s\n",
                   id, type, parent, autostart ? "made at every boot" : "made when asked",
                   autostart ? "auto" : "manual", path);
        else if (t->dry_run)
            printf("dry run: nothing changed; mdev undefine would do:\n"
                   "  %s: undefined (type %s of %s, start %s): %s removed; a running one "
                   "stays\n", id, type, parent, autostart ? "auto" : "manual", path);
        else
            printf("%s: %s\n", id, define ? (autostart ? "defined, made at every boot"
                                                        : "defined, made when asked")
                                           : "undefined");
        for (size_t i = 0; i < nnotes; i++)
            fprintf(stderr, "%s mdev define: note: %s\n", t->prog, notes[i]);
    }
    free(type_note);
    return EXIT_DONE;
}

static int defined(struct tool *t)
{
    struct hd_mdev_defined_list *l;
    struct json j;
    int code, r;

    hd_ctx_clear_error(t->ctx);
    if ((r = hd_mdev_defined_list_load(t->ctx, &l)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the mdev definitions");
    /* As `persisted` does with hostdev.d: the bad files named (exit 2), the others listed, so
     * that the user sees what the boot makes and what to mend or remove. */
    code = reserve_print_mdev_errors(t, l);
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    } else if (hd_mdev_defined_list_count(l) == 0) {
        printf("no %smediated devices are defined\n", code != EXIT_DONE ? "other " : "");
    }
    for (size_t i = 0; i < hd_mdev_defined_list_count(l); i++) {
        bool autostart = hd_mdev_defined_list_get_autostart(l, i);
        if (tool_json(t)) {
            json_begin_object(&j);
            json_kv_string(&j, "uuid", hd_mdev_defined_list_get_uuid(l, i));
            json_kv_string(&j, "parent", hd_mdev_defined_list_get_parent(l, i));
            json_kv_string(&j, "type", hd_mdev_defined_list_get_type(l, i));
            json_kv_string(&j, "start", autostart ? "auto" : "manual");
            json_end_object(&j);
            continue;
        }
        printf("%s %s %s start=%s%s\n", hd_mdev_defined_list_get_uuid(l, i),
               hd_mdev_defined_list_get_parent(l, i), hd_mdev_defined_list_get_type(l, i),
               autostart ? "auto" : "manual",
               hd_mdev_defined_list_has_attrs(l, i) ? " (attrs not applied by hostdev)" : "");
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    hd_mdev_defined_list_unref(l);
    return code;
}

static int run(struct tool *t, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (sub == NULL)
        return tool_error(t, EXIT_USAGE, "which? types, list, create, remove, define, undefine "
                          "or defined (see '%s mdev --help')", t->prog);
    bool bare = strcmp(sub, "types") == 0 || strcmp(sub, "list") == 0 ||
                strcmp(sub, "defined") == 0;
    if (bare) /* its errors are "mdev list"'s, as create's are "mdev create"'s */
        tool_usage_argv(argv + 1);
    if (bare && argc > 2)
        return tool_error(t, EXIT_USAGE, "takes no argument: '%s'", argv[2]);
    if (strcmp(sub, "types") == 0)
        return types(t);
    if (strcmp(sub, "list") == 0)
        return list(t);
    if (strcmp(sub, "defined") == 0)
        return defined(t);
    if (strcmp(sub, "create") == 0 || strcmp(sub, "remove") == 0)
        return change(t, sub[0] == 'c', argc - 1, argv + 1);
    if (strcmp(sub, "define") == 0 || strcmp(sub, "undefine") == 0)
        return persist(t, sub[0] == 'd', argc - 1, argv + 1);
    return tool_error(t, EXIT_USAGE, "unknown mdev command '%s' (types, list, create, remove, "
                      "define, undefine, defined)", sub);
}

const struct tool_command cmd_mdev = {
    .shortopts = "u:ma",
    .opts = define_opts,
    .name = "mdev",
    .run = run,
    .usage = "types | list | create PARENT TYPE [--uuid UUID]\n"
             "       | create --uuid UUID | remove UUID\n"
             "       | define PARENT TYPE [--uuid UUID] [--auto|--manual]\n"
             "       | undefine UUID | defined (writing ones: --dry-run)",
    .summary = "mediated devices: the types parents offer, create and remove them",
    .help = "  types                 every parent's types: name, device API, instances left\n"
            "  list                  the mediated devices: UUID, parent, type, IOMMU group\n"
            "  create PARENT TYPE    make one (PARENT: a PCI address or a virtual parent such\n"
            "                        as mtty, as in /sys/class/mdev_bus; -u, --uuid UUID,\n"
            "                        else a random one, printed; --uuid UUID alone: a\n"
            "                        defined one, as defined)\n"
            "  remove UUID           remove one (also mdev_<uuid with _>, libvirt's name)\n"
            "  define PARENT TYPE    make it come back at every boot: mdevctl's file\n"
            "                        /etc/mdevctl.d/PARENT/UUID (start auto, -a, --auto:\n"
            "                        the default; -m, --manual: only kept); `hostdev\n"
            "                        reserve` makes the auto ones\n"
            "  undefine UUID         remove that file; defined: list them (a file that is\n"
            "                        no definition is named, exit 2)\n"
            "Creating and removing are logged before they are done and put back when they\n"
            "fail (also after a kill: see recover); a create of what is there as asked, or\n"
            "a remove of what is not there, is done already (exit 0). A VM uses the\n"
            "device's IOMMU group (/dev/vfio/N); `hostdev-xml`/`qemu-args` take its UUID.\n",
};
