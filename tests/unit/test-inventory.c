/* test-inventory.c - what the engine reads from a kernel: every field against the spec that
 * made the fake kernel, SR-IOV, old kernels, and garbage in sysfs files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "hdtest.h"

HD_TEST_FILE(.timeout = 60);

HD_TEST(demo_fields)
{
    struct eng e;
    struct hd_device_list *list;
    struct hd_device *nic, *gpu, *host;
    struct hd_pci_addr a;
    char buf[HD_PCI_ADDR_BUFSZ];

    eng_start(&e, "demo");
    ck_assert_int_eq(hd_device_list_new(e.ctx, HD_FILL_ALL, &list), 0);
    ck_assert_uint_eq(hd_device_list_count(list), 15);
    for (size_t i = 1; i < hd_device_list_count(list); i++) /* sorted */
        ck_assert_int_lt(hd_pci_addr_compare(hd_device_get_addr(hd_device_list_get(list, i - 1)),
                                             hd_device_get_addr(hd_device_list_get(list, i))),
                         0);
    hd_pci_addr_parse("03:00.0", &a);
    nic = hd_device_list_find(list, &a);
    ck_assert_ptr_nonnull(nic);
    ck_assert_uint_eq(hd_device_get_vendor_id(nic), 0x8086);
    ck_assert_uint_eq(hd_device_get_device_id(nic), 0x10d3);
    ck_assert_uint_eq(hd_device_get_subsystem_vendor_id(nic), 0x8086);
    ck_assert_uint_eq(hd_device_get_subsystem_device_id(nic), 0xa01f);
    ck_assert_uint_eq(hd_device_get_class(nic), 0x020000);
    ck_assert_int_eq(hd_device_get_revision(nic), 0);
    ck_assert_int_eq(hd_device_get_header_type(nic), 0);
    ck_assert_str_eq(hd_device_get_driver(nic), "e1000e");
    ck_assert_ptr_null(hd_device_get_driver_override(nic));
    ck_assert(hd_device_has_driver_override(nic));
    ck_assert_int_eq(hd_device_get_iommu_group(nic), 8);
    ck_assert_str_eq(hd_pci_addr_format(hd_device_get_parent(nic), buf), "0000:00:1c.0");
    ck_assert_ptr_null(hd_device_get_physfn(nic));
    ck_assert_int_eq(hd_device_get_sriov_totalvfs(nic), -1);
    ck_assert(hd_device_has_reset(nic));
    ck_assert_str_eq(hd_device_get_reset_methods(nic), "flr pm bus");
    ck_assert(hd_device_is_assignable(nic));
    ck_assert_ptr_null(hd_device_get_vendor_name(nic)); /* names are off in tests */
    ck_assert_str_eq(hd_device_get_modalias(nic),
                     "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00");

    hd_pci_addr_parse("01:00.0", &a);
    gpu = hd_device_list_find(list, &a);
    ck_assert_str_eq(hd_pci_addr_format(hd_device_get_parent(gpu), buf), "0000:00:01.0");
    ck_assert_int_eq(hd_device_get_revision(gpu), 0xa1);
    hd_pci_addr_parse("00:01.0", &a);
    ck_assert(hd_device_is_bridge(hd_device_list_find(list, &a)));
    ck_assert(!hd_device_is_assignable(hd_device_list_find(list, &a)));
    hd_pci_addr_parse("00:00.0", &a);
    host = hd_device_list_find(list, &a);
    ck_assert_ptr_null(hd_device_get_parent(host)); /* root bus */
    ck_assert_ptr_null(hd_device_get_driver(host));
    ck_assert(!hd_device_has_reset(host));
    hd_pci_addr_parse("05:00.0", &a);
    ck_assert_ptr_null(hd_device_list_find(list, &a));
    hd_device_list_unref(list);

    ck_assert_int_eq(hd_device_open(e.ctx, &a, &nic), -ENODEV);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "0000:05:00.0"));
    eng_stop(&e);
}
END_TEST

