/* fuse.c - serves the tree through FUSE: kernel attributes, and plain files everywhere else. */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"

/* What an open file handle (fi->fh) holds. Attributes are found again by path at each
 * operation, since the tree under sys/ is rebuilt after every change; plain files are held
 * by pointer so that they outlive an unlink. */
struct handle {
    struct handle *prev, *next; /* every open handle, freed at exit if never released */
    bool is_attr;
    char *path;
    struct buf snap; /* attribute content as of the last read at offset 0 */
    struct node *file;
};

static struct kernel *K(void)
{
    return fuse_get_context()->private_data;
}

static struct handle *H(const struct fuse_file_info *fi)
{
    /* fh holds our pointer, as FUSE means it to. */
    return fi ? (struct handle *)(uintptr_t)fi->fh : NULL; /* NOLINT(performance-no-int-to-ptr) */
}

static struct node *lookup(struct kernel *k, const char *path, struct fuse_file_info *fi)
{
    struct handle *h = H(fi);

    if (h && h->file)
        return h->file;
    if (path == NULL)
        path = h ? h->path : NULL;
    return path ? tree_lookup(k->root, path) : NULL;
}

static void touch(struct node *n, bool mtime)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    n->ctime = now;
    if (mtime)
        n->mtime = now;
}

static void fill_stat(const struct node *n, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_mode = n->mode & 07777;
    st->st_uid = n->uid;
    st->st_gid = n->gid;
    st->st_nlink = 1;
    st->st_mtim = n->mtime;
    st->st_ctim = n->ctime;
    st->st_atim = n->mtime;
    st->st_blksize = 4096;
    switch (n->type) {
    case NODE_DIR:
        st->st_mode |= S_IFDIR;
        st->st_nlink = 2;
        for (size_t i = 0; i < n->nkids; i++)
            st->st_nlink += n->kids[i]->type == NODE_DIR;
        break;
    case NODE_ATTR:
        st->st_mode |= S_IFREG;
        st->st_size = n->attr->size ? (off_t)n->attr->size : 4096;
        break;
    case NODE_FILE:
        st->st_mode |= S_IFREG;
        st->st_size = (off_t)n->size;
        st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
        break;
    case NODE_LINK:
        st->st_mode |= S_IFLNK;
        st->st_size = (off_t)n->size;
        break;
    case NODE_CHR:
        st->st_mode |= S_IFCHR;
        st->st_rdev = n->rdev;
        break;
    }
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    struct kernel *k = K();
    int r = -ENOENT;

    kernel_lock(k);
    struct node *n = lookup(k, path, fi);
    if (n) {
        fill_stat(n, st);
        r = 0;
    }
    kernel_unlock(k);
    return r;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
    struct kernel *k = K();
    int r = -ENOENT;

    kernel_lock(k);
    struct node *n = tree_lookup(k->root, path);
    if (n && n->type != NODE_LINK)
        r = -EINVAL;
    else if (n && size > 0) {
        snprintf(buf, size, "%s", n->data);
        r = 0;
    }
    kernel_unlock(k);
    return r;
}

/* A handle for @path, open on @file (NULL: an attribute or a directory); the caller holds
 * the lock. */
static struct handle *handle_new(struct kernel *k, const char *path, struct node *file,
                                 struct fuse_file_info *fi)
{
    struct handle *h = xcalloc(1, sizeof(*h));

    h->path = xstrdup(path);
    h->file = file;
    if (file)
        file->refs++;
    h->next = k->handles;
    if (h->next)
        h->next->prev = h;
    k->handles = h;
    fi->fh = (uintptr_t)h;
    return h;
}

