/* test-mdev.c - mediated devices on the fake kernel (tests/trees/mdev.spec): the types and
 * devices listed, create and remove through the engine (dry runs, refusals before any write,
 * a failed write put back, a killed process's operation undone by recover), the fake's sysfs
 * itself, and `hostdev mdev`. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "engine.h"
#include "hdtest.h"
#include "internal.h"

#define BOOT_MDEV "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define U1 "0b5b8f4a-0000-4000-8000-000000000001"
#define MTTY1 "sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1"


/* Run one mdev operation; its result. */
static int mdev_op(struct eng *e, bool create, const char *parent, const char *type,
                   const char *uuid, unsigned int flags)
{
    struct hd_op *op;
    int r;

    ck_assert_int_eq(hd_op_new(e->ctx, create ? HD_OP_MDEV_CREATE : HD_OP_MDEV_REMOVE, &op), 0);
    hd_op_set_flags(op, flags);
    r = hd_op_set_mdev(op, parent, type, uuid);
    if (r == 0)
        r = hd_op_run(op);
    hd_op_unref(op);
    return r;
}

HD_TEST_FILE(.timeout = 60);

HD_TEST(types_and_devices_are_listed)
{
    struct eng e;
    struct hd_mdev_type_list *types;
    struct hd_mdev_list *devs;

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_type_list_new(e.ctx, &types), 0);
    ck_assert_uint_eq(hd_mdev_type_list_count(types), 4);
    /* by parent, then type */
    ck_assert_str_eq(hd_mdev_type_list_get_parent(types, 0), "0000:00:02.0");
    ck_assert_str_eq(hd_mdev_type_list_get_id(types, 0), "i915-GVTg_V5_4");
    ck_assert_str_eq(hd_mdev_type_list_get_name(types, 0), "GVTg_V5_4");
    ck_assert_ptr_nonnull(strstr(hd_mdev_type_list_get_description(types, 0), "fence: 4"));
    ck_assert_str_eq(hd_mdev_type_list_get_device_api(types, 0), "vfio-pci");
    ck_assert_int_eq(hd_mdev_type_list_get_available(types, 0), 2);
    ck_assert_str_eq(hd_mdev_type_list_get_parent(types, 3), "mtty");
    ck_assert_str_eq(hd_mdev_type_list_get_id(types, 3), "mtty-2");
    ck_assert_int_eq(hd_mdev_type_list_get_available(types, 3), 3); /* one made at boot */
    ck_assert_ptr_null(hd_mdev_type_list_get_id(types, 4));
    hd_mdev_type_list_unref(types);
    /* One parent's alone (show's, a create's check); none of a device that offers none, or of
     * no device; a name that could be no device's is bad input. */
    ck_assert_int_eq(hd_mdev_type_list_new_for_parent(e.ctx, "mtty", &types), 0);
    ck_assert_uint_eq(hd_mdev_type_list_count(types), 2);
    ck_assert_str_eq(hd_mdev_type_list_get_parent(types, 0), "mtty");
    ck_assert_str_eq(hd_mdev_type_list_get_id(types, 1), "mtty-2");
    ck_assert_int_eq(hd_mdev_type_list_get_available(types, 1), 3);
    hd_mdev_type_list_unref(types);
    ck_assert_int_eq(hd_mdev_type_list_new_for_parent(e.ctx, "0000:00:02.0", &types), 0);
    ck_assert_uint_eq(hd_mdev_type_list_count(types), 2);
    ck_assert_str_eq(hd_mdev_type_list_get_id(types, 0), "i915-GVTg_V5_4");
    hd_mdev_type_list_unref(types);
    ck_assert_int_eq(hd_mdev_type_list_new_for_parent(e.ctx, "0000:00:00.0", &types), 0);
    ck_assert_uint_eq(hd_mdev_type_list_count(types), 0);
    hd_mdev_type_list_unref(types);
    ck_assert_int_eq(hd_mdev_type_list_new_for_parent(e.ctx, "0000:7f:00.0", &types), 0);
    ck_assert_uint_eq(hd_mdev_type_list_count(types), 0);
    hd_mdev_type_list_unref(types);
    ck_assert_int_eq(hd_mdev_type_list_new_for_parent(e.ctx, "../mtty", &types), -EINVAL);
    ck_assert_ptr_null(types);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "'../mtty' is not a device name"));
    ck_assert_int_eq(hd_mdev_list_new(e.ctx, &devs), 0);
    ck_assert_uint_eq(hd_mdev_list_count(devs), 1);
    ck_assert_str_eq(hd_mdev_list_get_uuid(devs, 0), BOOT_MDEV);
    ck_assert_str_eq(hd_mdev_list_get_parent(devs, 0), "mtty");
    ck_assert_str_eq(hd_mdev_list_get_type(devs, 0), "mtty-2");
    ck_assert_str_eq(hd_mdev_list_get_driver(devs, 0), "mtty");
    int g = hd_mdev_list_get_iommu_group(devs, 0);
    ck_assert_int_ge(g, 0);
    char node[32];
    snprintf(node, sizeof(node), "dev/vfio/%d", g);
    ck_assert(fx_exists(&e.fx, node)); /* its own group, and its node */
    hd_mdev_list_unref(devs);
    /* One device alone, by any form of its UUID; none, or not a UUID: said, and no list. */
    ck_assert_int_eq(hd_mdev_list_new_uuid(e.ctx, "mdev_83B8F4F2_509F_382F_3C1E_E6BFE0FA1001",
                                           &devs), 0);
    ck_assert_uint_eq(hd_mdev_list_count(devs), 1);
    ck_assert_str_eq(hd_mdev_list_get_uuid(devs, 0), BOOT_MDEV);
    ck_assert_str_eq(hd_mdev_list_get_type(devs, 0), "mtty-2");
    ck_assert_int_eq(hd_mdev_list_get_iommu_group(devs, 0), g);
    hd_mdev_list_unref(devs);
    ck_assert_int_eq(hd_mdev_list_new_uuid(e.ctx, U1, &devs), -ENOENT);
    ck_assert_ptr_null(devs);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_NO_DEVICE);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), U1 ": no such mediated device"));
    ck_assert_int_eq(hd_mdev_list_new_uuid(e.ctx, "x", &devs), -EINVAL);
    ck_assert_ptr_null(devs);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_INVALID);
    eng_stop(&e);
}
END_TEST

/* show of a parent names the types it offers, as `mdev types` and libvirt's nodedev-dumpxml
 * do; a device that is no parent offers none. */
HD_TEST(show_lists_a_parents_types)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "show 00:02.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "  mdev types:      i915-GVTg_V5_4 \"GVTg_V5_4\", 2 "
                                        "available\n"
                                        "                   i915-GVTg_V5_8 \"GVTg_V5_8\", 1 "
                                        "available\n"));
    ck_assert_ptr_null(strstr(e.out, "mtty-1")); /* another parent's */
    ck_assert_int_eq(eng_run(&e, "--json show 00:02.0"), 0);
    at_json_check(e.out, false);
    ck_assert_ptr_nonnull(strstr(e.out, "\"mdev_types\": [\n"
                                        "    {\n"
                                        "      \"type\": \"i915-GVTg_V5_4\",\n"
                                        "      \"name\": \"GVTg_V5_4\",\n"
                                        "      \"available_instances\": 2\n"
                                        "    },\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"type\": \"i915-GVTg_V5_8\""));
    ck_assert_int_eq(eng_run(&e, "show 00:00.0"), 0);
    ck_assert_ptr_null(strstr(e.out, "mdev types"));
    ck_assert_int_eq(eng_run(&e, "--json show 00:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"mdev_types\": []"));
    eng_stop(&e);
}
END_TEST

HD_TEST(create_and_remove)
{
    struct eng e;
    struct hd_op *op;
    char path[128];

    eng_start(&e, "mdev");
    /* A dry run writes nothing, and makes no journal. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", U1, HD_OP_DRY_RUN), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* Upper case and libvirt's name are the same UUID. */
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", "0B5B8F4A-0000-4000-8000-000000000001",
                             0), 0);
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_str_eq(fx_read(&e.fx, MTTY1 "/available_instances"), "7");
    ck_assert_uint_eq(eng_journals(&e), 0);
    ck_assert_int_eq(mdev_op(&e, false, NULL, NULL, "mdev_0b5b8f4a_0000_4000_8000_000000000001",
                             0), 0);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_str_eq(fx_read(&e.fx, MTTY1 "/available_instances"), "8");
    /* No UUID given: a random one, told back. */
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_MDEV_CREATE, &op), 0);
    ck_assert_int_eq(hd_op_set_mdev(op, "0000:00:02.0", "i915-GVTg_V5_8", NULL), 0);
    ck_assert_int_eq(hd_op_run(op), 0);
    snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s", hd_op_get_mdev_uuid(op));
    ck_assert(fx_exists(&e.fx, path));
    ck_assert_str_eq(hd_op_step_get_action(op, 0), "mdev-create");
    ck_assert_str_eq(hd_op_step_get_device(op, 0), hd_op_get_mdev_uuid(op));
    hd_op_unref(op);
    /* ... on the PCI parent's own directory. */
    snprintf(path, sizeof(path), "sys/bus/pci/devices/0000:00:02.0/mdev_supported_types/"
                                 "i915-GVTg_V5_8/available_instances");
    ck_assert_str_eq(fx_read(&e.fx, path), "0");
    eng_stop(&e);
}
END_TEST

HD_TEST(refusals_write_nothing)
{
    struct eng e;
    struct hd_op *op;

    eng_start(&e, "mdev");
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-9", U1, 0), -ENOENT);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "offers no mediated device type"));
    /* A type its PCI parent does not offer is bad input: no lock file is made for it (its
     * group's, the map's). */
    ck_assert_int_eq(mdev_op(&e, true, "0000:00:02.0", "i915-GVTg_V5_9", U1, 0), -ENOENT);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_NO_DEVICE);
    ck_assert(!fx_exists(&e.fx, "run/hostdev/locks"));
    ck_assert_int_eq(mdev_op(&e, true, "nosuch", "mtty-1", U1, 0), -ENOENT);
    /* Not a parent at all: said so, not as a missing type of a directory that is not there. */
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "nosuch is not a mediated device "
                                 "parent"));
    /* A UUID made as another type: not the device asked for (made as asked, see below). */
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", BOOT_MDEV, 0), -EEXIST);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_FAILED);
    /* Malformed names never reach a path. */
    ck_assert_int_eq(mdev_op(&e, true, "../mtty", "mtty-1", U1, 0), -EINVAL);
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1/..", U1, 0), -EINVAL);
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", "0b5b8f4a-0000-4000-8000-00000000000", 0),
                     -EINVAL);
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", "0b5b8f4a-0000-4000-8000-00000000000g", 0),
                     -EINVAL);
    /* Needs its parent and type; remove needs the UUID. */
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_MDEV_CREATE, &op), 0);
    ck_assert_int_eq(hd_op_run(op), -EINVAL);
    hd_op_unref(op);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* The type's last instance taken: refused before the write. */
    ck_assert_int_eq(mdev_op(&e, true, "0000:00:02.0", "i915-GVTg_V5_8", U1, 0), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(mdev_op(&e, true, "0000:00:02.0", "i915-GVTg_V5_8", NULL, 0), -EUSERS);
    ck_assert_uint_eq(eng_writes(&e), writes);
    eng_stop(&e);
}
END_TEST

/* The kernel refuses the create, or the device is held open on remove: nothing changes and
 * nothing is left in the journal. */
HD_TEST(failed_writes_change_nothing)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/devices/virtual/mtty/mtty/mdev_supported_types/"
                                   "mtty-1/create EIO"), 0);
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", U1, 0), -EIO);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "creating mediated device " U1));
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_uint_eq(eng_journals(&e), 0);
    /* Under --json its step says it is the one that failed, not that it was put back. */
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/devices/virtual/mtty/mtty/mdev_supported_types/"
                                   "mtty-1/create EIO"), 0);
    ck_assert_int_eq(eng_run(&e, "--json mdev create mtty mtty-1 --uuid " U1), 1);
    ck_assert_msg(strstr(e.out, "\"action\": \"mdev-create\"") != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "\"state\": \"failed\"") != NULL, "%s", e.out);
    ck_assert_ptr_null(strstr(e.out, "\"state\": \"undone\""));
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* A VM holds the boot mdev's group open: the remove is refused, and it stays. */
    struct hd_mdev_list *l;
    char cmd[64];
    ck_assert_int_eq(hd_mdev_list_new(e.ctx, &l), 0);
    snprintf(cmd, sizeof(cmd), "open-group %d", hd_mdev_list_get_iommu_group(l, 0));
    hd_mdev_list_unref(l);
    ck_assert_int_eq(fx_ctl(&e.fx, "%s", cmd), 0);
    ck_assert_int_lt(mdev_op(&e, false, NULL, NULL, BOOT_MDEV, 0), 0);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "a VM has it open"));
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV));
    ck_assert_uint_eq(eng_journals(&e), 0);
    eng_stop(&e);
}
END_TEST

