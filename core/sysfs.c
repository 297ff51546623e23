/* sysfs.c - the one filesystem gateway: every file the library touches is opened here,
 * relative to the context's root directory, from a path checked to stay inside it. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

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

int hd_fs_open(struct hd_ctx *ctx, const char *path, int flags, mode_t mode)
{
    int fd;

    if (!hd_path_valid(path))
        return -EINVAL;
    fd = openat(ctx->rootfd, path, flags | O_CLOEXEC, mode);
    return fd < 0 ? -errno : fd;
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

static int read_fd_alloc(int fd, char **data, size_t *len)
{
    size_t cap = 0, used = 0;
    char *buf = NULL;

    for (;;) {
        ssize_t n;
        if (used + 1 >= cap) {
            char *grown = realloc(buf, cap ? cap * 2 : 4096);
            if (grown == NULL) {
                free(buf);
                close(fd);
                return -ENOMEM;
            }
            buf = grown;
            cap = cap ? cap * 2 : 4096;
        }
        n = read_full(fd, buf + used, cap - used - 1);
        if (n < 0) {
            free(buf);
            close(fd);
            return (int)n;
        }
        used += (size_t)n;
        if (used + 1 < cap)
            break; /* read_full() stops short only at end of file */
    }
    close(fd);
    buf[used] = '\0';
    *data = buf;
    if (len != NULL)
        *len = used;
    return 0;
}

int hd_fs_read_alloc(struct hd_ctx *ctx, const char *path, char **data, size_t *len)
{
    int fd;

    *data = NULL;
    fd = hd_fs_open(ctx, path, O_RDONLY, 0);
    return fd < 0 ? fd : read_fd_alloc(fd, data, len);
}

int hd_fs_open_regular(struct hd_ctx *ctx, const char *path, bool host, uint64_t *size)
{
    struct stat st;
    int fd, err;

    *size = 0;
    fd = host ? open(path, O_RDONLY | O_CLOEXEC) : hd_fs_open(ctx, path, O_RDONLY, 0);
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

    fd = hd_fs_open(ctx, path, O_WRONLY, 0);
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
    hd_dbg(ctx, "write %s <- '%s': %d", path, value, err);
    return err;
}

