/* test-txn.c - the one transaction engine, as a new user meets it on the fake kernel: each
 * problem the separate bookkeepers had is a regression test here (records that a second detach
 * overwrote, a VM's device taken by reattach, reset or sriov, a release that gave back less
 * than acquire took, a kill -9 during a plain detach, driverless devices given a driver, junk
 * journals and damaged maps, platform functions detached), plus --dry-run and --json. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "adapters-tree.h"
#include "engine.h"
#include "fixture.h"
#include "hoststate.h"
#include "internal.h"
#include "hdtest.h"

#define HOSTB "0000:00:00.0"
#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define NIC "0000:03:00.0"
#define XHCI "0000:04:00.0" /* no driver */
#define PF "0000:05:00.0"
#define VF0 "0000:05:10.0"
#define VF1 "0000:05:10.2"
#define LPC "0000:00:1f.0"
#define HDA "0000:00:1f.3"
#define SMBUS "0000:00:1f.4"

static const char spec[] =
    "kernel 6.1.0-13-amd64\n"
    "cmdline \"root=/dev/sda1 intel_iommu=on\"\n"
    "iommu intel\n"
    "module vfio\n"
    "module vfio_iommu_type1\n"
    "driver pcieport builtin class=060400\n"
    "driver nouveau ids=10de:1b81\n"
    "driver snd_hda_intel ids=10de:10f0,8086:a170\n"
    "driver e1000e ids=8086:10d3\n"
    "driver ixgbe ids=8086:10fb sriov\n"
    "driver lpc_ich ids=8086:a145\n"
    "driver i801_smbus ids=8086:a123\n"
    "driver vfio-pci module=vfio_pci stub vfio sriov\n"
    "driver pci-stub module=pci_stub stub\n"
    "device 0000:00:00.0 8086:591f class=060000 group=0\n"
    "device 0000:00:01.0 8086:1901 class=060400 driver=pcieport group=1 secondary=01\n"
    "device 0000:01:00.0 10de:1b81 class=030000 driver=nouveau group=1 reset=bus\n"
    "device 0000:01:00.1 10de:10f0 class=040300 driver=snd_hda_intel group=1 reset=bus\n"
    "device 0000:00:1c.0 8086:a110 class=060400 driver=pcieport secondary=03\n"
    "device 0000:03:00.0 8086:10d3 class=020000 driver=e1000e group=8 reset=flr,pm,bus\n"
    "device 0000:00:1c.4 8086:a114 class=060400 driver=pcieport secondary=04\n"
    "device 0000:04:00.0 1b21:1242 class=0c0330 group=10 reset=pm,bus\n"
    "device 0000:00:02.0 8086:2032 class=060400 driver=pcieport secondary=05\n"
    "device 0000:05:00.0 8086:10fb class=020000 driver=ixgbe group=11 reset=flr totalvfs=8 "
    "vf-device=10ed vf-offset=128 vf-stride=2\n"
    "device 0000:00:1f.0 8086:a145 class=060100 driver=lpc_ich group=9\n"
    "device 0000:00:1f.3 8086:a170 class=040300 driver=snd_hda_intel group=9 reset=pm\n"
    "device 0000:00:1f.4 8086:a123 class=0c0500 driver=i801_smbus group=9\n";

static const char *const all[] = {HOSTB, GPU, AUDIO, NIC, XHCI, PF, VF0, VF1, LPC, HDA, SMBUS,
                                  NULL};

static struct eng cli;

/* Also run again within a test, after teardown(), for a fresh kernel. */
static void setup(void)
{
    eng_start(&cli, spec);
}

static void teardown(void)
{
    eng_stop(&cli);
}

/* Run `hostdev --root ROOT ARGS` (a shell line); its exit status, output in out and err. */
static int hd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int hd(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = eng_vhostdev(&cli.fx, &cli.out, &cli.err, "--timeout 20000", fmt, ap);
    va_end(ap);
    return rc;
}

static char *snap(void)
{
    return hs_snapshot(&cli.fx, all);
}

/* The host (kernel and records) is exactly as @before says. */
static void host_is(const char *before)
{
    char *now = snap();

    ck_assert_str_eq(now, before);
    free(now);
}

static void says(const char *needle)
{
    ck_assert_msg(strstr(cli.err, needle) != NULL, "stderr '%s' lacks '%s'", cli.err, needle);
    ck_assert_msg(strchr(cli.err, '\n') == cli.err + strlen(cli.err) - 1, "not one line: '%s'",
                  cli.err);
}

/* Create or replace ROOT/@rel (fx_write only writes files that exist). */
static void put_file(const char *rel, const char *text)
{
    FILE *f = fopen(fx_path(&cli.fx, rel), "w");

    ck_assert_msg(f != NULL, "%s", rel);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static bool record_exists(const char *bdf)
{
    char rel[128];

    snprintf(rel, sizeof(rel), "run/hostdev/drivers/%s", bdf);
    return fx_exists(&cli.fx, rel);
}

/* 1. A second detach moves between stubs and keeps the first record: reattach works. */
HD_TEST_FILE(.setup = setup, .teardown = teardown, .timeout = 120);
HD_TEST_GROUP(faults, .setup = setup, .teardown = teardown, .timeout = 300);
HD_TEST_GROUP(kills, .setup = setup, .teardown = teardown, .timeout = 300);
HD_TEST_GROUP(model, .setup = setup, .teardown = teardown, .timeout = 300);

HD_TEST(stub_to_stub_keeps_the_record)
{
    char *before = snap();

    ck_assert_int_eq(hd("detach -d pci-stub " NIC), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "pci-stub");
    ck_assert_int_eq(hd("detach " NIC), 0);
    ck_assert_str_eq(cli.out, NIC ": pci-stub -> vfio-pci\n");
    ck_assert_str_eq(fx_read(&cli.fx, "run/hostdev/drivers/" NIC), "e1000e");
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_str_eq(cli.out, NIC ": vfio-pci -> e1000e\n");
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
    host_is(before);
    free(before);
}
END_TEST

/* 2 and 6. What a VM holds is refused by reattach, reset, detach (to another stub, or to the
 * one it is on: as libvirt refuses a domain's device) and persist to another stub, naming the
 * VM; its release still works. */
HD_TEST(held_devices_are_refused_by_name)
{
    static const char *const cmds[] = {"reattach " NIC, "reset " NIC, "reset --force " NIC,
                                       "detach -d pci-stub " NIC, "detach " NIC,
                                       "persist --driver pci-stub " NIC};
    char *held;

    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 " NIC), 0);
    held = snap();
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        ck_assert_msg(hd("%s", cmds[i]) == 1, "%s: exit status", cmds[i]);
        says("assigned to vm web1");
        char *now = snap();
        ck_assert_msg(strcmp(now, held) == 0, "%s changed the host", cmds[i]);
        free(now);
    }
    ck_assert_uint_eq(fx_log_count(&cli.fx, "write "), 0);
    ck_assert(!fx_exists(&cli.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_int_eq(hd("release --vm web1"), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
    free(held);
}
END_TEST

/* 3. VFs a VM holds keep their PF's count; a record whose device went away can be dropped. */
HD_TEST(sriov_refuses_while_a_vf_is_held)
{
    ck_assert_int_eq(hd("sriov " PF " --numvfs 2"), 0);
    ck_assert(fx_exists(&cli.fx, "sys/bus/pci/devices/" VF1));
    ck_assert_int_eq(hd("acquire --vm vm-a --owner 0:0 " VF0), 0);
    ck_assert_int_eq(hd("sriov " PF " --numvfs 0"), 1);
    says("VF " VF0 " is assigned to vm vm-a");
    ck_assert(fx_exists(&cli.fx, "sys/bus/pci/devices/" VF0));
    ck_assert_int_eq(hd("sriov " PF " --numvfs 4"), 1);
    ck_assert_int_eq(hd("release --vm vm-a"), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, VF0), ""); /* it had no driver: none again */
    ck_assert(!record_exists(VF0));
    ck_assert_int_eq(hd("sriov " PF " 0"), 0); /* the count alone, as sriov_numvfs takes it */
    ck_assert(!fx_exists(&cli.fx, "sys/bus/pci/devices/" VF0));
    /* A VF unplugged under its VM: release --force, and release --vm, can drop its record. */
    ck_assert_int_eq(hd("sriov " PF " --numvfs 2"), 0);
    ck_assert_int_eq(hd("acquire --vm vm-a --owner 0:0 " VF0 " " VF1), 0);
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/devices/" VF0 "/remove", "1"), 0);
    ck_assert(!fx_exists(&cli.fx, "sys/bus/pci/devices/" VF0));
    ck_assert_int_eq(hd("release --force " VF0), 0);
    ck_assert(!record_exists(VF0));
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/devices/" VF1 "/remove", "1"), 0);
    ck_assert_int_eq(hd("release --vm vm-a"), 0);
    ck_assert_int_eq(hd("assignments"), 0);
    ck_assert_ptr_null(strstr(cli.out, "vm-a"));
}
END_TEST

/* 3b. A VF count destroys the VFs hostdev detached: their records go with them (a record
 * left behind would claim a device that is gone, and hand a new VF at that address its
 * predecessor's driver); a count that cannot be set puts records and VFs back. */
HD_TEST(sriov_takes_the_records_of_the_vfs_it_destroys)
{
    char *before;

    ck_assert_int_eq(hd("sriov " PF " --numvfs 2"), 0);
    ck_assert_int_eq(hd("detach " VF0), 0);
    ck_assert(record_exists(VF0));
    ck_assert_int_eq(hd("--json sriov " PF " --numvfs 1 --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out,
                                 "\"action\": \"forget\",\n      \"device\": \"" VF0 "\",\n"
                                 "      \"from\": \"vfio-pci\",\n      \"to\": \"none\""));
    ck_assert(record_exists(VF0));
    /* The kernel refuses the new count: the VFs, VF0 on vfio-pci, and its record, as they were. */
    before = snap();
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" PF "/sriov_numvfs EIO nth=2 "
                                     "count=1"),
                     0);
    ck_assert_int_eq(hd("sriov " PF " --numvfs 1"), 1);
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    free(before);
    ck_assert_str_eq(fx_driver(&cli.fx, VF0), "vfio-pci");
    ck_assert(record_exists(VF0));
    ck_assert_int_eq(hd("sriov " PF " --numvfs 1"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, VF0 ": was on vfio-pci (before: none): its record went "
                                              "with the VF\n"));
    ck_assert(!record_exists(VF0));
    ck_assert_str_eq(fx_driver(&cli.fx, VF0), ""); /* a new VF at the old address, unbound */
    ck_assert_int_eq(hd("reattach " VF0), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, VF0 ": no driver, and no record of one")); /* as new */
}
END_TEST

/* 3c. A device whose VFIO device a process has open (a VM started by hand, a user-space
 * driver: the kernel counts it enabled) is not reattached, reset, moved, released or destroyed
 * under it. */
HD_TEST(what_a_process_has_open_through_vfio_stays)
{
    char *before;

    ck_assert_int_eq(hd("detach " NIC), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "open-group 8"), 0);
    ck_assert_int_eq(hd("acquire --vm vm-b --owner 0:0 " NIC), 1);
    says("giving it to a VM would take it from under that process");
    ck_assert_int_eq(fx_ctl(&cli.fx, "close-group 8"), 0);
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_int_eq(hd("acquire --vm vm-a --owner 0:0 " NIC), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "open-group 8"), 0);
    ck_assert_str_eq(fx_read(&cli.fx, "sys/bus/pci/devices/" NIC "/enable"), "1");
    before = snap();
    ck_assert_int_eq(hd("release --vm vm-a"), 1);
    says(NIC " is open through VFIO by a process (a VM or a user-space driver; vfio-pci counts "
         "it enabled): releasing it would take it from under that process; stop it first");
    /* The emergency release too, whatever the records say: no reset under a running VM. */
    ck_assert_int_eq(hd("release --force --dry-run " NIC), 1);
    says("releasing it would take it from under that process");
    ck_assert_int_eq(hd("release --force " NIC), 1);
    says("releasing it would take it from under that process");
    host_is(before);
    ck_assert_int_eq(fx_ctl(&cli.fx, "close-group 8"), 0);
    ck_assert_int_eq(hd("release --vm vm-a"), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");

    ck_assert_int_eq(hd("detach " NIC), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "open-group 8"), 0);
    free(before);
    before = snap();
    ck_assert_int_eq(hd("reattach " NIC), 1);
    says("giving it back to the host would take it from under that process");
    ck_assert_int_eq(hd("reset " NIC), 1);
    says("resetting it would take it from under that process");
    ck_assert_int_eq(hd("detach -d pci-stub " NIC), 1);
    says("moving it to another driver would take it from under that process");
    ck_assert_int_eq(mkdir(fx_path(&cli.fx, "etc/hostdev.d"), 0755), 0);
    put_file("etc/hostdev.d/10-stub.conf", NIC " pci-stub\n");
    ck_assert_int_eq(hd("reserve"), 1);
    ck_assert_ptr_nonnull(strstr(cli.err,
                                 "reserving it for another driver would take it from under "
                                 "that process"));
    ck_assert_int_eq(unlink(fx_path(&cli.fx, "etc/hostdev.d/10-stub.conf")), 0);
    ck_assert_int_eq(hd("--json reattach " NIC), 1);
    ck_assert_ptr_nonnull(strstr(cli.err, "\"exit\":1"));
    host_is(before);
    ck_assert_int_eq(fx_ctl(&cli.fx, "close-group 8"), 0);
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");

    /* A VF open through VFIO keeps its PF's count. */
    ck_assert_int_eq(hd("sriov " PF " --numvfs 2"), 0);
    ck_assert_int_eq(hd("detach " VF1), 0);
    int g = fx_group(&cli.fx, VF1);
    ck_assert_int_ge(g, 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "open-group %d", g), 0);
    ck_assert_int_eq(hd("sriov " PF " --numvfs 0"), 1);
    says(VF1 " is open through VFIO");
    ck_assert(fx_exists(&cli.fx, "sys/bus/pci/devices/" VF1));
    ck_assert(record_exists(VF1));
    ck_assert_int_eq(fx_ctl(&cli.fx, "close-group %d", g), 0);
    ck_assert_int_eq(hd("sriov " PF " --numvfs 0"), 0);
    ck_assert(!record_exists(VF1));
    free(before);
}
END_TEST

/* 3d. An IOMMU group is one VM's: a member the VM does not hold is not given back to the host,
 * moved to pci-stub or reset while the VM holds another (its group would not be viable; a bus
 * reset would hit the VM's device). */
HD_TEST(a_vms_group_stays_whole)
{
    char *before;

    ck_assert_int_eq(hd("detach " AUDIO), 0);
    ck_assert_int_eq(hd("acquire --vm g --owner 0:0 " GPU), 0);
    before = snap();
    ck_assert_int_eq(hd("reattach " AUDIO), 1);
    says(AUDIO " shares IOMMU group 1 with " GPU ", which vm g holds: giving it back to the host "
         "would leave the VM a group that is not viable; release that first");
    ck_assert_int_eq(hd("reset " AUDIO), 1);
    says("resetting it would reset the VM's device too");
    ck_assert_int_eq(hd("detach -d pci-stub " AUDIO), 1);
    says("moving it to a stub VFIO cannot use would leave the VM a group that is not viable");
    ck_assert_int_eq(hd("persist --driver pci-stub " AUDIO), 1);
    says("reserving it to a stub VFIO cannot use would leave the VM a group that is not viable");
    ck_assert(!fx_exists(&cli.fx, "etc/hostdev.d/persist-" AUDIO ".conf"));
    ck_assert_int_eq(hd("detach " AUDIO), 0); /* on vfio-pci already: nothing to do */
    host_is(before);
    free(before);
    ck_assert_int_eq(hd("release --vm g"), 0);
    ck_assert_int_eq(hd("reattach " AUDIO), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, AUDIO), "snd_hda_intel");
}
END_TEST

