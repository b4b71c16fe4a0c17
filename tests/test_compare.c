/* blend/mpb_compare.h: ulp distances counted with nextafter() steps and
 * absolute differences computed in double here. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_compare.h"

static mpb_compare_stats cmp_f32(float a, float b)
{
    mpb_compare_stats s = {0};
    mpb_compare_add(MPB_DT_F32, &a, &b, 1, &s);
    return s;
}

static void f32_steps(void **state)
{
    (void)state;
    float starts[] = {1.0f, -3.5f, 1e-40f, 65504.0f, -0.0f};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        float a = starts[i], b = a;
        for (uint64_t k = 1; k <= 1000; k++) {
            b = nextafterf(b, INFINITY);
            mpb_compare_stats s = cmp_f32(a, b);
            assert_int_equal(s.max_ulp, k);
            assert_true(s.max_abs == fabs((double)b - (double)a));
            assert_int_equal(s.differ, 1);
        }
    }
    /* Across zero: -tiny, -0/+0, +tiny are 1 apart each. */
    float tiny = nextafterf(0.0f, 1.0f);
    assert_int_equal(cmp_f32(-tiny, tiny).max_ulp, 2);
    mpb_compare_stats z = cmp_f32(0.0f, -0.0f);
    assert_int_equal(z.differ, 1);
    assert_int_equal(z.max_ulp, 0);
    assert_true(z.max_abs == 0.0);
}

static void special_values(void **state)
{
    (void)state;
    mpb_compare_stats s = cmp_f32(NAN, 1.0f);
    assert_int_equal(s.nan_mismatch, 1);
    assert_int_equal(s.differ, 1);
    assert_false(mpb_compare_within(&s, 1e30));
    uint32_t q = 0x7fc00000, other = 0xffc00001; /* two different NaNs */
    mpb_compare_stats n = {0};
    mpb_compare_add(MPB_DT_F32, &q, &other, 1, &n);
    assert_int_equal(n.differ, 1);
    assert_int_equal(n.nan_mismatch, 0);
    assert_true(mpb_compare_within(&n, 0.0));
    mpb_compare_stats inf = cmp_f32(INFINITY, 3.4e38f);
    assert_true(isinf(inf.max_abs));
    mpb_compare_stats same = cmp_f32(INFINITY, INFINITY);
    assert_int_equal(same.differ, 0);
}

static void sixteen_bit_and_integers(void **state)
{
    (void)state;
    uint16_t a[3] = {0x3f80, 0x3f80, 0xc000}, b[3] = {0x3f80, 0x3f81, 0xc000};
    mpb_compare_stats s = {0};
    mpb_compare_add(MPB_DT_BF16, a, b, 3, &s);
    assert_int_equal(s.differ, 1);
    assert_int_equal(s.max_ulp, 1);
    assert_true(s.max_abs == ldexp(1.0, -7)); /* bf16 spacing at 1 */
    mpb_compare_stats h = {0};
    mpb_compare_add(MPB_DT_F16, a, b, 3, &h);
    assert_true(h.max_abs == ldexp(1.0, -10)); /* 0x3f80 is 1.875 in f16 */
    int8_t i8a[2] = {-128, 5}, i8b[2] = {127, 5};
    mpb_compare_stats i = {0};
    mpb_compare_add(MPB_DT_I8, i8a, i8b, 2, &i);
    assert_int_equal(i.max_ulp, 255);
    assert_true(i.max_abs == 255.0);
    int64_t la = INT64_MIN, lb = INT64_MAX;
    mpb_compare_stats l = {0};
    mpb_compare_add(MPB_DT_I64, &la, &lb, 1, &l);
    assert_true(l.max_ulp == UINT64_MAX);
    uint8_t ua = 0, ub = 255;
    mpb_compare_stats u = {0};
    mpb_compare_add(MPB_DT_U8, &ua, &ub, 1, &u);
    assert_int_equal(u.max_ulp, 255);
}

static void merging_and_tolerance(void **state)
{
    (void)state;
    mpb_compare_stats x = {.differ = 2, .nan_mismatch = 0, .max_abs = 0.5, .max_ulp = 7};
    mpb_compare_stats y = {.differ = 3, .nan_mismatch = 1, .max_abs = 0.25, .max_ulp = 9};
    mpb_compare_merge(&x, &y);
    assert_int_equal(x.differ, 5);
    assert_int_equal(x.nan_mismatch, 1);
    assert_true(x.max_abs == 0.5);
    assert_int_equal(x.max_ulp, 9);
    assert_false(mpb_compare_within(&x, 1.0));
    x.nan_mismatch = 0;
    assert_true(mpb_compare_within(&x, 0.5));
    assert_false(mpb_compare_within(&x, 0.49));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(f32_steps),
        cmocka_unit_test(special_values),
        cmocka_unit_test(sixteen_bit_and_integers),
        cmocka_unit_test(merging_and_tolerance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
