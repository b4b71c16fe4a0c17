#include "mpb_merge.h"

#include "mpb_audit.h"
#include "mpb_comm.h"
#include "mpb_inputs.h"
#include "mpb_job.h"
#include "mpb_kernel.h"
#include "mpb_merge_setup.h"
#include "mpb_merge_stats.h"
#include "mpb_method.h"
#include "mpb_output.h"
#include "mpb_plan_print.h"
#include "mpb_provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct merge_ctx {
    const mpb_merge_recipe *r;
    mpb_store *inputs;
    mpb_job_output *out;
    void **bufs;   /* one slab per input */
    void *out_buf; /* only when some tensor changes dtype */
    mpb_audit *audit;
};

/* Where an item starts in its tensor, for the task kernel's magnitude cuts. */
static void task_start(const mpb_merge_recipe *r, size_t tensor, const mpb_item *it,
                       mpb_task_pos *pos)
{
    const mpb_merge_task *task = &r->task[tensor];
    const mpb_tensor *t = &r->in_idx.tensors[tensor];
    pos->index = it->row0 * (mpb_tensor_numel(t) / mpb_tensor_rows(t));
    for (size_t k = 0; k < task->spec.n_models; k++) {
        pos->seen_hi[k] = mpb_merge_stats_seen(&task->sparse[k], 0, it->row0);
        pos->seen_lo[k] = mpb_merge_stats_seen(&task->sparse[k], 1, it->row0);
    }
}

/* The item's slabs: bufs[i] input i's rows, out where a changed dtype goes. */
static const void *blend_slab(struct merge_ctx *m, const mpb_item *it, void *const *bufs,
                              void *out)
{
    const mpb_merge_recipe *r = m->r;
    size_t tensor = it->tensor;
    const mpb_tensor *in_t = &r->in_idx.tensors[tensor];
    mpb_dtype out_dt = r->out_idx.tensors[tensor].dtype;
    uint64_t n = it->nrows * (mpb_tensor_row_bytes(in_t) / mpb_dtype_size(in_t->dtype));
    int src = r->copy_from[tensor];
    if (src >= 0 && out_dt == in_t->dtype)
        return bufs[src];
    const void *const *all = (const void *const *)bufs;
    const mpb_method_def *def = mpb_method_get(r->method);
    if (src < 0 && def->blend == MPB_BLEND_ELEMENTWISE) {
        int base = mpb_config_base_index(r->config);
        void *dst = out_dt == in_t->dtype ? bufs[base] : out; /* in place */
        def->kernel(&r->coef[tensor * r->n_inputs], (size_t)base, r->n_inputs, all, in_t->dtype,
                    dst, out_dt, (size_t)n);
        return dst;
    }
    if (src < 0 && r->task != NULL && r->task[tensor].spec.n_models > 0) {
        const mpb_task_spec *spec = &r->task[tensor].spec;
        void *dst = out_dt == in_t->dtype ? bufs[spec->base] : out; /* in place */
        mpb_task_pos pos;
        task_start(r, tensor, it, &pos);
        mpb_blend_task(spec, all, in_t->dtype, dst, out_dt, (size_t)n, &pos);
        return dst;
    }
    /* A copy that changes dtype is a one-input blend with coefficient 1:
     * exact, since 1 * x == x in fp32. */
    static const float one = 1.0f;
    size_t n_in = src >= 0 ? 1 : r->n_inputs;
    const float *coef = src >= 0 ? &one : &r->coef[tensor * r->n_inputs];
    const void *const *in = src >= 0 ? (const void *const *)&bufs[src] : all;
    void *dst = out_dt == in_t->dtype ? (void *)in[0] : out; /* in place */
    mpb_blend_linear(n_in, in, in_t->dtype, coef, (void *)dst, out_dt, (size_t)n);
    return dst;
}

/* Reads every item's inputs, then blends and writes each: with collective
 * transfers each flush is one MPI-IO call per file for the whole round. */
