/* The sweep section: values, ranges, the grid order, output names, and the
 * per-point configs that the config parser reads back. */
#include "mpb_config.h"
#include "mpb_sweep.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const head = "merge_method: interpolate\n"
                                "models:\n  - model: a.h5\n  - model: b.h5\n";

static mpb_sweep *parse_ok(const char *yaml)
{
    mpb_sweep *s = NULL;
    mpb_error err = {0};
    int rc = mpb_sweep_parse(yaml, strlen(yaml), "cfg.yaml", &s, &err);
    if (rc != MPB_OK)
        fail_msg("unexpected error: %s", err.msg);
    return s;
}

static void expect_error(const char *yaml, const char *fragment)
{
    mpb_sweep *s = NULL;
    mpb_error err = {0};
    assert_int_not_equal(mpb_sweep_parse(yaml, strlen(yaml), "cfg.yaml", &s, &err), MPB_OK);
    assert_null(s);
    if (strstr(err.msg, fragment) == NULL)
        fail_msg("message '%s' lacks '%s'", err.msg, fragment);
}

static char *with_head(const char *rest)
{
    char *text = malloc(strlen(head) + strlen(rest) + 1);
    strcpy(text, head);
    strcat(text, rest);
    return text;
}

static void test_list_values_and_names(void **state)
{
    (void)state;
    char *y = with_head("parameters: {lambda: 0.5}\n"
                        "sweep:\n  output: mi-{lambda}.h5\n"
                        "  parameters:\n    lambda: [0, 0.2, 0.45, 1.0, 1e-3]\n");
    mpb_sweep *s = parse_ok(y);
    assert_int_equal(mpb_sweep_n_points(s), 5);
    assert_int_equal(mpb_sweep_n_params(s), 1);
    const char *texts[] = {"0", "0.2", "0.45", "1", "0.001"};
    const double values[] = {0, 0.2, 0.45, 1.0, 1e-3};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(mpb_sweep_value_text(s, i, 0), texts[i]);
        assert_true(mpb_sweep_value(s, i, 0) == values[i]);
        char *name = NULL;
        mpb_error err = {0};
        assert_int_equal(mpb_sweep_output_name(s, i, &name, &err), MPB_OK);
        char want[64];
        snprintf(want, sizeof want, "mi-%s.h5", texts[i]);
        assert_string_equal(name, want);
        free(name);
    }
    mpb_sweep_free(s);
    free(y);
}

/* start + i*step rounded to 12 significant digits: 0.1 steps land on the
 * decimals a person wrote, and stop is included within tolerance. */
static void test_range_is_float_exact(void **state)
{
    (void)state;
    char *y = with_head("sweep:\n  parameters:\n"
                        "    lambda: {start: 0, stop: 1, step: 0.1}\n");
    mpb_sweep *s = parse_ok(y);
    assert_int_equal(mpb_sweep_n_points(s), 11);
    for (size_t i = 0; i <= 10; i++) {
        char want[16];
        snprintf(want, sizeof want, "%g", (double)i / 10);
        assert_string_equal(mpb_sweep_value_text(s, i, 0), want);
        assert_true(mpb_sweep_value(s, i, 0) == strtod(want, NULL));
    }
    mpb_sweep_free(s);
    free(y);
    y = with_head("sweep:\n  parameters:\n    lambda: {start: 1, stop: 0.3, step: -0.35}\n");
    s = parse_ok(y);
    assert_int_equal(mpb_sweep_n_points(s), 3); /* 1, 0.65, 0.3 */
    assert_string_equal(mpb_sweep_value_text(s, 2, 0), "0.3");
    mpb_sweep_free(s);
    free(y);
}

/* Cartesian product, the first parameter slowest; default names. */
static void test_product_order_and_default_template(void **state)
{
    (void)state;
    char *y = with_head("sweep:\n  parameters:\n    lambda: [0, 1]\n"
                        "    models[1].weight: {values: [2, 3, 4], name: w}\n");
    mpb_sweep *s = parse_ok(y);
    assert_int_equal(mpb_sweep_n_points(s), 6);
    assert_string_equal(mpb_sweep_param_name(s, 1), "w");
    assert_string_equal(mpb_sweep_param_key(s, 1), "models[1].weight");
    assert_string_equal(mpb_sweep_value_text(s, 4, 0), "1");
    assert_string_equal(mpb_sweep_value_text(s, 4, 1), "3");
    char *name = NULL;
    mpb_error err = {0};
    assert_int_equal(mpb_sweep_output_name(s, 4, &name, &err), MPB_OK);
    assert_string_equal(name, "lambda-1_w-3.h5");
    free(name);
    mpb_sweep_free(s);
    free(y);
}

static void test_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *rest, *fragment;
    } cases[] = {
        {"sweep:\n  output: ../mi-{lambda}.h5\n  parameters: {lambda: [0, 1]}\n",
         "not a plain file name"},
        {"sweep:\n  output: x/mi-{lambda}.h5\n  parameters: {lambda: [0, 1]}\n",
         "not a plain file name"},
        {"sweep:\n  output: mi.h5\n  parameters: {lambda: [0, 1]}\n", "names points"},
        {"sweep:\n  output: mi-{lamda}.h5\n  parameters: {lambda: [0, 1]}\n",
         "not a swept field"},
        {"sweep:\n  parameters: {lambda: [0, 1, 0]}\n", "twice"},
        {"sweep:\n  parameters: {lambda: []}\n", "no values"},
        {"sweep:\n  parameters: {lambda: [0, '1']}\n", "not a plain number"},
        {"sweep:\n  parameters: {normalize: [0, 1]}\n", "not a numeric parameter"},
        {"sweep:\n  parameters: {lambda: {start: 0, stop: 1, step: -0.1}}\n", "never gets"},
        {"sweep:\n  parameters: {lambda: {start: 0, stop: 1}}\n", "missing 'step'"},
        {"sweep:\n  parameters: {lambda: {start: 0, stop: 1e9, step: 1}}\n", "more than"},
        {"sweep:\n  parameters:\n    models[x].weight: [1]\n", "models[N].NAME"},
        {"sweep:\n  parametres: {lambda: [1]}\n", "unknown key 'parametres'"},
        {"sweep:\n  parameters: {lambda: [0, 1], t: {values: [0, 1], name: lambda}}\n",
         "same key or name"},
        {"parameters: {lambda: 1}\n", "no sweep"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *y = with_head(cases[i].rest);
        expect_error(y, cases[i].fragment);
        free(y);
    }
}

