/* options.c - what the IOMMU and VFIO parameters on the command line make the kernel do. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"

#define NO_SETTING HD_CMDLINE_SETTING_COUNT

/* One option word of a comma list, as the kernel's strncmp() chains test it: a prefix match
 * (so "offline" is "off"), setting @setting to @value, or nothing we track (NO_SETTING). */
struct keyword {
    const char *word;
    enum hd_cmdline_setting setting;
    enum hd_tristate value;
};

/* drivers/iommu/intel/iommu.c intel_iommu_setup(): an else-if chain, first match wins. */
static const struct keyword intel_words[] = {
    {"on", HD_CMDLINE_INTEL_IOMMU, HD_TRISTATE_YES},
    {"off", HD_CMDLINE_INTEL_IOMMU, HD_TRISTATE_NO},
    {"igfx_off", HD_CMDLINE_INTEL_IOMMU_IGFX_OFF, HD_TRISTATE_YES},
    {"forcedac", NO_SETTING, HD_TRISTATE_UNSET},
    {"strict", HD_CMDLINE_IOMMU_STRICT, HD_TRISTATE_YES},
    {"sp_off", NO_SETTING, HD_TRISTATE_UNSET},
    {"sm_on", HD_CMDLINE_INTEL_IOMMU_SM, HD_TRISTATE_YES},
    {"sm_off", HD_CMDLINE_INTEL_IOMMU_SM, HD_TRISTATE_NO},
    {"tboot_noforce", NO_SETTING, HD_TRISTATE_UNSET},
};

/* drivers/iommu/amd/init.c parse_amd_iommu_options(): first match wins; there is no "on". */
static const struct keyword amd_words[] = {
    {"fullflush", HD_CMDLINE_IOMMU_STRICT, HD_TRISTATE_YES},
    {"force_enable", HD_CMDLINE_AMD_IOMMU, HD_TRISTATE_YES},
    {"off", HD_CMDLINE_AMD_IOMMU, HD_TRISTATE_NO},
    {"force_isolation", NO_SETTING, HD_TRISTATE_UNSET},
    {"pgtbl_v1", NO_SETTING, HD_TRISTATE_UNSET},
    {"pgtbl_v2", NO_SETTING, HD_TRISTATE_UNSET},
    {"irtcachedis", NO_SETTING, HD_TRISTATE_UNSET},
    {"nohugepages", NO_SETTING, HD_TRISTATE_UNSET},
    {"v2_pgsizes_only", NO_SETTING, HD_TRISTATE_UNSET},
};

/* arch/x86/kernel/pci-dma.c iommu_setup() and amd_gart_64.c gart_parse_options(): NOT a
 * chain: every word that matches applies ("forcesac" is also "force"). */
static const struct keyword iommu_words[] = {
    {"off", HD_CMDLINE_IOMMU_OFF, HD_TRISTATE_YES},
    {"force", HD_CMDLINE_IOMMU_FORCE, HD_TRISTATE_YES},
    {"noforce", HD_CMDLINE_IOMMU_FORCE, HD_TRISTATE_NO},
    {"biomerge", HD_CMDLINE_IOMMU_FORCE, HD_TRISTATE_YES},
    {"panic", NO_SETTING, HD_TRISTATE_UNSET},
    {"nopanic", NO_SETTING, HD_TRISTATE_UNSET},
    {"merge", HD_CMDLINE_IOMMU_FORCE, HD_TRISTATE_YES},
    {"nomerge", NO_SETTING, HD_TRISTATE_UNSET},
    {"forcesac", NO_SETTING, HD_TRISTATE_UNSET},
    {"allowdac", NO_SETTING, HD_TRISTATE_UNSET},
    {"nodac", NO_SETTING, HD_TRISTATE_UNSET},
    {"usedac", NO_SETTING, HD_TRISTATE_UNSET}, /* ends the list: see apply_all() */
    {"soft", NO_SETTING, HD_TRISTATE_UNSET},
    {"pt", HD_CMDLINE_IOMMU_PASSTHROUGH, HD_TRISTATE_YES},
    {"nopt", HD_CMDLINE_IOMMU_PASSTHROUGH, HD_TRISTATE_NO},
    {"fullflush", NO_SETTING, HD_TRISTATE_UNSET},
    {"nofullflush", NO_SETTING, HD_TRISTATE_UNSET},
    {"noagp", NO_SETTING, HD_TRISTATE_UNSET},
    {"noaperture", NO_SETTING, HD_TRISTATE_UNSET},
    {"allowed", NO_SETTING, HD_TRISTATE_UNSET},
    {"memaper", NO_SETTING, HD_TRISTATE_UNSET},
};

