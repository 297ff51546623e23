/* test-usb-scsi.c - USB and SCSI devices given to VMs through their node, on the fake kernel
 * (tests/trees/usb-scsi.spec): the fake's own USB and SCSI sysfs, acquire and release (by
 * node-device name and by ids), what the host keeps (a hub, its keyboard, mounted storage),
 * a USB device that re-enumerates followed to its new node, a killed acquire undone, and
 * the tool. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "hdtest.h"
#include "tmptree.h"

/* Acquire (or release) the named devices for @vm as 107:108; the result. */
static int op_names(struct eng *e, enum hd_op_kind kind, const char *vm, unsigned int flags,
                    const char *const *names)
{
    struct hd_op *op;
    int r = 0;

    ck_assert_int_eq(hd_op_new(e->ctx, kind, &op), 0);
    hd_op_set_flags(op, flags);
    hd_op_set_owner(op, 107, 108);
    if (vm != NULL)
        ck_assert_int_eq(hd_op_set_vm(op, vm), 0);
    for (; *names && r == 0; names++)
        r = hd_op_add_node_device(op, *names);
    if (r == 0)
        r = hd_op_run(op);
    hd_op_unref(op);
    return r;
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The fake kernel lays USB and SCSI out as the kernel does, and libvirt's names follow. */
HD_TEST_FILE(.timeout = 60);

HD_TEST(the_fake_kernel)
{
    struct eng e;
    struct hd_nodedev_list *l;
    struct hd_nodedev *d;

    eng_start(&e, "usb-scsi");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/usb/devices/1-2/idVendor"), "0403");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/usb/devices/1-2/devnum"), "3");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/usb/devices/1-2/serial"), "FT123456");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/usb/devices/1-1:1.0/bInterfaceProtocol"), "01");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/usb/devices/usb1/bDeviceClass"), "09");
    ck_assert(fx_exists(&e.fx, "sys/bus/usb/devices/1-0:1.0"));
    ck_assert(fx_exists(&e.fx, "dev/bus/usb/001/003"));
    char target[256];
    ssize_t len = readlink(fx_path(&e.fx, "sys/class/block/sda"), target, sizeof(target) - 1);
    ck_assert_int_gt(len, 0);
    target[len] = '\0';
    ck_assert_str_eq(target, "../../devices/pci0000:00/0000:00:04.0/usb1/1-3/1-3:1.0/host0/"
                             "target0:0:0/0:0:0:0/block/sda");
    ck_assert_str_eq(fx_read(&e.fx, "sys/class/scsi_generic/sg3/dev"), "21:3");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/scsi/devices/2:0:2:0/type"), "5");
    ck_assert(fx_exists(&e.fx, "dev/sg4"));
    ck_assert_int_eq(hd_nodedev_list_new(e.ctx, 0, &l), 0);
    ck_assert_ptr_nonnull(d = hd_nodedev_list_find(l, "usb_1_2"));
    ck_assert_int_eq(hd_nodedev_get_vendor_id(d), 0x0403);
    ck_assert_str_eq(hd_nodedev_get_devnode(d), "/dev/bus/usb/001/003");
    ck_assert_ptr_nonnull(d = hd_nodedev_list_find(l, "scsi_2_0_1_0"));
    ck_assert_str_eq(hd_nodedev_get_parent(d), "scsi_target2_0_1");
    hd_nodedev_list_unref(l);
    /* Re-enumeration: a new device number, a new node with the default owner. */
    ck_assert_int_eq(fx_ctl(&e.fx, "usb-replug 1-2"), 0);
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/usb/devices/1-2/devnum"), "6");
    ck_assert(!fx_exists(&e.fx, "dev/bus/usb/001/003"));
    ck_assert(fx_exists(&e.fx, "dev/bus/usb/001/006"));
    ck_assert_int_ne(fx_ctl(&e.fx, "usb-replug 9-9"), 0);
    eng_stop(&e);
}
END_TEST

HD_TEST(acquire_and_release)
{
    struct eng e;
    struct hd_assignment_list *map;
    const struct hd_assignment *a;
    uid_t u;
    gid_t g;

    eng_start(&e, "usb-scsi");
    /* A dry run writes nothing. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", HD_OP_DRY_RUN,
                              NAMES("usb_1_2", "scsi_2_0_1_0")), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* One transaction for a USB and a SCSI device. */
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb:0403:6001",
                                                                 "scsi_2_0_1_0")), 0);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/bus/usb/001/003", &u, &g), 0660);
    ck_assert(u == 107 && g == 108);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/sg3", &u, &g), 0660);
    ck_assert(u == 107 && g == 108);
    ck_assert_int_eq(hd_assignment_list_new(e.ctx, &map), 0);
    ck_assert_ptr_nonnull(a = hd_assignment_list_find_name(map, "usb_1_2"));
    ck_assert_int_eq(hd_assignment_get_kind(a), HD_ASSIGNMENT_USB);
    ck_assert_str_eq(hd_assignment_get_node(a), "dev/bus/usb/001/003");
    ck_assert_ptr_null(hd_assignment_get_addr(a));
    ck_assert_ptr_nonnull(a = hd_assignment_list_find_name(map, "scsi_2_0_1_0"));
    ck_assert_int_eq(hd_assignment_get_kind(a), HD_ASSIGNMENT_SCSI);
    ck_assert_str_eq(hd_assignment_get_node(a), "dev/sg3");
    hd_assignment_list_unref(map);
    /* Held: another VM is refused, by either name. */
    writes = eng_writes(&e);
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm2", 0, NAMES("usb_1_2")), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_HELD);
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm2", 0, NAMES("usb:0403:6001:FT123456")),
                     -EBUSY);
    ck_assert_int_eq(op_names(&e, HD_OP_RELEASE, "vm2", 0, NAMES("usb_1_2")), -EPERM);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_HELD);
    /* Nor may its controller leave its driver, be reset or go to a VM: the devices behind
     * it would go with it. */
    struct hd_pci_addr xhci = {.bus = 0, .slot = 4, .function = 0};
    struct hd_device *ctrl = eng_dev(&e, "0000:00:04.0");
    ck_assert_int_eq(hd_device_detach(ctrl, NULL, 0), -EBUSY);
    hd_device_unref(ctrl);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_HELD);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "has usb_1_2 behind it, which vm vm1"));
    ck_assert_int_eq(hd_assign_acquire(e.ctx, "vm2", &xhci, 1, 0, 0, HD_ACQUIRE_FORCE), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_HELD);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* Release by name: each node back as it was. */
    ck_assert_int_eq(op_names(&e, HD_OP_RELEASE, "vm1", 0, NAMES("scsi_2_0_1_0")), 0);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/sg3", &u, &g), 0660);
    ck_assert(u == 0 && g == 0);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/bus/usb/001/003", &u, &g), 0660); /* still held */
    ck_assert_int_eq(op_names(&e, HD_OP_RELEASE, "vm1", 0, NAMES("usb_1_2")), 0);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/bus/usb/001/003", &u, &g), 0664);
    ck_assert(u == 0 && g == 0);
    /* Released again (a retry): done, nothing written; one that is not there is bad input. */
    writes = eng_writes(&e);
    ck_assert_int_eq(op_names(&e, HD_OP_RELEASE, "vm1", 0, NAMES("usb_1_2", "scsi_2_0_1_0")), 0);
    ck_assert_int_eq(op_names(&e, HD_OP_RELEASE, "vm1", 0, NAMES("usb:0403:6001")), 0);
    ck_assert_int_eq(eng_run(&e, "release --vm vm1 usb_1_2"), 0);
    ck_assert_str_eq(e.out, "usb_1_2: not assigned to vm vm1 (nor any other): nothing to do\n");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(op_names(&e, HD_OP_RELEASE, "vm1", 0, NAMES("usb_9_9")), -ENODEV);
    ck_assert_int_eq(op_names(&e, HD_OP_RELEASE, "vm1", 0, NAMES("scsi_9_0_0_0")), -ENODEV);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_NO_DEVICE);
    eng_stop(&e);
}
END_TEST

