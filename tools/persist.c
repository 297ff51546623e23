/* persist.c - `hostdev persist`, `unpersist`, `persisted`: reservations that survive reboots
 * (driverctl's set-override / unset-override / list-persisted, done with verification). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"
#include "reserve.h"

/* An address, ids, or (as detach takes it) a network interface's name, which is kept as its
 * device's address: the interface is gone once the device is reserved. */
static int parse_selector(struct tool *t, const char *arg, struct hd_pci_selector *sel)
{
    if (hd_pci_selector_parse(arg, sel) == 0)
        return EXIT_DONE;
    memset(sel, 0, sizeof(*sel));
    sel->kind = HD_SELECTOR_ADDR;
    if (tool_netif_addr(t, arg, &sel->addr) == 0)
        return EXIT_DONE;
    return tool_error(t, EXIT_USAGE,
                      "invalid device '%s' (expected an address DDDD:BB:SS.F, ids VVVV:DDDD or "
                      "a network interface's name)%s",
                      arg, tool_netif_gone_hint(arg));
}

/* A dry run's heading comes before its first planned line, and not before a refusal. */
struct plan_lines {
    struct tool *t;
    const char *heading; /* NULL: none, or said already */
    bool ran; /* the run (not the plan before it, which tells only refusals) told an item */
    bool no_apply; /* the file alone: its items are the boot's warnings, nothing done now */
};

static void say_heading(struct plan_lines *p)
{
    if (p->heading != NULL)
        printf("%s\n", p->heading);
    p->heading = NULL;
}

/* An hd_reserve_fn: a refusal as soon as it is known, and a dry run's plan line by line. A
 * run's lines wait for its result: a VF count the run set, and the VFs it made, are taken
 * back when what follows fails, and leave the result (print_done()). */
static void print_planned(void *data, const struct hd_reserve_result *res, size_t i)
{
    struct plan_lines *p = data;

    if (p->no_apply && hd_reserve_result_get_outcome(res, i) != HD_RESERVE_FAILED) {
        say_heading(p);
        if (!tool_json(p->t) && hd_reserve_result_get_warning(res, i) != NULL)
            tool_warning(p->t, hd_reserve_result_get_warning(res, i));
        return;
    }
    if (hd_reserve_result_get_outcome(res, i) != HD_RESERVE_FAILED) {
        p->ran = !p->t->dry_run;
        if (p->ran)
            return;
        say_heading(p);
    }
    reserve_print_item(p->t, res, i);
}

/* What a run did, as its result has it once it is over (its failures are said already); a
 * refusal in the plan before it leaves that plan as the result: nothing was done. */
static void print_done(const struct plan_lines *p, const struct hd_reserve_result *res)
{
    for (size_t i = 0; p->ran && i < hd_reserve_result_count(res); i++)
        if (hd_reserve_result_get_outcome(res, i) != HD_RESERVE_FAILED)
            reserve_print_item(p->t, res, i);
}

/* A boot image made with hostdev's hook holds etc/hostdev.d as it was then, and its boot
 * reserves from that copy before the root file system's files are read: the change reaches it
 * only when the image is made again. The note that says so (@removed: unpersist's), or NULL
 * when no image carries the files. */
static char *boot_image_note(const struct tool *t, bool removed)
{
    unsigned int images = hd_reserve_boot_images(t->ctx);
    const char *remake = images == (HD_BOOT_IMAGE_INITRAMFS_TOOLS | HD_BOOT_IMAGE_DRACUT)
                             ? "'update-initramfs -u' or 'dracut -f'"
                         : images == HD_BOOT_IMAGE_DRACUT ? "'dracut -f'"
                                                          : "'update-initramfs -u'";
    char *note = NULL;

    if (images == 0)
        return NULL;
    if (asprintf(&note, "the initramfs holds etc/hostdev.d as it was when it was made: until %s "
                 "makes it again, its boot %s", remake,
                 removed ? "still reserves what this file reserved"
                         : "does not reserve this before host drivers load (the root file "
                           "system's boot does, later)") < 0)
        return NULL;
    return note;
}

/* The note on stderr from @command, or under --json the document's "warnings" (@j), after
 * those of @res's items (said as text with their items) and of the devices it put on vfio
 * with no IOMMU (which the text run's log says). */