HD_TEST(sriov_fields)
{
    struct eng e;
    struct hd_device *pf, *vf, *idle;
    char buf[HD_PCI_ADDR_BUFSZ];

    eng_start(&e, "server-sriov");
    pf = eng_dev(&e, "0000:03:00.0");
    ck_assert_int_eq(hd_device_get_sriov_totalvfs(pf), 63);
    ck_assert_int_eq(hd_device_get_sriov_numvfs(pf), 8);
    ck_assert_uint_eq(hd_device_get_virtfn_count(pf), 8);
    /* VF i sits at the PF's routing id + offset + stride * i: 03:00.0 + 128 = 03:10.0. */
    ck_assert_str_eq(hd_pci_addr_format(hd_device_get_virtfn(pf, 0), buf), "0000:03:10.0");
    ck_assert_str_eq(hd_pci_addr_format(hd_device_get_virtfn(pf, 1), buf), "0000:03:10.2");
    vf = eng_dev(&e, "0000:03:10.2");
    ck_assert_str_eq(hd_pci_addr_format(hd_device_get_physfn(vf), buf), "0000:03:00.0");
    ck_assert_uint_eq(hd_device_get_device_id(vf), 0x10ed); /* from uevent, not config */
    ck_assert_int_ge(hd_device_get_iommu_group(vf), 0);
    ck_assert_int_ne(hd_device_get_iommu_group(vf), hd_device_get_iommu_group(pf));
    ck_assert_int_eq(hd_device_get_numa_node(vf), 0);
    idle = eng_dev(&e, "0000:81:00.0");
    ck_assert_int_eq(hd_device_get_numa_node(idle), 1);
    ck_assert_ptr_null(hd_device_get_driver(idle));
    ck_assert_int_eq(hd_device_get_sriov_numvfs(idle), 0);
    ck_assert_uint_eq(hd_device_get_virtfn_count(idle), 0);
    hd_device_unref(pf);
    hd_device_unref(vf);
    hd_device_unref(idle);
    eng_stop(&e);
}
END_TEST

HD_TEST(old_kernel_fields)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "old-kernel");
    dev = eng_dev(&e, "0000:03:00.0");
    ck_assert(!hd_device_has_driver_override(dev));
    ck_assert_ptr_null(hd_device_get_reset_methods(dev));
    ck_assert(hd_device_has_reset(dev));
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

static void write_file(const char *dir, const char *rel, const char *content)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "w");
    ck_assert_msg(f != NULL, "open %s", path);
    fputs(content, f);
    fclose(f);
}

/* Garbage in one device's files: that device is refused with a message naming the file,
 * the rest of the host still lists. */
/* tests/trees/@spec.spec as plain files in @dir (a mkdtemp template); @cmd removes them. */
static void materialize_tree(const char *spec, char *dir, char *cmd, size_t cmdsize)
{
    struct fx fx = {0};
    const char *args[] = {"materialize", NULL, dir, NULL};
    char path[512];

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/tests/trees/%s.spec",
             getenv("HOSTDEV_SRCDIR") ? getenv("HOSTDEV_SRCDIR") : ".", spec);
    args[1] = path;
    snprintf(cmd, cmdsize, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_msg(fx_fakesys(&fx, args, NULL) == 0, "materialize: %s", fx.error);
}

/* A context on a materialized tree, names off (the tests compare ids, not names). */
static struct hd_ctx *tree_ctx(const char *dir)
{
    struct hd_ctx *ctx;

    ck_assert_int_eq(hd_ctx_new(dir, &ctx), 0);
    hd_ctx_set_names_file(ctx, "");
    return ctx;
}

/* A virtio-pci NIC's interface sits on its virtio device, one level below the function:
 * it is still the function's (if=, show, and what host use names). */
