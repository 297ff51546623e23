/* opout.c - what every writing command shares: run the one operation it built, then print
 * its steps (text, or one JSON object) or its error (one line, with the way out when a force
 * flag overrides it). Exit 2 for bad input, 1 for a refusal or a failure (rolled back). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"
#include "reserve.h"

int tool_exit_for(const struct tool *t)
{
    return tool_exit_for_reason(hd_ctx_last_reason(t->ctx));
}

int tool_exit_for_reason(enum hd_reason reason)
{
    switch (reason) {
    case HD_REASON_INVALID:
    case HD_REASON_NO_DEVICE:
    case HD_REASON_STATE_DAMAGED:
        return EXIT_USAGE;
    default:
        return EXIT_FAILED;
    }
}

int tool_op_error(struct tool *t, int err, const char *force_option, const char *what)
{
    bool forceable = force_option != NULL && hd_reason_forceable(hd_ctx_last_reason(t->ctx));
    char hint[96];
    int code = tool_exit_for(t);

    snprintf(hint, sizeof(hint), "%s takes it anyway", force_option ? force_option : "");
    /* The opt-in is the command line's to name: the library says only that it must be asked
     * for (detach's reason alone). */
    if (hd_ctx_last_reason(t->ctx) == HD_REASON_NOIOMMU) {
        forceable = true;
        snprintf(hint, sizeof(hint), "--noiommu takes it anyway, UNSAFELY: for DPDK and the "
                 "like, never a VM");
    }
    if (what == NULL) { /* the library's message names the device */
        const char *msg = hd_ctx_last_error(t->ctx);
        return tool_error_hint(t, code, forceable ? hint : NULL, "%s",
                               msg[0] ? msg : strerror(-err));
    }
    return tool_lib_error_hint(t, code, err, forceable ? hint : NULL, "%s", what);
}

/* The driver a later step of @op gives device @d back to (a managed release: its host
 * driver, or the pci-stub it came from, a "detach" off vfio-pci), or NULL while it stays on
 * vfio-pci. */
static const char *later_reattach_to(const struct hd_op *op, size_t i, const char *d)
{
    for (size_t k = i + 1; k < hd_op_get_step_count(op); k++) {
        const char *a = hd_op_step_get_action(op, k), *to = hd_op_step_get_to(op, k);
        if (strcmp(hd_op_step_get_device(op, k), d) == 0 &&
            (strcmp(a, "reattach") == 0 || (strcmp(a, "detach") == 0 && !hd_driver_is_vfio(to))))
            return to;
    }
    return NULL;
}

