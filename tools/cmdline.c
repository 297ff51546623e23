/* cmdline.c - `hostdev cmdline ADDR|VVVV:DDDD...`: what to add to the kernel command line so
 * that these devices are kept for VMs from boot on. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"

struct params {
    char *words[4];
    size_t n;
};

static void add(struct params *p, char *word)
{
    if (word != NULL && p->n < sizeof(p->words) / sizeof(p->words[0]))
        p->words[p->n++] = word;
}

/* The IOMMU switch for this machine's vendor (NULL: none needed, or unknown). */
static const char *iommu_switch(struct tool *t, enum hd_iommu_vendor *vendor)
{
    struct hd_iommu_report *report;

    *vendor = HD_IOMMU_VENDOR_UNKNOWN;
    if (hd_iommu_probe(t->ctx, &report) == 0) {
        *vendor = hd_iommu_report_get_vendor(report);
        hd_iommu_report_unref(report);
    }
    return hd_cmdline_advice(HD_ADVICE_IOMMU_ON, *vendor);
}

static bool asked(struct hd_device **devs, size_t n, struct hd_device *d)
{
    for (size_t i = 0; i < n; i++)
        if (hd_pci_addr_equal(hd_device_get_addr(devs[i]), hd_device_get_addr(d)))
            return true;
    return false;
}

static bool same_ids(struct hd_device *a, struct hd_device *b)
{
    return hd_device_get_vendor_id(a) == hd_device_get_vendor_id(b) &&
           hd_device_get_device_id(a) == hd_device_get_device_id(b);
}

/* "vfio-pci.ids=8086:10d3,..." with each pair once; the devices not asked for that the ids
 * catch too go to @others. */
static char *ids_param(struct tool *t, const char *stub, struct hd_device **devs, size_t n,
                       struct hd_device_list *all, char ***others, size_t *nothers)
{
    size_t len = strlen(stub) + 6 + n * 10, cap = hd_device_list_count(all) + 1;
    char *out = malloc(len + 1);

    *others = calloc(cap, sizeof(**others));
    *nothers = 0;
    if (out == NULL || *others == NULL) {
        free(out);
        return NULL;
    }
    snprintf(out, len, "%s.ids=", stub);
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i; k++)
            seen = seen || same_ids(devs[k], devs[i]);
        if (seen)
            continue;
        snprintf(out + strlen(out), len - strlen(out), "%s%04x:%04x",
                 out[strlen(out) - 1] == '=' ? "" : ",", hd_device_get_vendor_id(devs[i]),
                 hd_device_get_device_id(devs[i]));
        for (size_t k = 0; k < hd_device_list_count(all); k++) {
            struct hd_device *d = hd_device_list_get(all, k);
            if (same_ids(d, devs[i]) && !asked(devs, n, d))
                (*others)[(*nothers)++] = strdup(hd_device_get_name(d));
        }
    }
    (void)t;
    return out;
}

/* Whether the boot this line makes keeps @d from the host: a device given, or (ids) one with
 * a given device's ids. */
static bool kept_by_line(struct hd_device **devs, size_t n, bool ids, struct hd_device *d)
{
    for (size_t i = 0; i < n; i++)
        if (hd_pci_addr_equal(hd_device_get_addr(devs[i]), hd_device_get_addr(d)) ||
            (ids && same_ids(devs[i], d)))
            return true;
    return false;
}

/* A group the line leaves part of with the host is no VM's, boot after boot: for each such
 * group (once), a warning naming the members left out (hd_device_check_assign()'s company),
 * and what the host keeps among them, which no line can give. A group that cannot be read
 * is left out: only a warning. */
