/* test-vfio.c - verify with a scripted kernel: each failure errno and its explanation. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "internal.h"
#include "tmptree.h"

#include "hdtest.h"

#define MDEV_UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

/* ---- a tree: device 0000:00:02.0 in group 1 with a sibling 0000:00:02.1 ------------------- */

/* The fake kernel's tree (docs/fakesys-spec.md), materialized as plain files: the tests then
 * change what the kernel would (a driver link, a vfio-dev directory) by hand. */
static const char tree_spec[] =
    "kernel 6.1.0\n"
    "iommu intel\n"
    "module vfio\n"
    "module vfio_iommu_type1\n"
    "param vfio_iommu_type1 allow_unsafe_interrupts N\n"
    "driver vfio-pci stub vfio\n"
    "driver e1000e ids=8086:10d3\n"
    "device 0000:00:02.0 8086:10d3 class=020000 group=1 driver=vfio-pci\n"
    "device 0000:00:02.1 8086:10d3 class=020000 group=1\n"
    "mdev-type mtty mtty-1 name=mtty-1 api=vfio-pci instances=2\n"
    "mdev " MDEV_UUID " mtty mtty-1\n"
    /* no vfio-dev directory (as before 6.1): the cdev tests make their own */
    "feature vfio_dev off\n";

static char *root;

static void mkdirs(const char *rel)
{
    ck_assert_int_eq(tmptree_mkdir(root, rel), 0);
}

static void file_(const char *rel, const char *content)
{
    ck_assert_int_eq(tmptree_write(root, rel, content), 0);
}

#define DEV "sys/bus/pci/devices/"

/* The driver as the kernel shows it: the driver link and uevent's DRIVER=. NULL: unbound. */
static void set_driver(const char *bdf, const char *driver)
{
    char rel[256], target[256], uevent[512], path[512];

    snprintf(rel, sizeof(rel), DEV "%s/driver", bdf);
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    unlink(path);
    if (driver != NULL) { /* from sys/devices/pci0000:00/BDF */
        snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
        ck_assert_int_eq(tmptree_symlink(root, rel, target), 0);
    }
    snprintf(uevent, sizeof(uevent),
             "%s%s%sPCI_CLASS=20000\nPCI_ID=8086:10D3\nPCI_SUBSYS_ID=8086:10D3\n"
             "PCI_SLOT_NAME=%s\nMODALIAS=pci:v00008086d000010D3sv00008086sd000010D3bc02sc00i00\n",
             driver ? "DRIVER=" : "", driver ? driver : "", driver ? "\n" : "", bdf);
    snprintf(rel, sizeof(rel), DEV "%s/uevent", bdf);
    file_(rel, uevent);
}

static struct fx tree_fx;

static void make_tree(void)
{
    ck_assert_msg(fx_materialize_text(&tree_fx, tree_spec) == 0, "%s", tree_fx.error);
    root = tree_fx.root;
}

static void remove_tree(void)
{
    fx_umount(&tree_fx);
    root = NULL;
}

/* ---- the scripted kernel ------------------------------------------------------------------- */

enum { FD_CONTAINER = 100, FD_GROUP, FD_DEVICE, FD_CDEV, FD_IOMMUFD };

struct fake {
    const char *fail_open;    /* path whose open fails with err */
    unsigned long fail_ioctl; /* request that fails with err */
    int err;
    bool not_viable;
    bool no_type1v2, no_type1;
    int api_version;
    bool nodev; /* dev/ is mounted nodev */
    const char *device_name; /* what VFIO_GROUP_GET_DEVICE_FD must be asked for (NULL: 02.0) */
    const char *group_node;  /* the group's node (NULL: dev/vfio/1, the PCI devices') */
    int open_fds;
    int opens, ioctls;
    unsigned long set_iommu_type;
};

static int fake_open(void *data, struct hd_ctx *ctx, const char *path, int flags)
{
    struct fake *f = data;

    (void)ctx;
    ck_assert_int_eq(flags & O_ACCMODE, O_RDWR);
    f->opens++;
    if (f->fail_open != NULL && strcmp(path, f->fail_open) == 0)
        return f->err;
    f->open_fds++;
    if (strcmp(path, "dev/vfio/vfio") == 0)
        return FD_CONTAINER;
    if (strcmp(path, f->group_node ? f->group_node : "dev/vfio/1") == 0)
        return FD_GROUP;
    if (strcmp(path, "dev/vfio/devices/vfio0") == 0)
        return FD_CDEV;
    if (strcmp(path, "dev/iommu") == 0)
        return FD_IOMMUFD;
    f->open_fds--;
    return -ENOENT;
}

