/* safety.c - would taking a device from its driver pull something from under the host? Its
 * disks (mounted, swapped on, held by md, device-mapper, btrfs or ZFS, or refusing an exclusive
 * open), its network interfaces carrying traffic (up with addresses or routes in any table, or
 * below a bridge, bond or VLAN that is; link-local ignored, as dpdk-devbind does), the console,
 * or any of that of an SR-IOV PF's VFs, which its driver letting go destroys. Everything is
 * read relative to the root; on the host itself, addresses and routes come from rtnetlink (the
 * only place that has all tables). Nothing here writes. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"
#include "nodedev.h"

#define IFF_UP_FLAG 0x1

struct reasons {
    char buf[1024];
    size_t len;
    const char *who; /* what the reasons call the device: its BDF, or the name it was given */
};

static void add_reason(struct reasons *rs, const char *fmt, ...) HD_PRINTF(2, 3);
static void add_reason(struct reasons *rs, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (rs->len > 0 && rs->len + 2 < sizeof(rs->buf)) {
        memcpy(rs->buf + rs->len, "; ", 3);
        rs->len += 2;
    }
    if (rs->len + 1 >= sizeof(rs->buf))
        return;
    va_start(ap, fmt);
    n = vsnprintf(rs->buf + rs->len, sizeof(rs->buf) - rs->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        rs->len = rs->len + (size_t)n < sizeof(rs->buf) ? rs->len + (size_t)n
                                                           : sizeof(rs->buf) - 1;
}

/* The entries of a sys/class directory and where each links to, read once for every device a
 * command asks about (a listing of 10,000 functions must not read them 10,000 times). */
struct class_links {
    char **names, **targets; /* targets[i] "" when names[i] is no link */
    size_t n;
    int loaded; /* 0 not yet, 1 read, -errno could not */
};

static int class_links_load(struct hd_ctx *ctx, const char *dir, struct class_links *cl)
{
    char path[HD_PATH_MAX], target[HD_PATH_MAX];

    if (cl->loaded)
        return cl->loaded < 0 ? cl->loaded : 0;
    cl->loaded = 1;
    if (hd_fs_list_dir(ctx, dir, &cl->names, &cl->n) < 0) {
        cl->names = NULL;
        cl->n = 0; /* no such class: nothing of it in use */
        return 0;
    }
    if ((cl->targets = calloc(cl->n ? cl->n : 1, sizeof(*cl->targets))) == NULL)
        return cl->loaded = -ENOMEM;
    for (size_t i = 0; i < cl->n; i++) {
        target[0] = '\0';
        if (hd_name_valid(cl->names[i]) &&
            hd_path(path, sizeof(path), "%s/%s", dir, cl->names[i]) == 0 &&
            hd_fs_read_link(ctx, path, target, sizeof(target)) < 0)
            target[0] = '\0';
        if ((cl->targets[i] = strdup(target)) == NULL)
            return cl->loaded = -ENOMEM;
    }
    return 0;
}

static void class_links_free(struct class_links *cl)
{
    hd_strv_free(cl->names, cl->n);
    if (cl->targets != NULL)
        hd_strv_free(cl->targets, cl->n);
    *cl = (struct class_links){0};
}

struct netuse;
struct netgraph;
struct vf_users;

/* What the host uses, read once for every device a command asks about: the block, net and
 * graphics class links; addresses and routes and how interfaces stack, when an interface that
 * is up turns out to sit below a device. */
struct hd_host_use {
    int refcount;
    struct hd_ctx *ctx;
    struct class_links block, net, graphics;
    struct netuse *use;     /* NULL until needed */
    struct netgraph *graph; /* NULL until needed */
    struct hd_mdev_list *mdevs; /* NULL until needed */
    struct hd_nodedev_list *usb; /* the USB devices, NULL until a USB controller is asked */
    struct vf_users *vfs; /* NULL until a PF on a host driver is asked */
    size_t own_left; /* devices still to be asked from their own directory first */
};

/* Every line of a ROOT file, one at a time; a missing file has no lines. */
static char *read_lines(struct hd_ctx *ctx, const char *path)
{
    char *data = NULL;

    return hd_fs_read_alloc(ctx, path, HD_READ_MAX, &data, NULL) == 0 ? data : NULL;
}

/* Undo the octal escapes (\040) that mountinfo uses for blanks in paths. */
static void unescape_octal(char *s)
{
    char *w = s;

    for (const char *r = s; *r; w++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w = *r++;
        }
    }
    *w = '\0';
}

/* A growing list of names (no cap: what is beyond a fixed size would go unchecked). */
struct names {
    char **v;
    size_t n, cap;
};

static bool names_has(const struct names *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], name) == 0)
            return true;
    }
    return false;
}

/* Add @name once: 1 added, 0 already there, -ENOMEM. */
static int names_add(struct names *l, const char *name)
{
    if (names_has(l, name))
        return 0;
    char **v = hd_array_grow(l->v, &l->cap, l->n, sizeof(*v), 16);
    if (v == NULL)
        return -ENOMEM;
    l->v = v;
    if ((l->v[l->n] = strdup(name)) == NULL)
        return -ENOMEM;
    l->n++;
    return 1;
}

static void names_free(struct names *l)
{
    hd_strv_free(l->v, l->n);
    *l = (struct names){0};
}

/* ---- disks ------------------------------------------------------------------------------- */

struct blockdev {
    char *name;
    char devnum[32];  /* "8:1" */
    char mapper[160]; /* "/dev/mapper/vg-root" for device-mapper, else "" */
    bool reported;    /* a reason names it already */
};

struct blocks {
    struct blockdev *v;
    size_t n, cap;
};

static bool block_known(const struct blocks *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++) {
        if (strcmp(b->v[i].name, name) == 0)
            return true;
    }
    return false;
}