static void note_groups(struct tool *t, struct hd_device **devs, size_t n, bool ids,
                        char **warnings, size_t *nwarnings, size_t max)
{
    struct hd_host_use *hu = NULL;
    int seen[16] = {0};
    size_t nseen = 0;

    /* What the host uses is read once for every device's check, not once each. */
    if (hd_host_use_new(t->ctx, &hu) < 0)
        hd_ctx_clear_error(t->ctx); /* NULL: each check reads it for itself */
    for (size_t i = 0; i < n && *nwarnings < max; i++) {
        struct hd_assign_check *c = NULL;
        int group = hd_device_get_iommu_group(devs[i]);
        bool again = false;
        for (size_t k = 0; k < nseen; k++)
            again = again || seen[k] == group;
        if (group < 0 || again || hd_device_check_assign(devs[i], devs, n, hu, &c) < 0) {
            hd_ctx_clear_error(t->ctx);
            continue;
        }
        if (nseen < sizeof(seen) / sizeof(seen[0]))
            seen[nseen++] = group;
        size_t len = 0, left = 0, kept = 0;
        FILE *w = open_memstream(&warnings[*nwarnings], &len);
        if (w == NULL) {
            hd_assign_check_unref(c);
            continue;
        }
        fprintf(w, "IOMMU group %d also holds", group);
        for (size_t k = 0; k < hd_assign_check_get_company_count(c); k++) {
            struct hd_device *m = hd_assign_check_get_company(c, k);
            const char *role = hd_device_get_platform_role(m);
            if (kept_by_line(devs, n, ids, m))
                continue;
            fprintf(w, "%s %s", left++ ? "," : "", hd_device_get_name(m));
            if (role != NULL) {
                fprintf(w, " (%s the host keeps)", role);
                kept++;
            } else if (hd_device_get_driver(m) != NULL &&
                       !hd_driver_is_dma_safe(hd_device_get_driver(m)))
                fprintf(w, " (%s)", hd_device_get_driver(m)); /* a stub's is for now, not boot */
        }
        if (kept > 0)
            fprintf(w,
                    ", which this line leaves with the host: no VM can have %s on this host "
                    "as it is",
                    hd_device_get_name(devs[i]));
        else
            fprintf(w,
                    ", which this line leaves with the host: no VM can have %s without %s; "
                    "give %s too",
                    hd_device_get_name(devs[i]), left > 1 ? "them" : "it",
                    left > 1 ? "them" : "it");
        if (fclose(w) == 0 && left > 0)
            (*nwarnings)++;
        else /* the line keeps the whole group (or no memory to say it) */
            free(warnings[*nwarnings]);
        hd_assign_check_unref(c);
    }
    hd_host_use_unref(hu);
}

/* A PF the line keeps for @stub while hostdev.d asks a VF count of it may come up without VFs
 * (hd_reserve_config_numvfs_warning()): a warning each, as far as @max allows. */
static void note_numvfs(struct tool *t, const struct hd_reserve_config *config,
                        struct hd_device **devs, size_t n, const char *stub, char **warnings,
                        size_t *nwarnings, size_t max)
{
    if (config == NULL)
        return; /* unread, nothing to add to the line: no warning */
    for (size_t i = 0; i < n && *nwarnings < max; i++) {
        struct hd_reserve_entry line = {.sel = {.kind = HD_SELECTOR_ADDR}, .driver = stub,
                                        .numvfs = -1, .file = "proc/cmdline"};
        line.sel.addr = *hd_device_get_addr(devs[i]);
        if ((warnings[*nwarnings] = hd_reserve_config_numvfs_warning(config, &line, devs[i])))
            (*nwarnings)++;
    }
    hd_ctx_clear_error(t->ctx);
}

/* The entry the boot applies to @d: with @files_only hostdev.d's alone, for a line whose
 * hostdev.reserve= takes the place of the running kernel's (which overrides hostdev.d, so it
 * would otherwise answer for itself); else the one it applies now, its command line kept.
 * NULL: none, or @config unread. */
static const struct hd_reserve_entry *boot_entry(const struct hd_reserve_config *config,
                                                 struct hd_device *d, bool files_only)
{
    if (config == NULL)
        return NULL;
    return files_only ? hd_reserve_config_match_files(config, d)
                      : hd_reserve_config_match(config, d);
}

