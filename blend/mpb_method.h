/* The merge methods beyond one fixed weighted sum (docs/METHODS.md):
 * the task-arithmetic family (task_arithmetic, ties, dare_linear, dare_ties,
 * breadcrumbs, breadcrumbs_ties) as one per-element kernel, the
 * coefficients of slerp and model_stock, and the per-slab statistics these
 * methods need from the whole tensor.
 *
 * Pure computation: the caller reduces the statistics over ranks.  Every
 * fp32 operation is written down in docs/METHODS.md and rounds on its own
 * (no fused multiply-add), so the same inputs give the same bits on every
 * CPU, with any number of ranks and any slab size. */
#ifndef MPB_METHOD_H
#define MPB_METHOD_H

#include "mpb_dtype.h"
#include "mpb_exact_sum.h"
#include "mpb_limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Magnitude order of a task vector: elements by |delta| descending, equal
 * magnitudes by element index ascending.  A cut at rank R holds the first R
 * elements of that order: every element whose |delta| bit pattern is above
 * `bits`, and the first `need` (by index) of those equal to it. */
typedef struct mpb_cut {
    uint32_t bits;
    uint64_t need;
} mpb_cut;

/* The cuts at rank 0 (holds nothing) and rank numel (holds everything). */
mpb_cut mpb_cut_none(void);
mpb_cut mpb_cut_all(void);

/* |d| as its IEEE bit pattern: for non-negative floats the integer order is
 * the numeric order (NaN above infinity).  Inline: it runs per element. */
static inline uint32_t mpb_abs_bits(float d)
{
    union {
        float f;
        uint32_t u;
    } v = {.f = d};
    return v.u & 0x7fffffffu;
}

/* Whether an element of magnitude bits is inside the cut; *seen counts the
 * elements equal to the cut's bits met so far (in index order) and is
 * advanced by this call. */
bool mpb_cut_holds(const mpb_cut *c, uint32_t bits, uint64_t *seen);

/* DARE's drop: element `index` is kept when mpb_random_uniform(key, index)
 * is below density. */
bool mpb_keep_random(uint64_t key, uint64_t index, double density);

/* The same test on integers, for loops: kept when
 * mpb_random_bits(key, index) >> 40 (the uniform's 24 bits) is below
 * mpb_keep_threshold(density) = ceil(density * 2^24), which is exact. */
uint64_t mpb_keep_threshold(double density);

typedef enum mpb_keep_kind {
    MPB_KEEP_ALL,    /* no sparsification */
    MPB_KEEP_WINDOW, /* magnitude ranks in [lo, hi): inside hi, not inside lo */
    MPB_KEEP_RANDOM, /* DARE */
    MPB_KEEP_DELLA   /* DELLA's MagPrune: random keep, its probability from the
                        element's magnitude rank in its row (mpb_della_factors) */
} mpb_keep_kind;

typedef struct mpb_task_model {
    size_t input; /* position of this model among the inputs */
    float weight; /* the resolved weight, rounded once to fp32 */
    float scale;  /* multiplies kept deltas (rescale); 1 leaves them as they are */
    mpb_keep_kind keep;
    mpb_cut hi, lo; /* MPB_KEEP_WINDOW */
    uint64_t
        key; /* MPB_KEEP_RANDOM, MPB_KEEP_DELLA: mpb_random_key(seed, input, tensor name) */
    double density; /* MPB_KEEP_RANDOM, MPB_KEEP_DELLA */
    double epsilon; /* MPB_KEEP_DELLA: probabilities run from density - epsilon
                       (smallest magnitude) to density + epsilon (largest) */
    bool by_p;      /* MPB_KEEP_DELLA: each kept element is multiplied by 1/p */
} mpb_task_model;

