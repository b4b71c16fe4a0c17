/* The blend kernel (blend/mpb_kernel.h): hand-worked results for the
 * arithmetic contract, run on every implementation this CPU has, then every
 * vector implementation bit-compared with the scalar one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_convert.h"
#include "mpb_kernel.h"

static const mpb_dtype blend_dts[] = {MPB_DT_BF16, MPB_DT_F16, MPB_DT_F32};
enum { N_DTS = sizeof blend_dts / sizeof blend_dts[0] };

/* Canonical NaN per output dtype, as docs/ARITHMETIC.md defines it. */
static uint32_t canonical_nan_bits(mpb_dtype dt)
{
    return dt == MPB_DT_BF16 ? 0x7fc0u : dt == MPB_DT_F16 ? 0x7e00u : 0x7fc00000u;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Forces the k-th usable implementation; NULL past the last one. */
static const char *use_isa(size_t k)
{
    const char *isa = mpb_kernel_isa_available(k);
    if (isa != NULL)
        assert_true(mpb_kernel_force(isa));
    return isa;
}

static uint32_t get_bits(mpb_dtype dt, const void *buf, size_t j)
{
    uint32_t u = 0;
    size_t size = mpb_dtype_size(dt);
    memcpy(&u, (const unsigned char *)buf + j * size, size);
    return u;
}

static float get(mpb_dtype dt, const void *buf, size_t j)
{
    uint32_t u = get_bits(dt, buf, j);
    if (dt == MPB_DT_BF16)
        return mpb_bf16_to_f32((uint16_t)u);
    if (dt == MPB_DT_F16)
        return mpb_f16_to_f32((uint16_t)u);
    return f32_from_bits(u);
}

/* Stores v, which the test chose to be exactly representable in dt. */
static void put(mpb_dtype dt, void *buf, size_t j, float v)
{
    mpb_convert_from_f32(dt, &v, (unsigned char *)buf + j * mpb_dtype_size(dt), 1);
    float back = get(dt, buf, j);
    assert_true(back == v || (isnan(back) && isnan(v)));
}

static void check_value(mpb_dtype dt, const void *out, size_t j, float want, const char *isa)
{
    float got = get(dt, out, j);
    if (!(got == want && !signbit(got) == !signbit(want))) {
        print_error("%s, %s out, element %zu: got %a, want %a\n", isa, mpb_dtype_name(dt), j,
                    (double)got, (double)want);
        fail();
    }
}

static void check_bits(mpb_dtype dt, const void *out, size_t j, uint32_t want, const char *isa)
{
    uint32_t got = get_bits(dt, out, j);
    if (got != want) {
        print_error("%s, %s out, element %zu: got 0x%x, want 0x%x\n", isa, mpb_dtype_name(dt),
                    j, got, want);
        fail();
    }
}

static void test_isa_selection(void **state)
{
    (void)state;
    assert_string_equal(mpb_kernel_isa_available(0), "scalar");
    size_t count = 0;
    while (mpb_kernel_isa_available(count) != NULL)
        count++;
    print_message("kernels usable here:");
    for (size_t k = 0; k < count; k++)
        print_message(" %s", mpb_kernel_isa_available(k));
    print_message("\n");

    assert_true(mpb_kernel_force(NULL));
    assert_string_equal(mpb_kernel_isa(), mpb_kernel_isa_available(count - 1));
    mpb_kernel_force_scalar(true);
    assert_string_equal(mpb_kernel_isa(), "scalar");
    assert_false(mpb_kernel_force("no-such-isa"));
    assert_string_equal(mpb_kernel_isa(), "scalar");
    mpb_kernel_force_scalar(false);
    assert_string_equal(mpb_kernel_isa(), mpb_kernel_isa_available(count - 1));
#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS) && defined(__GNUC__) && \
    !defined(__clang__)
    /* Cross-check the kernel's own CPU detection with the compiler's. */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c"))
        assert_true(mpb_kernel_force("avx2"));
    mpb_kernel_force(NULL);
#endif
}

/* 0.25*x + 0.75*y with x_j = j - 9 and y_j = 2j: the exact result
 * 1.75j - 2.25 has at most 7 significant bits, so every step is exact in
 * fp32 and the result exact in every output dtype.  19 elements cover a
 * vector body and a tail. */
static void test_interpolation_exact(void **state)
{
    (void)state;
    enum { N = 19 };
    unsigned char x[N * 4], y[N * 4], out[N * 4];
    const float coef[2] = {0.25f, 0.75f};
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
        for (size_t a = 0; a < N_DTS; a++) {
            for (size_t b = 0; b < N_DTS; b++) {
                for (size_t j = 0; j < N; j++) {
                    put(blend_dts[a], x, j, (float)j - 9.0f);
                    put(blend_dts[a], y, j, 2.0f * (float)j);
                }
                const void *in[2] = {x, y};
                mpb_blend_linear(2, in, blend_dts[a], coef, out, blend_dts[b], N);
                for (size_t j = 0; j < N; j++)
                    check_value(blend_dts[b], out, j, 1.75f * (float)j - 2.25f, isa);
            }
        }
    }
}

