/* modalias.c - the running kernel's module aliases: lib/modules/RELEASE/modules.alias (the
 * text depmod writes beside modules.alias.bin, which says the same) and the aliases of the
 * built-in drivers in modules.builtin.modinfo. Read once per context and kept on it until its
 * next operation begins (gateway.h, hd_ctx_op_begin()): the one reader for variants
 * (core/variant.c) and for the modalias lookup without libkmod (below). The text is read, not
 * libkmod's index: it is what a fake root carries. */
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "os.h"

/* A real modules.alias is about 1.5 MB; a file much larger is not one. */
#define ALIASES_MAX (64u << 20)
/* The kernel's MODULE_NAME_LEN (64 - sizeof(long), with its NUL): a longer name is none. */
#define MODULE_NAME_MAX (64 - sizeof(long))

struct hd_modaliases {
    char *text[2]; /* the files, cut in place: the records point into them */
    struct hd_modalias *v;
    size_t n, cap;
    /* The "vfio_pci:" ones, which variant lookups take, apart: a real kernel has some tens
     * among tens of thousands, and a plan asks once per device. */
    struct hd_modalias *vfio;
    size_t nvfio;
};

static void modaliases_free(struct hd_modaliases *a)
{
    if (a == NULL)
        return;
    free(a->text[0]);
    free(a->text[1]);
    free(a->v);
    free(a->vfio);
    free(a);
}

bool hd_alias_normalize(char *alias)
{
    for (char *p = alias; *p; p++) {
        if (*p == '-')
            *p = '_';
        else if (*p == ']')
            return false;
        else if (*p == '[' && *(p += strcspn(p, "]")) == '\0')
            return false; /* a class left open */
    }
    return true;
}

bool hd_modalias_match(const char *pattern, const char *alias)
{
    const char *p = pattern, *s = alias;

    /* Most of modules.alias's thousands of patterns differ from the alias before their first
     * wildcard: compared here, fnmatch() only for the rest. */
    for (; *p != '\0' && strchr("*?[\\", *p) == NULL; p++, s++) {
        if (*p != *s)
            return false;
    }
    return *p == '\0' ? *s == '\0' : fnmatch(p, s, 0) == 0;
}

/* @pattern (NUL-terminated in the file's text) of @module, normalized as depmod puts it in
 * the index: one it cannot normalize, or a module that is not a plain name (it would end up
 * in a sysfs path), is left out as depmod leaves it out. */
static int add(struct hd_modaliases *a, char *pattern, const char *module, bool builtin)
{
    struct hd_modalias *v;

    if (!hd_alias_normalize(pattern) || !hd_name_valid(module) ||
        strlen(module) >= MODULE_NAME_MAX)
        return 0;
    if ((v = hd_array_grow(a->v, &a->cap, a->n, sizeof(*a->v), 256)) == NULL)
        return -ENOMEM;
    a->v = v;
    a->v[a->n++] = (struct hd_modalias){.pattern = pattern, .module = module, .builtin = builtin};
    return 0;
}

/* modules.alias: "alias PATTERN MODULE" lines; others (comments) are not aliases. */
static int parse_aliases(struct hd_modaliases *a, char *text, size_t len)
{
    char *p = text, *end = text + len;

    while (p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p)), *pattern, *module;
        size_t n;
        if (eol == NULL)
            eol = end;
        *eol = '\0'; /* at the end: the NUL hd_fs_read_alloc() puts there */
        if (strncmp(p, "alias", 5) == 0 && (p[5] == ' ' || p[5] == '\t')) {
            pattern = p + 6 + strspn(p + 6, " \t");
            n = strcspn(pattern, " \t");
            module = pattern + n + strspn(pattern + n, " \t");
            if (n > 0 && pattern[n] != '\0') {
                pattern[n] = '\0';
                module[strcspn(module, " \t\r")] = '\0';
                int r = add(a, pattern, module, false);
                if (r < 0)
                    return r;
            }
        }
        p = eol + 1;
    }
    return 0;
}

/* modules.builtin.modinfo: NUL-separated "MODULE.KEY=VALUE" entries; the "alias" ones. */
static int parse_builtin(struct hd_modaliases *a, char *text, size_t len)
{
    char *p = text, *end = text + len;

    while (p < end) {
        char *eos = memchr(p, '\0', (size_t)(end - p)), *dot;
        if (eos == NULL)
            eos = end;
        *eos = '\0';
        dot = strchr(p, '.');
        if (dot != NULL && strncmp(dot, ".alias=", 7) == 0) {
            *dot = '\0';
            int r = add(a, dot + 7, p, true);
            if (r < 0)
                return r;
        }
        p = eos + 1;
    }
    return 0;
}

/* The release whose modules count: the fake kernel's under a root, ours on the host. */
static void kernel_release(struct hd_ctx *ctx, char *buf, size_t size)
{
    struct utsname u;

    if (hd_ctx_root_is_host(ctx) && uname(&u) == 0)
        hd_strlcpy(buf, u.release, size);
    else if (hd_fs_read_attr(ctx, "proc/sys/kernel/osrelease", buf, size) < 0)
        buf[0] = '\0';
    if (!hd_name_valid(buf))
        buf[0] = '\0';
}

/* The "vfio_pci:" aliases of @a copied apart, in their order. */
static int split_vfio(struct hd_modaliases *a)
{
    static const char prefix[] = "vfio_pci:";

    for (size_t i = 0; i < a->n; i++)
        a->nvfio += strncmp(a->v[i].pattern, prefix, sizeof(prefix) - 1) == 0;
    if (a->nvfio == 0)
        return 0;
    if ((a->vfio = calloc(a->nvfio, sizeof(*a->vfio))) == NULL)
        return -ENOMEM;
    for (size_t i = 0, k = 0; i < a->n; i++) {
        if (strncmp(a->v[i].pattern, prefix, sizeof(prefix) - 1) == 0)
            a->vfio[k++] = a->v[i];
    }
    return 0;
}