typedef struct mpb_task_spec {
    size_t base;     /* position of the base model among the inputs */
    size_t n_models; /* the other inputs, 1 .. MPB_MAX_INPUTS - 1 */
    mpb_task_model *models;
    bool consensus; /* TIES sign election */
    bool normalize; /* divide by the (elected) weights' sum */
    float divisor;  /* without consensus: the weights' sum, 1 when below 1e-8 */
    float lambda;
    /* MPB_KEEP_DELLA: the tensor's row length (slabs hold whole rows) and
     * the stride of its ranking groups within a row (mpb_della_factors). */
    size_t row_len, group_stride;
    /* SCE (docs/METHODS.md#sce): the election votes with the unweighted sum
     * of the kept task vectors; with `select`, an element of every task
     * vector is kept only when its variance across them (mpb_sce_variance)
     * is inside select_cut (ranked as magnitudes are). */
    bool sce, select;
    mpb_cut select_cut;
    /* arcee_fusion (docs/METHODS.md#arcee_fusion): the one model's value
     * where its importance |d| * fusion_kl[vector] is at least the
     * threshold, the base's elsewhere; vectors of fusion_len elements run
     * along the last dimension, fusion_kl[v] covers elements
     * [v * fusion_len, (v + 1) * fusion_len) of the tensor. */
    bool fusion;
    size_t fusion_len;
    const float *fusion_kl;
    float fusion_threshold;
} mpb_task_spec;

/* Where a slab starts in its tensor: the index of its first element and,
 * per model, how many elements equal to the hi and lo cut come before it.
 * mpb_blend_task advances it past the slab. */
typedef struct mpb_task_pos {
    uint64_t index;
    uint64_t seen_hi[MPB_MAX_INPUTS];
    uint64_t seen_lo[MPB_MAX_INPUTS];
    uint64_t seen_select; /* SCE: elements equal to select_cut before it */
} mpb_task_pos;

/* out[j] = base[j] + lambda * M[j] for n elements, M the (sparsified,
 * rescaled, weighted, elected, normalised) sum of the task vectors; the
 * exact operation order is in docs/METHODS.md.  in[] holds every input in
 * input order (in_dt F16, BF16 or F32); out (out_dt F16, BF16 or F32) may be
 * the same buffer as one input when in_dt == out_dt.  A NaN result is
 * written as the canonical quiet NaN, as mpb_blend_linear does.  With a
 * MPB_KEEP_DELLA model the slab must hold whole rows (pos->index and n
 * multiples of s->row_len); it fails, before writing anything, when they
 * are not (MPB_EINVAL) or scratch memory for a row cannot be had
 * (MPB_ENOMEM). */
int mpb_blend_task(const mpb_task_spec *s, const void *const in[], mpb_dtype in_dt, void *out,
                   mpb_dtype out_dt, size_t n, mpb_task_pos *pos);

/* ---- Statistics of a slab (summed over rows and ranks by the caller) ---- */

/* d[j] = x[j] - base[j] in fp32, both decoded exactly; base NULL: d[j] = x[j]
 * (an exact decode, as mpb_convert_to_f32). */
void mpb_method_deltas(mpb_dtype dt, const void *x, const void *base, size_t n, float *d);

/* Running sums in double, element by element in index order, starting from
 * acc: the caller chains calls over one row, so a row's sum does not depend
 * on how the row was staged.  Products of two fp32 values are exact in
 * double. */
double mpb_sum_abs(const float *d, size_t n, double acc);
double mpb_sum_products(const float *a, const float *b, size_t n, double acc);
/* Sum of |d| over the elements DARE keeps; d[0] is element `first`. */
double mpb_sum_abs_random(const float *d, size_t n, uint64_t key, uint64_t first,
                          double density, double acc);
/* Sum of |d| over the elements whose factor is not 0 (DELLA keeps them). */
double mpb_sum_abs_kept(const float *d, const float *factor, size_t n, double acc);
/* Sum of |d| over the elements whose magnitude bits are above `bits`. */
double mpb_sum_abs_above(const float *d, size_t n, uint32_t bits, double acc);
uint64_t mpb_count_equal(const float *d, size_t n, uint32_t bits);

