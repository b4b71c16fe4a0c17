/* The method registry (blend/mpb_registry.h): every entry is complete for
 * its blend kind, names and lookups agree, the defaults are mergekit's, and
 * nearswap's kernel follows docs/METHODS.md on hand-computed elements. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_registry.h"
#include "test_method_util.h"

static void test_entries_complete(void **state)
{
    (void)state;
    for (int m = 0; m < MPB_METHOD_COUNT; m++) {
        const mpb_method_def *def = mpb_method_get((mpb_method)m);
        assert_non_null(def);
        assert_non_null(def->name);
        assert_non_null(def->summary);
        switch (def->blend) {
        case MPB_BLEND_COEFFICIENTS:
            assert_true(def->coefficients != NULL || def->copies_first);
            break;
        case MPB_BLEND_STATISTICS:
            assert_true(def->sums_count && def->sums_add && def->sums_coefficients);
            assert_true(def->whole_tensor_stats);
            break;
        case MPB_BLEND_TASK: assert_int_equal(def->base, MPB_BASE_NEEDED); break;
        case MPB_BLEND_ELEMENTWISE:
            assert_true(def->coefficients != NULL && def->kernel != NULL);
            break;
        }
        for (int id = 0; id < MPB_P_COUNT; id++)
            if (def->params[id].required && !mpb_param_per_model((mpb_param_id)id))
                assert_non_null(def->required_why);
    }
    assert_null(mpb_method_get(MPB_METHOD_COUNT));
    assert_string_equal(mpb_method_name(MPB_METHOD_COUNT), "invalid");
}

static void test_names_and_list(void **state)
{
    (void)state;
    char list[512] = "";
    size_t at = 0;
    for (int m = 0; m < MPB_METHOD_COUNT; m++) {
        mpb_method found;
        assert_true(mpb_method_lookup(mpb_method_name((mpb_method)m), &found));
        assert_int_equal(found, m);
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", m ? ", " : "",
                               mpb_method_name((mpb_method)m));
    }
    assert_string_equal(mpb_method_list(), list);
    mpb_method found;
    assert_false(mpb_method_lookup("no_such_method", &found));
    assert_string_equal(mpb_method_name(MPB_METHOD_NEARSWAP), "nearswap");
}

static bool weighted_sum(const mpb_method_def *def)
{
    return def->blend == MPB_BLEND_COEFFICIENTS;
}

static void test_list_if(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(mpb_method_list_if(weighted_sum, buf, sizeof buf),
                        "linear, interpolate and passthrough");
}

/* mergekit's defaults (merge_methods/registry.py and friends). */
static void test_defaults(void **state)
{
    (void)state;
    assert_true(mpb_method_default(MPB_METHOD_LINEAR, MPB_P_NORMALIZE) == 1.0);
    assert_true(mpb_method_default(MPB_METHOD_TIES, MPB_P_NORMALIZE) == 1.0);
    assert_true(mpb_method_default(MPB_METHOD_DARE_TIES, MPB_P_NORMALIZE) == 0.0);
    assert_true(mpb_method_default(MPB_METHOD_DARE_LINEAR, MPB_P_RESCALE) == 1.0);
    assert_true(mpb_method_default(MPB_METHOD_TIES, MPB_P_RESCALE) == 0.0);
    assert_true(mpb_method_default(MPB_METHOD_TASK_ARITHMETIC, MPB_P_LAMBDA) == 1.0);
    assert_true(isnan(mpb_method_default(MPB_METHOD_INTERPOLATE, MPB_P_LAMBDA)));
    assert_true(mpb_method_default(MPB_METHOD_BREADCRUMBS, MPB_P_GAMMA) == 0.01);
    assert_true(isnan(mpb_method_default(MPB_METHOD_TIES, MPB_P_GAMMA)));
    assert_true(mpb_method_default(MPB_METHOD_SLERP, MPB_P_DENSITY) == 1.0);
    assert_true(isnan(mpb_method_default(MPB_METHOD_NEARSWAP, MPB_P_T)));
    /* della and della_linear (generalized_task_arithmetic.py, sparsify.py). */
    assert_true(mpb_method_default(MPB_METHOD_DELLA, MPB_P_EPSILON) == 0.15);
    assert_true(mpb_method_default(MPB_METHOD_DELLA_LINEAR, MPB_P_EPSILON) == 0.15);
    assert_true(mpb_method_default(MPB_METHOD_DELLA, MPB_P_NORMALIZE) == 1.0);
    assert_true(mpb_method_default(MPB_METHOD_DELLA_LINEAR, MPB_P_NORMALIZE) == 0.0);
    assert_true(mpb_method_default(MPB_METHOD_DELLA, MPB_P_RESCALE) == 1.0);
    assert_true(mpb_method_default(MPB_METHOD_DELLA_LINEAR, MPB_P_RESCALE) == 1.0);
    assert_true(mpb_method_default(MPB_METHOD_DELLA, MPB_P_LAMBDA) == 1.0);
    assert_true(mpb_method_get(MPB_METHOD_DELLA)->elects_sign);
    assert_false(mpb_method_get(MPB_METHOD_DELLA_LINEAR)->elects_sign);
    /* nuslerp.py: flatten on, row_wise off. */
    assert_true(mpb_method_default(MPB_METHOD_NUSLERP, MPB_P_NUSLERP_FLATTEN) == 1.0);
    assert_true(mpb_method_default(MPB_METHOD_NUSLERP, MPB_P_NUSLERP_ROW_WISE) == 0.0);
}

