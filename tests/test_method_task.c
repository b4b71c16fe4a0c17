/* The task-arithmetic kernel (blend/mpb_method.h, docs/METHODS.md): cases
 * worked by hand, then the kernel against a plain one-element-at-a-time
 * implementation of the documented formula, written here from the docs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_convert.h"
#include "mpb_method.h"
#include "test_method_util.h"
#include "mpb_random.h"

/* A spec over inputs {base, x1, ..., xn} (base at position 0). */
static mpb_task_spec spec_of(mpb_task_model *models, size_t n, bool consensus, bool normalize,
                             float lambda)
{
    double sum = 0;
    for (size_t k = 0; k < n; k++) {
        models[k].input = k + 1;
        if (models[k].scale == 0.0f)
            models[k].scale = 1.0f;
        if (models[k].keep == MPB_KEEP_ALL) {
            models[k].hi = mpb_cut_all();
            models[k].lo = mpb_cut_none();
        }
        sum += models[k].weight;
    }
    return (mpb_task_spec){.base = 0,
                           .n_models = n,
                           .models = models,
                           .consensus = consensus,
                           .normalize = normalize,
                           .divisor = fabs(sum) < 1e-8 ? 1.0f : (float)sum,
                           .lambda = lambda};
}

static void blend_f32(const mpb_task_spec *s, float *const in[], float *out, size_t n)
{
    mpb_task_pos pos = {0};
    mpb_blend_task(s, (const void *const *)in, MPB_DT_F32, out, MPB_DT_F32, n, &pos);
    assert_int_equal(pos.index, n);
}

/* Hand-worked: everything here is exact in binary. */
static void test_task_arithmetic_by_hand(void **state)
{
    (void)state;
    float b[] = {1, 2, 3, -4}, x1[] = {1.5f, 2, 2, -4}, x2[] = {0.5f, 4, 3, -2}, out[4];
    float *in[] = {b, x1, x2};
    mpb_task_model m[2] = {{.weight = 0.5f}, {.weight = 0.25f}};
    mpb_task_spec s = spec_of(m, 2, false, false, 2.0f);
    blend_f32(&s, in, out, 4);
    /* b + 2 * (0.5 d1 + 0.25 d2) */
    const float want[] = {1 + 2 * (0.25f - 0.125f), 2 + 2 * 0.5f, 3 - 1, -4 + 2 * 0.5f};
    assert_memory_equal(out, want, sizeof want);

    s.normalize = true; /* divided by 0.75 */
    blend_f32(&s, in, out, 4);
    assert_true(out[1] == 2.0f + (0.5f / 0.75f) * 2.0f);
}

/* Sign election: the sum's sign wins, zeros never vote, W = 0 becomes 1. */
static void test_consensus_by_hand(void **state)
{
    (void)state;
    float b[] = {0, 0, 0, 0, 0}, out[5];
    float x1[] = {1, 2, 0, -1, 0}, x2[] = {-3, 1, 0, 2, 0}, x3[] = {0.5f, -4, 0, -2, 0};
    float *in[] = {b, x1, x2, x3};
    mpb_task_model m[3] = {{.weight = 1}, {.weight = 1}, {.weight = 1}};
    mpb_task_spec s = spec_of(m, 3, true, false, 1.0f);
    blend_f32(&s, in, out, 5);
    /* sums: -1.5 -> negatives: -3; -1 -> -4; 0 -> nothing; -1 -> -1 + -2; 0 */
    const float want[] = {-3, -4, 0, -3, 0};
    assert_memory_equal(out, want, sizeof want);

    s.normalize = true; /* divided by the elected weights: 1, 1, (W=0 -> 1), 2, 1 */
    blend_f32(&s, in, out, 5);
    const float want_norm[] = {-3, -4, 0, -1.5f, 0};
    assert_memory_equal(out, want_norm, sizeof want_norm);

    /* A tie (sum exactly 0) elects the positive sign, as mergekit's
     * `sign_weight >= 0` does. */
    float t1[] = {1.0f}, t2[] = {-1.0f}, tb[] = {0.0f};
    float *tie_in[] = {tb, t1, t2};
    mpb_task_model tie_m[2] = {{.weight = 1}, {.weight = 1}};
    mpb_task_spec tie_s = spec_of(tie_m, 2, true, false, 1.0f);
    blend_f32(&tie_s, tie_in, out, 1);
    assert_true(out[0] == 1.0f);

    /* A sum of -0 counts as positive: +0 deltas do not vote, so nothing is
     * added and the result is b + 0. */
    float y1[] = {-0.0f}, y2[] = {-0.0f}, zb[] = {0.0f};
    float *in2[] = {zb, y1, y2};
    mpb_task_model m2[2] = {{.weight = 1}, {.weight = 1}};
    mpb_task_spec s2 = spec_of(m2, 2, true, true, 1.0f);
    blend_f32(&s2, in2, out, 1);
    assert_int_equal(bits_of(out[0]), 0u);
}

