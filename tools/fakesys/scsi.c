/* scsi.c - SCSI devices, as drivers/scsi lays them out below their host adapter: hostH,
 * targetH:B:T and the device H:B:T:L (type, vendor, model), its scsi_generic/sgN with
 * dev/sgN (major 21), and for a disk its block device (a block child of the PCI device the
 * adapter is, placed below the SCSI device, so that what the host-safety checks read of it
 * — its number, mounts, holders — works as for any disk). A USB stick's SCSI host hangs
 * below the stick's interface 0 (usb.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

#define SCSI_GENERIC_MAJOR 21

int scsi_host_alloc(const struct kernel *k)
{
    int h = 0;

    for (size_t i = 0; i < k->nscsis; i++) {
        if (k->scsis[i]->host >= h)
            h = k->scsis[i]->host + 1;
    }
    for (size_t i = 0; i < k->nusbs; i++) {
        if (k->usbs[i]->scsi_host >= h)
            h = k->usbs[i]->scsi_host + 1;
    }
    return h;
}

/* The disk's block device: sdX numbers in steps of 16, as sd does. */
static int add_disk(struct kernel *k, struct scsidev *s, char *err, size_t errsz)
{
    struct child *c;
    int disks = 0;

    for (size_t i = 0; i < k->nscsis; i++)
        disks += k->scsis[i]->disk != NULL && k->scsis[i] != s;
    if (add_child(s->ctrl, "block", s->disk, NULL) < 0) {
        snprintf(err, errsz, "scsi: block device %s is already defined", s->disk);
        return -1;
    }
    c = &s->ctrl->children[s->ctrl->nchildren - 1];
    c->devnum = xasprintf("8:%d", disks * 16);
    c->sectors = s->sectors;
    c->under = scsi_rel_path(s);
    return 0;
}

/* The lowest sg number not taken, as sg's idr_alloc() hands them out. */
static int sg_free_number(const struct kernel *k)
{
    int n = 0;

    while (scsi_find(k, n) != NULL)
        n++;
    return n;
}

static struct scsidev *scsi_new(struct kernel *k, struct device *ctrl, struct usbdev *usb)
{
    struct scsidev *s = xcalloc(1, sizeof(*s));

    s->ctrl = ctrl;
    s->usb = usb;
    s->sg = sg_free_number(k);
    s->perm = (struct node_perm){.mode = 0660};
    k->scsis = xrealloc(k->scsis, (k->nscsis + 1) * sizeof(*k->scsis));
    k->scsis[k->nscsis++] = s;
    k->dirty = true;
    return s;
}

