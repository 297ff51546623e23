/* detach.c - `hostdev detach`: hand devices to vfio-pci (or pci-stub), all or nothing. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"

/* Say which members keep the group from a VM, and how to fix it. */
static void warn_if_not_viable(struct tool *t, struct hd_device *dev)
{
    int number = hd_device_get_iommu_group(dev);
    struct hd_group *g;

    if (number < 0 || hd_group_open(t->ctx, number, &g) < 0)
        return;
    if (!hd_group_is_viable(g)) {
        fprintf(stderr, "hostdev detach: warning: IOMMU group %d is not viable, a VM cannot "
                        "use %s yet:", number, hd_device_get_name(dev));
        for (size_t i = 0; i < hd_group_get_blocker_count(g); i++) {
            struct hd_device *b = hd_group_get_blocker(g, i);
            fprintf(stderr, "%s %s is bound to %s", i ? "," : "", hd_device_get_name(b),
                    hd_device_get_driver(b));
        }
        fprintf(stderr, ". Detach %s too, or all at once with 'hostdev detach --group %s'.\n",
                hd_group_get_blocker_count(g) > 1 ? "them" : "it", hd_device_get_name(dev));
    }
    hd_group_unref(g);
}

/* Every device a detach may change (the named ones, and with --group their groups' members),
 * with the driver each had: to report what changed, and to undo exactly that on failure. */
struct touched {
    struct hd_device **devs;
    char **before; /* driver before the command, NULL when unbound */
    bool *named;   /* given on the command line (always reported) */
    size_t n;
};

static bool on_stub(const char *driver)
{
    return driver != NULL && (hd_driver_is_vfio(driver) || strcmp(driver, "pci-stub") == 0);
}

static void touched_add(struct touched *tc, struct hd_device *dev, bool named)
{
    const char *d = hd_device_get_driver(dev);

    for (size_t i = 0; i < tc->n; i++) {
        if (hd_pci_addr_equal(hd_device_get_addr(tc->devs[i]), hd_device_get_addr(dev))) {
            tc->named[i] = tc->named[i] || named;
            return;
        }
    }
    tc->named[tc->n] = named;
    tc->devs[tc->n] = hd_device_ref(dev);
    tc->before[tc->n++] = d ? strdup(d) : NULL;
}

static void touched_free(struct touched *tc)
{
    for (size_t i = 0; i < tc->n; i++) {
        hd_device_unref(tc->devs[i]);
        free(tc->before[i]);
    }
    free(tc->devs);
    free(tc->before);
    free(tc->named);
}

static int touched_collect(struct tool *t, struct hd_device **devs, size_t n, bool group,
                           struct touched *tc)
{
    size_t cap = n;
    struct hd_group **groups = calloc(n + 1, sizeof(*groups));

    for (size_t i = 0; group && groups && i < n; i++) {
        int number = hd_device_get_iommu_group(devs[i]);
        if (number >= 0 && hd_group_open(t->ctx, number, &groups[i]) == 0)
            cap += hd_group_get_member_count(groups[i]);
    }
    tc->n = 0;
    tc->devs = calloc(cap + 1, sizeof(*tc->devs));
    tc->before = calloc(cap + 1, sizeof(*tc->before));
    tc->named = calloc(cap + 1, sizeof(*tc->named));
    if (groups == NULL || tc->devs == NULL || tc->before == NULL || tc->named == NULL) {
        for (size_t i = 0; groups && i < n; i++)
            hd_group_unref(groups[i]);
        free(groups);
        touched_free(tc);
        tool_error(t, EXIT_FAILED, "out of memory");
        return EXIT_FAILED;
    }
    for (size_t i = 0; i < n; i++) {
        touched_add(tc, devs[i], true);
        for (size_t k = 0; groups[i] && k < hd_group_get_member_count(groups[i]); k++)
            touched_add(tc, hd_group_get_member(groups[i], k), false);
        hd_group_unref(groups[i]);
    }
    free(groups);
    return EXIT_DONE;
}

/* Reattach what went from a host driver to a stub during this command. */
static void touched_undo(struct touched *tc)
{
    for (size_t i = tc->n; i-- > 0;) {
        hd_device_refresh(tc->devs[i]);
        if (tc->before[i] != NULL && !on_stub(tc->before[i]) &&
            on_stub(hd_device_get_driver(tc->devs[i])))
            hd_device_reattach(tc->devs[i]);
    }
}

/* Refuse, naming the reason, when a device this detach would take from its host driver (a
 * named one, or with --group a member) is something the host is using. */
