#include "mpb_merge_setup.h"

#include "mpb_comm.h"
#include "mpb_file.h"
#include "mpb_inputs.h"
#include "mpb_job.h"
#include "mpb_merge_vocab.h"
#include "mpb_store.h"
#include "mpb_store_view.h"
#include "mpb_store_vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_layers(const mpb_index *idx)
{
    int max = -1;
    for (size_t i = 0; i < idx->n; i++) {
        int layer = mpb_tensor_layer(idx->tensors[i].name);
        if (layer > max)
            max = layer;
    }
    return max + 1;
}

static int alloc_method_arrays(mpb_merge_recipe *r, mpb_error *err)
{
    size_t nt = r->in_idx.n ? r->in_idx.n : 1;
    r->copy_from = malloc(nt * sizeof *r->copy_from);
    r->tensor_inputs = malloc(nt * sizeof *r->tensor_inputs);
    r->coef = calloc(nt * r->n_inputs, sizeof *r->coef);
    bool ok = r->copy_from != NULL && r->tensor_inputs != NULL && r->coef != NULL;
    mpb_blend_kind blend = mpb_method_get(r->method)->blend;
    if (ok && blend == MPB_BLEND_TASK)
        ok = (r->task = calloc(nt, sizeof *r->task)) != NULL;
    if (ok && blend == MPB_BLEND_STATISTICS)
        ok = (r->params = calloc(nt, sizeof *r->params)) != NULL &&
             (r->column_coef = calloc(nt, sizeof *r->column_coef)) != NULL;
    return ok ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory for %zu tensors", nt);
}

/* One tensor: copied, one fixed weighted sum, or a method with its own
 * kernel or statistics (as its registry entry says). */
static int resolve_tensor(mpb_merge_recipe *r, size_t t, const mpb_tensor_params *p,
                          mpb_error *err)
{
    const mpb_tensor *tensor = &r->in_idx.tensors[t];
    float *coef = &r->coef[t * r->n_inputs];
    int base = mpb_config_base_index(r->config);
    r->copy_from[t] = p->copy_from;
    r->tensor_inputs[t] = p->n_inputs;
    if (!mpb_dtype_is_blendable(tensor->dtype)) {
        /* Integer, bool and fp8 tensors are carried, never blended. */
        r->copy_from[t] = p->copy_from >= 0 ? p->copy_from : (base >= 0 ? base : 0);
        coef[r->copy_from[t]] = 1.0f;
        return MPB_OK;
    }
    mpb_dtype out_dt = mpb_config_out_dtype(r->config);
    if (out_dt != MPB_DT_INVALID)
        r->out_idx.tensors[t].dtype = out_dt;
    if (p->copy_from >= 0)
        return mpb_method_coefficients(r->method, p, coef, err);
    switch (mpb_method_get(r->method)->blend) {
    case MPB_BLEND_COEFFICIENTS:
    case MPB_BLEND_ELEMENTWISE: return mpb_method_coefficients(r->method, p, coef, err);
    case MPB_BLEND_STATISTICS: r->params[t] = *p; return MPB_OK; /* coefficients: statistics */
    case MPB_BLEND_TASK: return mpb_merge_task_resolve(r->config, tensor, p, &r->task[t], err);
    }
    return mpb_fail(err, MPB_EINTERNAL, "merge_method %d has no blend", (int)r->method);
}

static int resolve_tensors(mpb_merge_recipe *r, mpb_error *err)
{
    r->method = mpb_config_method(r->config);
    int rc = alloc_method_arrays(r, err);
    for (size_t t = 0; t < r->in_idx.n && rc == MPB_OK; t++) {
        mpb_tensor_params p;
        rc = mpb_config_resolve(r->config, r->in_idx.tensors[t].name, r->n_layers, &p, err);
        if (rc == MPB_OK)
            rc = resolve_tensor(r, t, &p, err);
    }
    return rc;
}

/* Collective, modules: only: the first model's config.json (read on rank
 * 0, shared) names the architecture whose module definitions bind the
 * config; every rank binds the same text to the same indexes. */
