#include "mpb_job.h"

#include "mpb_comm.h"
#include "mpb_hf_tokenizer.h"
#include "mpb_output.h"
#include "mpb_space.h"

#include <stdlib.h>
#include <string.h>

void mpb_run_opts_default(mpb_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->slab_bytes = 4ull << 20; /* blends in cache: docs/PERFORMANCE.md */
    o->io.collective = false;   /* fastest here: docs/PERFORMANCE.md */
    o->io.align_threshold = 1ull << 20;
    o->io.alignment = 1ull << 20;
    o->progress_secs = 5.0;
    o->memory_bytes = 2ull << 30; /* qwen3-4b's embedding share at 2 ranks: docs/TUNING.md */
    o->out_store = &mpb_store_hdf5;
    o->io.shard_bytes = MPB_STORE_SHARD_DEFAULT;
}

int mpb_job_share_index(mpb_index *idx, int root, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    unsigned char *packed = NULL;
    size_t len = 0;
    if (rank == root && err->code == MPB_OK)
        mpb_index_pack(idx, &packed, &len, err);
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_bytes(&packed, &len, root, comm, err);
    if (rc == MPB_OK && rank != root)
        mpb_index_unpack(packed, len, idx, err);
    free(packed);
    return mpb_comm_agree(err, comm);
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

static int create_output(mpb_job_output *out, const char *tmp_path, const mpb_run_opts *opts,
                         MPI_Comm comm, mpb_error *err)
{
    int rc =
        out->store.ops->create(tmp_path, comm, out->idx, &opts->io, &out->store.handle, err);
    for (size_t i = 0; i < out->n_attrs && rc == MPB_OK; i++)
        rc = out->store.ops->set_attr(out->store.handle, out->attr_keys[i], out->attr_values[i],
                                      err);
    return rc;
}

/* Rank 0: the non-tensor files of the first source that has any, with the
 * tokenizer and chat template the config chose. */
static int load_files(const mpb_job_output *out, mpb_hf_files *files, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < out->n_files_from && rc == MPB_OK && files->n == 0; i++) {
        const char *path = out->files_from[i];
        rc = mpb_store_for_path(path)->read_files(path, files, err);
    }
    if (rc == MPB_OK)
        rc = mpb_hf_files_apply_tokenizer(files, out->files_from, out->n_files_from,
                                          out->tokenizer_from, out->tokenizer_files,
                                          out->vocab_size > 0, out->chat_template, err);
    if (rc == MPB_OK && out->vocab_size > 0)
        rc = mpb_hf_files_set_vocab_size(files, out->vocab_size, err);
    if (rc == MPB_OK && out->num_layers > 0)
        rc = mpb_hf_files_set_layers(files, out->num_layers, err);
    for (size_t k = 0; k < out->n_layer_keys && rc == MPB_OK; k++)
        rc = mpb_hf_files_set_int_key(files, out->layer_keys[k], out->layer_counts[k], err);
    return rc;
}

/* Closes every open store, even after a failure: closing is collective, and
 * it releases the temporary files so that they can be removed. */
static void close_outputs(mpb_job_output *outs, size_t n_outs, mpb_error *err)
{
    for (size_t k = 0; k < n_outs; k++) {
        if (outs[k].store.handle == NULL)
            continue;
        mpb_error close_err = {0};
        outs[k].store.ops->close(outs[k].store.handle, &close_err);
        outs[k].store.handle = NULL;
        if (err->code == MPB_OK && close_err.code != MPB_OK)
            *err = close_err;
    }
}

