#include "mpb_merge_vocab.h"

#include "mpb_comm.h"
#include "mpb_inputs.h"
#include "mpb_store.h"

#include <stdlib.h>
#include <string.h>

bool mpb_merge_vocab_wanted(const mpb_config *c)
{
    return mpb_config_tokenizer_union(c) || mpb_config_tokenizer_input(c) >= 0;
}

static mpb_vocab_spec spec_of(const mpb_config *c)
{
    int base = mpb_config_given_base(c);
    const mpb_token_rule *rules;
    size_t n_rules = mpb_config_token_rules(c, &rules);
    return (mpb_vocab_spec){.rules = rules,
                            .n_rules = n_rules,
                            .source = mpb_config_tokenizer_input(c),
                            .is_union = mpb_config_tokenizer_union(c),
                            .lead = base >= 0 ? base : 0,
                            .base = base,
                            .pad_to = mpb_config_tokenizer_pad(c)};
}

/* The rows of input i's embeddings (they must agree); 0 when it has none. */
static int embedding_rows(const mpb_index *idx, const char *path, uint64_t *rows,
                          mpb_error *err)
{
    *rows = 0;
    const char *first = NULL;
    for (size_t t = 0; t < idx->n; t++) {
        const mpb_tensor *ten = &idx->tensors[t];
        if (!mpb_vocab_is_embedding(ten))
            continue;
        if (first != NULL && ten->shape[0] != *rows)
            return mpb_fail(err, MPB_EINVAL,
                            "%s: tensors '%s' and '%s' hold %llu and %llu token rows; a "
                            "vocabulary numbers both",
                            path, first, ten->name, (unsigned long long)*rows,
                            (unsigned long long)ten->shape[0]);
        first = ten->name;
        *rows = ten->shape[0];
    }
    return MPB_OK;
}

/* Rank 0: the map from the inputs' files. */
static int build_map(mpb_merge_recipe *r, const mpb_config *c, const char *const *paths,
                     size_t n, const mpb_index *own, mpb_error *err)
{
    uint64_t rows[MPB_MAX_INPUTS];
    mpb_hf_files sets[MPB_MAX_INPUTS];
    memset(sets, 0, sizeof sets);
    mpb_vocab_spec spec = spec_of(c);
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        rc = embedding_rows(&own[i], paths[i], &rows[i], err);
        if (rc == MPB_OK && rows[i] == 0 && (spec.is_union || spec.pad_to > 0 || spec.n_rules))
            rc = mpb_fail(err, MPB_EINVAL,
                          "%s has no embedding tensor (embed_tokens, wte, lm_head, ...) to "
                          "build for the %s vocabulary",
                          paths[i], spec.is_union ? "union" : "output");
        if (rc == MPB_OK)
            rc = mpb_store_for_path(paths[i])->read_files(paths[i], &sets[i], err);
    }
    bool any_rows = false;
    for (size_t i = 0; i < n; i++)
        any_rows |= rows[i] > 0;
    if (rc == MPB_OK && any_rows)
        rc = mpb_vocab_build(sets, paths, n, &spec, rows, &r->vocab, &r->tokenizer_files, err);
    for (size_t i = 0; i < n; i++)
        mpb_hf_files_free(&sets[i]);
    return rc;
}

/* A copy of idx with every embedding at `rows` rows. */
static int with_rows(const mpb_index *idx, uint64_t rows, mpb_index *out, mpb_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = mpb_index_copy(out, idx, err);
    for (size_t t = 0; t < out->n && rc == MPB_OK && rows > 0; t++)
        if (mpb_vocab_is_embedding(&out->tensors[t]))
            out->tensors[t].shape[0] = rows;
    return rc;
}

