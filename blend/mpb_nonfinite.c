#include "mpb_nonfinite.h"

#include <string.h>

bool mpb_nonfinite_parse(const char *name, mpb_nonfinite_mode *mode)
{
    if (strcmp(name, "propagate") == 0)
        *mode = MPB_NONFINITE_PROPAGATE;
    else if (strcmp(name, "error") == 0)
        *mode = MPB_NONFINITE_ERROR;
    else
        return false;
    return true;
}

const char *mpb_nonfinite_name(mpb_nonfinite_mode mode)
{
    return mode == MPB_NONFINITE_ERROR ? "error" : "propagate";
}

/* An element's bits widened to 64, and the exponent mask that marks it
 * non-finite when all set (E4M3: exponent and mantissa all set).  The sign
 * is the top bit of the element's width. */
struct layout {
    size_t size;
    uint64_t mask;
};

static bool layout_of(mpb_dtype dt, struct layout *l)
{
    switch (dt) {
    case MPB_DT_F8_E4M3: *l = (struct layout){1, 0x7f}; return true;
    case MPB_DT_F8_E5M2: *l = (struct layout){1, 0x7c}; return true;
    case MPB_DT_F16: *l = (struct layout){2, 0x7c00}; return true;
    case MPB_DT_BF16: *l = (struct layout){2, 0x7f80}; return true;
    case MPB_DT_F32: *l = (struct layout){4, 0x7f800000}; return true;
    case MPB_DT_F64: *l = (struct layout){8, 0x7ff0000000000000ull}; return true;
    default: return false;
    }
}

static uint64_t bits_at(const unsigned char *p, size_t size)
{
    uint64_t v = 0;
    memcpy(&v, p, size); /* little-endian host (mpb_convert.c checks) */
    return v;
}

/* Typed loops, so that the compiler can vectorise the common cases. */
#define COUNT_LOOP(T, MASK)                                                              \
    do {                                                                                 \
        for (size_t i = 0; i < n; i++) {                                                 \
            T v;                                                                         \
            memcpy(&v, p + i * sizeof v, sizeof v);                                      \
            count += (v & (T)(MASK)) == (T)(MASK);                                       \
        }                                                                                \
    } while (0)

uint64_t mpb_nonfinite_count(mpb_dtype dt, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    uint64_t count = 0;
    switch (dt) {
    case MPB_DT_F16: COUNT_LOOP(uint16_t, 0x7c00); break;
    case MPB_DT_BF16: COUNT_LOOP(uint16_t, 0x7f80); break;
    case MPB_DT_F32: COUNT_LOOP(uint32_t, 0x7f800000u); break;
    case MPB_DT_F64: COUNT_LOOP(uint64_t, 0x7ff0000000000000ull); break;
    case MPB_DT_F8_E4M3: COUNT_LOOP(uint8_t, 0x7f); break;
    case MPB_DT_F8_E5M2: COUNT_LOOP(uint8_t, 0x7c); break;
    default: break;
    }
    return count;
}

size_t mpb_nonfinite_find(mpb_dtype dt, const void *buf, size_t n)
{
    struct layout l;
    if (!layout_of(dt, &l))
        return n;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++)
        if ((bits_at(p + i * l.size, l.size) & l.mask) == l.mask)
            return i;
    return n;
}

const char *mpb_nonfinite_kind(mpb_dtype dt, const void *buf, size_t i)
{
    struct layout l;
    if (!layout_of(dt, &l))
        return "finite";
    uint64_t v = bits_at((const unsigned char *)buf + i * l.size, l.size);
    if ((v & l.mask) != l.mask)
        return "finite";
    uint64_t sign = 1ull << (8 * l.size - 1);
    /* E4M3 has no infinity; elsewhere a zero mantissa is one. */
    bool nan = dt == MPB_DT_F8_E4M3 || (v & ~(sign | l.mask)) != 0;
    if (nan)
        return "NaN";
    return (v & sign) ? "-inf" : "+inf";
}

int mpb_nonfinite_check(mpb_nonfinite_mode mode, mpb_dtype dt, const void *buf, size_t n,
                        uint64_t first, const char *tensor, const char *source,
                        mpb_error *err)
{
    if (mode != MPB_NONFINITE_ERROR)
        return MPB_OK;
    size_t at = mpb_nonfinite_find(dt, buf, n);
    if (at == n)
        return MPB_OK;
    return mpb_fail(err, MPB_EINVAL,
                    "tensor '%s' in '%s' holds a non-finite value (%s) at element %llu; "
                    "stopped by --nonfinite error (--nonfinite propagate merges it and "
                    "counts the non-finite results)",
                    tensor, source, mpb_nonfinite_kind(dt, buf, at),
                    (unsigned long long)(first + at));
}
