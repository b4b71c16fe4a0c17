/* The task-arithmetic family's per-tensor spec from resolved parameters
 * (docs/METHODS.md): weights, sign election, the magnitude ranks or random
 * masks each model keeps, and the rescale. */
#include "mpb_merge_setup.h"

#include "mpb_random.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The magnitude ranks a sparsifying method keeps, as mergekit counts them:
 * the k = floor(density n) largest, after dropping the floor(gamma n)
 * largest (fewer if needed) when the method reads gamma. */
static int keep_window(const mpb_config *c, const mpb_tensor *tensor, size_t input,
                       double density, double gamma, mpb_merge_sparse *sp, mpb_error *err)
{
    mpb_method method = mpb_config_method(c);
    uint64_t n = mpb_tensor_numel(tensor);
    uint64_t keep = (uint64_t)(density * (double)n), top = 0;
    if (mpb_method_get(method)->params[MPB_P_GAMMA].used) {
        top = (uint64_t)(gamma * (double)n);
        if (top > n - keep)
            top = n - keep;
    }
    if (keep == 0)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: density %g of %s keeps floor(%g x %llu) = 0 elements of tensor "
                        "'%s'; raise the density or give this tensor density 1 with a filter",
                        mpb_method_name(method), density, mpb_config_input_origin(c, input),
                        density, (unsigned long long)n, tensor->name);
    sp->rank_lo = top;
    sp->rank_hi = top + keep;
    return MPB_OK;
}

/* DELLA's keep probabilities run from density - epsilon to density +
 * epsilon; mergekit refuses a range that leaves (0, 1). */
static int della_range(const mpb_config *c, const mpb_tensor *tensor, size_t input,
                       double density, double epsilon, mpb_error *err)
{
    if (density - epsilon > 0 && density + epsilon < 1)
        return MPB_OK;
    return mpb_fail(err, MPB_EINVAL,
                    "%s: epsilon %g with density %g of %s gives keep probabilities from %g to "
                    "%g on tensor '%s'; both density - epsilon and density + epsilon must be "
                    "in (0, 1), as in mergekit: lower epsilon or move the density",
                    mpb_method_name(mpb_config_method(c)), epsilon, density,
                    mpb_config_input_origin(c, input), density - epsilon, density + epsilon,
                    tensor->name);
}

/* Where DELLA ranks: along the second dimension within each row, as mergekit
 * ranks along dim 1 (a 1-D tensor's rows are single elements). */
static void della_geometry(const mpb_tensor *tensor, mpb_task_spec *spec)
{
    uint64_t rows = mpb_tensor_rows(tensor);
    spec->row_len = (size_t)(rows ? mpb_tensor_numel(tensor) / rows : 0);
    spec->group_stride = 1;
    for (int d = 2; d < tensor->ndim; d++)
        spec->group_stride *= (size_t)tensor->shape[d];
}

/* Rounded to fp32, lambda, every weight, scale and partial weight sum must
 * be finite, or the output would be inf or NaN whatever the inputs. */
static int check_finite(const mpb_task_spec *spec, const mpb_tensor *tensor, mpb_error *err)
{
    float partial = 0.0f;
    bool ok = isfinite(spec->lambda) && isfinite(spec->divisor);
    for (size_t k = 0; ok && k < spec->n_models; k++) {
        partial += fabsf(spec->models[k].weight);
        ok = isfinite(spec->models[k].weight) && isfinite(spec->models[k].scale) &&
             isfinite(partial);
    }
    if (!ok)
        return mpb_fail(err, MPB_EINVAL,
                        "tensor '%s': lambda, a weight or the sum of the "
                        "weights is not finite in fp32 (largest magnitude %g); check the "
                        "weights and lambda",
                        tensor->name, (double)FLT_MAX);
    return MPB_OK;
}

/* SCE reads no weight, lambda or normalize: its weights come from the
 * statistics (mpb_sce_weights) and it always divides by the elected ones. */
static void sce_spec(const mpb_tensor *tensor, const mpb_tensor_params *p, mpb_merge_task *task)
{
    task->spec.sce = true;
    task->spec.normalize = true;
    task->spec.lambda = 1.0f;
    task->spec.select = p->select_topk < 1 && mpb_tensor_numel(tensor) > 0;
    task->spec.select_cut = mpb_cut_all();
    task->select_topk = p->select_topk;
}

