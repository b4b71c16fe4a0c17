/* task_arithmetic: B + lambda * sum w_i (theta_i - B) / D, blended by the
 * task kernel (mpb_method_task.c) with nothing dropped. */
#include "mpb_registry.h"

#include <math.h>

/* The same sum as one weighted sum of the inputs,
 * (1 - sum c_i) B + sum c_i x_i with c_i = lambda w_i / D: not the merge's
 * bits (that is the delta form), but the coefficients a caller may show. */
static int coefficients(const mpb_tensor_params *p, float coef[], mpb_error *err)
{
    int base = p->base_index;
    if (base < 0 || (size_t)base >= p->n_inputs || isnan(p->lambda))
        return mpb_fail(err, MPB_EINVAL, "task_arithmetic needs a base input and a lambda");
    double c[MPB_MAX_INPUTS], divisor = 0, others = 0;
    for (size_t i = 0; i < p->n_inputs; i++) {
        if ((int)i == base)
            continue;
        if (isnan(p->weight[i]))
            return mpb_fail(err, MPB_EINVAL, "task_arithmetic: input %zu has no weight", i);
        divisor += p->weight[i];
    }
    /* mergekit replaces a divisor below 1e-8 in magnitude by 1. */
    if (!p->normalize || fabs(divisor) < 1e-8)
        divisor = 1;
    for (size_t i = 0; i < p->n_inputs; i++) {
        if ((int)i == base)
            continue;
        c[i] = p->weight[i] / divisor * p->lambda;
        others += c[i];
    }
    c[base] = 1 - others;
    for (size_t i = 0; i < p->n_inputs; i++)
        coef[i] = (float)c[i];
    return mpb_coefficients_check_finite(coef, c, p->n_inputs, err);
}

const mpb_method_def mpb_method_task_arithmetic = {
    .name = "task_arithmetic",
    .summary = "base + lambda * weighted sum of the task vectors",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {MPB_TASK_PARAMS(0)},
    .sparsify = MPB_KEEP_ALL,
    .verifiable = true,
    .deterministic = true,
    .blend = MPB_BLEND_TASK,
    .coefficients = coefficients,
};
