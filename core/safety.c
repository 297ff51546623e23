/* safety.c - would taking a device from its driver pull something from under the host? Its
 * disks mounted or swapped on, its network interfaces up with addresses or routes (link-local
 * ignored, as dpdk-devbind does), or the console. Everything is read relative to the root. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define IFF_UP_FLAG 0x1
#define MAX_BLOCK 64

struct reasons {
    char buf[1024];
    size_t len;
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

/* Does the symlink @path point below the PCI device @bdf (a component of its target)? */
static bool link_below(struct hd_ctx *ctx, const char *path, const char *bdf)
{
    char target[HD_PATH_MAX], *save = NULL;
    size_t blen = strlen(bdf);

    if (hd_fs_read_link(ctx, path, target, sizeof(target)) < 0)
        return false;
    for (char *c = strtok_r(target, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strlen(c) == blen && strcmp(c, bdf) == 0)
            return true;
    }
    return false;
}

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

struct blockdev {
    char name[64];
    char devnum[32];  /* "8:1" */
    char mapper[160]; /* "/dev/mapper/vg-root" for device-mapper, else "" */
};

static bool block_known(const struct blockdev *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].name, name) == 0)
            return true;
    }
    return false;
}

static void block_add(struct hd_ctx *ctx, struct blockdev *v, size_t *n, const char *name)
{
    char path[HD_PATH_MAX], val[128];
    struct blockdev *b;

    if (*n >= MAX_BLOCK || !hd_name_valid(name) || strlen(name) >= sizeof(v->name) ||
        block_known(v, *n, name))
        return;
    b = &v[(*n)++];
    memset(b, 0, sizeof(*b));
    strcpy(b->name, name);
    if (hd_path(path, sizeof(path), "sys/class/block/%s/dev", name) == 0 &&
        hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0)
        hd_strlcpy(b->devnum, val, sizeof(b->devnum));
    if (hd_path(path, sizeof(path), "sys/class/block/%s/dm/name", name) == 0 &&
        hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0)
        snprintf(b->mapper, sizeof(b->mapper), "/dev/mapper/%s", val);
}

/* The block devices of @bdf: those whose sysfs node lies below it, and what is stacked on them
 * (holders: device-mapper, md), which goes away with them. */
static size_t find_block(struct hd_ctx *ctx, const char *bdf, struct blockdev *v)
{
    char **names, path[HD_PATH_MAX];
    size_t count, n = 0;

    if (hd_fs_list_dir(ctx, "sys/class/block", &names, &count) < 0)
        return 0;
    for (size_t i = 0; i < count; i++) {
        if (hd_path(path, sizeof(path), "sys/class/block/%s", names[i]) == 0 &&
            link_below(ctx, path, bdf))
            block_add(ctx, v, &n, names[i]);
    }
    hd_strv_free(names, count);
    for (size_t i = 0; i < n; i++) { /* n grows while we walk: holders of holders */
        char **h;
        size_t nh;
        if (hd_path(path, sizeof(path), "sys/class/block/%s/holders", v[i].name) < 0 ||
            hd_fs_list_dir(ctx, path, &h, &nh) < 0)
            continue;
        for (size_t k = 0; k < nh; k++)
            block_add(ctx, v, &n, h[k]);
        hd_strv_free(h, nh);
    }
    return n;
}

static const struct blockdev *block_match(const struct blockdev *v, size_t n, const char *devnum,
                                          const char *source)
{
    for (size_t i = 0; i < n; i++) {
        char dev[80];
        snprintf(dev, sizeof(dev), "/dev/%s", v[i].name);
        if ((devnum && v[i].devnum[0] && strcmp(devnum, v[i].devnum) == 0) ||
            (source && (strcmp(source, dev) == 0 ||
                        (v[i].mapper[0] && strcmp(source, v[i].mapper) == 0))))
            return &v[i];
    }
    return NULL;
}

static void check_mounts(struct hd_ctx *ctx, const char *bdf, const struct blockdev *v,
                         size_t n, struct reasons *rs)
{
    bool info = true;
    char *data = read_lines(ctx, "proc/self/mountinfo"), *save = NULL;

    if (data == NULL) {
        info = false;
        data = read_lines(ctx, "proc/mounts");
    }
    if (data == NULL)
        return;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[16] = {NULL}, *s2 = NULL;
        size_t nf = 0;
        const char *devnum = NULL, *source, *mnt;
        const struct blockdev *b;
        for (char *t = strtok_r(line, " ", &s2); t && nf < 16; t = strtok_r(NULL, " ", &s2))
            f[nf++] = t;
        if (info) {
            /* id parent maj:min root mountpoint options [optional...] - fstype source opts */
            size_t sep = 6;
            while (sep < nf && strcmp(f[sep], "-") != 0)
                sep++;
            if (nf < 6 || sep >= nf)
                continue;
            devnum = f[2];
            mnt = f[4];
            source = sep + 2 < nf ? f[sep + 2] : "";
        } else {
            if (nf < 2)
                continue;
            source = f[0];
            mnt = f[1];
        }
        if ((b = block_match(v, n, devnum, source)) != NULL) {
            char m[256];
            hd_strlcpy(m, mnt, sizeof(m));
            unescape_octal(m);
            add_reason(rs, "%s backs /dev/%s mounted on %s", bdf, b->name, m);
        }
    }
    free(data);
}

