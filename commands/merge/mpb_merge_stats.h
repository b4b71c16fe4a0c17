/* Whole-tensor statistics of the merge methods, computed collectively over
 * the slabs that hold each tensor before the writing pass (docs/METHODS.md):
 * the row sums of methods whose coefficients come from them (registry:
 * sums_add, e.g. norms, dot products, cosines), the task family's
 * exact magnitude cuts (a two-level radix selection over the bit patterns of
 * |delta|) and L1 norms.  Floating sums are per row in double, in element
 * order, and then over rows in row order, so they do not depend on how the
 * plan split the tensor. */
#ifndef MPB_MERGE_STATS_H
#define MPB_MERGE_STATS_H

#include "mpb_merge_setup.h"
#include "mpb_plan.h"
#include "mpb_progress.h"
#include "mpb_run.h"
#include "mpb_store.h"

#include <mpi.h>

#include "mpb_merge_hold.h"

/* Called collectively after the statistics of each batch of tensors with
 * the batch's items (a plan of whole tensors) and the inputs this rank
 * holds for them; at the end once more with the tensors that need no
 * statistics (hold NULL), or with the whole plan when none does. */
typedef int (*mpb_merge_batch_fn)(void *ctx, const mpb_plan *batch, mpb_merge_hold *hold,
                                  mpb_error *err);

/* Collective.  Walks the tensors that need statistics in batches (those of
 * any of n_recipes recipes of the same inputs and plan: a sweep's points,
 * which share the batch's held inputs): reads
 * their inputs (open in inputs[], in input order) into the memory budget's
 * held slabs, or into bufs[] (the step's round buffers) when a rank's share
 * passes opts->memory_bytes, runs up to four passes over them, completes
 * the recipe (coefficients from sums, the task family's cuts, tie counts
 * and rescale factors) and hands the batch to then().  Adds the bytes this
 * rank read to *bytes_read. */
int mpb_merge_stats_run(mpb_merge_recipe *const recipes[], size_t n_recipes,
                        const mpb_plan *plan, mpb_store inputs[], void *bufs[],
                        const mpb_run_opts *opts, MPI_Comm comm, mpb_merge_batch_fn then,
                        void *then_ctx, uint64_t *bytes_read, mpb_error *err);

/* What the statistics will do under a memory budget, for the dry run. */
typedef struct mpb_merge_stats_outlook {
    int passes; /* over each batch, at most */
    size_t batches;
    uint64_t largest_share; /* input bytes of one rank's share of one batch */
    uint64_t held_bytes;    /* input bytes held: read once */
    uint64_t reread_bytes;  /* input bytes past the budget: read by every pass */
} mpb_merge_stats_outlook;

void mpb_merge_stats_describe(mpb_merge_recipe *const recipes[], size_t n_recipes,
                              const mpb_plan *plan, uint64_t budget,
                              mpb_merge_stats_outlook *o);

/* How many extra passes over the inputs the statistics take at most: 0 .. 4. */
int mpb_merge_stats_passes(const mpb_merge_recipe *r);

/* For the writing pass: elements equal to cut c (0: hi, 1: lo) of this
 * model that come before row0 of the tensor, row0 being an item start. */
uint64_t mpb_merge_stats_seen(const mpb_merge_sparse *sp, int c, uint64_t row0);

#endif
