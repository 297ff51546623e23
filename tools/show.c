/* show.c - `hostdev show`: everything known about one device, and its IOMMU group. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"
#include "devout.h"
#include "opout.h"
#include "reserve.h"

/* What the reservations (hostdev.d, persisted ones, the command line) do to the device at each
 * boot: the entry that gives it a stub, the one that sets its VF count (NULL: none). */
struct at_boot {
    struct hd_reserve_config *config; /* NULL: the reservations could not be read */
    const struct hd_reserve_entry *bind, *numvfs;
    const char *skipped; /* a bad line naming it that the boot skips ("FILE:LINE: why") */
};

static void at_boot_read(struct tool *t, struct hd_device *dev, struct at_boot *b)
{
    b->bind = b->numvfs = NULL;
    b->skipped = NULL;
    /* Checked as `persisted` checks it: an entry the boot would refuse is shown so. */
    if (hd_reserve_config_load(t->ctx, &b->config) < 0 ||
        hd_reserve_config_check(b->config, t->ctx) < 0) {
        b->config = hd_reserve_config_unref(b->config);
        hd_ctx_clear_error(t->ctx);
        return;
    }
    b->bind = hd_reserve_config_match(b->config, dev);
    b->numvfs = hd_reserve_config_match_numvfs(b->config, dev);
    b->skipped = hd_reserve_config_get_doubt(b->config, dev);
}

static void at_boot_text(const struct at_boot *b)
{
    char where[512];

    printf("  at boot:         ");
    if (b->config == NULL) {
        printf("unknown (the reservations could not be read)\n");
        return;
    }
    /* What a skipped line was meant to do is not known: "not reserved" alone would hide it. */
    if (b->bind == NULL && b->numvfs == NULL) {
        if (b->skipped != NULL)
            printf("not reserved: a line that may name it is skipped as bad: %s\n", b->skipped);
        else
            printf("not reserved\n");
        return;
    }
    if (b->bind != NULL) {
        printf("reserved for %s", b->bind->driver);
        if (b->bind != b->numvfs)
            printf(" (%s)", reserve_entry_source(b->bind, where, sizeof(where)));
    }
    if (b->numvfs != NULL)
        printf("%sVF count %d (%s)", b->bind == NULL ? "" : b->bind == b->numvfs ? ", " : "; ",
               b->numvfs->numvfs, reserve_entry_source(b->numvfs, where, sizeof(where)));
    /* One entry refused says so once, whichever part of it is refused. */
    for (int k = 0; k < 2; k++) {
        const struct hd_reserve_entry *e = k == 0 ? b->bind : b->numvfs;
        if (e != NULL && (k == 0 || e != b->bind) && hd_reserve_config_get_refusal(b->config, e))
            printf("; refused at boot: %s", hd_reserve_config_get_refusal(b->config, e));
    }
    if (b->skipped != NULL)
        printf("; skipped as bad: %s", b->skipped);
    putchar('\n');
}

static void at_boot_json(struct json *j, const struct at_boot *b)
{
    char where[512];

    json_key(j, "at_boot");
    if (b->config == NULL) {
        json_null(j);
        return;
    }
    json_begin_object(j);
    json_kv_string(j, "driver", b->bind ? b->bind->driver : NULL);
    json_kv_string(j, "driver_from",
                   b->bind ? reserve_entry_source(b->bind, where, sizeof(where)) : NULL);
    json_kv_int_or_null(j, "numvfs", b->numvfs ? b->numvfs->numvfs : 0, b->numvfs != NULL);
    json_kv_string(j, "numvfs_from",
                   b->numvfs ? reserve_entry_source(b->numvfs, where, sizeof(where)) : NULL);
    /* Why the boot would refuse the entry (null: it would not). */
    json_kv_string(j, "driver_refused",
                   b->bind ? hd_reserve_config_get_refusal(b->config, b->bind) : NULL);
    json_kv_string(j, "numvfs_refused",
                   b->numvfs ? hd_reserve_config_get_refusal(b->config, b->numvfs) : NULL);
    /* A bad line that may name it, which the boot skips (null: none). */
    json_kv_string(j, "skipped", b->skipped);
    json_end_object(j);
}

/* A driver_override the kernel set as @dev's PF on vfio-pci (or a variant) made it, not one of
 * hostdev's (a driver record says hostdev detached it); the PF's driver in @pfdrv. Its PF is
 * read: show only, never list. */
