/* sriov.c - `hostdev sriov ADDR --numvfs N`: create or remove a PF's virtual functions. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opout.h"
#include "reserve.h"

/* A PF's counts: an object of its own (one PF) or in the listing's array. */
static void print_counts(struct json *j, const struct hd_device *dev)
{
    if (j != NULL) {
        json_begin_object(j);
        json_kv_string(j, "device", hd_device_get_name(dev));
        json_kv_int(j, "numvfs", hd_device_get_sriov_numvfs(dev));
        json_kv_int(j, "totalvfs", hd_device_get_sriov_totalvfs(dev));
        json_end_object(j);
    } else {
        printf("%s: %d of %d virtual functions\n", hd_device_get_name(dev),
               hd_device_get_sriov_numvfs(dev), hd_device_get_sriov_totalvfs(dev));
    }
}

/* No count: say what the PF has. */
static int show_count(struct tool *t, const char *addr)
{
    struct hd_device *dev;
    struct json j;
    int code = tool_open_device(t, addr, &dev);

    if (code != EXIT_DONE)
        return code;
    const struct hd_pci_addr *pf = hd_device_get_physfn(dev);
    char pfname[HD_PCI_ADDR_BUFSZ];
    if (pf != NULL) { /* as setting a count says it, with the PF whose count it is */
        code = tool_error(t, EXIT_USAGE, "%s is itself a virtual function, not a PF (its PF: "
                          "%s)", hd_device_get_name(dev), hd_pci_addr_format(pf, pfname));
    } else if (hd_device_get_sriov_totalvfs(dev) < 0) {
        code = tool_error(t, EXIT_USAGE, "%s is not SR-IOV capable (no sriov_totalvfs)",
                          hd_device_get_name(dev));
    } else if (tool_json(t)) {
        json_init(&j, stdout, 2);
        print_counts(&j, dev);
        json_finish(&j);
    } else {
        print_counts(NULL, dev);
    }
    hd_device_unref(dev);
    return code;
}

/* No PF: every one there is, as each alone is shown; a host with none says so (on stderr,
 * exit 0: a listing that found nothing, not an error). A VF has no sriov_totalvfs. */
static int show_all(struct tool *t)
{
    struct hd_device_list *list;
    struct json j;
    size_t n = 0;
    int r;

    if ((r = hd_device_list_new(t->ctx, HD_FILL_SRIOV, &list)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "cannot list PCI devices");
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        const struct hd_device *dev = hd_device_list_get(list, i);
        if (hd_device_get_sriov_totalvfs(dev) < 0)
            continue;
        print_counts(tool_json(t) ? &j : NULL, dev);
        n++;
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    } else if (n == 0) {
        fprintf(stderr, "hostdev sriov: no device here is SR-IOV capable\n");
    }
    hd_device_list_unref(list);
    return EXIT_DONE;
}

/* The count of 0 gave the PF's autoprobe back (its step). */
static bool autoprobe_back(const struct hd_op *op)
{
    for (size_t i = 0; i < hd_op_get_step_count(op); i++)
        if (strcmp(hd_op_step_get_action(op, i), "autoprobe") == 0)
            return true;
    return false;
}

