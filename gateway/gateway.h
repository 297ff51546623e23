/* gateway.h - gateway/: the context (ctx.c: root, logging, last error, settings) and THE
 * filesystem gateway (sysfs.c): every path resolved inside the root. Knows nothing of PCI;
 * what the layers above keep on a context they free through hooks left on it. Uses shared/. */
#ifndef HOSTDEV_GATEWAY_H
#define HOSTDEV_GATEWAY_H

#include <sys/types.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "shared.h"

/* Longest attribute value we read into a stack buffer; larger files use hd_fs_read_alloc(). */
#define HD_ATTR_MAX 4096
/* Longest relative path we build. */
#define HD_PATH_MAX 512

/* ---- ctx.c -------------------------------------------------------------------------------- */

struct hd_names;
struct hd_par;
struct hd_writer_hooks;
struct hd_modaliases;
struct hd_modprobe;
struct hd_dir_cache;
struct hd_fork_guard;

/* How the gateway resolves a path under the root (sysfs.c). */
enum hd_resolve {
    HD_RESOLVE_IN_ROOT, /* openat2(RESOLVE_IN_ROOT): links and ".." stay under the root */
    HD_RESOLVE_WALK,    /* no openat2 (before 5.6, or filtered): the same, component by
                         * component with O_NOFOLLOW, links read and followed here */
    HD_RESOLVE_HOST,    /* the root is "/": nothing lies outside it, plain *at() calls */
};

/* struct hd_ctx (the public header's opaque type) is ctx.c's own: the rest of the library
 * reaches its fields through the functions below, or the exported getters
 * (hd_ctx_get_root(), hd_ctx_get_state_dir(), hd_ctx_get_timeout_ms(), hd_ctx_last_error(),
 * hd_ctx_last_reason()). Plain calls: cheap enough per device of a large listing. */

#define HD_ERROR_MAX 512 /* a context's last error, its NUL included */

/* O_PATH|O_DIRECTORY of the root: every I/O is openat() relative to it. */
int hd_ctx_get_rootfd(const struct hd_ctx *ctx);
/* The root is the host itself ("/", "//", "/."): the only case where modules may be loaded. */
bool hd_ctx_root_is_host(const struct hd_ctx *ctx);
enum hd_resolve hd_ctx_get_resolve(const struct hd_ctx *ctx);
void hd_ctx_set_resolve(struct hd_ctx *ctx, enum hd_resolve resolve);
/* The directories kept open by the gateway (sysfs.c's; one per context). */
struct hd_dir_cache *hd_ctx_get_dir_cache(const struct hd_ctx *ctx);
/* Shared by the context's devices, live as long as it. */
struct hd_strings *hd_ctx_get_strings(struct hd_ctx *ctx);

/* hd_state_dir_check() during an operation (hd_op_run()): its lock and map reads check the
 * state directory once. Outside the window every call checks. */
void hd_ctx_state_check_begin(struct hd_ctx *ctx);
void hd_ctx_state_check_end(struct hd_ctx *ctx);
bool hd_ctx_state_checked(const struct hd_ctx *ctx); /* checked in this window */
void hd_ctx_state_check_passed(struct hd_ctx *ctx);  /* remembered only inside a window */

/* A last error kept aside: the first error's, while cleaning up after it (restore reports it
 * again, as the call's), or the caller's, around a read expected to fail (put back silently). */
struct hd_saved_error {
    int err;
    enum hd_reason reason;
    char msg[HD_ERROR_MAX];
};
void hd_saved_error_save(struct hd_ctx *ctx, struct hd_saved_error *s, int err);
int hd_saved_error_restore(struct hd_ctx *ctx, const struct hd_saved_error *s); /* s->err */
void hd_saved_error_put_back(struct hd_ctx *ctx, const struct hd_saved_error *s);

hd_log_fn hd_ctx_get_log_fn(const struct hd_ctx *ctx);

/* Read on first use by the layers above, and freed with the context through the function
 * each leaves here, so that the context knows none: the names (pci/names.c, with the names
 * file its public setter keeps here: NULL the default search, "" off), the kernel's
 * module aliases (os/modalias.c) and modprobe.d's options (os/modprobe.c). */