static int fs_opendir(const char *path, struct fuse_file_info *fi)
{
    struct kernel *k = K();

    kernel_lock(k);
    handle_new(k, path, NULL, fi);
    kernel_unlock(k);
    return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    struct kernel *k = K();
    int r = 0;

    (void)off;
    (void)flags;
    kernel_lock(k);
    struct node *n = lookup(k, path, fi);
    if (n == NULL)
        r = -ENOENT;
    else if (n->type != NODE_DIR)
        r = -ENOTDIR;
    else {
        fill(buf, ".", NULL, 0, 0);
        fill(buf, "..", NULL, 0, 0);
        /* Each entry's type as sysfs gives it (getdents64's d_type); no other field. */
        static const mode_t type_of[] = {[NODE_DIR] = S_IFDIR, [NODE_ATTR] = S_IFREG,
                                         [NODE_FILE] = S_IFREG, [NODE_LINK] = S_IFLNK,
                                         [NODE_CHR] = S_IFCHR};
        for (size_t i = 0; i < n->nkids; i++) {
            struct stat st = {.st_mode = type_of[n->kids[i]->type]};
            if (fill(buf, n->kids[i]->name, &st, 0, 0))
                break;
        }
    }
    kernel_unlock(k);
    return r;
}

static void handle_free(struct kernel *k, struct handle *h)
{
    if (h == NULL)
        return;
    if (h->file && --h->file->refs == 0 && h->file->parent == NULL && h->file != k->root)
        tree_free(h->file); /* unlinked while open */
    if (h->prev)
        h->prev->next = h->next;
    else
        k->handles = h->next;
    if (h->next)
        h->next->prev = h->prev;
    buf_free(&h->snap);
    free(h->path);
    free(h);
}

static int fs_releasedir(const char *path, struct fuse_file_info *fi)
{
    struct kernel *k = K();

    (void)path;
    kernel_lock(k);
    handle_free(k, H(fi));
    kernel_unlock(k);
    return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
    struct kernel *k = K();
    int r = 0;
    int acc = fi->flags & O_ACCMODE;

    kernel_lock(k);
    struct node *n = tree_lookup(k->root, path);
    if (n == NULL) {
        r = -ENOENT;
    } else if (n->type == NODE_DIR) {
        r = -EISDIR;
    } else if (n->type == NODE_ATTR) {
        /* kernfs refuses to open for reading what has no show(), and for writing what has no
         * store(), even for root. */
        if ((acc != O_WRONLY && n->attr->show == NULL) ||
            (acc != O_RDONLY && n->attr->store == NULL))
            r = -EACCES;
        else if (n->attr->open != NULL)
            r = n->attr->open(k, n->obj);
    } else if (n->type != NODE_FILE) {
        r = -EACCES;
    }
    if (r == 0) {
        struct handle *h = handle_new(k, path, n->type == NODE_ATTR ? NULL : n, fi);
        h->is_attr = n->type == NODE_ATTR;
        if (!h->is_attr && (fi->flags & O_TRUNC) && acc != O_RDONLY) {
            n->size = 0;
            touch(n, true);
        }
        fi->direct_io = 1; /* every read reaches the model */
    }
    kernel_unlock(k);
    return r;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct kernel *k = K();
    struct handle *h = H(fi);
    int r = 0;

    (void)path;
    kernel_lock(k);
    if (h->is_attr) {
        struct node *n = tree_lookup(k->root, h->path);
        if (n == NULL || n->type != NODE_ATTR) {
            r = -ENODEV; /* the device went away under an open attribute */
        } else if (off == 0 || h->snap.data == NULL) {
            /* a read from the start is what sysfs calls show() for, and what faults count */
            char *key = n->key ? xstrdup(n->key) : tree_path(n);
            r = fault_check(k, key, true);
            free(key);
            buf_reset(&h->snap);
            if (r == 0)
                n->attr->show(k, n->attr, n->obj, &h->snap);
        }
        size_t len = h->snap.len;
        /* pci_read_config(): only the header for the unprivileged */
        if (r == 0 && n->attr->unpriv && fuse_get_context()->uid != 0 && len > n->attr->unpriv)
            len = n->attr->unpriv;
        if (r == 0 && (size_t)off < len) {
            r = (int)(len - (size_t)off < size ? len - (size_t)off : size);
            memcpy(buf, h->snap.data + off, (size_t)r);
        }
        if (r < 0)
            buf_free(&h->snap); /* the next read starts afresh */
    } else {
        struct node *n = h->file;
        if (off == 0) { /* a plain file fails as a disk can (EIO), where a test asks */
            char *key = tree_path(n);
            r = fault_check(k, key, true);
            free(key);
        }
        if (r == 0 && (size_t)off < n->size) {
            r = (int)(n->size - (size_t)off < size ? n->size - (size_t)off : size);
            memcpy(buf, n->data + off, (size_t)r);
        }
    }
    kernel_unlock(k);
    return r;
}

