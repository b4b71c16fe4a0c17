/* Copying a checkpoint from one store to another, tensor for tensor and
 * byte for byte, with its non-tensor files: the body of `import` and
 * `export`.  Collective. */
#ifndef MPB_COPY_H
#define MPB_COPY_H

#include "mpb_error.h"
#include "mpb_run.h"
#include "mpb_store.h"

#include <mpi.h>

/* Reads `src` with src_ops and writes `dst` with opts->out_store, spread
 * over the ranks by the plan; `what` names the command in progress lines. */
int mpb_copy_run(const char *what, const char *src, const mpb_store_ops *src_ops,
                 const char *dst, const mpb_run_opts *opts, MPI_Comm comm, mpb_error *err);

#endif
