/* multislerp: the weighted spherical mean of two or more models, or of their
 * task vectors when base_model is given (mergekit's multislerp.py).  The
 * result is a fixed combination of the vectors whose coefficients follow
 * from their Gram sums, so it blends with the linear kernel. */
#include "mpb_registry.h"

#include <math.h>

static int sums_coefficients(const double totals[], const mpb_tensor_params *p,
                             const char *tensor, float coef[], mpb_error *err)
{
    int base = p->base_index;
    size_t input[MPB_MAX_INPUTS], n = 0;
    double w[MPB_MAX_INPUTS] = {0}, norm[MPB_MAX_INPUTS], mu[MPB_MAX_INPUTS], c[MPB_MAX_INPUTS];
    for (size_t i = 0; i < p->n_inputs; i++)
        if ((int)i != base)
            input[n++] = i;
    double wsum = 0.0;
    for (size_t k = 0; k < n; k++)
        wsum += (w[k] = p->weight[input[k]]);
    if (p->normalize_weights) {
        if (mpb_weights_cancel(w, n, -1))
            return mpb_fail(err, MPB_EINVAL,
                            "multislerp weights for tensor '%s' sum to 0 and normalize_weights "
                            "divides by their sum; change the weights or set "
                            "normalize_weights: false",
                            tensor);
        for (size_t k = 0; k < n; k++)
            w[k] /= wsum;
    }
    /* unit_k = v_k / (|v_k| + eps); mean = sum w_k unit_k = sum mu_k v_k. */
    double mean_sq = 0.0;
    for (size_t k = 0; k < n; k++) {
        norm[k] = sqrt(mpb_gram_at(totals, n, k, k));
        mu[k] = w[k] / (norm[k] + p->eps);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            mean_sq += mu[i] * mu[j] * mpb_gram_at(totals, n, i, j);
    double mean_norm = sqrt(mean_sq > 0.0 ? mean_sq : 0.0);
    if (!(mean_norm >= p->eps)) {
        if (n != 2)
            return mpb_fail(err, MPB_EINVAL,
                            "multislerp: the weighted mean of the %zu unit vectors of tensor "
                            "'%s' is zero (antipodal vectors whose weights balance out); "
                            "change the weights",
                            n, tensor);
        for (size_t k = 0; k < n; k++) /* mergekit: the linear blend of the two */
            c[k] = w[k];
    } else {
        /* The tangent vectors at the normalised mean sum to zero with these
         * weights, so the exponential map leaves mean * cos(eps); scaled to
         * the weighted mean of the norms. */
        double avg_norm = 0.0;
        for (size_t k = 0; k < n; k++)
            avg_norm += w[k] * norm[k];
        double scale = cos(p->eps) * avg_norm / mean_norm;
        for (size_t k = 0; k < n; k++)
            c[k] = mu[k] * scale;
    }
    double exact[MPB_MAX_INPUTS], rest = 1.0;
    for (size_t k = 0; k < n; k++) {
        exact[input[k]] = c[k];
        rest -= c[k];
    }
    if (base >= 0)
        exact[base] = rest; /* v_k = x_k - base: base + sum c_k v_k */
    for (size_t i = 0; i < p->n_inputs; i++)
        coef[i] = (float)exact[i];
    return mpb_coefficients_check_finite(coef, exact, p->n_inputs, err);
}

const mpb_method_def mpb_method_multislerp = {
    .name = "multislerp",
    .summary = "weighted spherical mean of the models (or task vectors from base_model)",
    .base = MPB_BASE_OPTIONAL,
    .min_others = 2,
    .params = {[MPB_P_WEIGHT] = MPB_PARAM_REQUIRED,
               [MPB_P_NORMALIZE_WEIGHTS] = MPB_PARAM_DEFAULT(1.0),
               [MPB_P_EPS] = MPB_PARAM_DEFAULT(1e-8)},
    .required_why = "each model's share of the spherical mean",
    .whole_tensor_stats = true,
    .deterministic = true,
    .blend = MPB_BLEND_STATISTICS,
    .sums_of_deltas = true,
    .sums_count = mpb_gram_count,
    .sums_add = mpb_gram_add,
    .sums_coefficients = sums_coefficients,
};
