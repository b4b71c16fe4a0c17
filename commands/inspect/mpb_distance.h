/* `mpiblend distance A B [C ...]`: how far apart checkpoints of one
 * architecture are, for every pair of them: relative L2 distance, cosine
 * similarity and the standard deviation of the element-wise difference,
 * per tensor, per module kind and overall (docs/OPERATIONS.md).
 *
 * Distributed like a merge: the plan splits tensors into row ranges, every
 * rank reads its rows of every input and keeps one set of sums per row; the
 * per-row sums meet on rank 0, which adds them up in row order, so the
 * result is the same bits for any number of ranks. */
#ifndef MPB_DISTANCE_H
#define MPB_DISTANCE_H

#include "mpb_distance_sums.h"
#include "mpb_error.h"
#include "mpb_index.h"
#include "mpb_run.h"

#include <mpi.h>
#include <stdio.h>

/* Scopes of the aggregate sums: the module kinds, then the whole model. */
#define MPB_DISTANCE_OVERALL MPB_KIND_COUNT

typedef struct mpb_distance_result {
    size_t n_inputs;
    const char *const *paths;
    mpb_index idx;       /* the floating-point tensors compared, by name */
    size_t n_skipped;    /* tensors of other dtypes (integers, bool, fp8) */
    size_t stride;       /* mpb_distance_stride(n_inputs) */
    double *tensor_sums; /* idx.n x stride */
    double scope_sums[MPB_KIND_COUNT + 1][MPB_DISTANCE_SUMS_CAP];
    uint64_t scope_numel[MPB_KIND_COUNT + 1];
    size_t scope_tensors[MPB_KIND_COUNT + 1];
} mpb_distance_result;

/* Collective.  The inputs must hold the same tensors (names, shapes, dtypes);
 * otherwise the error names the tensor and both files.  The sums are
 * complete on rank 0 only. */
int mpb_distance_compute(const char *const *paths, size_t n_inputs, const mpb_run_opts *opts,
                         MPI_Comm comm, mpb_distance_result *res, mpb_error *err);
void mpb_distance_free(mpb_distance_result *res);

typedef enum mpb_distance_format {
    MPB_DISTANCE_TABLE,
    MPB_DISTANCE_JSON,
    MPB_DISTANCE_CSV,
} mpb_distance_format;

/* Rank 0: the report in one of the three forms. */
int mpb_distance_print(FILE *out, const mpb_distance_result *res, mpb_distance_format fmt,
                       mpb_error *err);

/* Collective: compute, then rank 0 prints to `out`. */
int mpb_distance_run(const char *const *paths, size_t n_inputs, mpb_distance_format fmt,
                     const mpb_run_opts *opts, FILE *out, MPI_Comm comm, mpb_error *err);

#endif
