/* model_stock: t = N cos / (1 + (N-1) cos) from the angles between the task
 * vectors; the result is t mean(theta_i) + (1 - t) B (mergekit's
 * model_stock.py). */
#include "mpb_registry.h"

#include <math.h>

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

static int sums_coefficients(const double totals[], const mpb_tensor_params *p,
                             const char *tensor, float coef[], mpb_error *err)
{
    size_t n_inputs = p->n_inputs;
    int base = p->base_index;
    size_t n = n_inputs - 1;
    double t;
    if (!mpb_model_stock_t(n, totals, totals + n, &t))
        return mpb_fail(
            err, MPB_EINVAL,
            "model_stock: the mean cosine of the %zu task vectors of tensor '%s' is "
            "-1/(N-1), where t = N cos / (1 + (N-1) cos) is undefined",
            n, tensor);
    for (size_t i = 0; i < n_inputs; i++)
        coef[i] = (int)i == base ? (float)(1.0 - t) : (float)(t / (double)n);
    return MPB_OK;
}

const mpb_method_def mpb_method_model_stock = {
    .name = "model_stock",
    .summary = "weights from the angles between the task vectors",
    .base = MPB_BASE_NEEDED,
    .min_others = 2,
    .whole_tensor_stats = true,
    .deterministic = true,
    .blend = MPB_BLEND_STATISTICS,
    .sums_of_deltas = true,
    .sums_count = mpb_gram_count,
    .sums_add = mpb_gram_add,
    .sums_coefficients = sums_coefficients,
};