static int block_add(struct hd_ctx *ctx, struct blocks *bl, const char *name)
{
    char path[HD_PATH_MAX], val[128];
    struct blockdev *b;

    if (!hd_name_valid(name) || block_known(bl, name))
        return 0;
    struct blockdev *v = hd_array_grow(bl->v, &bl->cap, bl->n, sizeof(*v), 16);
    if (v == NULL)
        return -ENOMEM;
    bl->v = v;
    b = &bl->v[bl->n];
    memset(b, 0, sizeof(*b));
    if ((b->name = strdup(name)) == NULL)
        return -ENOMEM;
    bl->n++;
    if (hd_path(path, sizeof(path), "sys/class/block/%s/dev", name) == 0 &&
        hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0)
        hd_strlcpy(b->devnum, val, sizeof(b->devnum));
    if (hd_path(path, sizeof(path), "sys/class/block/%s/dm/name", name) == 0 &&
        hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0)
        snprintf(b->mapper, sizeof(b->mapper), "/dev/mapper/%s", val);
    return 0;
}

static void blocks_free(struct blocks *bl)
{
    for (size_t i = 0; i < bl->n; i++)
        free(bl->v[i].name);
    free(bl->v);
}

/* The block devices of @bdf: those whose sysfs node lies below it (disks, partitions), and
 * what is stacked on them (holders: device-mapper, md, and their holders), which goes away
 * with them. */
static int find_block(struct hd_host_use *hu, const char *bdf, struct blocks *bl)
{
    struct hd_ctx *ctx = hu->ctx;
    char path[HD_PATH_MAX];
    int r = class_links_load(ctx, "sys/class/block", &hu->block);

    for (size_t i = 0; i < hu->block.n && r == 0; i++) {
        if (hd_sysfs_is_below(hu->block.targets[i], bdf))
            r = block_add(ctx, bl, hu->block.names[i]);
    }
    for (size_t i = 0; i < bl->n && r == 0; i++) { /* n grows while we walk */
        char **h;
        size_t nh;
        if (hd_path(path, sizeof(path), "sys/class/block/%s/holders", bl->v[i].name) < 0 ||
            hd_fs_list_dir(ctx, path, &h, &nh) < 0)
            continue;
        for (size_t k = 0; k < nh && r == 0; k++)
            r = block_add(ctx, bl, h[k]);
        hd_strv_free(h, nh);
    }
    return r;
}

static struct blockdev *block_match(struct blocks *bl, const char *devnum, const char *source)
{
    for (size_t i = 0; i < bl->n; i++) {
        struct blockdev *b = &bl->v[i];
        if ((devnum && b->devnum[0] && strcmp(devnum, b->devnum) == 0) ||
            (source && strncmp(source, "/dev/", 5) == 0 && strcmp(source + 5, b->name) == 0) ||
            (source && b->mapper[0] && strcmp(source, b->mapper) == 0))
            return b;
    }
    return NULL;
}

/* One mount: where, what, from where (unescaped). */
struct mount {
    char *devnum; /* NULL from proc/mounts */
    char *mnt, *fstype, *source;
};

/* Call @fn for every mount (proc/self/mountinfo, else proc/mounts) until it returns true. */
static void for_each_mount(struct hd_ctx *ctx, bool (*fn)(void *data, const struct mount *m),
                           void *data)
{
    bool info = true;
    char *text = read_lines(ctx, "proc/self/mountinfo"), *save = NULL;

    if (text == NULL) {
        info = false;
        text = read_lines(ctx, "proc/mounts");
    }
    if (text == NULL)
        return;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[32] = {NULL};
        size_t nf = hd_split_fields(line, f, HD_ARRAY_SIZE(f));
        struct mount m;
        if (info) {
            /* id parent maj:min root mountpoint options [optional...] - fstype source opts */
            size_t sep = 6;
            while (sep < nf && strcmp(f[sep], "-") != 0)
                sep++;
            if (nf < 6 || sep + 1 >= nf)
                continue;
            m = (struct mount){f[2], f[4], f[sep + 1], sep + 2 < nf ? f[sep + 2] : ""};
        } else {
            if (nf < 3)
                continue;
            m = (struct mount){NULL, f[1], f[2], f[0]};
        }
        unescape_octal(m.mnt);
        unescape_octal(m.source);
        if (fn(data, &m))
            break;
    }
    free(text);
}

struct mount_check {
    struct blocks *bl;
    struct reasons *rs;
};

static bool mount_seen(void *data, const struct mount *m)
{
    struct mount_check *c = data;
    struct blockdev *b = block_match(c->bl, m->devnum, m->source);

    if (b != NULL) {
        add_reason(c->rs, "%s backs /dev/%s mounted on %s", c->rs->who, b->name, m->mnt);
        b->reported = true;
    }
    return false;
}

static void check_swaps(struct hd_ctx *ctx, struct blocks *bl, struct reasons *rs)
{
    char *data = read_lines(ctx, "proc/swaps"), *save = NULL;
    bool header = true;

    if (data == NULL)
        return;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s2 = NULL, *file = strtok_r(line, " \t", &s2);
        struct blockdev *b;
        if (header) { /* "Filename Type Size Used Priority" */
            header = false;
            continue;
        }
        if (file == NULL)
            continue;
        unescape_octal(file);
        if ((b = block_match(bl, NULL, file)) != NULL) {
            add_reason(rs, "%s backs /dev/%s used as swap", rs->who, b->name);
            b->reported = true;
        }
    }
    free(data);
}

/* The first mount that @want accepts: its mount point into @out. */
struct mount_find {
    bool (*want)(const struct mount *m, const void *key);
    const void *key;
    char out[256];
};

static bool mount_find_fn(void *data, const struct mount *m)
{
    struct mount_find *f = data;

    if (!f->want(m, f->key))
        return false;
    hd_strlcpy(f->out, m->mnt, sizeof(f->out));
    return true;
}

/* A btrfs filesystem spans devices; mountinfo names one of them. */
static bool btrfs_mount_of(const struct mount *m, const void *key)
{
    const struct names *devs = key;

    return strcmp(m->fstype, "btrfs") == 0 && strncmp(m->source, "/dev/", 5) == 0 &&
           names_has(devs, m->source + 5);
}

/* sys/fs/btrfs/UUID exists while that filesystem is mounted; its devices/ lists every member,
 * not only the one mountinfo names. */
