/* test-assign.c - assignments over plain temporary trees: VM ids and owners, the map and the
 * intent log, locks, unmanaged acquire/release, recover after a crash, and the race. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "assign-helpers.h"
#include "internal.h"
#include "hdtest.h"
#include "tmptree.h"

#define DEV "0000:03:00.0"
#define DEV2 "0000:03:00.1"

/* The kernel of the tests with devices: an Intel IOMMU and the drivers they bind, as plain
 * files (nothing happens on a write, so the tests see only what assign itself does); NIC()
 * adds a function of 8086:10d3 in group 7, bound to @driver. */
#define KERNEL                                                                                   \
    "iommu intel\n"                                                                              \
    "driver e1000e ids=8086:10d3\n"                                                              \
    "driver snd_hda_intel\n"                                                                     \
    "driver vfio-pci module=vfio_pci stub vfio\n"
#define NIC(bdf, driver)                                                                         \
    "device " bdf " 8086:10d3 class=020000 subsys=8086:a01f parent=root group=7 driver=" driver "\n"

static uid_t vm_uid(void)
{
    return geteuid() == 0 ? 107 : getuid();
}

static gid_t vm_gid(void)
{
    return geteuid() == 0 ? 108 : getgid();
}

HD_TEST_GROUP(race, .timeout = 300);

HD_TEST(vm_ids)
{
    char longid[200];

    ck_assert(hd_vm_id_valid("web1"));
    ck_assert(hd_vm_id_valid("6f1b7a4e-3c1d-4e2a-9a7b-1f2e3d4c5b6a"));
    ck_assert(hd_vm_id_valid("vm.prod_2:a@b-c"));
    ck_assert(!hd_vm_id_valid(""));
    ck_assert(!hd_vm_id_valid(NULL));
    ck_assert(!hd_vm_id_valid(".."));
    ck_assert(!hd_vm_id_valid("a b"));
    ck_assert(!hd_vm_id_valid("a/b"));
    ck_assert(!hd_vm_id_valid("a\nb"));
    ck_assert(!hd_vm_id_valid("vm=1"));
    memset(longid, 'a', 128);
    longid[128] = '\0';
    ck_assert(hd_vm_id_valid(longid));
    longid[128] = 'a';
    longid[129] = '\0';
    ck_assert(!hd_vm_id_valid(longid));
}
END_TEST

