#include "mpb_random.h"

#include "mpb_kernel.h"
#include "mpb_random_mix.h"

#include <math.h>
#include <string.h>

uint64_t mpb_random_key(uint64_t seed, uint64_t stream, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the name */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return mpb_mix64(mpb_mix64(seed ^ MPB_RANDOM_GOLDEN) ^ mpb_mix64(stream + 1) ^ h);
}

uint64_t mpb_random_bits(uint64_t key, uint64_t index)
{
    return mpb_mix64(key + MPB_RANDOM_GOLDEN * (index + 1));
}

float mpb_random_uniform(uint64_t key, uint64_t index)
{
    return (float)(mpb_random_bits(key, index) >> 40) * 0x1p-24f;
}

void mpb_random_keep_mask_scalar(uint64_t key, uint64_t first, uint64_t threshold,
                                 uint32_t *mask, size_t n)
{
    /* The counters of mpb_random_bits, stepped instead of multiplied:
     * the same values modulo 2^64. */
    uint64_t counter = key + MPB_RANDOM_GOLDEN * (first + 1);
    for (size_t j = 0; j < n; j++, counter += MPB_RANDOM_GOLDEN)
        mask[j] = 0u - (uint32_t)((mpb_mix64(counter) >> 40) < threshold);
}

void mpb_random_keep_mask(uint64_t key, uint64_t first, uint64_t threshold, uint32_t *mask,
                          size_t n)
{
#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS)
    /* The blend kernel's choice: its CPU check, and mpb_kernel_force. */
    if (strcmp(mpb_kernel_isa(), "avx2") == 0) {
        mpb_random_keep_mask_avx2(key, first, threshold, mask, n);
        return;
    }
#endif
    mpb_random_keep_mask_scalar(key, first, threshold, mask, n);
}

void mpb_random_fill_normal(uint64_t key, uint64_t first, float sigma, float *out, size_t n)
{
    /* Four uniforms on {0..65535}: mean 2 * 65535, variance 4 (65536^2 - 1) / 12. */
    const double sd = sqrt(4.0 * (65536.0 * 65536.0 - 1.0) / 12.0);
    const float scale = (float)(sigma / sd);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = mpb_random_bits(key, first + i);
        int32_t sum = (int32_t)(r & 0xffff) + (int32_t)((r >> 16) & 0xffff) +
                      (int32_t)((r >> 32) & 0xffff) + (int32_t)(r >> 48);
        out[i] = (float)(sum - 2 * 65535) * scale;
    }
}