/* 3e. What the kernel would refuse or destroy is said before anything is planned: a reset
 * whose only method is a bus shared with another function (the kernel answers ENOTTY), a PF
 * whose driver would take its VFs with it (unless forced); a refusal reads as one sentence. */
HD_TEST(said_before_planned)
{
    char *before;

    ck_assert_int_eq(hd("detach --group " GPU), 0);
    before = snap();
    ck_assert_int_eq(hd("reset " GPU " --dry-run"), 1);
    says(GPU " cannot be reset on its own: the kernel's only method for it is a bus reset, and "
         AUDIO " is on its bus too");
    ck_assert_int_eq(hd("reset " GPU " " AUDIO), 1);
    host_is(before);
    free(before);
    ck_assert_int_eq(hd("sriov " PF " --numvfs 2"), 0);
    before = snap();
    ck_assert_int_eq(hd("detach " PF), 1);
    says(PF " is an SR-IOV PF with 2 VFs: moving it to another driver would destroy them");
    ck_assert_int_eq(hd("acquire --vm p --owner 0:0 " PF), 1);
    says("detaching it would destroy them");
    host_is(before);
    free(before);
    /* --force takes the PF's VFs on host drivers, not one hostdev detached (its record would
     * outlive it) nor one open through VFIO: the VF count operation handles those. */
    ck_assert_int_eq(hd("detach " VF0), 0);
    before = snap();
    ck_assert_int_eq(hd("detach --force " PF), 1);
    says(PF ": its VF " VF0 " was detached from its host driver (a driver record says so): "
         "moving it to another driver would destroy it and leave the record; set the VF count "
         "to 0 first");
    ck_assert_ptr_null(strstr(cli.err, "takes it anyway")); /* it was given */
    ck_assert_int_eq(hd("acquire --force --vm p --owner 0:0 " PF), 1);
    says("its VF " VF0 " was detached");
    ck_assert_ptr_null(strstr(cli.err, "takes it anyway"));
    host_is(before);
    free(before);
    ck_assert_int_eq(hd("reattach " VF0), 0);
    /* A VF on vfio-pci that hostdev did not put there (no record), open through VFIO. */
    ck_assert_int_eq(hd("detach " VF1), 0);
    ck_assert_int_eq(unlink(fx_path(&cli.fx, "run/hostdev/drivers/" VF1)), 0);
    int g = fx_group(&cli.fx, VF1);
    ck_assert_int_eq(fx_ctl(&cli.fx, "open-group %d", g), 0);
    ck_assert_int_eq(hd("detach --force " PF), 1);
    says(VF1 " is open through VFIO by a process");
    ck_assert(fx_exists(&cli.fx, "sys/bus/pci/devices/" VF1));
    ck_assert_int_eq(fx_ctl(&cli.fx, "close-group %d", g), 0);
    ck_assert_int_eq(hd("detach --force " PF), 0);
    ck_assert(!fx_exists(&cli.fx, "sys/bus/pci/devices/" VF0));
    ck_assert(!record_exists(VF0));
    /* A VF count its driver would refuse (the kernel's ENOENT): the dry run says so too, and
     * nothing is written. */
    ck_assert_int_eq(fx_ctl(&cli.fx, "param vfio_pci enable_sriov N"), 0);
    before = snap();
    ck_assert_int_eq(hd("sriov --dry-run " PF " 2"), 1);
    says(PF " is on vfio-pci, which changes a VF count only with its enable_sriov parameter "
            "set to Y");
    ck_assert_int_eq(hd("sriov " PF " 2"), 1);
    says(PF " is on vfio-pci, which changes a VF count only with its enable_sriov parameter "
            "set to Y");
    host_is(before);
    free(before);
    ck_assert_int_eq(fx_ctl(&cli.fx, "param vfio_pci enable_sriov Y"), 0);
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/drivers/vfio-pci/unbind", PF), 0);
    before = snap();
    ck_assert_int_eq(hd("sriov --dry-run " PF " 2"), 1);
    says(PF " has no driver, and only a PF's driver changes its VF count");
    ck_assert_int_eq(hd("sriov " PF " 2"), 1);
    host_is(before);
    free(before);
    ck_assert_int_eq(hd("sriov " PF " 0"), 0); /* no change: nothing to refuse */
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 " NIC), 0);
    ck_assert_int_eq(hd("reset " NIC), 1);
    says(NIC " is assigned to vm a: resetting it would take it from under the VM; release it "
         "first");
}
END_TEST

/* A reservation (persist, reserve) takes a device from its driver now, so it is checked as a
 * detach is: a PF whose VF a VM holds, a PF with VFs, a platform function are refused (the dry
 * run too), with --force only for what a detach forces; nothing is written. */
HD_TEST(reserve_is_checked_as_a_detach)
{
    char *before;

    ck_assert_int_eq(hd("sriov " PF " 2"), 0);
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 " VF0), 0);
    before = snap();
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
    ck_assert_int_eq(hd("persist --dry-run " PF), 1);
    says(PF ": its VF " VF0 " is assigned to vm v: reserving it for another driver would destroy "
         "it under the VM; release it first");
    ck_assert_str_eq(cli.out, ""); /* no plan heading before a refusal */
    ck_assert_int_eq(hd("persist --force " PF), 1);
    says("its VF " VF0 " is assigned to vm v");
    ck_assert_int_eq(mkdir(fx_path(&cli.fx, "etc/hostdev.d"), 0755), 0);
    put_file("etc/hostdev.d/10-pf.conf", PF "\n");
    ck_assert_int_eq(hd("reserve --force"), 1);
    says("its VF " VF0 " is assigned to vm v");
    ck_assert_int_eq(unlink(fx_path(&cli.fx, "etc/hostdev.d/10-pf.conf")), 0);
    /* A PF's reset resets its VFs: refused as well, --force or not. */
    ck_assert_int_eq(hd("reset --force " PF), 1);
    says(PF ": its VF " VF0 " is assigned to vm v: resetting it would destroy it under the VM");
    /* The count it has destroys nothing (the kernel does nothing): not refused. Another is. */
    ck_assert_int_eq(hd("sriov " PF " 2"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, PF ": already has 2 virtual functions"));
    ck_assert_int_eq(hd("sriov --dry-run " PF " 2"), 0);
    /* Nor is it a step, run or planned: nothing to report, journal or undo. */
    ck_assert_int_eq(hd("--json sriov " PF " 2"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"changed\": false"));
    ck_assert_ptr_nonnull(strstr(cli.out, "\"steps\": []"));
    ck_assert_int_eq(hd("--json sriov --dry-run " PF " 2"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"steps\": []"));
    ck_assert_int_eq(hd("sriov " PF " 1"), 1);
    says(PF ": its VF " VF0 " is assigned to vm v: changing the VF count would destroy it");
    ck_assert_uint_eq(fx_log_count(&cli.fx, "write "), 0);
    host_is(before);
    free(before);
    ck_assert_int_eq(hd("release --vm v"), 0);
    before = snap();
    ck_assert_int_eq(hd("persist " PF), 1);
    says(PF " is an SR-IOV PF with 2 VFs: reserving it for another driver would destroy them");
    ck_assert_ptr_nonnull(strstr(cli.err, "(--force takes it anyway)"));
    /* A platform function: the boot never forces, so it is never persisted (bad input). */
    ck_assert_int_eq(hd("persist " LPC), 2);
    says(LPC " is ");
    ck_assert_ptr_nonnull(strstr(cli.err, "leaves it with the host at every boot"));
    ck_assert_int_eq(hd("--json persist --force " LPC), 2);
    ck_assert_ptr_nonnull(strstr(cli.err, "\"exit\":2"));
    ck_assert_int_eq(hd("persist 0000:00:1c.0"), 2); /* a bridge: bad input, as for detach */
    says("is a bridge");
    host_is(before);
    free(before);
    ck_assert(!fx_exists(&cli.fx, "etc/hostdev.d/persist-" PF ".conf"));
    ck_assert(!fx_exists(&cli.fx, "etc/hostdev.d/persist-" LPC ".conf"));
    /* Forced: the PF's VFs were on their host driver, and go with SR-IOV. */
    ck_assert_int_eq(hd("persist --force " PF), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, PF), "vfio-pci");
    ck_assert(!fx_exists(&cli.fx, "sys/bus/pci/devices/" VF0));
    ck_assert(fx_exists(&cli.fx, "etc/hostdev.d/persist-" PF ".conf"));
}
END_TEST

/* A VF count change that fails puts the previous VFs back as they were: probed by their host
 * driver (autoprobe back on before they are made again), a detached one back on vfio-pci. */
HD_TEST(a_failed_sriov_change_gives_the_vfs_back_to_their_driver)
{
    struct eng e;

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(eng_run(&e, "detach 03:10.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/sriov_numvfs EIO "
                                   "nth=2"), 0);
    ck_assert_int_eq(eng_run(&e, "sriov 03:00.0 4"), 1);
    ck_assert_ptr_nonnull(strstr(e.err, "the previous 8 VFs were put back"));
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "vfio-pci");
    static const char *const host[] = {"0000:03:10.2", "0000:03:10.4", "0000:03:11.6"};
    for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
        ck_assert_msg(strcmp(fx_driver(&e.fx, host[i]), "ixgbevf") == 0, "%s is on '%s'", host[i],
                      fx_driver(&e.fx, host[i]));
    eng_stop(&e);
}
END_TEST

/* A forced move of a PF destroys its VFs (its driver turns SR-IOV off when it lets go): when
 * the move fails, its undo makes them again, as they were, on their host driver; the plan says
 * the count goes to 0. So for detach, persist and acquire, and for a kill in the unbind. */
HD_TEST(a_failed_forced_pf_move_gives_its_vfs_back)
{
    static const char *const cmds[] = {"detach --force 03:00.0", "persist --force 03:00.0",
                                       "acquire --force --vm p --owner 0:0 03:00.0"};
    struct eng e;

    eng_start(&e, "server-sriov");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        ck_assert_int_eq(eng_run(&e, "--dry-run %s", cmds[i]), 0);
        ck_assert_msg(strstr(e.out, "0000:03:00.0: 8 -> 0 virtual functions") != NULL, "%s: %s",
                      cmds[i], e.out);
        ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/drivers_probe EIO"), 0);
        ck_assert_msg(eng_run(&e, "%s", cmds[i]) == 1, "%s: %s", cmds[i], e.err);
        ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
        ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "ixgbe");
        ck_assert_msg(strcmp(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs"),
                             "8") == 0, "%s left %s VFs", cmds[i],
                      fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs"));
        ck_assert_str_eq(fx_driver(&e.fx, "0000:03:11.6"), "ixgbevf");
    }
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.0.conf"));
    /* Killed while the PF's unbind hangs: its writer puts the VFs back once it returns. */
    ck_assert_int_eq(fx_ctl(&e.fx, "hang ixgbe forever"), 0);
    pid_t pid = eng_hostdev_start(&e.fx, "detach --force 03:00.0");
    ck_assert(fx_wait_log(&e.fx, "unbind-hang 0000:03:00.0", 1, 20000));
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang ixgbe 0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    eng_recover(e.ctx, "a killed forced detach of a PF");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "ixgbe");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs"), "8");
    eng_stop(&e);
}
END_TEST

/* A PF acquire --force took had VFs its driver destroyed as it let go: release gives the PF
 * back as it was, with its VFs made again (autoprobe as it was: 0 after a count hostdev set, so
 * they come up unbound), release --force too. A release that cannot make them undoes itself:
 * the VM keeps the PF. */
HD_TEST(release_gives_a_forced_pf_its_vfs_back)
{
    static const char numvfs[] = "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs";
    static const char autoprobe[] = "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe";
    struct eng e;

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(eng_run(&e, "sriov 03:00.0 4"), 0);
    ck_assert_str_eq(fx_read(&e.fx, autoprobe), "0");
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm p --owner 0:0 03:00.0"), 0);
    ck_assert_str_eq(fx_read(&e.fx, numvfs), "0");
    ck_assert_int_eq(eng_run(&e, "--dry-run release --vm p"), 0);
    ck_assert_msg(strstr(e.out, "0000:03:00.0: 0 -> 4 virtual functions") != NULL, "%s", e.out);
    ck_assert_int_eq(eng_run(&e, "release --vm p"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "ixgbe");
    ck_assert_str_eq(fx_read(&e.fx, numvfs), "4");
    ck_assert_str_eq(fx_read(&e.fx, autoprobe), "0");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.6"), "");

    /* The kernel refuses the count: the PF stays the VM's, on vfio-pci, and a release later
     * gives all of it back. */
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm p --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/sriov_numvfs EIO"), 0);
    ck_assert_int_eq(eng_run(&e, "release --vm p"), 1);
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, numvfs), "0");
    ck_assert_int_eq(eng_run(&e, "release --vm p"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "ixgbe");
    ck_assert_str_eq(fx_read(&e.fx, numvfs), "4");
    /* The emergency release gives them back too. */
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm p --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(eng_run(&e, "release --force 03:00.0"), 0);
    ck_assert_str_eq(fx_read(&e.fx, numvfs), "4");
    eng_stop(&e);
}
END_TEST

/* The count and autoprobe a forced PF's map entry keeps survive every rewrite of the map: an
 * acquire and a release of another device, and recover's rebuild of a damaged map; the release
 * after them still makes the VFs again. */
