/* test-reserve-apply.c - applying reservations through the library (hd_reserve_config_apply()
 * and friends) on the fake kernel: each device its own operation, so one that fails leaves the
 * others done; a dry run writes nothing; VF counts before the devices; one device per event;
 * one entry all or nothing, and persist with its file; giving back what no other entry holds; mdevs at boot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "hdtest.h"

#define NIC    "0000:03:00.0"
#define XHCI   "0000:04:00.0"
#define BRIDGE "0000:00:1c.0"

HD_TEST_FILE(.timeout = 60);

static void conf(struct eng *e, const char *name, const char *text)
{
    char rel[256];

    mkdir(fx_path(&e->fx, "etc/hostdev.d"), 0755);
    snprintf(rel, sizeof(rel), "etc/hostdev.d/%s", name);
    eng_put(e, rel, text);
}

static struct hd_reserve_config *load(struct eng *e)
{
    struct hd_reserve_config *c;

    ck_assert_int_eq(hd_reserve_config_load(e->ctx, &c), 0);
    ck_assert_uint_eq(hd_reserve_config_get_error_count(c), 0);
    return c;
}

/* What the callback heard: "ACTION OUTCOME NAME" per item, in order, each when it was told. */
struct heard {
    char lines[16][128];
    size_t n;
};

static void hear(void *data, const struct hd_reserve_result *res, size_t i)
{
    static const char *const actions[] = {"numvfs", "bind", "mdev", "give-back", "vf-gone",
                                          "vf-made"};
    static const char *const outcomes[] = {"done", "unchanged", "later", "held", "failed"};
    struct heard *h = data;
    struct hd_device *dev = hd_reserve_result_get_device(res, i);
    const char *uuid = "-", *parent, *type;

    /* Told once, in order, as soon as the item is complete. */
    ck_assert_uint_eq(i, h->n);
    ck_assert_uint_eq(hd_reserve_result_count(res), i + 1);
    ck_assert_uint_lt(h->n, 16);
    hd_reserve_result_get_mdev(res, i, &uuid, &parent, &type);
    snprintf(h->lines[h->n++], sizeof(h->lines[0]), "%s %s %s",
             actions[hd_reserve_result_get_action(res, i)],
             outcomes[hd_reserve_result_get_outcome(res, i)],
             dev != NULL ? hd_device_get_name(dev) : uuid);
}

/* Every item's callback line, as one string with '\n' after each. */
static const char *heard_text(const struct heard *h)
{
    static char text[2048];

    text[0] = '\0';
    for (size_t i = 0; i < h->n; i++) {
        strcat(text, h->lines[i]);
        strcat(text, "\n");
    }
    return text;
}

/* The index of @op's first step @action (an override cleared or set comes before the move). */
static size_t step(const struct hd_op *op, const char *action)
{
    for (size_t i = 0; i < hd_op_get_step_count(op); i++)
        if (strcmp(hd_op_step_get_action(op, i), action) == 0)
            return i;
    ck_abort_msg("no step %s", action);
    return 0;
}

/* A device whose reservation fails (its override cannot be written) is put back and named,
 * its operation kept with its steps as they ended; the devices after it are reserved all the
 * same, and so is the refused bridge before it. */