/* A process killed after its journal line: recover puts the mediated devices back. */
HD_TEST(recover_undoes_a_dead_operation)
{
    struct eng e;
    unsigned int n = 0;

    eng_start(&e, "mdev");
    ck_assert_int_eq(fx_write(&e.fx, MTTY1 "/create", U1), 0); /* what the dead one did */
    const char *rel = eng_dead_journal(&e, "mdev", "hostdev-journal 2 mdev\n"
                                                   "mdev-create mtty mtty-1 " U1 "\n");
    ck_assert_int_eq(hd_assign_recover(e.ctx, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* A remove that died: the device comes back with its UUID and type. */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV "/remove", "1"), 0);
    eng_put(&e, rel, "hostdev-journal 2 mdev\nmdev-remove mtty mtty-2 " BOOT_MDEV "\n");
    ck_assert_int_eq(hd_assign_recover(e.ctx, &n), 0);
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV));
    ck_assert_str_eq(fx_link(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV "/mdev_type"),
                     "mtty-2");
    /* A journal whose mdev line names a path: damaged, set aside, nothing written. */
    size_t writes = eng_writes(&e);
    eng_put(&e, rel, "hostdev-journal 2 mdev\nmdev-create ../../x mtty-1 " U1 "\n");
    ck_assert_int_lt(hd_assign_recover(e.ctx, &n), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    eng_stop(&e);
}
END_TEST

/* Acquire or release @uuid (and nothing else) for @vm; the result. */
static int assign_mdev(struct eng *e, bool acquire, const char *vm, const char *uuid,
                       unsigned int flags)
{
    struct hd_op *op;
    int r;

    ck_assert_int_eq(hd_op_new(e->ctx, acquire ? HD_OP_ACQUIRE : HD_OP_RELEASE, &op), 0);
    hd_op_set_flags(op, flags);
    hd_op_set_owner(op, 107, 108);
    if (vm != NULL) /* none: the emergency release */
        ck_assert_int_eq(hd_op_set_vm(op, vm), 0);
    r = hd_op_add_mdev(op, uuid);
    if (r == 0)
        r = hd_op_run(op);
    hd_op_unref(op);
    return r;
}

/* The group node of the tree's first mediated device, root-relative. */
static void first_mdev_node(struct eng *e, char *node, size_t size)
{
    struct hd_mdev_list *l;

    ck_assert_int_eq(hd_mdev_list_new(e->ctx, &l), 0);
    snprintf(node, size, "dev/vfio/%d", hd_mdev_list_get_iommu_group(l, 0));
    hd_mdev_list_unref(l);
}

/* An mdev is acquired as a PCI device is, minus the driver: its group's node goes to the VM's
 * user and back, the map records it (kind, UUID, parent), and nothing else may take or
 * remove it meanwhile. */
HD_TEST(acquire_and_release)
{
    struct eng e;
    struct hd_assignment_list *map;
    const struct hd_assignment *a;
    char node[32];
    uid_t u;
    gid_t g;

    eng_start(&e, "mdev");
    first_mdev_node(&e, node, sizeof(node));
    /* A dry run: nothing written, nothing recorded. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(assign_mdev(&e, true, "vm1", BOOT_MDEV, HD_OP_DRY_RUN), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_uint_eq(eng_node_mode(&e, node, &u, &g), 0600);
    /* By libvirt's node-device name. */
    ck_assert_int_eq(assign_mdev(&e, true, "vm1", "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001",
                                 0), 0);
    ck_assert_uint_eq(eng_node_mode(&e, node, &u, &g), 0660);
    ck_assert_uint_eq(u, 107);
    ck_assert_uint_eq(g, 108);
    ck_assert_int_eq(hd_assignment_list_new(e.ctx, &map), 0);
    ck_assert_ptr_nonnull(a = hd_assignment_list_find_mdev(map, BOOT_MDEV));
    ck_assert_int_eq(hd_assignment_get_kind(a), HD_ASSIGNMENT_MDEV);
    ck_assert_str_eq(hd_assignment_get_vm(a), "vm1");
    ck_assert_str_eq(hd_assignment_get_name(a), BOOT_MDEV);
    ck_assert_str_eq(hd_assignment_get_parent(a), "mtty");
    ck_assert_ptr_null(hd_assignment_get_addr(a));
    ck_assert_ptr_null(hd_assignment_get_driver(a));
    /* It is not a PCI device of any address. */
    struct hd_pci_addr zero = {0};
    ck_assert_ptr_null(hd_assignment_list_find(map, &zero));
    hd_assignment_list_unref(map);
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "run/hostdev/map/assignments"),
                                 "# hostdev assignments v3\nmdev:" BOOT_MDEV " vm=vm1 "));
    ck_assert_uint_eq(eng_journals(&e), 0);
    /* Asked again as the VM holds it (an orchestrator's retry): done, nothing written. */
    char *map_text = strdup(fx_read(&e.fx, "run/hostdev/map/assignments"));
    writes = eng_writes(&e);
    ck_assert_int_eq(assign_mdev(&e, true, "vm1", BOOT_MDEV, 0), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/map/assignments"), map_text);
    free(map_text);
    /* Held: no second VM, no remove, no release by another VM. */
    ck_assert_int_eq(assign_mdev(&e, true, "vm2", BOOT_MDEV, 0), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_HELD);
    ck_assert_int_eq(mdev_op(&e, false, NULL, NULL, BOOT_MDEV, 0), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "assigned to vm vm1"));
    ck_assert_int_eq(assign_mdev(&e, false, "vm2", BOOT_MDEV, 0), -EPERM);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_HELD);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV));
    /* Released: the node as it was, the map back to a PCI-only one. */
    ck_assert_int_eq(assign_mdev(&e, false, "vm1", BOOT_MDEV, 0), 0);
    ck_assert_uint_eq(eng_node_mode(&e, node, &u, &g), 0600);
    ck_assert_uint_eq(u, 0);
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "run/hostdev/map/assignments"),
                                 "# hostdev assignments v2\n# end 0 "));
    /* Released again (a retry): done, nothing written. */
    writes = eng_writes(&e);
    ck_assert_int_eq(assign_mdev(&e, false, "vm1", BOOT_MDEV, 0), 0);
    ck_assert_int_eq(eng_run(&e, "release --vm vm1 " BOOT_MDEV), 0);
    ck_assert_str_eq(e.out, BOOT_MDEV ": not assigned to vm vm1 (nor any other): nothing to do\n");
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* Gone: a clear refusal; a device only an acquire or release takes. */
    ck_assert_int_eq(assign_mdev(&e, true, "vm1", U1, 0), -ENOENT);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_NO_DEVICE);
    ck_assert_int_eq(assign_mdev(&e, false, "vm1", U1, 0), -ENOENT);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_NO_DEVICE);
    struct hd_op *op;
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_DETACH, &op), 0);
    ck_assert_int_eq(hd_op_add_mdev(op, BOOT_MDEV), -EINVAL);
    hd_op_unref(op);
    eng_stop(&e);
}
END_TEST

/* The emergency release takes an mdev by UUID as it takes a PCI device by address: its node
 * goes back and its record is dropped (the device stays), whatever VM holds it; a record whose
 * device is gone is dropped; one no VM holds is nothing to do. */
HD_TEST(release_force_drops_an_mdev_record)
{
    struct eng e;
    char node[32];
    uid_t u;
    gid_t g;

    eng_start(&e, "mdev");
    first_mdev_node(&e, node, sizeof(node));
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 " BOOT_MDEV), 0);
    ck_assert_uint_eq(eng_node_mode(&e, node, &u, &g), 0660);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "release --force --dry-run " BOOT_MDEV), 0);
    ck_assert_ptr_nonnull(strstr(e.out, BOOT_MDEV ": released from vm vm1"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "release --force " BOOT_MDEV), 0);
    ck_assert_ptr_nonnull(strstr(e.out, BOOT_MDEV ": released from vm vm1"));
    ck_assert_uint_eq(eng_node_mode(&e, node, &u, &g), 0600);
    ck_assert_uint_eq(u, 0);
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_str_eq(e.out, "no devices are assigned\n");
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV));
    /* Held by no VM: a retry finds it released, nothing to do (exit 0, nothing written); not
     * there either: bad input (exit 2). */
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "release --force " BOOT_MDEV), 0);
    ck_assert_str_eq(e.out, BOOT_MDEV ": no VM holds it: nothing to do\n");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "release --force " U1), 2);
    ck_assert_ptr_nonnull(strstr(e.err, U1 ": no such mediated device under "));
    /* Removed under its VM: the record goes all the same. */
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 " BOOT_MDEV), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV "/remove", "1"), 0);
    ck_assert_int_eq(eng_run(&e, "release --force mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001"),
                     0);
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_str_eq(e.out, "no devices are assigned\n");
    ck_assert_uint_eq(eng_journals(&e), 0);
    eng_stop(&e);
}
END_TEST

/* A mediated device removed while the map gives it to a VM: doctor asked of it by its UUID says
 * what the whole-host run says of it (the record left behind, which a release drops), exit 1,
 * as for a USB device unplugged under its VM; it was refused as no such device (exit 2). One
 * neither there nor recorded stays bad input. */
HD_TEST(doctor_sees_a_removed_mediated_device_by_its_uuid)
{
    static const char *const mismatch = "error " BOOT_MDEV ": the assignment map gives mediated "
                                        "device\n  " BOOT_MDEV " (of mtty) to vm vm1, but there "
                                        "is no such mediated device: it\n  was removed";
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 " BOOT_MDEV), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV "/remove", "1"), 0);
    ck_assert_int_eq(eng_run(&e, "doctor"), 1);
    ck_assert_msg(strstr(e.out, mismatch) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "doctor " BOOT_MDEV), 1);
    ck_assert_msg(strstr(e.out, mismatch) != NULL, "%s%s", e.out, e.err);
    ck_assert_msg(strstr(e.out, "run: hostdev release --vm vm1 " BOOT_MDEV "\n") != NULL, "%s",
                  e.out);
    ck_assert_int_eq(eng_run(&e, "--json doctor mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001"), 1);
    ck_assert_msg(strstr(e.out, "\"code\": \"map-mismatch\",\n      \"device\": \"" BOOT_MDEV
                                "\"") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "doctor " U1), 2);
    ck_assert_ptr_nonnull(strstr(e.err, U1 ": no such mediated device"));
    ck_assert_int_eq(eng_run(&e, "release --vm vm1 " BOOT_MDEV), 0);
    ck_assert_int_eq(eng_run(&e, "doctor " BOOT_MDEV), 2);
    ck_assert_ptr_nonnull(strstr(e.err, BOOT_MDEV ": no such mediated device"));
    eng_stop(&e);
}
END_TEST

/* The records of an mdev's acquire: a killed acquire is undone by recover (the node's owner
 * back) unless its map write happened (then it stands); a map line of an mdev is checked as
 * a PCI one is. */
