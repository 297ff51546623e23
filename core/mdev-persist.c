/* mdev-persist.c - mediated devices defined to come back at every boot, in mdevctl's own files
 * so that either tool reads what the other wrote: ROOT/etc/mdevctl.d/PARENT/UUID holding
 * {"mdev_type": "TYPE", "start": "auto"|"manual", "attrs": []}. `hostdev reserve` makes the
 * "auto" ones that are not there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MDEVCTL_DIR "etc/mdevctl.d"

struct defined {
    char uuid[37];
    char parent[HD_DRIVER_NAME_MAX], type[HD_DRIVER_NAME_MAX];
    bool autostart;
    bool attrs; /* it sets attributes, which hostdev does not apply */
};

struct hd_mdev_defined_list {
    atomic_int refcount;
    struct defined *v;
    size_t n, cap;
    char **errors; /* files that are no definition, each named by one line */
    size_t nerrors;
    int first_err; /* the first one's: -EINVAL, or why it could not be read */
};

/* ---- the JSON of one file: a flat object, strings and an attrs array --------------------- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* A JSON string at @p into @out (plain ASCII escapes only: names and words); NULL if bad. */
static const char *json_string(const char *p, char *out, size_t size)
{
    size_t n = 0;

    if (*p++ != '"')
        return NULL;
    for (; *p && *p != '"'; p++) {
        char c = *p;
        if ((unsigned char)c < 0x20)
            return NULL;
        if (c == '\\') {
            c = *++p;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c != '"' && c != '\\' && c != '/')
                return NULL;
        }
        if (n + 1 >= size)
            return NULL;
        out[n++] = c;
    }
    if (*p != '"')
        return NULL;
    out[n] = '\0';
    return p + 1;
}

/* Past one JSON value of any kind; *@empty tells whether an array or object was empty. */
static const char *json_skip(const char *p, bool *empty)
{
    char buf[256];
    int depth = 0;

    *empty = true;
    p = skip_ws(p);
    if (*p == '"')
        return json_string(p, buf, sizeof(buf));
    if (*p != '[' && *p != '{') {
        const char *start = p;
        while (*p && strchr(",}] \t\r\n", *p) == NULL)
            p++;
        return p == start ? NULL : p;
    }
    do {
        if (*p == '"') {
            if ((p = json_string(p, buf, sizeof(buf))) == NULL)
                return NULL;
            *empty = false;
            continue;
        }
        if (*p == '[' || *p == '{')
            depth++;
        else if (*p == ']' || *p == '}')
            depth--;
        else if (*p == '\0')
            return NULL;
        else if (depth > 0 && !strchr(" \t\r\n", *p))
            *empty = false;
        p++;
    } while (depth > 0);
    return p;
}

static int parse_file(const char *text, struct defined *d)
{
    const char *p = skip_ws(text);
    char key[64], value[HD_DRIVER_NAME_MAX];
    bool have_type = false, empty;

    d->autostart = false;
    d->attrs = false;
    if (*p++ != '{')
        return -EINVAL;
    for (p = skip_ws(p); *p != '}';) {
        if ((p = json_string(p, key, sizeof(key))) == NULL || *(p = skip_ws(p)) != ':')
            return -EINVAL;
        p = skip_ws(p + 1);
        if (strcmp(key, "mdev_type") == 0 || strcmp(key, "start") == 0) {
            if ((p = json_string(p, value, sizeof(value))) == NULL)
                return -EINVAL;
            if (key[0] == 'm') {
                if (!hd_name_valid(value))
                    return -EINVAL;
                hd_strlcpy(d->type, value, sizeof(d->type));
                have_type = true;
            } else if (strcmp(value, "auto") == 0 || strcmp(value, "manual") == 0) {
                d->autostart = value[0] == 'a';
            } else {
                return -EINVAL;
            }
        } else {
            if ((p = json_skip(p, &empty)) == NULL)
                return -EINVAL;
            if (strcmp(key, "attrs") == 0)
                d->attrs = !empty;
        }
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
        else if (*p != '}')
            return -EINVAL;
    }
    return have_type && *skip_ws(p + 1) == '\0' ? 0 : -EINVAL;
}