static int bind_modules(mpb_merge_recipe *r, mpb_config *c, MPI_Comm comm, mpb_error *err)
{
    if (!mpb_config_has_modules(c))
        return MPB_OK;
    int rank;
    MPI_Comm_rank(comm, &rank);
    char *json = NULL;
    if (rank == 0) {
        const char *path = mpb_config_model_path(c, 0);
        mpb_hf_files files = {0};
        if (mpb_store_for_path(path)->read_files(path, &files, err) == MPB_OK) {
            const mpb_hf_file *f = mpb_hf_files_find(&files, "config.json");
            if (f != NULL && (json = malloc(f->len + 1)) == NULL)
                mpb_fail(err, MPB_ENOMEM, "out of memory for config.json");
            if (json != NULL) {
                memcpy(json, f->data, f->len);
                json[f->len] = '\0';
            }
        }
        mpb_hf_files_free(&files);
    }
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&json, 0, comm, err);
    if (rc == MPB_OK)
        mpb_config_bind_modules(c, r->model_idx, json, err);
    free(json);
    return mpb_comm_agree(err, comm);
}

/* Collective: the inputs' index (today's case: every input holds the same
 * tensors, and input i reads tensor t under its own name) or, with slices,
 * the models' indexes and the output's tensors mapped to their sources. */
