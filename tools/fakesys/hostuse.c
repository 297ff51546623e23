/* hostuse.c - what the host is using, for host-safety checks: network interfaces up or down
 * with their routes (any table) and addresses, virtual interfaces stacked on them (bridge, bond,
 * VLAN, VRF), block device numbers, partitions, holders (md, dm), btrfs filesystems and ZFS
 * pools, mounts and swaps, and which block devices are held (an open of their node fails with
 * EBUSY). Spec options and keywords in, ROOT/{sys,dev,proc} files out. */
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

#define TABLE_MAIN 254u

/* "A.B.C.D/LEN[@TABLE]" or "ADDR/LEN[@TABLE]": the route without the table into @route, the
 * table (main when none) into @table. */
static int split_table(const char *s, char *route, size_t size, unsigned long *table)
{
    const char *at = strchr(s, '@');
    size_t n = at ? (size_t)(at - s) : strlen(s);
    char *end;

    *table = TABLE_MAIN;
    if (n >= size)
        return -EINVAL;
    memcpy(route, s, n);
    route[n] = '\0';
    if (at) {
        *table = strtoul(at + 1, &end, 10);
        if (*end || end == at + 1 || *table == 0 || *table > 0xffffffffu)
            return -EINVAL;
    }
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

/* The network interface @name: a device's (present or not) or a virtual one. */
static struct child *net_find(const struct kernel *k, const char *name)
{
    for (size_t i = 0; i < k->ndevices; i++) {
        struct device *dev = k->devices[i];
        for (size_t c = 0; c < dev->nchildren; c++) {
            if (strcmp(dev->children[c].subsystem, "net") == 0 &&
                strcmp(dev->children[c].name, name) == 0)
                return &dev->children[c];
        }
    }
    for (size_t i = 0; i < k->nvnets; i++) {
        if (strcmp(k->vnets[i].name, name) == 0)
            return &k->vnets[i];
    }
    return NULL;
}

/* The block device @name: a device's child (disk, partition) or a holder. */
static struct child *block_find(const struct kernel *k, const char *name)
{
    for (size_t i = 0; i < k->ndevices; i++) {
        struct device *dev = k->devices[i];
        for (size_t c = 0; c < dev->nchildren; c++) {
            if (strcmp(dev->children[c].subsystem, "block") == 0 &&
                strcmp(dev->children[c].name, name) == 0)
                return &dev->children[c];
        }
    }
    for (size_t i = 0; i < k->nvblocks; i++) {
        if (strcmp(k->vblocks[i].name, name) == 0)
            return &k->vblocks[i];
    }
    return NULL;
}

/* Does interface or block device @c exist now? A PCI device's while its host driver holds the
 * device (device_children_live()); a VLAN while its lower interface exists (the kernel deletes
 * it with its lower; here it comes back with it, as the network configuration would make it
 * again); the other virtual ones always. The one question every listing below asks. */
static bool child_live(const struct kernel *k, const struct child *c)
{
    const struct child *lower;

    if (c->owner != NULL)
        return device_children_live(c->owner);
    /* a lower interface is declared before the VLAN: no cycle */
    if (c->lower != NULL)
        return (lower = net_find(k, c->lower)) != NULL && child_live(k, lower);
    return true;
}

static int net_option(struct kernel *k, struct child *c, const char *opt)
{
    char route[64];
    unsigned long table;
    uint32_t d, m;
    unsigned char a6[16];
    int len;

    if (strcmp(opt, "down") == 0 || strcmp(opt, "up") == 0) {
        c->down = strcmp(opt, "down") == 0;
    } else if (strncmp(opt, "route=", 6) == 0) {
        if (split_table(opt + 6, route, sizeof(route), &table) < 0 ||
            parse_route(route, &d, &m) < 0)
            return -EINVAL;
        strv_push(&c->routes, opt + 6);
    } else if (strncmp(opt, "route6=", 7) == 0) {
        if (split_table(opt + 7, route, sizeof(route), &table) < 0 ||
            parse_inet6(route, a6, &len) < 0)
            return -EINVAL;
        strv_push(&c->routes6, opt + 7);
    } else if (strncmp(opt, "inet=", 5) == 0) {
        if (parse_route(opt + 5, &d, &m) < 0)
            return -EINVAL;
        strv_push(&c->inet, opt + 5);
    } else if (strncmp(opt, "inet6=", 6) == 0) {
        if (parse_inet6(opt + 6, a6, &len) < 0)
            return -EINVAL;
        strv_push(&c->inet6, opt + 6);
    } else if (strncmp(opt, "master=", 7) == 0 && c->master == NULL) {
        const struct child *m2 = net_find(k, opt + 7);
        if (m2 == NULL || m2 == c || m2->kind == NULL || strcmp(m2->kind, "vlan") == 0)
            return -EINVAL; /* a bridge, bond or VRF declared before */
        c->master = xstrdup(opt + 7);
    } else if (strncmp(opt, "speed=", 6) == 0) {
        char *end;
        long v = strtol(opt + 6, &end, 10);
        if (end == opt + 6 || *end != '\0' || v < 1 || v > 10000000)
            return -EINVAL;
        c->speed = (int)v;
    } else if (strncmp(opt, "lower=", 6) == 0 && c->kind && strcmp(c->kind, "vlan") == 0 &&
               c->lower == NULL) {
        if (net_find(k, opt + 6) == NULL)
            return -EINVAL;
        c->lower = xstrdup(opt + 6);
    } else {
        return -EINVAL;
    }
    return 0;
}

int hostuse_child_option(struct kernel *k, struct device *dev, struct child *c, const char *opt)
{
    if (strcmp(c->subsystem, "net") == 0)
        return net_option(k, c, opt);
    if (strcmp(c->subsystem, "block") == 0 && strncmp(opt, "dev=", 4) == 0) {
        if (!devnum_ok(opt + 4))
            return -EINVAL;
        free(c->devnum);
        c->devnum = xstrdup(opt + 4);
    } else if (strcmp(c->subsystem, "block") == 0 && strncmp(opt, "size=", 5) == 0) {
        char *end;
        c->sectors = strtoull(opt + 5, &end, 10);
        if (end == opt + 5 || *end != '\0' || opt[5] == '-')
            return -EINVAL;
    } else if (strcmp(c->subsystem, "block") == 0 && strncmp(opt, "serial=", 7) == 0 &&
               opt[7] != '\0' && strlen(opt + 7) <= 20 && strchr(opt + 7, '\n') == NULL &&
               c->serial == NULL) {
        c->serial = xstrdup(opt + 7); /* virtio_blk's: at most VIRTIO_BLK_ID_BYTES (20) */
    } else if (strcmp(c->subsystem, "block") == 0 && strncmp(opt, "disk=", 5) == 0 && dev &&
               c->disk == NULL) {
        /* a disk of the same device, declared before, not a partition itself */
        const struct child *d = NULL;
        for (size_t i = 0; i < dev->nchildren; i++) {
            if (&dev->children[i] != c && strcmp(dev->children[i].subsystem, "block") == 0 &&
                strcmp(dev->children[i].name, opt + 5) == 0)
                d = &dev->children[i];
        }
        if (d == NULL || d->disk != NULL)
            return -EINVAL;
        c->disk = xstrdup(opt + 5);
        if (d->under != NULL) /* in its disk's directory, wherever that is */
            c->under = xstrdup(d->under);
    } else {
        return -EINVAL;
    }
    return 0;
}

void hostuse_child_free(struct child *c)
{
    strv_free(c->routes);
    strv_free(c->routes6);
    strv_free(c->inet);
    strv_free(c->inet6);
    strv_free(c->slaves);
    free(c->devnum);
    free(c->kind);
    free(c->master);
    free(c->lower);
    free(c->disk);
    free(c->serial);
    free(c->dm);
}

static void child_list_free(struct child *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].subsystem);
        free(v[i].name);
        free(v[i].mac);
        hostuse_child_free(&v[i]);
    }
    free(v);
}