static int merge_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    struct merge_ctx *m = ctx;
    const mpb_merge_recipe *r = m->r;
    for (size_t k = 0; k < round->n; k++) {
        int src = r->copy_from[round->items[k]->tensor];
        for (size_t i = 0; i < r->n_inputs; i++)
            if (src < 0 || (size_t)src == i)
                mpb_drive_read(&m->inputs[i], round->items[k],
                               mpb_round_buf(m->bufs[i], round, k), err);
    }
    mpb_store_flush(m->inputs, r->n_inputs, err);
    mpb_store *out = &m->out->store;
    for (size_t k = 0; k < round->n && err->code == MPB_OK; k++) {
        const mpb_item *it = round->items[k];
        void *bufs[MPB_MAX_INPUTS];
        for (size_t i = 0; i < r->n_inputs; i++)
            bufs[i] = mpb_round_buf(m->bufs[i], round, k);
        if (mpb_audit_inputs(m->audit, it->tensor, it, bufs, err) != MPB_OK)
            break;
        void *out_slab = m->out_buf ? mpb_round_buf(m->out_buf, round, k) : NULL;
        const void *result = blend_slab(m, it, bufs, out_slab);
        mpb_audit_output(m->audit, it->tensor, it, result, err);
        if (err->code != MPB_OK)
            break;
        mpb_drive_write(out, it, result, err);
    }
    return mpb_store_flush(out, 1, err);
}

static int open_inputs(struct merge_ctx *m, const mpb_run_opts *opts, MPI_Comm comm,
                       mpb_error *err)
{
    return mpb_merge_recipe_open_inputs(m->r, &opts->io, comm, m->inputs, err);
}

static int alloc_buffers(struct merge_ctx *m, const mpb_plan *plan, bool collective,
                         mpb_error *err)
{
    const mpb_merge_recipe *r = m->r;
    uint64_t slab = mpb_drive_buffer_bytes(plan, &r->in_idx, r->min_elem_size, collective) + 1;
    m->bufs = calloc(r->n_inputs, sizeof *m->bufs);
    if (m->bufs == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_inputs; i++)
        if ((m->bufs[i] = malloc(slab)) == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu slabs of %llu bytes",
                            r->n_inputs, (unsigned long long)slab);
    bool converts = false;
    for (size_t t = 0; t < r->in_idx.n; t++)
        converts |= r->in_idx.tensors[t].dtype != r->out_idx.tensors[t].dtype;
    if (converts && (m->out_buf = malloc(slab)) == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for the output slab");
    return MPB_OK;
}

static void free_buffers(struct merge_ctx *m)
{
    for (size_t i = 0; m->bufs && i < m->r->n_inputs; i++)
        free(m->bufs[i]);
    free(m->bufs);
    free(m->out_buf);
}

/* The statistics read every input before the output exists, so an output
 * that may not be replaced must stop the run first. */
static int check_output(const mpb_job_output *out, const mpb_run_opts *opts, MPI_Comm comm,
                        mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0)
        mpb_output_check_inputs(out->path, out->reads, out->n_reads, err);
    const char *out_path = out->path;
    const mpb_store_ops *ops = opts->out_store ? opts->out_store : &mpb_store_hdf5;
    mpb_output probe = {0};
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_output_begin_as(out_path, ops->folder, opts->force, opts->follow_links, comm,
                                 &probe, err);
    mpb_output_free(&probe);
    return rc;
}

static void warn_rank0(void *ctx, const char *msg);