/* ---- ram (issue 15b) ---- */
/* ram with the base in the middle of three inputs: {x0, b, x1}. */
static float ram_one(float eps, float x0, float b, float x1)
{
    const mpb_method_def *def = mpb_method_get(MPB_METHOD_RAM);
    float coef[3] = {eps, eps, eps}, out;
    const void *in[3] = {&x0, &b, &x1};
    def->kernel(coef, 1, 3, in, MPB_DT_F32, &out, MPB_DT_F32, 1);
    return out;
}

static void test_ram_elements(void **state)
{
    (void)state;
    /* Only x0 changes the element: its whole change. */
    assert_true(ram_one(0.25f, 3.0f, 1.0f, 1.0f) == 3.0f);
    /* A change of exactly epsilon is absent: only x1's counts. */
    assert_true(ram_one(0.25f, 1.25f, 1.0f, 0.5f) == 0.5f);
    /* Both change it: each change divided by 2, then added in model order. */
    float t0 = 3.0f - 1.0f, t1 = 1.1f - 1.0f;
    assert_int_equal(bits_of(ram_one(0.0f, 3.0f, 1.0f, 1.1f)),
                     bits_of(1.0f + (t0 / 2.0f + t1 / 2.0f)));
    /* Neither: the base. */
    assert_true(ram_one(0.25f, 1.0f, 1.0f, 1.0f) == 1.0f);
    /* An infinite task vector is NaN whatever the other, written canonically. */
    assert_int_equal(bits_of(ram_one(0.25f, 1.0f, 1.0f, f32_from_bits(0x7f800000u))),
                     0x7fc00000u);
    assert_null(mpb_method_refusal("arcee_fusion")); /* issue 15: built */
    assert_null(mpb_method_refusal("ram"));
    assert_true(mpb_method_default(MPB_METHOD_RAM, MPB_P_EPSILON) == 1e-5);
}
/* ---- end ram ---- */

