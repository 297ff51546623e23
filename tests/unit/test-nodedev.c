/* test-nodedev.c - node devices: libvirt's names, parents, caps filter, and XML that passes
 * libvirt's own nodedev.rng for every device, hostile names included. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "adapters-tree.h"
#include "fixture.h"
#include "hdtest.h"

#define NODEDEV_RNG "/usr/share/libvirt/schemas/nodedev.rng"

static struct hd_ctx *ctx;

static void setup(void)
{
    char names[4096];

    at_sample_setup();
    ck_assert_int_eq(hd_ctx_new(at_root, &ctx), 0);
    snprintf(names, sizeof(names), "%s/usr/share/hwdata/pci.ids", at_root);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, names), 0);
}

static void teardown(void)
{
    hd_ctx_unref(ctx);
    at_sample_teardown();
}

/* xmllint's verdict on @xml against @schema (NULL: well-formedness only). */
static int xmllint(const char *xml, const char *schema)
{
    char path[] = "/tmp/hostdev-nodedev-XXXXXX", cmd[512];
    FILE *f;
    int fd = mkstemp(path), rc;

    ck_assert(fd >= 0);
    f = fdopen(fd, "w");
    fputs(xml, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "xmllint --noout %s%s '%s'", schema ? "--relaxng " : "",
             schema ? schema : "", path);
    rc = at_run(cmd, NULL, NULL);
    unlink(path);
    return rc;
}

HD_TEST_FILE(.setup = setup, .teardown = teardown);

HD_TEST(names_and_parents)
{
    static const char *const expect[][2] = {
        {"block_sda_QM00001", "scsi_1_0_0_0"},
        {"computer", NULL},
        {"net_eth0_52_54_00_12_34_56", "pci_0000_00_19_0"},
        {"net_lo_00_00_00_00_00_00", "computer"},
        {"pci_0000_00_19_0", "computer"},
        {"pci_0000_00_1b_0", "computer"},
        {"pci_0000_00_1c_0", "computer"},
        {"pci_0000_00_1d_0", "computer"},
        {"pci_0000_00_1f_2", "computer"},
        {"pci_0000_01_00_0", "pci_0000_00_1c_0"},
        {"pci_0000_01_10_0", "pci_0000_00_1c_0"},
        {"pci_0000_06_12_5", "computer"},
        {"scsi_1_0_0_0", "scsi_target1_0_0"},
        {"scsi_generic_sg1", "scsi_1_0_0_0"},
        {"scsi_host1", "pci_0000_00_1f_2"},
        {"scsi_target1_0_0", "scsi_host1"},
        {"usb_1_0_1_0", "usb_usb1"},
        {"usb_1_2", "usb_usb1"},
        {"usb_1_2_1_0", "usb_1_2"},
        {"usb_usb1", "pci_0000_00_1d_0"},
    };
    struct hd_nodedev_list *list;

    ck_assert_int_eq(hd_nodedev_list_new(ctx, 0, &list), 0);
    ck_assert_uint_eq(hd_nodedev_list_count(list), sizeof(expect) / sizeof(expect[0]));
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        struct hd_nodedev *d = hd_nodedev_list_get(list, i);
        const char *parent = hd_nodedev_get_parent(d);
        ck_assert_str_eq(hd_nodedev_get_name(d), expect[i][0]);
        if (expect[i][1] == NULL)
            ck_assert_ptr_null(parent);
        else
            ck_assert_str_eq(parent, expect[i][1]);
        /* What a uevent's DEVPATH names is the listing's name for it (reserve --uevent). */
        if (hd_nodedev_get_cap(d) == HD_CAP_USB_DEVICE) {
            char name[64];
            ck_assert_int_eq(hd_nodedev_name_of("usb", strrchr(hd_nodedev_get_sysfs_path(d),
                                                               '/') + 1, name, sizeof(name)), 0);
            ck_assert_str_eq(name, hd_nodedev_get_name(d));
        }
    }
    hd_nodedev_list_unref(list);
    char name[10];
    ck_assert_int_eq(hd_nodedev_name_of("usb", "1-2.3", name, sizeof(name)), 0);
    ck_assert_str_eq(name, "usb_1_2_3");
    ck_assert_int_eq(hd_nodedev_name_of("usb", "1-2.3.4", name, sizeof(name)), -ENAMETOOLONG);
}
END_TEST

