/* The exact accumulator (blend/mpb_exact_sum.h) against an independent
 * exact reference: Shewchuk's nonoverlapping partials, rounded the way
 * Python's math.fsum rounds them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_exact_sum.h"
#include "test_method_util.h"

enum { MAX_PARTIALS = 128, N = 4000 };

/* The correctly rounded sum of x[0..n) (math.fsum's algorithm). */
static double reference_sum(const double *x, size_t n)
{
    double p[MAX_PARTIALS];
    size_t np = 0;
    for (size_t k = 0; k < n; k++) {
        double v = x[k];
        size_t i = 0;
        for (size_t j = 0; j < np; j++) {
            double y = p[j];
            if (fabs(v) < fabs(y)) {
                double t = v;
                v = y;
                y = t;
            }
            double hi = v + y, lo = y - (hi - v);
            if (lo != 0.0)
                p[i++] = lo;
            v = hi;
        }
        assert_true(i < MAX_PARTIALS);
        p[i++] = v;
        np = i;
    }
    if (np == 0)
        return 0.0;
    double hi = p[--np], lo = 0.0;
    while (np > 0) {
        double v = hi, y = p[--np];
        hi = v + y;
        lo = y - (hi - v);
        if (lo != 0.0)
            break;
    }
    /* Half-way cases: the partials below decide the direction. */
    if (np > 0 && ((lo < 0.0 && p[np - 1] < 0.0) || (lo > 0.0 && p[np - 1] > 0.0))) {
        double y = lo * 2.0, v = hi + y;
        if (y == v - hi)
            hi = v;
    }
    return hi;
}

static double exact_sum(const double *x, size_t n)
{
    mpb_exact_sum a;
    mpb_exact_sum_clear(&a);
    for (size_t i = 0; i < n; i++)
        mpb_exact_sum_add(&a, x[i]);
    return mpb_exact_sum_value(&a);
}

static void assert_same_double(double got, double want)
{
    uint64_t g, w;
    memcpy(&g, &got, sizeof g);
    memcpy(&w, &want, sizeof w);
    if (g != w)
        fail_msg("got %a, want %a", got, want);
}

/* A random fp32: any sign, exponents from subnormal to the largest. */
static float random_f32(uint64_t *rng)
{
    uint32_t u = (uint32_t)next_random(rng);
    if ((u >> 23 & 0xff) == 0xff) /* no inf or NaN here */
        u &= ~(1u << 23);
    return f32_from_bits(u);
}

static void fill_products(double *x, size_t n, uint64_t seed, int kind)
{
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++) {
        float a = random_f32(&rng), b = random_f32(&rng);
        if (kind == 1) { /* moderate magnitudes, like model weights */
            a = ldexpf(1.0f + (float)(next_random(&rng) % 1000) / 1000.0f,
                       (int)(next_random(&rng) % 40) - 20);
            b = -a * (next_random(&rng) % 2 ? 1.0f : 0.999f);
        }
        x[i] = (double)a * (double)b;
        if (kind == 2 && i % 2 == 1) /* cancelling pairs around a huge term */
            x[i] = -x[i - 1];
    }
    if (kind == 2)
        x[0] = ldexp(1.0, 250), x[n - 1] = 3.0;
}

static void test_known_sums(void **state)
{
    (void)state;
    const double cancel[] = {ldexp(1.0, 200), 1.0, -ldexp(1.0, 200)};
    assert_same_double(exact_sum(cancel, 3), 1.0);
    const double tie_even[] = {1.0, ldexp(1.0, -53)}; /* half way: stays at even 1 */
    assert_same_double(exact_sum(tie_even, 2), 1.0);
    const double past_tie[] = {1.0, ldexp(1.0, -53), ldexp(1.0, -298)};
    assert_same_double(exact_sum(past_tie, 3), 1.0 + ldexp(1.0, -52));
    const double neg_tie[] = {-1.0, -ldexp(1.0, -52), -ldexp(1.0, -53)}; /* to even: up */
    assert_same_double(exact_sum(neg_tie, 3), -(1.0 + ldexp(1.0, -51)));
    const double tiny[] = {ldexp(1.0, -298), ldexp(1.0, -298)};
    assert_same_double(exact_sum(tiny, 2), ldexp(1.0, -297));
    const double big[] = {ldexp(1.9, 255), ldexp(1.9, 255), -ldexp(1.0, -298)};
    assert_same_double(exact_sum(big, 3), reference_sum(big, 3));
    assert_same_double(exact_sum(NULL, 0), 0.0);
}

static void test_against_reference(void **state)
{
    (void)state;
    double *x = malloc(N * sizeof *x);
    assert_non_null(x);
    for (int kind = 0; kind < 3; kind++) {
        for (uint64_t seed = 1; seed <= 20; seed++) {
            fill_products(x, N, seed * 7919 + (uint64_t)kind, kind);
            assert_same_double(exact_sum(x, N), reference_sum(x, N));
            for (size_t n = 1; n < 40; n++) /* short sums: every rounding case */
                assert_same_double(exact_sum(x + n, n), reference_sum(x + n, n));
        }
    }
    free(x);
}

/* Any order, any split into accumulators merged afterwards: the same bits. */
static void test_order_and_split(void **state)
{
    (void)state;
    double *x = malloc(N * sizeof *x);
    assert_non_null(x);
    for (int kind = 0; kind < 3; kind++) {
        fill_products(x, N, 99 + (uint64_t)kind, kind);
        double want = exact_sum(x, N);
        uint64_t rng = 5 + (uint64_t)kind;
        for (int trial = 0; trial < 10; trial++) {
            for (size_t i = N - 1; i > 0; i--) { /* shuffle */
                size_t j = (size_t)(next_random(&rng) % (i + 1));
                double t = x[i];
                x[i] = x[j];
                x[j] = t;
            }
            assert_same_double(exact_sum(x, N), want);
            mpb_exact_sum part[4], total;
            for (int k = 0; k < 4; k++)
                mpb_exact_sum_clear(&part[k]);
            for (size_t i = 0; i < N; i++)
                mpb_exact_sum_add(&part[next_random(&rng) % 4], x[i]);
            mpb_exact_sum_clear(&total);
            for (int k = 0; k < 4; k++) {
                mpb_exact_sum_normalise(&part[k]);
                mpb_exact_sum_merge(&total, &part[k]);
            }
            assert_same_double(mpb_exact_sum_value(&total), want);
        }
    }
    free(x);
}

static void test_non_finite(void **state)
{
    (void)state;
    const double pinf[] = {1.0, INFINITY, 2.0, INFINITY};
    assert_same_double(exact_sum(pinf, 4), INFINITY);
    const double ninf[] = {-INFINITY, 1.0};
    assert_same_double(exact_sum(ninf, 2), -INFINITY);
    const double both[] = {INFINITY, -INFINITY};
    assert_true(isnan(exact_sum(both, 2)));
    const double nan[] = {1.0, NAN};
    assert_true(isnan(exact_sum(nan, 2)));
    const double outside[] = {1.0, ldexp(1.0, -400)}; /* below the limbs: not exact */
    assert_true(isnan(exact_sum(outside, 2)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_sums),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_order_and_split),
        cmocka_unit_test(test_non_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