HD_TEST(records_and_recovery)
{
    struct eng e;
    struct hd_assignment_list *map;
    struct hd_mdev_list *l;
    char node[32], text[512];
    unsigned int n = 0;
    int group;
    uid_t u;
    gid_t g;

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_list_new(e.ctx, &l), 0);
    group = hd_mdev_list_get_iommu_group(l, 0);
    hd_mdev_list_unref(l);
    snprintf(node, sizeof(node), "dev/vfio/%d", group);
    /* A process that died after handing the node over, before its map write. */
    ck_assert_int_eq(chown(fx_path(&e.fx, node), 107, 108), 0);
    ck_assert_int_eq(chmod(fx_path(&e.fx, node), 0660), 0);
    snprintf(text, sizeof(text), "hostdev-journal 2 acquire vm1\nmdev %s %d\nown %s 0 0 0600\n",
             BOOT_MDEV, group, node);
    const char *rel = eng_dead_journal(&e, "acquire", text);
    ck_assert_int_eq(hd_assign_recover(e.ctx, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(eng_node_mode(&e, node, &u, &g), 0600);
    ck_assert_uint_eq(u, 0);
    /* One that died after it: its acquire stands. */
    ck_assert_int_eq(assign_mdev(&e, true, "vm1", BOOT_MDEV, 0), 0);
    eng_put(&e, rel, text);
    ck_assert_int_eq(hd_assign_recover(e.ctx, &n), 0);
    ck_assert_uint_eq(eng_node_mode(&e, node, &u, &g), 0660);
    ck_assert_int_eq(hd_assignment_list_new(e.ctx, &map), 0);
    ck_assert_ptr_nonnull(hd_assignment_list_find_mdev(map, BOOT_MDEV));
    hd_assignment_list_unref(map);
    /* Map lines: an mdev line in a v2 map, one without its parent, one with a UUID not in its
     * one spelling, and a parent that is a path are each damage. */
    static const char *const bad[] = {
        "# hostdev assignments v2\nmdev:" BOOT_MDEV " vm=a mode=unmanaged detached=0 "
        "via=request driver=- group=2 since=1 owner=0:0 parent=mtty nodes=-\n",
        "# hostdev assignments v3\nmdev:" BOOT_MDEV " vm=a mode=unmanaged detached=0 "
        "via=request driver=- group=2 since=1 owner=0:0 nodes=-\n",
        "# hostdev assignments v3\nmdev:83B8F4F2-509f-382f-3c1e-e6bfe0fa1001 vm=a "
        "mode=unmanaged detached=0 via=request driver=- group=2 since=1 owner=0:0 parent=mtty "
        "nodes=-\n",
        "# hostdev assignments v3\nmdev:" BOOT_MDEV " vm=a mode=unmanaged detached=0 "
        "via=request driver=- group=2 since=1 owner=0:0 parent=../x nodes=-\n",
        "# hostdev assignments v3\n0000:00:02.0 vm=a mode=managed detached=0 via=request "
        "driver=- group=2 since=1 owner=0:0 parent=mtty nodes=-\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        eng_map_damaged(&e, bad[i], "line 2 is not valid");
    eng_stop(&e);
}
END_TEST

HD_TEST(the_tool)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "mdev types"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "mtty mtty-1 \"Single port serial\" api=vfio-pci "
                                      "available=8\n"));
    ck_assert_int_eq(eng_run(&e, "--json mdev types"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"available_instances\": 2"));
    ck_assert_int_eq(eng_run(&e, "mdev list"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, BOOT_MDEV " mtty mtty-2 driver=mtty group="));
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid " U1 " --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "dry run"));
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid " U1), 0);
    ck_assert_str_eq(e.out, U1 ": created (type mtty-1 of mtty)\n");
    /* show names its parent and driver, as the man page says. */
    ck_assert_int_eq(eng_run(&e, "show " U1), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "  parent:          mtty\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "  driver:          "));
    ck_assert_int_eq(eng_run(&e, "--json show " U1), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"parent\": \"mtty\""));
    ck_assert_int_eq(eng_run(&e, "--json mdev remove " U1), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"action\": \"mdev-remove\""));
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* A PCI parent however short it is given: sysfs (and mdevctl) name it in full. */
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_4 --uuid " U1), 0);
    ck_assert_str_eq(e.out, U1 ": created (type i915-GVTg_V5_4 of 0000:00:02.0)\n");
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_int_eq(eng_run(&e, "mdev remove " U1), 0);
    ck_assert_int_eq(eng_run(&e, "mdev define 00:02.0 i915-GVTg_V5_4 --uuid " U1), 0);
    ck_assert(fx_exists(&e.fx, "etc/mdevctl.d/0000:00:02.0/" U1));
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/00:02.0"));
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 0);
    ck_assert_int_eq(eng_run(&e, "mdev create bad/parent mtty-1"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "'bad/parent' is not a mediated device parent"));
    /* Bad input: exit 2, one line naming it. */
    ck_assert_int_eq(eng_run(&e, "mdev create mtty"), 2);
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid nope"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "'nope' is not a UUID"));
    ck_assert_int_eq(eng_run(&e, "mdev frob"), 2);
    ck_assert_int_eq(eng_run(&e, "mdev list extra"), 2);
    ck_assert_int_eq(eng_run(&e, "--json mdev remove nope"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "\"exit\":2"));
    /* acquire / assignments / release take an mdev by UUID or node-device name. */
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 " BOOT_MDEV), 0);
    ck_assert_ptr_nonnull(strstr(e.out, BOOT_MDEV ": assigned to vm vm1"));
    /* doctor takes it as acquire does; one that is not there is bad input. */
    ck_assert_int_eq(eng_run(&e, "doctor mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001"), 0);
    ck_assert_ptr_null(strstr(e.err, "invalid PCI address"));
    ck_assert_int_eq(eng_run(&e, "--json doctor " BOOT_MDEV), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"ok\": true"));
    ck_assert_int_eq(eng_run(&e, "doctor " U1), 2);
    ck_assert_ptr_nonnull(strstr(e.err, U1 ": no such mediated device"));
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, BOOT_MDEV " vm1 "));
    ck_assert_ptr_nonnull(strstr(e.out, " mdev "));
    ck_assert_ptr_nonnull(strstr(e.out, "(on mtty)"));
    ck_assert_int_eq(eng_run(&e, "--json assignments"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"kind\": \"mdev\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"uuid\": \"" BOOT_MDEV "\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"parent\": \"mtty\""));
    ck_assert_int_eq(eng_run(&e, "export --format prometheus"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev_assigned{mdev=\"" BOOT_MDEV "\",parent=\"mtty\","
                                        "vm=\"vm1\"} 1\n"));
    ck_assert_int_eq(eng_run(&e, "migratable --vm vm1"), 1);
    ck_assert_ptr_nonnull(strstr(e.out, BOOT_MDEV));
    ck_assert_int_eq(eng_run(&e, "mdev remove " BOOT_MDEV), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "assigned to vm vm1: release it first"));
    ck_assert_int_eq(eng_run(&e, "detach " BOOT_MDEV), 2);
    ck_assert_int_eq(eng_run(&e, "release --vm vm1 mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001"),
                     0);
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_str_eq(e.out, "no devices are assigned\n");
    /* ... and from a domain's <hostdev type='mdev'>, as libvirt writes it. */
    eng_put(&e, "dom.xml", "<domain type='kvm'><name>guest1</name><devices>"
                           "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
                           "<address uuid='" BOOT_MDEV "'/></source></hostdev></devices>"
                           "</domain>\n");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "acquire --owner 0:0 --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 0);
    ck_assert_ptr_nonnull(strstr(e.out, BOOT_MDEV ": assigned to vm guest1"));
    snprintf(cmd, sizeof(cmd), "release --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 0);
    ck_assert_ptr_nonnull(strstr(e.out, BOOT_MDEV ": released from vm guest1"));
    eng_put(&e, "dom.xml", "<domain type='kvm'><name>guest1</name><devices><hostdev "
                           "mode='subsystem' type='mdev'><source><address uuid='nope'/></source>"
                           "</hostdev></devices></domain>\n");
    snprintf(cmd, sizeof(cmd), "acquire --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "<hostdev type='mdev'> needs <source><address uuid"));
    eng_stop(&e);
}
END_TEST

/* Orchestrators retry: a create of what is there as asked, or a remove of what is not there,
 * is done already (exit 0, step "already", nothing written); a UUID made as another parent or
 * type, or a gone one the map still gives a VM, stays refused. */
HD_TEST(retried_create_and_remove_are_done_already)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid " U1), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid " U1), 0);
    ck_assert_str_eq(e.out, U1 ": already there (type mtty-1 of mtty), as asked: nothing to do\n");
    ck_assert_int_eq(eng_run(&e, "--json mdev create mtty mtty-1 --uuid " U1), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"action\": \"already\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"from\": \"mtty\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"to\": \"mtty-1\""));
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid " U1 " --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, U1 ": already there"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* Another type or parent: refused, naming what it is. */
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-2 --uuid " U1), 1);
    ck_assert_ptr_nonnull(strstr(e.err, U1 " exists already, as type mtty-1 of mtty, not mtty-2 "
                                        "of mtty"));
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_4 --uuid " U1), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "not i915-GVTg_V5_4 of 0000:00:02.0"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* The type's last instance is the device itself: still done already. */
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_8 --uuid "
                                 "0b5b8f4a-0000-4000-8000-000000000002"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_8 --uuid "
                                 "0b5b8f4a-0000-4000-8000-000000000002"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, ": already there"));
    /* Removed, then removed again: not there, nothing done. */
    ck_assert_int_eq(eng_run(&e, "mdev remove " U1), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "mdev remove " U1), 0);
    ck_assert_str_eq(e.out, U1 ": not there: nothing to do\n");
    ck_assert_int_eq(eng_run(&e, "--json mdev remove " U1), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"action\": \"already\""));
    ck_assert_int_eq(eng_run(&e, "mdev remove --dry-run " U1), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_uint_eq(eng_journals(&e), 0);
    /* A malformed UUID stays bad input. */
    ck_assert_int_eq(eng_run(&e, "mdev remove nope"), 2);
    /* Gone under its VM: the record goes with a release, not here. */
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 " BOOT_MDEV), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV "/remove", "1"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev remove " BOOT_MDEV), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "assigned to vm vm1: release it first"));
    eng_stop(&e);
}
END_TEST

/* Whether the UUID is made already is asked under the lock a remove holds (the map's): while
 * another hostdev process holds it (a remove between its check and its write, a create), a
 * create neither calls the device there "already" nor makes one; it waits and is busy. */
HD_TEST(create_asks_already_under_the_lock)
{
    struct eng e;
    int fd;

    eng_start(&e, "mdev");
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", U1, 0), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_lock_map(e.ctx, &fd), 0); /* a second open file: flock refuses it */
    hd_ctx_set_timeout_ms(e.ctx, 50);
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", U1, 0), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "the assignment map is locked"));
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", "0b5b8f4a-0000-4000-8000-000000000002",
                             0), -EBUSY);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/0b5b8f4a-0000-4000-8000-000000000002"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* A dry run takes no lock, as remove's. */
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", U1, HD_OP_DRY_RUN), 0);
    hd_unlock(fd);
    ck_assert_int_eq(mdev_op(&e, true, "mtty", "mtty-1", U1, 0), 0);
    ck_assert_uint_eq(eng_journals(&e), 0);
    eng_stop(&e);
}
END_TEST

/* A dry run without --uuid shows a UUID the run will not use: it says so (text and JSON), so
 * that no one writes it into a domain; with --uuid there is nothing to say. */
HD_TEST(a_dry_runs_random_uuid_is_named_as_such)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "hostdev mdev create: note: the UUID shown is a random "
                                        "one: the run makes another"));
    ck_assert_int_eq(eng_run(&e, "--json mdev create mtty mtty-1 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_assert_ptr_nonnull(strstr(e.out, "\"warnings\": [\n    \"the UUID shown is a random"));
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-1 --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "note: the UUID shown is a random one"));
    ck_assert_int_eq(eng_run(&e, "--json mdev define mtty mtty-1 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_assert_ptr_nonnull(strstr(e.out, "\"warnings\""));
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid " U1 " --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-1 --uuid " U1 " --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
    /* The real run has nothing random to warn of: it prints the UUID it made. */
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1"), 0);
    ck_assert_str_eq(e.err, "");
    eng_stop(&e);
}
END_TEST

/* A dry run of define said only "would define UUID": not the parent, type, start or file the
 * run writes, as every other dry run says its steps. Now it says them all (text and --json),
 * the parent as mdevctl's directory names it; the run's JSON says the same. */
