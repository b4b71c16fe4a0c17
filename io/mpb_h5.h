/* mpiblend's HDF5 checkpoint format (docs/FORMAT.md): one dataset per tensor
 * at the root, named exactly as the Hugging Face tensor, contiguous, aligned.
 *
 * Which calls are collective (every rank of the communicator, same order,
 * same arguments): mpb_h5_create, mpb_h5_open, mpb_h5_close,
 * mpb_h5_set_attr, and mpb_h5_flush when the file was opened with
 * collective transfers.  mpb_h5_read_rows and mpb_h5_write_rows are local:
 * with collective transfers they queue contiguous tensors' rows for the
 * next flush (the buffer must stay valid until then).  mpb_h5_read_index is
 * serial: one rank, no MPI. */
#ifndef MPB_H5_H
#define MPB_H5_H

#include "mpb_error.h"
#include "mpb_index.h"
#include "mpb_store.h"

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

#define MPB_FORMAT_NAME "mpiblend-checkpoint"
#define MPB_FORMAT_VERSION 1
#define MPB_FORMAT_ATTR "mpiblend_format"
#define MPB_FORMAT_VERSION_ATTR "mpiblend_format_version"
/* Root groups are not tensors; this one holds a model's non-tensor files. */
#define MPB_FILES_GROUP "hf_files"

typedef struct mpb_h5_file mpb_h5_file;

/* Silences HDF5's own error printing; mpiblend reports through mpb_error. */
void mpb_h5_quiet(void);

int mpb_h5_read_index(const char *path, mpb_index *idx, mpb_error *err);

/* Creates `path` (it must not exist) with one dataset per tensor of idx, in
 * index order, and keeps them open for writing. */
int mpb_h5_create(const char *path, MPI_Comm comm, const mpb_index *idx,
                  const mpb_io_opts *opts, mpb_h5_file **out, mpb_error *err);

/* Opens `path` read-only for reading the tensors of idx by name. */
int mpb_h5_open(const char *path, MPI_Comm comm, const mpb_index *idx, const mpb_io_opts *opts,
                mpb_h5_file **out, mpb_error *err);

int mpb_h5_read_rows(mpb_h5_file *f, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                     mpb_error *err);
int mpb_h5_write_rows(mpb_h5_file *f, size_t tensor, uint64_t row0, uint64_t nrows,
                      const void *buf, mpb_error *err);

/* Collective transfers: moves every queued row range of every rank in one
 * MPI-IO call per rank; a rank with none, or after a failure, still calls.
 * Independent transfers: nothing to do. */
int mpb_h5_flush(mpb_h5_file *f, mpb_error *err);

/* A string attribute on the root group. */
int mpb_h5_set_attr(mpb_h5_file *f, const char *key, const char *value, mpb_error *err);

/* Closes and frees; returns the first error.  f may be NULL. */
int mpb_h5_close(mpb_h5_file *f, mpb_error *err);

#endif
