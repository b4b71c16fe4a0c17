/* Output vocabularies and row maps for tokenizer merges; see mpb_vocab.h. */
#include "mpb_vocab.h"

#include "mpb_comm.h"
#include "mpb_hf_tokenizer.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define TOKENIZER_JSON "tokenizer.json"
#define TOKENIZER_CONFIG "tokenizer_config.json"

bool mpb_vocab_is_embedding(const mpb_tensor *t)
{
    static const char *const suffixes[] = {"embed_tokens.weight",
                                           "wte.weight",
                                           "embed_in.weight",
                                           "word_embeddings.weight",
                                           "lm_head.weight",
                                           "embed_out.weight",
                                           NULL};
    if (t->ndim != 2)
        return false;
    size_t len = strlen(t->name);
    for (size_t i = 0; suffixes[i] != NULL; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len >= sl && strcmp(t->name + len - sl, suffixes[i]) == 0 &&
            (len == sl || t->name[len - sl - 1] == '.'))
            return true;
    }
    return false;
}

/* One input's vocabulary as its tokenizer.json gives it. */
typedef struct vocab_in {
    json_t *root;       /* tokenizer.json; NULL: the input has none */
    json_t *ids;        /* token -> id: model.vocab and added_tokens */
    const char **by_id; /* id -> token (NULL where no token has the id) */
    json_t **added;     /* id -> its added_tokens entry, or NULL */
    uint64_t n;         /* largest id + 1 */
} vocab_in;

static void vocab_in_free(vocab_in *v)
{
    json_decref(v->root);
    json_decref(v->ids);
    free(v->by_id);
    free(v->added);
    memset(v, 0, sizeof *v);
}

static int bad_json(const char *owner, const char *what, mpb_error *err)
{
    return mpb_fail(err, MPB_EINVAL, "%s of '%s': %s", TOKENIZER_JSON, owner, what);
}

/* model.vocab is {token: id} (BPE, WordPiece, WordLevel) or [[token,
 * score], ...] (Unigram, id = position). */
static int read_model_vocab(json_t *vocab, json_t *ids, const char *owner, mpb_error *err)
{
    const char *tok;
    json_t *v;
    size_t i;
    if (json_is_object(vocab)) {
        json_object_foreach(vocab, tok, v)
        {
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                return bad_json(owner, "model.vocab holds an id that is not a count", err);
            json_object_set(ids, tok, v);
        }
        return MPB_OK;
    }
    if (!json_is_array(vocab))
        return bad_json(owner, "no model.vocab", err);
    json_array_foreach(vocab, i, v)
    {
        tok = json_string_value(json_array_get(v, 0));
        if (tok == NULL)
            return bad_json(owner, "model.vocab entry without a token", err);
        json_object_set_new(ids, tok, json_integer((json_int_t)i));
    }
    return MPB_OK;
}