HD_TEST(one_failure_does_not_stop_the_others)
{
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_reserve_result *res;
    struct heard h = {0};
    enum hd_reason reason;

    eng_start(&e, "demo");
    conf(&e, "10-vm.conf", "03:00.0\n00:1c.0\n04:00.0 pci-stub\n");
    c = load(&e);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/" NIC "/driver_override EIO"), 0);
    ck_assert_int_eq(hd_reserve_config_apply(c, e.ctx, 0, hear, &h, &res), 2);
    ck_assert_str_eq(heard_text(&h), "bind failed " BRIDGE "\n"
                                     "bind failed " NIC "\n"
                                     "bind done " XHCI "\n");
    ck_assert_uint_eq(hd_reserve_result_count(res), 3);
    ck_assert_ptr_null(hd_reserve_result_get_op(res, 0));
    ck_assert_str_eq(hd_reserve_result_get_error(res, 0, &reason),
                     BRIDGE " is a bridge (header type 1), not an endpoint: it cannot be "
                            "reserved for a VM");
    ck_assert_str_eq(hd_reserve_result_get_error(res, 1, &reason),
                     NIC ": writing driver_override failed: Input/output error");
    /* The failed one's operation, its steps as they ended: nothing is left done. */
    const struct hd_op *failed = hd_reserve_result_get_op(res, 1);
    ck_assert_ptr_nonnull(failed);
    ck_assert_int_eq(hd_op_step_get_state(failed, step(failed, "override")), HD_STEP_UNDONE);
    ck_assert_int_eq(hd_op_step_get_state(failed, step(failed, "detach")), HD_STEP_FAILED);
    ck_assert_ptr_null(hd_reserve_result_get_error(res, 2, NULL));
    /* Each entry is the one applied, with where it came from. */
    ck_assert_str_eq(hd_reserve_result_get_entry(res, 2)->driver, "pci-stub");
    ck_assert_str_eq(hd_reserve_result_get_entry(res, 2)->file, "etc/hostdev.d/10-vm.conf");
    ck_assert_uint_eq(hd_reserve_result_get_entry(res, 2)->line, 3);
    /* The failed one is where it was; the next one is on its stub, and its snapshot says so. */
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_str_eq(fx_driver(&e.fx, XHCI), "pci-stub");
    ck_assert_str_eq(hd_device_get_driver(hd_reserve_result_get_device(res, 2)), "pci-stub");
    ck_assert_str_eq(hd_device_get_driver_override(hd_reserve_result_get_device(res, 2)),
                     "pci-stub");
    const struct hd_op *op = hd_reserve_result_get_op(res, 2);
    ck_assert_int_eq(hd_op_step_get_state(op, step(op, "detach")), HD_STEP_DONE);
    /* The result outlives the configuration and the context's later errors. */
    hd_reserve_config_unref(c);
    hd_ctx_clear_error(e.ctx);
    ck_assert_str_eq(hd_reserve_result_get_entry(res, 1)->file, "etc/hostdev.d/10-vm.conf");
    ck_assert_ptr_nonnull(strstr(hd_reserve_result_get_error(res, 1, NULL), "driver_override"));
    ck_assert_ptr_null(hd_reserve_result_unref(res));
    eng_stop(&e);
}
END_TEST

/* A dry run plans every device and writes nothing at all: no sysfs write, no state file. */
HD_TEST(dry_run_writes_nothing)
{
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_reserve_result *res;
    struct heard h = {0};

    eng_start(&e, "demo");
    conf(&e, "10-vm.conf", "03:00.0\n04:00.0 pci-stub\n");
    c = load(&e);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_reserve_config_apply(c, e.ctx, HD_RESERVE_DRY_RUN, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "bind done " NIC "\nbind done " XHCI "\n");
    for (size_t i = 0; i < 2; i++) {
        const struct hd_op *op = hd_reserve_result_get_op(res, i);
        ck_assert_int_eq(hd_op_step_get_state(op, step(op, "detach")), HD_STEP_PLANNED);
    }
    const struct hd_op *nic_op = hd_reserve_result_get_op(res, 0);
    ck_assert_str_eq(hd_op_step_get_from(nic_op, step(nic_op, "detach")), "e1000e");
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    ck_assert(!fx_exists(&e.fx, "run/hostdev/locks"));
    hd_reserve_result_unref(res);
    /* The same for one entry (persist) and for giving back (unpersist). */
    struct hd_reserve_entry entry = {.driver = "vfio-pci", .numvfs = -1, .file = "persist"};
    ck_assert_int_eq(hd_pci_selector_parse(NIC, &entry.sel), 0);
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, e.ctx, HD_RESERVE_DRY_RUN, NULL, NULL, &res),
                     0);
    ck_assert_uint_eq(hd_reserve_result_count(res), 1);
    ck_assert_int_eq(hd_reserve_result_get_outcome(res, 0), HD_RESERVE_DONE);
    hd_reserve_result_unref(res);
    ck_assert_uint_eq(eng_writes(&e), writes);
    ck_assert(!fx_exists(&e.fx, "run/hostdev/drivers/" NIC));
    hd_reserve_config_unref(c);
    eng_stop(&e);
}
END_TEST

