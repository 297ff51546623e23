/* journal.c - the intent log: before each sysfs write or chown a transaction (txn.c) makes,
 * one line saying what it is about to do is appended. A journal lives in
 * STATE/journal/ while its operation runs, locked (flock) by the process running it; a journal
 * that nobody holds belongs to a process that died, and recover.c finishes (after its commit
 * line) or undoes (before it) what it says. One that cannot be read is set aside in
 * STATE/damaged/, where it holds back the groups it names, and only those. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define JOURNAL_MAGIC "hostdev-journal"
#define JOURNAL_VERSION 2
/* How old an unlocked temporary journal must be before recover removes it. */
#define TMP_GRACE_S 60

struct hd_journal {
    int fd; /* holds the flock while the operation runs */
    char path[HD_PATH_MAX];
    bool is_tmp; /* never got its name: its process died before any write */
    enum hd_jop op;
    char vm[HD_VM_ID_MAX + 1]; /* "" for operations without a VM */
    struct hd_jdev *devs; /* the plan */
    size_t ndevs;
    struct hd_jstep *steps; /* what was started, in order */
    size_t nsteps, capsteps;
    bool committed; /* its "commit" line was written */
    /* Its "drop" line: the state record its commit removes (dir "": none) */
    char drop_dir[sizeof(HD_AUTOPROBE_RECORD)], drop_name[HD_PCI_ADDR_BUFSZ];
    char *pending; /* lines not written yet (fd -1: the file is not made yet) */
    size_t npending, cappending;
};

const char *const hd_jop_names[HD_JOP_COUNT] = {
    [HD_JOP_ACQUIRE] = "acquire", [HD_JOP_RELEASE] = "release",   [HD_JOP_DETACH] = "detach",
    [HD_JOP_REATTACH] = "reattach", [HD_JOP_RESET] = "reset",     [HD_JOP_NUMVFS] = "numvfs",
    [HD_JOP_RESERVE] = "reserve",   [HD_JOP_MDEV] = "mdev",
};

static int journal_dir(struct hd_ctx *ctx, char *buf, size_t size)
{
    return hd_path(buf, size, "%s/journal", hd_ctx_get_state_dir(ctx));
}

static struct hd_journal *journal_new(void)
{
    struct hd_journal *j = calloc(1, sizeof(*j));

    if (j != NULL)
        j->fd = -1;
    return j;
}

struct hd_journal *hd_journal_close(struct hd_journal *j)
{
    if (j == NULL)
        return NULL;
    if (j->fd >= 0)
        close(j->fd); /* drops the lock: from now on the journal is recover's */
    free(j->devs);
    free(j->steps);
    free(j->pending);
    free(j);
    return NULL;
}

enum hd_jop hd_journal_op(const struct hd_journal *j)
{
    return j->op;
}

const char *hd_journal_vm(const struct hd_journal *j)
{
    return j->vm;
}

const char *hd_journal_path(const struct hd_journal *j)
{
    return j->path;
}

bool hd_journal_is_tmp(const struct hd_journal *j)
{
    return j->is_tmp;
}

bool hd_journal_is_committed(const struct hd_journal *j)
{
    return j->committed;
}

bool hd_journal_is_made(const struct hd_journal *j)
{
    return j->fd >= 0;
}

const struct hd_jdev *hd_journal_devs(const struct hd_journal *j, size_t *n)
{
    *n = j->ndevs;
    return j->devs;
}

const struct hd_jstep *hd_journal_steps(const struct hd_journal *j, size_t *n)
{
    *n = j->nsteps;
    return j->steps;
}

const struct hd_jstep *hd_journal_find_own(const struct hd_journal *j, const char *path)
{
    for (size_t i = 0; j != NULL && i < j->nsteps; i++) {
        if (j->steps[i].kind == HD_JSTEP_OWN && strcmp(j->steps[i].node.path, path) == 0)
            return &j->steps[i];
    }
    return NULL;
}

static int ofd_lock(int fd, short type, bool wait)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    int r;

    while ((r = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl)) < 0 && errno == EINTR)
        ;
    return r < 0 ? -errno : 0;
}

int hd_journal_hold(struct hd_ctx *ctx, const struct hd_journal *j)
{
    int fd = hd_fs_open(ctx, j->path, O_RDWR, 0), r;

    if (fd < 0)
        return fd;
    /* Waits while the last writer undoes: after that, the operation is over. */
    if ((r = ofd_lock(fd, F_RDLCK, true)) < 0) {
        close(fd);
        return r;
    }
    return fd;
}

