/* monitor.c - `hostdev monitor`: device events as they come, one line (or JSON object) each. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* SIGINT and SIGTERM end the stream cleanly: without SA_RESTART, the wait returns EINTR. */
void tool_stop_on_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool tool_stop_requested(void)
{
    return stop_requested != 0;
}

static void print_event(struct tool *t, const struct hd_uevent *ev)
{
    const struct hd_pci_addr *addr = hd_uevent_get_addr(ev);
    const char *drv = hd_uevent_get_driver(ev);
    char name[HD_PCI_ADDR_BUFSZ];

    if (tool_json(t)) {
        struct json j;
        json_init(&j, stdout, 0);
        json_begin_object(&j);
        json_kv_string(&j, "action", hd_uevent_action_to_string(hd_uevent_get_action(ev)));
        json_kv_string(&j, "subsystem", hd_uevent_get_subsystem(ev));
        json_kv_string(&j, "address", addr ? hd_pci_addr_format(addr, name) : NULL);
        json_kv_string(&j, "driver", drv);
        json_kv_string(&j, "devpath", hd_uevent_get_devpath(ev));
        json_kv_int_or_null(&j, "seqnum", (long long)hd_uevent_get_seqnum(ev),
                            hd_uevent_get_seqnum(ev) != 0);
        json_end_object(&j);
        json_finish(&j);
    } else {
        printf("%s %s", hd_uevent_action_to_string(hd_uevent_get_action(ev)),
               addr ? hd_pci_addr_format(addr, name) : hd_uevent_get_devpath(ev));
        if (drv != NULL)
            printf(" driver=%s", drv);
        if (strcmp(hd_uevent_get_subsystem(ev), "pci") != 0)
            printf(" subsystem=%s", hd_uevent_get_subsystem(ev));
        putchar('\n');
    }
    fflush(stdout);
}

/* [a-z0-9_-]{1,32}: what subsystem names look like (pci, usb, scsi_generic, vfio-dev). */
static bool subsystem_name(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");

    return n > 0 && n <= 32 && s[n] == '\0';
}

static bool wanted(const struct hd_uevent *ev, const char *subsystem)
{
    return strcmp(subsystem, "all") == 0 || strcmp(hd_uevent_get_subsystem(ev), subsystem) == 0;
}

/* A subsystem the kernel has no bus or class of sends no event now: a slip ("pcii") would
 * watch nothing without a word. One a module loaded later brings is still watched: a warning,
 * not a refusal. */
static int check_subsystem(struct tool *t, const char *subsystem)
{
    char nearest[64], msg[256];
    int r = hd_uevent_subsystem_known(t->ctx, subsystem, nearest, sizeof(nearest));

    if (r < 0)
        return tool_lib_error(t, r == -EINVAL ? EXIT_USAGE : EXIT_FAILED, r, "--subsystem '%s'",
                              subsystem);
    if (r == 0) {
        snprintf(msg, sizeof(msg), "--subsystem '%s': the kernel has no such bus or class now, "
                 "so none of its events may come%s%s%s", subsystem,
                 nearest[0] ? " (did you mean " : "", nearest, nearest[0] ? "?)" : "");
        if (tool_json(t)) { /* stdout is the events' stream: the warning goes beside it */
            const char *w = msg;
            struct json j;
            json_init(&j, stderr, 0);
            json_begin_object(&j);
            json_kv_string(&j, "command", "monitor");
            json_kv_strings(&j, "warnings", &w, 1);
            json_end_object(&j);
            json_finish(&j);
        } else {
            tool_warning(t, msg);
        }
    }
    return EXIT_DONE;
}

static const struct option monitor_opts[] = {{"subsystem", required_argument, NULL, 's'},
                                             {"count", required_argument, NULL, 'n'},
                                             {"duration", required_argument, NULL, 'w'},
                                             {NULL, 0, NULL, 0}};