HD_TEST(a_define_dry_run_says_what_the_run_writes)
{
    struct eng e;
    char file[256], want[1024];

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_define_file(e.ctx, "00:02.0", U1, file, sizeof(file)), 0);
    ck_assert_str_eq(file, "etc/mdevctl.d/0000:00:02.0/" U1);
    ck_assert_int_eq(hd_mdev_define_file(e.ctx, "../x", U1, file, sizeof(file)), -EINVAL);
    ck_assert_int_eq(hd_mdev_define_file(e.ctx, "mtty", U1, file, 20), -ENAMETOOLONG);
    ck_assert_int_eq(eng_run(&e, "mdev define --dry-run 00:02.0 i915-GVTg_V5_4 --uuid " U1), 0);
    snprintf(want, sizeof(want), "dry run: nothing changed; mdev define would do:\n  " U1
             ": defined as type i915-GVTg_V5_4 of 0000:00:02.0, made at every boot (start auto), "
             "in %s/etc/mdevctl.d/0000:00:02.0/" U1 "\n", e.fx.root);
    ck_assert_str_eq(e.out, want);
    ck_assert_int_eq(eng_run(&e, "--json mdev define --dry-run --manual mtty mtty-1 --uuid " U1), 0);
    at_json_check(e.out, false);
    snprintf(want, sizeof(want), "\"defined\": \"" U1 "\",\n  \"parent\": \"mtty\",\n  "
             "\"type\": \"mtty-1\",\n  \"start\": \"manual\",\n  \"file\": "
             "\"%s/etc/mdevctl.d/mtty/" U1 "\"\n", e.fx.root);
    ck_assert_msg(strstr(e.out, want) != NULL, "%s", e.out);
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    ck_assert_int_eq(eng_run(&e, "--json mdev define --manual mtty mtty-1 --uuid " U1), 0);
    ck_assert_msg(strstr(e.out, want) != NULL, "%s", e.out);
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "etc/mdevctl.d/mtty/" U1), "\"manual\""));
    eng_stop(&e);
}
END_TEST

/* mdev create on a parent that left its host driver said it was no parent (no such device, or
 * no types), exit 2. Now it says where the parent is, on vfio-pci or held by a VM, and that its
 * host driver must be back: exit 1, as a PCI operation on a device in the wrong state, the dry
 * run's too. A device that never offered types is still no parent, exit 2. */
HD_TEST(mdev_create_on_a_parent_off_its_driver_says_where_it_is)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "detach 00:02.0"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_4 --uuid " U1), 1);
    ck_assert_str_eq(e.err, "hostdev mdev create: 0000:00:02.0 is on vfio-pci: its host driver "
                            "must be back for it to make mediated devices\n");
    ck_assert_int_eq(eng_run(&e, "mdev create --dry-run 00:02.0 i915-GVTg_V5_4 --uuid " U1), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "is on vfio-pci: its host driver must be back"));
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 0:0 00:02.0"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_4 --uuid " U1), 1);
    ck_assert_str_eq(e.err, "hostdev mdev create: 0000:00:02.0 is held by vm vm1: its host driver "
                            "must be back for it to make mediated devices\n");
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_int_eq(eng_run(&e, "mdev create 00:00.0 i915-GVTg_V5_4 --uuid " U1), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "0000:00:00.0 is not a mediated device parent"));
    /* Back on its driver, it makes them again. */
    ck_assert_int_eq(eng_run(&e, "release --vm vm1"), 0);
    ck_assert_int_eq(eng_run(&e, "reattach 00:02.0"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_4 --uuid " U1), 0);
    eng_stop(&e);
}
END_TEST

/* A dry run of undefine said only "would undefine UUID": not the file it removes nor the
 * definition's parent, type and start. Now it says them (text and --json), as define's does;
 * the run's JSON says the same. */
HD_TEST(an_undefine_dry_run_says_what_the_run_removes)
{
    struct eng e;
    char want[1024];

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "mdev define --manual 00:02.0 i915-GVTg_V5_4 --uuid " U1), 0);
    ck_assert_int_eq(eng_run(&e, "mdev undefine --dry-run " U1), 0);
    snprintf(want, sizeof(want), "dry run: nothing changed; mdev undefine would do:\n  " U1
             ": undefined (type i915-GVTg_V5_4 of 0000:00:02.0, start manual): "
             "%s/etc/mdevctl.d/0000:00:02.0/" U1 " removed; a running one stays\n", e.fx.root);
    ck_assert_str_eq(e.out, want);
    ck_assert_int_eq(eng_run(&e, "--json mdev undefine --dry-run " U1), 0);
    at_json_check(e.out, false);
    snprintf(want, sizeof(want), "\"undefined\": \"" U1 "\",\n  \"parent\": \"0000:00:02.0\",\n"
             "  \"type\": \"i915-GVTg_V5_4\",\n  \"start\": \"manual\",\n  \"file\": "
             "\"%s/etc/mdevctl.d/0000:00:02.0/" U1 "\"\n", e.fx.root);
    ck_assert_msg(strstr(e.out, want) != NULL, "%s", e.out);
    ck_assert(fx_exists(&e.fx, "etc/mdevctl.d/0000:00:02.0/" U1));
    ck_assert_int_eq(eng_run(&e, "--json mdev undefine " U1), 0);
    ck_assert_msg(strstr(e.out, want) != NULL, "%s", e.out);
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/0000:00:02.0/" U1));
    eng_stop(&e);
}
END_TEST

/* A mediated device given with its parent: acquire refuses the pair (detaching the parent
 * removes it), and check says so of it, in acquire's words; it said nothing of the pair. */
HD_TEST(check_says_a_mediated_device_does_not_go_with_its_parent)
{
    struct eng e;
    const char *lives = "mediated device " U1 " lives on 0000:00:02.0, and detaching "
                        "0000:00:02.0 removes it: ask for one or the other";

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_4 --uuid " U1), 0);
    ck_assert_int_eq(eng_run(&e, "check " U1), 0);
    ck_assert_int_eq(eng_run(&e, "check 00:02.0 " U1), 1);
    ck_assert_msg(strstr(e.out, lives) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "acquire --dry-run --force --vm v 00:02.0 " U1), 2);
    ck_assert_msg(strstr(e.err, lives) != NULL, "%s", e.err);
    eng_stop(&e);
}
END_TEST

/* A type the parent, there now, does not offer is defined all the same (mdevctl defines before
 * the parent's driver is there), with a note naming the types it offers: the library's, printed
 * by the tool (text and --json, the dry run too). A parent that is not there, or that lists the
 * type, calls for none. */
#define MTTY9_NOTE                                                                              \
    "mtty offers no mediated device type mtty-9 now (its types: mtty-1, mtty-2): a definition " \
    "of it is accepted, but making it fails until the parent offers it"
HD_TEST(a_type_the_parent_does_not_offer_is_noted)
{
    struct eng e;
    char *note = NULL;

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_define_note(e.ctx, "mtty", "mtty-9", &note), 0);
    ck_assert_str_eq(note, MTTY9_NOTE);
    free(note);
    ck_assert_int_eq(hd_mdev_define_note(e.ctx, "mtty", "mtty-1", &note), 0);
    ck_assert_ptr_null(note);
    ck_assert_int_eq(hd_mdev_define_note(e.ctx, "00:02.0", "i915-GVTg_V5_8", &note), 0);
    ck_assert_ptr_null(note);
    ck_assert_int_eq(hd_mdev_define_note(e.ctx, "00:03.0", "nvidia-63", &note), 0);
    ck_assert_ptr_null(note);
    ck_assert_int_eq(hd_mdev_define_note(e.ctx, "../x", "mtty-1", &note), -EINVAL);
    ck_assert_ptr_null(note);

    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-9 --uuid " U1 " --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, U1 ": defined as type mtty-9 of mtty, made at every boot"));
    ck_assert_str_eq(e.err, "hostdev mdev define: note: " MTTY9_NOTE "\n");
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-9 --uuid " U1), 0);
    ck_assert_str_eq(e.out, U1 ": defined, made at every boot\n");
    ck_assert_str_eq(e.err, "hostdev mdev define: note: " MTTY9_NOTE "\n");
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "etc/mdevctl.d/mtty/" U1), "\"mtty-9\""));
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 0);
    ck_assert_int_eq(eng_run(&e, "--json mdev define mtty mtty-9 --uuid " U1), 0);
    at_json_check(e.out, false);
    ck_assert_ptr_nonnull(strstr(e.out, "\"warnings\": [\n    \"" MTTY9_NOTE "\"\n  ]"));
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 0);
    /* Listed, or no parent there yet: nothing to say. */
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-1 --uuid " U1), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 0);
    ck_assert_int_eq(eng_run(&e, "mdev define 00:03.0 nvidia-63 --uuid " U1), 0);
    ck_assert_str_eq(e.err, "");
    eng_stop(&e);
}
END_TEST

/* Definitions in mdevctl's files: written, listed, made by reserve, removed; bad files named. */
HD_TEST(definitions_and_reserve)
{
    struct eng e;
    struct hd_mdev_defined_list *l;
    FILE *f;

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_define(e.ctx, "mtty", "mtty-1", U1, true), 0);
    ck_assert_str_eq(fx_read(&e.fx, "etc/mdevctl.d/mtty/" U1),
                     "{\n  \"mdev_type\": \"mtty-1\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}");
    /* mdevctl's own layout, other key order and attributes (which hostdev does not apply). */
    mkdir(fx_path(&e.fx, "etc/mdevctl.d/0000:00:02.0"), 0755);
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "etc/mdevctl.d/0000:00:02.0/"
                                                  "0b5b8f4a-0000-4000-8000-000000000002"), "w"));
    fputs("{\"start\":\"manual\",\"attrs\":[{\"x\":\"1\"}],\"mdev_type\":\"i915-GVTg_V5_4\"}\n", f);
    fclose(f);
    ck_assert_int_eq(hd_mdev_defined_list_new(e.ctx, &l), 0);
    ck_assert_uint_eq(hd_mdev_defined_list_count(l), 2);
    ck_assert_str_eq(hd_mdev_defined_list_get_parent(l, 0), "0000:00:02.0");
    ck_assert(!hd_mdev_defined_list_get_autostart(l, 0));
    ck_assert(hd_mdev_defined_list_has_attrs(l, 0));
    ck_assert_str_eq(hd_mdev_defined_list_get_uuid(l, 1), U1);
    ck_assert_str_eq(hd_mdev_defined_list_get_type(l, 1), "mtty-1");
    ck_assert(hd_mdev_defined_list_get_autostart(l, 1));
    ck_assert(!hd_mdev_defined_list_has_attrs(l, 1));
    hd_mdev_defined_list_unref(l);
    /* reserve makes the auto one, not the manual one; a second reserve has nothing to do. */
    ck_assert_int_eq(eng_run(&e, "reserve --dry-run"), 0);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_int_eq(eng_run(&e, "reserve"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, U1 ": created (type mtty-1 of mtty)"));
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/0b5b8f4a-0000-4000-8000-000000000002"));
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "reserve"), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* The tool: defined, undefine; a broken file is named, exit 2. */
    ck_assert_int_eq(eng_run(&e, "mdev defined"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, U1 " mtty mtty-1 start=auto\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "start=manual (attrs not applied by hostdev)"));
    ck_assert_int_eq(eng_run(&e, "mdev undefine --dry-run " U1), 0);
    ck_assert(fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 0);
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1)); /* undefining removes nothing */
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 2); /* not defined: bad input */
    ck_assert_int_eq(eng_run(&e, "mdev undefine --dry-run " U1), 2); /* the dry run's too */
    ck_assert_ptr_nonnull(strstr(e.err, U1 " is not defined"));
    /* One UUID, one definition: another parent or type is refused, the dry run's too, and
     * the boot never creates one UUID twice; the same definition again is fine. */
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-1 --uuid " U1), 0);
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-1 --manual --uuid " U1), 0);
    ck_assert_int_eq(eng_run(&e, "mdev define --dry-run 00:02.0 i915-GVTg_V5_4 --uuid " U1), 2);
    ck_assert_int_eq(eng_run(&e, "mdev define 00:02.0 i915-GVTg_V5_4 --uuid " U1), 2);
    ck_assert_ptr_nonnull(strstr(e.err, U1 " is defined already (type mtty-1 of mtty)"));
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-2 --uuid " U1), 2);
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/0000:00:02.0/" U1));
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "etc/mdevctl.d/mtty/" U1), "\"mtty-1\""));
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 0);
    /* mdevctl's --auto is the default here, said as such; with --manual it is bad input. */
    ck_assert_int_eq(eng_run(&e, "mdev define --auto mtty mtty-1 --uuid " U1), 0);
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "etc/mdevctl.d/mtty/" U1), "\"auto\""));
    ck_assert_int_eq(eng_run(&e, "mdev define -a --manual mtty mtty-1 --uuid " U1), 2);
    ck_assert_str_eq(e.err, "hostdev mdev define: --auto or --manual, not both\n");
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "etc/mdevctl.d/mtty/" U1), "\"auto\""));
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 0);
    /* --dry-run writes nothing and, under --json, says what it would in one document. */
    ck_assert_int_eq(eng_run(&e, "--json mdev define mtty mtty-1 --uuid " U1 " --dry-run"), 0);
    at_json_check(e.out, false);
    ck_assert_ptr_nonnull(strstr(e.out, "\"dry_run\": true,\n  \"defined\": \"" U1 "\""));
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    ck_assert_int_eq(eng_run(&e, "mdev define mtty ../x"), 2);
    /* The UUID said as create says it: libvirt's mdev_ name is taken here too. */
    ck_assert_int_eq(eng_run(&e, "mdev undefine xyz"), 2);
    ck_assert_str_eq(e.err, "hostdev mdev undefine: 'xyz' is not a UUID (8-4-4-4-12 hex digits, or "
                            "mdev_ with '_' for '-')\n");
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-2 --manual --uuid " BOOT_MDEV), 0);
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "etc/mdevctl.d/mtty/" BOOT_MDEV), "\"manual\""));
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "etc/mdevctl.d/mtty/" BOOT_MDEV), "w"));
    fputs("{\"mdev_type\": \"mtty-2\", \"start\": \"sometimes\"}", f);
    fclose(f);
    ck_assert_int_eq(eng_run(&e, "mdev defined"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" BOOT_MDEV ": not an mdevctl definition"));
    /* Each of these is refused, never half read; the attrs one is fine. */
    static const struct {
        const char *text;
        int exit;
    } files[] = {
        {"{", 2},
        {"", 2},
        {"{\"start\": \"auto\"}", 2},                         /* no type */
        {"{\"mdev_type\": 5, \"start\": \"auto\"}", 2},         /* not a string */
        {"{\"mdev_type\": \"../x\", \"start\": \"auto\"}", 2}, /* not a name */
        {"{\"mdev_type\": \"mtty-2\"} trailing", 2},
        {"{\"mdev_type\": \"mtty-2\", \"start\": \"auto\", \"attrs\": [{\"a\": [1, {\"b\": \"]\"}]}]}",
         0},
        {"{\"mdev_type\": \"mtty-2\", \"attrs\": [}", 2},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "etc/mdevctl.d/mtty/" BOOT_MDEV), "w"));
        fputs(files[i].text, f);
        fclose(f);
        ck_assert_msg(eng_run(&e, "mdev defined") == files[i].exit, "'%s': exit %d", files[i].text,
                      eng_run(&e, "mdev defined"));
    }
    eng_stop(&e);
}
END_TEST