/* What the host needs stays: a hub, its keyboard, a stick or disk it has mounted; --force
 * takes them anyway. Ids two devices share, unknown names and bad names are refused. */
HD_TEST(refusals)
{
    struct eng e;
    size_t writes;

    eng_start(&e, "usb-scsi");
    writes = eng_writes(&e);
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_usb1")), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_HOST_USE);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "is a hub"));
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_1_1")), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "is a keyboard"));
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_1_3")), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "usb_1_3 backs /dev/sda mounted on /media/stick"));
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("scsi_2_0_0_0")), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "scsi_2_0_0_0 backs /dev/sdc mounted on /srv"));
    /* All or nothing: a free device with a refused one is refused. */
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_1_4", "usb_1_3")), -EBUSY);
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb:46f4:0001")), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "2 USB devices are 46f4:0001"));
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_9_9")), -ENODEV);
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_1_2", "usb:0403:6001")),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "given twice"));
    struct hd_op *op;
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_ACQUIRE, &op), 0);
    ck_assert_int_eq(hd_op_add_node_device(op, "usb_../x"), -EINVAL);
    ck_assert_int_eq(hd_op_add_node_device(op, "scsi_1_2_3_4_"), 0); /* well formed */
    hd_op_unref(op);
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_DETACH, &op), 0);
    ck_assert_int_eq(hd_op_add_node_device(op, "usb_1_2"), -EINVAL);
    hd_op_unref(op);
    /* The controller the host's keyboard is behind is the host's too: --force takes it. */
    ck_assert_int_eq(eng_run(&e, "detach --dry-run 00:04.0"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "0000:00:04.0 has the host's keyboard behind it "
                                        "(usb_1_1)"));
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 0:0 00:04.0"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "has the host's keyboard behind it (usb_1_1)"));
    ck_assert_int_eq(eng_run(&e, "show 00:04.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "has the host's keyboard behind it (usb_1_1)"));
    /* The controller and a device behind it in one acquire: one or the other (bad input). */
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm vm1 --owner 0:0 00:04.0 usb_1_4"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "usb_1_4 is behind 0000:00:04.0, and detaching "
                                        "0000:00:04.0 removes it from the host"));
    ck_assert_int_eq(eng_run(&e, "acquire --dry-run --force --vm vm1 --owner 0:0 usb_1_4 00:04.0"),
                     2);
    /* So are a USB stick and its own SCSI disk, a hub and a device behind it: QEMU's usb-host
     * claims the one from the host, the other with it. */
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 0:0 usb_1_4 scsi_1_0_0_0"), 2);
    ck_assert_str_eq(e.err, "hostdev acquire: vm vm1: scsi_1_0_0_0 is behind usb_1_4: QEMU's "
                            "usb-host claims usb_1_4 from the host, and scsi_1_0_0_0 goes with "
                            "it: ask for one or the other\n");
    ck_assert_int_eq(eng_run(&e, "acquire --dry-run --vm vm1 --owner 0:0 scsi_1_0_0_0 usb_1_4"), 2);
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm vm1 --owner 0:0 usb_1_2 usb_usb1"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "usb_1_2 is behind usb_usb1: "));
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* --force: the mounted stick anyway, and a stick the host does not use without it. */
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", HD_OP_FORCE, NAMES("usb_1_3")), 0);
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_1_4")), 0);
    eng_stop(&e);
}
END_TEST

/* One acquire after another: a device whose stick, hub or controller a VM holds, or one with a
 * device behind it that a VM holds, is refused (exit 1, naming the other and its VM), for
 * another VM and for the same one (the same hardware twice), in both orders; check says it. */
