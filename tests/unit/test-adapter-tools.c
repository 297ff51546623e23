/* test-adapter-tools.c - hostdev hostdev-xml (against domain.rng), qemu-args (with libvirt
 * domain XML), and list --format vdsm (parsed) / --tree / --caps on a sample tree. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "hdtest.h"

static int hostdev(const char *args, char **out, char **err)
{
    char cmd[16384];

    snprintf(cmd, sizeof(cmd), "%s/hostdev --root '%s' --names '%s/usr/share/hwdata/pci.ids' %s",
             at_build_dir(), at_root, at_root, args);
    return at_run(cmd, out, err);
}

static char *tree_path(const char *name)
{
    char *p;

    ck_assert(asprintf(&p, "%s/%s", at_root, name) > 0);
    return p;
}

HD_TEST_FILE(.setup = at_sample_setup, .teardown = at_sample_teardown);

HD_TEST(hostdev_xml_validates_in_a_domain)
{
    char *out, *out2, *both;

    ck_assert_int_eq(hostdev("hostdev-xml 0000:06:12.5", &out, NULL), 0);
    ck_assert_str_eq(out, "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
                          "  <driver name='vfio'/>\n"
                          "  <source>\n"
                          "    <address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/>\n"
                          "  </source>\n"
                          "</hostdev>\n");
    ck_assert_int_eq(
        hostdev("hostdev-xml pci_0000_01_10_0 06:12.5 --managed no --driver none", &out2, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out2, "managed='no'>\n  <source>\n    <address domain='0x0000' "
                                       "bus='0x01' slot='0x10' function='0x0'/>"));
    ck_assert(asprintf(&both, "%s%s", out, out2) > 0);
    ck_assert(at_domain_validates(at_root, both));
    free(both);
    free(out);
    free(out2);
}
END_TEST

/* USB and SCSI devices by their node-device names (or USB by ids): libvirt's <hostdev>
 * (valid in a domain) and QEMU's usb-host / scsi-generic arguments. */
HD_TEST(usb_and_scsi_devices)
{
    char *out, *err, *ids;

    ck_assert_int_eq(hostdev("hostdev-xml usb_1_2 scsi_1_0_0_0", &out, NULL), 0);
    ck_assert_str_eq(out, "<hostdev mode='subsystem' type='usb' managed='yes'>\n"
                          "  <source>\n"
                          "    <vendor id='0x0627'/>\n"
                          "    <product id='0x0001'/>\n"
                          "  </source>\n"
                          "</hostdev>\n"
                          "<hostdev mode='subsystem' type='scsi' managed='yes'>\n"
                          "  <source>\n"
                          "    <adapter name='scsi_host1'/>\n"
                          "    <address bus='0' target='0' unit='0'/>\n"
                          "  </source>\n"
                          "</hostdev>\n");
    ck_assert(at_domain_validates(at_root, out));
    ck_assert_int_eq(hostdev("hostdev-xml usb:0627:0001", &ids, NULL), 0);
    ck_assert_str_eq(ids, "<hostdev mode='subsystem' type='usb' managed='yes'>\n  <source>\n"
                          "    <vendor id='0x0627'/>\n    <product id='0x0001'/>\n  </source>\n"
                          "</hostdev>\n");
    free(ids);
    free(out);
    ck_assert_int_eq(hostdev("qemu-args usb_1_2 scsi_1_0_0_0", &out, NULL), 0);
    ck_assert_str_eq(out, "-device usb-host,vendorid=0x0627,productid=0x0001,id=hostdev0\n"
                          "-blockdev driver=host_device,filename=/dev/sg1,node-name="
                          "hostdev1-backend\n"
                          "-device scsi-generic,drive=hostdev1-backend,id=hostdev1\n");
    free(out);
    /* Bad input: each named, exit 2. */
    ck_assert_int_eq(hostdev("qemu-args usb_9_9", NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "qemu-args: no USB device usb_9_9 under "));
    free(err);
    ck_assert_int_eq(hostdev("qemu-args scsi_host1", NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "qemu-args: 'scsi_host1' is not a node-device name"));
    free(err);
    ck_assert_int_eq(hostdev("qemu-args usb:06:zz", NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "qemu-args: 'usb:06:zz' is not usb:VVVV:PPPP[:SERIAL]"));
    free(err);
    ck_assert_int_eq(hostdev("qemu-args --cloud-hypervisor usb_1_2", NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "cloud-hypervisor passes through PCI and mediated"));
    free(err);
}
END_TEST

