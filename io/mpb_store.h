/* Checkpoint stores behind one table of operations, one backend per file
 * (mpb_store_h5.c, ...), so that the driver never knows the format.
 *
 * Collective (every rank, same order, same arguments): open, create, set_attr,
 * close, and flush when opts.collective is set.  read_rows/write_rows are
 * always local calls: with opts.collective a backend may only queue a
 * transfer there, and buf must then stay valid (and, for a read, unread)
 * until the next flush, which moves every queued transfer of every rank in
 * one collective call per file.
 * read_index, read_files and write_files are serial: rank 0 alone calls
 * them (write_files after close, on the temporary output). */
#ifndef MPB_STORE_H
#define MPB_STORE_H

#include "mpb_error.h"
#include "mpb_hf_files.h"
#include "mpb_index.h"

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

/* An MPI-IO hint (ROMIO/OMPIO: cb_nodes, cb_buffer_size, striping_unit,
 * ...) for every HDF5 file mpiblend opens (mpb_io_hints.h). */
#define MPB_IO_MAX_HINTS 32
typedef struct mpb_io_hint {
    char key[64];
    char value[192];
} mpb_io_hint;

/* Who moves a collective round's blocks (--aggregate).  AUTO becomes ON or
 * OFF once, collectively, before any file opens (mpb_io_aggregation_settle). */
typedef enum mpb_io_aggregation {
    MPB_AGGREGATE_AUTO = 0, /* OFF when every rank shares one node, else ON */
    MPB_AGGREGATE_ON,       /* the MPI-IO library's collective call: it may aggregate */
    MPB_AGGREGATE_OFF,      /* each rank's block in an individual call */
} mpb_io_aggregation;

/* Every I/O tuning knob; docs/TUNING.md explains each one. */
typedef struct mpb_io_opts {
    bool collective;                /* --io collective|independent */
    mpb_io_aggregation aggregation; /* --aggregate auto|on|off, rounds only */
    uint64_t align_threshold;       /* datasets at least this large ... */
    uint64_t alignment;             /* ... start on a multiple of this (--align-kib) */
    uint64_t shard_bytes;           /* safetensors outputs: largest shard (--shard-size) */
    size_t n_hints;                 /* --mpi-hint, --mpi-hints-file */
    mpb_io_hint hints[MPB_IO_MAX_HINTS];
} mpb_io_opts;

/* Hugging Face's default shard size (huggingface_hub, mergekit): 5 GB. */
#define MPB_STORE_SHARD_DEFAULT 5000000000ull

typedef struct mpb_store_ops {
    const char *name;
    bool folder; /* outputs are folders, renamed into place as a whole */
    int (*read_index)(const char *path, mpb_index *idx, mpb_error *err);
    int (*open)(const char *path, MPI_Comm comm, const mpb_index *idx, const mpb_io_opts *opts,
                void **handle, mpb_error *err);
    int (*create)(const char *path, MPI_Comm comm, const mpb_index *idx,
                  const mpb_io_opts *opts, void **handle, mpb_error *err);
    int (*read_rows)(void *handle, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                     mpb_error *err);
    int (*write_rows)(void *handle, size_t tensor, uint64_t row0, uint64_t nrows,
                      const void *buf, mpb_error *err);
    /* Moves the transfers read_rows/write_rows queued; collective with
     * opts.collective (a rank with none, or after a failure, still joins,
     * moving nothing).  NULL when every transfer happens at once. */
    int (*flush)(void *handle, mpb_error *err);
    int (*set_attr)(void *handle, const char *key, const char *value, mpb_error *err);
    int (*close)(void *handle, mpb_error *err);
    /* The model's non-tensor files (config, tokenizer); none is not an error. */
    int (*read_files)(const char *path, mpb_hf_files *files, mpb_error *err);
    /* Stores them in a closed output that holds the tensors of idx. */
    int (*write_files)(const char *path, const mpb_index *idx, const mpb_hf_files *files,
                       mpb_error *err);
} mpb_store_ops;

extern const mpb_store_ops mpb_store_hdf5;
extern const mpb_store_ops mpb_store_safetensors;

/* The backend that reads `path` (a folder or *.safetensors: safetensors,
 * anything else: HDF5). */
const mpb_store_ops *mpb_store_for_path(const char *path);

/* The backend named `name` ("hdf5", "safetensors"), or NULL. */
const mpb_store_ops *mpb_store_by_name(const char *name);

/* An open store: its backend and handle. */
typedef struct mpb_store {
    const mpb_store_ops *ops;
    void *handle;
} mpb_store;

/* ops->flush on each of n stores, in order (collective like flush). */
int mpb_store_flush(mpb_store *stores, size_t n, mpb_error *err);

#endif
