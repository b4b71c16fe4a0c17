/* One pass of a sweep: every input slab is read once and the slab of every
 * point in the pass is blended from it and written, one output buffer at a
 * time.  Collective. */
#ifndef MPB_SWEEP_PASS_H
#define MPB_SWEEP_PASS_H

#include "mpb_plan.h"
#include "mpb_progress.h"
#include "mpb_run.h"
#include "mpb_sweep_points.h"

#include <mpi.h>

/* Writes points[0..n) atomically (as mpiblend merge writes one output), each
 * with its checksum attribute; checksums[k] receives point k's
 * "crc32c:89abcdef".  Points of a method with whole-tensor statistics share
 * the inputs held for each batch (mpb_merge_walk.h).  *bytes_read (may be
 * NULL): what every rank read, summed. */
int mpb_sweep_pass_write(const mpb_merge_recipe *r, const mpb_plan *plan,
                         mpb_sweep_point *const points[], size_t n, const mpb_run_opts *opts,
                         mpb_progress *progress, char (*checksums)[32], uint64_t *bytes_read,
                         MPI_Comm comm, mpb_error *err);

#endif
