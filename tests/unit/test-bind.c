/* test-bind.c - detach and reattach against the fake kernel: the happy paths, and every way a
 * step can fail, each ending with the device exactly where it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "hdtest.h"
#include "os.h"

#define NIC "0000:03:00.0"
#define NIC_OVERRIDE "sys/bus/pci/devices/0000:03:00.0/driver_override"

/* The NIC as the demo tree has it: on e1000e, no override, no record, no group node. */
static void assert_nic_untouched(struct eng *e)
{
    ck_assert_str_eq(fx_driver(&e->fx, NIC), "e1000e");
    ck_assert_str_eq(fx_read(&e->fx, NIC_OVERRIDE), "(null)");
    ck_assert(!fx_exists(&e->fx, "dev/vfio/8"));
    ck_assert(!fx_exists(&e->fx, "run/hostdev/drivers/" NIC));
}

HD_TEST_FILE(.timeout = 60);

HD_TEST(detach_then_reattach)
{
    struct eng e;
    struct hd_device *dev;
    char *orig = NULL;

    eng_start(&e, "demo");
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(hd_device_get_driver(dev), "vfio-pci"); /* the snapshot follows */
    ck_assert(fx_exists(&e.fx, "dev/vfio/8"));
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
    ck_assert_int_eq(hd_device_get_original_driver(dev, &orig), 0);
    ck_assert_str_eq(orig, "e1000e");
    free(orig);
    /* The kernel was driven the documented way: override, unbind, probe. */
    ck_assert_uint_eq(fx_log_count(&e.fx, "unbind " NIC " e1000e"), 1);
    ck_assert_uint_eq(fx_log_count(&e.fx, "bind " NIC " vfio-pci"), 1);

    ck_assert_int_eq(hd_device_reattach(dev), 0);
    assert_nic_untouched(&e);
    ck_assert_str_eq(hd_device_get_driver(dev), "e1000e");
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

HD_TEST(detach_twice_writes_nothing)
{
    struct eng e;
    struct hd_device *dev;
    size_t writes;

    eng_start(&e, "demo");
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, "vfio-pci", 0), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(hd_device_detach(dev, "vfio-pci", 0), 0);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    writes = eng_writes(&e);
    ck_assert_int_eq(hd_device_reattach(dev), 0); /* on its host driver: nothing to do */
    ck_assert_uint_eq(eng_writes(&e), writes);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

HD_TEST(refuses_bridges_and_hosts_without_iommu)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "demo");
    dev = eng_dev(&e, "0000:00:1c.0");
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "bridge"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    hd_device_unref(dev);
    ck_assert_int_eq(hd_device_detach(dev = eng_dev(&e, NIC), "e1000e", 0), -EINVAL);
    hd_device_unref(dev);
    eng_stop(&e);

    eng_start(&e, "no-iommu");
    struct hd_device_list *list;
    ck_assert_int_eq(hd_device_list_new(e.ctx, HD_FILL_IDENT | HD_FILL_CONFIG, &list), 0);
    for (size_t i = 0; i < hd_device_list_count(list); i++) {
        struct hd_device *d = hd_device_list_get(list, i);
        if (!hd_device_is_assignable(d) || hd_device_get_driver(d) == NULL)
            continue;
        ck_assert_int_eq(hd_device_detach(d, NULL, 0), -ENOTSUP);
        ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "IOMMU"));
        break;
    }
    ck_assert_uint_eq(eng_writes(&e), 0);
    hd_device_list_unref(list);
    eng_stop(&e);
}
END_TEST

/* Each write of a detach fails in turn, with each errno the kernel uses there: the error
 * comes back and the NIC is left as it was. */
