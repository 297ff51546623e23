/* test-variant.c - vfio-pci variant drivers on the fake kernel (tests/trees/variant.spec): the
 * choice from modules.alias, detach/reattach/acquire/reserve to a variant, explicit drivers,
 * undo back onto the exact driver a device was on, and what the tools say. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hdtest.h"

#define VF "0000:01:00.2"
#define VF2 "0000:01:00.3"
#define NIC "0000:02:00.0"
#define HISI "0000:03:00.0"


static const char *vfio_driver(struct eng *e, const char *bdf)
{
    static char buf[64];
    struct hd_device *dev = eng_dev(e, bdf);

    ck_assert_int_eq(hd_device_get_vfio_driver(dev, buf, sizeof(buf)), 0);
    hd_device_unref(dev);
    return buf;
}

HD_TEST_FILE(.timeout = 60);

HD_TEST(the_most_specific_alias_chooses)
{
    struct eng e;

    eng_start(&e, "variant");
    /* The VF id has its own line: it beats the vendor-wide one and vfio-pci's match-all. */
    ck_assert_str_eq(vfio_driver(&e, VF), "mlx5_vfio_pci");
    /* The PF's own line names "../evil_vfio_pci", which is not a module name: ignored, so the
     * vendor-wide line is the most specific left. */
    ck_assert_str_eq(vfio_driver(&e, "0000:01:00.0"), "vendorwide_vfio_pci");
    /* Only vfio_pci's own alias matches: vfio-pci, by its driver name. */
    ck_assert_str_eq(vfio_driver(&e, NIC), "vfio-pci");
    /* A variant built into the kernel: its alias is in modules.builtin.modinfo (after a NUL,
     * which the fake kernel's file statement keeps). */
    ck_assert_str_eq(vfio_driver(&e, "0000:00:04.0"), "virtio_vfio_pci");
    eng_stop(&e);
    /* No modules.alias at all (a minimal image): vfio-pci. */
    eng_start(&e, "demo");
    ck_assert_str_eq(vfio_driver(&e, "0000:02:00.0"), "vfio-pci");
    eng_stop(&e);
}
END_TEST

