/* nuslerp: spherical interpolation of two models at t = w1 / (w0 + w1),
 * or of their task vectors against base_model, added back to it
 * (mergekit's nuslerp.py).  Its coefficients follow from whole-tensor sums
 * (nuslerp_flatten, the default), so it blends with the linear kernel. */
#include "mpb_registry.h"

#include <math.h>

/* mergekit's nuslerp(): vectors normalised by max(|v|, 1e-7); linear
 * interpolation when |sin theta| < 1e-8 (nearly parallel or opposite). */
static void nuslerp_coefficients(double t, double ss0, double ss1, double dot01, double c[2])
{
    const double norm_floor = 1e-7, colinear = 1e-8;
    double n0 = fmax(sqrt(ss0), norm_floor), n1 = fmax(sqrt(ss1), norm_floor);
    double cos_theta = fmin(1.0, fmax(-1.0, dot01 / (n0 * n1)));
    double theta = acos(cos_theta), sin_theta = sin(theta);
    if (fabs(sin_theta) < colinear) {
        c[0] = 1.0 - t;
        c[1] = t;
        return;
    }
    c[0] = sin((1.0 - t) * theta) / sin_theta;
    c[1] = sin(t * theta) / sin_theta;
}

static int sums_coefficients(const double totals[], const mpb_tensor_params *p,
                             const char *tensor, float coef[], mpb_error *err)
{
    (void)tensor;
    int base = p->base_index;
    size_t input[2], n = 0;
    for (size_t i = 0; i < p->n_inputs && n < 2; i++)
        if ((int)i != base)
            input[n++] = i;
    double w0 = p->weight[input[0]], w1 = p->weight[input[1]];
    /* mergekit: t = w1 / (w0 + w1), or 0.5 when the weights cancel. */
    double t = fabs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);
    double c[2], exact[MPB_MAX_INPUTS];
    nuslerp_coefficients(t, mpb_gram_at(totals, 2, 0, 0), mpb_gram_at(totals, 2, 1, 1),
                         mpb_gram_at(totals, 2, 0, 1), c);
    exact[input[0]] = c[0];
    exact[input[1]] = c[1];
    if (base >= 0)
        exact[base] = 1.0 - c[0] - c[1]; /* base + c0 (x0 - base) + c1 (x1 - base) */
    for (size_t i = 0; i < p->n_inputs; i++)
        coef[i] = (float)exact[i];
    return mpb_coefficients_check_finite(coef, exact, p->n_inputs, err);
}

/* Without flatten, mergekit slerps each vector along the last dimension
 * (or along dim 0 with nuslerp_row_wise): coefficients per row or per
 * column, which this blend (one pair per tensor) does not give. */
static int check_params(const mpb_tensor_params *p, const char *tensor, mpb_error *err)
{
    if (p->nuslerp_flatten)
        return MPB_OK;
    return mpb_fail(err, MPB_EINVAL,
                    "nuslerp: nuslerp_flatten: false (tensor '%s') slerps each %s separately; "
                    "mpiblend supports only nuslerp_flatten: true (the default), one "
                    "interpolation of the whole tensor",
                    tensor, p->nuslerp_row_wise ? "column (nuslerp_row_wise)" : "row");
}

const mpb_method_def mpb_method_nuslerp = {
    .name = "nuslerp",
    .summary = "spherical interpolation at t = w1/(w0+w1) (of task vectors with base_model)",
    .base = MPB_BASE_OPTIONAL,
    .min_others = 2,
    .max_others = 2,
    .params = {[MPB_P_WEIGHT] = MPB_PARAM_REQUIRED,
               [MPB_P_NUSLERP_FLATTEN] = MPB_PARAM_DEFAULT(1.0),
               [MPB_P_NUSLERP_ROW_WISE] = MPB_PARAM_DEFAULT(0.0)},
    .required_why = "t = w1 / (w0 + w1) of the two models",
    .check_params = check_params,
    .whole_tensor_stats = true,
    .deterministic = true,
    .blend = MPB_BLEND_STATISTICS,
    .sums_of_deltas = true,
    .sums_count = mpb_gram_count,
    .sums_add = mpb_gram_add,
    .sums_coefficients = sums_coefficients,
};