/* ---- the list ------------------------------------------------------------------------------ */

/* A file that is no definition: an error of the list naming it, one line, so that one bad
 * file does not keep the boot from making the others. -ENOMEM, else 0. */
static int add_error(struct hd_ctx *ctx, struct hd_mdev_defined_list *l, const char *path,
                     int err, const char *why)
{
    char **errors = realloc(l->errors, (l->nerrors + 1) * sizeof(*errors));

    if (errors == NULL)
        return -ENOMEM;
    l->errors = errors;
    if (asprintf(&errors[l->nerrors], "%s/%s: %s", hd_ctx_get_root(ctx), path, why) < 0)
        return -ENOMEM;
    /* The name is the UUID and the root the user's own: still one line whatever they hold. */
    for (char *c = errors[l->nerrors]; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    }
    if (l->nerrors++ == 0)
        l->first_err = err;
    return 0;
}

static int add_file(struct hd_ctx *ctx, struct hd_mdev_defined_list *l, const char *parent,
                    const char *name)
{
    char path[HD_PATH_MAX], uuid[37], *text = NULL;
    struct defined *v;
    int r;

    /* mdevctl keeps nothing else there; anything not a UUID is not ours to judge. */
    if (hd_mdev_uuid_parse(name, uuid) < 0 || strcmp(uuid, name) != 0)
        return 0;
    if ((r = hd_path(path, sizeof(path), MDEVCTL_DIR "/%s/%s", parent, name)) < 0)
        return hd_err(ctx, r, "%s/" MDEVCTL_DIR "/%s/%s: %s", hd_ctx_get_root(ctx), parent,
                      name, strerror(-r));
    r = hd_fs_read_config(ctx, path, 65536, &text, NULL);
    if (r == -ENOENT) /* undefined meanwhile */
        return 0;
    /* One that cannot be read (EIO, EACCES) too, as in hostdev.d: only memory fails all. */
    if (r < 0 && r != -ENOMEM) {
        char why[128];
        hd_fs_config_why(r, "an mdevctl definition", "64 KiB", why, sizeof(why));
        return add_error(ctx, l, path, r == -EFBIG || r == -EISDIR ? -EINVAL : r, why);
    }
    if (r < 0)
        return hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), path, strerror(-r));
    if ((v = hd_array_grow(l->v, &l->cap, l->n, sizeof(*v), 8)) == NULL) {
        free(text);
        return -ENOMEM;
    }
    l->v = v;
    memset(&l->v[l->n], 0, sizeof(*v));
    r = parse_file(text, &l->v[l->n]);
    free(text);
    if (r < 0)
        return add_error(ctx, l, path, -EINVAL, "not an mdevctl definition (want {\"mdev_type\": "
                         "\"TYPE\", \"start\": \"auto\"|\"manual\", \"attrs\": []})");
    hd_strlcpy(l->v[l->n].uuid, uuid, sizeof(l->v[l->n].uuid));
    hd_strlcpy(l->v[l->n].parent, parent, sizeof(l->v[l->n].parent));
    l->n++;
    return 0;
}

struct defined_scan {
    struct hd_ctx *ctx;
    struct hd_mdev_defined_list *l;
    bool said; /* a file's failure, with its own message */
};

static int scan_file(void *data, const char *parent, const char *name)
{
    struct defined_scan *s = data;
    int r = add_file(s->ctx, s->l, parent, name);

    s->said = r < 0;
    return r;
}

HD_EXPORT int hd_mdev_defined_list_load(struct hd_ctx *ctx, struct hd_mdev_defined_list **out)
{
    struct hd_mdev_defined_list *l = calloc(1, sizeof(*l));
    struct defined_scan scan = {ctx, l, false};
    int r;

    *out = NULL;
    if (l == NULL)
        return -ENOMEM;
    hd_ref_init(&l->refcount);
    r = hd_mdev_scan(ctx, MDEVCTL_DIR, NULL, scan_file, &scan);
    if (r < 0) {
        if (!scan.said)
            hd_err(ctx, r, "%s/" MDEVCTL_DIR ": %s", hd_ctx_get_root(ctx), strerror(-r));
        hd_mdev_defined_list_unref(l);
        return r;
    }
    *out = l;
    return 0;
}

