/* reserve.c - `hostdev reserve`: give every configured device to its stub driver, at boot
 * (initramfs, systemd unit) or as udev reports it (--uevent). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"
#include "reserve.h"
#include "shared.h"

const char *reserve_entry_source(const struct hd_reserve_entry *e, char *buf, size_t size)
{
    if (e->line == 0)
        return e->file;
    snprintf(buf, size, "%s:%u", e->file, e->line);
    return buf;
}

const char *reserve_selector_name(const struct hd_pci_selector *sel, char *buf, size_t size)
{
    if (sel->kind == HD_SELECTOR_ADDR)
        return hd_pci_addr_format(&sel->addr, buf);
    snprintf(buf, size, "%04x:%04x", sel->vendor, sel->device);
    return buf;
}

/* Error lines gathered, to be printed as one list (tool_error_list(): under --json one object
 * with all of them). */
struct error_lines {
    char **v;
    size_t n, cap;
    bool nomem;
};

/* @msg (allocated; NULL: out of memory) as the next line, theirs to free. */
static void error_lines_take(struct error_lines *l, char *msg)
{
    char **v = msg == NULL ? NULL : hd_array_grow(l->v, &l->cap, l->n, sizeof(*v), 8);

    if (v == NULL) {
        l->nomem = true;
        free(msg);
        return;
    }
    (l->v = v)[l->n++] = msg;
}

/* Print them, one line each (EXIT_USAGE when there was any; EXIT_FAILED, out of memory), and
 * free them. */
static int error_lines_print(struct tool *t, struct error_lines *l)
{
    int code = l->nomem ? tool_error(t, EXIT_FAILED, "out of memory")
                        : tool_error_list(t, EXIT_USAGE, (const char *const *)l->v, l->n);

    hd_strv_free(l->v, l->n);
    return code;
}

int reserve_print_errors(struct tool *t, const struct hd_reserve_config *config)
{
    struct error_lines lines = {0};

    for (size_t i = 0; i < hd_reserve_config_get_error_count(config); i++)
        error_lines_take(&lines, strdup(hd_reserve_config_get_error(config, i)));
    /* Then the entries hd_reserve_config_check() found the boot would refuse. */
    for (size_t i = 0; i < hd_reserve_config_count(config); i++) {
        const struct hd_reserve_entry *e = hd_reserve_config_get(config, i);
        const char *why = hd_reserve_config_get_refusal(config, e);
        char where[512], *msg;
        if (why == NULL)
            continue;
        if (asprintf(&msg, "%s: %s", reserve_entry_source(e, where, sizeof(where)), why) < 0)
            msg = NULL;
        error_lines_take(&lines, msg);
    }
    return error_lines_print(t, &lines);
}

int reserve_print_mdev_errors(struct tool *t, const struct hd_mdev_defined_list *list)
{
    struct error_lines lines = {0};

    for (size_t i = 0; i < hd_mdev_defined_list_get_error_count(list); i++)
        error_lines_take(&lines, strdup(hd_mdev_defined_list_get_error(list, i)));
    return error_lines_print(t, &lines);
}

/* A file in mdevctl.d that is no definition is an error of the configuration, as a bad line
 * of hostdev.d is: without --keep-going it stops the run before it changes anything (the run
 * would fail it last, the PCI devices reserved already); with it, the run tells it (@tell
 * false) and the exit is 1. The definitions loaded (*@defs) are the run's: what was checked is
 * what it makes. A directory that cannot be read (*@defs NULL) is the run's to tell. */
static int check_mdev_definitions(struct tool *t, bool tell, struct hd_mdev_defined_list **defs)
{
    hd_ctx_clear_error(t->ctx);
    if (hd_mdev_defined_list_load(t->ctx, defs) < 0)
        return EXIT_DONE;
    if (!tell)
        return hd_mdev_defined_list_get_error_count(*defs) > 0 ? EXIT_USAGE : EXIT_DONE;
    return reserve_print_mdev_errors(t, *defs);
}

unsigned int reserve_apply_flags(const struct tool *t)
{
    return (t->dry_run ? HD_RESERVE_DRY_RUN : 0) | (t->force ? HD_RESERVE_FORCE : 0);
}

/* ", unsafe no-IOMMU mode: NODE (...)" for step @i of @op onto vfio in that mode, as detach's
 * line says it; "" for any other. */
static const char *noiommu_note(const struct hd_op *op, size_t i, char *buf, size_t size)
{
    int group;

    if (!hd_op_step_get_noiommu(op, i, &group))
        return "";
    if (group >= 0)
        snprintf(buf, size, ", unsafe no-IOMMU mode: /dev/vfio/noiommu-%d (no DMA isolation)",
                 group);
    else
        snprintf(buf, size, ", unsafe no-IOMMU mode: /dev/vfio/noiommu-N (no DMA isolation)");
    return buf;
}

