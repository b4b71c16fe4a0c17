/* One generated file per validation rule, each checked for its message, and
 * the corner cases the reference implementation accepts. */
#include "test_safetensors_util.h"

#include "mpb_safetensors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define U8(name, n, b, e) \
    "\"" name "\":{\"dtype\":\"U8\",\"shape\":[" #n "],\"data_offsets\":[" #b "," #e "]}"

static void reject(const char *header, size_t data_len, const char *expect)
{
    st_expect_reject("bad.safetensors", header, data_len, expect);
}

static mpb_st_file accept(const char *header, size_t data_len)
{
    size_t len;
    unsigned char *b = st_bytes(header, data_len, &len);
    mpb_st_file f;
    mpb_error err = {0};
    int rc = mpb_st_parse_header("ok.safetensors", b, len, len, &f, &err);
    free(b);
    if (rc != MPB_OK)
        fail_msg("header %s rejected: %s", header, err.msg);
    return f;
}

/* Parses raw bytes; returns the message, or "" on success. */
static const char *parse_raw(const unsigned char *b, size_t len, uint64_t file_size)
{
    static mpb_error err;
    mpb_error_clear(&err);
    mpb_st_file f;
    if (mpb_st_parse_header("raw.safetensors", b, len, file_size, &f, &err) == MPB_OK)
        mpb_st_file_free(&f);
    return err.msg;
}

static void test_length_field(void **state)
{
    (void)state;
    const unsigned char short_file[3] = {1, 0, 0};
    assert_non_null(strstr(parse_raw(short_file, 3, 3), "3 bytes, too short"));
    /* N = 100 but only 20 bytes of header follow. */
    unsigned char b[28] = {100};
    memset(b + 8, ' ', 20);
    assert_non_null(strstr(parse_raw(b, 28, 28), "header length 100 runs past the end of the "
                                                 "file (28 bytes)"));
    /* N = 100,000,001 is refused before anything is read... */
    const unsigned char big[8] = {0x01, 0xE1, 0xF5, 0x05}; /* 0x05F5E101 */
    assert_non_null(strstr(parse_raw(big, 8, 300000000),
                           "header length 100000001 exceeds the safetensors limit"));
    /* ...while N = 100,000,000 is within the limit (and here past the end). */
    const unsigned char limit[8] = {0x00, 0xE1, 0xF5, 0x05};
    assert_non_null(strstr(parse_raw(limit, 8, 100000007), "runs past the end"));
    const unsigned char huge[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    assert_non_null(strstr(parse_raw(huge, 8, 64), "exceeds the safetensors limit"));
    /* NUL padding is not JSON whitespace; the reference refuses it too. */
    const unsigned char nul_pad[16] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    assert_non_null(strstr(parse_raw(nul_pad, 16, 16), "header is not valid JSON"));
}

static void test_header_text(void **state)
{
    (void)state;
    reject("{\"a\xff\":{}}", 0, "header is not valid UTF-8");
    reject("{\"a\":\"\xc0\x80\"}", 0, "not valid UTF-8"); /* overlong NUL */
    reject("{\"a\": }", 0, "header is not valid JSON");
    reject("", 0, "not valid JSON");
    reject("{} x", 0, "not valid JSON");
    reject("[1, 2]", 0, "header is an array, not an object");
    reject("\"x\"", 0, "header is a string, not an object");
}

static void test_offsets(void **state)
{
    (void)state;
    reject("{" U8("a", 4, 0, 4) "}", 2,
           "tensor 'a': data_offsets [0, 4] run past the end of the data buffer (2 bytes)");
    reject("{" U8("a", 4, 0, 4) "," U8("b", 4, 2, 6) "}", 6,
           "tensor 'b': data_offsets [2, 6] overlap tensor 'a' [0, 4]");
    reject("{" U8("a", 4, 0, 4) "," U8("b", 4, 6, 10) "}", 10,
           "bytes [4, 6) of the data buffer, between tensors 'a' and 'b', belong to no tensor");
    reject("{" U8("a", 4, 2, 6) "}", 6,
           "bytes [0, 2) of the data buffer, before tensor 'a', belong to no tensor");
    reject("{" U8("a", 4, 0, 4) "}", 6,
           "bytes [4, 6) at the end of the data buffer, after tensor 'a', belong to no tensor");
    reject("{}", 3, "the header lists no tensors but the data buffer holds 3 bytes");
    reject("{" U8("a", 0, 4, 0) "}", 4,
           "tensor 'a': data_offsets [4, 0] end before they begin");
    /* An empty tensor inside another tensor's bytes is an overlap too. */
    reject("{" U8("a", 4, 0, 4) "," U8("e", 0, 2, 2) "}", 4,
           "tensor 'e': data_offsets [2, 2] "
           "overlap tensor 'a'");
    reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1,
           "\"data_offsets\" must be [begin, end]");
    reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,-1]}}", 1,
           "data_offsets must be non-negative integers");
    reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1,
           "tensor 'a': missing \"data_offsets\"");
}