/* Signed zeros follow IEEE addition: -0 + +0 = +0, -0 + -0 = -0. */
static void test_signed_zero(void **state)
{
    (void)state;
    float x[2] = {-0.0f, -0.0f}, y[2] = {0.0f, -0.0f}, out[2];
    const void *in[2] = {x, y};
    const float coef[2] = {0.5f, 0.5f};
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
        mpb_blend_linear(2, in, MPB_DT_F32, coef, out, MPB_DT_F32, 2);
        check_bits(MPB_DT_F32, out, 0, 0x00000000u, isa);
        check_bits(MPB_DT_F32, out, 1, 0x80000000u, isa);
    }
}

/* Results exact in fp32 that fall between two bf16 values: rounding to
 * nearest even, worked out by hand from the bit patterns. */
static void test_output_rounding(void **state)
{
    (void)state;
    /* bf16 inputs 1, 1+2^-7, 1+2^-6; mean of neighbours is a tie. */
    const uint16_t x[3] = {0x3f80, 0x3f81, 0x3f81}, y[3] = {0x3f81, 0x3f82, 0x3f83};
    const void *in[2] = {x, y};
    const float half[2] = {0.5f, 0.5f};
    uint16_t out16[3];
    float out32[3];
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
        mpb_blend_linear(2, in, MPB_DT_BF16, half, out16, MPB_DT_BF16, 3);
        check_bits(MPB_DT_BF16, out16, 0, 0x3f80, isa); /* 1+2^-8: tie, down to even */
        check_bits(MPB_DT_BF16, out16, 1, 0x3f82, isa); /* 1+3*2^-8: tie, up to even */
        check_bits(MPB_DT_BF16, out16, 2, 0x3f82, isa); /* 1+2^-6 exactly */
        /* The same blends kept in fp32 and f16 are exact. */
        mpb_blend_linear(2, in, MPB_DT_BF16, half, out32, MPB_DT_F32, 3);
        check_value(MPB_DT_F32, out32, 0, 1.0f + 0x1p-8f, isa);
        check_value(MPB_DT_F32, out32, 1, 1.0f + 0x3p-8f, isa);
        mpb_blend_linear(2, in, MPB_DT_BF16, half, out16, MPB_DT_F16, 3);
        check_bits(MPB_DT_F16, out16, 0, 0x3c04, isa);
        check_bits(MPB_DT_F16, out16, 1, 0x3c0c, isa);

        /* f32 in, f16 out: 65504 + 16 = 65520 is the overflow tie -> inf. */
        const float big[1] = {65504.0f}, sixteen[1] = {16.0f}, one[2] = {1.0f, 1.0f};
        const void *in32[2] = {big, sixteen};
        mpb_blend_linear(2, in32, MPB_DT_F32, one, out16, MPB_DT_F16, 1);
        check_bits(MPB_DT_F16, out16, 0, 0x7c00, isa);
    }
}

/* acc = ((c0*x0 + c1*x1) + c2*x2), each operation rounded: with
 * x = {2^24, 1, 1} each +1 is a tie that rounds back to 2^24, while the other
 * association would give 2^24 + 2. */