/* A reserved device's line: what its operation did, with the entry's stub and source. */
static void print_bind(struct tool *t, const struct hd_op *op, const struct hd_reserve_entry *e)
{
    char where[512], node[96];

    for (size_t i = 0; i < hd_op_get_step_count(op); i++) {
        const char *a = hd_op_step_get_action(op, i), *d = hd_op_step_get_device(op, i);
        const char *w = reserve_entry_source(e, where, sizeof(where));
        if (t->dry_run && (!strcmp(a, "keep") || !strcmp(a, "pending") || !strcmp(a, "detach") ||
                           !strcmp(a, "numvfs") || !strcmp(a, "mdev-remove")))
            printf("  "); /* a line of the plan */
        if (strcmp(a, "keep") == 0)
            printf("%s: reserved for %s already (%s)\n", d, e->driver, w);
        else if (strcmp(a, "pending") == 0)
            printf("%s: reserved for %s, bound when it loads (%s)\n", d, e->driver, w);
        else if (strcmp(a, "numvfs") == 0) /* forced: a PF's driver takes its VFs along */
            printf("%s: %s -> %s virtual functions (%s)\n", d, hd_op_step_get_from(op, i),
                   hd_op_step_get_to(op, i), w);
        else if (strcmp(a, "mdev-remove") == 0) /* forced: a parent's driver takes them along */
            printf("%s: removed (type %s of %s) (%s)\n", d, hd_op_step_get_to(op, i),
                   hd_op_step_get_from(op, i), w);
        else if (strcmp(a, "detach") == 0 &&
                 strcmp(hd_op_step_get_from(op, i), hd_op_step_get_to(op, i)) == 0)
            printf("%s: on %s already, reserved for it (%s)\n", d, hd_op_step_get_to(op, i), w);
        else if (strcmp(a, "detach") == 0)
            printf("%s: %s -> %s%s (%s)\n", d, strcmp(hd_op_step_get_from(op, i), "none") == 0
                                                  ? "unbound" : hd_op_step_get_from(op, i),
                   e->driver, noiommu_note(op, i, node, sizeof(node)), w);
    }
}

/* Item @i's failure, after @where ("FILE:LINE: ", the line that configured it; "" for a device
 * named on persist's command line). */
static void print_failure(struct tool *t, const struct hd_reserve_result *res, size_t i,
                          const char *where)
{
    enum hd_reason reason = HD_REASON_NONE;
    const char *msg = hd_reserve_result_get_error(res, i, &reason);

    /* Bad input (a broken mdev definition, a bridge) exits 2, as everywhere. A group-less
     * device goes to vfio only by the entry's own opt-in, which persist --noiommu writes. */
    tool_error_hint(t, tool_exit_for_reason(reason),
                    reason == HD_REASON_NOIOMMU
                        ? "persist --noiommu reserves it anyway, UNSAFELY: for DPDK and the "
                          "like, never a VM"
                    : hd_reason_forceable(reason) && !t->force ? "--force takes it anyway"
                                                               : NULL,
                    "%s%s", where, msg);
}

void reserve_print_failure(struct tool *t, const struct hd_reserve_result *res, size_t i)
{
    print_failure(t, res, i, "");
}

/* Failed item @i, after @where (print_failure()), then its warning. */
static void print_failed_item(struct tool *t, const struct hd_reserve_result *res, size_t i,
                              const char *where)
{
    const char *warning = hd_reserve_result_get_warning(res, i);

    print_failure(t, res, i, where);
    if (warning != NULL && !tool_json(t))
        tool_warning(t, warning);
}

/* The driver the VFs of item @i (HD_RESERVE_VF_MADE) come up on, as the count's item before it
 * says (a PF on vfio-pci gives them its driver_override), the dry run's too; NULL: unbound. */
static const char *vfs_come_up_on(const struct hd_reserve_result *res, size_t i)
{
    while (i-- > 0) {
        const struct hd_op *op = hd_reserve_result_get_op(res, i);
        if (hd_reserve_result_get_action(res, i) == HD_RESERVE_NUMVFS)
            return op != NULL ? hd_op_get_vf_driver(op) : NULL;
    }
    return NULL;
}