void hostuse_free(struct kernel *k)
{
    child_list_free(k->vnets, k->nvnets);
    child_list_free(k->vblocks, k->nvblocks);
    for (size_t i = 0; i < k->nsets; i++) {
        free(k->sets[i].name);
        strv_free(k->sets[i].devs);
    }
    free(k->sets);
}

/* An interface or block device name: what the kernel would take (IFNAMSIZ for interfaces). */
static bool dev_name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    return n > 0 && n < max && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
           strpbrk(s, "/ \t\n:@") == NULL;
}

static struct child *child_push(struct child **v, size_t *n, const char *subsystem,
                                const char *name)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[*n] = (struct child){.subsystem = xstrdup(subsystem), .name = xstrdup(name)};
    return &(*v)[(*n)++];
}

/* netdev NAME bridge|bond|vlan|vrf|loopback [options of net] [lower=NAME] */
static int kw_netdev(struct kernel *k, int argc, char **argv, char *err, size_t errsz)
{
    static const char *const kinds[] = {"bridge", "bond", "vlan", "vrf", "loopback"};
    bool kind_ok = false;
    struct child *c;

    for (size_t i = 0; argc >= 3 && i < FS_ARRAY_SIZE(kinds); i++)
        kind_ok |= strcmp(argv[2], kinds[i]) == 0;
    if (argc < 3 || !dev_name_ok(argv[1], 16) || !kind_ok) {
        snprintf(err, errsz, "usage: netdev NAME bridge|bond|vlan|vrf|loopback [master=NAME] "
                             "[lower=NAME] [up|down] [route=...] [route6=...] [inet=...] "
                             "[inet6=...]");
        return -1;
    }
    if (net_find(k, argv[1]) != NULL) {
        snprintf(err, errsz, "netdev: interface %s is already defined", argv[1]);
        return -1;
    }
    c = child_push(&k->vnets, &k->nvnets, "net", argv[1]);
    c->kind = xstrdup(argv[2]);
    for (int i = 3; i < argc; i++) {
        if (net_option(k, c, argv[i]) < 0) {
            snprintf(err, errsz, "netdev: unknown or malformed option '%s' (a master or lower "
                                 "interface must be declared before)", argv[i]);
            return -1;
        }
    }
    if (strcmp(c->kind, "loopback") == 0) {
        for (size_t i = 0; i + 1 < k->nvnets; i++) {
            if (strcmp(k->vnets[i].kind, "loopback") == 0) {
                snprintf(err, errsz, "netdev %s: %s is the loopback interface", argv[1],
                         k->vnets[i].name);
                return -1;
            }
        }
    }
    if (strcmp(c->kind, "vlan") == 0 && c->lower == NULL) {
        snprintf(err, errsz, "netdev %s: a vlan needs lower=NAME", argv[1]);
        return -1;
    }
    return 0;
}