/* VF counts come first, so VFs reserved by ids are found; a second run has nothing to do. A
 * PF without its driver gets its count when the driver binds (the "bind" event). */
HD_TEST(vf_counts_first_then_devices_then_events)
{
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_reserve_result *res;
    struct heard h = {0};

    eng_start(&e, "server-sriov");
    conf(&e, "sriov.conf", "0000:03:00.1 numvfs=2\n8086:10ed\n");
    c = load(&e);
    ck_assert_int_eq(hd_reserve_config_apply(c, e.ctx, 0, hear, &h, &res), 0);
    /* What the count did to the VFs, as a dry run plans it, then the devices. */
    ck_assert_str_eq(heard_text(&h), "numvfs done 0000:03:00.1\n"
                                     "vf-made done 0000:03:10.1\n"
                                     "vf-made done 0000:03:10.3\n"
                                     "bind done 0000:03:10.0\n"
                                     "bind done 0000:03:10.1\n"
                                     "bind done 0000:03:10.2\n"
                                     "bind done 0000:03:10.3\n"
                                     "bind done 0000:03:10.4\n"
                                     "bind done 0000:03:10.6\n"
                                     "bind done 0000:03:11.0\n"
                                     "bind done 0000:03:11.2\n"
                                     "bind done 0000:03:11.4\n"
                                     "bind done 0000:03:11.6\n");
    ck_assert_int_eq(hd_op_get_previous_numvfs(hd_reserve_result_get_op(res, 0)), 0);
    ck_assert_int_eq(hd_reserve_result_get_entry(res, 0)->numvfs, 2);
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.3"), "vfio-pci"); /* one it made */
    hd_reserve_result_unref(res);
    h.n = 0;
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_reserve_config_apply(c, e.ctx, 0, hear, &h, &res), 0);
    ck_assert_str_eq(h.lines[0], "numvfs unchanged 0000:03:00.1");
    ck_assert_ptr_null(hd_reserve_result_get_op(res, 0));
    ck_assert_uint_eq(eng_writes(&e), writes);
    hd_reserve_result_unref(res);

    /* Events: the PF unbound has no driver to make VFs, so "add" leaves its count for later;
     * "bind" sets it. Anything else is refused. */
    struct hd_device *pf = eng_dev(&e, "0000:03:00.1");
    ck_assert_int_eq(eng_run(&e, "sriov 0000:03:00.1 --numvfs 0"), 0);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/ixgbe/unbind", "0000:03:00.1"), 0);
    hd_device_refresh(pf);
    hd_device_fill(pf, HD_FILL_EXTRA);
    h.n = 0;
    ck_assert_int_eq(hd_reserve_config_apply_event(c, pf, "add", 0, hear, &h, &res), 0);
    ck_assert_uint_eq(h.n, 0); /* no driver: not even asked */
    hd_reserve_result_unref(res);
    ck_assert_int_eq(fx_write(&e.fx, "sys/bus/pci/drivers/ixgbe/bind", "0000:03:00.1"), 0);
    hd_device_refresh(pf);
    hd_device_fill(pf, HD_FILL_EXTRA);
    ck_assert_int_eq(hd_reserve_config_apply_event(c, pf, "bind", 0, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "numvfs done 0000:03:00.1\n"
                                     "vf-made done 0000:03:10.1\n"
                                     "vf-made done 0000:03:10.3\n");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    ck_assert_int_eq(hd_device_get_sriov_numvfs(pf), 2); /* the caller's snapshot, read again */
    hd_reserve_result_unref(res);
    ck_assert_int_eq(hd_reserve_config_apply_event(c, pf, "remove", 0, NULL, NULL, &res),
                     -EINVAL);
    ck_assert_ptr_null(res);
    hd_device_unref(pf);
    hd_reserve_config_unref(c);
    eng_stop(&e);
}
END_TEST

/* One entry (persist): every device it selects in one operation, all or none; a failure is one
 * item naming the device that failed, and the devices before it are put back. None: no items. */
