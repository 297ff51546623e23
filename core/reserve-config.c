/* reserve-config.c - which devices are reserved for VMs: hostdev.d files and the kernel's
 * hostdev.reserve= / hostdev.driver=, read into one list of entries with file:line errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* What a device word may be, for messages. */
#define SELECTOR_FORMS "expected an address DDDD:BB:SS.F or ids VVVV:DDDD"
/* Longest selector or option word worth quoting back in a message. */
#define WORD_QUOTE_MAX 64

struct hd_reserve_config {
    atomic_int refcount;
    struct hd_reserve_entry *entries;
    size_t n, cap;
    char **files; /* entries point into these */
    size_t nfiles;
    char **errors;
    size_t nerrors;
    char **refusals; /* hd_reserve_config_check(): one per entry, NULL when fine */
    size_t nrefusals;
    struct presence *presence; /* hd_reserve_config_check(): one per entry */
    /* hd_reserve_config_check(): one per entry, for an ids entry the address entry that
     * overrides it for a device there now with its ids (NULL: none) */
    const struct hd_reserve_entry **shadows;
    struct doubt *doubts; /* the errors that may name a device */
    size_t ndoubts, doubts_cap;
    bool forced; /* checked for a run with HD_RESERVE_FORCE: a platform function is taken */
};

/* Whether an address entry's device is there, and for a VF not made, its PF and the VF count
 * that makes it. */
struct presence {
    enum hd_reserve_presence what;
    struct hd_pci_addr pf;
    int numvfs;
};

/* An error that may name a device: what it was meant to reserve is not known for sure
 * (hd_reserve_config_doubt_except()). */
struct doubt {
    const char *file;           /* interned */
    bool whole;                 /* the file itself: any device */
    struct hd_pci_selector sel; /* else the device word of its bad line */
    char *message;              /* "FILE[:LINE]: why", as its error says */
};

HD_EXPORT int hd_reserve_config_new(struct hd_reserve_config **config)
{
    *config = calloc(1, sizeof(**config));
    if (*config == NULL)
        return -ENOMEM;
    hd_ref_init(&(*config)->refcount);
    return 0;
}

HD_EXPORT struct hd_reserve_config *hd_reserve_config_ref(struct hd_reserve_config *config)
{
    if (config != NULL)
        hd_ref_take(&config->refcount);
    return config;
}

HD_EXPORT struct hd_reserve_config *hd_reserve_config_unref(struct hd_reserve_config *config)
{
    if (config == NULL || !hd_ref_drop(&config->refcount))
        return NULL;
    free(config->entries);
    hd_strv_free(config->files, config->nfiles);
    hd_strv_free(config->errors, config->nerrors);
    hd_strv_free(config->refusals, config->nrefusals);
    free(config->presence);
    free(config->shadows);
    for (size_t i = 0; i < config->ndoubts; i++)
        free(config->doubts[i].message);
    free(config->doubts);
    free(config);
    return NULL;
}

/* A message of @fmt, one line: quoted input may hold a newline (a quoted hostdev.reserve= value
 * does), so control bytes show as '?'. NULL: no memory. */
static char *vline(const char *fmt, va_list ap)
{
    char *msg;

    if (vasprintf(&msg, fmt, ap) < 0)
        return NULL;
    for (char *c = msg; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    }
    return msg;
}

static int add_error(struct hd_reserve_config *config, const char *fmt, ...) HD_PRINTF(2, 3);
static int add_error(struct hd_reserve_config *config, const char *fmt, ...)
{
    char **errors = realloc(config->errors, (config->nerrors + 1) * sizeof(*errors));
    va_list ap;

    if (errors == NULL)
        return -ENOMEM;
    config->errors = errors;
    va_start(ap, fmt);
    errors[config->nerrors] = vline(fmt, ap);
    va_end(ap);
    if (errors[config->nerrors] == NULL)
        return -ENOMEM;
    config->nerrors++;
    return 0;
}

/* An error of @file (interned) that may name a device: any (@sel NULL: the file could not be
 * read, or is none), or what @sel selects (a bad line's device word). */
static int add_doubt(struct hd_reserve_config *config, const char *file,
                     const struct hd_pci_selector *sel, const char *fmt, ...) HD_PRINTF(4, 5);
static int add_doubt(struct hd_reserve_config *config, const char *file,
                     const struct hd_pci_selector *sel, const char *fmt, ...)
{
    struct doubt *d =
        hd_array_grow(config->doubts, &config->doubts_cap, config->ndoubts, sizeof(*d), 4);
    va_list ap;

    if (d == NULL)
        return -ENOMEM;
    config->doubts = d;
    d = &d[config->ndoubts];
    *d = (struct doubt){.file = file, .whole = sel == NULL};
    if (sel != NULL)
        d->sel = *sel;
    va_start(ap, fmt);
    d->message = vline(fmt, ap);
    va_end(ap);
    if (d->message == NULL)
        return -ENOMEM;
    config->ndoubts++;
    return 0;
}

/* A copy of @file (a file name, a driver name) that lives as long as @config. */
static const char *intern(struct hd_reserve_config *config, const char *file)
{
    char **files;

    if (config->nfiles > 0 && strcmp(config->files[config->nfiles - 1], file) == 0)
        return config->files[config->nfiles - 1];
    files = realloc(config->files, (config->nfiles + 1) * sizeof(*files));
    if (files == NULL)
        return NULL;
    config->files = files;
    if ((files[config->nfiles] = strdup(file)) == NULL)
        return NULL;
    return files[config->nfiles++];
}

static int add_entry(struct hd_reserve_config *config, const struct hd_reserve_entry *entry)
{
    struct hd_reserve_entry *e =
        hd_array_grow(config->entries, &config->cap, config->n, sizeof(*e), 8);
    if (e == NULL)
        return -ENOMEM;
    config->entries = e;
    config->entries[config->n++] = *entry;
    return 0;
}

/* The stub driver @name names, by its canonical name (a vfio-pci variant's kept in @config);
 * NULL when it is not one. */
static const char *stub_name(struct hd_reserve_config *config, const char *name)
{
    const struct hd_stub_driver *stub = hd_stub_driver_find(name);
    struct hd_stub_driver variant;

    if (stub != NULL)
        return stub->name;
    return hd_stub_driver_get(name, &variant) == 0 ? intern(config, name) : NULL;
}

