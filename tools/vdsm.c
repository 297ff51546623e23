/* vdsm.c - oVirt VDSM's hostdevListByCaps: what VDSM derives from libvirt's node devices. */
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "vdsm.h"
#include "opout.h"

/* One entry of a device's 'params', in VDSM's types: strings, totalvfs an int, address a
 * dict of decimal strings. */
struct param {
    const char *key;
    enum { P_STR, P_INT, P_ADDR } kind;
    const char *str; /* NULL: the value is in buf (entries move when sorted) */
    char buf[40];
    long long num;
    size_t naddr;
    const char *akeys[4];
    char avals[4][24];
};

struct params {
    struct param p[24];
    size_t n;
};

static struct param *add(struct params *ps, const char *key, const char *str)
{
    struct param *p = &ps->p[ps->n++];

    memset(p, 0, sizeof(*p));
    p->key = key;
    p->kind = P_STR;
    p->str = str;
    return p;
}

static void add_fmt(struct params *ps, const char *key, const char *fmt, long long v)
{
    struct param *p = add(ps, key, NULL);

    snprintf(p->buf, sizeof(p->buf), fmt, v);
}

static const char *value(const struct param *p)
{
    return p->str ? p->str : p->buf;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct param *)a)->key, ((const struct param *)b)->key);
}

/* The child of @dev with capability @cap, for VDSM's scsi vendor/product/udev_path. */
static struct hd_nodedev *child_with(const struct hd_nodedev_list *all,
                                     const struct hd_nodedev *dev, enum hd_nodedev_cap cap)
{
    for (size_t i = 0; i < hd_nodedev_list_count(all); i++) {
        struct hd_nodedev *c = hd_nodedev_list_get(all, i);
        const char *parent = hd_nodedev_get_parent(c);
        if (hd_nodedev_get_cap(c) == cap && parent && strcmp(parent, hd_nodedev_get_name(dev)) == 0)
            return c;
    }
    return NULL;
}

static void ids_and_names(struct params *ps, const struct hd_nodedev *d)
{
    if (hd_nodedev_get_vendor_id(d) >= 0)
        add_fmt(ps, "vendor_id", "0x%04llx", hd_nodedev_get_vendor_id(d));
    if (hd_nodedev_get_product_id(d) >= 0)
        add_fmt(ps, "product_id", "0x%04llx", hd_nodedev_get_product_id(d));
    if (hd_nodedev_get_vendor_name(d) != NULL)
        add(ps, "vendor", hd_nodedev_get_vendor_name(d));
    if (hd_nodedev_get_product_name(d) != NULL)
        add(ps, "product", hd_nodedev_get_product_name(d));
}

static void pci_params(struct params *ps, const struct hd_device *pci)
{
    const struct hd_pci_addr *pf = hd_device_get_physfn(pci);
    int group = hd_device_get_iommu_group(pci), numa = hd_device_get_numa_node(pci);

    if (group >= 0)
        add_fmt(ps, "iommu_group", "%lld", group);
    if (numa >= 0)
        add_fmt(ps, "numa_node", "%lld", numa);
    if (pf != NULL) {
        struct param *p = add(ps, "physfn", NULL);
        snprintf(p->buf, sizeof(p->buf), "pci_%04x_%02x_%02x_%x", pf->domain, pf->bus, pf->slot,
                 pf->function);
    }
    if (hd_device_get_sriov_totalvfs(pci) >= 0) {
        struct param *p = add(ps, "totalvfs", NULL);
        p->kind = P_INT;
        p->num = hd_device_get_sriov_totalvfs(pci);
    }
}

/* A USB device the host keeps whatever is asked (a hub, the host's keyboard), as acquire
 * judges it: refused without --force. */