/* A VF the count of the item before made (or would make): unbound, or on its PF's vfio-pci. */
static void print_vf_made(const struct hd_reserve_result *res, size_t i, struct hd_device *dev,
                          const struct hd_reserve_entry *e, enum hd_reserve_outcome outcome)
{
    const char *on = vfs_come_up_on(res, i), *name = hd_device_get_name(dev);
    /* Where it is: the run reads it, a dry run has the count's word. */
    const char *now = hd_device_get_driver(dev) ? hd_device_get_driver(dev) : on;
    char where[512], came[96] = "unbound";

    if (on != NULL)
        snprintf(came, sizeof(came), "on %s", on);
    if (e != NULL && now != NULL && strcmp(now, e->driver) == 0)
        printf("    %s: made; on %s already, as reserved (%s)\n", name, e->driver,
               reserve_entry_source(e, where, sizeof(where)));
    else if (outcome == HD_RESERVE_LATER && e != NULL)
        printf("    %s: made, %s; reserved for %s (%s): hostdev's udev rule binds it as it "
               "appears, and so does every boot\n", name, came, e->driver,
               reserve_entry_source(e, where, sizeof(where)));
    else if (outcome == HD_RESERVE_LATER)
        printf("    %s: made, %s; reserved or not once its ids are known\n", name, came);
    else if (e == NULL && on != NULL)
        printf("    %s: made, on %s: its PF is on %s, which the kernel gives it as its "
               "driver_override\n", name, on, on);
    else if (e == NULL)
        printf("    %s: made, left unbound\n", name);
    else
        printf("    %s: made, %s -> %s (%s)\n", name, came, e->driver,
               reserve_entry_source(e, where, sizeof(where)));
}

/* An hd_reserve_fn of reserve's own: as reserve_print_item(), a failure after the line of the
 * configuration that asked for it (a mediated device's names its file itself). */
static void print_configured_item(void *data, const struct hd_reserve_result *res, size_t i)
{
    struct tool *t = data;
    const struct hd_reserve_entry *e = hd_reserve_result_get_entry(res, i);
    char where[512], prefix[520];

    if (hd_reserve_result_get_outcome(res, i) != HD_RESERVE_FAILED || e == NULL) {
        reserve_print_item(t, res, i);
        return;
    }
    snprintf(prefix, sizeof(prefix), "%s: ", reserve_entry_source(e, where, sizeof(where)));
    print_failed_item(t, res, i, prefix);
}

void reserve_print_item(void *data, const struct hd_reserve_result *res, size_t i)
{
    struct tool *t = data;
    enum hd_reserve_action action = hd_reserve_result_get_action(res, i);
    enum hd_reserve_outcome outcome = hd_reserve_result_get_outcome(res, i);
    const struct hd_reserve_entry *e = hd_reserve_result_get_entry(res, i);
    struct hd_device *dev = hd_reserve_result_get_device(res, i);
    const char *uuid, *parent, *type;
    char where[512];

    /* After the line it is about (on stdout) is said, or the failure. */
    const char *warning = hd_reserve_result_get_warning(res, i);

    if (outcome == HD_RESERVE_FAILED) {
        print_failed_item(t, res, i, "");
        return;
    }
    if (tool_json(t))
        return;
    if (action == HD_RESERVE_NUMVFS && outcome == HD_RESERVE_LATER)
        printf("%s%s: %d virtual functions once its driver binds (%s)\n", t->dry_run ? "  " : "",
               hd_device_get_name(dev), e->numvfs, reserve_entry_source(e, where, sizeof(where)));
    else if (action == HD_RESERVE_NUMVFS && outcome == HD_RESERVE_UNCHANGED) /* as a bind's */
        printf("%s%s: %d virtual functions already (%s)\n", t->dry_run ? "  " : "",
               hd_device_get_name(dev), e->numvfs, reserve_entry_source(e, where, sizeof(where)));
    else if (action == HD_RESERVE_NUMVFS && outcome == HD_RESERVE_DONE)
        printf("%s%s: %d virtual functions (was %d; %s)\n", t->dry_run ? "  " : "",
               hd_device_get_name(dev), e->numvfs,
               hd_op_get_previous_numvfs(hd_reserve_result_get_op(res, i)),
               reserve_entry_source(e, where, sizeof(where)));
    else if (action == HD_RESERVE_VF_GONE) /* under its PF's count, in a dry run */
        printf("    %s: removed with the count (was %s%s)\n", hd_device_get_name(dev),
               hd_device_get_driver(dev) ? "on " : "unbound",
               hd_device_get_driver(dev) ? hd_device_get_driver(dev) : "");
    else if (action == HD_RESERVE_VF_MADE)
        print_vf_made(res, i, dev, e, outcome);
    else if (action == HD_RESERVE_BIND && outcome == HD_RESERVE_DONE &&
             hd_reserve_result_get_op(res, i) != NULL) /* else told with the item holding it */
        print_bind(t, hd_reserve_result_get_op(res, i), e);
    else if (action == HD_RESERVE_MDEV && hd_reserve_result_get_mdev(res, i, &uuid, &parent,
                                                                     &type) == 0) {
        if (outcome == HD_RESERVE_LATER) /* its parent's driver is not loaded (yet) */
            printf("%s%s: not made: %s offers no type %s now (etc/mdevctl.d/%s/%s)\n",
                   t->dry_run ? "  " : "", uuid, parent, type, parent, uuid);
        else
            printf("%s%s: %s (type %s of %s) (etc/mdevctl.d/%s/%s)\n", t->dry_run ? "  " : "",
                   uuid, t->dry_run ? "would be created" : "created", type, parent, parent, uuid);
    }
    if (warning != NULL) {
        fflush(stdout);
        tool_warning(t, warning);
    }
}

