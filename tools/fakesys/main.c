/* main.c - hostdev-fakesys: options and the command table (mount, umount, ctl, ...). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *help;
};

static const struct command *current;

static int usage_error(const char *fmt, ...) FS_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "hostdev-fakesys %s: ", current->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: hostdev-fakesys %s %s\n", current->name, current->usage);
    return EXIT_USAGE;
}

static int fail(int code, const char *fmt, ...) FS_PRINTF(2, 3);
static int fail(int code, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "hostdev-fakesys %s: ", current->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* Read and parse a spec ("-" is stdin). Prints the error; returns NULL. */
static struct kernel *load_spec(const char *file)
{
    char *text;
    char err[512];
    int r;

    if (strcmp(file, "-") == 0)
        r = read_file("/dev/stdin", &text, NULL);
    else
        r = read_file(file, &text, NULL);
    if (r < 0) {
        fail(EXIT_USAGE, "cannot read spec '%s': %s", file, strerror(-r));
        return NULL;
    }
    struct kernel *k = kernel_new();
    if (spec_load(k, strcmp(file, "-") == 0 ? "<stdin>" : file, text, err, sizeof(err)) < 0) {
        fprintf(stderr, "hostdev-fakesys %s: %s\n", current->name, err);
        kernel_free(k);
        k = NULL;
    }
    free(text);
    return k;
}

static int is_fake_root(const char *root)
{
    char *ctl = xasprintf("%s/.fakesys/ctl", root);
    struct stat st;
    int r = stat(ctl, &st) == 0 && S_ISREG(st.st_mode);

    free(ctl);
    return r;
}

/* ---- mount ------------------------------------------------------------------------------- */

static int cmd_mount(int argc, char **argv)
{
    static const struct option opts[] = {
        {"foreground", no_argument, NULL, 'f'},
        {"log", required_argument, NULL, 'l'},
        {"owner-pid", required_argument, NULL, 'o'}, /* for test fixtures */
        {NULL, 0, NULL, 0},
    };
    bool foreground = false;
    const char *logfile = NULL;
    long owner = 0;
    int c;
    struct stat st;
    char *end;

    optind = 0; /* glibc: full reinitialisation; options may follow SPEC and ROOT */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c == 'f') {
            foreground = true;
        } else if (c == 'l') {
            logfile = optarg;
        } else if (c == 'o') {
            owner = strtol(optarg, &end, 10);
            if (*end || owner <= 0)
                return usage_error("bad --owner-pid '%s'", optarg);
        } else {
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return usage_error("needs SPEC and ROOT");
    const char *root = argv[optind + 1];
    if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
        return fail(EXIT_USAGE, "mount point '%s' is not a directory", root);
    if (is_fake_root(root))
        return fail(EXIT_USAGE, "'%s' already has a fake kernel mounted", root);
    /* The daemon runs in "/": keep the mount point absolute for the owner watch. */
    char *abs_root = realpath(root, NULL);
    if (abs_root == NULL)
        return fail(EXIT_USAGE, "mount point '%s': %s", root, strerror(errno));
    struct kernel *k = load_spec(argv[optind]);
    int r = EXIT_USAGE;
    if (k && logfile && (k->logfile = fopen(logfile, "ae")) == NULL)
        fail(EXIT_USAGE, "cannot open log '%s': %s", logfile, strerror(errno));
    else if (k)
        r = fuse_serve(k, abs_root, foreground, (pid_t)owner);
    kernel_free(k);
    free(abs_root);
    return r;
}

/* ---- umount ------------------------------------------------------------------------------ */

static void write_ctl(const char *root, const char *line)
{
    char *ctl = xasprintf("%s/.fakesys/ctl", root);
    int fd = open(ctl, O_WRONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (write(fd, line, strlen(line)) < 0) {
            /* best effort: nothing to wake up then */
        }
        close(fd);
    }
    free(ctl);
}

static long read_pid(const char *root)
{
    char *path = xasprintf("%s/.fakesys/pid", root);
    char *text;
    long pid = -1;

    if (read_file(path, &text, NULL) == 0) {
        pid = strtol(text, NULL, 10);
        free(text);
    }
    free(path);
    return pid;
}

