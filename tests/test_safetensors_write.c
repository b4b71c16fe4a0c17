/* The header writer against the reference writer's own byte-exact test
 * vectors (safetensors/src/tensor.rs tests), a mixed-dtype round trip
 * through the reader, and the index writer against Python's json.dumps. */
#include "test_safetensors_util.h"

#include "mpb_safetensors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static mpb_st_tensor tensor(const char *name, mpb_dtype dt, int ndim, const uint64_t *shape)
{
    mpb_st_tensor t = {.name = (char *)name, .dtype = dt, .ndim = ndim};
    for (int d = 0; d < ndim; d++)
        t.shape[d] = shape[d];
    return t;
}

static void expect_header(mpb_st_tensor *t, size_t n, const char *const *mk,
                          const char *const *mv, size_t n_meta, const char *expect)
{
    char *h;
    uint64_t len;
    mpb_error err = {0};
    assert_int_equal(mpb_st_header_build(t, n, mk, mv, n_meta, &h, &len, &err), MPB_OK);
    assert_int_equal(len, strlen(expect));
    assert_string_equal(h, expect);
    free(h);
}

static void test_reference_vectors(void **state)
{
    (void)state;
    /* test_serialization: 64 bytes, already a multiple of 8. */
    mpb_st_tensor t = tensor("attn.0", MPB_DT_F32, 3, (uint64_t[]){1, 2, 3});
    expect_header(&t, 1, NULL, NULL, 0,
                  "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}");
    assert_int_equal(t.begin, 8 + 64);
    assert_int_equal(t.end, 8 + 64 + 24);
    /* test_serialization_forced_alignement: 65 bytes padded to 72. */
    t = tensor("attn0", MPB_DT_F32, 4, (uint64_t[]){1, 1, 2, 3});
    expect_header(&t, 1, NULL, NULL, 0,
                  "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}"
                  "       ");
    /* test_empty, without and with metadata. */
    expect_header(NULL, 0, NULL, NULL, 0, "{}      ");
    const char *k[] = {"framework"}, *v[] = {"pt"};
    expect_header(NULL, 0, k, v, 1, "{\"__metadata__\":{\"framework\":\"pt\"}}     ");
}

static void test_mixed_round_trip(void **state)
{
    (void)state;
    mpb_st_tensor in[] = {
        tensor("mask", MPB_DT_BOOL, 1, (uint64_t[]){3}),
        tensor("b.bias", MPB_DT_F16, 1, (uint64_t[]){5}),
        tensor("emb", MPB_DT_F32, 2, (uint64_t[]){7, 2}),
        tensor("count", MPB_DT_I64, 0, NULL),
        tensor("a.weight", MPB_DT_BF16, 2, (uint64_t[]){3, 3}),
        tensor("q", MPB_DT_F8_E4M3, 1, (uint64_t[]){3}),
        tensor("z8", MPB_DT_U8, 1, (uint64_t[]){5}),
        tensor("scale", MPB_DT_F64, 1, (uint64_t[]){2}),
        tensor("empty", MPB_DT_F32, 2, (uint64_t[]){0, 4}),
        tensor("idx", MPB_DT_I32, 1, (uint64_t[]){3}),
    };
    const size_t n = sizeof in / sizeof *in;
    /* The reference order: I64, F64, F32, I32, BF16, F16, F8_E4M3, U8, BOOL;
     * names break ties ("emb" < "empty"). */
    const char *layout[] = {"count",    "scale",  "emb", "empty", "idx",
                            "a.weight", "b.bias", "q",   "z8",    "mask"};
    const size_t bytes[] = {8, 16, 56, 0, 12, 18, 10, 3, 5, 3};
    const size_t elem[] = {8, 8, 4, 4, 4, 2, 2, 1, 1, 1};
    const char *mk[] = {"format", "note"}, *mv[] = {"pt", "merged by mpiblend"};
    char *h;
    uint64_t hlen;
    mpb_error err = {0};
    assert_int_equal(mpb_st_header_build(in, n, mk, mv, 2, &h, &hlen, &err), MPB_OK);
    assert_int_equal((8 + hlen) % 8, 0);
    assert_int_equal(strlen(h), hlen);
    const char *meta = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"merged by mpiblend\"},";
    assert_memory_equal(h, meta, strlen(meta));

    uint64_t pos = 8 + hlen;
    for (size_t k = 0; k < n; k++) {
        const mpb_st_tensor *t = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(in[i].name, layout[k]) == 0)
                t = &in[i];
        assert_non_null(t);
        assert_int_equal(t->begin, pos);
        assert_int_equal(t->end - t->begin, bytes[k]);
        assert_int_equal(t->begin % elem[k], 0);
        pos = t->end;
    }

    /* Write the file with each tensor's bytes set to its position in `in`. */
    size_t len = pos;
    unsigned char *file = calloc(1, len);
    assert_non_null(file);
    for (int i = 0; i < 8; i++)
        file[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(file + 8, h, hlen);
    for (size_t i = 0; i < n; i++)
        memset(file + in[i].begin, (int)i + 1, in[i].end - in[i].begin);
    char *dir = st_tmpdir();
    st_write(dir, "rt.safetensors", file, len);
    char *path = st_join(dir, "rt.safetensors");
    mpb_st_file f;
    assert_int_equal(mpb_st_open(path, &f, &err), MPB_OK);
    assert_int_equal(f.n_tensors, n);
    assert_int_equal(f.header_len, hlen);
    assert_int_equal(f.n_meta, 2);
    assert_string_equal(f.meta_values[1], "merged by mpiblend");
    for (size_t k = 0; k < n; k++) {
        const mpb_st_tensor *got = &f.tensors[k];
        assert_string_equal(got->name, layout[k]); /* key order = layout order */
        const mpb_st_tensor *want = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(in[i].name, got->name) == 0)
                want = &in[i];
        assert_int_equal(got->dtype, want->dtype);
        assert_int_equal(got->ndim, want->ndim);
        assert_memory_equal(got->shape, want->shape, sizeof got->shape);
        assert_int_equal(got->begin, want->begin);
        assert_int_equal(got->end, want->end);
        if (got->end > got->begin)
            assert_int_equal(file[got->begin], (unsigned char)(want - in + 1));
    }
    mpb_st_file_free(&f);
    free(path);
    st_rmtree(dir);
    free(file);
    free(h);
}

