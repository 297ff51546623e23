/* test-parallel.c - one operation on devices of several IOMMU groups runs their steps side by
 * side (core/par.c), on the fake kernel, whose writes to different devices do not wait for one
 * another: it ends exactly where the same commands one device at a time end; its unbinds are
 * in the kernel at once (shown by hanging them, never by timing); a group keeps its order and
 * resets come after every detach; a hanging device times out alone and is reported alone;
 * several failures are one message; kill -9 with several writers in the kernel is recovered
 * exactly; the log function is called in the caller's thread only. Run under TSan too. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hostdev/hostdev.h>

#include "adapters-tree.h"
#include "engine.h"
#include "fixture.h"
#include "hoststate.h"
#include "hdtest.h"

#define N1 "0000:01:00.0"
#define N2 "0000:02:00.0"
#define N3 "0000:03:00.0"
#define N4 "0000:04:00.0" /* igb: the one that hangs alone */
#define GPU "0000:05:00.0"
#define AUDIO "0000:05:00.1"
#define XHCI "0000:06:00.0" /* no driver */

static const char spec[] =
    "kernel 6.1.0-13-amd64\n"
    "cmdline \"root=/dev/sda1 intel_iommu=on\"\n"
    "iommu intel\n"
    "module vfio\n"
    "module vfio_iommu_type1\n"
    "driver pcieport builtin class=060400\n"
    "driver e1000e ids=8086:10d3\n"
    "driver igb ids=8086:1533\n"
    "driver nouveau ids=10de:1b81\n"
    "driver snd_hda_intel ids=10de:10f0\n"
    "driver vfio-pci module=vfio_pci stub vfio sriov\n"
    "device 0000:00:00.0 8086:591f class=060000 group=0\n"
    "device 0000:00:01.0 8086:1901 class=060400 driver=pcieport group=1 secondary=01\n"
    "device 0000:00:02.0 8086:1901 class=060400 driver=pcieport group=2 secondary=02\n"
    "device 0000:00:03.0 8086:1901 class=060400 driver=pcieport group=3 secondary=03\n"
    "device 0000:00:04.0 8086:1901 class=060400 driver=pcieport group=4 secondary=04\n"
    "device 0000:00:05.0 8086:1901 class=060400 driver=pcieport group=5 secondary=05\n"
    "device 0000:00:06.0 8086:1901 class=060400 driver=pcieport group=6 secondary=06\n"
    "device 0000:01:00.0 8086:10d3 class=020000 driver=e1000e group=11 reset=flr\n"
    "device 0000:02:00.0 8086:10d3 class=020000 driver=e1000e group=12 reset=flr\n"
    "device 0000:03:00.0 8086:10d3 class=020000 driver=e1000e group=13 reset=flr\n"
    "device 0000:04:00.0 8086:1533 class=020000 driver=igb group=14 reset=flr\n"
    "device 0000:05:00.0 10de:1b81 class=030000 driver=nouveau group=15 reset=bus\n"
    "device 0000:05:00.1 10de:10f0 class=040300 driver=snd_hda_intel group=15 reset=bus\n"
    "device 0000:06:00.0 1b21:1242 class=0c0330 group=16 reset=flr\n";

static const char *const all[] = {N1, N2, N3, N4, GPU, AUDIO, XHCI, NULL};

static struct eng e;

static void setup(void)
{
    eng_start(&e, spec);
}

static void teardown(void)
{
    eng_stop(&e);
}

/* Every command of @cmds (';'-separated) must succeed. */
static void run_all(const char *cmds)
{
    char *copy = strdup(cmds), *save = NULL;

    for (char *c = strtok_r(copy, ";", &save); c; c = strtok_r(NULL, ";", &save))
        ck_assert_msg(eng_run(&e, "%s", c) == 0, "'%s': %s", c, e.err);
    free(copy);
}