HD_EXPORT int hd_mdev_defined_list_new(struct hd_ctx *ctx, struct hd_mdev_defined_list **out)
{
    struct hd_mdev_defined_list *l;
    int r;

    if ((r = hd_mdev_defined_list_load(ctx, &l)) < 0)
        return r;
    /* All of them or none: what defines or undefines must see every definition there is. */
    if (l->nerrors > 0) {
        r = l->first_err;
        if (r == -EINVAL)
            hd_errr(ctx, r, HD_REASON_INVALID, "%s", l->errors[0]);
        else
            hd_err(ctx, r, "%s", l->errors[0]);
        hd_mdev_defined_list_unref(l);
        *out = NULL;
        return r < 0 ? r : -EINVAL;
    }
    *out = l;
    return 0;
}

HD_EXPORT struct hd_mdev_defined_list *hd_mdev_defined_list_ref(struct hd_mdev_defined_list *l)
{
    if (l != NULL)
        hd_ref_take(&l->refcount);
    return l;
}

HD_EXPORT struct hd_mdev_defined_list *hd_mdev_defined_list_unref(struct hd_mdev_defined_list *l)
{
    if (l == NULL || !hd_ref_drop(&l->refcount))
        return NULL;
    hd_strv_free(l->errors, l->nerrors);
    free(l->v);
    free(l);
    return NULL;
}

HD_EXPORT size_t hd_mdev_defined_list_count(const struct hd_mdev_defined_list *l)
{
    return l ? l->n : 0;
}

HD_EXPORT size_t hd_mdev_defined_list_get_error_count(const struct hd_mdev_defined_list *l)
{
    return l ? l->nerrors : 0;
}

HD_EXPORT const char *hd_mdev_defined_list_get_error(const struct hd_mdev_defined_list *l,
                                                     size_t i)
{
    return l != NULL && i < l->nerrors ? l->errors[i] : NULL;
}

HD_LIST_STRING_FIELD(hd_mdev_defined_list, hd_mdev_defined_list_get_uuid, uuid)
HD_LIST_STRING_FIELD(hd_mdev_defined_list, hd_mdev_defined_list_get_parent, parent)
HD_LIST_STRING_FIELD(hd_mdev_defined_list, hd_mdev_defined_list_get_type, type)

HD_EXPORT bool hd_mdev_defined_list_get_autostart(const struct hd_mdev_defined_list *l, size_t i)
{
    return l != NULL && i < l->n && l->v[i].autostart;
}

HD_EXPORT bool hd_mdev_defined_list_has_attrs(const struct hd_mdev_defined_list *l, size_t i)
{
    return l != NULL && i < l->n && l->v[i].attrs;
}

/* ---- writing and removing definitions ------------------------------------------------------ */

/* @uuid and @parent in mdevctl's form, in @id and @canon: its directory is the parent as sysfs
 * names it (00:02.0 is 0000:00:02.0 there). */