int reserve_result_exit(const struct hd_reserve_result *res)
{
    int code = EXIT_DONE;
    bool applied = false;

    for (size_t i = 0; i < hd_reserve_result_count(res); i++) {
        enum hd_reason reason = HD_REASON_NONE;
        if (hd_reserve_result_get_outcome(res, i) != HD_RESERVE_FAILED) {
            applied = applied || hd_reserve_result_get_outcome(res, i) == HD_RESERVE_DONE;
            continue;
        }
        hd_reserve_result_get_error(res, i, &reason);
        if (code != EXIT_FAILED) /* any failure that is not bad input makes it 1 */
            code = tool_exit_for_reason(reason);
    }
    /* Bad input alone says nothing changed: with other entries applied, that is not so. */
    return code == EXIT_USAGE && applied ? EXIT_FAILED : code;
}

void reserve_json_vfs(struct json *j, const struct hd_reserve_result *res)
{
    json_key(j, "vfs");
    json_begin_array(j);
    for (size_t i = 0; i < hd_reserve_result_count(res); i++)
        if (hd_reserve_result_get_action(res, i) == HD_RESERVE_VF_GONE ||
            hd_reserve_result_get_action(res, i) == HD_RESERVE_VF_MADE)
            reserve_json_numvfs(j, res, i);
    json_end_array(j);
}

void reserve_json_steps(struct json *j, const struct hd_reserve_result *res)
{
    json_key(j, "steps");
    json_begin_array(j);
    for (size_t i = 0; i < hd_reserve_result_count(res); i++)
        if (hd_reserve_result_get_op(res, i) != NULL)
            tool_op_json_step_objects(j, hd_reserve_result_get_op(res, i));
    json_end_array(j);
}

size_t reserve_json_noiommu_warnings(struct json *j, const struct hd_reserve_result *res,
                                     const char *device)
{
    size_t n = 0;

    for (size_t i = 0; i < hd_reserve_result_count(res); i++) {
        const struct hd_op *op = hd_reserve_result_get_op(res, i);
        for (size_t k = 0; op != NULL && k < hd_op_get_step_count(op); k++) {
            char *warning;
            if ((device != NULL && strcmp(hd_op_step_get_device(op, k), device) != 0) ||
                (warning = tool_op_step_noiommu_warning(op, k)) == NULL)
                continue;
            if (j != NULL)
                json_string(j, warning);
            free(warning);
            n++;
        }
    }
    return n;
}

/* Whether item @i's operation got as far as writing (so that a failed one has steps to show). */
static bool item_wrote(const struct hd_reserve_result *res, size_t i)
{
    return hd_reserve_result_get_op(res, i) != NULL &&
           tool_op_wrote(hd_reserve_result_get_op(res, i));
}

int reserve_failed(struct tool *t, const char *operation, const struct hd_reserve_result *res,
                   int code)
{
    bool wrote = false;

    for (size_t i = 0; i < hd_reserve_result_count(res); i++)
        wrote = wrote || (hd_reserve_result_get_outcome(res, i) == HD_RESERVE_FAILED &&
                          item_wrote(res, i));
    if (tool_json(t) && wrote) {
        struct json j;
        tool_op_json_begin(&j, operation, t->dry_run);
        reserve_json_steps(&j, res);
        json_end_object(&j);
        json_finish(&j);
    }
    return code;
}

/* A failed item's steps as they ended (undone, failed, not-run, not-undone), when its operation
 * got as far as writing; nothing for one refused before any write. */
static void json_failed_steps(struct json *j, const struct hd_reserve_result *res, size_t i)
{
    if (hd_reserve_result_get_outcome(res, i) != HD_RESERVE_FAILED || !item_wrote(res, i))
        return;
    json_key(j, "steps");
    json_begin_array(j);
    tool_op_json_step_objects(j, hd_reserve_result_get_op(res, i));
    json_end_array(j);
}