HD_TEST(a_forced_pfs_count_survives_map_rewrites)
{
    static const char map[] = "run/hostdev/map/assignments";
    char *text, *p;
    struct eng e;

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(eng_run(&e, "acquire --force --vm p --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(eng_run(&e, "acquire --vm q --owner 0:0 04:00.0"), 0);
    ck_assert_int_eq(eng_run(&e, "release --vm q"), 0);
    ck_assert_msg(strstr(fx_read(&e.fx, map), " numvfs=8 autoprobe=1 ") != NULL, "%s",
                  e.fx.scratch);
    /* Edited (the end line's checksum no longer matches): recover rebuilds it. */
    text = strdup(fx_read(&e.fx, map));
    ck_assert_ptr_nonnull(p = strstr(text, "# end 1 "));
    p[8] = p[8] == '0' ? '1' : '0';
    FILE *f = fopen(fx_path(&e.fx, map), "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%s\n", text);
    ck_assert_int_eq(fclose(f), 0);
    free(text);
    ck_assert_int_eq(eng_run(&e, "release --vm p"), 2);
    ck_assert_int_eq(eng_run(&e, "recover"), 0);
    ck_assert_msg(strstr(fx_read(&e.fx, map), " numvfs=8 autoprobe=1 ") != NULL, "%s",
                  e.fx.scratch);
    ck_assert_int_eq(eng_run(&e, "release --vm p"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "ixgbe");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs"), "8");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe"),
                     "1");
    eng_stop(&e);
}
END_TEST

/* A PF whose driver lets go destroys its VFs: a PF and its own VF in one command would fail
 * half-way with the VF gone, so it is bad input, --force or not, and nothing changes. A PF
 * that made VFs on vfio-pci destroys them when given back: refused while a VM holds one,
 * and without --force. */
HD_TEST(a_pf_and_its_own_vf_are_one_or_the_other)
{
    char *before;

    ck_assert_int_eq(hd("sriov " PF " 2"), 0);
    before = snap();
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
    /* Refused as what they are, before any lock file (the VF's group has none yet). */
    char locks[256], *locks_before = NULL, *locks_after = NULL;
    snprintf(locks, sizeof(locks), "ls -A %s", fx_path(&cli.fx, "run/hostdev/locks"));
    ck_assert_int_eq(at_run(locks, &locks_before, NULL), 0);
    static const char *const both[] = {
        "detach --force " PF " " VF0, "detach --dry-run --force " VF0 " " PF,
        "acquire --force --vm v --owner 0:0 " VF0 " " PF,
        "acquire --dry-run --force --vm v --owner 0:0 " PF " " VF0,
        "acquire --vm v --owner 0:0 " PF " " VF0}; /* bad input before the PF's refusal */
    for (size_t i = 0; i < sizeof(both) / sizeof(both[0]); i++) {
        ck_assert_msg(hd("%s", both[i]) == 2, "%s", both[i]);
        says(VF0 " is a VF of " PF ", and ");
        ck_assert_ptr_nonnull(strstr(cli.err, "destroys its VFs"));
    }
    ck_assert_uint_eq(fx_log_count(&cli.fx, "write "), 0);
    host_is(before);
    free(before);
    ck_assert_int_eq(at_run(locks, &locks_after, NULL), 0);
    ck_assert_str_eq(locks_after, locks_before);
    free(locks_before);
    free(locks_after);

    ck_assert_int_eq(hd("sriov " PF " 0"), 0);
    ck_assert_int_eq(hd("detach " PF), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "param vfio_pci enable_sriov Y"), 0);
    ck_assert_int_eq(hd("sriov " PF " 2"), 0);
    /* Given back with its own VF: bad input too, before a lock file for the VF's group (the
     * counts set before made them all: gone, as nothing runs now). */
    snprintf(locks, sizeof(locks), "rm %s/*", fx_path(&cli.fx, "run/hostdev/locks"));
    ck_assert_int_eq(at_run(locks, NULL, NULL), 0);
    snprintf(locks, sizeof(locks), "ls -A %s", fx_path(&cli.fx, "run/hostdev/locks"));
    ck_assert_int_eq(at_run(locks, &locks_before, NULL), 0);
    ck_assert_int_eq(hd("reattach --force " VF0 " " PF), 2);
    says(VF0 " is a VF of " PF ", and giving it back to the host destroys its VFs");
    ck_assert_int_eq(at_run(locks, &locks_after, NULL), 0);
    ck_assert_str_eq(locks_after, locks_before);
    free(locks_before);
    free(locks_after);
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 " VF0), 0);
    ck_assert_int_eq(hd("reattach --dry-run --force " PF), 1);
    says(PF ": its VF " VF0 " is assigned to vm v: giving it back to the host would destroy it");
    ck_assert_int_eq(hd("reattach --force " PF), 1);
    ck_assert(fx_exists(&cli.fx, "sys/bus/pci/devices/" VF0));
    ck_assert_int_eq(hd("release --vm v"), 0);
    ck_assert_int_eq(hd("reattach " PF), 1);
    says(PF " is an SR-IOV PF with 2 VFs: giving it back to the host would destroy them");
    ck_assert_str_eq(fx_driver(&cli.fx, PF), "vfio-pci");
    ck_assert_int_eq(hd("reattach --force " PF), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, PF), "ixgbe");
    ck_assert(!fx_exists(&cli.fx, "sys/bus/pci/devices/" VF0));
}
END_TEST

/* A bus reset the kernel refuses (ENOTTY: the GPU shares its bus with its audio function) is
 * left to vfio-pci, which resets the device when the VM opens it: the step says "deferred",
 * never "done", in the text and in JSON, for acquire and for release. */
HD_TEST(a_reset_left_to_vfio_says_so)
{
    ck_assert_int_eq(hd("--json acquire --vm g --owner 0:0 " GPU " " AUDIO), 0);
    ck_assert_msg(strstr(cli.out,
                         "\"action\": \"reset\",\n      \"device\": \"" GPU "\",\n      "
                         "\"from\": \"\",\n      \"to\": \"bus\",\n      \"methods\": [\n"
                         "        \"bus\"\n      ],\n      \"state\": \"deferred\"") != NULL,
                  "%s", cli.out);
    ck_assert_ptr_null(strstr(cli.out,
                              "\"reset\",\n      \"device\": \"" AUDIO "\",\n      "
                              "\"from\": \"\",\n      \"to\": \"bus\",\n      \"methods\": "
                              "[\n        \"bus\"\n      ],\n      \"state\": \"done\""));
    /* A managed release gives it back to its host driver: no later open by vfio-pci resets
     * it, so the step says where it goes and how, not "when it is opened". */
    ck_assert_int_eq(hd("release --vm g"), 0);
    ck_assert_msg(strstr(cli.out,
                         GPU ": not reset now: no method works from here (tried: bus); "
                             "it goes to nouveau as the VM left it (vfio-pci tries a bus reset "
                             "when the VM closes every function on the bus)\n") != NULL,
                  "%s", cli.out);
    ck_assert_ptr_null(strstr(cli.out, "when it is opened"));
    ck_assert_ptr_null(strstr(cli.out, "reset (the kernel tries"));
    /* An unmanaged one stays on vfio-pci: the next VM's open resets it. */
    ck_assert_int_eq(hd("detach --group " GPU), 0);
    ck_assert_int_eq(hd("acquire --vm g --owner 0:0 --unmanaged " GPU " " AUDIO), 0);
    ck_assert_int_eq(hd("release --vm g"), 0);
    ck_assert_msg(strstr(cli.out, GPU ": not reset now: no method works from here (tried: bus); "
                                      "vfio-pci resets it when it is opened\n") != NULL,
                  "%s", cli.out);
    /* Nor when it goes back to the pci-stub it came from (a "detach" off vfio-pci). */
    ck_assert_int_eq(hd("detach --driver pci-stub " GPU " " AUDIO), 0);
    ck_assert_int_eq(hd("acquire --vm g --owner 0:0 " GPU), 0);
    ck_assert_int_eq(hd("release --vm g"), 0);
    ck_assert_msg(strstr(cli.out,
                         GPU ": not reset now: no method works from here (tried: bus); "
                             "it goes to pci-stub as the VM left it (vfio-pci tries a bus reset "
                             "when the VM closes every function on the bus)\n") != NULL,
                  "%s", cli.out);
    ck_assert_ptr_null(strstr(cli.out, "when it is opened"));
    ck_assert_str_eq(fx_driver(&cli.fx, GPU), "pci-stub");
    ck_assert_int_eq(hd("reattach --group " GPU), 0);
    /* One the kernel does reset says so. */
    ck_assert_int_eq(hd("acquire --vm n --owner 0:0 " NIC), 0);
    ck_assert_msg(strstr(cli.out, NIC ": reset (the kernel tries, in order: flr pm bus)\n") != NULL,
                  "%s", cli.out);
}
END_TEST

/* An emergency release goes on when the reset fails (the kernel refuses a bus reset with
 * another function on the bus): its step says it failed, in JSON too, never "done". */
HD_TEST(an_emergency_release_says_its_reset_failed)
{
    ck_assert_int_eq(hd("acquire --vm g --owner 0:0 --group " GPU), 0);
    ck_assert_int_eq(hd("--json release --force " AUDIO), 0);
    ck_assert_msg(strstr(cli.out,
                         "\"action\": \"reset\",\n      \"device\": \"" AUDIO "\",\n"
                         "      \"from\": \"\",\n      \"to\": \"bus\",\n      \"methods\": [\n"
                         "        \"bus\"\n      ],\n      \"state\": \"failed\"") != NULL,
                  "%s", cli.out);
    ck_assert_str_eq(fx_driver(&cli.fx, AUDIO), "snd_hda_intel");
    ck_assert_int_eq(hd("detach " AUDIO), 0);
    ck_assert_int_eq(hd("acquire --vm g --owner 0:0 " AUDIO), 0);
    ck_assert_int_eq(hd("release --force " AUDIO), 0);
    ck_assert_msg(strstr(cli.out, AUDIO ": not reset: no method works (tried: bus); given back all "
                                        "the same\n") != NULL,
                  "%s", cli.out);
    ck_assert_ptr_null(strstr(cli.out, "reset (the kernel tries"));
}
END_TEST

/* Its dry run foresees the kernel's refusal (a bus reset with another function on the bus,
 * here the one the VM keeps): the reset is not planned as one the kernel does, but as the
 * run will say it, no method working, the device given back all the same; and nothing
 * changes. */
HD_TEST(an_emergency_release_plans_the_reset_the_kernel_refuses)
{
    ck_assert_int_eq(hd("acquire --vm g --owner 0:0 --group " GPU), 0);
    char *before = snap();
    ck_assert_int_eq(hd("release --force --dry-run " GPU), 0);
    ck_assert_str_eq(cli.out, "dry run: nothing changed; release would do:\n"
                              "  " GPU ": not reset: no method works (tried: bus); given back all "
                              "the same\n"
                              "  " GPU ": vfio-pci -> nouveau\n"
                              "  " GPU ": released from vm g\n");
    ck_assert_int_eq(hd("--json release --force --dry-run " GPU), 0);
    ck_assert_msg(strstr(cli.out,
                         "\"to\": \"bus\",\n      \"methods\": [\n        \"bus\"\n      ],\n"
                         "      \"state\": \"failed\"") != NULL,
                  "%s", cli.out);
    host_is(before);
    free(before);
    /* The run does what its plan said. */
    ck_assert_int_eq(hd("release --force " GPU), 0);
    ck_assert_str_eq(cli.out,
                     GPU ": not reset: no method works (tried: bus); given back all the "
                         "same\n" GPU ": vfio-pci -> nouveau\n" GPU ": released from vm g\n");
    /* Alone on its bus (the NIC): the reset is planned as one the kernel does. */
    ck_assert_int_eq(hd("acquire --vm n --owner 0:0 " NIC), 0);
    ck_assert_int_eq(hd("release --force --dry-run " NIC), 0);
    ck_assert_ptr_nonnull(
        strstr(cli.out, "  " NIC ": reset (the kernel tries, in order: flr pm bus)\n"));
}
END_TEST

/* An emergency release says the node it gives back as a release does, owner and mode now ->
 * as recorded (it said "owner ? -> as recorded", and JSON "from": ""), in its plan, its run and
 * JSON alike; a node that is as recorded already is not said at all. */
HD_TEST(an_emergency_release_says_the_node_owner_it_restores)
{
    uid_t u;
    gid_t g;

    ck_assert_int_eq(hd("acquire --vm n --owner 107:108 " NIC), 0);
    ck_assert_uint_eq(eng_node_mode(&cli, "dev/vfio/8", &u, &g), 0660);
    ck_assert_int_eq(hd("release --force --dry-run " NIC), 0);
    ck_assert_msg(strstr(cli.out, "\n  dev/vfio/8: owner 107:108 0660 -> 0:0 0600\n") != NULL, "%s",
                  cli.out);
    ck_assert_int_eq(hd("--json release --force --dry-run " NIC), 0);
    static const char *const own = "\"action\": \"own\",\n      \"device\": \"dev/vfio/8\",\n"
                                   "      \"from\": \"107:108 0660\",\n"
                                   "      \"to\": \"0:0 0600\"";
    ck_assert_msg(strstr(cli.out, own) != NULL, "%s", cli.out);
    ck_assert_int_eq(hd("release --force " NIC), 0);
    ck_assert_msg(strstr(cli.out, "dev/vfio/8: owner 107:108 0660 -> 0:0 0600\n") == cli.out, "%s",
                  cli.out);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e"); /* and its group's node went with it */
    /* The node as recorded already (given back by hand): nothing to say of it. */
    ck_assert_int_eq(hd("acquire --vm n --owner 107:108 " NIC), 0);
    ck_assert_int_eq(chmod(fx_path(&cli.fx, "dev/vfio/8"), 0600), 0);
    ck_assert_int_eq(chown(fx_path(&cli.fx, "dev/vfio/8"), 0, 0), 0);
    ck_assert_int_eq(hd("release --force " NIC), 0);
    ck_assert_ptr_null(strstr(cli.out, "owner"));
    ck_assert_ptr_nonnull(strstr(cli.out, NIC ": released from vm n\n"));
}
END_TEST

/* A function whose IOMMU group holds one the host keeps (the chipset's audio beside the LPC
 * bridge and the SMBus) is refused saying that no VM can have that group here, managed or
 * not: "ask for it too, or take the whole group" sent the user to acquires refused in turn.
 * --force, which takes platform functions, still gets the way to the whole group. */
HD_TEST(acquire_beside_a_platform_function_says_no_vm_can_have_the_group)
{
    static const char *const why = "IOMMU group 9 would not be viable: " LPC " stays on lpc_ich, "
                                    "an ISA/LPC bridge the host keeps: no VM can have this group "
                                    "on this host as it is\n";
    char *before = snap();

    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 " HDA), 1);
    ck_assert_msg(strstr(cli.err, why) != NULL, "%s", cli.err);
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 --dry-run " HDA), 1);
    ck_assert_msg(strstr(cli.err, why) != NULL, "%s", cli.err);
    host_is(before);
    free(before);
    ck_assert_int_eq(hd("detach " HDA), 0);
    before = snap();
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 --unmanaged " HDA), 1);
    ck_assert_msg(strstr(cli.err, why) != NULL, "%s", cli.err);
    host_is(before);
    free(before);
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 --force --dry-run " HDA), 1);
    ck_assert_msg(strstr(cli.err, "stays on lpc_ich on the host; ask for it too, or take the "
                                  "whole group") != NULL,
                  "%s", cli.err);
}
END_TEST

/* 4. What acquire --group took with a device goes back with it. */
HD_TEST(release_gives_back_the_group)
{
    char xml[512], *before = snap();
    FILE *f;

    snprintf(xml, sizeof(xml), "%s/dom.xml", cli.fx.root);
    f = fopen(fx_path(&cli.fx, "tmp/dom.xml"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("<domain type='kvm'><name>gpuvm</name><devices>"
          "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
          "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
          "</devices></domain>\n",
          f);
    fclose(f);
    ck_assert_int_eq(hd("acquire --group --owner 0:0 --domain-xml %s/tmp/dom.xml", cli.fx.root), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, AUDIO), "vfio-pci");
    ck_assert_int_eq(hd("release --domain-xml %s/tmp/dom.xml", cli.fx.root), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, GPU), "nouveau");
    ck_assert_str_eq(fx_driver(&cli.fx, AUDIO), "snd_hda_intel");
    host_is(before);
    free(before);
    (void)xml;
}
END_TEST

/* 5 and 8. kill -9 during `detach A B` while B's unbind hangs: recover puts both back, the
 * driverless one to no driver. */
