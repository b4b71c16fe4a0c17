#include "mpb_copy.h"

#include "mpb_comm.h"
#include "mpb_job.h"
#include "mpb_plan_print.h"
#include "mpb_provenance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct copy_ctx {
    mpb_store src;
    mpb_job_output *out;
    unsigned char *buf;
};

/* Collective-safe: a rank without items, or after a failure, still makes
 * both flushes, with nothing to move. */
static int copy_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    struct copy_ctx *c = ctx;
    for (size_t k = 0; k < round->n && err->code == MPB_OK; k++) {
        mpb_drive_read(&c->src, round->items[k], mpb_round_buf(c->buf, round, k), err);
    }
    mpb_store_flush(&c->src, 1, err);
    mpb_store *dst = &c->out->store;
    for (size_t k = 0; k < round->n && err->code == MPB_OK; k++)
        mpb_drive_write(dst, round->items[k], mpb_round_buf(c->buf, round, k), err);
    return mpb_store_flush(dst, 1, err);
}

static void print_plan(const char *what, const char *src, const mpb_index *idx,
                       const mpb_plan *plan, const mpb_io_opts *io, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0)
        return;
    printf("%s %s: %zu tensors, %" PRIu64 " bytes, %zu items over %d ranks; "
           "nothing is written\n",
           what, src, idx->n, mpb_index_total_bytes(idx), plan->n_items, plan->nranks);
    mpb_plan_print_io(stdout, plan, idx, 0, io);
}

static int write_copy(const char *what, const char *src, const mpb_store_ops *src_ops,
                      const char *dst, const mpb_index *idx, const mpb_plan *plan,
                      const mpb_run_opts *opts, MPI_Comm comm, mpb_error *err)
{
    mpb_provenance pv;
    mpb_provenance_init(&pv, comm);
    mpb_provenance_set_inputs(&pv, &src, 1, comm, err);
    /* A file the other backend claims (a safetensors file without the
     * suffix) carries no non-tensor files. */
    bool has_files = mpb_store_for_path(src) == src_ops;
    mpb_job_output out = {.path = dst,
                          .idx = idx,
                          .n_attrs = pv.n,
                          .attr_keys = pv.keys,
                          .attr_values = pv.values,
                          .files_from = &src,
                          .n_files_from = has_files ? 1 : 0,
                          .reads = &src,
                          .n_reads = 1};
    struct copy_ctx c = {.src = {src_ops, NULL}, .out = &out};
    c.buf = malloc(mpb_drive_buffer_bytes(plan, idx, 0, opts->io.collective) + 1);
    if (c.buf == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for a %llu-byte slab",
                 (unsigned long long)opts->slab_bytes);
    if (mpb_comm_agree(err, comm) == MPB_OK)
        src_ops->open(src, comm, idx, &opts->io, &c.src.handle, err);
    if (mpb_comm_agree(err, comm) == MPB_OK) {
        mpb_progress progress;
        mpb_progress_init(&progress, what, opts->quiet, opts->progress_secs);
        if (mpb_job_write(&out, plan, 0, opts, &progress, copy_round, &c, comm, err) ==
            MPB_OK) {
            uint64_t bytes = mpb_index_total_bytes(idx);
            mpb_progress_finish(&progress, comm, bytes, bytes, dst);
        }
    }
    if (c.src.handle != NULL)
        src_ops->close(c.src.handle, err);
    free(c.buf);
    mpb_provenance_free(&pv);
    return mpb_comm_agree(err, comm);
}

int mpb_copy_run(const char *what, const char *src, const mpb_store_ops *src_ops,
                 const char *dst, const mpb_run_opts *opts, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    mpb_index idx = {0};
    mpb_plan plan = {0};
    if (rank == 0)
        src_ops->read_index(src, &idx, err);
    int rc = mpb_job_share_index(&idx, 0, comm, err);
    if (rc == MPB_OK)
        rc = mpb_job_share_plan(&idx, opts->slab_bytes, 0, comm, &plan, err);
    if (rc == MPB_OK && opts->dry_run)
        print_plan(what, src, &idx, &plan, &opts->io, comm);
    else if (rc == MPB_OK)
        rc = write_copy(what, src, src_ops, dst, &idx, &plan, opts, comm, err);
    mpb_plan_free(&plan);
    mpb_index_free(&idx);
    return rc;
}
