/* capture.c - reads a real sysfs (read-only) and prints a spec that reproduces it. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"

struct cap_dev {
    struct hd_pci_addr addr;
    char name[HD_PCI_ADDR_BUFSZ];
    char parent[HD_PCI_ADDR_BUFSZ]; /* "" on a root bus */
    char *driver;
    bool emitted;
    bool is_vf;
};

/* A list of strings; @used marks the ones a line took (the rest are said skipped). */
struct strs {
    char **v;
    bool *used;
    size_t n;
};

/* Where a block device or interface sits: the PCI function above it, and whether a USB device
 * or a SCSI host is in between (then a `usb` or `scsi` line makes it, not `net`/`block`). */
struct placement {
    char pci[HD_PCI_ADDR_BUFSZ]; /* "" when none */
    bool virtual;                /* sys/devices/virtual */
    bool usb, scsi;
    char *path; /* the resolved path below the sysfs root, "devices/..." */
};

/* An entry of sys/class/net or sys/class/block, where it sits read once. */
struct cap_entry {
    char *name;
    char *dir; /* SYSFS/class/CLASS/NAME */
    struct placement pl;
};

struct capture {
    const char *sysfs;
    const char *procdir;
    FILE *out;
    struct cap_dev *devs;
    size_t ndevs;
    bool iommu_on;
    struct strs words;   /* "IFNAME WORD": route=, route6=, inet=, inet6= words of interfaces */
    struct strs masters; /* virtual interfaces a master= may name (bridge, bond, vrf) */
    struct strs blocks;  /* block devices declared so far (holders name only those) */
    struct strs nets;    /* interfaces declared so far (a vlan's lower= names only those) */
    struct strs usbs;    /* USB devices written */
    struct cap_entry *netv, *blockv, *fbv; /* sys/class/net, block, graphics */
    size_t nnet, nblock, nfb;
};

/* Read a small file (first line, newline stripped) into a new string; NULL if unreadable. */
static char *readline_at(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    char *text = NULL;

    if (read_file(path, &text, NULL) == 0)
        text[strcspn(text, "\n")] = '\0';
    free(path);
    return text;
}

static long read_num(const char *dir, const char *name, int base, long dflt)
{
    char *t = readline_at(dir, name);
    char *end;
    long v = dflt;

    if (t && *t) {
        long x = strtol(t, &end, base);
        if (end != t)
            v = x;
    }
    free(t);
    return v;
}

static char *link_base(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    char target[4096];
    ssize_t n = readlink(path, target, sizeof(target) - 1);

    free(path);
    if (n < 0)
        return NULL;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    return xstrdup(slash ? slash + 1 : target);
}

static bool exists(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct stat st;
    bool r = lstat(path, &st) == 0;

    free(path);
    return r;
}

static int names_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries of @path (no dot files), sorted. */
static char **list_dir(const char *path, size_t *n)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char **v = NULL;

    *n = 0;
    if (d == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        v = xrealloc(v, (*n + 1) * sizeof(char *));
        v[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof(char *), names_cmp);
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void strs_push(struct strs *s, const char *text)
{
    s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->used = xrealloc(s->used, (s->n + 1) * sizeof(*s->used));
    s->v[s->n] = xstrdup(text);
    s->used[s->n++] = false;
}

static bool strs_has(const struct strs *s, const char *text)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], text) == 0)
            return true;
    return false;
}

static void strs_free(struct strs *s)
{
    free_list(s->v, s->n);
    free(s->used);
    *s = (struct strs){0};
}

/* A word that the spec reads back as it is: quoted when it holds blanks, quotes, '#' or bytes
 * outside printable ASCII. */
static void put_word(FILE *o, const char *key, const char *value)
{
    char *word = key ? xasprintf("%s=%s", key, value) : xstrdup(value);
    bool plain = *word != '\0';

    for (const char *p = word; *p && plain; p++)
        plain = (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f && *p != '"' && *p != '\\' &&
                *p != '#';
    if (plain) {
        fprintf(o, " %s", word);
    } else {
        struct buf b = {0};
        buf_quote(&b, word, strlen(word));
        fprintf(o, " %s", b.data);
        buf_free(&b);
    }
    free(word);
}

/* A sysfs attribute as text, trailing blanks cut (SCSI vendor and model are padded). */
static char *read_trimmed(const char *dir, const char *name)
{
    char *t = readline_at(dir, name);
    size_t n = t ? strlen(t) : 0;

    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        t[--n] = '\0';
    if (t && n == 0) {
        free(t);
        return NULL;
    }
    return t;
}

/* Where sysfs entry @link (a sys/class or sys/bus link) leads: see struct placement. */
static void place(const struct capture *c, const char *link, struct placement *pl)
{
    char *path = xasprintf("%s/%s", c->sysfs, link);
    char real[PATH_MAX], root[PATH_MAX];

    *pl = (struct placement){0};
    if (realpath(path, real) != NULL && realpath(c->sysfs, root) != NULL &&
        strncmp(real, root, strlen(root)) == 0 && real[strlen(root)] == '/') {
        pl->path = xstrdup(real + strlen(root) + 1);
        pl->virtual = strncmp(pl->path, "devices/virtual/", 16) == 0;
        char *copy = xstrdup(pl->path), *save = NULL;
        bool below_pci = false;
        for (char *w = strtok_r(copy, "/", &save); w; w = strtok_r(NULL, "/", &save)) {
            struct hd_pci_addr a;
            int n = -1;
            if (hd_pci_addr_parse(w, &a) == 0) {
                hd_pci_addr_format(&a, pl->pci);
                below_pci = true;
                pl->usb = pl->scsi = false;
            } else if (below_pci && sscanf(w, "usb%*u%n", &n) >= 0 && n == (int)strlen(w)) {
                pl->usb = true;
            } else if (below_pci && sscanf(w, "host%*u%n", &n) >= 0 && n == (int)strlen(w)) {
                pl->scsi = true;
            }
        }
        free(copy);
    }
    free(path);
}

/* The entries of sys/class/@cls, sorted, each with where it sits. */
static struct cap_entry *load_entries(const struct capture *c, const char *cls, size_t *n)
{
    char *cdir = xasprintf("%s/class/%s", c->sysfs, cls);
    char **names = list_dir(cdir, n);
    struct cap_entry *v = xcalloc(*n + 1, sizeof(*v));

    for (size_t i = 0; i < *n; i++) {
        char *rel = xasprintf("class/%s/%s", cls, names[i]);
        v[i].name = names[i];
        v[i].dir = xasprintf("%s/%s", cdir, names[i]);
        place(c, rel, &v[i].pl);
        free(rel);
    }
    free(names); /* the strings live on in v */
    free(cdir);
    return v;
}

static void free_entries(struct cap_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].dir);
        free(v[i].pl.path);
    }
    free(v);
}

/* ---- routes and addresses: proc/net, one word per fact, kept by interface ---------------- */

static void add_word(struct capture *c, const char *ifname, const char *fmt, ...) FS_PRINTF(3, 4);
static void add_word(struct capture *c, const char *ifname, const char *fmt, ...)
{
    va_list ap;
    char word[160];

    va_start(ap, fmt);
    vsnprintf(word, sizeof(word), fmt, ap);
    va_end(ap);
    char *entry = xasprintf("%s %s", ifname, word);
    if (!strs_has(&c->words, entry)) /* the same prefix by two gateways is one route= */
        strs_push(&c->words, entry);
    free(entry);
}