static void test_accumulation_order(void **state)
{
    (void)state;
    const float ones[3] = {1.0f, 1.0f, 1.0f};
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
        for (size_t a = 0; a < N_DTS; a++) {
            if (blend_dts[a] == MPB_DT_F16)
                continue; /* 2^24 is beyond f16's range */
            unsigned char big[4 * 9], small[4 * 9], out[4 * 9];
            for (size_t j = 0; j < 9; j++) {
                put(blend_dts[a], big, j, 0x1p24f);
                put(blend_dts[a], small, j, 1.0f);
            }
            const void *big_first[3] = {big, small, small};
            const void *big_last[3] = {small, small, big};
            mpb_blend_linear(3, big_first, blend_dts[a], ones, out, MPB_DT_F32, 9);
            for (size_t j = 0; j < 9; j++)
                check_value(MPB_DT_F32, out, j, 0x1p24f, isa);
            mpb_blend_linear(3, big_last, blend_dts[a], ones, out, MPB_DT_F32, 9);
            for (size_t j = 0; j < 9; j++)
                check_value(MPB_DT_F32, out, j, 0x1p24f + 2.0f, isa);
        }
    }
}

/* Multiply and add are rounded separately: (1+2^-22)^2 = 1 + 2^-21 + 2^-44
 * rounds to 1 + 2^-21 before -1 is added, giving 2^-21; a fused
 * multiply-add would keep the 2^-44 (2^-21 + 2^-44 is an fp32 number). */
static void test_no_fused_multiply_add(void **state)
{
    (void)state;
    float minus_one[9], x[9], out[9];
    for (size_t j = 0; j < 9; j++) {
        minus_one[j] = -1.0f;
        x[j] = 1.0f + 0x1p-22f;
    }
    const void *in[2] = {minus_one, x};
    const float coef[2] = {1.0f, 1.0f + 0x1p-22f};
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
        mpb_blend_linear(2, in, MPB_DT_F32, coef, out, MPB_DT_F32, 9);
        for (size_t j = 0; j < 9; j++)
            check_value(MPB_DT_F32, out, j, 0x1p-21f, isa);
    }
}

static void test_nan_inf_subnormal(void **state)
{
    (void)state;
    const float inf = INFINITY;
    /* Pairs (x, y) blended as 1*x + 1*y, with the IEEE result. */
    const float x[] = {
        f32_from_bits(0xffa12345u), 1.0f, inf, inf, -inf, 3e38f, 0x1p-149f, 0x1p-126f};
    const float y[] = {
        1.0f, f32_from_bits(0x7f800001u), -inf, 1.0f, 1.0f, 3e38f, 0x1p-149f, -0x1p-127f};
    const float want[] = {NAN, NAN, NAN, inf, -inf, inf, 0x1p-148f, 0x1p-127f};
    enum { N = sizeof x / sizeof x[0] };
    const void *in[2] = {x, y};
    const float ones[2] = {1.0f, 1.0f};
    float out[N];
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
        mpb_blend_linear(2, in, MPB_DT_F32, ones, out, MPB_DT_F32, N);
        for (size_t j = 0; j < N; j++) {
            if (isnan(want[j]))
                check_bits(MPB_DT_F32, out, j, canonical_nan_bits(MPB_DT_F32), isa);
            else
                check_value(MPB_DT_F32, out, j, want[j], isa);
        }
        /* 0 * inf is NaN; NaN comes out canonical in every dtype. */
        const float zero_one[2] = {0.0f, 1.0f};
        for (size_t b = 0; b < N_DTS; b++) {
            uint32_t out_any[N];
            mpb_blend_linear(2, in, MPB_DT_F32, zero_one, out_any, blend_dts[b], N);
            check_bits(blend_dts[b], out_any, 1, canonical_nan_bits(blend_dts[b]), isa);
            check_bits(blend_dts[b], out_any, 2, canonical_nan_bits(blend_dts[b]), isa);
        }
        /* Largest bf16 doubled overflows to inf; bf16/f16 subnormals are
         * exact: 1.5 * 2^-24 is a tie in f16 and rounds to even 2^-23. */
        const uint16_t bmax[1] = {0x7f7f}, bsub[1] = {0x0001}, hsub[1] = {0x0003};
        uint16_t o[1];
        const void *in_bmax[2] = {bmax, bmax};
        mpb_blend_linear(2, in_bmax, MPB_DT_BF16, ones, o, MPB_DT_BF16, 1);
        check_bits(MPB_DT_BF16, o, 0, 0x7f80, isa);
        const void *in_bsub[1] = {bsub};
        mpb_blend_linear(1, in_bsub, MPB_DT_BF16, ones, o, MPB_DT_BF16, 1);
        check_bits(MPB_DT_BF16, o, 0, 0x0001, isa);
        const void *in_hsub[1] = {hsub};
        const float half[1] = {0.5f};
        mpb_blend_linear(1, in_hsub, MPB_DT_F16, half, o, MPB_DT_F16, 1);
        check_bits(MPB_DT_F16, o, 0, 0x0002, isa);
    }
}

