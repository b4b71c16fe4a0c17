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

static uint64_t count_bits(const float *restrict d, size_t n, uint32_t bits)
{
    uint32_t count = 0;
    for (size_t j = 0; j < n; j++)
        count += mpb_abs_bits(d[j]) == bits;
    return count;
}

/* mask[j] = all ones when key[j] is inside the cut, else 0, for n elements
 * in index order; *seen counts the elements equal to the cut met so far.
 * When all or none of the block's elements equal to the cut are inside it,
 * a comparison decides (vectorised); only the block where the count
 * crosses `need` goes one element at a time.  The one home of the cut test
 * for the kernel: magnitude windows and SCE's variance selection. */
static void cut_mask(const mpb_cut *c, const float *restrict key, size_t n, uint64_t *seen,
                     uint32_t *restrict mask)
{
    uint64_t equal = count_bits(key, n, c->bits);
    if (*seen < c->need && equal > c->need - *seen) {
        for (size_t j = 0; j < n; j++)
            mask[j] = mpb_cut_holds(c, mpb_abs_bits(key[j]), seen) ? UINT32_MAX : 0u;
        return;
    }
    const uint32_t bits = c->bits;
    const int all = *seen < c->need;
    for (size_t j = 0; j < n; j++) {
        uint32_t b = mpb_abs_bits(key[j]);
        mask[j] = 0u - (uint32_t)((b > bits) | (all & (b == bits)));
    }
    *seen += equal;
}

/* d[j] = kept ? d[j] * scale : 0 for a magnitude window [lo, hi). */
static void window(const mpb_task_model *m, float *restrict d, size_t n, uint64_t *seen_hi,
                   uint64_t *seen_lo)
{
    uint32_t in_hi[CHUNK], in_lo[CHUNK];
    cut_mask(&m->hi, d, n, seen_hi, in_hi);
    cut_mask(&m->lo, d, n, seen_lo, in_lo);
    const float scale = m->scale;
    for (size_t j = 0; j < n; j++)
        d[j] = keep_or_zero(in_hi[j] & ~in_lo[j], d[j] * scale);
}

void mpb_select_keep(const mpb_cut *cut, const float *key, float *const v[], size_t n_models,
                     size_t n, uint64_t *seen)
{
    uint32_t mask[CHUNK];
    for (size_t done = 0; done < n; done += CHUNK) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        cut_mask(cut, key + done, m, seen, mask);
        for (size_t k = 0; k < n_models; k++)
            for (size_t j = 0; j < m; j++)
                v[k][done + j] = keep_or_zero(mask[j], v[k][done + j]);
    }
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

/* sum[j] = v[0][j] + v[1][j] + ... in model order. */
static void sum_models(float v[][CHUNK], size_t n_models, float *restrict sum, size_t n)
{
    memcpy(sum, v[0], n * sizeof *sum);
    for (size_t k = 1; k < n_models; k++)
        for (size_t j = 0; j < n; j++)
            sum[j] = sum[j] + v[k][j];
}

/* mixed[j] = M: the weighted deltas summed in model order, then, with
 * consensus, only those of the elected sign, then normalised.  SCE comes
 * with sum[] already holding its vote (the unweighted kept deltas' sum). */
static void mix(const mpb_task_spec *s, float wd[][CHUNK], float *restrict sum,
                float *restrict mixed, size_t n)
{
    if (!s->sce)
        sum_models(wd, s->n_models, sum, n);
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

/* SCE's task vectors of one block: selected by their variance, their
 * unweighted sum (the vote) into sum[], then weighted. */
static void sce_deltas(const mpb_task_spec *s, const void *const in[], mpb_dtype in_dt,
                       size_t done, const float *restrict b, float wd[][CHUNK],
                       float *restrict sum, size_t n, uint64_t *seen_select)
{
    float *d[MPB_MAX_INPUTS - 1];
    for (size_t k = 0; k < s->n_models; k++) {
        d[k] = wd[k];
        mpb_method_deltas(in_dt, at(in[s->models[k].input], in_dt, done), NULL, n, wd[k]);
        for (size_t j = 0; j < n; j++)
            wd[k][j] = wd[k][j] - b[j];
    }
    if (s->select) {
        float key[CHUNK];
        mpb_sce_variance((const float *const *)d, s->n_models, n, key);
        mpb_select_keep(&s->select_cut, key, d, s->n_models, n, seen_select);
    }
    sum_models(wd, s->n_models, sum, n);
    for (size_t k = 0; k < s->n_models; k++)
        for (size_t j = 0; j < n; j++)
            wd[k][j] = s->models[k].weight * wd[k][j];
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
        if (s->sce)
            sce_deltas(s, in, in_dt, done, b, wd, sum, m, &pos->seen_select);
        for (size_t k = 0; k < s->n_models && !s->sce; k++) {
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
    if (s->fusion && n > 0) {
        if (s->fusion_kl == NULL || s->fusion_len == 0)
            return MPB_EINVAL; /* its statistics did not run */
        mpb_blend_fusion(s, in, in_dt, out, out_dt, n, pos->index);
        pos->index += n;
        return MPB_OK;
    }
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
