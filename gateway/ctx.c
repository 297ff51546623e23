/* ctx.c - the library context: root directory, logging, last error, settings. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"

/* Reference counts of contexts, devices and node devices are atomic: a program may drop its
 * references from any thread (hostdev.h: threads). */
struct hd_ctx {
    atomic_int refcount;
    int rootfd;     /* O_PATH|O_DIRECTORY of the root; every I/O is openat() relative to it */
    char *root;     /* as given, for messages */
    bool root_is_host; /* root is "/": the only case where modules may be loaded */
    enum hd_resolve resolve;
    struct hd_dir_cache *dirs; /* the gateway's kept directories (sysfs.c) */
    char *state_dir;   /* relative to root */
    /* hd_state_dir_check() during an operation (hd_op_run()): its lock and map reads check
     * the state directory once. 0: no operation under way (every call checks), 1: not yet
     * checked in this one, 2: checked. */
    int state_checked;
    char *names_file;  /* NULL: default search; "": off */
    struct hd_names *names; /* loaded on first use (pci/names.c), freed by names_free */
    struct hd_strings strings; /* shared by the context's devices, live as long as it */
    unsigned int timeout_ms;
    hd_log_fn log_fn;
    void *log_data;
    int log_priority;
    char last_error[HD_ERROR_MAX];
    enum hd_reason last_reason;
    /* What a timed write's writer (a forked child, sysfs.c) does for the transaction it
     * belongs to; the engine sets it while a transaction applies its steps (txn.c). */
    const struct hd_writer_hooks *writer;
    void *writer_data;
    /* The parallel run this context is a worker of (core/par.c); NULL: none. Its guard of
     * the timed writes' forks (below) is called through @fork_guard. */
    struct hd_par *par;
    const struct hd_fork_guard *fork_guard;
    /* Read on first use by the layers above, and freed with the context through the function
     * each left here, so that the context knows none: the names (pci/names.c),
     * the kernel's module aliases (os/modalias.c) and modprobe.d's options (os/modprobe.c). */
    void (*names_free)(struct hd_names *names);
    struct hd_modaliases *modaliases;
    void (*modaliases_free)(struct hd_modaliases *aliases);
    struct hd_modprobe *modprobe;
    void (*modprobe_free)(struct hd_modprobe *modprobe);
    unsigned int live_ops; /* operations alive on it (hd_ctx_op_begin()) */
};

HD_EXPORT int hd_ctx_new(const char *root, struct hd_ctx **out)
{
    struct hd_ctx *ctx;
    struct stat st;
    int fd;

    *out = NULL;
    if (root == NULL || root[0] == '\0')
        root = "/";
    fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* Above stdin, stdout and stderr, which a writer child closes (sysfs.c): a caller that
     * had closed them would otherwise hand one of their numbers to the root. */
    if (fd <= 2) {
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int err = -errno;
        close(fd);
        if (high < 0)
            return err;
        fd = high;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        close(fd);
        return -ENOMEM;
    }
    ctx->refcount = 1;
    ctx->rootfd = fd;
    ctx->root = strdup(root);
    ctx->state_dir = strdup("run/hostdev");
    ctx->timeout_ms = 10000;
    ctx->log_priority = HD_LOG_ERR;
    ctx->dirs = hd_fs_dirs_new();
    if (ctx->root == NULL || ctx->state_dir == NULL || ctx->dirs == NULL) {
        hd_ctx_unref(ctx);
        return -ENOMEM;
    }
    /* The host itself, however it is spelled ("/", "//", "/."): only then may modules load.
     * "/", the default, says so without the two stats. */
    if (strcmp(root, "/") == 0) {
        ctx->root_is_host = true;
    } else if (fstat(fd, &st) == 0) {
        struct stat host;
        ctx->root_is_host = stat("/", &host) == 0 && host.st_dev == st.st_dev &&
                            host.st_ino == st.st_ino;
    }
    ctx->resolve = ctx->root_is_host ? HD_RESOLVE_HOST : HD_RESOLVE_IN_ROOT;
    *out = ctx;
    return 0;
}