/* The contract written out element by element, one operation at a time. */
static void reference_blend(size_t n_in, const void *const in[], mpb_dtype in_dt,
                            const float coef[], void *out, mpb_dtype out_dt, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        volatile float acc = coef[0] * get(in_dt, in[0], j);
        for (size_t i = 1; i < n_in; i++) {
            volatile float term = coef[i] * get(in_dt, in[i], j);
            acc = acc + term;
        }
        float v = isnan(acc) ? f32_from_bits(0x7fc00000u) : acc;
        mpb_convert_from_f32(out_dt, &v, (unsigned char *)out + j * mpb_dtype_size(out_dt), 1);
    }
}

/* Random bit patterns: NaN, inf, subnormals and all included. */
static void fill_random(void *buf, size_t bytes, uint64_t *seed)
{
    unsigned char *p = buf;
    for (size_t k = 0; k < bytes; k++)
        p[k] = (unsigned char)splitmix64(seed);
}

static void random_coefs(float *coef, size_t n, uint64_t *seed)
{
    for (size_t i = 0; i < n; i++)
        coef[i] = (float)((double)(splitmix64(seed) >> 11) * 0x1p-53 * 3.0 - 1.5);
}

/* Whole-contract check over random data, across several 1024-element
 * staging blocks of the scalar path. */
static void test_matches_elementwise_contract(void **state)
{
    (void)state;
    enum { N = 5000, N_IN = 3 };
    static unsigned char x[N_IN][N * 4], out[N * 4], want[N * 4];
    uint64_t seed = 99;
    const char *isa;
    for (size_t a = 0; a < N_DTS; a++) {
        for (size_t b = 0; b < N_DTS; b++) {
            const void *in[N_IN];
            for (size_t i = 0; i < N_IN; i++) {
                fill_random(x[i], sizeof x[i], &seed);
                in[i] = x[i];
            }
            float coef[N_IN];
            random_coefs(coef, N_IN, &seed);
            reference_blend(N_IN, in, blend_dts[a], coef, want, blend_dts[b], N);
            for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
                mpb_blend_linear(N_IN, in, blend_dts[a], coef, out, blend_dts[b], N);
                for (size_t j = 0; j < N; j++)
                    check_bits(blend_dts[b], out, j, get_bits(blend_dts[b], want, j), isa);
            }
        }
    }
}

/* out == in[0] and out == in[1] give the out-of-place result. */
static void test_in_place(void **state)
{
    (void)state;
    enum { N = 4097 };
    static unsigned char x[N * 4], y[N * 4], sep[N * 4], inplace[N * 4];
    const size_t sizes[] = {0, 1, 17, N};
    uint64_t seed = 5;
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
        for (size_t a = 0; a < N_DTS; a++) {
            mpb_dtype dt = blend_dts[a];
            size_t bytes = N * mpb_dtype_size(dt);
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                size_t n = sizes[s];
                fill_random(x, sizeof x, &seed);
                fill_random(y, sizeof y, &seed);
                const float coef[2] = {0.55f, 0.45f};
                const void *in[2] = {x, y};
                mpb_blend_linear(2, in, dt, coef, sep, dt, n);

                memcpy(inplace, x, bytes);
                const void *first[2] = {inplace, y};
                mpb_blend_linear(2, first, dt, coef, inplace, dt, n);
                assert_memory_equal(inplace, sep, n * mpb_dtype_size(dt));
                assert_memory_equal(inplace + n * mpb_dtype_size(dt),
                                    x + n * mpb_dtype_size(dt), bytes - n * mpb_dtype_size(dt));

                memcpy(inplace, y, bytes);
                const void *second[2] = {x, inplace};
                mpb_blend_linear(2, second, dt, coef, inplace, dt, n);
                assert_memory_equal(inplace, sep, n * mpb_dtype_size(dt));
            }
        }
    }
}

