/* Checkpoint stores behind one table of operations, one backend per file
 * (mpb_store_h5.c, ...), so that the driver never knows the format.
 *
 * Collective (every rank, same order, same arguments): open, create, set_attr,
 * close.  read_rows/write_rows are collective when opts.collective is set (a
 * rank with nothing to move passes nrows = 0), independent otherwise.
 * read_index is serial: rank 0 alone calls it. */
#ifndef MPB_STORE_H
#define MPB_STORE_H

#include "mpb_error.h"
#include "mpb_index.h"

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

/* Every I/O tuning knob; docs/TUNING.md explains each one. */
typedef struct mpb_io_opts {
    bool collective;          /* --io collective|independent */
    uint64_t align_threshold; /* datasets at least this large ... */
    uint64_t alignment;       /* ... start on a multiple of this (--align-kib) */
} mpb_io_opts;

typedef struct mpb_store_ops {
    const char *name;
    int (*read_index)(const char *path, mpb_index *idx, mpb_error *err);
    int (*open)(const char *path, MPI_Comm comm, const mpb_index *idx,
                const mpb_io_opts *opts, void **handle, mpb_error *err);
    int (*create)(const char *path, MPI_Comm comm, const mpb_index *idx,
                  const mpb_io_opts *opts, void **handle, mpb_error *err);
    int (*read_rows)(void *handle, size_t tensor, uint64_t row0, uint64_t nrows,
                     void *buf, mpb_error *err);
    int (*write_rows)(void *handle, size_t tensor, uint64_t row0, uint64_t nrows,
                      const void *buf, mpb_error *err);
    int (*set_attr)(void *handle, const char *key, const char *value, mpb_error *err);
    int (*close)(void *handle, mpb_error *err);
} mpb_store_ops;

extern const mpb_store_ops mpb_store_hdf5;

/* The backend that reads `path` (a folder or *.safetensors: safetensors,
 * anything else: HDF5). */
const mpb_store_ops *mpb_store_for_path(const char *path);

/* An open store: its backend and handle. */
typedef struct mpb_store {
    const mpb_store_ops *ops;
    void *handle;
} mpb_store;

#endif
