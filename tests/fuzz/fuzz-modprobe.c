/* fuzz-modprobe.c - fuzz target: a modprobe.d file as os/modprobe.c reads it (logical lines,
 * `options`, `blacklist` and `alias`), its options parsed and interpreted as the kernel's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "fuzz.h"

/* Modules the seeds name, each written both ways where '-' and '_' differ. */
static const char *const modules[][2] = {
    {"vfio", "vfio"}, {"vfio_pci", "vfio-pci"}, {"pci_stub", "pci-stub"}, {"e1000e", "e1000e"}};

/* Every byte a module's options hold, interpreted as the boot's readers interpret them. */
static size_t touch(const struct hd_cmdline *cl)
{
    size_t sink = 0;

    for (size_t i = 0; i < hd_cmdline_count(cl); i++) {
        const char *value = hd_cmdline_get_value_at(cl, i);
        sink += strlen(hd_cmdline_get_name_at(cl, i)) + (value ? strlen(value) : 0);
    }
    for (int i = 0; i < HD_CMDLINE_SETTING_COUNT; i++)
        sink += (size_t)hd_cmdline_get_setting(cl, (enum hd_cmdline_setting)i);
    for (size_t i = 0; i < hd_cmdline_get_vfio_pci_id_count(cl); i++) {
        struct hd_pci_id_match m;
        if (hd_cmdline_get_vfio_pci_id(cl, i, &m) == 0)
            sink += m.vendor;
    }
    for (size_t i = 0; i < hd_cmdline_get_invalid_count(cl); i++) {
        const char *param, *option, *why, *log;
        if (hd_cmdline_get_invalid(cl, i, &param, &option, &why, &log) == 0)
            sink += strlen(param) + strlen(option) + strlen(why) + (log ? strlen(log) : 0);
    }
    return sink;
}

/* @mp's answers for @module do not depend on how it is spelled, and every option is named
 * "MODULE.param", as the kernel names a module's parameters on the command line. */
static size_t check(const struct hd_modprobe *mp, const char *const module[2])
{
    const struct hd_cmdline *cl = hd_modprobe_get_options(mp, module[0]);
    size_t len = strlen(module[0]);

    if (cl != hd_modprobe_get_options(mp, module[1]) ||
        hd_modprobe_is_blacklisted(mp, module[0]) != hd_modprobe_is_blacklisted(mp, module[1])) {
        fprintf(stderr, "'%s' and '%s' answered apart\n", module[0], module[1]);
        abort();
    }
    for (size_t i = 0; cl != NULL && i < hd_cmdline_count(cl); i++) {
        const char *name = hd_cmdline_get_name_at(cl, i);
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "%.*s", (int)len, name);
        if (!hd_cmdline_name_equal(prefix, module[0]) || name[len] != '.') {
            fprintf(stderr, "option '%s' of %s is not named after it\n", name, module[0]);
            abort();
        }
    }
    return cl != NULL ? touch(cl) : 0;
}

/* Each of @mp's aliases is kept normalized (normalizing it again changes nothing); their
 * bytes counted. */
static size_t check_aliases(const struct hd_modprobe *mp)
{
    const struct hd_modalias *v;
    size_t n, sink = 0;

    hd_modprobe_get_aliases(mp, &v, &n);
    for (size_t i = 0; i < n; i++) {
        const char *words[2] = {v[i].pattern, v[i].module};
        for (size_t w = 0; w < 2; w++) {
            char *again = strdup(words[w]);
            if (again != NULL && (!hd_alias_normalize(again) || strcmp(again, words[w]) != 0)) {
                fprintf(stderr, "alias word '%s' is not normalized\n", words[w]);
                abort();
            }
            sink += strlen(words[w]);
            free(again);
        }
    }
    return sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hd_modprobe *once, *twice;
    size_t sink = 0;

    if (hd_modprobe_new(&once) < 0)
        return 0;
    if (hd_modprobe_new(&twice) < 0) {
        hd_modprobe_free(once);
        return 0;
    }
    /* The reader takes a length: no NUL, so that ASan sees any read past the end. The same
     * file twice (two directories' files of other names) adds to what the first gave. */
    if (hd_modprobe_parse_file(once, (const char *)data, size) == 0 &&
        hd_modprobe_parse_file(twice, (const char *)data, size) == 0 &&
        hd_modprobe_parse_file(twice, (const char *)data, size) == 0) {
        const struct hd_modalias *v;
        size_t n_once, n_twice;
        hd_modprobe_get_aliases(once, &v, &n_once);
        hd_modprobe_get_aliases(twice, &v, &n_twice);
        if (n_twice != 2 * n_once) {
            fprintf(stderr, "%zu aliases in one file, %zu in two\n", n_once, n_twice);
            abort();
        }
        sink += check_aliases(once);
        for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
            sink += check(once, modules[i]) + check(twice, modules[i]);
            if ((hd_modprobe_get_options(once, modules[i][0]) == NULL) !=
                (hd_modprobe_get_options(twice, modules[i][0]) == NULL)) {
                fprintf(stderr, "%s: options in one file, not in two\n", modules[i][0]);
                abort();
            }
        }
    }
    hd_modprobe_free(twice);
    hd_modprobe_free(once);
    fuzz_sink = sink; /* keep the reads */
    return 0;
}
