/* export-formats.c - the documents `hostdev export` writes, each in its consumer's own rules:
 * KubeVirt's CR, an NFD feature file, nova.conf's [pci] section, sriovdp's config.json and a
 * node_exporter textfile. Everything comes out sorted, so the same host gives the same bytes. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export.h"
#include "shared.h"

/* ---- shared ------------------------------------------------------------------------------- */

/* Which devices a format advertises: xdev_advertised, or xdev_for_vms for a VM engine. */
typedef bool xdev_pick(const struct xdev *d);

/* Distinct vendor:device pairs of the devices @pick takes, sorted. */
struct ids {
    uint32_t *v; /* vendor << 16 | device */
    size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int advertised_ids(struct tool *t, const struct xmodel *m, xdev_pick *pick,
                          struct ids *ids)
{
    ids->n = 0;
    ids->v = calloc(m->n ? m->n : 1, sizeof(*ids->v));
    if (ids->v == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        if (pick(&m->devs[i]))
            ids->v[ids->n++] = (uint32_t)m->devs[i].vendor << 16 | m->devs[i].device;
    }
    qsort(ids->v, ids->n, sizeof(*ids->v), cmp_u32);
    size_t k = 0;
    for (size_t i = 0; i < ids->n; i++) {
        if (k == 0 || ids->v[k - 1] != ids->v[i])
            ids->v[k++] = ids->v[i];
    }
    ids->n = k;
    return EXIT_DONE;
}

/* The first device @pick takes with these ids (for names and SR-IOV roles). */
static const struct xdev *first_with(const struct xmodel *m, xdev_pick *pick, uint32_t id)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct xdev *d = &m->devs[i];
        if (pick(d) && ((uint32_t)d->vendor << 16 | d->device) == id)
            return d;
    }
    return NULL;
}

/* Comment lines naming the companion functions, each with the device it goes with. */
static void companions_comment(const struct xmodel *m, FILE *out, const char *lead)
{
    bool any = false;

    for (size_t i = 0; i < m->n; i++) {
        const struct xdev *d = &m->devs[i];
        if (d->companion_of == NULL)
            continue;
        if (!any)
            fprintf(out, "%s Companion functions: on vfio-pci with their device, never "
                         "resources of their own\n%s (keep them bound there so the IOMMU group "
                         "stays viable):\n", lead, lead);
        any = true;
        fprintf(out, "%s   %s (%04x:%04x) goes with %s (%04x:%04x)\n", lead, d->name, d->vendor,
                d->device, d->companion_of->name, d->companion_of->vendor,
                d->companion_of->device);
    }
}

/* Comment lines naming the VFs a VM engine is not offered: their PF is on vfio-pci. */
static void vf_token_comment(const struct xmodel *m, FILE *out, const char *lead)
{
    bool any = false;

    for (size_t i = 0; i < m->n; i++) {
        const struct xdev *d = &m->devs[i];
        if (!xdev_advertised(d) || !d->needs_vf_token)
            continue;
        if (!any)
            fprintf(out, "%s Left out: VFs whose PF is on vfio-pci. vfio-pci opens them only with "
                         "the PF's\n%s VF token, which libvirt never passes (\"VF token required "
                         "to access device\"):\n", lead, lead);
        any = true;
        fprintf(out, "%s   %s (%04x:%04x) of %s\n", lead, d->name, d->vendor, d->device,
                d->pf->name);
    }
}

/* Comment lines naming the PFs left out because their VFs are enabled (xdev_pf_with_vfs);
 * the bytes written (NFD counts them against its limit). */
static size_t pf_with_vfs_comment(const struct xmodel *m, FILE *out)
{
    size_t size = 0;
    bool any = false;

    for (size_t i = 0; i < m->n; i++) {
        const struct xdev *d = &m->devs[i];
        if (!d->ready || d->companion_of != NULL || !xdev_pf_with_vfs(d))
            continue;
        if (!any)
            size += (size_t)fprintf(out, "# Left out: PFs whose VFs are enabled. The VFs run on "
                                         "them: a VM given the PF would own\n# the device its "
                                         "VFs depend on (offered again with no VFs: hostdev "
                                         "sriov ADDR 0):\n");
        any = true;
        size += (size_t)fprintf(out, "#   %s (%04x:%04x) with %d VFs\n", d->name, d->vendor,
                                d->device, d->numvfs);
    }
    return size;
}

/* Mediated device types go only to KubeVirt and Nova when a PCI device offers them (a vGPU's
 * GPU): KubeVirt takes an mdev's parent for a PCI address (GetMdevParentPCIAddr, the NUMA node
 * read from /sys/bus/pci/devices/PARENT), and Nova looks for parents among libvirt's PCI node
 * devices only and takes [mdev_TYPE] device_addresses as PCI addresses. A virtual parent (the
 * mtty sample) or an s390 one (css, ap matrix) is named in a comment instead. */
static bool xmdev_offered(const struct xmdev_type *x)
{
    return x->parent != NULL;
}

/* Comment lines naming the mediated device types that @left_out (given @arg) says a format
 * leaves out, each "PARENT TYPE", under @heading (its own "# " lines) when there is any. */
typedef bool type_left_out(const struct xmodel *m, const struct xmdev_type *x, const void *arg);
static void types_comment(const struct xmodel *m, FILE *out, const char *heading,
                          type_left_out *left_out, const void *arg)
{
    bool any = false;

    for (size_t i = 0; i < m->ntypes; i++) {
        const struct xmdev_type *x = &m->types[i];
        if (!left_out(m, x, arg))
            continue;
        if (!any)
            fputs(heading, out);
        any = true;
        fprintf(out, "#   %s %s\n", x->parent_name, x->id);
    }
}

static bool type_not_pci(const struct xmodel *m, const struct xmdev_type *x, const void *arg)
{
    (void)m, (void)arg;
    return !xmdev_offered(x);
}