HD_TEST(every_failed_detach_write_restores)
{
    static const char *const paths[] = {
        NIC_OVERRIDE,
        "sys/bus/pci/drivers/e1000e/unbind",
        "sys/bus/pci/drivers_probe",
    };
    static const struct {
        const char *name;
        int err;
    } errs[] = {{"EIO", EIO}, {"EBUSY", EBUSY}, {"ENODEV", ENODEV}, {"ENOMEM", ENOMEM}};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (size_t k = 0; k < sizeof(errs) / sizeof(errs[0]); k++) {
            struct eng e;
            struct hd_device *dev;
            int r;
            eng_start(&e, "demo");
            ck_assert_int_eq(fx_ctl(&e.fx, "fault %s %s nth=1", paths[i], errs[k].name), 0);
            dev = eng_dev(&e, NIC);
            r = hd_device_detach(dev, NULL, 0);
            /* ENODEV from unbind would mean "not bound there"; the engine believes it only
             * if the device really left, and here it did not. */
            ck_assert_msg(r == -errs[k].err, "%s %s: detach gave %d", paths[i], errs[k].name, r);
            ck_assert_msg(strlen(hd_ctx_last_error(e.ctx)) > 0, "no message for %s", paths[i]);
            assert_nic_untouched(&e);
            hd_device_unref(dev);
            eng_stop(&e);
        }
    }
}
END_TEST

/* drivers_probe says yes but vfio-pci's probe failed: the device must not stay driverless. */
HD_TEST(failed_probe_is_noticed)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "demo");
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails vfio-pci EINVAL"), 0);
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), -EIO);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "vfio-pci did not take"));
    ck_assert_uint_eq(fx_log_count(&e.fx, "probe-failed " NIC " vfio-pci"), 1);
    assert_nic_untouched(&e);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

HD_TEST(hanging_unbind_times_out)
{
    struct eng e;
    struct hd_device *dev;
    long t0;

    eng_start(&e, "demo");
    ck_assert_int_eq(fx_ctl(&e.fx, "hang e1000e forever"), 0);
    hd_ctx_set_timeout_ms(e.ctx, 300);
    dev = eng_dev(&e, NIC);
    t0 = fx_now_ms();
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), -ETIMEDOUT);
    ck_assert_int_lt(fx_now_ms() - t0, 30000); /* bounded, not a hang */
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "did not finish"));
    /* The record stays: whoever recovers knows where the device belongs. */
    ck_assert(fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

HD_TEST(pci_stub_binding)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "demo");
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, "pci-stub", 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "pci-stub");
    ck_assert(!fx_exists(&e.fx, "dev/vfio/8")); /* pci-stub makes no node */
    ck_assert_int_eq(hd_device_detach(dev, "nonsense", 0), -EINVAL);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    assert_nic_untouched(&e);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* Old kernels: no driver_override, so new_id, which grabs every unbound twin. */
static const char twins_spec[] =
    "kernel 3.10.0\n"
    "iommu intel\n"
    "driver pcieport builtin class=060400\n"
    "driver igb ids=8086:1521\n"
    "driver vfio-pci module=vfio_pci stub vfio\n"
    "driver pci-stub module=pci_stub stub\n"
    "device 0000:00:01.0 8086:0c01 class=060400 driver=pcieport secondary=03\n"
    "device 0000:03:00.0 8086:1521 class=020000 driver=igb reset=flr\n"
    "device 0000:03:00.1 8086:1521 class=020000 reset=flr\n";

HD_TEST(new_id_lets_the_twins_go)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, twins_spec);
    ck_assert(!fx_exists(&e.fx, "sys/bus/pci/devices/0000:03:00.0/driver_override"));
    dev = eng_dev(&e, "0000:03:00.0");
    ck_assert(!hd_device_has_driver_override(dev));
    ck_assert_int_eq(hd_device_detach(dev, "pci-stub", 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "pci-stub");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), ""); /* grabbed, then let go */
    ck_assert_uint_eq(fx_log_count(&e.fx, "new_id pci-stub 8086:1521"), 1);
    ck_assert_uint_eq(fx_log_count(&e.fx, "remove_id pci-stub 8086:1521"), 1);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.0"), "igb");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), ""); /* unbound before, unbound after */
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

HD_TEST(new_id_forced_where_override_exists)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "demo");
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, NULL, HD_DETACH_NEW_ID), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "(null)");
    ck_assert_uint_eq(fx_log_count(&e.fx, "remove_id vfio-pci 8086:10d3"), 1);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    assert_nic_untouched(&e);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

