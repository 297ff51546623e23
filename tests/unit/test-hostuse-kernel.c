/* test-hostuse-kernel.c - the host-safety guard on the fake kernel, through the commands: each
 * layout a hypervisor host really has (a NIC as a bridge port, a bond member, a VLAN's lower
 * device, a default route only in a policy table; a disk past 64 partitions, a ZFS root pool,
 * the second half of a btrfs mirror, md and LVM holders, an array nobody mounted) refuses
 * detach, acquire and libvirt's nodedev-detach by name, changes nothing, and --force takes it
 * anyway. */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hostdev/hostdev.h>
#include "adapters-tree.h"
#include "engine.h"
#include "fixture.h"
#include "hdtest.h"

#define NIC "0000:03:00.0"
#define NIC2 "0000:03:00.1"
#define SATA "0000:00:17.0"
#define NVME "0000:02:00.0"
#define GPU "0000:00:02.0"
#define MDEV "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

static const char base_spec[] =
    "kernel 6.1.0-13-amd64\n"
    "iommu intel\n"
    "driver nvme class=010802\n"
    "driver ahci class=010601\n"
    "driver e1000e ids=8086:10d3\n"
    "driver i915 ids=8086:3e92\n"
    "driver vfio-pci module=vfio_pci stub vfio sriov\n"
    "device 0000:00:00.0 8086:591f class=060000\n"
    "device " SATA " 8086:a102 class=010601 driver=ahci\n"
    "device " NVME " 144d:a808 class=010802 driver=nvme reset=flr parent=root\n"
    "device " NIC " 8086:10d3 class=020000 driver=e1000e reset=flr parent=root\n"
    "device " NIC2 " 8086:10d3 class=020000 driver=e1000e reset=flr parent=root\n"
    "block " SATA " sda dev=8:0\n"
    "block " SATA " sda1 dev=8:1 disk=sda\n"
    "block " NVME " nvme0n1 dev=259:0\n"
    "block " NVME " nvme0n1p1 dev=259:1 disk=nvme0n1\n"
    "block " NVME " nvme0n1p3 dev=259:3 disk=nvme0n1\n";

static const struct layout {
    const char *name, *spec, *bdf, *says;
} layouts[] = {
    {"bridge port", "netdev br0 bridge inet=192.0.2.5/24 route=0.0.0.0/0 route=192.0.2.0/24\n"
                    "net " NIC " enp3s0 master=br0\n",
     NIC, NIC ": enp3s0 is under br0, which is up with addresses and routes"},
    {"bond member", "netdev br0 bridge inet6=2001:db8::5/64\n"
                    "netdev bond0 bond master=br0\n"
                    "net " NIC " enp3s0 master=bond0\n"
                    "net " NIC2 " enp3s1 master=bond0\n",
     NIC, NIC ": enp3s0 is under br0, which is up with addresses"},
    {"vlan lower device", "net " NIC " enp3s0\n"
                          "netdev enp3s0.100 vlan lower=enp3s0 route6=::/0 inet6=2001:db8::5/64\n",
     NIC, NIC ": enp3s0 is under enp3s0.100, which is up with addresses and routes"},
    {"policy table", "net " NIC " enp3s0 route=0.0.0.0/0@100\n", NIC,
     NIC ": enp3s0 is up with routes"},
    {"zfs root pool", "zpool rpool nvme0n1p3\n"
                      "mount rpool/ROOT/pve-1 / zfs\n"
                      "mount rpool /rpool zfs\n",
     NVME, NVME " backs /dev/nvme0n1p3, a device of ZFS pool rpool mounted on /"},
    {"btrfs raid1 second member", "btrfs 0f5c2b1e-7d2a-4b8e-9a51-3c6d2e1f0a9b sda1 nvme0n1p1\n"
                                  "mount /dev/sda1 / btrfs\n",
     NVME, NVME " backs /dev/nvme0n1p1, a device of the btrfs filesystem mounted on /"},
    {"md and lvm holders", "holder md127 dev=9:127 sda1 nvme0n1p1\n"
                           "holder dm-0 dev=254:0 dm=vg-root md127\n"
                           "mount /dev/mapper/vg-root / ext4\n",
     NVME, NVME " backs /dev/dm-0 mounted on /"},
    /* Assembled, mounted nowhere: only the kernel's refusal of an exclusive open tells. */
    {"md array unmounted", "holder md0 dev=9:0 sda1 nvme0n1p1\n", NVME,
     NVME " backs /dev/nvme0n1, /dev/nvme0n1p1, which the kernel reports in use"},
    /* Asked from a device's own directory first: a disk, a framebuffer or a mediated device
     * below it still sends the command to the host's listings. */
    {"mounted disk", "mount /dev/nvme0n1p1 / ext4\n", NVME,
     NVME " backs /dev/nvme0n1p1 mounted on /"},
    {"framebuffer", "device " GPU " 8086:3e92 class=030000 driver=i915 reset=flr\n"
                    "graphics " GPU " fb0\n",
     GPU, GPU " drives framebuffer fb0 (the console)"},
    {"mdev parent", "device " GPU " 8086:3e92 class=030000 driver=i915 reset=flr\n"
                    "mdev-type " GPU " i915-GVTg_V5_4 instances=2\n"
                    "mdev " MDEV " " GPU " i915-GVTg_V5_4\n",
     GPU, GPU " is the parent of mediated device " MDEV},
};

