/* list.c - `hostdev list`: every PCI device, one line each (or JSON). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devout.h"

static const char *const known_caps[] = {"pci"};

static int check_caps(struct tool *t, const char *caps)
{
    char copy[256], *save = NULL;

    if (strlen(caps) >= sizeof(copy))
        return tool_error(t, EXIT_USAGE, "--caps '%.40s...': too long", caps);
    snprintf(copy, sizeof(copy), "%s", caps);
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known_caps) / sizeof(known_caps[0]); i++)
            ok = ok || strcmp(c, known_caps[i]) == 0;
        if (!ok)
            return tool_error(t, EXIT_USAGE, "--caps: unknown capability '%s' (known: pci)", c);
    }
    return EXIT_DONE;
}

static bool selected(const struct hd_device *dev, const struct hd_pci_selector *sel, int nsel)
{
    if (nsel == 0)
        return true;
    for (int i = 0; i < nsel; i++) {
        if (sel[i].kind == HD_SELECTOR_ADDR && hd_pci_addr_equal(&sel[i].addr,
                                                                 hd_device_get_addr(dev)))
            return true;
        if (sel[i].kind == HD_SELECTOR_IDS && sel[i].vendor == hd_device_get_vendor_id(dev) &&
            sel[i].device == hd_device_get_device_id(dev))
            return true;
    }
    return false;
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"caps", required_argument, NULL, 'c'},
                                         {"driver", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    struct hd_pci_selector *sel = NULL;
    const char *driver = NULL;
    struct hd_device_list *list;
    unsigned int fill;
    int c, r, nsel = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+c:d:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if ((r = check_caps(t, optarg)) != EXIT_DONE)
                return r;
            break;
        case 'd':
            driver = optarg;
            break;
        default:
            tool_usage(&cmd_list, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (argc > optind && (sel = calloc((size_t)(argc - optind), sizeof(*sel))) == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (int i = optind; i < argc; i++) {
        if (hd_pci_selector_parse(argv[i], &sel[nsel++]) < 0) {
            free(sel);
            return tool_error(t, EXIT_USAGE,
                              "invalid device selector '%s' (expected an address or VVVV:DDDD)",
                              argv[i]);
        }
    }
    /* Only what the output shows: the plain listing stays at a few syscalls per device. */
    fill = HD_FILL_IDENT | HD_FILL_GROUP | HD_FILL_CONFIG | HD_FILL_NAMES;
    if (t->json)
        fill = HD_FILL_ALL;
    r = hd_device_list_new(t->ctx, fill, &list);
    if (r < 0) {
        free(sel);
        return tool_lib_error(t, EXIT_FAILED, r, "cannot list PCI devices");
    }
    struct json j;
    if (t->json) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        const char *drv = hd_device_get_driver(dev);
        if (!selected(dev, sel, nsel))
            continue;
        if (driver != NULL && (drv == NULL ? strcmp(driver, "none") != 0 : strcmp(driver, drv) != 0))
            continue;
        if (t->json) {
            json_begin_object(&j);
            device_print_json_fields(&j, dev);
            json_end_object(&j);
        } else {
            device_print_line(stdout, dev);
        }
    }
    if (t->json) {
        json_end_array(&j);
        json_finish(&j);
    }
    hd_device_list_unref(list);
    free(sel);
    return EXIT_DONE;
}

const struct tool_command cmd_list = {
    .name = "list",
    .run = run,
    .usage = "[--caps pci] [--driver NAME|none] [ADDR|VVVV:DDDD...]",
    .summary = "list PCI devices with driver and IOMMU group",
    .help = "  -c, --caps CAPS     only these capabilities (comma-separated; pci)\n"
            "  -d, --driver NAME   only devices bound to NAME ('none': unbound ones)\n"
            "  ADDR, VVVV:DDDD     only these devices\n"
            "With --json: an array of objects (address, vendor_id, device_id, class, driver,\n"
            "iommu_group, parent, physfn, virtfns, reset_methods, assignable, ...).\n",
};