/* One word of a config line, quoted back in messages (cut when long). */
static const char *quote(const char *w, size_t len, char buf[WORD_QUOTE_MAX + 4])
{
    size_t n = len < WORD_QUOTE_MAX ? len : WORD_QUOTE_MAX;

    memcpy(buf, w, n);
    strcpy(buf + n, len > n ? "..." : "");
    return buf;
}

/* Why @e's no-IOMMU opt-in cannot be (in @why), or NULL: the opt-in is a vfio bind's, since
 * pci-stub needs no group and a count alone binds nothing. */
static const char *noiommu_refusal(const struct hd_reserve_entry *e, char *why, size_t size)
{
    if (!e->noiommu || (e->driver != NULL && hd_driver_is_vfio(e->driver)))
        return NULL;
    snprintf(why, size, "noiommu is for vfio-pci or a vfio-pci variant%s",
             e->driver == NULL ? ", which numvfs= alone does not name" : ", not pci-stub");
    return why;
}

/* Parse the words of one line into @e; NULL on success, else why not (in @why). */
static const char *parse_line(struct hd_reserve_config *config, char *line,
                              struct hd_reserve_entry *e, bool *named, char *why, size_t size)
{
    char q[WORD_QUOTE_MAX + 4], *save = NULL, *w = strtok_r(line, " \t\r\v\f", &save);
    bool have_driver = false;

    e->driver = NULL;
    e->numvfs = -1;
    e->noiommu = false;
    if (hd_pci_selector_parse(w, &e->sel) < 0) {
        snprintf(why, size, "invalid device '%s' (" SELECTOR_FORMS ")", quote(w, strlen(w), q));
        return why;
    }
    *named = true; /* whatever follows: the line is for e->sel */
    while ((w = strtok_r(NULL, " \t\r\v\f", &save)) != NULL) {
        const char *drv = strncmp(w, "driver=", 7) == 0 ? w + 7 : w;
        unsigned long long n;
        if (strncmp(w, "numvfs=", 7) == 0) {
            if (e->numvfs >= 0) {
                snprintf(why, size, "numvfs= given twice");
                return why;
            }
            if (hd_parse_uint(w + 7, 10, 65535, &n) < 0) {
                snprintf(why, size, "invalid numvfs '%s' (a count of virtual functions)",
                         quote(w + 7, strlen(w + 7), q));
                return why;
            }
            e->numvfs = (int)n;
        } else if (strcmp(w, "noiommu") == 0) {
            if (e->noiommu) {
                snprintf(why, size, "noiommu given twice");
                return why;
            }
            e->noiommu = true;
        } else if (stub_name(config, drv) != NULL) {
            if (have_driver) {
                snprintf(why, size, "more than one driver");
                return why;
            }
            e->driver = stub_name(config, drv);
            have_driver = true;
        } else {
            snprintf(why, size, "'%s' is neither a driver (vfio-pci, a vfio-pci variant, "
                     "pci-stub), numvfs=N nor noiommu",
                     quote(w, strlen(w), q));
            return why;
        }
    }
    if (e->numvfs >= 0 && e->sel.kind != HD_SELECTOR_ADDR) {
        snprintf(why, size, "numvfs= needs the address of one SR-IOV device, not ids");
        return why;
    }
    if (!have_driver && e->numvfs < 0)
        e->driver = hd_stub_vfio_pci.name;
    return noiommu_refusal(e, why, size);
}

#define HD_RESERVE_FILE_ERRORS_MAX 10 /* per file; then one line says how many more */

HD_EXPORT int hd_reserve_config_parse(struct hd_reserve_config *config, const char *text,
                                      size_t len, const char *file)
{
    const char *name = intern(config, file ? file : "(config)");
    const char *p = text, *end = text + len;
    unsigned int lineno = 0;
    int bad = 0;

    if (name == NULL)
        return -ENOMEM;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct hd_reserve_entry e = {.file = name, .line = ++lineno};
        char why[256], *line, *hash;
        const char *err = NULL;
        bool named = false; /* its first word is a device: a bad line's is in doubt */

        /* Up to a NUL byte, if any: the text before it may still name the device it was for. */
        if ((line = strndup(p, n)) == NULL)
            return -ENOMEM;
        if ((hash = strchr(line, '#')) != NULL)
            *hash = '\0';
        if (line[strspn(line, " \t\r\v\f")] != '\0')
            err = parse_line(config, line, &e, &named, why, sizeof(why));
        else
            e.line = 0; /* blank: no entry */
        free(line);
        if (memchr(p, '\0', n) != NULL)
            err = "a NUL byte (not a text file?)";
        if (err == NULL && e.line != 0 && add_entry(config, &e) < 0)
            return -ENOMEM;
        /* A junk file says so a few times, not once per line of it. */
        if (err != NULL && ++bad <= HD_RESERVE_FILE_ERRORS_MAX &&
            add_error(config, "%s:%u: %s", name, lineno, err) < 0)
            return -ENOMEM;
        /* Whatever the line was meant for, the boot skips it: what it names is in doubt. */
        if (err != NULL && named &&
            add_doubt(config, name, &e.sel, "%s:%u: %s", name, lineno, err) < 0)
            return -ENOMEM;
        p += n + (nl ? 1 : 0);
    }
    if (bad > HD_RESERVE_FILE_ERRORS_MAX &&
        add_error(config, "%s: %d more lines with errors not shown", name,
                  bad - HD_RESERVE_FILE_ERRORS_MAX) < 0)
        return -ENOMEM;
    return bad;
}

/* The file the command line's entries name: the running kernel's, which the next boot reads
 * from the boot loader's configuration. */
static const char cmdline_file[] = "proc/cmdline";

HD_EXPORT bool hd_reserve_entry_is_cmdline(const struct hd_reserve_entry *entry)
{
    return entry->file != NULL && strcmp(entry->file, cmdline_file) == 0;
}

const char *hd_reserve_entry_where(const struct hd_reserve_entry *e, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%.0u", e->file, e->line ? ":" : "", e->line);
    return buf;
}