static bool override_by_pf(struct hd_device *dev, char *pfdrv, size_t size)
{
    char *orig = NULL;
    bool recorded = hd_device_get_original_driver(dev, &orig) == 0;

    free(orig);
    return !recorded && hd_device_get_capturing_driver(dev, pfdrv, size) == 1;
}

/* What a detach does not take it for, or NULL: a bridge ever, a function the host keeps without
 * --force (as the engine refuses them, ops.c); @role is its platform role. */
static const char *detach_refusal(struct hd_device *dev, const char *role)
{
    if (!hd_device_is_assignable(dev))
        return "a bridge";
    return role != NULL ? "kept by the host" : NULL;
}

/* The mediated device types the device offers (@types, its own), as `mdev types` lists them
 * (@types NULL: they could not be read, and nothing is said). */
static void mdev_types_text(const struct hd_mdev_type_list *types)
{
    bool first = true;

    for (size_t i = 0; types != NULL && i < hd_mdev_type_list_count(types); i++) {
        const char *name = hd_mdev_type_list_get_name(types, i);
        int avail = hd_mdev_type_list_get_available(types, i);
        printf("  %s%s", first ? "mdev types:      " : "                 ",
               hd_mdev_type_list_get_id(types, i));
        if (name != NULL && name[0]) {
            printf(" \"");
            tool_put_text(stdout, name);
            printf("\"");
        }
        if (avail >= 0)
            printf(", %d available\n", avail);
        else
            printf(", available unknown\n");
        first = false;
    }
}

static void mdev_types_json(struct json *j, const struct hd_mdev_type_list *types)
{
    json_key(j, "mdev_types");
    if (types == NULL) {
        json_null(j);
        return;
    }
    json_begin_array(j);
    for (size_t i = 0; i < hd_mdev_type_list_count(types); i++) {
        int avail = hd_mdev_type_list_get_available(types, i);
        json_begin_object(j);
        json_kv_string(j, "type", hd_mdev_type_list_get_id(types, i));
        json_kv_string(j, "name", hd_mdev_type_list_get_name(types, i));
        json_kv_int_or_null(j, "available_instances", avail, avail >= 0);
        json_end_object(j);
    }
    json_end_array(j);
}