static void check_btrfs(struct hd_ctx *ctx, struct blocks *bl, struct reasons *rs)
{
    char **fs, path[HD_PATH_MAX];
    size_t nfs;

    if (hd_fs_list_dir(ctx, "sys/fs/btrfs", &fs, &nfs) < 0)
        return;
    for (size_t i = 0; i < nfs; i++) {
        struct names devs = {0};
        char **d;
        size_t nd;
        if (!hd_name_valid(fs[i]) ||
            hd_path(path, sizeof(path), "sys/fs/btrfs/%s/devices", fs[i]) < 0 ||
            hd_fs_list_dir(ctx, path, &d, &nd) < 0)
            continue;
        for (size_t k = 0; k < nd; k++)
            names_add(&devs, d[k]);
        hd_strv_free(d, nd);
        for (size_t k = 0; k < bl->n; k++) {
            struct blockdev *b = &bl->v[k];
            struct mount_find f = {btrfs_mount_of, &devs, ""};
            if (b->reported || !names_has(&devs, b->name))
                continue;
            for_each_mount(ctx, mount_find_fn, &f);
            add_reason(rs, "%s backs /dev/%s, a device of the btrfs filesystem %s%s", rs->who,
                       b->name, f.out[0] ? "mounted on " : fs[i], f.out);
            b->reported = true;
        }
        names_free(&devs);
    }
    hd_strv_free(fs, nfs);
}

/* A ZFS dataset names its pool, never a device ("rpool/ROOT/pve-1"). */
static bool zfs_mount_of(const struct mount *m, const void *key)
{
    const char *pool = key;
    size_t n = strlen(pool);

    return strcmp(m->fstype, "zfs") == 0 && strncmp(m->source, pool, n) == 0 &&
           (m->source[n] == '\0' || m->source[n] == '/');
}

/* The pool a ZFS vdev belongs to, as blkid told udev (ID_FS_TYPE=zfs_member, ID_FS_LABEL=pool):
 * the kernel shows no vdev list outside the zfs ioctls. */
static bool zfs_pool_of(struct hd_ctx *ctx, const struct blockdev *b, char *pool, size_t size)
{
    char path[HD_PATH_MAX], *data, *save = NULL;
    bool member = false;

    pool[0] = '\0';
    if (!b->devnum[0] || hd_path(path, sizeof(path), "run/udev/data/b%s", b->devnum) < 0 ||
        !hd_path_valid(path) || (data = read_lines(ctx, path)) == NULL)
        return false;
    for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strcmp(l, "E:ID_FS_TYPE=zfs_member") == 0)
            member = true;
        else if (strncmp(l, "E:ID_FS_LABEL=", 14) == 0)
            hd_strlcpy(pool, l + 14, size);
    }
    free(data);
    return member && hd_name_valid(pool);
}

/* A vdev of an imported pool (proc/spl/kstat/zfs/POOL) is held by ZFS, mounted or not. */
static void check_zfs(struct hd_ctx *ctx, struct blocks *bl, struct reasons *rs)
{
    char pool[128], path[HD_PATH_MAX];

    for (size_t k = 0; k < bl->n; k++) {
        struct blockdev *b = &bl->v[k];
        struct mount_find f = {zfs_mount_of, pool, ""};
        if (b->reported || !zfs_pool_of(ctx, b, pool, sizeof(pool)) ||
            hd_path(path, sizeof(path), "proc/spl/kstat/zfs/%s", pool) < 0 ||
            hd_fs_exists(ctx, path) != 1)
            continue;
        for_each_mount(ctx, mount_find_fn, &f);
        add_reason(rs, "%s backs /dev/%s, a device of ZFS pool %s%s%s", rs->who, b->name, pool,
                   f.out[0] ? " mounted on " : " (imported)", f.out);
        b->reported = true;
    }
}

/* Does the kernel refuse an exclusive open of @b's node under the root's dev/? That is how a
 * holder we cannot name shows (a mount, md, dm, btrfs, ZFS, swap, another program's O_EXCL).
 * Only a block device of the same number is opened (read-only: nothing is written, and
 * closing it makes no change event); a regular file stands for one in a fake tree. */
static bool block_busy(struct hd_ctx *ctx, const struct blockdev *b)
{
    char path[HD_PATH_MAX], num[32], *colon;
    unsigned long long maj, min;
    struct stat st;
    int fd;

    if (hd_path(path, sizeof(path), "dev/%s", b->name) < 0 || hd_fs_stat(ctx, path, &st) < 0)
        return false;
    if (S_ISBLK(st.st_mode)) {
        hd_strlcpy(num, b->devnum, sizeof(num));
        if ((colon = strchr(num, ':')) == NULL)
            return false;
        *colon = '\0';
        if (hd_parse_uint(num, 10, 0xfffff, &maj) < 0 ||
            hd_parse_uint(colon + 1, 10, 0xfffff, &min) < 0 ||
            st.st_rdev != makedev((unsigned int)maj, (unsigned int)min))
            return false;
    } else if (!S_ISREG(st.st_mode)) {
        return false;
    }
    fd = hd_fs_open(ctx, path, O_RDONLY | O_EXCL | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY, 0);
    if (fd >= 0)
        close(fd);
    return fd == -EBUSY;
}

static void check_exclusive(struct hd_ctx *ctx, struct blocks *bl, struct reasons *rs)
{
    char list[512] = "";
    size_t len = 0, n = 0;

    for (size_t i = 0; i < bl->n; i++) {
        if (!block_busy(ctx, &bl->v[i]))
            continue;
        if (len + strlen(bl->v[i].name) + 8 < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s/dev/%s",
                                    n ? ", " : "", bl->v[i].name);
        n++;
    }
    if (n > 0)
        add_reason(rs, "%s backs %s, which the kernel reports in use (an exclusive open "
                       "fails: mounted, or held by md, device-mapper, a filesystem or a pool)",
                   rs->who, list);
}

static int check_block(struct hd_host_use *hu, const char *bdf, struct reasons *rs)
{
    struct hd_ctx *ctx = hu->ctx;
    struct blocks bl = {0};
    size_t before = rs->len;
    int r = find_block(hu, bdf, &bl);

    if (r == 0 && bl.n > 0) {
        struct mount_check mc = {&bl, rs};
        for_each_mount(ctx, mount_seen, &mc);
        check_swaps(ctx, &bl, rs);
        check_btrfs(ctx, &bl, rs);
        check_zfs(ctx, &bl, rs);
        /* What reading found is said by name; the kernel's verdict covers the rest. */
        if (rs->len == before)
            check_exclusive(ctx, &bl, rs);
    }
    blocks_free(&bl);
    return r;
}

