/* Disk space for an output, claimed before the data is written
 * (docs/RELIABILITY.md).  A full disk must fail early, on one rank and with
 * a message naming the output: inside HDF5 1.10.8 a failed metadata write
 * during the collective H5Fclose leaves the ranks waiting in different
 * barriers for ever.  Serial: rank 0 alone, no MPI, no HDF5. */
#ifndef MPB_SPACE_H
#define MPB_SPACE_H

#include "mpb_error.h"
#include "mpb_index.h"
#include "mpb_store.h"

#include <stdint.h>

/* An upper bound of the size of an HDF5 checkpoint holding the tensors of
 * idx with these options: the data, the alignment padding and the
 * metadata. */
uint64_t mpb_space_h5_estimate(const mpb_index *idx, const mpb_io_opts *opts);

/* Claims `bytes` of disk for the existing file `path` (the output named
 * `final_path` in messages) without changing its size: first a free-space
 * check, then fallocate(FALLOC_FL_KEEP_SIZE) where the file system supports
 * it.  On failure nothing stays claimed and the error names final_path, its
 * folder, the bytes needed and the bytes free. */
int mpb_space_reserve(const char *path, const char *final_path, uint64_t bytes, mpb_error *err);

/* The free-space check alone, for an output that is a folder (path, the
 * new folder, holds no blocks yet): its parent must have `bytes` free.  A
 * safetensors folder needs less than mpb_space_h5_estimate. */
int mpb_space_check(const char *path, const char *final_path, uint64_t bytes, mpb_error *err);

/* Returns the claimed blocks past the end of the file (after it was closed).
 * path may be NULL (an output that was never created): nothing to do. */
void mpb_space_release(const char *path);

#endif
