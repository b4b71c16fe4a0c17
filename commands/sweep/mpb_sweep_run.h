/* `mpiblend sweep`: every grid point of a config's sweep section written in
 * passes that read the inputs once each (docs/SWEEP.md).  Collective. */
#ifndef MPB_SWEEP_RUN_H
#define MPB_SWEEP_RUN_H

#include "mpb_error.h"
#include "mpb_run.h"

#include <mpi.h>
#include <stddef.h>

typedef struct mpb_sweep_opts {
    mpb_run_opts run;
    size_t max_outputs; /* points per pass; 0: all in one pass */
} mpb_sweep_opts;

int mpb_sweep_run(const char *config_path, const char *out_dir, const mpb_sweep_opts *opts,
                  MPI_Comm comm, mpb_error *err);

#endif
