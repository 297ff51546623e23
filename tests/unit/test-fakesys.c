/* test-fakesys.c - the fake kernel itself, against the rules of real-kernel-facts.md. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

#include "hdtest.h"
#include "tmptree.h"

#define MOUNT(fx, name)                                                                            \
    ck_assert_msg(fx_mount((fx), (name)) == 0, "mount %s: %s", (name), (fx)->error)
#define MOUNT_TEXT(fx, text)                                                                       \
    ck_assert_msg(fx_mount_text((fx), (text)) == 0, "mount: %s", (fx)->error)
#define READ_EQ(fx, rel, want)                                                                     \
    do {                                                                                           \
        const char *got_ = fx_read((fx), (rel));                                                   \
        ck_assert_msg(got_ != NULL, "%s: %s", (rel), strerror(errno));                             \
        ck_assert_str_eq(got_, (want));                                                            \
    } while (0)

#define DEV "sys/bus/pci/devices/"
#define NIC "0000:03:00.0"

/* Bind @bdf to vfio-pci the way libvirt does: override, unbind, drivers_probe. */
static void to_vfio(struct fx *fx, const char *bdf)
{
    char rel[128];

    snprintf(rel, sizeof(rel), DEV "%s/driver_override", bdf);
    ck_assert_int_eq(fx_write(fx, rel, "vfio-pci"), 0);
    snprintf(rel, sizeof(rel), DEV "%s/driver", bdf);
    if (fx_exists(fx, rel)) {
        snprintf(rel, sizeof(rel), DEV "%s/driver/unbind", bdf);
        ck_assert_int_eq(fx_write(fx, rel, bdf), 0);
    }
    ck_assert_int_eq(fx_write(fx, "sys/bus/pci/drivers_probe", bdf), 0);
}

static size_t count_entries(struct fx *fx, const char *rel)
{
    char pattern[512];
    glob_t g;
    size_t n = 0;

    snprintf(pattern, sizeof(pattern), "%s/*", fx_path(fx, rel));
    if (glob(pattern, 0, NULL, &g) == 0)
        n = g.gl_pathc;
    globfree(&g);
    return n;
}

/* ---- layout ------------------------------------------------------------------------------- */

HD_TEST_FILE(.timeout = 60);

HD_TEST(demo_layout)
{
    struct fx fx;
    char target[256];

    MOUNT(&fx, "demo");
    ck_assert_uint_eq(count_entries(&fx, "sys/bus/pci/devices"), 15);
    ssize_t n = readlink(fx_path(&fx, DEV NIC), target, sizeof(target) - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    ck_assert_str_eq(target, "../../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0");
    n = readlink(fx_path(&fx, DEV NIC "/driver"), target, sizeof(target) - 1);
    target[n] = '\0';
    ck_assert_str_eq(target, "../../../../bus/pci/drivers/e1000e");
    n = readlink(fx_path(&fx, DEV NIC "/iommu_group"), target, sizeof(target) - 1);
    target[n] = '\0';
    ck_assert_str_eq(target, "../../../../kernel/iommu_groups/8");
    n = readlink(fx_path(&fx, "sys/bus/pci/drivers/e1000e/" NIC), target, sizeof(target) - 1);
    target[n] = '\0';
    ck_assert_str_eq(target, "../../../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0");
    ck_assert_str_eq(fx_link(&fx, "sys/bus/pci/drivers/e1000e/module"), "e1000e");
    ck_assert(fx_exists(&fx, "sys/kernel/iommu_groups/8/devices/" NIC));
    ck_assert_uint_eq(count_entries(&fx, "sys/kernel/iommu_groups/8/devices"), 1);
    ck_assert_uint_eq(count_entries(&fx, "sys/kernel/iommu_groups/1/devices"), 3);
    READ_EQ(&fx, "sys/kernel/iommu_groups/8/type", "DMA-FQ");
    ck_assert(fx_exists(&fx, "sys/class/iommu/dmar0"));
    ck_assert(fx_exists(&fx, "sys/firmware/acpi/tables/DMAR"));
    ck_assert(fx_exists(&fx, "dev/vfio/vfio"));
    ck_assert(!fx_exists(&fx, "dev/vfio/8"));
    ck_assert(fx_exists(&fx, "sys/module/vfio_pci"));
    READ_EQ(&fx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N");
    ck_assert(strstr(fx_read(&fx, "proc/cmdline"), "intel_iommu=on") != NULL);
    ck_assert(fx_exists(&fx, DEV NIC "/net/enp3s0"));
    ck_assert_str_eq(fx_link(&fx, "sys/class/net/enp3s0"), "enp3s0");
    fx_umount(&fx);
    ck_assert(access(fx.root, F_OK) != 0);
}
END_TEST

HD_TEST(device_attributes)
{
    struct fx fx;
    unsigned char cfg[4096];

    MOUNT(&fx, "demo");
    READ_EQ(&fx, DEV NIC "/vendor", "0x8086");
    READ_EQ(&fx, DEV NIC "/device", "0x10d3");
    READ_EQ(&fx, DEV NIC "/subsystem_vendor", "0x8086");
    READ_EQ(&fx, DEV NIC "/subsystem_device", "0xa01f");
    READ_EQ(&fx, DEV NIC "/class", "0x020000");
    READ_EQ(&fx, DEV NIC "/revision", "0x00");
    READ_EQ(&fx, DEV NIC "/driver_override", "(null)");
    READ_EQ(&fx, DEV NIC "/numa_node", "-1");
    READ_EQ(&fx, DEV NIC "/enable", "1");
    READ_EQ(&fx, DEV NIC "/reset_method", "flr pm bus");
    READ_EQ(&fx, DEV NIC "/local_cpulist", "0-3");
    READ_EQ(&fx, DEV NIC "/local_cpus", "0000000f");
    READ_EQ(&fx, DEV NIC "/dma_mask_bits", "64");
    READ_EQ(&fx, DEV NIC "/modalias", "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00");
    READ_EQ(&fx, DEV NIC "/uevent",
            "DRIVER=e1000e\nPCI_CLASS=20000\nPCI_ID=8086:10D3\nPCI_SUBSYS_ID=8086:A01F\n"
            "PCI_SLOT_NAME=0000:03:00.0\n"
            "MODALIAS=pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00");
    READ_EQ(&fx, DEV NIC "/current_link_speed", "2.5 GT/s PCIe");
    READ_EQ(&fx, DEV NIC "/current_link_width", "1");
    /* config space: ids, class, header type, FLR in DevCap, link status */
    int fd = open(fx_path(&fx, DEV NIC "/config"), O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, cfg, sizeof(cfg)), 4096);
    close(fd);
    ck_assert_uint_eq(cfg[0] | cfg[1] << 8, 0x8086);
    ck_assert_uint_eq(cfg[2] | cfg[3] << 8, 0x10d3);
    ck_assert_uint_eq(cfg[0x0b], 0x02);
    ck_assert_uint_eq(cfg[0x0e], 0x00);
    ck_assert_uint_eq(cfg[0x2c] | cfg[0x2d] << 8, 0x8086);
    unsigned pos = cfg[0x34], exp = 0;
    for (int i = 0; pos && i < 16; i++, pos = cfg[pos + 1])
        if (cfg[pos] == 0x10)
            exp = pos;
    ck_assert_uint_ne(exp, 0);
    ck_assert_uint_eq((cfg[exp + 7] >> 4) & 1, 1);                     /* DevCap bit 28: FLR */
    ck_assert_uint_eq(cfg[exp + 0x12] | cfg[exp + 0x13] << 8, 0x1011); /* 2.5GT/s x1 */
    /* a multifunction chipset device has bit 7 of the header type */
    fd = open(fx_path(&fx, DEV "0000:00:1f.0/config"), O_RDONLY);
    ck_assert_int_eq(pread(fd, cfg, 64, 0), 64);
    close(fd);
    ck_assert_uint_eq(cfg[0x0e], 0x80);
    fd = open(fx_path(&fx, DEV "0000:00:1c.0/config"), O_RDONLY);
    ck_assert_int_eq(pread(fd, cfg, 64, 0), 64);
    close(fd);
    ck_assert_uint_eq(cfg[0x0e], 0x81); /* bridge, 1c.4 is its sibling */
    ck_assert_uint_eq(cfg[0x19], 0x03); /* secondary bus */
    /* a device with no reset method has no reset file */
    ck_assert(!fx_exists(&fx, DEV "0000:00:00.0/reset"));
    ck_assert(!fx_exists(&fx, DEV "0000:00:00.0/reset_method"));
    /* write-only and read-only attributes refuse the other direction, even for root */
    ck_assert_int_lt(open(fx_path(&fx, DEV NIC "/remove"), O_RDONLY), 0);
    ck_assert_int_eq(errno, EACCES);
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/vendor", "0x1234"), -EACCES);
    fx_umount(&fx);
}
END_TEST

/* ---- binding ------------------------------------------------------------------------------- */

HD_TEST(override_and_drivers_probe)
{
    struct fx fx;
    struct stat st;

    MOUNT(&fx, "demo");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/driver_override", "vfio-pci"), 0);
    READ_EQ(&fx, DEV NIC "/driver_override", "vfio-pci");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/driver_override", "\n"), 0);
    READ_EQ(&fx, DEV NIC "/driver_override", "(null)");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/driver_override", "vfio-pci\n"), 0);
    READ_EQ(&fx, DEV NIC "/driver_override", "vfio-pci");
    /* override alone changes nothing; a probe of a bound device changes nothing either */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", NIC), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "e1000e");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/driver/unbind", NIC), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "");
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", NIC "\n"), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "vfio-pci");
    ck_assert_int_eq(lstat(fx_path(&fx, "dev/vfio/8"), &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_uint_eq(st.st_uid, 0);
    READ_EQ(&fx, DEV NIC "/enable", "0"); /* vfio-pci enables only when opened */
    ck_assert_uint_eq(fx_log_count(&fx, "bind " NIC " vfio-pci"), 1);
    ck_assert_uint_eq(fx_log_count(&fx, "vfio-add 8"), 1);
    ck_assert_uint_eq(fx_log_count(&fx, "write sys/bus/pci/drivers_probe \"0000:03:00.0\\n\" = ok"),
                      1);
    /* nothing touched the GPU */
    ck_assert_uint_eq(fx_log_count(&fx, "0000:01:00.0"), 0);
    fx_umount(&fx);
}
END_TEST

HD_TEST(bind_unbind_errors)
{
    struct fx fx;

    MOUNT(&fx, "demo");
    /* vfio-pci's id table matches nothing */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/bind", NIC), -ENODEV);
    /* override to vfio-pci, still bound to e1000e: EBUSY */
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/driver_override", "vfio-pci"), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/bind", NIC), -EBUSY);
    /* e1000e/bind with an override naming another driver: no match */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/unbind", NIC), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/bind", NIC), -ENODEV);
    /* unbind from a driver the device is not bound to */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/unbind", NIC), -ENODEV);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/bind", NIC), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "vfio-pci");
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/bind", NIC), -EBUSY);
    /* nonexistent addresses */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", "0000:09:00.0"), -ENODEV);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/unbind", "0000:09:00.0"), -ENODEV);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", "garbage"), -ENODEV);
    /* vfio-pci refuses a bridge: the probe fails, drivers_probe says nothing */
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:1c.4/driver_override", "vfio-pci"), 0);
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:1c.4/driver/unbind", "0000:00:1c.4"), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", "0000:00:1c.4"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:1c.4"), "");
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/bind", "0000:00:1c.4"), -EINVAL);
    ck_assert_uint_eq(fx_log_count(&fx, "probe-failed 0000:00:1c.4 vfio-pci EINVAL"), 2);
    fx_umount(&fx);
}
END_TEST

HD_TEST(drivers_probe_lies_without_iommu)
{
    struct fx fx;

    MOUNT(&fx, "no-iommu");
    ck_assert_uint_eq(count_entries(&fx, "sys/kernel/iommu_groups"), 0);
    ck_assert_uint_eq(count_entries(&fx, "sys/class/iommu"), 0);
    ck_assert(!fx_exists(&fx, "sys/firmware/acpi/tables/DMAR"));
    to_vfio(&fx, "0000:00:02.0");
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "");
    ck_assert_uint_eq(count_entries(&fx, "dev/vfio"), 1); /* only dev/vfio/vfio */
    ck_assert_uint_eq(fx_log_count(&fx, "probe-failed 0000:00:02.0 vfio-pci EINVAL"), 1);
    fx_umount(&fx);
}
END_TEST

HD_TEST(noiommu_mode)
{
    struct fx fx;

    MOUNT(&fx, "no-iommu");
    ck_assert_int_eq(fx_write(&fx, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "1"),
                     0);
    to_vfio(&fx, "0000:00:02.0");
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "vfio-pci");
    ck_assert(fx_exists(&fx, "dev/vfio/noiommu-0"));
    ck_assert_int_eq(fx_group(&fx, "0000:00:02.0"), 0);
    READ_EQ(&fx, "sys/kernel/iommu_groups/0/type", "unknown");
    ck_assert(!fx_exists(&fx, DEV "0000:00:02.0/iommu"));
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/unbind", "0000:00:02.0"), 0);
    ck_assert(!fx_exists(&fx, "dev/vfio/noiommu-0"));
    ck_assert_int_eq(fx_group(&fx, "0000:00:02.0"), -1);
    ck_assert_uint_eq(count_entries(&fx, "sys/kernel/iommu_groups"), 0);
    fx_umount(&fx);
}
END_TEST

HD_TEST(config_is_short_for_users)
{
    struct fx fx;
    int status;

    if (getuid() != 0)
        return; /* needs to become another user */
    MOUNT(&fx, "demo");
    const char *path = fx_path(&fx, DEV NIC "/config");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char buf[4096];
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(3);
        int fd = open(path, O_RDONLY);
        _exit(fd >= 0 && read(fd, buf, sizeof(buf)) == 64 ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    fx_umount(&fx);
}
END_TEST

static const char *const newid_spec = "iommu intel\n"
                                      "driver e1000e ids=8086:10d3\n"
                                      "driver igb ids=8086:1533\n"
                                      "driver vfio-pci module=vfio_pci stub vfio\n"
                                      "driver pci-stub module=pci_stub stub\n"
                                      "device 0000:00:02.0 8086:10d3 class=020000\n"
                                      "device 0000:00:03.0 8086:10d3 class=020000\n"
                                      "device 0000:00:04.0 8086:10d3 class=020000 driver=e1000e\n"
                                      "device 0000:00:05.0 8086:10d3 class=020000 override=igb\n"
                                      "device 0000:00:06.0 8086:1533 class=020000\n";

HD_TEST(new_id_binds_every_match)
{
    struct fx fx;

    MOUNT_TEXT(&fx, newid_spec);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/pci-stub/new_id", "8086 10d3"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "pci-stub");
    ck_assert_str_eq(fx_driver(&fx, "0000:00:03.0"), "pci-stub");
    ck_assert_str_eq(fx_driver(&fx, "0000:00:04.0"), "e1000e"); /* bound ones stay */
    ck_assert_str_eq(fx_driver(&fx, "0000:00:05.0"), "");       /* overridden elsewhere */
    ck_assert_str_eq(fx_driver(&fx, "0000:00:06.0"), "");
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/pci-stub/new_id", "8086 10d3"), -EEXIST);
    /* a driver whose static table has the ids: EEXIST at once */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/new_id", "8086 10d3"), -EEXIST);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/pci-stub/new_id", "8086"), -EINVAL);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/pci-stub/remove_id", "8086 10d3"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "pci-stub"); /* unbinds nothing */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/pci-stub/remove_id", "8086 10d3"), -ENODEV);
    fx_umount(&fx);
}
END_TEST

