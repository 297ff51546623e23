/* test-vf-capture.c - VFs a PF on vfio-pci makes: the kernel sets their driver_override to
 * vfio-pci as it makes them (vfio_pci_bus_notifier, "Captured SR-IOV VF ... driver_override"),
 * so they bind to vfio-pci, not to their host driver. The fake kernel models it; hostdev, which
 * set none of those overrides, leaves them where the kernel put them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hdtest.h"

#define DEV "sys/bus/pci/devices/"
#define PF  "0000:03:00.0"
#define VF0 "0000:03:10.0"
#define VF1 "0000:03:10.2"

/* An ixgbe-like PF on vfio-pci (loaded with enable_sriov=1), VFs with a host driver loaded. */
#define TREE                                                                                       \
    "kernel 6.1.0\niommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"                           \
    "driver ixgbe ids=8086:10fb sriov\ndriver ixgbevf ids=8086:10ed\n"                           \
    "driver vfio-pci module=vfio_pci stub vfio sriov\nparam vfio_pci enable_sriov Y\n"           \
    "device " PF " 8086:10fb class=020000 parent=root reset=flr totalvfs=8 vf-device=10ed "      \
    "vf-offset=128 vf-stride=2 driver=vfio-pci\n"
/* The same PF on its host driver. */
#define HOST_TREE                                                                                  \
    "kernel 6.1.0\niommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"                           \
    "driver ixgbe ids=8086:10fb sriov\ndriver ixgbevf ids=8086:10ed\n"                           \
    "driver vfio-pci module=vfio_pci stub vfio sriov\nparam vfio_pci enable_sriov Y\n"           \
    "device " PF " 8086:10fb class=020000 parent=root reset=flr totalvfs=8 vf-device=10ed "      \
    "vf-offset=128 vf-stride=2 driver=ixgbe\n"

static struct eng e;

static void teardown(void)
{
    eng_stop(&e);
}

HD_TEST_FILE(.teardown = teardown, .timeout = 60);

/* The fake kernel: a PF on vfio-pci captures the VFs it makes, whatever its autoprobe says; one
 * on a host driver does not; a VF keeps the override through its own unbind. */
HD_TEST(a_pf_on_vfio_pci_captures_its_vfs)
{
    eng_start(&e, TREE);
    ck_assert_int_eq(fx_write(&e.fx, DEV PF "/sriov_drivers_autoprobe", "0"), 0);
    ck_assert_int_eq(fx_write(&e.fx, DEV PF "/sriov_numvfs", "2"), 0);
    ck_assert_uint_eq(fx_log_count(&e.fx, "captured " VF0 " vfio-pci"), 1);
    ck_assert_uint_eq(fx_log_count(&e.fx, "captured " VF1 " vfio-pci"), 1);
    ck_assert_str_eq(fx_read(&e.fx, DEV VF0 "/driver_override"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, VF1), "vfio-pci");
    /* Unbound and probed again: back on vfio-pci, the override still there. */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/unbind", VF0), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers_probe", VF0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, DEV VF0 "/driver_override"), "vfio-pci");
    /* The PF leaving vfio-pci takes its VFs with it (vfio-pci turns SR-IOV off). */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/unbind", PF), 0);
    ck_assert(!fx_exists(&e.fx, DEV VF0));
    eng_stop(&e);

    eng_start(&e, HOST_TREE);
    ck_assert_int_eq(fx_write(&e.fx, DEV PF "/sriov_numvfs", "1"), 0);
    ck_assert_uint_eq(fx_log_count(&e.fx, "captured "), 0);
    ck_assert_str_eq(fx_read(&e.fx, DEV VF0 "/driver_override"), "(null)");
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "ixgbevf");
}
END_TEST

/* A spec's PF on vfio-pci with numvfs= comes up as the kernel leaves it: VFs on vfio-pci by the
 * override, even with autoprobe off; a vf line still says how one is. */