/* holder NAME dev=MAJ:MIN [dm=NAME] SLAVE...; loop NAME dev=MAJ:MIN, a virtual block device
 * that holds none (a loop device) */
static int kw_vblock(struct kernel *k, int argc, char **argv, char *err, size_t errsz)
{
    bool loop = strcmp(argv[0], "loop") == 0;
    struct child *c;
    int i = 2;

    if ((loop ? argc != 3 : argc < 4) || !dev_name_ok(argv[1], 32) ||
        strncmp(argv[2], "dev=", 4) != 0 || !devnum_ok(argv[2] + 4)) {
        snprintf(err, errsz, "usage: %s",
                 loop ? "loop NAME dev=MAJ:MIN" : "holder NAME dev=MAJ:MIN [dm=NAME] SLAVE...");
        return -1;
    }
    if (block_find(k, argv[1]) != NULL) {
        snprintf(err, errsz, "%s: block device %s is already defined", argv[0], argv[1]);
        return -1;
    }
    c = child_push(&k->vblocks, &k->nvblocks, "block", argv[1]);
    c->devnum = xstrdup(argv[i++] + 4);
    if (loop)
        return 0;
    if (strncmp(argv[i], "dm=", 3) == 0) {
        if (!dev_name_ok(argv[i] + 3, 128)) {
            snprintf(err, errsz, "holder: bad device-mapper name '%s'", argv[i] + 3);
            return -1;
        }
        c->dm = xstrdup(argv[i++] + 3);
    }
    if (i >= argc) {
        snprintf(err, errsz, "holder %s: holds nothing", argv[1]);
        return -1;
    }
    for (; i < argc; i++) {
        const struct child *s2 = block_find(k, argv[i]);
        if (s2 == NULL || s2 == c) {
            snprintf(err, errsz, "holder %s: no block device %s declared before", argv[1],
                     argv[i]);
            return -1;
        }
        strv_push(&c->slaves, argv[i]);
    }
    return 0;
}

