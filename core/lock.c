/* lock.c - serialise concurrent hostdev processes: one flock per IOMMU group (taken in
 * ascending order, so two processes never wait on each other), one for the map's
 * read-modify-write. A lock dies with its holder, so a killed process never leaves one. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "internal.h"

struct hd_lockset {
    int *groups;
    int *fds;
    size_t n;
    /* Devices with no IOMMU group, locked by address after the groups */
    struct hd_pci_addr *addrs;
    int *addr_fds;
    size_t naddrs;
    /* The other devices the holder works on, under their groups' locks (no lock of their own) */
    struct hd_pci_addr *covered;
    size_t ncovered;
};

/* flock(LOCK_EX) polled until @timeout_ms: 0 or -EBUSY. */
static int hd_flock_timeout(int fd, unsigned int timeout_ms)
{
    uint64_t deadline = hd_now_ms() + timeout_ms;
    unsigned int delay = 1;

    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        if (hd_now_ms() >= deadline)
            return -EBUSY;
        hd_sleep_ms(delay);
        delay = delay < 16 ? delay * 2 : delay;
    }
}

static int lock_file(struct hd_ctx *ctx, const char *name, int *out)
{
    char dir[HD_PATH_MAX], path[HD_PATH_MAX];
    int fd, r;

    *out = -1;
    if ((r = hd_path(dir, sizeof(dir), "%s/locks", hd_ctx_get_state_dir(ctx))) < 0 ||
        (r = hd_path(path, sizeof(path), "%s/%s", dir, name)) < 0)
        return r;
    if ((r = hd_state_dir_check(ctx)) < 0)
        return r;
    fd = hd_fs_open_mkdir(ctx, path, O_RDWR | O_CREAT, 0600, 0700);
    if (fd < 0)
        return hd_err(ctx, fd, "%s/%s: %s", hd_ctx_get_root(ctx), path, strerror(-fd));
    r = hd_flock_timeout(fd, hd_ctx_get_timeout_ms(ctx));
    if (r < 0) {
        close(fd);
        /* -EBUSY: the caller says who holds it; anything else is the kernel's (ENOSYS: built
         * without CONFIG_FILE_LOCKING, ENOLCK: a file system that cannot lock). */
        if (r != -EBUSY)
            return hd_err(ctx, r, "locking %s/%s: %s", hd_ctx_get_root(ctx), path, strerror(-r));
        return r;
    }
    *out = fd;
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int hd_lock_busy(struct hd_ctx *ctx, int group, const char *whose)
{
    char what[HD_PATH_MAX];

    if (whose != NULL)
        snprintf(what, sizeof(what), "%s (IOMMU group %d)", whose, group);
    else
        snprintf(what, sizeof(what), "IOMMU group %d", group);
    return hd_err(ctx, -EBUSY, "%s is busy: another hostdev operation holds it (or an unbind it "
                  "started still hangs) for more than %u ms", what, hd_ctx_get_timeout_ms(ctx));
}

int hd_lock_groups(struct hd_ctx *ctx, const int *groups, size_t n, struct hd_lockset **out,
                   int *busy)
{
    struct hd_lockset *set = calloc(1, sizeof(*set));
    int r = 0;

    *out = NULL;
    if (busy != NULL)
        *busy = -1;
    if (set == NULL || (set->groups = calloc(n + 1, sizeof(int))) == NULL ||
        (set->fds = calloc(n + 1, sizeof(int))) == NULL) {
        hd_lockset_release(set);
        return -ENOMEM;
    }
    memcpy(set->groups, groups, n * sizeof(int));
    qsort(set->groups, n, sizeof(int), cmp_int);
    /* Unique, ascending: the order every process takes them in. */
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u == 0 || set->groups[u - 1] != set->groups[i])
            set->groups[u++] = set->groups[i];
    }
    for (set->n = 0; set->n < u; set->n++) {
        char name[32];
        snprintf(name, sizeof(name), "group-%d", set->groups[set->n]);
        r = lock_file(ctx, name, &set->fds[set->n]);
        if (r == -EBUSY && busy != NULL)
            *busy = set->groups[set->n];
        if (r == -EBUSY)
            r = hd_lock_busy(ctx, set->groups[set->n], NULL);
        if (r < 0)
            break;
    }
    if (r < 0) {
        hd_lockset_release(set);
        return r;
    }
    *out = set;
    return 0;
}