HD_TEST(caps_filter)
{
    struct hd_nodedev_list *list;

    ck_assert_int_eq(hd_nodedev_list_new(ctx, 1u << HD_CAP_PCI | 1u << HD_CAP_USB_DEVICE, &list),
                     0);
    ck_assert_uint_eq(hd_nodedev_list_count(list), 10);
    for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
        enum hd_nodedev_cap c = hd_nodedev_get_cap(hd_nodedev_list_get(list, i));
        ck_assert(c == HD_CAP_PCI || c == HD_CAP_USB_DEVICE);
    }
    hd_nodedev_list_unref(list);
    ck_assert_int_eq(hd_nodedev_cap_from_string("scsi_generic"), HD_CAP_SCSI_GENERIC);
    ck_assert_int_eq(hd_nodedev_cap_from_string("usb"), HD_CAP_USB_INTERFACE);
    ck_assert_int_eq(hd_nodedev_cap_from_string("nope"), -EINVAL);
}
END_TEST

/* Each device of @part as @whole has it: name, capability, parent, driver. */
static void assert_part_of(const struct hd_nodedev_list *whole, const struct hd_nodedev_list *part,
                           unsigned int caps)
{
    size_t n = 0;

    for (size_t i = 0; i < hd_nodedev_list_count(whole); i++) {
        struct hd_nodedev *w = hd_nodedev_list_get(whole, i), *p;
        bool types = false;
        for (size_t k = 0; k < hd_nodedev_get_cap_count(w); k++)
            types = types || strcmp(hd_nodedev_get_cap_name(w, k), "mdev_types") == 0;
        if (!(caps & 1u << hd_nodedev_get_cap(w)) && !(types && (caps & 1u << HD_CAP_MDEV_TYPES)))
            continue;
        p = hd_nodedev_list_get(part, n++);
        ck_assert_msg(p != NULL, "caps %#x: %s missing", caps, hd_nodedev_get_name(w));
        ck_assert_str_eq(hd_nodedev_get_name(p), hd_nodedev_get_name(w));
        ck_assert_int_eq(hd_nodedev_get_cap(p), hd_nodedev_get_cap(w));
        ck_assert_msg(!hd_nodedev_get_parent(w) == !hd_nodedev_get_parent(p) &&
                          (!hd_nodedev_get_parent(w) ||
                           strcmp(hd_nodedev_get_parent(w), hd_nodedev_get_parent(p)) == 0),
                      "caps %#x: %s: parent %s, not %s", caps, hd_nodedev_get_name(w),
                      hd_nodedev_get_parent(p), hd_nodedev_get_parent(w));
        ck_assert_msg(!hd_nodedev_get_driver(w) == !hd_nodedev_get_driver(p), "%s",
                      hd_nodedev_get_name(w));
    }
    ck_assert_uint_eq(hd_nodedev_list_count(part), n);
}

/* Every capability alone, and a few together, against the whole listing of @c. */
static void assert_masks_agree(struct hd_ctx *c)
{
    static const unsigned int pairs[] = {
        1u << HD_CAP_USB_DEVICE | 1u << HD_CAP_NET, 1u << HD_CAP_SCSI | 1u << HD_CAP_STORAGE,
        1u << HD_CAP_PCI | 1u << HD_CAP_USB_INTERFACE, 1u << HD_CAP_MDEV_TYPES | 1u << HD_CAP_MDEV,
        1u << HD_CAP_SYSTEM | 1u << HD_CAP_SCSI_GENERIC};
    struct hd_nodedev_list *whole, *part;

    ck_assert_int_eq(hd_nodedev_list_new(c, 0, &whole), 0);
    for (unsigned int i = 0; i < HD_CAP_LAST + sizeof(pairs) / sizeof(pairs[0]); i++) {
        unsigned int caps = i < HD_CAP_LAST ? 1u << i : pairs[i - HD_CAP_LAST];
        ck_assert_int_eq(hd_nodedev_list_new(c, caps, &part), 0);
        assert_part_of(whole, part, caps);
        hd_nodedev_list_unref(part);
    }
    hd_nodedev_list_unref(whole);
}

