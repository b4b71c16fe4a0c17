/* The body of a job that blends recipes of the same inputs (a merge: one;
 * a sweep pass: its points): the tensors that need whole-tensor statistics
 * batch by batch (statistics over the inputs held for the batch, then the
 * step over the batch's items), then the others in one drive.  Progress
 * runs once over the whole plan. */
#ifndef MPB_MERGE_WALK_H
#define MPB_MERGE_WALK_H

#include "mpb_job.h"
#include "mpb_merge_hold.h"
#include "mpb_merge_setup.h"

typedef struct mpb_merge_walk {
    mpb_merge_recipe *const *recipes;
    size_t n_recipes;
    const mpb_plan *plan;
    mpb_store *inputs; /* open, in input order */
    void **bufs;       /* one round's slabs per input */
    const mpb_run_opts *opts;
    mpb_round_fn step; /* reads through mpb_merge_hold_read with hold */
    void *step_ctx;
    /* Set while the walk runs. */
    mpb_merge_hold *hold; /* the current batch's held inputs, or NULL */
    mpb_drive_opts drive;
    MPI_Comm comm;
    uint64_t bytes_read; /* by this rank, statistics included */
} mpb_merge_walk;

/* An mpb_job_body_fn; ctx is the mpb_merge_walk.  Collective. */
int mpb_merge_walk_body(void *ctx, const mpb_drive_opts *drive, MPI_Comm comm, mpb_error *err);

/* Every rank's bytes read, summed.  Collective. */
uint64_t mpb_merge_walk_bytes_read(const mpb_merge_walk *w, MPI_Comm comm);

#endif
