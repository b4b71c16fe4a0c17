#include "mpb_nonfinite.h"

#include "mpb_kernel.h"

#include <string.h>

#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS)
#include <immintrin.h>
#endif

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
 * is the top bit of the element's width and never part of the mask. */
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

static bool nonfinite_at(const unsigned char *p, const struct layout *l)
{
    return (bits_at(p, l->size) & l->mask) == l->mask;
}

/* The portable path tests the elements of a 64-bit word at once (SWAR).
 * With t = (word & mask) ^ mask per lane, a lane is non-finite when t is
 * zero; t never has the lane's top bit (the mask has no sign bit), so
 * t + low carries into that top bit, and never past the lane, exactly when
 * t is not zero. */
struct swar {
    uint64_t mask, low, top, ones;
    unsigned width;
};

static struct swar swar_of(const struct layout *l)
{
    unsigned w = (unsigned)(8 * l->size);
    uint64_t ones = ~0ull / (w == 64 ? ~0ull : (1ull << w) - 1); /* 1 in each lane */
    uint64_t top = ones << (w - 1);
    return (struct swar){ones * l->mask, ~top, top, ones, w};
}

/* The top bit of each non-finite lane of word. */
static uint64_t swar_hits(const struct swar *s, uint64_t word)
{
    return ~(((word & s->mask) ^ s->mask) + s->low) & s->top;
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t count_portable(const struct layout *l, const unsigned char *p, size_t n)
{
    struct swar s = swar_of(l);
    size_t per_word = 8 / l->size, words = n / per_word;
    uint64_t count = 0;
    while (words > 0) {
        /* Lane counters grow by at most 1 a word; 31 words keep the sum of
         * up to 8 lanes below 256, so one multiply adds the lanes up. */
        size_t run = words < 31 ? words : 31;
        uint64_t acc = 0;
        for (size_t k = 0; k < run; k++, p += 8)
            acc += swar_hits(&s, load64(p)) >> (s.width - 1);
        count += (acc * s.ones) >> (64 - s.width);
        words -= run;
    }
    for (size_t i = 0; i < n % per_word; i++)
        count += nonfinite_at(p + i * l->size, l);
    return count;
}

static size_t find_portable(const struct layout *l, const unsigned char *p, size_t n)
{
    struct swar s = swar_of(l);
    size_t per_word = 8 / l->size, i = 0;
    for (; i + per_word <= n; i += per_word) {
        uint64_t hits = swar_hits(&s, load64(p + i * l->size));
        if (hits)
            return i + (size_t)__builtin_ctzll(hits) / s.width;
    }
    for (; i < n; i++)
        if (nonfinite_at(p + i * l->size, l))
            return i;
    return n;
}

#if defined(__x86_64__) && !defined(MPB_NO_VECTOR_KERNELS)
/* AVX2, when the blend kernel uses it: the kernel's CPU check and its
 * mpb_kernel_force (tests, benchmarks) then govern this file too. */
#define MPB_NONFINITE_AVX2 1
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))

enum { VEC = 32, STEP = 4 * VEC };

/* All-ones lanes where the element is non-finite; size is a constant. */
AVX2_INLINE __m256i hits_avx2(const unsigned char *p, size_t size, __m256i mask)
{
    __m256i v = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)p), mask);
    switch (size) {
    case 1: return _mm256_cmpeq_epi8(v, mask);
    case 2: return _mm256_cmpeq_epi16(v, mask);
    case 4: return _mm256_cmpeq_epi32(v, mask);
    default: return _mm256_cmpeq_epi64(v, mask);
    }
}

AVX2_INLINE __m256i mask_avx2(size_t size, uint64_t mask)
{
    switch (size) {
    case 1: return _mm256_set1_epi8((char)mask);
    case 2: return _mm256_set1_epi16((short)mask);
    case 4: return _mm256_set1_epi32((int)mask);
    default: return _mm256_set1_epi64x((long long)mask);
    }
}

/* Counts over the whole STEP-byte blocks of n elements; *done gets how many
 * elements that covered.  A hit adds 1 to each of its `size` byte counters,
 * so the byte sum is size times the count. */