static int cmp_addr(const void *a, const void *b)
{
    const struct hd_pci_addr *x = a, *y = b;
    uint32_t kx = (uint32_t)x->bus << 8 | (uint32_t)x->slot << 3 | x->function;
    uint32_t ky = (uint32_t)y->bus << 8 | (uint32_t)y->slot << 3 | y->function;

    if (x->domain != y->domain)
        return x->domain > y->domain ? 1 : -1;
    return (kx > ky) - (kx < ky);
}

int hd_lockset_add_devices(struct hd_ctx *ctx, struct hd_lockset *set,
                           const struct hd_pci_addr *addrs, size_t n)
{
    struct hd_pci_addr *v = calloc(n + 1, sizeof(*v));
    int r = 0;

    if (v == NULL || (set->addr_fds = calloc(n + 1, sizeof(int))) == NULL) {
        free(v);
        return -ENOMEM;
    }
    memcpy(v, addrs, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_addr);
    set->addrs = v;
    /* Unique, ascending, after every group: one order for every process. */
    for (size_t i = 0; i < n && r == 0; i++) {
        char name[HD_PCI_ADDR_BUFSZ + 8], addr[HD_PCI_ADDR_BUFSZ];
        if (set->naddrs > 0 && hd_pci_addr_equal(&v[set->naddrs - 1], &v[i]))
            continue;
        v[set->naddrs] = v[i];
        snprintf(name, sizeof(name), "device-%s", hd_pci_addr_format(&v[i], addr));
        r = lock_file(ctx, name, &set->addr_fds[set->naddrs]);
        if (r == -EBUSY)
            r = hd_err(ctx, r, "%s is busy: another hostdev operation holds it (or an unbind it "
                       "started still hangs) for more than %u ms", addr,
                       hd_ctx_get_timeout_ms(ctx));
        if (r == 0)
            set->naddrs++;
    }
    return r;
}

bool hd_lockset_holds_device(const struct hd_lockset *set, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; set != NULL && i < set->naddrs; i++) {
        if (hd_pci_addr_equal(&set->addrs[i], addr))
            return true;
    }
    return false;
}

int hd_lockset_cover_devices(struct hd_lockset *set, const struct hd_pci_addr *addrs, size_t n)
{
    if (n == 0)
        return 0;
    if ((set->covered = calloc(n, sizeof(*set->covered))) == NULL)
        return -ENOMEM;
    memcpy(set->covered, addrs, n * sizeof(*addrs));
    set->ncovered = n;
    return 0;
}

bool hd_lockset_covers_device(const struct hd_lockset *set, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; set != NULL && i < set->ncovered; i++) {
        if (hd_pci_addr_equal(&set->covered[i], addr))
            return true;
    }
    return hd_lockset_holds_device(set, addr);
}

bool hd_lockset_holds(const struct hd_lockset *set, int group)
{
    for (size_t i = 0; set != NULL && i < set->n; i++) {
        if (set->groups[i] == group)
            return true;
    }
    return false;
}

struct hd_lockset *hd_lockset_release(struct hd_lockset *set)
{
    if (set == NULL)
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        close(set->fds[i]); /* closing drops the flock */
    for (size_t i = 0; i < set->naddrs; i++)
        close(set->addr_fds[i]);
    free(set->addrs);
    free(set->addr_fds);
    free(set->covered);
    free(set->groups);
    free(set->fds);
    free(set);
    return NULL;
}

int hd_lock_map(struct hd_ctx *ctx, int *fd)
{
    int r = lock_file(ctx, "map", fd);

    if (r == -EBUSY)
        return hd_err(ctx, r, "the assignment map is locked by another hostdev process for "
                      "more than %u ms", hd_ctx_get_timeout_ms(ctx));
    return r;
}

void hd_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
