/* sysfs.c - the one filesystem gateway: every file the library touches is opened here,
 * relative to the context's root directory, from a path checked to stay inside it. */
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway.h"

/* The component starting at @p, up to its '/' or end, as hd_name_valid() wants it: not empty,
 * not "." or "..", no control characters, under 256 bytes. Returns its end, or NULL. */
static const unsigned char *component_end(const unsigned char *p)
{
    const unsigned char *start = p;

    for (; *p != '\0' && *p != '/'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return NULL;
    }
    if (p == start || p - start >= 256 ||
        (start[0] == '.' && (p - start == 1 || (p - start == 2 && start[1] == '.'))))
        return NULL;
    return p;
}

bool hd_name_valid(const char *name)
{
    const unsigned char *end = name ? component_end((const unsigned char *)name) : NULL;

    return end != NULL && *end == '\0';
}

bool hd_path_valid(const char *path)
{
    const unsigned char *p = (const unsigned char *)path;

    if (path == NULL || path[0] == '/')
        return false;
    /* One pass over the components; a trailing slash leaves an empty last one, refused. */
    while ((p = component_end(p)) != NULL && *p == '/')
        p++;
    return p != NULL;
}

int hd_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    return 0;
}

/* The ABI of openat2(2) (Linux 5.6), for C libraries whose headers lack it. */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
struct open_how_abi {
    uint64_t flags, mode, resolve;
};
#define RESOLVE_NO_MAGICLINKS_ABI 0x02
#define RESOLVE_IN_ROOT_ABI 0x10
#define WALK_MAX_LINKS 40 /* as the kernel's MAXSYMLINKS */
#define WALK_MAX_DEPTH 64

/* Follow the link @fd (an O_PATH|O_NOFOLLOW fd) in the walk: its target goes in front of
 * what is left of the path in @rest; an absolute target starts again from the root. */
static int splice_link(int fd, char *rest, size_t size, bool *absolute)
{
    char target[HD_PATH_MAX];
    ssize_t n = readlinkat(fd, "", target, sizeof(target));
    size_t tl, rl = strlen(rest);

    if (n < 0)
        return -errno;
    if ((size_t)n >= sizeof(target) || (size_t)n + 1 + rl + 1 > size)
        return -ENAMETOOLONG;
    tl = (size_t)n;
    *absolute = n > 0 && target[0] == '/';
    memmove(rest + tl + 1, rest, rl + 1);
    memcpy(rest, target, tl);
    rest[tl] = rl > 0 ? '/' : '\0';
    return 0;
}

/* RESOLVE_IN_ROOT without openat2: one component at a time, each opened O_PATH|O_NOFOLLOW
 * relative to the one before; ".." at the root stays there; a link is read and its target
 * walked the same way (from the root when absolute). The final open adds O_NOFOLLOW, so a
 * component swapped for a link after it was checked fails (ELOOP) instead of leading out. */
static int walk_in_root(struct hd_ctx *ctx, const char *path, int flags, mode_t mode)
{
    char rest[2 * HD_PATH_MAX];
    int dirs[WALK_MAX_DEPTH], links = 0, r = -ENOENT;
    size_t depth = 0;

    if (strlen(path) >= sizeof(rest))
        return -ENAMETOOLONG;
    strcpy(rest, path);
    for (;;) {
        char comp[256];
        size_t len = strcspn(rest, "/");
        int cur = depth > 0 ? dirs[depth - 1] : hd_ctx_get_rootfd(ctx), fd;
        bool last, absolute = false;
        struct stat st;

        if (len >= sizeof(comp)) {
            r = -ENAMETOOLONG;
            break;
        }
        memcpy(comp, rest, len);
        comp[len] = '\0';
        const char *next = rest + len + strspn(rest + len, "/");
        memmove(rest, next, strlen(next) + 1);
        last = rest[0] == '\0';
        if (len == 0 || strcmp(comp, ".") == 0) {
            if (!last)
                continue;
            strcpy(comp, "."); /* the path ended in "/" or "/.": the directory itself */
        } else if (strcmp(comp, "..") == 0) {
            if (depth > 0)
                close(dirs[--depth]);
            if (!last)
                continue;
            strcpy(comp, ".");
        }
        fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && last && errno == ENOENT && (flags & O_CREAT)) {
            r = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            r = r < 0 ? -errno : r;
            break;
        }
        if (fd < 0 || fstat(fd, &st) < 0) {
            r = -errno;
            if (fd >= 0)
                close(fd);
            break;
        }
        if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
            r = ++links > WALK_MAX_LINKS ? -ELOOP : splice_link(fd, rest, sizeof(rest), &absolute);
            close(fd);
            if (r < 0)
                break;
            while (absolute && depth > 0)
                close(dirs[--depth]);
            continue;
        }
        if (last) {
            close(fd);
            r = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            r = r < 0 ? -errno : r;
            break;
        }
        if (!S_ISDIR(st.st_mode) || depth == WALK_MAX_DEPTH) {
            close(fd);
            r = S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR;
            break;
        }
        dirs[depth++] = fd;
    }
    while (depth > 0)
        close(dirs[--depth]);
    return r;
}