HD_TEST(kill_during_plain_detach)
{
    char *before = snap(), *cmd;
    int status;
    struct hd_ctx *ctx;
    pid_t pid;

    ck_assert_int_eq(fx_ctl(&cli.fx, "hang e1000e forever"), 0);
    ck_assert(asprintf(&cmd, "%s/hostdev", at_build_dir()) > 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl(cmd, cmd, "--root", cli.fx.root, "--timeout", "60000", "detach", XHCI, NIC,
              (char *)NULL);
        _exit(127);
    }
    ck_assert(fx_wait_log(&cli.fx, "unbind-hang ", 1, 20000));
    /* The driverless one is another group's: its steps run beside the hanging unbind, and
     * may finish a moment after the hang began. */
    for (int i = 0; i < 2000 && strcmp(fx_driver(&cli.fx, XHCI), "vfio-pci") != 0; i++)
        usleep(10000);
    ck_assert_str_eq(fx_driver(&cli.fx, XHCI), "vfio-pci");
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
    ck_assert_int_eq(hd_assign_recover(ctx, NULL), -EBUSY); /* its unbind still runs */
    ck_assert_int_eq(fx_ctl(&cli.fx, "hang e1000e 0"), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "release"), 0);
    eng_recover(ctx, "kill during a plain detach");
    host_is(before);
    free(before);
    free(cmd);
    hd_ctx_unref(ctx);
}
END_TEST

/* An operation killed when the NIC was in IOMMU group 7, before a hot-replug put it in group
 * 8: its intent log names group 7, gone. A detach of the NIC locks group 8, and a recover of
 * that log locks group 7 and the NIC's address: they took different locks, so the detach left
 * the log alone and a recover run while its unbind hung put the old override back under it.
 * An operation takes every log naming one of its devices as its own, whatever group the log
 * says: it recovers it before its first write, and a recover beside it finds it gone. */
HD_TEST(recover_beside_an_operation_whose_device_changed_group)
{
    char paths[64][HS_PATH], *cmd;
    size_t n, nic_writes = 0, journals;
    int status, rc;
    pid_t pid;

    eng_dead_journal(&cli, "detach", "hostdev-journal 2 detach\ndev " NIC " 7\n"
                                     "override " NIC " e1000e\n");
    ck_assert_int_eq(fx_ctl(&cli.fx, "hang e1000e forever"), 0);
    pid = eng_hostdev_start(&cli.fx, "detach " NIC);
    ck_assert(fx_wait_log(&cli.fx, "unbind-hang ", 1, 20000));
    ck_assert_int_eq(fx_ctl(&cli.fx, "mark recover-beside"), 0);
    journals = eng_journals(&cli);
    /* The recover beside it (one that writes to the NIC waits for the hanging unbind). */
    ck_assert(asprintf(&cmd, "HOSTDEV_NAMES=none %s/hostdev --root %s recover", at_build_dir(),
                       cli.fx.root) > 0);
    free(cli.out);
    free(cli.err);
    rc = at_run(cmd, &cli.out, &cli.err);
    n = hs_writes_since(&cli.fx, "recover-beside", paths, 64);
    for (size_t i = 0; i < n; i++)
        nic_writes += strstr(paths[i], NIC) != NULL;
    ck_assert_int_eq(fx_ctl(&cli.fx, "hang e1000e 0"), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "release"), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    /* Only the detach's own log was left, busy while its unbind hung: nothing to do. */
    ck_assert_uint_eq(journals, 1);
    ck_assert_msg(rc == 1 && strstr(cli.err, "still running") != NULL, "recover: %d %s", rc,
                  cli.err);
    ck_assert_uint_eq(nic_writes, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "detach: %d", status);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "vfio-pci");
    ck_assert_uint_eq(eng_journals(&cli), 0);
    free(cmd);
}
END_TEST

/* Run @kind on @addrs (NULL-ended) through the library, for VM @vm (NULL: none) with the nodes
 * given to 1000:1000, no file growing past @fsize bytes meanwhile (0: no limit); its steps
 * "ACTION DEVICE STATE;..." in @steps, whatever the result, and its message in @error (NULL:
 * not wanted). */
static int op_steps_vm(enum hd_op_kind kind, const char *vm, const char *const *addrs,
                       rlim_t fsize, char *steps, size_t size, char *error, size_t error_size)
{
    static const char *const states[] = {"planned", "done",    "undone",    "deferred",
                                         "failed",  "not-run", "not-undone"};
    struct hd_ctx *ctx;
    struct hd_op *op;
    struct rlimit was, limit;
    size_t len = 0;
    int r, limited = 0, restored = 0;

    ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
    ck_assert_int_eq(hd_op_new(ctx, kind, &op), 0);
    if (vm != NULL) {
        ck_assert_int_eq(hd_op_set_vm(op, vm), 0);
        hd_op_set_owner(op, 1000, 1000);
    }
    for (; *addrs != NULL; addrs++) {
        struct hd_pci_addr a;
        ck_assert_int_eq(hd_pci_addr_parse(*addrs, &a), 0);
        ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    }
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &was), 0);
    limit = (struct rlimit){fsize, was.rlim_max};
    if (fsize > 0) /* a write past the limit fails, EFBIG */
        ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
    /* No assertion while the limit holds: Check writes a file of its own for each. */
    if (fsize > 0)
        limited = setrlimit(RLIMIT_FSIZE, &limit);
    r = hd_op_run(op);
    if (fsize > 0)
        restored = setrlimit(RLIMIT_FSIZE, &was);
    ck_assert_int_eq(limited, 0);
    ck_assert_int_eq(restored, 0);
    steps[0] = '\0';
    for (size_t i = 0; i < hd_op_get_step_count(op); i++)
        len += (size_t)snprintf(steps + len, size - len, "%s %s %s;",
                                hd_op_step_get_action(op, i), hd_op_step_get_device(op, i),
                                states[hd_op_step_get_state(op, i)]);
    if (error != NULL)
        snprintf(error, error_size, "%s", hd_ctx_last_error(ctx));
    hd_op_unref(op);
    hd_ctx_unref(ctx);
    return r;
}

static int op_steps(enum hd_op_kind kind, const char *const *addrs, char *steps, size_t size)
{
    return op_steps_vm(kind, NULL, addrs, 0, steps, size, NULL, 0);
}

/* A failure in the middle: each step says what happened to it. One group's members go one
 * after another: the first done then put back (undone), the one whose write failed (failed),
 * the one after it never started (not-run); a step whose undo failed too says so (not-undone)
 * and the intent log stays for recover. */
HD_TEST(a_failed_operation_says_what_each_step_did)
{
    static const char *const group[] = {GPU, AUDIO, NULL};
    char steps[512], *before = snap();

    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" GPU "/driver_override EBUSY "
                                     "nth=1"),
                     0);
    ck_assert_int_lt(op_steps(HD_OP_DETACH, group, steps, sizeof(steps)), 0);
    ck_assert_str_eq(steps, "detach " GPU " failed;detach " AUDIO " not-run;");
    host_is(before);

    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" AUDIO "/driver_override EBUSY "
                                     "nth=1"),
                     0);
    ck_assert_int_lt(op_steps(HD_OP_DETACH, group, steps, sizeof(steps)), 0);
    ck_assert_str_eq(steps, "detach " GPU " undone;detach " AUDIO " failed;");
    host_is(before);

    /* A reservation journals each device's override with its bind: the override of the one
     * never started did not run either. */
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" GPU "/driver_override EBUSY "
                                     "nth=1"),
                     0);
    ck_assert_int_lt(op_steps(HD_OP_RESERVE, group, steps, sizeof(steps)), 0);
    ck_assert_str_eq(steps, "override " GPU " undone;detach " GPU " failed;override " AUDIO
                            " not-run;detach " AUDIO " not-run;");
    host_is(before);

    /* The GPU's undo clears its override: that write fails too. */
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" AUDIO "/driver_override EBUSY "
                                     "nth=1"),
                     0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" GPU "/driver_override EIO "
                                     "nth=2"),
                     0);
    ck_assert_int_lt(op_steps(HD_OP_DETACH, group, steps, sizeof(steps)), 0);
    ck_assert_str_eq(steps, "detach " GPU " not-undone;detach " AUDIO " failed;");
    ck_assert_str_eq(fx_driver(&cli.fx, GPU), "vfio-pci");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd("recover"), 0);
    host_is(before);
    free(before);
}
END_TEST

/* The intent log cannot grow past the reset's line (a full state directory, here the process's
 * file size limit): the node's step, whose line it could not write, was never started and
 * says so (not-run), where it read "undone" though nothing was written for it; the detach
 * before it was put back, the reset stays done, and the error names the intent log. */
HD_TEST(a_step_the_intent_log_could_not_take_never_ran)
{
    static const char *const nic[] = {NIC, NULL};
    /* The intent log as far as the reset: the own line is the write that fails. */
    static const char written[] = "hostdev-journal 2 acquire web\n"
                                  "dev " NIC " 8\n"
                                  "detach " NIC " e1000e vfio-pci norec\n"
                                  "reset " NIC "\n";
    char steps[512], error[512], *before = snap();

    ck_assert_int_eq(op_steps_vm(HD_OP_ACQUIRE, "web", nic, sizeof(written) - 1, steps,
                                 sizeof(steps), error, sizeof(error)),
                     -EFBIG);
    ck_assert_str_eq(steps, "detach " NIC " undone;reset " NIC " done;own dev/vfio/8 not-run;");
    ck_assert_msg(strstr(error, "writing the intent log ") != NULL &&
                      strstr(error, "/run/hostdev/journal/acquire-") != NULL,
                  "%s", error);
    host_is(before);
    ck_assert_uint_eq(eng_journals(&cli), 0);
    free(before);
}
END_TEST

/* The intent log cannot even be made (its first write fails: a full state directory, here the
 * process's file size limit below its header): nothing was written to the host, so each step
 * says how it ended, the detach not-run (it read "planned", as if nothing had failed), the
 * device found as asked done; the error names the intent log, no intent log or record is left
 * and the groups' locks are free again. An acquire makes its intent log before its first
 * step: it fails the same way with no step to show. */
HD_TEST(an_intent_log_that_cannot_be_made_runs_nothing)
{
    static const char *const xhci[] = {XHCI, NULL}, *const both[] = {XHCI, NIC, NULL};
    static const char *const nic[] = {NIC, NULL};
    char steps[512], error[512], *before;

    ck_assert_int_eq(op_steps(HD_OP_DETACH, xhci, steps, sizeof(steps)), 0);
    before = snap();
    ck_assert_int_eq(op_steps_vm(HD_OP_DETACH, NULL, both, 8, steps, sizeof(steps), error,
                                 sizeof(error)),
                     -EFBIG);
    ck_assert_str_eq(steps, "keep " XHCI " done;detach " NIC " not-run;");
    ck_assert_msg(strstr(error, "writing the intent log ") != NULL &&
                      strstr(error, "/run/hostdev/journal/detach-") != NULL,
                  "%s", error);
    host_is(before);
    ck_assert_uint_eq(eng_journals(&cli), 0);
    ck_assert_int_eq(op_steps_vm(HD_OP_ACQUIRE, "web", nic, 8, steps, sizeof(steps), error,
                                 sizeof(error)),
                     -EFBIG);
    ck_assert_str_eq(steps, "");
    ck_assert_msg(strstr(error, "/run/hostdev/journal/acquire-") != NULL, "%s", error);
    host_is(before);
    ck_assert_uint_eq(eng_journals(&cli), 0);
    ck_assert_int_eq(op_steps(HD_OP_DETACH, nic, steps, sizeof(steps)), 0);
    ck_assert_str_eq(steps, "detach " NIC " done;");
    free(before);
}
END_TEST

/* The same through the tool: exit 1, the steps not-run under --json, the error naming the
 * intent log; nothing changed. */
HD_TEST(detach_without_room_for_its_intent_log_fails_cleanly)
{
    char *cmd, *before = snap();

    ck_assert(asprintf(&cmd, "(trap '' XFSZ; ulimit -f 0; exec env HOSTDEV_NAMES=none "
                             "%s/hostdev --root %s --json detach %s 2>&1)",
                       at_build_dir(), cli.fx.root, NIC) > 0);
    free(cli.out);
    free(cli.err);
    ck_assert_int_eq(at_run(cmd, &cli.out, &cli.err), 1);
    ck_assert_msg(strstr(cli.out, "\"state\": \"not-run\"") != NULL &&
                      strstr(cli.out, "\"state\": \"planned\"") == NULL,
                  "%s", cli.out);
    ck_assert_msg(strstr(cli.out, "/run/hostdev/journal/detach-") != NULL, "%s", cli.out);
    host_is(before);
    ck_assert_uint_eq(eng_journals(&cli), 0);
    free(before);
    free(cmd);
}
END_TEST

/* An operation left unfinished on a device whose config space then fails to read: recover
 * refused it (exit 1, the device left on vfio-pci, its intent log kept), though putting it
 * back reads nothing there. Now the plan and the run finish it. */
HD_TEST(recover_needs_no_config_space)
{
    static const char *const group[] = {GPU, AUDIO, NULL};
    char steps[512], *before = snap();

    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" AUDIO "/driver_override EBUSY "
                                     "nth=1"),
                     0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" GPU "/driver_override EIO "
                                     "nth=2"),
                     0);
    ck_assert_int_lt(op_steps(HD_OP_DETACH, group, steps, sizeof(steps)), 0);
    ck_assert_str_eq(steps, "detach " GPU " not-undone;detach " AUDIO " failed;");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" GPU "/config EIO count=0 "
                                     "on=read"),
                     0);
    ck_assert_msg(hd("recover --dry-run") == 0, "%s", cli.err);
    ck_assert_str_eq(fx_driver(&cli.fx, GPU), "vfio-pci");
    ck_assert_msg(hd("recover") == 0, "%s", cli.err);
    ck_assert_str_eq(fx_driver(&cli.fx, GPU), "nouveau");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    free(before);
}
END_TEST

/* A VM's device whose config space then fails to read: release, and the emergency one, refused
 * it (exit 1, left on vfio-pci, still the VM's), though a reset from reset_method and the way
 * back to its host driver read nothing there. */
HD_TEST(release_needs_no_config_space)
{
    static const char *const cmds[] = {"release --vm web1", "release --force " NIC};

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
        ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 " NIC), 0);
        ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
        ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" NIC "/config EIO "
                                         "count=0 on=read"),
                         0);
        ck_assert_msg(hd("%s", cmds[i]) == 0, "%s: %s", cmds[i], cli.err);
        ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
        ck_assert_uint_eq(fx_log_count(&cli.fx, "reset " NIC), 1);
        ck_assert(!record_exists(NIC));
    }
}
END_TEST

/* A failure puts back what was done, and only that: a step that found its device as asked
 * (keep, already) did nothing and reads done, as in a run that worked. */
HD_TEST(a_failure_reads_no_note_undone)
{
    static const char *const group[] = {GPU, AUDIO, NULL};
    char steps[512], *before;

    ck_assert_int_eq(hd("detach " GPU), 0);
    before = snap();
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" AUDIO "/driver_override EBUSY "
                                 "nth=1"), 0);
    ck_assert_int_lt(op_steps(HD_OP_DETACH, group, steps, sizeof(steps)), 0);
    ck_assert_str_eq(steps, "keep " GPU " done;detach " AUDIO " failed;");
    host_is(before);
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);

    /* The NIC held already, as asked; the xHCI's reset fails after its detach. */
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 " NIC), 0);
    free(before);
    before = snap();
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" XHCI "/reset EIO"), 0);
    ck_assert_int_eq(hd("--json acquire --vm v --owner 0:0 " NIC " " XHCI), 1);
    ck_assert_msg(strstr(cli.out, "\"action\": \"already\",\n      \"device\": \"" NIC "\",\n      "
                              "\"from\": \"\",\n      \"to\": \"v\",\n      \"state\": \"done\"")
                  != NULL, "%s", cli.out);
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    free(before);
}
END_TEST