static void check_swaps(struct hd_ctx *ctx, const char *bdf, const struct blockdev *v,
                        size_t n, struct reasons *rs)
{
    char *data = read_lines(ctx, "proc/swaps"), *save = NULL;
    bool header = true;

    if (data == NULL)
        return;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s2 = NULL, *file = strtok_r(line, " \t", &s2);
        const struct blockdev *b;
        if (header) { /* "Filename Type Size Used Priority" */
            header = false;
            continue;
        }
        if (file == NULL)
            continue;
        unescape_octal(file);
        if ((b = block_match(v, n, NULL, file)) != NULL)
            add_reason(rs, "%s backs /dev/%s used as swap", bdf, b->name);
    }
    free(data);
}

/* Does @ifname have a route (proc/net/route) or a non-link-local IPv6 address? */
static void net_addresses(struct hd_ctx *ctx, const char *ifname, bool *routes, bool *addrs)
{
    char *data, *save = NULL;

    *routes = *addrs = false;
    if ((data = read_lines(ctx, "proc/net/route")) != NULL) {
        for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *s2 = NULL, *iface = strtok_r(l, " \t", &s2);
            if (iface && strcmp(iface, ifname) == 0)
                *routes = true;
        }
        free(data);
    }
    save = NULL;
    if ((data = read_lines(ctx, "proc/net/if_inet6")) != NULL) {
        /* address ifindex prefixlen scope flags name; scope 0x20 is link-local */
        for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *f[6] = {NULL}, *s2 = NULL;
            size_t nf = 0;
            for (char *t = strtok_r(l, " \t", &s2); t && nf < 6; t = strtok_r(NULL, " \t", &s2))
                f[nf++] = t;
            if (nf == 6 && strcmp(f[5], ifname) == 0 && strtoul(f[3], NULL, 16) != 0x20)
                *addrs = true;
        }
        free(data);
    }
}

static void check_net(struct hd_ctx *ctx, const char *bdf, struct reasons *rs)
{
    char **names, path[HD_PATH_MAX], val[64];
    size_t count;

    if (hd_fs_list_dir(ctx, "sys/class/net", &names, &count) < 0)
        return;
    for (size_t i = 0; i < count; i++) {
        bool up = false, routes, addrs;
        unsigned long long flags;
        if (hd_path(path, sizeof(path), "sys/class/net/%s", names[i]) < 0 ||
            !link_below(ctx, path, bdf))
            continue;
        if (hd_path(path, sizeof(path), "sys/class/net/%s/flags", names[i]) == 0 &&
            hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0 && hd_parse_hex(val, ~0ull,
                                                                            &flags) == 0)
            up = flags & IFF_UP_FLAG;
        if (hd_path(path, sizeof(path), "sys/class/net/%s/operstate", names[i]) == 0 &&
            hd_fs_read_attr(ctx, path, val, sizeof(val)) > 0 && strcmp(val, "up") == 0)
            up = true;
        if (!up)
            continue;
        net_addresses(ctx, names[i], &routes, &addrs);
        if (routes || addrs)
            add_reason(rs, "%s: %s is up with %s", bdf, names[i],
                       routes && addrs ? "addresses and routes" : routes ? "routes"
                                                                         : "addresses");
    }
    hd_strv_free(names, count);
}

static void check_console(struct hd_device *dev, struct reasons *rs)
{
    struct hd_ctx *ctx = dev->ctx;
    char **names, path[HD_PATH_MAX], val[16];
    size_t count;

    if (hd_device_read_attr(dev, "boot_vga", val, sizeof(val)) > 0 && strcmp(val, "1") == 0)
        add_reason(rs, "%s is the boot VGA device (the console)", dev->name);
    if (hd_fs_list_dir(ctx, "sys/class/graphics", &names, &count) < 0)
        return;
    for (size_t i = 0; i < count; i++) {
        char base[64];
        bool mine = false;
        if (strncmp(names[i], "fb", 2) != 0)
            continue;
        if (hd_path(path, sizeof(path), "sys/class/graphics/%s", names[i]) == 0)
            mine = link_below(ctx, path, dev->name);
        if (!mine && hd_path(path, sizeof(path), "sys/class/graphics/%s/device", names[i]) == 0 &&
            hd_fs_link_basename(ctx, path, base, sizeof(base)) == 0)
            mine = strcmp(base, dev->name) == 0;
        if (mine)
            add_reason(rs, "%s drives framebuffer %s (the console)", dev->name, names[i]);
    }
    hd_strv_free(names, count);
}

HD_EXPORT int hd_device_check_host_use(struct hd_device *dev)
{
    struct blockdev *block = calloc(MAX_BLOCK, sizeof(*block));
    struct reasons rs = {.len = 0};
    size_t nblock;

    if (block == NULL)
        return -ENOMEM;
    rs.buf[0] = '\0';
    nblock = find_block(dev->ctx, dev->name, block);
    if (nblock > 0) {
        check_mounts(dev->ctx, dev->name, block, nblock, &rs);
        check_swaps(dev->ctx, dev->name, block, nblock, &rs);
    }
    free(block);
    check_net(dev->ctx, dev->name, &rs);
    check_console(dev, &rs);
    if (rs.len > 0)
        return hd_err(dev->ctx, -EBUSY, "%s", rs.buf);
    return 0;
}
