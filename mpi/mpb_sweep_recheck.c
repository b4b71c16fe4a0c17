#include "mpb_sweep_recheck.h"

#include "mpb_audit.h"
#include "mpb_checksum.h"
#include "mpb_comm.h"
#include "mpb_inputs.h"
#include "mpb_job.h"

#include <stdlib.h>
#include <string.h>

/* Reads of at most this much; more than a row when a row is larger. */
#define CHUNK_BYTES (16ull << 20)

/* The data checksum of one output, tensors spread round robin over the
 * ranks; each rank opens the output for itself (independent reads). */
static int recompute(const char *path, uint32_t *crc, MPI_Comm comm, mpb_error *err)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    mpb_index idx = {0};
    if (rank == 0)
        mpb_store_for_path(path)->read_index(path, &idx, err);
    int rc = mpb_job_share_index(&idx, 0, comm, err);
    uint64_t bytes = CHUNK_BYTES;
    for (size_t t = 0; t < idx.n; t++)
        if (mpb_tensor_row_bytes(&idx.tensors[t]) > bytes)
            bytes = mpb_tensor_row_bytes(&idx.tensors[t]);
    void *buf = rc == MPB_OK ? malloc(bytes) : NULL;
    mpb_checksum_slots slots = {0};
    if (rc == MPB_OK && buf == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for a %llu-byte read buffer",
                 (unsigned long long)bytes);
    else if (rc == MPB_OK)
        mpb_checksum_slots_init(&slots, idx.n, err);
    rc = mpb_comm_agree(err, comm);
    mpb_store store = {0};
    mpb_io_opts io = {.collective = false};
    if (rc == MPB_OK)
        mpb_inputs_open(&path, 1, &idx, NULL, &io, MPI_COMM_SELF, &store, err);
    for (size_t t = (size_t)rank; err->code == MPB_OK && t < idx.n; t += (size_t)nranks)
        mpb_checksum_add_tensor(&slots, t, &store, &idx, t, buf, bytes, err);
    mpb_inputs_close(&store, 1, err);
    rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK) {
        mpb_audit_allreduce_slots(&slots, comm);
        *crc = mpb_checksum_slots_join(&slots, 0, slots.n);
    }
    mpb_checksum_slots_free(&slots);
    free(buf);
    mpb_index_free(&idx);
    return rc;
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