static char **read_lines(const char *dir, const char *name, size_t *n)
{
    char *path = xasprintf("%s/%s", dir, name), *text = NULL, **v = NULL;

    *n = 0;
    if (read_file(path, &text, NULL) == 0) {
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            v = xrealloc(v, (*n + 1) * sizeof(*v));
            v[(*n)++] = xstrdup(l);
        }
    }
    free(text);
    free(path);
    return v;
}

/* @s, all of it, as a number in @base no greater than @max. */
static bool parse_ul(const char *s, int base, unsigned long max, unsigned long *out)
{
    char *end;

    if (s == NULL || !((*s >= '0' && *s <= '9') || (base == 16 && strchr("abcdefABCDEF", *s))))
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, base);
    if (*end != '\0' || errno != 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* "MAJ:MIN" (a `dev` attribute) */
static bool parse_devnum(const char *s, unsigned long *maj, unsigned long *min)
{
    char major[16];
    const char *colon = s ? strchr(s, ':') : NULL;

    if (colon == NULL || (size_t)(colon - s) >= sizeof(major))
        return false;
    memcpy(major, s, (size_t)(colon - s));
    major[colon - s] = '\0';
    return parse_ul(major, 10, 4095, maj) && parse_ul(colon + 1, 10, 1048575, min);
}

/* 32 hex digits as an IPv6 address's text. */
static bool hex_inet6(const char *hex, char *text, size_t size)
{
    unsigned char a[16];

    if (strlen(hex) != 32 || strspn(hex, "0123456789abcdefABCDEF") != 32)
        return false;
    for (int i = 0; i < 16; i++) {
        char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
        a[i] = (unsigned char)strtoul(byte, NULL, 16);
    }
    return inet_ntop(AF_INET6, a, text, (socklen_t)size) != NULL;
}

/* "A.B.C.D/LEN" as the spec takes it. */
static bool inet4_prefix_ok(const char *s)
{
    char addr[INET_ADDRSTRLEN];
    uint32_t a;
    unsigned long len;
    const char *slash = strchr(s, '/');

    if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
        return false;
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    return inet_pton(AF_INET, addr, &a) == 1 && parse_ul(slash + 1, 10, 32, &len);
}

/* The length of a netmask (host order), or -1 when it is not a prefix. */
static int mask_len(uint32_t mask)
{
    int len = 0;

    while (len < 32 && (mask & (0x80000000u >> len)))
        len++;
    return len == 32 || (mask << len) == 0 ? len : -1;
}

/* What only rtnetlink shows of the running system: IPv4 addresses, and IPv4 unicast routes of
 * tables other than main (in net/route) and local (the kernel's own, for its addresses). */
static int rtnl_word(void *data, const struct hd_rtnl_fact *f)
{
    static const unsigned char any[4];
    char text[INET_ADDRSTRLEN];

    if (f->family != AF_INET || strcmp(f->ifname, "lo") == 0 ||
        inet_ntop(AF_INET, f->addr_len == 4 ? f->addr : any, text, sizeof(text)) == NULL)
        return 0;
    if (f->kind == HD_RTNL_ADDR)
        add_word(data, f->ifname, "inet=%s/%u", text, f->prefix);
    else if (f->type == RTN_UNICAST && f->table != RT_TABLE_MAIN && f->table != RT_TABLE_LOCAL)
        add_word(data, f->ifname, "route=%s/%u@%u", text, f->prefix, (unsigned)f->table);
    return 0;
}

static void gather_routes(struct capture *c)
{
    size_t n;
    char **lines = read_lines(c->procdir, "net/route", &n);
    char *w[10];
    unsigned long dest, mask, plen, table;

    /* Iface Destination Gateway Flags RefCnt Use Metric Mask ...: words in network order */
    for (size_t i = 1; i < n; i++) {
        char text[INET_ADDRSTRLEN];
        if (hd_split_fields(lines[i], w, 8) != 8 || !parse_ul(w[1], 16, 0xffffffffUL, &dest) ||
            !parse_ul(w[7], 16, 0xffffffffUL, &mask))
            continue;
        int len = mask_len(ntohl((uint32_t)mask));
        uint32_t d = (uint32_t)dest;
        if (len >= 0 && inet_ntop(AF_INET, &d, text, sizeof(text)))
            add_word(c, w[0], "route=%s/%d", text, len);
    }
    free_list(lines, n);

    /* dest plen src slen nexthop metric refcnt use flags iface: every table's */
    lines = read_lines(c->procdir, "net/ipv6_route", &n);
    for (size_t i = 0; i < n; i++) {
        char text[INET6_ADDRSTRLEN];
        if (hd_split_fields(lines[i], w, 10) == 10 && parse_ul(w[1], 16, 128, &plen) &&
            hex_inet6(w[0], text, sizeof(text)))
            add_word(c, w[9], "route6=%s/%lu", text, plen);
    }
    free_list(lines, n);

    /* addr ifindex plen scope flags iface; lo's ::1 the fake kernel has anyway */
    lines = read_lines(c->procdir, "net/if_inet6", &n);
    for (size_t i = 0; i < n; i++) {
        char text[INET6_ADDRSTRLEN];
        if (hd_split_fields(lines[i], w, 6) == 6 && parse_ul(w[2], 16, 128, &plen) &&
            hex_inet6(w[0], text, sizeof(text)) &&
            !(strcmp(w[5], "lo") == 0 && strcmp(text, "::1") == 0))
            add_word(c, w[5], "inet6=%s/%lu", text, plen);
    }
    free_list(lines, n);

    /* The running system: rtnetlink has what proc/net lacks. A fake kernel: its stand-in for
     * rtnetlink (docs/fakesys-spec.md). */
    if (strcmp(c->procdir, "/proc") == 0) {
        int r = hd_rtnl_walk(rtnl_word, c);
        if (r < 0)
            fprintf(c->out, "# IPv4 addresses and routes of tables other than main not captured "
                            "(rtnetlink: %s)\n", strerror(-r));
        return;
    }
    if (!exists(c->procdir, "net/hostdev-rtnl"))
        fprintf(c->out, "# IPv4 addresses and routes of tables other than main not captured "
                        "(only rtnetlink shows them)\n");
    lines = read_lines(c->procdir, "net/hostdev-rtnl", &n);
    for (size_t i = 0; i < n; i++) {
        int k = (int)hd_split_fields(lines[i], w, 4);
        if (k == 4 && strcmp(w[0], "route") == 0 && parse_ul(w[1], 10, 0xffffffffUL, &table) &&
            table > 0 && inet4_prefix_ok(w[3]))
            add_word(c, w[2], "route=%s@%lu", w[3], table);
        else if (k == 3 && strcmp(w[0], "addr") == 0 && inet4_prefix_ok(w[2]))
            add_word(c, w[1], "inet=%s", w[2]);
    }
    free_list(lines, n);
}

/* The words gathered for interface @ifname, marked used. */
static void put_net_words(struct capture *c, FILE *o, const char *ifname)
{
    size_t len = strlen(ifname);

    for (size_t i = 0; i < c->words.n; i++) {
        if (strncmp(c->words.v[i], ifname, len) == 0 && c->words.v[i][len] == ' ') {
            fprintf(o, " %s", c->words.v[i] + len + 1);
            c->words.used[i] = true;
        }
    }
}

/* "cpu VENDOR [hypervisor]" from the first CPU of proc/cpuinfo (x86 says both). */
static void capture_cpu(struct capture *c, const char *procdir)
{
    char *path = xasprintf("%s/cpuinfo", procdir), *text = NULL, *line, *flags = NULL;
    char vendor[64] = "";

    if (read_file(path, &text, NULL) == 0) {
        for (line = text; line != NULL && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            size_t len = strcspn(line, "\n");
            const char *colon = memchr(line, ':', len);
            if (colon == NULL)
                continue;
            if (strncmp(line, "vendor_id", 9) == 0 && vendor[0] == '\0') {
                colon += 1 + strspn(colon + 1, " \t");
                snprintf(vendor, sizeof(vendor), "%.*s", (int)strcspn(colon, " \t\n"), colon);
            } else if (strncmp(line, "flags", 5) == 0 && flags == NULL) {
                flags = xasprintf(" %.*s ", (int)(len - (size_t)(colon + 1 - line)), colon + 1);
            }
        }
    }
    if (vendor[0] && spec_name_ok(vendor))
        fprintf(c->out, "cpu %s%s\n", vendor,
                flags && strstr(flags, " hypervisor ") ? " hypervisor" : "");
    free(flags);
    free(text);
    free(path);
}

static void capture_kernel(struct capture *c, const char *procdir)
{
    char *ver = readline_at(procdir, "sys/kernel/osrelease");
    char *cmdline = readline_at(procdir, "cmdline");
    char *classdir = xasprintf("%s/class/iommu", c->sysfs);
    size_t n;
    char **iommus = list_dir(classdir, &n);
    struct buf b = {0};

    if (ver)
        fprintf(c->out, "kernel %s\n", ver);
    if (cmdline) {
        buf_quote(&b, cmdline, strlen(cmdline));
        fprintf(c->out, "cmdline %s\n", b.data);
    }
    capture_cpu(c, procdir);
    const char *kind = NULL;
    for (size_t i = 0; i < n && !kind; i++)
        kind = strncmp(iommus[i], "dmar", 4) == 0   ? "intel"
               : strncmp(iommus[i], "ivhd", 4) == 0 ? "amd"
               : strncmp(iommus[i], "smmu", 4) == 0 ? "smmu"
                                                    : NULL;
    char *tables = xasprintf("%s/firmware/acpi/tables", c->sysfs);
    if (kind) {
        c->iommu_on = true;
        bool irq = true;
        if (strcmp(kind, "intel") == 0) {
            char *dir = xasprintf("%s/%s/intel-iommu", classdir, iommus[0]);
            long ecap = read_num(dir, "ecap", 16, 0x8);
            irq = (ecap & 0x8) != 0;
            free(dir);
        }
        /* iommu=pt shows as identity domains */
        char *gdir = xasprintf("%s/kernel/iommu_groups", c->sysfs);
        size_t ng;
        char **groups = list_dir(gdir, &ng);
        bool pt = false;
        if (ng) {
            char *g0 = xasprintf("%s/%s", gdir, groups[0]);
            char *type = readline_at(g0, "type");
            pt = type && strcmp(type, "identity") == 0;
            free(type);
            free(g0);
        }
        free_list(groups, ng);
        free(gdir);
        fprintf(c->out, "iommu %s irq-remap=%s pt=%s\n", kind, irq ? "yes" : "no",
                pt ? "yes" : "no");
    } else if (exists(tables, "DMAR")) {
        fprintf(c->out, "iommu intel enabled=no\n");
    } else if (exists(tables, "IVRS")) {
        fprintf(c->out, "iommu amd enabled=no\n");
    } else {
        fprintf(c->out, "iommu none\n");
    }
    free(tables);
    free_list(iommus, n);
    free(classdir);
    buf_free(&b);
    free(ver);
    free(cmdline);

    static const char *const params[][2] = {
        {"vfio_iommu_type1", "allow_unsafe_interrupts"},
        {"vfio", "enable_unsafe_noiommu_mode"},
        {"vfio_pci", "enable_sriov"},
    };
    for (size_t i = 0; i < FS_ARRAY_SIZE(params); i++) {
        char *dir = xasprintf("%s/module/%s/parameters", c->sysfs, params[i][0]);
        char *v = readline_at(dir, params[i][1]);
        if (v)
            fprintf(c->out, "param %s %s %s\n", params[i][0], params[i][1], v);
        free(v);
        free(dir);
    }
}

static void capture_drivers(struct capture *c)
{
    char *ddir = xasprintf("%s/bus/pci/drivers", c->sysfs);
    size_t n;
    char **drivers = list_dir(ddir, &n);

    for (size_t i = 0; i < n; i++) {
        char *dir = xasprintf("%s/%s", ddir, drivers[i]);
        char *mod = link_base(dir, "module");
        const char *name = drivers[i];
        bool stub = strcmp(name, "vfio-pci") == 0 || strcmp(name, "pci-stub") == 0;
        bool vfio = strstr(name, "vfio") != NULL;
        struct buf ids = {0};
        bool sriov = false;

        /* The id table is not in sysfs: what is bound now is what it must match. */
        for (size_t d = 0; d < c->ndevs && !stub; d++) {
            struct cap_dev *cd = &c->devs[d];
            if (cd->driver == NULL || strcmp(cd->driver, name) != 0)
                continue;
            char *ddev = xasprintf("%s/bus/pci/devices/%s", c->sysfs, cd->name);
            char *id = xasprintf("%04lx:%04lx", read_num(ddev, "vendor", 16, 0),
                                 read_num(ddev, "device", 16, 0));
            if (ids.data == NULL || !strstr(ids.data, id))
                buf_printf(&ids, "%s%s", ids.len ? "," : "", id);
            sriov |= read_num(ddev, "sriov_totalvfs", 10, 0) > 0;
            free(id);
            free(ddev);
        }
        fprintf(c->out, "driver %s", name);
        if (mod)
            fprintf(c->out, " module=%s", mod);
        else
            fprintf(c->out, " builtin");
        if (stub)
            fprintf(c->out, " stub");
        if (vfio)
            fprintf(c->out, " vfio");
        if (sriov || vfio)
            fprintf(c->out, " sriov");
        if (ids.len)
            fprintf(c->out, " ids=%s", ids.data);
        fputc('\n', c->out);
        buf_free(&ids);
        free(mod);
        free(dir);
    }
    free_list(drivers, n);
    free(ddir);
}

static struct cap_dev *find_dev(struct capture *c, const char *name)
{
    for (size_t i = 0; i < c->ndevs; i++)
        if (strcmp(c->devs[i].name, name) == 0)
            return &c->devs[i];
    return NULL;
}

static const char *const port_names[16] = {
    [0] = "endpoint",   [1] = "legacy-endpoint", [4] = "root-port",   [5] = "upstream",
    [6] = "downstream", [7] = "pcie-pci-bridge", [9] = "rc-endpoint",
};

/* Where the PCI Express capability starts in config space (the first 16 bytes of it read), or
 * 0 without one. */
static unsigned int pcie_cap(const uint8_t *cfg, size_t len)
{
    unsigned int pos = len > 0x34 ? cfg[0x34] : 0;

    for (int hops = 0; pos >= 0x40 && pos + 15 < len && hops < 48; hops++) {
        if (cfg[pos] == 0x10)
            return pos;
        pos = cfg[pos + 1];
    }
    return 0;
}

/* The PCIe port type from config space, or -1. */
static int port_type(const uint8_t *cfg, size_t len)
{
    unsigned int pos = pcie_cap(cfg, len);

    return pos ? (cfg[pos + 2] >> 4) & 0xf : -1;
}

/* The port number of the Link Capabilities register (bits 31:24), or -1. */
static int link_port(const uint8_t *cfg, size_t len)
{
    unsigned int pos = pcie_cap(cfg, len);

    return pos ? cfg[pos + 0x0c + 3] : -1;
}

/* key=SPEEDGT/s,xWIDTH from the two attributes; whether it said one. */
static bool link_opt(FILE *out, const char *dir, const char *speed, const char *width,
                     const char *key)
{
    char *s = readline_at(dir, speed);
    long w = read_num(dir, width, 10, 0);
    bool said = false;

    if (s && w > 0 && strncmp(s, "Unknown", 7) != 0) {
        s[strcspn(s, " ")] = '\0'; /* "8.0 GT/s PCIe" */
        fprintf(out, " %s=%sGT/s,x%ld", key, s, w);
        said = true;
    }
    free(s);
    return said;
}

/* ---- interfaces and block devices -------------------------------------------------------- */

/* What DEVTYPE= a virtual interface's uevent says, "loopback" for lo (ifindex 1, no DEVTYPE),
 * or NULL when the spec has no word for it (veth, tun, ifb, ...). */
static const char *vnet_kind(const char *idir)
{
    char *path = xasprintf("%s/uevent", idir), *text = NULL;
    const char *kind = NULL;

    if (read_file(path, &text, NULL) == 0) {
        static const char *const kinds[] = {"bridge", "bond", "vlan", "vrf"};
        char *dt = strstr(text, "DEVTYPE=");
        for (size_t i = 0; dt && i < FS_ARRAY_SIZE(kinds); i++) {
            size_t n = strlen(kinds[i]);
            if (strncmp(dt + 8, kinds[i], n) == 0 && (dt[8 + n] == '\n' || dt[8 + n] == '\0'))
                kind = kinds[i];
        }
        if (dt == NULL && (strstr(text, "\nIFINDEX=1\n") || strncmp(text, "IFINDEX=1\n", 10) == 0))
            kind = "loopback";
    }
    free(text);
    free(path);
    return kind;
}

/* The name after @prefix of the first entry of @dir that starts with it (lower_eth0), or NULL. */
static char *entry_after(const char *dir, const char *prefix)
{
    size_t n, len = strlen(prefix);
    char **v = list_dir(dir, &n), *r = NULL;

    for (size_t i = 0; i < n && r == NULL; i++)
        if (strncmp(v[i], prefix, len) == 0 && v[i][len])
            r = xstrdup(v[i] + len);
    free_list(v, n);
    return r;
}

/* `net BDF NAME ...` (@devname set) or `netdev NAME KIND ...`: MAC, down, speed, master,
 * lower, routes and addresses. */
static void emit_net(struct capture *c, const char *devname, const char *name, const char *kind)
{
    char *idir = xasprintf("%s/class/net/%s", c->sysfs, name);
    char *mac = devname ? readline_at(idir, "address") : NULL;
    long flags = read_num(idir, "flags", 16, 1);
    long speed = read_num(idir, "speed", 10, 0);
    char *master = link_base(idir, "master");
    char *lower = kind && strcmp(kind, "vlan") == 0 ? entry_after(idir, "lower_") : NULL;
    FILE *o = c->out;

    if (devname)
        fprintf(o, "net %s %s", devname, name);
    else
        fprintf(o, "netdev %s %s", name, kind);
    if (mac && strspn(mac, "0123456789abcdefABCDEF:") == strlen(mac) && *mac)
        fprintf(o, " mac=%s", mac);
    if (!(flags & 0x1))
        fprintf(o, " down");
    if (speed > 0 && speed <= 10000000)
        fprintf(o, " speed=%ld", speed);
    bool master_ok = master && strs_has(&c->masters, master);
    if (master_ok)
        fprintf(o, " master=%s", master);
    if (lower)
        fprintf(o, " lower=%s", lower);
    put_net_words(c, o, name);
    fputc('\n', o);
    if (master && !master_ok)
        fprintf(o, "# %s: master %s not captured (not a bridge, bond or VRF the spec has)\n",
                name, master);
    strs_push(&c->nets, name);
    free(lower);
    free(master);
    free(mac);
    free(idir);
}

/* Virtual interfaces: lo, bridges, bonds, VRFs before the devices (their ports name them with
 * master=, a master before its ports); @vlans: the VLANs, after the interfaces below them. */
static void emit_vnets(struct capture *c, bool vlans)
{
    struct cap_entry *v = c->netv;
    size_t n = c->nnet;
    bool *done = xcalloc(n + 1, sizeof(bool));

    for (size_t i = 0; i < n; i++) {
        /* what the other pass has, or what no pass can say */
        const char *kind = v[i].pl.virtual ? vnet_kind(v[i].dir) : NULL;
        done[i] = !v[i].pl.virtual || (kind && (strcmp(kind, "vlan") == 0) != vlans);
        if (!vlans && v[i].pl.virtual && kind == NULL)
            fprintf(c->out, "# interface %s not captured (a kind the spec has no word for)\n",
                    v[i].name);
        else if (!vlans && !v[i].pl.virtual && (v[i].pl.pci[0] == '\0' || v[i].pl.usb))
            fprintf(c->out, "# interface %s not captured (not on a PCI device)\n", v[i].name);
        done[i] |= kind == NULL;
    }
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            const char *kind = vnet_kind(v[i].dir);
            bool vlan = strcmp(kind, "vlan") == 0;
            /* a master still to come first; a vlan's lower interface before it */
            char *m = link_base(v[i].dir, "master");
            char *lower = vlan ? entry_after(v[i].dir, "lower_") : NULL;
            bool wait = vlan && (lower == NULL || !strs_has(&c->nets, lower));
            for (size_t j = 0; m && j < n; j++)
                wait |= !done[j] && j != i && strcmp(v[j].name, m) == 0;
            if (!wait && spec_name_ok(v[i].name)) {
                emit_net(c, NULL, v[i].name, kind);
                if (!vlan && strcmp(kind, "loopback") != 0)
                    strs_push(&c->masters, v[i].name);
                done[i] = progress = true;
            }
            free(lower);
            free(m);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!done[i])
            fprintf(c->out, "# interface %s not captured (%s)\n", v[i].name,
                    spec_name_ok(v[i].name) ? "what it sits on is not" : "its name");
    }
    free(done);
}

