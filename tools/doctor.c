/* doctor.c - `hostdev doctor`: why passthrough fails here, in plain words, and the fix. */
#include "tool.h"
#include "opout.h"

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_pci_addr addr;
    struct hd_diagnosis *d;
    size_t n, problems = 0;
    int r;

    if (argc > 2)
        return tool_error(t, EXIT_USAGE, "takes at most one device");
    if (argc == 2 && tool_parse_addr(t, argv[1], &addr) < 0)
        return EXIT_USAGE;
    hd_ctx_clear_error(t->ctx);
    if ((r = hd_doctor_run(t->ctx, argc == 2 ? &addr : NULL, &d)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "diagnosis");
    n = hd_diagnosis_count(d);
    for (size_t i = 0; i < n; i++) {
        if (hd_diagnosis_get_severity(d, i) != HD_SEVERITY_INFO)
            problems++;
    }
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_bool(&j, "ok", problems == 0);
        json_key(&j, "findings");
        json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            json_begin_object(&j);
            json_kv_string(&j, "severity", hd_severity_name(hd_diagnosis_get_severity(d, i)));
            json_kv_string(&j, "code", hd_diagnosis_get_code(d, i));
            json_kv_string(&j, "device", hd_diagnosis_get_device(d, i));
            json_kv_string(&j, "problem", hd_diagnosis_get_problem(d, i));
            json_kv_string(&j, "fix", hd_diagnosis_get_fix(d, i));
            json_end_object(&j);
        }
        json_end_array(&j);
        json_end_object(&j);
        json_finish(&j);
    } else {
        for (size_t i = 0; i < n; i++) {
            const char *dev = hd_diagnosis_get_device(d, i);
            printf("%s%s%s: %s\n  fix: %s\n", hd_severity_name(hd_diagnosis_get_severity(d, i)),
                   dev ? " " : "", dev ? dev : "", hd_diagnosis_get_problem(d, i),
                   hd_diagnosis_get_fix(d, i));
        }
        if (problems == 0)
            printf("no problems found%s\n", n ? " (only notes above)" : "");
    }
    hd_diagnosis_unref(d);
    return problems ? EXIT_FAILED : EXIT_DONE;
}

const struct tool_command cmd_doctor = {
    .name = "doctor",
    .run = run,
    .usage = "[ADDR]",
    .summary = "diagnose why passthrough fails (IOMMU, groups, permissions, BARs) and the fix",
    .help = "Without ADDR: the IOMMU, and every device that is detached or assigned.\n"
            "Exit 1 when a problem (warning or error) was found; notes alone exit 0.\n",
};