/* A NaN in any input gives the canonical NaN, with or without consensus. */
static void test_nan_propagates(void **state)
{
    (void)state;
    float b[] = {1, f32_from_bits(0xffc00001u), 1}, x1[] = {f32_from_bits(0x7f800001u), 2, 1};
    float x2[] = {1, 1, 1};
    float *in[] = {b, x1, x2};
    uint16_t out[3];
    for (int consensus = 0; consensus < 2; consensus++) {
        mpb_task_model m[2] = {{.weight = 1}, {.weight = 1}};
        mpb_task_spec s = spec_of(m, 2, consensus, true, 1.0f);
        mpb_task_pos pos = {0};
        mpb_blend_task(&s, (const void *const *)in, MPB_DT_F32, out, MPB_DT_BF16, 3, &pos);
        assert_int_equal(out[0], 0x7fc0);
        assert_int_equal(out[1], 0x7fc0);
        assert_int_equal(out[2], mpb_f32_to_bf16(1.0f));
    }
}

/* The documented formula, one element at a time, with keep decided by the
 * caller. */
static float expected(const mpb_task_spec *s, float *const in[], const bool *keep, size_t j)
{
    float b = in[s->base][j], wd[MPB_MAX_INPUTS];
    float sum = 0;
    for (size_t k = 0; k < s->n_models; k++) {
        const mpb_task_model *m = &s->models[k];
        float d = in[m->input][j] - b;
        d = keep[k] ? d * m->scale : 0.0f;
        wd[k] = m->weight * d;
        sum = k == 0 ? wd[0] : sum + wd[k];
    }
    float mixed;
    if (!s->consensus) {
        mixed = s->normalize ? sum / s->divisor : sum;
    } else {
        float w = 0;
        mixed = 0;
        for (size_t k = 0; k < s->n_models; k++) {
            if (sum >= 0 ? wd[k] > 0 : wd[k] < 0) {
                mixed = mixed + wd[k];
                w = w + s->models[k].weight;
            }
        }
        if (s->normalize)
            mixed = mixed / (w == 0 ? 1 : w);
        if (isnan(sum))
            mixed = sum;
    }
    return b + mixed * s->lambda;
}

/* The cut holding the R largest, from the ranks. */
static mpb_cut cut_at(const float *d, const size_t *rank, size_t n, size_t r)
{
    if (r == 0)
        return mpb_cut_none();
    if (r >= n)
        return mpb_cut_all();
    uint32_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (rank[i] == r - 1)
            t = mpb_abs_bits(d[i]);
    mpb_cut c = {.bits = t, .need = r};
    for (size_t i = 0; i < n; i++)
        c.need -= mpb_abs_bits(d[i]) > t;
    return c;
}

static uint64_t equal_before(const float *d, size_t at, uint32_t bits)
{
    uint64_t count = 0;
    for (size_t i = 0; i < at; i++)
        count += mpb_abs_bits(d[i]) == bits;
    return count;
}

