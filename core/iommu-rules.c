/* iommu-rules.c - the IOMMU diagnosis: from what was read to problems, each with its fix. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/*
 * The rules (docs/iommu.md says the same in prose); the parameters they advise come from
 * hd_cmdline_advice() (findings.c), the one place that knows them:
 * - What the kernel made decides: IOMMU groups exist = the IOMMU is on. The command line is
 *   only used to explain why not, and to point at options that do nothing.
 * - Off: an explicit switch-off on the command line is the cause; otherwise the firmware
 *   tables say whether the firmware offers an IOMMU at all (DMAR: VT-d, IVRS: AMD-Vi).
 * - On: VFIO still refuses to set up the IOMMU when interrupt remapping is off, unless
 *   vfio_iommu_type1 allows unsafe interrupts.
 */

struct rules {
    struct hd_findings *out;
    const struct hd_iommu_facts *f;
    int err; /* sticky -ENOMEM */
    bool blocked;
    char fix[512]; /* fixf()'s */
};

/* A fix naming advised parameters; valid until the next fixf(). */
static const char *fixf(struct rules *ru, const char *fmt, ...) HD_PRINTF(2, 3);
static const char *fixf(struct rules *ru, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ru->fix, sizeof(ru->fix), fmt, ap);
    va_end(ap);
    return ru->fix;
}

/* Parameters advised here: hd_cmdline_advice()'s, the one place that knows them. */
#define INTEL_ON hd_cmdline_advice(HD_ADVICE_IOMMU_ON, HD_IOMMU_VENDOR_INTEL)
#define IOMMU_PT hd_cmdline_advice(HD_ADVICE_IOMMU_PT, HD_IOMMU_VENDOR_UNKNOWN)
#define UNSAFE_INTERRUPTS hd_cmdline_advice(HD_ADVICE_UNSAFE_INTERRUPTS, HD_IOMMU_VENDOR_UNKNOWN)
#define NOIOMMU_OFF hd_cmdline_advice(HD_ADVICE_NOIOMMU_OFF, HD_IOMMU_VENDOR_UNKNOWN)

static void problem(struct rules *ru, enum hd_severity severity, const char *code, const char *fix,
                    const char *fmt, ...) HD_PRINTF(5, 6);

