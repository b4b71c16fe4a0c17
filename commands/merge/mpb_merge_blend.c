#include "mpb_merge_blend.h"

#include "mpb_kernel.h"
#include "mpb_merge_stats.h"
#include "mpb_method.h"

/* Where an item starts in its tensor, for the task kernel's magnitude cuts. */
static void task_start(const mpb_merge_recipe *r, size_t tensor, const mpb_item *it,
                       mpb_task_pos *pos)
{
    const mpb_merge_task *task = &r->task[tensor];
    const mpb_tensor *t = &r->in_idx.tensors[tensor];
    pos->index = it->row0 * (mpb_tensor_numel(t) / mpb_tensor_rows(t));
    for (size_t k = 0; k < task->spec.n_models; k++) {
        pos->seen_hi[k] = mpb_merge_stats_seen(&task->sparse[k], 0, it->row0);
        pos->seen_lo[k] = mpb_merge_stats_seen(&task->sparse[k], 1, it->row0);
    }
    pos->seen_select = mpb_merge_stats_seen(&task->sparse[task->spec.n_models], 0, it->row0);
}

const void *mpb_merge_blend_item(const mpb_merge_recipe *r, const mpb_item *it,
                                 void *const bufs[], void *scratch, bool in_place)
{
    size_t tensor = it->tensor;
    const mpb_tensor *in_t = &r->in_idx.tensors[tensor];
    mpb_dtype out_dt = r->out_idx.tensors[tensor].dtype;
    bool same = in_place && out_dt == in_t->dtype;
    uint64_t n = it->nrows * (mpb_tensor_row_bytes(in_t) / mpb_dtype_size(in_t->dtype));
    int src = r->copy_from[tensor];
    if (src >= 0 && out_dt == in_t->dtype)
        return bufs[src];
    const void *const *all = (const void *const *)bufs;
    const mpb_method_def *def = mpb_method_get(r->method);
    if (src < 0 && def->blend == MPB_BLEND_ELEMENTWISE) {
        int base = mpb_config_base_index(r->config);
        void *dst = same ? bufs[base] : scratch;
        def->kernel(&r->coef[tensor * r->n_inputs], (size_t)base,
                    mpb_merge_recipe_inputs(r, tensor), all, in_t->dtype, dst, out_dt,
                    (size_t)n);
        return dst;
    }
    const float *columns = src < 0 && r->column_coef ? r->column_coef[tensor] : NULL;
    if (columns != NULL) {
        uint64_t row_len = it->nrows ? n / it->nrows : 0;
        void *dst = same ? bufs[0] : scratch;
        mpb_blend_linear_columns(r->n_inputs, all, in_t->dtype, columns, dst, out_dt,
                                 (size_t)row_len, (size_t)it->nrows);
        return dst;
    }
    size_t vec_len = src < 0 && def->vector_len != NULL
                         ? def->vector_len(&r->params[tensor], in_t->ndim, in_t->shape)
                         : 0;
    if (vec_len > 0) {
        /* Each vector along the last dimension with its own coefficients;
         * vectors never cross rows, so items hold whole vectors. */
        void *dst = same ? bufs[0] : scratch;
        if (def->vectors_blend(&r->params[tensor], vec_len, (size_t)(n / vec_len), all,
                               in_t->dtype, dst, out_dt) != MPB_OK)
            return NULL; /* no memory for a vector's scratch */
        return dst;
    }
    if (src < 0 && r->task != NULL && r->task[tensor].spec.n_models > 0) {
        const mpb_task_spec *spec = &r->task[tensor].spec;
        void *dst = same ? bufs[spec->base] : scratch;
        mpb_task_pos pos;
        task_start(r, tensor, it, &pos);
        if (mpb_blend_task(spec, all, in_t->dtype, dst, out_dt, (size_t)n, &pos) != MPB_OK)
            return NULL; /* no memory for a row's scratch */
        return dst;
    }
    /* A copy that changes dtype is a one-input blend with coefficient 1:
     * exact, since 1 * x == x in fp32. */
    static const float one = 1.0f;
    size_t n_in = src >= 0 ? 1 : mpb_merge_recipe_inputs(r, tensor);
    const float *coef = src >= 0 ? &one : &r->coef[tensor * r->n_inputs];
    const void *const *in = src >= 0 ? (const void *const *)&bufs[src] : all;
    void *dst = same ? (void *)in[0] : scratch;
    mpb_blend_linear(n_in, in, in_t->dtype, coef, dst, out_dt, (size_t)n);
    return dst;
}
