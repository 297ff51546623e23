/* nodedev-xml.c - node-device XML exactly as libvirt writes it (element order, formats). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nodedev.h"
#include "utf8.h"

static const char *xml_entity(unsigned char c)
{
    switch (c) {
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '&':
        return "&amp;";
    case '\'':
        return "&apos;";
    case '"':
        return "&quot;";
    default:
        return NULL;
    }
}

/* Text and attribute values: the five XML specials escaped, control characters XML 1.0 cannot
 * carry dropped, and bytes that are not UTF-8 replaced by U+FFFD so the document stays
 * well-formed whatever sysfs or pci.ids hold. */
static void put_escaped(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t n;
        const char *entity = xml_entity(*p);
        if (entity != NULL) {
            fputs(entity, f);
            p++;
            continue;
        }
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
            p++;
            continue;
        }
        n = hd_utf8_len(p);
        /* U+FFFE and U+FFFF are not XML characters either. */
        if (n == 0 || (n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe)) {
            fputs("\xef\xbf\xbd", f);
            p++;
            continue;
        }
        if (hd_unicode_is_control(hd_utf8_decode(p, n)))
            fprintf(f, "&#x%lX;", hd_utf8_decode(p, n)); /* C1, bidi: a reference, inert */
        else
            fwrite(p, 1, n, f);
        p += n;
    }
}

static void indent(FILE *f, int level)
{
    for (int i = 0; i < level; i++)
        fputs("  ", f);
}

/* <tag>text</tag>, nothing when @text is NULL (as libvirt's virBufferEscapeString). */
static void elem(FILE *f, int level, const char *tag, const char *text)
{
    if (text == NULL)
        return;
    indent(f, level);
    fprintf(f, "<%s>", tag);
    put_escaped(f, text);
    fprintf(f, "</%s>\n", tag);
}

static void elem_num(FILE *f, int level, const char *tag, unsigned long long v)
{
    indent(f, level);
    fprintf(f, "<%s>%llu</%s>\n", tag, v, tag);
}

/* <product id='0x1502'>name</product>; libvirt closes an unnamed one with @empty_close. */
static void id_elem(FILE *f, int level, const char *tag, int id, const char *name,
                    const char *empty_close)
{
    indent(f, level);
    fprintf(f, "<%s id='0x%04x'", tag, (unsigned)id);
    if (name == NULL) {
        fprintf(f, "%s\n", empty_close);
        return;
    }
    fputc('>', f);
    put_escaped(f, name);
    fprintf(f, "</%s>\n", tag);
}

static void address(FILE *f, int level, const struct hd_pci_addr *a)
{
    indent(f, level);
    fprintf(f, "<address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%d'/>\n", a->domain,
            a->bus, a->slot, a->function);
}

static void iommu_group(FILE *f, struct hd_nodedev *dev, int group)
{
    char path[HD_PATH_MAX];
    char **names;
    size_t count;
    bool opened = false;

    hd_path(path, sizeof(path), "sys/kernel/iommu_groups/%d/devices", group);
    if (hd_fs_list_dir(hd_nodedev_get_ctx(dev), path, &names, &count) < 0)
        return;
    for (size_t i = 0; i < count; i++) {
        struct hd_pci_addr a;
        if (hd_pci_addr_parse(names[i], &a) < 0)
            continue;
        if (!opened) {
            indent(f, 2);
            fprintf(f, "<iommuGroup number='%d'>\n", group);
            opened = true;
        }
        address(f, 3, &a);
    }
    if (opened) {
        indent(f, 2);
        fputs("</iommuGroup>\n", f);
    }
    hd_strv_free(names, count);
}

/* Where config space's capability list has the PCIe capability (id 0x10): its offset, 0 when
 * the list, read to its end, does not have it, -1 when the @n bytes read end before the list
 * does (an unprivileged read gets 64 bytes: what is beyond them cannot be known). */