/* A parent that registers after the boot's run (its driver loaded later, or back after a
 * detach): udev's "change" with MDEV_STATE=registered makes its start auto definitions (not
 * another parent's), once. */
#define U2ND "0b5b8f4a-0000-4000-8000-000000000002"
HD_TEST(a_parent_registering_gets_its_auto_definitions)
{
    struct eng e;
    size_t writes;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "detach 00:02.0"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev define 00:02.0 i915-GVTg_V5_4 --uuid " U1), 0);
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-1 --uuid " U2ND), 0);
    ck_assert_int_eq(eng_run(&e, "reattach 00:02.0"), 0);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    setenv("ACTION", "change", 1);
    setenv("SUBSYSTEM", "pci", 1);
    setenv("MDEV_STATE", "registered", 1);
    setenv("PCI_SLOT_NAME", "0000:00:02.0", 1);
    setenv("DEVPATH", "/devices/pci0000:00/0000:00:02.0", 1);
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "--dry-run reserve --uevent"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n  " U1 ": would be "
                            "created (type i915-GVTg_V5_4 of 0000:00:02.0) (etc/mdevctl.d/"
                            "0000:00:02.0/" U1 ")\n");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "reserve --uevent"), 0);
    ck_assert_str_eq(e.out, U1 ": created (type i915-GVTg_V5_4 of 0000:00:02.0) (etc/mdevctl.d/"
                            "0000:00:02.0/" U1 ")\n");
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U2ND));
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "--json reserve --uevent"), 0);
    ck_assert_str_eq(e.out, "[]\n");
    ck_assert_uint_eq(eng_writes(&e), writes);
    unsetenv("DEVPATH");
    ck_assert_int_eq(eng_run(&e, "reserve --uevent"), 2);
    ck_assert_str_eq(e.err, "hostdev reserve: --uevent: DEVPATH is not set (run from udev)\n");
    unsetenv("ACTION");
    unsetenv("SUBSYSTEM");
    unsetenv("MDEV_STATE");
    unsetenv("PCI_SLOT_NAME");
    eng_stop(&e);
}
END_TEST

/* A defined device is made by its UUID alone, as defined (mdevctl start --uuid): the one
 * --manual keeps for when it is asked. Made as another parent or type it would not be the
 * device every boot makes: refused, nothing written. */
HD_TEST(a_defined_device_is_made_as_defined)
{
    struct eng e;
    size_t writes;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "mdev define --manual mtty mtty-2 --uuid " U1), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid " U1), 2);
    ck_assert_str_eq(e.err, "hostdev mdev create: mediated device " U1 " is defined as type "
                            "mtty-2 of mtty, not mtty-1 of mtty: make it as defined, or "
                            "undefine it first\n");
    ck_assert_int_eq(eng_run(&e, "mdev create --uuid " U2ND), 2);
    ck_assert_str_eq(e.err, "hostdev mdev create: mediated device " U2ND " is not defined: "
                            "making it needs its parent and type\n");
    ck_assert_int_eq(eng_run(&e, "mdev create --dry-run --uuid " U1), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; mdev create would do:\n  " U1 ": created "
                            "(type mtty-2 of mtty)\n");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "mdev create --uuid " U1), 0);
    ck_assert_str_eq(fx_link(&e.fx, "sys/bus/mdev/devices/" U1 "/mdev_type"),
                     "mtty-2");
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-2 --uuid " U2ND), 0); /* not defined */
    eng_stop(&e);
}
END_TEST

/* A UUID running as another parent or type is not the device a definition would make: its
 * define is refused (exit 1, naming both, dry run too, nothing written), as create refuses a
 * UUID made otherwise; one running as defined, or not running, is defined. */
HD_TEST(a_running_device_is_defined_as_it_runs)
{
    struct eng e;
    size_t writes;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "mdev create mtty mtty-1 --uuid " U1), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-2 --uuid " U1), 1);
    ck_assert_str_eq(e.err, "hostdev mdev define: mediated device " U1 " runs as type mtty-1 of "
                            "mtty, not mtty-2 of mtty: remove it first, or choose another UUID\n");
    ck_assert_int_eq(eng_run(&e, "mdev define --dry-run 00:02.0 i915-GVTg_V5_4 --uuid " U1), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "runs as type mtty-1 of mtty, not i915-GVTg_V5_4 of "
                                        "0000:00:02.0"));
    ck_assert_int_eq(eng_run(&e, "--json mdev define mtty mtty-2 --uuid " U1), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "\"exit\":1"));
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/0000:00:02.0/" U1));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-1 --uuid " U1), 0);
    ck_assert(fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-2 --uuid " U2ND), 0); /* not running */
    eng_stop(&e);
}
END_TEST

/* A type with a quote or backslash is written as a JSON string: the definition reads back
 * as it was given, and the other definitions can still be defined and undefined. */
HD_TEST(a_type_is_written_as_a_json_string)
{
    struct eng e;
    struct hd_mdev_defined_list *l;

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_define(e.ctx, "mtty", "a\"b\\c", U1, true), 0);
    ck_assert_str_eq(fx_read(&e.fx, "etc/mdevctl.d/mtty/" U1),
                     "{\n  \"mdev_type\": \"a\\\"b\\\\c\",\n  \"start\": \"auto\",\n"
                     "  \"attrs\": []\n}");
    ck_assert_int_eq(hd_mdev_defined_list_new(e.ctx, &l), 0);
    ck_assert_uint_eq(hd_mdev_defined_list_count(l), 1);
    ck_assert_str_eq(hd_mdev_defined_list_get_type(l, 0), "a\"b\\c");
    hd_mdev_defined_list_unref(l);
    ck_assert_int_eq(eng_run(&e, "mdev define mtty mtty-1 --uuid 0b5b8f4a-0000-4000-8000-000000000002"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 0);
    ck_assert(!fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    eng_stop(&e);
}
END_TEST

/* One file in mdevctl.d that is no definition (junk, a directory named as a UUID) is an error
 * naming it, and leaves the others: the boot (reserve --keep-going) makes them (exit 1), plain
 * reserve and undefine do nothing (exit 2), defined lists them and names it (exit 2). */
HD_TEST(a_bad_definition_leaves_the_others)
{
    struct eng e;
    struct hd_mdev_defined_list *l;
    FILE *f;

#define U2 "11111111-2222-3333-4444-555555555555"
#define U3 "11111111-2222-3333-4444-666666666666"
    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_define(e.ctx, "mtty", "mtty-1", U1, true), 0);
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "etc/mdevctl.d/mtty/" U2), "w"));
    fputs("{bad\n", f);
    fclose(f);
    ck_assert_int_eq(mkdir(fx_path(&e.fx, "etc/mdevctl.d/mtty/" U3), 0755), 0);
    /* The library: load keeps the good one and names the two; new wants all of them. */
    ck_assert_int_eq(hd_mdev_defined_list_load(e.ctx, &l), 0);
    ck_assert_uint_eq(hd_mdev_defined_list_count(l), 1);
    ck_assert_str_eq(hd_mdev_defined_list_get_uuid(l, 0), U1);
    ck_assert_uint_eq(hd_mdev_defined_list_get_error_count(l), 2);
    ck_assert_ptr_nonnull(strstr(hd_mdev_defined_list_get_error(l, 0),
                                 "etc/mdevctl.d/mtty/" U2 ": not an mdevctl definition (want"));
    ck_assert_ptr_nonnull(strstr(hd_mdev_defined_list_get_error(l, 1),
                                 "etc/mdevctl.d/mtty/" U3 ": not an mdevctl definition (a "
                                 "directory)"));
    ck_assert_ptr_null(hd_mdev_defined_list_get_error(l, 2));
    hd_mdev_defined_list_unref(l);
    ck_assert_int_eq(hd_mdev_defined_list_new(e.ctx, &l), -EINVAL);
    ck_assert_ptr_null(l);
    /* Plain reserve changes nothing, naming both. */
    ck_assert_int_eq(eng_run(&e, "reserve"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U2 ": not an mdevctl definition"));
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U3 ": not an mdevctl definition"));
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* defined lists the good one, as persisted lists a file with a bad line. */
    ck_assert_int_eq(eng_run(&e, "mdev defined"), 2);
    ck_assert_ptr_nonnull(strstr(e.out, U1 " mtty mtty-1 start=auto\n"));
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U2 ": not an mdevctl definition"));
    ck_assert_int_eq(eng_run(&e, "--json mdev defined"), 2);
    ck_assert_ptr_nonnull(strstr(e.out, "\"uuid\": \"" U1 "\""));
    /* What must see every definition still refuses. */
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 2);
    ck_assert(fx_exists(&e.fx, "etc/mdevctl.d/mtty/" U1));
    /* The boot makes the good one, names the bad ones, exits 1. */
    ck_assert_int_eq(eng_run(&e, "reserve --keep-going"), 1);
    ck_assert_ptr_nonnull(strstr(e.out, U1 ": created (type mtty-1 of mtty)"));
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U2 ": not an mdevctl definition"));
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* Nothing left to make: still 1, the bad files still named. */
    ck_assert_int_eq(eng_run(&e, "reserve --keep-going"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U3 ": not an mdevctl definition"));
    /* A definition that cannot be read (a disk's EIO) is named the same way. */
    ck_assert_int_eq(rmdir(fx_path(&e.fx, "etc/mdevctl.d/mtty/" U3)), 0);
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/mdevctl.d/mtty/" U2)), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault etc/mdevctl.d/mtty/" U1 " EIO on=read count=0"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev defined"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U1 ": Input/output error"));
    ck_assert_str_eq(e.out, "no other mediated devices are defined\n"); /* than the bad one */
    ck_assert_int_eq(eng_run(&e, "reserve --keep-going"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U1 ": Input/output error"));
    ck_assert_int_eq(hd_mdev_defined_list_new(e.ctx, &l), -EIO); /* all or none: its errno */
    ck_assert_int_eq(eng_run(&e, "mdev undefine " U1), 1);
#undef U2
#undef U3
    eng_stop(&e);
}
END_TEST

/* Plain reserve reads the definitions once: what it checked before changing anything is what
 * it makes (a second read, here one that fails, would tell another story). */
