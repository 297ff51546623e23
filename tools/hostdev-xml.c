/* hostdev-xml.c - `hostdev hostdev-xml`: the <hostdev> element libvirt wants for a device. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/* <hostdev mode='subsystem' type='pci' managed='yes|no'> with its driver and source address,
 * as libvirt writes it in a domain's <devices>. */
static void write_hostdev(FILE *out, const struct hd_pci_addr *a, bool managed, const char *driver,
                          int indent)
{
    fprintf(out, "%*s<hostdev mode='subsystem' type='pci' managed='%s'>\n", indent, "",
            managed ? "yes" : "no");
    if (driver != NULL && driver[0] != '\0')
        fprintf(out, "%*s  <driver name='%s'/>\n", indent, "", driver);
    fprintf(out, "%*s  <source>\n", indent, "");
    fprintf(out, "%*s    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n",
            indent, "", a->domain, a->bus, a->slot, a->function);
    fprintf(out, "%*s  </source>\n", indent, "");
    fprintf(out, "%*s</hostdev>\n", indent, "");
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"managed", required_argument, NULL, 'm'},
                                         {"driver", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    const char *driver = "vfio";
    bool managed = true;
    int c;

    optind = 0; /* 0: glibc re-reads the ordering mode, so options may follow ADDRs */
    while ((c = getopt_long(argc, argv, "m:d:", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0)
                return tool_error(t, EXIT_USAGE, "--managed '%s': yes or no", optarg);
            managed = strcmp(optarg, "yes") == 0;
            break;
        case 'd':
            /* libvirt's backends; "none" leaves <driver> out (libvirt then picks vfio). */
            if (strcmp(optarg, "vfio") != 0 && strcmp(optarg, "none") != 0)
                return tool_error(t, EXIT_USAGE, "--driver '%s': vfio or none", optarg);
            driver = strcmp(optarg, "none") == 0 ? NULL : optarg;
            break;
        default:
            tool_usage(&cmd_hostdev_xml, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return tool_error(t, EXIT_USAGE, "no device given (an address such as 0000:06:12.5)");
    /* Every device first: no partial output for a typo or an absent device in the last one. */
    int n = argc - optind;
    struct hd_pci_addr *addrs = calloc((size_t)n, sizeof(*addrs));
    if (addrs == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (int i = 0; i < n; i++) {
        struct hd_device *dev = NULL;
        int r = tool_open_device(t, argv[optind + i], &dev);
        if (r != EXIT_DONE) {
            free(addrs);
            return r;
        }
        addrs[i] = *hd_device_get_addr(dev);
        hd_device_unref(dev);
    }
    struct json j;
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (int i = 0; i < n; i++) {
        const struct hd_pci_addr *addr = &addrs[i];
        char name[HD_PCI_ADDR_BUFSZ], *xml = NULL;
        size_t len = 0;
        if (!tool_json(t)) {
            write_hostdev(stdout, addr, managed, driver, 0);
            continue;
        }
        /* {address, xml}: the element as text, for callers that splice it into a domain. */
        FILE *mem = open_memstream(&xml, &len);
        if (mem == NULL) {
            free(addrs);
            return tool_error(t, EXIT_FAILED, "out of memory");
        }
        write_hostdev(mem, addr, managed, driver, 0);
        fclose(mem);
        json_begin_object(&j);
        json_kv_string(&j, "address", hd_pci_addr_format(addr, name));
        json_kv_bool(&j, "managed", managed);
        json_kv_string(&j, "xml", xml);
        json_end_object(&j);
        free(xml);
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    free(addrs);
    return EXIT_DONE;
}

const struct tool_command cmd_hostdev_xml = {
    .name = "hostdev-xml",
    .run = run,
    .usage = "ADDR... [--managed yes|no] [--driver vfio|none]",
    .summary = "print the libvirt <hostdev> element that assigns each device to a VM",
    .help = "  -m, --managed yes|no  managed='yes' (default): libvirt detaches and reattaches\n"
            "                        the device itself; 'no': it must be detached beforehand\n"
            "  -d, --driver NAME     <driver name='vfio'/> (default), or none to leave it out\n"
            "The element goes in the <devices> of a domain; it does not touch the device.\n",
};
