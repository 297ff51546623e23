/* list.c - `hostdev list`: every PCI device, one line each (or JSON). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devfilter.h"
#include "devout.h"
#include "opout.h"
#include "vdsm.h"

#ifndef HOSTDEV_TOOLS_CORE
/* --caps: capability names as libvirt spells them, comma-separated, into a bit mask. */
static int parse_caps(struct tool *t, const char *caps, unsigned int *mask)
{
    char copy[256], *save = NULL;

    if (strlen(caps) >= sizeof(copy))
        return tool_error(t, EXIT_USAGE, "--caps '%.40s...': too long", caps);
    static const char known[] = "system, pci, usb_device, usb, net, scsi_host, scsi_target, "
                                "scsi, storage, scsi_generic, mdev_types, mdev";
    size_t named = 0;
    snprintf(copy, sizeof(copy), "%s", caps);
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save), named++) {
        int cap = hd_nodedev_cap_from_string(c);
        if (cap < 0)
            return tool_error(t, EXIT_USAGE, "--caps: unknown capability '%s' (known: %s)", c,
                              known);
        *mask |= 1u << cap;
    }
    /* "--caps $CAPS" with CAPS unset would list PCI devices as if none were asked for. */
    if (named == 0)
        return tool_error(t, EXIT_USAGE, "--caps '%s' names no capability (known: %s)", caps,
                          known);
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

/* --driver naming a driver the kernel does not have lists nothing, as it should (lspci does
 * the same), but "no devices" is then a misleading answer to a typo (vfio_pci): a note says
 * so, with the name that is registered when only '-' and '_' differ. */
static void note_unregistered(struct tool *t, const char *driver)
{
    char other[256];

    if (strcmp(driver, "none") == 0 || tool_json(t) ||
        hd_pci_driver_registered(t->ctx, driver) != 0)
        return;
    snprintf(other, sizeof(other), "%s", driver);
    for (char *c = other; *c; c++)
        *c = *c == '-' ? '_' : *c == '_' ? '-' : *c;
    fprintf(stderr, "%s list: note: no driver '", t->prog);
    tool_put_text(stderr, driver);
    if (strcmp(other, driver) != 0 && hd_pci_driver_registered(t->ctx, other) == 1)
        fprintf(stderr, "' is registered; '%s' is\n", other);
    else
        fputs("' is registered\n", stderr);
}