HD_TEST(chain_held_by_a_vm)
{
    struct eng e;
    size_t writes;

    eng_start(&e, "usb-scsi");
    /* The stick, then its SCSI disk. */
    ck_assert_int_eq(eng_run(&e, "acquire --vm a --owner 0:0 usb_1_4"), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 scsi_1_0_0_0"), 1);
    ck_assert_str_eq(e.err, "hostdev acquire: vm b: scsi_1_0_0_0 is behind usb_1_4, which vm a "
                            "holds: release that first\n");
    ck_assert_int_eq(eng_run(&e, "acquire --vm a --owner 0:0 scsi_1_0_0_0"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "scsi_1_0_0_0 is behind usb_1_4, which vm a holds"));
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "b", HD_OP_FORCE, NAMES("scsi_1_0_0_0")),
                     -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_HELD);
    ck_assert_int_eq(eng_run(&e, "check scsi_1_0_0_0"), 1);
    ck_assert_str_eq(e.out, "scsi_1_0_0_0: a VM opens /dev/sg1\n"
                            "scsi_1_0_0_0: not for a VM now: it is behind usb_1_4, "
                            "which vm a holds: release that first\n");
    ck_assert_int_eq(eng_run(&e, "--json check scsi_1_0_0_0"), 1);
    ck_assert_ptr_nonnull(strstr(e.out, "\"assignable_alone\": false"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"chain_held\": \"scsi_1_0_0_0 is behind usb_1_4, "
                                        "which vm a holds: release that first\""));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "release --vm a usb_1_4"), 0);
    /* The SCSI disk, then its stick. */
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 scsi_1_0_0_0"), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "acquire --vm a --owner 0:0 usb_1_4"), 1);
    ck_assert_str_eq(e.err, "hostdev acquire: vm a: usb_1_4 has scsi_1_0_0_0 behind it, which "
                            "vm b holds: release that first\n");
    ck_assert_int_eq(eng_run(&e, "--json acquire --dry-run --vm b --owner 0:0 usb_1_4"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "usb_1_4 has scsi_1_0_0_0 behind it, which vm b holds"));
    ck_assert_int_eq(eng_run(&e, "check usb_1_4"), 1);
    ck_assert_ptr_nonnull(strstr(e.out, "usb_1_4: not for a VM now: it has scsi_1_0_0_0 "
                                        "behind it, which vm b holds: release that first\n"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "release --vm b scsi_1_0_0_0"), 0);
    /* A hub (forced: the host's) and a device on it, both orders. */
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm a --owner 0:0 usb_usb1"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 usb_1_2"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "usb_1_2 is behind usb_usb1, which vm a holds"));
    ck_assert_int_eq(eng_run(&e, "release --vm a usb_usb1"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 usb_1_2"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm b --owner 0:0 usb_usb1"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "usb_usb1 has usb_1_2 behind it, which vm b holds"));
    /* The PCI controller after a device behind it, for the same VM too. */
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm b --owner 0:0 00:04.0"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "0000:00:04.0 has usb_1_2 behind it, which vm b holds"));
    ck_assert_int_eq(eng_run(&e, "release --vm b usb_1_2"), 0);
    /* A device behind a PCI controller a VM holds: a detached controller takes the devices
     * behind it from the host (none to name), and while the record names the controller
     * (the kernel gave it back to its driver behind hostdev's back) they are refused. */
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm a --owner 0:0 00:05.0"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 scsi_2_0_1_0"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "no SCSI device scsi_2_0_1_0"));
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/unbind", "0000:00:05.0"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/0000:00:05.0/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/virtio-pci/bind", "0000:00:05.0"), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 scsi_2_0_1_0"), 1);
    ck_assert_str_eq(e.err, "hostdev acquire: vm b: scsi_2_0_1_0 is behind 0000:00:05.0, which "
                            "vm a holds: release that first\n");
    ck_assert_int_eq(eng_run(&e, "acquire --vm a --owner 0:0 scsi_2_0_1_0"), 1);
    ck_assert_int_eq(eng_run(&e, "check scsi_2_0_1_0"), 1);
    ck_assert_ptr_nonnull(strstr(e.out, "scsi_2_0_1_0: not for a VM now: it is behind "
                                        "0000:00:05.0, which vm a holds: release that first\n"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    eng_stop(&e);
}
END_TEST

/* check of a PCI controller said nothing of a USB or SCSI device behind it that a VM holds,
 * though acquire refuses the controller for it: now it says so in acquire's words, exit 1 (text
 * and --json), and the set's last line names it. A controller with nothing else against it. */
HD_TEST(check_says_a_controller_has_a_held_device_behind_it)
{
    static const char spec[] = "kernel 6.12.0\n"
                               "cmdline \"root=/dev/vda1 ro intel_iommu=on\"\n"
                               "iommu intel\n"
                               "module vfio\nmodule vfio_iommu_type1\n"
                               "driver vfio-pci module=vfio_pci stub vfio\n"
                               "driver xhci_hcd ids=1b36:000d\n"
                               "device 0000:00:04.0 1b36:000d class=0c0330 driver=xhci_hcd "
                               "reset=flr\n"
                               "usb 0000:00:04.0 1-2 0403:6001 serial=FT123456 "
                               "product=FT232R_USB_UART iface=ff:ff:ff:ftdi_sio\n";
    static const char held[] = "0000:00:04.0 has usb_1_2 behind it, which vm b holds: release "
                               "that first";
    struct eng e;
    char want[256];

    eng_start(&e, spec);
    ck_assert_int_eq(eng_run(&e, "check 00:04.0"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 usb_1_2"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm a --owner 0:0 00:04.0"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, held));
    ck_assert_int_eq(eng_run(&e, "check 00:04.0"), 1);
    snprintf(want, sizeof(want), "0000:00:04.0: not for a VM now: it%s\n",
             held + strlen("0000:00:04.0"));
    ck_assert_msg(strstr(e.out, want) != NULL, "%s", e.out);
    ck_assert_ptr_null(strstr(e.out, "assignable alone"));
    ck_assert_int_eq(eng_run(&e, "--json check 00:04.0"), 1);
    snprintf(want, sizeof(want), "\"chain_held\": \"%s\"", held);
    ck_assert_msg(strstr(e.out, want) != NULL, "%s", e.out);
    ck_assert_ptr_nonnull(strstr(e.out, "\"assignable_alone\": false"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"assignable_together\": false"));
    ck_assert_int_eq(eng_run(&e, "check 00:04.0 usb_1_2"), 1);
    snprintf(want, sizeof(want), "not assignable together: %s", held);
    ck_assert_msg(strstr(e.out, want) != NULL, "%s", e.out);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "release --vm b usb_1_2"), 0);
    ck_assert_int_eq(eng_run(&e, "--json check 00:04.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"chain_held\": null"));
    eng_stop(&e);
}
END_TEST

/* A USB device given to a VM while its controller's acquire had checked and was detaching it
 * (its unbind hangs) went from under that VM as the controller left its driver, and both
 * acquires stood: a device behind it takes no group lock, and the controller's acquire, as it
 * records, no longer sees the device. Now the device's acquire takes its controller's group
 * lock: it waits for the controller's acquire (refused when that outlasts its timeout, exit
 * 1, naming the controller it waited for) and then finds no such device (exit 2). */
