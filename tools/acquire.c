/* acquire.c - `hostdev acquire`: give devices to a VM, all or nothing. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"
#include "domain-args.h"

/* A domain's hostdevs come with their own managed flags: the managed ones are acquired
 * first, then the unmanaged ones; if those fail, the managed ones are released again, so the
 * whole domain is all or nothing as one acquire is. */
static int acquire_domain(struct tool *t, const char *vm, const struct domain_args *da,
                          uid_t uid, gid_t gid, unsigned int flags, char **why)
{
    int r = 0;

    *why = NULL;
    flags &= ~(unsigned)HD_ACQUIRE_UNMANAGED;
    if (da->nmanaged > 0 &&
        (r = hd_assign_acquire(t->ctx, vm, da->managed, da->nmanaged, uid, gid, flags)) < 0)
        return r;
    if (da->nunmanaged > 0) {
        r = hd_assign_acquire(t->ctx, vm, da->unmanaged, da->nunmanaged, uid, gid,
                              (flags & ~(unsigned)HD_ACQUIRE_GROUP) | HD_ACQUIRE_UNMANAGED);
        if (r < 0 && da->nmanaged > 0) {
            /* The release leaves its own message on the context: keep the reason. */
            *why = strdup(hd_ctx_last_error(t->ctx));
            hd_assign_release(t->ctx, vm, da->managed, da->nmanaged);
        }
    }
    return r;
}

