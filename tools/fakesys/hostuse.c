/* hostuse.c - what the host is using, for host-safety checks: network interfaces up or down
 * with their IPv4 routes and IPv6 addresses, block device numbers, mounts and swaps. Spec
 * options and keywords in, ROOT/proc files and child attributes out. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

#define IFF_UP 0x1
#define IFF_BROADCAST 0x2
#define IFF_MULTICAST 0x1000

static void strv_push(char ***v, const char *s)
{
    size_t n = 0;

    while (*v && (*v)[n])
        n++;
    *v = xrealloc(*v, (n + 2) * sizeof(**v));
    (*v)[n] = xstrdup(s);
    (*v)[n + 1] = NULL;
}

/* "A.B.C.D/LEN": the address and the mask, both in network byte order. */
static int parse_route(const char *s, uint32_t *dest, uint32_t *mask)
{
    char addr[32];
    const char *slash = strchr(s, '/');
    char *end;
    long len;

    if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
        return -EINVAL;
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    len = strtol(slash + 1, &end, 10);
    if (*end || end == slash + 1 || len < 0 || len > 32 || inet_pton(AF_INET, addr, dest) != 1)
        return -EINVAL;
    *mask = htonl(len == 0 ? 0 : 0xffffffffu << (32 - len));
    return 0;
}

static int parse_inet6(const char *s, unsigned char addr[16], int *prefix)
{
    char text[64];
    const char *slash = strchr(s, '/');
    char *end;
    long len = 64;

    if (slash != NULL) {
        len = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || len < 0 || len > 128)
            return -EINVAL;
    }
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof(text))
        return -EINVAL;
    memcpy(text, s, n);
    text[n] = '\0';
    if (inet_pton(AF_INET6, text, addr) != 1)
        return -EINVAL;
    *prefix = (int)len;
    return 0;
}

static bool devnum_ok(const char *s)
{
    const char *colon = strchr(s, ':');

    if (colon == NULL || colon == s || colon[1] == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        if (p != colon && (*p < '0' || *p > '9'))
            return false;
    }
    return true;
}

int hostuse_child_option(struct child *c, const char *opt)
{
    bool net = strcmp(c->subsystem, "net") == 0;
    uint32_t d, m;
    unsigned char a6[16];
    int len;

    if (net && (strcmp(opt, "down") == 0 || strcmp(opt, "up") == 0)) {
        c->down = strcmp(opt, "down") == 0;
    } else if (net && strncmp(opt, "route=", 6) == 0) {
        if (parse_route(opt + 6, &d, &m) < 0)
            return -EINVAL;
        strv_push(&c->routes, opt + 6);
    } else if (net && strncmp(opt, "inet6=", 6) == 0) {
        if (parse_inet6(opt + 6, a6, &len) < 0)
            return -EINVAL;
        strv_push(&c->inet6, opt + 6);
    } else if (strcmp(c->subsystem, "block") == 0 && strncmp(opt, "dev=", 4) == 0) {
        if (!devnum_ok(opt + 4))
            return -EINVAL;
        free(c->devnum);
        c->devnum = xstrdup(opt + 4);
    } else {
        return -EINVAL;
    }
    return 0;
}

void hostuse_child_free(struct child *c)
{
    strv_free(c->routes);
    strv_free(c->inet6);
    free(c->devnum);
}

/* mount SOURCE MOUNTPOINT [FSTYPE]; swap SOURCE. Fields are kept tab-separated. */
int hostuse_keyword(struct kernel *k, int argc, char **argv, char *err, size_t errsz)
{
    bool mount = strcmp(argv[0], "mount") == 0;

    if ((mount && (argc < 3 || argc > 4)) || (!mount && argc != 2)) {
        snprintf(err, errsz, "usage: %s", mount ? "mount SOURCE MOUNTPOINT [FSTYPE]"
                                                : "swap SOURCE");
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '\0' || strpbrk(argv[i], "\t\n") != NULL) {
            snprintf(err, errsz, "%s: '%s' may not be empty or hold tabs or newlines", argv[0],
                     argv[i]);
            return -1;
        }
    }
    if (mount) {
        char *line = xasprintf("%s\t%s\t%s", argv[1], argv[2], argc == 4 ? argv[3] : "ext4");
        strv_push(&k->mounts, line);
        free(line);
    } else {
        strv_push(&k->swaps, argv[1]);
    }
    return 0;
}