static int fake_ioctl_val(void *data, int fd, unsigned long request, unsigned long arg)
{
    struct fake *f = data;

    f->ioctls++;
    ck_assert_int_eq(fd, FD_CONTAINER);
    if (f->fail_ioctl == request)
        return f->err;
    switch (request) {
    case VFIO_GET_API_VERSION:
        return f->api_version;
    case VFIO_CHECK_EXTENSION:
        if (arg == VFIO_TYPE1v2_IOMMU)
            return f->no_type1v2 ? 0 : 1;
        if (arg == VFIO_TYPE1_IOMMU)
            return f->no_type1 ? 0 : 1;
        return 0;
    case VFIO_SET_IOMMU:
        f->set_iommu_type = arg;
        return 0;
    default:
        ck_abort_msg("unexpected ioctl 0x%lx with a number", request);
        return -ENOTTY;
    }
}

static int fake_ioctl(void *data, int fd, unsigned long request, void *arg)
{
    struct fake *f = data;

    f->ioctls++;
    if (f->fail_ioctl == request)
        return f->err;
    switch (request) {
    case VFIO_GROUP_GET_STATUS: {
        struct vfio_group_status *s = arg;
        ck_assert_int_eq(fd, FD_GROUP);
        ck_assert_uint_eq(s->argsz, sizeof(*s));
        s->flags = f->not_viable ? 0 : VFIO_GROUP_FLAGS_VIABLE;
        return 0;
    }
    case VFIO_GROUP_SET_CONTAINER:
        ck_assert_int_eq(fd, FD_GROUP);
        ck_assert_int_eq(*(int *)arg, FD_CONTAINER);
        return 0;
    case VFIO_GROUP_GET_DEVICE_FD:
        ck_assert_int_eq(fd, FD_GROUP);
        ck_assert_str_eq((const char *)arg, f->device_name ? f->device_name : "0000:00:02.0");
        f->open_fds++;
        return FD_DEVICE;
    case VFIO_DEVICE_GET_INFO: {
        struct vfio_device_info *i = arg;
        ck_assert(fd == FD_DEVICE || fd == FD_CDEV);
        i->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
        i->num_regions = 9;
        i->num_irqs = 5;
        return 0;
    }
    default:
        return 0; /* cdev/iommufd calls: fine unless told to fail */
    }
}

static void fake_close(void *data, int fd)
{
    struct fake *f = data;

    ck_assert(fd >= FD_CONTAINER && fd <= FD_IOMMUFD);
    f->open_fds--;
}

static struct fake fk;
static bool fake_nodev(void *data, struct hd_ctx *ctx, const char *path)
{
    (void)ctx;
    return ((struct fake *)data)->nodev && strncmp(path, "dev/", 4) == 0;
}

static const struct hd_vfio_ops ops = {fake_open, fake_ioctl, fake_ioctl_val, fake_close,
                                       fake_nodev, &fk};
static struct hd_ctx *ctx;
static struct hd_vfio_report *rep;

static void setup(void)
{
    memset(&fk, 0, sizeof(fk));
    fk.api_version = VFIO_API_VERSION;
    make_tree();
    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
    hd_ctx_set_names_file(ctx, ""); /* no names: nothing read from the host */
    rep = NULL;
}

static void teardown(void)
{
    hd_vfio_report_unref(rep);
    hd_ctx_unref(ctx);
    remove_tree();
}

static int verify(void)
{
    struct hd_pci_addr a;
    int r;

    ck_assert_int_eq(hd_pci_addr_parse("0000:00:02.0", &a), 0);
    r = hd_vfio_verify_ops(ctx, &a, &ops, &rep);
    ck_assert_ptr_nonnull(rep);
    ck_assert_int_eq(fk.open_fds, 0); /* everything closed, whatever happened */
    ck_assert_int_eq(hd_vfio_report_is_usable(rep), r == 0);
    return r;
}