static void count_warnings(void *data, int priority, const char *file, int line, const char *fn,
                           const char *format, va_list args)
{
    (void)file, (void)line, (void)fn, (void)format, (void)args;
    *(int *)data += priority == HD_LOG_WARNING;
}

/* A listing of some capabilities reads only their families, and asks the others about its
 * devices' parents alone: what it says is what the whole listing says of those devices, also
 * of a parent that cannot be read (the whole listing leaves it out); a PCI device that is no
 * parent is not read at all. */
HD_TEST(masks_read_only_their_families)
{
    static const unsigned char short_config[4] = {0x86, 0x80, 0x22, 0x3a};
    struct hd_nodedev_list *list;
    int warnings = 0;

    assert_masks_agree(ctx);
    /* 0000:06:12.5 is nobody's parent: unreadable, the whole listing warns of it; the USB
     * devices' listing never reads it. */
    at_bytes(at_root, "sys/devices/pci0000:06/0000:06:12.5/config", short_config,
             sizeof(short_config));
    at_file(at_root, "sys/devices/pci0000:06/0000:06:12.5/uevent", "garbage\n");
    hd_ctx_set_log_fn(ctx, count_warnings, &warnings);
    hd_ctx_set_log_priority(ctx, HD_LOG_WARNING);
    ck_assert_int_eq(hd_nodedev_list_new(ctx, 0, &list), 0);
    hd_nodedev_list_unref(list);
    ck_assert_int_eq(warnings, 1);
    ck_assert_int_eq(hd_nodedev_list_new(ctx, 1u << HD_CAP_USB_DEVICE, &list), 0);
    ck_assert_uint_eq(hd_nodedev_list_count(list), 2);
    ck_assert_str_eq(hd_nodedev_get_parent(hd_nodedev_list_get(list, 1)), "pci_0000_00_1d_0");
    hd_nodedev_list_unref(list);
    ck_assert_int_eq(warnings, 1);
    /* A driver link the kernel would not make: a listing reads no link, so the USB
     * controller is still usb1's parent, in both. */
    char link[4096];
    snprintf(link, sizeof(link), "%s/sys/devices/pci0000:00/0000:00:1d.0/driver", at_root);
    unlink(link);
    at_link(at_root, "sys/devices/pci0000:00/0000:00:1d.0/driver", "driver");
    assert_masks_agree(ctx);
    ck_assert_int_eq(hd_nodedev_list_new(ctx, 1u << HD_CAP_USB_DEVICE, &list), 0);
    ck_assert_str_eq(hd_nodedev_get_parent(hd_nodedev_list_get(list, 1)), "pci_0000_00_1d_0");
    hd_nodedev_list_unref(list);
    /* The USB controller unreadable: no parent in either listing, usb1's parent is the
     * computer in both. */
    at_bytes(at_root, "sys/devices/pci0000:00/0000:00:1d.0/config", short_config,
             sizeof(short_config));
    at_file(at_root, "sys/devices/pci0000:00/0000:00:1d.0/uevent", "garbage\n");
    assert_masks_agree(ctx);
    ck_assert_int_eq(hd_nodedev_list_new(ctx, 1u << HD_CAP_USB_DEVICE, &list), 0);
    ck_assert_str_eq(hd_nodedev_get_parent(hd_nodedev_list_get(list, 1)), "computer");
    hd_nodedev_list_unref(list);
}
END_TEST

/* The shipped trees with USB, SCSI, net and mediated devices: every mask as the whole. */
HD_TEST(masks_agree_on_shipped_trees)
{
    static const char *const trees[] = {"demo", "usb-scsi", "mdev", "server-sriov"};

    for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
        struct hd_ctx *c;
        struct fx fx;

        ck_assert_msg(fx_mount(&fx, trees[t]) == 0, "%s: %s", trees[t], fx.error);
        ck_assert_int_eq(hd_ctx_new(fx.root, &c), 0);
        hd_ctx_set_names_file(c, "");
        assert_masks_agree(c);
        hd_ctx_unref(c);
        fx_umount(&fx);
    }
}
END_TEST