/* Resolve and open @path under the root, whatever links it meets. */
static int open_in_root(struct hd_ctx *ctx, const char *path, int flags, mode_t mode)
{
    if (hd_ctx_get_resolve(ctx) == HD_RESOLVE_IN_ROOT) {
        struct open_how_abi how = {
            .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
            .mode = (flags & O_CREAT) ? mode : 0,
            .resolve = RESOLVE_IN_ROOT_ABI | RESOLVE_NO_MAGICLINKS_ABI,
        };
        long fd;
        /* EAGAIN: a rename elsewhere raced a ".." the kernel had to resolve; it asks us to
         * try again (a rename per state write makes that common under load). */
        for (int tries = 0; tries < 64; tries++) {
            if ((fd = syscall(SYS_openat2, hd_ctx_get_rootfd(ctx), path, &how, sizeof(how))) >= 0)
                return (int)fd;
            if (errno != EAGAIN)
                break;
        }
        if (errno != ENOSYS && errno != EAGAIN)
            return -errno;
        if (errno == EAGAIN) /* still racing: the walk checks each step itself */
            return walk_in_root(ctx, path, flags, mode);
        /* an old kernel, or a filter that hides openat2 */
        hd_ctx_set_resolve(ctx, HD_RESOLVE_WALK);
    }
    if (hd_ctx_get_resolve(ctx) == HD_RESOLVE_WALK)
        return walk_in_root(ctx, path, flags, mode);
    flags |= O_CLOEXEC;
    return (flags = openat(hd_ctx_get_rootfd(ctx), path, flags, mode)) < 0 ? -errno : flags;
}

/* The directories the last paths resolved under the root were in, least recently used
 * replaced first: a listing reads a device's attributes one after another, and an operation
 * goes back and forth between a device, the state directory and the journal's, so each is
 * resolved once. Those outside the state directory are distrusted at every attribute write,
 * which may make or remove directories. One per context (ctx.c). */
#define HD_DIR_SLOTS 8
struct hd_dir_cache {
    struct hd_dir_slot {
        int fd; /* -1: free */
        /* Resolved since the last hd_fs_distrust_dir(): a name missing there is missing (an
         * unbound device has no driver link), not a sign that the directory went away. */
        bool trusted;
        unsigned int used; /* clock when last used */
        char path[HD_PATH_MAX];
    } slot[HD_DIR_SLOTS];
    unsigned int clock;
};

struct hd_dir_cache *hd_fs_dirs_new(void)
{
    struct hd_dir_cache *dc = calloc(1, sizeof(*dc));

    for (size_t i = 0; dc != NULL && i < HD_DIR_SLOTS; i++)
        dc->slot[i].fd = -1;
    return dc;
}

void hd_fs_dirs_free(struct hd_dir_cache *dc)
{
    for (size_t i = 0; dc != NULL && i < HD_DIR_SLOTS; i++) {
        if (dc->slot[i].fd >= 0)
            close(dc->slot[i].fd);
    }
    free(dc);
}

/* The state directory is hostdev's own (0700, checked): no sysfs write touches it and no
 * device comes and goes in it, so its kept directories are distrusted only when an operation
 * checks it (hd_fs_distrust_state(): someone may have removed it between two operations). */
static bool in_state_dir(const struct hd_ctx *ctx, const char *dir)
{
    const char *state_dir = hd_ctx_get_state_dir(ctx);
    size_t len = strlen(state_dir);

    return strncmp(dir, state_dir, len) == 0 && (dir[len] == '\0' || dir[len] == '/');
}

/* The first @len bytes of @path as a kept directory (see parent_open()). */
static int keep_dir(struct hd_ctx *ctx, const char *path, size_t len, struct hd_dir_slot **slot,
                    bool *kept)
{
    struct hd_dir_cache *dc = hd_ctx_get_dir_cache(ctx);
    struct hd_dir_slot *victim = &dc->slot[0];
    int fd;

    *slot = NULL;
    *kept = false;
    if (len >= sizeof(victim->path))
        return -ENAMETOOLONG;
    for (size_t i = 0; i < HD_DIR_SLOTS; i++) {
        struct hd_dir_slot *d = &dc->slot[i];
        if (d->fd >= 0 && strncmp(d->path, path, len) == 0 && d->path[len] == '\0') {
            d->used = ++dc->clock;
            *slot = d;
            *kept = true;
            return d->fd;
        }
        if (victim->fd >= 0 && (d->fd < 0 || d->used < victim->used))
            victim = d;
    }
    if (victim->fd >= 0)
        close(victim->fd);
    victim->fd = -1;
    memcpy(victim->path, path, len);
    victim->path[len] = '\0';
    /* The state directory's are opened for reading, not as paths: an fsync of the directory
     * after a rename in it is then one call on the kept descriptor. */
    if ((fd = open_in_root(ctx, victim->path,
                           (in_state_dir(ctx, victim->path) ? O_RDONLY : O_PATH) | O_DIRECTORY,
                           0)) >= 0) {
        victim->fd = fd;
        victim->trusted = true;
        victim->used = ++dc->clock;
        *slot = victim;
    }
    return fd;
}

