/* test-tool.c - the `hostdev` command as a user meets it: exit codes (0 done, 1 failed with
 * nothing changed, 2 bad input with nothing changed), one-line errors naming the input,
 * output that parses, help everywhere. Runs build/hostdev against mounted fake kernels. */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "adapters-tree.h"
#include "engine.h"
#include "hdtest.h"

static struct eng e;

/* Run hostdev on the mounted fake with @args; its exit status, its output in e.out, e.err. */
static int hd(const char *args)
{
    return eng_run(&e, "%s", args);
}

/* Exactly one line on stderr, containing @needle. */
static void one_line_error(const char *needle)
{
    char *nl = strchr(e.err, '\n');
    ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: '%s'", e.err);
    ck_assert_msg(strstr(e.err, needle) != NULL, "'%s' not in '%s'", needle, e.err);
}

/* The output is one JSON document, or with @per_line one JSON value on every line. */
static void json_check(bool per_line)
{
    at_json_check(e.out, per_line);
}

static void json_parses(void)
{
    json_check(false);
}

static void json_parses_lines(void)
{
    json_check(true);
}

static void setup(void)
{
    eng_start(&e, "demo");
}

static void teardown(void)
{
    eng_stop(&e);
}

HD_TEST_FILE(.setup = setup, .teardown = teardown, .timeout = 120);

HD_TEST(bad_input_exits_2_and_changes_nothing)
{
    static const struct {
        const char *args, *needle;
    } cases[] = {
        {"detach 0000:03:00.9", "invalid PCI address '0000:03:00.9'"},
        {"detach 03:00.0 junk", "invalid PCI address 'junk'"},
        {"detach 0000:07:00.0", "0000:07:00.0: no such PCI device"},
        {"detach --driver e1000e 03:00.0", "--driver 'e1000e'"},
        {"detach", "no device given"},
        {"reattach pci_0000_03_00_8", "invalid PCI address"},
        {"reset 0000:03:20.0", "invalid PCI address"},
        {"show 03:00.0 03:00.0", "exactly one"},
        {"list --caps pcie", "unknown capability 'pcie' (known: system, pci, usb_device, usb, "
                             "net, scsi_host, scsi_target, scsi, storage, scsi_generic, "
                             "mdev_types, mdev)"},
        {"list 8086:zzzz", "invalid device selector '8086:zzzz'"},
        {"frobnicate", "unknown command 'frobnicate'"},
        {"--timeout never list", "invalid --timeout 'never'"},
        {"--timeout 0 list", "invalid --timeout '0' (milliseconds, 1 to 3600000)"},
        /* A mistyped option is one line that says where the help is. */
        {"detach --bogus 03:00.0", "'--bogus' is not an option of detach"},
        {"acquire --bogus", "[--unmanaged ADDR...] | hostdev acquire [--vm ID] --domain-xml"},
        {"list -q", "(see 'hostdev list --help')"},
        {"--bogus list", "unknown option '--bogus' (see 'hostdev --help')"},
        /* The short option typed wrong, not the word before it nor its whole bundle. */
        {"--dry-run -a= list", "unknown option '-a' (see 'hostdev --help')"},
        {"-vx list", "unknown option '-x' (see 'hostdev --help')"},
        {"--json=yes list", "hostdev: option --json takes no value (see 'hostdev --help')"},
        {"-vv=1 list", "hostdev: option -v takes no value (see 'hostdev --help')"},
        {"--state-dir --verbose list",
         "hostdev: option --state-dir needs a value, and '--verbose' after it is an option"},
        /* A long option is taken only in full: getopt would read --vm as --vm-memory and
         * --gr as --group (detaching the whole group); what was typed is named. */
        {"doctor --vm win", "'--vm' is not an option of doctor (did you mean --vm-memory?)"},
        {"detach --gr 03:00.0", "'--gr' is not an option of detach (did you mean --group?)"},
        {"detach --dri=vfio-pci 03:00.0",
         "'--dri' is not an option of detach (did you mean --driver?)"},
        {"mdev remove --dry 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
         "'--dry' is not an option of mdev remove (did you mean --dry-run?)"},
        {"mdev define --manua mtty mtty-1",
         "'--manua' is not an option of mdev define (did you mean --manual?)"},
        /* sriov and recover too, through the same parser as the rest. */
        {"sriov 03:00.0 --numv 2",
         "hostdev sriov: '--numv' is not an option of sriov (did you mean --numvfs?); usage: "},
        /* A slip of the fingers is named too, a misspelled abbreviation as well; a guess
         * only when one option is nearest. */
        {"sriov --nume 2 03:00.0",
         "hostdev sriov: '--nume' is not an option of sriov (did you mean --numvfs?); usage: "},
        {"detach --drvier vfio-pci 03:00.0",
         "'--drvier' is not an option of detach (did you mean --driver?); usage: "},
        {"detach --gropu 03:00.0", "'--gropu' is not an option of detach (did you mean --group?)"},
        {"detach --drx 03:00.0", "hostdev detach: '--drx' is not an option of detach; usage: "},
        {"list --=x", "hostdev list: '--=x' is not an option of list; usage: "},
        {"--jsno list", "unknown option '--jsno'; did you mean --json? (see 'hostdev --help')"},
        /* Nothing after --version or --help is dropped in silence. */
        {"--version extra", "hostdev: unexpected argument 'extra' after --version (see "
                            "'hostdev --help')"},
        {"--version -v extra", "hostdev: unexpected argument 'extra' after --version"},
        {"--help extra", "hostdev help: unknown command 'extra' (see 'hostdev --help')"},
        /* A command misspelled is named as an option is; none when two are as near. */
        {"detch 03:00.0", "hostdev: unknown command 'detch' (did you mean 'detach'? see "
                          "'hostdev --help')"},
        {"help reatach", "hostdev help: unknown command 'reatach' (did you mean 'reattach'? "
                         "see 'hostdev --help')"},
        {"hepl", "hostdev: unknown command 'hepl' (did you mean 'help'? see 'hostdev --help')"},
        {"--help list extra", "hostdev help: takes one command, not also 'extra'"},
        {"sriov 03:00.0 --numvfs=",
         "hostdev sriov: invalid count of VFs '' (a number, 0 removes the VFs)"},
        /* An option no command has is named as one; one that is there and lacks its value
         * (or has one it takes none of) is told that, in a bundle too. */
        {"sriov -x 03:00.0", "hostdev sriov: '-x' is not an option of sriov; usage: "},
        {"detach -x 03:00.0", "hostdev detach: '-x' is not an option of detach; usage: "},
        {"detach 03:00.0 -d", "hostdev detach: option -d needs a value; usage: "},
        {"detach 03:00.0 -fd", "hostdev detach: option -d needs a value; usage: "},
        {"detach -f=x 03:00.0", "hostdev detach: option -f takes no value; usage: "},
        {"detach -gf= 03:00.0", "hostdev detach: option -f takes no value; usage: "},
        /* An abbreviation is named as one, its value given or not. */
        {"detach --driv", "'--driv' is not an option of detach (did you mean --driver?)"},
        {"detach --dri --force 03:00.0",
         "'--dri' is not an option of detach (did you mean --driver?)"},
        {"list --caps --tree", "hostdev list: option --caps needs a value, and '--tree' after "
                               "it is an option; usage: "},
        {"acquire --vm -- 03:00.0",
         "hostdev acquire: option --vm needs a value, and '--' after it ends the options; "},
        /* A global option where the value should be is an option there too, though globals
         * given after the command are taken out before its own are read: no VM named
         * "03:00.0", no "no device given"; and text, --json being no option there. */
        {"acquire --vm --json 03:00.0",
         "hostdev acquire: option --vm needs a value, and '--json' after it is an option; "},
        {"acquire 03:00.0 --vm --json",
         "hostdev acquire: option --vm needs a value, and '--json' after it is an option; "},
        {"release -m --timeout 5 03:00.0",
         "hostdev release: option -m needs a value, and '--timeout' after it is an option; "},
        {"list --driver --verbose", "hostdev list: option --driver needs a value, and "
                                    "'--verbose' after it is an option; usage: "},
        {"list --root --json", "hostdev list: option --root needs a value, and '--json' after it "
                               "is an option"},
        {"list --names --", "hostdev list: option --names needs a value, and '--' after it ends "
                            "the options"},
        {"sriov 03:00.0 2 junk", "hostdev sriov: unexpected argument 'junk' (see "},
        {"recover --dry", "hostdev recover: '--dry' is not an option of recover (did you mean "
                          "--dry-run?); usage: hostdev recover [--dry-run] (see 'hostdev recover "
                          "--help')"},
        {"recover --bogus", "hostdev recover: '--bogus' is not an option of recover; usage: "},
        {"recover now", "hostdev recover: unexpected argument 'now' (see 'hostdev recover "
                        "--help')"},
        {"--js list", "unknown option '--js'; did you mean --json? (see 'hostdev --help')"},
        {"--verb --ti 100 list", "unknown option '--verb'; did you mean --verbose?"},
        {"list --timeout", "hostdev list: option --timeout needs a value"},
        {"list --json=yes", "hostdev list: option --json takes no value"},
        /* An address that is not there is a mistake, not an empty listing. */
        {"list 0000:09:00.0", "0000:09:00.0: no such PCI device"},
        {"hostdev-xml 03:00.0 0000:09:00.0", "0000:09:00.0: no such PCI device"},
        {"list --format yaml", "--format 'yaml': text, json or vdsm"},
        /* lspci's selectors, checked as lspci would. */
        {"list -s 1:2:3:4", "-s '1:2:3:4': expected [[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]]"},
        {"list -s 00:20", "-s '00:20'"},
        {"list -s 03:00.8", "-s '03:00.8'"},
        {"list -d ::03000", "-d '::03000'"},
        {"list -d 8086:10d3:0200:1", "-d '8086:10d3:0200:1'"},
        {"list -d zz:", "-d 'zz:'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(hd(cases[i].args) == 2, "'%s' exited %d", cases[i].args,
                      hd(cases[i].args));
        one_line_error(cases[i].needle);
    }
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
}
END_TEST

/* A global option after the command is global unless it stands in an option's value's place:
 * after a flag it is taken (the output is JSON); where --vm's value should be it is refused,
 * in JSON only when --json is also given as an option. */
HD_TEST(a_global_option_is_no_value)
{
    ck_assert_int_eq(hd("acquire --force --json --dry-run --vm a 03:00.0"), 0);
    json_check(false);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("--json acquire --vm --json 03:00.0"), 2);
    ck_assert_str_eq(e.out, "");
    ck_assert_msg(strncmp(e.err, "{\"error\":\"option --vm needs a value, and '--json' after it "
                                 "is an option;", 50) == 0, "%s", e.err);
    ck_assert_int_eq(hd("acquire --vm --json"), 2);
    one_line_error("hostdev acquire: option --vm needs a value, and '--json' after it is an "
                   "option; ");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
}
END_TEST

HD_TEST(failure_exits_1_and_restores)
{
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails vfio-pci EINVAL"), 0);
    /* vfio-pci cannot probe: drivers_probe still says yes; the NIC must come back. */
    ck_assert_int_eq(hd("detach 0000:03:00.0"), 1);
    one_line_error("0000:03:00.0");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails vfio-pci 0"), 0);
    /* All or nothing across arguments: the second fails, the first goes back. */
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:02:00.0/driver_override "
                                   "EBUSY nth=1"), 0);
    ck_assert_int_eq(hd("detach 03:00.0 02:00.0"), 1);
    one_line_error("0000:02:00.0: writing driver_override failed");
    ck_assert_ptr_null(strstr(e.err, "0000:02:00.0: 0000:02:00.0")); /* the device named once */
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:02:00.0"), "nvme");
    ck_assert(!fx_exists(&e.fx, "dev/vfio/8"));
    /* With --group, the whole groups of the devices done go back, and only they: a device
     * already on vfio-pci before the command stays there. */
    ck_assert_int_eq(hd("detach 0000:04:00.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:02:00.0/driver_override "
                                   "EBUSY nth=1"), 0);
    ck_assert_int_eq(hd("detach 04:00.0 --group 01:00.0 03:00.0 02:00.0"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:04:00.0"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "nouveau");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "snd_hda_intel");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:02:00.0"), "nvme");
}
END_TEST

/* Under --json a failed writing command still shows its steps as they ended (stdout) beside
 * the error object (stderr), exit 1: detach, and release through acquire's records. A refusal
 * before any write has no steps to show: stdout stays empty. */
HD_TEST(a_failure_under_json_shows_its_steps_and_the_error)
{
    static const char undone[] = "\"state\": \"undone\"";

    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:02:00.0/driver_override "
                                   "EBUSY nth=1"), 0);
    ck_assert_int_eq(hd("--json detach 03:00.0 02:00.0"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"operation\": \"detach\"") != NULL, "no detach: '%s'", e.out);
    ck_assert_msg(strstr(e.out, "\"device\": \"0000:03:00.0\"") != NULL, "no step: '%s'", e.out);
    ck_assert_msg(strstr(e.out, undone) != NULL, "no undone step: '%s'", e.out);
    ck_assert_ptr_null(strstr(e.out, "\"state\": \"done\""));
    ck_assert_msg(strncmp(e.err, "{\"error\":\"0000:02:00.0: writing driver_override failed", 52) ==
                      0,
                  "stderr: '%s'", e.err);
    one_line_error("\"exit\":1");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");

    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 01:00.1 01:00.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails snd_hda_intel EIO"), 0);
    ck_assert_int_eq(hd("--json release --vm a"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"operation\": \"release\"") != NULL, "no release: '%s'", e.out);
    ck_assert_msg(strstr(e.out, undone) != NULL, "no undone step: '%s'", e.out);
    ck_assert_msg(strncmp(e.err, "{\"error\":", 9) == 0, "stderr: '%s'", e.err);
    one_line_error("\"exit\":1");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "vfio-pci");
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails snd_hda_intel 0"), 0);

    ck_assert_int_eq(hd("--json detach 00:1f.4"), 1); /* refused: the host keeps it */
    ck_assert_str_eq(e.out, "");
    one_line_error("SMBus");
}
END_TEST

/* sriov does as the others: a count the kernel refuses shows its step under --json as the one
 * that failed (stdout), the error object on stderr, exit 1, the count as it was. */
HD_TEST(a_failed_sriov_under_json_shows_its_step)
{
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.1/sriov_numvfs EIO "
                                   "nth=1 on=write"), 0);
    ck_assert_int_eq(hd("--json sriov 03:00.1 4"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"operation\": \"sriov\"") != NULL, "no sriov: '%s'", e.out);
    ck_assert_msg(strstr(e.out, "\"action\": \"numvfs\",\n      \"device\": \"0000:03:00.1\",\n"
                                "      \"from\": \"0\",\n      \"to\": \"4\",\n"
                                "      \"state\": \"failed\"") != NULL,
                  "'%s'", e.out);
    ck_assert_msg(strstr(e.err, "{\"error\":\"0000:03:00.1: writing 4 to sriov_numvfs") == e.err,
                  "stderr: '%s'", e.err);
    one_line_error("\"exit\":1");
    ck_assert_int_eq(hd("sriov 03:00.1"), 0);
    ck_assert_msg(strstr(e.out, "0 of 63") != NULL, "%s", e.out);
}
END_TEST

/* A sysfs attribute that cannot be read is named with its device: never a bare "Input/output
 * error" the user cannot place (sriov's count, which reads sriov_drivers_autoprobe with it). */
HD_TEST(an_unreadable_attribute_is_named)
{
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.1/"
                                   "sriov_drivers_autoprobe EIO count=0 on=read"), 0);
    ck_assert_int_eq(hd("sriov 03:00.1 2"), 1);
    one_line_error("hostdev sriov: 0000:03:00.1: sysfs attribute sriov_drivers_autoprobe cannot "
                   "be read: Input/output error");
    ck_assert_int_eq(hd("sriov 03:00.1"), 1);
    one_line_error("0000:03:00.1: sysfs attribute sriov_drivers_autoprobe cannot be read");
    ck_assert_uint_eq(fx_log_count(&e.fx, "write "), 0);
}
END_TEST

/* A device's config space that fails to read (not absent: an I/O error) was taken for a
 * missing one: show, check and detach went on from the kernel's other attributes, exit 0, as
 * if the header type (bridge or endpoint) were known. Now each says which device's config
 * cannot be read, exits 1 and writes nothing; a listing warns and leaves the device out. */
