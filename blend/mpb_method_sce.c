/* sce: FuseChat's Select, Calculate, Erase (Wan et al., 2024; mergekit's
 * merge_methods/sce.py).  Select keeps the elements whose variance across
 * the task vectors ranks in the top select_topk of the nonzero variances;
 * Calculate weighs each task vector by its share of the kept squares;
 * Erase is TIES' sign election, voted by the kept task vectors' plain sum.
 * The task kernel (mpb_method_task.c) blends; docs/METHODS.md#sce has the
 * arithmetic. */
#include "mpb_registry.h"

#include <math.h>

void mpb_sce_variance(const float *const d[], size_t n_models, size_t n, float *key)
{
    const float count = (float)n_models;
    for (size_t j = 0; j < n; j++) {
        float sum = d[0][j];
        for (size_t k = 1; k < n_models; k++)
            sum = sum + d[k][j];
        float mean = sum / count, sq = 0.0f;
        for (size_t k = 0; k < n_models; k++) {
            float dev = d[k][j] - mean;
            sq = sq + dev * dev;
        }
        key[j] = sq / count;
    }
}

void mpb_sce_weights(const double sq[], size_t n_models, uint64_t numel, float w[])
{
    double share[MPB_MAX_INPUTS], total = 0.0;
    for (size_t k = 0; k < n_models; k++) {
        share[k] = sq[k] / (double)numel;
        total += share[k];
    }
    for (size_t k = 0; k < n_models; k++)
        w[k] = (float)(total == 0.0 ? 1.0 / (double)n_models : share[k] / total);
}

uint64_t mpb_sce_select_rank(double select_topk, uint64_t nonzero, uint64_t numel)
{
    float k = (float)select_topk * (float)nonzero;
    if (!(k >= 1.0f))
        return 0;
    return (double)k >= (double)numel ? numel : (uint64_t)k;
}

const mpb_method_def mpb_method_sce = {
    .name = "sce",
    .summary = "top select_topk by variance, weights from kept squares, sign election",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {[MPB_P_SELECT_TOPK] = MPB_PARAM_DEFAULT(1.0)},
    .whole_tensor_stats = true,
    .elects_sign = true,
    .deterministic = true,
    .blend = MPB_BLEND_TASK,
};