static int read_vocab(const mpb_hf_files *set, const char *owner, vocab_in *v, mpb_error *err)
{
    memset(v, 0, sizeof *v);
    const mpb_hf_file *f = mpb_hf_files_find(set, TOKENIZER_JSON);
    if (f == NULL)
        return MPB_OK;
    json_error_t je;
    v->root = json_loadb((const char *)f->data, f->len, 0, &je);
    if (v->root == NULL || !json_is_object(v->root))
        return bad_json(owner, v->root ? "not a JSON object" : je.text, err);
    v->ids = json_object();
    int rc = read_model_vocab(json_object_get(json_object_get(v->root, "model"), "vocab"),
                              v->ids, owner, err);
    json_t *added = json_object_get(v->root, "added_tokens");
    size_t i;
    json_t *tok;
    json_array_foreach(added, i, tok)
    {
        json_t *id = json_object_get(tok, "id");
        const char *content = json_string_value(json_object_get(tok, "content"));
        if (rc == MPB_OK &&
            (content == NULL || !json_is_integer(id) || json_integer_value(id) < 0))
            rc = bad_json(owner, "an added_tokens entry without content or id", err);
        if (rc == MPB_OK)
            json_object_set(v->ids, content, id);
    }
    const char *key;
    json_t *val;
    json_object_foreach(v->ids, key, val)
    {
        if ((uint64_t)json_integer_value(val) + 1 > v->n)
            v->n = (uint64_t)json_integer_value(val) + 1;
    }
    v->by_id = calloc(v->n ? v->n : 1, sizeof *v->by_id);
    v->added = calloc(v->n ? v->n : 1, sizeof *v->added);
    if (v->by_id == NULL || v->added == NULL)
        return rc ? rc : mpb_fail(err, MPB_ENOMEM, "out of memory for a vocabulary");
    json_object_foreach(v->ids, key, val)
    {
        const char **slot = &v->by_id[json_integer_value(val)];
        if (*slot != NULL && rc == MPB_OK)
            rc = mpb_fail(
                err, MPB_EINVAL, "%s of '%s': tokens '%s' and '%s' have the same id %lld",
                TOKENIZER_JSON, owner, *slot, key, (long long)json_integer_value(val));
        *slot = key;
    }
    json_array_foreach(added, i, tok)
    {
        json_int_t id = json_integer_value(json_object_get(tok, "id"));
        if (rc == MPB_OK && (uint64_t)id < v->n)
            v->added[id] = tok;
    }
    return rc;
}

/* The output vocabulary under construction: tokens by id, and their ids. */
typedef struct vocab_out {
    json_t *ids; /* token -> id */
    const char **tokens;
    int *from;      /* per token: input whose tokenizer brought it */
    json_t **added; /* per token: the added_tokens entry it copies, or NULL */
    uint64_t n, cap;
} vocab_out;

