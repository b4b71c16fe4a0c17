/* The real files in the shared test data (see its SOURCES.md): expected
 * names, dtypes, shapes and a few values were read off the bytes with
 * Python (struct/json/numpy), not with mpiblend. */
#include "test_safetensors_util.h"

#include "mpb_safetensors.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define FLUX_DIR "FluxML__SafeTensors.jl/test/sharded"
#define BURN_FILE "tracel-ai__burn/examples/import-model-weights/weights/mnist.safetensors"
#define MLX_DIR "wyek1n__MLX-CLI/adapters"

static const mpb_st_tensor *find(const mpb_st_model *m, const char *name)
{
    const mpb_st_ref *r = mpb_st_model_find(m, name);
    if (r == NULL)
        fail_msg("tensor %s not found", name);
    return mpb_st_model_tensor(m, r);
}

static const mpb_st_tensor *file_find(const mpb_st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    fail_msg("tensor %s not in %s", name, f->path);
    return NULL;
}

static uint64_t le(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static float f32_at(const char *path, uint64_t off)
{
    unsigned char b[4];
    st_read_at(path, off, b, 4);
    uint32_t bits = (uint32_t)le(b, 4);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static double f64_at(const char *path, uint64_t off)
{
    unsigned char b[8];
    st_read_at(path, off, b, 8);
    uint64_t bits = le(b, 8);
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

static int64_t int_at(const char *path, uint64_t off, int size)
{
    unsigned char b[8];
    st_read_at(path, off, b, (size_t)size);
    uint64_t v = le(b, size);
    uint64_t sign = 1ull << (8 * size - 1);
    return size == 8 ? (int64_t)v : (int64_t)(v ^ sign) - (int64_t)sign;
}

/* Normal binary16 numbers only, which is all the test needs. */
static double f16_at(const char *path, uint64_t off)
{
    unsigned bits = (unsigned)int_at(path, off, 2) & 0xFFFFu;
    double mant = 1.0 + (bits & 0x3FFu) / 1024.0;
    double v = ldexp(mant, (int)((bits >> 10) & 0x1Fu) - 15);
    return bits & 0x8000u ? -v : v;
}

static double bf16_at(const char *path, uint64_t off)
{
    uint32_t bits = (uint32_t)((unsigned)int_at(path, off, 2) & 0xFFFFu) << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* The FluxML tensors are named <torch dtype>_<shape digits>. */
static const struct {
    const char *torch;
    mpb_dtype dt;
} flux_dtypes[] = {
    {"bool", MPB_DT_BOOL},
    {"uint8", MPB_DT_U8},
    {"int8", MPB_DT_I8},
    {"int16", MPB_DT_I16},
    {"int32", MPB_DT_I32},
    {"int64", MPB_DT_I64},
    {"float16", MPB_DT_F16},
    {"bfloat16", MPB_DT_BF16},
    {"float32", MPB_DT_F32},
    {"float64", MPB_DT_F64},
    {"float8_e4m3fn", MPB_DT_F8_E4M3},
    {"float8_e5m2", MPB_DT_F8_E5M2},
};

static void test_flux_sharded_names_dtypes_shapes(void **state)
{
    (void)state;
    mpb_st_model m;
    mpb_error err = {0};
    assert_int_equal(mpb_st_model_open(st_data_path(FLUX_DIR), &m, &err), MPB_OK);
    assert_int_equal(m.n_files, 6);
    assert_int_equal(m.n_tensors, 36);
    assert_non_null(m.index_path);
    assert_int_equal(m.n_extra, 0);
    const char *shapes[] = {"3", "35", "357"};
    for (size_t d = 0; d < sizeof flux_dtypes / sizeof *flux_dtypes; d++)
        for (int s = 0; s < 3; s++) {
            char name[64];
            snprintf(name, sizeof name, "%s_%s", flux_dtypes[d].torch, shapes[s]);
            const mpb_st_tensor *t = find(&m, name);
            assert_int_equal(t->dtype, flux_dtypes[d].dt);
            assert_int_equal(t->ndim, s + 1);
            for (int k = 0; k <= s; k++)
                assert_int_equal(t->shape[k], (uint64_t)(shapes[s][k] - '0'));
        }
    /* Shard contents per SOURCES.md; each shard is a pt-format file. */
    const size_t per_shard[] = {19, 1, 2, 4, 7, 3};
    for (size_t i = 0; i < 6; i++) {
        char suffix[64];
        snprintf(suffix, sizeof suffix, "/model-%05zu-of-00006.safetensors", i + 1);
        const mpb_st_file *f = &m.files[i];
        assert_non_null(strstr(f->path, suffix));
        assert_int_equal(f->n_tensors, per_shard[i]);
        assert_int_equal(f->n_meta, 1);
        assert_string_equal(f->meta_keys[0], "format");
        assert_string_equal(f->meta_values[0], "pt");
        assert_int_equal(f->data_start % 8, 0);
    }
    assert_int_equal(mpb_st_model_find(&m, "float32_357")->file, 1);
    assert_int_equal(mpb_st_model_find(&m, "bool_357")->file, 2);
    assert_int_equal(mpb_st_model_find(&m, "bfloat16_357")->file, 5);
    assert_null(mpb_st_model_find(&m, "float32_3579"));
    mpb_st_model_free(&m);
}

static void test_flux_values(void **state)
{
    (void)state;
    mpb_st_model m;
    mpb_error err = {0};
    assert_int_equal(mpb_st_model_open(st_data_path(FLUX_DIR), &m, &err), MPB_OK);
#define AT(name, i, size)                            \
    m.files[mpb_st_model_find(&m, name)->file].path, \
        find(&m, name)->begin + (uint64_t)(i) * (size)
    assert_int_equal(int_at(AT("int64_3", 0, 8), 8), 64);
    assert_int_equal(int_at(AT("int64_3", 2, 8), 8), 30);
    assert_int_equal(int_at(AT("int64_35", 3, 8), 8), 79);
    assert_int_equal(int_at(AT("int64_35", 14, 8), 8), 24);
    assert_int_equal(int_at(AT("int32_3", 0, 4), 4), 42);
    assert_int_equal(int_at(AT("int16_3", 1, 2), 2), 9);
    assert_int_equal(int_at(AT("int8_3", 2, 1), 1), 26);
    assert_int_equal(int_at(AT("uint8_35", 2, 1), 1), 93);
    assert_int_equal(int_at(AT("uint8_357", 104, 1), 1), 59);
    assert_true(f32_at(AT("float32_3", 0, 4)) == 0.01330372504889965f);
    assert_true(f32_at(AT("float32_3", 2, 4)) == 0.4747563302516937f);
    assert_true(f32_at(AT("float32_357", 0, 4)) == 1.1634349822998047f);
    assert_true(f32_at(AT("float32_357", 104, 4)) == 0.6281020641326904f);
    assert_true(f64_at(AT("float64_3", 1, 8)) == -0.09626170885828042);
    assert_true(f64_at(AT("float64_357", 0, 8)) == 0.7628795940878748);
    assert_true(f16_at(AT("float16_3", 0, 2)) == 0.123779296875);
    assert_true(f16_at(AT("float16_3", 1, 2)) == 1.6435546875);
    assert_true(bf16_at(AT("bfloat16_3", 0, 2)) == -0.82421875);
    assert_true(bf16_at(AT("bfloat16_3", 2, 2)) == 0.84375);
    assert_int_equal(int_at(AT("float8_e4m3fn_3", 0, 1), 1) & 0xFF, 174);
    assert_int_equal(int_at(AT("float8_e5m2_3", 1, 1), 1) & 0xFF, 178);
    for (int i = 0; i < 105; i++) /* torch.bool bytes are 0 or 1; these are all 0 */
        assert_int_equal(int_at(AT("bool_357", i, 1), 1), 0);
#undef AT
    mpb_st_model_free(&m);
}

static void test_burn_mnist(void **state)
{
    (void)state;
    const char *path = st_data_path(BURN_FILE);
    mpb_st_file f;
    mpb_error err = {0};
    assert_int_equal(mpb_st_open(path, &f, &err), MPB_OK);
    assert_int_equal(f.n_tensors, 20);
    assert_int_equal(f.n_meta, 0);
    assert_int_equal(f.header_len, 1520);
    assert_int_equal(f.data_start % 8, 0); /* space-padded header */
    assert_int_equal(f.file_size, 1509296);
    const char *scalars[] = {"norm1.num_batches_tracked", "norm2.num_batches_tracked"};
    for (int i = 0; i < 2; i++) {
        const mpb_st_tensor *t = file_find(&f, scalars[i]);
        assert_int_equal(t->dtype, MPB_DT_I64);
        assert_int_equal(t->ndim, 0);
        assert_int_equal(t->end - t->begin, 8);
        assert_int_equal(int_at(path, t->begin, 8), 7504);
    }
    const mpb_st_tensor *conv1 = file_find(&f, "conv1.weight");
    assert_int_equal(conv1->dtype, MPB_DT_F32);
    assert_int_equal(conv1->ndim, 4);
    const uint64_t conv1_shape[] = {8, 1, 3, 3};
    assert_memory_equal(conv1->shape, conv1_shape, sizeof conv1_shape);
    assert_true(f32_at(path, conv1->begin) == 0.1658172607421875f);
    const mpb_st_tensor *fc1 = file_find(&f, "fc1.weight");
    assert_int_equal(fc1->shape[0], 32);
    assert_int_equal(fc1->shape[1], 11616);
    assert_int_equal(fc1->begin, f.data_start + 19056);
    assert_true(f32_at(path, file_find(&f, "norm2.running_var")->begin) == 54.63916778564453f);
    mpb_st_file_free(&f);
}

static void test_mlx_adapters(void **state)
{
    (void)state;
    mpb_st_file a, b;
    mpb_error err = {0};
    char pa[4096], pb[4096];
    snprintf(pa, sizeof pa, "%s", st_data_path(MLX_DIR "/0000100_adapters.safetensors"));
    snprintf(pb, sizeof pb, "%s", st_data_path(MLX_DIR "/0000200_adapters.safetensors"));
    assert_int_equal(mpb_st_open(pa, &a, &err), MPB_OK);
    assert_int_equal(mpb_st_open(pb, &b, &err), MPB_OK);
    assert_int_equal(a.n_meta, 0);        /* "__metadata__": null */
    assert_int_equal(a.header_len, 1684); /* unpadded */
    assert_int_equal(a.data_start, 1692);
    assert_int_equal(a.n_tensors, 16);
    /* Offsets are not in key order: the first key's data is near the end. */
    assert_string_equal(a.tensors[0].name, "model.layers.20.self_attn.q_proj.lora_a");
    assert_int_equal(a.tensors[0].begin, a.data_start + 331776);
    const mpb_st_tensor *last = file_find(&a, "model.layers.23.self_attn.v_proj.lora_b");
    assert_int_equal(last->begin, a.data_start);
    assert_int_equal(last->shape[0], 8);
    assert_int_equal(last->shape[1], 128);
    assert_true(f32_at(pa, a.tensors[0].begin) == 0.016382521018385887f);
    assert_true(f32_at(pb, b.tensors[0].begin) == 0.016177697107195854f);
    assert_int_equal(b.n_tensors, a.n_tensors);
    for (size_t i = 0; i < a.n_tensors; i++) {
        assert_string_equal(a.tensors[i].name, b.tensors[i].name);
        assert_int_equal(a.tensors[i].dtype, MPB_DT_F32);
        assert_int_equal(b.tensors[i].dtype, MPB_DT_F32);
        assert_memory_equal(a.tensors[i].shape, b.tensors[i].shape, sizeof a.tensors[i].shape);
        assert_int_equal(a.tensors[i].begin, b.tensors[i].begin);
    }
    mpb_st_file_free(&a);
    mpb_st_file_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flux_sharded_names_dtypes_shapes),
        cmocka_unit_test(test_flux_values),
        cmocka_unit_test(test_burn_mnist),
        cmocka_unit_test(test_mlx_adapters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
