#include "mpb_sweep_recheck.h"

#include "mpb_audit.h"
#include "mpb_checksum.h"
#include "mpb_comm.h"
#include "mpb_inputs.h"
#include "mpb_job.h"

#include <stdlib.h>
#include <string.h>

/* The data checksum of one output; each rank opens it for itself. */
static int recompute(const char *path, uint32_t *crc, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    mpb_index idx = {0};
    if (rank == 0)
        mpb_store_for_path(path)->read_index(path, &idx, err);
    int rc = mpb_job_share_index(&idx, 0, comm, err);
    mpb_store store = {0};
    mpb_io_opts io = {.collective = false};
    if (rc == MPB_OK)
        mpb_inputs_open(&path, 1, &idx, NULL, &io, MPI_COMM_SELF, &store, err);
    rc = mpb_audit_store_checksum(&store, &idx, comm, crc, err);
    mpb_inputs_close(&store, 1, err);
    mpb_index_free(&idx);
    return mpb_comm_agree(err, comm);
}

int mpb_sweep_recheck(const char *const *paths, const char (*expected)[32], size_t n,
                      bool *intact, MPI_Comm comm, mpb_error *err)
{
    for (size_t k = 0; k < n; k++) {
        intact[k] = false;
        if (expected[k][0] == '\0')
            continue;
        mpb_error read_err = {0};
        uint32_t crc = 0;
        if (recompute(paths[k], &crc, comm, &read_err) == MPB_OK) {
            char text[MPB_CHECKSUM_TEXT_MAX];
            mpb_checksum_format(crc, text);
            intact[k] = strcmp(text, expected[k]) == 0;
        } else if (read_err.code == MPB_ENOMEM) {
            *err = read_err;
            return mpb_comm_agree(err, comm);
        }
    }
    return mpb_comm_agree(err, comm);
}
