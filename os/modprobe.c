/* modprobe.c - modprobe.d as kmod reads it (libkmod-config.c): the options modprobe gives a
 * module as it loads it (vfio's enable_unsafe_noiommu_mode, vfio-pci's ids), the modules it
 * will not load by alias (blacklist) and the aliases it looks up first (alias). Read once per
 * context, under its root, and kept on it until its next operation begins (gateway.h,
 * hd_ctx_op_begin()): the one reader of modprobe.d, with libkmod or without. */
#include <stdlib.h>
#include <string.h>

#include "os.h"

/* kmod's configuration directories, in its order: of files with the same name, the first
 * directory's is read (one in etc/ overrides lib/'s, or masks it as a link to /dev/null).
 * libkmod is handed the same under another root (kmod.c, hd_modprobe_dir()). */
static const char *const dirs[] = {
    "etc/modprobe.d",     "run/modprobe.d", "usr/local/lib/modprobe.d",
    "usr/lib/modprobe.d", "lib/modprobe.d",
};

/* Every options line of one module, in the order modprobe passes them. */
struct module_options {
    char *module;              /* as the first line wrote it; '-' and '_' are the same */
    char *text;                /* the lines' options, joined by spaces */
    struct hd_cmdline *params; /* the text as the kernel parses it, "module.param" names */
    bool changed;              /* text grew since params were made */
};

struct hd_modprobe {
    struct module_options *v;
    size_t n;
    char **blacklist; /* `blacklist MODULE` lines' modules, as written */
    size_t n_blacklist;
    struct hd_modalias *aliases; /* `alias` lines: pattern and module in one allocation */
    size_t n_aliases, cap_aliases;
};

const char *hd_modprobe_dir(size_t i)
{
    return i < HD_ARRAY_SIZE(dirs) ? dirs[i] : NULL;
}

void hd_modprobe_free(struct hd_modprobe *mp)
{
    for (size_t i = 0; mp != NULL && i < mp->n; i++) {
        free(mp->v[i].module);
        free(mp->v[i].text);
        hd_cmdline_unref(mp->v[i].params);
    }
    if (mp != NULL) {
        free(mp->v);
        hd_strv_free(mp->blacklist, mp->n_blacklist);
        for (size_t i = 0; i < mp->n_aliases; i++)
            free((char *)mp->aliases[i].pattern);
        free(mp->aliases);
    }
    free(mp);
}

static struct module_options *find(const struct hd_modprobe *mp, const char *module)
{
    for (size_t i = 0; i < mp->n; i++) {
        if (hd_cmdline_name_equal(mp->v[i].module, module))
            return &mp->v[i];
    }
    return NULL;
}