/* Runs one blend on the scalar path and on `isa`, into buffers with guard
 * bytes after n elements, and requires identical bytes. */
static void compare_with_scalar(const char *isa, size_t n_in, const void *const in[],
                                mpb_dtype in_dt, const float coef[], mpb_dtype out_dt, size_t n,
                                size_t misalign)
{
    enum { GUARD = 64 };
    size_t bytes = n * mpb_dtype_size(out_dt) + misalign + GUARD;
    unsigned char *want = malloc(bytes), *got = malloc(bytes);
    assert_non_null(want);
    assert_non_null(got);
    memset(want, 0x5a, bytes);
    memset(got, 0x5a, bytes);
    assert_true(mpb_kernel_force("scalar"));
    mpb_blend_linear(n_in, in, in_dt, coef, want + misalign, out_dt, n);
    assert_true(mpb_kernel_force(isa));
    mpb_blend_linear(n_in, in, in_dt, coef, got + misalign, out_dt, n);
    if (memcmp(want, got, bytes) != 0) {
        size_t j = 0;
        while (want[j] == got[j])
            j++;
        print_error(
            "%s differs from scalar: %zu inputs %s -> %s, n %zu, misalign %zu, byte %zu\n", isa,
            n_in, mpb_dtype_name(in_dt), mpb_dtype_name(out_dt), n, misalign, j);
        fail();
    }
    free(want);
    free(got);
}

static void test_vector_paths_random(void **state)
{
    (void)state;
    enum { MAX_N = 4097, MAX_IN = 5, SLACK = 8 };
    static unsigned char x[MAX_IN][MAX_N * 4 + SLACK];
    const size_t lengths[] = {0, 1, 7, 8, 15, 16, 17, 1000, 4097};
    const size_t input_counts[] = {1, 2, 3, 5};
    const size_t misaligns[] = {0, 1, 2, 3};
    uint64_t seed = 1234;
    const char *isa;
    for (size_t k = 1; (isa = mpb_kernel_isa_available(k)) != NULL; k++) {
        for (size_t a = 0; a < N_DTS; a++)
            for (size_t b = 0; b < N_DTS; b++)
                for (size_t c = 0; c < sizeof input_counts / sizeof input_counts[0]; c++)
                    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++)
                        for (size_t m = 0; m < sizeof misaligns / sizeof misaligns[0]; m++) {
                            size_t n_in = input_counts[c];
                            const void *in[MAX_IN];
                            for (size_t i = 0; i < n_in; i++) {
                                fill_random(x[i], sizeof x[i], &seed);
                                in[i] = x[i] + (misaligns[m] + i) % SLACK;
                            }
                            float coef[MAX_IN];
                            random_coefs(coef, n_in, &seed);
                            compare_with_scalar(isa, n_in, in, blend_dts[a], coef, blend_dts[b],
                                                lengths[l], misaligns[m]);
                        }
    }
    mpb_kernel_force(NULL);
}

/* Every 16-bit pattern as an input, paired with a permutation of them
 * (multiplying by an odd number is a bijection mod 2^16), under
 * coefficients that interpolate, cancel, scale into subnormals and
 * overflow. */
