/* interpolate: (1 - lambda) A + lambda B, A the base end (the form of
 * "Revisiting Model Interpolation for Efficient Reasoning"). */
#include "mpb_registry.h"

#include <math.h>

static int coefficients(const mpb_tensor_params *p, float coef[], mpb_error *err)
{
    if (p->n_inputs != 2 || isnan(p->lambda))
        return mpb_fail(err, MPB_EINVAL, "interpolate needs two inputs and a lambda");
    int end = p->base_index == 1 ? 1 : 0;
    double c[2];
    c[end] = 1 - p->lambda;
    c[1 - end] = p->lambda;
    coef[0] = (float)c[0];
    coef[1] = (float)c[1];
    return mpb_coefficients_check_finite(coef, c, 2, err);
}

const mpb_method_def mpb_method_interpolate = {
    .name = "interpolate",
    .summary = "(1 - lambda) * base end + lambda * the other",
    .base = MPB_BASE_END,
    .exact_inputs = 2,
    .params = {[MPB_P_LAMBDA] = MPB_PARAM_REQUIRED},
    .required_why = "the result is (1 - lambda) * first + lambda * second",
    .verifiable = true,
    .deterministic = true,
    .blend = MPB_BLEND_COEFFICIENTS,
    .coefficients = coefficients,
};
