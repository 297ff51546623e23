/* par-threads.c - the chains of a batch (par.c) on worker threads: at most HD_PAR_WORKERS,
 * each with a context of its own (hd_ctx_worker_new), taking the next chain when done with
 * one. Their log lines reach the caller's log function in the caller's thread (hostdev.h), as
 * they come; a timed write in a worker forks its writer under a lock of the run (sysfs.c).
 * par-none.c is the build without threads (HOSTDEV_NO_THREADS). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define HD_PAR_WORKERS 8

struct par_msg {
    struct par_msg *next;
    int priority;
    const char *file, *fn;
    int line;
    char *text;
};

struct hd_par {
    struct hd_par_plan *plan;
    pthread_mutex_t lock;   /* everything down to the messages */
    pthread_cond_t changed; /* a worker finished, or logged */
    size_t next, running;
    bool failed;
    struct par_msg *msgs, **tail;
    /* Timed writes fork a writer child each (sysfs.c): one fork at a time, and the read ends
     * of the result sockets open now, which a new writer closes (it must reach its own only). */
    pthread_mutex_t fork_lock;
    int pipes[HD_PAR_WORKERS];
};

static const struct hd_fork_guard fork_guard;

struct par_worker {
    struct hd_par *par;
    struct hd_ctx *ctx;
    pthread_t thread;
};

/* ---- workers -------------------------------------------------------------------------------- */

/* A worker's log line goes to the caller's thread, which logs it (hostdev.h: the log function
 * is called in the thread that made the call). */
static void relay_log(void *data, int priority, const char *file, int line, const char *fn,
                      const char *format, va_list args)
{
    struct hd_par *p = data;
    struct par_msg *m = calloc(1, sizeof(*m));

    if (m == NULL || vasprintf(&m->text, format, args) < 0) {
        free(m);
        return;
    }
    m->priority = priority;
    m->file = file;
    m->line = line;
    m->fn = fn;
    pthread_mutex_lock(&p->lock);
    *p->tail = m;
    p->tail = &m->next;
    pthread_cond_signal(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

static bool stopped(struct hd_par *p)
{
    pthread_mutex_lock(&p->lock);
    bool failed = p->failed;
    pthread_mutex_unlock(&p->lock);
    return failed;
}

static void *worker(void *arg)
{
    struct par_worker *w = arg;
    struct hd_par *p = w->par;

    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t c = p->failed ? p->plan->nchains : p->next;
        if (c < p->plan->nchains)
            p->next++;
        pthread_mutex_unlock(&p->lock);
        if (c >= p->plan->nchains)
            break;
        for (size_t k = p->plan->chain_start[c]; k < p->plan->chain_start[c + 1] && !stopped(p);
             k++) {
            struct hd_task *t = &p->plan->b->v[p->plan->order[k]];
            /* Nothing read yet: every step reads the device afresh first (and says so when it
             * went away meanwhile). */
            struct hd_device *dev = hd_device_new(w->ctx, hd_device_get_addr(t->dev));
            if (dev == NULL) {
                t->ran = true;
                t->result = -ENOMEM;
                hd_saved_error_save(w->ctx, &t->error, t->result);
            } else {
                hd_task_run(w->ctx, dev, t);
                hd_device_unref(dev);
            }
            if (t->result < 0) {
                pthread_mutex_lock(&p->lock);
                p->failed = true;
                pthread_mutex_unlock(&p->lock);
            }
        }
    }
    pthread_mutex_lock(&p->lock);
    p->running--;
    pthread_cond_signal(&p->changed);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* In the caller's thread until every worker is done: their log lines, as they come. */
static void wait_workers(struct hd_ctx *ctx, struct hd_par *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->running > 0 || p->msgs != NULL) {
        struct par_msg *m = p->msgs;
        if (m == NULL) {
            pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        p->msgs = NULL;
        p->tail = &p->msgs;
        pthread_mutex_unlock(&p->lock);
        while (m != NULL) {
            struct par_msg *next = m->next;
            hd_log(ctx, m->priority, m->file, m->line, m->fn, "%s", m->text);
            free(m->text);
            free(m);
            m = next;
        }
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
}

static bool run_threads(struct hd_ctx *ctx, struct hd_par *p)
{
    size_t n = p->plan->nchains < HD_PAR_WORKERS ? p->plan->nchains : HD_PAR_WORKERS;
    size_t started = 0;
    struct par_worker w[HD_PAR_WORKERS];

    for (size_t i = 0; i < n; i++) {
        w[i].par = p;
        if (hd_ctx_worker_new(ctx, &w[i].ctx) < 0)
            break;
        if (hd_ctx_get_log_fn(ctx) != NULL)
            hd_ctx_set_log_fn(w[i].ctx, relay_log, p);
        hd_ctx_set_par(w[i].ctx, p, &fork_guard);
        pthread_mutex_lock(&p->lock);
        p->running++;
        pthread_mutex_unlock(&p->lock);
        if (pthread_create(&w[i].thread, NULL, worker, &w[i]) != 0) {
            pthread_mutex_lock(&p->lock);
            p->running--;
            pthread_mutex_unlock(&p->lock);
            hd_ctx_unref(w[i].ctx);
            break;
        }
        started++;
    }
    if (started > 0)
        wait_workers(ctx, p);
    for (size_t i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        hd_ctx_unref(w[i].ctx);
    }
    return started > 0;
}

bool hd_par_run(struct hd_ctx *ctx, struct hd_par_plan *plan)
{
    struct hd_par p = {.plan = plan};
    bool ran;

    p.tail = &p.msgs;
    for (size_t i = 0; i < HD_PAR_WORKERS; i++)
        p.pipes[i] = -1;
    /* (Initializing these cannot fail on Linux.) */
    if (pthread_mutex_init(&p.lock, NULL) != 0)
        return false;
    pthread_cond_init(&p.changed, NULL);
    pthread_mutex_init(&p.fork_lock, NULL);
    ran = run_threads(ctx, &p);
    pthread_mutex_destroy(&p.fork_lock);
    pthread_cond_destroy(&p.changed);
    pthread_mutex_destroy(&p.lock);
    return ran;
}

/* ---- timed writes in a worker (gateway/sysfs.c, through the context's fork guard) ---------- */

static void fork_lock(struct hd_par *p)
{
    pthread_mutex_lock(&p->fork_lock);
}

static void fork_unlock(struct hd_par *p, int pipe_fd)
{
    for (size_t i = 0; pipe_fd >= 0 && i < HD_PAR_WORKERS; i++) {
        if (p->pipes[i] < 0) {
            p->pipes[i] = pipe_fd;
            break;
        }
    }
    pthread_mutex_unlock(&p->fork_lock);
}

static void pipe_close(struct hd_par *p, int pipe_fd)
{
    /* Not closed while a fork copies the list: the number could be reused meanwhile. */
    pthread_mutex_lock(&p->fork_lock);
    for (size_t i = 0; i < HD_PAR_WORKERS; i++) {
        if (p->pipes[i] == pipe_fd)
            p->pipes[i] = -1;
    }
    close(pipe_fd);
    pthread_mutex_unlock(&p->fork_lock);
}

static void close_pipes(struct hd_par *p)
{
    /* In the child: the list is as the forking thread (which held the lock) left it. */
    for (size_t i = 0; i < HD_PAR_WORKERS; i++) {
        if (p->pipes[i] >= 0)
            close(p->pipes[i]);
    }
}

static const struct hd_fork_guard fork_guard = {
    .lock = fork_lock,
    .unlock = fork_unlock,
    .pipe_close = pipe_close,
    .close_pipes = close_pipes,
};
