/* tmptree.c - the one way tests change a tree by hand: write a file, a directory or a link into a
 * materialized tree (what no spec can make: garbled files, a NUL in cmdline), and rm -rf. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmptree.h"

char *tmptree_new(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path;

    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    if (asprintf(&path, "%s/hostdev-test.XXXXXX", tmp) < 0)
        return NULL;
    if (mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

/* mkdir -p of every parent of @path (and @path itself when @self). */
static int mkdirs(const char *path, int self)
{
    char *copy = strdup(path);
    int err = 0;

    if (copy == NULL)
        return -ENOMEM;
    for (char *p = copy + 1;; p++) {
        if (*p == '/' || (*p == '\0' && self)) {
            char saved = *p;
            *p = '\0';
            if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
                err = -errno;
                break;
            }
            *p = saved;
        }
        if (*p == '\0')
            break;
    }
    free(copy);
    return err;
}

static char *join(const char *root, const char *rel)
{
    char *path;

    if (rel[0] == '/' || strstr(rel, "..") != NULL)
        return NULL; /* a test tree stays inside its root */
    return asprintf(&path, "%s/%s", root, rel) < 0 ? NULL : path;
}

static int write_path(const char *root, const char *rel, const void *data, size_t len, int dir)
{
    char *path = join(root, rel);
    int fd, err;

    if (path == NULL)
        return -EINVAL;
    err = mkdirs(path, dir);
    if (err == 0 && !dir) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            err = -errno;
        else {
            if (write(fd, data, len) != (ssize_t)len)
                err = -EIO;
            close(fd);
        }
    }
    free(path);
    return err;
}

int tmptree_write(const char *root, const char *rel, const char *content)
{
    return write_path(root, rel, content, content ? strlen(content) : 0, content == NULL);
}

int tmptree_write_data(const char *root, const char *rel, const void *data, size_t len)
{
    return write_path(root, rel, data, len, 0);
}

int tmptree_mkdir(const char *root, const char *rel)
{
    return tmptree_write(root, rel, NULL);
}

int tmptree_symlink(const char *root, const char *rel, const char *target)
{
    char *path = join(root, rel);
    int err;

    if (path == NULL)
        return -EINVAL;
    err = mkdirs(path, 0);
    if (err == 0 && symlink(target, path) < 0)
        err = -errno;
    free(path);
    return err;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

int tmptree_remove(const char *root)
{
    if (root == NULL)
        return 0;
    return nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}
