#include "mpb_merge_hold.h"

#include "mpb_driver.h"

#include "mpb_limits.h"
#include "mpb_memory.h"

#include <stdlib.h>

uint64_t mpb_merge_hold_item_bytes(const mpb_index *idx, const mpb_item *it, size_t n_inputs)
{
    return it->nrows * mpb_tensor_row_bytes(&idx->tensors[it->tensor]) * n_inputs;
}

bool mpb_merge_hold_takes(uint64_t *used, uint64_t need, uint64_t budget)
{
    if (*used + need > budget)
        return false;
    *used += need;
    return true;
}

int mpb_merge_hold_begin(mpb_merge_hold *h, const mpb_plan *batch, const mpb_index *idx,
                         size_t n_inputs, int rank, uint64_t budget, mpb_error *err)
{
    *h = (mpb_merge_hold){.n_inputs = n_inputs};
    h->items = malloc((batch->n_items ? batch->n_items : 1) * sizeof *h->items);
    if (h->items == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu held items", batch->n_items);
    for (size_t i = 0; i < batch->n_items; i++) {
        const mpb_item *it = &batch->items[i];
        uint64_t need = mpb_merge_hold_item_bytes(idx, it, n_inputs);
        uint64_t at = h->bytes;
        if ((int)it->rank != rank || !mpb_merge_hold_takes(&h->bytes, need, budget))
            continue;
        h->items[h->n++] = (mpb_held_item){.tensor = it->tensor, .row0 = it->row0, .at = at};
    }
    if (h->bytes > 0 && (h->arena = mpb_memory_alloc_large(h->bytes)) == NULL)
        return mpb_fail(err, MPB_ENOMEM,
                        "out of memory holding %llu bytes of inputs (lower --memory-mib)",
                        (unsigned long long)h->bytes);
    return MPB_OK;
}

void mpb_merge_hold_end(mpb_merge_hold *h)
{
    free(h->items);
    free(h->arena);
    *h = (mpb_merge_hold){0};
}

static mpb_held_item *find(const mpb_merge_hold *h, const mpb_item *it)
{
    size_t lo = 0, hi = h ? h->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const mpb_held_item *m = &h->items[mid];
        if (m->tensor < it->tensor || (m->tensor == it->tensor && m->row0 < it->row0))
            lo = mid + 1;
        else
            hi = mid;
    }
    bool found =
        h && lo < h->n && h->items[lo].tensor == it->tensor && h->items[lo].row0 == it->row0;
    return found ? &h->items[lo] : NULL;
}

void mpb_merge_hold_where(const mpb_merge_hold *hold, size_t n_inputs, const mpb_index *idx,
                          const mpb_item *it, void *const bufs[], uint64_t at, void *slab[])
{
    const mpb_held_item *held = find(hold, it);
    uint64_t one = mpb_merge_hold_item_bytes(idx, it, 1);
    for (size_t i = 0; i < n_inputs; i++)
        slab[i] = held ? hold->arena + held->at + i * one : (unsigned char *)bufs[i] + at;
}

int mpb_merge_hold_read(mpb_merge_hold *hold, mpb_store inputs[], size_t n_inputs,
                        const bool *want, const mpb_index *idx, const mpb_item *it,
                        void *const bufs[], uint64_t at, uint64_t *bytes_read, mpb_error *err)
{
    mpb_held_item *held = find(hold, it);
    if (held && held->filled)
        return err->code;
    void *slab[MPB_MAX_INPUTS];
    mpb_merge_hold_where(hold, n_inputs, idx, it, bufs, at, slab);
    uint64_t one = mpb_merge_hold_item_bytes(idx, it, 1);
    for (size_t i = 0; i < n_inputs; i++) {
        if (want && !want[i] && !held) /* held items are read whole */
            continue;
        mpb_drive_read(&inputs[i], it, slab[i], err);
        *bytes_read += one;
    }
    if (held)
        held->filled = true;
    return err->code;
}
