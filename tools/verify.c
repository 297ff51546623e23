/* verify.c - `hostdev verify ADDR`: prove through the VFIO API that a VM can use the device. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const char *errno_name(int err)
{
    static const struct {
        int err;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},     {ENOENT, "ENOENT"}, {EIO, "EIO"},       {EBADF, "EBADF"},
        {ENOMEM, "ENOMEM"},   {EACCES, "EACCES"}, {EBUSY, "EBUSY"},   {ENODEV, "ENODEV"},
        {EINVAL, "EINVAL"},   {ENOTTY, "ENOTTY"}, {ENOSPC, "ENOSPC"}, {EPROTO, "EPROTO"},
        {ENOTSUP, "ENOTSUP"}, {ENXIO, "ENXIO"},   {EFAULT, "EFAULT"}, {ENODATA, "ENODATA"},
    };

    if (err < 0)
        err = -err;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].err == err)
            return names[i].name;
    }
    return NULL;
}

static const char *status_word(enum hd_vfio_step_status s)
{
    return s == HD_VFIO_STEP_OK ? "ok" : s == HD_VFIO_STEP_FAILED ? "failed" : "skipped";
}

static void print_json(const struct hd_vfio_report *r)
{
    uint32_t flags, nreg, nirq;
    struct json j;

    json_init(&j, stdout, 2);
    json_begin_object(&j);
    json_kv_string(&j, "device", hd_vfio_report_get_name(r));
    json_kv_bool(&j, "usable", hd_vfio_report_is_usable(r));
    json_kv_int_or_null(&j, "iommu_group", hd_vfio_report_get_group(r),
                        hd_vfio_report_get_group(r) >= 0);
    json_kv_string(&j, "driver", hd_vfio_report_get_driver(r));
    json_kv_string(&j, "iommu_type", hd_vfio_report_get_iommu_type(r));
    json_kv_string(&j, "cdev", hd_vfio_report_get_cdev(r));
    json_key(&j, "device_info");
    if (hd_vfio_report_get_device_info(r, &flags, &nreg, &nirq) == 0) {
        json_begin_object(&j);
        json_kv_hex(&j, "flags", flags, 1);
        json_kv_bool(&j, "pci", (flags & (1u << 1)) != 0);
        json_kv_bool(&j, "reset", (flags & (1u << 0)) != 0);
        json_kv_int(&j, "regions", nreg);
        json_kv_int(&j, "irqs", nirq);
        json_end_object(&j);
    } else {
        json_null(&j);
    }
    json_key(&j, "steps");
    json_begin_array(&j);
    for (size_t i = 0; i < hd_vfio_report_get_step_count(r); i++) {
        int err = hd_vfio_report_get_step_error(r, i);

        json_begin_object(&j);
        json_kv_string(&j, "name", hd_vfio_report_get_step_name(r, i));
        json_kv_string(&j, "status", status_word(hd_vfio_report_get_step_status(r, i)));
        json_kv_string(&j, "errno", err ? errno_name(err) : NULL);
        json_kv_string(&j, "error", err ? strerror(-err) : NULL);
        json_kv_string(&j, "detail", hd_vfio_report_get_step_detail(r, i));
        json_end_object(&j);
    }
    json_end_array(&j);
    json_key(&j, "blockers");
    json_begin_array(&j);
    for (size_t i = 0; i < hd_vfio_report_get_blocker_count(r); i++) {
        json_begin_object(&j);
        json_kv_string(&j, "address", hd_vfio_report_get_blocker_name(r, i));
        json_kv_string(&j, "driver", hd_vfio_report_get_blocker_driver(r, i));
        json_end_object(&j);
    }
    json_end_array(&j);
    json_kv_findings(&j, "findings", hd_vfio_report_get_findings(r), true);
    json_end_object(&j);
    json_finish(&j);
}

static void print_text(const struct hd_vfio_report *r)
{
    for (size_t i = 0; i < hd_vfio_report_get_step_count(r); i++) {
        const char *detail = hd_vfio_report_get_step_detail(r, i);
        int err = hd_vfio_report_get_step_error(r, i);

        printf("  %-7s %-32s", status_word(hd_vfio_report_get_step_status(r, i)),
               hd_vfio_report_get_step_name(r, i));
        if (detail != NULL)
            printf(" %s", detail);
        if (err != 0)
            printf("%s%s (%s)", detail ? ": " : " ", strerror(-err),
                   errno_name(err) ? errno_name(err) : "?");
        putchar('\n');
    }
    if (hd_vfio_report_is_usable(r)) {
        const char *type = hd_vfio_report_get_iommu_type(r);
        const char *cdev = hd_vfio_report_get_cdev(r);

        printf("%s: usable by a VM through VFIO (IOMMU group %d", hd_vfio_report_get_name(r),
               hd_vfio_report_get_group(r));
        if (type != NULL)
            printf(", container %s", type);
        if (cdev != NULL)
            printf(", cdev %s with iommufd", cdev);
        printf(")\n");
    }
}

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_vfio_report *r = NULL;
    struct hd_device *dev = NULL;
    int code, err;

    int first;
    if ((code = tool_operands_only(t, &cmd_verify, argc, argv, &first)) != EXIT_DONE)
        return code;
    argc -= first - 1, argv += first - 1; /* argv[1]: the operand */
    if (argc != 2)
        return tool_error(t, EXIT_USAGE, "verify takes one device: an address or a mediated "
                          "device's UUID");
    char uuid[37];
    hd_ctx_clear_error(t->ctx);
    if (hd_mdev_uuid_parse(argv[1], uuid) == 0) { /* a mediated device */
        err = hd_vfio_verify_mdev(t->ctx, uuid, &r);
        /* No such device, or sysfs contents the kernel would not write (bad input): nothing
         * to verify, as for a PCI address that does not open. */
        if ((err == -ENOENT && hd_ctx_last_reason(t->ctx) == HD_REASON_NO_DEVICE) ||
            (err < 0 && hd_ctx_last_reason(t->ctx) == HD_REASON_INVALID)) {
            hd_vfio_report_unref(r);
            return tool_lib_error(t, EXIT_USAGE, err, "%s", argv[1]);
        }
    } else {
        code = tool_open_device(t, argv[1], &dev);
        if (code != EXIT_DONE)
            return code;
        err = hd_vfio_verify(t->ctx, hd_device_get_addr(dev), &r);
        hd_device_unref(dev);
    }
    if (r == NULL)
        return tool_lib_error(t, err == -EINVAL ? EXIT_USAGE : EXIT_FAILED, err, "%s", argv[1]);
    if (tool_json(t))
        print_json(r);
    else
        print_text(r);
    if (err == 0) {
        code = EXIT_DONE;
    } else {
        code = EXIT_FAILED;
        const struct hd_findings *f = hd_vfio_report_get_findings(r);
        const char *why = hd_findings_get_message(f, 0), *fix = hd_findings_get_fix(f, 0);
        const char *name = hd_vfio_report_get_name(r);
        enum hd_remedy remedy = hd_findings_get_remedy(f, 0);
        bool named = why != NULL && strncmp(why, name, strlen(name)) == 0;
        bool detach = remedy == HD_REMEDY_DETACH || remedy == HD_REMEDY_DETACH_GROUP;
        char hint[96];
        /* The message names the device itself when it starts with it: say it once. The
         * command that detaches it is the tool's to give. */
        snprintf(hint, sizeof(hint), "'hostdev detach %s%s' detaches it",
                 remedy == HD_REMEDY_DETACH_GROUP ? "--group " : "", name);
        tool_error_hint(t, code, detach ? hint : NULL, "%s%s%s%s%s%s", named ? "" : name,
                        named ? "" : " is not usable by a VM: ", why ? why : strerror(-err),
                        fix ? ". Fix: " : "", fix ? fix : "", fix ? "." : "");
    }
    hd_vfio_report_unref(r);
    return code;
}

const struct tool_command cmd_verify = {
    .name = "verify",
    .takes = TOOL_TAKES_MDEV,
    .run = run,
    .usage = "ADDR | MDEV-UUID",
    .summary = "prove through the VFIO API that a VM can use a detached device",
    .help = "Opens /dev/vfio/vfio and the device's group the way QEMU does: checks the API\n"
            "version and the Type1 IOMMU backend, that the group is viable, attaches the\n"
            "IOMMU, gets the device fd and its info; then the vfio cdev + iommufd path when\n"
            "the kernel has one. Everything is closed again. When a step fails, says why\n"
            "and how to fix it (group members that block, interrupt remapping, permissions,\n"
            "a group already open elsewhere, a device not detached). A mediated device\n"
            "(its UUID) is got from its own group by UUID.\n"
            "Exit status: 0 usable, 1 not usable, 2 bad input.\n",
};