HD_TEST(a_spec_pf_on_vfio_pci_comes_up_with_captured_vfs)
{
    eng_start(&e, TREE "device 0000:04:00.0 8086:10fb class=020000 parent=root reset=flr "
                       "totalvfs=8 vf-device=10ed vf-offset=128 vf-stride=2 driver=vfio-pci "
                       "numvfs=2 autoprobe=no\n"
                       "vf 0000:04:10.2 override=ixgbevf\n");
    ck_assert_str_eq(fx_read(&e.fx, DEV "0000:04:10.0/driver_override"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:04:10.0"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, DEV "0000:04:10.2/driver_override"), "ixgbevf");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:04:10.2"), "");
}
END_TEST

/* `sriov` on such a PF says where the VFs are: not "unbound" as autoprobe 0 would leave them. */
HD_TEST(sriov_says_the_vfs_of_a_pf_on_vfio_pci_come_up_on_it)
{
    eng_start(&e, TREE);
    ck_assert_int_eq(eng_run(&e, "sriov %s 2 --dry-run", PF), 0);
    ck_assert_msg(strstr(e.out, "come up on vfio-pci") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "sriov %s 2", PF), 0);
    ck_assert_msg(strstr(e.out, "come up unbound") == NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "come up on vfio-pci") != NULL, "%s", e.out);
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "vfio-pci");
    /* Autoprobe already 0: said all the same; JSON names the driver, null for a host PF's. */
    ck_assert_int_eq(eng_run(&e, "sriov %s 1", PF), 0);
    ck_assert_msg(strstr(e.out, PF ": its VFs come up on vfio-pci: the kernel makes the VFs of a "
                                "PF on vfio-pci with that driver_override\n") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json sriov %s 2", PF), 0);
    ck_assert_msg(strstr(e.out, "\"vf_driver\": \"vfio-pci\"") != NULL, "%s", e.out);
    eng_stop(&e);
    eng_start(&e, HOST_TREE);
    ck_assert_int_eq(eng_run(&e, "--json sriov %s 2", PF), 0);
    ck_assert_msg(strstr(e.out, "\"vf_driver\": null") != NULL, "%s", e.out);
}
END_TEST

/* persist of the PF on vfio-pci with a count: the VFs it makes are told on vfio-pci, in the plan
 * as in the run, not "left unbound". */
HD_TEST(persist_says_the_vfs_come_up_on_the_pfs_vfio_pci)
{
    const char *made = "    " VF0 ": made, on vfio-pci: its PF is on vfio-pci, which the kernel "
                       "gives it as its driver_override\n";

    eng_start(&e, HOST_TREE);
    ck_assert_int_eq(eng_run(&e, "persist %s --driver vfio-pci --numvfs 2 --force --dry-run", PF),
                     0);
    ck_assert_msg(strstr(e.out, made) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "persist %s --driver vfio-pci --numvfs 2 --force", PF), 0);
    ck_assert_msg(strstr(e.out, made) != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "left unbound") == NULL, "%s", e.out);
    ck_assert_str_eq(fx_driver(&e.fx, VF1), "vfio-pci");
}
END_TEST

/* reattach of a captured VF: hostdev set no override and recorded no driver, and the VF never
 * had a host driver; clearing the kernel's override would hand a VF of a PF user space owns to
 * ixgbevf. It is left as it is, nothing written, exit 0, the plan saying the same. */
HD_TEST(reattach_leaves_a_captured_vf_where_the_kernel_put_it)
{
    eng_start(&e, TREE);
    ck_assert_int_eq(eng_run(&e, "sriov %s 2", PF), 0);
    ck_assert_int_eq(fx_write(&e.fx, DEV PF "/sriov_drivers_autoprobe", "1"), 0);
    size_t writes = eng_writes(&e);
    const char *said = VF0 ": left as it is, driver_override vfio-pci: its PF " PF " is on "
                       "vfio-pci, and the kernel set that override as the PF made it; it had no "
                       "host driver to go back to\n";
    ck_assert_int_eq(eng_run(&e, "reattach --dry-run %s", VF0), 0);
    ck_assert_msg(strstr(e.out, said) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "reattach %s", VF0), 0);
    ck_assert_str_eq(e.out, said);
    ck_assert_int_eq(eng_run(&e, "--json reattach %s", VF0), 0);
    ck_assert_msg(strstr(e.out, "\"action\": \"captured\",\n      \"device\": \"" VF0 "\",\n"
                                "      \"from\": \"" PF "\",\n      \"to\": \"vfio-pci\"") != NULL,
                  "%s", e.out);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, DEV VF0 "/driver_override"), "vfio-pci");
    /* Someone unbound it: still the kernel's override, still left so. */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/unbind", VF1), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "reattach %s", VF1), 0);
    ck_assert_msg(strstr(e.out, VF1 ": left as it is") != NULL, "%s", e.out);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_read(&e.fx, DEV VF1 "/driver_override"), "vfio-pci");
}
END_TEST

