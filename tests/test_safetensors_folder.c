/* Folder discovery and the index rules, on copies of the FluxML shards
 * with an edited index and on small generated folders. */
#include "test_safetensors_util.h"

#include "mpb_safetensors.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#define FLUX_DIR "FluxML__SafeTensors.jl/test/sharded"
#define SHARD(i) "model-0000" #i "-of-00006.safetensors"
#define U8(name, n, b, e) \
    "\"" name "\":{\"dtype\":\"U8\",\"shape\":[" #n "],\"data_offsets\":[" #b "," #e "]}"

/* A scratch copy of the six FluxML shards, without the index. */
static char *flux_copy(void)
{
    char *dir = st_tmpdir();
    for (int i = 1; i <= 6; i++) {
        char name[64], rel[128];
        snprintf(name, sizeof name, "model-%05d-of-00006.safetensors", i);
        snprintf(rel, sizeof rel, FLUX_DIR "/%s", name);
        st_copy(st_data_path(rel), dir, name);
    }
    return dir;
}

/* Writes the real FluxML index into dir with weight_map[name] set to shard
 * (removed when shard is NULL) and total_size replaced unless negative. */
static void write_index(const char *dir, const char *name, const char *shard, long total)
{
    json_error_t je;
    json_t *ix = json_load_file(st_data_path(FLUX_DIR "/" MPB_ST_INDEX_NAME), 0, &je);
    assert_non_null(ix);
    json_t *map = json_object_get(ix, "weight_map");
    if (name != NULL && shard != NULL)
        json_object_set_new(map, name, json_string(shard));
    else if (name != NULL)
        assert_int_equal(json_object_del(map, name), 0);
    if (total >= 0)
        json_object_set_new(json_object_get(ix, "metadata"), "total_size", json_integer(total));
    char *text = json_dumps(ix, JSON_INDENT(2));
    st_write(dir, MPB_ST_INDEX_NAME, text, strlen(text));
    free(text);
    json_decref(ix);
}

static void expect_open_error(const char *source, int code, const char *expect)
{
    mpb_st_model m;
    mpb_error err = {0};
    int rc = mpb_st_model_open(source, &m, &err);
    if (rc != code || strstr(err.msg, expect) == NULL)
        fail_msg("open %s: rc %d, message \"%s\"\n  expected %d with \"%s\"", source, rc,
                 err.msg, code, expect);
    assert_null(m.files);
}

static void test_index_rules(void **state)
{
    (void)state;
    char *dir = flux_copy();
    write_index(dir, "ghost.weight", "model-00007-of-00007.safetensors", -1);
    expect_open_error(dir, MPB_EINVAL,
                      "weight_map names shard 'model-00007-of-00007.safetensors' (for tensor "
                      "'ghost.weight'), which is not a file in");
    write_index(dir, "ghost.weight", SHARD(2), -1);
    expect_open_error(
        dir, MPB_EINVAL,
        "weight_map puts tensor 'ghost.weight' in '" SHARD(2) "', but that shard "
                                                              "has no such tensor");
    write_index(dir, "bool_3", NULL, -1);
    expect_open_error(dir, MPB_EINVAL,
                      "shard '" SHARD(1) "' holds tensor 'bool_3', which weight_map does not "
                                         "list");
    write_index(dir, "bool_3", SHARD(2), -1);
    expect_open_error(dir, MPB_EINVAL,
                      "weight_map puts tensor 'bool_3' in '" SHARD(
                          2) "', but it is stored in '" SHARD(1) "'");
    write_index(dir, NULL, NULL, 4306);
    expect_open_error(dir, MPB_EINVAL,
                      MPB_ST_INDEX_NAME ": metadata.total_size is 4306 but the shards' tensors "
                                        "hold 4305 bytes");
    write_index(dir, "../../etc/passwd", "../x.safetensors", -1);
    expect_open_error(dir, MPB_EINVAL,
                      "weight_map['../../etc/passwd'] = '../x.safetensors' is "
                      "not a file name in the index's folder");
    write_index(dir, NULL, NULL, -1);
    mpb_st_model m;
    mpb_error err = {0};
    assert_int_equal(mpb_st_model_open(dir, &m, &err), MPB_OK);
    assert_int_equal(m.n_tensors, 36);
    mpb_st_model_free(&m);
    st_rmtree(dir);
}