static void test_vector_paths_all_16bit_patterns(void **state)
{
    (void)state;
    enum { N = 65536 };
    static uint16_t x[N], y[N];
    for (uint32_t h = 0; h < N; h++) {
        x[h] = (uint16_t)h;
        y[h] = (uint16_t)(h * 40503u + 12345u);
    }
    const float coefs[][2] = {{0.55f, 0.45f},    {1.0f, -1.0f}, {0x1p-20f, 3.0f},
                              {-2.5f, 0x1p100f}, {0.0f, 1.0f},  {1.0f, 0.0f}};
    const void *in[2] = {x, y};
    const mpb_dtype in16[] = {MPB_DT_BF16, MPB_DT_F16};
    const char *isa;
    for (size_t k = 1; (isa = mpb_kernel_isa_available(k)) != NULL; k++)
        for (size_t a = 0; a < 2; a++)
            for (size_t b = 0; b < N_DTS; b++)
                for (size_t c = 0; c < sizeof coefs / sizeof coefs[0]; c++) {
                    compare_with_scalar(isa, 2, in, in16[a], coefs[c], blend_dts[b], N, 0);
                    compare_with_scalar(isa, 1, in, in16[a], coefs[c], blend_dts[b], N, 0);
                }
    mpb_kernel_force(NULL);
}

/* Interpolating a tensor with itself gives it back, for every finite bf16
 * and f16 value and every lambda of the paper's grid: with coefficients
 * rounded once from double, c0*x + c1*x lands within a few fp32 units of x,
 * far inside x's own rounding interval. */
static void test_self_interpolation_is_identity(void **state)
{
    (void)state;
    enum { N = 65536 };
    static uint16_t x[N], out[N];
    const double lambdas[] = {0, 0.2, 0.4, 0.45, 0.5, 0.55, 0.6, 0.8, 0.9, 0.95, 1};
    const mpb_dtype in16[] = {MPB_DT_BF16, MPB_DT_F16};
    const void *in[2] = {x, x};
    for (uint32_t h = 0; h < N; h++)
        x[h] = (uint16_t)h;
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++)
        for (size_t a = 0; a < 2; a++)
            for (size_t l = 0; l < sizeof lambdas / sizeof lambdas[0]; l++) {
                const float coef[2] = {(float)(1.0 - lambdas[l]), (float)lambdas[l]};
                mpb_blend_linear(2, in, in16[a], coef, out, in16[a], N);
                for (uint32_t h = 0; h < N; h++)
                    if (isfinite(get(in16[a], x, h)))
                        check_bits(in16[a], out, h, h, isa);
            }
}

/* Calls that break the preconditions write nothing. */
static void test_preconditions(void **state)
{
    (void)state;
    float x[4] = {1, 2, 3, 4}, out[4] = {9, 9, 9, 9};
    const void *in[1] = {x};
    const float coef[1] = {1.0f};
    const char *isa;
    for (size_t k = 0; (isa = use_isa(k)) != NULL; k++) {
        mpb_blend_linear(0, in, MPB_DT_F32, coef, out, MPB_DT_F32, 4);
        mpb_blend_linear(1, in, MPB_DT_I32, coef, out, MPB_DT_F32, 4);
        mpb_blend_linear(1, in, MPB_DT_F32, coef, out, MPB_DT_F64, 4);
        for (size_t j = 0; j < 4; j++)
            check_value(MPB_DT_F32, out, j, 9.0f, isa);
    }
}

static int restore_dispatch(void **state)
{
    (void)state;
    mpb_kernel_force(NULL);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_isa_selection, restore_dispatch),
        cmocka_unit_test_teardown(test_interpolation_exact, restore_dispatch),
        cmocka_unit_test_teardown(test_signed_zero, restore_dispatch),
        cmocka_unit_test_teardown(test_output_rounding, restore_dispatch),
        cmocka_unit_test_teardown(test_accumulation_order, restore_dispatch),
        cmocka_unit_test_teardown(test_no_fused_multiply_add, restore_dispatch),
        cmocka_unit_test_teardown(test_nan_inf_subnormal, restore_dispatch),
        cmocka_unit_test_teardown(test_matches_elementwise_contract, restore_dispatch),
        cmocka_unit_test_teardown(test_in_place, restore_dispatch),
        cmocka_unit_test_teardown(test_vector_paths_random, restore_dispatch),
        cmocka_unit_test_teardown(test_vector_paths_all_16bit_patterns, restore_dispatch),
        cmocka_unit_test_teardown(test_self_interpolation_is_identity, restore_dispatch),
        cmocka_unit_test_teardown(test_preconditions, restore_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