HD_TEST(group_detach_is_all_or_nothing)
{
    struct eng e;
    struct hd_device *gpu;
    struct hd_group *g;

    eng_start(&e, "demo");
    gpu = eng_dev(&e, "0000:01:00.0");
    /* One member alone leaves the group not viable, and says who blocks. */
    ck_assert_int_eq(hd_device_detach(gpu, NULL, 0), 0);
    ck_assert_int_eq(hd_group_open(e.ctx, 1, &g), 0);
    ck_assert(!hd_group_is_viable(g));
    ck_assert_uint_eq(hd_group_get_blocker_count(g), 1);
    ck_assert_str_eq(hd_device_get_name(hd_group_get_blocker(g, 0)), "0000:01:00.1");
    hd_group_unref(g);
    ck_assert_int_eq(hd_device_reattach(gpu), 0);

    /* The audio function's bind fails: the GPU, already done, goes back too. */
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:01:00.1/driver_override "
                                   "EBUSY nth=1"), 0);
    ck_assert_int_eq(hd_device_detach_group(gpu, NULL, 0), -EBUSY);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "nouveau");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "snd_hda_intel");
    ck_assert(!fx_exists(&e.fx, "dev/vfio/1"));

    ck_assert_int_eq(hd_device_detach_group(gpu, NULL, 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.0"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:01:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:01.0"), "pcieport"); /* the bridge stays */
    ck_assert_int_eq(hd_group_open(e.ctx, 1, &g), 0);
    ck_assert(hd_group_is_viable(g));
    hd_group_unref(g);
    hd_device_unref(gpu);
    eng_stop(&e);
}
END_TEST

HD_TEST(missing_and_blacklisted_modules)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "kernel 6.1.0\niommu intel\n"
                  "driver e1000e ids=8086:10d3\n"
                  "driver vfio-pci module=vfio_pci stub vfio unloaded\n"
                  "device 0000:00:03.0 8086:10d3 class=020000 driver=e1000e\n"
                  "file etc/modprobe.d/local.conf \"blacklist pci_stub\\n\"\n");
    dev = eng_dev(&e, "0000:00:03.0");
    /* A fake root never gets a module inserted: the host's kernel is not the fake's. */
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), -ENOENT);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "not loaded"));
    ck_assert_int_eq(hd_device_detach(dev, "pci-stub", 0), -EPERM);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "blacklisted"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    /* The next operation of the same context reads modprobe.d again: the blacklist is gone
     * (a long-lived context, the libvirt bridge's, is not told what it read before). */
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/modprobe.d/local.conf")), 0);
    ck_assert_int_eq(hd_device_detach(dev, "pci-stub", 0), -ENOENT);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "not loaded"));
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "modprobe vfio_pci"), 0);
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:00:03.0"), "vfio-pci");
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* The blacklist is modprobe.d's as kmod reads it (etc, run, usr/local/lib, usr/lib, lib; a
 * file in an earlier directory masks one of its name in a later; '-' is '_'), with libkmod or
 * without: a blacklisted pci-stub is refused, anything else is only not loaded (a fake root). */
HD_TEST(the_blacklist_is_modprobe_d_s_wherever_kmod_reads_it)
{
    static const struct {
        const char *files;
        bool blacklisted;
    } cases[] = {
        {"file usr/lib/modprobe.d/x.conf \"blacklist pci-stub\\n\"\n", true},
        {"file run/modprobe.d/x.conf \"# why\\nblacklist\\tpci_stub  too\\n\"\n", true},
        {"file usr/local/lib/modprobe.d/x.conf \"blacklist \\\\\\npci_stub\\n\"\n", true},
        {"file lib/modprobe.d/x.conf \"blacklist pci_stub\\n\"\n", true},
        {"file etc/modprobe.d/x.conf \"# mine\\n\"\n"
         "file lib/modprobe.d/x.conf \"blacklist pci_stub\\n\"\n", false},
        {"file run/modprobe.d/x.conf \"#blacklist pci_stub\\nblacklist\\n\"\n", false},
        {"file etc/modprobe.d/x.conf \"blacklist pci_stubs\\n\"\n", false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char spec[512];
        struct hd_device *dev;
        struct eng e;

        snprintf(spec, sizeof(spec), "kernel 6.1.0\niommu intel\n"
                 "driver e1000e ids=8086:10d3\n"
                 "device 0000:00:03.0 8086:10d3 class=020000 driver=e1000e\n%s",
                 cases[i].files);
        eng_start(&e, spec);
        dev = eng_dev(&e, "0000:00:03.0");
        ck_assert_msg(hd_device_detach(dev, "pci-stub", 0) ==
                          (cases[i].blacklisted ? -EPERM : -ENOENT), "case %zu: %s", i,
                      hd_ctx_last_error(e.ctx));
        ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx),
                                     cases[i].blacklisted ? "blacklisted" : "not loaded"));
        ck_assert_uint_eq(eng_writes(&e), 0);
        hd_device_unref(dev);
        eng_stop(&e);
    }
}
END_TEST

