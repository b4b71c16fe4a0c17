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

/* Collective.  Reads the inputs (open in inputs[], in input order) into
 * bufs[] (one slab of the plan's largest item per input) as often as the
 * method needs and completes the recipe: the coefficients from sums, the
 * task family's cuts, tie counts and rescale factors.
 * The writing pass must use the same plan.  Does nothing for methods
 * without whole-tensor statistics.  Adds the bytes the passes read (the same
 * number on every rank) to *bytes_read. */
int mpb_merge_stats_run(mpb_merge_recipe *r, const mpb_plan *plan, mpb_store inputs[],
                        void *bufs[], const mpb_run_opts *opts, mpb_progress *progress,
                        MPI_Comm comm, uint64_t *bytes_read, mpb_error *err);

/* How many extra passes over the inputs the statistics take at most: 0 .. 3. */
int mpb_merge_stats_passes(const mpb_merge_recipe *r);

/* For the writing pass: elements equal to cut c (0: hi, 1: lo) of this
 * model that come before row0 of the tensor, row0 being an item start. */
uint64_t mpb_merge_stats_seen(const mpb_merge_sparse *sp, int c, uint64_t row0);

#endif
