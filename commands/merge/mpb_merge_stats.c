/* The statistics' orchestration: tensors in batches of bounded memory, up to
 * three passes per batch, and what each pass's exchanged numbers decide. */
#include "mpb_merge_stats_internal.h"

#include "mpb_comm.h"
#include "mpb_driver.h"

#include <math.h>
#include <stdlib.h>

/* Row sums and exchanged counts a batch may hold, summed over tensors. */
#define BATCH_BYTES (256ull << 20)

bool stats_is_window(const mpb_merge_task *task, size_t k)
{
    return task->spec.models[k].keep == MPB_KEEP_WINDOW;
}

static bool needs_stats(const mpb_merge_recipe *r, size_t t)
{
    if (!mpb_merge_recipe_blends(r, t) || mpb_tensor_numel(&r->in_idx.tensors[t]) == 0)
        return false;
    if (mpb_method_get(r->method)->blend == MPB_BLEND_STATISTICS)
        return true;
    const mpb_merge_task *task = r->task ? &r->task[t] : NULL;
    for (size_t k = 0; task && k < task->spec.n_models; k++)
        if (stats_is_window(task, k) || task->sparse[k].rescale_l1)
            return true;
    return false;
}

int mpb_merge_stats_passes(const mpb_merge_recipe *r)
{
    int passes = 0;
    for (size_t t = 0; t < r->in_idx.n && passes < PASS_COUNT; t++) {
        if (!needs_stats(r, t))
            continue;
        passes = passes > 1 ? passes : 1;
        for (size_t k = 0; r->task && k < r->task[t].spec.n_models; k++)
            if (stats_is_window(&r->task[t], k))
                passes = PASS_COUNT;
    }
    return passes;
}