/* Radix selection of a magnitude cut in two levels: the high 16 bits of the
 * 31 magnitude bits, then the low 15 bits within one high bin. */
#define MPB_HIST_HIGH_BINS 65536u
#define MPB_HIST_LOW_BINS 32768u
#define MPB_HIST_LOW_BITS 15
/* hist[bits >> 15] += 1 for every element.  When touched is not NULL, each
 * bin that goes from 0 to 1 is appended to touched[*n_touched].  Counts are
 * 32 bits: a caller flushes them at least every 2^32 - 1 elements. */
void mpb_hist_high(const float *d, size_t n, uint32_t *hist, uint32_t *touched,
                   size_t *n_touched);
/* hist[bits & 0x7fff] += 1 for the elements whose high bits equal `high`. */
void mpb_hist_low(const float *d, size_t n, uint32_t high, uint32_t *hist, uint32_t *touched,
                  size_t *n_touched);

/* A histogram bin and its count, as the ranks exchange them. */
typedef struct mpb_bin {
    uint64_t bin;
    uint64_t count;
} mpb_bin;

/* Sorts bins by bin descending and sums the counts of equal bins; returns
 * how many distinct bins remain. */
size_t mpb_bins_merge(mpb_bin *b, size_t n);

/* In merged bins: the bin holding the rank-th largest element (rank >= 1),
 * how many elements lie in higher bins, and how many in that bin.  False
 * when the bins hold fewer than rank elements. */
bool mpb_bins_find(const mpb_bin *b, size_t n, uint64_t rank, uint64_t *bin, uint64_t *above,
                   uint64_t *in_bin);

/* DELLA's MagPrune on one row of a task vector (docs/METHODS.md#della):
 * the row's elements j = g + i * stride (i < len / stride) form ranking
 * group g; within a group, elements are ranked by |d| ascending, equal
 * magnitudes by index ascending (what a stable sort gives), the smallest
 * has probability density - epsilon and the largest density + epsilon,
 * linearly in the rank, computed in fp32 as mergekit does.  Element j
 * (index first + j in the tensor) is kept when
 * mpb_random_uniform(m->key, first + j) < p.  factor[j] = 0 when it is
 * dropped, else 1, or 1/p with m->by_p.  A group of one element has
 * p = density.  scratch holds mpb_della_scratch_count(len) values. */
void mpb_della_factors(const mpb_task_model *m, const float *d, size_t len, size_t stride,
                       uint64_t first, float *factor, uint32_t *scratch);
size_t mpb_della_scratch_count(size_t len);

/* SCE's selection key: per element, the population variance of the n_models
 * task vectors d[k][j] in fp32: mean = (d0 + d1 + ...) / N, then
 * ((d0 - mean)^2 + (d1 - mean)^2 + ...) / N, each operation rounded. */
void mpb_sce_variance(const float *const d[], size_t n_models, size_t n, float *key);

/* Keeps the n elements of each of n_models vectors whose key is inside cut
 * (key ranked as a magnitude; *seen counts the elements equal to the cut
 * met so far and is advanced) and sets the others to +0. */
void mpb_select_keep(const mpb_cut *cut, const float *key, float *const v[], size_t n_models,
                     size_t n, uint64_t *seen);

/* SCE's per-model weights from sq[k], the sum of the squares of the kept
 * task vector k over the tensor's numel elements: (sq[k] / numel) divided
 * by the sum of those in model order, in double and rounded once; 1 / N
 * each when they sum to 0 (docs/METHODS.md#sce). */
void mpb_sce_weights(const double sq[], size_t n_models, uint64_t numel, float w[]);

/* SCE's selection rank: trunc(fp32(select_topk) * fp32(nonzero)) as
 * mergekit computes it in fp32, at most numel; 0 selects nothing. */
uint64_t mpb_sce_select_rank(double select_topk, uint64_t nonzero, uint64_t numel);

/* ---- arcee_fusion (docs/METHODS.md#arcee_fusion) ---- */

