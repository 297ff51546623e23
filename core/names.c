/* names.c - vendor and product names: a pci.ids file if one is set, else the udev hwdb, else
 * the pci.ids of the root or of the host. Loaded once per context, on first use. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct vendor_line {
    uint16_t id;
    const char *line; /* start of the vendor's line in data */
};

struct hd_names {
    struct hd_hwdb *hwdb; /* preferred when there is one and no file was named */
    char *data; /* a pci.ids file, NUL-terminated; NULL when there is none */
    size_t len;
    struct vendor_line *vendors; /* sorted by id */
    size_t nvendors;
};

void hd_names_free(struct hd_names *names)
{
    if (names == NULL)
        return;
    hd_hwdb_close(names->hwdb);
    free(names->data);
    free(names->vendors);
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

static int cmp_vendor(const void *a, const void *b)
{
    const struct vendor_line *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* One pass over the file, remembering where each vendor starts: device lines are looked up
 * only under the vendors asked for. The "C xx" class section ends the vendor list. */
static int index_vendors(struct hd_names *n)
{
    size_t cap = 0;

    for (const char *p = n->data; p && *p;) {
        const char *nl = strchr(p, '\n');
        if (p[0] == 'C' && p[1] == ' ')
            break;
        if (p[0] != '\t' && p[0] != '#') {
            uint16_t id;
            if (hex4(p, &id) == 0 && (p[4] == ' ' || p[4] == '\t')) {
                if (n->nvendors == cap) {
                    struct vendor_line *g =
                        realloc(n->vendors, (cap ? cap * 2 : 1024) * sizeof(*g));
                    if (g == NULL)
                        return -ENOMEM;
                    n->vendors = g;
                    cap = cap ? cap * 2 : 1024;
                }
                n->vendors[n->nvendors].id = id;
                n->vendors[n->nvendors].line = p;
                n->nvendors++;
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    if (n->nvendors > 0) /* a file without a vendor line leaves vendors NULL: not for qsort() */
        qsort(n->vendors, n->nvendors, sizeof(*n->vendors), cmp_vendor);
    return 0;
}

/* The name part of a line: after the id and its blanks, up to the end of the line. */
static char *line_name(const char *p)
{
    const char *end = strchr(p, '\n');
    size_t len;

    while (*p == ' ' || *p == '\t')
        p++;
    len = end ? (size_t)(end - p) : strlen(p);
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r'))
        len--;
    return len ? strndup(p, len) : NULL;
}

static int load(struct hd_ctx *ctx, struct hd_names **out)
{
    static const char *const host_files[] = {"/usr/share/hwdata/pci.ids",
                                             "/usr/share/misc/pci.ids"};
    struct hd_names *n = calloc(1, sizeof(*n));
    int r = -ENOENT;

    if (n == NULL)
        return -ENOMEM;
    *out = n;
    if (ctx->names_file != NULL && ctx->names_file[0] == '\0')
        return 0; /* names off */
    if (ctx->names_file == NULL) {
        n->hwdb = hd_hwdb_open();
        if (n->hwdb != NULL)
            return 0;
        r = hd_fs_read_alloc(ctx, "usr/share/hwdata/pci.ids", &n->data, &n->len);
        for (size_t i = 0; r < 0 && i < HD_ARRAY_SIZE(host_files); i++)
            r = hd_fs_read_host_file(host_files[i], &n->data, &n->len);
    } else {
        r = hd_fs_read_host_file(ctx->names_file, &n->data, &n->len);
        if (r < 0)
            hd_warn(ctx, "names file %s: %s", ctx->names_file, strerror(-r));
    }
    if (r < 0)
        return 0; /* no names is not an error */
    return index_vendors(n);
}

int hd_names_lookup(struct hd_ctx *ctx, uint16_t vendor, uint16_t device, char **vendor_name,
                    char **product_name)
{
    struct vendor_line key = {.id = vendor}, *v;
    int r;

    *vendor_name = *product_name = NULL;
    if (ctx->names == NULL && (r = load(ctx, &ctx->names)) < 0)
        return r;
    if (ctx->names->hwdb != NULL) {
        r = hd_hwdb_lookup(ctx->names->hwdb, vendor, device, vendor_name, product_name);
        return r == -ENOENT ? 0 : r;
    }
    if (ctx->names->nvendors == 0)
        return 0;
    v = bsearch(&key, ctx->names->vendors, ctx->names->nvendors, sizeof(key), cmp_vendor);
    if (v == NULL)
        return 0;
    *vendor_name = line_name(v->line + 4);
    /* Device lines are "\tDDDD  name" until the next line that does not start with a tab. */
    for (const char *p = strchr(v->line, '\n'); p && p[1] != '\0'; p = strchr(p + 1, '\n')) {
        uint16_t id;
        const char *line = p + 1;
        if (line[0] == '#')
            continue;
        if (line[0] != '\t')
            break;
        if (line[1] == '\t')
            continue; /* subsystem line */
        if (hex4(line + 1, &id) == 0 && id == device) {
            *product_name = line_name(line + 5);
            break;
        }
    }
    return 0;
}