int hd_ctx_worker_new(struct hd_ctx *parent, struct hd_ctx **out)
{
    struct hd_ctx *ctx = calloc(1, sizeof(*ctx));

    *out = NULL;
    if (ctx == NULL)
        return -ENOMEM;
    ctx->refcount = 1;
    ctx->dirs = hd_fs_dirs_new();
    ctx->rootfd = fcntl(parent->rootfd, F_DUPFD_CLOEXEC, 3);
    ctx->root = strdup(parent->root);
    ctx->state_dir = strdup(parent->state_dir);
    ctx->names_file = strdup(""); /* a worker reads no names */
    if (ctx->rootfd < 0 || ctx->root == NULL || ctx->state_dir == NULL ||
        ctx->names_file == NULL || ctx->dirs == NULL) {
        int r = ctx->rootfd < 0 ? -errno : -ENOMEM;
        hd_ctx_unref(ctx);
        return r;
    }
    ctx->root_is_host = parent->root_is_host;
    ctx->resolve = parent->resolve;
    ctx->timeout_ms = parent->timeout_ms;
    ctx->log_priority = parent->log_priority;
    ctx->writer = parent->writer;
    ctx->writer_data = parent->writer_data;
    *out = ctx;
    return 0;
}

HD_EXPORT struct hd_ctx *hd_ctx_ref(struct hd_ctx *ctx)
{
    if (ctx != NULL)
        atomic_fetch_add_explicit(&ctx->refcount, 1, memory_order_relaxed);
    return ctx;
}

HD_EXPORT struct hd_ctx *hd_ctx_unref(struct hd_ctx *ctx)
{
    /* acq_rel: what other threads did with it happens before the free */
    if (ctx == NULL || atomic_fetch_sub_explicit(&ctx->refcount, 1, memory_order_acq_rel) > 1)
        return ctx;
    if (ctx->rootfd >= 0)
        close(ctx->rootfd);
    hd_fs_dirs_free(ctx->dirs);
    if (ctx->names != NULL)
        ctx->names_free(ctx->names);
    if (ctx->modaliases != NULL)
        ctx->modaliases_free(ctx->modaliases);
    if (ctx->modprobe != NULL)
        ctx->modprobe_free(ctx->modprobe);
    hd_strings_free(&ctx->strings);
    free(ctx->root);
    free(ctx->state_dir);
    free(ctx->names_file);
    free(ctx);
    return NULL;
}

HD_EXPORT const char *hd_ctx_get_root(const struct hd_ctx *ctx)
{
    return ctx->root;
}

HD_EXPORT void hd_ctx_set_log_fn(struct hd_ctx *ctx, hd_log_fn fn, void *data)
{
    ctx->log_fn = fn;
    ctx->log_data = data;
}

HD_EXPORT void hd_ctx_set_log_priority(struct hd_ctx *ctx, int priority)
{
    ctx->log_priority = priority;
}

HD_EXPORT int hd_ctx_get_log_priority(const struct hd_ctx *ctx)
{
    return ctx->log_priority;
}

HD_EXPORT const char *hd_ctx_last_error(const struct hd_ctx *ctx)
{
    return ctx->last_error;
}

HD_EXPORT void hd_ctx_clear_error(struct hd_ctx *ctx)
{
    ctx->last_error[0] = '\0';
    ctx->last_reason = HD_REASON_NONE;
}

HD_EXPORT enum hd_reason hd_ctx_last_reason(const struct hd_ctx *ctx)
{
    return ctx->last_reason;
}

HD_EXPORT bool hd_reason_forceable(enum hd_reason reason)
{
    return reason == HD_REASON_HOST_USE || reason == HD_REASON_PLATFORM;
}

HD_EXPORT const char *hd_reason_to_string(enum hd_reason reason)
{
    static const char *const names[] = {
        [HD_REASON_NONE] = "none",           [HD_REASON_FAILED] = "failed",
        [HD_REASON_INVALID] = "invalid",     [HD_REASON_NO_DEVICE] = "no-device",
        [HD_REASON_HELD] = "held-by-vm",     [HD_REASON_HOST_USE] = "host-use",
        [HD_REASON_PLATFORM] = "platform-device", [HD_REASON_NOT_VIABLE] = "group-not-viable",
        [HD_REASON_STATE_DAMAGED] = "state-damaged", [HD_REASON_BLOCKED] = "blocked",
        [HD_REASON_TIMEOUT] = "timeout",     [HD_REASON_NOT_ASSIGNED] = "not-assigned",
        [HD_REASON_UNSUPPORTED] = "unsupported", [HD_REASON_NOIOMMU] = "noiommu-opt-in",
    };
    return (unsigned)reason < HD_ARRAY_SIZE(names) && names[reason] ? names[reason] : "failed";
}