HD_TEST(entry_is_all_or_nothing)
{
    struct eng e;
    struct hd_reserve_result *res;
    struct heard h = {0};
    struct hd_reserve_entry entry = {.driver = "vfio-pci", .numvfs = -1, .file = "persist"};

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(eng_run(&e, "sriov 0000:03:00.1 --numvfs 3"), 0);
    ck_assert_int_eq(hd_pci_selector_parse("8086:10ed", &entry.sel), 0);
    ck_assert_int_eq(
        fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:10.3/driver_override EIO"), 0);
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, e.ctx, 0, hear, &h, &res), 1);
    ck_assert_str_eq(heard_text(&h), "bind failed 0000:03:10.0\n");
    ck_assert_str_eq(hd_reserve_result_get_error(res, 0, NULL),
                     "0000:03:10.3: writing driver_override failed: Input/output error");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.0"), "ixgbevf"); /* put back */
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.4"), "ixgbevf"); /* not reached */
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:10.0/driver_override"),
                     "(null)");
    /* The entry is the result's own copy. */
    ck_assert_ptr_ne(hd_reserve_result_get_entry(res, 0), &entry);
    ck_assert_str_eq(hd_reserve_result_get_entry(res, 0)->file, "persist");
    hd_reserve_result_unref(res);
    /* Without the fault: every VF, told one by one, the first holding the one operation. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    h.n = 0;
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, e.ctx, 0, hear, &h, &res), 0);
    ck_assert_uint_ge(h.n, 4);
    ck_assert_str_eq(h.lines[3], "bind done 0000:03:10.3");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:10.3"), "vfio-pci");
    ck_assert_str_eq(hd_device_get_driver(hd_reserve_result_get_device(res, 3)), "vfio-pci");
    ck_assert_ptr_nonnull(hd_reserve_result_get_op(res, 0));
    ck_assert_ptr_null(hd_reserve_result_get_op(res, 1));
    hd_reserve_result_unref(res);
    ck_assert_int_eq(hd_pci_selector_parse("ffff:0001", &entry.sel), 0);
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, e.ctx, 0, NULL, NULL, &res), 0);
    ck_assert_uint_eq(hd_reserve_result_count(res), 0);
    hd_reserve_result_unref(res);
    eng_stop(&e);
}
END_TEST

/* An entry's devices go to their stub before its VF count, which that stub then sets (a PF's
 * host driver turns SR-IOV off as it lets go, so VFs counted first would go with it). A count
 * that fails gives the devices back: they were told as it happened, and the result says only
 * what is true after the give-back, the failure. A give-back that fails keeps them, true, and
 * is an item of its own. */
HD_TEST(entry_binds_then_counts_and_gives_back_when_the_count_fails)
{
    struct eng e;
    struct hd_reserve_result *res;
    struct hd_reserve_entry entry = {.driver = "vfio-pci", .numvfs = 2, .file = "persist"};
    struct heard h = {0};

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    ck_assert_int_eq(hd_pci_selector_parse("0000:03:00.1", &entry.sel), 0);
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, e.ctx, 0, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "bind done 0000:03:00.1\n"
                                     "numvfs done 0000:03:00.1\n"
                                     "vf-made done 0000:03:10.1\n"
                                     "vf-made done 0000:03:10.3\n");
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "vfio-pci");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "2");
    hd_reserve_result_unref(res);
    eng_stop(&e);

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(fx_write(&e.fx, "sys/module/vfio_pci/parameters/enable_sriov", "Y"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.1/sriov_numvfs EIO"), 0);
    h.n = 0;
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, e.ctx, 0, hear, &h, &res), 1);
    /* Told as it happened: the PF's reservation, then its count, which failed. */
    ck_assert_str_eq(heard_text(&h), "bind done 0000:03:00.1\n"
                                     "numvfs failed 0000:03:00.1\n");
    ck_assert_uint_eq(hd_reserve_result_count(res), 1);
    ck_assert_int_eq(hd_reserve_result_get_action(res, 0), HD_RESERVE_NUMVFS);
    ck_assert_int_eq(hd_reserve_result_get_outcome(res, 0), HD_RESERVE_FAILED);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "ixgbe");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/driver_override"),
                     "(null)");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/0000:03:00.1/sriov_numvfs"), "0");
    hd_reserve_result_unref(res);

    /* The give-back fails too (the override's second write, its clearing): the PF stays on
     * its stub, and so do the items that tell it, with the give-back's failure after them. */
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.1/sriov_numvfs EIO"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "fault sys/bus/pci/devices/0000:03:00.1/driver_override EIO "
                                   "nth=2"),
                     0);
    h.n = 0;
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, e.ctx, 0, hear, &h, &res), 2);
    ck_assert_str_eq(heard_text(&h), "bind done 0000:03:00.1\n"
                                     "numvfs failed 0000:03:00.1\n"
                                     "give-back failed 0000:03:00.1\n");
    ck_assert_uint_eq(hd_reserve_result_count(res), 3);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "vfio-pci");
    hd_reserve_result_unref(res);
    eng_stop(&e);
}
END_TEST