/* `block BDF NAME dev= size= [disk=] [serial=]` for the block devices below @bdf that are neither
 * virtual nor made by a usb or scsi line: @parts false the disks, true the partitions (of
 * any disk declared before, SCSI ones too). */
static void emit_blocks(struct capture *c, const char *bdf, bool parts, bool scsi)
{
    for (size_t i = 0; i < c->nblock; i++) {
        const struct cap_entry *e = &c->blockv[i];
        bool part = exists(e->dir, "partition");
        if (e->pl.virtual || strcmp(e->pl.pci, bdf) != 0 || part != parts ||
            (e->pl.scsi || e->pl.usb) != scsi || strs_has(&c->blocks, e->name))
            continue;
        /* a partition's directory is in its disk's */
        const char *slash = e->pl.path ? strrchr(e->pl.path, '/') : NULL;
        char *disk = NULL;
        if (part && slash) {
            const char *start = slash;
            while (start > e->pl.path && start[-1] != '/')
                start--;
            disk = xasprintf("%.*s", (int)(slash - start), start);
        }
        if (!spec_name_ok(e->name) || (part && (disk == NULL || !strs_has(&c->blocks, disk)))) {
            fprintf(c->out, "# block device %s not captured\n", e->name);
        } else {
            char *dev = readline_at(e->dir, "dev");
            unsigned long maj, min;
            long size = read_num(e->dir, "size", 10, 0);
            fprintf(c->out, "block %s %s", bdf, e->name);
            if (parse_devnum(dev, &maj, &min))
                fprintf(c->out, " dev=%lu:%lu", maj, min);
            if (size > 0)
                fprintf(c->out, " size=%ld", size);
            if (part)
                fprintf(c->out, " disk=%s", disk);
            char *serial =
                part || !exists(e->dir, "serial") ? NULL : read_trimmed(e->dir, "serial");
            if (serial != NULL && serial[0] && strlen(serial) <= 20)
                put_word(c->out, "serial", serial); /* a virtio disk's */
            fputc('\n', c->out);
            strs_push(&c->blocks, e->name);
            free(serial);
            free(dev);
        }
        free(disk);
    }
}

