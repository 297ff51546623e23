/* spec.c - the tree spec parser (format: docs/fakesys-spec.md), errors as file:line: why. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

/* device->group while parsing: "pick one" (every device gets its own by default). */
#define GROUP_AUTO (-2)

struct parser {
    struct kernel *k;
    const char *file;
    int line;
    const size_t *lens; /* the current line's word lengths */
    char *err;
    size_t errsz;
    /* feature switches set explicitly (the kernel version decides the others) */
    bool set_override, set_reset_method, set_vfio_dev, set_vfio_cdev, set_mountinfo, set_pt;
    /* vf lines wait for their VFs, made at the end */
    struct vf_line {
        struct hd_pci_addr addr;
        char *driver, *override;
        int group, line;
    } * vfs;
    size_t nvfs;
    /* faults wait for the tree, which resolves their paths */
    char **fault_paths;
    struct fault *faults;
    size_t nfaults;
    /* mdevs are made at the end, once the devices have their groups */
    struct mdev_line {
        char uuid[40];
        struct mdev_type *type;
        int line;
    } * mdevs;
    size_t nmdevs;
};

static int perr(struct parser *p, const char *fmt, ...) FS_PRINTF(2, 3);
static int perr(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (p->file)
        n = snprintf(p->err, p->errsz, "%s:%d: ", p->file, p->line);
    if (n < 0 || (size_t)n >= p->errsz)
        n = 0;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    /* Words are quoted as given, and a quoted word may hold "\n": escape control bytes so
     * that the error stays one line. */
    size_t o = (size_t)n;
    for (const char *c = msg ? msg : fmt; *c && o + 5 < p->errsz; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            o += (size_t)snprintf(p->err + o, p->errsz - o, "\\x%02x", (unsigned char)*c);
        else
            p->err[o++] = *c;
    }
    if (o < p->errsz)
        p->err[o] = '\0';
    free(msg);
    return -1;
}

void strv_free(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int spec_split(const char *line, char ***words, char *err, size_t errsz)
{
    return spec_split_len(line, words, NULL, err, errsz);
}

int spec_split_len(const char *line, char ***words, size_t **lens, char *err, size_t errsz)
{
    char **v = xcalloc(1, sizeof(char *));
    size_t *l = NULL;
    int n = 0;
    const char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0' || *p == '#')
            break;
        struct buf w = {0};
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            if (*p != '"') {
                buf_add(&w, p++, 1);
                continue;
            }
            for (p++; *p != '"'; p++) {
                char c = *p;
                if (c == '\0' || c == '\n') {
                    buf_free(&w);
                    strv_free(v);
                    free(l);
                    snprintf(err, errsz, "unterminated quote");
                    return -1;
                }
                if (c == '\\') {
                    c = *++p;
                    if (c == 'n')
                        c = '\n';
                    else if (c == 't')
                        c = '\t';
                    else if (c == 'x' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                        c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
                        p += 2;
                    } else if (c != '\\' && c != '"') {
                        buf_free(&w);
                        strv_free(v);
                        free(l);
                        snprintf(err, errsz, "unknown escape '\\%c'", c ? c : '0');
                        return -1;
                    }
                }
                buf_add(&w, &c, 1);
            }
            p++;
            if (w.data == NULL)
                buf_puts(&w, ""); /* "" is an empty word, not none */
        }
        v = xrealloc(v, (size_t)(n + 2) * sizeof(char *));
        l = xrealloc(l, (size_t)(n + 1) * sizeof(*l));
        l[n] = w.len; /* "\x00" makes a NUL inside the word */
        v[n++] = buf_steal(&w);
        v[n] = NULL;
    }
    *words = v;
    if (lens != NULL)
        *lens = l;
    else
        free(l);
    return n;
}

/* ---- values ------------------------------------------------------------------------------- */

static int parse_num(const char *s, int base, long min, long max, long *out)
{
    char *end;

    if (*s == '\0')
        return -1;
    if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    errno = 0;
    long v = strtol(s, &end, base);
    if (*end != '\0' || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "true"))
        *out = true;
    else if (!strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0") || !strcmp(s, "false"))
        *out = false;
    else
        return -1;
    return 0;
}