/* vfio-pci whose enable_sriov parameter is N sets no VF count (its sriov_configure answers
 * ENOENT): the entry is refused before its PF is bound, nothing written; the dry run says the
 * same. */
HD_TEST(entry_refuses_a_count_its_stub_cannot_set)
{
    struct eng e;
    struct hd_reserve_result *res;
    struct hd_reserve_entry entry = {.driver = "vfio-pci", .numvfs = 2, .file = "persist"};
    struct heard h = {0};

    eng_start(&e, "server-sriov");
    ck_assert_int_eq(hd_pci_selector_parse("0000:03:00.1", &entry.sel), 0);
    for (int dry = 0; dry < 2; dry++) {
        h.n = 0;
        ck_assert_int_eq(hd_reserve_entry_apply(&entry, e.ctx, dry ? HD_RESERVE_DRY_RUN : 0,
                                                hear, &h, &res),
                         1);
        ck_assert_str_eq(heard_text(&h), "numvfs failed 0000:03:00.1\n");
        ck_assert_str_eq(hd_reserve_result_get_error(res, 0, NULL),
                         "0000:03:00.1 goes to vfio-pci before its VF count is set, on vfio-pci, "
                         "which changes a VF count only with its enable_sriov parameter set to Y "
                         "(/sys/module/vfio_pci/parameters/enable_sriov is N; load vfio-pci with "
                         "enable_sriov=1, or write Y there)");
        hd_reserve_result_unref(res);
    }
    ck_assert_uint_eq(eng_writes(&e), 0);
    ck_assert_str_eq(fx_driver(&e.fx, "0000:03:00.1"), "ixgbe");
    eng_stop(&e);
}
END_TEST

/* A dry run plans a count's VFs from the PF's layout (sriov_offset, sriov_stride); one it cannot
 * read (garbage: plain files, which a dry run does not write) plans the count alone, and is
 * neither the dry run's failure nor a reason left on the context for the caller to take for
 * its own. */
HD_TEST(dry_run_goes_without_a_vf_layout_it_cannot_read)
{
    struct fx fx;
    struct hd_ctx *ctx;
    struct hd_reserve_result *res;
    struct hd_reserve_entry entry = {.driver = NULL, .numvfs = 2, .file = "persist"};
    struct heard h = {0};

    ck_assert_msg(fx_materialize(&fx, "server-sriov") == 0, "materialize: %s", fx.error);
    ck_assert_int_eq(hd_ctx_new(fx.root, &ctx), 0);
    hd_ctx_set_names_file(ctx, "");
    ck_assert_int_eq(hd_pci_selector_parse("0000:03:00.1", &entry.sel), 0);
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, ctx, HD_RESERVE_DRY_RUN, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "numvfs done 0000:03:00.1\n"
                                     "vf-made done 0000:03:10.1\n"
                                     "vf-made done 0000:03:10.3\n");
    hd_reserve_result_unref(res);

    ck_assert_int_eq(fx_write(&fx, "sys/bus/pci/devices/0000:03:00.1/sriov_offset", "zz\n"), 0);
    h.n = 0;
    ck_assert_int_eq(hd_reserve_entry_apply(&entry, ctx, HD_RESERVE_DRY_RUN, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "numvfs done 0000:03:00.1\n");
    ck_assert_str_eq(hd_ctx_last_error(ctx), "");
    ck_assert_int_eq(hd_ctx_last_reason(ctx), HD_REASON_NONE);
    hd_reserve_result_unref(res);
    hd_ctx_unref(ctx);
    fx_umount(&fx);
}
END_TEST

