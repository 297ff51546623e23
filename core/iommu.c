/* iommu.c - the IOMMU probe: read what the kernel, firmware and modules say, keep the evidence. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct evidence {
    char *source;
    char *text;
};

struct hd_iommu_report {
    int refcount;
    bool usable;
    bool enabled;
    enum hd_iommu_vendor vendor;
    size_t units;
    size_t groups;
    char *domain_type;
    enum hd_tristate interrupt_remapping;
    struct hd_cmdline *cmdline;
    struct hd_cmdline *vfio_pci_ids; /* boot_vfio_pci_ids()'s; NULL: none */
    enum hd_vfio_pci_ids_from vfio_pci_ids_from;
    struct evidence *evidence;
    size_t n_evidence;
    struct hd_findings *findings;
    bool oom; /* an addition failed: the probe reports -ENOMEM */
};

static void evidence(struct hd_iommu_report *r, const char *source, const char *fmt, ...)
    HD_PRINTF(3, 4);

static void evidence(struct hd_iommu_report *r, const char *source, const char *fmt, ...)
{
    struct evidence *grown;
    char *text = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&text, fmt, ap);
    va_end(ap);
    grown = n < 0 ? NULL : realloc(r->evidence, (r->n_evidence + 1) * sizeof(*grown));
    if (grown == NULL) {
        free(n < 0 ? NULL : text);
        r->oom = true;
        return;
    }
    r->evidence = grown;
    grown[r->n_evidence].source = strdup(source);
    grown[r->n_evidence].text = text;
    if (grown[r->n_evidence].source == NULL) {
        free(text);
        r->oom = true;
        return;
    }
    r->n_evidence++;
}

/* ---- reading the facts -------------------------------------------------------------------- */

static const char *vendor_label(enum hd_iommu_vendor v)
{
    switch (v) {
    case HD_IOMMU_VENDOR_INTEL:
        return "Intel VT-d";
    case HD_IOMMU_VENDOR_AMD:
        return "AMD-Vi";
    case HD_IOMMU_VENDOR_OTHER:
        return "another kind";
    default:
        return "unknown";
    }
}

/* Parameters worth showing; the rest of the line is the user's own business. */
static bool relevant_param(const char *name)
{
    static const char *const names[] = {
        "intel_iommu",
        "amd_iommu",
        "iommu",
        "iommu.passthrough",
        "iommu.strict",
        "intremap",
        "nointremap",
        "vfio_iommu_type1.allow_unsafe_interrupts",
        "vfio.enable_unsafe_noiommu_mode",
        "vfio_pci.ids",
        "pci",
    };
    for (size_t i = 0; i < HD_ARRAY_SIZE(names); i++) {
        if (hd_cmdline_name_equal(name, names[i]))
            return true;
    }
    return false;
}

static void read_cmdline(struct hd_ctx *ctx, struct hd_iommu_report *r)
{
    char text[1024] = "";
    size_t used = 0;
    int err = hd_cmdline_read(ctx, &r->cmdline);

    if (err < 0) {
        evidence(r, "proc/cmdline", "not readable (%s): no command-line hints",
                 err == -EILSEQ ? "it holds a NUL byte" : strerror(-err));
        return;
    }
    for (size_t i = 0; i < hd_cmdline_count(r->cmdline) && used < sizeof(text); i++) {
        const char *name = hd_cmdline_get_name_at(r->cmdline, i);
        const char *value = hd_cmdline_get_value_at(r->cmdline, i);
        int n;
        if (!relevant_param(name))
            continue;
        n = snprintf(text + used, sizeof(text) - used, "%s%s%s%s", used ? " " : "", name,
                     value ? "=" : "", value ? value : "");
        if (n > 0)
            used += (size_t)n;
    }
    evidence(r, "proc/cmdline", "%s", used ? text : "no IOMMU or VFIO parameters");
}