bool spec_name_ok(const char *s)
{
    if (*s == '\0' || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!(*s == '_' || *s == '-' || *s == '.' || (*s >= '0' && *s <= '9') ||
              (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return false;
    return true;
}

static int parse_idpair(const char *s, uint16_t *a, uint16_t *b)
{
    struct pci_id id;

    if (id_parse(s, &id) < 0 || id.vendor == ID_ANY || id.device == ID_ANY ||
        id.subvendor != ID_ANY)
        return -1;
    *a = (uint16_t)id.vendor;
    *b = (uint16_t)id.device;
    return 0;
}

/* "8GT/s,x4" or "gen3,4" */
static int parse_link(const char *s, int *speed, int *width)
{
    char tmp[32];
    const char *comma = strchr(s, ',');
    long w;

    if (comma == NULL || (size_t)(comma - s) >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, (size_t)(comma - s));
    tmp[comma - s] = '\0';
    *speed = link_speed_parse(tmp);
    const char *ws = comma + 1;
    if (*ws == 'x')
        ws++;
    if (*speed < 0 || parse_num(ws, 10, 1, 32, &w) < 0)
        return -1;
    *width = (int)w;
    return 0;
}

static const struct {
    const char *name;
    enum port_type port;
} port_names[] = {
    {"endpoint", PORT_ENDPOINT},        {"legacy-endpoint", PORT_LEGACY},
    {"rc-endpoint", PORT_RC_ENDPOINT},  {"root-port", PORT_ROOT},
    {"upstream", PORT_UPSTREAM},        {"downstream", PORT_DOWNSTREAM},
    {"pcie-pci-bridge", PORT_PCIE_PCI},
};

/* ---- keywords ----------------------------------------------------------------------------- */

static int kw_kernel(struct parser *p, int argc, char **argv)
{
    if (argc != 2 || !(argv[1][0] >= '0' && argv[1][0] <= '9') || !strchr(argv[1], '.'))
        return perr(p, "usage: kernel VERSION (like 6.1.0-13-amd64)");
    free(p->k->version);
    p->k->version = xstrdup(argv[1]);
    return 0;
}

static int kw_feature(struct parser *p, int argc, char **argv)
{
    bool on;

    if (argc != 3 || parse_bool(argv[2], &on) < 0)
        return perr(p, "usage: feature NAME on|off");
    if (strcmp(argv[1], "driver_override") == 0) {
        p->k->feat_override = on;
        p->set_override = true;
    } else if (strcmp(argv[1], "reset_method") == 0) {
        p->k->feat_reset_method = on;
        p->set_reset_method = true;
    } else if (strcmp(argv[1], "vfio_dev") == 0) {
        p->k->feat_vfio_dev = on;
        p->set_vfio_dev = true;
    } else if (strcmp(argv[1], "vfio_cdev") == 0) {
        p->k->feat_vfio_cdev = on;
        p->set_vfio_cdev = true;
    } else if (strcmp(argv[1], "mountinfo") == 0) {
        p->k->feat_mountinfo = on;
        p->set_mountinfo = true;
    } else {
        return perr(p,
                    "unknown feature '%s' (driver_override, reset_method, vfio_dev, "
                    "vfio_cdev, mountinfo)",
                    argv[1]);
    }
    return 0;
}

static int kw_cmdline(struct parser *p, int argc, char **argv)
{
    struct buf b = {0};

    for (int i = 1; i < argc; i++)
        buf_printf(&b, "%s%s", i > 1 ? " " : "", argv[i]);
    free(p->k->cmdline);
    p->k->cmdline = buf_steal(&b);
    return 0;
}

static int kw_cpu(struct parser *p, int argc, char **argv)
{
    if (argc < 2 || argc > 3 || !spec_name_ok(argv[1]) ||
        (argc == 3 && strcmp(argv[2], "hypervisor") != 0))
        return perr(p, "usage: cpu VENDOR [hypervisor]");
    free(p->k->cpu_vendor);
    p->k->cpu_vendor = xstrdup(argv[1]);
    p->k->cpu_hypervisor = argc == 3;
    return 0;
}

static int kw_iommu(struct parser *p, int argc, char **argv)
{
    struct kernel *k = p->k;

    if (argc < 2)
        return perr(p, "usage: iommu none|intel|amd|smmu [enabled=yes|no] [irq-remap=yes|no] "
                       "[pt=yes|no]");
    if (strcmp(argv[1], "none") == 0)
        k->iommu = IOMMU_NONE;
    else if (strcmp(argv[1], "intel") == 0)
        k->iommu = IOMMU_INTEL;
    else if (strcmp(argv[1], "amd") == 0)
        k->iommu = IOMMU_AMD;
    else if (strcmp(argv[1], "smmu") == 0)
        k->iommu = IOMMU_SMMU;
    else
        return perr(p, "unknown IOMMU '%s' (none, intel, amd, smmu)", argv[1]);
    k->iommu_enabled = k->iommu != IOMMU_NONE;
    k->irq_remap = k->iommu != IOMMU_NONE;
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        bool v;
        if (eq == NULL || parse_bool(eq + 1, &v) < 0)
            return perr(p, "bad iommu option '%s'", argv[i]);
        *eq = '\0';
        if (strcmp(argv[i], "enabled") == 0)
            k->iommu_enabled = v && k->iommu != IOMMU_NONE;
        else if (strcmp(argv[i], "irq-remap") == 0)
            k->irq_remap = v;
        else if (strcmp(argv[i], "pt") == 0) {
            k->iommu_pt = v;
            p->set_pt = true;
        } else
            return perr(p, "unknown iommu option '%s'", argv[i]);
    }
    return 0;
}

static int kw_module(struct parser *p, int argc, char **argv)
{
    if (argc < 2 || !spec_name_ok(argv[1]))
        return perr(p, "usage: module NAME [builtin] [unloaded]");
    struct module *m = module_get(p->k, argv[1]);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "builtin") == 0)
            m->builtin = true;
        else if (strcmp(argv[i], "unloaded") == 0)
            m->loaded = false;
        else
            return perr(p, "unknown module option '%s'", argv[i]);
    }
    if (m->builtin && !m->loaded)
        return perr(p, "module %s: a builtin module cannot be unloaded", m->name);
    return 0;
}

static int kw_param(struct parser *p, int argc, char **argv)
{
    if (argc != 4 || !spec_name_ok(argv[1]) || !spec_name_ok(argv[2]))
        return perr(p, "usage: param MODULE NAME VALUE");
    module_set_param(module_get(p->k, argv[1]), argv[2], argv[3]);
    return 0;
}

static void add_id(struct driver *drv, const struct pci_id *id)
{
    drv->ids = xrealloc(drv->ids, (drv->nids + 1) * sizeof(*drv->ids));
    drv->ids[drv->nids++] = *id;
}