/* The one finding of a failed check, as the context's error says it: "MESSAGE. Fix: FIX." */
static const char *why(void)
{
    static char text[4096];
    const struct hd_findings *f = hd_vfio_report_get_findings(rep);

    ck_assert_uint_eq(hd_findings_count(f), 1);
    ck_assert_int_eq(hd_findings_get_severity(f, 0), HD_SEVERITY_ERROR);
    ck_assert_str_eq(hd_findings_get_device(f, 0), hd_vfio_report_get_name(rep));
    ck_assert_ptr_nonnull(hd_findings_get_code(f, 0));
    ck_assert(hd_findings_get_fix(f, 0)[0] != '\0');
    snprintf(text, sizeof(text), "%s. Fix: %s.", hd_findings_get_message(f, 0),
             hd_findings_get_fix(f, 0));
    return text;
}

/* The explanation says @text, and (a library's words) never names a hostdev command. */
#define ck_explains(text)                                                                          \
    do {                                                                                           \
        ck_assert_msg(strstr(why(), (text)) != NULL, "explanation lacks '%s': %s", (text),         \
                      why());                                                                      \
        ck_assert_msg(strstr(why(), "hostdev ") == NULL, "names a command: %s", why());           \
    } while (0)

/* The step named @name failed with @err and is the last one tried. */
static void ck_last_step(const char *name, int err)
{
    size_t n = hd_vfio_report_get_step_count(rep);

    ck_assert_uint_gt(n, 0);
    ck_assert_str_eq(hd_vfio_report_get_step_name(rep, n - 1), name);
    ck_assert_int_eq(hd_vfio_report_get_step_status(rep, n - 1), HD_VFIO_STEP_FAILED);
    ck_assert_int_eq(hd_vfio_report_get_step_error(rep, n - 1), err);
}

/* ---- tests ----------------------------------------------------------------------------------- */

HD_TEST_FILE(.setup = setup, .teardown = teardown);

HD_TEST(usable_through_the_group)
{
    uint32_t flags, nreg, nirq;
    size_t n;

    ck_assert_int_eq(verify(), 0);
    ck_assert_uint_eq(hd_findings_count(hd_vfio_report_get_findings(rep)), 0);
    ck_assert_int_eq(hd_vfio_report_get_group(rep), 1);
    ck_assert_str_eq(hd_vfio_report_get_driver(rep), "vfio-pci");
    ck_assert_str_eq(hd_vfio_report_get_iommu_type(rep), "Type1v2");
    ck_assert_uint_eq(fk.set_iommu_type, VFIO_TYPE1v2_IOMMU);
    ck_assert_int_eq(hd_vfio_report_get_device_info(rep, &flags, &nreg, &nirq), 0);
    ck_assert_uint_eq(nreg, 9);
    ck_assert_uint_eq(nirq, 5);
    ck_assert(flags & VFIO_DEVICE_FLAGS_PCI);
    /* No vfio-dev: the cdev path is reported as skipped, not failed. */
    n = hd_vfio_report_get_step_count(rep);
    ck_assert_str_eq(hd_vfio_report_get_step_name(rep, n - 1), "vfio cdev");
    ck_assert_int_eq(hd_vfio_report_get_step_status(rep, n - 1), HD_VFIO_STEP_SKIPPED);
    ck_assert_ptr_null(hd_vfio_report_get_cdev(rep));
    ck_assert_uint_eq(hd_vfio_report_get_blocker_count(rep), 0);
}
END_TEST

HD_TEST(falls_back_to_type1)
{
    fk.no_type1v2 = true;
    ck_assert_int_eq(verify(), 0);
    ck_assert_str_eq(hd_vfio_report_get_iommu_type(rep), "Type1");
    ck_assert_uint_eq(fk.set_iommu_type, VFIO_TYPE1_IOMMU);
}
END_TEST

HD_TEST(no_type1_backend)
{
    fk.no_type1v2 = fk.no_type1 = true;
    ck_assert_int_eq(verify(), -ENOTSUP);
    ck_last_step("VFIO_CHECK_EXTENSION", -ENOTSUP);
    ck_explains("modprobe vfio_iommu_type1");
}
END_TEST

HD_TEST(wrong_api_version)
{
    fk.api_version = 1;
    ck_assert_int_eq(verify(), -EPROTO);
    ck_explains("API version 1");
}
END_TEST

