/* assign.c - the assignment map: which VM holds which device, in one text file under the
 * state directory (STATE/map/assignments), always replaced whole by an atomic rename. The map
 * checks itself: a version header, every field on every line, and an end line with the line
 * count and a checksum, so that an empty, cut, or edited map is reported as damaged and never
 * read as "nothing assigned" (which would hand a held device to another VM). Once written it
 * is never removed: an empty map still has its header and end line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define MAP_HEADER_V1 "# hostdev assignments v1"
#define MAP_HEADER "# hostdev assignments v2"
/* v2 with mediated-device lines: written only when it has one, so that a hostdev that knows
 * only PCI says it does not know the format rather than that a line is damaged, and a map
 * of PCI devices stays readable by it. */
#define MAP_HEADER_V3 "# hostdev assignments v3"
#define MDEV_PREFIX "mdev:"
#define MAP_END "# end "

/* FNV-1a, 64 bits: catches a cut, a lost or an edited line (not an adversary: the state
 * directory is root's). */
static uint64_t checksum(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---- the list ------------------------------------------------------------------------------ */

struct hd_assignment_list {
    atomic_int refcount;
    struct hd_assignment *v;
    size_t n, cap;
};

struct hd_assignment_list *hd_map_new(void)
{
    struct hd_assignment_list *list = calloc(1, sizeof(*list));

    if (list != NULL)
        hd_ref_init(&list->refcount);
    return list;
}

HD_EXPORT struct hd_assignment_list *hd_assignment_list_ref(struct hd_assignment_list *list)
{
    if (list != NULL)
        hd_ref_take(&list->refcount);
    return list;
}

HD_EXPORT struct hd_assignment_list *hd_assignment_list_unref(struct hd_assignment_list *list)
{
    if (list != NULL && hd_ref_drop(&list->refcount)) {
        free(list->v);
        free(list);
    }
    return NULL;
}

int hd_map_add(struct hd_assignment_list *list, const struct hd_assignment *a)
{
    struct hd_assignment *v = hd_array_grow(list->v, &list->cap, list->n, sizeof(*v), 8);
    if (v == NULL)
        return -ENOMEM;
    list->v = v;
    list->v[list->n++] = *a;
    return 0;
}

struct hd_assignment *hd_map_at(const struct hd_assignment_list *list, size_t i)
{
    return &list->v[i];
}

void hd_map_clear(struct hd_assignment_list *list)
{
    list->n = 0;
}

void hd_map_remove(struct hd_assignment_list *list, size_t i)
{
    if (i >= list->n)
        return;
    memmove(&list->v[i], &list->v[i + 1], (list->n - i - 1) * sizeof(*list->v));
    list->n--;
}

struct hd_assignment *hd_map_find(const struct hd_assignment_list *list,
                                  const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < list->n; i++) {
        if (list->v[i].kind == HD_ASSIGNMENT_PCI && hd_pci_addr_equal(&list->v[i].addr, addr))
            return &list->v[i];
    }
    return NULL;
}

struct hd_assignment *hd_map_find_key(const struct hd_assignment_list *list,
                                      enum hd_assignment_kind kind, const char *name)
{
    for (size_t i = 0; i < list->n; i++) {
        if (list->v[i].kind == kind && strcmp(list->v[i].name, name) == 0)
            return &list->v[i];
    }
    return NULL;
}

struct hd_assignment *hd_map_find_mdev(const struct hd_assignment_list *list, const char *uuid)
{
    return hd_map_find_key(list, HD_ASSIGNMENT_MDEV, uuid);
}

struct hd_assignment *hd_map_find_same(const struct hd_assignment_list *list,
                                       const struct hd_assignment *a)
{
    return a->kind == HD_ASSIGNMENT_PCI ? hd_map_find(list, &a->addr)
                                        : hd_map_find_key(list, a->kind, a->name);
}

struct hd_assignment *hd_map_find_jdev(const struct hd_assignment_list *list,
                                       const struct hd_jdev *d)
{
    return d->kind == HD_ASSIGNMENT_PCI ? hd_map_find(list, &d->addr)
                                        : hd_map_find_key(list, d->kind, d->name);
}