static void read_cpu_vendor(struct hd_ctx *ctx, struct hd_iommu_report *r, struct hd_iommu_facts *f)
{
    char *data, *line;

    f->cpu_vendor = HD_IOMMU_VENDOR_UNKNOWN;
    if (hd_fs_read_alloc(ctx, "proc/cpuinfo", HD_READ_MAX, &data, NULL) < 0)
        return;
    /* x86 guests see the "hypervisor" CPUID bit as a flag (the first CPU says it for all). */
    if ((line = strstr(data, "\nflags")) != NULL) {
        size_t len = strcspn(line + 1, "\n");
        char *flags = strndup(line + 1, len);
        if (flags != NULL && (strstr(flags, " hypervisor ") != NULL ||
                              (len >= 11 && strcmp(flags + len - 11, " hypervisor") == 0)))
            f->virtual_machine = true;
        free(flags);
        if (f->virtual_machine)
            evidence(r, "proc/cpuinfo", "the hypervisor flag: this is a virtual machine");
    }
    line = strstr(data, "vendor_id");
    if (line != NULL && strchr(line, ':') != NULL) {
        line[strcspn(line, "\n")] = '\0';
        line = strchr(line, ':') + 1;
        line += strspn(line, " \t");
        if (strstr(line, "GenuineIntel") != NULL)
            f->cpu_vendor = HD_IOMMU_VENDOR_INTEL;
        else if (strstr(line, "AuthenticAMD") != NULL || strstr(line, "HygonGenuine") != NULL)
            f->cpu_vendor = HD_IOMMU_VENDOR_AMD;
        else
            f->cpu_vendor = HD_IOMMU_VENDOR_OTHER;
        evidence(r, "proc/cpuinfo", "CPU vendor %s", line);
    }
    free(data);
}

static void read_acpi_tables(struct hd_ctx *ctx, struct hd_iommu_report *r,
                             struct hd_iommu_facts *f)
{
    static const char dir[] = "sys/firmware/acpi/tables";

    f->acpi_tables = hd_fs_exists(ctx, dir) == 1;
    f->dmar_table = hd_fs_exists(ctx, "sys/firmware/acpi/tables/DMAR") == 1;
    f->ivrs_table = hd_fs_exists(ctx, "sys/firmware/acpi/tables/IVRS") == 1;
    f->dmar_parsed = f->dmar_table ? hd_dmar_read(ctx, &f->dmar) : -ENOENT;
    if (!f->acpi_tables)
        evidence(r, dir, "missing: no ACPI tables to tell what the firmware offers");
    else if (!f->dmar_table && !f->ivrs_table)
        evidence(r, dir, "no DMAR or IVRS table: the firmware offers no IOMMU (or has it off)");
    if (f->ivrs_table)
        evidence(r, "sys/firmware/acpi/tables/IVRS", "present: the firmware has AMD-Vi");
    if (f->dmar_table && f->dmar_parsed == 0)
        evidence(r, "sys/firmware/acpi/tables/DMAR",
                 "present: the firmware has VT-d (%zu unit%s, interrupt remapping %s%s, "
                 "%zu RMRR%s)",
                 f->dmar.drhd, f->dmar.drhd == 1 ? "" : "s",
                 f->dmar.intr_remap ? "supported" : "not supported",
                 f->dmar.x2apic_opt_out ? ", x2APIC opt-out" : "", f->dmar.rmrr,
                 f->dmar.rmrr == 1 ? "" : "s");
    else if (f->dmar_table)
        evidence(r, "sys/firmware/acpi/tables/DMAR",
                 "present: the firmware has VT-d (contents not read: %s)",
                 f->dmar_parsed == -EBADMSG ? "malformed" : strerror(-f->dmar_parsed));
}

static void read_units(struct hd_ctx *ctx, struct hd_iommu_report *r, struct hd_iommu_facts *f)
{
    static const char dir[] = "sys/class/iommu";
    char **names, list[512] = "";
    size_t n, used = 0;
    int err = hd_fs_list_dir(ctx, dir, &names, &n);

    if (err < 0) {
        evidence(r, dir, "%s: the kernel runs no IOMMU driver",
                 err == -ENOENT ? "missing" : strerror(-err));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int len;
        if (strncmp(names[i], "dmar", 4) == 0)
            f->intel_units++;
        else if (strncmp(names[i], "ivhd", 4) == 0)
            f->amd_units++;
        else
            f->other_units++;
        len = snprintf(list + used, sizeof(list) - used, "%s%s", used ? " " : "", names[i]);
        if (len > 0 && (size_t)len < sizeof(list) - used)
            used += (size_t)len;
    }
    hd_strv_free(names, n);
    if (n == 0)
        evidence(r, dir, "empty: the kernel runs no IOMMU");
    else
        evidence(r, dir, "%s: %s unit%s", list,
                 f->intel_units ? "Intel VT-d"
                 : f->amd_units ? "AMD-Vi"
                                : "IOMMU",
                 n == 1 ? "" : "s");
}

