/* acpi.c - the firmware's IOMMU tables (ACPI DMAR, IVRS) as sys/firmware/acpi/tables shows them. */
#include <string.h>

#include "fakesys.h"

/* Little-endian stores into a table. */
static void le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, v & 0xffff);
    le16(p + 2, v >> 16);
}

static void le64(uint8_t *p, uint64_t v)
{
    le32(p, (uint32_t)v);
    le32(p + 4, (uint32_t)(v >> 32));
}

/* The 36-byte header every ACPI table starts with; the checksum makes the bytes sum to 0. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    le32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "FAKSYS", 6);
    memcpy(t + 16, "HOSTDEV ", 8);
    le32(t + 24, 1);
    memcpy(t + 28, "HDEV", 4);
    le32(t + 32, 1);
}

static void checksum(uint8_t *t, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + t[i]);
    t[9] = (uint8_t)(t[9] - sum);
}

void acpi_iommu_table(const struct kernel *k, struct buf *out)
{
    uint8_t t[ACPI_IVRS_SIZE] = {0};
    size_t len;

    if (k->iommu == IOMMU_INTEL) {
        /* DMAR: host address width, flags (bit 0 INTR_REMAP), one DRHD covering every
         * device (INCLUDE_PCI_ALL) at the usual register base. */
        len = ACPI_DMAR_SIZE;
        header(t, "DMAR", (uint32_t)len, 1);
        t[36] = 38;
        t[37] = k->irq_remap ? 0x01 : 0x00;
        le16(t + 48, 0);  /* DRHD */
        le16(t + 50, 16); /* its length */
        t[52] = 0x01;     /* INCLUDE_PCI_ALL */
        le16(t + 54, 0);  /* segment */
        le64(t + 56, 0xfed90000ULL);
    } else {
        /* IVRS: IVinfo (EFRSup when interrupt remapping is there), one IVHD type 10h for the
         * IOMMU function 00:00.2. */
        len = ACPI_IVRS_SIZE;
        header(t, "IVRS", (uint32_t)len, 2);
        le32(t + 36, (k->irq_remap ? 1u : 0u) | 0x00203040u);
        t[48] = 0x10;     /* IVHD type 10h */
        t[49] = 0xb0;     /* flags */
        le16(t + 50, 24); /* its length */
        le16(t + 52, 0x0002);
        le16(t + 54, 0x40);
        le64(t + 56, 0xfd200000ULL);
    }
    checksum(t, len);
    buf_add(out, t, len);
}
