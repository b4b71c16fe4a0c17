/* blend/mpb_nonfinite.h: counts checked against isfinite() on values decoded
 * by the (separately tested) conversions, over every 16-bit pattern; the
 * error mode's message checked field by field. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_convert.h"
#include "mpb_nonfinite.h"

static uint16_t all16[65536];

static void fill_all16(void)
{
    for (uint32_t i = 0; i < 65536; i++)
        all16[i] = (uint16_t)i;
}

static void every_16_bit_pattern(void **state)
{
    (void)state;
    fill_all16();
    uint64_t want_bf16 = 0, want_f16 = 0;
    for (uint32_t i = 0; i < 65536; i++) {
        want_bf16 += !isfinite(mpb_bf16_to_f32((uint16_t)i));
        want_f16 += !isfinite(mpb_f16_to_f32((uint16_t)i));
    }
    assert_int_equal(mpb_nonfinite_count(MPB_DT_BF16, all16, 65536), want_bf16);
    assert_int_equal(mpb_nonfinite_count(MPB_DT_F16, all16, 65536), want_f16);
    /* E5M2 is the top byte of an f16. */
    uint8_t all8[256];
    uint64_t want_e5m2 = 0;
    for (int i = 0; i < 256; i++) {
        all8[i] = (uint8_t)i;
        want_e5m2 += !isfinite(mpb_f16_to_f32((uint16_t)(i << 8)));
    }
    assert_int_equal(mpb_nonfinite_count(MPB_DT_F8_E5M2, all8, 256), want_e5m2);
    /* E4M3 ("fn"): no infinity, NaN only at S.1111.111. */
    assert_int_equal(mpb_nonfinite_count(MPB_DT_F8_E4M3, all8, 256), 2);
    assert_int_equal(mpb_nonfinite_find(MPB_DT_F8_E4M3, all8, 256), 0x7f);
    /* Integers and bool hold no non-finite values. */
    assert_int_equal(mpb_nonfinite_count(MPB_DT_U16, all16, 65536), 0);
    assert_int_equal(mpb_nonfinite_count(MPB_DT_BOOL, all8, 256), 0);
    assert_int_equal(mpb_nonfinite_find(MPB_DT_I32, all16, 1000), 1000);
}

static void wide_types_unaligned(void **state)
{
    (void)state;
    float f[8] = {0.0f, -0.0f, 1.0f, INFINITY, -INFINITY, NAN, 3.4e38f, 1e-45f};
    double d[6] = {0.0, -INFINITY, 1e308, NAN, 5e-324, -1.0};
    unsigned char raw[1 + sizeof f + sizeof d];
    memcpy(raw + 1, f, sizeof f); /* odd address: no alignment needed */
    assert_int_equal(mpb_nonfinite_count(MPB_DT_F32, raw + 1, 8), 3);
    assert_int_equal(mpb_nonfinite_find(MPB_DT_F32, raw + 1, 8), 3);
    assert_string_equal(mpb_nonfinite_kind(MPB_DT_F32, raw + 1, 3), "+inf");
    assert_string_equal(mpb_nonfinite_kind(MPB_DT_F32, raw + 1, 4), "-inf");
    assert_string_equal(mpb_nonfinite_kind(MPB_DT_F32, raw + 1, 5), "NaN");
    assert_string_equal(mpb_nonfinite_kind(MPB_DT_F32, raw + 1, 6), "finite");
    memcpy(raw + 1, d, sizeof d);
    assert_int_equal(mpb_nonfinite_count(MPB_DT_F64, raw + 1, 6), 2);
    assert_string_equal(mpb_nonfinite_kind(MPB_DT_F64, raw + 1, 1), "-inf");
    assert_string_equal(mpb_nonfinite_kind(MPB_DT_F64, raw + 1, 3), "NaN");
    uint16_t bf[3] = {0x3f80, 0xff81, 0x7f80}; /* 1, a negative NaN, +inf */
    assert_string_equal(mpb_nonfinite_kind(MPB_DT_BF16, bf, 1), "NaN");
    assert_string_equal(mpb_nonfinite_kind(MPB_DT_BF16, bf, 2), "+inf");
}

static void error_mode_names_everything(void **state)
{
    (void)state;
    uint16_t row[5] = {0x3f80, 0x3f80, 0x3f80, 0xfc00, 0x7e00}; /* f16: -inf at 3 */
    mpb_error err = {0};
    assert_int_equal(mpb_nonfinite_check(MPB_NONFINITE_PROPAGATE, MPB_DT_F16, row, 5, 100,
                                         "t.weight", "in.h5", &err),
                     MPB_OK);
    assert_int_equal(mpb_nonfinite_check(MPB_NONFINITE_ERROR, MPB_DT_F16, row, 3, 100,
                                         "t.weight", "in.h5", &err),
                     MPB_OK);
    assert_int_equal(mpb_nonfinite_check(MPB_NONFINITE_ERROR, MPB_DT_F16, row, 5, 100,
                                         "t.weight", "in.h5", &err),
                     MPB_EINVAL);
    assert_non_null(strstr(err.msg, "tensor 't.weight' in 'in.h5'"));
    assert_non_null(strstr(err.msg, "(-inf) at element 103"));
    assert_non_null(strstr(err.msg, "--nonfinite"));
    mpb_error_clear(&err);
    assert_int_equal(mpb_nonfinite_check(MPB_NONFINITE_ERROR, MPB_DT_I16, row, 5, 0, "t", "x",
                                         &err),
                     MPB_OK);
}

static void parse_names(void **state)
{
    (void)state;
    mpb_nonfinite_mode m = MPB_NONFINITE_PROPAGATE;
    assert_true(mpb_nonfinite_parse("error", &m));
    assert_int_equal(m, MPB_NONFINITE_ERROR);
    assert_string_equal(mpb_nonfinite_name(m), "error");
    assert_false(mpb_nonfinite_parse("Error", &m));
    assert_false(mpb_nonfinite_parse("", &m));
    assert_int_equal(m, MPB_NONFINITE_ERROR);
    assert_true(mpb_nonfinite_parse("propagate", &m));
    assert_string_equal(mpb_nonfinite_name(m), "propagate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_16_bit_pattern),
        cmocka_unit_test(wide_types_unaligned),
        cmocka_unit_test(error_mode_names_everything),
        cmocka_unit_test(parse_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