int scsi_add(struct kernel *k, int argc, char **argv, char *err, size_t errsz)
{
    struct device *ctrl;
    struct scsidev *s;
    unsigned long v[4];
    long type;

    if (argc < 3) {
        snprintf(err, errsz, "usage: scsi ADAPTER H:B:T:L [type=N] [vendor=TEXT] [model=TEXT] "
                 "[serial=TEXT] [sg=N] [disk=NAME [size=SECTORS]]");
        return -1;
    }
    if ((ctrl = device_find_name(k, argv[1], strlen(argv[1]))) == NULL) {
        snprintf(err, errsz, "scsi: no device %s (declare the adapter first)", argv[1]);
        return -1;
    }
    const char *p = argv[2];
    static const unsigned long max[4] = {4095, 7, 65535, 65535};
    for (int i = 0; i < 4 && p != NULL; i++) {
        char *end;
        v[i] = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : max[i] + 1;
        p = v[i] > max[i] || *end != (i < 3 ? ':' : '\0') ? NULL : end + 1;
    }
    if (p == NULL) {
        snprintf(err, errsz, "scsi: '%s' is not H:B:T:L", argv[2]);
        return -1;
    }
    int h = (int)v[0], b = (int)v[1], t = (int)v[2], l = (int)v[3];
    for (size_t i = 0; i < k->nscsis; i++) {
        if (k->scsis[i]->host == h && (k->scsis[i]->ctrl != ctrl || k->scsis[i]->usb ||
                                       (k->scsis[i]->channel == b && k->scsis[i]->target == t &&
                                        k->scsis[i]->lun == l))) {
            snprintf(err, errsz, "scsi %s: host %d is taken", argv[2], h);
            return -1;
        }
    }
    s = scsi_new(k, ctrl, NULL);
    s->host = h;
    s->channel = b;
    s->target = t;
    s->lun = l;
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i];
        char *end;
        if (strncmp(o, "type=", 5) == 0 && (type = strtol(o + 5, &end, 10), *end == '\0') &&
            end != o + 5 && type >= 0 && type <= 0x1f) {
            s->type = (int)type;
        } else if (strncmp(o, "vendor=", 7) == 0) {
            free(s->vendor);
            s->vendor = xstrdup(o + 7);
        } else if (strncmp(o, "model=", 6) == 0) {
            free(s->model);
            s->model = xstrdup(o + 6);
        } else if (strncmp(o, "serial=", 7) == 0 && o[7]) {
            free(s->serial);
            s->serial = xstrdup(o + 7);
        } else if (strncmp(o, "sg=", 3) == 0 && (type = strtol(o + 3, &end, 10), *end == '\0') &&
                   end != o + 3 && type >= 0 && type < 32768 &&
                   (scsi_find(k, (int)type) == NULL || scsi_find(k, (int)type) == s)) {
            s->sg = (int)type; /* another number than the next free one: sg0 went away */
        } else if (strncmp(o, "size=", 5) == 0 && o[5] >= '0' && o[5] <= '9' &&
                   (s->sectors = strtoull(o + 5, &end, 10), *end == '\0')) {
            /* the disk's, in 512-byte sectors */
        } else if (strncmp(o, "disk=", 5) == 0 && spec_name_ok(o + 5) && !s->disk) {
            s->disk = xstrdup(o + 5);
        } else {
            snprintf(err, errsz, "scsi %s: bad option '%s'", argv[2], o);
            return -1;
        }
    }
    if (s->sectors && !s->disk) {
        snprintf(err, errsz, "scsi %s: size= needs disk=", argv[2]);
        return -1;
    }
    return s->disk ? add_disk(k, s, err, errsz) : 0;
}

int scsi_add_below_usb(struct kernel *k, struct usbdev *u, char *err, size_t errsz)
{
    struct scsidev *s = scsi_new(k, u->ctrl, u);

    s->host = u->scsi_host;
    s->vendor = xstrdup("USB");
    s->model = xstrdup("Flash Disk");
    s->disk = xstrdup(u->disk);
    return add_disk(k, s, err, errsz);
}

struct scsidev *scsi_find(const struct kernel *k, int sg)
{
    for (size_t i = 0; i < k->nscsis; i++) {
        if (k->scsis[i]->sg == sg)
            return k->scsis[i];
    }
    return NULL;
}

void scsi_free_all(struct kernel *k)
{
    for (size_t i = 0; i < k->nscsis; i++) {
        free(k->scsis[i]->vendor);
        free(k->scsis[i]->model);
        free(k->scsis[i]->serial);
        free(k->scsis[i]->disk);
        free(k->scsis[i]);
    }
    free(k->scsis);
    k->scsis = NULL;
    k->nscsis = 0;
}

void scsi_host_probed(struct kernel *k, const struct device *ctrl)
{
    for (size_t i = 0; i < k->nscsis; i++) {
        if (k->scsis[i]->ctrl == ctrl) /* a new dev/sgN */
            k->scsis[i]->perm = (struct node_perm){.mode = 0660};
    }
}

/* ---- sysfs ------------------------------------------------------------------------------- */

char *scsi_rel_path(const struct scsidev *s)
{
    char *host = xasprintf("host%d/target%d:%d:%d/%d:%d:%d:%d", s->host, s->host, s->channel,
                           s->target, s->host, s->channel, s->target, s->lun);
    char *p;

    if (s->usb == NULL)
        return host;
    /* below the stick's interface 0: usbB/B-PORT/B-PORT:1.0/hostH/... */
    p = xasprintf("usb%d/%s/%s:1.0/%s", s->usb->bus, s->usb->port, s->usb->port, host);
    free(host);
    return p;
}