static void read_groups(struct hd_ctx *ctx, struct hd_iommu_report *r, struct hd_iommu_facts *f)
{
    static const char dir[] = "sys/kernel/iommu_groups";
    char **names, type[64] = "";
    bool mixed = false;
    size_t n;
    int err = hd_fs_list_dir(ctx, dir, &names, &n);

    if (err < 0) {
        evidence(r, dir, "%s: no IOMMU groups", err == -ENOENT ? "missing" : strerror(-err));
        return;
    }
    f->groups = n;
    for (size_t i = 0; i < n; i++) {
        char path[HD_PATH_MAX], t[64];
        if (!hd_name_valid(names[i]) ||
            hd_path(path, sizeof(path), "%s/%s/type", dir, names[i]) < 0 ||
            hd_fs_read_attr(ctx, path, t, sizeof(t)) <= 0)
            continue;
        if (type[0] == '\0')
            hd_strlcpy(type, t, sizeof(type));
        else if (strcmp(type, t) != 0)
            mixed = true;
    }
    hd_strv_free(names, n);
    if (mixed)
        hd_strlcpy(type, "mixed", sizeof(type));
    r->domain_type = type[0] ? strdup(type) : NULL;
    if (type[0] != '\0' && r->domain_type == NULL)
        r->oom = true;
    f->domain_type = r->domain_type;
    if (n == 0)
        evidence(r, dir, "empty: no IOMMU groups, so nothing can be given to VFIO");
    else
        evidence(r, dir, "%zu group%s, default domain %s", n, n == 1 ? "" : "s",
                 type[0] ? type : "unknown");
}

/* Y/N attribute: YES, NO, or UNSET when absent or garbled (said in the evidence). */
static enum hd_tristate read_yn(struct hd_ctx *ctx, struct hd_iommu_report *r, const char *path)
{
    char buf[32];
    bool b;
    ssize_t n = hd_fs_read_attr(ctx, path, buf, sizeof(buf));

    if (n < 0)
        return HD_TRISTATE_UNSET;
    if (hd_kstrtobool(buf, &b) < 0 || n > 1) {
        evidence(r, path, "unexpected contents (not Y or N): ignored");
        return HD_TRISTATE_UNSET;
    }
    evidence(r, path, "%s", b ? "Y" : "N");
    return b ? HD_TRISTATE_YES : HD_TRISTATE_NO;
}

/* /proc/interrupts names remapped chips "IR-PCI-MSI", "IR-IO-APIC": the kernel's own word. */
static enum hd_tristate ir_from_interrupts(struct hd_ctx *ctx, struct hd_iommu_report *r)
{
    enum hd_tristate ir = HD_TRISTATE_UNSET;
    char *data;

    if (hd_fs_read_alloc(ctx, "proc/interrupts", HD_READ_MAX, &data, NULL) < 0)
        return ir;
    if (strstr(data, " IR-") != NULL) {
        ir = HD_TRISTATE_YES;
        evidence(r, "proc/interrupts", "interrupt remapping on (IR- interrupt chips)");
    } else if (strstr(data, "PCI-MSI") != NULL || strstr(data, "IO-APIC") != NULL) {
        ir = HD_TRISTATE_NO;
        evidence(r, "proc/interrupts", "interrupt remapping off (no IR- interrupt chips)");
    }
    free(data);
    return ir;
}

/* Without /proc/interrupts: every VT-d unit must support it (ecap bit 3) for the kernel to
 * turn it on. */
static enum hd_tristate ir_from_ecap(struct hd_ctx *ctx, struct hd_iommu_report *r)
{
    char **names;
    size_t n, with = 0, read = 0;
    enum hd_tristate ir = HD_TRISTATE_UNSET;

