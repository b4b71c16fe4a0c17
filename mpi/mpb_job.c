#include "mpb_job.h"

#include "mpb_comm.h"
#include "mpb_output.h"

#include <stdlib.h>
#include <string.h>

void mpb_run_opts_default(mpb_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->slab_bytes = 64ull << 20;
    o->io.collective = true;
    o->io.align_threshold = 1ull << 20;
    o->io.alignment = 1ull << 20;
    o->progress_secs = 5.0;
}

int mpb_job_share_plan(const mpb_index *idx, uint64_t slab_bytes, size_t min_elem_size,
                       MPI_Comm comm, mpb_plan *plan, mpb_error *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(plan, 0, sizeof *plan);
    if (rank == 0)
        mpb_plan_build(idx, size, slab_bytes, min_elem_size, plan, err);
    int rc = mpb_comm_agree(err, comm);
    if (rc)
        return rc;
    if (rank != 0) {
        plan->nranks = size;
        plan->slab_bytes = slab_bytes;
        plan->rank_bytes = calloc((size_t)size, sizeof *plan->rank_bytes);
        plan->rank_items = calloc((size_t)size, sizeof *plan->rank_items);
        if (!plan->rank_bytes || !plan->rank_items)
            mpb_fail(err, MPB_ENOMEM, "out of memory receiving the plan");
    }
    if ((rc = mpb_comm_agree(err, comm)) != MPB_OK) {
        mpb_plan_free(plan);
        return rc;
    }
    unsigned char *bytes = (unsigned char *)plan->items;
    size_t len = plan->n_items * sizeof *plan->items;
    rc = mpb_comm_bcast_bytes(&bytes, &len, 0, comm, err);
    if (rank != 0) {
        plan->items = (mpb_item *)bytes;
        plan->n_items = len / sizeof *plan->items;
    }
    MPI_Bcast(plan->rank_bytes, size, MPI_UINT64_T, 0, comm);
    MPI_Bcast(plan->rank_items, size, MPI_UINT64_T, 0, comm);
    return rc;
}

static int create_output(mpb_job_output *out, const char *tmp_path,
                         const mpb_run_opts *opts, MPI_Comm comm, mpb_error *err)
{
    out->store.ops = mpb_store_for_path(out->path);
    int rc = out->store.ops->create(tmp_path, comm, out->idx, &opts->io, &out->store.handle,
                                    err);
    for (size_t i = 0; i < out->n_attrs && rc == MPB_OK; i++)
        rc = out->store.ops->set_attr(out->store.handle, out->attr_keys[i],
                                      out->attr_values[i], err);
    return rc;
}

int mpb_job_write(mpb_job_output *out, const mpb_plan *plan, size_t min_elem_size,
                  const mpb_run_opts *opts, mpb_progress *progress, mpb_step_fn step,
                  void *ctx, MPI_Comm comm, mpb_error *err)
{
    mpb_output target;
    int rc = mpb_output_begin(out->path, opts->force, opts->follow_links, comm, &target, err);
    if (rc) {
        mpb_output_free(&target);
        return rc;
    }
    create_output(out, target.tmp_path, opts, comm, err);
    if (mpb_comm_agree(err, comm) == MPB_OK) {
        mpb_drive_opts drive = {.collective = opts->io.collective,
                                .min_elem_size = min_elem_size,
                                .progress = mpb_progress_update,
                                .progress_ctx = progress};
        mpb_drive(plan, out->idx, comm, &drive, step, ctx, err);
    }
    if (out->store.handle != NULL) {
        /* Close even after a failure: it is collective, and it releases the
         * temporary file so that it can be removed. */
        mpb_error close_err = {0};
        out->store.ops->close(out->store.handle, &close_err);
        out->store.handle = NULL;
        if (err->code == MPB_OK && close_err.code != MPB_OK)
            *err = close_err;
    }
    rc = mpb_output_finish(&target, comm, err);
    mpb_output_free(&target);
    return rc;
}
