/* One statistics pass over a rank's items: row sums in double, magnitude
 * histograms and tie counts, per tensor of the current batch. */
#include "mpb_merge_stats_internal.h"

#include <stdlib.h>
#include <string.h>

uint64_t stats_slot(size_t ts_pos, size_t model, int cut)
{
    return ((uint64_t)ts_pos * MPB_MAX_INPUTS + model) * 2 + (uint64_t)cut;
}

bool stats_small(const stats_run *s, size_t tensor)
{
    return mpb_tensor_numel(&s->r->in_idx.tensors[tensor]) <= STATS_SMALL_TENSOR;
}

int stats_add_rec(stats_run *s, uint64_t slot, uint64_t key, uint64_t row, uint64_t count,
                  mpb_error *err)
{
    if (s->n_recs == s->cap_recs && s->n_recs > 0) /* bins repeat from item to item */
        s->n_recs = stats_compact(s->recs, s->n_recs);
    if (s->n_recs * 2 >= s->cap_recs) { /* compacting freed less than half */
        size_t cap = s->cap_recs ? s->cap_recs * 2 : 4096;
        stats_rec *grown = realloc(s->recs, cap * sizeof *grown);
        if (grown == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu statistics records", cap);
        s->recs = grown;
        s->cap_recs = cap;
    }
    s->recs[s->n_recs++] = (stats_rec){slot, key, row, count};
    return MPB_OK;
}

/* Where one chunk of a row lies: in the slab buffers and in the tensor. */
typedef struct chunk {
    mpb_dtype dt;
    uint64_t at;    /* element offset in the slab buffers */
    uint64_t first; /* element index in the tensor */
    size_t n;
} chunk;

/* Input i decoded (minus the base input when base >= 0) into its scratch row. */
static float *values(stats_run *s, const chunk *c, size_t input, int base)
{
    size_t es = mpb_dtype_size(c->dt);
    float *d = s->d + input * STATS_CHUNK;
    const unsigned char *x = (const unsigned char *)s->slab[input] + c->at * es;
    const unsigned char *b =
        base >= 0 ? (const unsigned char *)s->slab[base] + c->at * es : NULL;
    mpb_method_deltas(c->dt, x, b, c->n, d);
    return d;
}

/* The method's own row sums (registry: sums_add) over its vectors: the
 * task vectors against the base, or the base then the other inputs; or,
 * for a tensor with per-column coefficients, the chunk's columns' exact
 * sums (registry: columns_add; the chunk starts at column `col`). */
static void method_chunk(stats_run *s, const tensor_state *ts, const chunk *c, uint64_t col,
                         uint64_t row_len)
{
    const mpb_method_def *def = mpb_method_get(s->r->method);
    int base = mpb_config_base_index(s->r->config);
    const float *v[MPB_MAX_INPUTS];
    size_t n = 0;
    if (!def->sums_of_deltas)
        v[n++] = values(s, c, (size_t)base, -1);
    for (size_t i = 0; i < mpb_merge_recipe_inputs(s->r, ts->tensor); i++)
        if ((int)i != base)
            v[n++] = values(s, c, i, def->sums_of_deltas ? base : -1);
    if (ts->columns)
        def->columns_add(v, n, c->n, s->cols + ts->cols_at + col, (size_t)row_len);
    else
        def->sums_add(v, n, c->n, s->acc);
}

static bool model_in_pass(const model_state *m, int pass)
{
    static const int stage_of_pass[PASS_COUNT] = {CUT_HIGH, CUT_LOW, CUT_TIES, -1};
    bool any = m->cut[0].stage == stage_of_pass[pass] || m->cut[1].stage == stage_of_pass[pass];
    return any || (pass == PASS_SUMS && (m->q_l1 >= 0 || m->q_kept >= 0));
}

/* The selection of ranker k's cuts over one chunk of its key d (a model's
 * task vector, ranked by magnitude, or SCE's variance): the high histogram
 * (every value of a small tensor), the low one, the tie counts. */
static void ranked_chunk(stats_run *s, const tensor_state *ts, size_t k, const float *d,
                         const chunk *c, uint64_t ties[])
{
    const model_state *m = &ts->m[k];
    uint32_t *hist = s->hist + k * MPB_HIST_HIGH_BINS;
    uint32_t *touched = s->touched + k * MPB_HIST_HIGH_BINS;
    if (s->pass == PASS_SUMS) {
        if ((m->cut[0].stage != CUT_HIGH && m->cut[1].stage != CUT_HIGH) || m->shared >= 0)
            return;
        if (stats_small(s, ts->tensor)) /* every magnitude, sorted at the item's end */
            for (size_t j = 0; j < c->n; j++)
                touched[s->n_touched[2 * k]++] = mpb_abs_bits(d[j]);
        else
            mpb_hist_high(d, c->n, hist, touched, &s->n_touched[2 * k]);
        return;
    }
    for (int h = 0; h < 2; h++) {
        const cut_state *cs = &m->cut[h];
        size_t half = (size_t)h * MPB_HIST_LOW_BINS;
        if (s->pass == PASS_LOW && cs->stage == CUT_LOW)
            mpb_hist_low(d, c->n, cs->high, hist + half, touched + half,
                         &s->n_touched[2 * k + (size_t)h]);
        if (s->pass != PASS_TIES || cs->stage != CUT_TIES)
            continue;
        if (cs->count_ties)
            ties[2 * k + (size_t)h] += mpb_count_equal(d, c->n, cs->cut.bits);
        if (cs->q_above >= 0)
            s->acc[cs->q_above] = mpb_sum_abs_above(d, c->n, cs->cut.bits, s->acc[cs->q_above]);
    }
}

static void task_chunk(stats_run *s, const tensor_state *ts, const chunk *c, uint64_t ties[])
{
    const mpb_merge_task *task = &s->r->task[ts->tensor];
    int base = (int)task->spec.base;
    if (task->spec.fusion) {
        stats_fusion_chunk(s, ts, c->at, c->first, c->n, c->dt);
        return;
    }
    const float *key = stats_sce_chunk(s, ts, (size_t)c->at, c->n, c->dt);
    for (size_t k = 0; k < stats_rankers(task); k++) {
        const model_state *m = &ts->m[k];
        if (!model_in_pass(m, s->pass))
            continue;
        if (k == task->spec.n_models) { /* SCE's select ranks the variance */
            ranked_chunk(s, ts, k, key, c, ties);
            continue;
        }
        const mpb_task_model *tm = &task->spec.models[k];
        const float *d = values(s, c, tm->input, base);
        if (s->pass == PASS_SUMS && m->q_l1 >= 0)
            s->acc[m->q_l1] = mpb_sum_abs(d, c->n, s->acc[m->q_l1]);
        if (s->pass == PASS_SUMS && m->q_kept >= 0 && tm->keep == MPB_KEEP_RANDOM)
            s->acc[m->q_kept] =
                mpb_sum_abs_random(d, c->n, tm->key, c->first, tm->density, s->acc[m->q_kept]);
        ranked_chunk(s, ts, k, d, c, ties);
    }
}

static int descending(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? 1 : a > b ? -1 : 0;
}

/* A small tensor's item: one record per distinct magnitude, with the item. */
static int flush_magnitudes(stats_run *s, uint64_t slot, uint32_t *bits, size_t n,
                            uint64_t row0, mpb_error *err)
{
    qsort(bits, n, sizeof *bits, descending);
    int rc = MPB_OK;
    for (size_t i = 0, j; i < n && rc == MPB_OK; i = j) {
        for (j = i + 1; j < n && bits[j] == bits[i]; j++)
            ;
        rc = stats_add_rec(s, slot, bits[i], row0, j - i, err);
    }
    return rc;
}

int stats_flush_region(stats_run *s, uint64_t slot, size_t at, size_t *n_touched, bool values,
                       uint64_t row0, mpb_error *err)
{
    int rc = MPB_OK;
    if (values) {
        rc = flush_magnitudes(s, slot, s->touched + at, *n_touched, row0, err);
        *n_touched = 0;
    }
    for (size_t i = 0; i < *n_touched; i++) {
        uint32_t *count = &s->hist[at + s->touched[at + i]];
        if (rc == MPB_OK)
            rc = stats_add_rec(s, slot, s->touched[at + i], 0, *count, err);
        *count = 0; /* cleared for the next item */
    }
    *n_touched = 0;
    return rc;
}

/* An item's histogram bins and tie counts become records; the local bins
 * are cleared for the next item. */
static int flush_item(stats_run *s, size_t pos, const tensor_state *ts, const mpb_item *it,
                      const uint64_t ties[], mpb_error *err)
{
    const mpb_merge_task *task = &s->r->task[ts->tensor];
    if (task->spec.fusion)
        return stats_fusion_flush(s, pos, ts, it, err);
    int rc = MPB_OK;
    for (size_t k = 0; k < stats_rankers(task); k++) {
        for (int h = 0; h < 2; h++) {
            size_t at = k * MPB_HIST_HIGH_BINS + (size_t)h * MPB_HIST_LOW_BINS;
            uint64_t slot = stats_slot(pos, k, h);
            int r = stats_flush_region(s, slot, at, &s->n_touched[2 * k + (size_t)h],
                                       s->pass == PASS_SUMS && stats_small(s, ts->tensor),
                                       it->row0, err);
            rc = rc ? rc : r;
            if (ties[2 * k + (size_t)h] && rc == MPB_OK)
                rc = stats_add_rec(s, slot, ts->m[k].cut[h].cut.bits, it->row0,
                                   ties[2 * k + (size_t)h], err);
        }
    }
    return rc;
}

static int accumulate(stats_run *s, size_t tensor, const mpb_item *it, mpb_error *err)
{
    size_t pos = s->ts_of[tensor];
    const tensor_state *ts = &s->ts[pos];
    const mpb_tensor *t = &s->r->in_idx.tensors[tensor];
    uint64_t rows = mpb_tensor_rows(t), row_len = rows ? mpb_tensor_numel(t) / rows : 0;
    uint64_t ties[2 * MPB_MAX_INPUTS] = {0};
    if (s->r->task != NULL && s->pass == PASS_KEPT) /* SCE's select, in index order */
        s->seen_select = mpb_merge_stats_seen(
            &s->r->task[tensor].sparse[s->r->task[tensor].spec.n_models], 0, it->row0);
    for (uint64_t row = 0; row < it->nrows; row++) {
        for (size_t q = 0; q < ts->n_q; q++)
            s->acc[q] = 0.0;
        for (uint64_t off = 0; off < row_len; off += STATS_CHUNK) {
            chunk c = {.dt = t->dtype,
                       .at = row * row_len + off,
                       .first = (it->row0 + row) * row_len + off,
                       .n =
                           (size_t)(row_len - off < STATS_CHUNK ? row_len - off : STATS_CHUNK)};
            if (s->r->task == NULL)
                method_chunk(s, ts, &c, off, row_len);
            else
                task_chunk(s, ts, &c, ties);
        }
        if (s->r->task != NULL &&
            stats_della_row(s, ts, row, (it->row0 + row) * row_len, err) != MPB_OK)
            return err->code;
        if (s->r->task != NULL && s->r->task[tensor].spec.fusion &&
            stats_fusion_row(s, ts, row, err) != MPB_OK)
            return err->code;
        /* Each row's slot is written by exactly one rank: the sum over
         * ranks adds only zeros to it, which is exact. */
        for (size_t q = 0; q < ts->n_q; q++)
            s->sums[ts->sums_at + q * rows + it->row0 + row] = s->acc[q];
    }
    if (s->r->task == NULL)
        return MPB_OK;
    return flush_item(s, pos, ts, it, ties, err);
}

int stats_round(void *ctx, const mpb_round *round, mpb_error *err)
{
    stats_run *s = ctx;
    const mpb_merge_recipe *r = s->r;
    for (size_t k = 0; k < round->n; k++)
        mpb_merge_hold_read(&s->hold, s->inputs, r->n_inputs, NULL, &r->in_idx, round->items[k],
                            s->bufs, round->at[k], &s->bytes_read, err);
    mpb_store_flush(s->inputs, r->n_inputs, err);
    for (size_t k = 0; k < round->n && err->code == MPB_OK; k++) {
        mpb_merge_hold_where(&s->hold, r->n_inputs, &r->in_idx, round->items[k], s->bufs,
                             round->at[k], s->slab);
        accumulate(s, round->items[k]->tensor, round->items[k], err);
    }
    return err->code;
}
