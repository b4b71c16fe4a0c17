/* della and della_linear: DELLA's MagPrune (Deep, Bhardwaj et al., 2024;
 * mergekit's della_magprune) drops each task-vector element at random with
 * a probability that falls with its magnitude rank in its row, rescales,
 * and blends as task arithmetic; della adds the sign election of
 * mpb_method_task.c.  docs/METHODS.md#della has the arithmetic. */
#include "mpb_registry.h"

#include "mpb_random.h"

#include <string.h>

/* Radix digits of the 31 magnitude bits: three passes of 11 bits. */
enum { DIGIT_BITS = 11, DIGITS = 1 << DIGIT_BITS };

size_t mpb_della_scratch_count(size_t len)
{
    return 2 * len;
}

/* The group's positions i (element g + i * stride) by |d| ascending, equal
 * magnitudes by i ascending: a stable least-significant-digit radix sort,
 * linear in the group's size. */
static const uint32_t *ascending(const float *d, size_t len, size_t stride, size_t g,
                                 uint32_t *a, uint32_t *b)
{
    for (size_t i = 0; i < len; i++)
        a[i] = (uint32_t)i;
    for (int shift = 0; shift < 31; shift += DIGIT_BITS) {
        size_t start[DIGITS + 1];
        memset(start, 0, sizeof start);
        for (size_t i = 0; i < len; i++)
            start[((mpb_abs_bits(d[g + i * stride]) >> shift) & (DIGITS - 1)) + 1]++;
        if (start[((mpb_abs_bits(d[g]) >> shift) & (DIGITS - 1)) + 1] == len)
            continue; /* one digit value: the order stays */
        for (size_t k = 1; k <= DIGITS; k++)
            start[k] += start[k - 1];
        for (size_t r = 0; r < len; r++) {
            uint32_t i = a[r];
            b[start[(mpb_abs_bits(d[g + (size_t)i * stride]) >> shift) & (DIGITS - 1)]++] = i;
        }
        uint32_t *t = a;
        a = b;
        b = t;
    }
    return a;
}

void mpb_della_factors(const mpb_task_model *m, const float *d, size_t len, size_t stride,
                       uint64_t first, float *factor, uint32_t *scratch)
{
    size_t group = stride ? len / stride : 0;
    /* mergekit: p = (density - epsilon) + rank_norm * 2 * epsilon, the
     * scalars rounded to fp32, rank_norm = (rank - 1) / (n - 1) in fp32. */
    const float lo = (float)(m->density - m->epsilon), eps = (float)m->epsilon;
    const float last = (float)(group > 1 ? group - 1 : 1);
    for (size_t g = 0; g < stride; g++) {
        const uint32_t *order = ascending(d, group, stride, g, scratch, scratch + len);
        for (size_t r = 0; r < group; r++) {
            size_t j = g + (size_t)order[r] * stride;
            float p = group > 1 ? lo + ((float)r / last * 2.0f) * eps : (float)m->density;
            int kept = mpb_random_uniform(m->key, first + j) < p;
            factor[j] = kept ? (m->by_p ? 1.0f / p : 1.0f) : 0.0f;
        }
    }
}

#define DELLA_PARAMS(normalize)                                                 \
    MPB_SPARSE_PARAMS(normalize, 1), [MPB_P_EPSILON] = MPB_PARAM_DEFAULT(0.15), \
                                     [MPB_P_SEED] = MPB_PARAM_USED

const mpb_method_def mpb_method_della = {
    .name = "della",
    .summary = "random keep, likelier for larger magnitudes in a row (DELLA), sign election",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {DELLA_PARAMS(1)},
    .whole_tensor_stats = true, /* the L1 rescale */
    .elects_sign = true,
    .sparsify = MPB_KEEP_DELLA,
    .blend = MPB_BLEND_TASK,
};

const mpb_method_def mpb_method_della_linear = {
    .name = "della_linear",
    .summary = "della's drop and rescale without sign election",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {DELLA_PARAMS(0)},
    .whole_tensor_stats = true,
    .sparsify = MPB_KEEP_DELLA,
    .blend = MPB_BLEND_TASK,
};
