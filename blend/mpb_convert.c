#include "mpb_convert.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mpiblend reads checkpoint bytes in place and needs a little-endian host"
#endif

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Rounds u >> shift to nearest, ties to even, without branches (the
 * outcome is data-dependent, so a branch would be mispredicted half the
 * time).  Adding just under half a unit, plus one when the kept part is odd,
 * carries into the kept part exactly when rounding goes up. */
static uint32_t shift_round_even(uint32_t u, unsigned shift)
{
    uint32_t odd = (u >> shift) & 1u;
    return (u + ((1u << (shift - 1)) - 1u) + odd) >> shift;
}

float mpb_bf16_to_f32(uint16_t h)
{
    return f32_from_bits((uint32_t)h << 16);
}

uint16_t mpb_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x0040u);
    /* bf16 shares fp32's exponent, so rounding the low 16 bits of the
     * pattern rounds the value: a carry moves into the exponent exactly when
     * it should, up to the infinity pattern on overflow. */
    return (uint16_t)shift_round_even(u, 16);
}

float mpb_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7fffu; /* exponent and mantissa */
    uint32_t bits;
    if (em >= 0x7c00u)
        bits = 0x7f800000u | (em << 13); /* inf, or NaN with its payload */
    else if (em >= 0x0400u)
        bits = (em << 13) + (112u << 23); /* normal: rebias 15 -> 127 */
    else
        bits = f32_bits((float)em * 0x1p-24f); /* subnormal or zero: exact */
    return f32_from_bits(sign | bits);
}

uint16_t mpb_f32_to_f16(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u)
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x38800000u) {
        /* Normal f16 range (>= 2^-14): rebias the exponent and round the low
         * 13 bits; a carry runs into the exponent, up to infinity. */
        uint32_t r = shift_round_even(a - (112u << 23), 13);
        return (uint16_t)(sign | (r < 0x7c00u ? r : 0x7c00u));
    }
    /* f16 subnormal: the result counts multiples of 2^-24.  The value is
     * (2^23 + man) * 2^(exp-150), so the count is that integer shifted right
     * by 126 - exp bits. */
    uint32_t exp = a >> 23;
    unsigned shift = 126u - exp;
    if (exp == 0 || shift > 24)
        return sign; /* below half the smallest subnormal */
    return (uint16_t)(sign | shift_round_even((a & 0x7fffffu) | 0x800000u, shift));
}

static uint16_t load_u16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void store_u16(unsigned char *p, uint16_t v)
{
    memcpy(p, &v, sizeof v);
}

void mpb_convert_to_f32(mpb_dtype src_dt, const void *src, float *dst, size_t n)
{
    const unsigned char *s = src;
    switch (src_dt) {
    case MPB_DT_BF16:
        for (size_t j = 0; j < n; j++)
            dst[j] = mpb_bf16_to_f32(load_u16(s + 2 * j));
        break;
    case MPB_DT_F16:
        for (size_t j = 0; j < n; j++)
            dst[j] = mpb_f16_to_f32(load_u16(s + 2 * j));
        break;
    case MPB_DT_F32: memmove(dst, src, n * sizeof *dst); break;
    default: break;
    }
}

void mpb_convert_from_f32(mpb_dtype dst_dt, const float *src, void *dst, size_t n)
{
    unsigned char *d = dst;
    switch (dst_dt) {
    case MPB_DT_BF16:
        for (size_t j = 0; j < n; j++)
            store_u16(d + 2 * j, mpb_f32_to_bf16(src[j]));
        break;
    case MPB_DT_F16:
        for (size_t j = 0; j < n; j++)
            store_u16(d + 2 * j, mpb_f32_to_f16(src[j]));
        break;
    case MPB_DT_F32: memmove(dst, src, n * sizeof *src); break;
    default: break;
    }
}