static int find_pcie_cap(const unsigned char *cfg, ssize_t n)
{
    unsigned pos;

    if (n < 0x40)
        return -1;
    if (!(cfg[0x06] & 0x10))
        return 0;
    pos = cfg[0x34] & 0xfc;
    for (int hops = 0; pos >= 0x40 && hops < 48; hops++) {
        if (pos + 4 > (unsigned)n)
            return -1;
        if (cfg[pos] == 0x10)
            return (int)pos;
        pos = cfg[pos + 1] & 0xfc;
    }
    return 0;
}

/* libvirt's test for PCI Express (as a privileged libvirtd reads it): the PCIe capability or,
 * when the whole list has none, a config file that is not 256 bytes long (conventional
 * functions have 256 bytes, PCIe ones 4096: a q35 host bridge has no capability). Link
 * Capabilities at +0x0c (speed bits 3:0, width 9:4, port 31:24), Link Status at +0x12 (speed
 * 3:0, width 9:4). Config space that cannot be read, or not far enough, prints nothing, as
 * an unprivileged libvirtd prints none (it reads no config space): the size would be a guess. */
static void pci_express(FILE *f, struct hd_nodedev *dev)
{
    static const char *const speeds[] = {NULL, "2.5", "5", "8", "16", "32", "64"};
    struct hd_ctx *ctx = hd_nodedev_get_ctx(dev);
    struct hd_device *pci = hd_nodedev_get_pci_device(dev);
    unsigned char cfg[256];
    ssize_t n = hd_device_read_attr_bytes(pci, "config", cfg, sizeof(cfg));
    int pos = find_pcie_cap(cfg, n);
    char path[HD_PATH_MAX];
    struct stat st;
    unsigned type;
    uint32_t lnkcap;
    uint16_t lnksta;

    if (n < 0) {
        hd_dbg(ctx, "%s: config space cannot be read (%s): no pci-express",
               hd_nodedev_get_name(dev), strerror((int)-n));
        return;
    }
    if (pos < 0) {
        hd_dbg(ctx, "%s: %zd bytes of config space end before its capability list: no "
               "pci-express", hd_nodedev_get_name(dev), n);
        return;
    }
    if (pos == 0) {
        if (hd_device_attr_path(pci, "config", path, sizeof(path)) < 0 ||
            hd_fs_stat(ctx, path, &st) < 0 || st.st_size == 256)
            return;
        indent(f, 2);
        fputs("<pci-express/>\n", f);
        return;
    }
    /* A root-complex integrated endpoint or event collector has no link. */
    type = (cfg[pos + 2] >> 4) & 0xf;
    if (type != 0x9 && type != 0xa && (unsigned)pos + 0x14 > (unsigned)n) {
        hd_dbg(ctx, "%s: the PCIe capability at 0x%x runs past the %zd bytes of config space "
               "read: no pci-express", hd_nodedev_get_name(dev), (unsigned)pos, n);
        return;
    }
    indent(f, 2);
    if (type == 0x9 || type == 0xa) {
        fputs("<pci-express/>\n", f);
        return;
    }
    lnkcap = (uint32_t)cfg[pos + 0x0c] | (uint32_t)cfg[pos + 0x0d] << 8 |
             (uint32_t)cfg[pos + 0x0e] << 16 | (uint32_t)cfg[pos + 0x0f] << 24;
    lnksta = (uint16_t)(cfg[pos + 0x12] | cfg[pos + 0x13] << 8);
    fputs("<pci-express>\n", f);
    indent(f, 3);
    fprintf(f, "<link validity='cap' port='%u'", lnkcap >> 24);
    if ((lnkcap & 0xf) < HD_ARRAY_SIZE(speeds) && speeds[lnkcap & 0xf])
        fprintf(f, " speed='%s'", speeds[lnkcap & 0xf]);
    fprintf(f, " width='%u'/>\n", (lnkcap >> 4) & 0x3f);
    indent(f, 3);
    fputs("<link validity='sta'", f);
    if ((lnksta & 0xf) < HD_ARRAY_SIZE(speeds) && speeds[lnksta & 0xf])
        fprintf(f, " speed='%s'", speeds[lnksta & 0xf]);
    fprintf(f, " width='%u'/>\n", (unsigned)(lnksta >> 4) & 0x3f);
    indent(f, 2);
    fputs("</pci-express>\n", f);
}