bool hd_journal_last(struct hd_ctx *ctx, const struct hd_journal *j, int *hold_fd)
{
    struct stat st;
    int fd;

    if (*hold_fd >= 0)
        close(*hold_fd); /* this one's hold (shared by its writers while they live) goes */
    *hold_fd = -1;
    /* A description of our own, which no writer shares; gone: an earlier last one ended it. */
    if ((fd = hd_fs_open(ctx, j->path, O_RDWR, 0)) < 0)
        return false;
    if (ofd_lock(fd, F_WRLCK, false) < 0 || fstat(fd, &st) < 0 || st.st_nlink == 0) {
        close(fd);
        return false;
    }
    *hold_fd = fd;
    return true;
}

void hd_journal_rehold(int fd)
{
    ofd_lock(fd, F_RDLCK, false); /* a conversion: nothing can be in the way */
}

static int add_step(struct hd_journal *j, const struct hd_jstep *step)
{
    struct hd_jstep *v = hd_array_grow(j->steps, &j->capsteps, j->nsteps, sizeof(*v), 16);
    if (v == NULL)
        return -ENOMEM;
    j->steps = v;
    j->steps[j->nsteps++] = *step;
    return 0;
}

/* A driver name in a line: "-" for none. */
static const char *word(const char *driver)
{
    return driver[0] ? driver : "-";
}

static int format_step(const struct hd_jstep *s, char *buf, size_t size)
{
    char name[HD_PCI_ADDR_BUFSZ], rec[2 * HD_DRIVER_NAME_MAX + 8];

    hd_pci_addr_format(&s->addr, name);
    /* The record's override line after a '/', which no driver name holds. */
    if (s->record == HD_JREC_DRIVER)
        snprintf(rec, sizeof(rec), "rec:%s%s%s", s->record_driver,
                 s->record_override[0] ? "/" : "", s->record_override);
    else
        strcpy(rec, "norec");
    switch (s->kind) {
    case HD_JSTEP_DETACH:
        return hd_path(buf, size, "detach %s %s %s %s\n", name, word(s->from), s->to, rec);
    case HD_JSTEP_REATTACH:
        return hd_path(buf, size, "reattach %s %s %s\n", name, word(s->from), rec);
    case HD_JSTEP_RESET:
        return hd_path(buf, size, "reset %s\n", name);
    case HD_JSTEP_OWN:
        return hd_path(buf, size, "own %s %u %u %04o\n", s->node.path, (unsigned)s->node.uid,
                       (unsigned)s->node.gid, (unsigned)s->node.mode);
    case HD_JSTEP_NUMVFS:
        return hd_path(buf, size, "numvfs %s %d %d\n", name, s->old_numvfs, s->old_autoprobe);
    case HD_JSTEP_OVERRIDE:
        return hd_path(buf, size, "override %s %s\n", name, word(s->from));
    case HD_JSTEP_FORGET:
        return hd_path(buf, size, "forget %s %s %s\n", name, word(s->from), rec);
    case HD_JSTEP_MDEV_CREATE:
    case HD_JSTEP_MDEV_REMOVE:
        return hd_path(buf, size, "%s %s %s %s\n",
                       s->kind == HD_JSTEP_MDEV_CREATE ? "mdev-create" : "mdev-remove",
                       s->mdev_parent, s->mdev_type, s->mdev_uuid);
    }
    return -EINVAL;
}

/* Lines for the file that are not on disk yet. */
static int add_pending(struct hd_journal *j, const char *text, size_t len)
{
    if (j->npending + len > j->cappending) {
        size_t cap = (j->npending + len) * 2 + 256;
        char *v = realloc(j->pending, cap);
        if (v == NULL)
            return -ENOMEM;
        j->pending = v;
        j->cappending = cap;
    }
    memcpy(j->pending + j->npending, text, len);
    j->npending += len;
    return 0;
}

