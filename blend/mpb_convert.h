/* Exact conversions between fp32 and the 16-bit float formats.
 *
 * Data in memory is raw little-endian bits (uint16_t for bf16 and f16).  The
 * conversions are written with integer operations only, so they give the same
 * bits on every CPU and never depend on the compiler's _Float16 or __bf16.
 *
 * Widening (to fp32) is exact for every input, NaN payloads included.
 * Narrowing (from fp32) rounds to nearest, ties to even; values beyond the
 * largest finite number round to +-inf as IEEE 754 rounding says; subnormal
 * results are exact; a NaN stays a NaN with its sign, the quiet bit set and
 * the top payload bits that fit. */
#ifndef MPB_CONVERT_H
#define MPB_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "mpb_dtype.h"

float mpb_bf16_to_f32(uint16_t h);
uint16_t mpb_f32_to_bf16(float f);

float mpb_f16_to_f32(uint16_t h);
uint16_t mpb_f32_to_f16(float f);

/* Widens n elements of src_dt (F16, BF16 or F32) into dst.  src needs no
 * particular alignment; for F32, src and dst may be the same buffer. */
void mpb_convert_to_f32(mpb_dtype src_dt, const void *src, float *dst, size_t n);

/* Narrows n fp32 values into dst_dt (F16, BF16 or F32).  dst needs no
 * particular alignment. */
void mpb_convert_from_f32(mpb_dtype dst_dt, const float *src, void *dst, size_t n);

#endif