/* A mediated device's node device is read alone: another one that cannot be read (its
 * iommu_group link leads nowhere the kernel would put it) is no warning of it, and is bad
 * input when asked for. Both are what the listing says. */
HD_TEST(mdev_lookup_reads_the_one_device)
{
    static const char good[] = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
                      bad[] = "0b5b8f4a-0000-4000-8000-000000000001";
    struct hd_nodedev_list *list;
    struct hd_nodedev *dev;
    struct hd_ctx *c;
    struct fx fx;
    char *cmd;
    int warnings = 0;

    ck_assert_msg(fx_materialize(&fx, "mdev") == 0, "%s", fx.error);
    ck_assert(asprintf(&cmd,
                       "cd '%s/sys/devices/virtual/mtty/mtty' && cp -a %s %s && "
                       "ln -sfn ../../../../../kernel/2 %s/iommu_group && "
                       "ln -s ../../../devices/virtual/mtty/mtty/%s ../../../../bus/mdev/devices/",
                       fx.root, good, bad, bad, bad) > 0);
    ck_assert_int_eq(at_run(cmd, NULL, NULL), 0);
    free(cmd);
    ck_assert_int_eq(hd_ctx_new(fx.root, &c), 0);
    hd_ctx_set_names_file(c, "");
    hd_ctx_set_log_fn(c, count_warnings, &warnings);
    hd_ctx_set_log_priority(c, HD_LOG_WARNING);
    ck_assert_int_eq(hd_nodedev_lookup_mdev(c, good, &dev), 0);
    ck_assert_int_eq(warnings, 0);
    ck_assert_str_eq(hd_nodedev_get_name(dev), "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001_mtty");
    ck_assert_int_eq(hd_nodedev_list_new(c, 1u << HD_CAP_MDEV, &list), 0);
    ck_assert_int_eq(warnings, 1); /* the listing leaves the bad one out, and says so */
    ck_assert_uint_eq(hd_nodedev_list_count(list), 1);
    ck_assert_str_eq(hd_nodedev_get_parent(dev),
                     hd_nodedev_get_parent(hd_nodedev_list_get(list, 0)));
    ck_assert_str_eq(hd_nodedev_get_sysfs_path(dev),
                     hd_nodedev_get_sysfs_path(hd_nodedev_list_get(list, 0)));
    hd_nodedev_list_unref(list);
    hd_nodedev_unref(dev);
    ck_assert_int_eq(hd_nodedev_lookup_mdev(c, bad, &dev), -EINVAL);
    ck_assert_ptr_null(dev);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(c), bad));
    ck_assert_int_eq(hd_nodedev_lookup_mdev(c, "0b5b8f4a-0000-4000-8000-000000000002", &dev),
                     -ENODEV);
    ck_assert_str_eq(hd_ctx_last_error(c), "no node device for mediated device "
                                           "0b5b8f4a-0000-4000-8000-000000000002");
    hd_ctx_unref(c);
    fx_umount(&fx);
}
END_TEST

HD_TEST(every_device_validates)
{
    struct hd_nodedev_list *list;

    ck_assert_int_eq(hd_nodedev_list_new(ctx, 0, &list), 0);
    for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
        struct hd_nodedev *d = hd_nodedev_list_get(list, i);
        char *xml;
        ck_assert_int_eq(hd_nodedev_format_xml(d, &xml), 0);
        ck_assert_msg(xmllint(xml, NODEDEV_RNG) == 0, "%s does not validate:\n%s",
                      hd_nodedev_get_name(d), xml);
        free(xml);
    }
    hd_nodedev_list_unref(list);
}
END_TEST

/* Every node device of every shipped fake-kernel tree against libvirt's own schema: one
 * xmllint run per tree, over one file per device. */
