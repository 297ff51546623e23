/* test-safety.c - host-safety checks over plain trees (specs materialized): mounted and swapped disks (also through
 * device-mapper and md, past 64 block devices, btrfs members, ZFS vdevs), network interfaces up
 * with routes or addresses (their own, in any table, or those of a bridge, bond or VLAN stacked
 * on them), the console. */
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assign-helpers.h"
#include "fixture.h"
#include "hdtest.h"
#include "tmptree.h"

#define SATA "0000:00:1f.2"
#define NIC "0000:03:00.0"
#define GPU "0000:00:02.0"

static const char *check(const char *dir, const char *bdf, int *r)
{
    static char msg[1024];
    struct hd_ctx *ctx = ah_ctx(dir);
    struct hd_pci_addr a = ah_addr(bdf);
    struct hd_device *dev;

    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), 0);
    *r = hd_device_check_host_use(dev);
    snprintf(msg, sizeof(msg), "%s", *r < 0 ? hd_ctx_last_error(ctx) : "");
    hd_device_unref(dev);
    hd_ctx_unref(ctx);
    return msg;
}

/* Each test's tree: a fake kernel (docs/fakesys-spec.md) written as plain files. tree() throws
 * the last one away, so a test can look at the same host in another state. */
static struct fx fx;
static const char *root;

static void tree(const char *spec)
{
    fx_umount(&fx);
    ck_assert_msg(fx_materialize_text(&fx, spec) == 0, "materialize: %s", fx.error);
    root = fx.root;
}

static void teardown(void)
{
    fx_umount(&fx);
    root = NULL;
}

HD_TEST_FILE(.teardown = teardown);

#define KERNEL                                                                                     \
    "iommu intel\n"                                                                                \
    "driver ahci class=010601\n"                                                                   \
    "driver e1000e ids=8086:10d3\n"                                                                \
    "driver nvme class=010802\n"                                                                   \
    "driver i915 ids=8086:3e92\n"
/* sda with partition sda1 (8:1) on the SATA controller */
#define DISK                                                                                       \
    "device " SATA " 8086:2922 class=010601 driver=ahci\n"                                        \
    "block " SATA " sda dev=8:0\n"                                                                 \
    "block " SATA " sda1 dev=8:1 disk=sda\n"
/* the NIC; its interface eth0 is the test's own line */
#define NIC_DEV "device " NIC " 8086:10d3 class=020000 parent=root driver=e1000e\n"
#define ETH0 "net " NIC " eth0 "

