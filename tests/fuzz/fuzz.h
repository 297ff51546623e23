/* fuzz.h - what every fuzz target defines, and helpers for turning bytes into C strings. */
#ifndef HOSTDEV_FUZZ_H
#define HOSTDEV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer's entry point; tests/fuzz/replay.c calls the same one on saved inputs. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Targets store what they read here, so that the compiler keeps the reads. */
static volatile size_t fuzz_sink;

/* The input as a NUL-terminated string (it may hold NULs of its own, which end it early, as
 * they would for every C caller). free() it; NULL only when out of memory. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s != NULL) {
        if (size > 0)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
