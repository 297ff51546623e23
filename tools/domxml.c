/* domxml.c - libvirt domain XML: read its PCI <hostdev> elements, write one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "domxml.h"

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
static int attr_number(const xmlNode *n, const char *name, unsigned long max, unsigned long *out)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *end;
    int r = -EINVAL;

    if (v != NULL && v[0] != '\0' && v[0] != '-' && v[0] != '+' && v[0] != ' ') {
        errno = 0;
        *out = strtoul((const char *)v, &end, 0);
        if (errno == 0 && *end == '\0' && *out <= max)
            r = 0;
    }
    xmlFree(v);
    return r;
}

static bool attr_is(const xmlNode *n, const char *name, const char *value)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    bool is = v != NULL && strcmp((const char *)v, value) == 0;

    xmlFree(v);
    return is;
}

static int read_hostdev(const xmlNode *h, struct domxml_hostdev *out, char *err, size_t errsize)
{
    const xmlNode *addr = child(child(h, "source"), "address"), *drv = child(h, "driver");
    unsigned long dom, bus, slot, fn;

    memset(out, 0, sizeof(*out));
    if (addr == NULL) {
        snprintf(err, errsize, "line %d: <hostdev type='pci'> has no <source><address>",
                 (int)xmlGetLineNo(h));
        return -EINVAL;
    }
    if (attr_number(addr, "domain", 0xffffffffUL, &dom) < 0)
        dom = 0; /* libvirt defaults the domain to 0 */
    if (attr_number(addr, "bus", 0xff, &bus) < 0 || attr_number(addr, "slot", 0x1f, &slot) < 0 ||
        attr_number(addr, "function", 7, &fn) < 0) {
        snprintf(err, errsize,
                 "line %d: <address> needs bus (0-0xff), slot (0-0x1f) and "
                 "function (0-7)",
                 (int)xmlGetLineNo(addr));
        return -EINVAL;
    }
    out->addr.domain = (uint32_t)dom;
    out->addr.bus = (uint8_t)bus;
    out->addr.slot = (uint8_t)slot;
    out->addr.function = (uint8_t)fn;
    out->managed = attr_is(h, "managed", "yes");
    if (drv != NULL) {
        xmlChar *name = xmlGetProp(drv, (const xmlChar *)"name");
        if (name != NULL)
            snprintf(out->driver, sizeof(out->driver), "%s", (const char *)name);
        xmlFree(name);
    }
    return 0;
}

int domxml_read(const char *path, struct domxml *dom, char *err, size_t errsize)
{
    const xmlNode *root, *devices;
    xmlDoc *doc;
    size_t cap = 0;
    int r = 0;

    memset(dom, 0, sizeof(*dom));
    xmlSetGenericErrorFunc(NULL, quiet);
    doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    if (doc == NULL) {
        const xmlError *e = xmlGetLastError();
        snprintf(err, errsize, "not a readable XML document%s%.200s", e ? ": " : "",
                 e && e->message ? e->message : "");
        err[strcspn(err, "\n")] = '\0';
        return -EINVAL;
    }
    root = xmlDocGetRootElement(doc);
    if (root == NULL || !is_elem(root, "domain")) {
        snprintf(err, errsize, "the root element is not <domain>");
        xmlFreeDoc(doc);
        return -EINVAL;
    }
    if (child(root, "name") != NULL) {
        xmlChar *name = xmlNodeGetContent(child(root, "name"));
        dom->name = name ? strdup((const char *)name) : NULL;
        xmlFree(name);
    }
    devices = child(root, "devices");
    for (const xmlNode *h = devices ? devices->children : NULL; h && r == 0; h = h->next) {
        if (!is_elem(h, "hostdev") || !attr_is(h, "mode", "subsystem") ||
            !attr_is(h, "type", "pci"))
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
        r = read_hostdev(h, &dom->hostdevs[dom->count], err, errsize);
        if (r == 0)
            dom->count++;
    }
    xmlFreeDoc(doc);
    if (r < 0)
        domxml_free(dom);
    return r;
}

void domxml_free(struct domxml *dom)
{
    free(dom->name);
    free(dom->hostdevs);
    memset(dom, 0, sizeof(*dom));
}