static int define_names(struct hd_ctx *ctx, const char *parent, const char *uuid, char id[37],
                        char canon[HD_DRIVER_NAME_MAX])
{
    if (hd_mdev_parent_name(parent, canon) < 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a mediated device parent",
                       parent ? parent : "");
    if (uuid == NULL || hd_mdev_uuid_parse(uuid, id) < 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a UUID", uuid ? uuid : "");
    return 0;
}

/* The checks of hd_mdev_define(); @id and @canon get the UUID and parent in mdevctl's form. */
static int check_define(struct hd_ctx *ctx, const char *parent, const char *type,
                        const char *uuid, char id[37], char canon[HD_DRIVER_NAME_MAX])
{
    struct hd_mdev_defined_list *l;
    int r;

    if ((r = define_names(ctx, parent, uuid, id, canon)) < 0)
        return r;
    if (type == NULL || !hd_name_valid(type) || strlen(type) >= HD_DRIVER_NAME_MAX)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a mediated device type",
                       type ? type : "");
    /* One UUID, one definition: a second one under another parent (or of another type) would
     * make the boot create the UUID twice, the second failing. The same one again is kept,
     * its start rewritten. */
    if ((r = hd_mdev_defined_list_new(ctx, &l)) < 0)
        return r;
    for (size_t i = 0; i < l->n; i++) {
        const struct defined *d = &l->v[i];
        if (strcmp(d->uuid, id) == 0 &&
            (strcmp(d->parent, canon) != 0 || strcmp(d->type, type) != 0))
            r = hd_errr(ctx, -EEXIST, HD_REASON_INVALID, "mediated device %s is defined already "
                        "(type %s of %s); undefine it first", id, d->type, d->parent);
    }
    hd_mdev_defined_list_unref(l);
    if (r < 0)
        return r;
    /* Running as another parent or type, the UUID is not the device defined: a VM given it
     * now gets another device than every boot makes, and `mdev create --uuid` refuses it as
     * made otherwise than defined. Refused as create refuses a UUID made otherwise. */
    struct hd_mdev m;
    int made = hd_mdev_read(ctx, id, &m);
    if (made < 0 && made != -ENOENT)
        return hd_err(ctx, made, "reading mediated device %s: %s", id, strerror(-made));
    if (made == 0 && (strcmp(m.parent, canon) != 0 || strcmp(m.type, type) != 0))
        return hd_errr(ctx, -EEXIST, HD_REASON_FAILED, "mediated device %s runs as type %s of %s, "
                       "not %s of %s: remove it first, or choose another UUID", id, m.type,
                       m.parent, type, canon);
    return 0;
}

HD_EXPORT int hd_mdev_define_check(struct hd_ctx *ctx, const char *parent, const char *type,
                                   const char *uuid)
{
    char id[37], canon[HD_DRIVER_NAME_MAX];

    return check_define(ctx, parent, type, uuid, id, canon);
}

HD_EXPORT int hd_mdev_define_file(struct hd_ctx *ctx, const char *parent, const char *uuid,
                                  char *buf, size_t size)
{
    char id[37], canon[HD_DRIVER_NAME_MAX];
    int r;

    if ((r = define_names(ctx, parent, uuid, id, canon)) < 0)
        return r;
    if ((r = hd_path(buf, size, MDEVCTL_DIR "/%s/%s", canon, id)) < 0)
        return hd_err(ctx, r, MDEVCTL_DIR "/%s/%s: %s", canon, id, strerror(-r));
    return 0;
}

HD_EXPORT int hd_mdev_define(struct hd_ctx *ctx, const char *parent, const char *type,
                             const char *uuid, bool autostart)
{
    char dir[HD_PATH_MAX], id[37], text[256], canon[HD_DRIVER_NAME_MAX];
    char quoted[2 * HD_DRIVER_NAME_MAX];
    size_t n = 0;
    int r;

    if ((r = check_define(ctx, parent, type, uuid, id, canon)) < 0)
        return r;
    /* A JSON string: a quote or backslash in the type (a sysfs name may hold them) escaped,
     * else the file is no definition, to mdevctl and to every later define and undefine. */
    for (const char *c = type; *c; c++) {
        if (*c == '"' || *c == '\\')
            quoted[n++] = '\\';
        quoted[n++] = *c;
    }
    quoted[n] = '\0';
    /* mdevctl's layout and words: either tool starts what the other defined. */
    snprintf(text, sizeof(text), "{\n  \"mdev_type\": \"%s\",\n  \"start\": \"%s\",\n"
             "  \"attrs\": []\n}\n", quoted, autostart ? "auto" : "manual");
    if ((r = hd_path(dir, sizeof(dir), MDEVCTL_DIR "/%s", canon)) < 0 ||
        (r = hd_record_put(ctx, dir, id, text, 0644)) < 0)
        return hd_err(ctx, r, "%s/%s/%s: %s", hd_ctx_get_root(ctx), dir, id, strerror(-r));
    return 0;
}

