/* test-noiommu.c - vfio's unsafe no-IOMMU mode: a device with no IOMMU group goes to vfio-pci
 * only when asked for in so many words (HD_OP_NOIOMMU, detach --noiommu), through the engine
 * as any detach; no VM can have it, and show, check and verify say what it is. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assign-helpers.h"
#include "engine.h"
#include "hdtest.h"

#define NIC "0000:00:02.0"
#define NODE "dev/vfio/noiommu-0"

/* tests/trees/no-iommu.spec with the mode as @mode. */
#define SPEC(mode)                                                                             \
    "kernel 6.1.0-13-amd64\n"                                                                  \
    "cmdline \"BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/sda1 ro quiet\"\n"            \
    "iommu none\n"                                                                             \
    "module vfio\n"                                                                            \
    "param vfio enable_unsafe_noiommu_mode " mode "\n"                                         \
    "driver e1000e ids=8086:10d3\n"                                                            \
    "driver ahci class=010601\n"                                                               \
    "driver vfio-pci module=vfio_pci stub vfio sriov\n"                                        \
    "param vfio_pci enable_sriov N\n"                                                          \
    "driver pci-stub module=pci_stub stub\n"                                                   \
    "device 0000:00:00.0 8086:29c0 class=060000 subsys=1af4:1100\n"                            \
    "device 0000:00:02.0 8086:10d3 class=020000 subsys=8086:0000 driver=e1000e reset=pm\n"     \
    "device 0000:00:1f.2 8086:2922 class=010601 subsys=1af4:1100 rev=02 driver=ahci\n"

HD_TEST_FILE(.timeout = 60);

/* A detach of the NIC with @flags: its result, the operation in *@out (NULL: freed). */
static int detach(struct eng *e, unsigned int flags, struct hd_op **out)
{
    struct hd_pci_addr addr;
    struct hd_op *op;
    int r;

    ck_assert_int_eq(hd_pci_addr_parse(NIC, &addr), 0);
    ck_assert_int_eq(hd_op_new(e->ctx, HD_OP_DETACH, &op), 0);
    ck_assert_int_eq(hd_op_add_device(op, &addr, true), 0);
    hd_op_set_flags(op, flags);
    r = hd_op_run(op);
    if (out != NULL)
        *out = op;
    else
        hd_op_unref(op);
    return r;
}

static void assert_untouched(struct eng *e)
{
    ck_assert_str_eq(fx_driver(&e->fx, NIC), "e1000e");
    ck_assert(!fx_exists(&e->fx, NODE));
    ck_assert(!fx_exists(&e->fx, "run/hostdev/drivers/" NIC));
}

HD_TEST(mode_off_refused_naming_the_mode)
{
    struct eng e;

    eng_start(&e, SPEC("N"));
    ck_assert(!hd_vfio_noiommu_mode(e.ctx));
    ck_assert_int_eq(detach(&e, HD_OP_NOIOMMU, NULL), -ENOTSUP);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "no IOMMU group"));
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "enable_unsafe_noiommu_mode"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

HD_TEST(mode_on_needs_the_opt_in)
{
    struct eng e;

    eng_start(&e, SPEC("Y"));
    ck_assert(hd_vfio_noiommu_mode(e.ctx));
    ck_assert_int_eq(detach(&e, 0, NULL), -EPERM);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_NOIOMMU);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "without DMA isolation"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    assert_untouched(&e);
    /* The library names no option of the command line. */
    ck_assert_ptr_null(strstr(hd_ctx_last_error(e.ctx), "--"));
    eng_stop(&e);
}
END_TEST

HD_TEST(opt_in_detaches_through_the_engine_and_reattach_gives_back)
{
    struct eng e;
    struct hd_op *op;
    struct hd_device *dev;
    int group = -2;
    char *orig = NULL;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(detach(&e, HD_OP_NOIOMMU, &op), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&e.fx, NODE));
    /* Recorded as any detach, and locked by address: it had no group to lock. */
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), "e1000e");
    ck_assert(fx_exists(&e.fx, "run/hostdev/locks/device-" NIC));
    ck_assert_uint_eq(hd_op_get_step_count(op), 1);
    ck_assert(hd_op_step_get_noiommu(op, 0, &group));
    ck_assert_int_eq(group, 0);
    hd_op_unref(op);
    ck_assert(hd_group_number_is_noiommu(e.ctx, 0));

    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_get_original_driver(dev, &orig), 0);
    ck_assert_str_eq(orig, "e1000e");
    free(orig);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    hd_device_unref(dev);
    assert_untouched(&e);
    ck_assert(!hd_group_number_is_noiommu(e.ctx, 0));
    eng_stop(&e);
}
END_TEST

