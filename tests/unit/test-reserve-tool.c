/* test-reserve-tool.c - `hostdev reserve` (boot and --uevent, as udev runs it), `persist`,
 * `unpersist`, `persisted` and `cmdline` as a user meets them, on mounted fake kernels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "engine.h"
#include "hdtest.h"

#define NIC          "0000:03:00.0"
#define NIC_OVERRIDE "sys/bus/pci/devices/0000:03:00.0/driver_override"
#define GPU          "0000:01:00.0"
#define GPU_OVERRIDE "sys/bus/pci/devices/0000:01:00.0/driver_override"

static struct eng e;

/* Run `ENV hostdev --root ROOT ARGS`; its exit status, output in out/err. */
static int hd_env(const char *env, const char *args)
{
    char cmd[1024];

    free(e.out);
    free(e.err);
    snprintf(cmd, sizeof(cmd),
             "env -i PATH=/usr/bin:/bin HOSTDEV_NAMES=none %s %s/hostdev "
             "--root %s %s",
             env, at_build_dir(), e.fx.root, args);
    return at_run(cmd, &e.out, &e.err);
}

static int hd(const char *args)
{
    return hd_env("", args);
}

static void conf(const char *name, const char *text)
{
    char rel[256];
    FILE *f;

    mkdir(fx_path(&e.fx, "etc/hostdev.d"), 0755);
    snprintf(rel, sizeof(rel), "etc/hostdev.d/%s", name);
    f = fopen(fx_path(&e.fx, rel), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

#define ck_out_has(s)                                                                              \
    ck_assert_msg(strstr(e.out, (s)) != NULL, "'%s' not in stdout '%s'", (s), e.out)
#define ck_err_has(s)                                                                              \
    ck_assert_msg(strstr(e.err, (s)) != NULL, "'%s' not in stderr '%s'", (s), e.err)

/* The warning of a PF reserved for vfio-pci with a count of 2 (@cmd: the command), after the
 * line of the configuration it is about (@where, "FILE:LINE: "; "": the command's own), with
 * the count's line when it is another (@count_at, " (FILE:LINE)"). */
#define STUB_COUNT_WARNING_AT(cmd, where, pf, count_at)                                        \
    "hostdev " cmd ": warning: " where pf ": numvfs=2" count_at " with vfio-pci may leave it " \
    "without VFs: the count is set once the PF is on vfio-pci, which makes VFs only when "      \
    "loaded with enable_sriov=1; to give the VFs to VMs, keep the PF on its host driver "       \
    "(numvfs= alone) and reserve the VFs, or load vfio-pci with enable_sriov=1\n"
#define STUB_COUNT_WARNING(cmd, pf) STUB_COUNT_WARNING_AT(cmd, "", pf, "")
/* reserve's of 0000:03:00.1, configured by "0000:03:00.1 vfio-pci numvfs=2" in 10-pf.conf. */
#define PF_WARNING                                                                             \
    STUB_COUNT_WARNING_AT("reserve", "etc/hostdev.d/10-pf.conf:1: ", "0000:03:00.1", "")
/* persist's refusal of a PF it would bind to vfio-pci with a count while vfio-pci's enable_sriov
 * is N. */
#define STUB_COUNT_REFUSED(cmd, pf)                                                              \
    "hostdev " cmd ": " pf " goes to vfio-pci before its VF count is set, on vfio-pci, which "  \
    "changes a VF count only with its enable_sriov parameter set to Y "                         \
    "(/sys/module/vfio_pci/parameters/enable_sriov is N; load vfio-pci with enable_sriov=1, "   \
    "or write Y there)\n"

static void teardown(void)
{
    eng_stop(&e);
}

HD_TEST_FILE(.teardown = teardown, .timeout = 60);

HD_TEST(reserve_applies_the_configuration)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("reserve"), 0); /* nothing configured: nothing done */
    ck_assert_str_eq(e.out, "");
    ck_assert_uint_eq(eng_writes(&e), 0);
    conf("10-nic.conf", "# the NIC for the router VM\n03:00.0\n");
    /* The plan first: it changes nothing. */
    ck_assert_int_eq(hd("reserve --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n"
                            "  " NIC ": e1000e -> vfio-pci (etc/hostdev.d/10-nic.conf:2)\n");
    ck_assert_int_eq(hd("--json reserve --dry-run"), 0);
    ck_out_has("\"action\": \"reserve\"");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert(!fx_exists(&e.fx, "run/hostdev"));
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_str_eq(e.out, NIC ": e1000e -> vfio-pci (etc/hostdev.d/10-nic.conf:2)\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_out_has("reserved for vfio-pci already");
    ck_assert_int_eq(hd("--json reserve"), 0);
    ck_out_has("\"driver_override\": \"vfio-pci\"");
}
END_TEST

/* An empty plan says why it is empty, rather than a heading over nothing: nothing configured,
 * or only devices that are not here (reserved when they appear). */
HD_TEST(an_empty_dry_run_says_why)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("reserve --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n"
                            "  nothing: no device is configured (hostdev.d, hostdev.reserve=)\n");
    conf("10-gone.conf", "0000:7f:00.0\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n"
                            "  nothing now: no configured device is here (each is reserved when "
                            "it appears)\n");
    ck_assert_int_eq(hd("--json reserve --dry-run"), 0);
    ck_assert_str_eq(e.out, "[]\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* A VF count the PF has already is a line of the plan and of the run, as a device reserved
 * already is, not a heading over nothing; one set once the PF's driver binds is a line of the
 * plan, indented as the others are. */
HD_TEST(a_vf_count_set_already_is_said)
{
    eng_start(&e, "server-sriov");
    conf("sriov.conf", "0000:03:00.0 numvfs=8\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n"
                            "  0000:03:00.0: 8 virtual functions already "
                            "(etc/hostdev.d/sriov.conf:1)\n");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_str_eq(e.out,
                     "0000:03:00.0: 8 virtual functions already (etc/hostdev.d/sriov.conf:1)\n");
    ck_assert_int_eq(hd("persist 0000:03:00.0 --numvfs 8 --dry-run"), 0);
    ck_assert_str_eq(e.out,
                     "dry run: nothing changed; would persist 0000:03:00.0 numvfs=8 and do:\n"
                     "  0000:03:00.0: 8 virtual functions already (persist)\n");
    conf("sriov.conf", "0000:81:00.0 numvfs=2\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n"
                            "  0000:81:00.0: 2 virtual functions once its driver binds "
                            "(etc/hostdev.d/sriov.conf:1)\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* A VF count set by hand while a reservation sets another at boot lasts only until the next
 * boot: sriov says so, with the way to keep it (its plan too, and under --json). */
HD_TEST(sriov_says_the_boot_sets_another_count)
{
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 4"), 0);
    ck_assert_int_eq(hd("sriov 0000:03:00.1 2 --dry-run"), 0);
    ck_assert_str_eq(e.err,
                     "hostdev sriov: note: the boot sets 0000:03:00.1 to 4 virtual functions "
                     "again (etc/hostdev.d/persist-0000:03:00.1.conf:2): 'hostdev persist "
                     "0000:03:00.1 --numvfs 2' keeps this one\n");
    ck_assert_int_eq(hd("--json sriov 0000:03:00.1 2"), 0);
    ck_out_has("\"boot_numvfs\": {\n    \"numvfs\": 4,\n    \"file\": "
               "\"etc/hostdev.d/persist-0000:03:00.1.conf\",\n    \"line\": 2\n  }\n");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    /* The count the boot sets: nothing to say. An admin's own line is changed there. */
    ck_assert_int_eq(hd("sriov 0000:03:00.1 4"), 0);
    ck_assert_str_eq(e.err, "");
    conf("10-count.conf", "0000:03:00.0 numvfs=8\n");
    ck_assert_int_eq(hd("sriov 0000:03:00.0 1"), 0);
    ck_err_has("the boot sets 0000:03:00.0 to 8 virtual functions again "
               "(etc/hostdev.d/10-count.conf:1): change that line to keep this one\n");
    /* No count at boot: nothing either. */
    conf("10-count.conf", "# none\n");
    ck_assert_int_eq(hd("--json sriov 0000:03:00.0 2"), 0);
    ck_out_has("\"boot_numvfs\": null\n");
    ck_assert_str_eq(e.err, "");
}
END_TEST

/* A bad udev event is bad input (exit 2) naming PCI_SLOT_NAME, even with a bad line in the
 * configuration, whose skipped entries make any event that is applied exit 1; an interface's
 * name is no slot name. */
HD_TEST(a_bad_uevent_is_bad_input_whatever_the_configuration)
{
    eng_start(&e, "demo");
    conf("nic.conf", "8086:10d3 vfio\n");
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:06:0x.0",
                            "reserve --uevent"), 2);
    ck_assert_str_eq(e.err, "hostdev reserve: --uevent: PCI_SLOT_NAME '0000:06:0x.0' is no PCI "
                            "address (DDDD:BB:SS.F, as the kernel names the device)\n");
    ck_assert_int_eq(hd_env("ACTION=bind SUBSYSTEM=pci", "reserve --uevent"), 2);
    ck_assert_str_eq(e.err,
                     "hostdev reserve: --uevent: PCI_SLOT_NAME is not set (run from udev)\n");
    ck_assert_int_eq(
        hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=eth0", "--json reserve --uevent"), 2);
    ck_assert_str_eq(e.out, "");
    ck_err_has("\"error\":\"--uevent: PCI_SLOT_NAME 'eth0' is no PCI address");
    /* A good event with the bad line: the line is skipped, exit 1, as documented. */
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:03:00.0",
                            "reserve --uevent"), 1);
    ck_err_has("etc/hostdev.d/nic.conf:1: 'vfio' is neither a driver");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* unpersist of a device that an admin's own line or the kernel command line reserves, which
 * persisted lists: not "see persisted", but where the reservation is, to end it there. */
HD_TEST(unpersist_names_the_reservation_it_cannot_end)
{
    eng_start(&e, "demo");
    conf("10-nic.conf", "# mine\n0000:03:00.0 pci-stub\n");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 2);
    ck_assert_str_eq(e.err, "hostdev unpersist: 0000:03:00.0 is not persisted, but "
                            "etc/hostdev.d/10-nic.conf:2 reserves it: a line of the admin's own, "
                            "to be removed there\n");
    ck_assert_int_eq(hd("--json unpersist 03:00.0 --dry-run"), 2);
    ck_err_has("\"error\":\"0000:03:00.0 is not persisted, but etc/hostdev.d/10-nic.conf:2");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/10-nic.conf"));
    /* Reserved nowhere: as before. */
    ck_assert_int_eq(hd("unpersist 8086:10d3"), 2);
    ck_assert_str_eq(e.err,
                     "hostdev unpersist: 8086:10d3 is not persisted (see hostdev persisted)\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* An address that its ids reserve, persisted or an admin's line: those are named. */
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/10-nic.conf")), 0);
    ck_assert_int_eq(hd("persist 8086:10d3 --no-apply"), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0"), 2);
    ck_assert_str_eq(e.err, "hostdev unpersist: 0000:03:00.0 is not persisted by its address, "
                            "but etc/hostdev.d/persist-8086:10d3.conf:2 reserves it by its ids, "
                            "8086:10d3: those are what to unpersist\n");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-8086:10d3.conf"));
    conf("20-nvme.conf", "144d:a808\n");
    ck_assert_int_eq(hd("--json unpersist 02:00.0"), 2);
    ck_err_has("\"error\":\"0000:02:00.0 is not persisted by its address, but "
               "etc/hostdev.d/20-nvme.conf:1 reserves it by its ids, 144d:a808: a line of the "
               "admin's own, to be removed there\"");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* Under --json each configured device says what became of it: a refused one is not listed
 * as reserved, and a planned one names the stub it would get, as the text does. */
HD_TEST(reserve_json_tells_each_outcome)
{
    eng_start(&e, "demo");
    conf("10-nic.conf", "03:00.0\n00:00.0\n");
    ck_assert_int_eq(hd("--json reserve --keep-going --dry-run"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"address\": \"" NIC "\",\n    \"driver\": \"e1000e\",\n    "
               "\"driver_override\": null,\n    \"action\": \"reserve\",\n    "
               "\"reserve_for\": \"vfio-pci\",\n    \"outcome\": \"planned\"");
    ck_out_has("\"address\": \"0000:00:00.0\",\n    \"driver\": null,\n    "
               "\"driver_override\": null,\n    \"action\": \"reserve\",\n    "
               "\"reserve_for\": \"vfio-pci\",\n    \"outcome\": \"failed\",\n    "
               "\"error\": \"0000:00:00.0 is a host bridge: the host keeps it");
    ck_assert_int_eq(hd("--json reserve --keep-going"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"driver_override\": \"vfio-pci\",\n    \"action\": \"reserve\",\n    "
               "\"reserve_for\": \"vfio-pci\",\n    \"outcome\": \"done\"");
    ck_out_has("\"outcome\": \"failed\"");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    /* A bad line skipped, then a device refused: still one error object on stderr, every
     * error in it once, with the status the command exits with. */
    conf("10-nic.conf", "03:00.0 vfio\n02:00.0 numvfs=2\n00:00.0\n");
    ck_assert_int_eq(hd("--json reserve --keep-going"), 1);
    at_json_check(e.err, false);
    ck_assert_msg(
        strncmp(e.err, "{\"error\":\"etc/hostdev.d/10-nic.conf:1: 'vfio' is neither", 55) == 0,
        "%s", e.err);
    ck_assert_msg(strstr(e.err, "\"errors\":[\"etc/hostdev.d/10-nic.conf:1: ") != NULL &&
                      strstr(e.err,
                             "\"etc/hostdev.d/10-nic.conf:2: 0000:02:00.0 is not SR-IOV capable "
                             "(no sriov_totalvfs)\",\"etc/hostdev.d/10-nic.conf:3: 0000:00:00.0 "
                             "is a host bridge") != NULL,
                  "%s", e.err);
    ck_assert_msg(strstr(e.err, "\"exit\":1,\"command\":\"reserve\",\"hint\":null}\n") != NULL,
                  "%s", e.err);
    ck_assert_ptr_eq(strchr(e.err, '\n'), e.err + strlen(e.err) - 1);
}
END_TEST

/* A file that is no reservation file (a directory named .conf, one over 1 MiB) is an error
 * of the configuration naming it, as a bad line is: the boot (--keep-going) still applies
 * the other files, and the kernel command line's. */
HD_TEST(a_bad_file_leaves_the_others)
{
    eng_start(&e, "demo");
    conf("20-nic.conf", "03:00.0\n");
    ck_assert_int_eq(mkdir(fx_path(&e.fx, "etc/hostdev.d/10-old.conf"), 0755), 0);
    ck_assert_int_eq(hd("reserve"), 2);
    ck_err_has("etc/hostdev.d/10-old.conf: not a reservation file (a directory)");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_int_eq(hd("persisted"), 2);
    ck_out_has(NIC " vfio-pci");
    ck_assert_int_eq(hd("reserve --keep-going"), 1);
    ck_out_has(NIC ": e1000e -> vfio-pci (etc/hostdev.d/20-nic.conf:1)");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
}
END_TEST

/* A file that cannot be read (a disk's EIO) is named as a bad file is, and leaves the others:
 * the boot applies them (exit 1); plain reserve does nothing (exit 2). */
HD_TEST(an_unreadable_file_leaves_the_others)
{
    eng_start(&e, "demo");
    conf("10-old.conf", "00:00.0\n");
    conf("20-nic.conf", "03:00.0\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault etc/hostdev.d/10-old.conf EIO on=read count=0"), 0);
    ck_assert_int_eq(hd("reserve"), 2);
    ck_err_has("etc/hostdev.d/10-old.conf: Input/output error");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_int_eq(hd("reserve --keep-going"), 1);
    ck_err_has("etc/hostdev.d/10-old.conf: Input/output error");
    ck_out_has(NIC ": e1000e -> vfio-pci (etc/hostdev.d/20-nic.conf:1)");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
}
END_TEST

HD_TEST(reserve_refuses_a_broken_configuration)
{
    eng_start(&e, "demo");
    conf("10-nic.conf", "03:00.0\n04:00.0 vfio\n");
    ck_assert_int_eq(hd("reserve"), 2);
    ck_assert_str_eq(e.err, "hostdev reserve: etc/hostdev.d/10-nic.conf:2: 'vfio' is neither a "
                            "driver (vfio-pci, a vfio-pci variant, pci-stub), numvfs=N nor "
                            "noiommu\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* At boot the valid entries go on. */
    ck_assert_int_eq(hd("reserve --keep-going"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:04:00.0"), "");
    /* A bridge refused as it is applied, beside a bad line and a device that is reserved:
     * 1 (something changed), not 2 (which says nothing did). */
    ck_assert_int_eq(hd("reattach 03:00.0"), 0);
    conf("10-nic.conf", "03:00.0\n04:00.0 vfio\n00:1c.0\n");
    ck_assert_int_eq(hd("reserve --keep-going"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_err_has("0000:00:1c.0");
    ck_assert_int_eq(hd("reattach 03:00.0"), 0);
    conf("10-nic.conf", "03:00.0\n00:1c.0\n");
    ck_assert_int_eq(hd("reserve"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_int_eq(hd("reserve extra"), 2);
    ck_err_has("unexpected argument 'extra'");
    /* A junk file says so ten times, then how many more lines are wrong. */
    char junk[8192] = "";
    for (int i = 0; i < 500; i++)
        strcat(junk, "junk\n");
    conf("10-nic.conf", junk);
    ck_assert_int_eq(hd("reserve"), 2);
    size_t lines = 0;
    for (const char *c = e.err; *c; c++)
        lines += *c == '\n';
    ck_assert_uint_eq(lines, 11);
    ck_err_has("10-nic.conf: 490 more lines with errors not shown");
}
END_TEST

/* A device the run refuses is named with the line that configured it, as a bad line is: the
 * user mends that line. */
HD_TEST(reserve_names_the_line_of_a_refused_device)
{
    eng_start(&e, "demo");
    conf("50-t.conf", "03:00.0 vfio-pci\n00:01.0\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 1);
    ck_assert_str_eq(e.err, "hostdev reserve: etc/hostdev.d/50-t.conf:2: 0000:00:01.0 is a bridge "
                            "(header type 1), not an endpoint: it cannot be reserved for a VM\n");
    ck_assert_int_eq(hd("--json reserve --dry-run"), 1);
    ck_err_has("{\"error\":\"etc/hostdev.d/50-t.conf:2: 0000:00:01.0 is a bridge");
    /* A forceable refusal keeps its hint after the line. */
    conf("50-t.conf", "00:1f.0\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 1);
    ck_assert_str_eq(e.err, "hostdev reserve: etc/hostdev.d/50-t.conf:1: 0000:00:1f.0 is an ISA/LPC "
                            "bridge: the host keeps it (no VM needs it) (--force takes it "
                            "anyway)\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* A configuration that stops the run names every bad line at once, those the boot would refuse
 * too, as `persisted` does: the user mends them all in one go, and nothing is changed. */
HD_TEST(reserve_names_every_bad_line)
{
    eng_start(&e, "demo");
    conf("50-t.conf", "03:00.0 vfio\n00:01.0\n03:00.0\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 2);
    ck_assert_str_eq(e.err, "hostdev reserve: etc/hostdev.d/50-t.conf:1: 'vfio' is neither a "
                            "driver (vfio-pci, a vfio-pci variant, pci-stub), numvfs=N nor "
                            "noiommu\n"
                            "hostdev reserve: etc/hostdev.d/50-t.conf:2: 0000:00:01.0 is a bridge "
                            "(header type 1), not an endpoint: it cannot be reserved for a VM\n");
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(hd("reserve"), 2);
    ck_assert_str_eq(e.out, "");
    ck_err_has("50-t.conf:2: 0000:00:01.0 is a bridge");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_int_eq(hd("--json reserve"), 2);
    ck_err_has("\"errors\":[\"etc/hostdev.d/50-t.conf:1: 'vfio' is neither");
    ck_err_has("\"etc/hostdev.d/50-t.conf:2: 0000:00:01.0 is a bridge");
    /* The boot (--keep-going) still applies the rest, naming each bad line once. */
    ck_assert_int_eq(hd("reserve --keep-going"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_ptr_eq(strstr(strstr(e.err, "0000:00:01.0") + 1, "0000:00:01.0"), NULL);
}
END_TEST

/* reserve --force that stops for a line it cannot read named that line alone: the bridge it
 * refuses even forced came up only once the first was mended. Now it names every line it
 * would refuse, FILE:LINE, as a run without --force does, but not the platform function that
 * --force takes (the boot, which does not force, is told of it without --force); nothing is
 * changed. */
HD_TEST(reserve_force_names_every_line_it_would_refuse)
{
#define UNREAD                                                                                 \
    "etc/hostdev.d/50-t.conf:1: 'vfio' is neither a driver (vfio-pci, a vfio-pci variant, "    \
    "pci-stub), numvfs=N nor noiommu"
#define BRIDGE                                                                                 \
    "etc/hostdev.d/50-t.conf:2: 0000:00:01.0 is a bridge (header type 1), not an endpoint: it " \
    "cannot be reserved for a VM"

    eng_start(&e, "demo");
    conf("50-t.conf", "03:00.0 vfio\n00:01.0\n00:1f.0\n");
    ck_assert_int_eq(hd("reserve --force --dry-run"), 2);
    ck_assert_str_eq(e.err, "hostdev reserve: " UNREAD "\nhostdev reserve: " BRIDGE "\n");
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(hd("--json reserve --force"), 2);
    ck_assert_str_eq(e.err, "{\"error\":\"" UNREAD "\",\"errors\":[\"" UNREAD "\",\"" BRIDGE
                            "\"],\"exit\":2,\"command\":\"reserve\",\"hint\":null}\n");
    ck_assert_str_eq(e.out, "");
    /* Without --force the platform function is one more. */
    ck_assert_int_eq(hd("reserve"), 2);
    ck_err_has(BRIDGE "\nhostdev reserve: etc/hostdev.d/50-t.conf:3: 0000:00:1f.0 is an ISA/LPC "
               "bridge: the boot's reserve (which does not force) leaves it with the host\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:1f.0"), "lpc_ich");
#undef UNREAD
#undef BRIDGE
}
END_TEST

/* What the udev rule runs, with udev's environment. */
HD_TEST(reserve_uevent)
{
    eng_start(&e, "demo");
    conf("nic.conf", "8086:10d3\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:06:00.0 8086:10d3 class=020000 parent=root"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:06:00.0"), "e1000e"); /* the kernel probed first */
    /* Not ours: another subsystem, another action, a device nobody reserved. */
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=usb", "reserve --uevent"), 0);
    ck_assert_int_eq(
        hd_env("ACTION=remove SUBSYSTEM=pci PCI_SLOT_NAME=0000:06:00.0", "reserve --uevent"), 0);
    ck_assert_int_eq(
        hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:02:00.0", "reserve --uevent"), 0);
    /* Each one's dry run says why its plan is empty, and its JSON is an empty array. */
    ck_assert_int_eq(hd_env("ACTION=remove SUBSYSTEM=pci PCI_SLOT_NAME=0000:06:00.0",
                            "--dry-run reserve --uevent"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n"
                            "  nothing: not an event reserve acts on\n");
    ck_assert_int_eq(hd_env("ACTION=remove SUBSYSTEM=pci PCI_SLOT_NAME=0000:06:00.0",
                            "--json reserve --uevent"), 0);
    ck_assert_str_eq(e.out, "[]\n");
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:02:00.0",
                            "--dry-run reserve --uevent"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n  nothing: no "
                            "configured entry is for 0000:02:00.0 (hostdev.d, hostdev.reserve=)\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci", "reserve --uevent"), 2);
    ck_err_has("PCI_SLOT_NAME is not set");
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:06:0x.0",
                            "reserve --uevent"), 2);
    ck_err_has("0000:06:0x.0");
    /* Gone again before the rule ran: nothing to reserve, not an error for udev's log. */
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:07:00.0",
                            "reserve --uevent"), 0);
    ck_err_has("0000:07:00.0 is gone since its \"add\" event: nothing to reserve");
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:07:00.0",
                            "--json reserve --uevent"), 0);
    ck_assert_str_eq(e.out, "[]\n");
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:06:00.0 "
                            "PCI_ID=8086:10D3 DEVPATH=/devices/pci0000:00/0000:06:00.0",
                            "reserve --uevent"),
                     0);
    ck_assert_str_eq(e.out, "0000:06:00.0: e1000e -> vfio-pci (etc/hostdev.d/nic.conf:1)\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:06:00.0"), "vfio-pci");
    /* The device in the tree from the start is left to `hostdev reserve` at boot. */
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
}
END_TEST

/* An add event with the host driver's module not loaded yet: it never probes the device. */
HD_TEST(reserve_uevent_before_the_host_module)
{
    eng_start(&e, "iommu intel\n"
                  "driver e1000e ids=8086:10d3 unloaded\n"
                  "driver vfio-pci module=vfio_pci stub vfio\n"
                  "device 0000:00:02.0 8086:10d3 class=020000\n"
                  "cmdline \"ro quiet hostdev.reserve=0000:00:04.0\"\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:00:04.0 8086:10d3 class=020000"), 0);
    ck_assert_int_eq(
        hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:00:04.0", "reserve --uevent"), 0);
    ck_assert_str_eq(e.out, "0000:00:04.0: unbound -> vfio-pci (proc/cmdline)\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe e1000e"), 0); /* 80-drivers.rules, later */
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:04.0"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:02.0"), "e1000e");
    ck_assert_uint_eq(fx_log_count(&e.fx, "0000:00:04.0 e1000e"), 0); /* never bound, nor probed */
    /* Never probed, it had no driver yet: given back, it gets the one the kernel binds. */
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/0000:00:04.0"), "*");
    ck_assert_int_eq(hd("reattach 0000:00:04.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:04.0"), "e1000e");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/0000:00:04.0"));
}
END_TEST

HD_TEST(reserve_sets_persisted_vf_counts)
{
    eng_start(&e, "server-sriov");
    conf("sriov.conf", "0000:03:00.1 numvfs=2\n8086:10ed\n");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_out_has("0000:03:00.1: 2 virtual functions (was 0;");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    /* The VFs (8086:10ed) are reserved by ids, the new ones and the eight of port 0. */
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.1"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "ixgbe");
    /* udev's "bind" event of a PF whose driver just came. */
    ck_assert_int_eq(hd_env("ACTION=bind SUBSYSTEM=pci PCI_SLOT_NAME=0000:03:00.1 DRIVER=ixgbe",
                            "reserve --uevent"),
                     0);
    ck_assert_str_eq(e.out,
                     "0000:03:00.1: 2 virtual functions already (etc/hostdev.d/sriov.conf:1)\n");
}
END_TEST

/* A dry run promises what the run does to the VFs a count change removes and makes, though
 * the new ones cannot be planned as devices: port 0 goes from 8 VFs to 2 (through 0). */
HD_TEST(reserve_dry_run_plans_the_vfs_of_a_count)
{
#define GONE(a) "    0000:03:" a ": removed with the count (was on ixgbevf)\n"
    eng_start(&e, "server-sriov");
    conf("sriov.conf", "0000:03:00.0 numvfs=2\n0000:03:10.2 vfio-pci\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 0);
    ck_assert_str_eq(
        e.out,
        "dry run: nothing changed; reserve would do:\n"
        "  0000:03:00.0: 2 virtual functions (was 8; etc/hostdev.d/sriov.conf:1)\n" GONE("10.0")
            GONE("10.2") GONE("10.4") GONE("10.6") GONE("11.0") GONE("11.2") GONE("11.4")
                GONE("11.6") "    0000:03:10.0: made, left unbound\n"
                             "    0000:03:10.2: made, unbound -> vfio-pci "
                             "(etc/hostdev.d/sriov.conf:2)\n");
    ck_assert_int_eq(hd("--json reserve --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"address\": \"0000:03:00.0\",\n    \"action\": \"numvfs\",\n    \"numvfs\": 2,\n"
               "    \"previous_numvfs\": 8");
    ck_out_has("\"address\": \"0000:03:11.6\",\n    \"action\": \"remove_vf\",\n"
               "    \"driver\": \"ixgbevf\"");
    ck_out_has("\"address\": \"0000:03:10.2\",\n    \"action\": \"make_vf\",\n"
               "    \"reserve_for\": \"vfio-pci\",\n    \"ids_known\": true");
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* The run does what was promised, and says so in the same words, then binds. */
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_str_eq(
        e.out,
        "0000:03:00.0: 2 virtual functions (was 8; etc/hostdev.d/sriov.conf:1)\n" GONE("10.0")
            GONE("10.2") GONE("10.4") GONE("10.6") GONE("11.0") GONE("11.2") GONE("11.4")
                GONE("11.6") "    0000:03:10.0: made, left unbound\n"
                             "    0000:03:10.2: made, unbound -> vfio-pci "
                             "(etc/hostdev.d/sriov.conf:2)\n"
                             "0000:03:10.2: unbound -> vfio-pci (etc/hostdev.d/sriov.conf:2)\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "");
    ck_assert(!fx_exists(&e.fx, "sys/bus/pci/devices/0000:03:10.4"));
    /* From none: VFs made, taken by an ids entry. */
    conf("sriov.conf", "0000:03:00.1 numvfs=1\n8086:10ed pci-stub\n");
    ck_assert_int_eq(hd("reattach 0000:03:10.2"), 0);
    ck_assert_int_eq(hd("reserve --dry-run"), 0);
    ck_out_has("  0000:03:00.1: 1 virtual functions (was 0; etc/hostdev.d/sriov.conf:1)\n"
               "    0000:03:10.1: made, unbound -> pci-stub (etc/hostdev.d/sriov.conf:2)\n");
    /* Its --json as the run's: the VFs made, as the plan's. */
    ck_assert_int_eq(hd("--json reserve --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"address\": \"0000:03:10.1\",\n    \"action\": \"make_vf\",\n"
               "    \"reserve_for\": \"pci-stub\",\n    \"ids_known\": true");
    ck_assert_int_eq(hd("--json reserve"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"address\": \"0000:03:00.1\",\n    \"action\": \"numvfs\",\n    \"numvfs\": 1,\n"
               "    \"previous_numvfs\": 0");
    ck_out_has("\"address\": \"0000:03:10.1\",\n    \"action\": \"make_vf\",\n"
               "    \"reserve_for\": \"pci-stub\",\n    \"ids_known\": true");
    /* Removed VFs are told by the run too, with the driver each was on (this one waits for
     * pci-stub, which this host has not loaded). */
    conf("sriov.conf", "0000:03:00.1 numvfs=0\n");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_str_eq(e.out,
                     "0000:03:00.1: 0 virtual functions (was 1; etc/hostdev.d/sriov.conf:1)\n"
                     "    0000:03:10.1: removed with the count (was unbound)\n");
    conf("sriov.conf", "0000:03:00.1 numvfs=1\n");
    ck_assert_int_eq(hd("reserve"), 0);
    conf("sriov.conf", "0000:03:00.1 numvfs=0\n");
    ck_assert_int_eq(hd("--json reserve"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"address\": \"0000:03:10.1\",\n    \"action\": \"remove_vf\",\n"
               "    \"driver\": null");
    ck_assert(!fx_exists(&e.fx, "sys/bus/pci/devices/0000:03:10.1"));
    conf("sriov.conf", "0000:03:00.1 numvfs=1\n8086:10ed pci-stub\n");
    /* persist plans them too: it binds none (its entry selects the PF alone), but says the
     * ids entry that reserves the new VF, which its udev event applies. */
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("persist --numvfs 1 0000:03:00.0 --dry-run"), 0);
    ck_out_has("  0000:03:00.0: 1 virtual functions (was 2; persist)\n"
               "    0000:03:10.0: removed with the count (was unbound)\n"
               "    0000:03:10.2: removed with the count (was unbound)\n"
               "    0000:03:10.0: made, unbound; reserved for pci-stub "
               "(etc/hostdev.d/sriov.conf:2): hostdev's udev rule binds it as it appears, and "
               "so does every boot\n");
    ck_assert_int_eq(hd("--json persist --numvfs 1 0000:03:00.0 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"vfs\": [\n    {\n      \"address\": \"0000:03:10.0\",\n      \"action\": "
               "\"remove_vf\"");
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* The run's document says the same of them. */
    ck_assert_int_eq(hd("--json persist --numvfs 1 0000:03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"vfs\": [\n    {\n      \"address\": \"0000:03:10.0\",\n      \"action\": "
               "\"remove_vf\"");
    ck_out_has("\"address\": \"0000:03:10.0\",\n      \"action\": \"make_vf\",\n"
               "      \"reserve_for\": \"pci-stub\",\n      \"ids_known\": true");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs"), "1");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "");
#undef GONE
}
END_TEST

/* Several lines naming one device: persisted marks those the boot ignores, with the line it
 * applies instead, and doctor warns of a duplicate address entry. */
HD_TEST(persisted_marks_overridden_entries)
{
    eng_start(&e, "demo");
    conf("10-nic.conf", NIC "\n03:00.0 pci-stub\n8086:10d3 vfio-pci\n");
    conf("20-nic.conf", NIC " vfio-pci\n");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_assert_str_eq(e.out, NIC " vfio-pci                etc/hostdev.d/10-nic.conf:1  "
                                "(overridden by etc/hostdev.d/20-nic.conf:1)\n" NIC
                                " pci-stub                etc/hostdev.d/10-nic.conf:2  "
                                "(overridden by etc/hostdev.d/20-nic.conf:1)\n"
                                "8086:10d3 vfio-pci                   etc/hostdev.d/10-nic.conf:3  "
                                "(overridden for " NIC " by etc/hostdev.d/20-nic.conf:1)\n" NIC
                                " vfio-pci                etc/hostdev.d/20-nic.conf:1\n");
    ck_assert_int_eq(hd("--json persisted"), 0);
    ck_out_has("\"line\": 2,\n    \"refused\": null,\n    \"overridden_by\": "
               "\"etc/hostdev.d/20-nic.conf:1\",\n    \"overridden_for\": null");
    ck_out_has("\"line\": 3,\n    \"refused\": null,\n    \"overridden_by\": "
               "\"etc/hostdev.d/20-nic.conf:1\",\n    \"overridden_for\": \"" NIC "\"");
    ck_out_has("\"file\": \"etc/hostdev.d/20-nic.conf\",\n    \"line\": 1,\n    "
               "\"refused\": null,\n    \"overridden_by\": null");
    hd("--json doctor");
    ck_out_has("\"code\": \"reserved-entry-overridden\"");
    ck_out_has(NIC " is named by more than one reservation: etc/hostdev.d/10-nic.conf:2 is "
               "overridden by etc/hostdev.d/20-nic.conf:1");
    /* None at all: said, as assignments and mdev defined say theirs; JSON an empty array. */
    conf("10-nic.conf", "");
    conf("20-nic.conf", "");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_assert_str_eq(e.out, "no reservations are configured for boot\n");
    ck_assert_int_eq(hd("--json persisted"), 0);
    ck_assert_str_eq(e.out, "[]\n");
    /* One line per device: nothing overridden, nothing warned. */
    conf("10-nic.conf", "");
    conf("20-nic.conf", "8086:10d3 vfio-pci\n");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_assert_ptr_null(strstr(e.out, "overridden"));
    hd("doctor");
    ck_assert_ptr_null(strstr(e.out, "more than one reservation"));
}
END_TEST

/* A bad line the boot skips may have been meant for the device: `show` says so rather than a
 * bare "not reserved", and beside a good line that reserves it. */
HD_TEST(show_says_a_bad_line_naming_it_is_skipped)
{
    eng_start(&e, "demo");
    conf("10-nic.conf", NIC " vfio\n");
    ck_assert_int_eq(hd("show " NIC), 0);
    ck_out_has("at boot:         not reserved: a line that may name it is skipped as bad: "
               "etc/hostdev.d/10-nic.conf:1: 'vfio' is neither a driver");
    ck_assert_int_eq(hd("--json show " NIC), 0);
    ck_out_has("\"skipped\": \"etc/hostdev.d/10-nic.conf:1: 'vfio' is neither a driver");
    /* Another device's bad line is not this one's. */
    ck_assert_int_eq(hd("show " GPU), 0);
    ck_out_has("at boot:         not reserved\n");
    ck_assert_int_eq(hd("--json show " GPU), 0);
    ck_out_has("\"skipped\": null");
    conf("20-nic.conf", NIC " vfio-pci\n");
    ck_assert_int_eq(hd("show " NIC), 0);
    ck_out_has("at boot:         reserved for vfio-pci (etc/hostdev.d/20-nic.conf:1); skipped as "
               "bad: etc/hostdev.d/10-nic.conf:1: 'vfio' is neither a driver");
}
END_TEST

/* What the boot would refuse, `persisted` and `show` say it would, with the words the
 * boot's refusal has; the entry is still listed, marked. */
HD_TEST(persisted_says_what_the_boot_refuses)
{
    eng_start(&e, "server-sriov");
    conf("sriov.conf", "0000:03:00.1 numvfs=99\n0000:03:00.0 numvfs=4\n");
    ck_assert_int_eq(hd("persisted"), 2);
    ck_assert_str_eq(e.out, "0000:03:00.1 numvfs=99               etc/hostdev.d/sriov.conf:1  "
                            "(refused at boot)\n"
                            "0000:03:00.0 numvfs=4                etc/hostdev.d/sriov.conf:2\n");
    ck_assert_str_eq(e.err, "hostdev persisted: etc/hostdev.d/sriov.conf:1: 0000:03:00.1 supports "
                            "at most 63 VFs (sriov_totalvfs), not 99\n");
    ck_assert_int_eq(hd("--json persisted"), 2);
    ck_out_has("\"line\": 1,\n    \"refused\": \"0000:03:00.1 supports at most 63 VFs");
    ck_out_has("\"line\": 2,\n    \"refused\": null");
    ck_assert_int_eq(hd("show 03:00.1"), 0);
    ck_out_has("at boot:         VF count 99 (etc/hostdev.d/sriov.conf:1); refused at boot: "
               "0000:03:00.1 supports at most 63 VFs (sriov_totalvfs), not 99\n");
    ck_assert_int_eq(hd("--json show 03:00.1"), 0);
    ck_out_has("\"numvfs_refused\": \"0000:03:00.1 supports at most 63 VFs");
    /* The boot refuses it so, and applies the other. */
    ck_assert_int_eq(hd("reserve"), 1);
    ck_err_has("0000:03:00.1 supports at most 63 VFs (sriov_totalvfs), not 99");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs"), "4");
    /* Fine entries are no error. */
    conf("sriov.conf", "0000:03:00.0 numvfs=4\n");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_assert_str_eq(e.err, "");
}
END_TEST

/* An ids entry refused for several devices names each of them (the first with its reason),
 * up to a few, then how many more: persisted and show of the boot's refusal, and persist's own
 * (which refused the file alone without a word). */
HD_TEST(persisted_names_every_device_an_ids_entry_refuses)
{
    eng_start(&e, "server-sriov"); /* two bridges 8086:2032: 00:02.0 and 80:02.0 */
    conf("bridges.conf", "8086:2032 vfio-pci\n");
    ck_assert_int_eq(hd("persisted"), 2);
    ck_assert_str_eq(e.err, "hostdev persisted: etc/hostdev.d/bridges.conf:1: 0000:00:02.0 is a "
                            "bridge (header type 1), not an endpoint: it cannot be reserved for a "
                            "VM; refused too: 0000:80:02.0\n");
    ck_assert_int_eq(hd("show 80:02.0"), 0);
    ck_out_has("refused at boot: 0000:00:02.0 is a bridge (header type 1), not an endpoint: it "
               "cannot be reserved for a VM; refused too: 0000:80:02.0\n");
    /* persist of those ids says the same, and leaves no file, the file alone (--no-apply)
     * too: the boot would refuse it. */
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/bridges.conf")), 0);
    ck_assert_int_eq(hd("persist 8086:2032"), 2);
    ck_assert_str_eq(e.err, "hostdev persist: 0000:00:02.0 is a bridge (header type 1), not an "
                            "endpoint: it cannot be reserved for a VM; refused too: "
                            "0000:80:02.0\n");
    ck_assert_int_eq(hd("persist 8086:2032 --no-apply"), 2);
    ck_err_has("it cannot be reserved for a VM; refused too: 0000:80:02.0\n");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-8086:2032.conf"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    conf("bridges.conf", "8086:2032 vfio-pci\n");
    /* Seven of them: four named beside the first, then how many more. */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:00:%02x.0 8086:2032 class=060400", 0x10 + i), 0);
    ck_assert_int_eq(hd("persisted"), 2);
    ck_err_has("it cannot be reserved for a VM; refused too: 0000:00:10.0, 0000:00:11.0, "
               "0000:00:12.0, 0000:00:13.0 and 2 more\n");
}
END_TEST

/* What the boot skips (a bad line, a bad hostdev.reserve= word) or refuses (a count above
 * sriov_totalvfs, a stub for a bridge) leaves a device meant for a VM with the host: doctor
 * says so, naming the line, rather than "no problems found". */
HD_TEST(doctor_warns_of_what_the_boot_skips_or_refuses)
{
    eng_start(&e, "server-sriov");
    conf("10-bad.conf", "0000:03:10.2 vfio\n0000:03:00.1 numvfs=99\n0000:00:02.0 vfio-pci\n");
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("warning: the reservations the boot reads have an error: "
               "etc/hostdev.d/10-bad.conf:1: 'vfio' is\n  neither a driver");
    ck_out_has("warning 0000:03:00.1: the boot refuses the reservation of "
               "etc/hostdev.d/10-bad.conf:2: 0000:03:00.1\n  supports at most 63 VFs");
    ck_out_has("  fix: mend or remove the entry (etc/hostdev.d/10-bad.conf:2)\n");
    ck_out_has("warning 0000:00:02.0: the boot refuses the reservation of "
               "etc/hostdev.d/10-bad.conf:3:");
    ck_assert_int_eq(hd("--json doctor"), 1);
    ck_out_has("\"code\": \"reserve-config-error\",\n      \"device\": null");
    ck_out_has("\"code\": \"reserved-refused-at-boot\",\n      \"device\": \"0000:03:00.1\"");
    /* Mended, nothing is said of it. */
    conf("10-bad.conf", "0000:03:10.2 vfio-pci\n0000:03:00.0 numvfs=8\n");
    ck_assert_int_eq(hd("doctor"), 0);
    ck_assert(strstr(e.out, "10-bad.conf") == NULL);
}
END_TEST

/* Two GPUs, each in an IOMMU group with its audio function (the first also with a USB
 * controller), for doctor's advice on what the boot leaves of a group. */
#define TWO_GPU_GROUPS                                                                             \
    "iommu intel\n"                                                                               \
    "driver nouveau ids=10de:1b81\ndriver snd_hda_intel ids=10de:10f0\n"                          \
    "driver xhci_hcd module=xhci_pci class=0c0330\ndriver vfio-pci module=vfio_pci stub vfio\n"    \
    "device 0000:01:00.0 10de:1b81 class=030000 parent=root group=1 driver=nouveau\n"            \
    "device 0000:01:00.1 10de:10f0 class=040300 parent=root group=1 driver=snd_hda_intel\n"      \
    "device 0000:01:00.2 10de:1ad6 class=0c0330 parent=root group=1 driver=xhci_hcd\n"           \
    "device 0000:02:00.0 10de:1b81 class=030000 parent=root group=2 driver=nouveau\n"            \
    "device 0000:02:00.1 10de:10f0 class=040300 parent=root group=2 driver=snd_hda_intel\n"
#define GROUP1_PERSIST "hostdev persist 0000:01:00.1 0000:01:00.2"
#define GROUP2_PERSIST "hostdev persist 0000:02:00.1"

/* Run, as a user pastes it, the first command (its `run:` line) doctor's text gives for
 * @dev's group that is not viable: `hostdev` there is this build on the fake root. Its exit
 * status. */
static int run_group_command(const char *dev)
{
    char args[128], line[1024], cmd[2048];
    const char *at, *run;
    size_t len;

    snprintf(args, sizeof(args), "doctor %s", dev);
    hd(args);
    ck_assert_msg((at = strstr(e.out, "is not viable")) != NULL, "not so in '%s'", e.out);
    ck_assert_msg((run = strstr(at, "\n  run: ")) != NULL, "no command in '%s'", e.out);
    run += strlen("\n  run: ");
    len = strcspn(run, "\n");
    ck_assert_uint_lt(len, sizeof(line));
    memcpy(line, run, len);
    line[len] = '\0';
    snprintf(cmd, sizeof(cmd), "hostdev() { env -i PATH=/usr/bin:/bin HOSTDEV_NAMES=none "
             "%s/hostdev --root %s \"$@\"; }; %s", at_build_dir(), e.fx.root, line);
    free(e.out);
    free(e.err);
    return at_run(cmd, &e.out, &e.err);
}

/* A persisted GPU whose group's other members the boot leaves with the host: doctor gives the
 * persist command that fixes it for good (one for all of them, all or nothing), before
 * the group's detach, which lasts only until the next boot; run as printed, it leaves doctor
 * nothing to say of that group. */
HD_TEST(doctor_gives_the_persist_command_the_boot_needs)
{
    eng_start(&e, TWO_GPU_GROUPS);
    ck_assert_int_eq(hd("persist 0000:01:00.0"), 0);
    ck_assert_int_eq(hd("persist 0000:02:00.0"), 0);
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("  run: " GROUP1_PERSIST "\n"
               "   or: hostdev detach --group 0000:01:00.0\n"
               "   or: hostdev acquire --vm ID --group 0000:01:00.0\n");
    ck_out_has("  run: " GROUP2_PERSIST "\n"
               "   or: hostdev detach --group 0000:02:00.0\n");
    ck_assert_int_eq(hd("--json doctor"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"commands\": [\n        \"" GROUP1_PERSIST "\",\n"
               "        \"hostdev detach --group 0000:01:00.0\",\n");
    ck_assert_int_eq(run_group_command("0000:01:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.2"), "vfio-pci");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.2.conf"));
    ck_assert_int_eq(hd("doctor"), 1); /* group 2's still */
    ck_assert(strstr(e.out, "group 1 ") == NULL);
    ck_assert(strstr(e.out, "persist 0000:01:00.1") == NULL);
    ck_out_has("  run: " GROUP2_PERSIST "\n");
    ck_assert_int_eq(run_group_command("0000:02:00.0"), 0);
    ck_assert_int_eq(hd("doctor"), 0);
    ck_assert(strstr(e.out, "not viable") == NULL);
}
END_TEST

/* Several devices in one persist: each gets its file and its stub now, and the plan, the text
 * and the JSON document name every one. */
HD_TEST(persist_takes_several_devices)
{
    eng_start(&e, TWO_GPU_GROUPS);
    ck_assert_int_eq(hd("persist --dry-run 0000:01:00.1 0000:01:00.2"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would persist 0000:01:00.1 vfio-pci, "
                            "0000:01:00.2 vfio-pci and do:\n"
                            "  0000:01:00.1: snd_hda_intel -> vfio-pci (persist)\n"
                            "  0000:01:00.2: xhci_hcd -> vfio-pci (persist)\n");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.1.conf"));
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "snd_hda_intel");
    ck_assert_int_eq(hd("persist 0000:01:00.1 0000:01:00.2"), 0);
    ck_assert_str_eq(e.out, "0000:01:00.1: snd_hda_intel -> vfio-pci (persist)\n"
                            "0000:01:00.2: xhci_hcd -> vfio-pci (persist)\n"
                            "persisted: 0000:01:00.1 vfio-pci\n"
                            "persisted: 0000:01:00.2 vfio-pci\n");
    /* The GPU is still with nouveau: one note, naming it alone, not 0000:01:00.2, which the
     * second entry took after the first's operation found it in the way. */
    ck_assert_str_eq(e.err, "hostdev persist: note: IOMMU group 1 is not viable yet, a VM "
                            "cannot use 0000:01:00.1: 0000:01:00.0 is bound to nouveau. Persist "
                            "it too, or every boot leaves the group so.\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.2"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "etc/hostdev.d/persist-0000:01:00.2.conf"),
                     "# Written by `hostdev persist`; `hostdev unpersist` removes it.\n"
                     "0000:01:00.2 vfio-pci");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.1.conf"));
    ck_assert_int_eq(hd("--json persist 0000:02:00.0 0000:02:00.1"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"entries\": [\n    \"0000:02:00.0 vfio-pci\",\n    \"0000:02:00.1 vfio-pci\"\n"
               "  ],\n");
    ck_out_has("\"device\": \"0000:02:00.0\",\n      \"from\": \"nouveau\"");
    ck_out_has("\"device\": \"0000:02:00.1\",\n      \"from\": \"snd_hda_intel\"");
    ck_out_has("\"unviable\": []");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:02:00.1"), "vfio-pci");
}
END_TEST

/* Bad input anywhere in the list (a word that is no device, a device not there, one given
 * twice, a VF count for several) is named, exit 2, and no file is written, no device moved. */
HD_TEST(persist_of_several_with_one_bad_changes_nothing)
{
    static const char *const bad[][2] = {
        {"0000:01:00.1 0000:01:00.2 bogus", "hostdev persist: invalid device 'bogus'"},
        {"0000:01:00.1 0000:07:00.0",
         "hostdev persist: 0000:07:00.0: no such PCI device under "},
        {"0000:01:00.1 01:00.1", "hostdev persist: 0000:01:00.1: given twice\n"},
        {"0000:01:00.1 0000:01:00.2 --numvfs 2",
         "hostdev persist: --numvfs counts the VFs of one PF: give its address alone\n"},
        {"--json 0000:01:00.1 0000:07:00.0",
         "\"error\":\"0000:07:00.0: no such PCI device under "},
    };
    char args[256];

    eng_start(&e, TWO_GPU_GROUPS);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(args, sizeof(args), "persist %s", bad[i][0]);
        ck_assert_msg(hd(args) == 2, "%s: %s", args, e.err);
        ck_err_has(bad[i][1]);
        ck_assert_str_eq(e.out, "");
        ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.1.conf"));
        ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "snd_hda_intel");
        ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.2"), "xhci_hcd");
    }
}
END_TEST

/* A PF taken off its driver and a VF of it, in one persist: the PF's driver letting go
 * destroys the VF, so it is one or the other (bad input, as detach and acquire say), in
 * either order, not a plan whose VF step never runs and a file for a VF that is gone. A PF
 * on vfio-pci already keeps its VFs: no refusal then. */
HD_TEST(persist_of_a_pf_with_its_own_vf_is_refused)
{
    static const char *const args[] = {"persist 03:00.0 03:10.0 --force",
                                       "persist 03:10.0 03:00.0 --force --dry-run",
                                       "--json persist 03:10.0 03:00.0 --force"};

    eng_start(&e, "server-sriov");
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
        ck_assert_msg(hd(args[i]) == 2, "%s: %s", args[i], e.err);
        ck_err_has("0000:03:10.0 is a VF of 0000:03:00.0, and reserving it for another driver "
                   "destroys its VFs");
        ck_assert_str_eq(e.out, "");
        ck_assert_int_eq(fx_log_count(&e.fx, "write "), 0);
        ck_assert(!fx_exists(&e.fx, "etc/hostdev.d"));
        ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "ixgbevf");
    }
    /* The files alone change nothing now: the boot's warning says the rest. */
    ck_assert_int_eq(hd("persist 03:00.0 03:10.0 --no-apply"), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0 03:10.0 --no-apply"), 0);
    ck_assert_int_eq(hd("sriov 03:00.0 0"), 0);
    ck_assert_int_eq(hd("detach 03:00.0"), 0);
    fx_ctl(&e.fx, "param vfio_pci enable_sriov Y");
    ck_assert_msg(hd("sriov 03:00.0 2") == 0, "%s", e.err);
    ck_assert_int_eq(hd("persist 03:00.0 03:10.0 --dry-run"), 0);
}
END_TEST

/* The second device's reservation fails (the fake kernel's EIO on its driver_override): the
 * first, reserved already, is given back with its override, its file put back as it was (an
 * older one of its own), the second's never left; exit 1 and only the error said. A device
 * that was on its stub before stays there. */
HD_TEST(persist_of_several_that_fails_leaves_none)
{
#define OLD_FILE "etc/hostdev.d/persist-0000:01:00.1.conf"
    eng_start(&e, TWO_GPU_GROUPS);
    conf("persist-0000:01:00.1.conf", "0000:01:00.1 pci-stub\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:01:00.2/driver_override "
                                   "EIO nth=1 count=1"), 0);
    ck_assert_int_eq(hd("persist 0000:01:00.1 0000:01:00.2"), 1);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err, "hostdev persist: 0000:01:00.2: writing driver_override failed: "
                            "Input/output error\n");
    ck_assert_str_eq(fx_read(&e.fx, OLD_FILE), "0000:01:00.1 pci-stub");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.2.conf"));
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "snd_hda_intel");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:01:00.1/driver_override"),
                     "(null)");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.2"), "xhci_hcd");
    /* One on its stub already (detached before) is where it was: only what moved goes back. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd("detach 0000:01:00.1"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:01:00.2/driver_override "
                                   "EIO nth=1 count=1"), 0);
    ck_assert_int_eq(hd("persist 0000:01:00.0 0000:01:00.1 0000:01:00.2"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "nouveau");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "vfio-pci");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.0.conf"));
    ck_assert_str_eq(fx_read(&e.fx, OLD_FILE), "0000:01:00.1 pci-stub");
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd("persist 0000:01:00.1 0000:01:00.2"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.2"), "vfio-pci");
#undef OLD_FILE
}
END_TEST

/* Several devices in one unpersist: the plan names them all and gives them back in one
 * operation, their files go, and the JSON document lists every entry. */
HD_TEST(unpersist_takes_several_devices)
{
    eng_start(&e, TWO_GPU_GROUPS);
    ck_assert_int_eq(hd("persist 0000:01:00.1 0000:01:00.2"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("unpersist --dry-run 01:00.1 0000:01:00.2"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would unpersist 0000:01:00.1, "
                            "0000:01:00.2 and do:\n"
                            "  0000:01:00.1: vfio-pci -> snd_hda_intel\n"
                            "  0000:01:00.2: vfio-pci -> xhci_hcd\n");
    ck_assert_int_eq(hd("--json unpersist --dry-run 01:00.1 0000:01:00.2"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"unpersisted\": \"0000:01:00.1\",\n  \"give_back\": true,\n  \"entries\": [\n"
               "    \"0000:01:00.1\",\n    \"0000:01:00.2\"\n  ],\n");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.1.conf"));
    ck_assert_int_eq(hd("unpersist 01:00.1 0000:01:00.2"), 0);
    ck_assert_str_eq(e.out, "unpersisted: 0000:01:00.1\nunpersisted: 0000:01:00.2\n"
                            "0000:01:00.1: vfio-pci -> snd_hda_intel\n"
                            "0000:01:00.2: vfio-pci -> xhci_hcd\n");
    ck_assert_str_eq(e.err, "");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.1.conf"));
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.2.conf"));
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "snd_hda_intel");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.2"), "xhci_hcd");
    /* --no-apply: the files alone, both. */
    ck_assert_int_eq(hd("persist 0000:02:00.0 0000:02:00.1"), 0);
    ck_assert_int_eq(hd("unpersist --no-apply 02:00.0 02:00.1"), 0);
    ck_assert_str_eq(e.out, "unpersisted: 0000:02:00.0\nunpersisted: 0000:02:00.1\n");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:02:00.1.conf"));
    ck_assert_str_eq(fx_driver(&e.fx, "0000:02:00.1"), "vfio-pci");
}
END_TEST

/* The entries of one unpersist are planned as one: a device two of them reserve (by ids and by
 * address) goes back, the plan too, rather than being held by the other file going with it. */
HD_TEST(unpersist_plans_the_entries_as_one)
{
    eng_start(&e, TWO_GPU_GROUPS);
    ck_assert_int_eq(hd("persist 10de:10f0"), 0);
    ck_assert_int_eq(hd("persist 0000:01:00.1"), 0);
    ck_assert_int_eq(hd("unpersist --dry-run 0000:01:00.1 10de:10f0"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would unpersist 0000:01:00.1, 10de:10f0 "
                            "and do:\n"
                            "  0000:01:00.1: vfio-pci -> snd_hda_intel\n"
                            "  0000:02:00.1: vfio-pci -> snd_hda_intel\n");
    ck_assert_int_eq(hd("unpersist 0000:01:00.1 10de:10f0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "snd_hda_intel");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:02:00.1"), "snd_hda_intel");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-10de:10f0.conf"));
}
END_TEST

/* The second device cannot go back (the fake kernel's EIO on its driver_override): the first,
 * given back already, is back on its stub, every file is there again, exit 1. One not
 * persisted, or given twice, is named (as typed or not), exit 2, nothing changed. */
HD_TEST(unpersist_of_several_that_fails_leaves_all)
{
    eng_start(&e, TWO_GPU_GROUPS);
    ck_assert_int_eq(hd("persist 0000:01:00.1 0000:01:00.2"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("unpersist 0000:01:00.1 02:00.0"), 2);
    ck_assert_str_eq(e.err, "hostdev unpersist: 0000:02:00.0 is not persisted (see hostdev "
                            "persisted)\n");
    ck_assert_int_eq(hd("--json unpersist 0000:01:00.1 02:00.0"), 2);
    ck_err_has("{\"error\":\"0000:02:00.0 is not persisted");
    ck_assert_int_eq(hd("unpersist 0000:01:00.1 01:00.1"), 2);
    ck_assert_str_eq(e.err, "hostdev unpersist: 0000:01:00.1: given twice\n");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:01:00.2/driver_override "
                                   "EIO nth=1 count=1"), 0);
    ck_assert_int_eq(hd("unpersist 0000:01:00.1 0000:01:00.2"), 1);
    ck_assert_str_eq(e.out, "");
    ck_err_has("0000:01:00.2: writing driver_override failed");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.2"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "etc/hostdev.d/persist-0000:01:00.1.conf"),
                     "# Written by `hostdev persist`; `hostdev unpersist` removes it.\n"
                     "0000:01:00.1 vfio-pci");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-0000:01:00.2.conf"));
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd("unpersist 0000:01:00.1 0000:01:00.2"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.2"), "xhci_hcd");
}
END_TEST

/* The argument named in persist's error is the entry the library says failed, not the first
 * whose name the message happens to start with: ids that select a platform function, after
 * a device that is fine. */
HD_TEST(persist_names_the_entry_that_failed)
{
    eng_start(&e, "demo");
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("persist 03:00.0 8086:a145"), 2);
    ck_assert_msg(strncmp(e.err, "hostdev persist: 8086:a145: 0000:00:1f.0 is an ISA/LPC "
                                 "bridge", 56) == 0, "%s", e.err);
    ck_assert_int_eq(hd("--json persist 03:00.0 8086:a145"), 2);
    ck_err_has("{\"error\":\"8086:a145: 0000:00:1f.0 is an ISA/LPC bridge");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
}
END_TEST

/* A persisted GPU whose group's other member was detached by hand: the group is viable now,
 * but the next boot gives that member back to its host driver. doctor warns and gives the
 * persist command; run as printed, it leaves doctor nothing to say. */
HD_TEST(doctor_warns_of_a_group_viable_only_until_the_boot)
{
    eng_start(&e, TWO_GPU_GROUPS);
    ck_assert_int_eq(hd("detach --group 0000:02:00.0"), 0);
    ck_assert_int_eq(hd("persist 0000:02:00.0"), 0);
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("warning 0000:02:00.0: IOMMU group 2 is viable now, but not after the next boot");
    ck_out_has("  run: " GROUP2_PERSIST "\n");
    ck_assert_int_eq(hd("--json doctor"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"code\": \"group-not-viable-at-boot\",\n      \"device\": \"0000:02:00.0\"");
    ck_out_has("\"commands\": [\n        \"" GROUP2_PERSIST "\",\n");
    ck_assert_int_eq(run_group_command("0000:02:00.0"), 0);
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-0000:02:00.1.conf"));
    ck_assert_int_eq(hd("doctor"), 0);
    ck_assert(strstr(e.out, "not viable") == NULL);
}
END_TEST

/* Two persisted members of a group whose third was detached by hand: one warning for the
 * group, naming both, not one per persisted member. */
HD_TEST(doctor_tells_a_group_viable_until_the_boot_once)
{
    eng_start(&e, TWO_GPU_GROUPS);
    ck_assert_int_eq(hd("detach --group 0000:01:00.0"), 0);
    ck_assert_int_eq(hd("persist 0000:01:00.0 0000:01:00.1"), 0);
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("warning 0000:01:00.0: IOMMU group 1 is viable now, but not after the next boot");
    ck_out_has("0000:01:00.0 and 0000:01:00.1, and of the group only"); /* text wraps */
    ck_out_has("  run: hostdev persist 0000:01:00.2\n");
    ck_assert_msg(strstr(strstr(e.out, "viable now") + 1, "viable now") == NULL, "%s", e.out);
    ck_assert_int_eq(hd("--json doctor"), 1);
    at_json_check(e.out, false);
    const char *code = "\"code\": \"group-not-viable-at-boot\"";
    ck_out_has(code);
    ck_assert_msg(strstr(strstr(e.out, code) + 1, code) == NULL, "%s", e.out);
}
END_TEST

/* A whole-host doctor reads the reservations once, for every group it looks at and for the
 * reservations' own findings: with every read of a persisted file after the first failing
 * (the fake disk's EIO), both groups still get their persist command and no read error is
 * said. A file unreadable from the start, or a bad line, is said as before, and the groups
 * whose reservations can be read keep their command. */
HD_TEST(doctor_reads_the_reservations_once)
{
#define GPU2_FILE "etc/hostdev.d/persist-0000:02:00.0.conf"
    eng_start(&e, TWO_GPU_GROUPS);
    ck_assert_int_eq(hd("persist 0000:01:00.0"), 0);
    ck_assert_int_eq(hd("persist 0000:02:00.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " GPU2_FILE " EIO nth=2 count=0 on=read"), 0);
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("  run: " GROUP1_PERSIST "\n");
    ck_out_has("  run: " GROUP2_PERSIST "\n");
    ck_assert_msg(strstr(e.out, "have an error") == NULL, "%s", e.out);
    /* Unreadable from the first read: the error, and group 2 without the boot's command. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " GPU2_FILE " EIO nth=1 count=0 on=read"), 0);
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("warning: the reservations the boot reads have an error: " GPU2_FILE ":\n"
               "  Input/output error\n");
    ck_out_has("  run: " GROUP1_PERSIST "\n");
    ck_out_has("  run: hostdev detach --group 0000:02:00.0\n");
    ck_assert(strstr(e.out, GROUP2_PERSIST) == NULL);
    /* A bad line: said, and both commands stay. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    conf("10-bad.conf", "0000:03:10.2 vfio\n");
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("warning: the reservations the boot reads have an error: "
               "etc/hostdev.d/10-bad.conf:1: 'vfio' is\n");
    ck_out_has("  run: " GROUP1_PERSIST "\n");
    ck_out_has("  run: " GROUP2_PERSIST "\n");
#undef GPU2_FILE
}
END_TEST

/* A persisted VF whose PF's count went to 0 reserves nothing, and nothing makes it at boot:
 * persisted marks it, doctor warns with the two ways out; a count that makes it at boot, or a
 * device merely out, is no warning. */
/* persist of a VF whose PF's VF count no reservation sets: VFs are made by that count each
 * boot, so the reservation does nothing then; persist says so (a warning on stderr, the
 * document's "warnings" under --json), in its dry run too, and not once the count is
 * persisted, nor for a VF the persisted count makes. */
HD_TEST(persist_of_a_vf_warns_that_no_count_makes_it_at_boot)
{
#define VF_WARNING                                                                               \
    "0000:03:10.2 is a VF of 0000:03:00.0, and no reservation sets 0000:03:00.0's VF count to 2 " \
    "or more: a VF is made anew each boot by its PF's count, so unless something else makes "   \
    "it, 0000:03:10.2 is not there at boot and its reservation does nothing then; persist "     \
    "0000:03:00.0's VF count too (numvfs=2 or more)"
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("persist 0000:03:10.2 --dry-run"), 0);
    ck_assert_str_eq(e.err, "hostdev persist: warning: " VF_WARNING "\n");
    ck_assert_int_eq(hd("--json persist 0000:03:10.2 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"warnings\": [\n    \"" VF_WARNING "\"\n  ]");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("persist 0000:03:10.2"), 0);
    ck_assert_str_eq(e.err, "hostdev persist: warning: " VF_WARNING "\n");
    ck_out_has("persisted: 0000:03:10.2 vfio-pci\n");
    /* Afterwards doctor and persisted say it too, though the VF is there now. */
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("warning 0000:03:10.2 is reserved (etc/hostdev.d/persist-0000:03:10.2.conf:2), "
               "but it is a VF of\n  0000:03:00.0, and no reservation sets 0000:03:00.0's VF "
               "count to 2 or more:");
    ck_out_has("  run: hostdev persist 0000:03:00.0 --numvfs 2\n"
               "   or: hostdev unpersist 0000:03:10.2\n");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_out_has("(VF of 0000:03:00.0, whose VF count at boot does not make it: persist 2 or "
               "more)\n");
    ck_assert_int_eq(hd("--json persisted"), 0);
    ck_out_has("\"present\": true,\n    \"vf_of\": \"0000:03:00.0\",\n"
               "    \"made_at_boot\": false\n");
    /* A count that makes it, persisted: nothing more to say, for it or its sibling. */
    ck_assert_int_eq(hd("persist 0000:03:00.0 --numvfs 8"), 0);
    ck_assert_int_eq(hd("persist 0000:03:10.0"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("persist 0000:03:10.2"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_assert(strstr(e.out, "VF of") == NULL);
    ck_assert_int_eq(hd("doctor"), 0);
    ck_assert(strstr(e.out, "reserved") == NULL);
    /* A count too low for it: said again, with the count that would make it. */
    ck_assert_int_eq(hd("persist 0000:03:00.0 --numvfs 1 --no-apply"), 0);
    ck_assert_int_eq(hd("persist 0000:03:10.2 --dry-run"), 0);
    ck_assert_str_eq(e.err, "hostdev persist: warning: " VF_WARNING "\n");
    /* Not a VF: no such warning. */
    ck_assert_int_eq(hd("persist 0000:03:00.1 --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
#undef VF_WARNING
}
END_TEST

/* The same of VFs persisted by their ids (once per PF, with the count that makes them all, for
 * those a count persisted does not make), and of the file alone (--no-apply, its dry run too):
 * persist warns; doctor and persisted say it of the ids entry afterwards. */
HD_TEST(persist_by_ids_or_file_alone_warns_that_no_count_makes_the_vfs)
{
#define VFS_WARNING(first, more, count)                                                         \
    "hostdev persist: warning: " first " and " more " more are VFs of 0000:03:00.0, and no "      \
    "reservation sets 0000:03:00.0's VF count to " count " or more: a VF is made anew each boot " \
    "by its PF's count, so unless something else makes them, they are not there at boot and "   \
    "their reservation does nothing then; persist 0000:03:00.0's VF count too (numvfs=" count  \
    " or more)\n"
#define VF_WARNING                                                                               \
    "hostdev persist: warning: 0000:03:10.2 is a VF of 0000:03:00.0, and no reservation sets "  \
    "0000:03:00.0's VF count to 2 or more: a VF is made anew each boot by its PF's count, so "   \
    "unless something else makes it, 0000:03:10.2 is not there at boot and its reservation "    \
    "does nothing then; persist 0000:03:00.0's VF count too (numvfs=2 or more)\n"
    eng_start(&e, "server-sriov");
    /* The file alone: said, and the file written all the same; nothing bound. */
    ck_assert_int_eq(hd("persist 0000:03:10.2 --no-apply --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would persist 0000:03:10.2 vfio-pci\n");
    ck_assert_str_eq(e.err, VF_WARNING);
    ck_assert_int_eq(hd("--json persist 0000:03:10.2 --no-apply --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"warnings\": [\n    \"0000:03:10.2 is a VF of 0000:03:00.0, and no reservation");
    ck_assert_str_eq(e.err, "");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:10.2.conf"));
    ck_assert_int_eq(hd("persist 0000:03:10.2 --no-apply"), 0);
    ck_assert_str_eq(e.out, "persisted: 0000:03:10.2 vfio-pci\n");
    ck_assert_str_eq(e.err, VF_WARNING);
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:10.2.conf"));
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.2"), "ixgbevf");
    ck_assert_int_eq(hd("unpersist 0000:03:10.2 --no-apply"), 0);
    /* By ids: every VF there now is one of 03:00.0's, told once. */
    ck_assert_int_eq(hd("persist 8086:10ed --dry-run"), 0);
    ck_assert_str_eq(e.err, VFS_WARNING("0000:03:10.0", "7", "8"));
    ck_assert_int_eq(hd("persist 8086:10ed --no-apply --dry-run"), 0);
    ck_assert_str_eq(e.err, VFS_WARNING("0000:03:10.0", "7", "8"));
    ck_assert_int_eq(hd("persist 8086:10ed"), 0);
    ck_assert_str_eq(e.err, VFS_WARNING("0000:03:10.0", "7", "8"));
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:11.6"), "vfio-pci");
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("warning 8086:10ed is reserved (etc/hostdev.d/persist-8086:10ed.conf:2), and the "
               "devices it selects\n  now include VFs of 0000:03:00.0, but no reservation sets "
               "0000:03:00.0's VF count to 8 or more:\n  nothing makes them at boot");
    ck_out_has("  run: hostdev persist 0000:03:00.0 --numvfs 8\n"
               "   or: hostdev unpersist 8086:10ed\n");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_out_has("(VFs of 0000:03:00.0, whose VF count at boot does not make them: persist 8 or "
               "more)\n");
    ck_assert_int_eq(hd("--json persisted"), 0);
    ck_out_has("\"present\": true,\n    \"vf_of\": \"0000:03:00.0\",\n"
               "    \"made_at_boot\": false\n");
    /* A count that makes some: the others are said, with the count that makes them all. */
    ck_assert_int_eq(hd("persist 0000:03:00.0 --numvfs 2 --no-apply"), 0);
    ck_assert_int_eq(hd("persist 8086:10ed --no-apply --dry-run"), 0);
    ck_assert_str_eq(e.err, VFS_WARNING("0000:03:10.4", "5", "8"));
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("  run: hostdev persist 0000:03:00.0 --numvfs 8\n");
    /* One that makes them all: nothing to say, here or after. */
    ck_assert_int_eq(hd("persist 0000:03:00.0 --numvfs 8 --no-apply"), 0);
    ck_assert_int_eq(hd("persist 8086:10ed --no-apply"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("persist 8086:10ed --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_assert(strstr(e.out, "VF") == NULL);
    ck_assert_int_eq(hd("doctor"), 0);
    ck_assert(strstr(e.out, "reserved") == NULL);
    /* Ids of no VF: no such warning. */
    ck_assert_int_eq(hd("persist 1000:005d --no-apply --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
#undef VF_WARNING
#undef VFS_WARNING
}
END_TEST

HD_TEST(a_persisted_vf_nothing_makes_is_said)
{
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("sriov 0000:03:00.1 2"), 0);
    ck_assert_int_eq(hd("persist 0000:03:10.1"), 0);
    ck_assert_int_eq(hd("persisted"), 0);
    ck_assert(strstr(e.out, "not present") == NULL);
    /* sriov notes the reservation it leaves doing nothing, in its dry run too. */
    ck_assert_int_eq(hd("sriov 0000:03:00.1 0 --dry-run"), 0);
    ck_assert_str_eq(e.err, "hostdev sriov: note: 0000:03:10.1 is still reserved "
                            "(etc/hostdev.d/persist-0000:03:10.1.conf:2), but no VF count "
                            "persisted for 0000:03:00.1 makes it at boot: the reservation does "
                            "nothing ('hostdev persist 0000:03:00.1 --numvfs 2' keeps it, "
                            "'hostdev unpersist 0000:03:10.1' drops it)\n");
    ck_assert_int_eq(hd("--json sriov 0000:03:00.1 0 --dry-run"), 0);
    ck_out_has("\"unmade_reservations\": [\n    {\n      \"device\": \"0000:03:10.1\",\n"
               "      \"file\": \"etc/hostdev.d/persist-0000:03:10.1.conf\",\n"
               "      \"line\": 2\n");
    /* The operation itself reports them, and the autoprobe it found. */
    struct hd_op *op;
    struct hd_pci_addr pf, vf;
    ck_assert_int_eq(hd_pci_addr_parse("0000:03:00.1", &pf), 0);
    ck_assert_int_eq(hd_pci_addr_parse("0000:03:10.1", &vf), 0);
    ck_assert_int_eq(hd_op_new(e.ctx, HD_OP_NUMVFS, &op), 0);
    hd_op_set_flags(op, HD_OP_DRY_RUN);
    hd_op_set_numvfs(op, 0);
    ck_assert_int_eq(hd_op_add_device(op, &pf, true), 0);
    ck_assert_int_eq(hd_op_run(op), 0);
    ck_assert_int_eq(hd_op_get_previous_numvfs(op), 2);
    ck_assert_int_eq(hd_op_get_previous_autoprobe(op), 0); /* the count above turned it off */
    ck_assert_uint_eq(hd_op_get_unmade_count(op), 1);
    ck_assert(hd_pci_addr_equal(&hd_op_unmade_get_entry(op, 0)->sel.addr, &vf));
    ck_assert(hd_reserve_entry_is_persisted(hd_op_unmade_get_entry(op, 0)));
    ck_assert_ptr_null(hd_op_unmade_get_entry(op, 1));
    hd_op_set_numvfs(op, 2); /* the same count leaves every reservation as it is */
    ck_assert_int_eq(hd_op_run(op), 0);
    ck_assert_uint_eq(hd_op_get_unmade_count(op), 0);
    hd_op_unref(op);
    ck_assert_int_eq(hd("sriov 0000:03:00.1 1"), 0); /* VF 0 stays: nothing to say */
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("sriov 0000:03:00.1 0"), 0);
    ck_assert(strstr(e.err, "note: 0000:03:10.1 is still reserved") != NULL);
    ck_assert_int_eq(hd("persisted"), 0);
    ck_assert_str_eq(e.out, "0000:03:10.1 vfio-pci                "
                            "etc/hostdev.d/persist-0000:03:10.1.conf:2  (not present: VF of "
                            "0000:03:00.1, whose VF count at boot does not make it: persist 1 or "
                            "more)\n");
    ck_assert_int_eq(hd("--json persisted"), 0);
    ck_out_has("\"present\": false,\n    \"vf_of\": \"0000:03:00.1\",\n"
               "    \"made_at_boot\": false\n");
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("warning 0000:03:10.1 is reserved (etc/hostdev.d/persist-0000:03:10.1.conf:2), "
               "but it is a VF of\n");
    ck_out_has("  run: hostdev persist 0000:03:00.1 --numvfs 1\n"
               "   or: hostdev unpersist 0000:03:10.1\n");
    ck_assert_int_eq(hd("--json doctor"), 1);
    ck_out_has("\"code\": \"reserved-vf-not-made\"");
    ck_out_has("\"severity\": \"warning\"");
    /* The finding carries its remedy's PF and count, as the doctor read them. */
    struct hd_findings *d;
    size_t k = 0;
    int numvfs = -1;
    bool persisted = false;
    ck_assert_int_eq(hd_doctor_run(e.ctx, NULL, &d), 0);
    while (k < hd_findings_count(d) &&
           strcmp(hd_findings_get_code(d, k), "reserved-vf-not-made") != 0)
        k++;
    ck_assert_uint_lt(k, hd_findings_count(d));
    ck_assert_int_eq(hd_findings_get_remedy_vf_count(d, k, &pf, &numvfs, &persisted), 0);
    char name[HD_PCI_ADDR_BUFSZ];
    ck_assert_str_eq(hd_pci_addr_format(&pf, name), "0000:03:00.1");
    ck_assert_int_eq(numvfs, 1);
    ck_assert(persisted);
    for (size_t i = 0; i < hd_findings_count(d); i++)
        if (i != k)
            ck_assert_int_eq(hd_findings_get_remedy_vf_count(d, i, &pf, &numvfs, &persisted),
                             -ENOENT);
    hd_findings_unref(d);
    /* A count at boot that makes it: no warning, only the mark. */
    conf("10-count.conf", "0000:03:00.1 numvfs=2\n");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_out_has("(not present: VF of 0000:03:00.1, made at boot by its VF count)\n");
    ck_assert_int_eq(hd("doctor"), 0);
    ck_assert(strstr(e.out, "reserved") == NULL);
    /* A device that is out is a note. */
    conf("10-count.conf", "0000:03:00.1 numvfs=2\n0000:05:00.0\n");
    ck_assert_int_eq(hd("persisted"), 0);
    ck_out_has("etc/hostdev.d/10-count.conf:2  (not present)\n");
    ck_assert_int_eq(hd("--json doctor"), 0);
    ck_out_has("\"code\": \"reserved-device-absent\"");
    /* A line of the admin's own file is not unpersist's to drop: neither says it is. */
    conf("10-count.conf", "0000:03:00.1 numvfs=2\n");
    conf("20-vf.conf", "0000:03:10.5 vfio-pci\n");
    ck_assert_int_eq(hd("sriov 0000:03:00.1 3"), 0);
    ck_assert_int_eq(hd("sriov 0000:03:00.1 2 --dry-run"), 0);
    ck_assert_str_eq(e.err, "hostdev sriov: note: 0000:03:10.5 is still reserved "
                            "(etc/hostdev.d/20-vf.conf:1), but no VF count persisted for "
                            "0000:03:00.1 makes it at boot: the reservation does nothing ('hostdev "
                            "persist 0000:03:00.1 --numvfs 3' keeps it, removing that line drops "
                            "it)\n");
    ck_assert_int_eq(hd("sriov 0000:03:00.1 2"), 0);
    ck_assert_int_eq(hd("doctor"), 1);
    ck_out_has("  run: hostdev persist 0000:03:00.1 --numvfs 3\n");
    ck_assert(strstr(e.out, "unpersist") == NULL);
}
END_TEST

/* VFs a lower count removes that an ids entry selects: sriov notes that entry once (however
 * many of its VFs go), by its ids, in its dry run and under --json too; not when the count the
 * boot sets makes them, nor when no VF it removes has those ids. */
HD_TEST(sriov_notes_ids_that_reserve_the_vfs_it_removes)
{
#define IDS_NOTE                                                                                  \
    "hostdev sriov: note: 8086:10ed (etc/hostdev.d/ids.conf:1) reserves VFs of 0000:03:00.0 that " \
    "this count removes, and no VF count persisted for 0000:03:00.0 makes them at boot: for "     \
    "them the reservation does nothing ('hostdev persist 0000:03:00.0 --numvfs 8' keeps them)\n"
    eng_start(&e, "server-sriov"); /* 03:00.0 has 8 VFs, 8086:10ed */
    conf("ids.conf", "8086:10ed vfio-pci\n");
    ck_assert_int_eq(hd("sriov 0000:03:00.0 2 --dry-run"), 0);
    ck_assert_str_eq(e.err, IDS_NOTE);
    ck_assert_int_eq(hd("--json sriov 0000:03:00.0 2 --dry-run"), 0);
    ck_out_has("\"unmade_reservations\": [\n    {\n      \"device\": \"8086:10ed\",\n"
               "      \"file\": \"etc/hostdev.d/ids.conf\",\n      \"line\": 1\n    }\n  ]");
    /* Beside an address entry for one of those VFs: both, the ids once. */
    conf("vf.conf", "0000:03:10.6 vfio-pci\n");
    ck_assert_int_eq(hd("sriov 0000:03:00.0 2 --dry-run"), 0);
    ck_err_has("note: 0000:03:10.6 is still reserved (etc/hostdev.d/vf.conf:1)");
    ck_assert_ptr_nonnull(strstr(e.err, IDS_NOTE));
    ck_assert_ptr_null(strstr(strstr(e.err, IDS_NOTE) + strlen(IDS_NOTE), "8086:10ed"));
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/vf.conf")), 0);
    /* The count the boot sets makes them: nothing to say. */
    conf("count.conf", "0000:03:00.0 numvfs=8\n");
    ck_assert_int_eq(hd("sriov 0000:03:00.0 2 --dry-run"), 0);
    ck_assert_ptr_null(strstr(e.err, "reserves VFs"));
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/count.conf")), 0);
    /* Ids of no VF it removes: nothing either. */
    conf("ids.conf", "1000:005d vfio-pci\n");
    ck_assert_int_eq(hd("sriov 0000:03:00.0 2 --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_uint_eq(eng_writes(&e), 0);
#undef IDS_NOTE
}
END_TEST

/* The boot's reserve runs without --force and leaves a platform function with the host, so
 * persist refuses one even forced (by address or by ids), changing nothing; a line written by
 * hand is said by persisted and show, as the boot does. */
HD_TEST(persisted_says_the_boot_leaves_a_platform_function)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("persist --force 00:1f.4"), 2);
    ck_err_has("0000:00:1f.4 is an SMBus controller: the boot's reservation, which never "
               "forces, leaves it with the host at every boot, so it is not persisted");
    ck_assert_int_eq(hd("persist --force --no-apply 8086:a123"), 2);
    ck_assert_int_eq(hd("persist --dry-run 8086:a123"), 2);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:1f.4"), "i801_smbus");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:00:1f.4.conf"));
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-8086:a123.conf"));
    /* By hand, taken now by a forced detach. */
    conf("persist-0000:00:1f.4.conf", "# by hand\n0000:00:1f.4 vfio-pci\n");
    ck_assert_int_eq(hd("detach --force 00:1f.4"), 0);
    ck_assert_int_eq(hd("persisted"), 2);
    ck_out_has("etc/hostdev.d/persist-0000:00:1f.4.conf:2  (refused at boot)\n");
    ck_err_has("0000:00:1f.4 is an SMBus controller: the boot's reserve (which does not force) "
               "leaves it with the host");
    ck_assert_int_eq(hd("show 00:1f.4"), 0);
    ck_out_has("; refused at boot: 0000:00:1f.4 is an SMBus controller");
    /* As the boot does: back on its driver, reserve refuses it. */
    ck_assert_int_eq(hd("reattach 00:1f.4"), 0);
    ck_assert_int_eq(hd("reserve --keep-going"), 1);
    ck_err_has("0000:00:1f.4 is an SMBus controller: the host keeps it");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:1f.4"), "i801_smbus");
}
END_TEST

/* Unpersisting a VF count says what it leaves: the VFs stay, and how to remove them; a count
 * alone reserved no device, so none is "given back". */
HD_TEST(unpersist_of_a_vf_count_says_the_vfs_stay)
{
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("persist --numvfs 3 0000:03:00.1"), 0);
    ck_assert_int_eq(hd("unpersist 0000:03:00.1 --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would unpersist 0000:03:00.1 and do:\n"
                            "  0000:03:00.1: its 3 virtual functions stay: unpersist does not undo "
                            "a VF count (`hostdev sriov 0000:03:00.1 0` removes them)\n");
    ck_assert_int_eq(hd("--json unpersist 0000:03:00.1 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"numvfs_kept\": [\n    {\n      \"device\": \"0000:03:00.1\",\n"
               "      \"numvfs\": 3\n    }\n  ]");
    ck_assert_int_eq(hd("unpersist 0000:03:00.1"), 0);
    ck_assert_str_eq(e.out, "unpersisted: 0000:03:00.1\n"
                            "0000:03:00.1: its 3 virtual functions stay: unpersist does not undo "
                            "a VF count (`hostdev sriov 0000:03:00.1 0` removes them)\n");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "3");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.1.conf"));
    /* A stub without a count: nothing said of VFs. */
    ck_assert_int_eq(hd("persist 03:00.0 --force"), 0);
    ck_assert_int_eq(hd("--json unpersist 03:00.0"), 0);
    ck_out_has("\"numvfs_kept\": []");
}
END_TEST

/* Unpersisting several VF counts at once names every PF whose VFs stay, in JSON as in text. */
HD_TEST(unpersist_of_several_vf_counts_names_every_pf)
{
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("persist --numvfs 3 0000:03:00.1"), 0);
    ck_assert_int_eq(hd("persist --numvfs 8 0000:03:00.0"), 0);
    ck_assert_int_eq(hd("--json unpersist 0000:03:00.1 0000:03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"numvfs_kept\": [\n    {\n      \"device\": \"0000:03:00.1\",\n"
               "      \"numvfs\": 3\n    },\n    {\n      \"device\": \"0000:03:00.0\",\n"
               "      \"numvfs\": 8\n    }\n  ]");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.0.conf"));
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.1.conf"));
}
END_TEST

/* A persist whose VF count fails after its PF went to the stub (the count is the stub's to set)
 * gives the PF back: it prints no reservation and no count, only its error, and writes no file.
 * One that does it says all it did, in the order it did it: the PF to its stub, then the
 * count. */
HD_TEST(a_failed_persist_prints_only_what_happened)
{
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.1/sriov_numvfs EIO"), 0);
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 1);
    ck_assert_str_eq(e.out, "");
    ck_assert_msg(strncmp(e.err, "hostdev persist: 0000:03:00.1: writing 2 to sriov_numvfs: "
                                 "Input/output error",
                          76) == 0,
                  "%s", e.err);
    ck_assert_str_eq(strchr(e.err, '\n') + 1, STUB_COUNT_WARNING("persist", "0000:03:00.1"));
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "0");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "ixgbe");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/driver_override"),
                     "(null)");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.1.conf"));
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 0);
    ck_assert_str_eq(
        e.out,
        "0000:03:00.1: ixgbe -> vfio-pci (persist)\n"
        "0000:03:00.1: 2 virtual functions (was 0; persist)\n"
        "    0000:03:10.1: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n"
        "    0000:03:10.3: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n"
        "persisted: 0000:03:00.1 vfio-pci numvfs=2\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
}
END_TEST

/* persist's VF count makes a VF that a reservation of its own names: persist binds none of the
 * VFs (its entry is the PF's count), so it says the VF comes unbound, which reservation holds it
 * and what binds it (its "add" event through hostdev's udev rule, as the event does here, and
 * the boot); a VF nothing reserves stays unbound, said so. */
HD_TEST(persist_says_a_vf_it_makes_is_reserved)
{
#define RESERVED_VF "    0000:03:10.1: made, unbound; reserved for vfio-pci "                     \
                    "(etc/hostdev.d/persist-0000:03:10.1.conf:2): hostdev's udev rule binds it " \
                    "as it appears, and so does every boot\n"
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("sriov 0000:03:00.1 2"), 0);
    ck_assert_int_eq(hd("persist 0000:03:10.1"), 0);
    ck_assert_int_eq(hd("sriov 0000:03:00.1 0"), 0);
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2 --dry-run"), 0);
    ck_assert_str_eq(e.out,
                     "dry run: nothing changed; would persist 0000:03:00.1 numvfs=2 and do:\n"
                     "  0000:03:00.1: 2 virtual functions (was 0; persist)\n" RESERVED_VF
                     "    0000:03:10.3: made, left unbound\n");
    ck_assert_int_eq(hd("--json persist 0000:03:00.1 --numvfs 2 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"address\": \"0000:03:10.1\",\n      \"action\": \"make_vf\",\n"
               "      \"reserve_for\": \"vfio-pci\",\n      \"ids_known\": true");
    ck_out_has("\"address\": \"0000:03:10.3\",\n      \"action\": \"make_vf\",\n"
               "      \"reserve_for\": null,\n      \"ids_known\": true");
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.1: 2 virtual functions (was 0; persist)\n" RESERVED_VF
                            "    0000:03:10.3: made, left unbound\n"
                            "persisted: 0000:03:00.1 numvfs=2\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.1"), "");
    /* What the udev rule runs on the VF's "add" event binds it, as said. */
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:03:10.1",
                            "reserve --uevent"),
                     0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.1"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.3"), "");
#undef RESERVED_VF
}
END_TEST

/* A PF's VF count and its stub in one line: the PF goes to the stub first, and the stub sets
 * the count (a PF's host driver turns SR-IOV off as it lets go, so VFs counted first would go
 * with it; seen on real kernels). The plan says that order, as the run does it. vfio-pci with
 * its enable_sriov N sets no count: persist refuses before anything is written, plan and run
 * alike, text and JSON; the boot reserves the PF and fails its count, saying why. */
HD_TEST(a_pf_goes_to_its_stub_before_its_count)
{
    char *run_err;

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 1);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err, STUB_COUNT_REFUSED("persist", "0000:03:00.1"));
    ck_assert_int_eq(hd("persist --dry-run 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 1);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err, STUB_COUNT_REFUSED("persist", "0000:03:00.1"));
    ck_assert_int_eq(hd("--json persist 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 1);
    run_err = strdup(e.err);
    ck_assert_int_eq(hd("--json persist --dry-run 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 1);
    ck_assert_str_eq(e.err, run_err);
    free(run_err);
    /* A count no host state makes possible is bad input, said before the PF moves, whether
     * applied now or not. */
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 99 --driver vfio-pci"), 2);
    ck_assert_str_eq(e.err, "hostdev persist: 0000:03:00.1 supports at most 63 VFs "
                            "(sriov_totalvfs), not 99\n");
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 99 --driver vfio-pci --no-apply"), 2);
    ck_assert_str_eq(e.err, "hostdev persist: 0000:03:00.1 supports at most 63 VFs "
                            "(sriov_totalvfs), not 99\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.1.conf"));
    /* The boot's reservation of such a line: the PF to its stub, then the count, refused. */
    conf("10-pf.conf", "0000:03:00.1 vfio-pci numvfs=2\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 1);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reserve would do:\n"
                            "  0000:03:00.1: ixgbe -> vfio-pci (etc/hostdev.d/10-pf.conf:1)\n");
    run_err = strdup(e.err);
    ck_err_has("0000:03:00.1 is on vfio-pci, which changes a VF count only with its "
               "enable_sriov parameter set to Y");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_int_eq(hd("reserve"), 1);
    ck_assert_str_eq(e.err, run_err);
    free(run_err);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "0");
    eng_stop(&e);

    /* vfio-pci loaded with enable_sriov=1: a PF with VFs, forced, loses those to its host
     * driver's letting go, then gets the count on the stub; the plan says so, as the run. */
    static const char told[] = "0000:03:00.1: 2 -> 0 virtual functions (persist)\n"
                               "0000:03:00.1: ixgbe -> vfio-pci (persist)\n"
                               "0000:03:00.1: 2 virtual functions (was 0; persist)\n"
                               "    0000:03:10.1: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
                               "as its driver_override\n"
                               "    0000:03:10.3: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
                               "as its driver_override\n";
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    ck_assert_int_eq(hd("sriov 0000:03:00.1 2"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("persist --dry-run --force 0000:03:00.1 --numvfs 2 --driver vfio-pci"),
                     0);
    ck_assert_str_eq(
        e.out,
        "dry run: nothing changed; would persist 0000:03:00.1 vfio-pci "
        "numvfs=2 and do:\n"
        "  0000:03:00.1: 2 -> 0 virtual functions (persist)\n"
        "  0000:03:00.1: ixgbe -> vfio-pci (persist)\n"
        "  0000:03:00.1: 2 virtual functions (was 0; persist)\n"
        "    0000:03:10.1: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n"
        "    0000:03:10.3: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n");
    ck_assert_int_eq(
        hd("--json persist --dry-run --force 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 0);
    at_json_check(e.out, false);
    char *dry_vfs = strdup(strstr(e.out, "\"vfs\""));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd("--json persist --force 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 0);
    ck_assert_str_eq(strstr(e.out, "\"vfs\""), dry_vfs);
    free(dry_vfs);
    ck_assert_int_eq(hd("sriov 0000:03:00.1 0"), 0);
    ck_assert_int_eq(hd("unpersist 0000:03:00.1"), 0);
    ck_assert_int_eq(hd("sriov 0000:03:00.1 2"), 0);
    ck_assert_int_eq(hd("persist --force 0000:03:00.1 --numvfs 2 --driver vfio-pci"), 0);
    char want[512];
    snprintf(want, sizeof(want), "%spersisted: 0000:03:00.1 vfio-pci numvfs=2\n", told);
    ck_assert_str_eq(e.out, want);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
}
END_TEST

/* pci-stub has no sriov_configure: a PF reserved for it with a count would sit there without
 * VFs at every boot. Refused as bad input before anything is written (persist, now or not, its
 * plan; the boot's line, and persisted says so); a PF on pci-stub now is refused its count
 * before the kernel is asked, the plan too. */
HD_TEST(a_pf_reserved_for_pci_stub_with_a_count_is_refused)
{
    static const char spec[] =
        "kernel 6.1.0-13-amd64\n"
        "cmdline \"root=/dev/sda2 intel_iommu=on\"\n"
        "iommu intel\n"
        "module vfio\n"
        "module vfio_iommu_type1\n"
        "driver pcieport builtin class=060400\n"
        "driver ixgbe ids=8086:10fb sriov\n"
        "driver ixgbevf ids=8086:10ed\n"
        "driver vfio-pci module=vfio_pci stub vfio sriov\n"
        "driver pci-stub module=pci_stub stub\n"
        "device 0000:00:02.0 8086:2032 class=060400 driver=pcieport secondary=03\n"
        "device 0000:03:00.1 8086:10fb class=020000 driver=ixgbe reset=flr totalvfs=63 "
        "vf-device=10ed vf-offset=128 vf-stride=2\n";
    static const char refused[] =
        "0000:03:00.1 goes to pci-stub, which changes no VF count (it has no sriov_configure): "
        "keep the PF on its host driver with the count alone and reserve its VFs, or reserve it "
        "for vfio-pci loaded with enable_sriov=1\n";
    static const char *const persists[] = {"persist 0000:03:00.1 --numvfs 2 --driver pci-stub",
                                           "persist --dry-run 0000:03:00.1 --numvfs 2 --driver "
                                           "pci-stub",
                                           "persist --no-apply 0000:03:00.1 --numvfs 2 --driver "
                                           "pci-stub"};

    eng_start(&e, spec);
    for (size_t i = 0; i < sizeof(persists) / sizeof(persists[0]); i++) {
        ck_assert_msg(hd(persists[i]) == 2, "%s: %s", persists[i], e.err);
        ck_assert_str_eq(e.out, "");
        ck_assert_ptr_nonnull(strstr(e.err, "hostdev persist: "));
        ck_assert_str_eq(e.err + strlen("hostdev persist: "), refused);
    }
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.1.conf"));
    /* A count of 0 sets nothing: reserved as asked. */
    ck_assert_int_eq(hd("persist --dry-run 0000:03:00.1 --numvfs 0 --driver pci-stub"), 0);

    conf("10-pf.conf", "0000:03:00.1 pci-stub numvfs=2\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 2);
    ck_assert_str_eq(e.err, "hostdev reserve: etc/hostdev.d/10-pf.conf:1: 0000:03:00.1 goes to "
                            "pci-stub, which changes no VF count (it has no sriov_configure): keep "
                            "the PF on its host driver with the count alone and reserve its VFs, "
                            "or reserve it for vfio-pci loaded with enable_sriov=1\n");
    ck_assert_int_eq(hd("reserve"), 2);
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "ixgbe");
    ck_assert_int_eq(hd("persisted"), 2);
    ck_out_has("(refused at boot)");
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/10-pf.conf")), 0);

    ck_assert_int_eq(hd("detach --driver pci-stub 0000:03:00.1"), 0);
    for (int dry = 0; dry < 2; dry++) {
        ck_assert_int_eq(hd(dry ? "sriov --dry-run 0000:03:00.1 2" : "sriov 0000:03:00.1 2"), 1);
        ck_assert_str_eq(e.err, "hostdev sriov: 0000:03:00.1 is on pci-stub, which changes no VF "
                                "count (it has no sriov_configure): only its host driver, or "
                                "vfio-pci loaded with enable_sriov=1, makes VFs of it\n");
    }
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "0");
    eng_stop(&e);
}
END_TEST

/* The boot's reservation of a PF line with a count: the PF to its stub first, then the count
 * on the stub (vfio-pci with enable_sriov=1), whose VFs are there for the listing: a VF a line
 * reserves is reserved. The dry run plans it as the run goes, text and JSON. */
HD_TEST(the_boot_binds_a_pf_before_its_count)
{
    static const char told[] =
        "0000:03:00.1: ixgbe -> vfio-pci (etc/hostdev.d/10-pf.conf:1)\n"
        "0000:03:00.1: 2 virtual functions (was 0; etc/hostdev.d/10-pf.conf:1)\n"
        "    0000:03:10.1: made; on vfio-pci already, as reserved (etc/hostdev.d/10-pf.conf:2)\n"
        "    0000:03:10.3: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n";
    char *dry;

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    conf("10-pf.conf", "0000:03:00.1 vfio-pci numvfs=2\n0000:03:10.1 vfio-pci\n");
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("reserve --dry-run"), 0);
    ck_assert_str_eq(
        e.out + strlen("dry run: nothing changed; reserve would do:\n"),
        "  0000:03:00.1: ixgbe -> vfio-pci (etc/hostdev.d/10-pf.conf:1)\n"
        "  0000:03:00.1: 2 virtual functions (was 0; etc/hostdev.d/10-pf.conf:1)\n"
        "    0000:03:10.1: made; on vfio-pci already, as reserved (etc/hostdev.d/10-pf.conf:2)\n"
        "    0000:03:10.3: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n");
    ck_assert_int_eq(hd("--json reserve --dry-run"), 0);
    at_json_check(e.out, false);
    /* The PF's reservation, then its count, then the VFs: the objects after the first are the
     * run's too. */
    ck_assert_ptr_nonnull(dry = strstr(e.out, "\"action\": \"reserve\",\n    \"reserve_for\": "
                                              "\"vfio-pci\",\n    \"outcome\": \"planned\""));
    ck_assert_ptr_nonnull(dry = strstr(dry, "  },\n"));
    dry = strdup(dry);
    ck_assert_msg(strncmp(dry, "  },\n  {\n    \"address\": \"0000:03:00.1\",\n    \"action\": "
                               "\"numvfs\",", 60) == 0, "%s", dry);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd("--json reserve"), 0);
    at_json_check(e.out, false);
    const char *run = strstr(e.out, "\"outcome\": \"done\",\n    \"warning\"");
    ck_assert_ptr_nonnull(run);
    ck_assert_ptr_nonnull(run = strstr(run, "  },\n"));
    ck_assert_msg(strncmp(run, dry, strlen(dry) - strlen("  }\n]\n")) == 0, "run %s\nplan %s", run,
                  dry);
    free(dry);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.1"), "vfio-pci");
    /* No line reserves it: vfio-pci's all the same, by the override the kernel gives it. */
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.3"), "vfio-pci");
    /* Text, on a fresh kernel. */
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    conf("10-pf.conf", "0000:03:00.1 vfio-pci numvfs=2\n0000:03:10.1 vfio-pci\n");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_msg(strncmp(e.out, told, strlen(told)) == 0, "%s", e.out);
    /* The kernel put it on vfio-pci as the PF made it: nothing left to bind. */
    ck_assert_str_eq(e.out + strlen(told),
                     "0000:03:10.1: reserved for vfio-pci already (etc/hostdev.d/10-pf.conf:2)\n");
    ck_assert_str_eq(e.err, PF_WARNING);
}
END_TEST

/* What a line "PF vfio-pci numvfs=N" does, said where it is applied: its count is set once the
 * PF is on the stub, and vfio-pci makes VFs only with enable_sriov=1. A warning (why, and what
 * to do instead) with the PF's reservation: the boot's plan and run (text, JSON), udev's "add";
 * with enable_sriov N now, the count's failure after it; a count alone none. */
HD_TEST(reserve_warns_of_a_stub_pf_given_a_count)
{
#define REFUSED                                                                                \
    "hostdev reserve: etc/hostdev.d/10-pf.conf:1: 0000:03:00.1 is on vfio-pci, which changes "  \
    "a VF count only with its "                                                                 \
    "enable_sriov parameter set to Y (/sys/module/vfio_pci/parameters/enable_sriov is N; load " \
    "vfio-pci with enable_sriov=1, or write Y there)\n"

    eng_start(&e, "server-sriov");
    conf("10-pf.conf", "0000:03:00.1 vfio-pci numvfs=2\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 1); /* vfio-pci's enable_sriov is N */
    ck_assert_str_eq(e.err, PF_WARNING REFUSED);
    ck_assert_int_eq(hd("--json reserve --dry-run"), 1);
    at_json_check(e.out, false);
    ck_out_has("    \"outcome\": \"planned\",\n    \"warning\": \"etc/hostdev.d/10-pf.conf:1: "
               "0000:03:00.1: numvfs=2 with vfio-pci may leave it without VFs:");
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:03:00.1",
                            "reserve --uevent --dry-run"),
                     1);
    ck_assert_ptr_nonnull(strstr(e.err, PF_WARNING));
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_int_eq(hd("reserve"), 1);
    ck_assert_str_eq(e.err, PF_WARNING REFUSED);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "0");
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    conf("10-pf.conf", "0000:03:00.1 vfio-pci numvfs=2\n");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_str_eq(e.err, PF_WARNING);
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    /* The stub and the count on two lines: the stub's line before it, the count's after it
     * (text and JSON), as a refusal names its line. */
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    conf("10-stub.conf", "0000:03:00.1 vfio-pci\n");
    conf("20-count.conf", "# the PF's VFs\n0000:03:00.1 numvfs=2\n");
    ck_assert_int_eq(hd("reserve --dry-run"), 1);
    ck_assert_str_eq(e.err, STUB_COUNT_WARNING_AT("reserve", "etc/hostdev.d/10-stub.conf:1: ",
                                                  "0000:03:00.1",
                                                  " (etc/hostdev.d/20-count.conf:2)")
                     "hostdev reserve: etc/hostdev.d/20-count.conf:2: 0000:03:00.1 is on "
                     "vfio-pci, which changes a VF count only with its enable_sriov parameter "
                     "set to Y (/sys/module/vfio_pci/parameters/enable_sriov is N; load vfio-pci "
                     "with enable_sriov=1, or write Y there)\n");
    ck_assert_int_eq(hd("--json reserve --dry-run"), 1);
    ck_out_has("\"warning\": \"etc/hostdev.d/10-stub.conf:1: 0000:03:00.1: numvfs=2 "
               "(etc/hostdev.d/20-count.conf:2) with vfio-pci may leave it without VFs:");
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* The count alone, the PF on its host driver: nothing to warn of. */
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    conf("10-pf.conf", "0000:03:00.1 numvfs=2\n0000:03:10.1 vfio-pci\n");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.1"), "vfio-pci");
#undef REFUSED
}
END_TEST

/* persist says it of its own line, and of what it adds to another (a count in one file, the stub
 * in another; a count alone, with --no-apply too), but not of the persisted file it replaces;
 * cmdline of a PF it keeps that has a count. The other's line is named, FILE:LINE. */
HD_TEST(persist_and_cmdline_warn_of_a_stub_pf_given_a_count)
{
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("persist 0000:03:00.1 --driver vfio-pci --numvfs 2 --dry-run --force"),
                     0);
    ck_assert_str_eq(e.err, STUB_COUNT_WARNING("persist", "0000:03:00.1"));
    conf("10-count.conf", "0000:03:00.1 numvfs=2\n");
    ck_assert_int_eq(hd("--json persist 0000:03:00.1 --driver vfio-pci --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"warnings\": [\n    \"etc/hostdev.d/10-count.conf:1: 0000:03:00.1: numvfs=2 "
               "with vfio-pci may leave it");
    ck_assert_int_eq(hd("cmdline --reserve 0000:03:00.1"), 0);
    ck_assert_str_eq(e.err, STUB_COUNT_WARNING_AT("cmdline", "etc/hostdev.d/10-count.conf:1: ",
                                                  "0000:03:00.1", ""));
    ck_assert_int_eq(hd("cmdline 0000:03:00.0"), 0); /* no count */
    ck_assert_ptr_null(strstr(e.err, "numvfs="));
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/10-count.conf")), 0);
    /* Its own persisted count, which the new file replaces. */
    conf("persist-0000:03:00.1.conf", "0000:03:00.1 numvfs=2\n");
    ck_assert_int_eq(hd("persist 0000:03:00.1 --driver vfio-pci --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/persist-0000:03:00.1.conf")), 0);
    /* A count alone, for a PF another file gives the stub: said with the file alone
     * (--no-apply, its dry run too), as when it is applied, and nothing else is said. */
    conf("10-stub.conf", "0000:03:00.1 vfio-pci\n");
#define STUB_WARNING                                                                           \
    STUB_COUNT_WARNING_AT("persist", "etc/hostdev.d/10-stub.conf:1: ", "0000:03:00.1", "")
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2 --dry-run"), 0);
    ck_assert_str_eq(e.err, STUB_WARNING);
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2 --no-apply --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would persist 0000:03:00.1 numvfs=2\n");
    ck_assert_str_eq(e.err, STUB_WARNING);
    ck_assert_int_eq(hd("--json persist 0000:03:00.1 --numvfs 2 --no-apply --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"warnings\": [\n    \"etc/hostdev.d/10-stub.conf:1: 0000:03:00.1: numvfs=2 "
               "with vfio-pci may leave it");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2 --no-apply"), 0);
    ck_assert_str_eq(e.out, "persisted: 0000:03:00.1 numvfs=2\n");
    ck_assert_str_eq(e.err, STUB_WARNING);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* No stub for it: nothing to say. */
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/10-stub.conf")), 0);
    ck_assert_int_eq(hd("persist 0000:03:00.1 --numvfs 2 --no-apply --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
#undef STUB_WARNING
}
END_TEST

/* udev's "add" of a PF a line gives a stub and a count binds it first, then sets the count on
 * the stub: the dry run asks the count of the driver its bind plans, as the run finds it bound
 * (it asked the host driver the PF had, or none, and planned VFs the run then failed to make):
 * same error, same exit, text and JSON; with vfio-pci's enable_sriov set, the same plan. */
HD_TEST(a_uevent_dry_run_plans_the_count_on_the_stub_its_bind_plans)
{
    static const char *const pfs[] = {"0000:03:00.1", "0000:81:00.0"}; /* ixgbe, unbound */
    char env[128], *run_err;

    for (size_t k = 0; k < 4; k++) {
        /* A fresh kernel each time: the run's bind stays, its count failed. */
        eng_start(&e, "server-sriov");
        conf("10-pf.conf", "0000:03:00.1 vfio-pci numvfs=2\n0000:81:00.0 vfio-pci numvfs=2\n");
        snprintf(env, sizeof(env), "ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=%s", pfs[k % 2]);
        ck_assert_int_eq(
            hd_env(env, k < 2 ? "reserve --uevent --dry-run" : "--json reserve --uevent --dry-run"),
            1);
        ck_assert_ptr_null(strstr(e.out, "virtual functions"));
        ck_err_has("is on vfio-pci, which changes a VF count only with its enable_sriov "
                   "parameter set to Y");
        ck_assert_uint_eq(eng_writes(&e), 0);
        run_err = strdup(e.err);
        ck_assert_int_eq(hd_env(env, k < 2 ? "reserve --uevent" : "--json reserve --uevent"), 1);
        ck_assert_str_eq(e.err, run_err);
        free(run_err);
        eng_stop(&e);
    }
    eng_start(&e, "server-sriov");
    conf("10-pf.conf", "0000:81:00.0 vfio-pci numvfs=2\n");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:81:00.0",
                            "reserve --uevent --dry-run"),
                     0);
    ck_assert_str_eq(
        e.out,
        "dry run: nothing changed; reserve would do:\n"
        "  0000:81:00.0: unbound -> vfio-pci (etc/hostdev.d/10-pf.conf:1)\n"
        "  0000:81:00.0: 2 virtual functions (was 0; etc/hostdev.d/10-pf.conf:1)\n"
        "    0000:81:10.0: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n"
        "    0000:81:10.2: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n");
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:81:00.0",
                            "reserve --uevent"),
                     0);
    ck_assert_str_eq(
        e.out,
        "0000:81:00.0: unbound -> vfio-pci (etc/hostdev.d/10-pf.conf:1)\n"
        "0000:81:00.0: 2 virtual functions (was 0; etc/hostdev.d/10-pf.conf:1)\n"
        "    0000:81:10.0: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n"
        "    0000:81:10.2: made, on vfio-pci: its PF is on vfio-pci, which the kernel gives it "
        "as its driver_override\n");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:81:00.0/sriov_numvfs"), "2");
}
END_TEST

/* Refused in the plan that comes before the run (the PF's interface carries a route), its
 * count planned after its reservation: nothing was done, and the plan is not said as done. */
HD_TEST(a_persist_refused_in_its_plan_prints_no_plan)
{
    eng_start(&e, "kernel 6.1.0-13-amd64\n"
                  "iommu intel\n"
                  "driver pcieport builtin class=060400\n"
                  "driver ixgbe ids=8086:10fb sriov\n"
                  "driver vfio-pci module=vfio_pci stub vfio sriov\n"
                  "device 0000:00:02.0 8086:2032 class=060400 driver=pcieport secondary=03\n"
                  "device 0000:03:00.0 8086:10fb class=020000 driver=ixgbe reset=flr totalvfs=8 "
                  "vf-device=10ed vf-offset=128 vf-stride=2\n"
                  "net 0000:03:00.0 eth0 up route=10.0.0.0/24\n");
    ck_assert_int_eq(hd("persist 03:00.0 --numvfs 2 --driver vfio-pci"), 1);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err, "hostdev persist: 0000:03:00.0: eth0 is up with routes (--force takes "
                            "it anyway)\n" STUB_COUNT_WARNING("persist", "0000:03:00.0"));
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* Seen in the VM suite's udev boot: a PF whose driver bound before udev started (the
 * initramfs loaded it) only ever gets coldplug's "add" event; the rule sets its VFs then. */
HD_TEST(reserve_uevent_add_of_bound_pf_sets_vfs)
{
    eng_start(&e, "server-sriov");
    conf("sriov.conf", "0000:03:00.1 numvfs=2\n8086:10ed\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "ixgbe");
    ck_assert_int_eq(
        hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:03:00.1", "reserve --uevent"), 0);
    ck_out_has("0000:03:00.1: 2 virtual functions (was 0;");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "ixgbe");
    /* Again (a second coldplug): nothing to do, and said so. */
    ck_assert_int_eq(
        hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=0000:03:00.1", "reserve --uevent"), 0);
    ck_assert_str_eq(e.out,
                     "0000:03:00.1: 2 virtual functions already (etc/hostdev.d/sriov.conf:1)\n");
}
END_TEST

HD_TEST(persist_round_trip)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_str_eq(e.out, NIC ": e1000e -> vfio-pci (persist)\npersisted: " NIC " vfio-pci\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_int_eq(hd("persisted"), 0);
    ck_out_has(NIC " vfio-pci");
    ck_out_has("etc/hostdev.d/persist-" NIC ".conf:2");
    ck_assert_int_eq(hd("--json persisted"), 0);
    ck_out_has("\"file\": \"etc/hostdev.d/persist-" NIC ".conf\"");
    /* What the next boot does: the device starts on e1000e, `hostdev reserve` reads the file. */
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");

    ck_assert_int_eq(hd("unpersist pci_0000_03_00_0"), 0);
    /* Said back canonically, however it was typed. */
    ck_assert_str_eq(e.out, "unpersisted: " NIC "\n" NIC ": vfio-pci -> e1000e\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "(null)");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_int_eq(hd("unpersist 03:00.0"), 2);
    ck_assert_str_eq(e.err, "hostdev unpersist: " NIC " is not persisted (see hostdev "
                            "persisted)\n");
}
END_TEST

/* Put the NIC on vfio-pci as vfio-pci.ids= or another tool's new_id does: no driver record,
 * no driver_override. */
static void nic_on_vfio_by_id(void)
{
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/e1000e/unbind", NIC), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/new_id", "8086 10d3"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/remove_id", "8086 10d3"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails e1000e 0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "(null)");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
}

/* A reserved device on a stub with no driver record (its record lost, or written by a hostdev
 * that did not record a device found on its stub) is where unpersist leaves it, saying why: no
 * record names another driver, and records are the truth. */
HD_TEST(unpersist_leaves_an_unrecorded_device_where_it_was)
{
    eng_start(&e, "demo");
    nic_on_vfio_by_id();

    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_int_eq(unlink(fx_path(&e.fx, "run/hostdev/drivers/" NIC)), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("unpersist 03:00.0 --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would unpersist " NIC " and do:\n"
                            "  " NIC ": stays on vfio-pci: no record of a driver it had before\n");
    ck_assert_int_eq(hd("--json unpersist 03:00.0 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"stays\": [\n    {\n      \"device\": \"" NIC "\",\n      \"driver\": "
               "\"vfio-pci\"");
    ck_out_has("\"steps\": []");
    ck_assert_uint_eq(eng_writes(&e), writes);

    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(e.out, "unpersisted: " NIC "\n" NIC
                            ": stays on vfio-pci: no record of a driver it had before\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));

    /* Its override the stub's already (the stay kept it), persist changes nothing and records
     * nothing: it stays as it was. */
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_out_has("reserved for vfio-pci already");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    ck_assert_int_eq(hd("--json unpersist 03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"stays\": [\n    {\n      \"device\": \"" NIC "\"");
    ck_out_has("\"steps\": []");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");

    /* With a record (it left e1000e), it goes back to what the record names. */
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(e.out, "unpersisted: " NIC "\n" NIC ": vfio-pci -> e1000e\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
}
END_TEST

/* A device on vfio-pci before persist (vfio-pci.ids=, another tool's new_id) is recorded as
 * on it: unpersist leaves it there, bound all along, with the driver_override it had (none, or
 * someone else's) instead of persist's, as it was before persist; the record goes with the
 * reservation's undo when persist fails. */
HD_TEST(unpersist_leaves_a_device_on_its_stub_with_its_override)
{
    static const struct {
        const char *override, *record;
    } cases[] = {
        {"", "vfio-pci"},
        {"e1000e", "vfio-pci\noverride=e1000e"},
    };

    eng_start(&e, "demo");
    nic_on_vfio_by_id();
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " NIC_OVERRIDE " EIO nth=1 count=1"), 0);
    ck_assert_int_eq(hd("persist 03:00.0"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "(null)");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *was = cases[i].override[0] ? cases[i].override : "(null)";
        ck_assert_int_eq(fx_write(&e.fx, NIC_OVERRIDE, cases[i].override[0] ? cases[i].override
                                                                            : "\n"), 0);
        ck_assert_int_eq(hd("persist 03:00.0"), 0);
        ck_assert_str_eq(e.out, NIC ": on vfio-pci already, reserved for it (persist)\n"
                                    "persisted: " NIC " vfio-pci\n");
        ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
        ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
        ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), cases[i].record);

        size_t writes = eng_writes(&e);
        ck_assert_int_eq(hd("unpersist --dry-run 03:00.0"), 0);
        ck_assert_str_eq(e.out, "dry run: nothing changed; would unpersist " NIC " and do:\n"
                                "  " NIC ": stays on vfio-pci, the driver it had before\n");
        ck_assert_uint_eq(eng_writes(&e), writes);

        size_t unbinds = fx_log_count(&e.fx, "unbind " NIC);
        ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
        ck_assert_str_eq(e.out, "unpersisted: " NIC "\n" NIC
                                ": stays on vfio-pci, the driver it had before\n");
        ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
        ck_assert_uint_eq(fx_log_count(&e.fx, "unbind " NIC), unbinds);
        ck_assert_msg(strcmp(fx_read(&e.fx, NIC_OVERRIDE), was) == 0, "case %zu: override %s",
                      i, e.fx.scratch);
        ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    }
}
END_TEST

/* Put @driver_override on the NIC and move it onto @driver ("" unbound), by hand. */
static void nic_on(const char *override, const char *driver)
{
    char link[256];

    ck_assert_int_eq(fx_write(&e.fx, NIC_OVERRIDE, override[0] ? override : "\n"), 0);
    snprintf(link, sizeof(link), "sys/bus/pci/drivers/%s/unbind", fx_driver(&e.fx, NIC));
    if (strcmp(fx_driver(&e.fx, NIC), "") != 0)
        ck_assert_int_eq(fx_write(&e.fx, link, NIC), 0);
    if (driver[0])
        ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers_probe", NIC), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), driver);
}

/* unpersist puts a device back as it was before persist: its driver, pci-stub included (which
 * no record of a host driver names: the reservation records that stub), and the
 * driver_override it had, someone else's or none; a dry run changes nothing. */
HD_TEST(unpersist_puts_the_driver_and_override_back)
{
    static const struct {
        const char *override, *driver, *record;
    } cases[] = {
        {"e1000e", "e1000e", "e1000e\noverride=e1000e"},
        {"pci-stub", "pci-stub", "pci-stub\noverride=pci-stub"},
        {"", "e1000e", "e1000e"},
        {"", "", ""},
    };

    eng_start(&e, "demo");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *was = cases[i].override[0] ? cases[i].override : "(null)";
        nic_on(cases[i].override, cases[i].driver);
        size_t writes = eng_writes(&e);
        ck_assert_int_eq(hd("persist --dry-run 03:00.0"), 0);
        ck_assert_uint_eq(eng_writes(&e), writes);
        ck_assert_int_eq(hd("persist 03:00.0"), 0);
        ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
        ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
        ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), cases[i].record);

        writes = eng_writes(&e);
        ck_assert_int_eq(hd("unpersist --dry-run 03:00.0"), 0);
        ck_assert_uint_eq(eng_writes(&e), writes);
        ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
        ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
        ck_assert(fx_exists(&e.fx, "run/hostdev/drivers/" NIC));

        ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
        char driver[64], override[64];
        snprintf(driver, sizeof(driver), "%s", fx_driver(&e.fx, NIC));
        snprintf(override, sizeof(override), "%s", fx_read(&e.fx, NIC_OVERRIDE));
        ck_assert_msg(strcmp(driver, cases[i].driver) == 0 && strcmp(override, was) == 0,
                      "case %zu: on '%s' with override %s, not '%s' with %s", i, driver,
                      override, cases[i].driver, was);
        ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    }
}
END_TEST

/* A give-back undone (the next device of the operation failed) writes the record back as it
 * was, its override line too: the journal's reattach line carries it. Same group, so the two
 * go back one after the other, the GPU first. */
HD_TEST(an_undone_give_back_keeps_the_recorded_override)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(fx_write(&e.fx, GPU_OVERRIDE, "pci-stub"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/nouveau/unbind", GPU), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers_probe", GPU), 0);
    ck_assert_str_eq(fx_driver(&e.fx, GPU), "pci-stub");
    ck_assert_int_eq(hd("persist --force 01:00.0"), 0);
    ck_assert_int_eq(hd("detach --force 01:00.1"), 0);
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" GPU), "pci-stub\noverride=pci-stub");

    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails snd_hda_intel EIO"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-log"), 0);
    ck_assert_int_eq(hd("reattach 01:00.0 01:00.1"), 1);
    /* It went to pci-stub, and the undo took it from there. */
    ck_assert_uint_eq(fx_log_count(&e.fx, "unbind " GPU " pci-stub"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, GPU), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, GPU_OVERRIDE), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" GPU), "pci-stub\noverride=pci-stub");

    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails snd_hda_intel 0"), 0);
    ck_assert_int_eq(hd("unpersist 01:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, GPU), "pci-stub");
    ck_assert_str_eq(fx_read(&e.fx, GPU_OVERRIDE), "pci-stub");
}
END_TEST

/* Under --json, persist and unpersist print one document each, --dry-run too: what is (or
 * would be) written or removed, the steps that applied it, and what still reserves a device. */
HD_TEST(persist_json_is_one_document)
{
    eng_start(&e, "demo");
    /* As text, the plan comes under its heading, as every dry run's does. */
    ck_assert_int_eq(hd("persist 03:00.0 --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would persist " NIC " vfio-pci and do:\n"
                            "  " NIC ": e1000e -> vfio-pci (persist)\n");
    ck_assert_int_eq(hd("--json persist 03:00.0 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"operation\": \"persist\",\n  \"dry_run\": true,\n  \"persisted\": \"" NIC
               " vfio-pci\"");
    ck_out_has("\"action\": \"detach\",\n      \"device\": \"" NIC "\",\n      \"from\": "
               "\"e1000e\",\n      \"to\": \"vfio-pci\",\n      \"state\": \"planned\"");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));

    ck_assert_int_eq(hd("--json persist 03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"dry_run\": false,\n  \"persisted\": \"" NIC " vfio-pci\"");
    ck_out_has("\"to\": \"vfio-pci\",\n      \"state\": \"done\"");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");

    /* Another file reserves it too: unpersist removes the entry and leaves the device. */
    conf("keep.conf", NIC "\n");
    ck_assert_int_eq(hd("--json unpersist 03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"unpersisted\": \"" NIC "\",\n  \"give_back\": true");
    ck_out_has("\"still_reserved\": [\n    {\n      \"device\": \"" NIC "\",\n      "
               "\"driver\": \"vfio-pci\",\n      \"file\": \"etc/hostdev.d/keep.conf\"");
    ck_out_has("\"steps\": []");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/keep.conf")), 0);

    ck_assert_int_eq(hd("--json persist 03:00.0"), 0);
    ck_assert_int_eq(hd("--json unpersist 03:00.0 --dry-run"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"dry_run\": true,\n  \"unpersisted\": \"" NIC "\"");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_int_eq(hd("--json unpersist 03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"still_reserved\": []");
    ck_out_has("\"action\": \"reattach\",\n      \"device\": \"" NIC "\",\n      \"from\": "
               "\"vfio-pci\",\n      \"to\": \"e1000e\",\n      \"state\": \"done\"");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
}
END_TEST

HD_TEST(persist_checks_before_writing)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("persist 0000:07:00.0"), 2);
    ck_err_has("hostdev persist: 0000:07:00.0: no such PCI device under ");
    ck_err_has(" (--no-apply persists it all the same)\n");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d"));
    ck_assert_int_eq(hd("persist 00:1c.0"), 2); /* a bridge: bad input, as for detach */
    ck_err_has("bridge");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d"));
    ck_assert_int_eq(hd("persist --no-apply 00:1c.0"), 2); /* the boot could not either */
    ck_err_has("bridge");
    ck_assert_int_eq(hd("persist --no-apply --numvfs 2 03:00.0"), 2);
    ck_err_has("not SR-IOV capable");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d"));
    ck_assert_int_eq(hd("persist --driver e1000e 03:00.0"), 2);
    ck_assert_int_eq(hd("persist 8086:10d3 --numvfs 2"), 2);
    ck_assert_int_eq(hd("persist"), 2);
    ck_assert_int_eq(hd("persist zz"), 2);
    ck_err_has("invalid device 'zz'");
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* --no-apply: only the file, for a device that is not there now. */
    ck_assert_int_eq(hd("persist --no-apply --driver pci-stub 0000:07:00.0"), 0);
    ck_assert_str_eq(fx_read(&e.fx, "etc/hostdev.d/persist-0000:07:00.0.conf"),
                     "# Written by `hostdev persist`; `hostdev unpersist` removes it.\n"
                     "0000:07:00.0 pci-stub");
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* Still reserved elsewhere: unpersist leaves the device where it is. */
    conf("10-nic.conf", "8086:10d3\n");
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_out_has("still reserved for vfio-pci by etc/hostdev.d/10-nic.conf:1");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    conf("20-bad.conf", "nonsense\n");
    ck_assert_int_eq(hd("persisted"), 2);
    ck_err_has("etc/hostdev.d/20-bad.conf:1: invalid device 'nonsense'");
}
END_TEST

/* A reservation made while a VM holds the device is honoured when the VM lets it go: the
 * device stays on its stub (as the next boot would put it), its record kept for unpersist. */
HD_TEST(release_leaves_a_reserved_device_on_its_stub)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_int_eq(hd("release --vm a --dry-run"), 0);
    ck_out_has(NIC ": stays on vfio-pci, reserved by etc/hostdev.d/persist-" NIC ".conf:2\n");
    ck_assert_int_eq(hd("release --vm a"), 0);
    ck_out_has(NIC ": stays on vfio-pci, reserved by etc/hostdev.d/persist-" NIC ".conf:2\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_int_eq(hd("assignments"), 0);
    ck_assert_ptr_null(strstr(e.out, NIC));
    ck_assert_int_eq(hd("--json release --vm a"), 1); /* it holds nothing now */
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    /* Without a reservation, release gives it back as before. */
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(hd("release --vm a"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
}
END_TEST

/* release gives a device back to its host driver only when it can tell that no reservation
 * keeps it, as unpersist does: a file that cannot be read, or a bad line naming the device,
 * may reserve it. Refused (exit 2) naming the file, before anything changes; the emergency
 * release (--force) gives it back whatever the configuration says. */
HD_TEST(release_in_doubt_gives_nothing_back)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 03:00.0"), 0);
    conf("10-old.conf", NIC "\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault etc/hostdev.d/10-old.conf EIO on=read count=0"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("release --vm a --dry-run"), 2);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err,
                     "hostdev release: vm a: " NIC ": not given back, since the configuration "
                     "may still reserve it: etc/hostdev.d/10-old.conf: Input/output error "
                     "(mend or remove that first)\n");
    ck_assert_int_eq(hd("release --vm a"), 2);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err,
                     "hostdev release: vm a: " NIC ": not given back, since the configuration "
                     "may still reserve it: etc/hostdev.d/10-old.conf: Input/output error "
                     "(mend or remove that first)\n");
    ck_assert_int_eq(hd("--json release --vm a"), 2);
    at_json_check(e.err, false);
    ck_err_has("\"exit\":2,\"command\":\"release\"");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd("assignments"), 0);
    ck_out_has(NIC);
    /* A bad line naming it: the file and the line are named. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    conf("10-old.conf", "# the NIC\n0000:03:00.0 vfio\n");
    ck_assert_int_eq(hd("release --vm a"), 2);
    ck_err_has("may still reserve it: etc/hostdev.d/10-old.conf:2: 'vfio' is neither");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* A good line keeping it leaves nothing in doubt: it stays, as reserved. */
    conf("05-keep.conf", NIC " vfio-pci\n");
    ck_assert_int_eq(hd("release --vm a --dry-run"), 0);
    ck_out_has(NIC ": stays on vfio-pci, reserved by etc/hostdev.d/05-keep.conf:1\n");
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/05-keep.conf")), 0);
    /* A bad line naming another device does not stand in the way. */
    conf("10-old.conf", "0000:01:00.0 vfio\nnonsense\n");
    ck_assert_int_eq(hd("release --vm a"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    /* The emergency release gives it back whatever the configuration says. */
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 03:00.0"), 0);
    conf("10-old.conf", NIC " vfio\n");
    ck_assert_int_eq(hd("release --vm a"), 2);
    ck_assert_int_eq(hd("release --force 03:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
}
END_TEST

/* A reattach, or an emergency release, gives a device back to its host driver while a
 * reservation file still names it: the plan and the run say that the next boot, or its next add
 * event, takes it again, and what ends that (unpersist for a persisted one, the line for an
 * admin's own). Nothing is said of a device no file names. */
#define NIC_STILL_RESERVED                                                                        \
    NIC " is still reserved for vfio-pci (etc/hostdev.d/persist-" NIC ".conf:2): the next boot, " \
        "or its next add event, takes it again"
HD_TEST(a_reserved_device_given_back_is_said_to_come_back)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("reattach 03:00.0"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_int_eq(hd("reattach --dry-run 03:00.0"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; reattach would do:\n"
                            "  " NIC ": vfio-pci -> e1000e\n");
    ck_assert_str_eq(e.err, "hostdev reattach: note: " NIC_STILL_RESERVED
                            " ('hostdev unpersist " NIC "' ends that)\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_int_eq(hd("--json reattach 03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"still_reserved\": [\n    {\n      \"device\": \"" NIC "\",\n"
               "      \"driver\": \"vfio-pci\",\n"
               "      \"file\": \"etc/hostdev.d/persist-" NIC ".conf\",\n"
               "      \"line\": 2,\n      \"persisted\": true,\n"
               "      \"note\": \"" NIC_STILL_RESERVED "\"\n    }\n  ]");
    ck_assert_str_eq(e.err, "");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    /* The emergency release gives it back too; a VM's release keeps it on its stub. */
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(hd("release --force 03:00.0"), 0);
    ck_assert_str_eq(e.err, "hostdev release: note: " NIC_STILL_RESERVED " ('hostdev unpersist " NIC
                            "' ends that)\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(hd("--json release --vm a"), 0);
    ck_out_has("\"still_reserved\": []");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    /* An admin's line, by ids: that line ends it. */
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    conf("10-nic.conf", "# the NIC\n8086:10d3 vfio-pci\n");
    ck_assert_int_eq(hd("detach 03:00.0"), 0);
    ck_assert_int_eq(hd("reattach 03:00.0"), 0);
    ck_assert_str_eq(e.err, "hostdev reattach: note: " NIC " is still reserved for vfio-pci "
                            "(etc/hostdev.d/10-nic.conf:2): the next boot, or its next add event, "
                            "takes it again (removing that line ends that)\n");
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/10-nic.conf")), 0);
    ck_assert_int_eq(hd("detach 03:00.0"), 0);
    ck_assert_int_eq(hd("reattach 03:00.0"), 0);
    ck_assert_str_eq(e.err, "");
}
END_TEST

/* The kernel command line's hostdev.reserve= takes a given-back device again at the next boot
 * (with that command line) and at its next add event, as a file does: the note says so, naming
 * the command line and what ends it, plan and run, text and JSON. With a file as well, the note
 * names the entry that wins, as the boot applies it (an address beats ids; the command line,
 * read last, beats a file's entry of the same kind). */
#define CMDLINE_SPEC(reserve)                                                                  \
    "iommu intel\n"                                                                            \
    "driver e1000e ids=8086:10d3\n"                                                            \
    "driver vfio-pci module=vfio_pci stub vfio\n"                                              \
    "device 0000:00:02.0 8086:10d3 class=020000 driver=e1000e\n"                               \
    "cmdline \"ro quiet hostdev.reserve=" reserve "\"\n"
#define CMDLINE_STILL_RESERVED                                                                 \
    "0000:00:02.0 is still reserved for vfio-pci (hostdev.reserve= on the kernel command "     \
    "line, proc/cmdline): the next boot, or its next add event, takes it again"
HD_TEST(a_device_the_command_line_reserves_given_back_is_said_to_come_back)
{
    eng_start(&e, CMDLINE_SPEC("0000:00:02.0"));
    ck_assert_int_eq(hd("detach 00:02.0"), 0);
    ck_assert_int_eq(hd("reattach --dry-run 00:02.0"), 0);
    ck_assert_str_eq(e.err, "hostdev reattach: note: " CMDLINE_STILL_RESERVED " (removing "
                            "0000:00:02.0 from hostdev.reserve= in the boot loader's "
                            "configuration ends that)\n");
    ck_assert_int_eq(hd("--json reattach 00:02.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"still_reserved\": [\n    {\n      \"device\": \"0000:00:02.0\",\n"
               "      \"driver\": \"vfio-pci\",\n"
               "      \"file\": \"proc/cmdline\",\n"
               "      \"line\": null,\n      \"persisted\": false,\n"
               "      \"note\": \"" CMDLINE_STILL_RESERVED "\"\n    }\n  ]");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:02.0"), "e1000e");
    /* A file's address entry as well: the command line's, read last, is the one applied. */
    conf("10-nic.conf", "0000:00:02.0 pci-stub\n");
    ck_assert_int_eq(hd("detach 00:02.0"), 0);
    ck_assert_int_eq(hd("reattach 00:02.0"), 0);
    ck_assert_str_eq(e.err, "hostdev reattach: note: " CMDLINE_STILL_RESERVED " (removing "
                            "0000:00:02.0 from hostdev.reserve= in the boot loader's "
                            "configuration ends that)\n");
    eng_stop(&e);
    /* The command line by ids, a file by address: the file's entry wins, and is named. */
    eng_start(&e, CMDLINE_SPEC("8086:10d3"));
    conf("10-nic.conf", "0000:00:02.0 vfio-pci\n");
    ck_assert_int_eq(hd("detach 00:02.0"), 0);
    ck_assert_int_eq(hd("reattach 00:02.0"), 0);
    ck_assert_str_eq(e.err, "hostdev reattach: note: 0000:00:02.0 is still reserved for vfio-pci "
                            "(etc/hostdev.d/10-nic.conf:1): the next boot, or its next add event, "
                            "takes it again (removing that line ends that)\n");
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/10-nic.conf")), 0);
    ck_assert_int_eq(hd("detach 00:02.0"), 0);
    ck_assert_int_eq(hd("reattach 00:02.0"), 0);
    ck_assert_str_eq(e.err, "hostdev reattach: note: 0000:00:02.0 is still reserved for vfio-pci "
                            "(hostdev.reserve= on the kernel command line, proc/cmdline): the next "
                            "boot, or its next add event, takes it again (removing 8086:10d3 from "
                            "hostdev.reserve= in the boot loader's configuration ends that)\n");
}
END_TEST
#undef CMDLINE_SPEC
#undef CMDLINE_STILL_RESERVED

/* A stub that is not there (and cannot be loaded under a fake root) is found by the plan, as
 * the write would find it: the dry run says what the run would. */
HD_TEST(a_missing_stub_is_planned_as_it_fails)
{
    eng_start(&e, "fleet");
    size_t writes = eng_writes(&e);
    static const char *const refused[] = {
        "detach --dry-run --driver pci-stub 81:10.6", "detach --driver pci-stub 81:10.6",
        "persist --dry-run --driver pci-stub 04:00.1", "persist --driver pci-stub 04:00.1"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        ck_assert_msg(hd(refused[i]) == 1, "%s", refused[i]);
        ck_err_has("driver pci-stub is not loaded under ");
    }
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:04:00.1.conf"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd("detach --dry-run 81:10.6"), 0); /* vfio-pci is there */
    /* A managed acquire detaches too: without vfio-pci its plan says so, as its run would. */
    ck_assert_int_eq(fx_ctl(&e.fx, "rmmod vfio_pci"), 0);
    writes = eng_writes(&e);
    static const char *const acquires[] = {"acquire --dry-run --vm a --owner 0:0 81:10.6",
                                           "acquire --vm a --owner 0:0 81:10.6"};
    for (size_t i = 0; i < sizeof(acquires) / sizeof(acquires[0]); i++) {
        ck_assert_msg(hd(acquires[i]) == 1, "%s", acquires[i]);
        ck_err_has("driver vfio-pci is not loaded under ");
    }
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe vfio_pci"), 0);
    ck_assert_int_eq(hd("acquire --dry-run --vm a --owner 0:0 81:10.6"), 0);
}
END_TEST

/* The file is written first and the device changed after it: a file that cannot be written
 * (a read-only /etc, here a file where the directory goes) changes no device, exit 1. */
HD_TEST(persist_without_its_file_changes_nothing)
{
    eng_start(&e, "demo");
    eng_put(&e, "etc/hostdev.d", "not a directory");
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("persist 03:00.0"), 1);
    ck_err_has("persist-" NIC ".conf");
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd("--json persist 03:00.0"), 1);
    ck_err_has("\"exit\":1,");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
}
END_TEST

/* unpersist is all or nothing: a device a VM holds cannot go back, so the file stays and
 * nothing changes, and the dry run says so first; what is not persisted is bad input, the dry
 * run's too. */
HD_TEST(unpersist_is_all_or_nothing)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("unpersist --dry-run 03:00.0"), 2);
    ck_err_has(NIC " is not persisted");
    ck_assert_int_eq(hd("unpersist --dry-run --no-apply 03:00.0"), 2);
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 03:00.0"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("unpersist --dry-run 03:00.0"), 1);
    ck_assert_str_eq(e.err, "hostdev unpersist: " NIC " is assigned to vm a: giving it back to the "
                            "host would take it from under the VM; release it first\n");
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 1);
    ck_err_has("assigned to vm a");
    ck_assert_int_eq(hd("--json unpersist 03:00.0"), 1);
    ck_err_has("\"exit\":1");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    /* Released: the plan, then the real thing. */
    ck_assert_int_eq(hd("release --vm a"), 0);
    ck_assert_int_eq(hd("unpersist --dry-run 03:00.0"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; would unpersist " NIC " and do:\n"
                            "  " NIC ": vfio-pci -> e1000e\n");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    eng_stop(&e);
    /* Many devices: one that fails late puts the others back on their stub, file and all. */
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("persist 8086:10ed"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:11.0/driver_override EIO "
                                   "nth=1"), 0);
    ck_assert_int_eq(hd("unpersist 8086:10ed"), 1);
    ck_err_has("0000:03:11.0: writing driver_override failed");
    static const char *const vfs[] = {"0000:03:10.0", "0000:03:10.6", "0000:03:11.0",
                                      "0000:03:11.6"};
    for (size_t i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++)
        ck_assert_msg(strcmp(fx_driver(&e.fx, vfs[i]), "vfio-pci") == 0, "%s", vfs[i]);
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-8086:10ed.conf"));
    ck_assert_int_eq(hd("unpersist 8086:10ed"), 0);
    for (size_t i = 0; i < sizeof(vfs) / sizeof(vfs[0]); i++)
        ck_assert_msg(strcmp(fx_driver(&e.fx, vfs[i]), "ixgbevf") == 0, "%s", vfs[i]);
}
END_TEST

/* unpersist gives a device back only when it can tell that nothing else keeps it: a file that
 * cannot be read or is none, or a bad line naming the device, may reserve it at the next boot.
 * Refused (exit 2) naming the file, and nothing changes, the persisted file included; a bad
 * line that names another device does not stand in the way. */
HD_TEST(unpersist_in_doubt_gives_nothing_back)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    conf("10-old.conf", NIC "\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault etc/hostdev.d/10-old.conf EIO on=read count=0"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("unpersist --dry-run 03:00.0"), 2);
    ck_assert_str_eq(e.out, "");
    ck_err_has("etc/hostdev.d/10-old.conf: Input/output error");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 2);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err, "hostdev unpersist: " NIC ": not given back, since the configuration "
                            "may still reserve it: etc/hostdev.d/10-old.conf: Input/output error "
                            "(mend or remove that first)\n");
    ck_assert_int_eq(hd("--json unpersist 03:00.0"), 2);
    at_json_check(e.err, false);
    ck_err_has("\"exit\":2,\"command\":\"unpersist\"");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* The same for a directory named .conf. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/10-old.conf")), 0);
    ck_assert_int_eq(mkdir(fx_path(&e.fx, "etc/hostdev.d/10-old.conf"), 0755), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0"), 2);
    ck_err_has("may still reserve it: etc/hostdev.d/10-old.conf: not a reservation file (a "
               "directory)");
    ck_assert_int_eq(rmdir(fx_path(&e.fx, "etc/hostdev.d/10-old.conf")), 0);
    /* A bad line naming it, by address or by ids: the file and the line are named. */
    conf("20-typo.conf", "# the NIC\n0000:03:00.0 vfio\n");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 2);
    ck_assert_str_eq(e.err, "hostdev unpersist: " NIC ": not given back, since the configuration "
                            "may still reserve it: etc/hostdev.d/20-typo.conf:2: 'vfio' is neither "
                            "a driver (vfio-pci, a vfio-pci variant, pci-stub), numvfs=N nor "
                            "noiommu (mend or remove that first)\n");
    conf("20-typo.conf", "8086:10d3 numvfs=x\n");
    ck_assert_int_eq(hd("unpersist --dry-run 03:00.0"), 2);
    ck_err_has("etc/hostdev.d/20-typo.conf:1: ");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* Bad lines that cannot name it: another device, no device at all. */
    conf("20-typo.conf", "0000:01:00.0 vfio\nnonsense\n");
    ck_assert_int_eq(hd("persisted"), 2); /* still errors there */
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(e.out, "unpersisted: " NIC "\n" NIC ": vfio-pci -> e1000e\n");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    /* --no-apply gives nothing back: nothing to doubt. */
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    conf("20-typo.conf", "03:00.0 vfio\n");
    ck_assert_int_eq(hd("unpersist --no-apply 03:00.0"), 0);
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
}
END_TEST

/* The boot reserves what an entry names, no more: persisting the GPU alone leaves its HDMI
 * audio function on the host's driver, and the group from every VM, boot after boot. */
HD_TEST(persist_notes_a_group_it_leaves_not_viable)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("persist --dry-run 01:00.0"), 0);
    ck_assert_str_eq(e.err, "hostdev persist: note: IOMMU group 1 is not viable yet, a VM cannot "
                            "use " GPU ": 0000:01:00.1 is bound to snd_hda_intel. Persist it too, "
                            "or every boot leaves the group so.\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_int_eq(hd("persist 01:00.0"), 0);
    ck_assert_str_eq(e.out, GPU ": nouveau -> vfio-pci (persist)\npersisted: " GPU " vfio-pci\n");
    ck_err_has("IOMMU group 1 is not viable yet, a VM cannot use " GPU ": 0000:01:00.1 is bound "
               "to snd_hda_intel. Persist it too");
    ck_assert_int_eq(hd("--json persist --dry-run 01:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"unviable\": [\n    {\n      \"group\": 1,\n      \"device\": \"" GPU "\"");
    ck_assert_str_eq(e.err, "");
    /* With its companion persisted too, the group is whole. */
    ck_assert_int_eq(hd("persist 10de:10f0"), 0);
    ck_assert_str_eq(e.err, "");
    /* A group the host keeps part of: no persist makes it whole. */
    ck_assert_int_eq(hd("persist 00:1f.3"), 0);
    ck_err_has("But 0000:00:1f.0 is an ISA/LPC bridge the host keeps, 0000:00:1f.4 is an SMBus "
               "controller the host keeps: no VM can have this group");
}
END_TEST

/* VFIO gives a group whole: a line that keeps the GPU and leaves its HDMI audio function to
 * snd_hda_intel boots a host where no VM can have the GPU. */
/* An empty file at @rel under the root. */
static void touch(const char *rel)
{
    FILE *f = fopen(fx_path(&e.fx, rel), "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fclose(f), 0);
}

/* With hostdev's initramfs-tools hook or dracut module installed, the initramfs carries
 * etc/hostdev.d as it was when it was made, and reserves from that copy first: an unpersisted
 * device is still reserved at the next boot until the image is made again. */
HD_TEST(persist_and_unpersist_say_the_initramfs_keeps_its_copy)
{
    static const char *const dirs[] = {"usr", "usr/share", "usr/share/initramfs-tools",
                                       "usr/share/initramfs-tools/hooks", "usr/lib",
                                       "usr/lib/dracut", "usr/lib/dracut/modules.d",
                                       "usr/lib/dracut/modules.d/90hostdev"};

    eng_start(&e, "demo");
    /* No hook: nothing to say. */
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(e.err, "");
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        mkdir(fx_path(&e.fx, dirs[i]), 0755);
    touch("usr/share/initramfs-tools/hooks/hostdev");
    ck_assert_int_eq(hd("persist --dry-run 03:00.0"), 0);
    ck_assert_str_eq(e.err, "hostdev persist: note: the initramfs holds etc/hostdev.d as it was "
                            "when it was made: until 'update-initramfs -u' makes it again, its "
                            "boot does not reserve this before host drivers load (the root file "
                            "system's boot does, later)\n");
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_err_has("until 'update-initramfs -u' makes it again");
    ck_assert_int_eq(hd("--json unpersist --dry-run 03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"warnings\": [\n    \"the initramfs holds etc/hostdev.d as it was when it was "
               "made: until 'update-initramfs -u' makes it again, its boot still reserves what "
               "this file reserved\"");
    ck_assert_str_eq(e.err, "");
    touch("usr/lib/dracut/modules.d/90hostdev/module-setup.sh");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(e.out, "unpersisted: " NIC "\n" NIC ": vfio-pci -> e1000e\n");
    ck_assert_str_eq(e.err, "hostdev unpersist: note: the initramfs holds etc/hostdev.d as it was "
                            "when it was made: until 'update-initramfs -u' or 'dracut -f' makes it "
                            "again, its boot still reserves what this file reserved\n");
}
END_TEST

HD_TEST(cmdline_warns_of_a_group_it_keeps_in_part)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("cmdline 01:00.0"), 0);
    ck_assert_str_eq(e.out, "intel_iommu=on iommu=pt vfio-pci.ids=10de:1b81\n");
    ck_assert_str_eq(e.err,
                     "hostdev cmdline: warning: IOMMU group 1 also holds 0000:01:00.1 "
                     "(snd_hda_intel), which this line leaves with the host: no VM can have " GPU
                     " without it; give it too\n");
    ck_assert_int_eq(hd("cmdline --reserve 01:00.0"), 0);
    ck_err_has("IOMMU group 1 also holds 0000:01:00.1 (snd_hda_intel)");
    ck_assert_int_eq(hd("--json cmdline 01:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"warnings\": [\n    \"IOMMU group 1 also holds 0000:01:00.1 (snd_hda_intel)");
    ck_assert_str_eq(e.err, "");
    /* The whole group: nothing to say. */
    ck_assert_int_eq(hd("cmdline 01:00.0 01:00.1"), 0);
    ck_assert_str_eq(e.err, "");
    /* A group the host keeps part of: no line gives it to a VM. */
    ck_assert_int_eq(hd("cmdline 00:1f.3"), 0);
    ck_assert_str_eq(e.err, "hostdev cmdline: warning: IOMMU group 9 also holds 0000:00:1f.0 (an "
                            "ISA/LPC bridge the host keeps), 0000:00:1f.4 (an SMBus controller the "
                            "host keeps), which this line leaves with the host: no VM can have "
                            "0000:00:1f.3 on this host as it is\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

HD_TEST(cmdline_intel_amd_and_twins)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(hd("cmdline 03:00.0"), 0);
    ck_assert_str_eq(e.out, "intel_iommu=on iommu=pt vfio-pci.ids=8086:10d3\n");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("cmdline --reserve 01:00.0 01:00.1"), 0);
    ck_assert_str_eq(e.out, "intel_iommu=on iommu=pt hostdev.reserve=0000:01:00.0,0000:01:00.1\n");
    ck_assert_int_eq(hd("cmdline --driver pci-stub 01:00.0 01:00.1"), 0);
    ck_assert_str_eq(e.out, "intel_iommu=on iommu=pt pci-stub.ids=10de:1b81,10de:10f0\n");
    ck_assert_int_eq(hd("cmdline --reserve --driver pci-stub 03:00.0"), 0);
    ck_assert_str_eq(e.out, "intel_iommu=on iommu=pt hostdev.reserve=0000:03:00.0 "
                            "hostdev.driver=pci-stub\n");
    ck_assert_int_eq(hd("--json cmdline 03:00.0"), 0);
    ck_out_has("\"vendor\": \"intel\"");
    ck_assert_int_eq(hd("cmdline"), 2);
    ck_assert_int_eq(hd("cmdline 03:00.0 --driver e1000e"), 2);
    /* What the boot would refuse is not printed: a bridge never, a platform function only
     * with --force. */
    ck_assert_int_eq(hd("cmdline --reserve 03:00.0 00:1c.0"), 2);
    ck_assert_str_eq(e.out, "");
    ck_err_has("0000:00:1c.0 is a bridge (header type 1), not an endpoint");
    ck_assert_int_eq(hd("cmdline 00:1f.4"), 1);
    ck_assert_str_eq(e.out, "");
    ck_err_has("0000:00:1f.4 is an SMBus controller, which the host keeps (--force prints it "
               "anyway)");
    ck_assert_int_eq(hd("cmdline --force 00:1f.4"), 0);
    ck_assert_str_eq(e.out, "intel_iommu=on iommu=pt vfio-pci.ids=8086:a123\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
    eng_stop(&e);

    /* AMD: no switch (amd_iommu=on is not an option); twins are named in a warning. */
    eng_start(&e, "iommu amd\n"
                  "driver igb ids=8086:1539\n"
                  "device 0000:03:00.0 8086:1539 class=020000 driver=igb parent=root\n"
                  "device 0000:04:00.0 8086:1539 class=020000 driver=igb parent=root\n"
                  "device 0000:05:00.0 8086:1539 class=020000 driver=igb parent=root\n");
    ck_assert_int_eq(hd("cmdline 03:00.0"), 0);
    ck_assert_str_eq(e.out, "iommu=pt vfio-pci.ids=8086:1539\n");
    ck_assert_str_eq(e.err, "hostdev cmdline: warning: vfio-pci.ids= also takes 0000:04:00.0, "
                            "0000:05:00.0 (same ids, not asked for); 'hostdev cmdline --reserve' "
                            "names only the devices given\n");
    ck_assert_int_eq(hd("cmdline 03:00.0 04:00.0 05:00.0"), 0);
    ck_assert_str_eq(e.err, "");
    /* Under --json the warning is the document's: nothing on stderr. */
    ck_assert_int_eq(hd("--json cmdline 03:00.0"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"also_matched\": [");
    ck_out_has("\"0000:05:00.0\"");
    ck_out_has("\"warnings\": [\n    \"vfio-pci.ids= also takes 0000:04:00.0, 0000:05:00.0 (same "
               "ids, not asked for)");
    ck_assert_str_eq(e.err, "");
}
END_TEST

/* VVVV:DDDD: every device there with these ids; --reserve keeps them ids, as the boot reads
 * hostdev.reserve=, and says what they take beyond "only these devices". */
HD_TEST(cmdline_takes_ids)
{
    eng_start(&e, "iommu amd\n"
                  "driver igb ids=8086:1539\n"
                  "device 0000:03:00.0 8086:1539 class=020000 driver=igb parent=root\n"
                  "device 0000:04:00.0 8086:1539 class=020000 driver=igb parent=root\n"
                  "device 0000:05:00.0 8086:10d3 class=020000 parent=root\n");
    ck_assert_int_eq(hd("cmdline 8086:1539"), 0);
    ck_assert_str_eq(e.out, "iommu=pt vfio-pci.ids=8086:1539\n");
    ck_assert_str_eq(e.err, ""); /* both given: no twin to warn of */
    ck_assert_int_eq(hd("cmdline --reserve 8086:1539 05:00.0"), 0);
    ck_assert_str_eq(e.out, "iommu=pt hostdev.reserve=8086:1539,0000:05:00.0\n");
    ck_assert_str_eq(e.err, "hostdev cmdline: warning: hostdev.reserve=8086:1539 takes every "
                            "device with these ids: 0000:03:00.0, 0000:04:00.0 now, and one "
                            "added later; give addresses to keep only these\n");
    /* A device named both ways, and the same ids twice, are said once. */
    ck_assert_int_eq(hd("cmdline --reserve 04:00.0 8086:1539 8086:1539"), 0);
    ck_assert_str_eq(e.out, "iommu=pt hostdev.reserve=8086:1539\n");
    ck_assert_int_eq(hd("--json cmdline --reserve 8086:1539"), 0);
    at_json_check(e.out, false);
    ck_out_has("\"hostdev.reserve=8086:1539\"");
    ck_out_has("\"warnings\": [\n    \"hostdev.reserve=8086:1539 takes every device");
    ck_assert_str_eq(e.err, "");
    /* What the boot reads back is what this command took. */
    ck_assert_int_eq(hd("cmdline --reserve --driver pci-stub 8086:1539"), 0);
    ck_assert_str_eq(e.out, "iommu=pt hostdev.reserve=8086:1539 hostdev.driver=pci-stub\n");
    /* Ids no device has: bad input, one line naming them. */
    ck_assert_int_eq(hd("cmdline --reserve 8086:1539 10de:1b81"), 2);
    ck_assert_str_eq(e.out, "");
    static const char none[] = "hostdev cmdline: 10de:1b81: no PCI device has these ids under ";
    ck_assert_int_eq(strncmp(e.err, none, sizeof(none) - 1), 0);
    ck_assert_ptr_eq(strchr(e.err, '\n'), e.err + strlen(e.err) - 1);
    ck_assert_int_eq(hd("cmdline 10de:1b81"), 2);
    ck_assert_int_eq(hd("cmdline --reserve 1539"), 2);
    ck_err_has("or ids VVVV:DDDD)");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

#define PERSIST_FILE "etc/hostdev.d/persist-" NIC ".conf"
#define NIC_RECORD   "run/hostdev/drivers/" NIC
#define KERNELS      "the kernel's choice (unbound when reserved at boot)"

/* The boot after `persist`: /run's records gone, the device not probed yet (unbound), and the
 * reservation persist wrote. */
static void boot_reserves_unprobed_nic(void)
{
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/e1000e/unbind", NIC), 0);
    conf("persist-" NIC ".conf",
         "# Written by `hostdev persist`; `hostdev unpersist` removes it.\n" NIC " vfio-pci\n");
    ck_assert_int_eq(hd("reserve"), 0);
    ck_assert_str_eq(e.out, NIC ": unbound -> vfio-pci (" PERSIST_FILE ":2)\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "*");
}

/* A device the boot's reservation finds unbound has no driver only because nothing probed it
 * yet: unpersist gives it to the driver the kernel binds, not to none. One that persist finds
 * unbound at run time was left so, and goes back to none. */
HD_TEST(unpersist_gives_a_device_reserved_unprobed_at_boot_to_the_kernel)
{
    eng_start(&e, "demo");
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/e1000e/unbind", NIC), 0);
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(e.out, "unpersisted: " NIC "\n" NIC ": vfio-pci -> none\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "");
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/e1000e/bind", NIC), 0);

    boot_reserves_unprobed_nic();
    ck_assert_int_eq(hd("show 03:00.0"), 0);
    ck_out_has("  original driver: " KERNELS "\n");
    ck_assert_int_eq(hd("--json show 03:00.0"), 0);
    ck_out_has("\"original_driver\": \"*\"");
    ck_assert_int_eq(hd("list"), 0);
    ck_out_has(" orig_driver=*");
    ck_assert_int_eq(hd("unpersist 03:00.0 --dry-run"), 0);
    ck_out_has("  " NIC ": vfio-pci -> " KERNELS "\n");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    /* The plan could only say the kernel's choice; the run says what the kernel chose. */
    ck_assert_str_eq(e.out, "unpersisted: " NIC "\n" NIC ": vfio-pci -> e1000e\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "(null)");
    ck_assert(!fx_exists(&e.fx, NIC_RECORD));
}
END_TEST

/* The kernel's choice is any driver but the stub it leaves: back there (its ids on the stub's
 * table, the host driver's probe failing), or its unbind failing, unpersist fails whole, the
 * record and the file as they were. */
HD_TEST(a_failed_give_back_to_the_kernel_keeps_the_record)
{
    eng_start(&e, "demo");
    boot_reserves_unprobed_nic();
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/new_id", "8086 10d3"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails e1000e EIO"), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0"), 1);
    ck_err_has(NIC ": back on vfio-pci after the probe, not given to the host");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "*");
    ck_assert(fx_exists(&e.fx, PERSIST_FILE));
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/vfio-pci/remove_id", "8086 10d3"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails e1000e 0"), 0);

    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/drivers/vfio-pci/unbind EIO nth=1 "
                                   "count=1"), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "*");
    ck_assert(fx_exists(&e.fx, PERSIST_FILE));
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
}
END_TEST

/* @file of the fake root with @text in it, its directories made when missing. */
static void put_file(const char *file, const char *text)
{
    char path[256];
    FILE *f;

    for (const char *slash = strchr(file, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        snprintf(path, sizeof(path), "%.*s", (int)(slash - file), file);
        mkdir(fx_path(&e.fx, path), 0755);
    }
    f = fopen(fx_path(&e.fx, file), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* The fake root's modprobe.d: what the NIC's modalias resolves with (an alias line, which
 * libkmod, or modalias.c's lookup without it, looks up before modules.alias). */
static void modprobe_conf(const char *text)
{
    put_file("etc/modprobe.d/nic.conf", text);
}

/* The kernel's choice is what coldplug would give the device: the module its modalias resolves
 * to, loaded first. One not loaded (and never loaded under a fake root) fails the give-back
 * before anything is written, its dry run as the run (a plan cannot promise what the run then
 * refuses), the device on the stub with its record, not left with no driver; a blacklisted one
 * coldplug skips too, so no driver is then the kernel's choice. */
HD_TEST(a_give_back_to_the_kernel_loads_the_module_its_modalias_names)
{
    static const char alias[] = "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n";
#define NOT_LOADED NIC ": no driver would take the device back: module e1000e is not loaded under "

    eng_start(&e, "demo");
    modprobe_conf(alias);
    boot_reserves_unprobed_nic();
    ck_assert_int_eq(fx_ctl(&e.fx, "rmmod e1000e"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("unpersist 03:00.0 --dry-run"), 1);
    ck_assert_str_eq(e.out, "");
    ck_err_has("hostdev unpersist: " NOT_LOADED);
    ck_assert_int_eq(hd("--json unpersist 03:00.0 --dry-run"), 1);
    ck_err_has(NOT_LOADED);
    ck_assert_int_eq(hd("reattach " NIC " --dry-run"), 1);
    ck_err_has(NOT_LOADED);
    ck_assert_int_eq(hd("unpersist 03:00.0"), 1);
    ck_err_has("hostdev unpersist: " NOT_LOADED);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "*");
    ck_assert(fx_exists(&e.fx, PERSIST_FILE));
    ck_assert_int_eq(hd("reattach " NIC), 1);
    ck_err_has(NOT_LOADED);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "*");

    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe e1000e"), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0 --dry-run"), 0);
    ck_out_has("  " NIC ": vfio-pci -> " KERNELS "\n");
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert(!fx_exists(&e.fx, NIC_RECORD));

    boot_reserves_unprobed_nic();
    ck_assert_int_eq(fx_ctl(&e.fx, "rmmod e1000e"), 0);
    modprobe_conf("blacklist e1000e\n" "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n");
    ck_assert_int_eq(hd("reattach " NIC " --dry-run"), 0);
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "");
    ck_assert(!fx_exists(&e.fx, NIC_RECORD));

    /* A blacklist where libkmod alone would not look under a fake root (usr/lib) counts too:
     * modprobe.d is read as kmod reads it on the host. */
    modprobe_conf(alias);
    put_file("usr/lib/modprobe.d/blacklist-e1000e.conf", "blacklist e1000e\n");
    ck_assert_int_eq(hd("reserve"), 0); /* the next boot: the NIC still unbound, e1000e out */
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "*");
    ck_assert_int_eq(hd("reattach " NIC " --dry-run"), 0);
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "");
    ck_assert(!fx_exists(&e.fx, NIC_RECORD));
#undef NOT_LOADED
}
END_TEST

/* A dynamic build on a host without libkmod (here: a libkmod.so.2 the loader cannot load,
 * first on LD_LIBRARY_PATH) resolves a modalias on the text files as the libc-only build does:
 * modules.alias names e1000e, not loaded, and the give-back is refused as with libkmod, not
 * done with no driver to take the device. The libc-only build reads the same files. */
HD_TEST(without_libkmod_a_modalias_resolves_on_modules_alias)
{
    char env[512], dir[400];
    FILE *f;

    eng_start(&e, "demo");
    put_file("lib/modules/6.1.0-13-amd64/modules.alias",
             "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n");
    boot_reserves_unprobed_nic();
    ck_assert_int_eq(fx_ctl(&e.fx, "rmmod e1000e"), 0);
    snprintf(dir, sizeof(dir), "%s", fx_path(&e.fx, "no-libkmod"));
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(env, sizeof(env), "%s/libkmod.so.2", dir);
    ck_assert_ptr_nonnull(f = fopen(env, "w")); /* empty: "file too short" to the loader */
    ck_assert_int_eq(fclose(f), 0);
    snprintf(env, sizeof(env), "LD_LIBRARY_PATH=%s", dir);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_env(env, "reattach " NIC), 1);
    ck_err_has(NIC ": no driver would take the device back: module e1000e is not loaded");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "*");
    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe e1000e"), 0);
    ck_assert_int_eq(hd_env(env, "reattach " NIC), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
}
END_TEST

/* Under a fake root a modalias resolves with the modprobe.d directories modprobe.c reads
 * (etc, run, usr/local/lib, usr/lib, lib; one file name, the first directory's), libkmod given
 * them or modalias.c's lookup on modprobe.c's lines: an alias line in any of them names the module the
 * give-back needs, here one not loaded. */
HD_TEST(a_modprobe_d_alias_counts_in_every_directory_kmod_reads)
{
    static const struct {
        const char *dir, *masked_by; /* masked_by: an empty file of the name in that one */
        bool seen;
    } cases[] = {
        {"etc", NULL, true},     {"run", NULL, true}, {"usr/local/lib", NULL, true},
        {"usr/lib", NULL, true}, {"lib", NULL, true}, {"usr/lib", "run", false},
    };
    char path[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eng_start(&e, "demo");
        boot_reserves_unprobed_nic();
        ck_assert_int_eq(fx_ctl(&e.fx, "rmmod e1000e"), 0);
        snprintf(path, sizeof(path), "%s/modprobe.d/nic.conf", cases[i].dir);
        put_file(path, "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n");
        if (cases[i].masked_by != NULL) {
            snprintf(path, sizeof(path), "%s/modprobe.d/nic.conf", cases[i].masked_by);
            put_file(path, "# not here\n");
        }
        ck_assert_msg(hd("reattach " NIC " --dry-run") == (cases[i].seen ? 1 : 0),
                      "case %zu: %s", i, e.err);
        if (cases[i].seen)
            ck_err_has("module e1000e is not loaded");
        eng_stop(&e);
    }
}
END_TEST

/* Killed in the give-back, after the record went: recovery writes it back from the intent
 * log's word for it, and puts the device back on the stub. */
HD_TEST(recovery_puts_back_a_record_of_the_kernels_choice)
{
    struct hd_ctx *ctx;
    int status;
    pid_t pid;

    eng_start(&e, "demo");
    boot_reserves_unprobed_nic();
    ck_assert_int_eq(fx_ctl(&e.fx, "hang vfio-pci forever"), 0);
    pid = eng_hostdev_start(&e.fx, "reattach " NIC);
    ck_assert(fx_wait_log(&e.fx, "unbind-hang ", 1, 5000));
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    /* The record goes while the write still hangs: its writer, finding its caller gone, may
     * undo as soon as the write returns, before a later unlink (that raced, under load). */
    ck_assert_int_eq(unlink(fx_path(&e.fx, NIC_RECORD)), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang vfio-pci 0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    ck_assert_int_eq(hd_ctx_new(e.fx.root, &ctx), 0);
    eng_recover(ctx, "reattach killed");
    hd_ctx_unref(ctx);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_RECORD), "*");
    ck_assert_int_eq(hd("reattach " NIC), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
}
END_TEST

/* VFs the boot's VF count makes and its reservations then take, unbound, are recorded as the
 * kernel's choice, and given back (reattach, unpersist) they get what the kernel binds: none for
 * those of a PF whose count the boot set (the count leaves its sriov_drivers_autoprobe 0, and
 * the kernel probes such a VF only by override: they came unbound, and stay so), the VF driver
 * for one of a PF that probes its VFs (port 0, whose VF was not probed yet at boot). */
HD_TEST(vfs_the_boot_makes_and_reserves_go_back_to_the_kernels_choice)
{
    static const char *const vfs[] = {"0000:03:10.1", "0000:03:10.3", "0000:03:10.0"};
    char path[128], line[64];

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/ixgbevf/unbind", "0000:03:10.0"), 0);
    conf("10-pf.conf", "0000:03:00.1 numvfs=2\n");
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "persist-%s.conf", vfs[i]);
        snprintf(line, sizeof(line), "%s vfio-pci\n", vfs[i]);
        conf(path, line);
    }
    ck_assert_int_eq(hd("reserve"), 0);
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "run/hostdev/drivers/%s", vfs[i]);
        ck_assert_str_eq(fx_driver(&e.fx, vfs[i]), "vfio-pci");
        ck_assert_str_eq(fx_read(&e.fx, path), "*");
    }
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_drivers_autoprobe"),
                     "0");
    /* ixgbevf, loaded, is what their modalias resolves to: still none is the kernel's choice. */
    modprobe_conf("alias pci:v00008086d000010EDsv*sd*bc*sc*i* ixgbevf\n");
    ck_assert_int_eq(hd("reattach 0000:03:10.1"), 0);
    ck_assert_str_eq(e.out, "0000:03:10.1: vfio-pci -> none\n");
    ck_assert_int_eq(hd("unpersist 0000:03:10.3"), 0);
    ck_assert_str_eq(e.out, "unpersisted: 0000:03:10.3\n0000:03:10.3: vfio-pci -> none\n");
    ck_assert_int_eq(hd("unpersist 0000:03:10.0"), 0);
    ck_assert_str_eq(e.out, "unpersisted: 0000:03:10.0\n0000:03:10.0: vfio-pci -> ixgbevf\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.1"), "");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.3"), "");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "ixgbevf");
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", vfs[i]);
        ck_assert_str_eq(fx_read(&e.fx, path), "(null)");
        snprintf(path, sizeof(path), "run/hostdev/drivers/%s", vfs[i]);
        ck_assert(!fx_exists(&e.fx, path));
    }
    /* The count stays (unpersist of a VF does not touch it), and its VFs with it. */
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
}
END_TEST

/* persist takes a network interface's name as detach does, and keeps its device's address: the
 * interface is gone once the device is on the stub. A name no interface has is bad input. */
HD_TEST(persist_takes_an_interface_name_as_its_address)
{
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("persist enp3s0f1"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.1: ixgbe -> vfio-pci (persist)\n"
                            "persisted: 0000:03:00.1 vfio-pci\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "vfio-pci");
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.1.conf"));
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("persist nosuch0"), 2);
    ck_err_has("invalid device 'nosuch0' (expected an address DDDD:BB:SS.F, ids VVVV:DDDD or a "
               "network interface's name)");
    ck_assert_uint_eq(eng_writes(&e), writes);
}
END_TEST

/* A step under --json, as tool_op_json_step_objects() prints it at @indent spaces. */
#define STEP_JSON(ind, action, dev, from, to, state)                                           \
    "\"action\": \"" action "\",\n" ind "\"device\": \"" dev "\",\n" ind "\"from\": \"" from   \
    "\",\n" ind "\"to\": \"" to "\",\n" ind "\"state\": \"" state "\""

/* Under --json a persist, unpersist or reserve that fails once it has begun writing shows its
 * steps as they ended (stdout) beside the error object (stderr), exit 1, as detach does: the
 * device is back where it was, and so is the file. One refused before any write shows none. */
HD_TEST(a_failure_under_json_shows_its_steps)
{
#define PERSISTED "etc/hostdev.d/persist-" NIC ".conf"
    eng_start(&e, "demo");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " NIC_OVERRIDE " EBUSY nth=1"), 0);
    ck_assert_int_eq(hd("--json persist 03:00.0"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"operation\": \"persist\"");
    ck_out_has(STEP_JSON("      ", "override", NIC, "none", "vfio-pci", "undone"));
    ck_out_has(STEP_JSON("      ", "detach", NIC, "e1000e", "vfio-pci", "failed"));
    ck_assert_msg(strncmp(e.err, "{\"error\":\"" NIC ": writing driver_override failed", 45) == 0,
                  "%s", e.err);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert(!fx_exists(&e.fx, PERSISTED));

    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd("persist 03:00.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " NIC_OVERRIDE " EBUSY nth=1"), 0);
    ck_assert_int_eq(hd("--json unpersist 03:00.0"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"operation\": \"unpersist\"");
    ck_out_has(STEP_JSON("      ", "override", NIC, "vfio-pci", "none", "undone"));
    ck_out_has(STEP_JSON("      ", "reattach", NIC, "vfio-pci", "e1000e", "failed"));
    ck_err_has("\"exit\":1,\"command\":\"unpersist\"");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&e.fx, PERSISTED));

    /* reserve's array: the failed device's object has its steps. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd("unpersist 03:00.0"), 0);
    conf("10-nic.conf", "03:00.0\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " NIC_OVERRIDE " EBUSY nth=1"), 0);
    ck_assert_int_eq(hd("--json reserve"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"outcome\": \"failed\",\n    \"error\": \"" NIC ": writing driver_override "
               "failed: Device or resource busy\",\n    \"steps\": [\n      {\n        "
               STEP_JSON("        ", "override", NIC, "none", "vfio-pci", "undone"));
    ck_out_has(STEP_JSON("        ", "detach", NIC, "e1000e", "vfio-pci", "failed"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
#undef PERSISTED
}
END_TEST

/* udev's "add" of a configured device whose bind fails: --json's object for the device says
 * why and gives its steps as they ended, as reserve's array does for each device. */
HD_TEST(a_uevent_failure_under_json_shows_its_steps)
{
    eng_start(&e, "demo");
    conf("10-nic.conf", "03:00.0\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " NIC_OVERRIDE " EBUSY nth=1"), 0);
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=" NIC,
                            "--json reserve --uevent"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"action\": \"add\",\n    \"error\": \"" NIC ": writing driver_override failed: "
               "Device or resource busy\",\n    \"steps\": [\n      {\n        "
               STEP_JSON("        ", "override", NIC, "none", "vfio-pci", "undone"));
    ck_out_has(STEP_JSON("        ", "detach", NIC, "e1000e", "vfio-pci", "failed"));
    ck_err_has("\"exit\":1,\"command\":\"reserve\"");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    /* One that works has neither. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd_env("ACTION=add SUBSYSTEM=pci PCI_SLOT_NAME=" NIC,
                            "--json reserve --uevent"), 0);
    ck_assert_ptr_null(strstr(e.out, "\"error\""));
    ck_assert_ptr_null(strstr(e.out, "\"steps\""));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
}
END_TEST

/* A VF count that fails: persist's document and reserve's count object show its step. A
 * persist refused before any write (a PF whose VFs would go) shows none: the error alone. */