HD_TEST(an_unreadable_config_space_is_named)
{
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/config EIO count=0 "
                                   "on=read"), 0);
    static const char *const cmds[] = {"show 03:00.0", "check 03:00.0", "detach 03:00.0",
                                       "detach --dry-run 03:00.0"};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        ck_assert_msg(hd(cmds[i]) == 1, "%s: %s", cmds[i], e.err);
        one_line_error("0000:03:00.0: sysfs attribute config cannot be read: Input/output error");
    }
    ck_assert_uint_eq(fx_log_count(&e.fx, "write "), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
    ck_assert_int_eq(hd("list"), 0);
    ck_assert_msg(strstr(e.out, "0000:03:00.0") == NULL, "%s", e.out);
    ck_assert_msg(strstr(e.err, "warning: 0000:03:00.0: sysfs attribute config cannot be read")
                      != NULL, "%s", e.err);
    /* Absent config space is no failure: the kernel's other attributes tell. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/config ENOENT "
                                   "count=0 on=read"), 0);
    ck_assert_int_eq(hd("show 03:00.0"), 0);
}
END_TEST

/* A device detached whose config space then fails to read was refused its reattach too (exit
 * 1, left on vfio-pci), though giving it back to its host driver reads nothing there: the
 * user's way back is open, the plan and the run alike, --group too. */
HD_TEST(a_device_whose_config_fails_is_given_back)
{
    ck_assert_int_eq(hd("detach 03:00.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/config EIO count=0 "
                                   "on=read"), 0);
    ck_assert_msg(hd("reattach --dry-run 03:00.0") == 0, "%s", e.err);
    ck_assert_msg(strstr(e.out, "0000:03:00.0") != NULL, "%s", e.out);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "vfio-pci");
    ck_assert_msg(hd("reattach 03:00.0") == 0, "%s", e.err);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd("detach 03:00.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.0/config EIO count=0 "
                                   "on=read"), 0);
    ck_assert_msg(hd("reattach --group 03:00.0") == 0, "%s", e.err);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
}
END_TEST

/* An address typed short is named once in an error: the library's message starts with it in
 * full, so "03:00.0: 0000:03:00.0 ..." would say it twice (text and --json alike). */
