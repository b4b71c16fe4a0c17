/* The safetensors store backend on one rank: a folder written in pieces
 * passes the format's rules and reads back byte for byte; which backend
 * claims a path; shard sizes on the command line. */
#include "mpb_export.h"
#include "mpb_safetensors.h"
#include "mpb_store.h"

#include <mpi.h>
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

static char tmp_dir[] = "/tmp/mpb_test_store_st.XXXXXX";

/* Element sizes differ so that the writer's alignment order matters. */
static void make_index(mpb_index *idx)
{
    mpb_error err = {0};
    uint64_t s_bf16[] = {5, 3}, s_f32[] = {7}, s_u8[] = {3, 3}, s_f8[] = {2},
             s_empty[] = {0, 4}, s_f16[] = {4, 2, 2};
    assert_int_equal(mpb_index_add(idx, "w.bf16", MPB_DT_BF16, 2, s_bf16, &err), MPB_OK);
    assert_int_equal(mpb_index_add(idx, "b.f32", MPB_DT_F32, 1, s_f32, &err), MPB_OK);
    assert_int_equal(mpb_index_add(idx, "mask.u8", MPB_DT_U8, 2, s_u8, &err), MPB_OK);
    assert_int_equal(mpb_index_add(idx, "scale.f8", MPB_DT_F8_E4M3, 1, s_f8, &err), MPB_OK);
    assert_int_equal(mpb_index_add(idx, "steps.i64", MPB_DT_I64, 0, NULL, &err), MPB_OK);
    assert_int_equal(mpb_index_add(idx, "empty.f32", MPB_DT_F32, 2, s_empty, &err), MPB_OK);
    assert_int_equal(mpb_index_add(idx, "h.f16", MPB_DT_F16, 3, s_f16, &err), MPB_OK);
    mpb_index_sort(idx);
}

/* Tensor t's bytes: a pattern unique to the tensor and position. */
static unsigned char pattern(size_t t, uint64_t i)
{
    return (unsigned char)(t * 37 + i * 11 + 1);
}

static void write_model(const char *dir, const mpb_index *idx, uint64_t shard_bytes)
{
    mpb_io_opts opts = {.collective = false, .shard_bytes = shard_bytes};
    void *h = NULL;
    mpb_error err = {0};
    assert_int_equal(mpb_store_safetensors.create(dir, MPI_COMM_WORLD, idx, &opts, &h, &err),
                     MPB_OK);
    /* One row at a time, last row first: every piece lands at its offset. */
    for (size_t t = 0; t < idx->n; t++) {
        const mpb_tensor *tensor = &idx->tensors[t];
        uint64_t rb = mpb_tensor_row_bytes(tensor), rows = mpb_tensor_rows(tensor);
        unsigned char row[64];
        for (uint64_t r = rows; r-- > 0;) {
            for (uint64_t b = 0; b < rb; b++)
                row[b] = pattern(t, r * rb + b);
            assert_int_equal(mpb_store_safetensors.write_rows(h, t, r, 1, row, &err), MPB_OK);
        }
        assert_int_equal(mpb_store_safetensors.write_rows(h, t, 0, 0, row, &err), MPB_OK);
    }
    assert_int_equal(mpb_store_safetensors.close(h, &err), MPB_OK);
}

static void check_layout(const char *dir, const mpb_index *idx, size_t want_files)
{
    mpb_st_model m;
    mpb_error err = {0};
    /* The parser checks offsets tile each file and the index matches. */
    assert_int_equal(mpb_st_model_open(dir, &m, &err), MPB_OK);
    assert_int_equal(m.n_files, want_files);
    assert_int_equal(m.n_tensors, idx->n);
    for (size_t f = 0; f < m.n_files; f++) {
        assert_int_equal(m.files[f].data_start % 8, 0);
        assert_int_equal(m.files[f].n_meta, 1);
        assert_string_equal(m.files[f].meta_keys[0], "format");
        assert_string_equal(m.files[f].meta_values[0], "pt");
        for (size_t t = 0; t < m.files[f].n_tensors; t++) {
            const mpb_st_tensor *st = &m.files[f].tensors[t];
            assert_int_equal((st->begin - m.files[f].data_start) % mpb_dtype_size(st->dtype),
                             0);
        }
    }
    mpb_st_model_free(&m);
}