/* How a journal names a device of each kind. */
static const char *const kind_words[] = {
    [HD_ASSIGNMENT_PCI] = "dev", [HD_ASSIGNMENT_MDEV] = "mdev",
    [HD_ASSIGNMENT_USB] = "usb", [HD_ASSIGNMENT_SCSI] = "scsi"};

const char *hd_assignment_kind_word(enum hd_assignment_kind kind)
{
    return (size_t)kind < HD_ARRAY_SIZE(kind_words) ? kind_words[kind] : "?";
}

int hd_assignment_kind_parse(const char *word)
{
    for (size_t i = 0; i < HD_ARRAY_SIZE(kind_words); i++) {
        if (strcmp(word, kind_words[i]) == 0)
            return (int)i;
    }
    return -1;
}

int hd_assignment_key_parse(enum hd_assignment_kind kind, const char *text, char out[37])
{
    if (kind == HD_ASSIGNMENT_MDEV) /* only the canonical form: keys compare as text */
        return hd_mdev_uuid_parse(text, out) == 0 && strcmp(out, text) == 0 ? 0 : -EINVAL;
    if ((kind != HD_ASSIGNMENT_USB && kind != HD_ASSIGNMENT_SCSI) ||
        !hd_node_target_name_valid(text) || (text[0] == 'u') != (kind == HD_ASSIGNMENT_USB))
        return -EINVAL;
    strcpy(out, text);
    return 0;
}

const struct hd_node_owner *hd_map_node_orig(const struct hd_assignment_list *list,
                                             const char *path)
{
    for (size_t i = 0; i < list->n; i++) {
        for (size_t k = 0; k < list->v[i].nnodes; k++) {
            if (strcmp(list->v[i].nodes[k].path, path) == 0)
                return &list->v[i].nodes[k];
        }
    }
    return NULL;
}

/* ---- text form ----------------------------------------------------------------------------- */

static int parse_owner_triple(const char *s, uid_t *uid, gid_t *gid, mode_t *mode)
{
    unsigned long long u, g, m;
    char buf[64], *a, *b;

    if (strlen(s) >= sizeof(buf))
        return -EINVAL;
    strcpy(buf, s);
    a = strchr(buf, ':');
    b = a ? strchr(a + 1, ':') : NULL;
    if (a == NULL || b == NULL)
        return -EINVAL;
    *a++ = '\0';
    *b++ = '\0';
    if (hd_parse_uint(buf, 10, 0xfffffffe, &u) < 0 || hd_parse_uint(a, 10, 0xfffffffe, &g) < 0 ||
        hd_parse_uint(b, 8, 07777, &m) < 0)
        return -EINVAL;
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    *mode = (mode_t)m;
    return 0;
}

/* @s is @prefix followed by 1 to @max digits, and nothing else. */
static bool prefix_digits(const char *s, const char *prefix, size_t max)
{
    size_t n = strlen(prefix), d;

    if (strncmp(s, prefix, n) != 0)
        return false;
    d = strspn(s + n, "0123456789");
    return d >= 1 && d <= max && s[n + d] == '\0';
}

/* A node path we chown: only the nodes a VM opens, each of its kind's exact form (a state
 * file naming dev/fd/0/x or dev/../etc must never make us chown it). */
bool hd_node_path_valid(const char *path)
{
    if (strlen(path) >= HD_NODE_PATH_MAX || !hd_path_valid(path))
        return false;
    if (prefix_digits(path, "dev/vfio/", 10) || prefix_digits(path, "dev/vfio/devices/vfio", 10) ||
        strcmp(path, "dev/iommu") == 0 || prefix_digits(path, "dev/sg", 10))
        return true;
    /* dev/bus/usb/BBB/DDD */
    return strncmp(path, "dev/bus/usb/", 12) == 0 && strspn(path + 12, "0123456789") == 3 &&
           path[15] == '/' && prefix_digits(path + 16, "", 3) && strlen(path + 16) == 3;
}

