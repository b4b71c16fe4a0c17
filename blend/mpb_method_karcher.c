/* karcher: the Karcher (Riemannian) mean of the models' directions on the
 * unit sphere, iterated as mergekit's karcher.py does, scaled by their mean
 * norm.  Every iterate is a combination of the unit vectors, so the
 * iteration runs on N coefficients from the Gram sums and the tensor blends
 * with the linear kernel. */
#include "mpb_registry.h"

#include <math.h>

/* x^T C y over the valid units. */
static double form(const double *c, size_t n, const double x[], const double y[])
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            s += x[i] * c[i * MPB_MAX_INPUTS + j] * y[j];
    return s;
}

static int sums_coefficients(const double totals[], const mpb_tensor_params *p,
                             const char *tensor, float coef[], mpb_error *err)
{
    (void)tensor;
    double cosines[MPB_MAX_INPUTS * MPB_MAX_INPUTS];
    size_t n_all = p->n_inputs, n = 0, valid[MPB_MAX_INPUTS];
    double norm[MPB_MAX_INPUTS], share[MPB_MAX_INPUTS] = {0}, mean[MPB_MAX_INPUTS] = {0};
    double step[MPB_MAX_INPUTS], exact[MPB_MAX_INPUTS] = {0};
    const double alpha = 1.0 / (double)n_all, tol = p->tol;
    for (size_t k = 0; k < n_all; k++) {
        norm[k] = sqrt(mpb_gram_at(totals, n_all, k, k));
        if (norm[k] > tol)
            valid[n++] = k;
    }
    double alpha_sum = 0.0;
    for (size_t a = 0; a < n; a++)
        alpha_sum += alpha;
    for (size_t a = 0; a < n; a++) {
        share[a] = alpha / alpha_sum;
        for (size_t b = 0; b < n; b++)
            cosines[a * MPB_MAX_INPUTS + b] = mpb_gram_at(totals, n_all, valid[a], valid[b]) /
                                              (norm[valid[a]] * norm[valid[b]]);
    }
    if (n > 0) {
        for (size_t a = 0; a < n; a++)
            mean[a] = share[a];
        double mean_norm = sqrt(fmax(form(cosines, n, mean, mean), 0.0));
        for (size_t a = 0; a < n; a++)
            mean[a] = mean_norm < tol ? (a == 0 ? 1.0 : 0.0) : mean[a] / mean_norm;
        for (long it = 0; it < (long)p->max_iter; it++) {
            double dot[MPB_MAX_INPUTS];
            for (size_t a = 0; a < n; a++) { /* mean . unit_a, before any update */
                double d = 0.0;
                for (size_t b = 0; b < n; b++)
                    d += mean[b] * cosines[b * MPB_MAX_INPUTS + a];
                dot[a] = d < -1.0 ? -1.0 : d > 1.0 ? 1.0 : d;
                step[a] = 0.0;
            }
            for (size_t a = 0; a < n; a++) { /* sum share (theta / sin) (unit - dot mean) */
                double theta = acos(dot[a]);
                if (theta < tol)
                    continue;
                double f = share[a] * (theta / sin(theta));
                step[a] += f;
                for (size_t b = 0; b < n; b++)
                    step[b] -= f * dot[a] * mean[b];
            }
            double step_norm = sqrt(fmax(form(cosines, n, step, step), 0.0));
            if (step_norm < tol)
                break;
            double c = cos(step_norm), s = sin(step_norm) / step_norm;
            for (size_t a = 0; a < n; a++)
                mean[a] = c * mean[a] + s * step[a];
            double unit_norm = sqrt(fmax(form(cosines, n, mean, mean), 0.0));
            if (unit_norm > tol)
                for (size_t a = 0; a < n; a++)
                    mean[a] /= unit_norm;
        }
    }
    double scale = 0.0;
    for (size_t k = 0; k < n_all; k++)
        scale += alpha * norm[k];
    for (size_t a = 0; a < n; a++)
        exact[valid[a]] = scale * mean[a] / norm[valid[a]];
    for (size_t k = 0; k < n_all; k++)
        coef[k] = (float)exact[k];
    return mpb_coefficients_check_finite(coef, exact, n_all, err);
}

const mpb_method_def mpb_method_karcher = {
    .name = "karcher",
    .summary = "Karcher mean of the models on the sphere, scaled by their mean norm",
    .base = MPB_BASE_IGNORED,
    .min_others = 2,
    .params = {[MPB_P_MAX_ITER] = MPB_PARAM_DEFAULT(10), [MPB_P_TOL] = MPB_PARAM_DEFAULT(1e-5)},
    .whole_tensor_stats = true,
    .deterministic = true,
    .blend = MPB_BLEND_STATISTICS,
    .sums_of_deltas = true, /* no base: the models as they are */
    .sums_count = mpb_gram_count,
    .sums_add = mpb_gram_add,
    .sums_coefficients = sums_coefficients,
};
