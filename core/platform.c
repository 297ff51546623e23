/* platform.c - functions the host keeps: taking one from its driver takes part of the
 * platform with it (the host bridge, the LPC/ISA bridge that carries the keyboard controller,
 * the RTC and the TPM, the SMBus controller that reads memory and sensors, memory controllers,
 * interrupt and timer controllers, the BMC's IPMI interface). They share IOMMU groups with
 * ordinary functions on chipsets without ACS, so a group-wide detach would move them too. No
 * VM needs them; the engine refuses them without the force flag, directly and as members. */
#include "internal.h"

static const struct {
    uint32_t class, mask; /* base class, subclass; the programming interface is ignored */
    const char *what;
} platform_classes[] = {
    {0x060000, 0xffff00, "a host bridge"},
    {0x060100, 0xffff00, "an ISA/LPC bridge"},
    {0x060200, 0xffff00, "an EISA bridge"},
    {0x060300, 0xffff00, "an MCA bridge"},
    {0x068000, 0xffff00, "a chipset bridge"},
    {0x050000, 0xff0000, "a memory controller"},
    {0x080000, 0xffff00, "an interrupt controller"},
    {0x080100, 0xffff00, "a DMA controller"},
    {0x080200, 0xffff00, "a system timer"},
    {0x080300, 0xffff00, "a real-time clock"},
    {0x0c0500, 0xffff00, "an SMBus controller"},
    {0x0c0700, 0xffff00, "an IPMI interface"},
};

const char *hd_platform_function(const struct hd_device *dev)
{
    for (size_t i = 0; i < HD_ARRAY_SIZE(platform_classes); i++) {
        if ((hd_device_get_class(dev) & platform_classes[i].mask) == platform_classes[i].class)
            return platform_classes[i].what;
    }
    return NULL;
}

HD_EXPORT const char *hd_device_get_platform_role(struct hd_device *dev)
{
    /* The class alone decides: a listing that read it (from config space) reads nothing more. */
    if (hd_device_get_class(dev) == 0 && hd_device_fill_fields(dev, HD_FILL_IDENT, false) < 0)
        return NULL;
    return hd_platform_function(dev);
}
