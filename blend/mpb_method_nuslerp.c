/* nuslerp: spherical interpolation of two models at t = w1 / (w0 + w1),
 * or of their task vectors against base_model, added back to it
 * (mergekit's nuslerp.py).  With nuslerp_flatten (the default) its
 * coefficients follow from whole-tensor sums; without it each vector along
 * the last dimension (each row) gets its own, from its own sums, or with
 * nuslerp_row_wise each vector along dimension 0 (each column), from its
 * exact sums over every row.  Either way the blend is the linear kernel. */
#include "mpb_kernel.h"
#include "mpb_registry.h"

#include <math.h>
#include <stdlib.h>

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

/* The two models' input positions (the inputs other than the base). */
static void model_inputs(const mpb_tensor_params *p, size_t input[2])
{
    size_t n = 0;
    for (size_t i = 0; i < p->n_inputs && n < 2; i++)
        if ((int)i != p->base_index)
            input[n++] = i;
}

/* mergekit: t = w1 / (w0 + w1), or 0.5 when the weights cancel. */
static double interpolation_t(const mpb_tensor_params *p)
{
    size_t input[2];
    model_inputs(p, input);
    double w0 = p->weight[input[0]], w1 = p->weight[input[1]];
    return fabs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);
}

/* Every input's coefficient in double from the sums of v0, v1. */
static void input_coefficients(const mpb_tensor_params *p, double ss0, double ss1, double dot01,
                               double exact[])
{
    size_t input[2];
    model_inputs(p, input);
    double c[2];
    nuslerp_coefficients(interpolation_t(p), ss0, ss1, dot01, c);
    exact[input[0]] = c[0];
    exact[input[1]] = c[1];
    if (p->base_index >= 0)
        exact[p->base_index] = 1.0 - c[0] - c[1]; /* base + c0 (x0 - base) + c1 (x1 - base) */
}

static int sums_coefficients(const double totals[], const mpb_tensor_params *p,
                             const char *tensor, float coef[], mpb_error *err)
{
    (void)tensor;
    double exact[MPB_MAX_INPUTS];
    input_coefficients(p, mpb_gram_at(totals, 2, 0, 0), mpb_gram_at(totals, 2, 1, 1),
                       mpb_gram_at(totals, 2, 0, 1), exact);
    for (size_t i = 0; i < p->n_inputs; i++)
        coef[i] = (float)exact[i];
    return mpb_coefficients_check_finite(coef, exact, p->n_inputs, err);
}

/* Without flatten, mergekit slerps each vector along the last dimension,
 * or with row_wise along dimension 0 (it transposes dimension 0 to the
 * end).  A 1-D tensor is one such vector: the whole-tensor path gives it. */
static size_t vector_len(const mpb_tensor_params *p, int ndim, const uint64_t shape[])
{
    return !p->nuslerp_flatten && !p->nuslerp_row_wise && ndim >= 2 ? (size_t)shape[ndim - 1]
                                                                    : 0;
}

static bool columns(const mpb_tensor_params *p, int ndim)
{
    return !p->nuslerp_flatten && p->nuslerp_row_wise && ndim >= 2;
}

static int vectors_blend(const mpb_tensor_params *p, size_t len, size_t n_vectors,
                         const void *const in[], mpb_dtype in_dt, void *out, mpb_dtype out_dt)
{
    size_t input[2];
    model_inputs(p, input);
    float *v = malloc(2 * (len ? len : 1) * sizeof *v);
    if (v == NULL)
        return MPB_ENOMEM;
    size_t in_size = mpb_dtype_size(in_dt), out_size = mpb_dtype_size(out_dt);
    for (size_t k = 0; k < n_vectors; k++) {
        const void *at[MPB_MAX_INPUTS];
        for (size_t i = 0; i < p->n_inputs; i++)
            at[i] = (const char *)in[i] + k * len * in_size;
        const void *base = p->base_index >= 0 ? at[p->base_index] : NULL;
        mpb_method_deltas(in_dt, at[input[0]], base, len, v);
        mpb_method_deltas(in_dt, at[input[1]], base, len, v + len);
        double exact[MPB_MAX_INPUTS];
        input_coefficients(p, mpb_sum_products(v, v, len, 0.0),
                           mpb_sum_products(v + len, v + len, len, 0.0),
                           mpb_sum_products(v, v + len, len, 0.0), exact);
        float coef[MPB_MAX_INPUTS];
        for (size_t i = 0; i < p->n_inputs; i++)
            coef[i] = (float)exact[i];
        mpb_blend_linear(p->n_inputs, at, in_dt, coef, (char *)out + k * len * out_size, out_dt,
                         len);
    }
    free(v);
    return MPB_OK;
}

/* A coefficient past fp32's range would come from a t that is not finite. */
static int check_params(const mpb_tensor_params *p, const char *tensor, mpb_error *err)
{
    if (p->nuslerp_flatten)
        return MPB_OK;
    double t = interpolation_t(p);
    if (!isfinite(t))
        return mpb_fail(err, MPB_EINVAL,
                        "nuslerp: the weights of tensor '%s' give t = w1 / (w0 + w1) = %g",
                        tensor, t);
    return MPB_OK;
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
    .vector_len = vector_len,
    .vectors_blend = vectors_blend,
    .columns = columns,
    .columns_add = mpb_gram_add_columns,
};