static int touched_check_host_use(struct tool *t, struct touched *tc)
{
    for (size_t i = 0; i < tc->n; i++) {
        int r;
        if (tc->before[i] == NULL || on_stub(tc->before[i]) ||
            !hd_device_is_assignable(tc->devs[i]) || hd_driver_is_dma_safe(tc->before[i]))
            continue;
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_device_check_host_use(tc->devs[i])) < 0) {
            tool_lib_error_hint(t, EXIT_FAILED, r, "--force takes it anyway", "refusing");
            return EXIT_FAILED;
        }
    }
    return EXIT_DONE;
}

static void touched_print(struct touched *tc)
{
    for (size_t i = 0; i < tc->n; i++) {
        const char *now;
        hd_device_refresh(tc->devs[i]);
        now = hd_device_get_driver(tc->devs[i]);
        /* Named devices always; group members only when they changed. */
        if (!tc->named[i] && (now == NULL) == (tc->before[i] == NULL) &&
            (now == NULL || strcmp(now, tc->before[i]) == 0))
            continue;
        printf("%s: %s -> %s\n", hd_device_get_name(tc->devs[i]),
               tc->before[i] ? tc->before[i] : "unbound", now ? now : "unbound");
    }
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"driver", required_argument, NULL, 'd'},
                                         {"group", no_argument, NULL, 'g'},
                                         {"new-id", no_argument, NULL, 'n'},
                                         {"force", no_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    const char *stub = "vfio-pci";
    struct hd_device **devs;
    unsigned int flags = 0;
    bool group = false, force = false;
    struct touched touched;
    size_t n, done;
    int c, r;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = getopt_long(argc, argv, "d:gnf", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            stub = strcmp(optarg, "vfio") == 0 ? "vfio-pci" : optarg;
            if (strcmp(stub, "vfio-pci") != 0 && strcmp(stub, "pci-stub") != 0)
                return tool_error(t, EXIT_USAGE, "--driver '%s': use vfio-pci or pci-stub",
                                  optarg);
            break;
        case 'g':
            group = true;
            break;
        case 'n':
            flags |= HD_DETACH_NEW_ID;
            break;
        case 'f':
            force = true;
            break;
        default:
            tool_usage(&cmd_detach, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if ((r = devargs_open(t, argc - optind, argv + optind, &devs, &n)) != EXIT_DONE)
        return r;
    if ((r = touched_collect(t, devs, n, group, &touched)) != EXIT_DONE) {
        devargs_free(devs, n);
        return r;
    }
    if (!force && (r = touched_check_host_use(t, &touched)) != EXIT_DONE) {
        touched_free(&touched);
        devargs_free(devs, n);
        return r;
    }
    for (done = 0; done < n; done++) {
        struct hd_device *dev = devs[done];
        hd_ctx_clear_error(t->ctx);
        r = group ? hd_device_detach_group(dev, stub, flags) : hd_device_detach(dev, stub, flags);
        if (r < 0)
            break;
    }
    if (done < n) {
        tool_lib_error(t, EXIT_FAILED, r, "%s", hd_device_get_name(devs[done]));
        touched_undo(&touched); /* all or nothing: what this command changed goes back */
        touched_free(&touched);
        devargs_free(devs, n);
        return EXIT_FAILED;
    }
    if (!tool_json(t))
        touched_print(&touched);
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            json_begin_object(&j);
            json_kv_string(&j, "address", hd_device_get_name(devs[i]));
            json_kv_string(&j, "driver", hd_device_get_driver(devs[i]));
            json_kv_int_or_null(&j, "iommu_group", hd_device_get_iommu_group(devs[i]),
                                hd_device_get_iommu_group(devs[i]) >= 0);
            json_end_object(&j);
        }
        json_end_array(&j);
        json_finish(&j);
    }
    for (size_t i = 0; i < n; i++)
        warn_if_not_viable(t, devs[i]);
    touched_free(&touched);
    devargs_free(devs, n);
    return EXIT_DONE;
}

const struct tool_command cmd_detach = {
    .name = "detach",
    .run = run,
    .usage = "ADDR... [--driver vfio-pci|pci-stub] [--group] [--new-id] [--force]",
    .summary = "detach devices from their host drivers for passthrough",
    .help = "  -d, --driver NAME   stub driver: vfio-pci (default) or pci-stub\n"
            "  -g, --group         detach every endpoint of each device's IOMMU group\n"
            "  -n, --new-id        bind through new_id even where driver_override exists\n"
            "  -f, --force         detach even what the host uses (a mounted disk, an\n"
            "                      interface up with addresses or routes, the console)\n"
            "The driver each device had is recorded so that reattach can restore it. If any\n"
            "device fails, those already detached by this command are reattached.\n",
};
