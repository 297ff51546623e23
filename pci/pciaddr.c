/* pciaddr.c - PCI addresses (DDDD:BB:SS.F, BB:SS.F, pci_DDDD_BB_SS_F) and id selectors. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "pci.h"

/* Parse 1..@maxdigits hex digits at *p, advancing it. */
static int take_hex(const char **p, int maxdigits, unsigned long *out)
{
    unsigned long v = 0;
    int n = 0;

    while (isxdigit((unsigned char)**p)) {
        if (++n > maxdigits)
            return -EINVAL;
        char c = (char)tolower((unsigned char)**p);
        v = v * 16 + (unsigned long)(c <= '9' ? c - '0' : c - 'a' + 10);
        (*p)++;
    }
    if (n == 0)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_parts(const char *s, char sep_dom, char sep_bus, char sep_slot,
                       bool domain_optional, struct hd_pci_addr *addr)
{
    unsigned long a, b, c, d;
    const char *p = s;

    if (take_hex(&p, 8, &a) < 0 || *p != sep_dom)
        return -EINVAL;
    size_t first_digits = (size_t)(p - s);
    p++;
    if (take_hex(&p, 2, &b) < 0)
        return -EINVAL;
    if (*p == sep_bus) {
        p++;
        if (take_hex(&p, 2, &c) < 0 || *p != sep_slot)
            return -EINVAL;
        p++;
        if (take_hex(&p, 1, &d) < 0 || *p != '\0')
            return -EINVAL;
    } else if (domain_optional && *p == sep_slot) {
        /* BB:SS.F: what we took as domain and bus are bus and slot. */
        if (first_digits > 2)
            return -EINVAL; /* "0000:1f.7" is neither form */
        d = 0;
        p++;
        if (take_hex(&p, 1, &d) < 0 || *p != '\0')
            return -EINVAL;
        c = b;
        b = a;
        a = 0;
    } else {
        return -EINVAL;
    }
    if (a > 0xffffffffUL || b > 0xff || c > 0x1f || d > 7)
        return -EINVAL;
    addr->domain = (uint32_t)a;
    addr->bus = (uint8_t)b;
    addr->slot = (uint8_t)c;
    addr->function = (uint8_t)d;
    return 0;
}

HD_EXPORT int hd_pci_addr_parse(const char *text, struct hd_pci_addr *addr)
{
    struct hd_pci_addr tmp;
    int r;

    if (text == NULL || addr == NULL)
        return -EINVAL;
    if (strncmp(text, "pci_", 4) == 0)
        r = parse_parts(text + 4, '_', '_', '_', false, &tmp);
    else
        r = parse_parts(text, ':', ':', '.', true, &tmp);
    if (r == 0)
        *addr = tmp;
    return r;
}

HD_EXPORT char *hd_pci_addr_format(const struct hd_pci_addr *addr, char buf[HD_PCI_ADDR_BUFSZ])
{
    /* "%04x:%02x:%02x.%x"; the domain takes up to 8 digits, which HD_PCI_ADDR_BUFSZ allows. */
    char *p = hd_put_hex(buf, addr->domain, 4, false);

    *p++ = ':';
    p = hd_put_hex(p, addr->bus, 2, false);
    *p++ = ':';
    p = hd_put_hex(p, addr->slot, 2, false);
    *p++ = '.';
    p = hd_put_hex(p, addr->function & 0xf, 1, false);
    *p = '\0';
    return buf;
}

HD_EXPORT int hd_pci_addr_compare(const struct hd_pci_addr *a, const struct hd_pci_addr *b)
{
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    if (a->bus != b->bus)
        return a->bus < b->bus ? -1 : 1;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    if (a->function != b->function)
        return a->function < b->function ? -1 : 1;
    return 0;
}

HD_EXPORT bool hd_pci_addr_equal(const struct hd_pci_addr *a, const struct hd_pci_addr *b)
{
    return hd_pci_addr_compare(a, b) == 0;
}

HD_EXPORT int hd_pci_selector_parse(const char *text, struct hd_pci_selector *sel)
{
    unsigned long v, d;
    const char *p = text;

    if (text == NULL || sel == NULL)
        return -EINVAL;
    memset(sel, 0, sizeof(*sel));
    if (hd_pci_addr_parse(text, &sel->addr) == 0) {
        sel->kind = HD_SELECTOR_ADDR;
        return 0;
    }
    /* VVVV:DDDD - exactly four digits each, so it cannot be mistaken for BB:SS.F. */
    if (strlen(text) != 9 || take_hex(&p, 4, &v) < 0 || p != text + 4 || *p != ':')
        return -EINVAL;
    p++;
    if (take_hex(&p, 4, &d) < 0 || *p != '\0')
        return -EINVAL;
    sel->kind = HD_SELECTOR_IDS;
    sel->vendor = (uint16_t)v;
    sel->device = (uint16_t)d;
    return 0;
}

HD_EXPORT bool hd_pci_selector_match(const struct hd_pci_selector *sel, const struct hd_device *dev)
{
    if (sel->kind == HD_SELECTOR_ADDR)
        return hd_pci_addr_equal(&sel->addr, hd_device_get_addr(dev));
    return sel->vendor == hd_device_get_vendor_id(dev) &&
           sel->device == hd_device_get_device_id(dev);
}