/* One device word of hostdev.reserve=, SELECTOR[+noiommu] (hostdev.d's word noiommu: the
 * parameter's devices are split at commas, so the opt-in rides on its device), into @e (its
 * driver set): NULL, or why not (in @why, quoting @w); *@named once its device part is one. */
static const char *parse_reserve_word(char *w, struct hd_reserve_entry *e, bool *named,
                                      char *why, size_t size)
{
    char q[WORD_QUOTE_MAX + 4], refusal[128], *plus = strchr(w, '+');

    if (plus != NULL)
        *plus = '\0';
    if (hd_pci_selector_parse(w, &e->sel) < 0) {
        snprintf(why, size, "invalid device '%s' (" SELECTOR_FORMS ")", quote(w, strlen(w), q));
        return why;
    }
    *named = true;
    if (plus == NULL)
        return NULL;
    *plus = '+';
    if (strcmp(plus, HD_RESERVE_CMDLINE_NOIOMMU) != 0) {
        snprintf(why, size, "'%s': only " HD_RESERVE_CMDLINE_NOIOMMU " may follow a device",
                 quote(w, strlen(w), q));
        return why;
    }
    e->noiommu = true;
    if (noiommu_refusal(e, refusal, sizeof(refusal)) == NULL)
        return NULL;
    snprintf(why, size, "'%s': %s (hostdev.driver=%s)", quote(w, strlen(w), q), refusal,
             e->driver);
    return why;
}

HD_EXPORT int hd_reserve_config_add_cmdline(struct hd_reserve_config *config,
                                            const struct hd_cmdline *cmdline)
{
    const char *name = intern(config, cmdline_file), *driver = hd_stub_vfio_pci.name;
    const char *value;
    int bad = 0;

    if (name == NULL)
        return -ENOMEM;
    if (hd_cmdline_get(cmdline, "hostdev.driver", &value) == 0) {
        if (value != NULL && stub_name(config, value) != NULL) {
            driver = stub_name(config, value);
        } else {
            if (add_error(config,
                          "%s: hostdev.driver=%s: use vfio-pci, a vfio-pci variant or "
                          "pci-stub (vfio-pci is used)",
                          name, value ? value : "") < 0)
                return -ENOMEM;
            bad++;
        }
    }
    for (size_t i = 0; i < hd_cmdline_count(cmdline); i++) {
        char *list, *save = NULL;
        if (!hd_cmdline_name_equal(hd_cmdline_get_name_at(cmdline, i), "hostdev.reserve"))
            continue;
        value = hd_cmdline_get_value_at(cmdline, i);
        if ((list = strdup(value ? value : "")) == NULL)
            return -ENOMEM;
        if (list[0] == '\0' && add_error(config, "%s: hostdev.reserve= names no device", name) == 0)
            bad++;
        for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
            struct hd_reserve_entry e = {.driver = driver, .numvfs = -1, .file = name};
            char why[256];
            bool named = false;
            const char *err = parse_reserve_word(w, &e, &named, why, sizeof(why));
            if (err == NULL ? add_entry(config, &e) < 0
                            : add_error(config, "%s: hostdev.reserve: %s", name, err) < 0 ||
                                  /* The boot skips it: what it names is in doubt. */
                                  (named && add_doubt(config, name, &e.sel,
                                                      "%s: hostdev.reserve: %s", name, err) < 0)) {
                free(list);
                return -ENOMEM;
            }
            bad += err != NULL;
        }
        free(list);
    }
    return bad;
}

static bool conf_name(const char *name)
{
    size_t n = strlen(name);

    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The files of etc/hostdev.d alone (what persist writes and the admin keeps), one directory
 * open when there is none. */
static int load_files(struct hd_ctx *ctx, struct hd_reserve_config **config)
{
    char **names = NULL;
    size_t count = 0;
    int r;

    if ((r = hd_reserve_config_new(config)) < 0)
        return r;
    r = hd_fs_list_dir(ctx, HD_RESERVE_DIR, &names, &count);
    if (r < 0 && r != -ENOENT && r != -ENOTDIR) {
        *config = hd_reserve_config_unref(*config);
        hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), HD_RESERVE_DIR, strerror(-r));
        return r;
    }
    for (size_t i = 0; i < count; i++) { /* sorted: lexical order, as systemd reads drop-ins */
        char path[HD_PATH_MAX], *text = NULL;
        size_t len = 0;
        if (!conf_name(names[i]) || !hd_name_valid(names[i]) ||
            hd_path(path, sizeof(path), "%s/%s", HD_RESERVE_DIR, names[i]) < 0)
            continue;
        r = hd_fs_read_config(ctx, path, HD_CONFIG_MAX, &text, &len);
        if (r == -ENOENT) /* removed meanwhile */
            continue;
        /* What is no reservation file, or cannot be read (EACCES, EIO), is an error of the
         * configuration naming it, as a bad line is: the boot (--keep-going) applies the
         * other files and the command line. */
        if (r < 0 && r != -ENOMEM) {
            const char *file = intern(*config, path);
            char why[128];
            hd_fs_config_why(r, "a reservation file", "1 MiB", why, sizeof(why));
            r = file == NULL ? -ENOMEM : add_error(*config, "%s: %s", path, why);
            if (r == 0)
                r = add_doubt(*config, file, NULL, "%s: %s", path, why);
            if (r < 0)
                goto fail;
            continue;
        }
        if (r < 0) {
            hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), path, strerror(-r));
            goto fail;
        }
        r = hd_reserve_config_parse(*config, text, len, path);
        free(text);
        if (r < 0)
            goto fail;
    }
    hd_strv_free(names, count);
    return 0;
fail:
    hd_strv_free(names, count);
    *config = hd_reserve_config_unref(*config);
    return r;
}

int hd_reserve_config_load_cmdline(struct hd_ctx *ctx, const struct hd_cmdline *cmdline,
                                   struct hd_reserve_config **config)
{
    int r;

    if ((r = load_files(ctx, config)) < 0)
        return r;
    if (cmdline != NULL && (r = hd_reserve_config_add_cmdline(*config, cmdline)) < 0)
        *config = hd_reserve_config_unref(*config);
    return r < 0 ? r : 0;
}