static int run(struct fx *fx, const char *args, char **err)
{
    char cmd[512], *out = NULL;
    int status;

    snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev --root %s %s", at_build_dir(),
             fx->root, args);
    status = at_run(cmd, &out, err);
    free(out);
    return status;
}

static void refused(struct fx *fx, const char *args, const char *says)
{
    static const char force[] = " (--force takes it anyway)\n";
    char *err = NULL;
    int status = run(fx, args, &err);

    ck_assert_msg(status == 1, "%s: exit %d (%s)", args, status, err);
    ck_assert_msg(strstr(err, says) != NULL, "%s: '%s' lacks '%s'", args, err, says);
    ck_assert_msg(strlen(err) > strlen(force) &&
                      strcmp(err + strlen(err) - strlen(force), force) == 0,
                  "%s: '%s'", args, err);
    free(err);
}

static void virsh_refused(struct fx *fx, const char *bdf, const char *says)
{
    char cmd[512], name[32], *out = NULL, *err = NULL;
    int status;

    snprintf(name, sizeof(name), "pci_%s", bdf);
    for (char *p = name; *p; p++)
        *p = *p == ':' || *p == '.' ? '_' : *p;
    snprintf(cmd, sizeof(cmd), "HOSTDEV_ROOT='%s' HOSTDEV_NAMES=none %s/hostdev-virsh "
             "nodedev-detach %s", fx->root, at_build_dir(), name);
    status = at_run(cmd, &out, &err);
    ck_assert_msg(status == 1, "virsh nodedev-detach %s: exit %d (%s)", name, status, err);
    ck_assert_msg(strstr(err, says) != NULL, "virsh: '%s' lacks '%s'", err, says);
    free(out);
    free(err);
}

/* `check @bdf` says what the acquire would refuse it for, and that --force is what takes it:
 * exit 1, text and JSON; given with a free device, the set is refused for it. */
static void checked(struct fx *fx, const char *bdf, const char *says)
{
    char cmd[512], want[512], *out = NULL, *err = NULL;

    snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev --root %s check %s", at_build_dir(),
             fx->root, bdf);
    ck_assert_msg(at_run(cmd, &out, &err) == 1, "check %s: %s%s", bdf, out, err);
    /* The line names @bdf once: its reasons say "it" (or, "BDF: enp3s0 ...", the interface). */
    size_t len = strlen(bdf);
    ck_assert_msg(strncmp(says, bdf, len) == 0, "%s", says);
    snprintf(want, sizeof(want), "%s: in use by the host, not for a VM now (acquire refuses it "
             "without --force): %s%s", bdf, says[len] == ':' ? "" : "it",
             says + len + (says[len] == ':' ? 2 : 0));
    ck_assert_msg(strstr(out, want) != NULL, "check %s: '%s' lacks '%s'", bdf, out, want);
    ck_assert_msg(strstr(out, "assignable alone") == NULL, "check %s: %s", bdf, out);
    free(out);
    free(err);
    snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev --root %s --json check %s " SATA,
             at_build_dir(), fx->root, bdf);
    ck_assert_msg(at_run(cmd, &out, &err) == 1, "--json check %s: %s%s", bdf, out, err);
    snprintf(want, sizeof(want), "\"address\": \"%s\",", bdf);
    char *obj = strstr(out, want);
    ck_assert_msg(obj != NULL, "--json check %s: %s", bdf, out);
    snprintf(want, sizeof(want), "\"host_use\": \"%s", says);
    ck_assert_msg(strstr(obj, want) != NULL, "--json check %s: '%s' lacks '%s'", bdf, obj, want);
    ck_assert_msg(strstr(obj, "\"assignable_alone\": false") != NULL, "%s", obj);
    ck_assert_msg(strstr(obj, "\"assignable_together\": false") != NULL, "%s", obj);
    free(out);
    free(err);
}

