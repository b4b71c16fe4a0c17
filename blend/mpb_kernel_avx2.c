/* The blend kernel with AVX2 and F16C, 8 elements per step.
 *
 * Same bits as mpb_kernel_scalar.c: the vector multiplies and adds are the
 * same IEEE fp32 operations in the same order, decoding is exact, bf16
 * rounding uses the same integer trick, and F16C's conversion with an
 * immediate round-to-nearest-even mode is the exact IEEE narrowing. */
#include "mpb_kernel.h"

#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS)

#include <immintrin.h>
#include <string.h>

#define AVX2_FN __attribute__((target("avx2,f16c")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,f16c")))

enum { LANES = 8 };

/* Inline so that constant dtypes fold into constant strides. */
AVX2_INLINE size_t elem_size(mpb_dtype dt)
{
    return dt == MPB_DT_F32 ? 4 : 2;
}

AVX2_INLINE __m256 load_f32x8(mpb_dtype dt, const unsigned char *p)
{
    switch (dt) {
    case MPB_DT_BF16: {
        __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
        return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
    case MPB_DT_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    default: return _mm256_loadu_ps((const float *)p);
    }
}

/* Replaces NaN by the canonical quiet NaN, whose rounding is exact. */
AVX2_INLINE __m256 canonical_nan(__m256 v)
{
    __m256 is_nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    return _mm256_blendv_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000)), is_nan);
}

/* bf16 rounding of non-NaN lanes (mpb_f32_to_bf16): the result is the high
 * 16 bits of each 32-bit lane; the low 16 bits are left over. */
AVX2_INLINE __m256i round_bf16_high(__m256 v)
{
    __m256i u = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    return _mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
}

AVX2_INLINE void store_f32x8(mpb_dtype dt, unsigned char *p, __m256 v)
{
    v = canonical_nan(v);
    switch (dt) {
    case MPB_DT_BF16: {
        __m256i u = _mm256_srli_epi32(round_bf16_high(v), 16);
        __m128i packed =
            _mm_packus_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
        _mm_storeu_si128((__m128i *)p, packed);
        break;
    }
    case MPB_DT_F16:
        _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
        break;
    default: _mm256_storeu_ps((float *)p, v); break;
    }
}

/* The inputs of one blend with the first two hoisted out of memory: the
 * compiler cannot keep them in registers itself, since out might alias
 * in[] or coef[] as far as it knows. */
struct blend_args {
    size_t n_in;
    const void *const *in;
    const float *coef;
    const unsigned char *x0, *x1;
    __m256 c0, c1;
};

AVX2_INLINE __m256 blend_lanes(const struct blend_args *a, mpb_dtype in_dt, size_t j)
{
    size_t isz = elem_size(in_dt);
    __m256 acc = _mm256_mul_ps(a->c0, load_f32x8(in_dt, a->x0 + j * isz));
    if (a->n_in > 1)
        acc = _mm256_add_ps(acc, _mm256_mul_ps(a->c1, load_f32x8(in_dt, a->x1 + j * isz)));
    for (size_t i = 2; i < a->n_in; i++) {
        __m256 x = load_f32x8(in_dt, (const unsigned char *)a->in[i] + j * isz);
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(a->coef[i]), x));
    }
    return acc;
}

/* The last n - j < LANES elements, through zero-padded stack copies. */
AVX2_INLINE void blend_tail(size_t n_in, const void *const in[], mpb_dtype in_dt,
                            const float coef[], void *out, mpb_dtype out_dt, size_t j, size_t n)
{
    size_t isz = elem_size(in_dt), osz = elem_size(out_dt);
    unsigned char buf[LANES * sizeof(float)] = {0};
    memcpy(buf, (const unsigned char *)in[0] + j * isz, (n - j) * isz);
    __m256 acc = _mm256_mul_ps(_mm256_set1_ps(coef[0]), load_f32x8(in_dt, buf));
    for (size_t i = 1; i < n_in; i++) {
        memcpy(buf, (const unsigned char *)in[i] + j * isz, (n - j) * isz);
        acc =
            _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(coef[i]), load_f32x8(in_dt, buf)));
    }
    store_f32x8(out_dt, buf, acc);
    memcpy((unsigned char *)out + j * osz, buf, (n - j) * osz);
}

/* bf16 to bf16, 16 elements per step without shuffles: in one 256-bit
 * load the even elements shifted up and the odd ones masked in place are two
 * fp32 vectors, and the rounded results blend back the same way. */