static int out_add(vocab_out *o, const char *tok, int from, json_t *added, mpb_error *err)
{
    if (json_object_get(o->ids, tok) != NULL)
        return MPB_OK;
    if (o->n == o->cap) {
        uint64_t cap = o->cap ? o->cap * 2 : 1024;
        const char **t = realloc(o->tokens, cap * sizeof *t);
        if (t != NULL)
            o->tokens = t;
        int *f = t ? realloc(o->from, cap * sizeof *f) : NULL;
        if (f != NULL)
            o->from = f;
        json_t **a = f ? realloc(o->added, cap * sizeof *a) : NULL;
        if (a == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory for the output vocabulary");
        o->added = a;
        o->cap = cap;
    }
    o->tokens[o->n] = tok;
    o->from[o->n] = from;
    o->added[o->n] = added;
    json_object_set_new(o->ids, tok, json_integer((json_int_t)o->n));
    o->n++;
    return MPB_OK;
}

static void vocab_out_free(vocab_out *o)
{
    json_decref(o->ids);
    free(o->tokens);
    free(o->from);
    free(o->added);
    memset(o, 0, sizeof *o);
}

/* A vocabulary taken whole: its ids must be 0..N-1. */
static int out_take(vocab_out *o, const vocab_in *v, int input, const char *owner,
                    mpb_error *err)
{
    int rc = MPB_OK;
    for (uint64_t id = 0; id < v->n && rc == MPB_OK; id++) {
        if (v->by_id[id] == NULL)
            return mpb_fail(err, MPB_EINVAL,
                            "%s of '%s': no token has id %llu, so its vocabulary cannot "
                            "number embedding rows",
                            TOKENIZER_JSON, owner, (unsigned long long)id);
        rc = out_add(o, v->by_id[id], input, v->added[id], err);
    }
    return rc;
}

/* Inputs in the union's order: the lead first, then the others in order. */
static size_t union_order(const mpb_vocab_spec *spec, size_t n, size_t *order)
{
    size_t k = 0;
    order[k++] = (size_t)spec->lead;
    for (size_t i = 0; i < n; i++)
        if ((int)i != spec->lead)
            order[k++] = i;
    return k;
}

/* mergekit's union: the lead's vocabulary, then the other inputs' ordinary
 * tokens it lacks, then every input's added tokens it lacks (the first
 * input's settings win); within an input by id; ids at or past an input's
 * embedding rows are not its tokens. */
static int out_union(vocab_out *o, const vocab_in *v, const mpb_vocab_spec *spec, size_t n,
                     const uint64_t *rows, const char *const *names, mpb_error *err)
{
    size_t order[64];
    if (n > sizeof order / sizeof *order)
        return mpb_fail(err, MPB_EINVAL, "too many inputs for a union");
    union_order(spec, n, order);
    int rc = out_take(o, &v[spec->lead], spec->lead, names[spec->lead], err);
    json_t *added_anywhere = json_object();
    for (size_t k = 0; k < n; k++)
        for (uint64_t id = 0; id < v[order[k]].n && id < rows[order[k]]; id++)
            if (v[order[k]].added[id] != NULL)
                json_object_set_new(added_anywhere, v[order[k]].by_id[id], json_true());
    for (size_t k = 1; k < n && rc == MPB_OK; k++) {
        const vocab_in *in = &v[order[k]];
        for (uint64_t id = 0; id < in->n && id < rows[order[k]] && rc == MPB_OK; id++)
            if (in->by_id[id] != NULL && json_object_get(added_anywhere, in->by_id[id]) == NULL)
                rc = out_add(o, in->by_id[id], (int)order[k], NULL, err);
    }
    for (size_t k = 1; k < n && rc == MPB_OK; k++) {
        const vocab_in *in = &v[order[k]];
        for (uint64_t id = 0; id < in->n && id < rows[order[k]] && rc == MPB_OK; id++)
            if (in->added[id] != NULL)
                rc = out_add(o, in->by_id[id], (int)order[k], in->added[id], err);
    }
    json_decref(added_anywhere);
    return rc;
}

static int read_all(const mpb_hf_files *sets, const char *const *names, size_t n,
                    const mpb_vocab_spec *spec, vocab_in *v, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        rc = read_vocab(&sets[i], names[i], &v[i], err);
        if (rc == MPB_OK && v[i].root == NULL && spec->is_union)
            rc = mpb_fail(err, MPB_EINVAL,
                          "tokenizer_source: union needs every input's %s, and '%s' has "
                          "none",
                          TOKENIZER_JSON, names[i]);
    }
    return rc;
}

/* The output vocabulary the spec asks for; o->n 0 when the source has no
 * tokenizer.json. */