static int kw_driver(struct parser *p, int argc, char **argv)
{
    struct kernel *k = p->k;
    const char *modname = NULL;
    bool builtin = false, unloaded = false;

    if (argc < 2 || !spec_name_ok(argv[1]))
        return perr(p, "usage: driver NAME [module=MOD] [builtin] [ids=V:D,...] "
                       "[class=CCSSPP[/MASK]] [stub] [vfio] [ops-name=NAME] [sriov] ...");
    if (driver_find(k, argv[1]))
        return perr(p, "driver %s is already defined", argv[1]);
    struct driver *drv = driver_new(k, argv[1]);
    for (int i = 2; i < argc; i++) {
        char *key = argv[i], *eq = strchr(key, '=');
        char *val = eq ? eq + 1 : NULL;
        long v;
        if (eq)
            *eq = '\0';
        if (!val && strcmp(key, "stub") == 0) {
            drv->flags |= DRV_STUB;
        } else if (!val && strcmp(key, "vfio") == 0) {
            drv->flags |= DRV_VFIO;
        } else if (!val && strcmp(key, "sriov") == 0) {
            drv->flags |= DRV_SRIOV;
        } else if (!val && strcmp(key, "builtin") == 0) {
            builtin = true;
        } else if (!val && strcmp(key, "unloaded") == 0) {
            unloaded = true;
        } else if (val && strcmp(key, "module") == 0 && spec_name_ok(val)) {
            modname = val;
        } else if (val && strcmp(key, "ops-name") == 0 && spec_name_ok(val)) {
            free(drv->ops_name);
            drv->ops_name = xstrdup(val);
        } else if (val && strcmp(key, "ids") == 0) {
            for (char *tok = strtok(val, ","); tok; tok = strtok(NULL, ",")) {
                struct pci_id id;
                if (id_parse(tok, &id) < 0)
                    return perr(p, "driver %s: bad id '%s' (VVVV:DDDD[:SSSS:SSSS], * for any)",
                                drv->name, tok);
                add_id(drv, &id);
            }
        } else if (val && strcmp(key, "class") == 0) {
            char *slash = strchr(val, '/');
            long mask = 0xffffff;
            if (slash)
                *slash = '\0';
            if (parse_num(val, 16, 0, 0xffffff, &v) < 0 ||
                (slash && parse_num(slash + 1, 16, 0, 0xffffff, &mask) < 0))
                return perr(p, "driver %s: bad class '%s' (CCSSPP[/MASK])", drv->name, val);
            struct pci_id id = {ID_ANY, ID_ANY, ID_ANY, ID_ANY, (uint32_t)v, (uint32_t)mask};
            add_id(drv, &id);
        } else if (val && strcmp(key, "unbind-hang-ms") == 0) {
            if (strcmp(val, "forever") == 0)
                drv->unbind_hang_ms = -1;
            else if (parse_num(val, 10, 0, 3600000, &v) < 0)
                return perr(p, "driver %s: bad unbind-hang-ms '%s'", drv->name, val);
            else
                drv->unbind_hang_ms = (int)v;
        } else if (val && strcmp(key, "probe-fails") == 0) {
            drv->probe_errno = errno_parse(val);
            if (drv->probe_errno < 0)
                return perr(p, "driver %s: unknown errno '%s'", drv->name, val);
        } else {
            return perr(p, "driver %s: unknown option '%s%s%s'", drv->name, key, val ? "=" : "",
                        val ? val : "");
        }
    }
    if (drv->ops_name == NULL) {
        /* The in-tree variants name their vfio_device_ops after the driver with '-' for '_'
         * (mlx5_vfio_pci: "mlx5-vfio-pci"); vfio-pci's is its own name. */
        drv->ops_name = xstrdup(drv->name);
        for (char *c = drv->ops_name; *c; c++)
            if (*c == '_')
                *c = '-';
    }
    if ((drv->flags & DRV_STUB) && drv->nids)
        return perr(p, "driver %s: a stub driver has no id table (binds by override or new_id)",
                    drv->name);
    if (modname == NULL) {
        /* KBUILD_MODNAME: the driver name with '-' turned into '_' */
        char *m = xstrdup(drv->name);
        for (char *c = m; *c; c++)
            if (*c == '-')
                *c = '_';
        drv->module = module_get(k, m);
        free(m);
    } else {
        drv->module = module_get(k, modname);
    }
    if (builtin)
        drv->module->builtin = true;
    if (unloaded) {
        if (drv->module->builtin)
            return perr(p, "driver %s: a builtin driver cannot be unloaded", drv->name);
        drv->module->loaded = false;
    }
    return 0;
}

static int parse_addr(struct parser *p, const char *what, const char *s, struct hd_pci_addr *a)
{
    if (hd_pci_addr_parse(s, a) < 0)
        return perr(p, "%s: invalid PCI address '%s'", what, s);
    return 0;
}

static struct device *find_present(struct parser *p, const char *s)
{
    struct hd_pci_addr a;

    if (parse_addr(p, "device", s, &a) < 0)
        return NULL;
    struct device *dev = device_find(p->k, &a);
    if (dev == NULL)
        perr(p, "no device %s (declare it first)", s);
    return dev;
}

