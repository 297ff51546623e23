/* list.c - `hostdev list`: every PCI device, one line each (or JSON). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devout.h"
#include "vdsm.h"

#ifndef HOSTDEV_TOOLS_CORE
/* --caps: capability names as libvirt spells them, comma-separated, into a bit mask. */
static int parse_caps(struct tool *t, const char *caps, unsigned int *mask)
{
    char copy[256], *save = NULL;

    if (strlen(caps) >= sizeof(copy))
        return tool_error(t, EXIT_USAGE, "--caps '%.40s...': too long", caps);
    snprintf(copy, sizeof(copy), "%s", caps);
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        int cap = hd_nodedev_cap_from_string(c);
        if (cap < 0)
            return tool_error(t, EXIT_USAGE,
                              "--caps: unknown capability '%s' (known: system, pci, usb_device, "
                              "usb, net, scsi_host, scsi_target, scsi, storage, scsi_generic)",
                              c);
        *mask |= 1u << cap;
    }
    return EXIT_DONE;
}

/* Devices beyond PCI: "usb_1_2 usb_device parent=usb_usb1 driver=usb" (or JSON objects). */
static int list_nodedevs(struct tool *t, unsigned int mask)
{
    struct hd_nodedev_list *list;
    struct json j;
    int r;

    hd_ctx_clear_error(t->ctx);
    if ((r = hd_nodedev_list_new(t->ctx, mask, &list)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "cannot list node devices");
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
        struct hd_nodedev *d = hd_nodedev_list_get(list, i);
        if (tool_json(t)) {
            json_begin_object(&j);
            json_kv_string(&j, "name", hd_nodedev_get_name(d));
            json_kv_string(&j, "capability", hd_nodedev_cap_to_string(hd_nodedev_get_cap(d)));
            json_kv_string(&j, "parent", hd_nodedev_get_parent(d));
            json_kv_string(&j, "driver", hd_nodedev_get_driver(d));
            json_end_object(&j);
        } else {
            printf("%s %s parent=%s driver=%s\n", hd_nodedev_get_name(d),
                   hd_nodedev_cap_to_string(hd_nodedev_get_cap(d)),
                   hd_nodedev_get_parent(d) ? hd_nodedev_get_parent(d) : "-",
                   hd_nodedev_get_driver(d) ? hd_nodedev_get_driver(d) : "-");
        }
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    hd_nodedev_list_unref(list);
    return EXIT_DONE;
}

static int beyond_pci(struct tool *t, unsigned int caps, bool vdsm, bool tree)
{
    return vdsm ? vdsm_list(t, caps, tree) : list_nodedevs(t, caps);
}
#else
/* The early-boot binary lists PCI devices only: node devices and VDSM stay out of it. */
static int parse_caps(struct tool *t, const char *caps, unsigned int *mask)
{
    (void)mask;
    return tool_error(t, EXIT_USAGE, "--caps '%s': not in this build (hostdev-static lists PCI "
                      "devices only)", caps);
}

static int beyond_pci(struct tool *t, unsigned int caps, bool vdsm, bool tree)
{
    (void)caps;
    (void)vdsm;
    (void)tree;
    return tool_error(t, EXIT_USAGE, "--format vdsm: not in this build (hostdev-static)");
}
#endif

/* Does @dev match any selector (all when none)? Marks in @matched the ones it matches. */
static bool selected(const struct hd_device *dev, const struct hd_pci_selector *sel, int nsel,
                     bool *matched)
{
    bool any = nsel == 0;

    for (int i = 0; i < nsel; i++) {
        if (hd_pci_selector_match(&sel[i], dev))
            any = matched[i] = true;
    }
    return any;
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"caps", required_argument, NULL, 'c'},
                                         {"driver", required_argument, NULL, 'd'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"tree", no_argument, NULL, 'T'},
                                         {NULL, 0, NULL, 0}};
    struct hd_pci_selector *sel = NULL;
    const char *driver = NULL;
    unsigned int caps = 0;
    bool vdsm = false, tree = false;
    struct hd_device_list *list;
    unsigned int fill;
    int c, r, nsel = 0;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = getopt_long(argc, argv, "c:d:f:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if ((r = parse_caps(t, optarg, &caps)) != EXIT_DONE)
                return r;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0) { /* as --json, the way lsblk/ip users ask */
#ifdef HOSTDEV_TOOLS_CORE
                return tool_error(t, EXIT_USAGE, "--format json: not in this build "
                                                 "(hostdev-static)");
#else
                t->json = true;
                break;
#endif
            }
            if (strcmp(optarg, "vdsm") != 0 && strcmp(optarg, "text") != 0)
                return tool_error(t, EXIT_USAGE, "--format '%s': text, json or vdsm", optarg);
            vdsm = strcmp(optarg, "vdsm") == 0;
            break;
        case 'T':
            tree = true;
            break;
        case 'd':
            driver = optarg;
            break;
        default:
            tool_usage(&cmd_list, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (tree && !vdsm)
        return tool_error(t, EXIT_USAGE, "--tree draws the VDSM listing: add --format vdsm");
    if (vdsm || (caps & ~(1u << HD_CAP_PCI)) != 0) {
        if (argc > optind || driver != NULL)
            return tool_error(t, EXIT_USAGE, "device selectors and --driver go with PCI "
                              "listings only");
        return beyond_pci(t, caps, vdsm, tree);
    }
    bool *matched = NULL;
    if (argc > optind && ((sel = calloc((size_t)(argc - optind), sizeof(*sel))) == NULL ||
                          (matched = calloc((size_t)(argc - optind), sizeof(*matched))) == NULL)) {
        free(sel);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    for (int i = optind; i < argc; i++) {
        if (hd_pci_selector_parse(argv[i], &sel[nsel]) < 0 &&
            tool_netif_addr(t, argv[i], &sel[nsel].addr) == 0)
            sel[nsel].kind = HD_SELECTOR_ADDR; /* an interface's name */
        else if (hd_pci_selector_parse(argv[i], &sel[nsel]) < 0) {
            free(matched);
            free(sel);
            return tool_error(t, EXIT_USAGE,
                              "invalid device selector '%s' (expected an address, VVVV:DDDD "
                              "or an interface name)",
                              argv[i]);
        }
        nsel++;
    }
    /* Only what the output shows: the plain listing stays at a few syscalls per device. */
    fill = HD_FILL_IDENT | HD_FILL_GROUP | HD_FILL_CONFIG | HD_FILL_NAMES;
    if (tool_json(t))
        fill = HD_FILL_ALL;
    r = hd_device_list_new(t->ctx, fill, &list);
    if (r < 0) {
        free(matched);
        free(sel);
        return tool_lib_error(t, EXIT_FAILED, r, "cannot list PCI devices");
    }
    struct device_facts facts;
    device_facts_read(t, &facts);
    struct json j;
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        const char *drv = hd_device_get_driver(dev);
        if (!selected(dev, sel, nsel, matched))
            continue;
        if (driver != NULL && (drv == NULL ? strcmp(driver, "none") != 0 : strcmp(driver, drv) != 0))
            continue;
        if (tool_json(t)) {
            json_begin_object(&j);
            device_print_json_fields(&j, dev, &facts);
            json_end_object(&j);
        } else {
            device_print_line(stdout, dev, &facts);
        }
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    hd_device_list_unref(list);
    device_facts_free(&facts);
    /* A device named by its address that is not there is a mistake, not an empty answer. */
    for (int i = 0; i < nsel; i++) {
        if (!matched[i] && sel[i].kind == HD_SELECTOR_ADDR) {
            r = tool_error(t, EXIT_USAGE, "%s: no such PCI device under %s", argv[optind + i],
                           hd_ctx_get_root(t->ctx));
            free(matched);
            free(sel);
            return r;
        }
    }
    free(matched);
    free(sel);
    return EXIT_DONE;
}

const struct tool_command cmd_list = {
    .name = "list",
    .run = run,
    .usage = "[--caps CAPS] [--driver NAME|none] [--format text|json|vdsm [--tree]] "
             "[ADDR|VVVV:DDDD...]",
    .summary = "list PCI devices with driver and IOMMU group (or every node device)",
    .help = "  -c, --caps CAPS     only these capabilities, comma-separated, as libvirt names\n"
            "                      them: pci, usb_device, usb, net, scsi_host, scsi_target,\n"
            "                      scsi, storage, scsi_generic, system. Beyond pci, one line\n"
            "                      per libvirt node device (name, capability, parent, driver)\n"
            "  -d, --driver NAME   only devices bound to NAME ('none': unbound ones)\n"
            "  -f, --format json   the same as --json\n"
            "  -f, --format vdsm   oVirt VDSM's hostdevListByCaps structure as JSON:\n"
            "                      {name: {\"params\": {capability, vendor, product, ...},\n"
            "                      \"vmId\": \"\"}} (all capabilities unless --caps)\n"
            "      --tree          with --format vdsm: vdsClient's tree, one Python dict per\n"
            "                      device, indented under its parent\n"
            "  ADDR, VVVV:DDDD     only these devices\n"
            "With --json: an array of objects (address, vendor_id, device_id, class, driver,\n"
            "iommu_group, parent, physfn, virtfns, reset_methods, assignable, ...).\n",
};