static int build_out(const vocab_in *v, const char *const *names, size_t n,
                     const mpb_vocab_spec *spec, const uint64_t *rows, vocab_out *o,
                     mpb_error *err)
{
    memset(o, 0, sizeof *o);
    o->ids = json_object();
    if (o->ids == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc;
    if (spec->is_union) {
        rc = out_union(o, v, spec, n, rows, names, err);
    } else if (v[spec->source].root == NULL) {
        return spec->pad_to || spec->n_rules
                   ? mpb_fail(err, MPB_EINVAL,
                              "tokenizer.%s needs the %s of tokenizer source '%s', which has "
                              "none",
                              spec->pad_to ? "pad_to_multiple_of" : "tokens", TOKENIZER_JSON,
                              names[spec->source])
                   : MPB_OK;
    } else {
        rc = out_take(o, &v[spec->source], spec->source, names[spec->source], err);
    }
    /* mergekit adds the tokens its rules name, as ordinary tokens. */
    for (size_t k = 0; k < spec->n_rules && rc == MPB_OK; k++)
        rc = out_add(o, spec->rules[k].token, -1, NULL, err);
    return rc;
}

/* mergekit's default for a token some model lacks: the only model that
 * has it; zero when none has it; the base model's row when it has it; else
 * the mean over the models that have it. */
static mpb_vocab_fill default_fill(const mpb_vocab_map *m, const mpb_vocab_spec *spec,
                                   uint64_t t)
{
    size_t present = 0, last = 0;
    for (size_t i = 0; i < m->n_inputs; i++)
        if (m->src[i * m->n_tokens + t] >= 0)
            present++, last = i;
    mpb_vocab_fill f = {.kind = MPB_VOCAB_FILL_NONE, .input = -1, .row = -1, .force = 0};
    if (present == m->n_inputs)
        return f;
    if (present == 0) {
        f.kind = MPB_VOCAB_FILL_ZERO;
    } else if (present == 1) {
        f = (mpb_vocab_fill){MPB_VOCAB_FILL_ROW, (int64_t)last, m->src[last * m->n_tokens + t],
                             0};
    } else if (spec->base >= 0 && m->src[(size_t)spec->base * m->n_tokens + t] >= 0) {
        f = (mpb_vocab_fill){MPB_VOCAB_FILL_ROW, spec->base,
                             m->src[(size_t)spec->base * m->n_tokens + t], 0};
    } else {
        f.kind = MPB_VOCAB_FILL_MEAN;
    }
    return f;
}

/* A rule's row: its model's row for the token, a row of that model by
 * token or id, or zero. */
static int rule_fill(const mpb_token_rule *r, const mpb_vocab_map *m, const vocab_in *v,
                     const char *const *names, const uint64_t *rows, uint64_t t,
                     mpb_vocab_fill *f, mpb_error *err)
{
    *f = (mpb_vocab_fill){
        .kind = MPB_VOCAB_FILL_ZERO, .input = -1, .row = -1, .force = r->force};
    if (r->kind == MPB_TOKEN_ZERO)
        return MPB_OK;
    int64_t row = m->src[(size_t)r->input * m->n_tokens + t];
    const char *what = "the token";
    if (r->kind == MPB_TOKEN_MODEL_TOKEN && r->src_token != NULL) {
        json_t *id = json_object_get(v[r->input].ids, r->src_token);
        row = id ? (int64_t)json_integer_value(id) : -1;
        what = r->src_token;
    } else if (r->kind == MPB_TOKEN_MODEL_TOKEN) {
        row = r->src_id;
        what = NULL;
    }
    if (row < 0 || (uint64_t)row >= rows[r->input]) {
        if (what == NULL)
            return mpb_fail(err, MPB_EINVAL,
                            "tokenizer.tokens '%s': token_id %lld is past the %llu embedding "
                            "rows of '%s'",
                            r->token, (long long)r->src_id, (unsigned long long)rows[r->input],
                            names[r->input]);
        return mpb_fail(err, MPB_EINVAL,
                        "tokenizer.tokens '%s': '%s' is not in the vocabulary of '%s' (its "
                        "%s)",
                        r->token, strcmp(what, "the token") == 0 ? r->token : what,
                        names[r->input], TOKENIZER_JSON);
    }
    f->kind = MPB_VOCAB_FILL_ROW;
    f->input = r->input;
    f->row = row;
    return MPB_OK;
}

static bool is_identity(const mpb_vocab_map *m, const uint64_t *rows)
{
    for (size_t i = 0; i < m->n_inputs; i++) {
        if (rows[i] != rows[0])
            return false;
        for (uint64_t t = 0; t < m->n_tokens; t++)
            if (m->src[i * m->n_tokens + t] != (int64_t)t)
                return false;
    }
    return true;
}

static int fill_map(const vocab_in *v, const vocab_out *o, const mpb_vocab_spec *spec,
                    const uint64_t *rows, const char *const *names, mpb_vocab_map *map,
                    mpb_error *err)
{
    map->n_tokens = o->n;
    map->n_rows = o->n;
    if (spec->pad_to > 1 && o->n % spec->pad_to != 0)
        map->n_rows = (o->n / spec->pad_to + 1) * spec->pad_to;
    map->src = malloc((map->n_inputs * o->n + 1) * sizeof *map->src);
    map->fill = malloc((o->n + 1) * sizeof *map->fill);
    if (map->src == NULL || map->fill == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for the row maps of %llu tokens",
                        (unsigned long long)o->n);
    for (size_t i = 0; i < map->n_inputs; i++) {
        /* An input without tokenizer.json has the source's vocabulary (as
         * mergekit assumes when it cannot load one). */
        const vocab_in *in = v[i].root ? &v[i] : &v[spec->source];
        for (uint64_t t = 0; t < o->n; t++) {
            json_t *id = json_object_get(in->ids, o->tokens[t]);
            int64_t row = id ? (int64_t)json_integer_value(id) : -1;
            map->src[i * o->n + t] = row >= 0 && (uint64_t)row < rows[i] ? row : -1;
        }
    }
    for (uint64_t t = 0; t < o->n; t++)
        map->fill[t] = default_fill(map, spec, t);
    int rc = MPB_OK;
    for (size_t k = 0; k < spec->n_rules && rc == MPB_OK; k++) {
        const mpb_token_rule *r = &spec->rules[k];
        uint64_t t = (uint64_t)json_integer_value(json_object_get(o->ids, r->token));
        rc = rule_fill(r, map, v, names, rows, t, &map->fill[t], err);
    }
    return rc;
}

void mpb_vocab_map_free(mpb_vocab_map *map)
{
    free(map->src);
    free(map->fill);
    memset(map, 0, sizeof *map);
}

int mpb_vocab_map_bcast(mpb_vocab_map *map, int root, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    uint64_t head[3] = {map->n_inputs, map->n_tokens, map->n_rows};
    MPI_Bcast(head, 3, MPI_UINT64_T, root, comm);
    if (rank != root) {
        mpb_vocab_map_free(map);
        map->n_inputs = head[0];
        map->n_tokens = head[1];
        map->n_rows = head[2];
        map->src = malloc((head[0] * head[1] + 1) * sizeof *map->src);
        map->fill = malloc((head[1] + 1) * sizeof *map->fill);
        if (map->src == NULL || map->fill == NULL)
            mpb_fail(err, MPB_ENOMEM, "out of memory for the row maps");
    }
    int rc = mpb_comm_agree(err, comm);
    if (rc != MPB_OK || head[1] == 0)
        return rc;
    /* Counts fit an int: a vocabulary of millions of tokens times a few inputs. */
    MPI_Bcast(map->src, (int)(head[0] * head[1]), MPI_INT64_T, root, comm);
    MPI_Bcast(map->fill, (int)(4 * head[1]), MPI_INT64_T, root, comm);
    return MPB_OK;
}

/* ---- the union's tokenizer files ---- */

/* The added_tokens entry of a token the union adds: a copy of the entry it
 * came with, else an ordinary token as transformers' add_tokens makes it. */
static json_t *added_entry(const vocab_out *o, uint64_t t)
{
    json_t *e = o->added[t] ? json_deep_copy(o->added[t])
                            : json_pack("{s:s, s:b, s:b, s:b, s:b, s:b}", "content",
                                        o->tokens[t], "single_word", 0, "lstrip", 0, "rstrip",
                                        0, "normalized", 1, "special", 0);
    if (e != NULL)
        json_object_set_new(e, "id", json_integer((json_int_t)t));
    return e;
}

static int extend_tokenizer_json(mpb_hf_file *f, const vocab_out *o, uint64_t first,
                                 mpb_error *err)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)f->data, f->len, 0, &je);
    json_t *added = json_object_get(root, "added_tokens");
    if (added == NULL && root != NULL)
        json_object_set_new(root, "added_tokens", added = json_array());
    int rc = root && json_is_array(added)
                 ? MPB_OK
                 : mpb_fail(err, MPB_EINVAL, "%s of the union: no added_tokens list",
                            TOKENIZER_JSON);
    for (uint64_t t = first; t < o->n && rc == MPB_OK; t++)
        if (json_array_append_new(added, added_entry(o, t)) != 0)
            rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (rc == MPB_OK)
        rc = mpb_hf_file_replace_json(f, root, err);
    json_decref(root);
    return rc;
}