/* The types @parent offers, listed in one line ("a, b"); "" when none. */
static char *types_line(char **ids, size_t n)
{
    size_t len = 1;
    char *line;

    for (size_t i = 0; i < n; i++)
        len += strlen(ids[i]) + 2;
    if ((line = malloc(len)) == NULL)
        return NULL;
    line[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(line, ", ");
        strcat(line, ids[i]);
    }
    return line;
}

HD_EXPORT int hd_mdev_define_note(struct hd_ctx *ctx, const char *parent, const char *type,
                                  char **note)
{
    char canon[HD_DRIVER_NAME_MAX], dir[HD_PATH_MAX], **ids = NULL, *offered = NULL;
    size_t n = 0;
    bool listed = false;
    int r;

    *note = NULL;
    if (hd_mdev_parent_name(parent, canon) < 0 || type == NULL)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a mediated device parent",
                       parent ? parent : "");
    /* Not a parent now (its driver not loaded yet, as mdevctl allows): nothing to compare. */
    if ((r = hd_path(dir, sizeof(dir), "sys/class/mdev_bus/%s", canon)) < 0 ||
        hd_fs_exists(ctx, dir) <= 0)
        return r < 0 ? r : 0;
    if ((r = hd_path(dir, sizeof(dir), "sys/class/mdev_bus/%s/mdev_supported_types", canon)) < 0)
        return r;
    r = hd_fs_list_dir(ctx, dir, &ids, &n);
    if (r < 0 && r != -ENOENT && r != -ENOTDIR)
        return hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), dir, strerror(-r));
    for (size_t i = 0; i < n && !listed; i++)
        listed = strcmp(ids[i], type) == 0;
    if (!listed && (offered = types_line(ids, n)) == NULL)
        r = -ENOMEM;
    else if (!listed &&
             asprintf(note, "%s offers no mediated device type %s now (%s%s): a definition of "
                      "it is accepted, but making it fails until the parent offers it", canon,
                      type, n > 0 ? "its types: " : "it offers none", offered) < 0)
        r = -ENOMEM;
    else
        r = 0;
    if (r < 0)
        *note = NULL;
    free(offered);
    hd_strv_free(ids, n);
    return r;
}

/* Every definition of @uuid removed (@remove) or only found. */
static int undefine(struct hd_ctx *ctx, const char *uuid, bool remove)
{
    struct hd_mdev_defined_list *l;
    char id[37], dir[HD_PATH_MAX];
    int r, found = 0;

    if (uuid == NULL || hd_mdev_uuid_parse(uuid, id) < 0)
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "'%s' is not a UUID", uuid ? uuid : "");
    if ((r = hd_mdev_defined_list_new(ctx, &l)) < 0)
        return r;
    for (size_t i = 0; r == 0 && i < l->n; i++) {
        if (strcmp(l->v[i].uuid, id) != 0)
            continue;
        found++;
        if (remove && (r = hd_path(dir, sizeof(dir), MDEVCTL_DIR "/%s", l->v[i].parent)) == 0 &&
            (r = hd_record_del(ctx, dir, id)) < 0)
            r = hd_err(ctx, r, "%s/%s/%s: %s", hd_ctx_get_root(ctx), dir, id, strerror(-r));
    }
    hd_mdev_defined_list_unref(l);
    if (r == 0 && found == 0)
        return hd_errr(ctx, -ENOENT, HD_REASON_NO_DEVICE, "mediated device %s is not defined "
                       "(no %s/" MDEVCTL_DIR "/*/%s)", id, hd_ctx_get_root(ctx), id);
    return r;
}

HD_EXPORT int hd_mdev_undefine(struct hd_ctx *ctx, const char *uuid)
{
    return undefine(ctx, uuid, true);
}

HD_EXPORT int hd_mdev_undefine_check(struct hd_ctx *ctx, const char *uuid)
{
    return undefine(ctx, uuid, false);
}
