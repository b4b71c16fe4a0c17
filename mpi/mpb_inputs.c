#include "mpb_inputs.h"

#include "mpb_comm.h"
#include "mpb_config.h" /* MPB_MAX_INPUTS */
#include "mpb_job.h"
#include "mpb_safetensors.h"

#include <string.h>

int mpb_inputs_read_indexes(const char *const *paths, size_t n, MPI_Comm comm, mpb_index *own,
                            mpb_error *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(own, 0, n * sizeof *own);
    for (size_t i = 0; i < n; i++)
        if ((size_t)rank == i % (size_t)size && err->code == MPB_OK)
            mpb_store_for_path(paths[i])->read_index(paths[i], &own[i], err);
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++)
        rc = mpb_job_share_index(&own[i], (int)(i % (size_t)size), comm, err);
    return mpb_comm_agree(err, comm);
}

int mpb_inputs_share_index(const char *const *paths, size_t n, MPI_Comm comm, mpb_index *idx,
                           mpb_index *own, mpb_error *err)
{
    if (n == 0 || n > MPB_MAX_INPUTS)
        return mpb_fail(err, MPB_EINVAL, "%zu input checkpoints given (1 to %d)", n,
                        MPB_MAX_INPUTS);
    mpb_index scratch[MPB_MAX_INPUTS];
    mpb_index *all = own ? own : scratch;
    int rc = mpb_inputs_read_indexes(paths, n, comm, all, err);
    /* Every rank holds every index: the same check gives the same verdict. */
    for (size_t i = 1; i < n && rc == MPB_OK; i++)
        rc = mpb_index_check_same(&all[0], paths[0], &all[i], paths[i], err);
    if (rc == MPB_OK)
        rc = mpb_index_copy(idx, &all[0], err);
    if (own == NULL || rc != MPB_OK)
        for (size_t i = 0; i < n; i++)
            mpb_index_free(&all[i]);
    return mpb_comm_agree(err, comm);
}

void mpb_inputs_close(mpb_store *stores, size_t n, mpb_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (stores[i].handle == NULL)
            continue;
        mpb_error close_err = {0};
        stores[i].ops->close(stores[i].handle, &close_err);
        stores[i].handle = NULL;
        if (err->code == MPB_OK && close_err.code != MPB_OK)
            *err = close_err;
    }
}

int mpb_inputs_open(const char *const *paths, size_t n, const mpb_index *idx,
                    const mpb_index *own, const mpb_io_opts *io, MPI_Comm comm,
                    mpb_store *stores, mpb_error *err)
{
    memset(stores, 0, n * sizeof *stores);
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        stores[i].ops = mpb_store_for_path(paths[i]);
        stores[i].ops->open(paths[i], comm, own ? &own[i] : idx, io, &stores[i].handle, err);
        rc = mpb_comm_agree(err, comm);
    }
    if (rc != MPB_OK) {
        mpb_inputs_close(stores, n, err);
        memset(stores, 0, n * sizeof *stores);
    }
    return rc;
}

void mpb_inputs_note_ignored(FILE *out, const char *path)
{
    char names[1024];
    mpb_error err = {0};
    if (mpb_store_for_path(path) == &mpb_store_safetensors &&
        mpb_st_ignored_files(path, names, sizeof names, &err) == MPB_OK && names[0])
        fprintf(out, "note: %s: not read, because its index does not list them: %s\n", path,
                names);
}