void reserve_json_numvfs(struct json *j, const struct hd_reserve_result *res, size_t i)
{
    enum hd_reserve_action action = hd_reserve_result_get_action(res, i);
    enum hd_reserve_outcome outcome = hd_reserve_result_get_outcome(res, i);
    const struct hd_reserve_entry *e = hd_reserve_result_get_entry(res, i);
    struct hd_device *dev = hd_reserve_result_get_device(res, i);

    json_begin_object(j);
    json_kv_string(j, "address", hd_device_get_name(dev));
    if (action == HD_RESERVE_NUMVFS) {
        json_kv_string(j, "action", "numvfs");
        json_kv_int(j, "numvfs", e->numvfs);
        json_kv_int(j, "previous_numvfs",
                    hd_op_get_previous_numvfs(hd_reserve_result_get_op(res, i)));
        if (outcome == HD_RESERVE_FAILED) {
            json_kv_string(j, "outcome", "failed");
            json_kv_string(j, "error", hd_reserve_result_get_error(res, i, NULL));
            json_failed_steps(j, res, i);
        }
    } else if (action == HD_RESERVE_VF_GONE) {
        json_kv_string(j, "action", "remove_vf");
        json_kv_string(j, "driver", hd_device_get_driver(dev));
    } else {
        json_kv_string(j, "action", "make_vf");
        /* null: nothing reserves it, or (ids_known false) not known before it is there */
        json_kv_string(j, "reserve_for", e ? e->driver : NULL);
        json_kv_bool(j, "ids_known", outcome != HD_RESERVE_LATER || e != NULL);
    }
    json_end_object(j);
}

/* udev's device @dev as the run left it; when what @res applied to it failed, why and (once
 * it began writing) its steps as they ended, as a configured device's object has them. */
static void json_device(struct json *j, struct hd_device *dev, const char *action,
                        const struct hd_reserve_result *res)
{
    json_begin_object(j);
    json_kv_string(j, "address", hd_device_get_name(dev));
    json_kv_string(j, "driver", hd_device_get_driver(dev));
    json_kv_string(j, "driver_override", hd_device_get_driver_override(dev));
    json_kv_string(j, "action", action);
    for (size_t i = 0; res != NULL && i < hd_reserve_result_count(res); i++) {
        if (hd_reserve_result_get_outcome(res, i) != HD_RESERVE_FAILED)
            continue;
        json_kv_string(j, "error", hd_reserve_result_get_error(res, i, NULL));
        json_failed_steps(j, res, i);
        break;
    }
    json_end_object(j);
}

/* What became of a configured device (the device as it is now, read again after its
 * operation): a refused one is no reservation, and a planned one says the stub it would get. */
static void json_bind(const struct tool *t, struct json *j, const struct hd_reserve_result *res,
                      size_t i)
{
    static const char *const outcomes[] = {
        [HD_RESERVE_DONE] = "done", [HD_RESERVE_UNCHANGED] = "unchanged",
        [HD_RESERVE_LATER] = "later", [HD_RESERVE_HELD] = "held", [HD_RESERVE_FAILED] = "failed"};
    struct hd_device *dev = hd_reserve_result_get_device(res, i);
    const struct hd_reserve_entry *e = hd_reserve_result_get_entry(res, i);
    enum hd_reserve_outcome outcome = hd_reserve_result_get_outcome(res, i);

    json_begin_object(j);
    json_kv_string(j, "address", hd_device_get_name(dev));
    json_kv_string(j, "driver", hd_device_get_driver(dev));
    json_kv_string(j, "driver_override", hd_device_get_driver_override(dev));
    json_kv_string(j, "action", "reserve");
    json_kv_string(j, "reserve_for", e != NULL ? e->driver : NULL);
    json_kv_string(j, "outcome", outcome == HD_RESERVE_DONE && t->dry_run ? "planned"
                                 : (size_t)outcome < sizeof(outcomes) / sizeof(outcomes[0])
                                     ? outcomes[outcome] : NULL);
    if (outcome == HD_RESERVE_FAILED)
        json_kv_string(j, "error", hd_reserve_result_get_error(res, i, NULL));
    if (hd_reserve_result_get_warning(res, i) != NULL)
        json_kv_string(j, "warning", hd_reserve_result_get_warning(res, i));
    /* What detach --json says of a device it put on vfio with no IOMMU, said of this one. */
    if (reserve_json_noiommu_warnings(NULL, res, hd_device_get_name(dev)) > 0) {
        json_key(j, "warnings");
        json_begin_array(j);
        reserve_json_noiommu_warnings(j, res, hd_device_get_name(dev));
        json_end_array(j);
    }
    json_failed_steps(j, res, i);
    json_end_object(j);
}