int hd_journal_prepare(struct hd_ctx *ctx, enum hd_jop op, const char *vm,
                       const struct hd_jdev *devs, size_t n, struct hd_journal **out)
{
    char dir[HD_PATH_MAX], *text = NULL;
    struct hd_journal *j = journal_new();
    struct timespec ts;
    size_t len = 0;
    int r;

    *out = NULL;
    if (j == NULL || (j->devs = calloc(n + 1, sizeof(*j->devs))) == NULL) {
        hd_journal_close(j);
        return -ENOMEM;
    }
    j->op = op;
    hd_strlcpy(j->vm, vm ? vm : "", sizeof(j->vm));
    if (n > 0) /* an mdev operation plans no PCI device: no array to copy */
        memcpy(j->devs, devs, n * sizeof(*devs));
    j->ndevs = n;
    clock_gettime(CLOCK_REALTIME, &ts);
    if ((r = journal_dir(ctx, dir, sizeof(dir))) < 0 ||
        (r = hd_path(j->path, sizeof(j->path), "%s/%s-%ld-%lld%09ld", dir, hd_jop_names[op],
                     (long)getpid(), (long long)ts.tv_sec, ts.tv_nsec)) < 0) {
        hd_journal_close(j);
        return r;
    }
    text = malloc(64 + HD_VM_ID_MAX + n * 64);
    if (text == NULL) {
        hd_journal_close(j);
        return -ENOMEM;
    }
    len = (size_t)sprintf(text, "%s %d %s%s%s\n", JOURNAL_MAGIC, JOURNAL_VERSION,
                          hd_jop_names[op], vm ? " " : "", vm ? vm : "");
    for (size_t i = 0; i < n; i++) {
        char name[HD_PCI_ADDR_BUFSZ];
        if (devs[i].kind != HD_ASSIGNMENT_PCI)
            len +=
                (size_t)sprintf(text + len, "%s %.36s %d\n", hd_assignment_kind_word(devs[i].kind),
                                devs[i].name, devs[i].group);
        else
            len += (size_t)sprintf(text + len, "dev %s %d\n",
                                   hd_pci_addr_format(&devs[i].addr, name), devs[i].group);
    }
    r = add_pending(j, text, len);
    free(text);
    if (r < 0) {
        hd_journal_close(j);
        return r;
    }
    *out = j;
    return 0;
}

/* The file made: under a temporary name, locked, the header and the lines so far written,
 * then renamed. Not fsynced: the state directory is a tmpfs (ROOT/run) whose records end with
 * the boot, as the kernel state they describe does; a killed process loses nothing it wrote. */
static int create(struct hd_ctx *ctx, struct hd_journal *j)
{
    char tmp[HD_PATH_MAX];
    int fd, r;

    if ((r = hd_path(tmp, sizeof(tmp), "%s.tmp", j->path)) < 0)
        return r;
    /* Created under a temporary name and locked before it gets its real one: recover never
     * sees a journal that is not locked by a live process, or one that is half written. */
    fd = hd_fs_open_mkdir(ctx, tmp, O_RDWR | O_CREAT | O_EXCL, 0600, 0700);
    if (fd < 0)
        return hd_err(ctx, fd, "%s/%s: %s", hd_ctx_get_root(ctx), tmp, strerror(-fd));
    r = flock(fd, LOCK_EX) < 0 ? -errno : 0;
    if (r == 0)
        r = hd_fs_write_all(fd, j->pending, j->npending);
    if (r == 0)
        r = hd_fs_rename(ctx, tmp, j->path);
    if (r < 0) {
        hd_fs_unlink(ctx, tmp);
        close(fd);
        return hd_err(ctx, r, "writing the intent log %s/%s: %s", hd_ctx_get_root(ctx), j->path,
                      strerror(-r));
    }
    j->fd = fd;
    return 0;
}

int hd_journal_flush(struct hd_ctx *ctx, struct hd_journal *j)
{
    int r = 0;

    if (j->npending == 0)
        return 0;
    if (j->fd < 0)
        r = create(ctx, j);
    else {
        /* The intents are written before the writes they describe. */
        r = hd_fs_write_all(j->fd, j->pending, j->npending);
        if (r < 0)
            r = hd_err(ctx, r, "writing the intent log %s/%s: %s", hd_ctx_get_root(ctx), j->path,
                       strerror(-r));
    }
    if (r == 0)
        j->npending = 0;
    return r;
}

int hd_journal_begin(struct hd_ctx *ctx, enum hd_jop op, const char *vm,
                     const struct hd_jdev *devs, size_t n, struct hd_journal **out)
{
    int r = hd_journal_prepare(ctx, op, vm, devs, n, out);

    if (r == 0 && (r = hd_journal_flush(ctx, *out)) < 0)
        *out = hd_journal_close(*out);
    return r;
}

int hd_journal_defer(struct hd_ctx *ctx, struct hd_journal *j, const struct hd_jstep *step)
{
    char line[HD_NODE_PATH_MAX + 64];
    int r = format_step(step, line, sizeof(line));

    (void)ctx;
    if (r == 0)
        r = add_step(j, step);
    if (r == 0)
        r = add_pending(j, line, strlen(line));
    return r;
}