/* What hostdev recorded wins: a VF someone moved to ixgbevf (override cleared) that detach took
 * goes back to ixgbevf. */
HD_TEST(reattach_of_a_vf_hostdev_detached_follows_its_record)
{
    eng_start(&e, TREE);
    ck_assert_int_eq(eng_run(&e, "sriov %s 1", PF), 0);
    ck_assert_int_eq(fx_write(&e.fx, DEV PF "/sriov_drivers_autoprobe", "1"), 0);
    ck_assert_int_eq(fx_write(&e.fx, DEV VF0 "/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/unbind", VF0), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/ixgbevf/bind", VF0), 0);
    ck_assert_int_eq(eng_run(&e, "detach %s", VF0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "vfio-pci");
    ck_assert_int_eq(eng_run(&e, "reattach %s", VF0), 0);
    ck_assert_str_eq(e.out, VF0 ": vfio-pci -> ixgbevf\n");
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "ixgbevf");
}
END_TEST

/* acquire and release of a captured VF: on vfio-pci already, so nothing is detached and the
 * release gives nothing back; it stays on vfio-pci with the kernel's override, as
 * docs/design.md says. */
HD_TEST(acquire_and_release_leave_a_captured_vf_on_vfio_pci)
{
    eng_start(&e, TREE);
    ck_assert_int_eq(eng_run(&e, "sriov %s 1", PF), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --managed %s", VF0), 0);
    ck_assert_int_eq(eng_run(&e, "release --vm vm1 %s", VF0), 0);
    ck_assert_msg(strstr(e.out, VF0 ": vfio-pci ->") == NULL, "%s", e.out);
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, DEV VF0 "/driver_override"), "vfio-pci");
}
END_TEST

/* A VF someone moved to ixgbevf while its PF stays on vfio-pci (the kernel warns "VF ... bound
 * to driver ixgbevf while PF bound to driver vfio-pci"): doctor warns of it, asked about it or
 * scanning, exit 1, and offers to detach it; a captured VF on vfio-pci is no finding. */
HD_TEST(doctor_warns_of_a_vf_on_a_host_driver_beside_a_pf_on_vfio_pci)
{
    eng_start(&e, TREE);
    ck_assert_int_eq(eng_run(&e, "sriov %s 2", PF), 0);
    ck_assert_int_eq(eng_run(&e, "doctor %s", VF1), 0);
    ck_assert_msg(strstr(e.out, "vf-on-host-driver") == NULL, "%s", e.out);
    ck_assert_int_eq(fx_write(&e.fx, DEV PF "/sriov_drivers_autoprobe", "1"), 0);
    ck_assert_int_eq(fx_write(&e.fx, DEV VF0 "/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/unbind", VF0), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/ixgbevf/bind", VF0), 0);
    const char *said = VF0 " is on ixgbevf, a host driver, while its PF " PF " is on vfio-pci: "
                       "user space owns the PF, and with it what the VF does; the kernel warns "
                       "\\\"VF " VF0 " bound to driver ixgbevf while PF bound to driver "
                       "vfio-pci\\\""; /* as JSON writes it */
    ck_assert_int_eq(eng_run(&e, "doctor %s", VF0), 1);
    ck_assert_msg(strstr(e.out, "warning " VF0 " is on ixgbevf, a host driver, while its PF") !=
                      NULL,
                  "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json doctor"), 1);
    ck_assert_msg(strstr(e.out, said) != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "\"code\": \"vf-on-host-driver\",\n      \"device\": \"" VF0 "\"") !=
                      NULL,
                  "%s", e.out);
    ck_assert_msg(strstr(e.out, "\"hostdev detach " VF0 "\"") != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "\"device\": \"" VF1 "\"") == NULL, "%s", e.out);
}
END_TEST