/* The modules @modalias resolves to, as one comma-separated string ("" when none). */
static const char *modules_for(struct eng *e, const char *modalias)
{
    static char buf[256];
    char **modules = NULL;
    size_t n = 0;
    int r = hd_modules_for_modalias(e->ctx, modalias, &modules, &n);

    buf[0] = '\0';
    ck_assert_msg(r == 0 || r == -ENOENT, "%s: %d", modalias, r);
    ck_assert_uint_eq(n > 0, r == 0);
    for (size_t i = 0; i < n; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "", modules[i]);
    hd_strv_free(modules, n);
    return buf;
}

/* A modalias resolves as kmod_module_new_from_lookup() resolves it: modprobe.d's alias lines
 * first (fnmatch patterns, '-' as '_', in the files' order), else modules.alias's matches in
 * its order, else the built-in drivers' (modules.builtin.modinfo); the first that knows it
 * answers alone. */
HD_TEST(a_modalias_resolves_as_kmod_looks_it_up)
{
#define MODULES "lib/modules/6.1.0-hd/"
#define NIC_ALIAS "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00"
#define IGB_ALIAS "pci:v00008086d00001533sv00008086sd00000001bc02sc00i00"
#define VIRTIO_ALIAS "pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00"
    struct eng e;

    eng_start(&e, "kernel 6.1.0-hd\niommu intel\n"
                  "file " MODULES "modules.alias \"# Aliases extracted from modules themselves.\\n"
                  "alias pci:v00008086d000015??sv*sd*bc*sc*i* igb\\n"
                  "alias pci:v00008086d*sv*sd*bc02sc*i* e100\\n"
                  "alias pci:v00008086d00001533sv*sd*bc*sc*i* igb\\n"
                  "alias pci:v000010ECd*sv*sd*bc*sc*i* r8169\\n"
                  "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\\n\"\n"
                  "file " MODULES "modules.builtin.modinfo \"virtio_pci.license=GPL\\x00"
                  "virtio_pci.alias=pci:v00001AF4d*sv*sd*bc*sc*i*\\x00"
                  "e1000.alias=pci:v00008086d00001533sv*sd*bc*sc*i*\\x00\"\n"
                  "file etc/modprobe.d/nic.conf \"alias pci:v00008086d000010D3sv*sd*bc*sc*i* "
                  "my-e1000e\\nalias pci:v0000808[0-9]d000010D3* other\\n"
                  "alias pci:v00008086d000010D3*\\n\"\n");
    /* modprobe.d's lines win over modules.alias's e1000e and e100, in their order; one
     * without its module is a bad line, skipped. libkmod reads them under a fake root too. */
    ck_assert_str_eq(modules_for(&e, NIC_ALIAS), "my_e1000e,other");
    ck_assert_str_eq(modules_for(&e, "pci:v0000DEADd0000BEEFsv00000000sd00000000bc02sc00i00"),
                     "");
#ifdef HOSTDEV_NO_KMOD
    /* The text modules.alias, matched as fnmatch() matches ('?', '*'), in its order, a module
     * once; the built-in e1000 matching too is not asked then. libkmod reads only the index
     * (modules.alias.bin), which a fake root does not carry: these are the libc-only build's. */
    ck_assert_str_eq(modules_for(&e, IGB_ALIAS), "igb,e100");
    /* Nothing in modules.alias: a built-in driver's alias (known; nothing to load). */
    ck_assert_str_eq(modules_for(&e, VIRTIO_ALIAS), "virtio_pci");
#endif
    eng_stop(&e);
    /* A tree without lib/modules or modprobe.d knows no module. */
    eng_start(&e, "demo");
    ck_assert_str_eq(modules_for(&e, NIC_ALIAS), "");
    eng_stop(&e);
#undef MODULES
#undef NIC_ALIAS
#undef IGB_ALIAS
#undef VIRTIO_ALIAS
}
END_TEST

