/* test-assign-kernel.c - acquire and release against the fake kernel: the managed round trip,
 * host safety (mounted disks, swap, interfaces up with routes, the console),
 * a fault-injection matrix (every sysfs write of acquire and of release fails in turn: the
 * host ends exactly as before), kill -9 at each unbind (held there by a hanging unbind:
 * recover restores), and 8 processes racing for one device. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "adapters-tree.h"
#include "assign-helpers.h"
#include "fixture.h"
#include "hoststate.h"
#include "hdtest.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define NIC "0000:03:00.0"

static const char spec[] =
    "kernel 6.1.0-13-amd64\n"
    "cmdline \"BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on\"\n"
    "iommu intel\n"
    "module vfio\n"
    "module vfio_iommu_type1\n"
    "driver pcieport builtin class=060400\n"
    "driver nouveau ids=10de:1b81\n"
    "driver snd_hda_intel ids=10de:10f0\n"
    "driver e1000e ids=8086:10d3\n"
    "driver vfio-pci module=vfio_pci stub vfio sriov\n"
    "driver pci-stub module=pci_stub stub\n"
    "device 0000:00:00.0 8086:591f class=060000\n"
    "device 0000:00:01.0 8086:1901 class=060400 driver=pcieport group=1 secondary=01\n"
    "device 0000:01:00.0 10de:1b81 class=030000 driver=nouveau group=1 reset=bus\n"
    "device 0000:01:00.1 10de:10f0 class=040300 driver=snd_hda_intel group=1 reset=bus\n"
    "device 0000:00:1c.0 8086:a110 class=060400 driver=pcieport secondary=03\n"
    "device 0000:03:00.0 8086:10d3 class=020000 driver=e1000e group=8 reset=flr,pm,bus\n";

/* The same host on a kernel with the vfio cdev. */
static char *cdev_spec(void)
{
    const char *rest = strchr(spec, '\n') + 1;
    char *out = NULL;

    ck_assert(asprintf(&out, "kernel 6.6.0-1-amd64\nfeature vfio_cdev on\n%s", rest) > 0);
    return out;
}

struct scenario {
    const char *name;
    const char *vm;
    const char *addrs[2];
    size_t n;
    unsigned int flags;
    const char *hang_acquire[2]; /* drivers whose unbind acquire goes through */
};

static const struct scenario scenarios[] = {
    {"nic", "vm-nic", {NIC}, 1, 0, {"e1000e"}},
    {"gpu+audio", "vm-gpu", {GPU}, 1, HD_ACQUIRE_GROUP, {"nouveau", "snd_hda_intel"}},
};

static struct hd_ctx *ctx_on(struct fx *fx)
{
    struct hd_ctx *ctx;

    ck_assert_int_eq(hd_ctx_new(fx->root, &ctx), 0);
    hd_ctx_set_names_file(ctx, "");
    hd_ctx_set_timeout_ms(ctx, 60000); /* a hang ends by `ctl release`, not by our timeout */
    return ctx;
}

static void mount_spec(struct fx *fx)
{
    ck_assert_msg(fx_mount_text(fx, spec) == 0, "mount: %s", fx->error);
}

static int acquire(struct fx *fx, const struct scenario *s)
{
    struct hd_ctx *ctx = ctx_on(fx);
    struct hd_pci_addr a[2];
    int r;

    for (size_t i = 0; i < s->n; i++)
        ck_assert_int_eq(hd_pci_addr_parse(s->addrs[i], &a[i]), 0);
    r = hd_assign_acquire(ctx, s->vm, a, s->n, 107, 108, s->flags);
    hd_ctx_unref(ctx);
    return r;
}

static int release(struct fx *fx, const char *vm)
{
    struct hd_ctx *ctx = ctx_on(fx);
    int r = hd_assign_release(ctx, vm, NULL, 0);

    hd_ctx_unref(ctx);
    return r;
}

static int recover(struct fx *fx)
{
    struct hd_ctx *ctx = ctx_on(fx);
    int r = hd_assign_recover(ctx, NULL);

    hd_ctx_unref(ctx);
    return r;
}

static char *snapshot(struct fx *fx)
{
    static const char *const all[] = {GPU, AUDIO, NIC, NULL};

    return hs_snapshot(fx, all);
}

/* The host is exactly as @expect says. */
static void unchanged(struct fx *fx, const char *expect)
{
    char *now = snapshot(fx);

    ck_assert_str_eq(now, expect);
    free(now);
}

