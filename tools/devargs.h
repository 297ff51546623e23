/* devargs.h - device-list arguments shared by detach, reattach, reset, check, show,
 * acquire, release. */
#ifndef HOSTDEV_DEVARGS_H
#define HOSTDEV_DEVARGS_H

#include "tool.h"

/* Parse every ADDR in argv[0..argc-1] (an allocated array, free() it); EXIT_USAGE (message
 * printed) when there is none or any is malformed. */
int devargs_parse(struct tool *t, int argc, char **argv, struct hd_pci_addr **addrs);
/* Parse and open every ADDR in argv[0..argc-1]; EXIT_USAGE (message printed) when any is
 * malformed or missing. */
int devargs_open(struct tool *t, int argc, char **argv, struct hd_device ***devs, size_t *n);
void devargs_free(struct hd_device **devs, size_t n);

/* A mediated device named on the command line: its UUID and device API (vfio-pci, ...). */
struct devarg_mdev {
    char uuid[37];
    char api[32];
};
/* As devargs_open(), where an argument that is a UUID (or libvirt's mdev_<uuid>) names a
 * mediated device instead: (*@mdevs)[i] is filled and (*@devs)[i] is NULL. EXIT_USAGE
 * (printed) when one does not exist. Free both with devargs_free_any(). */
int devargs_open_any(struct tool *t, int argc, char **argv, struct hd_device ***devs,
                     struct devarg_mdev **mdevs, size_t *n);
void devargs_free_any(struct hd_device **devs, struct devarg_mdev *mdevs, size_t n);

#endif
