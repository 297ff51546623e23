/* export.c - `hostdev export`: tell KubeVirt, Node Feature Discovery, Nova, the SR-IOV device
 * plugin or Prometheus which devices this host has ready for passthrough, in their formats.
 * This file reads the host into one model and writes the result (atomically with -o); the
 * formats are in export-formats.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "opout.h"

static const struct format {
    const char *name;
    int (*write)(struct tool *t, const struct xmodel *m, const struct xopts *o, FILE *out);
} formats[] = {
    {"kubevirt", export_kubevirt}, {"nfd", export_nfd},   {"nova", export_nova},
    {"sriovdp", export_sriovdp},   {"prometheus", export_prometheus},
};

/* The --format name of @write. */
static const char *format_name(int (*write)(struct tool *, const struct xmodel *,
                                            const struct xopts *, FILE *))
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (formats[i].write == write)
            return formats[i].name;
    }
    return "?";
}

/* OpenStack's release names, for --nova-release; numbers are Nova's major versions. */
static const struct {
    const char *name;
    int number;
} nova_releases[] = {
    {"ussuri", 21},  {"victoria", 22}, {"wallaby", 23},  {"xena", 24},
    {"yoga", 25},    {"zed", 26},      {"antelope", 27}, {"2023.1", 27},
    {"bobcat", 28},  {"2023.2", 28},   {"caracal", 29},  {"2024.1", 29},
    {"dalmatian", 30}, {"2024.2", 30}, {"epoxy", 31},    {"2025.1", 31},
};

static int parse_nova_release(const char *arg)
{
    char *end;
    long n;

    for (size_t i = 0; i < sizeof(nova_releases) / sizeof(nova_releases[0]); i++) {
        if (strcasecmp(arg, nova_releases[i].name) == 0)
            return nova_releases[i].number;
    }
    errno = 0;
    n = strtol(arg, &end, 10);
    /* 21 (Ussuri) is the oldest whose [pci] options this writer knows; later ones keep them. */
    if (errno != 0 || end == arg || *end != '\0' || n < 21 || n > 99)
        return -1;
    return (int)n;
}

/* --expiry: a duration from now (N, Ns, Nm, Nh, Nd) or an RFC 3339 UTC time
 * (YYYY-MM-DDTHH:MM:SSZ), as NFD's expiry-time directive reads it. */
static int parse_expiry(const char *arg, time_t now, time_t *when)
{
    struct tm tm;
    char *end;
    long long n;

    memset(&tm, 0, sizeof(tm));
    end = strptime(arg, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end != NULL && *end == '\0') {
        /* A date that does not exist (02-30) comes back as another one: refused, as is a
         * year past 9999 (RFC 3339 has four digits). */
        struct tm asked = tm, back;
        *when = timegm(&tm); /* which normalises tm */
        return *when == (time_t)-1 || gmtime_r(when, &back) == NULL ||
                       back.tm_mday != asked.tm_mday || back.tm_mon != asked.tm_mon ||
                       back.tm_year + 1900 > 9999
                   ? -1
                   : 0;
    }
    errno = 0;
    n = strtoll(arg, &end, 10);
    if (errno != 0 || end == arg || n <= 0 || n > 10LL * 366 * 86400)
        return -1;
    switch (*end) {
    case '\0':
    case 's':
        break;
    case 'm':
        n *= 60;
        break;
    case 'h':
        n *= 3600;
        break;
    case 'd':
        n *= 86400;
        break;
    default:
        return -1;
    }
    if ((*end != '\0' && end[1] != '\0') || n > 10LL * 366 * 86400) /* ten years at most */
        return -1;
    *when = now + (time_t)n;
    return 0;
}

/* --expiry @arg that parse_expiry() refused: exit 2, naming it. */
static int bad_expiry(struct tool *t, const char *arg)
{
    return tool_error(t, EXIT_USAGE, "--expiry '%s': a duration up to ten years (30m, 2h, 1d) "
                      "or a UTC time YYYY-MM-DDTHH:MM:SSZ", arg);
}

/* How long labels live when --expiry is a duration; 0 for a fixed time, which stays what it
 * was asked to be and is never renewed. */
