/* CRC-32C: the standard check value, both implementations (the table one
 * and, where the CPU has it, SSE4.2's three interleaved streams) against a
 * bit-by-bit reference at every kind of length, alignment and continuation,
 * and combining pieces in order gives the CRC of the whole, whatever the
 * split. */
#include "mpb_crc32c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Bit by bit from the definition (reflected polynomial 0x82f63b78). */
static uint32_t crc_reference(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    }
    return ~c;
}

static void test_check_value(void **state)
{
    (void)state;
    assert_int_equal(mpb_crc32c(0, "123456789", 9), 0xe3069283u); /* the catalogue's check */
    assert_int_equal(mpb_crc32c(0, "", 0), 0);
}

static void test_matches_reference_at_every_length(void **state)
{
    (void)state;
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = 0; n < sizeof buf; n += 7)
        for (size_t off = 0; off < 8; off++)
            assert_int_equal(mpb_crc32c(0, buf + off, n - (n > off ? off : n)),
                             crc_reference(buf + off, n - (n > off ? off : n)));
}

static void test_combine_any_split(void **state)
{
    (void)state;
    enum { N = 5000 };
    unsigned char *buf = malloc(N);
    for (size_t i = 0; i < N; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    uint32_t whole = crc_reference(buf, N);
    const size_t pieces[] = {1, 3, 64, 1000, 4999, N};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        uint32_t crc = 0;
        for (size_t at = 0; at < N; at += pieces[k]) {
            size_t len = N - at < pieces[k] ? N - at : pieces[k];
            crc = mpb_crc32c_combine(crc, mpb_crc32c(0, buf + at, len), len);
        }
        assert_int_equal(crc, whole);
    }
    assert_int_equal(mpb_crc32c_combine(whole, 0, 0), whole);
    free(buf);
}

/* The implementations this CPU can run; the automatic choice is restored
 * by each test that pins one. */
static const char *const isas[] = {"table", "sse4.2"};
enum { N_ISAS = sizeof isas / sizeof isas[0] };

static void test_force(void **state)
{
    (void)state;
    const char *automatic = mpb_crc32c_isa();
    assert_true(mpb_crc32c_force("table"));
    assert_string_equal(mpb_crc32c_isa(), "table");
    assert_false(mpb_crc32c_force("no-such-isa"));
    assert_string_equal(mpb_crc32c_isa(), "table");
    assert_true(mpb_crc32c_force(NULL));
    assert_string_equal(mpb_crc32c_isa(), automatic);
    if (mpb_crc32c_force("sse4.2"))
        assert_string_equal(mpb_crc32c_isa(), "sse4.2");
    else
        assert_string_equal(automatic, "table");
    mpb_crc32c_force(NULL);
}

/* Lengths up to past 100 KiB, from 8 misaligned starts, checked against
 * the reference CRC of every prefix (one bitwise pass per start): every
 * length up to 2 KiB, lengths near multiples of the stream blocks (3 * 4 KiB
 * everywhere, 3 * 256 B up to 30 KiB), and a spread of others. */
enum { BIG = 100 * 1024 + 77 };

static bool length_wanted(size_t n)
{
    size_t near_long = n % 12288, near_short = n % 768;
    return n <= 2048 || near_long < 17 || near_long > 12288 - 17 ||
           (n < 30000 && (near_short < 9 || near_short > 768 - 9)) || n % 997 == 0 ||
           n > BIG - 20;
}

static void test_long_buffers(void **state)
{
    (void)state;
    unsigned char *buf = malloc(BIG + 8);
    uint32_t *prefix = malloc((BIG + 1) * sizeof *prefix);
    assert_non_null(buf);
    assert_non_null(prefix);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < BIG + 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)(x >> 24);
    }
    for (size_t k = 0; k < N_ISAS; k++) {
        if (!mpb_crc32c_force(isas[k]))
            continue;
        for (size_t off = 0; off < 8; off++) {
            const unsigned char *p = buf + off;
            uint32_t c = 0xffffffffu;
            prefix[0] = 0;
            for (size_t i = 0; i < BIG; i++) {
                c ^= p[i];
                for (int b = 0; b < 8; b++)
                    c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
                prefix[i + 1] = ~c;
            }
            for (size_t n = 0; n <= BIG; n++) {
                if (!length_wanted(n))
                    continue;
                assert_int_equal(mpb_crc32c(0, p, n), prefix[n]);
                /* Continuing from a non-zero CRC at a split the length picks. */
                size_t cut = (n * 7919) % (n + 1);
                assert_int_equal(mpb_crc32c(mpb_crc32c(0, p, cut), p + cut, n - cut),
                                 prefix[n]);
                /* Joining two separately computed pieces. */
                assert_int_equal(
                    mpb_crc32c_combine(prefix[cut], mpb_crc32c(0, p + cut, n - cut), n - cut),
                    prefix[n]);
            }
        }
    }
    mpb_crc32c_force(NULL);
    free(prefix);
    free(buf);
}

static void test_fnv1a64(void **state)
{
    (void)state;
    assert_true(mpb_fnv1a64("", 0) == 0xcbf29ce484222325ull);  /* the offset basis */
    assert_true(mpb_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull); /* published vector */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_matches_reference_at_every_length),
        cmocka_unit_test(test_combine_any_split),
        cmocka_unit_test(test_force),
        cmocka_unit_test(test_long_buffers),
        cmocka_unit_test(test_fnv1a64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