/* The directory holding @path's last component, resolved under the root, and the component
 * in *@base. The directories last resolved are kept on the context (a device's attributes are
 * read one after another); release the fd with parent_close(). *@slot: the kept directory it
 * is, and whether it was kept from before (NULL, false: the root's own fd). */
static int parent_open(struct hd_ctx *ctx, const char *path, const char **base,
                       struct hd_dir_slot **slot, bool *kept)
{
    const char *slash;

    *slot = NULL;
    *kept = false;
    if (!hd_path_valid(path))
        return -EINVAL;
    slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (slash == NULL || hd_ctx_get_resolve(ctx) == HD_RESOLVE_HOST)
        return hd_ctx_get_rootfd(ctx); /* nothing between the root and the name to lead elsewhere */
    return keep_dir(ctx, path, (size_t)(slash - path), slot, kept);
}

/* Is the directory holding @path's last component kept? */
static bool parent_kept(const struct hd_ctx *ctx, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    const struct hd_dir_cache *dc = hd_ctx_get_dir_cache(ctx);

    for (size_t i = 0; slash != NULL && i < HD_DIR_SLOTS; i++) {
        const struct hd_dir_slot *d = &dc->slot[i];
        if (d->fd >= 0 && strncmp(d->path, path, len) == 0 && d->path[len] == '\0')
            return true;
    }
    return false;
}

static void parent_close(struct hd_ctx *ctx, int fd, const struct hd_dir_slot *slot)
{
    if (fd >= 0 && fd != hd_ctx_get_rootfd(ctx) && slot == NULL)
        close(fd);
}

static void forget_slot(struct hd_dir_slot *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}

/* Also after every attribute write, which may remove or make directories (an unbind, a VF
 * count): a kept directory that went meanwhile answers every name as missing, and what is
 * missing in a distrusted one is looked up again from the root. */
void hd_fs_distrust_dir(struct hd_ctx *ctx)
{
    struct hd_dir_cache *dc = hd_ctx_get_dir_cache(ctx);

    for (size_t i = 0; i < HD_DIR_SLOTS; i++) {
        if (!in_state_dir(ctx, dc->slot[i].path))
            dc->slot[i].trusted = false;
    }
}

void hd_fs_distrust_state(struct hd_ctx *ctx)
{
    struct hd_dir_cache *dc = hd_ctx_get_dir_cache(ctx);

    for (size_t i = 0; i < HD_DIR_SLOTS; i++) {
        if (in_state_dir(ctx, dc->slot[i].path))
            dc->slot[i].trusted = false;
    }
}

/* @base under the parent directory: the root's own fd takes the whole path. */
static const char *at_name(struct hd_ctx *ctx, int pfd, const char *path, const char *base)
{
    return pfd == hd_ctx_get_rootfd(ctx) ? path : base;
}

/* What to do beside the parent directory of a path: an *at() call, -errno on failure. */
typedef long (*at_fn)(int dirfd, const char *name, void *arg);

/* Run @fn on @path's last component, in its directory resolved under the root. A directory
 * kept from before the last hd_fs_distrust_dir() may have gone since (a device removed and
 * made again has a new one): what fails there as missing is tried once more from the root.
 * One resolved since is trusted: an absent attribute costs no second walk. */
static long in_parent(struct hd_ctx *ctx, const char *path, at_fn fn, void *arg)
{
    for (int tries = 0;; tries++) {
        struct hd_dir_slot *slot;
        const char *base;
        bool kept;
        int pfd = parent_open(ctx, path, &base, &slot, &kept);
        long r;
        if (pfd < 0)
            return pfd;
        kept = kept && tries == 0 && !slot->trusted;
        r = fn(pfd, at_name(ctx, pfd, path, base), arg);
        parent_close(ctx, pfd, slot);
        /* A name found there shows the directory is the live one (a removed directory answers
         * every name as missing): what is missing there next is missing. */
        if (r >= 0 && slot != NULL)
            slot->trusted = true;
        if (r >= 0 || !kept || (r != -ENOENT && r != -ENOTDIR && r != -ESTALE))
            return r;
        forget_slot(slot);
    }
}

struct open_args {
    int flags;
    mode_t mode;
};

static long open_beside(int dirfd, const char *name, void *arg)
{
    const struct open_args *a = arg;
    int fd = openat(dirfd, name, a->flags | O_NOFOLLOW | O_CLOEXEC, a->mode);

    return fd < 0 ? -errno : fd;
}

int hd_fs_open(struct hd_ctx *ctx, const char *path, int flags, mode_t mode)
{
    struct open_args a = {flags, mode};
    long fd;

    if (!hd_path_valid(path))
        return -EINVAL;
    if (flags & O_CREAT)
        a.flags = flags |= O_NOFOLLOW;
    /* A directory not kept is not resolved for an open: one confined open of the whole path
     * costs what an open beside a kept one does, and keeping it would cost an open and a
     * close more (a lock file, the map, a class directory: each is opened once). Those
     * that need a directory (links, stat, rename, unlink) keep it. A directory opened to be
     * listed is often a link (a device under sys/bus/pci/devices), which fails beside its
     * kept directory (twice in one distrusted) before the long way: that way first. */
    if (hd_ctx_get_resolve(ctx) == HD_RESOLVE_HOST || strchr(path, '/') == NULL ||
        ((flags & (O_PATH | O_DIRECTORY)) && !(flags & O_NOFOLLOW)) || !parent_kept(ctx, path))
        return open_in_root(ctx, path, flags, mode);
    /* The common case, an attribute of the directory read last: one openat() beside it. A
     * last component that is a link (ELOOP) is resolved the long way. */
    fd = in_parent(ctx, path, open_beside, &a);
    if (fd == -ELOOP && !(flags & O_NOFOLLOW))
        return open_in_root(ctx, path, flags, mode);
    return (int)fd;
}

