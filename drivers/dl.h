/* dl.h - optional shared libraries (libkmod, libudev, libxml2) opened on first need.
 *
 * Linking them made every run of hostdev pay for loading them and what they pull in (libxml2
 * brings ICU and libstdc++, libkmod brings libcrypto): 3 ms before main() on a machine where
 * listing 100 devices takes 1. Opened with dlopen() when a command needs one, a missing library
 * costs that command's feature, with the reason, and nothing else. */
#ifndef HOSTDEV_DL_H
#define HOSTDEV_DL_H

#include <stddef.h>

/* A function the library must export, and where in the caller's table its address goes. */
struct hd_dl_sym {
    const char *name;
    size_t offset;
};

/* An entry for the function @sym stored in the member @field of the table @type. */
/* clang-format off */
#define HD_DL_SYM(type, field, sym) {.name = #sym, .offset = offsetof(type, field)}
/* clang-format on */

/* Open @soname and fill @table from @syms. Returns the handle for hd_dl_close(), or NULL with
 * a one-line reason in @why (the library or a function missing). */
void *hd_dl_open(const char *soname, const struct hd_dl_sym *syms, size_t n, void *table, char *why,
                 size_t whysize);
void hd_dl_close(void *handle);

#endif