/* A root hub is the host's (QEMU's usb-host skips hubs; acquire refuses it): the generators
 * print its element or arguments, as for a PCI device off vfio-pci, with a warning naming it,
 * on stderr or, under --json, in the document; a device the host does not keep gets none. */
HD_TEST(generators_warn_of_a_device_the_host_keeps)
{
    static const char why[] = "usb_usb1 is a hub: the host keeps it";
    char *out, *err;

    ck_assert_int_eq(hostdev("qemu-args usb_usb1", &out, &err), 0);
    ck_assert_ptr_nonnull(strstr(out, "-device usb-host,"));
    ck_assert_ptr_nonnull(strstr(err, "qemu-args: warning: "));
    ck_assert_ptr_nonnull(strstr(err, why));
    free(out);
    free(err);
    ck_assert_int_eq(hostdev("hostdev-xml usb_usb1", &out, &err), 0);
    ck_assert_ptr_nonnull(strstr(out, "type='usb'"));
    ck_assert_ptr_nonnull(strstr(err, "hostdev-xml: warning: "));
    ck_assert_ptr_nonnull(strstr(err, why));
    free(out);
    free(err);
    ck_assert_int_eq(hostdev("--json qemu-args usb_usb1", &out, &err), 0);
    ck_assert_str_eq(err, "");
    ck_assert_ptr_nonnull(strstr(out, "\"warnings\": [\n    \"usb_usb1 is a hub: "));
    at_json_check(out, false);
    free(out);
    free(err);
    ck_assert_int_eq(hostdev("--json hostdev-xml usb_usb1", &out, &err), 0);
    ck_assert_str_eq(err, "");
    ck_assert_ptr_nonnull(strstr(out, "\"warning\": \"usb_usb1 is a hub: "));
    at_json_check(out, false);
    free(out);
    free(err);
    ck_assert_int_eq(hostdev("qemu-args usb_1_2 scsi_1_0_0_0", &out, &err), 0);
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
    ck_assert_int_eq(hostdev("hostdev-xml usb_1_2", &out, &err), 0);
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
}
END_TEST

HD_TEST(hostdev_xml_bad_input)
{
    char *err;

    ck_assert_int_eq(hostdev("hostdev-xml 06:12.5 --managed maybe", NULL, &err), 2);
    ck_assert_str_eq(err, "hostdev hostdev-xml: --managed 'maybe': yes or no\n");
    free(err);
    ck_assert_int_eq(hostdev("hostdev-xml 06:12.5 06:32.0", NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "invalid PCI address '06:32.0'"));
    free(err);
}
END_TEST