static int parse_nodes(char *val, struct hd_assignment *a)
{
    char *save = NULL;

    a->nnodes = 0;
    if (strcmp(val, "-") == 0)
        return 0;
    for (char *item = strtok_r(val, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        struct hd_node_owner *n = &a->nodes[a->nnodes];
        char *at = strrchr(item, '@');
        if (at == NULL || a->nnodes == HD_NODES_MAX)
            return -EINVAL;
        *at = '\0';
        if (!hd_node_path_valid(item) || parse_owner_triple(at + 1, &n->uid, &n->gid,
                                                            &n->mode) < 0)
            return -EINVAL;
        strcpy(n->path, item);
        a->nnodes++;
    }
    return 0;
}

enum { F_VM = 1, F_MODE = 2, F_DETACHED = 4, F_VIA = 8, F_DRIVER = 16, F_GROUP = 32,
       F_SINCE = 64, F_OWNER = 128, F_NODES = 256, F_ALL = 511, F_PARENT = 512, F_IDS = 1024 };

/* A driver's name, or "-" for none. */
static int parse_driver_word(const char *val, char *out, size_t size)
{
    if (strcmp(val, "-") == 0)
        out[0] = '\0';
    else if (!hd_name_valid(val) || strlen(val) >= size)
        return -EINVAL;
    else
        strcpy(out, val);
    return 0;
}

static int parse_field(struct hd_assignment *a, const char *key, char *val, unsigned int *seen)
{
    static const char *const keys[] = {"vm",    "mode",  "detached", "via",    "driver", "group",
                                       "since", "owner", "nodes",    "parent", "ids",
                                       "override", "numvfs", "autoprobe"};

    for (size_t i = 0; i < HD_ARRAY_SIZE(keys); i++) {
        if (strcmp(key, keys[i]) == 0) {
            if (*seen & (1u << i))
                return -EINVAL; /* twice */
            *seen |= 1u << i;
        }
    }
    unsigned long long u;
    long long v;
    mode_t unused;

    if (strcmp(key, "vm") == 0) {
        if (!hd_vm_id_valid(val))
            return -EINVAL;
        strcpy(a->vm, val);
    } else if (strcmp(key, "mode") == 0) {
        if (strcmp(val, "managed") != 0 && strcmp(val, "unmanaged") != 0)
            return -EINVAL;
        a->managed = strcmp(val, "managed") == 0;
    } else if (strcmp(key, "detached") == 0) {
        if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
            return -EINVAL;
        a->detached = val[0] == '1';
    } else if (strcmp(key, "via") == 0) {
        if (strcmp(val, "request") != 0 && strcmp(val, "group") != 0)
            return -EINVAL;
        a->via_group = strcmp(val, "group") == 0;
    } else if (strcmp(key, "driver") == 0) {
        return parse_driver_word(val, a->driver, sizeof(a->driver));
    } else if (strcmp(key, "group") == 0) {
        if (hd_parse_int(val, -1, 0x7fffffff, &v) < 0)
            return -EINVAL;
        a->group = (int)v;
    } else if (strcmp(key, "since") == 0) {
        if (hd_parse_uint(val, 10, (1ull << 62), &u) < 0)
            return -EINVAL;
        a->since = (long long)u;
    } else if (strcmp(key, "owner") == 0) {
        char buf[64];
        if (hd_path(buf, sizeof(buf), "%s:0", val) < 0 ||
            parse_owner_triple(buf, &a->uid, &a->gid, &unused) < 0)
            return -EINVAL;
    } else if (strcmp(key, "nodes") == 0) {
        return parse_nodes(val, a);
    } else if (strcmp(key, "override") == 0) {
        return parse_driver_word(val, a->override, sizeof(a->override));
    } else if (strcmp(key, "numvfs") == 0) {
        if (a->kind != HD_ASSIGNMENT_PCI || hd_parse_int(val, 1, 65535, &v) < 0)
            return -EINVAL;
        a->numvfs = (int)v;
    } else if (strcmp(key, "autoprobe") == 0) {
        if (a->kind != HD_ASSIGNMENT_PCI || hd_parse_int(val, 0, 1, &v) < 0)
            return -EINVAL;
        a->autoprobe = (int)v;
    } else if (strcmp(key, "parent") == 0) {
        if (a->kind != HD_ASSIGNMENT_MDEV || !hd_name_valid(val) ||
            strlen(val) >= sizeof(a->parent))
            return -EINVAL;
        strcpy(a->parent, val);
    } else if (strcmp(key, "ids") == 0) {
        if (a->kind != HD_ASSIGNMENT_USB || strlen(val) != 9 || val[4] != ':' ||
            hd_parse_uint(val + 5, 16, 0xffff, &u) < 0)
            return -EINVAL;
        val[4] = '\0';
        if (hd_parse_uint(val, 16, 0xffff, &u) < 0)
            return -EINVAL;
        val[4] = ':';
        strcpy(a->ids, val);
    }
    /* Unknown keys are a newer hostdev's: keep reading. */
    return 0;
}

static int parse_line(char *line, struct hd_assignment *a, bool all_fields)
{
    char *save = NULL, *tok = strtok_r(line, " \t", &save);
    unsigned int seen = 0;

    memset(a, 0, sizeof(*a));
    a->group = -1;
    a->autoprobe = -1;
    if (tok != NULL && strncmp(tok, MDEV_PREFIX, strlen(MDEV_PREFIX)) == 0) {
        a->kind = HD_ASSIGNMENT_MDEV;
        /* Only the canonical form: the key compared as text must be one spelling. */
        if (hd_mdev_uuid_parse(tok + strlen(MDEV_PREFIX), a->name) < 0 ||
            strcmp(a->name, tok + strlen(MDEV_PREFIX)) != 0)
            return -EINVAL;
    } else if (tok != NULL && (strncmp(tok, "usb_", 4) == 0 || strncmp(tok, "scsi_", 5) == 0)) {
        a->kind = tok[0] == 'u' ? HD_ASSIGNMENT_USB : HD_ASSIGNMENT_SCSI;
        if (hd_assignment_key_parse(a->kind, tok, a->name) < 0)
            return -EINVAL;
    } else if (tok == NULL || hd_pci_addr_parse(tok, &a->addr) < 0) {
        return -EINVAL;
    } else {
        hd_pci_addr_format(&a->addr, a->name);
    }
    while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            return -EINVAL;
        *eq = '\0';
        if (parse_field(a, tok, eq + 1, &seen) < 0)
            return -EINVAL;
    }
    if (all_fields && (seen & F_ALL) != F_ALL)
        return -EINVAL; /* a line cut short must not read as one with default fields */
    if ((a->kind == HD_ASSIGNMENT_MDEV && !(seen & F_PARENT)) ||
        (a->kind == HD_ASSIGNMENT_USB && !(seen & F_IDS)))
        return -EINVAL;
    return a->vm[0] ? 0 : -EINVAL;
}