/* The record @j's commit drops: a PF's autoprobe record, named by its address, and nothing
 * else (a journal read back is no way to remove any other file). */
static int set_drop(struct hd_journal *j, const char *dir, const char *name)
{
    struct hd_pci_addr addr;

    if (strcmp(dir, HD_AUTOPROBE_RECORD) != 0 || hd_pci_addr_parse(name, &addr) < 0)
        return -EINVAL;
    strcpy(j->drop_dir, dir);
    hd_pci_addr_format(&addr, j->drop_name);
    return 0;
}

int hd_journal_defer_drop(struct hd_ctx *ctx, struct hd_journal *j, const char *dir,
                          const char *name)
{
    char line[sizeof(j->drop_dir) + sizeof(j->drop_name) + 8];
    int r = set_drop(j, dir, name);

    (void)ctx;
    if (r < 0)
        return r;
    snprintf(line, sizeof(line), "drop %s %s\n", j->drop_dir, j->drop_name);
    return add_pending(j, line, strlen(line));
}

bool hd_journal_drop(const struct hd_journal *j, const char **dir, const char **name)
{
    *dir = j->drop_dir;
    *name = j->drop_name;
    return j->drop_dir[0] != '\0';
}

int hd_journal_commit(struct hd_ctx *ctx, struct hd_journal *j)
{
    if (j->fd < 0) { /* never written: nothing was done, nothing to commit */
        j->committed = true;
        return 0;
    }
    int r = hd_fs_write_all(j->fd, "commit\n", 7);

    if (r < 0)
        return hd_err(ctx, r, "writing the intent log %s/%s: %s", hd_ctx_get_root(ctx), j->path,
                      strerror(-r));
    j->committed = true;
    return 0;
}

void hd_journal_end(struct hd_ctx *ctx, struct hd_journal *j)
{
    if (j == NULL)
        return;
    /* Unlinked while still locked: nobody can mistake it for a dead one in between. */
    if (j->fd >= 0)
        hd_fs_unlink(ctx, j->path);
    hd_journal_close(j);
}

static int parse_addr_word(const char *w, struct hd_pci_addr *addr)
{
    return w != NULL && hd_pci_addr_parse(w, addr) == 0 ? 0 : -EINVAL;
}

static int parse_driver_word(const char *w, char *out)
{
    if (strcmp(w, "-") == 0) {
        out[0] = '\0';
        return 0;
    }
    if (!hd_name_valid(w) || strlen(w) >= HD_DRIVER_NAME_MAX)
        return -EINVAL;
    strcpy(out, w);
    return 0;
}

static int parse_record_word(const char *w, struct hd_jstep *s)
{
    if (strcmp(w, "norec") == 0) {
        s->record = HD_JREC_NONE;
        return 0;
    }
    if (strncmp(w, "rec:", 4) != 0)
        return -EINVAL;
    s->record = HD_JREC_DRIVER;
    /* "rec:DRIVER/OVERRIDE": the override line the record had (REATTACH, FORGET). */
    char *slash = strchr(w + 4, '/');
    if (slash != NULL) {
        *slash = '\0';
        if (slash[1] == '\0' || strcmp(slash + 1, "-") == 0 ||
            parse_driver_word(slash + 1, s->record_override) < 0)
            return -EINVAL;
    }
    if (w[4] == '\0' || strcmp(w + 4, HD_ORIGINAL_DRIVER_KERNEL) == 0) {
        /* the record said: no driver, or the kernel's choice */
        hd_strlcpy(s->record_driver, w + 4, sizeof(s->record_driver));
        return 0;
    }
    return parse_driver_word(w + 4, s->record_driver);
}

static int parse_dev_line(struct hd_journal *j, char **w, size_t n)
{
    struct hd_jdev d, *v;
    long long g;

    memset(&d, 0, sizeof(d));
    if (n != 3 || hd_parse_int(w[2], -1, 0x7fffffff, &g) < 0)
        return -EINVAL;
    /* "mdev UUID GROUP" (canonical UUID only), "usb NAME -1", "scsi NAME -1" */
    d.kind = hd_assignment_kind_parse(w[0]);
    if (d.kind == HD_ASSIGNMENT_PCI ? parse_addr_word(w[1], &d.addr) < 0
                                    : hd_assignment_key_parse(d.kind, w[1], d.name) < 0)
        return -EINVAL;
    d.group = (int)g;
    if ((v = realloc(j->devs, (j->ndevs + 1) * sizeof(*v))) == NULL)
        return -ENOMEM;
    j->devs = v;
    j->devs[j->ndevs++] = d;
    return 0;
}

