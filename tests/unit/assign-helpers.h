/* assign-helpers.h - plain temporary trees for the assignment tests: a device directory that
 * looks bound to a driver, IOMMU groups, device nodes, and the host files safety reads. */
#ifndef HOSTDEV_ASSIGN_HELPERS_H
#define HOSTDEV_ASSIGN_HELPERS_H

#include <stdbool.h>
#include <sys/types.h>

#include <hostdev/hostdev.h>

/* A new directory holding @spec_text's kernel as plain files (fx_materialize_text(), the
 * language of docs/fakesys-spec.md); free() it after ah_tree_remove(). */
char *ah_tree(const char *spec_text);
void ah_tree_remove(const char *root);
/* ROOT/@rel with parents; @content NULL makes a directory. Aborts the test on failure. */
void ah_write(const char *root, const char *rel, const char *content);
void ah_symlink(const char *root, const char *rel, const char *target);
/* Read ROOT/@rel whole (malloc'd), NULL when absent. */
char *ah_read(const char *root, const char *rel);
bool ah_exists(const char *root, const char *rel);
/* A context on @root with names off. */
struct hd_ctx *ah_ctx(const char *root);
struct hd_pci_addr ah_addr(const char *bdf);
/* st_mode & 07777 and owner of ROOT/@rel. */
unsigned ah_mode(const char *root, const char *rel, uid_t *uid, gid_t *gid);
/* @procs processes race for a device, each in a child of its own: child I calls @acquire(@arg,
 * "vm-I"), which returns 0 when it got it, -EBUSY when another did. Anything else, or a second
 * owner, fails the test (@round names it). The owner's VM name goes in @vm (16 bytes). */
void ah_race_one_owner(int procs, int (*acquire)(void *arg, const char *vm), void *arg, int round,
                       char vm[16]);

#endif