static void problem(struct rules *ru, enum hd_severity severity, const char *code, const char *fix,
                    const char *fmt, ...)
{
    char message[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (severity == HD_SEVERITY_ERROR)
        ru->blocked = true;
    if (ru->err == 0)
        ru->err = hd_findings_add(ru->out, severity, code, NULL, fix, "%s", message);
}

static enum hd_tristate setting(const struct rules *ru, enum hd_cmdline_setting s)
{
    return ru->f->cmdline ? hd_cmdline_get_setting(ru->f->cmdline, s) : HD_TRISTATE_UNSET;
}

/* Options that do nothing or not what was meant: warnings, whatever the IOMMU's state. */
static void invalid_options(struct rules *ru)
{
    const struct hd_cmdline *cl = ru->f->cmdline;

    for (size_t i = 0; cl != NULL && i < hd_cmdline_get_invalid_count(cl); i++) {
        const char *param, *option, *why, *log;
        char message[1024], fix[512];

        hd_cmdline_get_invalid(cl, i, &param, &option, &why, &log);
        if (log != NULL)
            snprintf(message, sizeof(message), "%s (the kernel logs \"%s\")", why, log);
        else
            hd_strlcpy(message, why, sizeof(message));
        if (strcmp(param, "amd_iommu") == 0 && strcmp(option, "on") == 0) {
            problem(ru, HD_SEVERITY_WARNING, "amd-iommu-on-invalid",
                    fixf(ru, "remove amd_iommu=on from the kernel command line: the AMD IOMMU "
                         "is on by default; for host performance use %s", IOMMU_PT),
                    "%s", message);
            continue;
        }
        if (strcmp(param, "iommu") == 0 && strcmp(option, "on") == 0) {
            problem(ru, HD_SEVERITY_WARNING, "iommu-on-invalid",
                    fixf(ru, "remove iommu=on; on Intel use %s, on AMD nothing is needed",
                         INTEL_ON),
                    "%s",
                    message);
            continue;
        }
        snprintf(fix, sizeof(fix), "correct or remove %s%s%s on the kernel command line", param,
                 option[0] ? "=" : "", option);
        problem(ru, HD_SEVERITY_WARNING, "cmdline-invalid-option", fix, "%s", message);
    }
}

/* intel_iommu= on an AMD machine and the reverse: harmless, but not what makes it work. */
static void wrong_vendor_options(struct rules *ru)
{
    const struct hd_iommu_facts *f = ru->f;

    if (f->cmdline == NULL)
        return;
    if (f->vendor == HD_IOMMU_VENDOR_AMD && hd_cmdline_has(f->cmdline, "intel_iommu"))
        problem(ru, HD_SEVERITY_INFO, "intel-option-on-amd",
                "remove intel_iommu= from the kernel command line",
                "intel_iommu= has no effect here: this is an AMD IOMMU");
    if (f->vendor == HD_IOMMU_VENDOR_INTEL && hd_cmdline_has(f->cmdline, "amd_iommu"))
        problem(ru, HD_SEVERITY_INFO, "amd-option-on-intel",
                "remove amd_iommu= from the kernel command line",
                "amd_iommu= has no effect here: this is an Intel IOMMU");
}

/* Returns whether a switch-off on the command line explains the missing IOMMU. */
static bool switched_off(struct rules *ru)
{
    bool any = false;

    if (setting(ru, HD_CMDLINE_IOMMU_OFF) == HD_TRISTATE_YES) {
        problem(ru, HD_SEVERITY_ERROR, "iommu-off",
                fixf(ru, "remove iommu=off from the kernel command line (%s keeps host devices "
                     "fast and still lets VFIO isolate the assigned ones)", IOMMU_PT),
                "iommu=off on the kernel command line turns every IOMMU off");
        any = true;
    }
    if (setting(ru, HD_CMDLINE_INTEL_IOMMU) == HD_TRISTATE_NO &&
        ru->f->vendor != HD_IOMMU_VENDOR_AMD) {
        problem(ru, HD_SEVERITY_ERROR, "intel-iommu-off",
                fixf(ru, "replace intel_iommu=off with %s on the kernel command line", INTEL_ON),
                "intel_iommu=off on the kernel command line turns the Intel IOMMU off");
        any = true;
    }
    if (setting(ru, HD_CMDLINE_AMD_IOMMU) == HD_TRISTATE_NO &&
        ru->f->vendor != HD_IOMMU_VENDOR_INTEL) {
        problem(ru, HD_SEVERITY_ERROR, "amd-iommu-off",
                "remove amd_iommu=off from the kernel command line (the AMD IOMMU is on by "
                "default)",
                "amd_iommu=off on the kernel command line turns the AMD IOMMU off");
        any = true;
    }
    return any;
}

static void intel_missing(struct rules *ru)
{
    const struct hd_iommu_facts *f = ru->f;
    bool asked = setting(ru, HD_CMDLINE_INTEL_IOMMU) == HD_TRISTATE_YES;

    if (f->dmar_table && !asked)
        problem(ru, HD_SEVERITY_ERROR, "intel-iommu-not-enabled",
                fixf(ru, "add %s to the kernel command line " HD_ADVICE_HOW_TO_ADD " and reboot",
                     INTEL_ON),
                "the firmware has VT-d (DMAR table) but the kernel did not enable it");
    else if (f->dmar_table)
        problem(ru, HD_SEVERITY_ERROR, "intel-iommu-failed",
                "see why in `dmesg | grep -e DMAR -e IOMMU`; check that the kernel has "
                "CONFIG_INTEL_IOMMU; a firmware update may fix a broken DMAR table",
                "intel_iommu=on is set and the firmware has VT-d (DMAR table), yet the kernel "
                "made no IOMMU");
    else if (asked)
        problem(ru, HD_SEVERITY_ERROR, "intel-iommu-on-without-hardware",
                "enable VT-d (Intel Virtualization Technology for Directed I/O) in the firmware "
                "setup; if there is no such setting, this machine has no IOMMU (in a virtual "
                "machine, give it one, e.g. QEMU -device intel-iommu,intremap=on)",
                "intel_iommu=on is on the kernel command line but the kernel found no IOMMU: "
                "the firmware offers none (no DMAR table)");
    else
        problem(ru, HD_SEVERITY_ERROR, "no-dmar-table",
                fixf(ru, "enable VT-d (Intel Virtualization Technology for Directed I/O) in the "
                     "firmware setup, then add %s to the kernel command line", INTEL_ON),
                "the firmware has no DMAR table: VT-d is off in the firmware setup, or the "
                "machine has none");
}

static void amd_missing(struct rules *ru)
{
    const struct hd_iommu_facts *f = ru->f;

    if (f->ivrs_table)
        problem(ru, HD_SEVERITY_ERROR, "amd-iommu-failed",
                "see why in `dmesg | grep AMD-Vi`; check that the kernel has CONFIG_AMD_IOMMU",
                "the firmware has AMD-Vi (IVRS table) but the kernel made no IOMMU");
    else
        problem(ru, HD_SEVERITY_ERROR, "no-ivrs-table",
                "enable the IOMMU in the firmware setup (called IOMMU or AMD-Vi, often next to "
                "SVM); the kernel then turns it on by itself, nothing is needed on the command "
                "line",
                "the firmware has no IVRS table: the AMD IOMMU is off in the firmware setup, or "
                "the machine has none");
}

static void iommu_missing(struct rules *ru)
{
    const struct hd_iommu_facts *f = ru->f;
    size_t units = f->intel_units + f->amd_units + f->other_units;

    if (switched_off(ru))
        return;
    if (units > 0) {
        problem(ru, HD_SEVERITY_ERROR, "no-iommu-groups",
                "see why in `dmesg | grep -i -e DMAR -e IOMMU -e AMD-Vi`",
                "the kernel registered %zu IOMMU unit%s but made no IOMMU groups", units,
                units == 1 ? "" : "s");
        return;
    }
    /* A guest without a virtual IOMMU: no firmware setting can help, the hypervisor must
     * give it one. (With a DMAR or IVRS table it has one and the rules below apply.) */
    if (f->virtual_machine && !f->dmar_table && !f->ivrs_table) {
        problem(ru, HD_SEVERITY_ERROR, "no-virtual-iommu",
                "give the virtual machine an IOMMU: QEMU -machine q35,kernel-irqchip=split "
                "-device intel-iommu,intremap=on (or -device virtio-iommu-pci); libvirt "
                "<iommu model='intel'><driver intremap='on'/></iommu>; in a cloud, an instance "
                "type that offers a virtual IOMMU",
                "this is a virtual machine (the CPU reports a hypervisor) and its hypervisor "
                "gives it no IOMMU: firmware settings do not apply here");
        return;
    }
    if (!f->acpi_tables)
        problem(ru, HD_SEVERITY_ERROR, "no-iommu",
                f->vendor == HD_IOMMU_VENDOR_AMD
                    ? "enable the IOMMU (AMD-Vi) in the firmware setup"
                    : fixf(ru, "enable the IOMMU (VT-d, AMD-Vi, SMMU) in the firmware setup; on "
                           "Intel also add %s to the kernel command line", INTEL_ON),
                "no IOMMU is running: no /sys/class/iommu units and no IOMMU groups%s",
                f->vendor == HD_IOMMU_VENDOR_INTEL || f->vendor == HD_IOMMU_VENDOR_AMD
                    ? ", and no ACPI tables to tell whether the firmware has one"
                    : "");
    else if (f->vendor == HD_IOMMU_VENDOR_INTEL)
        intel_missing(ru);
    else if (f->vendor == HD_IOMMU_VENDOR_AMD)
        amd_missing(ru);
    else
        problem(ru, HD_SEVERITY_ERROR, "no-iommu",
                "enable the IOMMU (VT-d, AMD-Vi, SMMU) in the firmware setup",
                "no IOMMU is running: no /sys/class/iommu units and no IOMMU groups, and the "
                "firmware tables show none");
}

static void interrupt_remapping(struct rules *ru)
{
    const struct hd_iommu_facts *f = ru->f;
    bool by_cmdline = setting(ru, HD_CMDLINE_INTREMAP) == HD_TRISTATE_NO;
    bool allowed = f->unsafe_interrupts == HD_TRISTATE_YES ||
                   (f->unsafe_interrupts == HD_TRISTATE_UNSET &&
                    setting(ru, HD_CMDLINE_ALLOW_UNSAFE_INTERRUPTS) == HD_TRISTATE_YES);

    if (f->interrupt_remapping == HD_TRISTATE_UNSET) {
        problem(ru, HD_SEVERITY_INFO, "interrupt-remapping-unknown",
                fixf(ru, "check `dmesg | grep -i remapping`: \"Enabled IRQ remapping\" is good; "
                     "without it VFIO needs %s", UNSAFE_INTERRUPTS),
                "could not tell whether interrupt remapping is on");
        return;
    }
    if (f->interrupt_remapping == HD_TRISTATE_YES)
        return;
    if (allowed)
        problem(ru, HD_SEVERITY_WARNING, "unsafe-interrupts",
                by_cmdline ? "remove intremap=off from the kernel command line"
                           : "enable interrupt remapping (firmware setup: VT-d/AMD-Vi with "
                             "interrupt remapping, x2APIC), then drop allow_unsafe_interrupts",
                "interrupt remapping is off%s; VFIO works only because vfio_iommu_type1 "
                "allows unsafe interrupts (an assigned device could inject interrupts into the "
                "host)",
                by_cmdline ? " (intremap=off on the kernel command line)" : "");
    else
        problem(ru, HD_SEVERITY_ERROR, "no-interrupt-remapping",
                by_cmdline
                    ? fixf(ru, "remove intremap=off from the kernel command line, or accept the "
                           "risk with %s", UNSAFE_INTERRUPTS)
                    : fixf(ru, "enable interrupt remapping in the firmware setup if it has the "
                           "setting; otherwise accept the risk: %s on the kernel command line, "
                           "or write Y to "
                           "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
                           UNSAFE_INTERRUPTS),
                "interrupt remapping is not available%s: VFIO will refuse to set up the IOMMU "
                "(VFIO_SET_IOMMU fails with EPERM) unless %s (unsafe: a device could inject "
                "interrupts)",
                by_cmdline ? " (intremap=off on the kernel command line)" : "", UNSAFE_INTERRUPTS);
}

static void noiommu_mode(struct rules *ru, bool enabled)
{
    const struct hd_iommu_facts *f = ru->f;

    if (f->noiommu != HD_TRISTATE_YES && !(f->noiommu == HD_TRISTATE_UNSET &&
                                           setting(ru, HD_CMDLINE_NOIOMMU_MODE) == HD_TRISTATE_YES))
        return;
    if (enabled)
        problem(ru, HD_SEVERITY_INFO, "noiommu-mode",
                fixf(ru, "turn it off unless a userspace driver needs it: %s", NOIOMMU_OFF),
                "VFIO no-IOMMU mode is on; it only concerns devices without an IOMMU group");
    else
        problem(ru, HD_SEVERITY_WARNING, "noiommu-mode",
                fixf(ru, "for virtual machines enable an IOMMU; turn no-IOMMU mode off unless a "
                     "userspace driver needs it (%s)", NOIOMMU_OFF),
                "VFIO no-IOMMU mode is on: devices can be bound to vfio-pci without any "
                "isolation (/dev/vfio/noiommu-N). That serves userspace drivers such as DPDK, "
                "not virtual machines: QEMU cannot assign such devices");
}

static void performance_and_extras(struct rules *ru)
{
    const struct hd_iommu_facts *f = ru->f;
    const char *type = f->domain_type;

    if (type != NULL && (strcmp(type, "DMA") == 0 || strcmp(type, "DMA-FQ") == 0) &&
        setting(ru, HD_CMDLINE_IOMMU_PASSTHROUGH) != HD_TRISTATE_YES)
        problem(ru, HD_SEVERITY_INFO, "suggest-iommu-pt",
                fixf(ru, "add %s to the kernel command line: host devices then skip "
                     "translation; devices given to VFIO are isolated all the same", IOMMU_PT),
                "host devices go through IOMMU translation (default domain %s), which costs "
                "some DMA performance",
                type);
    if (setting(ru, HD_CMDLINE_INTEL_IOMMU_IGFX_OFF) == HD_TRISTATE_YES)
        problem(ru, HD_SEVERITY_INFO, "igfx-off",
                "remove igfx_off from intel_iommu= to assign the integrated GPU",
                "intel_iommu=igfx_off leaves the integrated graphics out of the IOMMU: it "
                "cannot be given to a virtual machine");
    if (f->dmar_parsed == 0 && f->dmar.rmrr > 0 && f->vendor == HD_IOMMU_VENDOR_INTEL) {
        char list[HD_DMAR_MAX_RMRR_DEVICES * (HD_PCI_ADDR_BUFSZ + 1)] = "";
        for (size_t i = 0; i < f->dmar.n_rmrr_devices; i++) {
            char addr[HD_PCI_ADDR_BUFSZ];
            if (i > 0)
                strcat(list, " ");
            strcat(list, hd_pci_addr_format(&f->dmar.rmrr_devices[i], addr));
        }
        problem(ru, HD_SEVERITY_INFO, "rmrr",
                "if assigning one of these fails with \"ineligible for IOMMU domain attach due "
                "to platform RMRR requirement\", pick another device or update the firmware",
                "the firmware reserves memory (RMRR) for some devices%s%s%s; such devices "
                "(often USB controllers or integrated GPUs) may refuse assignment",
                list[0] ? ": " : "", list,
                f->dmar.rmrr_behind_bridge ? " and some behind bridges" : "");
    }
    if (f->vfio_pci == HD_MODULE_ABSENT && !f->vfio_pci_driver)
        problem(ru, HD_SEVERITY_INFO, "vfio-pci-not-loaded",
                "nothing to do: hostdev loads vfio-pci when it detaches a device (or: modprobe "
                "vfio-pci)",
                "the vfio-pci module is not loaded");
}

int hd_iommu_diagnose(struct hd_findings *out, const struct hd_iommu_facts *f)
{
    struct rules ru = {.out = out, .f = f};
    bool enabled = f->groups > 0;

    if (enabled) {
        interrupt_remapping(&ru);
        performance_and_extras(&ru);
    } else {
        iommu_missing(&ru);
    }
    noiommu_mode(&ru, enabled);
    invalid_options(&ru);
    wrong_vendor_options(&ru);
    if (ru.err < 0)
        return ru.err;
    return enabled && !ru.blocked;
}
