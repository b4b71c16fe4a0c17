/* linear: sum w_i theta_i, divided by sum w_i when normalize (mergekit's
 * linear.py); one fixed weighted sum. */
#include "mpb_registry.h"

#include <math.h>

static int coefficients(const mpb_tensor_params *p, float coef[], mpb_error *err)
{
    double c[MPB_MAX_INPUTS], sum = 0;
    for (size_t i = 0; i < p->n_inputs; i++) {
        if (isnan(p->weight[i]))
            return mpb_fail(err, MPB_EINVAL, "linear: input %zu has no weight", i);
        sum += p->weight[i];
    }
    if (p->normalize && mpb_weights_cancel(p->weight, p->n_inputs, -1))
        return mpb_fail(err, MPB_EINVAL,
                        "linear: the weights sum to 0 and normalize divides by their sum");
    for (size_t i = 0; i < p->n_inputs; i++) {
        c[i] = p->normalize ? p->weight[i] / sum : p->weight[i];
        coef[i] = (float)c[i];
    }
    return mpb_coefficients_check_finite(coef, c, p->n_inputs, err);
}

const mpb_method_def mpb_method_linear = {
    .name = "linear",
    .summary = "sum of w_i x_i, divided by sum w_i when normalize",
    .base = MPB_BASE_IGNORED,
    .min_others = 1,
    .params = {[MPB_P_WEIGHT] = MPB_PARAM_REQUIRED, [MPB_P_NORMALIZE] = MPB_PARAM_DEFAULT(1)},
    .normalize_needs_sum = true,
    .verifiable = true,
    .deterministic = true,
    .blend = MPB_BLEND_COEFFICIENTS,
    .coefficients = coefficients,
};
