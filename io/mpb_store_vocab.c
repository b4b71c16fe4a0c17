/* Input views in the output's vocabulary; see mpb_store_vocab.h. */
#include "mpb_store_vocab.h"

#include "mpb_comm.h"
#include "mpb_convert.h"
#include "mpb_exact_sum.h"

#include <stdlib.h>
#include <string.h>

/* What every view of one merge shares: the map, and per embedding tensor
 * the rows of the tokens that some input lacks, in the tensor's dtype. */
typedef struct shared {
    int refs;
    const mpb_vocab_map *map;
    const mpb_index *idx;
    unsigned char **fills; /* per tensor: NULL when not an embedding */
    int64_t *slot;         /* per token: its row in fills[], or -1 */
} shared;

typedef struct view {
    shared *sh;
    size_t input;
    mpb_store sub;
    unsigned char **pad; /* per tensor: the row past the vocabulary, or NULL */
} view;

static void shared_release(shared *sh)
{
    if (sh == NULL || --sh->refs > 0)
        return;
    for (size_t t = 0; sh->fills && t < sh->idx->n; t++)
        free(sh->fills[t]);
    free(sh->fills);
    free(sh->slot);
    free(sh);
}

static int view_read_rows(void *handle, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                          mpb_error *err)
{
    view *v = handle;
    const shared *sh = v->sh;
    if (sh->fills[tensor] == NULL)
        return v->sub.ops->read_rows(v->sub.handle, tensor, row0, nrows, buf, err);
    const mpb_vocab_map *m = sh->map;
    const int64_t *src = &m->src[v->input * m->n_tokens];
    uint64_t rb = mpb_tensor_row_bytes(&sh->idx->tensors[tensor]);
    unsigned char *out = buf;
    int rc = MPB_OK;
    for (uint64_t r = row0; r < row0 + nrows && rc == MPB_OK;) {
        unsigned char *dst = out + (r - row0) * rb;
        if (r >= m->n_tokens) {
            memcpy(dst, v->pad[tensor], rb);
            r++;
        } else if (src[r] < 0 || m->fill[r].force) {
            memcpy(dst, sh->fills[tensor] + (uint64_t)sh->slot[r] * rb, rb);
            r++;
        } else { /* the longest run of consecutive rows: one read */
            uint64_t len = 1;
            while (r + len < row0 + nrows && r + len < m->n_tokens &&
                   src[r + len] == src[r] + (int64_t)len && !m->fill[r + len].force)
                len++;
            rc = v->sub.ops->read_rows(v->sub.handle, tensor, (uint64_t)src[r], len, dst, err);
            r += len;
        }
    }
    return rc;
}

static int view_flush(void *handle, mpb_error *err)
{
    view *v = handle;
    return v->sub.ops->flush ? v->sub.ops->flush(v->sub.handle, err) : err->code;
}

static int view_close(void *handle, mpb_error *err)
{
    view *v = handle;
    v->sub.ops->close(v->sub.handle, err);
    for (size_t t = 0; v->pad && t < v->sh->idx->n; t++)
        free(v->pad[t]);
    free(v->pad);
    shared_release(v->sh);
    free(v);
    return err->code;
}

static const mpb_store_ops vocab_ops = {
    .name = "vocabulary view",
    .read_rows = view_read_rows,
    .flush = view_flush,
    .close = view_close,
};

/* ---- rows for missing tokens ---- */

/* One row read for the fills: input, row, where it lands. */
typedef struct fetch {
    size_t input;
    int64_t row;
} fetch;

/* The rows fills of tensor t need, in token order then input order. */
static size_t list_fetches(const mpb_vocab_map *m, fetch *f)
{
    size_t k = 0;
    for (uint64_t tok = 0; tok < m->n_tokens; tok++) {
        const mpb_vocab_fill *fl = &m->fill[tok];
        if (fl->kind == MPB_VOCAB_FILL_ROW) {
            if (f)
                f[k] = (fetch){(size_t)fl->input, fl->row};
            k++;
        } else if (fl->kind == MPB_VOCAB_FILL_MEAN) {
            for (size_t i = 0; i < m->n_inputs; i++)
                if (m->src[i * m->n_tokens + tok] >= 0) {
                    if (f)
                        f[k] = (fetch){i, m->src[i * m->n_tokens + tok]};
                    k++;
                }
        }
    }
    return k;
}

/* mergekit's mean of the rows that exist: summed in fp32 in input order,
 * divided in fp32, stored in the tensor's dtype. */
static void mean_row(mpb_dtype dt, const unsigned char *rows, size_t count, uint64_t cols,
                     float *acc, float *tmp, unsigned char *dst)
{
    size_t es = mpb_dtype_size(dt);
    memset(acc, 0, cols * sizeof *acc);
    for (size_t k = 0; k < count; k++) {
        mpb_convert_to_f32(dt, rows + k * cols * es, tmp, cols);
        for (uint64_t c = 0; c < cols; c++)
            acc[c] += tmp[c];
    }
    for (uint64_t c = 0; c < cols; c++)
        acc[c] /= (float)count;
    mpb_convert_from_f32(dt, acc, dst, cols);
}