HD_TEST(detach_binds_the_variant_and_reattach_returns)
{
    struct eng e;
    struct hd_device *vf, *nic;

    eng_start(&e, "variant");
    vf = eng_dev(&e, VF);
    nic = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(vf, NULL, 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_vfio_pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" VF "/driver_override"),
                     "mlx5_vfio_pci");
    char node[32];
    snprintf(node, sizeof(node), "dev/vfio/%d", fx_group(&e.fx, VF));
    ck_assert(fx_exists(&e.fx, node)); /* a VFIO driver: the group's node */
    ck_assert_int_eq(hd_device_detach(nic, NULL, 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    /* Detached already, to a vfio-pci family driver: nothing to do. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_device_detach(vf, NULL, 0), 0);
    ck_assert_int_eq(hd_device_detach(vf, "vfio-pci", 0), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd_device_reattach(vf), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" VF "/driver_override"), "(null)");
    ck_assert_int_eq(hd_device_reattach(nic), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    hd_device_unref(vf);
    hd_device_unref(nic);
    /* The built-in variant: bound and given back the same way. */
    struct hd_device *virtio = eng_dev(&e, "0000:00:04.0");
    ck_assert_int_eq(hd_device_detach(virtio, NULL, 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:04.0"), "virtio_vfio_pci");
    ck_assert_int_eq(hd_device_reattach(virtio), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:04.0"), "virtio-pci");
    hd_device_unref(virtio);
    /* modules.alias changed since (the variant's module gone, depmod run again): the next
     * operation of the same context reads it again, and the VF goes to vfio-pci. */
    FILE *f = fopen(fx_path(&e.fx, "lib/modules/6.1.0-13-amd64/modules.alias"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n", f);
    ck_assert_int_eq(fclose(f), 0);
    vf = eng_dev(&e, VF);
    ck_assert_int_eq(hd_device_detach(vf, NULL, 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "vfio-pci");
    ck_assert_int_eq(hd_device_reattach(vf), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    hd_device_unref(vf);
    eng_stop(&e);
}
END_TEST

HD_TEST(an_explicit_driver_is_kept_to)
{
    struct eng e;
    struct hd_device *vf;

    eng_start(&e, "variant");
    vf = eng_dev(&e, VF);
    ck_assert_int_eq(hd_device_detach(vf, "vfio-pci", 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "vfio-pci");
    /* A variant asked for by name: the device moves there from vfio-pci; its record stays. */
    ck_assert_int_eq(hd_device_detach(vf, "mlx5_vfio_pci", 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_vfio_pci");
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" VF), "mlx5_core");
    ck_assert_int_eq(hd_device_reattach(vf), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    /* new_id cannot bind a variant: its ids are override-only. Bad input; nothing is
     * written. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_device_detach(vf, "mlx5_vfio_pci", HD_DETACH_NEW_ID), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "driver_override"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* Not a stub at all, or not a name: refused before anything. */
    ck_assert_int_eq(hd_device_detach(vf, "e1000e", 0), -EINVAL);
    ck_assert_int_eq(hd_device_detach(vf, "../x_vfio_pci", 0), -EINVAL);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    hd_device_unref(vf);
    eng_stop(&e);
}
END_TEST

HD_TEST(a_variant_that_is_not_there_changes_nothing)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "variant");
    dev = eng_dev(&e, HISI);
    ck_assert_str_eq(vfio_driver(&e, HISI), "hisi_acc_vfio_pci");
    /* Modules are never loaded under a fake root: the detach fails before any write. */
    size_t writes = eng_writes(&e);
    ck_assert_int_lt(hd_device_detach(dev, NULL, 0), 0);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "hisi_acc_vfio_pci"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, HISI), "hisi_zip");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" HISI));
    /* vfio-pci asked for by name still works. */
    ck_assert_int_eq(hd_device_detach(dev, "vfio-pci", 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, HISI), "vfio-pci");
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* One operation moves the VF from vfio-pci to its variant and detaches the NIC; the NIC's
 * unbind fails, and the undo puts the VF back on vfio-pci itself (not "any vfio driver"). */
HD_TEST(undo_returns_to_the_exact_driver)
{
    struct eng e;
    struct hd_device *vf;
    struct hd_op *op;
    struct hd_pci_addr a;

    eng_start(&e, "variant");
    vf = eng_dev(&e, VF);
    ck_assert_int_eq(hd_device_detach(vf, "vfio-pci", 0), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/drivers/e1000e/unbind EIO"), 0);
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_DETACH, &op), 0);
    ck_assert_int_eq(hd_pci_addr_parse(VF, &a), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    ck_assert_int_eq(hd_op_set_device_driver(op, &a, "mlx5_vfio_pci"), 0);
    ck_assert_int_eq(hd_pci_addr_parse(NIC, &a), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    ck_assert_int_lt(hd_op_run(op), 0);
    hd_op_unref(op);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" VF "/driver_override"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" VF), "mlx5_core");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    /* A driver for a device the operation does not have, or a host driver: refused. */
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_DETACH, &op), 0);
    ck_assert_int_eq(hd_op_set_device_driver(op, &a, "vfio-pci"), -EINVAL);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    ck_assert_int_eq(hd_op_set_device_driver(op, &a, "e1000e"), -EINVAL);
    ck_assert_int_eq(hd_op_set_driver(op, "mlx5_core"), -EINVAL);
    hd_op_unref(op);
    hd_device_unref(vf);
    eng_stop(&e);
}
END_TEST

HD_TEST(acquire_and_reserve_choose_the_variant)
{
    struct eng e;
    struct hd_op *op;
    struct hd_pci_addr a;

    eng_start(&e, "variant");
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_ACQUIRE, &op), 0);
    ck_assert_int_eq(hd_op_set_vm(op, "vm1"), 0);
    hd_op_set_owner(op, 1000, 1000);
    ck_assert_int_eq(hd_pci_addr_parse(VF, &a), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    ck_assert_int_eq(hd_pci_addr_parse(VF2, &a), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    ck_assert_int_eq(hd_op_set_device_driver(op, &a, "vfio-pci"), 0); /* <driver model=...> */
    ck_assert_int_eq(hd_op_run(op), 0);
    hd_op_unref(op);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_vfio_pci");
    ck_assert_str_eq(fx_driver(&e.fx, VF2), "vfio-pci");
    /* A VM gets devices through VFIO: pci-stub is refused before anything changes. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_ACQUIRE, &op), 0);
    ck_assert_int_eq(hd_op_set_vm(op, "vm2"), 0);
    ck_assert_int_eq(hd_pci_addr_parse(NIC, &a), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    ck_assert_int_eq(hd_op_set_driver(op, "pci-stub"), 0);
    ck_assert_int_eq(hd_op_run(op), -EINVAL);
    hd_op_unref(op);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* Released: back to mlx5_core from either. */
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_RELEASE, &op), 0);
    ck_assert_int_eq(hd_op_set_vm(op, "vm1"), 0);
    ck_assert_int_eq(hd_op_run(op), 0);
    hd_op_unref(op);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    ck_assert_str_eq(fx_driver(&e.fx, VF2), "mlx5_core");
    /* A reservation keeps the device for its variant: the override names it. */
    struct hd_device *dev = eng_dev(&e, VF);
    ck_assert_int_eq(hd_device_reserve(dev, NULL), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_vfio_pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" VF "/driver_override"),
                     "mlx5_vfio_pci");
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

HD_TEST(the_tools_say_and_take_it)
{
    struct eng e;
    FILE *f;

    eng_start(&e, "variant");
    ck_assert_int_eq(eng_run(&e, "show " VF), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "detach binds:    mlx5_vfio_pci (its vfio-pci variant"));
    ck_assert_int_eq(eng_run(&e, "show " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "detach binds:    vfio-pci (no variant"));
    ck_assert_int_eq(eng_run(&e, "--json show " VF), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"vfio_driver\": \"mlx5_vfio_pci\""));
    ck_assert_int_eq(eng_run(&e, "detach --dry-run " VF " " NIC), 0);
    ck_assert_ptr_nonnull(strstr(e.out, VF ": mlx5_core -> mlx5_vfio_pci"));
    ck_assert_ptr_nonnull(strstr(e.out, NIC ": e1000e -> vfio-pci"));
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    /* --driver: any vfio-pci family name, "vfio" for the default; others are bad input. */
    ck_assert_int_eq(eng_run(&e, "detach --driver e1000e " VF), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "--driver 'e1000e'"));
    ck_assert_int_eq(eng_run(&e, "--json detach --driver ../a_vfio_pci " VF), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "\"exit\":2"));
    ck_assert_int_eq(eng_run(&e, "detach --driver vfio-pci " VF), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "vfio-pci");
    ck_assert_int_eq(eng_run(&e, "detach --driver mlx5_vfio_pci " VF), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_vfio_pci");
    ck_assert_int_eq(eng_run(&e, "reattach " VF), 0);
    /* --new-id: the variant's ids are override-only, so the default is vfio-pci itself, as
     * the dry run says too; a variant named with it is bad input, before anything. */
    ck_assert_int_eq(eng_run(&e, "detach --new-id --dry-run " VF), 0);
    ck_assert_ptr_nonnull(strstr(e.out, VF ": mlx5_core -> vfio-pci"));
    ck_assert_int_eq(eng_run(&e, "detach --new-id " VF), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "vfio-pci");
    ck_assert_int_eq(eng_run(&e, "reattach " VF), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "detach --new-id --driver mlx5_vfio_pci --dry-run " VF), 2);
    ck_assert_int_eq(eng_run(&e, "detach --new-id --driver mlx5_vfio_pci " VF), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "binds only through driver_override, not new_id"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    /* <driver model='...'/> of a domain XML is honoured; a model that is not a vfio-pci
     * family driver is bad input. */
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "tmp/vm.xml"), "w"));
    fputs("<domain type='kvm'><name>vm1</name><devices>\n"
          "<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio' "
          "model='vfio-pci'/><source><address bus='1' slot='0' function='2'/></source>"
          "</hostdev>\n"
          "<hostdev mode='subsystem' type='pci' managed='yes'><source><address bus='1' "
          "slot='0' function='3'/></source></hostdev>\n</devices></domain>\n", f);
    fclose(f);
    ck_assert_int_eq(eng_run(&e, "acquire --owner 1000:1000 --domain-xml %s", fx_path(&e.fx, "tmp/vm.xml")),
                     0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, VF2), "mlx5_vfio_pci");
    ck_assert_int_eq(eng_run(&e, "release --vm vm1"), 0);
    ck_assert_ptr_nonnull(f = fopen(fx_path(&e.fx, "tmp/vm.xml"), "w"));
    fputs("<domain type='kvm'><name>vm1</name><devices>\n<hostdev mode='subsystem' type='pci' "
          "managed='yes'><driver model='e1000e'/><source><address bus='1' slot='0' "
          "function='2'/></source></hostdev>\n</devices></domain>\n", f);
    fclose(f);
    ck_assert_int_eq(eng_run(&e, "acquire --domain-xml %s", fx_path(&e.fx, "tmp/vm.xml")), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "model='e1000e'"));
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    eng_stop(&e);
}
END_TEST