HD_TEST(reserve_reads_the_definitions_once)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_define(e.ctx, "mtty", "mtty-1", U1, true), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault etc/mdevctl.d/mtty/" U1 " EIO on=read nth=2 count=0"),
                     0);
    ck_assert_int_eq(eng_run(&e, "reserve"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_ptr_nonnull(strstr(e.out, U1 ": created (type mtty-1 of mtty)"));
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* The fault is real: the next run's read fails, named as a bad definition is. */
    ck_assert_int_eq(eng_run(&e, "reserve"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U1 ": Input/output error"));
    /* --keep-going reads them once too: the run tells that one failure, once. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault etc/mdevctl.d/mtty/" U1 " EIO on=read nth=1"), 0);
    ck_assert_int_eq(eng_run(&e, "reserve --keep-going"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "etc/mdevctl.d/mtty/" U1 ": Input/output error"));
    ck_assert_ptr_eq(strchr(e.err, '\n'), e.err + strlen(e.err) - 1);
    eng_stop(&e);
}
END_TEST

/* A definition reserve does not make (its parent offers no such type now) is told under
 * --json as in the text, the dry run's too, beside the one it makes: a script reading the
 * document learns of it, and the dry run's text keeps it inside the plan. */
HD_TEST(reserve_tells_a_definition_not_made_in_json_too)
{
    struct eng e;
    static const char *const kinds[] = {"reserve --dry-run", "reserve"};

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_mdev_define(e.ctx, "mtty", "mtty-9", U1, true), 0);
    ck_assert_int_eq(hd_mdev_define(e.ctx, "mtty", "mtty-1",
                                    "0b5b8f4a-0000-4000-8000-000000000002", true), 0);
    ck_assert_int_eq(eng_run(&e, "reserve --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\n  " U1 ": not made: mtty offers no type mtty-9 now "
                                        "(etc/mdevctl.d/mtty/" U1 ")\n"));
    for (size_t k = 0; k < 2; k++) {
        ck_assert_int_eq(eng_run(&e, "--json %s", kinds[k]), 0);
        at_json_check(e.out, false);
        ck_assert_str_eq(e.err, "");
        ck_assert_msg(strstr(e.out, "\"uuid\": \"" U1 "\",\n    \"parent\": \"mtty\",\n    "
                                    "\"type\": \"mtty-9\",\n    \"action\": \"not made\",\n    "
                                    "\"why\": \"mtty offers no type mtty-9 now\"") != NULL,
                      "%s: %s", kinds[k], e.out);
        ck_assert_ptr_nonnull(strstr(e.out, k == 0 ? "\"would create\"" : "\"created\""));
    }
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    eng_stop(&e);
}
END_TEST

/* <hostdev type='mdev'> (valid in a domain, against libvirt's schema) and QEMU's sysfsdev. */
HD_TEST(vmm_arguments)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "hostdev-xml mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001 00:02.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n"
                                      "  <source>\n    <address uuid='" BOOT_MDEV "'/>\n"
                                      "  </source>\n</hostdev>\n<hostdev mode='subsystem' "
                                      "type='pci'"));
    ck_assert(at_domain_validates(fx_path(&e.fx, "tmp"), e.out));
    ck_assert_int_eq(eng_run(&e, "qemu-args " BOOT_MDEV), 0);
    ck_assert_str_eq(e.out, "-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/" BOOT_MDEV
                          ",id=hostdev0\n");
    ck_assert_int_eq(eng_run(&e, "qemu-args --cloud-hypervisor " BOOT_MDEV), 0);
    ck_assert_str_eq(e.out, "--device path=/sys/bus/mdev/devices/" BOOT_MDEV "/\n");
    ck_assert_int_eq(eng_run(&e, "qemu-args " U1), 2);
    ck_assert_ptr_nonnull(strstr(e.err, U1 ": no such mediated device"));
    eng_stop(&e);
}
END_TEST

/* Node devices as libvirt shows them: the parent's mdev_types, the mdev itself (named
 * mdev_<uuid>_<parent>), both valid against libvirt's nodedev.rng; --cap finds each. */
HD_TEST(node_devices)
{
    struct eng e;
    struct hd_nodedev_list *l;
    struct hd_nodedev *dev;
    char *xml, path[256], cmd[512];
    FILE *f;

    eng_start(&e, "mdev");
    ck_assert_int_eq(hd_nodedev_list_new(e.ctx, 1u << HD_CAP_MDEV_TYPES, &l), 0);
    ck_assert_uint_eq(hd_nodedev_list_count(l), 1);
    ck_assert_str_eq(hd_nodedev_get_name(hd_nodedev_list_get(l, 0)), "pci_0000_00_02_0");
    hd_nodedev_list_unref(l);
    /* An mdev's node device by its UUID, in either spelling. */
    ck_assert_int_eq(hd_nodedev_lookup_mdev(e.ctx, "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001",
                                            &dev), 0);
    ck_assert_str_eq(hd_nodedev_get_name(dev), "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001_mtty");
    hd_nodedev_unref(dev);
    ck_assert_int_eq(hd_nodedev_lookup_mdev(e.ctx, U1, &dev), -ENODEV);
    ck_assert_int_eq(hd_nodedev_lookup_mdev(e.ctx, "nope", &dev), -EINVAL);
    ck_assert_int_eq(hd_nodedev_list_new(e.ctx, 1u << HD_CAP_MDEV, &l), 0);
    ck_assert_uint_eq(hd_nodedev_list_count(l), 1);
    dev = hd_nodedev_list_get(l, 0);
    ck_assert_str_eq(hd_nodedev_get_name(dev), "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001_mtty");
    ck_assert_str_eq(hd_nodedev_get_parent(dev), "computer");
    ck_assert_int_eq(hd_nodedev_format_xml(dev, &xml), 0);
    ck_assert_ptr_nonnull(strstr(xml, "<capability type='mdev'>\n    <type id='mtty-2'/>\n"));
    ck_assert_ptr_nonnull(strstr(xml, "<uuid>" BOOT_MDEV "</uuid>"));
    ck_assert_ptr_nonnull(strstr(xml, "<parent_addr>mtty</parent_addr>"));
    hd_nodedev_list_unref(l);
    ck_assert_int_eq(hd_nodedev_lookup(e.ctx, "pci_0000_00_02_0", &dev), 0);
    char *pxml;
    ck_assert_int_eq(hd_nodedev_format_xml(dev, &pxml), 0);
    ck_assert_ptr_nonnull(strstr(pxml, "<capability type='mdev_types'>\n      <type "
                                       "id='i915-GVTg_V5_4'>\n        <name>GVTg_V5_4</name>\n"
                                       "        <deviceAPI>vfio-pci</deviceAPI>\n"
                                       "        <availableInstances>2</availableInstances>"));
    hd_nodedev_unref(dev);
    const char *docs[] = {xml, pxml};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s", fx_path(&e.fx, i ? "tmp/p.xml" : "tmp/m.xml"));
        ck_assert_ptr_nonnull(f = fopen(path, "w"));
        fputs(docs[i], f);
        fclose(f);
        snprintf(cmd, sizeof(cmd), "xmllint --noout --relaxng "
                                   "/usr/share/libvirt/schemas/nodedev.rng '%s'", path);
        ck_assert_msg(at_run(cmd, NULL, NULL) == 0, "not valid: %s", docs[i]);
    }
    free(xml);
    free(pxml);
    /* hostdev-virsh: --cap names them. */
    snprintf(cmd, sizeof(cmd), "%s/hostdev-virsh -c hostdev://%s nodedev-list --cap mdev_types,mdev",
             at_build_dir(), e.fx.root);
    char *o = NULL;
    ck_assert_int_eq(at_run(cmd, &o, NULL), 0);
    ck_assert_str_eq(o, "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001_mtty\npci_0000_00_02_0\n\n");
    free(o);
    eng_stop(&e);
}
END_TEST

/* A type whose available_instances the kernel will not give is left out of the parent's
 * node-device XML (0 would be a guess), the others stay; with none left, so is the element. */
HD_TEST(node_device_types_unreadable_are_left_out)
{
    static const char *const types = "sys/bus/pci/devices/0000:00:02.0/mdev_supported_types/";
    struct eng e;
    struct hd_nodedev *dev;
    char *xml;

    eng_start(&e, "mdev");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault %si915-GVTg_V5_4/available_instances EIO on=read "
                                   "count=0", types), 0);
    ck_assert_int_eq(hd_nodedev_lookup(e.ctx, "pci_0000_00_02_0", &dev), 0);
    ck_assert_int_eq(hd_nodedev_format_xml(dev, &xml), 0);
    hd_nodedev_unref(dev);
    ck_assert_msg(strstr(xml, "i915-GVTg_V5_4") == NULL, "%s", xml);
    ck_assert_ptr_nonnull(strstr(xml, "<capability type='mdev_types'>\n      <type "
                                      "id='i915-GVTg_V5_8'>"));
    free(xml);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault %si915-GVTg_V5_8/available_instances EIO on=read "
                                   "count=0", types), 0);
    ck_assert_int_eq(hd_nodedev_lookup(e.ctx, "pci_0000_00_02_0", &dev), 0);
    ck_assert_int_eq(hd_nodedev_format_xml(dev, &xml), 0);
    hd_nodedev_unref(dev);
    ck_assert_msg(strstr(xml, "mdev_types") == NULL && strstr(xml, "availableInstances") == NULL,
                  "%s", xml);
    free(xml);
    eng_stop(&e);
}
END_TEST

/* mdev list says which VM holds a mediated device, as list does of a PCI device (vm=, and
 * "vm" in JSON, null for a free one), and stops saying it once it is released. */
HD_TEST(mdev_list_names_the_vm_holding_one)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "acquire --vm web1 --owner 0:0 " BOOT_MDEV), 0);
    ck_assert_int_eq(eng_run(&e, "mdev list"), 0);
    ck_assert_str_eq(e.out, BOOT_MDEV " mtty mtty-2 driver=mtty group=2 vm=web1\n");
    ck_assert_int_eq(eng_run(&e, "--json mdev list"), 0);
    at_json_check(e.out, false);
    ck_assert_ptr_nonnull(strstr(e.out, "\"iommu_group\": 2,\n    \"vm\": \"web1\"\n"));
    ck_assert_int_eq(eng_run(&e, "release --vm web1"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev list"), 0);
    ck_assert_str_eq(e.out, BOOT_MDEV " mtty mtty-2 driver=mtty group=2\n");
    ck_assert_int_eq(eng_run(&e, "--json mdev list"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"iommu_group\": 2,\n    \"vm\": null\n"));
    eng_stop(&e);
}
END_TEST

/* Forced off its host driver, a parent's mediated devices go with it: the plan and the run say
 * each (an "mdev-remove" step before the move, detach and acquire alike), and a move that
 * fails puts the parent back on its driver and makes them again, UUID and type. */
#define U1_GOES U1 ": removed (type i915-GVTg_V5_4 of 0000:00:02.0)\n"
HD_TEST(a_forced_parents_mdevs_are_said_to_go_and_come_back)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(mdev_op(&e, true, "0000:00:02.0", "i915-GVTg_V5_4", U1, 0), 0);
    ck_assert_int_eq(eng_run(&e, "detach --force --dry-run 00:02.0"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; detach would do:\n  " U1_GOES
                            "  0000:00:02.0: i915 -> vfio-pci\n");
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_int_eq(eng_run(&e, "--json acquire --force --dry-run --vm h --owner 0:0 00:02.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"action\": \"mdev-remove\",\n      \"device\": \"" U1
                                        "\",\n      \"from\": \"0000:00:02.0\",\n      "
                                        "\"to\": \"i915-GVTg_V5_4\",\n      \"state\": \"planned\""));
    ck_assert_int_eq(eng_run(&e, "persist --force --dry-run 00:02.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\n  " U1 ": removed (type i915-GVTg_V5_4 of 0000:00:02.0) "
                                        "(persist)\n  0000:00:02.0: i915 -> vfio-pci (persist)\n"));
    /* The bind to vfio-pci fails: i915 has it again, and the mdev is made again. */
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/drivers_probe EIO count=0"), 0);
    ck_assert_int_eq(eng_run(&e, "detach --force 00:02.0"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:02.0"), "i915");
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_int_eq(eng_run(&e, "mdev list"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, U1 " 0000:00:02.0 i915-GVTg_V5_4 driver=i915"));
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm h --owner 0:0 00:02.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, U1_GOES "0000:00:02.0: i915 -> vfio-pci\n"));
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    eng_stop(&e);
}
END_TEST

/* The mdev tree with mediated device U1 on the GPU, whose acquire (for vm a) now hangs in its
 * unbind: the pid of that hostdev, for parent_acquire_ends(). */
static pid_t parent_acquire_hangs(struct eng *e)
{
    pid_t pid;

    eng_start(e, "mdev");
    ck_assert_int_eq(mdev_op(e, true, "0000:00:02.0", "i915-GVTg_V5_4", U1, 0), 0);
    ck_assert_int_eq(fx_ctl(&e->fx, "hang i915 forever"), 0);
    pid = eng_hostdev_start(&e->fx, "acquire --force --vm a --owner 0:0 00:02.0");
    ck_assert(fx_wait_log(&e->fx, "unbind-hang 0000:00:02.0", 1, 20000));
    return pid;
}

/* The unbind returns: that acquire ends, the GPU on vfio-pci. */
static void parent_acquire_ends(struct eng *e, pid_t pid)
{
    int status;

    ck_assert_int_eq(fx_ctl(&e->fx, "hang i915 0"), 0);
    ck_assert_int_eq(fx_ctl(&e->fx, "release"), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_str_eq(fx_driver(&e->fx, "0000:00:02.0"), "vfio-pci");
}

/* A parent's acquire and one of its mediated device's took no common lock (each its own IOMMU
 * group's): the mediated device given to a VM while the parent's acquire had checked and
 * detached it (its unbind hangs) was taken from under that VM, and both acquires stood. Now the
 * mediated device's acquire also takes its parent's group lock: it waits for the parent's
 * acquire, is refused when that outlasts its timeout (exit 1, saying whose group it waited
 * for, not a bare group number the user never named), and then finds its device gone with the
 * parent's driver (exit 2). */
HD_TEST(a_mediated_devices_acquire_waits_for_its_parents)
{
    struct eng e;

    pid_t pid = parent_acquire_hangs(&e);
    ck_assert_int_eq(eng_run(&e, "--timeout 500 acquire --vm b --owner 0:0 " U1), 1);
    ck_assert_msg(strstr(e.err, "hostdev acquire: vm b: mediated device " U1 ": its parent "
                                "0000:00:02.0 (IOMMU group ") != NULL, "%s", e.err);
    ck_assert_msg(strstr(e.err, ") is busy: another hostdev operation holds it") != NULL, "%s",
                  e.err);
    parent_acquire_ends(&e, pid);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1)); /* gone with i915 */
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 " U1), 2);
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_msg(strstr(e.out, U1) == NULL, "%s", e.out);
    eng_stop(&e);
}
END_TEST