static int parse_own(char **w, struct hd_jstep *s)
{
    unsigned long long u, g, m;

    /* Only a node a VM opens, with a plain permission mode: a journal is no way to chown
     * anything else or to set special bits. */
    if (!hd_node_path_valid(w[1]) || hd_parse_uint(w[2], 10, 0xfffffffe, &u) < 0 ||
        hd_parse_uint(w[3], 10, 0xfffffffe, &g) < 0 || hd_parse_uint(w[4], 8, 0777, &m) < 0)
        return -EINVAL;
    strcpy(s->node.path, w[1]);
    s->node.uid = (uid_t)u;
    s->node.gid = (gid_t)g;
    s->node.mode = (mode_t)m;
    return 0;
}

/* mdev-create|mdev-remove PARENT TYPE UUID: names that go into sysfs paths, so plain names. */
static int parse_mdev(char **w, struct hd_jstep *s)
{
    if (!hd_name_valid(w[1]) || strlen(w[1]) >= sizeof(s->mdev_parent) || !hd_name_valid(w[2]) ||
        strlen(w[2]) >= sizeof(s->mdev_type) || hd_mdev_uuid_parse(w[3], s->mdev_uuid) < 0)
        return -EINVAL;
    strcpy(s->mdev_parent, w[1]);
    strcpy(s->mdev_type, w[2]);
    return 0;
}

/* One line; a last line without its newline was being written when the writer died: the
 * write it announces never started, so it is dropped, not an error. */
static int parse_line(struct hd_journal *j, char *line, int version)
{
    char *w[6] = {NULL}, *save = NULL;
    size_t n = 0;
    struct hd_jstep s;
    long long v1 = 0, v2 = 0;
    int r = 0;

    for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
        w[n++] = t;
    if (n == 0 || n == 6)
        return -EINVAL;
    if (strcmp(w[0], "dev") == 0 || (int)hd_assignment_kind_parse(w[0]) > HD_ASSIGNMENT_PCI)
        return parse_dev_line(j, w, n);
    if (strcmp(w[0], "commit") == 0 && n == 1) {
        j->committed = true;
        return 0;
    }
    if (strcmp(w[0], "drop") == 0 && n == 3) /* no step: the record the commit removes */
        return set_drop(j, w[1], w[2]);
    memset(&s, 0, sizeof(s));
    s.old_numvfs = s.old_autoprobe = -1;
    if (strcmp(w[0], "own") == 0 && n == 5) {
        s.kind = HD_JSTEP_OWN;
        r = parse_own(w, &s);
    } else if ((strcmp(w[0], "mdev-create") == 0 || strcmp(w[0], "mdev-remove") == 0) && n == 4) {
        s.kind = w[0][5] == 'c' ? HD_JSTEP_MDEV_CREATE : HD_JSTEP_MDEV_REMOVE;
        r = parse_mdev(w, &s);
    } else if (n >= 2 && parse_addr_word(w[1], &s.addr) < 0) {
        r = -EINVAL;
    } else if (strcmp(w[0], "reset") == 0 && n == 2) {
        s.kind = HD_JSTEP_RESET;
    } else if (strcmp(w[0], "detach") == 0 && n == 2 && version == 1) {
        s.kind = HD_JSTEP_DETACH;
    } else if (strcmp(w[0], "reattach") == 0 && n == 2 && version == 1) {
        s.kind = HD_JSTEP_REATTACH;
    } else if (strcmp(w[0], "detach") == 0 && n == 5) {
        s.kind = HD_JSTEP_DETACH;
        s.from_known = true;
        if (parse_driver_word(w[2], s.from) < 0 || parse_driver_word(w[3], s.to) < 0 ||
            s.to[0] == '\0' || parse_record_word(w[4], &s) < 0)
            r = -EINVAL;
    } else if (strcmp(w[0], "reattach") == 0 && n == 4) {
        s.kind = HD_JSTEP_REATTACH;
        s.from_known = true;
        if (parse_driver_word(w[2], s.from) < 0 || parse_record_word(w[3], &s) < 0)
            r = -EINVAL;
    } else if (strcmp(w[0], "numvfs") == 0 && n == 4) {
        s.kind = HD_JSTEP_NUMVFS;
        if (hd_parse_int(w[2], 0, 65535, &v1) < 0 || hd_parse_int(w[3], -1, 1, &v2) < 0)
            r = -EINVAL;
        s.old_numvfs = (int)v1;
        s.old_autoprobe = (int)v2;
    } else if (strcmp(w[0], "forget") == 0 && n == 4) {
        s.kind = HD_JSTEP_FORGET;
        s.from_known = true;
        if (parse_driver_word(w[2], s.from) < 0 || parse_record_word(w[3], &s) < 0 ||
            s.record != HD_JREC_DRIVER)
            r = -EINVAL;
    } else if (strcmp(w[0], "override") == 0 && n == 3) {
        s.kind = HD_JSTEP_OVERRIDE;
        s.from_known = true;
        r = parse_driver_word(w[2], s.from);
    } else {
        r = -EINVAL;
    }
    return r < 0 ? r : add_step(j, &s);
}

