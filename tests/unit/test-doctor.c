/* test-doctor.c - every case of the oVirt troubleshooting section, over fake-kernel trees
 * (specs materialized as plain files): IOMMU off (firmware vs command line), group not viable,
 * /dev/vfio/N permission, not detached in unmanaged mode, BARs left unassigned. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assign-helpers.h"
#include "engine.h"
#include "hdtest.h"

#define DEV "0000:03:00.0"
#define DEV2 "0000:03:00.1"

/* ---- trees ---------------------------------------------------------------------------------- */

/* An Intel host whose VT-d is on without interrupt remapping, and the spec lines that follow. */
#define INTEL_HOST "cpu GenuineIntel\niommu intel irq-remap=no\ndriver vfio-pci stub vfio\n"
/* DEV in group 7 on @driver (vfio-pci or e1000e). */
#define ONE_DEVICE(driver)                                                                         \
    INTEL_HOST "driver e1000e ids=8086:10d3\n"                                                    \
               "device " DEV " 8086:10d3 class=020000 parent=root group=7 driver=" driver "\n"

/* Trees are specs (docs/fakesys-spec.md) materialized by ah_tree(). What the spec language has
 * no words for (a process's limits, /proc/iomem, BAR placement) the tests write into the plain
 * tree afterwards, as they change a driver. */

/* Rebind @bdf to @driver (NULL: unbound) as the kernel shows it: the device's driver link
 * (from sys/devices/pci0000:03/BDF), its link in the driver's directory, uevent's DRIVER=,
 * and its enable count (a host driver enables it in probe; vfio-pci only while it is open). */
static void set_driver(const char *root, const char *bdf, const char *driver)
{
    char rel[256], target[256], path[4096], old[256], uevent[1024];
    char *text, *rest;
    ssize_t n;

    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/uevent", bdf);
    ck_assert_ptr_nonnull(text = ah_read(root, rel));
    rest = strncmp(text, "DRIVER=", 7) == 0 ? strchr(text, '\n') + 1 : text;
    snprintf(uevent, sizeof(uevent), "%s%s%s%s", driver ? "DRIVER=" : "", driver ? driver : "",
             driver ? "\n" : "", rest);
    free(text);
    ah_write(root, rel, uevent);
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/enable", bdf);
    ah_write(root, rel, driver && strcmp(driver, "vfio-pci") != 0 ? "1\n" : "0\n");

    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver", root, bdf);
    if ((n = readlink(path, old, sizeof(old) - 1)) > 0) {
        old[n] = '\0';
        snprintf(rel, sizeof(rel), "%s/sys/bus/pci/drivers/%s/%s", root, strrchr(old, '/') + 1,
                 bdf);
        unlink(rel);
    }
    unlink(path);
    if (driver == NULL)
        return;
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver", bdf);
    snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
    ah_symlink(root, rel, target);
    snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/%s", driver, bdf);
    snprintf(target, sizeof(target), "../../../../devices/pci0000:03/%s", bdf);
    ah_symlink(root, rel, target);
}

struct found {
    enum hd_severity severity;
    enum hd_remedy remedy;
    char problem[1024];
    char fix[1024];
    char error[1024]; /* the context's message when the call failed */
    int holder;       /* hd_findings_get_remedy_holder()'s answer, and what it gave */
    char holder_vm[128];
    uid_t holder_uid;
    gid_t holder_gid;
    int members; /* hd_findings_get_remedy_members()'s answer, and what it gave ("A B") */
    char member_list[256];
};

/* Run the doctor; fill @f from the first finding with @code; false when there is none. */
static bool find(const char *root, const char *addr, const char *code, struct found *f)
{
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_pci_addr a;
    struct hd_findings *d;
    bool hit = false;

    if (addr)
        a = ah_addr(addr);
    ck_assert_int_eq(hd_doctor_run(ctx, addr ? &a : NULL, &d), 0);
    for (size_t i = 0; i < hd_findings_count(d) && !hit; i++) {
        if (strcmp(hd_findings_get_code(d, i), code) != 0)
            continue;
        hit = true;
        f->severity = hd_findings_get_severity(d, i);
        snprintf(f->problem, sizeof(f->problem), "%s", hd_findings_get_message(d, i));
        snprintf(f->fix, sizeof(f->fix), "%s", hd_findings_get_fix(d, i));
        f->remedy = hd_findings_get_remedy(d, i);
        const char *vm = NULL;
        f->holder = hd_findings_get_remedy_holder(d, i, &vm, &f->holder_uid, &f->holder_gid);
        snprintf(f->holder_vm, sizeof(f->holder_vm), "%s", vm ? vm : "");
        const struct hd_pci_addr *members = NULL;
        size_t count = 0, len = 0;
        f->member_list[0] = '\0';
        f->members = hd_findings_get_remedy_members(d, i, &members, &count);
        for (size_t k = 0; f->members == 0 && k < count; k++) {
            char name[HD_PCI_ADDR_BUFSZ];
            len += (size_t)snprintf(f->member_list + len, sizeof(f->member_list) - len, "%s%s",
                                    k ? " " : "", hd_pci_addr_format(&members[k], name));
            ck_assert_uint_lt(len, sizeof(f->member_list));
        }
        /* The library says what to do in words; a tool spells its own commands. */
        ck_assert_msg(strstr(f->fix, "hostdev ") == NULL, "a command in the fix: %s", f->fix);
    }
    hd_findings_unref(d);
    hd_ctx_unref(ctx);
    return hit;
}