/* The host-use mark at the end of @bdf's `list` line ("*Active*" or ""), in a static buffer. */
static const char *list_line(struct fx *fx, const char *bdf, const char *opts)
{
    static char mark[64];
    char cmd[512], *out = NULL, *err = NULL, *line, *end;

    snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev --root %s list %s %s",
             at_build_dir(), fx->root, opts, bdf);
    ck_assert_int_eq(at_run(cmd, &out, &err), 0);
    ck_assert_ptr_nonnull(line = strstr(out, bdf));
    end = strchr(line, '\n');
    ck_assert_ptr_nonnull(end);
    *end = '\0';
    snprintf(mark, sizeof(mark), "%s", strstr(line, " *Active*") ? "*Active*" : "");
    free(out);
    free(err);
    return mark;
}

/* `hostdev --root ROOT ARGS` (ARGS from @fmt), which must exit @status: its stdout (the caller
 * frees it). */
static char *output(struct fx *fx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *output(struct fx *fx, int status, const char *fmt, ...)
{
    char *out = NULL, *err = NULL;
    va_list ap;

    va_start(ap, fmt);
    int rc = eng_vhostdev(fx, &out, &err, "", fmt, ap);
    va_end(ap);
    ck_assert_msg(rc == status, "'%s': exit %d, not %d: %s%s", fmt, rc, status, out, err);
    free(err);
    return out;
}

/* NIC2 is in use by the host: `check NIC NVME` says @text_says of it, `--json check NIC` has
 * @json_has, and both say the set needs NIC2 for that. Then NIC2 goes to vfio-pci (detach
 * --force): the host uses nothing of it, the set NIC NVME still needs it. */
static void check_says_nic2_is_used(struct fx *fx, const char *text_says, const char *json_has)
{
    char *err = NULL, *text = output(fx, 1, "check " NIC " " NVME);
    char *json = output(fx, 1, "--json check " NIC);

    ck_assert_msg(strstr(text, text_says), "'%s' lacks '%s'", text, text_says);
    ck_assert_msg(strstr(text, "the 2 devices given: not assignable together: " NIC " also needs "
                               NIC2 " (in use by the host)\n"),
                  "%s", text);
    at_json_check(json, false);
    ck_assert_msg(strstr(json, json_has), "'%s' lacks '%s'", json, json_has);
    ck_assert_msg(strstr(json, "\"also_needs_host_use\": [\n      {\n        \"address\": \"" NIC2
                               "\",\n        \"host_use\": \"" NIC2
                               ": enp3s1 is up with routes\"\n"),
                  "%s", json);
    free(text);
    free(json);
    ck_assert_msg(run(fx, "detach --force " NIC2, &err) == 0, "%s", err);
    free(err);
    text = output(fx, 1, "check " NIC " " NVME);
    ck_assert_msg(strstr(text, "in use by the host") == NULL, "%s", text);
    ck_assert_msg(strstr(text, "not assignable together: " NIC " also needs " NIC2 "\n"), "%s",
                  text);
    free(text);
}

HD_TEST_FILE(.timeout = 120);

HD_LOOP_TEST(a_layout_is_refused, sizeof(layouts) / sizeof(layouts[0]))
{
    const struct layout *l = &layouts[_i];
    char spec[8192], args[128], *err = NULL;
    struct fx fx;

    snprintf(spec, sizeof(spec), "%s%s", base_spec, l->spec);
    ck_assert_msg(fx_mount_text(&fx, spec) == 0, "%s: mount: %s", l->name, fx.error);
    snprintf(args, sizeof(args), "detach %s", l->bdf);
    refused(&fx, args, l->says);
    snprintf(args, sizeof(args), "acquire --vm web1 %s", l->bdf);
    refused(&fx, args, l->says);
    /* The libvirt bridge runs the same engine: nodedev-detach is refused too. */
    virsh_refused(&fx, l->bdf, l->says);
    /* check says the same, before anyone tries: not for a VM now, exit 1. */
    checked(&fx, l->bdf, l->says);
    /* show says the same, before anyone tries. */
    char cmd[512], *out = NULL, host_use[512];
    snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev --root %s show %s", at_build_dir(),
             fx.root, l->bdf);
    ck_assert_int_eq(at_run(cmd, &out, &err), 0);
    snprintf(host_use, sizeof(host_use), "  host use:        %s", l->says);
    ck_assert_msg(strstr(out, host_use) != NULL, "%s: show: %s", l->name, out);
    free(out);
    free(err);
    /* And so does a listing, which reads the host once for every device: dpdk-devbind's mark
     * on the line, the guard's words in JSON. */
    ck_assert_str_eq(list_line(&fx, l->bdf, ""), "*Active*");
    snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev --root %s --json list", at_build_dir(),
             fx.root);
    ck_assert_int_eq(at_run(cmd, &out, &err), 0);
    snprintf(host_use, sizeof(host_use), "\"host_use\": \"%s", l->says);
    ck_assert_msg(strstr(out, host_use) != NULL, "%s: --json list: %s", l->name, out);
    free(out);
    free(err);
    err = NULL;
    ck_assert_uint_eq(fx_log_count(&fx, "write "), 0);
    ck_assert_str_ne(fx_driver(&fx, l->bdf), "vfio-pci");
    snprintf(args, sizeof(args), "detach --force %s", l->bdf);
    ck_assert_msg(run(&fx, args, &err) == 0, "%s: %s", args, err);
    free(err);
    ck_assert_str_eq(fx_driver(&fx, l->bdf), "vfio-pci");
    ck_assert_str_eq(list_line(&fx, l->bdf, ""), ""); /* on vfio-pci: nothing the host uses */
    snprintf(cmd, sizeof(cmd), "HOSTDEV_NAMES=none %s/hostdev --root %s --json check %s",
             at_build_dir(), fx.root, l->bdf);
    ck_assert_int_eq(at_run(cmd, &out, &err), 0);
    ck_assert_msg(strstr(out, "\"host_use\": null") != NULL, "%s: %s", l->name, out);
    free(out);
    free(err);
    fx_umount(&fx);
}
END_TEST

