/* Per-slab statistics and per-tensor coefficients (blend/mpb_method.h):
 * running sums, histograms, bin selection, the whole distributed selection
 * simulated on random splits of a tensor, and the slerp and model_stock
 * formulas of docs/METHODS.md. */
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

static void test_deltas_decode_exactly(void **state)
{
    (void)state;
    const uint16_t x[] = {0x3f80, 0xc000, 0x0001, 0x7f81}, b[] = {0x3f00, 0x3f80, 0x0000, 0};
    float d[4];
    mpb_method_deltas(MPB_DT_BF16, x, NULL, 4, d);
    for (int j = 0; j < 4; j++) {
        uint32_t u;
        memcpy(&u, &d[j], sizeof u);
        assert_int_equal(u, (uint32_t)x[j] << 16); /* NaN payload kept */
    }
    mpb_method_deltas(MPB_DT_BF16, x, b, 3, d);
    assert_true(d[0] == 0.5f && d[1] == -3.0f && d[2] == mpb_bf16_to_f32(1));
    const uint16_t h[] = {0x3c00, 0x0001}; /* f16 1 and the smallest subnormal */
    mpb_method_deltas(MPB_DT_F16, h, NULL, 2, d);
    assert_true(d[0] == 1.0f && d[1] == ldexpf(1.0f, -24));
}

/* Sums run in index order in double, and chain across calls. */
static void test_sums_in_order(void **state)
{
    (void)state;
    const float a[] = {1e8f, 1.0f, -1e8f, 0.25f}, b[] = {3, -2, 1, 4};
    double want = 0;
    for (int j = 0; j < 4; j++)
        want += (double)a[j] * (double)b[j];
    assert_true(mpb_sum_products(a, b, 4, 0.0) == want);
    assert_true(mpb_sum_products(a + 2, b + 2, 2, mpb_sum_products(a, b, 2, 0.0)) == want);
    assert_true(mpb_sum_abs(a, 4, 0.5) == 0.5 + 1e8 + 1 + 1e8 + 0.25);
    assert_true(mpb_sum_abs_above(a, 4, mpb_abs_bits(1.0f), 0.0) == 2e8);
    assert_int_equal(mpb_count_equal(a, 4, mpb_abs_bits(-1e8f)), 2);
    /* DARE's kept sum adds exactly the elements the kernel keeps. */
    double kept = 0;
    for (uint64_t j = 0; j < 4; j++)
        if (mpb_keep_random(3, 10 + j, 0.5))
            kept += fabs((double)a[j]);
    assert_true(mpb_sum_abs_random(a, 4, 3, 10, 0.5, 0.0) == kept);
}

static void test_histograms(void **state)
{
    (void)state;
    static uint32_t hist[MPB_HIST_HIGH_BINS], touched[MPB_HIST_HIGH_BINS];
    const float d[] = {1.0f, -1.0f, 2.0f, 1.0000001f, 0.0f};
    size_t n_touched = 0;
    mpb_hist_high(d, 5, hist, touched, &n_touched);
    assert_int_equal(n_touched, 3); /* 1.0 and 1.0000001 share their high bits */
    assert_int_equal(hist[mpb_abs_bits(1.0f) >> 15], 3);
    assert_int_equal(hist[mpb_abs_bits(2.0f) >> 15], 1);
    assert_int_equal(hist[0], 1);
    static uint32_t low[MPB_HIST_LOW_BINS], touched_low[MPB_HIST_LOW_BINS];
    n_touched = 0;
    mpb_hist_low(d, 5, mpb_abs_bits(1.0f) >> 15, low, touched_low, &n_touched);
    assert_int_equal(n_touched, 2);
    assert_int_equal(low[mpb_abs_bits(1.0f) & 0x7fff], 2);
    assert_int_equal(low[mpb_abs_bits(1.0000001f) & 0x7fff], 1);
}

static void test_bins_merge_and_find(void **state)
{
    (void)state;
    mpb_bin b[] = {{5, 2}, {9, 1}, {5, 3}, {1, 4}, {9, 2}};
    size_t n = mpb_bins_merge(b, 5);
    assert_int_equal(n, 3);
    assert_true(b[0].bin == 9 && b[0].count == 3 && b[1].bin == 5 && b[1].count == 5);
    uint64_t bin, above, in_bin;
    assert_true(mpb_bins_find(b, n, 3, &bin, &above, &in_bin));
    assert_true(bin == 9 && above == 0 && in_bin == 3);
    assert_true(mpb_bins_find(b, n, 4, &bin, &above, &in_bin));
    assert_true(bin == 5 && above == 3 && in_bin == 5);
    assert_true(mpb_bins_find(b, n, 12, &bin, &above, &in_bin));
    assert_true(bin == 1 && above == 8);
    assert_false(mpb_bins_find(b, n, 13, &bin, &above, &in_bin));
}