static int run(struct tool *t, int argc, char **argv)
{
    static const struct option opts[] = {{"vm", required_argument, NULL, 'm'},
                                         {"managed", no_argument, NULL, 'M'},
                                         {"unmanaged", no_argument, NULL, 'U'},
                                         {"owner", required_argument, NULL, 'o'},
                                         {"group", no_argument, NULL, 'g'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"domain-xml", required_argument, NULL, 'x'},
                                         {NULL, 0, NULL, 0}};
    const char *vm = NULL, *owner = NULL, *domain_xml = NULL;
    struct domain_args da = {0};
    bool mode_given = false;
    struct hd_pci_addr *addrs;
    unsigned int flags = 0;
    uid_t uid;
    gid_t gid;
    int c, r, n;

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    while ((c = getopt_long(argc, argv, "m:o:gfx:", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            vm = optarg;
            break;
        case 'M':
            flags &= ~(unsigned)HD_ACQUIRE_UNMANAGED;
            mode_given = true;
            break;
        case 'U':
            flags |= HD_ACQUIRE_UNMANAGED;
            mode_given = true;
            break;
        case 'x':
            domain_xml = optarg;
            break;
        case 'o':
            owner = optarg;
            break;
        case 'g':
            flags |= HD_ACQUIRE_GROUP;
            break;
        case 'f':
            flags |= HD_ACQUIRE_FORCE;
            break;
        default:
            tool_usage(&cmd_acquire, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (domain_xml != NULL) {
        if (mode_given || argc > optind)
            return tool_error(t, EXIT_USAGE, "--domain-xml gives the devices and their managed "
                              "flags: no ADDR, --managed or --unmanaged with it");
        if ((r = domain_args_read(t, domain_xml, &vm, &da)) != EXIT_DONE)
            return r;
    }
    if (vm == NULL)
        return tool_error(t, EXIT_USAGE, "--vm ID is required");
    if (!hd_vm_id_valid(vm))
        return tool_error(t, EXIT_USAGE, "invalid VM id '%s' (1 to 128 of A-Z a-z 0-9 . _ : @ -)",
                          vm);
    if ((flags & HD_ACQUIRE_UNMANAGED) && (flags & HD_ACQUIRE_GROUP))
        return tool_error(t, EXIT_USAGE, "--group detaches devices, --unmanaged never does: "
                          "detach the group first ('hostdev detach --group')");
    hd_ctx_clear_error(t->ctx);
    r = owner ? hd_owner_parse(t->ctx, owner, &uid, &gid) : hd_owner_default(t->ctx, &uid, &gid);
    if (r < 0)
        return tool_lib_error(t, EXIT_USAGE, r, "invalid --owner");
    char *why = NULL;
    if (domain_xml != NULL) {
        addrs = NULL;
        hd_ctx_clear_error(t->ctx);
        r = acquire_domain(t, vm, &da, uid, gid, flags, &why);
    } else {
        if ((r = devargs_parse(t, argc - optind, argv + optind, &addrs)) != EXIT_DONE)
            return r;
        n = argc - optind;
        hd_ctx_clear_error(t->ctx);
        r = hd_assign_acquire(t->ctx, vm, addrs, (size_t)n, uid, gid, flags);
    }
    if (r < 0) {
        /* Bad input found by the library (no such device, a bridge, a VM id) changed nothing
         * either, but is the caller's to fix: exit 2 for those. */
        int code = r == -ENODEV || r == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
        const char *reason = why ? why : hd_ctx_last_error(t->ctx);
        const char *hint = r == -EBUSY && (strstr(reason, " is up with ") ||
                                           strstr(reason, " backs ") ||
                                           strstr(reason, "(the console)"))
                               ? "--force takes it anyway"
                               : NULL;
        if (why != NULL)
            tool_error(t, code, "vm %s: %s%s%s%s", vm, why, hint ? " (" : "", hint ? hint : "",
                       hint ? ")" : "");
        else
            tool_lib_error_hint(t, code, r, hint, "vm %s", vm);
        free(why);
        free(addrs);
        domain_args_free(&da);
        return code;
    }
    /* What the VM holds now, --group members included, as the map says. */
    struct hd_assignment_list *list = NULL;
    if (hd_assignment_list_new(t->ctx, &list) < 0)
        list = NULL;
    struct json j;
    if (tool_json(t)) {
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_string(&j, "vm", vm);
        json_key(&j, "devices");
        json_begin_array(&j);
    }
    for (size_t i = 0; list != NULL && i < hd_assignment_list_count(list); i++) {
        const struct hd_assignment *a = hd_assignment_list_get(list, i);
        if (strcmp(hd_assignment_get_vm(a), vm) != 0)
            continue;
        if (tool_json(t))
            json_string(&j, hd_assignment_get_name(a));
        else
            printf("%s: assigned to vm %s (%s%s, /dev/vfio/%d for %u:%u)\n",
                   hd_assignment_get_name(a), vm,
                   hd_assignment_is_managed(a) ? "managed" : "unmanaged",
                   hd_assignment_is_group_member(a) ? ", with --group" : "",
                   hd_assignment_get_iommu_group(a), (unsigned)hd_assignment_get_uid(a),
                   (unsigned)hd_assignment_get_gid(a));
    }
    if (tool_json(t)) {
        json_end_array(&j);
        json_kv_int(&j, "uid", (long long)uid);
        json_kv_int(&j, "gid", (long long)gid);
        json_end_object(&j);
        json_finish(&j);
    }
    hd_assignment_list_unref(list);
    free(addrs);
    domain_args_free(&da);
    return EXIT_DONE;
}

const struct tool_command cmd_acquire = {
    .name = "acquire",
    .run = run,
    .usage = "--vm ID [--managed|--unmanaged] [--owner USER[:GROUP]] [--group] [--force] ADDR...\n"
             "       hostdev acquire [--vm ID] --domain-xml FILE [--owner USER[:GROUP]] [--group]",
    .summary = "give devices to a VM (detach, reset, hand over /dev/vfio), all or nothing",
    .help = "  -m, --vm ID          the VM (name or UUID: A-Z a-z 0-9 . _ : @ -, up to 128)\n"
            "      --managed        detach the devices to vfio-pci (the default)\n"
            "      --unmanaged      the devices must be on vfio-pci already\n"
            "  -o, --owner U[:G]    who may open /dev/vfio/N (mode 0660); default root:qemu\n"
            "                       when a qemu group exists, else root:root\n"
            "  -g, --group          also detach the rest of each device's IOMMU group\n"
            "  -f, --force          take devices the host uses (mounted disks, interfaces\n"
            "                       up with addresses, the console)\n"
            "  -x, --domain-xml F   the PCI <hostdev> elements of a libvirt domain XML, each\n"
            "                       with its managed='yes|no'; the VM id defaults to <name>\n"
            "Refuses devices (or group members) held by another VM. Every step is logged\n"
            "before it is done; on failure everything is put back. See 'hostdev recover'.\n",
};
