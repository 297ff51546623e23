/* capture.c - reads a real sysfs (read-only) and prints a spec that reproduces it. */
#include <dirent.h>
#include <errno.h>
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

struct capture {
    const char *sysfs;
    FILE *out;
    struct cap_dev *devs;
    size_t ndevs;
    bool iommu_on;
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

/* "cpu VENDOR [hypervisor]" from the first CPU of proc/cpuinfo (x86 says both). */
static void capture_cpu(struct capture *c, const char *procdir)
{
    char *path = xasprintf("%s/cpuinfo", procdir), *text = NULL, *line, *flags = NULL;
    char vendor[64] = "";

    if (read_file(path, &text, NULL) == 0) {
        for (line = text; line != NULL && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
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

/* A network interface: its MAC, whether it is down (IFF_UP clear in flags), its speed in Mb/s
 * (a down interface's read fails, some drivers say -1: nothing then). */
static void emit_net(FILE *o, const char *devname, const char *ndir, const char *name)
{
    char *idir = xasprintf("%s/%s", ndir, name);
    char *mac = readline_at(idir, "address");
    long flags = read_num(idir, "flags", 16, 1);
    long speed = read_num(idir, "speed", 10, 0);

    fprintf(o, "net %s %s", devname, name);
    if (mac)
        fprintf(o, " mac=%s", mac);
    if (!(flags & 0x1))
        fprintf(o, " down");
    if (speed > 0 && speed <= 10000000)
        fprintf(o, " speed=%ld", speed);
    fputc('\n', o);
    free(mac);
    free(idir);
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
        free(vgroup);
        free(vov);
        free(drv);
        free(vdir);
        free(vf);
    }
    char *ndir = xasprintf("%s/net", dir);
    size_t nn;
    char **nets = list_dir(ndir, &nn);
    for (size_t i = 0; i < nn; i++)
        emit_net(o, cd->name, ndir, nets[i]);
    free_list(nets, nn);
    free(ndir);
    free(dir);
}

int capture_sysfs(const char *sysfs, const char *procdir, FILE *out, char *err, size_t errsz)
{
    struct capture c = {.sysfs = sysfs, .out = out};
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
        free(d0);
    }
    capture_drivers(&c);
    for (size_t i = 0; i < c.ndevs; i++)
        emit_device(&c, &c.devs[i]);
    for (size_t i = 0; i < c.ndevs; i++)
        free(c.devs[i].driver);
    free(c.devs);
    free_list(names, n);
    free(devdir);
    return 0;
}
