/* A model's non-tensor files: the set, its folder and HDF5 forms, and the
 * config.json dtype edit. */
#include "mpb_h5.h"
#include "mpb_hf_files.h"

#include <hdf5.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "interop_main.h"

static char tmp_dir[] = "/tmp/mpb_test_hf_files.XXXXXX";

static void make_set(mpb_hf_files *set)
{
    mpb_error err = {0};
    static const unsigned char binary[] = {0, 1, 2, 255, 0, 7};
    assert_int_equal(mpb_hf_files_add(set, "config.json", "{\"a\": 1}\n", 9, &err), MPB_OK);
    assert_int_equal(mpb_hf_files_add(set, "tokenizer.model", binary, sizeof binary, &err),
                     MPB_OK);
    assert_int_equal(mpb_hf_files_add(set, "empty.txt", "", 0, &err), MPB_OK);
}

static void assert_same_set(const mpb_hf_files *a, const mpb_hf_files *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const mpb_hf_file *f = mpb_hf_files_find(b, a->files[i].name);
        assert_non_null(f);
        assert_int_equal(f->len, a->files[i].len);
        assert_non_null(f->data);
        if (f->len > 0)
            assert_memory_equal(f->data, a->files[i].data, f->len);
    }
}

static void test_add_and_find(void **state)
{
    (void)state;
    mpb_hf_files set = {0};
    make_set(&set);
    mpb_error err = {0};
    assert_int_equal(mpb_hf_files_add(&set, "config.json", "x", 1, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "'config.json' is listed twice"));
    const char *bad[] = {"", "a/b", ".", ".."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mpb_error_clear(&err);
        assert_int_equal(mpb_hf_files_add(&set, bad[i], "x", 1, &err), MPB_EINVAL);
    }
    assert_int_equal(set.n, 3);
    const mpb_hf_file *f = mpb_hf_files_find(&set, "tokenizer.model");
    assert_non_null(f);
    assert_int_equal(f->len, 6);
    assert_int_equal(f->data[3], 255);
    assert_null(mpb_hf_files_find(&set, "missing.json"));
    mpb_hf_files_free(&set);
    assert_int_equal(set.n, 0);
}

static void test_folder_round_trip(void **state)
{
    (void)state;
    char dir[sizeof tmp_dir + 16];
    snprintf(dir, sizeof dir, "%s/folder", tmp_dir);
    assert_int_equal(mkdir(dir, 0777), 0);
    mpb_hf_files set = {0}, back = {0};
    make_set(&set);
    mpb_error err = {0};
    assert_int_equal(mpb_hf_files_write_dir(dir, &set, &err), MPB_OK);
    const char *names[] = {"empty.txt", "config.json", "tokenizer.model"};
    assert_int_equal(mpb_hf_files_read_dir(dir, names, 3, &back, &err), MPB_OK);
    assert_same_set(&set, &back);
    /* Never overwrites: outputs are fresh folders. */
    assert_int_equal(mpb_hf_files_write_dir(dir, &set, &err), MPB_EIO);
    assert_non_null(strstr(err.msg, "/folder/config.json: cannot create"));
    mpb_error_clear(&err);
    const char *missing[] = {"nope.json"};
    assert_int_equal(mpb_hf_files_read_dir(dir, missing, 1, &back, &err), MPB_EIO);
    assert_non_null(strstr(err.msg, "nope.json"));
    mpb_hf_files_free(&set);
    mpb_hf_files_free(&back);
}

static void make_h5(const char *path)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hsize_t dims = 4;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    hid_t d =
        H5Dcreate2(f, "weight", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);
}

static void test_h5_round_trip(void **state)
{
    (void)state;
    char path[sizeof tmp_dir + 16];
    snprintf(path, sizeof path, "%s/m.h5", tmp_dir);
    make_h5(path);
    mpb_hf_files set = {0}, back = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_hf_files_read_h5(path, &back, &err), MPB_OK);
    assert_int_equal(back.n, 0); /* no group: no files */
    make_set(&set);
    assert_int_equal(mpb_hf_files_write_h5(path, &set, &err), MPB_OK);
    assert_int_equal(mpb_hf_files_read_h5(path, &back, &err), MPB_OK);
    assert_same_set(&set, &back);
    /* The tensors are untouched and the group is not one of them. */
    mpb_index idx = {0};
    assert_int_equal(mpb_h5_read_index(path, &idx, &err), MPB_OK);
    assert_int_equal(idx.n, 1);
    assert_string_equal(idx.tensors[0].name, "weight");
    mpb_index_free(&idx);
    mpb_hf_files_free(&set);
    mpb_hf_files_free(&back);
}

