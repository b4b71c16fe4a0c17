/* The file-system side of configs: relative model paths, missing inputs,
 * and mpb_config_load on real files in a scratch folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mpb_config.h"
#include "mpb_hf_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct scratch {
    char dir[64];
} scratch;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int make_scratch(void **state)
{
    scratch *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    snprintf(s->dir, sizeof s->dir, "/tmp/mpb_config_XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int remove_scratch(void **state)
{
    scratch *s = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    int rc = system(cmd);
    free(s);
    return rc == 0 ? 0 : -1;
}

static mpb_config *parse_as(const char *yaml, const char *config_path)
{
    mpb_error err = {0};
    mpb_config *c = NULL;
    int rc = mpb_config_parse(yaml, strlen(yaml), config_path, &c, &err);
    if (rc != MPB_OK)
        print_message("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, MPB_OK);
    return c;
}

static void test_relative_paths(void **state)
{
    (void)state;
    const char *yaml = "merge_method: task_arithmetic\n"
                       "base_model: ./base\n"
                       "models:\n"
                       "  - {model: a.h5, parameters: {weight: 1}}\n"
                       "  - {model: /abs/b.h5, parameters: {weight: 1}}\n"
                       "  - {model: ../up/c.h5, parameters: {weight: 1}}\n"
                       "  - {model: sub//d.h5, parameters: {weight: 1}}\n";
    static const struct {
        const char *config;
        const char *expect[5];
    } cases[] = {
        {"/runs/study/cfg.yaml",
         {"/runs/study/a.h5", "/abs/b.h5", "/runs/study/../up/c.h5", "/runs/study/sub/d.h5",
          "/runs/study/base"}},
        {"configs/cfg.yaml",
         {"configs/a.h5", "/abs/b.h5", "configs/../up/c.h5", "configs/sub/d.h5",
          "configs/base"}},
        {"cfg.yaml", {"a.h5", "/abs/b.h5", "../up/c.h5", "sub/d.h5", "base"}},
        {"/cfg.yaml", {"/a.h5", "/abs/b.h5", "/../up/c.h5", "/sub/d.h5", "/base"}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mpb_config *c = parse_as(yaml, cases[k].config);
        assert_int_equal(mpb_config_n_inputs(c), 5);
        for (size_t i = 0; i < 5; i++)
            assert_string_equal(mpb_config_input_path(c, i), cases[k].expect[i]);
        assert_int_equal(mpb_config_base_index(c), 4);
        mpb_config_free(c);
    }
}

static void test_base_named_two_ways(void **state)
{
    (void)state;
    /* "./base.h5" and "base.h5" are one file: not appended twice. */
    mpb_config *c = parse_as("merge_method: ties\n"
                             "base_model: ./base.h5\n"
                             "models:\n"
                             "  - model: base.h5\n"
                             "  - {model: x.h5, parameters: {weight: 1}}\n",
                             "/runs/cfg.yaml");
    assert_int_equal(mpb_config_n_inputs(c), 2);
    assert_int_equal(mpb_config_base_index(c), 0);
    mpb_config_free(c);
}

static void test_check_files(void **state)
{
    scratch *s = *state;
    char dir_model[128], cfg_path[128], yaml[512], expected[512];
    write_file(s->dir, "a.h5", "not really hdf5");
    snprintf(dir_model, sizeof dir_model, "%s/hf-folder", s->dir);
    assert_int_equal(mkdir(dir_model, 0755), 0);
    snprintf(cfg_path, sizeof cfg_path, "%s/cfg.yaml", s->dir);

    /* A file and a folder are both valid inputs. */
    snprintf(yaml, sizeof yaml,
             "merge_method: slerp\nmodels: [{model: a.h5}, {model: hf-folder}]\n"
             "parameters: {t: 0.5}\n");
    mpb_config *c = parse_as(yaml, cfg_path);
    mpb_error err = {0};
    assert_int_equal(mpb_config_check_files(c, &err), MPB_OK);
    mpb_config_free(c);

    snprintf(yaml, sizeof yaml,
             "merge_method: slerp\nmodels: [{model: a.h5}, {model: missing.h5}]\n"
             "parameters: {t: 0.5}\n");
    c = parse_as(yaml, cfg_path);
    assert_int_equal(mpb_config_check_files(c, &err), MPB_EINVAL);
    snprintf(expected, sizeof expected,
             "model file '%s/missing.h5' (from %s models[1]) does not exist", s->dir, cfg_path);
    assert_string_equal(err.msg, expected);
    mpb_config_free(c);

    mpb_error_clear(&err);
    snprintf(
        yaml, sizeof yaml,
        "merge_method: ties\nbase_model: gone\nmodels: [{model: a.h5, parameters: {weight: "
        "1}}]\n");
    c = parse_as(yaml, cfg_path);
    assert_int_equal(mpb_config_check_files(c, &err), MPB_EINVAL);
    snprintf(expected, sizeof expected,
             "model file '%s/gone' (from %s base_model) does not exist", s->dir, cfg_path);
    assert_string_equal(err.msg, expected);
    mpb_config_free(c);
}

