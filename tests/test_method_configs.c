/* Every config in configs/ parses and resolves for every tensor of its
 * model (Qwen3-4B: 36 layers; Qwen3-30B-A3B: 48 layers of 128 experts, from
 * the index `synth` would write, no data) with the parameters its file name
 * promises. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpb_arch.h"
#include "mpb_config.h"

#ifndef MPB_CONFIGS_DIR
#error "MPB_CONFIGS_DIR must name the configs folder"
#endif

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    text[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return text;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* What the file's name promises for one tensor. */
static void check_tensor(const char *file, const mpb_config *c, const char *name,
                         const mpb_tensor_params *p)
{
    int layer = mpb_tensor_layer(name);
    double lambda;
    int first, last;
    if (sscanf(file, "mi-%lf.yaml", &lambda) == 1) {
        assert_int_equal(mpb_config_method(c), MPB_METHOD_INTERPOLATE);
        assert_int_equal(p->copy_from, -1);
        assert_true(p->lambda == lambda);
    } else if (sscanf(file, "layers-%d-%d.yaml", &first, &last) == 2) {
        bool inside = layer >= first && layer <= last;
        assert_int_equal(p->copy_from, inside ? -1 : mpb_config_keep_outside(c));
        assert_string_equal(mpb_config_input_origin(c, (size_t)mpb_config_keep_outside(c)),
                            "models[0]");
        if (inside)
            assert_true(p->lambda == 0.8);
    } else if (strcmp(file, "no-attention.yaml") == 0 || strcmp(file, "no-ffn.yaml") == 0) {
        const char *module = file[3] == 'a' ? "self_attn" : "mlp";
        assert_true(p->lambda == (strstr(name, module) ? 0.0 : 0.8));
    } else if (strcmp(file, "task-arithmetic.yaml") == 0 || strcmp(file, "ties.yaml") == 0) {
        bool ties = file[0] == 't' && file[1] == 'i';
        assert_int_equal(mpb_config_method(c),
                         ties ? MPB_METHOD_TIES : MPB_METHOD_TASK_ARITHMETIC);
        assert_string_equal(mpb_config_input_origin(c, (size_t)p->base_index), "base_model");
        assert_true(p->lambda == (ties ? 0.5 : 0.7));
        assert_int_equal(p->normalize, ties);
        for (size_t i = 0; i < 2; i++) {
            assert_true(p->weight[i] == 1.0);
            assert_true(p->density[i] == (ties ? 0.2 : 1.0));
        }
    } else {
        fail_msg("configs/%s: no expectation in this test", file);
    }
}

static void check_config(const char *dir, const char *file, const mpb_index *model, int layers)
{
    char path[1024], line[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t len;
    char *text = read_file(path, &len);
    mpb_config *c = NULL;
    mpb_error err = {0};
    if (mpb_config_parse(text, len, path, &c, &err) != MPB_OK)
        fail_msg("%s: %s", path, err.msg);
    assert_int_equal(mpb_config_out_dtype(c), MPB_DT_BF16);
    for (size_t t = 0; t < model->n; t++) {
        const char *name = model->tensors[t].name;
        mpb_tensor_params p;
        if (mpb_config_resolve(c, name, layers, &p, &err) != MPB_OK)
            fail_msg("%s: %s: %s", path, name, err.msg);
        check_tensor(file, c, name, &p);
        mpb_config_describe(c, name, layers, line, sizeof line);
        assert_null(strstr(line, "error"));
    }
    /* A model with fewer layers than the range names is refused. */
    int first, last;
    if (mpb_config_layer_range(c, &first, &last) && last > 3) {
        mpb_tensor_params p;
        assert_int_not_equal(
            mpb_config_resolve(c, "model.layers.0.mlp.up_proj.weight", 4, &p, &err), MPB_OK);
        assert_non_null(strstr(err.msg, "reaches past the last layer"));
    }
    mpb_config_free(c);
    free(text);
}

/* Checks every merge config in configs/STUDY against ARCH's tensors; the
 * sweep config (sweep.yaml) is for tests/methods/test_configs.py. */
static size_t check_study(const char *study, const char *arch, int layers)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", MPB_CONFIGS_DIR, study);
    mpb_index idx = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_arch_index(arch, MPB_DT_BF16, &idx, &err), MPB_OK);
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!ends_with(e->d_name, ".yaml") || strcmp(e->d_name, "sweep.yaml") == 0)
            continue;
        check_config(dir, e->d_name, &idx, layers);
        n++;
    }
    closedir(d);
    mpb_index_free(&idx);
    return n;
}

static void test_every_study_config(void **state)
{
    (void)state;
    /* 9 interpolation points, 5 layer ranges, 2 modules, 2 baselines. */
    assert_int_equal(check_study("qwen3-4b", "qwen3-4b", 36), 18);
}

static void test_every_30b_a3b_config(void **state)
{
    (void)state;
    /* 11 interpolation points, 5 layer ranges, 2 modules. */
    assert_int_equal(check_study("qwen3-30b-a3b", "qwen3-30b-a3b", 48), 18);
}

/* qwen3-moe-mini stands in for Qwen3-30B-A3B in merges that run (a few MB
 * instead of 61 GB): the same tensor names, every shape smaller. */
static void test_moe_mini_has_the_30b_names(void **state)
{
    (void)state;
    mpb_index big = {0}, mini = {0};
    mpb_error err = {0};
    assert_int_equal(mpb_arch_index("qwen3-30b-a3b", MPB_DT_BF16, &big, &err), MPB_OK);
    assert_int_equal(mpb_arch_index("qwen3-moe-mini", MPB_DT_BF16, &mini, &err), MPB_OK);
    assert_int_equal(big.n, mini.n);
    /* 48 x (2 norms + 4 projections + 2 q/k norms + router + 128 x 3 experts)
     * + embeddings, final norm, lm_head. */
    assert_int_equal(big.n, 48 * (2 + 4 + 2 + 1 + 128 * 3) + 3);
    for (size_t t = 0; t < big.n; t++) {
        assert_string_equal(big.tensors[t].name, mini.tensors[t].name);
        assert_int_equal(big.tensors[t].ndim, mini.tensors[t].ndim);
    }
    /* Shapes from Qwen3-30B-A3B's config.json. */
    long router = mpb_index_find(&big, "model.layers.47.mlp.gate.weight");
    long down = mpb_index_find(&big, "model.layers.0.mlp.experts.127.down_proj.weight");
    long k = mpb_index_find(&big, "model.layers.3.self_attn.k_proj.weight");
    assert_true(router >= 0 && down >= 0 && k >= 0);
    const mpb_tensor *t = big.tensors;
    assert_true(t[router].shape[0] == 128 && t[router].shape[1] == 2048);
    assert_true(t[down].shape[0] == 2048 && t[down].shape[1] == 768);
    assert_true(t[k].shape[0] == 4 * 128 && t[k].shape[1] == 2048);
    assert_true(mpb_index_find(&big, "lm_head.weight") >= 0);
    /* 30.5 billion parameters in bf16. */
    assert_true(mpb_index_total_bytes(&big) > 60e9 && mpb_index_total_bytes(&big) < 62e9);
    mpb_index_free(&big);
    mpb_index_free(&mini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_study_config),
        cmocka_unit_test(test_every_30b_a3b_config),
        cmocka_unit_test(test_moe_mini_has_the_30b_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
