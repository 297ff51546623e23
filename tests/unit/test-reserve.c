/* test-reserve.c - reservations: the hostdev.d parser with every error, hostdev.reserve= on
 * the command line, which entry wins, and hd_device_reserve on the fake kernel, including
 * devices hotplugged (add events) with a reservation configured. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "hdtest.h"

#define NIC "0000:03:00.0"

/* A fake kernel whose e1000e module is not loaded yet, as in an initramfs before udev;
 * VFIO_FLAGS " unloaded": vfio-pci is not loaded either. */
#define EARLY_SPEC(VFIO_FLAGS)                                                                     \
    "iommu intel\n"                                                                                \
    "driver pcieport builtin class=060400\n"                                                       \
    "driver e1000e ids=8086:10d3 unloaded\n"                                                       \
    "driver vfio-pci module=vfio_pci stub vfio" VFIO_FLAGS "\n"                                    \
    "driver pci-stub module=pci_stub stub\n"                                                       \
    "device 0000:00:1c.0 8086:a110 class=060400 driver=pcieport secondary=03\n"                    \
    "device 0000:03:00.0 8086:10d3 class=020000\n"                                                 \
    "device 0000:00:1d.0 8086:a118 class=060400 driver=pcieport secondary=05\n"
static const char early_spec[] = EARLY_SPEC("");

/* How often the kernel bound @bdf to @drv ("unbind" lines contain "bind" too). */
static size_t binds(struct eng *e, const char *bdf, const char *drv)
{
    char needle[128];
    size_t all;

    snprintf(needle, sizeof(needle), "bind %s %s", bdf, drv);
    all = fx_log_count(&e->fx, needle);
    snprintf(needle, sizeof(needle), "unbind %s %s", bdf, drv);
    return all - fx_log_count(&e->fx, needle);
}