HD_TEST(qemu_args)
{
    char *out, *err;

    ck_assert_int_eq(hostdev("qemu-args 0000:06:12.5", &out, &err), 0);
    ck_assert_str_eq(out, "-device vfio-pci,host=0000:06:12.5,id=hostdev0\n");
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
    ck_assert_int_eq(hostdev("qemu-args 06:12.5 --cloud-hypervisor", &out, NULL), 0);
    ck_assert_str_eq(out, "--device path=/sys/bus/pci/devices/0000:06:12.5/\n");
    free(out);
    /* Not on vfio-pci: the arguments, and a warning that QEMU would fail. */
    ck_assert_int_eq(hostdev("qemu-args 06:12.5 00:19.0", &out, &err), 0);
    ck_assert_str_eq(out, "-device vfio-pci,host=0000:06:12.5,id=hostdev0\n"
                          "-device vfio-pci,host=0000:00:19.0,id=hostdev1\n");
    ck_assert_ptr_nonnull(strstr(err, "0000:00:19.0 is not on vfio-pci (it is e1000e)"));
    free(out);
    free(err);
    /* Under --json the warning is the document's: nothing on stderr. */
    ck_assert_int_eq(hostdev("--json qemu-args 06:12.5 00:19.0", &out, &err), 0);
    at_json_check(out, false);
    ck_assert_ptr_nonnull(strstr(out, "\"warnings\": [\n    \"0000:00:19.0 is not on vfio-pci (it "
                                      "is e1000e): run 'hostdev detach 0000:00:19.0'"));
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
    /* vfio-dev/vfio0 alone (6.1 has it, without the character device): no iommufd. */
    at_file(at_root, "sys/devices/pci0000:06/0000:06:12.5/vfio-dev/vfio0/uevent", "MAJOR=511\n");
    ck_assert_int_eq(hostdev("qemu-args 06:12.5", &out, NULL), 0);
    ck_assert_str_eq(out, "-device vfio-pci,host=0000:06:12.5,id=hostdev0\n");
    free(out);
    /* The kernel's VFIO device cdev: QEMU goes through iommufd. */
    at_file(at_root, "sys/devices/pci0000:06/0000:06:12.5/vfio-dev/vfio0/dev", "511:0\n");
    ck_assert_int_eq(hostdev("qemu-args 06:12.5", &out, NULL), 0);
    ck_assert_str_eq(out, "-object iommufd,id=iommufd0\n"
                          "-device vfio-pci,host=0000:06:12.5,id=hostdev0,iommufd=iommufd0\n");
    free(out);
    ck_assert_int_eq(hostdev("qemu-args 0000:42:00.0", NULL, &err), 2);
    free(err);
}
END_TEST

HD_TEST(qemu_args_from_domain_xml)
{
    char *out, *err, *path = tree_path("vm.xml"), args[4200];

    at_file(at_root, "vm.xml",
            "<domain type='kvm'>\n  <name>vm&amp;1</name>\n  <devices>\n"
            "    <hostdev mode='subsystem' type='usb'>\n      <source>\n"
            "        <vendor id='0x0627'/>\n        <product id='0x0001'/>\n      </source>\n"
            "    </hostdev>\n"
            "    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n"
            "        <address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/>\n"
            "      </source>\n    </hostdev>\n"
            "    <hostdev mode='subsystem' type='pci'>\n      <driver name='vfio'/>\n"
            "      <source>\n        <address bus='1' slot='16' function='0'/>\n"
            "      </source>\n    </hostdev>\n  </devices>\n</domain>\n");
    snprintf(args, sizeof(args), "qemu-args --domain-xml '%s'", path);
    ck_assert_int_eq(hostdev(args, &out, NULL), 0);
    ck_assert_str_eq(out, "-device usb-host,vendorid=0x0627,productid=0x0001,id=hostdev0\n"
                          "-device vfio-pci,host=0000:06:12.5,id=hostdev1\n"
                          "-device vfio-pci,host=0000:01:10.0,id=hostdev2\n");
    free(out);

    at_file(at_root, "vm.xml",
            "<domain><devices><hostdev mode='subsystem' type='pci'><source>"
            "<address bus='0x100' slot='0' function='0'/></source></hostdev>"
            "</devices></domain>");
    ck_assert_int_eq(hostdev(args, NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "line 1: <address> needs bus (0-0xff)"));
    free(err);
    at_file(at_root, "vm.xml", "<domain><devices><hostdev");
    ck_assert_int_eq(hostdev(args, NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "not a readable XML document"));
    free(err);
    at_file(at_root, "vm.xml", "<network/>");
    ck_assert_int_eq(hostdev(args, NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "the root element is not <domain>"));
    free(err);
    free(path);
}
END_TEST