HD_TEST(every_shipped_tree_validates)
{
    static const char *const trees[] = {"demo", "laptop", "server-sriov", "gpu-audio",
                                        "bridge-shared", "no-iommu", "iommu-off-firmware",
                                        "old-kernel", "amd", "unsafe-interrupts", "usb-scsi"};
    for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
        char dir[] = "/tmp/hostdev-nodedev-tree-XXXXXX", cmd[512], *err = NULL;
        struct hd_nodedev_list *list;
        struct hd_ctx *c;
        struct fx fx;
        size_t n;

        ck_assert_msg(fx_mount(&fx, trees[t]) == 0, "%s: %s", trees[t], fx.error);
        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_int_eq(hd_ctx_new(fx.root, &c), 0);
        hd_ctx_set_names_file(c, "");
        ck_assert_int_eq(hd_nodedev_list_new(c, 0, &list), 0);
        n = hd_nodedev_list_count(list);
        ck_assert_msg(n > 1, "%s: only %zu node devices", trees[t], n);
        for (size_t i = 0; i < n; i++) {
            char path[128], *xml;
            FILE *f;
            ck_assert_int_eq(hd_nodedev_format_xml(hd_nodedev_list_get(list, i), &xml), 0);
            snprintf(path, sizeof(path), "%s/%zu.xml", dir, i);
            f = fopen(path, "w");
            ck_assert_ptr_nonnull(f);
            fputs(xml, f);
            fclose(f);
            free(xml);
        }
        snprintf(cmd, sizeof(cmd), "xmllint --noout --relaxng %s %s/*.xml", NODEDEV_RNG, dir);
        ck_assert_msg(at_run(cmd, NULL, &err) == 0, "%s: %s", trees[t], err);
        free(err);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
        hd_nodedev_list_unref(list);
        hd_ctx_unref(c);
        fx_umount(&fx);
    }
}
END_TEST

static char *xml_of(const char *name)
{
    struct hd_nodedev *d;
    char *xml;

    ck_assert_int_eq(hd_nodedev_lookup(ctx, name, &d), 0);
    ck_assert_int_eq(hd_nodedev_format_xml(d, &xml), 0);
    hd_nodedev_unref(d);
    return xml;
}

HD_TEST(pci_xml_is_libvirts)
{
    char *xml = xml_of("pci_0000_01_00_0");

    ck_assert_str_eq(xml, "<device>\n"
                          "  <name>pci_0000_01_00_0</name>\n"
                          "  <path>/sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0</path>\n"
                          "  <parent>pci_0000_00_1c_0</parent>\n"
                          "  <driver>\n"
                          "    <name>igb</name>\n"
                          "  </driver>\n"
                          "  <capability type='pci'>\n"
                          "    <class>0x020000</class>\n"
                          "    <domain>0</domain>\n"
                          "    <bus>1</bus>\n"
                          "    <slot>0</slot>\n"
                          "    <function>0</function>\n"
                          "    <product id='0x10c9'/>\n"
                          "    <vendor id='0x8086'>Intel Corporation</vendor>\n"
                          "    <capability type='virt_functions' maxCount='7'>\n"
                          "      <address domain='0x0000' bus='0x01' slot='0x10' function='0x0'/>\n"
                          "    </capability>\n"
                          "    <iommuGroup number='9'>\n"
                          "      <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
                          "    </iommuGroup>\n"
                          "    <numa node='0'/>\n"
                          "    <pci-express>\n"
                          "      <link validity='cap' port='0' speed='5' width='4'/>\n"
                          "      <link validity='sta' speed='5' width='4'/>\n"
                          "    </pci-express>\n"
                          "  </capability>\n"
                          "</device>\n");
    free(xml);
    xml = xml_of("pci_0000_01_10_0");
    ck_assert_ptr_nonnull(strstr(xml, "    <capability type='phys_function'>\n"
                                      "      <address domain='0x0000' bus='0x01' slot='0x00' "
                                      "function='0x0'/>\n    </capability>\n"));
    free(xml);
    xml = xml_of("pci_0000_00_1c_0");
    ck_assert_ptr_nonnull(strstr(xml, "<capability type='pci-bridge'/>\n"));
    ck_assert_ptr_nonnull(strstr(xml, "<link validity='cap' port='1' speed='2.5' width='4'/>"));
    free(xml);
    xml = xml_of("pci_0000_00_1b_0"); /* root-complex integrated: no link */
    ck_assert_ptr_nonnull(strstr(xml, "    <pci-express/>\n"));
    free(xml);
    xml = xml_of("pci_0000_00_1f_2"); /* conventional PCI: no pci-express at all */
    ck_assert_ptr_null(strstr(xml, "pci-express"));
    ck_assert_ptr_nonnull(
        strstr(xml, "<product id='0x3a22'>82801JI (ICH10 Family) SATA AHCI Controller</product>"));
    free(xml);
    {
        /* No PCIe capability but 4096 bytes of config space: libvirt still calls it PCI
         * Express, without a link (a q35 host bridge looks like this). */
        static unsigned char cfg[4096] = {0x86, 0x80, 0x22, 0x3a};
        at_bytes(at_root, "sys/devices/pci0000:00/0000:00:1f.2/config", cfg, sizeof(cfg));
    }
    xml = xml_of("pci_0000_00_1f_2");
    ck_assert_ptr_nonnull(strstr(xml, "    <pci-express/>\n  </capability>"));
    free(xml);
}
END_TEST

