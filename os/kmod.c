/* kmod.c - modules through libkmod: load a driver's module, and which module a device's
 * modalias resolves to (the blacklist is modprobe.c's, in either build). Lookups under a fake
 * root read its own modprobe.d and modules directory; only the host itself ever gets a module
 * inserted. libkmod is opened when a module question comes up (dl.h); without it a module is
 * loaded by running modprobe and a modalias resolves on the text files (modalias.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>

#include "os.h"

/* The libkmod functions used here, typed from its header. */
struct kmod_api {
    void *dl;
    __typeof__(kmod_new) *new_ctx;
    __typeof__(kmod_unref) *unref;
    __typeof__(kmod_module_new_from_name) *from_name;
    __typeof__(kmod_module_new_from_lookup) *from_lookup;
    __typeof__(kmod_module_probe_insert_module) *probe_insert;
    __typeof__(kmod_module_get_module) *list_module;
    __typeof__(kmod_list_next) *list_next;
    __typeof__(kmod_module_get_name) *name;
    __typeof__(kmod_module_unref) *mod_unref;
    __typeof__(kmod_module_unref_list) *unref_list;
};

static const struct hd_dl_sym kmod_syms[] = {
    HD_DL_SYM(struct kmod_api, new_ctx, kmod_new),
    HD_DL_SYM(struct kmod_api, unref, kmod_unref),
    HD_DL_SYM(struct kmod_api, from_name, kmod_module_new_from_name),
    HD_DL_SYM(struct kmod_api, from_lookup, kmod_module_new_from_lookup),
    HD_DL_SYM(struct kmod_api, probe_insert, kmod_module_probe_insert_module),
    HD_DL_SYM(struct kmod_api, list_module, kmod_module_get_module),
    HD_DL_SYM(struct kmod_api, list_next, kmod_list_next),
    HD_DL_SYM(struct kmod_api, name, kmod_module_get_name),
    HD_DL_SYM(struct kmod_api, mod_unref, kmod_module_unref),
    HD_DL_SYM(struct kmod_api, unref_list, kmod_module_unref_list),
};

/* Opens libkmod into @api; false (and a debug line saying why) when it is not there. */
static bool kmod_load(struct hd_ctx *ctx, struct kmod_api *api)
{
    char why[256];

    api->dl =
        hd_dl_open("libkmod.so.2", kmod_syms, HD_ARRAY_SIZE(kmod_syms), api, why, sizeof(why));
    if (api->dl == NULL)
        hd_dbg(ctx, "no libkmod (%s): modprobe.d and modules.alias are read as text", why);
    return api->dl != NULL;
}

/* A libkmod context for the root: the host's own defaults, or under another root its modules
 * directory and modprobe.c's modprobe.d directories (its alias lines are libkmod's to read). */
static struct kmod_ctx *kmod_for(struct hd_ctx *ctx, const struct kmod_api *api)
{
    char release[128] = "unknown", *dir = NULL, *cfg[8] = {0};
    const char *root = hd_ctx_get_root(ctx), *d;
    struct kmod_ctx *k = NULL;
    bool ok;

    if (hd_ctx_root_is_host(ctx))
        return api->new_ctx(NULL, NULL);
    if (hd_fs_read_attr(ctx, "proc/sys/kernel/osrelease", release, sizeof(release)) < 0 ||
        !hd_name_valid(release))
        snprintf(release, sizeof(release), "unknown");
    if (!(ok = asprintf(&dir, "%s/lib/modules/%s", root, release) >= 0))
        dir = NULL;
    /* cfg keeps its last NULL: the list's end for libkmod. */
    for (size_t i = 0; ok && (d = hd_modprobe_dir(i)) != NULL; i++) {
        if (!(ok = i + 1 < HD_ARRAY_SIZE(cfg) && asprintf(&cfg[i], "%s/%s", root, d) >= 0))
            cfg[i] = NULL;
    }
    if (ok)
        k = api->new_ctx(dir, (const char *const *)cfg);
    free(dir);
    for (size_t i = 0; i < HD_ARRAY_SIZE(cfg); i++)
        free(cfg[i]);
    return k;
}

int hd_module_insert(struct hd_ctx *ctx, const char *module)
{
    struct kmod_module *mod = NULL;
    struct kmod_api api;
    struct kmod_ctx *k;
    int r;

    if (!kmod_load(ctx, &api))
        return hd_module_run_modprobe(module);
    if ((k = kmod_for(ctx, &api)) == NULL) {
        hd_dl_close(api.dl);
        return -ENOMEM;
    }
    r = api.from_name(k, module, &mod);
    if (r == 0)
        r = api.probe_insert(mod, 0, NULL, NULL, NULL, NULL);
    api.mod_unref(mod);
    api.unref(k);
    hd_dl_close(api.dl);
    return r;
}

int hd_modules_for_modalias(struct hd_ctx *ctx, const char *modalias, char ***modules,
                            size_t *n)
{
    struct kmod_list *list = NULL, *l;
    struct kmod_api api;
    struct kmod_ctx *k;
    size_t count = 0;
    int r;

    *modules = NULL;
    *n = 0;
    if (modalias == NULL)
        return -ENOENT; /* the kernel picks the driver then */
    /* A host without libkmod (a minimal image of the dynamic build): the text files, which
     * depmod writes beside the index it reads. */
    if (!kmod_load(ctx, &api))
        return hd_modalias_modules(ctx, modalias, modules, n);
    if ((k = kmod_for(ctx, &api)) == NULL) {
        hd_dl_close(api.dl);
        return -ENOMEM;
    }
    r = api.from_lookup(k, modalias, &list);
    for (l = r >= 0 ? list : NULL; l != NULL; l = api.list_next(list, l))
        count++;
    if (count > 0 && (*modules = calloc(count, sizeof(**modules))) == NULL)
        r = -ENOMEM;
    for (l = r >= 0 ? list : NULL; l != NULL && r >= 0; l = api.list_next(list, l)) {
        struct kmod_module *mod = api.list_module(l);
        const char *name = api.name(mod);
        if (name != NULL && ((*modules)[*n] = strdup(name)) != NULL)
            (*n)++;
        else if (name != NULL)
            r = -ENOMEM;
        api.mod_unref(mod);
    }
    api.unref_list(list);
    api.unref(k);
    hd_dl_close(api.dl);
    if (r == -ENOMEM) {
        hd_strv_free(*modules, *n);
        *modules = NULL;
        *n = 0;
        return r;
    }
    return *n > 0 ? 0 : -ENOENT;
}
