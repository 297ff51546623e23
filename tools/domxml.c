/* domxml.c - libvirt domain XML: read its <hostdev> and <interface type='hostdev'> elements.
 * libxml2 is opened when a document is read (shared/shared.h): it and ICU cost every other
 * command 2 ms of loading. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "shared.h"
#include "domxml.h"

/* The libxml2 functions used here, typed from its headers. */
struct xml_api {
    void *dl;
    __typeof__(xmlReadMemory) *read_memory;
    __typeof__(xmlFreeDoc) *free_doc;
    __typeof__(xmlDocGetRootElement) *root;
    __typeof__(xmlGetLastError) *last_error;
    __typeof__(xmlSetGenericErrorFunc) *set_error_func;
    __typeof__(xmlGetLineNo) *line_no;
    __typeof__(xmlGetProp) *get_prop;
    __typeof__(xmlNodeGetContent) *content;
    xmlFreeFunc *free_var; /* the library's xmlFree variable: what frees what it allocates */
};

static const struct hd_dl_sym xml_syms[] = {
    HD_DL_SYM(struct xml_api, read_memory, xmlReadMemory),
    HD_DL_SYM(struct xml_api, free_doc, xmlFreeDoc),
    HD_DL_SYM(struct xml_api, root, xmlDocGetRootElement),
    HD_DL_SYM(struct xml_api, last_error, xmlGetLastError),
    HD_DL_SYM(struct xml_api, set_error_func, xmlSetGenericErrorFunc),
    HD_DL_SYM(struct xml_api, line_no, xmlGetLineNo),
    HD_DL_SYM(struct xml_api, get_prop, xmlGetProp),
    HD_DL_SYM(struct xml_api, content, xmlNodeGetContent),
    HD_DL_SYM(struct xml_api, free_var, xmlFree),
};

static void xml_free(const struct xml_api *x, void *p)
{
    (*x->free_var)(p);
}

static int xml_load(struct xml_api *x, struct domxml *dom, char *err, size_t errsize)
{
    char why[200];

    memset(dom, 0, sizeof(*dom));
    x->dl = hd_dl_open("libxml2.so.2", xml_syms, sizeof(xml_syms) / sizeof(xml_syms[0]), x, why,
                       sizeof(why));
    if (x->dl == NULL) {
        snprintf(err, errsize, "reading domain XML needs libxml2 (%s)", why);
        return -ENOTSUP;
    }
    return 0;
}

/* libxml2 reports through a global handler; keep its words for our one-line error instead. */
static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static bool is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (is_elem(c, name))
            return c;
    }
    return NULL;
}

/* An attribute as libvirt reads address numbers: decimal, 0x-hex or 0-octal (strtoul base 0). */
static int attr_number(const struct xml_api *x, const xmlNode *n, const char *name,
                       unsigned long max, unsigned long *out)
{
    xmlChar *v = x->get_prop(n, (const xmlChar *)name);
    char *end;
    int r = -EINVAL;

    if (v != NULL && v[0] != '\0' && v[0] != '-' && v[0] != '+' && v[0] != ' ') {
        errno = 0;
        *out = strtoul((const char *)v, &end, 0);
        if (errno == 0 && *end == '\0' && *out <= max)
            r = 0;
    }
    xml_free(x, v);
    return r;
}

static bool attr_is(const struct xml_api *x, const xmlNode *n, const char *name, const char *value)
{
    xmlChar *v = x->get_prop(n, (const xmlChar *)name);
    bool is = v != NULL && strcmp((const char *)v, value) == 0;

    xml_free(x, v);
    return is;
}

/* <hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='...'/>. */
static int read_mdev_hostdev(const struct xml_api *x, const xmlNode *h,
                             struct domxml_hostdev *out, char *err, size_t errsize)
{
    const xmlNode *addr = child(child(h, "source"), "address");
    xmlChar *uuid = addr ? x->get_prop(addr, (const xmlChar *)"uuid") : NULL;
    int r = uuid != NULL ? hd_mdev_uuid_parse((const char *)uuid, out->mdev) : -EINVAL;

    if (r < 0)
        snprintf(err, errsize, "line %d: <hostdev type='mdev'> needs <source><address uuid=...>"
                 " with a UUID", (int)x->line_no(addr ? addr : h));
    xml_free(x, uuid);
    return r;
}