/* The debug messages a context leaves, one per line. */
static void keep_debug(void *data, int priority, const char *file, int line, const char *fn,
                       const char *format, va_list args)
{
    char *kept = data;
    size_t len = strlen(kept);

    (void)file, (void)line, (void)fn;
    if (priority != HD_LOG_DEBUG || len + 2 >= 4096)
        return;
    vsnprintf(kept + len, 4096 - len - 1, format, args);
    strcat(kept, "\n");
}

/* Config space that cannot be read, or not as far as the PCIe capability's link registers,
 * leaves pci-express out (what cannot be known is not guessed from the file's size) and says
 * why in a debug message. */
HD_TEST(pci_express_unknown_is_left_out)
{
    static const char *const igb = "sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/config";
    static char kept[4096];
    unsigned char cfg[256];
    char path[4096], *xml;
    unsigned pos;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", at_root, igb);
    ck_assert_ptr_nonnull(f = fopen(path, "rb"));
    ck_assert_uint_eq(fread(cfg, 1, sizeof(cfg), f), sizeof(cfg));
    fclose(f);
    for (pos = cfg[0x34] & 0xfc; pos >= 0x40 && cfg[pos] != 0x10; pos = cfg[pos + 1] & 0xfc)
        ;
    ck_assert_uint_ge(pos, 0x40);
    hd_ctx_set_log_fn(ctx, keep_debug, kept);
    hd_ctx_set_log_priority(ctx, HD_LOG_DEBUG);

    /* 64 bytes, as an unprivileged read gets: not even the capability list. */
    at_bytes(at_root, igb, cfg, 64);
    xml = xml_of("pci_0000_01_00_0");
    ck_assert_msg(strstr(xml, "pci-express") == NULL, "%s", xml);
    ck_assert_ptr_nonnull(strstr(xml, "<numa node='0'/>\n  </capability>"));
    ck_assert_ptr_nonnull(strstr(kept, "pci_0000_01_00_0: 64 bytes of config space end before"));
    free(xml);
    /* The capability's header, but not its link registers. */
    at_bytes(at_root, igb, cfg, pos + 8);
    xml = xml_of("pci_0000_01_00_0");
    ck_assert_msg(strstr(xml, "pci-express") == NULL, "%s", xml);
    ck_assert_ptr_nonnull(strstr(kept, "runs past the"));
    free(xml);
    /* No config file at all (it cannot be read; its size is no answer either). */
    snprintf(path, sizeof(path), "%s/sys/devices/pci0000:00/0000:00:1b.0/config", at_root);
    ck_assert_int_eq(unlink(path), 0);
    xml = xml_of("pci_0000_00_1b_0");
    ck_assert_msg(strstr(xml, "pci-express") == NULL, "%s", xml);
    ck_assert_ptr_nonnull(strstr(kept, "pci_0000_00_1b_0: config space cannot be read"));
    ck_assert_int_eq(xmllint(xml, NODEDEV_RNG), 0);
    free(xml);
}
END_TEST

