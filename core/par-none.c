/* par-none.c - the build without threads (HOSTDEV_NO_THREADS, the static early-boot binary):
 * a batch's chains run one after another in the caller's thread (par.c), and timed writes
 * need no lock of a run. */
#include <unistd.h>

#include "internal.h"

bool hd_par_run(struct hd_ctx *ctx, struct hd_par_plan *plan)
{
    (void)ctx;
    (void)plan;
    return false;
}

void hd_par_fork_lock(struct hd_ctx *ctx)
{
    (void)ctx;
}

void hd_par_fork_unlock(struct hd_ctx *ctx, int pipe_fd)
{
    (void)ctx;
    (void)pipe_fd;
}

void hd_par_pipe_close(struct hd_ctx *ctx, int pipe_fd)
{
    (void)ctx;
    close(pipe_fd);
}

void hd_par_close_pipes(struct hd_ctx *ctx)
{
    (void)ctx;
}