/* Running, not a zombie waiting for a reaper that may be slow (the daemon's parent is gone). */
static bool process_alive(long pid)
{
    char path[64];
    char *stat;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (read_file(path, &stat, NULL) < 0)
        return kill((pid_t)pid, 0) == 0;
    const char *paren = strrchr(stat, ')');
    bool alive = paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
    free(stat);
    return alive;
}

static int cmd_umount(int argc, char **argv)
{
    if (argc != 2)
        return usage_error("needs ROOT");
    const char *root = argv[1];
    if (!is_fake_root(root))
        return fail(EXIT_USAGE, "'%s' is not a mounted fake kernel", root);
    long pid = read_pid(root);
    write_ctl(root, "release"); /* end hanging unbinds, or the unmount would wait for them */
    bool done = false;
    for (int i = 0; i < 20 && !done; i++) {
        done = unmount_path(root, false) == 0;
        if (!done)
            usleep(50000);
    }
    /* Busy (a client stuck in a write, a shell cd'ed there): detach it anyway. */
    if (!done)
        done = unmount_path(root, true) == 0;
    if (!done)
        return fail(EXIT_RUNTIME, "cannot unmount '%s'", root);
    for (int i = 0; pid > 0 && i < 200 && process_alive(pid); i++)
        usleep(10000);
    return EXIT_OK;
}

/* ---- ctl --------------------------------------------------------------------------------- */

static int cat(const char *path)
{
    char *text;
    size_t len;
    int r = read_file(path, &text, &len);

    if (r < 0)
        return r;
    fwrite(text, 1, len, stdout);
    free(text);
    return 0;
}

static int cmd_ctl(int argc, char **argv)
{
    if (argc < 3)
        return usage_error("needs ROOT and a command");
    const char *root = argv[1];
    if (!is_fake_root(root))
        return fail(EXIT_USAGE, "'%s' is not a mounted fake kernel", root);
    if (argc == 3 && (strcmp(argv[2], "log") == 0 || strcmp(argv[2], "status") == 0)) {
        char *path = xasprintf("%s/.fakesys/%s", root, argv[2]);
        int r = cat(path);
        free(path);
        return r < 0 ? fail(EXIT_RUNTIME, "cannot read the %s: %s", argv[2], strerror(-r)) : 0;
    }
    struct buf line = {0};
    for (int i = 2; i < argc; i++) {
        if (i > 2)
            buf_puts(&line, " ");
        if (argv[i][0] == '\0' || strpbrk(argv[i], " \t\"\\#"))
            buf_quote(&line, argv[i], strlen(argv[i]));
        else
            buf_puts(&line, argv[i]);
    }
    buf_puts(&line, "\n");
    char *ctl = xasprintf("%s/.fakesys/ctl", root);
    int fd = open(ctl, O_WRONLY | O_CLOEXEC);
    int r = fd < 0 || write(fd, line.data, line.len) < 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    free(ctl);
    buf_free(&line);
    if (r < 0) {
        char *path = xasprintf("%s/.fakesys/status", root);
        char *msg = NULL;
        if (read_file(path, &msg, NULL) == 0)
            msg[strcspn(msg, "\n")] = '\0';
        int code = r == -EINVAL || r == -ENOENT || r == -ENODEV ? EXIT_USAGE : EXIT_RUNTIME;
        fail(code, "%s", msg && *msg ? msg : strerror(-r));
        free(msg);
        free(path);
        return code;
    }
    return EXIT_OK;
}

/* ---- materialize, capture, check --------------------------------------------------------- */

static int cmd_materialize(int argc, char **argv)
{
    char err[512];

    if (argc != 3)
        return usage_error("needs SPEC and DIR");
    struct kernel *k = load_spec(argv[1]);
    if (k == NULL)
        return EXIT_USAGE;
    int r = materialize_tree(k, argv[2], err, sizeof(err));
    kernel_free(k);
    if (r < 0)
        return fail(r == -EEXIST || r == -ENOTDIR ? EXIT_USAGE : EXIT_RUNTIME, "%s", err);
    return EXIT_OK;
}

