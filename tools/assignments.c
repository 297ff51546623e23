/* assignments.c - `hostdev assignments`: which VM holds which device, since when. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"
#include "opout.h"

static void when(long long since, char *buf, size_t size)
{
    time_t t = (time_t)since;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "%lld", since);
}

static const char *kind_name(enum hd_assignment_kind kind)
{
    switch (kind) {
    case HD_ASSIGNMENT_MDEV:
        return "mdev";
    case HD_ASSIGNMENT_USB:
        return "usb";
    case HD_ASSIGNMENT_SCSI:
        return "scsi";
    case HD_ASSIGNMENT_PCI:
        break;
    }
    return "pci";
}

/* What release gives @a back to: its driver, @none when it had none, NULL when it was on a
 * stub already (release leaves it there). */
static const char *original_driver(const struct hd_assignment *a, const char *none)
{
    if (hd_assignment_get_driver(a) != NULL || !hd_assignment_is_detached(a))
        return hd_assignment_get_driver(a);
    return none;
}

/* A USB or SCSI entry's name as the map writes it: usb_ or scsi_, then numbers joined by '_'. */
static bool node_name(const char *arg)
{
    const char *rest = strncmp(arg, "usb_", 4) == 0    ? arg + 4
                       : strncmp(arg, "scsi_", 5) == 0 ? arg + 5
                                                       : NULL;

    return rest != NULL && rest[0] >= '0' && rest[0] <= '9' &&
           strspn(rest, "0123456789_") == strlen(rest) && rest[strlen(rest) - 1] != '_';
}

/* The entry of @list that device argument @arg names, NULL for none; EXIT_USAGE (printed) when
 * @arg is no address, UUID or node-device name. */
static int find_arg(struct tool *t, const struct hd_assignment_list *list, const char *arg,
                    const struct hd_assignment **found)
{
    struct hd_pci_addr addr;
    char uuid[37];

    if (hd_mdev_uuid_parse(arg, uuid) == 0)
        *found = hd_assignment_list_find_mdev(list, uuid);
    else if (node_name(arg))
        *found = hd_assignment_list_find_name(list, arg);
    else if (hd_pci_addr_parse(arg, &addr) == 0 || tool_netif_addr(t, arg, &addr) == 0)
        *found = hd_assignment_list_find(list, &addr); /* an interface: its device, as anywhere */
    else
        return tool_error(t, EXIT_USAGE, "invalid device '%s' (an address such as 0000:03:00.0, "
                          "a network interface's name, a mediated device's UUID, usb_BUS_PORT "
                          "or scsi_H_B_T_L)%s", arg, tool_netif_gone_hint(arg));
    return EXIT_DONE;
}

static void print_json(const struct hd_assignment *const *sel, size_t n)
{
    struct json j;

    json_init(&j, stdout, 2);
    json_begin_array(&j);
    for (size_t i = 0; i < n; i++) {
        const struct hd_assignment *a = sel[i];
        char since[32];
        when(hd_assignment_get_since(a), since, sizeof(since));
        enum hd_assignment_kind kind = hd_assignment_get_kind(a);
        json_begin_object(&j);
        json_kv_string(&j, "kind", kind_name(kind));
        json_kv_string(&j, kind == HD_ASSIGNMENT_PCI ? "address" : kind == HD_ASSIGNMENT_MDEV
                                                                      ? "uuid"
                                                                      : "name",
                       hd_assignment_get_name(a));
        if (kind == HD_ASSIGNMENT_MDEV)
            json_kv_string(&j, "parent", hd_assignment_get_parent(a));
        if (hd_assignment_get_node(a) != NULL)
            json_kv_string(&j, "node", hd_assignment_get_node(a));
        json_kv_string(&j, "vm", hd_assignment_get_vm(a));
        json_kv_string(&j, "mode", hd_assignment_is_managed(a) ? "managed" : "unmanaged");
        /* null: on a stub already, and left there; "": taken from no driver (as list's). */
        json_kv_string(&j, "original_driver", original_driver(a, ""));
        json_kv_int_or_null(&j, "iommu_group", hd_assignment_get_iommu_group(a),
                            hd_assignment_get_iommu_group(a) >= 0); /* USB, SCSI: none */
        json_kv_bool(&j, "group_member", hd_assignment_is_group_member(a));
        json_kv_int(&j, "uid", (long long)hd_assignment_get_uid(a));
        json_kv_int(&j, "gid", (long long)hd_assignment_get_gid(a));
        json_kv_string(&j, "since", since);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_finish(&j);
}

static void print_text(const struct hd_assignment *const *sel, size_t n)
{
    int width = 13; /* a PCI address; a mediated device's UUID is wider */

    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(hd_assignment_get_name(sel[i]));
        width = len > width ? len : width;
    }
    printf("%-*s %-20s %-9s %-14s %5s  %s\n", width, "DEVICE", "VM", "MODE", "DRIVER", "GROUP",
           "SINCE");
    for (size_t i = 0; i < n; i++) {
        const struct hd_assignment *a = sel[i];
        const char *drv = original_driver(a, "none");
        enum hd_assignment_kind kind = hd_assignment_get_kind(a);
        char since[32], note[128] = "", group[16] = "-";
        when(hd_assignment_get_since(a), since, sizeof(since));
        if (hd_assignment_get_iommu_group(a) >= 0) /* USB and SCSI devices have none */
            snprintf(group, sizeof(group), "%d", hd_assignment_get_iommu_group(a));
        if (kind == HD_ASSIGNMENT_MDEV)
            snprintf(note, sizeof(note), "  (on %s)", hd_assignment_get_parent(a));
        else if (hd_assignment_get_node(a) != NULL)
            snprintf(note, sizeof(note), "  (/%s)", hd_assignment_get_node(a));
        else if (hd_assignment_is_group_member(a))
            snprintf(note, sizeof(note), "  (with --group)");
        printf("%-*s %-20s %-9s %-14s %5s  %s%s\n", width, hd_assignment_get_name(a),
               hd_assignment_get_vm(a),
               kind != HD_ASSIGNMENT_PCI       ? kind_name(kind)
               : hd_assignment_is_managed(a) ? "managed"
                                             : "unmanaged",
               drv ? drv : "-", group, since, note);
    }
}

