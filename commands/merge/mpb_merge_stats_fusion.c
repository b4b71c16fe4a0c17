/* arcee_fusion's statistics (docs/METHODS.md#arcee_fusion): the KL of every
 * vector along the last dimension (PASS_SUMS), then three exact quantiles
 * of the importance key |d| * KL, selected as the other cuts are: one
 * high-level histogram serves all three (PASS_LOW; a small tensor's values
 * give them at once), and one low-level histogram per distinct high bin
 * (PASS_TIES).  A 1-D tensor is one vector across all its plan rows: its
 * elements travel through the row sums (each row's slot is written by one
 * rank, so the sum over ranks is exact) and every rank computes its KL
 * from the same values once they are exchanged. */
#include "mpb_merge_stats_internal.h"

#include <stdlib.h>
#include <string.h>

static bool gathered(const mpb_tensor *t)
{
    return t->ndim == 1;
}

size_t stats_fusion_quantities(const mpb_merge_recipe *r, size_t t)
{
    const mpb_tensor *tensor = &r->in_idx.tensors[t];
    uint64_t rows = mpb_tensor_rows(tensor), len = r->task[t].spec.fusion_len;
    if (gathered(tensor))
        return 2; /* the row's one element of the model and of the base */
    return rows && len ? (size_t)(mpb_tensor_numel(tensor) / rows / len) : 0;
}

void stats_fusion_init(tensor_state *ts, uint64_t numel)
{
    uint64_t rank[3];
    mpb_fusion_ranks(numel, rank);
    for (int i = 0; i < 3; i++)
        ts->quant[i] = (cut_state){.rank = rank[i], .stage = CUT_HIGH, .q_above = -1};
}

int stats_fusion_passes(uint64_t numel)
{
    return numel <= STATS_SMALL_TENSOR ? PASS_LOW + 1 : PASS_TIES + 1;
}

bool stats_fusion_in_pass(const tensor_state *ts, int pass)
{
    int stage = pass == PASS_LOW ? CUT_HIGH : pass == PASS_TIES ? CUT_LOW : -1;
    bool any = pass == PASS_SUMS;
    for (int i = 0; i < 3; i++)
        any |= ts->quant[i].stage == stage;
    return any;
}

/* The quantile whose low-level histogram quantile i shares (same high bin). */
static int owner(const tensor_state *ts, int i)
{
    for (int j = 0; j < i; j++)
        if (ts->quant[j].stage == CUT_LOW && ts->quant[j].high == ts->quant[i].high)
            return j;
    return i;
}

void stats_fusion_chunk(stats_run *s, const tensor_state *ts, uint64_t at, uint64_t first,
                        size_t n, mpb_dtype dt)
{
    if (s->pass != PASS_LOW && s->pass != PASS_TIES)
        return;
    const mpb_merge_task *task = &s->r->task[ts->tensor];
    const mpb_task_spec *spec = &task->spec;
    size_t es = mpb_dtype_size(dt);
    mpb_method_deltas(dt, (const unsigned char *)s->slab[spec->models[0].input] + at * es,
                      (const unsigned char *)s->slab[spec->base] + at * es, n, s->d);
    mpb_fusion_key(s->d, n, task->fusion_kl, spec->fusion_len, first, s->key);
    if (s->pass == PASS_LOW && stats_small(s, ts->tensor)) {
        for (size_t j = 0; j < n; j++) /* every value, sorted at the item's end */
            s->touched[s->n_touched[0]++] = mpb_abs_bits(s->key[j]);
    } else if (s->pass == PASS_LOW) {
        mpb_hist_high(s->key, n, s->hist, s->touched, &s->n_touched[0]);
    } else {
        for (int i = 0; i < 3; i++) {
            size_t half = (size_t)i * MPB_HIST_LOW_BINS;
            if (ts->quant[i].stage == CUT_LOW && owner(ts, i) == i)
                mpb_hist_low(s->key, n, ts->quant[i].high, s->hist + half, s->touched + half,
                             &s->n_touched[i]);
        }
    }
}

int stats_fusion_row(stats_run *s, const tensor_state *ts, uint64_t row, mpb_error *err)
{
    if (s->pass != PASS_SUMS)
        return MPB_OK;
    const mpb_task_spec *spec = &s->r->task[ts->tensor].spec;
    const mpb_tensor *t = &s->r->in_idx.tensors[ts->tensor];
    size_t es = mpb_dtype_size(t->dtype), len = spec->fusion_len;
    size_t row_len = (size_t)(mpb_tensor_numel(t) / mpb_tensor_rows(t));
    const unsigned char *x = (const unsigned char *)s->slab[spec->models[0].input];
    const unsigned char *b = (const unsigned char *)s->slab[spec->base];
    if (gathered(t)) {
        float v[2];
        mpb_method_deltas(t->dtype, x + row * es, NULL, 1, &v[0]);
        mpb_method_deltas(t->dtype, b + row * es, NULL, 1, &v[1]);
        s->acc[0] = v[0];
        s->acc[1] = v[1];
        return MPB_OK;
    }
    float *xb = malloc(2 * row_len * sizeof *xb);
    double *scratch = malloc(2 * len * sizeof *scratch);
    if (xb == NULL || scratch == NULL) {
        free(xb);
        free(scratch);
        return mpb_fail(err, MPB_ENOMEM,
                        "out of memory for a row of %zu elements of tensor '%s'", row_len,
                        t->name);
    }
    mpb_method_deltas(t->dtype, x + row * row_len * es, NULL, row_len, xb);
    mpb_method_deltas(t->dtype, b + row * row_len * es, NULL, row_len, xb + row_len);
    for (size_t v = 0; v < row_len / len; v++)
        s->acc[v] = mpb_fusion_kl(xb + v * len, xb + row_len + v * len, len, scratch);
    free(xb);
    free(scratch);
    return MPB_OK;
}