/* Comment lines naming the types of parents that are not PCI devices. */
static void non_pci_types_comment(const struct xmodel *m, FILE *out)
{
    types_comment(m, out,
                  "# Left out: mediated device types whose parent is not a PCI device (it is "
                  "taken\n# for the PCI address of a GPU):\n",
                  type_not_pci, NULL);
}

/* ---- KubeVirt ----------------------------------------------------------------------------- */

#define NVIDIA_VENDOR 0x10de
#define K8S_NAME_MAX 63

/* A Kubernetes name part: at most 63 characters of [-A-Za-z0-9_.], alphanumeric at both ends. */
static bool k8s_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > K8S_NAME_MAX || !isalnum((unsigned char)s[0]) ||
        !isalnum((unsigned char)s[n - 1]))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* NVIDIA's KubeVirt GPU device plugin names a device's resource after its pci.ids name:
 * upper case, '/' and '.' as '_', each run of blanks one '_', anything else not [A-Z0-9_]
 * dropped. The same name here lets externalResourceProvider: true hand the device to that
 * plugin. Empty when there is no name or the result is not a valid Kubernetes name. */
static void nvidia_name(const char *product, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    if (product == NULL)
        return;
    while (isspace((unsigned char)*product))
        product++;
    for (const char *p = product; *p != '\0' && n + 1 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c)) {
            const char *q = p;
            while (isspace((unsigned char)q[1]))
                q++;
            if (q[1] == '\0')
                break; /* trailing blanks are trimmed, not turned into '_' */
            buf[n++] = '_';
            p = q;
        } else if (c == '/' || c == '.') {
            buf[n++] = '_';
        } else if (isalnum(c) || c == '_') {
            buf[n++] = (char)toupper(c);
        }
    }
    buf[n] = '\0';
    if (!k8s_name_valid(buf))
        buf[0] = '\0';
}

static void resource_name(const struct xdev *d, const char *prefix, char *buf, size_t size)
{
    char nv[128];

    if (d->vendor == NVIDIA_VENDOR) {
        nvidia_name(d->product, nv, sizeof(nv));
        if (nv[0] != '\0') {
            snprintf(buf, size, "nvidia.com/%s", nv);
            return;
        }
    }
    snprintf(buf, size, "%s/%04x_%04x", prefix, d->vendor, d->device);
}

/* The longest mdevNameSelector hostdev writes or merges. */
#define KV_SELECTOR_MAX 128

/* One entry of permittedHostDevices: a pciHostDevices one (by vendor:device) or a
 * mediatedDevices one (by mdev type name); this host's, or read from another host's export
 * (--merge). */
struct kv_entry {
    bool mdev;
    uint32_t id;                    /* pci: vendor << 16 | device */
    char selector[KV_SELECTOR_MAX]; /* mdev: the mdevNameSelector as written */
    char name[192];
    bool external; /* externalResourceProvider: true */
    const char *from; /* the file it was read from, NULL for this host */
    unsigned line;
};

struct kv_list {
    struct kv_entry *v;
    size_t n, cap;
};

/* KubeVirt compares mdev type names with each blank made '_' (removeSelectorSpaces: the
 * type's name "GRID T4-1Q" and the selector "GRID_T4-1Q" are one). */
static int cmp_selector(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = *a == ' ' ? '_' : (unsigned char)*a;
        unsigned char y = *b == ' ' ? '_' : (unsigned char)*b;
        if (x != y || x == '\0')
            return x < y ? -1 : x > y;
    }
}

static int cmp_entry(const void *a, const void *b)
{
    const struct kv_entry *x = a, *y = b;

    return x->mdev ? cmp_selector(x->selector, y->selector) : cmp_u32(&x->id, &y->id);
}

/* A selector hostdev can write between double quotes and read back: printable ASCII without
 * quotes or backslashes (NVIDIA's and Intel's type names are). */
static bool mdev_selector_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= KV_SELECTOR_MAX)
        return false;
    for (; *s != '\0'; s++) {
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    }
    return true;
}

/* A resource name as Kubernetes takes one for an extended resource: DOMAIN/NAME. */
static bool resource_name_valid(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/");
    const char *slash = strchr(s, '/');

    return n < sizeof(((struct kv_entry *)0)->name) && s[n] == '\0' && slash != NULL &&
           slash != s && slash[1] != '\0' && strchr(slash + 1, '/') == NULL;
}

/* What KubeVirt selects @x by: its name attribute, or its id when it has none (KubeVirt
 * reads mdev_type/name, else the type's directory). */
static const char *mdev_selector(const struct xmdev_type *x)
{
    return x->name != NULL ? x->name : x->id;
}

/* @x's entry: selected by its name, its resource named as NVIDIA's KubeVirt GPU device plugin
 * names a vGPU (nvidia.com/ and the name, blanks as '_': "nvidia.com/GRID_T4-1Q"), on other
 * vendors' parents with the prefix. False when the name can be neither. */
static bool mdev_entry(const struct xmdev_type *x, const char *prefix, struct kv_entry *e)
{
    const char *sel = mdev_selector(x);
    char part[KV_SELECTOR_MAX];

    memset(e, 0, sizeof(*e));
    e->mdev = true;
    if (!mdev_selector_valid(sel))
        return false;
    strcpy(e->selector, sel);
    strcpy(part, sel);
    for (char *c = part; *c != '\0'; c++)
        *c = *c == ' ' ? '_' : *c;
    if (!k8s_name_valid(part))
        return false;
    snprintf(e->name, sizeof(e->name), "%s/%s",
             x->parent->vendor == NVIDIA_VENDOR ? "nvidia.com" : prefix, part);
    return resource_name_valid(e->name);
}