static int device_option(struct parser *p, struct device *dev, char *key, char *val)
{
    struct kernel *k = p->k;
    long v;

#define NUM(base, lo, hi)                                                                          \
    do {                                                                                           \
        if (val == NULL || parse_num(val, base, lo, hi, &v) < 0)                                   \
            return perr(p, "%s: bad %s '%s'", dev->name, key, val ? val : "");                     \
    } while (0)
    if (strcmp(key, "subsys") == 0) {
        if (val == NULL || parse_idpair(val, &dev->subvendor, &dev->subdevice) < 0)
            return perr(p, "%s: bad subsys '%s' (VVVV:DDDD)", dev->name, val ? val : "");
    } else if (strcmp(key, "class") == 0) {
        NUM(16, 0, 0xffffff);
        dev->class = (uint32_t)v;
    } else if (strcmp(key, "rev") == 0) {
        NUM(16, 0, 0xff);
        dev->revision = (uint8_t)v;
    } else if (strcmp(key, "header") == 0) {
        NUM(10, 0, 2);
        dev->header = (int)v;
    } else if (strcmp(key, "secondary") == 0) {
        NUM(16, 1, 0xff);
        dev->secondary = (int)v;
    } else if (strcmp(key, "parent") == 0 && val && strcmp(val, "root") == 0) {
        dev->root_bus = true; /* on a root bus of its own, like pci0000:80 */
    } else if (strcmp(key, "parent") == 0) {
        struct device *par = val ? find_present(p, val) : NULL;
        if (par == NULL)
            return val ? -1 : perr(p, "%s: parent= needs an address", dev->name);
        dev->parent = par;
    } else if (strcmp(key, "driver") == 0) {
        if (val == NULL || driver_find(k, val) == NULL)
            return perr(p, "%s: no driver '%s' (declare it first)", dev->name, val ? val : "");
        free(dev->spec_driver);
        dev->spec_driver = xstrdup(val);
    } else if (strcmp(key, "override") == 0) {
        if (val == NULL || !spec_name_ok(val))
            return perr(p, "%s: bad override '%s'", dev->name, val ? val : "");
        free(dev->override);
        dev->override = xstrdup(val);
    } else if (strcmp(key, "group") == 0) {
        if (val && strcmp(val, "none") == 0) {
            dev->group = -1;
        } else {
            NUM(10, 0, 1000000);
            dev->group = (int)v;
        }
    } else if (strcmp(key, "numa") == 0) {
        NUM(10, -1, 1023);
        dev->numa = (int)v;
    } else if (strcmp(key, "irq") == 0) {
        NUM(10, 0, 255);
        dev->irq = (int)v;
    } else if (strcmp(key, "cpus") == 0 && val) {
        free(dev->cpus);
        dev->cpus = xstrdup(val);
    } else if (strcmp(key, "reset") == 0 && val) {
        if (strcmp(val, "none") == 0)
            dev->nreset_default = 0;
        else if (reset_list_parse(val, strlen(val), ',', dev->reset_default, &dev->nreset_default) <
                 0)
            return perr(p, "%s: bad reset list '%s' (flr,pm,bus,... or none)", dev->name, val);
    } else if (strcmp(key, "pcie") == 0) {
        if (val == NULL || parse_bool(val, &dev->pcie) < 0)
            return perr(p, "%s: bad pcie '%s'", dev->name, val ? val : "");
    } else if (strcmp(key, "port") == 0 && val) {
        size_t i;
        for (i = 0; i < FS_ARRAY_SIZE(port_names) && strcmp(port_names[i].name, val) != 0; i++)
            ;
        if (i == FS_ARRAY_SIZE(port_names))
            return perr(p, "%s: unknown port type '%s'", dev->name, val);
        dev->port = port_names[i].port;
    } else if (strcmp(key, "link") == 0 || strcmp(key, "link-cap") == 0) {
        bool cap = strcmp(key, "link-cap") == 0;
        if (val == NULL || parse_link(val, cap ? &dev->cap_speed : &dev->link_speed,
                                      cap ? &dev->cap_width : &dev->link_width) < 0)
            return perr(p, "%s: bad %s '%s' (like 8GT/s,x4)", dev->name, key, val ? val : "");
    } else if (strcmp(key, "link-port") == 0) {
        NUM(10, 0, 255);
        dev->link_port = (int)v;
    } else if (strcmp(key, "totalvfs") == 0) {
        NUM(10, 1, 4096);
        dev->totalvfs = (int)v;
    } else if (strcmp(key, "numvfs") == 0) {
        NUM(10, 0, 4096);
        dev->spec_numvfs = (int)v;
    } else if (strcmp(key, "vf-device") == 0) {
        NUM(16, 0, 0xffff);
        dev->vf_device = (uint16_t)v;
    } else if (strcmp(key, "vf-offset") == 0) {
        NUM(10, 1, 0xffff);
        dev->vf_offset = (int)v;
    } else if (strcmp(key, "vf-stride") == 0) {
        NUM(10, 0, 0xff);
        dev->vf_stride = (int)v;
    } else if (strcmp(key, "vf-driver") == 0) {
        dev->vf_driver = val ? driver_find(k, val) : NULL;
        if (dev->vf_driver == NULL)
            return perr(p, "%s: no driver '%s' (declare it first)", dev->name, val ? val : "");
    } else if (strcmp(key, "boot-vga") == 0) {
        if (val == NULL || parse_bool(val, &dev->boot_vga) < 0)
            return perr(p, "%s: boot-vga=yes|no", dev->name);
    } else if (strcmp(key, "autoprobe") == 0) {
        if (val == NULL || parse_bool(val, &dev->vf_autoprobe) < 0)
            return perr(p, "%s: bad autoprobe '%s'", dev->name, val ? val : "");
    } else {
        return perr(p, "%s: unknown device option '%s'", dev->name, key);
    }
#undef NUM
    return 0;
}