static void test_index_json_shape(void **state)
{
    (void)state;
    static const struct {
        const char *json, *expect;
    } cases[] = {
        {"{\"weight_map\":{\"a\":1}}", "weight_map['a'] is not a string naming a shard file"},
        {"{\"weight_map\":{}}", "weight_map is empty"},
        {"{\"metadata\":{}}", "no \"weight_map\""},
        {"{\"weight_map\":[\"a\"]}", "\"weight_map\" is not an object"},
        {"{\"metadata\":[],\"weight_map\":{\"a\":\"s\"}}", "\"metadata\" is not an object"},
        {"{\"metadata\":{\"total_size\":\"12\"},\"weight_map\":{\"a\":\"s\"}}",
         "metadata.total_size is not a non-negative integer"},
        {"{\"weight_map\":{\"a\":\"s\",\"a\":\"t\"}}", "duplicate object key"},
        {"[]", "the index is not a JSON object"},
        {"{\"weight_map\":", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mpb_st_index ix;
        mpb_error err = {0};
        int rc = mpb_st_index_parse("i.json", cases[i].json, strlen(cases[i].json), &ix, &err);
        if (rc != MPB_EINVAL || strncmp(err.msg, "i.json: ", 8) != 0 ||
            strstr(err.msg, cases[i].expect) == NULL)
            fail_msg("%s: rc %d, \"%s\"; expected \"%s\"", cases[i].json, rc, err.msg,
                     cases[i].expect);
    }
    const char *ok = "{\"weight_map\":{\"b\":\"s2\",\"a\":\"s1\",\"c\":\"s1\"}}";
    mpb_st_index ix;
    mpb_error err = {0};
    assert_int_equal(mpb_st_index_parse("i.json", ok, strlen(ok), &ix, &err), MPB_OK);
    assert_false(ix.has_total_size);
    assert_int_equal(ix.n_shards, 2);
    assert_string_equal(ix.shard_files[0], "s1");
    assert_string_equal(ix.shard_files[1], "s2");
    assert_int_equal(ix.n_entries, 3);
    assert_string_equal(ix.names[1], "b");
    assert_int_equal(ix.entry_shard[1], 1);
    assert_int_equal(mpb_st_index_find(&ix, "c"), 2);
    assert_int_equal(mpb_st_index_find(&ix, "d"), -1);
    mpb_st_index_free(&ix);
}

static void test_tensor_in_two_shards(void **state)
{
    (void)state;
    char *dir = st_tmpdir();
    st_write_st(dir, "model-00001-of-00002.safetensors", "{" U8("x", 2, 0, 2) "}", 2);
    st_write_st(dir, "model-00002-of-00002.safetensors",
                "{" U8("x", 2, 0, 2) "," U8("y", 1, 2, 3) "}", 3);
    const char *index = "{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\","
                        "\"y\":\"model-00002-of-00002.safetensors\"}}";
    st_write(dir, MPB_ST_INDEX_NAME, index, strlen(index));
    expect_open_error(dir, MPB_EINVAL, "tensor 'x' is stored in both");
    st_rmtree(dir);
}

static void test_discovery_single_and_extras(void **state)
{
    (void)state;
    char *dir = st_tmpdir();
    st_write_st(dir, MPB_ST_SINGLE_NAME, "{" U8("w", 4, 0, 4) "}", 4);
    st_write_st(dir, "adapter.safetensors", "{" U8("q", 4, 0, 4) "}", 4); /* not the model */
    const char *files[] = {
        "config.json",     "tokenizer.json",     "generation_config.json",
        ".gitattributes",  "pytorch_model.bin",  "pytorch_model.bin.index.json",
        "tokenizer.model", "chat_template.jinja"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        st_write(dir, files[i], "{}", 2);
    char *sub = st_join(dir, "original");
    assert_int_equal(mkdir(sub, 0700), 0);
    free(sub);
    mpb_st_model m;
    mpb_error err = {0};
    assert_int_equal(mpb_st_model_open(dir, &m, &err), MPB_OK);
    assert_int_equal(m.n_files, 1);
    assert_null(m.index_path);
    assert_string_equal(m.dir, dir);
    assert_int_equal(m.n_tensors, 1);
    assert_string_equal(m.tensors[0].name, "w");
    const char *extras[] = {"chat_template.jinja", "config.json", "generation_config.json",
                            "tokenizer.json", "tokenizer.model"};
    assert_int_equal(m.n_extra, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(m.extra_files[i], extras[i]);
    mpb_st_model_free(&m);
    char *slashed = st_join(dir, "");
    assert_int_equal(mpb_st_model_open(slashed, &m, &err), MPB_OK);
    assert_string_equal(m.dir, dir);
    mpb_st_model_free(&m);
    free(slashed);

    /* With an index beside model.safetensors the folder is ambiguous. */
    st_write(dir, MPB_ST_INDEX_NAME, "{}", 2);
    expect_open_error(dir, MPB_EINVAL,
                      "holds both model.safetensors and "
                      "model.safetensors.index.json");
    st_rmtree(dir);
}

static void test_discovery_sharded_extras(void **state)
{
    (void)state;
    char *dir = flux_copy();
    write_index(dir, NULL, NULL, -1);
    st_write(dir, "config.json", "{}", 2);
    st_write_st(dir, "consolidated.safetensors", "{}", 0); /* Mistral-style extra copy */
    mpb_st_model m;
    mpb_error err = {0};
    assert_int_equal(mpb_st_model_open(dir, &m, &err), MPB_OK);
    assert_int_equal(m.n_files, 6);
    assert_int_equal(m.n_extra, 1);
    assert_string_equal(m.extra_files[0], "config.json");
    char *ix = st_join(dir, MPB_ST_INDEX_NAME);
    assert_string_equal(m.index_path, ix);
    free(ix);
    mpb_st_model_free(&m);
    st_rmtree(dir);
}

static void test_discovery_lone_and_files(void **state)
{
    (void)state;
    /* A folder whose only safetensors file has another name. */
    mpb_st_model m;
    mpb_error err = {0};
#define BURN_DIR "tracel-ai__burn/examples/import-model-weights/weights"
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", st_data_path(BURN_DIR));
    assert_int_equal(mpb_st_model_open(dir, &m, &err), MPB_OK);
    assert_int_equal(m.n_files, 1);
    assert_int_equal(m.n_tensors, 20);
    assert_non_null(strstr(m.files[0].path, "/mnist.safetensors"));
    mpb_st_model_free(&m);

    /* The file itself as the source: its folder's other files are not extras. */
    char file[4096];
    snprintf(file, sizeof file, "%s", st_data_path(BURN_DIR "/mnist.safetensors"));
    assert_int_equal(mpb_st_model_open(file, &m, &err), MPB_OK);
    assert_string_equal(m.dir, dir);
    assert_int_equal(m.n_extra, 0);
    assert_int_equal(m.n_tensors, 20);
    const mpb_st_ref *r = mpb_st_model_find(&m, "conv1.bias");
    assert_non_null(r);
    assert_int_equal(mpb_st_model_tensor(&m, r)->shape[0], 8);
    for (size_t i = 1; i < m.n_tensors; i++)
        assert_true(strcmp(m.tensors[i - 1].name, m.tensors[i].name) < 0);
    mpb_st_model_free(&m);

    /* Two adapters and no index: the caller must pick one. */
    expect_open_error(st_data_path("wyek1n__MLX-CLI/adapters"), MPB_EINVAL,
                      "2 .safetensors files (0000100_adapters.safetensors, "
                      "0000200_adapters.safetensors) but no model.safetensors.index.json");
    char *empty = st_tmpdir();
    st_write(empty, "config.json", "{}", 2);
    expect_open_error(empty, MPB_EINVAL, "no .safetensors file");
    st_rmtree(empty);
    expect_open_error("/nonexistent/mpb/model", MPB_EIO, "/nonexistent/mpb/model: cannot open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_rules),
        cmocka_unit_test(test_index_json_shape),
        cmocka_unit_test(test_tensor_in_two_shards),
        cmocka_unit_test(test_discovery_single_and_extras),
        cmocka_unit_test(test_discovery_sharded_extras),
        cmocka_unit_test(test_discovery_lone_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
