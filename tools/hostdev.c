/* hostdev.c - the `hostdev` command: global options, the command table, shared helpers. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opout.h"
#include "shared.h"
#include "tool.h"
#include "utf8.h"

/* The command table; `hostdev --help` is generated from it. The static early-boot binary
 * (`make static`, HOSTDEV_TOOLS=core) links only the core commands; a command listed here and
 * missing from the build is a link error, never a command that silently disappears. */
extern const struct tool_command cmd_list, cmd_iommu, cmd_detach, cmd_reattach, cmd_reset,
    cmd_reserve;
#ifndef HOSTDEV_TOOLS_CORE
extern const struct tool_command cmd_show, cmd_check, cmd_verify, cmd_sriov, cmd_hostdev_xml,
    cmd_qemu_args, cmd_persist, cmd_unpersist, cmd_persisted, cmd_cmdline, cmd_acquire,
    cmd_release, cmd_assignments, cmd_migratable, cmd_recover, cmd_doctor, cmd_export,
    cmd_monitor, cmd_mdev;
#endif

static const struct tool_command *const commands[] = {
#ifdef HOSTDEV_TOOLS_CORE
    &cmd_list, &cmd_iommu, &cmd_detach, &cmd_reattach, &cmd_reset, &cmd_reserve,
#else
    &cmd_list,      &cmd_show,        &cmd_iommu,       &cmd_detach,     &cmd_reattach,
    &cmd_reset,     &cmd_check,       &cmd_verify,      &cmd_sriov,      &cmd_hostdev_xml,
    &cmd_qemu_args, &cmd_reserve,     &cmd_persist,     &cmd_unpersist,  &cmd_persisted,
    &cmd_cmdline,   &cmd_acquire,     &cmd_release,     &cmd_assignments, &cmd_migratable,
    &cmd_recover,   &cmd_doctor,      &cmd_export,      &cmd_monitor,    &cmd_mdev,
#endif
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
            "  -t, --timeout MS    give up on a hanging unbind or bind after MS\n"
            "                      (default 10000)\n"
            "      --names FILE    pci.ids or hwdb.bin for names ('none': no names)\n"
            "      --state-dir DIR hostdev's records under the root (default run/hostdev;\n"
            "                      $HOSTDEV_STATE_DIR)\n"
            "  -h, --help          this help; a command's: COMMAND --help, or help COMMAND\n"
            "  -V, --version       print the version\n\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-12s %s\n", "help", "this help, or with a COMMAND its help (as --help)");
    fprintf(out, "\nExit status: 0 done, 1 the operation failed (nothing was changed),\n"
                 "2 bad usage or input.\n");
}

static const struct tool_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    }
    return NULL;
}

/* "unknown command 'detch' (did you mean 'detach'?)": the one command, or `help`, @name is a
 * slip of, named as the misspelled options are (nearest_option()). */
static int unknown_command(struct tool *t, const char *name)
{
    struct hd_slip slip;

    hd_slip_init(&slip, name, strlen(name), false);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        hd_slip_consider(&slip, commands[i]->name);
    hd_slip_consider(&slip, "help");
    if (hd_slip_meant(&slip) != NULL)
        return tool_error(t, EXIT_USAGE, "unknown command '%s' (did you mean '%s'? see '%s "
                          "--help')", name, hd_slip_meant(&slip), t->prog);
    return tool_error(t, EXIT_USAGE, "unknown command '%s' (see '%s --help')", name, t->prog);
}

static const char *current_command = NULL;
static struct tool *current_tool = NULL;
static char **current_argv = NULL; /* the command's own arguments, as getopt sees them */
static const char *current_sub = NULL; /* the subcommand they are of ("remove"), or NULL */

/* Command @name as the user gave it, with the subcommand when there is one ("mdev remove"):
 * what an error's text starts with and its JSON's "command" says. */
static const char *command_named(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%.40s", name, current_sub ? " " : "", current_sub ? current_sub : "");
    return buf;
}
/* What tool_getopt() refused last, for tool_usage() to name: an option no command has (the
 * long one nearest it in @meant, when one is near enough to name), or one of this command's
 * given without the value it needs ("--vm" at the end of the line; @taken: the word starting
 * with '-' that stood where its value should, "--vm --force", "--vm --bogus", @taken_option
 * when it is an option) or with one it takes none of ("--force=yes"). */
enum refusal { REFUSED_UNKNOWN, REFUSED_NEEDS_VALUE, REFUSED_NO_VALUE };
static struct {
    enum refusal why;
    char typed[64]; /* as typed ("--drvier", "-d"); "": tool_usage() finds it */
    const char *meant;
    char taken[64];
    bool taken_option;
} refused;

/* The one long option @typed (without its dashes, @n long) is a slip of, or NULL. */
static const char *nearest_option(const char *typed, size_t n, const struct option *longopts)
{
    struct hd_slip slip;

    hd_slip_init(&slip, typed, n, true);
    for (const struct option *o = longopts; o != NULL && o->name != NULL; o++)
        hd_slip_consider(&slip, o->name);
    return hd_slip_meant(&slip);
}

/* getopt stopped inside a bundle of short options (@now is "-xg" and holds the letter it
 * refused): that letter is the culprit, not the word before. */
static bool stopped_in_bundle(const char *now)
{
    return now != NULL && now[0] == '-' && now[1] != '-' && optopt > 0 && optopt < 0x7f &&
           strchr(now + 1, optopt) != NULL;
}

/* The long option named @len characters of @s (after its dashes) in full, or NULL. */
static const struct option *long_option(const struct option *longopts, const char *s, size_t len)
{
    for (const struct option *o = longopts; o != NULL && o->name != NULL; o++)
        if (strlen(o->name) == len && strncmp(o->name, s, len) == 0)
            return o;
    return NULL;
}

