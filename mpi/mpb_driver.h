/* The collective driver: walks a plan and hands a step its items a round
 * at a time.
 *
 * mpb_drive is collective.  With collective transfers the items move in the
 * rounds the plan gave them, bounded by bytes, not by tensors
 * (mpb_plan_rounds): every rank
 * takes part in every round, in order, even one in which it has nothing to
 * move (round->n == 0), because the step's flushes are collective.  With
 * independent transfers a rank visits only its own items, one per round.
 * After a step fails on a rank, its later rounds hold no items; the ranks
 * agree on success after every round, counting each round's vote
 * MPB_DRIVE_VOTE_LAG rounds later (collective), or at the end
 * (independent). */
#ifndef MPB_DRIVER_H
#define MPB_DRIVER_H

#include "mpb_plan.h"
#include "mpb_store.h"

#include <mpi.h>
#include <stdbool.h>

/* Rounds between casting a round's vote and counting it.  Open MPI's
 * nonblocking allreduce for few ranks reduces to rank 0 and sends the
 * result back when rank 0 next enters MPI, after its following round; a
 * lag of 2 lets every rank, not only rank 0, run a round ahead. */
#define MPB_DRIVE_VOTE_LAG 2

/* This rank's share of one round: its items, in plan order, and where each
 * one's rows start in the step's buffers (bytes, at the plan's sizing, so
 * that inputs and a wider output both fit). */
typedef struct mpb_round {
    size_t n;
    const mpb_item *const *items;
    const uint64_t *at;
} mpb_round;

/* Where item k of a round starts in one of the step's buffers. */
static inline void *mpb_round_buf(void *buf, const mpb_round *round, size_t k)
{
    return (unsigned char *)buf + round->at[k];
}

/* One round: read every item into the buffers at at[k] (read_rows only
 * queues with collective transfers), mpb_store_flush the inputs, compute,
 * write every item, flush the outputs.  The flushes happen even when n is
 * 0 or after a failure. */
typedef int (*mpb_round_fn)(void *ctx, const mpb_round *round, mpb_error *err);

/* A step's transfer of one item's rows (queued with collective transfers).
 * Nothing moves once the step has failed on this rank; the round's flushes
 * still happen, so no partner waits. */
int mpb_drive_read(mpb_store *in, const mpb_item *it, void *buf, mpb_error *err);
int mpb_drive_write(mpb_store *out, const mpb_item *it, const void *buf, mpb_error *err);

/* Called on rank 0 only, after each of its items, with bytes done by rank 0,
 * rank 0's total and every rank's total: rank 0's share stands for the job
 * (the plan balances bytes), good enough for progress lines. */
typedef void (*mpb_progress_fn)(void *ctx, uint64_t done, uint64_t total, uint64_t plan_total,
                                size_t tensors_done, size_t tensors_total);

typedef struct mpb_drive_opts {
    bool collective;
    size_t min_elem_size; /* the plan's element sizing (with the index the
                             plan was built from) */
    mpb_progress_fn progress;
    void *progress_ctx;
    /* When several drives make one job: what rank 0 moved in the earlier
     * drives, and rank 0's and every rank's totals over the job (0: this
     * plan's), so that progress runs once from 0 to 100%. */
    uint64_t progress_before, progress_rank0_total, progress_job_total;
} mpb_drive_opts;

int mpb_drive(const mpb_plan *plan, const mpb_index *idx, MPI_Comm comm,
              const mpb_drive_opts *opts, mpb_round_fn step, void *ctx, mpb_error *err);

/* Bytes each buffer of a step must hold: the largest item, or with
 * collective transfers a whole round (mpb_plan_round_budget). */
uint64_t mpb_drive_buffer_bytes(const mpb_plan *plan, const mpb_index *idx,
                                size_t min_elem_size, bool collective);

#endif
