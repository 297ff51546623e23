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

#endif