static int file_write(struct node *n, const char *data, size_t size, off_t off)
{
    size_t end = (size_t)off + size;

    if (end > n->size) {
        n->data = xrealloc(n->data, end + 1);
        memset(n->data + n->size, 0, end - n->size);
        n->size = end;
        n->data[end] = '\0';
    }
    memcpy(n->data + off, data, size);
    touch(n, true);
    return (int)size;
}

/* The device a write works on: the attribute's own, or the one named by what is written
 * (bind, unbind, drivers_probe). NULL: none. */
static struct device *write_target(struct kernel *k, const void *obj, const char *data, size_t len)
{
    for (size_t i = 0; i < k->ndevices; i++) {
        if (k->devices[i] == obj)
            return k->devices[i];
    }
    return device_find_name(k, data, len);
}

/* Wait a little (the lock dropped) for another write to let go of a device, as device_lock()
 * makes the kernel's stores wait; writes to other devices go on meanwhile. */
static void wait_device(struct kernel *k)
{
    struct timespec slice;

    if (k->dirty)
        sysfs_build(k);
    /* In slices, to notice an unmount (as kernel_sleep). */
    clock_gettime(CLOCK_MONOTONIC, &slice);
    slice.tv_nsec += 100000000L;
    if (slice.tv_nsec >= 1000000000L) {
        slice.tv_sec++;
        slice.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&k->wake, &k->lock, &slice);
}

/* One write(2) to a kernel attribute: the fault table, then store(), then the log. Writes to
 * one device are one at a time (device_lock()); to different devices they run side by side,
 * a hanging one included. */
static int attr_write(struct kernel *k, struct handle *h, const char *data, size_t size)
{
    struct node *n = tree_lookup(k->root, h->path);

    if (n == NULL || n->type != NODE_ATTR)
        return -ENODEV;
    if (size > 4096)
        size = 4096; /* sysfs hands store() at most a page */
    char *copy = xmalloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    bool quiet = strncmp(h->path, "/.fakesys/", 10) == 0;
    struct device *target = quiet ? NULL : write_target(k, n->obj, copy, size);
    while (target != NULL && target->busy != NULL && !kernel_stopping(k)) {
        wait_device(k);
        /* The tree may have been laid out again, the device gone. */
        if ((n = tree_lookup(k->root, h->path)) == NULL || n->type != NODE_ATTR) {
            free(copy);
            return -ENODEV;
        }
        target = write_target(k, n->obj, copy, size);
    }
    struct hd_pci_addr busy_addr = target ? target->addr : (struct hd_pci_addr){0};
    if (target != NULL)
        target->busy = h;
    char *key = n->key ? xstrdup(n->key) : tree_path(n);
    const struct attr *a = n->attr;
    void *obj = n->obj;
    /* n may be freed from here on: store() rebuilds the tree when it sleeps. */
    int r = quiet ? 0 : fault_check(k, key, false);
    if (r == 0)
        r = a->store(k, obj, copy, size);
    if (target != NULL) {
        struct device *dev = device_find(k, &busy_addr);
        if (dev != NULL && dev->busy == h)
            dev->busy = NULL;
        pthread_cond_broadcast(&k->wake);
    }
    if (!quiet) {
        struct buf line = {0};
        buf_quote(&line, copy, size);
        kernel_log(k, "write %s %s = %s", key, line.data, r == 0 ? "ok" : errno_name(-r));
        buf_free(&line);
    }
    free(key);
    free(copy);
    return r < 0 ? r : (int)size;
}

