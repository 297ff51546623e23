/* engine.h - shared setup of the engine tests: a fake kernel and a context on it. */
#ifndef HOSTDEV_TEST_ENGINE_H
#define HOSTDEV_TEST_ENGINE_H

#include <check.h>
#include <stdarg.h>
#include <sys/types.h>

#include <hostdev/hostdev.h>

#include "fixture.h"

struct eng {
    struct fx fx;
    struct hd_ctx *ctx;
    char *out, *err;   /* eng_run()'s last stdout and stderr */
    char journal[128]; /* eng_dead_journal()'s file, ROOT-relative */
};

/* Mount tests/trees/@spec (or, when it contains a newline, that spec text), open a context on
 * it with names off and a short timeout; the test fails if either goes wrong. */
void eng_start(struct eng *e, const char *spec);
void eng_stop(struct eng *e);
/* Open a device that must exist. */
struct hd_device *eng_dev(struct eng *e, const char *bdf);
/* The number of write lines the fake kernel logged so far. */
size_t eng_writes(struct eng *e);

/* Run `hostdev --root ROOT @opts ARGS` (ARGS: a shell line made from @fmt), names off: its
 * exit status, its stdout in *@out and stderr in *@err (the previous ones freed). */
int eng_vhostdev(struct fx *fx, char **out, char **err, const char *opts, const char *fmt,
                 va_list ap) __attribute__((format(printf, 5, 0)));
/* `hostdev --root ROOT ARGS` (ARGS from @fmt) on @e's kernel, names off: its exit status; its
 * stdout and stderr stay in e->out and e->err until the next call or eng_stop(). */
int eng_run(struct eng *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `hostdev --root ROOT --timeout 60000 ARGS` in the background, its output thrown away (for a
 * kill -9 while a hang holds it). */
pid_t eng_hostdev_start(struct fx *fx, const char *args);
/* Write @text to the plain file @rel under the fake root (made or emptied first). */
void eng_put(struct eng *e, const char *rel, const char *text);
/* The intent log of an operation @op ("acquire", "mdev") whose process died, with @text: its
 * ROOT-relative name (e->journal), written again with eng_put(). */
const char *eng_dead_journal(struct eng *e, const char *op, const char *text);
/* How many intent logs the fake root's state directory holds. */
size_t eng_journals(struct eng *e);
/* With @text as the assignment map, reading it is -EBADMSG with @why in the message. */
void eng_map_damaged(struct eng *e, const char *text, const char *why);
/* A node's permission bits, its owner in *@uid and *@gid. */
unsigned eng_node_mode(struct eng *e, const char *rel, uid_t *uid, gid_t *gid);
/* Recover on @ctx until no writer of a dead operation is left in the kernel: it must end
 * well (@what names the case in the failure). */
void eng_recover(struct hd_ctx *ctx, const char *what);

#endif