int mpb_job_run_many(mpb_job_output *outs, size_t n_outs, const mpb_run_opts *opts,
                     mpb_progress *progress, mpb_job_body_fn body, void *body_ctx,
                     mpb_job_seal_fn seal, void *seal_ctx, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    mpb_output *targets = calloc(n_outs, sizeof *targets);
    mpb_hf_files *files = calloc(n_outs, sizeof *files);
    if (targets == NULL || files == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for %zu outputs", n_outs);
    int rc = mpb_comm_agree(err, comm);
    size_t begun = 0;
    for (; begun < n_outs && rc == MPB_OK; begun++) {
        mpb_job_output *out = &outs[begun];
        out->store.ops = opts->out_store ? opts->out_store : &mpb_store_hdf5;
        if (rank == 0)
            mpb_output_check_inputs(out->path, out->reads, out->n_reads, err);
        if ((rc = mpb_comm_agree(err, comm)) != MPB_OK)
            break;
        rc = mpb_output_begin_as(out->path, out->store.ops->folder, opts->force,
                                 opts->follow_links, comm, &targets[begun], err);
        if (rc == MPB_OK && rank == 0)
            load_files(out, &files[begun], err);
        if (rc == MPB_OK)
            rc = mpb_comm_agree(err, comm);
    }
    for (size_t k = 0; k < n_outs && rc == MPB_OK; k++) {
        create_output(&outs[k], targets[k].tmp_path, opts, comm, err);
        uint64_t need = mpb_space_h5_estimate(outs[k].idx, &opts->io);
        if (rank == 0 && err->code == MPB_OK && !outs[k].store.ops->folder)
            mpb_space_reserve(targets[k].tmp_path, outs[k].path, need, err);
        else if (rank == 0 && err->code == MPB_OK)
            mpb_space_check(targets[k].tmp_path, outs[k].path, need, err);
        rc = mpb_comm_agree(err, comm);
    }
    if (rc == MPB_OK) {
        mpb_drive_opts drive = {.collective = opts->io.collective,
                                .progress = mpb_progress_update,
                                .progress_ctx = progress};
        rc = body(body_ctx, &drive, comm, err);
    }
    if (rc == MPB_OK && seal != NULL)
        seal(seal_ctx, outs, n_outs, err);
    close_outputs(outs, n_outs, err);
    for (size_t k = 0; k < begun && rank == 0; k++)
        if (!outs[k].store.ops->folder)
            mpb_space_release(targets[k].tmp_path);
    /* Serial, into the closed temporary outputs: no parallel handle is open. */
    for (size_t k = 0; k < begun && rank == 0 && err->code == MPB_OK; k++)
        outs[k].store.ops->write_files(targets[k].tmp_path, outs[k].idx, &files[k], err);
    rc = begun ? MPB_OK : mpb_comm_agree(err, comm);
    for (size_t k = 0; k < begun; k++) {
        int done = mpb_output_finish(&targets[k], comm, err);
        rc = rc ? rc : done;
        mpb_output_free(&targets[k]);
    }
    for (size_t k = 0; files && k < n_outs; k++)
        mpb_hf_files_free(&files[k]);
    free(files);
    free(targets);
    return rc;
}

/* The body of mpb_job_write_many: its step over its plan, once. */
struct one_drive {
    const mpb_plan *plan;
    const mpb_index *plan_idx;
    size_t min_elem_size;
    mpb_round_fn step;
    void *ctx;
};

static int drive_once(void *ctx, const mpb_drive_opts *drive, MPI_Comm comm, mpb_error *err)
{
    const struct one_drive *d = ctx;
    mpb_drive_opts opts = *drive;
    opts.min_elem_size = d->min_elem_size;
    return mpb_drive(d->plan, d->plan_idx, comm, &opts, d->step, d->ctx, err);
}

int mpb_job_write_many(mpb_job_output *outs, size_t n_outs, const mpb_plan *plan,
                       const mpb_index *plan_idx, size_t min_elem_size,
                       const mpb_run_opts *opts, mpb_progress *progress, mpb_round_fn step,
                       void *ctx, mpb_job_seal_fn seal, void *seal_ctx, MPI_Comm comm,
                       mpb_error *err)
{
    struct one_drive d = {plan, plan_idx, min_elem_size, step, ctx};
    return mpb_job_run_many(outs, n_outs, opts, progress, drive_once, &d, seal, seal_ctx, comm,
                            err);
}

int mpb_job_write(mpb_job_output *out, const mpb_plan *plan, size_t min_elem_size,
                  const mpb_run_opts *opts, mpb_progress *progress, mpb_round_fn step,
                  void *ctx, MPI_Comm comm, mpb_error *err)
{
    return mpb_job_write_many(out, 1, plan, out->idx, min_elem_size, opts, progress, step, ctx,
                              NULL, NULL, comm, err);
}