HD_TEST(virtio_interface_is_its_functions)
{
    char dir[] = "/tmp/hostdev-virtio-XXXXXX", cmd[600], sh[2048], target[512];
    struct hd_netif_list *nl;
    struct hd_pci_addr a, found;
    struct hd_ctx *ctx;
    ssize_t n;

    materialize_tree("demo", dir, cmd, sizeof(cmd));
    /* Where the function is, from its link; its interface below a virtio device there. */
    snprintf(sh, sizeof(sh), "%s/sys/bus/pci/devices/0000:03:00.0", dir);
    n = readlink(sh, target, sizeof(target) - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0'; /* ../../../devices/.../0000:03:00.0 */
    snprintf(sh, sizeof(sh), "cd %s/sys/class/net && mkdir -p %s/virtio2/net/eth0 && "
             "ln -s %s/virtio2/net/eth0 eth0", dir, target + 3, target + 3);
    ck_assert_int_eq(system(sh), 0);
    ctx = tree_ctx(dir);
    ck_assert_int_eq(hd_netif_list_new(ctx, &nl), 0);
    ck_assert_int_eq(hd_pci_addr_parse("0000:03:00.0", &a), 0);
    ck_assert_ptr_nonnull(strstr(hd_netif_list_get(nl, &a), "eth0"));
    ck_assert_int_eq(hd_netif_list_find(nl, "eth0", &found), 0);
    ck_assert(hd_pci_addr_equal(&found, &a));
    hd_netif_list_unref(nl);
    hd_ctx_unref(ctx);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

HD_TEST(garbage_in_sysfs)
{
    char dir[] = "/tmp/hd-garbage-XXXXXX", cmd[600], path[512];
    struct hd_device_list *list;
    struct hd_device *dev;
    struct hd_pci_addr a;
    struct hd_ctx *ctx;

    materialize_tree("demo", dir, cmd, sizeof(cmd));
    write_file(dir, "sys/bus/pci/devices/0000:03:00.0/uevent",
               "DRIVER=e1000e\nPCI_ID=zz:10D3\n"
               "PCI_CLASS=20000\n");
    write_file(dir, "sys/bus/pci/devices/0000:02:00.0/numa_node", "banana\n");
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:01:00.0/iommu_group", dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink("../../../kernel/iommu_groups/notanumber", path), 0);
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/garbage-entry", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);

    ctx = tree_ctx(dir);
    /* A listing takes 03:00.0's ids from its config space, not from the garbage uevent. */
    ck_assert_int_eq(hd_device_list_new(ctx, HD_FILL_ALL, &list), 0);
    ck_assert_uint_eq(hd_device_list_count(list), 15 - 2);
    hd_device_list_unref(list);
    /* Without config space it reads uevent, and leaves the device out. */
    write_file(dir, "sys/bus/pci/devices/0000:03:00.0/config", "");
    ck_assert_int_eq(hd_device_list_new(ctx, HD_FILL_ALL, &list), 0);
    ck_assert_uint_eq(hd_device_list_count(list), 15 - 3);
    hd_device_list_unref(list);
    /* The devices left out are not the listing's failure: no reason outlives it to be taken
     * for a later call's. */
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_NONE);
    /* Contents the kernel would not write are bad input, as a bad address is. */
    hd_pci_addr_parse("03:00.0", &a);
    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "PCI_ID"));
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "zz:10D3"));
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_INVALID);
    hd_ctx_clear_error(ctx);
    hd_pci_addr_parse("02:00.0", &a);
    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "numa_node"));
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_INVALID);
    hd_ctx_clear_error(ctx);
    hd_pci_addr_parse("01:00.0", &a);
    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "iommu_group"));
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_INVALID);
    /* A link into another directory than the kernel's: the same. */
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:01:00.0/iommu_group", dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink("../../../kernel/elsewhere/1", path), 0);
    hd_ctx_clear_error(ctx);
    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "iommu_group does not lead"));
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_INVALID);
    hd_ctx_unref(ctx);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A PF whose VF layout is garbage: its VFs read their own uevent, and the listing, which
 * worked, leaves no error behind for a later call's failure to inherit. */
HD_TEST(garbage_vf_layout_leaves_no_reason)
{
    char dir[] = "/tmp/hd-vflayout-XXXXXX", cmd[600];
    struct hd_device_list *list;
    struct hd_device *vf;
    struct hd_pci_addr a;
    struct hd_ctx *ctx;

    materialize_tree("adapters", dir, cmd, sizeof(cmd));
    write_file(dir, "sys/bus/pci/devices/0000:01:00.0/sriov_offset", "zz\n");
    ctx = tree_ctx(dir);
    ck_assert_int_eq(hd_device_list_new(ctx, HD_FILL_IDENT | HD_FILL_CONFIG, &list), 0);
    hd_pci_addr_parse("01:10.0", &a);
    ck_assert_ptr_nonnull(vf = hd_device_list_find(list, &a));
    ck_assert_uint_eq(hd_device_get_vendor_id(vf), 0x8086);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_NONE);
    ck_assert_str_eq(hd_ctx_last_error(ctx), "");
    hd_device_list_unref(list);
    hd_ctx_unref(ctx);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A listing reads ids and class from config space, a VF's ids from its PF's sriov_vf_device
 * and the driver from its link (device.c, hd_device_fill_bulk); a snapshot of one device reads
 * uevent. Both must say the same of every device. */
