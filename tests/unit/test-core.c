/* test-core.c - the context, the filesystem gateway, number parsing and state records, on a
 * plain temporary directory used as the root. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "internal.h"

#include "hdtest.h"

static char root[64];
static struct hd_ctx *ctx;

static void put(const char *rel, const char *content)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/hd-core-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
}

static void teardown(void)
{
    char cmd[128];

    hd_ctx_unref(ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}

HD_TEST_FILE(.setup = setup, .teardown = teardown);

HD_TEST(ctx_rejects_missing_root)
{
    struct hd_ctx *c = (struct hd_ctx *)1;
    ck_assert_int_eq(hd_ctx_new("/nonexistent/hostdev-root", &c), -ENOENT);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(hd_ctx_get_root(ctx), root);
    ck_assert_str_eq(hd_ctx_last_error(ctx), "");
}
END_TEST

HD_TEST(two_contexts_side_by_side)
{
    struct hd_ctx *other;
    char buf[16];
    ck_assert_int_eq(hd_ctx_new("/", &other), 0);
    put("x", "mine\n");
    ck_assert_int_eq(hd_fs_read_attr(ctx, "x", buf, sizeof(buf)), 4);
    ck_assert_int_lt(hd_fs_read_attr(other, "x", buf, sizeof(buf)), 0);
    ck_assert(hd_ctx_root_is_host(other));
    ck_assert(!hd_ctx_root_is_host(ctx));
    hd_ctx_unref(other);
    /* "/" is known without a look; other spellings of it are found by their inode. */
    ck_assert_int_eq(hd_ctx_new("//.", &other), 0);
    ck_assert(hd_ctx_root_is_host(other));
    hd_ctx_unref(other);
}
END_TEST

HD_TEST(paths_stay_inside_the_root)
{
    static const char *const bad[] = {"", "/etc/passwd", "..", "a/../b", "a//b", "a/",
                                      "./a", "a/.", "a\nb"};
    char buf[8];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!hd_path_valid(bad[i]), "'%s' must be refused", bad[i]);
        ck_assert_int_eq(hd_fs_read_attr(ctx, bad[i], buf, sizeof(buf)), -EINVAL);
        ck_assert_int_eq(hd_fs_write_attr(ctx, bad[i], "1"), -EINVAL);
    }
    ck_assert(hd_path_valid("sys/bus/pci/devices/0000:00:00.0/driver"));
    ck_assert(!hd_name_valid("a/b"));
    ck_assert(!hd_name_valid(".."));
    ck_assert(!hd_name_valid(""));
    ck_assert(hd_name_valid("vfio-pci"));
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ck_assert(!hd_name_valid(longname));
}
END_TEST

HD_TEST(attributes_read_and_write)
{
    char buf[8];
    put("attr", "(null)\n");
    ck_assert_int_eq(hd_fs_read_attr(ctx, "attr", buf, sizeof(buf)), 6);
    ck_assert_str_eq(buf, "(null)");
    put("big", "0123456789");
    ck_assert_int_eq(hd_fs_read_attr(ctx, "big", buf, sizeof(buf)), -EFBIG);
    ck_assert_int_eq(hd_fs_read_attr(ctx, "missing", buf, sizeof(buf)), -ENOENT);
    ck_assert_int_eq(hd_fs_write_attr(ctx, "attr", "vfio-pci"), 0);
    ck_assert_int_eq(hd_fs_read_attr(ctx, "attr", buf, sizeof(buf)), -EFBIG);
    ck_assert_int_eq(hd_fs_write_attr(ctx, "nodir/attr", "1"), -ENOENT);
    ck_assert_int_eq(hd_fs_exists(ctx, "attr"), 1);
    ck_assert_int_eq(hd_fs_exists(ctx, "nope"), 0);
}
END_TEST