HD_TEST(owners_resolve_from_the_root_first)
{
    char *root = ah_tree("file etc/passwd \"root:x:0:0:root:/root:/bin/sh\\n"
                         "qemu:x:107:107:QEMU:/:/usr/sbin/nologin\\n\"\n"
                         "file etc/group \"root:x:0:\\nqemu:x:107:\\nkvm:x:108:qemu\\n\"\n");
    struct hd_ctx *ctx;
    uid_t u;
    gid_t g;

    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_owner_parse(ctx, "qemu", &u, &g), 0);
    ck_assert_uint_eq(u, 107);
    ck_assert_uint_eq(g, 107);
    ck_assert_int_eq(hd_owner_parse(ctx, "qemu:kvm", &u, &g), 0);
    ck_assert_uint_eq(u, 107);
    ck_assert_uint_eq(g, 108);
    /* A number finds its primary group in the root's database too (a user the host lacks). */
    ck_assert_int_eq(hd_owner_parse(ctx, "107", &u, &g), 0);
    ck_assert_uint_eq(u, 107);
    ck_assert_uint_eq(g, 107);
    ck_assert_int_eq(hd_owner_parse(ctx, "1000:2000", &u, &g), 0);
    ck_assert_uint_eq(u, 1000);
    ck_assert_uint_eq(g, 2000);
    ck_assert_int_eq(hd_owner_parse(ctx, ":kvm", &u, &g), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_uint_eq(g, 108);
    ck_assert_int_eq(hd_owner_parse(ctx, "nosuchuser-xyz", &u, &g), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "nosuchuser-xyz"));
    ck_assert_int_eq(hd_owner_parse(ctx, "qemu:nosuchgroup-xyz", &u, &g), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "nosuchgroup-xyz"));
    ck_assert_int_eq(hd_owner_parse(ctx, "", &u, &g), -EINVAL);
    ck_assert_int_eq(hd_owner_parse(ctx, "a:b:c", &u, &g), -EINVAL);
    ck_assert_int_eq(hd_owner_parse(ctx, "-rf", &u, &g), -EINVAL);
    ck_assert_int_eq(hd_owner_default(ctx, &u, &g), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_uint_eq(g, 107);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

#define MAP_FILE "run/hostdev/map/assignments"

/* @text as the map file of @root, read back as every operation reads it. */
static int map_of_text(struct hd_ctx *ctx, const char *root, const char *text,
                       struct hd_assignment_list **l)
{
    ah_write(root, MAP_FILE, text);
    return hd_map_read(ctx, l);
}

/* @list as the map file of @root holds it (malloc'd). */
static char *text_of_map(struct hd_ctx *ctx, const char *root,
                         const struct hd_assignment_list *list)
{
    ck_assert_int_eq(hd_map_write(ctx, list), 0);
    return ah_read(root, MAP_FILE);
}

HD_TEST(map_round_trip)
{
    char *root = ah_tree(""), *text;
    struct hd_assignment_list *list = hd_map_new(), *back;
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_assignment a;

    memset(&a, 0, sizeof(a));
    a.addr = ah_addr(DEV);
    strcpy(a.name, DEV);
    strcpy(a.vm, "6f1b7a4e-3c1d-4e2a-9a7b-1f2e3d4c5b6a");
    a.managed = a.detached = true;
    strcpy(a.driver, "e1000e");
    a.group = 12;
    a.since = 1763712000;
    a.uid = 0;
    a.gid = 107;
    strcpy(a.nodes[0].path, "dev/vfio/12");
    a.nodes[0].mode = 0600;
    strcpy(a.nodes[1].path, "dev/iommu");
    a.nodes[1].mode = 0666;
    a.nnodes = 2;
    ck_assert_int_eq(hd_map_add(list, &a), 0);
    a.addr = ah_addr(DEV2);
    strcpy(a.name, DEV2);
    a.managed = a.detached = false;
    a.via_group = true;
    a.driver[0] = '\0';
    a.nnodes = 0;
    ck_assert_int_eq(hd_map_add(list, &a), 0);
    text = text_of_map(ctx, root, list);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(map_of_text(ctx, root, text, &back), 0);
    ck_assert_uint_eq(hd_assignment_list_count(back), 2);
    const struct hd_assignment *a0 = hd_map_at(back, 0), *a1 = hd_map_at(back, 1);
    ck_assert_str_eq(a0->vm, "6f1b7a4e-3c1d-4e2a-9a7b-1f2e3d4c5b6a");
    ck_assert(a0->managed && a0->detached && !a0->via_group);
    ck_assert_str_eq(a0->driver, "e1000e");
    ck_assert_int_eq(a0->group, 12);
    ck_assert_int_eq(a0->since, 1763712000);
    ck_assert_uint_eq(a0->gid, 107);
    ck_assert_uint_eq(a0->nnodes, 2);
    ck_assert_str_eq(a0->nodes[1].path, "dev/iommu");
    ck_assert_uint_eq(a0->nodes[1].mode, 0666);
    ck_assert(!a1->managed && a1->via_group && a1->nnodes == 0);
    ck_assert_ptr_null(hd_assignment_get_driver(a1));
    free(text);
    hd_assignment_list_unref(back);
    hd_assignment_list_unref(list);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* The map checks itself: anything it did not write, or that lost or changed a line since,
 * is damage (reason state-damaged), never a smaller map. */
HD_TEST(map_rejects_what_it_did_not_write)
{
    static const char *const bad[] = {
        "",                                                   /* empty */
        "0000:03:00.0 vm=a mode=managed\n",                   /* no header */
        "# hostdev assignments v9\n# end 0 0\n",              /* a format we do not know */
        "# hostdev assignments v1\n0000:03:00.0 mode=managed\n", /* no vm */
        "# hostdev assignments v1\n0000:03:00.0 vm=a b=c\n0000:03:00.0 vm=b\n", /* twice */
        "# hostdev assignments v1\n0000:03:00.0 vm=a/b\n",     /* bad vm */
        "# hostdev assignments v1\n0000:03:00.0 vm=a nodes=/etc/shadow@0:0:0600\n",
        "# hostdev assignments v1\n0000:03:00.0 vm=a nodes=dev/../etc@0:0:0600\n",
        "# hostdev assignments v1\n0000:03:00.0 vm=a nodes=dev/fd/0/victim@0:0:0600\n",
        "# hostdev assignments v1\n0000:03:00.0 vm=a nodes=dev/sda@0:0:0600\n",
        "# hostdev assignments v1\n0000:03:00.0 vm=a nodes=dev/vfio/7x@0:0:0600\n",
        "# hostdev assignments v1\n0000:03:00.0 vm=a mode=sometimes\n",
        "# hostdev assignments v1\nnonsense\n",
    };
    char *root = ah_tree(""), *text, *cut;
    struct hd_assignment_list *list = hd_map_new(), *l;
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_assignment a;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(map_of_text(ctx, root, bad[i], &l) == -EBADMSG, "accepted: %s", bad[i]);
        ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_STATE_DAMAGED);
    }
    /* A version 2 map of two lines, then each way of losing part of it. */
    memset(&a, 0, sizeof(a));
    for (int k = 0; k < 2; k++) {
        a.addr = ah_addr(k ? DEV2 : DEV);
        strcpy(a.name, k ? DEV2 : DEV);
        strcpy(a.vm, "vm1");
        ck_assert_int_eq(hd_map_add(list, &a), 0);
    }
    text = text_of_map(ctx, root, list);
    ck_assert_int_eq(map_of_text(ctx, root, text, &l), 0);
    ck_assert_uint_eq(hd_assignment_list_count(l), 2);
    hd_assignment_list_unref(l);
    /* Cut anywhere: in the middle of a line, before the end line, or within it. */
    for (size_t len = 1; len < strlen(text); len += 7) {
        cut = strndup(text, len);
        ck_assert_msg(map_of_text(ctx, root, cut, &l) == -EBADMSG, "cut at %zu accepted", len);
        free(cut);
    }
    /* A line lost: the count and the checksum say so. */
    cut = strdup(text);
    char *second = strstr(cut, DEV2);
    memmove(second, strchr(second, '\n') + 1, strlen(strchr(second, '\n') + 1) + 1);
    ck_assert_int_eq(map_of_text(ctx, root, cut, &l), -EBADMSG);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "number of lines"));
    free(cut);
    /* An edited field. */
    cut = strdup(text);
    strstr(cut, "vm=vm1")[5] = '2';
    ck_assert_int_eq(map_of_text(ctx, root, cut, &l), -EBADMSG);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "checksum"));
    free(cut);
    free(text);
    hd_assignment_list_unref(list);
    /* Version 1 maps (no end line) are still read; unknown keys come from a newer hostdev. */
    ck_assert_int_eq(map_of_text(ctx, root, "# hostdev assignments v1\n\n0000:03:00.0 vm=a "
                                 "future=1\n", &l), 0);
    ck_assert_uint_eq(hd_assignment_list_count(l), 1);
    hd_assignment_list_unref(l);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(map_write_is_atomic)
{
    char *root = ah_tree(""), *text;
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_assignment_list *l = hd_map_new(), *back;
    struct hd_assignment a = {.group = 3};

    a.addr = ah_addr(DEV);
    strcpy(a.name, DEV);
    strcpy(a.vm, "vm1");
    ck_assert_int_eq(hd_map_add(l, &a), 0);
    ck_assert_int_eq(hd_map_write(ctx, l), 0);
    ck_assert(!ah_exists(root, "run/hostdev/map/assignments.tmp"));
    text = ah_read(root, "run/hostdev/map/assignments");
    ck_assert_ptr_nonnull(strstr(text, "0000:03:00.0 vm=vm1 "));
    free(text);
    ck_assert_int_eq(hd_map_read(ctx, &back), 0);
    ck_assert_uint_eq(hd_assignment_list_count(back), 1);
    ck_assert_str_eq(hd_assignment_get_vm(hd_assignment_list_get(back, 0)), "vm1");
    hd_assignment_list_unref(back);
    hd_assignment_list_unref(l);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* A temporary journal is left when its process is killed between making it and renaming it.
 * Young, it is left alone while its creator may still be in that gap; once the creator is
 * gone it goes at once, not a minute later (the VM suite's kill at 2 ms saw one stay). */
HD_TEST(young_tmp_journal_of_a_dead_creator_goes)
{
    char *root = ah_tree(""), rel[128], **names;
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_journal *j;
    unsigned int count = 0;
    size_t n;
    int status;

    fflush(NULL);
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(dead, &status, 0), dead);
    snprintf(rel, sizeof(rel), "run/hostdev/journal/release-%ld-1796351852346163696.tmp",
             (long)dead);
    ah_write(root, rel, "hostdev-journal 2 release vm-k\n");
    snprintf(rel, sizeof(rel), "run/hostdev/journal/release-%ld-1796351852346163697.tmp",
             (long)getpid());
    ah_write(root, rel, "hostdev-journal 2 release vm-k\n");
    ck_assert_int_eq(hd_journal_claim(ctx, "release-1-x.tmp", &j), -ENOENT);
    ck_assert_int_eq(hd_assign_recover(ctx, &count), 0);
    ck_assert_int_eq(hd_journal_list(ctx, &names, &n), 0);
    ck_assert_uint_eq(n, 1); /* ours (alive, young) stays */
    ck_assert_ptr_nonnull(strstr(names[0], "-1796351852346163697.tmp"));
    hd_strv_free(names, n);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* The one journal there, @j's, claimed as recover claims it once its writer is dead. */
static struct hd_journal *claim_dead(struct hd_ctx *ctx, struct hd_journal *j)
{
    struct hd_journal *claimed;
    char **names;
    size_t n;

    ck_assert_int_eq(hd_journal_list(ctx, &names, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_null(strstr(names[0], ".tmp"));
    /* Alive (we hold it): recover must leave it alone. */
    ck_assert_int_eq(hd_journal_claim(ctx, names[0], &claimed), -EBUSY);
    hd_journal_close(j); /* as if we died */
    ck_assert_int_eq(hd_journal_claim(ctx, names[0], &claimed), 0);
    hd_strv_free(names, n);
    return claimed;
}

HD_TEST(journal_lines_are_durable_and_parse_back)
{
    char *root = ah_tree(""), **names;
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_jdev devs[2] = {{.group = 7}, {.group = 8}};
    struct hd_jstep s = {.kind = HD_JSTEP_DETACH, .from = "e1000e", .to = "vfio-pci",
                         .record = HD_JREC_NONE};
    struct hd_journal *j, *claimed;
    size_t n, ndevs, nsteps;

    devs[0].addr = ah_addr(DEV);
    devs[1].addr = ah_addr(DEV2);
    ck_assert_int_eq(hd_journal_begin(ctx, HD_JOP_ACQUIRE, "vm1", devs, 2, &j), 0);
    s.addr = devs[0].addr;
    ck_assert_int_eq(hd_journal_defer(ctx, j, &s), 0);
    ck_assert_int_eq(hd_journal_flush(ctx, j), 0);
    s.kind = HD_JSTEP_OWN;
    strcpy(s.node.path, "dev/vfio/7");
    s.node.mode = 0600;
    ck_assert_int_eq(hd_journal_defer(ctx, j, &s), 0);
    ck_assert_int_eq(hd_journal_flush(ctx, j), 0);
    claimed = claim_dead(ctx, j);
    ck_assert_int_eq(hd_journal_op(claimed), HD_JOP_ACQUIRE);
    ck_assert_str_eq(hd_journal_vm(claimed), "vm1");
    const struct hd_jdev *cdevs = hd_journal_devs(claimed, &ndevs);
    ck_assert_uint_eq(ndevs, 2);
    ck_assert_int_eq(cdevs[1].group, 8);
    const struct hd_jstep *steps = hd_journal_steps(claimed, &nsteps);
    ck_assert_uint_eq(nsteps, 2);
    ck_assert_int_eq(steps[0].kind, HD_JSTEP_DETACH);
    ck_assert_str_eq(steps[1].node.path, "dev/vfio/7");
    ck_assert_uint_eq(steps[1].node.mode, 0600);
    ck_assert(steps[0].from_known);
    ck_assert_str_eq(steps[0].from, "e1000e");
    ck_assert_str_eq(steps[0].to, "vfio-pci");
    ck_assert_int_eq(steps[0].record, HD_JREC_NONE);
    hd_journal_end(ctx, claimed);
    ck_assert_int_eq(hd_journal_list(ctx, &names, &n), 0);
    ck_assert_uint_eq(n, 0);
    hd_strv_free(names, n);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* A reattach line carries the record it used whole, its override line too (after a '/'), so
 * that an undo writes back the record as it was; a record without one reads back without. */
HD_TEST(journal_keeps_the_override_line_of_a_record)
{
    char *root = ah_tree("");
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_jdev devs[1] = {{.group = 7}};
    struct hd_jstep s = {.kind = HD_JSTEP_REATTACH, .from = "vfio-pci", .from_known = true,
                         .record = HD_JREC_DRIVER, .record_driver = "pci-stub",
                         .record_override = "pci-stub"};
    struct hd_journal *j, *claimed;
    size_t nsteps;

    devs[0].addr = ah_addr(DEV);
    s.addr = devs[0].addr;
    ck_assert_int_eq(hd_journal_begin(ctx, HD_JOP_REATTACH, NULL, devs, 1, &j), 0);
    ck_assert_int_eq(hd_journal_defer(ctx, j, &s), 0);
    strcpy(s.record_driver, "");
    strcpy(s.record_override, "e1000e");
    ck_assert_int_eq(hd_journal_defer(ctx, j, &s), 0);
    strcpy(s.record_driver, "e1000e");
    strcpy(s.record_override, "");
    ck_assert_int_eq(hd_journal_defer(ctx, j, &s), 0);
    ck_assert_int_eq(hd_journal_flush(ctx, j), 0);
    claimed = claim_dead(ctx, j);
    const struct hd_jstep *steps = hd_journal_steps(claimed, &nsteps);
    ck_assert_uint_eq(nsteps, 3);
    ck_assert_int_eq(steps[0].record, HD_JREC_DRIVER);
    ck_assert_str_eq(steps[0].record_driver, "pci-stub");
    ck_assert_str_eq(steps[0].record_override, "pci-stub");
    ck_assert_str_eq(steps[1].record_driver, "");
    ck_assert_str_eq(steps[1].record_override, "e1000e");
    ck_assert_str_eq(steps[2].record_driver, "e1000e");
    ck_assert_str_eq(steps[2].record_override, "");
    hd_journal_end(ctx, claimed);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* Write @text as journal NAME in @root's state and read it back as recover does. */
static int peek_text(struct hd_ctx *ctx, const char *root, const char *text,
                     struct hd_journal **j)
{
    ah_write(root, "run/hostdev/journal/detach-1-1", text);
    return hd_journal_peek(ctx, "detach-1-1", j);
}

HD_TEST(journal_torn_last_line_is_dropped)
{
    char *root = ah_tree("");
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_journal *j;
    size_t nsteps;

    ck_assert_int_eq(peek_text(ctx, root, "hostdev-journal 1 release vm-2\ndev 0000:03:00.0 7\n"
                                          "reset 0000:03:00.0\nreattach 0000:03:0",
                               &j),
                     0);
    ck_assert_int_eq(hd_journal_op(j), HD_JOP_RELEASE);
    hd_journal_steps(j, &nsteps);
    ck_assert_uint_eq(nsteps, 1);
    hd_journal_close(j);
    ck_assert_int_eq(peek_text(ctx, root, "hostdev-journal 1 acquire vm\nbogus line\n", &j),
                     -EBADMSG);
    ck_assert_int_eq(peek_text(ctx, root, "hostdev-journal 1 acquire vm\nown /etc/x 0 0 0\n",
                               &j),
                     -EBADMSG);
    /* Version 2: any operation, the driver a device came from, its record, a commit line;
     * special mode bits are never taken from a journal. */
    ck_assert_int_eq(peek_text(ctx, root, "hostdev-journal 2 detach\ndev 0000:03:00.0 7\n"
                                          "detach 0000:03:00.0 - vfio-pci norec\ncommit\n", &j),
                     0);
    ck_assert_int_eq(hd_journal_op(j), HD_JOP_DETACH);
    ck_assert_str_eq(hd_journal_vm(j), "");
    ck_assert(hd_journal_is_committed(j));
    ck_assert_str_eq(hd_journal_steps(j, &nsteps)[0].from, "");
    hd_journal_close(j);
    ck_assert_int_eq(peek_text(ctx, root, "hostdev-journal 2 acquire vm\n"
                                          "own dev/vfio/7 0 0 4777\n", &j),
                     -EBADMSG);
    /* dev/fd/0 is a magic link (dev/fd/3 the root itself): only a VM's node kinds. */
    ck_assert_int_eq(peek_text(ctx, root, "hostdev-journal 2 acquire vm\n"
                                          "own dev/fd/0/victim 4242 4242 0777\n", &j),
                     -EBADMSG);
    /* The record a commit drops: a PF's autoprobe record by its address, nothing else. */
    const char *dir, *name;
    ck_assert_int_eq(peek_text(ctx, root, "hostdev-journal 2 numvfs\ndev 0000:03:00.1 7\n"
                                          "numvfs 0000:03:00.1 2 0\ndrop autoprobe 03:00.1\n"
                                          "commit\n", &j),
                     0);
    ck_assert(hd_journal_drop(j, &dir, &name));
    ck_assert_str_eq(dir, "autoprobe");
    ck_assert_str_eq(name, "0000:03:00.1");
    hd_journal_close(j);
    static const char *const bad_drops[] = {"drop drivers 0000:03:00.1\n",
                                            "drop autoprobe ../map\n", "drop autoprobe\n"};
    for (size_t i = 0; i < 3; i++) {
        char text[128];
        snprintf(text, sizeof(text), "hostdev-journal 2 numvfs\n%s", bad_drops[i]);
        ck_assert_msg(peek_text(ctx, root, text, &j) == -EBADMSG, "%s accepted", bad_drops[i]);
    }
    for (size_t i = 0; i < 6; i++) {
        static const char *const ok[] = {"dev/vfio/7", "dev/vfio/devices/vfio0", "dev/iommu",
                                         "dev/bus/usb/001/004", "dev/sg2", "dev/vfio/123"};
        ck_assert_msg(hd_node_path_valid(ok[i]), "%s refused", ok[i]);
    }
    static const char *const bad_nodes[] = {"dev/vfio/vfio", "dev/bus/usb/1/4", "dev/sgx",
                                            "dev/vfio/devices/x", "dev/null", "etc/shadow"};
    for (size_t i = 0; i < 6; i++)
        ck_assert_msg(!hd_node_path_valid(bad_nodes[i]), "%s accepted", bad_nodes[i]);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(group_locks_exclude_other_processes)
{
    char *root = ah_tree("");
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_lockset *set;
    int groups[] = {9, 3, 9}, pipefd[2];
    pid_t pid;
    char c;

    ck_assert_int_eq(pipe(pipefd), 0);
    pid = fork();
    if (pid == 0) {
        struct hd_lockset *held;
        if (hd_lock_groups(ctx, &groups[1], 1, &held, NULL) < 0)
            _exit(1);
        if (write(pipefd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
    hd_ctx_set_timeout_ms(ctx, 50);
    ck_assert_int_eq(hd_lock_groups(ctx, groups, 3, &set, NULL), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "group 3"));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* Its lock died with it. */
    ck_assert_int_eq(hd_lock_groups(ctx, groups, 3, &set, NULL), 0);
    ck_assert(hd_lockset_holds(set, 3) && hd_lockset_holds(set, 9) && !hd_lockset_holds(set, 4));
    hd_lockset_release(set);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(unmanaged_acquire_and_release)
{
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci")), *map;
    struct hd_ctx *ctx;
    struct hd_pci_addr a = ah_addr(DEV);
    struct hd_assignment_list *l;
    const struct hd_assignment *as;
    uid_t u;
    gid_t g;

    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, vm_uid(), vm_gid(),
                                       HD_ACQUIRE_UNMANAGED), 0);
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", &u, &g), 0660);
    ck_assert_uint_eq(u, vm_uid());
    ck_assert_uint_eq(g, vm_gid());
    ck_assert_int_eq(hd_assignment_list_new(ctx, &l), 0);
    ck_assert_uint_eq(hd_assignment_list_count(l), 1);
    as = hd_assignment_list_find(l, &a);
    ck_assert_ptr_nonnull(as);
    ck_assert_str_eq(hd_assignment_get_vm(as), "vm1");
    ck_assert(!hd_assignment_is_managed(as));
    ck_assert_int_eq(hd_assignment_get_iommu_group(as), 7);
    ck_assert_uint_eq(hd_assignment_get_gid(as), vm_gid());
    hd_assignment_list_unref(l);
    /* Another VM cannot have it; the same one is told it has it already. */
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm2", &a, 1, 0, 0, HD_ACQUIRE_UNMANAGED), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "assigned to vm vm1"));
    /* Releasing for the wrong VM changes nothing: refused as held, naming the VM. */
    ck_assert_int_eq(hd_assign_release(ctx, "vm2", &a, 1), -EPERM);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_HELD);
    ck_assert_str_eq(hd_ctx_last_error(ctx), DEV " is assigned to vm vm1, not vm2");
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", NULL, NULL), 0660);
    ck_assert_int_eq(hd_assign_release(ctx, "vm1", NULL, 0), 0);
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", &u, &g), 0600);
    ck_assert_uint_eq(u, geteuid());
    map = ah_read(root, "run/hostdev/map/assignments");
    ck_assert_ptr_null(strstr(map, DEV));
    free(map);
    /* Released again, by address (a retry): done, nothing written; no such device: bad input. */
    ck_assert_int_eq(hd_assign_release(ctx, "vm1", &a, 1), 0);
    map = ah_read(root, "run/hostdev/map/assignments");
    ck_assert_ptr_null(strstr(map, DEV));
    free(map);
    struct hd_pci_addr none = ah_addr("0000:09:00.0");
    ck_assert_int_eq(hd_assign_release(ctx, "vm1", &none, 1), -ENODEV);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_NO_DEVICE);
    /* Releasing a VM that holds nothing is an error naming it (a typo must not pass). */
    ck_assert_int_eq(hd_assign_release(ctx, "vm1", NULL, 0), -ENOENT);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_NOT_ASSIGNED);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "vm vm1 holds no device"));
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* Acquire @addrs (unmanaged unless @managed) for @vm and @uid:@gid; the result, with the
 * steps "ACTION DEVICE STATE;..." in @steps. */
static int acquire_steps(struct hd_ctx *ctx, const char *vm, const struct hd_pci_addr *addrs,
                         size_t n, bool managed, uid_t uid, gid_t gid, unsigned int flags,
                         char *steps, size_t size)
{
    static const char *const states[] = {"planned", "done", "undone", "deferred", "failed"};
    struct hd_op *op;
    size_t len = 0;
    int r;

    ck_assert_int_eq(hd_op_new(ctx, HD_OP_ACQUIRE, &op), 0);
    hd_op_set_flags(op, flags);
    hd_op_set_owner(op, uid, gid);
    ck_assert_int_eq(hd_op_set_vm(op, vm), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(hd_op_add_device(op, &addrs[i], managed), 0);
    r = hd_op_run(op);
    steps[0] = '\0';
    for (size_t i = 0; r == 0 && i < hd_op_get_step_count(op); i++)
        len += (size_t)snprintf(steps + len, size - len, "%s %s %s;",
                                hd_op_step_get_action(op, i), hd_op_step_get_device(op, i),
                                states[hd_op_step_get_state(op, i)]);
    hd_op_unref(op);
    return r;
}

static ino_t map_inode(const char *root)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/" MAP_FILE, root);
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_ino;
}

/* An orchestrator retries (KubeVirt, Nova, a unit restarted): an acquire that asks for what
 * the VM holds, as the kernel still shows it, is done, nothing written; asked otherwise, or
 * with the kernel no longer as recorded, it is refused as before. */
HD_TEST(acquire_again_as_asked_is_done)
{
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci")
                         "device 0000:04:00.0 8086:10d3 class=020000 subsys=8086:a01f "
                         "parent=root group=8 driver=vfio-pci\n");
    struct hd_ctx *ctx = ah_ctx(root);
    struct hd_pci_addr a[2] = {ah_addr(DEV), ah_addr("0000:04:00.0")};
    char steps[512], *map, *now;
    ino_t ino;

    ck_assert_int_eq(acquire_steps(ctx, "vm1", a, 1, false, vm_uid(), vm_gid(), 0, steps,
                                   sizeof(steps)), 0);
    map = ah_read(root, MAP_FILE);
    ino = map_inode(root);
    for (int dry = 0; dry < 2; dry++) {
        ck_assert_int_eq(acquire_steps(ctx, "vm1", a, 1, false, vm_uid(), vm_gid(),
                                       dry ? HD_OP_DRY_RUN : 0, steps, sizeof(steps)), 0);
        ck_assert_str_eq(steps, "already " DEV " done;");
        ck_assert_uint_eq(map_inode(root), ino); /* not even rewritten */
    }
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", NULL, NULL), 0660);
    /* No owner asked for (hd_op_set_owner() not called): whatever it has is as asked. */
    struct hd_op *op;
    ck_assert_int_eq(hd_op_new(ctx, HD_OP_ACQUIRE, &op), 0);
    ck_assert_int_eq(hd_op_set_vm(op, "vm1"), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a[0], false), 0);
    ck_assert_int_eq(hd_op_run(op), 0);
    ck_assert_uint_eq(hd_op_get_step_count(op), 1);
    ck_assert_str_eq(hd_op_step_get_action(op, 0), "already");
    hd_op_unref(op);
    ck_assert_uint_eq(map_inode(root), ino);
    /* No mode asked for (hd_op_add_device_default()): held unmanaged is as asked. */
    ck_assert_int_eq(hd_op_new(ctx, HD_OP_ACQUIRE, &op), 0);
    ck_assert_int_eq(hd_op_set_vm(op, "vm1"), 0);
    hd_op_set_owner(op, vm_uid(), vm_gid());
    ck_assert_int_eq(hd_op_add_device_default(op, &a[0]), 0);
    ck_assert_int_eq(hd_op_add_device_default(op, &a[0]), -EINVAL); /* given twice */
    ck_assert_int_eq(hd_op_run(op), 0);
    ck_assert_uint_eq(hd_op_get_step_count(op), 1);
    ck_assert_str_eq(hd_op_step_get_action(op, 0), "already");
    hd_op_unref(op);
    ck_assert_uint_eq(map_inode(root), ino);
    /* Asked otherwise: refused naming what differs, nothing changed. */
    ck_assert_int_eq(acquire_steps(ctx, "vm1", a, 1, false, vm_uid() + 1, vm_gid(), 0, steps,
                                   sizeof(steps)), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_HELD);
    snprintf(steps, sizeof(steps), "with owner %u:%u, not %u:%u: release it first",
             (unsigned)vm_uid(), (unsigned)vm_gid(), (unsigned)vm_uid() + 1, (unsigned)vm_gid());
    ck_assert_msg(strstr(hd_ctx_last_error(ctx), steps) != NULL, "%s", hd_ctx_last_error(ctx));
    ck_assert_int_eq(acquire_steps(ctx, "vm1", a, 1, true, vm_uid(), vm_gid(), 0, steps,
                                   sizeof(steps)), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "vm vm1 unmanaged, not managed"));
    ck_assert_int_eq(acquire_steps(ctx, "vm2", a, 1, false, vm_uid(), vm_gid(), 0, steps,
                                   sizeof(steps)), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "vm vm1: release it there first"));
    ck_assert_uint_eq(map_inode(root), ino);
    /* What it holds and a new device: one transaction, the held one reported as such. */
    ck_assert_int_eq(acquire_steps(ctx, "vm1", a, 2, false, vm_uid(), vm_gid(), 0, steps,
                                   sizeof(steps)), 0);
    ck_assert_ptr_nonnull(strstr(steps, "already " DEV " done;"));
    ck_assert_ptr_nonnull(strstr(steps, "record 0000:04:00.0 done;"));
    ck_assert_ptr_null(strstr(steps, "own dev/vfio/7"));
    now = ah_read(root, MAP_FILE);
    ck_assert_ptr_nonnull(strstr(now, "\n0000:04:00.0 vm=vm1 "));
    *strchr(strstr(map, "\n" DEV " vm=vm1 ") + 1, '\n') = '\0';
    ck_assert_ptr_nonnull(strstr(now, strstr(map, "\n" DEV))); /* its entry as it was */
    free(now);
    /* The kernel no longer as recorded (its group's node given back by hand): not done, the
     * refusal of a device held. */
    char node[4096];
    snprintf(node, sizeof(node), "%s/dev/vfio/7", root);
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(node, 0, 0), 0);
        ck_assert_int_eq(acquire_steps(ctx, "vm1", a, 1, false, vm_uid(), vm_gid(), 0, steps,
                                       sizeof(steps)), -EBUSY);
        snprintf(steps, sizeof(steps), DEV " is recorded as assigned to vm vm1, but dev/vfio/7 "
                 "is 0:0's, not %u:%u's: the record and the kernel disagree",
                 (unsigned)vm_uid(), (unsigned)vm_gid());
        ck_assert_str_eq(hd_ctx_last_error(ctx), steps);
        ck_assert_int_eq(chown(node, vm_uid(), vm_gid()), 0);
    }
    /* Nor on vfio-pci any more. */
    char *uevent = ah_read(root, "sys/bus/pci/devices/" DEV "/uevent"), *drv, *bound;
    ck_assert_ptr_nonnull(drv = strstr(uevent, "DRIVER=vfio-pci\n"));
    *drv = '\0';
    ck_assert_int_gt(asprintf(&bound, "%sDRIVER=e1000e\n%s", uevent,
                              drv + strlen("DRIVER=vfio-pci\n")), 0);
    ah_write(root, "sys/bus/pci/devices/" DEV "/uevent", bound);
    ah_symlink(root, "sys/bus/pci/devices/" DEV "/driver", "../../../bus/pci/drivers/e1000e");
    /* ... and its vfio device gone with vfio-pci, as the kernel's unbind removes it. */
    snprintf(node, sizeof(node), "%s/sys/bus/pci/devices/" DEV "/vfio-dev", root);
    ck_assert_int_eq(tmptree_remove(node), 0);
    free(uevent);
    free(bound);
    ck_assert_int_eq(acquire_steps(ctx, "vm1", a, 1, false, vm_uid(), vm_gid(), 0, steps,
                                   sizeof(steps)), -EBUSY);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_HELD);
    ck_assert_str_eq(hd_ctx_last_error(ctx), DEV " is recorded as assigned to vm vm1, but the "
                     "kernel has it on e1000e, not vfio-pci: the record and the kernel disagree");
    free(map);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(unmanaged_refuses_a_device_on_its_host_driver)
{
    char *root = ah_tree(KERNEL NIC(DEV, "e1000e"));
    struct hd_ctx *ctx;
    struct hd_pci_addr a = ah_addr(DEV);

    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 0, 0, HD_ACQUIRE_UNMANAGED), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "must be detached ahead of booting"));
    ck_assert(!ah_exists(root, "run/hostdev/map/assignments"));
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(a_group_goes_to_one_vm)
{
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci") NIC(DEV2, "vfio-pci"));
    struct hd_ctx *ctx;
    struct hd_pci_addr a = ah_addr(DEV), b = ah_addr(DEV2);

    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 0, 0, HD_ACQUIRE_UNMANAGED), 0);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm2", &b, 1, 0, 0, HD_ACQUIRE_UNMANAGED), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "assigned to vm vm1"));
    /* The same VM may take the rest of the group, and the node's original owner is kept. */
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &b, 1, 0, 0, HD_ACQUIRE_UNMANAGED), 0);
    ck_assert_int_eq(hd_assign_release(ctx, "vm1", &a, 1), 0);
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", NULL, NULL), 0660); /* b still holds it */
    ck_assert_int_eq(hd_assign_release(ctx, "vm1", &b, 1), 0);
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", NULL, NULL), 0600);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(a_group_that_is_not_viable_is_refused)
{
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci") NIC(DEV2, "snd_hda_intel"));
    struct hd_ctx *ctx;
    struct hd_pci_addr a = ah_addr(DEV);

    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 0, 0, HD_ACQUIRE_UNMANAGED), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "not be viable"));
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "snd_hda_intel"));
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", NULL, NULL), 0600);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