/* Windows on a vector with many equal magnitudes, over several blocks of
 * 256, in one call and split into pieces at odd offsets: exactly the ranks
 * [lo, hi) are kept, scaled. */
static void test_window_keeps_exact_ranks(void **state)
{
    (void)state;
    enum { N = 1000 };
    static float b[N], x1[N], x2[N], d1[N], out[N], pieces[N];
    static size_t rank[N];
    uint64_t rng = 7;
    for (size_t j = 0; j < N; j++) {
        b[j] = (float)(int)(next_random(&rng) % 9) - 4.0f;
        d1[j] = (float)((int)(next_random(&rng) % 7) - 3) * 0.125f; /* 7 values: ties */
        x1[j] = b[j] + d1[j];
        x2[j] = b[j] + 1.0f;
    }
    magnitude_ranks(d1, N, rank);
    const size_t windows[][2] = {{0, 300}, {0, 1}, {100, 700}, {0, 999}, {450, 1000}};
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        size_t lo = windows[w][0], hi = windows[w][1];
        mpb_task_model m[2] = {{.weight = 0.5f, .scale = 1.5f, .keep = MPB_KEEP_WINDOW},
                               {.weight = 0.5f}};
        m[0].hi = cut_at(d1, rank, N, hi);
        m[0].lo = cut_at(d1, rank, N, lo);
        mpb_task_spec s = spec_of(m, 2, w % 2 == 1, w % 3 == 0, 0.75f);
        float *in[] = {b, x1, x2};
        blend_f32(&s, in, out, N);
        /* The same in pieces, each starting from the counts before it. */
        const size_t cuts[] = {0, 1, 255, 256, 511, 640, 999, N};
        for (size_t p = 0; p + 1 < sizeof cuts / sizeof cuts[0]; p++) {
            size_t at = cuts[p], len = cuts[p + 1] - at;
            mpb_task_pos pos = {.index = at};
            pos.seen_hi[0] = equal_before(d1, at, m[0].hi.bits);
            pos.seen_lo[0] = equal_before(d1, at, m[0].lo.bits);
            const void *piece_in[] = {b + at, x1 + at, x2 + at};
            mpb_blend_task(&s, piece_in, MPB_DT_F32, pieces + at, MPB_DT_F32, len, &pos);
        }
        size_t kept = 0;
        for (size_t j = 0; j < N; j++) {
            bool keep[2] = {rank[j] >= lo && rank[j] < hi, true};
            kept += keep[0];
            float want = expected(&s, in, keep, j);
            assert_int_equal(bits_of(out[j]), bits_of(want));
            assert_int_equal(bits_of(pieces[j]), bits_of(want));
        }
        assert_int_equal(kept, hi - lo);
    }
}

/* DARE: element j of a model is kept when its uniform is below density;
 * the mask depends on the key and the element index only. */
static void test_random_keep(void **state)
{
    (void)state;
    enum { N = 4096 };
    static float b[N], x1[N], out[N], piece[N];
    for (size_t j = 0; j < N; j++) {
        b[j] = 1.0f;
        x1[j] = 1.0f + (float)(j % 5 + 1);
    }
    uint64_t key = mpb_random_key(42, 1, "model.layers.0.mlp.up_proj.weight");
    mpb_task_model m[1] = {{.weight = 1,
                            .scale = 1.0f / 0.3f,
                            .keep = MPB_KEEP_RANDOM,
                            .key = key,
                            .density = 0.3}};
    mpb_task_spec s = spec_of(m, 1, false, false, 1.0f);
    float *in[] = {b, x1};
    blend_f32(&s, in, out, N);
    mpb_task_pos pos = {.index = 1000};
    const void *tail[] = {b + 1000, x1 + 1000};
    mpb_blend_task(&s, tail, MPB_DT_F32, piece, MPB_DT_F32, N - 1000, &pos);
    size_t kept = 0;
    for (size_t j = 0; j < N; j++) {
        bool keep = (double)mpb_random_uniform(key, j) < 0.3;
        kept += keep;
        assert_int_equal(bits_of(out[j]), bits_of(expected(&s, in, &keep, j)));
        if (j >= 1000)
            assert_int_equal(bits_of(piece[j - 1000]), bits_of(out[j]));
    }
    /* A fixed mask: about 30 % of 4096 (deterministic for this key). */
    assert_in_range(kept, 1000, 1460);
}