/* What short option @letter is in getopt's @shortopts: -1 none, 0 it takes no value, 1 it
 * takes one. */
static int short_option(const char *shortopts, int letter)
{
    const char *letters = shortopts + strspn(shortopts, "+-:"), *at;

    if (letter <= 0 || letter >= 0x7f || letter == ':' || (at = strchr(letters, letter)) == NULL)
        return -1;
    return at[1] == ':';
}

/* Whether @word is one of the options @shortopts and @longopts name, as it would be typed, or
 * the "--" that ends them. */
static bool option_word(const char *word, const char *shortopts, const struct option *longopts)
{
    if (strcmp(word, "--") == 0)
        return true;
    if (strncmp(word, "--", 2) == 0)
        return long_option(longopts, word + 2, strcspn(word + 2, "=")) != NULL;
    return word[0] == '-' && word[1] != '\0' && word[2] == '\0' &&
           short_option(shortopts, (unsigned char)word[1]) >= 0;
}

static void refuse(enum refusal why, const char *typed, size_t len, const char *meant)
{
    refused.why = why;
    snprintf(refused.typed, sizeof(refused.typed), "%.*s", len < 62 ? (int)len : 62, typed);
    refused.meant = meant;
}

/* The options whose value "-" is standard input or output (export -o -). */
static const char *const dash_is_stdio[] = {"output"};

/* Whether @value, given apart after option @typed (as typed, "--vm" or "-m"; @name its long
 * name, NULL for a short one that has none), is no value but a word where one was forgotten:
 * refused as such. That is another option, "--", or any word that starts with '-': no value
 * of ours does ("--vm --bogus ADDR" would make a VM named "--bogus"; one whose name does is
 * --vm=-x), but "-" for an option that reads it as standard input or output. */
static bool refuse_dash_value(const char *typed, const char *name, const char *value,
                              const char *shortopts, const struct option *longopts)
{
    if (value[0] != '-')
        return false;
    for (size_t i = 0; strcmp(value, "-") == 0 && name != NULL &&
                       i < sizeof(dash_is_stdio) / sizeof(dash_is_stdio[0]);
         i++)
        if (strcmp(name, dash_is_stdio[i]) == 0)
            return false;
    refuse(REFUSED_NEEDS_VALUE, typed, strcspn(typed, "="), NULL);
    snprintf(refused.taken, sizeof(refused.taken), "%.60s", value);
    refused.taken_option = option_word(value, shortopts, longopts);
    return true;
}

/* Whether @word (as typed) is an option of @shortopts and @longopts that takes its value from
 * the next word: "--vm", or "-m" alone or last in a bundle ("-gm"). */
static bool takes_next_word(const char *word, const char *shortopts, const struct option *longopts)
{
    const struct option *o;

    if (strncmp(word, "--", 2) == 0)
        return strchr(word, '=') == NULL &&
               (o = long_option(longopts, word + 2, strlen(word + 2))) != NULL &&
               o->has_arg == required_argument;
    if (word[0] != '-' || shortopts == NULL)
        return false;
    for (const char *p = word + 1; *p != '\0'; p++) {
        int k = short_option(shortopts, (unsigned char)*p);
        if (k != 0)
            return k == 1 && p[1] == '\0'; /* not an option, or its value is the rest */
    }
    return false;
}

int tool_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    int index = -1, c;

    refused.why = REFUSED_UNKNOWN;
    refused.typed[0] = refused.taken[0] = '\0';
    refused.meant = NULL;
    refused.taken_option = false;
    c = getopt_long(argc, argv, shortopts, longopts, &index);
    if (c == '?' || c == ':') {
        /* getopt leaves optopt 0 for a long option it does not know, the option's value for
         * one whose value is missing or given to one that takes none, the letter for a short
         * one known or not. The option is looked up as typed: what is wrong is its value
         * when it is there in full, else its name. */
        const char *last = optind > 0 ? argv[optind - 1] : NULL, *now = argv[optind];
        bool in_bundle = stopped_in_bundle(now);
        if (last != NULL && strncmp(last, "--", 2) == 0 && last[2] != '\0' && !in_bundle) {
            size_t len = strcspn(last + 2, "=");
            if (long_option(longopts, last + 2, len) != NULL)
                refuse(last[2 + len] == '=' ? REFUSED_NO_VALUE : REFUSED_NEEDS_VALUE, last, len + 2,
                       NULL);
            else if ((refused.meant = nearest_option(last + 2, len, longopts)) != NULL)
                refuse(REFUSED_UNKNOWN, last, len + 2, refused.meant);
            return c;
        }
        /* A short option: its letter is optopt; "-f=x" stops at the '=' after a letter that
         * takes no value. */
        const char *word = in_bundle ? now : last, *eq;
        int letter = optopt;
        if (letter == '=' && word != NULL && (eq = strchr(word, '=')) != NULL && eq > word + 1 &&
            short_option(shortopts, (unsigned char)eq[-1]) == 0) {
            char typed[3] = {'-', eq[-1], '\0'};
            refuse(REFUSED_NO_VALUE, typed, 2, NULL);
        } else if (short_option(shortopts, letter) == 1) {
            char typed[3] = {'-', (char)letter, '\0'};
            refuse(REFUSED_NEEDS_VALUE, typed, 2, NULL);
        }
        return c;
    }
    if (c == -1)
        return c;
    if (index >= 0) {
        /* The argument getopt took it from: the one before its value when that came apart. */
        const struct option *o = &longopts[index];
        bool value_apart = o->has_arg == required_argument && optarg == argv[optind - 1];
        const char *typed = argv[optind - (value_apart ? 2 : 1)];
        size_t len = strcspn(typed + 2, "=");
        if (strlen(o->name) != len || strncmp(o->name, typed + 2, len) != 0) {
            refuse(REFUSED_UNKNOWN, typed, len + 2, o->name);
            optopt = 0;
            return '?';
        }
    }
    /* A value given apart that starts with '-' ("--vm --force ADDR", "--vm --bogus ADDR",
     * "--", a global option take_trailing_globals() found there) is a value forgotten, not a
     * VM named "--force": refused before anything acts on it. */
    bool takes_value = index >= 0 ? longopts[index].has_arg == required_argument
                                  : c != 1 && short_option(shortopts, c) == 1;
    if (takes_value && optarg != NULL && optind > 1 && optarg == argv[optind - 1]) {
        char letter[3] = {'-', (char)c, '\0'};
        const char *typed = index >= 0 ? argv[optind - 2] : letter, *name = NULL;
        for (const struct option *o = longopts; o != NULL && o->name != NULL; o++)
            if (o->flag == NULL && o->val == c)
                name = o->name;
        if (refuse_dash_value(typed, name, optarg, shortopts, longopts)) {
            optopt = c;
            return '?';
        }
    }
    return c;
}