static bool usb_kept_by_host(struct hd_ctx *ctx, struct hd_host_use *hu,
                             const struct hd_nodedev *d)
{
    struct hd_node_check check;

    if (hd_nodedev_get_cap(d) != HD_CAP_USB_DEVICE)
        return false;
    if (hd_node_device_check_assign(ctx, hd_nodedev_get_name(d), NULL, 0, hu, &check) < 0) {
        hd_ctx_clear_error(ctx); /* gone since the listing: listed as VDSM would list it */
        return false;
    }
    return check.host_keeps[0] != '\0';
}

static void collect(struct hd_ctx *ctx, struct hd_host_use *hu, const struct hd_nodedev_list *all,
                    const struct hd_nodedev *d, struct params *ps)
{
    enum hd_nodedev_cap cap = hd_nodedev_get_cap(d);
    struct hd_device *pci = hd_nodedev_get_pci_device(d);
    struct hd_nodedev *c;
    unsigned long vals[4];
    const char *keys[4];
    size_t n;

    ps->n = 0;
    add(ps, "capability", hd_nodedev_cap_to_string(cap));
    /* VDSM's rule (not a bridge, an endpoint's header), and nothing the host keeps (a host
     * bridge, an SMBus controller; a USB hub, the host's keyboard), though VDSM says true for
     * those: oVirt reads the flag only to offer devices for assignment, and acquire refuses
     * them (design.md). */
    add(ps, "is_assignable",
        (pci && (!hd_device_is_assignable(pci) || hd_device_get_platform_role(pci) != NULL)) ||
                usb_kept_by_host(ctx, hu, d)
            ? "false" : "true");
    if (hd_nodedev_get_parent(d) != NULL)
        add(ps, "parent", hd_nodedev_get_parent(d));
    if (hd_nodedev_get_driver(d) != NULL)
        add(ps, "driver", hd_nodedev_get_driver(d));
    if (cap == HD_CAP_PCI || cap == HD_CAP_USB_DEVICE || cap == HD_CAP_STORAGE)
        ids_and_names(ps, d);
    if (cap == HD_CAP_NET && hd_nodedev_get_interface(d) != NULL)
        add(ps, "interface", hd_nodedev_get_interface(d));
    if (cap == HD_CAP_SCSI_GENERIC && hd_nodedev_get_interface(d) != NULL)
        add(ps, "udev_path", hd_nodedev_get_interface(d));
    if (cap == HD_CAP_SCSI) {
        if ((c = child_with(all, d, HD_CAP_STORAGE)) != NULL) {
            if (hd_nodedev_get_vendor_name(c))
                add(ps, "vendor", hd_nodedev_get_vendor_name(c));
            if (hd_nodedev_get_product_name(c))
                add(ps, "product", hd_nodedev_get_product_name(c));
        }
        if ((c = child_with(all, d, HD_CAP_SCSI_GENERIC)) != NULL)
            add(ps, "udev_path", hd_nodedev_get_interface(c));
    }
    if (pci != NULL)
        pci_params(ps, pci);
    if ((n = hd_nodedev_get_address(d, keys, vals)) > 0) {
        struct param *p = add(ps, "address", NULL);
        p->kind = P_ADDR;
        p->naddr = n;
        for (size_t i = 0; i < n; i++) {
            p->akeys[i] = keys[i];
            snprintf(p->avals[i], sizeof(p->avals[i]), "%lu", vals[i]);
        }
    }
    qsort(ps->p, ps->n, sizeof(ps->p[0]), cmp_key);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void json_params(struct json *j, const struct params *ps)
{
    json_begin_object(j);
    for (size_t i = 0; i < ps->n; i++) {
        const struct param *p = &ps->p[i];
        if (p->kind == P_STR) {
            json_kv_string(j, p->key, value(p));
        } else if (p->kind == P_INT) {
            json_kv_int(j, p->key, p->num);
        } else {
            json_key(j, p->key);
            json_begin_object(j);
            for (size_t k = 0; k < p->naddr; k++)
                json_kv_string(j, p->akeys[k], p->avals[k]);
            json_end_object(j);
        }
    }
    json_end_object(j);
}

/* ---- vdsClient's tree: Python reprs, as pprint lays them out ------------------------------ */

/* Python's repr of a str: single quotes unless the text has one and no double quote;
 * backslashes, the quote and control characters escaped. VDSM decodes libvirt's XML with
 * errors='ignore', so bytes that are not UTF-8 are left out. */
static void py_str(FILE *out, const char *s)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';

    fputc(q, out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == (unsigned char)q)
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else if (*p < 0x80)
            fputc(*p, out);
        else {
            /* a valid UTF-8 sequence passes whole (C1 and bidi controls as \uXXXX); a stray
             * byte is dropped */
            size_t n = hd_utf8_len(p);
            if (n == 0)
                continue;
            if (hd_unicode_is_control(hd_utf8_decode(p, n)))
                fprintf(out, "\\u%04lx", hd_utf8_decode(p, n));
            else
                fwrite(p, 1, n, out);
            p += n - 1;
        }
    }
    fputc(q, out);
}

