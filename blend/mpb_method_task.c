/* The task-arithmetic family as one per-element kernel (docs/METHODS.md).
 * Each step is a loop over a block of elements, so the compiler can
 * vectorise it; every lane does the same IEEE fp32 operations. */
#include "mpb_method.h"

#include "mpb_convert.h"
#include "mpb_error.h"
#include "mpb_random.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if FLT_EVAL_METHOD != 0
#error "the blend contract needs fp32 operations evaluated in fp32 (e.g. -mfpmath=sse on i386)"
#endif

/* Elements staged per pass: one fp32 block per input lives on the stack. */
enum { CHUNK = 256 };

float mpb_rescale_l1(double before, double after)
{
    const double eps = 1e-7; /* mergekit's rescaled_masked_tensor */
    if (!(before >= eps) || !(after >= eps))
        return 1.0f;
    return (float)(before / after);
}

mpb_cut mpb_cut_none(void)
{
    return (mpb_cut){.bits = UINT32_MAX, .need = 0}; /* no magnitude reaches it */
}

mpb_cut mpb_cut_all(void)
{
    return (mpb_cut){.bits = 0, .need = UINT64_MAX};
}

bool mpb_cut_holds(const mpb_cut *c, uint32_t bits, uint64_t *seen)
{
    if (bits != c->bits)
        return bits > c->bits;
    return (*seen)++ < c->need;
}

bool mpb_keep_random(uint64_t key, uint64_t index, double density)
{
    return (double)mpb_random_uniform(key, index) < density;
}

uint64_t mpb_keep_threshold(double density)
{
    /* u = m 2^-24 < density  <=>  m < density 2^24 (a power-of-two scaling,
     * exact)  <=>  m < ceil(density 2^24) for an integer m. */
    if (!(density > 0.0))
        return 0;
    return density >= 1.0 ? (1ull << 24) : (uint64_t)ceil(ldexp(density, 24));
}

static const void *at(const void *p, mpb_dtype dt, size_t j)
{
    return (const unsigned char *)p + j * mpb_dtype_size(dt);
}