/* drivers/iommu/irq_remapping.c setup_irqremap(): a chain. */
static const struct keyword intremap_words[] = {
    {"on", HD_CMDLINE_INTREMAP, HD_TRISTATE_YES},
    {"off", HD_CMDLINE_INTREMAP, HD_TRISTATE_NO},
    {"nosid", NO_SETTING, HD_TRISTATE_UNSET},
    {"no_x2apic_optout", NO_SETTING, HD_TRISTATE_UNSET},
    {"nopost", NO_SETTING, HD_TRISTATE_UNSET},
    {"posted_msi", NO_SETTING, HD_TRISTATE_UNSET},
};

struct interp {
    struct hd_cmdline *cl;
    struct hd_cmdline_settings *s;
};

static void set(struct interp *in, enum hd_cmdline_setting setting, enum hd_tristate value)
{
    if (setting != NO_SETTING)
        in->s->value[setting] = (signed char)value;
}

static int invalid(struct interp *in, const char *param, const char *option, const char *log,
                   const char *why_fmt, ...) HD_PRINTF(5, 6);

static int invalid(struct interp *in, const char *param, const char *option, const char *log,
                   const char *why_fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, why_fmt);
    vsnprintf(why, sizeof(why), why_fmt, ap);
    va_end(ap);
    return hd_cmdline_add_invalid(in->cl, param, option, why, log);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Copy one comma-separated word of @p into @buf. */
static void word_of(const char *p, char *buf, size_t size)
{
    size_t len = strcspn(p, ",");

    if (len >= size)
        len = size - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
}

/* intel_iommu=, amd_iommu=, intremap=: first matching word, unknown words reported with the
 * rest of the string, as the kernel logs them. */
static int apply_chain(struct interp *in, const char *param, const char *value,
                       const struct keyword *words, size_t n, const char *log_prefix)
{
    const char *p = value;

    while (*p) {
        const struct keyword *hit = NULL;
        for (size_t i = 0; i < n && hit == NULL; i++) {
            if (starts_with(p, words[i].word))
                hit = &words[i];
        }
        if (hit != NULL) {
            set(in, hit->setting, hit->value);
        } else {
            char word[128], log[512] = "";
            const char *klog = log_prefix != NULL ? log : NULL;
            int r;
            word_of(p, word, sizeof(word));
            if (log_prefix != NULL)
                snprintf(log, sizeof(log), "%sUnknown option - '%s'", log_prefix, p);
            if (strcmp(param, "amd_iommu") == 0 && strcmp(word, "on") == 0)
                r = invalid(in, param, word, klog,
                            "amd_iommu=on is not an option (the kernel ignores it): the AMD "
                            "IOMMU is on by default when the firmware has one");
            else
                r = invalid(in, param, word, klog,
                            "%s=%s is not an option the kernel knows; it is ignored", param, word);
            if (r < 0)
                return r;
        }
        p += strcspn(p, ",");
        while (*p == ',')
            p++;
    }
    return 0;
}