static void read_back(const char *dir, const mpb_index *idx)
{
    mpb_index got = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_store_safetensors.read_index(dir, &got, &err), MPB_OK);
    assert_int_equal(got.n, idx->n);
    for (size_t t = 0; t < idx->n; t++) {
        assert_string_equal(got.tensors[t].name, idx->tensors[t].name);
        assert_int_equal(got.tensors[t].dtype, idx->tensors[t].dtype);
        assert_int_equal(got.tensors[t].ndim, idx->tensors[t].ndim);
        assert_memory_equal(got.tensors[t].shape, idx->tensors[t].shape,
                            sizeof got.tensors[t].shape);
    }
    mpb_io_opts opts = {0};
    void *h = NULL;
    assert_int_equal(mpb_store_safetensors.open(dir, MPI_COMM_WORLD, &got, &opts, &h, &err),
                     MPB_OK);
    for (size_t t = 0; t < got.n; t++) {
        uint64_t rows = mpb_tensor_rows(&got.tensors[t]),
                 bytes = mpb_tensor_bytes(&got.tensors[t]);
        unsigned char buf[128];
        memset(buf, 0xEE, sizeof buf);
        uint64_t first = rows / 2; /* two pieces: [0, first) and [first, rows) */
        uint64_t rb = mpb_tensor_row_bytes(&got.tensors[t]);
        assert_int_equal(mpb_store_safetensors.read_rows(h, t, 0, first, buf, &err), MPB_OK);
        assert_int_equal(
            mpb_store_safetensors.read_rows(h, t, first, rows - first, buf + first * rb, &err),
            MPB_OK);
        for (uint64_t i = 0; i < bytes; i++)
            assert_int_equal(buf[i], pattern(t, i));
    }
    assert_int_equal(mpb_store_safetensors.read_rows(h, 0, 0, 99, NULL, &err), MPB_EINTERNAL);
    assert_non_null(strstr(err.msg, "outside tensor"));
    mpb_error_clear(&err);
    assert_int_equal(mpb_store_safetensors.close(h, &err), MPB_OK);
    mpb_index_free(&got);
}

static void test_write_and_read(void **state)
{
    (void)state;
    mpb_index idx = {0};
    make_index(&idx);
    char single[sizeof tmp_dir + 16], sharded[sizeof tmp_dir + 16];
    snprintf(single, sizeof single, "%s/single", tmp_dir);
    snprintf(sharded, sizeof sharded, "%s/sharded", tmp_dir);
    write_model(single, &idx, 0); /* 0: the 5 GB default */
    check_layout(single, &idx, 1);
    read_back(single, &idx);
    write_model(sharded, &idx, 40);
    /* Index order, a new shard past 40 bytes: b.f32 28 + empty 0 | h.f16 32 |
     * mask.u8 9 + scale.f8 2 + steps.i64 8 | w.bf16 30. */
    check_layout(sharded, &idx, 4);
    read_back(sharded, &idx);
    mpb_index_free(&idx);
}

static void test_create_refuses_existing(void **state)
{
    (void)state;
    mpb_index idx = {0};
    make_index(&idx);
    mpb_io_opts opts = {0};
    void *h = (void *)1;
    mpb_error err = {0};
    assert_int_equal(
        mpb_store_safetensors.create(tmp_dir, MPI_COMM_WORLD, &idx, &opts, &h, &err), MPB_EIO);
    assert_null(h);
    assert_non_null(strstr(err.msg, tmp_dir));
    assert_non_null(strstr(err.msg, "cannot create folder"));
    mpb_index_free(&idx);
}

static void test_open_checks_tensors(void **state)
{
    (void)state;
    char single[sizeof tmp_dir + 16];
    snprintf(single, sizeof single, "%s/single", tmp_dir);
    mpb_index idx = {0};
    mpb_error err = {0};
    uint64_t shape[] = {3};
    assert_int_equal(mpb_index_add(&idx, "not.there", MPB_DT_F32, 1, shape, &err), MPB_OK);
    mpb_io_opts opts = {0};
    void *h = NULL;
    assert_int_equal(mpb_store_safetensors.open(single, MPI_COMM_WORLD, &idx, &opts, &h, &err),
                     MPB_EINVAL);
    assert_non_null(strstr(err.msg, "no tensor 'not.there'"));
    assert_null(h);
    mpb_index_free(&idx);
}