HD_TEST_GROUP(faults, .timeout = 300);
HD_TEST_GROUP(kills, .timeout = 300);
HD_TEST_GROUP(race, .timeout = 600);

HD_TEST(managed_round_trip)
{
    struct fx fx;
    char *before;
    struct stat st;

    mount_spec(&fx);
    before = snapshot(&fx);
    /* Without --group the audio function would keep the group from the VM. */
    struct scenario lone = scenarios[1];
    lone.flags = 0;
    ck_assert_int_eq(acquire(&fx, &lone), -EBUSY);
    unchanged(&fx, before);
    ck_assert_int_eq(acquire(&fx, &scenarios[1]), 0);
    ck_assert_str_eq(fx_driver(&fx, GPU), "vfio-pci");
    ck_assert_str_eq(fx_driver(&fx, AUDIO), "vfio-pci");
    ck_assert_int_eq(stat(fx_path(&fx, "dev/vfio/1"), &st), 0);
    ck_assert_uint_eq(st.st_uid, 107);
    ck_assert_uint_eq(st.st_gid, 108);
    ck_assert_uint_eq(st.st_mode & 07777, 0660);
    ck_assert_int_eq(release(&fx, "vm-gpu"), 0);
    ck_assert_str_eq(fx_driver(&fx, GPU), "nouveau");
    ck_assert_str_eq(fx_driver(&fx, AUDIO), "snd_hda_intel");
    unchanged(&fx, before);
    free(before);
    fx_umount(&fx);
}
END_TEST

static const char busy_spec[] =
    "kernel 6.1.0-13-amd64\n"
    "cmdline \"root=/dev/nvme0n1p2 intel_iommu=on\"\n"
    "iommu intel\n"
    "driver nvme class=010802\n"
    "driver e1000e ids=8086:10d3\n"
    "driver i915 ids=8086:3e92\n"
    "driver vfio-pci module=vfio_pci stub vfio sriov\n"
    "device 0000:00:00.0 8086:591f class=060000\n"
    "device 0000:00:02.0 8086:3e92 class=030000 driver=i915\n"
    "device 0000:02:00.0 144d:a808 class=010802 driver=nvme reset=flr parent=root\n"
    "device 0000:03:00.0 8086:10d3 class=020000 driver=e1000e reset=flr parent=root\n"
    "device 0000:04:00.0 8086:10d3 class=020000 driver=e1000e reset=flr parent=root\n"
    "device 0000:05:00.0 8086:10d3 class=020000 driver=e1000e reset=flr parent=root\n"
    "net 0000:03:00.0 enp3s0 route=0.0.0.0/0 route=192.168.1.0/24\n"
    "net 0000:04:00.0 enp4s0 down route=10.0.0.0/8\n"
    "net 0000:05:00.0 enp5s0 inet6=fe80::21b:21ff:fe3a:4f5e/64\n"
    "block 0000:02:00.0 nvme0n1 dev=259:0\n"
    "block 0000:02:00.0 nvme0n1p2 dev=259:2\n"
    "block 0000:02:00.0 nvme0n1p3 dev=259:3\n"
    "graphics 0000:00:02.0 fb0\n"
    "mount /dev/nvme0n1p2 / ext4\n"
    "swap /dev/nvme0n1p3\n";

