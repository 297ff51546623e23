/* udev.c - names through libudev, for a hwdb.bin of a layout shared/hwdb.c does not read (a
 * future systemd's); hwdb.c says why it reads the file itself. libudev is opened then (dl.h);
 * without it names come from pci.ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#include "os.h"

struct hd_hwdb {
    void *dl;
    __typeof__(udev_new) *udev_new;
    __typeof__(udev_unref) *udev_unref;
    __typeof__(udev_hwdb_new) *hwdb_new;
    __typeof__(udev_hwdb_unref) *hwdb_unref;
    __typeof__(udev_hwdb_get_properties_list_entry) *properties;
    __typeof__(udev_list_entry_get_next) *next;
    __typeof__(udev_list_entry_get_name) *name;
    __typeof__(udev_list_entry_get_value) *value;
    struct udev *udev;
    struct udev_hwdb *hwdb;
};

static const struct hd_dl_sym udev_syms[] = {
    HD_DL_SYM(struct hd_hwdb, udev_new, udev_new),
    HD_DL_SYM(struct hd_hwdb, udev_unref, udev_unref),
    HD_DL_SYM(struct hd_hwdb, hwdb_new, udev_hwdb_new),
    HD_DL_SYM(struct hd_hwdb, hwdb_unref, udev_hwdb_unref),
    HD_DL_SYM(struct hd_hwdb, properties, udev_hwdb_get_properties_list_entry),
    HD_DL_SYM(struct hd_hwdb, next, udev_list_entry_get_next),
    HD_DL_SYM(struct hd_hwdb, name, udev_list_entry_get_name),
    HD_DL_SYM(struct hd_hwdb, value, udev_list_entry_get_value),
};

struct hd_hwdb *hd_hwdb_open(void)
{
    struct hd_hwdb *h;
    char why[256];

    /* libudev opens an empty database rather than failing; no hwdb.bin means no hwdb. */
    if (access("/etc/udev/hwdb.bin", R_OK) != 0 && access("/usr/lib/udev/hwdb.bin", R_OK) != 0 &&
        access("/lib/udev/hwdb.bin", R_OK) != 0)
        return NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->dl = hd_dl_open("libudev.so.1", udev_syms, HD_ARRAY_SIZE(udev_syms), h, why, sizeof(why));
    h->udev = h->dl ? h->udev_new() : NULL;
    h->hwdb = h->udev ? h->hwdb_new(h->udev) : NULL;
    if (h->hwdb == NULL) {
        hd_hwdb_close(h); /* names come from pci.ids then */
        return NULL;
    }
    return h;
}

void hd_hwdb_close(struct hd_hwdb *h)
{
    if (h == NULL)
        return;
    if (h->hwdb)
        h->hwdb_unref(h->hwdb);
    if (h->udev)
        h->udev_unref(h->udev);
    hd_dl_close(h->dl);
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
    for (e = h->properties(h->hwdb, modalias, 0); e != NULL; e = h->next(e)) {
        const char *k = h->name(e), *v = h->value(e);
        any = true;
        if (strcmp(k, "ID_VENDOR_FROM_DATABASE") == 0 && *vendor_name == NULL)
            *vendor_name = strdup(v);
        else if (strcmp(k, "ID_MODEL_FROM_DATABASE") == 0 && *product_name == NULL)
            *product_name = strdup(v);
    }
    return any ? 0 : -ENOENT;
}