/* zpool NAME DEV... | btrfs UUID DEV... */
static int kw_blockset(struct kernel *k, int argc, char **argv, char *err, size_t errsz)
{
    bool zfs = strcmp(argv[0], "zpool") == 0;
    struct blockset *set;

    if (argc < 3 || !dev_name_ok(argv[1], 64)) {
        snprintf(err, errsz, "usage: %s", zfs ? "zpool NAME DEV..." : "btrfs UUID DEV...");
        return -1;
    }
    for (int i = 2; i < argc; i++) {
        if (block_find(k, argv[i]) == NULL) {
            snprintf(err, errsz, "%s %s: no block device %s declared before", argv[0], argv[1],
                     argv[i]);
            return -1;
        }
    }
    k->sets = xrealloc(k->sets, (k->nsets + 1) * sizeof(*k->sets));
    set = &k->sets[k->nsets++];
    *set = (struct blockset){.name = xstrdup(argv[1]), .zfs = zfs};
    for (int i = 2; i < argc; i++) {
        const struct child *c = block_find(k, argv[i]);
        strv_push(&set->devs, argv[i]);
        if (zfs && c->devnum) {
            /* what udev's blkid probe records for a vdev: hostdev reads it to name the pool */
            struct seed_file sf = {.mode = 0644};
            sf.path = xasprintf("run/udev/data/b%s", c->devnum);
            sf.data = xasprintf("E:ID_FS_TYPE=zfs_member\nE:ID_FS_LABEL=%s\n"
                                "E:ID_FS_USAGE=filesystem\n", argv[1]);
            sf.len = strlen(sf.data);
            k->seeds = xrealloc(k->seeds, (k->nseeds + 1) * sizeof(*k->seeds));
            k->seeds[k->nseeds++] = sf;
        }
    }
    return 0;
}


/* mount SOURCE MOUNTPOINT [FSTYPE]; swap SOURCE. Fields are kept tab-separated. */
int hostuse_keyword(struct kernel *k, int argc, char **argv, char *err, size_t errsz)
{
    bool mount = strcmp(argv[0], "mount") == 0;

    if (strcmp(argv[0], "netdev") == 0)
        return kw_netdev(k, argc, argv, err, errsz);
    if (strcmp(argv[0], "holder") == 0 || strcmp(argv[0], "loop") == 0)
        return kw_vblock(k, argc, argv, err, errsz);
    if (strcmp(argv[0], "zpool") == 0 || strcmp(argv[0], "btrfs") == 0)
        return kw_blockset(k, argc, argv, err, errsz);

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

/* Does the mount or swap source @source name block device @c (/dev/NAME, /dev/mapper/DM)? */
static bool source_is(const char *source, size_t len, const struct child *c)
{
    return len > 5 && strncmp(source, "/dev/", 5) == 0 &&
           ((len - 5 == strlen(c->name) && strncmp(source + 5, c->name, len - 5) == 0) ||
            (c->dm && len - 5 == 7 + strlen(c->dm) && strncmp(source + 5, "mapper/", 7) == 0 &&
             strncmp(source + 12, c->dm, len - 12) == 0));
}

/* The block device a /dev/NAME (or /dev/mapper/DM) source names, there or gone: a mount or a
 * swap holds what it was opened on after its driver unregistered it (del_gendisk() leaves the
 * superblock and the open file alone). NULL: none. */
static const struct child *source_block(const struct kernel *k, const char *source)
{
    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *dev = k->devices[i];
        for (size_t c = 0; c < dev->nchildren; c++) {
            if (strcmp(dev->children[c].subsystem, "block") == 0 &&
                source_is(source, strlen(source), &dev->children[c]))
                return &dev->children[c];
        }
    }
    for (size_t i = 0; i < k->nvblocks; i++) {
        if (source_is(source, strlen(source), &k->vblocks[i]))
            return &k->vblocks[i];
    }
    return NULL;
}

/* The device number mountinfo shows for a mount of @source: its block device's, the device
 * still there or not (the superblock keeps it), or NULL. btrfs shows an anonymous number, as
 * the kernel does. */
static const char *source_devnum(const struct kernel *k, const char *source, const char *fstype)
{
    const struct child *c = strcmp(fstype, "btrfs") == 0 ? NULL : source_block(k, source);

    return c ? c->devnum : NULL;
}

/* Is block device @name held, so that an exclusive open fails (bd_may_claim)? Mounted, swapped
 * on, in a btrfs filesystem or a ZFS pool, held by md or dm, or a disk with such a partition. */
