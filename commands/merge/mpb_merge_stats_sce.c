/* SCE's statistics over one chunk of a row: the variance key its select
 * ranks (as the other cuts rank magnitudes), the zero variances that set
 * the select's rank, and the squares of the kept task vectors that set its
 * weights (docs/METHODS.md#sce). */
#include "mpb_merge_stats_internal.h"

const float *stats_sce_chunk(stats_run *s, const tensor_state *ts, size_t at, size_t n,
                             mpb_dtype dt)
{
    const mpb_merge_task *task = &s->r->task[ts->tensor];
    const mpb_task_spec *spec = &task->spec;
    bool squares = s->pass == (spec->select ? PASS_KEPT : PASS_SUMS);
    if (!spec->sce || (!spec->select && !squares))
        return NULL;
    size_t es = mpb_dtype_size(dt);
    const unsigned char *b = (const unsigned char *)s->slab[spec->base] + at * es;
    float *d[MPB_MAX_INPUTS];
    for (size_t k = 0; k < spec->n_models; k++) {
        d[k] = s->d + k * STATS_CHUNK;
        mpb_method_deltas(dt, (const unsigned char *)s->slab[spec->models[k].input] + at * es,
                          b, n, d[k]);
    }
    if (spec->select) {
        mpb_sce_variance((const float *const *)d, spec->n_models, n, s->key);
        if (s->pass == PASS_SUMS)
            s->acc[ts->q_zero] += (double)mpb_count_equal(s->key, n, 0);
        if (s->pass == PASS_KEPT)
            mpb_select_keep(&ts->m[spec->n_models].cut[0].cut, s->key, d, spec->n_models, n,
                            &s->seen_select);
    }
    for (size_t k = 0; squares && k < spec->n_models; k++)
        s->acc[ts->m[k].q_sq] = mpb_sum_products(d[k], d[k], n, s->acc[ts->m[k].q_sq]);
    return spec->select ? s->key : NULL;
}