/* A device's interfaces and block devices, after its line. */
static void emit_children(struct capture *c, const char *bdf)
{
    for (size_t i = 0; i < c->nnet; i++) {
        const struct cap_entry *e = &c->netv[i];
        if (e->pl.virtual || e->pl.usb || strcmp(e->pl.pci, bdf) != 0)
            continue;
        if (spec_name_ok(e->name))
            emit_net(c, bdf, e->name, NULL);
        else
            fprintf(c->out, "# interface %s not captured (its name)\n", e->name);
    }
    emit_blocks(c, bdf, false, false);
    emit_blocks(c, bdf, true, false);
    for (size_t i = 0; i < c->nfb; i++) {
        const struct cap_entry *e = &c->fbv[i];
        if (!e->pl.virtual && strcmp(e->pl.pci, bdf) == 0 && strncmp(e->name, "fb", 2) == 0 &&
            spec_name_ok(e->name))
            fprintf(c->out, "graphics %s %s\n", bdf, e->name);
    }
}

/* A VF's interfaces and block devices: a `net` or `block` line names a declared device, which a
 * VF made by numvfs= is not, so they are said not captured. */
static void skip_vf_children(struct capture *c, const char *vf)
{
    for (size_t i = 0; i < c->nnet; i++) {
        if (!c->netv[i].pl.virtual && strcmp(c->netv[i].pl.pci, vf) == 0)
            fprintf(c->out, "# interface %s not captured (on VF %s)\n", c->netv[i].name, vf);
    }
    for (size_t i = 0; i < c->nblock; i++) {
        if (!c->blockv[i].pl.virtual && strcmp(c->blockv[i].pl.pci, vf) == 0)
            fprintf(c->out, "# block device %s not captured (on VF %s)\n", c->blockv[i].name, vf);
    }
}