/* What the host uses is refused, by name, and nothing changes; --force takes it anyway. */
HD_TEST(host_safety)
{
    static const struct {
        const char *bdf, *reason;
    } busy[] = {
        {"0000:02:00.0", "0000:02:00.0 backs /dev/nvme0n1p2 mounted on /"},
        {"0000:02:00.0", "0000:02:00.0 backs /dev/nvme0n1p3 used as swap"},
        {"0000:03:00.0", "0000:03:00.0: enp3s0 is up with routes"},
        {"0000:00:02.0", "0000:00:02.0 drives framebuffer fb0 (the console)"},
    };
    struct hd_pci_addr a;
    struct hd_ctx *ctx;
    struct fx fx;

    ck_assert_msg(fx_mount_text(&fx, busy_spec) == 0, "mount: %s", fx.error);
    ctx = ctx_on(&fx);
    for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++) {
        ck_assert_int_eq(hd_pci_addr_parse(busy[i].bdf, &a), 0);
        ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 0, 0, 0), -EBUSY);
        ck_assert_msg(strstr(hd_ctx_last_error(ctx), busy[i].reason) != NULL, "'%s' lacks '%s'",
                      hd_ctx_last_error(ctx), busy[i].reason);
        ck_assert_str_ne(fx_driver(&fx, busy[i].bdf), "vfio-pci");
    }
    ck_assert_uint_eq(fx_log_count(&fx, "write "), 0);
    /* Down with routes, or up with a link-local address only: free to go. */
    ck_assert_int_eq(hd_pci_addr_parse("0000:04:00.0", &a), 0);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 0, 0, 0), 0);
    ck_assert_int_eq(hd_pci_addr_parse("0000:05:00.0", &a), 0);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 0, 0, 0), 0);
    ck_assert_int_eq(hd_pci_addr_parse("0000:03:00.0", &a), 0);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &a, 1, 0, 0, HD_ACQUIRE_FORCE), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:03:00.0"), "vfio-pci");
    ck_assert_int_eq(hd_assign_release(ctx, "vm1", NULL, 0), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:03:00.0"), "e1000e");
    ck_assert_str_eq(fx_driver(&fx, "0000:04:00.0"), "e1000e");
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

/* The emergency release takes one device back whatever its record says: the rest of the VM's
 * group stays assigned; a device nobody recorded, left on vfio-pci, goes back too. */
HD_TEST(release_force)
{
    struct hd_pci_addr gpu, audio, nic;
    struct hd_assignment_list *l;
    struct hd_ctx *ctx;
    struct fx fx;
    char *before;

    mount_spec(&fx);
    before = snapshot(&fx);
    ctx = ctx_on(&fx);
    ck_assert_int_eq(hd_pci_addr_parse(GPU, &gpu), 0);
    ck_assert_int_eq(hd_pci_addr_parse(AUDIO, &audio), 0);
    ck_assert_int_eq(hd_pci_addr_parse(NIC, &nic), 0);
    ck_assert_int_eq(acquire(&fx, &scenarios[1]), 0);
    ck_assert_int_eq(hd_assign_release_force(ctx, &audio), 0);
    ck_assert_str_eq(fx_driver(&fx, AUDIO), "snd_hda_intel");
    ck_assert_str_eq(fx_driver(&fx, GPU), "vfio-pci");
    ck_assert_int_eq(hd_assignment_list_new(ctx, &l), 0);
    ck_assert_uint_eq(hd_assignment_list_count(l), 1);
    ck_assert_ptr_nonnull(hd_assignment_list_find(l, &gpu));
    hd_assignment_list_unref(l);
    ck_assert(fx_exists(&fx, "dev/vfio/1")); /* the GPU still holds the group's node */
    ck_assert_int_eq(hd_assign_release_force(ctx, &gpu), 0);
    ck_assert_str_eq(fx_driver(&fx, GPU), "nouveau");
    /* Detached by hand, never assigned: the emergency release returns it all the same. */
    struct hd_device *dev;
    ck_assert_int_eq(hd_device_open(ctx, &nic, &dev), 0);
    ck_assert_int_eq(hd_device_detach(dev, "vfio-pci", 0), 0);
    hd_device_unref(dev);
    ck_assert_int_eq(hd_assign_release_force(ctx, &nic), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "e1000e");
    unchanged(&fx, before);
    free(before);
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

/* Each of the @n writes @paths fails in turn in acquire (or, @in_release, in release) of @s:
 * the operation fails and the host is exactly @expect. */
static void each_fault_leaves(struct fx *fx, char paths[][HS_PATH], size_t n,
                              const struct scenario *s, bool in_release, const char *expect)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(fx_ctl(fx, "fault %s EIO nth=%u count=1", paths[i],
                                hs_occurrence(paths, i)), 0);
        int r = in_release ? release(fx, s->vm) : acquire(fx, s);
        ck_assert_int_eq(fx_ctl(fx, "clear-faults"), 0);
        char *now = snapshot(fx);
        ck_assert_msg(r < 0, "%s: %s survived a failing write %zu (%s)", s->name,
                      in_release ? "release" : "acquire", i, paths[i]);
        ck_assert_msg(strcmp(now, expect) == 0, "%s: %s write %zu (%s) failed, host not as "
                      "before:\n%s\nwas\n%s", s->name, in_release ? "release" : "acquire", i,
                      paths[i], now, expect);
        free(now);
    }
}

/* Park NIC on pci-stub: by hostdev (driver_override pci-stub, the record e1000e), or as
 * pci-stub.ids= does at boot (new_id: no override, no record). */
