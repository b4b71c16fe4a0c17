#include "mpb_random.h"

#include <math.h>

/* splitmix64's finaliser: a bijection with full avalanche. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t mpb_random_key(uint64_t seed, uint64_t stream, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the name */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return mix64(mix64(seed ^ 0x9e3779b97f4a7c15ull) ^ mix64(stream + 1) ^ h);
}

uint64_t mpb_random_bits(uint64_t key, uint64_t index)
{
    return mix64(key + 0x9e3779b97f4a7c15ull * (index + 1));
}

float mpb_random_uniform(uint64_t key, uint64_t index)
{
    return (float)(mpb_random_bits(key, index) >> 40) * 0x1p-24f;
}

void mpb_random_fill_normal(uint64_t key, uint64_t first, float sigma, float *out,
                            size_t n)
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
