#include "mpb_distance_sums.h"

#include <math.h>
#include <string.h>

enum { PAIR_DOT, PAIR_SUM_D, PAIR_SUM_D2, PAIR_M2, PAIR_FIELDS };

mpb_module_kind mpb_module_kind_of(const char *name)
{
    /* Order matters: q_norm sits in self_attn, and mergekit's filters are
     * substrings, so "self_attn" and "mlp" take their norms along. */
    if (strstr(name, "embed_tokens") || strstr(name, "lm_head"))
        return MPB_KIND_EMBEDDING;
    if (strstr(name, "self_attn"))
        return MPB_KIND_ATTENTION;
    if (strstr(name, "mlp"))
        return MPB_KIND_MLP;
    if (strstr(name, "norm"))
        return MPB_KIND_NORM;
    return MPB_KIND_OTHER;
}

const char *mpb_module_kind_name(mpb_module_kind k)
{
    static const char *const names[MPB_KIND_COUNT] = {"attention", "mlp", "norm", "embedding",
                                                      "other"};
    return k < MPB_KIND_COUNT ? names[k] : "?";
}

size_t mpb_distance_pairs(size_t n_inputs)
{
    return n_inputs * (n_inputs - 1) / 2;
}

size_t mpb_distance_stride(size_t n_inputs)
{
    return n_inputs + PAIR_FIELDS * mpb_distance_pairs(n_inputs);
}

void mpb_distance_row(size_t n_inputs, const double *const *x, uint64_t m, double *sums)
{
    memset(sums, 0, mpb_distance_stride(n_inputs) * sizeof *sums);
    for (size_t i = 0; i < n_inputs; i++) {
        double s = 0;
        for (uint64_t k = 0; k < m; k++)
            s += x[i][k] * x[i][k];
        sums[i] = s;
    }
    double *pair = sums + n_inputs;
    for (size_t i = 0; i < n_inputs; i++)
        for (size_t j = i + 1; j < n_inputs; j++, pair += PAIR_FIELDS) {
            const double *a = x[i], *b = x[j];
            double dot = 0, sd = 0, sd2 = 0;
            for (uint64_t k = 0; k < m; k++) {
                double d = a[k] - b[k];
                dot += a[k] * b[k];
                sd += d;
                sd2 += d * d;
            }
            /* Second pass over the row in memory: M2 about the row's mean. */
            double mean = m ? sd / (double)m : 0, m2 = 0;
            for (uint64_t k = 0; k < m; k++) {
                double c = (a[k] - b[k]) - mean;
                m2 += c * c;
            }
            pair[PAIR_DOT] = dot;
            pair[PAIR_SUM_D] = sd;
            pair[PAIR_SUM_D2] = sd2;
            pair[PAIR_M2] = m2;
        }
}

void mpb_distance_merge(size_t n_inputs, double *acc, uint64_t acc_m, const double *part,
                        uint64_t part_m)
{
    if (part_m == 0)
        return;
    for (size_t i = 0; i < n_inputs; i++)
        acc[i] += part[i];
    double *pa = acc + n_inputs;
    const double *pp = part + n_inputs;
    double na = (double)acc_m, nb = (double)part_m;
    for (size_t p = 0; p < mpb_distance_pairs(n_inputs);
         p++, pa += PAIR_FIELDS, pp += PAIR_FIELDS) {
        /* Chan, Golub and LeVeque's update for the combined M2. */
        double delta = acc_m ? pp[PAIR_SUM_D] / nb - pa[PAIR_SUM_D] / na : 0;
        pa[PAIR_M2] += pp[PAIR_M2] + (acc_m ? delta * delta * na * nb / (na + nb) : 0);
        pa[PAIR_DOT] += pp[PAIR_DOT];
        pa[PAIR_SUM_D] += pp[PAIR_SUM_D];
        pa[PAIR_SUM_D2] += pp[PAIR_SUM_D2];
    }
}

static size_t pair_index(size_t n, size_t a, size_t b)
{
    /* Pairs in order (0,1) (0,2) .. (0,n-1) (1,2) .. */
    return a * n - a * (a + 1) / 2 + (b - a - 1);
}

mpb_distance_metrics mpb_distance_metrics_of(size_t n_inputs, const double *sums, uint64_t m,
                                             size_t a, size_t b)
{
    const double *pair = sums + n_inputs + PAIR_FIELDS * pair_index(n_inputs, a, b);
    double na = sqrt(sums[a]), nb = sqrt(sums[b]);
    mpb_distance_metrics r = {NAN, NAN, NAN};
    if (m == 0)
        return r;
    if (na > 0)
        r.rel_l2 = sqrt(pair[PAIR_SUM_D2]) / na;
    if (na > 0 && nb > 0)
        r.cosine = pair[PAIR_DOT] / (na * nb);
    r.diff_std = sqrt(pair[PAIR_M2] / (double)m);
    return r;
}