static void say_boot_image_note(const struct tool *t, const char *command, struct json *j,
                                const struct hd_reserve_result *res, const char *note)
{
    bool any = note != NULL || reserve_json_noiommu_warnings(NULL, res, NULL) > 0;

    if (j == NULL) {
        if (note != NULL)
            fprintf(stderr, "%s %s: note: %s\n", t->prog, command, note);
        return;
    }
    for (size_t i = 0; i < hd_reserve_result_count(res); i++)
        any = any || hd_reserve_result_get_warning(res, i) != NULL;
    if (!any)
        return;
    json_key(j, "warnings");
    json_begin_array(j);
    for (size_t i = 0; i < hd_reserve_result_count(res); i++)
        if (hd_reserve_result_get_warning(res, i) != NULL)
            json_string(j, hd_reserve_result_get_warning(res, i));
    reserve_json_noiommu_warnings(j, res, NULL);
    if (note != NULL)
        json_string(j, note);
    json_end_array(j);
}

/* Whether @res has an item of a device @e selects. */
static bool selects_any(const struct hd_reserve_result *res, const struct hd_reserve_entry *e)
{
    for (size_t i = 0; i < hd_reserve_result_count(res); i++)
        if (hd_pci_selector_match(&e->sel, hd_reserve_result_get_device(res, i)))
            return true;
    return false;
}

/* The operations that reserved the entries' devices (one an entry), into @ops (room for every
 * item); how many. */
static size_t reserving_ops(const struct hd_reserve_result *res, const struct hd_op **ops)
{
    size_t n = 0;

    for (size_t i = 0; i < hd_reserve_result_count(res); i++)
        if (hd_reserve_result_get_action(res, i) == HD_RESERVE_BIND &&
            hd_reserve_result_get_op(res, i) != NULL)
            ops[n++] = hd_reserve_result_get_op(res, i);
    return n;
}

/* A tool_not_blocker_fn: a member an entry's operation found in its group's way that another
 * entry reserves (@data, the result) is not; that entry's operation says what its group is. */
static bool reserved_by_another(const void *data, struct hd_device *dev)
{
    const struct hd_reserve_result *res = data;

    for (size_t i = 0; i < hd_reserve_result_count(res); i++)
        if (hd_reserve_result_get_action(res, i) == HD_RESERVE_BIND &&
            hd_reserve_result_get_outcome(res, i) == HD_RESERVE_DONE &&
            hd_pci_addr_equal(hd_device_get_addr(hd_reserve_result_get_device(res, i)),
                              hd_device_get_addr(dev)))
            return true;
    return false;
}

static const struct option persist_opts[] = {{"driver", required_argument, NULL, 'd'},
                                             {"numvfs", required_argument, NULL, 'n'},
                                             {"no-apply", no_argument, NULL, 'N'},
                                             {"dry-run", no_argument, NULL, 'D'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"noiommu", no_argument, NULL, 'U'},
                                             {NULL, 0, NULL, 0}};

/* The @n entries' lines, "A vfio-pci, B vfio-pci", as a plan's heading names them. */
static char *join_lines(char *const *lines, size_t n)
{
    size_t len = 1;
    char *all;

    for (size_t i = 0; i < n; i++)
        len += (lines[i] ? strlen(lines[i]) : 0) + 2;
    if ((all = malloc(len)) == NULL)
        return NULL;
    all[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (lines[i] == NULL) /* make_entries() leaves none on success */
            continue;
        if (all[0] != '\0')
            strcat(all, ", ");
        strcat(all, lines[i]);
    }
    return all;
}

/* The devices are an entry each, with the driver given (checked already) or the one a detach
 * would choose, into @entries (@chosen: room for their names) and their lines (@lines). */