/* arcee_fusion reads no parameter: the one model keeps its whole task
 * vector where the mask (from the statistics) lets it through.  Its KL
 * runs along the last dimension (a 0-D tensor is one vector of 1). */
static int fusion_spec(const mpb_tensor *tensor, mpb_merge_task *task)
{
    task->spec.fusion = true;
    task->spec.fusion_len = tensor->ndim == 0 ? 1 : (size_t)tensor->shape[tensor->ndim - 1];
    task->spec.lambda = 1.0f;
    task->spec.divisor = 1.0f;
    task->spec.models[0] = (mpb_task_model){.input = task->spec.base == 0 ? 1 : 0,
                                            .weight = 1.0f,
                                            .scale = 1.0f,
                                            .keep = MPB_KEEP_ALL,
                                            .hi = mpb_cut_all(),
                                            .lo = mpb_cut_none()};
    return MPB_OK;
}

int mpb_merge_task_resolve(const mpb_config *c, const mpb_tensor *tensor,
                           const mpb_tensor_params *p, mpb_merge_task *task, mpb_error *err)
{
    mpb_method method = mpb_config_method(c);
    size_t n_models = p->n_inputs - 1;
    memset(task, 0, sizeof *task);
    task->spec.models = calloc(n_models, sizeof *task->spec.models);
    task->sparse = calloc(n_models + 1, sizeof *task->sparse);
    if (task->spec.models == NULL || task->sparse == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for tensor '%s'", tensor->name);
    task->spec.base = (size_t)p->base_index;
    task->spec.n_models = n_models;
    const mpb_method_def *def = mpb_method_get(method);
    task->spec.consensus = def->elects_sign;
    task->spec.normalize = p->normalize;
    task->spec.lambda = (float)p->lambda;
    if (method == MPB_METHOD_ARCEE_FUSION)
        return fusion_spec(tensor, task);
    if (method == MPB_METHOD_SCE)
        sce_spec(tensor, p, task);
    mpb_keep_kind kind = def->sparsify;
    double weight_sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < p->n_inputs; i++) {
        if ((int)i == p->base_index)
            continue;
        mpb_task_model *m = &task->spec.models[k];
        mpb_merge_sparse *sp = &task->sparse[k++];
        *m = (mpb_task_model){.input = i,
                              .weight = task->spec.sce ? 1.0f : (float)p->weight[i],
                              .scale = 1.0f,
                              .keep = MPB_KEEP_ALL,
                              .hi = mpb_cut_all(),
                              .lo = mpb_cut_none()};
        weight_sum += task->spec.sce ? 0.0 : p->weight[i]; /* SCE: divisor unused */
        double density = p->density[i];
        /* mergekit leaves a task vector alone at density 1: no rescale either. */
        if (kind == MPB_KEEP_ALL || density >= 1 || mpb_tensor_numel(tensor) == 0)
            continue;
        m->keep = kind;
        if (kind == MPB_KEEP_RANDOM || kind == MPB_KEEP_DELLA) {
            m->key = mpb_random_key(p->seed, i, tensor->name);
            m->density = density;
        }
        if (kind == MPB_KEEP_DELLA) {
            int rc = della_range(c, tensor, i, density, p->epsilon, err);
            if (rc != MPB_OK)
                return rc;
            m->epsilon = p->epsilon;
            m->by_p = p->rescale && !p->rescale_l1;
            della_geometry(tensor, &task->spec);
        } else if (kind == MPB_KEEP_WINDOW) {
            int rc = keep_window(c, tensor, i, density, p->gamma, sp, err);
            if (rc != MPB_OK)
                return rc;
        }
        if (p->rescale && p->rescale_l1)
            sp->rescale_l1 = true;
        else if (p->rescale && kind != MPB_KEEP_DELLA) /* DELLA: 1/p per element */
            m->scale = (float)(1.0 / density);
    }
    /* mergekit replaces a divisor below 1e-8 in magnitude by 1. */
    task->spec.divisor = fabs(weight_sum) < 1e-8 ? 1.0f : (float)weight_sum;
    return check_finite(&task->spec, tensor, err);
}

void mpb_merge_task_free(mpb_merge_task *task)
{
    for (size_t k = 0; task->sparse && k <= task->spec.n_models; k++)
        for (int c = 0; c < 2; c++) {
            free(task->sparse[k].start_row[c]);
            free(task->sparse[k].start_seen[c]);
        }
    free(task->spec.models);
    free(task->sparse);
    free(task->fusion_kl);
    memset(task, 0, sizeof *task);
}