const char *hd_ctx_get_names_file(const struct hd_ctx *ctx);
int hd_ctx_keep_names_file(struct hd_ctx *ctx, const char *path); /* a copy; -ENOMEM */
struct hd_names *hd_ctx_get_names(const struct hd_ctx *ctx);
void hd_ctx_set_names(struct hd_ctx *ctx, struct hd_names *names,
                      void (*names_free)(struct hd_names *names));
struct hd_modaliases *hd_ctx_get_modaliases(const struct hd_ctx *ctx);
void hd_ctx_set_modaliases(struct hd_ctx *ctx, struct hd_modaliases *aliases,
                             void (*aliases_free)(struct hd_modaliases *aliases));
/* modprobe.d's module options (os/modprobe.c). */
struct hd_modprobe *hd_ctx_get_modprobe(const struct hd_ctx *ctx);
void hd_ctx_set_modprobe(struct hd_ctx *ctx, struct hd_modprobe *modprobe,
                         void (*modprobe_free)(struct hd_modprobe *modprobe));
/* An operation begins or ends on the context (core/op.c). The first of those alive drops the
 * module aliases and modprobe.d read before: a long-lived context (the libvirt bridge's
 * connection, a daemon's) sees files changed since its last operation (a variant driver
 * installed, a blacklist added), while one operation's lookups (64 VFs) read them once. */
void hd_ctx_op_begin(struct hd_ctx *ctx);
void hd_ctx_op_end(struct hd_ctx *ctx);

/* What a timed write's writer (a forked child, sysfs.c) does for the transaction it belongs
 * to; the engine sets it while a transaction applies its steps (txn.c). NULL: none. */
const struct hd_writer_hooks *hd_ctx_get_writer(const struct hd_ctx *ctx, void **data);
void hd_ctx_set_writer(struct hd_ctx *ctx, const struct hd_writer_hooks *hooks, void *data);

/* The parallel run this context is a worker of (core/par.c), whose guard of the timed
 * writes' forks (below) it calls; NULL: none. */
void hd_ctx_set_par(struct hd_ctx *ctx, struct hd_par *par, const struct hd_fork_guard *guard);

/* Run in a timed write's writer child (sysfs.c): @end when the write returned (before the
 * caller hears of it), @abandoned when the caller gave up or died. */
struct hd_writer_hooks {
    void (*end)(struct hd_ctx *ctx, void *data);
    void (*abandoned)(struct hd_ctx *ctx, void *data);
};

/* A context for a worker thread of @parent's operation (par.c): the same root, state
 * directory, timeout, log priority and writer hooks, its own last error, directory cache and
 * strings; names are not read. */
int hd_ctx_worker_new(struct hd_ctx *parent, struct hd_ctx **out);

void hd_log(struct hd_ctx *ctx, int priority, const char *file, int line, const char *fn,
            const char *fmt, ...) HD_PRINTF(6, 7);
/* Leave @fmt as the context's last error, log it, and return @err (a negative errno). */
int hd_error(struct hd_ctx *ctx, int err, const char *file, int line, const char *fn,
             const char *fmt, ...) HD_PRINTF(6, 7);

/* The same with the reason a caller acts on (exit status, --force hint), which outer messages
 * wrapping this one keep. */
int hd_error_reason(struct hd_ctx *ctx, int err, enum hd_reason reason, const char *file,
                    int line, const char *fn, const char *fmt, ...) HD_PRINTF(7, 8);

/* Keep the message, say why: returns @err. */
int hd_ctx_set_reason(struct hd_ctx *ctx, int err, enum hd_reason reason);