HD_TEST(not_viable_names_blockers_and_fix)
{
    set_driver("0000:00:02.1", "e1000e");
    fk.not_viable = true;
    ck_assert_int_eq(verify(), -EPERM);
    ck_last_step("VFIO_GROUP_GET_STATUS", -EPERM);
    ck_explains("group 1 is not viable");
    ck_explains("0000:00:02.1 (on e1000e)");
    ck_explains("detach the whole group of 0000:00:02.0 to vfio-pci");
    ck_explains("allow_unsafe_interrupts does not help"); /* unlike what some guides say */
    ck_assert_int_eq(hd_findings_get_remedy(hd_vfio_report_get_findings(rep), 0),
                     HD_REMEDY_DETACH_GROUP);
    ck_assert_uint_eq(hd_vfio_report_get_blocker_count(rep), 1);
    ck_assert_str_eq(hd_vfio_report_get_blocker_name(rep, 0), "0000:00:02.1");
    ck_assert_str_eq(hd_vfio_report_get_blocker_driver(rep, 0), "e1000e");
}
END_TEST

/* A blocker the host uses (an interface up with routes): detaching the group would be refused,
 * so the fix is to free it first, naming what the host has on it, and no command is offered. */
HD_TEST(not_viable_blocker_the_host_uses_is_not_advised_away)
{
    char spec[sizeof(tree_spec) + 128];

    /* An interface is the bound driver's: the member is on e1000e from the start. */
    hd_ctx_unref(ctx);
    remove_tree();
    snprintf(spec, sizeof(spec),
             "%sdevice 0000:00:02.3 8086:10d3 class=020000 group=1 driver=e1000e\n"
             "net 0000:00:02.3 eth1 up route=0.0.0.0/0\n",
             tree_spec);
    ck_assert_msg(fx_materialize_text(&tree_fx, spec) == 0, "%s", tree_fx.error);
    root = tree_fx.root;
    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
    hd_ctx_set_names_file(ctx, "");
    fk.not_viable = true;
    ck_assert_int_eq(verify(), -EPERM);
    ck_explains("the host uses a member of it: 0000:00:02.3: eth1 is up with routes");
    ck_explains("move that use off it first");
    ck_assert_ptr_null(strstr(why(), "detach the whole group"));
    ck_assert_int_eq(hd_findings_get_remedy(hd_vfio_report_get_findings(rep), 0), HD_REMEDY_NONE);
    ck_assert_uint_eq(hd_vfio_report_get_blocker_count(rep), 1);
    ck_assert_str_eq(hd_vfio_report_get_blocker_name(rep, 0), "0000:00:02.3");
}
END_TEST

HD_TEST(stub_and_bridge_drivers_do_not_block)
{
    /* The kernel says not viable, yet no member is on a host driver: say so, name nobody. */
    set_driver("0000:00:02.1", "pci-stub");
    fk.not_viable = true;
    ck_assert_int_eq(verify(), -EPERM);
    ck_assert_uint_eq(hd_vfio_report_get_blocker_count(rep), 0);
    ck_explains("No member on a host driver was found");
    hd_vfio_report_unref(rep);
    set_driver("0000:00:02.1", "pcieport");
    ck_assert_int_eq(verify(), -EPERM);
    ck_assert_uint_eq(hd_vfio_report_get_blocker_count(rep), 0);
}
END_TEST

HD_TEST(variant_driver_counts_as_vfio)
{
    set_driver("0000:00:02.0", "mlx5_vfio_pci");
    ck_assert_int_eq(verify(), 0);
    ck_assert_str_eq(hd_vfio_report_get_driver(rep), "mlx5_vfio_pci");
}
END_TEST

HD_TEST(eperm_on_set_iommu_is_interrupt_remapping)
{
    fk.fail_ioctl = VFIO_SET_IOMMU;
    fk.err = -EPERM;
    ck_assert_int_eq(verify(), -EPERM);
    ck_last_step("VFIO_SET_IOMMU", -EPERM);
    ck_explains("interrupt remapping");
    ck_explains("allow_unsafe_interrupts=N");
    ck_explains("vfio_iommu_type1.allow_unsafe_interrupts=1");
    ck_explains("inject interrupts into the host"); /* the risk */
    ck_assert_ptr_null(hd_vfio_report_get_iommu_type(rep));
}
END_TEST

HD_TEST(eacces_on_group_names_owner_and_who_needs_access)
{
    fk.fail_open = "dev/vfio/1";
    fk.err = -EACCES;
    ck_assert_int_eq(verify(), -EACCES);
    ck_last_step("open /dev/vfio/1", -EACCES);
    ck_explains("permission denied opening /dev/vfio/1");
    ck_explains("mode 0600"); /* as the fake kernel (and vfio) makes the node */
    ck_explains("owner uid");
    ck_explains("qemu");
}
END_TEST