/* <hostdev type='usb'><source><vendor id='0x...'/><product id='0x...'/> (the device with
 * those ids), type='scsi'><source><adapter name='scsi_hostN'/><address bus= target= unit=/>:
 * as hostdev names them (usb:VVVV:PPPP, scsi_H_B_T_L). */
static int read_node_hostdev(const struct xml_api *x, const xmlNode *h,
                             struct domxml_hostdev *out, char *err, size_t errsize)
{
    const xmlNode *src = child(h, "source");
    unsigned long v, p, host, bus, target, unit;

    if (attr_is(x, h, "type", "usb")) {
        const xmlNode *vn = child(src, "vendor"), *pn = child(src, "product");
        const xmlNode *an = child(src, "address");
        bool ids = vn != NULL && pn != NULL && attr_number(x, vn, "id", 0xffff, &v) == 0 &&
                   attr_number(x, pn, "id", 0xffff, &p) == 0;
        /* bus and device: the device number now (libvirt's way to tell equal sticks apart) */
        if (an != NULL && (attr_number(x, an, "bus", 255, &out->usb_bus) < 0 ||
                           attr_number(x, an, "device", 255, &out->usb_device) < 0 ||
                           out->usb_bus == 0 || out->usb_device == 0)) {
            snprintf(err, errsize, "line %d: <address> of a USB device needs bus and device "
                     "(1-255)", (int)x->line_no(an));
            return -EINVAL;
        }
        if (!ids && an == NULL) {
            snprintf(err, errsize, "line %d: <hostdev type='usb'> needs <source> with <vendor "
                     "id=...> and <product id=...>, or <address bus= device=/>",
                     (int)x->line_no(src ? src : h));
            return -EINVAL;
        }
        if (ids)
            snprintf(out->node, sizeof(out->node), "usb:%04lx:%04lx", v, p);
        return 0;
    }
    const xmlNode *ad = child(src, "adapter"), *addr = child(src, "address");
    xmlChar *name = ad ? x->get_prop(ad, (const xmlChar *)"name") : NULL;
    char *end = NULL;
    host = name && strncmp((const char *)name, "scsi_host", 9) == 0
               ? strtoul((const char *)name + 9, &end, 10)
               : 0;
    bool ok = end != NULL && end != (char *)name + 9 && *end == '\0' && host <= 4095 &&
              addr != NULL && attr_number(x, addr, "bus", 7, &bus) == 0 &&
              attr_number(x, addr, "target", 65535, &target) == 0 &&
              attr_number(x, addr, "unit", 65535, &unit) == 0;
    xml_free(x, name);
    if (!ok) {
        snprintf(err, errsize, "line %d: <hostdev type='scsi'> needs <source> with <adapter "
                 "name='scsi_hostN'/> and <address bus= target= unit=/>",
                 (int)x->line_no(src ? src : h));
        return -EINVAL;
    }
    snprintf(out->node, sizeof(out->node), "scsi_%lu_%lu_%lu_%lu", host, bus, target, unit);
    return 0;
}

/* The PCI device of a <hostdev type='pci'> or an <interface type='hostdev'> (@elem, for
 * messages): its <source><address> (there), managed= and <driver>. */
static int read_pci(const struct xml_api *x, const xmlNode *h, const char *elem,
                    struct domxml_hostdev *out, char *err, size_t errsize)
{
    const xmlNode *addr = child(child(h, "source"), "address"), *drv = child(h, "driver");
    unsigned long dom, bus, slot, fn;