/* A number libvirt's XML must show that sysfs will not give (a USB device's bus number, an
 * interface's class, a disk's block size) leaves the device out, with a warning naming the
 * file, as libvirt leaves out a device it cannot read: never a 0 the kernel did not say. */
HD_TEST(a_required_number_unreadable_leaves_the_device_out)
{
    static const char *const gone[] = {"usb_1_2", "usb_1_2_1_0", "block_sda_QM00001"};
    struct hd_nodedev_list *list;
    struct hd_nodedev *d;
    char path[4096];
    int warnings = 0;

    ck_assert_int_eq(hd_nodedev_list_new(ctx, 0, &list), 0);
    size_t all = hd_nodedev_list_count(list);
    hd_nodedev_list_unref(list);
    snprintf(path, sizeof(path), "%s/sys/bus/usb/devices/1-2/busnum", at_root);
    ck_assert_int_eq(unlink(path), 0);
    at_file(at_root, "sys/bus/usb/devices/1-2:1.0/bInterfaceClass", "garbage\n");
    snprintf(path, sizeof(path), "%s/sys/class/block/sda/queue/logical_block_size", at_root);
    ck_assert_int_eq(unlink(path), 0);
    hd_ctx_set_log_fn(ctx, count_warnings, &warnings);
    hd_ctx_set_log_priority(ctx, HD_LOG_WARNING);
    ck_assert_int_eq(hd_nodedev_list_new(ctx, 0, &list), 0);
    ck_assert_uint_eq(hd_nodedev_list_count(list), all - (sizeof(gone) / sizeof(gone[0])));
    hd_nodedev_list_unref(list);
    ck_assert_int_eq(warnings, (int)(sizeof(gone) / sizeof(gone[0])));
    for (size_t i = 0; i < (sizeof(gone) / sizeof(gone[0])); i++)
        ck_assert_msg(hd_nodedev_lookup(ctx, gone[i], &d) == -ENODEV, "%s", gone[i]);
}
END_TEST

HD_TEST(other_caps_xml)
{
    char *xml = xml_of("usb_1_2");

    ck_assert_ptr_nonnull(strstr(xml, "  <devnode type='dev'>/dev/bus/usb/001/002</devnode>\n"
                                      "  <parent>usb_usb1</parent>\n"
                                      "  <driver>\n    <name>usb</name>\n  </driver>\n"
                                      "  <capability type='usb_device'>\n"
                                      "    <bus>1</bus>\n    <device>2</device>\n"
                                      "    <product id='0x0001'>QEMU USB Tablet</product>\n"
                                      "    <vendor id='0x0627' />\n"));
    free(xml);
    xml = xml_of("usb_1_2_1_0");
    ck_assert_ptr_nonnull(strstr(xml, "<number>0</number>\n    <class>3</class>\n"
                                      "    <subclass>0</subclass>\n    <protocol>0</protocol>\n"
                                      "    <description>HID Tablet</description>\n"));
    free(xml);
    xml = xml_of("scsi_host1");
    ck_assert_ptr_nonnull(strstr(xml, "<host>1</host>\n    <unique_id>1</unique_id>\n"));
    free(xml);
    xml = xml_of("scsi_target1_0_0");
    ck_assert_ptr_nonnull(strstr(xml, "<target>target1:0:0</target>"));
    free(xml);
    xml = xml_of("scsi_1_0_0_0");
    ck_assert_ptr_nonnull(strstr(xml, "<host>1</host>\n    <bus>0</bus>\n    <target>0</target>\n"
                                      "    <lun>0</lun>\n    <type>disk</type>\n"));
    free(xml);
    xml = xml_of("scsi_generic_sg1");
    ck_assert_ptr_nonnull(strstr(xml, "<char>/dev/sg1</char>"));
    free(xml);
    xml = xml_of("block_sda_QM00001");
    ck_assert_ptr_nonnull(strstr(xml, "<block>/dev/sda</block>\n    <drive_type>disk</drive_type>\n"
                                      "    <model>QEMU HARDDISK</model>\n    <vendor>ATA</vendor>\n"
                                      "    <serial>QM00001</serial>\n"
                                      "    <size>1073741824</size>\n"
                                      "    <logical_block_size>512</logical_block_size>\n"
                                      "    <num_blocks>2097152</num_blocks>\n"));
    free(xml);
    xml = xml_of("net_eth0_52_54_00_12_34_56");
    ck_assert_ptr_nonnull(strstr(xml, "<interface>eth0</interface>\n"
                                      "    <address>52:54:00:12:34:56</address>\n"
                                      "    <link speed='1000' state='up'/>\n"
                                      "    <capability type='80203'/>\n"));
    free(xml);
    xml = xml_of("net_lo_00_00_00_00_00_00");
    ck_assert_ptr_nonnull(strstr(xml, "<link state='unknown'/>"));
    free(xml);
}
END_TEST

