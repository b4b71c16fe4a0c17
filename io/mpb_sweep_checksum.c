#include "mpb_sweep_checksum.h"

#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* The Castagnoli polynomial, bit-reflected. */
#define CRC32C_POLY 0x82f63b78u

static uint32_t table[8][256];
static uint32_t x2n_table[67]; /* x^(2^n) mod P: 8 * len_b needs n up to 66 */
static int ready;
static int use_hw;

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
    use_hw = __builtin_cpu_supports("sse4.2");
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
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const unsigned char *p,
                                                         size_t n)
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

/* x^(n * 2^k) mod P. */
static uint32_t x2nmodp(uint64_t n, unsigned k)
{
    uint32_t p = 1u << 31; /* x^0 */
    for (; n; n >>= 1, k++)
        if (n & 1)
            p = multmodp(x2n_table[k], p);
    return p;
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

const char *mpb_crc32c_isa(void)
{
    if (!ready)
        init();
    return use_hw ? "sse4.2" : "table";
}