HD_EXPORT int hd_reserve_config_load(struct hd_ctx *ctx, struct hd_reserve_config **config)
{
    struct hd_cmdline *cmdline = NULL;
    int r;

    (void)hd_cmdline_read(ctx, &cmdline); /* unreadable: none of its reservations */
    r = hd_reserve_config_load_cmdline(ctx, cmdline, config);
    hd_cmdline_unref(cmdline);
    return r;
}

HD_EXPORT size_t hd_reserve_config_count(const struct hd_reserve_config *config)
{
    return config->n;
}

HD_EXPORT const struct hd_reserve_entry *
hd_reserve_config_get(const struct hd_reserve_config *config, size_t i)
{
    return i < config->n ? &config->entries[i] : NULL;
}

HD_EXPORT size_t hd_reserve_config_get_error_count(const struct hd_reserve_config *config)
{
    return config->nerrors;
}

HD_EXPORT const char *hd_reserve_config_get_error(const struct hd_reserve_config *config, size_t i)
{
    return i < config->nerrors ? config->errors[i] : NULL;
}

/* Whether @file is one of the @n files @except (root-relative). */
static bool excepted(const char *file, const char *const *except, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (except[i] != NULL && strcmp(file, except[i]) == 0)
            return true;
    return false;
}

/* The last entry for @dev that @want accepts, none of the @nexcept files @except's: an address
 * entry beats an ids entry. */
static const struct hd_reserve_entry *match(const struct hd_reserve_config *config,
                                            struct hd_device *dev, bool numvfs,
                                            const char *const *except, size_t nexcept)
{
    const struct hd_reserve_entry *by_addr = NULL, *by_ids = NULL;

    if (hd_device_fill_fields(dev, HD_FILL_IDENT, false) < 0)
        return NULL;
    for (size_t i = 0; i < config->n; i++) {
        const struct hd_reserve_entry *e = &config->entries[i];
        if ((numvfs ? e->numvfs < 0 : e->driver == NULL) || !hd_pci_selector_match(&e->sel, dev) ||
            excepted(e->file, except, nexcept))
            continue;
        if (e->sel.kind == HD_SELECTOR_ADDR)
            by_addr = e;
        else
            by_ids = e;
    }
    return by_addr ? by_addr : by_ids;
}

HD_EXPORT const struct hd_reserve_entry *
hd_reserve_config_match(const struct hd_reserve_config *config, struct hd_device *dev)
{
    return match(config, dev, false, NULL, 0);
}

HD_EXPORT const struct hd_reserve_entry *
hd_reserve_config_match_files(const struct hd_reserve_config *config, struct hd_device *dev)
{
    const char *const except = cmdline_file;

    return match(config, dev, false, &except, 1);
}

const struct hd_reserve_entry *
hd_reserve_config_match_except(const struct hd_reserve_config *config, struct hd_device *dev,
                               const char *const *files, size_t nfiles)
{
    return match(config, dev, false, files, nfiles);
}

const char *hd_reserve_config_doubt_except(const struct hd_reserve_config *config,
                                           struct hd_device *dev, const char *const *files,
                                           size_t nfiles)
{
    bool ident = hd_device_fill_fields(dev, HD_FILL_IDENT, false) == 0;

    for (size_t i = 0; i < config->ndoubts; i++) {
        const struct doubt *d = &config->doubts[i];
        if (excepted(d->file, files, nfiles))
            continue;
        /* Ids unknown: any ids line may be the device's. */
        if (d->whole || hd_pci_selector_match(&d->sel, dev) ||
            (!ident && d->sel.kind != HD_SELECTOR_ADDR))
            return d->message;
    }
    return NULL;
}

HD_EXPORT const char *hd_reserve_config_get_doubt(const struct hd_reserve_config *config,
                                                  struct hd_device *dev)
{
    return hd_reserve_config_doubt_except(config, dev, NULL, 0);
}

int hd_reserve_doubt_error(struct hd_ctx *ctx, struct hd_device *dev, const char *doubt)
{
    return hd_errr(ctx, -EINVAL, HD_REASON_INVALID,
                   "%s: not given back, since the configuration may still reserve it: %s "
                   "(mend or remove that first)",
                   hd_device_get_name(dev), doubt);
}

HD_EXPORT const struct hd_reserve_entry *
hd_reserve_config_match_numvfs(const struct hd_reserve_config *config, struct hd_device *dev)
{
    return match(config, dev, true, NULL, 0);
}

char *hd_reserve_stub_numvfs_warning(const struct hd_reserve_config *config,
                                     const struct hd_reserve_entry *entry, bool replaces,
                                     struct hd_device *dev)
{
    const struct hd_reserve_entry *bind = entry, *count = entry;
    char persisted[128], *msg = NULL;

    if (entry != NULL && replaces)
        hd_reserve_persist_path(&entry->sel, persisted, sizeof(persisted));
    const char *except = entry != NULL && replaces ? persisted : NULL;
    if ((bind == NULL || bind->driver == NULL) && config != NULL)
        bind = match(config, dev, false, &except, 1);
    if ((count == NULL || count->numvfs < 0) && config != NULL)
        count = match(config, dev, true, &except, 1);
    if (bind == NULL || bind->driver == NULL || count == NULL || count->numvfs <= 0)
        return NULL;
    /* Read only then: every device a boot reserves comes here. */
    if (hd_device_fill(dev, HD_FILL_IDENT | HD_FILL_SRIOV) < 0 ||
        hd_device_get_physfn(dev) != NULL || hd_device_get_sriov_totalvfs(dev) <= 0) {
        hd_ctx_clear_error(hd_device_get_ctx(dev));
        return NULL; /* no PF: no VFs to lose (a count it cannot have is refused) */
    }
    /* The count is set once the PF is on the stub (a host driver would turn SR-IOV off as it
     * lets go), and only vfio-pci makes VFs of a PF it holds, only with its enable_sriov
     * parameter Y, which is set when it loads (not known for the next boot): a warning, not a
     * refusal (docs/design.md). */
    bool vfio = strcmp(bind->driver, hd_stub_vfio_pci.name) == 0;
    if (bind == count && !hd_driver_is_vfio(bind->driver))
        return NULL; /* one entry with both: refused (hd_reserve_entry_check() says why) */
    /* The lines of the configuration it is about, as a refusal names its line: "FILE:LINE: "
     * before it (the stub's, else the count's), the count's after numvfs= when it is another
     * line. @entry's own is no line yet (persist's, cmdline's). */
    const struct hd_reserve_entry *first = bind != entry ? bind : count != entry ? count : NULL;
    char where[HD_PATH_MAX + 24] = "", count_at[HD_PATH_MAX + 24] = "", at[HD_PATH_MAX + 16];
    if (first != NULL)
        snprintf(where, sizeof(where), "%s: ", hd_reserve_entry_where(first, at, sizeof(at)));
    if (first == bind && count != bind && count != entry)
        snprintf(count_at, sizeof(count_at), " (%s)",
                 hd_reserve_entry_where(count, at, sizeof(at)));
    if (asprintf(&msg,
                 "%s%s: numvfs=%d%s with %s may leave it without VFs: the count is set once the "
                 "PF is on %s, %s; to give the VFs to VMs, keep the PF on its host driver "
                 "(numvfs= alone) and reserve the VFs%s",
                 where, hd_device_get_name(dev), count->numvfs, count_at, bind->driver,
                 bind->driver,
                 vfio ? "which makes VFs only when loaded with enable_sriov=1"
                      : "and only vfio-pci makes VFs of a PF it holds (loaded with enable_sriov=1)",
                 vfio ? ", or load vfio-pci with enable_sriov=1" : "") < 0)
        return NULL;
    return msg;
}

