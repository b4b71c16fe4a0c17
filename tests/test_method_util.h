/* Small helpers shared by the merge-method tests. */
#ifndef TEST_METHOD_UTIL_H
#define TEST_METHOD_UTIL_H

#include "mpb_method.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* splitmix64: reproducible test data. */
static inline uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Rank in the order |d| descending, index ascending, by brute force. */
static inline void magnitude_ranks(const float *d, size_t n, size_t *rank)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bi = mpb_abs_bits(d[i]);
        size_t r = 0;
        for (size_t j = 0; j < n; j++) {
            uint32_t bj = mpb_abs_bits(d[j]);
            r += bj > bi || (bj == bi && j < i);
        }
        rank[i] = r;
    }
}

#endif