#define hd_err(ctx, err, ...) hd_error((ctx), (err), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define hd_errr(ctx, err, reason, ...)                                                          \
    hd_error_reason((ctx), (err), (reason), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define hd_warn(ctx, ...) hd_log((ctx), HD_LOG_WARNING, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define hd_info(ctx, ...) hd_log((ctx), HD_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define hd_dbg(ctx, ...) hd_log((ctx), HD_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* A parallel run's guard of timed writes (core/par-threads.c sets it on its workers'
 * contexts): one writer is forked at a time, and each writer child closes the result sockets
 * of the other workers (its caller must be the only one to hold its own). */
struct hd_fork_guard {
    void (*lock)(struct hd_par *par);
    void (*unlock)(struct hd_par *par, int pipe_fd); /* @pipe_fd: the new writer's socket, or -1 */
    void (*pipe_close)(struct hd_par *par, int pipe_fd); /* closes it */
    void (*close_pipes)(struct hd_par *par);             /* in the writer child */
};
/* sysfs.c's timed write calls these; outside a parallel run they do nothing (pipe_close
 * closes the socket). */
void hd_par_fork_lock(struct hd_ctx *ctx);
void hd_par_fork_unlock(struct hd_ctx *ctx, int pipe_fd);
void hd_par_pipe_close(struct hd_ctx *ctx, int pipe_fd);
void hd_par_close_pipes(struct hd_ctx *ctx);

/* ---- sysfs.c: THE filesystem gateway ------------------------------------------------------- */
/*
 * Every path is relative to the context's root and must be "safe": no leading '/', no "." or
 * ".." component, no empty component. Callers build paths with hd_path() from constants,
 * formatted addresses and names checked by hd_name_valid().
 */

/* A context's kept directories (ctx.c makes and frees them with it): none yet; all closed.
 * NULL: no memory. */
struct hd_dir_cache *hd_fs_dirs_new(void);
void hd_fs_dirs_free(struct hd_dir_cache *dirs);
/* Distrust the kept directories of the state directory (sysfs.c keeps them trusted across
 * device reads and attribute writes): once per operation, when it checks the state
 * directory, since someone may have removed and made it again since the last one. */
void hd_fs_distrust_state(struct hd_ctx *ctx);
/* A single path component from outside (driver, module, group, interface name): non-empty,
 * no '/', not "." or "..", printable, shorter than NAME_MAX. */
bool hd_name_valid(const char *name);
bool hd_path_valid(const char *path);
/* snprintf into @buf; -ENAMETOOLONG when it does not fit. */
int hd_path(char *buf, size_t size, const char *fmt, ...) HD_PRINTF(3, 4);

/* Read a small attribute into @buf (NUL-terminated), one trailing newline stripped.
 * Returns the length or -errno. -EFBIG when it does not fit. */
ssize_t hd_fs_read_attr(struct hd_ctx *ctx, const char *path, char *buf, size_t size);
/* A whole regular file under the root, NUL-terminated, at most @max bytes: -EFBIG beyond,
 * -EINVAL for a FIFO or device (opened non-blocking: neither blocks nor never ends),
 * -EISDIR for a directory. */
#define HD_READ_MAX (16u << 20)  /* kernel tables and host databases */
#define HD_CONFIG_MAX (1u << 20) /* a configuration file or a record */
int hd_fs_read_alloc(struct hd_ctx *ctx, const char *path, size_t max, char **data, size_t *len);
/* The same for a file a person writes (a configuration file): a device node, FIFO or a link to
 * one is refused (-EINVAL) without being opened, a directory with -EISDIR. */
int hd_fs_read_config(struct hd_ctx *ctx, const char *path, size_t max, char **data, size_t *len);
/* Why hd_fs_read_config() refused a file (@err), said as what it is not: @what is what it
 * should be ("a reservation file"), @limit its @max in words ("1 MiB"). */
void hd_fs_config_why(int err, const char *what, const char *limit, char *buf, size_t size);
/* Read up to @size bytes from offset 0 (binary, e.g. config space). Returns bytes read. */
ssize_t hd_fs_read_bytes(struct hd_ctx *ctx, const char *path, void *buf, size_t size);
/* One write(2) of @value, as the kernel expects for attributes. Returns 0 or the -errno of
 * open, write or close. */
int hd_fs_write_attr(struct hd_ctx *ctx, const char *path, const char *value);
/* The same, done in a child process that is abandoned after @timeout_ms: a driver whose
 * remove() hangs leaves the child blocked, not us. -ETIMEDOUT then. */
int hd_fs_write_attr_timeout(struct hd_ctx *ctx, const char *path, const char *value,
                             unsigned int timeout_ms);
/* readlink(2); returns the length or -errno. */
ssize_t hd_fs_read_link(struct hd_ctx *ctx, const char *path, char *buf, size_t size);
/* The last component of a symlink's target (e.g. a driver name or a group number). */
int hd_fs_link_basename(struct hd_ctx *ctx, const char *path, char *buf, size_t size);
/* The same for a link the kernel makes into one directory (a driver's, "drivers"; a group's,
 * "iommu_groups"): -EINVAL when the component before the name is not @dir. */
int hd_fs_link_basename_in(struct hd_ctx *ctx, const char *path, const char *dir, char *buf,
                           size_t size);
/* Names in a directory, "." and ".." left out, sorted. Free with hd_strv_free(). */
int hd_fs_list_dir(struct hd_ctx *ctx, const char *path, char ***names, size_t *count);
/* The same names, unsorted, one call of @fn each (no list kept); a negative return of @fn
 * stops the scan and is returned. */
int hd_fs_scan_dir(struct hd_ctx *ctx, const char *path,
                   int (*fn)(void *data, const char *name), void *data);
/* The same with each entry's type as getdents64 gives it (DT_DIR, DT_LNK, ...; DT_UNKNOWN
 * where the filesystem does not tell). */
int hd_fs_scan_dir_types(struct hd_ctx *ctx, const char *path,
                         int (*fn)(void *data, const char *name, unsigned char type), void *data);
/* 1 exists (without following a final symlink), 0 not, -errno on other errors. */
int hd_fs_exists(struct hd_ctx *ctx, const char *path);
/* What follows may come after a change by someone else: a kept directory may be stale. */
void hd_fs_distrust_dir(struct hd_ctx *ctx);
int hd_fs_stat(struct hd_ctx *ctx, const char *path, void *statbuf /* struct stat */);
/* Poll until @path exists (@present) or not, at most @timeout_ms. 0 or -ETIMEDOUT. */
int hd_fs_wait_for(struct hd_ctx *ctx, const char *path, bool present, unsigned int timeout_ms);
/* open(2) relative to the root, O_CLOEXEC added; every link and ".." is resolved inside the
 * root (a link to "/x" means ROOT/x). With O_CREAT the last component is never a link
 * (O_NOFOLLOW is added): nothing is created through one. Returns fd or -errno. */
int hd_fs_open(struct hd_ctx *ctx, const char *path, int flags, mode_t mode);
int hd_fs_mkdir_p(struct hd_ctx *ctx, const char *path, mode_t mode);
/* hd_fs_open() of a file in a directory of the state (@flags with O_CREAT): its directory
 * and their parents are made (@dir_mode) only when it is missing, not tried every time. */
int hd_fs_open_mkdir(struct hd_ctx *ctx, const char *path, int flags, mode_t mode,
                     mode_t dir_mode);
/* A device node a VM opens, as an O_PATH|O_NOFOLLOW fd with its stat: what is recorded as its
 * owner and what is changed are the same inode. -ELOOP for a link, -EINVAL for anything but
 * a character device or regular file (the fake kernel's nodes). */
int hd_fs_node_open(struct hd_ctx *ctx, const char *path, void *statbuf /* struct stat */);
/* Is @path (resolved under the root) on a file system mounted nodev? */
bool hd_fs_on_nodev(struct hd_ctx *ctx, const char *path);
/* Owner, then mode (permission bits only), of the node @fd refers to. */
int hd_fs_node_set_owner(int fd, uid_t uid, gid_t gid, mode_t mode);
int hd_fs_unlink(struct hd_ctx *ctx, const char *path);
int hd_fs_rename(struct hd_ctx *ctx, const char *from, const char *to);
/* Make a rename or an unlink in directory @path durable. */
int hd_fs_fsync_dir(struct hd_ctx *ctx, const char *path);
/* write(2) all of @data to an fd opened through the gateway. */
int hd_fs_write_all(int fd, const char *data, size_t len);
/* Map a whole file read-only (a names database): relative to the root, or, with @host, the one
 * exception to "relative to the root": a file the user named or the host's names database
 * (never kernel state). An empty file maps as NULL, 0. Undo with hd_fs_unmap(). */
int hd_fs_map(struct hd_ctx *ctx, const char *path, bool host, const char **data, size_t *len);
/* Open a regular file for reading (relative to the root, or with @host the host's absolute
 * @path): the fd, its size in *@size; -errno, -EINVAL when not a regular file. */
int hd_fs_open_regular(struct hd_ctx *ctx, const char *path, bool host, uint64_t *size);
void hd_fs_unmap(const char *data, size_t len);
/* Let the pages read so far go (they come back when touched): a one-off pass over a big file
 * does not stay in the resident set. */
void hd_fs_map_release(const char *data, size_t len);

#endif