/* What tool_getopt() refused, when it is an option's value: "option --vm needs a value". */
static bool refusal_of_value(char *buf, size_t size)
{
    if (refused.why == REFUSED_NEEDS_VALUE && strcmp(refused.taken, "--") == 0)
        snprintf(buf, size, "option %s needs a value, and '--' after it ends the options",
                 refused.typed);
    else if (refused.why == REFUSED_NEEDS_VALUE && refused.taken_option)
        snprintf(buf, size, "option %s needs a value, and '%s' after it is an option",
                 refused.typed, refused.taken);
    else if (refused.why == REFUSED_NEEDS_VALUE && refused.taken[0] == '-' &&
             strncmp(refused.typed, "--", 2) == 0) /* the way to give such a value */
        snprintf(buf, size, "option %s needs a value, and '%s' after it starts with '-' as "
                 "options do (%s=%s if it is the value)", refused.typed, refused.taken,
                 refused.typed, refused.taken);
    else if (refused.why == REFUSED_NEEDS_VALUE && refused.taken[0] != '\0')
        snprintf(buf, size, "option %s needs a value, and '%s' after it starts with '-' as "
                 "options do", refused.typed, refused.taken);
    else if (refused.why == REFUSED_NEEDS_VALUE)
        snprintf(buf, size, "option %s needs a value", refused.typed);
    else if (refused.why == REFUSED_NO_VALUE)
        snprintf(buf, size, "option %s takes no value", refused.typed);
    else
        return false;
    return true;
}

void tool_usage(const struct tool_command *cmd, FILE *out, const char *prog)
{
    char hint[96], bad[64] = "";

    if (out != stderr || current_tool == NULL) {
        fprintf(out, "Usage: %s %s%s%s\n%s\n", prog, cmd->name, cmd->usage[0] ? " " : "",
                cmd->usage, cmd->summary);
        if (cmd->help != NULL)
            fprintf(out, "\n%s", cmd->help);
        return;
    }
    /* A mistake on the command line is one line that says where the whole help is; getopt's
     * own message is off (opterr = 0), so name what it stopped at. */
    const char *last = current_argv != NULL && optind > 0 ? current_argv[optind - 1] : NULL;
    const char *now = current_argv != NULL ? current_argv[optind] : NULL;
    bool in_bundle = stopped_in_bundle(now);
    if (last != NULL && strncmp(last, "--", 2) == 0 && !in_bundle) { /* --driver, not its -d */
        size_t name = strcspn(last, "=");
        if (name == 2) /* "--=x" names no option: the word as typed */
            name = strlen(last);
        snprintf(bad, sizeof(bad), "%.*s", name < 60 ? (int)name : 60, last);
    } else if (optopt > 0 && optopt < 0x7f)
        snprintf(bad, sizeof(bad), "-%c", optopt);
    else if (last != NULL && last[0] == '-')
        snprintf(bad, sizeof(bad), "%.60s", last);
    snprintf(hint, sizeof(hint), "see '%s %s --help'", prog, cmd->name);
    /* An option of one subcommand is not another's: "not an option of mdev remove". */
    char of[64];
    command_named(cmd->name, of, sizeof(of));
    /* One line: a usage of several lines is joined, its other forms after " | ". */
    char usage[1024];
    size_t len = 0;
    for (const char *u = cmd->usage; *u && len + 4 < sizeof(usage); u++) {
        if (*u != '\n') {
            usage[len++] = *u;
            continue;
        }
        u += strspn(u + 1, " ");
        bool form = strncmp(u + 1, "hostdev ", 8) == 0;
        usage[len++] = ' ';
        if (form) {
            usage[len++] = '|';
            usage[len++] = ' ';
        }
    }
    usage[len] = '\0';
    char value[384];
    if (refusal_of_value(value, sizeof(value)))
        tool_error_hint(current_tool, EXIT_USAGE, hint, "%s; usage: %s %s%s%s", value, prog,
                        cmd->name, usage[0] ? " " : "", usage);
    else if (refused.meant != NULL)
        tool_error_hint(current_tool, EXIT_USAGE, hint,
                        "'%s' is not an option of %s (did you mean --%s?); usage: %s %s%s%s",
                        refused.typed, of, refused.meant, prog, cmd->name,
                        usage[0] ? " " : "", usage);
    else if (bad[0] != '\0')
        /* "sriov PF -1": getopt takes a negative number for an option; say what was meant. */
        tool_error_hint(current_tool, EXIT_USAGE, hint,
                        "'%s' is not an option of %s%s; usage: %s %s%s%s", bad, of,
                        bad[0] == '-' && bad[1] >= '0' && bad[1] <= '9'
                            ? " (no negative number is accepted)"
                            : "",
                        prog, cmd->name, usage[0] ? " " : "", usage);
    else
        tool_error_hint(current_tool, EXIT_USAGE, hint, "usage: %s %s%s%s", prog, cmd->name,
                        usage[0] ? " " : "", usage);
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

void tool_usage_argv(char **argv)
{
    current_argv = argv;
    current_sub = argv[0];
}

int tool_operands_only(struct tool *t, const struct tool_command *cmd, int argc, char **argv,
                       int *first)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};

    optind = 0; /* GNU getopt: 0 starts afresh, after the global options' "+" parse */
    if (tool_getopt(argc, argv, "", none) != -1) {
        tool_usage(cmd, stderr, t->prog);
        return EXIT_USAGE;
    }
    *first = optind;
    return EXIT_DONE;
}