    if (hd_fs_list_dir(ctx, "sys/class/iommu", &names, &n) < 0)
        return ir;
    for (size_t i = 0; i < n; i++) {
        char path[HD_PATH_MAX], buf[64];
        unsigned long long ecap;
        if (strncmp(names[i], "dmar", 4) != 0 || !hd_name_valid(names[i]) ||
            hd_path(path, sizeof(path), "sys/class/iommu/%s/intel-iommu/ecap", names[i]) < 0 ||
            hd_fs_read_attr(ctx, path, buf, sizeof(buf)) < 0 ||
            hd_parse_hex(buf, UINT64_MAX, &ecap) < 0)
            continue;
        read++;
        if (ecap & (1ull << 3))
            with++;
    }
    hd_strv_free(names, n);
    if (read > 0) {
        ir = with == read ? HD_TRISTATE_YES : HD_TRISTATE_NO;
        evidence(r, "sys/class/iommu/dmar*/intel-iommu/ecap",
                 "interrupt remapping supported by %zu of %zu unit%s (ecap bit 3)", with, read,
                 read == 1 ? "" : "s");
    }
    return ir;
}

static void read_interrupt_remapping(struct hd_ctx *ctx, struct hd_iommu_report *r,
                                     struct hd_iommu_facts *f)
{
    enum hd_tristate ir = ir_from_interrupts(ctx, r);

    if (ir == HD_TRISTATE_UNSET && f->intel_units > 0)
        ir = ir_from_ecap(ctx, r);
    if (ir == HD_TRISTATE_UNSET && f->intel_units > 0 && f->dmar_parsed == 0)
        ir = f->dmar.intr_remap ? HD_TRISTATE_YES : HD_TRISTATE_NO;
    /* Support is not use: intremap=off turns it off whatever the hardware can do. */
    if (ir == HD_TRISTATE_YES && f->cmdline != NULL &&
        hd_cmdline_get_setting(f->cmdline, HD_CMDLINE_INTREMAP) == HD_TRISTATE_NO)
        ir = HD_TRISTATE_NO;
    f->interrupt_remapping = ir;
}

/* sys/module/@name: a loadable module, loaded, has initstate; a built-in one has none (and
 * is there whenever it has parameters, as vfio_pci has). */
static enum hd_module_state module_state(struct hd_ctx *ctx, const char *name)
{
    char path[HD_PATH_MAX];

    if (hd_path(path, sizeof(path), "sys/module/%s", name) < 0 || hd_fs_exists(ctx, path) != 1)
        return HD_MODULE_ABSENT;
    if (hd_path(path, sizeof(path), "sys/module/%s/initstate", name) == 0 &&
        hd_fs_exists(ctx, path) == 1)
        return HD_MODULE_LOADED;
    return HD_MODULE_BUILTIN;
}

static enum hd_module_state read_module(struct hd_ctx *ctx, struct hd_iommu_report *r,
                                        const char *name)
{
    char path[HD_PATH_MAX];
    enum hd_module_state state = module_state(ctx, name);

    if (hd_path(path, sizeof(path), "sys/module/%s", name) == 0)
        evidence(r, path, "%s",
                 state == HD_MODULE_LOADED    ? "loaded"
                 : state == HD_MODULE_BUILTIN ? "built into the kernel"
                                              : "not loaded");
    return state;
}

/* The ids vfio-pci takes at boot, in *@ids (borrowed; NULL: none), and where they come from:
 * hd_modprobe_param_source()'s, the command line's (@cmdline; NULL: unreadable) vfio-pci.ids=
 * when it has one, else modprobe.d's `options vfio-pci ids=`, unless vfio_pci is built in:
 * modprobe never loads it, so its options never reach it. */