static ssize_t read_full(int fd, char *buf, size_t size)
{
    size_t done = 0;

    while (done < size) {
        ssize_t n = read(fd, buf + done, size - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

ssize_t hd_fs_read_attr(struct hd_ctx *ctx, const char *path, char *buf, size_t size)
{
    ssize_t n;
    int fd;

    if (size < 2)
        return -EINVAL;
    fd = hd_fs_open(ctx, path, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    /* The kernel hands out an attribute whole in one read() (sysfs fills it at the first
     * read), so no second read() for end of file; one byte more tells us it did not fit. */
    do {
        n = read(fd, buf, size);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        n = -errno;
    close(fd);
    if (n < 0)
        return n;
    if ((size_t)n == size)
        return -EFBIG;
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (memchr(buf, '\0', (size_t)n) != NULL)
        return -EILSEQ; /* text attributes carry no NUL */
    return n;
}

/* All of @fd, at most @max bytes (-EFBIG beyond), NUL-terminated; @fd is closed. */
static int read_fd_alloc(int fd, size_t max, char **data, size_t *len)
{
    size_t cap = 0, used = 0;
    char *buf = NULL;
    struct stat st;
    int r = 0;

    /* A FIFO would block (or never end), /dev/zero never ends: only regular files. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        r = S_ISREG(st.st_mode) ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        close(fd);
        return r;
    }
    for (;;) {
        ssize_t n;
        if (used + 1 >= cap) {
            size_t want = cap ? cap * 2 : 4096;
            /* A regular file says its size (sysfs says 4096): one read then, not a doubling
             * per 4 KiB (modules.alias is ~1.5 MB). */
            if (cap == 0 && st.st_size > 4095 && (unsigned long long)st.st_size < max)
                want = (size_t)st.st_size + 2;
            char *grown;
            if (cap > max + 1) {
                r = -EFBIG;
                break;
            }
            if ((grown = realloc(buf, want)) == NULL) {
                r = -ENOMEM;
                break;
            }
            buf = grown;
            cap = want;
        }
        do {
            n = read(fd, buf + used, cap - used - 1);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            r = -errno;
            break;
        }
        used += (size_t)n;
        if (used > max) {
            r = -EFBIG;
            break;
        }
        /* The end: a read that found nothing, or one that stopped short where fstat() said
         * the file ends (a file that grew meanwhile is read on). */
        if (n == 0 || (used + 1 < cap && (long long)used == (long long)st.st_size))
            break;
    }
    close(fd);
    if (r < 0) {
        free(buf);
        return r;
    }
    buf[used] = '\0';
    *data = buf;
    if (len != NULL)
        *len = used;
    return 0;
}

int hd_fs_read_alloc(struct hd_ctx *ctx, const char *path, size_t max, char **data, size_t *len)
{
    int fd;

    *data = NULL;
    fd = hd_fs_open(ctx, path, O_RDONLY | O_NONBLOCK, 0);
    return fd < 0 ? fd : read_fd_alloc(fd, max, data, len);
}

/* The path of descriptor @fd's own /proc entry, which names its inode whatever happens to the
 * path it was opened by: the one way to reopen an O_PATH descriptor, or chmod one, without a
 * race. */
static const char *fd_proc_path(char buf[32], int fd)
{
    snprintf(buf, 32, "/proc/self/fd/%d", fd);
    return buf;
}

void hd_fs_config_why(int err, const char *what, const char *limit, char *buf, size_t size)
{
    if (err == -EFBIG)
        snprintf(buf, size, "larger than %s: not %s", limit, what);
    else if (err == -EISDIR)
        snprintf(buf, size, "not %s (a directory)", what);
    else if (err == -EINVAL)
        snprintf(buf, size, "not a regular file (a FIFO, a device or a link to one)");
    else
        snprintf(buf, size, "%s", strerror(-err));
}

int hd_fs_read_config(struct hd_ctx *ctx, const char *path, size_t max, char **data, size_t *len)
{
    char proc[32];
    struct stat st;
    int pfd, fd, err;

    *data = NULL;
    /* Looked at as a path first: a device node there (or a link to one) is refused without
     * being opened, since an open alone can act (/dev/watchdog arms itself). */
    if ((pfd = hd_fs_open(ctx, path, O_PATH, 0)) < 0)
        return pfd;
    err = fstat(pfd, &st) < 0      ? -errno
          : S_ISREG(st.st_mode) ? 0
          : S_ISDIR(st.st_mode) ? -EISDIR
                                : -EINVAL;
    if (err < 0) {
        close(pfd);
        return err;
    }
    /* Opened again through its own /proc entry: this very file, whatever the path names now. */
    fd = open(fd_proc_path(proc, pfd), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    close(pfd);
    if (fd < 0)
        return -errno;
    return read_fd_alloc(fd, max, data, len);
}

int hd_fs_open_regular(struct hd_ctx *ctx, const char *path, bool host, uint64_t *size)
{
    struct stat st;
    int fd, err;

    *size = 0;
    fd = host ? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
              : hd_fs_open(ctx, path, O_RDONLY | O_NONBLOCK, 0);
    if (fd < 0)
        return host ? -errno : fd;
    err = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
    if (err < 0) {
        close(fd);
        return err;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

int hd_fs_map(struct hd_ctx *ctx, const char *path, bool host, const char **data, size_t *len)
{
    uint64_t size;
    void *map;
    int fd, err;

    *data = NULL;
    *len = 0;
    if ((fd = hd_fs_open_regular(ctx, path, host, &size)) < 0)
        return fd;
    if (size == 0) {
        close(fd);
        return 0;
    }
    /* Mapped, not read: a lookup touches only the pages it searches. */
    map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    err = map == MAP_FAILED ? -errno : 0;
    close(fd);
    if (err < 0)
        return err;
    *data = map;
    *len = (size_t)size;
    return 0;
}

void hd_fs_map_release(const char *data, size_t len)
{
    /* A private mapping never written: its pages go back to the page cache, to come again
     * on the next touch. */
    if (data != NULL)
        madvise((void *)data, len, MADV_DONTNEED);
}

void hd_fs_unmap(const char *data, size_t len)
{
    if (data != NULL)
        munmap((void *)data, len);
}

ssize_t hd_fs_read_bytes(struct hd_ctx *ctx, const char *path, void *buf, size_t size)
{
    ssize_t n;
    int fd = hd_fs_open(ctx, path, O_RDONLY, 0);

    if (fd < 0)
        return fd;
    n = read_full(fd, buf, size);
    close(fd);
    return n;
}

int hd_fs_write_attr(struct hd_ctx *ctx, const char *path, const char *value)
{
    size_t len = strlen(value);
    ssize_t n;
    int fd, err = 0;

    if (!hd_path_valid(path))
        return -EINVAL;
    /* One confined open of the whole path: the directory is dropped after the write anyway.
     * An attribute is a file, never a link. */
    fd = open_in_root(ctx, path, O_WRONLY | O_NOFOLLOW, 0);
    if (fd < 0)
        return fd;
    do {
        n = write(fd, value, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        err = -errno;
    else if ((size_t)n != len)
        err = -EIO; /* the kernel takes an attribute in one write or not at all */
    if (close(fd) < 0 && err == 0 && errno != EINTR)
        err = -errno;
    hd_fs_distrust_dir(ctx);
    hd_dbg(ctx, "write %s <- '%s': %d", path, value, err);
    return err;
}

/* close_range(0, 2) where the kernel has it (5.9), through syscall() for C libraries that
 * lack the wrapper: -1 otherwise. */
static int close_stdio(void)
{
#ifdef SYS_close_range
    return (int)syscall(SYS_close_range, 0u, 2u, 0u);
#else
    return -1;
#endif
}

/* In the writer child: is its caller still waiting for the result? */
static bool caller_waits(int result_fd)
{
    struct pollfd pfd = {.fd = result_fd, .events = POLLOUT};

    /* A socket whose peer is closed polls as hung up (or an error) for its writer. */
    return poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLERR | POLLHUP));
}

/* In a writer child whose caller is gone: until @middle (the child that forked it) has exited
 * too. That child holds copies of all the caller's descriptors, the operation's hold on its
 * journal among them, until its exit, which a caller killed while waiting for it never saw:
 * with that hold still there, the abandoned hook would take the hold for a live writer's and
 * leave the undo to nobody. The kernel gives the orphan its new parent only after the exiting
 * child's files are closed and their locks gone. */
static void parent_gone(pid_t middle)
{
    while (getppid() == middle) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

int hd_fs_write_attr_timeout(struct hd_ctx *ctx, const char *path, const char *value,
                             unsigned int timeout_ms)
{
    int pipefd[2], status, err;
    uint64_t deadline;
    pid_t pid;

    if (!hd_path_valid(path))
        return -EINVAL;
    hd_fs_distrust_dir(ctx);
    hd_par_fork_lock(ctx);
    /* The result comes back on a socket: the writer's send() to a caller that gave up fails
     * with EPIPE, without a SIGPIPE to ignore first. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipefd) < 0) {
        err = -errno;
        hd_par_fork_unlock(ctx, -1);
        return err;
    }
    /* Two forks: the grandchild does the write, the child exits at once. A grandchild stuck
     * in a driver's remove() belongs to init, which reaps it whenever it returns; no zombie is
     * left with the caller, however long the library lives. */
    pid = fork();
    if (pid < 0) {
        err = -errno;
        close(pipefd[0]);
        close(pipefd[1]);
        hd_par_fork_unlock(ctx, -1);
        return err;
    }
    if (pid == 0) {
        close(pipefd[0]);
        hd_par_close_pipes(ctx);
        hd_ctx_set_par(ctx, NULL, NULL); /* one thread here: its writes need no lock of the run */
        pid_t middle = getpid(), writer = fork();
        if (writer == 0) {
            /* It may outlive the caller: it must not hold the caller's terminal or pipes (a
             * pipe into `tee` would wait for the driver), nor write into them later. Its
             * stdin, stdout and stderr are closed in one call (Linux 5.9), so every read and
             * write there fails (EBADF) until a file it opens takes the number (the attribute
             * takes 0): the library never prints, so only its own writes go there. Before 5.9
             * they become the root's O_PATH descriptor, which fails them the same way and
             * holds nothing open. So goes its log (another thread may have held the log's
             * locks when it was forked). */
            /* A writer that closed its own (an undo after its caller died) may have been
             * given those numbers for this write's socket since: it moves up first. */
            if (pipefd[1] <= 2 && (pipefd[1] = fcntl(pipefd[1], F_DUPFD_CLOEXEC, 3)) < 0)
                _exit(2);
            if (close_stdio() < 0) {
                dup2(hd_ctx_get_rootfd(ctx), 0);
                dup2(hd_ctx_get_rootfd(ctx), 1);
                dup2(hd_ctx_get_rootfd(ctx), 2);
            }
            hd_ctx_set_log_fn(ctx, NULL, NULL);
            void *data;
            const struct hd_writer_hooks *hooks = hd_ctx_get_writer(ctx, &data);
            /* A caller that gave up (or died) before the write started: no write. */
            bool waits = caller_waits(pipefd[1]);
            int res = waits ? hd_fs_write_attr(ctx, path, value) : -ECANCELED;
            if (hooks != NULL)
                hooks->end(ctx, data);
            /* A caller that gave up has closed its end: the write returned after all, and
             * whoever holds the operation's journal (this process, by inheritance) finishes
             * its undo now rather than waiting for someone to run recover. */
            if (!waits ||
                send(pipefd[1], &res, sizeof(res), MSG_NOSIGNAL) != (ssize_t)sizeof(res)) {
                if (hooks != NULL) {
                    parent_gone(middle);
                    hooks->abandoned(ctx, data);
                }
                _exit(2);
            }
            _exit(0);
        }
        _exit(writer < 0 ? 1 : 0);
    }
    close(pipefd[1]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    hd_par_fork_unlock(ctx, pipefd[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        hd_par_pipe_close(ctx, pipefd[0]);
        return -EAGAIN; /* could not fork the writer */
    }
    deadline = hd_now_ms() + timeout_ms;
    err = -ETIMEDOUT;
    for (;;) {
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        uint64_t now = hd_now_ms();
        int left = now >= deadline ? 0 : (int)(deadline - now);
        int r = poll(&pfd, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0) {
            int res;
            /* EOF without a result: the writer died (killed), so the write's fate is unknown. */
            err = read(pipefd[0], &res, sizeof(res)) == (ssize_t)sizeof(res) ? res : -EIO;
        }
        break;
    }
    hd_par_pipe_close(ctx, pipefd[0]);
    if (err == -ETIMEDOUT)
        hd_dbg(ctx, "write %s <- '%s': no answer in %u ms", path, value, timeout_ms);
    return err;
}

struct link_args {
    char *buf;
    size_t size;
};

static long readlink_beside(int dirfd, const char *name, void *arg)
{
    const struct link_args *a = arg;
    ssize_t n = readlinkat(dirfd, name, a->buf, a->size);

    return n < 0 ? -errno : n;
}

ssize_t hd_fs_read_link(struct hd_ctx *ctx, const char *path, char *buf, size_t size)
{
    struct link_args a = {buf, size};
    ssize_t n;

    if (size < 2)
        return -EINVAL;
    if ((n = in_parent(ctx, path, readlink_beside, &a)) < 0)
        return n;
    if ((size_t)n >= size)
        return -ENAMETOOLONG;
    buf[n] = '\0';
    return n;
}

int hd_fs_link_basename(struct hd_ctx *ctx, const char *path, char *buf, size_t size)
{
    return hd_fs_link_basename_in(ctx, path, NULL, buf, size);
}

int hd_fs_link_basename_in(struct hd_ctx *ctx, const char *path, const char *dir, char *buf,
                           size_t size)
{
    char target[HD_PATH_MAX];
    const char *base;
    ssize_t n = hd_fs_read_link(ctx, path, target, sizeof(target));

    if (size > 0)
        buf[0] = '\0'; /* callers name what they got in messages, failure or not */
    if (n < 0)
        return (int)n;
    while (n > 1 && target[n - 1] == '/')
        target[--n] = '\0';
    base = strrchr(target, '/');
    base = base ? base + 1 : target;
    if (!hd_name_valid(base))
        return -EINVAL;
    if (dir != NULL) { /* the component before the name */
        const char *end = base == target ? target : base - 1, *start = end;
        while (start > target && start[-1] != '/')
            start--;
        if ((size_t)(end - start) != strlen(dir) || strncmp(start, dir, strlen(dir)) != 0)
            return -EINVAL;
    }
    if (strlen(base) >= size)
        return -ENAMETOOLONG;
    memcpy(buf, base, strlen(base) + 1);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* getdents64(2)'s record (linux/dirent.h names it linux_dirent64 but no libc declares it). */
struct dirent64_abi {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int hd_fs_scan_dir_types(struct hd_ctx *ctx, const char *path,
                         int (*fn)(void *data, const char *name, unsigned char type), void *data)
{
    /* getdents64 on the fd itself: fdopendir() would fstat and fcntl it twice first. */
    enum { DIRENT_BUF = 32768 };
    struct hd_dir_slot *slot = NULL;
    char *buf;
    int fd = -1, r = 0;

    if (hd_ctx_get_resolve(ctx) != HD_RESOLVE_HOST && in_state_dir(ctx, path) &&
        hd_path_valid(path)) {
        /* A state directory (the journals') is kept, opened for reading: the operation
         * renames and fsyncs in it next. Listed from the start, and afresh when distrusted
         * (it may have been made again since: the old one lists nothing). */
        bool kept;
        for (int tries = 0; tries < 2 && slot == NULL; tries++) {
            if ((fd = keep_dir(ctx, path, strlen(path), &slot, &kept)) < 0)
                return fd;
            if (kept && !slot->trusted) {
                forget_slot(slot);
                slot = NULL;
            } else if (kept && lseek(fd, 0, SEEK_SET) < 0) {
                return -errno;
            }
        }
        if (slot == NULL)
            return -ESTALE;
        slot->trusted = true;
    } else if ((fd = hd_fs_open(ctx, path, O_RDONLY | O_DIRECTORY, 0)) < 0) {
        return fd;
    }
    if ((buf = malloc(DIRENT_BUF)) == NULL) {
        if (slot == NULL)
            close(fd);
        return -ENOMEM;
    }
    while (r == 0) {
        long n = syscall(SYS_getdents64, fd, buf, DIRENT_BUF);
        if (n <= 0)
            break; /* the end (an error ends it too, as readdir() did) */
        for (long off = 0; off < n && r == 0;) {
            const struct dirent64_abi *de = (const struct dirent64_abi *)(buf + off);
            off += de->d_reclen;
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                r = fn(data, de->d_name, de->d_type);
        }
    }
    free(buf);
    if (slot == NULL)
        close(fd);
    return r;
}

struct untyped_scan {
    int (*fn)(void *data, const char *name);
    void *data;
};

static int untyped_entry(void *data, const char *name, unsigned char type)
{
    const struct untyped_scan *u = data;

    (void)type;
    return u->fn(u->data, name);
}

int hd_fs_scan_dir(struct hd_ctx *ctx, const char *path, int (*fn)(void *data, const char *name),
                   void *data)
{
    struct untyped_scan u = {fn, data};

    return hd_fs_scan_dir_types(ctx, path, untyped_entry, &u);
}

struct name_list {
    char **v;
    size_t n, cap;
};

static int add_name(void *data, const char *name)
{
    struct name_list *l = data;

    if (l->n == l->cap) {
        char **grown = realloc(l->v, (l->cap ? l->cap * 2 : 64) * sizeof(*l->v));
        if (grown == NULL)
            return -ENOMEM;
        l->v = grown;
        l->cap = l->cap ? l->cap * 2 : 64;
    }
    if ((l->v[l->n] = strdup(name)) == NULL)
        return -ENOMEM;
    l->n++;
    return 0;
}

int hd_fs_list_dir(struct hd_ctx *ctx, const char *path, char ***names, size_t *count)
{
    struct name_list l = {0};
    int r = hd_fs_scan_dir(ctx, path, add_name, &l);

    *names = NULL;
    *count = 0;
    if (r < 0) {
        hd_strv_free(l.v, l.n);
        return r;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), cmp_str);
    *names = l.v;
    *count = l.n;
    return 0;
}

static long stat_beside(int dirfd, const char *name, void *statbuf)
{
    return fstatat(dirfd, name, statbuf, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int hd_fs_stat(struct hd_ctx *ctx, const char *path, void *statbuf)
{
    return (int)in_parent(ctx, path, stat_beside, statbuf);
}

int hd_fs_exists(struct hd_ctx *ctx, const char *path)
{
    struct stat st;
    int r;

    /* Outside a kept directory, a confined open of the name itself (not followed) and its
     * close: no directory to resolve and keep for one look. */
    if (hd_ctx_get_resolve(ctx) != HD_RESOLVE_HOST && strchr(path, '/') != NULL &&
        hd_path_valid(path) && !parent_kept(ctx, path)) {
        int fd = open_in_root(ctx, path, O_PATH | O_NOFOLLOW, 0);
        if (fd >= 0) {
            close(fd);
            return 1;
        }
        return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
    }
    r = hd_fs_stat(ctx, path, &st);

    if (r == 0)
        return 1;
    return r == -ENOENT || r == -ENOTDIR ? 0 : r;
}

struct wait_for {
    struct hd_ctx *ctx;
    const char *path;
    bool present;
};

static int path_is_as_wanted(void *data)
{
    struct wait_for *w = data;
    int r;

    hd_fs_distrust_dir(w->ctx); /* each look is afresh: the wait is for a change */
    r = hd_fs_exists(w->ctx, w->path);

    return r < 0 ? r : (r == 1) == w->present;
}

int hd_fs_wait_for(struct hd_ctx *ctx, const char *path, bool present, unsigned int timeout_ms)
{
    struct wait_for w = {ctx, path, present};

    return hd_poll(timeout_ms, path_is_as_wanted, &w);
}

static long mkdir_beside(int dirfd, const char *name, void *mode)
{
    return mkdirat(dirfd, name, *(mode_t *)mode) < 0 && errno != EEXIST ? -errno : 0;
}

int hd_fs_mkdir_p(struct hd_ctx *ctx, const char *path, mode_t mode)
{
    char buf[HD_PATH_MAX];
    size_t len = strlen(path);

    if (!hd_path_valid(path) || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, path, len + 1);
    for (char *p = buf;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            long r;
            *p = '\0';
            if ((r = in_parent(ctx, buf, mkdir_beside, &mode)) < 0)
                return (int)r;
            if (saved == '\0')
                break;
            *p = saved;
        }
    }
    return 0;
}

int hd_fs_open_mkdir(struct hd_ctx *ctx, const char *path, int flags, mode_t mode,
                     mode_t dir_mode)
{
    const char *slash = strrchr(path, '/');
    char dir[HD_PATH_MAX];
    int fd = hd_fs_open(ctx, path, flags, mode), r;

    if (fd != -ENOENT || slash == NULL || (size_t)(slash - path) >= sizeof(dir))
        return fd;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    if ((r = hd_fs_mkdir_p(ctx, dir, dir_mode)) < 0)
        return r;
    return hd_fs_open(ctx, path, flags, mode);
}

int hd_fs_node_open(struct hd_ctx *ctx, const char *path, void *statbuf)
{
    struct stat *st = statbuf;
    int fd = hd_fs_open(ctx, path, O_PATH | O_NOFOLLOW, 0);

    if (fd < 0)
        return fd;
    if (fstat(fd, st) < 0 || S_ISLNK(st->st_mode) ||
        !(S_ISCHR(st->st_mode) || S_ISREG(st->st_mode))) {
        int r = S_ISLNK(st->st_mode) ? -ELOOP : -EINVAL;
        close(fd);
        return r;
    }
    return fd;
}

bool hd_fs_on_nodev(struct hd_ctx *ctx, const char *path)
{
    struct statvfs vfs;
    int fd = hd_fs_open(ctx, path, O_PATH, 0);
    bool nodev;

    if (fd < 0)
        return false;
    nodev = fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NODEV);
    close(fd);
    return nodev;
}

int hd_fs_node_set_owner(int fd, uid_t uid, gid_t gid, mode_t mode)
{
    char proc[32];

    if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
        return -errno;
    /* An O_PATH fd takes no fchmod(): fchmodat2(AT_EMPTY_PATH) on Linux 6.6+, else the fd's
     * own /proc entry, which names this inode whatever happens to the path meanwhile. */
    if (syscall(SYS_fchmodat2, fd, "", mode & 0777, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        return -errno;
    return chmod(fd_proc_path(proc, fd), mode & 0777) < 0 ? (errno == ENOENT ? -ENOSYS : -errno)
                                                          : 0;
}

static long unlink_beside(int dirfd, const char *name, void *arg)
{
    (void)arg;
    return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

int hd_fs_unlink(struct hd_ctx *ctx, const char *path)
{
    return (int)in_parent(ctx, path, unlink_beside, NULL);
}

int hd_fs_rename(struct hd_ctx *ctx, const char *from, const char *to)
{
    struct hd_dir_slot *fslot, *tslot;
    const char *fbase, *tbase;
    bool kept;
    int ffd = parent_open(ctx, from, &fbase, &fslot, &kept), tfd, r;

    if (ffd < 0)
        return ffd;
    /* The second directory must not evict the first from the context: the first is the
     * one used last, and evicting takes the least recently used. */
    if ((tfd = parent_open(ctx, to, &tbase, &tslot, &kept)) < 0) {
        parent_close(ctx, ffd, fslot);
        return tfd;
    }
    r = renameat(ffd, at_name(ctx, ffd, from, fbase), tfd, at_name(ctx, tfd, to, tbase)) < 0
            ? -errno
            : 0;
    parent_close(ctx, tfd, tslot);
    parent_close(ctx, ffd, fslot);
    return r;
}

int hd_fs_fsync_dir(struct hd_ctx *ctx, const char *path)
{
    int fd, r = 0;

    /* Kept (opened for reading: a state directory, where the rename was just made). */
    const struct hd_dir_cache *dc = hd_ctx_get_dir_cache(ctx);

    for (size_t i = 0; i < HD_DIR_SLOTS && in_state_dir(ctx, path); i++) {
        if (dc->slot[i].fd >= 0 && strcmp(dc->slot[i].path, path) == 0)
            return fsync(dc->slot[i].fd) < 0 ? -errno : 0;
    }
    if ((fd = hd_fs_open(ctx, path, O_RDONLY | O_DIRECTORY, 0)) < 0)
        return fd;
    if (fsync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

int hd_fs_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}