/* persist: the file is written, then the devices change; when they cannot, the file is put
 * back as it was (or removed), and a file that cannot be written changes no device. */
HD_TEST(persist_is_all_or_nothing)
{
    struct eng e;
    struct hd_reserve_result *res;
    struct hd_reserve_entry entry = {.driver = "pci-stub", .numvfs = -1, .file = "persist"};
    const char *file = "etc/hostdev.d/persist-" NIC ".conf";
    char *before;

    eng_start(&e, "demo");
    ck_assert_int_eq(hd_pci_selector_parse(NIC, &entry.sel), 0);
    /* A file that cannot be written: nothing changes. */
    eng_put(&e, "etc/hostdev.d", "not a directory");
    ck_assert_int_lt(hd_reserve_persist_apply(e.ctx, &entry, 0, NULL, NULL, &res), 0);
    ck_assert_ptr_null(res);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    ck_assert_str_eq(fx_read(&e.fx, "sys/bus/pci/devices/" NIC "/driver_override"), "(null)");
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d")), 0);
    /* A device that fails: the file it had is put back. */
    entry.driver = "vfio-pci";
    ck_assert_int_eq(hd_reserve_persist_apply(e.ctx, &entry, HD_RESERVE_NO_APPLY, NULL, NULL,
                                              &res), 0);
    hd_reserve_result_unref(res); /* the file alone has its warnings too */
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e"); /* the file alone */
    before = strdup(fx_read(&e.fx, file));
    ck_assert_ptr_nonnull(strstr(before, NIC " vfio-pci"));
    entry.driver = "pci-stub";
    ck_assert_int_eq(
        fx_ctl(&e.fx, "fault sys/bus/pci/devices/" NIC "/driver_override EIO count=0"), 0);
    ck_assert_int_eq(hd_reserve_persist_apply(e.ctx, &entry, 0, NULL, NULL, &res), 1);
    ck_assert_str_eq(fx_read(&e.fx, file), before);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    hd_reserve_result_unref(res);
    /* None before: none after. */
    ck_assert_int_eq(hd_reserve_unpersist_apply(e.ctx, &entry.sel, HD_RESERVE_FILE_ONLY, NULL,
                                                NULL, &res), 0);
    hd_reserve_result_unref(res);
    ck_assert_int_eq(hd_reserve_persist_apply(e.ctx, &entry, 0, NULL, NULL, &res), 1);
    ck_assert(!fx_exists(&e.fx, file));
    hd_reserve_result_unref(res);
    /* Working: the file and the device. */
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-faults"), 0);
    ck_assert_int_eq(hd_reserve_persist_apply(e.ctx, &entry, 0, NULL, NULL, &res), 0);
    ck_assert_ptr_nonnull(strstr(fx_read(&e.fx, file), NIC " pci-stub"));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "pci-stub");
    hd_reserve_result_unref(res);
    /* An address that is not there: bad input, no file, unless the file alone is asked for. */
    ck_assert_int_eq(hd_pci_selector_parse("0000:0a:00.0", &entry.sel), 0);
    ck_assert_int_eq(hd_reserve_persist_apply(e.ctx, &entry, 0, NULL, NULL, &res), -ENODEV);
    ck_assert_int_eq(hd_ctx_last_reason(e.ctx), HD_REASON_NO_DEVICE);
    ck_assert(!fx_exists(&e.fx, "etc/hostdev.d/persist-0000:0a:00.0.conf"));
    ck_assert_int_eq(hd_reserve_persist_apply(e.ctx, &entry, HD_RESERVE_NO_APPLY, NULL, NULL,
                                              &res), 0);
    hd_reserve_result_unref(res);
    ck_assert(fx_exists(&e.fx, "etc/hostdev.d/persist-0000:0a:00.0.conf"));
    free(before);
    eng_stop(&e);
}
END_TEST