HD_EXPORT char *hd_reserve_config_numvfs_warning(const struct hd_reserve_config *config,
                                                 const struct hd_reserve_entry *entry,
                                                 struct hd_device *dev)
{
    return hd_reserve_stub_numvfs_warning(config, entry, false, dev);
}

HD_EXPORT int hd_reserve_entry_format(const struct hd_reserve_entry *entry, char **line)
{
    char sel[HD_PCI_ADDR_BUFSZ], vfs[24] = "";
    int r;

    if (entry->sel.kind == HD_SELECTOR_ADDR)
        hd_pci_addr_format(&entry->sel.addr, sel);
    else
        snprintf(sel, sizeof(sel), "%04x:%04x", entry->sel.vendor, entry->sel.device);
    if (entry->numvfs >= 0)
        snprintf(vfs, sizeof(vfs), "numvfs=%d", entry->numvfs);
    r = asprintf(line, "%s%s%s%s%s%s", sel, entry->driver ? " " : "",
                 entry->driver ? entry->driver : "", vfs[0] ? " " : "", vfs,
                 entry->noiommu ? " noiommu" : "");
    if (r < 0) {
        *line = NULL;
        return -ENOMEM;
    }
    return 0;
}

HD_EXPORT int hd_reserve_entry_check(const struct hd_reserve_entry *entry, struct hd_device *dev)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    int r = hd_device_fill(dev, HD_FILL_IDENT | HD_FILL_CONFIG | HD_FILL_SRIOV);

    if (r < 0)
        return r;
    if (entry->noiommu && (entry->driver == NULL || !hd_driver_is_vfio(entry->driver)))
        return hd_errr(ctx, -EINVAL, HD_REASON_INVALID, "%s: noiommu is for vfio-pci or a "
                       "vfio-pci variant, not %s", hd_device_get_name(dev),
                       entry->driver ? entry->driver : "a VF count alone");
    if (entry->numvfs >= 0 &&
        (r = hd_check_numvfs_possible(ctx, dev, (unsigned int)entry->numvfs)) < 0)
        return r;
    if (entry->driver == NULL)
        return 0;
    if ((r = hd_device_check_endpoint(dev, HD_REFUSE_RESERVE)) < 0)
        return r;
    /* A count the stub never sets (pci-stub), whatever the host: vfio-pci's depends on its
     * enable_sriov, known only once it is loaded (hd_check_stub_sets_count() asks it then). */
    if (entry->numvfs > 0 && !hd_driver_is_vfio(entry->driver) &&
        (r = hd_check_stub_sets_count(ctx, dev, entry->driver, true)) < 0)
        return r;
    /* A variant bound to what it does not drive refuses it at every boot. */
    struct hd_stub_driver stub;
    if (hd_stub_driver_get(entry->driver, &stub) == 0 && stub.variant)
        return hd_vfio_variant_fits(dev, entry->driver);
    return 0;
}

/* Ids entry @e selects @dev: the first address entry that reserves it instead is kept. */
static void shadow_on(struct hd_reserve_config *config, const struct hd_reserve_entry *e,
                      struct hd_device *dev)
{
    const struct hd_reserve_entry **by = &config->shadows[e - config->entries];
    const struct hd_reserve_entry *applies = match(config, dev, false, NULL, 0);

    if (*by == NULL && e->driver != NULL && applies != NULL &&
        applies->sel.kind == HD_SELECTOR_ADDR)
        *by = applies;
}

/* @e against @dev, when @e is what applies to it: why it is refused, in *@why (NULL: not
 * refused, or @e does not apply). 1 refused, 0, -ENOMEM. */
static int check_on(struct hd_reserve_config *config, const struct hd_reserve_entry *e,
                    struct hd_device *dev, char **why)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);

    *why = NULL;
    if (match(config, dev, false, NULL, 0) != e && match(config, dev, true, NULL, 0) != e)
        return 0;
    hd_ctx_clear_error(ctx);
    if (hd_reserve_entry_check(e, dev) == 0) {
        /* The boot's reserve runs without --force, so it leaves a platform function with the
         * host at every boot, whatever persist --force did to it now; a forced run takes it. */
        const char *platform =
            e->driver != NULL && !config->forced ? hd_platform_function(dev) : NULL;
        if (platform == NULL)
            return 0;
        if (asprintf(why, "%s is %s: the boot's reserve (which does not force) leaves it with "
                     "the host", hd_device_get_name(dev), platform) < 0) {
            *why = NULL;
            return -ENOMEM;
        }
        return 1;
    }
    if ((*why = strdup(hd_ctx_last_error(ctx))) == NULL)
        return -ENOMEM;
    hd_ctx_clear_error(ctx);
    return 1;
}

/* Names shown of the other devices an ids entry has refused, before "and N more". */
#define REFUSED_NAMES_MAX 4

