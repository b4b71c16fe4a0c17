/* The statistics' orchestration: tensors in batches of bounded memory, up to
 * four passes per batch, and what each pass's exchanged numbers decide. */
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

size_t stats_rankers(const mpb_merge_task *task)
{
    return task->spec.n_models + (task->spec.select ? 1 : 0);
}

static bool needs_stats(const mpb_merge_recipe *r, size_t t)
{
    if (!mpb_merge_recipe_blends(r, t) || mpb_tensor_numel(&r->in_idx.tensors[t]) == 0)
        return false;
    if (mpb_method_get(r->method)->blend == MPB_BLEND_STATISTICS)
        return true;
    const mpb_merge_task *task = r->task ? &r->task[t] : NULL;
    if (task && (task->spec.sce || task->spec.fusion)) /* weights; KL and quantiles */
        return true;
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
        int most = 1; /* the sums */
        for (size_t k = 0; r->task && k < r->task[t].spec.n_models; k++)
            if (stats_is_window(&r->task[t], k))
                most = PASS_TIES + 1;
        if (r->task && r->task[t].spec.select)
            most = PASS_KEPT + 1;
        if (r->task && r->task[t].spec.fusion)
            most = stats_fusion_passes(mpb_tensor_numel(&r->in_idx.tensors[t]));
        passes = passes > most ? passes : most;
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

size_t stats_vectors(const mpb_merge_recipe *r, size_t t)
{
    bool deltas = mpb_method_get(r->method)->sums_of_deltas;
    size_t n = mpb_merge_recipe_inputs(r, t);
    return deltas && mpb_config_base_index(r->config) >= 0 ? n - 1 : n;
}

bool stats_columns(const mpb_merge_recipe *r, size_t t)
{
    const mpb_method_def *def = mpb_method_get(r->method);
    return def->blend == MPB_BLEND_STATISTICS && def->columns != NULL &&
           def->columns(&r->params[t], r->in_idx.tensors[t].ndim);
}

static uint64_t row_len(const mpb_tensor *t)
{
    uint64_t rows = mpb_tensor_rows(t);
    return rows ? mpb_tensor_numel(t) / rows : 0;
}

size_t stats_quantities(const mpb_merge_recipe *r, size_t t)
{
    const mpb_method_def *def = mpb_method_get(r->method);
    if (def->blend == MPB_BLEND_STATISTICS)
        return def->sums_count(stats_vectors(r, t));
    if (r->task[t].spec.fusion)
        return stats_fusion_quantities(r, t);
    return 2 * r->task[t].spec.n_models + 1; /* SCE: squares per model, zero variances */
}

/* Bytes a tensor adds to its batch: row sums and, at most, its counts. */
static uint64_t batch_cost(const mpb_merge_recipe *r, size_t t, uint64_t n_items)
{
    const mpb_tensor *tensor = &r->in_idx.tensors[t];
    uint64_t cost = 8 * mpb_tensor_rows(tensor) * stats_quantities(r, t) + 256;
    if (stats_columns(r, t))
        cost += sizeof(mpb_exact_sum) * row_len(tensor) * stats_quantities(r, t);
    uint64_t per_slot = mpb_tensor_numel(tensor);
    if (per_slot > n_items * MPB_HIST_HIGH_BINS)
        per_slot = n_items * MPB_HIST_HIGH_BINS;
    /* Small tensors exchange one slot per model, others a slot per cut. */
    uint64_t slots = mpb_tensor_numel(tensor) <= STATS_SMALL_TENSOR ? 1 : 2;
    for (size_t k = 0; r->task && k < r->task[t].spec.n_models; k++)
        if (stats_is_window(&r->task[t], k))
            cost += slots * per_slot * sizeof(stats_rec);
    if (r->task && r->task[t].spec.select)
        cost += per_slot * sizeof(stats_rec); /* one cut */
    if (r->task && r->task[t].spec.fusion)    /* the high level, then up to 3 low ones */
        cost += 2 * per_slot * sizeof(stats_rec);
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
    *ts = (tensor_state){.tensor = t, .columns = stats_columns(s->r, t)};
    if (s->r->task == NULL)
        return MPB_OK;
    const mpb_merge_task *task = &s->r->task[t];
    uint64_t numel = mpb_tensor_numel(&s->r->in_idx.tensors[t]);
    ts->m = calloc(stats_rankers(task), sizeof *ts->m);
    if (ts->m == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for statistics");
    ts->q_zero = -1;
    for (size_t k = 0; k < stats_rankers(task); k++) {
        ts->m[k].shared = ts->m[k].q_l1 = ts->m[k].q_kept = ts->m[k].q_sq = -1;
        bool window = k < task->spec.n_models && stats_is_window(task, k);
        const mpb_merge_sparse *sp = &task->sparse[k];
        init_cut(&ts->m[k].cut[0], window ? sp->rank_hi : numel, numel);
        init_cut(&ts->m[k].cut[1], window ? sp->rank_lo : 0, numel);
    }
    if (task->spec.fusion)
        stats_fusion_init(ts, numel);
    if (task->spec.select) /* its rank is known once the zero variances are counted */
        ts->m[task->spec.n_models].cut[0] = (cut_state){.stage = CUT_HIGH, .q_above = -1};
    return MPB_OK;
}

static bool tensor_in_pass(const stats_run *s, const tensor_state *ts, int pass)
{
    static const int stage_of_pass[PASS_COUNT] = {CUT_HIGH, CUT_LOW, CUT_TIES, -1};
    if (s->r->task && s->r->task[ts->tensor].spec.fusion)
        return stats_fusion_in_pass(ts, pass);
    if (pass == PASS_SUMS)
        return true; /* every tensor with statistics has sums or a high level */
    if (pass == PASS_KEPT)
        return s->r->task && s->r->task[ts->tensor].spec.select;
    for (size_t k = 0; s->r->task && k < stats_rankers(&s->r->task[ts->tensor]); k++)
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
        return pass == PASS_SUMS && !ts->columns ? stats_quantities(r, ts->tensor) : 0;
    const mpb_merge_task *task = &r->task[ts->tensor];
    int q = 0;
    if (task->spec.fusion)
        return pass == PASS_SUMS ? stats_quantities(r, ts->tensor) : 0;
    if (task->spec.sce) {
        bool squares = pass == (task->spec.select ? PASS_KEPT : PASS_SUMS);
        for (size_t k = 0; k < task->spec.n_models; k++)
            ts->m[k].q_sq = squares ? q++ : -1;
        ts->q_zero = task->spec.select && pass == PASS_SUMS ? q++ : -1;
        return (size_t)q;
    }
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

/* The plan's items of the listed tensors, in plan order. */
static int sub_plan(const mpb_merge_recipe *r, const mpb_plan *plan, const size_t *first_item,
                    const size_t *tensors, size_t n_tensors, mpb_plan *sub, mpb_error *err)
{
    size_t n = 0;
    for (size_t k = 0; k < n_tensors; k++)
        n += first_item[tensors[k] + 1] - first_item[tensors[k]];
    *sub = (mpb_plan){.nranks = plan->nranks, .slab_bytes = plan->slab_bytes};
    sub->items = malloc((n ? n : 1) * sizeof *sub->items);
    sub->rank_bytes = calloc((size_t)plan->nranks, sizeof *sub->rank_bytes);
    sub->rank_items = calloc((size_t)plan->nranks, sizeof *sub->rank_items);
    if (!sub->items || !sub->rank_bytes || !sub->rank_items)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for a plan of %zu items", n);
    for (size_t k = 0; k < n_tensors; k++) {
        for (size_t i = first_item[tensors[k]]; i < first_item[tensors[k] + 1]; i++) {
            const mpb_item *it = &plan->items[i];
            sub->items[sub->n_items++] = *it;
            sub->rank_bytes[it->rank] += mpb_item_bytes(&r->in_idx, it, r->min_elem_size);
            sub->rank_items[it->rank]++;
        }
    }
    return MPB_OK;
}

typedef struct pass_args {
    mpb_merge_recipe *const *recipes;
    size_t n_recipes;
    const mpb_plan *plan;
    const size_t *first_item;
    const mpb_run_opts *opts;
    MPI_Comm comm;
    mpb_merge_batch_fn then;
    void *then_ctx;
} pass_args;

static int run_pass(stats_run *s, const pass_args *a, bool *active, mpb_error *err)
{
    const mpb_merge_recipe *r = s->r;
    size_t q_max = 1;
    bool any = false;
    s->n_sums = s->n_cols = 0;
    for (size_t pos = 0; pos < s->n_ts; pos++) {
        tensor_state *ts = &s->ts[pos];
        const mpb_tensor *t = &r->in_idx.tensors[ts->tensor];
        active[pos] = tensor_in_pass(s, ts, s->pass);
        ts->n_q = active[pos] ? layout_sums(s, ts, s->pass) : 0;
        ts->sums_at = s->n_sums;
        s->n_sums += ts->n_q * mpb_tensor_rows(t);
        ts->cols_at = s->n_cols;
        if (active[pos] && ts->columns && s->pass == PASS_SUMS)
            s->n_cols += stats_quantities(r, ts->tensor) * row_len(t);
        q_max = ts->n_q > q_max ? ts->n_q : q_max;
        any |= active[pos];
    }
    if (!any)
        return MPB_OK;
    mpb_plan sub = {0};
    s->n_recs = 0;
    s->sums = calloc(s->n_sums ? s->n_sums : 1, sizeof *s->sums);
    s->cols = calloc(s->n_cols ? s->n_cols : 1, sizeof *s->cols); /* zero words: cleared */
    s->acc = calloc(q_max, sizeof *s->acc);
    size_t *tensors = malloc((s->n_ts ? s->n_ts : 1) * sizeof *tensors), n = 0;
    for (size_t pos = 0; tensors && pos < s->n_ts; pos++)
        if (active[pos])
            tensors[n++] = s->ts[pos].tensor;
    if (s->sums == NULL || s->cols == NULL || s->acc == NULL || tensors == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for %zu row sums and %zu column sums",
                 s->n_sums, s->n_cols);
    else
        sub_plan(r, a->plan, a->first_item, tensors, n, &sub, err);
    free(tensors);
    if (s->pass == PASS_SUMS && r->task != NULL)
        stats_share_mark(s);
    int rc = mpb_comm_agree(err, a->comm);
    if (rc == MPB_OK) {
        mpb_drive_opts drive = {.collective = a->opts->io.collective,
                                .min_elem_size = r->min_elem_size};
        rc = mpb_drive(&sub, &r->in_idx, a->comm, &drive, stats_round, s, err);
    }
    if (rc == MPB_OK)
        rc = stats_exchange(s, a->comm, err);
    if (rc == MPB_OK && s->pass == PASS_SUMS && r->task != NULL)
        rc = stats_share_magnitudes(s, err); /* every rank alike: no agreement needed */
    if (rc == MPB_OK)
        stats_resolve_pass(s, active, err);
    rc = mpb_comm_agree(err, a->comm);
    mpb_plan_free(&sub);
    free(s->sums);
    free(s->cols);
    free(s->acc);
    s->sums = NULL;
    s->cols = NULL;
    s->acc = NULL;
    return rc;
}

/* One recipe's passes over the batch's tensors that need its statistics. */
static int run_recipe(stats_run *s, const pass_args *a, const size_t *tensors, size_t n,
                      mpb_error *err)
{
    s->ts = calloc(n ? n : 1, sizeof *s->ts);
    bool *active = calloc(n ? n : 1, sizeof *active);
    s->n_ts = 0;
    if (s->ts == NULL || active == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for statistics of %zu tensors", n);
    for (size_t i = 0; s->ts && i < n && err->code == MPB_OK; i++) {
        if (!needs_stats(s->r, tensors[i]))
            continue;
        init_tensor(s, &s->ts[s->n_ts], tensors[i], err);
        s->ts_of[tensors[i]] = s->n_ts++;
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

/* A batch: its inputs held within the budget, every recipe's statistics
 * over them, then the batch handed on. */
static int run_batch(stats_run *s, const pass_args *a, const size_t *tensors, size_t n,
                     mpb_error *err)
{
    int rank;
    MPI_Comm_rank(a->comm, &rank);
    const mpb_merge_recipe *r0 = a->recipes[0];
    mpb_plan batch = {0};
    if (sub_plan(r0, a->plan, a->first_item, tensors, n, &batch, err) == MPB_OK)
        mpb_merge_hold_begin(&s->hold, &batch, &r0->in_idx, r0->n_inputs, rank,
                             a->opts->memory_bytes, err);
    int rc = mpb_comm_agree(err, a->comm);
    for (size_t k = 0; k < a->n_recipes && rc == MPB_OK; k++) {
        s->r = a->recipes[k];
        rc = run_recipe(s, a, tensors, n, err);
    }
    stats_share_clear(s);
    if (rc == MPB_OK)
        rc = a->then(a->then_ctx, &batch, &s->hold, err);
    mpb_merge_hold_end(&s->hold);
    mpb_plan_free(&batch);
    return rc;
}

static int alloc_run(stats_run *s, mpb_error *err)
{
    const mpb_merge_recipe *r = s->r;
    size_t models = r->n_inputs; /* enough for any recipe's rankers */
    s->d = malloc(r->n_inputs * STATS_CHUNK * sizeof *s->d);
    s->key = malloc(STATS_CHUNK * sizeof *s->key);
    s->ts_of = malloc((r->in_idx.n ? r->in_idx.n : 1) * sizeof *s->ts_of);
    s->hist = calloc(models * MPB_HIST_HIGH_BINS + 1, sizeof *s->hist);
    s->touched = malloc((models * MPB_HIST_HIGH_BINS + 1) * sizeof *s->touched);
    s->n_touched = calloc(2 * models + 1, sizeof *s->n_touched);
    if (!s->d || !s->key || !s->ts_of || !s->hist || !s->touched || !s->n_touched)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for the statistics");
    for (size_t t = 0; t < r->in_idx.n; t++)
        s->ts_of[t] = SIZE_MAX;
    return MPB_OK;
}

static void free_run(stats_run *s)
{
    free(s->d);
    free(s->key);
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

/* Whether some recipe needs statistics of tensor t, and the most memory
 * one recipe's statistics of it take (recipes run one after another). */
static bool any_needs(mpb_merge_recipe *const recipes[], size_t n, size_t t)
{
    for (size_t k = 0; k < n; k++)
        if (needs_stats(recipes[k], t))
            return true;
    return false;
}

static uint64_t most_cost(mpb_merge_recipe *const recipes[], size_t n, size_t t,
                          uint64_t n_items)
{
    uint64_t most = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t c = needs_stats(recipes[k], t) ? batch_cost(recipes[k], t, n_items) : 0;
        most = c > most ? c : most;
    }
    return most;
}

/* Forms batches of the tensors that need statistics, in index order: each
 * batch's row sums and counts stay within BATCH_BYTES, and every rank's
 * share of its inputs within the memory budget (a tensor that alone passes
 * the budget makes a batch of its own).  Every rank forms the same
 * batches from the same plan. */
typedef struct batcher {
    mpb_merge_recipe *const *recipes;
    size_t n_recipes;
    const mpb_plan *plan;
    const size_t *first_item;
    uint64_t budget;
    size_t next;         /* the next tensor to look at */
    uint64_t *rank_hold; /* per rank, the batch's input bytes so far */
    uint64_t *need;      /* per rank, one tensor's */
} batcher;

static int batcher_init(batcher *b, mpb_merge_recipe *const recipes[], size_t n_recipes,
                        const mpb_plan *plan, const size_t *first_item, uint64_t budget,
                        mpb_error *err)
{
    *b = (batcher){.recipes = recipes,
                   .n_recipes = n_recipes,
                   .plan = plan,
                   .first_item = first_item,
                   .budget = budget};
    b->rank_hold = calloc((size_t)plan->nranks, sizeof *b->rank_hold);
    b->need = calloc((size_t)plan->nranks, sizeof *b->need);
    if (b->rank_hold == NULL || b->need == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %d ranks' budgets", plan->nranks);
    return MPB_OK;
}

static void batcher_free(batcher *b)
{
    free(b->rank_hold);
    free(b->need);
}

/* The next batch's tensors into batch[] (*n of them); false at the end. */
static bool next_batch(batcher *b, size_t *batch, size_t *n)
{
    const mpb_merge_recipe *r = b->recipes[0];
    uint64_t cost = 0;
    int nranks = b->plan->nranks;
    *n = 0;
    for (int k = 0; k < nranks; k++)
        b->rank_hold[k] = 0;
    for (; b->next < r->in_idx.n; b->next++) {
        size_t t = b->next;
        if (!any_needs(b->recipes, b->n_recipes, t))
            continue;
        uint64_t c =
            most_cost(b->recipes, b->n_recipes, t, b->first_item[t + 1] - b->first_item[t]);
        for (int k = 0; k < nranks; k++)
            b->need[k] = 0;
        for (size_t i = b->first_item[t]; i < b->first_item[t + 1]; i++) {
            const mpb_item *it = &b->plan->items[i];
            b->need[it->rank] += mpb_merge_hold_item_bytes(&r->in_idx, it, r->n_inputs);
        }
        bool fits = cost + c <= BATCH_BYTES;
        for (int k = 0; k < nranks; k++)
            fits &= b->rank_hold[k] + b->need[k] <= b->budget;
        if (*n > 0 && !fits)
            break;
        batch[(*n)++] = t;
        cost += c;
        for (int k = 0; k < nranks; k++)
            b->rank_hold[k] += b->need[k];
    }
    return *n > 0;
}

static int most_passes(mpb_merge_recipe *const recipes[], size_t n)
{
    int most = 0;
    for (size_t k = 0; k < n; k++) {
        int p = mpb_merge_stats_passes(recipes[k]);
        most = p > most ? p : most;
    }
    return most;
}

int mpb_merge_stats_run(mpb_merge_recipe *const recipes[], size_t n_recipes,
                        const mpb_plan *plan, mpb_store inputs[], void *bufs[],
                        const mpb_run_opts *opts, MPI_Comm comm, mpb_merge_batch_fn then,
                        void *then_ctx, uint64_t *bytes_read, mpb_error *err)
{
    if (most_passes(recipes, n_recipes) == 0)
        return then(then_ctx, plan, NULL, err);
    const mpb_merge_recipe *r0 = recipes[0];
    stats_run s = {.r = recipes[0], .inputs = inputs, .bufs = bufs};
    size_t nt = r0->in_idx.n, *first_item = item_ranges(plan, nt);
    size_t *batch = malloc((nt ? nt : 1) * sizeof *batch), n = 0;
    batcher b = {0};
    if (first_item == NULL || batch == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory for the statistics");
    else if (alloc_run(&s, err) == MPB_OK)
        batcher_init(&b, recipes, n_recipes, plan, first_item, opts->memory_bytes, err);
    int rc = mpb_comm_agree(err, comm);
    pass_args a = {recipes, n_recipes, plan, first_item, opts, comm, then, then_ctx};
    while (rc == MPB_OK && next_batch(&b, batch, &n))
        rc = run_batch(&s, &a, batch, n, err);
    mpb_plan rest = {0};
    for (size_t t = 0, k = 0; rc == MPB_OK && t < nt; t++, n = k) /* the tensors left */
        if (!any_needs(recipes, n_recipes, t))
            batch[k++] = t;
    if (rc == MPB_OK && sub_plan(r0, plan, first_item, batch, n, &rest, err) == MPB_OK)
        then(then_ctx, &rest, NULL, err);
    rc = rc ? rc : mpb_comm_agree(err, comm);
    *bytes_read += s.bytes_read;
    mpb_plan_free(&rest);
    batcher_free(&b);
    free_run(&s);
    free(first_item);
    free(batch);
    return rc;
}

void mpb_merge_stats_describe(mpb_merge_recipe *const recipes[], size_t n_recipes,
                              const mpb_plan *plan, uint64_t budget, mpb_merge_stats_outlook *o)
{
    const mpb_merge_recipe *r = recipes[0];
    *o = (mpb_merge_stats_outlook){.passes = most_passes(recipes, n_recipes)};
    size_t nt = r->in_idx.n, *first_item = item_ranges(plan, nt);
    size_t *batch = malloc((nt ? nt : 1) * sizeof *batch), n;
    uint64_t *used = calloc((size_t)plan->nranks, sizeof *used);
    batcher b = {0};
    mpb_error err = {0};
    if (o->passes == 0 || !first_item || !batch || !used ||
        batcher_init(&b, recipes, n_recipes, plan, first_item, budget, &err) != MPB_OK)
        goto done;
    while (next_batch(&b, batch, &n)) {
        o->batches++;
        for (int k = 0; k < plan->nranks; k++) {
            o->largest_share =
                b.rank_hold[k] > o->largest_share ? b.rank_hold[k] : o->largest_share;
            used[k] = 0;
        }
        /* As mpb_merge_hold_begin chooses: each rank's items in plan order. */
        for (size_t j = 0; j < n; j++) {
            for (size_t i = first_item[batch[j]]; i < first_item[batch[j] + 1]; i++) {
                const mpb_item *it = &plan->items[i];
                uint64_t need = mpb_merge_hold_item_bytes(&r->in_idx, it, r->n_inputs);
                bool held = mpb_merge_hold_takes(&used[it->rank], need, budget);
                *(held ? &o->held_bytes : &o->reread_bytes) += need;
            }
        }
    }
done:
    batcher_free(&b);
    free(used);
    free(first_item);
    free(batch);
}
