/* hwdb.c - names straight from udev's compiled hardware database (hwdb.bin).
 *
 * libudev can only search the hwdb by pattern: each query walks every glob entry on its way
 * (the PCI class entries "pci:v*d*sv*sd*bc03sc00*" and their like) through fnmatch(), some
 * 250,000 instructions a query, 0.9 ms for the dozen ids of a 100-device listing. The names
 * we want sit under exact keys, "pci:vVVVVVVVV*" (ID_VENDOR_FROM_DATABASE) and
 * "pci:vVVVVVVVVdDDDDDDDD*" (ID_MODEL_FROM_DATABASE): a walk of some 25 trie nodes each.
 *
 * The file's layout is systemd's (src/libsystemd/sd-hwdb/hwdb-internal.h): a header, then
 * nodes, each followed by its children sorted by character and then its values; little-endian,
 * strings NUL-terminated. A layout of other record sizes than systemd's v1 and v2 is refused
 * (-EPROTO) and names.c asks libudev instead. Every offset is checked: the file may be anything.
 *
 * The file is read a page at a time into a small cache, not mapped: the kernel maps 16 pages
 * around every fault of a file mapping, so a mapped 13 MB hwdb.bin added 2.6 MB to the resident
 * set of a listing for the 40 pages its lookups touch. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared.h"

#define HWDB_SIGNATURE "KSLPHHRH"
#define HWDB_PAGE      4096
#define HWDB_PAGES     256  /* 1 MiB at most; a slot never used is never faulted in */
#define HWDB_STRING    1024 /* longest key or value read; names are under 256 */

struct hd_hwdb_file {
    uint64_t size;
    int fd;
    uint64_t header_size, node_size, child_size, value_size, root;
    unsigned char scratch[HWDB_STRING]; /* what spans two pages */
    uint64_t cached[HWDB_PAGES];        /* the page each slot holds, + 1: 0 is an empty slot */
    /* A slot is a memory page of its own: the first touch of a slot is one fault, not two. */
    unsigned char (*pages)[HWDB_PAGE];
};

static const unsigned char *cached_page(struct hd_hwdb_file *f, uint64_t page)
{
    size_t slot = page % HWDB_PAGES;
    uint64_t off = page * HWDB_PAGE;
    size_t want = f->size - off < HWDB_PAGE ? (size_t)(f->size - off) : HWDB_PAGE;

    if (f->cached[slot] != page + 1) {
        if (pread(f->fd, f->pages[slot], want, (off_t)off) != (ssize_t)want) {
            f->cached[slot] = 0;
            return NULL; /* shorter than it said, or unreadable */
        }
        f->cached[slot] = page + 1;
    }
    return f->pages[slot];
}

/* @n bytes at @off, valid until the next call; NULL when outside the file. */
static const unsigned char *at(struct hd_hwdb_file *f, uint64_t off, size_t n)
{
    uint64_t first, last;
    const unsigned char *p;

    if (n == 0 || off > f->size || f->size - off < n || n > HWDB_STRING)
        return NULL;
    first = off / HWDB_PAGE;
    last = (off + n - 1) / HWDB_PAGE;
    if ((p = cached_page(f, first)) == NULL)
        return NULL;
    if (first == last)
        return p + off % HWDB_PAGE;
    /* Across two pages: copied together. */
    size_t head = HWDB_PAGE - (size_t)(off % HWDB_PAGE);
    memcpy(f->scratch, p + off % HWDB_PAGE, head);
    if ((p = cached_page(f, last)) == NULL)
        return NULL;
    memcpy(f->scratch + head, p, n - head);
    return f->scratch;
}

static bool get64(struct hd_hwdb_file *f, uint64_t off, uint64_t *out)
{
    const unsigned char *p = at(f, off, 8);

    if (p == NULL)
        return false;
    memcpy(out, p, 8);
    *out = le64toh(*out);
    return true;
}

/* A NUL-terminated string at @off (under HWDB_STRING bytes), valid until the next call. */
static const char *string_at(struct hd_hwdb_file *f, uint64_t off)
{
    size_t n = off < f->size && f->size - off < HWDB_STRING ? (size_t)(f->size - off) : HWDB_STRING;
    const unsigned char *p = at(f, off, n);

    return p != NULL && memchr(p, '\0', n) != NULL ? (const char *)p : NULL;
}