static void emit_device(struct capture *c, struct cap_dev *cd)
{
    if (cd->emitted || cd->is_vf)
        return;
    cd->emitted = true;
    if (cd->parent[0]) {
        struct cap_dev *p = find_dev(c, cd->parent);
        if (p)
            emit_device(c, p);
    }
    char *dir = xasprintf("%s/bus/pci/devices/%s", c->sysfs, cd->name);
    FILE *o = c->out;
    long cls = read_num(dir, "class", 16, 0);
    uint8_t cfg[256] = {0};
    size_t cfglen = 0;
    char *cpath = xasprintf("%s/config", dir);
    char *ctext;
    struct stat st;
    bool pcie = stat(cpath, &st) == 0 && st.st_size > 256;
    if (read_file(cpath, &ctext, &cfglen) == 0) {
        memcpy(cfg, ctext, cfglen < sizeof(cfg) ? cfglen : sizeof(cfg));
        cfglen = cfglen < sizeof(cfg) ? cfglen : sizeof(cfg);
        free(ctext);
    }
    free(cpath);

    fprintf(o, "device %s %04lx:%04lx subsys=%04lx:%04lx class=%06lx rev=%02lx", cd->name,
            read_num(dir, "vendor", 16, 0), read_num(dir, "device", 16, 0),
            read_num(dir, "subsystem_vendor", 16, 0), read_num(dir, "subsystem_device", 16, 0), cls,
            read_num(dir, "revision", 16, cfglen > 8 ? cfg[8] : 0));
    if (cd->parent[0])
        fprintf(o, " parent=%s", cd->parent);
    else if (cd->addr.bus != 0)
        fprintf(o, " parent=root"); /* a root bus of its own, like pci0000:80 */
    int header = cfglen > 0x0e ? cfg[0x0e] & 0x7f : -1;
    int derived = (cls >> 8) == 0x0604 ? 1 : (cls >> 8) == 0x0607 ? 2 : 0;
    if (header >= 0 && header <= 2 && header != derived)
        fprintf(o, " header=%d", header);
    if (header == 1 && cfglen > 0x19 && cfg[0x19])
        fprintf(o, " secondary=%02x", cfg[0x19]);
    if (cd->driver)
        fprintf(o, " driver=%s", cd->driver);
    char *ov = readline_at(dir, "driver_override");
    if (ov && strcmp(ov, "(null)") != 0 && *ov)
        fprintf(o, " override=%s", ov);
    free(ov);
    char *group = link_base(dir, "iommu_group");
    if (group && c->iommu_on)
        fprintf(o, " group=%s", group);
    free(group);
    long numa = read_num(dir, "numa_node", 10, -1);
    if (numa >= 0)
        fprintf(o, " numa=%ld", numa);
    if (read_num(dir, "boot_vga", 10, 0) == 1)
        fprintf(o, " boot-vga=yes");
    char *rm = readline_at(dir, "reset_method");
    if (rm && *rm) {
        for (char *p = rm; *p; p++)
            if (*p == ' ')
                *p = ',';
        fprintf(o, " reset=%s", rm);
    } else if (rm == NULL && exists(dir, "reset")) {
        /* an old kernel does not say which: guess one the device can have */
        fprintf(o, " reset=%s", pcie ? "flr" : "pm");
    }
    free(rm);
    if (!pcie)
        fprintf(o, " pcie=no");
    int pt = port_type(cfg, cfglen);
    if (pcie && pt >= 0 && port_names[pt])
        fprintf(o, " port=%s", port_names[pt]);
    if (pcie) {
        link_opt(o, dir, "current_link_speed", "current_link_width", "link");
        /* A port number is the link's: said with link-cap= only (1 is the spec's default). */
        int port = link_port(cfg, cfglen);
        if (link_opt(o, dir, "max_link_speed", "max_link_width", "link-cap") && port >= 0 &&
            port != 1)
            fprintf(o, " link-port=%d", port);
    }
    long total = read_num(dir, "sriov_totalvfs", 10, 0);
    if (total > 0 && pcie) {
        fprintf(o, " totalvfs=%ld vf-device=%04lx vf-offset=%ld vf-stride=%ld", total,
                read_num(dir, "sriov_vf_device", 16, 0), read_num(dir, "sriov_offset", 10, 1),
                read_num(dir, "sriov_stride", 10, 1));
        long num = read_num(dir, "sriov_numvfs", 10, 0);
        if (num > 0)
            fprintf(o, " numvfs=%ld", num);
        if (read_num(dir, "sriov_drivers_autoprobe", 10, 1) == 0)
            fprintf(o, " autoprobe=no");
    }
    fputc('\n', o);

    /* The VFs as they are: driver, override, group (they are made by numvfs= at mount). */
    for (long i = 0; i < total; i++) {
        char *link = xasprintf("virtfn%ld", i);
        char *vf = link_base(dir, link);
        free(link);
        if (vf == NULL)
            break;
        char *vdir = xasprintf("%s/bus/pci/devices/%s", c->sysfs, vf);
        char *drv = link_base(vdir, "driver");
        char *vov = readline_at(vdir, "driver_override");
        char *vgroup = link_base(vdir, "iommu_group");
        fprintf(o, "vf %s", vf);
        if (drv)
            fprintf(o, " driver=%s", drv);
        if (vov && *vov && strcmp(vov, "(null)") != 0)
            fprintf(o, " override=%s", vov);
        fprintf(o, " group=%s\n", vgroup && c->iommu_on ? vgroup : "none");
        struct hd_pci_addr va;
        char vname[HD_PCI_ADDR_BUFSZ];
        if (hd_pci_addr_parse(vf, &va) == 0) {
            hd_pci_addr_format(&va, vname);
            skip_vf_children(c, vname);
        }
        free(vgroup);
        free(vov);
        free(drv);
        free(vdir);
        free(vf);
    }
    emit_children(c, cd->name);
    free(dir);
}

