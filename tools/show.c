/* show.c - `hostdev show`: everything known about one device, and its IOMMU group. */
#include <stdlib.h>
#include <string.h>

#include "devargs.h"
#include "devout.h"

static void show_text(struct hd_device *dev, struct hd_group *g, const struct device_facts *f)
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
    if (hd_device_has_driver_override(dev))
        printf("  driver_override: %s\n", (s = hd_device_get_driver_override(dev)) ? s : "none");
    else
        printf("  driver_override: not supported by this kernel\n");
    char vfio[64];
    if (hd_device_get_vfio_driver(dev, vfio, sizeof(vfio)) == 0)
        printf("  detach binds:    %s%s\n", vfio, strcmp(vfio, "vfio-pci") == 0
                                                     ? " (no variant driver matches it)"
                                                     : " (its vfio-pci variant, from the kernel's module aliases)");
    const char *ifs = f->netifs ? hd_netif_list_get(f->netifs, hd_device_get_addr(dev)) : "";
    const struct hd_assignment *a =
        f->map ? hd_assignment_list_find(f->map, hd_device_get_addr(dev)) : NULL;
    char *orig = NULL, *use = device_host_use(f, dev);
    printf("  interfaces:      %s\n", ifs[0] ? ifs : "none");
    if (hd_device_get_original_driver(dev, &orig) == 0)
        printf("  original driver: %s (recorded when it left it)\n", orig[0] ? orig : "none");
    free(orig);
    if (a != NULL)
        printf("  assigned to:     vm %s (%s)\n", hd_assignment_get_vm(a),
               hd_assignment_is_managed(a) ? "managed" : "unmanaged");
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
    printf("  assignable:      %s\n",
           hd_device_is_assignable(dev) ? "yes (endpoint)" : "no (bridge)");
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
    if ((s = hd_device_get_vfio_cdev(dev)) != NULL)
        printf("  vfio cdev:       dev/vfio/devices/%s\n", s);
    if (g == NULL) {
        printf("  IOMMU group:     none (no IOMMU: see 'hostdev iommu')\n");
        return;
    }
    /* Before a detach the group is on host drivers: normal, not an error. Say what makes it
     * usable rather than that it is broken. */
    bool on_host = !hd_group_is_viable(g) && hd_device_get_driver(dev) != NULL &&
                   !hd_driver_is_vfio(hd_device_get_driver(dev));
    printf("  IOMMU group:     %d, %s\n", hd_group_get_number(g),
           hd_group_is_viable(g) ? "viable"
           : on_host             ? "on host drivers (as before any detach; a VM can have it once "
                                   "every member is on vfio-pci)"
                                 : "not viable");
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
        printf("    %s %-*s%s\n", hd_device_get_name(m), blocks ? width : 0, d ? d : "unbound",
               !blocks ? "" : on_host ? " on a host driver" : " blocks: bound to a host driver");
    }
}

static void show_json(struct hd_device *dev, struct hd_group *g, const struct device_facts *f)
{
    struct json j;
    json_init(&j, stdout, 2);
    json_begin_object(&j);
    device_print_json_fields(&j, dev, f, true); /* host_use among them */
    char vfio[64];
    json_kv_string(&j, "vfio_driver",
                   hd_device_get_vfio_driver(dev, vfio, sizeof(vfio)) == 0 ? vfio : NULL);
    json_key(&j, "group");
    if (g == NULL) {
        json_null(&j);
    } else {
        json_begin_object(&j);
        json_kv_int(&j, "number", hd_group_get_number(g));
        json_kv_bool(&j, "viable", hd_group_is_viable(g));
        json_key(&j, "members");
        json_begin_array(&j);
        for (size_t i = 0; i < hd_group_get_member_count(g); i++) {
            struct hd_device *m = hd_group_get_member(g, i);
            json_begin_object(&j);
            json_kv_string(&j, "address", hd_device_get_name(m));
            json_kv_string(&j, "driver", hd_device_get_driver(m));
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

static int run(struct tool *t, int argc, char **argv)
{
    struct hd_device **devs;
    struct hd_group *g = NULL;
    size_t n;
    int r;

    if (argc != 2)
        return tool_error(t, EXIT_USAGE, "show takes exactly one device address");
    if ((r = devargs_open(t, 1, argv + 1, &devs, &n)) != EXIT_DONE)
        return r;
    if (hd_device_get_iommu_group(devs[0]) >= 0 &&
        (r = hd_group_open(t->ctx, hd_device_get_iommu_group(devs[0]), &g)) < 0) {
        devargs_free(devs, n);
        return tool_lib_error(t, EXIT_FAILED, r, "%s", argv[1]);
    }
    struct device_facts f;
    device_facts_read(t, &f);
    if (tool_json(t))
        show_json(devs[0], g, &f);
    else
        show_text(devs[0], g, &f);
    device_facts_free(&f);
    hd_group_unref(g);
    devargs_free(devs, n);
    return EXIT_DONE;
}

const struct tool_command cmd_show = {
    .name = "show",
    .run = run,
    .usage = "ADDR",
    .summary = "show one device: ids, driver, group and its members, SR-IOV, reset",
};
