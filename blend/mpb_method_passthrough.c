/* passthrough: every tensor copied unchanged from the one input, or
 * multiplied by its `scale` (mergekit's `res * scale`): one fp32 product
 * rounded once to the output dtype, the linear kernel with one input. */
#include "mpb_registry.h"

#include <math.h>

static int passthrough_coefficients(const mpb_tensor_params *p, float coef[], mpb_error *err)
{
    if (p->n_inputs != 1 || isnan(p->scale))
        return mpb_fail(err, MPB_EINTERNAL, "passthrough blends one input with a scale");
    coef[0] = (float)p->scale;
    return mpb_coefficients_check_finite(coef, &p->scale, 1, err);
}

const mpb_method_def mpb_method_passthrough = {
    .name = "passthrough",
    .summary = "every tensor copied unchanged from the one input, or times its scale",
    .base = MPB_BASE_IGNORED,
    .exact_inputs = 1,
    .copies_first = true,
    .params = {[MPB_P_SCALE] = MPB_PARAM_USED},
    .verifiable = true,
    .deterministic = true,
    .blend = MPB_BLEND_COEFFICIENTS,
    .coefficients = passthrough_coefficients,
};