static bool block_held(const struct kernel *k, const char *name, int depth)
{
    const struct child *c = block_find(k, name);

    if (c == NULL || depth > 8)
        return false;
    for (size_t i = 0; k->mounts && k->mounts[i]; i++) {
        if (source_is(k->mounts[i], strcspn(k->mounts[i], "\t"), c))
            return true;
    }
    for (size_t i = 0; k->swaps && k->swaps[i]; i++) {
        if (source_is(k->swaps[i], strlen(k->swaps[i]), c))
            return true;
    }
    for (size_t i = 0; i < k->nsets; i++) {
        for (size_t d = 0; k->sets[i].devs[d]; d++) {
            if (strcmp(k->sets[i].devs[d], name) == 0)
                return true;
        }
    }
    for (size_t i = 0; i < k->nvblocks; i++) {
        for (size_t d = 0; k->vblocks[i].slaves && k->vblocks[i].slaves[d]; d++) {
            if (strcmp(k->vblocks[i].slaves[d], name) == 0)
                return true;
        }
    }
    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *dev = k->devices[i];
        for (size_t p = 0; device_children_live(dev) && p < dev->nchildren; p++) {
            const struct child *part = &dev->children[p];
            if (part->disk && strcmp(part->disk, name) == 0 &&
                block_held(k, part->name, depth + 1))
                return true;
        }
    }
    return false;
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
        devnum = source_devnum(k, f, fs);
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
    for (size_t i = 0; k->swaps && k->swaps[i]; i++) {
        const struct child *c = source_block(k, k->swaps[i]);
        /* The swap's open node went with its disk: its path reads as d_path() shows an unlinked
         * file, " (deleted)", the blank escaped as proc/swaps escapes one. */
        bool gone = c != NULL && !child_live(k, c);
        char *name = xasprintf("%s%s", k->swaps[i], gone ? "\\040(deleted)" : "");
        buf_printf(out, "%-40s%s\t1048572\t\t0\t\t-%zu\n", name,
                   strncmp(k->swaps[i], "/dev/", 5) == 0 ? "partition" : "file\t", i + 2);
        free(name);
    }
}

/* Every interface there is, devices' in device order, then the virtual ones: its ifindex is
 * its place among all declared + 2 (1 is lo), whether the others are there or not. */
static void for_each_net(struct kernel *k, void (*fn)(const struct child *c, int ifindex,
                                                       struct buf *out),
                         struct buf *out)
{
    int ifindex = 2;

    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *dev = k->devices[i];
        for (size_t c = 0; c < dev->nchildren; c++) {
            if (strcmp(dev->children[c].subsystem, "net") != 0)
                continue;
            if (child_live(k, &dev->children[c]))
                fn(&dev->children[c], ifindex, out);
            ifindex++;
        }
    }
    for (size_t i = 0; i < k->nvnets; i++) {
        int index = strcmp(k->vnets[i].kind, "loopback") == 0 ? 1 : ifindex++;
        if (child_live(k, &k->vnets[i]))
            fn(&k->vnets[i], index, out);
    }
}

static void route_rows(const struct child *c, int ifindex, struct buf *out)
{
    (void)ifindex;
    for (size_t i = 0; !c->down && c->routes && c->routes[i]; i++) {
        char route[64];
        unsigned long table;
        uint32_t d, m;
        if (split_table(c->routes[i], route, sizeof(route), &table) < 0 ||
            table != TABLE_MAIN || parse_route(route, &d, &m) < 0)
            continue;
        /* The kernel prints the raw network-order words as host integers. */
        buf_printf(out, "%s\t%08X\t%08X\t0001\t0\t0\t100\t%08X\t0\t0\t0\n", c->name, d, 0u, m);
    }
}

/* proc/net/ipv6_route shows the routes of every table (without saying which). */
static void route6_rows(const struct child *c, int ifindex, struct buf *out)
{
    (void)ifindex;
    for (size_t i = 0; !c->down && c->routes6 && c->routes6[i]; i++) {
        char route[64];
        unsigned long table;
        unsigned char a6[16];
        int prefix;
        if (split_table(c->routes6[i], route, sizeof(route), &table) < 0 ||
            parse_inet6(route, a6, &prefix) < 0)
            continue;
        for (int b = 0; b < 16; b++)
            buf_printf(out, "%02x", a6[b]);
        buf_printf(out, " %02x 00000000000000000000000000000000 00 "
                        "00000000000000000000000000000000 00000400 00000001 00000000 00000001 "
                        "%8s\n", prefix, c->name);
    }
}