void scsi_build_sys(struct kernel *k)
{
    for (size_t i = 0; i < k->nscsis; i++) {
        const struct scsidev *s = k->scsis[i];
        if (!device_children_live(s->ctrl))
            continue;
        char *ctrl = device_path(s->ctrl), *rel = scsi_rel_path(s);
        char *path = xasprintf("%s/%s", ctrl, rel), *name = strrchr(path, '/') + 1;
        char *hostpath = xstrdup(path), hname[32], sg[32], *sgpath;
        struct node *dir = tree_mkdirs(k->root, path), *sgd;

        *strstr(hostpath, "/target") = '\0';
        snprintf(hname, sizeof(hname), "host%d", s->host);
        struct node *hostdir = tree_mkdirs(k->root, hostpath);
        tree_kfile(hostdir, "uevent", "DEVTYPE=scsi_host\n");
        /* the host's class device; unique_id is what the driver sets (libata: the port's
         * print id), here the host number */
        tree_kfile(tree_mkdirs(tree_mkdirs(hostdir, "scsi_host"), hname), "unique_id", "%d\n",
                   s->host);
        tree_link_to(tree_mkdirs(k->root, "sys/bus/scsi/devices"), hname, hostpath);
        tree_link_to(tree_mkdirs(k->root, "sys/class/scsi_host"), hname, hostpath);
        char *tpath = xstrdup(path), tname[64];
        *strrchr(tpath, '/') = '\0';
        snprintf(tname, sizeof(tname), "target%d:%d:%d", s->host, s->channel, s->target);
        tree_kfile(tree_mkdirs(k->root, tpath), "uevent", "DEVTYPE=scsi_target\n");
        tree_link_to(tree_mkdirs(k->root, "sys/bus/scsi/devices"), tname, tpath);
        free(tpath);
        tree_kfile(dir, "type", "%d\n", s->type);
        tree_kfile(dir, "vendor", "%-8.8s\n", s->vendor ? s->vendor : "QEMU");
        tree_kfile(dir, "model", "%-16.16s\n", s->model ? s->model : "QEMU HARDDISK");
        /* Not a kernel attribute of a SCSI device (its serial is in vpd_pg80, udev's
         * ID_SERIAL), but where hostdev's node devices read a disk's serial: its block
         * device's device/serial (block_sda_SERIAL). */
        if (s->serial != NULL)
            tree_kfile(dir, "serial", "%s\n", s->serial);
        tree_kfile(dir, "uevent", "DEVTYPE=scsi_device\n%sMODALIAS=scsi:t-0x%02x\n",
             s->disk ? "DRIVER=sd\n" : "", (unsigned)s->type);
        tree_link_to(dir, "subsystem", "sys/bus/scsi");
        if (s->disk != NULL) {
            tree_mkdirs(k->root, "sys/bus/scsi/drivers/sd");
            tree_link_to(dir, "driver", "sys/bus/scsi/drivers/sd");
        }
        tree_link_to(tree_mkdirs(k->root, "sys/bus/scsi/devices"), name, path);
        snprintf(sg, sizeof(sg), "sg%d", s->sg);
        sgpath = xasprintf("%s/scsi_generic/%s", path, sg);
        sgd = tree_mkdirs(k->root, sgpath);
        tree_kfile(sgd, "uevent", "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\n", SCSI_GENERIC_MAJOR, s->sg,
                   sg);
        tree_kfile(sgd, "dev", "%d:%d\n", SCSI_GENERIC_MAJOR, s->sg);
        tree_link_to(sgd, "device", path);
        tree_link_to(tree_mkdirs(k->root, "sys/class/scsi_generic"), sg, sgpath);
        free(sgpath);
        free(hostpath);
        free(path);
        free(rel);
        free(ctrl);
    }
}

void scsi_build_dev(struct kernel *k, struct node *dev)
{
    for (size_t i = 0; i < k->nscsis; i++) {
        char name[32];
        if (!device_children_live(k->scsis[i]->ctrl))
            continue;
        snprintf(name, sizeof(name), "sg%d", k->scsis[i]->sg);
        sysfs_chr(dev, name, 0, SCSI_GENERIC_MAJOR, (unsigned)k->scsis[i]->sg,
                  &k->scsis[i]->perm);
    }
}