/* cond ? a : b without a branch, so that the loops below vectorise. */
static inline float pick(int cond, float a, float b)
{
    uint32_t ua, ub, mask = 0u - (uint32_t)(cond != 0);
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    uint32_t r = (ua & mask) | (ub & ~mask);
    float f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* v when mask is all ones, +0 when it is 0. */
static inline float keep_or_zero(uint32_t mask, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    u &= mask;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* The window test one element at a time, counting equal magnitudes in index
 * order: for the block where a cut's `need` is reached. */
static void window_in_order(const mpb_task_model *m, float *restrict d, size_t n,
                            uint64_t *seen_hi, uint64_t *seen_lo)
{
    for (size_t j = 0; j < n; j++) {
        uint32_t bits = mpb_abs_bits(d[j]);
        bool in_hi = mpb_cut_holds(&m->hi, bits, seen_hi);
        bool in_lo = mpb_cut_holds(&m->lo, bits, seen_lo);
        d[j] = pick(in_hi && !in_lo, d[j] * m->scale, 0.0f);
    }
}

static uint64_t count_bits(const float *restrict d, size_t n, uint32_t bits)
{
    uint32_t count = 0;
    for (size_t j = 0; j < n; j++)
        count += mpb_abs_bits(d[j]) == bits;
    return count;
}

/* d[j] = kept ? d[j] * scale : 0 for a magnitude window.  When all or none
 * of a block's elements equal to a cut are inside it, a comparison decides
 * (vectorised); only the block where the count crosses `need` goes in order. */
static void window(const mpb_task_model *m, float *restrict d, size_t n, uint64_t *seen_hi,
                   uint64_t *seen_lo)
{
    const uint32_t hi = m->hi.bits, lo = m->lo.bits;
    uint64_t eq_hi = count_bits(d, n, hi), eq_lo = count_bits(d, n, lo);
    bool split_hi = *seen_hi<m->hi.need && * seen_hi + eq_hi> m->hi.need;
    bool split_lo = *seen_lo<m->lo.need && * seen_lo + eq_lo> m->lo.need;
    if (split_hi || split_lo) {
        window_in_order(m, d, n, seen_hi, seen_lo);
        return;
    }
    const int all_hi = *seen_hi < m->hi.need, all_lo = *seen_lo < m->lo.need;
    const float scale = m->scale;
    for (size_t j = 0; j < n; j++) {
        uint32_t bits = mpb_abs_bits(d[j]);
        int in_hi = (bits > hi) | (all_hi & (bits == hi));
        int in_lo = (bits > lo) | (all_lo & (bits == lo));
        d[j] = pick(in_hi & !in_lo, d[j] * scale, 0.0f);
    }
    *seen_hi += eq_hi;
    *seen_lo += eq_lo;
}

/* On entry wd holds the model's values; on exit
 * wd[j] = weight * (kept ? (x[j] - b[j]) * scale : 0); DELLA's factor[j]
 * (0 for dropped elements) multiplies before the scale. */
static void weighted_deltas(const mpb_task_model *m, const float *restrict b,
                            float *restrict wd, size_t n, uint64_t first, uint64_t *seen_hi,
                            uint64_t *seen_lo, const float *restrict factor)
{
    const float scale = m->scale, weight = m->weight;
    for (size_t j = 0; j < n; j++)
        wd[j] = wd[j] - b[j];
    if (m->keep == MPB_KEEP_WINDOW) {
        window(m, wd, n, seen_hi, seen_lo);
    } else if (m->keep == MPB_KEEP_RANDOM) {
        uint32_t keep[CHUNK];
        mpb_random_keep_mask(m->key, first, mpb_keep_threshold(m->density), keep, n);
        for (size_t j = 0; j < n; j++)
            wd[j] = keep_or_zero(keep[j], wd[j] * scale);
    } else if (m->keep == MPB_KEEP_DELLA) {
        for (size_t j = 0; j < n; j++)
            wd[j] = pick(factor[j] != 0.0f, (wd[j] * factor[j]) * scale, 0.0f);
    } else {
        for (size_t j = 0; j < n; j++)
            wd[j] = wd[j] * scale;
    }
    for (size_t j = 0; j < n; j++)
        wd[j] = weight * wd[j];
}

/* Adds the deltas of the elected sign (zeros never vote) and their weights.
 * Adding +0 for the others is exact: neither sum can be -0, as both start
 * at +0. */
static void elect(const float *restrict sum, const float *restrict wd, float weight,
                  float *restrict mixed, float *restrict divisor, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        float v = wd[j];
        int up = sum[j] >= 0.0f;
        int elected = (up & (v > 0.0f)) | (!up & (v < 0.0f));
        mixed[j] = mixed[j] + pick(elected, v, 0.0f);
        divisor[j] = divisor[j] + pick(elected, weight, 0.0f);
    }
}

/* mixed[j] = M: the weighted deltas summed in model order, then, with
 * consensus, only those of the elected sign, then normalised. */
static void mix(const mpb_task_spec *s, float wd[][CHUNK], float *restrict sum,
                float *restrict mixed, size_t n)
{
    memcpy(sum, wd[0], n * sizeof *sum);
    for (size_t k = 1; k < s->n_models; k++)
        for (size_t j = 0; j < n; j++)
            sum[j] = sum[j] + wd[k][j];
    if (!s->consensus) {
        for (size_t j = 0; j < n; j++)
            mixed[j] = s->normalize ? sum[j] / s->divisor : sum[j];
        return;
    }
    float divisor[CHUNK];
    for (size_t j = 0; j < n; j++)
        mixed[j] = divisor[j] = 0.0f;
    for (size_t k = 0; k < s->n_models; k++)
        elect(sum, wd[k], s->models[k].weight, mixed, divisor, n);
    for (size_t j = 0; s->normalize && j < n; j++)
        mixed[j] = mixed[j] / pick(divisor[j] == 0.0f, 1.0f, divisor[j]);
    for (size_t j = 0; j < n; j++) /* a NaN delta: no sign to elect, the result is NaN */
        mixed[j] = pick(sum[j] != sum[j], sum[j], mixed[j]);
}

/* Elements [from, from + n) of the slab; factor[k] holds DELLA's factors
 * of model k for them (NULL for other kinds). */
static void blend_span(const mpb_task_spec *s, const void *const in[], mpb_dtype in_dt,
                       void *out, mpb_dtype out_dt, size_t from, size_t n, mpb_task_pos *pos,
                       const float *const factor[])
{
    const uint32_t nan_bits = 0x7fc00000u;
    float nan, b[CHUNK], sum[CHUNK], mixed[CHUNK], wd[MPB_MAX_INPUTS - 1][CHUNK];
    memcpy(&nan, &nan_bits, sizeof nan);
    for (size_t done = from; done < from + n; done += CHUNK) {
        size_t m = from + n - done < CHUNK ? from + n - done : CHUNK;
        /* Every input of this block is read before out is written. */
        mpb_method_deltas(in_dt, at(in[s->base], in_dt, done), NULL, m, b);
        for (size_t k = 0; k < s->n_models; k++) {
            mpb_method_deltas(in_dt, at(in[s->models[k].input], in_dt, done), NULL, m, wd[k]);
            weighted_deltas(&s->models[k], b, wd[k], m, pos->index + done, &pos->seen_hi[k],
                            &pos->seen_lo[k], factor[k] ? factor[k] + (done - from) : NULL);
        }
        mix(s, wd, sum, mixed, m);
        for (size_t j = 0; j < m; j++) {
            float r = b[j] + mixed[j] * s->lambda;
            b[j] = pick(r != r, nan, r);
        }
        mpb_convert_from_f32(out_dt, b, (unsigned char *)out + done * mpb_dtype_size(out_dt),
                             m);
    }
}

/* Row by row: DELLA's factors need the whole row of each task vector
 * before any of its elements is blended. */
static int blend_rows(const mpb_task_spec *s, const void *const in[], mpb_dtype in_dt,
                      void *out, mpb_dtype out_dt, size_t n, mpb_task_pos *pos)
{
    const size_t len = s->row_len;
    if (len == 0 || n % len != 0 || s->group_stride == 0 || len % s->group_stride != 0)
        return MPB_EINVAL;
    size_t n_della = 0;
    for (size_t k = 0; k < s->n_models; k++)
        n_della += s->models[k].keep == MPB_KEEP_DELLA;
    float *d = malloc(len * (n_della + 1) * sizeof *d);
    uint32_t *scratch = malloc(mpb_della_scratch_count(len) * sizeof *scratch);
    if (d == NULL || scratch == NULL) {
        free(d);
        free(scratch);
        return MPB_ENOMEM;
    }
    const float *factor[MPB_MAX_INPUTS] = {0};
    for (size_t row = 0; row < n / len; row++) {
        size_t from = row * len, f = 1;
        for (size_t k = 0; k < s->n_models; k++) {
            const mpb_task_model *m = &s->models[k];
            if (m->keep != MPB_KEEP_DELLA)
                continue;
            float *fk = d + len * f++;
            mpb_method_deltas(in_dt, at(in[m->input], in_dt, from),
                              at(in[s->base], in_dt, from), len, d);
            mpb_della_factors(m, d, len, s->group_stride, pos->index + from, fk, scratch);
            factor[k] = fk;
        }
        blend_span(s, in, in_dt, out, out_dt, from, len, pos, factor);
    }
    free(d);
    free(scratch);
    return MPB_OK;
}

int mpb_blend_task(const mpb_task_spec *s, const void *const in[], mpb_dtype in_dt, void *out,
                   mpb_dtype out_dt, size_t n, mpb_task_pos *pos)
{
    if (s->n_models == 0 || s->n_models >= MPB_MAX_INPUTS || !mpb_dtype_is_blendable(in_dt) ||
        !mpb_dtype_is_blendable(out_dt))
        return MPB_OK;
    bool della = false;
    for (size_t k = 0; k < s->n_models; k++)
        della |= s->models[k].keep == MPB_KEEP_DELLA;
    static const float *const none[MPB_MAX_INPUTS];
    int rc = MPB_OK;
    if (della)
        rc = blend_rows(s, in, in_dt, out, out_dt, n, pos);
    else
        blend_span(s, in, in_dt, out, out_dt, 0, n, pos, none);
    if (rc == MPB_OK)
        pos->index += n;
    return rc;
}
