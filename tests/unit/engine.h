/* engine.h - shared setup of the engine tests: a fake kernel and a context on it. */
#ifndef HOSTDEV_TEST_ENGINE_H
#define HOSTDEV_TEST_ENGINE_H

#include <check.h>

#include <hostdev/hostdev.h>

#include "fixture.h"
#include "suite.h"

struct eng {
    struct fx fx;
    struct hd_ctx *ctx;
};

/* Mount tests/trees/@spec (or, when it contains a newline, that spec text), open a context on
 * it with names off and a short timeout; the test fails if either goes wrong. */
void eng_start(struct eng *e, const char *spec);
void eng_stop(struct eng *e);
/* Open a device that must exist. */
struct hd_device *eng_dev(struct eng *e, const char *bdf);
/* The number of write lines the fake kernel logged so far. */
size_t eng_writes(struct eng *e);

#endif
