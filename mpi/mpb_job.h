/* What every writing command shares: the plan built on rank 0 and
 * broadcast, and one output written atomically through the driver.
 * Both functions are collective. */
#ifndef MPB_JOB_H
#define MPB_JOB_H

#include "mpb_driver.h"
#include "mpb_plan.h"
#include "mpb_progress.h"
#include "mpb_run.h"
#include "mpb_store.h"

#include <mpi.h>

int mpb_job_share_plan(const mpb_index *idx, uint64_t slab_bytes, size_t min_elem_size,
                       MPI_Comm comm, mpb_plan *plan, mpb_error *err);

typedef struct mpb_job_output {
    const char *path;          /* final name */
    const mpb_index *idx;      /* tensors to create */
    size_t n_attrs;            /* root attributes (provenance) */
    const char *const *attr_keys;
    const char *const *attr_values;
    mpb_store store;           /* open while the step runs: steps write here */
} mpb_job_output;

/* Creates out->path under a temporary name, runs the step over the plan,
 * and renames into place once every rank succeeded. */
int mpb_job_write(mpb_job_output *out, const mpb_plan *plan, size_t min_elem_size,
                  const mpb_run_opts *opts, mpb_progress *progress, mpb_step_fn step,
                  void *ctx, MPI_Comm comm, mpb_error *err);

#endif