/* show of a captured VF says where its override came from, in text and JSON; not for an
 * override that is no capture (one someone wrote), nor for the PF. */
HD_TEST(show_says_the_kernel_set_a_captured_vfs_override)
{
    eng_start(&e, TREE);
    ck_assert_int_eq(eng_run(&e, "sriov %s 2", PF), 0);
    ck_assert_int_eq(eng_run(&e, "show %s", VF0), 0);
    ck_assert_msg(strstr(e.out, "  driver_override: vfio-pci (set by the kernel: its PF " PF
                                " is on vfio-pci)\n") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json show %s", VF0), 0);
    ck_assert_msg(strstr(e.out, "\"driver_override_by_pf\": true") != NULL, "%s", e.out);
    ck_assert_int_eq(fx_write(&e.fx, DEV VF1 "/driver_override", "ixgbevf"), 0);
    ck_assert_int_eq(eng_run(&e, "show %s", VF1), 0);
    ck_assert_msg(strstr(e.out, "  driver_override: ixgbevf\n") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json show %s", VF1), 0);
    ck_assert_msg(strstr(e.out, "\"driver_override_by_pf\": false") != NULL, "%s", e.out);
    /* Moved to ixgbevf, then detached by hostdev: its override is hostdev's, by its record. */
    ck_assert_int_eq(fx_write(&e.fx, DEV PF "/sriov_drivers_autoprobe", "1"), 0);
    ck_assert_int_eq(fx_write(&e.fx, DEV VF1 "/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/unbind", VF1), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/ixgbevf/bind", VF1), 0);
    ck_assert_int_eq(eng_run(&e, "detach %s", VF1), 0);
    ck_assert_int_eq(eng_run(&e, "show %s", VF1), 0);
    ck_assert_msg(strstr(e.out, "  driver_override: vfio-pci\n") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "show %s", PF), 0);
    ck_assert_msg(strstr(e.out, "set by the kernel") == NULL, "%s", e.out);
}
END_TEST

/* ---- a PF on a vfio-pci variant (tests/trees/variant.spec) -------------------------------- */

/* vfio_pci_bus_notifier() writes the name of the PF driver's vfio_device_ops, not the driver's
 * name: for acme_vfio_pci "acme-vfio-pci", which no driver has, so the VFs stay unbound. */
#define VPF  "0000:05:00.0"
#define VVF0 "0000:05:00.1"
#define VVF1 "0000:05:00.2"

/* The fake kernel: the capture writes the variant's vfio device name; nothing binds the VFs,
 * autoprobe on and a VF driver loaded or not, and a probe leaves them so. */
HD_TEST(a_pf_on_a_variant_captures_its_vfs_under_its_vfio_device_name)
{
    eng_start(&e, "variant");
    ck_assert_int_eq(fx_write(&e.fx, DEV VPF "/sriov_numvfs", "2"), 0);
    ck_assert_uint_eq(fx_log_count(&e.fx, "captured " VVF0 " acme-vfio-pci"), 1);
    ck_assert_str_eq(fx_read(&e.fx, DEV VVF0 "/driver_override"), "acme-vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, VVF0), "");
    ck_assert_str_eq(fx_driver(&e.fx, VVF1), "");
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers_probe", VVF0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VVF0), "");
    ck_assert_int_ne(fx_write(&e.fx, "sys/bus/pci/drivers/acmevf/bind", VVF0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VVF0), "");
}
END_TEST

/* A variant whose vfio device name is its driver's (ops-name=, as xe-vfio-pci's is): its VFs
 * bind to it, as vfio-pci's do, and hostdev says so. */
HD_TEST(a_variant_named_as_its_vfio_device_binds_its_vfs)
{
    eng_start(&e, "kernel 6.1.0\niommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"
                  "driver xe-vfio-pci stub vfio sriov\ndriver xevf ids=8086:e211\n"
                  "device " PF " 8086:e211 class=030000 parent=root reset=flr totalvfs=8 "
                  "vf-offset=128 vf-stride=2 driver=xe-vfio-pci\n");
    ck_assert_int_eq(eng_run(&e, "sriov %s 1 --dry-run", PF), 0);
    ck_assert_msg(strstr(e.out, "come up on xe-vfio-pci") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "sriov %s 1", PF), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VF0), "xe-vfio-pci");
    ck_assert_int_eq(eng_run(&e, "reattach %s", VF0), 0);
    ck_assert_msg(strstr(e.out, VF0 ": left as it is, driver_override xe-vfio-pci: its PF " PF
                                    " is on xe-vfio-pci") != NULL,
                  "%s", e.out);
}
END_TEST

/* show says the kernel set the override and why the VF has no driver; one someone wrote is
 * theirs. A second set of ops with a suffix (hisi-acc-vfio-pci-migration) is the kernel's too. */
HD_TEST(show_says_a_variant_captured_vf_stays_without_a_driver)
{
    eng_start(&e, "variant");
    ck_assert_int_eq(fx_write(&e.fx, DEV VPF "/sriov_numvfs", "2"), 0);
    ck_assert_int_eq(eng_run(&e, "show %s", VVF0), 0);
    ck_assert_msg(strstr(e.out,
                         "  driver_override: acme-vfio-pci (set by the kernel: its PF " VPF
                         " is on acme_vfio_pci, which gives the VFs it makes its vfio "
                         "device name, which no driver has: the VF stays without one)\n") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json show %s", VVF0), 0);
    ck_assert_msg(strstr(e.out, "\"driver_override_by_pf\": true") != NULL, "%s", e.out);
    ck_assert_int_eq(fx_write(&e.fx, DEV VVF1 "/driver_override", "acmevf"), 0);
    ck_assert_int_eq(eng_run(&e, "show %s", VVF1), 0);
    ck_assert_msg(strstr(e.out, "  driver_override: acmevf\n") != NULL, "%s", e.out);
    eng_stop(&e);

    eng_start(&e, "kernel 6.1.0\niommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"
                  "driver hisi_acc_vfio_pci stub vfio sriov ops-name=hisi-acc-vfio-pci-migration\n"
                  "device " PF " 19e5:a250 class=120000 parent=root reset=flr totalvfs=8 "
                  "vf-device=a251 vf-offset=128 vf-stride=2 driver=hisi_acc_vfio_pci\n");
    ck_assert_int_eq(fx_write(&e.fx, DEV PF "/sriov_numvfs", "1"), 0);
    ck_assert_str_eq(fx_read(&e.fx, DEV VF0 "/driver_override"), "hisi-acc-vfio-pci-migration");
    ck_assert_int_eq(eng_run(&e, "show %s", VF0), 0);
    ck_assert_msg(strstr(e.out, "(set by the kernel: its PF " PF " is on hisi_acc_vfio_pci,") !=
                      NULL,
                  "%s", e.out);
}
END_TEST

/* reattach of such a VF: no record, no host driver it came from; clearing the override would
 * hand a VF of a user-owned PF to acmevf. Left as it is, nothing written, exit 0, the plan and
 * JSON saying so (step captured-unbound). */
HD_TEST(reattach_leaves_a_variant_captured_vf_unbound)
{
    eng_start(&e, "variant");
    ck_assert_int_eq(fx_write(&e.fx, DEV VPF "/sriov_numvfs", "2"), 0);
    size_t writes = eng_writes(&e);
    const char *said =
        VVF0 ": left as it is, without a driver, driver_override acme-vfio-pci: "
             "its PF " VPF " is on a vfio-pci variant, and the kernel set that override "
             "(the variant's vfio device name, which no driver has) as the PF made it; "
             "it had no host driver to go back to\n";
    ck_assert_int_eq(eng_run(&e, "reattach --dry-run %s", VVF0), 0);
    ck_assert_msg(strstr(e.out, said) != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "reattach %s", VVF0), 0);
    ck_assert_str_eq(e.out, said);
    ck_assert_int_eq(eng_run(&e, "--json reattach %s", VVF0), 0);
    ck_assert_msg(strstr(e.out, "\"action\": \"captured-unbound\",\n      \"device\": \"" VVF0
                                "\",\n      \"from\": \"" VPF "\",\n      \"to\": "
                                "\"acme-vfio-pci\"") != NULL,
                  "%s", e.out);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, VVF0), "");
    ck_assert_str_eq(fx_read(&e.fx, DEV VVF0 "/driver_override"), "acme-vfio-pci");
    /* Detached and given back by hostdev: its record puts the kernel's override back. */
    ck_assert_int_eq(eng_run(&e, "detach %s", VVF1), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VVF1), "vfio-pci");
    ck_assert_int_eq(eng_run(&e, "reattach %s", VVF1), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VVF1), "");
    ck_assert_str_eq(fx_read(&e.fx, DEV VVF1 "/driver_override"), "acme-vfio-pci");
}
END_TEST

