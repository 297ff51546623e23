/* hostdev.c - the `hostdev` command: global options, the command table, shared helpers. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

/* The command table; `hostdev --help` is generated from it. Weak references let a command
 * file be absent: the static early-boot binary (`make static`, HOSTDEV_TOOLS=core) links only
 * the core commands, and the table skips the NULL entries. */
#define WEAK __attribute__((weak))
extern const struct tool_command cmd_list WEAK, cmd_show WEAK, cmd_iommu WEAK, cmd_detach WEAK,
    cmd_reattach WEAK, cmd_reset WEAK, cmd_check WEAK, cmd_verify WEAK, cmd_sriov WEAK,
    cmd_hostdev_xml WEAK, cmd_qemu_args WEAK, cmd_reserve WEAK, cmd_persist WEAK,
    cmd_unpersist WEAK, cmd_persisted WEAK, cmd_cmdline WEAK, cmd_acquire WEAK, cmd_release WEAK,
    cmd_assignments WEAK, cmd_migratable WEAK, cmd_recover WEAK, cmd_doctor WEAK, cmd_export WEAK;

static const struct tool_command *const commands[] = {
    &cmd_list,      &cmd_show,        &cmd_iommu,       &cmd_detach,     &cmd_reattach,
    &cmd_reset,     &cmd_check,       &cmd_verify,      &cmd_sriov,      &cmd_hostdev_xml,
    &cmd_qemu_args, &cmd_reserve,     &cmd_persist,     &cmd_unpersist,  &cmd_persisted,
    &cmd_cmdline,   &cmd_acquire,     &cmd_release,     &cmd_assignments, &cmd_migratable,
    &cmd_recover,   &cmd_doctor,      &cmd_export,
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: hostdev [--root DIR] [--json] [-v] COMMAND [ARGS...]\n"
            "Prepare PCI devices for passthrough to virtual machines.\n\n"
            "Options:\n"
            "  -r, --root DIR      the kernel lives under DIR (DIR/sys, DIR/dev, DIR/proc);\n"
            "                      default $HOSTDEV_ROOT or /\n"
            "  -j, --json          machine-readable output\n"
            "  -v, --verbose       say what is done (twice: every sysfs access)\n"
            "      --dry-run       writing commands print their plan and change nothing\n"
            "  -t, --timeout MS    give up on a hanging unbind or bind after MS (default 10000)\n"
            "      --names FILE    pci.ids or hwdb.bin for names ('none': no names)\n"
            "      --state-dir DIR hostdev's records under the root (default run/hostdev;\n"
            "                      $HOSTDEV_STATE_DIR)\n"
            "  -h, --help          this help; COMMAND --help for a command's\n"
            "  -V, --version       print the version\n\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i] != NULL)
            fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    }
    fprintf(out, "\nExit status: 0 done, 1 the operation failed (nothing was changed),\n"
                 "2 bad usage or input.\n");
}

void tool_usage(const struct tool_command *cmd, FILE *out, const char *prog)
{
    fprintf(out, "Usage: %s %s %s\n%s\n", prog, cmd->name, cmd->usage, cmd->summary);
    if (cmd->help != NULL)
        fprintf(out, "\n%s", cmd->help);
}

int tool_wants_help(const struct tool_command *cmd, int argc, char **argv, const char *prog)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            tool_usage(cmd, stdout, prog);
            return 1;
        }
    }
    return 0;
}

static const char *current_command = NULL;

/* A regular file we can read; errno says why not (0: it is something else). */
static bool readable_file(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0 || access(path, R_OK) < 0)
        return false;
    errno = 0;
    return S_ISREG(st.st_mode);
}

/* Bytes of a message that would break it over lines or drive the terminal (arguments and
 * sysfs contents are quoted as given) are shown as \xHH: an error is always one line. */
static void put_escaped(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
}

/* Under --json an error is one JSON object on stderr, {"error", "exit", "command", "hint"},
 * so that automation never parses the text; the static build speaks text only. */