/* ---- network ----------------------------------------------------------------------------- */

enum { NET_ROUTES = 1, NET_ADDRS = 2 };

/* Which interfaces have routes or (non-link-local) addresses, by name. */
struct netuse {
    struct names names;
    unsigned char *what; /* NET_* per name */
    size_t cap;
};

static int netuse_mark(struct netuse *u, const char *ifname, unsigned char what)
{
    size_t i;
    int r;

    if (!hd_name_valid(ifname))
        return 0;
    for (i = 0; i < u->names.n && strcmp(u->names.v[i], ifname) != 0; i++)
        ;
    if (i == u->names.n) {
        if ((r = names_add(&u->names, ifname)) < 0)
            return r;
        if (u->cap < u->names.cap) {
            unsigned char *w = realloc(u->what, u->names.cap);
            if (w == NULL)
                return -ENOMEM;
            u->what = w;
            u->cap = u->names.cap;
        }
        u->what[i] = 0;
    }
    u->what[i] |= what;
    return 0;
}

static unsigned char netuse_get(const struct netuse *u, const char *ifname)
{
    for (size_t i = 0; i < u->names.n; i++) {
        if (strcmp(u->names.v[i], ifname) == 0)
            return u->what[i];
    }
    return 0;
}

static void netuse_free(struct netuse *u)
{
    names_free(&u->names);
    free(u->what);
}

/* Link-local and multicast destinations are every interface's, used or not. */
static bool addr_counts(int family, const unsigned char *a, unsigned int len)
{
    if (family == AF_INET && len >= 2)
        return !(a[0] == 169 && a[1] == 254) && (a[0] & 0xf0) != 0xe0;
    if (family == AF_INET6 && len >= 2)
        return !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80) && a[0] != 0xff;
    return true;
}

static bool text_addr_counts(const char *text)
{
    unsigned char a[16];
    char buf[64];
    size_t n = strcspn(text, "/");

    if (n >= sizeof(buf))
        return true;
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, a) == 1)
        return addr_counts(AF_INET6, a, 16);
    if (inet_pton(AF_INET, buf, a) == 1)
        return addr_counts(AF_INET, a, 4);
    return true;
}