HD_TEST(links_and_directories)
{
    char path[256], buf[64], **names;
    size_t n;
    snprintf(path, sizeof(path), "%s/d", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    put("d/b", "");
    put("d/a", "");
    snprintf(path, sizeof(path), "%s/d/driver", root);
    ck_assert_int_eq(symlink("../../../bus/pci/drivers/e1000e", path), 0);
    ck_assert_int_eq(hd_fs_link_basename(ctx, "d/driver", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "e1000e");
    /* Into the directory the kernel links to, or refused: elsewhere, or a name alone. */
    ck_assert_int_eq(hd_fs_link_basename_in(ctx, "d/driver", "drivers", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "e1000e");
    ck_assert_int_eq(hd_fs_link_basename_in(ctx, "d/driver", "iommu_groups", buf, sizeof(buf)),
                     -EINVAL);
    ck_assert_int_eq(hd_fs_link_basename_in(ctx, "d/driver", "rivers", buf, sizeof(buf)), -EINVAL);
    snprintf(path, sizeof(path), "%s/d/alone", root);
    ck_assert_int_eq(symlink("e1000e", path), 0);
    ck_assert_int_eq(hd_fs_link_basename_in(ctx, "d/alone", "drivers", buf, sizeof(buf)), -EINVAL);
    ck_assert_int_eq(hd_fs_link_basename(ctx, "d/alone", buf, sizeof(buf)), 0);
    ck_assert_int_eq(hd_fs_list_dir(ctx, "d", &names, &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(names[0], "a"); /* sorted */
    ck_assert_str_eq(names[3], "driver");
    hd_strv_free(names, n);
    snprintf(path, sizeof(path), "%s/d/evil", root);
    ck_assert_int_eq(symlink("../..", path), 0);
    ck_assert_int_eq(hd_fs_link_basename(ctx, "d/evil", buf, sizeof(buf)), -EINVAL);
}
END_TEST

HD_TEST(timed_write_gives_up_on_a_hang)
{
    char path[256], buf[4];
    int fd;
    snprintf(path, sizeof(path), "%s/fifo", root);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    /* Nobody reads the FIFO: opening it for writing blocks, as a hanging unbind does. */
    ck_assert_int_eq(hd_fs_write_attr_timeout(ctx, "fifo", "x", 100), -ETIMEDOUT);
    /* Let the abandoned writer finish so nothing stays behind. */
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, buf, 1), 1);
    close(fd);
    put("plain", "");
    ck_assert_int_eq(hd_fs_write_attr_timeout(ctx, "plain", "1", 5000), 0);
    ck_assert_int_eq(hd_fs_write_attr_timeout(ctx, "absent/x", "1", 5000), -ENOENT);
}
END_TEST

HD_TEST(wait_for_is_bounded)
{
    ck_assert_int_eq(hd_fs_wait_for(ctx, "never", true, 30), -ETIMEDOUT);
    ck_assert_int_eq(hd_fs_wait_for(ctx, "never", false, 30), 0);
}
END_TEST

HD_TEST(numbers_are_strict)
{
    unsigned long long u;
    long long v;
    ck_assert_int_eq(hd_parse_uint("42\n", 10, 100, &u), 0);
    ck_assert_uint_eq(u, 42);
    ck_assert_int_eq(hd_parse_uint("101", 10, 100, &u), -EINVAL);
    ck_assert_int_eq(hd_parse_uint(" 1", 10, 100, &u), -EINVAL);
    ck_assert_int_eq(hd_parse_uint("-1", 10, 100, &u), -EINVAL);
    ck_assert_int_eq(hd_parse_uint("1x", 10, 100, &u), -EINVAL);
    ck_assert_int_eq(hd_parse_uint("", 10, 100, &u), -EINVAL);
    ck_assert_int_eq(hd_parse_int("-1", -1, 10, &v), 0);
    ck_assert_int_eq(v, -1);
    ck_assert_int_eq(hd_parse_int("-2", -1, 10, &v), -EINVAL);
    ck_assert_int_eq(hd_parse_int("-1", 0, 10, &v), -EINVAL);
    ck_assert_int_eq(hd_parse_int("007", 0, 10, &v), -EINVAL);
    ck_assert_int_eq(hd_parse_int("99999999999999999999", 0, 10, &v), -EINVAL);
    ck_assert_int_eq(hd_parse_hex("0x8086", 0xffff, &u), 0);
    ck_assert_uint_eq(u, 0x8086);
    ck_assert_int_eq(hd_parse_hex("0x18086", 0xffff, &u), -EINVAL);
}
END_TEST

HD_TEST(state_records_are_atomic)
{
    char *v = NULL, path[256];
    struct stat st;
    ck_assert_int_eq(hd_state_get(ctx, "drivers", "0000:03:00.0", &v), -ENOENT);
    ck_assert_int_eq(hd_state_put(ctx, "drivers", "0000:03:00.0", "e1000e"), 0);
    ck_assert_int_eq(hd_state_get(ctx, "drivers", "0000:03:00.0", &v), 0);
    ck_assert_str_eq(v, "e1000e");
    free(v);
    /* No temporary file is left behind, and the directory is private. */
    snprintf(path, sizeof(path), "%s/run/hostdev/drivers/.0000:03:00.0.tmp", root);
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/run/hostdev/drivers", root);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(hd_state_put(ctx, "drivers", "../escape", "x"), -EINVAL);
    ck_assert_int_eq(hd_state_del(ctx, "drivers", "0000:03:00.0"), 0);
    ck_assert_int_eq(hd_state_del(ctx, "drivers", "0000:03:00.0"), 0);
    ck_assert_int_eq(hd_ctx_set_state_dir(ctx, "/var/lib/hostdev"), 0);
    ck_assert_str_eq(hd_ctx_get_state_dir(ctx), "var/lib/hostdev");
    ck_assert_int_eq(hd_ctx_set_state_dir(ctx, "a/../b"), -EINVAL);
}
END_TEST

/* The root is a boundary: links that are absolute or climb with ".." resolve inside it, with
 * openat2 (_i == 0) and with the walk used where openat2 is missing (_i == 1). */
static char outside[64];

static void outside_setup(void)
{
    setup();
    snprintf(outside, sizeof(outside), "/tmp/hd-outside-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(outside));
}

static void outside_teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", outside);
    ck_assert_int_eq(system(cmd), 0);
    teardown();
}

HD_TEST_GROUP(confined, .setup = outside_setup, .teardown = outside_teardown);

static bool outside_has(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", outside, name);
    return access(path, F_OK) == 0;
}

static void link_at(const char *rel, const char *target)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    ck_assert_int_eq(symlink(target, path), 0);
}

HD_LOOP_TEST_IN(confined, links_stay_inside_the_root, 2)
{
    char buf[32], climb[128], inside[128];
    int fd;

    hd_ctx_set_resolve(ctx, _i == 0 ? HD_RESOLVE_IN_ROOT : HD_RESOLVE_WALK);
    put("victim", "root's own\n");
    ck_assert_int_eq(mkdir(strcat(strcpy(inside, root), "/d"), 0755), 0);
    put("d/attr", "inside\n");
    snprintf(climb, sizeof(climb), "../../../../../../..%s", outside);
    link_at("abs", outside); /* "/tmp/hd-outside-X": ROOT/tmp/hd-outside-X, absent */
    link_at("up", climb);    /* climbs to the root and stops there: the same */
    link_at("rel", "d");
    link_at("root-abs", "/d"); /* absolute, meaning ROOT/d */
    link_at("dotdot", "d/../../../victim");
    /* Writes through a link that leaves the root go nowhere. */
    ck_assert_int_eq(hd_fs_open(ctx, "abs/new", O_WRONLY | O_CREAT, 0600), -ENOENT);
    ck_assert_int_eq(hd_fs_open(ctx, "up/new", O_WRONLY | O_CREAT, 0600), -ENOENT);
    ck_assert_int_eq(hd_fs_mkdir_p(ctx, "abs/dir", 0700), -ENOENT);
    ck_assert(!outside_has("new") && !outside_has("dir"));
    /* Links that stay inside work, absolute ones too (as the kernel's sysfs has them). */
    ck_assert_int_eq(hd_fs_read_attr(ctx, "rel/attr", buf, sizeof(buf)), 6);
    ck_assert_int_eq(hd_fs_read_attr(ctx, "root-abs/attr", buf, sizeof(buf)), 6);
    ck_assert_str_eq(buf, "inside");
    ck_assert_int_eq(hd_fs_read_attr(ctx, "dotdot", buf, sizeof(buf)), 10);
    ck_assert_int_eq(hd_fs_write_attr(ctx, "root-abs/attr", "written"), 0);
    ck_assert_int_eq(hd_fs_read_attr(ctx, "d/attr", buf, sizeof(buf)), 7);
    /* Metadata calls resolve the parent the same way. */
    struct stat st;
    ck_assert_int_eq(hd_fs_stat(ctx, "root-abs/attr", &st), 0);
    ck_assert_int_eq(hd_fs_stat(ctx, "up/x", &st), -ENOENT);
    ck_assert_int_eq(hd_fs_read_link(ctx, "rel", buf, sizeof(buf)), 1);
    /* Nothing is created through a link: a dangling one at a lock or temporary file's name
     * fails instead of making its target. */
    link_at("d/lock", "../made-by-root");
    fd = hd_fs_open(ctx, "d/lock", O_RDWR | O_CREAT, 0600);
    ck_assert_int_eq(fd, -ELOOP);
    snprintf(inside, sizeof(inside), "%s/made-by-root", root);
    ck_assert_int_ne(access(inside, F_OK), 0);
    /* A loop of links ends. */
    link_at("loop1", "loop2");
    link_at("loop2", "loop1");
    ck_assert_int_eq(hd_fs_read_attr(ctx, "loop1", buf, sizeof(buf)), -ELOOP);
}
END_TEST

/* Owner changes happen on the inode that was looked at: a link swapped in is never followed. */
HD_LOOP_TEST_IN(confined, node_owner_never_follows_a_link, 2)
{
    char node[128], target[128];
    struct stat st, was;
    int fd;

    hd_ctx_set_resolve(ctx, _i == 0 ? HD_RESOLVE_IN_ROOT : HD_RESOLVE_WALK);
    put("outside-file", "x");
    snprintf(target, sizeof(target), "%s/secret", outside);
    fd = open(target, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(mkdir(strcat(strcpy(node, root), "/dev"), 0755), 0);
    put("dev/5", "");
    ck_assert_int_eq(chmod(strcat(strcpy(node, root), "/dev/5"), 0600), 0);
    link_at("dev/6", target);
    ck_assert_int_eq(hd_fs_node_open(ctx, "dev/6", &st), -ELOOP);
    /* Swap dev/5 for a link to the outside file between the open and the change, as a racing
     * attacker would: the change still lands on the node that was opened. */
    fd = hd_fs_node_open(ctx, "dev/5", &was);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(was.st_mode & 0777, 0600);
    ck_assert_int_eq(rename(node, strcat(strcpy(target + 64, root), "/dev/5.old")), 0);
    ck_assert_int_eq(symlink(target, node), 0);
    ck_assert_int_eq(hd_fs_node_set_owner(fd, 107, 108, 0660), 0);
    close(fd);
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(st.st_uid, getuid());
    ck_assert_int_eq(lstat(target + 64, &st), 0); /* the node that was opened */
    ck_assert_int_eq(st.st_mode & 07777, 0660);
    ck_assert_int_eq(st.st_uid, 107);
    ck_assert_int_eq(st.st_gid, 108);
}
END_TEST

/* A state directory others may write is not trusted. */
HD_TEST(state_dir_must_be_private)
{
    char path[256];

    ck_assert_int_eq(hd_state_dir_check(ctx), 0); /* absent: made private when first needed */
    ck_assert_int_eq(hd_state_put(ctx, "drivers", "0000:03:00.0", "e1000e"), 0);
    ck_assert_int_eq(hd_state_dir_check(ctx), 0);
    snprintf(path, sizeof(path), "%s/run/hostdev", root);
    ck_assert_int_eq(chmod(path, 0777), 0);
    ck_assert_int_eq(hd_state_dir_check(ctx), -EPERM);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_STATE_DAMAGED);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "mode 0777"));
    ck_assert_int_eq(chmod(path, 0700), 0);
    ck_assert_int_eq(chown(path, 4242, 0), 0);
    ck_assert_int_eq(hd_state_dir_check(ctx), -EPERM);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "uid 4242"));
    ck_assert_int_eq(chown(path, getuid(), 0), 0);
    ck_assert_int_eq(rename(path, strcat(strcpy(path + 128, root), "/run/elsewhere")), 0);
    ck_assert_int_eq(symlink("elsewhere", path), 0);
    ck_assert_int_eq(hd_state_dir_check(ctx), -ENOTDIR);
}
END_TEST