HD_TEST(a_failed_count_under_json_shows_its_step)
{
#define NUMVFS "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"
    eng_start(&e, "server-sriov");
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("--json persist 03:00.0"), 1);
    ck_assert_str_eq(e.out, "");
    ck_err_has("{\"error\":\"0000:03:00.0 is an SR-IOV PF with 8 VFs");
    ck_assert_uint_eq(eng_writes(&e), writes);

    ck_assert_int_eq(fx_ctl(&e.fx, "fault " NUMVFS " EIO on=write"), 0);
    ck_assert_int_eq(hd("--json persist 03:00.1 --numvfs 4"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"operation\": \"persist\"");
    ck_out_has(STEP_JSON("      ", "numvfs", "0000:03:00.1", "0", "4", "failed"));
    ck_assert_str_eq(fx_read(&e.fx, NUMVFS), "0");
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:03:00.1.conf"));

    conf("10-vfs.conf", "03:00.1 numvfs=4\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " NUMVFS " EIO on=write"), 0);
    ck_assert_int_eq(hd("--json reserve"), 1);
    at_json_check(e.out, false);
    ck_out_has("\"action\": \"numvfs\",\n    \"numvfs\": 4,\n    \"previous_numvfs\": 0,\n    "
               "\"outcome\": \"failed\"");
    ck_out_has(STEP_JSON("        ", "numvfs", "0000:03:00.1", "0", "4", "failed"));
    ck_assert_str_eq(fx_read(&e.fx, NUMVFS), "0");
#undef NUMVFS
}
END_TEST
