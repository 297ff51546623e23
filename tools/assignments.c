/* assignments.c - `hostdev assignments`: which VM holds which device, since when. */
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

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_assignment_list *list;
    size_t n;
    int r;

    if (argc > 1)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s' (see '%s assignments "
                          "--help')", argv[1], t->prog);
    if ((r = hd_assignment_list_new(t->ctx, &list)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the assignments");
    n = hd_assignment_list_count(list);
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            const struct hd_assignment *a = hd_assignment_list_get(list, i);
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
    } else if (n == 0) {
        printf("no devices are assigned\n");
    } else {
        int width = 13; /* a PCI address; a mediated device's UUID is wider */
        for (size_t i = 0; i < n; i++) {
            int len = (int)strlen(hd_assignment_get_name(hd_assignment_list_get(list, i)));
            width = len > width ? len : width;
        }
        printf("%-*s %-20s %-9s %-14s %5s  %s\n", width, "DEVICE", "VM", "MODE", "DRIVER",
               "GROUP", "SINCE");
        for (size_t i = 0; i < n; i++) {
            const struct hd_assignment *a = hd_assignment_list_get(list, i);
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
    hd_assignment_list_unref(list);
    return EXIT_DONE;
}

const struct tool_command cmd_assignments = {
    .name = "assignments",
    .run = run,
    .usage = "",
    .summary = "which VM holds which device: mode, original driver, group, since when",
};
