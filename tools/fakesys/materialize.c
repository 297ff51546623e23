/* materialize.c - writes the tree as plain directories, files and symlinks (read-only use). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesys.h"

static int put_file(int dfd, const char *name, mode_t mode, const char *data, size_t len)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

    if (fd < 0)
        return -errno;
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        data += n;
        len -= (size_t)n;
    }
    return close(fd) < 0 ? -errno : 0;
}

static int walk(struct kernel *k, const struct node *dir, int dfd, struct buf *scratch,
                const char **failed)
{
    for (size_t i = 0; i < dir->nkids; i++) {
        const struct node *n = dir->kids[i];
        int r = 0;

        if (dir == k->root && strcmp(n->name, ".fakesys") == 0)
            continue; /* control files mean nothing without the server */
        switch (n->type) {
        case NODE_DIR:
            if (mkdirat(dfd, n->name, n->mode) < 0) {
                r = -errno;
                break;
            }
            int sub = openat(dfd, n->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (sub < 0) {
                r = -errno;
                break;
            }
            r = walk(k, n, sub, scratch, failed);
            close(sub);
            if (r < 0)
                return r;
            break;
        case NODE_ATTR:
            buf_reset(scratch);
            if (n->attr->show)
                n->attr->show(k, n->attr, n->obj, scratch);
            r = put_file(dfd, n->name, n->mode, scratch->data ? scratch->data : "", scratch->len);
            break;
        case NODE_FILE:
            r = put_file(dfd, n->name, n->mode, n->data ? n->data : "", n->size);
            break;
        case NODE_LINK:
            r = symlinkat(n->data, dfd, n->name) < 0 ? -errno : 0;
            break;
        case NODE_CHR:
            /* No device nodes on disk: an empty file stands for one. */
            r = put_file(dfd, n->name, n->mode, "", 0);
            break;
        }
        if (r < 0) {
            *failed = n->name;
            return r;
        }
    }
    return 0;
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int empty = 1;

    if (d == NULL)
        return -errno;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

int materialize_tree(struct kernel *k, const char *dir, char *err, size_t errsz)
{
    struct buf scratch = {0};
    const char *failed = NULL;

    /* Only into a new or empty directory: never over anything that exists (like /). */
    if (mkdir(dir, 0755) < 0) {
        int e = errno;
        if (e != EEXIST) {
            snprintf(err, errsz, "cannot create '%s': %s", dir, strerror(e));
            return -e;
        }
        int empty = dir_is_empty(dir);
        if (empty <= 0) {
            snprintf(err, errsz, "'%s' is %s", dir, empty == 0 ? "not empty" : "not a directory");
            return empty == 0 ? -EEXIST : -ENOTDIR;
        }
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errsz, "cannot open '%s': %s", dir, strerror(e));
        return -e;
    }
    mode_t old = umask(0); /* the tree's own modes, as sysfs shows them */
    int r = walk(k, k->root, fd, &scratch, &failed);
    umask(old);
    close(fd);
    buf_free(&scratch);
    if (r < 0)
        snprintf(err, errsz, "cannot write '%s' in '%s': %s", failed ? failed : "?", dir,
                 strerror(-r));
    return r;
}