/* bf16 in, bf16 out, in place over the base, random values and weights,
 * every flag combination: the kernel equals the one-element formula. */
static void test_random_against_formula(void **state)
{
    (void)state;
    enum { N = 777, MODELS = 3 };
    static uint16_t raw[MODELS + 1][N];
    static float dec[MODELS + 1][N];
    uint64_t rng = 99;
    for (int flags = 0; flags < 8; flags++) {
        for (size_t i = 0; i <= MODELS; i++)
            for (size_t j = 0; j < N; j++) {
                /* moderate values of both signs, some equal to the base */
                uint16_t v = (uint16_t)(0x3c00 + next_random(&rng) % 0x0400);
                v |= (uint16_t)((next_random(&rng) & 1) << 15);
                raw[i][j] = (i > 0 && next_random(&rng) % 5 == 0) ? raw[0][j] : v;
                dec[i][j] = mpb_bf16_to_f32(raw[i][j]);
            }
        mpb_task_model m[MODELS] = {{.weight = 0.7f}, {.weight = -0.2f}, {.weight = 0.45f}};
        m[1].keep = MPB_KEEP_RANDOM;
        m[1].key = 5;
        m[1].density = 0.6;
        m[1].scale = (flags & 4) ? 1.25f : 1.0f;
        mpb_task_spec s = spec_of(m, MODELS, flags & 1, flags & 2, 0.9f);
        float *in_f[] = {dec[0], dec[1], dec[2], dec[3]};
        uint16_t want[N];
        for (size_t j = 0; j < N; j++) {
            bool keep[MODELS] = {true, (double)mpb_random_uniform(5, j) < 0.6, true};
            want[j] = mpb_f32_to_bf16(expected(&s, in_f, keep, j));
        }
        const void *in[] = {raw[0], raw[1], raw[2], raw[3]};
        mpb_task_pos pos = {0};
        mpb_blend_task(&s, in, MPB_DT_BF16, raw[0], MPB_DT_BF16, N, &pos);
        assert_memory_equal(raw[0], want, sizeof want);
    }
}

/* The integer form of DARE's test equals the float one, at thresholds that
 * fall on a 24-bit grid point and between them. */
static void test_keep_threshold(void **state)
{
    (void)state;
    const double densities[] = {0.5,     0.25,          0.3,   0.1 + 1e-12,
                                0x1p-24, 1.0 - 0x1p-24, 0.999, 1.0};
    for (size_t i = 0; i < sizeof densities / sizeof densities[0]; i++) {
        uint64_t threshold = mpb_keep_threshold(densities[i]);
        for (uint64_t j = 0; j < 20000; j++) {
            bool by_bits = (mpb_random_bits(17, j) >> 40) < threshold;
            assert_int_equal(by_bits, mpb_keep_random(17, j, densities[i]));
        }
        /* On the grid point itself: m = density 2^24 is not below it. */
        uint64_t m = threshold - 1;
        assert_true((double)m * 0x1p-24 < densities[i]);
        assert_false((double)threshold * 0x1p-24 < densities[i]);
    }
    assert_int_equal(mpb_keep_threshold(0.5), 1u << 23);
}