static time_t expiry_lifetime(const char *arg)
{
    time_t when;
    struct tm tm = {0};
    const char *end = strptime(arg, "%Y-%m-%dT%H:%M:%SZ", &tm);

    if ((end != NULL && *end == '\0') || parse_expiry(arg, 0, &when) < 0)
        return 0;
    return when;
}

/* A DNS subdomain, as Kubernetes wants the prefix of a resource name (lower case). */
static bool dns_subdomain(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        bool edge = i == 0 || i == len - 1 || s[i - 1] == '.' || s[i + 1] == '.';
        if (!alnum && !((c == '-' || c == '.') && !edge))
            return false;
    }
    return true;
}

/* The time the output says it was made: SOURCE_DATE_EPOCH (reproducible builds' variable) makes
 * golden files possible; otherwise now. */
static int export_now(struct tool *t, time_t *now)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    char *end;
    long long v;

    if (sde == NULL || sde[0] == '\0') {
        *now = time(NULL);
        return EXIT_DONE;
    }
    errno = 0;
    v = strtoll(sde, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0)
        return tool_error(t, EXIT_USAGE, "SOURCE_DATE_EPOCH '%s': not seconds since the epoch",
                          sde);
    *now = (time_t)v;
    return EXIT_DONE;
}

/* ---- the model ------------------------------------------------------------------------------ */

static struct xdev *find(struct xmodel *m, const struct hd_pci_addr *addr)
{
    for (size_t i = 0; i < m->n; i++) {
        if (hd_pci_addr_equal(hd_device_get_addr(m->devs[i].dev), addr))
            return &m->devs[i];
    }
    return NULL;
}

/* Whether @a should be advertised rather than @b, both of one group: a display controller (the
 * GPU, not its audio or USB-C functions), else the lower address. */
static bool primary_before(const struct xdev *a, const struct xdev *b)
{
    bool da = (a->class_code >> 16) == 0x03, db = (b->class_code >> 16) == 0x03;

    if (da != db)
        return da;
    return a < b; /* the array is sorted by address */
}

/* Ready devices and companions. Viability is asked per group, once. */
static int mark_ready(struct tool *t, struct xmodel *m)
{
    for (size_t i = 0; i < m->n; i++) {
        struct xdev *d = &m->devs[i];
        struct hd_group *g;
        bool viable = false;
        int r;

        /* A group vfio's unsafe no-IOMMU mode made is DPDK's, never a VM's. */
        if (!hd_device_is_on_vfio(d->dev) || d->group < 0 ||
            !hd_device_is_assignable(d->dev) || hd_group_number_is_noiommu(t->ctx, d->group))
            continue;
        for (size_t k = 0; k < i; k++) {
            if (m->devs[k].group == d->group && m->devs[k].ready) {
                viable = true; /* asked already for an earlier member */
                break;
            }
        }
        if (!viable) {
            r = hd_group_open(t->ctx, d->group, &g);
            if (r < 0)
                return tool_lib_error(t, EXIT_FAILED, r, "IOMMU group %d", d->group);
            viable = hd_group_is_viable(g);
            hd_group_unref(g);
        }
        d->ready = viable;
    }
    /* In each group one function is the resource; the others go along with it. */
    for (size_t i = 0; i < m->n; i++) {
        struct xdev *d = &m->devs[i], *primary = d;
        if (!d->ready)
            continue;
        for (size_t k = 0; k < m->n; k++) {
            struct xdev *o = &m->devs[k];
            if (o->ready && o->group == d->group && primary_before(o, primary))
                primary = o;
        }
        if (primary != d)
            d->companion_of = primary;
    }
    return EXIT_DONE;
}