/* ---- The distributed selection, simulated: rows split into items ---- */

enum { ROWS = 64, COLS = 50, N = ROWS * COLS };

typedef struct records {
    mpb_bin b[N];
    size_t n;
} records;

/* Each item's nonzero bins become records, as a rank sends them. */
static void item_bins(const float *d, size_t n, int level, uint32_t high, records *out)
{
    static uint32_t hist[MPB_HIST_HIGH_BINS], touched[MPB_HIST_HIGH_BINS];
    size_t n_touched = 0;
    if (level == 1)
        mpb_hist_high(d, n, hist, touched, &n_touched);
    else
        mpb_hist_low(d, n, high, hist, touched, &n_touched);
    for (size_t i = 0; i < n_touched; i++) {
        out->b[out->n++] = (mpb_bin){touched[i], hist[touched[i]]};
        hist[touched[i]] = 0;
    }
}

/* The cut at rank R from items starting at rows start[0..n_items). */
static mpb_cut select_cut(const float *d, const size_t *start, size_t n_items, uint64_t r)
{
    static records recs;
    uint64_t bin, above, in_bin, above2;
    recs.n = 0;
    for (size_t i = 0; i < n_items; i++)
        item_bins(d + start[i] * COLS, (start[i + 1] - start[i]) * COLS, 1, 0, &recs);
    size_t n = mpb_bins_merge(recs.b, recs.n);
    assert_true(mpb_bins_find(recs.b, n, r, &bin, &above, &in_bin));
    uint32_t high = (uint32_t)bin;
    recs.n = 0;
    for (size_t i = 0; i < n_items; i++)
        item_bins(d + start[i] * COLS, (start[i + 1] - start[i]) * COLS, 2, high, &recs);
    n = mpb_bins_merge(recs.b, recs.n);
    assert_true(mpb_bins_find(recs.b, n, r - above, &bin, &above2, &in_bin));
    return (mpb_cut){.bits = high << MPB_HIST_LOW_BITS | (uint32_t)bin,
                     .need = r - above - above2};
}

static void random_split(uint64_t *rng, size_t *start, size_t *n_items)
{
    size_t k = 0;
    start[k++] = 0;
    for (size_t row = 1; row < ROWS; row++)
        if (next_random(rng) % 4 == 0)
            start[k++] = row;
    start[k] = ROWS;
    *n_items = k;
}

/* Kept (nonzero out) through the kernel, item by item, each item starting
 * from the tie counts of the items before it. */
static void kept_by_items(const float *d, const size_t *start, size_t n_items, mpb_cut hi,
                          mpb_cut lo, bool *kept)
{
    static float zero[N], out[N];
    mpb_task_model m = {
        .input = 1, .weight = 1, .scale = 1, .keep = MPB_KEEP_WINDOW, .hi = hi, .lo = lo};
    mpb_task_spec s = {.base = 0, .n_models = 1, .models = &m, .divisor = 1, .lambda = 1};
    uint64_t seen_hi = 0, seen_lo = 0;
    for (size_t i = 0; i < n_items; i++) {
        size_t at = start[i] * COLS, len = (start[i + 1] - start[i]) * COLS;
        mpb_task_pos pos = {.index = at};
        pos.seen_hi[0] = seen_hi;
        pos.seen_lo[0] = seen_lo;
        const void *in[] = {zero + at, d + at};
        mpb_blend_task(&s, in, MPB_DT_F32, out + at, MPB_DT_F32, len, &pos);
        seen_hi += mpb_count_equal(d + at, len, hi.bits);
        seen_lo += mpb_count_equal(d + at, len, lo.bits);
    }
    for (size_t j = 0; j < N; j++)
        kept[j] = out[j] != 0.0f;
}

/* Many equal magnitudes (a few distinct values, both signs): the selected
 * window is exactly the ranks [lo, hi) of a sort by |d| descending, index
 * ascending, on every split. */