void tool_op_print_step(const struct hd_op *op, size_t i)
{
    const char *a = hd_op_step_get_action(op, i), *d = hd_op_step_get_device(op, i);
    const char *from = hd_op_step_get_from(op, i), *to = hd_op_step_get_to(op, i);
    bool deferred = strcmp(a, "reset") == 0 && hd_op_step_get_state(op, i) == HD_STEP_DEFERRED;
    /* A deferred reset of a device a later step gives back: no later open resets it. */
    const char *host = deferred ? later_reattach_to(op, i, d) : NULL;
    int group;

    if (strcmp(a, "keep") == 0 && strcmp(to, "none") == 0)
        printf("%s: no driver, and no record of one: left as it is\n", d);
    else if (strcmp(a, "keep") == 0)
        printf("%s: already on %s\n", d, to);
    else if (strcmp(a, "captured") == 0)
        printf("%s: left as it is, driver_override %s: its PF %s is on %s, and the kernel set "
               "that override as the PF made it; it had no host driver to go back to\n",
               d, to, from, to);
    else if (strcmp(a, "captured-unbound") == 0)
        printf("%s: left as it is, without a driver, driver_override %s: its PF %s is on a "
               "vfio-pci variant, and the kernel set that override (the variant's vfio device "
               "name, which no driver has) as the PF made it; it had no host driver to go back "
               "to\n",
               d, to, from);
    else if (strcmp(a, "stay") == 0)
        printf("%s: stays on %s, reserved by %s\n", d, to, from);
    else if (strcmp(a, "reattach") == 0 && strcmp(from, to) == 0)
        printf("%s: stays on %s, the driver it had before\n", d, to);
    else if (strcmp(a, "detach") == 0 && hd_op_step_get_noiommu(op, i, &group) && group >= 0)
        printf("%s: %s -> %s, unsafe no-IOMMU mode: /dev/vfio/noiommu-%d (no DMA isolation)\n",
               d, from, to, group);
    else if (strcmp(a, "detach") == 0 && hd_op_step_get_noiommu(op, i, NULL))
        printf("%s: %s -> %s, unsafe no-IOMMU mode: /dev/vfio/noiommu-N (no DMA isolation)\n",
               d, from, to);
    else if (strcmp(a, "detach") == 0 || strcmp(a, "reattach") == 0)
        printf("%s: %s -> %s\n", d, from, to);
    else if (host != NULL)
        printf("%s: not reset now: no method works from here (tried: %s); it goes to %s as the "
               "VM left it (vfio-pci tries a bus reset when the VM closes every function on the "
               "bus)\n", d, to[0] ? to : "unknown",
               host[0] && strcmp(host, "none") != 0 ? host : "no driver");
    else if (deferred)
        printf("%s: not reset now: no method works from here (tried: %s); vfio-pci resets it "
               "when it is opened\n", d, to[0] ? to : "unknown");
    else if (strcmp(a, "reset") == 0 && hd_op_step_get_state(op, i) == HD_STEP_FAILED)
        printf("%s: not reset: no method works (tried: %s); given back all the same\n", d,
               to[0] ? to : "unknown");
    else if (strcmp(a, "reset") == 0)
        printf("%s: reset (the kernel tries, in order: %s)\n", d, to[0] ? to : "unknown");
    else if (strcmp(a, "numvfs") == 0)
        printf("%s: %s -> %s virtual functions\n", d, from, to);
    else if (strcmp(a, "autoprobe") == 0)
        printf("%s: sriov_drivers_autoprobe %s -> %s\n", d, from, to);
    else if (strcmp(a, "own") == 0)
        printf("%s: owner %s -> %s\n", d, from[0] ? from : "?", to);
    else if (strcmp(a, "undo") == 0 && hd_op_step_get_state(op, i) == HD_STEP_FAILED)
        printf("%s: not undone, kept for the next try (%s, %s)\n", d, from, to);
    else if (strcmp(a, "undo") == 0 || strcmp(a, "finish") == 0)
        printf("%s: %s (%s, %s)\n", d, a[0] == 'u' ? "undone" : "finished: it had committed",
               from, to);
    else if (strcmp(a, "busy") == 0)
        printf("%s: left alone: its process, or an unbind it left hanging in the kernel, still "
               "runs (its writer undoes it when the kernel returns)%s%s%s%s%s\n", d,
               from[0] ? " (" : "", from, from[0] ? ", " : "", to, from[0] ? ")" : "");
    else if (strcmp(a, "damaged") == 0 && strcmp(d, "damaged/") == 0)
        printf("%s: %s intent log%s set aside before, for a person to check\n", d, to,
               strcmp(to, "1") == 0 ? "" : "s");
    else if (strcmp(a, "damaged") == 0 || strcmp(a, "drop") == 0)
        printf("%s: %s\n", d, a[0] == 'd' && a[1] == 'a' ? "unreadable: set aside" : "dropped");
    else if (strcmp(a, "map-aside") == 0)
        printf("%s: damaged (%s): %s%s%srebuilt from what the devices show\n", d, from,
               to[0] ? "set aside as " : "", to, to[0] ? ", " : "");
    else if (strcmp(a, "map-keep") == 0)
        printf("%s: kept for vm %s (the kernel confirms it)\n", d, from);
    else if (strcmp(a, "map-drop") == 0 && from[0])
        printf("%s: the record of vm %s dropped: %s\n", d, from, to);
    else if (strcmp(a, "map-drop") == 0)
        printf("'%s': dropped: %s\n", d, to);
    else if (strcmp(a, "record") == 0)
        printf("%s: assigned to vm %s\n", d, to);
    else if (strcmp(a, "already") == 0 && hd_op_get_kind(op) == HD_OP_MDEV_CREATE)
        printf("%s: already there (type %s of %s), as asked: nothing to do\n", d, to, from);
    else if (strcmp(a, "already") == 0 && hd_op_get_kind(op) == HD_OP_MDEV_REMOVE)
        printf("%s: not there: nothing to do\n", d);
    else if (strcmp(a, "already") == 0 && hd_op_get_kind(op) == HD_OP_RELEASE && from[0])
        printf("%s: not assigned to vm %s (nor any other): nothing to do\n", d, from);
    else if (strcmp(a, "already") == 0 && hd_op_get_kind(op) == HD_OP_RELEASE) /* --force's */
        printf("%s: no VM holds it%s%s%s: nothing to do\n", d,
               strcmp(to, "none") == 0 ? " and it has no driver" : to[0] ? " and it is on " : "",
               strcmp(to, "none") == 0 ? "" : to,
               to[0] && strcmp(to, "none") != 0 ? ", not detached" : "");
    else if (strcmp(a, "already") == 0)
        printf("%s: already assigned to vm %s, as asked: nothing to do\n", d, to);
    else if (strcmp(a, "follow") == 0)
        printf("%s: its new node goes to vm %s\n", d, to);
    else if (strcmp(a, "unrecord") == 0)
        printf("%s: released from vm %s\n", d, from);
    else if (strcmp(a, "mdev-create") == 0 || strcmp(a, "mdev-remove") == 0)
        printf("%s: %s (type %s of %s)\n", d, a[5] == 'c' ? "created" : "removed", to, from);
    else
        printf("%s: %s %s -> %s\n", d, a, from, to);
}

