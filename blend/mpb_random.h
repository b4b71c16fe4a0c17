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

/* DARE's keep masks for a block: mask[j] = UINT32_MAX when
 * (mpb_random_bits(key, first + j) >> 40) < threshold, else 0, for j < n.
 * threshold is at most 2^24 (mpb_keep_threshold in mpb_method.h); 2^24
 * keeps everything.  The counter is the index, so a block gives the masks
 * of its elements whatever the blocks around it.  Uses AVX2 when the blend
 * kernel does (mpb_kernel_isa() is "avx2"), so mpb_kernel_force picks here
 * too; every path gives the bits of the per-element formula. */
void mpb_random_keep_mask(uint64_t key, uint64_t first, uint64_t threshold, uint32_t *mask,
                          size_t n);

/* The implementations behind mpb_random_keep_mask, same contract.  Only the
 * scalar one may be called directly; the AVX2 one needs the CPU check that
 * mpb_kernel.c does. */
void mpb_random_keep_mask_scalar(uint64_t key, uint64_t first, uint64_t threshold,
                                 uint32_t *mask, size_t n);
#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS)
void mpb_random_keep_mask_avx2(uint64_t key, uint64_t first, uint64_t threshold, uint32_t *mask,
                               size_t n);
#endif

/* n bell-shaped values with mean 0 and standard deviation sigma for indices
 * first .. first+n-1: the sum of four 16-bit uniforms (Irwin-Hall), scaled. */
void mpb_random_fill_normal(uint64_t key, uint64_t first, float sigma, float *out, size_t n);

#endif