/* iommu=: every matching word applies; a word matching none is dropped without a message. */
static int apply_iommu(struct interp *in, const char *value)
{
    const char *p = value;

    while (*p) {
        bool known = p[0] >= '0' && p[0] <= '9'; /* the GART aperture size */
        for (size_t i = 0; i < HD_ARRAY_SIZE(iommu_words); i++) {
            if (!starts_with(p, iommu_words[i].word))
                continue;
            known = true;
            set(in, iommu_words[i].setting, iommu_words[i].value);
            if (strcmp(iommu_words[i].word, "usedac") == 0)
                return 0; /* iommu_setup() returns there */
        }
        if (!known) {
            char word[128];
            int r;
            word_of(p, word, sizeof(word));
            if (strcmp(word, "on") == 0 || strcmp(word, "1") == 0)
                r = invalid(in, "iommu", word, NULL,
                            "iommu=%s is not an option: the kernel ignores it without a "
                            "message (iommu= takes pt, nopt, off, force, soft...); the IOMMU "
                            "is turned on by intel_iommu=on on Intel and is on by default on "
                            "AMD",
                            word);
            else
                r = invalid(in, "iommu", word, NULL,
                            "iommu=%s is not an option the kernel knows; it is ignored without "
                            "a message",
                            word);
            if (r < 0)
                return r;
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return 0;
}

/* An early parameter whose handler rejects its value (or its lack of one): the kernel logs
 * "Malformed early option" and goes on. */
static int malformed_early(struct interp *in, const char *name, const char *value,
                           const char *takes)
{
    char log[300];

    snprintf(log, sizeof(log), "Malformed early option '%s'", name);
    if (value == NULL)
        return invalid(in, name, "", log, "a bare '%s' is ignored: it needs a value (%s)", name,
                       takes);
    return invalid(in, name, value, log, "%s=%s is ignored: %s takes %s", name, value, name, takes);
}

/* An early boolean (iommu.passthrough=, iommu.strict=): kstrtobool. */
static int apply_early_bool(struct interp *in, const char *name, const char *value,
                            enum hd_cmdline_setting setting)
{
    bool b;

    if (hd_kstrtobool(value, &b) < 0)
        return malformed_early(in, name, value, "0 or 1");
    set(in, setting, b ? HD_TRISTATE_YES : HD_TRISTATE_NO);
    return 0;
}

/* A module's bool parameter (vfio.enable_unsafe_noiommu_mode): bare means yes. */
static int apply_module_bool(struct interp *in, const char *name, const char *value,
                             enum hd_cmdline_setting setting)
{
    char module[64], log[400];
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : 0;
    bool b;

    if (value == NULL || hd_kstrtobool(value, &b) == 0) {
        set(in, setting, value == NULL || b ? HD_TRISTATE_YES : HD_TRISTATE_NO);
        return 0;
    }
    if (len >= sizeof(module))
        len = sizeof(module) - 1;
    for (size_t i = 0; i < len; i++)
        module[i] = name[i] == '-' ? '_' : name[i];
    module[len] = '\0';
    snprintf(log, sizeof(log), "%s: `%s' invalid for parameter `%s'", module, value,
             dot ? dot + 1 : name);
    return invalid(in, name, value, log, "%s takes 1 or 0 (Y or N); '%s' is not taken", name,
                   value);
}

/* One sscanf("%x") field: optional 0x, 1..8 hex digits. Returns the characters used, 0 if
 * none. */
static size_t hex_field(const char *p, uint32_t *out)
{
    size_t i = 0, digits = 0;
    uint32_t v = 0;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && p[2] != '\0' &&
        strchr("0123456789abcdefABCDEF", p[2]) != NULL)
        i = 2;
    for (; p[i] != '\0' && strchr("0123456789abcdefABCDEF", p[i]) != NULL; i++, digits++) {
        unsigned int d =
            p[i] <= '9' ? (unsigned int)(p[i] - '0') : (unsigned int)((p[i] | 0x20) - 'a' + 10);
        if (digits == 8)
            return 0; /* more than 32 bits: not an id */
        v = v << 4 | d;
    }
    if (digits == 0)
        return 0;
    *out = v;
    return i;
}

/* vfio-pci.ids: drivers/vfio/pci/vfio_pci.c vfio_pci_fill_ids(): comma-separated, each
 * sscanf("%x:%x:%x:%x:%x:%x") with at least two fields. We also report trailing text, which
 * sscanf would drop without a word. */
static int apply_ids(struct interp *in, const char *name, const char *value)
{
    const char *p = value;

    if (value == NULL)
        return invalid(in, name, "", NULL, "%s needs a value (VVVV:DDDD,...)", name);
    while (*p) {
        uint32_t f[6] = {0, 0, HD_PCI_ANY_ID, HD_PCI_ANY_ID, 0, 0};
        size_t len = strcspn(p, ","), used = 0, nf = 0;
        char word[128], log[300];
        int r = 0;

        while (nf < 6) {
            size_t n = hex_field(p + used, &f[nf]);
            if (n == 0)
                break;
            used += n;
            nf++;
            if (nf == 6 || p[used] != ':')
                break;
            used++;
        }
        word_of(p, word, sizeof(word));
        if (len > 0 && nf < 2) {
            snprintf(log, sizeof(log), "vfio_pci: invalid id string \"%s\"", word);
            r = invalid(in, name, word, log,
                        "'%s' is not a vendor:device id (VVVV:DDDD[:SVVV:SDDD[:CLASS:MASK]]); "
                        "vfio-pci skips it",
                        word);
        } else if (len > 0) {
            struct hd_pci_id_match *grown =
                realloc(in->s->ids, (in->s->n_ids + 1) * sizeof(*grown));
            if (grown == NULL)
                return -ENOMEM;
            in->s->ids = grown;
            in->s->ids[in->s->n_ids++] = (struct hd_pci_id_match){.vendor = f[0],
                                                                  .device = f[1],
                                                                  .subvendor = f[2],
                                                                  .subdevice = f[3],
                                                                  .class_code = f[4],
                                                                  .class_mask = f[5]};
            if (used < len && p[used] != ',')
                r = invalid(in, name, word, NULL,
                            "'%s' has text after the id that vfio-pci ignores without a word",
                            word);
        }
        if (r < 0)
            return r;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* drivers/pci/pci.c pci_setup(): "realloc" alone or realloc=on|off, among other words. */
static void apply_pci(struct interp *in, const char *value)
{
    const char *p = value;

    while (*p) {
        if (starts_with(p, "realloc=")) {
            if (starts_with(p + 8, "on"))
                set(in, HD_CMDLINE_PCI_REALLOC, HD_TRISTATE_YES);
            else if (starts_with(p + 8, "off"))
                set(in, HD_CMDLINE_PCI_REALLOC, HD_TRISTATE_NO);
        } else if (starts_with(p, "realloc")) {
            set(in, HD_CMDLINE_PCI_REALLOC, HD_TRISTATE_YES);
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
}

/* __setup("intel_iommu=") matches only with the '=': a bare word reaches init instead. */
static int apply_setup(struct interp *in, const char *name, const char *value,
                       const struct keyword *words, size_t n, const char *log_prefix)
{
    if (value == NULL)
        return invalid(in, name, "", NULL,
                       "'%s' without '=' is not read by the kernel (it is passed to init); "
                       "write %s=VALUE",
                       name, name);
    return apply_chain(in, name, value, words, n, log_prefix);
}

static int apply_one(struct interp *in, const char *name, const char *value)
{
    if (hd_cmdline_name_equal(name, "intel_iommu"))
        return apply_setup(in, "intel_iommu", value, intel_words, HD_ARRAY_SIZE(intel_words),
                           "DMAR: ");
    if (hd_cmdline_name_equal(name, "amd_iommu"))
        return apply_setup(in, "amd_iommu", value, amd_words, HD_ARRAY_SIZE(amd_words), "AMD-Vi: ");
    if (hd_cmdline_name_equal(name, "iommu")) {
        if (value == NULL)
            return malformed_early(in, "iommu", NULL, "pt, nopt, off, force, soft...");
        return apply_iommu(in, value);
    }
    if (hd_cmdline_name_equal(name, "intremap")) {
        if (value == NULL)
            return malformed_early(in, "intremap", NULL, "on, off, nosid, nopost...");
        return apply_chain(in, "intremap", value, intremap_words, HD_ARRAY_SIZE(intremap_words),
                           NULL);
    }
    if (hd_cmdline_name_equal(name, "nointremap")) {
        set(in, HD_CMDLINE_INTREMAP, HD_TRISTATE_NO);
        return 0;
    }
    if (hd_cmdline_name_equal(name, "iommu.passthrough"))
        return apply_early_bool(in, "iommu.passthrough", value, HD_CMDLINE_IOMMU_PASSTHROUGH);
    if (hd_cmdline_name_equal(name, "iommu.strict"))
        return apply_early_bool(in, "iommu.strict", value, HD_CMDLINE_IOMMU_STRICT);
    if (hd_cmdline_name_equal(name, "vfio_iommu_type1.allow_unsafe_interrupts"))
        return apply_module_bool(in, name, value, HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS);
    if (hd_cmdline_name_equal(name, "vfio.enable_unsafe_noiommu_mode"))
        return apply_module_bool(in, name, value, HD_CMDLINE_NOIOMMU_MODE);
    if (hd_cmdline_name_equal(name, "pci") && value != NULL)
        apply_pci(in, value);
    return 0;
}

int hd_cmdline_interpret(struct hd_cmdline *cl, struct hd_cmdline_settings *s)
{
    struct interp in = {.cl = cl, .s = s};
    size_t n = hd_cmdline_count(cl), last_ids = n;

    for (size_t i = 0; i < n; i++) {
        const char *name = hd_cmdline_get_name_at(cl, i);
        int r = apply_one(&in, name, hd_cmdline_get_value_at(cl, i));
        if (r < 0)
            return r;
        if (hd_cmdline_name_equal(name, "vfio_pci.ids"))
            last_ids = i; /* a string parameter: each occurrence replaces the last */
    }
    if (last_ids < n)
        return apply_ids(&in, hd_cmdline_get_name_at(cl, last_ids),
                         hd_cmdline_get_value_at(cl, last_ids));
    return 0;
}

void hd_cmdline_settings_free(struct hd_cmdline_settings *s)
{
    free(s->ids);
    s->ids = NULL;
    s->n_ids = 0;
}