static int fs_write(const char *path, const char *data, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct kernel *k = K();
    struct handle *h = H(fi);
    int r;

    (void)path;
    kernel_lock(k);
    if (h->is_attr)
        r = attr_write(k, h, data, size);
    else
        r = file_write(h->file, data, size, off);
    kernel_unlock(k);
    return r;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
    return fs_releasedir(path, fi);
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct kernel *k = K();
    int r = 0;

    kernel_lock(k);
    struct node *n = lookup(k, path, fi);
    if (n == NULL) {
        r = -ENOENT;
    } else if (n->type == NODE_FILE) {
        if ((size_t)size > n->size)
            file_write(n, "", 0, size);
        n->size = (size_t)size;
        if (n->data)
            n->data[n->size] = '\0';
        touch(n, true);
    } else if (n->type == NODE_DIR) {
        r = -EISDIR;
    } else if (n->type != NODE_ATTR) {
        r = -EINVAL; /* O_TRUNC on a sysfs attribute is accepted and means nothing */
    }
    kernel_unlock(k);
    return r;
}

/* The directory that would hold @path, if it is one where plain files may be made. */
static int plain_parent(struct kernel *k, const char *path, struct node **dir, const char **name)
{
    const char *slash = strrchr(path, '/');
    char *dpath = strndup(path, (size_t)(slash - path));

    *dir = tree_lookup(k->root, dpath);
    free(dpath);
    *name = slash + 1;
    if (*dir == NULL)
        return -ENOENT;
    if ((*dir)->type != NODE_DIR)
        return -ENOTDIR;
    if ((*dir)->kernel)
        return -EACCES; /* sysfs, proc and devtmpfs take no new files */
    if (strlen(*name) > 255)
        return -ENAMETOOLONG;
    if (tree_child(*dir, *name))
        return -EEXIST;
    return 0;
}

static struct node *new_plain(struct node *dir, const char *name, enum node_type type, mode_t mode)
{
    struct fuse_context *c = fuse_get_context();
    struct node *n = tree_add(dir, tree_new(name, type, mode & 07777));

    n->uid = c->uid;
    n->gid = c->gid;
    touch(dir, true);
    return n;
}

/* create, mknod, mkdir, symlink: a new plain node at @path (@target for a link; with @fi,
 * the new file is opened). */
static int make_plain(const char *path, enum node_type type, mode_t mode, const char *target,
                      struct fuse_file_info *fi)
{
    struct kernel *k = K();
    struct node *dir;
    const char *name;

    kernel_lock(k);
    int r = plain_parent(k, path, &dir, &name);
    if (r == 0) {
        struct node *n = new_plain(dir, name, type, mode);
        if (target) {
            n->data = xstrdup(target);
            n->size = strlen(target);
        }
        if (fi) {
            handle_new(k, path, n, fi);
            fi->direct_io = 1;
        }
    }
    kernel_unlock(k);
    return r;
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return make_plain(path, NODE_FILE, mode, NULL, fi);
}

static int fs_mknod(const char *path, mode_t mode, dev_t rdev)
{
    (void)rdev;
    if (!S_ISREG(mode))
        return -EPERM; /* no device nodes, fifos or sockets of one's own */
    return make_plain(path, NODE_FILE, mode, NULL, NULL);
}

static int fs_mkdir(const char *path, mode_t mode)
{
    return make_plain(path, NODE_DIR, mode, NULL, NULL);
}

static int fs_symlink(const char *target, const char *path)
{
    return make_plain(path, NODE_LINK, 0777, target, NULL);
}

/* Take @n out of the tree; free it unless an open handle still holds it. */
static void drop(struct node *n)
{
    if (n->parent)
        touch(n->parent, true);
    tree_detach(n);
    if (n->refs == 0)
        tree_free(n);
}