static void show_text(const struct tool *t, struct hd_device *dev, struct hd_group *g,
                      const struct device_facts *f, const struct at_boot *boot,
                      const struct hd_mdev_type_list *types)
{
    const struct hd_pci_addr *parent = hd_device_get_parent(dev), *pf = hd_device_get_physfn(dev);
    const char *s;
    char buf[HD_PCI_ADDR_BUFSZ];
    int v;

    device_print_line(stdout, dev, f);
    printf("  ids:             %04x:%04x subsystem %04x:%04x class %06x\n",
           hd_device_get_vendor_id(dev), hd_device_get_device_id(dev),
           hd_device_get_subsystem_vendor_id(dev), hd_device_get_subsystem_device_id(dev),
           hd_device_get_class(dev));
    printf("  driver:          %s\n", (s = hd_device_get_driver(dev)) ? s : "none");
    char pfdrv[64] = "";
    if (override_by_pf(dev, pfdrv, sizeof(pfdrv)) &&
        strcmp(pfdrv, hd_device_get_driver_override(dev)) == 0)
        printf("  driver_override: %s (set by the kernel: its PF %s is on %s)\n",
               hd_device_get_driver_override(dev), hd_pci_addr_format(pf, buf), pfdrv);
    else if (pfdrv[0] != '\0')
        printf("  driver_override: %s (set by the kernel: its PF %s is on %s, which gives the VFs "
               "it makes its vfio device name, which no driver has: the VF stays without one)\n",
               hd_device_get_driver_override(dev), hd_pci_addr_format(pf, buf), pfdrv);
    else if (hd_device_has_driver_override(dev))
        printf("  driver_override: %s\n", (s = hd_device_get_driver_override(dev)) ? s : "none");
    else
        printf("  driver_override: not supported by this kernel\n");
    const char *role = hd_device_get_platform_role(dev), *refused = detach_refusal(dev, role);
    char vfio[64];
    if (refused != NULL)
        printf("  detach binds:    none: detach refuses it, %s%s%s%s\n", refused,
               role ? " (" : "", role ? role : "", role ? ")" : "");
    else if (hd_device_get_vfio_driver(dev, vfio, sizeof(vfio)) == 0)
        printf("  detach binds:    %s%s\n", vfio,
               strcmp(vfio, "vfio-pci") == 0
                   ? " (no variant driver matches it)"
                   : " (its vfio-pci variant, from the kernel's module aliases)");
    const char *ifs = f->netifs ? hd_netif_list_get(f->netifs, hd_device_get_addr(dev)) : "";
    const struct hd_assignment *a =
        f->map ? hd_assignment_list_find(f->map, hd_device_get_addr(dev)) : NULL;
    char *orig = NULL, *use = device_host_use(f, dev);
    printf("  interfaces:      %s\n", ifs[0] ? ifs : "none");
    bool recorded = hd_device_get_original_driver(dev, &orig) == 0;
    const char *op;
    bool live;
    /* An operation's records are its own until it ends: not what a finished one left. */
    if (hd_device_get_operation(dev, &op, &live) == 0) {
        if (live)
            printf("  operation:       a %s is under way on it (or an unbind it started still "
                   "hangs in the kernel)\n", op);
        else
            printf("  operation:       a %s was interrupted (its process died): 'hostdev "
                   "recover' undoes it, as the next writing command on its group does first\n",
                   op);
        if (recorded)
            printf("  original driver: %s (recorded by that %s)\n",
                   hd_original_driver_words(orig), op);
    } else if (recorded && strcmp(orig, HD_ORIGINAL_DRIVER_KERNEL) == 0)
        printf("  original driver: %s\n", hd_original_driver_words(orig)); /* says when, itself */
    else if (recorded)
        printf("  original driver: %s (%s)\n", hd_original_driver_words(orig),
               hd_device_get_driver(dev) != NULL && strcmp(orig, hd_device_get_driver(dev)) == 0
                   ? "on it already when it was reserved"
                   : "recorded when it left it");
    free(orig);
    if (a != NULL)
        printf("  assigned to:     vm %s (%s)\n", hd_assignment_get_vm(a),
               hd_assignment_is_managed(a) ? "managed" : "unmanaged");
    at_boot_text(boot);
    printf("  host use:        ");
    tool_put_text(stdout, use ? use : "none seen");
    putchar('\n');
    free(use);
    printf("  parent:          %s\n", parent ? hd_pci_addr_format(parent, buf) : "root bus");
    printf("  numa node:       ");
    if ((v = hd_device_get_numa_node(dev)) >= 0)
        printf("%d\n", v);
    else
        printf("none\n");
    if (!hd_device_is_assignable(dev))
        printf("  assignable:      no (bridge)\n");
    else if (role != NULL) /* the host keeps it: detach and acquire refuse it without --force */
        printf("  assignable:      no (%s: the host keeps it)\n", role);
    else if (hd_device_needs_vf_token(dev)) /* as export leaves it out */
        printf("  assignable:      yes (endpoint), but its PF %s is on vfio-pci (or a "
               "variant): the VF opens only with the PF's VF token, which libvirt never passes\n",
               hd_pci_addr_format(pf, buf));
    else
        printf("  assignable:      yes (endpoint)\n");
    printf("  reset:           %s%s%s\n", hd_device_has_reset(dev) ? "yes" : "no",
           hd_device_get_reset_methods(dev) ? ", methods: " : "",
           hd_device_get_reset_methods(dev) ? hd_device_get_reset_methods(dev) : "");
    if (pf != NULL)
        printf("  SR-IOV:          virtual function of %s\n", hd_pci_addr_format(pf, buf));
    if (hd_device_get_sriov_totalvfs(dev) >= 0) {
        printf("  SR-IOV:          %d of %d VFs enabled", hd_device_get_sriov_numvfs(dev),
               hd_device_get_sriov_totalvfs(dev));
        for (size_t i = 0; i < hd_device_get_virtfn_count(dev); i++)
            printf("%s %s", i ? "," : ":", hd_pci_addr_format(hd_device_get_virtfn(dev, i), buf));
        printf("\n");
    }
    mdev_types_text(types);
    if ((s = hd_device_get_vfio_cdev(dev)) != NULL)
        printf("  vfio cdev:       dev/vfio/devices/%s\n", s);
    if (g == NULL) {
        printf("  IOMMU group:     none (no IOMMU: see 'hostdev iommu')%s\n",
               hd_vfio_noiommu_mode(hd_device_get_ctx(dev))
                   ? "; vfio's unsafe no-IOMMU mode is on (detach --noiommu: user-space "
                     "drivers only)"
                   : "");
        return;
    }
    if (hd_group_number_is_noiommu(hd_device_get_ctx(dev), hd_group_get_number(g))) {
        printf("  IOMMU group:     %d, noiommu (vfio's unsafe no-IOMMU mode: /dev/vfio/noiommu-%d, "
               "no DMA isolation; for user-space drivers such as DPDK, not for a VM)\n",
               hd_group_get_number(g), hd_group_get_number(g));
        return;
    }
    /* Before a detach the group is on host drivers: normal, not an error. Say what makes it
     * usable rather than that it is broken. */
    bool on_host = !hd_group_is_viable(g) && hd_device_get_driver(dev) != NULL &&
                   !hd_device_is_on_vfio(dev);
    /* A blocker the host keeps (an LPC bridge, an SMBus controller) never leaves its driver
     * without --force, so no detach makes the group viable: say so, as detach and doctor do. */
    bool kept = false;
    for (size_t i = 0; i < hd_group_get_blocker_count(g); i++)
        kept = kept || hd_device_get_platform_role(hd_group_get_blocker(g, i)) != NULL;
    printf("  IOMMU group:     %d, ", hd_group_get_number(g));
    if (hd_group_is_viable(g))
        printf("viable\n");
    else if (kept)
        printf("%s; it holds functions the host keeps: no VM can have it on this host as it is "
               "('%s doctor %s' says what can)\n",
               on_host ? "on host drivers" : "not viable", t->prog, hd_device_get_name(dev));
    else if (on_host)
        printf("on host drivers (as before any detach; a VM can have it once every member is on "
               "vfio-pci)\n");
    else
        printf("not viable\n");
    /* The driver column as wide as its longest name (mlx5_vfio_pci, snd_hda_intel...). */
    int width = 12;
    for (size_t i = 0; i < hd_group_get_member_count(g); i++) {
        const char *d = hd_device_get_driver(hd_group_get_member(g, i));
        if (d != NULL && (int)strlen(d) + 1 > width)
            width = (int)strlen(d) + 1;
    }
    for (size_t i = 0; i < hd_group_get_member_count(g); i++) {
        struct hd_device *m = hd_group_get_member(g, i);
        const char *d = hd_device_get_driver(m);
        bool blocks = false;
        for (size_t k = 0; k < hd_group_get_blocker_count(g); k++)
            blocks = blocks || hd_group_get_blocker(g, k) == m;
        const char *kept_as = blocks ? hd_device_get_platform_role(m) : NULL;
        printf("    %s %-*s%s%s%s%s\n", hd_device_get_name(m), blocks ? width : 0,
               d ? d : "unbound",
               !blocks ? "" : on_host ? " on a host driver" : " blocks: bound to a host driver",
               kept_as ? ", kept by the host (" : "", kept_as ? kept_as : "", kept_as ? ")" : "");
    }
}