static void park_on_pci_stub(struct fx *fx, struct hd_ctx *ctx, bool by_hostdev)
{
    struct hd_pci_addr nic;
    struct hd_device *dev;

    if (by_hostdev) {
        ck_assert_int_eq(hd_pci_addr_parse(NIC, &nic), 0);
        ck_assert_int_eq(hd_device_open(ctx, &nic, &dev), 0);
        ck_assert_int_eq(hd_device_detach(dev, "pci-stub", 0), 0);
        hd_device_unref(dev);
        ck_assert_str_eq(fx_read(fx, "sys/bus/pci/devices/" NIC "/driver_override"), "pci-stub");
    } else {
        ck_assert_int_eq(fx_write(fx, "sys/bus/pci/drivers/e1000e/unbind", NIC), 0);
        ck_assert_int_eq(fx_write(fx, "sys/bus/pci/drivers/pci-stub/new_id", "8086 10d3"), 0);
        ck_assert_int_eq(fx_write(fx, "sys/bus/pci/drivers/pci-stub/remove_id", "8086 10d3"), 0);
        ck_assert(!fx_exists(fx, "run/hostdev/drivers/" NIC));
    }
    ck_assert_str_eq(fx_driver(fx, NIC), "pci-stub");
}

/* A device parked on pci-stub: unmanaged, VFIO cannot use it and nothing changes; managed, it
 * moves to vfio-pci (libvirt's detach) and release puts it back on pci-stub exactly: its
 * driver_override and its record (or none) as they were. Every write of both failing in
 * turn leaves the host as before. */
HD_LOOP_TEST_IN(faults, managed_from_pci_stub, 2)
{
    static const struct scenario s = {"pci-stub", "vm1", {NIC}, 1, 0, {"pci-stub"}};
    char paths[64][HS_PATH], *before, *held;
    struct hd_pci_addr nic;
    struct hd_ctx *ctx;
    struct fx fx;
    size_t n;

    mount_spec(&fx);
    ctx = ctx_on(&fx);
    park_on_pci_stub(&fx, ctx, _i == 0);
    before = snapshot(&fx);
    ck_assert_int_eq(hd_pci_addr_parse(NIC, &nic), 0);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm1", &nic, 1, 0, 0, HD_ACQUIRE_UNMANAGED), -EBUSY);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "is on pci-stub, which VFIO cannot use"));
    unchanged(&fx, before);

    ck_assert_int_eq(fx_ctl(&fx, "mark clean-acquire"), 0);
    ck_assert_int_eq(acquire(&fx, &s), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&fx, "dev/vfio/8"));
    ck_assert_ptr_nonnull(fx_read(&fx, "run/hostdev/map/assignments"));
    ck_assert_msg(strstr(fx.scratch, " driver=pci-stub ") != NULL &&
                  strstr(fx.scratch, _i == 0 ? " override=pci-stub " : " override=- ") != NULL,
                  "map: %s", fx.scratch);
    held = snapshot(&fx);
    n = hs_writes_since(&fx, "clean-acquire", paths, 64);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(release(&fx, "vm1"), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "pci-stub");
    unchanged(&fx, before);

    each_fault_leaves(&fx, paths, n, &s, false, before);
    ck_assert_int_eq(acquire(&fx, &s), 0);
    ck_assert_int_eq(fx_ctl(&fx, "mark clean-release"), 0);
    ck_assert_int_eq(release(&fx, "vm1"), 0);
    n = hs_writes_since(&fx, "clean-release", paths, 64);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(acquire(&fx, &s), 0);
    free(held);
    held = snapshot(&fx);
    each_fault_leaves(&fx, paths, n, &s, true, held);
    /* The emergency release puts it back on pci-stub too. */
    ck_assert_int_eq(hd_assign_release_force(ctx, &nic), 0);
    unchanged(&fx, before);
    free(held);
    free(before);
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

static void node_is(struct fx *fx, const char *rel, unsigned uid, unsigned gid, unsigned mode)
{
    struct stat st;

    ck_assert_msg(stat(fx_path(fx, rel), &st) == 0, "%s missing", rel);
    ck_assert_msg(st.st_uid == uid && st.st_gid == gid && (st.st_mode & 07777) == mode,
                  "%s is %u:%u %04o, expected %u:%u %04o", rel, (unsigned)st.st_uid,
                  (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777), uid, gid, mode);
}

