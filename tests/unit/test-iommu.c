/* test-iommu.c - the IOMMU probe against fake kernel trees (specs materialized as plain files,
 * docs/fakesys-spec.md): every diagnosis, and the tool. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "fixture.h"
#include "internal.h"
#include "tmptree.h"

#include "hdtest.h"

/* The tree: an empty directory until a test materializes its machine (materialize()). */
static char *root;
static struct fx tree_fx;
/* Spec lines every tree of the test gets besides its machine's (module parameters). */
static const char *spec_extra;

static void setup(void)
{
    root = tmptree_new();
    ck_assert_ptr_nonnull(root);
    spec_extra = "";
}

static void teardown(void)
{
    if (root != tree_fx.root) {
        tmptree_remove(root);
        free(root);
    }
    fx_umount(&tree_fx);
    root = NULL;
}

HD_TEST_FILE(.setup = setup, .teardown = teardown);

static void put(const char *rel, const char *content)
{
    ck_assert_msg(tmptree_write(root, rel, content) == 0, "writing %s", rel);
}

static void rm(const char *rel)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    ck_assert_msg(unlink(path) == 0, "removing %s", rel);
}

static struct hd_iommu_report *probe(void)
{
    struct hd_iommu_report *r = NULL;
    struct hd_ctx *ctx;

    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
    ck_assert_int_eq(hd_iommu_probe(ctx, &r), 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(hd_ctx_last_error(ctx), ""); /* findings are not failures */
    hd_ctx_unref(ctx);                            /* the report outlives the context */
    return r;
}

/* The index of the problem with @code, or -1. */
static int find_problem(const struct hd_iommu_report *r, const char *code)
{
    for (size_t i = 0; i < hd_findings_count(hd_iommu_report_get_findings(r)); i++) {
        if (strcmp(hd_findings_get_code(hd_iommu_report_get_findings(r), i), code) == 0)
            return (int)i;
    }
    return -1;
}

static void expect_problem(const struct hd_iommu_report *r, const char *code,
                           enum hd_severity severity, const char *in_message)
{
    int i = find_problem(r, code);
    ck_assert_msg(i >= 0, "no problem '%s'", code);
    ck_assert_int_eq(hd_findings_get_severity(hd_iommu_report_get_findings(r), (size_t)i), severity);
    ck_assert_ptr_nonnull(hd_findings_get_fix(hd_iommu_report_get_findings(r), (size_t)i));
    ck_assert(hd_findings_get_fix(hd_iommu_report_get_findings(r), (size_t)i)[0] != '\0');
    if (in_message != NULL)
        ck_assert_msg(strstr(hd_findings_get_message(hd_iommu_report_get_findings(r), (size_t)i), in_message),
                      "'%s' not in '%s'", in_message,
                      hd_findings_get_message(hd_iommu_report_get_findings(r), (size_t)i));
}

static void expect_no_problem(const struct hd_iommu_report *r, const char *code)
{
    ck_assert_msg(find_problem(r, code) < 0, "unexpected problem '%s'", code);
}

static size_t errors(const struct hd_iommu_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < hd_findings_count(hd_iommu_report_get_findings(r)); i++)
        n += hd_findings_get_severity(hd_iommu_report_get_findings(r), i) == HD_SEVERITY_ERROR;
    return n;
}

static bool has_evidence(const struct hd_iommu_report *r, const char *source, const char *text)
{
    for (size_t i = 0; i < hd_iommu_report_get_evidence_count(r); i++) {
        if (strcmp(hd_iommu_report_get_evidence_source(r, i), source) == 0 &&
            strstr(hd_iommu_report_get_evidence_text(r, i), text) != NULL)
            return true;
    }
    return false;
}

/* ---- fake machines ------------------------------------------------------------------------- */

/* The root replaced by @spec (and spec_extra), materialized by the fake kernel. */
static void materialize(const char *spec)
{
    char *text;

    if (root != tree_fx.root) { /* the empty directory setup() made */
        ck_assert_int_eq(tmptree_remove(root), 0);
        free(root);
    }
    fx_umount(&tree_fx);
    ck_assert_int_ne(asprintf(&text, "%s%s", spec, spec_extra), -1);
    ck_assert_msg(fx_materialize_text(&tree_fx, text) == 0, "%s", tree_fx.error);
    root = tree_fx.root;
    free(text);
}

/* "cmdline \"...\"": @cmdline as one quoted spec word, without its trailing newline. */
static void cmdline_line(char *out, size_t size, const char *cmdline)
{
    size_t n = 0, len = strlen(cmdline);

    if (len > 0 && cmdline[len - 1] == '\n')
        len--;
    n += (size_t)snprintf(out, size, "cmdline \"");
    for (size_t i = 0; i < len && n + 3 < size; i++) {
        if (cmdline[i] == '"' || cmdline[i] == '\\')
            out[n++] = '\\';
        out[n++] = cmdline[i];
    }
    snprintf(out + n, size - n, "\"\n");
}

/* A machine without a running IOMMU: @cpu ("GenuineIntel", "GenuineIntel hypervisor"), ACPI
 * tables with @iommu's table ("none"; "intel enabled=no": the firmware has VT-d, the kernel did
 * not turn it on; "amd enabled=no"), empty sys/class/iommu and sys/kernel/iommu_groups. */
