/* devargs.c - commands that take a list of devices: check every argument before touching
 * anything, then open each device. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devargs.h"
#include "opout.h"

int devargs_parse(struct tool *t, int argc, char **argv, struct hd_pci_addr **out)
{
    struct hd_pci_addr *addrs;

    *out = NULL;
    if (argc < 1)
        return tool_error(t, EXIT_USAGE, "no device given (an address such as 0000:03:00.0)");
    addrs = calloc((size_t)argc, sizeof(*addrs));
    if (addrs == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    /* Syntax first, for all: a typo in the third address must not leave two devices done. */
    for (int i = 0; i < argc; i++) {
        if (tool_parse_addr(t, argv[i], &addrs[i]) < 0) {
            free(addrs);
            return EXIT_USAGE;
        }
    }
    *out = addrs;
    return EXIT_DONE;
}

/* A device named twice on the line (as 03:00.0 and as its interface, say) is bad input, as
 * detach and acquire say: a VM's configuration would hold it twice (two -device lines with one
 * guest slot, QEMU refuses), and a set given to check would count it twice. @others may be
 * NULL; EXIT_USAGE (printed) for the first one given twice. */
static int given_twice(struct tool *t, struct hd_device *const *devs,
                       const struct devarg_other *others, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++) {
            if (devs[i] != NULL && devs[k] != NULL &&
                hd_pci_addr_equal(hd_device_get_addr(devs[i]), hd_device_get_addr(devs[k])))
                return tool_error(t, EXIT_USAGE, "%s is given twice",
                                  hd_device_get_name(devs[i]));
            if (others != NULL && devs[i] == NULL && devs[k] == NULL &&
                others[i].cap == others[k].cap && strcmp(others[i].name, others[k].name) == 0)
                return tool_error(t, EXIT_USAGE, "%s is given twice", others[i].name);
        }
    }
    return EXIT_DONE;
}