/* The context's string set: one copy per distinct string, stable across growth. */
HD_TEST(strings_stored_once)
{
    struct hd_strings set = {0};
    const char *first[600];
    char buf[32];

    for (int i = 0; i < 600; i++) {
        snprintf(buf, sizeof(buf), "driver-%d", i);
        first[i] = hd_strings_add(&set, buf, strlen(buf));
        ck_assert_ptr_nonnull(first[i]);
    }
    for (int i = 0; i < 600; i++) {
        snprintf(buf, sizeof(buf), "driver-%dXYZ", i); /* no NUL needed after the length */
        ck_assert_ptr_eq(hd_strings_add(&set, buf, strlen(buf) - 3), first[i]);
        buf[strlen(buf) - 3] = '\0';
        ck_assert_str_eq(first[i], buf);
    }
    ck_assert_ptr_ne(hd_strings_add(&set, "driver-1", 7), first[1]); /* "driver-" */
    ck_assert_str_eq(hd_strings_add(&set, "", 0), "");
    ck_assert_uint_eq(set.index.count, 602);
    hd_strings_free(&set);
}
END_TEST

HD_TEST(names_from_a_pci_ids_file)
{
    char path[256];
    const char *v, *p;
    put("pci.ids", "# comment\n8086  Intel Corporation\n\t10d3  82574L Gigabit Network "
                   "Connection\n\t\t8086 a01f  Gigabit CT Desktop Adapter\n\t1237  440FX\n"
                   "1af4  Red Hat, Inc.\n\t1041  Virtio network device\nC 02  Network\n"
                   "\t00  Ethernet controller\n");
    snprintf(path, sizeof(path), "%s/pci.ids", root);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, path), 0);
    ck_assert_int_eq(hd_names_lookup(ctx, 0x8086, 0x10d3, &v, &p), 0);
    ck_assert_str_eq(v, "Intel Corporation");
    ck_assert_str_eq(p, "82574L Gigabit Network Connection");
    ck_assert_int_eq(hd_names_lookup(ctx, 0x8086, 0xa01f, &v, &p), 0); /* a subsystem id */
    ck_assert_str_eq(v, "Intel Corporation");
    ck_assert_ptr_null(p);
    ck_assert_int_eq(hd_names_lookup(ctx, 0x1af4, 0x1041, &v, &p), 0);
    ck_assert_str_eq(p, "Virtio network device");
    ck_assert_int_eq(hd_names_lookup(ctx, 0x0002, 0x0000, &v, &p), 0); /* class section */
    ck_assert_ptr_null(v);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, ""), 0);
    ck_assert_int_eq(hd_names_lookup(ctx, 0x8086, 0x10d3, &v, &p), 0);
    ck_assert_ptr_null(v);
    ck_assert_ptr_null(p);
}
END_TEST

