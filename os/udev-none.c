/* udev-none.c - the libc-only twin of udev.c: no libudev, so a hwdb.bin of a layout hwdb.c cannot
 * read gives way to pci.ids (one it reads is read as in the regular build). */
#include "os.h"

struct hd_hwdb *hd_hwdb_open(void)
{
    return NULL;
}

void hd_hwdb_close(struct hd_hwdb *hwdb)
{
    (void)hwdb;
}

int hd_hwdb_lookup(struct hd_hwdb *hwdb, uint16_t vendor, uint16_t device, char **vendor_name,
                   char **product_name)
{
    (void)hwdb;
    (void)vendor;
    (void)device;
    *vendor_name = *product_name = NULL;
    return -ENOTSUP;
}