/* Whatever the options left open, decided once the whole line is read. */
static int device_defaults(struct parser *p, struct device *dev, bool port_set, bool pcie_set,
                           bool header_set)
{
    struct kernel *k = p->k;

    if (!header_set)
        dev->header = (dev->class >> 8) == 0x0604 ? 1 : (dev->class >> 8) == 0x0607 ? 2 : 0;
    if (dev->parent == NULL && dev->addr.bus != 0 && !dev->root_bus) {
        /* the bridge whose secondary bus this is */
        for (size_t i = 0; i < k->ndevices && dev->parent == NULL; i++) {
            struct device *b = k->devices[i];
            if (b != dev && device_is_bridge(b) && b->secondary == dev->addr.bus &&
                b->addr.domain == dev->addr.domain)
                dev->parent = b;
        }
        if (dev->parent == NULL)
            return perr(p,
                        "%s: no bridge with secondary bus %02x; declare one first, or add "
                        "parent=BRIDGE or parent=root",
                        dev->name, dev->addr.bus);
    }
    if (dev->parent) {
        if (!device_is_bridge(dev->parent))
            return perr(p, "%s: parent %s is not a bridge", dev->name, dev->parent->name);
        if (dev->parent->secondary < 0)
            dev->parent->secondary = dev->addr.bus;
        else if (dev->parent->secondary != dev->addr.bus)
            return perr(p, "%s: parent %s has secondary bus %02x, not %02x", dev->name,
                        dev->parent->name, dev->parent->secondary, dev->addr.bus);
        if (dev->parent->addr.domain != dev->addr.domain)
            return perr(p, "%s: parent %s is in another domain", dev->name, dev->parent->name);
    }
    if (!pcie_set)
        dev->pcie =
            dev->parent == NULL || (dev->parent->pcie && dev->parent->port != PORT_PCIE_PCI);
    if (!port_set) {
        if (device_is_bridge(dev))
            dev->port = dev->parent == NULL                  ? PORT_ROOT
                        : dev->parent->port == PORT_UPSTREAM ? PORT_DOWNSTREAM
                                                             : PORT_UPSTREAM;
        else
            dev->port = dev->parent == NULL ? PORT_RC_ENDPOINT : PORT_ENDPOINT;
    }
    /* One of link= (status) and link-cap= (capability) stands for both. */
    if (dev->cap_speed == 0) {
        dev->cap_speed = dev->link_speed;
        dev->cap_width = dev->link_width;
    } else if (dev->link_speed == 0) {
        dev->link_speed = dev->cap_speed;
        dev->link_width = dev->cap_width;
    }
    for (int i = 0; i < dev->nreset_default && !dev->pcie; i++)
        if (dev->reset_default[i] == RESET_FLR)
            return perr(p, "%s: flr needs pcie=yes (conventional PCI has af_flr)", dev->name);
    if (!dev->pcie && (dev->cap_speed || port_set))
        return perr(p, "%s: link= and port= need pcie=yes", dev->name);
    if (dev->link_port != 1 && dev->cap_speed == 0)
        return perr(p, "%s: link-port= needs a link (link= or link-cap=)", dev->name);
    if (dev->totalvfs) {
        if (dev->vf_offset == 0)
            dev->vf_offset = 128 - (int)(dev->addr.slot * 8 + dev->addr.function);
        if (dev->vf_stride == 0)
            dev->vf_stride = 2;
        if (dev->vf_device == 0)
            dev->vf_device = dev->device;
        if (!dev->pcie)
            return perr(p, "%s: SR-IOV needs pcie=yes", dev->name);
        if (dev->vf_driver) {
            /* sugar: the VF ids join that driver's table */
            struct pci_id id = {dev->vendor, dev->vf_device, ID_ANY, ID_ANY, 0, 0};
            if (!(dev->vf_driver->flags & DRV_STUB))
                add_id(dev->vf_driver, &id);
        }
    } else if (dev->spec_numvfs || dev->vf_driver) {
        return perr(p, "%s: numvfs= and vf-driver= need totalvfs=", dev->name);
    }
    if (dev->spec_numvfs > dev->totalvfs)
        return perr(p, "%s: numvfs %d is more than totalvfs %d", dev->name, dev->spec_numvfs,
                    dev->totalvfs);
    if (dev->override && !k->feat_override)
        return perr(p, "%s: override= on a kernel without driver_override", dev->name);
    return 0;
}

static int kw_device_words(struct parser *p, int argc, char **argv, struct device **out)
{
    struct kernel *k = p->k;
    struct hd_pci_addr addr;
    uint16_t vendor, device;
    bool port_set = false, pcie_set = false, header_set = false;

    if (argc < 3)
        return perr(p, "usage: device DDDD:BB:SS.F VVVV:DDDD [key=value...]");
    if (parse_addr(p, "device", argv[1], &addr) < 0)
        return -1;
    if (parse_idpair(argv[2], &vendor, &device) < 0)
        return perr(p, "%s: bad ids '%s' (VVVV:DDDD)", argv[1], argv[2]);
    struct device *dev = device_new(k, &addr);
    if (dev == NULL)
        return perr(p, "device %s is already defined", argv[1]);
    dev->line = p->line;
    dev->vendor = vendor;
    dev->device = device;
    dev->subvendor = vendor;
    dev->subdevice = device;
    dev->group = GROUP_AUTO;
    *out = dev;
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq)
            *eq = '\0';
        port_set |= strcmp(argv[i], "port") == 0;
        pcie_set |= strcmp(argv[i], "pcie") == 0;
        header_set |= strcmp(argv[i], "header") == 0;
        if (device_option(p, dev, argv[i], eq ? eq + 1 : NULL) < 0)
            return -1;
    }
    return device_defaults(p, dev, port_set, pcie_set, header_set);
}

static int kw_device(struct parser *p, int argc, char **argv)
{
    struct device *dev = NULL;

    return kw_device_words(p, argc, argv, &dev);
}

static int kw_child(struct parser *p, int argc, char **argv)
{
    const char *mac = NULL;

    if (argc < 3 || !spec_name_ok(argv[2]))
        return perr(p, "usage: %s DDDD:BB:SS.F NAME%s", argv[0],
                    strcmp(argv[0], "net") == 0
                        ? " [mac=XX:XX:...] [up|down] [master=NAME] [route=A.B.C.D/LEN[@TABLE]]... "
                          "[route6=ADDR/LEN[@TABLE]]... [inet=A.B.C.D/LEN]... [inet6=ADDR/LEN]..."
                        : strcmp(argv[0], "block") == 0 ? " [dev=MAJ:MIN] [disk=NAME] [serial=TEXT]"
                                                        : "");
    struct device *dev = find_present(p, argv[1]);
    if (dev == NULL)
        return -1;
    for (int i = 3; i < argc; i++) {
        if (strncmp(argv[i], "mac=", 4) == 0 && strcmp(argv[0], "net") == 0)
            mac = argv[i] + 4;
    }
    if (add_child(dev, argv[0], argv[2], mac) < 0)
        return perr(p, "%s %s is already defined on %s", argv[0], argv[2], dev->name);
    for (int i = 3; i < argc; i++) {
        if (strncmp(argv[i], "mac=", 4) == 0 && strcmp(argv[0], "net") == 0)
            continue;
        if (hostuse_child_option(p->k, dev, &dev->children[dev->nchildren - 1], argv[i]) < 0)
            return perr(p, "%s: unknown or malformed option '%s'", argv[0], argv[i]);
    }
    return 0;
}

static int kw_hostuse(struct parser *p, int argc, char **argv)
{
    char why[256];

    if (hostuse_keyword(p->k, argc, argv, why, sizeof(why)) < 0)
        return perr(p, "%s", why);
    return 0;
}

