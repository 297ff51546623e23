/* owner.c - who a VM is (its id) and who runs it (the user and group given dev/vfio/N). */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

HD_EXPORT bool hd_vm_id_valid(const char *id)
{
    size_t len = 0;

    if (id == NULL || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return false;
    for (const char *p = id; *p; p++, len++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '@' || c == '-'))
            return false;
    }
    return len >= 1 && len <= HD_VM_ID_MAX;
}

/* Look @name (or, @name NULL, the entry whose id is *@id) up in a passwd- or group-format
 * database held in @db: field 0 is the name, field 2 the id, field 3 (passwd) the primary
 * group. */
static int db_lookup(const char *db, const char *name, unsigned long *id, unsigned long *gid)
{
    for (const char *line = db; line && *line;) {
        const char *start = line, *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512], *f[4] = {NULL}, *tok;
        unsigned long long v;
        size_t i = 0;
        line = end ? end + 1 : NULL;
        if (len >= sizeof(buf))
            continue; /* longer than any entry we could use */
        memcpy(buf, start, len);
        buf[len] = '\0';
        /* strsep keeps empty fields (the password field often is). */
        for (char *p = buf; i < 4 && (tok = strsep(&p, ":")) != NULL; i++)
            f[i] = tok;
        if (i < 3 || (name != NULL && strcmp(f[0], name) != 0))
            continue;
        if (hd_parse_uint(f[2], 10, 0xfffffffe, &v) < 0) {
            if (name != NULL)
                return -EINVAL;
            continue;
        }
        if (name == NULL && v != *id)
            continue;
        *id = (unsigned long)v;
        if (gid != NULL) {
            if (i < 4 || hd_parse_uint(f[3], 10, 0xfffffffe, &v) < 0)
                return -EINVAL;
            *gid = (unsigned long)v;
        }
        return 0;
    }
    return -ENOENT;
}

/* The root's own database first (a fake root has its own users), then the host's (NSS). */
static int resolve_user(struct hd_ctx *ctx, const char *name, uid_t *uid, gid_t *gid)
{
    unsigned long long v;
    unsigned long id, g;
    char *db = NULL;
    int r;

    if (hd_parse_uint(name, 10, 0xfffffffe, &v) == 0) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        *uid = (uid_t)v;
        id = (unsigned long)v;
        /* Its primary group from the root's own database first, as for a name; one without
         * an entry has none we could know: root's. */
        if (hd_fs_read_alloc(ctx, "etc/passwd", HD_READ_MAX, &db, NULL) == 0) {
            r = db_lookup(db, NULL, &id, &g);
            free(db);
            if (r == 0) {
                *gid = (gid_t)g;
                return 0;
            }
        }
        *gid = getpwuid_r(*uid, &pw, buf, sizeof(buf), &res) == 0 && res ? pw.pw_gid : 0;
        return 0;
    }
    if (hd_fs_read_alloc(ctx, "etc/passwd", HD_READ_MAX, &db, NULL) == 0) {
        r = db_lookup(db, name, &id, &g);
        free(db);
        if (r == 0) {
            *uid = (uid_t)id;
            *gid = (gid_t)g;
            return 0;
        }
    }
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
        *uid = pw.pw_uid;
        *gid = pw.pw_gid;
        return 0;
    }
    return -ENOENT;
}

static int resolve_group(struct hd_ctx *ctx, const char *name, gid_t *gid)
{
    unsigned long long v;
    unsigned long id;
    char *db = NULL;
    int r;

    if (hd_parse_uint(name, 10, 0xfffffffe, &v) == 0) {
        *gid = (gid_t)v;
        return 0;
    }
    if (hd_fs_read_alloc(ctx, "etc/group", HD_READ_MAX, &db, NULL) == 0) {
        r = db_lookup(db, name, &id, NULL);
        free(db);
        if (r == 0) {
            *gid = (gid_t)id;
            return 0;
        }
    }
    struct group gr, *res = NULL;
    char buf[8192];
    if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
        *gid = gr.gr_gid;
        return 0;
    }
    return -ENOENT;
}

static bool owner_name_ok(const char *s)
{
    /* What useradd accepts, roughly: no separators that would confuse the databases. */
    if (s[0] == '\0' || strlen(s) > 64 || s[0] == '-')
        return false;
    for (const char *p = s; *p; p++) {
        if (*p == ':' || *p == '\n' || *p == ',' || *p == '/' || (unsigned char)*p <= ' ')
            return false;
    }
    return true;
}

HD_EXPORT int hd_owner_parse(struct hd_ctx *ctx, const char *spec, uid_t *uid, gid_t *gid)
{
    char user[80], *group;
    size_t len;
    uid_t u = 0;
    gid_t g = 0;

    if (spec == NULL || (len = strlen(spec)) == 0 || len >= sizeof(user))
        return hd_err(ctx, -EINVAL, "owner '%s': expected USER[:GROUP]", spec ? spec : "");
    memcpy(user, spec, len + 1);
    group = strchr(user, ':');
    if (group != NULL)
        *group++ = '\0';
    if ((user[0] != '\0' && !owner_name_ok(user)) || (group && !owner_name_ok(group)) ||
        (user[0] == '\0' && group == NULL))
        return hd_err(ctx, -EINVAL, "owner '%s': expected USER[:GROUP]", spec);
    if (user[0] != '\0' && resolve_user(ctx, user, &u, &g) < 0)
        return hd_err(ctx, -EINVAL, "owner '%s': no user '%s' (looked in %s/etc/passwd and "
                      "the host's)", spec, user, hd_ctx_get_root(ctx));
    if (group != NULL && resolve_group(ctx, group, &g) < 0)
        return hd_err(ctx, -EINVAL, "owner '%s': no group '%s' (looked in %s/etc/group and "
                      "the host's)", spec, group, hd_ctx_get_root(ctx));
    *uid = u;
    *gid = g;
    return 0;
}

HD_EXPORT int hd_owner_default(struct hd_ctx *ctx, uid_t *uid, gid_t *gid)
{
    gid_t g;

    *uid = 0;
    *gid = resolve_group(ctx, "qemu", &g) == 0 ? g : 0;
    return 0;
}
