/* devfilter.c - a listing's device selectors, as lspci and dpdk-devbind users type them. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "devfilter.h"

enum kind { BY_SELECTOR, BY_GLOB, BY_SLOT, BY_IDS };

struct rule {
    enum kind kind;
    const char *text;            /* as typed, for messages */
    struct hd_pci_selector sel;  /* BY_SELECTOR */
    long domain, bus, slot, func; /* BY_SLOT: -1 any */
    long vendor, device, class;   /* BY_IDS: -1 any */
    bool class_is_base;           /* a 2-digit class: the base class alone */
    bool matched;
};

struct devfilter {
    struct rule *v;
    size_t n, cap;
    const char **drivers; /* --driver: these narrow what the rules chose, OR-ed */
    size_t ndrivers;
};

struct devfilter *devfilter_new(void)
{
    return calloc(1, sizeof(struct devfilter));
}

void devfilter_free(struct devfilter *f)
{
    if (f != NULL) {
        free(f->v);
        free(f->drivers);
    }
    free(f);
}

int devfilter_add_driver(struct tool *t, struct devfilter *f, const char *name)
{
    /* No driver has an empty name: a mistake ("--driver $DRV" with DRV unset), not a driver
     * that is not registered. */
    if (name[0] == '\0')
        return tool_error(t, EXIT_USAGE, "--driver '' is empty: a driver's name, or none for "
                          "unbound devices");
    const char **v = realloc(f->drivers, (f->ndrivers + 1) * sizeof(*v));

    if (v == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    f->drivers = v;
    f->drivers[f->ndrivers++] = name;
    return EXIT_DONE;
}

bool devfilter_driver_match(const struct devfilter *f, const struct hd_device *dev)
{
    const char *drv = hd_device_get_driver(dev);

    for (size_t i = 0; i < f->ndrivers; i++) {
        if (drv == NULL ? strcmp(f->drivers[i], "none") == 0 : strcmp(f->drivers[i], drv) == 0)
            return true;
    }
    return f->ndrivers == 0;
}

size_t devfilter_driver_count(const struct devfilter *f)
{
    return f->ndrivers;
}

const char *devfilter_driver(const struct devfilter *f, size_t i)
{
    return f->drivers[i];
}

static struct rule *add(struct devfilter *f, enum kind kind, const char *text)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct rule *v = realloc(f->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        f->v = v;
        f->cap = cap;
    }
    memset(&f->v[f->n], 0, sizeof(f->v[0]));
    f->v[f->n].kind = kind;
    f->v[f->n].text = text;
    return &f->v[f->n++];
}

/* One hex field of at most @digits digits and at most @max; "" and "*" are any (-1). */
static int hex_field(const char *s, size_t len, size_t digits, long max, long *out)
{
    char buf[16], *end;
    unsigned long v;

    if (len == 0 || (len == 1 && s[0] == '*')) {
        *out = -1;
        return 0;
    }
    if (len > digits || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strspn(buf, "0123456789abcdefABCDEF") != len)
        return -EINVAL;
    v = strtoul(buf, &end, 16);
    if (v > (unsigned long)max)
        return -EINVAL;
    *out = (long)v;
    return 0;
}

