/* --dry-run output: the plan, the disk space it needs, a time estimate.
 * Rank 0 prints; the functions are not collective. */
#ifndef MPB_PLAN_PRINT_H
#define MPB_PLAN_PRINT_H

#include "mpb_plan.h"
#include "mpb_store.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Assumed aggregate throughput for the time estimate (docs/PERFORMANCE.md). */
#define MPB_ESTIMATE_BYTES_PER_SEC_PER_RANK 1.0e9

void mpb_plan_print(FILE *out, const mpb_plan *plan, const mpb_index *idx, size_t min_elem_size,
                    uint64_t bytes_read, uint64_t bytes_written, const char *out_path);

/* The transfer mode; with collective transfers the number of rounds
 * (mpb_plan_rounds) and who moves each round's blocks. */
void mpb_plan_print_io(FILE *out, const mpb_plan *plan, const mpb_index *idx,
                       size_t min_elem_size, const mpb_io_opts *io);

#endif