/* The one-device call asks for the mode as the operation does (HD_DETACH_NOIOMMU): refused
 * without it, and with it the same detach, recorded and read back, that reattach gives back. */
HD_TEST(device_detach_takes_the_opt_in)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, SPEC("N"));
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, NULL, HD_DETACH_NOIOMMU), -ENOTSUP);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_UNSUPPORTED);
    ck_assert_uint_eq(eng_writes(&e), 0);
    hd_device_unref(dev);
    eng_stop(&e);

    eng_start(&e, SPEC("Y"));
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), -EPERM);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_NOIOMMU);
    ck_assert_uint_eq(eng_writes(&e), 0);
    assert_untouched(&e);
    ck_assert_int_eq(hd_device_detach(dev, NULL, HD_DETACH_NOIOMMU), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&e.fx, NODE));
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), "e1000e");
    /* The snapshot is read again: on vfio-pci, in the group the mode made. */
    ck_assert_str_eq(hd_device_get_driver(dev), "vfio-pci");
    ck_assert(hd_group_number_is_noiommu(e.ctx, hd_device_get_iommu_group(dev)));
    /* Already there: nothing written. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_device_detach(dev, NULL, HD_DETACH_NOIOMMU), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    hd_device_unref(dev);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

/* The NIC's address lock, held as an operation on it holds it: close the descriptor to let go. */
static int hold_device_lock(struct eng *e)
{
    int fd;

    mkdir(fx_path(&e->fx, "run"), 0755);
    mkdir(fx_path(&e->fx, "run/hostdev"), 0700);
    mkdir(fx_path(&e->fx, "run/hostdev/locks"), 0700);
    fd = open(fx_path(&e->fx, "run/hostdev/locks/device-" NIC), O_RDWR | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    return fd;
}

/* With no group to lock, another operation on the device is kept out by its address lock. */
HD_TEST(device_lock_keeps_another_operation_out)
{
    struct eng e;
    int fd;

    eng_start(&e, SPEC("Y"));
    fd = hold_device_lock(&e);
    hd_ctx_set_timeout_ms(e.ctx, 100);
    ck_assert_int_eq(detach(&e, HD_OP_NOIOMMU, NULL), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), NIC " is busy"));
    assert_untouched(&e);
    close(fd);
    ck_assert_int_eq(detach(&e, HD_OP_NOIOMMU, NULL), 0);
    /* In the group the mode made, it is still locked by address too. */
    fd = hold_device_lock(&e);
    ck_assert_int_eq(eng_run(&e, "--timeout 100 reattach " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.err, NIC " is busy"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    close(fd);
    ck_assert_int_eq(eng_run(&e, "reattach " NIC), 0);
    eng_stop(&e);
}
END_TEST

HD_TEST(dry_run_writes_nothing_and_says_noiommu)
{
    struct eng e;
    struct hd_op *op;
    int group = -2;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(detach(&e, HD_OP_NOIOMMU | HD_OP_DRY_RUN, &op), 0);
    ck_assert(hd_op_step_get_noiommu(op, 0, &group));
    ck_assert_int_eq(group, -1); /* the bind makes it */
    hd_op_unref(op);
    ck_assert_uint_eq(eng_writes(&e), 0);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

/* The bind fails: everything is put back, the record too. */
HD_TEST(failed_bind_rolls_back)
{
    struct eng e;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/drivers_probe EIO nth=1"), 0);
    ck_assert_int_lt(detach(&e, HD_OP_NOIOMMU, NULL), 0);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

/* QEMU cannot assign a no-IOMMU device: bad input, before anything is written. */
HD_TEST(acquire_refuses_a_noiommu_device)
{
    struct eng e;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 " NIC), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "QEMU cannot assign a no-IOMMU device"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_int_eq(detach(&e, HD_OP_NOIOMMU, NULL), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --unmanaged " NIC), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "is a no-IOMMU device"));
    ck_assert_ptr_nonnull(strstr(e.err, "QEMU cannot assign a no-IOMMU device"));
    ck_assert_int_eq(eng_run(&e, "--json acquire --vm vm1 " NIC), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "\"exit\":2"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert(!fx_exists(&e.fx, "run/hostdev/map/assignments") ||
              strstr(fx_read(&e.fx, "run/hostdev/map/assignments"), NIC) == NULL);
    eng_stop(&e);
}
END_TEST

HD_TEST(tool_detach_needs_noiommu_and_names_the_node)
{
    struct eng e;

    eng_start(&e, SPEC("Y"));
    ck_assert(strstr(eng_run(&e, "detach --help") == 0 ? e.out : "", "--noiommu") != NULL);
    ck_assert_int_eq(eng_run(&e, "detach " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "--noiommu takes it anyway, UNSAFELY"));
    ck_assert_int_eq(eng_run(&e, "--json detach " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "\"hint\":\"--noiommu"));
    ck_assert_int_eq(eng_run(&e, "--json detach --noiommu --dry-run " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"noiommu\": true"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"noiommu_node\": null"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_int_eq(eng_run(&e, "detach --noiommu " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "/dev/vfio/noiommu-0"));
    ck_assert_ptr_nonnull(strstr(e.err, "warning"));
    ck_assert_ptr_nonnull(strstr(e.err, "no DMA isolation"));
    ck_assert_int_eq(eng_run(&e, "reattach " NIC), 0);
    ck_assert_int_eq(eng_run(&e, "--json detach --noiommu " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"noiommu_node\": \"/dev/vfio/noiommu-0\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"warnings\""));
    ck_assert_int_eq(eng_run(&e, "reattach " NIC), 0);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

HD_TEST(show_check_verify_export_say_noiommu)
{
    struct eng e;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(eng_run(&e, "show " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "no-IOMMU mode is on"));
    ck_assert_int_eq(eng_run(&e, "detach --noiommu " NIC), 0);
    ck_assert_int_eq(eng_run(&e, "show " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "IOMMU group:     0, noiommu"));
    ck_assert_int_eq(eng_run(&e, "--json show " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"noiommu\": true"));
    ck_assert_int_eq(eng_run(&e, "check " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.out, "is a no-IOMMU device"));
    ck_assert_int_eq(eng_run(&e, "--json check " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.out, "\"noiommu\": true"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"assignable_alone\": false"));
    ck_assert_int_eq(eng_run(&e, "verify " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "is a no-IOMMU device"));
    ck_assert_int_eq(eng_run(&e, "--json verify " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.out, "\"code\": \"noiommu-group\""));
    /* Nor is it exported as ready for a VM. */
    ck_assert_int_eq(eng_run(&e, "export -f prometheus"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev_pci_device_vfio_ready{address=\"" NIC "\"} 0"));
    /* What a VM's start would be given warns that QEMU refuses it, though it is on vfio. */
    ck_assert_int_eq(eng_run(&e, "qemu-args " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "warning: " NIC " is on vfio in its unsafe no-IOMMU mode "
                                        "(/dev/vfio/noiommu-0): QEMU cannot assign"));
    ck_assert_int_eq(eng_run(&e, "hostdev-xml " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "QEMU cannot assign a no-IOMMU device"));
    eng_stop(&e);
}
END_TEST

/* Intent log @text of a dead @op ("detach") on the NIC: the next operation on it, a detach
 * --noiommu holding the NIC's address lock alone (it has no group), recovers it before it goes
 * on. */
static void next_detach_recovers(const char *op, const char *text)
{
    struct eng e;
    char undoing[64];

    eng_start(&e, SPEC("Y"));
    eng_dead_journal(&e, op, text);
    ck_assert_uint_eq(eng_journals(&e), 1);
    ck_assert_int_eq(eng_run(&e, "-v detach --noiommu " NIC), 0);
    snprintf(undoing, sizeof(undoing), "undoing an unfinished %s", op);
    ck_assert_msg(strstr(e.err, undoing) != NULL, "%s", e.err);
    ck_assert_uint_eq(eng_journals(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_int_eq(eng_run(&e, "reattach " NIC), 0);
    assert_untouched(&e);
    eng_stop(&e);
}

/* A detach of a device with no group, killed after its intent was journaled. */
HD_TEST(next_operation_recovers_a_killed_noiommu_detach)
{
    next_detach_recovers("detach", "hostdev-journal 2 detach\n"
                                   "dev " NIC " -1\n"
                                   "detach " NIC " e1000e vfio-pci norec\n");
}
END_TEST

/* A reset of the NIC in the group the mode made (group 0), killed before it ended its intent
 * log: recovery has nothing to put back, and only its locks to take. */
#define DEAD_RESET "hostdev-journal 2 reset\ndev " NIC " 0\nreset " NIC "\n"

/* Recovery takes the locks an operation on the same device takes: the address lock of a
 * device journaled in the group the mode made, beside that group's, whether the group is
 * still there or went with the device's unbind (an operation on it, group-less now, locks
 * its address alone). Before, it took the group's alone and ran beside such an operation. */
HD_TEST(recover_locks_a_noiommu_device_as_an_operation_does)
{
    struct eng e;
    int fd;

    eng_start(&e, SPEC("Y"));
    hd_ctx_set_timeout_ms(e.ctx, 100);
    ck_assert_int_eq(detach(&e, HD_OP_NOIOMMU, NULL), 0);
    ck_assert(hd_group_number_is_noiommu(e.ctx, 0));
    eng_dead_journal(&e, "reset", DEAD_RESET);
    fd = hold_device_lock(&e);
    ck_assert_int_eq(hd_assign_recover(e.ctx, NULL), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), NIC " is busy"));
    ck_assert_uint_eq(eng_journals(&e), 1);
    close(fd);
    ck_assert_int_eq(hd_assign_recover(e.ctx, NULL), 0);
    ck_assert_uint_eq(eng_journals(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");

    /* Back on its driver, the NIC has no group: group 0 is gone. */
    ck_assert_int_eq(eng_run(&e, "reattach " NIC), 0);
    ck_assert(!hd_group_number_is_noiommu(e.ctx, 0));
    eng_dead_journal(&e, "reset", DEAD_RESET);
    fd = hold_device_lock(&e);
    ck_assert_int_eq(hd_assign_recover(e.ctx, NULL), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), NIC " is busy"));
    ck_assert_uint_eq(eng_journals(&e), 1);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    close(fd);
    ck_assert_int_eq(hd_assign_recover(e.ctx, NULL), 0);
    ck_assert_uint_eq(eng_journals(&e), 0);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

/* A journal naming the NIC in the group the mode made, gone since: the operation takes it for
 * one of its own all the same. */
HD_TEST(next_operation_recovers_a_journal_of_a_gone_noiommu_group)
{
    next_detach_recovers("reset", DEAD_RESET);
}
END_TEST

/* A reattach of the NIC from the group the mode made, killed once the NIC was on e1000e (group
 * 0 went with its unbind): recovery puts the NIC back on vfio-pci through the mode, as it was,
 * where that bind was refused (no IOMMU group, as if the mode were off) and the intent log
 * stayed for ever. */
HD_TEST(recover_puts_a_noiommu_device_back_on_vfio)
{
    struct eng e;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(detach(&e, HD_OP_NOIOMMU, NULL), 0);
    ck_assert_int_eq(eng_run(&e, "reattach " NIC), 0);
    assert_untouched(&e);
    ck_assert(!hd_group_number_is_noiommu(e.ctx, 0));
    eng_dead_journal(&e, "reattach", "hostdev-journal 2 reattach\n"
                                     "dev " NIC " 0\n"
                                     "reattach " NIC " vfio-pci rec:e1000e\n");
    ck_assert_msg(hd_assign_recover(e.ctx, NULL) == 0, "%s", hd_ctx_last_error(e.ctx));
    ck_assert_uint_eq(eng_journals(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&e.fx, NODE));
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), "e1000e");
    ck_assert_int_eq(eng_run(&e, "reattach " NIC), 0);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

/* etc/hostdev.d/10-nic.conf of the fake kernel, holding @text. */
static void boot_conf(struct eng *e, const char *text)
{
    FILE *f;

    mkdir(fx_path(&e->fx, "etc"), 0755);
    mkdir(fx_path(&e->fx, "etc/hostdev.d"), 0755);
    f = fopen(fx_path(&e->fx, "etc/hostdev.d/10-nic.conf"), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A boot reservation's opt-in: persist --noiommu writes it, and the boot's reserve applies it
 * as detach --noiommu does, saying so. */
HD_TEST(persist_noiommu_then_boot_reserve_binds)
{
    struct eng e;
    size_t writes;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(eng_run(&e, "persist --noiommu --dry-run " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "would persist " NIC " vfio-pci noiommu"));
    ck_assert_ptr_nonnull(strstr(e.out, "unsafe no-IOMMU mode"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* Written for the next boot alone: that boot's reserve binds it. */
    ck_assert_int_eq(eng_run(&e, "persist --noiommu --no-apply " NIC), 0);
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"),
                                 NIC " vfio-pci noiommu"));
    assert_untouched(&e);
    ck_assert_int_eq(eng_run(&e, "persisted"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, NIC " vfio-pci noiommu "));
    ck_assert_ptr_null(strstr(e.out, "refused"));
    ck_assert_int_eq(eng_run(&e, "--json persisted"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"noiommu\": true"));
    /* Not a reservation the boot refuses, nor a broken line. */
    eng_run(&e, "--json doctor");
    ck_assert_ptr_null(strstr(e.out, "reserved-refused-at-boot"));
    ck_assert_ptr_null(strstr(e.out, "reserve-config-error"));
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "reserve --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "unsafe no-IOMMU mode: /dev/vfio/noiommu-N"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "reserve"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&e.fx, NODE));
    ck_assert_ptr_nonnull(strstr(e.out, "unsafe no-IOMMU mode: /dev/vfio/noiommu-0"));
    ck_assert_ptr_nonnull(strstr(e.err, "warning"));
    ck_assert_ptr_nonnull(strstr(e.err, "no DMA isolation"));
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), "e1000e");
    ck_assert_int_eq(eng_run(&e, "unpersist " NIC), 0);
    assert_untouched(&e);
    /* Persisted and applied at once, under --json too. */
    ck_assert_int_eq(eng_run(&e, "--json persist --noiommu " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"noiommu_node\": \"/dev/vfio/noiommu-0\""));
    ck_assert(fx_exists(&e.fx, NODE));
    eng_stop(&e);
}
END_TEST

/* persist --json and reserve --json carry detach --json's warning of a device on vfio with no
 * IOMMU (the text run's log says it): in the document's "warnings", and in the reserved
 * device's object. A plan has no node yet, so no warning. */
HD_TEST(persist_and_reserve_json_warn_of_noiommu)
{
#define NOIOMMU_WARNING                                                                            \
    "\"" NIC ": on vfio in its unsafe no-IOMMU mode: /dev/vfio/noiommu-0 has no DMA isolation "   \
    "(the device can reach all of memory)\""
    struct eng e;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(eng_run(&e, "--json persist --noiommu --dry-run " NIC), 0);
    ck_assert_ptr_null(strstr(e.out, "\"warnings\""));
    ck_assert_int_eq(eng_run(&e, "--json persist --noiommu " NIC), 0);
    ck_assert_msg(strstr(e.out, "\"warnings\": [\n    " NOIOMMU_WARNING "\n  ]") != NULL, "%s",
                  e.out);
    ck_assert_int_eq(eng_run(&e, "unpersist " NIC), 0);
    boot_conf(&e, NIC " vfio-pci noiommu\n");
    ck_assert_int_eq(eng_run(&e, "--json reserve --dry-run"), 0);
    ck_assert_ptr_null(strstr(e.out, "\"warnings\""));
    ck_assert_int_eq(eng_run(&e, "--json reserve"), 0);
    ck_assert_msg(strstr(e.out, "\"outcome\": \"done\",\n    \"warnings\": [\n      "
                                NOIOMMU_WARNING "\n    ]") != NULL, "%s", e.out);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    eng_stop(&e);
#undef NOIOMMU_WARNING
}
END_TEST

/* An entry without the opt-in is refused before anything is written, the hint naming it. */
HD_TEST(boot_reserve_without_the_opt_in_refused)
{
    struct eng e;

    eng_start(&e, SPEC("Y"));
    boot_conf(&e, NIC " vfio-pci\n");
    ck_assert_int_eq(eng_run(&e, "reserve"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "without DMA isolation"));
    ck_assert_ptr_nonnull(strstr(e.err, "persist --noiommu"));
    ck_assert_int_eq(eng_run(&e, "reserve --dry-run"), 1);
    ck_assert_int_eq(eng_run(&e, "persist " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "persist --noiommu"));
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_int_eq(eng_run(&e, "persist --noiommu --driver pci-stub " NIC), 2);
    ck_assert_uint_eq(eng_writes(&e), 0);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

/* The opt-in with the mode off: refused, naming the kernel parameter that turns it on. */
HD_TEST(boot_reserve_mode_off_names_the_parameter)
{
    struct eng e;

    eng_start(&e, SPEC("N"));
    boot_conf(&e, NIC " vfio-pci noiommu\n");
    ck_assert_int_eq(eng_run(&e, "reserve"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "vfio.enable_unsafe_noiommu_mode=1"));
    ck_assert_int_eq(eng_run(&e, "persist --noiommu " NIC), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "vfio.enable_unsafe_noiommu_mode=1"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    assert_untouched(&e);
    eng_stop(&e);
}
END_TEST

/* cmdline names the mode's parameter for a group-less device whose entry opts in, and only
 * then. */
HD_TEST(cmdline_names_the_parameter_for_an_opted_in_device)
{
    struct eng e;

    eng_start(&e, SPEC("N"));
    ck_assert_int_eq(eng_run(&e, "cmdline " NIC), 0);
    ck_assert_ptr_null(strstr(e.out, "enable_unsafe_noiommu_mode"));
    boot_conf(&e, NIC " vfio-pci noiommu\n");
    ck_assert_int_eq(eng_run(&e, "cmdline " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "vfio.enable_unsafe_noiommu_mode=1"));
    ck_assert_int_eq(eng_run(&e, "--json cmdline " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"vfio.enable_unsafe_noiommu_mode=1\""));
    ck_assert_uint_eq(eng_writes(&e), 0);
    eng_stop(&e);
}
END_TEST

/* The no-IOMMU tree with vfio not loaded yet (as at boot, before the first vfio-pci bind loads
 * it), @args on the kernel command line. */
#define SPEC_UNLOADED(args)                                                                    \
    "kernel 6.1.0-13-amd64\n"                                                                  \
    "cmdline \"BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/sda1 ro" args "\"\n"          \
    "iommu none\n"                                                                             \
    "driver e1000e ids=8086:10d3\n"                                                            \
    "driver vfio-pci module=vfio_pci stub vfio sriov\n"                                        \
    "device 0000:00:00.0 8086:29c0 class=060000 subsys=1af4:1100\n"                            \
    "device 0000:00:02.0 8086:10d3 class=020000 subsys=8086:0000 driver=e1000e reset=pm\n"

/* The boot's reservation of the NIC, opted in, as a dry run: the mode on, it binds it. */
static void assert_boot_reserves_noiommu(struct eng *e)
{
    boot_conf(e, NIC " vfio-pci noiommu\n");
    ck_assert_int_eq(eng_run(e, "reserve --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e->out, "unsafe no-IOMMU mode: /dev/vfio/noiommu-N"));
    ck_assert_uint_eq(eng_writes(e), 0);
}

/* vfio takes the mode from the command line as it loads: until then, that is the mode. */
HD_TEST(mode_of_an_unloaded_vfio_is_the_command_line_s)
{
    struct eng e;

    eng_start(&e, SPEC_UNLOADED(""));
    ck_assert(!fx_exists(&e.fx, "sys/module/vfio"));
    ck_assert(!hd_vfio_noiommu_mode(e.ctx));
    boot_conf(&e, NIC " vfio-pci noiommu\n");
    ck_assert_int_eq(eng_run(&e, "reserve --dry-run"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "vfio.enable_unsafe_noiommu_mode=1"));
    eng_stop(&e);
    eng_start(&e, SPEC_UNLOADED(" vfio.enable_unsafe_noiommu_mode=1"));
    ck_assert(hd_vfio_noiommu_mode(e.ctx));
    assert_boot_reserves_noiommu(&e);
    eng_stop(&e);
}
END_TEST

/* The no-IOMMU tree with the mode on, booted with @line on its command line too: in @spec. */
static void spec_booted_with(char *spec, size_t size, const char *line)
{
    const char *at = strstr(SPEC("Y"), " quiet\"");

    snprintf(spec, size, "%.*s %s%s", (int)(at - SPEC("Y")), SPEC("Y"), line, at);
}

/* cmdline --reserve keeps an entry's opt-in (HD_RESERVE_CMDLINE_NOIOMMU): the boot's
 * hostdev.reserve= overrides hostdev.d, so a device without it would be refused. The line
 * printed, booted with no hostdev.d at all, reserves the device through the mode. */
HD_TEST(cmdline_reserve_keeps_the_opt_in_through_a_boot)
{
    char line[512], spec[2048];
    struct hd_reserve_config *config;
    struct eng e;

    eng_start(&e, SPEC("Y"));
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev.reserve=" NIC "\n"));
    boot_conf(&e, NIC " vfio-pci noiommu\n");
    ck_assert_int_eq(eng_run(&e, "--json cmdline --reserve " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"hostdev.reserve=" NIC "+noiommu\""));
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve 8086:10d3"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev.reserve=8086:10d3+noiommu\n"));
    /* pci-stub needs no group: the opt-in would be refused there. */
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve --driver pci-stub " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev.reserve=" NIC " hostdev.driver=pci-stub\n"));
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "vfio.enable_unsafe_noiommu_mode=1"));
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev.reserve=" NIC "+noiommu\n"));
    ck_assert_uint_lt(strlen(e.out), sizeof(line));
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(e.out, "\n"), e.out);
    ck_assert_uint_eq(eng_writes(&e), 0);
    eng_stop(&e);

    /* vfio not loaded yet, as at boot: the mode is the line's; the plan binds the NIC. */
    snprintf(spec, sizeof(spec), SPEC_UNLOADED(" %s"), line);
    eng_start(&e, spec);
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d"));
    ck_assert_int_eq(hd_reserve_config_load(e.ctx, &config), 0);
    ck_assert_uint_eq(hd_reserve_config_count(config), 1);
    ck_assert(hd_reserve_entry_is_cmdline(hd_reserve_config_get(config, 0)));
    ck_assert(hd_reserve_config_get(config, 0)->noiommu);
    hd_reserve_config_unref(config);
    ck_assert_int_eq(eng_run(&e, "reserve --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "unsafe no-IOMMU mode: /dev/vfio/noiommu-N"));
    eng_stop(&e);
    /* vfio loaded with the mode on (the fake kernel does not take a module's parameters from
     * the command line as it loads it): the boot's reserve binds it. */
    spec_booted_with(spec, sizeof(spec), line);
    eng_start(&e, spec);
    ck_assert_msg(eng_run(&e, "reserve") == 0, "%s", e.err);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&e.fx, NODE));
    eng_stop(&e);
}
END_TEST

/* A host booted with a bare hostdev.reserve=NIC, which overrides hostdev.d's opted-in entry (so
 * that boot refused the group-less NIC): cmdline --reserve prints the line for the next boot,
 * hostdev.d's, with the opt-in and the mode, never the running kernel's again; a warning names
 * the line it replaces. The other way round, an opt-in of the running kernel's alone is left
 * out, and said. */
HD_TEST(cmdline_reserve_opt_in_is_hostdev_d_s_not_the_running_kernel_s)
{
    char spec[2048];
    struct eng e;

    spec_booted_with(spec, sizeof(spec), "hostdev.reserve=" NIC);
    eng_start(&e, spec);
    boot_conf(&e, NIC " vfio-pci noiommu\n");
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve " NIC), 0);
    ck_assert_str_eq(e.out, "iommu=pt vfio.enable_unsafe_noiommu_mode=1 hostdev.reserve=" NIC
                            "+noiommu\n");
    ck_assert_msg(strstr(e.err, "warning: the running kernel's hostdev.reserve= takes " NIC
                                " without +noiommu, which overrides hostdev.d's noiommu "
                                "(etc/hostdev.d/10-nic.conf:1), so that a boot with it refuses "
                                "it (no IOMMU group): put this line in its place\n") != NULL,
                  "%s", e.err);
    ck_assert_int_eq(eng_run(&e, "--json cmdline --reserve " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"vfio.enable_unsafe_noiommu_mode=1\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"hostdev.reserve=" NIC "+noiommu\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"the running kernel's hostdev.reserve= takes " NIC));
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve 8086:10d3"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, " hostdev.reserve=8086:10d3+noiommu\n"));
    /* pci-stub needs no group: neither the opt-in nor the mode, nor a word of the opt-in. */
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve --driver pci-stub " NIC), 0);
    ck_assert_str_eq(e.out, "iommu=pt hostdev.reserve=" NIC " hostdev.driver=pci-stub\n");
    ck_assert_ptr_null(strstr(e.err, "running kernel"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    eng_stop(&e);

    spec_booted_with(spec, sizeof(spec), "hostdev.reserve=" NIC "+noiommu");
    eng_start(&e, spec);
    boot_conf(&e, NIC " vfio-pci\n");
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve " NIC), 0);
    ck_assert_str_eq(e.out, "iommu=pt hostdev.reserve=" NIC "\n");
    ck_assert_msg(strstr(e.err, "warning: the running kernel's hostdev.reserve= opts " NIC
                                " in to vfio's unsafe no-IOMMU mode (+noiommu), which hostdev.d "
                                "does not: this line leaves it out") != NULL,
                  "%s", e.err);
    /* Both say it: the line is the running kernel's, and nothing to warn of. */
    boot_conf(&e, NIC " vfio-pci noiommu\n");
    ck_assert_int_eq(eng_run(&e, "cmdline --reserve " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, " hostdev.reserve=" NIC "+noiommu\n"));
    ck_assert_ptr_null(strstr(e.err, "running kernel"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    eng_stop(&e);
}
END_TEST

/* vfio takes the mode modprobe gives it as it loads: modprobe.d's options, then the command
 * line's (kmod appends those), the last one said; loaded, its own parameter. One rule with
 * vfio-pci's ids at boot (test-iommu's vfio_pci_ids_at_boot). */
HD_TEST(mode_of_an_unloaded_vfio_is_modprobe_d_s)
{
#define OPT_IN "file etc/modprobe.d/vfio.conf \"options vfio enable_unsafe_noiommu_mode=1\\n\"\n"
    struct eng e;

    eng_start(&e, SPEC_UNLOADED("") OPT_IN);
    ck_assert(hd_vfio_noiommu_mode(e.ctx));
    assert_boot_reserves_noiommu(&e);
    eng_stop(&e);
    eng_start(&e, SPEC_UNLOADED(" vfio.enable_unsafe_noiommu_mode=0") OPT_IN);
    ck_assert(!hd_vfio_noiommu_mode(e.ctx));
    eng_stop(&e);
    eng_start(&e, SPEC("N") OPT_IN);
    ck_assert(!hd_vfio_noiommu_mode(e.ctx));
    eng_stop(&e);
    /* Bare on the command line is yes, and it comes last. */
    eng_start(&e, SPEC_UNLOADED(" vfio.enable_unsafe_noiommu_mode")
                      "file etc/modprobe.d/vfio.conf \"options vfio "
                      "enable_unsafe_noiommu_mode=0\\n\"\n");
    ck_assert(hd_vfio_noiommu_mode(e.ctx));
    eng_stop(&e);
    /* A value the kernel rejects fails vfio's load (parse_args() fails the module when one
     * parameter is bad): no mode, modprobe.d's opt-in or an earlier yes notwithstanding. */
    static const char *const rejected[] = {
        " vfio.enable_unsafe_noiommu_mode=maybe",
        " vfio.enable_unsafe_noiommu_mode=1 vfio.enable_unsafe_noiommu_mode=maybe",
    };
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
        char spec[2048];
        snprintf(spec, sizeof(spec), SPEC_UNLOADED("%s") OPT_IN, rejected[i]);
        eng_start(&e, spec);
        ck_assert_msg(!hd_vfio_noiommu_mode(e.ctx), "%s", rejected[i]);
        eng_stop(&e);
    }
    eng_start(&e, SPEC_UNLOADED("") "file etc/modprobe.d/vfio.conf \"options vfio "
                                    "enable_unsafe_noiommu_mode=1 enable_unsafe_noiommu_mode=x\\n\"\n");
    ck_assert(!hd_vfio_noiommu_mode(e.ctx));
    eng_stop(&e);
#undef OPT_IN
}
END_TEST

/* modprobe.d read as kmod reads it (libkmod-config.c): etc, run, usr/local/lib, usr/lib, lib;
 * of files with one name the first directory's (a directory by that name is none); files in
 * their names' order whatever their directory; `#` first on a line; a backslash before a
 * newline joins the lines; lines kmod cannot use skipped. The mode with vfio not loaded says
 * which option line was taken. */
HD_TEST(modprobe_d_read_as_kmod_reads_it)
{
#define ON "options vfio enable_unsafe_noiommu_mode=1\n"
#define OFF "options vfio enable_unsafe_noiommu_mode=0\n"
    static const struct {
        const char *path[2], *text[2]; /* text NULL: a directory */
        bool mode;
    } cases[] = {
        {{"lib/modprobe.d/vfio.conf"}, {ON}, true},
        {{"usr/lib/modprobe.d/vfio.conf"}, {ON}, true},
        {{"run/modprobe.d/vfio.conf"}, {ON}, true},
        {{"usr/local/lib/modprobe.d/vfio.conf"}, {ON}, true},
        {{"etc/modprobe.d/vfio.conf", "lib/modprobe.d/vfio.conf"}, {"# mine\n", ON}, false},
        {{"run/modprobe.d/vfio.conf", "usr/lib/modprobe.d/vfio.conf"}, {OFF, ON}, false},
        {{"etc/modprobe.d/vfio.conf", "lib/modprobe.d/vfio.conf"}, {NULL, ON}, true},
        {{"etc/modprobe.d/a.conf", "lib/modprobe.d/b.conf"}, {OFF, ON}, true},
        {{"lib/modprobe.d/a.conf", "etc/modprobe.d/b.conf"}, {ON, OFF}, false},
        {{"etc/modprobe.d/vfio.conf"}, {ON OFF}, false},
        {{"etc/modprobe.d/vfio.conf"}, {OFF ON}, true},
        {{"etc/modprobe.d/vfio.conf.bak"}, {ON}, false},
        {{"etc/modprobe.d/.vfio.conf"}, {ON}, false},
        {{"etc/modprobe.d/vfio.alias"}, {ON}, true},
        {{"etc/modprobe.d/vfio.conf"}, {"#" ON}, false},
        {{"etc/modprobe.d/vfio.conf"}, {"# a comment \\\n" ON}, false},
        {{"etc/modprobe.d/vfio.conf"}, {"options vfio \\\nenable_unsafe_noiommu_mode=1"}, true},
        {{"etc/modprobe.d/vfio.conf"}, {"options\tvfio\tenable_unsafe_noiommu_mode=\\1\n"}, true},
        {{"etc/modprobe.d/vfio.conf"}, {"options vfio enable_unsafe_noiommu_mode\n"}, true},
        {{"etc/modprobe.d/vfio.conf"}, {"options vfio enable_unsafe_noiommu_mode=1 # on\n"}, true},
        {{"etc/modprobe.d/vfio.conf"}, {"options vfio\nblacklist vfio\nbogus\n" ON}, true},
        {{"etc/modprobe.d/vfio.conf"}, {"options vfio_pci enable_unsafe_noiommu_mode=1\n"}, false},
        {{"etc/modprobe.d/vfio.conf"}, {"install vfio enable_unsafe_noiommu_mode=1\n"}, false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *root = ah_tree(SPEC_UNLOADED(""));
        struct hd_ctx *ctx;
        for (size_t k = 0; k < 2 && cases[i].path[k] != NULL; k++)
            ah_write(root, cases[i].path[k], cases[i].text[k]);
        ctx = ah_ctx(root);
        ck_assert_msg(hd_vfio_noiommu_mode(ctx) == cases[i].mode, "case %zu", i);
        hd_ctx_unref(ctx);
        ah_tree_remove(root);
        free(root);
    }
#undef ON
#undef OFF
}
END_TEST