/* doctor, asked about such a VF, says why it has no driver; sriov says its VFs come up
 * unbound, not on the variant. */
HD_TEST(doctor_and_sriov_say_a_variants_vfs_have_no_driver)
{
    eng_start(&e, "variant");
    ck_assert_int_eq(eng_run(&e, "sriov %s 2 --dry-run", VPF), 0);
    ck_assert_msg(strstr(e.out, "come up on acme_vfio_pci") == NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "come up unbound") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "sriov %s 2", VPF), 0);
    ck_assert_str_eq(fx_driver(&e.fx, VVF0), "");
    ck_assert_int_eq(eng_run(&e, "doctor %s", VVF0), 1);
    ck_assert_msg(strstr(e.out, "warning " VVF0 " is on no driver (its PF " VPF " is on "
                                "acme_vfio_pci, and the kernel gave\n") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json doctor %s", VVF0), 1);
    ck_assert_msg(strstr(e.out, "device name, acme-vfio-pci, as driver_override as the PF made "
                                "it: no driver has that name)") != NULL,
                  "%s", e.out);
}
END_TEST

/* An out-of-tree variant names its vfio device as it likes ("acmevfio" for acme_vfio_pci, no
 * '-' for '_'): its VFs are still the PF's, told by what sysfs shows (the PF on a vfio-pci
 * variant, an override no loaded driver has), not by the in-tree naming. An override naming a
 * loaded driver, or vfio-pci not loaded yet, is someone's, not the capture's. */
