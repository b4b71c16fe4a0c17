/* `mpiblend verify OUT [--config CONFIG.yaml] [--sample N]`: checks that a
 * merged checkpoint holds what its merge should have written
 * (docs/RELIABILITY.md):
 *
 *   - the data checksum stored in OUT (mpiblend_checksum) against its data;
 *   - with --config, the input checksums OUT recorded
 *     (mpiblend_input_checksums) against the inputs now: unchanged inputs;
 *   - with --config, N elements per tensor (the first, the last and random
 *     others) recomputed one at a time from the inputs with the merge's own
 *     recipe and kernels, compared bit for bit.  This needs no MPI-IO, no
 *     plan and no slabs, so it checks the parallel write path independently.
 *     Methods: those the registry marks verifiable (blend/mpb_registry.h).
 *
 * Collective: tensors are shared out over the ranks round robin; each rank
 * reads its tensors with independent transfers; rank 0 prints the report. */
#ifndef MPB_VERIFY_H
#define MPB_VERIFY_H

#include "mpb_error.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#define MPB_VERIFY_SAMPLE_DEFAULT 64

/* config_path may be NULL (checksum only).  Returns MPB_OK when every check
 * that could run passed and at least one ran; the report goes to `out` on
 * rank 0. */
int mpb_verify_run(const char *out_path, const char *config_path, uint64_t sample, FILE *out,
                   MPI_Comm comm, mpb_error *err);

#endif