char *hd_reserve_refusal_join(const char *first, const char *const *others, size_t n)
{
    char *msg = NULL, *more = NULL;
    size_t shown = n < REFUSED_NAMES_MAX ? n : REFUSED_NAMES_MAX;
    size_t len = 0;

    if (n == 0)
        return strdup(first);
    for (size_t i = 0; i < shown; i++)
        len += strlen(others[i]) + 2;
    if ((more = malloc(len + 1)) == NULL)
        return NULL;
    more[0] = '\0';
    for (size_t i = 0; i < shown; i++) {
        if (i > 0)
            strcat(more, ", ");
        strcat(more, others[i]);
    }
    if (asprintf(&msg, "%s; refused too: %s%s%.0zu%s", first, more, n > shown ? " and " : "",
                 n > shown ? n - shown : 0, n > shown ? " more" : "") < 0)
        msg = NULL;
    free(more);
    return msg;
}

/* Ids entry @e, config->entries[@i], against every device of @list it selects and applies to:
 * the first refusal's reason, followed by the names of the others it refuses, all of them what
 * the boot leaves with the host. 1 refused, 0, -ENOMEM. */
static int check_ids_on(struct hd_reserve_config *config, const struct hd_reserve_entry *e,
                        size_t i, struct hd_device_list *list)
{
    const char **others = NULL;
    char *first = NULL;
    size_t n = 0;
    int r = 0;

    if ((others = calloc(hd_device_list_count(list) + 1, sizeof(*others))) == NULL)
        return -ENOMEM;
    for (size_t k = 0; r >= 0 && k < hd_device_list_count(list); k++) {
        struct hd_device *dev = hd_device_list_get(list, k);
        char *why;
        if (!hd_pci_selector_match(&e->sel, dev))
            continue;
        shadow_on(config, e, dev);
        if ((r = check_on(config, e, dev, &why)) <= 0)
            continue;
        if (first == NULL)
            first = why;
        else
            others[n++] = hd_device_get_name(dev), free(why);
    }
    if (r >= 0 && first != NULL &&
        (config->refusals[i] = hd_reserve_refusal_join(first, others, n)) == NULL)
        r = -ENOMEM;
    free(first);
    free(others);
    return r < 0 ? r : first != NULL;
}

/* Which VF count of @pf makes @addr one of its VFs (the VF's index + 1), from the PF's
 * sriov_offset and sriov_stride: 0 when none does. */
static int vf_count_for(struct hd_device *pf, const struct hd_pci_addr *addr)
{
    int total = hd_device_get_sriov_totalvfs(pf), offset, stride, now;

    if (total <= 0 || hd_device_read_vf_layout(pf, &offset, &stride, &now) < 0) {
        hd_ctx_clear_error(hd_device_get_ctx(pf));
        return 0;
    }
    for (int i = 0; i < total; i++) {
        struct hd_pci_addr vf;
        if (hd_pci_vf_addr(hd_device_get_addr(pf), offset, stride, i, &vf) < 0)
            break;
        if (hd_pci_addr_equal(&vf, addr))
            return i + 1;
    }
    return 0;
}

/* Which PF of @pfs (SR-IOV PFs there now) would make @addr one of its VFs, and the VF count
 * that does: NULL when none would. */
static struct hd_device *vf_maker(struct hd_device_list *pfs, const struct hd_pci_addr *addr,
                                  int *numvfs)
{
    for (size_t k = 0; k < hd_device_list_count(pfs); k++) {
        struct hd_device *pf = hd_device_list_get(pfs, k);
        if ((*numvfs = vf_count_for(pf, addr)) > 0)
            return pf;
    }
    return NULL;
}

/* How many VFs the boot makes for @pf: the VF count of the entry that applies to it, unless
 * that is refused (as far as hd_reserve_config_check() has told). */
static unsigned int boot_numvfs(const struct hd_reserve_config *config, struct hd_device *pf)
{
    const struct hd_reserve_entry *count = match(config, pf, true, NULL, 0);

    if (count == NULL || (config->refusals != NULL &&
                          count < config->entries + config->nrefusals &&
                          config->refusals[count - config->entries] != NULL))
        return 0;
    return (unsigned int)count->numvfs;
}

/* The PF of the VF @dev, opened (a reference), or NULL when @dev is no VF. */
static struct hd_device *pf_of(struct hd_device *dev)
{
    struct hd_ctx *ctx = hd_device_get_ctx(dev);
    struct hd_device *pf = NULL;

    if (hd_device_fill(dev, HD_FILL_SRIOV) < 0 || hd_device_get_physfn(dev) == NULL ||
        hd_device_open_fill(ctx, hd_device_get_physfn(dev), HD_FILL_IDENT | HD_FILL_SRIOV,
                            &pf) < 0)
        pf = hd_device_unref(pf);
    hd_ctx_clear_error(ctx);
    return pf;
}

static bool is_vf_of(struct hd_device *dev, const struct hd_pci_addr *pf)
{
    return hd_device_fill(dev, HD_FILL_SRIOV) == 0 && hd_device_get_physfn(dev) != NULL &&
           hd_pci_addr_equal(hd_device_get_physfn(dev), pf);
}

/* The VFs among the @n devices @devs (those a reservation takes now) of devs[@i]'s PF that no
 * VF count of @config (NULL: none) makes at boot, told once per PF: when devs[@i] is the first
 * of that PF's VFs among @devs. The VF count that makes them all, with their PF in *@pf (a
 * reference), the first of them in *@first and how many in *@count; 0 (nothing to tell, *@pf
 * NULL) when every one is made, devs[@i] is no VF, or not the first. */