static void py_value(FILE *out, const struct param *p)
{
    if (p->kind == P_STR) {
        py_str(out, value(p));
    } else if (p->kind == P_INT) {
        fprintf(out, "%lld", p->num);
    } else {
        /* pprint sorts dict keys */
        size_t order[4] = {0, 1, 2, 3};
        size_t n = p->naddr < 4 ? p->naddr : 4; /* an address has at most four parts */
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++)
                if (strcmp(p->akeys[order[b]], p->akeys[order[a]]) < 0) {
                    size_t tmp = order[a];
                    order[a] = order[b];
                    order[b] = tmp;
                }
        fputc('{', out);
        for (size_t k = 0; k < n; k++) {
            fprintf(out, "%s", k ? ", " : "");
            py_str(out, p->akeys[order[k]]);
            fputs(": ", out);
            py_str(out, p->avals[order[k]]);
        }
        fputc('}', out);
    }
}

static size_t line_length(const struct params *ps)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return 0;
    for (size_t i = 0; i < ps->n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        py_str(f, ps->p[i].key);
        fputs(": ", f);
        py_value(f, &ps->p[i]);
    }
    fclose(f);
    free(buf);
    return len;
}

/* The VM holding a device, from the assignment map; "" (VDSM's "unassigned") otherwise: a
 * PCI device by address, a USB or SCSI device by its node-device name. Children (net,
 * block...) go with their device in VDSM, as the map records only these. */
static const char *vm_of(const struct hd_assignment_list *map, const struct hd_nodedev *d)
{
    const struct hd_assignment *a = NULL;
    struct hd_device *pci = hd_nodedev_get_pci_device(d);
    char uuid[37];

    if (map == NULL)
        return "";
    if (pci != NULL)
        a = hd_assignment_list_find(map, hd_device_get_addr(pci));
    else if (hd_nodedev_get_cap(d) == HD_CAP_USB_DEVICE || hd_nodedev_get_cap(d) == HD_CAP_SCSI)
        a = hd_assignment_list_find_name(map, hd_nodedev_get_name(d));
    else if (hd_nodedev_get_cap(d) == HD_CAP_MDEV && hd_mdev_uuid_parse(hd_nodedev_get_name(d),
                                                                      uuid) == 0)
        a = hd_assignment_list_find_mdev(map, uuid); /* mdev_<uuid>: held by its UUID */
    return a ? hd_assignment_get_vm(a) : "";
}

/* NAME = {'params': {...}, 'vmId': ''} on one line when it fits in 80 columns, otherwise one
 * key per line aligned as pprint aligns them. */
static void tree_line(const struct hd_nodedev *d, const struct params *ps, int depth,
                      const char *vm)
{
    size_t indent = (size_t)depth * 4, col = indent + strlen(hd_nodedev_get_name(d)) + 3;
    bool one_line =
        col + strlen("{'params': {}, 'vmId': ''}") + strlen(vm) + line_length(ps) <= 80;

    printf("%*s%s = {'params': {", (int)indent, "", hd_nodedev_get_name(d));
    for (size_t i = 0; i < ps->n; i++) {
        if (i > 0)
            printf(one_line ? ", " : ",\n%*s", one_line ? 0 : (int)(col + 12), "");
        py_str(stdout, ps->p[i].key);
        fputs(": ", stdout);
        py_value(stdout, &ps->p[i]);
    }
    if (one_line)
        fputs("}, 'vmId': ", stdout);
    else
        printf("},\n%*s'vmId': ", (int)(col + 1), "");
    py_str(stdout, vm);
    fputs("}\n", stdout);
}