HD_TEST(iommu_off_in_the_firmware)
{
    char *root =
        ah_tree("cpu GenuineIntel\niommu none\ncmdline BOOT_IMAGE=/vmlinuz root=/dev/sda1\n");
    struct found f;

    ck_assert(find(root, NULL, "no-dmar-table", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_ptr_nonnull(strstr(f.fix, "firmware"));
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(iommu_off_on_the_command_line)
{
    /* The firmware has VT-d (a DMAR table), the command line turns it off (no groups). */
    char *root = ah_tree("cpu GenuineIntel\niommu intel enabled=no\n"
                      "cmdline BOOT_IMAGE=/vmlinuz intel_iommu=off\n");
    struct found f;

    ck_assert(find(root, NULL, "intel-iommu-off", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_ptr_nonnull(strstr(f.fix, "intel_iommu=on"));
    ck_assert(!find(root, NULL, "no-dmar-table", &f));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* How many findings with @code a whole-host run has; @f from the last of them. */
static size_t count_host(const char *root, const char *code, struct found *f, char *device,
                         size_t size)
{
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_findings *d;
    size_t n = 0;

    ck_assert_int_eq(hd_doctor_run(ctx, NULL, &d), 0);
    for (size_t i = 0; i < hd_findings_count(d); i++) {
        if (strcmp(hd_findings_get_code(d, i), code) != 0)
            continue;
        n++;
        f->remedy = hd_findings_get_remedy(d, i);
        snprintf(f->problem, sizeof(f->problem), "%s", hd_findings_get_message(d, i));
        snprintf(device, size, "%s", hd_findings_get_device(d, i) ? hd_findings_get_device(d, i)
                                                                  : "(none)");
    }
    hd_findings_unref(d);
    hd_ctx_unref(ctx);
    return n;
}

HD_TEST(group_not_viable)
{
    /* Without interrupt remapping (irq-remap=no), which the fix speaks of. */
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                      "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                      "driver=snd_hda_intel\n");
    char device[64];
    struct found f;

    ck_assert(find(root, DEV, "group-not-viable", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_ptr_nonnull(strstr(f.problem, DEV2 " (snd_hda_intel)"));
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH_GROUP);
    ck_assert_ptr_nonnull(strstr(f.fix, "give the VM the whole group"));
    ck_assert_ptr_nonnull(strstr(f.fix, "allow_unsafe_interrupts=1"));
    ck_assert_ptr_nonnull(strstr(f.fix, "forge interrupts"));
    /* Without an address: every detached device is looked at. */
    ck_assert(find(root, NULL, "group-not-viable", &f));
    /* Its node's note: acquire refuses DEV alone, so the acquire it advises takes the group. */
    ck_assert(find(root, DEV, "vfio-permission", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_ACQUIRE_GROUP);
    ck_assert_ptr_nonnull(strstr(f.fix, "acquire it with its IOMMU group"));
    ck_assert(count_host(root, "vfio-permission", &f, device, sizeof(device)) == 1);
    ck_assert_int_eq(f.remedy, HD_REMEDY_ACQUIRE_GROUP);
    /* Fixed: no finding. */
    set_driver(root, DEV2, NULL);
    ck_assert(!find(root, DEV, "group-not-viable", &f));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* DEV persisted, its group's other member not: detaching the group now is undone by the next
 * boot, which reserves DEV alone; the fix names the member to persist too. Once the boot
 * reserves both (or DEV is not persisted), it says nothing of the boot. */
HD_TEST(group_not_viable_after_boot)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                         "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=snd_hda_intel\n");
    struct found f;

    ck_assert(find(root, DEV, "group-not-viable", &f));
    ck_assert_ptr_null(strstr(f.fix, "persist"));
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH_GROUP);
    ck_assert_int_eq(f.members, -ENOENT);
    ah_write(root, "etc/hostdev.d/persist-" DEV ".conf", DEV " vfio-pci\n");
    ck_assert(find(root, DEV, "group-not-viable", &f));
    /* The finding carries the members to persist, for a tool to spell as its command. */
    ck_assert_int_eq(f.remedy, HD_REMEDY_PERSIST_MEMBERS);
    ck_assert_int_eq(f.members, 0);
    ck_assert_str_eq(f.member_list, DEV2);
    ck_assert_msg(strstr(f.fix, "persist " DEV2 " too, or every boot leaves group 7 not "
                                "viable (the boot reserves " DEV) != NULL, "%s", f.fix);
    ck_assert_ptr_nonnull(strstr(f.fix, "for now, give the VM the whole group"));
    ah_write(root, "etc/hostdev.d/persist-" DEV2 ".conf", DEV2 " vfio-pci\n");
    ck_assert(find(root, DEV, "group-not-viable", &f));
    ck_assert_ptr_null(strstr(f.fix, "persist"));
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH_GROUP);
    ck_assert_int_eq(f.members, -ENOENT);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* DEV persisted, DEV2 detached by hand (not persisted): the group is viable now, but the next
 * boot reserves DEV alone and gives DEV2 back to its host driver. A warning names DEV2 to
 * persist, once in a whole-host run; nothing once the boot reserves both, nor when DEV2 is
 * unbound (no host driver takes it then), nor when DEV is not persisted either. */
HD_TEST(group_viable_now_not_after_boot)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                         "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=vfio-pci\n");
    char device[64];
    struct found f;

    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    ah_write(root, "etc/hostdev.d/persist-" DEV ".conf", DEV " vfio-pci\n");
    ck_assert(find(root, DEV, "group-not-viable-at-boot", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_WARNING);
    ck_assert_int_eq(f.remedy, HD_REMEDY_PERSIST_MEMBERS);
    ck_assert_int_eq(f.members, 0);
    ck_assert_str_eq(f.member_list, DEV2);
    ck_assert_msg(strstr(f.problem, "IOMMU group 7 is viable now, but not after the next boot: "
                                    "the boot reserves " DEV) != NULL, "%s", f.problem);
    ck_assert_msg(strstr(f.fix, "persist " DEV2 " too") != NULL, "%s", f.fix);
    ck_assert(!find(root, DEV, "group-not-viable", &f));
    /* The scan looks at both; only DEV's boot leaves the group so. */
    ck_assert(count_host(root, "group-not-viable-at-boot", &f, device, sizeof(device)) == 1);
    ck_assert_str_eq(device, DEV);
    /* DEV2 unbound: no host driver takes it at boot. */
    set_driver(root, DEV2, NULL);
    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    set_driver(root, DEV2, "vfio-pci");
    /* The command line's vfio-pci.ids= names DEV2: vfio-pci takes it at boot. An id whose
     * class mask rules DEV2's class out names it not. */
    ah_write(root, "proc/cmdline", "quiet vfio-pci.ids=8086:a348\n");
    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    ah_write(root, "proc/cmdline",
             "quiet vfio-pci.ids=8086:a348:ffffffff:ffffffff:020000:ff0000\n");
    ck_assert(find(root, DEV, "group-not-viable-at-boot", &f));
    ah_write(root, "proc/cmdline", "quiet\n");
    ah_write(root, "etc/hostdev.d/persist-" DEV2 ".conf", DEV2 " vfio-pci\n");
    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* DEV and DEV2 persisted, DEV3 detached by hand: the next boot leaves the group not viable,
 * one finding for the group (not one per persisted member), naming both members the boot
 * reserves and DEV3 to persist; asked for DEV2 alone, the same finding. */
HD_TEST(group_not_viable_after_boot_told_once_per_group)
{
#define DEV3 "0000:03:00.2"
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                         "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=vfio-pci\n"
                         "device " DEV3 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=vfio-pci\n");
    char device[64];
    struct found f;

    ah_write(root, "etc/hostdev.d/persist-" DEV ".conf", DEV " vfio-pci\n");
    ah_write(root, "etc/hostdev.d/persist-" DEV2 ".conf", DEV2 " vfio-pci\n");
    ck_assert_uint_eq(count_host(root, "group-not-viable-at-boot", &f, device, sizeof(device)),
                      1);
    ck_assert_str_eq(device, DEV);
    ck_assert_msg(strstr(f.problem, "the boot reserves " DEV " and " DEV2 ", and of the group "
                                    "only what is persisted, configured or in vfio-pci's ids, "
                                    "so " DEV3 ",") != NULL,
                  "%s", f.problem);
    ck_assert(find(root, DEV2, "group-not-viable-at-boot", &f));
    ck_assert_str_eq(f.member_list, DEV3);
    ck_assert_msg(strstr(f.problem, "the boot reserves " DEV " and " DEV2 ",") != NULL, "%s",
                  f.problem);
    ck_assert_msg(strstr(f.fix, "persist " DEV3 " too") != NULL, "%s", f.fix);
    ah_tree_remove(root);
    free(root);
#undef DEV3
}
END_TEST

/* modprobe.d's `options vfio-pci ids=` gives vfio-pci devices at boot as the command line's
 * vfio-pci.ids= does (read as kmod reads it: comments, continued lines, etc/ over lib/ for one
 * file name); the command line's, when it has one, is the one taken (kmod appends it). The
 * group's viability after the boot follows, for a device the boot reserves either way. */
HD_TEST(group_at_boot_with_modprobe_d_ids)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                         "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=vfio-pci\n");
    char path[4096];
    struct found f;

    ah_write(root, "etc/hostdev.d/persist-" DEV ".conf", DEV " vfio-pci\n");
    ck_assert(find(root, DEV, "group-not-viable-at-boot", &f));
    ah_write(root, "etc/modprobe.d/vfio.conf",
             "# passthrough\noptions vfio-pci \\\n  ids=10de:1b80,8086:a348\n");
    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    ah_write(root, "proc/cmdline", "quiet vfio-pci.ids=10de:1b80\n");
    ck_assert(find(root, DEV, "group-not-viable-at-boot", &f));
    ah_write(root, "proc/cmdline", "quiet\n");
    ah_write(root, "etc/modprobe.d/vfio.conf", "#options vfio-pci ids=8086:a348\n");
    ah_write(root, "lib/modprobe.d/vfio.conf", "options vfio_pci ids=8086:a348\n");
    ck_assert(find(root, DEV, "group-not-viable-at-boot", &f));
    snprintf(path, sizeof(path), "%s/etc/modprobe.d/vfio.conf", root);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    /* DEV reserved by modprobe.d's ids alone, DEV2 detached by hand: the boot gives DEV2 back
     * to its host driver. */
    snprintf(path, sizeof(path), "%s/etc/hostdev.d/persist-" DEV ".conf", root);
    ck_assert_int_eq(unlink(path), 0);
    set_driver(root, DEV2, "vfio-pci");
    ah_write(root, "lib/modprobe.d/vfio.conf", "options vfio_pci ids=8086:10d3\n");
    ck_assert(find(root, DEV, "group-not-viable-at-boot", &f));
    ck_assert_str_eq(f.member_list, DEV2);
    /* The member the ids reserve is the one the warning says the boot reserves. */
    ck_assert_msg(strstr(f.problem, "the boot reserves " DEV ", and of the group") != NULL,
                  "%s", f.problem);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* A vfio-pci built into the kernel (sys/module/vfio_pci without initstate) is never loaded by
 * modprobe, so modprobe.d's ids do not reach it: the boot does not reserve DEV2 by them. The
 * command line's vfio-pci.ids= still does. */
HD_TEST(group_at_boot_ignores_modprobe_d_ids_of_a_builtin_vfio_pci)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                         "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=vfio-pci\n"
                         "module vfio_pci builtin\nparam vfio_pci disable_vga N\n");
    struct found f;

    ck_assert(ah_exists(root, "sys/module/vfio_pci"));
    ck_assert(!ah_exists(root, "sys/module/vfio_pci/initstate"));
    ah_write(root, "etc/hostdev.d/persist-" DEV ".conf", DEV " vfio-pci\n");
    ah_write(root, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=8086:a348\n");
    ck_assert(find(root, DEV, "group-not-viable-at-boot", &f));
    ck_assert_str_eq(f.member_list, DEV2);
    ah_write(root, "proc/cmdline", "quiet vfio-pci.ids=8086:a348\n");
    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    /* Loadable, and loaded: modprobe.d's ids are its own again. */
    ah_write(root, "proc/cmdline", "quiet\n");
    ah_write(root, "sys/module/vfio_pci/initstate", "live\n");
    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* Not viable now (DEV2 on its host driver), DEV persisted: modprobe.d's vfio-pci ids name
 * DEV2, so the boot reserves the whole group and the fix names nothing to persist. */
HD_TEST(group_not_viable_with_modprobe_d_ids)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                         "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=snd_hda_intel\n");
    struct found f;

    ah_write(root, "etc/hostdev.d/persist-" DEV ".conf", DEV " vfio-pci\n");
    ck_assert(find(root, DEV, "group-not-viable", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_PERSIST_MEMBERS);
    ah_write(root, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=8086:a348\n");
    ck_assert(find(root, DEV, "group-not-viable", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH_GROUP);
    ck_assert_ptr_null(strstr(f.fix, "persist"));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* Lines of @path that hold @needle. */
static size_t lines_with(const char *path, const char *needle)
{
    char line[4096];
    size_t n = 0;
    FILE *f = fopen(path, "r");

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* A whole-host run reads the command line once (the IOMMU report's, which the reservations
 * and the boot's vfio-pci ids share) and modprobe.d once: counted as the tool opens them. */
HD_TEST(one_run_reads_the_command_line_once)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                         "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=vfio-pci\n");
    const char *build = getenv("HOSTDEV_BUILD");
    char cmd[8192], trace[4096];

    if (system("strace -o /dev/null true 2>/dev/null") != 0) {
        fprintf(stderr, "test-doctor: strace cannot run here: read count not checked\n");
        ah_tree_remove(root);
        free(root);
        return;
    }
    ah_write(root, "proc/cmdline", "quiet hostdev.reserve=" DEV "\n");
    ah_write(root, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=8086:a348\n");
    snprintf(trace, sizeof(trace), "%s/trace.out", root);
    /* LeakSanitizer cannot run under ptrace: a sanitized build's leak check is off here. */
    snprintf(cmd, sizeof(cmd),
             "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" strace -f "
             "-e trace=open,openat,openat2 -o '%s' '%s/hostdev' --root '%s' doctor >/dev/null 2>&1",
             trace, build ? build : "build", root);
    ck_assert_int_ne(system(cmd), -1);
    /* The sanitizers' runtime reads its own /proc/self/cmdline. */
    ck_assert_uint_eq(lines_with(trace, "cmdline\"") - lines_with(trace, "self/cmdline\""), 1);
    ck_assert_uint_eq(lines_with(trace, "vfio.conf\""), 1);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* A group not viable now (DEV3 on its host driver) whose DEV2 was detached by hand: the boot
 * gives both back to their host drivers, so the fix names both to persist, not DEV3 alone. */
HD_TEST(group_not_viable_after_boot_names_detached_members)
{
#define DEV3 "0000:03:00.2"
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n"
                         "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=vfio-pci\n"
                         "device " DEV3 " 8086:a348 class=040300 parent=root group=7 "
                         "driver=snd_hda_intel\n");
    struct found f;

    ah_write(root, "etc/hostdev.d/persist-" DEV ".conf", DEV " vfio-pci\n");
    ck_assert(find(root, DEV, "group-not-viable", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_PERSIST_MEMBERS);
    ck_assert_str_eq(f.member_list, DEV2 " " DEV3);
    ck_assert_msg(strstr(f.fix, "persist " DEV2 ", " DEV3 " too") != NULL, "%s", f.fix);
    ck_assert_ptr_null(strstr(f.problem, DEV2)); /* in the way now: DEV3 alone */
    ck_assert(!find(root, DEV, "group-not-viable-at-boot", &f));
    ah_tree_remove(root);
    free(root);
#undef DEV3
}
END_TEST

/* The doctor's first finding with @code for @addr: its message and fix (allocated), how many
 * members its remedy names. */
static void find_long(const char *root, const char *addr, const char *code, char **message,
                      char **fix, size_t *nmembers)
{
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_pci_addr a = ah_addr(addr);
    struct hd_findings *d;
    size_t i = 0;

    ck_assert_int_eq(hd_doctor_run(ctx, &a, &d), 0);
    while (i < hd_findings_count(d) && strcmp(hd_findings_get_code(d, i), code) != 0)
        i++;
    ck_assert_uint_lt(i, hd_findings_count(d));
    *message = strdup(hd_findings_get_message(d, i));
    *fix = strdup(hd_findings_get_fix(d, i));
    const struct hd_pci_addr *members = NULL;
    *nmembers = 0;
    if (hd_findings_get_remedy_members(d, i, &members, nmembers) < 0)
        *nmembers = 0;
    hd_findings_unref(d);
    hd_ctx_unref(ctx);
}

/* A group of DEV and 48 other members on a host driver, each named in the message, and, DEV
 * persisted, in the fix and the remedy: none dropped for want of room. */
HD_TEST(group_not_viable_names_every_member)
{
#define MEMBERS 48
    char spec[16384], name[32], *message, *fix;
    size_t len, nmembers;

    len = (size_t)snprintf(spec, sizeof(spec), "%s",
                           ONE_DEVICE("vfio-pci") "driver snd_hda_intel ids=8086:a348\n");
    for (int k = 0; k < MEMBERS; k++)
        len += (size_t)snprintf(spec + len, sizeof(spec) - len,
                                "device 0000:%02x:00.0 8086:a348 class=040300 parent=root "
                                "group=7 driver=snd_hda_intel\n", 0x10 + k);
    ck_assert_uint_lt(len, sizeof(spec));
    char *root = ah_tree(spec);
    find_long(root, DEV, "group-not-viable", &message, &fix, &nmembers);
    for (int k = 0; k < MEMBERS; k++) {
        snprintf(name, sizeof(name), "0000:%02x:00.0 (snd_hda_intel)", 0x10 + k);
        ck_assert_msg(strstr(message, name) != NULL, "%s not in %s", name, message);
    }
    free(message);
    free(fix);
    ah_write(root, "etc/hostdev.d/persist-" DEV ".conf", DEV " vfio-pci\n");
    find_long(root, DEV, "group-not-viable", &message, &fix, &nmembers);
    ck_assert_uint_eq(nmembers, MEMBERS);
    snprintf(name, sizeof(name), "0000:%02x:00.0 too", 0x10 + MEMBERS - 1);
    ck_assert_msg(strstr(fix, "persist 0000:10:00.0, 0000:11:00.0, ") != NULL, "%s", fix);
    ck_assert_msg(strstr(fix, name) != NULL, "%s not in %s", name, fix);
    free(message);
    free(fix);
    ah_tree_remove(root);
    free(root);
#undef MEMBERS
}
END_TEST

/* A member the host uses (an interface up with routes): acquire and detach --group refuse it,
 * so the advice is to free it first, naming it and what the host has on it, not a command. */
HD_TEST(group_not_viable_member_used_by_the_host)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci")
                         "device " DEV2 " 8086:10d3 class=020000 parent=root group=7 "
                         "driver=e1000e\n"
                         "net " DEV2 " eth1 up route=0.0.0.0/0\n");
    struct found f;

    ck_assert(find(root, DEV, "group-not-viable", &f));
    ck_assert_ptr_nonnull(strstr(f.problem, DEV2 " (e1000e)"));
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_msg(strstr(f.fix, "while the host uses another member of IOMMU group 7: " DEV2
                                ": eth1 is up with routes") != NULL, "%s", f.fix);
    ck_assert_ptr_null(strstr(f.fix, "allow_unsafe_interrupts"));
    /* Its node's note offers no acquire with the group either: the group's finding says why. */
    ck_assert(find(root, DEV, "vfio-permission", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_ptr_nonnull(strstr(f.fix, "the group's finding says why"));
    /* The interface down: the group can be taken, and the advice says how. */
    ah_write(root, "sys/class/net/eth1/operstate", "down\n");
    ah_write(root, "sys/class/net/eth1/flags", "0x1002\n");
    ck_assert(find(root, DEV, "group-not-viable", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH_GROUP);
    ck_assert_ptr_nonnull(strstr(f.fix, "give the VM the whole group"));
    ck_assert(find(root, DEV, "vfio-permission", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_ACQUIRE_GROUP);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(vfio_node_permission)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci")), path[4096];
    struct hd_pci_addr a = ah_addr(DEV);
    struct hd_ctx *ctx;
    struct found f;

    /* Not assigned, root-only (vfio makes dev/vfio/7 0600): a note on who may open it. */
    ck_assert(find(root, DEV, "vfio-permission", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_INFO);
    ck_assert_int_eq(f.remedy, HD_REMEDY_ACQUIRE);
    ck_assert_ptr_nonnull(strstr(f.fix, "acquire it with the VM's user and group as its owner"));
    ck_assert_int_eq(f.holder, -ENOENT); /* no VM holds it */
    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 107, 108, HD_ACQUIRE_UNMANAGED), 0);
    hd_ctx_unref(ctx);
    ck_assert(!find(root, DEV, "vfio-permission", &f));
    /* Someone took it back by hand: the VM's user cannot open it. */
    snprintf(path, sizeof(path), "%s/dev/vfio/7", root);
    ck_assert_int_eq(chmod(path, 0600), 0);
    if (geteuid() == 0)
        ck_assert_int_eq(chown(path, 0, 0), 0);
    ck_assert(find(root, DEV, "vfio-permission", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_ptr_nonnull(strstr(f.problem, "Permission denied"));
    ck_assert_int_eq(f.remedy, HD_REMEDY_REACQUIRE);
    ck_assert_ptr_nonnull(strstr(f.fix, "with owner 107:108"));
    /* The finding names the holder as the map had it, for a tool's command. */
    ck_assert_int_eq(f.holder, 0);
    ck_assert_str_eq(f.holder_vm, "vm1");
    ck_assert_uint_eq(f.holder_uid, 107);
    ck_assert_uint_eq(f.holder_gid, 108);
    /* The node is gone altogether. */
    unlink(path);
    ck_assert(find(root, DEV, "vfio-node-missing", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_REDETACH);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(vfio_node_permission_once_for_the_host)
{
    /* Three detached devices no VM holds, two of them in one group: every node root-only. */
    char *root = ah_tree(INTEL_HOST
                         "device " DEV " 8086:10d3 class=020000 parent=root group=7 "
                         "driver=vfio-pci\n"
                         "device " DEV2 " 8086:10d3 class=020000 parent=root group=8 "
                         "driver=vfio-pci\n"
                         "device 0000:03:00.2 8086:10d3 class=020000 parent=root group=8 "
                         "driver=vfio-pci\n");
    struct hd_pci_addr a = ah_addr(DEV2), b = ah_addr("0000:03:00.2");
    struct hd_ctx *ctx;
    char device[64];
    struct found f;

    /* A host-wide run says it once, naming each node with its devices, not once a device. */
    ck_assert_uint_eq(count_host(root, "vfio-permission", &f, device, sizeof(device)), 1);
    ck_assert_str_eq(device, "(none)");
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_msg(strstr(f.problem, "of 3 devices no VM holds") != NULL &&
                      strstr(f.problem, "/dev/vfio/7 (" DEV ")") != NULL &&
                      strstr(f.problem, "/dev/vfio/8 (" DEV2 ", 0000:03:00.2)") != NULL,
                  "%s", f.problem);
    /* Asked about one, it is that device's note, with its command. */
    ck_assert(find(root, DEV2, "vfio-permission", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_ACQUIRE);
    /* One left unheld: its own note, as before. */
    ctx = ah_ctx(root);
    struct hd_pci_addr both[2] = {a, b};
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", both, 2, 107, 108, HD_ACQUIRE_UNMANAGED), 0);
    hd_ctx_unref(ctx);
    ck_assert_uint_eq(count_host(root, "vfio-permission", &f, device, sizeof(device)), 1);
    ck_assert_str_eq(device, DEV);
    ck_assert_int_eq(f.remedy, HD_REMEDY_ACQUIRE);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(not_detached)
{
    char *root = ah_tree(ONE_DEVICE("e1000e"));
    struct hd_pci_addr a = ah_addr(DEV);
    struct hd_ctx *ctx;
    struct found f;

    ck_assert(find(root, DEV, "not-detached", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_WARNING);
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH_OR_MANAGED);
    ck_assert_ptr_nonnull(strstr(f.problem, DEV " is on e1000e, a host driver: "));
    /* Not asked about and not assigned: not mentioned. */
    ck_assert(!find(root, NULL, "not-detached", &f));
    ah_tree_remove(root);
    free(root);
    /* Unbound (a VF its PF's autoprobe left so): no host driver has it, and no VFIO either. */
    root = ah_tree(INTEL_HOST "device " DEV " 8086:10d3 class=020000 parent=root group=7\n");
    ck_assert(find(root, DEV, "not-detached", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH_OR_MANAGED);
    ck_assert_msg(strstr(f.problem, DEV " is on no driver: a VM configured with managed='no'") !=
                      NULL && strstr(f.problem, "host driver") == NULL,
                  "%s", f.problem);
    ah_tree_remove(root);
    free(root);
    /* Another member of its group on a host driver: an acquire of it alone would be refused
     * (the group would not be viable), so that is not offered; the group's finding leads. */
    root = ah_tree(ONE_DEVICE("e1000e") "driver snd_hda_intel ids=8086:a348\n"
                   "device " DEV2 " 8086:a348 class=040300 parent=root group=7 "
                   "driver=snd_hda_intel\n");
    ck_assert(find(root, DEV, "not-detached", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_WARNING);
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_ptr_nonnull(strstr(f.fix, "the IOMMU group's finding says what does"));
    ck_assert(find(root, DEV, "group-not-viable", &f));
    ah_tree_remove(root);
    free(root);
    /* The host uses it (its interface is up with routes): detach and acquire refuse it
     * unforced, so neither is offered; the fix names the use. */
    root = ah_tree(ONE_DEVICE("e1000e") "net " DEV " eth0 up route=0.0.0.0/0\n");
    ck_assert(find(root, DEV, "not-detached", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_msg(strstr(f.fix, "none while the host uses it: " DEV ": eth0 is up with routes") !=
                      NULL, "%s", f.fix);
    ah_tree_remove(root);
    free(root);
    /* No IOMMU: no group, which vfio-pci needs; detach and acquire refuse it. */
    root = ah_tree("iommu none\ndriver vfio-pci stub vfio\ndriver e1000e ids=8086:10d3\n"
                   "device " DEV " 8086:10d3 class=020000 parent=root driver=e1000e\n");
    ck_assert(find(root, DEV, "not-detached", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_msg(strstr(f.fix, "none until the IOMMU is on") != NULL, "%s", f.fix);
    ah_tree_remove(root);
    free(root);
    /* An SR-IOV PF with VFs: its detach would destroy them, refused the same way. */
    root = ah_tree(INTEL_HOST "driver ixgbe ids=8086:10fb sriov\ndriver ixgbevf ids=8086:10ed\n"
                   "device " DEV " 8086:10fb class=020000 parent=root group=7 driver=ixgbe "
                   "totalvfs=4 vf-device=10ed vf-offset=128 vf-stride=2 numvfs=2\n");
    ck_assert(find(root, DEV, "not-detached", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_msg(strstr(f.fix, "is an SR-IOV PF with 2 VFs") != NULL, "%s", f.fix);
    ah_tree_remove(root);
    free(root);
    root = ah_tree(ONE_DEVICE("e1000e"));
    /* Assigned unmanaged, then given back to the host behind hostdev's back. */
    set_driver(root, DEV, "vfio-pci"); /* and vfio makes the group's node */
    ah_write(root, "dev/vfio/7", "");
    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 0, 0, HD_ACQUIRE_UNMANAGED), 0);
    hd_ctx_unref(ctx);
    set_driver(root, DEV, "e1000e");
    ck_assert(find(root, NULL, "not-detached", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH);
    ck_assert_ptr_nonnull(strstr(f.problem, "unmanaged"));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* Detached to pci-stub: off the host, but VFIO gives no VM a device that is not on vfio-pci. */
HD_TEST(on_pci_stub)
{
    char *root = ah_tree(INTEL_HOST "driver pci-stub module=pci_stub stub\n"
                         "driver e1000e ids=8086:10d3\n"
                         "device " DEV " 8086:10d3 class=020000 parent=root group=7 "
                         "driver=pci-stub\n");
    struct found f;

    ck_assert(find(root, DEV, "not-detached", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_WARNING);
    ck_assert_int_eq(f.remedy, HD_REMEDY_DETACH);
    ck_assert_msg(strstr(f.problem, DEV " is on pci-stub") != NULL &&
                      strstr(f.problem, "VFIO hands out only devices on vfio-pci") != NULL,
                  "%s", f.problem);
    ck_assert_ptr_nonnull(strstr(f.fix, "move it to vfio-pci"));
    /* Found by the scan (it is detached): said as a note, since it may be kept off on purpose. */
    ck_assert(find(root, NULL, "not-detached", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_INFO);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* A mediated device (an mtty serial port: a virtual parent, group 2), named by its UUID or by
 * libvirt's name, or found through the map. */
#define MDEV "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define MDEV_TREE                                                                                 \
    INTEL_HOST "mdev-type mtty mtty-2 \"name=Dual port serial\" instances=4\n"                   \
               "mdev " MDEV " mtty mtty-2\n"

/* Run the doctor on mediated device @uuid; as find(). */
static bool find_mdev(const char *root, const char *uuid, const char *code, struct found *f)
{
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_findings *d;
    bool hit = false;

    ck_assert_int_eq(hd_doctor_run_mdev(ctx, uuid, &d), 0);
    for (size_t i = 0; i < hd_findings_count(d) && !hit; i++) {
        if (strcmp(hd_findings_get_code(d, i), code) != 0)
            continue;
        hit = true;
        f->severity = hd_findings_get_severity(d, i);
        f->remedy = hd_findings_get_remedy(d, i);
        snprintf(f->problem, sizeof(f->problem), "%s: %s", hd_findings_get_device(d, i),
                 hd_findings_get_message(d, i));
        snprintf(f->fix, sizeof(f->fix), "%s", hd_findings_get_fix(d, i));
    }
    hd_findings_unref(d);
    hd_ctx_unref(ctx);
    return hit;
}

static int acquire_mdev(const char *root, const char *vm, const char *uuid)
{
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_op *op;
    int r;

    ck_assert_int_eq(hd_op_new(ctx, HD_OP_ACQUIRE, &op), 0);
    hd_op_set_owner(op, 107, 108);
    ck_assert_int_eq(hd_op_set_vm(op, vm), 0);
    if ((r = hd_op_add_mdev(op, uuid)) == 0)
        r = hd_op_run(op);
    hd_op_unref(op);
    hd_ctx_unref(ctx);
    return r;
}

HD_TEST(mediated_device)
{
    char *root = ah_tree(MDEV_TREE), path[4096], node[32];
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_mdev_list *l;
    struct hd_findings *d;
    struct found f;

    ck_assert_int_eq(hd_mdev_list_new_uuid(ctx, MDEV, &l), 0);
    snprintf(node, sizeof(node), "dev/vfio/%d", hd_mdev_list_get_iommu_group(l, 0));
    hd_mdev_list_unref(l);
    hd_ctx_unref(ctx);

    /* Not assigned, root-only: the same note as for a PCI device, for its group's node. */
    ck_assert(find_mdev(root, MDEV, "vfio-permission", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_INFO);
    ck_assert_int_eq(f.remedy, HD_REMEDY_ACQUIRE);
    ck_assert_msg(strstr(f.problem, MDEV ": only ") != NULL &&
                      strstr(f.problem, node) != NULL, "%s", f.problem);
    ck_assert(find_mdev(root, "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001", "vfio-permission", &f));
    /* Neither there nor recorded: no such device, as for a USB or SCSI one; a word that is no
     * UUID is bad input. */
    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_doctor_run_mdev(ctx, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002", &d), -ENOENT);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_NO_DEVICE);
    ck_assert_int_eq(hd_doctor_run_mdev(ctx, "0000:03:00.0", &d), -EINVAL);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_INVALID);
    hd_ctx_unref(ctx);
    /* Assigned: nothing to say; the node taken back by hand is an error, also without a
     * device named (the map's mediated devices are checked as its PCI devices are). */
    ck_assert_int_eq(acquire_mdev(root, "vm1", MDEV), 0);
    ck_assert(!find_mdev(root, MDEV, "vfio-permission", &f));
    ck_assert(!find(root, NULL, "vfio-permission", &f));
    snprintf(path, sizeof(path), "%s/%s", root, node);
    ck_assert_int_eq(chmod(path, 0600), 0);
    if (geteuid() == 0)
        ck_assert_int_eq(chown(path, 0, 0), 0);
    ck_assert(find_mdev(root, MDEV, "vfio-permission", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_int_eq(f.remedy, HD_REMEDY_REACQUIRE);
    ck_assert_ptr_nonnull(strstr(f.problem, "vm vm1 runs as 107:108"));
    ck_assert(find(root, NULL, "vfio-permission", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_int_eq(f.remedy, HD_REMEDY_REACQUIRE);
    /* The node gone: not the PCI device's reattach-and-detach. */
    unlink(path);
    ck_assert(find(root, NULL, "vfio-node-missing", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_ptr_nonnull(strstr(f.fix, "create it again"));
    /* Its vendor driver let go of it: no device for VFIO. */
    snprintf(path, sizeof(path), "%s/sys/bus/mdev/devices/" MDEV "/driver", root);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert(find_mdev(root, MDEV, "mdev-no-driver", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_ptr_nonnull(strstr(f.problem, "(type mtty-2 of mtty) is bound to no mdev driver"));
    /* Removed while the map still gives it to the VM. */
    snprintf(path, sizeof(path), "rm -rf '%s/sys/bus/mdev/devices/" MDEV "'", root);
    ck_assert_int_eq(system(path), 0);
    ck_assert(find(root, NULL, "map-mismatch", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_RELEASE);
    ck_assert_int_eq(f.holder, 0);
    ck_assert_str_eq(f.holder_vm, "vm1");
    ck_assert_ptr_nonnull(strstr(f.problem, "no such mediated device"));
    ck_assert(find_mdev(root, MDEV, "map-mismatch", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_RELEASE);
    /* The remedy is one the engine takes: a release from its VM drops the record. */
    struct hd_op *op;
    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_op_new(ctx, HD_OP_RELEASE, &op), 0);
    ck_assert_int_eq(hd_op_set_vm(op, "vm1"), 0);
    ck_assert_int_eq(hd_op_add_mdev(op, MDEV), 0);
    ck_assert_int_eq(hd_op_run(op), 0);
    hd_op_unref(op);
    hd_ctx_unref(ctx);
    ck_assert(!find(root, NULL, "map-mismatch", &f));
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(bar_unassigned)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci") "cmdline root=/dev/sda1\n");
    struct found f;

    /* BARs 1 and 3 sized but left without an address by the firmware. */
    ah_write(root, "sys/bus/pci/devices/" DEV "/resource",
             "0x00000000fb000000 0x00000000fbffffff 0x0000000000040200\n"
             "0x0000000000000000 0x000000000fffffff 0x000000000014220c\n"
             "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
             "0x0000000000000000 0x000000000000007f 0x0000000020040101\n"
             "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
             "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
             "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
    ck_assert(find(root, DEV, "bar-unassigned", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_ptr_nonnull(strstr(f.problem, "BAR 1, 3 have no address"));
    ck_assert_ptr_nonnull(strstr(f.fix, "pci=realloc"));
    ah_write(root, "proc/cmdline", "root=/dev/sda1 pci=realloc\n");
    ck_assert(find(root, DEV, "bar-unassigned", &f));
    ck_assert_ptr_nonnull(strstr(f.fix, "Above 4G decoding"));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* Asked about a bridge or the host bridge: detach and acquire refuse them, so the doctor says
 * no VM can have it and offers no command, instead of advising a detach. */
HD_TEST(not_assignable)
{
    char *root = ah_tree(INTEL_HOST "driver pcieport builtin class=060400\n"
                         "driver e1000e ids=8086:10d3\n"
                         "device 0000:00:00.0 8086:591f class=060000 group=0\n"
                         "device 0000:00:1c.0 8086:a110 class=060400 driver=pcieport group=1 "
                         "secondary=03\n"
                         "device " DEV " 8086:10d3 class=020000 group=2 driver=e1000e\n");
    struct found f;

    ck_assert(find(root, "0000:00:1c.0", "not-assignable", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_ptr_nonnull(strstr(f.problem, "0000:00:1c.0 is a bridge (header type 1)"));
    ck_assert(!find(root, "0000:00:1c.0", "not-detached", &f));
    ck_assert(find(root, "0000:00:00.0", "not-assignable", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_ptr_nonnull(strstr(f.problem, "0000:00:00.0 is a host bridge: the host keeps it"));
    ck_assert(!find(root, "0000:00:00.0", "not-detached", &f));
    /* An endpoint on a host driver is still one to detach. */
    ck_assert(!find(root, DEV, "not-assignable", &f));
    ck_assert(find(root, DEV, "not-detached", &f));
    ah_tree_remove(root);
    free(root);
    /* The SMBus controller shares its group with the LPC bridge: only that the host keeps it is
     * said, not how to make the group viable for it. */
    root = ah_tree(INTEL_HOST "driver lpc_ich ids=8086:a145\ndriver i801_smbus ids=8086:a123\n"
                   "device 0000:00:1f.0 8086:a145 class=060100 group=9 driver=lpc_ich\n"
                   "device 0000:00:1f.4 8086:a123 class=0c0500 group=9 driver=i801_smbus\n");
    ck_assert(find(root, "0000:00:1f.4", "not-assignable", &f));
    ck_assert(!find(root, "0000:00:1f.4", "group-not-viable", &f));
    ah_tree_remove(root);
    free(root);
    /* An endpoint detached into that group: no acquire takes it (not even with the group, which
     * the host keeps part of), so its node's note advises none. */
    root = ah_tree(INTEL_HOST "driver lpc_ich ids=8086:a145\n"
                   "device 0000:00:1f.0 8086:a145 class=060100 group=9 driver=lpc_ich\n"
                   "device 0000:00:1f.2 8086:10d3 class=020000 group=9 driver=vfio-pci\n");
    ck_assert(find(root, "0000:00:1f.2", "vfio-permission", &f));
    ck_assert_int_eq(f.remedy, HD_REMEDY_NONE);
    ck_assert_ptr_nonnull(strstr(f.fix, "none while its IOMMU group is not viable"));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* An address with no device, recorded nowhere: no such device, as for a USB, SCSI or mediated
 * one (the tool's bad input). */
HD_TEST(no_such_device)
{
    char *root = ah_tree(ONE_DEVICE("vfio-pci"));
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_pci_addr a = ah_addr("0000:09:00.0");
    struct hd_findings *d;

    ck_assert_int_eq(hd_doctor_run(ctx, &a, &d), -ENODEV);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "0000:09:00.0: no such PCI device"));
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* A PCI device unplugged while the map gives it to a VM: the whole-host doctor said "no problems
 * found" (it checks the devices there), though the record is left; now it is the record's
 * finding, as for a mediated or USB device that is gone, with the release that drops it. */
HD_TEST(recorded_pci_device_gone)
{
    struct hd_pci_addr a = ah_addr("0000:03:00.0");
    struct hd_findings *d;
    struct eng e;
    bool found = false;

    eng_start(&e, "demo");
    ck_assert_int_eq(eng_run(&e, "acquire --vm vm1 --owner 107:108 03:00.0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "unplug 0000:03:00.0"), 0);
    ck_assert_int_eq(eng_run(&e, "doctor"), 1);
    ck_assert_msg(strstr(e.out, "error 0000:03:00.0: the assignment map gives 0000:03:00.0 to vm "
                                "vm1, but there is no such PCI device\n  now") != NULL,
                  "%s", e.out);
    ck_assert_msg(strstr(e.out, "run: hostdev release --vm vm1 0000:03:00.0\n") != NULL, "%s",
                  e.out);
    /* Asked of the address (it exited 2, no such device): the same finding and fix, exit 1. */
    ck_assert_int_eq(eng_run(&e, "doctor 03:00.0"), 1);
    ck_assert_msg(strstr(e.out, "run: hostdev release --vm vm1 0000:03:00.0\n") != NULL, "%s",
                  e.out);
    /* The library asked of the address: the same finding. */
    ck_assert_int_eq(hd_doctor_run(e.ctx, &a, &d), 0);
    for (size_t i = 0; i < hd_findings_count(d); i++)
        found = found || strcmp(hd_findings_get_code(d, i), "map-mismatch") == 0;
    hd_findings_unref(d);
    ck_assert(found);
    ck_assert_int_eq(eng_run(&e, "release --vm vm1 0000:03:00.0"), 0);
    ck_assert_int_eq(eng_run(&e, "doctor"), 0);
    ck_assert_int_eq(eng_run(&e, "doctor 03:00.0"), 2);
    ck_assert_ptr_nonnull(strstr(e.err, "0000:03:00.0: no such PCI device"));
    eng_stop(&e);
}
END_TEST

/* A GPU whose BAR the firmware's boot framebuffer still holds (/proc/iomem as root reads it). */
HD_TEST(boot_framebuffer_over_a_bar)
{
    char *root = ah_tree(INTEL_HOST "cmdline intel_iommu=on\n"
                      "device " DEV " 10de:1b81 class=030000 parent=root group=7 "
                      "driver=vfio-pci\n");
    struct found f;

    /* Where the firmware placed its BARs (the spec language does not place BARs). */
    ah_write(root, "sys/bus/pci/devices/" DEV "/resource",
             "0x00000000de000000 0x00000000deffffff 0x0000000000040200\n"
             "0x00000000c0000000 0x00000000cfffffff 0x000000000014220c\n");
    ah_write(root, "proc/iomem", "00000000-00000fff : Reserved\n"
                                 "c0000000-cfffffff : PCI Bus 0000:01\n"
                                 "  c0000000-c02fffff : BOOTFB\n");
    ck_assert(find(root, DEV, "boot-framebuffer", &f));
    ck_assert_int_eq(f.severity, HD_SEVERITY_WARNING);
    ck_assert_ptr_nonnull(strstr(f.problem, "the boot framebuffer BOOTFB"));
    ck_assert_ptr_nonnull(strstr(f.fix, "initcall_blacklist=sysfb_init"));
    /* Elsewhere, or as an unprivileged reader sees it (zeros): nothing to say. */
    ah_write(root, "proc/iomem", "  e0000000-e02fffff : efifb\n");
    ck_assert(!find(root, DEV, "boot-framebuffer", &f));
    ah_write(root, "proc/iomem", "  00000000-00000000 : BOOTFB\n");
    ck_assert(!find(root, DEV, "boot-framebuffer", &f));
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* The memlock check: what a VM of SIZE needs against the limit of the process or unit that
 * runs QEMU, from proc/PID/limits (and CAP_IPC_LOCK from proc/PID/status). */
static int memlock(const char *root, pid_t pid, const char *unit, uint64_t bytes, struct found *f)
{
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_findings *d;
    int r;

    memset(f, 0, sizeof(*f));
    ck_assert_int_eq(hd_doctor_run(ctx, NULL, &d), 0);
    r = hd_doctor_check_memlock(ctx, d, pid, unit, bytes);
    if (r < 0)
        snprintf(f->error, sizeof(f->error), "%s", hd_ctx_last_error(ctx));
    for (size_t i = 0; r == 0 && i < hd_findings_count(d); i++) {
        if (strncmp(hd_findings_get_code(d, i), "memlock-", 8) != 0)
            continue;
        f->severity = hd_findings_get_severity(d, i);
        snprintf(f->problem, sizeof(f->problem), "%s: %s", hd_findings_get_code(d, i),
                 hd_findings_get_message(d, i));
        snprintf(f->fix, sizeof(f->fix), "%s", hd_findings_get_fix(d, i));
        ck_assert_int_eq(hd_findings_get_severity(d, 0) >= f->severity, 1); /* worst first */
    }
    hd_findings_unref(d);
    hd_ctx_unref(ctx);
    return r;
}

static void limits(const char *root, const char *pid, const char *soft, const char *capeff)
{
    char rel[64], text[256];

    snprintf(rel, sizeof(rel), "proc/%s/limits", pid);
    snprintf(text, sizeof(text), "Limit                     Soft Limit           Hard Limit"
                                 "           Units\nMax locked memory         %-20s %-20s bytes\n",
             soft, soft);
    ah_write(root, rel, text);
    snprintf(rel, sizeof(rel), "proc/%s/status", pid);
    snprintf(text, sizeof(text), "Name:\tqemu\nCapEff:\t%s\n", capeff);
    ah_write(root, rel, text);
}

HD_TEST(memlock_below_what_vfio_pins)
{
    char *root = ah_tree("cpu GenuineIntel\niommu none\ncmdline intel_iommu=on\n");
    struct found f = {.severity = HD_SEVERITY_INFO};

    limits(root, "4242", "8388608", "0000000000000000");
    ck_assert_int_eq(memlock(root, 4242, NULL, 16ull << 30, &f), 0);
    ck_assert_int_eq(f.severity, HD_SEVERITY_ERROR);
    ck_assert_msg(strstr(f.problem, "memlock-too-low: process 4242 may lock only 8 MiB") != NULL,
                  "%s", f.problem);
    ck_assert_ptr_nonnull(strstr(f.problem, "VFIO_MAP_DMA"));
    ck_assert_ptr_nonnull(strstr(f.fix, "LimitMEMLOCK=infinity"));
    ck_assert_ptr_nonnull(strstr(f.fix, "17.0 GiB"));
    /* Enough, unlimited, or CAP_IPC_LOCK: fine. */
    limits(root, "4242", "19327352832", "0000000000000000");
    ck_assert_int_eq(memlock(root, 4242, NULL, 16ull << 30, &f), 0);
    ck_assert_int_eq(f.severity, HD_SEVERITY_INFO);
    limits(root, "4242", "unlimited", "0000000000000000");
    ck_assert_int_eq(memlock(root, 4242, NULL, 16ull << 30, &f), 0);
    ck_assert_ptr_nonnull(strstr(f.problem, "memlock-ok"));
    limits(root, "4242", "65536", "0000000000004000");
    ck_assert_int_eq(memlock(root, 4242, NULL, 16ull << 30, &f), 0);
    ck_assert_ptr_nonnull(strstr(f.problem, "CAP_IPC_LOCK"));
    /* A running unit: its first process. */
    limits(root, "77", "65536", "0");
    ah_write(root, "sys/fs/cgroup/system.slice/vm-web1.service/cgroup.procs", "77\n78\n");
    ck_assert_int_eq(memlock(root, 0, "vm-web1", 1ull << 30, &f), 0);
    ck_assert_ptr_nonnull(strstr(f.problem, "unit vm-web1 (pid 77) may lock only 0 MiB"));
    ck_assert_int_eq(memlock(root, 0, "gone", 1ull << 30, &f), -ENOENT);
    ck_assert_int_eq(memlock(root, 999, NULL, 1ull << 30, &f), -ENOENT);
    ck_assert_ptr_nonnull(strstr(f.error, "proc/999/limits: no such process"));
    /* The process is there but its file is not: not called a missing process. */
    ah_write(root, "proc/4243/status", "Name:\tqemu\n");
    ck_assert_int_eq(memlock(root, 4243, NULL, 1ull << 30, &f), -ENOENT);
    ck_assert_ptr_null(strstr(f.error, "no such process"));
    ck_assert_ptr_nonnull(strstr(f.error, "proc/4243/limits: No such file"));
    /* This process's own (proc/self), which nobody named: a tree without its limits (another
     * host's copy, a fake kernel) is no bad input; the check is said not done, with a note. */
    ck_assert_int_eq(memlock(root, 0, NULL, 1ull << 30, &f), 0);
    ck_assert_int_eq(f.severity, HD_SEVERITY_INFO);
    ck_assert_msg(strstr(f.problem, "memlock-unchecked: the locked-memory limit was not checked") !=
                      NULL && strstr(f.problem, "proc/self/limits is not there (the tree has no "
                                                "limits for this process)") != NULL,
                  "%s", f.problem);
    ck_assert_ptr_nonnull(strstr(f.fix, "the process that will run QEMU"));
    char self[4096];
    snprintf(self, sizeof(self), "rm -rf '%s/proc/self'", root);
    ck_assert_int_eq(system(self), 0);
    ck_assert_int_eq(memlock(root, 0, NULL, 1ull << 30, &f), 0);
    ck_assert_msg(strstr(f.problem, "memlock-unchecked") != NULL &&
                      strstr(f.problem, "the tree has no proc/self") != NULL,
                  "%s", f.problem);
    ah_tree_remove(root);
    free(root);
}
END_TEST