static int vfs_unmade(const struct hd_reserve_config *config, struct hd_device *const *devs,
                      size_t n, size_t i, struct hd_device **pf, struct hd_device **first,
                      size_t *count)
{
    unsigned int made;
    int need = 0;

    *first = NULL;
    *count = 0;
    *pf = NULL;
    if (hd_device_fill(devs[i], HD_FILL_SRIOV) < 0 || hd_device_get_physfn(devs[i]) == NULL)
        goto none;
    for (size_t j = 0; j < i; j++)
        if (is_vf_of(devs[j], hd_device_get_physfn(devs[i])))
            goto none; /* told with that one */
    if ((*pf = pf_of(devs[i])) == NULL)
        return 0;
    made = config != NULL ? boot_numvfs(config, *pf) : 0;
    for (size_t j = i; j < n; j++) {
        int numvfs = is_vf_of(devs[j], hd_device_get_addr(*pf))
                         ? vf_count_for(*pf, hd_device_get_addr(devs[j])) : 0;
        if (numvfs <= 0 || (unsigned int)numvfs <= made)
            continue;
        if ((*count)++ == 0)
            *first = devs[j];
        need = numvfs > need ? numvfs : need;
    }
    if (need > 0)
        return need;
none:
    hd_ctx_clear_error(hd_device_get_ctx(devs[i]));
    *pf = hd_device_unref(*pf);
    return 0;
}

char *hd_reserve_vf_boot_warning(const struct hd_reserve_config *config,
                                 struct hd_device *const *devs, size_t n, size_t i)
{
    struct hd_device *pf, *first;
    size_t count;
    char *msg = NULL;
    int numvfs = vfs_unmade(config, devs, n, i, &pf, &first, &count), r;

    if (numvfs == 0)
        return NULL;
    const char *vf = hd_device_get_name(first), *pfname = hd_device_get_name(pf);
    if (count == 1)
        r = asprintf(&msg,
                     "%s is a VF of %s, and no reservation sets %s's VF count to %d or more: "
                     "a VF is made anew each boot by its PF's count, so unless something else "
                     "makes it, %s is not there at boot and its reservation does nothing then; "
                     "persist %s's VF count too (numvfs=%d or more)",
                     vf, pfname, pfname, numvfs, vf, pfname, numvfs);
    else
        r = asprintf(&msg,
                     "%s and %zu more are VFs of %s, and no reservation sets %s's VF count to %d "
                     "or more: a VF is made anew each boot by its PF's count, so unless "
                     "something else makes them, they are not there at boot and their "
                     "reservation does nothing then; persist %s's VF count too (numvfs=%d or "
                     "more)",
                     vf, count - 1, pfname, pfname, numvfs, pfname, numvfs);
    if (r < 0)
        msg = NULL;
    hd_device_unref(pf);
    return msg;
}

/* What the boot finds for address entry @e whose device is not there now: a VF that a VF count
 * of its PF's (one the boot applies) makes, or nothing that makes it. 0, or -errno. */
static int check_absent(struct hd_reserve_config *config, struct hd_ctx *ctx,
                        const struct hd_reserve_entry *e, struct hd_device_list **pfs)
{
    struct presence *p = &config->presence[e - config->entries];
    struct hd_device *pf;
    int r;

    if (*pfs == NULL && (r = hd_device_list_new(ctx, HD_FILL_IDENT | HD_FILL_SRIOV, pfs)) < 0)
        return r;
    if ((pf = vf_maker(*pfs, &e->sel.addr, &p->numvfs)) == NULL) {
        hd_ctx_clear_error(ctx);
        return 0;
    }
    p->pf = *hd_device_get_addr(pf);
    p->what = boot_numvfs(config, pf) >= (unsigned int)p->numvfs ? HD_RESERVE_VF_AT_BOOT
                                                                   : HD_RESERVE_VF_NEVER;
    hd_ctx_clear_error(ctx);
    return 0;
}

/* Entry @e reserves devices there now (the one its address names, or those of @list its ids
 * select, where it is the entry that applies): when some are VFs that no VF count the boot
 * applies makes, they are gone at boot; the first PF of such VFs is kept, with the count that
 * makes them all. 0, or -errno. */
static int check_present_vfs(struct hd_reserve_config *config, struct hd_ctx *ctx,
                             const struct hd_reserve_entry *e, struct hd_device_list *list)
{
    struct presence *p = &config->presence[e - config->entries];
    struct hd_device **devs, *dev = NULL, *pf, *first;
    size_t n = 0, count;

    if (e->sel.kind == HD_SELECTOR_ADDR && hd_device_open(ctx, &e->sel.addr, &dev) < 0) {
        hd_ctx_clear_error(ctx);
        return 0;
    }
    if ((devs = calloc(dev != NULL ? 1 : hd_device_list_count(list) + 1, sizeof(*devs))) ==
        NULL) {
        hd_device_unref(dev);
        return hd_err(ctx, -ENOMEM, "out of memory");
    }
    if (dev != NULL)
        devs[n++] = dev;
    for (size_t k = 0; dev == NULL && k < hd_device_list_count(list); k++)
        if (match(config, hd_device_list_get(list, k), false, NULL, 0) == e)
            devs[n++] = hd_device_list_get(list, k);
    for (size_t i = 0; i < n && p->what == HD_RESERVE_PRESENT; i++) {
        int numvfs = vfs_unmade(config, devs, n, i, &pf, &first, &count);
        if (numvfs == 0)
            continue;
        p->what = HD_RESERVE_VF_NOT_AT_BOOT;
        p->pf = *hd_device_get_addr(pf);
        p->numvfs = numvfs;
        hd_device_unref(pf);
    }
    free(devs);
    hd_device_unref(dev);
    return 0;
}

HD_EXPORT int hd_reserve_config_check(struct hd_reserve_config *config, struct hd_ctx *ctx)
{
    return hd_reserve_config_check_flags(config, ctx, 0);
}

