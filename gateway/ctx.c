/* ctx.c - the library context: root directory, logging, last error, settings. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"

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
    if (ctx->root == NULL || ctx->state_dir == NULL) {
        hd_ctx_unref(ctx);
        return -ENOMEM;
    }
    /* The host itself, however it is spelled ("/", "//", "/."): only then may modules load. */
    if (fstat(fd, &st) == 0) {
        struct stat host;
        ctx->root_is_host = stat("/", &host) == 0 && host.st_dev == st.st_dev &&
                            host.st_ino == st.st_ino;
    }
    ctx->resolve = ctx->root_is_host ? HD_RESOLVE_HOST : HD_RESOLVE_IN_ROOT;
    hd_fs_dirs_init(ctx);
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
    hd_fs_dirs_init(ctx);
    ctx->rootfd = fcntl(parent->rootfd, F_DUPFD_CLOEXEC, 3);
    ctx->root = strdup(parent->root);
    ctx->state_dir = strdup(parent->state_dir);
    ctx->names_file = strdup(""); /* a worker reads no names */
    if (ctx->rootfd < 0 || ctx->root == NULL || ctx->state_dir == NULL ||
        ctx->names_file == NULL) {
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
    hd_fs_dirs_close(ctx);
    if (ctx->names != NULL)
        ctx->names_free(ctx->names);
    if (ctx->vfio_aliases != NULL)
        ctx->vfio_aliases_free(ctx->vfio_aliases);
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
        [HD_REASON_UNSUPPORTED] = "unsupported",
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