AVX2_INLINE void load_bf16x16(const unsigned char *p, __m256 *even, __m256 *odd)
{
    __m256i x = _mm256_loadu_si256((const __m256i *)p);
    *even = _mm256_castsi256_ps(_mm256_slli_epi32(x, 16));
    *odd = _mm256_castsi256_ps(_mm256_and_si256(x, _mm256_set1_epi32((int)0xffff0000u)));
}

AVX2_INLINE size_t blend_bf16_pairs(const struct blend_args *a, unsigned char *out, size_t n)
{
    size_t j = 0;
    for (; j + 2 * LANES <= n; j += 2 * LANES) {
        __m256 even, odd;
        load_bf16x16(a->x0 + 2 * j, &even, &odd);
        __m256 acc_even = _mm256_mul_ps(a->c0, even), acc_odd = _mm256_mul_ps(a->c0, odd);
        for (size_t i = 1; i < a->n_in; i++) {
            const unsigned char *x = i == 1 ? a->x1 : (const unsigned char *)a->in[i];
            __m256 c = i == 1 ? a->c1 : _mm256_set1_ps(a->coef[i]);
            load_bf16x16(x + 2 * j, &even, &odd);
            acc_even = _mm256_add_ps(acc_even, _mm256_mul_ps(c, even));
            acc_odd = _mm256_add_ps(acc_odd, _mm256_mul_ps(c, odd));
        }
        __m256i lo = _mm256_srli_epi32(round_bf16_high(canonical_nan(acc_even)), 16);
        __m256i hi = round_bf16_high(canonical_nan(acc_odd));
        _mm256_storeu_si256((__m256i *)(out + 2 * j), _mm256_blend_epi16(lo, hi, 0xaa));
    }
    return j;
}

AVX2_INLINE void blend_all(size_t n_in, const void *const in[], mpb_dtype in_dt,
                           const float coef[], void *out, mpb_dtype out_dt, size_t n)
{
    struct blend_args a = {
        .n_in = n_in,
        .in = in,
        .coef = coef,
        .x0 = in[0],
        .x1 = n_in > 1 ? in[1] : NULL,
        .c0 = _mm256_set1_ps(coef[0]),
        .c1 = _mm256_set1_ps(n_in > 1 ? coef[1] : 0.0f),
    };
    unsigned char *o = out;
    size_t osz = elem_size(out_dt), j = 0;
    if (in_dt == MPB_DT_BF16 && out_dt == MPB_DT_BF16)
        j = blend_bf16_pairs(&a, o, n);
    /* Two independent steps per iteration keep more loads in flight. */
    for (; j + 2 * LANES <= n; j += 2 * LANES) {
        __m256 lo = blend_lanes(&a, in_dt, j), hi = blend_lanes(&a, in_dt, j + LANES);
        store_f32x8(out_dt, o + j * osz, lo);
        store_f32x8(out_dt, o + (j + LANES) * osz, hi);
    }
    for (; j + LANES <= n; j += LANES)
        store_f32x8(out_dt, o + j * osz, blend_lanes(&a, in_dt, j));
    if (j < n)
        blend_tail(n_in, in, in_dt, coef, out, out_dt, j, n);
}

/* Instantiates blend_all with constant dtypes (and a constant input count
 * for the common two-model case) so each loop compiles without branches. */
AVX2_INLINE void blend_out(size_t n_in, const void *const in[], mpb_dtype in_dt,
                           const float coef[], void *out, mpb_dtype out_dt, size_t n)
{
    switch (out_dt) {
    case MPB_DT_BF16:
        if (n_in == 2)
            blend_all(2, in, in_dt, coef, out, MPB_DT_BF16, n);
        else
            blend_all(n_in, in, in_dt, coef, out, MPB_DT_BF16, n);
        break;
    case MPB_DT_F16:
        if (n_in == 2)
            blend_all(2, in, in_dt, coef, out, MPB_DT_F16, n);
        else
            blend_all(n_in, in, in_dt, coef, out, MPB_DT_F16, n);
        break;
    default:
        if (n_in == 2)
            blend_all(2, in, in_dt, coef, out, MPB_DT_F32, n);
        else
            blend_all(n_in, in, in_dt, coef, out, MPB_DT_F32, n);
        break;
    }
}

AVX2_FN void mpb_blend_linear_avx2(size_t n_in, const void *const in[], mpb_dtype in_dt,
                                   const float coef[], void *out, mpb_dtype out_dt, size_t n)
{
    switch (in_dt) {
    case MPB_DT_BF16: blend_out(n_in, in, MPB_DT_BF16, coef, out, out_dt, n); break;
    case MPB_DT_F16: blend_out(n_in, in, MPB_DT_F16, coef, out, out_dt, n); break;
    default: blend_out(n_in, in, MPB_DT_F32, coef, out, out_dt, n); break;
    }
}

#endif