static const char *const state_names[] = {
    [HD_STEP_PLANNED] = "planned", [HD_STEP_DONE] = "done", [HD_STEP_UNDONE] = "undone",
    [HD_STEP_DEFERRED] = "deferred", [HD_STEP_FAILED] = "failed", [HD_STEP_NOT_RUN] = "not-run",
    [HD_STEP_NOT_UNDONE] = "not-undone"};

void tool_op_json_steps(struct tool *t, struct json *j, const struct hd_op *op)
{
    (void)t;
    json_key(j, "steps");
    json_begin_array(j);
    tool_op_json_step_objects(j, op);
    json_end_array(j);
}

void tool_op_json_step_objects(struct json *j, const struct hd_op *op)
{
    for (size_t i = 0; i < hd_op_get_step_count(op); i++) {
        json_begin_object(j);
        json_kv_string(j, "action", hd_op_step_get_action(op, i));
        json_kv_string(j, "device", hd_op_step_get_device(op, i));
        json_kv_string(j, "from", hd_op_step_get_from(op, i));
        json_kv_string(j, "to", hd_op_step_get_to(op, i));
        if (strcmp(hd_op_step_get_action(op, i), "reset") == 0)
            json_kv_words(j, "methods", hd_op_step_get_to(op, i));
        json_kv_string(j, "state", state_names[hd_op_step_get_state(op, i)]);
        int group;
        if (hd_op_step_get_noiommu(op, i, &group)) {
            char node[48];
            /* No DMA isolation; a plan knows no number yet (the bind makes the group). */
            snprintf(node, sizeof(node), "/dev/vfio/noiommu-%d", group);
            json_kv_bool(j, "noiommu", true);
            json_kv_string(j, "noiommu_node", group >= 0 ? node : NULL);
        }
        json_end_object(j);
    }
}

void tool_op_json_begin(struct json *j, const char *operation, bool dry_run)
{
    json_init(j, stdout, 2);
    json_begin_object(j);
    json_kv_string(j, "operation", operation);
    json_kv_bool(j, "dry_run", dry_run);
}