static const struct option list_opts[] = {{"caps", required_argument, NULL, 'c'},
                                          {"driver", required_argument, NULL, 'd'},
                                          {"format", required_argument, NULL, 'f'},
                                          {"tree", no_argument, NULL, 'T'},
                                          {"slot", required_argument, NULL, 's'},
                                          {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    struct devfilter *filter = devfilter_new();
    const char *missing;
    unsigned int caps = 0;
    bool vdsm = false, tree = false, selectors = false;
    const char *format = NULL; /* as typed */
    struct hd_device_list *list;
    unsigned int fill;
    int c, r = EXIT_DONE;

    if (filter == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while (r == EXIT_DONE &&
           (c = tool_getopt(argc, argv, cmd_list.shortopts, cmd_list.opts)) != -1) {
        switch (c) {
        case 's':
            r = devfilter_add_slot(t, filter, optarg);
            selectors = true;
            break;
        case 'c':
            r = parse_caps(t, optarg, &caps);
            break;
        case 'f':
            if ((r = tool_take_once(t, "--format", &format, optarg)) != EXIT_DONE)
                break;
            if (strcmp(optarg, "json") == 0) { /* as --json, the way lsblk/ip users ask */
#ifdef HOSTDEV_TOOLS_CORE
                r = tool_error(t, EXIT_USAGE, "--format json: not in this build "
                                              "(hostdev-static)");
                break;
#else
                t->json = true;
                break;
#endif
            }
            if (strcmp(optarg, "vdsm") != 0 && strcmp(optarg, "text") != 0)
                r = tool_error(t, EXIT_USAGE, "--format '%s': text, json or vdsm", optarg);
            vdsm = strcmp(optarg, "vdsm") == 0;
            break;
        case 'T':
            tree = true;
            break;
        case 'd':
            /* lspci's -d VENDOR:DEVICE[:CLASS]; a driver name never has a colon. */
            if (strchr(optarg, ':') != NULL) {
                r = devfilter_add_ids(t, filter, optarg);
                selectors = true;
            } else {
                r = devfilter_add_driver(t, filter, optarg);
            }
            break;
        default:
            tool_usage(&cmd_list, stderr, t->prog);
            r = EXIT_USAGE;
        }
    }
    /* A node-device listing takes no operand: say that, rather than that a node device's
     * name (usb_1_3) is no PCI address. */
    bool beyond = vdsm || (caps & ~(1u << HD_CAP_PCI)) != 0;
    for (int i = optind; r == EXIT_DONE && i < argc; i++) {
        r = beyond ? EXIT_DONE : devfilter_add_arg(t, filter, argv[i]);
        selectors = true;
    }
    if (r != EXIT_DONE) {
        devfilter_free(filter);
        return r;
    }
    /* --json asks for JSON; --format text for the opposite: neither is taken over the other,
     * as --tree (text too) is not. */
    if (format != NULL && strcmp(format, "text") == 0 && tool_json(t)) {
        devfilter_free(filter);
        return tool_error(t, EXIT_USAGE, "--format text contradicts --json: give one of them");
    }
    if (tree && !vdsm) {
        devfilter_free(filter);
        return tool_error(t, EXIT_USAGE, "--tree draws the VDSM listing: add --format vdsm");
    }
    /* The tree is vdsClient's Python text: a script that asked for JSON would not get it. */
    if (tree && tool_json(t)) {
        devfilter_free(filter);
        return tool_error(t, EXIT_USAGE, "--tree draws vdsClient's text, not JSON: drop --json "
                          "(--format vdsm alone is the JSON)");
    }
    if (beyond) {
        bool drivers = devfilter_driver_count(filter) > 0;
        devfilter_free(filter);
        if (selectors || drivers)
            return tool_error(t, EXIT_USAGE, "device selectors and --driver go with PCI "
                              "listings only");
        return beyond_pci(t, caps, vdsm, tree);
    }
    /* Only what the output shows, the same for text and JSON: a few syscalls per device
     * (overrides are read for devices on a stub or on none; the rest is show's). */
    fill = HD_FILL_IDENT | HD_FILL_GROUP | HD_FILL_CONFIG | HD_FILL_NAMES;
    /* A device left out (what sysfs holds for it is not the kernel's) is a warning; with
     * selectors, only a device named by address matters, and its error says why. */
    int priority = hd_ctx_get_log_priority(t->ctx);
    if (selectors && t->verbose == 0)
        hd_ctx_set_log_priority(t->ctx, HD_LOG_ERR);
    r = hd_device_list_new(t->ctx, fill, &list);
    hd_ctx_set_log_priority(t->ctx, priority);
    if (r < 0) {
        devfilter_free(filter);
        return tool_lib_error(t, EXIT_FAILED, r, "cannot list PCI devices");
    }
    /* A device named outright has its driver link read, as show reads it: the listing took
     * its driver from the drivers' directories, and a link the kernel would not make is why
     * (exit 2). */
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        const char *arg = devfilter_names(filter, dev);
        if (arg == NULL)
            continue;
        r = hd_device_check_driver_link(dev);
        /* Gone since, or changing driver right now: listed as the listing saw it. */
        if (r < 0 && r != -ENODEV && r != -EAGAIN) {
            hd_device_list_unref(list);
            devfilter_free(filter);
            return tool_lib_error(t, tool_exit_for(t), r, "%s", arg);
        }
    }
    hd_ctx_clear_error(t->ctx);
    struct device_facts facts;
    device_facts_read(t, &facts);
    struct json j;
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *dev = hd_device_list_get(list, i);
        const char *ifnames =
            facts.netifs ? hd_netif_list_get(facts.netifs, hd_device_get_addr(dev)) : "";
        if (!devfilter_match(filter, dev, ifnames) || !devfilter_driver_match(filter, dev))
            continue;
        if (tool_json(t)) {
            json_begin_object(&j);
            device_print_json_fields(&j, dev, &facts, false);
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
    for (size_t i = 0; i < devfilter_driver_count(filter); i++)
        note_unregistered(t, devfilter_driver(filter, i));
    /* A device named by its address that is not there is a mistake, not an empty answer. */
    r = EXIT_DONE;
    if ((missing = devfilter_unmatched_address(filter)) != NULL) {
        /* There but not listable (what sysfs holds for it is not the kernel's): say why. */
        struct hd_device *dev = NULL;
        struct hd_pci_addr addr;
        int e = -ENODEV;
        hd_ctx_clear_error(t->ctx);
        if (hd_pci_addr_parse(missing, &addr) == 0)
            e = hd_device_open(t->ctx, &addr, &dev);
        hd_device_unref(dev);
        if (e < 0 && e != -ENODEV)
            r = tool_lib_error(t, tool_exit_for(t), e, "%s", missing);
        else
            r = tool_error(t, EXIT_USAGE, "%s: no such PCI device under %s", missing,
                           hd_ctx_get_root(t->ctx));
    }
    devfilter_free(filter);
    return r;
}

const struct tool_command cmd_list = {
    .shortopts = "c:d:f:s:",
    .opts = list_opts,
    .name = "list",
    .run = run,
    .usage = "[--caps CAPS] [--driver NAME|none] [-s SLOT]\n"
             "       [-d [V]:[D][:CLASS]] [--format text|json|vdsm [--tree]]\n"
             "       [ADDR|VVVV:DDDD|IFNAME|GLOB...]",
    .summary = "list PCI devices, driver and IOMMU group (or every node device)",
    .help = "  -c, --caps CAPS     only these capabilities, comma-separated, as libvirt names\n"
            "                      them: pci, usb_device, usb, net, scsi_host, scsi_target,\n"
            "                      scsi, storage, scsi_generic, system, mdev_types (parents\n"
            "                      of mediated devices), mdev. Beyond pci, one line per\n"
            "                      libvirt node device (name, capability, parent, driver)\n"
            "  -d, --driver NAME   only devices bound to NAME ('none': unbound ones;\n"
            "                      repeated: any of them); a NAME no driver is registered by:\n"
            "                      a note on stderr\n"
            "  -s, --slot [[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]]\n"
            "                                          as lspci: '*' or nothing is any\n"
            "  -d [VENDOR]:[DEVICE][:CLASS]            as lspci (-d ::0300, -d 10de:)\n"
            "  -f, --format json   the same as --json\n"
            "  -f, --format vdsm   oVirt VDSM's hostdevListByCaps structure as JSON:\n"
            "                      {name: {\"params\": {capability, vendor, product, ...},\n"
            "                      \"vmId\": \"\"}} (all capabilities unless --caps)\n"
            "      --tree          with --format vdsm: vdsClient's tree, one Python dict per\n"
            "                      device, indented under its parent\n"
            "  ADDR, VVVV:DDDD     only these devices; also an interface (enp3s0) or a glob\n"
            "                      over the address or interface (01:00.*, enp3*); -s, -d\n"
            "                      and these repeat, OR-ed; an address or interface that\n"
            "                      is not there is exit 2, a glob matching none is not\n"
            "A group that vfio's unsafe no-IOMMU mode made is marked 'noiommu' after it.\n"
            "With --json: an array of objects with the line's fields (address, vendor_id,\n"
            "device_id, class, driver, iommu_group, noiommu, physfn, vm, ...); show --json\n"
            "has them all.\n",
};