static void show_json(struct hd_device *dev, struct hd_group *g, const struct device_facts *f,
                      const struct at_boot *boot, const struct hd_mdev_type_list *types)
{
    struct json j;
    json_init(&j, stdout, 2);
    json_begin_object(&j);
    device_print_json_fields(&j, dev, f, true); /* host_use among them */
    /* driver_override set by the kernel as the device's PF on vfio-pci made it */
    char pfdrv[64];
    json_kv_bool(&j, "driver_override_by_pf", override_by_pf(dev, pfdrv, sizeof(pfdrv)));
    char vfio[64]; /* null too where detach refuses it */
    json_kv_string(&j, "vfio_driver",
                   detach_refusal(dev, hd_device_get_platform_role(dev)) == NULL &&
                           hd_device_get_vfio_driver(dev, vfio, sizeof(vfio)) == 0
                       ? vfio
                       : NULL);
    /* a VF whose PF is on a vfio driver: opened only with the PF's VF token */
    json_kv_bool(&j, "needs_vf_token", hd_device_needs_vf_token(dev));
    mdev_types_json(&j, types);
    at_boot_json(&j, boot);
    const char *op;
    bool live;
    json_key(&j, "operation"); /* the intent log's: under way, or interrupted */
    if (hd_device_get_operation(dev, &op, &live) == 0) {
        json_begin_object(&j);
        json_kv_string(&j, "name", op);
        json_kv_bool(&j, "under_way", live);
        json_end_object(&j);
    } else {
        json_null(&j);
    }
    json_key(&j, "group");
    if (g == NULL) {
        json_null(&j);
    } else {
        json_begin_object(&j);
        json_kv_int(&j, "number", hd_group_get_number(g));
        json_kv_bool(&j, "viable", hd_group_is_viable(g));
        /* made by vfio's unsafe no-IOMMU mode: no DMA isolation, no VM */
        json_kv_bool(&j, "noiommu",
                     hd_group_number_is_noiommu(hd_device_get_ctx(dev), hd_group_get_number(g)));
        json_key(&j, "members");
        json_begin_array(&j);
        for (size_t i = 0; i < hd_group_get_member_count(g); i++) {
            struct hd_device *m = hd_group_get_member(g, i);
            json_begin_object(&j);
            json_kv_string(&j, "address", hd_device_get_name(m));
            json_kv_string(&j, "driver", hd_device_get_driver(m));
            json_kv_string(&j, "host_keeps", hd_device_get_platform_role(m));
            json_end_object(&j);
        }
        json_end_array(&j);
        json_key(&j, "blockers");
        json_begin_array(&j);
        for (size_t i = 0; i < hd_group_get_blocker_count(g); i++)
            json_string(&j, hd_device_get_name(hd_group_get_blocker(g, i)));
        json_end_array(&j);
        json_end_object(&j);
    }
    json_end_object(&j);
    json_finish(&j);
}