HD_TEST(hostile_names_stay_valid_xml)
{
    /* Names from sysfs and pci.ids are not ours: XML specials, quotes, non-ASCII, bytes that
     * are not UTF-8, control characters. */
    static const char hostile[] = "Tom & Jerry <\"Q\"> 'x' \xc3\x9cn\xc3\xaf \xff\xfe\x01 end";
    char path[4096], *xml;
    FILE *f;

    at_file(at_root, "sys/devices/pci0000:00/0000:00:1d.0/usb1/1-2/manufacturer", hostile);
    snprintf(path, sizeof(path), "%s/hostile.ids", at_root);
    f = fopen(path, "w");
    fprintf(f, "8086  %s\n\t1502  Net <&> \xe2\x82\xac \xc0\xaf\n", hostile);
    fclose(f);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, path), 0);

    xml = xml_of("usb_1_2");
    ck_assert_ptr_nonnull(strstr(xml, "<vendor id='0x0627'>Tom &amp; Jerry &lt;&quot;Q&quot;&gt; "
                                      "&apos;x&apos; \xc3\x9cn\xc3\xaf \xef\xbf\xbd\xef\xbf\xbd"
                                      " end</vendor>"));
    ck_assert_int_eq(xmllint(xml, NODEDEV_RNG), 0);
    free(xml);
    xml = xml_of("pci_0000_00_19_0");
    ck_assert_ptr_nonnull(strstr(xml, "Net &lt;&amp;&gt; \xe2\x82\xac \xef\xbf\xbd\xef\xbf\xbd<"));
    ck_assert_int_eq(xmllint(xml, NODEDEV_RNG), 0);
    free(xml);
}
END_TEST

HD_TEST(lookup_failure)
{
    struct hd_nodedev *d = (void *)1;

    ck_assert_int_eq(hd_nodedev_lookup(ctx, "pci_0000_99_00_0", &d), -ENODEV);
    ck_assert_ptr_null(d);
    ck_assert_str_eq(hd_ctx_last_error(ctx),
                     "no node device with matching name 'pci_0000_99_00_0'");
}
END_TEST

HD_TEST(links_leaving_the_root_are_skipped)
{
    struct hd_nodedev_list *list;

    at_link(at_root, "sys/class/net/evil", "../../../../../../../../etc");
    at_link(at_root, "sys/class/net/sneaky", "../../usr/share");
    at_link(at_root, "sys/bus/usb/devices/9-9", "/proc/self");
    ck_assert_int_eq(hd_nodedev_list_new(ctx, 1u << HD_CAP_NET | 1u << HD_CAP_USB_DEVICE, &list),
                     0);
    ck_assert_uint_eq(hd_nodedev_list_count(list), 4); /* eth0, lo, usb1, 1-2 */
    hd_nodedev_list_unref(list);
}
END_TEST

HD_TEST(empty_root)
{
    struct hd_nodedev_list *list;
    char *empty = at_tree_new();
    struct hd_ctx *c;

    ck_assert_int_eq(hd_ctx_new(empty, &c), 0);
    ck_assert_int_eq(hd_nodedev_list_new(c, 0, &list), 0);
    ck_assert_uint_eq(hd_nodedev_list_count(list), 1); /* just "computer" */
    hd_nodedev_list_unref(list);
    hd_ctx_unref(c);
    at_tree_free(empty);
}
END_TEST