static void route6_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    for_each_net(k, route6_rows, out);
}

/* What only rtnetlink tells on a real kernel: IPv4 routes of tables other than main, IPv4
 * addresses (docs/design.md, "Host safety"). */
static void rtnl_rows(const struct child *c, int ifindex, struct buf *out)
{
    (void)ifindex;
    for (size_t i = 0; !c->down && c->routes && c->routes[i]; i++) {
        char route[64];
        unsigned long table;
        if (split_table(c->routes[i], route, sizeof(route), &table) == 0 && table != TABLE_MAIN)
            buf_printf(out, "route %lu %s %s\n", table, c->name, route);
    }
    for (size_t i = 0; !c->down && c->inet && c->inet[i]; i++)
        buf_printf(out, "addr %s %s\n", c->name, c->inet[i]);
}

static void rtnl_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)a;
    (void)obj;
    for_each_net(k, rtnl_rows, out);
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
    /* lo has no carrier to speak of: the kernel's operstate is unknown while it is up */
    if (!c->down && c->kind && strcmp(c->kind, "loopback") == 0)
        buf_puts(out, "unknown\n");
    else
        buf_puts(out, c->down ? "down\n" : "up\n");
}

static void devnum_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    const struct child *c = obj;

    (void)k;
    (void)a;
    buf_printf(out, "%s\n", c->devnum);
}

static void empty_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)k;
    (void)a;
    (void)obj;
    (void)out;
}

static void zpool_state_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)k;
    (void)a;
    (void)obj;
    buf_puts(out, "ONLINE\n");
}

static void vnet_uevent_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    const struct child *c = obj;

    (void)k;
    (void)a;
    if (strcmp(c->kind, "loopback") == 0) /* lo has no DEVTYPE, and is always ifindex 1 */
        buf_printf(out, "INTERFACE=%s\nIFINDEX=1\n", c->name);
    else
        buf_printf(out, "DEVTYPE=%s\nINTERFACE=%s\n", c->kind, c->name);
}

static void slaves_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    const struct child *bond = obj;
    bool first = true;

    (void)a;
    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *dev = k->devices[i];
        for (size_t c = 0; device_children_live(dev) && c < dev->nchildren; c++) {
            const struct child *port = &dev->children[c];
            if (port->master && strcmp(port->master, bond->name) == 0) {
                buf_printf(out, "%s%s", first ? "" : " ", port->name);
                first = false;
            }
        }
    }
    buf_puts(out, "\n");
}

static void dm_name_show(struct kernel *k, const struct attr *a, void *obj, struct buf *out)
{
    (void)k;
    (void)a;
    buf_printf(out, "%s\n", ((const struct child *)obj)->dm);
}

/* A block node: the kernel refuses an exclusive open of a held device with EBUSY. FUSE does
 * not pass O_EXCL on, so every open is refused while it is held (hostdev opens these only to
 * ask that). */
static int blocknode_open(struct kernel *k, void *obj)
{
    return block_held(k, ((const struct child *)obj)->name, 0) ? -EBUSY : 0;
}

static const struct attr a_mounts = {.name = "mounts", .mode = 0444, .show = mounts_show};
static const struct attr a_mountinfo = {.name = "mountinfo", .mode = 0444, .show = mountinfo_show};
static const struct attr a_swaps = {.name = "swaps", .mode = 0444, .show = swaps_show};
static const struct attr a_route = {.name = "route", .mode = 0444, .show = route_show};
static const struct attr a_inet6 = {.name = "if_inet6", .mode = 0444, .show = inet6_show};
static const struct attr a_flags = {.name = "flags", .mode = 0644, .show = flags_show};
static const struct attr a_operstate = {.name = "operstate", .mode = 0444, .show = operstate_show};
static const struct attr a_devnum = {.name = "dev", .mode = 0444, .show = devnum_show};
static const struct attr a_route6 = {.name = "ipv6_route", .mode = 0444, .show = route6_show};
static const struct attr a_rtnl = {.name = "hostdev-rtnl", .mode = 0444, .show = rtnl_show};
static const struct attr a_zstate = {.name = "state", .mode = 0444, .show = zpool_state_show};
static const struct attr a_vuevent = {.name = "uevent", .mode = 0644, .show = vnet_uevent_show};
static const struct attr a_slaves = {.name = "slaves", .mode = 0444, .show = slaves_show};
static const struct attr a_dmname = {.name = "name", .mode = 0444, .show = dm_name_show};
static const struct attr a_blocknode = {
    .name = "", .mode = 0660, .show = empty_show, .open = blocknode_open};

