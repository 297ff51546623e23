/* adapters-tree.c - build plain-directory sysfs trees, run commands, for the adapter tests. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "tmptree.h"

/* The asserting face of tmptree.c: a Check test stops at the first file it cannot make. */
char *at_tree_new(void)
{
    char *root = tmptree_new();

    ck_assert_msg(root != NULL, "mkdtemp: %s", strerror(errno));
    return root;
}

void at_tree_free(char *root)
{
    if (root == NULL)
        return;
    if (tmptree_remove(root) < 0)
        fprintf(stderr, "could not remove %s\n", root);
    free(root);
}

void at_bytes(const char *root, const char *path, const void *data, size_t len)
{
    int r = tmptree_write_data(root, path, data, len);

    ck_assert_msg(r == 0, "%s/%s: %s", root, path, strerror(-r));
}

void at_file(const char *root, const char *path, const char *content)
{
    at_bytes(root, path, content, strlen(content));
}

void at_link(const char *root, const char *path, const char *target)
{
    int r = tmptree_symlink(root, path, target);

    ck_assert_msg(r == 0, "symlink %s/%s: %s", root, path, strerror(-r));
}

/* "../" once per component of @path, to climb from a directory back to the root. */
static void ups(char *buf, size_t size, const char *path)
{
    size_t used = 0;

    buf[0] = '\0';
    for (const char *p = path; p != NULL; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
        used += (size_t)snprintf(buf + used, size - used, "../");
}

static void config_space(const struct at_pci *p, unsigned char cfg[256])
{
    memset(cfg, 0, 256);
    cfg[0] = (unsigned char)p->vendor;
    cfg[1] = (unsigned char)(p->vendor >> 8);
    cfg[2] = (unsigned char)p->device;
    cfg[3] = (unsigned char)(p->device >> 8);
    cfg[8] = 1; /* revision */
    cfg[9] = (unsigned char)p->class;
    cfg[10] = (unsigned char)(p->class >> 8);
    cfg[11] = (unsigned char)(p->class >> 16);
    cfg[0x0e] = (unsigned char)p->header_type;
    if (p->pcie_type < 0)
        return;
    cfg[0x06] = 0x10; /* capability list */
    cfg[0x34] = 0x40;
    cfg[0x40] = 0x10; /* PCI Express */
    cfg[0x41] = 0x00;
    cfg[0x42] = (unsigned char)(p->pcie_type << 4 | 2);
    uint32_t lnkcap =
        (uint32_t)p->link_speed | (uint32_t)p->link_width << 4 | (uint32_t)p->link_port << 24;
    cfg[0x4c] = (unsigned char)lnkcap;
    cfg[0x4d] = (unsigned char)(lnkcap >> 8);
    cfg[0x4e] = (unsigned char)(lnkcap >> 16);
    cfg[0x4f] = (unsigned char)(lnkcap >> 24);
    uint16_t lnksta = (uint16_t)(p->link_speed | p->link_width << 4);
    cfg[0x52] = (unsigned char)lnksta;
    cfg[0x53] = (unsigned char)(lnksta >> 8);
}

void at_add_pci(const char *root, const struct at_pci *p)
{
    char dir[1024], path[1200], target[1200], up[512], buf[1024];
    unsigned char cfg[256];

    snprintf(dir, sizeof(dir), "sys/devices/%s/%s", p->under, p->bdf);
    ups(up, sizeof(up), dir);
    snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", p->bdf);
    snprintf(target, sizeof(target), "../../../devices/%s/%s", p->under, p->bdf);
    at_link(root, path, target);
    snprintf(buf, sizeof(buf),
             "%s%s%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:0000\n"
             "PCI_SLOT_NAME=%s\nMODALIAS=pci:v%08Xd%08Xsv%08Xsd00000000bc%02Xsc%02Xi%02X\n",
             p->driver ? "DRIVER=" : "", p->driver ? p->driver : "", p->driver ? "\n" : "",
             p->class, p->vendor, p->device, p->vendor, p->bdf, p->vendor, p->device, p->vendor,
             p->class >> 16, (p->class >> 8) & 0xff, p->class & 0xff);
    snprintf(path, sizeof(path), "%s/uevent", dir);
    at_file(root, path, buf);
    /* As the kernel shows them: 256 bytes for conventional PCI, 4096 for PCI Express. */
    config_space(p, cfg);
    snprintf(path, sizeof(path), "%s/config", dir);
    at_bytes(root, path, cfg, sizeof(cfg));
    if (p->pcie_type >= 0) {
        static const unsigned char zero[4096 - 256];
        char full[2048];
        FILE *f;
        snprintf(full, sizeof(full), "%s/%s", root, path);
        f = fopen(full, "ab");
        ck_assert(f != NULL && fwrite(zero, 1, sizeof(zero), f) == sizeof(zero));
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/driver_override", dir);
    at_file(root, path, "(null)\n");
    snprintf(path, sizeof(path), "%s/numa_node", dir);
    snprintf(buf, sizeof(buf), "%d\n", p->numa);
    at_file(root, path, buf);
    if (p->has_reset) {
        snprintf(path, sizeof(path), "%s/reset", dir);
        at_file(root, path, "");
        snprintf(path, sizeof(path), "%s/reset_method", dir);
        at_file(root, path, "flr bus\n");
    }
    if (p->driver != NULL) {
        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/bind", p->driver);
        at_file(root, path, "");
        snprintf(path, sizeof(path), "%s/driver", dir);
        snprintf(target, sizeof(target), "%sbus/pci/drivers/%s", up + 3, p->driver);
        at_link(root, path, target);
        /* and the device in its driver's directory, as driver_sysfs_add() makes it */
        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/%s", p->driver, p->bdf);
        snprintf(target, sizeof(target), "../../../../devices/%s/%s", p->under, p->bdf);
        at_link(root, path, target);
    }
    if (p->group >= 0) {
        snprintf(path, sizeof(path), "%s/iommu_group", dir);
        snprintf(target, sizeof(target), "%skernel/iommu_groups/%d", up + 3, p->group);
        at_link(root, path, target);
        snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%d/devices/%s", p->group, p->bdf);
        snprintf(target, sizeof(target), "../../../../devices/%s/%s", p->under, p->bdf);
        at_link(root, path, target);
        snprintf(path, sizeof(path), "dev/vfio/%d", p->group);
        if (p->driver && strcmp(p->driver, "vfio-pci") == 0)
            at_file(root, path, "");
    }
    if (p->totalvfs > 0) {
        snprintf(path, sizeof(path), "%s/sriov_totalvfs", dir);
        snprintf(buf, sizeof(buf), "%d\n", p->totalvfs);
        at_file(root, path, buf);
    }
}

void at_add_vf(const char *root, const char *pf, const char *pf_under, int n, const char *vf,
               const char *vf_under)
{
    char path[1024], target[1024];

    snprintf(path, sizeof(path), "sys/devices/%s/%s/virtfn%d", pf_under, pf, n);
    snprintf(target, sizeof(target), "../%s", vf);
    at_link(root, path, target);
    snprintf(path, sizeof(path), "sys/devices/%s/%s/physfn", vf_under, vf);
    snprintf(target, sizeof(target), "../%s", pf);
    at_link(root, path, target);
    snprintf(path, sizeof(path), "sys/devices/%s/%s/sriov_numvfs", pf_under, pf);
    snprintf(target, sizeof(target), "%d\n", n + 1);
    at_file(root, path, target);
}

#define SATA   "sys/devices/pci0000:00/0000:00:1f.2"
#define HOST   SATA "/ata1/host1"
#define TARGET HOST "/target1:0:0"
#define LUN    TARGET "/1:0:0:0"
#define USB    "sys/devices/pci0000:00/0000:00:1d.0"

/* A device of another bus: its directory, uevent, and the bus or class link to it. */
static void dev_entry(const char *root, const char *dir, const char *uevent, const char *link,
                      const char *link_target)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/uevent", dir);
    at_file(root, path, uevent);
    if (link != NULL)
        at_link(root, link, link_target);
}

/* Attribute files of one directory, from name/value pairs ending with NULL. */
static void attrs(const char *root, const char *dir, const char *const *kv)
{
    char path[1024];

    for (; kv[0] != NULL; kv += 2) {
        snprintf(path, sizeof(path), "%s/%s", dir, kv[0]);
        at_file(root, path, kv[1]);
    }
}

/* A USB device or interface below the sample's controller, @rel below it ("usb1/1-2"). */
static void usb_entry(const char *root, const char *rel, const char *uevent, const char *const *kv)
{
    char dir[512], link[512], target[512];
    const char *sysname = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;

    snprintf(dir, sizeof(dir), USB "/%s", rel);
    snprintf(link, sizeof(link), "sys/bus/usb/devices/%s", sysname);
    snprintf(target, sizeof(target), "../../../devices/pci0000:00/0000:00:1d.0/%s", rel);
    dev_entry(root, dir, uevent, link, target);
    attrs(root, dir, kv);
}

void at_sample(const char *root)
{
    static const struct at_pci pcis[] = {
        /* bdf, under, vendor, device, class, driver, group, ht, pcie, speed, width, port,
         * totalvfs, numa, reset */
        {"0000:00:19.0", "pci0000:00", 0x8086, 0x1502, 0x020000, "e1000e", 7, 0, 0, 1, 1, 0, 0, -1,
         1},
        {"0000:00:1b.0", "pci0000:00", 0x8086, 0x293e, 0x040300, "snd_hda_intel", 5, 0, 9, 0, 0, 0,
         0, -1, 1},
        {"0000:00:1c.0", "pci0000:00", 0x8086, 0x3a40, 0x060400, "pcieport", 8, 1, 4, 1, 4, 1, 0,
         -1, 0},
        {"0000:00:1d.0", "pci0000:00", 0x8086, 0x3a34, 0x0c0300, "uhci_hcd", 12, 0, -1, 0, 0, 0, 0,
         -1, 1},
        {"0000:00:1f.2", "pci0000:00", 0x8086, 0x3a22, 0x010601, "ahci", 11, 0, -1, 0, 0, 0, 0, 0,
         0},
        {"0000:01:00.0", "pci0000:00/0000:00:1c.0", 0x8086, 0x10c9, 0x020000, "igb", 9, 0, 0, 2, 4,
         0, 7, 0, 1},
        {"0000:01:10.0", "pci0000:00/0000:00:1c.0", 0x8086, 0x10ca, 0x020000, NULL, 10, 0, 0, 2, 4,
         0, 0, 0, 1},
        {"0000:06:12.5", "pci0000:00", 0x8086, 0x10d3, 0x020000, "vfio-pci", 13, 0, 0, 1, 1, 0, 0,
         -1, 1},
    };

    for (size_t i = 0; i < sizeof(pcis) / sizeof(pcis[0]); i++)
        at_add_pci(root, &pcis[i]);
    at_add_vf(root, "0000:01:00.0", "pci0000:00/0000:00:1c.0", 0, "0000:01:10.0",
              "pci0000:00/0000:00:1c.0");

    /* SCSI below the SATA controller: the seed's chain. */
    dev_entry(root, HOST, "DEVTYPE=scsi_host\n", "sys/bus/scsi/devices/host1",
              "../../../devices/pci0000:00/0000:00:1f.2/ata1/host1");
    at_file(root, HOST "/scsi_host/host1/unique_id", "1\n");
    dev_entry(root, TARGET, "DEVTYPE=scsi_target\n", "sys/bus/scsi/devices/target1:0:0",
              "../../../devices/pci0000:00/0000:00:1f.2/ata1/host1/target1:0:0");
    dev_entry(root, LUN, "DEVTYPE=scsi_device\nDRIVER=sd\nMODALIAS=scsi:t-0x00\n",
              "sys/bus/scsi/devices/1:0:0:0",
              "../../../devices/pci0000:00/0000:00:1f.2/ata1/host1/target1:0:0/1:0:0:0");
    at_file(root, LUN "/type", "0\n");
    at_file(root, LUN "/vendor", "ATA     \n");
    at_file(root, LUN "/model", "QEMU HARDDISK   \n");
    at_file(root, LUN "/serial", "QM00001\n");
    at_link(root, LUN "/driver", "../../../../../../../bus/scsi/drivers/sd");
    dev_entry(root, LUN "/scsi_generic/sg1", "MAJOR=21\nMINOR=1\nDEVNAME=sg1\n",
              "sys/class/scsi_generic/sg1",
              "../../devices/pci0000:00/0000:00:1f.2/ata1/host1/target1:0:0/1:0:0:0/"
              "scsi_generic/sg1");
    dev_entry(root, LUN "/block/sda", "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n",
              "sys/class/block/sda",
              "../../devices/pci0000:00/0000:00:1f.2/ata1/host1/target1:0:0/1:0:0:0/block/sda");
    at_link(root, LUN "/block/sda/device", "../../../1:0:0:0");
    at_file(root, LUN "/block/sda/size", "2097152\n");
    at_file(root, LUN "/block/sda/removable", "0\n");
    at_file(root, LUN "/block/sda/queue/logical_block_size", "512\n");
    dev_entry(root, LUN "/block/sda/sda1", "MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\n",
              "sys/class/block/sda1",
              "../../devices/pci0000:00/0000:00:1f.2/ata1/host1/target1:0:0/1:0:0:0/block/sda/"
              "sda1");
    at_file(root, LUN "/block/sda/sda1/partition", "1\n");
    dev_entry(root, "sys/devices/virtual/block/loop0",
              "MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n", "sys/class/block/loop0",
              "../../devices/virtual/block/loop0");

    /* Networking */
    dev_entry(root, "sys/devices/pci0000:00/0000:00:19.0/net/eth0", "INTERFACE=eth0\nIFINDEX=2\n",
              "sys/class/net/eth0", "../../devices/pci0000:00/0000:00:19.0/net/eth0");
    attrs(root, "sys/devices/pci0000:00/0000:00:19.0/net/eth0",
          (const char *const[]){"address", "52:54:00:12:34:56\n", "operstate", "up\n", "speed",
                                "1000\n", NULL});
    dev_entry(root, "sys/devices/virtual/net/lo", "INTERFACE=lo\nIFINDEX=1\n", "sys/class/net/lo",
              "../../devices/virtual/net/lo");
    attrs(root, "sys/devices/virtual/net/lo",
          (const char *const[]){"address", "00:00:00:00:00:00\n", "operstate", "unknown\n", NULL});

    /* USB: root hub, a tablet, their interfaces. */
    usb_entry(root, "usb1", "DEVTYPE=usb_device\nDRIVER=usb\nDEVNAME=bus/usb/001/001\n",
              (const char *const[]){"busnum", "1\n", "devnum", "1\n", "idVendor", "1d6b\n",
                                    "idProduct", "0001\n", "manufacturer", "Linux 6.1.0 uhci_hcd\n",
                                    "product", "UHCI Host Controller\n", NULL});
    usb_entry(root, "usb1/1-0:1.0", "DEVTYPE=usb_interface\nDRIVER=hub\n",
              (const char *const[]){"bInterfaceNumber", "00\n", "bInterfaceClass", "09\n",
                                    "bInterfaceSubClass", "00\n", "bInterfaceProtocol", "00\n",
                                    NULL});
    usb_entry(root, "usb1/1-2", "DEVTYPE=usb_device\nDRIVER=usb\nDEVNAME=bus/usb/001/002\n",
              (const char *const[]){"busnum", "1\n", "devnum", "2\n", "idVendor", "0627\n",
                                    "idProduct", "0001\n", "product", "QEMU USB Tablet\n", NULL});
    usb_entry(root, "usb1/1-2/1-2:1.0", "DEVTYPE=usb_interface\nDRIVER=usbhid\n",
              (const char *const[]){"bInterfaceNumber", "00\n", "bInterfaceClass", "03\n",
                                    "bInterfaceSubClass", "00\n", "bInterfaceProtocol", "00\n",
                                    "interface", "HID Tablet\n", NULL});

    /* A names database inside the tree, so results do not depend on the host's hwdb. */
    at_file(root, "usr/share/hwdata/pci.ids",
            "8086  Intel Corporation\n"
            "\t1502  82579LM Gigabit Network Connection\n"
            "\t3a22  82801JI (ICH10 Family) SATA AHCI Controller\n");
}

int at_run(const char *cmd, char **out, char **err)
{
    char errfile[] = "/tmp/hostdev-adapters-err-XXXXXX";
    char *full, buf[4096];
    size_t len = 0, cap = 0;
    char *data = NULL;
    int fd = mkstemp(errfile), status;
    FILE *p;

    ck_assert(fd >= 0);
    close(fd);
    ck_assert(asprintf(&full, "%s 2>%s", cmd, errfile) > 0);
    p = popen(full, "r");
    ck_assert(p != NULL);
    for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) {
        if (len + n + 1 > cap) {
            char *grown = realloc(data, (len + n + 1) * 2);
            ck_assert(grown != NULL);
            data = grown;
            cap = (len + n + 1) * 2;
        }
        memcpy(data + len, buf, n);
        len += n;
    }
    status = pclose(p);
    free(full);
    if (data == NULL)
        data = calloc(1, 1);
    else
        data[len] = '\0';
    if (out != NULL)
        *out = data;
    else
        free(data);
    if (err != NULL) {
        FILE *e = fopen(errfile, "r");
        size_t n = e ? fread(buf, 1, sizeof(buf) - 1, e) : 0;
        buf[n] = '\0';
        if (e != NULL)
            fclose(e);
        *err = strdup(buf);
    }
    unlink(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

const char *at_build_dir(void)
{
    const char *b = getenv("HOSTDEV_BUILD");
    return b && b[0] ? b : "build";
}

const char *at_src_dir(void)
{
    const char *s = getenv("HOSTDEV_SRCDIR");
    return s && s[0] ? s : ".";
}

bool at_domain_validates(const char *dir, const char *hostdevs)
{
    char *path, *cmd;
    FILE *f;
    bool ok;

    ck_assert(asprintf(&path, "%s/dom.xml", dir) > 0);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fprintf(f, "<domain type='kvm'>\n  <name>vm1</name>\n  <memory>131072</memory>\n"
               "  <os>\n    <type>hvm</type>\n  </os>\n  <devices>\n%s  </devices>\n</domain>\n",
            hostdevs);
    fclose(f);
    ck_assert(asprintf(&cmd, "xmllint --noout --relaxng /usr/share/libvirt/schemas/domain.rng "
                             "'%s'", path) > 0);
    ok = at_run(cmd, NULL, NULL) == 0;
    free(cmd);
    free(path);
    return ok;
}
