/* The collective driver: walks a plan and calls a step for every round.
 *
 * mpb_drive is collective.  With collective transfers every rank takes part
 * in every round of every tensor, in plan order; a rank with nothing to move
 * in a round gets item == NULL and must still make its collective calls
 * (with empty selections).  With independent transfers a rank visits only
 * its own items.  After a step fails, later collective rounds still reach
 * the step with failed == true so that it can take part with empty
 * selections; the ranks agree on success after every tensor (collective) or
 * at the end (independent). */
#ifndef MPB_DRIVER_H
#define MPB_DRIVER_H

#include "mpb_plan.h"

#include <mpi.h>
#include <stdbool.h>

typedef int (*mpb_step_fn)(void *ctx, size_t tensor, const mpb_item *item, bool failed,
                           mpb_error *err);

/* Called on rank 0 only, after each of its items, with bytes done by rank 0,
 * rank 0's total and every rank's total: rank 0's share stands for the job
 * (the plan balances bytes), good enough for progress lines. */
typedef void (*mpb_progress_fn)(void *ctx, uint64_t done, uint64_t total,
                                uint64_t plan_total, size_t tensors_done,
                                size_t tensors_total);

typedef struct mpb_drive_opts {
    bool collective;
    size_t min_elem_size; /* the plan's element sizing, for byte counts */
    mpb_progress_fn progress;
    void *progress_ctx;
} mpb_drive_opts;

int mpb_drive(const mpb_plan *plan, const mpb_index *idx, MPI_Comm comm,
              const mpb_drive_opts *opts, mpb_step_fn step, void *ctx, mpb_error *err);

#endif