/* ---- USB and SCSI devices ---------------------------------------------------------------- */

/* The first disk (not a partition) below sysfs directory @rel, or NULL; the others (a card
 * reader's: a line has one) said not captured. With @usb, only those below an interface of
 * that USB device (USB-PORT:1.N/), not those of a device on a hub below it. */
static char *disk_below(struct capture *c, const char *rel, const char *usb)
{
    size_t len = strlen(rel), ulen = usb ? strlen(usb) : 0;
    char *first = NULL;

    for (size_t i = 0; i < c->nblock; i++) {
        const struct cap_entry *e = &c->blockv[i];
        if (e->pl.path && strncmp(e->pl.path, rel, len) == 0 && e->pl.path[len] == '/' &&
            (usb == NULL || (strncmp(e->pl.path + len + 1, usb, ulen) == 0 &&
                             e->pl.path[len + 1 + ulen] == ':')) &&
            !exists(e->dir, "partition")) {
            if (first == NULL && spec_name_ok(e->name))
                first = xstrdup(e->name);
            else
                fprintf(c->out, "# block device %s not captured (one disk a line)\n", e->name);
        }
    }
    return first;
}

/* The `usb` line of USB device @name (BUS-PORT), once. */
static void emit_usb_one(struct capture *c, const char *name)
{
    char *bdir = xasprintf("%s/bus/usb/devices", c->sysfs);

    if (strs_has(&c->usbs, name)) {
        free(bdir);
        return;
    }
    strs_push(&c->usbs, name);
    char *rel = xasprintf("bus/usb/devices/%s", name), *udir = xasprintf("%s/%s", bdir, name);
    struct placement pl;
    place(c, rel, &pl);
    long vendor = read_num(udir, "idVendor", 16, -1), product = read_num(udir, "idProduct", 16, -1);
    struct cap_dev *ctrl = find_dev(c, pl.pci);
    if (ctrl == NULL || !ctrl->emitted || vendor < 0 || product < 0 ||
        strspn(name, "0123456789-.") != strlen(name)) {
        fprintf(c->out, "# usb %s not captured\n", name);
    } else {
        FILE *o = c->out;
        fprintf(o, "usb %s %s %04lx:%04lx", pl.pci, name, vendor, product);
        long cls = read_num(udir, "bDeviceClass", 16, 0);
        if (cls > 0 && cls <= 0xff)
            fprintf(o, " class=%02lx", cls);
        static const char *const texts[] = {"serial", "product", "manufacturer"};
        for (size_t t = 0; t < FS_ARRAY_SIZE(texts); t++) {
            char *v = read_trimmed(udir, texts[t]);
            if (v)
                put_word(o, texts[t], v);
            free(v);
        }
        size_t ni;
        char **ifs = list_dir(udir, &ni);
        for (size_t k = 0; k < ni; k++) {
            if (strncmp(ifs[k], name, strlen(name)) != 0 || ifs[k][strlen(name)] != ':')
                continue;
            char *idir = xasprintf("%s/%s", udir, ifs[k]);
            char *drv = link_base(idir, "driver"), *text = read_trimmed(idir, "interface");
            char *w = xasprintf("%02lx:%02lx:%02lx",
                                read_num(idir, "bInterfaceClass", 16, 0) & 0xff,
                                read_num(idir, "bInterfaceSubClass", 16, 0) & 0xff,
                                read_num(idir, "bInterfaceProtocol", 16, 0) & 0xff);
            if (drv && spec_name_ok(drv)) {
                char *full = xasprintf("%s:%s%s%.*s", w, drv, text ? ":" : "",
                                       (int)(120 - strlen(w) - strlen(drv)), text ? text : "");
                free(w);
                w = full;
            }
            put_word(o, "iface", w);
            free(w);
            free(text);
            free(drv);
            free(idir);
        }
        free_list(ifs, ni);
        char *disk = pl.path ? disk_below(c, pl.path, name) : NULL;
        if (disk) {
            fprintf(o, " disk=%s", disk);
            strs_push(&c->blocks, disk);
        }
        fputc('\n', o);
        free(disk);
    }
    free(pl.path);
    free(udir);
    free(rel);
    free(bdir);
}

/* Every USB device below a controller that no SCSI line has written yet. */
static void emit_usb(struct capture *c)
{
    size_t n;
    char *bdir = xasprintf("%s/bus/usb/devices", c->sysfs);
    char **names = list_dir(bdir, &n);

    for (size_t i = 0; i < n; i++) {
        if (strchr(names[i], ':') == NULL && strncmp(names[i], "usb", 3) != 0)
            emit_usb_one(c, names[i]); /* not interfaces, root hubs (the controller makes those) */
    }
    free_list(names, n);
    free(bdir);
}