/* A mediated device defined to start at boot, made (or not) by the run: one object. */
static void json_mdev(const struct tool *t, struct json *j, const struct hd_reserve_result *res,
                      size_t i)
{
    enum hd_reserve_outcome outcome = hd_reserve_result_get_outcome(res, i);
    const char *uuid, *parent, *type;

    if ((outcome != HD_RESERVE_DONE && outcome != HD_RESERVE_LATER) ||
        hd_reserve_result_get_mdev(res, i, &uuid, &parent, &type) < 0)
        return;
    json_begin_object(j);
    json_kv_string(j, "uuid", uuid);
    json_kv_string(j, "parent", parent);
    json_kv_string(j, "type", type);
    /* One the text says is not made is in the document too, with the same why. */
    json_kv_string(j, "action", outcome == HD_RESERVE_LATER ? "not made"
                                : t->dry_run                ? "would create"
                                                            : "created");
    if (outcome == HD_RESERVE_LATER) {
        char why[256];
        snprintf(why, sizeof(why), "%s offers no type %s now", parent, type);
        json_kv_string(j, "why", why);
    }
    json_end_object(j);
}

/* What applying reservations did (@res) under --json, one array: the drivers bound, the VF
 * counts set (and, under a dry run, the VFs they remove and make), the mediated devices made.
 * Then @res goes; its exit status (reserve_result_exit()). */
static int result_done(struct tool *t, struct hd_reserve_result *res)
{
    int code = reserve_result_exit(res);

    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_array(&j);
        for (size_t i = 0; i < hd_reserve_result_count(res); i++) {
            enum hd_reserve_action action = hd_reserve_result_get_action(res, i);
            if (action == HD_RESERVE_BIND)
                json_bind(t, &j, res, i);
            /* A failed count is told when it got as far as writing (its steps). */
            if ((action == HD_RESERVE_NUMVFS &&
                 (hd_reserve_result_get_outcome(res, i) == HD_RESERVE_DONE ||
                  (hd_reserve_result_get_outcome(res, i) == HD_RESERVE_FAILED &&
                   item_wrote(res, i)))) ||
                action == HD_RESERVE_VF_GONE || action == HD_RESERVE_VF_MADE)
                reserve_json_numvfs(&j, res, i);
            json_mdev(t, &j, res, i);
        }
        json_end_array(&j);
        json_finish(&j);
    }
    hd_reserve_result_unref(res);
    return code;
}

/* udev's "change" of a device its driver has just made a mediated device parent
 * (MDEV_STATE=registered, mdevctl's cue too): its name (DEVPATH's last part), else NULL. */
static const char *mdev_parent_event(void)
{
    const char *action = getenv("ACTION"), *state = getenv("MDEV_STATE");
    const char *devpath = getenv("DEVPATH"), *base = devpath ? strrchr(devpath, '/') : NULL;

    if (action == NULL || strcmp(action, "change") != 0 || state == NULL ||
        strcmp(state, "registered") != 0)
        return NULL;
    return base != NULL ? base + 1 : ""; /* "": no DEVPATH, bad input */
}

/* A parent registered: the definitions with start=auto under it that are not there yet are
 * made now (its driver may load after the boot's run, or come back after a detach). */
static int run_mdev_parent(struct tool *t, const char *parent)
{
    struct hd_reserve_result *res = NULL;
    int r;

    hd_ctx_clear_error(t->ctx);
    r = hd_reserve_mdev_parent_event(t->ctx, parent, reserve_apply_flags(t), reserve_print_item,
                                     t, &res);
    if (r < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "--uevent: DEVPATH '%s'", getenv("DEVPATH"));
    if (t->dry_run && !tool_json(t) && hd_reserve_result_count(res) == 0)
        printf("  nothing: no mediated device defined to start under %s is missing\n", parent);
    return result_done(t, res);
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
        hd_nodedev_name_of("usb", base + 1, name, sizeof(name)) < 0)
        return EXIT_DONE; /* an interface, or not one of ours */
    if ((r = tool_op_new(t, HD_OP_FOLLOW, 0, &op)) != EXIT_DONE)
        return r;
    /* A name hostdev does not take (a root hub's) is one no VM holds. */
    r = hd_op_add_node_device(op, name) < 0 ? EXIT_DONE : tool_run_op(t, op, "reserve", NULL, name);
    hd_op_unref(op);
    return r;
}

/* udev's "add" of a USB device: its node may go to the VM that holds it (follow_usb()). */
static bool usb_add_event(void)
{
    const char *action = getenv("ACTION"), *subsystem = getenv("SUBSYSTEM");

    return action != NULL && subsystem != NULL && strcmp(subsystem, "usb") == 0 &&
           strcmp(action, "add") == 0;
}

/* One device the udev rule reports: "add" reserves it, "bind" (or "add" with its driver
 * bound) of a PF sets its VFs; a USB device a VM holds gets its node given again. */