static void test_sizes(void **state)
{
    (void)state;
    st_expect_reject(
        "model.safetensors",
        "{\"a.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,10]}}", 10,
        "model.safetensors: tensor 'a.weight': data_offsets [0, 10] do not match "
        "shape [3, 2] x F32 (24 bytes)");
    reject("{\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,4]}}", 4,
           "tensor 's': data_offsets [0, 4] do not match shape [] x I64 (8 bytes)");
    /* The product overflows before the zero is reached, as in the reference. */
    reject("{\"o\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,0],"
           "\"data_offsets\":[0,0]}}",
           0, "tensor 'o': shape [4294967296, 4294967296, 0] x U8 overflows 64 bits");
    reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[2,-1],\"data_offsets\":[0,0]}}", 0,
           "tensor 'a': shape element 1 is a negative integer, not a non-negative integer");
    reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[2.0],\"data_offsets\":[0,2]}}", 2,
           "shape element 0 is a real number");
    reject("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
           "shape has 9 dimensions; mpiblend supports at most 8");
    reject("{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1,
           "tensor 'a': missing \"shape\"");
}

static void test_dtypes(void **state)
{
    (void)state;
    reject("{\"a\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
           "tensor 'a': unknown dtype 'F17'");
    /* mpiblend's own spellings are not safetensors spellings. */
    reject("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
           "unknown dtype 'f32'");
    reject("{\"a\":{\"dtype\":\"bfloat16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2,
           "unknown dtype 'bfloat16'");
    const char *known[] = {"F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "C64"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        char header[128], expect[128];
        snprintf(header, sizeof header,
                 "{\"a\":{\"dtype\":\"%s\",\"shape\":[2],\"data_offsets\":[0,1]}}", known[i]);
        snprintf(expect, sizeof expect, "tensor 'a': dtype %s is not supported by mpiblend",
                 known[i]);
        reject(header, 1, expect);
    }
    reject("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
           "tensor 'a': \"dtype\" is an integer, not a string");
    reject("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
           "tensor 'a': missing \"dtype\"");
    reject("{\"a\":[\"U8\",[1],[0,1]]}", 1, "tensor 'a': entry is an array, not an object");
}

static void test_names_and_metadata(void **state)
{
    (void)state;
    reject("{" U8("a", 1, 0, 1) "," U8("a", 1, 1, 2) "}", 2, "duplicate key");
    reject("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate key");
    reject("{\"__metadata__\":{\"n\":1}}", 0,
           "__metadata__ key 'n' is an integer, not a string");
    reject("{\"__metadata__\":{\"a\":\"b\",\"n\":{}}}", 0, "__metadata__ key 'n' is an object");
    reject("{\"__metadata__\":[\"a\"]}", 0,
           "__metadata__ is an array, not an object of strings");
    reject("{\"__metadata__\":\"pt\"}", 0, "__metadata__ is a string, not an object");
}