uint64_t mpb_merge_stats_seen(const mpb_merge_sparse *sp, int c, uint64_t row0)
{
    size_t lo = 0, hi = sp->n_starts[c];
    while (lo < hi) { /* items that start before row0 */
        size_t mid = lo + (hi - lo) / 2;
        if (sp->start_row[c][mid] < row0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? sp->start_seen[c][lo - 1] : 0;
}

size_t stats_vectors(const mpb_merge_recipe *r)
{
    bool deltas = mpb_method_get(r->method)->sums_of_deltas;
    return deltas && mpb_config_base_index(r->config) >= 0 ? r->n_inputs - 1 : r->n_inputs;
}

size_t stats_quantities(const mpb_merge_recipe *r, size_t t)
{
    const mpb_method_def *def = mpb_method_get(r->method);
    if (def->blend == MPB_BLEND_STATISTICS)
        return def->sums_count(stats_vectors(r));
    return 2 * r->task[t].spec.n_models;
}

/* Bytes a tensor adds to its batch: row sums and, at most, its counts. */
static uint64_t batch_cost(const mpb_merge_recipe *r, size_t t, uint64_t n_items)
{
    const mpb_tensor *tensor = &r->in_idx.tensors[t];
    uint64_t cost = 8 * mpb_tensor_rows(tensor) * stats_quantities(r, t) + 256;
    uint64_t per_slot = mpb_tensor_numel(tensor);
    if (per_slot > n_items * MPB_HIST_HIGH_BINS)
        per_slot = n_items * MPB_HIST_HIGH_BINS;
    /* Small tensors exchange one slot per model, others a slot per cut. */
    uint64_t slots = mpb_tensor_numel(tensor) <= STATS_SMALL_TENSOR ? 1 : 2;
    for (size_t k = 0; r->task && k < r->task[t].spec.n_models; k++)
        if (stats_is_window(&r->task[t], k))
            cost += slots * per_slot * sizeof(stats_rec);
    return cost;
}

static void init_cut(cut_state *c, uint64_t rank, uint64_t numel)
{
    *c = (cut_state){.rank = rank, .stage = CUT_HIGH, .q_above = -1};
    if (rank == 0) {
        c->cut = mpb_cut_none();
        c->stage = CUT_DONE;
    } else if (rank >= numel) {
        c->cut = mpb_cut_all();
        c->stage = CUT_DONE;
        c->l1 = NAN; /* the model's L1 norm, known after PASS_SUMS */
    }
}

static int init_tensor(stats_run *s, tensor_state *ts, size_t t, mpb_error *err)
{
    *ts = (tensor_state){.tensor = t};
    if (s->r->task == NULL)
        return MPB_OK;
    const mpb_merge_task *task = &s->r->task[t];
    uint64_t numel = mpb_tensor_numel(&s->r->in_idx.tensors[t]);
    ts->m = calloc(task->spec.n_models, sizeof *ts->m);
    if (ts->m == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for statistics");
    for (size_t k = 0; k < task->spec.n_models; k++) {
        const mpb_merge_sparse *sp = &task->sparse[k];
        bool window = stats_is_window(task, k);
        init_cut(&ts->m[k].cut[0], window ? sp->rank_hi : numel, numel);
        init_cut(&ts->m[k].cut[1], window ? sp->rank_lo : 0, numel);
    }
    return MPB_OK;
}

static bool tensor_in_pass(const stats_run *s, const tensor_state *ts, int pass)
{
    static const int stage_of_pass[PASS_COUNT] = {CUT_HIGH, CUT_LOW, CUT_TIES};
    if (pass == PASS_SUMS)
        return true; /* every tensor with statistics has sums or a high level */
    for (size_t k = 0; s->r->task && k < s->r->task[ts->tensor].spec.n_models; k++)
        for (int h = 0; h < 2; h++)
            if (ts->m[k].cut[h].stage == stage_of_pass[pass])
                return true;
    return false;
}

/* Numbers the tensor's row sums of this pass; returns how many. */
static size_t layout_sums(const stats_run *s, tensor_state *ts, int pass)
{
    const mpb_merge_recipe *r = s->r;
    if (mpb_method_get(r->method)->blend == MPB_BLEND_STATISTICS)
        return pass == PASS_SUMS ? stats_quantities(r, ts->tensor) : 0;
    const mpb_merge_task *task = &r->task[ts->tensor];
    int q = 0;
    for (size_t k = 0; k < task->spec.n_models; k++) {
        model_state *m = &ts->m[k];
        bool l1 = task->sparse[k].rescale_l1;
        if (pass == PASS_SUMS) {
            m->q_l1 = l1 ? q++ : -1;
            mpb_keep_kind keep = task->spec.models[k].keep;
            m->q_kept = l1 && (keep == MPB_KEEP_RANDOM || keep == MPB_KEEP_DELLA) ? q++ : -1;
        } else {
            m->q_l1 = m->q_kept = -1;
        }
        for (int h = 0; h < 2; h++)
            m->cut[h].q_above =
                pass == PASS_TIES && l1 && m->cut[h].stage == CUT_TIES ? q++ : -1;
    }
    return (size_t)q;
}

/* The plan's items of the tensors in this pass. */
static int pass_plan(const stats_run *s, const mpb_plan *plan, const size_t *first_item,
                     const bool *active, mpb_plan *sub, mpb_error *err)
{
    size_t n = 0;
    for (size_t pos = 0; pos < s->n_ts; pos++)
        if (active[pos])
            n += first_item[s->ts[pos].tensor + 1] - first_item[s->ts[pos].tensor];
    *sub = (mpb_plan){.nranks = plan->nranks, .slab_bytes = plan->slab_bytes};
    sub->items = malloc((n ? n : 1) * sizeof *sub->items);
    sub->rank_bytes = calloc((size_t)plan->nranks, sizeof *sub->rank_bytes);
    sub->rank_items = calloc((size_t)plan->nranks, sizeof *sub->rank_items);
    if (!sub->items || !sub->rank_bytes || !sub->rank_items)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for a statistics pass");
    for (size_t pos = 0; pos < s->n_ts; pos++) {
        size_t t = s->ts[pos].tensor;
        for (size_t i = first_item[t]; active[pos] && i < first_item[t + 1]; i++) {
            const mpb_item *it = &plan->items[i];
            sub->items[sub->n_items++] = *it;
            sub->rank_bytes[it->rank] += mpb_item_bytes(&s->r->in_idx, it, s->r->min_elem_size);
            sub->rank_items[it->rank]++;
        }
    }
    return MPB_OK;
}

typedef struct pass_args {
    const mpb_plan *plan;
    const size_t *first_item;
    const mpb_run_opts *opts;
    mpb_progress *progress;
    MPI_Comm comm;
    uint64_t *bytes_read;
} pass_args;

static int run_pass(stats_run *s, const pass_args *a, bool *active, mpb_error *err)
{
    const mpb_merge_recipe *r = s->r;
    size_t q_max = 1;
    bool any = false;
    s->n_sums = 0;
    for (size_t pos = 0; pos < s->n_ts; pos++) {
        tensor_state *ts = &s->ts[pos];
        const mpb_tensor *t = &r->in_idx.tensors[ts->tensor];
        active[pos] = tensor_in_pass(s, ts, s->pass);
        ts->n_q = active[pos] ? layout_sums(s, ts, s->pass) : 0;
        ts->sums_at = s->n_sums;
        s->n_sums += ts->n_q * mpb_tensor_rows(t);
        q_max = ts->n_q > q_max ? ts->n_q : q_max;
        any |= active[pos];
        if (active[pos])
            *a->bytes_read += mpb_tensor_bytes(t) * r->n_inputs;
    }
    if (!any)
        return MPB_OK;
    mpb_plan sub = {0};
    s->n_recs = 0;
    s->sums = calloc(s->n_sums ? s->n_sums : 1, sizeof *s->sums);
    s->acc = calloc(q_max, sizeof *s->acc);
    if (s->sums == NULL || s->acc == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for %zu row sums", s->n_sums);
    else
        pass_plan(s, a->plan, a->first_item, active, &sub, err);
    int rc = mpb_comm_agree(err, a->comm);
    if (rc == MPB_OK) {
        mpb_drive_opts drive = {.collective = a->opts->io.collective,
                                .min_elem_size = r->min_elem_size,
                                .progress = a->progress ? mpb_progress_update : NULL,
                                .progress_ctx = a->progress};
        rc = mpb_drive(&sub, &r->in_idx, a->comm, &drive, stats_round, s, err);
    }
    if (rc == MPB_OK)
        rc = stats_exchange(s, a->comm, err);
    if (rc == MPB_OK)
        stats_resolve_pass(s, active, err);
    rc = mpb_comm_agree(err, a->comm);
    mpb_plan_free(&sub);
    free(s->sums);
    free(s->acc);
    s->sums = NULL;
    s->acc = NULL;
    return rc;
}

static int run_batch(stats_run *s, const pass_args *a, const size_t *tensors, size_t n,
                     mpb_error *err)
{
    s->ts = calloc(n, sizeof *s->ts);
    bool *active = calloc(n, sizeof *active);
    s->n_ts = 0;
    if (s->ts == NULL || active == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for statistics of %zu tensors", n);
    for (size_t i = 0; s->ts && i < n && err->code == MPB_OK; i++, s->n_ts++) {
        init_tensor(s, &s->ts[i], tensors[i], err);
        s->ts_of[tensors[i]] = i;
    }
    int rc = mpb_comm_agree(err, a->comm);
    for (s->pass = 0; s->pass < PASS_COUNT && rc == MPB_OK; s->pass++)
        rc = run_pass(s, a, active, err);
    for (size_t pos = 0; pos < s->n_ts; pos++) {
        if (rc == MPB_OK && s->r->task != NULL)
            stats_finish_task(s, pos);
        s->ts_of[s->ts[pos].tensor] = SIZE_MAX;
        free(s->ts[pos].m);
    }
    free(s->ts);
    free(active);
    s->ts = NULL;
    return rc;
}

static int alloc_run(stats_run *s, mpb_error *err)
{
    const mpb_merge_recipe *r = s->r;
    size_t models = r->task ? r->n_inputs - 1 : 0;
    s->d = malloc(r->n_inputs * STATS_CHUNK * sizeof *s->d);
    s->ts_of = malloc((r->in_idx.n ? r->in_idx.n : 1) * sizeof *s->ts_of);
    s->hist = calloc(models * MPB_HIST_HIGH_BINS + 1, sizeof *s->hist);
    s->touched = malloc((models * MPB_HIST_HIGH_BINS + 1) * sizeof *s->touched);
    s->n_touched = calloc(2 * models + 1, sizeof *s->n_touched);
    if (!s->d || !s->ts_of || !s->hist || !s->touched || !s->n_touched)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for the statistics");
    for (size_t t = 0; t < r->in_idx.n; t++)
        s->ts_of[t] = SIZE_MAX;
    return MPB_OK;
}

static void free_run(stats_run *s)
{
    free(s->d);
    free(s->ts_of);
    free(s->hist);
    free(s->touched);
    free(s->n_touched);
    free(s->recs);
}

/* first[t] .. first[t + 1]: the plan's items of tensor t. */
static size_t *item_ranges(const mpb_plan *plan, size_t n_tensors)
{
    size_t *first = calloc(n_tensors + 1, sizeof *first);
    for (size_t i = 0; first && i < plan->n_items; i++)
        first[plan->items[i].tensor + 1]++;
    for (size_t t = 0; first && t < n_tensors; t++)
        first[t + 1] += first[t];
    return first;
}

int mpb_merge_stats_run(mpb_merge_recipe *r, const mpb_plan *plan, mpb_store inputs[],
                        void *bufs[], const mpb_run_opts *opts, mpb_progress *progress,
                        MPI_Comm comm, uint64_t *bytes_read, mpb_error *err)
{
    if (mpb_merge_stats_passes(r) == 0)
        return MPB_OK;
    stats_run s = {.r = r, .inputs = inputs, .bufs = bufs};
    size_t nt = r->in_idx.n, *first_item = item_ranges(plan, nt);
    size_t *batch = malloc((nt ? nt : 1) * sizeof *batch);
    if (first_item == NULL || batch == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the statistics");
    else
        alloc_run(&s, err);
    int rc = mpb_comm_agree(err, comm);
    const char *what = progress ? progress->what : NULL;
    if (progress)
        progress->what = "statistics";
    pass_args a = {plan, first_item, opts, progress, comm, bytes_read};
    size_t n = 0;
    uint64_t cost = 0;
    for (size_t t = 0; t < nt && rc == MPB_OK; t++) {
        if (!needs_stats(r, t))
            continue;
        uint64_t c = batch_cost(r, t, first_item[t + 1] - first_item[t]);
        if (n > 0 && cost + c > BATCH_BYTES) {
            rc = run_batch(&s, &a, batch, n, err);
            n = cost = 0;
        }
        batch[n++] = t;
        cost += c;
    }
    if (rc == MPB_OK && n > 0)
        rc = run_batch(&s, &a, batch, n, err);
    if (progress)
        progress->what = what;
    free_run(&s);
    free(first_item);
    free(batch);
    return rc;
}
