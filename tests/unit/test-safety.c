/* test-safety.c - host-safety checks over plain trees: mounted and swapped disks (also through
 * device-mapper), network interfaces up with routes or addresses, the console. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assign-helpers.h"
#include "suite.h"

#define SATA "0000:00:1f.2"
#define NIC "0000:03:00.0"
#define GPU "0000:00:02.0"

static const char *check(const char *root, const char *bdf, int *r)
{
    static char msg[1024];
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_pci_addr a = ah_addr(bdf);
    struct hd_device *dev;

    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), 0);
    *r = hd_device_check_host_use(dev);
    snprintf(msg, sizeof(msg), "%s", *r < 0 ? hd_ctx_last_error(ctx) : "");
    hd_device_unref(dev);
    hd_ctx_unref(ctx);
    return msg;
}

static void disk_tree(const char *root)
{
    ah_device(root, SATA, 1, "ahci");
    ah_write(root, "sys/devices/pci0000:00/" SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda/"
                   "sda1/dev", "8:1\n");
    ah_write(root, "sys/devices/pci0000:00/" SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda/"
                   "dev", "8:0\n");
    ah_symlink(root, "sys/class/block/sda",
               "../../devices/pci0000:00/" SATA "/ata1/host0/target0:0:0/0:0:0:0/block/sda");
    ah_symlink(root, "sys/class/block/sda1", "../../devices/pci0000:00/" SATA
                                             "/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1");
}

START_TEST(a_mounted_disk)
{
    char *root = ah_tree_new();
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
    ah_tree_remove(root);
    free(root);
}
END_TEST

START_TEST(proc_mounts_swap_and_device_mapper)
{
    char *root = ah_tree_new();
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
    ah_tree_remove(root);
    free(root);
}
END_TEST

static void nic_tree(const char *root, const char *flags)
{
    ah_device(root, NIC, 5, "e1000e");
    ah_write(root, "sys/devices/pci0000:00/0000:00:1c.0/" NIC "/net/eth0/flags", flags);
    ah_write(root, "sys/devices/pci0000:00/0000:00:1c.0/" NIC "/net/eth0/operstate", "down\n");
    ah_symlink(root, "sys/class/net/eth0", "../../devices/pci0000:00/0000:00:1c.0/" NIC
                                           "/net/eth0");
    ah_write(root, "sys/devices/virtual/net/lo/flags", "0x9\n");
    ah_symlink(root, "sys/class/net/lo", "../../devices/virtual/net/lo");
}

START_TEST(an_interface_up_with_routes)
{
    char *root = ah_tree_new();
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
    ah_tree_remove(root);
    free(root);
}
END_TEST

START_TEST(link_local_addresses_do_not_count)
{
    char *root = ah_tree_new();
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
    ah_tree_remove(root);
    free(root);
}
END_TEST

START_TEST(the_console)
{
    char *root = ah_tree_new();
    const char *msg;
    int r;

    ah_device(root, GPU, 2, "i915");
    ah_write(root, "sys/bus/pci/devices/" GPU "/boot_vga", "1\n");
    ah_write(root, "sys/devices/pci0000:00/" GPU "/graphics/fb0/dev", "29:0\n");
    ah_symlink(root, "sys/class/graphics/fb0", "../../devices/pci0000:00/" GPU "/graphics/fb0");
    ah_write(root, "sys/devices/virtual/graphics/fbcon/dev", "");
    ah_symlink(root, "sys/class/graphics/fbcon", "../../devices/virtual/graphics/fbcon");
    msg = check(root, GPU, &r);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_str_eq(msg, GPU " is the boot VGA device (the console); " GPU
                          " drives framebuffer fb0 (the console)");
    ah_tree_remove(root);
    free(root);
}
END_TEST

START_TEST(nothing_in_use)
{
    char *root = ah_tree_new();
    int r;

    ah_device(root, NIC, 5, "e1000e");
    check(root, NIC, &r);
    ck_assert_int_eq(r, 0);
    ah_tree_remove(root);
    free(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safety");
    TCase *tc = tcase_create("host use");

    tcase_add_test(tc, a_mounted_disk);
    tcase_add_test(tc, proc_mounts_swap_and_device_mapper);
    tcase_add_test(tc, an_interface_up_with_routes);
    tcase_add_test(tc, link_local_addresses_do_not_count);
    tcase_add_test(tc, the_console);
    tcase_add_test(tc, nothing_in_use);
    suite_add_tcase(s, tc);
    return suite_run(s);
}