    if (attr_number(x, addr, "domain", 0xffffffffUL, &dom) < 0)
        dom = 0; /* libvirt defaults the domain to 0 */
    if (attr_number(x, addr, "bus", 0xff, &bus) < 0 ||
        attr_number(x, addr, "slot", 0x1f, &slot) < 0 ||
        attr_number(x, addr, "function", 7, &fn) < 0) {
        snprintf(err, errsize,
                 "line %d: <address> needs bus (0-0xff), slot (0-0x1f) and "
                 "function (0-7)",
                 (int)x->line_no(addr));
        return -EINVAL;
    }
    out->addr.domain = (uint32_t)dom;
    out->addr.bus = (uint8_t)bus;
    out->addr.slot = (uint8_t)slot;
    out->addr.function = (uint8_t)fn;
    /* libvirt's schema takes yes or no: anything else would be read as "no" in silence. */
    xmlChar *managed = x->get_prop(h, (const xmlChar *)"managed");
    out->managed = managed != NULL && strcmp((const char *)managed, "yes") == 0;
    bool bad = managed != NULL && !out->managed && strcmp((const char *)managed, "no") != 0;
    if (bad)
        snprintf(err, errsize, "line %d: <%s managed='%.40s'>: yes or no", (int)x->line_no(h),
                 elem, (const char *)managed);
    xml_free(x, managed);
    if (bad)
        return -EINVAL;
    if (drv != NULL) {
        xmlChar *name = x->get_prop(drv, (const xmlChar *)"name");
        xmlChar *model = x->get_prop(drv, (const xmlChar *)"model");
        int r = 0;
        if (name != NULL && strcmp((const char *)name, "vfio") != 0) {
            /* kvm and xen are other hypervisors' ways: a VFIO guest cannot use them */
            snprintf(err, errsize, "line %d: <driver name='%.40s'>: only 'vfio' is supported",
                     (int)x->line_no(drv), (const char *)name);
            r = -EINVAL;
        } else if (name != NULL) {
            snprintf(out->driver, sizeof(out->driver), "%s", (const char *)name);
        }
        if (r == 0 && model != NULL && (strlen((const char *)model) >= sizeof(out->model) ||
                                        !hd_driver_is_vfio((const char *)model))) {
            snprintf(err, errsize, "line %d: <driver model='%.40s'>: not a vfio-pci variant "
                     "driver (vfio-pci, mlx5_vfio_pci, ...)", (int)x->line_no(drv),
                     (const char *)model);
            r = -EINVAL;
        } else if (model != NULL) {
            snprintf(out->model, sizeof(out->model), "%s", (const char *)model);
        }
        xml_free(x, name);
        xml_free(x, model);
        return r;
    }
    return 0;
}

static int read_hostdev(const struct xml_api *x, const xmlNode *h, struct domxml_hostdev *out,
                        char *err, size_t errsize)
{
    memset(out, 0, sizeof(*out));
    if (attr_is(x, h, "type", "mdev"))
        return read_mdev_hostdev(x, h, out, err, errsize);
    if (attr_is(x, h, "type", "usb") || attr_is(x, h, "type", "scsi"))
        return read_node_hostdev(x, h, out, err, errsize);
    if (child(child(h, "source"), "address") == NULL) {
        snprintf(err, errsize, "line %d: <hostdev type='pci'> has no <source><address>",
                 (int)x->line_no(h));
        return -EINVAL;
    }
    return read_pci(x, h, "hostdev", out, err, errsize);
}

/* A MAC address as libvirt takes it (six groups of one or two hex digits, ':' between),
 * written back in its usual form (52:54:00:6d:90:02). */
static bool parse_mac(const char *s, char out[18])
{
    unsigned long b[6];
    char *end;

    for (int i = 0; i < 6; i++, s = end + 1) {
        if (!isxdigit((unsigned char)s[0]))
            return false; /* strtoul would take blanks, signs and 0x */
        b[i] = strtoul(s, &end, 16);
        if (end - s > 2 || *end != (i < 5 ? ':' : '\0'))
            return false;
    }
    snprintf(out, 18, "%02lx:%02lx:%02lx:%02lx:%02lx:%02lx", b[0], b[1], b[2], b[3], b[4], b[5]);
    return true;
}

/* An <interface type='hostdev'>'s <mac>, <vlan> and <virtualport>: libvirt sets them through
 * the VF's PF (netlink) before the guest starts. hostdev does not, so they are kept for the
 * tools to say so; malformed ones are refused as libvirt refuses them. */