static int build_model(struct tool *t, struct hd_device_list *list, bool names, struct xmodel *m)
{
    struct hd_iommu_report *report;
    int r;

    m->n = hd_device_list_count(list);
    m->devs = calloc(m->n ? m->n : 1, sizeof(*m->devs));
    if (m->devs == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        struct xdev *d = &m->devs[i];
        d->dev = hd_device_list_get(list, i);
        d->name = hd_device_get_name(d->dev);
        d->vendor = hd_device_get_vendor_id(d->dev);
        d->device = hd_device_get_device_id(d->dev);
        d->class_code = hd_device_get_class(d->dev);
        d->driver = hd_device_get_driver(d->dev);
        d->product = names ? hd_device_get_product_name(d->dev) : NULL;
        d->group = hd_device_get_iommu_group(d->dev);
        d->numa = hd_device_get_numa_node(d->dev);
        d->totalvfs = hd_device_get_sriov_totalvfs(d->dev);
        d->numvfs = hd_device_get_sriov_numvfs(d->dev);
        d->is_vf = hd_device_get_physfn(d->dev) != NULL;
        d->is_pf = !d->is_vf && d->totalvfs > 0;
    }
    for (size_t i = 0; i < m->n; i++) {
        struct xdev *d = &m->devs[i];
        if (!d->is_vf)
            continue;
        d->pf = find(m, hd_device_get_physfn(d->dev));
        d->needs_vf_token = d->pf != NULL && hd_device_needs_vf_token(d->dev);
    }
    if ((r = hd_iommu_probe(t->ctx, &report)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "probing the IOMMU");
    m->iommu_usable = hd_iommu_report_is_usable(report);
    hd_iommu_report_unref(report);
    return mark_ready(t, m);
}

/* The mediated device types the parents offer, each with its PCI parent when it has one. */
static int read_mdev_types(struct tool *t, struct xmodel *m, const struct hd_mdev_type_list *l)
{
    m->ntypes = hd_mdev_type_list_count(l);
    m->types = calloc(m->ntypes ? m->ntypes : 1, sizeof(*m->types));
    if (m->types == NULL)
        return tool_error(t, EXIT_FAILED, "out of memory");
    for (size_t i = 0; i < m->ntypes; i++) {
        struct xmdev_type *x = &m->types[i];
        struct hd_pci_addr addr;
        x->id = hd_mdev_type_list_get_id(l, i);
        x->name = hd_mdev_type_list_get_name(l, i);
        x->parent_name = hd_mdev_type_list_get_parent(l, i);
        x->available = hd_mdev_type_list_get_available(l, i);
        if (hd_pci_addr_parse(x->parent_name, &addr) == 0)
            x->parent = find(m, &addr);
    }
    return EXIT_DONE;
}

/* How many mediated devices each type's parent has made of it: Nova must be given the type a
 * GPU already runs (NVIDIA's make one type at a time). */
static void count_mdevs(struct xmodel *m, const struct hd_mdev_list *l)
{
    for (size_t i = 0; i < hd_mdev_list_count(l); i++) {
        for (size_t k = 0; k < m->ntypes; k++) {
            struct xmdev_type *x = &m->types[k];
            if (strcmp(x->parent_name, hd_mdev_list_get_parent(l, i)) == 0 &&
                strcmp(x->id, hd_mdev_list_get_type(l, i)) == 0)
                x->made++;
        }
    }
}

/* ---- output --------------------------------------------------------------------------------- */

void xwarnings_add(struct xwarnings *w, char *msg)
{
    char **more;

    if (w == NULL || msg == NULL || (more = realloc(w->v, (w->n + 1) * sizeof(*more))) == NULL) {
        free(msg);
        return;
    }
    w->v = more;
    w->v[w->n++] = msg;
}

/* @w's warnings on stderr when @say (its document was written): lines, or under --json one
 * object {"command", "warnings"} (the document itself is another engine's format); then @w is
 * empty. */
static void say_warnings(struct tool *t, struct xwarnings *w, bool say)
{
    if (say && w->n > 0 && tool_json(t)) {
        struct json j;
        json_init(&j, stderr, 0);
        json_begin_object(&j);
        json_kv_string(&j, "command", "export");
        json_kv_strings(&j, "warnings", (const char *const *)w->v, w->n);
        json_end_object(&j);
        json_finish(&j);
    }
    for (size_t i = 0; i < w->n; i++) {
        if (say && !tool_json(t))
            tool_warning(t, w->v[i]);
        free(w->v[i]);
    }
    free(w->v);
    w->v = NULL;
    w->n = 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Replace @path with @buf atomically: a hidden temporary file beside it (NFD skips names that
 * start with a dot, node_exporter reads only *.prom), fsync, rename, fsync the directory.
 * A reader sees the old file or the new one, never a part. */
static int write_atomic(struct tool *t, const char *path, const char *buf, size_t len)
{
    char *dcopy = strdup(path), *bcopy = strdup(path), *tmp = NULL;
    const char *dir, *base;
    int fd = -1, dfd = -1, r = 0;

    if (dcopy == NULL || bcopy == NULL)
        goto oom;
    dir = dirname(dcopy);
    base = basename(bcopy);
    if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
        tmp = NULL;
        goto oom;
    }
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        r = tool_error(t, EXIT_FAILED, "%s: cannot create a file in %s: %s", path, dir,
                       strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    if ((r = write_all(fd, buf, len)) < 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
        r = tool_error(t, EXIT_FAILED, "%s: writing %s: %s", path, tmp,
                       strerror(r < 0 ? -r : errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        r = tool_error(t, EXIT_FAILED, "%s: writing %s: %s", path, tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        r = tool_error(t, EXIT_FAILED, "%s: cannot replace it: %s", path, strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;
    /* The rename lasts once the directory is on disk. */
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    goto out;
oom:
    r = tool_error(t, EXIT_FAILED, "out of memory");
out:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL)
        unlink(tmp);
    free(tmp);
    free(dcopy);
    free(bcopy);
    return r;
}

static int emit(struct tool *t, const char *path, const char *buf, size_t len)
{
    if (path == NULL || strcmp(path, "-") == 0) {
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
            return tool_error(t, EXIT_FAILED, "writing the output: %s", strerror(errno));
        return EXIT_DONE;
    }
    return write_atomic(t, path, buf, len);
}

/* ---- one document ---------------------------------------------------------------------------- */

struct job {
    const struct format *fmt;
    struct xopts o;
    const char *expiry;  /* as given: a duration counts from each document's time */
    const char *output;  /* NULL or "-": standard output */
};

/* The whole document as of @now, in memory: nothing is written when a format refuses. Its
 * warnings join @warnings (NULL: unsaid). */
static int render(struct tool *t, struct job *job, time_t now, char **buf, size_t *len,
                  struct xwarnings *warnings)
{
    struct xmodel m = {.now = now, .warnings = warnings};
    struct hd_device_list *list = NULL;
    struct hd_mdev_type_list *types = NULL;
    struct hd_mdev_list *mdevs = NULL;
    FILE *mem;
    int r;

    *buf = NULL;
    *len = 0;
    if (parse_expiry(job->expiry, now, &job->o.expiry) < 0)
        return bad_expiry(t, job->expiry);
    hd_ctx_clear_error(t->ctx);
    r = hd_device_list_new(t->ctx, HD_FILL_ALL, &list);
    if (r < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "cannot list PCI devices");
    if ((r = build_model(t, list, true, &m)) != EXIT_DONE)
        goto out;
    if (job->fmt->write == export_prometheus) {
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_assignment_list_new(t->ctx, &m.assigned)) < 0) {
            r = tool_lib_error(t, tool_exit_for(t), r, "reading the assignments");
            goto out;
        }
    }
    if (job->fmt->write == export_kubevirt || job->fmt->write == export_nova) {
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_mdev_type_list_new(t->ctx, &types)) < 0) {
            r = tool_lib_error(t, tool_exit_for(t), r, "listing mediated device types");
            goto out;
        }
        if ((r = read_mdev_types(t, &m, types)) != EXIT_DONE)
            goto out;
    }
    if (job->fmt->write == export_nova) {
        hd_ctx_clear_error(t->ctx);
        if ((r = hd_mdev_list_new(t->ctx, &mdevs)) < 0) {
            r = tool_lib_error(t, tool_exit_for(t), r, "listing mediated devices");
            goto out;
        }
        count_mdevs(&m, mdevs);
        m.mdevs = mdevs;
    }
    if ((mem = open_memstream(buf, len)) == NULL) {
        r = tool_error(t, EXIT_FAILED, "out of memory");
        goto out;
    }
    r = job->fmt->write(t, &m, &job->o, mem);
    if (fclose(mem) != 0 && r == EXIT_DONE)
        r = tool_error(t, EXIT_FAILED, "out of memory");
    if (r != EXIT_DONE) {
        free(*buf);
        *buf = NULL;
    }
out:
    hd_assignment_list_unref(m.assigned);
    hd_mdev_list_unref(mdevs);
    hd_mdev_type_list_unref(types);
    free(m.types);
    free(m.devs);
    hd_device_list_unref(list);
    return r;
}

/* ---- --watch --------------------------------------------------------------------------------- */

/* Quiet time after an event before the file is made again: 64 VFs appearing are one rewrite. */
#define WATCH_SETTLE_MS 200
/* How often the assignment map is looked at (acquire and release announce no device event). */
#define WATCH_MAP_MS 1000

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Who holds what, as one string: prometheus exports it, and only it changes the map. */
static char *assignments_seen(struct tool *t)
{
    struct hd_assignment_list *list = NULL;
    char *s = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&s, &len);

    if (mem == NULL)
        return NULL;
    if (hd_assignment_list_new(t->ctx, &list) == 0) {
        for (size_t i = 0; i < hd_assignment_list_count(list); i++) {
            const struct hd_assignment *a = hd_assignment_list_get(list, i);
            fprintf(mem, "%s=%s\n", hd_assignment_get_name(a), hd_assignment_get_vm(a));
        }
        hd_assignment_list_unref(list);
    }
    fclose(mem);
    return s;
}

/* Whether @ev can change what the document exports: a PCI device's (added, removed, bound,
 * unbound); a mediated device's (made or removed: Nova is given the type a GPU's vGPUs have);
 * or any driver's bind or unbind, which is when a parent that is no PCI device (vfio-ccw's
 * subchannels) registers its mediated device types or takes them away. */
static bool changes_export(const struct hd_uevent *ev)
{
    const char *subsystem = hd_uevent_get_subsystem(ev);
    enum hd_uevent_action action = hd_uevent_get_action(ev);

    return strcmp(subsystem, "pci") == 0 || strcmp(subsystem, "mdev") == 0 ||
           action == HD_UEVENT_BIND || action == HD_UEVENT_UNBIND;
}

static bool renewing(long long renew_at, long long now)
{
    return renew_at >= 0 && now >= renew_at;
}

/* Made again at the time of the file on disk, the document is what was written. */
static bool unchanged(struct tool *t, struct job *job, const char *written, size_t written_len,
                      time_t written_at)
{
    char *same = NULL;
    size_t len = 0;
    bool equal = written != NULL && render(t, job, written_at, &same, &len, NULL) == EXIT_DONE &&
                 len == written_len && memcmp(same, written, len) == 0;

    free(same);
    return equal;
}

/* The document is made again when the kernel announces an event that can change it
 * (changes_export) or the map changes, and written only when what it exports changed: rendered
 * again with the time of the file on disk, it must differ. NFD's labels are also renewed at half
 * their lifetime, so they never expire while the watcher lives. A document a format refuses keeps
 * the last good file. */
static int watch(struct tool *t, struct job *job)
{
    struct hd_monitor *mon = NULL;
    char *written = NULL, *map = NULL;
    size_t written_len = 0;
    time_t written_at = 0;
    long long settle_at = -1, map_at = 0, renew_at = -1;
    int r;

    hd_ctx_clear_error(t->ctx);
    /* Listen first: an event between the first document and listening is not lost. */
    if ((r = hd_monitor_new(t->ctx, &mon)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "cannot watch device events");
    tool_stop_on_signals();
    if (job->fmt->write == export_prometheus)
        map = assignments_seen(t);
    settle_at = now_ms(); /* the first document at once */
    while (!tool_stop_requested()) {
        const struct hd_uevent *ev;
        long long now = now_ms();
        if (map != NULL && now >= map_at) {
            char *again = assignments_seen(t);
            if (again != NULL && strcmp(again, map) != 0 && settle_at < 0)
                settle_at = now;
            if (again != NULL) {
                free(map);
                map = again;
            }
            map_at = now + WATCH_MAP_MS;
        }
        if (renew_at >= 0 && now >= renew_at && settle_at < 0)
            settle_at = now;
        if (settle_at >= 0 && now >= settle_at) {
            time_t at = 0;
            settle_at = -1;
            if ((r = export_now(t, &at)) != EXIT_DONE)
                goto out;
            if (!renewing(renew_at, now) && unchanged(t, job, written, written_len, written_at))
                continue;
            char *doc = NULL;
            size_t len = 0;
            struct xwarnings warnings = {0};
            if (render(t, job, at, &doc, &len, &warnings) != EXIT_DONE ||
                emit(t, job->output, doc, len) != EXIT_DONE) {
                free(doc);
                tool_flush_errors(EXIT_FAILED); /* said now: it watches on */
                say_warnings(t, &warnings, false);
                continue;
            }
            say_warnings(t, &warnings, true); /* with each document written */
            free(written);
            written = doc;
            written_len = len;
            written_at = at;
            if (t->verbose > 0)
                fprintf(stderr, "%s export: wrote %s\n", t->prog, job->output);
            time_t lifetime = expiry_lifetime(job->expiry);
            renew_at = job->fmt->write == export_nfd && lifetime > 0
                           ? now_ms() + (long long)lifetime * 500
                           : -1;
            continue;
        }
        long long wait = settle_at >= 0 ? settle_at - now : 500;
        if (map != NULL && map_at - now < wait)
            wait = map_at - now;
        if (renew_at >= 0 && renew_at - now < wait)
            wait = renew_at - now;
        r = hd_monitor_next(mon, wait < 0 ? 0 : (int)wait, &ev);
        if (r == 0 && changes_export(ev))
            settle_at = now_ms() + WATCH_SETTLE_MS;
        else if (r == -ENOBUFS) /* events were lost: look again */
            settle_at = now_ms() + WATCH_SETTLE_MS;
        else if (r < 0 && r != -EAGAIN && r != -EINTR) {
            r = tool_lib_error(t, EXIT_FAILED, r, "device events");
            goto out;
        }
    }
    r = EXIT_DONE;
out:
    free(written);
    free(map);
    hd_monitor_unref(mon);
    return r;
}

/* ---- the command ---------------------------------------------------------------------------- */

enum { O_PREFIX = 256, O_NOVA, O_EXPIRY, O_PHYSNET, O_WATCH, O_MERGE, O_MDEV_TYPE };
static const struct option export_opts[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"resource-prefix", required_argument, NULL, O_PREFIX},
    {"nova-release", required_argument, NULL, O_NOVA},
    {"expiry", required_argument, NULL, O_EXPIRY},
    {"physical-network", required_argument, NULL, O_PHYSNET},
    {"watch", no_argument, NULL, O_WATCH},
    {"merge", required_argument, NULL, O_MERGE},
    {"mdev-type", required_argument, NULL, O_MDEV_TYPE},
    {NULL, 0, NULL, 0}};

/* @merge, @mdev_types: room for every --merge, every --mdev-type (one an argument at most). */
static int run_export(struct tool *t, int argc, char **argv, char **merge, char **mdev_types)
{
    struct job job = {.o = {.prefix = "hostdev.io", .nova_release = 26}, .expiry = "1h"};
    /* The options one format reads: given with another, they would change nothing, and the
     * user would believe the document carries them. */
    struct {
        int opt;
        const char *name;
        int (*write)(struct tool *, const struct xmodel *, const struct xopts *, FILE *);
        int (*also)(struct tool *, const struct xmodel *, const struct xopts *, FILE *);
        bool given;
    } only[] = {
        {O_PREFIX, "--resource-prefix", export_kubevirt, export_sriovdp, false},
        {O_NOVA, "--nova-release", export_nova, NULL, false},
        {O_EXPIRY, "--expiry", export_nfd, NULL, false},
        {O_PHYSNET, "--physical-network", export_nova, NULL, false},
        {O_MERGE, "--merge", export_kubevirt, NULL, false},
        {O_MDEV_TYPE, "--mdev-type", export_nova, NULL, false},
    };
    bool watching = false;
    const char *format = NULL; /* as typed */
    time_t now;
    char *buf = NULL;
    size_t len = 0;
    int c, r;

    optind = 0;
    while ((c = tool_getopt(argc, argv, cmd_export.shortopts, cmd_export.opts)) != -1) {
        for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++)
            only[i].given = only[i].given || only[i].opt == c;
        switch (c) {
        case 'f':
            if ((r = tool_take_once(t, "--format", &format, optarg)) != EXIT_DONE)
                return r;
            for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
                if (strcmp(optarg, formats[i].name) == 0)
                    job.fmt = &formats[i];
            }
            if (job.fmt == NULL)
                return tool_error(t, EXIT_USAGE, "--format '%s': kubevirt, nfd, nova, sriovdp "
                                  "or prometheus", optarg);
            break;
        case 'o':
            /* An empty name ("-o $FILE" with FILE unset) is a mistake, not a file to fail on. */
            if (optarg[0] == '\0')
                return tool_error(t, EXIT_USAGE, "--output '' is empty: a file, or - for "
                                  "standard output");
            if ((r = tool_take_once(t, "--output", &job.output, optarg)) != EXIT_DONE)
                return r;
            break;
        case O_PREFIX:
            if (!dns_subdomain(optarg))
                return tool_error(t, EXIT_USAGE, "--resource-prefix '%s': not a DNS subdomain "
                                  "(lower-case letters, digits, '-' and '.')", optarg);
            job.o.prefix = optarg;
            break;
        case O_NOVA:
            if ((job.o.nova_release = parse_nova_release(optarg)) < 0)
                return tool_error(t, EXIT_USAGE, "--nova-release '%s': a Nova major version "
                                  "(21 or later, 26 is Zed) or a release name", optarg);
            break;
        case O_EXPIRY:
            job.expiry = optarg;
            break;
        case O_PHYSNET:
            /* It lands in a JSON string; Nova takes any name, but a line break would end the
             * option, and quoting is simpler to get right when there is none. */
            if (optarg[0] == '\0' || strpbrk(optarg, "\"\\\n\r\t") != NULL)
                return tool_error(t, EXIT_USAGE, "--physical-network '%s': a name without "
                                  "quotes, backslashes or control characters", optarg);
            job.o.physnet = optarg;
            break;
        case O_WATCH:
            watching = true;
            break;
        case O_MERGE:
            /* Named in a comment of the document: one line. */
            if (optarg[0] == '\0' || strpbrk(optarg, "\n\r") != NULL)
                return tool_error(t, EXIT_USAGE, "--merge '%s': a file name without line "
                                  "breaks", optarg);
            job.o.merge = merge;
            merge[job.o.nmerge++] = optarg;
            break;
        case O_MDEV_TYPE:
            if (!nova_type_id_valid(optarg))
                return tool_error(t, EXIT_USAGE, "--mdev-type '%s': a mediated device type id "
                                  "(nvidia-222, i915-GVTg_V5_4)", optarg);
            job.o.mdev_types = mdev_types;
            mdev_types[job.o.nmdev_types++] = optarg;
            break;
        default:
            tool_usage(&cmd_export, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (argc > optind)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s' (see '%s export --help')",
                          argv[optind], t->prog);
    if (job.fmt == NULL)
        return tool_error(t, EXIT_USAGE, "--format is required: kubevirt, nfd, nova, sriovdp or "
                          "prometheus");
    for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++) {
        if (only[i].given && job.fmt->write != only[i].write &&
            job.fmt->write != only[i].also)
            return tool_error(t, EXIT_USAGE, "%s goes with --format %s%s%s, not %s", only[i].name,
                              format_name(only[i].write), only[i].also ? " or " : "",
                              only[i].also ? format_name(only[i].also) : "", job.fmt->name);
    }
    if (watching && (job.output == NULL || strcmp(job.output, "-") == 0))
        return tool_error(t, EXIT_USAGE, "--watch rewrites a file: give it with -o FILE");
    if (watching && t->dry_run)
        return tool_error(t, EXIT_USAGE, "--watch only rewrites %s: a dry run writes nothing "
                          "(without --watch it prints the document)", job.output);
    if ((r = export_now(t, &now)) != EXIT_DONE)
        return r;
    if (parse_expiry(job.expiry, now, &job.o.expiry) < 0)
        return bad_expiry(t, job.expiry);
    /* Labels that expire before they are read are dead on arrival. */
    if (job.o.expiry <= now)
        return tool_error(t, EXIT_USAGE, "--expiry '%s': that time is past", job.expiry);
    if (watching)
        return watch(t, &job);
    /* A dry run changes nothing, a file neither: what would go there goes to stdout. */
    struct xwarnings warnings = {0};
    if ((r = render(t, &job, now, &buf, &len, &warnings)) == EXIT_DONE)
        r = emit(t, t->dry_run ? NULL : job.output, buf, len);
    say_warnings(t, &warnings, r == EXIT_DONE);
    free(buf);
    return r;
}