/* kmod_module_get_options(): a module's lines joined by a space, in the files' order. */
static int add_options(struct hd_modprobe *mp, const char *module, const char *options)
{
    struct module_options *m = find(mp, module);
    char *text;

    if (m != NULL) {
        size_t had = strlen(m->text), more = strlen(options);
        if ((text = realloc(m->text, had + 1 + more + 1)) == NULL)
            return -ENOMEM;
        text[had] = ' ';
        memcpy(text + had + 1, options, more + 1);
        m->text = text;
        m->changed = true;
        return 0;
    }
    m = realloc(mp->v, (mp->n + 1) * sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    mp->v = m;
    m = &mp->v[mp->n];
    *m = (struct module_options){
        .module = strdup(module), .text = strdup(options), .changed = true};
    mp->n++;
    return m->module != NULL && m->text != NULL ? 0 : -ENOMEM;
}

static int add_blacklist(struct hd_modprobe *mp, const char *module)
{
    char **v = realloc(mp->blacklist, (mp->n_blacklist + 1) * sizeof(*v));

    if (v == NULL)
        return -ENOMEM;
    mp->blacklist = v;
    if ((v[mp->n_blacklist] = strdup(module)) == NULL)
        return -ENOMEM;
    mp->n_blacklist++;
    return 0;
}

/* kmod_config_add_alias() after underscores(): both words normalized; a line whose pattern
 * or module has a stray bracket is a bad line, skipped. */
static int add_alias(struct hd_modprobe *mp, const char *pattern, const char *module)
{
    size_t plen = strlen(pattern) + 1;
    struct hd_modalias *v;
    char *text;

    if ((text = malloc(plen + strlen(module) + 1)) == NULL)
        return -ENOMEM;
    memcpy(text, pattern, plen);
    strcpy(text + plen, module);
    if (!hd_alias_normalize(text) || !hd_alias_normalize(text + plen)) {
        free(text);
        return 0;
    }
    v = hd_array_grow(mp->aliases, &mp->cap_aliases, mp->n_aliases, sizeof(*v), 4);
    if (v == NULL) {
        free(text);
        return -ENOMEM;
    }
    mp->aliases = v;
    v[mp->n_aliases++] = (struct hd_modalias){.pattern = text, .module = text + plen};
    return 0;
}

/* strtok_r(.., "\t ", ..): the next blank-separated word of *@rest, NULL when none. */
static char *next_word(char **rest)
{
    char *word = *rest + strspn(*rest, "\t "), *end;

    if (*word == '\0') {
        *rest = word;
        return NULL;
    }
    end = word + strcspn(word, "\t ");
    if (*end != '\0')
        *end++ = '\0';
    *rest = end;
    return word;
}

/* kmod_config_parse() of one logical line: `options MODULE OPTIONS...`, `blacklist MODULE`
 * and `alias PATTERN MODULE` (words after them ignored, as kmod ignores them) are kept; a
 * comment ('#' first on the line), another command, or a line without its words is skipped,
 * as kmod skips what it cannot use (it logs "ignoring bad line" and goes on). */
static int parse_line(struct hd_modprobe *mp, char *line)
{
    char *rest = line, *command, *module;

    if (line[0] == '#' || (command = next_word(&rest)) == NULL ||
        (module = next_word(&rest)) == NULL)
        return 0;
    if (strcmp(command, "blacklist") == 0)
        return add_blacklist(mp, module);
    if (strcmp(command, "alias") == 0) { /* "module" is the pattern here */
        const char *target = next_word(&rest);
        return target != NULL ? add_alias(mp, module, target) : 0;
    }
    if (strcmp(command, "options") != 0 || *rest == '\0')
        return 0;
    for (char *p = rest; *p; p++) {
        if (*p == '\t')
            *p = ' '; /* kmod_config_add_options() */
    }
    return add_options(mp, module, rest);
}

/* One file's text in logical lines, as kmod's freadline_wrapped() reads them: a backslash
 * before a newline joins the next line, before another character keeps that character alone,
 * at the very end is dropped. */
static int parse_lines(struct hd_modprobe *mp, const char *text, size_t len)
{
    char *line = malloc(len + 1);
    size_t i = 0;
    int r = 0;

    if (line == NULL)
        return -ENOMEM;
    while (i < len && r == 0) {
        size_t n = 0;
        for (; i < len && text[i] != '\n'; i++) {
            if (text[i] == '\\' && ++i >= len)
                break;
            if (text[i] == '\n')
                continue; /* after a backslash: the line goes on */
            line[n++] = text[i];
        }
        i++;
        line[n] = '\0'; /* a NUL byte in the line ends it, as it ends kmod's string */
        r = parse_line(mp, line);
    }
    free(line);
    return r;
}

int hd_modprobe_parse_file(struct hd_modprobe *mp, const char *text, size_t len)
{
    int r = parse_lines(mp, text, len);

    /* The options as the kernel will parse them, remade for the modules this file added to
     * (each file once, not each line: a module's text is parsed whole). */
    for (size_t i = 0; i < mp->n && r == 0; i++) {
        struct module_options *m = &mp->v[i];
        struct hd_cmdline *params;
        if (!m->changed)
            continue;
        r = hd_cmdline_new_from_module_options(m->module, m->text, &params);
        if (r == 0) {
            hd_cmdline_unref(m->params);
            m->params = params;
            m->changed = false;
        }
    }
    return r;
}

/* A configuration file: its name and the directory (index in dirs[]) it is in. */
struct conf_file {
    const char *name;
    size_t dir;
};

static int by_name_then_dir(const void *a, const void *b)
{
    const struct conf_file *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : (x->dir > y->dir) - (x->dir < y->dir);
}

/* conf_files_filter_out(): NAME.conf or NAME.alias, not hidden. */
static bool is_conf_name(const char *name)
{
    size_t len = strlen(name);

    return name[0] != '.' && len >= 6 &&
           (strcmp(name + len - 5, ".conf") == 0 || strcmp(name + len - 6, ".alias") == 0);
}

/* Read @files (sorted by name, then directory) in kmod's order: by name, the first
 * directory's of each. A directory by that name is no file (kmod lists none), so the next
 * directory's counts; any other file that cannot be read is skipped, as kmod skips it. */
static int read_files(struct hd_ctx *ctx, struct hd_modprobe *mp, const struct conf_file *files,
                      size_t n)
{
    char path[HD_PATH_MAX], *text;
    size_t len, next;
    int r = 0;

    for (size_t i = 0; i < n && r == 0; i = next) {
        for (next = i; next < n && strcmp(files[next].name, files[i].name) == 0; next++)
            ;
        for (size_t k = i; k < next; k++) {
            int e = hd_path(path, sizeof(path), "%s/%s", dirs[files[k].dir], files[k].name);
            if (e == 0)
                e = hd_fs_read_config(ctx, path, HD_CONFIG_MAX, &text, &len);
            if (e == -EISDIR)
                continue;
            if (e == 0) {
                r = hd_modprobe_parse_file(mp, text, len);
                free(text);
            } else if (e == -ENOMEM) {
                r = e;
            }
            break;
        }
    }
    return r;
}

/* Every configuration file of the directories, sorted by name, then directory, into *@files;
 * a directory that cannot be listed (absent) has none, as kmod skips it. */
static int list_files(struct hd_ctx *ctx, char **names[], size_t counts[],
                      struct conf_file **files, size_t *n)
{
    size_t total = 0;

    *files = NULL;
    *n = 0;
    for (size_t d = 0; d < HD_ARRAY_SIZE(dirs); d++) {
        int r = hd_fs_list_dir(ctx, dirs[d], &names[d], &counts[d]);
        if (r == -ENOMEM)
            return r;
        if (r < 0) {
            names[d] = NULL;
            counts[d] = 0;
        }
        total += counts[d];
    }
    if (total == 0)
        return 0;
    if ((*files = calloc(total, sizeof(**files))) == NULL)
        return -ENOMEM;
    for (size_t d = 0; d < HD_ARRAY_SIZE(dirs); d++) {
        for (size_t k = 0; k < counts[d]; k++) {
            if (is_conf_name(names[d][k]))
                (*files)[(*n)++] = (struct conf_file){.name = names[d][k], .dir = d};
        }
    }
    qsort(*files, *n, sizeof(**files), by_name_then_dir);
    return 0;
}

int hd_modprobe_new(struct hd_modprobe **mp)
{
    *mp = calloc(1, sizeof(**mp));
    return *mp != NULL ? 0 : -ENOMEM;
}

int hd_modprobe_get(struct hd_ctx *ctx, const struct hd_modprobe **out)
{
    struct hd_modprobe *mp = hd_ctx_get_modprobe(ctx);
    char **names[HD_ARRAY_SIZE(dirs)] = {0};
    size_t counts[HD_ARRAY_SIZE(dirs)] = {0}, n = 0;
    struct conf_file *files = NULL;
    int r;

    *out = mp;
    if (mp != NULL)
        return 0;
    if ((r = hd_modprobe_new(&mp)) < 0)
        return hd_err(ctx, r, "modprobe.d under %s: out of memory", hd_ctx_get_root(ctx));
    r = list_files(ctx, names, counts, &files, &n);
    if (r == 0)
        r = read_files(ctx, mp, files, n);
    free(files);
    for (size_t d = 0; d < HD_ARRAY_SIZE(dirs); d++)
        hd_strv_free(names[d], counts[d]);
    if (r < 0) {
        hd_modprobe_free(mp);
        return hd_err(ctx, r, "modprobe.d under %s: %s", hd_ctx_get_root(ctx), strerror(-r));
    }
    hd_ctx_set_modprobe(ctx, mp, hd_modprobe_free); /* the context knows nothing of it */
    *out = mp;
    return 0;
}

const struct hd_cmdline *hd_modprobe_get_options(const struct hd_modprobe *mp, const char *module)
{
    const struct module_options *m = find(mp, module);

    return m != NULL ? m->params : NULL;
}

void hd_modprobe_get_aliases(const struct hd_modprobe *mp, const struct hd_modalias **aliases,
                             size_t *n)
{
    *aliases = mp->aliases;
    *n = mp->n_aliases;
}

bool hd_modprobe_is_blacklisted(const struct hd_modprobe *mp, const char *module)
{
    for (size_t i = 0; i < mp->n_blacklist; i++) {
        if (hd_cmdline_name_equal(mp->blacklist[i], module)) /* '-' is '_' */
            return true;
    }
    return false;
}

const struct hd_cmdline *hd_modprobe_param_source(struct hd_ctx *ctx,
                                                  const struct hd_cmdline *cmdline,
                                                  const char *param)
{
    const char *dot = strchr(param, '.');
    const struct hd_cmdline *options;
    const struct hd_modprobe *mp;
    struct hd_saved_error saved;
    char module[64];
    int r;

    /* kmod appends the command line's options to modprobe.d's: the kernel takes them last.
     * One it rejects fails the load (parse_args()), so the line's value rules even then. */
    if (cmdline != NULL && hd_cmdline_has(cmdline, param))
        return cmdline;
    if (dot == NULL || (size_t)(dot - param) >= sizeof(module))
        return NULL;
    memcpy(module, param, (size_t)(dot - param));
    module[dot - param] = '\0';
    hd_saved_error_save(ctx, &saved, 0);
    r = hd_modprobe_get(ctx, &mp);
    hd_saved_error_put_back(ctx, &saved); /* unread (no memory): nothing known from there */
    if (r < 0)
        return NULL;
    options = hd_modprobe_get_options(mp, module);
    return options != NULL && hd_cmdline_has(options, param) ? options : NULL;
}
