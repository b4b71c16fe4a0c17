/* The inputs' bytes a rank holds between the statistics passes over a batch
 * of tensors and their blend, so that each input is read once
 * (--memory-mib, docs/TUNING.md).  A rank holds its items of the batch in
 * plan order while they fit in the budget; the rest are read again by each
 * pass that needs them. */
#ifndef MPB_MERGE_HOLD_H
#define MPB_MERGE_HOLD_H

#include "mpb_plan.h"
#include "mpb_store.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct mpb_held_item {
    uint32_t tensor;
    uint64_t row0;
    uint64_t at; /* where its input slabs start in the arena, input after input */
    bool filled; /* read by an earlier pass */
} mpb_held_item;

typedef struct mpb_merge_hold {
    size_t n_inputs;
    size_t n;
    mpb_held_item *items; /* by (tensor, row0), as the plan orders them */
    unsigned char *arena;
    uint64_t bytes;
} mpb_merge_hold;

/* Bytes one item of the index takes for every input. */
uint64_t mpb_merge_hold_item_bytes(const mpb_index *idx, const mpb_item *it, size_t n_inputs);

/* The holding rule, one item at a time in plan order: an item is held
 * when it fits beside what its rank holds already (*used, advanced when
 * it is).  mpb_merge_hold_begin and the dry run both apply it. */
bool mpb_merge_hold_takes(uint64_t *used, uint64_t need, uint64_t budget);

/* Chooses and allocates this rank's held items among batch's (a plan of
 * whole tensors) within budget bytes. */
int mpb_merge_hold_begin(mpb_merge_hold *h, const mpb_plan *batch, const mpb_index *idx,
                         size_t n_inputs, int rank, uint64_t budget, mpb_error *err);
void mpb_merge_hold_end(mpb_merge_hold *h);

/* A step's reads of one item, queued as mpb_drive_read queues them: every
 * input i with want[i] (every input when want is NULL) unless the item is
 * held and already read, into its held slab or else into bufs[i] + at (the
 * step's round buffers).  Adds the bytes queued to *bytes_read.  hold may
 * be NULL (nothing held). */
int mpb_merge_hold_read(mpb_merge_hold *hold, mpb_store inputs[], size_t n_inputs,
                        const bool *want, const mpb_index *idx, const mpb_item *it,
                        void *const bufs[], uint64_t at, uint64_t *bytes_read, mpb_error *err);

/* Where the item's input slabs are once the reads are flushed: slab[i]. */
void mpb_merge_hold_where(const mpb_merge_hold *hold, size_t n_inputs, const mpb_index *idx,
                          const mpb_item *it, void *const bufs[], uint64_t at, void *slab[]);

#endif