static int hex_nibble(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The files of a root that is not the host: proc/net/route (IPv4, main table),
 * proc/net/ipv6_route (IPv6, every table), proc/net/if_inet6 (IPv6 addresses), and
 * proc/net/hostdev-rtnl for what only rtnetlink shows (IPv4 routes of other tables, IPv4
 * addresses): "route TABLE IFNAME DEST/LEN", "addr IFNAME ADDR/LEN" (docs/design.md). */
static int netuse_from_files(struct hd_ctx *ctx, struct netuse *u)
{
    char *data, *save = NULL;
    int r = 0;

    if ((data = read_lines(ctx, "proc/net/route")) != NULL) {
        for (char *l = strtok_r(data, "\n", &save); l && r == 0; l = strtok_r(NULL, "\n", &save)) {
            char *f[2];
            if (hd_split_fields(l, f, 2) >= 1 && strcmp(f[0], "Iface") != 0)
                r = netuse_mark(u, f[0], NET_ROUTES);
        }
        free(data);
    }
    save = NULL;
    if (r == 0 && (data = read_lines(ctx, "proc/net/ipv6_route")) != NULL) {
        /* dest dlen src slen nexthop metric refcnt use flags dev */
        for (char *l = strtok_r(data, "\n", &save); l && r == 0; l = strtok_r(NULL, "\n", &save)) {
            char *f[10];
            unsigned char a[2];
            if (hd_split_fields(l, f, 10) != 10 || strlen(f[0]) != 32)
                continue;
            for (int b = 0; b < 2; b++)
                a[b] = (unsigned char)(hex_nibble(f[0][2 * b]) * 16 + hex_nibble(f[0][2 * b + 1]));
            if (addr_counts(AF_INET6, a, 2))
                r = netuse_mark(u, f[9], NET_ROUTES);
        }
        free(data);
    }
    save = NULL;
    if (r == 0 && (data = read_lines(ctx, "proc/net/if_inet6")) != NULL) {
        /* address ifindex prefixlen scope flags name; scope 0x20 is link-local */
        for (char *l = strtok_r(data, "\n", &save); l && r == 0; l = strtok_r(NULL, "\n", &save)) {
            char *f[6];
            if (hd_split_fields(l, f, 6) == 6 && strtoul(f[3], NULL, 16) != 0x20)
                r = netuse_mark(u, f[5], NET_ADDRS);
        }
        free(data);
    }
    save = NULL;
    if (r == 0 && (data = read_lines(ctx, "proc/net/hostdev-rtnl")) != NULL) {
        for (char *l = strtok_r(data, "\n", &save); l && r == 0; l = strtok_r(NULL, "\n", &save)) {
            char *f[4];
            size_t nf = hd_split_fields(l, f, 4);
            if (nf == 4 && strcmp(f[0], "route") == 0 && text_addr_counts(f[3]))
                r = netuse_mark(u, f[2], NET_ROUTES);
            else if (nf == 3 && strcmp(f[0], "addr") == 0 && text_addr_counts(f[2]))
                r = netuse_mark(u, f[1], NET_ADDRS);
        }
        free(data);
    }
    return r;
}

/* A fact of the host's own view (every routing table, every address): a route or an address
 * that is not link-local or multicast marks its interface. */
static int netuse_rtnl_fact(void *data, const struct hd_rtnl_fact *f)
{
    if (f->addr_len > 0 && !addr_counts(f->family, f->addr, f->addr_len))
        return 0;
    if (f->kind == HD_RTNL_ROUTE)
        return f->type == RTN_MULTICAST ? 0 : netuse_mark(data, f->ifname, NET_ROUTES);
    return f->scope == RT_SCOPE_LINK ? 0 : netuse_mark(data, f->ifname, NET_ADDRS);
}

static int netuse_load(struct hd_ctx *ctx, struct netuse *u)
{
    if (hd_ctx_root_is_host(ctx) && hd_rtnl_walk(netuse_rtnl_fact, u) == 0)
        return 0;
    netuse_free(u);
    *u = (struct netuse){0};
    return netuse_from_files(ctx, u);
}

static bool net_up(struct hd_ctx *ctx, const char *ifname)
{
    char path[HD_PATH_MAX], val[64];
    unsigned long long flags;

    if (hd_path(path, sizeof(path), "sys/class/net/%s/flags", ifname) == 0 &&
        hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0 &&
        hd_parse_hex(val, ~0ull, &flags) == 0 && (flags & IFF_UP_FLAG))
        return true;
    return hd_path(path, sizeof(path), "sys/class/net/%s/operstate", ifname) == 0 &&
           hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0 && strcmp(val, "up") == 0;
}

/* How interfaces stack, as the kernel shows it from either side: a lower's master and upper_*
 * links, an upper's lower_* links, a bridge's brif/, a bond's bonding/slaves. Read once per
 * command, and only when an interface that is up sits below a device asked about while some
 * interface has addresses or routes. */
struct netlinks {
    bool loaded;
    struct names up, down;
};

struct netgraph {
    struct netlinks *v; /* per entry of hu->net */
    size_t n;
};

static int net_index(const struct class_links *net, const char *name)
{
    for (size_t i = 0; i < net->n; i++) {
        if (strcmp(net->names[i], name) == 0)
            return (int)i;
    }
    return -1;
}

static int add_valid(struct names *l, const char *name)
{
    return hd_name_valid(name) && names_add(l, name) < 0 ? -ENOMEM : 0;
}

/* The links of interface @i, read once (-ENOMEM in @err). */
static struct netlinks *net_links(struct hd_host_use *hu, int i, int *err)
{
    struct hd_ctx *ctx = hu->ctx;
    struct netlinks *l;
    const char *x;
    char path[HD_PATH_MAX], name[HD_PATH_MAX], val[HD_ATTR_MAX], **ent, *save = NULL;
    size_t ne;
    bool master = false, brif = false, bonding = false;
    int r = 0;

    *err = 0;
    if (i < 0)
        return NULL;
    l = &hu->graph->v[i];
    if (l->loaded)
        return l;
    l->loaded = true;
    x = hu->net.names[i];
    /* One listing of the interface's directory says which of the rest exist. */
    if (!hd_name_valid(x) || hd_path(path, sizeof(path), "sys/class/net/%s", x) < 0 ||
        hd_fs_list_dir(ctx, path, &ent, &ne) < 0)
        return l;
    for (size_t k = 0; k < ne && r == 0; k++) {
        if (strncmp(ent[k], "upper_", 6) == 0)
            r = add_valid(&l->up, ent[k] + 6);
        else if (strncmp(ent[k], "lower_", 6) == 0)
            r = add_valid(&l->down, ent[k] + 6);
        master = master || strcmp(ent[k], "master") == 0;
        brif = brif || strcmp(ent[k], "brif") == 0;
        bonding = bonding || strcmp(ent[k], "bonding") == 0;
    }
    hd_strv_free(ent, ne);
    if (r == 0 && master && hd_path(path, sizeof(path), "sys/class/net/%s/master", x) == 0 &&
        hd_fs_link_basename(ctx, path, name, sizeof(name)) == 0)
        r = add_valid(&l->up, name);
    if (r == 0 && brif && hd_path(path, sizeof(path), "sys/class/net/%s/brif", x) == 0 &&
        hd_fs_list_dir(ctx, path, &ent, &ne) == 0) {
        for (size_t k = 0; k < ne && r == 0; k++)
            r = add_valid(&l->down, ent[k]);
        hd_strv_free(ent, ne);
    }
    if (r == 0 && bonding &&
        hd_path(path, sizeof(path), "sys/class/net/%s/bonding/slaves", x) == 0 &&
        hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0) {
        for (char *t = strtok_r(val, " \t", &save); t && r == 0;
             t = strtok_r(NULL, " \t", &save))
            r = add_valid(&l->down, t);
    }
    *err = r;
    return l;
}

/* Every interface's links, each "B names A as its lower" turned into "A is below B": a path
 * may be told half by one side, half by the other (a bond's slaves list, then the bond's
 * upper link), so all of them are read, once. */
static int netgraph_load(struct hd_host_use *hu)
{
    struct netgraph *g;
    int r = 0;

    if (hu->graph != NULL)
        return 0;
    if ((g = calloc(1, sizeof(*g))) == NULL ||
        (g->v = calloc(hu->net.n ? hu->net.n : 1, sizeof(*g->v))) == NULL) {
        free(g);
        return -ENOMEM;
    }
    g->n = hu->net.n;
    hu->graph = g;
    for (size_t i = 0; i < g->n && r == 0; i++)
        net_links(hu, (int)i, &r);
    for (size_t i = 0; i < g->n && r == 0; i++) {
        for (size_t k = 0; k < g->v[i].down.n && r == 0; k++) {
            int lower = net_index(&hu->net, g->v[i].down.v[k]);
            if (lower >= 0 && names_add(&g->v[lower].up, hu->net.names[i]) < 0)
                r = -ENOMEM;
        }
    }
    return r;
}

static void netgraph_free(struct netgraph *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n; i++) {
        names_free(&g->v[i].up);
        names_free(&g->v[i].down);
    }
    free(g->v);
    free(g);
}

/* @ifname and everything stacked on it, transitively (a port of a bond in a bridge with a
 * VLAN on top), into @up; @up->v[0] is @ifname. */
static int net_uppers(struct hd_host_use *hu, const char *ifname, struct names *up)
{
    int r = names_add(up, ifname) < 0 ? -ENOMEM : 0;

    for (size_t i = 0; i < up->n && r == 0; i++) { /* n grows while we walk */
        int k = net_index(&hu->net, up->v[i]);
        for (size_t u = 0; k >= 0 && u < hu->graph->v[k].up.n && r == 0; u++)
            r = names_add(up, hu->graph->v[k].up.v[u]) < 0 ? -ENOMEM : 0;
    }
    return r;
}

static const char *use_words(unsigned char what)
{
    return what == (NET_ROUTES | NET_ADDRS) ? "addresses and routes"
           : what == NET_ROUTES             ? "routes"
                                            : "addresses";
}