/* The state of @action's step for @device in --json steps @json ("" if none). */
static const char *json_step_state(const char *json, const char *action, const char *device)
{
    static char state[16];
    char head[128];
    const char *p, *q;

    snprintf(head, sizeof(head), "\"action\": \"%s\",\n      \"device\": \"%s\"", action,
             device);
    state[0] = '\0';
    if ((p = strstr(json, head)) != NULL && (p = strstr(p, "\"state\": \"")) != NULL &&
        (q = strchr(p += strlen("\"state\": \""), '"')) != NULL && (size_t)(q - p) < sizeof(state))
        snprintf(state, sizeof(state), "%.*s", (int)(q - p), p);
    return state;
}

/* A reset done stays done when a later write fails: it happened, and no undo puts a device's
 * state back, so "undone" would be a lie. Here the NIC's reset works and the xHCI's fails. */
HD_TEST(a_reset_done_reads_done_after_a_failure)
{
    char *before = snap();

    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" XHCI "/reset EIO"), 0);
    ck_assert_int_eq(hd("--json acquire --vm v --owner 0:0 " NIC " " XHCI), 1);
    ck_assert_uint_eq(fx_log_count(&cli.fx, "reset " NIC), 1); /* the kernel did reset it */
    ck_assert_str_eq(json_step_state(cli.out, "reset", NIC), "done");
    ck_assert_str_eq(json_step_state(cli.out, "reset", XHCI), "failed");
    ck_assert_str_eq(json_step_state(cli.out, "detach", NIC), "undone");
    ck_assert_str_eq(json_step_state(cli.out, "detach", XHCI), "undone");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    free(before);

    /* A release's reset alike, when the reattach after it fails: the NIC stays held. */
    ck_assert_int_eq(hd("acquire --vm w --owner 0:0 " NIC), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/drivers_probe EIO"), 0);
    ck_assert_int_eq(hd("--json release --vm w"), 1);
    ck_assert_str_eq(json_step_state(cli.out, "reset", NIC), "done");
    ck_assert_str_eq(json_step_state(cli.out, "reattach", NIC), "failed");
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "vfio-pci");
    /* And the emergency release's, which resets just before it gives the device back. */
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/drivers_probe EIO"), 0);
    ck_assert_int_eq(hd("--json release --force " NIC), 1);
    ck_assert_msg(strcmp(json_step_state(cli.out, "reset", NIC), "done") == 0, "%s", cli.out);
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
}
END_TEST

/* A reset never done when the operation fails is not-run, never "undone": nothing undoes a
 * reset, and none happened. Here the GPU's is deferred (the kernel refuses a bus reset with
 * its audio function on the bus) in the batch the xHCI's reset fails: nothing was written,
 * and the GPU goes back to its host driver, not to the open that would have reset it. */
HD_TEST(a_reset_not_done_reads_not_run_after_a_failure)
{
    char *before = snap();

    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" XHCI "/reset EIO"), 0);
    ck_assert_int_eq(hd("--json acquire --vm v --owner 0:0 " GPU " " AUDIO " " XHCI), 1);
    ck_assert_str_eq(json_step_state(cli.out, "reset", GPU), "not-run");
    ck_assert_str_eq(json_step_state(cli.out, "reset", AUDIO), "not-run");
    ck_assert_str_eq(json_step_state(cli.out, "reset", XHCI), "failed");
    ck_assert_str_eq(json_step_state(cli.out, "detach", GPU), "undone");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);

    /* One journaled whose batch never ran: the xHCI's driver_override cannot be read when its
     * own reset is planned (its fifth read), after the NIC's reset was journaled. */
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" XHCI "/driver_override EIO "
                                     "on=read nth=5"), 0);
    ck_assert_int_eq(hd("--json acquire --vm v --owner 0:0 " NIC " " XHCI), 1);
    ck_assert_uint_eq(fx_log_count(&cli.fx, "reset " NIC), 0);
    ck_assert_msg(strcmp(json_step_state(cli.out, "reset", NIC), "not-run") == 0, "%s",
                  cli.out);
    ck_assert_str_eq(json_step_state(cli.out, "reset", XHCI), "");
    ck_assert_str_eq(json_step_state(cli.out, "detach", NIC), "undone");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    free(before);
}
END_TEST

/* A step journaled whose batch never ran reads not-run, not undone: nothing was written for it.
 * A release reattaches newest first: the xHCI's reattach is journaled, then the NIC's
 * driver_override cannot be read as its own reattach is planned (its fifth read), so the
 * reattach batch never runs. */
HD_TEST(a_step_whose_batch_never_ran_reads_not_run)
{
    ck_assert_int_eq(hd("acquire --vm w --owner 0:0 " NIC " " XHCI), 0);
    char *before = snap();
    size_t unbinds = fx_log_count(&cli.fx, "unbind " XHCI);

    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" NIC "/driver_override EIO "
                                     "on=read nth=5"), 0);
    ck_assert_int_eq(hd("--json release --vm w"), 1);
    ck_assert_uint_eq(fx_log_count(&cli.fx, "unbind " XHCI), unbinds);
    ck_assert_msg(strcmp(json_step_state(cli.out, "reattach", XHCI), "not-run") == 0, "%s",
                  cli.out);
    ck_assert_str_eq(json_step_state(cli.out, "reset", XHCI), "done");
    ck_assert_str_eq(json_step_state(cli.out, "own", "dev/vfio/10"), "undone");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    free(before);
}
END_TEST

/* An acquire's record, and a release's unrecord, are what its commit writes to the map: a
 * failure before the commit leaves them not-run, what was done before them undone. */
HD_TEST(the_records_read_not_run_after_a_failure)
{
    char *before = snap();

    /* The NIC given and recorded in the map being written, the xHCI's driver_override cannot
     * be read as it is recorded next (its seventh read). */
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" XHCI "/driver_override EIO "
                                     "on=read nth=7"), 0);
    ck_assert_int_eq(hd("--json acquire --vm v --owner 0:0 " NIC " " XHCI), 1);
    ck_assert_msg(strcmp(json_step_state(cli.out, "record", NIC), "not-run") == 0, "%s",
                  cli.out);
    ck_assert_str_eq(json_step_state(cli.out, "reset", NIC), "done");
    ck_assert_str_eq(json_step_state(cli.out, "detach", NIC), "undone");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    free(before);

    /* The map cannot be read when the release drops the NIC's entry (its fourth read). */
    ck_assert_int_eq(hd("acquire --vm w --owner 0:0 " NIC), 0);
    before = snap();
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault run/hostdev/map/assignments EIO on=read nth=4"), 0);
    ck_assert_int_eq(hd("--json release --vm w"), 1);
    ck_assert_msg(strcmp(json_step_state(cli.out, "unrecord", NIC), "not-run") == 0, "%s",
                  cli.out);
    ck_assert_str_eq(json_step_state(cli.out, "reattach", NIC), "undone");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    free(before);
}
END_TEST

/* The emergency release puts nothing back (no journal; it is simply run again): a failure
 * leaves its steps as they ended, not "planned": those done before it done, the one that
 * failed failed. */
HD_TEST(a_failed_emergency_release_says_what_each_step_did)
{
    ck_assert_int_eq(hd("acquire --vm w --owner 0:0 " NIC), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/drivers_probe EIO"), 0);
    ck_assert_int_eq(hd("--json release --force " NIC), 1);
    ck_assert_msg(strcmp(json_step_state(cli.out, "own", "dev/vfio/8"), "done") == 0, "%s",
                  cli.out);
    ck_assert_str_eq(json_step_state(cli.out, "reset", NIC), "done");
    ck_assert_str_eq(json_step_state(cli.out, "reattach", NIC), "failed");
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "vfio-pci"); /* still held: run again, it goes */
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);

    /* Given back, its record not dropped: the map cannot be read (its fourth read). */
    ck_assert_int_eq(hd("acquire --vm w --owner 0:0 " NIC), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault run/hostdev/map/assignments EIO on=read nth=4"), 0);
    ck_assert_int_eq(hd("--json release --force " NIC), 1);
    ck_assert_msg(strcmp(json_step_state(cli.out, "reattach", NIC), "done") == 0, "%s",
                  cli.out);
    ck_assert_str_eq(json_step_state(cli.out, "unrecord", NIC), "failed");
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    /* Run again, it drops the record it left. */
    ck_assert_int_eq(hd("release --force " NIC), 0);
    ck_assert_int_eq(hd("release --vm w"), 1);
}
END_TEST

/* A companion step (a reservation's bind left pending for its stub, the autoprobe put back
 * with a count) ends as the write it goes with, the newest before it of its device: undone
 * with it, not-undone with it. No fault reaches one through the commands (the pending note
 * follows a batch that worked, and only the intent log's commit line comes after it), so the
 * operation's steps are reported and marked here as the engine does. */
HD_TEST(a_companion_step_reads_as_its_write_after_a_failure)
{
    static const char *const states[] = {"planned", "done",    "undone",    "deferred",
                                         "failed",  "not-run", "not-undone"};
    struct hd_ctx *ctx;
    struct hd_op *op;
    char steps[512];

    ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
    for (int undo_fails = 0; undo_fails < 2; undo_fails++) {
        size_t len = 0;
        ck_assert_int_eq(hd_op_new(ctx, HD_OP_RESERVE, &op), 0);
        ck_assert_int_eq(hd_op_report_step(op, "detach", NIC, "e1000e", "vfio-pci"), 0);
        ck_assert_int_eq(hd_op_report_step(op, "numvfs", PF, "0", "2"), 0);
        ck_assert_int_eq(hd_op_report_note(op, "pending", NIC, "", "vfio-pci"), 0);
        ck_assert_int_eq(hd_op_report_note(op, "autoprobe", PF, "0", "1"), 0);
        ck_assert_int_eq(hd_op_report_step(op, "detach", XHCI, "", "vfio-pci"), 0);
        if (undo_fails)
            hd_op_settle_step(op, "detach", NIC, HD_STEP_NOT_UNDONE);
        hd_op_settle_step(op, "detach", XHCI, HD_STEP_FAILED);
        hd_op_mark_steps(op, HD_STEP_UNDONE);
        for (size_t i = 0; i < hd_op_get_step_count(op); i++)
            len += (size_t)snprintf(steps + len, sizeof(steps) - len, "%s %s;",
                                    hd_op_step_get_action(op, i),
                                    states[hd_op_step_get_state(op, i)]);
        ck_assert_str_eq(steps, undo_fails ? "detach not-undone;numvfs undone;pending not-undone;"
                                             "autoprobe undone;detach failed;"
                                           : "detach undone;numvfs undone;pending undone;"
                                             "autoprobe undone;detach failed;");
        hd_op_unref(op);
    }
    hd_ctx_unref(ctx);
}
END_TEST

/* A timed-out unbind is undone as soon as the kernel returns, by the writer that holds the
 * journal, without anyone running recover. */
HD_TEST(timed_out_unbind_undoes_itself)
{
    char *before = snap();
    bool back = false;

    ck_assert_int_eq(fx_ctl(&cli.fx, "hang e1000e 1500"), 0);
    ck_assert_int_eq(hd("--timeout 200 detach " XHCI " " NIC), 1);
    says("did not finish in 200 ms");
    says("put back as soon as it returns");
    /* Its writer holds the NIC's group until the kernel returns. */
    ck_assert_int_eq(hd("--timeout 200 acquire --vm x --owner 0:0 " NIC), 1);
    says("IOMMU group 8 is busy");
    /* A bound, not a measurement: the hang ends after 1.5 s. */
    for (int tries = 0; tries < 1000 && !back; tries++) {
        char *now = snap();
        back = strcmp(now, before) == 0;
        free(now);
        if (!back)
            usleep(10000);
    }
    char *now = snap();
    ck_assert_msg(back, "not put back:\n%s\nwas\n%s", now, before);
    free(now);
    free(before);
}
END_TEST

/* 7. Releasing a VM that holds nothing is an error naming it. */
HD_TEST(release_of_nothing_fails)
{
    ck_assert_int_eq(hd("release --vm nosuchvm"), 1);
    says("vm nosuchvm holds no device");
}
END_TEST

/* 8. A device without a driver goes back to none: after release, and after a failed acquire. */
HD_TEST(driverless_stays_driverless)
{
    char *before = snap();

    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 " XHCI), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, XHCI), "vfio-pci");
    ck_assert_str_eq(fx_read(&cli.fx, "run/hostdev/drivers/" XHCI), "");
    ck_assert_int_eq(hd("release --vm v"), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, XHCI), "");
    host_is(before);
    /* The chown of its node fails: everything goes back, to no driver. */
    ck_assert_int_eq(fx_ctl(&cli.fx, "fault sys/bus/pci/devices/" XHCI "/reset EIO"), 0);
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 " XHCI), 1);
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
    host_is(before);
    /* detach and reattach alike. */
    ck_assert_int_eq(hd("detach " XHCI), 0);
    ck_assert_str_eq(cli.out, XHCI ": none -> vfio-pci\n");
    ck_assert_int_eq(hd("reattach " XHCI), 0);
    ck_assert_str_eq(cli.out, XHCI ": vfio-pci -> none\n");
    host_is(before);
    free(before);
}
END_TEST

/* 9. A junk journal holds back only what it names, is set aside, and says so (exit 1). */
HD_TEST(junk_journal_blocks_only_its_groups)
{
    ck_assert_int_eq(mkdir(fx_path(&cli.fx, "run/hostdev"), 0700), 0);
    ck_assert_int_eq(mkdir(fx_path(&cli.fx, "run/hostdev/journal"), 0700), 0);
    put_file("run/hostdev/journal/junk", "\x01\x02 not a journal\n");
    put_file("run/hostdev/journal/acquire-1-1",
             "hostdev-journal 2 acquire vm-x\ndev " GPU " 1\nfrobnicate\n");
    /* The NIC's group is named by neither: its acquire goes on. */
    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 " NIC), 0);
    ck_assert(fx_exists(&cli.fx, "run/hostdev/damaged/junk"));
    ck_assert(fx_exists(&cli.fx, "run/hostdev/damaged/acquire-1-1"));
    ck_assert(!fx_exists(&cli.fx, "run/hostdev/journal/junk"));
    /* The GPU's group is named by one: refused, exit 1, naming it. */
    ck_assert_int_eq(hd("acquire --vm web2 --owner 0:0 --group " GPU), 1);
    says("damaged/acquire-1-1 names IOMMU group 1");
    ck_assert_str_eq(fx_driver(&cli.fx, GPU), "nouveau");
    /* The plan fails as the run does, in the run's words: what it would leave is said. */
    ck_assert_int_eq(hd("recover --dry-run"), 1);
    ck_assert_str_eq(cli.out, "dry run: nothing changed; recover would do:\n"
                              "  damaged/: 2 intent logs set aside before, for a person to check\n"
                              "  0 interrupted operations would be dealt with\n");
    says("hostdev recover: 2 intent logs could not be read and would be in ");
    ck_assert_int_eq(hd("recover"), 1);
    ck_assert_str_eq(cli.out, "damaged/: 2 intent logs set aside before, for a person to check\n"
                              "0 interrupted operations dealt with\n");
    says("hostdev recover: 2 intent logs could not be read and are in ");
    ck_assert_int_eq(hd("release --vm web1"), 0);
}
END_TEST

