/* iommu.c - `hostdev iommu`: can this kernel give devices to VFIO, and if not, what to do. */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static void json_tristate(struct json *j, const char *key, enum hd_tristate v)
{
    json_key(j, key);
    if (v == HD_TRISTATE_UNSET)
        json_null(j);
    else
        json_bool(j, v == HD_TRISTATE_YES);
}

/* "vfio_pci_ids": the ids @cl gives vfio-pci (none: empty). */
static void json_vfio_pci_ids(struct json *j, const struct hd_cmdline *cl)
{
    json_key(j, "vfio_pci_ids");
    json_begin_array(j);
    for (size_t i = 0; cl != NULL && i < hd_cmdline_get_vfio_pci_id_count(cl); i++) {
        struct hd_pci_id_match m;
        hd_cmdline_get_vfio_pci_id(cl, i, &m);
        json_begin_object(j);
        json_kv_hex(j, "vendor", m.vendor, 4);
        json_kv_hex(j, "device", m.device, 4);
        json_kv_hex(j, "subvendor", m.subvendor, 4);
        json_kv_hex(j, "subdevice", m.subdevice, 4);
        json_kv_hex(j, "class", m.class_code, 6);
        json_kv_hex(j, "class_mask", m.class_mask, 6);
        json_end_object(j);
    }
    json_end_array(j);
}

static void json_cmdline(struct json *j, const struct hd_cmdline *cl)
{
    json_key(j, "cmdline");
    if (cl == NULL) {
        json_null(j);
        return;
    }
    json_begin_object(j);
    json_key(j, "params");
    json_begin_array(j);
    for (size_t i = 0; i < hd_cmdline_count(cl); i++) {
        json_begin_object(j);
        json_kv_string(j, "name", hd_cmdline_get_name_at(cl, i));
        json_kv_string(j, "value", hd_cmdline_get_value_at(cl, i));
        json_end_object(j);
    }
    json_end_array(j);
    json_kv_string(j, "init_args", hd_cmdline_get_init_args(cl));
    json_key(j, "settings");
    json_begin_object(j);
    for (int s = 0; s < HD_CMDLINE_SETTING_COUNT; s++)
        json_tristate(j, hd_cmdline_setting_to_string((enum hd_cmdline_setting)s),
                      hd_cmdline_get_setting(cl, (enum hd_cmdline_setting)s));
    json_end_object(j);
    json_vfio_pci_ids(j, cl);
    json_key(j, "invalid");
    json_begin_array(j);
    for (size_t i = 0; i < hd_cmdline_get_invalid_count(cl); i++) {
        const char *param, *option, *why, *log;
        hd_cmdline_get_invalid(cl, i, &param, &option, &why, &log);
        json_begin_object(j);
        json_kv_string(j, "param", param);
        json_kv_string(j, "option", option);
        json_kv_string(j, "why", why);
        json_kv_string(j, "kernel_log", log);
        json_end_object(j);
    }
    json_end_array(j);
    json_end_object(j);
}

static void print_json(const struct hd_iommu_report *r)
{
    enum hd_tristate ir = hd_iommu_report_get_interrupt_remapping(r);
    struct json j;

    json_init(&j, stdout, 2);
    json_begin_object(&j);
    json_kv_bool(&j, "usable", hd_iommu_report_is_usable(r));
    json_kv_bool(&j, "enabled", hd_iommu_report_is_enabled(r));
    json_kv_string(&j, "vendor", hd_iommu_vendor_to_string(hd_iommu_report_get_vendor(r)));
    json_kv_int(&j, "units", (long long)hd_iommu_report_get_unit_count(r));
    json_kv_int(&j, "groups", (long long)hd_iommu_report_get_group_count(r));
    json_kv_string(&j, "domain_type", hd_iommu_report_get_domain_type(r));
    json_tristate(&j, "interrupt_remapping", ir);
    json_key(&j, "evidence");
    json_begin_array(&j);
    for (size_t i = 0; i < hd_iommu_report_get_evidence_count(r); i++) {
        json_begin_object(&j);
        json_kv_string(&j, "source", hd_iommu_report_get_evidence_source(r, i));
        json_kv_string(&j, "text", hd_iommu_report_get_evidence_text(r, i));
        json_end_object(&j);
    }
    json_end_array(&j);
    json_kv_findings(&j, "findings", hd_iommu_report_get_findings(r), false);
    /* The ids vfio-pci takes at boot, and where from: the command line's when it has them. */
    enum hd_vfio_pci_ids_from from;
    json_vfio_pci_ids(&j, hd_iommu_report_get_vfio_pci_ids(r, &from));
    json_kv_string(&j, "vfio_pci_ids_from",
                   from == HD_VFIO_PCI_IDS_CMDLINE      ? "cmdline"
                   : from == HD_VFIO_PCI_IDS_MODPROBE_D ? "modprobe.d"
                                                        : NULL);
    json_cmdline(&j, hd_iommu_report_get_cmdline(r));
    json_end_object(&j);
    json_finish(&j);
}