static void machine_with(const char *cpu, const char *iommu, const char *cmdline)
{
    char spec[2048], line[1024];

    cmdline_line(line, sizeof(line), cmdline);
    snprintf(spec, sizeof(spec), "cpu %s\niommu %s\n%s", cpu, iommu, line);
    materialize(spec);
}

static void machine(const char *cpu_vendor, const char *cmdline)
{
    machine_with(cpu_vendor, "none", cmdline);
}

/* @ngroups devices, each in its own group (0, 1, ...): what makes the kernel's groups. */
static void add_devices(char *spec, size_t size, int ngroups)
{
    for (int i = 0; i < ngroups; i++)
        snprintf(spec + strlen(spec), size - strlen(spec),
                 "device 0000:00:%02x.0 8086:10d3 class=020000 group=%d\n", i + 1, i);
}

/* An Intel host with VT-d on: 3 groups, vfio_iommu_type1 built in with allow_unsafe_interrupts
 * N, two units whose ecap is @ecap (bit 3: interrupt remapping). The spec makes one unit and
 * its own ecap; the second unit and the ecap the tests vary are written by hand. */
static void intel_on(const char *cmdline, const char *ecap)
{
    char spec[4096], line[1024];
    unsigned long long bits = 0;
    bool ir = hd_parse_hex(ecap, UINT64_MAX, &bits) == 0 && (bits & 8);

    cmdline_line(line, sizeof(line), cmdline);
    snprintf(spec, sizeof(spec),
             "cpu GenuineIntel\niommu intel irq-remap=%s\n%s"
             "module vfio_iommu_type1 builtin\n"
             "param vfio_iommu_type1 allow_unsafe_interrupts N\n",
             ir ? "yes" : "no", line);
    add_devices(spec, sizeof(spec), 3);
    materialize(spec);
    put("sys/class/iommu/dmar0/intel-iommu/ecap", ecap);
    put("sys/class/iommu/dmar1/intel-iommu/ecap", ecap);
}

/* An AMD host with AMD-Vi on and 2 groups; /proc/interrupts (which the spec language does not
 * make) only from amd_on(). */
static void amd_groups(const char *cmdline, int ngroups)
{
    char spec[4096], line[1024];

    cmdline_line(line, sizeof(line), cmdline);
    snprintf(spec, sizeof(spec), "cpu AuthenticAMD\niommu amd\n%s", line);
    add_devices(spec, sizeof(spec), ngroups);
    materialize(spec);
}

static void amd_on(const char *cmdline)
{
    amd_groups(cmdline, 2);
    put("proc/interrupts", "  24:   0   IR-PCI-MSI 512000-edge   ahci\n");
}

/* ---- IOMMU on -------------------------------------------------------------------------------- */

