/* test-virsh.c - hostdev-virsh: virsh's verbs, output formats, messages and exit codes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "hdtest.h"

/* Run hostdev-virsh ARGS on the sample tree. */
static int virsh(const char *args, char **out, char **err)
{
    char cmd[4096];

    snprintf(cmd, sizeof(cmd),
             "HOSTDEV_ROOT='%s' HOSTDEV_NAMES='%s/usr/share/hwdata/pci.ids' %s/hostdev-virsh %s",
             at_root, at_root, at_build_dir(), args);
    return at_run(cmd, out, err);
}

HD_TEST_FILE(.setup = at_sample_setup, .teardown = at_sample_teardown);

HD_TEST(list_plain_and_by_cap)
{
    char *out, *err;

    ck_assert_int_eq(virsh("nodedev-list --cap pci", &out, &err), 0);
    ck_assert_str_eq(out, "pci_0000_00_19_0\npci_0000_00_1b_0\npci_0000_00_1c_0\n"
                          "pci_0000_00_1d_0\npci_0000_00_1f_2\npci_0000_01_00_0\n"
                          "pci_0000_01_10_0\npci_0000_06_12_5\n\n");
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
    ck_assert_int_eq(virsh("nodedev-list --cap=scsi_generic,storage", &out, NULL), 0);
    ck_assert_str_eq(out, "block_sda_QM00001\nscsi_generic_sg1\n\n");
    free(out);
    ck_assert_int_eq(virsh("nodedev-list", &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "computer\nnet_eth0_52_54_00_12_34_56\n"));
    free(out);
    /* Every device in sysfs is active: --inactive lists none, --all the same as plain. */
    ck_assert_int_eq(virsh("nodedev-list --inactive", &out, NULL), 0);
    ck_assert_str_eq(out, "\n");
    free(out);
    ck_assert_int_eq(virsh("nodedev-list --all --cap usb_device", &out, NULL), 0);
    ck_assert_str_eq(out, "usb_1_2\nusb_usb1\n\n");
    free(out);
    /* libvirt calls the host itself persistent and autostarted. */
    ck_assert_int_eq(virsh("nodedev-info computer", &out, NULL), 0);
    ck_assert_str_eq(out, "Name:           computer\nParent:         \nActive:         yes\n"
                          "Persistent:     yes\nAutostart:      yes\n\n");
    free(out);
}
END_TEST

HD_TEST(list_tree_as_virsh_draws_it)
{
    char *out;

    ck_assert_int_eq(virsh("nodedev-list --tree", &out, NULL), 0);
    ck_assert_str_eq(out, "computer\n"
                          "  |\n"
                          "  +- net_lo_00_00_00_00_00_00\n"
                          "  +- pci_0000_00_19_0\n"
                          "  |   |\n"
                          "  |   +- net_eth0_52_54_00_12_34_56\n"
                          "  |     \n"
                          "  +- pci_0000_00_1b_0\n"
                          "  +- pci_0000_00_1c_0\n"
                          "  |   |\n"
                          "  |   +- pci_0000_01_00_0\n"
                          "  |   +- pci_0000_01_10_0\n"
                          "  |     \n"
                          "  +- pci_0000_00_1d_0\n"
                          "  |   |\n"
                          "  |   +- usb_usb1\n"
                          "  |       |\n"
                          "  |       +- usb_1_0_1_0\n"
                          "  |       +- usb_1_2\n"
                          "  |           |\n"
                          "  |           +- usb_1_2_1_0\n"
                          "  |             \n"
                          "  +- pci_0000_00_1f_2\n"
                          "  |   |\n"
                          "  |   +- scsi_host1\n"
                          "  |       |\n"
                          "  |       +- scsi_target1_0_0\n"
                          "  |           |\n"
                          "  |           +- scsi_1_0_0_0\n"
                          "  |               |\n"
                          "  |               +- block_sda_QM00001\n"
                          "  |               +- scsi_generic_sg1\n"
                          "  |                 \n"
                          "  +- pci_0000_06_12_5\n"
                          "    \n"
                          "\n");
    free(out);
}
END_TEST

