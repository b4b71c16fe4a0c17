/* Resume's proof that a point recorded as done still holds what was
 * written: its data checksum, recomputed now, every rank reading a share of
 * the tensors (docs/RELIABILITY.md, "Durable outputs"). */
#ifndef MPB_SWEEP_RECHECK_H
#define MPB_SWEEP_RECHECK_H

#include "mpb_error.h"

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

/* Collective.  For each of the n outputs whose expected[k] is not empty
 * ("crc32c:..." from the manifest), intact[k] tells whether the data
 * checksum recomputed from paths[k] equals it; an output that cannot be
 * read is not intact.  Others get intact[k] = false.  Fails only when out
 * of memory. */
int mpb_sweep_recheck(const char *const *paths, const char (*expected)[32], size_t n,
                      bool *intact, MPI_Comm comm, mpb_error *err);

#endif
