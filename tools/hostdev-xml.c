/* hostdev-xml.c - `hostdev hostdev-xml`: the <hostdev> element libvirt wants for a device. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"
#include "vmmopts.h"

/* @s as the value of an XML attribute in single quotes. */
static void put_attr(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '\'': fputs("&apos;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* <hostdev mode='subsystem' type='pci' managed='yes|no'> with its driver and source address,
 * as libvirt writes it in a domain's <devices>; the ROM and the guest address when given. */
static void write_hostdev(FILE *out, const struct hd_pci_addr *a, bool managed, const char *driver,
                          const struct vmm_opts *o, const struct guest_place *place)
{
    fprintf(out, "<hostdev mode='subsystem' type='pci' managed='%s'>\n", managed ? "yes" : "no");
    if (driver != NULL && driver[0] != '\0')
        fprintf(out, "  <driver name='%s'/>\n", driver);
    fprintf(out, "  <source>\n");
    fprintf(out, "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n",
            a->domain, a->bus, a->slot, a->function);
    fprintf(out, "  </source>\n");
    if (o->rom_bar >= 0 || o->rom_file != NULL) {
        fputs("  <rom", out);
        if (o->rom_bar >= 0)
            fprintf(out, " bar='%s'", o->rom_bar ? "on" : "off");
        if (o->rom_file != NULL) {
            fputs(" file='", out);
            put_attr(out, o->rom_file);
            fputc('\'', out);
        }
        fputs("/>\n", out);
    }
    if (place->slot >= 0)
        fprintf(out, "  <address type='pci' domain='0x0000' bus='0x00' slot='0x%02x' "
                     "function='0x%x'%s/>\n", (unsigned)place->slot, place->function,
                place->multifunction ? " multifunction='on'" : "");
    fprintf(out, "</hostdev>\n");
}

/* A device that is not a PCI function: a mediated device by UUID (its model is the device
 * API), a USB device by vendor and product (its bus and device too when another device has
 * the same ids), a SCSI device by its adapter and address. */
static void write_other_hostdev(FILE *out, const struct devarg_other *o, bool managed)
{
    switch (o->cap) {
    case HD_CAP_MDEV:
        fprintf(out, "<hostdev mode='subsystem' type='mdev' model='%s'>\n", o->api);
        fprintf(out, "  <source>\n    <address uuid='%s'/>\n  </source>\n", o->uuid);
        break;
    case HD_CAP_USB_DEVICE:
        fprintf(out, "<hostdev mode='subsystem' type='usb' managed='%s'>\n",
                managed ? "yes" : "no");
        fprintf(out, "  <source>\n    <vendor id='0x%04x'/>\n    <product id='0x%04x'/>\n",
                (unsigned)o->vendor, (unsigned)o->product);
        if (!o->ids_unique)
            fprintf(out, "    <address bus='%lu' device='%lu'/>\n", o->addr[0], o->addr[1]);
        fprintf(out, "  </source>\n");
        break;
    default: /* HD_CAP_SCSI */
        fprintf(out, "<hostdev mode='subsystem' type='scsi' managed='%s'>\n",
                managed ? "yes" : "no");
        fprintf(out, "  <source>\n    <adapter name='scsi_host%lu'/>\n"
                     "    <address bus='%lu' target='%lu' unit='%lu'/>\n  </source>\n",
                o->addr[0], o->addr[1], o->addr[2], o->addr[3]);
        break;
    }
    fprintf(out, "</hostdev>\n");
}

static const struct option hostdev_xml_opts[] = {{"managed", required_argument, NULL, 'm'},
                                                 {"driver", required_argument, NULL, 'd'},
                                                 {"rom-bar", required_argument, NULL, 'B'},
                                                 {"rom-file", required_argument, NULL, 'F'},
                                                 {"guest-slot", required_argument, NULL, 'S'},
                                                 {"vm", required_argument, NULL, 'V'},
                                                 {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    const char *driver = "vfio", *vm = NULL;
    struct vmm_opts vo;
    int managed = -1; /* not given: yes, or no for --vm */
    int c, taken;

    vmm_opts_init(&vo);
    optind = 0; /* 0: glibc re-reads the ordering mode, so options may follow ADDRs */
    while ((c = tool_getopt(argc, argv, cmd_hostdev_xml.shortopts, cmd_hostdev_xml.opts)) != -1) {
        if ((taken = vmm_opts_parse(t, c, optarg, &vo)) != 0) {
            if (taken != 1)
                return taken;
            continue;
        }
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
        case 'V':
            if ((taken = tool_take_once(t, "--vm", &vm, optarg)) != EXIT_DONE)
                return taken;
            break;
        default:
            tool_usage(&cmd_hostdev_xml, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    /* Every device first: no partial output for a typo or an absent device in the last one. */
    struct devarg_other *others;
    struct hd_device **devs;
    size_t n;
    if (vm != NULL && optind < argc)
        return tool_error(t, EXIT_USAGE, "--vm gives the devices: no ADDR with it");
    /* A VM's devices are hostdev's, detached already and given back by its release: libvirt
     * managing them too would reattach them at the domain's shutdown, behind the records. */
    if (managed < 0)
        managed = vm == NULL;
    int code = vm != NULL ? devargs_open_vm(t, vm, &devs, &others, &n)
                          : devargs_open_any(t, argc - optind, argv + optind, &devs, &others, &n);
    if (code != EXIT_DONE)
        return code;
    struct guest_place *places = calloc(n + 1, sizeof(*places));
    if (places == NULL) {
        devargs_free_any(devs, others, n);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    code = guest_places(t, &vo, devs, n, places);
    if (code != EXIT_DONE) {
        free(places);
        devargs_free_any(devs, others, n);
        return code;
    }
    char warning[512];
    for (size_t i = 0; i < n && !tool_json(t); i++) {
        if (devarg_vm_would_fail(t, devs[i], &others[i], managed, warning, sizeof(warning)))
            fprintf(stderr, "%s hostdev-xml: warning: %s\n", t->prog, warning);
    }
    struct json j;
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < n; i++) {
        char name[HD_PCI_ADDR_BUFSZ], *xml = NULL;
        size_t len = 0;
        FILE *mem = tool_json(t) ? open_memstream(&xml, &len) : stdout;
        if (mem == NULL) {
            free(places);
            devargs_free_any(devs, others, n);
            return tool_error(t, EXIT_FAILED, "out of memory");
        }
        if (devs[i] != NULL)
            write_hostdev(mem, hd_device_get_addr(devs[i]), managed, driver, &vo, &places[i]);
        else
            write_other_hostdev(mem, &others[i], managed);
        if (!tool_json(t))
            continue;
        /* {address, xml}: the element as text, for callers that splice it into a domain. */
        fclose(mem);
        json_begin_object(&j);
        json_kv_string(&j, "address",
                       devs[i] ? hd_pci_addr_format(hd_device_get_addr(devs[i]), name)
                               : others[i].name);
        json_kv_bool(&j, "managed", others[i].cap != HD_CAP_MDEV && managed);
        json_kv_string(&j, "xml", xml);
        /* Under --json the warning is the element's, not a line on stderr. */
        if (devarg_vm_would_fail(t, devs[i], &others[i], managed, warning, sizeof(warning)))
            json_kv_string(&j, "warning", warning);
        json_end_object(&j);
        free(xml);
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_finish(&j);
    }
    free(places);
    devargs_free_any(devs, others, n);
    return EXIT_DONE;
}

const struct tool_command cmd_hostdev_xml = {
    .shortopts = "m:d:",
    .opts = hostdev_xml_opts,
    .name = "hostdev-xml",
    .takes = TOOL_TAKES_ANY,
    .run = run,
    .usage = "ADDR... | --vm ID [--managed yes|no]\n"
             "       [--driver vfio|none] [--rom-bar on|off] [--rom-file FILE]\n"
             "       [--guest-slot N]",
    .summary = "print the libvirt <hostdev> elements that assign devices to a VM",
    .help = "      --vm ID             the devices VM ID holds (hostdev acquire), in the\n"
            "                          order they were acquired; not the members of their\n"
            "                          IOMMU groups that came with --group (on vfio for the\n"
            "                          group's sake, not given to the guest)\n"
            "  -m, --managed yes|no    managed='yes' (default): libvirt detaches and\n"
            "                          reattaches the device itself; 'no': it must be\n"
            "                          detached beforehand (the default with --vm: hostdev\n"
            "                          holds those devices)\n"
            "  -d, --driver NAME       <driver name='vfio'/> (default), or none: left out\n"
            VMM_OPTS_HELP
            "The element goes in the <devices> of a domain; it does not touch the device.\n"
            "A device may also be a mediated device's UUID (type='mdev'), a USB device\n"
            "(usb_BUS_PORT or usb:VVVV:PPPP[:SERIAL]: type='usb', by vendor and product) or a\n"
            "SCSI device (scsi_H_B_T_L: type='scsi', by adapter and address).\n"
            "Several functions of one device (a GPU and its audio function) stay together in\n"
            "one guest slot with their function numbers: <address type='pci' ...>, function 0\n"
            "with multifunction='on'.\n",
};