HD_TEST(a_device_waits_for_its_controllers_acquire)
{
    struct eng e;
    int status;

    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(fx_ctl(&e.fx, "hang xhci_hcd forever"), 0);
    pid_t pid = eng_hostdev_start(&e.fx, "acquire --force --vm a --owner 0:0 00:04.0");
    ck_assert(fx_wait_log(&e.fx, "unbind-hang 0000:00:04.0", 1, 20000));
    ck_assert_int_eq(eng_run(&e, "--timeout 500 acquire --vm b --owner 0:0 usb_1_2"), 1);
    /* Why it waited: for its controller's group, not a group the user never named. */
    char said[160];
    snprintf(said, sizeof(said), "hostdev acquire: vm b: usb_1_2: its controller 0000:00:04.0 "
             "(IOMMU group %s) is busy: another hostdev operation holds it",
             fx_link(&e.fx, "sys/bus/pci/devices/0000:00:04.0/iommu_group"));
    ck_assert_msg(strncmp(e.err, said, strlen(said)) == 0, "%s", e.err);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang xhci_hcd 0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm b --owner 0:0 usb_1_2"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "no USB device usb_1_2"));
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_msg(strstr(e.out, "usb_1_2") == NULL, "%s", e.out);
    eng_stop(&e);
}
END_TEST

/* A held USB device that re-enumerates: its new node is given to the VM's user (the udev
 * path), release gives back the node it has then, and another device in its port is not
 * taken for it. */
HD_TEST(reenumeration)
{
    struct eng e;
    struct hd_assignment_list *map;
    uid_t u;
    gid_t g;

    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_1_2")), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "usb-replug 1-2"), 0);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/bus/usb/001/006", &u, &g), 0664);
    /* A dry run changes nothing. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(op_names(&e, HD_OP_FOLLOW, NULL, HD_OP_DRY_RUN, NAMES("usb_1_2")), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(op_names(&e, HD_OP_FOLLOW, NULL, 0, NAMES("usb_1_2")), 0);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/bus/usb/001/006", &u, &g), 0660);
    ck_assert(u == 107 && g == 108);
    ck_assert_int_eq(hd_assignment_list_new(e.ctx, &map), 0);
    ck_assert_str_eq(hd_assignment_get_node(hd_assignment_list_find_name(map, "usb_1_2")),
                     "dev/bus/usb/001/006");
    hd_assignment_list_unref(map);
    /* Again: nothing to do, nothing written. */
    writes = eng_writes(&e);
    ck_assert_int_eq(op_names(&e, HD_OP_FOLLOW, NULL, 0, NAMES("usb_1_2")), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* A device no VM holds: nothing. */
    ck_assert_int_eq(op_names(&e, HD_OP_FOLLOW, NULL, 0, NAMES("usb_1_4")), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* Replugged again without the udev path: release finds its node anyway. */
    ck_assert_int_eq(fx_ctl(&e.fx, "usb-replug 1-2"), 0);
    ck_assert_int_eq(op_names(&e, HD_OP_RELEASE, "vm1", 0, NAMES("usb_1_2")), 0);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/bus/usb/001/007", &u, &g), 0664);
    /* The udev path through the tool. */
    ck_assert_int_eq(op_names(&e, HD_OP_ACQUIRE, "vm1", 0, NAMES("usb_1_2")), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "usb-replug 1-2"), 0);
    ck_assert_int_eq(eng_run(&e, "reserve --uevent"), 0); /* no event in the environment */
    setenv("ACTION", "add", 1);
    setenv("SUBSYSTEM", "usb", 1);
    setenv("DEVTYPE", "usb_device", 1);
    setenv("DEVPATH", "/devices/pci0000:00/0000:00:04.0/usb1/1-2", 1);
    /* Its plan is said once, under one heading. */
    ck_assert_int_eq(eng_run(&e, "--dry-run reserve --uevent"), 0);
    ck_assert_msg(strstr(e.out, "dry run: nothing changed; reserve would do:\n"
                                "  dev/bus/usb/001/008: owner") == e.out, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "reserve --uevent"), 0);
    unsetenv("ACTION");
    unsetenv("SUBSYSTEM");
    unsetenv("DEVTYPE");
    unsetenv("DEVPATH");
    ck_assert_ptr_nonnull(strstr(e.out, "usb_1_2: its new node goes to vm vm1"));
    ck_assert_uint_eq(eng_node_mode(&e, "dev/bus/usb/001/008", &u, &g), 0660);
    ck_assert(u == 107 && g == 108);
    eng_stop(&e);
}
END_TEST

/* doctor checks each USB and SCSI entry against the kernel: a replug without the udev rule
 * leaves the map naming a gone node and the new one udev's, which QEMU cannot open; a node
 * given back to root is said too; the remedy's commands fix it. */