static enum hd_vfio_pci_ids_from boot_vfio_pci_ids(struct hd_ctx *ctx,
                                                   const struct hd_cmdline *cmdline,
                                                   const struct hd_cmdline **ids)
{
    *ids = hd_modprobe_param_source(ctx, cmdline, "vfio_pci.ids");
    if (*ids != NULL && *ids == cmdline)
        return HD_VFIO_PCI_IDS_CMDLINE;
    if (*ids == NULL || module_state(ctx, "vfio_pci") == HD_MODULE_BUILTIN) {
        *ids = NULL; /* modprobe never loads a built-in one: modprobe.d gives it nothing */
        return HD_VFIO_PCI_IDS_NONE;
    }
    return HD_VFIO_PCI_IDS_MODPROBE_D;
}

/* The ids vfio-pci takes at boot (boot_vfio_pci_ids()), kept on the report (a reference:
 * modprobe.d's belong to the context) and said as evidence. */
static void read_vfio_pci_ids(struct hd_ctx *ctx, struct hd_iommu_report *r)
{
    const struct hd_cmdline *ids;
    char text[1024] = "";
    size_t used = 0;

    r->vfio_pci_ids_from = boot_vfio_pci_ids(ctx, r->cmdline, &ids);
    if (ids == NULL)
        return;
    /* A reference count is no part of what the const promises. */
    r->vfio_pci_ids = hd_cmdline_ref((struct hd_cmdline *)ids);
    for (size_t i = 0; i < hd_cmdline_get_vfio_pci_id_count(ids) && used < sizeof(text); i++) {
        struct hd_pci_id_match m;
        int n = 0;
        if (hd_cmdline_get_vfio_pci_id(ids, i, &m) == 0)
            n = snprintf(text + used, sizeof(text) - used, "%s%04x:%04x", used ? "," : "",
                         m.vendor, m.device);
        if (n > 0)
            used += (size_t)n;
    }
    evidence(r, r->vfio_pci_ids_from == HD_VFIO_PCI_IDS_CMDLINE ? "proc/cmdline" : "modprobe.d",
             "vfio-pci takes ids %s at boot", text[0] ? text : "(none valid)");
}

