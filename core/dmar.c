/* dmar.c - the ACPI DMAR table: whether the firmware offers VT-d, interrupt remapping, RMRRs. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Intel VT-d specification, chapter 8: a 36-byte ACPI header, host address width, flags,
 * 10 reserved bytes, then remapping structures {u16 type, u16 length, ...}. */
#define DMAR_HEADER_LEN     48
#define DMAR_FLAGS_OFF      37
#define DMAR_TYPE_DRHD      0
#define DMAR_TYPE_RMRR      1
#define RMRR_SEGMENT_OFF    6
#define RMRR_SCOPES_OFF     24
#define SCOPE_TYPE_ENDPOINT 1
#define SCOPE_BUS_OFF       5
#define SCOPE_PATH_OFF      6

static unsigned int le16(const unsigned char *p)
{
    return (unsigned int)p[0] | (unsigned int)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An RMRR's device scopes: endpoints whose path has one hop are on the start bus and can be
 * named; a longer path needs bridge bus numbers we do not read here. */
static void rmrr_scopes(const unsigned char *rmrr, size_t len, struct hd_dmar_info *info)
{
    unsigned int segment = le16(rmrr + RMRR_SEGMENT_OFF);

    for (size_t off = RMRR_SCOPES_OFF; off + 2 <= len;) {
        const unsigned char *scope = rmrr + off;
        size_t slen = scope[1];
        if (slen < SCOPE_PATH_OFF + 2 || off + slen > len)
            break;
        if (scope[0] == SCOPE_TYPE_ENDPOINT) {
            if (slen == SCOPE_PATH_OFF + 2 && info->n_rmrr_devices < HD_DMAR_MAX_RMRR_DEVICES) {
                struct hd_pci_addr *a = &info->rmrr_devices[info->n_rmrr_devices++];
                a->domain = segment;
                a->bus = scope[SCOPE_BUS_OFF];
                a->slot = scope[SCOPE_PATH_OFF] & 0x1f;
                a->function = scope[SCOPE_PATH_OFF + 1] & 0x7;
            } else if (slen > SCOPE_PATH_OFF + 2) {
                info->rmrr_behind_bridge++;
            }
        }
        off += slen;
    }
}

static int parse(const unsigned char *data, size_t len, struct hd_dmar_info *info)
{
    size_t table_len;

    memset(info, 0, sizeof(*info));
    if (len < DMAR_HEADER_LEN || memcmp(data, "DMAR", 4) != 0)
        return -EBADMSG;
    table_len = le32(data + 4);
    if (table_len < DMAR_HEADER_LEN || table_len > len)
        return -EBADMSG;
    info->intr_remap = data[DMAR_FLAGS_OFF] & 1;
    info->x2apic_opt_out = data[DMAR_FLAGS_OFF] & 2;
    for (size_t off = DMAR_HEADER_LEN; off + 4 <= table_len;) {
        unsigned int type = le16(data + off), slen = le16(data + off + 2);
        if (slen < 4 || off + slen > table_len)
            return -EBADMSG; /* a structure running past the table: do not guess */
        if (type == DMAR_TYPE_DRHD)
            info->drhd++;
        else if (type == DMAR_TYPE_RMRR) {
            info->rmrr++;
            rmrr_scopes(data + off, slen, info);
        }
        off += slen;
    }
    return 0;
}

int hd_dmar_read(struct hd_ctx *ctx, struct hd_dmar_info *info)
{
    char *data;
    size_t len;
    int r;

    memset(info, 0, sizeof(*info));
    r = hd_fs_read_alloc(ctx, "sys/firmware/acpi/tables/DMAR", HD_READ_MAX, &data, &len);
    if (r < 0)
        return r;
    r = parse((const unsigned char *)data, len, info);
    free(data);
    return r;
}