/* Write ROOT/etc/hostdev.d/@name as an administrator would. */
static void conf(struct eng *e, const char *name, const char *text)
{
    char rel[256];
    FILE *f;

    mkdir(fx_path(&e->fx, "etc/hostdev.d"), 0755);
    snprintf(rel, sizeof(rel), "etc/hostdev.d/%s", name);
    f = fopen(fx_path(&e->fx, rel), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static struct hd_reserve_config *parse(const char *text, int expect_bad)
{
    struct hd_reserve_config *c;

    ck_assert_int_eq(hd_reserve_config_new(&c), 0);
    ck_assert_int_eq(hd_reserve_config_parse(c, text, strlen(text), "etc/hostdev.d/t.conf"),
                     expect_bad);
    return c;
}

static char *entry_line(const struct hd_reserve_config *c, size_t i)
{
    char *line = NULL;
    ck_assert_int_eq(hd_reserve_entry_format(hd_reserve_config_get(c, i), &line), 0);
    return line;
}

HD_TEST_FILE(.timeout = 60);

/* The last line read wins each part it has (driver, VF count): an entry is overridden only
 * when every part it has is taken by a later one with its selector. */
HD_TEST(overridden_entries)
{
    struct hd_reserve_config *c = parse("0000:03:00.0 numvfs=2\n"         /* 0: by 2 */
                                        "0000:03:00.0 vfio-pci numvfs=4\n" /* 1: count by 2 */
                                        "0000:03:00.0 numvfs=8\n"          /* 2 */
                                        "03:00.0 pci-stub\n"               /* 3 */
                                        "8086:10d3\n"                      /* 4: by 5 */
                                        "8086:10d3 pci-stub\n"             /* 5 */
                                        "8086:10d4\n",                     /* 6 */
                                        0);
    const struct hd_reserve_entry *e[7];

    for (size_t i = 0; i < 7; i++)
        e[i] = hd_reserve_config_get(c, i);
    ck_assert_ptr_eq(hd_reserve_config_get_override(c, e[0]), e[2]);
    ck_assert_ptr_eq(hd_reserve_config_get_override(c, e[1]), e[3]);
    ck_assert_ptr_null(hd_reserve_config_get_override(c, e[2]));
    ck_assert_ptr_null(hd_reserve_config_get_override(c, e[3]));
    ck_assert_ptr_eq(hd_reserve_config_get_override(c, e[4]), e[5]);
    ck_assert_ptr_null(hd_reserve_config_get_override(c, e[5]));
    ck_assert_ptr_null(hd_reserve_config_get_override(c, e[6]));
    hd_reserve_config_unref(c);
}
END_TEST

HD_TEST(config_lines)
{
    static const char text[] = "# GPU for the gaming VM\n"
                               "\n"
                               "   0000:01:00.0   # the GPU\n"
                               "01:00.1 pci-stub\r\n"
                               "10DE:1B81 driver=vfio-pci\n"
                               "pci_0000_03_00_0\tvfio-pci numvfs=4\n"
                               "0000:06:00.0 numvfs=0"; /* no newline at the end */
    static const char *const want[] = {"0000:01:00.0 vfio-pci", "0000:01:00.1 pci-stub",
                                       "10de:1b81 vfio-pci", "0000:03:00.0 vfio-pci numvfs=4",
                                       "0000:06:00.0 numvfs=0"};
    static const unsigned int lines[] = {3, 4, 5, 6, 7};
    struct hd_reserve_config *c = parse(text, 0);

    ck_assert_uint_eq(hd_reserve_config_count(c), 5);
    ck_assert_uint_eq(hd_reserve_config_get_error_count(c), 0);
    for (size_t i = 0; i < 5; i++) {
        char *line = entry_line(c, i);
        ck_assert_str_eq(line, want[i]);
        ck_assert_uint_eq(hd_reserve_config_get(c, i)->line, lines[i]);
        ck_assert_str_eq(hd_reserve_config_get(c, i)->file, "etc/hostdev.d/t.conf");
        free(line);
    }
    ck_assert_ptr_null(hd_reserve_config_get(c, 4)->driver); /* VF count only */
    ck_assert_ptr_null(hd_reserve_config_get(c, 5));
    hd_reserve_config_unref(c);
}
END_TEST

/* The no-IOMMU opt-in is a word of its own, written back as read; a line without it (every
 * file written before it existed) opts in to nothing. */
HD_TEST(config_noiommu_opt_in)
{
    struct hd_reserve_config *c = parse("0000:00:02.0 vfio-pci noiommu\n"
                                        "0000:00:03.0 noiommu\n"
                                        "8086:10d3 noiommu vfio-pci\n"
                                        "0000:00:04.0 vfio-pci\n",
                                        0);
    static const char *const want[] = {"0000:00:02.0 vfio-pci noiommu",
                                       "0000:00:03.0 vfio-pci noiommu",
                                       "8086:10d3 vfio-pci noiommu", "0000:00:04.0 vfio-pci"};

    ck_assert_uint_eq(hd_reserve_config_count(c), 4);
    for (size_t i = 0; i < 4; i++) {
        char *line = entry_line(c, i);
        ck_assert_str_eq(line, want[i]);
        ck_assert(hd_reserve_config_get(c, i)->noiommu == (i < 3));
        free(line);
    }
    hd_reserve_config_unref(c);
}
END_TEST

HD_TEST(config_errors_name_file_and_line)
{
    static const struct {
        const char *line, *why;
    } cases[] = {
        {"0000:03:00.9", "invalid device '0000:03:00.9'"},
        {"8086:10d", "invalid device '8086:10d'"},
        {"03:00.0 e1000e", "'e1000e' is neither a driver"},
        {"03:00.0 driver=nouveau", "'driver=nouveau' is neither a driver"},
        {"03:00.0 vfio-pci pci-stub", "more than one driver"},
        {"03:00.0 numvfs=1 numvfs=2", "numvfs= given twice"},
        {"03:00.0 numvfs=-1", "invalid numvfs '-1'"},
        {"03:00.0 numvfs=65536", "invalid numvfs '65536'"},
        {"03:00.0 numvfs=", "invalid numvfs ''"},
        {"8086:10d3 numvfs=2", "numvfs= needs the address"},
        {"0000:03:00.0x", "invalid device"},
        {"03:00.0 noiommu noiommu", "noiommu given twice"},
        {"03:00.0 pci-stub noiommu", "noiommu is for vfio-pci or a vfio-pci variant, not "},
        {"03:00.0 numvfs=2 noiommu", "noiommu is for vfio-pci or a vfio-pci variant, which"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256], want[256];
        struct hd_reserve_config *c;
        /* A good line before and after: the bad one alone is left out. */
        snprintf(text, sizeof(text), "0000:01:00.0\n%s\n0000:02:00.0\n", cases[i].line);
        c = parse(text, 1);
        ck_assert_uint_eq(hd_reserve_config_count(c), 2);
        ck_assert_uint_eq(hd_reserve_config_get_error_count(c), 1);
        snprintf(want, sizeof(want), "etc/hostdev.d/t.conf:2: %s", cases[i].why);
        ck_assert_msg(strncmp(hd_reserve_config_get_error(c, 0), want, strlen(want)) == 0,
                      "'%s': got '%s'", cases[i].line, hd_reserve_config_get_error(c, 0));
        hd_reserve_config_unref(c);
    }
}
END_TEST

HD_TEST(config_nul_and_long_words)
{
    static const char text[] = "0000:01:00.0\n03:00.0\0 vfio-pci\n";
    char longline[600];
    struct hd_reserve_config *c;

    ck_assert_int_eq(hd_reserve_config_new(&c), 0);
    ck_assert_int_eq(hd_reserve_config_parse(c, text, sizeof(text) - 1, "x.conf"), 1);
    ck_assert_str_eq(hd_reserve_config_get_error(c, 0), "x.conf:2: a NUL byte (not a text file?)");
    ck_assert_uint_eq(hd_reserve_config_count(c), 1);
    /* An absurd word is quoted cut short; the message stays one line. */
    memset(longline, 'z', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    ck_assert_int_eq(hd_reserve_config_parse(c, longline, strlen(longline), "y.conf"), 1);
    ck_assert_ptr_nonnull(strstr(hd_reserve_config_get_error(c, 1), "zzz...'"));
    ck_assert_ptr_null(strchr(hd_reserve_config_get_error(c, 1), '\n'));
    ck_assert_int_eq(hd_reserve_config_parse(c, "", 0, "empty.conf"), 0);
    ck_assert_uint_eq(hd_reserve_config_count(c), 1);
    hd_reserve_config_unref(c);
}
END_TEST

HD_TEST(cmdline_reserve)
{
    struct hd_reserve_config *c;
    struct hd_cmdline *cl;
    char *line;

    ck_assert_int_eq(hd_cmdline_new_from_string("quiet hostdev.reserve=03:00.0,8086:10d3 "
                                                "hostdev.driver=pci-stub "
                                                "hostdev.reserve=0000:05:00.1 -- "
                                                "hostdev.reserve=06:00.0",
                                                &cl),
                     0);
    ck_assert_int_eq(hd_reserve_config_new(&c), 0);
    ck_assert_int_eq(hd_reserve_config_add_cmdline(c, cl), 0);
    ck_assert_uint_eq(hd_reserve_config_count(c), 3); /* not what init gets after -- */
    line = entry_line(c, 0);
    ck_assert_str_eq(line, "0000:03:00.0 pci-stub");
    free(line);
    line = entry_line(c, 1);
    ck_assert_str_eq(line, "8086:10d3 pci-stub");
    free(line);
    line = entry_line(c, 2);
    ck_assert_str_eq(line, "0000:05:00.1 pci-stub");
    free(line);
    ck_assert_str_eq(hd_reserve_config_get(c, 0)->file, "proc/cmdline");
    ck_assert_uint_eq(hd_reserve_config_get(c, 0)->line, 0);
    hd_reserve_config_unref(c);
    hd_cmdline_unref(cl);

    /* Bad words are errors; the good ones stay; a bad driver falls back to vfio-pci. */
    ck_assert_int_eq(hd_cmdline_new_from_string("hostdev.reserve=zz,03:00.0 hostdev.driver=e1000e"
                                                " hostdev.reserve=",
                                                &cl),
                     0);
    ck_assert_int_eq(hd_reserve_config_new(&c), 0);
    ck_assert_int_eq(hd_reserve_config_add_cmdline(c, cl), 3);
    ck_assert_uint_eq(hd_reserve_config_count(c), 1);
    ck_assert_str_eq(hd_reserve_config_get(c, 0)->driver, "vfio-pci");
    ck_assert_str_eq(hd_reserve_config_get_error(c, 0),
                     "proc/cmdline: hostdev.driver=e1000e: use vfio-pci, a vfio-pci variant or "
                     "pci-stub (vfio-pci is used)");
    ck_assert_ptr_nonnull(strstr(hd_reserve_config_get_error(c, 1), "invalid device 'zz'"));
    ck_assert_ptr_nonnull(strstr(hd_reserve_config_get_error(c, 2), "names no device"));
    hd_reserve_config_unref(c);
    hd_cmdline_unref(cl);
}
END_TEST

/* hostdev.reserve='s no-IOMMU opt-in, a device's suffix: read as hostdev.d's word noiommu;
 * anything else after a device, or the opt-in for pci-stub, is an error naming the word, and
 * the boot leaves that word out. */
HD_TEST(cmdline_reserve_noiommu)
{
    static const struct {
        const char *cmdline, *error;
    } bad[] = {
        {"hostdev.reserve=03:00.0+nomiommu", "hostdev.reserve: '03:00.0+nomiommu': only "
                                             "+noiommu may follow a device"},
        {"hostdev.reserve=03:00.0+noiommu+noiommu",
         "hostdev.reserve: '03:00.0+noiommu+noiommu': only +noiommu"},
        {"hostdev.reserve=03:00.0+", "hostdev.reserve: '03:00.0+': only +noiommu"},
        {"hostdev.reserve=03:00.0+NOIOMMU", "hostdev.reserve: '03:00.0+NOIOMMU': only +noiommu"},
        {"hostdev.reserve=zz+noiommu", "hostdev.reserve: invalid device 'zz'"},
        {"hostdev.reserve=+noiommu", "hostdev.reserve: invalid device ''"},
        {"hostdev.driver=pci-stub hostdev.reserve=03:00.0+noiommu",
         "hostdev.reserve: '03:00.0+noiommu': noiommu is for vfio-pci or a vfio-pci variant, "
         "not pci-stub (hostdev.driver=pci-stub)"},
    };
    struct hd_reserve_config *c;
    struct hd_cmdline *cl;
    char *line;

    ck_assert_int_eq(hd_cmdline_new_from_string("hostdev.reserve=03:00.0+noiommu,8086:10d3"
                                                "+noiommu,0000:05:00.1",
                                                &cl),
                     0);
    ck_assert_int_eq(hd_reserve_config_new(&c), 0);
    ck_assert_int_eq(hd_reserve_config_add_cmdline(c, cl), 0);
    ck_assert_uint_eq(hd_reserve_config_count(c), 3);
    line = entry_line(c, 0);
    ck_assert_str_eq(line, "0000:03:00.0 vfio-pci noiommu");
    free(line);
    line = entry_line(c, 1);
    ck_assert_str_eq(line, "8086:10d3 vfio-pci noiommu");
    free(line);
    ck_assert(!hd_reserve_config_get(c, 2)->noiommu);
    hd_reserve_config_unref(c);
    hd_cmdline_unref(cl);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256], want[256];
        /* A good device after the bad word: the bad one alone is left out. */
        snprintf(text, sizeof(text), "%s,0000:06:00.0", bad[i].cmdline);
        ck_assert_int_eq(hd_cmdline_new_from_string(text, &cl), 0);
        ck_assert_int_eq(hd_reserve_config_new(&c), 0);
        ck_assert_int_eq(hd_reserve_config_add_cmdline(c, cl), 1);
        ck_assert_uint_eq(hd_reserve_config_count(c), 1);
        ck_assert(!hd_reserve_config_get(c, 0)->noiommu);
        ck_assert_uint_eq(hd_reserve_config_get_error_count(c), 1);
        snprintf(want, sizeof(want), "proc/cmdline: %s", bad[i].error);
        ck_assert_msg(strncmp(hd_reserve_config_get_error(c, 0), want, strlen(want)) == 0,
                      "'%s': got '%s'", text, hd_reserve_config_get_error(c, 0));
        hd_reserve_config_unref(c);
        hd_cmdline_unref(cl);
    }
}
END_TEST

/* Which entry wins, on the demo tree's NIC (8086:10d3 at 03:00.0). */
HD_TEST(match_rules)
{
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_device *nic, *gpu;
    struct hd_cmdline *cl;

    eng_start(&e, "demo");
    nic = eng_dev(&e, NIC);
    gpu = eng_dev(&e, "0000:01:00.0");
    /* An address beats ids wherever it comes; among equals the later one wins. */
    c = parse("03:00.0 pci-stub\n8086:10d3 vfio-pci\n", 0);
    ck_assert_str_eq(hd_reserve_config_match(c, nic)->driver, "pci-stub");
    ck_assert_ptr_null(hd_reserve_config_match(c, gpu));
    hd_reserve_config_unref(c);
    c = parse("8086:10d3 pci-stub\n8086:10d3 vfio-pci\n03:00.0 numvfs=2\n", 0);
    ck_assert_str_eq(hd_reserve_config_match(c, nic)->driver, "vfio-pci");
    ck_assert_uint_eq(hd_reserve_config_match(c, nic)->line, 2);
    ck_assert_int_eq(hd_reserve_config_match_numvfs(c, nic)->numvfs, 2);
    ck_assert_ptr_null(hd_reserve_config_match_numvfs(c, gpu));
    hd_reserve_config_unref(c);
    /* numvfs alone reserves nothing. */
    c = parse("03:00.0 numvfs=2\n", 0);
    ck_assert_ptr_null(hd_reserve_config_match(c, nic));
    hd_reserve_config_unref(c);
    /* The command line's address beats the files' ids (and opts out); the files alone give
     * theirs, or none. */
    c = parse("8086:10d3 vfio-pci noiommu\n", 0);
    ck_assert_int_eq(hd_cmdline_new_from_string("hostdev.reserve=03:00.0,01:00.0", &cl), 0);
    ck_assert_int_eq(hd_reserve_config_add_cmdline(c, cl), 0);
    ck_assert(hd_reserve_entry_is_cmdline(hd_reserve_config_match(c, nic)));
    ck_assert(!hd_reserve_config_match(c, nic)->noiommu);
    ck_assert_ptr_eq(hd_reserve_config_match_files(c, nic), hd_reserve_config_get(c, 0));
    ck_assert(hd_reserve_entry_is_cmdline(hd_reserve_config_match(c, gpu)));
    ck_assert_ptr_null(hd_reserve_config_match_files(c, gpu));
    hd_cmdline_unref(cl);
    hd_reserve_config_unref(c);
    hd_device_unref(nic);
    hd_device_unref(gpu);
    eng_stop(&e);
}
END_TEST

HD_TEST(load_reads_files_in_order_then_cmdline)
{
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_device *nic;

    eng_start(&e, "iommu intel\n"
                  "cmdline \"quiet hostdev.reserve=0000:00:14.0\"\n"
                  "driver e1000e ids=8086:10d3\n"
                  "device 0000:03:00.0 8086:10d3 class=020000 driver=e1000e parent=root\n"
                  "device 0000:00:14.0 8086:a12f class=0c0330\n"
                  "file etc/hostdev.d/20-b.conf \"03:00.0 vfio-pci\\n\"\n"
                  "file etc/hostdev.d/10-a.conf \"03:00.0 pci-stub\\nbogus\\n\"\n"
                  "file etc/hostdev.d/README \"not a .conf: ignored\\n\"\n"
                  "file etc/hostdev.d/30-c.conf.disabled \"ignored\\n\"\n");
    ck_assert_int_eq(hd_reserve_config_load(e.ctx, &c), 0);
    ck_assert_uint_eq(hd_reserve_config_count(c), 3);
    ck_assert_str_eq(hd_reserve_config_get(c, 0)->file, "etc/hostdev.d/10-a.conf");
    ck_assert_str_eq(hd_reserve_config_get(c, 1)->file, "etc/hostdev.d/20-b.conf");
    ck_assert_str_eq(hd_reserve_config_get(c, 2)->file, "proc/cmdline");
    ck_assert_uint_eq(hd_reserve_config_get_error_count(c), 1);
    ck_assert_str_eq(hd_reserve_config_get_error(c, 0),
                     "etc/hostdev.d/10-a.conf:2: invalid device 'bogus' (expected an address "
                     "DDDD:BB:SS.F or ids VVVV:DDDD)");
    nic = eng_dev(&e, NIC);
    ck_assert_str_eq(hd_reserve_config_match(c, nic)->driver, "vfio-pci"); /* 20-b after 10-a */
    hd_device_unref(nic);
    hd_reserve_config_unref(c);
    ck_assert_uint_eq(eng_writes(&e), 0);
    eng_stop(&e);

    /* Nothing configured at all: an empty list, no error. */
    eng_start(&e, "demo");
    ck_assert_int_eq(hd_reserve_config_load(e.ctx, &c), 0);
    ck_assert_uint_eq(hd_reserve_config_count(c), 0);
    ck_assert_uint_eq(hd_reserve_config_get_error_count(c), 0);
    hd_reserve_config_unref(c);
    eng_stop(&e);
}
END_TEST

HD_TEST(reserve_takes_the_device_and_keeps_the_override)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "demo");
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_reserve(dev, NULL), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"), "vfio-pci");
    ck_assert(fx_exists(&e.fx, "dev/vfio/8"));
    /* A reprobe (driver reload, rescan) keeps it off e1000e. */
    ck_assert_int_eq(fx_ctl(&e.fx, "rmmod vfio_pci"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe vfio_pci"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_uint_eq(binds(&e, NIC, "e1000e"), 0);
    /* Reattach gives it back and clears the override. */
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"), "(null)");
    /* pci-stub; and a device already on its stub gets the override it lacked. */
    ck_assert_int_eq(hd_device_reserve(dev, "pci-stub"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "pci-stub");
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override", "\n"), 0);
    ck_assert_int_eq(hd_device_reserve(dev, "pci-stub"), 0);
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"), "pci-stub");
    ck_assert_int_eq(hd_device_reserve(dev, "e1000e"), -EINVAL);
    hd_device_unref(dev);
    /* Bridges and group-less devices are refused before anything is written. */
    dev = eng_dev(&e, "0000:00:1c.0");
    ck_assert_int_eq(hd_device_reserve(dev, NULL), -EINVAL);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* In the initramfs the stub may not be loaded: the override waits for it, and when vfio-pci
 * registers it takes the device (driver_attach honours the override). */
HD_TEST(reserve_before_the_stub_is_loaded)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, EARLY_SPEC(" unloaded"));
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_reserve(dev, "vfio-pci"), 1);
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "");
    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe e1000e"), 0); /* the host driver comes first */
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "");
    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe vfio_pci"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_uint_eq(binds(&e, NIC, "e1000e"), 0);
    /* Again: nothing left to do. */
    ck_assert_int_eq(hd_device_reserve(dev, "vfio-pci"), 0);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* Reserved before its stub is loaded, a device is recorded as a detach from no driver records
 * it: none, and the driver_override it had when that named another driver (someone else's),
 * so unpersist puts the device back as it was, pending or bound by the stub since. */
HD_TEST(a_pending_reservation_records_the_override_it_had)
{
    static const struct {
        const char *override, *record;
        bool stub_loads;
    } cases[] = {
        {"e1000e", "\noverride=e1000e", false},
        {"", "", false},
        {"e1000e", "\noverride=e1000e", true},
    };
    struct eng e;

    eng_start(&e, EARLY_SPEC(" unloaded"));
    /* Its override not written after all: the undo takes the record back with it. */
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override", "e1000e"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/" NIC "/driver_override EIO nth=1 "
                                   "count=1"), 0);
    ck_assert_int_eq(eng_run(&e, "persist 03:00.0"), 1);
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"), "e1000e");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-" NIC ".conf"));

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *was = cases[i].override[0] ? cases[i].override : "(null)";
        ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override",
                                  cases[i].override[0] ? cases[i].override : "\n"), 0);
        ck_assert_msg(eng_run(&e, "persist 03:00.0") == 0, "%s", e.err);
        ck_assert(strstr(e.out, "reserved for vfio-pci, bound when it loads") != NULL);
        ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"),
                         "vfio-pci");
        ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), cases[i].record);
        if (cases[i].stub_loads) {
            ck_assert_int_eq(fx_ctl(&e.fx, "modprobe vfio_pci"), 0);
            ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
        }
        ck_assert_msg(eng_run(&e, "unpersist 03:00.0") == 0, "%s", e.err);
        ck_assert_str_eq(fx_driver(&e.fx, NIC), "");
        ck_assert_msg(strcmp(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"),
                             was) == 0, "case %zu: override %s", i, e.fx.scratch);
        ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    }
    eng_stop(&e);
}
END_TEST

