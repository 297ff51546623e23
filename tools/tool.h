/* tool.h - what the `hostdev` subcommands share: the command table, output, exit codes. */
#ifndef HOSTDEV_TOOL_H
#define HOSTDEV_TOOL_H

#include <stdbool.h>
#include <stdio.h>

#include <hostdev/hostdev.h>

#define HD_PRINTF_TOOL(a, b) __attribute__((format(printf, a, b)))

/* Exit codes, the same for every command. */
enum {
    EXIT_DONE = 0,   /* done */
    EXIT_FAILED = 1, /* the operation failed; the device was left as it was */
    EXIT_USAGE = 2,  /* bad usage or input; nothing was changed */
};

struct tool {
    const char *prog;  /* "hostdev" */
    struct hd_ctx *ctx;
    bool json;
    bool dry_run; /* --dry-run: writing commands plan and print, and change nothing */
    bool force;   /* --force of reserve and persist: the host's use of a device is overruled */
    int verbose;
    unsigned int takes; /* TOOL_TAKES_*: what the command takes beside PCI devices */
};

/* The kinds of device a command takes beside PCI devices: its bad-input message lists them,
 * and one of the others is named for what it is (tool_parse_addr()). */
#define TOOL_TAKES_MDEV 1u /* a mediated device's UUID (or libvirt's mdev_ name) */
#define TOOL_TAKES_NODE 2u /* a USB or SCSI device: usb_BUS_PORT, usb:VVVV:PPPP, scsi_H_B_T_L */
#define TOOL_TAKES_ANY (TOOL_TAKES_MDEV | TOOL_TAKES_NODE)
#define TOOL_TAKES_IDS 4u  /* VVVV:DDDD, every PCI device with these ids (devargs_open_ids()) */

/* Whether to print JSON. The static early-boot binary speaks text only: there it is a constant,
 * so every JSON branch and the writer itself drop out of the binary. */
#ifdef HOSTDEV_TOOLS_CORE
#define tool_json(t) ((void)(t), false)
#else
#define tool_json(t) ((t)->json)
#endif

struct option;
struct tool_command {
    const char *name;
    int (*run)(struct tool *t, int argc, char **argv);
    const char *usage;   /* "ADDR... [--driver vfio-pci|pci-stub] [--group]" */
    const char *summary; /* one line for `hostdev --help` */
    const char *help;    /* the rest of `hostdev CMD --help`, may be NULL */
    unsigned int takes;  /* TOOL_TAKES_*: devices it takes beside PCI ones (t->takes) */
    /* Its options, as its tool_getopt() loop takes them (a subcommand's are among them):
     * a global option given where one of them has its value is refused as that value's
     * place before the global is judged. NULL: none takes a value. */
    const char *shortopts;
    const struct option *opts;
};

/* One per tools/<name>.c */
extern const struct tool_command cmd_list, cmd_show, cmd_iommu, cmd_detach, cmd_reattach,
    cmd_reset, cmd_check, cmd_verify, cmd_sriov, cmd_hostdev_xml, cmd_qemu_args, cmd_reserve,
    cmd_persist, cmd_unpersist, cmd_persisted, cmd_cmdline, cmd_acquire, cmd_release,
    cmd_assignments, cmd_migratable, cmd_recover, cmd_doctor, cmd_export, cmd_monitor, cmd_mdev;

/* Print "hostdev CMD: message" (plus the context's last error when @with_ctx_error) to stderr,
 * return @code. */
int tool_error(struct tool *t, int code, const char *fmt, ...) HD_PRINTF_TOOL(3, 4);
/* Same, ending the line with "(@hint)" when @hint is not NULL. */
int tool_error_hint(struct tool *t, int code, const char *hint, const char *fmt, ...)
    HD_PRINTF_TOOL(4, 5);
/* "hostdev CMD: warning: @msg" on stderr, as text (under --json the caller puts it in its
 * document). */
void tool_warning(struct tool *t, const char *msg);
/* Several errors of one input (a configuration's lines): a line each, or under --json one
 * object whose "errors" lists them all ("error" is the first). Returns @code (EXIT_DONE for
 * none). */
int tool_error_list(struct tool *t, int code, const char *const *msgs, size_t n);
/* Under --json the errors are one object, written when the command ends (its "exit" is the
 * status); a command that goes on after one (export --watch) writes what it has now with
 * @code. */
void tool_flush_errors(int code);
/* Same, for a library call that failed with @err: appends hd_ctx_last_error() or strerror. */
int tool_lib_error(struct tool *t, int code, int err, const char *fmt, ...) HD_PRINTF_TOOL(4, 5);
/* Same, ending the line with "(@hint)": what the user can do about it, on the one line. */
int tool_lib_error_hint(struct tool *t, int code, int err, const char *hint, const char *fmt, ...)
    HD_PRINTF_TOOL(5, 6);
/* @s as text that stays on its line and drives nothing: C0 controls, DEL and bytes that are
 * not UTF-8 as \xHH, C1 and bidirectional controls as \uXXXX (pci.ids names, arguments and
 * sysfs contents quoted in messages). */
