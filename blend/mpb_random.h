/* Counter-based random numbers: a value depends only on (key, index), never
 * on which rank computes it or how the tensor was sliced.  Integer
 * arithmetic and one fp32 multiply: the same bits on every CPU. */
#ifndef MPB_RANDOM_H
#define MPB_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* A stream key from a seed, a small integer (model index) and a name. */
uint64_t mpb_random_key(uint64_t seed, uint64_t stream, const char *name);

/* 64 well-mixed bits for element `index` of the stream. */
uint64_t mpb_random_bits(uint64_t key, uint64_t index);

/* Uniform on [0, 1) with 24 random bits, exactly representable in fp32. */
float mpb_random_uniform(uint64_t key, uint64_t index);

/* n bell-shaped values with mean 0 and standard deviation sigma for indices
 * first .. first+n-1: the sum of four 16-bit uniforms (Irwin-Hall), scaled. */
void mpb_random_fill_normal(uint64_t key, uint64_t first, float sigma, float *out,
                            size_t n);

#endif
