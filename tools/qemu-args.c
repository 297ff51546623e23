/* qemu-args.c - `hostdev qemu-args`: the VMM arguments that hand detached devices to a VM. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"
#include "domain-args.h"
#include "vmmopts.h"

/* One argument pair ("-device", "vfio-pci,..."): a line of text, or two strings of the JSON
 * argv array (ready for execv). */
static void emit(struct tool *t, struct json *j, const char *opt, const char *fmt, ...)
    HD_PRINTF_TOOL(4, 5);
static void emit(struct tool *t, struct json *j, const char *opt, const char *fmt, ...)
{
    char *val = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&val, fmt, ap) < 0)
        val = NULL;
    va_end(ap);
    if (tool_json(t)) {
        json_string(j, opt);
        json_string(j, val);
    } else {
        printf("%s %s\n", opt, val ? val : "");
    }
    free(val);
}

/* The cdev form applies when the kernel gave the device a VFIO character device
 * (vfio-dev/vfioN/dev, kernel >= 6.6 with iommufd): QEMU then binds it through /dev/iommu. */
/* @s as a QEMU option value: a comma is written twice. NULL when out of memory. */
static char *qemu_value(const char *s)
{
    char *v = malloc(strlen(s) * 2 + 1), *p = v;

    for (; v != NULL && *s; s++) {
        *p++ = *s;
        if (*s == ',')
            *p++ = ',';
    }
    if (v != NULL)
        *p = '\0';
    return v;
}

static void print_qemu(struct tool *t, struct json *j, struct hd_device **devs,
                       const struct devarg_other *others, size_t n, const struct vmm_opts *o,
                       const struct guest_place *places)
{
    char *romfile = o->rom_file ? qemu_value(o->rom_file) : NULL;
    bool iommufd = false;

    for (size_t i = 0; i < n; i++)
        iommufd = iommufd || (devs[i] && hd_device_get_vfio_cdev(devs[i]) != NULL);
    if (iommufd)
        emit(t, j, "-object", "iommufd,id=iommufd0");
    for (size_t i = 0; i < n; i++) {
        char addr[48] = "", rom[32] = "";
        /* A mediated device: its sysfs directory, its device API. */
        if (devs[i] == NULL && others[i].cap == HD_CAP_MDEV) {
            emit(t, j, "-device", "%s,sysfsdev=/sys/bus/mdev/devices/%s,id=hostdev%zu",
                 others[i].api, others[i].uuid, i);
            continue;
        } else if (devs[i] == NULL && others[i].cap == HD_CAP_USB_DEVICE) {
            /* By ids it is found again after it re-enumerates; by address when ids are shared. */
            if (others[i].ids_unique)
                emit(t, j, "-device", "usb-host,vendorid=0x%04x,productid=0x%04x,id=hostdev%zu",
                     (unsigned)others[i].vendor, (unsigned)others[i].product, i);
            else
                emit(t, j, "-device", "usb-host,hostbus=%lu,hostaddr=%lu,id=hostdev%zu",
                     others[i].addr[0], others[i].addr[1], i);
            continue;
        } else if (devs[i] == NULL) { /* SCSI: its generic node as a block backend, as libvirt */
            emit(t, j, "-blockdev", "driver=host_device,filename=%s,node-name=hostdev%zu-backend",
                 others[i].sg, i);
            emit(t, j, "-device", "scsi-generic,drive=hostdev%zu-backend,id=hostdev%zu", i, i);
            continue;
        }
        if (places[i].slot >= 0)
            snprintf(addr, sizeof(addr), ",addr=%x.%x%s", (unsigned)places[i].slot,
                     places[i].function, places[i].multifunction ? ",multifunction=on" : "");
        if (o->rom_bar >= 0)
            snprintf(rom, sizeof(rom), ",rombar=%d", o->rom_bar);
        emit(t, j, "-device", "vfio-pci,host=%s,id=hostdev%zu%s%s%s%s%s",
             hd_device_get_name(devs[i]), i,
             hd_device_get_vfio_cdev(devs[i]) ? ",iommufd=iommufd0" : "", addr, rom,
             romfile ? ",romfile=" : "", romfile ? romfile : "");
    }
    free(romfile);
}

static void print_cloud_hypervisor(struct tool *t, struct json *j, struct hd_device **devs,
                                   const struct devarg_other *others, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (devs[i] == NULL)
            emit(t, j, "--device", "path=/sys/bus/mdev/devices/%s/", others[i].uuid);
        else
            emit(t, j, "--device", "path=/sys/bus/pci/devices/%s/", hd_device_get_name(devs[i]));
    }
}