HD_TEST(a_mounted_disk)
{
    const char *msg;
    int r;

    tree(KERNEL DISK "mount /dev/sda1 /\n");
    msg = check(root, SATA, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, SATA " backs /dev/sda1 mounted on /");
    /* Unmounted: free to go. */
    tree(KERNEL DISK);
    check(root, SATA, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST

HD_TEST(proc_mounts_swap_and_device_mapper)
{
    const char *msg;
    int r;

    /* No mountinfo: proc/mounts alone. LVM on sda1: dm-0 holds it and is mounted with a space
     * in its path. */
    tree(KERNEL DISK "feature mountinfo off\n"
                     "holder dm-0 dev=254:0 dm=vg-data sda1\n"
                     "mount /dev/mapper/vg-data \"/srv/my data\"\n"
                     "swap /dev/sda1\n");
    msg = check(root, SATA, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_ptr_nonnull(strstr(msg, SATA " backs /dev/dm-0 mounted on /srv/my data"));
    ck_assert_ptr_nonnull(strstr(msg, SATA " backs /dev/sda1 used as swap"));
}
END_TEST

HD_TEST(an_interface_up_with_routes)
{
    const char *msg;
    int r;

    tree(KERNEL NIC_DEV ETH0 "up route=0.0.0.0/0\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with routes");
    /* Down: free. */
    tree(KERNEL NIC_DEV ETH0 "down route=0.0.0.0/0\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST

HD_TEST(link_local_addresses_do_not_count)
{
    const char *msg;
    int r;

    /* Nor those of another interface. */
    tree(KERNEL NIC_DEV ETH0 "up inet6=fe80::21b:21ff:fe3a:4b5c/64\n"
                            "netdev br9 bridge up inet6=2001:db8::9/64\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
    tree(KERNEL NIC_DEV ETH0 "up inet6=2001:db8::5/64\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with addresses");
}
END_TEST

HD_TEST(a_bridge_port)
{
    const char *msg;
    int r;

    /* eth0 is up with no address of its own; br0 carries the host's address and route. */
    tree(KERNEL NIC_DEV "netdev br0 bridge up\n" ETH0
                        "up master=br0 inet6=fe80::21b:21ff:fe3a:4b5c/64\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
    tree(KERNEL NIC_DEV "netdev br0 bridge up route=0.0.0.0/0\n" ETH0 "up master=br0\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is under br0, which is up with routes");
    /* A bridge that is down carries nothing. */
    tree(KERNEL NIC_DEV "netdev br0 bridge down route=0.0.0.0/0\n" ETH0 "up master=br0\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST

HD_TEST(a_bond_member_in_a_bridge)
{
    const char *msg;
    int r;

    /* eth0 -> bond0 -> br0, which has a global IPv6 address. */
    tree(KERNEL NIC_DEV "netdev br0 bridge up inet6=2001:db8::5/64\n"
                        "netdev bond0 bond up master=br0\n" ETH0 "up master=bond0\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is under br0, which is up with addresses");
}
END_TEST

HD_TEST(a_vlan_lower_device)
{
    const char *msg;
    int r;

    /* eth0.100 says lower_eth0; eth0 says nothing. The route is an IPv6 one in table 100. */
    tree(KERNEL NIC_DEV ETH0 "up\n"
                             "netdev eth0.100 vlan up lower=eth0 route6=fe80::/64\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0); /* link-local routes do not count */
    tree(KERNEL NIC_DEV ETH0 "up\n"
                             "netdev eth0.100 vlan up lower=eth0 route6=::/0@100\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is under eth0.100, which is up with routes");
}
END_TEST

HD_TEST(a_default_route_in_a_policy_table)
{
    const char *msg;
    int r;

    /* `ip rule add from all lookup 100`, the default route only in table 100: proc/net/route
     * (the main table) has nothing for eth0. */
    tree(KERNEL NIC_DEV ETH0 "up route=0.0.0.0/0@100\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with routes");
    /* An IPv4 address of its own counts as well; a link-local one does not. */
    tree(KERNEL NIC_DEV ETH0 "up inet=169.254.3.4/16\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
    tree(KERNEL NIC_DEV ETH0 "up inet=192.0.2.5/24\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with addresses");
}
END_TEST

HD_TEST(more_than_64_block_devices)
{
    char spec[8192];
    size_t len;
    const char *msg;
    int r;

    /* 70 partitions: sda9 sorts last, beyond what a list of 64 held. */
    len = (size_t)snprintf(spec, sizeof(spec), "%s", KERNEL DISK);
    for (int i = 2; i <= 70; i++)
        len += (size_t)snprintf(spec + len, sizeof(spec) - len,
                                "block " SATA " sda%d dev=%d:%d disk=sda\n", i, i < 16 ? 8 : 259,
                                i);
    snprintf(spec + len, sizeof(spec) - len, "mount /dev/sda9 /srv xfs\n");
    ck_assert_uint_lt(len, sizeof(spec) - 64);
    tree(spec);
    msg = check(root, SATA, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, SATA " backs /dev/sda9 mounted on /srv");
}
END_TEST

/* A second disk, nvme0n1 with partition nvme0n1p1 (259:1), on another controller. */
#define NVME "0000:01:00.0"
#define NVME_DISK                                                                                  \
    "device " NVME " 144d:a808 class=010802 parent=root driver=nvme\n"                            \
    "block " NVME " nvme0n1 dev=259:0\n"                                                           \
    "block " NVME " nvme0n1p1 dev=259:1 disk=nvme0n1\n"

HD_TEST(the_second_member_of_a_btrfs_raid1)
{
    const char *msg;
    int r;

    /* mountinfo names sda1 (with an anonymous device number, as btrfs has); nvme0n1p1 is the
     * other half of the mirror, listed only in sys/fs/btrfs/UUID/devices. */
    tree(KERNEL DISK NVME_DISK "btrfs 0f5c2b1e-7d2a-4b8e-9a51-3c6d2e1f0a9b sda1 nvme0n1p1\n"
                               "mount /dev/sda1 / btrfs\n");
    msg = check(root, NVME, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NVME " backs /dev/nvme0n1p1, a device of the btrfs filesystem "
                          "mounted on /");
    msg = check(root, SATA, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, SATA " backs /dev/sda1 mounted on /");
}
END_TEST

#define ZFS_ROOT                                                                                   \
    "mount rpool/ROOT/pve-1 / zfs\n"                                                               \
    "mount rpool /rpool zfs\n"

HD_TEST(a_zfs_root_pool)
{
    const char *msg;
    int r;

    /* Proxmox: / is the dataset rpool/ROOT/pve-1; no device is named anywhere in mountinfo.
     * The pool not imported: only blkid's udev record says what the partition holds. */
    tree(KERNEL NVME_DISK ZFS_ROOT
         "file run/udev/data/b259:1 \"S:disk/by-id/nvme-x-part1\\nE:ID_FS_TYPE=zfs_member\\n"
         "E:ID_FS_LABEL=rpool\\nE:ID_FS_USAGE=filesystem\\n\"\n");
    check(root, NVME, &r);
    ck_assert_int_eq(r, 0);
    tree(KERNEL NVME_DISK ZFS_ROOT "zpool rpool nvme0n1p1\n");
    msg = check(root, NVME, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NVME " backs /dev/nvme0n1p1, a device of ZFS pool rpool mounted on /");
}
END_TEST

HD_TEST(md_and_lvm_holders)
{
    const char *msg;
    int r;

    /* sda1 and nvme0n1p1 make md127; LVM's vg-root on it is mounted. */
    tree(KERNEL DISK NVME_DISK "holder md127 dev=9:127 sda1 nvme0n1p1\n"
                               "holder dm-0 dev=254:0 dm=vg-root md127\n"
                               "mount /dev/mapper/vg-root /\n");
    msg = check(root, NVME, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NVME " backs /dev/dm-0 mounted on /");
}
END_TEST

HD_TEST(the_console)
{
    const char *msg;
    int r;

    /* A display device (the kernel shows boot_vga for those only) with fb0; fbcon, a virtual
     * device, is not its framebuffer. */
    tree(KERNEL "device " GPU " 8086:3e92 class=030000 subsys=8086:2212 driver=i915 "
                "boot-vga=yes\n"
                "graphics " GPU " fb0\n");
    ck_assert(ah_exists(root, "sys/class/graphics/fbcon"));
    msg = check(root, GPU, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, GPU " is the boot VGA device (the console); " GPU
                          " drives framebuffer fb0 (the console)");
}
END_TEST

HD_TEST(nothing_in_use)
{
    int r;

    tree(KERNEL NIC_DEV);
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST

/* @bdf as one of the @n devices of @set given to one VM (hd_device_check_assign()). */
static struct hd_assign_check *assign_check(struct hd_ctx *ctx, const char *bdf,
                                            const char *const *set, size_t n)
{
    struct hd_device *dev, *devs[4] = {NULL};
    struct hd_assign_check *c = NULL;
    struct hd_pci_addr a = ah_addr(bdf);

    ck_assert_uint_le(n, 4);
    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), 0);
    for (size_t i = 0; i < n; i++) {
        struct hd_pci_addr m = ah_addr(set[i]);
        ck_assert_int_eq(hd_device_open(ctx, &m, &devs[i]), 0);
    }
    ck_assert_msg(hd_device_check_assign(dev, devs, n, NULL, &c) == 0, "%s",
                  hd_ctx_last_error(ctx));
    for (size_t i = 0; i < n; i++)
        hd_device_unref(devs[i]);
    hd_device_unref(dev);
    return c;
}

/* check asks what the acquire asks, through the same decision: an interface up with routes
 * keeps its NIC from a VM now (the acquire refuses it without --force); on vfio-pci, or down,
 * nothing of it is the host's. */
HD_TEST(assign_check_asks_what_the_host_uses)
{
    static const char *const nic[] = {NIC};
    struct hd_assign_check *c;
    struct hd_ctx *ctx;

    tree(KERNEL "device " NIC " 8086:10d3 class=020000 parent=root driver=e1000e reset=flr "
                "group=3\n" ETH0 "up route=0.0.0.0/0\n");
    ctx = ah_ctx(root);
    c = assign_check(ctx, NIC, nic, 1);
    ck_assert_pstr_eq(hd_assign_check_get_host_use(c), NIC ": eth0 is up with routes");
    ck_assert_pstr_eq(hd_assign_check_get_host_keeps(c), NULL);
    ck_assert(!hd_assign_check_is_assignable_alone(c));
    ck_assert(!hd_assign_check_is_assignable_together(c));
    ck_assert_uint_eq(hd_assign_check_get_need_count(c), 0);
    /* An answer, not an error: the context holds none. */
    ck_assert_str_eq(hd_ctx_last_error(ctx), "");
    hd_assign_check_unref(c);
    hd_ctx_unref(ctx);

    tree(KERNEL "driver vfio-pci module=vfio_pci stub vfio\n"
                "device " NIC " 8086:10d3 class=020000 parent=root driver=vfio-pci reset=flr "
                "group=3\n" ETH0 "up route=0.0.0.0/0\n");
    ctx = ah_ctx(root);
    c = assign_check(ctx, NIC, nic, 1);
    ck_assert_pstr_eq(hd_assign_check_get_host_use(c), NULL);
    ck_assert(hd_assign_check_is_assignable_alone(c));
    ck_assert(hd_assign_check_is_assignable_together(c));
    hd_assign_check_unref(c);
    hd_ctx_unref(ctx);

    tree(KERNEL "device " NIC " 8086:10d3 class=020000 parent=root driver=e1000e reset=flr "
                "group=3\n" ETH0 "down route=0.0.0.0/0\n");
    ctx = ah_ctx(root);
    c = assign_check(ctx, NIC, nic, 1);
    ck_assert_pstr_eq(hd_assign_check_get_host_use(c), NULL);
    ck_assert(hd_assign_check_is_assignable_alone(c));
    hd_assign_check_unref(c);
    hd_ctx_unref(ctx);
}
END_TEST

/* A bridge is no VM's, however it resets: the library says it is assignable neither alone nor
 * with others, as detach and acquire refuse it. */
HD_TEST(assign_check_never_assigns_a_bridge)
{
    const char *const port[] = {"0000:00:1c.0"};
    struct hd_assign_check *c;
    struct hd_ctx *ctx;

    tree(KERNEL "driver pcieport builtin class=060400\n"
                "device 0000:00:1c.0 8086:a110 class=060400 parent=root driver=pcieport "
                "secondary=03 reset=pm group=3\n");
    ctx = ah_ctx(root);
    c = assign_check(ctx, port[0], port, 1);
    ck_assert_uint_eq(hd_assign_check_get_company_count(c), 0);
    ck_assert(!hd_assign_check_is_assignable_alone(c));
    ck_assert(!hd_assign_check_is_assignable_together(c));
    hd_assign_check_unref(c);
    hd_ctx_unref(ctx);
}
END_TEST

/* A device without an IOMMU group (the IOMMU off) is no VM's, however it resets. */
HD_TEST(assign_check_never_assigns_a_device_without_a_group)
{
    const char *const nic[] = {NIC};
    struct hd_assign_check *c;
    struct hd_ctx *ctx;

    tree(KERNEL "device " NIC " 8086:10d3 class=020000 parent=root driver=e1000e reset=flr "
                "group=none\n");
    ctx = ah_ctx(root);
    c = assign_check(ctx, NIC, nic, 1);
    ck_assert(!hd_assign_check_is_assignable_alone(c));
    ck_assert(!hd_assign_check_is_assignable_together(c));
    hd_assign_check_unref(c);
    hd_ctx_unref(ctx);
}
END_TEST

/* A set is judged in the library: a function whose IOMMU group holds another endpoint needs
 * it, until both are given. */
HD_TEST(assign_check_judges_a_set)
{
    static const char *const gpu[] = {GPU}, *const both[] = {GPU, "0000:00:02.1"};
    struct hd_assign_check *c;
    struct hd_ctx *ctx;

    tree(KERNEL "driver snd_hda_intel ids=8086:a170\n"
                "device " GPU " 8086:3e92 class=030000 driver=i915 reset=flr group=1\n"
                "device 0000:00:02.1 8086:a170 class=040300 driver=snd_hda_intel reset=flr "
                "group=1\n");
    ctx = ah_ctx(root);
    c = assign_check(ctx, GPU, gpu, 1);
    ck_assert_uint_eq(hd_assign_check_get_company_count(c), 1);
    ck_assert_str_eq(hd_device_get_name(hd_assign_check_get_company(c, 0)), "0000:00:02.1");
    ck_assert_uint_eq(hd_assign_check_get_need_count(c), 1);
    ck_assert_str_eq(hd_device_get_name(hd_assign_check_get_need(c, 0)), "0000:00:02.1");
    ck_assert(!hd_assign_check_is_assignable_alone(c));
    ck_assert(!hd_assign_check_is_assignable_together(c));
    hd_assign_check_unref(c);
    c = assign_check(ctx, GPU, both, 2);
    ck_assert_uint_eq(hd_assign_check_get_company_count(c), 1);
    ck_assert_uint_eq(hd_assign_check_get_need_count(c), 0);
    ck_assert(!hd_assign_check_is_assignable_alone(c));
    ck_assert(hd_assign_check_is_assignable_together(c));
    hd_assign_check_unref(c);
    hd_ctx_unref(ctx);
}
END_TEST

/* An SR-IOV PF whose VF carries the host's traffic: the PF's driver letting go destroys the VF,
 * so the PF's host use says so; a VF's interface without traffic is no host use, and a PF on
 * vfio-pci (which stays there) answers for nothing of its VFs'. */
#define SRIOV_KERNEL                                                                               \
    "iommu intel\n"                                                                                \
    "driver ixgbe ids=8086:10fb sriov\n"                                                           \
    "driver ixgbevf ids=8086:10ed\n"                                                               \
    "driver vfio-pci module=vfio_pci stub vfio sriov\n"
#define PF "0000:03:00.0"
#define VF "0000:03:10.0"
#define PF_DEV(driver)                                                                             \
    "device " PF " 8086:10fb class=020000 parent=root driver=" driver " totalvfs=4 "            \
    "vf-device=10ed vf-offset=128 vf-stride=2 numvfs=2\n"

/* A VF exists only once the PF's numvfs made it, past the spec's lines: its interface eth1
 * (up), and a route through it when @routed, are written into the tree as the kernel shows
 * them. */
static void vf_interface(bool routed)
{
    ck_assert_int_eq(tmptree_write(root, "sys/devices/pci0000:03/" VF "/net/eth1/flags", "0x1003\n"),
                     0);
    ck_assert_int_eq(tmptree_symlink(root, "sys/class/net/eth1",
                                     "../../devices/pci0000:03/" VF "/net/eth1"),
                     0);
    ck_assert_int_eq(tmptree_write(root, "proc/net/route",
                                   routed ? "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\t"
                                            "Metric\tMask\tMTU\tWindow\tIRTT\neth1\t0000000A\t"
                                            "00000000\t0001\t0\t0\t100\t000000FF\t0\t0\t0\n"
                                          : ""),
                     0);
}

HD_TEST(a_pfs_vf_up_with_routes)
{
    const char *msg;
    int r;

    tree(SRIOV_KERNEL PF_DEV("ixgbe"));
    vf_interface(true);
    msg = check(root, PF, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, PF "'s VF " VF " (gone when the PF leaves its driver): eth1 is up with "
                          "routes");
    /* A detach refuses the PF in the words show gives its host use, before the VF count. */
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_pci_addr a = ah_addr(PF);
    struct hd_op *op;
    ck_assert_int_eq(hd_op_new(ctx, HD_OP_DETACH, &op), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    ck_assert_int_eq(hd_op_run(op), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_HOST_USE);
    ck_assert_str_eq(hd_ctx_last_error(ctx), msg);
    hd_op_unref(op);
    /* So does a managed acquire, which detaches it on the way. */
    hd_ctx_clear_error(ctx);
    ck_assert_int_eq(hd_op_new(ctx, HD_OP_ACQUIRE, &op), 0);
    hd_op_set_owner(op, 107, 108);
    ck_assert_int_eq(hd_op_set_vm(op, "v"), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    ck_assert_int_eq(hd_op_run(op), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_HOST_USE);
    ck_assert_str_eq(hd_ctx_last_error(ctx), msg);
    hd_op_unref(op);
    /* A listing's snapshot (ids and config alone, as list reads it) is asked the same. */
    struct hd_device_list *l;
    struct hd_host_use *hu;
    ck_assert_int_eq(hd_device_list_new(ctx, HD_FILL_IDENT | HD_FILL_CONFIG, &l), 0);
    ck_assert_int_eq(hd_host_use_new(ctx, &hu), 0);
    ck_assert_str_eq(hd_device_get_name(hd_device_list_get(l, 0)), PF);
    ck_assert_int_eq(hd_host_use_check(hu, hd_device_list_get(l, 0)), -EBUSY);
    ck_assert_str_eq(hd_ctx_last_error(ctx), msg);
    hd_host_use_unref(hu);
    hd_device_list_unref(l);
    hd_ctx_unref(ctx);
    tree(SRIOV_KERNEL PF_DEV("ixgbe"));
    vf_interface(false);
    check(root, PF, &r);
    ck_assert_int_eq(r, 0);
    tree(SRIOV_KERNEL PF_DEV("vfio-pci"));
    vf_interface(true);
    check(root, PF, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST

/* ---- a few devices, each asked from its own directory first -------------------------------- */

/* The host's listings made unreadable: sys/bus/mdev/devices a file, which every read of them
 * fails on ("cannot tell"). An answer given now was given without them. */
static void listings_unreadable(void)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices", root);
    if (ah_exists(root, "sys/bus/mdev/devices"))
        ck_assert_int_eq(tmptree_remove(path), 0);
    ck_assert_int_eq(tmptree_write(root, "sys/bus/mdev/devices", "not a directory\n"), 0);
}

/* hd_host_use_check() through a host use made for many devices (a listing's): 0 or -errno,
 * the message in @msg. */
static int check_as_listing(const char *bdf, char *msg, size_t size)
{
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_pci_addr a = ah_addr(bdf);
    struct hd_host_use *hu;
    struct hd_device *dev;
    int r;

    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), 0);
    ck_assert_int_eq(hd_host_use_new(ctx, &hu), 0);
    r = hd_host_use_check(hu, dev);
    snprintf(msg, size, "%s", r < 0 ? hd_ctx_last_error(ctx) : "");
    hd_host_use_unref(hu);
    hd_device_unref(dev);
    hd_ctx_unref(ctx);
    return r;
}

/* A detach of @bdf alone, planned only (HD_OP_DRY_RUN): 0 or -errno, the message in @msg. */
static int detach_planned(const char *bdf, char *msg, size_t size)
{
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_pci_addr a = ah_addr(bdf);
    struct hd_op *op;
    int r;

    ck_assert_int_eq(hd_op_new(ctx, HD_OP_DETACH, &op), 0);
    hd_op_set_flags(op, HD_OP_DRY_RUN);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    r = hd_op_run(op);
    snprintf(msg, size, "%s", r < 0 ? hd_ctx_last_error(ctx) : "");
    hd_op_unref(op);
    hd_ctx_unref(ctx);
    return r;
}

#define CANNOT_TELL NIC ": cannot tell whether the host uses it"

/* A device whose own directory holds attributes, links and subdirectories known to hold
 * nothing (power, msi_irqs) needs none of the host's listings: one of a few devices asked
 * (one device's check, a detach of one) is answered without them. Many devices asked (a
 * listing) read them as before, and so does a device with any other child. */
HD_TEST(a_device_with_nothing_below_is_answered_from_its_own_directory)
{
    char msg[1024];
    int r;

    tree(KERNEL "driver vfio-pci module=vfio_pci stub vfio sriov\n" NIC_DEV);
    ck_assert_int_eq(tmptree_mkdir(root, "sys/bus/pci/devices/" NIC "/power"), 0);
    ck_assert_int_eq(tmptree_mkdir(root, "sys/bus/pci/devices/" NIC "/msi_irqs"), 0);
    listings_unreadable();
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
    r = detach_planned(NIC, msg, sizeof(msg));
    ck_assert_msg(r == 0, "%d %s", r, msg);
    r = check_as_listing(NIC, msg, sizeof(msg));
    ck_assert_int_lt(r, 0);
    ck_assert_int_ne(r, -EBUSY);
    ck_assert_str_eq(msg, CANNOT_TELL);
    /* A child not known to hold nothing (a PTP clock here; disks, interfaces, a bridge's
     * devices elsewhere): the listings. */
    ck_assert_int_eq(tmptree_mkdir(root, "sys/bus/pci/devices/" NIC "/ptp/ptp0"), 0);
    ck_assert_str_eq(check(root, NIC, &r), CANNOT_TELL);
    ck_assert_int_lt(r, 0);
    ck_assert_int_lt(detach_planned(NIC, msg, sizeof(msg)), 0);
    ck_assert_str_eq(msg, CANNOT_TELL);
}
END_TEST

/* An interface below the device sends it to the interfaces' listing, and only there: it is
 * still found up with routes, with the other listings unread. */
HD_TEST(an_interface_below_is_still_found)
{
    const char *msg;
    int r;

    tree(KERNEL NIC_DEV ETH0 "up route=0.0.0.0/0\n");
    listings_unreadable();
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with routes");
}
END_TEST

/* A disk, a framebuffer, a mediated device below the device: each still found. */
HD_TEST(a_disk_framebuffer_or_mdev_below_is_still_found)
{
    static const char mdev[] = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
    char spec[1024];
    const char *msg;
    int r;

    tree(KERNEL NVME_DISK "mount /dev/nvme0n1p1 /\n");
    msg = check(root, NVME, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NVME " backs /dev/nvme0n1p1 mounted on /");
    /* A framebuffer of a display device that is not the boot VGA one. */
    tree(KERNEL "device " GPU " 8086:3e92 class=030000 driver=i915\n"
                "graphics " GPU " fb0\n");
    msg = check(root, GPU, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, GPU " drives framebuffer fb0 (the console)");
    snprintf(spec, sizeof(spec), KERNEL "device " GPU " 8086:3e92 class=030000 driver=i915\n"
             "mdev-type " GPU " i915-GVTg_V5_4 instances=2\n"
             "mdev %s " GPU " i915-GVTg_V5_4\n", mdev);
    tree(spec);
    msg = check(root, GPU, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_ptr_nonnull(strstr(msg, GPU " is the parent of mediated device "));
    ck_assert_ptr_nonnull(strstr(msg, mdev));
    /* The mediated device's directory sends the check to the listings. */
    listings_unreadable();
    msg = check(root, GPU, &r);
    ck_assert_str_eq(msg, GPU ": cannot tell whether the host uses it");
}
END_TEST