HD_TEST(a_device_typed_short_is_named_once)
{
    static const struct {
        const char *args, *line;
    } cases[] = {
        {"persist 00:1f.4", "hostdev persist: 0000:00:1f.4 is an SMBus controller: "},
        {"persist 07:00.0", "hostdev persist: 0000:07:00.0: no such PCI device under "},
        {"release --force 07:00.0", "hostdev release: 0000:07:00.0: no such PCI device "},
        {"detach pci_0000_03_00_0 03:00.0", "hostdev detach: 0000:03:00.0 is given twice\n"},
        {"mdev create bad/parent mtty-1", "hostdev mdev create: 'bad/parent' is not a mediated "},
        {"mdev undefine 11111111-2222-3333-4444-555555555555",
         "hostdev mdev undefine: mediated device 11111111-2222-3333-4444-555555555555 is not "
         "defined"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(hd(cases[i].args) != 0, "'%s' succeeded", cases[i].args);
        ck_assert_msg(strncmp(e.err, cases[i].line, strlen(cases[i].line)) == 0, "'%s' said '%s'",
                      cases[i].args, e.err);
    }
    ck_assert_int_eq(hd("--json persist 00:1f.4"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "{\"error\":\"0000:00:1f.4 is an SMBus controller"));
    /* A network interface's name is not its address: it stays, and says which one it is. */
    ck_assert_int_eq(hd("detach 03:00.0 enp3s0"), 2);
    ck_assert_str_eq(e.err, "hostdev detach: enp3s0: 0000:03:00.0 is given twice\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* --driver with a name the kernel has no driver by lists nothing and exits 0, as lspci does,
 * but says so on stderr: a typo (vfio_pci) must not look like "no devices on vfio-pci". */
HD_TEST(list_of_a_driver_not_registered_says_so)
{
    ck_assert_int_eq(hd("list -d zz"), 0);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err, "hostdev list: note: no driver 'zz' is registered\n");
    ck_assert_int_eq(hd("list --driver vfio_pci"), 0);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err, "hostdev list: note: no driver 'vfio_pci' is registered; 'vfio-pci' "
                            "is\n");
    /* Registered, with no device on it now: an empty answer that is true, said as such. */
    ck_assert_int_eq(hd("list -d vfio-pci"), 0);
    ck_assert_str_eq(e.out, "");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("list -d none"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:04:00.0 "));
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("--json list -d zz"), 0);
    ck_assert_str_eq(e.out, "[]\n");
    ck_assert_str_eq(e.err, "");
}
END_TEST

HD_TEST(detach_reattach_commands)
{
    ck_assert_int_eq(hd("detach 0000:03:00.0"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: e1000e -> vfio-pci\n");
    ck_assert(fx_exists(&e.fx, "dev/vfio/8"));
    ck_assert_int_eq(hd("reattach pci_0000_03_00_0"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: vfio-pci -> e1000e\n");
    ck_assert(!fx_exists(&e.fx, "dev/vfio/8"));
    /* -vv: every line is the tool's, whole, and speaks of devices and files, not of the
     * library's functions. */
    ck_assert_int_eq(hd("-vv detach 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "hostdev: write sys/bus/pci/devices/0000:03:00.0/"
                                        "driver_override <- 'vfio-pci': 0\n"));
    for (const char *l = e.err; *l; l = strchr(l, '\n') + 1) {
        ck_assert_msg(strncmp(l, "hostdev: ", 9) == 0, "a line not the tool's: %s", l);
        ck_assert_msg(strncmp(l + 9, "hd_", 3) != 0, "a function name: %s", l);
    }
    ck_assert_int_eq(hd("reattach 03:00.0"), 0);
    /* Options after the address, and a shared group named in a warning. */
    ck_assert_int_eq(hd("detach 01:00.0 --driver vfio-pci"), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "not viable"));
    ck_assert_ptr_nonnull(strstr(e.err, "0000:01:00.1 is bound to snd_hda_intel"));
    ck_assert_ptr_nonnull(strstr(e.err, "--group"));
    /* On vfio-pci with a member still on its host driver: that one blocks. */
    ck_assert_int_eq(hd("show 01:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "IOMMU group:     1, not viable\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "snd_hda_intel  blocks: bound to a host driver"));
    /* The same in JSON: the group, the device given, each blocker and its driver; no note
     * on stderr. */
    ck_assert_int_eq(hd("reattach 01:00.0"), 0);
    ck_assert_int_eq(hd("--json detach 01:00.0"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"unviable\": [\n    {\n      \"group\": 1,\n      "
                                        "\"device\": \"0000:01:00.0\",\n      \"blockers\": [\n"
                                        "        {\n          \"device\": \"0000:01:00.1\",\n"
                                        "          \"driver\": \"snd_hda_intel\",\n"));
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("detach --group 01:00.0"), 0);
    ck_assert_str_eq(e.out, "0000:01:00.0: already on vfio-pci\n"
                            "0000:01:00.1: snd_hda_intel -> vfio-pci\n");
    ck_assert_str_eq(e.err, ""); /* viable now: no note */
    ck_assert_int_eq(hd("--json detach 01:00.1"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"unviable\": []"));
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "vfio-pci");
    ck_assert_int_eq(hd("--json show 01:00.0"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"viable\": true"));
    /* What detach --group took, reattach --group gives back, named by either member; the
     * group's bridge stays on pcieport. */
    ck_assert_int_eq(hd("reattach --group 01:00.1 --dry-run"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "vfio-pci");
    ck_assert_int_eq(hd("reattach --group 01:00.1"), 0);
    ck_assert_str_eq(e.out, "0000:01:00.1: vfio-pci -> snd_hda_intel\n"
                            "0000:01:00.0: vfio-pci -> nouveau\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "nouveau");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:01.0"), "pcieport");
    ck_assert_int_eq(hd("reattach -g 01:00.0"), 0);
    ck_assert_str_eq(e.out, "0000:01:00.0: already on nouveau\n"
                            "0000:01:00.1: already on snd_hda_intel\n");
    /* Only reattach gives back a group: a reset of one is no option. */
    ck_assert_int_eq(hd("reset --group 01:00.0"), 2);
}
END_TEST

/* A detach that leaves a group not viable because of a function the host keeps (the demo's
 * audio shares group 9 with the LPC bridge and the SMBus) must not send the user to
 * 'detach --group', which refuses those: the note names them and the way that works. */
HD_TEST(unviable_note_names_members_the_host_keeps)
{
    ck_assert_int_eq(hd("detach 00:1f.3"), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "0000:00:1f.0 is an ISA/LPC bridge the host keeps"));
    ck_assert_ptr_nonnull(strstr(e.err, "0000:00:1f.4 is an SMBus controller the host keeps"));
    ck_assert_ptr_nonnull(strstr(e.err, "no VM can have this group on this host as it is "
                                        "('hostdev doctor 0000:00:1f.3' says what can)"));
    ck_assert_ptr_null(strstr(e.err, "all at once"));
    /* The --group the old note offered is refused. */
    ck_assert_int_eq(hd("detach --group 00:1f.3 --dry-run"), 1);
    /* Why a device nobody named is refused, in one line without stacked parentheses. */
    one_line_error("hostdev detach: 0000:00:1f.0 is an ISA/LPC bridge: the host keeps it (no VM "
                   "needs it); it shares an IOMMU group with what was asked for (--force takes "
                   "it anyway)\n");
    ck_assert_int_eq(hd("reattach 00:1f.3"), 0);
    ck_assert_int_eq(hd("--json detach 00:1f.3"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"driver\": \"lpc_ich\",\n"
                                        "          \"host_keeps\": \"an ISA/LPC bridge\"\n"));
    ck_assert_int_eq(hd("reattach 00:1f.3"), 0);
    /* An ordinary blocker keeps the --group advice, and host_keeps null. */
    ck_assert_int_eq(hd("--json detach 01:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"host_keeps\": null"));
}
END_TEST

/* show of a VF whose PF is on vfio-pci gives export's caveat: a VM engine opening it through
 * vfio-pci needs the PF's VF token, which libvirt never passes; a VF whose PF is on its host
 * driver has no such caveat. */
HD_TEST(show_says_a_vf_of_a_pf_on_vfio_needs_its_vf_token)
{
    eng_stop(&e);
    eng_start(&e, "fleet");
    ck_assert_int_eq(hd("show 82:01.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "  assignable:      yes (endpoint), but its PF "
                                        "0000:82:00.0 is on vfio-pci (or a variant): the VF "
                                        "opens only with the PF's VF token, which libvirt never "
                                        "passes\n"));
    ck_assert_int_eq(hd("--json show 82:01.0"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"needs_vf_token\": true"));
    ck_assert_int_eq(hd("show 81:10.0"), 0); /* its PF on ixgbe */
    ck_assert_ptr_nonnull(strstr(e.out, "  assignable:      yes (endpoint)\n"));
    ck_assert_int_eq(hd("--json show 81:10.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"needs_vf_token\": false"));
}
END_TEST

/* show says of group 9 what detach and doctor say: with the LPC bridge and the SMBus in it,
 * no detach makes it viable, so "a VM can have it once every member is on vfio-pci" is false. */
HD_TEST(show_says_a_group_the_host_keeps_part_of_is_for_no_vm)
{
    ck_assert_int_eq(hd("show 00:1f.3"), 0);
    ck_assert_ptr_null(strstr(e.out, "a VM can have it once"));
    ck_assert_ptr_nonnull(strstr(e.out, "IOMMU group:     9, on host drivers; it holds functions "
                                        "the host keeps: no VM can have it on this host as it "
                                        "is ('hostdev doctor 0000:00:1f.3' says what can)\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "    0000:00:1f.4 i801_smbus     on a host driver, kept "
                                        "by the host (an SMBus controller)\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "    0000:00:1f.3 snd_hda_intel  on a host driver\n"));
    ck_assert_int_eq(hd("--json show 00:1f.3"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"driver\": \"lpc_ich\",\n"
                                        "        \"host_keeps\": \"an ISA/LPC bridge\"\n"));
    /* A group whose blockers a detach can take keeps its advice. */
    ck_assert_int_eq(hd("show 01:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "a VM can have it once every member is on vfio-pci"));
    ck_assert_ptr_null(strstr(e.out, "kept by the host"));
}
END_TEST

/* A dry run of a detach tells the note the run would, from its plan (the group as the steps
 * would leave it), and changes nothing; a plan that takes the whole group leaves none. */
HD_TEST(a_dry_run_detach_tells_the_group_it_would_leave_not_viable)
{
    char *run_err;

    ck_assert_int_eq(hd("detach 01:00.0 --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; detach would do:\n"
                            "  0000:01:00.0: nouveau -> vfio-pci\n");
    ck_assert_str_eq(e.err, "hostdev detach: note: IOMMU group 1 is not viable yet, a VM cannot "
                            "use 0000:01:00.0: 0000:01:00.1 is bound to snd_hda_intel. Detach it "
                            "too, or all at once with 'hostdev detach --group 0000:01:00.0'.\n");
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_int_eq(hd("--json detach 01:00.0 --dry-run"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"unviable\": [\n    {\n      \"group\": 1,\n      "
                                        "\"device\": \"0000:01:00.0\",\n      \"blockers\": [\n"
                                        "        {\n          \"device\": \"0000:01:00.1\",\n"
                                        "          \"driver\": \"snd_hda_intel\",\n"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* The whole group: viable, no note. */
    ck_assert_int_eq(hd("detach --dry-run --group 01:00.0"), 0);
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("--json detach --group 01:00.0 --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"unviable\": []"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* The run says what its dry run said. */
    ck_assert_int_eq(hd("detach 01:00.0 --dry-run"), 0);
    run_err = strdup(e.err);
    ck_assert_int_eq(hd("detach 01:00.0"), 0);
    ck_assert_str_eq(e.err, run_err);
    free(run_err);
    /* A member already detached counts as it is: the plan for the other leaves it viable. */
    ck_assert_int_eq(hd("detach 01:00.1 --dry-run"), 0);
    ck_assert_str_eq(e.err, "");
    /* The host keeps part of group 9: the dry run says so as the run does. */
    ck_assert_int_eq(hd("detach 00:1f.3 --dry-run"), 0);
    ck_assert_ptr_nonnull(strstr(e.err, "0000:00:1f.0 is an ISA/LPC bridge the host keeps"));
}
END_TEST

HD_TEST(reset_and_check_commands)
{
    ck_assert_int_eq(hd("reset 02:00.0"), 1);
    one_line_error("in use by its host driver nvme");
    ck_assert_uint_eq(fx_log_count(&e.fx, "reset 0000:02:00.0"), 0);
    ck_assert_int_eq(hd("reset --force 02:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "flr bus"));
    ck_assert_uint_eq(fx_log_count(&e.fx, "reset 0000:02:00.0 flr"), 1);
    ck_assert_int_eq(hd("--json reset 04:00.0"), 0);
    json_parses();
    ck_assert_int_eq(hd("check 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "assignable alone"));
    ck_assert_int_eq(hd("check 01:00.0"), 1);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:01:00.1 (snd_hda_intel)"));
    ck_assert_ptr_nonnull(strstr(e.out, "co-assign"));
    /* A root port is no VM's: bad input, as detach and acquire say, not "co-assign it". */
    ck_assert_int_eq(hd("check 00:01.0"), 2);
    one_line_error("0000:00:01.0 is a bridge (header type 1), not an endpoint: it cannot be "
                   "assigned to a VM");
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(hd("check 01:00.0 01:00.1 00:01.0"), 2);
    ck_assert_str_eq(e.out, "");
}
END_TEST

/* Without an IOMMU a device has no group: check says no VM can have it, as acquire refuses
 * it, not "assignable alone". */
HD_TEST(check_says_a_device_without_a_group_is_no_vms)
{
    eng_stop(&e);
    eng_start(&e, "kernel 6.1.0\nmodule vfio\nmodule vfio_iommu_type1\n"
                  "driver e1000e ids=8086:10d3\ndriver vfio-pci module=vfio_pci stub vfio\n"
                  "device 0000:03:00.0 8086:10d3 class=020000 driver=e1000e reset=flr "
                  "parent=root group=none\n");
    ck_assert_int_eq(hd("check 03:00.0"), 1);
    ck_assert_msg(strstr(e.out, "0000:03:00.0: has no IOMMU group: the IOMMU is off or absent, so "
                              "no VM can have it") && !strstr(e.out, "assignable alone"), "%s", e.out);
    ck_assert_int_eq(hd("--json check 03:00.0"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"assignable_alone\": false") &&
                  strstr(e.out, "\"assignable_together\": false"), "%s", e.out);
    ck_assert_int_eq(hd("acquire --vm a --dry-run 03:00.0"), 1);
    one_line_error("0000:03:00.0 has no IOMMU group");
}
END_TEST

/* list marks a device on vfio in its unsafe no-IOMMU mode (its group is vfio-noiommu), in
 * text after its group and as "noiommu" in JSON, as show and check say it; the others not. */
HD_TEST(list_marks_a_noiommu_device)
{
    eng_stop(&e);
    eng_start(&e, "kernel 6.1.0\niommu none\nmodule vfio\n"
                  "param vfio enable_unsafe_noiommu_mode Y\n"
                  "driver e1000e ids=8086:10d3\ndriver vfio-pci module=vfio_pci stub vfio\n"
                  "device 0000:00:02.0 8086:10d3 class=020000 driver=e1000e reset=pm\n"
                  "device 0000:00:03.0 8086:10d3 class=020000 driver=e1000e reset=pm\n");
    ck_assert_int_eq(hd("detach --noiommu 00:02.0"), 0);
    ck_assert_int_eq(hd("list"), 0);
    ck_assert_msg(strstr(e.out, "[8086:10d3] driver=vfio-pci group=0 noiommu") != NULL &&
                  strstr(e.out, "[8086:10d3] driver=e1000e group=-\n") != NULL, "%s", e.out);
    ck_assert_int_eq(hd("--json list"), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"iommu_group\": 0,\n    \"noiommu\": true") != NULL &&
                  strstr(e.out, "\"iommu_group\": null,\n    \"noiommu\": false") != NULL,
                  "%s", e.out);
    /* A group of the mode that is no longer the kernel's (the device gone back): no mark. */
    ck_assert_int_eq(hd("reattach 00:02.0"), 0);
    ck_assert_int_eq(hd("list 00:02.0"), 0);
    ck_assert_msg(strstr(e.out, "noiommu") == NULL, "%s", e.out);
    eng_stop(&e);
    eng_start(&e, "demo");
}
END_TEST

/* Devices given together are judged as one set, the question a user co-assigning them asks:
 * the GPU and its audio function (one IOMMU group, one bus reset) can go to a VM together. */
HD_TEST(check_judges_the_devices_given_as_one_set)
{
    ck_assert_int_eq(hd("check 01:00.0 01:00.1"), 0);
    ck_assert_msg(strstr(e.out, "the 2 devices given: assignable together, to one VM\n") != NULL,
                  "%s", e.out);
    /* Each device's own answer stays what it is. */
    ck_assert_msg(strstr(e.out, "0000:01:00.0: IOMMU group 1 also holds 0000:01:00.1 "
                                "(snd_hda_intel): not assignable alone\n") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("--json check 01:00.0 01:00.1"), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"assignable_alone\": false") != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "\"assignable_together\": false") == NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "\"also_needs\": []") != NULL, "%s", e.out);
    /* Without the audio function the GPU still needs it: named, exit 1. */
    ck_assert_int_eq(hd("check 01:00.0 03:00.0"), 1);
    ck_assert_msg(strstr(e.out, "the 2 devices given: not assignable together: 0000:01:00.0 also "
                                "needs 0000:01:00.1\n") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("--json check 01:00.0 03:00.0"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"also_needs\": [\n      \"0000:01:00.1\"") != NULL, "%s", e.out);
    /* Alone, as before: the same answer, and no line for a set. */
    ck_assert_int_eq(hd("check 01:00.0"), 1);
    ck_assert_msg(strstr(e.out, "devices given") == NULL, "%s", e.out);
    ck_assert_int_eq(hd("check 03:00.0 02:00.0"), 0);
    /* A function the host keeps is no VM's, given with its whole group or not. */
    ck_assert_int_eq(hd("check 00:1f.3 00:1f.0 00:1f.4"), 1);
    ck_assert_msg(strstr(e.out, "0000:00:1f.0: is an ISA/LPC bridge, which the host keeps: not for "
                                "a VM\n") != NULL,
                  "%s", e.out);
    ck_assert_msg(strstr(e.out, "not assignable together: 0000:00:1f.0 is an ISA/LPC bridge the "
                                "host keeps; ") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("--json check 00:1f.4"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"host_keeps\": \"an SMBus controller\",\n    \"vm\"") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("--json check 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "\"host_keeps\": null,\n    \"vm\"") != NULL, "%s", e.out);
}
END_TEST

/* check of a device a VM holds says which VM, as list and show do, in text and JSON. */
HD_TEST(check_names_the_vm_that_holds_a_device)
{
    ck_assert_int_eq(hd("--json check 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "\"vm\": null") != NULL, "%s", e.out);
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(hd("check 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "0000:03:00.0: assigned to vm vm1\n") != NULL, "%s", e.out);
    ck_assert_int_eq(hd("--json check 03:00.0"), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"vm\": \"vm1\"") != NULL, "%s", e.out);
    /* A device no VM holds says nothing of one. */
    ck_assert_int_eq(hd("check 02:00.0"), 0);
    ck_assert_msg(strstr(e.out, "assigned to") == NULL, "%s", e.out);
}
END_TEST

/* An orchestrator retries: acquire of what the VM holds, as asked, is exit 0 saying so (text,
 * JSON, dry run), with nothing written; another owner is exit 1 naming both. */
HD_TEST(acquire_again_says_already)
{
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 0:0 03:00.0"), 0);
    char *map = strdup(fx_read(&e.fx, "run/hostdev/map/assignments"));
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 0:0 03:00.0"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: already assigned to vm vm1, as asked: nothing to do\n");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("acquire --dry-run --vm vm1 --owner 0:0 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "  0000:03:00.0: already assigned to vm vm1") != NULL, "%s", e.out);
    ck_assert_int_eq(hd("--json acquire --vm vm1 --owner 0:0 03:00.0"), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"action\": \"already\",\n      \"device\": \"0000:03:00.0\",\n"
                                "      \"from\": \"\",\n      \"to\": \"vm1\",\n"
                                "      \"state\": \"done\"") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 1:1 03:00.0"), 1);
    /* The VM is named once; the one asking is named where the message names another. */
    one_line_error("hostdev acquire: 0000:03:00.0 is already assigned to vm vm1 with owner 0:0, "
                   "not 1:1: release it first to give it to another owner");
    ck_assert_int_eq(hd("--json acquire --vm vm1 --owner 1:1 03:00.0"), 1);
    ck_assert_msg(strstr(e.err, "{\"error\":\"0000:03:00.0 is already assigned to vm vm1 with") !=
                      NULL,
                  "%s", e.err);
    ck_assert_int_eq(hd("acquire --vm vm2 --owner 0:0 03:00.0"), 1);
    one_line_error("hostdev acquire: vm vm2: 0000:03:00.0 is already assigned to vm vm1: release "
                   "it there first");
    ck_assert_int_eq(hd("release --vm vm2 03:00.0"), 1);
    one_line_error("hostdev release: vm vm2: 0000:03:00.0 is assigned to vm vm1, not vm2");
    /* A VM whose id only begins as the other's is not it. */
    ck_assert_int_eq(hd("acquire --vm vm --owner 0:0 03:00.0"), 1);
    one_line_error("hostdev acquire: vm vm: 0000:03:00.0 is already assigned to vm vm1: ");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/map/assignments"), map);
    free(map);
}
END_TEST

/* A retry that leaves --owner out asks for no owner: the one the VM's device has stands
 * (exit 0, nothing written); another one named is still refused. */
HD_TEST(acquire_again_without_owner_is_already)
{
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 1:1 03:00.0"), 0);
    char *map = strdup(fx_read(&e.fx, "run/hostdev/map/assignments"));
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("acquire --vm vm1 03:00.0"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: already assigned to vm vm1, as asked: nothing to do\n");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("--json acquire --vm vm1 03:00.0"), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"action\": \"already\"") != NULL, "%s", e.out);
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 2:2 03:00.0"), 1);
    one_line_error("hostdev acquire: 0000:03:00.0 is already assigned to vm vm1 with owner 1:1, "
                   "not 2:2: ");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/map/assignments"), map);
    free(map);
}
END_TEST

/* A retry that leaves --managed/--unmanaged out asks for no mode: a device held unmanaged is
 * 'already' (exit 0, nothing written); the other mode named is still refused. */
HD_TEST(acquire_again_without_mode_is_already)
{
    ck_assert_int_eq(hd("detach 03:00.0"), 0);
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 0:0 --unmanaged 03:00.0"), 0);
    char *map = strdup(fx_read(&e.fx, "run/hostdev/map/assignments"));
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 0:0 03:00.0"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: already assigned to vm vm1, as asked: nothing to do\n");
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 0:0 --managed 03:00.0"), 1);
    one_line_error("hostdev acquire: 0000:03:00.0 is already assigned to vm vm1 unmanaged, not "
                   "managed: release it first to change that");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/map/assignments"), map);
    free(map);
}
END_TEST

/* An orchestrator retries a release: a device no VM holds is exit 0 saying so (text, JSON,
 * dry run), nothing written; beside one the VM holds, that one is released. A device that is
 * not there is bad input (exit 2); another VM's is a refusal naming it (exit 1); a VM that
 * holds nothing, asked for all of its devices, is an error (a mistyped id must not pass). */
HD_TEST(release_again_says_not_assigned)
{
    ck_assert_int_eq(hd("acquire --vm vm1 --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(hd("release --vm vm1 03:00.0"), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd("release --vm vm1 03:00.0"), 0);
    ck_assert_str_eq(e.out,
                     "0000:03:00.0: not assigned to vm vm1 (nor any other): nothing to do\n");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("release --dry-run --vm vm1 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "  0000:03:00.0: not assigned to vm vm1 (nor any other)") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("--json release --vm vm1 03:00.0"), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"action\": \"already\",\n      \"device\": \"0000:03:00.0\",\n"
                                "      \"from\": \"vm1\",\n      \"to\": \"\",\n"
                                "      \"state\": \"done\"") != NULL,
                  "%s", e.out);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd("release --vm vm1 09:00.0"), 2);
    one_line_error("hostdev release: vm vm1: 0000:09:00.0: no such PCI device under ");
    ck_assert_int_eq(hd("release --vm vm1"), 1);
    one_line_error("hostdev release: vm vm1 holds no device");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd("acquire --vm vm2 --owner 0:0 03:00.0"), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(hd("release --vm vm1 03:00.0"), 1);
    one_line_error("hostdev release: vm vm1: 0000:03:00.0 is assigned to vm vm2, not vm1");
    ck_assert_int_eq(hd("--json release --vm vm1 03:00.0"), 1);
    ck_assert_msg(strstr(e.err, "\"exit\":1") != NULL, "%s", e.err);
    ck_assert_uint_eq(eng_writes(&e), writes);
    /* One held, one no VM's: the held one goes back, the other is said to be no VM's. */
    ck_assert_int_eq(hd("release --vm vm2 02:00.0 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "0000:02:00.0: not assigned to vm vm2 (nor any other): nothing "
                                "to do\n") != NULL,
                  "%s", e.out);
    ck_assert_msg(strstr(e.out, "0000:03:00.0: released from vm vm2\n") != NULL, "%s", e.out);
}
END_TEST

/* The JSON steps of @json as "action device" lines, a cdev's name (known only once the device
 * is on vfio-pci) said as "<cdev>". */
static char *json_steps(const char *json)
{
    char *steps = calloc(1, strlen(json) + 1), *end = steps;

    for (const char *p = json; (p = strstr(p, "\"action\": \"")) != NULL;) {
        const char *action = p + 11, *dev = strstr(action, "\"device\": \"") + 11;
        size_t alen = strcspn(action, "\""), dlen = strcspn(dev, "\"");
        bool cdev = strncmp(dev, "dev/vfio/devices/", 17) == 0;
        end += sprintf(end, "%.*s %.*s\n", (int)alen, action, cdev ? 6 : (int)dlen,
                       cdev ? "<cdev>" : dev);
        p = dev;
    }
    return steps;
}

/* A dry run of acquire, on a kernel that makes VFIO cdevs, left out the cdev (and dev/iommu) the
 * run hands over: the node is made only by the bind. Now its steps are the run's, action by
 * action; a kernel without cdevs plans no cdev, as its run does none. */
HD_TEST(acquire_dry_run_plans_the_runs_steps)
{
    const char *trees[] = {"mdev", "demo"}, *devs[] = {"00:02.0", "03:00.0"};

    for (size_t i = 0; i < 2; i++) {
        char args[128], *planned, *done;
        eng_stop(&e);
        eng_start(&e, trees[i]);
        snprintf(args, sizeof(args), "--json acquire --dry-run --vm vm1 --owner 1000:1000 %s",
                 devs[i]);
        ck_assert_int_eq(hd(args), 0);
        planned = json_steps(e.out);
        snprintf(args, sizeof(args), "--json acquire --vm vm1 --owner 1000:1000 %s", devs[i]);
        ck_assert_int_eq(hd(args), 0);
        done = json_steps(e.out);
        ck_assert_str_eq(planned, done);
        ck_assert_msg((strstr(done, "own <cdev>\nown dev/iommu\n") != NULL) == (i == 0), "%s",
                      done);
        free(planned);
        free(done);
    }
    eng_stop(&e);
    eng_start(&e, "demo");
}
END_TEST

/* An SR-IOV PF with VFs is what acquire refuses without --force (detaching it would destroy
 * them): check said "assignable alone", and "assignable together" for the PF with its own VF,
 * which acquire refuses in any case. Now it says acquire's reason, and exit 1; a VF alone, and
 * the PF once its VFs are gone, stay assignable. */
HD_TEST(check_and_show_say_a_pf_with_vfs_is_not_for_a_vm_now)
{
    const char *why = "0000:03:00.0: in use by the host, not for a VM now (acquire refuses it "
                      "without --force): it is an SR-IOV PF with 8 VFs: detaching it would "
                      "destroy them";

    eng_stop(&e);
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("acquire --dry-run --vm vm1 03:00.0"), 1);
    ck_assert_int_eq(hd("check 03:00.0"), 1);
    ck_assert_msg(strstr(e.out, why) != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "assignable alone") == NULL, "%s", e.out);
    ck_assert_int_eq(hd("check 03:00.0 03:10.0"), 1);
    ck_assert_msg(strstr(e.out, "the 2 devices given: not assignable together: 0000:03:00.0 is in "
                                "use by the host\n") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("--json check 03:00.0"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"assignable_alone\": false") != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "\"host_use\": \"0000:03:00.0 is an SR-IOV PF with 8 VFs") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("check 03:10.0"), 0);
    ck_assert_msg(strstr(e.out, "0000:03:10.0: can be reset on its own (methods: flr): assignable "
                                "alone\n") != NULL,
                  "%s", e.out);
    /* show says what check says (it said "none seen", host_use null), in its words. */
    ck_assert_int_eq(hd("show 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "  host use:        0000:03:00.0 is an SR-IOV PF with 8 VFs: "
                                "detaching it would destroy them") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(hd("--json show 03:00.0"), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"host_use\": \"0000:03:00.0 is an SR-IOV PF with 8 VFs") != NULL,
                  "%s", e.out);
    /* Without VFs the PF is as acquire takes it. */
    ck_assert_int_eq(hd("sriov 03:00.0 0"), 0);
    ck_assert_int_eq(hd("check 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "assignable alone") != NULL, "%s", e.out);
    ck_assert_int_eq(hd("show 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "  host use:        none seen\n") != NULL, "%s", e.out);
    ck_assert_int_eq(hd("acquire --dry-run --vm vm1 03:00.0"), 0);
    eng_stop(&e);
    eng_start(&e, "demo");
}
END_TEST

/* check's lines each name their device once: the library's reasons name it (several, joined by
 * "; ", each does), and the line that starts with it says "it" there; --json keeps the words. */
HD_TEST(check_names_a_device_once_a_line)
{
    char *line, *next;

    eng_stop(&e);
    eng_start(&e, "usb-scsi");
    ck_assert_int_eq(hd("check usb_1_3 scsi_2_0_0_0 00:04.0 00:05.0"), 1);
    ck_assert_msg(strstr(e.out, "0000:00:04.0: in use by the host, not for a VM now (acquire "
                                "refuses it without --force): it backs /dev/sda mounted on "
                                "/media/stick; it has the host's keyboard behind it (usb_1_1)\n"),
                  "%s", e.out);
    ck_assert_msg(strstr(e.out, "usb_1_3: not with the devices given: it is behind 0000:00:04.0, "
                                "and detaching 0000:00:04.0 removes it from the host"),
                  "%s", e.out);
    for (line = e.out; *line != '\0'; line = next + 1) {
        char subject[64];
        ck_assert_ptr_nonnull(next = strchr(line, '\n'));
        *next = '\0';
        if (strncmp(line, "the 4 devices given: ", 21) != 0) {
            size_t n = strcspn(line, " ");
            ck_assert_msg(n > 1 && n < sizeof(subject) && line[n - 1] == ':', "%s", line);
            snprintf(subject, sizeof(subject), "%.*s", (int)n - 1, line);
            ck_assert_msg(strstr(line + n, subject) == NULL, "%s named twice: %s", subject, line);
        }
    }
    ck_assert_int_eq(hd("--json check 00:04.0"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"host_use\": \"0000:00:04.0 backs /dev/sda mounted on "
                                "/media/stick; 0000:00:04.0 has the host's keyboard behind it "
                                "(usb_1_1)\"") != NULL,
                  "%s", e.out);
    eng_stop(&e);
    eng_start(&e, "demo");
}
END_TEST

/* While a detach hangs in its unbind, its driver record is its own: show said "original
 * driver: e1000e (on it already when it was reserved)" though nothing was reserved. Now it
 * says the operation is under way and the record is that operation's, and once the unbind
 * returns and the detach is undone, neither. */
HD_TEST(show_says_an_operation_under_way_owns_its_record)
{
    ck_assert_int_eq(fx_ctl(&e.fx, "hang e1000e forever"), 0);
    ck_assert_int_eq(hd("--timeout 500 detach 03:00.0"), 1);
    ck_assert_int_eq(hd("show 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "  operation:       a detach is under way on it") != NULL, "%s",
                  e.out);
    ck_assert_msg(strstr(e.out, "  original driver: e1000e (recorded by that detach)\n") != NULL,
                  "%s", e.out);
    ck_assert_msg(strstr(e.out, "reserved)") == NULL, "%s", e.out);
    ck_assert_int_eq(hd("--json show 03:00.0"), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"operation\": {\n    \"name\": \"detach\",\n    "
                                "\"under_way\": true\n  }") != NULL,
                  "%s", e.out);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang e1000e 0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    /* A bound, not a measurement: the detach's writer puts e1000e back when the unbind returns. */
    for (int tries = 0; tries < 500; tries++) {
        ck_assert_int_eq(hd("show 03:00.0"), 0);
        if (strstr(e.out, "operation:") == NULL)
            break;
        usleep(10000);
    }
    ck_assert_msg(strstr(e.out, "operation:") == NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "original driver:") == NULL, "%s", e.out);
    ck_assert_int_eq(hd("--json show 03:00.0"), 0);
    ck_assert_msg(strstr(e.out, "\"operation\": null") != NULL, "%s", e.out);
}
END_TEST

/* A mediated device named twice (its UUID, libvirt's mdev_ name) is bad input for the VM's
 * configuration too: exit 2, nothing printed on stdout. */
HD_TEST(vm_config_of_one_mdev_twice)
{
    const char *u = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

    ck_assert_int_eq(hd("mdev create mtty mtty-1 --uuid 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"), 0);
    ck_assert_int_eq(hd("qemu-args 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 "
                        "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001"),
                     2);
    one_line_error("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 is given twice");
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(hd("hostdev-xml 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 "
                        "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"),
                     2);
    one_line_error("is given twice");
    ck_assert_int_eq(hd("qemu-args 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, u));
}
END_TEST

/* With nothing to recover, the dry run says it would do nothing, as the run says it dealt
 * with none: not a "would do:" heading over an empty plan. */
HD_TEST(recover_dry_run_with_nothing_to_do)
{
    ck_assert_int_eq(hd("recover --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; recover would do nothing\n");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("recover"), 0);
    ck_assert_str_eq(e.out, "0 interrupted operations dealt with\n");
}
END_TEST

HD_TEST(list_and_help)
{
    ck_assert_int_eq(hd("list"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:03:00.0 Ethernet controller [0200]: [8086:10d3] "
                                        "driver=e1000e group=8 if=enp3s0\n"));
    ck_assert_int_eq(hd("list --driver none"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:04:00.0"));
    ck_assert_ptr_null(strstr(e.out, "0000:03:00.0"));
    /* --driver repeats, OR-ed as the selectors are: the first is not dropped. */
    ck_assert_int_eq(hd("list --driver none -d e1000e"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:04:00.0"));
    ck_assert_ptr_nonnull(strstr(e.out, "0000:03:00.0"));
    ck_assert_ptr_null(strstr(e.out, "driver=nouveau"));
    ck_assert_int_eq(hd("--json list 8086:10d3"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"vendor_id\": \"0x8086\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"class\": \"0x020000\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"iommu_group\": 8"));
    /* A listing's JSON has the text line's fields; topology and the like are show's. */
    ck_assert_ptr_null(strstr(e.out, "\"parent\""));
    ck_assert_ptr_null(strstr(e.out, "\"reset_methods\""));
    ck_assert_int_eq(hd("--json show 03:00.0"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"parent\": \"0000:00:1c.0\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"reset_methods\""));
    static const char *const cmds[] = {"list", "show", "iommu", "detach", "reattach", "reset",
                                       "check", "verify", "sriov"};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        char args[64];
        snprintf(args, sizeof(args), "%s --help", cmds[i]);
        ck_assert_msg(hd(args) == 0, "%s", args);
        ck_assert_ptr_nonnull(strstr(e.out, "Usage: hostdev"));
    }
    ck_assert_int_eq(hd("--version"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev "));
    /* An option after them is still an option, not a word to refuse or a command to look up. */
    ck_assert_int_eq(hd("--version --json"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "hostdev "));
    ck_assert_int_eq(hd("-h -v"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "Usage: hostdev [--root DIR]"));
    /* --help COMMAND is help COMMAND, not hostdev's help with the word dropped. */
    ck_assert_int_eq(hd("--help list"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "Usage: hostdev list "));
    /* Global options after the command too, as in other tools; --format json is --json. */
    static const char *const as_json[] = {"list --json 8086:10d3", "list 8086:10d3 --json",
                                          "list --format json 8086:10d3",
                                          "list --format=json 8086:10d3"};
    for (size_t i = 0; i < sizeof(as_json) / sizeof(as_json[0]); i++) {
        ck_assert_msg(hd(as_json[i]) == 0, "%s: %s", as_json[i], e.err);
        json_parses();
        ck_assert_ptr_nonnull(strstr(e.out, "\"iommu_group\": 8"));
    }
    char cmd[1024], *o = NULL, *x = NULL;
    snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev list --root=%s --names none 03:00.0",
             at_build_dir(), e.fx.root);
    ck_assert_int_eq(at_run(cmd, &o, &x), 0);
    ck_assert_ptr_nonnull(strstr(o, "driver=e1000e group=8"));
    free(o);
    free(x);
    /* What dpdk-devbind and driverctl users look for: the interface (which also names the
     * device), the VM that holds it, the driver it came from; show says what the host uses. */
    ck_assert_int_eq(hd("detach --dry-run enp3s0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:03:00.0: e1000e -> vfio-pci"));
    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 enp3s0"), 0);
    /* On vfio-pci the device has no interface: e1000e's remove() unregistered enp3s0, which is
     * back when the device is back on e1000e. */
    ck_assert_int_eq(hd("list 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "driver=vfio-pci group=8 override=vfio-pci "
                                        "vm=web1 orig_driver=e1000e\n"));
    ck_assert_int_eq(hd("--json list 03:00.0"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"vm\": \"web1\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"original_driver\": \"e1000e\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"interfaces\": []"));
    ck_assert_int_eq(hd("show 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "  original driver: e1000e"));
    ck_assert_ptr_nonnull(strstr(e.out, "  assigned to:     vm web1 (managed)"));
    /* What release gives each back to: its driver; "none" for one taken from no driver (a
     * release leaves it unbound); "-" for one on vfio-pci already (a release leaves it so). */
    ck_assert_int_eq(hd("detach --group 01:00.1"), 0);
    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 04:00.0 01:00.0 01:00.1"), 0);
    ck_assert_int_eq(hd("assignments"), 0);
    ck_assert_msg(strstr(e.out, "\n0000:03:00.0  web1                 managed   e1000e ") &&
                      strstr(e.out, "\n0000:04:00.0  web1                 managed   none   ") &&
                      strstr(e.out, "\n0000:01:00.1  web1                 managed   -      "),
                  "%s", e.out);
    ck_assert_int_eq(hd("--json assignments"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out,
                                 "\"address\": \"0000:04:00.0\",\n    \"vm\": \"web1\",\n"
                                 "    \"mode\": \"managed\",\n    \"original_driver\": \"\""));
    ck_assert_ptr_nonnull(strstr(e.out,
                                 "\"address\": \"0000:01:00.1\",\n    \"vm\": \"web1\",\n"
                                 "    \"mode\": \"managed\",\n    \"original_driver\": null"));
    ck_assert_int_eq(hd("release --vm web1"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:04:00.0"), "");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "vfio-pci");
    ck_assert_int_eq(hd("reattach --group 01:00.1"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "snd_hda_intel");
    ck_assert_int_eq(hd("list enp3s0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "driver=e1000e group=8 if=enp3s0\n"));
    ck_assert_int_eq(hd("--json list enp3s0"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"interfaces\": [\n      \"enp3s0\"\n    ]"));
    ck_assert_int_eq(hd("show 03:00.0"), 0); /* test-hostuse-kernel: what a used one says */
    ck_assert_ptr_nonnull(strstr(e.out, "  host use:        none seen\n"));
    ck_assert_ptr_nonnull(strstr(e.out, "  assignable:      yes (endpoint)\n"));
    /* A platform function is an endpoint the host keeps: not assignable, and why. */
    ck_assert_int_eq(hd("show 00:00.0"), 0);
    ck_assert_ptr_nonnull(
        strstr(e.out, "  assignable:      no (a host bridge: the host keeps it)\n"));
    /* No detach takes it (without --force): no driver is said to be what it binds. */
    ck_assert_ptr_nonnull(strstr(e.out, "  detach binds:    none: detach refuses it, kept by the "
                                        "host (a host bridge)\n"));
    ck_assert_int_eq(hd("--json show 00:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"platform_role\": \"a host bridge\""));
    ck_assert_ptr_nonnull(strstr(e.out, "\"assignable\": false"));
    ck_assert_ptr_nonnull(strstr(e.out, "\"vfio_driver\": null"));
    /* Nor a bridge, ever. */
    ck_assert_int_eq(hd("show 00:1c.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "  detach binds:    none: detach refuses it, a bridge\n"));
    ck_assert_int_eq(hd("--json show 00:1c.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"vfio_driver\": null"));
    ck_assert_int_eq(hd("--json show 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"vfio_driver\": \"vfio-pci\""));
    /* oVirt builds its device assignment on is_assignable: the same verdict. */
    ck_assert_int_eq(hd("list --format vdsm --caps pci"), 0);
    static const char *const verdicts[][2] = {{"\"pci_0000_00_00_0\"", "\"false\""},
                                               {"\"pci_0000_03_00_0\"", "\"true\""}};
    for (size_t i = 0; i < 2; i++) {
        const char *at = strstr(e.out, verdicts[i][0]);
        ck_assert_ptr_nonnull(at);
        ck_assert_ptr_nonnull(at = strstr(at, "\"is_assignable\": "));
        ck_assert_msg(strncmp(at + 17, verdicts[i][1], strlen(verdicts[i][1])) == 0, "%s: %.30s",
                      verdicts[i][0], at);
    }
    /* ... and on vmId: a mediated device a VM holds names it. */
    ck_assert_int_eq(hd("mdev create mtty mtty-1 --uuid 11111111-2222-3333-4444-555555555555"), 0);
    ck_assert_int_eq(hd("acquire --vm m1 --owner 0:0 11111111-2222-3333-4444-555555555555"), 0);
    ck_assert_int_eq(hd("list --format vdsm --caps mdev"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"vmId\": \"m1\""));
    ck_assert_int_eq(hd("release --vm m1"), 0);
    ck_assert_int_eq(hd("mdev remove 11111111-2222-3333-4444-555555555555"), 0);
    ck_assert_int_eq(hd("show 03:00.0"), 0);
    /* What each boot does to it: nothing, then what the persisted reservations say, each
     * with the file and line it comes from (an address line wins over an ids line). */
    ck_assert_ptr_nonnull(strstr(e.out, "  at boot:         not reserved\n"));
    ck_assert_int_eq(hd("persist --no-apply 8086:10d3"), 0);
    /* (A VF count for this NIC, which has no SR-IOV, is refused by persist: written here;
     * the boot refuses it, and show says so.) */
    eng_put(&e, "etc/hostdev.d/persist-0000:03:00.0.conf", "# by hand\n0000:03:00.0 numvfs=2\n");
    ck_assert_int_eq(hd("show 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out,
                                 "  at boot:         reserved for vfio-pci (etc/hostdev.d/"
                                 "persist-8086:10d3.conf:2); VF count 2 (etc/hostdev.d/"
                                 "persist-0000:03:00.0.conf:2); refused at boot: "
                                 "0000:03:00.0 is not SR-IOV capable (no sriov_totalvfs)\n"));
    eng_put(&e, "etc/hostdev.d/persist-0000:03:00.0.conf",
            "# by hand\n0000:03:00.0 pci-stub numvfs=2\n");
    ck_assert_int_eq(hd("show 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "  at boot:         reserved for pci-stub, VF count 2 "
                                        "(etc/hostdev.d/persist-0000:03:00.0.conf:2); refused at "
                                        "boot: 0000:03:00.0 is not SR-IOV capable (no "
                                        "sriov_totalvfs)\n"));
    ck_assert_int_eq(hd("--json show 03:00.0"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out,
                                 "\"at_boot\": {\n    \"driver\": \"pci-stub\",\n    "
                                 "\"driver_from\": \"etc/hostdev.d/persist-0000:03:00.0.conf:2\""
                                 ",\n    \"numvfs\": 2,\n    \"numvfs_from\": \"etc/hostdev.d/"
                                 "persist-0000:03:00.0.conf:2\",\n    \"driver_refused\": "
                                 "\"0000:03:00.0 is not SR-IOV capable (no sriov_totalvfs)\""));
    ck_assert_int_eq(hd("unpersist --no-apply 03:00.0"), 0);
    ck_assert_int_eq(hd("unpersist --no-apply 8086:10d3"), 0);
    ck_assert_int_eq(hd("--json show 03:00.0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out,
                                 "\"at_boot\": {\n    \"driver\": null,\n    "
                                 "\"driver_from\": null,\n    \"numvfs\": null,\n    "
                                 "\"numvfs_from\": null,\n    \"driver_refused\": null,\n    "
                                 "\"numvfs_refused\": null,\n    \"skipped\": null\n  }"));
    /* Detached by its interface's name, which goes with e1000e: nothing else is said. */
    ck_assert_int_eq(hd("detach enp3s0"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: e1000e -> vfio-pci\n");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("reattach 03:00.0"), 0);
    /* lspci's -s and -d, globs over the address, repeated and OR-ed; -d without a colon is
     * still the driver. */
    static const struct {
        const char *args, *lines;
    } picks[] = {
        {"list -s 01:", "0000:01:00.0 0000:01:00.1"},
        {"list -s 1f.3 -s 02:00", "0000:00:1f.3 0000:02:00.0"},
        {"list -s 0000:03:00.0", "0000:03:00.0"},
        {"list -d ::0300 -d 8086:10d3", "0000:01:00.0 0000:03:00.0"},
        {"list -d 10de:", "0000:01:00.0 0000:01:00.1"},
        {"list -d ::04", "0000:00:1f.3 0000:01:00.1"},
        {"list '00:1f.*'", "0000:00:1f.0 0000:00:1f.3 0000:00:1f.4"},
        {"list '0000:0?:00.1' enp3s0", "0000:01:00.1 0000:03:00.0"},
        {"list 'enp3*'", "0000:03:00.0"}, /* a glob over the interfaces' names too */
        {"list -d nvme", "0000:02:00.0"},
        {"list -d e1000e -s 03: -s 01:", "0000:03:00.0"}, /* a driver, and buses OR-ed */
    };
    for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
        char got[256] = "";
        ck_assert_msg(hd(picks[i].args) == 0, "%s: %s", picks[i].args, e.err);
        for (const char *l = e.out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            if (got[0])
                strcat(got, " ");
            strncat(got, l, 12);
        }
        ck_assert_msg(strcmp(got, picks[i].lines) == 0, "%s: '%s', not '%s'", picks[i].args, got,
                      picks[i].lines);
    }
    /* show's group table keeps its column whatever the drivers' names. */
    ck_assert_int_eq(hd("show 01:00.0"), 0);
    long column = -1;
    int blocked = 0;
    /* Before any detach that is the normal state, not a fault. */
    ck_assert_ptr_nonnull(strstr(e.out, "on host drivers (as before any detach"));
    for (const char *l = e.out; *l; l = strchr(l, '\n') + 1) {
        const char *b = strstr(l, "on a host driver");
        if (b == NULL || b > strchr(l, '\n'))
            continue;
        ck_assert_msg(column < 0 || column == b - l, "misaligned: %s", e.out);
        column = b - l;
        blocked++;
    }
    ck_assert_int_eq(blocked, 2); /* nouveau and snd_hda_intel */
    /* Reports fold at 100 columns; notes are not problems. */
    ck_assert_int_eq(hd("iommu"), 0);
    if (strstr(e.out, "  info ") != NULL)
        ck_assert_msg(strstr(e.out, "\nNotes:\n") != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "\nProblems:\n") == NULL || strstr(e.out, "  error ") ||
                      strstr(e.out, "  warning "),
                  "only notes under Problems: %s", e.out);
    hd("doctor 01:00.1");
    for (const char *l = e.out; *l; l = strchr(l, '\n') + 1)
        ck_assert_msg(strcspn(l, "\n") <= 100, "a line over 100 columns: %.*s",
                      (int)strcspn(l, "\n"), l);
    /* "--" ends the options: what follows is an argument. */
    ck_assert_int_eq(hd("list -- --json"), 2);
    one_line_error("invalid device selector '--json'");
    /* A root that is no kernel's tree lists nothing and says so. */
    char empty[] = "/tmp/hostdev-empty-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(empty));
    snprintf(cmd, sizeof(cmd), "%s/hostdev --root %s list", at_build_dir(), empty);
    ck_assert_int_eq(at_run(cmd, &o, &x), 2);
    ck_assert_ptr_nonnull(strstr(x, "has no sys/ directory: not a kernel's tree"));
    rmdir(empty);
    free(o);
    free(x);
}
END_TEST

/* COMPREPLY of the bash completion for the words @line (the last one is being typed). */
static char *complete(const char *line)
{
    char cmd[2048], *o = NULL, *x = NULL, *build = realpath(at_build_dir(), NULL);

    ck_assert_ptr_nonnull(build);
    snprintf(cmd, sizeof(cmd),
             "PATH='%s':$PATH bash -c 'source \"%s/completion/hostdev.bash\"; "
             "COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _hostdev_complete; "
             "printf \"%%s \" \"${COMPREPLY[@]}\"'",
             build, at_src_dir(), line);
    free(build);
    ck_assert_msg(at_run(cmd, &o, &x) == 0, "%s: %s", line, x);
    free(x);
    return o;
}

/* bash completion (zsh uses it through bashcompinit): commands, options, addresses and
 * interfaces from the kernel, VM names from the map, following the line's --root. */
HD_TEST(completion)
{
    char words[1024], *c;

#define COMPLETES(line, want)                                                                      \
    do {                                                                                           \
        snprintf(words, sizeof(words), "hostdev --root %s " line, e.fx.root);                     \
        c = complete(words);                                                                       \
        ck_assert_msg(strstr(c, want) != NULL, "'%s' completes to '%s', not '%s'", line, c, want);   \
        free(c);                                                                                   \
    } while (0)
    COMPLETES("de", "detach ");
    COMPLETES("\"\"", "assignments ");
    /* Commands only: the help's lines after its list of them are not. */
    c = complete("hostdev \"\"");
    ck_assert_msg(strstr(c, "Exit") == NULL && strstr(c, " 2 ") == NULL, "completes to '%s'", c);
    free(c);
    COMPLETES("detach --gr", "--group ");
    /* Every long option a command takes is in its --help, where completion finds it. */
    COMPLETES("list --sl", "--slot ");
    /* Only the command's own: check's help speaks of acquire's --force and --group, which
     * check refuses. */
    c = complete("hostdev check --");
    ck_assert_msg(strstr(c, "--group") == NULL && strstr(c, "--force") == NULL, "'%s'", c);
    free(c);
    c = complete("hostdev qemu-args --");
    ck_assert_msg(strstr(c, "--device") == NULL && strstr(c, "--group") == NULL &&
                      strstr(c, "--cloud-hypervisor ") != NULL,
                  "'%s'", c);
    free(c);
    COMPLETES("acquire --unm", "--unmanaged ");
    COMPLETES("detach 0000:03", "0000:03:00.0 ");
    COMPLETES("show enp", "enp3s0 ");
    COMPLETES("--js", "--json ");
    COMPLETES("export --format k", "kubevirt ");
    COMPLETES("mon", "monitor ");
    COMPLETES("he", "help ");
    COMPLETES("help de", "detach ");
    COMPLETES("monitor --dur", "--duration ");
    COMPLETES("monitor --subsystem u", "usb ");
    ck_assert_int_eq(hd("acquire --vm web1 --owner 0:0 03:00.0"), 0);
    COMPLETES("release --vm w", "web1 ");
    COMPLETES("release -m w", "web1 ");
    COMPLETES("migratable -m w", "web1 ");
    COMPLETES("assignments -m w", "web1 ");
    COMPLETES("assignments --vm w", "web1 ");
    COMPLETES("assignments 0000:", "0000:03:00.0 ");
    COMPLETES("qemu-args --vm w", "web1 ");
    COMPLETES("qemu-args --v", "--vm ");
    COMPLETES("hostdev-xml --v", "--vm ");
    ck_assert_int_eq(hd("release --vm web1"), 0);
    /* Each option's own values, from the line's root and state directory. */
    COMPLETES("hostdev-xml --driver \"\"", "vfio none ");
    COMPLETES("hostdev-xml --managed \"\"", "yes no ");
    COMPLETES("hostdev-xml -m \"\"", "yes no ");
    COMPLETES("qemu-args --rom-bar o", "on off ");
    COMPLETES("list --caps pci,usb_d", "pci,usb_device ");
    COMPLETES("list --caps pci,mdev_", "pci,mdev_types ");
    COMPLETES("list --driver e1", "e1000e ");
    COMPLETES("detach --driver v", "vfio vfio-pci ");
    COMPLETES("export --output /et", "/etc ");
    COMPLETES("qemu-args --rom-file /et", "/etc ");
    /* -f is export's and list's --format, every other command's --force. */
    COMPLETES("export -f k", "kubevirt ");
    COMPLETES("list -f v", "vdsm ");
    COMPLETES("detach -f 0000:03", "0000:03:00.0 ");
    /* A count, a size or a name of the user's own: no device is offered for it. */
    static const char *const own_values[] = {"persist 03:00.0 --numvfs", "persist 03:00.0 -n",
                                             "doctor --vm-memory", "doctor -u", "monitor -w",
                                             "qemu-args 03:00.0 --guest-slot"};
    for (size_t i = 0; i < sizeof(own_values) / sizeof(own_values[0]); i++) {
        snprintf(words, sizeof(words), "hostdev --root %s %s \"\"", e.fx.root, own_values[i]);
        c = complete(words);
        ck_assert_msg(c[strspn(c, " ")] == '\0', "'%s' completes to '%s'", own_values[i], c);
        free(c);
    }
    COMPLETES("acquire --owner roo", "root ");
    COMPLETES("acquire -o roo", "root ");
    COMPLETES("export -o /et", "/etc ");
    /* With none made or defined, a mediated device's place offers nothing: not the words of
     * "no mediated devices". */
    static const char *const no_mdev[] = {"mdev remove \"\"", "mdev undefine \"\"",
                                          "verify n", "show n", "acquire --vm x n"};
    for (size_t i = 0; i < sizeof(no_mdev) / sizeof(no_mdev[0]); i++) {
        snprintf(words, sizeof(words), "hostdev --root %s %s", e.fx.root, no_mdev[i]);
        c = complete(words);
        ck_assert_msg(strstr(c, "no ") == NULL, "'%s' completes to '%s'", no_mdev[i], c);
        free(c);
    }
    ck_assert_int_eq(hd("mdev create mtty mtty-1 --uuid 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"),
                     0);
    /* --uuid's value is not the parent: the parent comes next. */
    COMPLETES("mdev create --uuid 83b8f4f2-509f-382f-3c1e-e6bfe0fa1002 mt", "mtty ");
    COMPLETES("mdev define -u 83b8f4f2-509f-382f-3c1e-e6bfe0fa1002 mtty mt", "mtty-1 mtty-2 ");
    COMPLETES("verify 83b", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 ");
    COMPLETES("show 83b", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 ");
    COMPLETES("hostdev-xml usb_1", "usb_1_2 ");
    ck_assert_int_eq(hd("acquire --vm web2 --owner 0:0 03:00.0"), 0);
    ck_assert_int_eq(hd("--state-dir run/other acquire --vm web3 --owner 0:0 04:00.0"), 0);
    COMPLETES("--state-dir run/other release --vm w", "web3 ");
    snprintf(words, sizeof(words), "hostdev --root %s --state-dir run/other release --vm w",
             e.fx.root);
    c = complete(words);
    ck_assert_msg(strstr(c, "web2") == NULL, "the default state directory's VM: '%s'", c);
    free(c);
#undef COMPLETES
}
END_TEST

/* zsh runs the completion through bashcompinit; a zsh started here has no line editor, so
 * compadd prints the matches it is given. @how: "fpath" (the file alone in a directory of
 * $fpath, as installed) or "source"; @line: the words, the last one being typed. What it prints:
 * "first: " hostdev's completion function before, the matches, "then: " it after, the matches
 * again, "_hostdev: " what the name _hostdev is then. */
static const char zsh_harness[] =
    "how=$1 where=$2; shift 2\n"
    "compadd() {\n"
    "    local -a m; local i=${@[(i)-a]}\n"
    "    if (( i <= $# )); then m=(\"${(@P)${@[i+1]}}\"); else m=(\"${@[${@[(i)-]}+1,-1]}\"); fi\n"
    "    print -rl -- $m\n"
    "}\n"
    "if [[ $how == fpath ]]; then\n"
    "    fpath=($where $fpath); autoload -U compinit && compinit -u -D\n"
    "else\n"
    "    source $where\n" /* before compinit: the file runs it */
    "fi\n"
    "words=(\"$@\"); CURRENT=$#; PREFIX=${words[-1]}\n"
    "print -r -- \"first: ${_comps[hostdev]}\"\n"
    "${=_comps[hostdev]}\n"
    "print -r -- \"then: ${_comps[hostdev]}\"\n"
    "${=_comps[hostdev]}\n"
    "print -r -- \"_hostdev: $(whence -v _hostdev)\"\n";

static char *zsh_complete(const char *how, const char *where, const char *line)
{
    char cmd[2048], harness[] = "/tmp/hostdev-zsh-XXXXXX", *o = NULL, *x = NULL;
    char *build = realpath(at_build_dir(), NULL);
    int fd = mkstemp(harness);

    ck_assert_ptr_nonnull(build);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, zsh_harness, strlen(zsh_harness)), (ssize_t)strlen(zsh_harness));
    close(fd);
    snprintf(cmd, sizeof(cmd), "PATH='%s':$PATH zsh -f %s %s '%s' %s", build, harness, how, where,
             line);
    free(build);
    ck_assert_msg(at_run(cmd, &o, &x) == 0, "%s: %s", line, x);
    unlink(harness);
    ck_assert_msg(x[0] == '\0', "%s: %s", line, x);
    free(x);
    return o;
}

static bool have_zsh(void)
{
    if (system("command -v zsh >/dev/null 2>&1") == 0)
        return true;
    fprintf(stderr, "test-tool: zsh not installed: its completion not run\n");
    return false;
}

/* zsh's completion is the installed _hostdev alone: it reads no other file (bash's completion
 * is where make put it), and the first completion of a shell completes, whether zsh autoloads
 * it from $fpath or it is sourced; the bash function it runs is no _hostdev of its own. */
HD_TEST(zsh_completion)
{
    char file[1024], dir[] = "/tmp/hostdev-fpath-XXXXXX", want[1200], line[1200], *c;
    char *text = NULL, *x = NULL;

    snprintf(file, sizeof(file), "%s/completion/_hostdev", at_build_dir());
    snprintf(line, sizeof(line), "cat %s", file);
    ck_assert_msg(at_run(line, &text, &x) == 0, "%s not built: %s", file, x);
    free(x);
    ck_assert_msg(strncmp(text, "#compdef hostdev\n", 17) == 0, "%.40s", text);
    ck_assert_ptr_null(strstr(text, "\nsource "));
    ck_assert_ptr_null(strstr(text, "bash-completion"));
    ck_assert_ptr_null(strstr(text, "_hostdev()"));
    ck_assert_ptr_nonnull(strstr(text, "\n_hostdev_complete()\n"));
    free(text);
    if (!have_zsh())
        return;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(line, sizeof(line), "cp %s %s/", file, dir);
    ck_assert_int_eq(system(line), 0);

    snprintf(line, sizeof(line), "hostdev --root %s de", e.fx.root);
    c = zsh_complete("fpath", dir, line);
    ck_assert_msg(strncmp(c, "first: _hostdev\n", 16) == 0, "%s", c);
    ck_assert_msg(strstr(c, "\ndetach\n") != NULL && strstr(c, "\ndetach\n") < strstr(c, "then: "),
                  "the first completion: %s", c);
    ck_assert_msg(strstr(c, "then: _bash_complete -F _hostdev_complete\n") != NULL, "%s", c);
    ck_assert_msg(strstr(strstr(c, "then: "), "\ndetach\n") != NULL, "the next one: %s", c);
    snprintf(want, sizeof(want), "_hostdev: _hostdev is a shell function from %s/_hostdev\n",
             dir);
    ck_assert_msg(strstr(c, want) != NULL, "%s", c);
    free(c);

    snprintf(line, sizeof(line), "%s/_hostdev", dir);
    snprintf(want, sizeof(want), "hostdev --root %s detach 0000:03", e.fx.root);
    c = zsh_complete("source", line, want);
    ck_assert_msg(strncmp(c, "first: _bash_complete -F _hostdev_complete\n", 43) == 0, "%s", c);
    ck_assert_msg(strstr(c, "\n0000:03:00.0\n") != NULL, "%s", c);
    ck_assert_msg(strstr(c, "_hostdev: _hostdev not found\n") != NULL, "%s", c);
    free(c);
    snprintf(line, sizeof(line), "rm -r %s", dir);
    ck_assert_int_eq(system(line), 0);

    /* The source tree's copy reads hostdev.bash beside it. */
    snprintf(line, sizeof(line), "%s/completion/_hostdev", at_src_dir());
    snprintf(want, sizeof(want), "hostdev --root %s show enp", e.fx.root);
    c = zsh_complete("source", line, want);
    ck_assert_msg(strstr(c, "\nenp3s0\n") != NULL, "%s", c);
    free(c);
}
END_TEST

HD_TEST(iommu_explains_every_shipped_tree)
{
    static const struct {
        const char *spec;
        int status;
        const char *needle;
    } trees[] = {
        {"demo", 0, "usable"},
        {"laptop", 0, "usable"},
        {"server-sriov", 0, "usable"},
        {"gpu-audio", 0, "usable"},
        {"bridge-shared", 0, "usable"},
        {"amd", 0, "usable"},
        {"old-kernel", 0, "usable"},
        {"no-iommu", 1, "fix:"},
        {"iommu-off-firmware", 1, "intel_iommu=on"},
        {"unsafe-interrupts", 1, "allow_unsafe_interrupts"},
    };
    eng_stop(&e);
    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
        eng_start(&e, trees[i].spec);
        ck_assert_msg(hd("iommu") == trees[i].status, "%s: exit status", trees[i].spec);
        ck_assert_msg(strstr(e.out, trees[i].needle) != NULL, "%s: '%s' not in:\n%s", trees[i].spec,
                      trees[i].needle, e.out);
        ck_assert_int_eq(hd("--json iommu"), trees[i].status);
        json_parses();
        eng_stop(&e);
    }
    eng_start(&e, "demo");
}
END_TEST

static const char domain_xml[] =
    "<domain type='kvm'>\n  <name>win10</name>\n  <devices>\n"
    "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
    "      <source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>\n"
    "    </hostdev>\n"
    "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
    "      <source><address domain='0x0000' bus='0x04' slot='0x00' function='0x0'/></source>\n"
    "    </hostdev>\n  </devices>\n</domain>\n";

/* acquire/release --domain-xml: every PCI hostdev with its own managed flag, all or nothing
 * across both kinds; VDSM's listing then names the VM. */
HD_TEST(domain_xml_acquire_release)
{
    char path[] = "/tmp/hostdev-domain-XXXXXX", args[256];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    fputs(domain_xml, f);
    fclose(f);
    /* 04:00.0 is unmanaged but not detached: refused, and the managed NIC goes back. */
    snprintf(args, sizeof(args), "acquire --domain-xml %s", path);
    ck_assert_int_eq(hd(args), 1);
    one_line_error("vm win10: 0000:04:00.0");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
    ck_assert(!fx_exists(&e.fx, "dev/vfio/8"));
    snprintf(args, sizeof(args), "acquire --domain-xml %s 03:00.0", path);
    ck_assert_int_eq(hd(args), 2);
    snprintf(args, sizeof(args), "acquire --domain-xml %s.absent", path);
    ck_assert_int_eq(hd(args), 2);

    ck_assert_int_eq(hd("detach 04:00.0"), 0);
    snprintf(args, sizeof(args), "acquire --domain-xml %s", path);
    ck_assert_int_eq(hd(args), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "vfio-pci");
    ck_assert_int_eq(hd("--json assignments"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "win10"));
    ck_assert_int_eq(hd("list --format vdsm"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"vmId\": \"win10\""));
    ck_assert_int_eq(hd("migratable --vm win10"), 1);

    snprintf(args, sizeof(args), "release --domain-xml %s", path);
    ck_assert_int_eq(hd(args), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e"); /* managed: back home */
    ck_assert_str_eq(fx_driver(&e.fx, "0000:04:00.0"), "vfio-pci"); /* unmanaged: stays */
    ck_assert_int_eq(hd("migratable --vm win10"), 0);
    unlink(path);
}
END_TEST

/* managed='yes' of a device parked on pci-stub: libvirt detaches it to vfio-pci and gives it
 * back to pci-stub; so does hostdev, the plan saying so first, the override and the record
 * back as they were. */
HD_TEST(domain_xml_managed_from_pci_stub)
{
    char path[] = "/tmp/hostdev-domain-XXXXXX", args[256];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    fputs("<domain type='kvm'>\n  <name>router</name>\n  <devices>\n"
          "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
          "      <source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>"
          "</source>\n    </hostdev>\n  </devices>\n</domain>\n", f);
    fclose(f);
    ck_assert_int_eq(hd("detach --driver pci-stub 03:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "pci-stub");
    snprintf(args, sizeof(args), "--json acquire --dry-run --domain-xml %s", path);
    ck_assert_int_eq(hd(args), 0);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"from\": \"pci-stub\",\n      \"to\": \"vfio-pci\"") != NULL,
                  "%s", e.out);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "pci-stub");
    snprintf(args, sizeof(args), "acquire --domain-xml %s", path);
    ck_assert_int_eq(hd(args), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "vfio-pci");
    ck_assert_int_eq(hd("release --vm router --dry-run"), 0);
    ck_assert_msg(strstr(e.out, "vfio-pci -> pci-stub") != NULL, "%s", e.out);
    ck_assert_int_eq(hd("release --vm router"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "pci-stub");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.0/driver_override"),
                     "pci-stub");
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/0000:03:00.0"), "e1000e");
    /* Unmanaged, nothing moves. */
    ck_assert_int_eq(hd("acquire --vm router --unmanaged 03:00.0"), 1);
    one_line_error("is on pci-stub, which VFIO cannot use");
    ck_assert_int_eq(hd("reattach 03:00.0"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "e1000e");
    unlink(path);
}
END_TEST

/* libvirt's SR-IOV form: a VF as an <interface type='hostdev'> beside a host-side one. */
static const char iface_xml[] =
    "<domain type='kvm'>\n  <name>nfv1</name>\n  <devices>\n"
    "    <interface type='network'><source network='default'/></interface>\n"
    "    <interface type='hostdev' managed='yes'>\n"
    "      <driver name='vfio'/>\n"
    "      <source><address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x0'/>"
    "</source>\n"
    "      <mac address='52:54:00:6d:90:02'/>\n"
    "      <vlan><tag id='42'/></vlan>\n"
    "    </interface>\n  </devices>\n</domain>\n";

static void write_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* An <interface type='hostdev'> is a PCI device like a <hostdev type='pci'>: acquire moves the
 * VF to vfio-pci and records it, release gives it back. Its MAC address and VLAN, which hostdev
 * does not set, are said (a note, the JSON "warnings"), not dropped in silence; without
 * managed='yes' it is unmanaged, libvirt's default. */
HD_TEST(domain_xml_interface_hostdev)
{
    char path[] = "/tmp/hostdev-domain-XXXXXX", bare[] = "/tmp/hostdev-domain-XXXXXX";
    char args[256];
    const char *note = "note: 0000:03:10.0: hostdev does not set the MAC address "
                       "52:54:00:6d:90:02 and VLAN 42 of its <interface type='hostdev'> (line 5)";

    eng_stop(&e);
    eng_start(&e, "server-sriov");
    write_file(path, iface_xml);
    snprintf(args, sizeof(args), "--json acquire --dry-run --domain-xml %s", path);
    ck_assert_int_eq(hd(args), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"device\": \"0000:03:10.0\""));
    ck_assert_msg(strstr(e.out, "\"warnings\": [") != NULL && strstr(e.out, "52:54:00:6d:90:02"),
                  "%s", e.out);
    ck_assert_str_eq(e.err, "");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "ixgbevf");

    snprintf(args, sizeof(args), "acquire --domain-xml %s", path);
    ck_assert_int_eq(hd(args), 0);
    one_line_error(note);
    /* what to run instead, with the PF's interface and the VF's number on it */
    one_line_error("'ip link set dev enp3s0f0 vf 0 mac 52:54:00:6d:90:02 vlan 42'");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "vfio-pci");
    ck_assert_int_eq(hd("assignments"), 0);
    ck_assert_msg(strstr(e.out, "0000:03:10.0  nfv1") != NULL, "%s", e.out);

    snprintf(args, sizeof(args), "release --domain-xml %s", path);
    ck_assert_int_eq(hd(args), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "ixgbevf");
    ck_assert_int_eq(hd("--json assignments"), 0);
    ck_assert_ptr_null(strstr(e.out, "nfv1"));

    /* no managed='yes': the VF must be on vfio-pci already; nothing moves */
    char *text = strdup(iface_xml), *m = strstr(text, " managed='yes'");
    memmove(m, m + strlen(" managed='yes'"), strlen(m + strlen(" managed='yes'")) + 1);
    write_file(bare, text);
    free(text);
    snprintf(args, sizeof(args), "acquire --domain-xml %s", bare);
    ck_assert_int_eq(hd(args), 1);
    one_line_error("0000:03:10.0 is bound to ixgbevf");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "ixgbevf");
    unlink(path);
    unlink(bare);
    eng_stop(&e);
    eng_start(&e, "demo");
}
END_TEST

/* A VLAN trunk (several tags, or trunk='yes'): ip link gives a VF one VLAN, so no command is
 * offered for it, only words; the MAC address keeps its command. */
HD_TEST(domain_xml_interface_vlan_trunk)
{
    static const char *const vlans[] = {"<vlan><tag id='10'/><tag id='20'/></vlan>",
                                        "<vlan trunk='yes'><tag id='42'/></vlan>"};
    static const char *const said[] = {"VLAN trunk 10,20", "VLAN trunk 42"};
    char path[] = "/tmp/hostdev-domain-XXXXXX", args[256], xml[1024];

    eng_stop(&e);
    eng_start(&e, "server-sriov");
    for (size_t i = 0; i < 2; i++) {
        snprintf(xml, sizeof(xml),
                 "<domain><name>nfv1</name><devices>\n"
                 "<interface type='hostdev' managed='yes'>\n"
                 "<source><address type='pci' bus='0x03' slot='0x10' function='0'/></source>\n"
                 "<mac address='52:54:00:6d:90:02'/>%s</interface>\n"
                 "<interface type='hostdev' managed='yes'>\n"
                 "<source><address type='pci' bus='0x03' slot='0x10' function='2'/></source>\n"
                 "%s</interface></devices></domain>\n",
                 vlans[i], vlans[i]);
        snprintf(path, sizeof(path), "/tmp/hostdev-domain-XXXXXX");
        write_file(path, xml);
        snprintf(args, sizeof(args), "acquire --dry-run --domain-xml %s", path);
        ck_assert_int_eq(hd(args), 0);
        /* the MAC address: its command, without the trunk */
        char words[256];
        snprintf(words, sizeof(words),
                 "'ip link set dev enp3s0f0 vf 0 mac 52:54:00:6d:90:02'; nor can it set its %s "
                 "on the VF: ip link gives a VF one VLAN, and the PF's driver must carry the "
                 "trunk\n",
                 said[i]);
        ck_assert_msg(strstr(e.err, words) != NULL, "'%s' not in '%s'", words, e.err);
        /* the trunk alone: in words */
        snprintf(words, sizeof(words),
                 "note: 0000:03:10.2: hostdev cannot set the %s of its <interface "
                 "type='hostdev'> (line 5) on the VF: ip link gives a VF one VLAN, and the PF's "
                 "driver must carry the trunk\n",
                 said[i]);
        ck_assert_msg(strstr(e.err, words) != NULL, "'%s' not in '%s'", words, e.err);
        ck_assert_msg(strstr(e.err, " vlan ") == NULL, "%s", e.err);
        ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "ixgbevf");
        unlink(path);
    }
    eng_stop(&e);
    eng_start(&e, "demo");
}
END_TEST

/* The README's "Using it" examples work as written (on the demo tree), and the runner notices
 * one that does not. */
HD_TEST(readme_examples_work)
{
    char cmd[1024], bad[] = "/tmp/hostdev-readme-XXXXXX";
    int fd;

    snprintf(cmd, sizeof(cmd), "%s/tests/readme/run-examples %s/hostdev %s %s/README.md",
             at_src_dir(), at_build_dir(), e.fx.root, at_src_dir());
    free(e.out);
    free(e.err);
    ck_assert_msg(at_run(cmd, &e.out, &e.err) == 0, "%s%s", e.out, e.err);
    ck_assert_msg(strstr(e.out, " 0 failed") != NULL, "%s", e.out);
    ck_assert_msg(strtol(e.out + strlen("readme: "), NULL, 10) >= 20, "too few examples ran: %s",
                  e.out);

    /* A README whose example names a device the tree lacks: exit 2, not the 0 it promises. */
    fd = mkstemp(bad);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_gt(dprintf(fd, "## Using it\n\n```sh\nhostdev list\n"
                                 "hostdev show 0000:09:00.0     # one device\n```\n"), 0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "%s/tests/readme/run-examples %s/hostdev %s %s",
             at_src_dir(), at_build_dir(), e.fx.root, bad);
    free(e.out);
    free(e.err);
    ck_assert_int_eq(at_run(cmd, &e.out, &e.err), 1);
    ck_assert_msg(strstr(e.out, "exited 2, not 0: hostdev show 0000:09:00.0") != NULL, "%s", e.out);
    ck_assert_msg(strstr(e.out, "readme: 2 examples, 1 failed") != NULL, "%s", e.out);
    unlink(bad);
}
END_TEST

/* The man page's EXAMPLES work as written: on the demo tree, and those after its `tree:`
 * comment on server-sriov. */
HD_TEST(man_examples_work)
{
    struct fx sriov;
    char cmd[2048], vf_driver[64];
    int rc;

    fx_mount(&sriov, "server-sriov");
    snprintf(cmd, sizeof(cmd),
             "%s/tests/readme/run-examples %s/hostdev %s %s/man/hostdev.1 server-sriov=%s",
             at_src_dir(), at_build_dir(), e.fx.root, at_src_dir(), sriov.root);
    free(e.out);
    free(e.err);
    rc = at_run(cmd, &e.out, &e.err);
    /* The sriov example ran there: its VFs and the detach are on that tree. */
    snprintf(vf_driver, sizeof(vf_driver), "%s", fx_driver(&sriov, "0000:03:10.0"));
    fx_umount(&sriov);
    ck_assert_msg(rc == 0, "%s%s", e.out, e.err);
    ck_assert_msg(strtol(e.out + strlen("man: "), NULL, 10) >= 9, "too few examples ran: %s",
                  e.out);
    ck_assert_str_eq(vf_driver, "vfio-pci");
}
END_TEST

HD_TEST_GROUP(options, .setup = setup, .teardown = teardown, .timeout = 600);

/* What users read of each command's options (its --help, its man page synopsis, what the bash
 * completion offers) the parser takes, in the form shown; and every one-letter option the
 * parser takes is in the --help. A doctored man page is caught. */
HD_TEST_IN(options, options_are_as_documented)
{
    char cmd[2048], bad[] = "/tmp/hostdev-man-XXXXXX";
    int fd;

    snprintf(cmd, sizeof(cmd),
             "%s/tests/readme/check-options %s/hostdev %s %s/man/hostdev.1 "
             "%s/completion/hostdev.bash",
             at_src_dir(), at_build_dir(), e.fx.root, at_src_dir(), at_src_dir());
    free(e.out);
    free(e.err);
    ck_assert_msg(at_run(cmd, &e.out, &e.err) == 0, "%s%s", e.out, e.err);
    ck_assert_msg(strstr(e.out, "options: 25 commands, 0 mismatches") != NULL, "%s", e.out);

    /* A synopsis naming an option detach lacks, and one giving --group a value. */
    fd = mkstemp(bad);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_gt(dprintf(fd, ".TH X\n.TP\n\\fBdetach\\fR \\fIADDR\\fR... "
                                 "[\\fB\\-\\-gruop\\fR] [\\fB\\-\\-group\\fR "
                                 "\\fIN\\fR]\nDetach.\n"),
                     0);
    close(fd);
    snprintf(cmd, sizeof(cmd), "%s/tests/readme/check-options %s/hostdev %s %s %s/completion/hostdev.bash",
             at_src_dir(), at_build_dir(), e.fx.root, bad, at_src_dir());
    free(e.out);
    free(e.err);
    ck_assert_int_eq(at_run(cmd, &e.out, &e.err), 1);
    unlink(bad);
    ck_assert_msg(strstr(e.out, "detach: man page shows --gruop, which the parser refuses\n") !=
                      NULL,
                  "%s", e.out);
    ck_assert_msg(strstr(e.out, "detach: man page shows --group with a value; the parser takes it "
                                "without one\n") != NULL,
                  "%s", e.out);
    ck_assert_msg(strstr(e.out, " 2 mismatches") != NULL, "%s", e.out);
}
END_TEST

/* Whatever form a device was typed in, messages name it canonically, once per line, and a no-op
 * says so plainly (never "e1000e -> e1000e"). */
static void canonical_output(const char *cmd)
{
    const char *texts[] = {e.out, e.err};

    for (size_t t = 0; t < 2; t++)
        for (const char *l = texts[t]; l != NULL && *l; l = strchr(l, '\n') + 1) {
            int len = (int)strcspn(l, "\n");
            char line[1024], from[64], to[64];
            const char *first;

            char prose[1024];
            size_t n = 0;
            bool quoted = false;

            snprintf(line, sizeof(line), "%.*s", len, l);
            ck_assert_msg(strstr(line, "3:0.0") == NULL, "%s: the typed form: %s", cmd, line);
            /* A quoted command ('hostdev detach 0000:03:00.0') names the device again on
             * purpose, to be pasted; and so do fix: lines. The prose around them must not. */
            for (const char *c = line; *c; c++)
                if (*c == '\'')
                    quoted = !quoted;
                else if (!quoted)
                    prose[n++] = *c;
            prose[n] = '\0';
            first = strstr(prose, "0000:03:00.0");
            if (first != NULL && strncmp(line, "  ", 2) != 0)
                ck_assert_msg(strstr(first + 1, "0000:03:00.0") == NULL, "%s: twice: %s", cmd,
                              line);
            if (sscanf(line, "0000:03:00.0: %63s -> %63s", from, to) == 2)
                ck_assert_msg(strcmp(from, to) != 0, "%s: a no-op as a change: %s", cmd, line);
            if (strchr(l, '\n') == NULL)
                break;
        }
}

HD_TEST(messages_name_devices_canonically)
{
    static const char *const cmds[] = {
        "detach 3:0.0",   "detach 3:0.0",   "check 3:0.0",  "verify 3:0.0", "reset 3:0.0",
        "doctor 3:0.0",   "show 3:0.0",     "reattach 3:0.0", "reattach 3:0.0", "reset 3:0.0",
        "verify 3:0.0",   "doctor 3:0.0",   "persist 3:0.0", "unpersist 3:0.0",
        "detach --dry-run 3:0.0", "qemu-args 3:0.0", "--json detach 3:0.0",
        "--json reattach 3:0.0",
    };

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        int rc = hd(cmds[i]);
        ck_assert_msg(rc == 0 || rc == 1, "%s: exit %d: %s", cmds[i], rc, e.err);
        canonical_output(cmds[i]);
    }
    ck_assert_int_eq(hd("detach 3:0.0"), 0);
    ck_assert_int_eq(hd("detach 3:0.0"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: already on vfio-pci\n");
    ck_assert_int_eq(hd("doctor 1:0.0"), 1);
    ck_assert_msg(strncmp(e.out, "error 0000:01:00.0: IOMMU group 1", 33) == 0 ||
                      strstr(e.out, "\nerror 0000:01:00.0: IOMMU group 1") != NULL,
                  "%s", e.out);
}
END_TEST

/* monitor: the events the fake kernel announces, in order, as lines and as JSON; malformed
 * records in the channel are skipped; bad options exit 2. */
static int monitor_while(const char *monitor_args, const char *actions)
{
    char cmd[2048];

    free(e.out);
    free(e.err);
    snprintf(cmd, sizeof(cmd),
             "R='%s'; H='%s/hostdev --root %s'; d=$(mktemp -d); "
             "$H -v %s >$d/out 2>$d/err & pid=$!; "
             "for i in $(seq 200); do grep -q listening $d/err && break; sleep 0.05; done; "
             "%s; wait $pid; rc=$?; cat $d/out; rm -rf $d; exit $rc",
             e.fx.root, at_build_dir(), e.fx.root, monitor_args, actions);
    return at_run(cmd, &e.out, &e.err);
}

HD_TEST(monitor_events)
{
    ck_assert_int_eq(monitor_while("monitor --count 4 --duration 30",
                                   "$H detach 3:0.0 >/dev/null && $H reattach 3:0.0 >/dev/null"),
                     0);
    ck_assert_str_eq(e.out, "unbind 0000:03:00.0\n"
                            "bind 0000:03:00.0 driver=vfio-pci\n"
                            "unbind 0000:03:00.0\n"
                            "bind 0000:03:00.0 driver=e1000e\n");
    /* Removal and hot-add through the fake's control file, as JSON. */
    ck_assert_int_eq(monitor_while("--json monitor --count 3 --duration 30",
                                   "echo 1 > $R/sys/bus/pci/devices/0000:03:00.0/remove; "
                                   "echo 1 > $R/sys/bus/pci/rescan"),
                     0);
    json_parses_lines();
    ck_assert_msg(strstr(e.out, "\"action\":\"unbind\"") < strstr(e.out, "\"action\":\"remove\""),
                  "%s", e.out);
    ck_assert_ptr_nonnull(strstr(e.out, "\"action\":\"remove\",\"subsystem\":\"pci\","
                                        "\"address\":\"0000:03:00.0\""));
    ck_assert_ptr_nonnull(
        strstr(e.out, "\"devpath\":\"/devices/pci0000:00/0000:00:1c.0/0000:03:00.0\""));
    /* Nothing happens: --duration ends it, and the count not reached is exit 1. */
    ck_assert_int_eq(hd("monitor --count 1 --duration 1"), 1);
    ck_assert_str_eq(e.out, "");
    ck_assert_int_eq(hd("monitor --count 0"), 2);
    one_line_error("--count '0'");
    ck_assert_int_eq(hd("monitor --subsystem ../x"), 2);
    one_line_error("--subsystem '../x'");
    ck_assert_int_eq(hd("monitor 0000:03:00.0"), 2);
    one_line_error("unexpected argument '0000:03:00.0'");
}
END_TEST

/* monitor --subsystem: a name the kernel has no bus or class of watches nothing now, so it is
 * warned of, with the one it is likely a slip of, and watched still (a module may bring it);
 * one the kernel has, or all, is not. */
HD_TEST(monitor_unknown_subsystem)
{
    ck_assert_int_eq(hd("monitor --subsystem pcii --duration 1"), 0);
    one_line_error("warning: --subsystem 'pcii': the kernel has no such bus or class now");
    ck_assert_ptr_nonnull(strstr(e.err, "(did you mean pci?)"));
    ck_assert_int_eq(hd("monitor --subsystem nvmm --duration 1"), 0);
    one_line_error("--subsystem 'nvmm'");
    ck_assert_ptr_null(strstr(e.err, "did you mean"));
    ck_assert_int_eq(hd("--json monitor --subsystem scsi_genric --duration 1"), 0);
    at_json_check(e.err, false);
    ck_assert_ptr_nonnull(strstr(e.err, "{\"command\":\"monitor\",\"warnings\":["
                                        "\"--subsystem 'scsi_genric': "));
    ck_assert_ptr_nonnull(strstr(e.err, "(did you mean scsi_generic?)"));
    static const char *const known[] = {"pci", "usb", "net", "mdev_bus", "all"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        char args[64];
        snprintf(args, sizeof(args), "monitor --subsystem %s --duration 1", known[i]);
        ck_assert_int_eq(hd(args), 0);
        ck_assert_msg(e.err[0] == '\0', "%s: %s", known[i], e.err);
    }
}
END_TEST

/* export --watch: the file is written at once, again when an event changes what it exports,
 * not when an event changes nothing of it, and SIGTERM ends it cleanly. */
HD_TEST(export_watch)
{
    char cmd[4096];

    free(e.out);
    free(e.err);
    /* wrote N: wait until the watcher has written its Nth file. */
    snprintf(cmd, sizeof(cmd),
             "R='%s'; H='%s/hostdev --root %s'; d=$(mktemp -d); export SOURCE_DATE_EPOCH=1700000000; "
             "wrote() { for i in $(seq 200); do [ $(grep -c wrote $d/err) -ge $1 ] && return; "
             "sleep 0.05; done; echo \"no write $1\"; cat $d/err; exit 9; }; "
             "$H -v export --format nfd -o $d/f --watch 2>$d/err & pid=$!; "
             "wrote 1; grep -c vfio-8086_10d3 $d/f; "
             "$H detach 3:0.0 >/dev/null && wrote 2 && grep vfio-8086_10d3 $d/f; "
             "D=$R/sys/bus/pci/drivers/vfio-pci; echo 0000:03:00.0 > $D/unbind; "
             "echo 0000:03:00.0 > $D/bind; "
             "sleep 1; echo writes: $(grep -c wrote $d/err); "
             "kill $pid; wait $pid; echo exit $?; ls $d; rm -rf $d",
             e.fx.root, at_build_dir(), e.fx.root);
    ck_assert_int_eq(at_run(cmd, &e.out, &e.err), 0);
    ck_assert_str_eq(e.out, "0\n"
                            "hostdev.feature.node.kubernetes.io/vfio-8086_10d3=1\n"
                            "writes: 2\n"
                            "exit 0\n"
                            "err\nf\n");
    ck_assert_int_eq(hd("export --format nfd --watch"), 2);
    one_line_error("--watch rewrites a file: give it with -o FILE");
}
END_TEST

/* The shipped units: systemd finds nothing to say about them, and the commands they run work
 * (run here as systemd would expand them, against the fake root). */
HD_TEST(shipped_units)
{
    char cmd[4096], *abs_build = realpath(at_build_dir(), NULL);

    ck_assert_ptr_nonnull(abs_build);
    free(e.out);
    free(e.err);
    snprintf(cmd, sizeof(cmd),
             "R='%s'; t=$(mktemp -d); make -s -C '%s' boot BUILD=$t BINDIR='%s' >/dev/null || exit 3; "
             "cd $t/boot && mkdir v && cp hostdev-export@.service v/hostdev-export@nfd.service && "
             "cp hostdev-export-nfd.service hostdev-export-nfd.timer hostdev-reserve.service v/ || exit 4; "
             "for u in v/*; do systemd-analyze verify --man=no $u 2>&1 | sed \"s|^|$u: |\"; done; "
             /* ExecStart as systemd expands it: %%i, ${VAR} one word, $VAR split (empty here). */
             "execstart() { sed -n 's/^ExecStart=//p' $1 | sed \"s|%%i|nfd|g; "
             "s|\\${HOSTDEV_EXPORT_OUTPUT}|$t/$2|; s|\\$HOSTDEV_EXPORT_ARGS||\"; }; "
             "set -- $(execstart v/hostdev-export@nfd.service watched); bin=$1; shift; "
             "$bin --root $R -v \"$@\" 2>$t/err & pid=$!; "
             "for i in $(seq 200); do grep -q wrote $t/err && break; sleep 0.05; done; "
             "kill $pid; wait $pid; echo watch exit $?; head -c 16 $t/watched; echo; "
             "set -- $(execstart v/hostdev-export-nfd.service once); bin=$1; shift; "
             "$bin --root $R \"$@\"; echo once exit $?; head -c 16 $t/once; echo; "
             /* The timer renews well inside the expiry the service asks for. */
             "grep -o -- '--expiry [0-9a-z]*' v/hostdev-export-nfd.service; "
             "grep '^OnUnitActiveSec=' v/hostdev-export-nfd.timer; rm -rf $t",
             e.fx.root, at_src_dir(), abs_build);
    free(abs_build);
    ck_assert_msg(at_run(cmd, &e.out, &e.err) == 0, "%s", e.err);
    ck_assert_str_eq(e.out, "watch exit 0\n"
                            "# +expiry-time=2\n"
                            "once exit 0\n"
                            "# +expiry-time=2\n"
                            "--expiry 1h\n"
                            "OnUnitActiveSec=20min\n");
}
END_TEST

/* man/hostdev.1 with its escaped dashes plain ("\-" is "-"). */
static char *man_page(void)
{
    char path[1024], *text;
    FILE *f;
    long size;

    snprintf(path, sizeof(path), "%s/man/hostdev.1", at_src_dir());
    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)size + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    char *w = text;
    for (const char *r = text; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] == '-')
            r++;
        *w++ = *r;
    }
    *w = '\0';
    return text;
}

/* Every command of `hostdev --help` has its entry in the man page, and every option its
 * --help names is there too: a user reads one or the other. */
HD_TEST(man_page_has_every_command_and_option)
{
    char *man = man_page(), *commands, *line, *save = NULL;

    ck_assert_int_eq(hd("--help"), 0);
    commands = strstr(e.out, "\nCommands:\n");
    ck_assert_ptr_nonnull(commands);
    commands = strdup(commands + strlen("\nCommands:\n"));
    ck_assert_ptr_nonnull(commands);
    for (line = strtok_r(commands, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char name[32], entry[64], args[64];
        if (sscanf(line, " %31s", name) != 1 || line[0] != ' ')
            break; /* the exit status after the table */
        snprintf(entry, sizeof(entry), "\n.TP\n\\fB%s", name);
        ck_assert_msg(strstr(man, entry) != NULL, "no man entry for %s", name);
        snprintf(args, sizeof(args), "%s --help", name);
        ck_assert_int_eq(hd(args), 0);
        for (const char *p = strstr(e.out, "--"); p != NULL; p = strstr(p + 2, "--")) {
            char opt[40];
            size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
            if (n == 0 || n > 30 || (p > e.out && (p[-1] == '-' || isalnum((unsigned char)p[-1]))))
                continue;
            snprintf(opt, sizeof(opt), "--%.*s", (int)n, p + 2);
            ck_assert_msg(strstr(man, opt) != NULL, "%s: %s is not in man/hostdev.1", name, opt);
        }
    }
    /* mdev's subcommands, each with its entry. */
    static const char *const subs[] = {"types", "list", "create", "remove", "define",
                                       "undefine", "defined"};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        char entry[64];
        snprintf(entry, sizeof(entry), "\\fBmdev %s\\fR", subs[i]);
        ck_assert_msg(strstr(man, entry) != NULL, "no man entry for mdev %s", subs[i]);
    }
    free(commands);
    free(man);
}
END_TEST

/* Whether @word is in @text as a whole word (no letter, digit or '_' on either side). */
static bool has_word(const char *text, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = strstr(text, word); p != NULL; p = strstr(p + 1, word)) {
        bool before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
        if (!before && !isalnum((unsigned char)p[n]) && p[n] != '_')
            return true;
    }
    return false;
}

/* The field names the reading commands print with --json are each named in the man page,
 * where a script's author looks them up. */
HD_TEST(man_page_names_every_json_field_of_the_reading_commands)
{
    static const char *const commands[] = {
        "--json list",        "--json list --caps usb_device,scsi", "--json show 00:1f.3",
        "--json show usb_1_2", "--json iommu",  "--json doctor",    "--json check 01:00.0",
        "--json mdev types",  "--json mdev list", "--json persisted", "--json cmdline 03:00.0",
        "--json assignments", "--json sriov",
    };
    char *man = man_page();

    /* Without its font escapes: "\fBusable\fR" is the word usable. */
    char *w = man;
    for (const char *r = man; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] == 'f' && r[2] != '\0')
            r += 2;
        else
            *w++ = *r;
    }
    *w = '\0';
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        int rc = hd(commands[i]);
        ck_assert_msg(rc == 0 || rc == 1, "%s: exit %d: %s", commands[i], rc, e.err);
        json_parses();
        /* Every key: a quoted name followed by a colon. */
        for (const char *p = strstr(e.out, "\": "); p != NULL; p = strstr(p + 1, "\": ")) {
            const char *q = p;
            while (q > e.out && (islower((unsigned char)q[-1]) || isdigit((unsigned char)q[-1]) ||
                                 q[-1] == '_'))
                q--;
            if (q == p || q == e.out || q[-1] != '"')
                continue;
            char key[64];
            snprintf(key, sizeof(key), "%.*s", (int)(p - q), q);
            ck_assert_msg(has_word(man, key), "%s: field %s is not in man/hostdev.1",
                          commands[i], key);
        }
    }
    free(man);
}
END_TEST

/* `hostdev help [COMMAND]`, as git and virsh users type it, prints what --help does. */
HD_TEST(help_command_is_help)
{
    char *commands, *line, *save = NULL, *want;
    size_t n = 0;

    ck_assert_int_eq(hd("--help"), 0);
    want = strdup(e.out);
    ck_assert_ptr_nonnull(want);
    ck_assert_int_eq(hd("help"), 0);
    ck_assert_str_eq(e.out, want);
    ck_assert_str_eq(e.err, "");
    commands = strstr(want, "\nCommands:\n");
    ck_assert_ptr_nonnull(commands);
    commands = strdup(commands + strlen("\nCommands:\n"));
    ck_assert_ptr_nonnull(commands);
    for (line = strtok_r(commands, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char name[32], args[64];
        if (sscanf(line, " %31s", name) != 1 || line[0] != ' ')
            break; /* the exit status after the table */
        snprintf(args, sizeof(args), "%s --help", name);
        ck_assert_int_eq(hd(args), 0);
        free(want);
        want = strdup(e.out);
        ck_assert_ptr_nonnull(want);
        snprintf(args, sizeof(args), "help %s", name);
        ck_assert_msg(hd(args) == 0, "'%s': %s", args, e.err);
        ck_assert_str_eq(e.out, want);
        n++;
    }
    ck_assert_uint_gt(n, 20);
    ck_assert_int_eq(hd("help frobnicate"), 2);
    one_line_error("hostdev help: unknown command 'frobnicate' (see 'hostdev --help')");
    ck_assert_int_eq(hd("help list show"), 2);
    one_line_error("'show'");
    /* The global options a user leaves on the line print the help all the same. */
    ck_assert_int_eq(hd("list --help"), 0);
    free(want);
    want = strdup(e.out);
    ck_assert_ptr_nonnull(want);
    static const char *const globals[] = {"help list --json", "help --json list",
                                          "help list --root /nonexistent --names none",
                                          "help list --state-dir=/nonexistent --verbose"};
    for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
        ck_assert_msg(hd(globals[i]) == 0, "'%s': %s", globals[i], e.err);
        ck_assert_str_eq(e.out, want);
        ck_assert_str_eq(e.err, "");
    }
    ck_assert_int_eq(hd("help list --frobnicate"), 2);
    one_line_error("'--frobnicate'");
    ck_assert_int_eq(hd("help list --timeout 0"), 2);
    one_line_error("invalid --timeout '0'");
    free(commands);
    free(want);
}
END_TEST

/* A device detached by its interface's name has no interface then: `reattach enp3s0` is bad
 * input (exit 2, nothing written), and the error says that no interface has the name now and
 * to give the address, not only that 'enp3s0' is an invalid PCI address. A word that starts
 * as an address does (1-2) gets no such hint. */
HD_TEST(an_interface_gone_with_its_driver_is_said_gone)
{
    static const char *const hint = "; no network interface has that name now (a device off its "
                                    "host driver has none: name it by its address)\n";
    static const char *const cmds[] = {"reattach enp3s0", "reset enp3s0", "list enp3s0",
                                       "assignments enp3s0", "unpersist enp3s0"};

    ck_assert_int_eq(hd("detach enp3s0"), 0);
    size_t writes = eng_writes(&e);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        ck_assert_msg(hd(cmds[i]) == 2, "%s: exit", cmds[i]);
        one_line_error("'enp3s0'");
        size_t n = strlen(e.err), m = strlen(hint);
        ck_assert_msg(n > m && strcmp(e.err + n - m, hint) == 0, "%s: %s", cmds[i], e.err);
    }
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd("show 1-2"), 2);
    ck_assert_ptr_null(strstr(e.err, "network interface has"));
    ck_assert_int_eq(hd("reattach 0000:03:00.0"), 0);
    ck_assert_int_eq(hd("reattach enp3s0"), 0); /* back on e1000e: the name is there again */
}
END_TEST

/* list --help names every capability --caps takes: those its error lists as known. */
HD_TEST(list_help_names_every_capability)
{
    char *known, *cap, *save = NULL, *help;

    ck_assert_int_eq(hd("list --caps pcie"), 2);
    known = strstr(e.err, "(known: ");
    ck_assert_ptr_nonnull(known);
    known = strndup(known + strlen("(known: "), strcspn(known, ")") - strlen("(known: "));
    ck_assert_int_eq(hd("list --help"), 0);
    help = e.out;
    size_t n = 0;
    for (cap = strtok_r(known, ", ", &save); cap != NULL; cap = strtok_r(NULL, ", ", &save)) {
        bool found = false;
        /* As a word of the list: "usb" must not pass for being in "usb_device". */
        for (const char *p = help; !found && (p = strstr(p, cap)) != NULL; p++) {
            size_t len = strlen(cap);
            found = (p == help || strchr(" ,:\n", p[-1]) != NULL) &&
                    strchr(" ,.(\n", p[len]) != NULL;
        }
        ck_assert_msg(found, "list --help does not name capability '%s'", cap);
        n++;
    }
    ck_assert_uint_ge(n, 12);
    free(known);
}
END_TEST

/* No command takes a long option by a part of its name: every option any --help names, less
 * its last letter, is refused and named as typed (getopt alone would take it, and a script's
 * abbreviation would change meaning or break when an option is added). */
HD_TEST(no_command_takes_an_abbreviated_option)
{
    char *commands, *line, *save = NULL;
    size_t tried = 0;

    ck_assert_int_eq(hd("--help"), 0);
    commands = strstr(e.out, "\nCommands:\n");
    ck_assert_ptr_nonnull(commands);
    commands = strdup(commands + strlen("\nCommands:\n"));
    ck_assert_ptr_nonnull(commands);
    for (line = strtok_r(commands, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char name[32], args[128], *help;
        if (sscanf(line, " %31s", name) != 1 || line[0] != ' ')
            break; /* the exit status after the table */
        if (strcmp(name, "mdev") == 0 || strcmp(name, "help") == 0)
            continue; /* mdev's subcommands: bad_input_exits_2_and_changes_nothing; help has none */
        snprintf(args, sizeof(args), "%s --help", name);
        ck_assert_int_eq(hd(args), 0);
        help = strdup(e.out);
        ck_assert_ptr_nonnull(help);
        for (const char *p = strstr(help, "--"); p != NULL; p = strstr(p + 2, "--")) {
            char abbr[40], full[96];
            size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
            if (n < 2 || n > 30 || (p > help && (p[-1] == '-' || isalnum((unsigned char)p[-1]))))
                continue;
            snprintf(abbr, sizeof(abbr), "--%.*s", (int)n - 1, p + 2);
            snprintf(full, sizeof(full), "%s ", abbr); /* an option of its own (--vm, --vm-x) */
            if (strstr(help, full) != NULL || abbr[strlen(abbr) - 1] == '-')
                continue;
            snprintf(args, sizeof(args), "%s %s x", name, abbr);
            ck_assert_msg(hd(args) == 2, "'%s' exited %d: %s", args, hd(args), e.err);
            snprintf(full, sizeof(full), "'%s'", abbr);
            one_line_error(full);
            tried++;
        }
        free(help);
    }
    free(commands);
    ck_assert_uint_gt(tried, 50);
    ck_assert_uint_eq(eng_writes(&e), 0);
}
END_TEST

/* Every command's usage line reads cleanly: no blank at its end, none doubled. */
HD_TEST(usage_lines_are_tidy)
{
    static const char *const cmds[] = {"iommu", "assignments", "persisted", "release",
                                       "acquire", "detach", "mdev", "migratable", "recover"};

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        char args[64];
        snprintf(args, sizeof(args), "%s --help", cmds[i]);
        ck_assert_int_eq(hd(args), 0);
        char *nl = strchr(e.out, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        ck_assert_msg(nl[-1] != ' ' && strstr(e.out, "  ") == NULL, "'%s'", e.out);
    }
}
END_TEST

/* release gives a managed device back as acquire found it: its host driver, and the
 * driver_override it had (someone else's, kept in the driver record), after an undone
 * release too (audio's probe fails; the GPU, released first, goes back to vfio-pci). */
HD_TEST(release_puts_back_the_override_a_device_had)
{
#define GPU_OVERRIDE "sys/bus/pci/devices/0000:01:00.0/driver_override"
    ck_assert_int_eq(fx_write(&e.fx, GPU_OVERRIDE, "nouveau"), 0);
    ck_assert_int_eq(hd("acquire --vm a --owner 0:0 01:00.1 01:00.0"), 0);
    ck_assert_str_eq(fx_read(&e.fx, GPU_OVERRIDE), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/0000:01:00.0"),
                     "nouveau\noverride=nouveau");
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails snd_hda_intel EIO"), 0);
    ck_assert_int_eq(hd("release --vm a"), 1);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/0000:01:00.0"),
                     "nouveau\noverride=nouveau");
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails snd_hda_intel 0"), 0);
    ck_assert_int_eq(hd("release --vm a"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "nouveau");
    ck_assert_str_eq(fx_read(&e.fx, GPU_OVERRIDE), "nouveau");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:01:00.1/driver_override"),
                     "(null)");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/0000:01:00.0"));
#undef GPU_OVERRIDE
}
END_TEST

/* Setting a count turns the PF's autoprobe off for good: the dry run says it would, changing
 * nothing; the run says it did; a later change, autoprobe already 0, says nothing of it. */
HD_TEST(sriov_says_it_turns_autoprobe_off)
{
#define AUTOPROBE "sys/bus/pci/devices/0000:03:00.1/sriov_drivers_autoprobe"
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "1");
    ck_assert_int_eq(hd("sriov 03:00.1 2 --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; 0000:03:00.1 would go from 0 to 2 virtual "
                            "functions\n  0000:03:00.1: sriov_drivers_autoprobe would go from 1 "
                            "to 0 and stay so (its VFs come up unbound)\n");
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "1");
    ck_assert_int_eq(hd("--json sriov 03:00.1 2 --dry-run"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"autoprobe_disabled\": true"));
    ck_assert_int_eq(hd("sriov 03:00.1 2"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.1: 2 virtual functions (was 0)\n0000:03:00.1: "
                            "sriov_drivers_autoprobe went from 1 to 0 and stays so (its VFs come "
                            "up unbound)\n");
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "0");
    ck_assert_int_eq(hd("--json sriov 03:00.1 1"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"autoprobe_disabled\": false"));
#undef AUTOPROBE
}
END_TEST

/* A VF's count asked for is refused in the words setting one uses, naming its PF, not as a
 * device that is "not SR-IOV capable". */
HD_TEST(sriov_of_a_vf_names_its_pf)
{
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("sriov 03:10.0"), 2);
    one_line_error("hostdev sriov: 0000:03:10.0 is itself a virtual function, not a PF (its PF: "
                   "0000:03:00.0)\n");
    ck_assert_int_eq(hd("sriov 03:10.0 2 --dry-run"), 2);
    one_line_error("0000:03:10.0 is itself a virtual function, not a PF");
    ck_assert_int_eq(hd("sriov 18:00.0"), 2);
    one_line_error("0000:18:00.0 is not SR-IOV capable (no sriov_totalvfs)");
}
END_TEST

/* The count of 0 leaves no VF for autoprobe 0 to keep unbound: it never turns autoprobe off,
 * and gives it back when a count of hostdev's turned it off (not when the admin had it off);
 * the dry run says so, changing nothing; a write of it that fails undoes the count. */
HD_TEST(sriov_0_gives_autoprobe_back)
{
#define PF0_AUTOPROBE "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe"
#define AUTOPROBE "sys/bus/pci/devices/0000:03:00.1/sriov_drivers_autoprobe"
#define RECORD "run/hostdev/autoprobe/0000:03:00.1"
    static const char back[] = "0000:03:00.1: sriov_drivers_autoprobe went back from 0 to 1, as "
                               "it was before a count of hostdev's\n";

    eng_stop(&e);
    eng_start(&e, "server-sriov");
    /* The boot's 8 VFs, autoprobe on: removed, autoprobe stays on. */
    ck_assert_int_eq(hd("sriov 03:00.0 0"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: 0 virtual functions (was 8)\n");
    ck_assert_str_eq(fx_read(&e.fx, PF0_AUTOPROBE), "1");

    ck_assert_int_eq(hd("sriov 03:00.1 2"), 0);
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "0");
    ck_assert(fx_exists(&e.fx, RECORD));
    ck_assert_int_eq(hd("sriov 03:00.1 0 --dry-run"), 0);
    ck_assert_str_eq(e.out, "dry run: nothing changed; 0000:03:00.1 would go from 2 to 0 virtual "
                            "functions\n  0000:03:00.1: sriov_drivers_autoprobe would go back from "
                            "0 to 1, as it was before a count of hostdev's\n");
    ck_assert_int_eq(hd("--json sriov 03:00.1 0 --dry-run"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "\"autoprobe_restored\": true"));
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "0");
    /* Its write fails: the count is undone, VFs and autoprobe as they were. */
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " AUTOPROBE " EIO on=write"), 0);
    ck_assert_int_eq(hd("sriov 03:00.1 0"), 1);
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    /* Under --json the autoprobe step goes with the count's write, which failed: not undone. */
    ck_assert_int_eq(fx_ctl(&e.fx, "fault " AUTOPROBE " EIO on=write"), 0);
    ck_assert_int_eq(hd("--json sriov 03:00.1 0"), 1);
    json_parses();
    ck_assert_msg(strstr(e.out, "\"action\": \"autoprobe\",\n      \"device\": \"0000:03:00.1\",\n"
                              "      \"from\": \"0\",\n      \"to\": \"1\",\n      \"state\": "
                              "\"failed\"") != NULL, "%s", e.out);
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "0");
    ck_assert_int_eq(hd("sriov 03:00.1 0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "0000:03:00.1: 0 virtual functions (was 2)\n"));
    ck_assert_ptr_nonnull(strstr(e.out, back));
    ck_assert_str_eq(e.err, "");
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "1");
    ck_assert(!fx_exists(&e.fx, RECORD));

    /* The admin's own 0 is theirs: kept through a count and its 0. */
    ck_assert_int_eq(fx_write(&e.fx, AUTOPROBE, "0"), 0);
    ck_assert_int_eq(hd("sriov 03:00.1 2"), 0);
    ck_assert_int_eq(hd("--json sriov 03:00.1 0"), 0);
    ck_assert_ptr_nonnull(strstr(e.out, "\"autoprobe_restored\": false"));
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "0");
#undef PF0_AUTOPROBE
#undef AUTOPROBE
#undef RECORD
}
END_TEST

/* A count of 0 that fails after it turned autoprobe back on is undone: autoprobe 0 again, and
 * the record that it was ours stays (it goes at the commit), so the next count of 0 still gives
 * it back. A failed read of autoprobe at each point of the run in turn. */
HD_TEST(a_failed_sriov_0_keeps_the_autoprobe_record)
{
#define AUTOPROBE "sys/bus/pci/devices/0000:03:00.1/sriov_drivers_autoprobe"
#define RECORD "run/hostdev/autoprobe/0000:03:00.1"
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    for (int nth = 1; nth <= 8; nth++) {
        ck_assert_int_eq(hd("sriov 03:00.1 2"), 0);
        ck_assert(fx_exists(&e.fx, RECORD));
        ck_assert_int_eq(fx_ctl(&e.fx, "fault " AUTOPROBE " EIO on=read nth=%d", nth), 0);
        int rc = hd("sriov 03:00.1 0");
        ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
        ck_assert_msg(rc == 0 || strcmp(fx_read(&e.fx, AUTOPROBE), "0") != 0 ||
                          fx_exists(&e.fx, RECORD),
                      "read %d failed: autoprobe 0 without its record", nth);
        ck_assert_int_eq(hd("sriov 03:00.1 0"), 0);
        ck_assert_msg(strcmp(fx_read(&e.fx, AUTOPROBE), "1") == 0, "read %d failed: the next "
                      "count of 0 left autoprobe %s", nth, fx_read(&e.fx, AUTOPROBE));
        ck_assert(!fx_exists(&e.fx, RECORD));
    }
#undef AUTOPROBE
#undef RECORD
}
END_TEST

#define AUTOPROBE "sys/bus/pci/devices/0000:03:00.1/sriov_drivers_autoprobe"
#define NUMVFS "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"
#define RECORD "run/hostdev/autoprobe/0000:03:00.1"
/* `sriov 03:00.1 0` on 2 VFs of a count of ours (autoprobe 0, its record there), run to its
 * end: its intent log's name (ROOT-relative, into @name) and text as they stood while a VF's
 * unbind hung (ixgbevf's remove, held), read then. The caller frees the text. */
static char *sriov_0_journal(char *name, size_t size)
{
    struct dirent *de;
    char *text;
    DIR *d;
    int status;

    ck_assert_int_eq(hd("sriov 03:00.1 2"), 0);
    ck_assert(fx_exists(&e.fx, RECORD));
    /* On a host driver (autoprobe 0: by override), so that its unbind can hang. */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/0000:03:10.1/driver_override",
                              "ixgbevf"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/ixgbevf/bind", "0000:03:10.1"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-log"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang ixgbevf forever"), 0);
    pid_t pid = eng_hostdev_start(&e.fx, "sriov 03:00.1 0");
    ck_assert(fx_wait_log(&e.fx, "unbind-hang 0000:03:10.1", 1, 20000));
    name[0] = '\0';
    ck_assert_ptr_nonnull(d = opendir(fx_path(&e.fx, "run/hostdev/journal")));
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "numvfs-", 7) == 0)
            snprintf(name, size, "run/hostdev/journal/%s", de->d_name);
    }
    closedir(d);
    ck_assert_msg(name[0] != '\0', "no intent log");
    ck_assert_int_ge(asprintf(&text, "%s\n", fx_read(&e.fx, name)), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang ixgbevf 0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "1");
    ck_assert(!fx_exists(&e.fx, RECORD));
    ck_assert(!fx_exists(&e.fx, name));
    return text;
}

/* What a kill -9 of that run leaves after its last write (autoprobe 1): its intent log, with
 * its commit line when @committed, and the record its commit drops. */
static void killed_after_autoprobe(const char *name, const char *text, bool committed)
{
    char *with = NULL;

    ck_assert_int_ge(asprintf(&with, "%s%s", text, committed ? "commit\n" : ""), 0);
    eng_put(&e, name, with);
    eng_put(&e, RECORD, "1\n");
    free(with);
}

/* The record that a count of ours turned autoprobe off goes when the count of 0 commits. A kill
 * between the commit line and the record's removal left it beside autoprobe 1 for good, and an
 * admin's own 0 set after that was taken for ours: the next count of 0 turned autoprobe on.
 * The intent log now says which record its commit drops ("drop autoprobe BDF"), and whoever
 * finishes it (recover, or the next operation on the PF's group) drops it too. Killed before
 * the commit line, the undo keeps the record, as before. */
HD_TEST(a_killed_sriov_0_leaves_no_stale_autoprobe_record)
{
    char name[300];
    char *text;

    eng_stop(&e);
    eng_start(&e, "server-sriov");
    text = sriov_0_journal(name, sizeof(name));
    ck_assert_msg(strstr(text, "\nnumvfs 0000:03:00.1 2 0\ndrop autoprobe 0000:03:00.1\n"),
                  "%s", text);

    /* Killed before its commit line: undone, the record kept for the next count of 0. */
    killed_after_autoprobe(name, text, false);
    ck_assert_int_eq(hd("recover"), 0);
    ck_assert_str_eq(fx_read(&e.fx, NUMVFS), "2");
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "0");
    ck_assert(fx_exists(&e.fx, RECORD));
    ck_assert_int_eq(hd("sriov 03:00.1 0"), 0);
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "1");
    ck_assert(!fx_exists(&e.fx, RECORD));

    /* Killed after it: recover finishes it, record and all. */
    free(text);
    text = sriov_0_journal(name, sizeof(name));
    killed_after_autoprobe(name, text, true);
    ck_assert_int_eq(hd("recover"), 0);
    ck_assert_msg(strstr(e.out, ": finished: it had committed (numvfs, 1 step)\n"), "%s", e.out);
    ck_assert(!fx_exists(&e.fx, RECORD));
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "1");
    ck_assert_str_eq(fx_read(&e.fx, NUMVFS), "0");

    /* The same, found by the next operation on the PF: the admin's own 0 set since is kept
     * through a count and its 0. */
    free(text);
    text = sriov_0_journal(name, sizeof(name));
    killed_after_autoprobe(name, text, true);
    ck_assert_int_eq(fx_write(&e.fx, AUTOPROBE, "0"), 0); /* the admin's */
    ck_assert_int_eq(hd("sriov 03:00.1 2"), 0);
    ck_assert(!fx_exists(&e.fx, name));
    ck_assert(!fx_exists(&e.fx, RECORD));
    ck_assert_int_eq(hd("sriov 03:00.1 0"), 0);
    ck_assert_str_eq(fx_read(&e.fx, AUTOPROBE), "0");
    free(text);
}
END_TEST
#undef AUTOPROBE
#undef NUMVFS
#undef RECORD

/* `sriov` alone lists the PFs (not their VFs, not other devices) as `sriov ADDR` shows one;
 * a host with none says so beside an empty listing; completion offers PFs only. */
HD_TEST(sriov_lists_every_pf)
{
    char words[1024], *c;

    ck_assert_int_eq(hd("sriov"), 0);
    ck_assert_str_eq(e.out, "");
    one_line_error("hostdev sriov: no device here is SR-IOV capable");
    ck_assert_int_eq(hd("--json sriov"), 0);
    json_parses();
    ck_assert_str_eq(e.out, "[]\n");
    eng_stop(&e);
    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd("sriov 03:00.0 2"), 0);
    ck_assert_int_eq(hd("sriov"), 0);
    ck_assert_str_eq(e.out, "0000:03:00.0: 2 of 63 virtual functions\n"
                            "0000:03:00.1: 0 of 63 virtual functions\n"
                            "0000:81:00.0: 0 of 63 virtual functions\n");
    ck_assert_str_eq(e.err, "");
    ck_assert_int_eq(hd("--json sriov"), 0);
    json_parses();
    ck_assert_ptr_nonnull(strstr(e.out, "[\n  {\n    \"device\": \"0000:03:00.0\",\n    "
                                        "\"numvfs\": 2,\n    \"totalvfs\": 63\n  },\n"));
    ck_assert_ptr_null(strstr(e.out, "0000:03:10.0"));
    /* A count with no PF is no listing. */
    ck_assert_int_eq(hd("sriov --numvfs 3"), 2);
    one_line_error("no PF given for 3 VFs");
    snprintf(words, sizeof(words), "hostdev --root %s sriov 0000:03:", e.fx.root);
    c = complete(words);
    ck_assert_msg(strstr(c, "0000:03:00.0 0000:03:00.1 ") != NULL && strstr(c, "03:10.0") == NULL,
                  "completes to '%s'", c);
    free(c);
    snprintf(words, sizeof(words), "hostdev --root %s sriov enp", e.fx.root);
    c = complete(words);
    ck_assert_str_eq(c, "enp3s0f0 enp3s0f1 ");
    free(c);
    if (have_zsh()) { /* zsh, which has no mapfile, runs the same */
        char file[1024];
        snprintf(file, sizeof(file), "%s/completion/_hostdev", at_build_dir());
        snprintf(words, sizeof(words), "hostdev --root %s sriov 0000:03:", e.fx.root);
        c = zsh_complete("source", file, words);
        ck_assert_msg(strstr(c, "\n0000:03:00.1\n") != NULL && strstr(c, "03:10.0") == NULL,
                      "completes to '%s'", c);
        free(c);
    }
    eng_stop(&e);
    eng_start(&e, "demo");
}
END_TEST