/* Many vendors: the binary search over the file finds first, last, middle and absent ones, an
 * out-of-order vendor through the linear pass, and names outlive a change of names file. */
HD_TEST(names_searched_in_a_large_file)
{
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap), path[256];
    const char *v, *p, *kept;
    unsigned last = 0;

    ck_assert_ptr_nonnull(text);
    len += (size_t)snprintf(text + len, cap - len, "# header\n#\n");
    for (unsigned id = 0x0010; id < 0xff00; id += 7) {
        last = id;
        len += (size_t)snprintf(text + len, cap - len, "%04x  Vendor %04x\n", id, id);
        len += (size_t)snprintf(text + len, cap - len, "\t%04x  Dev %04x\n\t\t1111 2222  Sub\n",
                                id ^ 0x55, id);
    }
    len += (size_t)snprintf(text + len, cap - len, "0003  Out of order\n\t0001  Late\n");
    snprintf(text + len, cap - len, "C 02  Network\n\t00  Ethernet\n");
    put("big.ids", text);
    free(text);
    snprintf(path, sizeof(path), "%s/big.ids", root);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, path), 0);
    for (unsigned id = 0x0010; id < 0xff00; id += 7 * 97) {
        char want[32];
        ck_assert_int_eq(hd_names_lookup(ctx, (uint16_t)id, (uint16_t)(id ^ 0x55), &v, &p), 0);
        snprintf(want, sizeof(want), "Vendor %04x", id);
        ck_assert_str_eq(v, want);
        snprintf(want, sizeof(want), "Dev %04x", id);
        ck_assert_str_eq(p, want);
    }
    ck_assert_int_eq(hd_names_lookup(ctx, (uint16_t)last, (uint16_t)(last ^ 0x55), &v, &p), 0);
    ck_assert_ptr_nonnull(p); /* the last vendor */
    ck_assert_int_eq(hd_names_lookup(ctx, 0x0011, 0, &v, &p), 0); /* absent */
    ck_assert_ptr_null(v);
    ck_assert_int_eq(hd_names_lookup(ctx, 0x0003, 0x0001, &v, &p), 0);
    ck_assert_str_eq(v, "Out of order");
    ck_assert_str_eq(p, "Late");
    kept = v;
    ck_assert_int_eq(hd_names_lookup(ctx, 0x0003, 0x0001, &v, &p), 0); /* cached */
    ck_assert_ptr_eq(v, kept);
    ck_assert_int_eq(hd_ctx_set_names_file(ctx, ""), 0);
    ck_assert_str_eq(kept, "Out of order");
}
END_TEST