static void assert_listing_agrees(struct hd_ctx *ctx, const char *what)
{
    struct hd_device_list *list;

    ck_assert_int_eq(hd_device_list_new(ctx, HD_FILL_IDENT | HD_FILL_CONFIG | HD_FILL_GROUP, &list),
                     0);
    ck_assert_uint_gt(hd_device_list_count(list), 0);
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *l = hd_device_list_get(list, i), *o;
        const char *ld, *od, *name = hd_device_get_name(l);
        ck_assert_msg(hd_device_open(ctx, hd_device_get_addr(l), &o) == 0, "%s %s: %s", what, name,
                      hd_ctx_last_error(ctx));
        ck_assert_msg(hd_device_get_vendor_id(l) == hd_device_get_vendor_id(o) &&
                          hd_device_get_device_id(l) == hd_device_get_device_id(o),
                      "%s %s: ids %04x:%04x, uevent says %04x:%04x", what, name,
                      hd_device_get_vendor_id(l), hd_device_get_device_id(l),
                      hd_device_get_vendor_id(o), hd_device_get_device_id(o));
        ck_assert_msg(
            hd_device_get_subsystem_vendor_id(l) == hd_device_get_subsystem_vendor_id(o) &&
                hd_device_get_subsystem_device_id(l) == hd_device_get_subsystem_device_id(o),
            "%s %s: subsystem ids differ", what, name);
        ck_assert_msg(hd_device_get_class(l) == hd_device_get_class(o),
                      "%s %s: class %06x, not %06x", what, name, hd_device_get_class(l),
                      hd_device_get_class(o));
        ck_assert_int_eq(hd_device_get_revision(l), hd_device_get_revision(o));
        ck_assert_int_eq(hd_device_get_header_type(l), hd_device_get_header_type(o));
        ck_assert_int_eq(hd_device_get_iommu_group(l), hd_device_get_iommu_group(o));
        ck_assert_msg(strcmp(hd_device_get_modalias(l), hd_device_get_modalias(o)) == 0,
                      "%s %s: modalias %s, uevent says %s", what, name, hd_device_get_modalias(l),
                      hd_device_get_modalias(o));
        ld = hd_device_get_driver(l);
        od = hd_device_get_driver(o);
        ck_assert_msg((ld == NULL && od == NULL) || (ld && od && strcmp(ld, od) == 0),
                      "%s %s: driver %s, uevent says %s", what, name, ld ? ld : "-", od ? od : "-");
        if (hd_device_get_physfn(l) != NULL)
            ck_assert_int_eq(hd_pci_addr_compare(hd_device_get_physfn(l), hd_device_get_physfn(o)),
                             0);
        hd_device_unref(o);
    }
    hd_device_list_unref(list);
}

HD_TEST(listing_agrees_with_snapshots)
{
    static const char *const trees[] = {
        "demo", "laptop",     "server-sriov", "gpu-audio",         "bridge-shared",
        "amd",  "old-kernel", "no-iommu",     "unsafe-interrupts", "iommu-off-firmware"};
    char cmd[600], *spec = NULL;
    size_t len = 0;
    struct eng e;
    FILE *p;

    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
        eng_start(&e, trees[i]);
        assert_listing_agrees(e.ctx, trees[i]);
        eng_stop(&e);
    }
    /* A server as make bench draws it: 600 functions, PFs with 63 VFs across buses. */
    snprintf(cmd, sizeof(cmd), "%s/tests/bench/gen-spec 600",
             getenv("HOSTDEV_SRCDIR") ? getenv("HOSTDEV_SRCDIR") : ".");
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_gt(getdelim(&spec, &len, '\0', p), 1000);
    ck_assert_int_eq(pclose(p), 0);
    eng_start(&e, spec);
    assert_listing_agrees(e.ctx, "gen-spec 600");
    eng_stop(&e);
    free(spec);
}
END_TEST

/* When config space or the PF does not tell, a listing reads what the kernel says of the device
 * itself, and still agrees. */