/* The unit serial number of VPD page 0x80 (bytes 4.., length in byte 3), or NULL. */
static char *vpd_serial(const char *sdir)
{
    char *path = xasprintf("%s/vpd_pg80", sdir), *data = NULL, *r = NULL;
    size_t len = 0;

    if (read_file(path, &data, &len) == 0 && len > 4) {
        size_t n = (unsigned char)data[3] < len - 4 ? (unsigned char)data[3] : len - 4;
        size_t start = 4;
        while (start < 4 + n && data[start] == ' ')
            start++;
        while (n + 4 > start && (data[n + 3] == ' ' || data[n + 3] == '\0'))
            n--;
        if (n + 4 > start)
            r = xasprintf("%.*s", (int)(n + 4 - start), data + start);
    }
    free(data);
    free(path);
    return r;
}

struct scsi_name {
    unsigned int hbtl[4];
    char *name;
};

static int scsi_cmp(const void *a, const void *b)
{
    const struct scsi_name *x = a, *y = b;

    for (int i = 0; i < 4; i++)
        if (x->hbtl[i] != y->hbtl[i])
            return x->hbtl[i] < y->hbtl[i] ? -1 : 1;
    return 0;
}

static void emit_scsi(struct capture *c)
{
    size_t n, ns = 0;
    char *bdir = xasprintf("%s/bus/scsi/devices", c->sysfs);
    char **names = list_dir(bdir, &n);
    struct scsi_name *v = xcalloc(n + 1, sizeof(*v));

    for (size_t i = 0; i < n; i++) {
        char copy[64], *parts[5], *save = NULL;
        int k = 0;
        unsigned long x = 0;
        bool ok = strlen(names[i]) < sizeof(copy);
        snprintf(copy, sizeof(copy), "%s", names[i]);
        for (char *t = strtok_r(copy, ":", &save); ok && t && k < 5; t = strtok_r(NULL, ":", &save))
            parts[k++] = t;
        for (int j = 0; ok && j < k; j++) {
            ok = parse_ul(parts[j], 10, 0xffffffffUL, &x);
            v[ns].hbtl[j] = (unsigned int)x;
        }
        if (ok && k == 4)
            v[ns++].name = names[i];
    }
    qsort(v, ns, sizeof(*v), scsi_cmp);
    for (size_t i = 0; i < ns; i++) {
        char *rel = xasprintf("bus/scsi/devices/%s", v[i].name);
        char *sdir = xasprintf("%s/%s", bdir, v[i].name);
        struct placement pl;
        place(c, rel, &pl);
        struct cap_dev *ad = find_dev(c, pl.pci);
        if (pl.usb) {
            /* A stick's: its usb line (disk=) goes here, in SCSI host order, so that the host
             * number the fake gives it (the next free one) is taken by no later scsi line. */
            char *host = pl.path ? strstr(pl.path, "/host") : NULL;
            if (host) {
                *host = '\0';
                char *iface = strrchr(pl.path, '/');
                iface = iface ? iface + 1 : pl.path;
                iface[strcspn(iface, ":")] = '\0';
                if (strchr(iface, '-'))
                    emit_usb_one(c, iface);
            }
        } else if (ad == NULL || !ad->emitted) {
            fprintf(c->out, "# scsi %s not captured (no PCI adapter above it)\n", v[i].name);
        } else {
            FILE *o = c->out;
            fprintf(o, "scsi %s %s type=%ld", pl.pci, v[i].name,
                    read_num(sdir, "type", 10, 0) & 0x1f);
            char *vendor = read_trimmed(sdir, "vendor"), *model = read_trimmed(sdir, "model");
            char *serial = exists(sdir, "serial") ? read_trimmed(sdir, "serial") : vpd_serial(sdir);
            if (vendor)
                put_word(o, "vendor", vendor);
            if (model)
                put_word(o, "model", model);
            if (serial)
                put_word(o, "serial", serial);
            char *gdir = xasprintf("%s/scsi_generic", sdir);
            char *sg = entry_after(gdir, "sg");
            if (sg && strspn(sg, "0123456789") == strlen(sg) && strlen(sg) < 6)
                fprintf(o, " sg=%s", sg);
            char *disk = pl.path ? disk_below(c, pl.path, NULL) : NULL;
            if (disk) {
                char *ddir = xasprintf("%s/block/%s", sdir, disk);
                long size = read_num(ddir, "size", 10, 0);
                fprintf(o, " disk=%s", disk);
                if (size > 0)
                    fprintf(o, " size=%ld", size);
                strs_push(&c->blocks, disk);
                free(ddir);
            }
            fputc('\n', o);
            free(disk);
            free(sg);
            free(gdir);
            free(serial);
            free(model);
            free(vendor);
        }
        free(pl.path);
        free(sdir);
        free(rel);
    }
    free(v);
    free_list(names, n);
    free(bdir);
}

/* ---- virtual block devices, filesystems, mounts, swaps ----------------------------------- */

/* `loop NAME dev=` for virtual block devices that hold none, `holder NAME dev= [dm=] SLAVE...`
 * once every slave is declared. */
static void emit_vblocks(struct capture *c)
{
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < c->nblock; i++) {
            const struct cap_entry *e = &c->blockv[i];
            if (!e->pl.virtual || strs_has(&c->blocks, e->name))
                continue;
            char *sdir = xasprintf("%s/slaves", e->dir), *dev = readline_at(e->dir, "dev");
            size_t ns;
            char **slaves = list_dir(sdir, &ns);
            unsigned long maj, min;
            bool ready = parse_devnum(dev, &maj, &min) && spec_name_ok(e->name);
            for (size_t s = 0; s < ns; s++)
                ready &= strs_has(&c->blocks, slaves[s]);
            if (ready) {
                char *dm = ns ? readline_at(e->dir, "dm/name") : NULL;
                fprintf(c->out, "%s %s dev=%lu:%lu", ns ? "holder" : "loop", e->name, maj, min);
                if (dm && spec_name_ok(dm))
                    fprintf(c->out, " dm=%s", dm);
                for (size_t s = 0; s < ns; s++)
                    fprintf(c->out, " %s", slaves[s]);
                fputc('\n', c->out);
                strs_push(&c->blocks, e->name);
                progress = true;
                free(dm);
            }
            free(dev);
            free_list(slaves, ns);
            free(sdir);
        }
    }
    for (size_t i = 0; i < c->nblock; i++) {
        if (c->blockv[i].pl.virtual && !strs_has(&c->blocks, c->blockv[i].name))
            fprintf(c->out, "# block device %s not captured\n", c->blockv[i].name);
        else if (!c->blockv[i].pl.virtual && c->blockv[i].pl.pci[0] == '\0')
            fprintf(c->out, "# block device %s not captured (not on a PCI device)\n",
                    c->blockv[i].name);
    }
}

static void emit_btrfs(struct capture *c)
{
    size_t n;
    char *fdir = xasprintf("%s/fs/btrfs", c->sysfs);
    char **uuids = list_dir(fdir, &n);

    for (size_t i = 0; i < n; i++) {
        char *ddir = xasprintf("%s/%s/devices", fdir, uuids[i]);
        size_t nd;
        char **devs = list_dir(ddir, &nd);
        bool ok = nd > 0 && spec_name_ok(uuids[i]);
        for (size_t d = 0; d < nd; d++)
            ok &= strs_has(&c->blocks, devs[d]);
        if (ok) {
            fprintf(c->out, "btrfs %s", uuids[i]);
            for (size_t d = 0; d < nd; d++)
                fprintf(c->out, " %s", devs[d]);
            fputc('\n', c->out);
        } else if (nd > 0) {
            fprintf(c->out, "# btrfs %s not captured (a device of it is not)\n", uuids[i]);
        }
        free_list(devs, nd);
        free(ddir);
    }
    free_list(uuids, n);
    free(fdir);
}

