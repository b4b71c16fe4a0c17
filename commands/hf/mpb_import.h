/* `mpiblend import SOURCE OUT.h5`: a Hugging Face folder (one file, or
 * shards with model.safetensors.index.json) or a single safetensors file
 * of any name, into mpiblend's HDF5 format, tensors byte for byte, spread
 * over the ranks; the folder's non-tensor files are stored inside the HDF5
 * file.  Collective. */
#ifndef MPB_IMPORT_H
#define MPB_IMPORT_H

#include "mpb_error.h"
#include "mpb_run.h"

#include <mpi.h>

int mpb_import_run(const char *source, const char *out_path, const mpb_run_opts *opts,
                   MPI_Comm comm, mpb_error *err);

#endif
