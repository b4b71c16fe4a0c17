/* Shared by the safetensors store files (mpb_store_st*.c) only. */
#ifndef MPB_STORE_ST_INTERNAL_H
#define MPB_STORE_ST_INTERNAL_H

#include "mpb_store.h"

#include <stdbool.h>
#include <stdint.h>

/* An open model: the data of every index tensor is a byte range of one of
 * the files, so rows move with plain pread/pwrite at known offsets. */
typedef struct mpb_st_store {
    char *path; /* the folder (or single file), for messages */
    const mpb_index *idx;
    bool writable;
    bool sync_dir; /* close flushes the folder's entries (rank 0 of an output) */
    size_t n_files;
    char **file_paths;
    int *fds;
    size_t *tensor_file;    /* per index tensor: which file */
    uint64_t *tensor_begin; /* per index tensor: absolute offset of its data */
} mpb_st_store;

/* A store with n_files unopened files (fds -1) and room for idx's tensors. */
mpb_st_store *mpb_st_store_new(const char *path, const mpb_index *idx, size_t n_files,
                               bool writable);
/* Opens file i (already named in file_paths) for reading or writing. */
int mpb_st_store_open_file(mpb_st_store *s, size_t i, mpb_error *err);
/* Flushes an output's files, closes and frees; s may be NULL. */
int mpb_st_store_close(mpb_st_store *s, mpb_error *err);

/* Makes a folder's entries durable (fsync of the folder itself). */
void mpb_st_sync_folder(const char *path);

/* Writing side (mpb_store_st_write.c). */
int mpb_st_store_create(const char *path, MPI_Comm comm, const mpb_index *idx,
                        const mpb_io_opts *opts, void **handle, mpb_error *err);
int mpb_st_store_write_files(const char *path, const mpb_index *idx, const mpb_hf_files *files,
                             mpb_error *err);

#endif
