/* test-monitor.c - device events: the kernel's netlink message format, and the fake kernel's
 * channel as hd_monitor reads it (new events only, whole lines, malformed ones skipped). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "internal.h"

#include "hdtest.h"

/* A message as the kernel sends it: fields separated by NULs, the last one NUL-terminated. */
#define MSG(s) s, sizeof(s) - 1

HD_TEST(parses_kernel_messages)
{
    struct hd_uevent ev;
    char slot[HD_PCI_ADDR_BUFSZ];

    ck_assert_int_eq(hd_uevent_parse(MSG("bind@/devices/pci0000:00/0000:00:1c.0/0000:03:00.0\0"
                                         "ACTION=bind\0DEVPATH=/devices/pci0000:00/0000:00:1c.0/"
                                         "0000:03:00.0\0SUBSYSTEM=pci\0DRIVER=vfio-pci\0"
                                         "PCI_ID=8086:10D3\0PCI_SLOT_NAME=0000:03:00.0\0"
                                         "SEQNUM=4242\0"),
                                     &ev),
                     0);
    ck_assert_int_eq(hd_uevent_get_action(&ev), HD_UEVENT_BIND);
    ck_assert_str_eq(hd_uevent_action_to_string(hd_uevent_get_action(&ev)), "bind");
    ck_assert_str_eq(hd_uevent_get_subsystem(&ev), "pci");
    ck_assert_str_eq(hd_uevent_get_devpath(&ev), "/devices/pci0000:00/0000:00:1c.0/0000:03:00.0");
    ck_assert_str_eq(hd_uevent_get_driver(&ev), "vfio-pci");
    ck_assert_ptr_nonnull(hd_uevent_get_addr(&ev));
    ck_assert_str_eq(hd_pci_addr_format(hd_uevent_get_addr(&ev), slot), "0000:03:00.0");
    ck_assert_uint_eq(hd_uevent_get_seqnum(&ev), 4242);

    /* Not PCI, no driver, the last field without its NUL. */
    ck_assert_int_eq(hd_uevent_parse(MSG("remove@/devices/pci0000:00/0000:00:02.0/usb1/1-1\0"
                                         "ACTION=remove\0DEVPATH=/devices/pci0000:00/0000:00:02.0/"
                                         "usb1/1-1\0SUBSYSTEM=usb\0SEQNUM=7"),
                                     &ev),
                     0);
    ck_assert_int_eq(hd_uevent_get_action(&ev), HD_UEVENT_REMOVE);
    ck_assert_str_eq(hd_uevent_get_subsystem(&ev), "usb");
    ck_assert_ptr_null(hd_uevent_get_driver(&ev));
    ck_assert_ptr_null(hd_uevent_get_addr(&ev));
    ck_assert_uint_eq(hd_uevent_get_seqnum(&ev), 7);
}
END_TEST

HD_TEST(rejects_what_is_not_a_kernel_event)
{
    static const struct {
        const char *msg;
        size_t len;
        const char *why;
    } bad[] = {
        {MSG("libudev\0\xfe\xed\xca\xfe\0\0\0\0"), "udevd's own messages"},
        {MSG(""), "empty"},
        {MSG("add@/devices/x\0ACTION=add\0=novalue\0SUBSYSTEM=pci\0DEVPATH=/devices/x\0"),
         "a field without a key"},
        {MSG("add@/devices/x\0ACTION=add\0SUBSYSTEM=pci\0"), "no DEVPATH"},
        {MSG("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0SUBSYSTEM=\0"), "empty SUBSYSTEM"},
        {MSG("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0"), "no SUBSYSTEM"},
        {MSG("add@/devices/x\0DEVPATH=/devices/x\0SUBSYSTEM=pci\0"), "no ACTION"},
        {MSG("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0SUBSYSTEM=pci\0DRIVER=a\nb\0"),
         "a control character"},
        {MSG("add@/devices/x\0ACTION=add\0DEVPATH=devices/x\0SUBSYSTEM=pci\0"),
         "a relative DEVPATH"},
        {MSG("frob@/devices/x\0ACTION=frob\0DEVPATH=/devices/x\0SUBSYSTEM=pci\0"),
         "an action no kernel sends"},
    };
    struct hd_uevent ev;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(hd_uevent_parse(bad[i].msg, bad[i].len, &ev) == -EINVAL,
                      "accepted: %s", bad[i].why);
}
END_TEST