/* @x is a PCI parent's type with no name KubeVirt can select (@prefix: the resource names'). */
static bool type_unnamed(const struct xmodel *m, const struct xmdev_type *x, const void *prefix)
{
    struct kv_entry e;

    (void)m;
    return xmdev_offered(x) && !mdev_entry(x, prefix, &e);
}

/* Comment lines naming the PCI parents' types that have no name KubeVirt can select. */
static void unnamed_types_comment(const struct xmodel *m, const char *prefix, FILE *out)
{
    types_comment(m, out,
                  "# Left out: mediated device types whose name is no mdevNameSelector or "
                  "resource name\n# (printable, no quotes, at most 63 characters of "
                  "[A-Za-z0-9 _.-]):\n",
                  type_unnamed, prefix);
}

/* What an entry selects, for messages: 10DE:1EB8 or mdev type "GRID T4-1Q". */
static void kv_what(const struct kv_entry *e, char *buf, size_t size)
{
    if (e->mdev)
        snprintf(buf, size, "mdevNameSelector \"%s\"", e->selector);
    else
        snprintf(buf, size, "%04X:%04X", e->id >> 16, e->id & 0xffff);
}

/* Add @e, or find it there: the same selector must carry the same resource, as KubeVirt keeps
 * only the last of duplicates. */
static int kv_add(struct tool *t, struct kv_list *l, const struct kv_entry *e)
{
    for (size_t i = 0; i < l->n; i++) {
        struct kv_entry *x = &l->v[i];
        char what[KV_SELECTOR_MAX + 32];
        if (cmp_entry(x, e) != 0)
            continue;
        if (strcmp(x->name, e->name) != 0) {
            kv_what(e, what, sizeof(what));
            return tool_error(t, EXIT_USAGE, "%s:%u: %s is \"%s\" there but \"%s\" %s%s "
                              "(KubeVirt keeps one resource a selector: use one --resource-prefix "
                              "everywhere)", e->from, e->line, what, e->name, x->name,
                              x->from ? "in " : "on this host", x->from ? x->from : "");
        }
        x->external = x->external || e->external;
        return EXIT_DONE;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct kv_entry *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return tool_error(t, EXIT_FAILED, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *e;
    return EXIT_DONE;
}

/* VVVV:DDDD, four hex digits each, as KubeVirt's selector is written. */
static int parse_selector(const char *s, uint32_t *id)
{
    static const char hex[] = "0123456789abcdefABCDEF";
    unsigned long long vendor, device;
    char v[5];

    if (strlen(s) != 9 || strspn(s, hex) != 4 || s[4] != ':' || strspn(s + 5, hex) != 4)
        return -EINVAL;
    memcpy(v, s, 4);
    v[4] = '\0';
    if (hd_parse_uint(v, 16, 0xffff, &vendor) < 0 || hd_parse_uint(s + 5, 16, 0xffff, &device) < 0)
        return -EINVAL;
    *id = (uint32_t)(vendor << 16 | device);
    return 0;
}

/* @s without its surrounding quotes, when it has a matching pair. */
static char *unquote(char *s)
{
    size_t n = strlen(s);

    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s[n - 1] = '\0';
        return s + 1;
    }
    return s;
}

/* This host's entries and the merged ones, each list sorted by its selector. */
struct kv_doc {
    struct kv_list pci, mdev;
};

/* The entry read so far is whole: its selector and its resource. */
static int kv_close(struct tool *t, struct kv_doc *d, struct kv_entry *e, bool *open)
{
    if (!*open)
        return EXIT_DONE;
    *open = false;
    if (e->mdev && (e->selector[0] == '\0' || e->name[0] == '\0'))
        return tool_error(t, EXIT_USAGE, "%s:%u: a mediatedDevices entry needs an "
                          "mdevNameSelector and a resourceName", e->from, e->line);
    if (!e->mdev && (e->id == UINT32_MAX || e->name[0] == '\0'))
        return tool_error(t, EXIT_USAGE, "%s:%u: a pciHostDevices entry needs a "
                          "pciVendorSelector and a resourceName", e->from, e->line);
    return kv_add(t, e->mdev ? &d->mdev : &d->pci, e);
}

/* The pciHostDevices and mediatedDevices entries of another host's `export --format kubevirt`
 * (as written, or with externalResourceProvider set by hand). Anything else in the file is
 * refused: entries it would drop (usb) must not vanish from the CR in silence. */
static int kv_read(struct tool *t, const char *path, struct kv_doc *d)
{
    static const char *const skipped[] = {"apiVersion", "kind", "metadata", "name", "namespace",
                                          "spec", "configuration", "permittedHostDevices"};
    enum { NONE, PCI, MDEV } list = NONE;
    FILE *f = fopen(path, "re");
    struct kv_entry e = {0};
    bool open = false, seen = false;
    char *line = NULL;
    size_t size = 0;
    unsigned no = 0;
    size_t item_indent = 0;
    int r = EXIT_DONE;

    struct stat st;

    if (f == NULL)
        return tool_error(t, errno == ENOENT ? EXIT_USAGE : EXIT_FAILED, "--merge %s: %s", path,
                          strerror(errno));
    if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
        fclose(f);
        return tool_error(t, EXIT_USAGE, "--merge %s: not a file", path);
    }
    while (r == EXIT_DONE && getline(&line, &size, f) >= 0) {
        char *s = line, *value, *end = line + strlen(line);
        size_t indent = strspn(line, " ");
        bool item;
        no++;
        while (end > s && isspace((unsigned char)end[-1]))
            *--end = '\0';
        s += indent;
        if (*s == '\0' || *s == '#')
            continue;
        /* An entry's keys sit deeper than its '-': anything else ends the list, and only the
         * other list may follow. */
        if (open && indent <= item_indent && strncmp(s, "- ", 2) != 0) {
            if ((r = kv_close(t, d, &e, &open)) != EXIT_DONE)
                break;
            list = NONE;
        }
        if ((item = strncmp(s, "- ", 2) == 0))
            s += 2 + strspn(s + 2, " ");
        if ((value = strchr(s, ':')) == NULL) {
            r = tool_error(t, EXIT_USAGE, "%s:%u: not a line of a KubeVirt CR", path, no);
            break;
        }
        *value++ = '\0';
        value = unquote(value + strspn(value, " "));
        if (!item && !open) {
            bool known = strcmp(s, "pciHostDevices") == 0 || strcmp(s, "mediatedDevices") == 0;
            for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]) && !known && !seen; i++)
                known = strcmp(s, skipped[i]) == 0;
            if (!known) {
                r = tool_error(t, EXIT_USAGE, "%s:%u: '%s': only the pciHostDevices and "
                               "mediatedDevices of an export --format kubevirt are merged", path,
                               no, s);
                break;
            }
            if (strcmp(s, "pciHostDevices") == 0 || strcmp(s, "mediatedDevices") == 0) {
                list = s[0] == 'p' ? PCI : MDEV;
                seen = true;
            }
            continue;
        }
        if (item) {
            if (list == NONE) {
                r = tool_error(t, EXIT_USAGE, "%s:%u: a list item outside pciHostDevices and "
                               "mediatedDevices", path, no);
                break;
            }
            if ((r = kv_close(t, d, &e, &open)) != EXIT_DONE)
                break;
            e = (struct kv_entry){.mdev = list == MDEV, .id = UINT32_MAX, .from = path,
                                  .line = no};
            open = true;
            item_indent = indent;
        }
        if (!e.mdev && strcmp(s, "pciVendorSelector") == 0) {
            if (parse_selector(value, &e.id) < 0) {
                r = tool_error(t, EXIT_USAGE, "%s:%u: pciVendorSelector '%s': not VVVV:DDDD",
                               path, no, value);
                break;
            }
        } else if (e.mdev && strcmp(s, "mdevNameSelector") == 0) {
            if (!mdev_selector_valid(value)) {
                r = tool_error(t, EXIT_USAGE, "%s:%u: mdevNameSelector '%s': not a type name "
                               "(printable, no quotes or backslashes)", path, no, value);
                break;
            }
            strcpy(e.selector, value);
        } else if (strcmp(s, "resourceName") == 0) {
            if (!resource_name_valid(value)) {
                r = tool_error(t, EXIT_USAGE, "%s:%u: resourceName '%s': not DOMAIN/NAME", path,
                               no, value);
                break;
            }
            strcpy(e.name, value);
        } else if (strcmp(s, "externalResourceProvider") == 0 &&
                   (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)) {
            e.external = strcmp(value, "true") == 0;
        } else {
            r = tool_error(t, EXIT_USAGE, "%s:%u: '%s: %s' is not part of a %s entry hostdev "
                           "merges", path, no, s, value,
                           e.mdev ? "mediatedDevices" : "pciHostDevices");
            break;
        }
    }
    if (r == EXIT_DONE && ferror(f))
        r = tool_error(t, EXIT_FAILED, "--merge %s: %s", path, strerror(errno));
    if (r == EXIT_DONE)
        r = kv_close(t, d, &e, &open);
    if (r == EXIT_DONE && !seen)
        r = tool_error(t, EXIT_USAGE, "--merge %s: no pciHostDevices: not an export --format "
                       "kubevirt", path);
    free(line);
    fclose(f);
    return r;
}

