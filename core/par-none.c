/* par-none.c - the build without threads (HOSTDEV_NO_THREADS, the static early-boot binary):
 * a batch's chains run one after another in the caller's thread (par.c), and timed writes
 * need no lock of a run (no context gets a fork guard). */
#include "internal.h"

bool hd_par_run(struct hd_ctx *ctx, struct hd_par_plan *plan)
{
    (void)ctx;
    (void)plan;
    return false;
}