/* Kernels with the vfio cdev (6.6+): dev/vfio/devices/vfioX and dev/iommu go to the VM's user
 * too. dev/iommu serves every VM: it follows whoever still holds it, and gets its original
 * owner back only when the last one is released. */
HD_TEST(cdev_and_iommu_nodes)
{
    struct scenario nic = scenarios[0];
    char *with_cdev, *before;
    struct fx fx;

    with_cdev = cdev_spec();
    ck_assert_msg(fx_mount_text(&fx, with_cdev) == 0, "mount: %s", fx.error);
    free(with_cdev);
    before = snapshot(&fx);
    nic.vm = "vm-a";
    ck_assert_int_eq(acquire(&fx, &nic), 0); /* 107:108 */
    node_is(&fx, "dev/vfio/devices/vfio0", 107, 108, 0660);
    node_is(&fx, "dev/iommu", 107, 108, 0660);
    struct hd_ctx *ctx = ctx_on(&fx);
    struct hd_pci_addr a;
    ck_assert_int_eq(hd_pci_addr_parse(GPU, &a), 0);
    ck_assert_int_eq(hd_assign_acquire(ctx, "vm-b", &a, 1, 200, 201, HD_ACQUIRE_GROUP), 0);
    node_is(&fx, "dev/iommu", 200, 201, 0660);
    ck_assert_int_eq(release(&fx, "vm-b"), 0);
    node_is(&fx, "dev/iommu", 107, 108, 0660); /* vm-a still uses it */
    node_is(&fx, "dev/vfio/devices/vfio0", 107, 108, 0660);
    ck_assert_int_eq(release(&fx, "vm-a"), 0);
    node_is(&fx, "dev/iommu", 0, 0, 0660);
    unchanged(&fx, before);
    free(before);
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

/* The commands as a user meets them: refusals exit 1 naming the reason and, on the same one
 * line, the way out; bad input exits 2; nothing changes either way. */
HD_TEST(commands_refuse_by_name)
{
    static const char force[] = " (--force takes it anyway)\n";
    static const struct {
        const char *args;
        int status;
        const char *says;
        bool forceable;
    } cases[] = {
        {"detach 0000:03:00.0", 1, "enp3s0 is up with routes", true},
        {"detach 0000:02:00.0", 1, "backs /dev/nvme0n1p2 mounted on /", true},
        {"acquire --vm web1 0000:00:02.0", 1, "drives framebuffer fb0 (the console)", true},
        {"acquire --vm web1 --unmanaged 0000:04:00.0", 1, "must be detached ahead of booting", false},
        {"acquire --vm 'web 1' 0000:04:00.0", 2, "invalid VM id 'web 1'", false},
        {"acquire --vm web1 --owner nosuchuser-xyz 0000:04:00.0", 2, "no user 'nosuchuser-xyz'", false},
        {"acquire --vm web1 0000:04:00.9", 2, "invalid PCI address", false},
        {"release --vm web1 0000:7f:00.0", 2, "0000:7f:00.0: no such PCI device", false},
    };
    struct fx fx;
    char *before;

    ck_assert_msg(fx_mount_text(&fx, busy_spec) == 0, "mount: %s", fx.error);
    before = snapshot(&fx);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char cmd[512], *out = NULL, *err = NULL;
        snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev --root %s %s",
                 at_build_dir(), fx.root, cases[i].args);
        int status = at_run(cmd, &out, &err);
        ck_assert_msg(status == cases[i].status, "%s: exit %d, expected %d (%s)", cases[i].args,
                      status, cases[i].status, err);
        ck_assert_msg(strstr(err, cases[i].says) != NULL, "%s: '%s' lacks '%s'", cases[i].args,
                      err, cases[i].says);
        ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "%s: not one line: '%s'",
                      cases[i].args, err);
        ck_assert_msg(cases[i].forceable == (strlen(err) > strlen(force) &&
                                             strcmp(err + strlen(err) - strlen(force), force) == 0),
                      "%s: '%s'", cases[i].args, err);
        free(out);
        free(err);
        unchanged(&fx, before);
    }
    free(before);
    fx_umount(&fx);
}
END_TEST

