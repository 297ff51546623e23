/* names.c - vendor and product names: the file set (pci.ids or a hwdb.bin), else udev's hwdb.bin
 * (read by hwdb.c; through libudev when its layout is not one hwdb.c knows), else the pci.ids of
 * the root or of the host. Opened once per context, on first use. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pci.h"

/* One answer per (vendor, device): the thousands of VFs of a NIC share a lookup and strings. */
struct name_pair {
    uint32_t key; /* vendor << 16 | device */
    const char *vendor, *product;
};

struct vendor_line {
    uint16_t id;
    const char *line; /* start of the vendor's line in data */
    const char *end;  /* end of its device lines */
};

struct hd_names {
    bool opened, indexed;
    struct hd_hwdb_file *hwdb_file; /* udev's hwdb.bin, read by hwdb.c */
    struct hd_hwdb *hwdb;           /* libudev, for a hwdb.bin of a layout hwdb.c does not know */
    const char *data;               /* a mapped pci.ids (not NUL-terminated); NULL when none */
    size_t len;
    struct vendor_line *vendors; /* sorted by id; built on the first lookup */
    size_t nvendors;
    struct hd_ptrset pairs; /* of struct name_pair */
};

/* Forget the source (the names file changed); strings handed out stay valid. */
static void hd_names_forget(struct hd_names *names)
{
    if (names == NULL)
        return;
    hd_hwdb_close(names->hwdb);
    hd_fs_unmap(names->data, names->len);
    for (size_t i = 0; i < names->pairs.cap; i++)
        free(names->pairs.slots[i]);
    free(names->pairs.slots);
    names->pairs = (struct hd_ptrset){0};
    free(names->vendors);
    names->vendors = NULL;
    names->indexed = false;
    names->nvendors = 0;
    names->hwdb = NULL;
    hd_hwdb_file_close(names->hwdb_file);
    names->hwdb_file = NULL;
    names->data = NULL;
    names->len = 0;
    names->opened = false;
}

static void hd_names_free(struct hd_names *names)
{
    if (names == NULL)
        return;
    hd_names_forget(names);
    free(names);
}