static void test_accepted_corner_cases(void **state)
{
    (void)state;
    /* Leading whitespace and trailing space/tab/newline padding. */
    mpb_st_file f = accept(" \n\t{" U8("a", 2, 0, 2) "}  \t\n\r ", 2);
    assert_int_equal(f.n_tensors, 1);
    assert_int_equal(f.tensors[0].begin, f.data_start);
    assert_int_equal(f.data_start, 8 + f.header_len);
    mpb_st_file_free(&f);

    f = accept("{}", 0);
    assert_int_equal(f.n_tensors, 0);
    mpb_st_file_free(&f);

    f = accept("{\"__metadata__\":null," U8("a", 1, 0, 1) "}", 1);
    assert_int_equal(f.n_meta, 0);
    mpb_st_file_free(&f);

    f = accept("{\"__metadata__\":{}}", 0);
    assert_int_equal(f.n_meta, 0);
    mpb_st_file_free(&f);

    f = accept("{" U8("b", 1, 0, 1) ",\"__metadata__\":{\"format\":\"pt\",\"k\":\"\"}}", 1);
    assert_int_equal(f.n_meta, 2);
    assert_string_equal(f.meta_keys[1], "k");
    assert_string_equal(f.meta_values[1], "");
    mpb_st_file_free(&f);

    /* Empty tensors, a 0-d one, offsets out of key order, an unknown field
     * (serde ignores it). */
    f = accept("{\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[10,10],\"x\":[1]},"
               "\"s\":{\"data_offsets\":[2,10],\"shape\":[],\"dtype\":\"F64\"}," U8(
                   "e", 0, 0, 0) "," U8("a", 2, 0, 2) "}",
               10);
    assert_int_equal(f.n_tensors, 4);
    const char *order[] = {"z", "s", "e", "a"};
    const uint64_t rel_begin[] = {10, 2, 0, 0}, rel_end[] = {10, 10, 0, 2};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(f.tensors[i].name, order[i]);
        assert_int_equal(f.tensors[i].begin, f.data_start + rel_begin[i]);
        assert_int_equal(f.tensors[i].end, f.data_start + rel_end[i]);
    }
    assert_int_equal(f.tensors[1].ndim, 0);
    assert_int_equal(f.tensors[1].dtype, MPB_DT_F64);
    mpb_st_file_free(&f);
}

static void test_open_from_disk(void **state)
{
    (void)state;
    char *dir = st_tmpdir();
    mpb_st_file f;
    mpb_error err = {0};
    /* Header length beyond the file, read from disk. */
    unsigned char truncated[16] = {200, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    st_write(dir, "cut.safetensors", truncated, sizeof truncated);
    char *path = st_join(dir, "cut.safetensors");
    assert_int_equal(mpb_st_open(path, &f, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "cut.safetensors: header length 200 runs past the end"));
    free(path);

    st_write_st(dir, "good.safetensors", "{" U8("a", 3, 0, 3) "}", 3);
    path = st_join(dir, "good.safetensors");
    mpb_error_clear(&err);
    assert_int_equal(mpb_st_open(path, &f, &err), MPB_OK);
    assert_int_equal(f.file_size, 8 + strlen("{" U8("a", 3, 0, 3) "}") + 3);
    assert_string_equal(f.path, path);
    mpb_st_file_free(&f);
    free(path);

    path = st_join(dir, "absent.safetensors");
    assert_int_equal(mpb_st_open(path, &f, &err), MPB_EIO);
    assert_non_null(strstr(err.msg, "absent.safetensors: cannot open"));
    free(path);
    mpb_error_clear(&err);
    assert_int_equal(mpb_st_open(dir, &f, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "not a regular file"));
    st_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_length_field),
        cmocka_unit_test(test_header_text),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_dtypes),
        cmocka_unit_test(test_names_and_metadata),
        cmocka_unit_test(test_accepted_corner_cases),
        cmocka_unit_test(test_open_from_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
