/* devargs.h - device-list arguments shared by detach, reattach, reset, check, show. */
#ifndef HOSTDEV_DEVARGS_H
#define HOSTDEV_DEVARGS_H

#include "tool.h"

/* Parse and open every ADDR in argv[0..argc-1]; EXIT_USAGE (message printed) when any is
 * malformed or missing. */
int devargs_open(struct tool *t, int argc, char **argv, struct hd_device ***devs, size_t *n);
void devargs_free(struct hd_device **devs, size_t n);

#endif