static int check_net(struct hd_host_use *hu, const char *bdf, struct reasons *rs)
{
    struct hd_ctx *ctx = hu->ctx;
    int r = class_links_load(ctx, "sys/class/net", &hu->net);

    for (size_t i = 0; i < hu->net.n && r == 0; i++) {
        const char *ifname = hu->net.names[i];
        struct names up = {0};
        unsigned char what;
        if (!hd_name_valid(ifname) || !hd_sysfs_is_below(hu->net.targets[i], bdf) ||
            !net_up(ctx, ifname))
            continue;
        if (hu->use == NULL) {
            if ((hu->use = calloc(1, sizeof(*hu->use))) == NULL)
                return -ENOMEM;
            if ((r = netuse_load(ctx, hu->use)) < 0)
                break;
        }
        /* How interfaces stack matters only if another interface carries something. */
        bool others = false;
        for (size_t u = 0; u < hu->use->names.n && !others; u++)
            others = strcmp(hu->use->names.v[u], ifname) != 0;
        if (others ? (r = netgraph_load(hu)) < 0 || (r = net_uppers(hu, ifname, &up)) < 0
                   : (r = names_add(&up, ifname) < 0 ? -ENOMEM : 0) < 0) {
            names_free(&up);
            break;
        }
        if ((what = netuse_get(hu->use, ifname)) != 0)
            add_reason(rs, "%s: %s is up with %s", rs->who, ifname, use_words(what));
        for (size_t k = 1; k < up.n; k++) {
            if ((what = netuse_get(hu->use, up.v[k])) != 0 && net_up(ctx, up.v[k]))
                add_reason(rs, "%s: %s is under %s, which is up with %s", rs->who, ifname,
                           up.v[k], use_words(what));
        }
        names_free(&up);
    }
    return r;
}

/* ---- the console ------------------------------------------------------------------------- */

/* The boot VGA device, or one a framebuffer sits on. The kernel shows boot_vga only for
 * display devices, so a listing does not read it for the others (a class it could not read,
 * 0, is asked). */
static int check_console(struct hd_host_use *hu, struct hd_device *dev, bool framebuffers,
                         struct reasons *rs)
{
    struct hd_ctx *ctx = hu->ctx;
    char path[HD_PATH_MAX], val[16];
    int r;

    uint32_t class = hd_device_get_class(dev);

    if ((class == 0 || (class >> 16) == 0x03) &&
        hd_device_read_attr(dev, "boot_vga", val, sizeof(val)) > 0 && strcmp(val, "1") == 0)
        add_reason(rs, "%s is the boot VGA device (the console)", hd_device_get_name(dev));
    if (!framebuffers)
        return 0;
    if ((r = class_links_load(ctx, "sys/class/graphics", &hu->graphics)) < 0)
        return r;
    for (size_t i = 0; i < hu->graphics.n; i++) {
        const char *fb = hu->graphics.names[i];
        char base[64];
        bool mine;
        if (strncmp(fb, "fb", 2) != 0 || !hd_name_valid(fb))
            continue;
        mine = hd_sysfs_is_below(hu->graphics.targets[i], hd_device_get_name(dev));
        if (!mine && hd_path(path, sizeof(path), "sys/class/graphics/%s/device", fb) == 0 &&
            hd_fs_link_basename(ctx, path, base, sizeof(base)) == 0)
            mine = strcmp(base, hd_device_get_name(dev)) == 0;
        if (mine)
            add_reason(rs, "%s drives framebuffer %s (the console)", hd_device_get_name(dev), fb);
    }
    return 0;
}

/* ---- the keyboard -------------------------------------------------------------------------- */

/* A USB controller with the host's keyboard behind it: a VM taking the controller takes the
 * keyboard (and the console with it). Only USB controllers (class 0c03) are asked. */
static int check_keyboard(struct hd_host_use *hu, struct hd_device *dev, struct reasons *rs)
{
    char kbd[64];
    int r;

    if ((hd_device_get_class(dev) >> 8) != 0x0c03)
        return 0;
    /* Listed once for the command, as the class links and the mdevs are; the USB devices
     * alone, by their places in sysfs (the whole node-device tree reads every PCI device). */
    if (hu->usb == NULL && (r = hd_nodedev_list_new_only(hu->ctx, HD_CAP_USB_DEVICE,
                                                         &hu->usb)) < 0)
        return r;
    if (hd_usb_keyboard_below(hu->ctx, hu->usb, hd_device_get_name(dev), kbd, sizeof(kbd)) > 0)
        add_reason(rs, "%s has the host's keyboard behind it (%s)", rs->who, kbd);
    return 0;
}

/* ---- mediated devices ---------------------------------------------------------------------- */

/* A parent of mediated devices (a GPU with vGPUs): its driver leaving removes them all, and a
 * VM may be using one. */
static int check_mdev(struct hd_host_use *hu, const char *bdf, struct reasons *rs)
{
    int r;

    if (hu->mdevs == NULL && (r = hd_mdev_list_new(hu->ctx, &hu->mdevs)) < 0)
        return r;
    for (size_t i = 0; i < hd_mdev_list_count(hu->mdevs); i++) {
        if (strcmp(hd_mdev_list_get_parent(hu->mdevs, i), bdf) == 0)
            add_reason(rs, "%s is the parent of mediated device %s (leaving its driver removes "
                       "it, out from under any VM using it)", rs->who,
                       hd_mdev_list_get_uuid(hu->mdevs, i));
    }
    return 0;
}

/* ---- SR-IOV -------------------------------------------------------------------------------- */

/* The VFs among the PCI devices that have something the host could use (a disk, an interface, a
 * mediated device), each with its PF, read once for every PF a command asks about: its
 * `physfn` link, one read for each such device and none for the rest, so a listing of 10,000
 * functions asks nothing more of a host with no VF in use. */
struct vf_users {
    struct hd_pci_addr *vf, *pf;
    size_t n;
};

