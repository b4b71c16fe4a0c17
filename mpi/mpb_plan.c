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

/* Items of near-equal size: the fewest pieces that each fit the slab. */
static uint64_t rows_per_item(const mpb_tensor *t, uint64_t row_bytes, uint64_t slab)
{
    uint64_t rows = mpb_tensor_rows(t);
    uint64_t fit = row_bytes ? slab / row_bytes : rows;
    if (fit == 0)
        fit = 1;
    uint64_t pieces = (rows + fit - 1) / fit;
    return pieces ? (rows + pieces - 1) / pieces : rows;
}

struct sized_item {
    uint64_t bytes;
    size_t pos;
};

static int larger_first(const void *pa, const void *pb)
{
    const struct sized_item *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos; /* deterministic ties */
}

static int assign_ranks(mpb_plan *plan, const mpb_index *idx, size_t min_elem_size,
                        mpb_error *err)
{
    struct sized_item *order = malloc((plan->n_items ? plan->n_items : 1) * sizeof *order);
    if (order == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory building the plan");
    for (size_t i = 0; i < plan->n_items; i++)
        order[i] = (struct sized_item){mpb_item_bytes(idx, &plan->items[i], min_elem_size), i};
    qsort(order, plan->n_items, sizeof *order, larger_first);
    for (size_t k = 0; k < plan->n_items; k++) {
        int least = 0;
        for (int r = 1; r < plan->nranks; r++)
            if (plan->rank_bytes[r] < plan->rank_bytes[least])
                least = r;
        plan->items[order[k].pos].rank = (uint32_t)least;
        plan->rank_bytes[least] += order[k].bytes;
        plan->rank_items[least]++;
    }
    free(order);
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
    size_t cap = 0;
    for (size_t t = 0; t < idx->n; t++) {
        const mpb_tensor *tensor = &idx->tensors[t];
        uint64_t row_bytes = row_bytes_at(tensor, min_elem_size);
        if (row_bytes > MPB_MAX_TRANSFER_BYTES)
            return mpb_fail(err, MPB_EINVAL,
                            "tensor '%s': one row is %llu bytes, over the 1 GiB a single "
                            "transfer may move",
                            tensor->name, (unsigned long long)row_bytes);
        uint64_t rows = mpb_tensor_rows(tensor);
        uint64_t step = rows_per_item(tensor, row_bytes, slab_bytes);
        for (uint64_t r = 0; r < rows; r += step) { /* an empty tensor has no item */
            if (plan->n_items == cap) {
                cap = cap ? cap * 2 : 1024;
                mpb_item *grown = realloc(plan->items, cap * sizeof *grown);
                if (grown == NULL) {
                    mpb_plan_free(plan);
                    return mpb_fail(err, MPB_ENOMEM, "out of memory building the plan");
                }
                plan->items = grown;
            }
            uint64_t n = rows - r < step ? rows - r : step;
            plan->items[plan->n_items++] = (mpb_item){(uint32_t)t, 0, r, n};
        }
    }
    plan->rank_bytes = calloc((size_t)nranks, sizeof *plan->rank_bytes);
    plan->rank_items = calloc((size_t)nranks, sizeof *plan->rank_items);
    int rc = (plan->rank_bytes && plan->rank_items)
                 ? assign_ranks(plan, idx, min_elem_size, err)
                 : mpb_fail(err, MPB_ENOMEM, "out of memory building the plan");
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

uint64_t mpb_plan_round_budget(const mpb_plan *plan, const mpb_index *idx, size_t min_elem_size)
{
    uint64_t largest = mpb_plan_max_item_bytes(plan, idx, min_elem_size);
    uint64_t budget = plan->slab_bytes + largest;
    return budget > MPB_MAX_TRANSFER_BYTES ? MPB_MAX_TRANSFER_BYTES : budget;
}

int mpb_plan_rounds(const mpb_plan *plan, const mpb_index *idx, size_t min_elem_size,
                    uint32_t *round_of, size_t *n_rounds, mpb_error *err)
{
    uint64_t budget = mpb_plan_round_budget(plan, idx, min_elem_size);
    uint64_t *fill = calloc((size_t)plan->nranks, sizeof *fill);
    size_t *round = calloc((size_t)plan->nranks, sizeof *round);
    size_t rounds = 0;
    if (fill == NULL || round == NULL) {
        free(fill);
        free(round);
        return mpb_fail(err, MPB_ENOMEM, "out of memory packing %zu items into rounds",
                        plan->n_items);
    }
    for (size_t i = 0; i < plan->n_items; i++) {
        const mpb_item *it = &plan->items[i];
        uint64_t b = mpb_item_bytes(idx, it, min_elem_size);
        if (fill[it->rank] > 0 && fill[it->rank] + b > budget) {
            round[it->rank]++;
            fill[it->rank] = 0;
        }
        fill[it->rank] += b;
        if (round_of)
            round_of[i] = (uint32_t)round[it->rank];
        if (round[it->rank] + 1 > rounds)
            rounds = round[it->rank] + 1;
    }
    free(fill);
    free(round);
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