/* Giving back: a device another entry still reserves stays, named with that entry; one no
 * entry holds goes back to its host driver. */
HD_TEST(give_back_leaves_what_another_entry_holds)
{
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_reserve_result *res;
    struct hd_pci_selector sel;
    struct heard h = {0};

    eng_start(&e, "demo");
    ck_assert_int_eq(eng_run(&e, "detach " NIC), 0);
    conf(&e, "keep.conf", "# kept\n" NIC "\n");
    c = load(&e);
    ck_assert_int_eq(hd_pci_selector_parse("8086:10d3", &sel), 0);
    ck_assert_int_eq(hd_reserve_config_give_back(c, e.ctx, &sel, 0, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "give-back held " NIC "\n");
    ck_assert_str_eq(hd_reserve_result_get_entry(res, 0)->file, "etc/hostdev.d/keep.conf");
    ck_assert_uint_eq(hd_reserve_result_get_entry(res, 0)->line, 2);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    hd_reserve_result_unref(res);
    hd_reserve_config_unref(c);
    ck_assert_int_eq(unlink(fx_path(&e.fx, "etc/hostdev.d/keep.conf")), 0);
    c = load(&e);
    h.n = 0;
    ck_assert_int_eq(hd_reserve_config_give_back(c, e.ctx, &sel, 0, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "give-back done " NIC "\n");
    ck_assert_int_eq(hd_op_step_get_state(hd_reserve_result_get_op(res, 0),
                                          step(hd_reserve_result_get_op(res, 0), "reattach")),
                     HD_STEP_DONE);
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    hd_reserve_result_unref(res);
    hd_reserve_config_unref(c);
    eng_stop(&e);
}
END_TEST

/* Giving back what an error of the configuration may name is refused before anything runs:
 * the boot skips a bad line, but what it was meant for is not known. A bad line whose device
 * word names another device, or none, does not stand in the way. */
HD_TEST(give_back_refuses_what_a_bad_line_may_hold)
{
    static const char bad[] = "0000:01:00.0 vfio\nnonsense 03:00.0\n"
                              "03:00.0\0junk\n8086:10d3 numvfs=x\n";
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_reserve_result *res;
    struct hd_pci_selector sel;
    struct heard h = {0};
    enum hd_reason reason;

    eng_start(&e, "demo");
    ck_assert_int_eq(eng_run(&e, "detach " NIC), 0);
    size_t writes = eng_writes(&e);
    ck_assert_int_eq(hd_reserve_config_new(&c), 0);
    ck_assert_int_eq(hd_reserve_config_parse(c, bad, sizeof(bad) - 1, "etc/hostdev.d/x.conf"), 4);
    ck_assert_int_eq(hd_pci_selector_parse(NIC, &sel), 0);
    ck_assert_int_eq(hd_reserve_config_give_back(c, e.ctx, &sel, 0, hear, &h, &res), 1);
    ck_assert_str_eq(heard_text(&h), "give-back failed " NIC "\n");
    ck_assert_str_eq(hd_reserve_result_get_error(res, 0, &reason),
                     NIC ": not given back, since the configuration may still reserve it: "
                     "etc/hostdev.d/x.conf:3: a NUL byte (not a text file?) (mend or remove "
                     "that first)");
    ck_assert_int_eq(reason, HD_REASON_INVALID);
    ck_assert_ptr_null(hd_reserve_result_get_op(res, 0));
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "vfio-pci");
    ck_assert_uint_eq(eng_writes(&e), writes);
    hd_reserve_result_unref(res);
    hd_reserve_config_unref(c);
    /* By ids, the same; without the lines naming it, given back (errors or not). */
    static const char ids[] = "8086:10d3 numvfs=x\n";
    ck_assert_int_eq(hd_reserve_config_new(&c), 0);
    ck_assert_int_eq(hd_reserve_config_parse(c, ids, sizeof(ids) - 1, "etc/hostdev.d/x.conf"), 1);
    h.n = 0;
    ck_assert_int_eq(hd_reserve_config_give_back(c, e.ctx, &sel, 0, hear, &h, &res), 1);
    ck_assert_ptr_nonnull(strstr(hd_reserve_result_get_error(res, 0, NULL), "x.conf:1: "));
    hd_reserve_result_unref(res);
    hd_reserve_config_unref(c);
    ck_assert_int_eq(hd_reserve_config_new(&c), 0);
    ck_assert_int_eq(hd_reserve_config_parse(c, bad, 35, "etc/hostdev.d/x.conf"), 2);
    h.n = 0;
    ck_assert_int_eq(hd_reserve_config_give_back(c, e.ctx, &sel, 0, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "give-back done " NIC "\n");
    ck_assert_str_eq(fx_driver(&e.fx, NIC), "e1000e");
    hd_reserve_result_unref(res);
    hd_reserve_config_unref(c);
    eng_stop(&e);
}
END_TEST

/* Mediated devices defined to start at boot: made where the parent offers the type, left for
 * later where it does not; a file that is no definition is a failed item of its own. */
HD_TEST(mdevs_at_boot)
{
    struct eng e;
    struct hd_reserve_config *c;
    struct hd_reserve_result *res;
    struct heard h = {0};
    const char *uuid, *parent, *type;
    enum hd_reason reason;

    eng_start(&e, "mdev");
    mkdir(fx_path(&e.fx, "etc/mdevctl.d"), 0755);
    mkdir(fx_path(&e.fx, "etc/mdevctl.d/mtty"), 0755);
    eng_put(&e, "etc/mdevctl.d/mtty/aaaaaaaa-0000-4000-8000-000000000001",
            "{\"mdev_type\": \"mtty-1\", \"start\": \"auto\"}");
    eng_put(&e, "etc/mdevctl.d/mtty/aaaaaaaa-0000-4000-8000-000000000002",
            "{\"mdev_type\": \"mtty-9\", \"start\": \"auto\"}");
    c = load(&e);
    ck_assert_int_eq(hd_reserve_config_apply(c, e.ctx, 0, hear, &h, &res), 0);
    ck_assert_str_eq(heard_text(&h), "mdev done aaaaaaaa-0000-4000-8000-000000000001\n"
                                     "mdev later aaaaaaaa-0000-4000-8000-000000000002\n");
    ck_assert_int_eq(hd_reserve_result_get_mdev(res, 1, &uuid, &parent, &type), 0);
    ck_assert_str_eq(parent, "mtty");
    ck_assert_str_eq(type, "mtty-9");
    ck_assert_ptr_null(hd_reserve_result_get_device(res, 0));
    ck_assert(fx_exists(&e.fx, "sys/bus/mdev/devices/aaaaaaaa-0000-4000-8000-000000000001"));
    hd_reserve_result_unref(res);
    /* A broken definition fails alone, as bad input naming its file; the others are still
     * looked at (the one whose type is not offered is left for later again). */
    eng_put(&e, "etc/mdevctl.d/mtty/aaaaaaaa-0000-4000-8000-000000000003", "{");
    h.n = 0;
    ck_assert_int_eq(hd_reserve_config_apply(c, e.ctx, 0, hear, &h, &res), 1);
    ck_assert_str_eq(heard_text(&h), "mdev failed -\n"
                                     "mdev later aaaaaaaa-0000-4000-8000-000000000002\n");
    ck_assert_int_eq(hd_reserve_result_get_mdev(res, 0, &uuid, &parent, &type), -EINVAL);
    ck_assert_ptr_nonnull(strstr(hd_reserve_result_get_error(res, 0, &reason),
                                 "reading the mdev definitions: "));
    ck_assert_ptr_nonnull(strstr(hd_reserve_result_get_error(res, 0, NULL),
                                 "etc/mdevctl.d/mtty/aaaaaaaa-0000-4000-8000-000000000003: not "
                                 "an mdevctl definition"));
    ck_assert_int_eq(reason, HD_REASON_INVALID);
    hd_reserve_result_unref(res);
    hd_reserve_config_unref(c);
    eng_stop(&e);
}
END_TEST
