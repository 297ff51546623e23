/* kmod.c - modules through libkmod: is a driver's module blacklisted, load it, and which
 * module a device's modalias resolves to. Lookups under a fake root read its own modprobe.d
 * and modules directory; only the host itself ever gets a module inserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>

#include "internal.h"

static struct kmod_ctx *kmod_for(struct hd_ctx *ctx)
{
    char release[128] = "unknown", *dir = NULL, *cfg0 = NULL, *cfg1 = NULL;
    struct kmod_ctx *k;

    if (ctx->root_is_host)
        return kmod_new(NULL, NULL);
    if (hd_fs_read_attr(ctx, "proc/sys/kernel/osrelease", release, sizeof(release)) < 0 ||
        !hd_name_valid(release))
        snprintf(release, sizeof(release), "unknown");
    if (asprintf(&dir, "%s/lib/modules/%s", ctx->root, release) < 0)
        dir = NULL;
    if (asprintf(&cfg0, "%s/etc/modprobe.d", ctx->root) < 0)
        cfg0 = NULL;
    if (asprintf(&cfg1, "%s/lib/modprobe.d", ctx->root) < 0)
        cfg1 = NULL;
    const char *cfg[] = {cfg0, cfg1, NULL};
    k = dir && cfg0 && cfg1 ? kmod_new(dir, cfg) : NULL;
    free(dir);
    free(cfg0);
    free(cfg1);
    return k;
}

/* Module names treat '-' and '_' alike. */
static bool same_module(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

/* From the configuration itself, so it works under a fake root without a modules index. */
static bool is_blacklisted(struct kmod_ctx *k, const char *module)
{
    struct kmod_config_iter *it = kmod_config_get_blacklists(k);
    bool found = false;

    while (it != NULL && !found && kmod_config_iter_next(it))
        found = same_module(kmod_config_iter_get_key(it), module);
    kmod_config_iter_free_iter(it);
    return found;
}

int hd_module_blacklisted(struct hd_ctx *ctx, const char *module)
{
    struct kmod_ctx *k = kmod_for(ctx);
    int r;

    if (k == NULL)
        return 0;
    r = is_blacklisted(k, module) ? 1 : 0;
    kmod_unref(k);
    return r;
}

int hd_module_insert(struct hd_ctx *ctx, const char *module)
{
    struct kmod_module *mod = NULL;
    struct kmod_ctx *k = kmod_for(ctx);
    int r;

    if (k == NULL)
        return -ENOMEM;
    r = kmod_module_new_from_name(k, module, &mod);
    if (r == 0)
        r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
    kmod_module_unref(mod);
    kmod_unref(k);
    return r;
}

int hd_module_for_modalias(struct hd_ctx *ctx, const char *modalias, char **module)
{
    struct kmod_list *list = NULL;
    struct kmod_ctx *k;
    int r;

    *module = NULL;
    if (modalias == NULL)
        return -ENOENT;
    k = kmod_for(ctx);
    if (k == NULL)
        return -ENOMEM;
    r = kmod_module_new_from_lookup(k, modalias, &list);
    if (r >= 0 && list != NULL) {
        struct kmod_module *mod = kmod_module_get_module(list);
        const char *name = kmod_module_get_name(mod);
        *module = name ? strdup(name) : NULL;
        kmod_module_unref(mod);
    }
    kmod_module_unref_list(list);
    kmod_unref(k);
    return *module ? 0 : -ENOENT;
}