/* A create or remove on a PCI parent checked the parent still on its host driver without its
 * group's lock, so it ran while an acquire of the parent hung in its unbind: the device made
 * (or removed) was then taken along by, or raced, the parent leaving. Both now take the
 * parent's group lock: they wait, and are refused (exit 1, naming the device and its parent)
 * when the parent's acquire outlasts their timeout, having written nothing. */
HD_TEST(a_mediated_devices_create_and_remove_wait_for_their_parents)
{
    struct eng e;

    pid_t pid = parent_acquire_hangs(&e);
    ck_assert_int_eq(eng_run(&e, "--timeout 500 mdev create 00:02.0 i915-GVTg_V5_4 --uuid " U2ND),
                     1);
    ck_assert_msg(strstr(e.err, "mediated device " U2ND ": its parent 0000:00:02.0 (IOMMU group ")
                      != NULL, "%s", e.err);
    ck_assert_msg(strstr(e.err, ") is busy: another hostdev operation holds it") != NULL, "%s",
                  e.err);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U2ND));
    ck_assert_int_eq(eng_run(&e, "--timeout 500 mdev remove " U1), 1);
    ck_assert_msg(strstr(e.err, "mediated device " U1 ": its parent 0000:00:02.0 (IOMMU group ")
                      != NULL, "%s", e.err);
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    parent_acquire_ends(&e, pid);
    /* Then the parent is held: create says so (it waited, and found the parent gone). */
    ck_assert_int_eq(eng_run(&e, "mdev create 00:02.0 i915-GVTg_V5_4 --uuid " U2ND), 1);
    ck_assert_msg(strstr(e.err, "is held by vm a") != NULL, "%s", e.err);
    eng_stop(&e);
}
END_TEST

/* The parent's acquire still asks the map again as it records, under the map lock: an entry
 * of one of its mediated devices that appeared while it detached (here written by hand, as a
 * hostdev that took no parent lock would have) refuses it (exit 1, naming the device and its
 * VM), and it puts the parent back on its driver. */
HD_TEST(a_parents_acquire_asks_again_as_it_records)
{
    struct eng e;
    int status;
    char *map;

    eng_start(&e, "mdev");
    ck_assert_int_eq(mdev_op(&e, true, "0000:00:02.0", "i915-GVTg_V5_4", U1, 0), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 " U1), 0);
    ck_assert_int_ge(asprintf(&map, "%s\n", fx_read(&e.fx, "run/hostdev/map/assignments")), 0);
    ck_assert_int_eq(eng_run(&e, "release --vm b " U1), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang i915 forever"), 0);
    pid_t pid = eng_hostdev_start(&e.fx, "acquire --force --vm a --owner 0:0 00:02.0");
    ck_assert(fx_wait_log(&e.fx, "unbind-hang 0000:00:02.0", 1, 20000));
    eng_put(&e, "run/hostdev/map/assignments", map);
    free(map);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang i915 0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 1);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:02.0"), "i915");
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_msg(strstr(e.out, "\n0000:00:02.0 ") == NULL, "%s", e.out);
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1)); /* made again */
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm a --owner 0:0 00:02.0"), 1);
    ck_assert_str_eq(e.err, "hostdev acquire: vm a: 0000:00:02.0 has " U1 " behind it, which "
                            "vm b holds: release that first\n");
    eng_stop(&e);
}
END_TEST

/* A parent of mediated devices is host use: detach refuses it; forced, its driver leaving
 * takes its mdevs and types along (as mdev_unregister_parent does), and reattach brings the
 * types back. */
HD_TEST(a_parent_keeps_its_mdevs)
{
    struct eng e;

    eng_start(&e, "mdev");
    ck_assert_int_eq(mdev_op(&e, true, "0000:00:02.0", "i915-GVTg_V5_4", U1, 0), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "detach 00:02.0"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "0000:00:02.0 is the parent of mediated device " U1));
    ck_assert_ptr_nonnull(strstr(e.err, "--force"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "show 00:02.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "host use:        0000:00:02.0 is the parent of mediated "
                                        "device " U1));
    /* The parent and its own mediated device in one acquire: one or the other (bad input). */
    ck_assert_int_eq(eng_run(&e, "acquire --dry-run --force --vm h --owner 0:0 00:02.0 " U1), 2);
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm h --owner 0:0 " U1 " 00:02.0"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "mediated device " U1 " lives on 0000:00:02.0, and "
                                        "detaching 0000:00:02.0 removes it"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_int_eq(eng_run(&e, "detach --force 00:02.0"), 0);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert(!fx_exists(&e.fx, "sys/class/mdev_bus/0000:00:02.0"));
    ck_assert_int_eq(eng_run(&e, "mdev types"), 0);
    ck_assert_ptr_null(strstr(e.out, "i915-GVTg"));
    ck_assert_int_eq(eng_run(&e, "reattach 00:02.0"), 0);
    ck_assert_int_eq(eng_run(&e, "mdev types"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:00:02.0 i915-GVTg_V5_4"));
    eng_stop(&e);
}
END_TEST

/* libvirt's way: virNodeDeviceCreateXML / virNodeDeviceDestroy, through hostdev-virsh. */
HD_TEST(libvirt_create_and_destroy)
{
    struct eng e;
    char cmd[1024], *o = NULL, *x = NULL;
    FILE *f;

    eng_start(&e, "mdev");
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "tmp/md.xml"), "w"));
    fputs("<device>\n  <parent>pci_0000_00_02_0</parent>\n  <capability type=\"mdev\">\n"
          "    <type id=\"i915-GVTg_V5_4\"/>\n    <uuid>" U1 "</uuid>\n  </capability>\n"
          "</device>\n", f);
    fclose(f);
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "tmp/pci.xml"), "w"));
    fputs("<device><parent>computer</parent><capability type='pci'/></device>\n", f);
    fclose(f);
#define VIRSH(args)                                                                                \
    (free(o), free(x), o = x = NULL,                                                               \
     snprintf(cmd, sizeof(cmd), "%s/hostdev-virsh -c hostdev://%s %s", at_build_dir(),             \
              e.fx.root, args),                                                                    \
     at_run(cmd, &o, &x))
    char args[512];
    snprintf(args, sizeof(args), "nodedev-create %s", fx_path(&e.fx, "tmp/md.xml"));
    ck_assert_int_eq(VIRSH(args), 0);
    ck_assert_ptr_nonnull(strstr(o, "Node device mdev_0b5b8f4a_0000_4000_8000_000000000001_0000_00"
                                    "_02_0 created from"));
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* Again: the UUID is taken. */
    ck_assert_int_ne(VIRSH(args), 0);
    ck_assert_ptr_nonnull(strstr(x, "exists already"));
    snprintf(args, sizeof(args), "nodedev-create %s", fx_path(&e.fx, "tmp/pci.xml"));
    ck_assert_int_ne(VIRSH(args), 0);
    ck_assert_ptr_nonnull(strstr(x, "unsupported configuration: only mediated devices"));
    ck_assert_int_ne(VIRSH("nodedev-destroy pci_0000_00_02_0"), 0);
    ck_assert_ptr_nonnull(strstr(x, "is not a mediated device"));
    ck_assert_int_eq(VIRSH("nodedev-destroy mdev_0b5b8f4a_0000_4000_8000_000000000001_0000_00_02_0"),
                     0);
    ck_assert(!fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    /* XML that is not well formed is an XML error, as libvirt's; comments are XML too. */
    static const char *const broken[] = {
        "<device><parent>pci_0000_00_02_0</parent><capability type='mdev'><type "
        "id='i915-GVTg_V5_4'/></capability></devicex>",
        "<device><parent>pci_0000_00_02_0</parent><capability type='mdev'><type "
        "id='i915-GVTg_V5_4'/>",
        /* Found by fuzz-mdevxml: read as the type, markup and all. */
        "<device><parent>pci_0000_00_02_0</parent><capability type='mdev'><type "
        "id='i915-GVT<</V5_4'/></capability></device>"};
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "tmp/md.xml"), "w"));
        fputs(broken[i], f);
        fclose(f);
        snprintf(args, sizeof(args), "nodedev-create %s", fx_path(&e.fx, "tmp/md.xml"));
        ck_assert_int_ne(VIRSH(args), 0);
        ck_assert_ptr_nonnull(strstr(x, "XML error: the XML is not well formed"));
    }
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "tmp/md.xml"), "w"));
    fputs("<?xml version='1.0'?>\n<device>\n  <!-- a vGPU -->\n  <parent>pci_0000_00_02_0</parent>\n"
          "  <capability type='mdev'><type id='i915-GVTg_V5_4'/><uuid>" U1 "</uuid></capability>\n"
          "</device>\n", f);
    fclose(f);
    ck_assert_int_eq(VIRSH(args), 0);
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" U1));
    ck_assert_int_ne(VIRSH("-r nodedev-destroy mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001_mtty"), 0);
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/" BOOT_MDEV));
#undef VIRSH
    free(o);
    free(x);
    eng_stop(&e);
}
END_TEST