static int damaged(struct hd_ctx *ctx, const char *why)
{
    return hd_errr(ctx, -EBADMSG, HD_REASON_STATE_DAMAGED, "the assignment map %s/%s/map/"
                   "assignments is damaged (%s): nothing is done until it is repaired",
                   hd_ctx_get_root(ctx),
                   hd_ctx_get_state_dir(ctx), why);
}

/* The end line of a version 2 map: "# end COUNT CHECKSUM", checked against what precedes it. */
static int check_end(struct hd_ctx *ctx, const char *text, size_t offset, char *end_line,
                     size_t lines)
{
    unsigned long long count, sum;
    char *sp = strchr(end_line + strlen(MAP_END), ' ');

    if (sp == NULL)
        return damaged(ctx, "its end line is not valid");
    *sp = '\0';
    if (hd_parse_uint(end_line + strlen(MAP_END), 10, SIZE_MAX, &count) < 0 ||
        hd_parse_uint(sp + 1, 16, UINT64_MAX, &sum) < 0 || strlen(sp + 1) != 16)
        return damaged(ctx, "its end line is not valid");
    if (count != lines)
        return damaged(ctx, "it ends saying a different number of lines: one was lost or added");
    if (sum != checksum(text, offset))
        return damaged(ctx, "its checksum does not match: it was cut or edited");
    return 0;
}

