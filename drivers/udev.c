/* udev.c - what libudev is good for on a live host: names from the hwdb (no sysfs needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#include "internal.h"

struct hd_hwdb {
    struct udev *udev;
    struct udev_hwdb *hwdb;
};

struct hd_hwdb *hd_hwdb_open(void)
{
    struct hd_hwdb *h;

    /* libudev opens an empty database rather than failing; no hwdb.bin means no hwdb. */
    if (access("/etc/udev/hwdb.bin", R_OK) != 0 && access("/usr/lib/udev/hwdb.bin", R_OK) != 0 &&
        access("/lib/udev/hwdb.bin", R_OK) != 0)
        return NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->udev = udev_new();
    h->hwdb = h->udev ? udev_hwdb_new(h->udev) : NULL;
    if (h->hwdb == NULL) {
        hd_hwdb_close(h);
        return NULL;
    }
    return h;
}

void hd_hwdb_close(struct hd_hwdb *h)
{
    if (h == NULL)
        return;
    if (h->hwdb)
        udev_hwdb_unref(h->hwdb);
    if (h->udev)
        udev_unref(h->udev);
    free(h);
}

int hd_hwdb_lookup(struct hd_hwdb *h, uint16_t vendor, uint16_t device, char **vendor_name,
                   char **product_name)
{
    struct udev_list_entry *e;
    char modalias[64];
    bool any = false;

    *vendor_name = *product_name = NULL;
    snprintf(modalias, sizeof(modalias), "pci:v%08Xd%08X*", vendor, device);
    udev_list_entry_foreach(e, udev_hwdb_get_properties_list_entry(h->hwdb, modalias, 0))
    {
        const char *k = udev_list_entry_get_name(e), *v = udev_list_entry_get_value(e);
        any = true;
        if (strcmp(k, "ID_VENDOR_FROM_DATABASE") == 0 && *vendor_name == NULL)
            *vendor_name = strdup(v);
        else if (strcmp(k, "ID_MODEL_FROM_DATABASE") == 0 && *product_name == NULL)
            *product_name = strdup(v);
    }
    return any ? 0 : -ENOENT;
}