/* tokenizer_config.json's added_tokens_decoder: {"id": entry without id}. */
static int extend_tokenizer_config(mpb_hf_file *f, const vocab_out *o, uint64_t first,
                                   mpb_error *err)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)f->data, f->len, 0, &je);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return mpb_fail(err, MPB_EINVAL, "%s of the union's lead is not a JSON object",
                        TOKENIZER_CONFIG);
    }
    json_t *dec = json_object_get(root, "added_tokens_decoder");
    if (!json_is_object(dec))
        json_object_set_new(root, "added_tokens_decoder", dec = json_object());
    int rc = MPB_OK;
    for (uint64_t t = first; t < o->n && rc == MPB_OK; t++) {
        json_t *e = added_entry(o, t);
        char key[32];
        snprintf(key, sizeof key, "%llu", (unsigned long long)t);
        if (e == NULL || json_object_del(e, "id") != 0 || json_object_set_new(dec, key, e) != 0)
            rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    if (rc == MPB_OK)
        rc = mpb_hf_file_replace_json(f, root, err);
    json_decref(root);
    return rc;
}

/* owner's tokenizer files with the tokens the union or the rules add. */
static int extended_files(const mpb_hf_files *sets, const char *const *names, int owner,
                          const vocab_in *v, const vocab_out *o, mpb_hf_files *out,
                          mpb_error *err)
{
    int rc = mpb_hf_files_take_tokenizer(out, &sets[owner], names[owner], err);
    uint64_t first = v[owner].n;
    mpb_hf_file *tj = (mpb_hf_file *)mpb_hf_files_find(out, TOKENIZER_JSON);
    mpb_hf_file *tc = (mpb_hf_file *)mpb_hf_files_find(out, TOKENIZER_CONFIG);
    if (rc == MPB_OK && tj != NULL)
        rc = extend_tokenizer_json(tj, o, first, err);
    if (rc == MPB_OK && tc != NULL)
        rc = extend_tokenizer_config(tc, o, first, err);
    return rc;
}

