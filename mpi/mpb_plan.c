#include "mpb_plan.h"

#include <stdlib.h>
#include <string.h>

static uint64_t row_bytes_at(const mpb_tensor *t, size_t min_elem_size)
{
    size_t es = mpb_dtype_size(t->dtype);
    uint64_t row = mpb_tensor_row_bytes(t);
    return es >= min_elem_size ? row : row / es * min_elem_size;
}

uint64_t mpb_item_bytes(const mpb_index *idx, const mpb_item *it, size_t min_elem_size)
{
    return it->nrows * row_bytes_at(&idx->tensors[it->tensor], min_elem_size);
}

uint64_t mpb_plan_max_item_bytes(const mpb_plan *plan, const mpb_index *idx,
                                 size_t min_elem_size)
{
    uint64_t max = 0;
    for (size_t i = 0; i < plan->n_items; i++) {
        uint64_t b = mpb_item_bytes(idx, &plan->items[i], min_elem_size);
        if (b > max)
            max = b;
    }
    return max;
}

/* The stream: every tensor's rows in index order, at the plan's sizing.
 * It is cut into stretches of about equal bytes, stretch j going to rank
 * j mod P in round j / P, so each rank's share of a round is one run of
 * consecutive tensors: in files that store tensors in index order (every
 * file mpiblend writes) that is one contiguous file range per rank and
 * round, the ranks' ranges do not interleave, and ranks finish a round's
 * work together. */
struct cutter {
    mpb_plan *plan;
    size_t cap_items;
    uint64_t total, n_targets; /* stream bytes; stretches aimed at */
    uint64_t share, rem;       /* total = share x n_targets + rem */
    uint64_t stretch, pos, size;
};

/* Where stretch j should end in the stream: j + 1 equal shares of the
 * total, the last one ending at the end. */
static uint64_t target_end(const struct cutter *c, uint64_t j)
{
    if (j + 1 >= c->n_targets)
        return c->total;
    return (j + 1) * c->share + (j + 1) * c->rem / c->n_targets;
}

static int push_item(struct cutter *c, uint32_t tensor, uint64_t row0, uint64_t nrows,
                     mpb_error *err)
{
    mpb_plan *plan = c->plan;
    if (plan->n_items == c->cap_items) {
        size_t cap = c->cap_items ? c->cap_items * 2 : 1024;
        mpb_item *grown = realloc(plan->items, cap * sizeof *grown);
        if (grown == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory building the plan");
        plan->items = grown;
        c->cap_items = cap;
    }
    mpb_item *it = &plan->items[plan->n_items++];
    memset(it, 0, sizeof *it); /* the plan is compared and shipped as bytes */
    it->tensor = tensor;
    it->rank = (uint32_t)(c->stretch % (uint64_t)plan->nranks);
    it->round = (uint32_t)(c->stretch / (uint64_t)plan->nranks);
    it->row0 = row0;
    it->nrows = nrows;
    return MPB_OK;
}

/* Closes the stretch; those whose targets the stream has already passed
 * (after a row larger than a share) stay empty, found by bisection. */
static void next_stretch(struct cutter *c)
{
    uint64_t lo = c->stretch + 1, hi = c->n_targets > lo ? c->n_targets - 1 : lo;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (target_end(c, mid) > c->pos)
            hi = mid;
        else
            lo = mid + 1;
    }
    c->stretch = lo;
    c->size = 0;
}

/* A stretch takes whole rows while they end by its target (and within the
 * 1 GiB of one transfer), so it ends less than a row short of its target
 * and the shortfall never accumulates: it holds less than a target plus a
 * row, at most a slab plus a row.  An empty stretch takes the row that
 * straddles its target (a row is never split), and stays empty when the
 * stream is already past its target. */
static int cut_tensor(struct cutter *c, uint32_t tensor, uint64_t rows, uint64_t row_bytes,
                      mpb_error *err)
{
    for (uint64_t r = 0; r < rows;) {
        uint64_t end = target_end(c, c->stretch);
        uint64_t k = rows - r; /* rows of no bytes all go at once */
        if (row_bytes > 0) {
            uint64_t room = end > c->pos ? end - c->pos : 0;
            if (room > MPB_MAX_TRANSFER_BYTES - c->size)
                room = MPB_MAX_TRANSFER_BYTES - c->size;
            k = room / row_bytes < k ? room / row_bytes : k;
            if (k == 0 && c->size == 0 && c->pos < end)
                k = 1;
        }
        if (k == 0) { /* the stretch is done */
            next_stretch(c);
            continue;
        }
        int rc = push_item(c, tensor, r, k, err);
        if (rc)
            return rc;
        r += k;
        c->pos += k * row_bytes;
        c->size += k * row_bytes;
    }
    return MPB_OK;
}