HD_TEST(list_usage_errors)
{
    char *err;

    ck_assert_int_eq(virsh("nodedev-list --tree --cap pci", NULL, &err), 1);
    ck_assert_str_eq(err, "error: Option --tree is incompatible with --cap and --inactive\n");
    free(err);
    ck_assert_int_eq(virsh("nodedev-list --all --inactive", NULL, &err), 1);
    ck_assert_str_eq(err, "error: Option --all is incompatible with --inactive\n");
    free(err);
    ck_assert_int_eq(virsh("nodedev-list --cap pcie", NULL, &err), 1);
    ck_assert_str_eq(err, "error: Invalid capability type\n");
    free(err);
    ck_assert_int_eq(virsh("nodedev-list --bogus", NULL, &err), 1);
    ck_assert_str_eq(err, "error: command 'nodedev-list' doesn't support option --bogus\n");
    free(err);
    ck_assert_int_eq(virsh("nodedev-fly", NULL, &err), 1);
    ck_assert_str_eq(err, "error: unknown command: 'nodedev-fly'\n");
    free(err);
    ck_assert_int_eq(virsh("nodedev-dumpxml", NULL, &err), 1);
    ck_assert_str_eq(err, "error: command 'nodedev-dumpxml' requires <device> option\n");
    free(err);
}
END_TEST

/* nodedev-dumpxml --xpath [--wrap], as virsh 9 has it. */
HD_TEST(dumpxml_xpath)
{
    char *out, *err;

    ck_assert_int_eq(virsh("nodedev-dumpxml pci_0000_00_19_0 --xpath //driver/name", &out, NULL),
                     0);
    ck_assert_str_eq(out, "<name>e1000e</name>\n\n");
    free(out);
    ck_assert_int_eq(virsh("nodedev-dumpxml pci_0000_00_19_0 --xpath //capability/bus --wrap",
                           &out, NULL),
                     0);
    ck_assert_str_eq(out, "<nodes>\n<bus>0</bus>\n</nodes>\n\n");
    free(out);
    ck_assert_int_eq(virsh("nodedev-dumpxml pci_0000_00_19_0 --xpath 'string(//driver/name)'",
                           &out, NULL),
                     0);
    ck_assert_str_eq(out, "e1000e\n\n");
    free(out);
    ck_assert_int_eq(virsh("nodedev-dumpxml pci_0000_00_19_0 --xpath '//['", NULL, &err), 1);
    ck_assert_str_eq(err, "error: XPath '//[': not a valid expression\n"); /* one line */
    free(err);
}
END_TEST

/* Help per command, as virsh gives it, and several commands in one run. */
HD_TEST(command_help_and_several_commands)
{
    char *out, *err;

    ck_assert_int_eq(virsh("help nodedev-detach", &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "  NAME\n    nodedev-detach - detach node device from its "
                                      "device driver\n"));
    ck_assert_ptr_nonnull(strstr(out, "  SYNOPSIS\n    nodedev-detach <device> "
                                      "[--driver <string>]\n"));
    ck_assert_ptr_nonnull(strstr(out, "    --driver <string>     pci device assignment backend"));
    free(out);
    /* CMD --help: the same, and the command does not run. */
    ck_assert_int_eq(virsh("nodedev-reset --help pci_0000_06_12_5", &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "nodedev-reset - reset node device"));
    ck_assert_ptr_null(strstr(out, "Device pci_0000_06_12_5 reset"));
    free(out);
    ck_assert_int_eq(virsh("help nodedev-fly", NULL, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "command or command group 'nodedev-fly' doesn't exist"));
    free(err);
    /* A command string with ';', and ';' as a word: each runs, in order. */
    ck_assert_int_eq(virsh("'nodedev-info pci_0000_00_19_0; nodedev-list --cap usb_device'", &out,
                           NULL),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "Name:           pci_0000_00_19_0\n"));
    ck_assert_ptr_nonnull(strstr(out, "usb_1_2\n"));
    ck_assert(strstr(out, "pci_0000_00_19_0") < strstr(out, "usb_1_2"));
    free(out);
    ck_assert_int_eq(virsh("nodedev-info pci_0000_00_19_0 ';' nodedev-info pci_0000_00_1f_2",
                           &out, NULL),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "Name:           pci_0000_00_1f_2\n"));
    free(out);
    /* A failed command ends the string, exit 1. */
    ck_assert_int_eq(virsh("'nodedev-info nope; nodedev-list'", &out, &err), 1);
    ck_assert_ptr_null(strstr(out, "usb_1_2"));
    free(out);
    free(err);
}
END_TEST