/* The blockers of @g that are still in the way (@skip says which are not: NULL, none), into
 * @v (room for all); how many. */
static size_t still_blocking(struct hd_group *g, tool_not_blocker_fn *skip, const void *data,
                             struct hd_device **v)
{
    size_t n = 0;

    for (size_t k = 0; k < hd_group_get_blocker_count(g); k++) {
        struct hd_device *b = hd_group_get_blocker(g, k);
        if (skip == NULL || !skip(data, b))
            v[n++] = b;
    }
    return n;
}

/* Whether group @i of @ops[@o] is told by an operation before it (@ops[0..@o]): each group
 * once, as the first operation that found it not viable says it. */
static bool told_before(const struct hd_op *const *ops, size_t o, size_t i)
{
    int number = hd_group_get_number(hd_op_unviable_get_group(ops[o], i));

    for (size_t p = 0; p < o; p++)
        for (size_t k = 0; k < hd_op_get_unviable_count(ops[p]); k++)
            if (hd_group_get_number(hd_op_unviable_get_group(ops[p], k)) == number)
                return true;
    return false;
}

/* Each group the operations @ops found not viable, once, with the members still in its way
 * (those @skip does not rule out): @fn(@arg, its operation, the group's index there, the
 * group, the members, how many). */
typedef void unviable_fn(void *arg, const struct hd_op *op, size_t i, struct hd_group *g,
                         struct hd_device *const *v, size_t n);
static void each_unviable(const struct hd_op *const *ops, size_t nops, tool_not_blocker_fn *skip,
                          const void *data, unviable_fn *fn, void *arg)
{
    for (size_t o = 0; o < nops; o++) {
        for (size_t i = 0; i < hd_op_get_unviable_count(ops[o]); i++) {
            struct hd_group *g = hd_op_unviable_get_group(ops[o], i);
            struct hd_device **v = calloc(hd_group_get_blocker_count(g) + 1, sizeof(*v));
            size_t n = v != NULL ? still_blocking(g, skip, data, v) : 0;
            if (n > 0 && !told_before(ops, o, i))
                fn(arg, ops[o], i, g, v, n);
            free(v);
        }
    }
}

static void json_unviable_group(void *arg, const struct hd_op *op, size_t i, struct hd_group *g,
                                struct hd_device *const *v, size_t n)
{
    struct json *j = arg;

    json_begin_object(j);
    json_kv_int(j, "group", hd_group_get_number(g));
    json_kv_string(j, "device", hd_op_unviable_get_device(op, i));
    json_key(j, "blockers");
    json_begin_array(j);
    for (size_t k = 0; k < n; k++) {
        json_begin_object(j);
        json_kv_string(j, "device", hd_device_get_name(v[k]));
        json_kv_string(j, "driver", hd_device_get_driver(v[k]));
        json_kv_string(j, "host_keeps", hd_device_get_platform_role(v[k]));
        json_end_object(j);
    }
    json_end_array(j);
    json_end_object(j);
}

void tool_ops_json_unviable(struct json *j, const struct hd_op *const *ops, size_t nops,
                            tool_not_blocker_fn *skip, const void *data)
{
    json_key(j, "unviable");
    json_begin_array(j);
    each_unviable(ops, nops, skip, data, json_unviable_group, j);
    json_end_array(j);
}

/* One group's note: @v (@n), the members in the way of @name's group @g. */
static void print_unviable_group(const struct tool *t, const char *operation, const char *name,
                                 struct hd_group *g, struct hd_device *const *v, size_t n)
{
    bool persist = strcmp(operation, "persist") == 0;