/* The host driver will not take the device back: it goes back to the stub, not nowhere. */
HD_TEST(failed_reattach_returns_to_the_stub)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "demo");
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails e1000e EIO"), 0);
    ck_assert_int_eq(hd_device_reattach(dev), -EIO);
    ck_assert_ptr_nonnull(strstr(hd_ctx_last_error(e.ctx), "e1000e did not take"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert(fx_exists(&e.fx, "dev/vfio/8"));
    ck_assert(fx_exists(&e.fx, "run/hostdev/drivers/" NIC)); /* still knows its way home */
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails e1000e 0"), 0);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    assert_nic_untouched(&e);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* A driver_override someone else set (driverctl's, naming the host driver) is kept in the
 * record, beside the driver, and put back by the reattach, after a failed one too; readers of
 * the driver see the driver alone, and an override line that names no driver is damage. */
HD_TEST(reattach_puts_back_the_override_it_had)
{
    struct eng e;
    struct hd_device *dev;
    char *orig = NULL;

    eng_start(&e, "demo");
    ck_assert_int_eq(fx_write(&e.fx, NIC_OVERRIDE, "e1000e"), 0);
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_detach(dev, NULL, 0), 0);
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), "e1000e\noverride=e1000e");
    ck_assert_int_eq(hd_device_get_original_driver(dev, &orig), 0);
    ck_assert_str_eq(orig, "e1000e");
    free(orig);

    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails e1000e EIO"), 0);
    ck_assert_int_eq(hd_device_reattach(dev), -EIO);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "run/hostdev/drivers/" NIC), "e1000e\noverride=e1000e");
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails e1000e 0"), 0);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_str_eq(fx_read(&e.fx, NIC_OVERRIDE), "e1000e");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));

    eng_put(&e, "run/hostdev/drivers/" NIC, "e1000e\noverride=../x\n");
    ck_assert_int_eq(hd_device_get_original_driver(dev, &orig), -EINVAL);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_STATE_DAMAGED);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* A device detached by someone else (no record): the kernel picks its driver. */
HD_TEST(reattach_without_a_record)
{
    struct eng e;
    struct hd_device *dev;

    eng_start(&e, "demo");
    ck_assert_int_eq(fx_write(&e.fx, NIC_OVERRIDE, "vfio-pci"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/e1000e/unbind", NIC), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers_probe", NIC), 0);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    dev = eng_dev(&e, NIC);
    ck_assert_int_eq(hd_device_reattach(dev), 0);
    assert_nic_untouched(&e);
    hd_device_unref(dev);
    eng_stop(&e);
}
END_TEST

/* A program that closed stdin, stdout and stderr before opening its context (a daemon) gets
 * one of their numbers for the root: the unbind's writer child, which closes those three,
 * must still reach the root. */
HD_TEST(detach_without_stdio)
{
    struct eng e;
    int status;
    pid_t pid;

    eng_start(&e, "demo");
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct hd_ctx *ctx;
        struct hd_device *dev;
        struct hd_pci_addr addr;
        int r;
        close(0);
        close(1);
        close(2);
        if (hd_ctx_new(e.fx.root, &ctx) < 0)
            _exit(3);
        hd_ctx_set_names_file(ctx, "");
        if (hd_pci_addr_parse(NIC, &addr) < 0 || hd_device_open(ctx, &addr, &dev) < 0)
            _exit(4);
        r = hd_device_detach(dev, NULL, 0);
        hd_device_unref(dev);
        hd_ctx_unref(ctx);
        _exit(r == 0 ? 0 : 5);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    eng_stop(&e);
}
END_TEST