static int finish(pid_t pid)
{
    int status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool no_journal_left(void)
{
    DIR *dir = opendir(fx_path(&e.fx, "run/hostdev/journal"));
    struct dirent *de;
    bool none = true;

    while (dir != NULL && (de = readdir(dir)) != NULL)
        none = none && de->d_name[0] == '.';
    if (dir != NULL)
        closedir(dir);
    return none;
}

/* Recover until what was left is dealt with (a writer may still be finishing). */
static void recover_all(const char *what)
{
    struct hd_ctx *ctx;

    ck_assert_int_eq(hd_ctx_new(e.fx.root, &ctx), 0);
    eng_recover(ctx, what);
    hd_ctx_unref(ctx);
}

/* Bounded wait until the host is as @want says (a writer putting it back). */
static void becomes(const char *want)
{
    char *now = NULL;

    for (int tries = 0; tries < 2000; tries++) {
        free(now);
        now = hs_snapshot(&e.fx, all);
        if (strcmp(now, want) == 0 && no_journal_left())
            break;
        usleep(10000);
    }
    ck_assert_msg(strcmp(now, want) == 0, "not put back:\n%s\nwas\n%s", now, want);
    ck_assert(no_journal_left());
    free(now);
}

/* ---- one command on many devices ends where one command per device ends ------------------ */

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The host's state, its lines sorted: one acquire --group puts a group's member in the map
 * after everything asked for, one acquire per device right after its device. */
static char *state(void)
{
    char *snap = hs_snapshot(&e.fx, all), *lines[256] = {NULL}, *save = NULL, *sorted;
    size_t n = 0, len = 0;

    for (char *l = strtok_r(snap, "\n", &save); l && n < 256; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    qsort(lines, n, sizeof(lines[0]), by_text);
    for (size_t i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    sorted = calloc(1, len + 1);
    ck_assert_ptr_nonnull(sorted);
    for (size_t i = 0; i < n; i++) {
        strcat(sorted, lines[i]);
        strcat(sorted, "\n");
    }
    free(snap);
    return sorted;
}

struct par_case {
    const char *name;
    const char *setup;  /* ';'-separated commands, or NULL */
    const char *one;    /* the command on every device at once */
    const char *serial; /* the same, one device per command */
};

static const struct par_case cases[] = {
    {"detach", NULL, "detach " N1 " " N2 " " N3 " " N4 " " GPU " " AUDIO " " XHCI,
     "detach " N1 ";detach " N2 ";detach " N3 ";detach " N4 ";detach " GPU ";detach " AUDIO
     ";detach " XHCI},
    {"detach --new-id", NULL, "detach --new-id " N1 " " N2 " " N4 " " XHCI,
     "detach --new-id " N1 ";detach --new-id " N2 ";detach --new-id " N4
     ";detach --new-id " XHCI},
    {"reattach", "detach " N1 " " N2 " " N4 " " GPU " " AUDIO " " XHCI,
     "reattach " N1 " " N2 " " N4 " " GPU " " AUDIO " " XHCI,
     "reattach " N1 ";reattach " N2 ";reattach " N4 ";reattach " GPU ";reattach " AUDIO
     ";reattach " XHCI},
    {"acquire", NULL, "acquire --vm v --owner 7:8 --group " N1 " " N2 " " N3 " " GPU " " XHCI,
     "acquire --vm v --owner 7:8 --group " N1 ";acquire --vm v --owner 7:8 --group " N2
     ";acquire --vm v --owner 7:8 --group " N3 ";acquire --vm v --owner 7:8 --group " GPU
     ";acquire --vm v --owner 7:8 --group " XHCI},
    {"release", "acquire --vm v --owner 7:8 --group " N1 " " N2 " " N4 " " GPU " " XHCI,
     "release --vm v", "release --vm v " N1 ";release --vm v " N2 ";release --vm v " N4
     ";release --vm v " GPU ";release --vm v " XHCI},
    {"reset", "detach " N1 " " N2 " " N3 " " XHCI, "reset " N1 " " N2 " " N3 " " XHCI,
     "reset " N1 ";reset " N2 ";reset " N3 ";reset " XHCI},
};

HD_TEST_FILE(.setup = setup, .teardown = teardown, .timeout = 120);

HD_LOOP_TEST(one_command_is_many_serial, (int)(sizeof(cases) / sizeof(cases[0])))
{
    const struct par_case *c = &cases[_i];
    char *one, *serial;

    if (c->setup)
        run_all(c->setup);
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-log"), 0);
    ck_assert_msg(eng_run(&e, "%s", c->one) == 0, "%s: %s", c->name, e.err);
    one = state();
    if (strcmp(c->name, "reset") == 0) { /* each device reset once, by its method */
        static const char *const reset[] = {N1, N2, N3, XHCI};
        for (size_t i = 0; i < 4; i++) {
            char line[64];
            snprintf(line, sizeof(line), "reset %s flr", reset[i]);
            ck_assert_uint_eq(fx_log_count(&e.fx, line), 1);
        }
    }
    teardown();
    setup();
    if (c->setup)
        run_all(c->setup);
    run_all(c->serial);
    serial = state();
    ck_assert_msg(strcmp(one, serial) == 0, "%s: one command:\n%s\none per device:\n%s", c->name,
                  one, serial);
    ck_assert(no_journal_left());
    free(one);
    free(serial);
}
END_TEST

/* ---- the unbinds are in the kernel at once --------------------------------------------------- */

HD_TEST(unbinds_overlap)
{
    pid_t pid;

    ck_assert_int_eq(fx_ctl(&e.fx, "hang e1000e forever"), 0);
    pid = eng_hostdev_start(&e.fx, "detach " N1 " " N2 " " N3 " " XHCI);
    /* One at a time, the second would wait for the first: three hang together. */
    ck_assert_msg(fx_wait_log(&e.fx, "unbind-hang ", 3, 20000), "not three unbinds at once");
    ck_assert_str_eq(fx_driver(&e.fx, N1), "e1000e");
    ck_assert_int_eq(fx_ctl(&e.fx, "hang e1000e 0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    ck_assert_int_eq(finish(pid), 0);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(fx_driver(&e.fx, all[i]), "vfio-pci");
    ck_assert_str_eq(fx_driver(&e.fx, XHCI), "vfio-pci");
}
END_TEST

/* ---- a group keeps its order; resets come after every detach ----------------------------------- */

/* The number of the first (or with @last, the last) line of @log that starts with @prefix
 * and ends with @suffix; -1 when none does. */
static long line_of(const char *log, const char *prefix, const char *suffix, bool last)
{
    long found = -1, n = 0;

    for (const char *l = log; *l; n++) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        if (len >= strlen(prefix) + strlen(suffix) && strncmp(l, prefix, strlen(prefix)) == 0 &&
            strncmp(l + len - strlen(suffix), suffix, strlen(suffix)) == 0) {
            found = n;
            if (!last)
                break;
        }
        l += len + (end != NULL);
    }
    return found;
}

HD_TEST(group_order_and_resets_after_detach)
{
    char *log;

    ck_assert_int_eq(fx_ctl(&e.fx, "clear-log"), 0);
    int rc = eng_run(&e, "acquire --vm v --owner 7:8 --group " GPU " " N1 " " N2 " " XHCI);
    ck_assert_msg(rc == 0, "%s", e.err);
    log = fx_log(&e.fx);
    long gpu_bound = line_of(log, "bind " GPU " vfio-pci", "", false);
    long audio_first = line_of(log, "write sys/bus/pci/devices/" AUDIO "/", "", false);
    long last_bind = line_of(log, "bind ", " vfio-pci", true);
    long first_reset = line_of(log, "reset", "", false);
    ck_assert_msg(gpu_bound >= 0 && audio_first > gpu_bound, "the audio function went before "
                  "its group's GPU was bound:\n%s", log);
    ck_assert_msg(last_bind >= 0 && first_reset > last_bind, "a reset before every detach was "
                  "done:\n%s", log);
    free(log);
    ck_assert_int_eq(eng_run(&e, "release --vm v"), 0);
}
END_TEST

/* ---- a hanging device times out alone, reported alone ---------------------------------------- */

HD_TEST(hang_reported_alone)
{
    char *before = hs_snapshot(&e.fx, all);

    ck_assert_int_eq(fx_ctl(&e.fx, "hang igb 3000"), 0);
    ck_assert_int_eq(eng_run(&e, "--timeout 300 detach " N1 " " N2 " " N3 " " N4), 1);
    ck_assert_msg(strstr(e.err, N4 ": unbinding from igb did not finish in 300 ms") != NULL, "%s",
                  e.err);
    ck_assert_msg(strchr(e.err, '\n') == e.err + strlen(e.err) - 1, "not one line: %s", e.err);
    ck_assert_msg(!strstr(e.err, N1) && !strstr(e.err, N2) && !strstr(e.err, N3), "%s", e.err);
    /* The others were done; the writer of the hanging one puts all back once it returns. */
    becomes(before);
    free(before);
}
END_TEST

/* ---- several failures: one message naming each ----------------------------------------------- */

HD_TEST(failures_merged)
{
    char *before = hs_snapshot(&e.fx, all);
    pid_t pid;
    int status;

    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails vfio-pci EIO"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang e1000e forever"), 0);
    /* All three are under way before any can fail. */
    char *cmd;
    ck_assert(asprintf(&cmd,
                       "HOSTDEV_NAMES=none %s/hostdev --root %s --timeout 60000 detach " N1 " " N2
                       " " N3,
                       at_build_dir(), e.fx.root) > 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char *o = NULL, *child_err = NULL;
        int rc = at_run(cmd, &o, &child_err);
        FILE *f = fopen(fx_path(&e.fx, "tmp/err"), "w");
        if (f != NULL) {
            fputs(child_err ? child_err : "", f);
            fclose(f);
        }
        _exit(rc);
    }
    ck_assert(fx_wait_log(&e.fx, "unbind-hang ", 3, 20000));
    ck_assert_int_eq(fx_ctl(&e.fx, "hang e1000e 0"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    ck_assert_int_eq(fx_ctl(&e.fx, "probe-fails vfio-pci 0"), 0);
    const char *said = fx_read(&e.fx, "tmp/err");
    ck_assert_ptr_nonnull(said);
    ck_assert_msg(strstr(said, N1 ": vfio-pci did not take") &&
                      strstr(said, N2 ": vfio-pci did not take") &&
                      strstr(said, N3 ": vfio-pci did not take"),
                  "%s", said);
    ck_assert_msg(strchr(said, '\n') == NULL, "not one line: %s", said); /* (newline stripped) */
    ck_assert_int_eq(unlink(fx_path(&e.fx, "tmp/err")), 0);
    char *now = hs_snapshot(&e.fx, all);
    ck_assert_str_eq(now, before);
    free(now);
    free(before);
    free(cmd);
}
END_TEST

/* ---- kill -9 with several writers in the kernel; recover restores ---------------------------- */

struct kill_case {
    const char *name;
    const char *setup;
    const char *cmd;
    const char *driver; /* whose unbinds hang */
    size_t hangs;       /* how many are in the kernel at once when it is killed */
};

static const struct kill_case kills[] = {
    {"detach", NULL, "detach " N1 " " N2 " " N3 " " XHCI " " GPU " " AUDIO, "e1000e", 3},
    {"acquire", NULL, "acquire --vm k --owner 7:8 --group " N1 " " N2 " " N3 " " GPU, "e1000e", 3},
    {"release", "acquire --vm k --owner 7:8 " N1 " " N2 " " N4 " " XHCI, "release --vm k",
     "vfio-pci", 4},
};

HD_LOOP_TEST(kill_with_writers_in_flight, (int)(sizeof(kills) / sizeof(kills[0])))
{
    const struct kill_case *c = &kills[_i];
    struct hd_ctx *ctx;
    char *before;
    pid_t pid;

    if (c->setup)
        run_all(c->setup);
    before = hs_snapshot(&e.fx, all);
    ck_assert_int_eq(fx_ctl(&e.fx, "clear-log"), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "hang %s forever", c->driver), 0);
    pid = eng_hostdev_start(&e.fx, c->cmd);
    ck_assert_msg(fx_wait_log(&e.fx, "unbind-hang ", c->hangs, 20000), "%s: %zu unbinds at once",
                  c->name, c->hangs);
    kill(pid, SIGKILL);
    ck_assert_int_eq(finish(pid), 128 + SIGKILL);
    /* Its writers still hang in the kernel: nobody may touch the operation. */
    ck_assert_int_eq(hd_ctx_new(e.fx.root, &ctx), 0);
    ck_assert_int_eq(hd_assign_recover(ctx, NULL), -EBUSY);
    hd_ctx_unref(ctx);
    /* They all return at once: one of them (the last) undoes it, or recover does. */
    ck_assert_int_eq(fx_ctl(&e.fx, "hang %s 0", c->driver), 0);
    ck_assert_int_eq(fx_ctl(&e.fx, "release"), 0);
    recover_all(c->name);
    becomes(before);
    free(before);
}
END_TEST

/* ---- the log function: the caller's thread only ---------------------------------------------- */

struct log_seen {
    pthread_t caller;
    unsigned int lines, elsewhere;
    char text[8192];
};

static void log_fn(void *data, int priority, const char *file, int line, const char *fn,
                   const char *format, va_list args)
{
    struct log_seen *s = data;
    size_t len = strlen(s->text);

    (void)priority, (void)file, (void)line, (void)fn;
    s->lines++;
    if (!pthread_equal(pthread_self(), s->caller))
        s->elsewhere++;
    if (len + 2 < sizeof(s->text)) {
        vsnprintf(s->text + len, sizeof(s->text) - len - 1, format, args);
        strcat(s->text, "\n");
    }
}

static void run_op(struct hd_ctx *ctx, enum hd_op_kind kind, const char *const *devs)
{
    struct hd_op *op;

    ck_assert_int_eq(hd_op_new(ctx, kind, &op), 0);
    for (size_t i = 0; devs[i]; i++) {
        struct hd_pci_addr a;
        ck_assert_int_eq(hd_pci_addr_parse(devs[i], &a), 0);
        ck_assert_int_eq(hd_op_add_device(op, &a, true), 0);
    }
    ck_assert_msg(hd_op_run(op) == 0, "%s", hd_ctx_last_error(ctx));
    hd_op_unref(op);
}

HD_TEST(log_in_callers_thread)
{
    static const char *const devs[] = {N1, N2, N3, N4, XHCI, NULL};
    struct log_seen *seen = calloc(1, sizeof(*seen));
    char *before = hs_snapshot(&e.fx, all);
    struct hd_ctx *ctx;

    seen->caller = pthread_self();
    ck_assert_int_eq(hd_ctx_new(e.fx.root, &ctx), 0);
    hd_ctx_set_names_file(ctx, "");
    hd_ctx_set_log_fn(ctx, log_fn, seen);
    hd_ctx_set_log_priority(ctx, HD_LOG_DEBUG);
    run_op(ctx, HD_OP_DETACH, devs);
    for (size_t i = 0; devs[i]; i++)
        ck_assert_str_eq(fx_driver(&e.fx, devs[i]), "vfio-pci");
    ck_assert_msg(strstr(seen->text, N1 ": unbinding from e1000e") &&
                  strstr(seen->text, N4 ": unbinding from igb"), "%s", seen->text);
    run_op(ctx, HD_OP_REATTACH, devs);
    ck_assert_uint_gt(seen->lines, 10);
    ck_assert_uint_eq(seen->elsewhere, 0);
    char *now = hs_snapshot(&e.fx, all);
    ck_assert_str_eq(now, before);
    free(now);
    free(before);
    hd_ctx_unref(ctx);
    free(seen);
}
END_TEST
