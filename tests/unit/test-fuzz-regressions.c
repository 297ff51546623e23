/* test-fuzz-regressions.c - every fuzz seed and every input that once crashed a parser
 * (tests/fuzz/regressions/TARGET/) replayed through that parser in this build, sanitizers and
 * all: `make fuzz` finds, `make check` keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters-tree.h"
#include "hdtest.h"

/* Keep in step with FUZZ_TARGETS in the Makefile. */
static const char *const targets[] = {"pciaddr", "cmdline", "uevent", "ueventmsg", "spec", "domxml",
                                      "reservation", "hwdb", "mdevxml", "modprobe"};

static void replay(const char *target, const char *dirs)
{
    char cmd[2048], *out = NULL, *err = NULL;
    int rc;

    /* The build directory is absolute or relative to the source tree (as make passes it). */
    snprintf(cmd, sizeof(cmd), "cd %s && %s/fuzz/replay-%s %s", at_src_dir(), at_build_dir(),
             target, dirs);
    rc = at_run(cmd, &out, &err);
    ck_assert_msg(rc == 0, "%s: replay-%s exited %d:\n%s", dirs, target, rc, err);
    ck_assert_msg(strstr(out, "replayed ") != NULL, "%s: %s", dirs, out);
    free(out);
    free(err);
}

HD_TEST_FILE(.timeout = 120);

HD_LOOP_TEST(regressions_replay, (int)(sizeof(targets) / sizeof(targets[0])))
{
    char dir[256];

    snprintf(dir, sizeof(dir), "tests/fuzz/regressions/%s", targets[_i]);
    replay(targets[_i], dir);
}
END_TEST

HD_LOOP_TEST(seeds_replay, (int)(sizeof(targets) / sizeof(targets[0])))
{
    char dirs[256];

    snprintf(dirs, sizeof(dirs), "tests/fuzz/%s%s", targets[_i],
             strcmp(targets[_i], "spec") == 0 ? " tests/trees" : "");
    replay(targets[_i], dirs);
}
END_TEST