HD_LOOP_TEST_IN(faults, fault_matrix, sizeof(scenarios) / sizeof(scenarios[0]))
{
    const struct scenario *s = &scenarios[_i];
    char paths[64][HS_PATH], *before, *held;
    size_t n;
    struct fx fx;

    mount_spec(&fx);
    before = snapshot(&fx);
    /* A clean run tells which writes acquire and release make. */
    ck_assert_int_eq(fx_ctl(&fx, "mark clean-acquire"), 0);
    ck_assert_int_eq(acquire(&fx, s), 0);
    held = snapshot(&fx);
    n = hs_writes_since(&fx, "clean-acquire", paths, 64);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(release(&fx, s->vm), 0);
    unchanged(&fx, before);
    each_fault_leaves(&fx, paths, n, s, false, before);
    /* The same for release, from the acquired state. */
    ck_assert_int_eq(acquire(&fx, s), 0);
    ck_assert_int_eq(fx_ctl(&fx, "mark clean-release"), 0);
    ck_assert_int_eq(release(&fx, s->vm), 0);
    n = hs_writes_since(&fx, "clean-release", paths, 64);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(acquire(&fx, s), 0);
    free(held);
    held = snapshot(&fx);
    each_fault_leaves(&fx, paths, n, s, true, held);
    ck_assert_int_eq(release(&fx, s->vm), 0);
    unchanged(&fx, before);
    free(held);
    free(before);
    fx_umount(&fx);
}
END_TEST

/* Run the operation in a child, wait until it hangs in its @nth unbind from @driver, kill -9
 * it, let the unbind finish, recover: the host must be as @expect. The first unbind hangs
 * until released; later ones hang a while each, so that the earlier ones pass. */