/* udev's environment for a PCI device, read before the configuration, so that an event that is
 * no PCI event of ours is nothing and a bad one is bad input (exit 2), whatever the
 * configuration's errors. EXIT_DONE with @ours set: @addr is the device of an "add" or "bind". */
static int uevent_device(struct tool *t, struct hd_pci_addr *addr, bool *ours)
{
    const char *action = getenv("ACTION"), *subsystem = getenv("SUBSYSTEM");
    const char *slot = getenv("PCI_SLOT_NAME");

    *ours = false;
    if (mdev_parent_event() != NULL && !*mdev_parent_event())
        return tool_error(t, EXIT_USAGE, "--uevent: DEVPATH is not set (run from udev)");
    if (mdev_parent_event() != NULL || usb_add_event() || action == NULL || subsystem == NULL ||
        strcmp(subsystem, "pci") != 0)
        return EXIT_DONE; /* not a PCI event: nothing of ours */
    if (slot == NULL)
        return tool_error(t, EXIT_USAGE, "--uevent: PCI_SLOT_NAME is not set (run from udev)");
    if (strcmp(action, "add") != 0 && strcmp(action, "bind") != 0)
        return EXIT_DONE;
    /* The kernel's own name for the device, never an interface's. */
    if (hd_pci_addr_parse(slot, addr) < 0)
        return tool_error(t, EXIT_USAGE, "--uevent: PCI_SLOT_NAME '%s' is no PCI address "
                          "(DDDD:BB:SS.F, as the kernel names the device)", slot);
    *ours = true;
    return EXIT_DONE;
}

static int run_uevent(struct tool *t, struct hd_reserve_config *config,
                      const struct hd_pci_addr *addr)
{
    const char *action = getenv("ACTION"), *slot = getenv("PCI_SLOT_NAME");
    struct hd_reserve_result *res = NULL;
    struct hd_device *dev;
    int code, r;

    if (usb_add_event())
        return follow_usb(t);
    if (mdev_parent_event() != NULL)
        return run_mdev_parent(t, mdev_parent_event());
    if (addr == NULL) { /* no PCI "add" or "bind": nothing of ours */
        if (tool_json(t))
            printf("[]\n");
        else if (t->dry_run)
            printf("  nothing: not an event reserve acts on\n");
        return EXIT_DONE;
    }
    hd_ctx_clear_error(t->ctx);
    /* Removed between its event and this run (a hot-unplug, a VF count set back at once): its
     * "remove" event follows, and nothing of it is left to reserve. */
    if ((r = hd_device_open(t->ctx, addr, &dev)) == -ENODEV) {
        if (!tool_json(t))
            fprintf(stderr, "%s reserve: note: %s is gone since its \"%s\" event: nothing to "
                    "reserve\n", t->prog, slot, action);
        else
            printf("[]\n");
        return EXIT_DONE;
    }
    if (r < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "%s", slot);
    hd_ctx_clear_error(t->ctx);
    r = hd_reserve_config_apply_event(config, dev, action, reserve_apply_flags(t),
                                      print_configured_item, t, &res);
    code = r < 0 ? tool_lib_error(t, EXIT_FAILED, r, "%s", slot) : reserve_result_exit(res);
    /* The plan's heading is out already: an empty plan says why it is empty. */
    if (r >= 0 && t->dry_run && !tool_json(t) && hd_reserve_result_count(res) == 0)
        printf("  nothing: no configured entry is for %s (hostdev.d, hostdev.reserve=)\n",
               slot);
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_array(&j);
        json_device(&j, dev, action, res);
        json_end_array(&j);
        json_finish(&j);
    }
    hd_reserve_result_unref(res);
    hd_device_unref(dev);
    return code;
}

/* Every configured device: VF counts first (VFs can be reserved by ids), then the rest, then
 * the mediated devices defined to start at boot (@mdevs, as checked; NULL: read by the run). */