static int fs_unlink_common(const char *path, bool dir)
{
    struct kernel *k = K();
    int r = 0;

    kernel_lock(k);
    struct node *n = tree_lookup(k->root, path);
    if (n == NULL)
        r = -ENOENT;
    else if (n->kernel || n->parent == NULL || n->parent->kernel)
        r = -EPERM;
    else if (dir && n->type != NODE_DIR)
        r = -ENOTDIR;
    else if (!dir && n->type == NODE_DIR)
        r = -EISDIR;
    else if (dir && n->nkids)
        r = -ENOTEMPTY;
    else
        drop(n);
    kernel_unlock(k);
    return r;
}

static int fs_unlink(const char *path)
{
    return fs_unlink_common(path, false);
}

static int fs_rmdir(const char *path)
{
    return fs_unlink_common(path, true);
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
    struct kernel *k = K();
    struct node *dir;
    const char *name;
    int r;

    if (flags & ~(unsigned int)RENAME_NOREPLACE)
        return -EINVAL;
    kernel_lock(k);
    struct node *n = tree_lookup(k->root, from);
    r = plain_parent(k, to, &dir, &name);
    if (n == NULL)
        r = -ENOENT;
    else if (n->kernel || n->parent == NULL || n->parent->kernel)
        r = -EPERM;
    if (r == -EEXIST && !(flags & RENAME_NOREPLACE)) {
        struct node *old = tree_child(dir, name);
        r = 0;
        if (old == n)
            r = 1; /* same file: nothing to do */
        else if (old->type == NODE_DIR && n->type != NODE_DIR)
            r = -EISDIR;
        else if (old->type != NODE_DIR && n->type == NODE_DIR)
            r = -ENOTDIR;
        else if (old->type == NODE_DIR && old->nkids)
            r = -ENOTEMPTY;
        else
            drop(old); /* the atomic replace: readers of the old file keep it */
    }
    for (struct node *p = dir; r == 0 && p; p = p->parent)
        if (p == n)
            r = -EINVAL; /* into itself */
    if (r == 0) {
        touch(n->parent, true);
        tree_detach(n);
        free(n->name);
        n->name = xstrdup(name);
        tree_add(dir, n);
        touch(n, false);
    }
    kernel_unlock(k);
    return r > 0 ? 0 : r;
}

static int fs_link(const char *from, const char *to)
{
    (void)from;
    (void)to;
    return -EPERM;
}

/* chmod/chown: plain files, and device nodes (dev/vfio/N keeps its owner in the model). */
static int setattr_target(struct kernel *k, const char *path, struct fuse_file_info *fi,
                          struct node **out)
{
    struct node *n = lookup(k, path, fi);

    if (n == NULL)
        return -ENOENT;
    if (n->kernel && n->type != NODE_CHR)
        return -EPERM;
    *out = n;
    return 0;
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct kernel *k = K();
    struct node *n;

    kernel_lock(k);
    int r = setattr_target(k, path, fi, &n);
    if (r == 0) {
        n->mode = mode & 07777;
        if (n->perm)
            n->perm->mode = n->mode;
        touch(n, false);
    }
    kernel_unlock(k);
    return r;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    struct kernel *k = K();
    struct node *n;

    kernel_lock(k);
    int r = setattr_target(k, path, fi, &n);
    if (r == 0) {
        if (uid != (uid_t)-1)
            n->uid = uid;
        if (gid != (gid_t)-1)
            n->gid = gid;
        if (n->perm) {
            n->perm->uid = n->uid;
            n->perm->gid = n->gid;
        }
        touch(n, false);
    }
    kernel_unlock(k);
    return r;
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    struct kernel *k = K();
    int r = -ENOENT;

    kernel_lock(k);
    struct node *n = lookup(k, path, fi);
    if (n) {
        r = 0;
        if (tv == NULL || tv[1].tv_nsec == UTIME_NOW)
            touch(n, true);
        else if (tv[1].tv_nsec != UTIME_OMIT)
            n->mtime = tv[1];
    }
    kernel_unlock(k);
    return r;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path;
    (void)datasync;
    (void)fi;
    return 0;
}