static void kill_at_unbind(struct fx *fx, const struct scenario *s, bool in_release,
                           const char *driver, unsigned int nth, const char *expect)
{
    size_t seen;
    pid_t pid;
    int status, r = -EBUSY;

    ck_assert_int_eq(fx_ctl(fx, "clear-log"), 0);
    ck_assert_int_eq(fx_ctl(fx, "hang %s %s", driver, nth == 1 ? "forever" : "300"), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit((in_release ? release(fx, s->vm) : acquire(fx, s)) == 0 ? 0 : 1);
    /* A bound on the wait, not a measurement: it only keeps a broken build from hanging. */
    for (int tries = 0; (seen = fx_log_count(fx, "unbind-hang ")) < nth && tries < 4000; tries++)
        usleep(5000);
    ck_assert_uint_ge(seen, nth);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    /* The unbind still hangs: its writer holds the intent log, and recover leaves it. */
    if (nth == 1)
        ck_assert_int_eq(recover(fx), -EBUSY);
    ck_assert_int_eq(fx_ctl(fx, "hang %s 0", driver), 0);
    ck_assert_int_eq(fx_ctl(fx, "release"), 0);
    for (int tries = 0; r == -EBUSY && tries < 4000; tries++) {
        if ((r = recover(fx)) == -EBUSY)
            usleep(5000);
    }
    ck_assert_int_eq(r, 0);
    char *now = snapshot(fx);
    ck_assert_msg(strcmp(now, expect) == 0, "%s: killed at %s unbind %u of %s: not restored:\n"
                  "%s\nexpected\n%s", s->name, driver, nth, in_release ? "release" : "acquire",
                  now, expect);
    free(now);
}

HD_LOOP_TEST_IN(kills, kill_matrix, sizeof(scenarios) / sizeof(scenarios[0]))
{
    const struct scenario *s = &scenarios[_i];
    char *before, *held;
    struct fx fx;

    mount_spec(&fx);
    before = snapshot(&fx);
    for (size_t k = 0; k < 2 && s->hang_acquire[k]; k++)
        kill_at_unbind(&fx, s, false, s->hang_acquire[k], 1, before);
    ck_assert_int_eq(acquire(&fx, s), 0);
    held = snapshot(&fx);
    /* Release unbinds each device from vfio-pci in turn. */
    for (unsigned int k = 1; k <= (s->flags & HD_ACQUIRE_GROUP ? 2u : 1u); k++)
        kill_at_unbind(&fx, s, true, "vfio-pci", k, held);
    ck_assert_int_eq(release(&fx, s->vm), 0);
    char *now = snapshot(&fx);
    ck_assert_str_eq(now, before);
    free(now);
    free(held);
    free(before);
    fx_umount(&fx);
}
END_TEST

/* Killed in the move from pci-stub (acquire) or back to it (release), parked either way:
 * recover puts the host back as it was, the override and the record too. */
HD_LOOP_TEST_IN(kills, kill_in_the_pci_stub_moves, 2)
{
    static const struct scenario s = {"pci-stub", "vm1", {NIC}, 1, 0, {"pci-stub"}};
    char *before, *held;
    struct hd_ctx *ctx;
    struct fx fx;

    mount_spec(&fx);
    ctx = ctx_on(&fx);
    park_on_pci_stub(&fx, ctx, _i == 0);
    hd_ctx_unref(ctx);
    before = snapshot(&fx);
    kill_at_unbind(&fx, &s, false, "pci-stub", 1, before);
    ck_assert_int_eq(acquire(&fx, &s), 0);
    held = snapshot(&fx);
    kill_at_unbind(&fx, &s, true, "vfio-pci", 1, held);
    ck_assert_int_eq(release(&fx, s.vm), 0);
    unchanged(&fx, before);
    free(held);
    free(before);
    fx_umount(&fx);
}
END_TEST

/* Child of race_managed: the first scenario's acquire, for @vm. */
static int race_acquire(void *fx, const char *vm)
{
    struct scenario s = scenarios[0];

    s.vm = vm;
    return acquire(fx, &s);
}

HD_TEST_IN(race, race_managed)
{
    enum { PROCS = 8, ROUNDS = 200 };
    struct fx fx;
    char *before;

    mount_spec(&fx);
    before = snapshot(&fx);
    for (int round = 0; round < ROUNDS; round++) {
        char vm[16];
        ah_race_one_owner(PROCS, race_acquire, &fx, round, vm);
        ck_assert_str_eq(fx_driver(&fx, NIC), "vfio-pci");
        ck_assert_int_eq(release(&fx, vm), 0);
    }
    char *now = snapshot(&fx);
    ck_assert_str_eq(now, before);
    free(now);
    free(before);
    fx_umount(&fx);
}
END_TEST

/* Killed while the second of a group's unbinds hangs: when the kernel lets go, the writer of
 * that unbind undoes the whole acquire by itself, with no recover run. Its own undo unbinds
 * the first device from vfio-pci through a writer of its own, forked from a process whose
 * stdin, stdout and stderr are closed: that writer's result socket must not be one of those
 * numbers, which it closes in turn. With @linger, the child that forks each writer (it exits
 * at once otherwise) stays 3 s after the fork: the caller is killed while waiting for it, and
 * the writer's write returns while it is still there with its copies of the caller's
 * descriptors (as when a loaded or traced machine delays its exit; valgrind did). */
static int fork_depth; /* in the forked caller: 0 there, 1 in a writer's parent, 2 in a writer */

static void count_fork(void)
{
    fork_depth++;
}

static void linger_in_writers_parent(void)
{
    if (fork_depth == 1)
        sleep(3);
}

static void writer_undoes_alone(bool linger)
{
    const struct scenario *s = &scenarios[1];
    char *before, *now = NULL;
    struct fx fx;
    bool back = false;
    int status;
    pid_t pid;

    mount_spec(&fx);
    before = snapshot(&fx);
    ck_assert_int_eq(fx_ctl(&fx, "hang snd_hda_intel forever"), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (linger && pthread_atfork(NULL, linger_in_writers_parent, count_fork) != 0)
            _exit(3);
        _exit(acquire(&fx, s) == 0 ? 0 : 1);
    }
    for (int tries = 0; fx_log_count(&fx, "unbind-hang ") < 1 && tries < 4000; tries++)
        usleep(5000);
    ck_assert_uint_ge(fx_log_count(&fx, "unbind-hang "), 1);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(fx_ctl(&fx, "hang snd_hda_intel 0"), 0);
    ck_assert_int_eq(fx_ctl(&fx, "release"), 0);
    /* A bound, not a measurement: the undo takes a few writes (and the lingering child). */
    for (int tries = 0; tries < 1000 && !back; tries++) {
        free(now);
        now = snapshot(&fx);
        back = strcmp(now, before) == 0; /* journals included */
        if (!back)
            usleep(10000);
    }
    ck_assert_msg(back, "not put back by its writer:\n%s\nwas\n%s", now, before);
    free(now);
    free(before);
    fx_umount(&fx);
}

HD_TEST_IN(kills, writer_undoes_alone)
{
    writer_undoes_alone(false);
}
END_TEST

HD_TEST_IN(kills, writer_undoes_alone_after_its_parent)
{
    writer_undoes_alone(true);
}
END_TEST

/* `hostdev --root ROOT ARGS`'s steps, one a line, as a dry run of it prints them too (its
 * heading dropped, its indent taken off). */
static char *steps_of(struct fx *fx, bool dry_run, const char *args)
{
    char cmd[1024], *out = NULL, *err = NULL, *steps, *w;

    snprintf(cmd, sizeof(cmd), "%s/hostdev --root %s --names none %s%s", at_build_dir(),
             fx->root, dry_run ? "--dry-run " : "", args);
    ck_assert_msg(at_run(cmd, &out, &err) == 0, "%s: %s", cmd, err);
    steps = w = calloc(1, strlen(out) + 1);
    ck_assert_ptr_nonnull(steps);
    for (const char *line = out; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        if (dry_run && strncmp(line, "  ", 2) == 0) {
            memcpy(w, line + 2, len - 2);
            w += len - 2;
        } else if (!dry_run) {
            memcpy(w, line, len);
            w += len;
        }
        line += len;
    }
    free(out);
    free(err);
    return steps;
}

/* A dry run plans what the real run then does, no more: a group's node changes owner once,
 * with the group's first device, in acquire and in release alike. */
HD_TEST(dry_run_plans_what_is_done)
{
    static const char *const cmds[] = {"acquire --vm v --owner 0:0 --group " GPU,
                                        "release --vm v", "acquire --vm v --owner 0:0 " GPU
                                        " " AUDIO, "release --vm v"};
    struct fx fx;

    mount_spec(&fx);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        char *planned = steps_of(&fx, true, cmds[i]), *done = steps_of(&fx, false, cmds[i]);
        ck_assert_msg(strcmp(planned, done) == 0, "%s: planned\n%s\ndone\n%s", cmds[i],
                      planned, done);
        free(planned);
        free(done);
    }
    fx_umount(&fx);
}
END_TEST