/* The types a mediated device parent offers, those of an API libvirt knows; a type whose
 * available_instances cannot be read is left out (libvirt fails on it; 0 would be a guess), and
 * no type leaves no element (as libvirt: the schema wants one at least). */
static void mdev_types(FILE *f, const struct hd_nodedev *dev)
{
    const struct hd_mdev_type_list *t = hd_nodedev_get_mdev_types(dev);
    bool opened = false;

    if (t == NULL)
        return;
    for (size_t i = 0; i < hd_mdev_type_list_count(t); i++) {
        const char *api = hd_mdev_type_list_get_device_api(t, i);
        int avail = hd_mdev_type_list_get_available(t, i);
        if (strcmp(hd_mdev_type_list_get_parent(t, i), hd_nodedev_get_sysname(dev)) != 0 ||
            api == NULL ||
            (strcmp(api, "vfio-pci") != 0 && strcmp(api, "vfio-ccw") != 0 &&
             strcmp(api, "vfio-ap") != 0))
            continue;
        if (avail < 0) {
            hd_dbg(hd_nodedev_get_ctx(dev), "%s: mdev type %s: available_instances cannot be "
                   "read: left out", hd_nodedev_get_name(dev), hd_mdev_type_list_get_id(t, i));
            continue;
        }
        if (!opened) {
            indent(f, 2);
            fputs("<capability type='mdev_types'>\n", f);
            opened = true;
        }
        indent(f, 3);
        fputs("<type id='", f);
        put_escaped(f, hd_mdev_type_list_get_id(t, i));
        fputs("'>\n", f);
        if (hd_mdev_type_list_get_name(t, i) != NULL && hd_mdev_type_list_get_name(t, i)[0])
            elem(f, 4, "name", hd_mdev_type_list_get_name(t, i));
        elem(f, 4, "deviceAPI", api);
        elem_num(f, 4, "availableInstances", (unsigned long long)avail);
        indent(f, 3);
        fputs("</type>\n", f);
    }
    if (opened) {
        indent(f, 2);
        fputs("</capability>\n", f);
    }
}

static void cap_pci(FILE *f, struct hd_nodedev *dev)
{
    const struct hd_device *d = hd_nodedev_get_pci_device(dev);
    const struct hd_pci_addr *addr = hd_device_get_addr(d), *physfn = hd_device_get_physfn(d);
    int ht = hd_device_get_header_type(d);

    indent(f, 2);
    fprintf(f, "<class>0x%06x</class>\n", hd_device_get_class(d));
    elem_num(f, 2, "domain", addr->domain);
    elem_num(f, 2, "bus", addr->bus);
    elem_num(f, 2, "slot", addr->slot);
    elem_num(f, 2, "function", addr->function);
    id_elem(f, 2, "product", hd_device_get_device_id(d), hd_device_get_product_name(d), "/>");
    id_elem(f, 2, "vendor", hd_device_get_vendor_id(d), hd_device_get_vendor_name(d), "/>");
    if (physfn != NULL) {
        indent(f, 2);
        fputs("<capability type='phys_function'>\n", f);
        address(f, 3, physfn);
        indent(f, 2);
        fputs("</capability>\n", f);
    }
    if (hd_device_get_sriov_totalvfs(d) > 0) {
        indent(f, 2);
        fprintf(f, "<capability type='virt_functions' maxCount='%d'",
                hd_device_get_sriov_totalvfs(d));
        if (hd_device_get_virtfn_count(d) == 0) {
            fputs("/>\n", f);
        } else {
            fputs(">\n", f);
            for (size_t i = 0; i < hd_device_get_virtfn_count(d); i++)
                address(f, 3, hd_device_get_virtfn(d, i));
            indent(f, 2);
            fputs("</capability>\n", f);
        }
    }
    if (ht == 1 || ht == 2) {
        indent(f, 2);
        fprintf(f, "<capability type='%s'/>\n", ht == 1 ? "pci-bridge" : "cardbus-bridge");
    }
    mdev_types(f, dev);
    if (hd_device_get_iommu_group(d) >= 0)
        iommu_group(f, dev, hd_device_get_iommu_group(d));
    if (hd_device_get_numa_node(d) >= 0) {
        indent(f, 2);
        fprintf(f, "<numa node='%d'/>\n", hd_device_get_numa_node(d));
    }
    pci_express(f, dev);
}