static int vf_users_add(struct hd_ctx *ctx, struct vf_users *u, const struct hd_pci_addr *a)
{
    char name[HD_PCI_ADDR_BUFSZ], path[HD_PATH_MAX], pf[HD_PCI_ADDR_BUFSZ + 8];
    struct hd_pci_addr p;

    for (size_t i = 0; i < u->n; i++) {
        if (hd_pci_addr_equal(&u->vf[i], a))
            return 0;
    }
    hd_pci_addr_format(a, name);
    /* No physfn link: no VF (or gone meanwhile); either way no PF answers for it. */
    if (hd_path(path, sizeof(path), "sys/bus/pci/devices/%s/physfn", name) < 0 ||
        hd_fs_link_basename(ctx, path, pf, sizeof(pf)) < 0 || hd_pci_addr_parse(pf, &p) < 0) {
        hd_ctx_clear_error(ctx);
        return 0;
    }
    struct hd_pci_addr *vf = realloc(u->vf, (u->n + 1) * sizeof(*vf));
    if (vf == NULL)
        return -ENOMEM;
    u->vf = vf;
    struct hd_pci_addr *pfs = realloc(u->pf, (u->n + 1) * sizeof(*pfs));
    if (pfs == NULL)
        return -ENOMEM;
    u->pf = pfs;
    u->vf[u->n] = *a;
    u->pf[u->n++] = p;
    return 0;
}

static void vf_users_free(struct vf_users *u)
{
    if (u != NULL) {
        free(u->vf);
        free(u->pf);
        free(u);
    }
}

static int vf_users_load(struct hd_host_use *hu)
{
    const struct class_links *cls[] = {&hu->block, &hu->net};
    struct hd_pci_addr a;
    int r = 0;

    if (hu->vfs != NULL)
        return 0;
    if ((r = class_links_load(hu->ctx, "sys/class/block", &hu->block)) < 0 ||
        (r = class_links_load(hu->ctx, "sys/class/net", &hu->net)) < 0 ||
        (hu->mdevs == NULL && (r = hd_mdev_list_new(hu->ctx, &hu->mdevs)) < 0))
        return r;
    if ((hu->vfs = calloc(1, sizeof(*hu->vfs))) == NULL)
        return -ENOMEM;
    for (size_t c = 0; c < sizeof(cls) / sizeof(cls[0]); c++) {
        for (size_t i = 0; r == 0 && i < cls[c]->n; i++) {
            if (hd_sysfs_pci_of(cls[c]->targets[i], &a))
                r = vf_users_add(hu->ctx, hu->vfs, &a);
        }
    }
    for (size_t i = 0; r == 0 && i < hd_mdev_list_count(hu->mdevs); i++) {
        if (hd_pci_addr_parse(hd_mdev_list_get_parent(hu->mdevs, i), &a) == 0)
            r = vf_users_add(hu->ctx, hu->vfs, &a);
    }
    return r;
}

/* A PF's VFs go when its host driver lets go (it turns SR-IOV off), so what the host uses of
 * them is the PF's to answer for too. A PF on a DMA-safe driver (vfio-pci that made them) stays
 * there through a detach or an acquire, and its VFs with it. */
static int check_vfs(struct hd_host_use *hu, struct hd_device *pf, struct reasons *rs)
{
    const char *driver = hd_device_get_driver(pf), *pf_who = rs->who;
    char vf[HD_PCI_ADDR_BUFSZ], who[2 * HD_PCI_ADDR_BUFSZ + 64];
    int r;

    if (driver == NULL || hd_driver_is_dma_safe(driver))
        return 0;
    if ((r = vf_users_load(hu)) < 0)
        return r;
    for (size_t i = 0; r == 0 && i < hu->vfs->n; i++) {
        if (!hd_pci_addr_equal(&hu->vfs->pf[i], hd_device_get_addr(pf)))
            continue;
        hd_pci_addr_format(&hu->vfs->vf[i], vf);
        snprintf(who, sizeof(who), "%s's VF %s (gone when the PF leaves its driver)", pf_who, vf);
        rs->who = who;
        if ((r = check_block(hu, vf, rs)) == 0 && (r = check_net(hu, vf, rs)) == 0)
            r = check_mdev(hu, vf, rs);
    }
    rs->who = pf_who;
    return r;
}

/* ---- what a device's own directory rules out ------------------------------------------- */

/* What could find something the host uses of a device. */
enum {
    NEED_BLOCK = 1u << 0,    /* sys/class/block */
    NEED_NET = 1u << 1,      /* sys/class/net */
    NEED_GRAPHICS = 1u << 2, /* sys/class/graphics */
    NEED_MDEV = 1u << 3,     /* sys/bus/mdev/devices */
    NEED_VFS = 1u << 4,      /* a PF's VFs (check_vfs) */
    NEED_ALL = (1u << 5) - 1,
};

/* An operation on a few devices asks each one's own directory first (one listing): the host's
 * listings (block, net, graphics, mdev: about 10 syscalls, read once for all the devices
 * asked) are read only when a device has a child they could find. More devices read them. */
#define HOST_USE_FEW 4

static int own_entry(void *data, const char *name, unsigned char type)
{
    /* Subdirectories that hold nothing the host could use: attribute groups (power, msi_irqs,
     * link: ASPM), wakeup sources, the VFIO device cdev. */
    static const char *const nothing_below[] = {"power", "msi_irqs", "link", "wakeup",
                                                "vfio-dev"};
    unsigned int *need = data;

    if (type == DT_REG)
        return 0;
    if (type == DT_LNK) { /* what a link leads to is no child (driver, iommu_group, physfn) */
        if (strncmp(name, "virtfn", 6) == 0)
            *need |= NEED_VFS;
        return 0;
    }
    if (type == DT_DIR) {
        for (size_t i = 0; i < sizeof(nothing_below) / sizeof(nothing_below[0]); i++) {
            if (strcmp(name, nothing_below[i]) == 0)
                return 0;
        }
        if (strcmp(name, "net") == 0) {
            *need |= NEED_NET;
            return 0;
        }
        if (strcmp(name, "graphics") == 0 || strcmp(name, "drm") == 0) {
            *need |= NEED_GRAPHICS;
            return 0;
        }
    }
    /* Any other child may hold disks (nvme, host0, ata1, virtio0, usb1), interfaces, an mdev
     * (its UUID) or a bridge's devices; a type the filesystem does not tell may be one. */
    *need = NEED_ALL;
    return 1; /* nothing more to learn */
}

/* Which of the host's listings can find something of @dev: all of them, unless @dev is one of
 * a few asked and its own directory shows which. */