static void write_file(struct eng *e, const char *rel, const char *text)
{
    FILE *f = fopen(fx_path(&e->fx, rel), "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A variant binds only what its aliases name: persisting one for another device is bad input,
 * and a line that names one is shown refused, as every boot refuses it. */
HD_TEST(a_variant_that_does_not_drive_the_device_is_refused)
{
    struct eng e;

    eng_start(&e, "variant");
    ck_assert_int_eq(eng_run(&e, "persist --no-apply --driver hisi_acc_vfio_pci " NIC), 2);
    ck_assert_ptr_nonnull(strstr(e.err, NIC ": hisi_acc_vfio_pci does not drive it"));
    ck_assert_ptr_nonnull(strstr(e.err, "vfio-pci does"));
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_int_eq(eng_run(&e, "persist --driver mlx5_vfio_pci " NIC), 2);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    /* By ids: each device there with them is judged. */
    ck_assert_int_eq(eng_run(&e, "persist --no-apply --driver hisi_acc_vfio_pci 8086:10d3"), 2);
    /* The variant that does drive it, and vfio-pci, are taken. */
    ck_assert_int_eq(eng_run(&e, "persist --no-apply --driver hisi_acc_vfio_pci " HISI), 0);
    ck_assert_int_eq(eng_run(&e, "persist --no-apply --driver vfio-pci " NIC), 0);
    ck_assert_int_eq(eng_run(&e, "unpersist --no-apply " NIC), 0);
    /* A line written by hand: persisted and doctor say the boot refuses it. */
    write_file(&e, "etc/hostdev.d/20-nic.conf", NIC " hisi_acc_vfio_pci\n");
    ck_assert_int_eq(eng_run(&e, "persisted"), 2);
    ck_assert_ptr_nonnull(strstr(e.out, "20-nic.conf:1  (refused at boot)"));
    ck_assert_int_eq(eng_run(&e, "persisted --json"), 2);
    ck_assert_ptr_nonnull(strstr(e.out, "\"refused\": \"" NIC ": hisi_acc_vfio_pci does not"));
    eng_run(&e, "doctor");
    ck_assert_ptr_nonnull(strstr(e.out, "the boot refuses the reservation of "
                                        "etc/hostdev.d/20-nic.conf:1"));
    eng_stop(&e);
}
END_TEST

/* Reservations name their driver; persist writes the one a detach would choose. */
HD_TEST(persisted_reservations_keep_the_variant)
{
    struct eng e;

    eng_start(&e, "variant");
    ck_assert_int_eq(eng_run(&e, "persist " VF), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_vfio_pci");
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, "etc/hostdev.d/persist-" VF ".conf"),
                                 VF " mlx5_vfio_pci"));
    ck_assert_int_eq(eng_run(&e, "unpersist " VF), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "mlx5_core");
    ck_assert_int_eq(eng_run(&e, "persist --driver vfio-pci " VF), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF), "vfio-pci");
    ck_assert_int_eq(eng_run(&e, "persist --driver e1000e " VF), 2);
    /* A configuration line may name a variant; a host driver is a line error. */
    write_file(&e, "etc/hostdev.d/20-vf.conf", VF2 " driver=mlx5_vfio_pci\n");
    ck_assert_int_eq(eng_run(&e, "reserve"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF2), "mlx5_vfio_pci");
    write_file(&e, "etc/hostdev.d/30-nic.conf", NIC " e1000e\n");
    ck_assert_int_eq(eng_run(&e, "reserve"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "30-nic.conf:1: 'e1000e' is neither a driver"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    eng_stop(&e);
}
END_TEST

/* Variants whose names follow no convention (a vendor's out-of-tree driver), on a 6.1 kernel:
 * vfio-dev/vfioN without a character device. Only the kernel says they are on VFIO. */
#define ODD_PF "0000:05:00.0"
#define ODD_VF "0000:05:00.1"
#define ODD_NIC "0000:06:00.0"
#define ODD_MLX "0000:07:00.0"
#define ODD_NOVF_PF "0000:08:00.0"
#define ODD_TREE                                                                                   \
    "kernel 6.1.0\niommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"                           \
    "driver e1000e ids=8086:10d3\ndriver nicpass stub vfio\ndriver acmevf ids=1d0f:ec21\n"       \
    "driver acmepass stub vfio sriov ops-name=acme-vfio\ndriver mlx5_vfio_pci stub vfio\n"       \
    "device " ODD_PF " 1d0f:ec20 class=020000 parent=root driver=acmepass reset=flr "             \
    "totalvfs=4 vf-device=ec21 vf-offset=1 vf-stride=1 numvfs=2\n"                              \
    "device " ODD_NIC " 8086:10d3 class=020000 parent=root driver=nicpass reset=flr\n"            \
    "device " ODD_MLX " 15b3:1017 class=020000 parent=root driver=mlx5_vfio_pci reset=flr "       \
    "totalvfs=8 vf-device=1018 vf-offset=2 vf-stride=1\n"                                       \
    "device " ODD_NOVF_PF " 8086:10fb class=020000 parent=root driver=nicpass reset=flr "         \
    "totalvfs=8 vf-device=10ed vf-offset=128 vf-stride=2\n"

/* doctor, show, export, list and detach take a device on such a variant for one on VFIO. */
HD_TEST(a_variant_named_otherwise_is_on_vfio_by_its_vfio_dev)
{
    struct eng e;

    eng_start(&e, ODD_TREE);
    ck_assert(fx_exists(&e.fx, "sys/bus/pci/devices/" ODD_NIC "/vfio-dev"));
    /* Its group is viable, not "on host drivers". */
    ck_assert_int_eq(eng_run(&e, "show " ODD_NIC), 0);
    ck_assert_msg(strstr(e.out, "IOMMU group:     1, viable\n") != NULL, "%s", e.out);
    /* Ready for a VM engine. */
    ck_assert_int_eq(eng_run(&e, "export --format prometheus"), 0);
    ck_assert_msg(strstr(e.out, "hostdev_pci_device_vfio_ready{address=\"" ODD_NIC "\"} 1") !=
                      NULL,
                  "%s", e.out);
    /* On a stub: a listing shows its override, as it does on vfio-pci. */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/" ODD_NIC "/driver_override",
                              "nicpass"), 0);
    ck_assert_int_eq(eng_run(&e, "list"), 0);
    ck_assert_msg(strstr(e.out, "driver=nicpass group=1 override=nicpass\n") != NULL, "%s",
                  e.out);
    /* Detached already: nothing to write. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "detach " ODD_NIC), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, ODD_NIC), "nicpass");
    /* A VF moved to a host driver while its PF is on the variant: the kernel warns, so does
     * doctor. */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/" ODD_VF "/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/acmevf/bind", ODD_VF), 0);
    ck_assert_int_eq(eng_run(&e, "doctor " ODD_VF), 1);
    ck_assert_msg(strstr(e.out, "warning " ODD_VF " is on acmevf, a host driver, while its PF "
                                ODD_PF " is on acmepass") != NULL,
                  "%s", e.out);
    eng_stop(&e);
}
END_TEST

