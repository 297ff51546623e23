/* test-safety.c - host-safety checks over plain trees: mounted and swapped disks (also through
 * device-mapper and md, past 64 block devices, btrfs members, ZFS vdevs), network interfaces up
 * with routes or addresses (their own, in any table, or those of a bridge, bond or VLAN stacked
 * on them), the console. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assign-helpers.h"
#include "hdtest.h"

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

static void disk_tree(const char *dir)
{
    ah_device(dir, SATA, 1, "ahci");
    ah_write(dir, "sys/devices/pci0000:00/" SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda/"
                   "sda1/dev", "8:1\n");
    ah_write(dir, "sys/devices/pci0000:00/" SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda/"
                   "dev", "8:0\n");
    ah_symlink(dir, "sys/class/block/sda",
               "../../devices/pci0000:00/" SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda");
    ah_symlink(dir, "sys/class/block/sda1", "../../devices/pci0000:00/" SATA
                                             "/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1");
}

/* Each test's plain tree. */
static char *root;

static void setup(void)
{
    root = ah_tree_new();
    ck_assert_ptr_nonnull(root);
}

static void teardown(void)
{
    ah_tree_remove(root);
    free(root);
    root = NULL;
}

HD_TEST_FILE(.setup = setup, .teardown = teardown);

HD_TEST(a_mounted_disk)
{
    const char *msg;
    int r;

    disk_tree(root);
    ah_write(root, "proc/self/mountinfo",
             "22 1 0:21 / /proc rw - proc proc rw\n"
             "29 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
    msg = check(root, SATA, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, SATA " backs /dev/sda1 mounted on /");
    /* Unmounted: free to go. */
    ah_write(root, "proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n");
    check(root, SATA, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST

HD_TEST(proc_mounts_swap_and_device_mapper)
{
    const char *msg;
    int r;

    disk_tree(root);
    /* LVM on sda1: dm-0 holds it and is mounted with a space in its path. */
    ah_write(root, "sys/devices/virtual/block/dm-0/dev", "254:0\n");
    ah_write(root, "sys/devices/virtual/block/dm-0/dm/name", "vg-data\n");
    ah_symlink(root, "sys/class/block/dm-0", "../../devices/virtual/block/dm-0");
    ah_symlink(root, "sys/devices/pci0000:00/" SATA "/ata1/host0/target0:0:0/0:0:0:0/block/"
                     "sda/sda1/holders/dm-0", "../../../../../../../../../virtual/block/dm-0");
    ah_write(root, "sys/class/block/sda/holders", NULL);
    ah_write(root, "proc/mounts", "/dev/mapper/vg-data /srv/my\\040data ext4 rw 0 0\n");
    ah_write(root, "proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n"
                                 "/dev/sda1 partition 1000 0 -2\n");
    msg = check(root, SATA, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_ptr_nonnull(strstr(msg, SATA " backs /dev/dm-0 mounted on /srv/my data"));
    ck_assert_ptr_nonnull(strstr(msg, SATA " backs /dev/sda1 used as swap"));
}
END_TEST

static void nic_tree(const char *dir, const char *flags)
{
    ah_device(dir, NIC, 5, "e1000e");
    ah_write(dir, "sys/devices/pci0000:00/0000:00:1c.0/" NIC "/net/eth0/flags", flags);
    ah_write(dir, "sys/devices/pci0000:00/0000:00:1c.0/" NIC "/net/eth0/operstate", "down\n");
    ah_symlink(dir, "sys/class/net/eth0", "../../devices/pci0000:00/0000:00:1c.0/" NIC
                                           "/net/eth0");
    ah_write(dir, "sys/devices/virtual/net/lo/flags", "0x9\n");
    ah_symlink(dir, "sys/class/net/lo", "../../devices/virtual/net/lo");
}

HD_TEST(an_interface_up_with_routes)
{
    const char *msg;
    int r;

    nic_tree(root, "0x1003\n");
    ah_write(root, "proc/net/route",
             "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
             "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with routes");
    /* Down: free, whatever its routes. */
    nic_tree(root, "0x1002\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST

HD_TEST(link_local_addresses_do_not_count)
{
    const char *msg;
    int r;

    nic_tree(root, "0x1003\n");
    ah_write(root, "proc/net/route", "Iface\tDestination\tGateway\n");
    ah_write(root, "proc/net/if_inet6", "fe80000000000000021b21fffe3a4b5c 02 40 20 80     eth0\n"
                                        "00000000000000000000000000000001 01 80 10 80       lo\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
    ah_write(root, "proc/net/if_inet6", "20010db8000000000000000000000005 02 40 00 80     eth0\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with addresses");
}
END_TEST

/* A virtual interface (bridge, bond, VLAN) with @flags. */
static void vnet(const char *dir, const char *name, const char *flags)
{
    char rel[256], target[256];

    snprintf(rel, sizeof(rel), "sys/devices/virtual/net/%s/flags", name);
    ah_write(dir, rel, flags);
    snprintf(rel, sizeof(rel), "sys/class/net/%s", name);
    snprintf(target, sizeof(target), "../../devices/virtual/net/%s", name);
    ah_symlink(dir, rel, target);
}

/* A link in interface @ifname's directory, as the kernel makes them (master, upper_X, ...). */
static void net_link(const char *dir, const char *ifname, const char *link, const char *to)
{
    char rel[256], target[256];

    snprintf(rel, sizeof(rel), "sys/class/net/%s/%s", ifname, link);
    snprintf(target, sizeof(target), "../../../virtual/net/%s", to);
    ah_symlink(dir, rel, target);
}

static const char route_header[] =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

HD_TEST(a_bridge_port)
{
    const char *msg;
    int r;

    /* eth0 is up with no address of its own; br0 carries the host's address and route. */
    nic_tree(root, "0x1003\n");
    vnet(root, "br0", "0x1003\n");
    net_link(root, "eth0", "master", "br0");
    net_link(root, "eth0", "upper_br0", "br0");
    ah_symlink(root, "sys/devices/virtual/net/br0/brif/eth0", "../../eth0/brport");
    ah_write(root, "proc/net/route", route_header);
    ah_write(root, "proc/net/if_inet6", "fe80000000000000021b21fffe3a4b5c 02 40 20 80     eth0\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
    ah_write(root, "proc/net/route",
             "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
             "br0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is under br0, which is up with routes");
    /* A bridge that is down carries nothing. */
    ah_write(root, "sys/devices/virtual/net/br0/flags", "0x1002\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST

HD_TEST(a_bond_member_in_a_bridge)
{
    const char *msg;
    int r;

    /* eth0 -> bond0 (only bonding/slaves says so) -> br0 (bond0's upper link), which has a
     * global IPv6 address. */
    nic_tree(root, "0x1003\n");
    vnet(root, "bond0", "0x1003\n");
    ah_write(root, "sys/devices/virtual/net/bond0/bonding/slaves", "eth1 eth0\n");
    vnet(root, "br0", "0x1003\n");
    net_link(root, "bond0", "upper_br0", "br0");
    ah_write(root, "proc/net/if_inet6", "20010db8000000000000000000000005 04 40 00 80      br0\n");
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
    nic_tree(root, "0x1003\n");
    vnet(root, "eth0.100", "0x1003\n");
    ah_symlink(root, "sys/devices/virtual/net/eth0.100/lower_eth0",
               "../../../pci0000:00/0000:00:1c.0/" NIC "/net/eth0");
    ah_write(root, "proc/net/ipv6_route",
             "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
             "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0.100\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0); /* link-local routes do not count */
    ah_write(root, "proc/net/ipv6_route",
             "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
             "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0.100\n");
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
    nic_tree(root, "0x1003\n");
    ah_write(root, "proc/net/route", route_header);
    ah_write(root, "proc/net/hostdev-rtnl", "route 100 eth0 0.0.0.0/0\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with routes");
    /* An IPv4 address of its own counts as well; a link-local one does not. */
    ah_write(root, "proc/net/hostdev-rtnl", "addr eth0 169.254.3.4/16\n");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
    ah_write(root, "proc/net/hostdev-rtnl", "addr eth0 192.0.2.5/24\n");
    msg = check(root, NIC, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NIC ": eth0 is up with addresses");
}
END_TEST

#define SATA_DEVS "sys/devices/pci0000:00/" SATA "/ata1/host0/target0:0:0/0:0:0:0/block/"

/* Partition @n of sda (8:@n). */
static void partition(const char *dir, int n)
{
    char rel[256], target[256], val[32];

    snprintf(rel, sizeof(rel), SATA_DEVS "sda/sda%d/dev", n);
    snprintf(val, sizeof(val), "%d:%d\n", n < 16 ? 8 : 259, n);
    ah_write(dir, rel, val);
    snprintf(rel, sizeof(rel), "sys/class/block/sda%d", n);
    snprintf(target, sizeof(target), "../../devices/pci0000:00/" SATA
                                     "/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda%d", n);
    ah_symlink(dir, rel, target);
}

HD_TEST(more_than_64_block_devices)
{
    const char *msg;
    int r;

    /* 70 partitions: sda9 sorts last, beyond what a list of 64 held. */
    disk_tree(root);
    for (int i = 2; i <= 70; i++)
        partition(root, i);
    ah_write(root, "proc/self/mountinfo", "29 1 259:9 / /srv rw,relatime - xfs /dev/sda9 rw\n");
    msg = check(root, SATA, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, SATA " backs /dev/sda9 mounted on /srv");
}
END_TEST

/* A second disk, nvme0n1 with partition nvme0n1p1 (259:1), below another controller. */
#define NVME "0000:01:00.0"
#define NVME_DEVS "sys/devices/pci0000:00/0000:00:1d.0/" NVME "/nvme/nvme0/"

static void nvme_tree(const char *dir)
{
    ah_device(dir, NVME, 3, "nvme");
    ah_write(dir, NVME_DEVS "nvme0n1/dev", "259:0\n");
    ah_write(dir, NVME_DEVS "nvme0n1/nvme0n1p1/dev", "259:1\n");
    ah_symlink(dir, "sys/class/block/nvme0n1",
               "../../devices/pci0000:00/0000:00:1d.0/" NVME "/nvme/nvme0/nvme0n1");
    ah_symlink(dir, "sys/class/block/nvme0n1p1",
               "../../devices/pci0000:00/0000:00:1d.0/" NVME "/nvme/nvme0/nvme0n1/nvme0n1p1");
}

HD_TEST(the_second_member_of_a_btrfs_raid1)
{
    const char *msg;
    int r;

    /* mountinfo names sda1 (with an anonymous device number, as btrfs has); nvme0n1p1 is the
     * other half of the mirror, listed only in sys/fs/btrfs/UUID/devices. */
    disk_tree(root);
    nvme_tree(root);
    ah_write(root, "proc/self/mountinfo", "29 1 0:33 / / rw,relatime - btrfs /dev/sda1 rw\n");
    ah_symlink(root, "sys/fs/btrfs/0f5c2b1e-7d2a-4b8e-9a51-3c6d2e1f0a9b/devices/sda1",
               "../../../../devices/pci0000:00/" SATA
               "/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1");
    ah_symlink(root, "sys/fs/btrfs/0f5c2b1e-7d2a-4b8e-9a51-3c6d2e1f0a9b/devices/nvme0n1p1",
               "../../../../devices/pci0000:00/0000:00:1d.0/" NVME "/nvme/nvme0/nvme0n1/nvme0n1p1");
    ah_write(root, "sys/fs/btrfs/features/raid1c34", "0\n");
    msg = check(root, NVME, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NVME " backs /dev/nvme0n1p1, a device of the btrfs filesystem "
                          "mounted on /");
    msg = check(root, SATA, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, SATA " backs /dev/sda1 mounted on /");
}
END_TEST

HD_TEST(a_zfs_root_pool)
{
    const char *msg;
    int r;

    /* Proxmox: / is the dataset rpool/ROOT/pve-1; no device is named anywhere in mountinfo. */
    nvme_tree(root);
    ah_write(root, "proc/self/mountinfo",
             "29 1 0:25 / / rw,relatime shared:1 - zfs rpool/ROOT/pve-1 rw,xattr,noacl\n"
             "30 29 0:26 / /rpool rw,relatime shared:2 - zfs rpool rw,xattr,noacl\n");
    ah_write(root, "run/udev/data/b259:1", "S:disk/by-id/nvme-x-part1\nE:ID_FS_TYPE=zfs_member\n"
                                          "E:ID_FS_LABEL=rpool\nE:ID_FS_USAGE=filesystem\n");
    check(root, NVME, &r);
    ck_assert_int_eq(r, 0); /* the pool is not imported */
    ah_write(root, "proc/spl/kstat/zfs/rpool/state", "ONLINE\n");
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
    disk_tree(root);
    nvme_tree(root);
    ah_write(root, "sys/devices/virtual/block/md127/dev", "9:127\n");
    ah_symlink(root, "sys/class/block/md127", "../../devices/virtual/block/md127");
    ah_write(root, "sys/devices/virtual/block/dm-0/dev", "254:0\n");
    ah_write(root, "sys/devices/virtual/block/dm-0/dm/name", "vg-root\n");
    ah_symlink(root, "sys/class/block/dm-0", "../../devices/virtual/block/dm-0");
    ah_symlink(root, SATA_DEVS "sda/sda1/holders/md127", "../../../../../../../../../virtual/block/md127");
    ah_symlink(root, NVME_DEVS "nvme0n1/nvme0n1p1/holders/md127",
               "../../../../../../../virtual/block/md127");
    ah_symlink(root, "sys/devices/virtual/block/md127/holders/dm-0", "../../dm-0");
    ah_write(root, "proc/self/mountinfo", "29 1 254:0 / / rw - ext4 /dev/mapper/vg-root rw\n");
    msg = check(root, NVME, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, NVME " backs /dev/dm-0 mounted on /");
}
END_TEST

HD_TEST(the_console)
{
    const char *msg;
    int r;

    ah_device(root, GPU, 2, "i915");
    /* A display device: the kernel shows boot_vga for those only. */
    ah_write(root, "sys/bus/pci/devices/" GPU "/uevent",
             "DRIVER=i915\nPCI_CLASS=30000\nPCI_ID=8086:3E92\nPCI_SUBSYS_ID=8086:2212\n"
             "PCI_SLOT_NAME=" GPU "\nMODALIAS=pci:v00008086d00003E92sv00008086sd00002212bc03sc00i00\n");
    ah_write(root, "sys/bus/pci/devices/" GPU "/boot_vga", "1\n");
    ah_write(root, "sys/devices/pci0000:00/" GPU "/graphics/fb0/dev", "29:0\n");
    ah_symlink(root, "sys/class/graphics/fb0", "../../devices/pci0000:00/" GPU "/graphics/fb0");
    ah_write(root, "sys/devices/virtual/graphics/fbcon/dev", "");
    ah_symlink(root, "sys/class/graphics/fbcon", "../../devices/virtual/graphics/fbcon");
    msg = check(root, GPU, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, GPU " is the boot VGA device (the console); " GPU
                          " drives framebuffer fb0 (the console)");
}
END_TEST

HD_TEST(nothing_in_use)
{
    int r;

    ah_device(root, NIC, 5, "e1000e");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
}
END_TEST