/* `check` of a device whose IOMMU group holds an endpoint the host uses: acquiring the group
 * is refused for that one, so check says so of the member and of the set that needs it, in
 * text and JSON; once the member is off the host, only the need is left. */
HD_TEST(check_says_the_host_uses_a_group_member)
{
    static const char spec[] =
        "kernel 6.1.0-13-amd64\n"
        "iommu intel\n"
        "driver nvme class=010802\n"
        "driver e1000e ids=8086:10d3\n"
        "driver vfio-pci module=vfio_pci stub vfio sriov\n"
        "device 0000:00:00.0 8086:591f class=060000\n"
        "device " NVME " 144d:a808 class=010802 driver=nvme reset=flr parent=root group=2\n"
        "device " NIC " 8086:10d3 class=020000 driver=e1000e reset=flr parent=root group=3\n"
        "device " NIC2 " 8086:10d3 class=020000 driver=e1000e reset=flr parent=root group=3\n"
        "net " NIC " enp3s0\n"
        "net " NIC2 " enp3s1 route=0.0.0.0/0\n";
    static const char use[] = NIC2 ": enp3s1 is up with routes";
    char *json;
    struct fx fx;

    ck_assert_msg(fx_mount_text(&fx, spec) == 0, "mount: %s", fx.error);
    refused(&fx, "acquire --vm web1 --group " NIC, use);
    /* Then the member on vfio-pci: the host uses nothing of it, the set still needs it. */
    check_says_nic2_is_used(&fx,
                            NIC ": " NIC2 ", of its IOMMU group, is in use by the host: the group "
                            "is not for a VM now (acquire --group refuses it without --force): "
                            "enp3s1 is up with routes\n",
                            "\"address\": \"" NIC2 "\",\n        \"driver\": \"e1000e\",\n"
                            "        \"host_keeps\": null,\n        \"host_use\": \"" NIC2
                            ": enp3s1 is up with routes\"\n");
    json = output(&fx, 1, "--json check " NIC);
    ck_assert_msg(strstr(json, "\"host_use\": null\n      }\n    ],") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "\"also_needs_host_use\": []") != NULL, "%s", json);
    free(json);
    fx_umount(&fx);
}
END_TEST

/* `check` of a device whose only reset is a bus reset, with a function of another group on
 * its bus that the host uses: the bus's functions go to one VM, and acquiring that one with it
 * is refused, so check says so of the peer and of the set that needs it, text and JSON. */