static int parse_header(char *line, struct hd_journal *j, int *version)
{
    char *w[5] = {NULL}, *save = NULL;
    size_t n = 0;
    long long v;

    for (char *t = strtok_r(line, " ", &save); t && n < 5; t = strtok_r(NULL, " ", &save))
        w[n++] = t;
    if (n < 3 || n > 4 || strcmp(w[0], JOURNAL_MAGIC) != 0 || hd_parse_int(w[1], 1, 2, &v) < 0)
        return -EINVAL;
    *version = (int)v;
    for (j->op = 0; j->op < HD_JOP_COUNT; j->op++) {
        if (strcmp(w[2], hd_jop_names[j->op]) == 0)
            break;
    }
    if (j->op == HD_JOP_COUNT || (v == 1 && j->op > HD_JOP_RELEASE))
        return -EINVAL;
    /* Acquire and release belong to a VM; the other operations have none. */
    if ((j->op <= HD_JOP_RELEASE) != (n == 4) || (n == 4 && !hd_vm_id_valid(w[3])))
        return -EINVAL;
    hd_strlcpy(j->vm, n == 4 ? w[3] : "", sizeof(j->vm));
    return 0;
}

/* Parse @text into @j. With a damaged journal, the devices named before the damage are still
 * in @j (so that their groups can be held back) and -EBADMSG is returned. */
static int parse(struct hd_ctx *ctx, const char *text, struct hd_journal *j)
{
    char *copy = strdup(text), *p, *line;
    unsigned int lineno = 1;
    int version = 0, r = 0;

    if (copy == NULL)
        return -ENOMEM;
    p = copy;
    line = strsep(&p, "\n");
    /* Without its newline the header never left its temporary name. */
    if (p == NULL || parse_header(line, j, &version) < 0) {
        r = -EBADMSG;
        goto out;
    }
    while ((line = strsep(&p, "\n")) != NULL) {
        lineno++;
        if (p == NULL)
            break; /* the unfinished last line (or the empty tail after the last newline) */
        if ((r = parse_line(j, line, version)) < 0)
            break;
    }
out:
    free(copy);
    if (r == -EINVAL || r == -EBADMSG)
        r = hd_errr(ctx, -EBADMSG, HD_REASON_BLOCKED, "intent log %s/%s line %u cannot be read",
                    hd_ctx_get_root(ctx), j->path, lineno);
    return r;
}

/* Read and parse the journal at j->path. */
static int load(struct hd_ctx *ctx, struct hd_journal *j)
{
    char *text = NULL;
    int r = hd_fs_read_alloc(ctx, j->path, HD_READ_MAX, &text, NULL);

    if (r == 0)
        r = parse(ctx, text, j);
    free(text);
    return r;
}

int hd_journal_list(struct hd_ctx *ctx, char ***names, size_t *n)
{
    char dir[HD_PATH_MAX];
    int r = journal_dir(ctx, dir, sizeof(dir));

    *names = NULL;
    *n = 0;
    if (r < 0)
        return r;
    r = hd_fs_list_dir(ctx, dir, names, n);
    return r == -ENOENT ? 0 : r;
}

/* "OP-PID-STAMP.tmp": is PID (the process that made it, hd_journal_begin) perhaps alive? A
 * name not of that form, or a PID we may not signal, counts as alive (wait for the grace). */