static char root[64];
static struct hd_ctx *ctx;

static void channel_append(const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/proc/hostdev-uevents", root);
    FILE *f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    char proc[96];
    strcpy(root, "/tmp/hostdev-monitor-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(proc, sizeof(proc), "%s/proc", root);
    ck_assert_int_eq(mkdir(proc, 0755), 0);
    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
}

static void teardown(void)
{
    char cmd[96];
    hd_ctx_unref(ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}

#define LINE(action, extra)                                                                        \
    action "@/devices/pci0000:00/0000:00:1c.0/0000:03:00.0 ACTION=" action                         \
           " DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:03:00.0 SUBSYSTEM=pci" extra            \
           " PCI_SLOT_NAME=0000:03:00.0\n"

HD_TEST_GROUP(fake, .setup = setup, .teardown = teardown);

HD_TEST_IN(fake, fake_channel_new_events_only)
{
    struct hd_monitor *m;
    const struct hd_uevent *ev;

    /* No channel: this root's kernel announces nothing, and saying so is an error. */
    ck_assert_int_eq(hd_monitor_new(ctx, &m), -ENOENT);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "proc/hostdev-uevents"));

    channel_append(LINE("add", ""));
    ck_assert_int_eq(hd_monitor_new(ctx, &m), 0);
    ck_assert_int_eq(hd_monitor_get_fd(m), -1);
    /* What happened before is not news. */
    ck_assert_int_eq(hd_monitor_next(m, 0, &ev), -EAGAIN);
    ck_assert_ptr_null(ev);

    /* A malformed record between two good ones is skipped; half a line waits for the rest. */
    channel_append(LINE("unbind", " DRIVER=e1000e") "garbage without an at sign\n" LINE(
        "bind", " DRIVER=vfio-pci") "remove@/devices/pci0000:00/0000:00:1c.0/0000:03:00.0 ACT");
    ck_assert_int_eq(hd_monitor_next(m, 0, &ev), 0);
    ck_assert_int_eq(hd_uevent_get_action(ev), HD_UEVENT_UNBIND);
    ck_assert_str_eq(hd_uevent_get_driver(ev), "e1000e");
    ck_assert_int_eq(hd_monitor_next(m, 0, &ev), 0);
    ck_assert_int_eq(hd_uevent_get_action(ev), HD_UEVENT_BIND);
    ck_assert_str_eq(hd_uevent_get_driver(ev), "vfio-pci");
    ck_assert_int_eq(hd_monitor_next(m, 50, &ev), -EAGAIN);
    channel_append("ION=remove DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:03:00.0 "
                   "SUBSYSTEM=pci PCI_SLOT_NAME=0000:03:00.0\n");
    ck_assert_int_eq(hd_monitor_next(m, 0, &ev), 0);
    ck_assert_int_eq(hd_uevent_get_action(ev), HD_UEVENT_REMOVE);
    ck_assert_int_eq(hd_monitor_next(m, 0, &ev), -EAGAIN);

    /* The fake started over (a new mount): its channel is read from the start. */
    char path[128];
    snprintf(path, sizeof(path), "%s/proc/hostdev-uevents", root);
    ck_assert_int_eq(truncate(path, 0), 0);
    channel_append(LINE("add", ""));
    ck_assert_int_eq(hd_monitor_next(m, 0, &ev), 0);
    ck_assert_int_eq(hd_uevent_get_action(ev), HD_UEVENT_ADD);
    ck_assert_ptr_eq(hd_monitor_ref(m), m);
    hd_monitor_unref(m);
    hd_monitor_unref(m);
}
END_TEST