static int kw_fault(struct parser *p, int argc, char **argv)
{
    struct fault f;
    char err[256];

    if (fault_parse(argc, argv, &f, err, sizeof(err)) < 0)
        return perr(p, "%s", err);
    p->faults = xrealloc(p->faults, (p->nfaults + 1) * sizeof(*p->faults));
    p->fault_paths = xrealloc(p->fault_paths, (p->nfaults + 1) * sizeof(*p->fault_paths));
    p->faults[p->nfaults] = f;
    p->fault_paths[p->nfaults++] = xstrdup(argv[1]);
    return 0;
}

/* mdev-type PARENT ID [name=TEXT] [description=TEXT] [api=NAME] [instances=N] */
static int kw_mdev_type(struct parser *p, int argc, char **argv)
{
    struct mdev_type *t;
    char err[256];
    long v;

    if (argc < 3)
        return perr(p, "usage: mdev-type PARENT DRIVER-TYPE [name=TEXT] [description=TEXT] "
                       "[api=vfio-pci] [instances=N]");
    if (mdev_type_add(p->k, argv[1], argv[2], &t, err, sizeof(err)) < 0)
        return perr(p, "%s", err);
    t->line = p->line;
    for (int i = 3; i < argc; i++) {
        char **field = strncmp(argv[i], "name=", 5) == 0          ? &t->name
                       : strncmp(argv[i], "description=", 12) == 0 ? &t->description
                       : strncmp(argv[i], "api=", 4) == 0          ? &t->api
                                                                   : NULL;
        if (field != NULL) {
            free(*field);
            *field = xstrdup(strchr(argv[i], '=') + 1);
        } else if (strncmp(argv[i], "instances=", 10) == 0 &&
                   parse_num(argv[i] + 10, 10, 0, 1024, &v) == 0) {
            t->max = (int)v;
        } else {
            return perr(p, "mdev-type: bad option '%s'", argv[i]);
        }
    }
    return 0;
}

/* mdev UUID PARENT TYPE: a mediated device there at mount */
static int kw_mdev(struct parser *p, int argc, char **argv)
{
    struct mdev_type *t = argc == 4 ? mdev_type_find(p->k, argv[2], argv[3]) : NULL;

    if (argc != 4)
        return perr(p, "usage: mdev UUID PARENT TYPE");
    if (t == NULL)
        return perr(p, "mdev %s: no type %s of %s (declare it with mdev-type first)", argv[1],
                    argv[3], argv[2]);
    if (strlen(argv[1]) >= sizeof(p->mdevs->uuid))
        return perr(p, "mdev: '%s' is not a UUID", argv[1]);
    p->mdevs = xrealloc(p->mdevs, (p->nmdevs + 1) * sizeof(*p->mdevs));
    struct mdev_line *l = &p->mdevs[p->nmdevs++];
    snprintf(l->uuid, sizeof(l->uuid), "%s", argv[1]);
    l->type = t;
    l->line = p->line;
    return 0;
}

/* The PF (declared with numvfs=) that @addr will be a VF of, or NULL. */
static struct device *pf_of(const struct kernel *k, const struct hd_pci_addr *addr)
{
    struct hd_pci_addr a;

    for (size_t i = 0; i < k->ndevices; i++) {
        struct device *pf = k->devices[i];
        for (int v = 0; v < pf->spec_numvfs; v++)
            if (sriov_vf_addr(pf, v, &a) == 0 && hd_pci_addr_equal(&a, addr))
                return pf;
    }
    return NULL;
}

/* usb CONTROLLER BUS-PORT VVVV:PPPP [...]; scsi ADAPTER H:B:T:L [...] (usb.c, scsi.c) */
static int kw_usb_scsi(struct parser *p, int argc, char **argv)
{
    char err[256];

    if ((strcmp(argv[0], "usb") == 0 ? usb_add : scsi_add)(p->k, argc, argv, err,
                                                            sizeof(err)) < 0)
        return perr(p, "%s", err);
    return 0;
}

static int kw_vf(struct parser *p, int argc, char **argv)
{
    struct vf_line l = {.group = GROUP_AUTO, .line = p->line};
    long v;

    if (argc < 2)
        return perr(p, "usage: vf DDDD:BB:SS.F [driver=NAME] [override=NAME] [group=N|none]");
    if (parse_addr(p, "vf", argv[1], &l.addr) < 0)
        return -1;
    if (pf_of(p->k, &l.addr) == NULL)
        return perr(p, "vf %s: not a VF of a PF declared with numvfs=", argv[1]);
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        const char *val = eq ? eq + 1 : "";
        if (strncmp(argv[i], "driver=", 7) == 0 && driver_find(p->k, val))
            l.driver = (char *)val;
        else if (strncmp(argv[i], "override=", 9) == 0 && spec_name_ok(val))
            l.override = (char *)val;
        else if (strcmp(argv[i], "group=none") == 0)
            l.group = -1;
        else if (strncmp(argv[i], "group=", 6) == 0 && parse_num(val, 10, 0, 1000000, &v) == 0)
            l.group = (int)v;
        else
            return perr(p, "vf %s: bad option '%s' (or a driver not declared yet)", argv[1],
                        argv[i]);
    }
    l.driver = l.driver ? xstrdup(l.driver) : NULL;
    l.override = l.override ? xstrdup(l.override) : NULL;
    p->vfs = xrealloc(p->vfs, (p->nvfs + 1) * sizeof(*p->vfs));
    p->vfs[p->nvfs++] = l;
    return 0;
}

static bool kernel_path(const char *path)
{
    static const char *const tops[] = {"sys", "dev", "proc", ".fakesys"};

    for (size_t i = 0; i < FS_ARRAY_SIZE(tops); i++) {
        size_t l = strlen(tops[i]);
        if (strncmp(path, tops[i], l) == 0 && (path[l] == '/' || path[l] == '\0'))
            return true;
    }
    return false;
}