/* 10. A damaged map is never read as "nothing assigned". */
HD_TEST(damaged_map_is_reported)
{
    char *map;

    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 " NIC), 0);
    ck_assert_ptr_nonnull(fx_read(&cli.fx, "run/hostdev/map/assignments"));
    map = strdup(cli.fx.scratch);
    /* Emptied, cut in a line, a line lost (edited to lose it), removed. */
    put_file("run/hostdev/map/assignments", "");
    ck_assert_int_eq(hd("acquire --vm web2 --owner 0:0 " NIC), 2);
    says("assignment map");
    ck_assert_int_eq(hd("assignments"), 2);
    map[strlen(map) / 2] = '\0';
    put_file("run/hostdev/map/assignments", map);
    ck_assert_int_eq(hd("acquire --vm web2 --owner 0:0 " GPU " --group"), 2);
    says("is damaged");
    ck_assert_int_eq(unlink(fx_path(&cli.fx, "run/hostdev/map/assignments")), 0);
    ck_assert_int_eq(hd("acquire --vm web2 --owner 0:0 " NIC), 2);
    says("it is missing");
    ck_assert_ptr_nonnull(strstr(cli.err, "('hostdev recover' sets it aside and rebuilds it"));
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "vfio-pci");
    free(map);
}
END_TEST

/* A reattach to a host driver that is not there (and, under a fake root, cannot be loaded)
 * is found by the plan, as the probe would find it: the dry run says what the run would. */
HD_TEST(a_missing_host_driver_is_planned_as_it_fails)
{
    ck_assert_int_eq(hd("detach " NIC), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "rmmod e1000e"), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
    ck_assert_int_eq(hd("reattach --dry-run " NIC), 1);
    says("driver e1000e is not loaded under ");
    ck_assert_int_eq(hd("reattach " NIC), 1);
    says("driver e1000e is not loaded under ");
    ck_assert_uint_eq(fx_log_count(&cli.fx, "write "), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "vfio-pci");
    ck_assert_int_eq(fx_ctl(&cli.fx, "modprobe e1000e"), 0);
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
}
END_TEST

/* A device given back to its host driver by hand while a VM held it: release says so and
 * lets go of it, with no reset under the host driver and nothing to reattach; the dry run
 * says the same. */
HD_TEST(release_of_a_device_the_host_took_back)
{
    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 " NIC), 0);
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/drivers/vfio-pci/unbind", NIC), 0);
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/devices/" NIC "/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/drivers_probe", NIC), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
    ck_assert_int_eq(hd("release --vm web1 --dry-run"), 0);
    ck_assert_str_eq(cli.out, "dry run: nothing changed; release would do:\n"
                              "  " NIC ": already on e1000e\n"
                              "  " NIC ": released from vm web1\n");
    ck_assert_int_eq(hd("release --vm web1"), 0);
    ck_assert_uint_eq(fx_log_count(&cli.fx, "reset "), 0);
    ck_assert_uint_eq(fx_log_count(&cli.fx, "unbind "), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
    ck_assert(!fx_exists(&cli.fx, "run/hostdev/drivers/" NIC));
    ck_assert_int_eq(hd("assignments"), 0);
    ck_assert_ptr_null(strstr(cli.out, NIC));
}
END_TEST

/* The way out of a damaged map: recover sets it aside and rebuilds it from what the devices
 * show, an entry the kernel confirms kept, the others named and dropped; its dry run says
 * the same and changes nothing. */
HD_TEST(recover_rebuilds_a_damaged_map)
{
    char *map, *p;

    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 " NIC), 0);
    ck_assert_int_eq(hd("acquire --vm db --owner 0:0 " XHCI), 0);
    ck_assert_ptr_nonnull(fx_read(&cli.fx, "run/hostdev/map/assignments"));
    map = strdup(cli.fx.scratch);
    ck_assert_ptr_nonnull(p = strstr(map, "vm=web1"));
    p[6] = '2'; /* edited: vm=web2, the checksum no longer matches */
    put_file("run/hostdev/map/assignments", map);
    ck_assert_int_eq(hd("release --vm db"), 2);
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/drivers/vfio-pci/unbind", XHCI), 0);
    ck_assert_int_eq(hd("recover --dry-run"), 0);
    ck_assert_str_eq(cli.out,
                     "dry run: nothing changed; recover would do:\n"
                     "  map/assignments: damaged (its checksum does not match: it was cut "
                     "or edited): set aside as run/hostdev/map/assignments.damaged-SECONDS, "
                     "rebuilt from what the devices show\n"
                     "  " NIC ": kept for vm web2 (the kernel confirms it)\n"
                     "  " XHCI ": the record of vm db dropped: it is not on a vfio-pci "
                     "family driver\n"
                     "  0 interrupted operations would be dealt with\n");
    ck_assert_int_eq(hd("assignments"), 2);
    ck_assert_int_eq(hd("--json recover"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"damaged\": \"its checksum does not match"));
    ck_assert_ptr_nonnull(strstr(cli.out, "\"set_aside\": \"run/hostdev/map/assignments.damaged-"));
    ck_assert_ptr_nonnull(strstr(cli.out, "\"why\": \"it is not on a vfio-pci family driver\""));
    ck_assert_int_eq(hd("assignments"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, NIC "  web2 "));
    ck_assert_ptr_null(strstr(cli.out, XHCI));
    /* Nothing lost: the damaged file is kept beside the new one. */
    DIR *d = opendir(fx_path(&cli.fx, "run/hostdev/map"));
    struct dirent *de;
    bool kept = false;
    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL)
        kept = kept || strncmp(de->d_name, "assignments.damaged-", 20) == 0;
    closedir(d);
    ck_assert(kept);
    ck_assert_int_eq(hd("release --vm web2"), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
    ck_assert_int_eq(hd("recover"), 0); /* not damaged now: nothing to rebuild */
    ck_assert_str_eq(cli.out, "0 interrupted operations dealt with\n");
    free(map);
}
END_TEST

/* A detach of the NIC that logged its first step and was killed before writing it: its
 * journal's name (the caller frees it). */
static char *killed_detach(struct hd_ctx *ctx)
{
    struct hd_jdev d = {.group = 8};
    struct hd_jstep s = {.kind = HD_JSTEP_DETACH, .from = "e1000e", .to = "vfio-pci",
                         .from_known = true, .record = HD_JREC_NONE};
    struct hd_journal *j;
    char *name;

    ck_assert_int_eq(hd_pci_addr_parse(NIC, &d.addr), 0);
    s.addr = d.addr;
    ck_assert_int_eq(hd_journal_begin(ctx, HD_JOP_DETACH, NULL, &d, 1, &j), 0);
    ck_assert_int_eq(hd_journal_defer(ctx, j, &s), 0);
    ck_assert_int_eq(hd_journal_flush(ctx, j), 0);
    name = strdup(strrchr(hd_journal_path(j), '/') + 1);
    ck_assert_ptr_nonnull(name);
    hd_journal_close(j); /* killed here */
    return name;
}

/* 10. A crash between the record and the first sysfs write leaves no record behind. */
HD_TEST(crash_before_first_write_leaves_no_record)
{
    struct hd_ctx *ctx;
    char *before = snap();

    ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
    free(killed_detach(ctx));
    /* The record it made before it died. */
    ck_assert_int_eq(mkdir(fx_path(&cli.fx, "run/hostdev/drivers"), 0700), 0);
    put_file("run/hostdev/drivers/" NIC, "e1000e");
    /* The plan first: it says what it would undo, and changes nothing. */
    char *dead = snap();
    ck_assert_int_eq(hd("recover --dry-run"), 0);
    ck_assert_msg(strstr(cli.out, ": undone (detach, 1 step)"), "%s", cli.out);
    ck_assert_int_eq(hd("--json --dry-run recover"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"action\": \"undo\""));
    char *still = snap();
    ck_assert_str_eq(still, dead);
    free(still);
    free(dead);
    ck_assert_int_eq(hd_assign_recover(ctx, NULL), 0);
    host_is(before);
    free(before);
    hd_ctx_unref(ctx);
}
END_TEST

/* @json's keys, line by line, without their values: the shape of a document. */
static char *json_shape(const char *json)
{
    char *shape = strdup(json), *w = shape;

    ck_assert_ptr_nonnull(shape);
    for (const char *r = json; *r;) {
        const char *nl = strchr(r, '\n'), *kv = strstr(r, "\": ");
        size_t keep = kv != NULL && (nl == NULL || kv < nl) ? (size_t)(kv - r + 1)
                      : nl != NULL                          ? (size_t)(nl - r)
                                                            : strlen(r);
        memmove(w, r, keep);
        w += keep;
        *w++ = '\n';
        r = nl != NULL ? nl + 1 : r + strlen(r);
    }
    *w = '\0';
    return shape;
}

/* recover's report @run as its dry run says it: under the heading, each line indented, the
 * count "would be dealt with". */
static char *as_plan(const char *run)
{
    static const char head[] = "dry run: nothing changed; recover would do:\n";
    char *plan = malloc(sizeof(head) + 3 * strlen(run) + 16), *w = plan;

    ck_assert_ptr_nonnull(plan);
    w += sprintf(w, "%s", head);
    for (const char *r = run; *r;) {
        const char *nl = strchr(r, '\n');
        size_t len = nl != NULL ? (size_t)(nl - r) : strlen(r);
        const char *dealt = strstr(r, " dealt with");
        if (dealt != NULL && dealt + 11 == r + len)
            w += sprintf(w, "  %.*s would be dealt with\n", (int)(dealt - r), r);
        else
            w += sprintf(w, "  %.*s\n", (int)len, r);
        r += len + (nl != NULL);
    }
    return plan;
}

/* recover's dry run says what the run then does, in its words under the dry run's heading
 * ("would" where every dry run says it), and its JSON is the run's, "dry_run" aside. */
HD_TEST(recover_dry_run_says_what_the_run_does)
{
    struct hd_ctx *ctx;
    char *plan_json, *name, line[256];

    ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
    name = killed_detach(ctx);
    ck_assert_int_eq(hd("recover --dry-run"), 0);
    snprintf(line, sizeof(line), "dry run: nothing changed; recover would do:\n"
                                 "  %s: undone (detach, 1 step)\n"
                                 "  1 interrupted operation would be dealt with\n", name);
    ck_assert_str_eq(cli.out, line);
    free(name);
    ck_assert_int_eq(hd("--json --dry-run recover"), 0);
    plan_json = strdup(cli.out);
    ck_assert_int_eq(hd("--json recover"), 0);
    ck_assert_ptr_nonnull(strstr(plan_json, "\"dry_run\": true,\n  \"recovered\": 1,\n"
                                            "  \"complete\": true,\n"));
    ck_assert_ptr_nonnull(strstr(cli.out, "\"dry_run\": false,\n  \"recovered\": 1,\n"
                                          "  \"complete\": true,\n"));
    ck_assert_ptr_nonnull(strstr(plan_json, "\"action\": \"undo\""));
    ck_assert_ptr_nonnull(strstr(cli.out, "\"action\": \"undo\""));
    char *a = json_shape(plan_json), *b = json_shape(cli.out);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    /* Again, killed the same way: the run's text is the plan's lines, without "would". */
    name = killed_detach(ctx);
    ck_assert_int_eq(hd("recover --dry-run"), 0);
    char *plan = strdup(cli.out);
    ck_assert_int_eq(hd("recover"), 0);
    char *want = as_plan(cli.out);
    ck_assert_str_eq(plan, want);
    free(want);
    free(plan);
    snprintf(line, sizeof(line), "%s: undone (detach, 1 step)\n"
                                 "1 interrupted operation dealt with\n", name);
    ck_assert_str_eq(cli.out, line);
    free(plan_json);
    free(name);
    hd_ctx_unref(ctx);
}
END_TEST

/* 11. Platform functions stay with the host; check and doctor say so. */
HD_TEST(platform_functions_stay)
{
    char *before = snap();

    ck_assert_int_eq(hd("detach --group " HDA), 1);
    says("is an ISA/LPC bridge");
    ck_assert_int_eq(hd("detach " HOSTB), 1);
    says("is a host bridge");
    ck_assert_int_eq(hd("detach " SMBUS), 1);
    says("(--force takes it anyway)");
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 --group " HDA), 1);
    says("is an ISA/LPC bridge");
    host_is(before);
    ck_assert_int_eq(hd("check " HDA), 1);
    ck_assert_msg(strstr(cli.out, "not assignable alone") != NULL, "%s", cli.out);
    ck_assert_msg(strstr(cli.out, LPC) != NULL, "%s", cli.out);
    ck_assert_int_eq(hd("doctor " HDA), 1); /* problems found */
    ck_assert_msg(strstr(cli.out, "which the host keeps") != NULL, "%s", cli.out);
    ck_assert_msg(strstr(cli.out, "detach --group") == NULL, "doctor recommends it: %s", cli.out);
    free(before);
}
END_TEST

/* The library's one-device calls are operations of the engine: they consult the map, keep
 * platform functions, journal and record like the tools do. */
HD_TEST(library_device_calls_use_the_engine)
{
    struct hd_ctx *ctx;
    struct hd_device *nic, *smbus, *pf;
    struct hd_pci_addr a;
    char *before, *orig = NULL;

    ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
    ck_assert_int_eq(hd_pci_addr_parse(NIC, &a), 0);
    ck_assert_int_eq(hd_device_open(ctx, &a, &nic), 0);
    ck_assert_int_eq(hd_pci_addr_parse(SMBUS, &a), 0);
    ck_assert_int_eq(hd_device_open(ctx, &a, &smbus), 0);
    ck_assert_int_eq(hd_pci_addr_parse(PF, &a), 0);
    ck_assert_int_eq(hd_device_open(ctx, &a, &pf), 0);

    /* Detach: bound, recorded once, the snapshot read again; a stub-to-stub move keeps it. */
    ck_assert_int_eq(hd_device_detach(nic, NULL, 0), 0);
    ck_assert_str_eq(hd_device_get_driver(nic), "vfio-pci");
    ck_assert_int_eq(hd_device_get_original_driver(nic, &orig), 0);
    ck_assert_str_eq(orig, "e1000e");
    free(orig);
    ck_assert_int_eq(hd_device_detach(nic, "pci-stub", 0), 0);
    ck_assert_int_eq(hd_device_get_original_driver(nic, &orig), 0);
    ck_assert_str_eq(orig, "e1000e");
    free(orig);
    ck_assert_int_eq(hd_device_reattach(nic), 0);
    ck_assert_str_eq(hd_device_get_driver(nic), "e1000e");
    ck_assert(!record_exists(NIC));

    /* Platform functions stay unless forced. */
    before = snap();
    ck_assert_int_eq(hd_device_detach(smbus, NULL, 0), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_PLATFORM);
    host_is(before);

    /* A device a VM holds is refused with its reason, and nothing is written. */
    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 " NIC), 0);
    free(before);
    before = snap();
    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
    ck_assert_int_eq(hd_device_reattach(nic), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_HELD);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "web1"));
    ck_assert_int_eq(hd_device_reset(nic, HD_RESET_FORCE, NULL), -EBUSY);
    ck_assert_int_eq(hd_device_detach(nic, "pci-stub", 0), -EBUSY);
    ck_assert_uint_eq(fx_log_count(&cli.fx, "write "), 0);
    host_is(before);
    ck_assert_int_eq(hd("release --vm web1"), 0);

    /* Reset gives the methods the kernel tries; numvfs the previous count. */
    char *methods = NULL;
    ck_assert_int_eq(hd_device_detach(nic, NULL, 0), 0);
    ck_assert_int_eq(hd_device_reset(nic, 0, &methods), 0);
    ck_assert_str_eq(methods, "flr pm bus"); /* as the kernel's reset_method has them */
    free(methods);
    ck_assert_int_eq(hd_device_reattach(nic), 0);
    ck_assert_int_eq(hd_device_set_numvfs(pf, 2), 0);
    ck_assert_int_eq(hd_device_set_numvfs(pf, 0), 2);
    /* The fake kernel is a FUSE mount, nodev as FUSE mounts are: what verify's explanation of
     * an EACCES asks the kernel (statvfs ST_NODEV). */
    ck_assert(hd_fs_on_nodev(ctx, "dev"));

    hd_device_unref(pf);
    hd_device_unref(smbus);
    hd_device_unref(nic);
    hd_ctx_unref(ctx);
    free(before);
}
END_TEST