static void test_files_and_config(void **state)
{
    (void)state;
    char dir[sizeof tmp_dir + 16];
    snprintf(dir, sizeof dir, "%s/files", tmp_dir);
    mpb_index idx = {0};
    make_index(&idx); /* h.f16 holds 32 bytes, w.bf16 30, b.f32 28 */
    write_model(dir, &idx, 0);
    mpb_hf_files set = {0}, back = {0};
    mpb_error err = {0};
    const char *config = "{\"torch_dtype\": \"float32\"}";
    assert_int_equal(mpb_hf_files_add(&set, "config.json", config, strlen(config), &err),
                     MPB_OK);
    assert_int_equal(mpb_hf_files_add(&set, "vocab.txt", "a\nb\n", 4, &err), MPB_OK);
    assert_int_equal(mpb_store_safetensors.write_files(dir, &idx, &set, &err), MPB_OK);
    assert_int_equal(mpb_store_safetensors.read_files(dir, &back, &err), MPB_OK);
    assert_int_equal(back.n, 2);
    const mpb_hf_file *c = mpb_hf_files_find(&back, "config.json");
    assert_non_null(c);
    assert_non_null(strstr((const char *)c->data, "\"torch_dtype\": \"float16\""));
    assert_memory_equal(mpb_hf_files_find(&back, "vocab.txt")->data, "a\nb\n", 4);
    /* The caller's set is not edited. */
    assert_memory_equal(mpb_hf_files_find(&set, "config.json")->data, config, strlen(config));
    mpb_hf_files_free(&set);
    mpb_hf_files_free(&back);
    /* A single file carries none. */
    char file[sizeof tmp_dir + 40];
    snprintf(file, sizeof file, "%s/single/model.safetensors", tmp_dir);
    assert_int_equal(mpb_store_safetensors.read_files(file, &back, &err), MPB_OK);
    assert_int_equal(back.n, 0);
    mpb_index_free(&idx);
}

static void test_backend_choice(void **state)
{
    (void)state;
    assert_ptr_equal(mpb_store_for_path(tmp_dir), &mpb_store_safetensors);
    assert_ptr_equal(mpb_store_for_path("/nowhere/adapter.safetensors"),
                     &mpb_store_safetensors);
    assert_ptr_equal(mpb_store_for_path("/nowhere/model.h5"), &mpb_store_hdf5);
    assert_ptr_equal(mpb_store_by_name("hdf5"), &mpb_store_hdf5);
    assert_ptr_equal(mpb_store_by_name("safetensors"), &mpb_store_safetensors);
    assert_null(mpb_store_by_name("gguf"));
    assert_true(mpb_store_safetensors.folder);
    assert_false(mpb_store_hdf5.folder);
}

static void test_parse_size(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(mpb_export_parse_size("5GB", &v), 0);
    assert_true(v == 5000000000ull);
    assert_int_equal(mpb_export_parse_size("2GiB", &v), 0);
    assert_true(v == 2ull << 30);
    assert_int_equal(mpb_export_parse_size("500mb", &v), 0);
    assert_true(v == 500000000ull);
    assert_int_equal(mpb_export_parse_size("300KB", &v), 0);
    assert_true(v == 300000ull);
    assert_int_equal(mpb_export_parse_size("1000", &v), 0);
    assert_true(v == 1000);
    const char *bad[] = {"", "GB", "0", "0GB", "5XB", "-1", "1.5GB", " 5GB", "99999999999TB"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(mpb_export_parse_size(bad[i], &v), -1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_choice),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_write_and_read),
        cmocka_unit_test(test_create_refuses_existing),
        cmocka_unit_test(test_open_checks_tensors),
        cmocka_unit_test(test_files_and_config),
    };
    return interop_main(argc, argv, tmp_dir, "test_store_st", tests,
                        sizeof tests / sizeof *tests);
}
