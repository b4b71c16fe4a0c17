/* DELLA's kept L1 norm per row, for its rescale: which elements a row keeps
 * depends on the magnitude ranks of the whole row (mpb_della_factors). */
#include "mpb_merge_stats_internal.h"

#include <stdlib.h>

static bool needs_row(const stats_run *s, const tensor_state *ts, size_t k)
{
    const mpb_task_model *m = &s->r->task[ts->tensor].spec.models[k];
    return s->pass == PASS_SUMS && m->keep == MPB_KEEP_DELLA && ts->m[k].q_kept >= 0;
}

int stats_della_row(stats_run *s, const tensor_state *ts, uint64_t row, uint64_t first,
                    mpb_error *err)
{
    const mpb_task_spec *spec = &s->r->task[ts->tensor].spec;
    const mpb_tensor *t = &s->r->in_idx.tensors[ts->tensor];
    bool any = false;
    for (size_t k = 0; k < spec->n_models; k++)
        any |= needs_row(s, ts, k);
    if (!any)
        return MPB_OK;
    size_t len = spec->row_len, offset = row * len * mpb_dtype_size(t->dtype);
    float *d = malloc(2 * len * sizeof *d);
    uint32_t *scratch = malloc(mpb_della_scratch_count(len) * sizeof *scratch);
    if (d == NULL || scratch == NULL) {
        free(d);
        free(scratch);
        return mpb_fail(err, MPB_ENOMEM,
                        "out of memory for a row of %zu elements of tensor '%s'", len, t->name);
    }
    for (size_t k = 0; k < spec->n_models; k++) {
        const mpb_task_model *m = &spec->models[k];
        if (!needs_row(s, ts, k))
            continue;
        mpb_method_deltas(t->dtype, (const unsigned char *)s->slab[m->input] + offset,
                          (const unsigned char *)s->slab[spec->base] + offset, len, d);
        mpb_della_factors(m, d, len, spec->group_stride, first, d + len, scratch);
        s->acc[ts->m[k].q_kept] = mpb_sum_abs_kept(d, d + len, len, 0.0);
    }
    free(d);
    free(scratch);
    return MPB_OK;
}
