/* suite.h - run a Check suite the same way in every test program. */
#ifndef HOSTDEV_TEST_SUITE_H
#define HOSTDEV_TEST_SUITE_H

#include <check.h>

/* Run every test of @s (each in its own process, Check's default); main()'s exit status. */
int suite_run(Suite *s);

#endif