/* The KL divergence of one vector of len elements, x against the base b:
 * in double, max-subtracted exponentials exp(x[j] - max x) summed in index
 * order into Sx (likewise Sb), then p = ex[j] / Sx + 1e-8,
 * q = eb[j] / Sb + 1e-8 and sum p * log(p / q) in index order.  scratch
 * holds 2 * len doubles.  The same inputs give the same bits anywhere. */
double mpb_fusion_kl(const float *x, const float *b, size_t len, double *scratch);

/* A vector's KL as the key uses it: rounded once to fp32, a negative
 * rounding result (KL >= 0 in exact arithmetic) taken as +0. */
float mpb_fusion_kl_f32(double kl);

/* key[j] = |d[j]| * kl[(first + j) / len] in fp32, d[0] being element
 * `first` of the tensor: the importance, never negative (NaN aside). */
void mpb_fusion_key(const float *d, size_t n, const float *kl, size_t len, uint64_t first,
                    float *key);

/* The descending ranks (1 = largest) of the quantiles q1, median, q3 of n
 * >= 1 values: the sorted (ascending) element at index floor(q (n - 1)),
 * q = 1/4, 1/2, 3/4, computed in integers. */
void mpb_fusion_ranks(uint64_t n, uint64_t rank[3]);

/* median + 1.5 * (q3 - q1) in fp32, each operation rounded. */
float mpb_fusion_threshold(float q1, float median, float q3);

/* r = b + d * mask for n elements starting at element `first` of the
 * tensor, d = x - b in fp32, mask 1 where the importance is at least
 * s->fusion_threshold, else 0 (the inputs and out as mpb_blend_task). */
void mpb_blend_fusion(const mpb_task_spec *s, const void *const in[], mpb_dtype in_dt,
                      void *out, mpb_dtype out_dt, size_t n, uint64_t first);

/* ---- Per-tensor coefficients, computed in double ---- */

/* Rescale of a sparsified task vector to keep its L1 norm, as mergekit does:
 * (float)(before / after), or 1 when either norm is below 1e-7. */
float mpb_rescale_l1(double before, double after);

/* slerp from v0 (t = 0) to v1 given sum v0^2, sum v1^2 and sum v0*v1 over
 * the whole tensor: coef = {sin((1-t)th)/sin th, sin(t th)/sin th} with
 * th = acos(dot of the normalised vectors), or {1-t, t} when |dot| > 0.9995;
 * each computed in double and rounded once to fp32. */
void mpb_slerp_coefficients(double t, double ss0, double ss1, double dot01, float coef[2]);

/* model_stock's interpolation factor from N task vectors: sq[i] = sum of
 * delta_i^2, dot[] = sum of delta_i * delta_j for i < j in order (0,1),
 * (0,2), ..., (1,2), ...  t = N cos / (1 + (N-1) cos), cos the mean of the
 * pairwise cosines (each clamped to [-1, 1], norms' product at least 1e-6).
 * False when 1 + (N-1) cos is 0 and t is undefined. */
bool mpb_model_stock_t(size_t n, const double sq[], const double dot[], double *t);

/* The Gram sums of n vectors (model_stock, multislerp): sum v_i^2 for each
 * i, then sum v_i v_j for i < j in order; n + n(n-1)/2 of them. */
size_t mpb_gram_count(size_t n);
void mpb_gram_add(const float *const v[], size_t n, size_t len, double acc[]);
/* The sum v_i v_j of n vectors (either order) from those totals. */
double mpb_gram_at(const double totals[], size_t n, size_t i, size_t j);

/* Column statistics (column-wise nuslerp): the Gram sums of n vectors per
 * column, exactly.  v[i] holds len consecutive elements of a row; the sum
 * q of column j (of this chunk) is acc[q * stride + j], q in the order of
 * mpb_gram_add. */
void mpb_gram_add_columns(const float *const v[], size_t n, size_t len, mpb_exact_sum *acc,
                          size_t stride);

#endif