static int map_parse(struct hd_ctx *ctx, const char *text, struct hd_assignment_list *list)
{
    char *copy = strdup(text);
    unsigned int lineno = 0;
    size_t entries = 0;
    bool v2 = false, v3 = false, ended = false;
    int r = 0;

    if (copy == NULL)
        return -ENOMEM;
    for (char *p = copy, *line; r == 0 && (line = strsep(&p, "\n")) != NULL;) {
        struct hd_assignment a;
        char raw[64];
        lineno++;
        if (lineno == 1) {
            v3 = strcmp(line, MAP_HEADER_V3) == 0;
            v2 = v3 || strcmp(line, MAP_HEADER) == 0;
            if (!v2 && strcmp(line, MAP_HEADER_V1) != 0)
                r = damaged(ctx, strncmp(line, "# hostdev assignments v", 23) == 0
                                     ? "a format this hostdev does not know"
                                     : "no header: it is empty, or not a map");
            continue;
        }
        if (ended) {
            if (line[0] != '\0' || p != NULL)
                r = damaged(ctx, "text after its end line");
            continue;
        }
        if (v2 && strncmp(line, MAP_END, strlen(MAP_END)) == 0) {
            r = check_end(ctx, text, (size_t)(line - copy), line, entries);
            ended = true;
            continue;
        }
        if (line[0] == '\0' && (!v2 || p == NULL))
            continue;
        if (line[0] == '#' && !v2)
            continue;
        hd_strlcpy(raw, line, sizeof(raw));
        if (parse_line(line, &a, v2) < 0 || (a.kind != HD_ASSIGNMENT_PCI && !v3)) {
            char why[128];
            snprintf(why, sizeof(why), "line %u is not valid: '%s'", lineno, raw);
            r = damaged(ctx, why);
        } else if (hd_map_find_same(list, &a) != NULL) {
            char why[128];
            snprintf(why, sizeof(why), "line %u lists %s a second time", lineno, a.name);
            r = damaged(ctx, why);
        } else {
            r = hd_map_add(list, &a);
            entries++;
        }
    }
    if (r == 0 && v2 && !ended)
        r = damaged(ctx, "no end line: it was cut short");
    free(copy);
    return r;
}

static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) HD_PRINTF(4, 5);
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        int n;
        va_start(ap, fmt);
        n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -EINVAL;
        if (*buf != NULL && *len + (size_t)n < *cap) {
            *len += (size_t)n;
            return 0;
        }
        size_t ncap = (*cap ? *cap : 256) * 2 + (size_t)n;
        char *grown = realloc(*buf, ncap);
        if (grown == NULL)
            return -ENOMEM;
        *buf = grown;
        *cap = ncap;
    }
}

bool hd_assignment_from_stub(const struct hd_assignment *a)
{
    return a->kind == HD_ASSIGNMENT_PCI && a->detached && a->driver[0] &&
           hd_driver_is_stub(a->driver) && !hd_driver_is_vfio(a->driver);
}