/* One rule for a sysfs path and a class link's target: a component of it, not the last, is the
 * PCI device (the host-use check reads targets, acquire root-relative paths). */
HD_TEST(a_sysfs_path_below_a_pci_device)
{
    const char *bdf = "0000:00:14.0";
    ck_assert(hd_sysfs_is_below("devices/pci0000:00/0000:00:14.0/usb1/1-1", bdf));
    ck_assert(hd_sysfs_is_below("../../devices/pci0000:00/0000:00:14.0/net/eth0", bdf));
    ck_assert(hd_sysfs_is_below("0000:00:14.0/drm/card0", bdf));
    ck_assert(hd_sysfs_is_below("devices/pci0000:00/0000:00:01.0/0000:00:14.0/host0", bdf));
    ck_assert(!hd_sysfs_is_below("devices/pci0000:00/0000:00:14.0", bdf)); /* itself */
    ck_assert(!hd_sysfs_is_below("devices/pci0000:00/10000:00:14.0/usb1", bdf));
    ck_assert(!hd_sysfs_is_below("devices/pci0000:00/0000:00:14.00/usb1", bdf));
    ck_assert(!hd_sysfs_is_below("devices/pci0000:00/0000:00:14.1/usb1", bdf));
    ck_assert(!hd_sysfs_is_below("", bdf));
}
END_TEST