    fprintf(stderr, "%s %s: note: IOMMU group %d is not viable yet, a VM cannot use %s:",
            t->prog, operation, hd_group_get_number(g), name);
    for (size_t k = 0; k < n; k++)
        fprintf(stderr, "%s %s is bound to %s", k ? "," : "", hd_device_get_name(v[k]),
                hd_device_get_driver(v[k]));
    /* A member the host keeps makes detach --group refuse: say so rather than send the
     * user to a command that fails, and (as doctor) offer no force that takes part of the
     * platform. */
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        const char *role = hd_device_get_platform_role(v[k]);
        if (role == NULL)
            continue;
        fprintf(stderr, "%s %s is %s the host keeps", kept++ ? "," : ". But",
                hd_device_get_name(v[k]), role);
    }
    if (kept > 0)
        fprintf(stderr, ": no VM can have this group on this host as it is ('%s doctor %s' "
                        "says what can).\n", t->prog, name);
    else if (persist) /* no boot takes what no entry names */
        fprintf(stderr, ". Persist %s too, or every boot leaves the group so.\n",
                n > 1 ? "them" : "it");
    else
        fprintf(stderr, ". Detach %s too, or all at once with '%s detach --group %s'.\n",
                n > 1 ? "them" : "it", t->prog, name);
}

struct print_unviable {
    const struct tool *t;
    const char *operation;
};

static void print_unviable_of(void *arg, const struct hd_op *op, size_t i, struct hd_group *g,
                              struct hd_device *const *v, size_t n)
{
    const struct print_unviable *p = arg;

    print_unviable_group(p->t, p->operation, hd_op_unviable_get_device(op, i), g, v, n);
}

void tool_ops_print_unviable(const struct tool *t, const struct hd_op *const *ops, size_t nops,
                             const char *operation, tool_not_blocker_fn *skip, const void *data)
{
    struct print_unviable p = {t, operation};

    each_unviable(ops, nops, skip, data, print_unviable_of, &p);
}

/* The way to end a reservation that takes a given-back device again: unpersist for a persisted
 * one, the boot loader's configuration for the kernel command line's, else the admin's line. */
static void reservation_hint(const struct tool *t, const struct hd_reserve_entry *e, char *buf,
                             size_t size)
{
    char sel[HD_PCI_ADDR_BUFSZ];

    reserve_selector_name(&e->sel, sel, sizeof(sel));
    if (hd_reserve_entry_is_persisted(e))
        snprintf(buf, size, "'%s unpersist %s' ends that", t->prog, sel);
    else if (hd_reserve_entry_is_cmdline(e))
        snprintf(buf, size, "removing %s from hostdev.reserve= in the boot loader's configuration "
                 "ends that", sel);
    else
        snprintf(buf, size, "removing that line ends that");
}

/* "still_reserved": the devices given back that a reservation takes again at the next boot or
 * add event, each with the library's note. */
static void json_still_reserved(struct json *j, const struct hd_op *op)
{
    json_key(j, "still_reserved");
    json_begin_array(j);
    for (size_t i = 0; i < hd_op_get_note_count(op); i++) {
        const struct hd_reserve_entry *e = hd_op_note_get_reservation(op, i);
        json_begin_object(j);
        json_kv_string(j, "device", hd_op_note_get_device(op, i));
        json_kv_string(j, "driver", e->driver);
        json_kv_string(j, "file", e->file);
        json_kv_int_or_null(j, "line", e->line, e->line > 0);
        json_kv_bool(j, "persisted", hd_reserve_entry_is_persisted(e));
        json_kv_string(j, "note", hd_op_note_get_message(op, i));
        json_end_object(j);
    }
    json_end_array(j);
}

static void print_still_reserved(const struct tool *t, const struct hd_op *op,
                                 const char *operation)
{
    for (size_t i = 0; i < hd_op_get_note_count(op); i++) {
        char hint[128];
        reservation_hint(t, hd_op_note_get_reservation(op, i), hint, sizeof(hint));
        fprintf(stderr, "%s %s: note: %s (%s)\n", t->prog, operation,
                hd_op_note_get_message(op, i), hint);
    }
}