static int make_entries(struct tool *t, char **args, size_t n, const char *driver, int numvfs,
                        bool noiommu, struct hd_reserve_entry *entries, char (*chosen)[64],
                        char **lines)
{
    int code;

    for (size_t i = 0; i < n; i++) {
        entries[i] = (struct hd_reserve_entry){.driver = driver, .numvfs = numvfs,
                                               .file = "persist", .noiommu = noiommu};
        if ((code = parse_selector(t, args[i], &entries[i].sel)) != EXIT_DONE)
            return code;
    }
    if (numvfs >= 0 && n > 1)
        return tool_error(t, EXIT_USAGE, "--numvfs counts the VFs of one PF: give its address "
                          "alone");
    if (numvfs >= 0 && entries[0].sel.kind != HD_SELECTOR_ADDR)
        return tool_error(t, EXIT_USAGE, "--numvfs needs the address of one SR-IOV device");
    for (size_t i = 0; i < n; i++) {
        if (driver == NULL && numvfs < 0) {
            hd_reserve_entry_choose_driver(t->ctx, &entries[i], chosen[i], sizeof(chosen[i]));
            entries[i].driver = chosen[i];
        }
        if (noiommu && (entries[i].driver == NULL || !hd_driver_is_vfio(entries[i].driver)))
            return tool_error(t, EXIT_USAGE, "--noiommu is for vfio-pci or a vfio-pci variant%s",
                              entries[i].driver == NULL ? " (--numvfs alone binds nothing)"
                                                        : "");
        if (hd_reserve_entry_format(&entries[i], &lines[i]) < 0 || lines[i] == NULL)
            return tool_error(t, EXIT_FAILED, "out of memory");
    }
    return EXIT_DONE;
}