/* A USB or SCSI device (as acquire names it) or a mediated device: what a VM would get. */
static int show_other(struct tool *t, const char *arg)
{
    struct hd_assignment_list *map = NULL;
    const struct hd_assignment *a = NULL;
    struct hd_nodedev *nd = NULL;
    char name[64], node[80], uuid[37], use[512] = "", parent[64] = "", driver[64] = "";
    bool mdev = hd_mdev_uuid_parse(arg, uuid) == 0;
    int r;

    if (mdev) {
        struct hd_mdev_list *l = NULL;
        const size_t i = 0;
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_mdev_list_new_uuid(t->ctx, uuid, &l)) < 0)
            return tool_lib_error(t, tool_exit_for(t), r, "%s", arg);
        snprintf(name, sizeof(name), "%s", uuid);
        /* No group (its VFIO driver makes one when it takes the device): no node. */
        node[0] = '\0';
        if (hd_mdev_list_get_iommu_group(l, i) >= 0)
            snprintf(node, sizeof(node), "/dev/vfio/%d", hd_mdev_list_get_iommu_group(l, i));
        snprintf(use, sizeof(use), "mediated device of type %s on %s",
                 hd_mdev_list_get_type(l, i), hd_mdev_list_get_parent(l, i));
        snprintf(parent, sizeof(parent), "%s", hd_mdev_list_get_parent(l, i));
        if (hd_mdev_list_get_driver(l, i) != NULL)
            snprintf(driver, sizeof(driver), "%s", hd_mdev_list_get_driver(l, i));
        hd_mdev_list_unref(l);
    } else {
        if ((r = hd_node_device_find(t->ctx, arg, name, sizeof(name), node, sizeof(node))) < 0)
            return tool_lib_error(t, tool_exit_for(t), r, "%s", arg);
        if ((r = hd_nodedev_lookup(t->ctx, name, &nd)) < 0)
            return tool_lib_error(t, tool_exit_for(t), r, "%s", arg);
        if (hd_node_device_check_host_use(t->ctx, arg) == -EBUSY)
            snprintf(use, sizeof(use), "%s", hd_ctx_last_error(t->ctx));
    }
    if (hd_assignment_list_new(t->ctx, &map) == 0)
        a = mdev ? hd_assignment_list_find_mdev(map, uuid)
                 : hd_assignment_list_find_name(map, name);
    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 2);
        json_begin_object(&j);
        json_kv_string(&j, "name", name);
        json_kv_string(&j, "capability", mdev ? "mdev" : hd_nodedev_get_cap_name(nd, 0));
        json_kv_string(&j, "node", node[0] ? node : NULL);
        json_kv_string(&j, "parent", nd ? hd_nodedev_get_parent(nd) : parent[0] ? parent : NULL);
        json_kv_string(&j, "driver", nd ? hd_nodedev_get_driver(nd) : driver[0] ? driver : NULL);
        json_kv_string(&j, "vm", a ? hd_assignment_get_vm(a) : NULL);
        json_kv_string(&j, mdev ? "description" : "host_use", use[0] ? use : NULL);
        json_end_object(&j);
        json_finish(&j);
    } else {
        const char *prod = nd ? hd_nodedev_get_product_name(nd) : NULL;
        printf("%s %s", name, mdev ? "mdev" : hd_nodedev_get_cap_name(nd, 0));
        if (nd != NULL && hd_nodedev_get_vendor_id(nd) >= 0)
            printf(" %s [%04x:%04x]", prod ? prod : "", (unsigned)hd_nodedev_get_vendor_id(nd),
                   (unsigned)hd_nodedev_get_product_id(nd));
        if (node[0])
            printf("\n  node:            %s (what a VM opens)\n", node);
        else
            printf("\n  node:            none (it has no IOMMU group)\n");
        if (nd != NULL) {
            printf("  parent:          %s\n", hd_nodedev_get_parent(nd));
            printf("  driver:          %s\n",
                   hd_nodedev_get_driver(nd) ? hd_nodedev_get_driver(nd) : "none");
        } else {
            printf("  parent:          %s\n", parent);
            printf("  driver:          %s\n", driver[0] ? driver : "none");
        }
        printf("  assigned to:     %s%s\n", a ? "vm " : "none", a ? hd_assignment_get_vm(a) : "");
        printf("  %s", mdev ? "mediated:        " : "host use:        ");
        tool_put_text(stdout, use[0] ? use : "none seen");
        putchar('\n');
    }
    hd_assignment_list_unref(map);
    hd_nodedev_unref(nd);
    return EXIT_DONE;
}

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_device **devs;
    struct hd_group *g = NULL;
    size_t n;
    int r;

    int first;
    if ((r = tool_operands_only(t, &cmd_show, argc, argv, &first)) != EXIT_DONE)
        return r;
    argc -= first - 1, argv += first - 1; /* argv[1]: the operand */
    if (argc != 2)
        return tool_error(t, EXIT_USAGE, "show takes exactly one device address");
    char uuid[37];
    if (strncmp(argv[1], "usb", 3) == 0 || strncmp(argv[1], "scsi_", 5) == 0 ||
        hd_mdev_uuid_parse(argv[1], uuid) == 0)
        return show_other(t, argv[1]);
    if ((r = devargs_open(t, 1, argv + 1, &devs, &n)) != EXIT_DONE)
        return r;
    if (hd_device_get_iommu_group(devs[0]) >= 0 &&
        (r = hd_group_open(t->ctx, hd_device_get_iommu_group(devs[0]), &g)) < 0) {
        devargs_free(devs, n);
        return tool_lib_error(t, tool_exit_for(t), r, "%s", argv[1]);
    }
    struct device_facts f;
    struct at_boot boot;
    struct hd_mdev_type_list *types = NULL; /* NULL: unreadable (null in JSON) */
    device_facts_read(t, &f);
    at_boot_read(t, devs[0], &boot);
    if (hd_mdev_type_list_new_for_parent(t->ctx, hd_device_get_name(devs[0]), &types) < 0)
        hd_ctx_clear_error(t->ctx);
    if (tool_json(t))
        show_json(devs[0], g, &f, &boot, types);
    else
        show_text(t, devs[0], g, &f, &boot, types);
    hd_mdev_type_list_unref(types);
    hd_reserve_config_unref(boot.config);
    device_facts_free(&f);
    hd_group_unref(g);
    devargs_free(devs, n);
    return EXIT_DONE;
}

const struct tool_command cmd_show = {
    .name = "show",
    .takes = TOOL_TAKES_ANY,
    .run = run,
    .usage = "ADDR|IFNAME|USB|SCSI|MDEV-UUID",
    .summary = "show one device: ids, driver, group and members, SR-IOV, reset",
    .help = "A PCI device (DDDD:BB:SS.F, BB:SS.F, pci_DDDD_BB_SS_F or a network interface's\n"
            "name): its ids, driver and override, the driver a detach binds, interfaces, what\n"
            "each boot does to it, what the host uses it for, whether a VM can have it, its\n"
            "reset methods, SR-IOV, the mediated device types it offers, and its IOMMU\n"
            "group's members (those that keep the group from a VM marked). A USB device\n"
            "(usb_BUS_PORT or usb:VVVV:PPPP[:SERIAL]), a SCSI device (scsi_H_B_T_L) or a\n"
            "mediated device (its UUID): the node a VM opens, its parent and driver, the VM\n"
            "that holds it and what the host keeps it for.\n"
            "With --json: one object (show --json in hostdev(1) names its fields).\n",
};
