/* The partition plan: which rank moves which rows of which tensor.
 *
 * Pure computation (no MPI calls): rank 0 builds it and broadcasts it; any
 * rank could rebuild the same plan from the same index. */
#ifndef MPB_PLAN_H
#define MPB_PLAN_H

#include "mpb_error.h"
#include "mpb_index.h"

#include <stdint.h>

/* No single H5Dread/H5Dwrite may move more than this (HDF5 1.10 + MPI-IO). */
#define MPB_MAX_TRANSFER_BYTES (1ull << 30)

typedef struct mpb_item {
    uint32_t tensor; /* position in the index */
    uint32_t rank;
    uint32_t round; /* the collective round that moves it */
    uint64_t row0;
    uint64_t nrows;
} mpb_item;

typedef struct mpb_plan {
    int nranks;
    uint64_t slab_bytes;
    size_t n_items;
    mpb_item *items;      /* ordered by (tensor, row0) */
    uint64_t *rank_bytes; /* bytes each rank moves per stream */
    uint64_t *rank_items;
} mpb_plan;

/* Cuts the tensors' rows, in index order and sized at max(dtype size,
 * min_elem_size) so that a wider output dtype still fits, into stretches of
 * about equal bytes, ceil(total / (ranks x slab)) per rank, each under a
 * slab plus a row.  Stretch j goes to rank j mod P
 * in round j / P; an item is one tensor's rows within one stretch.  Every
 * element is covered once, a rank's share of a round is consecutive tensors
 * (one contiguous range of a file that stores them in index order, apart
 * from tensors HDF5 placed elsewhere), and rank loads are equal to within
 * about a row per round. */
int mpb_plan_build(const mpb_index *idx, int nranks, uint64_t slab_bytes, size_t min_elem_size,
                   mpb_plan *plan, mpb_error *err);
void mpb_plan_free(mpb_plan *plan);

/* The position in plan->items of the item that starts at it's (tensor,
 * row0), for an item copied into a sub-plan; n_items when there is none. */
size_t mpb_plan_item_index(const mpb_plan *plan, const mpb_item *it);

/* Bytes of an item at the plan's element sizing. */
uint64_t mpb_item_bytes(const mpb_index *idx, const mpb_item *it, size_t min_elem_size);

/* Largest item in bytes: the size of each buffer a rank needs. */
uint64_t mpb_plan_max_item_bytes(const mpb_plan *plan, const mpb_index *idx,
                                 size_t min_elem_size);

/* Collective transfers move a round at a time.  The most bytes (at the
 * plan's sizing) one rank moves in one round: under the slab plus one row,
 * and never over the 1 GiB one MPI-IO call may move.  It is also the size
 * of each buffer a step needs. */
uint64_t mpb_plan_round_budget(const mpb_plan *plan, const mpb_index *idx,
                               size_t min_elem_size);

/* The rounds: round_of[i] gets item i's round (round_of may be NULL),
 * numbered from 0 over the rounds the plan's items are in (a subset of a
 * plan's items, such as one statistics pass, skips the rounds it has no
 * item in), *n_rounds their number (0 for no items): at most about
 * ceil(total bytes / (ranks x slab)) + 1. */
int mpb_plan_rounds(const mpb_plan *plan, const mpb_index *idx, size_t min_elem_size,
                    uint32_t *round_of, size_t *n_rounds, mpb_error *err);

#endif
