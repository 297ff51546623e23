/* test-sriov.c - hd_device_set_numvfs() against a threaded stand-in for the PF. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "fixture.h"

#include "hdtest.h"

#define PF "0000:02:00.0"

static const char *root;
static char dir[300]; /* ROOT/sys/bus/pci/devices/PF */

static void get(const char *name, char *buf, size_t size)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    if (fgets(buf, (int)size, f) == NULL)
        buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* ---- the kernel side: watches sriov_numvfs, makes or removes the virtfn links --------------- */

static pthread_t kthread;
static volatile bool kstop;
static volatile int kmax; /* the kernel never shows more VFs than this (-1: no limit) */
static char written[64];  /* every value the kernel saw, in order: "2,0,1" */
static pthread_mutex_t klock = PTHREAD_MUTEX_INITIALIZER;

static void *kernel(void *arg)
{
    int have = 0;
    char last[16] = "0";

    (void)arg;
    while (!kstop) {
        char v[16], path[512];
        int want;

        get("sriov_numvfs", v, sizeof(v));
        if (strcmp(v, last) != 0) {
            pthread_mutex_lock(&klock);
            if (strlen(written) + strlen(v) + 2 < sizeof(written))
                snprintf(written + strlen(written), sizeof(written) - strlen(written), "%s%s",
                         written[0] ? "," : "", v);
            pthread_mutex_unlock(&klock);
            hd_strlcpy(last, v, sizeof(last));
        }
        want = (int)strtol(v, NULL, 10);
        {
            while (have < want && (kmax < 0 || have < kmax)) {
                snprintf(path, sizeof(path), "%s/virtfn%d", dir, have);
                ck_assert_int_eq(symlink("../0000:02:00.1", path), 0);
                have++;
            }
            while (have > want) {
                have--;
                snprintf(path, sizeof(path), "%s/virtfn%d", dir, have);
                unlink(path);
            }
        }
        usleep(500);
    }
    return NULL;
}

static struct hd_ctx *ctx;
static struct hd_device *dev;

/* The PF on its driver (only a PF's driver makes VFs; the thread above stands in for the
 * kernel), a device that is not SR-IOV capable, and a VF of another PF; materialized: plain
 * files. */
static const char spec[] = "driver nvme class=010802 sriov\n"
                           "device 0000:00:02.0 1b36:0010 class=010802 subsys=1af4:1100\n"
                           "device " PF " 1b36:0010 class=010802 subsys=1af4:1100 parent=root "
                           "driver=nvme totalvfs=2\n"
                           "device 0000:02:00.4 1b36:0010 class=010802 subsys=1af4:1100 "
                           "parent=root driver=nvme totalvfs=1 numvfs=1 vf-offset=1 "
                           "autoprobe=no\n"; /* its VF: 0000:02:00.5 */
static struct fx fx;

static void setup(void)
{
    struct hd_pci_addr a;

    ck_assert_msg(fx_materialize_text(&fx, spec) == 0, "materialize: %s", fx.error);
    root = fx.root;
    snprintf(dir, sizeof(dir), "%s/sys/bus/pci/devices/" PF, root);
    written[0] = '\0';
    kstop = false;
    kmax = -1;
    ck_assert_int_eq(pthread_create(&kthread, NULL, kernel, NULL), 0);
    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
    hd_ctx_set_names_file(ctx, ""); /* no names: nothing read from the host */
    hd_ctx_set_timeout_ms(ctx, 2000);
    ck_assert_int_eq(hd_pci_addr_parse(PF, &a), 0);
    ck_assert_int_eq(hd_device_open(ctx, &a, &dev), 0);
}

static void teardown(void)
{
    kstop = true;
    pthread_join(kthread, NULL);
    hd_device_unref(dev);
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}

static int virtfns(void)
{
    char path[512];
    struct stat st;
    int n = 0;

    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "%s/virtfn%d", dir, i);
        if (lstat(path, &st) == 0)
            n++;
    }
    return n;
}

/* What the kernel side saw; it polls, so give it a bounded moment to catch up. */
static void ck_written(const char *expected)
{
    char seen[sizeof(written)];

    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&klock);
        memcpy(seen, written, sizeof(seen));
        pthread_mutex_unlock(&klock);
        if (strcmp(seen, expected) == 0)
            break;
        usleep(1000);
    }
    ck_assert_str_eq(seen, expected);
}

HD_TEST_FILE(.setup = setup, .teardown = teardown);

HD_TEST(creates_vfs_with_autoprobe_off)
{
    char v[16];

    ck_assert_int_eq(hd_device_set_numvfs(dev, 2), 0); /* returns the previous count */
    ck_assert_int_eq(virtfns(), 2);
    get("sriov_drivers_autoprobe", v, sizeof(v));
    ck_assert_str_eq(v, "0");
    ck_written("2");
}
END_TEST