/* Whether boot_entry() opts @d in to vfio's unsafe no-IOMMU mode (hostdev.d's noiommu,
 * hostdev.reserve='s HD_RESERVE_CMDLINE_NOIOMMU). */
static bool opts_in_noiommu(const struct hd_reserve_config *config, struct hd_device *d,
                            bool files_only)
{
    const struct hd_reserve_entry *e = boot_entry(config, d, files_only);

    return e != NULL && e->noiommu;
}

/* The parameter that turns vfio's unsafe no-IOMMU mode on when a device given has no IOMMU
 * group and the reservation the boot applies to it (boot_entry()) opts in to that mode
 * (hostdev.d's noiommu): that boot refuses it otherwise. NULL: none needs it. */
static char *noiommu_param(struct tool *t, const struct hd_reserve_config *config,
                           struct hd_device **devs, size_t n, bool files_only)
{
    bool needed = false;

    for (size_t i = 0; i < n && !needed; i++)
        needed = opts_in_noiommu(config, devs[i], files_only) &&
                 hd_device_get_iommu_group(devs[i]) < 0;
    hd_ctx_clear_error(t->ctx);
    return needed ? strdup(hd_cmdline_advice(HD_ADVICE_NOIOMMU_ON, HD_IOMMU_VENDOR_UNKNOWN))
                  : NULL;
}

/* The ids argument of @argv that takes @d, or NULL. */
static const char *ids_arg(int argc, char **argv, const struct hd_device *d,
                           struct hd_pci_selector *sel)
{
    for (int i = 0; i < argc; i++)
        if (hd_pci_selector_parse(argv[i], sel) == 0 && sel->kind == HD_SELECTOR_IDS &&
            hd_pci_selector_match(sel, d))
            return argv[i];
    return NULL;
}

/* "hostdev.reserve=" with the devices given by address, and the ids given as ids: the boot
 * reads them as this command does (every device with them, one added later too). For a vfio
 * driver, a word whose every device's hostdev.d entry opts in to no-IOMMU mode keeps the
 * opt-in (HD_RESERVE_CMDLINE_NOIOMMU): the boot's command line overrides hostdev.d, and
 * without it refuses such a device when it has no IOMMU group. hostdev.d's alone: this line
 * takes the place of the running kernel's hostdev.reserve= (note_running_opt_in()). */
static char *reserve_param(const struct hd_reserve_config *config, bool vfio,
                           struct hd_device **devs, size_t n, int argc, char **argv)
{
    size_t len = 20 + n * (HD_PCI_ADDR_BUFSZ + sizeof(HD_RESERVE_CMDLINE_NOIOMMU));
    char *out = malloc(len);
    struct hd_pci_selector sel;

    if (out == NULL)
        return NULL;
    strcpy(out, "hostdev.reserve=");
    for (size_t i = 0; i < n; i++) {
        char word[HD_PCI_ADDR_BUFSZ];
        bool noiommu = vfio && opts_in_noiommu(config, devs[i], true);
        snprintf(word, sizeof(word), "%s", hd_device_get_name(devs[i]));
        if (ids_arg(argc, argv, devs[i], &sel) != NULL) {
            snprintf(word, sizeof(word), "%04x:%04x", sel.vendor, sel.device);
            for (size_t k = 0; k < n; k++)
                noiommu = noiommu && (!hd_pci_selector_match(&sel, devs[k]) ||
                                      opts_in_noiommu(config, devs[k], true));
        }
        bool said = false; /* the ids, for a device before it */
        for (size_t k = 0; k < i; k++)
            said = said || (same_ids(devs[k], devs[i]) && ids_arg(argc, argv, devs[k], &sel));
        if (!said)
            snprintf(out + strlen(out), len - strlen(out), "%s%s%s",
                     out[strlen(out) - 1] == '=' ? "" : ",", word,
                     noiommu ? HD_RESERVE_CMDLINE_NOIOMMU : "");
    }
    return out;
}