/* The kernel's "no" (no vfio-dev) is kept for the device's driver then, and forgotten when the
 * driver changes: back on the oddly named variant, the device is on VFIO again. */
HD_TEST(a_device_s_no_is_kept_for_its_driver_only)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, ODD_TREE);
    dev = eng_dev(&e, ODD_NIC);
    ck_assert(hd_device_is_on_vfio(dev));
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/" ODD_NIC "/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/nicpass/unbind", ODD_NIC), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/e1000e/bind", ODD_NIC), 0);
    ck_assert_int_eq(hd_device_refresh(dev), 0);
    ck_assert_str_eq(hd_device_get_driver(dev), "e1000e");
    ck_assert(!hd_device_is_on_vfio(dev));
    ck_assert(!hd_device_is_on_vfio(dev)); /* asked again: the kept answer */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/" ODD_NIC "/driver_override",
                              "nicpass"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/e1000e/unbind", ODD_NIC), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/nicpass/bind", ODD_NIC), 0);
    ck_assert_int_eq(hd_device_refresh(dev), 0);
    ck_assert_str_eq(hd_device_get_driver(dev), "nicpass");
    ck_assert(hd_device_is_on_vfio(dev));
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* No in-tree variant has sriov_configure: a count's dry run warns of what its run then fails
 * with, whether the name or the kernel (vfio-dev) says the PF is on a variant; not for a PF
 * whose variant made the VFs it has. */
