/* test-reset.c - reset through sysfs and the co-assignment answer, on the fake kernel. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hdtest.h"

HD_TEST_FILE(.timeout = 60);

HD_TEST(reset_a_detached_device)
{
    struct eng e;
    struct hd_device *dev;
    char *methods = NULL;

    eng_start(&e, "demo");
    dev = eng_dev(&e, "0000:02:00.0"); /* nvme: flr */
    /* On its host driver: refused, and nothing reaches the kernel. */
    ck_assert_int_eq(hd_device_reset(dev, 0, &methods), -EBUSY);
    ck_assert_ptr_null(methods);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "nvme"));
    ck_assert_uint_eq(fx_log_count(&e.fx, "reset 0000:02:00.0"), 0);
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), 0);
    ck_assert_int_eq(hd_device_reset(dev, 0, &methods), 0);
    ck_assert_str_eq(methods, "flr bus");
    free(methods);
    ck_assert_uint_eq(fx_log_count(&e.fx, "reset 0000:02:00.0 flr"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:02:00.0"), "vfio-pci"); /* still bound */
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

HD_TEST(reset_failures)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "demo");
    /* No reset method at all: no reset file. */
    dev = eng_dev(&e, "0000:00:17.0");
    ck_assert_int_eq(hd_device_reset(dev, HD_RESET_FORCE, NULL), -ENOTTY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "no reset method"));
    hd_device_unref(dev);
    /* Only a bus reset, and the GPU shares its bus with its audio function. */
    dev = eng_dev(&e, "0000:01:00.0");
    ck_assert_int_eq(hd_device_reset(dev, HD_RESET_FORCE, NULL), -ENOTTY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "cannot be reset on its own: the "
                                 "kernel's only method for it is a bus reset, and 0000:01:00.1 "
                                 "is on its bus too"));
    ck_assert_uint_eq(fx_log_count(&e.fx, "reset 0000:01:00.0"), 0); /* refused before writing */
    hd_device_unref(dev);
    /* The kernel fails the write. */
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:04:00.0/reset EIO"), 0);
    dev = eng_dev(&e, "0000:04:00.0");
    ck_assert_int_eq(hd_device_reset(dev, 0, NULL), -EIO); /* unbound: no --force needed */
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

static enum hd_reset_scope scope_of(struct eng *e, const char *bdf, size_t *peers)
{
    struct hd_device *dev = eng_dev(e, bdf);
    struct hd_reset_check *c;
    enum hd_reset_scope scope;

    ck_assert_int_eq(hd_device_check_reset(dev, &c), 0);
    scope = hd_reset_check_get_scope(c);
    *peers = hd_reset_check_get_peer_count(c);
    if (*peers)
        ck_assert_ptr_nonnull(hd_reset_check_get_peer(c, 0));
    hd_reset_check_unref(c);
    hd_device_unref(dev);
    return scope;
}

HD_TEST(co_assignment)
{
    struct eng e;
    size_t peers;

    eng_start(&e, "demo");
    ck_assert_int_eq(scope_of(&e, "0000:03:00.0", &peers), HD_RESET_FUNCTION);
    ck_assert_int_eq(scope_of(&e, "0000:00:17.0", &peers), HD_RESET_NONE);
    ck_assert_int_eq(scope_of(&e, "0000:01:00.0", &peers), HD_RESET_BUS_SHARED);
    ck_assert_uint_eq(peers, 1); /* the audio function */
    eng_stop(&e);
    eng_start(&e, "kernel 6.1.0\niommu intel\n"
                  "driver pcieport builtin class=060400\n"
                  "device 0000:00:1c.0 8086:a110 class=060400 driver=pcieport secondary=05\n"
                  "device 0000:05:00.0 8086:100e class=020000 reset=bus\n");
    ck_assert_int_eq(scope_of(&e, "0000:05:00.0", &peers), HD_RESET_BUS);
    ck_assert_uint_eq(peers, 0);
    eng_stop(&e);
}
END_TEST

/* Kernels without reset_method: what config space offers (PCIe FLR bit, PM). */
HD_TEST(methods_from_config_space)
{
    struct eng e;
    struct hd_device *dev;
    struct hd_reset_check *c;

    eng_start(&e, "old-kernel");
    dev = eng_dev(&e, "0000:03:00.0");
    ck_assert_int_eq(hd_device_check_reset(dev, &c), 0);
    ck_assert_int_eq(hd_reset_check_get_scope(c), HD_RESET_FUNCTION);
    ck_assert_ptr_nonnull(strstr(hd_reset_check_get_methods(c), "flr"));
    hd_reset_check_unref(c);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* A kernel without reset_method, whose config space then fails to read: the methods were
 * taken as none but a bus reset (a guess), and the reset written. Now the check and the reset
 * fail, naming the device and the file, and nothing reaches the kernel; `hostdev reset` too
 * (its config read before the locks, then not), exit 1. */
HD_TEST(a_config_space_that_fails_is_no_method)
{
    struct eng e;
    struct hd_device *dev;
    struct hd_reset_check *c = NULL;
    char *methods = NULL;
    static const char needle[] = "0000:03:00.0: sysfs attribute config cannot be read: "
                                 "Input/output error";

    eng_start(&e, "old-kernel");
    dev = eng_dev(&e, "0000:03:00.0");
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/config EIO count=0 "
                                   "on=read"), 0);
    ck_assert_int_eq(hd_device_check_reset(dev, &c), -EIO);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(hd_ctx_last_error(e.ctx), needle);
    ck_assert_int_eq(hd_device_reset(dev, 0, &methods), -EIO);
    ck_assert_ptr_null(methods);
    ck_assert_str_eq(hd_ctx_last_error(e.ctx), needle);
    ck_assert_uint_eq(fx_log_count(&e.fx, "reset 0000:03:00.0"), 0);
    hd_device_unref(dev);

    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/config EIO nth=2 "
                                   "count=0 on=read"), 0);
    ck_assert_int_eq(eng_run(&e, "reset 03:00.0"), 1);
    ck_assert_msg(strstr(e.err, needle) != NULL, "%s", e.err);
    ck_assert_uint_eq(fx_log_count(&e.fx, "reset 0000:03:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "vfio-pci");
    eng_stop(&e);
}
END_TEST

/* The same kernel, a VM's device whose config space then fails to read: its release resets
 * it first, and a reset on a guess is none: refused as a failed reset write is (exit 1, the
 * VM keeps it). The emergency release gives it back unreset, its reset step failed. */
HD_TEST(a_release_whose_reset_cannot_read_config)
{
    struct eng e;

    eng_start(&e, "old-kernel");
    ck_assert_msg(eng_run(&e, "acquire --vm web1 --owner 0:0 03:00.0") == 0, "%s", e.err);
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-log"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/config EIO count=0 "
                                   "on=read"), 0);
    ck_assert_int_eq(eng_run(&e, "release --vm web1"), 1);
    ck_assert_msg(strstr(e.err, "0000:03:00.0: sysfs attribute config cannot be read") != NULL,
                  "%s", e.err);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "vfio-pci");
    ck_assert_msg(eng_run(&e, "release --force 03:00.0") == 0, "%s", e.err);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "igb");
    ck_assert_uint_eq(fx_log_count(&e.fx, "reset 0000:03:00.0"), 0);
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_ptr_null(strstr(e.out, "web1"));
    eng_stop(&e);
}
END_TEST