HD_EXPORT void hd_ctx_set_timeout_ms(struct hd_ctx *ctx, unsigned int ms)
{
    ctx->timeout_ms = ms;
}

HD_EXPORT unsigned int hd_ctx_get_timeout_ms(const struct hd_ctx *ctx)
{
    return ctx->timeout_ms;
}

HD_EXPORT int hd_ctx_set_state_dir(struct hd_ctx *ctx, const char *dir)
{
    char *copy;

    while (dir != NULL && dir[0] == '/')
        dir++; /* always relative to the root */
    if (dir == NULL || !hd_path_valid(dir))
        return hd_err(ctx, -EINVAL, "state directory '%s': not a valid path", dir ? dir : "");
    copy = strdup(dir);
    if (copy == NULL)
        return -ENOMEM;
    free(ctx->state_dir);
    ctx->state_dir = copy;
    return 0;
}

HD_EXPORT const char *hd_ctx_get_state_dir(const struct hd_ctx *ctx)
{
    return ctx->state_dir;
}

static void hd_vlog(struct hd_ctx *ctx, int priority, const char *file, int line, const char *fn,
                    const char *fmt, va_list ap)
{
    if (ctx->log_fn == NULL || priority > ctx->log_priority)
        return;
    ctx->log_fn(ctx->log_data, priority, file, line, fn, fmt, ap);
}

void hd_log(struct hd_ctx *ctx, int priority, const char *file, int line, const char *fn,
            const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hd_vlog(ctx, priority, file, line, fn, fmt, ap);
    va_end(ap);
}

/* Keep the message as the context's last error and log it. */
static void keep_error(struct hd_ctx *ctx, const char *file, int line, const char *fn,
                       const char *fmt, va_list ap)
{
    va_list again;

    va_copy(again, ap);
    vsnprintf(ctx->last_error, sizeof(ctx->last_error), fmt, ap);
    hd_vlog(ctx, HD_LOG_DEBUG, file, line, fn, fmt, again);
    va_end(again);
}

int hd_error(struct hd_ctx *ctx, int err, const char *file, int line, const char *fn,
             const char *fmt, ...)
{
    va_list ap;

    /* A specific reason set deeper down survives the outer messages that wrap it. */
    if (ctx->last_reason == HD_REASON_NONE)
        ctx->last_reason = err == -ETIMEDOUT ? HD_REASON_TIMEOUT : HD_REASON_FAILED;
    va_start(ap, fmt);
    keep_error(ctx, file, line, fn, fmt, ap);
    va_end(ap);
    return err;
}

int hd_error_reason(struct hd_ctx *ctx, int err, enum hd_reason reason, const char *file,
                    int line, const char *fn, const char *fmt, ...)
{
    va_list ap;

    ctx->last_reason = reason;
    va_start(ap, fmt);
    keep_error(ctx, file, line, fn, fmt, ap);
    va_end(ap);
    return err;
}

int hd_ctx_set_reason(struct hd_ctx *ctx, int err, enum hd_reason reason)
{
    ctx->last_reason = reason;
    return err;
}

int hd_ctx_get_rootfd(const struct hd_ctx *ctx)
{
    return ctx->rootfd;
}

bool hd_ctx_root_is_host(const struct hd_ctx *ctx)
{
    return ctx->root_is_host;
}

enum hd_resolve hd_ctx_get_resolve(const struct hd_ctx *ctx)
{
    return ctx->resolve;
}

void hd_ctx_set_resolve(struct hd_ctx *ctx, enum hd_resolve resolve)
{
    ctx->resolve = resolve;
}

struct hd_dir_cache *hd_ctx_get_dir_cache(const struct hd_ctx *ctx)
{
    return ctx->dirs;
}

struct hd_strings *hd_ctx_get_strings(struct hd_ctx *ctx)
{
    return &ctx->strings;
}

void hd_ctx_state_check_begin(struct hd_ctx *ctx)
{
    ctx->state_checked = 1;
}

void hd_ctx_state_check_end(struct hd_ctx *ctx)
{
    ctx->state_checked = 0;
}

bool hd_ctx_state_checked(const struct hd_ctx *ctx)
{
    return ctx->state_checked == 2;
}

void hd_ctx_state_check_passed(struct hd_ctx *ctx)
{
    if (ctx->state_checked == 1)
        ctx->state_checked = 2;
}