static int kw_file(struct parser *p, int argc, char **argv)
{
    bool dir = strcmp(argv[0], "dir") == 0;
    struct seed_file s = {.mode = dir ? 0755 : 0644};
    long v;

    if (argc < (dir ? 2 : 3))
        return perr(p,
                    dir ? "usage: dir PATH [mode=0755]" : "usage: file PATH CONTENT [mode=0644]");
    const char *path = argv[1];
    while (*path == '/')
        path++;
    if (*path == '\0' || kernel_path(path) || strstr(path, ".."))
        return perr(p, "%s: '%s' is not a path outside sys, dev and proc", argv[0], argv[1]);
    for (int i = dir ? 2 : 3; i < argc; i++) {
        if (strncmp(argv[i], "mode=", 5) == 0 && parse_num(argv[i] + 5, 8, 0, 07777, &v) == 0)
            s.mode = (mode_t)v;
        else
            return perr(p, "%s: bad option '%s'", argv[0], argv[i]);
    }
    s.path = xstrdup(path);
    if (!dir) { /* the content may hold NULs ("\x00": modules.builtin.modinfo) */
        s.len = p->lens[2];
        s.data = xmalloc(s.len + 1);
        memcpy(s.data, argv[2], s.len + 1);
    }
    p->k->seeds = xrealloc(p->k->seeds, (p->k->nseeds + 1) * sizeof(*p->k->seeds));
    p->k->seeds[p->k->nseeds++] = s;
    return 0;
}

static int kw_autoprobe(struct parser *p, int argc, char **argv)
{
    if (argc != 2 || parse_bool(argv[1], &p->k->drivers_autoprobe) < 0)
        return perr(p, "usage: drivers-autoprobe 0|1");
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct parser *p, int argc, char **argv);
} keywords[] = {
    {"kernel", kw_kernel}, {"feature", kw_feature}, {"cmdline", kw_cmdline}, {"cpu", kw_cpu},
    {"iommu", kw_iommu},   {"module", kw_module},   {"param", kw_param},
    {"driver", kw_driver}, {"device", kw_device},   {"net", kw_child},
    {"block", kw_child},   {"vf", kw_vf},           {"fault", kw_fault},
    {"file", kw_file},     {"dir", kw_file},        {"drivers-autoprobe", kw_autoprobe},
    {"graphics", kw_child}, {"mount", kw_hostuse},  {"swap", kw_hostuse},
    {"netdev", kw_hostuse}, {"holder", kw_hostuse}, {"loop", kw_hostuse}, {"zpool", kw_hostuse},
    {"btrfs", kw_hostuse},  {"mdev-type", kw_mdev_type}, {"mdev", kw_mdev},
    {"usb", kw_usb_scsi},   {"scsi", kw_usb_scsi},
};

/* ---- after the last line ------------------------------------------------------------------ */

/* Groups, reset methods and the driver a device starts on. */
static int device_finish(struct parser *p, struct device *dev)
{
    struct kernel *k = p->k;

    p->line = dev->line;
    if (!k->iommu_enabled) {
        if (dev->group >= 0)
            return perr(p, "%s: group= needs an enabled IOMMU (iommu intel|amd)", dev->name);
        dev->group = -1;
    } else if (dev->group == GROUP_AUTO) {
        dev->group = group_alloc(k);
    }
    memcpy(dev->reset_cur, dev->reset_default, sizeof(dev->reset_cur));
    dev->nreset_cur = dev->nreset_default;
    return 0;
}

/* Bind @dev to the driver named @name because the spec says it is bound (no probe). */
static int bind_as_stated(struct parser *p, struct device *dev, const char *name)
{
    struct driver *drv = driver_find(p->k, name);

    if (!driver_loaded(drv))
        return perr(p, "%s: driver %s is not loaded", dev->name, drv->name);
    if ((drv->flags & DRV_VFIO) && (dev->group < 0 || dev->header != 0))
        return perr(p, "%s: %s needs an endpoint in an IOMMU group", dev->name, drv->name);
    driver_bind(p->k, dev, drv);
    return 0;
}

/* A VF as a vf line describes it, or probed as the PF's autoprobe says. */
static int vf_initial(struct parser *p, struct device *vf)
{
    for (size_t i = 0; i < p->nvfs; i++) {
        struct vf_line *l = &p->vfs[i];
        if (!hd_pci_addr_equal(&l->addr, &vf->addr))
            continue;
        p->line = l->line;
        if (l->group != GROUP_AUTO) {
            if (l->group >= 0 && !p->k->iommu_enabled)
                return perr(p, "%s: group= needs an enabled IOMMU", vf->name);
            vf->group = l->group;
        }
        if (l->override) {
            free(vf->override); /* the one a vfio-pci PF gave it, sriov_enable() */
            vf->override = xstrdup(l->override);
        }
        return l->driver ? bind_as_stated(p, vf, l->driver) : 0;
    }
    /* Probed as the kernel would: with the PF's autoprobe off, only an override binds it. */
    device_attach(p->k, vf);
    return 0;
}

static int device_bind_initial(struct parser *p, struct device *dev)
{
    struct kernel *k = p->k;
    struct hd_pci_addr addr;

    p->line = dev->line;
    if (dev->spec_driver && bind_as_stated(p, dev, dev->spec_driver) < 0)
        return -1;
    if (dev->spec_numvfs == 0)
        return 0;
    /* Make them unbound, then bind each as its vf line says. */
    if (sriov_enable(k, dev, dev->spec_numvfs, false) < 0)
        return perr(p, "%s: its VFs collide with other devices", dev->name);
    for (int i = 0; i < dev->numvfs; i++) {
        sriov_vf_addr(dev, i, &addr);
        if (vf_initial(p, device_find(k, &addr)) < 0)
            return -1;
    }
    return 0;
}