static int fs_flush(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    (void)fi;
    return 0;
}

static int fs_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    memset(st, 0, sizeof(*st));
    st->f_bsize = st->f_frsize = 4096;
    st->f_blocks = st->f_bfree = st->f_bavail = 1 << 20;
    st->f_files = st->f_ffree = 1 << 20;
    st->f_namemax = 255;
    return 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    /* No caching anywhere: every lookup and read must see the model as it is now. */
    cfg->entry_timeout = 0;
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->direct_io = 1;
    cfg->hard_remove = 1; /* no .fuse_hidden files in directories hostdev lists */
    cfg->nullpath_ok = 1;
    return fuse_get_context()->private_data;
}

static bool server_exited(struct kernel *k)
{
    return fuse_session_exited(k->server);
}

static void fs_destroy(void *data)
{
    struct kernel *k = data;

    kernel_lock(k);
    k->stopping = true;
    pthread_cond_broadcast(&k->wake);
    kernel_unlock(k);
}

static const struct fuse_operations ops = {
    .getattr = fs_getattr,
    .readlink = fs_readlink,
    .mknod = fs_mknod,
    .mkdir = fs_mkdir,
    .unlink = fs_unlink,
    .rmdir = fs_rmdir,
    .symlink = fs_symlink,
    .rename = fs_rename,
    .link = fs_link,
    .chmod = fs_chmod,
    .chown = fs_chown,
    .truncate = fs_truncate,
    .open = fs_open,
    .read = fs_read,
    .write = fs_write,
    .statfs = fs_statfs,
    .flush = fs_flush,
    .release = fs_release,
    .fsync = fs_fsync,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .releasedir = fs_releasedir,
    .init = fs_init,
    .destroy = fs_destroy,
    .create = fs_create,
    .utimens = fs_utimens,
};

/* ---- parallel writes to one file ---------------------------------------------------------- */
/* The kernel's FUSE client takes a file's inode lock for every direct write unless open
 * replied FOPEN_PARALLEL_DIRECT_WRITES, which libfuse before 3.15 cannot set from
 * fuse_file_info. Without it, two processes unbinding two devices from one driver would wait
 * for each other in the VFS (drivers/X/unbind is one file), which sysfs does not do. So the
 * session's I/O is ours: each worker thread notes the OPEN request it read, and its reply
 * gets the flag. Layouts from <linux/fuse.h>, where these are ABI. */
struct fuse_in_head {
    uint32_t len, opcode;
    uint64_t unique;
};
struct fuse_out_head {
    uint32_t len;
    int32_t error;
    uint64_t unique;
};
struct fuse_open_reply {
    uint64_t fh;
    uint32_t open_flags, padding;
};
enum { FUSE_OPCODE_OPEN = 14, FOPEN_FLAG_PARALLEL_DIRECT_WRITES = 1u << 6 };

/* The OPEN request this worker thread read last (fuse_loop_mt replies in the thread that
 * read the request); 0: none. */
static _Thread_local uint64_t open_unique;

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
    ssize_t n = read(fd, buf, len);
    const struct fuse_in_head *in = buf;

    (void)userdata;
    open_unique = n >= (ssize_t)sizeof(*in) && in->opcode == FUSE_OPCODE_OPEN ? in->unique : 0;
    return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
    const struct fuse_out_head *out = iov[0].iov_base;

    (void)userdata;
    if (open_unique != 0 && count >= 2 && iov[0].iov_len >= sizeof(*out) &&
        out->unique == open_unique && out->error == 0 &&
        iov[1].iov_len >= sizeof(struct fuse_open_reply)) {
        struct fuse_open_reply *reply = iov[1].iov_base;
        reply->open_flags |= FOPEN_FLAG_PARALLEL_DIRECT_WRITES;
        open_unique = 0;
    }
    return writev(fd, iov, count);
}

struct watch {
    struct kernel *k;
    pid_t owner;
    const char *mountpoint;
    atomic_bool done; /* the server's loop ended: the kernel is about to go, touch nothing */
};