static void test_selection_on_random_splits(void **state)
{
    (void)state;
    static float d[N];
    static size_t rank[N];
    static bool kept[N];
    uint64_t rng = 2024;
    for (size_t j = 0; j < N; j++) {
        float v = (float)(1 + next_random(&rng) % 6) * 0.0625f;
        if (next_random(&rng) % 50 == 0)
            v = 1.0f + (float)(next_random(&rng) % 1000) * 0x1p-20f; /* spread low bits */
        d[j] = (next_random(&rng) & 1) ? -v : v;
    }
    magnitude_ranks(d, N, rank);
    const uint64_t windows[][2] = {{0, 1}, {0, 640}, {30, 1000}, {1, N - 1}, {0, 64}};
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        for (int split = 0; split < 4; split++) {
            size_t start[ROWS + 1], n_items;
            random_split(&rng, start, &n_items);
            uint64_t lo = windows[w][0], hi = windows[w][1];
            mpb_cut c_hi = select_cut(d, start, n_items, hi);
            mpb_cut c_lo = lo ? select_cut(d, start, n_items, lo) : mpb_cut_none();
            kept_by_items(d, start, n_items, c_hi, c_lo, kept);
            for (size_t j = 0; j < N; j++)
                assert_int_equal(kept[j], rank[j] >= lo && rank[j] < hi);
        }
    }
}

/* ---- Coefficients ---- */

static void test_rescale_l1(void **state)
{
    (void)state;
    assert_true(mpb_rescale_l1(3.0, 2.0) == 1.5f);
    assert_true(mpb_rescale_l1(1e-8, 1.0) == 1.0f);
    assert_true(mpb_rescale_l1(1.0, 0.0) == 1.0f);
    assert_true(mpb_rescale_l1(NAN, 1.0) == 1.0f);
}

static void test_slerp_coefficients(void **state)
{
    (void)state;
    float c[2];
    /* Parallel: |dot| > 0.9995 falls back to (1 - t, t). */
    mpb_slerp_coefficients(0.3, 4.0, 9.0, 6.0, c);
    assert_true(c[0] == (float)(1.0 - 0.3) && c[1] == (float)0.3);
    /* Orthogonal unit vectors: theta = pi/2. */
    mpb_slerp_coefficients(0.5, 1.0, 1.0, 0.0, c);
    double theta = acos(0.0);
    assert_true(c[0] == (float)(sin(theta - theta * 0.5) / sin(theta)));
    assert_true(c[1] == (float)(sin(theta * 0.5) / sin(theta)));
    /* Norms of 2 and 3, dot of 3: cos 0.5; the formula with theta = acos(0.5). */
    mpb_slerp_coefficients(0.25, 4.0, 9.0, 3.0, c);
    theta = acos(3.0 / (2.0 * 3.0));
    assert_true(c[0] == (float)(sin(theta - theta * 0.25) / sin(theta)));
    assert_true(c[1] == (float)(sin(theta * 0.25) / sin(theta)));
    /* A zero vector is not normalised (mergekit's eps): dot stays 0. */
    mpb_slerp_coefficients(0.5, 0.0, 1.0, 0.0, c);
    assert_true(c[0] == (float)(sin(acos(0.0) * 0.5) / sin(acos(0.0))));
}

static void test_model_stock_t(void **state)
{
    (void)state;
    double t;
    /* Two task vectors at 60 degrees: cos 0.5, t = 2 * 0.5 / 1.5. */
    const double sq[] = {4.0, 1.0, 9.0}, dot2[] = {1.0};
    assert_true(mpb_model_stock_t(2, sq, dot2, &t));
    assert_true(t == 2.0 * 0.5 / 1.5);
    /* Three: cosines 0.5, 0 and -1 clamped from below... mean of pairs. */
    const double dot3[] = {1.0, 0.0, -10.0};
    assert_true(mpb_model_stock_t(3, sq, dot3, &t));
    double cos = (0.5 + 0.0 + -1.0) / 3.0;
    assert_true(t == 3.0 * cos / (1.0 + 2.0 * cos));
    /* Zero task vectors: the norms' product is clamped to 1e-6, cos 0, t 0. */
    const double zero[] = {0.0, 0.0}, zdot[] = {0.0};
    assert_true(mpb_model_stock_t(2, zero, zdot, &t));
    assert_true(t == 0.0);
    /* Opposite vectors: 1 + (N - 1) cos = 0, t undefined. */
    const double opp[] = {-4.0};
    const double sq2[] = {4.0, 4.0};
    assert_false(mpb_model_stock_t(2, sq2, opp, &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deltas_decode_exactly),
        cmocka_unit_test(test_sums_in_order),
        cmocka_unit_test(test_histograms),
        cmocka_unit_test(test_bins_merge_and_find),
        cmocka_unit_test(test_selection_on_random_splits),
        cmocka_unit_test(test_rescale_l1),
        cmocka_unit_test(test_slerp_coefficients),
        cmocka_unit_test(test_model_stock_t),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