static void report_json(const char *command, const char *message, int code, const char *hint)
{
#ifdef HOSTDEV_TOOLS_CORE
    (void)command, (void)message, (void)code, (void)hint;
#else
    struct json j;

    json_init(&j, stderr, 0);
    json_begin_object(&j);
    json_kv_string(&j, "error", message);
    json_kv_int(&j, "exit", code);
    json_kv_string(&j, "command", command);
    json_kv_string(&j, "hint", hint);
    json_end_object(&j);
    json_finish(&j);
#endif
}

/* One line: "PROG CMD: WHAT: TAIL (HINT)". */
static void vreport(struct tool *t, int code, const char *fmt, va_list ap, const char *tail,
                    const char *hint)
{
    char *what = NULL;

    if (vasprintf(&what, fmt, ap) < 0)
        what = NULL;
    if (what == NULL) {
        fprintf(stderr, "%s: out of memory\n", t->prog);
        return;
    }
    if (tool_json(t)) {
        char *msg = NULL;
        bool dup = tail != NULL && tail[0] != '\0' && strncmp(tail, what, strlen(what)) == 0 &&
                   (tail[strlen(what)] == ':' || tail[strlen(what)] == ' ');
        if (tail == NULL || tail[0] == '\0' || dup)
            msg = strdup(dup ? tail : what);
        else if (asprintf(&msg, "%s: %s", what, tail) < 0)
            msg = NULL;
        report_json(current_command, msg ? msg : what, code, hint);
        free(msg);
        free(what);
        return;
    }
    if (current_command != NULL)
        fprintf(stderr, "%s %s: ", t->prog, current_command);
    else
        fprintf(stderr, "%s: ", t->prog);
    /* The library's messages already start with the device: say it once. */
    if (tail != NULL && tail[0] != '\0' && strncmp(tail, what, strlen(what)) == 0 &&
        (tail[strlen(what)] == ':' || tail[strlen(what)] == ' ')) {
        put_escaped(tail);
    } else {
        put_escaped(what);
        if (tail != NULL && tail[0] != '\0') {
            fputs(": ", stderr);
            put_escaped(tail);
        }
    }
    if (hint != NULL)
        fprintf(stderr, " (%s)", hint);
    fputc('\n', stderr);
    free(what);
}

int tool_error(struct tool *t, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(t, code, fmt, ap, NULL, NULL);
    va_end(ap);
    return code;
}

int tool_error_hint(struct tool *t, int code, const char *hint, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(t, code, fmt, ap, NULL, hint);
    va_end(ap);
    return code;
}

static const char *lib_reason(struct tool *t, int err)
{
    const char *why = t->ctx ? hd_ctx_last_error(t->ctx) : "";

    return why == NULL || why[0] == '\0' ? strerror(err < 0 ? -err : err) : why;
}

int tool_lib_error(struct tool *t, int code, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(t, code, fmt, ap, lib_reason(t, err), NULL);
    va_end(ap);
    return code;
}

int tool_lib_error_hint(struct tool *t, int code, int err, const char *hint, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(t, code, fmt, ap, lib_reason(t, err), hint);
    va_end(ap);
    return code;
}

int tool_parse_addr(struct tool *t, const char *arg, struct hd_pci_addr *addr)
{
    if (hd_pci_addr_parse(arg, addr) < 0) {
        tool_error(t, EXIT_USAGE,
                   "invalid PCI address '%s' (expected DDDD:BB:SS.F, BB:SS.F or "
                   "pci_DDDD_BB_SS_F)",
                   arg);
        return -EINVAL;
    }
    return 0;
}

int tool_open_device(struct tool *t, const char *arg, struct hd_device **dev)
{
    struct hd_pci_addr addr;
    char name[HD_PCI_ADDR_BUFSZ];
    int r;

    if (tool_parse_addr(t, arg, &addr) < 0)
        return EXIT_USAGE;
    hd_ctx_clear_error(t->ctx);
    r = hd_device_open(t->ctx, &addr, dev);
    if (r == -ENODEV)
        return tool_error(t, EXIT_USAGE, "%s: no such PCI device under %s",
                          hd_pci_addr_format(&addr, name), hd_ctx_get_root(t->ctx));
    if (r < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "%s", arg);
    return EXIT_DONE;
}