static void test_cut_helpers(void **state)
{
    (void)state;
    uint64_t seen = 0;
    mpb_cut none = mpb_cut_none(), all = mpb_cut_all();
    assert_false(mpb_cut_holds(&none, 0x7fffffffu, &seen));
    assert_true(mpb_cut_holds(&all, 0, &seen));
    mpb_cut c = {.bits = 100, .need = 2};
    seen = 0;
    assert_true(mpb_cut_holds(&c, 101, &seen));
    assert_false(mpb_cut_holds(&c, 99, &seen));
    assert_true(mpb_cut_holds(&c, 100, &seen));
    assert_true(mpb_cut_holds(&c, 100, &seen));
    assert_false(mpb_cut_holds(&c, 100, &seen));
    assert_int_equal(seen, 3);
    assert_int_equal(mpb_abs_bits(-2.0f), bits_of(2.0f));
    assert_true(mpb_abs_bits(f32_from_bits(0xffc00000u)) > mpb_abs_bits(INFINITY));
}

/* DELLA: ranks by |d| ascending with equal magnitudes by index, p linear
 * in the rank from density - epsilon to density + epsilon (fp32 steps
 * written here from docs/METHODS.md#della), the draw of DARE's generator. */
static void test_della_factors(void **state)
{
    (void)state;
    /* Rows of 5: ascending order 0.1 (j=2), |0.5| (j=0), |-0.5| (j=1),
     * |-0.7| (j=4), 0.9 (j=3); ranks r = 1, 2, 0, 4, 3. */
    const float d[] = {0.5f, -0.5f, 0.1f, 0.9f, -0.7f};
    const size_t rank[] = {1, 2, 0, 4, 3};
    const uint64_t first = 40;
    for (int by_p = 0; by_p < 2; by_p++)
        for (uint64_t key = 1; key < 200; key++) {
            mpb_task_model m = {.keep = MPB_KEEP_DELLA,
                                .key = key,
                                .density = 0.5,
                                .epsilon = 0.3,
                                .by_p = by_p};
            float factor[5];
            uint32_t scratch[10];
            assert_true(mpb_della_scratch_count(5) <= 10);
            mpb_della_factors(&m, d, 5, 1, first, factor, scratch);
            for (size_t j = 0; j < 5; j++) {
                float rn = (float)rank[j] / 4.0f;
                float p = (float)(0.5 - 0.3) + (rn * 2.0f) * (float)0.3;
                bool kept = mpb_random_uniform(key, first + j) < p;
                float want = kept ? (by_p ? 1.0f / p : 1.0f) : 0.0f;
                assert_true(factor[j] == want);
            }
        }
    /* The smallest magnitude keeps with density - epsilon, the largest with
     * density + epsilon: over many keys, counts near 20 % and 80 %. */
    int kept_small = 0, kept_large = 0;
    for (uint64_t key = 0; key < 4000; key++) {
        mpb_task_model m = {.keep = MPB_KEEP_DELLA, .key = key, .density = 0.5, .epsilon = 0.3};
        float factor[5];
        uint32_t scratch[10];
        mpb_della_factors(&m, d, 5, 1, 0, factor, scratch);
        kept_small += factor[2] != 0.0f;
        kept_large += factor[3] != 0.0f;
    }
    assert_true(kept_small > 700 && kept_small < 900);
    assert_true(kept_large > 3100 && kept_large < 3300);
}

/* Groups along the second dimension: a row of shape [3, 2] (stride 2)
 * ranks elements {0, 2, 4} and {1, 3, 5} separately; a group of one
 * element gets p = density. */
static void test_della_groups(void **state)
{
    (void)state;
    const float d[] = {3, -1, 1, -2, 2, -3};
    const size_t rank[] = {2, 0, 0, 1, 1, 2};
    for (uint64_t key = 1; key < 100; key++) {
        mpb_task_model m = {.keep = MPB_KEEP_DELLA, .key = key, .density = 0.4, .epsilon = 0.1};
        float factor[6];
        uint32_t scratch[12];
        mpb_della_factors(&m, d, 6, 2, 7, factor, scratch);
        for (size_t j = 0; j < 6; j++) {
            float p = (float)(0.4 - 0.1) + ((float)rank[j] / 2.0f * 2.0f) * (float)0.1;
            assert_true(factor[j] == (mpb_random_uniform(key, 7 + j) < p ? 1.0f : 0.0f));
        }
        mpb_della_factors(&m, d, 1, 1, 9, factor, scratch);
        assert_true(factor[0] == (mpb_random_uniform(key, 9) < 0.4f ? 1.0f : 0.0f));
    }
}

