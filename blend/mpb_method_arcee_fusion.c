/* arcee_fusion: the other model's value where its importance, |x - b|
 * times the KL divergence of its softmax from the base's along the last
 * dimension, reaches median + 1.5 IQR of the tensor's importances, the
 * base's elsewhere (mergekit's merge_methods/arcee_fusion.py).  mpiblend
 * takes the quantiles exactly over the whole tensor instead of from
 * mergekit's unseeded sample; docs/METHODS.md#arcee_fusion has the
 * arithmetic.  The statistics (commands/merge/mpb_merge_stats_fusion.c)
 * find the KL of every vector and the three quantiles. */
#include "mpb_convert.h"
#include "mpb_registry.h"

#include <math.h>
#include <string.h>

enum { CHUNK = 256 };

/* Sum of exp(v[j] - max v) in index order; e[j] keeps each term. */
static double exp_sum(const float *v, size_t len, double *e)
{
    float top = v[0];
    for (size_t j = 1; j < len; j++)
        top = fmaxf(top, v[j]);
    double sum = 0.0;
    for (size_t j = 0; j < len; j++) {
        e[j] = exp((double)v[j] - (double)top);
        sum += e[j];
    }
    return sum;
}

double mpb_fusion_kl(const float *x, const float *b, size_t len, double *scratch)
{
    const double eps = 1e-8; /* mergekit adds it to both softmaxes */
    if (len == 0)
        return 0.0;
    double *ex = scratch, *eb = scratch + len;
    double sx = exp_sum(x, len, ex), sb = exp_sum(b, len, eb), kl = 0.0;
    for (size_t j = 0; j < len; j++) {
        double p = ex[j] / sx + eps, q = eb[j] / sb + eps;
        kl += p * log(p / q);
    }
    return kl;
}

float mpb_fusion_kl_f32(double kl)
{
    return kl < 0.0 ? 0.0f : (float)kl;
}

void mpb_fusion_key(const float *d, size_t n, const float *kl, size_t len, uint64_t first,
                    float *key)
{
    for (size_t j = 0; j < n;) {
        uint64_t v = (first + j) / len, end = (v + 1) * len - first;
        size_t stop = end < n ? (size_t)end : n;
        for (; j < stop; j++)
            key[j] = fabsf(d[j]) * kl[v];
    }
}

void mpb_fusion_ranks(uint64_t n, uint64_t rank[3])
{
    const uint64_t index[3] = {(n - 1) / 4, (n - 1) / 2, 3 * (n - 1) / 4};
    for (int i = 0; i < 3; i++)
        rank[i] = n - index[i];
}

float mpb_fusion_threshold(float q1, float median, float q3)
{
    float spread = q3 - q1;
    float wide = 1.5f * spread;
    return median + wide;
}

static const void *at(const void *p, mpb_dtype dt, size_t j)
{
    return (const unsigned char *)p + j * mpb_dtype_size(dt);
}

void mpb_blend_fusion(const mpb_task_spec *s, const void *const in[], mpb_dtype in_dt,
                      void *out, mpb_dtype out_dt, size_t n, uint64_t first)
{
    const uint32_t nan_bits = 0x7fc00000u;
    float nan, b[CHUNK], d[CHUNK], key[CHUNK];
    memcpy(&nan, &nan_bits, sizeof nan);
    size_t x = s->models[0].input;
    for (size_t done = 0; done < n; done += CHUNK) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        /* Both inputs of this block are read before out is written. */
        mpb_method_deltas(in_dt, at(in[s->base], in_dt, done), NULL, m, b);
        mpb_method_deltas(in_dt, at(in[x], in_dt, done), at(in[s->base], in_dt, done), m, d);
        mpb_fusion_key(d, m, s->fusion_kl, s->fusion_len, first + done, key);
        for (size_t j = 0; j < m; j++) {
            float mask = key[j] >= s->fusion_threshold ? 1.0f : 0.0f;
            float r = b[j] + d[j] * mask;
            b[j] = r != r ? nan : r;
        }
        mpb_convert_from_f32(out_dt, b, (unsigned char *)out + done * mpb_dtype_size(out_dt),
                             m);
    }
}

const mpb_method_def mpb_method_arcee_fusion = {
    .name = "arcee_fusion",
    .summary = "the model where |x - b| * row KL >= median + 1.5 IQR, else the base",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .max_others = 1,
    .whole_tensor_stats = true,
    .deterministic = true,
    .blend = MPB_BLEND_TASK,
};