/* NULL: out of memory. */
static char *map_format(const struct hd_assignment_list *list)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;
    bool pci_only = true;
    int r;

    for (size_t i = 0; i < list->n; i++)
        pci_only = pci_only && list->v[i].kind == HD_ASSIGNMENT_PCI;
    r = append(&buf, &len, &cap, "%s\n", pci_only ? MAP_HEADER : MAP_HEADER_V3);
    for (size_t i = 0; r == 0 && i < list->n; i++) {
        const struct hd_assignment *a = &list->v[i];
        bool mdev = a->kind == HD_ASSIGNMENT_MDEV;
        bool stub = hd_assignment_from_stub(a);
        r = append(&buf, &len, &cap,
                   "%s%s vm=%s mode=%s detached=%d via=%s driver=%s group=%d since=%lld "
                   "owner=%u:%u%s%s%s%s%s%s",
                   mdev ? MDEV_PREFIX : "", a->name, a->vm, a->managed ? "managed" : "unmanaged",
                   a->detached ? 1 : 0, a->via_group ? "group" : "request",
                   a->driver[0] ? a->driver : "-", a->group, a->since, (unsigned)a->uid,
                   (unsigned)a->gid, mdev ? " parent=" : "", mdev ? a->parent : "",
                   a->kind == HD_ASSIGNMENT_USB ? " ids=" : "",
                   a->kind == HD_ASSIGNMENT_USB ? a->ids : "",
                   /* Only there when it says something: an older hostdev skips it. */
                   stub ? " override=" : "",
                   !stub ? "" : a->override[0] ? a->override : "-");
        if (r == 0 && a->kind == HD_ASSIGNMENT_PCI && a->numvfs > 0)
            r = append(&buf, &len, &cap, " numvfs=%d", a->numvfs);
        if (r == 0 && a->kind == HD_ASSIGNMENT_PCI && a->numvfs > 0 && a->autoprobe >= 0)
            r = append(&buf, &len, &cap, " autoprobe=%d", a->autoprobe);
        if (r == 0)
            r = append(&buf, &len, &cap, " nodes=");
        for (size_t k = 0; r == 0 && k < a->nnodes; k++)
            r = append(&buf, &len, &cap, "%s%s@%u:%u:%04o", k ? "," : "", a->nodes[k].path,
                       (unsigned)a->nodes[k].uid, (unsigned)a->nodes[k].gid,
                       (unsigned)a->nodes[k].mode);
        if (r == 0)
            r = append(&buf, &len, &cap, "%s\n", a->nnodes ? "" : "-");
    }
    if (r == 0)
        r = append(&buf, &len, &cap, MAP_END "%zu %016llx\n", list->n,
                   (unsigned long long)checksum(buf, len));
    if (r < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int hd_map_read(struct hd_ctx *ctx, struct hd_assignment_list **out)
{
    struct hd_assignment_list *list = hd_map_new();
    char *text = NULL;
    int r;

    *out = NULL;
    if (list == NULL)
        return -ENOMEM;
    if ((r = hd_state_dir_check(ctx)) < 0) {
        hd_assignment_list_unref(list);
        return r;
    }
    r = hd_state_get(ctx, "map", "assignments", &text);
    if (r == -ENOENT) {
        /* Nothing was ever assigned, unless a map was written before: it is never removed. */
        char dir[HD_PATH_MAX];
        r = hd_path(dir, sizeof(dir), "%s/map", hd_ctx_get_state_dir(ctx));
        if (r == 0 && hd_fs_exists(ctx, dir) == 1)
            r = damaged(ctx, "it is missing");
    }
    else if (r < 0)
        r = hd_err(ctx, r, "reading the assignment map: %s", strerror(-r));
    else
        r = map_parse(ctx, text, list);
    free(text);
    if (r < 0) {
        hd_assignment_list_unref(list);
        return r;
    }
    *out = list;
    return 0;
}

int hd_map_write(struct hd_ctx *ctx, const struct hd_assignment_list *list)
{
    char *text = map_format(list);
    int r;

    if (text == NULL)
        return -ENOMEM;
    r = hd_state_put(ctx, "map", "assignments", text);
    free(text);
    return r;
}

/* ---- a damaged map, rebuilt from what the kernel shows --------------------------------------- */

/* Entry @a still describes the host: its device there, on what a VM uses. Else *@why says why
 * not. */
static bool confirmed(struct hd_ctx *ctx, const struct hd_assignment *a, const char **why)
{
    char node[HD_NODE_PATH_MAX];
    struct hd_mdev_info info;
    struct hd_device *dev;
    bool ok;

    switch (a->kind) {
    case HD_ASSIGNMENT_PCI:
        if (hd_device_open(ctx, &a->addr, &dev) < 0) {
            *why = "the device is gone";
            return false;
        }
        ok = hd_device_is_on_vfio(dev);
        *why = !ok ? "it is not on a vfio-pci family driver"
               : hd_device_get_iommu_group(dev) != a->group ? "its IOMMU group is another"
                                                            : NULL;
        hd_device_unref(dev);
        return *why == NULL;
    case HD_ASSIGNMENT_MDEV:
        ok = hd_mdev_lookup(ctx, a->name, &info) == 0 && strcmp(info.parent, a->parent) == 0;
        *why = ok ? NULL : "the mediated device is gone";
        return ok;
    default: /* USB, SCSI: the same device in its port */
        ok = hd_node_target_refind(ctx, a, node) == 0;
        *why = ok ? NULL : "the device is gone, or another is in its place";
        return ok;
    }
}

int hd_map_rebuild(struct hd_ctx *ctx, hd_map_entry_fn fn, void *data,
                   struct hd_assignment_list **out)
{
    struct hd_assignment_list *list = hd_map_new();
    char *text = NULL;
    int r;

    *out = NULL;
    if (list == NULL)
        return -ENOMEM;
    r = hd_state_get(ctx, "map", "assignments", &text);
    if (r == -ENOENT)
        r = 0; /* missing: nothing of it to keep */
    for (char *p = text, *line; r == 0 && p != NULL && (line = strsep(&p, "\n")) != NULL;) {
        struct hd_assignment a;
        const char *why = NULL;
        char raw[64];
        if (line[0] == '#' || line[0] == '\0')
            continue;
        hd_strlcpy(raw, line, sizeof(raw));
        /* Only a line read whole: one cut short must not come back with default fields. */
        if (parse_line(line, &a, true) < 0) {
            if (fn != NULL)
                fn(data, raw, "", false, "it cannot be read");
            continue;
        }
        if (hd_map_find_same(list, &a) != NULL)
            why = "it is listed twice";
        else if (confirmed(ctx, &a, &why))
            r = hd_map_add(list, &a);
        if (fn != NULL)
            fn(data, a.name, a.vm, why == NULL, why);
    }
    free(text);
    hd_ctx_clear_error(ctx); /* what the checks left: they decide, not fail */
    if (r < 0) {
        hd_assignment_list_unref(list);
        return r;
    }
    *out = list;
    return 0;
}

int hd_map_repair(struct hd_ctx *ctx, hd_map_entry_fn fn, void *data, char *aside, size_t size)
{
    struct hd_assignment_list *list = NULL;
    char path[HD_PATH_MAX];
    int lockfd = -1, r;

    aside[0] = '\0';
    if ((r = hd_lock_map(ctx, &lockfd)) < 0)
        return r;
    /* Under the lock: another process may have repaired it meanwhile. */
    if ((r = hd_map_read(ctx, &list)) == 0 ||
        hd_ctx_last_reason(ctx) != HD_REASON_STATE_DAMAGED)
        goto out;
    hd_ctx_clear_error(ctx);
    if ((r = hd_map_rebuild(ctx, fn, data, &list)) < 0 ||
        (r = hd_path(path, sizeof(path), "%s/map/assignments", hd_ctx_get_state_dir(ctx))) < 0 ||
        (r = hd_path(aside, size, "%s.damaged-%lld", path, (long long)time(NULL))) < 0)
        goto out;
    /* Kept beside the new one, for a person to read: nothing is lost. */
    if ((r = hd_fs_rename(ctx, path, aside)) < 0 && r != -ENOENT) {
        r = hd_err(ctx, r, "setting the damaged map %s/%s aside: %s", hd_ctx_get_root(ctx), path,
                   strerror(-r));
        goto out;
    }
    if (r == -ENOENT)
        aside[0] = '\0'; /* it was missing: nothing to set aside */
    r = hd_map_write(ctx, list);
    if (r == 0)
        r = 1;
out:
    hd_assignment_list_unref(list);
    hd_unlock(lockfd);
    return r;
}

/* ---- public read side ---------------------------------------------------------------------- */

HD_EXPORT int hd_assignment_list_new(struct hd_ctx *ctx, struct hd_assignment_list **list)
{
    return hd_map_read(ctx, list);
}

HD_EXPORT int hd_assignment_list_new_vm(struct hd_ctx *ctx, const char *vm,
                                        struct hd_assignment_list **list)
{
    struct hd_assignment_list *map = NULL, *held;
    int r = 0;

    *list = NULL;
    if (vm == NULL || !hd_vm_id_valid(vm))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "invalid VM id '%s'", vm ? vm : "");
    if ((r = hd_map_read(ctx, &map)) < 0)
        return r;
    if ((held = hd_map_new()) == NULL) {
        hd_assignment_list_unref(map);
        return -ENOMEM;
    }
    for (size_t i = 0; i < map->n && r == 0; i++) {
        if (strcmp(map->v[i].vm, vm) == 0)
            r = hd_map_add(held, &map->v[i]);
    }
    hd_assignment_list_unref(map);
    if (r < 0) {
        hd_assignment_list_unref(held);
        return r;
    }
    *list = held;
    return 0;
}