HD_TEST(changes_go_through_zero)
{
    ck_assert_int_eq(hd_device_set_numvfs(dev, 2), 0);
    ck_assert_int_eq(hd_device_set_numvfs(dev, 1), 2);
    ck_assert_int_eq(virtfns(), 1);
    ck_written("2,0,1");
    ck_assert_int_eq(hd_device_set_numvfs(dev, 1), 1); /* no change: nothing written */
    ck_written("2,0,1");
    ck_assert_int_eq(hd_device_set_numvfs(dev, 0), 1);
    ck_assert_int_eq(virtfns(), 0);
    ck_written("2,0,1,0");
}
END_TEST

HD_TEST(refuses_before_writing_anything)
{
    struct hd_pci_addr a;
    struct hd_device *other;
    char v[16];

    ck_assert_int_eq(hd_device_set_numvfs(dev, 3), -ERANGE);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "at most 2"));
    get("sriov_drivers_autoprobe", v, sizeof(v));
    ck_assert_str_eq(v, "1"); /* untouched */

    ck_assert_int_eq(hd_pci_addr_parse("0000:00:02.0", &a), 0);
    ck_assert_int_eq(hd_device_open(ctx, &a, &other), 0);
    ck_assert_int_eq(hd_device_set_numvfs(other, 1), -ENOTSUP);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "not SR-IOV capable"));
    hd_device_unref(other);

    ck_assert_int_eq(hd_pci_addr_parse("0000:02:00.5", &a), 0);
    ck_assert_int_eq(hd_device_open(ctx, &a, &other), 0);
    ck_assert_int_eq(hd_device_set_numvfs(other, 1), -ENOTSUP);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "virtual function"));
    hd_device_unref(other);
    ck_written("");
}
END_TEST

HD_TEST(vfs_that_never_appear_time_out_and_are_undone)
{
    hd_ctx_set_timeout_ms(ctx, 200);
    kmax = 0;
    ck_assert_int_eq(hd_device_set_numvfs(dev, 2), -ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "shows 0 virtfn links"));
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "no VFs left, as before"));
    ck_assert_int_eq(virtfns(), 0);
    ck_written("2,0");
}
END_TEST

HD_TEST(a_failed_change_puts_the_previous_count_back)
{
    ck_assert_int_eq(hd_device_set_numvfs(dev, 1), 0);
    hd_ctx_set_timeout_ms(ctx, 200);
    kmax = 1; /* 2 never shows up; 1 does */
    ck_assert_int_eq(hd_device_set_numvfs(dev, 2), -ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "the previous 1 VFs were put back"));
    ck_assert_int_eq(virtfns(), 1);
    ck_written("1,0,2,0,1");
    kmax = 0; /* now not even 1: the message says the undo failed too */
    ck_assert_int_eq(hd_device_set_numvfs(dev, 2), -ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "putting the previous 1 VFs back "
                                                         "failed too"));
}
END_TEST

/* The undo of a count (hd_sriov_restore(), which a journal's numvfs line runs) reads the count
 * before it writes one: garbage there is named, device and file, as bad input, and no count is
 * written over it; a count it can read is put back through 0, its autoprobe too. */
HD_TEST(the_undo_names_a_bad_count_and_leaves_it)
{
    char autoprobe[16];

    get("sriov_drivers_autoprobe", autoprobe, sizeof(autoprobe));
    ck_assert_str_eq(autoprobe, "1");
    /* Written in place, as long as what was there: the kernel side never sees an empty file. */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "x\n"), 0);
    ck_written("x");
    ck_assert_int_eq(hd_sriov_restore(ctx, hd_device_get_addr(dev), 1, -1), -EINVAL);
    ck_assert_str_eq(hd_ctx_last_error(ctx), PF ": sysfs attribute sriov_numvfs holds 'x', not "
                                             "what the kernel writes there");
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_INVALID);
    ck_written("x");

    ck_assert_int_eq(hd_device_set_numvfs(dev, 2), -EINVAL); /* read first too: refused */
    ck_written("x");

    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "2\n"), 0);
    ck_written("x,2"); /* and its 2 VFs there, before the undo removes them */
    for (int i = 0; i < 1000 && virtfns() != 2; i++)
        usleep(1000);
    ck_assert_int_eq(virtfns(), 2);
    hd_ctx_clear_error(ctx);
    ck_assert_int_eq(hd_sriov_restore(ctx, hd_device_get_addr(dev), 1, 0), 0);
    ck_written("x,2,0,1");
    ck_assert_int_eq(virtfns(), 1);
    get("sriov_drivers_autoprobe", autoprobe, sizeof(autoprobe));
    ck_assert_str_eq(autoprobe, "0");
}
END_TEST
