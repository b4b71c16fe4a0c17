/* The mixing function behind mpb_random.h, shared by its scalar and vector
 * implementations (blend/mpb_random*.c); not part of the public interface. */
#ifndef MPB_RANDOM_MIX_H
#define MPB_RANDOM_MIX_H

#include <stdint.h>

/* 2^64 divided by the golden ratio, odd.  Element `index` of a stream is
 * mpb_mix64(key + MPB_RANDOM_GOLDEN * (index + 1)): consecutive counters
 * differ by this constant. */
#define MPB_RANDOM_GOLDEN 0x9e3779b97f4a7c15ull
#define MPB_MIX_MUL1 0xbf58476d1ce4e5b9ull
#define MPB_MIX_MUL2 0x94d049bb133111ebull

/* splitmix64's finaliser: a bijection with full avalanche. */
static inline uint64_t mpb_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * MPB_MIX_MUL1;
    z = (z ^ (z >> 27)) * MPB_MIX_MUL2;
    return z ^ (z >> 31);
}

#endif
