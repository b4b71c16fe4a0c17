#include "mpb_inputs.h"

#include "mpb_comm.h"
#include "mpb_job.h"

#include <string.h>

/* Rank 0 only. */
static int read_all(const char *const *paths, size_t n, mpb_index *idx, mpb_error *err)
{
    int rc = mpb_store_for_path(paths[0])->read_index(paths[0], idx, err);
    for (size_t i = 1; i < n && rc == MPB_OK; i++) {
        mpb_index other = {0};
        rc = mpb_store_for_path(paths[i])->read_index(paths[i], &other, err);
        if (rc == MPB_OK)
            rc = mpb_index_check_same(idx, paths[0], &other, paths[i], err);
        mpb_index_free(&other);
    }
    return rc;
}

int mpb_inputs_share_index(const char *const *paths, size_t n, MPI_Comm comm,
                           mpb_index *idx, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0 && n == 0)
        mpb_fail(err, MPB_EINVAL, "no input checkpoints given");
    else if (rank == 0)
        read_all(paths, n, idx, err);
    /* Shares rank 0's failure as well as its index. */
    return mpb_job_share_index(idx, comm, err);
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
                    const mpb_io_opts *io, MPI_Comm comm, mpb_store *stores, mpb_error *err)
{
    memset(stores, 0, n * sizeof *stores);
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        stores[i].ops = mpb_store_for_path(paths[i]);
        stores[i].ops->open(paths[i], comm, idx, io, &stores[i].handle, err);
        rc = mpb_comm_agree(err, comm);
    }
    if (rc != MPB_OK) {
        mpb_inputs_close(stores, n, err);
        memset(stores, 0, n * sizeof *stores);
    }
    return rc;
}
