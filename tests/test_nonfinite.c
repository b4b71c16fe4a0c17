/* blend/mpb_nonfinite.h: counts checked against isfinite() on values decoded
 * by the (separately tested) conversions, over every 16-bit pattern and over
 * random buffers of every float type (any length, any alignment, with each
 * implementation mpb_kernel_force can pick); the error mode's message
 * checked field by field. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_convert.h"
#include "mpb_kernel.h"
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

/* Non-finite by decoding element i (little-endian raw bits) exactly. */
static bool reference_nonfinite(mpb_dtype dt, const unsigned char *p, size_t i)
{
    switch (dt) {
    case MPB_DT_F8_E4M3: return (p[i] & 0x7f) == 0x7f;
    case MPB_DT_F8_E5M2: return !isfinite(mpb_f16_to_f32((uint16_t)(p[i] << 8)));
    case MPB_DT_F16:
    case MPB_DT_BF16: {
        uint16_t v = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
        return !isfinite(dt == MPB_DT_F16 ? mpb_f16_to_f32(v) : mpb_bf16_to_f32(v));
    }
    case MPB_DT_F32: {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return !isfinite(f);
    }
    case MPB_DT_F64: {
        double d;
        memcpy(&d, p + 8 * i, 8);
        return !isfinite(d);
    }
    default: return false;
    }
}

static const mpb_dtype float_types[] = {MPB_DT_F8_E4M3, MPB_DT_F8_E5M2, MPB_DT_F16,
                                        MPB_DT_BF16,    MPB_DT_F32,     MPB_DT_F64};

/* NaNs of both signs, infinities, the largest finite values and denormals
 * of each type, as 64-bit patterns cut to the type's width. */
static const uint64_t *specials_of(mpb_dtype dt)
{
    static const uint64_t e4m3[] = {0x7f, 0xff, 0x7e, 0xfe, 0x01, 0x87, 0x78, 0x00};
    static const uint64_t e5m2[] = {0x7e, 0xff, 0x7c, 0xfc, 0x7b, 0xfb, 0x01, 0x83};
    static const uint64_t f16[] = {0x7e00, 0xfc01, 0x7c00, 0xfc00,
                                   0x7bff, 0xfbff, 0x0001, 0x83ff};
    static const uint64_t bf16[] = {0x7fc0, 0xff81, 0x7f80, 0xff80,
                                    0x7f7f, 0xff7f, 0x0001, 0x807f};
    static const uint64_t f32[] = {0x7fc00000, 0xffffffff, 0x7f800000, 0xff800000,
                                   0x7f7fffff, 0xff7fffff, 0x00000001, 0x807fffff};
    static const uint64_t f64[] = {0x7ff8000000000000ull, 0xfff0000000000001ull,
                                   0x7ff0000000000000ull, 0xfff0000000000000ull,
                                   0x7fefffffffffffffull, 0xffefffffffffffffull,
                                   0x0000000000000001ull, 0x800fffffffffffffull};
    switch (dt) {
    case MPB_DT_F8_E4M3: return e4m3;
    case MPB_DT_F8_E5M2: return e5m2;
    case MPB_DT_F16: return f16;
    case MPB_DT_BF16: return bf16;
    case MPB_DT_F32: return f32;
    default: return f64;
    }
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next_random(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

/* n elements of dt at p: random bits, with specials at random places, one
 * in `every` on average (none when every is 0). */
static void fill_random(mpb_dtype dt, unsigned char *p, size_t n, unsigned every)
{
    size_t size = mpb_dtype_size(dt);
    const uint64_t *specials = specials_of(dt);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = next_random();
        if (every && next_random() % every == 0)
            v = specials[next_random() % 8];
        memcpy(p + i * size, &v, size); /* little-endian host */
    }
}

static void expect_reference(mpb_dtype dt, const unsigned char *p, size_t n)
{
    uint64_t count = 0;
    size_t first = n;
    for (size_t i = n; i-- > 0;)
        if (reference_nonfinite(dt, p, i))
            count++, first = i;
    assert_int_equal(mpb_nonfinite_count(dt, p, n), count);
    assert_int_equal(mpb_nonfinite_find(dt, p, n), first);
}

/* Every implementation, from every alignment, every length to 300, with
 * specials from dense to none (random bits alone are non-finite at a rate
 * that depends on the type). */
static void random_buffers_every_path(void **state)
{
    (void)state;
    enum { MAX_N = 300 };
    static unsigned char raw[MAX_N * 8 + 8];
    const unsigned everies[] = {0, 2, 17, 300};
    const char *isa;
    for (size_t k = 0; (isa = mpb_kernel_isa_available(k)) != NULL; k++) {
        assert_true(mpb_kernel_force(isa));
        for (size_t d = 0; d < sizeof float_types / sizeof float_types[0]; d++)
            for (size_t e = 0; e < sizeof everies / sizeof everies[0]; e++)
                for (size_t n = 0; n <= MAX_N; n++) {
                    unsigned char *p = raw + (n + e) % 8;
                    fill_random(float_types[d], p, n, everies[e]);
                    expect_reference(float_types[d], p, n);
                }
    }
    mpb_kernel_force(NULL);
}

/* Long buffers: all non-finite (counters that overflow would show), one
 * special late in a finite buffer, and random ones. */
static void long_buffers_every_path(void **state)
{
    (void)state;
    enum { N = 70001 };
    unsigned char *raw = malloc(N * 8 + 8);
    assert_non_null(raw);
    const char *isa;
    for (size_t k = 0; (isa = mpb_kernel_isa_available(k)) != NULL; k++) {
        assert_true(mpb_kernel_force(isa));
        for (size_t d = 0; d < sizeof float_types / sizeof float_types[0]; d++) {
            mpb_dtype dt = float_types[d];
            size_t size = mpb_dtype_size(dt);
            unsigned char *p = raw + 3;
            uint64_t nan = specials_of(dt)[0], one = specials_of(dt)[6];
            for (size_t i = 0; i < N; i++)
                memcpy(p + i * size, &nan, size);
            assert_int_equal(mpb_nonfinite_count(dt, p, N), N);
            assert_int_equal(mpb_nonfinite_find(dt, p, N), 0);
            for (size_t i = 0; i < N; i++)
                memcpy(p + i * size, &one, size);
            assert_int_equal(mpb_nonfinite_count(dt, p, N), 0);
            assert_int_equal(mpb_nonfinite_find(dt, p, N), N);
            size_t at = N - 1 - (size_t)(next_random() % 5000);
            memcpy(p + at * size, &nan, size);
            assert_int_equal(mpb_nonfinite_count(dt, p, N), 1);
            assert_int_equal(mpb_nonfinite_find(dt, p, N), at);
            fill_random(dt, p, N, 50);
            expect_reference(dt, p, N);
        }
    }
    mpb_kernel_force(NULL);
    free(raw);
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
    assert_int_equal(
        mpb_nonfinite_check(MPB_NONFINITE_ERROR, MPB_DT_I16, row, 5, 0, "t", "x", &err),
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
        cmocka_unit_test(random_buffers_every_path),
        cmocka_unit_test(long_buffers_every_path),
        cmocka_unit_test(error_mode_names_everything),
        cmocka_unit_test(parse_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