void tool_op_print_steps(const struct hd_op *op, const char *indent)
{
    for (size_t i = 0; i < hd_op_get_step_count(op); i++) {
        /* An override cleared on the way back is part of the move it precedes. */
        if (strcmp(hd_op_step_get_action(op, i), "override") == 0)
            continue;
        fputs(indent, stdout);
        tool_op_print_step(op, i);
    }
}

char *tool_op_step_noiommu_warning(const struct hd_op *op, size_t i)
{
    char *warning = NULL;
    int group;

    /* A plan knows no node yet: the bind makes the group. */
    if (!hd_op_step_get_noiommu(op, i, &group) || group < 0 ||
        asprintf(&warning, "%s: on vfio in its unsafe no-IOMMU mode: /dev/vfio/noiommu-%d "
                 "has no DMA isolation (the device can reach all of memory)",
                 hd_op_step_get_device(op, i), group) < 0)
        return NULL;
    return warning;
}

/* "warnings": the caller's notes, and what the text run's log warns of a device that went to
 * vfio in its unsafe no-IOMMU mode (under --json the log is silent). */
static void json_warnings(struct json *j, const struct hd_op *op, const char *const *notes,
                          size_t nnotes)
{
    size_t n = hd_op_get_step_count(op), k = 0;
    char **all = calloc(nnotes + n + 1, sizeof(*all));

    for (size_t i = 0; all != NULL && i < nnotes; i++)
        all[k++] = strdup(notes[i]);
    for (size_t i = 0; all != NULL && i < n; i++)
        if ((all[k] = tool_op_step_noiommu_warning(op, i)) != NULL)
            k++;
    if (k > 0)
        json_kv_strings(j, "warnings", (const char *const *)all, k);
    for (size_t i = 0; all != NULL && i < k; i++)
        free(all[i]);
    free(all);
}

static void op_print(struct tool *t, const struct hd_op *op, const char *operation, bool dry_run,
                     const char *const *notes, size_t nnotes)
{
    bool detach = strcmp(operation, "detach") == 0;
    bool gives_back = strcmp(operation, "reattach") == 0 || strcmp(operation, "release") == 0;

    if (tool_json(t)) {
        struct json j;
        tool_op_json_begin(&j, operation, dry_run);
        tool_op_json_steps(t, &j, op);
        if (detach)
            tool_ops_json_unviable(&j, &op, 1, NULL, NULL);
        if (gives_back)
            json_still_reserved(&j, op);
        json_warnings(&j, op, notes, nnotes);
        json_end_object(&j);
        json_finish(&j);
        return;
    }
    /* A plan with no step says so, as the run's "0 ... dealt with" does: not a heading over
     * nothing. */
    if (dry_run && hd_op_get_step_count(op) == 0)
        printf("dry run: nothing changed; %s would do nothing\n", operation);
    else if (dry_run)
        printf("dry run: nothing changed; %s would do:\n", operation);
    tool_op_print_steps(op, dry_run ? "  " : "");
    if (detach)
        tool_ops_print_unviable(t, &op, 1, operation, NULL, NULL);
    print_still_reserved(t, op, operation);
}

void tool_op_print(struct tool *t, const struct hd_op *op, const char *operation, bool dry_run)
{
    op_print(t, op, operation, dry_run, NULL, 0);
}

bool tool_op_wrote(const struct hd_op *op)
{
    for (size_t i = 0; i < hd_op_get_step_count(op); i++) {
        if (hd_op_step_get_state(op, i) != HD_STEP_PLANNED)
            return true;
    }
    return false;
}

/* Under --json a failure that wrote shows its steps as they ended (undone, failed, not-run,
 * not-undone) beside the error; one refused or bad before any write has none to show. */
static int op_failed(struct tool *t, const struct hd_op *op, int err, const char *operation,
                     const char *force_option, const char *what, const char *const *notes,
                     size_t nnotes)
{
    if (tool_json(t) && tool_op_wrote(op))
        op_print(t, op, operation, t->dry_run, notes, nnotes);
    return tool_op_error(t, err, force_option, what);
}