HD_EXPORT size_t hd_assignment_list_count(const struct hd_assignment_list *list)
{
    return list->n;
}

HD_EXPORT const struct hd_assignment *
hd_assignment_list_get(const struct hd_assignment_list *list, size_t i)
{
    return i < list->n ? &list->v[i] : NULL;
}

HD_EXPORT const struct hd_assignment *
hd_assignment_list_find(const struct hd_assignment_list *list, const struct hd_pci_addr *addr)
{
    return hd_map_find(list, addr);
}

HD_EXPORT const struct hd_assignment *
hd_assignment_list_find_mdev(const struct hd_assignment_list *list, const char *uuid)
{
    char canon[37];

    return hd_mdev_uuid_parse(uuid, canon) == 0 ? hd_map_find_mdev(list, canon) : NULL;
}

HD_EXPORT enum hd_assignment_kind hd_assignment_get_kind(const struct hd_assignment *a)
{
    return a->kind;
}

HD_EXPORT const struct hd_pci_addr *hd_assignment_get_addr(const struct hd_assignment *a)
{
    return a->kind == HD_ASSIGNMENT_PCI ? &a->addr : NULL;
}

HD_EXPORT const struct hd_assignment *
hd_assignment_list_find_name(const struct hd_assignment_list *list, const char *name)
{
    for (size_t i = 0; i < list->n; i++) {
        if (list->v[i].kind != HD_ASSIGNMENT_PCI && strcmp(list->v[i].name, name) == 0)
            return &list->v[i];
    }
    return NULL;
}