/* The bash completion offers the subcommands, then parents and types, or UUIDs. */
HD_TEST(completion)
{
    struct eng e;
    char cmd[2048], *o = NULL, *x = NULL, *build;

    eng_start(&e, "mdev");
    build = realpath(at_build_dir(), NULL);
    ck_assert_ptr_nonnull(build);
    static const char *const cases[][2] = {
        {"mdev cr", "create "},
        {"mdev create m", "mtty "},
        {"mdev create 0000", "0000:00:02.0 "},
        {"mdev create mtty mtty-", "mtty-1 mtty-2 "},
        {"mdev remove 83", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 "},
        {"acquire --vm a 83", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 "},
        {"export --format nova --mdev-type i915", "i915-GVTg_V5_4 i915-GVTg_V5_8 "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(cmd, sizeof(cmd),
                 "PATH='%s':$PATH bash -c 'source \"%s/completion/hostdev.bash\"; "
                 "COMP_WORDS=(hostdev --root %s %s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                 "_hostdev_complete; printf \"%%s \" \"${COMPREPLY[@]}\"'",
                 build, at_src_dir(), e.fx.root, cases[i][0]);
        ck_assert_int_eq(at_run(cmd, &o, &x), 0);
        ck_assert_msg(strstr(o, cases[i][1]) != NULL, "'%s' completes to '%s', not '%s'",
                      cases[i][0], o, cases[i][1]);
        free(o);
        free(x);
        o = x = NULL;
    }
    free(build);
    eng_stop(&e);
}
END_TEST

/* An mdev's iommu_group link the kernel would not make (looping, leading outside
 * kernel/iommu_groups) is bad input, read where a PCI device's is: verify, acquire, show,
 * hostdev-xml and qemu-args exit 2 with one line naming the device and the link, the listings
 * (mdev list, list --caps mdev)
 * leave it out with that line as a warning and exit 0, and nothing is written. */
HD_TEST(bad_group_link_is_bad_input)
{
    static const char *const links[] = {"iommu_group", "../../../../../kernel/2",
                                        "../../../../../kernel/iommu_groups/x2"};
    const char *needle = BOOT_MDEV ": sysfs link iommu_group ";
    char *build = realpath(at_build_dir(), NULL);

    ck_assert_ptr_nonnull(build);
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        struct fx fx;
        char *cmd, *out = NULL, *err = NULL;
        ck_assert_int_eq(fx_materialize(&fx, "mdev"), 0);
        ck_assert(asprintf(&cmd,
                           "(cd '%s' && ln -sfn %s sys/bus/mdev/devices/" BOOT_MDEV "/iommu_group "
                           "&& export HOSTDEV_NAMES=none && HD='%s/hostdev --root %s' && "
                           "s=$(find . -printf '%%p %%l %%s\\n' | sort | md5sum) && "
                           "{ $HD verify " BOOT_MDEV " >/dev/null; [ $? = 2 ] || exit 11; } && "
                           "{ $HD acquire --vm v --owner 0:0 " BOOT_MDEV "; [ $? = 2 ] || exit 12; "
                           "} && { $HD show " BOOT_MDEV "; [ $? = 2 ] || exit 13; } && "
                           "{ $HD hostdev-xml " BOOT_MDEV "; [ $? = 2 ] || exit 14; } && "
                           "{ $HD qemu-args " BOOT_MDEV "; [ $? = 2 ] || exit 15; "
                           "} && o=$($HD mdev list) && ! echo \"$o\" | grep -q " BOOT_MDEV
                           " && o=$($HD list --caps mdev) && ! echo \"$o\" | grep -q mdev_ && "
                           "[ \"$(find . -printf '%%p %%l %%s\\n' | sort | md5sum)\" = \"$s\" ])",
                           fx.root, links[i], build, fx.root) > 0);
        int rc = at_run(cmd, &out, &err);
        ck_assert_msg(rc == 0, "%s: exit %d: %s", links[i], rc, err);
        /* One line each: verify, acquire, show, hostdev-xml, qemu-args (the device looked up
         * alone, not through a listing that leaves it out), the two listings' warnings. */
        size_t lines = 0;
        for (char *l = err, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1, lines++) {
            *nl = '\0';
            ck_assert_msg(strstr(l, needle) != NULL, "%s: '%s'", links[i], l);
        }
        ck_assert_msg(lines == 7, "%s: %zu lines: %s", links[i], lines, err);
        free(cmd);
        free(out);
        free(err);
        fx_umount(&fx);
    }
    free(build);
}
END_TEST

/* An mdev without an IOMMU group (no VFIO driver has made one) has no node a VM could open:
 * show says so, and no /dev/vfio/-1. */
HD_TEST(show_without_group_names_no_node)
{
    char *build = realpath(at_build_dir(), NULL), *cmd, *out = NULL, *err = NULL;
    struct fx fx;

    ck_assert_ptr_nonnull(build);
    ck_assert_int_eq(fx_materialize(&fx, "mdev"), 0);
    ck_assert(asprintf(&cmd,
                       "cd '%s' && rm sys/bus/mdev/devices/" BOOT_MDEV "/iommu_group && "
                       "HD='%s/hostdev --root %s --names none' && $HD show " BOOT_MDEV " && "
                       "$HD --json show " BOOT_MDEV,
                       fx.root, build, fx.root) > 0);
    ck_assert_msg(at_run(cmd, &out, &err) == 0, "%s", err);
    ck_assert_msg(strstr(out, "  node:            none (it has no IOMMU group)\n") != NULL, "%s",
                  out);
    ck_assert_ptr_nonnull(strstr(out, "\"node\": null"));
    ck_assert_ptr_null(strstr(out, "-1"));
    free(cmd);
    free(out);
    free(err);
    fx_umount(&fx);
    free(build);
}
END_TEST

/* check judges a mediated device by what a VM opens: its IOMMU group's node once its vendor
 * driver made it a VFIO device; without a driver or a group it is not for a VM (exit 1); a
 * UUID that is not there is bad input. */
HD_TEST(check_judges_a_mediated_device)
{
    static const char *const uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
    struct hd_node_check c;
    struct hd_ctx *ctx;
    struct eng e;
    struct fx fx;
    char path[700];

    eng_start(&e, "mdev");
    ck_assert_int_eq(eng_run(&e, "check mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001"), 0);
    ck_assert_msg(strstr(e.out, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001: a VM opens /dev/vfio/") ==
                      e.out && strstr(e.out, ": assignable alone\n") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "check 83b8f4f2-509f-382f-3c1e-e6bfe0fa1002"), 2);
    ck_assert_str_eq(e.out, "");
    eng_stop(&e);

    memset(&fx, 0, sizeof(fx));
    ck_assert_msg(fx_materialize(&fx, "mdev") == 0, "%s", fx.error);
    ck_assert_int_eq(hd_ctx_new(fx.root, &ctx), 0);
    snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/%s/iommu_group", fx.root, uuid);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(hd_node_device_check_assign(ctx, uuid, NULL, 0, NULL, &c), 0);
    ck_assert(!c.assignable);
    ck_assert_str_eq(c.node, "");
    ck_assert_msg(strstr(c.not_ready, "it has no IOMMU group") != NULL, "%s", c.not_ready);
    snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/%s/driver", fx.root, uuid);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(hd_node_device_check_assign(ctx, uuid, NULL, 0, NULL, &c), 0);
    ck_assert(!c.assignable);
    ck_assert_msg(strstr(c.not_ready, "bound to no mdev driver") != NULL, "%s", c.not_ready);
    ck_assert_int_eq(hd_node_device_check_assign(ctx, "scsi_x", NULL, 0, NULL, &c), -EINVAL);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_INVALID);
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

/* A mediated device no VM can open yet (no IOMMU group, then no mdev driver either): check,
 * acquire and verify say why in the same words, and only verify and check tell it as a state
 * (acquire refuses, verify says it is not usable). */
HD_TEST(check_acquire_and_verify_say_an_unready_mdev_alike)
{
    static const char *const links[] = {"iommu_group", "driver"};
    struct hd_ctx *ctx;
    struct fx fx;
    char path[700];

    memset(&fx, 0, sizeof(fx));
    ck_assert_msg(fx_materialize(&fx, "mdev") == 0, "%s", fx.error);
    ck_assert_int_eq(hd_ctx_new(fx.root, &ctx), 0);
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        struct hd_vfio_report *rep = NULL;
        struct hd_node_check c;
        struct hd_op *op;
        const char *why;

        snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/" BOOT_MDEV "/%s", fx.root,
                 links[i]);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(hd_node_device_check_assign(ctx, BOOT_MDEV, NULL, 0, NULL, &c), 0);
        ck_assert_msg(strncmp(c.not_ready, "it ", 3) == 0, "%s", c.not_ready);
        why = c.not_ready + 3;

        ck_assert_int_eq(hd_op_new(ctx, HD_OP_ACQUIRE, &op), 0);
        hd_op_set_owner(op, 107, 108);
        ck_assert_int_eq(hd_op_set_vm(op, "v"), 0);
        ck_assert_int_eq(hd_op_add_mdev(op, BOOT_MDEV), 0);
        ck_assert_int_lt(hd_op_run(op), 0);
        hd_op_unref(op);
        ck_assert_msg(strstr(hd_ctx_last_error(ctx), why) != NULL, "acquire: '%s', check: '%s'",
                      hd_ctx_last_error(ctx), why);

        hd_ctx_clear_error(ctx);
        ck_assert_int_lt(hd_vfio_verify_mdev(ctx, BOOT_MDEV, &rep), 0);
        ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_FAILED); /* not bad input */
        ck_assert_msg(strstr(hd_ctx_last_error(ctx), why) != NULL, "verify: '%s', check: '%s'",
                      hd_ctx_last_error(ctx), why);
        ck_assert_str_eq(hd_findings_get_code(hd_vfio_report_get_findings(rep), 0),
                         i == 0 ? "mdev-no-group" : "mdev-no-driver");
        /* Its failed step says what is missing, with no errno: none of verify's calls failed,
         * so none reads "none: No such file or directory". */
        size_t last = hd_vfio_report_get_step_count(rep) - 1;
        ck_assert_str_eq(hd_vfio_report_get_step_name(rep, last),
                         i == 0 ? "iommu group" : "driver");
        ck_assert_int_eq(hd_vfio_report_get_step_status(rep, last), HD_VFIO_STEP_FAILED);
        ck_assert_int_eq(hd_vfio_report_get_step_error(rep, last), 0);
        ck_assert_str_eq(hd_vfio_report_get_step_detail(rep, last),
                         i == 0 ? "none, not a VFIO device" : "none, no mdev driver took it");
        hd_vfio_report_unref(rep);
    }
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

/* Under --json an mdev subcommand's error named only "mdev" as its command, while its text
 * said "hostdev mdev create:": automation could not tell which subcommand failed. Now the
 * JSON's "command" is what the text names (a subcommand's, its options' refusals too), and
 * list, types and defined name theirs as create does; a word that is no subcommand leaves
 * "mdev". */
HD_TEST(mdev_errors_name_the_subcommand)
{
    static const struct {
        const char *args, *text, *json;
    } cases[] = {
        {"mdev create mtty", "hostdev mdev create: needs PARENT TYPE (or --uuid UUID alone: a "
                             "defined one)\n",
         "{\"error\":\"needs PARENT TYPE (or --uuid UUID alone: a defined one)\",\"exit\":2,"
         "\"command\":\"mdev create\",\"hint\":null}\n"},
        {"mdev remove nope", "hostdev mdev remove: 'nope' is not a UUID (8-4-4-4-12 hex digits, "
                             "or mdev_ with '_' for '-')\n",
         "{\"error\":\"'nope' is not a UUID (8-4-4-4-12 hex digits, or mdev_ with '_' for "
         "'-')\",\"exit\":2,\"command\":\"mdev remove\",\"hint\":null}\n"},
        {"mdev define -a -m mtty mtty-1", "hostdev mdev define: --auto or --manual, not both\n",
         "{\"error\":\"--auto or --manual, not both\",\"exit\":2,\"command\":\"mdev define\","
         "\"hint\":null}\n"},
        {"mdev undefine xyz", NULL, "\"command\":\"mdev undefine\""},
        {"mdev list extra", "hostdev mdev list: takes no argument: 'extra'\n",
         "{\"error\":\"takes no argument: 'extra'\",\"exit\":2,\"command\":\"mdev list\","
         "\"hint\":null}\n"},
        {"mdev types extra", "hostdev mdev types: takes no argument: 'extra'\n",
         "\"command\":\"mdev types\""},
        {"mdev defined extra", "hostdev mdev defined: takes no argument: 'extra'\n",
         "\"command\":\"mdev defined\""},
        {"mdev remove --uuid " U1, NULL, "\"command\":\"mdev remove\""},
        {"mdev frob", NULL, "\"command\":\"mdev\""},
    };
    struct eng e;

    eng_start(&e, "mdev");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(eng_run(&e, "%s", cases[i].args), 2);
        if (cases[i].text != NULL)
            ck_assert_str_eq(e.err, cases[i].text);
        ck_assert_int_eq(eng_run(&e, "--json %s", cases[i].args), 2);
        if (cases[i].json[0] == '{')
            ck_assert_str_eq(e.err, cases[i].json);
        else
            ck_assert_msg(strstr(e.err, cases[i].json) != NULL, "%s: %s", cases[i].args, e.err);
    }
    ck_assert_uint_eq(eng_writes(&e), 0);
    eng_stop(&e);
}
END_TEST