/* A regular file we can read; errno says why not (0: it is something else). */
static bool readable_file(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0 || access(path, R_OK) < 0)
        return false;
    errno = 0;
    return S_ISREG(st.st_mode);
}

void tool_put_text(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t n = hd_utf8_len(p);
        unsigned long cp = n ? hd_utf8_decode(p, n) : 0;
        if (n == 0 || (n == 1 && hd_unicode_is_control(cp))) {
            fprintf(out, "\\x%02x", *p++);
            continue;
        }
        if (hd_unicode_is_control(cp))
            fprintf(out, "\\u%04lx", cp);
        else
            fwrite(p, 1, n, out);
        p += n;
    }
}

/* Under --json an error is one JSON object on stderr, {"error", "exit", "command", "hint"}
 * ("command" as the text names it: "mdev create"), so that automation never parses the
 * text; the static build speaks text only. A command that meets several (reserve
 * --keep-going: a bad line, then a device refused) still writes one: the errors are kept
 * until it ends, the first is "error", all are in "errors", and "exit" is the status it
 * exits with. */
static struct {
    char **msgs; /* in the order they came, each once */
    size_t n;
    const char *command; /* NULL before one is named, else command_buf */
    char command_buf[64];
    char *hint; /* the first error's */
    int code;
    bool listed; /* "errors" even for one (tool_error_list()) */
} json_errors;

static void report_json(const char *command, const char *message, int code, const char *hint)
{
    char **more;

    if (json_errors.n == 0) { /* "error" and "hint" are the first one's */
        json_errors.command =
            command != NULL ? command_named(command, json_errors.command_buf,
                                            sizeof(json_errors.command_buf))
                            : NULL;
        json_errors.code = code;
        json_errors.hint = hint != NULL ? strdup(hint) : NULL;
    }
    for (size_t i = 0; i < json_errors.n; i++)
        if (strcmp(json_errors.msgs[i], message) == 0)
            return;
    if ((more = realloc(json_errors.msgs, (json_errors.n + 1) * sizeof(*more))) == NULL)
        return;
    json_errors.msgs = more;
    if ((more[json_errors.n] = strdup(message)) != NULL)
        json_errors.n++;
}

void tool_flush_errors(int code)
{
#ifdef HOSTDEV_TOOLS_CORE
    (void)code;
#else
    size_t n = json_errors.n;
    struct json j;

    if (n == 0)
        return;
    json_init(&j, stderr, 0);
    json_begin_object(&j);
    json_kv_string(&j, "error", json_errors.msgs[0]);
    if (n > 1 || json_errors.listed)
        json_kv_strings(&j, "errors", (const char *const *)json_errors.msgs, n);
    json_kv_int(&j, "exit", code != EXIT_DONE ? code : json_errors.code);
    json_kv_string(&j, "command", json_errors.command);
    json_kv_string(&j, "hint", json_errors.hint);
    json_end_object(&j);
    json_finish(&j);
    fflush(stderr);
#endif
    hd_strv_free(json_errors.msgs, json_errors.n);
    free(json_errors.hint);
    json_errors.msgs = NULL;
    json_errors.n = 0;
    json_errors.hint = NULL;
}

int tool_error_list(struct tool *t, int code, const char *const *msgs, size_t n)
{
    if (n == 0)
        return EXIT_DONE;
#ifndef HOSTDEV_TOOLS_CORE
    if (tool_json(t)) { /* still one object: the first as its error, all of them listed */
        for (size_t i = 0; i < n; i++)
            report_json(current_command, msgs[i], code, NULL);
        json_errors.listed = true;
        return code;
    }
#endif
    for (size_t i = 0; i < n; i++)
        tool_error(t, code, "%s", msgs[i]);
    return code;
}

/* Whether the library's message @tail names what @what does already, as typed (the whole of
 * it) or in the canonical form of an address typed short (03:00.0, pci_...): at its start
 * ("0000:03:00.0: ...") or as words of it ("... is already assigned to vm a", "'scsi_x' is
 * not ..."). Then it is said once, the library's way. A short @what (a count) is left to
 * stand before it: a number in the message may be another. */