/* A detached GPU whose audio function stays on the host: the group node's note gives an
 * acquire that acquire takes (with --group), not one it refuses (the GPU alone). */
HD_TEST(doctor_acquire_advice_is_one_acquire_takes)
{
    ck_assert_int_eq(hd("detach " GPU), 0);
    ck_assert_int_eq(hd("doctor " GPU), 1);
    const char *cmd = "\n  run: hostdev acquire --vm ID --owner USER:GROUP --group " GPU "\n";
    ck_assert_msg(strstr(cli.out, cmd), "%s", cli.out);
    ck_assert_int_eq(hd("--json doctor " GPU), 1);
    ck_assert_msg(strstr(cli.out, "\"hostdev acquire --vm ID --owner USER:GROUP --group " GPU "\""),
                  "%s", cli.out);
    /* What the note would have said before: refused. */
    ck_assert_int_eq(hd("acquire --vm web --owner 107:108 " GPU), 1);
    /* The command given, ID and USER:GROUP filled in: it works. */
    ck_assert_int_eq(hd("acquire --vm web --owner 107:108 --group " GPU), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, AUDIO), "vfio-pci");
    ck_assert_int_eq(hd("release --vm web"), 0);
}
END_TEST

/* doctor compares hostdev's records with the kernel and gives the command that fixes each. */
HD_TEST(doctor_finds_records_the_kernel_contradicts)
{
    ck_assert_int_eq(mkdir(fx_path(&cli.fx, "run/hostdev"), 0700), 0);
    ck_assert_int_eq(mkdir(fx_path(&cli.fx, "run/hostdev/drivers"), 0700), 0);
    put_file("run/hostdev/drivers/" NIC, "e1000e");
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/devices/" GPU "/driver_override", "vfio-pci"),
                     0);
    ck_assert_int_eq(hd("--json doctor"), 1);
    ck_assert_msg(strstr(cli.out, "\"stale-record\"") && strstr(cli.out, "rm ") &&
                      strstr(cli.out, "\"stale-override\""),
                  "%s", cli.out);
    ck_assert_int_eq(unlink(fx_path(&cli.fx, "run/hostdev/drivers/" NIC)), 0);
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/devices/" GPU "/driver_override", "\n"), 0);
    /* A VM's device that someone unbound by hand. */
    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 " NIC), 0);
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/drivers/vfio-pci/unbind", NIC), 0);
    ck_assert_int_eq(hd("doctor " NIC), 1);
    /* The library's fix is words; the tool spells the command. */
    ck_assert_msg(strstr(cli.out, "the emergency release of " NIC), "%s", cli.out);
    ck_assert_msg(strstr(cli.out, "\n  run: hostdev release --force " NIC "\n"), "%s", cli.out);
    ck_assert_int_eq(hd("--json doctor " NIC), 1);
    ck_assert_msg(strstr(cli.out, "\"commands\": [\n        \"hostdev release --force " NIC "\"\n"),
                  "%s", cli.out);
    ck_assert_int_eq(hd("release --force --dry-run " NIC), 0);
    ck_assert_msg(strstr(cli.out, NIC ": none -> e1000e\n"), "%s", cli.out); /* where it goes */
    ck_assert_int_eq(hd("release --force " NIC), 0);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
    /* Neither held nor detached now: a retry finds it released, nothing to do (exit 0). */
    ck_assert_int_eq(hd("release --force " NIC), 0);
    ck_assert_msg(strstr(cli.out, NIC ": no VM holds it and it is on e1000e, not detached: nothing "
                                      "to do\n"),
                  "%s", cli.out);
    ck_assert_int_eq(hd("--json release --force " NIC), 0);
    ck_assert_msg(strstr(cli.out, "\"action\": \"already\"") &&
                      strstr(cli.out, "\"to\": \"e1000e\"") &&
                      strstr(cli.out, "\"state\": \"done\""),
                  "%s", cli.out);
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
    /* A VM's node taken back by hand: the commands give it to the map's VM and owner again. */
    ck_assert_int_eq(hd("acquire --vm web2 --owner 107:108 " NIC), 0);
    ck_assert_int_eq(chown(fx_path(&cli.fx, "dev/vfio/8"), 0, 0), 0);
    ck_assert_int_eq(chmod(fx_path(&cli.fx, "dev/vfio/8"), 0600), 0);
    ck_assert_int_eq(hd("doctor " NIC), 1);
    ck_assert_msg(strstr(cli.out,
                         "\n  run: hostdev release --vm web2 " NIC " && hostdev acquire --vm "
                         "web2 --owner 107:108 " NIC "\n"),
                  "%s", cli.out);
    ck_assert_int_eq(hd("release --vm web2"), 0);
    ck_assert_int_eq(hd("doctor"), 0);
    ck_assert_msg(strstr(cli.out, "stale") == NULL && strstr(cli.out, "map gives") == NULL, "%s",
                  cli.out);
}
END_TEST

/* A record and an override an operation left (its process killed, or still in the kernel) are
 * the operation's: doctor sends the first to recover, says the second runs, and never advises
 * removing either by hand, which would lose what recover puts back. */
HD_TEST(doctor_leaves_an_operations_records_to_it)
{
    struct hd_ctx *ctx;
    struct hd_journal *live;
    struct hd_jdev d = {.group = 8};
    char *name;

    ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
    name = killed_detach(ctx);
    ck_assert_int_eq(mkdir(fx_path(&cli.fx, "run/hostdev/drivers"), 0700), 0);
    put_file("run/hostdev/drivers/" NIC, "e1000e");
    ck_assert_int_eq(fx_write(&cli.fx, "sys/bus/pci/devices/" NIC "/driver_override", "vfio-pci"), 0);
    ck_assert_int_eq(hd("--json doctor"), 1);
    ck_assert_msg(strstr(cli.out, "\"interrupted-operation\"") &&
                  strstr(cli.out, "\"commands\": [\n        \"hostdev recover\"\n") &&
                  strstr(cli.out, name) && !strstr(cli.out, "\"stale-record\"") &&
                  !strstr(cli.out, "\"stale-override\""), "%s", cli.out);
    ck_assert_int_eq(hd("doctor " NIC), 1);
    ck_assert_msg(strstr(cli.out, NIC ": a detach operation was interrupted") &&
                  strstr(cli.out, "\n  run: hostdev recover\n") && !strstr(cli.out, "rm "), "%s", cli.out);
    ck_assert_int_eq(hd("recover"), 0);
    ck_assert_int_eq(hd("doctor " NIC), 1); /* on e1000e: not detached, nothing else */
    ck_assert_msg(!strstr(cli.out, "interrupted") && !strstr(cli.out, "stale"), "%s", cli.out);
    /* One whose process lives: under way, nothing to run. */
    ck_assert_int_eq(hd_pci_addr_parse(NIC, &d.addr), 0);
    ck_assert_int_eq(hd_journal_begin(ctx, HD_JOP_DETACH, NULL, &d, 1, &live), 0);
    put_file("run/hostdev/drivers/" NIC, "e1000e");
    ck_assert_int_eq(hd("--json doctor " NIC), 1);
    ck_assert_msg(strstr(cli.out, "\"operation-running\"") && !strstr(cli.out, "\"stale-record\"") &&
                  !strstr(cli.out, "hostdev recover"), "%s", cli.out);
    hd_journal_end(ctx, live);
    ck_assert_int_eq(unlink(fx_path(&cli.fx, "run/hostdev/drivers/" NIC)), 0);
    free(name);
    hd_ctx_unref(ctx);
}
END_TEST

/* --dry-run writes nothing at all (no sysfs write, no state file, no lock), and --json
 * reports the same plan; errors are one line either way. */
HD_TEST(dry_run_writes_nothing)
{
    static const char *const cmds[] = {
        "detach --dry-run " NIC " " XHCI,  "detach --dry-run --group " GPU,
        "--dry-run reattach " NIC,          "--dry-run reset --force " NIC,
        "sriov " PF " --numvfs 3 --dry-run", "acquire --dry-run --vm v --owner 0:0 --group " GPU,
        "--dry-run reserve",                "persist --dry-run " NIC,
    };
    char *before = snap();

    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        ck_assert_msg(hd("%s", cmds[i]) == 0, "%s: %s", cmds[i], cli.err);
        ck_assert_msg(i == 2 || i == 6 || strstr(cli.out, "would "), "%s: %s", cmds[i], cli.out);
        ck_assert_msg(hd("--json %s", cmds[i]) == 0, "%s", cmds[i]);
        ck_assert_msg(i >= 6 || strstr(cli.out, "\"dry_run\": true"), "%s: %s", cmds[i], cli.out);
    }
    ck_assert_int_eq(hd("detach --dry-run --group " GPU), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, GPU ": nouveau -> vfio-pci"));
    ck_assert_ptr_nonnull(strstr(cli.out, AUDIO ": snd_hda_intel -> vfio-pci"));
    ck_assert_uint_eq(fx_log_count(&cli.fx, "write "), 0);
    ck_assert(!fx_exists(&cli.fx, "run/hostdev"));
    ck_assert(!fx_exists(&cli.fx, "etc/hostdev.d"));
    host_is(before);
    /* Release of what is held, planned. */
    ck_assert_int_eq(hd("acquire --vm v --owner 0:0 " NIC), 0);
    free(before);
    before = snap();
    ck_assert_int_eq(hd("release --dry-run --vm v"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, NIC ": vfio-pci -> e1000e"));
    host_is(before);
    free(before);
}
END_TEST

/* Every writing command under --json: one JSON object on stdout; its error one line. */
HD_TEST(json_everywhere)
{
    ck_assert_int_eq(hd("--json detach " NIC), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"operation\": \"detach\""));
    ck_assert_ptr_nonnull(strstr(cli.out, "\"state\": \"done\""));
    ck_assert_int_eq(hd("--json reattach " NIC), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"to\": \"e1000e\""));
    ck_assert_int_eq(hd("--json acquire --vm j --owner 0:0 " NIC), 0);
    ck_assert_int_eq(hd("--json release --vm j"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"action\": \"unrecord\""));
    ck_assert_int_eq(hd("--json recover"), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"recovered\": 0"));
    /* Under --json an error is one JSON object on stderr, exit status and hint included. */
    ck_assert_int_eq(hd("--json release --vm j"), 1);
    ck_assert_str_eq(cli.err, "{\"error\":\"vm j holds no device\",\"exit\":1,\"command\":"
                              "\"release\",\"hint\":null}\n");
    ck_assert_int_eq(hd("--json detach " HOSTB), 1);
    ck_assert_ptr_nonnull(strstr(cli.err, "\"exit\":1,\"command\":\"detach\",\"hint\":\"--force "
                                          "takes it anyway\"}\n"));
    ck_assert_int_eq(hd("--json detach 0000:zz"), 2);
    ck_assert_ptr_nonnull(strstr(cli.err, "\"exit\":2"));
    ck_assert_int_eq(hd("--json qemu-args " NIC), 0);
    ck_assert_ptr_nonnull(
        strstr(cli.out, "\"argv\": [\n    \"-device\",\n    \"vfio-pci,host=" NIC));
    ck_assert_int_eq(hd("--json hostdev-xml " NIC), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"xml\": \"<hostdev mode='subsystem' type='pci'"));
    ck_assert_int_eq(hd("--json persist " NIC), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"persisted\": \"" NIC " vfio-pci\""));
    ck_assert_int_eq(hd("--json unpersist " NIC), 0);
    ck_assert_ptr_nonnull(strstr(cli.out, "\"unpersisted\": \"" NIC "\""));
    ck_assert_str_eq(fx_driver(&cli.fx, NIC), "e1000e");
}
END_TEST

/* ---- the fault matrix: every sysfs write of every writing command fails in turn --------- */

struct op_case {
    const char *name;
    const char *setup;   /* hostdev commands (';'-separated) run first, or NULL */
    const char *cmd;     /* the command under test */
    const char *devices; /* why: which devices and groups it touches */
    size_t unbinds;      /* how many unbinds a clean run makes (the kill matrix's cases) */
};

static const struct op_case ops[] = {
    {"detach two groups", NULL, "detach " NIC " " XHCI, "a NIC and a driverless device", 1},
    {"detach --group", NULL, "detach --group " GPU, "a GPU and its audio function", 2},
    {"detach stub to stub", "detach -d pci-stub " NIC, "detach " NIC, "pci-stub to vfio-pci", 1},
    {"reattach two", "detach " NIC " " XHCI, "reattach " NIC " " XHCI, "back to e1000e, none", 2},
    {"reattach group", "detach --group " GPU, "reattach " GPU " " AUDIO, "two in one group", 2},
    {"sriov up", NULL, "sriov " PF " --numvfs 2", "0 -> 2 VFs", 0},
    {"sriov change", "sriov " PF " --numvfs 2", "sriov " PF " --numvfs 3", "2 -> 0 -> 3", 0},
    {"sriov change, a VF detached", "sriov " PF " --numvfs 2; detach " VF0,
     "sriov " PF " --numvfs 3", "2 -> 0 -> 3, a detached VF's record and driver", 1},
    {"acquire mixed", "detach " XHCI, "acquire --vm m --owner 7:8 --domain-xml @DOM@",
     "managed GPU+audio, unmanaged xhci", 2},
    {"release mixed", "detach " XHCI "; acquire --vm m --owner 7:8 --domain-xml @DOM@",
     "release --vm m", "the same, back", 2},
    {"acquire several", NULL, "acquire --vm n --owner 7:8 " NIC " " XHCI, "two groups", 1},
    {"detach three groups", NULL, "detach --group " GPU " " NIC " " XHCI,
     "three groups side by side, one of two members", 3},
    {"reattach three groups", "detach --group " GPU " " NIC " " XHCI,
     "reattach " GPU " " AUDIO " " NIC " " XHCI, "the same, back, side by side", 4},
    {"reserve", "@CONF@", "reserve", "hostdev.d: the NIC to vfio-pci", 1},
};

static const char domain_xml[] =
    "<domain type='kvm'><name>m</name><devices>"
    "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
    "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
    "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
    "<address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source></hostdev>"
    "<hostdev mode='subsystem' type='pci' managed='no'><source>"
    "<address domain='0x0000' bus='0x04' slot='0x00' function='0x0'/></source></hostdev>"
    "</devices></domain>\n";

/* @text with @DOM@ replaced by the domain file's path. */
static char *expand(const char *text)
{
    const char *at = strstr(text, "@DOM@");
    char *outs;

    if (at == NULL)
        return strdup(text);
    ck_assert(asprintf(&outs, "%.*s%s/tmp/dom.xml%s", (int)(at - text), text, cli.fx.root, at + 5) >
              0);
    return outs;
}