/* Collective: the fill rows of embedding tensor t from the open stores. */
static int compute_fills(shared *sh, mpb_store *stores, size_t n, size_t t, size_t n_slots,
                         mpb_error *err)
{
    const mpb_vocab_map *m = sh->map;
    const mpb_tensor *ten = &sh->idx->tensors[t];
    uint64_t rb = mpb_tensor_row_bytes(ten), cols = ten->shape[1];
    size_t n_fetch = list_fetches(m, NULL);
    fetch *f = malloc((n_fetch + 1) * sizeof *f);
    unsigned char *got = malloc(n_fetch * rb + 1);
    float *acc = malloc(cols * sizeof *acc), *tmp = malloc(cols * sizeof *tmp);
    sh->fills[t] = calloc(n_slots * rb + 1, 1);
    if (f == NULL || got == NULL || acc == NULL || tmp == NULL || sh->fills[t] == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the rows of %zu missing tokens", n_slots);
    bool any_mean = false;
    for (uint64_t tok = 0; tok < m->n_tokens; tok++)
        any_mean |= m->fill[tok].kind == MPB_VOCAB_FILL_MEAN;
    if (err->code == MPB_OK && any_mean && !mpb_dtype_is_blendable(ten->dtype))
        mpb_fail(err, MPB_EINVAL,
                 "tensor '%s' is %s: the mean rows of tokens only some inputs have need "
                 "F32, F16 or BF16",
                 ten->name, mpb_dtype_name(ten->dtype));
    if (err->code == MPB_OK) {
        list_fetches(m, f);
        for (size_t k = 0; k < n_fetch && err->code == MPB_OK; k++)
            stores[f[k].input].ops->read_rows(stores[f[k].input].handle, t, (uint64_t)f[k].row,
                                              1, got + k * rb, err);
    }
    mpb_store_flush(stores, n, err); /* every rank: the same reads */
    size_t k = 0;
    for (uint64_t tok = 0; tok < m->n_tokens && err->code == MPB_OK; tok++) {
        const mpb_vocab_fill *fl = &m->fill[tok];
        unsigned char *dst = sh->slot[tok] >= 0 ? sh->fills[t] + sh->slot[tok] * rb : NULL;
        if (fl->kind == MPB_VOCAB_FILL_ROW) {
            memcpy(dst, got + k * rb, rb);
            k++;
        } else if (fl->kind == MPB_VOCAB_FILL_MEAN) {
            size_t count = 0;
            for (size_t i = 0; i < n; i++)
                count += m->src[i * m->n_tokens + tok] >= 0;
            mean_row(ten->dtype, got + k * rb, count, cols, acc, tmp, dst);
            k += count;
        } /* ZERO: calloc'd */
    }
    free(f);
    free(got);
    free(acc);
    free(tmp);
    return err->code;
}

/* ---- the mean row past the vocabulary ---- */

/* Collective: the mean of view v's rows [0, n_tokens) of tensor t.  Each
 * rank sums its share of the rows per column exactly (mpb_exact_sum.h),
 * the sums are added over the ranks (exact, so any split gives the same
 * bits), rounded once to double, divided in double, rounded to fp32 and
 * then to the dtype. */
static int compute_pad(view *v, size_t t, MPI_Comm comm, mpb_error *err)
{
    const mpb_tensor *ten = &v->sh->idx->tensors[t];
    uint64_t rb = mpb_tensor_row_bytes(ten), cols = ten->shape[1];
    uint64_t n_tokens = v->sh->map->n_tokens;
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    uint64_t lo = n_tokens * (uint64_t)rank / (uint64_t)nranks;
    uint64_t hi = n_tokens * (uint64_t)(rank + 1) / (uint64_t)nranks;
    uint64_t most = (n_tokens + (uint64_t)nranks - 1) / (uint64_t)nranks; /* any rank's share */
    uint64_t chunk = rb ? (64ull << 20) / rb : 1;
    chunk = chunk < 1 ? 1 : chunk > most ? (most ? most : 1) : chunk;
    unsigned char *rows = malloc(chunk * rb + 1);
    mpb_exact_sum *sum = calloc(cols + 1, sizeof *sum);
    float *tmp = malloc((cols + 1) * sizeof *tmp);
    v->pad[t] = malloc(rb + 1);
    if (rows == NULL || sum == NULL || tmp == NULL || v->pad[t] == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the mean row of '%s'", ten->name);
    if (err->code == MPB_OK && !mpb_dtype_is_blendable(ten->dtype))
        mpb_fail(err, MPB_EINVAL,
                 "tensor '%s' is %s: pad_to_multiple_of's mean rows need F32, F16 or BF16",
                 ten->name, mpb_dtype_name(ten->dtype));
    /* Every rank the same number of flushes: they are collective. */
    for (uint64_t done = 0; done < most; done += chunk) {
        uint64_t r0 = lo + done, nr = r0 < hi ? (hi - r0 < chunk ? hi - r0 : chunk) : 0;
        if (err->code == MPB_OK && nr > 0)
            view_read_rows(v, t, r0, nr, rows, err);
        view_flush(v, err);
        for (uint64_t r = 0; r < nr && err->code == MPB_OK; r++) {
            mpb_convert_to_f32(ten->dtype, rows + r * rb, tmp, cols);
            for (uint64_t c = 0; c < cols; c++)
                mpb_exact_sum_add(&sum[c], (double)tmp[c]);
        }
    }
    int rc = mpb_comm_agree(err, comm);
    if (rc == MPB_OK) {
        for (uint64_t c = 0; c < cols; c++) /* limbs below 2^32: the reduce cannot overflow */
            mpb_exact_sum_normalise(&sum[c]);
        /* cols * MPB_EXACT_WORDS stays far below INT_MAX for any embedding width */
        MPI_Allreduce(MPI_IN_PLACE, sum[0].w, (int)(cols * MPB_EXACT_WORDS), MPI_INT64_T,
                      MPI_SUM, comm);
        for (uint64_t c = 0; c < cols; c++)
            tmp[c] = (float)(mpb_exact_sum_value(&sum[c]) / (double)n_tokens);
        mpb_convert_from_f32(ten->dtype, tmp, v->pad[t], cols);
    }
    free(rows);
    free(sum);
    free(tmp);
    return rc;
}

static shared *shared_new(const mpb_index *idx, const mpb_vocab_map *map, size_t *n_slots)
{
    shared *sh = calloc(1, sizeof *sh);
    if (sh == NULL)
        return NULL;
    sh->map = map;
    sh->idx = idx;
    sh->fills = calloc(idx->n + 1, sizeof *sh->fills);
    sh->slot = malloc((map->n_tokens + 1) * sizeof *sh->slot);
    if (sh->fills == NULL || sh->slot == NULL) {
        free(sh->fills);
        free(sh->slot);
        free(sh);
        return NULL;
    }
    *n_slots = 0;
    for (uint64_t tok = 0; tok < map->n_tokens; tok++)
        sh->slot[tok] = map->fill[tok].kind == MPB_VOCAB_FILL_NONE ? -1 : (int64_t)(*n_slots)++;
    return sh;
}

int mpb_store_vocab_wrap(mpb_store *stores, size_t n, const mpb_index *idx,
                         const mpb_vocab_map *map, MPI_Comm comm, mpb_error *err)
{
    size_t n_slots = 0;
    shared *sh = shared_new(idx, map, &n_slots);
    if (sh == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the vocabulary views");
    int rc = mpb_comm_agree(err, comm);
    if (rc != MPB_OK) {
        if (sh != NULL) {
            sh->refs = 1;
            shared_release(sh);
        }
        return rc;
    }
    for (size_t t = 0; t < idx->n && rc == MPB_OK; t++) {
        if (!mpb_vocab_is_embedding(&idx->tensors[t]))
            continue;
        compute_fills(sh, stores, n, t, n_slots, err);
        rc = mpb_comm_agree(err, comm);
    }
    view **views = calloc(n + 1, sizeof *views);
    if (rc == MPB_OK && views == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the vocabulary views");
    for (size_t i = 0; i < n && err->code == MPB_OK; i++) {
        views[i] = calloc(1, sizeof **views);
        if (views[i] != NULL)
            views[i]->pad = calloc(idx->n + 1, sizeof *views[i]->pad);
        if (views[i] == NULL || views[i]->pad == NULL) {
            mpb_fail(err, MPB_ENOMEM, "out of memory for the vocabulary views");
            break;
        }
        *views[i] = (view){.sh = sh, .input = i, .sub = stores[i], .pad = views[i]->pad};
    }
    rc = mpb_comm_agree(err, comm);
    for (size_t t = 0; t < idx->n && rc == MPB_OK && map->n_rows > map->n_tokens; t++) {
        if (sh->fills[t] == NULL)
            continue;
        for (size_t i = 0; i < n && rc == MPB_OK; i++) {
            compute_pad(views[i], t, comm, err);
            rc = mpb_comm_agree(err, comm);
        }
    }
    if (rc == MPB_OK) {
        sh->refs = (int)n;
        for (size_t i = 0; i < n; i++)
            stores[i] = (mpb_store){.ops = &vocab_ops, .handle = views[i]};
    } else {
        for (size_t i = 0; views && i < n; i++) {
            for (size_t t = 0; views[i] && views[i]->pad && t < idx->n; t++)
                free(views[i]->pad[t]);
            if (views[i])
                free(views[i]->pad);
            free(views[i]);
        }
        sh->refs = 1;
        shared_release(sh);
    }
    free(views);
    return rc;
}