static int run_all(struct tool *t, struct hd_reserve_config *config,
                   const struct hd_mdev_defined_list *mdevs)
{
    struct hd_reserve_result *res;
    int r;

    hd_ctx_clear_error(t->ctx);
    r = hd_reserve_config_apply_with_mdevs(config, mdevs, t->ctx, reserve_apply_flags(t),
                                           print_configured_item, t, &res);
    if (r < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "listing PCI devices");
    /* The plan's heading is out already: an empty plan says why it is empty. */
    if (t->dry_run && !tool_json(t) && hd_reserve_result_count(res) == 0)
        printf(hd_reserve_config_count(config) == 0
                   ? "  nothing: no device is configured (hostdev.d, hostdev.reserve=)\n"
                   : "  nothing now: no configured device is here (each is reserved when it "
                     "appears)\n");
    return result_done(t, res);
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"uevent", no_argument, NULL, 'u'},
                                         {"keep-going", no_argument, NULL, 'k'},
                                         {"dry-run", no_argument, NULL, 'D'},
                                         {"force", no_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    struct hd_reserve_config *config;
    struct hd_mdev_defined_list *mdevs = NULL;
    bool uevent = false, keep_going = false, ours = false;
    struct hd_pci_addr addr;
    int c, code, r;

    optind = 0;
    while ((c = tool_getopt(argc, argv, "ukf", opts)) != -1) {
        switch (c) {
        case 'u':
            uevent = true;
            break;
        case 'k':
            keep_going = true;
            break;
        case 'f':
            t->force = true;
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
    if (uevent && (r = uevent_device(t, &addr, &ours)) != EXIT_DONE)
        return r;
    hd_ctx_clear_error(t->ctx);
    if ((r = hd_reserve_config_load(t->ctx, &config)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the configuration");
    /* At boot a typo must not leave every other device to the host drivers. A run that stops
     * for one names what it would refuse too (forced, what it refuses even so), as `persisted`
     * does, so that every bad line is mended at once; a run that goes on says each refusal as
     * it meets it. */
    if (!uevent && !keep_going && hd_reserve_config_get_error_count(config) > 0 &&
        (r = hd_reserve_config_check_flags(config, t->ctx, reserve_apply_flags(t))) < 0) {
        hd_reserve_config_unref(config);
        return tool_lib_error(t, EXIT_FAILED, r, "checking the configuration");
    }
    code = reserve_print_errors(t, config);
    if (!uevent && check_mdev_definitions(t, !keep_going, &mdevs) != EXIT_DONE)
        code = EXIT_USAGE;
    if (code != EXIT_DONE && !uevent && !keep_going) {
        hd_mdev_defined_list_unref(mdevs);
        hd_reserve_config_unref(config);
        return code;
    }
    /* (A USB device's operation prints its own heading.) */
    if (t->dry_run && !tool_json(t) && !(uevent && usb_add_event()))
        printf("dry run: nothing changed; reserve would do:\n");
    r = uevent ? run_uevent(t, config, ours ? &addr : NULL) : run_all(t, config, mdevs);
    hd_mdev_defined_list_unref(mdevs);
    hd_reserve_config_unref(config);
    /* Bad entries skipped (--keep-going, --uevent) and the others applied: 1, as documented,
     * whatever the applied ones ended in but a runtime failure. */
    if (code != EXIT_DONE && (r == EXIT_DONE || r == EXIT_USAGE))
        return EXIT_FAILED;
    return r;
}

const struct tool_command cmd_reserve = {
    .name = "reserve",
    .run = run,
    .usage = "[--uevent] [--keep-going] [--force] [--dry-run]",
    .summary = "give configured devices to vfio-pci/pci-stub (boot, udev)",
    .help = "Devices come from ROOT/etc/hostdev.d/*.conf (hostdev.d(5), `hostdev persist`)\n"
            "and the kernel command line (hostdev.reserve=ADDR|VVVV:DDDD[,...],\n"
            "hostdev.driver=). Each one gets a driver_override, so that no host driver takes\n"
            "it at a later probe, and is bound to its stub; when the stub is not loaded and\n"
            "cannot be, the override waits for it on a device no driver has (one a host\n"
            "driver has is refused). SR-IOV PFs with numvfs= get their VFs first (once their\n"
            "driver is bound). Mediated devices defined with start auto in ROOT/etc/mdevctl.d\n"
            "(`hostdev mdev define`, mdevctl) are made last, where their parent offers their\n"
            "type; a file there that is no definition is a configuration error, as a bad line\n"
            "is.\n"
            "  -u, --uevent       one device, from udev's environment (ACTION, SUBSYSTEM,\n"
            "                     PCI_SLOT_NAME): \"add\" reserves it, \"bind\" (or \"add\"\n"
            "                     of a PF with its driver bound) sets its VFs; a parent's\n"
            "                     \"change\" with MDEV_STATE=registered makes its start auto\n"
            "                     mediated devices\n"
            "  -k, --keep-going   apply the valid entries even when others are wrong (exit 1)\n"
            "  -f, --force        reserve a device even when the host uses it (a mount, a\n"
            "                     route, a console), a platform function, or a PF whose VFs\n"
            "                     on host drivers go with it; without it such a device is\n"
            "                     refused and stays with the host (exit 1)\n"
            "      --dry-run      print the plan for every configured device, change nothing\n"
            "Exit status: 0 done, 1 a device failed (or --keep-going skipped bad entries),\n"
            "2 the configuration has errors (each named FILE:LINE; nothing was done) or\n"
            "every device that failed was bad input (a bridge). A configured device that\n"
            "is not there now is reserved when it appears (its \"add\" event).\n",
};
