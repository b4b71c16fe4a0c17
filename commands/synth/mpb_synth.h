/* `mpiblend synth`: a synthetic checkpoint with a public architecture's
 * tensor names and shapes, values ~ N(0, 0.02), the same bits for a seed
 * whatever the rank count.  Collective. */
#ifndef MPB_SYNTH_H
#define MPB_SYNTH_H

#include "mpb_dtype.h"
#include "mpb_error.h"
#include "mpb_run.h"

#include <mpi.h>

#define MPB_SYNTH_SIGMA 0.02f

int mpb_synth_run(const char *arch, uint64_t seed, mpb_dtype dtype, const char *out_path,
                  const mpb_run_opts *opts, MPI_Comm comm, mpb_error *err);

#endif