int hd_fs_write_attr_timeout(struct hd_ctx *ctx, const char *path, const char *value,
                             unsigned int timeout_ms)
{
    int pipefd[2], status, err;
    uint64_t deadline;
    pid_t pid;

    if (!hd_path_valid(path))
        return -EINVAL;
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    /* Two forks: the grandchild does the write, the child exits at once. A grandchild stuck
     * in a driver's remove() belongs to init, which reaps it whenever it returns; no zombie is
     * left with the caller, however long the library lives. */
    pid = fork();
    if (pid < 0) {
        err = -errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return err;
    }
    if (pid == 0) {
        close(pipefd[0]);
        pid_t writer = fork();
        if (writer == 0) {
            /* It may outlive the caller: it must not hold the caller's terminal or pipes (a
             * pipe into `tee` would wait for the driver), nor write into them later. Its
             * stdin reads end-of-file and its stdout/stderr go nowhere (EPIPE). */
            int in[2], out[2];
            signal(SIGPIPE, SIG_IGN);
            if (pipe(in) == 0 && pipe(out) == 0) {
                close(in[1]);
                close(out[0]);
                dup2(in[0], 0);
                dup2(out[1], 1);
                dup2(out[1], 2);
                close(in[0]);
                close(out[1]);
            }
            int res = hd_fs_write_attr(ctx, path, value);
            /* A caller that gave up has closed its end: the write returned after all, and
             * whoever holds the operation's journal (this process, by inheritance) finishes
             * its undo now rather than waiting for someone to run recover. */
            if (write(pipefd[1], &res, sizeof(res)) != (ssize_t)sizeof(res)) {
                if (ctx->abandoned_fn != NULL)
                    ctx->abandoned_fn(ctx, ctx->abandoned_data);
                _exit(2);
            }
            _exit(0);
        }
        _exit(writer < 0 ? 1 : 0);
    }
    close(pipefd[1]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        close(pipefd[0]);
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
    close(pipefd[0]);
    if (err == -ETIMEDOUT)
        hd_dbg(ctx, "write %s <- '%s': no answer in %u ms", path, value, timeout_ms);
    return err;
}

ssize_t hd_fs_read_link(struct hd_ctx *ctx, const char *path, char *buf, size_t size)
{
    ssize_t n;

    if (!hd_path_valid(path) || size < 2)
        return -EINVAL;
    n = readlinkat(ctx->rootfd, path, buf, size);
    if (n < 0)
        return -errno;
    if ((size_t)n >= size)
        return -ENAMETOOLONG;
    buf[n] = '\0';
    return n;
}

int hd_fs_link_basename(struct hd_ctx *ctx, const char *path, char *buf, size_t size)
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
    if (strlen(base) >= size)
        return -ENAMETOOLONG;
    memcpy(buf, base, strlen(base) + 1);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int hd_fs_scan_dir(struct hd_ctx *ctx, const char *path, int (*fn)(void *data, const char *name),
                   void *data)
{
    struct dirent *de;
    DIR *dir;
    int fd, r = 0;

    fd = hd_fs_open(ctx, path, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    dir = fdopendir(fd);
    if (dir == NULL) {
        r = -errno;
        close(fd);
        return r;
    }
    while (r == 0 && (de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            r = fn(data, de->d_name);
    }
    closedir(dir);
    return r;
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

int hd_fs_stat(struct hd_ctx *ctx, const char *path, void *statbuf)
{
    if (!hd_path_valid(path))
        return -EINVAL;
    return fstatat(ctx->rootfd, path, statbuf, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int hd_fs_exists(struct hd_ctx *ctx, const char *path)
{
    struct stat st;
    int r = hd_fs_stat(ctx, path, &st);

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
    int r = hd_fs_exists(w->ctx, w->path);

    return r < 0 ? r : (r == 1) == w->present;
}

int hd_fs_wait_for(struct hd_ctx *ctx, const char *path, bool present, unsigned int timeout_ms)
{
    struct wait_for w = {ctx, path, present};

    return hd_poll(timeout_ms, path_is_as_wanted, &w);
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
            *p = '\0';
            if (mkdirat(ctx->rootfd, buf, mode) < 0 && errno != EEXIST)
                return -errno;
            if (saved == '\0')
                break;
            *p = saved;
        }
    }
    return 0;
}

int hd_fs_chown(struct hd_ctx *ctx, const char *path, uid_t uid, gid_t gid)
{
    if (!hd_path_valid(path))
        return -EINVAL;
    return fchownat(ctx->rootfd, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int hd_fs_chmod(struct hd_ctx *ctx, const char *path, mode_t mode)
{
    struct stat st;
    int r = hd_fs_stat(ctx, path, &st);

    if (r < 0)
        return r;
    /* fchmodat() follows links: never let one lead outside the root. */
    if (S_ISLNK(st.st_mode))
        return -ELOOP;
    return fchmodat(ctx->rootfd, path, mode & 07777, 0) < 0 ? -errno : 0;
}

int hd_fs_unlink(struct hd_ctx *ctx, const char *path)
{
    if (!hd_path_valid(path))
        return -EINVAL;
    return unlinkat(ctx->rootfd, path, 0) < 0 ? -errno : 0;
}

int hd_fs_rename(struct hd_ctx *ctx, const char *from, const char *to)
{
    if (!hd_path_valid(from) || !hd_path_valid(to))
        return -EINVAL;
    return renameat(ctx->rootfd, from, ctx->rootfd, to) < 0 ? -errno : 0;
}

int hd_fs_fsync_dir(struct hd_ctx *ctx, const char *path)
{
    int fd = hd_fs_open(ctx, path, O_RDONLY | O_DIRECTORY, 0), r = 0;

    if (fd < 0)
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