static bool creator_may_live(const char *name)
{
    const char *end = strrchr(name, '-'), *start = end;
    long long pid;
    char buf[24];

    while (start != NULL && start > name && start[-1] != '-')
        start--;
    if (end == NULL || start == NULL || start == name || end - start >= (long)sizeof(buf) ||
        end == start)
        return true;
    memcpy(buf, start, (size_t)(end - start));
    buf[end - start] = '\0';
    if (hd_parse_int(buf, 1, 0x7fffffff, &pid) < 0)
        return true;
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

int hd_journal_claim(struct hd_ctx *ctx, const char *name, struct hd_journal **out)
{
    struct hd_journal *j = journal_new();
    char dir[HD_PATH_MAX];
    struct stat a, b;
    int r;

    *out = NULL;
    if (j == NULL)
        return -ENOMEM;
    if ((r = journal_dir(ctx, dir, sizeof(dir))) < 0 || !hd_name_valid(name) ||
        (r = hd_path(j->path, sizeof(j->path), "%s/%s", dir, name)) < 0) {
        hd_journal_close(j);
        return r < 0 ? r : -EINVAL;
    }
    j->fd = hd_fs_open(ctx, j->path, O_RDWR, 0);
    if (j->fd < 0) {
        r = j->fd;
        hd_journal_close(j);
        return r;
    }
    if (flock(j->fd, LOCK_EX | LOCK_NB) < 0) {
        r = errno == EWOULDBLOCK ? -EBUSY : -errno; /* its process is alive */
        hd_journal_close(j);
        return r;
    }
    /* Its owner may have finished (unlinked it) between our open and our lock. */
    if (fstat(j->fd, &a) < 0 || hd_fs_stat(ctx, j->path, &b) < 0 || a.st_ino != b.st_ino ||
        a.st_dev != b.st_dev) {
        hd_journal_close(j);
        return -ENOENT;
    }
    if (strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".tmp") == 0) {
        /* Its creator locks it just after creating it: a young one may be in that gap, unless
         * its creator is gone. An unlocked one whose creator died (or an old one) died before
         * its first sysfs write: nothing to undo, only to remove. */
        if (time(NULL) - a.st_mtime < TMP_GRACE_S && creator_may_live(name)) {
            hd_journal_close(j);
            return -EAGAIN;
        }
        j->is_tmp = true;
        *out = j;
        return 0;
    }
    if ((r = load(ctx, j)) < 0) {
        if (r == -EBADMSG) {
            *out = j; /* still locked: the caller sets it aside */
            return r;
        }
        hd_journal_close(j);
        return r;
    }
    *out = j;
    return 0;
}

bool hd_journal_is_live(struct hd_ctx *ctx, const char *name)
{
    char dir[HD_PATH_MAX], path[HD_PATH_MAX];
    bool held;
    int fd;

    /* A shared lock taken and dropped: only a question, no change. */
    if (!hd_name_valid(name) || journal_dir(ctx, dir, sizeof(dir)) < 0 ||
        hd_path(path, sizeof(path), "%s/%s", dir, name) < 0 ||
        (fd = hd_fs_open(ctx, path, O_RDONLY, 0)) < 0)
        return false;
    held = flock(fd, LOCK_SH | LOCK_NB) < 0;
    close(fd);
    return held;
}

int hd_journal_peek(struct hd_ctx *ctx, const char *name, struct hd_journal **out)
{
    struct hd_journal *j = journal_new();
    char dir[HD_PATH_MAX];
    int r;

    *out = NULL;
    if (j == NULL)
        return -ENOMEM;
    if ((r = journal_dir(ctx, dir, sizeof(dir))) < 0 || !hd_name_valid(name) ||
        (r = hd_path(j->path, sizeof(j->path), "%s/%s", dir, name)) < 0 ||
        (r = load(ctx, j)) < 0) {
        hd_journal_close(j);
        return r < 0 ? r : -EINVAL;
    }
    *out = j;
    return 0;
}

int hd_journal_each_dev(struct hd_ctx *ctx, hd_journal_dev_fn *fn, void *data)
{
    char **names;
    size_t n;
    int r = 0;

    if (hd_journal_list(ctx, &names, &n) < 0) {
        hd_ctx_clear_error(ctx); /* no state directory: nothing under way */
        return 0;
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct hd_journal *j = NULL;
        size_t ndevs;
        if (hd_journal_peek(ctx, names[i], &j) < 0 || hd_journal_is_tmp(j)) {
            hd_ctx_clear_error(ctx);
            hd_journal_close(j);
            continue;
        }
        const struct hd_jdev *devs = hd_journal_devs(j, &ndevs);
        bool live = hd_journal_is_live(ctx, names[i]);
        for (size_t k = 0; r == 0 && k < ndevs; k++)
            r = fn(data, j, &devs[k], live);
        hd_journal_close(j);
    }
    hd_strv_free(names, n);
    return r;
}

struct operation_of {
    const struct hd_pci_addr *addr;
    const char **op;
    bool *live;
};