static int run_persist(struct tool *t, int argc, char **argv)
{
    const char *driver = NULL;
    int numvfs_count = -1;
    bool no_apply = false, noiommu = false;
    const char *numvfs = NULL; /* as typed: given twice, the two are named */
    int c, code, r;

    optind = 0;
    while ((c = tool_getopt(argc, argv, cmd_persist.shortopts, cmd_persist.opts)) != -1) {
        switch (c) {
        case 'd':
            if (!hd_driver_is_vfio(optarg) && strcmp(optarg, "pci-stub") != 0)
                return tool_error(t, EXIT_USAGE, "--driver '%s': use vfio-pci, a vfio-pci "
                                  "variant (mlx5_vfio_pci, ...) or pci-stub", optarg);
            if ((code = tool_take_once(t, "--driver", &driver, optarg)) != EXIT_DONE)
                return code;
            break;
        case 'n': {
            char *end;
            long n;
            if ((code = tool_take_once(t, "--numvfs", &numvfs, optarg)) != EXIT_DONE)
                return code;
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || n < 0 || n > 65535)
                return tool_error(t, EXIT_USAGE, "invalid --numvfs '%s' (a count)", optarg);
            numvfs_count = (int)n;
            break;
        }
        case 'N':
            no_apply = true;
            break;
        case 'f':
            t->force = true;
            break;
        case 'D':
            t->dry_run = true;
            break;
        case 'U':
            noiommu = true;
            break;
        default:
            tool_usage(&cmd_persist, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (argc - optind < 1)
        return tool_error(t, EXIT_USAGE, "give a device (an address or VVVV:DDDD), or several");
    size_t n = (size_t)(argc - optind);
    char **args = argv + optind;
    struct hd_reserve_entry *entries = calloc(n, sizeof(*entries));
    char(*chosen)[64] = calloc(n, sizeof(*chosen));
    char **lines = calloc(n, sizeof(*lines)), *all = NULL;
    if (entries == NULL || chosen == NULL || lines == NULL) {
        free(entries);
        free(chosen);
        free(lines);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    code = make_entries(t, args, n, driver, numvfs_count, noiommu, entries, chosen, lines);
    if (code == EXIT_DONE && (all = join_lines(lines, n)) == NULL)
        code = tool_error(t, EXIT_FAILED, "out of memory");
    if (code != EXIT_DONE)
        goto out;
    /* A plan is headed by what it plans, as every dry run's is. */
    char *heading = NULL;
    if (t->dry_run && !tool_json(t) &&
        asprintf(&heading, "dry run: nothing changed; would persist %s%s", all,
                 no_apply ? "" : " and do:") < 0)
        heading = NULL;
    struct plan_lines p = {t, heading, false, no_apply};
    struct hd_reserve_result *res = NULL;
    size_t failed = n;
    hd_ctx_clear_error(t->ctx);
    r = hd_reserve_persist_apply_all(t->ctx, entries, n,
                                     reserve_apply_flags(t) |
                                         (no_apply ? HD_RESERVE_NO_APPLY : 0),
                                     print_planned, &p, &failed, &res);
    /* The device the library says it failed on is the argument named. */
    code = r < 0 ? tool_lib_error_hint(t, tool_exit_for_reason(hd_ctx_last_reason(t->ctx)), r,
                                       hd_ctx_last_reason(t->ctx) == HD_REASON_NO_DEVICE
                                           ? "--no-apply persists it all the same" : NULL,
                                       "%s", args[failed < n ? failed : 0])
                 : reserve_result_exit(res);
    print_done(&p, res);
    if (code == EXIT_DONE) {
        say_heading(&p);
        for (size_t i = 0; !no_apply && !tool_json(t) && i < n; i++)
            if (entries[i].sel.kind == HD_SELECTOR_IDS && !selects_any(res, &entries[i]))
                printf("%04x:%04x: no such device now; reserved when one appears\n",
                       entries[i].sel.vendor, entries[i].sel.device);
    }
    free(heading);
    if (code != EXIT_DONE) {
        code = reserve_failed(t, "persist", res, code);
        hd_reserve_result_unref(res);
        goto out;
    }
    char *note = boot_image_note(t, false);
    const struct hd_op **ops = calloc(hd_reserve_result_count(res) + 1, sizeof(*ops));
    size_t nops = ops != NULL ? reserving_ops(res, ops) : 0;
    if (tool_json(t)) {
        /* One document: what was (or would be) written, and the steps that applied it. */
        struct json j;
        tool_op_json_begin(&j, "persist", t->dry_run);
        json_kv_string(&j, "persisted", lines[0]); /* one device's readers' key */
        json_kv_strings(&j, "entries", (const char *const *)lines, n);
        reserve_json_steps(&j, res);
        reserve_json_vfs(&j, res);
        if (nops > 0)
            tool_ops_json_unviable(&j, ops, nops, reserved_by_another, res);
        say_boot_image_note(t, "persist", &j, res, note);
        json_end_object(&j);
        json_finish(&j);
    } else {
        for (size_t i = 0; !t->dry_run && i < n; i++)
            printf("persisted: %s\n", lines[i]);
        /* The boot reserves what the entry names, no more: a group member it leaves with the
         * host keeps the group from every VM, boot after boot. */
        tool_ops_print_unviable(t, ops, nops, "persist", reserved_by_another, res);
        say_boot_image_note(t, "persist", NULL, res, note);
    }
    free(ops);
    free(note);
    hd_reserve_result_unref(res);
out:
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(all);
    free(chosen);
    free(entries);
    return code;
}

/* What giving back did to item @i (or, under --dry-run, would do), as text. */
static void print_give_back(struct tool *t, const struct hd_reserve_result *res, size_t i)
{
    const struct hd_reserve_entry *still = hd_reserve_result_get_entry(res, i);

    if (hd_reserve_result_get_outcome(res, i) == HD_RESERVE_FAILED)
        return; /* said by print_refusal() */
    if (hd_reserve_result_get_action(res, i) == HD_RESERVE_NUMVFS) {
        const char *pf = hd_device_get_name(hd_reserve_result_get_device(res, i));
        int n = hd_device_get_sriov_numvfs(hd_reserve_result_get_device(res, i));
        if (n > 0)
            printf("%s%s: its %d virtual functions stay: unpersist does not undo a VF count "
                   "(`%s sriov %s 0` removes them)\n",
                   t->dry_run ? "  " : "", pf, n, t->prog, pf);
        else
            printf("%s%s: its VF count stays %d: unpersist does not undo a VF count\n",
                   t->dry_run ? "  " : "", pf, n);
        return;
    }
    if (hd_reserve_result_get_outcome(res, i) == HD_RESERVE_UNCHANGED) {
        struct hd_device *dev = hd_reserve_result_get_device(res, i);
        printf("%s%s: stays on %s: no record of a driver it had before\n",
               t->dry_run ? "  " : "", hd_device_get_name(dev), hd_device_get_driver(dev));
    } else if (still != NULL)
        printf("%s%s: still reserved for %s by %s%s%.0u\n", t->dry_run ? "  " : "",
               hd_device_get_name(hd_reserve_result_get_device(res, i)), still->driver,
               still->file, still->line ? ":" : "", still->line);
    else if (hd_reserve_result_get_op(res, i) != NULL)
        tool_op_print_steps(hd_reserve_result_get_op(res, i), t->dry_run ? "  " : "");
}

/* An hd_reserve_fn: a device that cannot be given back, as soon as that is known. */
static void print_refusal(void *data, const struct hd_reserve_result *res, size_t i)
{
    if (hd_reserve_result_get_outcome(res, i) == HD_RESERVE_FAILED)
        reserve_print_failure(data, res, i);
}

/* "still_reserved": the entries that still reserve a device. */
static void json_still_reserved(struct json *j, const struct hd_reserve_result *res)
{
    json_key(j, "still_reserved");
    json_begin_array(j);
    for (size_t i = 0; i < hd_reserve_result_count(res); i++) {
        const struct hd_reserve_entry *still = hd_reserve_result_get_entry(res, i);
        if (hd_reserve_result_get_outcome(res, i) != HD_RESERVE_HELD)
            continue;
        json_begin_object(j);
        json_kv_string(j, "device", hd_device_get_name(hd_reserve_result_get_device(res, i)));
        json_kv_string(j, "driver", still->driver);
        json_kv_string(j, "file", still->file);
        json_kv_int_or_null(j, "line", still->line, still->line > 0);
        json_end_object(j);
    }
    json_end_array(j);
}

/* "stays": the devices given back that stay on their stub, with no record of another driver. */
static void json_stays(struct json *j, const struct hd_reserve_result *res)
{
    json_key(j, "stays");
    json_begin_array(j);
    for (size_t i = 0; i < hd_reserve_result_count(res); i++) {
        struct hd_device *dev = hd_reserve_result_get_device(res, i);
        if (hd_reserve_result_get_action(res, i) != HD_RESERVE_GIVE_BACK ||
            hd_reserve_result_get_outcome(res, i) != HD_RESERVE_UNCHANGED)
            continue;
        json_begin_object(j);
        json_kv_string(j, "device", hd_device_get_name(dev));
        json_kv_string(j, "driver", hd_device_get_driver(dev));
        json_kv_string(j, "why", "no record of a driver it had before");
        json_end_object(j);
    }
    json_end_array(j);
}

/* "numvfs_kept": each PF whose VF count an entry set, and its count, which stays (several
 * entries may each have set one); empty when none did. */
static void json_numvfs_kept(struct json *j, const struct hd_reserve_result *res)
{
    json_key(j, "numvfs_kept");
    json_begin_array(j);
    for (size_t i = 0; i < hd_reserve_result_count(res); i++) {
        struct hd_device *pf = hd_reserve_result_get_device(res, i);
        if (hd_reserve_result_get_action(res, i) != HD_RESERVE_NUMVFS)
            continue;
        json_begin_object(j);
        json_kv_string(j, "device", hd_device_get_name(pf));
        json_kv_int(j, "numvfs", hd_device_get_sriov_numvfs(pf));
        json_end_object(j);
    }
    json_end_array(j);
}

/* unpersist's answer once the library said yes: the entries removed (@names, @n) and what
 * giving their devices back did (@res, planned under --dry-run), as text or one document. */
static void print_unpersisted(struct tool *t, char (*names)[HD_PCI_ADDR_BUFSZ], size_t n,
                              bool no_apply, const struct hd_reserve_result *res)
{
    char *note = boot_image_note(t, true);

    if (!tool_json(t)) {
        for (size_t i = 0; i < n && t->dry_run; i++)
            printf("%s%s%s", i == 0 ? "dry run: nothing changed; would unpersist " : ", ",
                   names[i], i + 1 < n ? "" : no_apply ? "\n" : " and do:\n");
        for (size_t i = 0; i < n && !t->dry_run; i++)
            printf("unpersisted: %s\n", names[i]);
        for (size_t i = 0; i < hd_reserve_result_count(res); i++)
            print_give_back(t, res, i);
        say_boot_image_note(t, "unpersist", NULL, NULL, note);
        free(note);
        return;
    }
    /* One document: the entries removed and the steps that gave the devices back (planned
     * under --dry-run; none asked for under --no-apply). */
    struct json j;
    tool_op_json_begin(&j, "unpersist", t->dry_run);
    json_kv_string(&j, "unpersisted", names[0]); /* one device's readers' key */
    json_kv_bool(&j, "give_back", !no_apply);
    json_key(&j, "entries");
    json_begin_array(&j);
    for (size_t i = 0; i < n; i++)
        json_string(&j, names[i]);
    json_end_array(&j);
    json_numvfs_kept(&j, res);
    if (!no_apply) {
        json_still_reserved(&j, res);
        json_stays(&j, res);
    }
    reserve_json_steps(&j, res);
    say_boot_image_note(t, "unpersist", &j, NULL, note);
    json_end_object(&j);
    json_finish(&j);
    free(note);
}

static int run_unpersist(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"no-apply", no_argument, NULL, 'N'},
                                         {"dry-run", no_argument, NULL, 'D'},
                                         {NULL, 0, NULL, 0}};
    struct hd_reserve_result *res = NULL;
    bool no_apply = false;
    int c, code = EXIT_DONE, r;

    optind = 0;
    while ((c = tool_getopt(argc, argv, "", opts)) != -1) {
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
    if (argc - optind < 1)
        return tool_error(t, EXIT_USAGE, "give a device (an address or VVVV:DDDD), or several");
    size_t n = (size_t)(argc - optind), failed = n;
    struct hd_pci_selector *sels = calloc(n, sizeof(*sels));
    /* Said back in canonical form, not as typed. */
    char(*names)[HD_PCI_ADDR_BUFSZ] = calloc(n, sizeof(*names));
    if (sels == NULL || names == NULL) {
        free(sels);
        free(names);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    for (size_t i = 0; code == EXIT_DONE && i < n; i++)
        if ((code = parse_selector(t, argv[optind + (int)i], &sels[i])) == EXIT_DONE)
            reserve_selector_name(&sels[i], names[i], sizeof(names[i]));
    if (code != EXIT_DONE)
        goto out;
    hd_ctx_clear_error(t->ctx);
    r = hd_reserve_unpersist_apply_all(t->ctx, sels, n,
                                       (t->dry_run ? HD_RESERVE_DRY_RUN : 0) |
                                           (no_apply ? HD_RESERVE_FILE_ONLY : 0),
                                       print_refusal, t, &failed, &res);
    /* The entry the library says it failed on is the one named. */
    const char *name = names[failed < n ? failed : 0];
    /* Reserved by another source, the library names it; else listed nowhere. */
    if (r == -ENOENT && hd_ctx_last_reason(t->ctx) == HD_REASON_INVALID)
        code = tool_error(t, EXIT_USAGE, "%s", hd_ctx_last_error(t->ctx));
    else if (r == -ENOENT)
        code = tool_error(t, EXIT_USAGE, "%s is not persisted (see hostdev persisted)", name);
    else if (r < 0)
        code = tool_lib_error(t, tool_exit_for_reason(hd_ctx_last_reason(t->ctx)), r, "%s", name);
    else if ((code = reserve_result_exit(res)) != EXIT_DONE)
        /* refused (the files stay) or a device failed (it is back) */
        code = reserve_failed(t, "unpersist", res, code);
    else
        print_unpersisted(t, names, n, no_apply, res);
    hd_reserve_result_unref(res);
out:
    free(sels);
    free(names);
    return code;
}

/* What persisted says of @e's device when it is not there (""; none when it is), naming the
 * PF of a VF and whether its VF count at boot makes it; and of a VF there now that no count
 * makes at boot. */
static void presence_mark(const struct hd_reserve_config *config,
                          const struct hd_reserve_entry *e, char *buf, size_t size)
{
    char pf[HD_PCI_ADDR_BUFSZ];
    struct hd_pci_addr addr;
    int numvfs;

    switch (hd_reserve_config_get_presence(config, e, &addr, &numvfs)) {
    case HD_RESERVE_PRESENT:
        buf[0] = '\0';
        break;
    case HD_RESERVE_ABSENT:
        snprintf(buf, size, "  (not present)");
        break;
    case HD_RESERVE_VF_AT_BOOT:
        snprintf(buf, size, "  (not present: VF of %s, made at boot by its VF count)",
                 hd_pci_addr_format(&addr, pf));
        break;
    case HD_RESERVE_VF_NEVER:
        snprintf(buf, size, "  (not present: VF of %s, whose VF count at boot does not "
                 "make it: persist %d or more)",
                 hd_pci_addr_format(&addr, pf), numvfs);
        break;
    case HD_RESERVE_VF_NOT_AT_BOOT: /* ids: some of the VFs they select now */
        snprintf(buf, size, e->sel.kind == HD_SELECTOR_IDS
                                ? "  (VFs of %s, whose VF count at boot does not make them: "
                                  "persist %d or more)"
                                : "  (VF of %s, whose VF count at boot does not make it: "
                                  "persist %d or more)",
                 hd_pci_addr_format(&addr, pf), numvfs);
        break;
    }
}

/* "present", "vf_of" and "made_at_boot" of @e (the latter two null unless a VF not there, or
 * one there that no count makes at boot). */
static void json_presence(struct json *j, const struct hd_reserve_config *config,
                          const struct hd_reserve_entry *e)
{
    struct hd_pci_addr addr;
    char pf[HD_PCI_ADDR_BUFSZ];
    enum hd_reserve_presence p = hd_reserve_config_get_presence(config, e, &addr, NULL);
    bool vf = p == HD_RESERVE_VF_AT_BOOT || p == HD_RESERVE_VF_NEVER ||
              p == HD_RESERVE_VF_NOT_AT_BOOT;

    json_kv_bool(j, "present", p == HD_RESERVE_PRESENT || p == HD_RESERVE_VF_NOT_AT_BOOT);
    json_kv_string(j, "vf_of", vf ? hd_pci_addr_format(&addr, pf) : NULL);
    json_key(j, "made_at_boot");
    if (vf)
        json_bool(j, p == HD_RESERVE_VF_AT_BOOT);
    else
        json_null(j);
}

static int run_persisted(struct tool *t, int argc, char **argv)
{
    struct hd_reserve_config *config;
    struct json j;
    int code, r;

    if (argc > 1)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s' (see '%s persisted --help')",
                          argv[1], t->prog);
    hd_ctx_clear_error(t->ctx);
    if ((r = hd_reserve_config_load(t->ctx, &config)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the configuration");
    /* What the boot would refuse is an error here too, and its entry is listed all the same,
     * marked: it is in a file, and the user needs its line to mend or unpersist it. */
    if ((r = hd_reserve_config_check(config, t->ctx)) < 0) {
        hd_reserve_config_unref(config);
        return tool_lib_error(t, EXIT_FAILED, r, "checking the configuration");
    }
    code = reserve_print_errors(t, config);
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    } else if (hd_reserve_config_count(config) == 0) {
        /* As assignments and mdev defined say theirs: an empty answer is not a silent one. */
        printf("no %sreservations are configured for boot\n", code != EXIT_DONE ? "other " : "");
    }
    for (size_t i = 0; i < hd_reserve_config_count(config); i++) {
        const struct hd_reserve_entry *e = hd_reserve_config_get(config, i);
        /* Which of several lines naming a device the boot applies, the others marked. */
        const struct hd_reserve_entry *over = hd_reserve_config_get_override(config, e);
        char *line = NULL, where[4096 + 16], over_for[HD_PCI_ADDR_BUFSZ] = "";
        if (over != NULL && e->sel.kind == HD_SELECTOR_IDS && over->sel.kind == HD_SELECTOR_ADDR)
            hd_pci_addr_format(&over->sel.addr, over_for); /* that device alone */
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
            json_kv_bool(&j, "noiommu", e->noiommu);
            json_kv_string(&j, "file", e->file);
            json_kv_int_or_null(&j, "line", e->line, e->line > 0);
            json_kv_string(&j, "refused", hd_reserve_config_get_refusal(config, e));
            json_kv_string(&j, "overridden_by",
                           over ? reserve_entry_source(over, where, sizeof(where)) : NULL);
            json_kv_string(&j, "overridden_for", over_for[0] ? over_for : NULL);
            json_presence(&j, config, e);
            json_end_object(&j);
        } else {
            char mark[160], overridden[4096 + 64] = "";
            presence_mark(config, e, mark, sizeof(mark));
            if (over != NULL)
                snprintf(overridden, sizeof(overridden), "  (overridden%s%s by %s)",
                         over_for[0] ? " for " : "", over_for,
                         reserve_entry_source(over, where, sizeof(where)));
            printf("%-36s %s%s%.0u%s%s%s\n", line, e->file, e->line ? ":" : "", e->line,
                   hd_reserve_config_get_refusal(config, e) ? "  (refused at boot)" : "",
                   overridden, mark);
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
    .shortopts = "d:n:f",
    .opts = persist_opts,
    .name = "persist",
    .run = run_persist,
    .usage = "ADDR|VVVV:DDDD... [--driver NAME] [--numvfs N]\n"
             "       [--no-apply] [--force] [--noiommu] [--dry-run]",
    .summary = "reserve devices now and at every boot",
    .help = "  -d, --driver NAME   vfio-pci, a vfio-pci variant (mlx5_vfio_pci, ...) or\n"
            "                      pci-stub; default: for an address, the one detach would\n"
            "                      choose (its variant, else vfio-pci); for ids, vfio-pci\n"
            "  -n, --numvfs N      an SR-IOV PF: create N VFs at boot (alone: the PF keeps\n"
            "                      its driver)\n"
            "      --no-apply      only write the file; change nothing now\n"
            "  -f, --force         reserve it even when the host uses it (a mount, a route,\n"
            "                      a console), or when it is a PF whose VFs on host drivers\n"
            "                      go with it (a platform function is never persisted: the\n"
            "                      boot does not force; `detach --force` takes it now)\n"
            "      --noiommu       UNSAFE: a device with no IOMMU group goes to vfio in\n"
            "                      vfio's enable_unsafe_noiommu_mode, now and at every boot\n"
            "                      (/dev/vfio/noiommu-N: no DMA isolation; for DPDK and the\n"
            "                      like, never a VM); the line says noiommu\n"
            "      --dry-run       print the line and the plan; write nothing, change nothing\n"
            "ADDR may be a network interface's name; its device's address is written.\n"
            "Each device is reserved now (as `hostdev reserve` does) and\n"
            "ROOT/etc/hostdev.d/persist-DEVICE.conf written atomically for it. All or\n"
            "nothing: every device is checked and planned before any file is written; if\n"
            "reserving one fails, those reserved are given back and every file is put back\n"
            "as it was. --driver is for every device; --numvfs takes one PF alone.\n",
};

const struct tool_command cmd_unpersist = {
    .name = "unpersist",
    .run = run_unpersist,
    .usage = "ADDR|VVVV:DDDD... [--no-apply] [--dry-run]",
    .summary = "forget persisted reservations and give the devices back",
    .help = "Removes ROOT/etc/hostdev.d/persist-DEVICE.conf, then reattaches the devices it\n"
            "reserved to the drivers they had (pci-stub, or none, too), with the\n"
            "driver_override each had, unless another file or the kernel command line\n"
            "still reserves them; one that was on its stub already stays there, bound;\n"
            "one the boot reserved unbound (not probed yet) gets what the kernel binds.\n"
            "All or nothing: when a device cannot go back (a VM holds it), the file stays\n"
            "and nothing changes (exit 1); so too when a file that cannot be read (or is\n"
            "none), or a bad line naming the device, may still reserve it: what that keeps\n"
            "is not known (exit 2). --no-apply: only remove the file. --dry-run: say what\n"
            "would be removed and given back, change nothing.\n"
            "Several devices are one unpersist, all or nothing: every file is read before\n"
            "any is removed, and the devices of them all go back in one operation, as if\n"
            "none of the files were there; when that fails, every file is written back.\n"
            "A VF count (numvfs=) is not undone: the PF keeps its VFs, as said; a file with a\n"
            "count alone reserved no device, so none is given back. `sriov ADDR 0` removes\n"
            "the VFs.\n",
};

const struct tool_command cmd_persisted = {
    .name = "persisted",
    .run = run_persisted,
    .usage = "",
    .summary = "list the reservations configured for boot, and where each is from",
    .help = "Every entry of ROOT/etc/hostdev.d/*.conf and of hostdev.reserve= on the kernel\n"
            "command line, in the order they apply (a later entry for a device wins). Errors\n"
            "are named FILE:LINE on stderr; exit status 2 when there is any. An entry the\n"
            "boot would refuse for a device there now (a bridge, numvfs= on a device without\n"
            "SR-IOV or above its sriov_totalvfs) is one: listed, marked \"refused at boot\".\n",
};