static bool selected(const struct hd_nodedev *d, unsigned int caps)
{
    return caps == 0 || (caps & (1u << hd_nodedev_get_cap(d)));
}

/* What one listing reads once: the devices, the assignment map, the host's use of them. */
struct listing {
    struct hd_ctx *ctx;
    const struct hd_nodedev_list *all;
    const struct hd_assignment_list *map;
    struct hd_host_use *hu;
    unsigned int caps;
};

static void tree_walk(const struct listing *l, const struct hd_nodedev *d, int depth)
{
    struct params ps;

    collect(l->ctx, l->hu, l->all, d, &ps);
    tree_line(d, &ps, depth, vm_of(l->map, d));
    for (size_t i = 0; i < hd_nodedev_list_count(l->all); i++) {
        struct hd_nodedev *c = hd_nodedev_list_get(l->all, i);
        const char *parent = hd_nodedev_get_parent(c);
        if (selected(c, l->caps) && parent && strcmp(parent, hd_nodedev_get_name(d)) == 0)
            tree_walk(l, c, depth + 1);
    }
}

/* A root of the drawing: a selected device whose parent is not drawn. */
static bool is_root(const struct hd_nodedev_list *all, unsigned int caps,
                    const struct hd_nodedev *d)
{
    const char *parent = hd_nodedev_get_parent(d);
    struct hd_nodedev *p = parent ? hd_nodedev_list_find(all, parent) : NULL;

    return p == NULL || !selected(p, caps);
}

int vdsm_list(struct tool *t, unsigned int caps, bool tree)
{
    struct hd_assignment_list *map = NULL;
    struct hd_nodedev_list *all;
    struct hd_host_use *hu = NULL;
    struct params ps;
    struct json j;
    int r;

    hd_ctx_clear_error(t->ctx);
    r = hd_nodedev_list_new(t->ctx, 0, &all);
    if (r < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "cannot list node devices");
    r = hd_assignment_list_new(t->ctx, &map);
    if (r < 0) {
        hd_nodedev_list_unref(all);
        return tool_lib_error(t, tool_exit_for(t), r, "cannot read the assignment map");
    }
    /* Read once for every USB device (without it each reads its own). */
    if ((caps == 0 || (caps & (1u << HD_CAP_USB_DEVICE))) && hd_host_use_new(t->ctx, &hu) < 0)
        hd_ctx_clear_error(t->ctx);
    const struct listing l = {.ctx = t->ctx, .all = all, .map = map, .hu = hu, .caps = caps};
    if (!tree) {
        json_init(&j, stdout, 2);
        json_begin_object(&j);
    }
    for (size_t i = 0; i < hd_nodedev_list_count(all); i++) {
        struct hd_nodedev *d = hd_nodedev_list_get(all, i);
        if (!selected(d, caps))
            continue;
        if (tree) {
            if (is_root(all, caps, d))
                tree_walk(&l, d, 0);
            continue;
        }
        collect(t->ctx, hu, all, d, &ps);
        json_key(&j, hd_nodedev_get_name(d));
        json_begin_object(&j);
        json_key(&j, "params");
        json_params(&j, &ps);
        json_kv_string(&j, "vmId", vm_of(map, d));
        json_end_object(&j);
    }
    if (!tree) {
        json_end_object(&j);
        json_finish(&j);
    }
    hd_host_use_unref(hu);
    hd_assignment_list_unref(map);
    hd_nodedev_list_unref(all);
    return EXIT_DONE;
}