/* The VDSM listing parsed as JSON by Python, as VDSM's consumers would read it. */
HD_TEST(vdsm_json)
{
    char *out, cmd[4096];
    static const char check[] =
        "import json,sys\n"
        "d=json.load(open(sys.argv[1]))\n"
        "p=d['pci_0000_00_1f_2']['params']\n"
        "print(p['capability'],p['vendor_id'],p['product_id'],p['vendor'],p['iommu_group'],"
        "p['numa_node'],p['driver'],p['parent'],p['is_assignable'],p['address'])\n"
        "print(d['pci_0000_00_1f_2']['vmId']=='')\n"
        "print(d['pci_0000_01_00_0']['params']['totalvfs'],"
        "d['pci_0000_01_10_0']['params']['physfn'],"
        "d['pci_0000_00_1c_0']['params']['is_assignable'])\n"
        "s=d['scsi_1_0_0_0']['params']\n"
        "print(s['address'],s['vendor'],s['product'],s['udev_path'])\n"
        "print(d['scsi_generic_sg1']['params']['udev_path'],"
        "d['usb_1_2']['params']['address'],d['usb_1_2']['params']['product'],"
        "d['net_eth0_52_54_00_12_34_56']['params']['interface'])\n"
        "print(sorted(d['scsi_host1']['params'].items()))\n";
    char *path = tree_path("vdsm.json"), *py = tree_path("check.py");

    at_file(at_root, "check.py", check);
    snprintf(cmd, sizeof(cmd), "list --format vdsm > '%s'", path);
    ck_assert_int_eq(hostdev(cmd, NULL, NULL), 0);
    snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", py, path);
    ck_assert_int_eq(at_run(cmd, &out, NULL), 0);
    ck_assert_str_eq(out, "pci 0x8086 0x3a22 Intel Corporation 11 0 ahci computer true "
                          "{'domain': '0', 'bus': '0', 'slot': '31', 'function': '2'}\n"
                          "True\n"
                          "7 pci_0000_01_00_0 false\n"
                          "{'host': '1', 'bus': '0', 'target': '0', 'lun': '0'} ATA QEMU HARDDISK "
                          "/dev/sg1\n"
                          "/dev/sg1 {'bus': '1', 'device': '2'} QEMU USB Tablet eth0\n"
                          "[('capability', 'scsi_host'), ('is_assignable', 'true'), "
                          "('parent', 'pci_0000_00_1f_2')]\n");
    free(out);
    free(path);
    free(py);
}
END_TEST

HD_TEST(vdsm_tree_and_caps)
{
    char *out;

    ck_assert_int_eq(hostdev("list --format vdsm --tree --caps pci,scsi_host,scsi_target,scsi,"
                             "scsi_generic",
                             &out, NULL),
                     0);
    /* The seed's chain, each level four columns further in. */
    ck_assert_ptr_nonnull(strstr(out, "\npci_0000_00_1f_2 = {'params': {'address': "));
    ck_assert_ptr_nonnull(strstr(out,
                                 "\n    scsi_host1 = {'params': {'capability': 'scsi_host',\n"
                                 "                             'is_assignable': 'true',\n"
                                 "                             'parent': 'pci_0000_00_1f_2'},\n"
                                 "                  'vmId': ''}\n"
                                 "        scsi_target1_0_0 = {'params': "));
    ck_assert_ptr_nonnull(strstr(out, "\n            scsi_1_0_0_0 = {'params': {"));
    ck_assert_ptr_nonnull(strstr(out, "\n                scsi_generic_sg1 = {'params': {"));
    ck_assert_ptr_null(strstr(out, "usb_"));
    ck_assert_ptr_null(strstr(out, "block_"));
    free(out);

    ck_assert_int_eq(hostdev("list --caps usb_device,usb", &out, NULL), 0);
    ck_assert_str_eq(out, "usb_1_0_1_0 usb parent=usb_usb1 driver=hub\n"
                          "usb_1_2 usb_device parent=usb_usb1 driver=usb\n"
                          "usb_1_2_1_0 usb parent=usb_1_2 driver=usbhid\n"
                          "usb_usb1 usb_device parent=pci_0000_00_1d_0 driver=usb\n");
    free(out);
    ck_assert_int_eq(hostdev("--json list --caps net", &out, NULL), 0);
    ck_assert_str_eq(out, "[\n  {\n    \"name\": \"net_eth0_52_54_00_12_34_56\",\n"
                          "    \"capability\": \"net\",\n"
                          "    \"parent\": \"pci_0000_00_19_0\",\n    \"driver\": null\n  },\n"
                          "  {\n    \"name\": \"net_lo_00_00_00_00_00_00\",\n"
                          "    \"capability\": \"net\",\n    \"parent\": \"computer\",\n"
                          "    \"driver\": null\n  }\n]\n");
    free(out);
    ck_assert_int_eq(hostdev("list --tree", NULL, NULL), 2);
    ck_assert_int_eq(hostdev("list --caps pcie", NULL, NULL), 2);
}
END_TEST