HD_TEST(vfio_group_node_lifecycle)
{
    struct fx fx;
    struct stat st;

    MOUNT(&fx, "gpu-audio");
    ck_assert_int_eq(fx_group(&fx, "0000:0a:00.0"), 12);
    ck_assert_int_eq(fx_group(&fx, "0000:0a:00.1"), 12);
    to_vfio(&fx, "0000:0a:00.0");
    ck_assert(fx_exists(&fx, "dev/vfio/12"));
    ck_assert_int_eq(chmod(fx_path(&fx, "dev/vfio/12"), 0660), 0);
    ck_assert_int_eq(chown(fx_path(&fx, "dev/vfio/12"), 107, 114), 0);
    to_vfio(&fx, "0000:0a:00.1");
    ck_assert_int_eq(stat(fx_path(&fx, "dev/vfio/12"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0660);
    ck_assert_uint_eq(st.st_uid, 107);
    ck_assert_uint_eq(st.st_gid, 114);
    /* the node stays while one member is on vfio-pci, goes with the last */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/unbind", "0000:0a:00.0"), 0);
    ck_assert(fx_exists(&fx, "dev/vfio/12"));
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/unbind", "0000:0a:00.1"), 0);
    ck_assert(!fx_exists(&fx, "dev/vfio/12"));
    ck_assert_uint_eq(fx_log_count(&fx, "vfio-del 12"), 1);
    /* a new node is root's again */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", "0000:0a:00.0"), 0);
    ck_assert_int_eq(stat(fx_path(&fx, "dev/vfio/12"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_uint_eq(st.st_uid, 0);
    /* back to the host driver: clear the override, unbind, probe */
    ck_assert_int_eq(fx_write(&fx, DEV "0000:0a:00.0/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/unbind", "0000:0a:00.0"), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", "0000:0a:00.0"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:0a:00.0"), "amdgpu");
    fx_umount(&fx);
}
END_TEST

HD_TEST(vfio_cdev_feature)
{
    struct fx fx;

    MOUNT_TEXT(&fx, "kernel 6.6.0\n"
                    "iommu intel\n"
                    "driver vfio-pci module=vfio_pci stub vfio\n"
                    "device 0000:00:02.0 8086:10d3 class=020000 override=vfio-pci\n");
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", "0000:00:02.0"), 0);
    ck_assert(fx_exists(&fx, DEV "0000:00:02.0/vfio-dev/vfio0"));
    READ_EQ(&fx, DEV "0000:00:02.0/vfio-dev/vfio0/dev", "511:0");
    ck_assert(fx_exists(&fx, "dev/vfio/devices/vfio0"));
    ck_assert(fx_exists(&fx, "dev/iommu"));
    /* an owner given to the cdev stays while the device stays bound */
    struct stat st;
    ck_assert_int_eq(chown(fx_path(&fx, "dev/vfio/devices/vfio0"), 107, 107), 0);
    ck_assert_int_eq(fx_ctl(&fx, "add 0000:00:03.0 8086:10d3"), 0); /* the tree changes */
    ck_assert_int_eq(stat(fx_path(&fx, "dev/vfio/devices/vfio0"), &st), 0);
    ck_assert_uint_eq(st.st_uid, 107);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert(fx_exists(&fx, "dev/vfio/0"));
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/unbind", "0000:00:02.0"), 0);
    ck_assert(!fx_exists(&fx, DEV "0000:00:02.0/vfio-dev"));
    ck_assert(!fx_exists(&fx, "dev/vfio/devices/vfio0"));
    fx_umount(&fx);
}
END_TEST

/* `feature mountinfo off`: proc/mounts alone (what safety falls back to); materialized too. */
HD_TEST(mountinfo_feature)
{
    struct fx fx;
    const char *spec = "feature mountinfo off\nmount /dev/sda1 /srv\n";

    MOUNT_TEXT(&fx, spec);
    ck_assert(!fx_exists(&fx, "proc/self/mountinfo"));
    ck_assert_ptr_nonnull(strstr(fx_read(&fx, "proc/mounts"), "/dev/sda1 /srv ext4 "));
    fx_umount(&fx);
    ck_assert_msg(fx_materialize_text(&fx, spec) == 0, "%s", fx.error);
    ck_assert(!fx_exists(&fx, "proc/self/mountinfo"));
    ck_assert_ptr_nonnull(strstr(fx_read(&fx, "proc/mounts"), "/dev/sda1 /srv ext4 "));
    fx_umount(&fx);
    ck_assert(!fx_exists(&fx, "proc")); /* the materialized tree is gone */
    /* on by default */
    MOUNT_TEXT(&fx, "mount /dev/sda1 /srv\n");
    ck_assert_ptr_nonnull(strstr(fx_read(&fx, "proc/self/mountinfo"), " /srv "));
    fx_umount(&fx);
}
END_TEST

/* boot_vga on VGA devices only; fbcon with the first framebuffer; btrfs's features. (A
 * framebuffer and a disk are their drivers': the devices are bound.) */
HD_TEST(console_and_btrfs_files)
{
    struct fx fx;

    MOUNT_TEXT(&fx, "driver i915 ids=8086:3e92\n"
                    "driver ahci class=010601\n"
                    "device 0000:00:02.0 8086:3e92 class=030000 boot-vga=yes driver=i915\n"
                    "device 0000:00:03.0 8086:3e92 class=030000\n"
                    "device 0000:00:04.0 8086:2922 class=010601 driver=ahci\n"
                    "graphics 0000:00:02.0 fb0\n"
                    "block 0000:00:04.0 sda dev=8:0\n"
                    "btrfs 0f5c2b1e-7d2a-4b8e-9a51-3c6d2e1f0a9b sda\n");
    READ_EQ(&fx, DEV "0000:00:02.0/boot_vga", "1");
    READ_EQ(&fx, DEV "0000:00:03.0/boot_vga", "0");
    ck_assert(!fx_exists(&fx, DEV "0000:00:04.0/boot_vga"));
    ck_assert_str_eq(fx_link(&fx, "sys/class/graphics/fb0/device"), "0000:00:02.0");
    ck_assert_str_eq(fx_link(&fx, "sys/class/graphics/fbcon"), "fbcon");
    ck_assert(fx_exists(&fx, "sys/devices/virtual/graphics/fbcon"));
    ck_assert(fx_exists(&fx, "sys/fs/btrfs/features"));
    ck_assert(fx_exists(&fx, "sys/fs/btrfs/0f5c2b1e-7d2a-4b8e-9a51-3c6d2e1f0a9b/devices/sda"));
    fx_umount(&fx);
    MOUNT_TEXT(&fx, "device 0000:00:02.0 8086:3e92 class=030000\n");
    ck_assert(!fx_exists(&fx, "sys/class/graphics"));
    fx_umount(&fx);
}
END_TEST

/* What the adapter tests' host (tests/trees/adapters.spec) needs of the spec language, mounted
 * and materialized: the LNKCAP port number, a SCSI disk's serial, sg number and size, a
 * partition below it, a loop device, lo, a link speed, USB strings and a UHCI root hub. */
HD_TEST(host_details_for_node_devices)
{
    static const char spec[] =
        "driver pcieport builtin class=060400\n"
        "driver uhci_hcd class=0c0300\n"
        "driver ahci class=010601\n"
        "driver e1000e ids=8086:1502\n"
        "device 0000:00:1c.0 8086:3a40 class=060400 driver=pcieport link=2.5GT/s,x4 link-port=3\n"
        "device 0000:00:1d.0 8086:3a34 class=0c0300 driver=uhci_hcd pcie=no\n"
        "device 0000:00:1f.2 8086:3a22 class=010601 driver=ahci pcie=no\n"
        "device 0000:00:19.0 8086:1502 class=020000 driver=e1000e\n"
        "scsi 0000:00:1f.2 1:0:0:0 vendor=ATA serial=QM00001 sg=1 disk=sda size=2097152\n"
        "scsi 0000:00:1f.2 1:0:1:0 type=5\n"
        "block 0000:00:1f.2 sda1 disk=sda\n"
        "loop loop0 dev=7:0\n"
        "netdev lo loopback\n"
        "net 0000:00:19.0 eth0 speed=1000\n"
        "usb 0000:00:1d.0 1-2 0627:0001 manufacturer=QEMU \"iface=03:00:00:usbhid:HID Tablet\"\n";
    const char *usb = "sys/devices/pci0000:00/0000:00:1d.0/usb1";
    char rel[256];
    struct fx fx;

    for (int materialized = 0; materialized < 2; materialized++) {
        if (materialized)
            ck_assert_msg(fx_materialize_text(&fx, spec) == 0, "%s", fx.error);
        else
            MOUNT_TEXT(&fx, spec);
        unsigned char cfg[0x60] = {0};
        FILE *f = fopen(fx_path(&fx, DEV "0000:00:1c.0/config"), "rb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fread(cfg, 1, sizeof(cfg), f), sizeof(cfg));
        fclose(f);
        ck_assert_uint_eq(cfg[0x34], 0x40);              /* PM, then PCIe at 0x50 */
        ck_assert_uint_eq(cfg[0x50 + 0x0f], 3);          /* LNKCAP port number */
        ck_assert_uint_eq(cfg[0x50 + 0x0c] & 0xf, 1);    /* 2.5 GT/s */
        READ_EQ(&fx, "sys/bus/scsi/devices/1:0:0:0/serial", "QM00001");
        ck_assert_str_eq(fx_link(&fx, "sys/bus/scsi/devices/1:0:0:0/driver"), "sd");
        ck_assert(!fx_exists(&fx, "sys/bus/scsi/devices/1:0:1:0/serial"));
        ck_assert_str_eq(fx_link(&fx, "sys/class/scsi_generic/sg1/device"), "1:0:0:0");
        ck_assert_str_eq(fx_link(&fx, "sys/class/scsi_generic/sg0/device"), "1:0:1:0");
        READ_EQ(&fx, "sys/bus/scsi/devices/host1/scsi_host/host1/unique_id", "1");
        READ_EQ(&fx, "sys/class/block/sda/size", "2097152");
        READ_EQ(&fx, "sys/class/block/sda/queue/logical_block_size", "512");
        READ_EQ(&fx, "sys/class/block/sda/removable", "0");
        READ_EQ(&fx, "sys/bus/scsi/devices/1:0:0:0/block/sda/sda1/partition", "1");
        READ_EQ(&fx, "sys/class/block/loop0/dev", "7:0");
        ck_assert_ptr_nonnull(strstr(fx_read(&fx, "sys/class/block/loop0/uevent"),
                                     "MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk"));
        ck_assert(fx_exists(&fx, "sys/devices/virtual/block/loop0"));
        READ_EQ(&fx, "sys/class/net/lo/address", "00:00:00:00:00:00");
        READ_EQ(&fx, "sys/class/net/lo/operstate", "unknown");
        READ_EQ(&fx, "sys/class/net/lo/uevent", "INTERFACE=lo\nIFINDEX=1");
        ck_assert(fx_exists(&fx, "sys/devices/virtual/net/lo"));
        READ_EQ(&fx, "sys/class/net/eth0/speed", "1000");
        snprintf(rel, sizeof(rel), "%s/1-2/manufacturer", usb);
        READ_EQ(&fx, rel, "QEMU");
        snprintf(rel, sizeof(rel), "%s/1-2/1-2:1.0/interface", usb);
        READ_EQ(&fx, rel, "HID Tablet");
        snprintf(rel, sizeof(rel), "%s/idProduct", usb); /* a USB 1.1 root hub */
        READ_EQ(&fx, rel, "0001");
        snprintf(rel, sizeof(rel), "%s/product", usb);
        READ_EQ(&fx, rel, "UHCI Host Controller");
        snprintf(rel, sizeof(rel), "%s/manufacturer", usb);
        READ_EQ(&fx, rel, "Linux 6.1.0 uhci_hcd");
        fx_umount(&fx);
    }
}
END_TEST

/* ---- children: what a host driver registers goes with it ------------------------------------ */

/* Unbind @bdf from its driver, and bind it again by drivers_probe once its override is cleared
 * (what a reattach does). */
static void unbind(struct fx *fx, const char *bdf)
{
    char rel[128];

    snprintf(rel, sizeof(rel), DEV "%s/driver/unbind", bdf);
    ck_assert_int_eq(fx_write(fx, rel, bdf), 0);
    ck_assert_str_eq(fx_driver(fx, bdf), "");
}

static void reprobe(struct fx *fx, const char *bdf, const char *want)
{
    char rel[128];

    snprintf(rel, sizeof(rel), DEV "%s/driver", bdf);
    if (fx_exists(fx, rel)) {
        snprintf(rel, sizeof(rel), DEV "%s/driver/unbind", bdf);
        ck_assert_int_eq(fx_write(fx, rel, bdf), 0);
    }
    snprintf(rel, sizeof(rel), DEV "%s/driver_override", bdf);
    ck_assert_int_eq(fx_write(fx, rel, "\n"), 0);
    ck_assert_int_eq(fx_write(fx, "sys/bus/pci/drivers_probe", bdf), 0);
    ck_assert_str_eq(fx_driver(fx, bdf), want);
}

static bool file_has(struct fx *fx, const char *rel, const char *needle)
{
    const char *text = fx_read(fx, rel);

    ck_assert_msg(text != NULL, "%s: %s", rel, strerror(errno));
    return strstr(text, needle) != NULL;
}

/* Each of @paths (NULL-terminated) exists, or none does. */
static void all_there(struct fx *fx, const char *const *paths, bool there)
{
    for (; *paths != NULL; paths++)
        ck_assert_msg(fx_exists(fx, *paths) == there, "%s: %s", *paths,
                      there ? "missing" : "still there");
}

/* What an interface and its place in the host's network look like while it exists. */
static void nic_children_there(struct fx *fx, bool there)
{
    static const char *const paths[] = {
        "sys/class/net/enp3s0", "sys/bus/pci/devices/0000:03:00.0/net/enp3s0/address",
        "sys/bus/pci/devices/0000:03:00.0/net",
        /* a port that went is no longer the bridge's; its VLAN went with it */
        "sys/class/net/br0/brif/enp3s0", "sys/class/net/br0/lower_enp3s0",
        "sys/class/net/enp3s0.7", NULL};

    all_there(fx, paths, there);
    ck_assert_int_eq(file_has(fx, "proc/net/route", "enp3s0\t"), there);
    ck_assert_int_eq(file_has(fx, "proc/net/hostdev-rtnl", "route 100 enp3s0 10.9.0.0/16"),
                     there);
    ck_assert_int_eq(file_has(fx, "proc/net/hostdev-rtnl", "addr enp3s0 192.0.2.5/24"), there);
    ck_assert_int_eq(file_has(fx, "proc/net/if_inet6", "0001 02 40 20 80   enp3s0"), there);
    ck_assert_int_eq(file_has(fx, "proc/net/ipv6_route", "20010db8"), there);
    ck_assert_int_eq(file_has(fx, "proc/net/route", "enp3s0.7\t"), there);
    ck_assert_int_eq(file_has(fx, "sys/class/net/bond0/bonding/slaves", "enp3s1"), true);
    /* the rest of the host's network stays */
    ck_assert(fx_exists(fx, "sys/class/net/br0"));
    ck_assert(file_has(fx, "proc/net/route", "br0\t"));
    ck_assert(fx_exists(fx, "sys/class/net/enp3s1/master"));
}

/* A NIC's interface is its driver's: gone when it is unbound, on a stub too, and back with its
 * routes, addresses, bridge and VLAN when a host driver binds again. */
HD_TEST(net_child_follows_its_driver)
{
    struct fx fx;

    MOUNT_TEXT(&fx, "iommu intel\n"
                    "driver e1000e ids=8086:10d3\n"
                    "driver vfio-pci module=vfio_pci stub vfio\n"
                    "driver pci-stub module=pci_stub stub\n"
                    "device " NIC " 8086:10d3 class=020000 driver=e1000e parent=root\n"
                    "device 0000:03:00.1 8086:10d3 class=020000 driver=e1000e parent=root\n"
                    "netdev br0 bridge route=0.0.0.0/0\n"
                    "netdev bond0 bond\n"
                    "net " NIC " enp3s0 master=br0 route=192.168.1.0/24 route=10.9.0.0/16@100 "
                    "inet=192.0.2.5/24 inet6=fe80::1/64 route6=2001:db8::/64\n"
                    "net 0000:03:00.1 enp3s1 master=bond0\n"
                    "netdev enp3s0.7 vlan lower=enp3s0 route=10.7.0.0/16\n");
    nic_children_there(&fx, true);
    unbind(&fx, NIC);
    nic_children_there(&fx, false);
    ck_assert(!file_has(&fx, "proc/net/if_inet6", "enp3s0"));
    reprobe(&fx, NIC, "e1000e");
    nic_children_there(&fx, true);
    READ_EQ(&fx, "sys/class/net/enp3s0/operstate", "up");
    /* a stub registers no interface; neither does vfio-pci */
    to_vfio(&fx, NIC);
    ck_assert_str_eq(fx_driver(&fx, NIC), "vfio-pci");
    nic_children_there(&fx, false);
    reprobe(&fx, NIC, "e1000e");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/driver_override", "pci-stub"), 0);
    unbind(&fx, NIC);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_probe", NIC), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "pci-stub");
    nic_children_there(&fx, false);
    reprobe(&fx, NIC, "e1000e");
    nic_children_there(&fx, true);
    /* a removed device's go, and come back with the rescan's probe */
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/remove", "1"), 0);
    ck_assert(!fx_exists(&fx, "sys/class/net/enp3s0"));
    ck_assert(!file_has(&fx, "proc/net/route", "enp3s0\t"));
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/rescan", "1"), 0);
    nic_children_there(&fx, true);
    fx_umount(&fx);
}
END_TEST

#define HBA "0000:00:17.0"

static void hba_children_there(struct fx *fx, bool there)
{
    static const char *const paths[] = {
        "sys/class/block/sda", "sys/block/sda", "sys/class/block/sda1", "dev/sda", "dev/sda1",
        "dev/sg0", "sys/bus/pci/devices/0000:00:17.0/host1", "sys/class/scsi_host/host1",
        "sys/bus/scsi/devices/1:0:0:0", "sys/class/scsi_generic/sg0",
        "sys/class/block/md0/slaves/sda1", NULL};

    all_there(fx, paths, there);
    /* md keeps its array, degraded */
    ck_assert(fx_exists(fx, "sys/class/block/md0"));
    /* the mount stays, with the number of the disk it was made from (its superblock's);
     * the swap's node went with its disk: proc/swaps names it deleted */
    ck_assert(file_has(fx, "proc/self/mountinfo", " 8:1 / /srv rw,relatime - ext4 /dev/sda1 "));
    ck_assert(file_has(fx, "proc/mounts", "/dev/sda1 /srv ext4 "));
    ck_assert_int_eq(file_has(fx, "proc/swaps", "/dev/sda2\\040(deleted) "), !there);
    ck_assert_int_eq(file_has(fx, "proc/swaps", "/dev/sda2 "), there);
}

/* An HBA's SCSI hosts, devices and disks are its driver's: gone when it is unbound, made again
 * (new nodes: the default owner) when it binds again. */
HD_TEST(disk_below_hba_follows_its_driver)
{
    struct fx fx;
    struct stat st;

    MOUNT_TEXT(&fx, "driver ahci class=010601\n"
                    "driver vfio-pci module=vfio_pci stub vfio\n"
                    "iommu intel\n"
                    "device " HBA " 8086:a102 class=010601 driver=ahci\n"
                    "scsi " HBA " 1:0:0:0 vendor=ATA disk=sda size=2097152\n"
                    "block " HBA " sda1 dev=8:1 disk=sda\n"
                    "block " HBA " sda2 dev=8:2 disk=sda\n"
                    "holder md0 dev=9:0 sda1\n"
                    "mount /dev/sda1 /srv\n"
                    "swap /dev/sda2\n");
    hba_children_there(&fx, true);
    READ_EQ(&fx, "sys/class/block/sda/dev", "8:0");
    ck_assert_int_eq(chmod(fx_path(&fx, "dev/sg0"), 0666), 0);
    unbind(&fx, HBA);
    hba_children_there(&fx, false);
    /* the classes are the kernel's, there with no member (no interface here at all) */
    ck_assert(fx_exists(&fx, "sys/class/net"));
    ck_assert(fx_exists(&fx, "sys/block"));
    reprobe(&fx, HBA, "ahci");
    hba_children_there(&fx, true);
    READ_EQ(&fx, "sys/class/block/sda/dev", "8:0");
    READ_EQ(&fx, "sys/class/block/sda1/partition", "1");
    ck_assert_str_eq(fx_link(&fx, "sys/class/block/sda/device"), "1:0:0:0");
    ck_assert_int_eq(stat(fx_path(&fx, "dev/sg0"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0660);
    /* the disk is still mounted: its node is busy again */
    ck_assert_int_lt(open(fx_path(&fx, "dev/sda1"), O_RDONLY), 0);
    ck_assert_int_eq(errno, EBUSY);
    to_vfio(&fx, HBA);
    hba_children_there(&fx, false);
    fx_umount(&fx);
}
END_TEST

#define XHCI "0000:00:14.0"
#define USB1 "sys/devices/pci0000:00/0000:00:14.0/usb1"

static void usb_children_there(struct fx *fx, bool there)
{
    static const char *const paths[] = {
        USB1, "sys/bus/usb/devices/usb1", "sys/bus/usb/devices/1-1", "sys/bus/usb/devices/1-2:1.0",
        "dev/bus/usb/001/001", "dev/bus/usb",
        /* the stick's SCSI host and disk, below it */
        "sys/class/block/sdb", "dev/sdb", "sys/class/scsi_host/host0", "dev/sg0", NULL};

    all_there(fx, paths, there);
}

/* A host controller's root hub and USB devices are its HCD's: gone when it is unbound; when it
 * binds again the bus enumerates anew (device numbers from 2, new nodes with the default
 * owner). */
HD_TEST(usb_below_controller_follows_its_driver)
{
    struct fx fx;
    struct stat st;

    MOUNT_TEXT(&fx, "driver xhci_hcd module=xhci_pci class=0c0330\n"
                    "driver vfio-pci module=vfio_pci stub vfio\n"
                    "iommu intel\n"
                    "device " XHCI " 8086:a12f class=0c0330 driver=xhci_hcd\n"
                    "usb " XHCI " 1-1 046d:c31c product=USB_Keyboard iface=03:01:01:usbhid\n"
                    "usb " XHCI " 1-2 0781:5567 serial=4C530001 disk=sdb\n");
    usb_children_there(&fx, true);
    READ_EQ(&fx, "sys/bus/usb/devices/1-1/devnum", "2");
    ck_assert_int_eq(fx_ctl(&fx, "usb-replug 1-1"), 0);
    READ_EQ(&fx, "sys/bus/usb/devices/1-1/devnum", "4");
    ck_assert_int_eq(chmod(fx_path(&fx, "dev/bus/usb/001/004"), 0666), 0);
    unbind(&fx, XHCI);
    usb_children_there(&fx, false);
    ck_assert(!fx_exists(&fx, "dev/bus/usb/001/004"));
    ck_assert_int_eq(fx_ctl(&fx, "usb-replug 1-1"), -ENODEV);
    reprobe(&fx, XHCI, "xhci_hcd");
    usb_children_there(&fx, true);
    READ_EQ(&fx, "sys/bus/usb/devices/1-1/devnum", "2");
    READ_EQ(&fx, "sys/bus/usb/devices/1-2/devnum", "3");
    READ_EQ(&fx, "sys/bus/usb/devices/1-2/serial", "4C530001");
    ck_assert(!fx_exists(&fx, "dev/bus/usb/001/004"));
    ck_assert_int_eq(stat(fx_path(&fx, "dev/bus/usb/001/002"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0664);
    to_vfio(&fx, XHCI);
    usb_children_there(&fx, false);
    fx_umount(&fx);
}
END_TEST

HD_TEST(old_kernel_has_no_override)
{
    struct fx fx;

    MOUNT(&fx, "old-kernel");
    ck_assert(!fx_exists(&fx, DEV NIC "/driver_override"));
    ck_assert(!fx_exists(&fx, DEV NIC "/reset_method"));
    ck_assert(fx_exists(&fx, "sys/kernel/iommu_groups/0/devices"));
    ck_assert(!fx_exists(&fx, "sys/kernel/iommu_groups/0/type"));             /* 4.19 */
    ck_assert(!fx_exists(&fx, "sys/kernel/iommu_groups/0/reserved_regions")); /* 4.11 */
    ck_assert(fx_exists(&fx, DEV NIC "/reset"));
    /* the old way: unbind, then new_id (both igb ports match) */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/igb/unbind", NIC), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/vfio-pci/new_id", "8086 1521"), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_driver(&fx, "0000:03:00.1"), "igb");
    ck_assert(!fx_exists(&fx, DEV NIC "/vfio-dev"));
    fx_umount(&fx);
}
END_TEST

/* ---- reset --------------------------------------------------------------------------------- */

HD_TEST(reset_rules)
{
    struct fx fx;

    MOUNT(&fx, "demo");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset", "1"), 0);
    ck_assert_uint_eq(fx_log_count(&fx, "reset " NIC " flr"), 1);
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset", "2"), -EINVAL);
    /* alone on its bus behind a root port: a bus reset works */
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset_method", "bus"), 0);
    READ_EQ(&fx, DEV NIC "/reset_method", "bus");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset", "1"), 0);
    ck_assert_uint_eq(fx_log_count(&fx, "reset " NIC " bus"), 1);
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset_method", "pm bus"), 0);
    READ_EQ(&fx, DEV NIC "/reset_method", "pm bus");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset_method", "default"), 0);
    READ_EQ(&fx, DEV NIC "/reset_method", "flr pm bus");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset_method", "bogus"), -EINVAL);
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset_method", "flr flr"), -EINVAL);
    /* an empty write is accepted: no methods, and reset says ENOTTY */
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset_method", "\n"), 0);
    READ_EQ(&fx, DEV NIC "/reset_method", "");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset", "1"), -ENOTTY);
    /* the GPU lists only bus, and shares its bus with its audio function */
    READ_EQ(&fx, DEV "0000:01:00.0/reset_method", "bus");
    ck_assert_int_eq(fx_write(&fx, DEV "0000:01:00.0/reset", "1"), -ENOTTY);
    ck_assert_int_eq(fx_write(&fx, DEV "0000:01:00.0/reset_method", "flr"), -EINVAL);
    ck_assert_uint_eq(fx_log_count(&fx, "reset-failed 0000:01:00.0 ENOTTY"), 1);
    fx_umount(&fx);
}
END_TEST

/* ---- SR-IOV -------------------------------------------------------------------------------- */

HD_TEST(sriov_rules)
{
    struct fx fx;
    char rel[128];
    static const char *const vfs[] = {"0000:03:10.0", "0000:03:10.2", "0000:03:10.4",
                                      "0000:03:10.6", "0000:03:11.0", "0000:03:11.2",
                                      "0000:03:11.4", "0000:03:11.6"};

    MOUNT(&fx, "server-sriov");
    READ_EQ(&fx, DEV NIC "/sriov_totalvfs", "63");
    READ_EQ(&fx, DEV NIC "/sriov_numvfs", "8");
    READ_EQ(&fx, DEV NIC "/sriov_offset", "128");
    READ_EQ(&fx, DEV NIC "/sriov_stride", "2");
    READ_EQ(&fx, DEV NIC "/sriov_vf_device", "10ed");
    READ_EQ(&fx, DEV NIC "/sriov_drivers_autoprobe", "1");
    int groups[8];
    for (int i = 0; i < 8; i++) {
        snprintf(rel, sizeof(rel), DEV NIC "/virtfn%d", i);
        ck_assert_str_eq(fx_link(&fx, rel), vfs[i]);
        snprintf(rel, sizeof(rel), DEV "%s/physfn", vfs[i]);
        ck_assert_str_eq(fx_link(&fx, rel), NIC);
        ck_assert_str_eq(fx_driver(&fx, vfs[i]), "ixgbevf");
        groups[i] = fx_group(&fx, vfs[i]);
        ck_assert_int_ge(groups[i], 0);
        for (int j = 0; j < i; j++)
            ck_assert_int_ne(groups[i], groups[j]);
    }
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/sriov_numvfs", "4"), -EBUSY);
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/sriov_numvfs", "64"), -ERANGE);
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/sriov_numvfs", "8"), 0); /* same: nothing */
    /* a VF on vfio-pci goes cleanly with the rest */
    to_vfio(&fx, vfs[3]);
    snprintf(rel, sizeof(rel), "dev/vfio/%d", groups[3]);
    ck_assert(fx_exists(&fx, rel));
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/sriov_numvfs", "0"), 0);
    ck_assert(!fx_exists(&fx, rel));
    ck_assert(!fx_exists(&fx, DEV "0000:03:10.0"));
    ck_assert(!fx_exists(&fx, DEV NIC "/virtfn0"));
    READ_EQ(&fx, DEV NIC "/sriov_numvfs", "0");
    /* autoprobe off: new VFs stay unbound */
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/sriov_drivers_autoprobe", "0"), 0);
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/sriov_numvfs", "2"), 0);
    ck_assert(fx_exists(&fx, DEV "0000:03:10.2"));
    ck_assert(!fx_exists(&fx, DEV "0000:03:10.4"));
    ck_assert_str_eq(fx_driver(&fx, "0000:03:10.0"), "");
    /* ... and bind only with an override */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/ixgbevf/bind", "0000:03:10.0"), -ENODEV);
    to_vfio(&fx, "0000:03:10.0");
    ck_assert_str_eq(fx_driver(&fx, "0000:03:10.0"), "vfio-pci");
    /* the second port's VFs interleave: 03:00.1 + 128 = 03:10.1 */
    ck_assert_int_eq(fx_write(&fx, DEV "0000:03:00.1/sriov_numvfs", "1"), 0);
    ck_assert_str_eq(fx_link(&fx, DEV "0000:03:00.1/virtfn0"), "0000:03:10.1");
    /* vfio-pci makes VFs only when loaded with enable_sriov=1 */
    ck_assert_int_eq(fx_write(&fx, DEV "0000:03:00.1/sriov_numvfs", "0"), 0);
    to_vfio(&fx, "0000:03:00.1");
    ck_assert_int_eq(fx_write(&fx, DEV "0000:03:00.1/sriov_numvfs", "2"), -ENOENT);
    ck_assert_int_eq(fx_write(&fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    ck_assert_int_eq(fx_write(&fx, DEV "0000:03:00.1/sriov_numvfs", "2"), 0);
    /* ... and its VFs are vfio-pci's by the override the kernel gives them, not ixgbevf's */
    ck_assert_str_eq(fx_driver(&fx, "0000:03:10.3"), "vfio-pci");
    READ_EQ(&fx, DEV "0000:03:10.3/driver_override", "vfio-pci");
    /* the PF on the other socket has no driver: ENOENT */
    ck_assert_int_eq(fx_write(&fx, DEV "0000:81:00.0/sriov_numvfs", "2"), -ENOENT);
    fx_umount(&fx);
}
END_TEST

/* ---- remove and rescan ------------------------------------------------------------------- */

HD_TEST(remove_and_rescan)
{
    struct fx fx;

    MOUNT(&fx, "demo");
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/driver_override", "vfio-pci"), 0);
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:1c.0/remove", "1"), 0);
    ck_assert(!fx_exists(&fx, DEV "0000:00:1c.0"));
    ck_assert(!fx_exists(&fx, DEV NIC));
    ck_assert(!fx_exists(&fx, "sys/class/net/enp3s0"));
    ck_assert(!fx_exists(&fx, "sys/kernel/iommu_groups/8"));
    ck_assert_uint_eq(fx_log_count(&fx, "remove " NIC), 1);
    ck_assert_uint_eq(fx_log_count(&fx, "unbind " NIC " e1000e"), 1);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/rescan", "1"), 0);
    ck_assert(fx_exists(&fx, DEV NIC));
    ck_assert_str_eq(fx_driver(&fx, NIC), "e1000e"); /* probed afresh, override gone */
    READ_EQ(&fx, DEV NIC "/driver_override", "(null)");
    ck_assert_int_eq(fx_group(&fx, NIC), 8);
    /* a device bound to vfio-pci takes its node along */
    to_vfio(&fx, NIC);
    ck_assert(fx_exists(&fx, "dev/vfio/8"));
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/remove", "1"), 0);
    ck_assert(!fx_exists(&fx, "dev/vfio/8"));
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:1c.0/rescan", "1"), 0);
    ck_assert_str_eq(fx_driver(&fx, NIC), "e1000e");
    fx_umount(&fx);
}
END_TEST

/* ---- hangs and faults -------------------------------------------------------------------- */

static const char *const hang_spec = "iommu intel\n"
                                     "driver slowdrv ids=8086:10d3 unbind-hang-ms=1500\n"
                                     "driver vfio-pci module=vfio_pci stub vfio\n"
                                     "device 0000:00:02.0 8086:10d3 class=020000 "
                                     "driver=slowdrv\n"
                                     "device 0000:00:03.0 8086:10d3 class=020000 "
                                     "driver=slowdrv\n";

/* Start an unbind in a child; the parent goes on. */
static pid_t unbind_in_child(struct fx *fx, const char *driver, const char *bdf)
{
    char rel[128];

    snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/unbind", driver);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fx_write(fx, rel, bdf) == 0 ? 0 : 1);
    ck_assert_int_gt(pid, 0);
    return pid;
}

HD_TEST(unbind_hang_blocks_only_the_writer)
{
    struct fx fx;
    int status;

    MOUNT_TEXT(&fx, hang_spec);
    long start = fx_now_ms();
    pid_t pid = unbind_in_child(&fx, "slowdrv", "0000:00:02.0");
    /* wait until the fake kernel is inside the hang (poll the log, no blind sleep) */
    ck_assert(fx_wait_log(&fx, "unbind-hang 0000:00:02.0", 1, 5000));
    /* meanwhile everything else answers at once (writes to that device wait: below) */
    long t = fx_now_ms();
    READ_EQ(&fx, DEV "0000:00:02.0/vendor", "0x8086");
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:03.0/driver_override", "vfio-pci"), 0);
    ck_assert_int_lt(fx_now_ms() - t, 500);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "slowdrv"); /* not yet */
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    long took = fx_now_ms() - start;
    ck_assert_int_ge(took, 1400);
    ck_assert_int_lt(took, 5000);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "");
    fx_umount(&fx);
}
END_TEST

/* A child of ours is blocked in write(2) (its /proc/PID/syscall names it), or has exited. */
static bool in_write_or_gone(pid_t pid, int *status)
{
    char path[64], buf[64] = "";
    FILE *f;

    if (waitpid(pid, status, WNOHANG) == pid)
        return true;
    snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
    if ((f = fopen(path, "r")) != NULL) {
        if (fgets(buf, sizeof(buf), f) == NULL)
            buf[0] = '\0';
        fclose(f);
    }
    char *end;
    long nr = strtol(buf, &end, 10);
    return end != buf && nr == SYS_write;
}

/* Writes to one device wait for each other, as device_lock() makes them: a driver_override
 * written while that device's unbind hangs lands after the unbind. Writes to other devices,
 * to the same unbind file too, do not wait: two unbinds hang at once. */
HD_TEST(writes_to_one_device_wait)
{
    struct fx fx;
    int status = -1;

    MOUNT_TEXT(&fx, hang_spec);
    /* Bounded, not forever: should an assertion below fail, the unbinds still end. */
    ck_assert_int_eq(fx_ctl(&fx, "hang slowdrv 30000"), 0);
    pid_t a = unbind_in_child(&fx, "slowdrv", "0000:00:02.0");
    pid_t b = unbind_in_child(&fx, "slowdrv", "0000:00:03.0");
    ck_assert_msg(fx_wait_log(&fx, "unbind-hang", 2, 5000), "the second unbind waited");
    fflush(NULL);
    pid_t c = fork();
    if (c == 0)
        _exit(fx_write(&fx, DEV "0000:00:02.0/driver_override", "vfio-pci") == 0 ? 0 : 1);
    ck_assert_int_gt(c, 0);
    /* Bounded: it is in its write, or done (which it must not be before the release). */
    bool seen = false;
    for (int tries = 0; tries < 2000 && !seen; tries++) {
        if (!(seen = in_write_or_gone(c, &status)))
            usleep(2000);
    }
    ck_assert(seen);
    ck_assert_int_eq(fx_ctl(&fx, "release"), 0);
    ck_assert_int_eq(waitpid(a, &status, 0), a);
    ck_assert_int_eq(waitpid(b, &status, 0), b);
    if (waitpid(c, &status, 0) == c)
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *log = fx_log(&fx);
    const char *unbind = strstr(log, "unbind 0000:00:02.0 slowdrv");
    const char *write = strstr(log, "write sys/bus/pci/devices/0000:00:02.0/driver_override");
    ck_assert_msg(unbind && write && write > unbind, "the override went first:\n%s", log);
    free(log);
    fx_umount(&fx);
}
END_TEST

HD_TEST(hang_forever_until_release)
{
    struct fx fx;
    int status;

    MOUNT_TEXT(&fx, hang_spec);
    ck_assert_int_eq(fx_ctl(&fx, "hang slowdrv forever"), 0);
    pid_t pid = unbind_in_child(&fx, "slowdrv", "0000:00:02.0");
    ck_assert(fx_wait_log(&fx, "unbind-hang", 1, 5000));
    ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0); /* still blocked */
    ck_assert_int_eq(fx_ctl(&fx, "release"), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "");
    /* a hang left pending does not keep the unmount waiting */
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/slowdrv/bind", "0000:00:02.0"), 0);
    pid = unbind_in_child(&fx, "slowdrv", "0000:00:02.0");
    ck_assert(fx_wait_log(&fx, "unbind-hang", 2, 5000));
    fx_umount(&fx);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}
END_TEST

HD_TEST(open_group_blocks_vfio_unbind)
{
    struct fx fx;
    int status;

    MOUNT(&fx, "gpu-audio");
    ck_assert_int_eq(fx_ctl(&fx, "open-group 12"), -ENOENT); /* no dev/vfio/12 yet */
    to_vfio(&fx, "0000:0a:00.0");
    READ_EQ(&fx, DEV "0000:0a:00.0/enable", "0");
    ck_assert_int_eq(fx_ctl(&fx, "open-group 12"), 0);
    READ_EQ(&fx, DEV "0000:0a:00.0/enable", "1"); /* a VM has it */
    pid_t pid = unbind_in_child(&fx, "vfio-pci", "0000:0a:00.0");
    ck_assert(fx_wait_log(&fx, "unbind-wait 0000:0a:00.0", 1, 5000));
    ck_assert_uint_eq(fx_log_count(&fx, "unbind-wait 0000:0a:00.0 vfio-pci group 12"), 1);
    ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:0a:00.0"), "vfio-pci");
    ck_assert_int_eq(fx_ctl(&fx, "close-group 12"), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:0a:00.0"), "");
    ck_assert(!fx_exists(&fx, "dev/vfio/12"));
    fx_umount(&fx);
}
END_TEST

HD_TEST(umount_ends_every_wait)
{
    struct fx fx;
    int status;

    MOUNT(&fx, "gpu-audio");
    to_vfio(&fx, "0000:0a:00.0");
    ck_assert_int_eq(fx_ctl(&fx, "open-group 12"), 0);
    pid_t pid = unbind_in_child(&fx, "vfio-pci", "0000:0a:00.0");
    ck_assert(fx_wait_log(&fx, "unbind-wait", 1, 5000));
    long start = fx_now_ms();
    fx_umount(&fx);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_lt(fx_now_ms() - start, 5000);
}
END_TEST

HD_TEST(fault_injection)
{
    struct fx fx;

    MOUNT_TEXT(&fx, "iommu intel\n"
                    "driver e1000e ids=8086:10d3\n"
                    "driver vfio-pci module=vfio_pci stub vfio\n"
                    "device 0000:00:02.0 8086:10d3 class=020000 driver=e1000e\n"
                    "fault sys/bus/pci/devices/0000:00:02.0/driver_override EIO nth=2\n");
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:02.0/driver_override", "a"), 0);
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:02.0/driver_override", "b"), -EIO);
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:02.0/driver_override", "c"), 0);
    READ_EQ(&fx, DEV "0000:00:02.0/driver_override", "c");
    /* at run time, by a path through the symlinks, failing every time */
    ck_assert_int_eq(fx_ctl(&fx, "fault sys/bus/pci/devices/0000:00:02.0/driver/unbind EBUSY "
                                 "count=0"),
                     0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/unbind", "0000:00:02.0"), -EBUSY);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/unbind", "0000:00:02.0"), -EBUSY);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "e1000e");
    ck_assert_uint_eq(fx_log_count(&fx, "write sys/bus/pci/drivers/e1000e/unbind "
                                        "\"0000:00:02.0\" = EBUSY"),
                      2);
    ck_assert_int_eq(fx_ctl(&fx, "clear-faults"), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/unbind", "0000:00:02.0"), 0);
    /* reads fail too, when asked */
    ck_assert_int_eq(fx_ctl(&fx, "fault sys/bus/pci/devices/0000:00:02.0/config EIO on=read"), 0);
    ck_assert_ptr_null(fx_read(&fx, DEV "0000:00:02.0/config"));
    ck_assert_int_eq(errno, EIO);
    ck_assert_ptr_nonnull(fx_read(&fx, DEV "0000:00:02.0/vendor"));
    ck_assert_ptr_nonnull(fx_read(&fx, DEV "0000:00:02.0/config")); /* count=1 */
    ck_assert_int_eq(fx_ctl(&fx, "fault x EIO on=sideways"), -EINVAL);
    /* probe failures */
    ck_assert_int_eq(fx_ctl(&fx, "probe-fails e1000e ENXIO"), 0);
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:02.0/driver_override", "\n"), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers/e1000e/bind", "0000:00:02.0"), -ENXIO);
    /* bad commands say why */
    ck_assert_int_eq(fx_ctl(&fx, "fault x ENOTANERRNO"), -EINVAL);
    ck_assert(strstr(fx.error, "ENOTANERRNO") != NULL);
    ck_assert_int_eq(fx_ctl(&fx, "frobnicate"), -EINVAL);
    fx_umount(&fx);
}
END_TEST

HD_TEST(ctl_hotplug_and_modules)
{
    struct fx fx;

    MOUNT(&fx, "demo");
    ck_assert_int_eq(fx_ctl(&fx, "add 0000:05:00.0 8086:10d3 class=020000 parent=0000:00:1c.4"),
                     -EINVAL); /* 1c.4's secondary bus is 04 */
    ck_assert_int_eq(fx_ctl(&fx, "add 0000:00:19.0 8086:15b8 class=020000 reset=flr"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:19.0"), "e1000e");
    ck_assert_int_ge(fx_group(&fx, "0000:00:19.0"), 0);
    ck_assert_int_eq(fx_ctl(&fx, "unplug 0000:00:19.0"), 0);
    ck_assert(!fx_exists(&fx, DEV "0000:00:19.0"));
    ck_assert_int_eq(fx_ctl(&fx, "rmmod vfio_pci"), 0);
    ck_assert(!fx_exists(&fx, "sys/bus/pci/drivers/vfio-pci"));
    ck_assert(!fx_exists(&fx, "sys/module/vfio_pci"));
    ck_assert_int_eq(fx_ctl(&fx, "modprobe vfio_pci"), 0);
    ck_assert(fx_exists(&fx, "sys/bus/pci/drivers/vfio-pci/bind"));
    ck_assert_int_eq(fx_ctl(&fx, "param vfio_iommu_type1 allow_unsafe_interrupts Y"), 0);
    READ_EQ(&fx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y");
    ck_assert_int_eq(
        fx_write(&fx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "0"), 0);
    READ_EQ(&fx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N");
    ck_assert_int_eq(fx_ctl(&fx, "mark step two"), 0);
    ck_assert_uint_eq(fx_log_count(&fx, "mark step two"), 1);
    fx_umount(&fx);
}
END_TEST

HD_TEST(drivers_autoprobe_only_stops_new_drivers)
{
    struct fx fx;

    MOUNT_TEXT(&fx, "driver e1000e ids=8086:10d3 unloaded\n"
                    "device 0000:00:02.0 8086:10d3 class=020000\n");
    ck_assert(!fx_exists(&fx, "sys/bus/pci/drivers/e1000e"));
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_autoprobe", "0"), 0);
    READ_EQ(&fx, "sys/bus/pci/drivers_autoprobe", "0");
    ck_assert_int_eq(fx_ctl(&fx, "modprobe e1000e"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), ""); /* the new driver bound nothing */
    ck_assert_int_eq(fx_write(&fx, DEV "0000:00:02.0/remove", "1"), 0);
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/rescan", "1"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "e1000e"); /* a rescan probes anyway */
    ck_assert_int_eq(fx_ctl(&fx, "rmmod e1000e"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "");
    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/drivers_autoprobe", "1"), 0);
    ck_assert_int_eq(fx_ctl(&fx, "modprobe e1000e"), 0);
    ck_assert_str_eq(fx_driver(&fx, "0000:00:02.0"), "e1000e");
    fx_umount(&fx);
}
END_TEST

/* ---- plain files ------------------------------------------------------------------------- */

HD_TEST(plain_files_outside_sysfs)
{
    struct fx fx;
    char buf[64];

    MOUNT(&fx, "demo");
    ck_assert(fx_exists(&fx, "etc"));
    ck_assert(fx_exists(&fx, "tmp"));
    ck_assert_int_eq(mkdir(fx_path(&fx, "run/hostdev"), 0700), 0);
    int fd = open(fx_path(&fx, "run/hostdev/state.tmp"), O_WRONLY | O_CREAT | O_EXCL, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "one\n", 4), 4);
    ck_assert_int_eq(fsync(fd), 0);
    close(fd);
    /* the atomic replace hostdev relies on: rename over an existing file */
    ck_assert_int_eq(fx_write(&fx, "run/hostdev/state", "old"), -ENOENT);
    fd = open(fx_path(&fx, "run/hostdev/state"), O_WRONLY | O_CREAT, 0600);
    ck_assert_int_eq(write(fd, "old", 3), 3);
    close(fd);
    int reader = open(fx_path(&fx, "run/hostdev/state"), O_RDONLY);
    char from[512];
    snprintf(from, sizeof(from), "%s", fx_path(&fx, "run/hostdev/state.tmp"));
    ck_assert_int_eq(rename(from, fx_path(&fx, "run/hostdev/state")), 0);
    READ_EQ(&fx, "run/hostdev/state", "one");
    ck_assert_int_eq(pread(reader, buf, sizeof(buf), 0), 3); /* the old file lives on */
    close(reader);
    ck_assert_int_eq(truncate(fx_path(&fx, "run/hostdev/state"), 2), 0);
    READ_EQ(&fx, "run/hostdev/state", "on");
    ck_assert_int_eq(chmod(fx_path(&fx, "run/hostdev/state"), 0640), 0);
    ck_assert_int_eq(symlink("state", fx_path(&fx, "run/hostdev/link")), 0);
    READ_EQ(&fx, "run/hostdev/link", "on");
    ck_assert_uint_eq(count_entries(&fx, "run/hostdev"), 2); /* no .fuse_hidden files */
    ck_assert_int_eq(rmdir(fx_path(&fx, "run/hostdev")), -1);
    ck_assert_int_eq(errno, ENOTEMPTY);
    ck_assert_int_eq(unlink(fx_path(&fx, "run/hostdev/link")), 0);
    ck_assert_int_eq(unlink(fx_path(&fx, "run/hostdev/state")), 0);
    ck_assert_int_eq(rmdir(fx_path(&fx, "run/hostdev")), 0);
    /* the kernel's trees take no new files and lose none */
    ck_assert_int_lt(open(fx_path(&fx, "sys/bus/pci/newfile"), O_WRONLY | O_CREAT, 0644), 0);
    ck_assert_int_eq(errno, EACCES);
    ck_assert_int_eq(unlink(fx_path(&fx, DEV NIC "/vendor")), -1);
    ck_assert_int_eq(mkdir(fx_path(&fx, "proc/x"), 0755), -1);
    fx_umount(&fx);
}
END_TEST

static void expect_spec_error(const char *text, const char *line_tag, const char *words);

HD_TEST(seeded_files)
{
    struct fx fx;
    struct stat st;

    MOUNT_TEXT(&fx, "file etc/modprobe.d/vfio.conf \"options vfio-pci ids=8086:10d3\\n\"\n"
                    "dir var/lib/hostdev mode=0700\n"
                    "device 0000:00:02.0 8086:10d3\n");
    READ_EQ(&fx, "etc/modprobe.d/vfio.conf", "options vfio-pci ids=8086:10d3");
    ck_assert_int_eq(stat(fx_path(&fx, "var/lib/hostdev"), &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    fx_umount(&fx);
    expect_spec_error("file sys/x y\n", "1", "not a path outside");
}
END_TEST

/* ---- specs ------------------------------------------------------------------------------- */

static void expect_spec_error(const char *text, const char *line_tag, const char *words)
{
    struct fx fx;
    char path[] = "/tmp/hostdev-fx-bad.XXXXXX";
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    memset(&fx, 0, sizeof(fx));
    const char *args[] = {"check", path, NULL};
    int rc = fx_fakesys(&fx, args, NULL);
    unlink(path);
    ck_assert_msg(rc == 2, "exit %d for %s", rc, text);
    char want[128];
    snprintf(want, sizeof(want), "%s:%s: ", path, line_tag);
    ck_assert_msg(strstr(fx.error, want) != NULL, "'%s' lacks '%s'", fx.error, want);
    ck_assert_msg(strstr(fx.error, words) != NULL, "'%s' lacks '%s'", fx.error, words);
}

HD_TEST(spec_errors_name_file_and_line)
{
    expect_spec_error("# comment\n\nfrob x\n", "3", "unknown keyword 'frob'");
    expect_spec_error("device 0000:00:20.0 8086:10d3\n", "1", "invalid PCI address");
    expect_spec_error("device 0000:00:02.0 8086:10d3\ndevice 0000:03:00.0 8086:10d3 "
                      "parent=0000:00:02.0\n",
                      "2", "not a bridge");
    expect_spec_error("device 0000:03:00.0 8086:10d3\n", "1", "no bridge with secondary bus");
    expect_spec_error("iommu none\ndevice 0000:00:02.0 8086:10d3 group=4\n", "2",
                      "needs an enabled IOMMU");
    expect_spec_error("iommu none\ndriver vfio-pci stub vfio\n"
                      "device 0000:00:02.0 8086:10d3 driver=vfio-pci\n",
                      "3", "IOMMU group");
    expect_spec_error("kernel 3.10.0\ndevice 0000:00:02.0 8086:10d3 override=x\n", "2",
                      "driver_override");
    expect_spec_error("device 0000:00:02.0 8086:10d3 reset=flr,warp\n", "1", "reset list");
    expect_spec_error("driver e1000e ids=8086:zz\n", "1", "bad id");
    expect_spec_error("cmdline \"unterminated\n", "1", "unterminated quote");
    expect_spec_error("device 0000:00:02.0 8086:10d3 totalvfs=4 numvfs=8\n", "1",
                      "more than totalvfs");
    expect_spec_error("fault sys/x EWHAT\n", "1", "unknown errno");
    expect_spec_error("device 0000:00:02.0 8086:10d3 pcie=no reset=flr\n", "1", "flr needs");
    expect_spec_error("device 0000:00:02.0 8086:10d3 link-port=2\n", "1",
                      "link-port= needs a link");
    expect_spec_error("device 0000:00:1f.2 8086:3a22\nscsi 0000:00:1f.2 1:0:0:0 size=8\n", "2",
                      "size= needs disk=");
    expect_spec_error("device 0000:00:1f.2 8086:3a22\nscsi 0000:00:1f.2 1:0:0:0\n"
                      "scsi 0000:00:1f.2 1:0:1:0 sg=0\n",
                      "3", "bad option 'sg=0'");
    expect_spec_error("loop loop0\n", "1", "usage: loop NAME dev=MAJ:MIN");
    expect_spec_error("netdev lo loopback\nnetdev lo2 loopback\n", "2",
                      "lo is the loopback interface");
    /* mediated devices: a parent that exists, DRIVER-TYPE ids, UUIDs, instances */
    expect_spec_error("mdev-type 0000:00:09.0 i915-x\n", "1", "no device 0000:00:09.0");
    expect_spec_error("mdev-type mtty mtty\n", "1", "want PARENT DRIVER-NAME");
    expect_spec_error("mdev-type mtty mtty-1\nmdev-type mtty mtty-1\n", "2", "given twice");
    expect_spec_error("mdev-type mtty mtty-1 instances=x\n", "1", "bad option");
    expect_spec_error("mdev 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 mtty mtty-1\n", "1",
                      "declare it with mdev-type first");
    expect_spec_error("mdev-type mtty mtty-1\nmdev 83b8f4f2-509f-382f-3c1e-e6bfe0fa10 mtty "
                      "mtty-1\n", "2", "not a UUID");
    expect_spec_error("mdev-type mtty mtty-1\nmdev 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 mtty "
                      "mtty-1\nmdev 83b8f4f2-509f-382f-3c1e-e6bfe0fa1002 mtty mtty-1\n", "3",
                      "instances=");
}
END_TEST

HD_TEST(every_shipped_spec_mounts)
{
    char pattern[512];
    glob_t g;
    const char *src = getenv("HOSTDEV_SRCDIR");

    snprintf(pattern, sizeof(pattern), "%s/tests/trees/*.spec", src && *src ? src : ".");
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    ck_assert_uint_ge(g.gl_pathc, 10);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct fx fx;
        char name[128];
        const char *base = strrchr(g.gl_pathv[i], '/') + 1;
        snprintf(name, sizeof(name), "%.*s", (int)(strlen(base) - 5), base);
        MOUNT(&fx, name);
        ck_assert_msg(count_entries(&fx, "sys/bus/pci/devices") > 0, "%s lists nothing", name);
        ck_assert(fx_exists(&fx, "proc/cmdline"));
        ck_assert_str_eq(fx_read(&fx, ".fakesys/log"), "");
        fx_umount(&fx);
    }
    globfree(&g);
}
END_TEST

HD_TEST(iommu_variants)
{
    struct fx fx;

    MOUNT(&fx, "iommu-off-firmware");
    ck_assert(fx_exists(&fx, "sys/firmware/acpi/tables/DMAR"));
    ck_assert_uint_eq(count_entries(&fx, "sys/class/iommu"), 0);
    ck_assert_uint_eq(count_entries(&fx, "sys/kernel/iommu_groups"), 0);
    ck_assert(!fx_exists(&fx, DEV "0000:03:00.0/iommu_group"));
    fx_umount(&fx);

    MOUNT_TEXT(&fx, "kernel 5.10.0-26-amd64\niommu intel\ndevice 0000:00:02.0 8086:10d3\n");
    READ_EQ(&fx, "sys/kernel/iommu_groups/0/type", "DMA"); /* DMA-FQ came with 5.15 */
    fx_umount(&fx);

    MOUNT(&fx, "amd");
    ck_assert(fx_exists(&fx, "sys/class/iommu/ivhd0"));
    ck_assert(fx_exists(&fx, "sys/firmware/acpi/tables/IVRS"));
    READ_EQ(&fx, "sys/kernel/iommu_groups/0/type", "identity"); /* iommu=pt */
    fx_umount(&fx);

    /* An Arm SMMUv3: named after its base address, no ACPI DMAR or IVRS, groups as usual. */
    MOUNT_TEXT(&fx, "iommu smmu\ndevice 0000:00:01.0 1af4:1041 class=020000\n");
    ck_assert(fx_exists(&fx, "sys/class/iommu/smmu3.0x0000000009050000/devices"));
    ck_assert(!fx_exists(&fx, "sys/class/iommu/smmu3.0x0000000009050000/intel-iommu"));
    ck_assert(!fx_exists(&fx, "sys/firmware/acpi/tables/DMAR"));
    ck_assert(!fx_exists(&fx, "sys/firmware/acpi/tables/IVRS"));
    ck_assert_int_eq(fx_group(&fx, "0000:00:01.0"), 0);
    ck_assert_str_eq(fx_link(&fx, DEV "0000:00:01.0/iommu"), "smmu3.0x0000000009050000");
    fx_umount(&fx);

    MOUNT(&fx, "unsafe-interrupts");
    const char *ecap = fx_read(&fx, "sys/class/iommu/dmar0/intel-iommu/ecap");
    ck_assert_ptr_nonnull(ecap);
    ck_assert_uint_eq(strtoul(ecap, NULL, 16) & 0x8, 0); /* no interrupt remapping */
    fx_umount(&fx);

    MOUNT(&fx, "bridge-shared");
    ck_assert_uint_eq(count_entries(&fx, "sys/kernel/iommu_groups/7/devices"), 3);
    ck_assert_int_eq(fx_write(&fx, DEV "0000:05:01.0/reset", "1"), -ENOTTY);
    ck_assert(!fx_exists(&fx, DEV "0000:05:02.0/reset"));
    struct stat st;
    ck_assert_int_eq(stat(fx_path(&fx, DEV "0000:05:01.0/config"), &st), 0);
    ck_assert_int_eq(st.st_size, 256); /* conventional PCI */
    fx_umount(&fx);
}
END_TEST

/* The port number in a device's Link Capabilities (config space), or -1: only where sysfs
 * states the link (max_link_width), as capture carries it over with link-cap=. */
static int inventory_link_port(const char *devdir)
{
    char path[1024], text[32] = "";
    unsigned char cfg[256];
    FILE *f;
    size_t len = 0;

    snprintf(path, sizeof(path), "%s/max_link_width", devdir);
    if ((f = fopen(path, "r")) != NULL) {
        if (fgets(text, sizeof(text), f) == NULL)
            text[0] = '\0';
        fclose(f);
    }
    if (strtol(text, NULL, 10) <= 0)
        return -1;
    snprintf(path, sizeof(path), "%s/config", devdir);
    if ((f = fopen(path, "rb")) != NULL) {
        len = fread(cfg, 1, sizeof(cfg), f);
        fclose(f);
    }
    unsigned int pos = len > 0x34 ? cfg[0x34] : 0;
    for (int hops = 0; pos >= 0x40 && pos + 15 < len && hops < 48; hops++) {
        if (cfg[pos] == 0x10)
            return cfg[pos + 0x0f];
        pos = cfg[pos + 1];
    }
    return -1;
}

/* The first line of @dir/@name, newline cut; "" when unreadable. */
static void inv_read(const char *dir, const char *name, char *out, size_t size)
{
    char path[1200];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    out[0] = '\0';
    if ((f = fopen(path, "r")) != NULL) {
        if (fgets(out, (int)size, f) == NULL)
            out[0] = '\0';
        fclose(f);
    }
    out[strcspn(out, "\n")] = '\0';
}

/* The last component of link @dir/@name, "-" without one. */
static void inv_link(const char *dir, const char *name, char *out, size_t size)
{
    char path[1200], target[1024];
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    n = readlink(path, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = '\0';
    snprintf(out, size, "%.200s", n > 0 ? strrchr(target, '/') ? strrchr(target, '/') + 1 : target : "-");
}

/* The PCI function above sysfs entry @path ("-" when none): the last PCI address among the
 * components of where it leads. */
static void inv_pci_above(const char *path, char *out, size_t size)
{
    char real[4096], *save = NULL;

    snprintf(out, size, "-");
    if (realpath(path, real) == NULL)
        return;
    for (char *w = strtok_r(real, "/", &save); w; w = strtok_r(NULL, "/", &save)) {
        /* DDDD:BB:SS.F */
        if (strlen(w) == 12 && strspn(w, "0123456789abcdef:.") == 12 && w[4] == ':' &&
            w[7] == ':' && w[10] == '.')
            snprintf(out, size, "%s", w);
    }
}

static int inv_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines of text, sorted: the section of an inventory whose order the kernel does not fix. */
struct inv_lines {
    char **v;
    size_t n;
};

static void inv_add(struct inv_lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void inv_add(struct inv_lines *l, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    ck_assert_int_ge(vasprintf(&s, fmt, ap), 0);
    va_end(ap);
    l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
    ck_assert_ptr_nonnull(l->v);
    l->v[l->n++] = s;
}

static void inv_flush(FILE *out, struct inv_lines *l)
{
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), inv_cmp);
    for (size_t i = 0; i < l->n; i++) {
        if (i == 0 || strcmp(l->v[i], l->v[i - 1]) != 0)
            fprintf(out, "%s\n", l->v[i]);
    }
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    *l = (struct inv_lines){0};
}

/* One line for each entry that glob @pattern names under @sysdir, made by @line; sorted. */
static void inventory_each(FILE *out, const char *sysdir, const char *pattern,
                           void (*line)(struct inv_lines *l, const char *dir))
{
    char glob_pattern[1024];
    glob_t g;
    struct inv_lines l = {0};

    snprintf(glob_pattern, sizeof(glob_pattern), "%s/%s", sysdir, pattern);
    if (glob(glob_pattern, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++)
        line(&l, g.gl_pathv[i]);
    globfree(&g);
    inv_flush(out, &l);
}

/* A network interface: the PCI function above it, MAC (not a virtual one's), up or down,
 * stated speed, master, lower, and its kind (DEVTYPE). */
static void inventory_net(struct inv_lines *l, const char *dir)
{
    char pci[64], mac[64], flags[32], speed[32], master[256], uevent[256], real[4096];
    char pattern[1200], lower[300] = "-";
    bool virt = realpath(dir, real) && strstr(real, "/devices/virtual/net/");
    glob_t lg;

    inv_pci_above(dir, pci, sizeof(pci));
    inv_read(dir, "address", mac, sizeof(mac));
    inv_read(dir, "flags", flags, sizeof(flags));
    inv_read(dir, "speed", speed, sizeof(speed));
    inv_link(dir, "master", master, sizeof(master));
    inv_read(dir, "uevent", uevent, sizeof(uevent)); /* DEVTYPE= is the first line */
    snprintf(pattern, sizeof(pattern), "%s/lower_*", dir);
    if (strstr(uevent, "DEVTYPE=vlan") && glob(pattern, 0, NULL, &lg) == 0) {
        snprintf(lower, sizeof(lower), "%s", strrchr(lg.gl_pathv[0], '/') + 7);
        globfree(&lg);
    }
    long sp = strtol(speed, NULL, 10);
    inv_add(l, "  net %s on %s mac=%s %s speed=%ld master=%s lower=%s %s", strrchr(dir, '/') + 1,
            virt ? "virtual" : pci, virt ? "-" : mac, strtol(flags, NULL, 16) & 1 ? "up" : "down",
            sp > 0 ? sp : 0, master, lower, strncmp(uevent, "DEVTYPE=", 8) == 0 ? uevent : "-");
}

/* A block device: where it sits, number, size, partition, what it holds and its dm name. */
static void inventory_block(struct inv_lines *l, const char *dir)
{
    char pci[64], dev[64], size[64], part[16], dm[256], slaves[1024] = "", pattern[1200];
    glob_t sg;

    inv_pci_above(dir, pci, sizeof(pci));
    inv_read(dir, "dev", dev, sizeof(dev));
    inv_read(dir, "size", size, sizeof(size));
    inv_read(dir, "partition", part, sizeof(part));
    inv_read(dir, "dm/name", dm, sizeof(dm));
    snprintf(pattern, sizeof(pattern), "%s/slaves/*", dir);
    if (glob(pattern, 0, NULL, &sg) == 0) {
        for (size_t s = 0; s < sg.gl_pathc; s++)
            snprintf(slaves + strlen(slaves), sizeof(slaves) - strlen(slaves), " %s",
                     strrchr(sg.gl_pathv[s], '/') + 1);
        globfree(&sg);
    }
    inv_add(l, "  block %s on %s dev=%s size=%lld partition=%s dm=%s slaves=%s",
            strrchr(dir, '/') + 1, pci, dev, strtoll(size, NULL, 10), part[0] ? "yes" : "no", dm,
            slaves);
}

/* A framebuffer and the PCI function it is on. */
static void inventory_fb(struct inv_lines *l, const char *dir)
{
    char pci[64];

    inv_pci_above(dir, pci, sizeof(pci));
    inv_add(l, "  graphics %s on %s", strrchr(dir, '/') + 1, pci);
}

/* A USB device or interface: ids, class, strings, driver. */
static void inventory_usb(struct inv_lines *l, const char *dir)
{
    const char *name = strrchr(dir, '/') + 1;
    char pci[64], a[6][256];
    static const char *const dattrs[] = {"idVendor", "idProduct", "bDeviceClass",
                                         "serial",   "product",   "manufacturer"};
    static const char *const iattrs[] = {"bInterfaceClass", "bInterfaceSubClass",
                                         "bInterfaceProtocol", "interface", "-", "-"};
    bool iface = strchr(name, ':') != NULL;

    inv_pci_above(dir, pci, sizeof(pci));
    for (int k = 0; k < 6; k++)
        inv_read(dir, iface ? iattrs[k] : dattrs[k], a[k], sizeof(a[k]));
    inv_link(dir, "driver", a[4], sizeof(a[4]));
    inv_add(l, "  usb %s on %s %s|%s|%s|%s|%s|%s", name, pci, a[0], a[1], a[2], a[3], a[4],
            iface ? "" : a[5]);
}

/* A SCSI device: type, vendor, model, its sg and its disk. */
static void inventory_scsi(struct inv_lines *l, const char *dir)
{
    char pci[64], type[16], vendor[64], model[64], sg[64] = "-", disk[64] = "-", pattern[1200];
    glob_t sub;

    inv_pci_above(dir, pci, sizeof(pci));
    inv_read(dir, "type", type, sizeof(type));
    inv_read(dir, "vendor", vendor, sizeof(vendor));
    inv_read(dir, "model", model, sizeof(model));
    snprintf(pattern, sizeof(pattern), "%s/scsi_generic/*", dir);
    if (glob(pattern, 0, NULL, &sub) == 0) {
        snprintf(sg, sizeof(sg), "%s", strrchr(sub.gl_pathv[0], '/') + 1);
        globfree(&sub);
    }
    snprintf(pattern, sizeof(pattern), "%s/block/*", dir);
    if (glob(pattern, 0, NULL, &sub) == 0) {
        snprintf(disk, sizeof(disk), "%s", strrchr(sub.gl_pathv[0], '/') + 1);
        globfree(&sub);
    }
    inv_add(l, "  scsi %s on %s type=%s %s|%s %s %s", strrchr(dir, '/') + 1, pci, type, vendor,
            model, sg, disk);
}

/* Routes (IPv4 main table, IPv6), IPv6 addresses, the rtnetlink stand-in, mounts and swaps as
 * proc shows them, each section sorted. Mounts of FUSE filesystems are left out: the tests'
 * own fake kernels come and go on a host while it is read. */
static char *run_capture(const char *cmd);

/* What the running system's rtnetlink has beyond proc/net, as a fake kernel's hostdev-rtnl
 * says it, told by iproute2 (not by the reader under test): the IPv4 addresses of interfaces
 * that are up (a fake kernel's down interface shows none), and IPv4 unicast routes of tables
 * other than main (in net/route) and local. */
static void inventory_host_rtnl(struct inv_lines *l)
{
    char *text = run_capture("ip -4 -o addr show up 2>/dev/null"), *save = NULL;

    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char ifname[64], addr[64];
        /* "2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\ ..." */
        if (sscanf(line, "%*d: %63s inet %63s", ifname, addr) == 2 && strcmp(ifname, "lo") != 0)
            inv_add(l, "  rtnl addr %s %s", ifname, addr);
    }
    free(text);
    text = run_capture("ip -4 route show table all type unicast 2>/dev/null");
    save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *w[32], *sv = NULL, *dev = NULL, *table = NULL, dest[80];
        size_t n = 0;
        for (char *t = strtok_r(line, " \t", &sv); t && n < 32; t = strtok_r(NULL, " \t", &sv))
            w[n++] = t;
        for (size_t i = 1; i + 1 < n; i++) {
            if (strcmp(w[i], "dev") == 0)
                dev = w[i + 1];
            else if (strcmp(w[i], "table") == 0)
                table = w[i + 1];
        }
        if (n == 0 || dev == NULL || table == NULL || strcmp(table, "main") == 0 ||
            strcmp(table, "local") == 0)
            continue;
        snprintf(dest, sizeof(dest), "%s%s", strcmp(w[0], "default") == 0 ? "0.0.0.0/0" : w[0],
                 strcmp(w[0], "default") == 0 || strchr(w[0], '/') ? "" : "/32");
        inv_add(l, "  rtnl route %s %s %s", strcmp(table, "default") == 0 ? "253" : table, dev,
                dest);
    }
    free(text);
}

static void inventory_proc(FILE *out, const char *procdir, const char *sysdir)
{
    static const char *const files[] = {"net/route", "net/ipv6_route", "net/if_inet6",
                                        "net/hostdev-rtnl", "self/mountinfo", "swaps"};

    for (size_t fi = 0; fi < sizeof(files) / sizeof(files[0]); fi++) {
        char path[1200], line[4096];
        struct inv_lines l = {0};
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", procdir, files[fi]);
        if ((f = fopen(path, "r")) == NULL) {
            if (fi == 3 && strcmp(procdir, "/proc") == 0)
                inventory_host_rtnl(&l);
            if (l.n) {
                fprintf(out, " %s\n", files[fi]);
                inv_flush(out, &l);
            }
            continue;
        }
        for (int n = 0; fgets(line, sizeof(line), f); n++) {
            line[strcspn(line, "\n")] = '\0';
            char w[10][512];
            int k = sscanf(line, "%511s %511s %511s %511s %511s %511s %511s %511s %511s %511s",
                           w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9]);
            if (fi == 0 && n > 0 && k >= 8) /* Iface Destination Gateway ... Mask */
                inv_add(&l, "  route %s %s/%s", w[0], w[1], w[7]);
            else if (fi == 1 && k == 10)
                inv_add(&l, "  route6 %s %s/%s", w[9], w[0], w[1]);
            else if (fi == 2 && k == 6) /* not the ifindex: the order of interfaces */
                inv_add(&l, "  inet6 %s %s/%s", w[5], w[0], w[2]);
            else if (fi == 3)
                inv_add(&l, "  rtnl %s", line);
            else if (fi == 4) {
                const char *dash = strstr(line, " - ");
                char fstype[256], source[512], dev[64] = "-", blk[1024];
                if (dash == NULL || k < 5 || sscanf(dash, " - %255s %511s", fstype, source) != 2 ||
                    strncmp(fstype, "fuse", 4) == 0 || strcmp(w[4], "/sys") == 0 ||
                    strcmp(w[4], "/proc") == 0 || strcmp(w[4], "/dev") == 0)
                    continue;
                /* the number of a mounted block device the tree has (not /dev/root) */
                snprintf(blk, sizeof(blk), "%s/class/block/%s", sysdir,
                         strncmp(source, "/dev/", 5) == 0 ? source + 5 : "-");
                if (access(blk, F_OK) == 0)
                    snprintf(dev, sizeof(dev), "%.60s", w[2]);
                inv_add(&l, "  mount %s %s %s %s", source, w[4], fstype, dev);
            } else if (fi == 5 && n > 0 && k >= 1)
                inv_add(&l, "  swap %s", w[0]);
        }
        fclose(f);
        if (l.n) /* the rtnetlink stand-in is the fake kernel's alone */
            fprintf(out, " %s\n", files[fi]);
        inv_flush(out, &l);
    }
}

/* Devices, drivers and groups of a tree, one line each, with each device's link port; then its
 * network interfaces, block devices, USB and SCSI devices, routes, addresses, mounts and swaps:
 * for comparing two trees. */
static char *inventory(const char *sysdir, const char *procdir)
{
    char pattern[512];
    glob_t g;
    size_t size = 0;
    char *out = NULL;
    FILE *f = open_memstream(&out, &size);

    snprintf(pattern, sizeof(pattern), "%s/bus/pci/devices/*", sysdir);
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char link[1024], drv[1024] = "", grp[1024] = "";
            ssize_t n;
            snprintf(link, sizeof(link), "%s/driver", g.gl_pathv[i]);
            if ((n = readlink(link, drv, sizeof(drv) - 1)) > 0)
                drv[n] = '\0';
            snprintf(link, sizeof(link), "%s/iommu_group", g.gl_pathv[i]);
            if ((n = readlink(link, grp, sizeof(grp) - 1)) > 0)
                grp[n] = '\0';
            fprintf(f, "%s %s %s port %d\n", strrchr(g.gl_pathv[i], '/') + 1,
                    strrchr(drv, '/') ? strrchr(drv, '/') + 1 : "-",
                    strrchr(grp, '/') ? strrchr(grp, '/') + 1 : "-",
                    inventory_link_port(g.gl_pathv[i]));
        }
    }
    globfree(&g);
    inventory_each(f, sysdir, "class/net/*", inventory_net);
    inventory_each(f, sysdir, "class/block/*", inventory_block);
    inventory_each(f, sysdir, "class/graphics/*", inventory_fb);
    inventory_each(f, sysdir, "bus/usb/devices/*", inventory_usb);
    inventory_each(f, sysdir, "bus/scsi/devices/[0-9]*:*", inventory_scsi);
    inventory_proc(f, procdir, sysdir);
    fclose(f);
    return out;
}

/* @inv without the lines of what @spec says it did not capture (`# interface ifb0 not
 * captured ...`: a kind of thing the spec has no words for), in place. */
static void drop_skipped(char *inv, const char *spec)
{
    static const char *const kinds[][2] = {
        {"net", "interface"}, {"route", "interface"},   {"route6", "interface"}, {"rtnl", "interface"},
        {"inet6", "interface"}, {"net", "vlan"}, {"block", "block device"},
        {"usb", "usb"}, {"scsi", "scsi"},
    };
    char *w = inv;

    for (char *line = inv; *line;) {
        size_t len = strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n');
        char kind[32] = "", name[256] = "";
        bool drop = false;
        char w3[256] = "", w4[256] = "";
        int nw = sscanf(line, " %31s %255s %255s %255s", kind, name, w3, w4);
        if (nw >= 3 && strcmp(kind, "rtnl") == 0) /* "rtnl addr IF ...", "rtnl route T IF ..." */
            snprintf(name, sizeof(name), "%s", strcmp(name, "route") == 0 ? w4 : w3);
        if (nw >= 2) {
            for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !drop; k++) {
                char said[512];
                snprintf(said, sizeof(said), "# %s %s not captured", kinds[k][1], name);
                drop = strcmp(kind, kinds[k][0]) == 0 && strstr(spec, said) != NULL;
            }
        }
        if (!drop) {
            memmove(w, line, len);
            w += len;
        }
        line += len;
    }
    *w = '\0';
}

/* Capture @sysdir and @procdir, mount what capture printed, and compare the two inventories;
 * the spec it printed, or NULL when @spec_out is NULL. */
static void capture_and_compare_spec(const char *sysdir, const char *procdir, char **spec_out)
{
    struct fx fx;
    char *spec = NULL;
    char sys[300], proc[300];

    memset(&fx, 0, sizeof(fx));
    const char *args[] = {"capture", "--sysfs", sysdir, "--proc", procdir, NULL};
    ck_assert_msg(fx_fakesys(&fx, args, &spec) == 0, "capture: %s", fx.error);
    ck_assert_ptr_nonnull(spec);
    char *want = inventory(sysdir, procdir);
    drop_skipped(want, spec);
    MOUNT_TEXT(&fx, spec);
    snprintf(sys, sizeof(sys), "%s/sys", fx.root);
    snprintf(proc, sizeof(proc), "%s/proc", fx.root);
    char *got = inventory(sys, proc);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(want);
    if (strcmp(got, want) != 0) {
        /* Check cannot carry a message this long: the two inventories and the spec go to files */
        const char *tmp = getenv("TMPDIR");
        if (tmp == NULL || *tmp == '\0')
            tmp = "/tmp";
        const char *texts[] = {want, got, spec};
        const char *names[] = {"want", "got", "spec"};
        char path[512];
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof(path), "%s/capture-%ld.%s", tmp, (long)getpid(), names[i]);
            FILE *f = fopen(path, "w");
            if (f) {
                fputs(texts[i], f);
                fclose(f);
            }
        }
        ck_abort_msg("the captured tree differs: diff %s/capture-%ld.want %s/capture-%ld.got", tmp,
                     (long)getpid(), tmp, (long)getpid());
    }
    free(got);
    free(want);
    if (spec_out != NULL)
        *spec_out = spec;
    else
        free(spec);
    fx_umount(&fx);
}

static void capture_and_compare(const char *sysdir, const char *procdir)
{
    capture_and_compare_spec(sysdir, procdir, NULL);
}

/* A tree materialized from each spec, captured, mounted from the capture: the same devices,
 * drivers, groups, link ports, network interfaces, block, USB and SCSI devices, routes,
 * addresses, mounts and swaps; the words that carry some of them are in the capture (a round
 * trip that dropped them on both sides would compare equal). */
static const struct {
    const char *file; /* tests/trees/FILE.spec, or NULL: the text */
    const char *text;
    const char *words[9];
} round_trips[] = {
    {"server-sriov", NULL, {"net 0000:03:00.0 enp3s0f0 mac=90:e2:ba:00:00:01\n"}},
    {"adapters",
     NULL,
     {" link-port=0", " mac=52:54:00:12:34:56 speed=1000\n", "\nloop loop0 dev=7:0\n",
      "\nscsi 0000:00:1f.2 1:0:0:0 type=0 vendor=ATA \"model=QEMU HARDDISK\" serial=QM00001 sg=1 "
      "disk=sda size=2097152\n",
      "\nblock 0000:00:1f.2 sda1 disk=sda\n",
      "\nusb 0000:00:1d.0 1-2 0627:0001 \"product=QEMU USB Tablet\" \"iface=03:00:00:usbhid:HID "
      "Tablet\"\n"}},
    {"usb-scsi",
     NULL,
     {" 46f4:0001 serial=STICK0001 product=QEMU_USB_HARDDRIVE iface=08:06:50:usb-storage disk=sda\n",
      "\nscsi 0000:00:05.0 2:0:2:0 type=5 vendor=QEMU model=QEMU_CD-ROM sg=4\n",
      "\nmount /dev/sdc /srv ext4\n"}},
    {"laptop", NULL, {"\nblock 0000:04:00.0 nvme0n1\n", "\nnet 0000:00:14.3 wlp0s20f3 "}},
    /* a SATA disk on SCSI host 0 and a USB stick on host 1 (on a hub): the stick's line comes
     * after the disk's, or the fake would give it host 0 and the disk's line would clash */
    {NULL,
     "iommu intel\n"
     "driver ahci class=010601\n"
     "driver xhci_hcd class=0c0330\n"
     "device 0000:00:1f.2 8086:3a22 class=010601 driver=ahci\n"
     "device 0000:00:14.0 8086:02ed class=0c0330 driver=xhci_hcd\n"
     "scsi 0000:00:1f.2 0:0:0:0 type=0 vendor=ATA model=SSD disk=sda size=1000\n"
     "usb 0000:00:14.0 1-1 05e3:0610 class=09 iface=09:00:00:hub\n"
     "usb 0000:00:14.0 1-1.4 46f4:0001 serial=S1 product=Stick disk=sdb\n"
     "block 0000:00:14.0 sdb1 disk=sdb dev=8:17\n"
     "mount /dev/sdb1 /media/stick vfat\n",
     {"\nscsi 0000:00:1f.2 0:0:0:0 type=0 vendor=ATA model=SSD sg=0 disk=sda size=1000\nusb "
      "0000:00:14.0 1-1.4 46f4:0001 serial=S1 product=Stick iface=08:06:50:usb-storage disk=sdb\n",
      "\nusb 0000:00:14.0 1-1 05e3:0610 class=09 iface=09:00:00:hub\n",
      "\nblock 0000:00:14.0 sdb1 dev=8:17 disk=sdb\n"}},
    /* what the host uses: interfaces stacked, routes and addresses, disks, partitions,
     * holders, a filesystem on two disks, mounts with blanks, a swap */
    {NULL,
     "iommu intel\n"
     "driver e1000e ids=8086:1502\n"
     "driver nvme class=010802\n"
     "driver i915 ids=8086:3e92\n"
     "driver virtio-pci ids=1af4:1001\n"
     "netdev lo loopback\n"
     "netdev br0 bridge inet=192.168.1.2/24 route=192.168.1.0/24 route6=fd00:1::/64 "
     "inet6=fd00:1::2/64\n"
     "netdev bond0 bond master=br0\n"
     "device 0000:00:02.0 8086:3e92 class=030000 driver=i915 boot-vga=yes\n"
     "graphics 0000:00:02.0 fb0\n"
     "device 0000:00:19.0 8086:1502 class=020000 driver=e1000e\n"
     "net 0000:00:19.0 eth0 mac=52:54:00:00:00:01 master=bond0 speed=1000\n"
     "device 0000:00:1a.0 8086:1502 class=020000 driver=e1000e\n"
     "net 0000:00:1a.0 eth1 mac=52:54:00:00:00:02 route=0.0.0.0/0 route=10.0.0.0/8@100 "
     "inet=10.1.2.3/8 inet6=fe80::1/64 route6=fe80::/64\n"
     "net 0000:00:1a.0 eth2 mac=52:54:00:00:00:03 down\n"
     "netdev eth1.10 vlan lower=eth1 inet=10.10.0.1/16 route=10.10.0.0/16\n"
     "device 0000:00:1c.0 8086:3a40 class=060400 secondary=04\n"
     "device 0000:04:00.0 144d:a808 class=010802 driver=nvme\n"
     "block 0000:04:00.0 nvme0n1 dev=259:0 size=1000000\n"
     "block 0000:04:00.0 nvme0n1p1 dev=259:1 disk=nvme0n1 size=2048\n"
     "block 0000:04:00.0 nvme0n1p2 dev=259:2 disk=nvme0n1 size=4096\n"
     "block 0000:04:00.0 nvme1n1 dev=259:3\n"
     "device 0000:00:05.0 1af4:1001 class=010000 driver=virtio-pci\n"
     "block 0000:00:05.0 vda dev=254:0 size=2048 \"serial=VD 0001\"\n"
     "holder md0 dev=9:0 nvme0n1p1 nvme1n1\n"
     "holder dm-0 dev=253:0 dm=vg-root md0\n"
     "loop loop3 dev=7:3\n"
     "btrfs 0123abcd-0000-1111-2222-333344445555 nvme0n1p2 loop3\n"
     "mount /dev/mapper/vg-root / ext4\n"
     "mount /dev/nvme0n1p2 \"/srv/my data\" btrfs\n"
     "mount tmpfs /run tmpfs\n"
     "swap /dev/md0\n"
     "swap /var/swapfile\n",
     {"\nnetdev br0 bridge ", " inet6=fd00:1::2/64", "\nnetdev bond0 bond master=br0\n",
      " route=10.0.0.0/8@100", "\nholder dm-0 dev=253:0 dm=vg-root md0\n",
      "\nmount /dev/nvme0n1p2 \"/srv/my data\" btrfs\n",
      "\nbtrfs 0123abcd-0000-1111-2222-333344445555 loop3 nvme0n1p2\n",
      "\ngraphics 0000:00:02.0 fb0\n",
      "\nblock 0000:00:05.0 vda dev=254:0 size=2048 \"serial=VD 0001\"\n"}},
    {NULL,
     "iommu intel\n"
     "driver e1000e ids=8086:1502\n"
     "device 0000:00:1c.0 8086:3a40 class=060400 secondary=01 link=8GT/s,x4 link-port=3\n"
     "device 0000:01:00.0 8086:1502 class=020000 driver=e1000e link=2.5GT/s,x1 link-port=7\n"
     "net 0000:01:00.0 eth1 mac=52:54:00:00:00:01 down speed=100\n",
     {" link-port=3", " link-port=7", "eth1 mac=52:54:00:00:00:01 down speed=100\n"}},
};

HD_LOOP_TEST(capture_round_trip, (int)(sizeof(round_trips) / sizeof(round_trips[0])))
{
    struct fx fx;
    char base[] = "/tmp/hostdev-fx-mat.XXXXXX";
    char dir[64], sys[80], proc[80], cmd[128], spec[512], *captured;

    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(dir, sizeof(dir), "%s/t", base);
    if (round_trips[_i].file != NULL) {
        const char *src = getenv("HOSTDEV_SRCDIR");
        snprintf(spec, sizeof(spec), "%s/tests/trees/%s.spec", src && *src ? src : ".",
                 round_trips[_i].file);
    } else {
        snprintf(spec, sizeof(spec), "%s/spec", base);
        FILE *f = fopen(spec, "w");
        ck_assert_ptr_nonnull(f);
        fputs(round_trips[_i].text, f);
        ck_assert_int_eq(fclose(f), 0);
    }
    memset(&fx, 0, sizeof(fx));
    const char *args[] = {"materialize", spec, dir, NULL};
    ck_assert_msg(fx_fakesys(&fx, args, NULL) == 0, "materialize: %s", fx.error);
    /* materialize never writes into a directory that has something in it */
    ck_assert_int_eq(fx_fakesys(&fx, args, NULL), 2);
    snprintf(sys, sizeof(sys), "%s/sys", dir);
    snprintf(proc, sizeof(proc), "%s/proc", dir);
    capture_and_compare_spec(sys, proc, &captured);
    for (size_t k = 0; k < 9 && round_trips[_i].words[k] != NULL; k++)
        ck_assert_msg(strstr(captured, round_trips[_i].words[k]) != NULL, "'%s' not in:\n%s",
                      round_trips[_i].words[k], captured);
    free(captured);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The running system's IPv4 addresses and other tables' routes are only in rtnetlink: capture
 * asks it when its proc is the running system's, and the tree mounted from what it printed
 * shows them where hostdev reads a fake kernel's (proc/net/hostdev-rtnl). */
HD_TEST(capture_asks_rtnetlink_of_the_running_system)
{
    char base[] = "/tmp/hostdev-fx-netns.XXXXXX", sys[96], specpath[96], cmd[1024];
    const char *build = getenv("HOSTDEV_BUILD");
    struct fx fx;
    char *spec;

    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(sys, sizeof(sys), "%s/sys", base);
    snprintf(specpath, sizeof(specpath), "%s/spec", base);
    ck_assert_int_eq(mkdir(sys, 0755), 0);
    /* In a network and mount namespace of their own (nothing of the host's changes; util-linux's
     * unshare, so that no traced test process enters them): a bridge with an IPv4 address and a
     * route in table 100, that namespace's sysfs, and capture of it with the running /proc. */
    snprintf(cmd, sizeof(cmd),
             "unshare --net --mount --propagation private sh -ec '"
             "ip link add br9 type bridge; ip link set br9 up; "
             "ip addr add 198.51.100.7/24 dev br9; "
             "ip route add 203.0.113.0/24 dev br9 table 100; "
             "mount -t sysfs sysfs %s; "
             "exec %s/hostdev-fakesys capture --sysfs %s --proc /proc' > %s",
             sys, build && *build ? build : "build", sys, specpath);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    memset(&fx, 0, sizeof(fx));
    snprintf(cmd, sizeof(cmd), "cat '%s'", specpath);
    spec = run_capture(cmd);
    ck_assert_ptr_nonnull(spec);
    ck_assert_msg(strstr(spec, "netdev br9 bridge") != NULL, "%s", spec);
    ck_assert_msg(strstr(spec, " inet=198.51.100.7/24") != NULL, "%s", spec);
    ck_assert_msg(strstr(spec, " route=203.0.113.0/24@100") != NULL, "%s", spec);
    ck_assert_msg(strstr(spec, " route=198.51.100.0/24") != NULL, "%s", spec); /* main */
    ck_assert_msg(strstr(spec, "not captured (rtnetlink") == NULL, "%s", spec);
    MOUNT_TEXT(&fx, spec);
    const char *rtnl = fx_read(&fx, "proc/net/hostdev-rtnl");
    ck_assert_ptr_nonnull(rtnl);
    ck_assert_msg(strstr(rtnl, "route 100 br9 203.0.113.0/24\n") != NULL, "%s", rtnl);
    ck_assert_msg(strstr(rtnl, "addr br9 198.51.100.7/24") != NULL, "%s", rtnl);
    fx_umount(&fx);
    free(spec);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Odd contents a host may have, or a broken one: capture still writes a spec that loads, and
 * says what it left out. */
HD_TEST(capture_odd_contents)
{
    struct fx fx;
    char *spec = NULL, sys[600], proc[600], path[700];

    memset(&fx, 0, sizeof(fx));
    ck_assert_msg(fx_materialize(&fx, "usb-scsi") == 0, "%s", fx.error);
    const char *root = fx.root;
    /* proc lines cut short, numbers that are not, an interface of an unknown kind, names
     * the spec cannot hold, a mount point with a tab, a swap with a blank */
    ck_assert_int_eq(tmptree_write(root, "proc/net/route",
                                   "Iface\tDestination\tGateway\tFlags\n"
                                   "eth9\tzz\t0\t1\t0\t0\t0\tFFFFFFFF\n"
                                   "eth9\t0000000A\t0\t1\t0\t0\t0\tFF00FF00\n"
                                   "short 1 2\n"),
                     0);
    ck_assert_int_eq(tmptree_write(root, "proc/net/ipv6_route", "xyz 80 0 0 0 0 0 0 0 eth9\n"), 0);
    ck_assert_int_eq(tmptree_write(root, "proc/net/if_inet6",
                                   "fe800000000000000000000000000001 02 40 20 80 eth9\n"), 0);
    ck_assert_int_eq(tmptree_write(root, "proc/net/hostdev-rtnl",
                                   "addr eth9 1.2.3.4/33\nroute 0 eth9 1.2.3.0/24\nroute x\n"),
                     0);
    ck_assert_int_eq(tmptree_write(root, "proc/self/mountinfo",
                                   "30 1 8:0 / /media/a\\011b rw - vfat /dev/sda rw\n"
                                   "31 1 8:32 / /srv rw,relatime - ext4 /dev/sdc rw\n"
                                   "garbage\n"),
                     0);
    ck_assert_int_eq(tmptree_write(root, "proc/swaps", "Filename Type\n/swap\\040file file 1 0 -2\n"), 0);
    ck_assert_int_eq(tmptree_write(root, "sys/devices/virtual/net/veth0/uevent",
                                   "INTERFACE=veth0\nIFINDEX=7\n"), 0);
    ck_assert_int_eq(tmptree_symlink(root, "sys/class/net/veth0", "../../devices/virtual/net/veth0"), 0);
    ck_assert_int_eq(tmptree_write(root, "sys/devices/virtual/block/weird!name/dev", "1:2\n"), 0);
    ck_assert_int_eq(tmptree_symlink(root, "sys/class/block/weird!name",
                                     "../../devices/virtual/block/weird!name"), 0);
    ck_assert_int_eq(tmptree_write(root, "sys/devices/virtual/block/loop9/dev", "x:y\n"), 0);
    ck_assert_int_eq(tmptree_symlink(root, "sys/class/block/loop9",
                                     "../../devices/virtual/block/loop9"), 0);
    snprintf(sys, sizeof(sys), "%s/sys", root);
    snprintf(proc, sizeof(proc), "%s/proc", root);
    const char *args[] = {"capture", "--sysfs", sys, "--proc", proc, NULL};
    ck_assert_msg(fx_fakesys(&fx, args, &spec) == 0, "capture: %s", fx.error);
    ck_assert_ptr_nonnull(spec);
    ck_assert_msg(strstr(spec, "# interface veth0 not captured") != NULL, "%s", spec);
    ck_assert_msg(strstr(spec, "# block device weird!name not captured") != NULL, "%s", spec);
    ck_assert_msg(strstr(spec, "# block device loop9 not captured") != NULL, "%s", spec);
    ck_assert_msg(strstr(spec, "# not captured (interface not in the spec): eth9 ") != NULL, "%s",
                  spec);
    ck_assert_msg(strstr(spec, "\nmount /dev/sdc /srv ext4\n") != NULL, "%s", spec);
    ck_assert_msg(strstr(spec, "\nswap \"/swap file\"\n") != NULL, "%s", spec);
    ck_assert_msg(strstr(spec, "/media/a") == NULL, "%s", spec); /* a tab: not said */
    ck_assert_msg(strstr(spec, "1.2.3") == NULL && strstr(spec, "FF00") == NULL, "%s", spec);
    /* what it wrote loads */
    snprintf(path, sizeof(path), "%s/captured.spec", root);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(spec, f);
    ck_assert_int_eq(fclose(f), 0);
    const char *check[] = {"check", path, NULL};
    ck_assert_msg(fx_fakesys(&fx, check, NULL) == 0, "check: %s\n%s", fx.error, spec);
    free(spec);
    fx_umount(&fx);
}
END_TEST

/* A VF's interface: the spec cannot say it (a VF is not declared), so capture says it left it
 * out, and the spec still loads. */
HD_TEST(capture_vf_interface)
{
    struct fx fx;
    char *spec = NULL, sys[600], proc[600];

    memset(&fx, 0, sizeof(fx));
    ck_assert_msg(fx_materialize_text(&fx, "iommu intel\n"
                                           "driver pf sriov ids=8086:10fb\n"
                                           "driver vf ids=8086:10ed\n"
                                           "device 0000:00:02.0 8086:2032 class=060400 secondary=03\n"
                                           "device 0000:03:00.0 8086:10fb class=020000 driver=pf "
                                           "totalvfs=8 vf-device=10ed numvfs=2\n") == 0,
                  "%s", fx.error);
    ck_assert_int_eq(tmptree_write(fx.root, "sys/bus/pci/devices/0000:03:10.0/net/eth5/address",
                                   "52:54:00:00:00:09\n"), 0);
    ck_assert_int_eq(tmptree_symlink(fx.root, "sys/class/net/eth5",
                                     "../../bus/pci/devices/0000:03:10.0/net/eth5"), 0);
    snprintf(sys, sizeof(sys), "%s/sys", fx.root);
    snprintf(proc, sizeof(proc), "%s/proc", fx.root);
    const char *args[] = {"capture", "--sysfs", sys, "--proc", proc, NULL};
    ck_assert_msg(fx_fakesys(&fx, args, &spec) == 0, "capture: %s", fx.error);
    ck_assert_ptr_nonnull(spec);
    ck_assert_msg(strstr(spec, "# interface eth5 not captured (on VF 0000:03:10.0)\n") != NULL,
                  "%s", spec);
    ck_assert_msg(strstr(spec, "net 0000:03:10.0") == NULL, "%s", spec);
    free(spec);
    capture_and_compare(sys, proc); /* the rest round-trips */
    fx_umount(&fx);
}
END_TEST

HD_TEST(capture_a_changed_mount)
{
    struct fx live;
    char sys[300], proc[300];

    /* capture reads a mounted fake as it would a host: changes made at run time carry over */
    MOUNT(&live, "server-sriov");
    to_vfio(&live, "0000:03:10.2");
    ck_assert_int_eq(fx_write(&live, DEV "0000:03:10.4/driver/unbind", "0000:03:10.4"), 0);
    ck_assert_int_eq(fx_write(&live, DEV "0000:03:00.1/sriov_numvfs", "3"), 0);
    snprintf(sys, sizeof(sys), "%s/sys", live.root);
    snprintf(proc, sizeof(proc), "%s/proc", live.root);
    capture_and_compare(sys, proc);
    fx_umount(&live);
}
END_TEST

HD_TEST(vf_lines)
{
    struct fx fx;

    MOUNT_TEXT(&fx, "iommu intel\n"
                    "driver pf sriov ids=8086:10fb\n"
                    "driver vf ids=8086:10ed\n"
                    "driver vfio-pci stub vfio\n"
                    "device 0000:00:02.0 8086:2032 class=060400 secondary=03\n"
                    "device 0000:03:00.0 8086:10fb class=020000 driver=pf totalvfs=8 "
                    "vf-device=10ed vf-offset=128 vf-stride=2 numvfs=3\n"
                    "vf 0000:03:10.2 driver=vfio-pci override=vfio-pci group=40\n"
                    "vf 0000:03:10.4\n");
    ck_assert_str_eq(fx_driver(&fx, "0000:03:10.0"), "vf"); /* no line: autoprobed */
    ck_assert_str_eq(fx_driver(&fx, "0000:03:10.2"), "vfio-pci");
    READ_EQ(&fx, DEV "0000:03:10.2/driver_override", "vfio-pci");
    ck_assert_int_eq(fx_group(&fx, "0000:03:10.2"), 40);
    ck_assert(fx_exists(&fx, "dev/vfio/40"));
    ck_assert_str_eq(fx_driver(&fx, "0000:03:10.4"), ""); /* a line without driver: unbound */
    fx_umount(&fx);
    expect_spec_error("device 0000:00:02.0 8086:10fb totalvfs=4 numvfs=2\nvf 0000:00:02.7\n", "2",
                      "not a VF");
}
END_TEST

HD_TEST(capture_this_host)
{
    /* Reading the host's /sys is allowed; it is never written. */
    if (access("/sys/bus/pci/devices", R_OK) != 0)
        return;
    capture_and_compare("/sys", "/proc");
}
END_TEST

/* Run a shell command, its stdout in a new string. */
static char *run_capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    char *out = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&out, &size);
    char buf[4096];
    size_t n;

    while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0)
        fwrite(buf, 1, n, m);
    if (p)
        pclose(p);
    fclose(m);
    return out;
}

HD_TEST(lspci_reads_the_tree)
{
    struct fx fx;
    char cmd[512];

    if (system("command -v lspci >/dev/null 2>&1") != 0)
        return;
    MOUNT(&fx, "demo");
    snprintf(cmd, sizeof(cmd),
             "lspci -A linux-sysfs -O sysfs.path=%s/sys/bus/pci -vvv -nn -s 03:00.0 2>/dev/null",
             fx.root);
    char *out = run_capture(cmd);
    ck_assert_msg(strstr(out, "[0200]") && strstr(out, "[8086:10d3]"), "%s", out);
    ck_assert_msg(strstr(out, "IOMMU group: 8"), "%s", out);
    ck_assert_msg(strstr(out, "Kernel driver in use: e1000e"), "%s", out);
    ck_assert_msg(strstr(out, "FLReset+"), "%s", out);
    ck_assert_msg(strstr(out, "LnkSta:\tSpeed 2.5GT/s, Width x1"), "%s", out);
    free(out);
    snprintf(cmd, sizeof(cmd), "lspci -A linux-sysfs -O sysfs.path=%s/sys/bus/pci -t", fx.root);
    out = run_capture(cmd);
    ck_assert_msg(strstr(out, "+-1c.0-[03]----00.0"), "%s", out);
    free(out);
    fx_umount(&fx);
}
END_TEST

HD_TEST(cli_errors_and_log_file)
{
    struct fx fx;
    char log[] = "/tmp/hostdev-fx-log.XXXXXX";
    char *out = NULL;

    memset(&fx, 0, sizeof(fx));
    const char *nospec[] = {"mount", "/nonexistent.spec", "/tmp", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, nospec, NULL), 2);
    ck_assert(strstr(fx.error, "/nonexistent.spec") != NULL);
    const char *nodir[] = {"mount", "x.spec", "/nonexistent-dir", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, nodir, NULL), 2);
    ck_assert(strstr(fx.error, "/nonexistent-dir") != NULL);
    const char *notfake[] = {"ctl", "/tmp", "release", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, notfake, NULL), 2);
    const char *nofake_umount[] = {"umount", "/tmp", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, nofake_umount, NULL), 2);
    const char *bogus[] = {"frobnicate", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, bogus, NULL), 2);
    const char *help[] = {"mount", "--help", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, help, &out), 0);
    ck_assert(strstr(out, "usage: hostdev-fakesys mount") != NULL);
    free(out);

    /* --log: the same lines as the log, in a file */
    int fd = mkstemp(log);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char root[] = "/tmp/hostdev-fx-cli.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    char spec[512];
    const char *src = getenv("HOSTDEV_SRCDIR");
    snprintf(spec, sizeof(spec), "%s/tests/trees/demo.spec", src && *src ? src : ".");
    char owner[32];
    snprintf(owner, sizeof(owner), "%ld", (long)getpid()); /* gone with us if we fail */
    const char *mount[] = {"mount", spec, root, "--log", log, "--owner-pid", owner, NULL};
    ck_assert_msg(fx_fakesys(&fx, mount, NULL) == 0, "%s", fx.error);
    snprintf(fx.root, sizeof(fx.root), "%s", root);
    fx.mounted = true;
    ck_assert_int_eq(fx_write(&fx, DEV NIC "/reset", "1"), 0);
    ck_assert_int_eq(fx_fakesys(&fx, mount, NULL), 2); /* not twice */
    ck_assert(strstr(fx.error, "already") != NULL);
    const char *ctl[] = {"ctl", root, "mark", "hello world", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, ctl, NULL), 0);
    const char *badctl[] = {"ctl", root, "hang", "nosuchdriver", "10", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, badctl, NULL), 2);
    ck_assert(strstr(fx.error, "nosuchdriver") != NULL);
    const char *showlog[] = {"ctl", root, "log", NULL};
    ck_assert_int_eq(fx_fakesys(&fx, showlog, &out), 0);
    ck_assert(strstr(out, "reset 0000:03:00.0 flr\n") != NULL);
    ck_assert(strstr(out, "mark hello world\n") != NULL);
    free(out);
    fx_umount(&fx);
    char cat[128];
    snprintf(cat, sizeof(cat), "cat %s", log);
    out = run_capture(cat);
    ck_assert(strstr(out, "reset 0000:03:00.0 flr\n") != NULL);
    free(out);
    unlink(log);
}
END_TEST