/* Unmounts (lazily: the owner may have died inside a write) once the owner is gone, and ends
 * every wait: a writer its children left hanging in the kernel keeps the mount's connection,
 * and so this server, alive until its write returns. */
static void *watch_owner(void *arg)
{
    struct watch *w = arg;

    while (!atomic_load(&w->done) && (kill(w->owner, 0) == 0 || errno != ESRCH))
        usleep(20000); /* short: the server joins this watch when it ends */
    if (atomic_load(&w->done))
        return NULL;
    unmount_path(w->mountpoint, true);
    kernel_lock(w->k);
    w->k->stopping = true;
    pthread_cond_broadcast(&w->k->wake);
    kernel_unlock(w->k);
    return NULL;
}

int fuse_serve(struct kernel *k, const char *mountpoint, bool foreground, pid_t owner)
{
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct watch w = {k, owner, mountpoint, false};
    bool watching = false;
    pthread_t watcher;
    int r = EXIT_RUNTIME;

    fuse_opt_add_arg(&args, "hostdev-fakesys");
    fuse_opt_add_arg(&args, "-o");
    fuse_opt_add_arg(&args, getuid() == 0 ? "default_permissions,allow_other,fsname=fakesys,"
                                            "subtype=hostdev-fakesys"
                                          : "default_permissions,fsname=fakesys,"
                                            "subtype=hostdev-fakesys");
    struct fuse *f = fuse_new(&args, &ops, sizeof(ops), k);
    fuse_opt_free_args(&args);
    if (f == NULL) {
        fprintf(stderr, "hostdev-fakesys mount: cannot set up FUSE\n");
        return EXIT_RUNTIME;
    }
    if (fuse_mount(f, mountpoint) != 0) {
        fprintf(stderr, "hostdev-fakesys mount: cannot mount on '%s'\n", mountpoint);
        fuse_destroy(f);
        return EXIT_RUNTIME;
    }
    static const struct fuse_custom_io io = {.read = io_read, .writev = io_writev};
    if (fuse_session_custom_io(fuse_get_session(f), &io, fuse_session_fd(fuse_get_session(f))) !=
        0) {
        fprintf(stderr, "hostdev-fakesys mount: cannot set up FUSE I/O\n");
        goto out;
    }
    /* The parent returns once the mount exists; requests queue until the loop runs. */
    if (fuse_daemonize(foreground) != 0)
        goto out;
    if (fuse_set_signal_handlers(fuse_get_session(f)) != 0)
        goto out;
    kernel_lock(k);
    k->server = fuse_get_session(f);
    k->stop_requested = server_exited;
    kernel_unlock(k);
    watching = owner > 0 && pthread_create(&watcher, NULL, watch_owner, &w) == 0;
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    /* As many idle workers may stay as may exist: a worker let go as surplus is detached, and
     * if it is still exiting when fuse_destroy() deletes libfuse's context key, its per-thread
     * context leaks (seen once under ASan in CI). Kept workers are all joined by the loop. */
    fuse_loop_cfg_set_max_threads(cfg, 64);
    fuse_loop_cfg_set_idle_threads(cfg, 64);
    r = fuse_loop_mt(f, cfg) == 0 ? EXIT_OK : EXIT_RUNTIME;
    fuse_loop_cfg_destroy(cfg);
    /* The watch uses the kernel and this frame: it ends before either does (<= 20 ms). */
    atomic_store(&w.done, true);
    if (watching)
        pthread_join(watcher, NULL);
    fuse_remove_signal_handlers(fuse_get_session(f));
out:
    fuse_unmount(f);
    fuse_destroy(f);
    /* Releases the kernel never sent (files still open at the unmount). */
    while (k->handles) {
        struct handle *h = k->handles;
        h->prev = NULL; /* it is the head: said so that the analyzer sees k->handles move on */
        handle_free(k, h);
    }
    if (owner > 0)
        rmdir(mountpoint); /* only if empty: it was the owner's temporary directory */
    return r;
}