/* The kernel blends DELLA row by row: two rows at once equal each row on
 * its own, equal the formula, and a slab that is not whole rows fails. */
static void test_della_kernel_rows(void **state)
{
    (void)state;
    enum { LEN = 300, ROWS = 2, N = LEN * ROWS };
    float b[N], x[N], out[N], want[N], factor[LEN];
    uint32_t scratch[2 * LEN];
    for (size_t j = 0; j < N; j++) {
        b[j] = (float)(j % 17) * 0.25f;
        x[j] = b[j] + (float)((int)(j * 7919 % 23) - 11) * 0.125f; /* many equal |d| */
    }
    float *in[] = {b, x};
    mpb_task_model m[1] = {{.weight = 0.75f,
                            .scale = 1.5f,
                            .keep = MPB_KEEP_DELLA,
                            .key = 5,
                            .density = 0.5,
                            .epsilon = 0.2}};
    mpb_task_spec s = spec_of(m, 1, false, false, 0.5f);
    s.row_len = LEN;
    s.group_stride = 1;
    blend_f32(&s, in, out, N);
    for (size_t row = 0; row < ROWS; row++) {
        float d[LEN];
        for (size_t j = 0; j < LEN; j++)
            d[j] = x[row * LEN + j] - b[row * LEN + j];
        mpb_della_factors(&m[0], d, LEN, 1, row * LEN, factor, scratch);
        for (size_t j = 0; j < LEN; j++) {
            float kept = factor[j] != 0.0f ? (d[j] * factor[j]) * 1.5f : 0.0f;
            want[row * LEN + j] = b[row * LEN + j] + (0.75f * kept) * 0.5f;
        }
    }
    assert_memory_equal(out, want, sizeof out);
    float piece[N];
    mpb_task_pos pos = {.index = LEN};
    const void *second[] = {b + LEN, x + LEN};
    assert_int_equal(mpb_blend_task(&s, second, MPB_DT_F32, piece, MPB_DT_F32, LEN, &pos), 0);
    assert_memory_equal(piece, out + LEN, LEN * sizeof *piece);
    mpb_task_pos half = {0};
    assert_int_not_equal(mpb_blend_task(&s, (const void *const *)in, MPB_DT_F32, piece,
                                        MPB_DT_F32, LEN / 2, &half),
                         0);
}

/* SCE (docs/METHODS.md#sce) worked by hand: the select keeps the largest
 * variances with ties by index, even when the run of equal variances is
 * split between two calls; the vote is the unweighted kept sum. */