void hostuse_child_attrs(struct child *c, struct node *dir)
{
    if (strcmp(c->subsystem, "net") == 0) {
        tree_attr(dir, &a_flags, c);
        tree_attr(dir, &a_operstate, c);
    } else if (strcmp(c->subsystem, "block") == 0 && c->devnum != NULL) {
        tree_attr(dir, &a_devnum, c);
    }
}

/* The directory of interface or block device @name (through sys/class), NULL when absent. */
static struct node *class_dir(struct kernel *k, const char *cls, const char *name, char **path)
{
    char *p = xasprintf("sys/class/%s/%s", cls, name);
    struct node *n = tree_resolve(k->root, p);

    free(p);
    *path = n ? tree_path(n) : NULL;
    return n;
}

static void build_vnet(struct kernel *k, struct child *c)
{
    char *path = xasprintf("sys/devices/virtual/net/%s", c->name);
    struct node *dir = tree_mkdirs(k->root, path);

    tree_attr(dir, &a_vuevent, c);
    hostuse_child_attrs(c, dir);
    tree_link_to(dir, "subsystem", "sys/class/net");
    tree_link_to(tree_mkdirs(k->root, "sys/class/net"), c->name, path);
    if (strcmp(c->kind, "bridge") == 0) {
        tree_mkdirs(dir, "bridge");
        tree_mkdirs(dir, "brif");
    } else if (strcmp(c->kind, "bond") == 0) {
        tree_attr(tree_mkdirs(dir, "bonding"), &a_slaves, c);
    } else if (strcmp(c->kind, "loopback") == 0) {
        tree_kfile(dir, "address", "00:00:00:00:00:00\n");
    }
    free(path);
}

/* @upper stacked on @lower: upper_ and lower_ links; with @master also master (and brif). */
static void link_stack(struct kernel *k, const char *lower, const char *upper, bool master)
{
    char *lpath, *upath, *name;
    struct node *ld = class_dir(k, "net", lower, &lpath), *ud = class_dir(k, "net", upper, &upath);
    const struct child *uc = net_find(k, upper);

    if (ld && ud) {
        name = xasprintf("upper_%s", upper);
        tree_link_to(ld, name, upath);
        free(name);
        name = xasprintf("lower_%s", lower);
        tree_link_to(ud, name, lpath);
        free(name);
        if (master)
            tree_link_to(ld, "master", upath);
        if (master && uc && uc->kind && strcmp(uc->kind, "bridge") == 0) {
            char *brport = xasprintf("%s/brport", lpath);
            tree_mkdirs(ld, "brport");
            tree_link_to(tree_mkdirs(ud, "brif"), lower, brport);
            free(brport);
        }
    }
    free(lpath);
    free(upath);
}

static void stack_links(struct kernel *k, const struct child *c)
{
    if (c->master)
        link_stack(k, c->name, c->master, true);
    if (c->lower)
        link_stack(k, c->lower, c->name, false);
}

static void build_vblock(struct kernel *k, struct child *c)
{
    char *path = xasprintf("sys/devices/virtual/block/%s", c->name);
    struct node *dir = tree_mkdirs(k->root, path);

    tree_attr(dir, &a_devnum, c);
    tree_kfile(dir, "uevent", "MAJOR=%u\nMINOR=%u\nDEVNAME=%s\nDEVTYPE=disk\n",
               (unsigned)strtoul(c->devnum, NULL, 10),
               (unsigned)strtoul(strchr(c->devnum, ':') + 1, NULL, 10), c->name);
    tree_kfile(dir, "size", "%llu\n", c->sectors);
    tree_mkdirs(dir, "holders");
    if (c->dm)
        tree_attr(tree_mkdirs(dir, "dm"), &a_dmname, c);
    tree_link_to(dir, "subsystem", "sys/class/block");
    tree_link_to(tree_mkdirs(k->root, "sys/class/block"), c->name, path);
    tree_link_to(tree_mkdirs(k->root, "sys/block"), c->name, path);
    free(path);
}

