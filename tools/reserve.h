/* reserve.h - what reserve, persist and unpersist share: printing what applying reservations
 * did (hd_reserve_config_apply() and friends). */
#ifndef HOSTDEV_RESERVE_H
#define HOSTDEV_RESERVE_H

#include <stdio.h>

#include "tool.h"

/* Where @e was read: "FILE:LINE", or the file alone (the command line), in @buf when needed. */
const char *reserve_entry_source(const struct hd_reserve_entry *e, char *buf, size_t size);
/* @sel as its entry's device word: the address, or VVVV:DDDD; in @buf (HD_PCI_ADDR_BUFSZ). */
const char *reserve_selector_name(const struct hd_pci_selector *sel, char *buf, size_t size);
/* The hd_reserve_flags the command line asked for (--dry-run, --force). */
unsigned int reserve_apply_flags(const struct tool *t);
/* Print each configuration error, and each entry hd_reserve_config_check() found refused, as
 * one line; EXIT_USAGE when there was any. */
int reserve_print_errors(struct tool *t, const struct hd_reserve_config *config);
/* Print each file of @list that is no mdev definition as one line; EXIT_USAGE when there was
 * any (`mdev defined` lists the others, `reserve --keep-going` makes them). */
int reserve_print_mdev_errors(struct tool *t, const struct hd_mdev_defined_list *list);
/* An hd_reserve_fn (@data: the struct tool): item @i of @result as a line of text as soon as it
 * is done (nothing under --json), a failure as an error line. */
void reserve_print_item(void *data, const struct hd_reserve_result *result, size_t i);
/* Item @i of @result, which failed, as an error line (its exit status by its reason; the
 * --force hint where --force would take it). */
void reserve_print_failure(struct tool *t, const struct hd_reserve_result *result, size_t i);
/* The exit status of what @result did: 2 when every item that failed was bad input, 1 when
 * any other failed, else 0. */
int reserve_result_exit(const struct hd_reserve_result *result);
/* Item @i of @result, a VF count (HD_RESERVE_NUMVFS done) or, under a dry run, a VF it removes
 * or makes, as one JSON object. */
void reserve_json_numvfs(struct json *j, const struct hd_reserve_result *result, size_t i);
/* "vfs": under a dry run, the VFs the VF counts of @result remove and make, in one array. */
void reserve_json_vfs(struct json *j, const struct hd_reserve_result *result);
/* The warnings of devices @result's operations put on vfio in its unsafe no-IOMMU mode
 * (tool_op_step_noiommu_warning()), those of @device alone unless it is NULL, each a string
 * of the array @j has begun (@j NULL: none, counted); how many. */
size_t reserve_json_noiommu_warnings(struct json *j, const struct hd_reserve_result *result,
                                     const char *device);
/* "steps": the steps of every operation @result ran, in one array (NULL: none). */
void reserve_json_steps(struct json *j, const struct hd_reserve_result *result);
/* @operation (persist, unpersist) failed with exit status @code, returned: under --json, when
 * a failed item's operation got as far as writing, its document on stdout with the steps of
 * every operation as they ended (undone, failed, not-run, not-undone; the error object goes to
 * stderr, as every command's). */
int reserve_failed(struct tool *t, const char *operation, const struct hd_reserve_result *result,
                   int code);

#endif