/* EACCES on a nodev mount is not about owners: the fix is a /dev without nodev. */
HD_TEST(eacces_on_a_nodev_mount)
{
    fk.fail_open = "dev/vfio/1";
    fk.err = -EACCES;
    fk.nodev = true;
    ck_assert_int_eq(verify(), -EACCES);
    ck_explains("mounted nodev");
    ck_explains("--device /dev/vfio/1");
    ck_assert_ptr_null(strstr(why(), "OWNER=")); /* not the permission advice */
}
END_TEST

HD_TEST(eacces_on_container)
{
    fk.fail_open = "dev/vfio/vfio";
    fk.err = -EACCES;
    ck_assert_int_eq(verify(), -EACCES);
    ck_explains("permission denied opening /dev/vfio/vfio");
}
END_TEST

HD_TEST(ebusy_on_group_is_open_elsewhere)
{
    fk.fail_open = "dev/vfio/1";
    fk.err = -EBUSY;
    ck_assert_int_eq(verify(), -EBUSY);
    ck_explains("already open elsewhere");
    ck_explains("another VM");
}
END_TEST

/* Before a mediated device's remove: is its group open elsewhere? Only the kernel's EBUSY on
 * the node says yes; an open that succeeds is closed at once. */
HD_TEST(group_held_is_the_kernels_ebusy)
{
    ck_assert_int_eq(hd_vfio_group_held_ops(ctx, 1, &ops), 0);
    ck_assert_int_eq(fk.opens, 1);
    ck_assert_int_eq(fk.open_fds, 0);
    fk.fail_open = "dev/vfio/1";
    fk.err = -EBUSY;
    ck_assert_int_eq(hd_vfio_group_held_ops(ctx, 1, &ops), 1);
    /* No node, a nodev mount, no permission: the node cannot tell. */
    int cannot_tell[] = {-ENOENT, -EACCES, -EPERM, -ENODEV};
    for (size_t i = 0; i < HD_ARRAY_SIZE(cannot_tell); i++) {
        fk.err = cannot_tell[i];
        ck_assert_int_eq(hd_vfio_group_held_ops(ctx, 1, &ops), 0);
    }
    ck_assert_int_eq(hd_vfio_group_held_ops(ctx, -1, &ops), 0); /* no group: nothing opened */
    ck_assert_int_eq(fk.opens, 6);
    ck_assert_int_eq(fk.open_fds, 0);
}
END_TEST

HD_TEST(enoent_on_group_means_not_detached)
{
    fk.fail_open = "dev/vfio/1";
    fk.err = -ENOENT;
    ck_assert_int_eq(verify(), -ENOENT);
    ck_explains("/dev/vfio/1 does not exist");
    ck_explains("Fix: detach 0000:00:02.0 to vfio-pci");
}
END_TEST

HD_TEST(enoent_on_container_means_no_module)
{
    fk.fail_open = "dev/vfio/vfio";
    fk.err = -ENOENT;
    ck_assert_int_eq(verify(), -ENOENT);
    ck_explains("modprobe vfio-pci");
}
END_TEST

HD_TEST(device_on_host_driver_is_not_detached)
{
    set_driver("0000:00:02.0", "e1000e");
    ck_assert_int_eq(verify(), -ENOENT);
    /* No call failed: the step says the driver, with no errno to print after it. */
    ck_last_step("driver", 0);
    ck_assert_str_eq(hd_vfio_report_get_step_detail(rep, hd_vfio_report_get_step_count(rep) - 1),
                     "e1000e, not vfio-pci");
    ck_explains("not detached: it is bound to e1000e");
    ck_explains("Fix: detach it to vfio-pci");
    ck_assert_int_eq(fk.opens, 0); /* decided from sysfs, nothing opened */
    set_driver("0000:00:02.0", NULL);
    hd_vfio_report_unref(rep);
    ck_assert_int_eq(verify(), -ENOENT);
    ck_explains("bound to no driver");
}
END_TEST

/* The tree again from @spec: 0000:00:02.0 as it says. */
static void remake_tree(const char *spec)
{
    hd_ctx_unref(ctx);
    remove_tree();
    ck_assert_msg(fx_materialize_text(&tree_fx, spec) == 0, "%s", tree_fx.error);
    root = tree_fx.root;
    ck_assert_int_eq(hd_ctx_new(root, &ctx), 0);
    hd_ctx_set_names_file(ctx, "");
}