static int run(struct tool *t, int argc, char **argv)
{
    const char *subsystem = "pci";
    unsigned long long count = 0, duration_s = 0, seen = 0;
    struct hd_monitor *m;
    int c, r;

    optind = 0;
    while ((c = tool_getopt(argc, argv, cmd_monitor.shortopts, cmd_monitor.opts)) != -1) {
        switch (c) {
        case 's':
            if (strcmp(optarg, "all") != 0 && !subsystem_name(optarg))
                return tool_error(t, EXIT_USAGE, "--subsystem '%s': a subsystem name (pci, usb, "
                                  "net, ...) or all", optarg);
            subsystem = optarg;
            break;
        case 'n':
            if (tool_parse_count(optarg, 1000000000, &count) < 0 || count == 0)
                return tool_error(t, EXIT_USAGE, "--count '%s': a number of events, 1 or more",
                                  optarg);
            break;
        case 'w':
            if (tool_parse_count(optarg, 86400 * 365, &duration_s) < 0 || duration_s == 0)
                return tool_error(t, EXIT_USAGE, "--duration '%s': seconds, 1 or more", optarg);
            break;
        default:
            tool_usage(&cmd_monitor, stderr, t->prog);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return tool_error(t, EXIT_USAGE, "unexpected argument '%s' (see 'hostdev monitor "
                          "--help')", argv[optind]);
    if (strcmp(subsystem, "all") != 0 && (r = check_subsystem(t, subsystem)) != EXIT_DONE)
        return r;
    if ((r = hd_monitor_new(t->ctx, &m)) < 0)
        return tool_lib_error(t, EXIT_FAILED, r, "cannot watch device events");
    tool_stop_on_signals();
    /* Ready: a caller waiting for this line knows every later event will be seen. */
    if (t->verbose > 0)
        fprintf(stderr, "%s monitor: listening\n", t->prog);
    long long left_ms = duration_s ? (long long)duration_s * 1000 : -1;
    while (!tool_stop_requested() && (count == 0 || seen < count)) {
        const struct hd_uevent *ev;
        int wait = left_ms < 0 ? 500 : (int)(left_ms < 500 ? left_ms : 500);
        r = hd_monitor_next(m, wait, &ev);
        if (r == -EAGAIN || r == -EINTR) {
            if (left_ms > 0 && (left_ms -= wait) <= 0)
                break;
            continue;
        }
        if (r < 0) {
            hd_monitor_unref(m);
            return tool_lib_error(t, EXIT_FAILED, r, "device events");
        }
        if (!wanted(ev, subsystem))
            continue;
        print_event(t, ev);
        seen++;
    }
    hd_monitor_unref(m);
    /* --count not reached within --duration: the events asked for did not come. */
    return count && seen < count && !tool_stop_requested() ? EXIT_FAILED : EXIT_DONE;
}

const struct tool_command cmd_monitor = {
    .shortopts = "s:n:w:",
    .opts = monitor_opts,
    .name = "monitor",
    .run = run,
    .usage = "[--subsystem pci|usb|...|all] [--count N]\n"
             "       [--duration SECONDS]",
    .summary = "print device events (add, remove, bind, unbind...) as they happen",
    .help = "One line per event: ACTION ADDRESS [driver=NAME], e.g. 'bind 0000:01:00.0\n"
            "driver=vfio-pci'; with --json one object per line (action, subsystem, address,\n"
            "driver, devpath, seqnum). Events come from the kernel's uevent netlink socket\n"
            "(the fake kernel's proc/hostdev-uevents under --root). Only reads.\n"
            "  -s, --subsystem NAME  events of this subsystem (default pci), or all\n"
            "  -n, --count N         stop after N events\n"
            "  -w, --duration SECONDS\n"
            "                        stop after this long (exit 1 if --count was not reached)\n"
            "SIGINT or SIGTERM stop it (exit 0).\n",
};