static bool tail_names_what(const char *what, const char *tail)
{
    struct hd_pci_addr addr;
    char name[HD_PCI_ADDR_BUFSZ];
    size_t len;

    if (tail == NULL || tail[0] == '\0')
        return false;
    if (hd_pci_addr_parse(what, &addr) == 0)
        what = hd_pci_addr_format(&addr, name);
    len = strlen(what);
    if (strncmp(tail, what, len) == 0 && (tail[len] == ':' || tail[len] == ' '))
        return true;
    if (len < 3)
        return false;
    for (const char *p = strstr(tail, what); p != NULL; p = strstr(p + 1, what)) {
        const char *end = p + len;
        bool starts = p == tail || p[-1] == ' ' || p[-1] == '\'';
        /* A name's own characters go on (vm "a:b" is not vm "a"): a colon ends it only
         * before a space. */
        bool ends = *end == '\0' || *end == ' ' || *end == ',' || *end == '\'' ||
                    (*end == ':' && (end[1] == ' ' || end[1] == '\0'));
        if (starts && ends)
            return true;
    }
    return false;
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
    /* A damaged map stops every command: say the way out. */
    if (hint == NULL && t->ctx != NULL &&
        hd_ctx_last_reason(t->ctx) == HD_REASON_STATE_DAMAGED &&
        strstr(tail != NULL ? tail : what, "assignment map") != NULL)
        hint = "'hostdev recover' sets it aside and rebuilds it from what the devices show";
    if (tool_json(t)) {
        char *msg = NULL;
        bool dup = tail != NULL && tail_names_what(what, tail);
        if (tail == NULL || tail[0] == '\0' || dup)
            msg = strdup(dup ? tail : what);
        else if (asprintf(&msg, "%s: %s", what, tail) < 0)
            msg = NULL;
        report_json(current_command, msg ? msg : what, code, hint);
        free(msg);
        free(what);
        return;
    }
    char named[64];
    if (current_command != NULL)
        fprintf(stderr, "%s %s: ", t->prog, command_named(current_command, named, sizeof(named)));
    else
        fprintf(stderr, "%s: ", t->prog);
    /* The library's messages already start with the device: say it once. */
    if (tail != NULL && tail_names_what(what, tail)) {
        tool_put_text(stderr, tail);
    } else {
        tool_put_text(stderr, what);
        if (tail != NULL && tail[0] != '\0') {
            fputs(": ", stderr);
            tool_put_text(stderr, tail);
        }
    }
    if (hint != NULL)
        fprintf(stderr, " (%s)", hint);
    fputc('\n', stderr);
    free(what);
}