static int share_indexes(mpb_merge_recipe *r, mpb_config *c, MPI_Comm comm, mpb_error *err)
{
    if (!mpb_config_has_slices(c)) {
        const char *paths[MPB_MAX_INPUTS];
        size_t n = mpb_config_n_inputs(c);
        for (size_t i = 0; i < n; i++)
            paths[i] = mpb_config_input_path(c, i);
        if (mpb_merge_vocab_wanted(c))
            return mpb_merge_vocab_share(r, c, paths, n, comm, err);
        r->own_idx = calloc(n, sizeof *r->own_idx);
        return r->own_idx ? mpb_inputs_share_index(paths, n, comm, &r->in_idx, r->own_idx, err)
                          : mpb_fail(err, MPB_ENOMEM, "out of memory for %zu indexes", n);
    }
    size_t n = mpb_config_n_models(c);
    r->model_idx = calloc(n, sizeof *r->model_idx);
    if (r->model_idx == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu indexes", n);
    r->n_models = n;
    const char *paths[MPB_MAX_MODELS];
    for (size_t m = 0; m < n; m++)
        paths[m] = mpb_config_model_path(c, m);
    /* The models' indexes are read on different ranks at once. */
    int rc = mpb_inputs_read_indexes(paths, n, comm, r->model_idx, err);
    for (size_t m = 0; m < n && rc == MPB_OK; m++)
        mpb_index_sort(&r->model_idx[m]); /* mpb_config_map_slices finds names */
    if (rc == MPB_OK)
        rc = bind_modules(r, c, comm, err);
    /* Every rank maps the same indexes: the same verdict everywhere. */
    if (rc == MPB_OK)
        rc = mpb_merge_vocab_map_slices(r, c, comm, err);
    return rc;
}

int mpb_merge_recipe_open_inputs(const mpb_merge_recipe *r, const mpb_io_opts *io,
                                 MPI_Comm comm, mpb_store *stores, mpb_error *err)
{
    const char *paths[MPB_MAX_MODELS];
    if (r->sources == NULL) {
        for (size_t i = 0; i < r->n_inputs; i++)
            paths[i] = mpb_config_input_path(r->config, i);
        int rc =
            mpb_inputs_open(paths, r->n_inputs, &r->in_idx, r->own_idx, io, comm, stores, err);
        if (rc == MPB_OK && r->vocab.n_tokens > 0) {
            rc = mpb_store_vocab_wrap(stores, r->n_inputs, &r->in_idx, &r->vocab, comm, err);
            if (rc != MPB_OK) {
                mpb_inputs_close(stores, r->n_inputs, err);
                memset(stores, 0, r->n_inputs * sizeof *stores);
            }
        }
        return rc;
    }
    for (size_t m = 0; m < r->n_models; m++)
        paths[m] = mpb_config_model_path(r->config, m);
    memset(stores, 0, r->n_inputs * sizeof *stores);
    int rc = MPB_OK;
    for (size_t k = 0; k < r->n_inputs && rc == MPB_OK; k++)
        rc = mpb_store_view_open(paths, r->model_idx, r->n_models, &r->sources[k], r->n_inputs,
                                 &r->in_idx, io, comm, &stores[k], err);
    /* The vocabulary view over the slices' (mpb_config_slices_vocab). */
    if (rc == MPB_OK && r->vocab.n_tokens > 0)
        rc = mpb_store_vocab_wrap(stores, r->n_inputs, &r->in_idx, &r->vocab, comm, err);
    if (rc != MPB_OK) {
        mpb_inputs_close(stores, r->n_inputs, err);
        memset(stores, 0, r->n_inputs * sizeof *stores);
    }
    return rc;
}

int mpb_merge_recipe_build(const char *config_path, MPI_Comm comm, mpb_config **config,
                           mpb_merge_recipe *r, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char *text = NULL;
    if (rank == 0)
        mpb_file_read_text(config_path, "config file", &text, NULL, err);
    return mpb_merge_recipe_build_text(text, config_path, comm, config, r, err);
}

int mpb_merge_recipe_build_text(char *text, const char *config_path, MPI_Comm comm,
                                mpb_config **config, mpb_merge_recipe *r, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(r, 0, sizeof *r);
    *config = NULL;
    if (rank != 0) {
        free(text);
        text = NULL;
    }
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_comm_bcast_string(&text, 0, comm, err);
    if (rc == MPB_OK) {
        /* Every rank parses the same text: no structure to serialise. */
        mpb_config_parse(text, strlen(text), config_path, config, err);
        /* Every rank: each needs the snapshot paths of Hugging Face names. */
        if (err->code == MPB_OK)
            mpb_config_find_hub_models(*config, err);
        if (rank == 0 && err->code == MPB_OK)
            mpb_config_check_files(*config, err);
        rc = mpb_comm_agree(err, comm);
    }
    if (rc == MPB_OK)
        rc = share_indexes(r, *config, comm, err);
    r->config_text = text;
    if (rc)
        return rc;
    r->config = *config;
    r->n_inputs = mpb_config_n_inputs(*config);
    r->n_layers = count_layers(&r->in_idx);
    rc = mpb_index_copy(&r->out_idx, &r->in_idx, err);
    if (rc == MPB_OK)
        rc = resolve_tensors(r, err);
    mpb_dtype out_dt = mpb_config_out_dtype(*config);
    r->min_elem_size = out_dt != MPB_DT_INVALID ? mpb_dtype_size(out_dt) : 0;
    return mpb_comm_agree(err, comm);
}

int mpb_merge_recipe_derive(const mpb_merge_recipe *like, const mpb_config *c,
                            mpb_merge_recipe *r, mpb_error *err)
{
    memset(r, 0, sizeof *r);
    r->config = c;
    r->n_inputs = like->n_inputs;
    r->n_layers = like->n_layers;
    r->min_elem_size = like->min_elem_size; /* the plan's sizing */
    int rc = mpb_index_copy(&r->in_idx, &like->in_idx, err);
    if (rc == MPB_OK)
        rc = mpb_index_copy(&r->out_idx, &like->in_idx, err);
    if (rc == MPB_OK)
        rc = resolve_tensors(r, err);
    return rc;
}

void mpb_merge_recipe_free(mpb_merge_recipe *r)
{
    for (size_t t = 0; r->task && t < r->in_idx.n; t++)
        mpb_merge_task_free(&r->task[t]);
    free(r->task);
    free(r->params);
    for (size_t t = 0; r->column_coef && t < r->in_idx.n; t++)
        free(r->column_coef[t]);
    free(r->column_coef);
    free(r->copy_from);
    free(r->tensor_inputs);
    free(r->coef);
    free(r->config_text);
    for (size_t i = 0; r->own_idx && i < r->n_inputs; i++)
        mpb_index_free(&r->own_idx[i]);
    free(r->own_idx);
    for (size_t m = 0; r->model_idx && m < r->n_models; m++)
        mpb_index_free(&r->model_idx[m]);
    free(r->model_idx);
    free(r->sources);
    mpb_index_free(&r->in_idx);
    mpb_index_free(&r->out_idx);
    mpb_vocab_map_free(&r->vocab);
    mpb_hf_files_free(&r->tokenizer_files);
    memset(r, 0, sizeof *r);
}

uint64_t mpb_merge_recipe_read_bytes(const mpb_merge_recipe *r)
{
    uint64_t total = 0;
    for (size_t t = 0; t < r->in_idx.n; t++) {
        uint64_t b = mpb_tensor_bytes(&r->in_idx.tensors[t]);
        total += r->copy_from[t] >= 0 ? b : b * r->tensor_inputs[t];
    }
    return total;
}

bool mpb_merge_recipe_blends(const mpb_merge_recipe *r, size_t t)
{
    return r->copy_from[t] < 0;
}

size_t mpb_merge_recipe_inputs(const mpb_merge_recipe *r, size_t t)
{
    return r->tensor_inputs[t];
}