int mpb_merge_vocab_share(mpb_merge_recipe *r, const mpb_config *c, const char *const *paths,
                          size_t n, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (n == 0 || n > MPB_MAX_INPUTS)
        return mpb_fail(err, MPB_EINVAL, "%zu input checkpoints given (1 to %d)", n,
                        MPB_MAX_INPUTS);
    r->own_idx = calloc(n, sizeof *r->own_idx);
    if (r->own_idx == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu indexes", n);
    int rc = mpb_inputs_read_indexes(paths, n, comm, r->own_idx, err);
    if (rc == MPB_OK && rank == 0)
        build_map(r, c, paths, n, r->own_idx, err);
    if (rc == MPB_OK)
        rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_vocab_map_bcast(&r->vocab, 0, comm, err);
    /* Every rank checks the same indexes: the same verdict everywhere. */
    mpb_index first = {0}, other = {0};
    uint64_t rows = r->vocab.n_tokens > 0 ? r->vocab.n_rows : 0;
    if (rc == MPB_OK)
        rc = with_rows(&r->own_idx[0], rows, &first, err);
    for (size_t i = 1; i < n && rc == MPB_OK; i++) {
        rc = with_rows(&r->own_idx[i], rows, &other, err);
        if (rc == MPB_OK)
            rc = mpb_index_check_same(&first, paths[0], &other, paths[i], err);
        mpb_index_free(&other);
    }
    if (rc == MPB_OK)
        rc = mpb_index_copy(&r->in_idx, &first, err);
    mpb_index_free(&first);
    rc = mpb_comm_agree(err, comm);
    if (rc != MPB_OK) { /* as mpb_inputs_share_index: nothing kept on failure */
        for (size_t i = 0; i < n; i++)
            mpb_index_free(&r->own_idx[i]);
        mpb_vocab_map_free(&r->vocab);
        mpb_hf_files_free(&r->tokenizer_files);
    }
    return rc;
}

int mpb_merge_vocab_map_slices(mpb_merge_recipe *r, const mpb_config *c, MPI_Comm comm,
                               mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (!mpb_merge_vocab_wanted(c) || !mpb_config_slices_vocab(c))
        return mpb_config_map_slices(c, r->model_idx, &r->in_idx, &r->sources, err);
    /* Input k of the vocabulary is slot k: slices[0]'s (and the last
     * slice's) k-th source, whose embedding and lm_head the output's are. */
    size_t n = mpb_config_n_inputs(c);
    const char *paths[MPB_MAX_INPUTS];
    mpb_index own[MPB_MAX_INPUTS];
    for (size_t k = 0; k < n; k++) {
        paths[k] = mpb_config_input_path(c, k);
        for (size_t m = 0; m < r->n_models; m++)
            if (strcmp(mpb_config_model_path(c, m), paths[k]) == 0)
                own[k] = r->model_idx[m];
    }
    if (rank == 0)
        build_map(r, c, paths, n, own, err);
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK)
        rc = mpb_vocab_map_bcast(&r->vocab, 0, comm, err);
    /* The slices are mapped with every embedding at the output's rows. */
    uint64_t rows = r->vocab.n_tokens > 0 ? r->vocab.n_rows : 0;
    mpb_index *at_rows = calloc(r->n_models, sizeof *at_rows);
    if (rc == MPB_OK && at_rows == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory for %zu indexes", r->n_models);
    for (size_t m = 0; m < r->n_models && rc == MPB_OK; m++)
        rc = with_rows(&r->model_idx[m], rows, &at_rows[m], err);
    if (rc == MPB_OK)
        rc = mpb_config_map_slices(c, at_rows, &r->in_idx, &r->sources, err);
    for (size_t m = 0; at_rows != NULL && m < r->n_models; m++)
        mpb_index_free(&at_rows[m]);
    free(at_rows);
    if (rc != MPB_OK) {
        mpb_vocab_map_free(&r->vocab);
        mpb_hf_files_free(&r->tokenizer_files);
    }
    return rc;
}

void mpb_merge_vocab_output(const mpb_merge_recipe *r, const char *const *inputs,
                            mpb_job_output *out)
{
    int tokenizer = mpb_config_tokenizer_input(r->config);
    out->tokenizer_from = tokenizer >= 0 ? inputs[tokenizer] : NULL;
    out->tokenizer_files = r->tokenizer_files.n > 0 ? &r->tokenizer_files : NULL;
    out->vocab_size = r->vocab.n_tokens > 0 ? r->vocab.n_rows : 0;
    out->chat_template = mpb_config_chat_template(r->config);
}