HD_TEST(dumpxml_and_info)
{
    char *out, *err, config[4096];

    ck_assert_int_eq(virsh("nodedev-dumpxml pci_0000_00_19_0", &out, &err), 0);
    ck_assert_ptr_nonnull(strstr(out, "<device>\n  <name>pci_0000_00_19_0</name>\n"));
    /* virsh 9 prints the document as the API returns it, then the command's empty line */
    ck_assert_int_eq(strcmp(out + strlen(out) - 11, "</device>\n\n"), 0);
    free(out);
    free(err);
    /* Config space cut short (an unprivileged read gets 64 bytes): no pci-express guessed. */
    snprintf(config, sizeof(config), "%s/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/config",
             at_root);
    ck_assert_int_eq(truncate(config, 64), 0);
    ck_assert_int_eq(virsh("nodedev-dumpxml pci_0000_01_00_0", &out, NULL), 0);
    ck_assert_msg(strstr(out, "<class>0x020000</class>") && !strstr(out, "<pci-express"), "%s",
                  out);
    free(out);
    ck_assert_int_eq(virsh("nodedev-dumpxml --device scsi_host1", &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "<parent>pci_0000_00_1f_2</parent>"));
    free(out);
    ck_assert_int_eq(virsh("nodedev-info usb_1_2", &out, NULL), 0);
    ck_assert_str_eq(out, "Name:           usb_1_2\n"
                          "Parent:         usb_usb1\n"
                          "Active:         yes\n"
                          "Persistent:     no\n"
                          "Autostart:      no\n\n");
    free(out);
    ck_assert_int_eq(virsh("nodedev-dumpxml pci_0000_99_00_0", &out, &err), 1);
    ck_assert_str_eq(out, "\n"); /* virsh ends even a failed command with it */
    ck_assert_str_eq(err, "error: Could not find matching device 'pci_0000_99_00_0'\n"
                          "error: Node device not found: no node device with matching name "
                          "'pci_0000_99_00_0'\n");
    free(out);
    free(err);
}
END_TEST

HD_TEST(detach_reattach_reset_errors)
{
    char *out, *err;

    /* Not PCI: libvirt's own refusal. */
    ck_assert_int_eq(virsh("nodedev-detach usb_1_2", &out, &err), 1);
    ck_assert_str_eq(err, "error: Failed to detach device usb_1_2\n"
                          "error: invalid argument: device usb_1_2 is not a PCI device\n");
    free(out);
    free(err);
    ck_assert_int_eq(virsh("nodedev-detach pci_0000_00_19_0 --driver kvm", NULL, &err), 1);
    ck_assert_str_eq(err, "error: Failed to detach device pci_0000_00_19_0\n"
                          "error: invalid argument: unknown driver name 'kvm'\n");
    free(err);
    ck_assert_int_eq(virsh("nodedev-reattach nope", NULL, &err), 1);
    ck_assert_str_eq(err, "error: Could not find matching device 'nope'\n"
                          "error: Node device not found: no node device with matching name "
                          "'nope'\n");
    free(err);
    /* A bridge is not assignable: the engine refuses before writing anything. */
    ck_assert_int_eq(virsh("nodedev-detach pci_0000_00_1c_0", NULL, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "error: Failed to detach device pci_0000_00_1c_0\n"
                                      "error: operation failed: 0000:00:1c.0 is a bridge"));
    free(err);
}
END_TEST

HD_TEST(detach_and_reset_on_vfio_device)
{
    char *out, *err;

    /* 0000:06:12.5 is on vfio-pci already: detach is done without a write, as in libvirt. */
    ck_assert_int_eq(virsh("nodedev-detach pci_0000_06_12_5", &out, &err), 0);
    ck_assert_str_eq(out, "Device pci_0000_06_12_5 detached\n\n");
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
    ck_assert_int_eq(virsh("nodedev-dettach pci_0000_06_12_5 --driver vfio", &out, NULL), 0);
    ck_assert_str_eq(out, "Device pci_0000_06_12_5 detached\n\n");
    free(out);
    ck_assert_int_eq(virsh("-q nodedev-detach pci_0000_06_12_5", &out, NULL), 0);
    ck_assert_str_eq(out, "");
    free(out);
    ck_assert_int_eq(virsh("nodedev-reset pci_0000_06_12_5", &out, NULL), 0);
    ck_assert_str_eq(out, "Device pci_0000_06_12_5 reset\n\n");
    free(out);
    /* Still on its host driver: refused before anything is written. */
    ck_assert_int_eq(virsh("nodedev-reset pci_0000_00_1f_2", NULL, &err), 1);
    ck_assert_msg(strstr(err, "error: Failed to reset device pci_0000_00_1f_2\n"
                              "error: Requested operation is not valid: 0000:00:1f.2 is "
                              "in use by its host driver ahci: detach it first") != NULL,
                  "%s", err);
    free(err);
    /* No reset attribute: the kernel offers no method. */
    {
        char path[4096];
        snprintf(path, sizeof(path), "%s/sys/devices/pci0000:06/0000:06:12.5/reset", at_root);
        ck_assert_int_eq(unlink(path), 0);
    }
    ck_assert_int_eq(virsh("nodedev-reset pci_0000_06_12_5", NULL, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "error: Failed to reset device pci_0000_06_12_5\n"
                                      "error: operation failed: 0000:06:12.5 cannot be reset"));
    free(err);
}
END_TEST