int devfilter_add_arg(struct tool *t, struct devfilter *f, const char *arg)
{
    struct rule *r;

    if (strpbrk(arg, "*?[") != NULL)
        return add(f, BY_GLOB, arg) ? EXIT_DONE : tool_error(t, EXIT_FAILED, "out of memory");
    if ((r = add(f, BY_SELECTOR, arg)) == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    if (hd_pci_selector_parse(arg, &r->sel) == 0)
        return EXIT_DONE;
    if (tool_netif_addr(t, arg, &r->sel.addr) == 0) {
        r->sel.kind = HD_SELECTOR_ADDR; /* an interface's name */
        return EXIT_DONE;
    }
    return tool_error(t, EXIT_USAGE, "invalid device selector '%s' (expected an address, "
                      "VVVV:DDDD, an interface name or a glob such as 01:00.*)%s", arg,
                      tool_netif_gone_hint(arg));
}

int devfilter_add_slot(struct tool *t, struct devfilter *f, const char *spec)
{
    const char *dot = strchr(spec, '.'), *end = dot ? dot : spec + strlen(spec);
    const char *parts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0}, n = 0;
    struct rule *r = add(f, BY_SLOT, spec);

    if (r == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    r->domain = r->bus = r->slot = r->func = -1;
    /* From the right: SLOT, BUS, DOMAIN. */
    for (const char *p = end;;) {
        const char *colon = p;
        while (colon > spec && colon[-1] != ':')
            colon--;
        if (n == 3)
            goto bad;
        parts[n] = colon;
        lens[n++] = (size_t)(p - colon);
        if (colon == spec)
            break;
        p = colon - 1;
    }
    if ((n > 0 && hex_field(parts[0], lens[0], 2, 0x1f, &r->slot) < 0) ||
        (n > 1 && hex_field(parts[1], lens[1], 2, 0xff, &r->bus) < 0) ||
        (n > 2 && hex_field(parts[2], lens[2], 8, 0x7fffffffL, &r->domain) < 0) ||
        (dot != NULL && hex_field(dot + 1, strlen(dot + 1), 1, 7, &r->func) < 0))
        goto bad;
    return EXIT_DONE;
bad:
    return tool_error(t, EXIT_USAGE, "-s '%s': expected [[[[DOMAIN]:]BUS]:][SLOT][.[FUNC]] "
                      "(hex; '*' or nothing: any)", spec);
}

int devfilter_add_ids(struct tool *t, struct devfilter *f, const char *spec)
{
    const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    struct rule *r = add(f, BY_IDS, spec);
    size_t clen;

    if (r == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    r->class = -1;
    if (c1 == NULL || (c2 != NULL && strchr(c2 + 1, ':') != NULL))
        goto bad;
    if (hex_field(spec, (size_t)(c1 - spec), 4, 0xffff, &r->vendor) < 0 ||
        hex_field(c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1), 4, 0xffff, &r->device) < 0)
        goto bad;
    if (c2 != NULL) {
        clen = strlen(c2 + 1);
        if ((clen != 0 && clen != 2 && clen != 4) ||
            hex_field(c2 + 1, clen, 4, 0xffff, &r->class) < 0)
            goto bad;
        r->class_is_base = clen == 2;
    }
    return EXIT_DONE;
bad:
    return tool_error(t, EXIT_USAGE, "-d '%s': expected [VENDOR]:[DEVICE][:CLASS] (hex; nothing: "
                      "any; CLASS 0300 or 03)", spec);
}

/* A glob over the interfaces' names as well as the address: 'enp3*' means interfaces, as an
 * interface's name does; no address has letters past f, so the two never mix. */
static bool glob_match_ifname(const char *glob, const char *ifnames)
{
    char name[64];

    for (const char *p = ifnames; p != NULL && *p; p += strcspn(p, ","), p += *p == ',') {
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, ","), p);
        if (fnmatch(glob, name, 0) == 0)
            return true;
    }
    return false;
}

static bool rule_match(const struct rule *r, const struct hd_device *dev, const char *ifnames)
{
    const struct hd_pci_addr *a = hd_device_get_addr(dev);
    long class = (long)(hd_device_get_class(dev) >> 8);

    switch (r->kind) {
    case BY_SELECTOR:
        return hd_pci_selector_match(&r->sel, dev);
    case BY_GLOB:
        return fnmatch(r->text, hd_device_get_name(dev), 0) == 0 ||
               fnmatch(r->text, hd_device_get_name(dev) + 5, 0) == 0 || /* without the domain */
               glob_match_ifname(r->text, ifnames);
    case BY_SLOT:
        return (r->domain < 0 || r->domain == (long)a->domain) &&
               (r->bus < 0 || r->bus == a->bus) && (r->slot < 0 || r->slot == a->slot) &&
               (r->func < 0 || r->func == a->function);
    case BY_IDS:
        return (r->vendor < 0 || r->vendor == hd_device_get_vendor_id(dev)) &&
               (r->device < 0 || r->device == hd_device_get_device_id(dev)) &&
               (r->class < 0 || r->class == (r->class_is_base ? class >> 8 : class));
    }
    return false;
}

bool devfilter_match(struct devfilter *f, const struct hd_device *dev, const char *ifnames)
{
    bool any = f->n == 0;

    for (size_t i = 0; i < f->n; i++) {
        if (rule_match(&f->v[i], dev, ifnames))
            any = f->v[i].matched = true;
    }
    return any;
}

const char *devfilter_unmatched_address(const struct devfilter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->v[i].kind == BY_SELECTOR && f->v[i].sel.kind == HD_SELECTOR_ADDR &&
            !f->v[i].matched)
            return f->v[i].text;
    }
    return NULL;
}

const char *devfilter_names(const struct devfilter *f, const struct hd_device *dev)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->v[i].kind == BY_SELECTOR && f->v[i].sel.kind == HD_SELECTOR_ADDR &&
            rule_match(&f->v[i], dev, NULL))
            return f->v[i].text;
    }
    return NULL;
}
