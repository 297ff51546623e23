/* reserve.c - `hostdev reserve`: give every configured device to its stub driver, at boot
 * (initramfs, systemd unit) or as udev reports it (--uevent). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"
#include "reserve.h"

static const char *source(const struct hd_reserve_entry *e, char *buf, size_t size)
{
    if (e->line == 0)
        return e->file;
    snprintf(buf, size, "%s:%u", e->file, e->line);
    return buf;
}

int reserve_print_errors(struct tool *t, const struct hd_reserve_config *config)
{
    for (size_t i = 0; i < hd_reserve_config_get_error_count(config); i++)
        tool_error(t, EXIT_USAGE, "%s", hd_reserve_config_get_error(config, i));
    return hd_reserve_config_get_error_count(config) > 0 ? EXIT_USAGE : EXIT_DONE;
}

/* Run one operation on @dev for the entry @e: each device on its own, so that one that fails
 * does not keep the others from their stubs at boot. */
static int run_one(struct tool *t, struct hd_device *dev, enum hd_op_kind kind,
                   const struct hd_reserve_entry *e, struct hd_op **out)
{
    struct hd_op *op;
    int r;

    *out = NULL;
    if ((r = hd_op_new(t->ctx, kind, &op)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "%s", hd_device_get_name(dev));
    hd_op_set_flags(op, t->dry_run ? HD_OP_DRY_RUN : 0);
    if (e->driver != NULL)
        hd_op_set_driver(op, e->driver);
    if (e->numvfs >= 0)
        hd_op_set_numvfs(op, (unsigned int)e->numvfs);
    hd_ctx_clear_error(t->ctx);
    if ((r = hd_op_add_device(op, hd_device_get_addr(dev), true)) < 0 || (r = hd_op_run(op)) < 0) {
        const char *msg = hd_ctx_last_error(t->ctx);
        hd_op_unref(op);
        return tool_error(t, EXIT_FAILED, "%s", msg[0] ? msg : strerror(-r));
    }
    *out = op;
    /* The operation worked on its own snapshot: what the caller prints is read again. */
    hd_device_refresh(dev);
    hd_device_fill(dev, HD_FILL_EXTRA);
    return EXIT_DONE;
}

int reserve_ops_keep(struct tool *t, struct reserve_ops *ops, struct hd_op *op)
{
    struct hd_op **v = realloc(ops->v, (ops->n + 1) * sizeof(*v));

    if (v == NULL) {
        hd_op_unref(op);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    ops->v = v;
    ops->v[ops->n++] = op;
    return EXIT_DONE;
}

void reserve_ops_json(struct json *j, const struct reserve_ops *ops)
{
    json_key(j, "steps");
    json_begin_array(j);
    for (size_t i = 0; i < ops->n; i++)
        tool_op_json_step_objects(j, ops->v[i]);
    json_end_array(j);
}

void reserve_ops_free(struct reserve_ops *ops)
{
    for (size_t i = 0; i < ops->n; i++)
        hd_op_unref(ops->v[i]);
    free(ops->v);
    ops->v = NULL;
    ops->n = 0;
}

/* The operation done: kept for the caller's JSON, or dropped. */
static int keep_or_drop(struct tool *t, struct reserve_ops *keep, struct hd_op *op, int code)
{
    if (keep != NULL && op != NULL)
        return reserve_ops_keep(t, keep, op) == EXIT_DONE ? code : EXIT_FAILED;
    hd_op_unref(op);
    return code;
}

int reserve_device(struct tool *t, struct hd_device *dev, const struct hd_reserve_entry *e,
                   struct reserve_ops *keep)
{
    char where[512];
    struct hd_op *op;
    int code = run_one(t, dev, HD_OP_RESERVE, e, &op);

    for (size_t i = 0; code == EXIT_DONE && !tool_json(t) && i < hd_op_get_step_count(op); i++) {
        const char *a = hd_op_step_get_action(op, i), *d = hd_op_step_get_device(op, i);
        const char *w = source(e, where, sizeof(where));
        if (t->dry_run && (!strcmp(a, "keep") || !strcmp(a, "pending") || !strcmp(a, "detach")))
            printf("  "); /* a line of the plan */
        if (strcmp(a, "keep") == 0)
            printf("%s: reserved for %s already (%s)\n", d, e->driver, w);
        else if (strcmp(a, "pending") == 0)
            printf("%s: reserved for %s, bound when it loads (%s)\n", d, e->driver, w);
        else if (strcmp(a, "detach") == 0)
            printf("%s: %s -> %s (%s)\n", d, strcmp(hd_op_step_get_from(op, i), "none") == 0
                                                ? "unbound" : hd_op_step_get_from(op, i),
                   e->driver, w);
    }
    return keep_or_drop(t, keep, op, code);
}

int reserve_numvfs(struct tool *t, struct hd_device *dev, const struct hd_reserve_entry *e,
                   struct reserve_ops *keep)
{
    char where[512];
    struct hd_op *op;
    int code;

    if (hd_device_get_sriov_numvfs(dev) == e->numvfs)
        return EXIT_DONE;
    if (hd_device_get_driver(dev) == NULL) {
        /* The PF's own driver creates VFs: the udev rule's "bind" event comes back for it. */
        if (!tool_json(t))
            printf("%s: %d virtual functions once its driver binds (%s)\n", hd_device_get_name(dev),
                   e->numvfs, source(e, where, sizeof(where)));
        return EXIT_DONE;
    }
    code = run_one(t, dev, HD_OP_NUMVFS, e, &op);
    if (code == EXIT_DONE && !tool_json(t))
        printf("%s%s: %d virtual functions (was %d; %s)\n", t->dry_run ? "  " : "",
               hd_device_get_name(dev), e->numvfs,
               hd_op_get_previous_numvfs(op), source(e, where, sizeof(where)));
    return keep_or_drop(t, keep, op, code);
}

static void json_device(struct json *j, struct hd_device *dev, const char *action)
{
    json_begin_object(j);
    json_kv_string(j, "address", hd_device_get_name(dev));
    json_kv_string(j, "driver", hd_device_get_driver(dev));
    json_kv_string(j, "driver_override", hd_device_get_driver_override(dev));
    json_kv_string(j, "action", action);
    json_end_object(j);
}

/* A USB device came (again): when a VM holds it (it re-enumerated: a new device number, a new
 * node), the new node goes to the VM's user. */
static int follow_usb(struct tool *t)
{
    const char *devtype = getenv("DEVTYPE"), *devpath = getenv("DEVPATH");
    const char *base = devpath ? strrchr(devpath, '/') : NULL;
    char name[64];
    struct hd_op *op;
    int r;

    if (devtype == NULL || strcmp(devtype, "usb_device") != 0 || base == NULL ||
        strlen(base + 1) + 4 >= sizeof(name))
        return EXIT_DONE; /* an interface, or not one of ours */
    /* libvirt's name: usb_ and the sysfs name with '-' and '.' as '_' */
    snprintf(name, sizeof(name), "usb_%s", base + 1);
    for (char *c = name + 4; *c; c++)
        *c = *c == '-' || *c == '.' ? '_' : *c;
    if ((r = tool_op_new(t, HD_OP_FOLLOW, 0, &op)) != EXIT_DONE)
        return r;
    /* A name hostdev does not take (a root hub's) is one no VM holds. */
    r = hd_op_add_node_device(op, name) < 0 ? EXIT_DONE : tool_run_op(t, op, "reserve", NULL, name);
    hd_op_unref(op);
    return r;
}

/* One device the udev rule reports: "add" reserves it, "bind" (or "add" with its driver
 * bound) of a PF sets its VFs; a USB device a VM holds gets its node given again. */
static int run_uevent(struct tool *t, struct hd_reserve_config *config)
{
    const char *action = getenv("ACTION"), *subsystem = getenv("SUBSYSTEM");
    const char *slot = getenv("PCI_SLOT_NAME");
    const struct hd_reserve_entry *e;
    struct hd_device *dev;
    int code;

    if (action != NULL && subsystem != NULL && strcmp(subsystem, "usb") == 0 &&
        strcmp(action, "add") == 0)
        return follow_usb(t);
    if (action == NULL || subsystem == NULL || strcmp(subsystem, "pci") != 0)
        return EXIT_DONE; /* not a PCI event: nothing of ours */
    if (slot == NULL)
        return tool_error(t, EXIT_USAGE, "--uevent: PCI_SLOT_NAME is not set (run from udev)");
    if (strcmp(action, "add") != 0 && strcmp(action, "bind") != 0)
        return EXIT_DONE;
    if ((code = tool_open_device(t, slot, &dev)) != EXIT_DONE)
        return code;
    if (strcmp(action, "add") == 0 && (e = hd_reserve_config_match(config, dev)) != NULL)
        code = reserve_device(t, dev, e, NULL);
    /* A PF's VFs once its driver is bound: on "bind", and on "add" of a PF that has one
     * already. udev's coldplug replays only "add" events, so a PF whose driver bound before
     * udev started (in the initramfs, or built in) never sends a "bind" udev sees. */
    if (code == EXIT_DONE && (e = hd_reserve_config_match_numvfs(config, dev)) != NULL &&
        (strcmp(action, "bind") == 0 || hd_device_get_driver(dev) != NULL))
        code = reserve_numvfs(t, dev, e, NULL);
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_array(&j);
        json_device(&j, dev, action);
        json_end_array(&j);
        json_finish(&j);
    }
    hd_device_unref(dev);
    return code;
}

/* Mediated devices defined to start at boot (mdevctl's start=auto) that are not there yet
 * and whose parent is: made now, each an operation of its own. */
static int start_defined_mdevs(struct tool *t, struct json *j)
{
    struct hd_mdev_defined_list *defs = NULL;
    struct hd_mdev_type_list *types = NULL;
    struct hd_mdev_list *have = NULL;
    int code = EXIT_DONE, r;

    hd_ctx_clear_error(t->ctx);
    if ((r = hd_mdev_defined_list_new(t->ctx, &defs)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the mdev definitions");
    if (hd_mdev_defined_list_count(defs) > 0 &&
        ((r = hd_mdev_list_new(t->ctx, &have)) < 0 ||
         (r = hd_mdev_type_list_new(t->ctx, &types)) < 0)) {
        hd_mdev_defined_list_unref(defs);
        hd_mdev_list_unref(have);
        return tool_lib_error(t, EXIT_FAILED, r, "listing mediated devices");
    }
    for (size_t i = 0; i < hd_mdev_defined_list_count(defs); i++) {
        const char *uuid = hd_mdev_defined_list_get_uuid(defs, i);
        const char *parent = hd_mdev_defined_list_get_parent(defs, i);
        const char *type = hd_mdev_defined_list_get_type(defs, i);
        bool there = false, offered = false;
        if (!hd_mdev_defined_list_get_autostart(defs, i))
            continue;
        for (size_t k = 0; k < hd_mdev_list_count(have) && !there; k++)
            there = strcmp(hd_mdev_list_get_uuid(have, k), uuid) == 0;
        for (size_t k = 0; k < hd_mdev_type_list_count(types) && !offered; k++)
            offered = strcmp(hd_mdev_type_list_get_parent(types, k), parent) == 0 &&
                      strcmp(hd_mdev_type_list_get_id(types, k), type) == 0;
        if (there)
            continue;
        if (!offered) { /* its parent's driver is not loaded (yet): nothing to make it on */
            if (!tool_json(t))
                printf("%s: not made: %s offers no type %s now (etc/mdevctl.d/%s/%s)\n", uuid,
                       parent, type, parent, uuid);
            continue;
        }
        struct hd_op *op;
        if (tool_op_new(t, HD_OP_MDEV_CREATE, 0, &op) != EXIT_DONE) {
            code = EXIT_FAILED;
            continue;
        }
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_op_set_mdev(op, parent, type, uuid)) < 0 || (r = hd_op_run(op)) < 0) {
            tool_op_error(t, r, NULL, NULL);
            code = EXIT_FAILED;
        } else if (tool_json(t)) {
            json_begin_object(j);
            json_kv_string(j, "uuid", uuid);
            json_kv_string(j, "parent", parent);
            json_kv_string(j, "type", type);
            json_kv_string(j, "action", t->dry_run ? "would create" : "created");
            json_end_object(j);
        } else {
            printf("%s%s: %s (type %s of %s) (etc/mdevctl.d/%s/%s)\n", t->dry_run ? "  " : "",
                   uuid, t->dry_run ? "would be created" : "created", type, parent, parent, uuid);
        }
        hd_op_unref(op);
    }
    hd_mdev_defined_list_unref(defs);
    hd_mdev_list_unref(have);
    hd_mdev_type_list_unref(types);
    return code;
}

/* Every configured device: VF counts first (VFs can be reserved by ids), then the rest. */
static int run_all(struct tool *t, struct hd_reserve_config *config)
{
    struct hd_device_list *list = NULL;
    struct json j;
    int code = EXIT_DONE, r;

    for (size_t i = 0; i < hd_reserve_config_count(config); i++) {
        const struct hd_reserve_entry *e = hd_reserve_config_get(config, i);
        struct hd_device *dev;
        if (e->numvfs < 0 || hd_device_open(t->ctx, &e->sel.addr, &dev) < 0)
            continue;
        if (hd_reserve_config_match_numvfs(config, dev) == e && reserve_numvfs(t, dev, e, NULL))
            code = EXIT_FAILED;
        hd_device_unref(dev);
    }
    hd_ctx_clear_error(t->ctx);
    if ((r = hd_device_list_new(t->ctx, HD_FILL_IDENT, &list)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "listing PCI devices");
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        const struct hd_reserve_entry *e = hd_reserve_config_match(config, dev);
        if (e == NULL)
            continue;
        if (reserve_device(t, dev, e, NULL) != EXIT_DONE)
            code = EXIT_FAILED;
        if (tool_json(t))
            json_device(&j, dev, "reserve");
    }
    /* After the PCI devices: a parent may be one of them (its driver bound by now). */
    if (start_defined_mdevs(t, &j) != EXIT_DONE)
        code = EXIT_FAILED;
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    hd_device_list_unref(list);
    return code;
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"uevent", no_argument, NULL, 'u'},
                                         {"keep-going", no_argument, NULL, 'k'},
                                         {"dry-run", no_argument, NULL, 'D'},
                                         {NULL, 0, NULL, 0}};
    struct hd_reserve_config *config;
    bool uevent = false, keep_going = false;
    int c, code, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, "uk", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            uevent = true;
            break;
        case 'k':
            keep_going = true;
            break;
        case 'D':
            t->dry_run = true;
            break;
        default:
            tool_usage(&cmd_reserve, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return tool_error(t, EXIT_USAGE,
                          "unexpected argument '%s' (devices are configured in "
                          "hostdev.d or with hostdev.reserve=)",
                          argv[optind]);
    hd_ctx_clear_error(t->ctx);
    if ((r = hd_reserve_config_load(t->ctx, &config)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the configuration");
    /* At boot a typo must not leave every other device to the host drivers. */
    code = reserve_print_errors(t, config);
    if (code != EXIT_DONE && !uevent && !keep_going) {
        hd_reserve_config_unref(config);
        return code;
    }
    if (t->dry_run && !tool_json(t))
        printf("dry run: nothing changed; reserve would do:\n");
    r = uevent ? run_uevent(t, config) : run_all(t, config);
    hd_reserve_config_unref(config);
    return r != EXIT_DONE ? r : code != EXIT_DONE ? EXIT_FAILED : EXIT_DONE;
}

const struct tool_command cmd_reserve = {
    .name = "reserve",
    .run = run,
    .usage = "[--uevent] [--keep-going] [--dry-run]",
    .summary = "give configured devices to vfio-pci/pci-stub (boot, udev)",
    .help = "Devices come from ROOT/etc/hostdev.d/*.conf (hostdev.d(5), `hostdev persist`) and\n"
            "the kernel command line (hostdev.reserve=ADDR|VVVV:DDDD[,...], hostdev.driver=).\n"
            "Each one gets a driver_override, so that no host driver takes it at a later probe,\n"
            "and is bound to its stub; when the stub is not loaded and cannot be, the override\n"
            "waits for it. SR-IOV PFs with numvfs= get their VFs first (once their driver is\n"
            "bound). Mediated devices defined with start auto in ROOT/etc/mdevctl.d (`hostdev\n"
            "mdev define`, mdevctl) are made last, where their parent offers their type.\n"
            "  -u, --uevent       one device, from udev's environment (ACTION, SUBSYSTEM,\n"
            "                     PCI_SLOT_NAME): \"add\" reserves it, \"bind\" (or \"add\"\n"
            "                     of a PF with its driver bound) sets its VFs\n"
            "  -k, --keep-going   apply the valid entries even when others are wrong (exit 1)\n"
            "      --dry-run      print the plan for every configured device, change nothing\n"
            "Exit status: 0 done, 1 a device failed (or --keep-going skipped bad entries),\n"
            "2 the configuration has errors (each named FILE:LINE; nothing was done).\n",
};