int stats_fusion_flush(stats_run *s, size_t pos, const tensor_state *ts, const mpb_item *it,
                       mpb_error *err)
{
    int rc = MPB_OK;
    if (s->pass == PASS_LOW)
        rc = stats_flush_region(s, stats_slot(pos, 0, 0), 0, &s->n_touched[0],
                                stats_small(s, ts->tensor), it->row0, err);
    for (size_t i = 0; i < 3 && s->pass == PASS_TIES; i++) {
        int r = stats_flush_region(s, stats_slot(pos, i, 1), i * MPB_HIST_LOW_BINS,
                                   &s->n_touched[i], false, 0, err);
        rc = rc ? rc : r;
    }
    return rc;
}

/* Every vector's KL from the exchanged row sums, as the key uses it. */
static int resolve_kl(stats_run *s, tensor_state *ts, mpb_error *err)
{
    mpb_merge_task *task = &s->r->task[ts->tensor];
    const mpb_tensor *t = &s->r->in_idx.tensors[ts->tensor];
    uint64_t numel = mpb_tensor_numel(t), rows = mpb_tensor_rows(t);
    size_t len = task->spec.fusion_len, n_vec = (size_t)(numel / len);
    const double *sums = s->sums + ts->sums_at;
    free(task->fusion_kl);
    task->fusion_kl = malloc(n_vec * sizeof *task->fusion_kl);
    float *xb = gathered(t) ? malloc(2 * (size_t)numel * sizeof *xb) : NULL;
    double *scratch = gathered(t) ? malloc(2 * (size_t)numel * sizeof *scratch) : NULL;
    int rc = MPB_OK;
    if (task->fusion_kl == NULL || (gathered(t) && (xb == NULL || scratch == NULL))) {
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory for the KL of tensor '%s'", t->name);
    } else if (gathered(t)) {
        for (size_t j = 0; j < 2 * (size_t)numel; j++)
            xb[j] = (float)sums[j]; /* each an fp32 value, exact in double */
        task->fusion_kl[0] = mpb_fusion_kl_f32(mpb_fusion_kl(xb, xb + numel, numel, scratch));
    } else {
        size_t per_row = n_vec / (size_t)rows;
        for (size_t row = 0; row < rows; row++)
            for (size_t v = 0; v < per_row; v++)
                task->fusion_kl[row * per_row + v] = mpb_fusion_kl_f32(sums[v * rows + row]);
    }
    task->spec.fusion_kl = task->fusion_kl;
    free(xb);
    free(scratch);
    return rc;
}

int stats_fusion_resolve(stats_run *s, size_t pos, mpb_error *err)
{
    tensor_state *ts = &s->ts[pos];
    mpb_merge_task *task = &s->r->task[ts->tensor];
    const char *name = s->r->in_idx.tensors[ts->tensor].name;
    uint64_t bin, above, in_bin;
    int rc = MPB_OK;
    if (s->pass == PASS_SUMS)
        return resolve_kl(s, ts, err);
    int own[3]; /* before any stage changes: owner() reads them */
    for (int i = 0; i < 3; i++)
        own[i] = owner(ts, i);
    for (int i = 0; i < 3 && rc == MPB_OK; i++) {
        cut_state *q = &ts->quant[i];
        if (s->pass == PASS_LOW && q->stage == CUT_HIGH) {
            rc = stats_find_in_slot(s, stats_slot(pos, 0, 0), q->rank, name, &bin, &above,
                                    &in_bin, err);
            q->high = (uint32_t)bin;
            q->left = q->rank - above;
            q->cut.bits = (uint32_t)bin;
            q->stage = stats_small(s, ts->tensor) ? CUT_DONE : CUT_LOW;
        } else if (s->pass == PASS_TIES && q->stage == CUT_LOW) {
            rc = stats_find_in_slot(s, stats_slot(pos, (size_t)own[i], 1), q->left, name, &bin,
                                    &above, &in_bin, err);
            q->cut.bits = q->high << MPB_HIST_LOW_BITS | (uint32_t)bin;
            q->stage = CUT_DONE;
        }
    }
    float value[3];
    for (int i = 0; i < 3; i++) {
        if (ts->quant[i].stage != CUT_DONE)
            return rc;
        memcpy(&value[i], &ts->quant[i].cut.bits, sizeof value[i]);
    }
    task->spec.fusion_threshold = mpb_fusion_threshold(value[0], value[1], value[2]);
    return rc;
}