static const struct option sriov_opts[] = {{"numvfs", required_argument, NULL, 'n'},
                                           {"dry-run", no_argument, NULL, 'D'},
                                           {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    const char *addr = NULL, *count = NULL;
    struct hd_pci_addr pci;
    char name[HD_PCI_ADDR_BUFSZ];
    unsigned long long count_ull;
    unsigned int numvfs;
    struct hd_op *op;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = tool_getopt(argc, argv, cmd_sriov.shortopts, cmd_sriov.opts)) != -1) {
        if (c == 'D') {
            t->dry_run = true;
            continue;
        }
        if (c != 'n') {
            tool_usage(&cmd_sriov, stderr, t->prog);
            return EXIT_USAGE;
        }
        /* One count: a second one (`--numvfs 2 --numvfs 3`) is a mistake, not the last word. */
        if (count != NULL)
            return tool_error(t, EXIT_USAGE, "two counts of VFs: '%s' and '%s'", count, optarg);
        count = optarg;
    }
    if (optind < argc)
        addr = argv[optind++];
    /* `sriov ADDR N`, as `echo N > sriov_numvfs` reads. */
    if (optind < argc && count != NULL)
        return tool_error(t, EXIT_USAGE, "two counts of VFs: '%s' and '%s'", argv[optind],
                          count);
    if (optind < argc)
        count = argv[optind++];
    if (optind < argc)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s' (see '%s sriov --help')",
                          argv[optind], t->prog);
    if (addr == NULL && count == NULL)
        return show_all(t);
    if (addr == NULL)
        return tool_error(t, EXIT_USAGE, "no PF given for %s VFs (see 'hostdev sriov --help')",
                          count);
    if (count == NULL)
        return show_count(t, addr);
    if (tool_parse_count(count, 65535, &count_ull) < 0)
        return tool_error(t, EXIT_USAGE, "invalid count of VFs '%s' (a number, 0 removes the VFs)",
                          count);
    numvfs = (unsigned int)count_ull;
    if (tool_parse_addr(t, addr, &pci) < 0)
        return EXIT_USAGE;
    if ((r = tool_op_new(t, HD_OP_NUMVFS, 0, &op)) != EXIT_DONE)
        return r;
    hd_op_set_numvfs(op, numvfs);
    if ((r = hd_op_add_device(op, &pci, true)) < 0) {
        hd_op_unref(op);
        return tool_lib_error(t, EXIT_FAILED, r, "%s", addr);
    }
    /* A change turns autoprobe off and leaves it so: the plan and the report say it, since
     * no host driver takes this PF's VFs from then on. A VF it removes that a reservation
     * names, and that no VF count the boot sets makes, leaves that reservation doing nothing:
     * the operation finds those, said after. */
    const struct hd_reserve_entry *boot = NULL;
    if ((r = hd_op_run(op)) >= 0)
        boot = hd_op_get_boot_numvfs_entry(op);
    if (r < 0) {
        r = tool_op_failed(t, op, r, "sriov", NULL, NULL);
    } else if (tool_json(t)) {
        struct json j;
        tool_op_json_begin(&j, "sriov", t->dry_run);
        json_kv_string(&j, "device", hd_pci_addr_format(&pci, name));
        json_kv_int(&j, "numvfs", numvfs);
        json_kv_int(&j, "previous_numvfs", hd_op_get_previous_numvfs(op));
        json_kv_bool(&j, "changed", (unsigned int)hd_op_get_previous_numvfs(op) != numvfs);
        json_kv_bool(&j, "autoprobe_disabled",
                     hd_op_get_previous_autoprobe(op) > 0 && numvfs != 0 &&
                         (unsigned int)hd_op_get_previous_numvfs(op) != numvfs);
        json_kv_bool(&j, "autoprobe_restored", autoprobe_back(op));
        json_key(&j, "vf_driver");
        if (hd_op_get_vf_driver(op) == NULL)
            json_null(&j);
        else
            json_string(&j, hd_op_get_vf_driver(op));
        tool_op_json_steps(t, &j, op);
        json_key(&j, "unmade_reservations");
        json_begin_array(&j);
        for (size_t i = 0; i < hd_op_get_unmade_count(op); i++) {
            const struct hd_reserve_entry *e = hd_op_unmade_get_entry(op, i);
            char vf[HD_PCI_ADDR_BUFSZ];
            json_begin_object(&j);
            json_kv_string(&j, "device", reserve_selector_name(&e->sel, vf, sizeof(vf)));
            json_kv_string(&j, "file", e->file);
            json_kv_int_or_null(&j, "line", e->line, e->line > 0);
            json_end_object(&j);
        }
        json_end_array(&j);
        json_key(&j, "boot_numvfs");
        if (boot == NULL) {
            json_null(&j);
        } else {
            json_begin_object(&j);
            json_kv_int(&j, "numvfs", boot->numvfs);
            json_kv_string(&j, "file", boot->file);
            json_kv_int_or_null(&j, "line", boot->line, boot->line > 0);
            json_end_object(&j);
        }
        json_end_object(&j);
        json_finish(&j);
        r = EXIT_DONE;
    } else {
        int prev = hd_op_get_previous_numvfs(op);
        hd_pci_addr_format(&pci, name);
        if ((unsigned int)prev == numvfs)
            printf("%s%s: already has %u virtual function%s\n",
                   t->dry_run ? "dry run: nothing changed; " : "", name, numvfs,
                   numvfs == 1 ? "" : "s");
        else if (t->dry_run)
            printf("dry run: nothing changed; %s would go from %d to %u virtual functions\n",
                   name, prev, numvfs);
        else
            printf("%s: %u virtual function%s (was %d)\n", name, numvfs, numvfs == 1 ? "" : "s",
                   prev);
        const char *vfdrv = hd_op_get_vf_driver(op);
        char on[160] = "unbound";
        if (vfdrv != NULL)
            snprintf(on, sizeof(on), "on %s: the kernel makes the VFs of a PF on %s with that "
                     "driver_override", vfdrv, vfdrv);
        if ((unsigned int)prev != numvfs && numvfs != 0 && hd_op_get_previous_autoprobe(op) > 0)
            printf("%s%s: sriov_drivers_autoprobe %s from 1 to 0 and %s so (its VFs come up "
                   "%s)\n", t->dry_run ? "  " : "", name, t->dry_run ? "would go" : "went",
                   t->dry_run ? "stay" : "stays", on);
        else if ((unsigned int)prev != numvfs && numvfs != 0 && vfdrv != NULL)
            printf("%s%s: its VFs come up %s\n", t->dry_run ? "  " : "", name, on);
        if (autoprobe_back(op))
            printf("%s%s: sriov_drivers_autoprobe %s back from 0 to 1, as it was before a count "
                   "of hostdev's\n", t->dry_run ? "  " : "", name,
                   t->dry_run ? "would go" : "went");
        for (size_t i = 0; i < hd_op_get_step_count(op); i++) {
            if (strcmp(hd_op_step_get_action(op, i), "forget") == 0)
                printf("%s%s: was on %s (before: %s): its record %s with the VF\n",
                       t->dry_run ? "  " : "", hd_op_step_get_device(op, i),
                       hd_op_step_get_from(op, i), hd_op_step_get_to(op, i),
                       t->dry_run ? "would go" : "went");
        }
        for (size_t i = 0; i < hd_op_get_unmade_count(op); i++) {
            const struct hd_reserve_entry *e = hd_op_unmade_get_entry(op, i);
            char vf[HD_PCI_ADDR_BUFSZ];
            reserve_selector_name(&e->sel, vf, sizeof(vf));
            /* Ids reserve whatever has them: the VFs that stay, and those made again. */
            if (e->sel.kind == HD_SELECTOR_IDS) {
                fprintf(stderr, "%s sriov: note: %s (%s%s%.0u) reserves VFs of %s that this "
                        "count removes, and no VF count persisted for %s makes them at boot: "
                        "for them the reservation does nothing ('%s persist %s --numvfs %d' "
                        "keeps them)\n",
                        t->prog, vf, e->file, e->line ? ":" : "", e->line, name, name, t->prog,
                        name, prev);
                continue;
            }
            char drop[HD_PCI_ADDR_BUFSZ + 64] = "removing that line drops it";
            if (hd_reserve_entry_is_persisted(e))
                snprintf(drop, sizeof(drop), "'%s unpersist %s' drops it", t->prog, vf);
            fprintf(stderr, "%s sriov: note: %s is still reserved (%s%s%.0u), but no VF count "
                    "persisted for %s makes it at boot: the reservation does nothing ('%s "
                    "persist %s --numvfs %d' keeps it, %s)\n",
                    t->prog, vf, e->file, e->line ? ":" : "", e->line, name, t->prog, name, prev,
                    drop);
        }
        if (boot != NULL) {
            char keep[HD_PCI_ADDR_BUFSZ + 64] = "change that line to keep this one";
            if (hd_reserve_entry_is_persisted(boot))
                snprintf(keep, sizeof(keep), "'%s persist %s --numvfs %u' keeps this one",
                         t->prog, name, numvfs);
            fprintf(stderr, "%s sriov: note: the boot sets %s to %d virtual functions again "
                    "(%s%s%.0u): %s\n", t->prog, name, boot->numvfs, boot->file,
                    boot->line ? ":" : "", boot->line, keep);
        }
        r = EXIT_DONE;
    }
    hd_op_unref(op);
    return r;
}