HD_TEST(a_count_on_a_variant_warns_in_its_dry_run_as_its_run_fails)
{
    static const char *const hint = "(its driver %s, a vfio-pci variant, cannot create VFs: "
                                    "only the PF's host driver, or vfio-pci loaded with "
                                    "enable_sriov=1, makes them)";
    const char *pfs[] = {ODD_MLX, ODD_NOVF_PF}, *drivers[] = {"mlx5_vfio_pci", "nicpass"};
    char said[256];
    struct eng e;

    eng_start(&e, ODD_TREE);
    for (size_t i = 0; i < 2; i++) {
        snprintf(said, sizeof(said), hint, drivers[i]);
        size_t writes = eng_writes(&e);
        ck_assert_int_eq(eng_run(&e, "sriov %s 2 --dry-run", pfs[i]), 0);
        ck_assert_msg(strstr(e.err, "the kernel is likely to refuse a count of 2 VFs") != NULL,
                      "%s", e.err);
        ck_assert_msg(strstr(e.err, said) != NULL, "%s", e.err);
        ck_assert_uint_eq(eng_writes(&e), writes);
        ck_assert_int_eq(eng_run(&e, "sriov %s 2", pfs[i]), 1);
        ck_assert_msg(strstr(e.err, said) != NULL, "%s", e.err);
        snprintf(said, sizeof(said), "sys/bus/pci/devices/%s/sriov_numvfs", pfs[i]);
        ck_assert_str_eq(fx_read(&e.fx, said), "0");
    }
    ck_assert_int_eq(eng_run(&e, "sriov " ODD_PF " 3 --dry-run"), 0);
    ck_assert_msg(strstr(e.err, "likely to refuse") == NULL, "%s", e.err);
    eng_stop(&e);
}
END_TEST
