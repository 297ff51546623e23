/* tmptree.h - changes by hand to a test's tree: trees themselves are specs, materialized or
 * mounted (fixture.h); what no spec can make (a NUL inside cmdline, a garbled file) a test writes
 * on top with these. */
#ifndef HOSTDEV_TMPTREE_H
#define HOSTDEV_TMPTREE_H

#include <stddef.h>

/* A new empty directory under $TMPDIR (or /tmp); free() the path after tmptree_remove(). */
char *tmptree_new(void);
/* Create @root/@rel with parents, holding @content (NULL: a directory instead). 0 or -errno. */
int tmptree_write(const char *root, const char *rel, const char *content);
/* The same with @len bytes of binary @data. */
int tmptree_write_data(const char *root, const char *rel, const void *data, size_t len);
/* A directory @root/@rel with parents. */
int tmptree_mkdir(const char *root, const char *rel);
/* A symlink @root/@rel -> @target (parents created). */
int tmptree_symlink(const char *root, const char *rel, const char *target);
/* rm -rf @root; never follows links. */
int tmptree_remove(const char *root);

#endif
