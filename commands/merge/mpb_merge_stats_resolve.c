/* What each statistics pass's exchanged numbers decide: magnitude cuts and
 * where their equal elements lie, L1 norms and rescale factors, and the
 * coefficients of methods that take them from sums (docs/METHODS.md). */
#include "mpb_merge_stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double row_total(const stats_run *s, const tensor_state *ts, int q)
{
    uint64_t rows = mpb_tensor_rows(&s->r->in_idx.tensors[ts->tensor]);
    const double *v = s->sums + ts->sums_at + (size_t)q * rows;
    double sum = 0.0;
    for (uint64_t i = 0; i < rows; i++) /* in row order: any split gives this sum */
        sum += v[i];
    return sum;
}

int stats_find_in_slot(stats_run *s, uint64_t slot, uint64_t rank, const char *name,
                       uint64_t *bin, uint64_t *above, uint64_t *in_bin, mpb_error *err)
{
    size_t begin, end;
    stats_slot_range(s, slot, &begin, &end);
    mpb_bin *bins = malloc((end - begin + 1) * sizeof *bins);
    if (bins == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory selecting in '%s'", name);
    for (size_t i = begin; i < end; i++)
        bins[i - begin] = (mpb_bin){s->recs[i].key, s->recs[i].count};
    size_t n = mpb_bins_merge(bins, end - begin);
    bool found = mpb_bins_find(bins, n, rank, bin, above, in_bin);
    free(bins);
    if (!found)
        return mpb_fail(err, MPB_EINTERNAL,
                        "tensor '%s': the histograms hold fewer than %llu magnitudes", name,
                        (unsigned long long)rank);
    return MPB_OK;
}

/* Per item (by first row), the elements equal to the cut before it, from
 * the slot's records of magnitude `bits` (by row descending). */
static int keep_tie_counts(stats_run *s, uint64_t slot, uint32_t bits, mpb_merge_sparse *sp,
                           int h, mpb_error *err)
{
    size_t begin, end;
    stats_slot_range(s, slot, &begin, &end);
    while (begin < end && s->recs[begin].key > bits)
        begin++;
    size_t last = begin;
    while (last < end && s->recs[last].key == bits)
        last++;
    size_t n = last - begin;
    sp->start_row[h] = malloc((n ? n : 1) * sizeof(uint64_t));
    sp->start_seen[h] = malloc((n ? n : 1) * sizeof(uint64_t));
    if (sp->start_row[h] == NULL || sp->start_seen[h] == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for tie counts");
    uint64_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        const stats_rec *rec = &s->recs[last - 1 - i];
        seen += rec->count;
        sp->start_row[h][i] = rec->row;
        sp->start_seen[h][i] = seen; /* through this item */
    }
    sp->n_starts[h] = n;
    return MPB_OK;
}

/* The cut once its magnitude is known: how many equal elements are in. */
static int place_cut(stats_run *s, uint64_t slot, cut_state *c, mpb_merge_sparse *sp, int h,
                     uint32_t bits, uint64_t above, uint64_t equal, bool small, mpb_error *err)
{
    c->cut.bits = bits;
    c->cut.need = c->rank - above;
    c->count_ties = c->cut.need < equal;
    c->stage = c->count_ties || sp->rescale_l1 ? CUT_TIES : CUT_DONE;
    if (!small || !c->count_ties)
        return MPB_OK;
    /* A small tensor's records already say where the equal elements are. */
    c->count_ties = false;
    c->stage = sp->rescale_l1 ? CUT_TIES : CUT_DONE;
    return keep_tie_counts(s, slot, bits, sp, h, err);
}

static int resolve_cut(stats_run *s, size_t pos, size_t k, int h, mpb_error *err)
{
    tensor_state *ts = &s->ts[pos];
    cut_state *c = &ts->m[k].cut[h];
    mpb_merge_sparse *sp = &s->r->task[ts->tensor].sparse[k];
    const char *name = s->r->in_idx.tensors[ts->tensor].name;
    bool small = stats_small(s, ts->tensor);
    uint64_t bin, above, in_bin;
    int rc = MPB_OK;
    if (s->pass == PASS_SUMS && c->stage == CUT_HIGH) {
        uint64_t slot = stats_slot(pos, k, 0);
        rc = stats_find_in_slot(s, slot, c->rank, name, &bin, &above, &in_bin, err);
        if (rc == MPB_OK && small)
            return place_cut(s, slot, c, sp, h, (uint32_t)bin, above, in_bin, true, err);
        c->high = (uint32_t)bin;
        c->above = above;
        c->left = c->rank - above;
        c->stage = CUT_LOW;
    } else if (s->pass == PASS_LOW && c->stage == CUT_LOW) {
        rc = stats_find_in_slot(s, stats_slot(pos, k, h), c->left, name, &bin, &above, &in_bin,
                                err);
        if (rc == MPB_OK)
            rc = place_cut(s, stats_slot(pos, k, h), c, sp, h,
                           c->high << MPB_HIST_LOW_BITS | (uint32_t)bin, c->above + above,
                           in_bin, false, err);
    } else if (s->pass == PASS_TIES && c->stage == CUT_TIES) {
        if (c->count_ties)
            rc = keep_tie_counts(s, stats_slot(pos, k, h), c->cut.bits, sp, h, err);
        if (c->q_above >= 0) {
            float value;
            memcpy(&value, &c->cut.bits, sizeof value);
            c->l1 = row_total(s, ts, c->q_above) + (double)c->cut.need * (double)value;
        }
        c->stage = CUT_DONE;
    }
    return rc;
}

/* SCE after a pass's exchange: the select's rank once the zero variances
 * are counted, and the weights once the squares of the kept task vectors
 * are summed (docs/METHODS.md#sce). */
static void stats_sce_resolve(stats_run *s, tensor_state *ts)
{
    mpb_merge_task *task = &s->r->task[ts->tensor];
    mpb_task_spec *spec = &task->spec;
    uint64_t numel = mpb_tensor_numel(&s->r->in_idx.tensors[ts->tensor]);
    if (ts->q_zero >= 0) {
        cut_state *c = &ts->m[spec->n_models].cut[0];
        uint64_t zeros = (uint64_t)row_total(s, ts, ts->q_zero);
        c->rank = mpb_sce_select_rank(task->select_topk, numel - zeros, numel);
        if (c->rank == 0 || c->rank >= numel) {
            c->cut = c->rank ? mpb_cut_all() : mpb_cut_none();
            c->stage = CUT_DONE;
        }
    }
    if (spec->n_models == 0 || ts->m[0].q_sq < 0)
        return;
    double sq[MPB_MAX_INPUTS];
    float w[MPB_MAX_INPUTS];
    for (size_t k = 0; k < spec->n_models; k++)
        sq[k] = row_total(s, ts, ts->m[k].q_sq);
    mpb_sce_weights(sq, spec->n_models, numel, w);
    for (size_t k = 0; k < spec->n_models; k++)
        spec->models[k].weight = w[k];
}

static int resolve_task(stats_run *s, size_t pos, mpb_error *err)
{
    tensor_state *ts = &s->ts[pos];
    mpb_merge_task *task = &s->r->task[ts->tensor];
    int rc = MPB_OK;
    if (task->spec.fusion)
        return stats_fusion_resolve(s, pos, err);
    if (task->spec.sce) {
        stats_sce_resolve(s, ts);
        for (size_t k = task->spec.n_models; k < stats_rankers(task) && rc == MPB_OK; k++)
            for (int h = 0; h < 2 && rc == MPB_OK; h++)
                rc = resolve_cut(s, pos, k, h, err);
        return rc;
    }
    for (size_t k = 0; k < task->spec.n_models && rc == MPB_OK; k++) {
        model_state *m = &ts->m[k];
        if (s->pass == PASS_SUMS && m->q_l1 >= 0) {
            m->l1 = row_total(s, ts, m->q_l1);
            for (int h = 0; h < 2; h++)
                if (isnan(m->cut[h].l1))
                    m->cut[h].l1 = m->l1; /* a cut that holds everything */
            if (m->q_kept >= 0)           /* DARE: the kept L1 norm is known now */
                task->spec.models[k].scale = mpb_rescale_l1(m->l1, row_total(s, ts, m->q_kept));
        }
        for (int h = 0; h < 2 && rc == MPB_OK; h++)
            rc = resolve_cut(s, pos, k, h, err);
    }
    return rc;
}

/* Once every pass ran: the cuts and window rescale factors into the spec. */
void stats_finish_task(stats_run *s, size_t pos)
{
    tensor_state *ts = &s->ts[pos];
    mpb_merge_task *task = &s->r->task[ts->tensor];
    for (size_t k = 0; k < task->spec.n_models; k++) {
        mpb_task_model *tm = &task->spec.models[k];
        const model_state *m = &ts->m[k];
        if (!stats_is_window(task, k))
            continue;
        tm->hi = m->cut[0].cut;
        tm->lo = m->cut[1].cut;
        if (task->sparse[k].rescale_l1)
            tm->scale = mpb_rescale_l1(m->l1, m->cut[0].l1 - m->cut[1].l1);
    }
    if (task->spec.select)
        task->spec.select_cut = ts->m[task->spec.n_models].cut[0].cut;
}

/* Per-column coefficients: each column's exact sums rounded once to
 * double, then the method's formula, column by column. */
static int resolve_columns(stats_run *s, const tensor_state *ts, mpb_error *err)
{
    const mpb_merge_recipe *r = s->r;
    const mpb_method_def *def = mpb_method_get(r->method);
    const mpb_tensor *t = &r->in_idx.tensors[ts->tensor];
    size_t q = stats_quantities(r, ts->tensor);
    size_t cols = (size_t)(mpb_tensor_numel(t) / mpb_tensor_rows(t));
    double totals[MPB_MAX_INPUTS * MPB_MAX_INPUTS];
    float *coef = malloc((cols ? cols : 1) * r->n_inputs * sizeof *coef);
    if (coef == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for the coefficients of %zu columns",
                        cols);
    free(r->column_coef[ts->tensor]);
    r->column_coef[ts->tensor] = coef;
    int rc = MPB_OK;
    for (size_t j = 0; j < cols && rc == MPB_OK; j++) {
        for (size_t k = 0; k < q; k++)
            totals[k] = mpb_exact_sum_value(&s->cols[ts->cols_at + k * cols + j]);
        rc = def->sums_coefficients(totals, &r->params[ts->tensor], t->name,
                                    &coef[j * r->n_inputs], err);
    }
    return rc;
}

/* A method with coefficients from statistics: its fp32 coefficients from
 * the tensor's totals (registry: sums_coefficients). */
static int resolve_coefficients(stats_run *s, size_t pos, mpb_error *err)
{
    const mpb_merge_recipe *r = s->r;
    const tensor_state *ts = &s->ts[pos];
    const mpb_method_def *def = mpb_method_get(r->method);
    if (ts->columns)
        return resolve_columns(s, ts, err);
    size_t q = stats_quantities(r, ts->tensor);
    double *totals = malloc((q ? q : 1) * sizeof *totals);
    if (totals == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu sums", q);
    for (size_t k = 0; k < q; k++)
        totals[k] = row_total(s, ts, (int)k);
    int rc = def->sums_coefficients(totals, &r->params[ts->tensor],
                                    r->in_idx.tensors[ts->tensor].name,
                                    &r->coef[ts->tensor * r->n_inputs], err);
    free(totals);
    return rc;
}

int stats_resolve_pass(stats_run *s, const bool *active, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t pos = 0; pos < s->n_ts && rc == MPB_OK; pos++) {
        if (!active[pos])
            continue;
        if (s->r->task != NULL)
            rc = resolve_task(s, pos, err);
        else
            rc = resolve_coefficients(s, pos, err);
    }
    return rc;
}
