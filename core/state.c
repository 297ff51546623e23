/* state.c - small records (the state directory ROOT/run/hostdev, persisted reservations in
 * ROOT/etc/hostdev.d): written to a temporary file and renamed over the old one, so a crash
 * leaves either the old record or the new one, never half of one. Those meant to outlive the
 * boot are fsynced first; the state directory's are not: it is a tmpfs (ROOT/run) that ends
 * with the boot, as the kernel state its records describe does, and a killed process loses
 * nothing it wrote. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int record_path(struct hd_ctx *ctx, const char *kind, const char *name, char *buf,
                       size_t size)
{
    if (!hd_name_valid(kind) || !hd_name_valid(name))
        return -EINVAL;
    return hd_path(buf, size, "%s/%s/%s", hd_ctx_get_state_dir(ctx), kind, name);
}

static int put(struct hd_ctx *ctx, const char *dir, const char *name, const char *value,
               mode_t mode, bool durable)
{
    char path[HD_PATH_MAX], tmp[HD_PATH_MAX];
    size_t len = strlen(value);
    int fd, r;

    if (!hd_name_valid(name))
        return -EINVAL;
    if ((r = hd_path(path, sizeof(path), "%s/%s", dir, name)) < 0 ||
        (r = hd_path(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name)) < 0)
        return r;
    /* A new file of our own, never one someone left (or linked) there: a stale one from a
     * crash is removed, and O_EXCL refuses whatever appears meanwhile. The directory is
     * searchable by whoever may read the records: 0600 -> 0700, 0644 -> 0755. */
    for (int tries = 0;; tries++) {
        fd = hd_fs_open_mkdir(ctx, tmp, O_WRONLY | O_CREAT | O_EXCL, mode,
                              (mode & 0777) | ((mode & 0444) >> 2) | 0700);
        if (fd != -EEXIST || tries > 0)
            break;
        if ((r = hd_fs_unlink(ctx, tmp)) < 0 && r != -ENOENT)
            return hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), tmp, strerror(-r));
    }
    if (fd < 0)
        return hd_err(ctx, fd, "%s/%s: %s", hd_ctx_get_root(ctx), tmp, strerror(-fd));
    r = write(fd, value, len) == (ssize_t)len ? 0 : -EIO;
    if (r == 0 && durable && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0)
        r = hd_fs_rename(ctx, tmp, path);
    if (r < 0) {
        hd_fs_unlink(ctx, tmp);
        return hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), path, strerror(-r));
    }
    if (durable)
        hd_fs_fsync_dir(ctx, dir); /* the rename is durable once the directory is */
    return 0;
}

int hd_record_put(struct hd_ctx *ctx, const char *dir, const char *name, const char *value,
                  mode_t mode)
{
    return put(ctx, dir, name, value, mode, true);
}

int hd_record_del(struct hd_ctx *ctx, const char *dir, const char *name)
{
    char path[HD_PATH_MAX];
    int r;

    if (!hd_name_valid(name))
        return -EINVAL;
    if ((r = hd_path(path, sizeof(path), "%s/%s", dir, name)) < 0)
        return r;
    return hd_fs_unlink(ctx, path);
}

int hd_state_dir_check(struct hd_ctx *ctx)
{
    struct stat st;
    int r;

    if (hd_ctx_state_checked(ctx))
        return 0; /* once per operation: its lock and its map read come a moment apart */
    hd_fs_distrust_state(ctx);
    r = hd_fs_stat(ctx, hd_ctx_get_state_dir(ctx), &st);

    if (r == -ENOENT)
        return 0; /* made 0700 by the first write */
    if (r < 0)
        return hd_err(ctx, r, "state directory %s/%s: %s", hd_ctx_get_root(ctx),
                      hd_ctx_get_state_dir(ctx), strerror(-r));
    /* Whoever may write there may forge the records and the intent logs that say which
     * nodes to give to whom, and whose undo runs as root. */
    if (!S_ISDIR(st.st_mode))
        return hd_errr(ctx, -ENOTDIR, HD_REASON_STATE_DAMAGED, "state directory %s/%s is not "
                       "a directory (a link or a file is there)", hd_ctx_get_root(ctx),
                       hd_ctx_get_state_dir(ctx));
    if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
        return hd_errr(ctx, -EPERM, HD_REASON_STATE_DAMAGED, "state directory %s/%s is owned "
                       "by uid %u with mode %04o: it must belong to uid %u and not be writable "
                       "by group or others, or anyone could forge its records",
                       hd_ctx_get_root(ctx), hd_ctx_get_state_dir(ctx), (unsigned)st.st_uid,
                       (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
    hd_ctx_state_check_passed(ctx);
    return 0;
}

/* STATE/@kind */
static int kind_dir(struct hd_ctx *ctx, const char *kind, char *buf, size_t size)
{
    if (!hd_name_valid(kind))
        return -EINVAL;
    return hd_path(buf, size, "%s/%s", hd_ctx_get_state_dir(ctx), kind);
}

int hd_state_put(struct hd_ctx *ctx, const char *kind, const char *name, const char *value)
{
    char dir[HD_PATH_MAX];
    int r = kind_dir(ctx, kind, dir, sizeof(dir));

    return r < 0 ? r : put(ctx, dir, name, value, 0600, false);
}

int hd_state_get(struct hd_ctx *ctx, const char *kind, const char *name, char **value)
{
    char path[HD_PATH_MAX];
    int r = record_path(ctx, kind, name, path, sizeof(path));

    *value = NULL;
    if (r < 0)
        return r;
    r = hd_fs_read_alloc(ctx, path, HD_READ_MAX, value, NULL);
    if (r == 0) {
        size_t n = strlen(*value);
        while (n > 0 && (*value)[n - 1] == '\n')
            (*value)[--n] = '\0';
    }
    return r;
}

int hd_state_del(struct hd_ctx *ctx, const char *kind, const char *name)
{
    char dir[HD_PATH_MAX];
    int r = kind_dir(ctx, kind, dir, sizeof(dir));

    if (r == 0)
        r = hd_record_del(ctx, dir, name);
    return r == -ENOENT ? 0 : r;
}