/* A device given that the running kernel's hostdev.reserve= takes, opted in to no-IOMMU mode
 * where hostdev.d's entry is not, or not where it is: the line printed (hostdev.d's) differs
 * from the one booted, which overrides hostdev.d; a warning each, as far as @max allows. */
static void note_running_opt_in(struct tool *t, const struct hd_reserve_config *config,
                                struct hd_device **devs, size_t n, char **warnings,
                                size_t *nwarnings, size_t max)
{
    for (size_t i = 0; i < n && *nwarnings < max; i++) {
        const struct hd_reserve_entry *now = boot_entry(config, devs[i], false);
        const struct hd_reserve_entry *file = boot_entry(config, devs[i], true);
        const char *name = hd_device_get_name(devs[i]);
        bool opted = file != NULL && file->noiommu;
        int r;
        if (now == NULL || !hd_reserve_entry_is_cmdline(now) || now->noiommu == opted)
            continue;
        if (opted)
            r = asprintf(&warnings[*nwarnings],
                         "the running kernel's hostdev.reserve= takes %s without "
                         HD_RESERVE_CMDLINE_NOIOMMU ", which overrides hostdev.d's noiommu "
                         "(%s:%u)%s: put this line in its place",
                         name, file->file, file->line,
                         hd_device_get_iommu_group(devs[i]) < 0
                             ? ", so that a boot with it refuses it (no IOMMU group)" : "");
        else
            r = asprintf(&warnings[*nwarnings],
                         "the running kernel's hostdev.reserve= opts %s in to vfio's unsafe "
                         "no-IOMMU mode (" HD_RESERVE_CMDLINE_NOIOMMU "), which hostdev.d does "
                         "not: this line leaves it out ('%s persist --noiommu %s' keeps it)",
                         name, t->prog, name);
        if (r > 0)
            (*nwarnings)++;
    }
    hd_ctx_clear_error(t->ctx);
}

/* Ids in hostdev.reserve= are not "only these devices": a warning for each, naming the devices
 * they take now, as far as @max allows. */
static void note_reserved_ids(struct hd_device **devs, size_t n, int argc, char **argv,
                              char **warnings, size_t *nwarnings, size_t max)
{
    struct hd_pci_selector sel, before;

    for (int i = 0; i < argc && *nwarnings < max; i++) {
        size_t len = 0, now = 0;
        bool again = false;
        if (hd_pci_selector_parse(argv[i], &sel) < 0 || sel.kind != HD_SELECTOR_IDS)
            continue;
        for (int k = 0; k < i; k++)
            again = again || (hd_pci_selector_parse(argv[k], &before) == 0 &&
                              before.kind == HD_SELECTOR_IDS && before.vendor == sel.vendor &&
                              before.device == sel.device);
        FILE *w = again ? NULL : open_memstream(&warnings[*nwarnings], &len);
        if (w == NULL)
            continue;
        fprintf(w, "hostdev.reserve=%04x:%04x takes every device with these ids:", sel.vendor,
                sel.device);
        for (size_t k = 0; k < n; k++)
            if (hd_pci_selector_match(&sel, devs[k]))
                fprintf(w, "%s %s", now++ ? "," : "", hd_device_get_name(devs[k]));
        fprintf(w, " now, and one added later; give addresses to keep only these");
        if (fclose(w) == 0)
            (*nwarnings)++;
    }
}