/* ---- what the files show --------------------------------------------------------------- */

/* Blanks and backslashes in paths, the way the kernel escapes them (\040). */
static void put_escaped(struct buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == ' ' || *s == '\\' || *s == '\t' || *s == '\n')
            buf_printf(out, "\\%03o", (unsigned char)*s);
        else
            buf_add(out, s, 1);
    }
}

/* The block child a /dev/NAME source names: its device number, or NULL. */
static const char *source_devnum(const struct kernel *k, const char *source)
{
    if (strncmp(source, "/dev/", 5) != 0)
        return NULL;
    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *dev = k->devices[i];
        for (size_t c = 0; dev->present && c < dev->nchildren; c++) {
            if (strcmp(dev->children[c].subsystem, "block") == 0 &&
                strcmp(dev->children[c].name, source + 5) == 0)
                return dev->children[c].devnum;
        }
    }
    return NULL;
}

static const char *const base_mounts[][4] = {
    {"sysfs", "/sys", "sysfs", "0:21"},
    {"proc", "/proc", "proc", "0:22"},
    {"udev", "/dev", "devtmpfs", "0:5"},
};

static void mounts_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    for (size_t i = 0; i < FS_ARRAY_SIZE(base_mounts); i++)
        buf_printf(out, "%s %s %s rw,nosuid,nodev,relatime 0 0\n", base_mounts[i][0],
                   base_mounts[i][1], base_mounts[i][2]);
    for (size_t i = 0; k->mounts && k->mounts[i]; i++) {
        char *f = xstrdup(k->mounts[i]), *mnt = strchr(f, '\t'), *fs = strchr(mnt + 1, '\t');
        *mnt++ = '\0';
        *fs++ = '\0';
        put_escaped(out, f);
        buf_puts(out, " ");
        put_escaped(out, mnt);
        buf_printf(out, " %s rw,relatime 0 0\n", fs);
        free(f);
    }
}

static void mountinfo_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    /* id parent maj:min root mountpoint options - fstype source superoptions */
    for (size_t i = 0; i < FS_ARRAY_SIZE(base_mounts); i++)
        buf_printf(out, "%zu 1 %s / %s rw,nosuid,nodev,relatime shared:%zu - %s %s rw\n",
                   20 + i, base_mounts[i][3], base_mounts[i][1], i + 1, base_mounts[i][2],
                   base_mounts[i][0]);
    for (size_t i = 0; k->mounts && k->mounts[i]; i++) {
        char *f = xstrdup(k->mounts[i]), *mnt = strchr(f, '\t'), *fs = strchr(mnt + 1, '\t');
        const char *devnum;
        *mnt++ = '\0';
        *fs++ = '\0';
        devnum = source_devnum(k, f);
        buf_printf(out, "%zu 1 ", 30 + i);
        if (devnum)
            buf_puts(out, devnum);
        else
            buf_printf(out, "0:%zu", 40 + i);
        buf_puts(out, " / ");
        put_escaped(out, mnt);
        buf_printf(out, " rw,relatime - %s ", fs);
        put_escaped(out, f);
        buf_puts(out, " rw\n");
        free(f);
    }
}

static void swaps_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_puts(out, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    for (size_t i = 0; k->swaps && k->swaps[i]; i++)
        buf_printf(out, "%-40s%s\t1048572\t\t0\t\t-%zu\n", k->swaps[i],
                   strncmp(k->swaps[i], "/dev/", 5) == 0 ? "partition" : "file\t", i + 2);
}

/* Every net child of a present device, in device order: its ifindex is its position + 2
 * (1 is lo). */
