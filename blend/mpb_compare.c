#include "mpb_compare.h"

#include "mpb_convert.h"

#include <math.h>
#include <string.h>

static uint64_t load(const unsigned char *p, size_t size)
{
    uint64_t v = 0;
    memcpy(&v, p, size); /* little-endian host (mpb_convert.c checks) */
    return v;
}

/* OCP FP8 E4M3 ("fn"): bias 7, 3 mantissa bits, no infinity, NaN 0x7f/0xff. */
static double e4m3_value(uint64_t b)
{
    double sign = (b & 0x80) ? -1.0 : 1.0;
    int exp = (int)((b >> 3) & 0xf), man = (int)(b & 7);
    if (exp == 15 && man == 7)
        return NAN;
    if (exp == 0)
        return sign * ldexp(man, -9);
    return sign * ldexp(8 + man, exp - 10);
}

static double float_value(mpb_dtype dt, uint64_t b)
{
    switch (dt) {
    case MPB_DT_F16: return mpb_f16_to_f32((uint16_t)b);
    case MPB_DT_BF16: return mpb_bf16_to_f32((uint16_t)b);
    case MPB_DT_F8_E5M2: return mpb_f16_to_f32((uint16_t)(b << 8)); /* E5M2 = top of f16 */
    case MPB_DT_F8_E4M3: return e4m3_value(b);
    case MPB_DT_F32: {
        uint32_t u = (uint32_t)b;
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    default: {
        double d;
        memcpy(&d, &b, sizeof d);
        return d;
    }
    }
}

static bool is_float(mpb_dtype dt)
{
    return dt == MPB_DT_F16 || dt == MPB_DT_BF16 || dt == MPB_DT_F32 || dt == MPB_DT_F64 ||
           dt == MPB_DT_F8_E4M3 || dt == MPB_DT_F8_E5M2;
}

static bool is_signed_int(mpb_dtype dt)
{
    return dt == MPB_DT_I8 || dt == MPB_DT_I16 || dt == MPB_DT_I32 || dt == MPB_DT_I64;
}

/* Sign-magnitude bits to a signed ordinal: adjacent floats differ by 1, and
 * +0 and -0 are both 0. */
static int64_t ordinal(uint64_t b, size_t size)
{
    uint64_t sign = 1ull << (8 * size - 1);
    int64_t mag = (int64_t)(b & (sign - 1));
    return (b & sign) ? -mag : mag;
}

static uint64_t distance(int64_t x, int64_t y)
{
    return x > y ? (uint64_t)x - (uint64_t)y : (uint64_t)y - (uint64_t)x;
}

static int64_t sign_extend(uint64_t b, size_t size)
{
    if (size == 8)
        return (int64_t)b;
    uint64_t sign = 1ull << (8 * size - 1);
    return (int64_t)((b ^ sign) - sign);
}

static void add_float(mpb_dtype dt, uint64_t x, uint64_t y, size_t size, mpb_compare_stats *s)
{
    double a = float_value(dt, x), b = float_value(dt, y);
    if (isnan(a) || isnan(b)) {
        s->nan_mismatch += isnan(a) != isnan(b);
        return;
    }
    double d = a == b ? 0.0 : fabs(a - b); /* a == b also for equal infinities */
    if (isinf(a) || isinf(b))
        d = a == b ? 0.0 : INFINITY;
    if (d > s->max_abs)
        s->max_abs = d;
    uint64_t ulp = distance(ordinal(x, size), ordinal(y, size));
    if (ulp > s->max_ulp)
        s->max_ulp = ulp;
}

static void add_integer(mpb_dtype dt, uint64_t x, uint64_t y, size_t size, mpb_compare_stats *s)
{
    uint64_t ulp;
    if (is_signed_int(dt))
        ulp = distance(sign_extend(x, size), sign_extend(y, size));
    else
        ulp = x > y ? x - y : y - x;
    if (ulp > s->max_ulp)
        s->max_ulp = ulp;
    if ((double)ulp > s->max_abs)
        s->max_abs = (double)ulp;
}

void mpb_compare_add(mpb_dtype dt, const void *a, const void *b, size_t n, mpb_compare_stats *s)
{
    size_t size = mpb_dtype_size(dt);
    if (size == 0)
        return;
    const unsigned char *pa = a, *pb = b;
    bool fp = is_float(dt);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = load(pa + i * size, size), y = load(pb + i * size, size);
        if (x == y)
            continue;
        s->differ++;
        if (fp)
            add_float(dt, x, y, size, s);
        else
            add_integer(dt, x, y, size, s);
    }
}

void mpb_compare_merge(mpb_compare_stats *into, const mpb_compare_stats *from)
{
    into->differ += from->differ;
    into->nan_mismatch += from->nan_mismatch;
    if (from->max_abs > into->max_abs)
        into->max_abs = from->max_abs;
    if (from->max_ulp > into->max_ulp)
        into->max_ulp = from->max_ulp;
}

bool mpb_compare_within(const mpb_compare_stats *s, double tolerance)
{
    return s->nan_mismatch == 0 && s->max_abs <= tolerance;
}
