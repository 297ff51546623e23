/* hdtest.c - main() of every unit test program: runs the tests HD_TEST registered (hdtest.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdtest.h"

/* One empty entry each, so that both sections exist in a program that defines no group or
 * file case (the linker then defines __start_ and __stop_ for them); NULL entries are skipped. */
static const struct hd_test *const hd_no_test HD_SECTION_("hd_tests") = NULL;
static const struct hd_test_case *const hd_no_file_case HD_SECTION_("hd_test_files") = NULL;

extern const struct hd_test *const __start_hd_tests[], *const __stop_hd_tests[];
extern const struct hd_test_case *const __start_hd_test_files[], *const __stop_hd_test_files[];

/* Entries between a section's start and stop (the linker's symbols for it), counted through
 * their addresses: as C sees them they are separate arrays. */
static size_t section_entries(const void *start, const void *stop)
{
    return ((uintptr_t)stop - (uintptr_t)start) / sizeof(void *);
}

/* File order: a file's tests as they are written (the linker keeps no promise of order). */
static int by_line(const void *a, const void *b)
{
    const struct hd_test *x = *(const struct hd_test *const *)a;
    const struct hd_test *y = *(const struct hd_test *const *)b;

    return (x->ttest->line > y->ttest->line) - (x->ttest->line < y->ttest->line);
}

static TCase *new_case(Suite *s, const struct hd_test_case *c, const char *name)
{
    TCase *tc = tcase_create(name);

    if (c != NULL && (c->setup != NULL || c->teardown != NULL))
        tcase_add_checked_fixture(tc, c->setup, c->teardown);
    if (c != NULL && c->timeout > 0)
        tcase_set_timeout(tc, c->timeout);
    suite_add_tcase(s, tc);
    return tc;
}

int main(int argc, char **argv)
{
    const struct hd_test_case *file_case = NULL, *cases[64];
    const struct hd_test *tests[1024];
    TCase *tcs[64];
    size_t ntests = 0, ncases = 0;
    const char *name = argc > 0 && strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

    size_t nfiles = section_entries(__start_hd_test_files, __stop_hd_test_files);
    size_t nentries = section_entries(__start_hd_tests, __stop_hd_tests);

    for (size_t i = 0; i < nfiles; i++) {
        if (__start_hd_test_files[i] == NULL)
            continue;
        if (file_case != NULL) {
            fprintf(stderr, "%s: HD_TEST_FILE given twice\n", name);
            return 2;
        }
        file_case = __start_hd_test_files[i];
    }
    for (size_t i = 0; i < nentries; i++) {
        if (__start_hd_tests[i] == NULL)
            continue;
        if (ntests == sizeof(tests) / sizeof(tests[0])) {
            fprintf(stderr, "%s: more tests than hdtest.c can hold\n", name);
            return 2;
        }
        tests[ntests++] = __start_hd_tests[i];
    }
    if (ntests == 0) {
        fprintf(stderr, "%s: no tests\n", name);
        return 2;
    }
    qsort(tests, ntests, sizeof(tests[0]), by_line);
    /* HOSTDEV_TEST_LIST=1: the tests and how many runs each is, nothing run. */
    if (getenv("HOSTDEV_TEST_LIST") != NULL) {
        for (size_t i = 0; i < ntests; i++)
            printf("%s %d\n", tests[i]->ttest->name, tests[i]->loops);
        return 0;
    }

    if (name != NULL && strncmp(name, "test-", 5) == 0)
        name += 5;
    Suite *s = suite_create(name ? name : "unit");
    TCase *file_tc = NULL;
    for (size_t i = 0; i < ntests; i++) {
        const struct hd_test_case *c = tests[i]->tcase;
        TCase *tc = NULL;
        if (c == NULL) {
            if (file_tc == NULL)
                file_tc = new_case(s, file_case, name ? name : "unit");
            tc = file_tc;
        } else {
            for (size_t k = 0; tc == NULL && k < ncases; k++)
                if (cases[k] == c)
                    tc = tcs[k];
            if (tc == NULL) {
                if (ncases == sizeof(cases) / sizeof(cases[0])) {
                    fprintf(stderr, "%s: more groups than hdtest.c can hold\n", name);
                    return 2;
                }
                cases[ncases] = c;
                tc = tcs[ncases++] = new_case(s, c, c->name);
            }
        }
        if (tests[i]->loops == 1)
            tcase_add_test(tc, tests[i]->ttest);
        else
            tcase_add_loop_test(tc, tests[i]->ttest, 0, tests[i]->loops);
    }

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