static int cmd_capture(int argc, char **argv)
{
    const char *sysfs = "/sys", *proc = NULL;
    char err[512];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sysfs") == 0 && i + 1 < argc)
            sysfs = argv[++i];
        else if (strcmp(argv[i], "--proc") == 0 && i + 1 < argc)
            proc = argv[++i];
        else
            return usage_error("unknown argument '%s'", argv[i]);
    }
    char *procdir = proc ? xstrdup(proc) : NULL;
    if (procdir == NULL) {
        /* DIR/sys comes with DIR/proc; the host's /sys with /proc. */
        size_t l = strlen(sysfs);
        if (l >= 3 && strcmp(sysfs + l - 3, "sys") == 0)
            procdir = xasprintf("%.*sproc", (int)(l - 3), sysfs);
        else
            procdir = xstrdup("/proc");
    }
    int r = capture_sysfs(sysfs, procdir, stdout, err, sizeof(err));
    free(procdir);
    if (r < 0)
        return fail(r == -ENOENT || r == -ENOTDIR ? EXIT_USAGE : EXIT_RUNTIME, "%s", err);
    return EXIT_OK;
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 2)
        return usage_error("needs SPEC");
    struct kernel *k = load_spec(argv[1]);
    if (k == NULL)
        return EXIT_USAGE;
    size_t present = 0, bound = 0;
    for (size_t i = 0; i < k->ndevices; i++) {
        present += k->devices[i]->present;
        bound += k->devices[i]->driver != NULL;
    }
    printf("%s: kernel %s, %zu devices (%zu bound), %zu drivers\n", argv[1], k->version, present,
           bound, k->ndrivers);
    kernel_free(k);
    return EXIT_OK;
}

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"mount", cmd_mount, "SPEC ROOT [-f|--foreground] [--log FILE]",
     "mount a fake kernel described by SPEC on ROOT (ROOT/sys, ROOT/dev, ROOT/proc)"},
    {"umount", cmd_umount, "ROOT", "unmount a fake kernel (ends hanging writes first)"},
    {"ctl", cmd_ctl, "ROOT COMMAND... | ROOT log",
     "control a mounted fake kernel; `log` prints what it did. Commands:\n"
     "fault PATH ERRNO [nth=N] [count=N] [on=read|write]   clear-faults\n"
     "hang DRIVER MS|forever|0   release   probe-fails DRIVER ERRNO|0\n"
     "open-group N   close-group N   add BDF VVVV:DDDD [options]   unplug BDF\n"
     "usb-replug BUS-PORT\n"
     "modprobe MOD   rmmod MOD   param MOD NAME VALUE   mark TEXT   clear-log"},
    {"materialize", cmd_materialize, "SPEC DIR", "write the tree as plain files into a new DIR"},
    {"capture", cmd_capture, "[--sysfs DIR] [--proc DIR]",
     "print a spec of this host's PCI devices (reads /sys and /proc only)"},
    {"check", cmd_check, "SPEC", "parse SPEC and print a summary"},
    {"help", cmd_help, "", "this text"},
};

/* Each line of @text after @indent blanks. */
static void print_indented(const char *text, int indent)
{
    while (*text) {
        int len = (int)strcspn(text, "\n");
        printf("%*s%.*s\n", indent, "", len, text);
        text += len + (text[len] == '\n');
    }
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: hostdev-fakesys COMMAND [ARGS]   (COMMAND --help for one command)\n\n");
    for (size_t i = 0; i < FS_ARRAY_SIZE(commands); i++) {
        printf("  %-11s %s\n", commands[i].name, commands[i].usage);
        print_indented(commands[i].help, 14);
    }
    printf("\nSpec format: hostdev-fakesys(5). Exit: 0 done, 1 runtime failure, 2 bad input.\n");
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        current = &commands[FS_ARRAY_SIZE(commands) - 1];
        cmd_help(argc, argv);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hostdev-fakesys %s\n", HOSTDEV_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < FS_ARRAY_SIZE(commands); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        current = &commands[i];
        if (wants_help(argc - 1, argv + 1)) {
            printf("usage: hostdev-fakesys %s %s\n", current->name, current->usage);
            print_indented(current->help, 2);
            return EXIT_OK;
        }
        return current->fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "hostdev-fakesys: unknown command '%s' (try --help)\n", argv[1]);
    return EXIT_USAGE;
}