static void read_vfio(struct hd_ctx *ctx, struct hd_iommu_report *r, struct hd_iommu_facts *f)
{
    f->vfio = read_module(ctx, r, "vfio");
    f->vfio_iommu_type1 = read_module(ctx, r, "vfio_iommu_type1");
    f->vfio_pci = read_module(ctx, r, "vfio_pci");
    f->vfio_pci_driver = hd_fs_exists(ctx, "sys/bus/pci/drivers/vfio-pci") == 1;
    if (f->vfio_pci_driver)
        evidence(r, "sys/bus/pci/drivers/vfio-pci", "the vfio-pci driver is registered");
    f->unsafe_interrupts =
        read_yn(ctx, r, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
    f->noiommu = read_yn(ctx, r, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
}

/* The IOMMU's vendor: the units the kernel made, else the firmware tables, else the CPU. */
static enum hd_iommu_vendor decide_vendor(const struct hd_iommu_facts *f)
{
    if (f->intel_units)
        return HD_IOMMU_VENDOR_INTEL;
    if (f->amd_units)
        return HD_IOMMU_VENDOR_AMD;
    if (f->other_units)
        return HD_IOMMU_VENDOR_OTHER;
    if (f->dmar_table != f->ivrs_table)
        return f->dmar_table ? HD_IOMMU_VENDOR_INTEL : HD_IOMMU_VENDOR_AMD;
    return f->cpu_vendor;
}

HD_EXPORT int hd_iommu_probe(struct hd_ctx *ctx, struct hd_iommu_report **out)
{
    struct hd_iommu_facts f;
    struct hd_iommu_report *r;
    int usable;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return hd_err(ctx, -ENOMEM, "IOMMU probe: out of memory");
    r->refcount = 1;
    r->findings = hd_findings_new();
    if (r->findings == NULL) {
        free(r);
        return hd_err(ctx, -ENOMEM, "IOMMU probe: out of memory");
    }
    memset(&f, 0, sizeof(f));
    read_cmdline(ctx, r);
    f.cmdline = r->cmdline;
    read_cpu_vendor(ctx, r, &f);
    read_acpi_tables(ctx, r, &f);
    read_units(ctx, r, &f);
    read_groups(ctx, r, &f);
    f.vendor = decide_vendor(&f);
    read_interrupt_remapping(ctx, r, &f);
    read_vfio(ctx, r, &f);
    read_vfio_pci_ids(ctx, r);

    r->vendor = f.vendor;
    r->units = f.intel_units + f.amd_units + f.other_units;
    r->groups = f.groups;
    r->enabled = f.groups > 0;
    r->interrupt_remapping = f.interrupt_remapping;
    usable = hd_iommu_diagnose(r->findings, &f);
    if (usable < 0 || r->oom) {
        hd_iommu_report_unref(r);
        return hd_err(ctx, -ENOMEM, "IOMMU probe: out of memory");
    }
    r->usable = usable;
    hd_findings_sort(r->findings);
    hd_dbg(ctx, "IOMMU: %s, %s, %zu groups", vendor_label(r->vendor),
           r->usable ? "usable" : "not usable", r->groups);
    *out = r;
    return 0;
}

HD_EXPORT struct hd_iommu_report *hd_iommu_report_ref(struct hd_iommu_report *r)
{
    if (r != NULL)
        r->refcount++;
    return r;
}

HD_EXPORT struct hd_iommu_report *hd_iommu_report_unref(struct hd_iommu_report *r)
{
    if (r == NULL || --r->refcount > 0)
        return r;
    for (size_t i = 0; i < r->n_evidence; i++) {
        free(r->evidence[i].source);
        free(r->evidence[i].text);
    }
    free(r->evidence);
    hd_findings_unref(r->findings);
    free(r->domain_type);
    hd_cmdline_unref(r->cmdline);
    hd_cmdline_unref(r->vfio_pci_ids);
    free(r);
    return NULL;
}

HD_EXPORT bool hd_iommu_report_is_usable(const struct hd_iommu_report *r)
{
    return r->usable;
}

HD_EXPORT bool hd_iommu_report_is_enabled(const struct hd_iommu_report *r)
{
    return r->enabled;
}

HD_EXPORT enum hd_iommu_vendor hd_iommu_report_get_vendor(const struct hd_iommu_report *r)
{
    return r->vendor;
}

HD_EXPORT const char *hd_iommu_vendor_to_string(enum hd_iommu_vendor vendor)
{
    switch (vendor) {
    case HD_IOMMU_VENDOR_INTEL:
        return "intel";
    case HD_IOMMU_VENDOR_AMD:
        return "amd";
    case HD_IOMMU_VENDOR_OTHER:
        return "other";
    default:
        return "unknown";
    }
}

HD_EXPORT size_t hd_iommu_report_get_unit_count(const struct hd_iommu_report *r)
{
    return r->units;
}

HD_EXPORT size_t hd_iommu_report_get_group_count(const struct hd_iommu_report *r)
{
    return r->groups;
}

HD_EXPORT const char *hd_iommu_report_get_domain_type(const struct hd_iommu_report *r)
{
    return r->domain_type;
}

HD_EXPORT enum hd_tristate hd_iommu_report_get_interrupt_remapping(const struct hd_iommu_report *r)
{
    return r->interrupt_remapping;
}

HD_EXPORT const struct hd_cmdline *hd_iommu_report_get_cmdline(const struct hd_iommu_report *r)
{
    return r->cmdline;
}

HD_EXPORT const struct hd_cmdline *
hd_iommu_report_get_vfio_pci_ids(const struct hd_iommu_report *r, enum hd_vfio_pci_ids_from *from)
{
    if (from != NULL)
        *from = r->vfio_pci_ids_from;
    return r->vfio_pci_ids;
}

HD_EXPORT size_t hd_iommu_report_get_evidence_count(const struct hd_iommu_report *r)
{
    return r->n_evidence;
}

HD_EXPORT const char *hd_iommu_report_get_evidence_source(const struct hd_iommu_report *r, size_t i)
{
    return i < r->n_evidence ? r->evidence[i].source : NULL;
}

HD_EXPORT const char *hd_iommu_report_get_evidence_text(const struct hd_iommu_report *r, size_t i)
{
    return i < r->n_evidence ? r->evidence[i].text : NULL;
}

HD_EXPORT struct hd_findings *hd_iommu_report_get_findings(const struct hd_iommu_report *r)
{
    return r->findings;
}