static void kv_write_external(const struct kv_entry *e, FILE *out)
{
    if (e->external)
        fputs("          externalResourceProvider: true\n", out);
}

int export_kubevirt(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out)
{
    struct kv_doc d = {0};
    struct ids ids;
    int r;

    if ((r = advertised_ids(t, m, xdev_for_vms, &ids)) != EXIT_DONE)
        return r;
    for (size_t i = 0; i < ids.n && r == EXIT_DONE; i++) {
        struct kv_entry e = {.id = ids.v[i]};
        resource_name(first_with(m, xdev_for_vms, ids.v[i]), o->prefix, e.name, sizeof(e.name));
        r = kv_add(t, &d.pci, &e);
    }
    free(ids.v);
    /* One entry a type name: the same type on two GPUs is one selector. */
    for (size_t i = 0; i < m->ntypes && r == EXIT_DONE; i++) {
        struct kv_entry e;
        if (xmdev_offered(&m->types[i]) && mdev_entry(&m->types[i], o->prefix, &e))
            r = kv_add(t, &d.mdev, &e);
    }
    for (size_t i = 0; i < o->nmerge && r == EXIT_DONE; i++)
        r = kv_read(t, o->merge[i], &d);
    if (r != EXIT_DONE) {
        free(d.pci.v);
        free(d.mdev.v);
        return r;
    }
    if (d.pci.n > 0)
        qsort(d.pci.v, d.pci.n, sizeof(*d.pci.v), cmp_entry);
    if (d.mdev.n > 0)
        qsort(d.mdev.v, d.mdev.n, sizeof(*d.mdev.v), cmp_entry);
    fputs("# KubeVirt: the PCI devices this host has ready for passthrough (hostdev export):\n"
          "# bound to vfio-pci, their IOMMU groups viable. One selector per vendor:device\n"
          "# (KubeVirt keeps only the last of duplicates). And the mediated device types\n"
          "# (vGPUs) its PCI devices offer, one selector per type name: KubeVirt assigns the\n"
          "# mediated devices made of them (hostdev mdev create).\n"
          "# permittedHostDevices take effect only with the HostDevices feature gate: add it to\n"
          "# spec.configuration.developerConfiguration.featureGates.\n"
          "# NVIDIA devices are named as NVIDIA's KubeVirt GPU device plugin names them; with\n"
          "# that plugin deployed, set externalResourceProvider: true on their entries.\n",
          out);
    for (size_t i = 0; i < o->nmerge; i++)
        fprintf(out, "%s %s\n", i == 0 ? "# With the devices of the other hosts' exports:" : "#  ",
                o->merge[i]);
    companions_comment(m, out, "#");
    pf_with_vfs_comment(m, out);
    vf_token_comment(m, out, "#");
    non_pci_types_comment(m, out);
    unnamed_types_comment(m, o->prefix, out);
    fputs("apiVersion: kubevirt.io/v1\n"
          "kind: KubeVirt\n"
          "metadata:\n"
          "  name: kubevirt\n"
          "  namespace: kubevirt\n"
          "spec:\n"
          "  configuration:\n"
          "    permittedHostDevices:\n",
          out);
    fprintf(out, "      pciHostDevices:%s\n", d.pci.n == 0 ? " []" : "");
    for (size_t i = 0; i < d.pci.n; i++) {
        fprintf(out, "        - pciVendorSelector: \"%04X:%04X\"\n", d.pci.v[i].id >> 16,
                d.pci.v[i].id & 0xffff);
        fprintf(out, "          resourceName: \"%s\"\n", d.pci.v[i].name);
        kv_write_external(&d.pci.v[i], out);
    }
    /* Written only when there are some: a host without vGPUs exports what it did before. */
    if (d.mdev.n > 0)
        fputs("      mediatedDevices:\n", out);
    for (size_t i = 0; i < d.mdev.n; i++) {
        fprintf(out, "        - mdevNameSelector: \"%s\"\n", d.mdev.v[i].selector);
        fprintf(out, "          resourceName: \"%s\"\n", d.mdev.v[i].name);
        kv_write_external(&d.mdev.v[i], out);
    }
    free(d.pci.v);
    free(d.mdev.v);
    return EXIT_DONE;
}