HD_TEST(check_says_the_host_uses_a_bus_reset_peer)
{
    static const char spec[] =
        "kernel 6.1.0-13-amd64\n"
        "iommu intel\n"
        "driver nvme class=010802\n"
        "driver e1000e ids=8086:10d3\n"
        "driver vfio-pci module=vfio_pci stub vfio sriov\n"
        "device 0000:00:00.0 8086:591f class=060000\n"
        "device " NVME " 144d:a808 class=010802 driver=nvme reset=flr parent=root group=2\n"
        "device " NIC " 8086:10d3 class=020000 driver=e1000e reset=bus parent=root group=3\n"
        "device " NIC2 " 8086:10d3 class=020000 driver=e1000e reset=flr parent=root group=4\n"
        "net " NIC " enp3s0\n"
        "net " NIC2 " enp3s1 route=0.0.0.0/0\n";
    static const char use[] = NIC2 ": enp3s1 is up with routes";
    struct fx fx;

    ck_assert_msg(fx_mount_text(&fx, spec) == 0, "mount: %s", fx.error);
    refused(&fx, "acquire --vm web1 " NIC " " NIC2, use);
    /* Then the peer on vfio-pci: the host uses nothing of it, the set still needs it. */
    check_says_nic2_is_used(&fx,
                            NIC ": " NIC2 ", which its bus reset also resets, is in use by the "
                            "host: not for the same VM now (acquire refuses it without --force): "
                            "enp3s1 is up with routes\n",
                            "\"peers\": [\n      {\n        \"address\": \"" NIC2 "\",\n"
                            "        \"driver\": \"e1000e\",\n        \"host_use\": \"" NIC2
                            ": enp3s1 is up with routes\"\n");
    fx_umount(&fx);
}
END_TEST

/* Past 64 block devices nothing is dropped: partition 70 mounted keeps the disk. */
HD_TEST(past_64_partitions)
{
    char *spec = malloc(65536), *err = NULL;
    size_t len;
    struct fx fx;

    len = (size_t)snprintf(spec, 65536, "%s", base_spec);
    for (int i = 2; i <= 70; i++)
        len += (size_t)snprintf(spec + len, 65536 - len, "block " SATA " sda%d dev=%d:%d disk=sda\n",
                                i, i < 16 ? 8 : 259, i < 16 ? i : 100 + i);
    snprintf(spec + len, 65536 - len, "mount /dev/sda9 /srv xfs\n");
    ck_assert_msg(fx_mount_text(&fx, spec) == 0, "mount: %s", fx.error);
    refused(&fx, "detach " SATA, SATA " backs /dev/sda9 mounted on /srv");
    ck_assert_uint_eq(fx_log_count(&fx, "write "), 0);
    /* Nothing mounted: the disk is free. */
    free(err);
    fx_umount(&fx);
    snprintf(spec + len, 65536 - len, "\n");
    ck_assert_msg(fx_mount_text(&fx, spec) == 0, "mount: %s", fx.error);
    ck_assert_msg(run(&fx, "detach " SATA, &err) == 0, "%s", err);
    free(err);
    fx_umount(&fx);
    free(spec);
}
END_TEST

/* The fake kernel's side: a held block node refuses to open; a free one opens. */
HD_TEST(held_block_nodes_refuse_to_open)
{
    char spec[8192];
    struct fx fx;
    FILE *f;

    snprintf(spec, sizeof(spec), "%s%s", base_spec,
             "holder md0 dev=9:0 sda1\nswap /dev/nvme0n1p3\n");
    ck_assert_msg(fx_mount_text(&fx, spec) == 0, "mount: %s", fx.error);
    ck_assert_ptr_null(fopen(fx_path(&fx, "dev/sda1"), "r")); /* held by md0 */
    ck_assert_ptr_null(fopen(fx_path(&fx, "dev/sda"), "r"));  /* its partition is */
    ck_assert_ptr_null(fopen(fx_path(&fx, "dev/nvme0n1p3"), "r")); /* swap */
    ck_assert_ptr_nonnull(f = fopen(fx_path(&fx, "dev/md0"), "r"));
    fclose(f);
    ck_assert_ptr_nonnull(f = fopen(fx_path(&fx, "dev/nvme0n1p1"), "r"));
    fclose(f);
    ck_assert_str_eq(fx_link(&fx, "sys/class/block/sda1/holders/md0"), "md0");
    fx_umount(&fx);
}
END_TEST