void tool_warning(struct tool *t, const char *msg)
{
    char named[64];

    if (current_command != NULL)
        fprintf(stderr, "%s %s: warning: ", t->prog,
                command_named(current_command, named, sizeof(named)));
    else
        fprintf(stderr, "%s: warning: ", t->prog);
    tool_put_text(stderr, msg);
    fputc('\n', stderr);
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

void tool_print_wrapped(FILE *out, const char *prefix, int indent, const char *text)
{
    int col = fprintf(out, "%s", prefix);

    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > indent && col + 1 + (int)word > 100) {
            col = fprintf(out, "\n%*s", indent, "") - 1;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        col += fprintf(out, "%.*s", (int)word, text);
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

/* A network interface names its PCI function, as in dpdk-devbind and driverctl. */
int tool_parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int tool_netif_addr(struct tool *t, const char *arg, struct hd_pci_addr *addr)
{
    struct hd_netif_list *l;
    int r;

    if (t->ctx == NULL || arg[0] == '\0' || strlen(arg) >= 16 || strchr(arg, '/') != NULL ||
        hd_netif_list_new(t->ctx, &l) < 0)
        return -ENOENT;
    r = hd_netif_list_find(l, arg, addr);
    hd_netif_list_unref(l);
    return r;
}

const char *tool_netif_gone_hint(const char *arg)
{
    size_t len = strlen(arg);

    /* The kernel's rule for a name (dev_valid_name), less those that start as an address or a
     * node-device name does (1-2, 2:0:1:0), which are typos of those forms, not interfaces. */
    if (len == 0 || len >= 16 || strcmp(arg, ".") == 0 || strcmp(arg, "..") == 0 ||
        strpbrk(arg, "/: \t\n\v\f\r") != NULL || (arg[0] >= '0' && arg[0] <= '9'))
        return "";
    return "; no network interface has that name now (a device off its host driver has none: "
           "name it by its address)";
}

int tool_take_once(struct tool *t, const char *name, const char **slot, const char *value)
{
    if (*slot != NULL && strcmp(*slot, value) != 0)
        return tool_error(t, EXIT_USAGE, "%s given twice: '%s' and '%s'", name, *slot, value);
    *slot = value;
    return EXIT_DONE;
}

int tool_check_vm_id(struct tool *t, const char *vm)
{
    if (hd_vm_id_valid(vm))
        return EXIT_DONE;
    return tool_error(t, EXIT_USAGE, "invalid VM id '%s' (1 to 128 of A-Z a-z 0-9 . _ : @ -)", vm);
}

bool tool_names_node(const char *arg)
{
    return strncmp(arg, "usb_", 4) == 0 || strncmp(arg, "usb:", 4) == 0 ||
           strncmp(arg, "scsi_", 5) == 0;
}

#define PCI_FORMS "DDDD:BB:SS.F, BB:SS.F, pci_DDDD_BB_SS_F or a network interface's name"

int tool_parse_addr(struct tool *t, const char *arg, struct hd_pci_addr *addr)
{
    char uuid[37];

    if (hd_pci_addr_parse(arg, addr) == 0 || tool_netif_addr(t, arg, addr) == 0)
        return 0;
    /* A device of another kind is named as what it is: "invalid PCI address" would send the
     * user looking for a typo in a UUID or a node-device name that is right. */
    if (!(t->takes & TOOL_TAKES_MDEV) && hd_mdev_uuid_parse(arg, uuid) == 0)
        tool_error(t, EXIT_USAGE, "'%s' is a mediated device's UUID: only a PCI device is taken "
                   "here (" PCI_FORMS ")", arg);
    else if (!(t->takes & TOOL_TAKES_NODE) && tool_names_node(arg))
        tool_error(t, EXIT_USAGE, "'%s' names a USB or SCSI device: only a PCI device is taken "
                   "here (" PCI_FORMS ")", arg);
    else
        tool_error(t, EXIT_USAGE, "invalid PCI address '%s' (expected " PCI_FORMS "%s%s)%s", arg,
                   (t->takes & TOOL_TAKES_ANY) == TOOL_TAKES_ANY
                       ? "; or a mediated device's UUID, usb_BUS_PORT, usb:VVVV:PPPP[:SERIAL] "
                         "or scsi_H_B_T_L"
                   : t->takes & TOOL_TAKES_MDEV ? "; or a mediated device's UUID"
                                                : "",
                   t->takes & TOOL_TAKES_IDS ? "; or ids VVVV:DDDD" : "",
                   tool_netif_gone_hint(arg));
    return -EINVAL;
}

int tool_open_device(struct tool *t, const char *arg, struct hd_device **dev)
{
    return tool_open_device_fill(t, arg, HD_FILL_ALL, dev);
}

int tool_open_device_fill(struct tool *t, const char *arg, unsigned int fill,
                          struct hd_device **dev)
{
    struct hd_pci_addr addr;
    char name[HD_PCI_ADDR_BUFSZ];
    int r;

    if (tool_parse_addr(t, arg, &addr) < 0)
        return EXIT_USAGE;
    hd_ctx_clear_error(t->ctx);
    r = hd_device_open_fill(t->ctx, &addr, fill, dev);
    if (r == -ENODEV)
        return tool_error(t, EXIT_USAGE, "%s: no such PCI device under %s",
                          hd_pci_addr_format(&addr, name), hd_ctx_get_root(t->ctx));
    if (r < 0)
        return tool_lib_error(t, tool_exit_for(t), r, "%s", arg);
    return EXIT_DONE;
}

/* -v: what is done, one line each, in the user's terms: no internal function names, and a
 * value with a newline in it (what is written to sysfs) cannot break the line. One write()
 * per line, so that a writer child's lines do not cut into the parent's. */
static void log_stderr(void *data, int priority, const char *file, int line, const char *fn,
                       const char *format, va_list args)
{
    char *msg = NULL, *text = NULL;
    size_t len = 0;
    FILE *mem;

    (void)file, (void)line, (void)fn;
    if (vasprintf(&msg, format, args) < 0 || (mem = open_memstream(&text, &len)) == NULL) {
        free(msg);
        return;
    }
    /* A warning once per command: several readers may meet the same bad device. */
    struct hd_strings *warned = data;
    size_t before = warned->index.count;
    if (priority <= HD_LOG_WARNING && hd_strings_add(warned, msg, strlen(msg)) != NULL &&
        warned->index.count == before) {
        fclose(mem);
        free(text);
        free(msg);
        return;
    }
    fprintf(mem, "hostdev: %s", priority <= HD_LOG_WARNING ? "warning: " : "");
    tool_put_text(mem, msg);
    fputc('\n', mem);
    fclose(mem);
    fflush(stderr);
    if (write(STDERR_FILENO, text, len) < 0)
        len = 0; /* nowhere to say it */
    free(text);
    free(msg);
}

static bool root_has_sys(const char *root)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/sys", root);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What the global options set, before the context exists. */
struct globals {
    const char *root, *names, *state_dir;
    long timeout;
};

/* Apply global option @c (getopt's value) with @arg: -1 to go on, else the exit status. */
static int apply_global(struct tool *t, struct globals *g, int c, const char *arg)
{
    /* An empty value typed ("--root=", or --root "$DIR" with DIR unset) is a mistake, not the
     * default: an empty root would be the host itself. */
    if ((c == 'r' || c == 'S' || c == 'N') && arg != NULL && arg[0] == '\0')
        return tool_error(t, EXIT_USAGE, "%s",
                          c == 'r'   ? "--root '' is empty: the host itself is --root /"
                          : c == 'S' ? "--state-dir '' is empty: the default is run/hostdev"
                                     : "--names '' is empty: no names is --names none");
    switch (c) {
    case 'r':
        g->root = arg;
        return -1;
    case 'j':
#ifdef HOSTDEV_TOOLS_CORE
        return tool_error(t, EXIT_USAGE, "--json is not in this small static build; the full "
                                         "hostdev has it");
#else
        t->json = true;
        return -1;
#endif
    case 'v':
        t->verbose++;
        return -1;
    case 'n':
        t->dry_run = true;
        return -1;
    case 't': {
        char *end;
        if (arg == NULL) /* both callers give one; clang-analyzer cannot tell */
            return tool_error(t, EXIT_USAGE, "--timeout needs a value");
        errno = 0;
        g->timeout = strtol(arg, &end, 10);
        /* 0 would give every unbind up at once and call its driver hung. */
        if (errno || *end || end == arg || g->timeout < 1 || g->timeout > 3600000)
            return tool_error(t, EXIT_USAGE, "invalid --timeout '%s' (milliseconds, 1 to "
                              "3600000)", arg);
        return -1;
    }
    case 'N':
        g->names = arg;
        return -1;
    case 'S':
        g->state_dir = arg;
        return -1;
    case 'h':
        usage(stdout);
        return EXIT_DONE;
    case 'V':
        printf("hostdev %s\n", HOSTDEV_VERSION);
        return EXIT_DONE;
    default:
        return tool_error_hint(t, EXIT_USAGE, "see 'hostdev --help'", "unknown option '%s'",
                               arg ? arg : "?");
    }
}

/* '+': stop at the command name; its own options are its business. ':': a missing value is
 * told apart from an unknown option. */
#define GLOBAL_SHORTOPTS "+:r:jvt:hV"
static const struct option global_opts[] = {
    {"root", required_argument, NULL, 'r'},    {"json", no_argument, NULL, 'j'},
    {"verbose", no_argument, NULL, 'v'},       {"timeout", required_argument, NULL, 't'},
    {"names", required_argument, NULL, 'N'},   {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},       {"state-dir", required_argument, NULL, 'S'},
    {"dry-run", no_argument, NULL, 'n'},       {NULL, 0, NULL, 0},
};

/* Global long options given after the command @cmd (`hostdev list --json`, `... --root R`),
 * as users of other tools type them: applied, and taken out of the command's arguments. Stops
 * at "--". One that stands where an option of @cmd's has its value ("--vm --root R ADDR") is
 * refused as the value forgotten that it is, before its own value is judged: a bad root there
 * is not what the user got wrong. A global's own value is refused as the command's are when it
 * starts with '-' ("--root --json"). -1 to go on, else the exit status. */
static int take_trailing_globals(struct tool *t, struct globals *g,
                                 const struct tool_command *cmd, int *argc, char **argv)
{
    const char *before = argv[0]; /* the word before argv[i] as typed: argv moves under us */
    int out = 1;

    for (int i = 1; i < *argc; before = argv[i++]) {
        const struct option *o = NULL;
        const char *arg = NULL, *eq, *word = argv[i];
        size_t len;
        int r;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strncmp(argv[i], "--", 2) == 0) {
            eq = strchr(argv[i], '=');
            len = eq ? (size_t)(eq - argv[i] - 2) : strlen(argv[i] + 2);
            for (const struct option *p = global_opts; p->name != NULL; p++) {
                if (strlen(p->name) == len && strncmp(p->name, argv[i] + 2, len) == 0 &&
                    p->val != 'h' && p->val != 'V')
                    o = p;
            }
            if (o != NULL && cmd != NULL && takes_next_word(before, cmd->shortopts, cmd->opts)) {
                /* "-gm": the option is its last letter, as getopt names it */
                char letter[3] = {'-', before[strlen(before) - 1], '\0'};
                refuse_dash_value(before[1] == '-' ? before : letter, NULL, word,
                                  GLOBAL_SHORTOPTS, global_opts);
                tool_usage(cmd, stderr, t->prog);
                return EXIT_USAGE;
            }
            if (o != NULL && o->has_arg == required_argument) {
                arg = eq ? eq + 1 : i + 1 < *argc ? argv[++i] : NULL;
                if (arg == NULL)
                    return tool_error(t, EXIT_USAGE, "option --%s needs a value", o->name);
                if (eq == NULL && refuse_dash_value(word, o->name, arg, GLOBAL_SHORTOPTS,
                                                    global_opts)) {
                    char value[384];
                    refusal_of_value(value, sizeof(value));
                    return tool_error(t, EXIT_USAGE, "%s", value);
                }
            } else if (o != NULL && eq != NULL) {
                return tool_error(t, EXIT_USAGE, "option --%s takes no value", o->name);
            }
        }
        if (o == NULL) {
            argv[out++] = argv[i];
            continue;
        }
        if ((r = apply_global(t, g, o->val, arg)) >= 0)
            return r;
    }
    argv[out] = NULL;
    *argc = out;
    return -1;
}

/* `hostdev help [COMMAND]`, as git and virsh users type it: what --help prints. The global
 * options a user leaves on the line (`help list --json`, `--root R`) change nothing in it. */
static int help(struct tool *t, struct globals *g, int argc, char **argv)
{
    const struct tool_command *cmd;
    int r;

    current_command = "help";
    if ((r = take_trailing_globals(t, g, NULL, &argc, argv)) >= 0)
        return r;
    /* `help help` is listed among the commands: its help is this one's, as `help --help`. */
    if (argc == 1 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        (argc == 2 && strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return EXIT_DONE;
    }
    if (argc > 2)
        return tool_error(t, EXIT_USAGE, "takes one command, not also '%s' (see '%s --help')",
                          argv[2], t->prog);
    if ((cmd = find_command(argv[1])) == NULL)
        return unknown_command(t, argv[1]);
    tool_usage(cmd, stdout, t->prog);
    return EXIT_DONE;
}

static int run_main(int argc, char **argv)
{
    static struct tool t = {.prog = "hostdev"}; /* static: tool_usage() reaches it */
    struct globals g = {.root = getenv("HOSTDEV_ROOT"), .state_dir = getenv("HOSTDEV_STATE_DIR"),
                        .timeout = -1};
    const struct tool_command *cmd = NULL;
    int c, r, asked = 0; /* --help or --version */

    current_tool = &t;
    opterr = 0; /* our own one-line errors */
    while ((c = tool_getopt(argc, argv, GLOBAL_SHORTOPTS, global_opts)) != -1) {
        char value[384];
        if ((c == '?' || c == ':') && refusal_of_value(value, sizeof(value)))
            return tool_error_hint(&t, EXIT_USAGE, "see 'hostdev --help'", "%s", value);
        if (c == '?' && refused.meant != NULL)
            return tool_error_hint(&t, EXIT_USAGE, "see 'hostdev --help'",
                                   "unknown option '%s'; did you mean --%s?", refused.typed,
                                   refused.meant);
        if (c == '?') {
            /* getopt has not left a bundle it stopped in ("-a=" after --dry-run): the word
             * before is not the one typed wrong; name the short option itself. */
            const char *last = argv[optind - 1];
            char letter[3] = {'-', (char)optopt, '\0'};
            return apply_global(&t, &g, c, optopt > 0 && optopt < 0x7f ? letter : last);
        }
        /* --help and --version act once every global option is read: a word after them is
         * not dropped in silence (below), and an option after them is still an option. */
        if (c == 'h' || c == 'V') {
            asked = c;
            continue;
        }
        if ((r = apply_global(&t, &g, c, optarg)) >= 0)
            return r;
    }
    /* `--help COMMAND` is `help COMMAND` (as git and cargo take it), which refuses what it
     * cannot use; --version takes no word. */
    if (asked == 'h' && optind < argc)
        return help(&t, &g, argc - optind + 1, argv + optind - 1);
    if (asked == 'V' && optind < argc)
        return tool_error_hint(&t, EXIT_USAGE, "see 'hostdev --help'",
                               "unexpected argument '%s' after --version", argv[optind]);
    if (asked != 0)
        return apply_global(&t, &g, asked, NULL);
    if (optind >= argc && tool_json(&t)) /* errors are JSON there, this one too */
        return tool_error_hint(&t, EXIT_USAGE, "see 'hostdev --help'", "no command given");
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[optind], "help") == 0)
        return help(&t, &g, argc - optind, argv + optind);
    if ((cmd = find_command(argv[optind])) == NULL)
        return unknown_command(&t, argv[optind]);
    current_command = cmd->name;
    argc -= optind;
    argv += optind;
    if (tool_wants_help(cmd, argc, argv, t.prog))
        return EXIT_DONE;
    if ((r = take_trailing_globals(&t, &g, cmd, &argc, argv)) >= 0)
        return r;
    current_argv = argv;
    const char *root = g.root, *names = g.names, *state_dir = g.state_dir;
    long timeout = g.timeout;
    /* A value from the environment is named as the variable it came from: the user typed no
     * option to look for. */
    const char *root_is = root != NULL && root == getenv("HOSTDEV_ROOT") ? "HOSTDEV_ROOT" : "root";
    const char *state_is = state_dir != NULL && state_dir == getenv("HOSTDEV_STATE_DIR")
                               ? "HOSTDEV_STATE_DIR" : "--state-dir";
    const char *names_is = "--names";

    if (names == NULL && getenv("HOSTDEV_NAMES") != NULL) {
        names = getenv("HOSTDEV_NAMES");
        names_is = "HOSTDEV_NAMES";
    }
    /* A names file the user named must be there: silently showing no names would hide the
     * typo. (The default search may come up empty.) */
    if (names != NULL && names[0] != '\0' && strcmp(names, "none") != 0 && !readable_file(names))
        return tool_error(&t, EXIT_USAGE, "%s '%s': %s", names_is, names,
                          errno == 0 ? "not a regular file" : strerror(errno));
    r = hd_ctx_new(root, &t.ctx);
    if (r < 0)
        return tool_error_hint(&t, EXIT_USAGE, "for a fake kernel: hostdev-fakesys mount SPEC DIR",
                               "%s '%s': %s", root_is, root ? root : "/", strerror(-r));
    /* A root that is not a kernel's tree would list nothing and succeed: say so instead. */
    if (root != NULL && !root_has_sys(root)) {
        hd_ctx_unref(t.ctx);
        return tool_error_hint(&t, EXIT_USAGE, "for a fake kernel: hostdev-fakesys mount SPEC DIR",
                               "%s '%s' has no sys/ directory: not a kernel's tree", root_is,
                               root);
    }
    /* Warnings (a device left out of a listing, an owner that could not be put back) are
     * said without -v; under --json stderr holds one JSON object on failure and nothing
     * else, so there they come with -v only. */
    static struct hd_strings warned; /* main()'s, as t is */
    if (t.verbose || !t.json) {
        hd_ctx_set_log_fn(t.ctx, log_stderr, &warned);
        hd_ctx_set_log_priority(t.ctx, t.verbose > 1   ? HD_LOG_DEBUG
                                       : t.verbose > 0 ? HD_LOG_INFO
                                                       : HD_LOG_WARNING);
    }
    if (timeout >= 0)
        hd_ctx_set_timeout_ms(t.ctx, (unsigned int)timeout);
    if (state_dir != NULL && state_dir[0] != '\0' &&
        (r = hd_ctx_set_state_dir(t.ctx, state_dir)) < 0) {
        r = tool_lib_error(&t, EXIT_USAGE, r, "invalid %s", state_is);
        hd_ctx_unref(t.ctx);
        return r;
    }
    if (names != NULL)
        hd_ctx_set_names_file(t.ctx, strcmp(names, "none") == 0 ? "" : names);

    /* Into a pipe or a file, 64 KiB per write(): a 10,000-device listing is 1 MiB (musl's
     * stdio would write it a kilobyte at a time). A terminal keeps line buffering. */
    static char outbuf[1 << 16];
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    t.takes = cmd->takes;
    r = cmd->run(&t, argc, argv);
    if (fflush(stdout) != 0 && r == EXIT_DONE)
        r = tool_error(&t, EXIT_FAILED, "writing output: %s", strerror(errno));
    /* The context is not freed: the process ends here, and its exit closes the directories
     * the context keeps open, which a free would close one syscall each (t, static, still
     * reaches it for the leak checkers). */
    hd_strings_free(&warned);
    return r;
}

int main(int argc, char **argv)
{
    int r = run_main(argc, argv);

    tool_flush_errors(r);
    return r;
}