static void log_stderr(void *data, int priority, const char *file, int line, const char *fn,
                       const char *format, va_list args)
{
    (void)data;
    (void)file;
    (void)line;
    fprintf(stderr, "hostdev: %s%s: ", priority <= HD_LOG_WARNING ? "warning: " : "", fn);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},    {"json", no_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},       {"timeout", required_argument, NULL, 't'},
        {"names", required_argument, NULL, 'N'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {"state-dir", required_argument, NULL, 'S'},
        {"dry-run", no_argument, NULL, 'n'},       {NULL, 0, NULL, 0},
    };
    struct tool t = {.prog = "hostdev"};
    const char *root = getenv("HOSTDEV_ROOT");
    const char *names = NULL;
    const char *state_dir = getenv("HOSTDEV_STATE_DIR");
    long timeout = -1;
    const struct tool_command *cmd = NULL;
    int c, r;

    /* '+': stop at the command name; its own options are its business. */
    while ((c = getopt_long(argc, argv, "+r:jvt:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'j':
#ifdef HOSTDEV_TOOLS_CORE
            return tool_error(&t, EXIT_USAGE, "--json is not in this small static build; the "
                                              "full hostdev has it");
#else
            t.json = true;
            break;
#endif
        case 'v':
            t.verbose++;
            break;
        case 'n':
            t.dry_run = true;
            break;
        case 't': {
            char *end;
            errno = 0;
            timeout = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || timeout < 0 || timeout > 3600000)
                return tool_error(&t, EXIT_USAGE, "invalid --timeout '%s' (milliseconds)",
                                  optarg);
            break;
        }
        case 'N':
            names = optarg;
            break;
        case 'S':
            state_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_DONE;
        case 'V':
            printf("hostdev %s\n", HOSTDEV_VERSION);
            return EXIT_DONE;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i] != NULL && strcmp(commands[i]->name, argv[optind]) == 0)
            cmd = commands[i];
    }
    if (cmd == NULL)
        return tool_error(&t, EXIT_USAGE, "unknown command '%s' (see hostdev --help)",
                          argv[optind]);
    current_command = cmd->name;
    argc -= optind;
    argv += optind;
    if (tool_wants_help(cmd, argc, argv, t.prog))
        return EXIT_DONE;

    /* A names file the user named must be there: silently showing no names would hide the
     * typo. (The default search and HOSTDEV_NAMES may come up empty.) */
    if (names != NULL && strcmp(names, "none") != 0 && !readable_file(names))
        return tool_error(&t, EXIT_USAGE, "--names '%s': %s", names,
                          errno == 0 ? "not a regular file" : strerror(errno));
    r = hd_ctx_new(root, &t.ctx);
    if (r < 0)
        return tool_error(&t, EXIT_USAGE, "root '%s': %s", root ? root : "/", strerror(-r));
    if (t.verbose) {
        hd_ctx_set_log_fn(t.ctx, log_stderr, NULL);
        hd_ctx_set_log_priority(t.ctx, t.verbose > 1 ? HD_LOG_DEBUG : HD_LOG_INFO);
    }
    if (timeout >= 0)
        hd_ctx_set_timeout_ms(t.ctx, (unsigned int)timeout);
    if (state_dir != NULL && state_dir[0] != '\0' &&
        (r = hd_ctx_set_state_dir(t.ctx, state_dir)) < 0) {
        r = tool_lib_error(&t, EXIT_USAGE, r, "invalid --state-dir");
        hd_ctx_unref(t.ctx);
        return r;
    }
    if (names != NULL)
        hd_ctx_set_names_file(t.ctx, strcmp(names, "none") == 0 ? "" : names);
    else if (getenv("HOSTDEV_NAMES") != NULL)
        hd_ctx_set_names_file(t.ctx, getenv("HOSTDEV_NAMES"));

    /* Into a pipe or a file, 64 KiB per write(): a 10,000-device listing is 1 MiB (musl's
     * stdio would write it a kilobyte at a time). A terminal keeps line buffering. */
    static char outbuf[1 << 16];
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    r = cmd->run(&t, argc, argv);
    if (fflush(stdout) != 0 && r == EXIT_DONE)
        r = tool_error(&t, EXIT_FAILED, "writing output: %s", strerror(errno));
    hd_ctx_unref(t.ctx);
    return r;
}
