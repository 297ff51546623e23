/* hdtest.h - the unit tests' one harness: defining a test registers it.
 *
 *     HD_TEST_FILE(.setup = setup, .teardown = teardown, .timeout = 60);
 *
 *     HD_TEST(detach_binds_vfio)
 *     {
 *         ...ck_assert...
 *     }
 *     END_TEST
 *
 * Each HD_TEST puts a pointer to its entry in the linker section "hd_tests" (kmod's
 * DEFINE_TEST idea); hdtest.c's main() walks that section, so a test cannot be defined and
 * forgotten. Every test runs in its own process (Check's fork mode), in file order;
 * HOSTDEV_TEST_LIST=1 lists them (name, runs) instead.
 *
 * HD_TEST_FILE (at most once per file, optional) sets the fixture and timeout (seconds; 0 keeps
 * CK_DEFAULT_TIMEOUT) of the file's tests. HD_LOOP_TEST(name, n) runs its body n times with
 * _i = 0..n-1 (Check's loop tests). Tests that need another fixture or timeout go in a group:
 *
 *     HD_TEST_GROUP(race, .timeout = 300);
 *     HD_TEST_IN(race, never_two_owners) { ... } END_TEST
 *     HD_LOOP_TEST_IN(race, every_step, 12) { ... } END_TEST
 */
#ifndef HOSTDEV_TEST_HDTEST_H
#define HOSTDEV_TEST_HDTEST_H

#include <check.h>

/* One Check test case: a fixture and a timeout shared by the tests in it. */
struct hd_test_case {
    const char *name; /* NULL: the file's own case, named after the program */
    void (*setup)(void);
    void (*teardown)(void);
    double timeout;
};

struct hd_test {
    const TTest *ttest;
    const struct hd_test_case *tcase; /* NULL: the file's case */
    int loops;                        /* _i runs 0..loops-1 */
};

#define HD_SECTION_(sec) __attribute__((used, section(sec), aligned(sizeof(void *))))

#define HD_TEST_FILE(...)                                                                          \
    static const struct hd_test_case hd_file_case_ = {.name = NULL, __VA_ARGS__};                  \
    static const struct hd_test_case *const hd_file_case_ptr_ HD_SECTION_("hd_test_files") =       \
        &hd_file_case_

#define HD_TEST_GROUP(group, ...)                                                                  \
    static const struct hd_test_case hd_case_##group = {.name = #group, __VA_ARGS__}

#define HD_TEST_ENTRY_(tname, tcase_ptr, n)                                                        \
    static void tname##_fn(int _i CK_ATTRIBUTE_UNUSED);                                            \
    static const TTest tname##_ttest = {#tname, tname##_fn, __FILE__, __LINE__};                   \
    static const struct hd_test tname##_hd_test = {&tname##_ttest, tcase_ptr, (int)(n)};           \
    static const struct hd_test *const tname##_hd_test_ptr HD_SECTION_("hd_tests") =               \
        &tname##_hd_test;                                                                          \
    static void tname##_fn(int _i CK_ATTRIBUTE_UNUSED)

#define HD_TEST(tname)                   HD_TEST_ENTRY_(tname, NULL, 1)
#define HD_LOOP_TEST(tname, n)           HD_TEST_ENTRY_(tname, NULL, n)
#define HD_TEST_IN(group, tname)         HD_TEST_ENTRY_(tname, &hd_case_##group, 1)
#define HD_LOOP_TEST_IN(group, tname, n) HD_TEST_ENTRY_(tname, &hd_case_##group, n)

#endif