void tool_put_text(FILE *out, const char *s);
/* The PCI function of network interface @arg (enp3s0): 0, or -ENOENT. */
int tool_netif_addr(struct tool *t, const char *arg, struct hd_pci_addr *addr);
/* The end of the error for a device argument @arg that is none: when @arg could be a network
 * interface's name, that none has it now, and why (its device left the host driver: `detach
 * enp3s0`, then `reattach enp3s0`); else "". */
const char *tool_netif_gone_hint(const char *arg);
/* @prefix then @text, folded at blanks to 100 columns under a hanging @indent. */
void tool_print_wrapped(FILE *out, const char *prefix, int indent, const char *text);
void tool_usage(const struct tool_command *cmd, FILE *out, const char *prog);
/* A decimal count (digits only) no larger than @max: 0, or -EINVAL. */
int tool_parse_count(const char *s, unsigned long long max, unsigned long long *out);
/* SIGINT and SIGTERM set a flag instead of killing: long-running commands (monitor,
 * export --watch) finish what they write and exit 0. */
void tool_stop_on_signals(void);
bool tool_stop_requested(void);

/* EXIT_DONE for a valid VM id; else EXIT_USAGE, the rule printed. */
int tool_check_vm_id(struct tool *t, const char *vm);
/* Parse a device argument; on failure print "invalid PCI address 'X'" (with the forms the
 * command takes, t->takes), or that X is a mediated, USB or SCSI device the command does not
 * take, and return -EINVAL. */
int tool_parse_addr(struct tool *t, const char *arg, struct hd_pci_addr *addr);
/* Whether @arg names a USB or SCSI device the way acquire takes one (usb_, usb:, scsi_). */
bool tool_names_node(const char *arg);
/* Open a device given on the command line: bad syntax or no such device -> EXIT_USAGE. */
int tool_open_device(struct tool *t, const char *arg, struct hd_device **dev);
/* The same, reading only @fill (HD_FILL_*). */
int tool_open_device_fill(struct tool *t, const char *arg, unsigned int fill,
                          struct hd_device **dev);

/* getopt_long() for every command's option loop: a long option is taken only as typed in full.
 * getopt would read "--vm" as "--vm-memory" and complain about a value for an option the user
 * never typed, and a script's abbreviation breaks when an option is added. An abbreviation is
 * '?', which tool_usage() names with the option it abbreviates; a misspelled one is named with
 * the one option nearest it, when one is. '?' too, named as such: an option of the command
 * without its value (or with a word that starts with '-' given apart where its value should
 * be: another option, "--", "--bogus", "-1"; "-" is export -o's standard output) and one
 * given a value it takes none of ("--force=yes", "-f=x"). */
int tool_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Option @name's value @value into *@slot: EXIT_DONE, or EXIT_USAGE (said) when it was given
 * before with another value, which a script's typo must not turn into a silent choice (the last
 * one) of the VM, owner or driver it acts for. */
int tool_take_once(struct tool *t, const char *name, const char **slot, const char *value);
/* Standard option handling: returns 1 when it handled --help (caller exits 0), 0 to go on. */
int tool_wants_help(const struct tool_command *cmd, int argc, char **argv, const char *prog);
/* A subcommand (mdev create) parses its own @argv with getopt: a usage error names the option
 * it stopped at in those words, not the command's. */
void tool_usage_argv(char **argv);
/* For a command that takes no option of its own: EXIT_USAGE (printed, naming it) for an
 * argument that is an option, as every command's getopt says it; else EXIT_DONE with *@first
 * the index of the first operand in @argv (after "--", an operand may start with '-'). */
int tool_operands_only(struct tool *t, const struct tool_command *cmd, int argc, char **argv,
                       int *first);

/* ---- json.c: a streaming JSON writer with correct escaping ------------------------------- */
struct json {
    FILE *out;
    int depth;
    bool need_comma[32];
    bool after_key;
    int indent; /* 0 compact, else spaces per level */
};

void json_init(struct json *j, FILE *out, int indent);
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s); /* NULL -> null */
void json_int(struct json *j, long long v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Convenience: key + value */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, long long v);
void json_kv_int_or_null(struct json *j, const char *key, long long v, bool present);
void json_kv_bool(struct json *j, const char *key, bool v);
void json_kv_hex(struct json *j, const char *key, unsigned long v, int width); /* "0x8086" */
/* "key": [...] with the blank-separated words of @words (NULL: an empty array). */
void json_kv_words(struct json *j, const char *key, const char *words);
/* "key": [...] with the @n strings of @v (a document's "warnings", its other matches). */
void json_kv_strings(struct json *j, const char *key, const char *const *v, size_t n);
/* Findings (IOMMU, verify, doctor) one shape everywhere: [{"severity", "code", "device",
 * "message", "fix"}]. */
/* With @commands_too, each finding's remedy as commands ("commands", remedy.c). */
void json_kv_findings(struct json *j, const char *key, const struct hd_findings *findings,
                      bool commands_too);

/* remedy.c: finding @i's remedy as hostdev commands (alternatives, first the plainest), at most
 * @max; how many. */
#define TOOL_COMMAND_MAX 512
size_t tool_remedy_commands(const struct hd_findings *findings, size_t i,
                            char (*out)[TOOL_COMMAND_MAX], size_t max);
void json_finish(struct json *j); /* trailing newline */

#endif
