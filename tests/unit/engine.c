/* engine.c - shared setup of the engine tests (see engine.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters-tree.h"
#include "engine.h"

void eng_start(struct eng *e, const char *spec)
{
    e->out = e->err = NULL;
    int r = strchr(spec, '\n') ? fx_mount_text(&e->fx, spec) : fx_mount(&e->fx, spec);

    ck_assert_msg(r == 0, "mount %s: %s", spec, e->fx.error);
    ck_assert_int_eq(hd_ctx_new(e->fx.root, &e->ctx), 0);
    ck_assert_int_eq(hd_ctx_set_names_file(e->ctx, ""), 0);
    hd_ctx_set_timeout_ms(e->ctx, 2000);
}

void eng_stop(struct eng *e)
{
    free(e->out);
    free(e->err);
    e->out = e->err = NULL;
    hd_ctx_unref(e->ctx);
    e->ctx = NULL;
    fx_umount(&e->fx);
}

struct hd_device *eng_dev(struct eng *e, const char *bdf)
{
    struct hd_pci_addr addr;
    struct hd_device *dev = NULL;

    ck_assert_int_eq(hd_pci_addr_parse(bdf, &addr), 0);
    ck_assert_msg(hd_device_open(e->ctx, &addr, &dev) == 0, "open %s: %s", bdf,
                  hd_ctx_last_error(e->ctx));
    return dev;
}

size_t eng_writes(struct eng *e)
{
    return fx_log_count(&e->fx, "write ");
}


int eng_vhostdev(struct fx *fx, char **out, char **err, const char *opts, const char *fmt,
                 va_list ap)
{
    char *args, *cmd;
    int rc;

    ck_assert(vasprintf(&args, fmt, ap) > 0);
    ck_assert(asprintf(&cmd, "HOSTDEV_NAMES=none %s/hostdev --root %s %s %s", at_build_dir(),
                       fx->root, opts, args) > 0);
    free(*out);
    free(*err);
    rc = at_run(cmd, out, err);
    free(cmd);
    free(args);
    return rc;
}

int eng_run(struct eng *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = eng_vhostdev(&e->fx, &e->out, &e->err, "", fmt, ap);
    va_end(ap);
    return rc;
}

pid_t eng_hostdev_start(struct fx *fx, const char *args)
{
    char *line;
    pid_t pid;

    ck_assert(asprintf(&line, "exec %s/hostdev --root %s --timeout 60000 %s >/dev/null 2>&1",
                       at_build_dir(), fx->root, args) > 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        _exit(127);
    }
    free(line);
    return pid;
}

void eng_recover(struct hd_ctx *ctx, const char *what)
{
    int r = -EBUSY;

    for (int tries = 0; r == -EBUSY && tries < 4000; tries++) {
        if ((r = hd_assign_recover(ctx, NULL)) == -EBUSY)
            usleep(5000);
    }
    ck_assert_msg(r == 0, "%s: recover: %s", what, hd_ctx_last_error(ctx));
}

void eng_put(struct eng *e, const char *rel, const char *text)
{
    FILE *f = fopen(fx_path(&e->fx, rel), "w");

    ck_assert_msg(f != NULL, "%s: %s", rel, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

size_t eng_journals(struct eng *e)
{
    DIR *d = opendir(fx_path(&e->fx, "run/hostdev/journal"));
    struct dirent *de;
    size_t n = 0;

    while (d != NULL && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

const char *eng_dead_journal(struct eng *e, const char *op, const char *text)
{
    int status;

    fflush(NULL);
    pid_t dead = fork();
    ck_assert_int_ge(dead, 0);
    if (dead == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(dead, &status, 0), dead);
    mkdir(fx_path(&e->fx, "run/hostdev"), 0755);
    mkdir(fx_path(&e->fx, "run/hostdev/journal"), 0700);
    snprintf(e->journal, sizeof(e->journal), "run/hostdev/journal/%s-%ld-1796351852346163696",
             op, (long)dead);
    eng_put(e, e->journal, text);
    return e->journal;
}

unsigned eng_node_mode(struct eng *e, const char *rel, uid_t *uid, gid_t *gid)
{
    struct stat st;

    ck_assert_msg(stat(fx_path(&e->fx, rel), &st) == 0, "%s: %s", rel, strerror(errno));
    *uid = st.st_uid;
    *gid = st.st_gid;
    return st.st_mode & 07777;
}

void eng_map_damaged(struct eng *e, const char *text, const char *why)
{
    struct hd_assignment_list *map = NULL;

    mkdir(fx_path(&e->fx, "run/hostdev"), 0755);
    mkdir(fx_path(&e->fx, "run/hostdev/map"), 0700);
    eng_put(e, "run/hostdev/map/assignments", text);
    ck_assert_int_eq(hd_assignment_list_new(e->ctx, &map), -EBADMSG);
    ck_assert_msg(strstr(hd_ctx_last_error(e->ctx), why) != NULL, "%s: %s", text,
                  hd_ctx_last_error(e->ctx));
}