HD_TEST(bad_input_changes_nothing)
{
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci"));
    struct hd_ctx *ctx;
    struct hd_pci_addr a[2] = {ah_addr(DEV), ah_addr(DEV)};
    struct hd_pci_addr missing = ah_addr("0000:09:00.0");

    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_assign_acquire(ctx, "bad id", a, 1, 0, 0, 0), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "'bad id'"));
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm", a, 2, 0, 0, HD_ACQUIRE_UNMANAGED), -EINVAL);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm", &missing, 1, 0, 0, 0), -ENODEV);
    ck_assert_int_eq(hd_assign_release(ctx, "../x", NULL, 0), -EINVAL);
    ck_assert(!ah_exists(root, "run/hostdev/map/assignments"));
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", NULL, NULL), 0600);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* A process that died after changing the node's owner, before the map write. */
HD_TEST(recover_undoes_an_uncommitted_acquire)
{
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci")), path[4096];
    struct hd_ctx *ctx;
    struct hd_jdev d = {.group = 7};
    struct hd_jstep s = {.kind = HD_JSTEP_OWN};
    struct hd_journal *j;
    unsigned int n;
    uid_t u;

    ctx = ah_ctx(root);
    d.addr = ah_addr(DEV);
    ck_assert_int_eq(hd_journal_begin(ctx, HD_JOP_ACQUIRE, "vm1", &d, 1, &j), 0);
    strcpy(s.node.path, "dev/vfio/7");
    s.node.uid = geteuid();
    s.node.gid = getegid();
    s.node.mode = 0600;
    ck_assert_int_eq(hd_journal_defer(ctx, j, &s), 0);
    ck_assert_int_eq(hd_journal_flush(ctx, j), 0);
    snprintf(path, sizeof(path), "%s/dev/vfio/7", root);
    ck_assert_int_eq(chown(path, vm_uid(), vm_gid()), 0);
    ck_assert_int_eq(chmod(path, 0660), 0);
    hd_journal_close(j); /* killed */
    ck_assert_int_eq(hd_assign_recover(ctx, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", &u, NULL), 0600);
    ck_assert_uint_eq(u, geteuid());
    ck_assert_int_eq(hd_assign_recover(ctx, &n), 0);
    ck_assert_uint_eq(n, 0);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* A process that died after its map write: the acquire stands, only the journal goes. */
HD_TEST(recover_keeps_a_committed_acquire)
{
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci")), **names;
    struct hd_ctx *ctx;
    struct hd_pci_addr a = ah_addr(DEV);
    struct hd_jdev d = {.group = 7};
    struct hd_journal *j;
    unsigned int n;
    size_t count;

    ctx = ah_ctx(root);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, vm_uid(), vm_gid(),
                                       HD_ACQUIRE_UNMANAGED), 0);
    d.addr = a;
    ck_assert_int_eq(hd_journal_begin(ctx, HD_JOP_ACQUIRE, "vm1", &d, 1, &j), 0);
    hd_journal_close(j);
    ck_assert_int_eq(hd_assign_recover(ctx, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ah_mode(root, "dev/vfio/7", NULL, NULL), 0660);
    ck_assert_int_eq(hd_journal_list(ctx, &names, &count), 0);
    ck_assert_uint_eq(count, 0);
    hd_strv_free(names, count);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* Process B is recovering a dead journal about group 7 and waits for its lock, which we
 * hold: we must not work on group 7 before B has undone it (-EAGAIN: let go, try again). */
HD_TEST(recover_under_locks_backs_off)
{
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci")), **names;
    struct hd_ctx *ctx;
    struct hd_jdev d = {.group = 7};
    struct hd_journal *j;
    struct hd_lockset *locks;
    int group = 7, pipefd[2];
    size_t n;
    pid_t pid;
    char c;

    ctx = ah_ctx(root);
    d.addr = ah_addr(DEV);
    ck_assert_int_eq(hd_journal_begin(ctx, HD_JOP_ACQUIRE, "vm1", &d, 1, &j), 0);
    hd_journal_close(j); /* its process died */
    ck_assert_int_eq(hd_journal_list(ctx, &names, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(pipe(pipefd), 0);
    pid = fork();
    if (pid == 0) { /* B: has claimed it, is about to wait for group 7 */
        struct hd_journal *mine;
        if (hd_journal_claim(ctx, names[0], &mine) < 0 || write(pipefd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
    ck_assert_int_eq(hd_lock_groups(ctx, &group, 1, &locks, NULL), 0);
    ck_assert_int_eq(hd_recover_held(ctx, locks, NULL, NULL), -EAGAIN);
    /* Unrelated groups do not care. */
    struct hd_lockset *other;
    int g9 = 9;
    ck_assert_int_eq(hd_lock_groups(ctx, &g9, 1, &other, NULL), 0);
    ck_assert_int_eq(hd_recover_held(ctx, other, NULL, NULL), 0);
    hd_lockset_release(other);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_int_eq(hd_recover_held(ctx, locks, NULL, NULL), 0); /* now ours to recover */
    hd_lockset_release(locks);
    hd_strv_free(names, n);
    ck_assert_int_eq(hd_journal_list(ctx, &names, &n), 0);
    ck_assert_uint_eq(n, 0);
    hd_strv_free(names, n);
    hd_ctx_unref(ctx);
    ah_tree_remove(root);
    free(root);
}
END_TEST

/* Child of a race: acquire ((struct hd_pci_addr *)@addr) unmanaged for @vm on a context of
 * its own on race_root. */
static const char *race_root;

static int race_acquire(void *addr, const char *vm)
{
    struct hd_ctx *c = ah_ctx(race_root);
    int r = hd_assign_acquire(c, vm, addr, 1, 0, 0, HD_ACQUIRE_UNMANAGED);

    if (r < 0 && r != -EBUSY)
        fprintf(stderr, "%s: %d %s\n", vm, r, hd_ctx_last_error(c));
    return r;
}

/* 8 processes race for one device, 200 rounds: never two owners. */
HD_TEST_IN(race, race_never_two_owners)
{
    enum { PROCS = 8, ROUNDS = 200 };
    char *root = ah_tree(KERNEL NIC(DEV, "vfio-pci"));
    struct hd_pci_addr a = ah_addr(DEV);

    race_root = root;
    for (int round = 0; round < ROUNDS; round++) {
        char vm[16];
        ah_race_one_owner(PROCS, race_acquire, &a, round, vm);
        struct hd_ctx *ctx = ah_ctx(root);
        struct hd_assignment_list *l;
        ck_assert_int_eq(hd_assignment_list_new(ctx, &l), 0);
        ck_assert_uint_eq(hd_assignment_list_count(l), 1);
        ck_assert_str_eq(hd_assignment_get_vm(hd_assignment_list_get(l, 0)), vm);
        hd_assignment_list_unref(l);
        ck_assert_int_eq(hd_assign_release(ctx, vm, NULL, 0), 0);
        hd_ctx_unref(ctx);
    }
    ah_tree_remove(root);
    free(root);
}
END_TEST