static void cap_system(FILE *f, const struct hd_nodedev_props *p)
{
    /* libvirt shows an unreadable UUID as all zeros; so do we (the schema requires one). */
    const char *uuid = p->hw_uuid ? p->hw_uuid : "00000000-0000-0000-0000-000000000000";

    elem(f, 2, "product", p->sys_product);
    indent(f, 2);
    fputs("<hardware>\n", f);
    elem(f, 3, "vendor", p->hw_vendor);
    elem(f, 3, "version", p->hw_version);
    elem(f, 3, "serial", p->hw_serial);
    elem(f, 3, "uuid", uuid);
    indent(f, 2);
    fputs("</hardware>\n", f);
    indent(f, 2);
    fputs("<firmware>\n", f);
    elem(f, 3, "vendor", p->fw_vendor);
    elem(f, 3, "version", p->fw_version);
    elem(f, 3, "release_date", p->fw_date);
    indent(f, 2);
    fputs("</firmware>\n", f);
}

static void cap_net(FILE *f, const struct hd_nodedev_props *p)
{
    elem(f, 2, "interface", p->ifname);
    elem(f, 2, "address", p->mac);
    if (p->link_speed || p->link_state) {
        indent(f, 2);
        fputs("<link", f);
        if (p->link_speed)
            fprintf(f, " speed='%u'", p->link_speed);
        if (p->link_state)
            fprintf(f, " state='%s'", p->link_state);
        fputs("/>\n", f);
    }
    for (int i = 0; i < HD_NETDEV_FEATURES; i++) {
        if (p->net_features & (1u << i)) {
            indent(f, 2);
            fprintf(f, "<feature name='%s'/>\n", hd_netdev_feature_names[i]);
        }
    }
    if (p->net_subtype) {
        indent(f, 2);
        fprintf(f, "<capability type='%s'/>\n", p->net_subtype);
    }
}

/* libvirt's blockData: both numbers or neither. */
static void block_data(FILE *f, int level, const struct hd_nodedev_props *p)
{
    if (p->block_size > 0 && p->num_blocks > 0) {
        elem_num(f, level, "logical_block_size", p->block_size);
        elem_num(f, level, "num_blocks", p->num_blocks);
    }
}

static void cap_storage(FILE *f, const struct hd_nodedev *dev)
{
    const struct hd_nodedev_props *p = hd_nodedev_get_props(dev);
    const char *devnode = hd_nodedev_get_devnode(dev);
    unsigned long long size = p->num_blocks * p->block_size;
    char block[HD_PATH_MAX];

    snprintf(block, sizeof(block), "%s", devnode ? devnode : "");
    if (devnode == NULL)
        snprintf(block, sizeof(block), "/dev/%s", hd_nodedev_get_sysname(dev));
    elem(f, 2, "block", block);
    elem(f, 2, "drive_type", p->drive_type);
    elem(f, 2, "model", p->model);
    elem(f, 2, "vendor", p->vendor);
    elem(f, 2, "serial", p->serial);
    if (p->removable) {
        indent(f, 2);
        fputs("<capability type='removable'>\n", f);
        elem_num(f, 3, "media_available", size > 0);
        elem_num(f, 3, "media_size", size);
        block_data(f, 3, p);
        indent(f, 2);
        fputs("</capability>\n", f);
    } else {
        elem_num(f, 2, "size", size);
        block_data(f, 2, p);
    }
}

/* The four numbers of a usb interface or a scsi device, under these names. */
static void numbers(FILE *f, const struct hd_nodedev_props *p, const char *names[4])
{
    for (int i = 0; i < 4; i++)
        elem_num(f, 2, names[i], (unsigned long long)p->num[i]);
}

