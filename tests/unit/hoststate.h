/* hoststate.h - everything a writing operation may change on a fake kernel, as one string to
 * compare before and after: drivers, driver_override, VF counts and autoprobe, device nodes
 * and their owners, the driver records, the intent logs and the map (without its times and
 * checksum). And the writes an operation made, learned from the fake kernel's log. */
#ifndef HOSTDEV_TEST_HOSTSTATE_H
#define HOSTDEV_TEST_HOSTSTATE_H

#include <stddef.h>

#include "fixture.h"

#define HS_PATH 160

/* The state of @devices (NULL-terminated addresses) and of the state directory; free() it. */
char *hs_snapshot(struct fx *fx, const char *const *devices);
/* The paths written since the log line @mark, in order; how many (at most @max). */
size_t hs_writes_since(struct fx *fx, const char *mark, char paths[][HS_PATH], size_t max);
/* How many times @paths[i] occurs in @paths[0..i]: the nth write to that file. */
unsigned int hs_occurrence(char paths[][HS_PATH], size_t i);

#endif