static int read_net_settings(const struct xml_api *x, const xmlNode *h, struct domxml_hostdev *out,
                             char *err, size_t errsize)
{
    static const char *const vport_types[] = {"802.1Qbg", "802.1Qbh", "openvswitch", "midonet"};
    const xmlNode *mac = child(h, "mac"), *vlan = child(h, "vlan");
    const xmlNode *vport = child(h, "virtualport");
    xmlChar *v = mac ? x->get_prop(mac, (const xmlChar *)"address") : NULL;
    bool ok = v == NULL || parse_mac((const char *)v, out->mac);
    int r = 0;

    if (!ok)
        snprintf(err, errsize, "line %d: <mac address='%.40s'>: not a MAC address "
                 "(52:54:00:6d:90:02)", (int)x->line_no(mac), (const char *)v);
    xml_free(x, v);
    if (!ok)
        return -EINVAL;
    /* a trunk has several tags; an SR-IOV VF takes one, but say what is there */
    for (const xmlNode *c = vlan ? vlan->children : NULL; c; c = c->next) {
        unsigned long id;
        size_t len = strlen(out->vlan);
        if (!is_elem(c, "tag"))
            continue;
        if (attr_number(x, c, "id", 4095, &id) < 0) {
            snprintf(err, errsize, "line %d: <tag> needs id (0-4095)", (int)x->line_no(c));
            return -EINVAL;
        }
        if (len + 7 < sizeof(out->vlan))
            snprintf(out->vlan + len, sizeof(out->vlan) - len, "%s%lu", len ? "," : "", id);
    }
    if (vlan != NULL && out->vlan[0] == '\0') {
        snprintf(err, errsize, "line %d: <vlan> needs a <tag id=.../>", (int)x->line_no(vlan));
        return -EINVAL;
    }
    out->vlan_trunk = vlan != NULL && (strchr(out->vlan, ',') != NULL ||
                                       attr_is(x, vlan, "trunk", "yes"));
    if (vport != NULL) {
        v = x->get_prop(vport, (const xmlChar *)"type");
        snprintf(out->virtualport, sizeof(out->virtualport), "%s", v ? "" : "any");
        for (size_t i = 0; v != NULL && i < sizeof(vport_types) / sizeof(vport_types[0]); i++) {
            if (strcmp((const char *)v, vport_types[i]) == 0)
                snprintf(out->virtualport, sizeof(out->virtualport), "%s", vport_types[i]);
        }
        if (out->virtualport[0] == '\0') {
            snprintf(err, errsize, "line %d: <virtualport type='%.40s'>: 802.1Qbg, 802.1Qbh, "
                     "openvswitch or midonet", (int)x->line_no(vport), (const char *)v);
            r = -EINVAL;
        }
        xml_free(x, v);
    }
    return r;
}

/* <interface type='hostdev' managed='yes'><source><address type='pci' .../>: libvirt's way to
 * give an SR-IOV VF with network settings; as a device, the same as a <hostdev type='pci'>. */
static int read_interface(const struct xml_api *x, const xmlNode *h, struct domxml_hostdev *out,
                          char *err, size_t errsize)
{
    const xmlNode *addr = child(child(h, "source"), "address");
    int r;

    memset(out, 0, sizeof(*out));
    out->interface = true;
    out->line = (int)x->line_no(h);
    /* libvirt takes a USB address here too, but no hypervisor passes a USB NIC this way */
    if (addr == NULL || !attr_is(x, addr, "type", "pci")) {
        snprintf(err, errsize, "line %d: <interface type='hostdev'> needs <source><address "
                 "type='pci' .../>: only PCI devices (SR-IOV VFs) are given this way",
                 (int)x->line_no(addr ? addr : h));
        return -EINVAL;
    }
    if ((r = read_pci(x, h, "interface", out, err, errsize)) < 0)
        return r;
    return read_net_settings(x, h, out, err, errsize);
}

/* No network, no entities expanded, libxml2's own messages kept out of stderr. */
#define DOMXML_PARSE_OPTS (XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR)

