/* doctor.c - `hostdev doctor`: why passthrough fails here, in plain words, and the fix. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "opout.h"

extern const struct tool_command cmd_doctor;

/* "16G", "512M", "1073741824": bytes (K, M, G, T are powers of 1024; a B or iB may follow). */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    unsigned int shift = 0;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -EINVAL;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (shift && *end == 'i')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0' || v > (UINT64_MAX >> shift))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

/* The problem text names its device, so it reads alone (JSON, the library): the text line
 * then starts with it instead of saying the device twice ("warning 0000:01:00.0 is on ..."). */
static bool names_device_first(const char *problem, const char *dev)
{
    size_t n = dev != NULL ? strlen(dev) : 0;

    return problem != NULL && n > 0 && strncmp(problem, dev, n) == 0 &&
           (problem[n] == ' ' || problem[n] == ':');
}

static const struct option doctor_opts[] = {{"vm-memory", required_argument, NULL, 'm'},
                                            {"pid", required_argument, NULL, 'p'},
                                            {"unit", required_argument, NULL, 'u'},
                                            {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_pci_addr addr;
    struct hd_findings *d;
    size_t n, problems;
    uint64_t vm_bytes = 0;
    const char *unit = NULL;
    char uuid[37];
    const char *node = NULL; /* a USB or SCSI device */
    bool mdev = false;
    long pid = 0;
    int c, r;

    optind = 0;
    while ((c = tool_getopt(argc, argv, cmd_doctor.shortopts, cmd_doctor.opts)) != -1) {
        char *end;
        switch (c) {
        case 'm':
            if (parse_size(optarg, &vm_bytes) < 0 || vm_bytes == 0)
                return tool_error(t, EXIT_USAGE, "--vm-memory '%s': a size such as 16G or 4096M",
                                  optarg);
            break;
        case 'p':
            errno = 0;
            pid = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || pid <= 0)
                return tool_error(t, EXIT_USAGE, "--pid '%s': a process id", optarg);
            break;
        case 'u':
            unit = optarg;
            break;
        default:
            tool_usage(&cmd_doctor, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if ((pid || unit) && !vm_bytes)
        return tool_error(t, EXIT_USAGE, "--pid and --unit go with --vm-memory SIZE");
    if (pid && unit)
        return tool_error(t, EXIT_USAGE, "--pid or --unit, not both");
    if (argc - optind > 1)
        return tool_error(t, EXIT_USAGE, "takes at most one device");
    /* A mediated device by its UUID (or libvirt's mdev_ name), a USB or SCSI device by its
     * name, as acquire and hostdev-xml take them; else a PCI device. */
    if (argc - optind == 1 && hd_mdev_uuid_parse(argv[optind], uuid) == 0)
        mdev = true;
    else if (argc - optind == 1 && tool_names_node(argv[optind]))
        node = argv[optind];
    else if (argc - optind == 1 && tool_parse_addr(t, argv[optind], &addr) < 0)
        return EXIT_USAGE;
    hd_ctx_clear_error(t->ctx);
    /* A device neither there nor in the map is bad input, as for every command that names one;
     * one the map still gives a VM is diagnosed though it is gone. */
    if (mdev || node != NULL) {
        r = mdev ? hd_doctor_run_mdev(t->ctx, uuid, &d) : hd_doctor_run_node(t->ctx, node, &d);
        /* No such name either: bad input, as a PCI address is. */
        if (r < 0)
            return tool_lib_error(t, r == -ENODEV || r == -ENOENT || r == -EINVAL
                                         ? EXIT_USAGE : tool_exit_for(t), r, "%s", argv[optind]);
    } else if ((r = hd_doctor_run(t->ctx, argc - optind == 1 ? &addr : NULL, &d)) < 0) {
        if (r == -ENODEV && argc - optind == 1)
            return tool_error_hint(t, EXIT_USAGE, "a device the firmware hides, or one behind a "
                                   "disabled bridge, does not show up", "%s",
                                   hd_ctx_last_error(t->ctx));
        return tool_lib_error(t, tool_exit_for(t), r, "diagnosis");
    }
    if (vm_bytes && (r = hd_doctor_check_memlock(t->ctx, d, (pid_t)pid, unit, vm_bytes)) < 0) {
        hd_findings_unref(d);
        return tool_lib_error(t, tool_exit_for(t), r, "locked-memory check");
    }
    n = hd_findings_count(d);
    problems = hd_findings_count_at_least(d, HD_SEVERITY_WARNING);
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_bool(&j, "ok", problems == 0);
        json_kv_findings(&j, "findings", d, true);
        json_end_object(&j);
        json_finish(&j);
    } else {
        for (size_t i = 0; i < n; i++) {
            const char *dev = hd_findings_get_device(d, i);
            char head[64];
            const char *problem = hd_findings_get_message(d, i);
            enum hd_severity severity = hd_findings_get_severity(d, i);
            if (names_device_first(problem, dev))
                snprintf(head, sizeof(head), "%s", hd_severity_to_string(severity));
            else
                snprintf(head, sizeof(head), "%s%s%s:", hd_severity_to_string(severity),
                         dev ? " " : "", dev ? dev : "");
            tool_print_wrapped(stdout, head, 2, problem);
            tool_print_wrapped(stdout, "  fix: ", 7, hd_findings_get_fix(d, i));
            char commands[4][TOOL_COMMAND_MAX];
            size_t nc = tool_remedy_commands(d, i, commands, 4);
            for (size_t k = 0; k < nc; k++)
                printf("  %s %s\n", k == 0 ? "run:" : " or:", commands[k]);
        }
        if (problems == 0)
            printf("no problems found%s\n", n ? " (only notes above)" : "");
    }
    hd_findings_unref(d);
    return problems ? EXIT_FAILED : EXIT_DONE;
}

const struct tool_command cmd_doctor = {
    .shortopts = "m:p:u:",
    .opts = doctor_opts,
    .name = "doctor",
    .takes = TOOL_TAKES_ANY,
    .run = run,
    .usage = "[ADDR|UUID|USB|SCSI]\n"
             "       [--vm-memory SIZE [--pid PID|--unit UNIT]]",
    .summary = "why passthrough fails (IOMMU, groups, permissions...) and the fix",
    .help = "Without ADDR: the IOMMU, and every device that is detached or assigned.\n"
            "UUID: a mediated device (or libvirt's mdev_<uuid>): its driver, IOMMU group,\n"
            "/dev/vfio/N and assignment.\n"
            "USB, SCSI: usb_BUS_PORT, usb:VVVV:PPPP[:SERIAL] or scsi_H_B_T_L: the\n"
            "assignment's device still in its place, its node the recorded one and the VM's\n"
            "user's; one no VM holds: its node, and whether the host keeps or uses it.\n"
            "  -m, --vm-memory SIZE  the VM's memory (16G): VFIO pins all of it, so the\n"
            "                        process that runs QEMU must be allowed to lock that much\n"
            "                        and 1 GiB (RLIMIT_MEMLOCK, unless it has CAP_IPC_LOCK)\n"
            "  -p, --pid PID         that process (default: this shell's limit, which it\n"
            "                        passes on)\n"
            "  -u, --unit UNIT       the running systemd unit that starts QEMU\n"
            "Exit 1 when a problem (warning or error) was found; notes alone exit 0.\n",
};
