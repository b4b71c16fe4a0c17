/* model_stock: t = N cos / (1 + (N-1) cos) from the angles between the task
 * vectors; the result is t mean(theta_i) + (1 - t) B (mergekit's
 * model_stock.py).  With filter_wise each vector along the last dimension
 * (each row of a 2-D tensor) gets its own cos and t from its own sums. */
#include "mpb_kernel.h"
#include "mpb_registry.h"

#include <math.h>
#include <stdlib.h>

bool mpb_model_stock_t(size_t n, const double sq[], const double dot[], double *t)
{
    double sum = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++, pairs++) {
            double norms = sqrt(sq[i]) * sqrt(sq[j]);
            double c = dot[pairs] / (norms > 1e-6 ? norms : 1e-6);
            sum += c < -1.0 ? -1.0 : c > 1.0 ? 1.0 : c;
        }
    }
    double cos = pairs ? sum / (double)pairs : 0.0;
    double denominator = 1.0 + ((double)n - 1.0) * cos;
    if (denominator == 0.0)
        return false;
    *t = (double)n * cos / denominator;
    return true;
}

size_t mpb_gram_count(size_t n)
{
    return n + n * (n - 1) / 2;
}

void mpb_gram_add(const float *const d[], size_t n, size_t len, double acc[])
{
    size_t q = n;
    for (size_t i = 0; i < n; i++) {
        acc[i] = mpb_sum_products(d[i], d[i], len, acc[i]);
        for (size_t j = i + 1; j < n; j++, q++)
            acc[q] = mpb_sum_products(d[i], d[j], len, acc[q]);
    }
}

void mpb_gram_add_columns(const float *const d[], size_t n, size_t len, mpb_exact_sum *acc,
                          size_t stride)
{
    size_t q = n;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < len; k++) /* a product of two fp32 is exact in double */
            mpb_exact_sum_add(&acc[i * stride + k], (double)d[i][k] * (double)d[i][k]);
        for (size_t j = i + 1; j < n; j++, q++)
            for (size_t k = 0; k < len; k++)
                mpb_exact_sum_add(&acc[q * stride + k], (double)d[i][k] * (double)d[j][k]);
    }
}

double mpb_gram_at(const double totals[], size_t n, size_t i, size_t j)
{
    if (i > j) {
        size_t k = i;
        i = j;
        j = k;
    }
    if (i == j)
        return totals[i];
    size_t q = n; /* the pairs (a, b), a < i, come first */
    for (size_t a = 0; a < i; a++)
        q += n - 1 - a;
    return totals[q + (j - i - 1)];
}

/* The base's coefficient 1 - t, every model's t / N, each rounded once. */
static void stock_coefficients(const mpb_tensor_params *p, double t, float coef[])
{
    size_t n = p->n_inputs - 1;
    for (size_t i = 0; i < p->n_inputs; i++)
        coef[i] = (int)i == p->base_index ? (float)(1.0 - t) : (float)(t / (double)n);
}

static int sums_coefficients(const double totals[], const mpb_tensor_params *p,
                             const char *tensor, float coef[], mpb_error *err)
{
    size_t n = p->n_inputs - 1;
    double t;
    if (!mpb_model_stock_t(n, totals, totals + n, &t))
        return mpb_fail(
            err, MPB_EINVAL,
            "model_stock: the mean cosine of the %zu task vectors of tensor '%s' is "
            "-1/(N-1), where t = N cos / (1 + (N-1) cos) is undefined",
            n, tensor);
    stock_coefficients(p, t, coef);
    return MPB_OK;
}

/* filter_wise: mergekit's sums along dim -1; a 1-D tensor is one row, the
 * whole-tensor path gives it. */
static size_t vector_len(const mpb_tensor_params *p, int ndim, const uint64_t shape[])
{
    return p->filter_wise && ndim >= 2 ? (size_t)shape[ndim - 1] : 0;
}

/* Each vector's Gram sums in double in index order, its t, the linear
 * kernel.  A vector whose mean cosine is exactly -1/(N-1) has no t: it
 * becomes NaN, as mergekit's division by zero makes it. */
static int vectors_blend(const mpb_tensor_params *p, size_t len, size_t n_vectors,
                         const void *const in[], mpb_dtype in_dt, void *out, mpb_dtype out_dt)
{
    size_t n = p->n_inputs - 1, n_sums = mpb_gram_count(n);
    float *d = malloc(n * (len ? len : 1) * sizeof *d);
    double *sums = malloc(n_sums * sizeof *sums);
    if (d == NULL || sums == NULL) {
        free(d);
        free(sums);
        return MPB_ENOMEM;
    }
    size_t in_size = mpb_dtype_size(in_dt), out_size = mpb_dtype_size(out_dt);
    for (size_t k = 0; k < n_vectors; k++) {
        const void *at[MPB_MAX_INPUTS];
        const float *v[MPB_MAX_INPUTS];
        for (size_t i = 0; i < p->n_inputs; i++)
            at[i] = (const char *)in[i] + k * len * in_size;
        for (size_t i = 0, m = 0; i < p->n_inputs; i++) {
            if ((int)i == p->base_index)
                continue;
            mpb_method_deltas(in_dt, at[i], at[p->base_index], len, d + m * len);
            v[m] = d + m * len;
            m++;
        }
        for (size_t q = 0; q < n_sums; q++)
            sums[q] = 0.0;
        mpb_gram_add(v, n, len, sums);
        double t;
        if (!mpb_model_stock_t(n, sums, sums + n, &t))
            t = NAN;
        float coef[MPB_MAX_INPUTS];
        stock_coefficients(p, t, coef);
        mpb_blend_linear(p->n_inputs, at, in_dt, coef, (char *)out + k * len * out_size, out_dt,
                         len);
    }
    free(d);
    free(sums);
    return MPB_OK;
}

const mpb_method_def mpb_method_model_stock = {
    .name = "model_stock",
    .summary = "weights from the angles between the task vectors",
    .base = MPB_BASE_NEEDED,
    .min_others = 2,
    .params = {[MPB_P_FILTER_WISE] = MPB_PARAM_DEFAULT(0.0)},
    .whole_tensor_stats = true,
    .deterministic = true,
    .blend = MPB_BLEND_STATISTICS,
    .sums_of_deltas = true,
    .sums_count = mpb_gram_count,
    .sums_add = mpb_gram_add,
    .sums_coefficients = sums_coefficients,
    .vector_len = vector_len,
    .vectors_blend = vectors_blend,
};