/* What domxml_read() and domxml_parse() share: everything after libxml2 made the tree. */
static int read_doc(const struct xml_api *x, xmlDoc *doc, struct domxml *dom, char *err,
                    size_t errsize)
{
    const xmlNode *root, *devices;
    size_t cap = 0;
    int r = 0;

    if (doc == NULL) {
        const xmlError *e = x->last_error();
        snprintf(err, errsize, "not a readable XML document%s%.200s", e ? ": " : "",
                 e && e->message ? e->message : "");
        err[strcspn(err, "\n")] = '\0';
        return -EINVAL;
    }
    root = x->root(doc);
    if (root == NULL || !is_elem(root, "domain")) {
        snprintf(err, errsize, "the root element is not <domain>");
        x->free_doc(doc);
        return -EINVAL;
    }
    if (child(root, "name") != NULL) {
        xmlChar *name = x->content(child(root, "name"));
        dom->name = name ? strdup((const char *)name) : NULL;
        xml_free(x, name);
    }
    devices = child(root, "devices");
    for (const xmlNode *h = devices ? devices->children : NULL; h && r == 0; h = h->next) {
        /* other interfaces (network, bridge, direct, ...) are the host's, not given to a VM */
        bool iface = is_elem(h, "interface") && attr_is(x, h, "type", "hostdev");
        if (!iface && (!is_elem(h, "hostdev") || !attr_is(x, h, "mode", "subsystem") ||
                       (!attr_is(x, h, "type", "pci") && !attr_is(x, h, "type", "mdev") &&
                        !attr_is(x, h, "type", "usb") && !attr_is(x, h, "type", "scsi"))))
            continue;
        if (dom->count == cap) {
            struct domxml_hostdev *g = realloc(dom->hostdevs, (cap ? cap * 2 : 4) * sizeof(*g));
            if (g == NULL) {
                r = -ENOMEM;
                snprintf(err, errsize, "out of memory");
                break;
            }
            dom->hostdevs = g;
            cap = cap ? cap * 2 : 4;
        }
        r = iface ? read_interface(x, h, &dom->hostdevs[dom->count], err, errsize)
                  : read_hostdev(x, h, &dom->hostdevs[dom->count], err, errsize);
        if (r == 0)
            dom->count++;
    }
    x->free_doc(doc);
    if (r < 0)
        domxml_free(dom);
    return r;
}

#define DOMXML_MAX (16u << 20) /* libvirt's own limit for a domain XML is 10 MiB */

/* The whole file, read here rather than by libxml2: a FIFO must not block (opened
 * non-blocking, then refused), nor /dev/zero or a huge file take all memory. */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errsize)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), r = 0;
    struct stat st;
    char *buf = NULL;
    size_t used = 0;

    *text = NULL;
    if (fd < 0) {
        r = -errno;
        snprintf(err, errsize, "%s", strerror(errno));
        return r;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > DOMXML_MAX) {
        r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
        snprintf(err, errsize, "%s", r == -EFBIG ? "larger than 16 MiB: not a domain XML"
                                                 : "not a regular file");
    } else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        r = -ENOMEM;
        snprintf(err, errsize, "out of memory");
    } else {
        ssize_t n;
        while (used < (size_t)st.st_size &&
               ((n = read(fd, buf + used, (size_t)st.st_size - used)) > 0 || errno == EINTR))
            used += n > 0 ? (size_t)n : 0;
        if (used < (size_t)st.st_size) {
            r = -EIO;
            snprintf(err, errsize, "read: %s", strerror(errno));
        }
    }
    close(fd);
    if (r < 0) {
        free(buf);
        return r;
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return 0;
}

int domxml_read(const char *path, struct domxml *dom, char *err, size_t errsize)
{
    char *text;
    size_t len = 0;
    int r = read_file(path, &text, &len, err, errsize);

    if (r < 0) {
        memset(dom, 0, sizeof(*dom));
        return r;
    }
    r = domxml_parse(text, len, dom, err, errsize);
    free(text);
    return r;
}

int domxml_parse(const char *text, size_t len, struct domxml *dom, char *err, size_t errsize)
{
    struct xml_api x;
    int r;

    if (len > (size_t)INT_MAX) {
        memset(dom, 0, sizeof(*dom));
        snprintf(err, errsize, "document too large");
        return -EFBIG;
    }
    if ((r = xml_load(&x, dom, err, errsize)) < 0)
        return r;
    x.set_error_func(NULL, quiet);
    r = read_doc(&x, x.read_memory(text, (int)len, "domain.xml", NULL, DOMXML_PARSE_OPTS), dom, err,
                 errsize);
    hd_dl_close(x.dl);
    return r;
}

void domxml_free(struct domxml *dom)
{
    free(dom->name);
    free(dom->hostdevs);
    memset(dom, 0, sizeof(*dom));
}
