#include "mpb_sweep_pass.h"

#include "mpb_audit.h"
#include "mpb_comm.h"
#include "mpb_crc32c.h"
#include "mpb_inputs.h"
#include "mpb_job.h"
#include "mpb_merge_blend.h"
#include "mpb_merge_vocab.h"
#include "mpb_merge_walk.h"
#include "mpb_provenance.h"
#include "mpb_sweep_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pass {
    const mpb_merge_recipe *r;
    const mpb_plan *plan;
    mpb_sweep_point *const *points;
    size_t n;
    mpb_store inputs[MPB_MAX_INPUTS];
    bool *needs;   /* per tensor and input: read in this pass */
    void **bufs;   /* one round's slabs per input */
    void *out_buf; /* one round's output slabs, reused for every point */
    mpb_job_output *outs;
    uint32_t *crc; /* per point and plan item */
    char (*checksums)[32];
    mpb_merge_recipe **recipes; /* the points' */
    mpb_merge_walk walk;
    MPI_Comm comm;
};

/* The inputs are read once per round (or held for a batch with
 * statistics); each point is blended into the one output buffer, never in
 * place since the next point needs the inputs again, and written (flushed)
 * before the next point reuses the buffer. */
static int pass_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    struct pass *ps = ctx;
    const mpb_merge_recipe *r = ps->r;
    for (size_t j = 0; j < round->n; j++)
        mpb_merge_hold_read(ps->walk.hold, ps->inputs, r->n_inputs,
                            &ps->needs[round->items[j]->tensor * r->n_inputs], &r->in_idx,
                            round->items[j], ps->bufs, round->at[j], &ps->walk.bytes_read, err);
    mpb_store_flush(ps->inputs, r->n_inputs, err);
    for (size_t k = 0; k < ps->n; k++) {
        mpb_store *out = &ps->outs[k].store;
        for (size_t j = 0; j < round->n && err->code == MPB_OK; j++) {
            const mpb_item *it = round->items[j];
            void *in[MPB_MAX_INPUTS];
            mpb_merge_hold_where(ps->walk.hold, r->n_inputs, &r->in_idx, it, ps->bufs,
                                 round->at[j], in);
            const void *result = mpb_merge_blend_item(
                ps->recipes[k], it, in, mpb_round_buf(ps->out_buf, round, j), false);
            if (result == NULL) {
                mpb_fail(err, MPB_ENOMEM, "out of memory blending tensor '%s'",
                         r->in_idx.tensors[it->tensor].name);
                break;
            }
            uint64_t out_row = mpb_tensor_row_bytes(&r->out_idx.tensors[it->tensor]);
            size_t item = mpb_plan_item_index(ps->plan, it);
            ps->crc[k * ps->plan->n_items + item] = mpb_crc32c(0, result, it->nrows * out_row);
            mpb_drive_write(out, it, result, err);
        }
        mpb_store_flush(out, 1, err);
    }
    return err->code;
}

/* Every item belongs to one rank, so XOR over ranks collects each item's
 * CRC; joined in plan order ((tensor, row) order) they give the CRC of all
 * tensor data in index order, whatever the rank count or slab size. */
static int pass_seal(void *ctx, mpb_job_output *outs, size_t n, mpb_error *err)
{
    struct pass *ps = ctx;
    const mpb_plan *plan = ps->plan;
    size_t count = n * plan->n_items;
    if (count > 0)
        MPI_Allreduce(MPI_IN_PLACE, ps->crc, (int)count, MPI_UINT32_T, MPI_BXOR, ps->comm);
    int rc = MPB_OK;
    for (size_t k = 0; k < n && rc == MPB_OK; k++) {
        uint32_t crc = 0;
        for (size_t i = 0; i < plan->n_items; i++) {
            const mpb_item *it = &plan->items[i];
            uint64_t len =
                it->nrows * mpb_tensor_row_bytes(&ps->r->out_idx.tensors[it->tensor]);
            crc = mpb_crc32c_combine(crc, ps->crc[k * plan->n_items + i], len);
        }
        snprintf(ps->checksums[k], 32, "crc32c:%08x", crc);
        rc = outs[k].store.ops->set_attr(outs[k].store.handle, MPB_CHECKSUM_ATTR,
                                         ps->checksums[k], err);
    }
    return rc;
}

static int open_inputs(struct pass *ps, const mpb_run_opts *opts, mpb_error *err)
{
    return mpb_merge_recipe_open_inputs(ps->r, &opts->io, ps->comm, ps->inputs, err);
}

/* An input is read for a tensor when some point of the pass uses it. */
static void mark_needs(struct pass *ps)
{
    const mpb_merge_recipe *r = ps->r;
    for (size_t t = 0; t < r->in_idx.n; t++)
        for (size_t k = 0; k < ps->n; k++) {
            for (size_t i = 0; i < r->n_inputs; i++)
                ps->needs[t * r->n_inputs + i] |= mpb_audit_reads(ps->recipes[k], t, i);
        }
}