static int run(struct tool *t, int argc, char **argv)
{
    char **merge = calloc((size_t)argc + 1, sizeof(*merge));
    char **mdev_types = calloc((size_t)argc + 1, sizeof(*mdev_types));
    int r = EXIT_FAILED;

    if (merge == NULL || mdev_types == NULL)
        r = tool_error(t, EXIT_FAILED, "out of memory");
    else
        r = run_export(t, argc, argv, merge, mdev_types);
    free(merge);
    free(mdev_types);
    return r;
}

const struct tool_command cmd_export = {
    .shortopts = "f:o:",
    .opts = export_opts,
    .name = "export",
    .run = run,
    .usage = "--format kubevirt|nfd|nova|sriovdp|prometheus\n"
             "       [-o FILE [--watch]] [OPTIONS]",
    .summary = "devices ready for passthrough: KubeVirt, NFD, Nova, sriovdp, ...",
    .help =
        "A device is exported when it is bound to vfio-pci (or a variant) and its IOMMU\n"
        "group is viable (not one of vfio's unsafe no-IOMMU mode). In a group of several\n"
        "such functions one is the resource (the GPU) and the others are its companions\n"
        "(its audio function): they go along and are not advertised. KubeVirt and Nova\n"
        "are not offered VFs whose PF is on vfio-pci (libvirt cannot give the PF's VF\n"
        "token that opening them takes); a comment names them. No format is offered a PF\n"
        "whose VFs are enabled (its VFs run on it); a comment names it. KubeVirt\n"
        "(mediatedDevices) and Nova ([devices] enabled_mdev_types) also get the mediated\n"
        "device types (vGPUs) PCI devices offer; other parents' (mtty) are named in a\n"
        "comment.\n"
        "  -f, --format FORMAT     kubevirt: a KubeVirt CR with permittedHostDevices;\n"
        "                          nfd: a Node Feature Discovery file (features.d);\n"
        "                          nova: nova.conf's [pci] device_spec and alias\n"
        "                            lines, and [devices] enabled_mdev_types;\n"
        "                          sriovdp: the SR-IOV network device plugin's\n"
        "                            config.json;\n"
        "                          prometheus: node_exporter's textfile collector\n"
        "                            (.prom)\n"
        "  -o, --output FILE       replace FILE atomically (default: standard output)\n"
        "      --watch             stay: write FILE again whenever a device event (PCI,\n"
        "                          mdev, any driver's bind) or, for prometheus, the\n"
        "                          assignments change what it exports; nfd labels are\n"
        "                          renewed at half their expiry. SIGTERM ends it\n"
        "      --resource-prefix P resource-name prefix (kubevirt, sriovdp; default\n"
        "                          hostdev.io; NVIDIA devices are nvidia.com/NAME, as\n"
        "                          NVIDIA's plugin names them)\n"
        "      --nova-release R    Nova major version or name (default 26, Zed)\n"
        "      --expiry WHEN       nfd: labels expire after a duration (default 1h) or at\n"
        "                          a UTC time YYYY-MM-DDTHH:MM:SSZ\n"
        "      --physical-network N  nova: physical_network of the VFs\n"
        "      --mdev-type TYPE    nova: give a GPU this mediated device type (again for\n"
        "                          more, preferred first; a GPU offering none of them\n"
        "                          gets none, warned of).\n"
        "                          Without it a GPU gets the type its vGPUs have, else\n"
        "                          one it can still make, else its first. A GPU given a\n"
        "                          type beside running vGPUs of another is warned of\n"
        "                          (stderr)\n"
        "      --merge FILE        kubevirt: add the pciHostDevices and mediatedDevices\n"
        "                          of another host's export (again for more hosts): the\n"
        "                          CR is cluster-wide, and applying one host's replaces\n"
        "                          the others' (a selector named differently: exit 2)\n"
        "An option of another format than the one asked for is refused (exit 2).\n"
        "Output is sorted and stable; SOURCE_DATE_EPOCH sets the time it carries. With\n"
        "--dry-run no file is written: the document goes to standard output (no --watch).\n",
};
