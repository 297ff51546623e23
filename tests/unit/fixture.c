/* fixture.c - mounts hostdev-fakesys for unit tests; small readers for assertions. */
#include "fixture.h"
#include "tmptree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fx_fail(struct fx *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fx_fail(struct fx *fx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(fx->error, sizeof(fx->error), fmt, ap);
    va_end(ap);
    return -1;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);

    return v && *v ? v : dflt;
}

/* Everything from @fd's current offset on, NUL-terminated; NULL (errno set) on error. */
static char *slurp_fd(int fd)
{
    char *data = NULL;
    size_t len = 0, cap = 0;
    ssize_t n;

    do {
        if (len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            char *grown = realloc(data, cap);
            if (grown == NULL) {
                free(data);
                errno = ENOMEM;
                return NULL;
            }
            data = grown;
        }
        n = read(fd, data + len, 4096);
        if (n > 0)
            len += (size_t)n;
    } while (n > 0);
    if (n < 0) {
        int e = errno;
        free(data);
        errno = e;
        return NULL;
    }
    data[len] = '\0';
    return data;
}

static char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    char *data = slurp_fd(fd);
    int e = errno;
    close(fd);
    errno = e;
    return data;
}

int fx_fakesys(struct fx *fx, const char *const *args, char **out)
{
    char bin[512];
    char outfile[256];
    char *argv[16];
    int pipefd[2];
    int outfd = -1;
    size_t n = 0;

    if (out) {
        *out = NULL;
        snprintf(outfile, sizeof(outfile), "%s/hostdev-fx-out.XXXXXX", env_or("TMPDIR", "/tmp"));
        outfd = mkstemp(outfile);
        if (outfd < 0)
            return fx_fail(fx, "mkstemp: %s", strerror(errno));
        unlink(outfile);
    }
    snprintf(bin, sizeof(bin), "%s/hostdev-fakesys", env_or("HOSTDEV_BUILD", "build"));
    argv[n++] = bin;
    for (; *args && n < 15; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        if (outfd >= 0)
            close(outfd);
        return fx_fail(fx, "pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        if (outfd >= 0)
            close(outfd);
        return fx_fail(fx, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        if (outfd >= 0)
            dup2(outfd, STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]); /* the daemon must not keep it: EOF tells us the mount is ready */
        execv(bin, argv);
        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    fx->error[0] = '\0';
    size_t len = 0;
    ssize_t r;
    /* The daemon keeps nothing of ours open, so EOF comes when the mount is ready. */
    while ((r = read(pipefd[0], fx->error + len, sizeof(fx->error) - 1 - len)) > 0)
        len += (size_t)r;
    fx->error[len] = '\0';
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (outfd >= 0) {
        lseek(outfd, 0, SEEK_SET);
        *out = slurp_fd(outfd);
        close(outfd);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Mount fx->spec on a new temporary fx->root, or write it there as plain files. */
static int make_root(struct fx *fx, bool materialize)
{
    char owner[32];

    snprintf(fx->root, sizeof(fx->root), "%s/hostdev-fx.XXXXXX", env_or("TMPDIR", "/tmp"));
    if (mkdtemp(fx->root) == NULL)
        return fx_fail(fx, "mkdtemp: %s", strerror(errno));
    snprintf(owner, sizeof(owner), "%ld", (long)getpid());
    const char *mount_args[] = {"mount", "--owner-pid", owner, fx->spec, fx->root, NULL};
    const char *plain_args[] = {"materialize", fx->spec, fx->root, NULL};
    fx->materialized = materialize; /* fx_umount() removes what a failed one left */
    int rc = fx_fakesys(fx, materialize ? plain_args : mount_args, NULL);
    if (rc != 0) {
        if (!materialize)
            rmdir(fx->root);
        fx->error[strcspn(fx->error, "\n")] = '\0';
        if (fx->error[0] == '\0')
            fx_fail(fx, "hostdev-fakesys %s exited with %d", materialize ? "materialize" : "mount", rc);
        return -1;
    }
    fx->mounted = !materialize;
    return 0;
}

/* Write @spec_text to a temporary fx->spec. */
static int spec_file(struct fx *fx, const char *spec_text)
{
    snprintf(fx->spec, sizeof(fx->spec), "%s/hostdev-fx-spec.XXXXXX", env_or("TMPDIR", "/tmp"));
    int fd = mkstemp(fx->spec);
    if (fd < 0)
        return fx_fail(fx, "mkstemp: %s", strerror(errno));
    size_t len = strlen(spec_text);
    bool ok = write(fd, spec_text, len) == (ssize_t)len;
    close(fd);
    if (!ok) {
        unlink(fx->spec);
        return fx_fail(fx, "cannot write %s", fx->spec);
    }
    return 0;
}

/* tests/trees/@spec.spec, or (@text) the spec text @spec, mounted or materialized. */
static int start(struct fx *fx, const char *spec, bool text, bool materialize)
{
    memset(fx, 0, sizeof(*fx));
    if (!text)
        snprintf(fx->spec, sizeof(fx->spec), "%s/tests/trees/%s.spec",
                 env_or("HOSTDEV_SRCDIR", "."), spec);
    else if (spec_file(fx, spec) < 0)
        return -1;
    int r = make_root(fx, materialize);
    /* The spec is read before the mount returns: nothing is left behind if the test fails. */
    if (text)
        unlink(fx->spec);
    return r;
}

int fx_mount(struct fx *fx, const char *spec_name)
{
    return start(fx, spec_name, false, false);
}

int fx_mount_text(struct fx *fx, const char *spec_text)
{
    return start(fx, spec_text, true, false);
}

int fx_materialize(struct fx *fx, const char *spec_name)
{
    return start(fx, spec_name, false, true);
}

int fx_materialize_text(struct fx *fx, const char *spec_text)
{
    return start(fx, spec_text, true, true);
}

void fx_umount(struct fx *fx)
{
    if (fx->mounted) {
        const char *args[] = {"umount", fx->root, NULL};
        fx_fakesys(fx, args, NULL);
        rmdir(fx->root);
        fx->mounted = false;
    }
    if (fx->materialized) {
        tmptree_remove(fx->root); /* rm -rf, never following a link out of the tree */
        fx->materialized = false;
    }
}

const char *fx_path(struct fx *fx, const char *rel)
{
    snprintf(fx->scratch, sizeof(fx->scratch), "%s/%s", fx->root, rel);
    return fx->scratch;
}

int fx_ctl(struct fx *fx, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int r = 0;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    int fd = open(fx_path(fx, ".fakesys/ctl"), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (write(fd, line, strlen(line)) < 0)
        r = -errno;
    close(fd);
    if (r < 0) {
        const char *msg = fx_read(fx, ".fakesys/status");
        fx_fail(fx, "%s", msg ? msg : strerror(-r));
    }
    return r;
}

char *fx_log(struct fx *fx)
{
    char *log = slurp(fx_path(fx, ".fakesys/log"));

    return log ? log : strdup("");
}

size_t fx_log_count(struct fx *fx, const char *needle)
{
    char *log = fx_log(fx);
    size_t n = 0;

    for (char *line = log; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        n += strstr(line, needle) != NULL;
        line = nl ? nl + 1 : NULL;
    }
    free(log);
    return n;
}

bool fx_wait_log(struct fx *fx, const char *needle, size_t count, long timeout_ms)
{
    long until = fx_now_ms() + timeout_ms;

    while (fx_log_count(fx, needle) < count) {
        if (fx_now_ms() >= until)
            return false;
        usleep(10000);
    }
    return true;
}

const char *fx_read(struct fx *fx, const char *rel)
{
    char *data = slurp(fx_path(fx, rel));

    if (data == NULL)
        return NULL;
    snprintf(fx->scratch, sizeof(fx->scratch), "%s", data);
    free(data);
    size_t len = strlen(fx->scratch);
    if (len > 0 && fx->scratch[len - 1] == '\n')
        fx->scratch[len - 1] = '\0';
    return fx->scratch;
}

int fx_write(struct fx *fx, const char *rel, const char *value)
{
    int fd = open(fx_path(fx, rel), O_WRONLY | O_CLOEXEC);
    int r = 0;

    if (fd < 0)
        return -errno;
    if (write(fd, value, strlen(value)) < 0)
        r = -errno;
    close(fd);
    return r;
}

bool fx_exists(struct fx *fx, const char *rel)
{
    struct stat st;

    return lstat(fx_path(fx, rel), &st) == 0;
}

const char *fx_link(struct fx *fx, const char *rel)
{
    char target[1024];
    ssize_t n = readlink(fx_path(fx, rel), target, sizeof(target) - 1);

    if (n < 0)
        n = 0;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    snprintf(fx->scratch, sizeof(fx->scratch), "%s", slash ? slash + 1 : target);
    return fx->scratch;
}

const char *fx_driver(struct fx *fx, const char *bdf)
{
    char rel[128];

    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver", bdf);
    return fx_link(fx, rel);
}

int fx_group(struct fx *fx, const char *bdf)
{
    char rel[128];

    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/iommu_group", bdf);
    const char *g = fx_link(fx, rel);
    return *g ? (int)strtol(g, NULL, 10) : -1;
}

long fx_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}