static void print_human(const struct hd_iommu_report *r)
{
    enum hd_tristate ir = hd_iommu_report_get_interrupt_remapping(r);
    const char *type = hd_iommu_report_get_domain_type(r);
    const struct hd_findings *findings = hd_iommu_report_get_findings(r);

    if (hd_iommu_report_is_enabled(r))
        printf("IOMMU: %s (%s, %zu groups, default domain %s, interrupt remapping %s)\n",
               hd_iommu_report_is_usable(r) ? "usable" : "NOT usable",
               hd_iommu_vendor_to_string(hd_iommu_report_get_vendor(r)),
               hd_iommu_report_get_group_count(r), type ? type : "unknown",
               ir == HD_TRISTATE_YES  ? "on"
               : ir == HD_TRISTATE_NO ? "off"
                                      : "unknown");
    else
        printf("IOMMU: NOT usable (no IOMMU is running; vendor %s)\n",
               hd_iommu_vendor_to_string(hd_iommu_report_get_vendor(r)));
    /* Errors and warnings under "Problems", then what is only worth knowing under "Notes". */
    for (int notes = 0; notes <= 1; notes++) {
        bool header = false;
        for (size_t i = 0; i < hd_findings_count(findings); i++) {
            enum hd_severity sev = hd_findings_get_severity(findings, i);
            char prefix[32];
            if ((sev == HD_SEVERITY_INFO) != (notes == 1))
                continue;
            if (!header)
                printf(notes ? "\nNotes:\n" : "\nProblems:\n");
            header = true;
            snprintf(prefix, sizeof(prefix), "  %-8s", hd_severity_to_string(sev));
            tool_print_wrapped(stdout, prefix, 10, hd_findings_get_message(findings, i));
            tool_print_wrapped(stdout, "          fix: ", 15, hd_findings_get_fix(findings, i));
        }
    }
    printf("\nEvidence:\n");
    for (size_t i = 0; i < hd_iommu_report_get_evidence_count(r); i++)
        printf("  %s: %s\n", hd_iommu_report_get_evidence_source(r, i),
               hd_iommu_report_get_evidence_text(r, i));
}

static int run_iommu(struct tool *t, int argc, char **argv)
{
    struct hd_iommu_report *r;
    bool usable;
    int err;

    (void)argv;
    if (argc > 1)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s' (see 'hostdev iommu --help')",
                          argv[1]);
    hd_ctx_clear_error(t->ctx);
    err = hd_iommu_probe(t->ctx, &r);
    if (err < 0)
        return tool_lib_error(t, EXIT_FAILED, err, "IOMMU probe");
    if (tool_json(t))
        print_json(r);
    else
        print_human(r);
    usable = hd_iommu_report_is_usable(r);
    hd_iommu_report_unref(r);
    return usable ? EXIT_DONE : EXIT_FAILED;
}

const struct tool_command cmd_iommu = {
    .name = "iommu",
    .run = run_iommu,
    .usage = "",
    .summary = "whether the IOMMU is usable for VFIO, and if not, how to fix it",
    .help = "Reads the kernel command line, /sys/class/iommu, /sys/kernel/iommu_groups, the\n"
            "ACPI DMAR/IVRS tables, interrupt remapping and the vfio module parameters, then\n"
            "lists what it found (evidence) and each problem with its fix. The command line\n"
            "is only a hint: IOMMU groups are what prove the IOMMU is on.\n\n"
            "Exit status: 0 usable, 1 not usable, 2 bad usage.\n",
};
