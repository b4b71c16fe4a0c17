/* `mpiblend merge`: blend the inputs a config names into one checkpoint.
 * Collective: rank 0 reads the config and the inputs' indexes, validates
 * them and builds the plan; every rank then reads, blends and writes its
 * slabs. */
#ifndef MPB_MERGE_H
#define MPB_MERGE_H

#include "mpb_error.h"
#include "mpb_run.h"

#include <mpi.h>

int mpb_merge_run(const char *config_path, const char *out_path, const mpb_run_opts *opts,
                  MPI_Comm comm, mpb_error *err);

#endif