static int hex4(const char *p, uint16_t *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (c >= '0' && c <= '9')
            v = v * 16 + (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = v * 16 + (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

/* The line starting at @p: its end (the newline or the end of the data). Eight bytes at a
 * time: the index pass crosses 36,000 short lines, where a libc memchr() (musl's above all)
 * spends most of its time getting started. */
static const char *line_end(const struct hd_names *n, const char *p)
{
    const char *end = n->data + n->len;
    const uint64_t ones = 0x0101010101010101u, nl = ones * '\n';

    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof(w));
        w ^= nl;
        if (((w - ones) & ~w & ones * 0x80) != 0)
            break;
        p += 8;
    }
    while (p < end && *p != '\n')
        p++;
    return p;
}

/* The start of the next line (the end of the data after the last one). */
static const char *next_line(const struct hd_names *n, const char *p)
{
    const char *e = line_end(n, p);
    return e < n->data + n->len ? e + 1 : e;
}

static int cmp_vendor(const void *a, const void *b)
{
    const struct vendor_line *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* One pass over the mapped file, remembering where each vendor starts: device lines are then
 * searched only under the vendors asked for. The "C xx" class section ends the vendor list.
 * pci.ids is kept sorted, so the sort is usually skipped. */
static int index_vendors(struct hd_names *n)
{
    const char *end = n->data + n->len, *p;
    bool sorted = true, open = false;
    size_t cap = 0;

    for (p = n->data; p < end; p = next_line(n, p)) {
        uint16_t id;
        if (p[0] == '\t' || p[0] == '#')
            continue;
        /* Any other line ends the device lines of the vendor before it. */
        if (open && n->vendors != NULL)
            n->vendors[n->nvendors - 1].end = p;
        open = false;
        if (p[0] == 'C' && end - p > 1 && p[1] == ' ')
            break;
        if (end - p < 5 || hex4(p, &id) < 0 || (p[4] != ' ' && p[4] != '\t'))
            continue;
        if (n->nvendors == cap) {
            struct vendor_line *g = realloc(n->vendors, (cap ? cap * 2 : 2048) * sizeof(*g));
            if (g == NULL)
                return -ENOMEM;
            n->vendors = g;
            cap = cap ? cap * 2 : 2048;
        }
        sorted = sorted && (n->nvendors == 0 || n->vendors[n->nvendors - 1].id <= id);
        n->vendors[n->nvendors].id = id;
        n->vendors[n->nvendors++].line = p;
        open = true;
    }
    if (open && n->vendors != NULL)
        n->vendors[n->nvendors - 1].end = p < end ? p : end;
    if (!sorted)
        qsort(n->vendors, n->nvendors, sizeof(*n->vendors), cmp_vendor);
    /* The pass touched all 1.3 MB; lookups need only a few pages of it. */
    hd_fs_map_release(n->data, n->len);
    return 0;
}

/* A device line "\tDDDD  name": its id; -1 for subsystem, comment and other lines. */
static long device_of(const char *p, const char *end)
{
    uint16_t id;

    if (end - p < 6 || p[0] != '\t' || hex4(p + 1, &id) < 0 || (p[5] != ' ' && p[5] != '\t'))
        return -1;
    return id;
}

/* Device lines are sorted by id under their vendor (Intel's run to 370 KB): a binary search
 * over byte offsets, each probe moving on to the next device line, then a linear pass in case
 * a file is not sorted. */
static const char *find_device(const struct hd_names *n, const struct vendor_line *v,
                               uint16_t device)
{
    const char *first = next_line(n, v->line), *lo = first, *hi = v->end, *p;
    long id = -1;

    while (lo < hi) {
        const char *mid = lo + (hi - lo) / 2;
        for (p = mid > lo ? next_line(n, mid - 1) : lo; p < hi; p = next_line(n, p)) {
            if ((id = device_of(p, v->end)) >= 0)
                break;
        }
        if (p >= hi || id > device) {
            hi = mid;
        } else if (id == device) {
            return p;
        } else {
            lo = next_line(n, p);
        }
    }
    for (p = first; p < v->end; p = next_line(n, p)) {
        if (device_of(p, v->end) == device)
            return p;
    }
    return NULL;
}

/* The name part of a line: after the id and its blanks, up to the end of the line. */
static const char *line_name(struct hd_ctx *ctx, const char *p, bool *nomem)
{
    const char *end = line_end(hd_ctx_get_names(ctx), p);

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\r'))
        end--;
    if (end == p)
        return NULL;
    p = hd_strings_add(hd_ctx_get_strings(ctx), p, (size_t)(end - p));
    *nomem = *nomem || p == NULL;
    return p;
}

static int lookup_file(struct hd_ctx *ctx, uint16_t vendor, uint16_t device, struct name_pair *out)
{
    struct hd_names *n = hd_ctx_get_names(ctx);
    struct vendor_line key = {.id = vendor}, *v;
    const char *line;
    bool nomem = false;

    if (!n->indexed && index_vendors(n) < 0)
        return -ENOMEM;
    n->indexed = true;
    if (n->nvendors == 0)
        return 0;
    v = bsearch(&key, n->vendors, n->nvendors, sizeof(key), cmp_vendor);
    if (v == NULL)
        return 0;
    out->vendor = line_name(ctx, v->line + 4, &nomem);
    if ((line = find_device(n, v, device)) != NULL)
        out->product = line_name(ctx, line + 5, &nomem);
    /* The probes touched a page each; the answer is copied. */
    hd_fs_map_release(n->data, n->len);
    return nomem ? -ENOMEM : 0;
}

/* @name (may be NULL) in the context's strings; *@nomem set when it could not be stored. */
static const char *intern(struct hd_ctx *ctx, const char *name, bool *nomem)
{
    const char *copy = name ? hd_strings_add(hd_ctx_get_strings(ctx), name, strlen(name)) : NULL;

    *nomem = *nomem || (name && !copy);
    return copy;
}

static int lookup_hwdb(struct hd_ctx *ctx, uint16_t vendor, uint16_t device, struct name_pair *out)
{
    char *vn, *pn;
    bool nomem = false;
    int r = hd_hwdb_lookup(hd_ctx_get_names(ctx)->hwdb, vendor, device, &vn, &pn);

    if (r == 0) {
        out->vendor = intern(ctx, vn, &nomem);
        out->product = intern(ctx, pn, &nomem);
    }
    free(vn);
    free(pn);
    return nomem ? -ENOMEM : r == -ENOENT ? 0 : r;
}

/* "pci:vVVVVVVVV*", with "dDDDDDDDD" before the star when @device is not negative: the keys
 * of 20-pci-vendor-model.hwdb. */
static void hwdb_key(char key[32], uint16_t vendor, long device)
{
    char *p = key + 5;

    memcpy(key, "pci:v", 6);
    p = hd_put_hex(p, vendor, 8, true);
    if (device >= 0) {
        *p++ = 'd';
        p = hd_put_hex(p, (unsigned long long)device, 8, true);
    }
    memcpy(p, "*", 2);
}

static int lookup_hwdb_file(struct hd_ctx *ctx, uint16_t vendor, uint16_t device,
                            struct name_pair *out)
{
    struct hd_hwdb_file *f = hd_ctx_get_names(ctx)->hwdb_file;
    bool nomem = false;
    char key[32];

    /* Each answer is valid until the next lookup: copied at once. */
    hwdb_key(key, vendor, -1);
    out->vendor = intern(ctx, hd_hwdb_file_get(f, key, "ID_VENDOR_FROM_DATABASE"), &nomem);
    hwdb_key(key, vendor, device);
    out->product = intern(ctx, hd_hwdb_file_get(f, key, "ID_MODEL_FROM_DATABASE"), &nomem);
    return nomem ? -ENOMEM : 0;
}

/* A hwdb.bin at @path (the root's, or with @host the host's): 0 taken, -EPROTO one hwdb.c
 * cannot read, -ENOENT none or not a hwdb. */
static int open_hwdb(struct hd_ctx *ctx, struct hd_names *n, const char *path, bool host)
{
    uint64_t size;
    int fd = hd_fs_open_regular(ctx, path, host, &size), r;

    if (fd < 0)
        return -ENOENT;
    r = hd_hwdb_file_open(fd, size, &n->hwdb_file);
    if (r < 0)
        close(fd);
    return r;
}

/* The first hwdb.bin where udev looks, in its order, the root's own before the host's. */
static int find_hwdb(struct hd_ctx *ctx, struct hd_names *n)
{
    static const char *const files[] = {"/etc/udev/hwdb.bin", "/usr/lib/udev/hwdb.bin",
                                        "/lib/udev/hwdb.bin"};

    for (int host = 0; host < 2; host++) {
        for (size_t i = 0; i < HD_ARRAY_SIZE(files); i++) {
            int r = open_hwdb(ctx, n, host ? files[i] : files[i] + 1, host);
            if (r != -ENOENT)
                return r;
        }
    }
    return -ENOENT;
}

static void open_source(struct hd_ctx *ctx, struct hd_names *n)
{
    static const char *const host_files[] = {"/usr/share/hwdata/pci.ids",
                                             "/usr/share/misc/pci.ids"};
    const char *names_file = hd_ctx_get_names_file(ctx);
    int r;

    n->opened = true;
    if (names_file != NULL && names_file[0] == '\0')
        return; /* names off */
    if (names_file != NULL) {
        /* A hwdb.bin or a pci.ids. */
        r = open_hwdb(ctx, n, names_file, true);
        if (r == -ENOENT)
            r = hd_fs_map(ctx, names_file, true, &n->data, &n->len);
        if (r < 0)
            hd_warn(ctx, "names file %s: %s", names_file,
                    r == -EPROTO ? "a hwdb.bin of a layout this hostdev cannot read"
                                 : strerror(-r));
        return; /* no names is not an error */
    }
    r = find_hwdb(ctx, n);
    if (r == 0 || (r == -EPROTO && (n->hwdb = hd_hwdb_open()) != NULL))
        return; /* libudev reads the layouts hwdb.c does not */
    r = hd_fs_map(ctx, "usr/share/hwdata/pci.ids", false, &n->data, &n->len);
    for (size_t i = 0; r < 0 && i < HD_ARRAY_SIZE(host_files); i++)
        r = hd_fs_map(ctx, host_files[i], true, &n->data, &n->len);
    /* No names is not an error. */
}

static bool pair_same(const void *entry, const void *key)
{
    return ((const struct name_pair *)entry)->key == *(const uint32_t *)key;
}

static size_t pair_hash(uint32_t key)
{
    return key * 2654435761u;
}

static size_t pair_hash_of(const void *entry)
{
    return pair_hash(((const struct name_pair *)entry)->key);
}

int hd_names_lookup(struct hd_ctx *ctx, uint16_t vendor, uint16_t device, const char **vendor_name,
                    const char **product_name)
{
    uint32_t key = (uint32_t)vendor << 16 | device;
    struct name_pair *e, found = {.key = key};
    struct hd_names *n = hd_ctx_get_names(ctx);
    void **slot;
    int r;

    *vendor_name = *product_name = NULL;
    if (n == NULL) {
        if ((n = calloc(1, sizeof(*n))) == NULL)
            return -ENOMEM;
        hd_ctx_set_names(ctx, n, hd_names_free); /* the context knows nothing of names */
    }
    if (!n->opened)
        open_source(ctx, n);
    if (n->hwdb == NULL && n->hwdb_file == NULL && n->data == NULL)
        return 0;
    if (hd_ptrset_reserve(&n->pairs, pair_hash_of) < 0)
        return -ENOMEM;
    slot = hd_ptrset_find(&n->pairs, pair_hash(key), pair_same, &key);
    if ((e = *slot) == NULL) {
        r = n->hwdb        ? lookup_hwdb(ctx, vendor, device, &found)
            : n->hwdb_file ? lookup_hwdb_file(ctx, vendor, device, &found)
                           : lookup_file(ctx, vendor, device, &found);
        if (r < 0)
            return r;
        if ((e = malloc(sizeof(*e))) == NULL)
            return -ENOMEM;
        *slot = e;
        *e = found;
        n->pairs.count++;
    }
    *vendor_name = e->vendor;
    *product_name = e->product;
    return 0;
}

/* A setting of the context (gateway/ctx.c), here because only names use it. */
HD_EXPORT int hd_ctx_set_names_file(struct hd_ctx *ctx, const char *path)
{
    int r = hd_ctx_keep_names_file(ctx, path);

    if (r < 0)
        return r;
    hd_names_forget(hd_ctx_get_names(ctx)); /* devices keep the names they have */
    return 0;
}