#define OOT_TREE                                                                                   \
    "kernel 6.1.0\niommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"                           \
    "driver vfio-pci module=vfio_pci stub vfio unloaded\n"                                        \
    "driver acme_vfio_pci stub vfio sriov ops-name=acmevfio\ndriver acmevf ids=1d0f:ec21\n"     \
    "device " VPF " 1d0f:ec20 class=020000 parent=root driver=acme_vfio_pci reset=flr "           \
    "totalvfs=4 vf-device=ec21 vf-offset=1 vf-stride=1 numvfs=2\n"

HD_TEST(a_variant_named_otherwise_still_captures_its_vfs)
{
    eng_start(&e, OOT_TREE);
    ck_assert_str_eq(fx_read(&e.fx, DEV VVF0 "/driver_override"), "acmevfio");
    ck_assert_str_eq(fx_driver(&e.fx, VVF0), "");
    ck_assert_int_eq(eng_run(&e, "show %s", VVF0), 0);
    ck_assert_msg(strstr(e.out, "  driver_override: acmevfio (set by the kernel: its PF " VPF
                                " is on acme_vfio_pci, ") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "--json show %s", VVF0), 0);
    ck_assert_msg(strstr(e.out, "\"driver_override_by_pf\": true") != NULL, "%s", e.out);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(eng_run(&e, "--json reattach %s", VVF0), 0);
    ck_assert_msg(strstr(e.out, "\"action\": \"captured-unbound\",\n      \"device\": \"" VVF0
                                "\",\n      \"from\": \"" VPF "\",\n      \"to\": "
                                "\"acmevfio\"") != NULL,
                  "%s", e.out);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_read(&e.fx, DEV VVF0 "/driver_override"), "acmevfio");
    ck_assert_int_eq(eng_run(&e, "doctor %s", VVF0), 1);
    ck_assert_msg(strstr(e.out, "warning " VVF0 " is on no driver (its PF " VPF " is on "
                                "acme_vfio_pci, and the kernel gave\n") != NULL,
                  "%s", e.out);

    ck_assert_int_eq(fx_write(&e.fx, DEV VVF1 "/driver_override", "acmevf"), 0);
    ck_assert_int_eq(eng_run(&e, "show %s", VVF1), 0);
    ck_assert_msg(strstr(e.out, "  driver_override: acmevf\n") != NULL, "%s", e.out);
    ck_assert_int_eq(fx_write(&e.fx, DEV VVF1 "/driver_override", "vfio-pci"), 0);
    ck_assert_int_eq(eng_run(&e, "--json show %s", VVF1), 0);
    ck_assert_msg(strstr(e.out, "\"driver_override_by_pf\": false") != NULL, "%s", e.out);
}
END_TEST