static int spec_finish(struct parser *p)
{
    struct kernel *k = p->k;

    if (!p->set_override)
        k->feat_override = kernel_at_least(k, 3, 16);
    if (!p->set_reset_method)
        k->feat_reset_method = kernel_at_least(k, 5, 15);
    if (!p->set_vfio_dev)
        k->feat_vfio_dev = kernel_at_least(k, 6, 1);
    if (!p->set_vfio_cdev)
        k->feat_vfio_cdev = kernel_at_least(k, 6, 6);
    if (!p->set_mountinfo)
        k->feat_mountinfo = true; /* every kernel the fake models has it */
    if (!p->set_pt) {
        const char *pt = strstr(k->cmdline, "iommu=pt");
        k->iommu_pt = pt && (pt == k->cmdline || pt[-1] == ' ') && (pt[8] == '\0' || pt[8] == ' ');
    }
    for (size_t i = 0; i < k->ndevices; i++) {
        if (k->devices[i]->override && !k->feat_override) {
            p->line = k->devices[i]->line;
            return perr(p, "%s: override= on a kernel without driver_override",
                        k->devices[i]->name);
        }
        if (device_finish(p, k->devices[i]) < 0)
            return -1;
    }
    /* Bind in address order; VFs created on the way are probed by sriov_enable(). */
    size_t n = k->ndevices;
    struct device **spec_devs = xmalloc(n * sizeof(*spec_devs));
    if (n > 0) /* a spec without devices has k->devices NULL: memcpy() must not see it */
        memcpy(spec_devs, k->devices, n * sizeof(*spec_devs));
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        r = device_bind_initial(p, spec_devs[i]);
    free(spec_devs);
    if (r < 0)
        return -1;
    for (size_t i = 0; i < p->nmdevs; i++) {
        int e = mdev_create(k, p->mdevs[i].type, p->mdevs[i].uuid);
        p->line = p->mdevs[i].line;
        if (e < 0)
            return perr(p, "mdev %s: %s", p->mdevs[i].uuid,
                        e == -EEXIST  ? "given twice"
                        : e == -EUSERS ? "more than its type's instances="
                                       : "not a UUID (8-4-4-4-12 hex digits)");
    }
    sysfs_build(k);
    /* The directories every root has, so that a state directory can be made without -p. */
    tree_mkdirs(k->root, "etc");
    tree_mkdirs(k->root, "run");
    tree_mkdirs(k->root, "tmp")->mode = 01777;
    for (size_t i = 0; i < k->nseeds; i++) {
        struct seed_file *s = &k->seeds[i];
        const char *slash = strrchr(s->path, '/');
        char *dirpart = slash ? strndup(s->path, (size_t)(slash - s->path)) : xstrdup("");
        struct node *dir = tree_mkdirs(k->root, dirpart);
        if (s->data)
            tree_file(dir, slash ? slash + 1 : s->path, s->mode, s->data, s->len);
        else
            tree_mkdirs(k->root, s->path)->mode = s->mode;
        free(dirpart);
    }
    for (size_t i = 0; i < p->nfaults; i++)
        fault_add(k, p->fault_paths[i], &p->faults[i]);
    buf_reset(&k->log); /* the log tells what happened after the mount */
    return 0;
}

static int run_line(struct parser *p, const char *line)
{
    char **argv;
    char err[256];
    size_t *lens = NULL;
    int argc = spec_split_len(line, &argv, &lens, err, sizeof(err));
    int r = 0;

    p->lens = lens;

    if (argc < 0)
        return perr(p, "%s", err);
    if (argc > 0) {
        size_t i;
        for (i = 0; i < FS_ARRAY_SIZE(keywords) && strcmp(keywords[i].name, argv[0]) != 0; i++)
            ;
        if (i == FS_ARRAY_SIZE(keywords))
            r = perr(p, "unknown keyword '%s'", argv[0]);
        else
            r = keywords[i].fn(p, argc, argv);
    }
    strv_free(argv);
    free(lens);
    p->lens = NULL;
    return r;
}

int spec_load(struct kernel *k, const char *file, const char *text, char *err, size_t errsz)
{
    struct parser p = {.k = k, .file = file, .err = err, .errsz = errsz};
    int r = 0;

    free(k->spec_file);
    k->spec_file = xstrdup(file);
    for (const char *line = text; *line && r == 0;) {
        size_t len = strcspn(line, "\n");
        char *copy = strndup(line, len);
        p.line++;
        r = run_line(&p, copy);
        free(copy);
        line += len + (line[len] == '\n');
    }
    if (r == 0)
        r = spec_finish(&p);
    for (size_t i = 0; i < p.nvfs; i++) {
        free(p.vfs[i].driver);
        free(p.vfs[i].override);
    }
    free(p.vfs);
    for (size_t i = 0; i < p.nfaults; i++)
        free(p.fault_paths[i]);
    free(p.fault_paths);
    free(p.faults);
    free(p.mdevs);
    return r;
}

int spec_device_line(struct kernel *k, const char *line, struct device **out, char *err,
                     size_t errsz)
{
    struct parser p = {.k = k, .err = err, .errsz = errsz};
    char **argv, **words;
    char serr[256];
    int argc = spec_split(line, &words, serr, sizeof(serr));
    struct device *dev = NULL;
    int r;

    if (argc < 0)
        return perr(&p, "%s", serr);
    /* The words of a `device` line, without the keyword. */
    argv = xcalloc((size_t)argc + 2, sizeof(char *));
    argv[0] = "device";
    memcpy(argv + 1, words, (size_t)argc * sizeof(char *));
    r = kw_device_words(&p, argc + 1, argv, &dev);
    if (r == 0 && dev == NULL) /* cannot be; the analyzer does not follow variadic perr() */
        r = -1;
    if (r == 0) {
        dev->line = 0;
        r = device_finish(&p, dev);
    }
    if (r == 0 && dev->spec_driver)
        r = perr(&p, "%s: driver= makes no sense for a hotplugged device", dev->name);
    if (r == 0 && dev->spec_numvfs)
        r = perr(&p, "%s: numvfs= makes no sense for a hotplugged device", dev->name);
    if (r < 0 && dev)
        device_delete(k, dev);
    free(argv);
    strv_free(words);
    *out = r == 0 ? dev : NULL;
    return r;
}