AVX2_INLINE uint64_t count_avx2_body(const unsigned char *p, size_t n, size_t size,
                                     uint64_t mask64, size_t *done)
{
    __m256i mask = mask_avx2(size, mask64), zero = _mm256_setzero_si256();
    __m256i total = zero;
    size_t blocks = n * size / STEP;
    *done = blocks * STEP / size;
    while (blocks > 0) {
        /* Byte counters grow by at most 4 a block: 63 blocks stay below 256. */
        size_t run = blocks < 63 ? blocks : 63;
        __m256i acc = zero;
        for (size_t k = 0; k < run; k++, p += STEP) {
            __m256i a =
                _mm256_add_epi8(hits_avx2(p, size, mask), hits_avx2(p + VEC, size, mask));
            __m256i b = _mm256_add_epi8(hits_avx2(p + 2 * VEC, size, mask),
                                        hits_avx2(p + 3 * VEC, size, mask));
            acc = _mm256_sub_epi8(acc, _mm256_add_epi8(a, b));
        }
        total = _mm256_add_epi64(total, _mm256_sad_epu8(acc, zero));
        blocks -= run;
    }
    __m128i t =
        _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    return ((uint64_t)_mm_cvtsi128_si64(t) + (uint64_t)_mm_extract_epi64(t, 1)) / size;
}

/* The first hit among the whole STEP-byte blocks of n elements, or *done
 * (the elements those blocks cover) when there is none. */
AVX2_INLINE size_t find_avx2_body(const unsigned char *p, size_t n, size_t size,
                                  uint64_t mask64, size_t *done)
{
    __m256i mask = mask_avx2(size, mask64);
    size_t blocks = n * size / STEP;
    *done = blocks * STEP / size;
    for (size_t b = 0; b < blocks; b++, p += STEP) {
        __m256i h[4];
        for (int k = 0; k < 4; k++)
            h[k] = hits_avx2(p + k * VEC, size, mask);
        __m256i any = _mm256_or_si256(_mm256_or_si256(h[0], h[1]), _mm256_or_si256(h[2], h[3]));
        if (_mm256_testz_si256(any, any))
            continue;
        for (int k = 0; k < 4; k++) {
            unsigned bytes = (unsigned)_mm256_movemask_epi8(h[k]);
            if (bytes)
                return (b * STEP + (size_t)k * VEC + (size_t)__builtin_ctz(bytes)) / size;
        }
    }
    return *done;
}

/* Counts, or finds when `find`, over the whole blocks; one inlined copy per
 * element size, so that the size folds into constants. */
__attribute__((target("avx2"))) static uint64_t
scan_avx2(const struct layout *l, const unsigned char *p, size_t n, bool find, size_t *done)
{
#define SCAN(size)                                          \
    return find ? find_avx2_body(p, n, size, l->mask, done) \
                : count_avx2_body(p, n, size, l->mask, done)
    switch (l->size) {
    case 1: SCAN(1);
    case 2: SCAN(2);
    case 4: SCAN(4);
    default: SCAN(8);
    }
#undef SCAN
}

static bool use_avx2(void)
{
    return strcmp(mpb_kernel_isa(), "avx2") == 0;
}
#endif

uint64_t mpb_nonfinite_count(mpb_dtype dt, const void *buf, size_t n)
{
    struct layout l;
    if (!layout_of(dt, &l))
        return 0;
    const unsigned char *p = buf;
    uint64_t count = 0;
#ifdef MPB_NONFINITE_AVX2
    if (use_avx2()) {
        size_t done;
        count = scan_avx2(&l, p, n, false, &done);
        p += done * l.size;
        n -= done;
    }
#endif
    return count + count_portable(&l, p, n);
}

size_t mpb_nonfinite_find(mpb_dtype dt, const void *buf, size_t n)
{
    struct layout l;
    if (!layout_of(dt, &l))
        return n;
    const unsigned char *p = buf;
    size_t done = 0;
#ifdef MPB_NONFINITE_AVX2
    if (use_avx2()) {
        size_t at = (size_t)scan_avx2(&l, p, n, true, &done);
        if (at < done)
            return at;
    }
#endif
    return done + find_portable(&l, p + done * l.size, n - done);
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
                        uint64_t first, const char *tensor, const char *source, mpb_error *err)
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