HD_TEST(intel_on_is_usable)
{
    struct hd_iommu_report *r;

    intel_on("BOOT_IMAGE=/vmlinuz ro intel_iommu=on quiet\n", "f0205a\n");
    r = probe();
    ck_assert(hd_iommu_report_is_usable(r));
    ck_assert(hd_iommu_report_is_enabled(r));
    ck_assert_int_eq(hd_iommu_report_get_vendor(r), HD_IOMMU_VENDOR_INTEL);
    ck_assert_str_eq(hd_iommu_vendor_to_string(HD_IOMMU_VENDOR_INTEL), "intel");
    ck_assert_uint_eq(hd_iommu_report_get_unit_count(r), 2);
    ck_assert_uint_eq(hd_iommu_report_get_group_count(r), 3);
    ck_assert_str_eq(hd_iommu_report_get_domain_type(r), "DMA-FQ");
    ck_assert_int_eq(hd_iommu_report_get_interrupt_remapping(r), HD_TRISTATE_YES);
    ck_assert_uint_eq(errors(r), 0);
    expect_problem(r, "suggest-iommu-pt", HD_SEVERITY_INFO, "DMA-FQ");
    expect_problem(r, "vfio-pci-not-loaded", HD_SEVERITY_INFO, NULL);
    ck_assert(has_evidence(r, "proc/cmdline", "intel_iommu=on"));
    ck_assert(!has_evidence(r, "proc/cmdline", "quiet"));
    ck_assert(has_evidence(r, "sys/class/iommu", "dmar0 dmar1"));
    ck_assert(has_evidence(r, "sys/kernel/iommu_groups", "3 groups"));
    ck_assert(has_evidence(r, "sys/firmware/acpi/tables/DMAR", "present: the firmware has VT-d"));
    ck_assert(
        has_evidence(r, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N"));
    ck_assert_ptr_nonnull(hd_iommu_report_get_cmdline(r));
    ck_assert_ptr_null(hd_iommu_report_get_evidence_text(r, 999));
    ck_assert_ptr_null(hd_findings_get_code(hd_iommu_report_get_findings(r), 999));
    ck_assert_ptr_eq(hd_iommu_report_ref(r), r);
    ck_assert_ptr_eq(hd_iommu_report_unref(r), r);
    ck_assert_ptr_null(hd_iommu_report_unref(r));
}
END_TEST

HD_TEST(intel_on_without_cmdline_and_pt)
{
    /* Debian 6.1 turns VT-d on by itself: groups decide, not the command line. */
    struct hd_iommu_report *r;

    spec_extra = "module vfio_pci\n";
    intel_on("ro iommu=pt\n", "f0205a"); /* iommu=pt: the groups' type is identity */
    r = probe();
    ck_assert(hd_iommu_report_is_usable(r));
    ck_assert_str_eq(hd_iommu_report_get_domain_type(r), "identity");
    expect_no_problem(r, "suggest-iommu-pt");
    expect_no_problem(r, "vfio-pci-not-loaded");
    ck_assert(has_evidence(r, "sys/module/vfio_pci", "loaded"));
    ck_assert(has_evidence(r, "sys/module/vfio", "not loaded"));
    ck_assert_uint_eq(hd_findings_count(hd_iommu_report_get_findings(r)), 0);
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(amd_on_is_usable)
{
    struct hd_iommu_report *r;

    spec_extra = "module vfio_pci builtin\nparam vfio_pci disable_vga N\n"; /* built in */
    amd_on("ro iommu=pt\n");
    r = probe();
    ck_assert(hd_iommu_report_is_usable(r));
    ck_assert_int_eq(hd_iommu_report_get_vendor(r), HD_IOMMU_VENDOR_AMD);
    ck_assert_int_eq(hd_iommu_report_get_interrupt_remapping(r), HD_TRISTATE_YES);
    ck_assert(has_evidence(r, "proc/interrupts", "remapping on"));
    ck_assert(has_evidence(r, "sys/module/vfio_pci", "built into the kernel"));
    ck_assert(has_evidence(r, "sys/firmware/acpi/tables/IVRS", "AMD-Vi"));
    ck_assert(has_evidence(r, "proc/cpuinfo", "AuthenticAMD"));
    ck_assert_uint_eq(hd_findings_count(hd_iommu_report_get_findings(r)), 0);
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(amd_iommu_on_is_a_warning_not_a_blocker)
{
    struct hd_iommu_report *r;

    amd_on("ro amd_iommu=on intel_iommu=on\n");
    r = probe();
    ck_assert(hd_iommu_report_is_usable(r));
    expect_problem(r, "amd-iommu-on-invalid", HD_SEVERITY_WARNING, "AMD-Vi: Unknown option - 'on'");
    ck_assert_ptr_nonnull(
        strstr(hd_findings_get_fix(hd_iommu_report_get_findings(r), (size_t)find_problem(r, "amd-iommu-on-invalid")),
               "iommu=pt"));
    expect_problem(r, "intel-option-on-amd", HD_SEVERITY_INFO, NULL);
    for (size_t i = 0; i < hd_findings_count(hd_iommu_report_get_findings(r)); i++) {
        const char *fix = hd_findings_get_fix(hd_iommu_report_get_findings(r), i);
        ck_assert_msg(strstr(fix, "add amd_iommu=on") == NULL, "advises amd_iommu=on: %s", fix);
    }
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(other_iommu_kinds)
{
    struct hd_iommu_report *r;

    /* An Arm SMMUv3 (QEMU virt): no ACPI DMAR or IVRS, one device in group 0. */
    materialize("iommu smmu\ncmdline console=ttyAMA0\n"
                "device 0000:00:01.0 1af4:1041 class=020000 group=0\n");
    r = probe();
    ck_assert(hd_iommu_report_is_enabled(r));
    ck_assert_int_eq(hd_iommu_report_get_vendor(r), HD_IOMMU_VENDOR_OTHER);
    ck_assert(has_evidence(r, "proc/cmdline", "no IOMMU or VFIO parameters"));
    expect_problem(r, "interrupt-remapping-unknown", HD_SEVERITY_INFO, NULL);
    ck_assert(hd_iommu_report_is_usable(r));
    hd_iommu_report_unref(r);
}
END_TEST

/* ---- IOMMU off: why, and what to do ------------------------------------------------------- */

HD_TEST(intel_firmware_only)
{
    struct hd_iommu_report *r;

    machine_with("GenuineIntel", "intel enabled=no", "ro quiet\n");
    r = probe();
    ck_assert(!hd_iommu_report_is_usable(r));
    ck_assert(!hd_iommu_report_is_enabled(r));
    ck_assert_int_eq(hd_iommu_report_get_vendor(r), HD_IOMMU_VENDOR_INTEL);
    expect_problem(r, "intel-iommu-not-enabled", HD_SEVERITY_ERROR, "DMAR table");
    ck_assert_ptr_nonnull(strstr(hd_findings_get_fix(hd_iommu_report_get_findings(r), 0), "intel_iommu=on"));
    ck_assert(has_evidence(r, "sys/class/iommu", "empty"));
    ck_assert(has_evidence(r, "sys/kernel/iommu_groups", "empty"));
    expect_no_problem(r, "vfio-pci-not-loaded"); /* noise while the IOMMU is off */
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(intel_firmware_off)
{
    struct hd_iommu_report *r;

    machine("GenuineIntel", "ro\n");
    r = probe();
    ck_assert(!hd_iommu_report_is_usable(r));
    expect_problem(r, "no-dmar-table", HD_SEVERITY_ERROR, NULL);
    ck_assert_ptr_nonnull(strstr(hd_findings_get_fix(hd_iommu_report_get_findings(r), 0), "firmware setup"));
    ck_assert(has_evidence(r, "sys/firmware/acpi/tables", "no DMAR or IVRS"));
    hd_iommu_report_unref(r);
}
END_TEST

/* A guest: the fix is the hypervisor's, not the firmware setup's. */
HD_TEST(virtual_machine_without_viommu)
{
    struct hd_iommu_report *r;

    machine("GenuineIntel hypervisor", "ro intel_iommu=on\n");
    r = probe();
    ck_assert(!hd_iommu_report_is_usable(r));
    expect_problem(r, "no-virtual-iommu", HD_SEVERITY_ERROR, "this is a virtual machine");
    ck_assert_ptr_nonnull(strstr(hd_findings_get_fix(hd_iommu_report_get_findings(r), (size_t)find_problem(
                                     r, "no-virtual-iommu")),
                                 "-device intel-iommu"));
    expect_no_problem(r, "intel-iommu-on-without-hardware");
    expect_no_problem(r, "no-dmar-table");
    ck_assert(has_evidence(r, "proc/cpuinfo", "hypervisor flag"));
    hd_iommu_report_unref(r);
    /* With a virtual IOMMU's DMAR table, the usual advice: turn it on. */
    machine_with("GenuineIntel hypervisor", "intel enabled=no", "ro\n");
    r = probe();
    expect_no_problem(r, "no-virtual-iommu");
    expect_problem(r, "intel-iommu-not-enabled", HD_SEVERITY_ERROR, NULL);
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(intel_iommu_on_without_hardware)
{
    struct hd_iommu_report *r;

    machine("GenuineIntel", "ro intel_iommu=on\n");
    r = probe();
    ck_assert(!hd_iommu_report_is_usable(r));
    expect_problem(r, "intel-iommu-on-without-hardware", HD_SEVERITY_ERROR,
                   "intel_iommu=on is on the kernel command line but the kernel found no IOMMU");
    expect_no_problem(r, "no-dmar-table");
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(intel_iommu_on_but_failed)
{
    struct hd_iommu_report *r;

    machine_with("GenuineIntel", "intel enabled=no", "intel_iommu=on");
    r = probe();
    expect_problem(r, "intel-iommu-failed", HD_SEVERITY_ERROR, NULL);
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(amd_firmware_off_and_failed)
{
    struct hd_iommu_report *r;

    machine("AuthenticAMD", "ro\n");
    r = probe();
    expect_problem(r, "no-ivrs-table", HD_SEVERITY_ERROR, "IVRS");
    ck_assert_ptr_nonnull(strstr(hd_findings_get_fix(hd_iommu_report_get_findings(r), 0), "nothing is needed"));
    hd_iommu_report_unref(r);
    machine_with("AuthenticAMD", "amd enabled=no", "ro\n");
    r = probe();
    expect_problem(r, "amd-iommu-failed", HD_SEVERITY_ERROR, NULL);
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(no_iommu_at_all)
{
    /* An empty root: nothing to read anywhere. */
    struct hd_iommu_report *r = probe();

    ck_assert(!hd_iommu_report_is_usable(r));
    ck_assert_int_eq(hd_iommu_report_get_vendor(r), HD_IOMMU_VENDOR_UNKNOWN);
    expect_problem(r, "no-iommu", HD_SEVERITY_ERROR, NULL);
    ck_assert_ptr_null(hd_iommu_report_get_cmdline(r));
    ck_assert_ptr_null(hd_iommu_report_get_domain_type(r));
    ck_assert(has_evidence(r, "proc/cmdline", "not readable"));
    ck_assert(has_evidence(r, "sys/firmware/acpi/tables", "missing"));
    ck_assert_int_eq(hd_iommu_report_get_interrupt_remapping(r), HD_TRISTATE_UNSET);
    hd_iommu_report_unref(r);
    /* The same on a known Intel CPU without ACPI tables. */
    put("proc/cpuinfo", "vendor_id : GenuineIntel\n");
    r = probe();
    expect_problem(r, "no-iommu", HD_SEVERITY_ERROR, "no ACPI tables");
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(iommu_off_is_the_cause)
{
    struct hd_iommu_report *r;

    machine_with("GenuineIntel", "intel enabled=no", "ro iommu=off intel_iommu=on\n");
    r = probe();
    expect_problem(r, "iommu-off", HD_SEVERITY_ERROR, NULL);
    expect_no_problem(r, "intel-iommu-not-enabled");
    expect_no_problem(r, "intel-iommu-failed");
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(intel_and_amd_iommu_off)
{
    struct hd_iommu_report *r;

    machine_with("GenuineIntel", "intel enabled=no", "intel_iommu=off\n");
    r = probe();
    expect_problem(r, "intel-iommu-off", HD_SEVERITY_ERROR, NULL);
    expect_no_problem(r, "intel-iommu-not-enabled");
    hd_iommu_report_unref(r);
    teardown();
    setup();
    machine_with("AuthenticAMD", "amd enabled=no", "amd_iommu=off\n");
    r = probe();
    expect_problem(r, "amd-iommu-off", HD_SEVERITY_ERROR, NULL);
    expect_no_problem(r, "amd-iommu-failed");
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(units_without_groups)
{
    struct hd_iommu_report *r;

    machine("GenuineIntel", "intel_iommu=on\n");
    ck_assert_int_eq(tmptree_mkdir(root, "sys/class/iommu/dmar0"), 0);
    r = probe();
    ck_assert(!hd_iommu_report_is_enabled(r));
    expect_problem(r, "no-iommu-groups", HD_SEVERITY_ERROR, "1 IOMMU unit");
    hd_iommu_report_unref(r);
}
END_TEST

/* ---- interrupt remapping ------------------------------------------------------------------ */

HD_TEST(ir_off_blocks)
{
    struct hd_iommu_report *r;

    intel_on("intel_iommu=on\n", "f02052\n"); /* ecap bit 3 clear */
    r = probe();
    ck_assert(hd_iommu_report_is_enabled(r));
    ck_assert(!hd_iommu_report_is_usable(r));
    ck_assert_int_eq(hd_iommu_report_get_interrupt_remapping(r), HD_TRISTATE_NO);
    expect_problem(r, "no-interrupt-remapping", HD_SEVERITY_ERROR,
                   "vfio_iommu_type1.allow_unsafe_interrupts=1");
    ck_assert_int_eq(find_problem(r, "no-interrupt-remapping"), 0); /* errors first */
    ck_assert(has_evidence(r, "sys/class/iommu/dmar*/intel-iommu/ecap", "0 of 2"));
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(ir_off_with_unsafe_interrupts_allowed)
{
    struct hd_iommu_report *r;

    intel_on("intel_iommu=on\n", "f0205a");
    put("proc/interrupts", " 0: 1 IO-APIC 2-edge timer\n 24: 0 PCI-MSI 512000-edge ahci\n");
    put("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
    r = probe();
    ck_assert(hd_iommu_report_is_usable(r));
    ck_assert_int_eq(hd_iommu_report_get_interrupt_remapping(r), HD_TRISTATE_NO);
    expect_problem(r, "unsafe-interrupts", HD_SEVERITY_WARNING, "inject interrupts");
    ck_assert(has_evidence(r, "proc/interrupts", "remapping off"));
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(ir_off_allowed_on_cmdline_module_not_loaded)
{
    struct hd_iommu_report *r;

    intel_on("intel_iommu=on vfio_iommu_type1.allow_unsafe_interrupts=1\n", "f02052");
    rm("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
    r = probe();
    ck_assert(hd_iommu_report_is_usable(r));
    expect_problem(r, "unsafe-interrupts", HD_SEVERITY_WARNING, NULL);
    hd_iommu_report_unref(r);
    /* Loaded with N, the command line notwithstanding (written at runtime): blocked. */
    put("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
    r = probe();
    ck_assert(!hd_iommu_report_is_usable(r));
    expect_problem(r, "no-interrupt-remapping", HD_SEVERITY_ERROR, NULL);
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(intremap_off_on_cmdline)
{
    struct hd_iommu_report *r;

    intel_on("intel_iommu=on intremap=off\n", "f0205a"); /* the hardware could */
    r = probe();
    ck_assert(!hd_iommu_report_is_usable(r));
    expect_problem(r, "no-interrupt-remapping", HD_SEVERITY_ERROR, "intremap=off");
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(ir_unknown_is_a_note)
{
    struct hd_iommu_report *r;

    amd_groups("ro\n", 1); /* no /proc/interrupts, and AMD units say nothing */
    r = probe();
    ck_assert(hd_iommu_report_is_usable(r));
    expect_problem(r, "interrupt-remapping-unknown", HD_SEVERITY_INFO, NULL);
    hd_iommu_report_unref(r);
}
END_TEST

/* ---- no-IOMMU mode, garbage ----------------------------------------------------------------- */

HD_TEST(noiommu_mode)
{
    struct hd_iommu_report *r;

    spec_extra = "module vfio builtin\nparam vfio enable_unsafe_noiommu_mode Y\n";
    machine("GenuineIntel", "ro\n");
    r = probe();
    ck_assert(!hd_iommu_report_is_usable(r));
    expect_problem(r, "noiommu-mode", HD_SEVERITY_WARNING, "QEMU cannot assign");
    expect_problem(r, "no-dmar-table", HD_SEVERITY_ERROR, NULL);
    ck_assert_int_eq(find_problem(r, "no-dmar-table"), 0);
    hd_iommu_report_unref(r);
    /* With an IOMMU on it only concerns group-less devices: a note. */
    intel_on("ro\n", "f0205a");
    r = probe();
    ck_assert(hd_iommu_report_is_usable(r));
    expect_problem(r, "noiommu-mode", HD_SEVERITY_INFO, NULL);
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(garbage_in_files)
{
    static const unsigned char junk[] = {0xff, 0x00, 'I', 'R', 0xfe, '\n', 0x00, 0x01};
    struct hd_iommu_report *r;

    intel_on("\"unterminated intel_iommu=on amd_iommu=on,,, iommu=\"\"\"", "zzz\n");
    ck_assert_int_eq(tmptree_write_data(root, "proc/cpuinfo", junk, sizeof(junk)), 0);
    ck_assert_int_eq(tmptree_write_data(root, "proc/interrupts", junk, sizeof(junk)), 0);
    ck_assert_int_eq(tmptree_write_data(root, "sys/kernel/iommu_groups/1/type", junk, sizeof(junk)),
                     0);
    put("sys/kernel/iommu_groups/notadir", "x");
    put("sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "maybe\n");
    put("sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "");
    ck_assert_int_eq(tmptree_symlink(root, "sys/class/iommu/dmar9", "/nonexistent"), 0);
    put("sys/firmware/acpi/tables/DMAR", "DMAR-not-parsed");
    r = probe();
    ck_assert(hd_iommu_report_is_enabled(r)); /* groups exist */
    ck_assert(has_evidence(r, "sys/firmware/acpi/tables/DMAR", "malformed"));
    ck_assert(has_evidence(r, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
                           "unexpected contents"));
    ck_assert_int_eq(hd_iommu_report_get_interrupt_remapping(r), HD_TRISTATE_UNSET);
    for (size_t i = 0; i < hd_findings_count(hd_iommu_report_get_findings(r)); i++)
        ck_assert_ptr_nonnull(hd_findings_get_message(hd_iommu_report_get_findings(r), i));
    hd_iommu_report_unref(r);
    /* A command line with a NUL byte: unreadable, said so, probe goes on. */
    ck_assert_int_eq(tmptree_write_data(root, "proc/cmdline", "a\0b", 3), 0);
    r = probe();
    ck_assert_ptr_null(hd_iommu_report_get_cmdline(r));
    ck_assert(has_evidence(r, "proc/cmdline", "NUL byte"));
    hd_iommu_report_unref(r);
}
END_TEST

/* ---- the DMAR table ------------------------------------------------------------------------- */

/* A DMAR table: one DRHD, one RMRR for 00:14.0 and one for a device behind a bridge. */
static size_t build_dmar(unsigned char *t, unsigned char flags)
{
    size_t off = 48;

    memset(t, 0, 256);
    memcpy(t, "DMAR", 4);
    t[37] = flags;
    t[off] = 0, t[off + 2] = 16; /* DRHD */
    off += 16;
    t[off] = 1, t[off + 2] = 32; /* RMRR, segment 0, one scope */
    t[off + 24] = 1, t[off + 25] = 8, t[off + 29] = 0x00, t[off + 30] = 0x14, t[off + 31] = 0;
    off += 32;
    t[off] = 1, t[off + 2] = 34; /* RMRR, a two-hop scope */
    t[off + 24] = 1, t[off + 25] = 10, t[off + 29] = 0x00, t[off + 30] = 0x1c;
    t[off + 32] = 0x00;
    off += 34;
    t[4] = (unsigned char)off;
    return off;
}

/* @len bytes of @t as the firmware's DMAR table, read as the probe reads it. */
static int dmar_read(const unsigned char *t, size_t len, struct hd_dmar_info *info)
{
    struct hd_ctx *ctx;
    int r;

    ck_assert_int_eq(tmptree_write_data(root, "sys/firmware/acpi/tables/DMAR", t, len), 0);
    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
    r = hd_dmar_read(ctx, info);
    hd_ctx_unref(ctx);
    return r;
}

HD_TEST(dmar_parse)
{
    unsigned char t[256];
    size_t len = build_dmar(t, 3);
    struct hd_dmar_info info;
    char addr[HD_PCI_ADDR_BUFSZ];

    ck_assert_int_eq(dmar_read(t, len, &info), 0);
    ck_assert(info.intr_remap);
    ck_assert(info.x2apic_opt_out);
    ck_assert_uint_eq(info.drhd, 1);
    ck_assert_uint_eq(info.rmrr, 2);
    ck_assert_uint_eq(info.n_rmrr_devices, 1);
    ck_assert_str_eq(hd_pci_addr_format(&info.rmrr_devices[0], addr), "0000:00:14.0");
    ck_assert_uint_eq(info.rmrr_behind_bridge, 1);

    ck_assert_int_eq(dmar_read(t, 40, &info), -EBADMSG);      /* short */
    ck_assert_int_eq(dmar_read(t, len - 1, &info), -EBADMSG); /* length past the data */
    t[0] = 'X';
    ck_assert_int_eq(dmar_read(t, len, &info), -EBADMSG);
    len = build_dmar(t, 0);
    t[48 + 2] = 2; /* a structure shorter than its own header */
    ck_assert_int_eq(dmar_read(t, len, &info), -EBADMSG);
    len = build_dmar(t, 0);
    t[48 + 16 + 2] = 200; /* running past the table */
    ck_assert_int_eq(dmar_read(t, len, &info), -EBADMSG);
}
END_TEST

HD_TEST(dmar_in_probe)
{
    unsigned char t[256];
    size_t len;
    struct hd_iommu_report *r;

    intel_on("intel_iommu=on\n", "f0205a");
    len = build_dmar(t, 1);
    ck_assert_int_eq(tmptree_write_data(root, "sys/firmware/acpi/tables/DMAR", t, len), 0);
    r = probe();
    ck_assert(has_evidence(r, "sys/firmware/acpi/tables/DMAR", "interrupt remapping supported"));
    expect_problem(r, "rmrr", HD_SEVERITY_INFO, "0000:00:14.0 and some behind bridges");
    hd_iommu_report_unref(r);
    /* IR read from the DMAR flags when the units say nothing. */
    teardown();
    setup();
    intel_on("intel_iommu=on\n", "f0205a");
    rm("sys/class/iommu/dmar0/intel-iommu/ecap");
    rm("sys/class/iommu/dmar1/intel-iommu/ecap");
    len = build_dmar(t, 0);
    ck_assert_int_eq(tmptree_write_data(root, "sys/firmware/acpi/tables/DMAR", t, len), 0);
    r = probe();
    ck_assert_int_eq(hd_iommu_report_get_interrupt_remapping(r), HD_TRISTATE_NO);
    expect_problem(r, "no-interrupt-remapping", HD_SEVERITY_ERROR, NULL);
    hd_iommu_report_unref(r);
}
END_TEST

HD_TEST(names)
{
    ck_assert_str_eq(hd_severity_to_string(HD_SEVERITY_ERROR), "error");
    ck_assert_str_eq(hd_severity_to_string(HD_SEVERITY_WARNING), "warning");
    ck_assert_str_eq(hd_severity_to_string(HD_SEVERITY_INFO), "info");
    ck_assert_str_eq(hd_iommu_vendor_to_string(HD_IOMMU_VENDOR_AMD), "amd");
    ck_assert_str_eq(hd_iommu_vendor_to_string(HD_IOMMU_VENDOR_OTHER), "other");
    ck_assert_str_eq(hd_iommu_vendor_to_string((enum hd_iommu_vendor)42), "unknown");
    ck_assert_str_eq(hd_cmdline_setting_to_string(HD_CMDLINE_PCI_REALLOC), "pci_realloc");
    /* The one home of command-line advice: the AMD IOMMU needs no switch (there is no
     * amd_iommu=on), Intel's is intel_iommu=on. */
    ck_assert_str_eq(hd_cmdline_advice(HD_ADVICE_IOMMU_ON, HD_IOMMU_VENDOR_INTEL), "intel_iommu=on");
    ck_assert_ptr_null(hd_cmdline_advice(HD_ADVICE_IOMMU_ON, HD_IOMMU_VENDOR_AMD));
    ck_assert_ptr_null(hd_cmdline_advice(HD_ADVICE_IOMMU_ON, HD_IOMMU_VENDOR_UNKNOWN));
    ck_assert_str_eq(hd_cmdline_advice(HD_ADVICE_IOMMU_PT, HD_IOMMU_VENDOR_AMD), "iommu=pt");
    ck_assert_ptr_null(hd_cmdline_setting_to_string(HD_CMDLINE_SETTING_COUNT));
}
END_TEST

/* ---- the tool ----------------------------------------------------------------------------- */

/* Run `hostdev --root ROOT ARGS` through sh; returns the exit status. */
static int run_tool(const char *hostdev, const char *args)
{
    char cmd[2048];
    int status;

    snprintf(cmd, sizeof(cmd), "'%s' --root '%s' %s", hostdev, root, args);
    status = system(cmd);
    ck_assert_msg(status != -1 && WIFEXITED(status), "could not run: %s", cmd);
    return WEXITSTATUS(status);
}

HD_TEST(tool_exit_codes_and_json)
{
    const char *build = getenv("HOSTDEV_BUILD");
    char hostdev[1024];

    snprintf(hostdev, sizeof(hostdev), "%s/hostdev", build ? build : "build");
    if (access(hostdev, X_OK) != 0) {
        fprintf(stderr, "test-iommu: %s not built yet: tool test skipped\n", hostdev);
        return;
    }
    intel_on("intel_iommu=on amd_iommu=on vfio-pci.ids=8086:10d3 \"x=a \\\" b\"\n", "f0205a");
    ck_assert_int_eq(run_tool(hostdev, "iommu >/dev/null"), 0);
    ck_assert_int_eq(run_tool(hostdev, "--json iommu | python3 -c 'import json,sys; "
                                       "d=json.load(sys.stdin); "
                                       "assert d[\"usable\"] is True; "
                                       "assert d[\"vendor\"] == \"intel\"; "
                                       "assert d[\"cmdline\"][\"settings\"][\"intel_iommu\"]; "
                                       "assert d[\"cmdline\"][\"vfio_pci_ids\"][0][\"vendor\"]"
                                       " == \"0x8086\"; "
                                       "assert d[\"findings\"][0][\"severity\"] == \"warning\"; "
                                       /* the one findings shape, as doctor and verify write it */
                                       "assert all(sorted(f) == [\"code\", \"device\", \"fix\", "
                                       "\"message\", \"severity\"] and f[\"device\"] is None "
                                       "for f in d[\"findings\"])'"),
                     0);
    ck_assert_int_eq(run_tool(hostdev, "iommu extra 2>/dev/null"), 2);
    ck_assert_int_eq(run_tool(hostdev, "iommu --help >/dev/null"), 0);
    teardown();
    setup();
    /* No sys/ at all is not a kernel's tree: a mistake (exit 2), not "no IOMMU". */
    ck_assert_int_eq(run_tool(hostdev, "iommu 2>/dev/null"), 2);
    char sys[512];
    snprintf(sys, sizeof(sys), "%s/sys", root);
    ck_assert_int_eq(mkdir(sys, 0755), 0);
    ck_assert_int_eq(run_tool(hostdev, "iommu >/dev/null"), 1);
    ck_assert_int_eq(run_tool(hostdev, "--json iommu | python3 -c 'import json,sys; "
                                       "d=json.load(sys.stdin); "
                                       "assert d[\"usable\"] is False; "
                                       "assert d[\"cmdline\"] is None; "
                                       "assert d[\"interrupt_remapping\"] is None'"),
                     0);
}
END_TEST

/* The report's ids that vfio-pci takes at boot are @want_ids ("VVVV:DDDD,...", "" none), from
 * @want, said as evidence; `hostdev iommu --json` (@hostdev) says the same. */
static void expect_boot_ids(const char *hostdev, enum hd_vfio_pci_ids_from want,
                            const char *want_ids)
{
    struct hd_iommu_report *r = probe();
    enum hd_vfio_pci_ids_from from;
    const struct hd_cmdline *ids = hd_iommu_report_get_vfio_pci_ids(r, &from);
    const char *source = want == HD_VFIO_PCI_IDS_CMDLINE ? "proc/cmdline" : "modprobe.d";
    char text[256] = "", said[512], cmd[1024];
    size_t used = 0;

    for (size_t i = 0; ids != NULL && i < hd_cmdline_get_vfio_pci_id_count(ids); i++) {
        struct hd_pci_id_match m;
        ck_assert_int_eq(hd_cmdline_get_vfio_pci_id(ids, i, &m), 0);
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%04x:%04x",
                                 used ? "," : "", m.vendor, m.device);
    }
    ck_assert_int_eq(from, want);
    ck_assert_str_eq(text, want_ids);
    ck_assert(want != HD_VFIO_PCI_IDS_NONE || ids == NULL);
    snprintf(said, sizeof(said), "vfio-pci takes ids %s at boot",
             want_ids[0] ? want_ids : "(none valid)");
    ck_assert(has_evidence(r, source, want != HD_VFIO_PCI_IDS_NONE ? said : "vfio-pci takes ids") ==
              (want != HD_VFIO_PCI_IDS_NONE));
    hd_iommu_report_unref(r);
    snprintf(cmd, sizeof(cmd),
             "--json iommu | python3 -c 'import json,sys; d=json.load(sys.stdin); "
             "assert d[\"vfio_pci_ids_from\"] == %s; "
             "assert \",\".join(i[\"vendor\"][2:] + \":\" + i[\"device\"][2:] "
             "for i in d[\"vfio_pci_ids\"]) == \"%s\"'",
             want == HD_VFIO_PCI_IDS_CMDLINE      ? "\"cmdline\""
             : want == HD_VFIO_PCI_IDS_MODPROBE_D ? "\"modprobe.d\""
                                                  : "None",
             want_ids);
    ck_assert_int_eq(run_tool(hostdev, cmd), 0);
}

/* The ids vfio-pci takes at boot: the command line's vfio-pci.ids= when it has one, else
 * modprobe.d's `options vfio-pci ids=`, which a built-in vfio_pci never gets (modprobe does not
 * load it); in the report, as evidence and in `hostdev iommu --json`, with where they come from. */
HD_TEST(vfio_pci_ids_at_boot)
{
    const char *build = getenv("HOSTDEV_BUILD");
    char hostdev[1024];

    snprintf(hostdev, sizeof(hostdev), "%s/hostdev", build ? build : "build");
    spec_extra = "module vfio_pci\n";
    intel_on("ro\n", "f0205a");
    expect_boot_ids(hostdev, HD_VFIO_PCI_IDS_NONE, "");
    put("etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:1b80,10de:10f0\n");
    expect_boot_ids(hostdev, HD_VFIO_PCI_IDS_MODPROBE_D, "10de:1b80,10de:10f0");
    /* The command line's own ids stay the command line's alone. */
    ck_assert_int_eq(run_tool(hostdev, "--json iommu | python3 -c 'import json,sys; "
                                       "assert json.load(sys.stdin)[\"cmdline\"]"
                                       "[\"vfio_pci_ids\"] == []'"),
                     0);
    /* The command line's win. */
    intel_on("ro vfio-pci.ids=8086:10d3\n", "f0205a");
    put("etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:1b80\n");
    expect_boot_ids(hostdev, HD_VFIO_PCI_IDS_CMDLINE, "8086:10d3");
    /* Even with no id vfio-pci takes (it skips a bad one): a string parameter, the last one
     * given is the one taken, and the command line's come last. */
    intel_on("ro vfio-pci.ids=bogus\n", "f0205a");
    put("etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:1b80\n");
    expect_boot_ids(hostdev, HD_VFIO_PCI_IDS_CMDLINE, "");
    /* Built in: modprobe.d's options never reach it. */
    spec_extra = "module vfio_pci builtin\nparam vfio_pci disable_vga N\n";
    intel_on("ro\n", "f0205a");
    put("etc/modprobe.d/vfio.conf", "options vfio-pci ids=10de:1b80\n");
    expect_boot_ids(hostdev, HD_VFIO_PCI_IDS_NONE, "");
}
END_TEST
