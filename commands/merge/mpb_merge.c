#include "mpb_merge.h"

#include "mpb_audit.h"
#include "mpb_merge_blend.h"
#include "mpb_merge_walk.h"
#include "mpb_comm.h"
#include "mpb_inputs.h"
#include "mpb_job.h"
#include "mpb_kernel.h"
#include "mpb_merge_setup.h"
#include "mpb_merge_vocab.h"
#include "mpb_merge_stats.h"
#include "mpb_method.h"
#include "mpb_output.h"
#include "mpb_plan_print.h"
#include "mpb_provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct merge_ctx {
    mpb_merge_recipe *r;
    mpb_store *inputs;
    mpb_job_output *out;
    void **bufs;   /* one round's slabs per input */
    void *out_buf; /* only when some tensor changes dtype */
    mpb_audit *audit;
    mpb_merge_walk walk;
};

/* Reads every item's inputs, then blends and writes each: with collective
 * transfers each flush is one MPI-IO call per file for the whole round. */
static int merge_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    struct merge_ctx *m = ctx;
    const mpb_merge_recipe *r = m->r;
    for (size_t k = 0; k < round->n; k++) {
        bool want[MPB_MAX_INPUTS];
        for (size_t i = 0; i < r->n_inputs; i++)
            want[i] = mpb_audit_reads(r, round->items[k]->tensor, i);
        mpb_merge_hold_read(m->walk.hold, m->inputs, r->n_inputs, want, &r->in_idx,
                            round->items[k], m->bufs, round->at[k], &m->walk.bytes_read, err);
    }
    mpb_store_flush(m->inputs, r->n_inputs, err);
    mpb_store *out = &m->out->store;
    for (size_t k = 0; k < round->n && err->code == MPB_OK; k++) {
        const mpb_item *it = round->items[k];
        void *bufs[MPB_MAX_INPUTS];
        mpb_merge_hold_where(m->walk.hold, r->n_inputs, &r->in_idx, it, m->bufs, round->at[k],
                             bufs);
        if (mpb_audit_inputs(m->audit, it->tensor, it, bufs, err) != MPB_OK)
            break;
        void *out_slab = m->out_buf ? mpb_round_buf(m->out_buf, round, k) : NULL;
        const void *result = mpb_merge_blend_item(r, it, bufs, out_slab, true);
        if (result == NULL) {
            mpb_fail(err, MPB_ENOMEM, "out of memory blending tensor '%s'",
                     r->in_idx.tensors[it->tensor].name);
            break;
        }
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
    mpb_merge_vocab_output(r, sources, &out);
    out.num_layers = mpb_config_out_layers(r->config); /* slices: the layers they stack */
    out.n_layer_keys = mpb_config_layer_keys(r->config, out.layer_keys, out.layer_counts,
                                             MPB_JOB_MAX_LAYER_KEYS);
    mpb_store inputs_open[MPB_MAX_INPUTS] = {0};
    mpb_audit audit = {0};
    struct merge_ctx m = {.r = r, .inputs = inputs_open, .out = &out, .audit = &audit};
    m.walk = (mpb_merge_walk){.recipes = &m.r,
                              .n_recipes = 1,
                              .plan = plan,
                              .inputs = inputs_open,
                              .opts = opts,
                              .step = merge_round,
                              .step_ctx = &m};
    if (rc == MPB_OK)
        alloc_buffers(&m, plan, opts->io.collective, err);
    rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_audit_init(&audit, r, plan, opts->nonfinite, warn_rank0, NULL, comm, err);
    if (rc == MPB_OK)
        rc = open_inputs(&m, opts, comm, err);
    if (rc == MPB_OK) {
        mpb_progress progress;
        mpb_progress_init(&progress, "merge", opts->quiet, opts->progress_secs);
        m.walk.bufs = m.bufs;
        rc = mpb_job_run_many(&out, 1, opts, &progress, mpb_merge_walk_body, &m.walk,
                              mpb_audit_seal, &audit, comm, err);
        uint64_t total = mpb_merge_walk_bytes_read(&m.walk, comm);
        if (rc == MPB_OK)
            mpb_progress_finish(&progress, comm, total, mpb_index_total_bytes(&r->out_idx),
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

/* What the whole-tensor statistics will read under the memory budget. */
static void print_statistics(mpb_merge_recipe *r, const mpb_plan *plan, uint64_t budget)
{
    mpb_merge_stats_outlook o;
    mpb_merge_stats_describe(&r, 1, plan, budget, &o);
    if (o.passes == 0)
        return;
    printf("  statistics: up to %d pass%s over each of %zu batch%s of tensors before they are "
           "blended (docs/METHODS.md)\n",
           o.passes, o.passes > 1 ? "es" : "", o.batches, o.batches == 1 ? "" : "es");
    double mib = 1048576.0;
    printf("  memory: %.2f MiB per rank (--memory-mib) holds a batch's inputs from its first "
           "pass to its blend; largest share %.2f MiB: ",
           (double)budget / mib, (double)o.largest_share / mib);
    if (o.reread_bytes == 0)
        printf("every input is read once\n");
    else
        printf("%.2f MiB held and read once, %.2f MiB past the budget read by each pass "
               "(up to %d times)\n",
               (double)o.held_bytes / mib, (double)o.reread_bytes / mib, o.passes + 1);
}

static void mpb_merge_print_plan(mpb_merge_recipe *r, const mpb_plan *plan,
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
    mpb_plan_print_io(stdout, plan, &r->in_idx, r->min_elem_size, &opts->io);
    print_statistics(r, plan, opts->memory_bytes);
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