int devargs_open(struct tool *t, int argc, char **argv, struct hd_device ***out, size_t *n)
{
    struct hd_pci_addr *addrs;
    struct hd_device **devs;
    int r;

    *out = NULL;
    *n = 0;
    if ((r = devargs_parse(t, argc, argv, &addrs)) != EXIT_DONE)
        return r;
    free(addrs);
    devs = calloc((size_t)argc, sizeof(*devs));
    if (devs == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (int i = 0; i < argc; i++) {
        r = tool_open_device(t, argv[i], &devs[i]);
        if (r != EXIT_DONE) {
            devargs_free(devs, (size_t)i);
            return r;
        }
    }
    if ((r = given_twice(t, devs, NULL, (size_t)argc)) != EXIT_DONE) {
        devargs_free(devs, (size_t)argc);
        return r;
    }
    *out = devs;
    *n = (size_t)argc;
    return EXIT_DONE;
}

static bool opened(struct hd_device *const *devs, size_t n, const struct hd_device *dev)
{
    for (size_t i = 0; i < n; i++)
        if (hd_pci_addr_equal(hd_device_get_addr(devs[i]), hd_device_get_addr(dev)))
            return true;
    return false;
}

/* Every device of @all with @arg's ids, opened as an address names it, after the @n of @devs
 * (each once). */
static int open_ids(struct tool *t, const char *arg, const struct hd_pci_selector *sel,
                    struct hd_device_list *all, struct hd_device **devs, size_t *n)
{
    bool any = false;

    for (size_t k = 0; k < hd_device_list_count(all); k++) {
        struct hd_device *d = hd_device_list_get(all, k);
        if (!hd_pci_selector_match(sel, d))
            continue;
        any = true;
        if (opened(devs, *n, d))
            continue;
        int r = tool_open_device(t, hd_device_get_name(d), &devs[*n]);
        if (r != EXIT_DONE)
            return r;
        (*n)++;
    }
    if (!any)
        return tool_error(t, EXIT_USAGE, "%s: no PCI device has these ids under %s", arg,
                          hd_ctx_get_root(t->ctx));
    return EXIT_DONE;
}

int devargs_open_ids(struct tool *t, int argc, char **argv, struct hd_device_list **all,
                     struct hd_device ***out, size_t *n)
{
    struct hd_pci_selector sel;
    struct hd_device **addressed = NULL, **devs;
    char **addr_args;
    size_t naddr = 0;
    int r = EXIT_DONE;

    *out = NULL;
    *n = 0;
    if (argc < 1)
        return devargs_open(t, argc, argv, out, n); /* its message */
    if ((addr_args = calloc((size_t)argc, sizeof(*addr_args))) == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (int i = 0; i < argc; i++)
        if (hd_pci_selector_parse(argv[i], &sel) < 0 || sel.kind != HD_SELECTOR_IDS)
            addr_args[naddr++] = argv[i];
    /* The addresses as devargs_open() takes them (syntax first, for all; one given twice). */
    if (naddr > 0 &&
        (r = devargs_open(t, (int)naddr, addr_args, &addressed, &naddr)) != EXIT_DONE) {
        free(addr_args);
        return r;
    }
    free(addr_args);
    if (naddr < (size_t)argc && *all == NULL) {
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_device_list_new(t->ctx, HD_FILL_IDENT, all)) < 0) {
            devargs_free(addressed, naddr);
            return tool_lib_error(t, EXIT_FAILED, r, "listing PCI devices");
        }
    }
    size_t cap = naddr + (*all != NULL ? hd_device_list_count(*all) : 0) + 1;
    if ((devs = calloc(cap, sizeof(*devs))) == NULL) {
        devargs_free(addressed, naddr);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    /* In the order given: an address where it stands, unless ids before it took its device. */
    size_t a = 0;
    for (int i = 0; i < argc && r == EXIT_DONE; i++) {
        if (hd_pci_selector_parse(argv[i], &sel) == 0 && sel.kind == HD_SELECTOR_IDS) {
            r = open_ids(t, argv[i], &sel, *all, devs, n);
        } else if (addressed != NULL && a < naddr) {
            if (!opened(devs, *n, addressed[a])) {
                devs[(*n)++] = addressed[a];
                addressed[a] = NULL;
            }
            a++;
        }
    }
    devargs_free(addressed, naddr);
    if (r != EXIT_DONE) {
        devargs_free(devs, *n);
        *n = 0;
        return r;
    }
    *out = devs;
    return EXIT_DONE;
}

void devargs_free(struct hd_device **devs, size_t n)
{
    for (size_t i = 0; devs != NULL && i < n; i++)
        hd_device_unref(devs[i]);
    free(devs);
}

/* Fill @m for @uuid from the kernel: EXIT_USAGE when there is no such mediated device or its
 * sysfs contents are bad input, EXIT_FAILED when it cannot be read. */
static int mdev_arg(struct tool *t, struct hd_mdev_type_list *types, const char *arg,
                    const char *uuid, struct devarg_other *m)
{
    struct hd_mdev_list *l = NULL;
    int e;

    hd_ctx_clear_error(t->ctx);
    if ((e = hd_mdev_list_new_uuid(t->ctx, uuid, &l)) < 0)
        return tool_lib_error(t, tool_exit_for(t), e, "%s", arg);
    m->cap = HD_CAP_MDEV;
    snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
    snprintf(m->name, sizeof(m->name), "%s", uuid);
    snprintf(m->api, sizeof(m->api), "vfio-pci"); /* what nearly all of them are */
    for (size_t k = 0; k < hd_mdev_type_list_count(types); k++) {
        const char *api = hd_mdev_type_list_get_device_api(types, k);
        if (strcmp(hd_mdev_type_list_get_parent(types, k), hd_mdev_list_get_parent(l, 0)) == 0 &&
            strcmp(hd_mdev_type_list_get_id(types, k), hd_mdev_list_get_type(l, 0)) == 0 &&
            api != NULL && (strcmp(api, "vfio-pci") == 0 || strcmp(api, "vfio-ccw") == 0 ||
                            strcmp(api, "vfio-ap") == 0))
            snprintf(m->api, sizeof(m->api), "%s", api);
    }
    hd_mdev_list_unref(l);
    return EXIT_DONE;
}

/* A USB or SCSI device by its node-device name, or USB by ids (usb:VVVV:PPPP[:SERIAL], one
 * device): found as acquire and show find it, a wrong one said in the same words. */
static int node_arg(struct tool *t, struct hd_nodedev_list *l, const char *arg,
                    struct devarg_other *o)
{
    struct hd_nodedev *dev = NULL;
    char name[64], node[80]; /* as show takes them */
    int e;

    hd_ctx_clear_error(t->ctx);
    e = hd_node_device_find(t->ctx, arg, name, sizeof(name), node, sizeof(node));
    /* One with no node a VM could open is still one to describe: its arguments say so. */
    if (e == 0 || hd_ctx_last_reason(t->ctx) == HD_REASON_UNSUPPORTED)
        dev = hd_nodedev_list_find(l, e == 0 ? name : arg);
    if (dev == NULL)
        return tool_lib_error(t, tool_exit_for(t), e < 0 ? e : -ENODEV, "%s", arg);
    const char *keys[4];
    o->cap = hd_nodedev_get_cap(dev);
    snprintf(o->name, sizeof(o->name), "%s", hd_nodedev_get_name(dev));
    hd_nodedev_get_address(dev, keys, o->addr);
    o->vendor = hd_nodedev_get_vendor_id(dev);
    o->product = hd_nodedev_get_product_id(dev);
    o->ids_unique = true;
    for (size_t i = 0; i < hd_nodedev_list_count(l); i++) {
        struct hd_nodedev *d = hd_nodedev_list_get(l, i);
        if (d != dev && hd_nodedev_get_cap(d) == HD_CAP_USB_DEVICE &&
            hd_nodedev_get_vendor_id(d) == o->vendor && hd_nodedev_get_product_id(d) == o->product)
            o->ids_unique = false;
        /* A SCSI device's generic node is the scsi_generic device below it. */
        if (o->cap == HD_CAP_SCSI && hd_nodedev_get_cap(d) == HD_CAP_SCSI_GENERIC &&
            strcmp(hd_nodedev_get_parent(d), o->name) == 0 && hd_nodedev_get_devnode(d))
            snprintf(o->sg, sizeof(o->sg), "%s", hd_nodedev_get_devnode(d));
    }
    return EXIT_DONE;
}

int devargs_open_any(struct tool *t, int argc, char **argv, struct hd_device ***devs,
                     struct devarg_other **others, size_t *n)
{
    struct hd_mdev_type_list *types = NULL;
    struct hd_nodedev_list *nodes = NULL;
    char uuid[37];
    int r = EXIT_DONE, e;

    *devs = NULL;
    *others = NULL;
    *n = 0;
    if (argc < 1)
        return tool_error(t, EXIT_USAGE, "no device given (an address such as 0000:03:00.0, "
                          "a mediated device's UUID, usb_BUS_PORT or scsi_H_B_T_L)");
    *devs = calloc((size_t)argc, sizeof(**devs));
    *others = calloc((size_t)argc, sizeof(**others));
    if (*devs == NULL || *others == NULL) {
        devargs_free_any(*devs, *others, 0);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    /* Syntax first, for all. */
    for (int i = 0; i < argc && r == EXIT_DONE; i++) {
        struct hd_pci_addr a;
        if (hd_mdev_uuid_parse(argv[i], uuid) < 0 && !tool_names_node(argv[i]) &&
            tool_parse_addr(t, argv[i], &a) < 0)
            r = EXIT_USAGE;
    }
    for (int i = 0; i < argc && r == EXIT_DONE; i++) {
        if (hd_mdev_uuid_parse(argv[i], uuid) == 0) {
            if (types == NULL && (e = hd_mdev_type_list_new(t->ctx, &types)) < 0)
                r = tool_lib_error(t, EXIT_FAILED, e, "listing mediated device types");
            else
                r = mdev_arg(t, types, argv[i], uuid, &(*others)[i]);
        } else if (tool_names_node(argv[i])) {
            if (nodes == NULL && (e = hd_nodedev_list_new(t->ctx, 0, &nodes)) < 0)
                r = tool_lib_error(t, EXIT_FAILED, e, "listing node devices");
            else
                r = node_arg(t, nodes, argv[i], &(*others)[i]);
        } else if ((r = tool_open_device(t, argv[i], &(*devs)[i])) == EXIT_DONE) {
            /* A VM's configuration for a bridge would name what no VM can be given. */
            struct hd_device *dev = (*devs)[i];
            if ((e = hd_device_check_endpoint(dev, "it cannot be assigned to a VM")) < 0)
                r = tool_lib_error(t, EXIT_USAGE, e, "%s", hd_device_get_name(dev));
        }
    }
    hd_mdev_type_list_unref(types);
    hd_nodedev_list_unref(nodes);
    if (r == EXIT_DONE)
        r = given_twice(t, *devs, *others, (size_t)argc);
    if (r != EXIT_DONE) {
        devargs_free_any(*devs, *others, (size_t)argc);
        *devs = NULL;
        *others = NULL;
        return r;
    }
    *n = (size_t)argc;
    return EXIT_DONE;
}

void devargs_free_any(struct hd_device **devs, struct devarg_other *others, size_t n)
{
    for (size_t i = 0; devs != NULL && i < n; i++)
        hd_device_unref(devs[i]);
    free(devs);
    free(others);
}

int devargs_open_vm(struct tool *t, const char *vm, struct hd_device ***devs,
                    struct devarg_other **others, size_t *n)
{
    struct hd_assignment_list *held;
    const char **args;
    int nargs = 0, r;

    *devs = NULL;
    *others = NULL;
    *n = 0;
    if ((r = tool_check_vm_id(t, vm)) != EXIT_DONE)
        return r;
    if ((r = hd_assignment_list_new_vm(t->ctx, vm, &held)) < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "reading the assignments");
    args = calloc(hd_assignment_list_count(held) + 1, sizeof(*args));
    if (args == NULL) {
        hd_assignment_list_unref(held);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    /* Names as the command line gives them: an address, a UUID, a node-device name. */
    for (size_t i = 0; i < hd_assignment_list_count(held); i++) {
        const struct hd_assignment *a = hd_assignment_list_get(held, i);
        if (!hd_assignment_is_group_member(a))
            args[nargs++] = hd_assignment_get_name(a);
    }
    if (nargs == 0)
        r = tool_error(t, EXIT_FAILED, "vm %s holds no device%s", vm,
                       hd_assignment_list_count(held) > 0
                           ? " to give its guest (only members of its devices' IOMMU groups)"
                           : "");
    else
        r = devargs_open_any(t, nargs, (char **)args, devs, others, n); /* read only */
    free(args);
    hd_assignment_list_unref(held);
    return r;
}

bool devarg_host_keeps(struct tool *t, const struct devarg_other *o, char *buf, size_t size)
{
    if (o->cap != HD_CAP_USB_DEVICE && o->cap != HD_CAP_SCSI)
        return false;
    bool keeps = hd_node_device_check_host_use(t->ctx, o->name) == -EBUSY;
    if (keeps)
        snprintf(buf, size, "%s", hd_ctx_last_error(t->ctx));
    hd_ctx_clear_error(t->ctx);
    return keeps;
}

bool devarg_vm_would_fail(struct tool *t, struct hd_device *dev, const struct devarg_other *other,
                          bool managed, char *buf, size_t size)
{
    if (dev == NULL)
        return devarg_host_keeps(t, other, buf, size);
    /* On vfio in its no-IOMMU mode: a group that isolates nothing, which QEMU refuses. */
    if (hd_group_number_is_noiommu(t->ctx, hd_device_get_iommu_group(dev))) {
        snprintf(buf, size, "%s is on vfio in its unsafe no-IOMMU mode (/dev/vfio/noiommu-%d): "
                 "QEMU cannot assign a no-IOMMU device to a VM", hd_device_get_name(dev),
                 hd_device_get_iommu_group(dev));
        return true;
    }
    if (hd_device_is_on_vfio(dev))
        return false;
    const char *name = hd_device_get_name(dev);
    const char *driver = hd_device_get_driver(dev) ? hd_device_get_driver(dev) : "unbound";
    struct hd_assign_check *c = NULL;
    const char *keeps = NULL, *use = NULL;
    if (hd_device_check_assign(dev, &dev, 1, NULL, &c) == 0) {
        keeps = hd_assign_check_get_host_keeps(c);
        use = hd_assign_check_get_host_use(c);
    }
    hd_ctx_clear_error(t->ctx);
    bool said = true;
    if (managed && keeps != NULL)
        snprintf(buf, size, "%s is on %s, and libvirt's managed detach would take it from the "
                 "host, which keeps it as %s", name, driver, keeps);
    else if (managed && use != NULL)
        snprintf(buf, size, "%s is on %s, and libvirt's managed detach would take it from the "
                 "host: %s", name, driver, use);
    else if (managed)
        said = false; /* libvirt detaches it at the domain's start, as it may */
    else if (keeps != NULL)
        snprintf(buf, size, "%s is not on vfio-pci (it is %s), and 'hostdev detach' refuses it "
                 "without --force: the host keeps it as %s", name, driver, keeps);
    else if (use != NULL)
        snprintf(buf, size, "%s is not on vfio-pci (it is %s), and 'hostdev detach' refuses it "
                 "without --force: %s", name, driver, use);
    else
        snprintf(buf, size, "%s is not on vfio-pci (it is %s): run 'hostdev detach %s' before "
                 "starting the VM", name, driver, name);
    hd_assign_check_unref(c);
    return said;
}