HD_TEST(listing_falls_back_to_uevent)
{
    char dir[] = "/tmp/hd-fallback-XXXXXX", cmd[600], path[512];
    struct hd_device_list *list;
    struct hd_device *vf;
    struct hd_pci_addr a;
    struct hd_ctx *ctx;

    materialize_tree("server-sriov", dir, cmd, sizeof(cmd));
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:03:00.0/sriov_vf_device", dir);
    ck_assert_int_eq(unlink(path), 0); /* an older kernel */
    write_file(dir, "sys/bus/pci/devices/0000:03:10.2/config", "short");
    write_file(dir, "sys/bus/pci/devices/0000:03:00.1/config", "");
    ctx = tree_ctx(dir);
    ck_assert_int_eq(hd_device_list_new(ctx, HD_FILL_IDENT | HD_FILL_CONFIG, &list), 0);
    hd_pci_addr_parse("03:10.4", &a);
    vf = hd_device_list_find(list, &a);
    ck_assert_ptr_nonnull(vf);
    ck_assert_uint_eq(hd_device_get_vendor_id(vf), 0x8086);
    ck_assert_uint_eq(hd_device_get_device_id(vf), 0x10ed);
    hd_pci_addr_parse("03:10.2", &a);
    vf = hd_device_list_find(list, &a);
    ck_assert_ptr_nonnull(vf);
    ck_assert_uint_eq(hd_device_get_device_id(vf), 0x10ed);
    ck_assert_int_eq(hd_device_get_revision(vf), 1); /* from the revision attribute */
    hd_device_list_unref(list);
    assert_listing_agrees(ctx, "fallback");
    hd_ctx_unref(ctx);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A listing takes drivers from the drivers' directories (one read per driver, not a link per
 * device); when one of them cannot be read, each device reads its own link, and the listing
 * still agrees with the snapshots (whose driver comes from uevent). */
HD_TEST(listing_drivers_from_their_directories)
{
    char dir[] = "/tmp/hd-drivers-XXXXXX", cmd[600], path[512];
    struct hd_device_list *list;
    struct hd_pci_addr nic;
    struct hd_ctx *ctx;

    materialize_tree("demo", dir, cmd, sizeof(cmd));
    ctx = tree_ctx(dir);
    hd_pci_addr_parse("03:00.0", &nic);
    /* The directory is what the listing asks: the device's own link is not read. */
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:03:00.0/driver", dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink("../../../../bus/pci/drivers/not-asked", path), 0);
    ck_assert_int_eq(hd_device_list_new(ctx, HD_FILL_IDENT | HD_FILL_CONFIG, &list), 0);
    ck_assert_str_eq(hd_device_get_driver(hd_device_list_find(list, &nic)), "e1000e");
    hd_device_list_unref(list);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink("../../../../bus/pci/drivers/e1000e", path), 0);
    /* A driver's directory that cannot be read: every device reads its link. */
    snprintf(path, sizeof(path), "rm -rf '%s/sys/bus/pci/drivers/e1000e' && "
             "echo > '%s/sys/bus/pci/drivers/e1000e'", dir, dir);
    ck_assert_int_eq(system(path), 0);
    ck_assert_int_eq(hd_device_list_new(ctx, HD_FILL_IDENT | HD_FILL_CONFIG, &list), 0);
    ck_assert_str_eq(hd_device_get_driver(hd_device_list_find(list, &nic)), "e1000e");
    hd_device_list_unref(list);
    assert_listing_agrees(ctx, "a driver's directory unreadable");
    hd_ctx_unref(ctx);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Every public object counts references: _ref returns it, and it outlives one _unref. */
HD_TEST(every_object_has_ref)
{
    struct eng e;
    struct hd_pci_addr a;
    struct hd_device *nic;
    struct hd_device_list *list;
    struct hd_group *g;
    struct hd_netif_list *nl;
    struct hd_assignment_list *map;
    struct hd_findings *diag;
    struct hd_reset_check *rc;
    struct hd_nodedev_list *nd;
    struct hd_reserve_config *conf;

    eng_start(&e, "demo");
    hd_pci_addr_parse("03:00.0", &a);
    ck_assert_int_eq(hd_device_list_new(e.ctx, HD_FILL_IDENT | HD_FILL_CONFIG, &list), 0);
    ck_assert_ptr_eq(hd_device_list_ref(list), list);
    ck_assert_ptr_null(hd_device_list_unref(list));
    ck_assert_uint_eq(hd_device_list_count(list), 15);
    hd_device_list_unref(list);
    ck_assert_int_eq(hd_group_open(e.ctx, 8, &g), 0);
    ck_assert_ptr_eq(hd_group_ref(g), g);
    hd_group_unref(g);
    ck_assert_int_eq(hd_group_get_member_count(g), 1);
    hd_group_unref(g);
    ck_assert_int_eq(hd_netif_list_new(e.ctx, &nl), 0);
    ck_assert_ptr_eq(hd_netif_list_ref(nl), nl);
    hd_netif_list_unref(nl);
    hd_netif_list_unref(nl);
    ck_assert_int_eq(hd_assignment_list_new(e.ctx, &map), 0);
    ck_assert_ptr_eq(hd_assignment_list_ref(map), map);
    hd_assignment_list_unref(map);
    ck_assert_uint_eq(hd_assignment_list_count(map), 0);
    hd_assignment_list_unref(map);
    ck_assert_int_eq(hd_doctor_run(e.ctx, &a, &diag), 0);
    ck_assert_ptr_eq(hd_findings_ref(diag), diag);
    hd_findings_unref(diag);
    (void)hd_findings_count(diag);
    hd_findings_unref(diag);
    ck_assert_int_eq(hd_device_open(e.ctx, &a, &nic), 0);
    ck_assert_int_eq(hd_device_check_reset(nic, &rc), 0);
    ck_assert_ptr_eq(hd_reset_check_ref(rc), rc);
    hd_reset_check_unref(rc);
    ck_assert_ptr_nonnull(hd_reset_check_get_methods(rc));
    hd_reset_check_unref(rc);
    hd_device_unref(nic);
    ck_assert_int_eq(hd_nodedev_list_new(e.ctx, 1u << HD_CAP_PCI, &nd), 0);
    ck_assert_ptr_eq(hd_nodedev_list_ref(nd), nd);
    hd_nodedev_list_unref(nd);
    ck_assert_uint_gt(hd_nodedev_list_count(nd), 0);
    hd_nodedev_list_unref(nd);
    ck_assert_int_eq(hd_reserve_config_new(&conf), 0);
    ck_assert_ptr_eq(hd_reserve_config_ref(conf), conf);
    hd_reserve_config_unref(conf);
    ck_assert_uint_eq(hd_reserve_config_count(conf), 0);
    hd_reserve_config_unref(conf);
    eng_stop(&e);
}
END_TEST

