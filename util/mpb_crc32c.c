#include "mpb_crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* The Castagnoli polynomial, bit-reflected. */
#define CRC32C_POLY 0x82f63b78u

static uint32_t table[8][256];
static uint32_t x2n_table[67]; /* x^(2^n) mod P: 8 * len_b needs n up to 66 */
static int ready;
static int has_hw, use_hw;

/* a * b modulo P, both polynomials bit-reflected (zlib's multmodp). */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ CRC32C_POLY : b >> 1;
    }
    return p;
}

/* x^(n * 2^k) mod P. */
static uint32_t x2nmodp(uint64_t n, unsigned k)
{
    uint32_t p = 1u << 31; /* x^0 */
    for (; n; n >>= 1, k++)
        if (n & 1)
            p = multmodp(x2n_table[k], p);
    return p;
}

#if defined(__x86_64__)
/* The hardware path runs three independent crc32 chains over three adjacent
 * blocks, since one chain waits out the instruction's latency (3 cycles)
 * between steps.  Joining the chains shifts a CRC past a block's worth of
 * zero bytes: a linear map, tabulated byte by byte for each block size. */
enum { LONG_BLOCK = 4096, SHORT_BLOCK = 256 };
struct crc_shift {
    uint32_t t[4][256];
};
static struct crc_shift shift_long, shift_short;

/* s maps a CRC register to its value after len more zero bytes. */
static void shift_init(struct crc_shift *s, uint64_t len)
{
    uint32_t op = x2nmodp(len, 3);
    for (int k = 0; k < 4; k++) {
        s->t[k][0] = 0;
        /* Linear: each entry is the XOR of the entries of its bits. */
        for (uint32_t b = 1; b < 256; b++)
            s->t[k][b] = (b & (b - 1)) ? s->t[k][b & (b - 1)] ^ s->t[k][b & -b]
                                       : multmodp(op, b << (8 * k));
    }
}

static uint32_t shift_apply(const struct crc_shift *s, uint32_t c)
{
    return s->t[0][c & 0xff] ^ s->t[1][(c >> 8) & 0xff] ^ s->t[2][(c >> 16) & 0xff] ^
           s->t[3][c >> 24];
}
#endif

static void init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xff];
    uint32_t p = 1u << 30; /* x^1 */
    x2n_table[0] = p;
    for (int n = 1; n < 67; n++)
        x2n_table[n] = p = multmodp(p, p);
#if defined(__x86_64__)
    shift_init(&shift_long, LONG_BLOCK);
    shift_init(&shift_short, SHORT_BLOCK);
    has_hw = use_hw = __builtin_cpu_supports("sse4.2");
#endif
    ready = 1;
}

/* Slicing by 8: eight table look-ups per 8 bytes. */
static uint32_t crc_table(uint32_t c, const unsigned char *p, size_t n)
{
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
            table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
            table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    }
    while (n--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return c;
}

#if defined(__x86_64__)
/* SSE4.2's crc32 instruction computes exactly CRC-32C; checked at run time,
 * so the build needs no -msse4.2. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw_serial(uint32_t c, const unsigned char *p, size_t n)
{
    uint64_t c64 = c;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
    }
    c = (uint32_t)c64;
    while (n--)
        c = _mm_crc32_u8(c, *p++);
    return c;
}

/* Consumes whole runs of three blocks of `block` bytes from *p and *n:
 * crc(A||B||C) = shift(shift(crc(A)) ^ crc0(B)) ^ crc0(C), crc0 starting
 * from a zero register. */
__attribute__((target("sse4.2"))) static uint32_t crc_hw_3way(uint32_t c,
                                                              const unsigned char **p,
                                                              size_t *n, size_t block,
                                                              const struct crc_shift *s)
{
    const unsigned char *q = *p;
    for (; *n >= 3 * block; *n -= 3 * block, q += 2 * block) {
        uint64_t c0 = c, c1 = 0, c2 = 0;
        for (const unsigned char *end = q + block; q < end; q += 8) {
            uint64_t v0, v1, v2;
            memcpy(&v0, q, 8);
            memcpy(&v1, q + block, 8);
            memcpy(&v2, q + 2 * block, 8);
            c0 = _mm_crc32_u64(c0, v0);
            c1 = _mm_crc32_u64(c1, v1);
            c2 = _mm_crc32_u64(c2, v2);
        }
        c = shift_apply(s, shift_apply(s, (uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
    }
    *p = q;
    return c;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const unsigned char *p,
                                                         size_t n)
{
    c = crc_hw_3way(c, &p, &n, LONG_BLOCK, &shift_long);
    c = crc_hw_3way(c, &p, &n, SHORT_BLOCK, &shift_short);
    return crc_hw_serial(c, p, n);
}
#endif

uint32_t mpb_crc32c(uint32_t crc, const void *buf, size_t len)
{
    if (!ready)
        init();
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (use_hw)
        return ~crc_hw(c, buf, len);
#endif
    return ~crc_table(c, buf, len);
}

uint32_t mpb_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
    if (!ready)
        init();
    return multmodp(x2nmodp(len_b, 3), crc_a) ^ crc_b;
}

uint64_t mpb_fnv1a64(const void *text, size_t len)
{
    const unsigned char *p = text;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

bool mpb_crc32c_force(const char *isa)
{
    if (!ready)
        init();
    if (isa == NULL || (has_hw && strcmp(isa, "sse4.2") == 0))
        use_hw = has_hw;
    else if (strcmp(isa, "table") == 0)
        use_hw = 0;
    else
        return false;
    return true;
}

const char *mpb_crc32c_isa(void)
{
    if (!ready)
        init();
    return use_hw ? "sse4.2" : "table";
}