/* Never advise a detach that refuses the device: the host uses it, keeps it, or it is a
 * bridge. The fix says why instead, with no remedy to run. */
HD_TEST(not_detached_and_not_for_detach_is_not_advised_a_detach)
{
    const char *head = "kernel 6.1.0\niommu intel\nmodule vfio\nmodule vfio_iommu_type1\n"
                       "driver vfio-pci stub vfio\ndriver e1000e ids=8086:10d3\n"
                       "driver pcieport builtin class=060400\n";
    char spec[1024];

    snprintf(spec, sizeof(spec), "%sdevice 0000:00:02.0 8086:10d3 class=020000 group=1 "
             "driver=e1000e\nnet 0000:00:02.0 eth0 up route=0.0.0.0/0\n", head);
    remake_tree(spec);
    ck_assert_int_eq(verify(), -ENOENT);
    ck_explains("not detached: it is bound to e1000e");
    ck_explains("Fix: none while the host uses it: 0000:00:02.0: eth0 is up with routes");
    ck_assert_int_eq(hd_findings_get_remedy(hd_vfio_report_get_findings(rep), 0), HD_REMEDY_NONE);
    hd_vfio_report_unref(rep);
    snprintf(spec, sizeof(spec), "%sdevice 0000:00:02.0 8086:2030 class=060400 group=1 "
             "driver=pcieport secondary=01\n", head);
    remake_tree(spec);
    ck_assert_int_eq(verify(), -ENOENT);
    ck_explains("is a bridge (header type 1), not an endpoint");
    ck_assert_str_eq(hd_findings_get_code(hd_vfio_report_get_findings(rep), 0), "not-assignable");
    ck_assert_int_eq(hd_findings_get_remedy(hd_vfio_report_get_findings(rep), 0), HD_REMEDY_NONE);
    hd_vfio_report_unref(rep);
    snprintf(spec, sizeof(spec), "%sdevice 0000:00:02.0 8086:2020 class=060000 group=1\n", head);
    remake_tree(spec);
    ck_assert_int_eq(verify(), -ENOENT);
    ck_explains("is a host bridge: the host keeps it");
    ck_assert_int_eq(hd_findings_get_remedy(hd_vfio_report_get_findings(rep), 0), HD_REMEDY_NONE);
}
END_TEST

HD_TEST(no_group_means_no_iommu)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", root, DEV "0000:00:02.0/iommu_group");
    unlink(path);
    ck_assert_int_eq(verify(), -ENODEV);
    ck_explains("no IOMMU group");
    ck_explains("intel_iommu=on");
    ck_assert_int_eq(hd_vfio_report_get_group(rep), -1);
}
END_TEST

HD_TEST(no_such_device)
{
    struct hd_pci_addr a = {.bus = 9};

    ck_assert_int_eq(hd_vfio_verify_ops(ctx, &a, &ops, &rep), -ENODEV);
    ck_assert_ptr_nonnull(rep);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), "no such PCI device"));
    /* The address is wrong: what a program offers is the listing of the right ones. */
    ck_assert_int_eq(hd_findings_get_remedy(hd_vfio_report_get_findings(rep), 0), HD_REMEDY_LIST);
    rep = hd_vfio_report_unref(rep);
    ck_assert_int_eq(hd_vfio_verify_ops(ctx, NULL, &ops, &rep), -EINVAL);
    ck_assert_ptr_null(rep);
}
END_TEST

HD_TEST(device_fd_errors)
{
    fk.fail_ioctl = VFIO_GROUP_GET_DEVICE_FD;
    fk.err = -EBUSY;
    ck_assert_int_eq(verify(), -EBUSY);
    ck_explains("already open through VFIO");
    hd_vfio_report_unref(rep);
    fk.err = -EINVAL;
    ck_assert_int_eq(verify(), -EINVAL);
    ck_explains("not bound to vfio-pci");
}
END_TEST

HD_TEST(every_ioctl_failure_is_reported_and_closes_everything)
{
    static const unsigned long reqs[] = {
        VFIO_GET_API_VERSION, VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER,
        VFIO_SET_IOMMU,       VFIO_DEVICE_GET_INFO,
    };

    for (size_t i = 0; i < HD_ARRAY_SIZE(reqs); i++) {
        memset(&fk, 0, sizeof(fk));
        fk.fail_ioctl = reqs[i];
        fk.err = -EIO;
        ck_assert_int_eq(verify(), -EIO);
        ck_assert_uint_eq(hd_findings_count(hd_vfio_report_get_findings(rep)), 1);
        ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(ctx), why()));
        hd_vfio_report_unref(rep);
        rep = NULL;
    }
}
END_TEST