/* The libvirt path runs the engine the hostdev tools run, host-use guard included: eth0
 * (0000:00:19.0) carries the default route. */
HD_TEST(detach_and_reset_refuse_a_device_the_host_uses)
{
    char *err, path[4096], *log = NULL;

    at_file(at_root, "proc/net/route",
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
            "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
    ck_assert_int_eq(virsh("nodedev-detach pci_0000_00_19_0", NULL, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "error: Failed to detach device pci_0000_00_19_0\n"
                                      "error: Requested operation is not valid: 0000:00:19.0: "
                                      "eth0 is up with routes"));
    free(err);
    /* A reset is refused under any live host driver (stricter than the route). */
    ck_assert_int_eq(virsh("nodedev-reset pci_0000_00_19_0", NULL, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "in use by its host driver e1000e"));
    free(err);
    /* Nothing was written: still on its driver. */
    snprintf(path, sizeof(path), "readlink '%s/sys/bus/pci/devices/0000:00:19.0/driver'", at_root);
    ck_assert_int_eq(at_run(path, &log, NULL), 0);
    ck_assert_ptr_nonnull(strstr(log, "/e1000e\n"));
    free(log);
}
END_TEST

/* -r: virConnectOpenReadOnly; reads work, every write is libvirt's "operation forbidden". */
HD_TEST(readonly_connection_refuses_every_write)
{
    char *out, *err;

    ck_assert_int_eq(virsh("-r nodedev-list --cap usb_device", &out, NULL), 0);
    ck_assert_str_eq(out, "usb_1_2\nusb_usb1\n\n");
    free(out);
    ck_assert_int_eq(virsh("-r nodedev-detach pci_0000_06_12_5", NULL, &err), 1);
    ck_assert_str_eq(err, "error: Failed to detach device pci_0000_06_12_5\n"
                          "error: operation forbidden: read only access prevents "
                          "virNodeDeviceDetachFlags\n");
    free(err);
    ck_assert_int_eq(virsh("-r nodedev-reattach pci_0000_06_12_5", NULL, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "error: operation forbidden: read only access prevents "
                                      "virNodeDeviceReAttach\n"));
    free(err);
    ck_assert_int_eq(virsh("--readonly nodedev-reset pci_0000_06_12_5", NULL, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "error: operation forbidden: read only access prevents "
                                      "virNodeDeviceReset\n"));
    free(err);
    /* Without -r the same reset works. */
    ck_assert_int_eq(virsh("nodedev-reset pci_0000_06_12_5", &out, NULL), 0);
    free(out);
}
END_TEST

HD_TEST(connect_uri_names_the_root)
{
    char cmd[4096], *out;

    snprintf(cmd, sizeof(cmd),
             "HOSTDEV_ROOT=/nonexistent %s/hostdev-virsh -c hostdev://%s "
             "nodedev-list --cap usb_device",
             at_build_dir(), at_root);
    ck_assert_int_eq(at_run(cmd, &out, NULL), 0);
    ck_assert_str_eq(out, "usb_1_2\nusb_usb1\n\n");
    free(out);
    snprintf(cmd, sizeof(cmd), "%s/hostdev-virsh -c hostdev:///nonexistent nodedev-list",
             at_build_dir());
    ck_assert_int_eq(at_run(cmd, &out, NULL), 1);
    free(out);
    /* A typo or a remote URI is refused, naming it, rather than read as this host. */
    static const char *const bad[] = {"hostdev://tmp/x", "hostdev:/tmp", "qemu+ssh://far/system",
                                      "hostdev:///x?socket=/y", "xen:///", "garbage"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *err = NULL;
        snprintf(cmd, sizeof(cmd), "%s/hostdev-virsh -c '%s' nodedev-list", at_build_dir(),
                 bad[i]);
        ck_assert_int_eq(at_run(cmd, &out, &err), 1);
        ck_assert_msg(strstr(err, "URI '") != NULL && strstr(err, bad[i]) != NULL, "%s: %s",
                      bad[i], err);
        ck_assert_ptr_null(strstr(out, "usb")); /* nothing listed */
        free(out);
        free(err);
    }
    /* libvirt's local URIs mean this host (here: $HOSTDEV_ROOT). */
    snprintf(cmd, sizeof(cmd), "HOSTDEV_ROOT=%s %s/hostdev-virsh -c qemu:///system "
             "nodedev-list --cap usb_device", at_root, at_build_dir());
    ck_assert_int_eq(at_run(cmd, &out, NULL), 0);
    ck_assert_str_eq(out, "usb_1_2\nusb_usb1\n\n");
    free(out);
}
END_TEST