/* The owner's death unmounts and ends every wait: a writer left hanging in the fake kernel
 * returns, and the server goes, instead of both lasting forever. */
HD_TEST(owner_death_ends_every_wait)
{
    struct fx fx = {0};
    char root[] = "/tmp/hostdev-fx-owner.XXXXXX", spec[] = "/tmp/hostdev-fx-owner-spec.XXXXXX";
    char owner_pid[32], path[600];
    int status, fd = mkstemp(spec);

    ck_assert_int_ge(fd, 0);
    ck_assert(write(fd, hang_spec, strlen(hang_spec)) == (ssize_t)strlen(hang_spec));
    close(fd);
    ck_assert_ptr_nonnull(mkdtemp(root));
    fflush(NULL);
    pid_t owner = fork();
    if (owner == 0) {
        pause();
        _exit(0);
    }
    ck_assert_int_gt(owner, 0);
    snprintf(owner_pid, sizeof(owner_pid), "%ld", (long)owner);
    const char *mount[] = {"mount", "--owner-pid", owner_pid, spec, root, NULL};
    ck_assert_msg(fx_fakesys(&fx, mount, NULL) == 0, "%s", fx.error);
    snprintf(fx.root, sizeof(fx.root), "%s", root);
    ck_assert_int_eq(fx_ctl(&fx, "hang slowdrv forever"), 0);
    pid_t writer = unbind_in_child(&fx, "slowdrv", "0000:00:02.0");
    ck_assert(fx_wait_log(&fx, "unbind-hang 0000:00:02.0", 1, 5000));
    kill(owner, SIGKILL);
    ck_assert_int_eq(waitpid(owner, &status, 0), owner);
    bool returned = false;
    for (int i = 0; i < 1000 && !returned; i++) { /* 10 s at most: the watch looks every 20 ms */
        returned = waitpid(writer, &status, WNOHANG) == writer;
        if (!returned)
            usleep(10000);
    }
    ck_assert_msg(returned, "the writer still hangs after its fake kernel's owner died");
    snprintf(path, sizeof(path), "%s/sys", root);
    for (int i = 0; i < 500 && access(path, F_OK) == 0; i++)
        usleep(10000);
    ck_assert_msg(access(path, F_OK) != 0, "%s is still mounted", root);
    unlink(spec);
    rmdir(root);
}
END_TEST