/* A domain's PCI hostdevs' addresses and mdev hostdevs' UUIDs, as command-line arguments
 * for devargs_open_any; in @notes (@nnotes), the network settings of its <interface
 * type='hostdev'>s that these arguments do not carry. */
static int domain_args(struct tool *t, const char *file, char ***args, int *n,
                       char (**notes)[DOMAIN_NOTE_MAX], size_t *nnotes)
{
    struct domxml dom;
    char err[512];

    *nnotes = 0;
    if (domxml_read(file, &dom, err, sizeof(err)) < 0)
        return domain_error(t, file, "%s", err);
    *args = calloc(dom.count + 1, sizeof(**args));
    *notes = calloc(dom.count + 1, sizeof(**notes));
    if (*args == NULL || *notes == NULL) {
        free(*args);
        free(*notes);
        *args = NULL;
        *notes = NULL;
        domxml_free(&dom);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    for (size_t i = 0; i < dom.count; i++) {
        const struct domxml_hostdev *h = &dom.hostdevs[i];
        int r = h->usb_bus != 0 && h->node[0] == '\0'
                    ? domain_error(t, file, "a USB <hostdev> by <address> only: give its "
                                   "<vendor> and <product> too")
                    : domain_check_interface(t, file, h);
        if (r != EXIT_DONE) {
            for (size_t k = 0; k < i; k++)
                free((*args)[k]);
            free(*args);
            free(*notes);
            *args = NULL;
            *notes = NULL;
            *n = 0;
            domxml_free(&dom);
            return r;
        }
        (*args)[i] = h->mdev[0] ? strdup(h->mdev)
                     : h->node[0] ? strdup(h->node)
                                  : malloc(HD_PCI_ADDR_BUFSZ);
        if ((*args)[i] != NULL && !h->mdev[0] && !h->node[0])
            hd_pci_addr_format(&h->addr, (*args)[i]);
        if (domain_net_note(t->ctx, h, (*notes)[*nnotes], sizeof((*notes)[*nnotes])))
            (*nnotes)++;
    }
    *n = (int)dom.count;
    domxml_free(&dom);
    return EXIT_DONE;
}

static const struct option qemu_args_opts[] = {{"cloud-hypervisor", no_argument, NULL, 'C'},
                                               {"domain-xml", required_argument, NULL, 'x'},
                                               {"rom-bar", required_argument, NULL, 'B'},
                                               {"rom-file", required_argument, NULL, 'F'},
                                               {"guest-slot", required_argument, NULL, 'S'},
                                               {"vm", required_argument, NULL, 'V'},
                                               {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    const char *domain_xml = NULL, *vm = NULL;
    struct hd_device **devs;
    struct devarg_other *others;
    struct vmm_opts vo;
    bool ch = false, vo_given = false;
    char **args = NULL;
    char (*notes)[DOMAIN_NOTE_MAX] = NULL;
    int c, nargs = 0, r;
    size_t n, nnotes = 0;

    vmm_opts_init(&vo);
    optind = 0; /* 0: glibc re-reads the ordering mode, so options may follow ADDRs */
    while ((c = tool_getopt(argc, argv, cmd_qemu_args.shortopts, cmd_qemu_args.opts)) != -1) {
        if ((r = vmm_opts_parse(t, c, optarg, &vo)) != 0) {
            if (r != 1)
                return r;
            vo_given = vo_given || c != 'S';
            continue;
        }
        switch (c) {
        case 'C':
            ch = true;
            break;
        case 'x':
            if ((r = tool_take_once(t, "--domain-xml", &domain_xml, optarg)) != EXIT_DONE)
                return r;
            break;
        case 'V':
            if ((r = tool_take_once(t, "--vm", &vm, optarg)) != EXIT_DONE)
                return r;
            break;
        default:
            tool_usage(&cmd_qemu_args, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (ch && vo_given)
        return tool_error(t, EXIT_USAGE, "cloud-hypervisor takes no option ROM settings: "
                          "--rom-bar and --rom-file are for QEMU");
    if (vm != NULL && (domain_xml != NULL || optind < argc))
        return tool_error(t, EXIT_USAGE, "--vm gives the devices: no ADDR or --domain-xml "
                          "with it");
    if (vm != NULL) {
        r = devargs_open_vm(t, vm, &devs, &others, &n);
    } else if (domain_xml != NULL) {
        if (optind < argc)
            return tool_error(t, EXIT_USAGE, "give addresses or --domain-xml, not both");
        if ((r = domain_args(t, domain_xml, &args, &nargs, &notes, &nnotes)) != EXIT_DONE)
            return r;
        if (nargs == 0) {
            free(args);
            free(notes);
            return domain_error(t, domain_xml, "no <hostdev> or <interface type='hostdev'> in "
                                "the domain");
        }
        r = devargs_open_any(t, nargs, args, &devs, &others, &n);
        for (int i = 0; i < nargs; i++)
            free(args[i]);
        free(args);
    } else {
        r = devargs_open_any(t, argc - optind, argv + optind, &devs, &others, &n);
    }
    if (r != EXIT_DONE) {
        free(notes);
        return r;
    }
    for (size_t i = 0; i < n; i++) {
        const struct devarg_other *o = &others[i];
        const char *why = devs[i] != NULL || o->cap == HD_CAP_MDEV ? NULL
                          : ch                                    ? "cloud-hypervisor passes "
                                                                    "through PCI and mediated "
                                                                    "devices only"
                          : o->cap == HD_CAP_SCSI && !o->sg[0]    ? "it has no SCSI generic node "
                                                                    "(load the sg module)"
                                                                  : NULL;
        if (why != NULL) {
            r = tool_error(t, EXIT_USAGE, "%s: %s", o->name, why);
            devargs_free_any(devs, others, n);
            free(notes);
            return r;
        }
    }
    struct guest_place *places = calloc(n + 1, sizeof(*places));
    if (places == NULL) {
        devargs_free_any(devs, others, n);
        free(notes);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    r = ch ? EXIT_DONE : guest_places(t, &vo, devs, n, places);
    if (r != EXIT_DONE) {
        free(places);
        devargs_free_any(devs, others, n);
        free(notes);
        return r;
    }
    char warning[512];
    for (size_t i = 0; i < n && !tool_json(t); i++) {
        if (devarg_vm_would_fail(t, devs[i], &others[i], false, warning, sizeof(warning)))
            fprintf(stderr, "%s qemu-args: warning: %s\n", t->prog, warning);
    }
    for (size_t i = 0; i < nnotes && !tool_json(t); i++)
        fprintf(stderr, "%s qemu-args: warning: %s\n", t->prog, notes[i]);
    struct json j;
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_string(&j, "vmm", ch ? "cloud-hypervisor" : "qemu");
        json_key(&j, "argv");
        json_begin_array(&j);
    }
    if (ch)
        print_cloud_hypervisor(t, &j, devs, others, n);
    else
        print_qemu(t, &j, devs, others, n, &vo, places);
    if (tool_json(t)) {
        json_end_array(&j);
        /* Under --json the warnings are the document's, not lines on stderr. */
        json_key(&j, "warnings");
        json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            if (devarg_vm_would_fail(t, devs[i], &others[i], false, warning, sizeof(warning)))
                json_string(&j, warning);
        }
        for (size_t i = 0; i < nnotes; i++)
            json_string(&j, notes[i]);
        json_end_array(&j);
        json_end_object(&j);
        json_finish(&j);
    }
    free(places);
    devargs_free_any(devs, others, n);
    free(notes);
    return EXIT_DONE;
}

const struct tool_command cmd_qemu_args = {
    .shortopts = "Cx:",
    .opts = qemu_args_opts,
    .name = "qemu-args",
    .takes = TOOL_TAKES_ANY,
    .run = run,
    .usage = "ADDR... | --vm ID | --domain-xml FILE\n"
             "       [--cloud-hypervisor] [--rom-bar on|off] [--rom-file FILE]\n"
             "       [--guest-slot N]",
    .summary = "print the QEMU (or cloud-hypervisor) arguments assigning devices",
    .help = "      --vm ID             the devices VM ID holds (hostdev acquire), in the\n"
            "                          order they were acquired; not the members of their\n"
            "                          IOMMU groups that came with --group (on vfio for the\n"
            "                          group's sake, not given to the guest)\n"
            "  -x, --domain-xml FILE   the <hostdev> and <interface type='hostdev'> devices\n"
            "                          of a libvirt domain XML\n"
            "  -C, --cloud-hypervisor  --device path=/sys/bus/pci/devices/ADDR/ instead\n"
            VMM_OPTS_HELP
            "One argument per line: '-device vfio-pci,host=ADDR,id=hostdevN', with\n"
            "'-object iommufd,id=iommufd0' and ',iommufd=iommufd0' where the kernel offers\n"
            "the VFIO device cdev. A device not on vfio-pci gets a warning. Several functions\n"
            "of one device stay together in one guest slot on the root bus (addr=SLOT.FN,\n"
            "function 0 with multifunction=on); rombar=0|1 and romfile=FILE carry the ROM\n"
            "options.\n"
            "A mediated device (its UUID) gets sysfsdev=, a USB device (usb_BUS_PORT or\n"
            "usb:VVVV:PPPP[:SERIAL]) usb-host by ids (by bus and address when ids are\n"
            "shared), a SCSI device (scsi_H_B_T_L) its /dev/sgN as -blockdev host_device +\n"
            "scsi-generic.\n",
};