static int operation_of(void *data, const struct hd_journal *j, const struct hd_jdev *dev,
                        bool live)
{
    const struct operation_of *o = data;

    if (dev->kind != HD_ASSIGNMENT_PCI || !hd_pci_addr_equal(&dev->addr, o->addr))
        return 0;
    *o->op = hd_jop_names[hd_journal_op(j)];
    *o->live = live;
    return 1;
}

HD_EXPORT int hd_device_get_operation(struct hd_device *dev, const char **op, bool *live)
{
    struct operation_of o = {hd_device_get_addr(dev), op, live};

    return hd_journal_each_dev(hd_device_get_ctx(dev), operation_of, &o) == 1 ? 0 : -ENOENT;
}

static int damaged_dir(struct hd_ctx *ctx, char *buf, size_t size)
{
    return hd_path(buf, size, "%s/damaged", hd_ctx_get_state_dir(ctx));
}

int hd_journal_set_aside(struct hd_ctx *ctx, struct hd_journal *j)
{
    char dir[HD_PATH_MAX], to[HD_PATH_MAX];
    const char *base = strrchr(j->path, '/');
    int r;

    if ((r = damaged_dir(ctx, dir, sizeof(dir))) < 0 ||
        (r = hd_path(to, sizeof(to), "%s/%s", dir, base ? base + 1 : j->path)) < 0)
        return r;
    if ((r = hd_fs_mkdir_p(ctx, dir, 0700)) < 0 || (r = hd_fs_rename(ctx, j->path, to)) < 0)
        return hd_err(ctx, r, "setting the damaged intent log %s/%s aside: %s",
                      hd_ctx_get_root(ctx), j->path, strerror(-r));
    hd_warn(ctx, "intent log %s/%s cannot be read: moved to %s/%s; it holds back IOMMU groups "
            "it names until it is removed", hd_ctx_get_root(ctx), j->path, hd_ctx_get_root(ctx),
            to);
    return 0;
}

/* The first group of @groups that the journal file @path names, or -1. */
static int damaged_names_group(struct hd_ctx *ctx, const char *path, const int *groups, size_t n)
{
    struct hd_journal *j = journal_new();
    char *text = NULL;
    struct hd_saved_error saved;
    int found = -1;

    if (j == NULL)
        return -1;
    hd_saved_error_save(ctx, &saved, 0);
    hd_strlcpy(j->path, path, sizeof(j->path));
    if (hd_fs_read_alloc(ctx, path, HD_READ_MAX, &text, NULL) == 0)
        parse(ctx, text, j); /* the devices named before the damage count */
    for (size_t d = 0; d < j->ndevs && found < 0; d++) {
        for (size_t g = 0; g < n && found < 0; g++) {
            if (groups[g] >= 0 && j->devs[d].group == groups[g])
                found = groups[g];
        }
    }
    /* Reading it is expected to fail: that is not this call's error. */
    hd_saved_error_put_back(ctx, &saved);
    free(text);
    hd_journal_close(j);
    return found;
}

int hd_journal_check_damaged(struct hd_ctx *ctx, const int *groups, size_t n)
{
    char dir[HD_PATH_MAX], path[HD_PATH_MAX], **names = NULL;
    size_t count = 0;
    int r = damaged_dir(ctx, dir, sizeof(dir));

    if (r < 0)
        return r;
    r = hd_fs_list_dir(ctx, dir, &names, &count);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), dir, strerror(-r));
    for (size_t i = 0; i < count && r == 0; i++) {
        int group;
        if (!hd_name_valid(names[i]) || hd_path(path, sizeof(path), "%s/%s", dir, names[i]) < 0)
            continue;
        if ((group = damaged_names_group(ctx, path, groups, n)) >= 0)
            r = hd_errr(ctx, -EBUSY, HD_REASON_BLOCKED, "the unreadable intent log %s/%s names "
                        "IOMMU group %d: check the devices it names by hand, then remove it",
                        hd_ctx_get_root(ctx), path, group);
    }
    hd_strv_free(names, count);
    return r;
}

int hd_journal_count_damaged(struct hd_ctx *ctx, unsigned int *count)
{
    char dir[HD_PATH_MAX], **names = NULL;
    size_t n = 0;
    int r = damaged_dir(ctx, dir, sizeof(dir));

    *count = 0;
    if (r < 0)
        return r;
    r = hd_fs_list_dir(ctx, dir, &names, &n);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return hd_err(ctx, r, "%s/%s: %s", hd_ctx_get_root(ctx), dir, strerror(-r));
    *count = (unsigned int)n;
    hd_strv_free(names, n);
    return 0;
}