static void holder_links(struct kernel *k, const struct child *c)
{
    char *hpath, *spath;
    struct node *hd = class_dir(k, "block", c->name, &hpath);

    for (size_t i = 0; hd && c->slaves && c->slaves[i]; i++) {
        struct node *sd = class_dir(k, "block", c->slaves[i], &spath);
        if (sd) {
            tree_link_to(tree_mkdirs(hd, "slaves"), c->slaves[i], spath);
            tree_link_to(tree_mkdirs(sd, "holders"), c->name, hpath);
        }
        free(spath);
    }
    free(hpath);
}

/* A bridge, bond or VRF loses a port whose device went (the kernel's NETDEV_UNREGISTER): the
 * links are made only between interfaces there are, class_dir() finds no other. */
void hostuse_build_sys(struct kernel *k)
{
    for (size_t i = 0; i < k->nvnets; i++) {
        if (child_live(k, &k->vnets[i]))
            build_vnet(k, &k->vnets[i]);
    }
    for (size_t i = 0; i < k->nvblocks; i++)
        build_vblock(k, &k->vblocks[i]);
    for (size_t i = 0; i < k->ndevices; i++) {
        const struct device *dev = k->devices[i];
        for (size_t c = 0; device_children_live(dev) && c < dev->nchildren; c++) {
            if (strcmp(dev->children[c].subsystem, "net") == 0)
                stack_links(k, &dev->children[c]);
        }
    }
    for (size_t i = 0; i < k->nvnets; i++)
        stack_links(k, &k->vnets[i]);
    for (size_t i = 0; i < k->nvblocks; i++)
        holder_links(k, &k->vblocks[i]);
    for (size_t i = 0; i < k->nsets; i++) {
        /* sys/fs/btrfs/UUID exists while the filesystem is mounted */
        struct node *devs;
        char *p;
        if (k->sets[i].zfs)
            continue;
        p = xasprintf("sys/fs/btrfs/%s/devices", k->sets[i].name);
        devs = tree_mkdirs(k->root, p);
        free(p);
        /* beside the filesystems, what the loaded module supports (not a filesystem) */
        tree_mkdirs(k->root, "sys/fs/btrfs/features");
        for (size_t d = 0; k->sets[i].devs[d]; d++) {
            char *bpath;
            if (class_dir(k, "block", k->sets[i].devs[d], &bpath))
                tree_link_to(devs, k->sets[i].devs[d], bpath);
            free(bpath);
        }
    }
}

static void blocknode(struct node *dev, struct child *c)
{
    if (c->devnum)
        tree_attr_named(dev, c->name, &a_blocknode, c);
    if (c->dm) {
        char *target = xasprintf("../%s", c->name);
        tree_symlink(tree_mkdirs(dev, "mapper"), c->dm, target);
        free(target);
    }
}

void hostuse_build_dev(struct kernel *k, struct node *dev)
{
    for (size_t i = 0; i < k->ndevices; i++) {
        struct device *d = k->devices[i];
        for (size_t c = 0; device_children_live(d) && c < d->nchildren; c++) {
            if (strcmp(d->children[c].subsystem, "block") == 0)
                blocknode(dev, &d->children[c]);
        }
    }
    for (size_t i = 0; i < k->nvblocks; i++)
        blocknode(dev, &k->vblocks[i]);
}

void hostuse_build_proc(struct kernel *k, struct node *proc)
{
    tree_attr(proc, &a_mounts, k);
    tree_attr(proc, &a_swaps, k);
    if (k->feat_mountinfo)
        tree_attr(tree_mkdirs(proc, "self"), &a_mountinfo, k);
    tree_attr(tree_mkdirs(proc, "net"), &a_route, k);
    tree_attr(tree_mkdirs(proc, "net"), &a_inet6, k);
    tree_attr(tree_mkdirs(proc, "net"), &a_route6, k);
    tree_attr(tree_mkdirs(proc, "net"), &a_rtnl, k);
    for (size_t i = 0; i < k->nsets; i++) {
        if (k->sets[i].zfs) {
            char *p = xasprintf("spl/kstat/zfs/%s", k->sets[i].name);
            tree_attr(tree_mkdirs(proc, p), &a_zstate, k);
            free(p);
        }
    }
}