static const struct option cmdline_opts[] = {{"reserve", no_argument, NULL, 'R'},
                                             {"driver", required_argument, NULL, 'd'},
                                             {"force", no_argument, NULL, 'f'},
                                             {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    struct params p = {{NULL}, 0};
    struct hd_device_list *all = NULL;
    struct hd_device **devs;
    enum hd_iommu_vendor vendor;
    const char *stub = "vfio-pci", *driver = NULL, *sw;
    bool reserve = false, force = false;
    char **others = NULL;
    size_t n, nothers = 0;
    int c, code, r;

    optind = 0;
    while ((c = tool_getopt(argc, argv, cmd_cmdline.shortopts, cmd_cmdline.opts)) != -1) {
        switch (c) {
        case 'R':
            reserve = true;
            break;
        case 'f':
            force = true;
            break;
        case 'd':
            if (strcmp(optarg, "vfio-pci") != 0 && strcmp(optarg, "pci-stub") != 0)
                return tool_error(t, EXIT_USAGE, "--driver '%s': use vfio-pci or pci-stub", optarg);
            if ((code = tool_take_once(t, "--driver", &driver, optarg)) != EXIT_DONE)
                return code;
            stub = strcmp(optarg, "vfio-pci") == 0 ? "vfio-pci" : "pci-stub";
            break;
        default:
            tool_usage(&cmd_cmdline, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if ((code = devargs_open_ids(t, argc - optind, argv + optind, &all, &devs, &n)) != EXIT_DONE) {
        hd_device_list_unref(all);
        return code;
    }
    /* What reserve, persist and detach refuse, the boot would refuse (or take from the host). */
    for (size_t i = 0; i < n; i++) {
        const char *role = hd_device_get_platform_role(devs[i]);
        int e = hd_device_check_endpoint(devs[i], "no boot can keep it for a VM");
        if (e < 0)
            code = tool_lib_error(t, EXIT_USAGE, e, "%s", hd_device_get_name(devs[i]));
        else if (role != NULL && !force)
            code = tool_error_hint(t, EXIT_FAILED, "--force prints it anyway",
                                   "%s is %s, which the host keeps", hd_device_get_name(devs[i]),
                                   role);
        if (code != EXIT_DONE) {
            hd_device_list_unref(all);
            devargs_free(devs, n);
            return code;
        }
    }
    hd_ctx_clear_error(t->ctx);
    if (all == NULL && (r = hd_device_list_new(t->ctx, HD_FILL_IDENT, &all)) < 0) {
        devargs_free(devs, n);
        return tool_lib_error(t, EXIT_FAILED, r, "listing PCI devices");
    }
    if ((sw = iommu_switch(t, &vendor)) != NULL)
        add(&p, strdup(sw));
    /* Said on stderr, or under --json in the document's "warnings". */
    /* the vendor's, the ids' twins, one per group left part-kept, one per PF given a count,
     * one per ids reserved, one per device the running kernel opts in otherwise */
    char *warnings[2 + 8 + 8 + 4 + 4];
    size_t nwarnings = 0;
    if (vendor == HD_IOMMU_VENDOR_UNKNOWN &&
        asprintf(&warnings[nwarnings], "cannot tell the IOMMU's vendor; on Intel add %s too "
                 "(see hostdev iommu)",
                 hd_cmdline_advice(HD_ADVICE_IOMMU_ON, HD_IOMMU_VENDOR_INTEL)) > 0)
        nwarnings++;
    add(&p, strdup(hd_cmdline_advice(HD_ADVICE_IOMMU_PT, vendor)));
    /* What the boot applies now (unread: no opt-in, no warning), for the opt-in and the
     * warnings; --reserve's hostdev.reserve= takes the running kernel's place, so its opt-in
     * is hostdev.d's alone, and for pci-stub none (it needs no group). */
    struct hd_reserve_config *config = NULL;
    bool vfio = strcmp(stub, "vfio-pci") == 0;
    if (hd_reserve_config_load(t->ctx, &config) < 0)
        hd_ctx_clear_error(t->ctx);
    if (!reserve || vfio)
        add(&p, noiommu_param(t, config, devs, n, reserve));
    if (reserve) {
        add(&p, reserve_param(config, vfio, devs, n, argc - optind, argv + optind));
        if (!vfio)
            add(&p, strdup("hostdev.driver=pci-stub"));
    } else {
        add(&p, ids_param(t, stub, devs, n, all, &others, &nothers));
    }
    size_t wlen = 0;
    FILE *w = nothers > 0 ? open_memstream(&warnings[nwarnings], &wlen) : NULL;
    if (w != NULL) {
        fprintf(w, "%s.ids= also takes", stub);
        for (size_t i = 0; i < nothers; i++)
            fprintf(w, "%s %s", i ? "," : "", others[i] ? others[i] : "?");
        fprintf(w, " (same ids, not asked for); 'hostdev cmdline --reserve' names only the "
                   "devices given");
        if (fclose(w) == 0)
            nwarnings++;
    }
    note_groups(t, devs, n, !reserve, warnings, &nwarnings, sizeof(warnings) / sizeof(warnings[0]));
    note_numvfs(t, config, devs, n, stub, warnings, &nwarnings,
                sizeof(warnings) / sizeof(warnings[0]));
    if (reserve)
        note_reserved_ids(devs, n, argc - optind, argv + optind, warnings, &nwarnings,
                          sizeof(warnings) / sizeof(warnings[0]));
    if (reserve && vfio)
        note_running_opt_in(t, config, devs, n, warnings, &nwarnings,
                            sizeof(warnings) / sizeof(warnings[0]));
    for (size_t i = 0; i < nwarnings && !tool_json(t); i++)
        fprintf(stderr, "hostdev cmdline: warning: %s\n", warnings[i]);
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_string(&j, "vendor", hd_iommu_vendor_to_string(vendor));
        json_kv_strings(&j, "params", (const char *const *)p.words, p.n);
        json_kv_strings(&j, "also_matched", (const char *const *)others, nothers);
        json_kv_strings(&j, "warnings", (const char *const *)warnings, nwarnings);
        json_end_object(&j);
        json_finish(&j);
    } else {
        for (size_t i = 0; i < p.n; i++)
            printf("%s%s", i ? " " : "", p.words[i]);
        printf("\n");
    }
    for (size_t i = 0; i < p.n; i++)
        free(p.words[i]);
    for (size_t i = 0; i < nwarnings; i++)
        free(warnings[i]);
    for (size_t i = 0; i < nothers; i++)
        free(others[i]);
    free(others);
    hd_reserve_config_unref(config);
    hd_device_list_unref(all);
    devargs_free(devs, n);
    return EXIT_DONE;
}

const struct tool_command cmd_cmdline = {
    .shortopts = "Rd:f",
    .opts = cmdline_opts,
    .name = "cmdline",
    .run = run,
    .takes = TOOL_TAKES_IDS,
    .usage = "ADDR|VVVV:DDDD... [--reserve]\n"
             "       [--driver vfio-pci|pci-stub] [--force]",
    .summary = "print the kernel parameters that keep devices for VMs from boot",
    .help = "Prints the IOMMU switch for this machine's vendor (intel_iommu=on; nothing on\n"
            "AMD, whose IOMMU is on by default), iommu=pt, and vfio-pci.ids= with the\n"
            "devices' ids. Ids catch every device that has them: the others are named in a\n"
            "warning, and so are the members of an IOMMU group it keeps only in part (VFIO\n"
            "gives it whole), and a PF that hostdev.d gives a VF count (its host driver takes\n"
            "the VFs along). VVVV:DDDD gives every device there now with these ids (none: an\n"
            "error).\n"
            "  -R, --reserve       hostdev.reserve=ADDR,... instead: only these devices\n"
            "                      (needs hostdev's initramfs hook or udev rule); ids given\n"
            "                      stay ids there, which take a device added later too;\n"
            "                      a device hostdev.d opts in to no-IOMMU mode gets\n"
            "                      ADDR+noiommu, whatever the running kernel's says\n"
            "  -d, --driver NAME   vfio-pci (default) or pci-stub (pci-stub.ids=,\n"
            "                      hostdev.driver=pci-stub)\n"
            "  -f, --force         a platform function too (a host bridge, an SMBus\n"
            "                      controller...), which is refused without it; a bridge\n"
            "                      never is an endpoint a boot can keep\n"
            "vfio-pci.ids= takes a device only if vfio-pci is loaded before its host driver\n"
            "(vfio-pci in the initramfs, or `softdep DRIVER pre: vfio-pci` in modprobe.d).\n",
};