static unsigned int own_needs(struct hd_host_use *hu, struct hd_device *dev)
{
    char path[HD_PATH_MAX];
    unsigned int need = 0;

    if (hu->own_left == 0 ||
        (hu->block.loaded && hu->net.loaded && hu->graphics.loaded && hu->mdevs != NULL))
        return NEED_ALL; /* read already: asking costs nothing more */
    hu->own_left--;
    if (hd_path(path, sizeof(path), "sys/bus/pci/devices/%s", hd_device_get_name(dev)) < 0 ||
        hd_fs_scan_dir_types(hu->ctx, path, own_entry, &need) < 0)
        return NEED_ALL; /* the listings tell what the directory could not */
    return need;
}

int hd_host_use_new_for(struct hd_ctx *ctx, size_t devices, struct hd_host_use **out)
{
    struct hd_host_use *hu = calloc(1, sizeof(*hu));

    *out = NULL;
    if (hu == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    hu->refcount = 1;
    hu->ctx = hd_ctx_ref(ctx);
    hu->own_left = devices <= HOST_USE_FEW ? devices : 0;
    *out = hu;
    return 0;
}

HD_EXPORT int hd_host_use_new(struct hd_ctx *ctx, struct hd_host_use **out)
{
    return hd_host_use_new_for(ctx, SIZE_MAX, out); /* a listing's: many devices */
}

HD_EXPORT struct hd_host_use *hd_host_use_ref(struct hd_host_use *hu)
{
    if (hu != NULL)
        hu->refcount++;
    return hu;
}

HD_EXPORT struct hd_host_use *hd_host_use_unref(struct hd_host_use *hu)
{
    if (hu == NULL || --hu->refcount > 0)
        return NULL;
    class_links_free(&hu->block);
    class_links_free(&hu->net);
    class_links_free(&hu->graphics);
    if (hu->use != NULL) {
        netuse_free(hu->use);
        free(hu->use);
    }
    netgraph_free(hu->graph);
    hd_mdev_list_unref(hu->mdevs);
    hd_nodedev_list_unref(hu->usb);
    vf_users_free(hu->vfs);
    hd_ctx_unref(hu->ctx);
    free(hu);
    return NULL;
}

HD_EXPORT int hd_host_use_check(struct hd_host_use *hu, struct hd_device *dev)
{
    struct reasons rs = {.len = 0};
    const char *name;
    unsigned int need;
    int r;

    if (hu == NULL || dev == NULL)
        return -EINVAL;
    rs.buf[0] = '\0';
    name = hd_device_get_name(dev);
    rs.who = name;
    need = own_needs(hu, dev);
    if (((need & NEED_BLOCK) && (r = check_block(hu, name, &rs)) < 0) ||
        ((need & NEED_NET) && (r = check_net(hu, name, &rs)) < 0) ||
        (r = check_console(hu, dev, need & NEED_GRAPHICS, &rs)) < 0 ||
        ((need & NEED_MDEV) && (r = check_mdev(hu, name, &rs)) < 0) ||
        (r = check_keyboard(hu, dev, &rs)) < 0 ||
        ((need & NEED_VFS) && (r = check_vfs(hu, dev, &rs)) < 0))
        return hd_err(hd_device_get_ctx(dev), r, "%s: cannot tell whether the host uses it", name);
    if (rs.len > 0)
        return hd_err(hd_device_get_ctx(dev), -EBUSY, "%s", rs.buf);
    return 0;
}

int hd_host_use_check_below(struct hd_host_use *hu, const char *component,
                            const char *label)
{
    struct reasons rs = {.len = 0, .who = label};
    int r;

    rs.buf[0] = '\0';
    if ((r = check_block(hu, component, &rs)) < 0 || (r = check_net(hu, component, &rs)) < 0)
        return hd_err(hu->ctx, r, "%s: cannot tell whether the host uses it", label);
    if (rs.len > 0)
        return hd_err(hu->ctx, -EBUSY, "%s", rs.buf);
    return 0;
}

int hd_host_use_check_leaving(struct hd_ctx *ctx, struct hd_host_use **hu, struct hd_device *dev)
{
    int r;

    if (hd_driver_is_dma_safe(hd_device_get_driver(dev)))
        return 0;
    if (*hu == NULL && (r = hd_host_use_new_for(ctx, 0, hu)) < 0)
        return r;
    if ((r = hd_host_use_check(*hu, dev)) == -EBUSY)
        return hd_ctx_set_reason(ctx, r, HD_REASON_HOST_USE);
    return r;
}

/* hd_host_use_check_leaving(), and for an SR-IOV PF on a host driver the VFs detaching it
 * would destroy: all that acquire and detach refuse @dev itself for without force. */
static int check_own(struct hd_ctx *ctx, struct hd_host_use **hu, struct hd_device *dev)
{
    int r = hd_host_use_check_leaving(ctx, hu, dev);

    if (r != 0 || hd_driver_is_dma_safe(hd_device_get_driver(dev)))
        return r;
    return hd_check_pf_keeps_vfs(ctx, dev, false, "detaching it");
}

HD_EXPORT int hd_host_use_check_own(struct hd_host_use *hu, struct hd_device *dev)
{
    if (hu == NULL || dev == NULL)
        return -EINVAL;
    return check_own(hd_device_get_ctx(dev), &hu, dev);
}

/* *@use from @check's answer about @dev (*@hu read only when @check needs it). */
static int find_use(struct hd_device *dev, struct hd_host_use **hu, char **use,
                    int (*check)(struct hd_ctx *, struct hd_host_use **, struct hd_device *))
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    int r;

    if (hd_device_get_platform_role(dev) != NULL)
        return 0;
    if ((r = check(ctx, hu, dev)) != -EBUSY)
        return r;
    if ((*use = strdup(hd_ctx_last_error(ctx))) == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    hd_ctx_clear_error(ctx);
    return 0;
}

int hd_host_use_find(struct hd_device *dev, struct hd_host_use **hu, char **use)
{
    return find_use(dev, hu, use, hd_host_use_check_leaving);
}

int hd_host_use_find_own(struct hd_device *dev, struct hd_host_use **hu, char **use)
{
    return find_use(dev, hu, use, check_own);
}

HD_EXPORT int hd_device_check_host_use(struct hd_device *dev)
{
    struct hd_host_use *hu;
    int r;

    if ((r = hd_host_use_new_for(hd_device_get_ctx(dev), 1, &hu)) < 0)
        return r;
    r = hd_host_use_check(hu, dev);
    hd_host_use_unref(hu);
    return r;
}