static int alloc_pass(struct pass *ps, bool collective, mpb_error *err)
{
    const mpb_merge_recipe *r = ps->r;
    uint64_t slab =
        mpb_drive_buffer_bytes(ps->plan, &r->in_idx, r->min_elem_size, collective) + 1;
    ps->needs = calloc(r->in_idx.n * r->n_inputs + 1, sizeof *ps->needs);
    ps->bufs = calloc(r->n_inputs, sizeof *ps->bufs);
    ps->out_buf = malloc(slab);
    ps->crc = calloc(ps->n * ps->plan->n_items + 1, sizeof *ps->crc);
    ps->outs = calloc(ps->n, sizeof *ps->outs);
    ps->recipes = calloc(ps->n + 1, sizeof *ps->recipes);
    bool ok = ps->needs && ps->bufs && ps->out_buf && ps->crc && ps->outs && ps->recipes;
    for (size_t k = 0; ok && k < ps->n; k++)
        ps->recipes[k] = &ps->points[k]->recipe;
    for (size_t i = 0; ok && i < r->n_inputs; i++)
        ok = (ps->bufs[i] = malloc(slab)) != NULL;
    if (!ok)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu slabs of %llu bytes",
                        r->n_inputs + 1, (unsigned long long)slab);
    mark_needs(ps);
    return MPB_OK;
}

static void free_pass(struct pass *ps)
{
    for (size_t i = 0; ps->bufs && i < ps->r->n_inputs; i++)
        free(ps->bufs[i]);
    free(ps->bufs);
    free(ps->out_buf);
    free(ps->needs);
    free(ps->crc);
    free(ps->outs);
    free(ps->recipes);
}

int mpb_sweep_pass_write(const mpb_merge_recipe *r, const mpb_plan *plan,
                         mpb_sweep_point *const points[], size_t n, const mpb_run_opts *opts,
                         mpb_progress *progress, char (*checksums)[32], uint64_t *bytes_read,
                         MPI_Comm comm, mpb_error *err)
{
    struct pass ps = {
        .r = r, .plan = plan, .points = points, .n = n, .checksums = checksums, .comm = comm};
    alloc_pass(&ps, opts->io.collective, err);
    int rc = mpb_comm_agree(err, comm);
    const char **input_paths = calloc(r->n_inputs + 1, sizeof *input_paths);
    char(*point_ids)[32] = calloc(n + 1, sizeof *point_ids);
    if (rc == MPB_OK && (input_paths == NULL || point_ids == NULL))
        mpb_fail(err, MPB_ENOMEM, "out of memory");
    rc = mpb_comm_agree(err, comm);
    for (size_t i = 0; rc == MPB_OK && i < r->n_inputs; i++)
        input_paths[i] = mpb_config_input_path(r->config, i);
    /* Provenance, as a merge records it; mpiblend_config is the point's own
     * config, which `mpiblend merge` turns into the same tensors. */
    mpb_provenance pv;
    mpb_provenance_init(&pv, comm);
    mpb_provenance_set(&pv, "mpiblend_method", mpb_method_name(mpb_config_method(r->config)));
    size_t config_at = mpb_provenance_set(&pv, "mpiblend_config", "");
    size_t point_at = mpb_provenance_set(&pv, "mpiblend_sweep_point", "");
    if (rc == MPB_OK)
        rc = mpb_provenance_set_inputs(&pv, input_paths, r->n_inputs, comm, err);
    /* Attribute values per output: only the config and point number differ. */
    const char **values = calloc(pv.n * (n + 1), sizeof *values);
    if (rc == MPB_OK && values == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory");
    rc = mpb_comm_agree(err, comm);
    for (size_t k = 0; rc == MPB_OK && k < n; k++) {
        const char **v = &values[pv.n * k];
        memcpy(v, pv.values, pv.n * sizeof *v);
        v[config_at] = points[k]->config_text;
        snprintf(point_ids[k], 32, "%zu", points[k]->index);
        v[point_at] = point_ids[k];
        ps.outs[k] = (mpb_job_output){.path = points[k]->path,
                                      .idx = &r->out_idx,
                                      .n_attrs = pv.n,
                                      .attr_keys = pv.keys,
                                      .attr_values = v,
                                      .files_from = input_paths,
                                      .n_files_from = r->n_inputs,
                                      .reads = input_paths,
                                      .n_reads = r->n_inputs};
        mpb_merge_vocab_output(r, input_paths, &ps.outs[k]);
        ps.outs[k].num_layers = mpb_config_out_layers(r->config);
        ps.outs[k].n_layer_keys = mpb_config_layer_keys(
            r->config, ps.outs[k].layer_keys, ps.outs[k].layer_counts, MPB_JOB_MAX_LAYER_KEYS);
    }
    if (rc == MPB_OK)
        rc = open_inputs(&ps, opts, err);
    ps.walk = (mpb_merge_walk){.recipes = ps.recipes,
                               .n_recipes = n,
                               .plan = plan,
                               .inputs = ps.inputs,
                               .bufs = ps.bufs,
                               .opts = opts,
                               .step = pass_round,
                               .step_ctx = &ps};
    if (rc == MPB_OK)
        rc = mpb_job_run_many(ps.outs, n, opts, progress, mpb_merge_walk_body, &ps.walk,
                              pass_seal, &ps, comm, err);
    if (bytes_read != NULL)
        *bytes_read = mpb_merge_walk_bytes_read(&ps.walk, comm);
    mpb_inputs_close(ps.inputs, ps.r->n_inputs, err);
    free_pass(&ps);
    free(values);
    free(point_ids);
    free(input_paths);
    mpb_provenance_free(&pv);
    return mpb_comm_agree(err, comm);
}