/* The first line of @text wider than 80 columns (a terminal's width), or NULL. */
static const char *wide_line(const char *text, int *width)
{
    for (const char *l = text; *l; l += strcspn(l, "\n"), l += *l == '\n') {
        *width = (int)strcspn(l, "\n");
        if (*width > 80)
            return l;
    }
    return NULL;
}

/* Every help fits a terminal of 80 columns: the command list and each command's (and each
 * mdev subcommand's), as they come, a longer line wrapping mid-word. */
HD_TEST(every_help_fits_80_columns)
{
    static const char *const mdev_subs[] = {"types",  "list",     "create", "remove",
                                            "define", "undefine", "defined"};
    const char *l;
    int width;

    ck_assert_int_eq(hd("--help"), 0);
    char *top = strdup(e.out);
    ck_assert_ptr_nonnull(top);
    l = wide_line(top, &width);
    ck_assert_msg(l == NULL, "--help: %d columns: %.*s", width, width, l);
    const char *cmds = strstr(top, "\nCommands:\n");
    ck_assert_ptr_nonnull(cmds);
    size_t n = 0;
    for (l = cmds + 11; strncmp(l, "  ", 2) == 0; l = strchr(l, '\n') + 1, n++) {
        char name[32], args[96];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(l + 2, " "), l + 2);
        snprintf(args, sizeof(args), "%s --help", name);
        ck_assert_msg(hd(args) == 0, "%s: %s", args, e.err);
        const char *w = wide_line(e.out, &width);
        ck_assert_msg(w == NULL, "%s: %d columns: %.*s", args, width, width, w);
    }
    ck_assert_uint_gt(n, 20);
    for (size_t i = 0; i < sizeof(mdev_subs) / sizeof(mdev_subs[0]); i++) {
        char args[96];
        snprintf(args, sizeof(args), "mdev %s --help", mdev_subs[i]);
        ck_assert_msg(hd(args) == 0, "%s: %s", args, e.err);
        const char *w = wide_line(e.out, &width);
        ck_assert_msg(w == NULL, "%s: %d columns: %.*s", args, width, width, w);
    }
    free(top);
}
END_TEST