static void test_h5_rejects_non_bytes(void **state)
{
    (void)state;
    char path[sizeof tmp_dir + 16];
    snprintf(path, sizeof path, "%s/bad.h5", tmp_dir);
    make_h5(path);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, MPB_FILES_GROUP, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims = 2;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    H5Dclose(H5Dcreate2(g, "config.json", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT));
    H5Sclose(space);
    H5Gclose(g);
    H5Fclose(f);
    mpb_hf_files back = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_hf_files_read_h5(path, &back, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "bad.h5"));
    assert_non_null(strstr(err.msg, "'hf_files/config.json' is not a 1-D dataset of bytes"));
    assert_int_equal(back.n, 0);
}

static const char config_text[] =
    "{\n  \"architectures\": [\"Qwen3ForCausalLM\"],\n  \"initializer_range\": 0.02,\n"
    "  \"name\": \"na\xc3\xafve\",\n  \"nested\": {\"eps\": [1e-06, 0.1, 1e+20, 3.0]},\n"
    "  \"rms_norm_eps\": 1e-06,\n  \"rope_theta\": 1000000,\n  \"torch_dtype\": "
    "\"float32\"\n}\n";

static json_t *config_json(const mpb_hf_files *set)
{
    const mpb_hf_file *f = mpb_hf_files_find(set, "config.json");
    assert_non_null(f);
    json_error_t je;
    json_t *root = json_loadb((const char *)f->data, f->len, 0, &je);
    assert_non_null(root);
    return root;
}

static void test_torch_dtype(void **state)
{
    (void)state;
    mpb_hf_files set = {0};
    mpb_error err = {0};
    assert_int_equal(
        mpb_hf_files_add(&set, "config.json", config_text, strlen(config_text), &err), MPB_OK);
    json_t *before = config_json(&set);
    assert_int_equal(mpb_hf_files_set_torch_dtype(&set, MPB_DT_BF16, &err), MPB_OK);
    json_t *after = config_json(&set);
    assert_string_equal(json_string_value(json_object_get(after, "torch_dtype")), "bfloat16");
    assert_null(json_object_get(after, "dtype")); /* not added when absent */
    /* Everything else, reals included, reads back exactly. */
    json_object_set_new(before, "torch_dtype", json_string("bfloat16"));
    assert_true(json_equal(before, after));
    const mpb_hf_file *f = mpb_hf_files_find(&set, "config.json");
    char *text = strndup((const char *)f->data, f->len);
    assert_null(strstr(text, "9.99999"));
    assert_int_equal(text[f->len - 1], '\n');
    /* Saying so already: left byte for byte. */
    assert_int_equal(mpb_hf_files_set_torch_dtype(&set, MPB_DT_BF16, &err), MPB_OK);
    f = mpb_hf_files_find(&set, "config.json");
    assert_int_equal(f->len, strlen(text));
    assert_memory_equal(f->data, text, f->len);
    free(text);
    json_decref(before);
    json_decref(after);
    mpb_hf_files_free(&set);
}

static void test_torch_dtype_newer_key_and_errors(void **state)
{
    (void)state;
    mpb_hf_files set = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_hf_files_set_torch_dtype(&set, MPB_DT_F16, &err), MPB_OK); /* none */
    const char *newer = "{\"dtype\": \"bfloat16\"}";
    assert_int_equal(mpb_hf_files_add(&set, "config.json", newer, strlen(newer), &err), MPB_OK);
    assert_int_equal(mpb_hf_files_set_torch_dtype(&set, MPB_DT_F16, &err), MPB_OK);
    json_t *root = config_json(&set);
    assert_string_equal(json_string_value(json_object_get(root, "dtype")), "float16");
    assert_string_equal(json_string_value(json_object_get(root, "torch_dtype")), "float16");
    json_decref(root);
    mpb_hf_files_free(&set);

    assert_int_equal(mpb_hf_files_add(&set, "config.json", "{\"a\": ", 6, &err), MPB_OK);
    assert_int_equal(mpb_hf_files_set_torch_dtype(&set, MPB_DT_F16, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "config.json: not valid JSON"));
    mpb_hf_files_free(&set);
    mpb_error_clear(&err);
    assert_int_equal(mpb_hf_files_add(&set, "config.json", "[1]", 3, &err), MPB_OK);
    assert_int_equal(mpb_hf_files_set_torch_dtype(&set, MPB_DT_F16, &err), MPB_EINVAL);
    assert_non_null(strstr(err.msg, "config.json: not a JSON object"));
    mpb_hf_files_free(&set);
}

int main(int argc, char **argv)
{
    mpb_h5_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_find),
        cmocka_unit_test(test_folder_round_trip),
        cmocka_unit_test(test_h5_round_trip),
        cmocka_unit_test(test_h5_rejects_non_bytes),
        cmocka_unit_test(test_torch_dtype),
        cmocka_unit_test(test_torch_dtype_newer_key_and_errors),
    };
    return interop_main(argc, argv, tmp_dir, "test_hf_files", tests,
                        sizeof tests / sizeof *tests);
}
