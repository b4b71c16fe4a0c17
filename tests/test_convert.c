/* Conversions between fp32 and bf16/f16 (blend/mpb_convert.h), checked
 * against references computed here in double precision by other means:
 * ldexp for decoding, frexp/floor rounding for encoding. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_convert.h"

/* A 16-bit float format: significand bits including the implicit one,
 * smallest normal exponent, and 2^(emax+1) where rounding overflows. */
struct format {
    const char *name;
    int man_bits; /* stored mantissa bits */
    int emin;
    double overflow;
    float (*decode)(uint16_t);
    uint16_t (*encode)(float);
};

static const struct format bf16 = {"bf16", 7, -126, 0x1p128, mpb_bf16_to_f32, mpb_f32_to_bf16};
static const struct format f16 = {"f16", 10, -14, 0x1p16, mpb_f16_to_f32, mpb_f32_to_f16};

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int exp_bits(const struct format *fmt)
{
    return 15 - fmt->man_bits;
}

static bool ref_is_nan(const struct format *fmt, uint16_t h)
{
    unsigned exp_all = (1u << exp_bits(fmt)) - 1;
    unsigned man_mask = (1u << fmt->man_bits) - 1;
    return ((h >> fmt->man_bits) & exp_all) == exp_all && (h & man_mask) != 0;
}

/* The value of a 16-bit pattern from the IEEE definition (not for NaN). */
static double ref_value(const struct format *fmt, uint16_t h)
{
    unsigned exp_all = (1u << exp_bits(fmt)) - 1;
    unsigned exp = (h >> fmt->man_bits) & exp_all;
    unsigned man = h & ((1u << fmt->man_bits) - 1);
    int bias = -fmt->emin + 1;
    double v;
    if (exp == exp_all)
        v = INFINITY;
    else if (exp == 0)
        v = ldexp(man, fmt->emin - fmt->man_bits);
    else
        v = ldexp((1u << fmt->man_bits) + man, (int)exp - bias - fmt->man_bits);
    return (h & 0x8000u) ? -v : v;
}

/* x rounded to the format, to nearest with ties to even, by scaling to an
 * integer count of the quantum at x's exponent. */
static double ref_round(const struct format *fmt, double x)
{
    double ax = fabs(x);
    if (ax == 0 || isinf(ax))
        return x;
    int e;
    frexp(ax, &e);
    int lead = e - 1 < fmt->emin ? fmt->emin : e - 1;
    double quantum = ldexp(1.0, lead - fmt->man_bits);
    double q = ax / quantum, whole = floor(q), frac = q - whole;
    if (frac > 0.5 || (frac == 0.5 && fmod(whole, 2.0) == 1.0))
        whole += 1.0;
    double r = whole * quantum;
    if (r >= fmt->overflow)
        r = INFINITY;
    return copysign(r, x);
}

/* The documented NaN narrowing: sign kept, quiet bit set, top payload bits. */
static uint16_t ref_nan(const struct format *fmt, uint32_t u)
{
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint16_t exp_all = (uint16_t)(((1u << exp_bits(fmt)) - 1) << fmt->man_bits);
    uint16_t quiet = (uint16_t)(1u << (fmt->man_bits - 1));
    uint16_t payload = (uint16_t)((u >> (23 - fmt->man_bits)) & ((1u << fmt->man_bits) - 1));
    return sign | exp_all | quiet | payload;
}

/* Fails with the input named when encoding f disagrees with the reference. */
static void check_encode(const struct format *fmt, float f)
{
    uint16_t got = fmt->encode(f);
    uint32_t u = f32_bits(f);
    if (isnan(f)) {
        if (got != ref_nan(fmt, u)) {
            print_error("%s: f32 0x%08x (NaN) -> 0x%04x, want 0x%04x\n", fmt->name, u, got,
                        ref_nan(fmt, u));
            fail();
        }
        return;
    }
    double want = ref_round(fmt, f);
    if (ref_is_nan(fmt, got) || ref_value(fmt, got) != want ||
        !signbit(ref_value(fmt, got)) != !signbit(want)) {
        print_error("%s: f32 0x%08x (%a) -> 0x%04x, want value %a\n", fmt->name, u, (double)f,
                    got, want);
        fail();
    }
}