/* A variant whose driver name is not vfio-pci's either (acmevirt): the vfio-dev directory the
 * kernel gives its PF (6.1 on) says it is one; without it (an older kernel) nothing does. */
HD_TEST(a_variant_named_otherwise_is_told_by_its_pfs_vfio_dev)
{
    const char *tree = "iommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"
                       "driver acmevirt stub vfio sriov ops-name=acme-virt\n"
                       "device " VPF " 1d0f:ec20 class=020000 parent=root driver=acmevirt "
                       "reset=flr totalvfs=4 vf-device=ec21 vf-offset=1 vf-stride=1 numvfs=1\n";
    char spec[512];

    snprintf(spec, sizeof(spec), "kernel 6.1.0\n%s", tree);
    eng_start(&e, spec);
    ck_assert(fx_exists(&e.fx, DEV VPF "/vfio-dev"));
    ck_assert_int_eq(eng_run(&e, "--json show %s", VVF0), 0);
    ck_assert_msg(strstr(e.out, "\"driver_override_by_pf\": true") != NULL, "%s", e.out);
    eng_stop(&e);
    snprintf(spec, sizeof(spec), "kernel 5.15.0\n%s", tree);
    eng_start(&e, spec);
    ck_assert(!fx_exists(&e.fx, DEV VPF "/vfio-dev"));
    ck_assert_int_eq(eng_run(&e, "--json show %s", VVF0), 0);
    ck_assert_msg(strstr(e.out, "\"driver_override_by_pf\": false") != NULL, "%s", e.out);
}
END_TEST

/* A PF on an in-tree variant (mlx5_vfio_pci: no sriov_configure) gets no VFs: the kernel answers
 * ENOENT, hostdev puts autoprobe back, and the user is told which PF, which driver, and that it
 * cannot create VFs (not vfio-pci's enable_sriov, which a variant does not have). */
HD_TEST(a_count_on_a_pf_on_a_variant_without_sriov_says_it_cannot_make_vfs)
{
    const char *said = VPF ": writing 2 to sriov_numvfs: No such file or directory (its driver "
                       "mlx5_vfio_pci, a vfio-pci variant, cannot create VFs: only the PF's "
                       "host driver, or vfio-pci loaded with enable_sriov=1, makes them); no VFs "
                       "left, as before";

    eng_start(&e, "kernel 6.1.0\niommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"
                  "driver mlx5_core ids=15b3:1017 sriov\n"
                  "driver mlx5_vfio_pci stub vfio\n"
                  "device " VPF " 15b3:1017 class=020000 parent=root driver=mlx5_vfio_pci "
                  "reset=flr totalvfs=8 vf-device=1018 vf-offset=1 vf-stride=1\n");
    ck_assert_int_eq(eng_run(&e, "sriov %s 2", VPF), 1);
    ck_assert_msg(strstr(e.err, said) != NULL, "%s", e.err);
    ck_assert_str_eq(fx_read(&e.fx, DEV VPF "/sriov_numvfs"), "0");
    ck_assert_str_eq(fx_read(&e.fx, DEV VPF "/sriov_drivers_autoprobe"), "1");
    ck_assert_int_eq(eng_run(&e, "--json sriov %s 2", VPF), 1);
    ck_assert_msg(strstr(e.err, said) != NULL, "%s", e.err);
}
END_TEST