static int write_merge(mpb_merge_recipe *r, const mpb_plan *plan, const char *out_path,
                       const mpb_run_opts *opts, MPI_Comm comm, mpb_error *err)
{
    /* The output carries the first input's non-tensor files (config.json,
     * tokenizer, ...). */
    const char *sources[MPB_MAX_INPUTS];
    for (size_t i = 0; i < r->n_inputs; i++)
        sources[i] = mpb_config_input_path(r->config, i);
    /* Every model read, which the output must never replace (with slices,
     * more than the inputs). */
    const char *models[MPB_MAX_MODELS];
    size_t n_models = mpb_config_n_models(r->config);
    for (size_t m = 0; m < n_models; m++)
        models[m] = mpb_config_model_path(r->config, m);
    mpb_provenance pv;
    mpb_provenance_init(&pv, comm);
    mpb_provenance_set(&pv, "mpiblend_method", mpb_method_name(mpb_config_method(r->config)));
    mpb_provenance_set(&pv, "mpiblend_config", r->config_text);
    int rc = mpb_provenance_set_inputs(&pv, sources, r->n_inputs, comm, err);
    mpb_job_output out = {.path = out_path,
                          .idx = &r->out_idx,
                          .n_attrs = pv.n,
                          .attr_keys = pv.keys,
                          .attr_values = pv.values,
                          .files_from = sources,
                          .n_files_from = r->n_inputs,
                          .reads = models,
                          .n_reads = n_models};
    int tokenizer = mpb_config_tokenizer_input(r->config);
    out.tokenizer_from = tokenizer >= 0 ? sources[tokenizer] : NULL;
    out.chat_template = mpb_config_chat_template(r->config);
    out.num_layers = mpb_config_out_layers(r->config); /* slices: the layers they stack */
    mpb_store inputs_open[MPB_MAX_INPUTS] = {0};
    mpb_audit audit = {0};
    struct merge_ctx m = {.r = r, .inputs = inputs_open, .out = &out, .audit = &audit};
    if (rc == MPB_OK)
        alloc_buffers(&m, plan, opts->io.collective, err);
    rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_audit_init(&audit, r, plan, opts->nonfinite, warn_rank0, NULL, comm, err);
    if (rc == MPB_OK && mpb_merge_stats_passes(r) > 0)
        rc = check_output(&out, opts, comm, err);
    if (rc == MPB_OK)
        rc = open_inputs(&m, opts, comm, err);
    if (rc == MPB_OK) {
        mpb_progress progress;
        mpb_progress_init(&progress, "merge", opts->quiet, opts->progress_secs);
        uint64_t read = mpb_merge_recipe_read_bytes(r);
        rc = mpb_merge_stats_run(r, plan, inputs_open, m.bufs, opts, &progress, comm, &read,
                                 err);
        if (rc == MPB_OK)
            rc =
                mpb_job_write_many(&out, 1, plan, &r->in_idx, r->min_elem_size, opts, &progress,
                                   merge_round, &m, mpb_audit_seal, &audit, comm, err);
        if (rc == MPB_OK)
            mpb_progress_finish(&progress, comm, read, mpb_index_total_bytes(&r->out_idx),
                                out_path);
    }
    mpb_inputs_close(m.inputs, r->n_inputs, err);
    free_buffers(&m);
    mpb_audit_free(&audit);
    mpb_provenance_free(&pv);
    return mpb_comm_agree(err, comm);
}

static void warn_rank0(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "warning: %s\n", msg);
}

static void warn_unused_filters(const mpb_merge_recipe *r, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0)
        return;
    mpb_config_warn_ignored(r->config, warn_rank0, NULL); /* keys mergekit ignores too */
    const char **names = malloc((r->in_idx.n + 1) * sizeof *names);
    if (names == NULL)
        return;
    for (size_t t = 0; t < r->in_idx.n; t++)
        names[t] = r->in_idx.tensors[t].name;
    mpb_config_check_filters(r->config, names, r->in_idx.n, warn_rank0, NULL);
    free(names);
}