int tool_op_failed(struct tool *t, const struct hd_op *op, int err, const char *operation,
                   const char *force_option, const char *what)
{
    return op_failed(t, op, err, operation, force_option, what, NULL, 0);
}

int tool_run_op(struct tool *t, struct hd_op *op, const char *operation, const char *force_option,
                const char *what)
{
    return tool_run_op_noted(t, op, operation, force_option, what, NULL, 0);
}

int tool_run_op_noted(struct tool *t, struct hd_op *op, const char *operation,
                      const char *force_option, const char *what, const char *const *notes,
                      size_t nnotes)
{
    int r;

    hd_ctx_clear_error(t->ctx);
    r = hd_op_run(op);
    if (r < 0)
        return op_failed(t, op, r, operation, force_option, what, notes, nnotes);
    op_print(t, op, operation, t->dry_run, notes, nnotes);
    for (size_t i = 0; i < nnotes && !tool_json(t); i++)
        fprintf(stderr, "%s %s: note: %s\n", t->prog, operation, notes[i]);
    return EXIT_DONE;
}

int tool_run_device_op(struct tool *t, int argc, char **argv, enum hd_op_kind kind,
                       const struct tool_command *cmd, bool group)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"group", no_argument, NULL, 'g'},
                                         {NULL, 0, NULL, 0}};
    unsigned int flags = 0;
    struct hd_op *op;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = tool_getopt(argc, argv, group ? "fg" : "f", opts)) != -1) {
        if (c == 'f') {
            flags |= HD_OP_FORCE;
        } else if (c == 'n') {
            t->dry_run = true;
        } else if (c == 'g' && group) {
            flags |= HD_OP_GROUP;
        } else {
            tool_usage(cmd, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if ((r = tool_op_new(t, kind, flags, &op)) != EXIT_DONE)
        return r;
    if ((r = tool_op_add_args(t, op, argc - optind, argv + optind, true, true)) == EXIT_DONE)
        r = tool_run_op(t, op, cmd->name, flags & HD_OP_FORCE ? NULL : "--force", NULL);
    hd_op_unref(op);
    return r;
}

int tool_op_new(struct tool *t, enum hd_op_kind kind, unsigned int flags, struct hd_op **op)
{
    int r = hd_op_new(t->ctx, kind, op);

    if (r < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "starting the operation");
    hd_op_set_flags(*op, flags | (t->dry_run ? (unsigned)HD_OP_DRY_RUN : 0));
    return EXIT_DONE;
}

int tool_op_add_args(struct tool *t, struct hd_op *op, int argc, char **argv, bool managed,
                     bool mode_asked)
{
    for (int i = 0; i < argc; i++) {
        struct hd_pci_addr addr;
        char uuid[37];
        int r;
        /* A mediated device, by UUID or libvirt's mdev_ name (never a PCI address's form);
         * a USB or SCSI device by its node-device name or usb:VVVV:PPPP[:SERIAL]. */
        if (hd_mdev_uuid_parse(argv[i], uuid) == 0 || strncmp(argv[i], "usb", 3) == 0 ||
            strncmp(argv[i], "scsi_", 5) == 0) {
            r = hd_mdev_uuid_parse(argv[i], uuid) == 0 ? hd_op_add_mdev(op, uuid)
                                                      : hd_op_add_node_device(op, argv[i]);
            if (r < 0)
                return tool_lib_error(t, tool_exit_for(t), r, "%s", argv[i]);
            continue;
        }
        if (tool_parse_addr(t, argv[i], &addr) < 0)
            return EXIT_USAGE;
        r = mode_asked ? hd_op_add_device(op, &addr, managed) : hd_op_add_device_default(op, &addr);
        if (r < 0)
            return tool_lib_error(t, tool_exit_for(t), r, "%s", argv[i]);
    }
    if (argc == 0)
        return tool_error(t, EXIT_USAGE, "no device given");
    return EXIT_DONE;
}