HD_EXPORT int hd_reserve_config_check_flags(struct hd_reserve_config *config, struct hd_ctx *ctx,
                                            unsigned int flags)
{
    struct hd_device_list *list = NULL, *pfs = NULL;
    int bad = 0, r = 0;

    config->forced = flags & HD_RESERVE_FORCE;
    hd_strv_free(config->refusals, config->nrefusals);
    config->nrefusals = 0;
    free(config->presence);
    free(config->shadows);
    config->presence = calloc(config->n + 1, sizeof(*config->presence));
    config->shadows = calloc(config->n + 1, sizeof(*config->shadows));
    if (config->presence == NULL || config->shadows == NULL ||
        (config->refusals = calloc(config->n + 1, sizeof(*config->refusals))) == NULL)
        return hd_err(ctx, -ENOMEM, "out of memory");
    config->nrefusals = config->n;
    for (size_t i = 0; r >= 0 && i < config->n; i++) {
        const struct hd_reserve_entry *e = &config->entries[i];
        struct hd_device *dev;
        if (e->sel.kind == HD_SELECTOR_ADDR) {
            if (hd_device_open(ctx, &e->sel.addr, &dev) < 0) { /* not there now */
                config->presence[i].what = HD_RESERVE_ABSENT;
                hd_ctx_clear_error(ctx);
                continue;
            }
            r = check_on(config, e, dev, &config->refusals[i]);
            hd_device_unref(dev);
        } else {
            /* Ids select whatever has them: listed once, for the first such entry. */
            if (list == NULL && (r = hd_device_list_new(ctx, HD_FILL_IDENT, &list)) < 0)
                break;
            r = check_ids_on(config, e, i, list);
        }
        bad += r > 0;
        r = r > 0 ? 0 : r;
    }
    /* Then what is not there, once every VF count's refusal is known, and a VF that is there
     * now but that no count the boot applies makes. */
    for (size_t i = 0; r >= 0 && i < config->n; i++) {
        const struct hd_reserve_entry *e = &config->entries[i];
        if (config->presence[i].what == HD_RESERVE_ABSENT)
            r = check_absent(config, ctx, e, &pfs);
        else if (e->driver != NULL)
            r = check_present_vfs(config, ctx, e, list);
    }
    hd_device_list_unref(pfs);
    hd_device_list_unref(list);
    return r < 0 ? r : bad;
}

static bool listed(const struct hd_reserve_entry *const *v, size_t n,
                   const struct hd_reserve_entry *e)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == e)
            return true;
    return false;
}

HD_EXPORT size_t hd_reserve_config_get_unmade_vfs(const struct hd_reserve_config *config,
                                                 struct hd_device *pf, unsigned int first,
                                                 unsigned int end,
                                                 const struct hd_reserve_entry **out, size_t max)
{
    unsigned int made = boot_numvfs(config, pf);
    int offset, stride, now;
    size_t n = 0;

    if (hd_device_read_vf_layout(pf, &offset, &stride, &now) < 0) {
        hd_ctx_clear_error(hd_device_get_ctx(pf));
        return 0;
    }
    for (unsigned int i = first > made ? first : made; i < end; i++) {
        struct hd_pci_addr vf;
        struct hd_device *dev;
        if (hd_pci_vf_addr(hd_device_get_addr(pf), offset, stride, (int)i, &vf) < 0)
            break;
        for (size_t k = 0; k < config->n; k++) {
            const struct hd_reserve_entry *e = &config->entries[k];
            if (e->driver == NULL || e->sel.kind != HD_SELECTOR_ADDR ||
                !hd_pci_addr_equal(&e->sel.addr, &vf))
                continue;
            if (n < max)
                out[n] = e;
            n++;
        }
        /* Ids select the VF there now (it is, below the count it has): the entry that applies
         * to it, once however many of its VFs go. */
        if (hd_device_open_fill(hd_device_get_ctx(pf), &vf, HD_FILL_IDENT, &dev) < 0)
            continue;
        const struct hd_reserve_entry *ids = match(config, dev, false, NULL, 0);
        hd_device_unref(dev);
        if (ids == NULL || ids->sel.kind != HD_SELECTOR_IDS || listed(out, n < max ? n : max, ids))
            continue;
        if (n < max)
            out[n] = ids;
        n++;
    }
    hd_ctx_clear_error(hd_device_get_ctx(pf));
    return n;
}

HD_EXPORT enum hd_reserve_presence
hd_reserve_config_get_presence(const struct hd_reserve_config *config,
                               const struct hd_reserve_entry *entry, struct hd_pci_addr *pf,
                               int *numvfs)
{
    const struct presence *p;

    if (config->presence == NULL || entry < config->entries ||
        entry >= config->entries + config->nrefusals)
        return HD_RESERVE_PRESENT;
    p = &config->presence[entry - config->entries];
    if (pf != NULL)
        *pf = p->pf;
    if (numvfs != NULL)
        *numvfs = p->numvfs;
    return p->what;
}

HD_EXPORT const char *hd_reserve_config_get_refusal(const struct hd_reserve_config *config,
                                                    const struct hd_reserve_entry *entry)
{
    if (entry < config->entries || entry >= config->entries + config->nrefusals)
        return NULL;
    return config->refusals[entry - config->entries];
}

/* The last entry after @entry with its selector that has @numvfs's part (a VF count, else a
 * driver): the one the boot applies for that part instead, as match() chooses. */
static const struct hd_reserve_entry *later_same(const struct hd_reserve_config *config,
                                                 const struct hd_reserve_entry *entry,
                                                 bool numvfs)
{
    const struct hd_reserve_entry *last = NULL;

    for (const struct hd_reserve_entry *o = entry + 1; o < config->entries + config->n; o++) {
        if (o->sel.kind != entry->sel.kind || (numvfs ? o->numvfs < 0 : o->driver == NULL))
            continue;
        if (o->sel.kind == HD_SELECTOR_ADDR ? hd_pci_addr_equal(&o->sel.addr, &entry->sel.addr)
                                            : o->sel.vendor == entry->sel.vendor &&
                                                  o->sel.device == entry->sel.device)
            last = o;
    }
    return last;
}

HD_EXPORT const struct hd_reserve_entry *
hd_reserve_config_get_override(const struct hd_reserve_config *config,
                               const struct hd_reserve_entry *entry)
{
    const struct hd_reserve_entry *driver = NULL, *count = NULL;

    if (entry < config->entries || entry >= config->entries + config->n)
        return NULL;
    if (entry->driver != NULL && (driver = later_same(config, entry, false)) == NULL &&
        entry->sel.kind == HD_SELECTOR_IDS && config->shadows != NULL &&
        config->shadows[entry - config->entries] != NULL)
        return config->shadows[entry - config->entries]; /* for its device alone */
    if (entry->numvfs >= 0 && (count = later_same(config, entry, true)) == NULL)
        return NULL; /* its VF count applies */
    if (entry->driver != NULL && driver == NULL)
        return NULL; /* its driver applies */
    return driver != NULL ? driver : count;
}