/* For magnitude sparsification: which ranks of |delta| each model keeps. */
static void print_kept(const mpb_merge_recipe *r, size_t t)
{
    const mpb_merge_task *task = r->task ? &r->task[t] : NULL;
    bool any = false;
    for (size_t k = 0; task && k < task->spec.n_models; k++) {
        const mpb_task_model *m = &task->spec.models[k];
        if (m->keep != MPB_KEEP_WINDOW)
            continue;
        printf("%s %s [%llu, %llu)", any ? "," : "    keeps |delta| ranks (largest = 0):",
               mpb_config_input_origin(r->config, m->input),
               (unsigned long long)task->sparse[k].rank_lo,
               (unsigned long long)task->sparse[k].rank_hi);
        any = true;
    }
    if (any)
        printf(" of %llu elements\n",
               (unsigned long long)mpb_tensor_numel(&r->in_idx.tensors[t]));
}

/* A few tensors of each kind, so a user can check filters and gradients
 * before spending cluster time. */
static void print_examples(const mpb_merge_recipe *r)
{
    static const char *const kinds[] = {"embed",         "layers.0.self_attn.q_proj",
                                        "layers.0.mlp.", "layers.0.input_layernorm",
                                        "mlp.down_proj", "model.norm",
                                        "lm_head"};
    char line[1024];
    printf("resolved parameters (examples):\n");
    long shown[sizeof kinds / sizeof kinds[0]];
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        shown[k] = -1;
        /* The last match for down_proj shows the far end of a gradient. */
        for (size_t t = 0; t < r->in_idx.n; t++)
            if (strstr(r->in_idx.tensors[t].name, kinds[k]) &&
                (shown[k] < 0 || !strcmp(kinds[k], "mlp.down_proj")))
                shown[k] = (long)t;
        if (shown[k] < 0)
            continue;
        const char *name = r->in_idx.tensors[shown[k]].name;
        printf("  %s\n", mpb_config_describe(r->config, name, r->n_layers, line, sizeof line));
        print_kept(r, (size_t)shown[k]);
    }
}

static void mpb_merge_print_plan(const mpb_merge_recipe *r, const mpb_plan *plan,
                                 const char *out_path, const mpb_run_opts *opts, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0)
        return;
    printf("dry run: merge_method %s, %zu inputs, %d layers; nothing is written\n",
           mpb_method_name(mpb_config_method(r->config)), r->n_inputs, r->n_layers);
    for (size_t i = 0; i < r->n_inputs; i++)
        printf("  input %zu (%s): %s\n", i, mpb_config_input_origin(r->config, i),
               mpb_config_input_path(r->config, i));
    for (size_t i = 0; i < r->n_inputs; i++)
        mpb_inputs_note_ignored(stdout, mpb_config_input_path(r->config, i));
    mpb_plan_print(stdout, plan, &r->in_idx, r->min_elem_size, mpb_merge_recipe_read_bytes(r),
                   mpb_index_total_bytes(&r->out_idx), out_path);
    mpb_plan_print_io(stdout, plan, &r->in_idx, r->min_elem_size, opts->io.collective);
    int passes = mpb_merge_stats_passes(r);
    if (passes > 0)
        printf("  statistics: up to %d extra read%s of the blended tensors before writing "
               "(docs/METHODS.md)\n",
               passes, passes > 1 ? "s" : "");
    print_examples(r);
    fflush(stdout);
}

int mpb_merge_run(const char *config_path, const char *out_path, const mpb_run_opts *opts,
                  MPI_Comm comm, mpb_error *err)
{
    mpb_config *config = NULL;
    mpb_merge_recipe r;
    mpb_plan plan = {0};
    int rc = mpb_merge_recipe_build(config_path, comm, &config, &r, err);
    if (rc == MPB_OK)
        warn_unused_filters(&r, comm);
    if (rc == MPB_OK)
        rc = mpb_job_share_plan(&r.in_idx, opts->slab_bytes, r.min_elem_size, comm, &plan, err);
    if (rc == MPB_OK && opts->dry_run)
        mpb_merge_print_plan(&r, &plan, out_path, opts, comm);
    else if (rc == MPB_OK)
        rc = write_merge(&r, &plan, out_path, opts, comm, err);
    mpb_plan_free(&plan);
    mpb_merge_recipe_free(&r);
    mpb_config_free(config);
    return rc;
}