/* A point's config is a merge config the parser accepts, with the value in
 * place, the sweep gone, and the rest unchanged. */
static void test_point_config_parses(void **state)
{
    (void)state;
    char *y = with_head("parameters:\n"
                        "  lambda:\n    - {filter: self_attn, value: 0}\n    - {value: 0.8}\n"
                        "out_dtype: float32\n"
                        "sweep:\n  output: p-{attn}-{rest}.h5\n  parameters:\n"
                        "    lambda@self_attn: {values: [0.25, 0.5], name: attn}\n"
                        "    lambda@*: {values: [0.75], name: rest}\n");
    mpb_sweep *s = parse_ok(y);
    char *text = NULL;
    mpb_error err = {0};
    assert_int_equal(mpb_sweep_point_config(s, 1, &text, &err), MPB_OK);
    assert_null(strstr(text, "sweep"));
    assert_non_null(strstr(text, "0.5"));
    assert_non_null(strstr(text, "0.75"));
    mpb_config *c = NULL;
    if (mpb_config_parse(text, strlen(text), "cfg.yaml", &c, &err) != MPB_OK)
        fail_msg("point config rejected: %s\n%s", err.msg, text);
    mpb_tensor_params p;
    assert_int_equal(
        mpb_config_resolve(c, "model.layers.0.self_attn.q_proj.weight", 2, &p, &err), MPB_OK);
    assert_true(p.lambda == 0.5);
    assert_int_equal(mpb_config_resolve(c, "model.layers.0.mlp.up_proj.weight", 2, &p, &err),
                     MPB_OK);
    assert_true(p.lambda == 0.75);
    assert_int_equal(mpb_config_out_dtype(c), MPB_DT_F32);
    mpb_config_free(c);
    free(text);
    mpb_sweep_free(s);
    free(y);
}

/* Absent values are inserted: global parameters and a model's. */
static void test_point_config_inserts(void **state)
{
    (void)state;
    const char *y = "merge_method: linear\nmodels:\n  - model: a.h5\n"
                    "    parameters: {weight: 1}\n  - model: b.h5\n"
                    "sweep:\n  parameters:\n    models[1].weight: [2, 3]\n";
    mpb_sweep *s = parse_ok(y);
    char *text = NULL;
    mpb_error err = {0};
    assert_int_equal(mpb_sweep_point_config(s, 1, &text, &err), MPB_OK);
    mpb_config *c = NULL;
    if (mpb_config_parse(text, strlen(text), "cfg.yaml", &c, &err) != MPB_OK)
        fail_msg("point config rejected: %s\n%s", err.msg, text);
    mpb_tensor_params p;
    assert_int_equal(mpb_config_resolve(c, "model.norm.weight", 2, &p, &err), MPB_OK);
    assert_true(p.weight[0] == 1 && p.weight[1] == 3);
    mpb_config_free(c);
    free(text);
    /* The study text hides the swept value and is the same for every point. */
    char *study = NULL;
    assert_int_equal(mpb_sweep_study_config(s, &study, &err), MPB_OK);
    assert_non_null(strstr(study, "SWEPT"));
    assert_null(strstr(study, "sweep"));
    free(study);
    mpb_sweep_free(s);
}

static void test_regrid_keeps_the_rest(void **state)
{
    (void)state;
    char *y = with_head("parameters: {lambda: 0.5}\n"
                        "sweep:\n  output: mi-{lambda}.h5\n  parameters: {lambda: [0, 1]}\n");
    mpb_sweep *s = parse_ok(y);
    const char *values[] = {"0.4", "0.6"};
    const char *const *grid[] = {values};
    size_t counts[] = {2};
    char *text = NULL;
    mpb_error err = {0};
    assert_int_equal(mpb_sweep_regrid_config(s, grid, counts, &text, &err), MPB_OK);
    mpb_sweep *t = parse_ok(text);
    assert_int_equal(mpb_sweep_n_points(t), 2);
    assert_string_equal(mpb_sweep_value_text(t, 1, 0), "0.6");
    assert_string_equal(mpb_sweep_template(t), "mi-{lambda}.h5");
    mpb_sweep_free(t);
    free(text);
    mpb_sweep_free(s);
    free(y);
}

static void test_format_value_round_trips(void **state)
{
    (void)state;
    const double v[] = {0.1, 1.0 / 3, -0.0, 123456789.125, 1e-300, 0.45};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char text[32];
        mpb_sweep_format_value(v[i], text, sizeof text);
        assert_true(strtod(text, NULL) == v[i]);
        assert_true(text[0] != '-' || v[i] < 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_values_and_names),
        cmocka_unit_test(test_range_is_float_exact),
        cmocka_unit_test(test_product_order_and_default_template),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_point_config_parses),
        cmocka_unit_test(test_point_config_inserts),
        cmocka_unit_test(test_regrid_keeps_the_rest),
        cmocka_unit_test(test_format_value_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
