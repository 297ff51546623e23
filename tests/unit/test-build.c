/* test-build.c - the build as a user meets it: quiet by default (one short line per file, no
 * command lines), the make targets that need packages install them first, and the unit test
 * runner's report. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters-tree.h"
#include "hdtest.h"

HD_TEST_FILE(.timeout = 300);

HD_TEST(build_is_quiet)
{
    char dir[] = "/tmp/hostdev-build-XXXXXX", cmd[1024], *out = NULL, *err = NULL;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* The library, its archive and one tool: compile, archive and link lines. */
    /* A make of its own, not the jobserver of the make running the tests. */
    snprintf(cmd, sizeof(cmd),
             "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C '%s' --no-print-directory -j2 "
             "BUILD='%s' '%s/libhostdev.a' '%s/hostdev' 2>&1",
             at_src_dir(), dir, dir, dir);
    ck_assert_msg(at_run(cmd, &out, &err) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "  CC       "));
    ck_assert_ptr_nonnull(strstr(out, "  LD       "));
    for (const char *l = out; *l; l = strchr(l, '\n') + 1) {
        size_t len = strcspn(l, "\n");
        ck_assert_msg(strncmp(l, "  CC ", 5) == 0 || strncmp(l, "  LD ", 5) == 0 ||
                          strncmp(l, "  AR ", 5) == 0,
                      "a line that is not the quiet build's: %.*s", (int)len, l);
        ck_assert_msg(len < 100, "a command line: %.*s", (int)len, l);
    }
    free(out);
    free(err);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* make static, make fuzz and make bench start by installing what they need. */
HD_TEST(targets_install_their_packages)
{
    static const char *const targets[] = {"static", "fuzz", "bench", "demo", "check"};
    char cmd[512], *out = NULL, *err = NULL;

    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        snprintf(cmd, sizeof(cmd),
                 "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C '%s' --no-print-directory -n %s "
                 "| head -n 3",
                 at_src_dir(), targets[i]);
        ck_assert_int_eq(at_run(cmd, &out, &err), 0);
        ck_assert_msg(strstr(out, "build-aux/deps.sh ") != NULL, "make %s does not install its "
                      "packages first: %s", targets[i], out);
        free(out);
        free(err);
    }
    /* And each mode knows its packages: nothing missing here, so nothing to do. */
    static const char *const modes[] = {"build", "check", "static", "fuzz"};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        snprintf(cmd, sizeof(cmd), "'%s/build-aux/deps.sh' %s", at_src_dir(), modes[i]);
        ck_assert_msg(at_run(cmd, &out, &err) == 0, "deps.sh %s: %s", modes[i], err);
        free(out);
        free(err);
    }
    snprintf(cmd, sizeof(cmd), "'%s/build-aux/deps.sh' nonsense", at_src_dir());
    ck_assert_int_eq(at_run(cmd, NULL, &err), 2);
    free(err);
}
END_TEST

/* tests/run-unit runs binaries side by side (HOSTDEV_UNIT_JOBS), yet prints each one's line in
 * the order given and counts as it always did. test-a passes only once test-b has started, which
 * only running them at once allows (a bounded wait, no timing); test-b finishes first. */
HD_TEST(run_unit_side_by_side_in_order)
{
    char dir[] = "/tmp/hostdev-run-unit-XXXXXX", cmd[2048], *out = NULL, *err = NULL;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* The scripts print what a Check program prints; D is their directory. */
    snprintf(cmd, sizeof(cmd),
             "(D='%s'; "
             "printf '#!/bin/sh\\nfor i in $(seq 400); do [ -e %s/b-started ] && "
             "{ echo \"100%%%%: Checks: 2, Failures: 0, Errors: 0\"; exit 0; }; sleep 0.05; done\\n"
             "echo \"0%%%%: Checks: 2, Failures: 2, Errors: 0\"; exit 1\\n' > $D/test-a && "
             "printf '#!/bin/sh\\ntouch %s/b-started\\n"
             "echo \"100%%%%: Checks: 3, Failures: 0, Errors: 0\"\\n' > $D/test-b && "
             "printf '#!/bin/sh\\necho \"50%%%%: Checks: 2, Failures: 1, Errors: 0\"; exit 1\\n'"
             " > $D/test-c && chmod +x $D/test-a $D/test-b $D/test-c && "
             "HOSTDEV_UNIT_JOBS=2 '%s/tests/run-unit' $D/test-a $D/test-b $D/test-c; echo exit $?)",
             dir, dir, dir, at_src_dir());
    ck_assert_int_eq(at_run(cmd, &out, &err), 0);
    ck_assert_str_eq(out, "test-a: 100%: Checks: 2, Failures: 0, Errors: 0\n"
                          "test-b: 100%: Checks: 3, Failures: 0, Errors: 0\n"
                          "test-c: 50%: Checks: 2, Failures: 1, Errors: 0\n"
                          "unit: 5 passed, 1 failed\n"
                          "exit 1\n");
    ck_assert_ptr_nonnull(strstr(err, "/test-c (exit 1)"));
    free(out);
    free(err);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST
