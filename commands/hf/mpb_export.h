/* `mpiblend export IN OUT_DIR`: a checkpoint (HDF5, or a Hugging Face
 * folder to re-shard) into a new Hugging Face folder: safetensors shards of
 * at most opts->io.shard_bytes with model.safetensors.index.json, written
 * in parallel, plus the stored non-tensor files with config.json's
 * torch_dtype set to the tensors' dtype.  The folder appears complete or
 * not at all.  Collective. */
#ifndef MPB_EXPORT_H
#define MPB_EXPORT_H

#include "mpb_error.h"
#include "mpb_run.h"

#include <mpi.h>
#include <stdint.h>

int mpb_export_run(const char *in_path, const char *out_dir, const mpb_run_opts *opts,
                   MPI_Comm comm, mpb_error *err);

/* "5GB" (10^9), "500MB", "2GiB" (2^30), "1000" (bytes): Hugging Face's
 * max_shard_size spellings, whole numbers only.  -1 when malformed or 0. */
int mpb_export_parse_size(const char *text, uint64_t *bytes);

#endif
