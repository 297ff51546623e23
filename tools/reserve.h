/* reserve.h - what reserve, persist and unpersist share: applying one entry to one device. */
#ifndef HOSTDEV_RESERVE_H
#define HOSTDEV_RESERVE_H

#include <stdio.h>

#include "tool.h"

/* Print each configuration error as one line; EXIT_USAGE when there was any. */
int reserve_print_errors(struct tool *t, const struct hd_reserve_config *config);
/* The operations a command ran, kept for one JSON document at its end (persist, unpersist). */
struct reserve_ops {
    struct hd_op **v;
    size_t n;
};
/* Keep @op (its reference passes); EXIT_FAILED when out of memory, the op then dropped. */
int reserve_ops_keep(struct tool *t, struct reserve_ops *ops, struct hd_op *op);
/* "steps": every kept operation's steps, in one array. */
void reserve_ops_json(struct json *j, const struct reserve_ops *ops);
void reserve_ops_free(struct reserve_ops *ops);
/* Reserve @dev as @e says and say what happened (nothing in JSON mode); with @keep, the
 * operation is kept there for the caller's JSON. */
int reserve_device(struct tool *t, struct hd_device *dev, const struct hd_reserve_entry *e,
                   struct reserve_ops *keep);
/* Give the PF @dev the VF count @e asks for (later, when it has no driver yet); @keep as for
 * reserve_device(). */
int reserve_numvfs(struct tool *t, struct hd_device *dev, const struct hd_reserve_entry *e,
                   struct reserve_ops *keep);

#endif
