/* DARE's keep masks with AVX2, 8 elements per step.
 *
 * Same bits as mpb_random_keep_mask_scalar: the same 64-bit counters and
 * the same integer mixing, four 64-bit lanes per register (AVX2 has no
 * 64-bit multiply: each is built from three 32 x 32 -> 64-bit ones).  Only
 * the high 24 bits of mpb_mix64 are compared, and its last step
 * z ^ (z >> 31) leaves bits 33..63 of z as they are, so it is skipped. */
#include "mpb_random.h"

#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS)

#include "mpb_random_mix.h"

#include <immintrin.h>

#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))

enum { LANES = 8 };

/* z * c modulo 2^64 per lane; c_lo and c_hi hold c's low and high 32 bits:
 * lo(z) lo(c) + ((hi(z) lo(c) + lo(z) hi(c)) << 32). */
AVX2_INLINE __m256i mul64(__m256i z, __m256i c_lo, __m256i c_hi)
{
    __m256i low = _mm256_mul_epu32(z, c_lo);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(z, 32), c_lo),
                                     _mm256_mul_epu32(z, c_hi));
    return _mm256_add_epi64(low, _mm256_slli_epi64(cross, 32));
}

/* mpb_mix64 without its last step (see above). */
AVX2_INLINE __m256i mix_high(__m256i z)
{
    const __m256i m1_lo = _mm256_set1_epi64x((long long)(MPB_MIX_MUL1 & 0xffffffffu));
    const __m256i m1_hi = _mm256_set1_epi64x((long long)(MPB_MIX_MUL1 >> 32));
    const __m256i m2_lo = _mm256_set1_epi64x((long long)(MPB_MIX_MUL2 & 0xffffffffu));
    const __m256i m2_hi = _mm256_set1_epi64x((long long)(MPB_MIX_MUL2 >> 32));
    z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), m1_lo, m1_hi);
    return mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), m2_lo, m2_hi);
}

__attribute__((target("avx2"))) void mpb_random_keep_mask_avx2(uint64_t key, uint64_t first,
                                                               uint64_t threshold,
                                                               uint32_t *mask, size_t n)
{
    const uint64_t g = MPB_RANDOM_GOLDEN, c0 = key + g * (first + 1);
    /* Lanes hold elements {0, 1, 4, 5} and {2, 3, 6, 7} of each step, so
     * that one shuffle of their high halves puts 0..7 in order. */
    __m256i a = _mm256_set_epi64x((long long)(c0 + 5 * g), (long long)(c0 + 4 * g),
                                  (long long)(c0 + g), (long long)c0);
    __m256i b = _mm256_set_epi64x((long long)(c0 + 7 * g), (long long)(c0 + 6 * g),
                                  (long long)(c0 + 3 * g), (long long)(c0 + 2 * g));
    const __m256i step = _mm256_set1_epi64x((long long)(LANES * g));
    /* bits >> 40 < threshold  <=>  (high 32 bits >> 8) < threshold; both
     * sides below 2^31 (threshold <= 2^24), so a signed compare does. */
    const __m256i limit = _mm256_set1_epi32((int)threshold);
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) {
        __m256 ha = _mm256_castsi256_ps(mix_high(a)), hb = _mm256_castsi256_ps(mix_high(b));
        __m256i high = _mm256_castps_si256(_mm256_shuffle_ps(ha, hb, _MM_SHUFFLE(3, 1, 3, 1)));
        __m256i keep = _mm256_cmpgt_epi32(limit, _mm256_srli_epi32(high, 8));
        _mm256_storeu_si256((__m256i *)(mask + j), keep);
        a = _mm256_add_epi64(a, step);
        b = _mm256_add_epi64(b, step);
    }
    if (j < n)
        mpb_random_keep_mask_scalar(key, first + j, threshold, mask + j, n - j);
}

#endif
