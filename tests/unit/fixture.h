/* fixture.h - mount a fake kernel (hostdev-fakesys) for a test, and read its tree. */
#ifndef HOSTDEV_TEST_FIXTURE_H
#define HOSTDEV_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A test mounts a spec from tests/trees on a fresh temporary directory:
 *
 *     struct fx fx;
 *     ck_assert_int_eq(fx_mount(&fx, "demo"), 0);
 *     ... hd_ctx_new(fx.root, &ctx) ... hostdev does its thing ...
 *     ck_assert_str_eq(fx_driver(&fx, "0000:03:00.0"), "vfio-pci");
 *     ck_assert(fx_exists(&fx, "dev/vfio/8"));
 *     ck_assert_int_eq(fx_log_count(&fx, "reset 0000:03:00.0 "), 1);
 *     fx_umount(&fx);
 *
 * Environment: HOSTDEV_BUILD (where hostdev-fakesys is, default "build"), HOSTDEV_SRCDIR
 * (where tests/trees is, default "."). The fake kernel unmounts itself when the process that
 * mounted it exits, so a test that fails halfway leaves no mount behind.
 * Paths given to the helpers are relative to fx->root ("sys/bus/pci/devices/...").
 */
struct fx {
    char root[256];  /* the mount point: use as hostdev's root */
    char spec[512];  /* the spec file that was mounted */
    char error[512]; /* why the last fx_* call failed */
    char scratch[4096];
    bool mounted;
    bool materialized; /* fx->root holds plain files */
};

/* Mount tests/trees/@spec_name.spec. 0, or -1 with fx->error set. */
int fx_mount(struct fx *fx, const char *spec_name);
/* Mount a spec given as text (written to a temporary file). */
int fx_mount_text(struct fx *fx, const char *spec_text);
/* The same spec, or spec text, written as plain files (`hostdev-fakesys materialize`) into a
 * fresh temporary directory fx->root: a kernel that does nothing when written to, for tests
 * that set a state by hand or corrupt the tree. No ctl or log. */
int fx_materialize(struct fx *fx, const char *spec_name);
int fx_materialize_text(struct fx *fx, const char *spec_text);
/* Unmount (or remove a materialized tree), remove the mount point. Safe to call twice. */
void fx_umount(struct fx *fx);

/* One control command (see hostdev-fakesys(1), ctl): 0 or -errno (message in fx->error). */
int fx_ctl(struct fx *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* What the fake kernel did since the mount (free() it). */
char *fx_log(struct fx *fx);
/* How many log lines contain @needle. */
size_t fx_log_count(struct fx *fx, const char *needle);

/* Run `hostdev-fakesys ARGS...`: its exit status; stderr in fx->error, stdout in *@out (free
 * it) when @out is not NULL. For materialize, capture, check. */
int fx_fakesys(struct fx *fx, const char *const *args, char **out);

/* Wait (polling, at most @timeout_ms) until @count log lines contain @needle: true if they do.
 * For "the write is now blocked in the kernel" before asserting what happens meanwhile. */
bool fx_wait_log(struct fx *fx, const char *needle, size_t count, long timeout_ms);

/* ROOT/@rel in fx->scratch (valid until the next helper call). */
const char *fx_path(struct fx *fx, const char *rel);
/* A file's content with one trailing newline stripped, in fx->scratch; NULL (errno set) when it
 * cannot be read. */
const char *fx_read(struct fx *fx, const char *rel);
/* One write(2) of @value, like sysfs wants: 0 or -errno. */
int fx_write(struct fx *fx, const char *rel, const char *value);
bool fx_exists(struct fx *fx, const char *rel);
/* The last component of a symlink's target ("e1000e", "12"), "" when there is no link. */
const char *fx_link(struct fx *fx, const char *rel);
/* The driver @bdf is bound to, "" when none. */
const char *fx_driver(struct fx *fx, const char *bdf);
/* The IOMMU group of @bdf, -1 when none. */
int fx_group(struct fx *fx, const char *bdf);
/* Milliseconds since some fixed point (for timing bounds). */
long fx_now_ms(void);

#endif
