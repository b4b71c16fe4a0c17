/* slerp: spherical interpolation from the base end (t = 0) to the other
 * input, its two coefficients from whole-tensor sums (mergekit's slerp.py). */
#include "mpb_registry.h"

#include <math.h>

void mpb_slerp_coefficients(double t, double ss0, double ss1, double dot01, float coef[2])
{
    const double eps = 1e-8, dot_threshold = 0.9995; /* mergekit's slerp() */
    double n0 = sqrt(ss0), n1 = sqrt(ss1);
    /* mergekit divides a vector by its norm only when the norm exceeds eps. */
    double dot = dot01 / ((n0 > eps ? n0 : 1.0) * (n1 > eps ? n1 : 1.0));
    if (fabs(dot) > dot_threshold) {
        coef[0] = (float)(1.0 - t);
        coef[1] = (float)t;
        return;
    }
    double theta = acos(dot);
    double sin_theta = sin(theta);
    double theta_t = theta * t;
    coef[0] = (float)(sin(theta - theta_t) / sin_theta);
    coef[1] = (float)(sin(theta_t) / sin_theta);
}

static size_t sums_count(size_t n_vectors)
{
    (void)n_vectors;
    return 3;
}

/* sum v0^2, sum v1^2, sum v0 v1: v[0] the base end, v[1] the other. */
static void sums_add(const float *const v[], size_t n_vectors, size_t n, double acc[])
{
    (void)n_vectors;
    acc[0] = mpb_sum_products(v[0], v[0], n, acc[0]);
    acc[1] = mpb_sum_products(v[1], v[1], n, acc[1]);
    acc[2] = mpb_sum_products(v[0], v[1], n, acc[2]);
}

static int sums_coefficients(const double totals[], const mpb_tensor_params *p,
                             const char *tensor, float coef[], mpb_error *err)
{
    (void)tensor, (void)err;
    int base = p->base_index;
    float c[2];
    mpb_slerp_coefficients(p->t, totals[0], totals[1], totals[2], c);
    coef[base] = c[0];
    coef[1 - base] = c[1];
    return MPB_OK;
}

const mpb_method_def mpb_method_slerp = {
    .name = "slerp",
    .summary = "spherical interpolation from the base end (t = 0)",
    .base = MPB_BASE_END,
    .exact_inputs = 2,
    .params = {[MPB_P_T] = MPB_PARAM_REQUIRED},
    .required_why = "0 gives the base end, 1 the other model",
    .whole_tensor_stats = true,
    .deterministic = true,
    .blend = MPB_BLEND_STATISTICS,
    .sums_of_deltas = false,
    .sums_count = sums_count,
    .sums_add = sums_add,
    .sums_coefficients = sums_coefficients,
};
