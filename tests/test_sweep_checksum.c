/* CRC-32C: the standard check value, both implementations, and combining
 * pieces in order gives the CRC of the whole, whatever the split. */
#include "mpb_sweep_checksum.h"

#include <setjmp.h>
#include <stdarg.h>
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

static void test_fnv1a64(void **state)
{
    (void)state;
    assert_true(mpb_fnv1a64("", 0) == 0xcbf29ce484222325ull); /* the offset basis */
    assert_true(mpb_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull); /* published vector */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_matches_reference_at_every_length),
        cmocka_unit_test(test_combine_any_split),
        cmocka_unit_test(test_fnv1a64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