/* Releasing one device of a VM's IOMMU group back to its host driver while the VM keeps
 * another would leave the VM a group that is not viable: refused, naming both, nothing
 * changed, whether the two were asked for or one came with --group; one that stays on
 * vfio-pci (unmanaged) may go alone. */
HD_TEST(release_keeps_a_group_whole)
{
    const struct scenario *s = &scenarios[1];
    struct hd_pci_addr gpu, audio;
    struct hd_ctx *ctx;
    char *before, *held;
    struct fx fx;

    mount_spec(&fx);
    ck_assert_int_eq(hd_pci_addr_parse(GPU, &gpu), 0);
    ck_assert_int_eq(hd_pci_addr_parse(AUDIO, &audio), 0);
    before = snapshot(&fx);
    ctx = ctx_on(&fx);
    for (unsigned int flags = 0; flags <= HD_ACQUIRE_GROUP; flags += HD_ACQUIRE_GROUP) {
        struct hd_pci_addr both[2] = {gpu, audio};
        ck_assert_int_eq(hd_assign_acquire(ctx, s->vm, both, flags ? 1 : 2, 107, 108, flags), 0);
        held = snapshot(&fx);
        ck_assert_int_eq(hd_assign_release(ctx, s->vm, &audio, 1), -EBUSY);
        ck_assert_str_eq(hd_ctx_last_error(ctx), AUDIO " would go back to snd_hda_intel while "
                         "the VM keeps " GPU " of its IOMMU group 1: release both together");
        unchanged(&fx, held);
        ck_assert_int_eq(hd_assign_release(ctx, s->vm, &gpu, 1), flags ? 0 : -EBUSY);
        if (!flags) {
            unchanged(&fx, held);
            ck_assert_int_eq(hd_assign_release(ctx, s->vm, both, 2), 0);
        }
        unchanged(&fx, before);
        free(held);
    }
    /* Unmanaged, they stay on vfio-pci: one may go while the VM keeps the other. */
    struct hd_pci_addr both[2] = {gpu, audio};
    struct hd_device *dev;
    ck_assert_int_eq(hd_device_open(ctx, &gpu, &dev), 0);
    ck_assert_int_eq(hd_device_detach_group(dev, NULL, 0), 0);
    hd_device_unref(dev);
    ck_assert_int_eq(hd_assign_acquire(ctx, s->vm, both, 2, 107, 108, HD_ACQUIRE_UNMANAGED), 0);
    ck_assert_int_eq(hd_assign_release(ctx, s->vm, &audio, 1), 0);
    ck_assert_str_eq(fx_driver(&fx, AUDIO), "vfio-pci");
    ck_assert_int_eq(hd_assign_release(ctx, s->vm, NULL, 0), 0);
    hd_ctx_unref(ctx);
    free(before);
    fx_umount(&fx);
}
END_TEST
