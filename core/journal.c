/* journal.c - the intent log: before each sysfs write or chown an acquire or release makes,
 * one line saying what it is about to do is appended and fsynced. A journal lives in
 * STATE/journal/ while its operation runs, locked (flock) by the process running it; a journal
 * that nobody holds belongs to a process that died, and recover.c undoes what it says. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define JOURNAL_MAGIC "hostdev-journal 1"
/* How old an unlocked temporary journal must be before recover removes it. */
#define TMP_GRACE_S 60

static const char *const op_names[] = {[HD_JOP_ACQUIRE] = "acquire",
                                       [HD_JOP_RELEASE] = "release"};

static int journal_dir(struct hd_ctx *ctx, char *buf, size_t size)
{
    return hd_path(buf, size, "%s/journal", ctx->state_dir);
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
    free(j);
    return NULL;
}

static int add_step(struct hd_journal *j, const struct hd_jstep *step)
{
    if (j->nsteps == j->capsteps) {
        size_t cap = j->capsteps ? j->capsteps * 2 : 16;
        struct hd_jstep *v = realloc(j->steps, cap * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        j->steps = v;
        j->capsteps = cap;
    }
    j->steps[j->nsteps++] = *step;
    return 0;
}

static int format_step(const struct hd_jstep *s, char *buf, size_t size)
{
    char name[HD_PCI_ADDR_BUFSZ];

    hd_pci_addr_format(&s->addr, name);
    switch (s->kind) {
    case HD_JSTEP_DETACH:
        return hd_path(buf, size, "detach %s\n", name);
    case HD_JSTEP_REATTACH:
        return hd_path(buf, size, "reattach %s\n", name);
    case HD_JSTEP_RESET:
        return hd_path(buf, size, "reset %s\n", name);
    case HD_JSTEP_OWN:
        return hd_path(buf, size, "own %s %u %u %04o\n", s->node.path, (unsigned)s->node.uid,
                       (unsigned)s->node.gid, (unsigned)s->node.mode);
    }
    return -EINVAL;
}

int hd_journal_begin(struct hd_ctx *ctx, enum hd_jop op, const char *vm,
                     const struct hd_jdev *devs, size_t n, struct hd_journal **out)
{
    char dir[HD_PATH_MAX], tmp[HD_PATH_MAX], *text = NULL;
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
    hd_strlcpy(j->vm, vm, sizeof(j->vm));
    memcpy(j->devs, devs, n * sizeof(*devs));
    j->ndevs = n;
    clock_gettime(CLOCK_REALTIME, &ts);
    if ((r = journal_dir(ctx, dir, sizeof(dir))) < 0 ||
        (r = hd_path(j->path, sizeof(j->path), "%s/%s-%ld-%lld%09ld", dir, op_names[op],
                     (long)getpid(), (long long)ts.tv_sec, ts.tv_nsec)) < 0 ||
        (r = hd_path(tmp, sizeof(tmp), "%s.tmp", j->path)) < 0)
        goto fail;
    if ((r = hd_fs_mkdir_p(ctx, dir, 0700)) < 0) {
        r = hd_err(ctx, r, "journal directory %s/%s: %s", ctx->root, dir, strerror(-r));
        goto fail;
    }
    /* Created under a temporary name and locked before it gets its real one: recover never
     * sees a journal that is not locked by a live process, or one that is half written. */
    j->fd = hd_fs_open(ctx, tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (j->fd < 0) {
        r = hd_err(ctx, j->fd, "%s/%s: %s", ctx->root, tmp, strerror(-j->fd));
        goto fail;
    }
    if (flock(j->fd, LOCK_EX) < 0) {
        r = -errno;
        goto fail_unlink;
    }
    text = malloc(64 + HD_VM_ID_MAX + n * 48);
    if (text == NULL) {
        r = -ENOMEM;
        goto fail_unlink;
    }
    len = (size_t)sprintf(text, "%s %s %s\n", JOURNAL_MAGIC, op_names[op], vm);
    for (size_t i = 0; i < n; i++) {
        char name[HD_PCI_ADDR_BUFSZ];
        len += (size_t)sprintf(text + len, "dev %s %d\n", hd_pci_addr_format(&devs[i].addr,
                                                                            name),
                               devs[i].group);
    }
    r = hd_fs_write_all(j->fd, text, len);
    free(text);
    if (r == 0 && fsync(j->fd) < 0)
        r = -errno;
    if (r == 0)
        r = hd_fs_rename(ctx, tmp, j->path);
    if (r == 0)
        r = hd_fs_fsync_dir(ctx, dir);
    if (r < 0) {
        r = hd_err(ctx, r, "writing the intent log %s/%s: %s", ctx->root, j->path,
                   strerror(-r));
        goto fail_unlink;
    }
    *out = j;
    return 0;
fail_unlink:
    hd_fs_unlink(ctx, tmp);
fail:
    hd_journal_close(j);
    return r;
}

int hd_journal_step(struct hd_ctx *ctx, struct hd_journal *j, const struct hd_jstep *step)
{
    char line[HD_NODE_PATH_MAX + 64];
    int r = format_step(step, line, sizeof(line));

    if (r == 0)
        r = add_step(j, step);
    /* The intent is on disk before the write it describes: fsync, not just write. */
    if (r == 0)
        r = hd_fs_write_all(j->fd, line, strlen(line));
    if (r == 0 && fsync(j->fd) < 0)
        r = -errno;
    if (r < 0)
        return hd_err(ctx, r, "writing the intent log %s/%s: %s", ctx->root, j->path,
                      strerror(-r));
    return 0;
}

void hd_journal_end(struct hd_ctx *ctx, struct hd_journal *j)
{
    char dir[HD_PATH_MAX];

    if (j == NULL)
        return;
    /* Unlinked while still locked: nobody can mistake it for a dead one in between. */
    if (hd_fs_unlink(ctx, j->path) == 0 && journal_dir(ctx, dir, sizeof(dir)) == 0)
        hd_fs_fsync_dir(ctx, dir);
    hd_journal_close(j);
}

static int parse_addr_word(const char *w, struct hd_pci_addr *addr)
{
    return w != NULL && hd_pci_addr_parse(w, addr) == 0 ? 0 : -EINVAL;
}

/* One line; a last line without its newline was being written when the writer died: the
 * write it announces never started, so it is dropped, not an error. */
static int parse_line(struct hd_journal *j, char *line)
{
    char *w[6] = {NULL}, *save = NULL;
    size_t n = 0;
    struct hd_jstep s;

    for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
        w[n++] = t;
    if (n == 0)
        return 0;
    memset(&s, 0, sizeof(s));
    if (strcmp(w[0], "dev") == 0 && n == 3) {
        struct hd_jdev d;
        long long g;
        struct hd_jdev *v;
        if (parse_addr_word(w[1], &d.addr) < 0 || hd_parse_int(w[2], -1, 0x7fffffff, &g) < 0)
            return -EINVAL;
        d.group = (int)g;
        if ((v = realloc(j->devs, (j->ndevs + 1) * sizeof(*v))) == NULL)
            return -ENOMEM;
        j->devs = v;
        j->devs[j->ndevs++] = d;
        return 0;
    }
    if (n == 2 && strcmp(w[0], "detach") == 0)
        s.kind = HD_JSTEP_DETACH;
    else if (n == 2 && strcmp(w[0], "reattach") == 0)
        s.kind = HD_JSTEP_REATTACH;
    else if (n == 2 && strcmp(w[0], "reset") == 0)
        s.kind = HD_JSTEP_RESET;
    else if (n == 5 && strcmp(w[0], "own") == 0)
        s.kind = HD_JSTEP_OWN;
    else
        return -EINVAL;
    if (s.kind == HD_JSTEP_OWN) {
        unsigned long long u, g, m;
        if (!hd_node_path_valid(w[1]) || hd_parse_uint(w[2], 10, 0xfffffffe, &u) < 0 ||
            hd_parse_uint(w[3], 10, 0xfffffffe, &g) < 0 || hd_parse_uint(w[4], 8, 07777, &m) < 0)
            return -EINVAL;
        strcpy(s.node.path, w[1]);
        s.node.uid = (uid_t)u;
        s.node.gid = (gid_t)g;
        s.node.mode = (mode_t)m;
    } else if (parse_addr_word(w[1], &s.addr) < 0) {
        return -EINVAL;
    }
    return add_step(j, &s);
}

int hd_journal_parse(struct hd_ctx *ctx, const char *text, struct hd_journal *j)
{
    char *copy = strdup(text), *p, *line;
    char magic[] = JOURNAL_MAGIC;
    int r = 0;

    if (copy == NULL)
        return -ENOMEM;
    p = copy;
    line = strsep(&p, "\n");
    /* Header: magic, op, vm. Without its newline the journal never left its temporary name. */
    if (p == NULL || strncmp(line, magic, strlen(magic)) != 0 || line[strlen(magic)] != ' ') {
        r = -EINVAL;
        goto out;
    }
    line += strlen(magic) + 1;
    char *vm = strchr(line, ' ');
    if (vm == NULL || !hd_vm_id_valid(vm + 1)) {
        r = -EINVAL;
        goto out;
    }
    *vm++ = '\0';
    if (strcmp(line, "acquire") == 0)
        j->op = HD_JOP_ACQUIRE;
    else if (strcmp(line, "release") == 0)
        j->op = HD_JOP_RELEASE;
    else {
        r = -EINVAL;
        goto out;
    }
    strcpy(j->vm, vm);
    while ((line = strsep(&p, "\n")) != NULL) {
        if (p == NULL)
            break; /* the unfinished last line (or the empty tail after the last newline) */
        if ((r = parse_line(j, line)) < 0)
            break;
    }
out:
    free(copy);
    if (r == -EINVAL)
        r = hd_err(ctx, r, "intent log %s/%s is not valid: move it away and check the devices "
                   "it names by hand", ctx->root, j->path);
    return r;
}

/* Read and parse the journal at j->path. */
static int load(struct hd_ctx *ctx, struct hd_journal *j)
{
    char *text = NULL;
    int r = hd_fs_read_alloc(ctx, j->path, &text, NULL);

    if (r == 0)
        r = hd_journal_parse(ctx, text, j);
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
        /* Its creator locks it just after creating it: a young one may be in that gap. An
         * old unlocked one died before its first sysfs write: nothing to undo, only to remove. */
        if (time(NULL) - a.st_mtime < TMP_GRACE_S) {
            hd_journal_close(j);
            return -EAGAIN;
        }
        j->is_tmp = true;
        *out = j;
        return 0;
    }
    if ((r = load(ctx, j)) < 0) {
        hd_journal_close(j);
        return r;
    }
    *out = j;
    return 0;
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

bool hd_journal_touches_group(const struct hd_journal *j, int group)
{
    for (size_t i = 0; i < j->ndevs; i++) {
        if (j->devs[i].group == group)
            return true;
    }
    return false;
}