/* ---- arcee_fusion (issue 15) ---- */
static void test_arcee_fusion_parts(void **state)
{
    (void)state;
    const mpb_method_def *def = mpb_method_get(MPB_METHOD_ARCEE_FUSION);
    assert_int_equal(def->base, MPB_BASE_NEEDED);
    assert_int_equal(def->min_others, 1);
    assert_int_equal(def->max_others, 1);
    /* Ascending indices floor(q (n - 1)) as descending ranks n - index. */
    uint64_t r[3];
    mpb_fusion_ranks(1, r);
    assert_true(r[0] == 1 && r[1] == 1 && r[2] == 1);
    mpb_fusion_ranks(8, r); /* indices 1, 3, 5 */
    assert_true(r[0] == 7 && r[1] == 5 && r[2] == 3);
    mpb_fusion_ranks(1001, r); /* 250, 500, 750 */
    assert_true(r[0] == 751 && r[1] == 501 && r[2] == 251);
    assert_true(mpb_fusion_threshold(1.0f, 2.0f, 4.0f) == 6.5f);
    /* Equal softmaxes: log(1) = 0 exactly; a negative KL is +0. */
    double scratch[6];
    const float x[3] = {0.5f, -1.0f, 2.0f}, y[3] = {0.5f, -1.0f, 2.5f};
    assert_true(mpb_fusion_kl(x, x, 3, scratch) == 0.0);
    assert_true(mpb_fusion_kl(x, y, 3, scratch) > 0.0);
    assert_int_equal(bits_of(mpb_fusion_kl_f32(-1e-20)), 0u);
    /* Elements 1..3 of vectors of 2: vector 0, then vector 1 twice. */
    const float d[3] = {-2.0f, 1.0f, 3.0f}, kl[2] = {0.5f, 4.0f};
    float key[3];
    mpb_fusion_key(d, 3, kl, 2, 1, key);
    assert_true(key[0] == 1.0f && key[1] == 4.0f && key[2] == 12.0f);
}
/* ---- end arcee_fusion ---- */

static float nearswap_one(float t, float b, float x)
{
    const mpb_method_def *def = mpb_method_get(MPB_METHOD_NEARSWAP);
    float coef[2] = {t, 0}, out;
    const void *in[2] = {&b, &x};
    def->kernel(coef, 0, 2, in, MPB_DT_F32, &out, MPB_DT_F32, 1);
    return out;
}

static void test_nearswap_elements(void **state)
{
    (void)state;
    /* |b - x| = 4, t = 1: w = (1/4) * 1 = 0.25, r = 0.25*6 + 0.75*2 = 3. */
    assert_true(nearswap_one(1.0f, 2.0f, 6.0f) == 3.0f);
    /* Within t: w = 1/|b-x| * t > 1 is clamped to 1, the other's value. */
    assert_true(nearswap_one(1.0f, 2.0f, 2.5f) == 2.5f);
    /* Equal: 1/0 = inf, w = 1. */
    assert_true(nearswap_one(0.5f, -3.0f, -3.0f) == -3.0f);
    /* A NaN other: w = 1, r = NaN, written as the canonical quiet NaN. */
    assert_int_equal(bits_of(nearswap_one(0.5f, 1.0f, f32_from_bits(0xffc00001u))),
                     0x7fc00000u);
    /* Rounding step by step: w = f(1/3) * 0.1f, then w*x + (1-w)*b. */
    float b = 1.0f, x = 4.0f, t = 0.1f;
    float w = (1.0f / 3.0f) * t;
    float want = w * x + (1.0f - w) * b;
    assert_int_equal(bits_of(nearswap_one(t, b, x)), bits_of(want));
    /* The base may be input 1. */
    const mpb_method_def *def = mpb_method_get(MPB_METHOD_NEARSWAP);
    float coef[2] = {1.0f, 0}, in0 = 6.0f, in1 = 2.0f, out;
    const void *in[2] = {&in0, &in1};
    def->kernel(coef, 1, 2, in, MPB_DT_F32, &out, MPB_DT_F32, 1);
    assert_true(out == 3.0f);
}

static void test_nearswap_t(void **state)
{
    (void)state;
    mpb_tensor_params p = {.copy_from = -1, .base_index = 0, .n_inputs = 2, .t = 0.25};
    float coef[2];
    mpb_error err = {0};
    assert_int_equal(mpb_method_coefficients(MPB_METHOD_NEARSWAP, &p, coef, &err), MPB_OK);
    assert_true(coef[0] == 0.25f);
    p.t = 0;
    assert_int_equal(mpb_method_coefficients(MPB_METHOD_NEARSWAP, &p, coef, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "must be above 0"));
    mpb_error_clear(&err);
    p.t = 1e-60; /* positive, but 0 in fp32 */
    assert_int_equal(mpb_method_coefficients(MPB_METHOD_NEARSWAP, &p, coef, &err), MPB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_complete),  cmocka_unit_test(test_names_and_list),
        cmocka_unit_test(test_list_if),           cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_nearswap_elements), cmocka_unit_test(test_nearswap_t),
        cmocka_unit_test(test_ram_elements),      cmocka_unit_test(test_arcee_fusion_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