int mpb_vocab_build(const mpb_hf_files *sets, const char *const *names, size_t n,
                    const mpb_vocab_spec *spec, const uint64_t *rows, mpb_vocab_map *map,
                    mpb_hf_files *files, mpb_error *err)
{
    memset(map, 0, sizeof *map);
    map->n_inputs = n;
    vocab_in *v = calloc(n ? n : 1, sizeof *v);
    vocab_out o = {0};
    if (v == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = read_all(sets, names, n, spec, v, err);
    if (rc == MPB_OK)
        rc = build_out(v, names, n, spec, rows, &o, err);
    if (rc == MPB_OK && o.n > 0)
        rc = fill_map(v, &o, spec, rows, names, map, err);
    int owner = spec->is_union ? spec->lead : spec->source;
    if (rc == MPB_OK && o.n > v[owner].n && files != NULL)
        rc = extended_files(sets, names, owner, v, &o, files, err);
    if (rc == MPB_OK && o.n > 0 && !spec->is_union && spec->pad_to == 0 && spec->n_rules == 0 &&
        is_identity(map, rows)) {
        mpb_vocab_map_free(map); /* nothing changes: rows are read as they are */
        map->n_inputs = n;
    }
    vocab_out_free(&o);
    for (size_t i = 0; i < n; i++)
        vocab_in_free(&v[i]);
    free(v);
    if (rc != MPB_OK)
        mpb_vocab_map_free(map);
    return rc;
}