/* Hotplug with a reservation configured: what the udev rule does on "add". */
static void reserve_added(struct eng *e, const char *bdf)
{
    struct hd_reserve_config *c;
    const struct hd_reserve_entry *entry;
    struct hd_device *dev;

    ck_assert_int_eq(hd_reserve_config_load(e->ctx, &c), 0);
    dev = eng_dev(e, bdf);
    entry = hd_reserve_config_match(c, dev);
    ck_assert_ptr_nonnull(entry);
    ck_assert_msg(hd_device_reserve(dev, entry->driver) == 0, "%s", hd_ctx_last_error(e->ctx));
    hd_device_unref(dev);
    hd_reserve_config_unref(c);
}

HD_TEST(added_devices_never_reach_a_module_host_driver)
{
    struct eng e;

    eng_start(&e, early_spec);
    conf(&e, "nic.conf", "8086:10d3\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:05:00.0 8086:10d3 class=020000"), 0);
    ck_assert_uint_eq(fx_log_count(&e.fx, "add 0000:05:00.0"), 1);
    /* The rule runs before 80-drivers.rules loads e1000e for this event. */
    reserve_added(&e, "0000:05:00.0");
    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe e1000e"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:05:00.0"), "vfio-pci");
    ck_assert_uint_eq(binds(&e, "0000:05:00.0", "e1000e"), 0);
    ck_assert_uint_eq(binds(&e, "0000:05:00.0", "vfio-pci"), 1);
    /* The one in the tree from the start was not reserved by anyone yet: e1000e has it. */
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    eng_stop(&e);
}
END_TEST