/* Undo the kernel's octal escapes (\040) in place. */
static void unescape(char *s)
{
    char *w = s;

    for (; *s; s++) {
        if (s[0] == '\\' && strspn(s + 1, "01234567") >= 3 && s[1] <= '3' &&
            (s[1] != '0' || s[2] != '0' || s[3] != '0')) {
            *w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

static void emit_mount(FILE *o, char *source, char *mnt, char *fstype)
{
    unescape(source);
    unescape(mnt);
    /* the fake kernel shows its own sysfs, proc and devtmpfs */
    if (strcmp(mnt, "/sys") == 0 || strcmp(mnt, "/proc") == 0 || strcmp(mnt, "/dev") == 0)
        return;
    if (!*source || !*mnt || !*fstype || strpbrk(source, "\t\n") || strpbrk(mnt, "\t\n")) {
        fprintf(o, "# a mount not captured (blanks the spec cannot say)\n");
        return;
    }
    fprintf(o, "mount");
    put_word(o, NULL, source);
    put_word(o, NULL, mnt);
    put_word(o, NULL, fstype);
    fputc('\n', o);
}

/* proc/self/mountinfo (id parent maj:min root mountpoint options [tags] - fstype source ...),
 * or proc/mounts without it; proc/swaps. */
static void emit_mounts(struct capture *c)
{
    size_t n;
    char **lines = read_lines(c->procdir, "self/mountinfo", &n);

    for (size_t i = 0; i < n; i++) {
        char *f[6] = {0}, *save = NULL, *dash = strstr(lines[i], " - ");
        if (dash == NULL)
            continue;
        *dash = '\0';
        int k = 0;
        for (char *w = strtok_r(lines[i], " ", &save); w && k < 5; w = strtok_r(NULL, " ", &save))
            f[k++] = w;
        char *fstype = strtok_r(dash + 3, " ", &save), *source = strtok_r(NULL, " ", &save);
        if (k == 5 && fstype && source)
            emit_mount(c->out, source, f[4], fstype);
    }
    free_list(lines, n);
    if (n == 0) {
        lines = read_lines(c->procdir, "mounts", &n);
        for (size_t i = 0; i < n; i++) {
            char *save = NULL, *source = strtok_r(lines[i], " ", &save);
            char *mnt = strtok_r(NULL, " ", &save), *fstype = strtok_r(NULL, " ", &save);
            if (source && mnt && fstype)
                emit_mount(c->out, source, mnt, fstype);
        }
        free_list(lines, n);
    }
    lines = read_lines(c->procdir, "swaps", &n);
    for (size_t i = 1; i < n; i++) {
        char *save = NULL, *source = strtok_r(lines[i], " \t", &save);
        if (source == NULL)
            continue;
        unescape(source);
        fprintf(c->out, "swap");
        put_word(c->out, NULL, source);
        fputc('\n', c->out);
    }
    free_list(lines, n);
}

/* Routes and addresses of interfaces no line declared, said as skipped. */
static void emit_skipped_words(struct capture *c)
{
    for (size_t i = 0; i < c->words.n; i++) {
        if (!c->words.used[i])
            fprintf(c->out, "# not captured (interface not in the spec): %s\n", c->words.v[i]);
    }
}

int capture_sysfs(const char *sysfs, const char *procdir, FILE *out, char *err, size_t errsz)
{
    struct capture c = {.sysfs = sysfs, .procdir = procdir, .out = out};
    char *devdir = xasprintf("%s/bus/pci/devices", sysfs);
    size_t n;
    char **names = list_dir(devdir, &n);
    time_t now = time(NULL);
    char when[64];

    if (names == NULL && n == 0) {
        struct stat st;
        if (stat(devdir, &st) < 0) {
            snprintf(err, errsz, "no PCI bus under '%s'", sysfs);
            free(devdir);
            return -ENOENT;
        }
    }
    c.devs = xcalloc(n, sizeof(*c.devs));
    for (size_t i = 0; names != NULL && i < n; i++) {
        struct cap_dev *cd = &c.devs[c.ndevs];
        struct hd_pci_addr a;
        char *dir = xasprintf("%s/%s", devdir, names[i]);
        char target[4096];
        ssize_t l = readlink(dir, target, sizeof(target) - 1);
        if (hd_pci_addr_parse(names[i], &a) < 0) {
            free(dir);
            continue;
        }
        hd_pci_addr_format(&a, cd->name);
        cd->addr = a;
        if (l > 0) {
            /* .../pci0000:00/0000:00:1c.0/0000:03:00.0: the component before is the parent */
            target[l] = '\0';
            char *last = strrchr(target, '/');
            if (last) {
                *last = '\0';
                char *prev = strrchr(target, '/');
                prev = prev ? prev + 1 : target;
                struct hd_pci_addr pa;
                if (hd_pci_addr_parse(prev, &pa) == 0)
                    hd_pci_addr_format(&pa, cd->parent);
            }
        }
        cd->driver = link_base(dir, "driver");
        cd->is_vf = exists(dir, "physfn");
        c.ndevs++;
        free(dir);
    }
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(out, "# captured by hostdev-fakesys capture from %s on %s\n", sysfs, when);
    capture_kernel(&c, procdir);
    if (c.ndevs > 0) {
        char *d0 = xasprintf("%s/%s", devdir, c.devs[0].name);
        fprintf(out, "feature driver_override %s\n", exists(d0, "driver_override") ? "on" : "off");
        if (!exists(procdir, "self/mountinfo") && exists(procdir, "mounts"))
            fprintf(out, "feature mountinfo off\n");
        free(d0);
    }
    capture_drivers(&c);
    c.netv = load_entries(&c, "net", &c.nnet);
    c.blockv = load_entries(&c, "block", &c.nblock);
    c.fbv = load_entries(&c, "graphics", &c.nfb);
    gather_routes(&c);
    emit_vnets(&c, false);
    for (size_t i = 0; i < c.ndevs; i++)
        emit_device(&c, &c.devs[i]);
    emit_scsi(&c);
    emit_usb(&c);
    for (size_t i = 0; i < c.ndevs; i++)
        emit_blocks(&c, c.devs[i].name, true, true); /* partitions of USB and SCSI disks */
    emit_vnets(&c, true);
    emit_vblocks(&c);
    emit_btrfs(&c);
    emit_mounts(&c);
    emit_skipped_words(&c);
    strs_free(&c.words);
    strs_free(&c.masters);
    strs_free(&c.blocks);
    strs_free(&c.nets);
    strs_free(&c.usbs);
    free_entries(c.netv, c.nnet);
    free_entries(c.blockv, c.nblock);
    free_entries(c.fbv, c.nfb);
    for (size_t i = 0; i < c.ndevs; i++)
        free(c.devs[i].driver);
    free(c.devs);
    free_list(names, n);
    free(devdir);
    return 0;
}