static const struct option assignments_opts[] = {{"vm", required_argument, NULL, 'm'},
                                                 {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    const struct hd_assignment **sel = NULL, **named = NULL;
    struct hd_assignment_list *list = NULL;
    const char *vm = NULL;
    size_t n = 0, nnamed;
    int c, r;

    optind = 0; /* 0: glibc re-reads the ordering mode, so options may follow ADDRs */
    while ((c = tool_getopt(argc, argv, cmd_assignments.shortopts, cmd_assignments.opts)) != -1) {
        if (c != 'm') {
            tool_usage(&cmd_assignments, stderr, t->prog);
            return EXIT_USAGE;
        }
        if ((r = tool_take_once(t, "--vm", &vm, optarg)) != EXIT_DONE)
            return r;
    }
    if (vm != NULL && (r = tool_check_vm_id(t, vm)) != EXIT_DONE)
        return r;
    r = vm != NULL ? hd_assignment_list_new_vm(t->ctx, vm, &list)
                   : hd_assignment_list_new(t->ctx, &list);
    if (r < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the assignments");
    nnamed = (size_t)(argc - optind);
    sel = calloc(hd_assignment_list_count(list) + 1, sizeof(*sel));
    named = calloc(nnamed + 1, sizeof(*named));
    if (sel == NULL || named == NULL) {
        free(sel);
        free(named);
        hd_assignment_list_unref(list);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    /* Every argument checked before anything is printed. */
    for (size_t k = 0; k < nnamed && r == EXIT_DONE; k++)
        r = find_arg(t, list, argv[optind + (int)k], &named[k]);
    /* In the map's order, each entry once however often it is named. */
    for (size_t i = 0; i < hd_assignment_list_count(list) && r == EXIT_DONE; i++) {
        const struct hd_assignment *a = hd_assignment_list_get(list, i);
        bool take = nnamed == 0;
        for (size_t k = 0; k < nnamed && !take; k++)
            take = named[k] == a;
        if (take)
            sel[n++] = a;
    }
    if (r == EXIT_DONE && tool_json(t))
        print_json(sel, n);
    else if (r == EXIT_DONE && n > 0)
        print_text(sel, n);
    else if (r == EXIT_DONE && vm == NULL && nnamed == 0)
        printf("no devices are assigned\n");
    free(sel);
    free(named);
    hd_assignment_list_unref(list);
    return r;
}

const struct tool_command cmd_assignments = {
    .shortopts = "m:",
    .opts = assignments_opts,
    .name = "assignments",
    .takes = TOOL_TAKES_ANY,
    .run = run,
    .usage = "[--vm ID] [ADDR|UUID|NAME...]",
    .summary = "which VM holds which device: mode, prior driver, group, since",
    .help = "  -m, --vm ID             only the devices VM ID holds\n"
            "  ADDR, UUID, NAME        only these devices: a PCI address, a mediated device's\n"
            "                          UUID, a USB or SCSI device's node-device name\n"
            "                          (usb_1_2, scsi_2_0_0_0)\n"
            "One line per device: the VM, managed or unmanaged (or the kind: mdev, usb,\n"
            "scsi), the driver release gives it back to, its IOMMU group, since when (UTC);\n"
            "members of an IOMMU group that came with acquire --group are marked\n"
            "'(with --group)'. A filter that matches nothing prints nothing. With --json: an\n"
            "array of objects (kind, address|uuid|name, vm, mode, original_driver,\n"
            "iommu_group, group_member, uid, gid, since).\n",
};