HD_TEST(doctor_sees_a_replugged_device)
{
    struct eng e;

    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 usb_1_2"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm2 --owner 107:108 scsi_2_0_2_0"), 0);
    ck_assert_int_eq(eng_run(&e, "doctor"), 0);
    ck_assert_ptr_null(strstr(e.out, "usb_1_2"));
    ck_assert_int_eq(fx_ctl(&e.fx, "usb-replug 1-2"), 0);
    ck_assert_int_eq(eng_run(&e, "doctor"), 1);
    ck_assert_msg(strstr(e.out, "error usb_1_2 re-enumerated: the assignment map gives vm vm1 "
                                "/dev/bus/usb/001/003, but its node is\n  /dev/bus/usb/001/006 "
                                "now") != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "run: hostdev release --vm vm1 usb_1_2 && hostdev acquire --vm "
                                "vm1 --owner 107:108 usb_1_2") != NULL, "%s", e.out);
    ck_assert_ptr_null(strstr(e.out, "scsi_2_0_2_0"));
    /* Asked of that one device by name (it exited 2, only the whole-host run checked it): the
     * same finding and fix, exit 1; another device's are not said; one neither there nor
     * recorded is bad input, as a PCI address is. */
    char whole[4096];
    snprintf(whole, sizeof(whole), "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "doctor usb_1_2"), 1);
    ck_assert_str_eq(e.out, whole);
    ck_assert_int_eq(eng_run(&e, "doctor usb:0403:6001"), 1);
    ck_assert_str_eq(e.out, whole);
    ck_assert_int_eq(eng_run(&e, "doctor scsi_2_0_2_0"), 0);
    ck_assert_ptr_null(strstr(e.out, "usb_1_2"));
    ck_assert_int_eq(eng_run(&e, "doctor usb_9_9"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "hostdev doctor: no USB device usb_9_9 under "));
    ck_assert_int_eq(eng_run(&e, "release --vm vm1 usb_1_2"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 usb_1_2"), 0);
    ck_assert_int_eq(eng_run(&e, "doctor"), 0);
    /* Its node given back to root behind hostdev's back. */
    ck_assert_int_eq(chown(fx_path(&e.fx, "dev/bus/usb/001/006"), 0, 0), 0);
    ck_assert_int_eq(eng_run(&e, "--json doctor"), 1);
    ck_assert_msg(strstr(e.out, "\"code\": \"node-permission\",\n      \"device\": "
                                "\"usb_1_2\"") != NULL, "%s", e.out);
    eng_stop(&e);
}
END_TEST

/* A USB or SCSI device no VM holds, asked of by name: doctor says what check says keeps it from
 * a VM (the host's keyboard, storage the host has mounted), where it said only the IOMMU's
 * findings and "no problems found"; a free one has no problem. */
HD_TEST(doctor_says_what_keeps_an_unassigned_device_from_a_vm)
{
    struct eng e;

    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(eng_run(&e, "doctor usb_1_1"), 1);
    ck_assert_msg(strstr(e.out, "error usb_1_1 is a keyboard: the host keeps it (no VM needs it), "
                                "and acquiring it is refused unless\n  forced\n") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json doctor scsi_2_0_0_0"), 1);
    ck_assert_msg(strstr(e.out, "\"severity\": \"warning\",\n      \"code\": \"host-use\",\n"
                                "      \"device\": \"scsi_2_0_0_0\",\n      \"message\": "
                                "\"scsi_2_0_0_0 backs /dev/sdc mounted on /srv: the host uses "
                                "it") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "doctor usb:46f4:0001:STICK0001"), 1);
    ck_assert_ptr_nonnull(strstr(e.out, "warning usb_1_3 "));
    ck_assert_int_eq(eng_run(&e, "doctor usb_1_4"), 0);
    ck_assert_msg(strstr(e.out, "no problems found") != NULL && strstr(e.out, "usb_1_4") == NULL,
                  "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "doctor scsi_2_0_1_0"), 0);
    eng_stop(&e);
}
END_TEST

/* A SCSI device without its dev/sgN (the sg module not loaded), no VM holds: doctor says no VM
 * can open it, and how it gets one, as check says it is not for a VM now. */
HD_TEST(doctor_says_a_scsi_device_has_no_node)
{
    struct hd_findings *d;
    struct hd_ctx *ctx;
    struct fx fx;
    char path[4096];
    bool found = false;

    memset(&fx, 0, sizeof(fx));
    ck_assert_msg(fx_materialize(&fx, "usb-scsi") == 0, "%s", fx.error);
    snprintf(path, sizeof(path), "%s/sys/class/scsi_generic/sg3", fx.root);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(hd_ctx_new(fx.root, &ctx), 0);
    ck_assert_int_eq(hd_doctor_run_node(ctx, "scsi_2_0_1_0", &d), 0);
    for (size_t i = 0; i < hd_findings_count(d); i++) {
        const char *dev = hd_findings_get_device(d, i);
        if (dev == NULL || strcmp(dev, "scsi_2_0_1_0") != 0)
            continue;
        ck_assert_str_eq(hd_findings_get_code(d, i), "node-missing");
        ck_assert_int_eq(hd_findings_get_severity(d, i), HD_SEVERITY_ERROR);
        ck_assert_ptr_nonnull(strstr(hd_findings_get_message(d, i), "has no dev/sg"));
        ck_assert_ptr_nonnull(strstr(hd_findings_get_fix(d, i), "sg module"));
        found = true;
    }
    ck_assert(found);
    hd_findings_unref(d);
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

/* Another device in the port of a held USB device: the record has nothing left to give back,
 * and doctor says release drops it (the fake kernel changes no ids, a plain tree does). */
HD_TEST(doctor_sees_another_device_in_the_port)
{
    struct hd_findings *d;
    struct hd_ctx *ctx;
    struct hd_op *op;
    struct fx fx;
    bool found = false;

    memset(&fx, 0, sizeof(fx));
    ck_assert_msg(fx_materialize(&fx, "usb-scsi") == 0, "%s", fx.error);
    ck_assert_int_eq(hd_ctx_new(fx.root, &ctx), 0);
    ck_assert_int_eq(hd_op_new(ctx, HD_OP_ACQUIRE, &op), 0);
    hd_op_set_owner(op, 107, 108);
    ck_assert_int_eq(hd_op_set_vm(op, "vm1"), 0);
    ck_assert_int_eq(hd_op_add_node_device(op, "usb_1_2"), 0);
    ck_assert_int_eq(hd_op_run(op), 0);
    hd_op_unref(op);
    ck_assert_int_eq(tmptree_write(fx.root, "sys/bus/usb/devices/1-2/idProduct", "6015\n"), 0);
    ck_assert_int_eq(hd_doctor_run(ctx, NULL, &d), 0);
    for (size_t i = 0; i < hd_findings_count(d); i++) {
        const char *dev = hd_findings_get_device(d, i);
        if (dev != NULL && strcmp(dev, "usb_1_2") == 0) {
            ck_assert_str_eq(hd_findings_get_code(d, i), "map-mismatch");
            ck_assert_int_eq(hd_findings_get_remedy(d, i), HD_REMEDY_RELEASE);
            found = true;
        }
    }
    ck_assert(found);
    hd_findings_unref(d);
    /* Asked by name, the one device: the same finding, though no such device is there now. */
    ck_assert_int_eq(hd_doctor_run_node(ctx, "usb_1_2", &d), 0);
    found = false;
    for (size_t i = 0; i < hd_findings_count(d); i++) {
        const char *dev = hd_findings_get_device(d, i);
        if (dev != NULL && strcmp(dev, "usb_1_2") == 0)
            found = strcmp(hd_findings_get_code(d, i), "map-mismatch") == 0;
    }
    ck_assert(found);
    hd_findings_unref(d);
    ck_assert_int_eq(hd_doctor_run_node(ctx, "usb_9_9", &d), -ENODEV);
    ck_assert_int_eq(hd_doctor_run_node(ctx, "1-2", &d), -EINVAL);
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

/* check judges USB and SCSI devices as acquire takes them: the host's keyboard and mounted
 * storage are not for a VM (exit 1), a free one is (exit 0), one a VM holds is said; beside
 * a PCI device they are one set; a name that is none, or not there, is bad input. */
HD_TEST(check_judges_usb_and_scsi)
{
    struct eng e;

    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(eng_run(&e, "check usb_1_4"), 0);
    ck_assert_str_eq(e.out, "usb_1_4: a VM opens /dev/bus/usb/001/005: assignable alone\n");
    ck_assert_int_eq(eng_run(&e, "check usb_1_1"), 1);
    ck_assert_str_eq(e.out, "usb_1_1: a VM opens /dev/bus/usb/001/002\n"
                            "usb_1_1: is a keyboard, which the host keeps: not for a VM\n");
    ck_assert_int_eq(eng_run(&e, "check scsi_2_0_0_0"), 1);
    ck_assert_msg(strstr(e.out, "scsi_2_0_0_0: in use by the host, not for a VM now (acquire "
                                "refuses it without --force): it backs /dev/sdc "
                                "mounted on /srv\n") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 usb_1_2"), 0);
    ck_assert_int_eq(eng_run(&e, "check usb:0403:6001 scsi_2_0_1_0"), 0);
    ck_assert_str_eq(e.out, "usb_1_2: a VM opens /dev/bus/usb/001/003: assignable alone\n"
                            "usb_1_2: assigned to vm vm1\n"
                            "scsi_2_0_1_0: a VM opens /dev/sg3: assignable alone\n"
                            "the 2 devices given: assignable together, to one VM\n");
    ck_assert_int_eq(eng_run(&e, "check usb_1_3 scsi_2_0_1_0"), 1);
    ck_assert_msg(strstr(e.out, "the 2 devices given: not assignable together: usb_1_3 is in use "
                                "by the host\n") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json check usb_1_1 scsi_2_0_2_0"), 1);
    ck_assert_msg(strstr(e.out, "\"address\": \"usb_1_1\",\n    \"node\": "
                                "\"/dev/bus/usb/001/002\"") != NULL, "%s", e.out);
    ck_assert_ptr_nonnull(strstr(e.out, "\"host_keeps\": \"a keyboard\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"node\": \"/dev/sg4\",\n    \"scope\": null,\n"
                                        "    \"methods\": [],\n    \"assignable_alone\": true"));
    /* A device given with the controller it is behind: acquire refuses the pair (detaching
     * the controller takes it from the host), and check says so of it, in acquire's words;
     * check said nothing of it, though the pair can never go to one VM. */
    const char *behind = "usb_1_2 is behind 0000:00:04.0, and detaching 0000:00:04.0 removes "
                         "it from the host: ask for one or the other";
    ck_assert_int_eq(eng_run(&e, "check 00:04.0 usb_1_2"), 1);
    char line[512];
    snprintf(line, sizeof(line), "usb_1_2: not with the devices given: it%s\n",
             behind + strlen("usb_1_2"));
    ck_assert_msg(strstr(e.out, line) != NULL, "%s", e.out);
    snprintf(line, sizeof(line), "cannot be reset; 0000:00:04.0 has usb_1_2 behind it, which "
             "vm vm1 holds: release that first; %s\n", behind);
    ck_assert_msg(strstr(e.out, line) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json check usb_1_2 00:04.0"), 1);
    snprintf(line, sizeof(line), "\"assignable_together\": false,\n    \"not_together\": \"%s\"",
             behind);
    ck_assert_msg(strstr(e.out, line) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "acquire --dry-run --vm vm2 00:04.0 usb_1_2 --force"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, behind));
    /* A USB stick and its own SCSI disk: the one given after the other says why, as acquire
     * refuses the pair. */
    const char *on_stick = "scsi_1_0_0_0 is behind usb_1_4: QEMU's usb-host claims usb_1_4 from "
                           "the host, and scsi_1_0_0_0 goes with it: ask for one or the other";
    ck_assert_int_eq(eng_run(&e, "check usb_1_4 scsi_1_0_0_0"), 1);
    snprintf(line, sizeof(line), "scsi_1_0_0_0: not with the devices given: it%s\n",
             on_stick + strlen("scsi_1_0_0_0"));
    ck_assert_msg(strstr(e.out, line) != NULL, "%s", e.out);
    snprintf(line, sizeof(line), "the 2 devices given: not assignable together: %s\n", on_stick);
    ck_assert_msg(strstr(e.out, line) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json check scsi_1_0_0_0 usb_1_4"), 1);
    snprintf(line, sizeof(line), "\"assignable_together\": false,\n    \"not_together\": \"%s\"",
             on_stick);
    ck_assert_msg(strstr(e.out, line) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "acquire --dry-run --vm vm2 usb_1_4 scsi_1_0_0_0"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, on_stick));
    ck_assert_int_eq(eng_run(&e, "--json check usb_1_4 00:05.0"), 1); /* another controller */
    ck_assert_ptr_nonnull(strstr(e.out, "\"not_together\": null"));
    /* Bad input: exit 2, one line, before anything is said. */
    ck_assert_int_eq(eng_run(&e, "check 00:05.0 usb_9_9"), 2);
    ck_assert_str_eq(e.out, "");
    char want[512];
    snprintf(want, sizeof(want), "hostdev check: no USB device usb_9_9 under %s\n", e.fx.root);
    ck_assert_str_eq(e.err, want);
    ck_assert_int_eq(eng_run(&e, "check usb_1_2 usb:0403:6001"), 2);
    ck_assert_str_eq(e.err, "hostdev check: usb_1_2 is given twice\n");
    eng_stop(&e);
}
END_TEST

/* A killed acquire: recover gives the node back; the map line of each kind is checked. */
HD_TEST(recovery_and_records)
{
    struct eng e;
    unsigned int n = 0;
    uid_t u;
    gid_t g;

    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(chown(fx_path(&e.fx, "dev/sg3"), 107, 108), 0);
    const char *rel = eng_dead_journal(&e, "acquire", "hostdev-journal 2 acquire vm1\n"
                                                      "scsi scsi_2_0_1_0 -1\n"
                                                      "own dev/sg3 0 0 0660\n");
    ck_assert_int_eq(hd_assign_recover(e.ctx, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(eng_node_mode(&e, "dev/sg3", &u, &g), 0660);
    ck_assert(u == 0 && g == 0);
    /* A journal naming a device by a path is damage. */
    eng_put(&e, rel, "hostdev-journal 2 acquire vm1\nusb usb_../../x -1\n");
    ck_assert_int_lt(hd_assign_recover(e.ctx, &n), 0);
    unlink(fx_path(&e.fx, rel));
    rmdir(fx_path(&e.fx, "run/hostdev/damaged"));
    static const char *const bad[] = {
        /* a USB line without its ids, ids on a SCSI line, a name that is no node device's */
        "usb_1_2 vm=a mode=unmanaged detached=0 via=request driver=- group=-1 since=1 "
        "owner=0:0 nodes=-\n",
        "scsi_2_0_1_0 vm=a mode=unmanaged detached=0 via=request driver=- group=-1 since=1 "
        "owner=0:0 ids=0403:6001 nodes=-\n",
        "usb_1-2 vm=a mode=unmanaged detached=0 via=request driver=- group=-1 since=1 "
        "owner=0:0 ids=0403:6001 nodes=-\n",
        "usb_1_2 vm=a mode=unmanaged detached=0 via=request driver=- group=-1 since=1 "
        "owner=0:0 ids=0403:6001 nodes=dev/sda@0:0:0660\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), "# hostdev assignments v3\n%s", bad[i]);
        eng_map_damaged(&e, text, "line 2 is not valid");
    }
    eng_stop(&e);
}
END_TEST

HD_TEST(the_tool)
{
    struct eng e;

    eng_start(&e, "usb-scsi");
    /* A stick by ids and serial, as acquire takes it, is one the generators know too. */
    ck_assert_int_eq(eng_run(&e, "qemu-args usb:46f4:0001:STICK0002"), 0);
    ck_assert_str_eq(e.out, "-device usb-host,hostbus=1,hostaddr=5,id=hostdev0\n");
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 usb_1_2 scsi_2_0_2_0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "usb_1_2: assigned to vm vm1"));
    /* Asked again as held (a retry): done, nothing written; another owner is refused. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 usb_1_2 scsi_2_0_2_0"), 0);
    ck_assert_str_eq(e.out, "usb_1_2: already assigned to vm vm1, as asked: nothing to do\n"
                            "scsi_2_0_2_0: already assigned to vm vm1, as asked: nothing to do\n");
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:107 usb_1_2"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "with owner 107:108, not 107:107"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(eng_run(&e, "assignments"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "(/dev/bus/usb/001/003)"));
    ck_assert_ptr_nonnull(strstr(e.out, "scsi_2_0_2_0  vm1 "));
    /* No IOMMU group: '-' as for the driver, null in JSON, never a -1. */
    ck_assert_ptr_nonnull(strstr(e.out, "usb       -                  -  "));
    ck_assert_ptr_null(strstr(e.out, " -1 "));
    ck_assert_int_eq(eng_run(&e, "--json assignments"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"iommu_group\": null"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"kind\": \"scsi\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"node\": \"dev/sg4\""));
    ck_assert_int_eq(eng_run(&e, "list --format vdsm --caps usb_device,scsi"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"vmId\": \"vm1\""));
    ck_assert_int_eq(eng_run(&e, "export --format prometheus"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev_assigned{node_device=\"usb_1_2\",vm=\"vm1\"} 1"));
    /* show: the node a VM opens, who holds it, what the host keeps. */
    ck_assert_int_eq(eng_run(&e, "show usb_1_2"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "node:            /dev/bus/usb/001/003"));
    ck_assert_ptr_nonnull(strstr(e.out, "assigned to:     vm vm1"));
    ck_assert_int_eq(eng_run(&e, "show usb:0627:0001"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "usb_1_1 is a keyboard"));
    ck_assert_int_eq(eng_run(&e, "--json show scsi_2_0_0_0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"host_use\": \"scsi_2_0_0_0 backs /dev/sdc mounted on /srv"));
    ck_assert_int_eq(eng_run(&e, "show usb_8_8"), 2);
    /* Refusals: exit 1 with the reason; bad names exit 2. */
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 usb_1_1"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "is a keyboard"));
    ck_assert_ptr_nonnull(strstr(e.err, "--force"));
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 usb_x"), 2);
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 usb_7_7"), 2);
    ck_assert_int_eq(eng_run(&e, "--json acquire --vm vm1 scsi_9_0_0_0"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "\"exit\":2"));
    ck_assert_int_eq(eng_run(&e, "reset usb_1_2"), 2);
    ck_assert_int_eq(eng_run(&e, "release --vm vm1"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "scsi_2_0_2_0: released from vm vm1"));
    /* A domain's USB and SCSI hostdevs, as libvirt writes them. */
    eng_put(&e, "dom.xml", "<domain type='kvm'><name>g1</name><devices>"
                           "<hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0x0403'/>"
                           "<product id='0x6001'/></source></hostdev>"
                           "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host2'/>"
                           "<address bus='0' target='1' unit='0'/></source></hostdev>"
                           "</devices></domain>\n");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "acquire --owner 107:108 --domain-xml %s",
             fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "usb_1_2: assigned to vm g1"));
    ck_assert_ptr_nonnull(strstr(e.out, "scsi_2_0_1_0: assigned to vm g1"));
    snprintf(cmd, sizeof(cmd), "release --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "scsi_2_0_1_0: released from vm g1"));
    /* Two sticks share ids: libvirt tells them apart by bus and device number. */
    eng_put(&e, "dom.xml", "<domain type='kvm'><name>g1</name><devices>"
                           "<hostdev mode='subsystem' type='usb'><source><vendor id='0x46f4'/>"
                           "<product id='0x0001'/><address bus='1' device='5'/></source></hostdev>"
                           "</devices></domain>\n");
    snprintf(cmd, sizeof(cmd), "acquire --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "usb_1_4: assigned to vm g1"));
    snprintf(cmd, sizeof(cmd), "release --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 0);
    eng_put(&e, "dom.xml", "<domain type='kvm'><name>g1</name><devices><hostdev mode='subsystem' type='usb'>"
                           "<source><address bus='1' device='9'/></source></hostdev></devices></domain>\n");
    snprintf(cmd, sizeof(cmd), "acquire --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "no USB device"));
    snprintf(cmd, sizeof(cmd), "qemu-args --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 2);
    eng_put(&e, "dom.xml", "<domain type='kvm'><name>g1</name><devices><hostdev mode='subsystem' type='scsi'>"
                           "<source><adapter name='host2'/><address bus='0' target='1' unit='0'/></source>"
                           "</hostdev></devices></domain>\n");
    snprintf(cmd, sizeof(cmd), "acquire --domain-xml %s", fx_path(&e.fx, "dom.xml"));
    ck_assert_int_eq(eng_run(&e, "%s", cmd), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "adapter name='scsi_hostN'"));
    eng_stop(&e);
}
END_TEST

/* A node that is already its VM's user's, mode 0660, is left as it is: no owner change
 * is journaled or reported for it (dev/sgN is root:root 0660 from the start). */
HD_TEST(a_node_already_given_is_not_changed)
{
    struct eng e;

    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 0:0 scsi_2_0_2_0"), 0);
    ck_assert_str_eq(e.out, "scsi_2_0_2_0: assigned to vm vm1\n");
    ck_assert_int_eq(eng_run(&e, "release --vm vm1"), 0);
    ck_assert_str_eq(e.out, "scsi_2_0_2_0: released from vm vm1\n");
    eng_stop(&e);
}
END_TEST

/* A command that takes PCI devices only names a USB or SCSI device, or a mediated device's
 * UUID, for what it is (not "invalid PCI address", which sends the user after a typo), exit 2
 * with nothing read or written; one that takes them all lists their forms beside the PCI ones
 * for a word that is none of them (lsscsi's 2:0:1:0, sysfs's 1-2). */
HD_TEST(other_kinds_are_named_where_a_pci_device_is_asked)
{
    static const struct {
        const char *cmd, *err;
    } cases[] = {
        {"sriov usb:0403:6001", "hostdev sriov: 'usb:0403:6001' names a USB or SCSI device"},
        {"verify scsi_2_0_2_0", "hostdev verify: 'scsi_2_0_2_0' names a USB or SCSI device"},
        {"sriov mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001", "is a mediated device's UUID"},
        {"cmdline scsi_2_0_1_0", "hostdev cmdline: 'scsi_2_0_1_0' names a USB or SCSI device"},
        {"acquire --vm a 2:0:1:0", "hostdev acquire: invalid PCI address '2:0:1:0' (expected "
                                   "DDDD:BB:SS.F, BB:SS.F, pci_DDDD_BB_SS_F or a network "
                                   "interface's name; or a mediated device's UUID, usb_BUS_PORT, "
                                   "usb:VVVV:PPPP[:SERIAL] or scsi_H_B_T_L)\n"},
        {"show 1-2", "hostdev show: invalid PCI address '1-2' (expected DDDD:BB:SS.F"},
        {"qemu-args 2:0:1:0", "usb:VVVV:PPPP[:SERIAL] or scsi_H_B_T_L)\n"},
        {"doctor 1-2", "usb:VVVV:PPPP[:SERIAL] or scsi_H_B_T_L)\n"},
        {"check 1-2", "usb:VVVV:PPPP[:SERIAL] or scsi_H_B_T_L)\n"},
        /* No device at all: the forms as acquire takes them (usb_1_2 is bus 1, port 2). */
        {"check", "a mediated device's UUID, usb_BUS_PORT or scsi_H_B_T_L)\n"},
        {"hostdev-xml", "a mediated device's UUID, usb_BUS_PORT or scsi_H_B_T_L)\n"},
        {"qemu-args", "a mediated device's UUID, usb_BUS_PORT or scsi_H_B_T_L)\n"},
        /* A reset is a PCI function's: not told of drivers it has none of to change. */
        {"reset usb_1_2", "hostdev reset: usb_1_2: a USB or SCSI device has no PCI reset: only "
                          "a PCI device can be reset\n"},
        {"reset scsi_2_0_1_0", "hostdev reset: scsi_2_0_1_0: a USB or SCSI device has no PCI "
                               "reset: only a PCI device can be reset\n"},
        {"detach usb_1_2", "hostdev detach: usb_1_2: a USB or SCSI device has no driver to "
                           "change: only an acquire or a release takes one\n"},
        /* A name is said once, and a device not there in one wording whoever looks. */
        {"acquire --vm a scsi_x_0_1_0", "hostdev acquire: 'scsi_x_0_1_0' is not a USB or SCSI "
                                        "device's name (usb_BUS_PORT, usb:VVVV:PPPP[:SERIAL], "
                                        "scsi_H_B_T_L)\n"},
        {"show usb_9_9", "hostdev show: no USB device usb_9_9 under "},
        {"qemu-args usb_9_9", "hostdev qemu-args: no USB device usb_9_9 under "},
        {"hostdev-xml scsi_9_0_0_0", "hostdev hostdev-xml: no SCSI device scsi_9_0_0_0 under "},
        {"show scsi_9_0_0_0", "hostdev show: no SCSI device scsi_9_0_0_0 under "},
    };
    struct eng e;

    eng_start(&e, "usb-scsi");
    size_t writes = eng_writes(&e);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(eng_run(&e, "%s", cases[i].cmd) == 2, "%s: exit", cases[i].cmd);
        ck_assert_msg(strncmp(e.err, cases[i].err, strlen(cases[i].err)) == 0 ||
                          strstr(e.err, cases[i].err) != NULL,
                      "%s: %s", cases[i].cmd, e.err);
        ck_assert_msg(strchr(e.err, '\n') == e.err + strlen(e.err) - 1, "%s: one line: %s",
                      cases[i].cmd, e.err);
    }
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* Their help names a USB device the way they take one. */
    static const char *const helps[] = {"hostdev-xml --help", "qemu-args --help",
                                        "show --help"};
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
        ck_assert_int_eq(eng_run(&e, "%s", helps[i]), 0);
        ck_assert_msg(strstr(e.out, "usb_BUS_PORT or\nusb:VVVV:PPPP[:SERIAL]") != NULL ||
                          strstr(e.out, "usb_BUS_PORT or usb:VVVV:PPPP[:SERIAL]") != NULL,
                      "%s: %s", helps[i], e.out);
    }
    eng_stop(&e);
}
END_TEST

/* The VDSM listing offers oVirt what acquire takes: the host's keyboard and the root hub,
 * which acquire refuses as the host's, are is_assignable "false" (as platform functions
 * are), a USB serial adapter and a stick the host has mounted "true" (the mount may end). */
HD_TEST(vdsm_listing_offers_no_usb_device_the_host_keeps)
{
    static const struct {
        const char *name, *assignable;
    } want[] = {
        {"usb_1_1", "false"}, /* the keyboard */
        {"usb_usb1", "false"}, /* the root hub */
        {"usb_1_2", "true"},
        {"usb_1_3", "true"},
    };
    struct eng e;
    char needle[128];

    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(eng_run(&e, "list --format vdsm --caps usb_device"), 0);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        snprintf(needle, sizeof(needle), "\"%s\": {", want[i].name);
        const char *d = strstr(e.out, needle);
        ck_assert_msg(d != NULL, "%s: %s", want[i].name, e.out);
        snprintf(needle, sizeof(needle), "\"is_assignable\": \"%s\"", want[i].assignable);
        const char *a = strstr(d, "\"is_assignable\"");
        ck_assert_msg(a != NULL && strncmp(a, needle, strlen(needle)) == 0, "%s: %s",
                      want[i].name, d);
    }
    ck_assert_int_eq(eng_run(&e, "list --format vdsm --tree --caps usb_device"), 0);
    ck_assert_msg(strstr(e.out, "usb_1_1 = {'params': {'address': {'bus': '1', 'device': '2'},\n"
                                "                          'capability': 'usb_device',\n"
                                "                          'driver': 'usb',\n"
                                "                          'is_assignable': 'false',") != NULL,
                  "%s", e.out);
    eng_stop(&e);
}
END_TEST