HD_EXPORT const char *hd_assignment_get_node(const struct hd_assignment *a)
{
    return a->kind == HD_ASSIGNMENT_USB || a->kind == HD_ASSIGNMENT_SCSI
               ? (a->nnodes > 0 ? a->nodes[0].path : NULL)
               : NULL;
}

HD_EXPORT const char *hd_assignment_get_parent(const struct hd_assignment *a)
{
    return a->kind == HD_ASSIGNMENT_MDEV ? a->parent : NULL;
}

HD_EXPORT const char *hd_assignment_get_name(const struct hd_assignment *a)
{
    return a->name;
}

HD_EXPORT const char *hd_assignment_get_vm(const struct hd_assignment *a)
{
    return a->vm;
}

HD_EXPORT bool hd_assignment_is_managed(const struct hd_assignment *a)
{
    return a->managed;
}

HD_EXPORT bool hd_assignment_is_group_member(const struct hd_assignment *a)
{
    return a->via_group;
}

HD_EXPORT bool hd_assignment_is_detached(const struct hd_assignment *a)
{
    return a->detached;
}

HD_EXPORT const char *hd_assignment_get_driver(const struct hd_assignment *a)
{
    return a->driver[0] ? a->driver : NULL;
}

HD_EXPORT int hd_assignment_get_iommu_group(const struct hd_assignment *a)
{
    return a->group;
}

HD_EXPORT long long hd_assignment_get_since(const struct hd_assignment *a)
{
    return a->since;
}

HD_EXPORT uid_t hd_assignment_get_uid(const struct hd_assignment *a)
{
    return a->uid;
}

HD_EXPORT gid_t hd_assignment_get_gid(const struct hd_assignment *a)
{
    return a->gid;
}