HD_TEST(added_devices_are_taken_from_a_loaded_host_driver)
{
    struct eng e;

    /* e1000e is loaded: the kernel probes the new device before udev hears of it. */
    eng_start(&e, "demo");
    conf(&e, "nic.conf", "0000:06:00.0 vfio-pci\n");
    ck_assert_int_eq(fx_ctl(&e.fx, "add 0000:06:00.0 8086:10d3 class=020000 parent=root"), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:06:00.0"), "e1000e");
    reserve_added(&e, "0000:06:00.0");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:06:00.0"), "vfio-pci");
    ck_assert_uint_eq(fx_log_count(&e.fx, "unbind 0000:06:00.0 e1000e"), 1);
    eng_stop(&e);
}
END_TEST

HD_TEST(persist_files_round_trip)
{
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_reserve_entry entry = {.driver = "pci-stub", .numvfs = -1};
    char *line;

    eng_start(&e, "demo");
    ck_assert_int_eq(hd_pci_selector_parse("03:00.0", &entry.sel), 0);
    ck_assert_int_eq(hd_reserve_persist(e.ctx, &entry), 0);
    ck_assert_str_eq(fx_read(&e.fx, "etc/hostdev.d/persist-0000:03:00.0.conf"),
                     "# Written by `hostdev persist`; `hostdev unpersist` removes it.\n"
                     "0000:03:00.0 pci-stub");
    ck_assert_int_eq(hd_pci_selector_parse("8086:10d3", &entry.sel), 0);
    entry.driver = NULL;
    ck_assert_int_eq(hd_reserve_persist(e.ctx, &entry), -EINVAL); /* nothing to persist */
    entry.numvfs = 2;
    ck_assert_int_eq(hd_reserve_persist(e.ctx, &entry), -EINVAL); /* numvfs of ids */
    entry.driver = "vfio-pci";
    entry.numvfs = -1;
    ck_assert_int_eq(hd_reserve_persist(e.ctx, &entry), 0);
    ck_assert_int_eq(hd_reserve_config_load(e.ctx, &c), 0);
    ck_assert_uint_eq(hd_reserve_config_count(c), 2);
    ck_assert_uint_eq(hd_reserve_config_get_error_count(c), 0);
    line = entry_line(c, 0);
    ck_assert_str_eq(line, "0000:03:00.0 pci-stub");
    free(line);
    ck_assert_uint_eq(hd_reserve_config_get(c, 0)->line, 2);
    hd_reserve_config_unref(c);
    ck_assert_int_eq(hd_reserve_unpersist(e.ctx, &entry.sel), 0);
    ck_assert_int_eq(hd_reserve_unpersist(e.ctx, &entry.sel), -ENOENT);
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-8086:10d3.conf"));
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/.persist-8086:10d3.conf.tmp"));
    eng_stop(&e);
}
END_TEST

/* Reserved at boot before its stub is loaded (an initramfs), a device found unbound was never
 * probed: its record says the kernel's choice, and a reattach, pending or bound by the stub
 * since, gives it to its host driver. A reservation that fails leaves it as it was, unbound
 * (not the kernel's choice), with no record. */
HD_TEST(an_early_boot_reservation_records_the_kernels_choice)
{
    struct eng e;

    for (int stub_loads = 0; stub_loads < 2; stub_loads++) {
        eng_start(&e, EARLY_SPEC(" unloaded"));
        conf(&e, "10-nic.conf", "03:00.0\n");
        /* The host driver loaded, the device taken off it: unbound all the same. */
        ck_assert_int_eq(fx_ctl(&e.fx, "modprobe e1000e"), 0);
        ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/e1000e/unbind", NIC), 0);
        /* Its override not written after all: the undo leaves it unbound, with no record. */
        ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/" NIC "/driver_override EIO "
                                       "nth=1 count=1"), 0);
        ck_assert_int_eq(eng_run(&e, "reserve"), 1);
        ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"),
                         "(null)");
        ck_assert_str_eq(fx_driver(&e.fx, NIC), "");
        ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
        ck_assert_msg(eng_run(&e, "reserve") == 0, "%s", e.err);
        ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"),
                         "vfio-pci");
        ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), "*");
        if (stub_loads)
            ck_assert_int_eq(fx_ctl(&e.fx, "modprobe vfio_pci"), 0);
        ck_assert_str_eq(fx_driver(&e.fx, NIC), stub_loads ? "vfio-pci" : "");
        ck_assert_msg(eng_run(&e, "reattach " NIC) == 0, "%s", e.err);
        ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
        ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"),
                         "(null)");
        ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
        eng_stop(&e);
    }
}
END_TEST