static void check_decode_all(const struct format *fmt)
{
    for (uint32_t h = 0; h <= 0xffff; h++) {
        float f = fmt->decode((uint16_t)h);
        uint32_t u = f32_bits(f);
        bool ok;
        if (ref_is_nan(fmt, (uint16_t)h)) {
            /* Widening keeps sign and the whole payload, left-aligned. */
            uint32_t payload = (h & ((1u << fmt->man_bits) - 1)) << (23 - fmt->man_bits);
            ok = isnan(f) && (u >> 31) == (h >> 15) && (u & 0x7fffffu) == payload;
        } else {
            double want = ref_value(fmt, (uint16_t)h);
            ok = (double)f == want && !signbit(f) == !signbit(want);
        }
        if (!ok) {
            print_error("%s: 0x%04x decodes to f32 0x%08x\n", fmt->name, h, u);
            fail();
        }
    }
}

static void check_round_trip_all(const struct format *fmt)
{
    uint16_t quiet = (uint16_t)(1u << (fmt->man_bits - 1));
    for (uint32_t h = 0; h <= 0xffff; h++) {
        uint16_t back = fmt->encode(fmt->decode((uint16_t)h));
        /* A signalling NaN comes back quiet; everything else unchanged. */
        uint16_t want = ref_is_nan(fmt, (uint16_t)h) ? (uint16_t)(h | quiet) : (uint16_t)h;
        if (back != want) {
            print_error("%s: 0x%04x round-trips to 0x%04x\n", fmt->name, h, back);
            fail();
        }
    }
}

/* For every pair of neighbours lo < hi: the exact midpoint goes to the even
 * one, the floats just beside it go to the nearer one.  The pair above the
 * largest finite number is (max, 2^(emax+1)), whose even end is infinity. */
static void check_midpoints(const struct format *fmt)
{
    uint16_t inf = (uint16_t)(((1u << exp_bits(fmt)) - 1) << fmt->man_bits);
    for (uint16_t h = 0; h < inf; h++) {
        double lo = ref_value(fmt, h);
        double hi = h + 1 == inf ? fmt->overflow : ref_value(fmt, (uint16_t)(h + 1));
        double mid = (lo + hi) / 2;
        float midf = (float)mid;
        assert_true((double)midf == mid);
        uint16_t even = (h & 1u) ? (uint16_t)(h + 1) : h;
        float above = nextafterf(midf, INFINITY), below = nextafterf(midf, 0.0f);
        const struct {
            float x;
            uint16_t want;
        } cases[] = {{midf, even}, {above, (uint16_t)(h + 1)}, {below, h}, {(float)lo, h}};
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            uint16_t pos = fmt->encode(cases[k].x), neg = fmt->encode(-cases[k].x);
            if (pos != cases[k].want || neg != (cases[k].want | 0x8000u)) {
                print_error("%s: %a -> 0x%04x / -0x%04x, want 0x%04x\n", fmt->name,
                            (double)cases[k].x, pos, neg, cases[k].want);
                fail();
            }
        }
    }
}

/* Every fp32 pattern whose low bits (the ones narrowing drops) take values
 * around the rounding boundaries, over all high bits; then random ones. */
static void check_sweep(const struct format *fmt)
{
    int dropped = 23 - fmt->man_bits;
    uint32_t half = 1u << (dropped - 1), all = (1u << dropped) - 1;
    const uint32_t lows[] = {0, 1, half - 1, half, half + 1, all};
    for (uint32_t high = 0; high < (1u << (32 - dropped)); high++)
        for (size_t k = 0; k < sizeof lows / sizeof lows[0]; k++)
            check_encode(fmt, f32_from_bits(high << dropped | lows[k]));
    uint64_t state = 42;
    for (int k = 0; k < 4000000; k++)
        check_encode(fmt, f32_from_bits((uint32_t)splitmix64(&state)));
}

/* The per-format tests receive their format as cmocka's initial state. */
static void test_decode_exhaustive(void **state)
{
    check_decode_all(*state);
}