/* The root's aliases, read on the context's first call. */
static int modaliases(struct hd_ctx *ctx, const struct hd_modaliases **out)
{
    static const char *const files[] = {"modules.alias", "modules.builtin.modinfo"};
    char release[128], path[HD_PATH_MAX];
    struct hd_modaliases *a = hd_ctx_get_modaliases(ctx);
    size_t len = 0;
    int r = 0;

    if ((*out = a) != NULL) /* read already: a plan for 64 VFs asks 64 times */
        return 0;
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return hd_err(ctx, -ENOMEM, "module aliases: out of memory");
    release[0] = '\0';
    /* Under another root, a tree without lib/modules (a bare fake root) has no aliases:
     * one look says so, not the release read and a look per file. */
    int fd = hd_ctx_root_is_host(ctx) ? 0 : hd_fs_open(ctx, "lib/modules", O_PATH | O_DIRECTORY, 0);
    if (fd > 0)
        close(fd);
    if (fd != -ENOENT && fd != -ENOTDIR)
        kernel_release(ctx, release, sizeof(release));
    for (size_t i = 0; r == 0 && i < HD_ARRAY_SIZE(files); i++) {
        r = release[0] ? hd_path(path, sizeof(path), "lib/modules/%s/%s", release, files[i])
                       : -ENOENT;
        if (r == 0)
            r = hd_fs_read_alloc(ctx, path, ALIASES_MAX, &a->text[i], &len);
        if (r == 0)
            r = i == 0 ? parse_aliases(a, a->text[i], len) : parse_builtin(a, a->text[i], len);
        else if (r == -ENOENT || r == -ENOTDIR)
            r = 0; /* no modules directory (a minimal image, a bare fake root): no aliases */
    }
    if (r == 0 && split_vfio(a) < 0) {
        modaliases_free(a);
        return hd_err(ctx, -ENOMEM, "module aliases: out of memory");
    }
    if (r < 0) {
        modaliases_free(a);
        return hd_err(ctx, r, "reading %s/%s failed: %s", hd_ctx_get_root(ctx), path,
                      strerror(-r));
    }
    hd_ctx_set_modaliases(ctx, a, modaliases_free); /* the context knows nothing of them */
    *out = a;
    return 0;
}

/* Every alias of both files, read and kept as for hd_modaliases_get_vfio(). */
static int modaliases_get(struct hd_ctx *ctx, const struct hd_modalias **v, size_t *n)
{
    const struct hd_modaliases *a;
    int r = modaliases(ctx, &a);

    *v = r == 0 ? a->v : NULL;
    *n = r == 0 ? a->n : 0;
    return r;
}

int hd_modaliases_get_vfio(struct hd_ctx *ctx, const struct hd_modalias **v, size_t *n)
{
    const struct hd_modaliases *a;
    int r = modaliases(ctx, &a);

    *v = r == 0 ? a->vfio : NULL;
    *n = r == 0 ? a->nvfio : 0;
    return r;
}

/* Append to @modules the module of each alias of @v (those whose builtin is @builtin) that
 * matches @alias, once each (kmod would list a module twice; loading it twice does no more). */
static int add_matches(const struct hd_modalias *v, size_t count, bool builtin, const char *alias,
                       char ***modules, size_t *n, size_t *cap)
{
    for (size_t i = 0; i < count; i++) {
        bool listed = false;
        char **grown;
        if (v[i].builtin != builtin || !hd_modalias_match(v[i].pattern, alias))
            continue;
        for (size_t k = 0; k < *n && !listed; k++)
            listed = strcmp((*modules)[k], v[i].module) == 0;
        if (listed)
            continue;
        if ((grown = hd_array_grow(*modules, cap, *n, sizeof(**modules), 4)) == NULL)
            return -ENOMEM;
        *modules = grown;
        if (((*modules)[*n] = strdup(v[i].module)) == NULL)
            return -ENOMEM;
        (*n)++;
    }
    return 0;
}

int hd_modalias_modules(struct hd_ctx *ctx, const char *modalias, char ***modules, size_t *n)
{
    const struct hd_modprobe *mp;
    const struct hd_modalias *v;
    char alias[256];
    size_t count, cap = 0;
    int r;

    *modules = NULL;
    *n = 0;
    /* kmod normalizes the alias it is given and refuses one it cannot. */
    if (modalias == NULL || strlen(modalias) >= sizeof(alias))
        return -ENOENT;
    if (!hd_alias_normalize(strcpy(alias, modalias)))
        return -ENOENT;
    /* kmod's order, the first that knows the alias answering: modprobe.d's alias lines, then
     * modules.alias, then the built-in drivers' aliases (known, in the kernel already). Its
     * other steps are for module names, symbols and install commands, which a modalias
     * ("pci:v...", with its ':') never is. */
    if ((r = hd_modprobe_get(ctx, &mp)) < 0)
        return r;
    hd_modprobe_get_aliases(mp, &v, &count);
    r = add_matches(v, count, false, alias, modules, n, &cap);
    if (r == 0 && *n == 0 && (r = modaliases_get(ctx, &v, &count)) == 0) {
        r = add_matches(v, count, false, alias, modules, n, &cap);
        if (r == 0 && *n == 0)
            r = add_matches(v, count, true, alias, modules, n, &cap);
    }
    if (r < 0) {
        hd_strv_free(*modules, *n);
        *modules = NULL;
        *n = 0;
        return r == -ENOMEM ? hd_err(ctx, r, "%s: out of memory", modalias) : r;
    }
    return *n > 0 ? 0 : -ENOENT;
}
