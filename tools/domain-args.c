/* domain-args.c - `--domain-xml FILE` for acquire and release: the PCI <hostdev> and <interface
 * type='hostdev'> elements of a libvirt domain, split by their managed flag, and its mediated,
 * USB and SCSI devices. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "domain-args.h"

int domain_error(struct tool *t, const char *path, const char *fmt, ...)
{
    char what[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return tool_error(t, EXIT_USAGE, "--domain-xml %s: %s", path, what);
}

/* A USB hostdev with <address bus= device=/>: the device that has that number now, by its
 * node-device name (and the ids, when given, must be its own). */
static int usb_by_address(struct tool *t, const char *path, struct domxml_hostdev *h)
{
    struct hd_nodedev_list *l = NULL;
    const char *found = NULL;
    int r;

    if ((r = hd_nodedev_list_new(t->ctx, 1u << HD_CAP_USB_DEVICE, &l)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "%s: listing USB devices", path);
    for (size_t i = 0; i < hd_nodedev_list_count(l) && found == NULL; i++) {
        struct hd_nodedev *d = hd_nodedev_list_get(l, i);
        const char *keys[4];
        unsigned long v[4];
        char ids[16];
        snprintf(ids, sizeof(ids), "usb:%04x:%04x", (unsigned)hd_nodedev_get_vendor_id(d),
                 (unsigned)hd_nodedev_get_product_id(d));
        if (hd_nodedev_get_address(d, keys, v) == 2 && v[0] == h->usb_bus &&
            v[1] == h->usb_device && (h->node[0] == '\0' || strcmp(h->node, ids) == 0))
            found = hd_nodedev_get_name(d);
    }
    if (found != NULL)
        snprintf(h->node, sizeof(h->node), "%s", found);
    hd_nodedev_list_unref(l);
    if (found == NULL)
        return domain_error(t, path, "no USB device%s%s at bus %lu device %lu",
                            h->node[0] ? " " : "", h->node, h->usb_bus, h->usb_device);
    return EXIT_DONE;
}

int domain_check_interface(struct tool *t, const char *path, const struct domxml_hostdev *h)
{
    struct hd_device *dev = NULL;
    char pci[HD_PCI_ADDR_BUFSZ];
    bool vf;

    if (!h->interface)
        return EXIT_DONE;
    if (hd_device_open_fill(t->ctx, &h->addr, HD_FILL_SRIOV, &dev) < 0) {
        hd_ctx_clear_error(t->ctx); /* the operation opens it again, and says why it cannot */
        return EXIT_DONE;
    }
    vf = hd_device_get_physfn(dev) != NULL;
    hd_device_unref(dev);
    if (vf)
        return EXIT_DONE;
    return domain_error(t, path, "line %d: <interface type='hostdev'> names %s, which is not an "
                        "SR-IOV VF: libvirt takes only VFs there (a <hostdev type='pci'> gives "
                        "any PCI device)", h->line, hd_pci_addr_format(&h->addr, pci));
}

int domain_args_read(struct tool *t, const char *path, const char **vm, struct domain_args *da)
{
    char err[512];
    int r;

    memset(da, 0, sizeof(*da));
    r = domxml_read(path, &da->dom, err, sizeof(err));
    if (r < 0)
        return tool_error(t, r == -ENOTSUP ? EXIT_FAILED : EXIT_USAGE, "--domain-xml %s: %s", path,
                          err);
    if (*vm == NULL)
        *vm = da->dom.name; /* the domain's own <name> */
    if (*vm == NULL) {
        domain_args_free(da);
        return domain_error(t, path, "the domain has no <name>: give --vm ID");
    }
    if (da->dom.count == 0) {
        domain_args_free(da);
        return domain_error(t, path, "no <hostdev> (PCI, mdev, USB or SCSI) or <interface "
                            "type='hostdev'> in the domain");
    }
    da->managed = calloc(da->dom.count, sizeof(*da->managed));
    da->unmanaged = calloc(da->dom.count, sizeof(*da->unmanaged));
    da->all = calloc(da->dom.count, sizeof(*da->all));
    da->mdevs = calloc(da->dom.count, sizeof(*da->mdevs));
    da->nodes = calloc(da->dom.count, sizeof(*da->nodes));
    if (da->managed == NULL || da->unmanaged == NULL || da->all == NULL || da->mdevs == NULL ||
        da->nodes == NULL) {
        domain_args_free(da);
        return tool_error(t, EXIT_FAILED, "out of memory");
    }
    for (size_t i = 0; i < da->dom.count; i++) {
        struct domxml_hostdev *h = &da->dom.hostdevs[i];
        if ((r = domain_check_interface(t, path, h)) != EXIT_DONE) {
            domain_args_free(da);
            return r;
        }
        if (h->mdev[0]) {
            da->mdevs[da->nmdevs++] = h->mdev;
            continue;
        }
        if (h->usb_bus != 0 && (r = usb_by_address(t, path, h)) != EXIT_DONE) {
            domain_args_free(da);
            return r;
        }
        if (h->node[0]) {
            da->nodes[da->nnodes++] = h->node;
            continue;
        }
        da->all[da->nall++] = h->addr;
        if (h->managed)
            da->managed[da->nmanaged++] = h->addr;
        else
            da->unmanaged[da->nunmanaged++] = h->addr;
    }
    return EXIT_DONE;
}

/* The PF's interface and the VF's number on it, for ip(8): "PF" and "N" when they cannot be
 * told (the VF gone, its PF without an interface). */
static void vf_place(struct hd_ctx *ctx, const struct hd_pci_addr *vf, char *pf_if, size_t if_size,
                     char *index, size_t index_size)
{
    struct hd_device *dev = NULL, *pf = NULL;
    struct hd_netif_list *nl = NULL;
    const struct hd_pci_addr *physfn;

    snprintf(pf_if, if_size, "PF");
    snprintf(index, index_size, "N");
    if (hd_device_open(ctx, vf, &dev) < 0 || (physfn = hd_device_get_physfn(dev)) == NULL ||
        hd_device_open(ctx, physfn, &pf) < 0)
        goto out;
    for (size_t i = 0; i < hd_device_get_virtfn_count(pf); i++) {
        if (hd_pci_addr_equal(hd_device_get_virtfn(pf, i), vf))
            snprintf(index, index_size, "%zu", i);
    }
    if (hd_netif_list_new(ctx, &nl) == 0) {
        const char *names = hd_netif_list_get(nl, physfn);
        if (names[0] != '\0') /* its first, when it has several */
            snprintf(pf_if, if_size, "%.*s", (int)strcspn(names, ","), names);
    }
out:
    hd_ctx_clear_error(ctx); /* only a hint: what cannot be read stays a placeholder */
    hd_netif_list_unref(nl);
    hd_device_unref(pf);
    hd_device_unref(dev);
}

bool domain_net_note(struct hd_ctx *ctx, const struct domxml_hostdev *h, char *buf, size_t size)
{
    char mac[32], vlan[64], vport[48], pci[HD_PCI_ADDR_BUFSZ];
    const char *parts[3];
    size_t n = 0, len = 0;
    /* ip(8) gives a VF one port VLAN: a trunk is said in words, never as a command it refuses */
    bool trunk = h->vlan[0] && h->vlan_trunk, one_vlan = h->vlan[0] && !trunk;

    if (!h->interface || (!h->mac[0] && !h->vlan[0] && !h->virtualport[0]))
        return false;
    if (h->mac[0]) {
        snprintf(mac, sizeof(mac), "MAC address %s", h->mac);
        parts[n++] = mac;
    }
    if (one_vlan) {
        snprintf(vlan, sizeof(vlan), "VLAN %s", h->vlan);
        parts[n++] = vlan;
    }
    if (h->virtualport[0]) {
        if (strcmp(h->virtualport, "any") == 0) /* no type: its network gives one */
            snprintf(vport, sizeof(vport), "<virtualport>");
        else
            snprintf(vport, sizeof(vport), "<virtualport type='%s'>", h->virtualport);
        parts[n++] = vport;
    }
    hd_pci_addr_format(&h->addr, pci);
    if (n > 0) {
        len = (size_t)snprintf(buf, size, "%s: hostdev does not set the ", pci);
        for (size_t i = 0; i < n && len < size; i++)
            len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                    i == 0 ? "" : i + 1 < n ? ", " : " and ", parts[i]);
        if (len < size)
            len += (size_t)snprintf(buf + len, size - len, " of its <interface type='hostdev'> "
                                    "(line %d): libvirt sets %s through the VF's PF", h->line,
                                    n > 1 ? "them" : "it");
    }
    /* what ip(8) sets on the PF; a virtualport is the switch's (lldpad, Open vSwitch) */
    if ((h->mac[0] || one_vlan) && len < size) {
        char pf_if[64], index[24];
        vf_place(ctx, &h->addr, pf_if, sizeof(pf_if), index, sizeof(index));
        len += (size_t)snprintf(buf + len, size - len, "; without libvirt, set %s before the "
                                "guest starts: 'ip link set dev %s vf %s%s%s%s%s'",
                                h->mac[0] && one_vlan ? "them" : "it", pf_if, index,
                                h->mac[0] ? " mac " : "", h->mac, one_vlan ? " vlan " : "",
                                one_vlan ? h->vlan : "");
    }
    if (trunk && len < size) {
        if (n > 0)
            len += (size_t)snprintf(buf + len, size - len, "; nor can it set its VLAN trunk %s",
                                    h->vlan);
        else
            len = (size_t)snprintf(buf, size, "%s: hostdev cannot set the VLAN trunk %s of its "
                                   "<interface type='hostdev'> (line %d)", pci, h->vlan, h->line);
        if (len < size)
            snprintf(buf + len, size - len, " on the VF: ip link gives a VF one VLAN, and the "
                     "PF's driver must carry the trunk");
    }
    return true;
}

void domain_args_free(struct domain_args *da)
{
    free(da->managed);
    free(da->unmanaged);
    free(da->all);
    free(da->mdevs);
    free(da->nodes);
    domxml_free(&da->dom);
    memset(da, 0, sizeof(*da));
}