static void test_round_trip_exhaustive(void **state)
{
    check_round_trip_all(*state);
}

static void test_midpoints(void **state)
{
    check_midpoints(*state);
}

static void test_sweep(void **state)
{
    check_sweep(*state);
}

/* Named cases, with expectations worked out by hand from the formats. */
static void test_bf16_edges(void **state)
{
    (void)state;
    assert_int_equal(mpb_f32_to_bf16(0.0f), 0x0000);
    assert_int_equal(mpb_f32_to_bf16(-0.0f), 0x8000);
    assert_int_equal(mpb_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(mpb_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);            /* tie, even down */
    assert_int_equal(mpb_f32_to_bf16(1.0f + 0x1p-7f + 0x1p-8f), 0x3f82);  /* tie, even up */
    assert_int_equal(mpb_f32_to_bf16(1.0f + 0x1p-8f + 0x1p-23f), 0x3f81); /* just above */
    assert_int_equal(mpb_f32_to_bf16(0x1.fep127f), 0x7f7f);               /* max finite */
    assert_int_equal(mpb_f32_to_bf16(0x1.fefffep127f), 0x7f7f); /* below overflow tie */
    assert_int_equal(mpb_f32_to_bf16(0x1.ffp127f), 0x7f80);     /* overflow tie */
    assert_int_equal(mpb_f32_to_bf16(f32_from_bits(0x7f7fffffu)), 0x7f80); /* FLT_MAX */
    assert_int_equal(mpb_f32_to_bf16(-INFINITY), 0xff80);
    assert_int_equal(mpb_f32_to_bf16(0x1p-133f), 0x0001);    /* min subnormal */
    assert_int_equal(mpb_f32_to_bf16(0x1p-134f), 0x0000);    /* tie to zero */
    assert_int_equal(mpb_f32_to_bf16(0x3p-134f), 0x0002);    /* tie, even up */
    assert_int_equal(mpb_f32_to_bf16(-0x1p-149f), 0x8000);   /* underflow */
    assert_int_equal(mpb_f32_to_bf16(0x1.fcp-127f), 0x007f); /* max subnormal */
    assert_int_equal(mpb_f32_to_bf16(0x1.ffp-127f), 0x0080); /* up to normal */
    /* NaN: a payload only in the dropped bits must not become infinity. */
    assert_int_equal(mpb_f32_to_bf16(f32_from_bits(0x7f800001u)), 0x7fc0);
    assert_int_equal(mpb_f32_to_bf16(f32_from_bits(0xff812345u)), 0xffc1);
    assert_int_equal(mpb_f32_to_bf16(f32_from_bits(0x7fffffffu)), 0x7fff);
    assert_true(f32_bits(mpb_bf16_to_f32(0xff81)) == 0xff810000u);
}

static void test_f16_edges(void **state)
{
    (void)state;
    assert_int_equal(mpb_f32_to_f16(0.0f), 0x0000);
    assert_int_equal(mpb_f32_to_f16(-0.0f), 0x8000);
    assert_int_equal(mpb_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(mpb_f32_to_f16(1.0f + 0x1p-11f), 0x3c00); /* tie, even down */
    assert_int_equal(mpb_f32_to_f16(1.0f + 0x3p-11f), 0x3c02); /* tie, even up */
    assert_int_equal(mpb_f32_to_f16(65504.0f), 0x7bff);        /* max finite */
    assert_int_equal(mpb_f32_to_f16(65519.996f), 0x7bff);      /* below overflow tie */
    assert_int_equal(mpb_f32_to_f16(65520.0f), 0x7c00);        /* overflow tie */
    assert_int_equal(mpb_f32_to_f16(-1e10f), 0xfc00);
    assert_int_equal(mpb_f32_to_f16(0x1p-24f), 0x0001);        /* min subnormal */
    assert_int_equal(mpb_f32_to_f16(0x1p-25f), 0x0000);        /* tie to zero */
    assert_int_equal(mpb_f32_to_f16(0x1.000002p-25f), 0x0001); /* just above */
    assert_int_equal(mpb_f32_to_f16(0x3p-25f), 0x0002);        /* tie, even up */
    assert_int_equal(mpb_f32_to_f16(-0x1p-26f), 0x8000);       /* underflow */
    assert_int_equal(mpb_f32_to_f16(0x1p-14f), 0x0400);        /* min normal */
    assert_int_equal(mpb_f32_to_f16(0x1.ff8p-15f), 0x03ff);    /* max subnormal */
    assert_int_equal(mpb_f32_to_f16(0x1.ffcp-15f), 0x0400);    /* tie, up to normal */
    assert_int_equal(mpb_f32_to_f16(f32_from_bits(0x7f800001u)), 0x7e00);
    assert_int_equal(mpb_f32_to_f16(f32_from_bits(0xffbfe000u)), 0xffff);
    assert_true(mpb_f16_to_f32(0x0001) == 0x1p-24f);
    assert_true(mpb_f16_to_f32(0x83ff) == -0x1.ff8p-15f);
    assert_true(f32_bits(mpb_f16_to_f32(0xfd01)) == 0xffa02000u); /* sNaN kept */
}

/* Array forms equal the scalar ones, at odd byte offsets and in place. */
static void test_arrays(void **state)
{
    (void)state;
    enum { N = 1001 };
    static unsigned char raw[4 * N + 8], back[4 * N + 8];
    static float wide[N + 1], ref[N];
    uint64_t seed = 7;
    for (size_t k = 0; k < sizeof raw; k++)
        raw[k] = (unsigned char)splitmix64(&seed);
    const mpb_dtype dts[] = {MPB_DT_BF16, MPB_DT_F16, MPB_DT_F32};
    for (size_t d = 0; d < 3; d++) {
        const unsigned char *src = raw + 1; /* misaligned for every dtype */
        mpb_convert_to_f32(dts[d], src, wide, N);
        for (size_t j = 0; j < N; j++) {
            uint16_t h;
            memcpy(&h, src + 2 * j, 2);
            if (dts[d] == MPB_DT_BF16)
                ref[j] = mpb_bf16_to_f32(h);
            else if (dts[d] == MPB_DT_F16)
                ref[j] = mpb_f16_to_f32(h);
            else
                memcpy(&ref[j], src + 4 * j, 4);
        }
        assert_memory_equal(wide, ref, sizeof ref);

        memset(back, 0xa5, sizeof back);
        mpb_convert_from_f32(dts[d], wide, back + 3, N);
        size_t size = dts[d] == MPB_DT_F32 ? 4 : 2;
        for (size_t j = 0; j < N; j++) {
            uint16_t want =
                dts[d] == MPB_DT_BF16 ? mpb_f32_to_bf16(wide[j]) : mpb_f32_to_f16(wide[j]);
            if (size == 4)
                assert_memory_equal(back + 3 + 4 * j, &wide[j], 4);
            else
                assert_memory_equal(back + 3 + 2 * j, &want, 2);
        }
        assert_int_equal(back[3 + N * size], 0xa5); /* nothing written past n */
    }
    /* F32 to F32 in place is a no-op copy. */
    memcpy(ref, wide, sizeof ref);
    mpb_convert_to_f32(MPB_DT_F32, wide, wide, N);
    assert_memory_equal(wide, ref, sizeof ref);
}

int main(void)
{
    void *b = (void *)&bf16, *h = (void *)&f16;
    const struct CMUnitTest tests[] = {
        {"bf16_decode_exhaustive", test_decode_exhaustive, NULL, NULL, b},
        {"f16_decode_exhaustive", test_decode_exhaustive, NULL, NULL, h},
        {"bf16_round_trip_exhaustive", test_round_trip_exhaustive, NULL, NULL, b},
        {"f16_round_trip_exhaustive", test_round_trip_exhaustive, NULL, NULL, h},
        {"bf16_midpoints", test_midpoints, NULL, NULL, b},
        {"f16_midpoints", test_midpoints, NULL, NULL, h},
        {"bf16_sweep", test_sweep, NULL, NULL, b},
        {"f16_sweep", test_sweep, NULL, NULL, h},
        cmocka_unit_test(test_bf16_edges),
        cmocka_unit_test(test_f16_edges),
        cmocka_unit_test(test_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
