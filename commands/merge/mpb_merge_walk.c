#include "mpb_merge_walk.h"

#include "mpb_merge_stats.h"

/* After each batch's statistics (hold: its inputs), or for the tensors
 * without statistics (hold NULL). */
static int walk_batch(void *ctx, const mpb_plan *batch, mpb_merge_hold *hold, mpb_error *err)
{
    mpb_merge_walk *w = ctx;
    w->hold = hold;
    int rc =
        mpb_drive(batch, &w->recipes[0]->in_idx, w->comm, &w->drive, w->step, w->step_ctx, err);
    w->drive.progress_before += batch->rank_bytes[0];
    w->hold = NULL;
    return rc;
}

int mpb_merge_walk_body(void *ctx, const mpb_drive_opts *drive, MPI_Comm comm, mpb_error *err)
{
    mpb_merge_walk *w = ctx;
    const mpb_plan *plan = w->plan;
    w->drive = *drive;
    w->comm = comm;
    w->drive.min_elem_size = w->recipes[0]->min_elem_size;
    w->drive.progress_rank0_total = plan->rank_bytes[0];
    for (int k = 0; k < plan->nranks; k++)
        w->drive.progress_job_total += plan->rank_bytes[k];
    return mpb_merge_stats_run(w->recipes, w->n_recipes, plan, w->inputs, w->bufs, w->opts,
                               comm, walk_batch, w, &w->bytes_read, err);
}

uint64_t mpb_merge_walk_bytes_read(const mpb_merge_walk *w, MPI_Comm comm)
{
    unsigned long long mine = w->bytes_read, total = 0;
    MPI_Allreduce(&mine, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm);
    return total;
}