static void capability(FILE *f, struct hd_nodedev *dev)
{
    const struct hd_nodedev_props *p = hd_nodedev_get_props(dev);
    const char *devnode = hd_nodedev_get_devnode(dev);
    enum hd_nodedev_cap cap = hd_nodedev_get_cap(dev);

    indent(f, 1);
    fprintf(f, "<capability type='%s'>\n", hd_nodedev_cap_to_string(cap));
    switch (cap) {
    case HD_CAP_SYSTEM:
        cap_system(f, p);
        break;
    case HD_CAP_PCI:
        cap_pci(f, dev);
        break;
    case HD_CAP_USB_DEVICE:
        elem_num(f, 2, "bus", (unsigned long long)p->num[0]);
        elem_num(f, 2, "device", (unsigned long long)p->num[1]);
        id_elem(f, 2, "product", p->product_id, p->product_name, " />");
        id_elem(f, 2, "vendor", p->vendor_id, p->vendor_name, " />");
        break;
    case HD_CAP_USB_INTERFACE:
        numbers(f, p, (const char *[]){"number", "class", "subclass", "protocol"});
        elem(f, 2, "description", p->description);
        break;
    case HD_CAP_NET:
        cap_net(f, p);
        break;
    case HD_CAP_SCSI_HOST:
        elem_num(f, 2, "host", (unsigned long long)p->num[0]);
        if (p->num[1] >= 0)
            elem_num(f, 2, "unique_id", (unsigned long long)p->num[1]);
        break;
    case HD_CAP_SCSI_TARGET:
        elem(f, 2, "target", hd_nodedev_get_sysname(dev));
        break;
    case HD_CAP_SCSI:
        numbers(f, p, (const char *[]){"host", "bus", "target", "lun"});
        elem(f, 2, "type", p->scsi_type);
        break;
    case HD_CAP_STORAGE:
        cap_storage(f, dev);
        break;
    case HD_CAP_SCSI_GENERIC:
        elem(f, 2, "char", devnode ? devnode : hd_nodedev_get_sysfs_path(dev));
        break;
    case HD_CAP_MDEV:
        indent(f, 2);
        fputs("<type id='", f);
        put_escaped(f, p->mdev_type);
        fputs("'/>\n", f);
        if (p->num[0] >= 0) {
            indent(f, 2);
            fprintf(f, "<iommuGroup number='%lld'/>\n", p->num[0]);
        }
        elem(f, 2, "uuid", hd_nodedev_get_sysname(dev));
        elem(f, 2, "parent_addr", p->mdev_parent);
        break;
    default:
        break;
    }
    indent(f, 1);
    fputs("</capability>\n", f);
}

HD_EXPORT int hd_nodedev_format_xml(struct hd_nodedev *dev, char **xml)
{
    const char *devnode = hd_nodedev_get_devnode(dev), *driver = hd_nodedev_get_driver(dev);
    size_t len;
    FILE *f;

    *xml = NULL;
    f = open_memstream(xml, &len);
    if (f == NULL)
        return -ENOMEM;
    fputs("<device>\n", f);
    elem(f, 1, "name", hd_nodedev_get_name(dev));
    if (hd_nodedev_get_cap(dev) != HD_CAP_SYSTEM)
        elem(f, 1, "path", hd_nodedev_get_sysfs_path(dev));
    if (devnode != NULL) {
        indent(f, 1);
        fputs("<devnode type='dev'>", f);
        put_escaped(f, devnode);
        fputs("</devnode>\n", f);
    }
    elem(f, 1, "parent", hd_nodedev_get_parent(dev));
    if (driver != NULL) {
        indent(f, 1);
        fputs("<driver>\n", f);
        elem(f, 2, "name", driver);
        indent(f, 1);
        fputs("</driver>\n", f);
    }
    capability(f, dev);
    fputs("</device>\n", f);
    if (fclose(f) != 0 || *xml == NULL) {
        free(*xml);
        *xml = NULL;
        return -ENOMEM;
    }
    return 0;
}
