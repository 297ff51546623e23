/* acquire.c - `hostdev acquire`: give devices to a VM, all or nothing. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "domain-args.h"
#include "opout.h"

static int run_acquire(struct tool *t, const char *vm, const char *owner, const char *domain_xml,
                       bool mode_given, bool unmanaged, unsigned int flags, char **devs,
                       const signed char *dev_mode, size_t ndevs);

static const struct option acquire_opts[] = {{"vm", required_argument, NULL, 'm'},
                                             {"managed", no_argument, NULL, 'M'},
                                             {"unmanaged", no_argument, NULL, 'U'},
                                             {"owner", required_argument, NULL, 'o'},
                                             {"group", no_argument, NULL, 'g'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"domain-xml", required_argument, NULL, 'x'},
                                             {"dry-run", no_argument, NULL, 'D'},
                                             {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    const char *vm = NULL, *owner = NULL, *domain_xml = NULL;
    bool mode_given = false;
    unsigned int flags = 0;
    bool unmanaged = false, any_unmanaged = false;
    /* Each device with the mode option before it; devices before any take the last one. */
    char **devs = calloc((size_t)argc + 1, sizeof(*devs));
    signed char *dev_mode = calloc((size_t)argc + 1, sizeof(*dev_mode)); /* -1: none yet */
    size_t ndevs = 0;
    int c, r = EXIT_DONE;

    if (devs == NULL || dev_mode == NULL) {
        free(devs);
        free(dev_mode);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    /* "-": devices come back in order (as option 1), so that a mode applies to those after it. */
    while (r == EXIT_DONE &&
           (c = tool_getopt(argc, argv, cmd_acquire.shortopts, cmd_acquire.opts)) != -1) {
        switch (c) {
        case 1:
            dev_mode[ndevs] = mode_given ? (signed char)unmanaged : -1;
            devs[ndevs++] = optarg;
            break;
        case 'm':
            r = tool_take_once(t, "--vm", &vm, optarg);
            break;
        case 'M':
            unmanaged = false;
            mode_given = true;
            break;
        case 'U':
            unmanaged = true;
            any_unmanaged = true;
            mode_given = true;
            break;
        case 'D':
            t->dry_run = true;
            break;
        case 'x':
            r = tool_take_once(t, "--domain-xml", &domain_xml, optarg);
            break;
        case 'o':
            r = tool_take_once(t, "--owner", &owner, optarg);
            break;
        case 'g':
            flags |= HD_OP_GROUP;
            break;
        case 'f':
            flags |= HD_OP_FORCE;
            break;
        default:
            free(devs);
            free(dev_mode);
            tool_usage(&cmd_acquire, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (r != EXIT_DONE) {
        free(devs);
        free(dev_mode);
        return r;
    }
    for (size_t i = 0; i < ndevs; i++) {
        if (dev_mode[i] < 0)
            dev_mode[i] = (signed char)unmanaged;
        any_unmanaged = any_unmanaged && dev_mode[i] == 1; /* now: every device unmanaged */
    }
    r = run_acquire(t, vm, owner, domain_xml, mode_given, any_unmanaged, flags, devs, dev_mode,
                    ndevs);
    free(devs);
    free(dev_mode);
    return r;
}

/* @unmanaged: every device is. */
static int run_acquire(struct tool *t, const char *vm, const char *owner, const char *domain_xml,
                       bool mode_given, bool unmanaged, unsigned int flags, char **devs,
                       const signed char *dev_mode, size_t ndevs)
{
    struct domain_args da = {0};
    struct hd_op *op;
    uid_t uid;
    gid_t gid;
    int c, r;

    if (domain_xml != NULL) {
        if (mode_given || ndevs > 0)
            return tool_error(t, EXIT_USAGE, "--domain-xml gives the devices and their managed "
                              "flags: no ADDR, --managed or --unmanaged with it");
        if ((r = domain_args_read(t, domain_xml, &vm, &da)) != EXIT_DONE)
            return r;
    }
    if (vm == NULL)
        return tool_error(t, EXIT_USAGE, "--vm ID is required");
    if ((r = tool_check_vm_id(t, vm)) != EXIT_DONE)
        return r;
    /* --group takes along the groups of managed devices; with none, it has nothing to do. */
    if (unmanaged && (flags & HD_OP_GROUP))
        return tool_error(t, EXIT_USAGE, "--group detaches devices, --unmanaged never does: "
                          "detach the group first ('hostdev detach --group')");
    hd_ctx_clear_error(t->ctx);
    if (owner != NULL && (r = hd_owner_parse(t->ctx, owner, &uid, &gid)) < 0) {
        domain_args_free(&da);
        return tool_lib_error(t, EXIT_USAGE, r, "invalid --owner");
    }
    if ((r = tool_op_new(t, HD_OP_ACQUIRE, flags, &op)) != EXIT_DONE) {
        domain_args_free(&da);
        return r;
    }
    /* None given: the default for the devices given, and a retry's held ones keep theirs. */
    if (owner != NULL)
        hd_op_set_owner(op, uid, gid);
    if (hd_op_set_vm(op, vm) < 0)
        r = tool_lib_error(t, EXIT_USAGE, -EINVAL, "invalid --vm");
    /* A domain's hostdevs come with their own managed flags: one transaction for all. */
    for (size_t i = 0; r == EXIT_DONE && domain_xml != NULL && i < da.dom.count; i++) {
        const struct domxml_hostdev *h = &da.dom.hostdevs[i];
        if (h->mdev[0] || h->node[0]) {
            c = h->mdev[0] ? hd_op_add_mdev(op, h->mdev) : hd_op_add_node_device(op, h->node);
            if (c < 0)
                r = tool_lib_error(t, EXIT_USAGE, c, "%s", domain_xml);
            continue;
        }
        if ((c = hd_op_add_device(op, &h->addr, h->managed)) < 0 ||
            (h->model[0] && (c = hd_op_set_device_driver(op, &h->addr, h->model)) < 0))
            r = tool_lib_error(t, EXIT_USAGE, c, "%s", domain_xml);
    }
    if (r == EXIT_DONE && domain_xml == NULL && ndevs == 0)
        r = tool_error(t, EXIT_USAGE, "no device given");
    for (size_t i = 0; r == EXIT_DONE && domain_xml == NULL && i < ndevs; i++)
        r = tool_op_add_args(t, op, 1, &devs[i], dev_mode[i] == 0, mode_given);
    /* An <interface type='hostdev'>'s MAC address and VLAN: not done, and said so. */
    char (*notes)[DOMAIN_NOTE_MAX] = calloc(da.dom.count + 1, sizeof(*notes));
    const char **note_ptrs = calloc(da.dom.count + 1, sizeof(*note_ptrs));
    size_t nnotes = 0;
    if (notes == NULL || note_ptrs == NULL) {
        if (r == EXIT_DONE)
            r = tool_error(t, EXIT_FAILED, "out of memory");
    } else {
        for (size_t i = 0; i < da.dom.count; i++) {
            if (domain_net_note(t->ctx, &da.dom.hostdevs[i], notes[nnotes],
                                sizeof(notes[nnotes]))) {
                note_ptrs[nnotes] = notes[nnotes];
                nnotes++;
            }
        }
    }
    if (r == EXIT_DONE) {
        char what[160];
        snprintf(what, sizeof(what), "vm %s", vm);
        r = tool_run_op_noted(t, op, "acquire", flags & HD_OP_FORCE ? NULL : "--force", what,
                              note_ptrs, nnotes);
    }
    free(notes);
    free(note_ptrs);
    hd_op_unref(op);
    domain_args_free(&da);
    return r;
}

const struct tool_command cmd_acquire = {
    .shortopts = "-m:o:gfx:",
    .opts = acquire_opts,
    .name = "acquire",
    .takes = TOOL_TAKES_ANY,
    .run = run,
    .usage = "--vm ID [--owner USER[:GROUP]] [--group] [--force]\n"
             "       [--dry-run] [--managed] ADDR... [--unmanaged ADDR...]\n"
             "       hostdev acquire [--vm ID] --domain-xml FILE [--owner USER[:GROUP]]\n"
             "       [--group]",
    .summary = "give devices to a VM (detach, reset, /dev/vfio), all or nothing",
    .help = "  -m, --vm ID          the VM (name or UUID: A-Z a-z 0-9 . _ : @ -, up to 128)\n"
            "      --managed        detach the devices after it to vfio-pci (the default)\n"
            "      --unmanaged      the devices after it must be on vfio-pci already\n"
            "                       (devices before any of the two take the last one given)\n"
            "  -o, --owner U[:G]    who may open /dev/vfio/N (mode 0660); default root:qemu\n"
            "                       when a qemu group exists, else root:root (a device the\n"
            "                       VM holds already keeps its own)\n"
            "  -g, --group          also detach the rest of each device's IOMMU group\n"
            "  -f, --force          take devices the host uses (mounted disks, interfaces\n"
            "                       up with addresses, the console)\n"
            "  -x, --domain-xml F   the <hostdev> and <interface type='hostdev'> elements of\n"
            "                       a libvirt domain XML, each with its managed='yes|no' (one\n"
            "                       transaction for all); the VM id defaults to <name>; an\n"
            "                       interface's MAC address and VLAN are not set (a note\n"
            "                       says so)\n"
            "      --dry-run        print the plan, change nothing\n"
            "Refuses devices (or group members) held by another VM. A device the VM holds\n"
            "already, as asked (an owner or mode not given is what it has), is left as it\n"
            "is (exit 0: a retry succeeds). Every step is logged before it is done; on\n"
            "failure everything is put back. See 'hostdev recover'.\n",
};
