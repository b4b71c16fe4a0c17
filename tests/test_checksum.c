/* io/mpb_checksum.h: the published CRC-32C check value, joins of pieces cut
 * anywhere (including pieces past 512 MiB, streamed so that no large buffer
 * is needed), and reading a tensor row by row through a store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_checksum.h"
#include "mpb_crc32c.h"

static void text_form(void **state)
{
    (void)state;
    char buf[MPB_CHECKSUM_TEXT_MAX];
    mpb_checksum_format(0x0a1b2c3du, buf);
    assert_string_equal(buf, "crc32c:0a1b2c3d");
    uint32_t v = 0;
    assert_true(mpb_checksum_parse("crc32c:e3069283", &v));
    assert_int_equal(v, 0xe3069283u);
    const char *bad[] = {"crc32c:e306928",
                         "crc32c:e30692830",
                         "CRC32C:e3069283",
                         "crc32c:E3069283",
                         "crc32c:e306928g",
                         "crc32:e3069283",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(mpb_checksum_parse(bad[i], &v));
}

/* "123456789" has CRC-32C 0xe3069283 (the standard check value). */
static void check_value_in_pieces(void **state)
{
    (void)state;
    mpb_checksum_slots s;
    mpb_error err = {0};
    assert_int_equal(mpb_checksum_slots_init(&s, 5, &err), MPB_OK);
    mpb_checksum_slots_add(&s, 0, "12", 2);
    mpb_checksum_slots_add(&s, 0, "34", 2); /* a slot grows in order */
    mpb_checksum_slots_add(&s, 2, "5678", 4);
    mpb_checksum_slots_add(&s, 4, "9", 1); /* slots 1 and 3 stay empty */
    assert_int_equal(mpb_checksum_slots_join(&s, 0, 5), 0xe3069283u);
    assert_int_equal(mpb_checksum_slots_join(&s, 2, 1), mpb_crc32c(0, "5678", 4));
    mpb_checksum_slots_free(&s);
}

/* Random cuts joined give the CRC of the whole, with each implementation
 * computing the pieces (the whole is computed once, automatically). */
static void random_cuts(void **state)
{
    (void)state;
    enum { N = 100000 };
    unsigned char *data = malloc(N);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (unsigned char)x;
    }
    uint32_t whole = mpb_crc32c(0, data, N);
    const char *isas[] = {"table", "sse4.2"};
    for (size_t m = 0; m < sizeof isas / sizeof isas[0]; m++) {
        if (!mpb_crc32c_force(isas[m]))
            continue;
        for (int trial = 0; trial < 20; trial++) {
            mpb_checksum_slots s;
            mpb_error err = {0};
            assert_int_equal(mpb_checksum_slots_init(&s, 64, &err), MPB_OK);
            size_t at = 0;
            for (size_t k = 0; k < 64 && at < N; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                size_t len = k == 63 ? N - at : (size_t)(x % (trial < 10 ? 5000 : 40000));
                len = len > N - at ? N - at : len;
                mpb_checksum_slots_add(&s, k, data + at, len);
                at += len;
            }
            if (at < N)
                mpb_checksum_slots_add(&s, 63, data + at, N - at);
            assert_int_equal(mpb_checksum_slots_join(&s, 0, 64), whole);
            mpb_checksum_slots_free(&s);
        }
    }
    mpb_crc32c_force(NULL);
    free(data);
}

/* A piece of 600 MiB: joins must not rely on a short period of x^(2^k). */
static void long_pieces(void **state)
{
    (void)state;
    enum { MIB = 1 << 20, PIECES = 600 };
    unsigned char *zeros = calloc(1, MIB);
    mpb_checksum_slots s;
    mpb_error err = {0};
    assert_int_equal(mpb_checksum_slots_init(&s, 3, &err), MPB_OK);
    mpb_checksum_slots_add(&s, 0, "head", 4);
    uint32_t stream = mpb_crc32c(0, "head", 4);
    for (int k = 0; k < PIECES; k++) {
        mpb_checksum_slots_add(&s, 1, zeros, MIB);
        stream = mpb_crc32c(stream, zeros, MIB); /* continuation: no combining */
    }
    mpb_checksum_slots_add(&s, 2, "tail", 4);
    stream = mpb_crc32c(stream, "tail", 4);
    assert_int_equal(s.len[1], (uint64_t)PIECES * MIB);
    assert_int_equal(mpb_checksum_slots_join(&s, 0, 3), stream);
    mpb_checksum_slots_free(&s);
    free(zeros);
}

/* A store whose rows are bytes row * 31 + column, counting its reads. */
struct fake {
    uint64_t row_bytes;
    int reads;
};

static int fake_read(void *h, size_t tensor, uint64_t row0, uint64_t nrows, void *buf,
                     mpb_error *err)
{
    (void)tensor;
    (void)err;
    struct fake *f = h;
    unsigned char *out = buf;
    for (uint64_t r = 0; r < nrows; r++)
        for (uint64_t c = 0; c < f->row_bytes; c++)
            out[r * f->row_bytes + c] = (unsigned char)((row0 + r) * 31 + c);
    f->reads++;
    return MPB_OK;
}

static void tensor_through_a_store(void **state)
{
    (void)state;
    mpb_index idx = {0};
    mpb_error err = {0};
    uint64_t shape[2] = {1000, 12}; /* rows of 24 bytes */
    assert_int_equal(mpb_index_add(&idx, "t", MPB_DT_BF16, 2, shape, &err), MPB_OK);
    struct fake f = {.row_bytes = 24};
    mpb_store_ops ops = {.name = "fake", .read_rows = fake_read};
    mpb_store store = {.ops = &ops, .handle = &f};
    unsigned char *all = malloc(24000), buf[100];
    fake_read(&f, 0, 0, 1000, all, &err);
    f.reads = 0;
    mpb_checksum_slots s;
    assert_int_equal(mpb_checksum_slots_init(&s, 1, &err), MPB_OK);
    assert_int_equal(mpb_checksum_add_tensor(&s, 0, &store, &idx, 0, buf, sizeof buf, &err),
                     MPB_OK);
    assert_int_equal(f.reads, 250); /* four 24-byte rows per 100-byte buffer */
    assert_int_equal(mpb_checksum_slots_join(&s, 0, 1), mpb_crc32c(0, all, 24000));
    assert_int_equal(mpb_checksum_add_tensor(&s, 0, &store, &idx, 0, buf, 23, &err),
                     MPB_EINTERNAL);
    mpb_checksum_slots_free(&s);
    mpb_index_free(&idx);
    free(all);
}

/* "long" as the argument runs long_pieces alone (test_checksum_long). */
int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_form),
        cmocka_unit_test(check_value_in_pieces),
        cmocka_unit_test(random_cuts),
        cmocka_unit_test(tensor_through_a_store),
    };
    const struct CMUnitTest long_tests[] = {cmocka_unit_test(long_pieces)};
    if (argc > 1 && strcmp(argv[1], "long") == 0)
        return cmocka_run_group_tests(long_tests, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
