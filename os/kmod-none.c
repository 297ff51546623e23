/* kmod-none.c - the libc-only twin of kmod.c (HOSTDEV_NO_KMOD=1, the static binary): a
 * missing driver is loaded by running modprobe (busybox has one in an initramfs), and only on
 * the host itself; a modalias resolves to its modules as kmod_module_new_from_lookup()
 * resolves it, on the aliases modprobe.c and modalias.c read. */
#include <stdlib.h>
#include <string.h>

#include "os.h"

int hd_module_insert(struct hd_ctx *ctx, const char *module)
{
    (void)ctx;
    return hd_module_run_modprobe(module);
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

int hd_modules_for_modalias(struct hd_ctx *ctx, const char *modalias, char ***modules,
                            size_t *n)
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
    if (r == 0 && *n == 0 && (r = hd_modaliases_get(ctx, &v, &count)) == 0) {
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
