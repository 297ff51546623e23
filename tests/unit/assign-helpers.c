/* assign-helpers.c - plain temporary trees for the assignment tests (see assign-helpers.h),
 * built with tmptree. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assign-helpers.h"
#include "fixture.h"
#include "tmptree.h"

/* The generic parts are tmptree's; these only fail the test instead of returning errors. */
char *ah_tree_new(void)
{
    char *path = tmptree_new();

    ck_assert_ptr_nonnull(path);
    return path;
}

char *ah_tree(const char *spec_text)
{
    struct fx fx;
    char *root;

    ck_assert_msg(fx_materialize_text(&fx, spec_text) == 0, "materialize: %s", fx.error);
    ck_assert_ptr_nonnull(root = strdup(fx.root));
    return root;
}

void ah_tree_remove(const char *root)
{
    tmptree_remove(root);
}

void ah_write(const char *root, const char *rel, const char *content)
{
    int r = tmptree_write(root, rel, content);

    ck_assert_msg(r == 0 || (content == NULL && r == -EEXIST), "%s/%s: %s", root, rel,
                  strerror(-r));
}

void ah_symlink(const char *root, const char *rel, const char *target)
{
    char path[4096];
    int r;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    unlink(path); /* rebinding replaces the driver link */
    r = tmptree_symlink(root, rel, target);
    ck_assert_msg(r == 0, "symlink %s: %s", path, strerror(-r));
}

char *ah_read(const char *root, const char *rel)
{
    char path[4096], *data = NULL;
    size_t cap = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    if ((f = fopen(path, "r")) == NULL)
        return NULL;
    ssize_t n = getdelim(&data, &cap, '\0', f);
    fclose(f);
    if (n < 0) {
        free(data);
        return strdup("");
    }
    return data;
}

bool ah_exists(const char *root, const char *rel)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    return lstat(path, &st) == 0;
}

void ah_set_driver(const char *root, const char *bdf, const char *driver)
{
    char rel[256], target[256], uevent[512];

    char path[4096], old[256];
    ssize_t n;

    /* The kernel links the device in its driver's directory too (driver_sysfs_add()). */
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver", root, bdf);
    if ((n = readlink(path, old, sizeof(old) - 1)) > 0) {
        old[n] = '\0';
        const char *name = strrchr(old, '/');
        snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/%s/%s", root, name ? name + 1 : old,
                 bdf);
        unlink(path);
    }
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver", bdf);
    if (driver != NULL) {
        snprintf(target, sizeof(target), "../../../../bus/pci/drivers/%s", driver);
        ah_symlink(root, rel, target);
        snprintf(target, sizeof(target), "sys/bus/pci/drivers/%s", driver);
        ah_write(root, target, NULL);
        snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/%s", driver, bdf);
        snprintf(target, sizeof(target), "../../devices/%s", bdf);
        ah_symlink(root, rel, target);
    } else {
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        unlink(path);
    }
    snprintf(uevent, sizeof(uevent),
             "%s%s%sPCI_CLASS=20000\nPCI_ID=8086:10D3\nPCI_SUBSYS_ID=8086:A01F\n"
             "PCI_SLOT_NAME=%s\nMODALIAS=pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00\n",
             driver ? "DRIVER=" : "", driver ? driver : "", driver ? "\n" : "", bdf);
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/uevent", bdf);
    ah_write(root, rel, uevent);
}

void ah_device(const char *root, const char *bdf, int group, const char *driver)
{
    char rel[256], target[256];
    unsigned char cfg[64] = {0x86, 0x80, 0xd3, 0x10};
    char path[4096];

    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/config", bdf);
    cfg[0x0b] = 0x02; /* class: network */
    cfg[0x0e] = 0x00; /* header type 0: an endpoint */
    ck_assert_int_eq(tmptree_write_data(root, rel, cfg, sizeof(cfg)), 0);
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver_override", bdf);
    ah_write(root, rel, "(null)\n");
    if (group >= 0) {
        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/iommu_group", bdf);
        snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d", group);
        ah_symlink(root, rel, target);
        snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices/%s", group, bdf);
        snprintf(target, sizeof(target), "../../../../bus/pci/devices/%s", bdf);
        ah_symlink(root, rel, target);
    }
    ah_set_driver(root, bdf, driver);
    if (driver != NULL && strstr(driver, "vfio") != NULL && group >= 0) {
        snprintf(rel, sizeof(rel), "dev/vfio/%d", group);
        ah_write(root, rel, "");
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        ck_assert_int_eq(chmod(path, 0600), 0);
    }
}

struct hd_ctx *ah_ctx(const char *root)
{
    struct hd_ctx *ctx;

    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
    hd_ctx_set_names_file(ctx, "");
    hd_ctx_set_timeout_ms(ctx, 5000);
    return ctx;
}

struct hd_pci_addr ah_addr(const char *bdf)
{
    struct hd_pci_addr a;

    ck_assert_int_eq(hd_pci_addr_parse(bdf, &a), 0);
    return a;
}

unsigned ah_mode(const char *root, const char *rel, uid_t *uid, gid_t *gid)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
    if (uid)
        *uid = st.st_uid;
    if (gid)
        *gid = st.st_gid;
    return st.st_mode & 07777;
}