HD_TEST(cdev_path_when_the_kernel_has_one)
{
    mkdirs(DEV "0000:00:02.0/vfio-dev/vfio0");
    /* 6.1-6.5: the directory without a dev attribute is no cdev. */
    ck_assert_int_eq(verify(), 0);
    ck_assert_ptr_null(hd_vfio_report_get_cdev(rep));
    hd_vfio_report_unref(rep);

    file_(DEV "0000:00:02.0/vfio-dev/vfio0/dev", "237:0\n");
    ck_assert_int_eq(verify(), 0);
    ck_assert_str_eq(hd_vfio_report_get_cdev(rep), "vfio0");
    ck_assert_str_eq(hd_vfio_report_get_step_name(rep, hd_vfio_report_get_step_count(rep) - 1),
                     "VFIO_DEVICE_GET_INFO (cdev)");
    hd_vfio_report_unref(rep);

    fk.fail_ioctl = HD_VFIO_DEVICE_BIND_IOMMUFD;
    fk.err = -EBUSY;
    ck_assert_int_eq(verify(), -EBUSY);
    ck_last_step("VFIO_DEVICE_BIND_IOMMUFD", -EBUSY);
    ck_explains("already open");
    hd_vfio_report_unref(rep);

    /* Without interrupt remapping iommufd has a switch of its own (seen on 6.12): named with
     * its value, and vfio_iommu_type1's said not to cover it. */
    fk.err = -EPERM;
    file_("sys/module/iommufd/parameters/allow_unsafe_interrupts", "N\n");
    ck_assert_int_eq(verify(), -EPERM);
    ck_last_step("VFIO_DEVICE_BIND_IOMMUFD", -EPERM);
    ck_explains("iommufd refuses unsafe interrupts (allow_unsafe_interrupts=N)");
    ck_explains("iommufd.allow_unsafe_interrupts=1");
    ck_explains("vfio_iommu_type1's parameter does not cover the cdev");
    hd_vfio_report_unref(rep);

    fk.fail_ioctl = 0;
    fk.fail_open = "dev/iommu";
    fk.err = -ENOENT;
    ck_assert_int_eq(verify(), -ENOENT);
    ck_explains("modprobe iommufd");
    hd_vfio_report_unref(rep);

    fk.fail_open = NULL;
    fk.fail_ioctl = HD_IOMMU_IOAS_ALLOC;
    fk.err = -ENOMEM;
    ck_assert_int_eq(verify(), -ENOMEM);
    ck_last_step("IOMMU_IOAS_ALLOC", -ENOMEM);
}
END_TEST

HD_TEST(cdev_only_kernel_skips_the_group_path)
{
    mkdirs(DEV "0000:00:02.0/vfio-dev/vfio0");
    file_(DEV "0000:00:02.0/vfio-dev/vfio0/dev", "237:0\n");
    fk.fail_open = "dev/vfio/vfio"; /* CONFIG_VFIO_GROUP=n */
    fk.err = -ENOENT;
    ck_assert_int_eq(verify(), 0);
    ck_assert_int_eq(hd_vfio_report_get_step_status(rep, 2), HD_VFIO_STEP_SKIPPED);
    ck_assert_str_eq(hd_vfio_report_get_step_name(rep, 2), "open /dev/vfio/vfio");
    ck_assert_ptr_null(hd_vfio_report_get_iommu_type(rep));
    ck_assert_str_eq(hd_vfio_report_get_cdev(rep), "vfio0");
}
END_TEST

/* A mediated device (the spec's mtty one): its own group, got by its UUID; no PCI device
 * involved. */
