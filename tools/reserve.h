/* reserve.h - what reserve, persist and unpersist share: applying one entry to one device. */
#ifndef HOSTDEV_RESERVE_H
#define HOSTDEV_RESERVE_H

#include <stdio.h>

#include "tool.h"

/* Print each configuration error as one line; EXIT_USAGE when there was any. */
int reserve_print_errors(struct tool *t, const struct hd_reserve_config *config);
/* Reserve @dev as @e says and say what happened (nothing in JSON mode). */
int reserve_device(struct tool *t, struct hd_device *dev, const struct hd_reserve_entry *e);
/* Give the PF @dev the VF count @e asks for (later, when it has no driver yet). */
int reserve_numvfs(struct tool *t, struct hd_device *dev, const struct hd_reserve_entry *e);

#endif
