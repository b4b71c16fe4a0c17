/* `mpiblend diff A B [--tolerance T]`: compares the tensor data of two
 * checkpoints (docs/RELIABILITY.md).  Per tensor: how many elements differ
 * in their stored bits, the largest absolute difference and the largest
 * distance in units in the last place of the stored dtype.  Root
 * attributes (provenance, creation time) are not compared.
 *
 * Distributed like a merge: the plan splits tensors into slabs, every rank
 * reads its slabs of both files, and the statistics meet on rank 0, which
 * prints one line per differing tensor and a summary.  Collective. */
#ifndef MPB_DIFF_H
#define MPB_DIFF_H

#include "mpb_error.h"
#include "mpb_run.h"

#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>

/* MPB_OK when the files hold the same tensors with identical data, or, with
 * has_tolerance, when no tensor's largest absolute difference exceeds
 * tolerance (and no NaN stands against a number).  Otherwise MPB_EINVAL
 * with a summary; tensors that are not in both files, or differ in shape or
 * dtype, fail with a message naming the tensor and both files. */
int mpb_diff_run(const char *a, const char *b, bool has_tolerance, double tolerance,
                 const mpb_run_opts *opts, FILE *out, MPI_Comm comm, mpb_error *err);

#endif