HD_TEST(mediated_device_by_uuid)
{
    static const char link[] = "sys/devices/virtual/mtty/mtty/" MDEV_UUID "/iommu_group";
    char path[512], target[256], node[64];
    ssize_t len;
    int group;
    size_t n;

    /* Without its group link: there, but its vendor driver has not made it a VFIO device (a
     * state of the kernel's, not bad input). */
    snprintf(path, sizeof(path), "%s/%s", root, link);
    len = readlink(path, target, sizeof(target) - 1);
    ck_assert_int_gt(len, 0);
    target[len] = '\0';
    group = (int)strtol(strrchr(target, '/') + 1, NULL, 10);
    ck_assert_int_ne(group, 1); /* not the PCI devices' */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(hd_vfio_verify_mdev_ops(ctx, MDEV_UUID, &ops, &rep), -ENOENT);
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_FAILED);
    ck_explains("has no IOMMU group: its vendor driver mtty has not made it a VFIO device");
    hd_vfio_report_unref(rep);
    ck_assert_int_eq(tmptree_symlink(root, link, target), 0);
    snprintf(node, sizeof(node), "dev/vfio/%d", group);
    fk.group_node = node;
    fk.device_name = MDEV_UUID;
    ck_assert_int_eq(hd_vfio_verify_mdev_ops(ctx, "mdev_83b8f4f2_509f_382f_3c1e_e6bfe0fa1001",
                                             &ops, &rep), 0);
    ck_assert_int_eq(fk.open_fds, 0);
    ck_assert(hd_vfio_report_is_usable(rep));
    ck_assert_str_eq(hd_vfio_report_get_name(rep), MDEV_UUID);
    ck_assert_str_eq(hd_vfio_report_get_driver(rep), "mtty");
    ck_assert_int_eq(hd_vfio_report_get_group(rep), group);
    n = hd_vfio_report_get_step_count(rep);
    bool got_fd = false;
    for (size_t i = 0; i < n; i++)
        got_fd = got_fd ||
                 (strcmp(hd_vfio_report_get_step_name(rep, i), "VFIO_GROUP_GET_DEVICE_FD") == 0 &&
                  hd_vfio_report_get_step_status(rep, i) == HD_VFIO_STEP_OK);
    ck_assert(got_fd);
    hd_vfio_report_unref(rep);
    rep = NULL;
    /* Not a UUID at all: bad input. */
    ck_assert_int_eq(hd_vfio_verify_mdev_ops(ctx, "0000:00:02.0", &ops, &rep), -EINVAL);
}
END_TEST

/* The kernel's "no" (no vfio-dev) survives the same driver read again, as a detach reads its
 * device again under the locks: a driver registers a VFIO device for every device it binds or
 * for none. The directory made here by hand (no kernel would) shows which answer was kept. A
 * driver read that differs forgets it. */
HD_TEST(a_driver_read_again_keeps_the_kernels_no)
{
    struct hd_device *dev;
    struct hd_pci_addr a;

    set_driver("0000:00:02.1", "acmenic");
    ck_assert_int_eq(hd_pci_addr_parse("0000:00:02.1", &a), 0);
    ck_assert_int_eq(hd_device_open_fill(ctx, &a, HD_FILL_IDENT, &dev), 0);
    ck_assert(!hd_device_is_on_vfio(dev));
    mkdirs(DEV "0000:00:02.1/vfio-dev");
    ck_assert_int_eq(hd_device_fill_driver(dev), 0);
    ck_assert_str_eq(hd_device_get_driver(dev), "acmenic");
    ck_assert(!hd_device_is_on_vfio(dev)); /* the kept answer, not a second look */
    set_driver("0000:00:02.1", "acmepass");
    ck_assert_int_eq(hd_device_fill_driver(dev), 0);
    ck_assert(hd_device_is_on_vfio(dev)); /* another driver: asked again */
    hd_device_unref(dev);
}
END_TEST

static bool in_tree(const char *rel)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    return access(path, F_OK) == 0;
}

/* A device read on a host driver is in an IOMMU group: vfio makes a no-IOMMU group only for a
 * device it holds. Its detach locks that group and reads no name for it, so a name no kernel
 * would give such a group (written here by hand) adds no lock by address. */
HD_TEST(a_device_on_a_host_driver_is_locked_by_its_group_alone)
{
    struct hd_pci_addr a;
    struct hd_op *op;

    set_driver("0000:00:02.1", "e1000e");
    file_("sys/kernel/iommu_groups/1/name", "vfio-noiommu\n");
    ck_assert_int_eq(hd_pci_addr_parse("0000:00:02.1", &a), 0);
    ck_assert_int_eq(hd_op_new(ctx, HD_OP_DETACH, &op), 0);
    ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    hd_op_run(op); /* plain files: no kernel binds it, the run fails and is undone */
    hd_op_unref(op);
    ck_assert(in_tree("run/hostdev/locks/group-1"));
    ck_assert(!in_tree("run/hostdev/locks/device-0000:00:02.1"));
}
END_TEST