void hd_saved_error_save(struct hd_ctx *ctx, struct hd_saved_error *s, int err)
{
    s->err = err;
    s->reason = ctx->last_reason;
    hd_strlcpy(s->msg, ctx->last_error, sizeof(s->msg));
}

int hd_saved_error_restore(struct hd_ctx *ctx, const struct hd_saved_error *s)
{
    return hd_errr(ctx, s->err, s->reason ? s->reason : HD_REASON_FAILED, "%s", s->msg);
}

void hd_saved_error_put_back(struct hd_ctx *ctx, const struct hd_saved_error *s)
{
    hd_strlcpy(ctx->last_error, s->msg, sizeof(ctx->last_error));
    ctx->last_reason = s->reason;
}

hd_log_fn hd_ctx_get_log_fn(const struct hd_ctx *ctx)
{
    return ctx->log_fn;
}

const char *hd_ctx_get_names_file(const struct hd_ctx *ctx)
{
    return ctx->names_file;
}

int hd_ctx_keep_names_file(struct hd_ctx *ctx, const char *path)
{
    char *copy = NULL;

    if (path != NULL && (copy = strdup(path)) == NULL)
        return -ENOMEM;
    free(ctx->names_file);
    ctx->names_file = copy;
    return 0;
}

struct hd_names *hd_ctx_get_names(const struct hd_ctx *ctx)
{
    return ctx->names;
}

void hd_ctx_set_names(struct hd_ctx *ctx, struct hd_names *names,
                      void (*names_free)(struct hd_names *names))
{
    ctx->names = names;
    ctx->names_free = names_free;
}

struct hd_modaliases *hd_ctx_get_modaliases(const struct hd_ctx *ctx)
{
    return ctx->modaliases;
}

void hd_ctx_set_modaliases(struct hd_ctx *ctx, struct hd_modaliases *aliases,
                             void (*aliases_free)(struct hd_modaliases *aliases))
{
    ctx->modaliases = aliases;
    ctx->modaliases_free = aliases_free;
}

struct hd_modprobe *hd_ctx_get_modprobe(const struct hd_ctx *ctx)
{
    return ctx->modprobe;
}

void hd_ctx_set_modprobe(struct hd_ctx *ctx, struct hd_modprobe *modprobe,
                         void (*modprobe_free)(struct hd_modprobe *modprobe))
{
    ctx->modprobe = modprobe;
    ctx->modprobe_free = modprobe_free;
}

void hd_ctx_op_begin(struct hd_ctx *ctx)
{
    if (ctx->live_ops++ > 0)
        return;
    if (ctx->modaliases != NULL)
        ctx->modaliases_free(ctx->modaliases);
    if (ctx->modprobe != NULL)
        ctx->modprobe_free(ctx->modprobe);
    ctx->modaliases = NULL;
    ctx->modprobe = NULL;
}

void hd_ctx_op_end(struct hd_ctx *ctx)
{
    if (ctx->live_ops > 0)
        ctx->live_ops--;
}

const struct hd_writer_hooks *hd_ctx_get_writer(const struct hd_ctx *ctx, void **data)
{
    *data = ctx->writer_data;
    return ctx->writer;
}

void hd_ctx_set_writer(struct hd_ctx *ctx, const struct hd_writer_hooks *hooks, void *data)
{
    ctx->writer = hooks;
    ctx->writer_data = data;
}

void hd_ctx_set_par(struct hd_ctx *ctx, struct hd_par *par, const struct hd_fork_guard *guard)
{
    ctx->par = par;
    ctx->fork_guard = guard;
}

void hd_par_fork_lock(struct hd_ctx *ctx)
{
    if (ctx->par != NULL)
        ctx->fork_guard->lock(ctx->par);
}

void hd_par_fork_unlock(struct hd_ctx *ctx, int pipe_fd)
{
    if (ctx->par != NULL)
        ctx->fork_guard->unlock(ctx->par, pipe_fd);
}

void hd_par_pipe_close(struct hd_ctx *ctx, int pipe_fd)
{
    if (ctx->par != NULL)
        ctx->fork_guard->pipe_close(ctx->par, pipe_fd);
    else
        close(pipe_fd);
}

void hd_par_close_pipes(struct hd_ctx *ctx)
{
    if (ctx->par != NULL)
        ctx->fork_guard->close_pipes(ctx->par);
}