/* ---- Node Feature Discovery ----------------------------------------------------------------- */

#define NFD_PREFIX "hostdev.feature.node.kubernetes.io/"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Label names: address "0000:03:00.0" -> "0000_03_00.0" (no ':' in a label name). */
static void label_addr(const char *addr, char *buf, size_t size)
{
    size_t n = 0;

    for (; *addr != '\0' && n + 1 < size; addr++)
        buf[n++] = *addr == ':' ? '_' : *addr;
    buf[n] = '\0';
}

int export_nfd(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out)
{
    char **lines = calloc(2 * m->n + 2, sizeof(*lines)), when[32];
    size_t n = 0, size = 0;
    struct ids ids;
    struct tm tm;
    int r = EXIT_DONE;

    if (lines == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    if ((r = advertised_ids(t, m, xdev_advertised, &ids)) != EXIT_DONE) {
        free(lines);
        return r;
    }
#define LINE(...)                                                                              \
    do {                                                                                       \
        if (asprintf(&lines[n], __VA_ARGS__) < 0) {                                            \
            lines[n] = NULL;                                                                   \
            r = tool_error(t, EXIT_FAILED, "out of memory");                                   \
            goto out;                                                                          \
        }                                                                                      \
        n++;                                                                                   \
    } while (0)
    LINE(NFD_PREFIX "iommu-usable=%s", m->iommu_usable ? "true" : "false");
    for (size_t i = 0; i < ids.n; i++) {
        unsigned count = 0;
        for (size_t k = 0; k < m->n; k++) {
            const struct xdev *d = &m->devs[k];
            count += xdev_advertised(d) && ((uint32_t)d->vendor << 16 | d->device) == ids.v[i];
        }
        LINE(NFD_PREFIX "vfio-%04x_%04x=%u", ids.v[i] >> 16, ids.v[i] & 0xffff, count);
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct xdev *d = &m->devs[i];
        char a[24];
        if (!d->is_pf)
            continue;
        label_addr(d->name, a, sizeof(a));
        LINE(NFD_PREFIX "sriov-%s.numvfs=%d", a, d->numvfs < 0 ? 0 : d->numvfs);
        LINE(NFD_PREFIX "sriov-%s.totalvfs=%d", a, d->totalvfs);
    }
#undef LINE
    qsort(lines, n, sizeof(*lines), cmp_str);
    /* The directive comes first: NFD applies it to the lines after it. */
    if (gmtime_r(&o->expiry, &tm) == NULL ||
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        r = tool_error(t, EXIT_USAGE, "--expiry: the time is out of range");
        goto out;
    }
    size += (size_t)fprintf(out, "# +expiry-time=%s\n", when);
    size += (size_t)fprintf(out, "# hostdev export: devices ready for passthrough (vfio-pci, "
                                 "viable IOMMU group) by vendor_device, SR-IOV VF counts\n");
    size += pf_with_vfs_comment(m, out);
    for (size_t i = 0; i < n; i++)
        size += (size_t)fprintf(out, "%s\n", lines[i]);
    /* NFD ignores a larger file whole: better no file than labels that silently vanish. */
    if (size > NFD_MAX_FILE_SIZE)
        r = tool_error(t, EXIT_FAILED, "the feature file would be %zu bytes; NFD reads at most "
                       "%d", size, NFD_MAX_FILE_SIZE);
out:
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(ids.v);
    return r;
}

/* ---- Nova --------------------------------------------------------------------------------- */

static const char *nova_device_type(const struct xdev *d)
{
    return d->is_vf ? "type-VF" : d->is_pf ? "type-PF" : "type-PCI";
}

/* A type id Nova can list and name a section after ([mdev_nvidia-35]): the ids drivers give
 * ([A-Za-z0-9_.-]); a ',' would split it, a ']' end the section's name. */
bool nova_type_id_valid(const char *id)
{
    return id[0] != '\0' &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
               strlen(id);
}

/* How Nova's type for a parent is picked (lower first; -1: never): with --mdev-type, the first
 * of those the parent offers; else the type the parent has made mediated devices of (its
 * vGPUs run that type, and NVIDIA's GPUs make one type at a time), else one it can still make
 * instances of (available_instances: the kernel says which types another type's vGPUs
 * exclude), else the first it offers. */
static int nova_type_rank(const struct xopts *o, const struct xmdev_type *x)
{
    if (!xmdev_offered(x) || !nova_type_id_valid(x->id))
        return -1;
    if (o->nmdev_types > 0) {
        for (size_t i = 0; i < o->nmdev_types; i++) {
            if (strcmp(o->mdev_types[i], x->id) == 0)
                return (int)i;
        }
        return -1;
    }
    return x->made > 0 ? 0 : x->available > 0 ? 1 : 2;
}

/* Whether @x is the type Nova is given for its parent: Nova takes one type a parent (an
 * address in two types' device_addresses stops nova-compute). */
static bool nova_type_chosen(const struct xmodel *m, const struct xopts *o,
                             const struct xmdev_type *x)
{
    int rank = nova_type_rank(o, x);

    if (rank < 0)
        return false;
    for (const struct xmdev_type *y = m->types; y < m->types + m->ntypes; y++) {
        int other = y->parent == x->parent ? nova_type_rank(o, y) : -1;
        if (other >= 0 && (other < rank || (other == rank && y < x)))
            return false;
    }
    return true;
}

/* Whether @x is the first chosen type of its id (a type on two GPUs is listed once). */
static bool nova_type_first(const struct xmodel *m, const struct xopts *o,
                            const struct xmdev_type *x)
{
    if (!nova_type_chosen(m, o, x))
        return false;
    for (const struct xmdev_type *y = m->types; y < x; y++) {
        if (nova_type_chosen(m, o, y) && strcmp(y->id, x->id) == 0)
            return false;
    }
    return true;
}

/* @x is a PCI parent's type besides the one Nova is given (@o: the options). */
static bool type_not_for_nova(const struct xmodel *m, const struct xmdev_type *x, const void *o)
{
    return xmdev_offered(x) && !nova_type_chosen(m, o, x);
}

/* Comment lines naming the types a parent offers besides the one Nova is given, and the
 * --mdev-type no PCI parent offers. */
static void nova_other_types_comment(const struct xmodel *m, const struct xopts *o, FILE *out)
{
    types_comment(m, out,
                  "# Not given to Nova: a parent's other mediated device types (Nova takes one "
                  "type a\n# parent: the one its vGPUs have, else one it can make, else its "
                  "first; choose\n# with --mdev-type):\n",
                  type_not_for_nova, o);
    for (size_t i = 0; i < o->nmdev_types; i++) {
        bool offered = false;
        for (size_t k = 0; k < m->ntypes && !offered; k++)
            offered = xmdev_offered(&m->types[k]) &&
                      strcmp(m->types[k].id, o->mdev_types[i]) == 0;
        if (!offered)
            fprintf(out, "# --mdev-type %s: no PCI device offers it\n", o->mdev_types[i]);
    }
}

/* [devices] enabled_mdev_types, and with more than one type the [mdev_TYPE] device_addresses
 * sections that tell Nova which parent offers which (without them it uses the first type
 * only). Xena (24) renamed enabled_vgpu_types and [vgpu_TYPE]; older releases know only those. */
static void nova_mdev_types(const struct xmodel *m, const struct xopts *o, FILE *out)
{
    bool mdev_names = o->nova_release >= 24;
    size_t ntypes = 0;

    for (size_t i = 0; i < m->ntypes; i++)
        ntypes += nova_type_first(m, o, &m->types[i]);
    if (ntypes == 0)
        return;
    fprintf(out, "[devices]\n%s = ", mdev_names ? "enabled_mdev_types" : "enabled_vgpu_types");
    for (size_t i = 0, k = 0; i < m->ntypes; i++) {
        if (nova_type_first(m, o, &m->types[i]))
            fprintf(out, "%s%s", k++ ? ", " : "", m->types[i].id);
    }
    fputc('\n', out);
    if (ntypes == 1)
        return; /* the one type goes to every parent that offers it */
    for (size_t i = 0; i < m->ntypes; i++) {
        const struct xmdev_type *x = &m->types[i];
        if (!nova_type_first(m, o, x))
            continue;
        fprintf(out, "[%s_%s]\ndevice_addresses = ", mdev_names ? "mdev" : "vgpu", x->id);
        for (size_t k = i, n = 0; k < m->ntypes; k++) {
            const struct xmdev_type *y = &m->types[k];
            if (nova_type_chosen(m, o, y) && strcmp(y->id, x->id) == 0)
                fprintf(out, "%s%s", n++ ? "," : "", y->parent->name);
        }
        fputc('\n', out);
    }
}

/* A PCI parent that offers none of the --mdev-type types gets no type: the export advertises
 * none of its vGPUs to Nova, which a comment alone would leave unnoticed. A warning for each,
 * naming the types it offers. */
static void nova_parents_without_type(const struct xmodel *m, const struct xopts *o)
{
    for (size_t i = 0; i < m->ntypes && o->nmdev_types > 0; i++) {
        const struct xmdev_type *x = &m->types[i];
        bool seen = false, given = false;
        char *msg = NULL;
        size_t len = 0;
        FILE *mem;
        if (!xmdev_offered(x))
            continue;
        for (size_t k = 0; k < m->ntypes && !given; k++) {
            seen = seen || (k < i && m->types[k].parent == x->parent);
            given = m->types[k].parent == x->parent && nova_type_chosen(m, o, &m->types[k]);
        }
        if (seen || given || (mem = open_memstream(&msg, &len)) == NULL)
            continue; /* said with its first type, or given one */
        fputs("--mdev-type", mem);
        for (size_t k = 0; k < o->nmdev_types; k++)
            fprintf(mem, "%s%s", k ? ", " : " ", o->mdev_types[k]);
        fprintf(mem, ": %s %s, so Nova is given no mediated device type for it (it offers ",
                x->parent->name, o->nmdev_types > 1 ? "offers none of them" : "does not offer it");
        for (size_t k = i, n = 0; k < m->ntypes; k++)
            if (m->types[k].parent == x->parent)
                fprintf(mem, "%s%s", n++ ? ", " : "", m->types[k].id);
        fputc(')', mem);
        if (fclose(mem) != 0) {
            free(msg);
            msg = NULL;
        }
        xwarnings_add(m->warnings, msg);
    }
}

int export_nova(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out)
{
    /* Zed (26) renamed passthrough_whitelist to device_spec; older releases know only that. */
    const char *spec = o->nova_release >= 26 ? "device_spec" : "passthrough_whitelist";
    struct ids ids;
    int r;

    if ((r = advertised_ids(t, m, xdev_for_vms, &ids)) != EXIT_DONE)
        return r;
    fprintf(out, "# Nova (major version %d): the PCI devices this host has ready for passthrough\n"
                 "# (hostdev export): bound to vfio-pci, their IOMMU groups viable. Merge into\n"
                 "# nova.conf; flavors ask for them with pci_passthrough:alias=NAME:COUNT.\n",
            o->nova_release);
    for (size_t i = 0; i < m->ntypes; i++) {
        if (nova_type_chosen(m, o, &m->types[i])) {
            fputs("# The mediated device types (vGPUs) its PCI devices offer are in [devices]; "
                  "flavors\n# ask for one with resources:VGPU=1.\n", out);
            break;
        }
    }
    companions_comment(m, out, "#");
    pf_with_vfs_comment(m, out);
    vf_token_comment(m, out, "#");
    non_pci_types_comment(m, out);
    nova_other_types_comment(m, o, out);
    fputs("[pci]\n", out);
    for (size_t i = 0; i < m->n; i++) {
        const struct xdev *d = &m->devs[i];
        if (!xdev_for_vms(d))
            continue;
        fprintf(out, "%s = {\"vendor_id\": \"%04x\", \"product_id\": \"%04x\", "
                     "\"address\": \"%s\"", spec, d->vendor, d->device, d->name);
        /* Nova keeps devices tagged with a physical network for Neutron's SR-IOV ports:
         * only network VFs get it, accelerators stay requestable through their alias. */
        if (d->is_vf && (d->class_code >> 16) == 0x02 && o->physnet != NULL)
            fprintf(out, ", \"physical_network\": \"%s\"", o->physnet);
        fputs("}\n", out);
    }
    /* One alias per vendor:product; its schema in Zed knows name, product_id, vendor_id,
     * device_type and numa_policy only (resource_class and traits came later). */
    for (size_t i = 0; i < ids.n; i++) {
        const struct xdev *d = first_with(m, xdev_for_vms, ids.v[i]);
        fprintf(out, "alias = {\"name\": \"hostdev_%04x_%04x\", \"vendor_id\": \"%04x\", "
                     "\"product_id\": \"%04x\", \"device_type\": \"%s\", "
                     "\"numa_policy\": \"legacy\"}\n",
                d->vendor, d->device, d->vendor, d->device, nova_device_type(d));
    }
    free(ids.v);
    nova_mdev_types(m, o, out);
    /* A type asked for beside a GPU's running vGPUs of another: Nova would try to make it
     * there, which the GPU refuses; the library says when. */
    for (size_t i = 0; i < m->ntypes && o->nmdev_types > 0 && m->mdevs != NULL; i++) {
        const struct xmdev_type *x = &m->types[i];
        char *why, *msg = NULL;
        if (x->parent == NULL || !nova_type_chosen(m, o, x) ||
            (why = hd_mdev_type_mix_warning(m->mdevs, x->parent_name, x->id)) == NULL)
            continue;
        if (asprintf(&msg, "--mdev-type %s: %s", x->id, why) < 0)
            msg = NULL;
        xwarnings_add(m->warnings, msg);
        free(why);
    }
    nova_parents_without_type(m, o);
    return EXIT_DONE;
}

/* ---- SR-IOV network device plugin ---------------------------------------------------------- */

/* sriovdp's device types by class: network VFs, and accelerators (class 0x12) */
static const char *sriovdp_type(const struct xdev *vf)
{
    switch (vf->class_code >> 16) {
    case 0x02:
        return "netDevice";
    case 0x12:
        return "accelerator";
    default:
        return NULL; /* the plugin has no pool for other classes */
    }
}

/* Distinct words (drivers, device ids) in insertion order, then sorted. */
struct words {
    char w[16][16];
    size_t n;
};

static void words_add(struct words *ws, const char *w)
{
    for (size_t i = 0; i < ws->n; i++) {
        if (strcmp(ws->w[i], w) == 0)
            return;
    }
    if (ws->n < sizeof(ws->w) / sizeof(ws->w[0]))
        snprintf(ws->w[ws->n++], sizeof(ws->w[0]), "%s", w);
}

static int cmp_word(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void json_words(struct json *j, const char *key, struct words *ws)
{
    qsort(ws->w, ws->n, sizeof(ws->w[0]), cmp_word);
    json_key(j, key);
    json_begin_array(j);
    for (size_t i = 0; i < ws->n; i++)
        json_string(j, ws->w[i]);
    json_end_array(j);
}

int export_sriovdp(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out)
{
    struct json j;

    (void)t;
    json_init(&j, out, 2);
    json_begin_object(&j);
    json_key(&j, "resourceList");
    json_begin_array(&j);
    /* One pool per PF: its VFs that are ready, selected by the PF (rootDevices) for network
     * VFs, by address for accelerators (whose selectors have no rootDevices). */
    for (size_t p = 0; p < m->n; p++) {
        const struct xdev *pf = &m->devs[p];
        struct words vendors = {0}, devices = {0}, drivers = {0}, addrs = {0};
        const char *type = NULL;
        char name[64], word[16];

        if (!pf->is_pf)
            continue;
        for (size_t i = 0; i < m->n; i++) {
            const struct xdev *vf = &m->devs[i];
            if (vf->pf != pf || !xdev_advertised(vf) || sriovdp_type(vf) == NULL)
                continue;
            if (type == NULL)
                type = sriovdp_type(vf);
            if (strcmp(type, sriovdp_type(vf)) != 0)
                continue;
            snprintf(word, sizeof(word), "%04x", vf->vendor);
            words_add(&vendors, word);
            snprintf(word, sizeof(word), "%04x", vf->device);
            words_add(&devices, word);
            words_add(&drivers, vf->driver);
            words_add(&addrs, vf->name);
        }
        if (type == NULL)
            continue;
        label_addr(pf->name, word, sizeof(word));
        snprintf(name, sizeof(name), "vf_%04x_%04x_%s", pf->vendor, pf->device, word);
        for (char *c = name; *c != '\0'; c++)
            *c = *c == '.' ? '_' : *c; /* resourceName is [A-Za-z0-9_-]+ */
        json_begin_object(&j);
        json_kv_string(&j, "resourceName", name);
        json_kv_string(&j, "resourcePrefix", o->prefix);
        json_kv_string(&j, "deviceType", type);
        json_key(&j, "selectors");
        json_begin_object(&j);
        json_words(&j, "vendors", &vendors);
        json_words(&j, "devices", &devices);
        json_words(&j, "drivers", &drivers);
        if (strcmp(type, "netDevice") == 0) {
            struct words root = {0};
            words_add(&root, pf->name);
            json_words(&j, "rootDevices", &root);
        } else {
            json_words(&j, "pciAddresses", &addrs);
        }
        json_end_object(&j);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    json_finish(&j);
    return EXIT_DONE;
}

/* ---- Prometheus --------------------------------------------------------------------------- */

/* A label value in the text exposition format: backslash, quote and newline escaped. */
static void prom_value(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s != NULL && *s != '\0'; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void prom_head(FILE *out, const char *name, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

int export_prometheus(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out)
{
    char num[16];

    (void)t;
    (void)o;
    prom_head(out, "hostdev_pci_device_info",
              "A PCI function: ids, class, driver, IOMMU group, NUMA node, SR-IOV role.");
    for (size_t i = 0; i < m->n; i++) {
        const struct xdev *d = &m->devs[i];
        fprintf(out, "hostdev_pci_device_info{address=\"%s\",vendor=\"%04x\",device=\"%04x\","
                     "class=\"%06x\",driver=", d->name, d->vendor, d->device, d->class_code);
        prom_value(out, d->driver);
        snprintf(num, sizeof(num), "%d", d->group);
        fprintf(out, ",iommu_group=\"%s\"", d->group < 0 ? "" : num);
        snprintf(num, sizeof(num), "%d", d->numa);
        fprintf(out, ",numa_node=\"%s\",sriov_role=\"%s\"} 1\n", d->numa < 0 ? "" : num,
                d->is_vf ? "vf" : d->is_pf ? "pf" : "none");
    }
    prom_head(out, "hostdev_pci_device_vfio_ready",
              "1 when the function is on vfio-pci and its IOMMU group is viable.");
    for (size_t i = 0; i < m->n; i++)
        fprintf(out, "hostdev_pci_device_vfio_ready{address=\"%s\"} %d\n", m->devs[i].name,
                m->devs[i].ready);
    prom_head(out, "hostdev_assigned", "A device hostdev assigned to a VM.");
    for (size_t i = 0; m->assigned != NULL && i < hd_assignment_list_count(m->assigned); i++) {
        const struct hd_assignment *a = hd_assignment_list_get(m->assigned, i);
        /* A mediated device is no PCI address: its own labels (UUID, parent). */
        if (hd_assignment_get_kind(a) == HD_ASSIGNMENT_MDEV)
            fprintf(out, "hostdev_assigned{mdev=\"%s\",parent=\"%s\",vm=",
                    hd_assignment_get_name(a), hd_assignment_get_parent(a));
        else if (hd_assignment_get_kind(a) != HD_ASSIGNMENT_PCI)
            fprintf(out, "hostdev_assigned{node_device=\"%s\",vm=", hd_assignment_get_name(a));
        else
            fprintf(out, "hostdev_assigned{address=\"%s\",vm=", hd_assignment_get_name(a));
        prom_value(out, hd_assignment_get_vm(a));
        fputs("} 1\n", out);
    }
    prom_head(out, "hostdev_sriov_vfs", "Virtual functions an SR-IOV PF has enabled.");
    for (size_t i = 0; i < m->n; i++) {
        if (m->devs[i].is_pf)
            fprintf(out, "hostdev_sriov_vfs{address=\"%s\"} %d\n", m->devs[i].name,
                    m->devs[i].numvfs < 0 ? 0 : m->devs[i].numvfs);
    }
    prom_head(out, "hostdev_sriov_totalvfs", "Virtual functions an SR-IOV PF can enable.");
    for (size_t i = 0; i < m->n; i++) {
        if (m->devs[i].is_pf)
            fprintf(out, "hostdev_sriov_totalvfs{address=\"%s\"} %d\n", m->devs[i].name,
                    m->devs[i].totalvfs);
    }
    prom_head(out, "hostdev_iommu_usable", "1 when the IOMMU can isolate devices for VFIO.");
    fprintf(out, "hostdev_iommu_usable %d\n", m->iommu_usable);
    prom_head(out, "hostdev_last_export_timestamp_seconds",
              "When hostdev wrote this file, in seconds since the epoch.");
    fprintf(out, "hostdev_last_export_timestamp_seconds %lld\n", (long long)m->now);
    return EXIT_DONE;
}
