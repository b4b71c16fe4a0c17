/* The linear blend kernel: out[j] = sum over i of coef[i] * in[i][j].
 *
 * Arithmetic contract (docs/ARITHMETIC.md), bitwise the same on every CPU:
 *   acc = coef[0] * x0[j];  then for i = 1 .. n_in-1: acc = acc + coef[i] * xi[j]
 * where every xi[j] is decoded exactly to fp32, every multiply and every add
 * is one separately rounded fp32 operation (round to nearest even, no fused
 * multiply-add, no reordering), and acc is rounded to nearest even into the
 * output dtype.  A NaN result is written as the canonical quiet NaN of the
 * output dtype (bf16 0x7fc0, f16 0x7e00, f32 0x7fc00000), because CPUs
 * disagree on which NaN payload and sign an operation returns.
 *
 * Several implementations exist (portable C, AVX2 with F16C); the fastest one
 * the CPU supports is picked at run time, and all give identical bits. */
#ifndef MPB_KERNEL_H
#define MPB_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "mpb_dtype.h"

/* Preconditions (the caller validates; a call that breaks them writes
 * nothing): n_in >= 1; in_dt and out_dt are F16, BF16 or F32; every in[i]
 * holds n elements of in_dt and out has room for n elements of out_dt.
 * Pointers need no particular alignment.
 *
 * In-place blending: out may be the same pointer as any in[i] when
 * in_dt == out_dt, since every element is read before it is written.  Any
 * other overlap between out and an input is undefined. */
void mpb_blend_linear(size_t n_in, const void *const in[], mpb_dtype in_dt, const float coef[],
                      void *out, mpb_dtype out_dt, size_t n);

/* The same contract with each column's own coefficients (column-wise
 * nuslerp): n_rows rows of row_len elements, element j of every row
 * blended with coef[j * n_in .. j * n_in + n_in).  Portable C only. */
void mpb_blend_linear_columns(size_t n_in, const void *const in[], mpb_dtype in_dt,
                              const float coef[], void *out, mpb_dtype out_dt, size_t row_len,
                              size_t n_rows);

/* Name of the implementation mpb_blend_linear uses now: "scalar" or
 * "avx2". */
const char *mpb_kernel_isa(void);

/* The i-th implementation usable on this CPU, "scalar" first and the one
 * picked automatically last; NULL when i is past the end. */
const char *mpb_kernel_isa_available(size_t i);

/* Pins mpb_blend_linear to the named implementation, or returns to the
 * automatic choice when isa is NULL.  Returns false, changing nothing, when
 * the name is unknown or not usable on this CPU.  For tests and benchmarks;
 * not meant to be changed while another thread blends. */
bool mpb_kernel_force(const char *isa);

/* mpb_kernel_force("scalar") when on, mpb_kernel_force(NULL) when off. */
void mpb_kernel_force_scalar(bool on);

/* The implementations behind mpb_blend_linear, one per file
 * (mpb_kernel_<isa>.c), same contract and preconditions.  Only the scalar
 * one may be called directly; the others need CPU features that
 * mpb_kernel.c checks first. */
typedef void mpb_blend_linear_fn(size_t n_in, const void *const in[], mpb_dtype in_dt,
                                 const float coef[], void *out, mpb_dtype out_dt, size_t n);
mpb_blend_linear_fn mpb_blend_linear_scalar;
#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS)
mpb_blend_linear_fn mpb_blend_linear_avx2;
#endif

#endif