static void test_writer_refuses(void **state)
{
    (void)state;
    char *h;
    uint64_t len;
    mpb_error err = {0};
    mpb_st_tensor dup[] = {tensor("a", MPB_DT_F32, 1, (uint64_t[]){1}),
                           tensor("a", MPB_DT_U8, 1, (uint64_t[]){1})};
    assert_int_equal(mpb_st_header_build(dup, 2, NULL, NULL, 0, &h, &len, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "tensor name 'a' repeats"));
    assert_null(h);
    mpb_st_tensor reserved = tensor("__metadata__", MPB_DT_U8, 0, NULL);
    mpb_error_clear(&err);
    assert_int_equal(mpb_st_header_build(&reserved, 1, NULL, NULL, 0, &h, &len, &err),
                     MPB_EINVAL);
    assert_non_null(strstr(err.msg, "'__metadata__' is reserved"));
    mpb_st_tensor bad = tensor("x", MPB_DT_INVALID, 0, NULL);
    mpb_error_clear(&err);
    assert_int_equal(mpb_st_header_build(&bad, 1, NULL, NULL, 0, &h, &len, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "tensor 'x' has an invalid dtype"));
    mpb_st_tensor overflow = tensor("o", MPB_DT_F32, 2, (uint64_t[]){1ull << 40, 1ull << 40});
    mpb_error_clear(&err);
    assert_int_equal(mpb_st_header_build(&overflow, 1, NULL, NULL, 0, &h, &len, &err),
                     MPB_EINVAL);
    assert_non_null(strstr(err.msg, "tensor 'o'"));
}

static void test_index_write(void **state)
{
    (void)state;
    char *dir = st_tmpdir();
    char *path = st_join(dir, MPB_ST_INDEX_NAME);
    const char *names[] = {"b.weight", "a.bias", "a.weight"};
    const char *shards[] = {"model-00002-of-00002.safetensors",
                            "model-00001-of-00002.safetensors",
                            "model-00001-of-00002.safetensors"};
    mpb_error err = {0};
    assert_int_equal(mpb_st_index_write(path, 4305, names, shards, 3, &err), MPB_OK);
    /* json.dumps(index, indent=2, sort_keys=True) + "\n", from Python. */
    const char *python = "{\n  \"metadata\": {\n    \"total_size\": 4305\n  },\n"
                         "  \"weight_map\": {\n"
                         "    \"a.bias\": \"model-00001-of-00002.safetensors\",\n"
                         "    \"a.weight\": \"model-00001-of-00002.safetensors\",\n"
                         "    \"b.weight\": \"model-00002-of-00002.safetensors\"\n  }\n}\n";
    char got[1024] = {0};
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(got, 1, sizeof got - 1, fp);
    fclose(fp);
    assert_int_equal(n, strlen(python));
    assert_string_equal(got, python);

    mpb_st_index ix;
    assert_int_equal(mpb_st_index_load(path, &ix, &err), MPB_OK);
    assert_true(ix.has_total_size);
    assert_int_equal(ix.total_size, 4305);
    assert_int_equal(ix.n_shards, 2);
    assert_int_equal(ix.entry_shard[mpb_st_index_find(&ix, "b.weight")], 1);
    mpb_st_index_free(&ix);

    const char *twice[] = {"a", "a"};
    assert_int_equal(mpb_st_index_write(path, 0, twice, shards, 2, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "tensor 'a' is listed twice"));
    free(path);
    st_rmtree(dir);
}

static void test_shard_names(void **state)
{
    (void)state;
    char buf[64];
    mpb_st_shard_name(buf, sizeof buf, 1, 3);
    assert_string_equal(buf, "model-00001-of-00003.safetensors");
    mpb_st_shard_name(buf, sizeof buf, 3, 3);
    assert_string_equal(buf, "model-00003-of-00003.safetensors");
    mpb_st_shard_name(buf, sizeof buf, 1, 1);
    assert_string_equal(buf, "model.safetensors");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors), cmocka_unit_test(test_mixed_round_trip),
        cmocka_unit_test(test_writer_refuses),    cmocka_unit_test(test_index_write),
        cmocka_unit_test(test_shard_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
