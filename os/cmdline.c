/* cmdline.c - the kernel command line split into parameters exactly as the kernel splits it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"

struct param {
    const char *name;  /* points into buf */
    const char *value; /* points into buf; NULL for a bare word */
};

struct invalid {
    char *param;
    char *option;
    char *why;
    char *kernel_log; /* may be NULL */
};

struct hd_cmdline {
    int refcount;
    char *buf; /* a copy of the text, cut up in place as next_arg() cuts it */
    char *names; /* a module's options: its parameters' names, "module.param" */
    struct param *params;
    size_t n_params;
    const char *init_args; /* after "--", or NULL */
    struct invalid *invalid;
    size_t n_invalid;
    struct hd_cmdline_settings settings;
};

/* The kernel's isspace(): the C locale's blanks plus 0xa0 (lib/ctype.c counts it as space). */
static bool hd_kernel_isspace(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

static char *skip_spaces(char *s)
{
    while (hd_kernel_isspace((unsigned char)*s))
        s++;
    return s;
}

/*
 * lib/cmdline.c next_arg(), rule for rule, so that odd input reads as the kernel reads it:
 * a leading quote opens a quoted word, every further quote toggles quoting, the first '=' past
 * the first character splits name from value, a quote opening the value is dropped with the
 * word's last character when that is a quote, and a word that began with a quote loses a
 * final quote. An unterminated quote runs to the end of the line.
 */
static char *next_arg(char *args, char **param, char **val)
{
    size_t i, equals = 0;
    bool in_quote = false, quoted = false;

    if (*args == '"') {
        args++;
        in_quote = true;
        quoted = true;
    }
    for (i = 0; args[i]; i++) {
        if (hd_kernel_isspace((unsigned char)args[i]) && !in_quote)
            break;
        if (equals == 0 && args[i] == '=')
            equals = i; /* an '=' at 0 leaves equals 0: the kernel's own quirk */
        if (args[i] == '"')
            in_quote = !in_quote;
    }
    *param = args;
    if (equals == 0) {
        *val = NULL;
    } else {
        args[equals] = '\0';
        *val = args + equals + 1;
        if (**val == '"') {
            (*val)++;
            if (args[i - 1] == '"')
                args[i - 1] = '\0';
        }
    }
    if (quoted && i > 0 && args[i - 1] == '"')
        args[i - 1] = '\0';
    if (args[i]) {
        args[i] = '\0';
        args += i + 1;
    } else {
        args += i;
    }
    return skip_spaces(args);
}

static void strip_trailing_spaces(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && hd_kernel_isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* kernel/params.c parse_args(): words until a bare "--". */
static int split(struct hd_cmdline *cl)
{
    char *args = skip_spaces(cl->buf);
    size_t cap = 0;

    while (*args) {
        char *param, *val;

        args = next_arg(args, &param, &val);
        if (val == NULL && strcmp(param, "--") == 0) {
            strip_trailing_spaces(args);
            cl->init_args = args;
            break;
        }
        if (param[0] == '\0')
            continue; /* `""`: the kernel hands init an empty word; no parameter has it */
        if (cl->n_params == cap) {
            struct param *grown = realloc(cl->params, (cap ? cap * 2 : 32) * sizeof(*grown));
            if (grown == NULL)
                return -ENOMEM;
            cl->params = grown;
            cap = cap ? cap * 2 : 32;
        }
        cl->params[cl->n_params].name = param;
        cl->params[cl->n_params].value = val;
        cl->n_params++;
    }
    return 0;
}

/* @module's options name their parameters without it ("ids"): each gets the command line's
 * "module.param" (vfio_pci.ids), so that one interpretation reads both. */
static int prefix_names(struct hd_cmdline *cl, const char *module)
{
    size_t size = 0, used = 0, mlen = strlen(module);

    for (size_t i = 0; i < cl->n_params; i++)
        size += mlen + 1 + strlen(cl->params[i].name) + 1;
    if (size > 0 && (cl->names = malloc(size)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < cl->n_params; i++) {
        char *name = cl->names + used;
        used += (size_t)snprintf(name, size - used, "%s.%s", module, cl->params[i].name) + 1;
        cl->params[i].name = name;
    }
    return 0;
}

/* @text split as the kernel splits it; with @module, as its options (named "module.param"). */
static int cmdline_new(const char *text, const char *module, struct hd_cmdline **out)
{
    struct hd_cmdline *cl;
    int r;

    *out = NULL;
    cl = calloc(1, sizeof(*cl));
    if (cl == NULL)
        return -ENOMEM;
    cl->refcount = 1;
    for (size_t i = 0; i < HD_CMDLINE_SETTING_COUNT; i++)
        cl->settings.value[i] = HD_TRISTATE_UNSET;
    cl->buf = strdup(text ? text : "");
    if (cl->buf == NULL) {
        hd_cmdline_unref(cl);
        return -ENOMEM;
    }
    r = split(cl);
    if (r == 0 && module != NULL)
        r = prefix_names(cl, module);
    if (r == 0)
        r = hd_cmdline_interpret(cl, &cl->settings);
    if (r < 0) {
        hd_cmdline_unref(cl);
        return r;
    }
    *out = cl;
    return 0;
}

HD_EXPORT int hd_cmdline_new_from_string(const char *text, struct hd_cmdline **out)
{
    return cmdline_new(text, NULL, out);
}

int hd_cmdline_new_from_module_options(const char *module, const char *options,
                                       struct hd_cmdline **out)
{
    return cmdline_new(options, module, out);
}

int hd_cmdline_read(struct hd_ctx *ctx, struct hd_cmdline **out)
{
    char *text;
    size_t len;
    int r;

    *out = NULL;
    r = hd_fs_read_alloc(ctx, "proc/cmdline", HD_CONFIG_MAX, &text, &len);
    if (r < 0)
        return r;
    if (memchr(text, '\0', len) != NULL)
        r = -EILSEQ; /* the kernel writes text; a NUL means this is not its command line */
    else
        r = hd_cmdline_new_from_string(text, out);
    free(text);
    return r;
}

HD_EXPORT int hd_cmdline_new_from_ctx(struct hd_ctx *ctx, struct hd_cmdline **out)
{
    int r = hd_cmdline_read(ctx, out);

    if (r == -EILSEQ)
        return hd_err(ctx, r, "proc/cmdline under %s: contains a NUL byte", hd_ctx_get_root(ctx));
    if (r < 0)
        return hd_err(ctx, r, "proc/cmdline under %s: %s", hd_ctx_get_root(ctx), strerror(-r));
    return 0;
}

HD_EXPORT struct hd_cmdline *hd_cmdline_ref(struct hd_cmdline *cl)
{
    if (cl != NULL)
        cl->refcount++;
    return cl;
}

HD_EXPORT struct hd_cmdline *hd_cmdline_unref(struct hd_cmdline *cl)
{
    if (cl == NULL || --cl->refcount > 0)
        return cl;
    for (size_t i = 0; i < cl->n_invalid; i++) {
        free(cl->invalid[i].param);
        free(cl->invalid[i].option);
        free(cl->invalid[i].why);
        free(cl->invalid[i].kernel_log);
    }
    free(cl->invalid);
    hd_cmdline_settings_free(&cl->settings);
    free(cl->params);
    free(cl->names);
    free(cl->buf);
    free(cl);
    return NULL;
}

HD_EXPORT size_t hd_cmdline_count(const struct hd_cmdline *cl)
{
    return cl->n_params;
}

HD_EXPORT const char *hd_cmdline_get_name_at(const struct hd_cmdline *cl, size_t i)
{
    return i < cl->n_params ? cl->params[i].name : NULL;
}

HD_EXPORT const char *hd_cmdline_get_value_at(const struct hd_cmdline *cl, size_t i)
{
    return i < cl->n_params ? cl->params[i].value : NULL;
}

HD_EXPORT const char *hd_cmdline_get_init_args(const struct hd_cmdline *cl)
{
    return cl->init_args;
}

/* kernel/params.c parameq(): '-' and '_' are one character in names. */
HD_EXPORT bool hd_cmdline_name_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
}

HD_EXPORT int hd_cmdline_get(const struct hd_cmdline *cl, const char *name, const char **value)
{
    for (size_t i = cl->n_params; i-- > 0;) {
        if (hd_cmdline_name_equal(cl->params[i].name, name)) {
            if (value != NULL)
                *value = cl->params[i].value;
            return 0;
        }
    }
    return -ENOENT;
}

HD_EXPORT bool hd_cmdline_has(const struct hd_cmdline *cl, const char *name)
{
    return hd_cmdline_get(cl, name, NULL) == 0;
}

HD_EXPORT int hd_cmdline_get_bool(const struct hd_cmdline *cl, const char *name, bool *value)
{
    const char *v;
    int r = hd_cmdline_get(cl, name, &v);

    if (r < 0)
        return r;
    if (v == NULL) {
        *value = true; /* param_set_bool(): a bare bool parameter means yes */
        return 0;
    }
    return hd_kstrtobool(v, value);
}

static bool list_item_matches(const char *start, size_t len, const char *item)
{
    size_t n = strlen(item);

    return len >= n && memcmp(start, item, n) == 0 && (len == n || start[n] == '=');
}

HD_EXPORT bool hd_cmdline_list_has(const struct hd_cmdline *cl, const char *name, const char *item)
{
    for (size_t i = 0; i < cl->n_params; i++) {
        const char *p = cl->params[i].value;
        if (p == NULL || !hd_cmdline_name_equal(cl->params[i].name, name))
            continue;
        while (*p) {
            size_t len = strcspn(p, ",");
            if (list_item_matches(p, len, item))
                return true;
            p += len;
            if (*p == ',')
                p++;
        }
    }
    return false;
}

HD_EXPORT enum hd_tristate hd_cmdline_get_setting(const struct hd_cmdline *cl,
                                                  enum hd_cmdline_setting setting)
{
    if ((unsigned int)setting >= HD_CMDLINE_SETTING_COUNT)
        return HD_TRISTATE_UNSET;
    return (enum hd_tristate)cl->settings.value[setting];
}

HD_EXPORT const char *hd_cmdline_setting_to_string(enum hd_cmdline_setting setting)
{
    static const char *const names[HD_CMDLINE_SETTING_COUNT] = {
        [HD_CMDLINE_INTEL_IOMMU] = "intel_iommu",
        [HD_CMDLINE_INTEL_IOMMU_IGFX_OFF] = "intel_iommu_igfx_off",
        [HD_CMDLINE_INTEL_IOMMU_SM] = "intel_iommu_sm",
        [HD_CMDLINE_AMD_IOMMU] = "amd_iommu",
        [HD_CMDLINE_IOMMU_OFF] = "iommu_off",
        [HD_CMDLINE_IOMMU_FORCE] = "iommu_force",
        [HD_CMDLINE_IOMMU_PASSTHROUGH] = "iommu_passthrough",
        [HD_CMDLINE_IOMMU_STRICT] = "iommu_strict",
        [HD_CMDLINE_INTREMAP] = "intremap",
        [HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS] = "allow_unsafe_interrupts",
        [HD_CMDLINE_NOIOMMU_MODE] = "noiommu_mode",
        [HD_CMDLINE_PCI_REALLOC] = "pci_realloc",
    };
    return (unsigned int)setting < HD_CMDLINE_SETTING_COUNT ? names[setting] : NULL;
}

int hd_cmdline_add_invalid(struct hd_cmdline *cl, const char *param, const char *option,
                           const char *why, const char *kernel_log)
{
    struct invalid *grown = realloc(cl->invalid, (cl->n_invalid + 1) * sizeof(*grown));
    struct invalid *it;

    if (grown == NULL)
        return -ENOMEM;
    cl->invalid = grown;
    it = &cl->invalid[cl->n_invalid];
    it->param = strdup(param);
    it->option = strdup(option);
    it->why = strdup(why);
    it->kernel_log = hd_strdup_or_null(kernel_log);
    if (it->param == NULL || it->option == NULL || it->why == NULL ||
        (kernel_log != NULL && it->kernel_log == NULL)) {
        free(it->param);
        free(it->option);
        free(it->why);
        free(it->kernel_log);
        return -ENOMEM;
    }
    cl->n_invalid++;
    return 0;
}

HD_EXPORT size_t hd_cmdline_get_invalid_count(const struct hd_cmdline *cl)
{
    return cl->n_invalid;
}

HD_EXPORT int hd_cmdline_get_invalid(const struct hd_cmdline *cl, size_t i, const char **param,
                                     const char **option, const char **why, const char **kernel_log)
{
    if (i >= cl->n_invalid)
        return -ERANGE;
    if (param != NULL)
        *param = cl->invalid[i].param;
    if (option != NULL)
        *option = cl->invalid[i].option;
    if (why != NULL)
        *why = cl->invalid[i].why;
    if (kernel_log != NULL)
        *kernel_log = cl->invalid[i].kernel_log;
    return 0;
}

HD_EXPORT size_t hd_cmdline_get_vfio_pci_id_count(const struct hd_cmdline *cl)
{
    return cl->settings.n_ids;
}

HD_EXPORT int hd_cmdline_get_vfio_pci_id(const struct hd_cmdline *cl, size_t i,
                                         struct hd_pci_id_match *match)
{
    if (i >= cl->settings.n_ids)
        return -ERANGE;
    *match = cl->settings.ids[i];
    return 0;
}
