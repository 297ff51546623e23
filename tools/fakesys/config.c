/* config.c - the config space a device shows, generated from the model (lspci reads it). */
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

/* Capability offsets: PM at 0x40, PCIe at 0x50, SR-IOV (extended) at 0x100. */
enum { CAP_PM = 0x40, CAP_EXP = 0x50, ECAP_SRIOV = 0x100 };

static const char *const speed_names[] = {"",
                                          "2.5 GT/s PCIe",
                                          "5.0 GT/s PCIe",
                                          "8.0 GT/s PCIe",
                                          "16.0 GT/s PCIe",
                                          "32.0 GT/s PCIe",
                                          "64.0 GT/s PCIe"};

const char *link_speed_name(int gen)
{
    return gen > 0 && gen < (int)FS_ARRAY_SIZE(speed_names) ? speed_names[gen] : "Unknown";
}

int link_speed_parse(const char *text)
{
    static const double gts[] = {0, 2.5, 5, 8, 16, 32, 64};
    char *end;

    if (strncmp(text, "gen", 3) == 0 && text[3] >= '1' && text[3] <= '6' && text[4] == '\0')
        return text[3] - '0';
    double v = strtod(text, &end);
    if (end == text || (*end != '\0' && strcmp(end, "GT/s") != 0))
        return -1;
    for (size_t i = 1; i < FS_ARRAY_SIZE(gts); i++)
        if (v == gts[i])
            return (int)i;
    return -1;
}

uint32_t config_bar0(const struct device *dev)
{
    /* 16 KiB per function, 4 MiB per bus, from 2 GiB up: distinct and below 4 GiB. */
    return 0x80000000u + ((uint32_t)dev->addr.bus << 22) +
           ((uint32_t)(dev->addr.slot * 8 + dev->addr.function) << 14);
}

size_t config_size(const struct device *dev)
{
    return dev->pcie ? CONFIG_SIZE_PCIE : CONFIG_SIZE_PCI;
}

static void put16(uint8_t *cfg, size_t off, uint32_t v)
{
    cfg[off] = (uint8_t)v;
    cfg[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *cfg, size_t off, uint32_t v)
{
    put16(cfg, off, v & 0xffff);
    put16(cfg, off + 2, v >> 16);
}

static bool has_method(const struct device *dev, int m)
{
    for (int i = 0; i < dev->nreset_default; i++)
        if (dev->reset_default[i] == m)
            return true;
    return false;
}

/* Highest bus number below a bridge (its subordinate bus). */
static int subordinate(const struct kernel *k, const struct device *bridge)
{
    int max = bridge->secondary;

    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *d = k->devices[i];
        for (const struct device *p = d->parent; p; p = p->parent)
            if (p == bridge && d->addr.bus > max)
                max = d->addr.bus;
    }
    return max;
}

static void build_pcie_cap(const struct device *dev, uint8_t *cfg)
{
    bool has_link = dev->port != PORT_RC_ENDPOINT;
    bool has_slot = dev->port == PORT_ROOT || dev->port == PORT_DOWNSTREAM;

    cfg[CAP_EXP] = 0x10;
    cfg[CAP_EXP + 1] = 0;
    put16(cfg, CAP_EXP + 2, 0x0002 | (uint32_t)dev->port << 4 | (has_slot ? 0x100 : 0));
    /* DevCap: 256-byte max payload; bit 28 is Function Level Reset. */
    put32(cfg, CAP_EXP + 4, 0x00008001u | (has_method(dev, RESET_FLR) ? 1u << 28 : 0));
    put16(cfg, CAP_EXP + 8, 0x2810);
    if (has_link && dev->cap_speed) {
        put32(cfg, CAP_EXP + 0x0c,
              (uint32_t)dev->cap_speed | (uint32_t)dev->cap_width << 4 | 3u << 10 |
                  (uint32_t)dev->link_port << 24);
        put16(cfg, CAP_EXP + 0x10, 0x0040);
        put16(cfg, CAP_EXP + 0x12,
              (uint32_t)dev->link_speed | (uint32_t)dev->link_width << 4 | 0x1000);
        put32(cfg, CAP_EXP + 0x2c, ((1u << dev->cap_speed) - 1) << 1);
        put16(cfg, CAP_EXP + 0x30, (uint32_t)dev->cap_speed);
    }
}

static void build_sriov_cap(const struct device *dev, uint8_t *cfg)
{
    put32(cfg, ECAP_SRIOV, 0x0010 | 1u << 16);
    put16(cfg, ECAP_SRIOV + 0x08, dev->numvfs ? 0x0009 : 0);
    put16(cfg, ECAP_SRIOV + 0x0c, (uint32_t)dev->totalvfs);
    put16(cfg, ECAP_SRIOV + 0x0e, (uint32_t)dev->totalvfs);
    put16(cfg, ECAP_SRIOV + 0x10, (uint32_t)dev->numvfs);
    cfg[ECAP_SRIOV + 0x12] = dev->addr.function;
    put16(cfg, ECAP_SRIOV + 0x14, (uint32_t)dev->vf_offset);
    put16(cfg, ECAP_SRIOV + 0x16, (uint32_t)dev->vf_stride);
    put16(cfg, ECAP_SRIOV + 0x1a, dev->vf_device);
    put32(cfg, ECAP_SRIOV + 0x1c, 0x553);
    put32(cfg, ECAP_SRIOV + 0x20, 1);
}

void config_build(const struct kernel *k, const struct device *dev, uint8_t *cfg)
{
    memset(cfg, 0, config_size(dev));
    /* A VF's vendor and device registers read all ones; sysfs vendor/device tell the truth. */
    put16(cfg, 0x00, dev->physfn ? 0xffff : dev->vendor);
    put16(cfg, 0x02, dev->physfn ? 0xffff : dev->device);
    put16(cfg, 0x04, dev->driver && !(dev->driver->flags & (DRV_STUB | DRV_VFIO)) ? 0x0406 : 0);
    put16(cfg, 0x06, 0x0010); /* capability list */
    cfg[0x08] = dev->revision;
    cfg[0x09] = dev->class & 0xff;
    cfg[0x0a] = (dev->class >> 8) & 0xff;
    cfg[0x0b] = (dev->class >> 16) & 0xff;
    cfg[0x0e] = (uint8_t)dev->header | (device_multifunction(k, dev) ? 0x80 : 0);
    if (dev->header == 0) {
        put32(cfg, 0x10, config_bar0(dev)); /* 32-bit memory, not prefetchable */
        put16(cfg, 0x2c, dev->subvendor);
        put16(cfg, 0x2e, dev->subdevice);
        cfg[0x3d] = 1;
    } else {
        cfg[0x18] = dev->addr.bus;
        cfg[0x19] = (uint8_t)(dev->secondary < 0 ? 0 : dev->secondary);
        cfg[0x1a] = (uint8_t)(dev->secondary < 0 ? 0 : subordinate(k, dev));
    }
    cfg[0x34] = CAP_PM;
    cfg[0x3c] = (uint8_t)dev->irq;
    cfg[CAP_PM] = 0x01;
    cfg[CAP_PM + 1] = dev->pcie ? CAP_EXP : 0;
    put16(cfg, CAP_PM + 2, 0x0003);
    /* PMCSR No_Soft_Reset set means a D3hot->D0 transition does not reset: no PM reset. */
    put16(cfg, CAP_PM + 4, has_method(dev, RESET_PM) ? 0 : 0x0008);
    if (dev->pcie) {
        build_pcie_cap(dev, cfg);
        if (dev->totalvfs > 0)
            build_sriov_cap(dev, cfg);
    }
}