static void for_each_net(struct kernel *k, void (*fn)(const struct child *c, int ifindex,
                                                       struct buf *out),
                         struct buf *out)
{
    int ifindex = 2;

    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *dev = k->devices[i];
        for (size_t c = 0; dev->present && c < dev->nchildren; c++) {
            if (strcmp(dev->children[c].subsystem, "net") == 0)
                fn(&dev->children[c], ifindex++, out);
        }
    }
}

static void route_rows(const struct child *c, int ifindex, struct buf *out)
{
    (void)ifindex;
    for (size_t i = 0; !c->down && c->routes && c->routes[i]; i++) {
        uint32_t d, m;
        if (parse_route(c->routes[i], &d, &m) < 0)
            continue;
        /* The kernel prints the raw network-order words as host integers. */
        buf_printf(out, "%s\t%08X\t%08X\t0001\t0\t0\t100\t%08X\t0\t0\t0\n", c->name, d, 0u, m);
    }
}

static void route_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_puts(out, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\t"
                  "Window\tIRTT\n");
    for_each_net(k, route_rows, out);
}

static void inet6_rows(const struct child *c, int ifindex, struct buf *out)
{
    for (size_t i = 0; !c->down && c->inet6 && c->inet6[i]; i++) {
        unsigned char a6[16];
        int prefix, scope = 0x00;
        if (parse_inet6(c->inet6[i], a6, &prefix) < 0)
            continue;
        if (a6[0] == 0xfe && (a6[1] & 0xc0) == 0x80)
            scope = 0x20; /* link-local */
        for (int b = 0; b < 16; b++)
            buf_printf(out, "%02x", a6[b]);
        buf_printf(out, " %02x %02x %02x %02x %8s\n", ifindex, prefix, scope, 0x80, c->name);
    }
}

static void inet6_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    buf_puts(out, "00000000000000000000000000000001 01 80 10 80       lo\n");
    for_each_net(k, inet6_rows, out);
}

static void flags_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    const struct child *c = obj;

    (void)k;
    (void)a;
    buf_printf(out, "0x%x\n", IFF_MULTICAST | IFF_BROADCAST | (c->down ? 0 : IFF_UP));
}

static void operstate_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    const struct child *c = obj;

    (void)k;
    (void)a;
    buf_puts(out, c->down ? "down\n" : "up\n");
}

static void devnum_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    const struct child *c = obj;

    (void)k;
    (void)a;
    buf_printf(out, "%s\n", c->devnum);
}

static const struct attr a_mounts = {.name = "mounts", .mode = 0444, .show = mounts_show};
static const struct attr a_mountinfo = {.name = "mountinfo", .mode = 0444, .show = mountinfo_show};
static const struct attr a_swaps = {.name = "swaps", .mode = 0444, .show = swaps_show};
static const struct attr a_route = {.name = "route", .mode = 0444, .show = route_show};
static const struct attr a_inet6 = {.name = "if_inet6", .mode = 0444, .show = inet6_show};
static const struct attr a_flags = {.name = "flags", .mode = 0644, .show = flags_show};
static const struct attr a_operstate = {.name = "operstate", .mode = 0444, .show = operstate_show};
static const struct attr a_devnum = {.name = "dev", .mode = 0444, .show = devnum_show};

void hostuse_child_attrs(struct child *c, struct node *dir)
{
    if (strcmp(c->subsystem, "net") == 0) {
        tree_attr(dir, &a_flags, c);
        tree_attr(dir, &a_operstate, c);
    } else if (strcmp(c->subsystem, "block") == 0 && c->devnum != NULL) {
        tree_attr(dir, &a_devnum, c);
    }
}

void hostuse_build_proc(struct kernel *k, struct node *proc)
{
    tree_attr(proc, &a_mounts, k);
    tree_attr(proc, &a_swaps, k);
    tree_attr(tree_mkdirs(proc, "self"), &a_mountinfo, k);
    tree_attr(tree_mkdirs(proc, "net"), &a_route, k);
    tree_attr(tree_mkdirs(proc, "net"), &a_inet6, k);
}