static void test_load(void **state)
{
    scratch *s = *state;
    char cfg_path[128], expected[512];
    write_file(s->dir, "instruct.h5", "x");
    write_file(s->dir, "thinking.h5", "x");
    write_file(s->dir, "study.yaml",
               "merge_method: interpolate\n"
               "models:\n"
               "  - model: instruct.h5\n"
               "  - model: thinking.h5\n"
               "parameters: {lambda: 0.6}\n"
               "out_dtype: bf16\n");
    snprintf(cfg_path, sizeof cfg_path, "%s/study.yaml", s->dir);
    mpb_config *c = NULL;
    mpb_error err = {0};
    assert_int_equal(mpb_config_load(cfg_path, &c, &err), MPB_OK);
    assert_non_null(c);
    snprintf(expected, sizeof expected, "%s/thinking.h5", s->dir);
    assert_string_equal(mpb_config_input_path(c, 1), expected);
    assert_int_equal(mpb_config_out_dtype(c), MPB_DT_BF16);
    mpb_config_free(c);

    /* A missing input fails the load, after parsing succeeded. */
    write_file(s->dir, "broken.yaml",
               "merge_method: interpolate\n"
               "models: [{model: instruct.h5}, {model: nowhere.h5}]\n"
               "parameters: {lambda: 0.6}\n");
    snprintf(cfg_path, sizeof cfg_path, "%s/broken.yaml", s->dir);
    assert_int_equal(mpb_config_load(cfg_path, &c, &err), MPB_EINVAL);
    assert_null(c);
    snprintf(expected, sizeof expected,
             "model file '%s/nowhere.h5' (from %s models[1]) does not exist", s->dir, cfg_path);
    assert_string_equal(err.msg, expected);

    /* Parse errors name the file as given. */
    mpb_error_clear(&err);
    write_file(s->dir, "typo.yaml", "merge_method: interpolate\nmodles: []\n");
    snprintf(cfg_path, sizeof cfg_path, "%s/typo.yaml", s->dir);
    assert_int_equal(mpb_config_load(cfg_path, &c, &err), MPB_EINVAL);
    snprintf(expected, sizeof expected,
             "unknown key 'modles' in %s:2:1; did you mean 'modules'?", cfg_path);
    assert_string_equal(err.msg, expected);

    mpb_error_clear(&err);
    snprintf(cfg_path, sizeof cfg_path, "%s/absent.yaml", s->dir);
    assert_int_equal(mpb_config_load(cfg_path, &c, &err), MPB_EIO);
    assert_null(c);
    snprintf(expected, sizeof expected,
             "cannot read config file '%s': No such file or directory", cfg_path);
    assert_string_equal(err.msg, expected);
}

/* What counts as a Hugging Face name: ORG/NAME[@REVISION], never a path
 * that could leave the cache folder. */
static void test_hf_model_names(void **state)
{
    (void)state;
    static const char *const good[] = {
        "Qwen/Qwen3-4B-Instruct-2507", "org/model-b@v2", "meta-llama/Llama-3.1-8B@refs/pr/1",
        "a/b@0123456789abcdef0123456789abcdef01234567", "a_b/c.d"};
    static const char *const bad[] = {
        "model",    "/abs/path",  "a/b/c",    "../b", "a/..", "a/.",       "a/b@",
        "a/b@../x", "a/b@x/../y", "a/b@x//y", "a /b", "",     "a/b@v1@v2", "./a"};
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++)
        if (!mpb_hf_is_model_name(good[k]))
            fail_msg("'%s' should be a model name", good[k]);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        if (mpb_hf_is_model_name(bad[k]))
            fail_msg("'%s' should not be a model name", bad[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_hf_model_names),
        cmocka_unit_test(test_base_named_two_ways),
        cmocka_unit_test_setup_teardown(test_check_files, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(test_load, make_scratch, remove_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