static void op_setup(const struct op_case *c)
{
    put_file("tmp/dom.xml", domain_xml);
    if (c->setup == NULL)
        return;
    if (strcmp(c->setup, "@CONF@") == 0) {
        ck_assert_int_eq(mkdir(fx_path(&cli.fx, "etc/hostdev.d"), 0755), 0);
        put_file("etc/hostdev.d/10-test.conf", NIC " vfio-pci\n");
        return;
    }
    char *copy = expand(c->setup), *save = NULL;
    for (char *cmd = strtok_r(copy, ";", &save); cmd; cmd = strtok_r(NULL, ";", &save))
        ck_assert_msg(hd("%s", cmd) == 0, "%s: setup '%s': %s", c->name, cmd, cli.err);
    free(copy);
}

HD_LOOP_TEST_IN(faults, fault_matrix, (int)(sizeof(ops) / sizeof(ops[0])))
{
    const struct op_case *c = &ops[_i];
    char paths[96][HS_PATH], *cmd, *before, *after, *now;
    size_t n;

    op_setup(c);
    cmd = expand(c->cmd);
    before = snap();
    /* A clean run tells which writes the command makes, and where it ends. */
    ck_assert_int_eq(fx_ctl(&cli.fx, "mark clean"), 0);
    ck_assert_msg(hd("%s", cmd) == 0, "%s: %s", c->name, cli.err);
    after = snap();
    n = hs_writes_since(&cli.fx, "clean", paths, 96);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_lt(n, 96);
    /* Back to the start: the setup again on a fresh kernel. */
    teardown();
    setup();
    op_setup(c);
    for (size_t i = 0; i < n; i++) {
        free(cmd);
        cmd = expand(c->cmd); /* a remount moves the root */
        ck_assert_int_eq(
            fx_ctl(&cli.fx, "fault %s EIO nth=%u count=1", paths[i], hs_occurrence(paths, i)), 0);
        int rc = hd("%s", cmd);
        ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
        now = snap();
        if (rc == 0) {
            /* A write the command may do without (a best-effort clean-up): then it ends
             * exactly where a clean run ends. Put the start back for the next write. */
            ck_assert_msg(strcmp(now, after) == 0, "%s: write %zu (%s) failed, exit 0, but "
                          "not as a clean run:\n%s\nclean:\n%s", c->name, i, paths[i], now, after);
            teardown();
            setup();
            op_setup(c);
        } else {
            ck_assert_msg(rc == 1, "%s: write %zu (%s): exit %d", c->name, i, paths[i], rc);
            ck_assert_msg(strcmp(now, before) == 0,
                          "%s: write %zu (%s) failed, host not as "
                          "before:\n%s\nwas\n%s\n(%s)",
                          c->name, i, paths[i], now, before, cli.err);
        }
        free(now);
    }
    free(cmd);
    free(before);
    free(after);
}
END_TEST

/* ---- the kill matrix: kill -9 in each unbind a command makes; recover puts it all back ---- */

struct unbind {
    char driver[64];
    unsigned int nth; /* the nth unbind from that driver */
};

/* The unbinds a clean run of @cmd makes, in order. */
static size_t learn_unbinds(const char *cmd, struct unbind *u, size_t max)
{
    char *log, *save = NULL;
    size_t n = 0;

    ck_assert_int_eq(fx_ctl(&cli.fx, "mark clean"), 0);
    ck_assert_msg(hd("%s", cmd) == 0, "%s: %s", cmd, cli.err);
    log = fx_log(&cli.fx);
    for (char *l = strtok_r(strstr(log, "mark clean"), "\n", &save); l && n < max;
         l = strtok_r(NULL, "\n", &save)) {
        char bdf[32], drv[64];
        if (sscanf(l, "unbind %31s %63s", bdf, drv) != 2)
            continue;
        strcpy(u[n].driver, drv);
        u[n].nth = 1;
        for (size_t k = 0; k < n; k++)
            u[n].nth += strcmp(u[k].driver, drv) == 0;
        n++;
    }
    free(log);
    return n;
}

HD_LOOP_TEST_IN(kills, kill_matrix, (int)(sizeof(ops) / sizeof(ops[0])))
{
    const struct op_case *c = &ops[_i];
    struct unbind u[16];
    char *cmd, *before;
    size_t n;

    op_setup(c);
    cmd = expand(c->cmd);
    n = learn_unbinds(cmd, u, 16);
    ck_assert_uint_eq(n, c->unbinds);
    free(cmd);
    for (size_t k = 0; k < n; k++) {
        int status;
        struct hd_ctx *ctx;
        pid_t pid;
        teardown();
        setup();
        op_setup(c);
        before = snap();
        cmd = expand(c->cmd);
        ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
        ck_assert_int_eq(
            fx_ctl(&cli.fx, "hang %s %s", u[k].driver, u[k].nth == 1 ? "forever" : "300"), 0);
        pid = eng_hostdev_start(&cli.fx, cmd);
        ck_assert_msg(fx_wait_log(&cli.fx, "unbind-hang ", u[k].nth, 20000), "%s: no hang %zu",
                      c->name, k);
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
        if (u[k].nth == 1) { /* its writer still hangs in the kernel: left alone */
            ck_assert_int_eq(hd_assign_recover(ctx, NULL), -EBUSY);
            /* The user killed the command: the plan names what still runs. */
            ck_assert_int_eq(hd("recover --dry-run"), 1); /* as recover would */
            ck_assert_msg(strstr(cli.out, "left alone: its process, or an unbind it left hanging "
                                          "in the kernel, still runs") != NULL,
                          "%s", cli.out);
            says("(or an unbind it started still hangs in the kernel); it would be left alone");
            char *plan = strdup(cli.out);
            ck_assert_int_eq(hd("recover"), 1); /* the same, in the run's words */
            says("(or an unbind it started still hangs in the kernel); left alone");
            char *want = as_plan(cli.out);
            ck_assert_str_eq(plan, want);
            free(want);
            free(plan);
        }
        ck_assert_int_eq(fx_ctl(&cli.fx, "hang %s 0", u[k].driver), 0);
        ck_assert_int_eq(fx_ctl(&cli.fx, "release"), 0);
        eng_recover(ctx, c->name);
        char *now = snap();
        ck_assert_msg(strcmp(now, before) == 0, "%s: killed in unbind %zu (%s #%u), not "
                      "restored:\n%s\nexpected\n%s", c->name, k, u[k].driver, u[k].nth, now,
                      before);
        free(now);
        free(before);
        free(cmd);
        hd_ctx_unref(ctx);
    }
}
END_TEST

/* ---- the model test: long random sequences; after each command the invariants hold ------- */

static const char *const model_devs[] = {GPU, AUDIO, NIC, XHCI, PF, VF0, VF1, HDA};
static const char *const initial_driver[] = {"nouveau", "snd_hda_intel", "e1000e", "",
                                             "ixgbe", "", "", "snd_hda_intel"};
#define NMODEL (sizeof(model_devs) / sizeof(model_devs[0]))

static bool on_stub(const char *driver)
{
    return strcmp(driver, "vfio-pci") == 0 || strcmp(driver, "pci-stub") == 0;
}

static unsigned int next_rand(unsigned int *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

/* The invariants: the map matches the kernel (each entry's device on vfio-pci, its group's
 * node the VM's), a group belongs to one VM, every device that left its host driver (or no
 * driver) for a stub has a record naming where it came from, and no intent log is left. */
static void check_invariants(const char *after)
{
    char *map =
        fx_read(&cli.fx, "run/hostdev/map/assignments") ? strdup(cli.fx.scratch) : strdup("");
    char groups_vm[32][64] = {{0}};

    for (char *l = strtok(map, "\n"); l; l = strtok(NULL, "\n")) {
        char bdf[32], vm[64], node[32];
        int group = -1;
        unsigned uid = 0, gid = 0;
        struct stat st;
        if (l[0] == '#')
            continue;
        ck_assert_msg(sscanf(l, "%31s vm=%63s", bdf, vm) == 2, "%s: map line '%s'", after, l);
        char *end;
        group = (int)strtol(strstr(l, " group=") + 7, &end, 10);
        ck_assert(*end == ' ');
        uid = (unsigned)strtoul(strstr(l, " owner=") + 7, &end, 10);
        ck_assert(*end == ':');
        gid = (unsigned)strtoul(end + 1, &end, 10);
        ck_assert(*end == ' ');
        ck_assert_msg(strcmp(fx_driver(&cli.fx, bdf), "vfio-pci") == 0,
                      "%s: %s is assigned but on "
                      "'%s'",
                      after, bdf, fx_driver(&cli.fx, bdf));
        snprintf(node, sizeof(node), "dev/vfio/%d", group);
        ck_assert_msg(stat(fx_path(&cli.fx, node), &st) == 0 && st.st_uid == uid &&
                          st.st_gid == gid && (st.st_mode & 0777) == 0660,
                      "%s: %s of %s not the VM's", after, node, bdf);
        ck_assert(group >= 0 && group < 32);
        ck_assert_msg(groups_vm[group][0] == '\0' || strcmp(groups_vm[group], vm) == 0,
                      "%s: group %d held by vm %s and vm %s", after, group, groups_vm[group], vm);
        strcpy(groups_vm[group], vm);
    }
    free(map);
    for (size_t i = 0; i < NMODEL; i++) {
        char rel[96];
        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", model_devs[i]);
        if (!fx_exists(&cli.fx, rel) || !on_stub(fx_driver(&cli.fx, model_devs[i])))
            continue;
        /* A VF its PF on vfio-pci made is the kernel's (the driver_override vfio-pci gives
         * it as it is made): no record, and a reattach leaves it so. */
        snprintf(rel, sizeof(rel), "run/hostdev/drivers/%s", model_devs[i]);
        bool recorded = fx_exists(&cli.fx, rel);
        bool vf = strcmp(model_devs[i], VF0) == 0 || strcmp(model_devs[i], VF1) == 0;
        bool pf_vfio = strcmp(fx_driver(&cli.fx, PF), "vfio-pci") == 0;
        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver_override", model_devs[i]);
        const char *ovr = fx_read(&cli.fx, rel);
        if (!recorded && vf && pf_vfio && ovr && strcmp(ovr, "vfio-pci") == 0)
            continue;
        snprintf(rel, sizeof(rel), "run/hostdev/drivers/%s", model_devs[i]);
        ck_assert_msg(fx_read(&cli.fx, rel) != NULL, "%s: %s is on %s without a record", after,
                      model_devs[i], fx_driver(&cli.fx, model_devs[i]));
        ck_assert_msg(strcmp(cli.fx.scratch, initial_driver[i]) == 0,
                      "%s: %s's record says '%s', "
                      "it came from '%s'",
                      after, model_devs[i], cli.fx.scratch, initial_driver[i]);
    }
    /* No command of the test is killed here: none may leave an intent log behind. */
    DIR *dir = opendir(fx_path(&cli.fx, "run/hostdev/journal"));
    struct dirent *de;
    while (dir != NULL && (de = readdir(dir)) != NULL)
        ck_assert_msg(de->d_name[0] == '.', "%s: intent log %s left behind", after, de->d_name);
    if (dir != NULL)
        closedir(dir);
}

/* Run @cmd; if it hangs in an unbind from @drv, kill -9 it there, let the kernel go on, and
 * recover. */
static void run_killed(const char *cmd, const char *drv, const char *what)
{
    int status;
    struct hd_ctx *ctx;
    pid_t pid;

    ck_assert_int_eq(fx_ctl(&cli.fx, "clear-log"), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "hang %s forever", drv), 0);
    pid = eng_hostdev_start(&cli.fx, cmd);
    /* Bounded: it either finishes without that unbind or hangs in it. */
    for (int tries = 0; tries < 400; tries++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            pid = 0;
            break;
        }
        if (fx_log_count(&cli.fx, "unbind-hang ") > 0)
            break;
        usleep(5000);
    }
    if (pid != 0) {
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    } else {
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) <= 2, "%s: exit %d", what,
                      WEXITSTATUS(status));
    }
    ck_assert_int_eq(fx_ctl(&cli.fx, "hang %s 0", drv), 0);
    ck_assert_int_eq(fx_ctl(&cli.fx, "release"), 0);
    ck_assert_int_eq(hd_ctx_new(cli.fx.root, &ctx), 0);
    eng_recover(ctx, what);
    hd_ctx_unref(ctx);
}

HD_LOOP_TEST_IN(model, model, 4)
{
    static const char *const vms[] = {"va", "vb", "vc"};
    unsigned int seed = 0x5eed0000u + (unsigned)_i;
    char cmd[512], what[600];

    for (int step = 0; step < 60; step++) {
        const char *d = model_devs[next_rand(&seed) % NMODEL];
        const char *d2 = model_devs[next_rand(&seed) % NMODEL];
        const char *vm = vms[next_rand(&seed) % 3];
        unsigned int pick = next_rand(&seed) % 12, fault = next_rand(&seed) % 5 == 0;
        switch (pick) {
        case 0: snprintf(cmd, sizeof(cmd), "detach %s", d); break;
        case 1: snprintf(cmd, sizeof(cmd), "detach -d pci-stub %s %s", d, d2); break;
        case 2: snprintf(cmd, sizeof(cmd), "detach --group %s", d); break;
        case 3: snprintf(cmd, sizeof(cmd), "reattach %s", d); break;
        case 4: snprintf(cmd, sizeof(cmd), "reset --force %s", d); break;
        case 5: snprintf(cmd, sizeof(cmd), "sriov %s --numvfs %u", PF, next_rand(&seed) % 3); break;
        case 6: snprintf(cmd, sizeof(cmd), "acquire --vm %s --owner 7:8 %s", vm, d); break;
        case 7: snprintf(cmd, sizeof(cmd), "acquire --vm %s --owner 9:9 --group %s", vm, d); break;
        case 8: snprintf(cmd, sizeof(cmd), "acquire --vm %s --owner 7:8 --unmanaged %s", vm, d);
            break;
        case 9: snprintf(cmd, sizeof(cmd), "release --vm %s", vm); break;
        case 10: snprintf(cmd, sizeof(cmd), "release --force %s", d); break;
        default: snprintf(cmd, sizeof(cmd), "release --vm %s %s", vm, d); break;
        }
        if (fault) {
            /* One write of this command fails: the driver_override of one of its devices. */
            ck_assert_int_eq(fx_ctl(&cli.fx,
                                    "fault sys/bus/pci/devices/%s/driver_override EIO "
                                    "nth=1 count=1",
                                    d),
                             0);
        }
        if (!fault && next_rand(&seed) % 8 == 0) {
            /* Killed -9 if it hangs in an unbind from this driver; recover then. */
            static const char *const drivers[] = {"e1000e", "nouveau", "vfio-pci",
                                                  "snd_hda_intel", "ixgbe"};
            const char *drv = drivers[next_rand(&seed) % 5];
            snprintf(what, sizeof(what), "seed %u step %d '%s' killed in a %s unbind",
                     0x5eed0000u + (unsigned)_i, step, cmd, drv);
            run_killed(cmd, drv, what);
            check_invariants(what);
            continue;
        }
        int rc = hd("%s", cmd);
        ck_assert_int_eq(fx_ctl(&cli.fx, "clear-faults"), 0);
        snprintf(what, sizeof(what), "seed %u step %d '%s'%s -> %d (%s)",
                 0x5eed0000u + (unsigned)_i, step, cmd, fault ? " with a fault" : "", rc, cli.err);
        ck_assert_msg(rc >= 0 && rc <= 2, "%s", what);
        check_invariants(what);
    }
}
END_TEST