static int read_header(struct hd_hwdb_file *f)
{
    const unsigned char *sig = at(f, 0, 8);

    if (sig == NULL || memcmp(sig, HWDB_SIGNATURE, 8) != 0)
        return -ENOENT;
    /* signature, tool_version, file_size, header_size, node_size, child_entry_size,
     * value_entry_size, nodes_root_off: eight 64-bit fields. */
    if (!get64(f, 24, &f->header_size) || !get64(f, 32, &f->node_size) ||
        !get64(f, 40, &f->child_size) || !get64(f, 48, &f->value_size) || !get64(f, 56, &f->root))
        return -EPROTO;
    return f->header_size >= 80 && f->header_size <= f->size && f->node_size == 24 &&
                   f->child_size == 16 && (f->value_size == 16 || f->value_size == 32)
               ? 0
               : -EPROTO;
}

int hd_hwdb_file_open(int fd, uint64_t size, struct hd_hwdb_file **out)
{
    struct hd_hwdb_file *f = calloc(1, sizeof(*f));
    int r;

    *out = NULL;
    if (f == NULL)
        return -ENOMEM;
    f->fd = fd;
    f->size = size;
    if (posix_memalign((void **)&f->pages, HWDB_PAGE, HWDB_PAGES * HWDB_PAGE) != 0) {
        free(f);
        return -ENOMEM;
    }
    if ((r = read_header(f)) < 0) {
        free(f->pages);
        free(f);
        return r;
    }
    *out = f;
    return 0;
}

void hd_hwdb_file_close(struct hd_hwdb_file *f)
{
    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->pages);
    free(f);
}

/* The child of the node at @node for character @c (children are sorted), or 0. */
static uint64_t child_of(struct hd_hwdb_file *f, uint64_t node, uint8_t count, unsigned char c)
{
    size_t lo = 0, hi = count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const unsigned char *e = at(f, node + f->node_size + mid * f->child_size, 16);
        uint64_t off;
        if (e == NULL)
            return 0;
        if (e[0] == c) {
            memcpy(&off, e + 8, 8);
            return le64toh(off);
        }
        if (e[0] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

const char *hd_hwdb_file_get(struct hd_hwdb_file *f, const char *key, const char *property)
{
    uint64_t node = f->root, prefix_off, nvalues = 0;
    size_t i = 0, depth = 0;
    uint8_t nchildren = 0;

    /* Each step takes a character of @key, so the walk ends; the depth bound also stops a file
     * whose nodes point back at each other. */
    for (;;) {
        const unsigned char *n = node >= f->header_size ? at(f, node, 24) : NULL;
        if (n == NULL || ++depth > 4096)
            return NULL;
        memcpy(&prefix_off, n, 8);
        prefix_off = le64toh(prefix_off);
        nchildren = n[8];
        memcpy(&nvalues, n + 16, 8);
        nvalues = le64toh(nvalues);
        if (prefix_off != 0) {
            const char *prefix = string_at(f, prefix_off);
            size_t plen;
            if (prefix == NULL)
                return NULL;
            plen = strlen(prefix);
            if (strncmp(key + i, prefix, plen) != 0)
                return NULL;
            i += plen;
        }
        if (key[i] == '\0')
            break;
        if ((node = child_of(f, node, nchildren, (unsigned char)key[i])) == 0)
            return NULL;
        i++;
    }
    /* The values follow the children: key " PROPERTY" (a leading space marks a property),
     * then the value's offset. */
    for (uint64_t v = 0; v < nvalues && v < 4096; v++) {
        uint64_t entry = node + f->node_size + nchildren * f->child_size + v * f->value_size;
        uint64_t koff, voff;
        const char *k;
        if (!get64(f, entry, &koff) || !get64(f, entry + 8, &voff))
            return NULL;
        k = string_at(f, koff);
        if (k != NULL && k[0] == ' ' && strcmp(k + 1, property) == 0)
            return string_at(f, voff);
    }
    return NULL;
}