const struct tool_command cmd_sriov = {
    .shortopts = "",
    .opts = sriov_opts,
    .name = "sriov",
    .run = run,
    .usage = "[ADDR [N | --numvfs N] [--dry-run]]",
    .summary = "show or set the number of SR-IOV virtual functions of a PF",
    .help = "Without a PF, lists every SR-IOV PF with its counts; without a count, prints the\n"
            "PF's. With one (N or --numvfs N), sets sriov_drivers_autoprobe to 0 first and\n"
            "leaves it so: the VFs come up unbound, ready for `hostdev detach`, and no host\n"
            "driver grabs them later (a PF on vfio-pci is the exception: the kernel gives its\n"
            "VFs vfio-pci as driver_override, so they come up on vfio-pci, which it says); a\n"
            "count of 0 turns it back on when a count of hostdev's turned it off. A change\n"
            "from one count to another goes through 0 (the kernel refuses N -> M), and the\n"
            "command waits until the VFs have appeared or gone. A PF whose VFs a VM holds, or\n"
            "a process has open through VFIO, is refused. VFs detached by hostdev go with the\n"
            "count, and so do their driver records. On failure the previous count, autoprobe\n"
            "and records are put back. A VF it removes that a reservation names, and that no\n"
            "VF count persisted for the PF makes at boot, is named in a note (it would do\n"
            "nothing); so is a VF count persisted for the PF other than N (the boot sets it\n"
            "again).\n"
            "Exit status: 0 done, 1 failed or refused, 2 not an SR-IOV PF or\n"
            "N > sriov_totalvfs.\n",
};