static void test_sce_by_hand(void **state)
{
    (void)state;
    /* Task vectors d1 = x1 - b, d2 = x2 - b with b = 0: variances
     * ((d1 - d2) / 2)^2 = {1, 4, 1, 1, 0, 1}. */
    float b[6] = {0}, x1[] = {2, 4, 2, -2, 3, 1}, x2[] = {0, 0, 0, 0, 3, 3}, out[6];
    float *in[] = {b, x1, x2};
    mpb_task_model m[2] = {{.weight = 0.75f}, {.weight = 0.25f}};
    mpb_task_spec s = spec_of(m, 2, true, true, 1.0f);
    s.sce = s.select = true;
    /* Rank 3: variance 4 (index 1), then the first two of the four 1s
     * (indices 0 and 2): above bits(1) one element, need 2 equal to it. */
    float one = 1.0f;
    s.select_cut = (mpb_cut){.bits = mpb_abs_bits(one), .need = 2};
    mpb_task_pos pos = {0};
    mpb_blend_task(&s, (const void *const *)in, MPB_DT_F32, out, MPB_DT_F32, 3, &pos);
    assert_int_equal(pos.seen_select, 2);
    float *rest[] = {b + 3, x1 + 3, x2 + 3};
    mpb_blend_task(&s, (const void *const *)rest, MPB_DT_F32, out + 3, MPB_DT_F32, 3, &pos);
    /* Kept: d1 = {2, 4, 2, 0, 0, 0}, d2 = 0; vote > 0 elects model 1:
     * 0.75 * d / 0.75. */
    const float want[] = {2, 4, 2, 0, 0, 0};
    for (int j = 0; j < 6; j++)
        assert_true(out[j] == want[j]);

    /* Without the select: index 3 votes -2 (model 1 alone, negative), index
     * 4 (variance 0) averages two equal deltas, index 5 takes both. */
    s.select = false;
    mpb_task_pos from0 = {0};
    mpb_blend_task(&s, (const void *const *)in, MPB_DT_F32, out, MPB_DT_F32, 6, &from0);
    assert_true(out[3] == -2.0f);
    assert_true(out[4] == 3.0f);
    assert_true(out[5] == (0.75f * 1 + 0.25f * 3) / (0.75f + 0.25f));

    /* The vote is unweighted: 1 - 2 < 0 elects model 2, although the
     * weighted sum 0.75 - 0.5 is positive. */
    float b1[] = {0}, y1[] = {1}, y2[] = {-2}, one_out[1];
    float *vote_in[] = {b1, y1, y2};
    mpb_task_pos at0 = {0};
    mpb_blend_task(&s, (const void *const *)vote_in, MPB_DT_F32, one_out, MPB_DT_F32, 1, &at0);
    assert_true(one_out[0] == -2.0f);
}

static void test_sce_rank_and_weights(void **state)
{
    (void)state;
    /* mergekit's int(select_topk * count_nonzero) in fp32. */
    assert_int_equal(mpb_sce_select_rank(0.1, 10, 10), 1);
    assert_int_equal(mpb_sce_select_rank(0.3, 10, 20), 3);
    assert_int_equal(mpb_sce_select_rank(0.5, 1, 20), 0);
    assert_int_equal(mpb_sce_select_rank(0.5, 0, 20), 0);
    /* fp32(16777217) = 16777216: the product rounds as mergekit's does. */
    assert_int_equal(mpb_sce_select_rank(0.5, 16777217, 1u << 25), 8388608);
    assert_int_equal(mpb_sce_select_rank(0.999, 100, 100), 99);
    float w[3];
    const double sq[] = {1, 3, 0};
    mpb_sce_weights(sq, 3, 7, w);
    assert_true(w[0] == (float)((1.0 / 7) / (1.0 / 7 + 3.0 / 7)));
    assert_true(w[1] == (float)((3.0 / 7) / (1.0 / 7 + 3.0 / 7)));
    assert_true(w[2] == 0.0f);
    const double none[] = {0, 0, 0};
    mpb_sce_weights(none, 3, 7, w);
    for (int k = 0; k < 3; k++)
        assert_true(w[k] == (float)(1.0 / 3));
    const float d1[] = {1, 2}, d2[] = {3, 2}, d3[] = {5, 2};
    const float *d[] = {d1, d2, d3};
    float key[2];
    mpb_sce_variance(d, 3, 2, key);
    assert_true(key[0] == (float)(8.0 / 3) && key[1] == 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_arithmetic_by_hand),
        cmocka_unit_test(test_consensus_by_hand),
        cmocka_unit_test(test_nan_propagates),
        cmocka_unit_test(test_window_keeps_exact_ranks),
        cmocka_unit_test(test_random_keep),
        cmocka_unit_test(test_random_against_formula),
        cmocka_unit_test(test_keep_threshold),
        cmocka_unit_test(test_cut_helpers),
        cmocka_unit_test(test_della_factors),
        cmocka_unit_test(test_della_groups),
        cmocka_unit_test(test_della_kernel_rows),
        cmocka_unit_test(test_sce_by_hand),
        cmocka_unit_test(test_sce_rank_and_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
