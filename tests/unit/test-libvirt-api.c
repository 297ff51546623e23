/* test-libvirt-api.c - libhostdev-virt as libvirt programs see it: the libvirt manual's
 * passthrough example and a client, built with `pkg-config libvirt` and run on a tree. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "hdtest.h"

/* A sanitized library needs a sanitized program (the ASan runtime must load first). */
#if defined(__SANITIZE_ADDRESS__)
#define PROGRAM_SAN "-fsanitize=address,undefined"
#else
#define PROGRAM_SAN ""
#endif

/* Build tests/adapters/@src the way a libvirt user would, with hostdev's libvirt.pc first on
 * PKG_CONFIG_PATH; the binary lands in the tree's directory. */
static void build(const char *src, const char *bin)
{
    char cmd[4096], *err;

    snprintf(cmd, sizeof(cmd),
             "PKG_CONFIG_PATH='%s/uninstalled' cc -std=c99 -Wall -Wextra -Werror %s -o '%s/%s' "
             "'%s/tests/adapters/%s' $(PKG_CONFIG_PATH='%s/uninstalled' pkg-config --cflags "
             "--libs libvirt)",
             at_build_dir(), PROGRAM_SAN, at_root, bin, at_src_dir(), src, at_build_dir());
    ck_assert_msg(at_run(cmd, NULL, &err) == 0, "%s failed:\n%s", cmd, err);
    free(err);
}

static int run(const char *bin, const char *args, char **out, char **err)
{
    char cmd[4096];

    snprintf(cmd, sizeof(cmd),
             "LD_LIBRARY_PATH='%s' HOSTDEV_ROOT='%s' HOSTDEV_NAMES='%s/usr/share/hwdata/pci.ids' "
             "'%s/%s' %s",
             at_build_dir(), at_root, at_root, at_root, bin, args);
    return at_run(cmd, out, err);
}

HD_TEST_FILE(.setup = at_sample_setup, .teardown = at_sample_teardown, .timeout = 120);

HD_TEST(pkg_config_names_libvirt)
{
    char cmd[1024], *out;

    snprintf(cmd, sizeof(cmd), "PKG_CONFIG_PATH='%s/uninstalled' pkg-config --libs libvirt",
             at_build_dir());
    ck_assert_int_eq(at_run(cmd, &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "-lhostdev-virt"));
    free(out);
}
END_TEST

HD_TEST(manual_example_compiles_unchanged_and_runs)
{
    char *out, *err;

    build("libvirt-manual-example.c", "example");
    /* On vfio-pci with a reset method: detach is a no-op, reset works. */
    ck_assert_int_eq(run("example", "pci_0000_06_12_5", &out, &err), 0);
    ck_assert_str_eq(err, "Device is suitable for passthrough to a guest\n");
    free(out);
    free(err);
    /* A bridge cannot be detached. libvirt's default error handler speaks first. */
    ck_assert_int_eq(run("example", "pci_0000_00_1c_0", NULL, &err), 0);
    ck_assert_msg(strncmp(err,
                          "libvirt: Node Device Driver error : operation failed: "
                          "0000:00:1c.0 is a bridge",
                          77) == 0,
                  "%s", err);
    ck_assert_ptr_nonnull(strstr(err, "\nDevice cannot be dettached from the host OS drivers\n"));
    free(err);
    /* No reset method left: the manual's "co-assign" verdict. */
    {
        char path[4096];
        snprintf(path, sizeof(path), "%s/sys/devices/pci0000:06/0000:06:12.5/reset", at_root);
        ck_assert_int_eq(unlink(path), 0);
    }
    ck_assert_int_eq(run("example", "pci_0000_06_12_5", NULL, &err), 0);
    ck_assert_ptr_nonnull(strstr(err, "libvirt: Node Device Driver error : operation failed: "
                                      "0000:06:12.5 cannot be reset"));
    ck_assert_ptr_nonnull(
        strstr(err, "\nDevice cannot be safely reset without affecting other devices\n"));
    free(err);
    ck_assert_int_eq(run("example", "pci_0000_42_00_0", NULL, &err), 1);
    ck_assert_str_eq(err, "libvirt: Node Device Driver error : Node device not found: no node "
                          "device with matching name 'pci_0000_42_00_0'\n"
                          "Node device not found: no node device with matching name "
                          "'pci_0000_42_00_0'\n");
    free(err);
}
END_TEST

HD_TEST(client_sees_libvirt_semantics)
{
    char *out;

    build("libvirt-api-client.c", "client");
    ck_assert_int_eq(run("client", "", &out, NULL), 0);
    ck_assert_str_eq(out,
                     "num(all)=20 num(pci)=8 num(usb)=2 num(bogus)=0\n"
                     "list(scsi_host)=1 scsi_host1\n"
                     "all(scsi|net)=3 net_eth0_52_54_00_12_34_56<pci_0000_00_19_0 "
                     "net_lo_00_00_00_00_00_00<computer scsi_1_0_0_0<scsi_target1_0_0 last=NULL\n"
                     "all(vdpa only)=0\n"
                     "caps=2 pci phys_function\n"
                     "xml starts: <device>\n  <name>pci_0000_01_10_0</name>\n"
                     "free=0 free=0\n"
                     "after success: no error\n"
                     "computer parent=NULL\n"
                     "computer parent: no error\n"
                     "detach computer=-1\n"
                     "detach computer: code=8 domain=22 level=2 message=invalid argument: "
                     "device computer is not a PCI device\n"
                     "lookup=NULL\n"
                     "lookup: code=53 domain=22 level=2 message=Node device not found: no node "
                     "device with matching name 'usb_9_9'\n"
                     "message=Node device not found: no node device with matching name "
                     "'usb_9_9'\n"
                     "reset: no error\n"
                     "message=no error\n"
                     "name(NULL)=NULL\n"
                     "name(NULL): code=52 domain=22 level=2 message=invalid node device pointer "
                     "in virNodeDeviceGetName\n"
                     "close=0\n");
    free(out);
}
END_TEST