/* A refresh is a new snapshot of uevent: a device that lost its driver meanwhile reads as
 * unbound, not as still on the driver it had. */
HD_TEST(refresh_sees_a_driver_go)
{
    char dir[] = "/tmp/hd-refresh-XXXXXX", cmd[600];
    struct hd_device *gpu;
    struct hd_pci_addr a;
    struct hd_ctx *ctx;

    materialize_tree("demo", dir, cmd, sizeof(cmd));
    ctx = tree_ctx(dir);
    hd_pci_addr_parse("01:00.0", &a);
    ck_assert_int_eq(hd_device_open(ctx, &a, &gpu), 0);
    ck_assert_str_eq(hd_device_get_driver(gpu), "nouveau");
    write_file(dir, "sys/bus/pci/devices/0000:01:00.0/uevent",
               "PCI_CLASS=30000\nPCI_ID=10DE:1B81\nPCI_SUBSYS_ID=1458:3772\n"
               "MODALIAS=pci:v000010DEd00001B81sv00001458sd00003772bc03sc00i00\n");
    ck_assert_int_eq(hd_device_refresh(gpu), 0);
    ck_assert_ptr_null(hd_device_get_driver(gpu));
    ck_assert_str_eq(hd_device_get_modalias(gpu),
                     "pci:v000010DEd00001B81sv00001458sd00003772bc03sc00i00");
    hd_device_unref(gpu);
    hd_ctx_unref(ctx);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

HD_TEST(groups)
{
    struct eng e;
    struct hd_group *g;

    eng_start(&e, "demo");
    ck_assert_int_eq(hd_group_open(e.ctx, 9, &g), 0);
    ck_assert_int_eq(hd_group_get_number(g), 9);
    ck_assert_uint_eq(hd_group_get_member_count(g), 3);
    ck_assert(!hd_group_is_viable(g));
    ck_assert_uint_eq(hd_group_get_blocker_count(g), 3);
    hd_group_unref(g);
    ck_assert_int_eq(hd_group_open(e.ctx, 1, &g), 0);
    ck_assert_uint_eq(hd_group_get_member_count(g), 3);
    ck_assert_uint_eq(hd_group_get_blocker_count(g), 2); /* pcieport does not block */
    hd_group_unref(g);
    ck_assert_int_eq(hd_group_open(e.ctx, 99, &g), -ENOENT);
    ck_assert_int_eq(hd_group_open(e.ctx, -1, &g), -ENOENT);
    ck_assert(hd_driver_is_vfio("vfio-pci"));
    ck_assert(hd_driver_is_vfio("mlx5_vfio_pci"));
    ck_assert(!hd_driver_is_vfio("e1000e"));
    ck_assert(hd_driver_is_dma_safe(NULL));
    ck_assert(hd_driver_is_dma_safe("pcieport"));
    ck_assert(hd_driver_is_dma_safe("pci-stub"));
    ck_assert(!hd_driver_is_dma_safe("snd_hda_intel"));
    eng_stop(&e);
}
END_TEST