int mpb_plan_build(const mpb_index *idx, int nranks, uint64_t slab_bytes, size_t min_elem_size,
                   mpb_plan *plan, mpb_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (nranks < 1 || slab_bytes == 0 || slab_bytes > MPB_MAX_TRANSFER_BYTES)
        return mpb_fail(err, MPB_EINVAL,
                        "slab size must be between 1 byte and 1 GiB (got %llu bytes)",
                        (unsigned long long)slab_bytes);
    plan->nranks = nranks;
    plan->slab_bytes = slab_bytes;
    struct cutter c = {.plan = plan};
    for (size_t t = 0; t < idx->n; t++) {
        const mpb_tensor *tensor = &idx->tensors[t];
        uint64_t row_bytes = row_bytes_at(tensor, min_elem_size);
        if (row_bytes > MPB_MAX_TRANSFER_BYTES)
            return mpb_fail(err, MPB_EINVAL,
                            "tensor '%s': one row is %llu bytes, over the 1 GiB a single "
                            "transfer may move",
                            tensor->name, (unsigned long long)row_bytes);
        c.total += mpb_tensor_rows(tensor) * row_bytes;
    }
    /* Rounds of about one slab per rank: ceil(total / (ranks x slab)). */
    uint64_t per_round = (uint64_t)nranks * slab_bytes;
    uint64_t rounds = (c.total + per_round - 1) / per_round;
    c.n_targets = (rounds ? rounds : 1) * (uint64_t)nranks;
    c.share = c.total / c.n_targets;
    c.rem = c.total % c.n_targets;
    plan->rank_bytes = calloc((size_t)nranks, sizeof *plan->rank_bytes);
    plan->rank_items = calloc((size_t)nranks, sizeof *plan->rank_items);
    int rc = (plan->rank_bytes && plan->rank_items)
                 ? MPB_OK
                 : mpb_fail(err, MPB_ENOMEM, "out of memory building the plan");
    for (size_t t = 0; t < idx->n && rc == MPB_OK; t++)
        rc = cut_tensor(&c, (uint32_t)t, mpb_tensor_rows(&idx->tensors[t]),
                        row_bytes_at(&idx->tensors[t], min_elem_size), err);
    for (size_t i = 0; i < plan->n_items && rc == MPB_OK; i++) {
        const mpb_item *it = &plan->items[i];
        plan->rank_bytes[it->rank] += mpb_item_bytes(idx, it, min_elem_size);
        plan->rank_items[it->rank]++;
    }
    if (rc)
        mpb_plan_free(plan);
    return rc;
}

void mpb_plan_free(mpb_plan *plan)
{
    free(plan->items);
    free(plan->rank_bytes);
    free(plan->rank_items);
    memset(plan, 0, sizeof *plan);
}

/* The most bytes one rank moves in one round: plan order keeps each
 * rank's items of a round together and rounds nondecreasing. */
uint64_t mpb_plan_round_budget(const mpb_plan *plan, const mpb_index *idx, size_t min_elem_size)
{
    uint64_t budget = 0, fill = 0;
    for (size_t i = 0; i < plan->n_items; i++) {
        const mpb_item *it = &plan->items[i];
        const mpb_item *prev = i ? &plan->items[i - 1] : NULL;
        if (prev == NULL || prev->round != it->round || prev->rank != it->rank)
            fill = 0;
        fill += mpb_item_bytes(idx, it, min_elem_size);
        if (fill > budget)
            budget = fill;
    }
    return budget;
}

int mpb_plan_rounds(const mpb_plan *plan, const mpb_index *idx, size_t min_elem_size,
                    uint32_t *round_of, size_t *n_rounds, mpb_error *err)
{
    (void)idx;
    (void)min_elem_size;
    (void)err;
    size_t rounds = 0;
    for (size_t i = 0; i < plan->n_items; i++) {
        /* A subset of a plan's items (one pass's tensors) skips the rounds
         * it has no item in. */
        if (i == 0 || plan->items[i].round != plan->items[i - 1].round)
            rounds++;
        if (round_of)
            round_of[i] = (uint32_t)(rounds - 1);
    }
    *n_rounds = rounds;
    return MPB_OK;
}

size_t mpb_plan_item_index(const mpb_plan *plan, const mpb_item *it)
{
    if (it >= plan->items && it < plan->items + plan->n_items)
        return (size_t)(it - plan->items); /* one of the plan's own */
    size_t lo = 0, hi = plan->n_items;
    while (lo < hi) { /* items are ordered by (tensor, row0) */
        size_t mid = lo + (hi - lo) / 2;
        const mpb_item *m = &plan->items[mid];
        if (m->tensor < it->tensor || (m->tensor == it->tensor && m->row0 < it->row0))
            lo = mid + 1;
        else
            hi = mid;
    }
    bool found = lo < plan->n_items && plan->items[lo].tensor == it->tensor &&
                 plan->items[lo].row0 == it->row0;
    return found ? lo : plan->n_items;
}
