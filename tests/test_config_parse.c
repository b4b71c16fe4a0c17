/* mpb_config_parse: good configs of every method, and every bad input
 * rejected with a message naming the file, the key and the position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mpb_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mpb_config *parse_ok(const char *yaml)
{
    mpb_error err = {0};
    mpb_config *c = NULL;
    int rc = mpb_config_parse(yaml, strlen(yaml), "cfg.yaml", &c, &err);
    if (rc != MPB_OK)
        print_message("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, MPB_OK);
    assert_non_null(c);
    return c;
}

/* Parses yaml expecting failure; returns the message. */
static const char *parse_bad(const char *yaml)
{
    static mpb_error err;
    mpb_error_clear(&err);
    mpb_config *c = (mpb_config *)&err; /* must be reset to NULL */
    int rc = mpb_config_parse(yaml, strlen(yaml), "cfg.yaml", &c, &err);
    assert_int_equal(rc, MPB_EINVAL);
    assert_int_equal(err.code, MPB_EINVAL);
    assert_null(c);
    return err.msg;
}

static void expect_message(const char *yaml, const char *message)
{
    assert_string_equal(parse_bad(yaml), message);
}

/* head followed by tail, expected to fail with message. */
static void expect_message_after(const char *head, const char *tail, const char *message)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s%s", head, tail);
    expect_message(yaml, message);
}

static void expect_part(const char *yaml, const char *part)
{
    const char *msg = parse_bad(yaml);
    if (strstr(msg, part) == NULL)
        fail_msg("message '%s' lacks '%s'", msg, part);
}

/* ---- good configs ---- */

static void test_linear(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: linear\n"
                             "models:\n"
                             "  - model: a.h5\n"
                             "    parameters: {weight: 0.3}\n"
                             "  - model: b.h5\n"
                             "    parameters: {weight: 0.7}\n"
                             "out_dtype: bfloat16\n");
    assert_int_equal(mpb_config_method(c), MPB_METHOD_LINEAR);
    assert_int_equal(mpb_config_n_inputs(c), 2);
    assert_string_equal(mpb_config_input_path(c, 0), "a.h5");
    assert_string_equal(mpb_config_input_path(c, 1), "b.h5");
    assert_string_equal(mpb_config_input_origin(c, 1), "models[1]");
    assert_int_equal(mpb_config_base_index(c), -1);
    assert_int_equal(mpb_config_out_dtype(c), MPB_DT_BF16);
    assert_int_equal(mpb_config_compute_dtype(c), MPB_DT_INVALID);
    assert_false(mpb_config_has_sweep(c));
    assert_int_equal(mpb_config_keep_outside(c), -1);
    mpb_config_free(c);
}

static void test_linear_base_among_models_is_ignored(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: linear\n"
                             "base_model: a.h5\n"
                             "models:\n"
                             "  - {model: a.h5, parameters: {weight: 1}}\n"
                             "  - {model: b.h5, parameters: {weight: 1}}\n");
    assert_int_equal(mpb_config_n_inputs(c), 2);
    assert_int_equal(mpb_config_base_index(c), -1);
    mpb_config_free(c);
}

static void test_interpolate(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: interpolate\n"
                             "models:\n"
                             "  - model: Qwen3-4B-Instruct-2507.h5\n"
                             "  - model: Qwen3-4B-Thinking-2507.h5\n"
                             "parameters:\n"
                             "  lambda: 0.8\n");
    assert_int_equal(mpb_config_method(c), MPB_METHOD_INTERPOLATE);
    assert_int_equal(mpb_config_n_inputs(c), 2);
    assert_int_equal(mpb_config_base_index(c), 0); /* the lambda = 0 end */
    mpb_config_free(c);

    c = parse_ok("merge_method: interpolate\n"
                 "base_model: instruct.h5\n"
                 "models: [{model: thinking.h5}, {model: instruct.h5}]\n"
                 "parameters: {lambda: 0.5}\n");
    assert_int_equal(mpb_config_base_index(c), 1);
    mpb_config_free(c);
}

static void test_passthrough(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: passthrough\nmodels: [{model: a.h5}]\n");
    assert_int_equal(mpb_config_method(c), MPB_METHOD_PASSTHROUGH);
    assert_int_equal(mpb_config_n_inputs(c), 1);
    assert_int_equal(mpb_config_base_index(c), -1);
    mpb_config_free(c);
}

static void test_task_family_appends_base(void **state)
{
    (void)state;
    static const mpb_method family[] = {
        MPB_METHOD_TASK_ARITHMETIC, MPB_METHOD_TIES,        MPB_METHOD_DARE_LINEAR,
        MPB_METHOD_DARE_TIES,       MPB_METHOD_BREADCRUMBS, MPB_METHOD_BREADCRUMBS_TIES};
    for (size_t k = 0; k < sizeof family / sizeof family[0]; k++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml,
                 "merge_method: %s\n"
                 "base_model: /models/base\n"
                 "models:\n"
                 "  - model: x.h5\n"
                 "    parameters: {weight: 0.7, density: 0.2}\n"
                 "  - model: y.h5\n"
                 "    parameters: {weight: 0.7, density: 0.2}\n",
                 mpb_method_name(family[k]));
        mpb_config *c = parse_ok(yaml);
        assert_int_equal(mpb_config_method(c), family[k]);
        assert_int_equal(mpb_config_n_inputs(c), 3);
        assert_string_equal(mpb_config_input_path(c, 2), "/models/base");
        assert_string_equal(mpb_config_input_origin(c, 2), "base_model");
        assert_int_equal(mpb_config_base_index(c), 2);
        mpb_config_free(c);
    }
}

static void test_task_family_base_in_models(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: ties\n"
                             "base_model: base.h5\n"
                             "models:\n"
                             "  - model: base.h5\n"
                             "  - model: x.h5\n"
                             "    parameters: {weight: 1, density: 0.5}\n");
    assert_int_equal(mpb_config_n_inputs(c), 2);
    assert_int_equal(mpb_config_base_index(c), 0);
    mpb_config_free(c);
}

static void test_slerp(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: slerp\n"
                             "models: [{model: a.h5}, {model: b.h5}]\n"
                             "parameters: {t: 0.5}\n");
    assert_int_equal(mpb_config_method(c), MPB_METHOD_SLERP);
    assert_int_equal(mpb_config_base_index(c), 0);
    mpb_config_free(c);

    c = parse_ok("merge_method: slerp\n"
                 "base_model: b.h5\n"
                 "models: [{model: a.h5}, {model: b.h5}]\n"
                 "parameters: {t: 0.5}\n");
    assert_int_equal(mpb_config_base_index(c), 1);
    mpb_config_free(c);

    /* mergekit's other form: one model plus a base_model outside the list. */
    c = parse_ok("merge_method: slerp\n"
                 "base_model: a.h5\n"
                 "models: [{model: b.h5}]\n"
                 "parameters: {t: [0, 0.5, 1]}\n");
    assert_int_equal(mpb_config_n_inputs(c), 2);
    assert_int_equal(mpb_config_base_index(c), 1);
    mpb_config_free(c);
}

static void test_model_stock(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: model_stock\n"
                             "base_model: base.h5\n"
                             "models: [{model: a.h5}, {model: b.h5}]\n");
    assert_int_equal(mpb_config_method(c), MPB_METHOD_MODEL_STOCK);
    assert_int_equal(mpb_config_n_inputs(c), 3);
    assert_int_equal(mpb_config_base_index(c), 2);
    mpb_config_free(c);
}

static void test_method_names_round_trip(void **state)
{
    (void)state;
    for (int m = 0; m < MPB_METHOD_COUNT; m++)
        for (int k = 0; k < m; k++)
            assert_string_not_equal(mpb_method_name((mpb_method)m),
                                    mpb_method_name((mpb_method)k));
    assert_string_equal(mpb_method_name(MPB_METHOD_INTERPOLATE), "interpolate");
    assert_string_equal(mpb_method_name(MPB_METHOD_BREADCRUMBS_TIES), "breadcrumbs_ties");
    assert_string_equal(mpb_method_name((mpb_method)99), "invalid");
}

static void test_dtypes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        mpb_dtype dt;
    } cases[] = {{"bfloat16", MPB_DT_BF16},       {"bf16", MPB_DT_BF16},
                 {"float16", MPB_DT_F16},         {"f16", MPB_DT_F16},
                 {"float32", MPB_DT_F32},         {"f32", MPB_DT_F32},
                 {"torch.bfloat16", MPB_DT_BF16}, {"torch.float16", MPB_DT_F16},
                 {"torch.float32", MPB_DT_F32},   {"torch.half", MPB_DT_F16}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "merge_method: passthrough\nmodels: [{model: a.h5}]\nout_dtype: %s\n"
                 "dtype: %s\n",
                 cases[k].text, cases[k].text);
        mpb_config *c = parse_ok(yaml);
        assert_int_equal(mpb_config_out_dtype(c), cases[k].dt);
        assert_int_equal(mpb_config_compute_dtype(c), cases[k].dt);
        mpb_config_free(c);
    }
}

/* mergekit: `dtype:` is the output dtype unless out_dtype says otherwise. */
static void test_dtype_sets_output(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: passthrough\nmodels: [{model: a.h5}]\n"
                             "dtype: torch.float16\n");
    assert_int_equal(mpb_config_out_dtype(c), MPB_DT_F16);
    assert_int_equal(mpb_config_compute_dtype(c), MPB_DT_F16);
    mpb_config_free(c);
    c = parse_ok("merge_method: passthrough\nmodels: [{model: a.h5}]\n"
                 "dtype: float16\nout_dtype: torch.bfloat16\n");
    assert_int_equal(mpb_config_out_dtype(c), MPB_DT_BF16);
    assert_int_equal(mpb_config_compute_dtype(c), MPB_DT_F16);
    mpb_config_free(c);
    c = parse_ok("merge_method: passthrough\nmodels: [{model: a.h5}]\n");
    assert_int_equal(mpb_config_out_dtype(c), MPB_DT_INVALID);
    mpb_config_free(c);
}

static void test_sweep_and_layer_range(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: interpolate\n"
                             "models: [{model: instruct.h5}, {model: thinking.h5}]\n"
                             "parameters: {lambda: 0.8}\n"
                             "layer_range: [12, 35]\n"
                             "keep_outside: ./instruct.h5\n"
                             "sweep:\n"
                             "  lambda: [0.2, 0.4]\n"
                             "  anything: {goes: here}\n");
    int first = -1, last = -1;
    assert_true(mpb_config_has_sweep(c));
    assert_true(mpb_config_layer_range(c, &first, &last));
    assert_int_equal(first, 12);
    assert_int_equal(last, 35);
    assert_int_equal(mpb_config_keep_outside(c), 0);
    mpb_config_free(c);
}

static void test_yaml_forms(void **state)
{
    (void)state;
    /* Anchors, comments, empty optional keys and YAML 1.1 booleans. */
    mpb_config *c = parse_ok("# study config\n"
                             "merge_method: linear\n"
                             "base_model:\n"
                             "models:\n"
                             "  - model: a.h5\n"
                             "    parameters: &w {weight: 2}\n"
                             "  - model: b.h5\n"
                             "    parameters: *w\n"
                             "parameters:\n"
                             "  normalize: yes\n"
                             "  int8_mask: true\n");
    assert_int_equal(mpb_config_n_inputs(c), 2);
    mpb_config_free(c);
}

/* ---- bad configs ---- */

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    /* The flow sequence opened on line 2 is never closed. */
    expect_part("merge_method: linear\nmodels: [{model: a.h5}\n",
                "YAML syntax error in cfg.yaml:3:1: ");
    /* The second colon on line 2 cannot start a mapping inside a value. */
    expect_part("merge_method: linear\n  models: x\n", "YAML syntax error in cfg.yaml:2:9: ");
    /* A tab cannot indent YAML. */
    expect_part("merge_method: linear\nmodels:\n\t- model: a.h5\n",
                "YAML syntax error in cfg.yaml:3:1: ");
}

static void test_document_shape(void **state)
{
    (void)state;
    expect_message("", "config cfg.yaml is empty");
    expect_message("# nothing\n", "config cfg.yaml is empty");
    expect_message("- linear\n",
                   "the config must be a mapping of keys to values in cfg.yaml:1:1");
    expect_message(
        "merge_method: passthrough\nmodels: [{model: a.h5}]\n---\nmerge_method: linear\n",
        "a second YAML document starts in cfg.yaml:3:1; a config is one document "
        "(mergekit-multi's multi-stage configs, one merge per document, are not supported: "
        "run each stage as its own merge and name the earlier output as a model)");
}

static void test_unknown_top_key(void **state)
{
    (void)state;
    expect_message("merge_mehtod: linear\nmodels: [{model: a.h5}]\n",
                   "unknown key 'merge_mehtod' in cfg.yaml:1:1; did you mean 'merge_method'?");
    expect_message("merge_method: linear\nmodels: [{model: a.h5, parameters: {weight: 1}}]\n"
                   "out_dtpye: bf16\n",
                   "unknown key 'out_dtpye' in cfg.yaml:3:1; did you mean 'out_dtype'?");
    expect_message(
        "merge_method: linear\ncolour: blue\n",
        "unknown key 'colour' in cfg.yaml:2:1; known keys: merge_method, base_model, "
        "models, slices, modules, parameters, dtype, out_dtype, layer_range, keep_outside, "
        "sweep, gradient_after_layers, tokenizer_source, tokenizer, chat_template");
    expect_message("merge_method: linear\nslices: []\n",
                   "slices must be a non-empty list of {sources: [...]} entries in "
                   "cfg.yaml:2:9");
    expect_message("merge_method: linear\nmodules: {}\n",
                   "modules must be a non-empty mapping of module names (such as "
                   "text_decoder, vision_tower) to {models: [...]} or {slices: [...]} in "
                   "cfg.yaml:2:10");
    expect_message("merge_method: linear\nmodules:\n  text_decoder: {models: [{model: a.h5, "
                   "layer_range: [0, 2]}]}\n",
                   "unknown key 'layer_range' under modules.text_decoder.models[0] in "
                   "cfg.yaml:3:41; a model entry has model and parameters");
    expect_message("merge_method: linear\nmodules:\n  text_decoder: {parameters: {}}\n",
                   "modules.text_decoder needs exactly one of models and slices (as in "
                   "mergekit) in cfg.yaml:3:17");
}

static void test_unknown_model_key(void **state)
{
    (void)state;
    expect_message("merge_method: linear\n"
                   "models:\n"
                   "  - model: a.h5\n"
                   "    paramters: {weight: 1}\n",
                   "unknown key 'paramters' under models[0] in cfg.yaml:4:5; did you mean "
                   "'parameters'?");
    expect_message(
        "merge_method: linear\n"
        "models:\n"
        "  - model: a.h5\n"
        "    parameters: {weight: 1}\n"
        "  - model: b.h5\n"
        "    density_map: [0, 4]\n",
        "unknown key 'density_map' under models[1] in cfg.yaml:6:5; a model entry has "
        "only model and parameters");
}

typedef struct warnings {
    char text[4][512];
    size_t n;
} warnings;

static void collect_warning(void *ctx, const char *msg)
{
    warnings *w = ctx;
    assert_true(w->n < 4);
    snprintf(w->text[w->n++], sizeof w->text[0], "%s", msg);
}

/* Keys mergekit ignores (not in its schema) are accepted with one warning
 * each, naming the key and its line; the config is otherwise unchanged. */
static void test_ignored_keys_warn(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("name: my-merge\n"
                             "merge_method: linear\n"
                             "models:\n"
                             "  - model: a.h5\n"
                             "    parameters: {weight: 1}\n"
                             "  - model: b.h5\n"
                             "    layer_range: [0, 4]\n"
                             "    parameters: {weight: 3}\n"
                             "random_seed: 4\n");
    warnings w = {0};
    mpb_config_warn_ignored(c, collect_warning, &w);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.text[0], "cfg.yaml:1:1: key 'name' ignored: mergekit ignores it too, "
                                   "so it does not change the result");
    assert_string_equal(w.text[1], "cfg.yaml:7:5: key 'layer_range' under models[1] ignored: "
                                   "mergekit ignores it too, so it does not change the result; "
                                   "mergekit reads layer_range only under slices: sources:");
    assert_string_equal(w.text[2],
                        "cfg.yaml:9:1: key 'random_seed' ignored: mergekit ignores "
                        "it too, so it does not change the result; DARE's masks take "
                        "parameters: {seed: N}");
    assert_int_equal(mpb_config_n_inputs(c), 2);
    mpb_config_free(c);
    /* Without such keys: no warning. */
    c = parse_ok("merge_method: passthrough\nmodels: [{model: a.h5}]\n");
    w.n = 0;
    mpb_config_warn_ignored(c, collect_warning, &w);
    assert_int_equal(w.n, 0);
    mpb_config_free(c);
}

static void test_unknown_parameter(void **state)
{
    (void)state;
    expect_message("merge_method: interpolate\n"
                   "models: [{model: a.h5}, {model: b.h5}]\n"
                   "parameters:\n"
                   "  lamda: 0.8\n",
                   "unknown parameter 'lamda' under parameters in cfg.yaml:4:3; did you mean "
                   "'lambda'?");
    expect_message("merge_method: ties\n"
                   "base_model: base.h5\n"
                   "models:\n"
                   "  - model: a.h5\n"
                   "    parameters:\n"
                   "      weight: 1\n"
                   "      densty: 0.5\n",
                   "unknown parameter 'densty' under models[0].parameters in cfg.yaml:7:7; did "
                   "you mean 'density'?");
    expect_message(
        "merge_method: linear\n"
        "models: [{model: a.h5, parameters: {weight: 1}}]\n"
        "parameters: {temperature: 2}\n",
        "unknown parameter 'temperature' under parameters in cfg.yaml:3:14; known "
        "parameters: weight, density, gamma, epsilon, lambda, t, normalize, rescale, "
        "seed, int8_mask");
    expect_message("merge_method: model_stock\n"
                   "base_model: base.h5\n"
                   "models: [{model: a.h5}, {model: b.h5}]\n"
                   "parameters: {filter_wise: 2}\n",
                   "parameters.filter_wise must be true or false (got '2') in cfg.yaml:4:27");
    expect_message(
        "merge_method: ties\n"
        "base_model: base.h5\n"
        "models:\n"
        "  - model: a.h5\n"
        "    parameters: {weight: 1, lambda: 0.5}\n",
        "parameter 'lambda' under models[0].parameters applies to the whole merge "
        "(mergekit ignores it in a model entry); move it to the top-level parameters "
        "in cfg.yaml:5:29");
}

static void test_unknown_method(void **state)
{
    (void)state;
    char known[512] = "";
    for (int m = 0; m < MPB_METHOD_COUNT; m++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", m ? ", " : "",
                 mpb_method_name((mpb_method)m));
    char expected[800];
    snprintf(expected, sizeof expected,
             "unknown merge_method 'lineer' in cfg.yaml:1:15; did you mean 'linear'? known "
             "methods: %s",
             known);
    expect_message("merge_method: lineer\nmodels: [{model: a.h5}]\n", expected);
    snprintf(expected, sizeof expected,
             "unknown merge_method 'no_such_method' in cfg.yaml:1:15; known methods: %s",
             known);
    expect_message("merge_method: no_such_method\nmodels: [{model: a.h5}]\n", expected);
    snprintf(expected, sizeof expected,
             "missing key 'merge_method' (one of: %s) in cfg.yaml:1:1", known);
    expect_message("models: [{model: a.h5}]\n", expected);
}

static void test_missing_models(void **state)
{
    (void)state;
    expect_message("merge_method: linear\n",
                   "missing key 'models' or 'slices' (the models to merge) in cfg.yaml:1:1");
    expect_message("merge_method: linear\nmodels: []\n",
                   "models is an empty list in cfg.yaml:2:9");
    expect_message("merge_method: linear\nmodels: a.h5\n",
                   "models must be a list of {model: PATH} entries in cfg.yaml:2:9");
    expect_message("merge_method: linear\nmodels:\n  - a.h5\n",
                   "models[0] must be a mapping like {model: PATH} in cfg.yaml:3:5");
    expect_message("merge_method: linear\nmodels:\n  - parameters: {weight: 1}\n",
                   "models[0] has no 'model' key in cfg.yaml:3:5");
    expect_message("merge_method: linear\nmodels:\n  - model:\n",
                   "models[0].model must be a model path in cfg.yaml:3:11");
}

static void test_missing_base_model(void **state)
{
    (void)state;
    static const mpb_method need_base[] = {
        MPB_METHOD_TASK_ARITHMETIC, MPB_METHOD_TIES,        MPB_METHOD_DARE_LINEAR,
        MPB_METHOD_DARE_TIES,       MPB_METHOD_BREADCRUMBS, MPB_METHOD_BREADCRUMBS_TIES,
        MPB_METHOD_MODEL_STOCK};
    for (size_t k = 0; k < sizeof need_base / sizeof need_base[0]; k++) {
        char yaml[256], expected[256];
        snprintf(yaml, sizeof yaml,
                 "merge_method: %s\nmodels:\n  - {model: a.h5, parameters: {weight: 1}}\n"
                 "  - {model: b.h5, parameters: {weight: 1}}\n",
                 mpb_method_name(need_base[k]));
        snprintf(expected, sizeof expected,
                 "merge_method '%s' needs base_model: the model task vectors are taken against "
                 "in cfg.yaml:1:1",
                 mpb_method_name(need_base[k]));
        expect_message(yaml, expected);
    }
    expect_message("merge_method: linear\nbase_model: c.h5\n"
                   "models: [{model: a.h5, parameters: {weight: 1}}]\n",
                   "base_model 'c.h5' is not one of the models; linear does not use a base "
                   "model in cfg.yaml:2:13");
}

static void test_model_counts(void **state)
{
    (void)state;
    expect_message("merge_method: interpolate\n"
                   "models: [{model: a.h5}, {model: b.h5}, {model: c.h5}]\n"
                   "parameters: {lambda: 0.5}\n",
                   "merge_method 'interpolate' needs exactly 2 models, got 3 in cfg.yaml:2:9");
    expect_message("merge_method: slerp\nmodels: [{model: a.h5}]\nparameters: {t: 0.5}\n",
                   "merge_method 'slerp' needs exactly 2 models, got 1 in cfg.yaml:2:9");
    expect_message(
        "merge_method: slerp\nbase_model: c.h5\n"
        "models: [{model: a.h5}, {model: b.h5}]\nparameters: {t: 0.5}\n",
        "merge_method 'slerp' needs exactly 2 models, got 3 (counting base_model) in "
        "cfg.yaml:3:9");
    expect_message("merge_method: passthrough\nmodels: [{model: a.h5}, {model: b.h5}]\n",
                   "merge_method 'passthrough' needs exactly 1 model, got 2 in cfg.yaml:2:9");
    expect_message(
        "merge_method: model_stock\nbase_model: base.h5\nmodels: [{model: a.h5}]\n",
        "merge_method 'model_stock' needs at least 2 models besides base_model, got 1 "
        "in cfg.yaml:3:9");
    expect_message("merge_method: ties\nbase_model: base.h5\nmodels: [{model: base.h5}]\n",
                   "merge_method 'ties' needs at least 1 model besides base_model, got 0 in "
                   "cfg.yaml:3:9");
    expect_message("merge_method: linear\n"
                   "models:\n"
                   "  - {model: a.h5, parameters: {weight: 1}}\n"
                   "  - {model: ./a.h5, parameters: {weight: 1}}\n",
                   "models[1] ('a.h5') is already models[0] in cfg.yaml:4:13");
}

static void test_too_many_models(void **state)
{
    (void)state;
    char yaml[8192] = "merge_method: linear\nparameters: {weight: 1}\nmodels:\n";
    for (int i = 0; i <= MPB_MAX_INPUTS; i++)
        snprintf(yaml + strlen(yaml), sizeof yaml - strlen(yaml), "  - model: m%d.h5\n", i);
    char expected[128];
    snprintf(expected, sizeof expected,
             "models lists %d models; at most %d can be merged in cfg.yaml:4:3",
             MPB_MAX_INPUTS + 1, MPB_MAX_INPUTS);
    expect_message(yaml, expected);
}

static void test_density_range(void **state)
{
    (void)state;
    static const char *const bad[] = {"0", "1.5", "-0.1", "1.0000001"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char yaml[256], expected[256];
        snprintf(yaml, sizeof yaml,
                 "merge_method: ties\nbase_model: base.h5\n"
                 "models: [{model: a.h5, parameters: {weight: 1, density: %s}}]\n",
                 bad[k]);
        snprintf(expected, sizeof expected,
                 "models[0].parameters.density must be in (0, 1] (got %s) in cfg.yaml:3:57",
                 bad[k]);
        expect_message(yaml, expected);
    }
    /* Inside a gradient and a filter entry too. */
    expect_message("merge_method: ties\nbase_model: base.h5\n"
                   "models: [{model: a.h5}]\n"
                   "parameters: {weight: 1, density: [0.5, 1.2]}\n",
                   "parameters.density must be in (0, 1] (got 1.2) in cfg.yaml:4:40");
    expect_message("merge_method: ties\nbase_model: base.h5\n"
                   "models: [{model: a.h5}]\n"
                   "parameters:\n"
                   "  weight: 1\n"
                   "  density:\n"
                   "    - {filter: mlp, value: 2}\n",
                   "parameters.density must be in (0, 1] (got 2) in cfg.yaml:7:28");
    mpb_config *c = parse_ok("merge_method: ties\nbase_model: base.h5\n"
                             "models: [{model: a.h5, parameters: {weight: 1, density: 1}}]\n");
    mpb_config_free(c);
}

static void test_not_a_number(void **state)
{
    (void)state;
    expect_message("merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                   "parameters: {lambda: abc}\n",
                   "parameters.lambda must be a number (got 'abc') in cfg.yaml:3:22");
    expect_message("merge_method: slerp\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                   "parameters: {t: true}\n",
                   "parameters.t must be a number (got 'true') in cfg.yaml:3:17");
    expect_message(
        "merge_method: linear\n"
        "models: [{model: a.h5, parameters: {weight: \"0.5\"}}]\n",
        "models[0].parameters.weight must be a number (got '0.5', a quoted string) in "
        "cfg.yaml:2:45");
    expect_message(
        "merge_method: linear\n"
        "models: [{model: a.h5, parameters: {weight: .nan}}]\n",
        "models[0].parameters.weight must be a number (got '.nan') in cfg.yaml:2:45");
    expect_message("merge_method: linear\n"
                   "models: [{model: a.h5, parameters: {weight: [0.5, x]}}]\n",
                   "models[0].parameters.weight must be a number (got 'x') in cfg.yaml:2:51");
    expect_message("merge_method: linear\nmodels: [{model: a.h5}]\nparameters:\n  weight:\n",
                   "parameters.weight has no value in cfg.yaml:4:10");
}

static void test_other_value_errors(void **state)
{
    (void)state;
    const char *head = "merge_method: dare_ties\nbase_model: base.h5\n"
                       "models: [{model: a.h5, parameters: {weight: 1}}]\n";
    expect_message_after(head, "parameters: {rescale: l2}\n",
                         "parameters.rescale must be true, false, l1 or inverse (got 'l2') in "
                         "cfg.yaml:4:23");
    expect_message_after(
        head, "parameters: {seed: -3}\n",
        "parameters.seed must be a whole number from 0 to 2^64-1 (got '-3') in "
        "cfg.yaml:4:20");
    expect_message_after(head, "parameters: {seed: [1, 2]}\n",
                         "parameters.seed must be one whole number in cfg.yaml:4:20");
    expect_message_after(head, "parameters: {normalize: maybe}\n",
                         "parameters.normalize must be true or false (got 'maybe') in "
                         "cfg.yaml:4:25");
    expect_message_after(head, "parameters: {normalize: [true, false]}\n",
                         "parameters.normalize cannot be a list: gradients are for numbers in "
                         "cfg.yaml:4:25");
    expect_message_after(head, "parameters: {gamma: 2}\n",
                         "parameters.gamma must be in [0, 1] (got 2) in cfg.yaml:4:21");
    expect_message_after(head, "parameters: {lambda: []}\n",
                         "parameters.lambda is an empty list in cfg.yaml:4:22");
}

static void test_filter_entry_errors(void **state)
{
    (void)state;
    const char *head = "merge_method: slerp\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                       "parameters:\n  t:\n";
    expect_message_after(head, "    - {filtr: mlp, value: 0.5}\n",
                         "unknown key 'filtr' under parameters.t in cfg.yaml:5:8; did you mean "
                         "'filter'?");
    expect_message_after(head, "    - {filter: mlp}\n",
                         "filter entry of parameters.t has no value in cfg.yaml:5:7");
    expect_message_after(head, "    - {filter: mlp, value: 0.5}\n    - 0.3\n",
                         "parameters.t mixes {filter, value} entries with other values in "
                         "cfg.yaml:6:7");
    expect_message_after(head, "    - {filter: mlp, value: []}\n",
                         "parameters.t is an empty list in cfg.yaml:5:28");
    expect_message_after(head, "    filter: mlp\n    value: 0.5\n",
                         "parameters.t: a filtered value must be a list of {filter, value} "
                         "entries in cfg.yaml:5:5");
}

static void test_linear_weights_sum_to_zero(void **state)
{
    (void)state;
    const char *msg = "linear weights sum to 0 and normalize divides by their sum; change the "
                      "weights or set normalize: false in cfg.yaml:2:9";
    expect_message("merge_method: linear\n"
                   "models: [{model: a.h5, parameters: {weight: 1}}, {model: b.h5, parameters: "
                   "{weight: -1}}]\n",
                   msg);
    /* Rounding does not hide a cancellation. */
    expect_message("merge_method: linear\n"
                   "models: [{model: a.h5, parameters: {weight: 0.1}}, {model: b.h5, "
                   "parameters: {weight: 0.2}}, {model: c.h5, parameters: {weight: -0.3}}]\n",
                   msg);
    mpb_config *c = parse_ok("merge_method: linear\n"
                             "models: [{model: a.h5, parameters: {weight: 1}}, {model: b.h5, "
                             "parameters: {weight: -1}}]\n"
                             "parameters: {normalize: false}\n");
    mpb_config_free(c);
    /* With gradients the sum is only known per tensor: accepted here. */
    c = parse_ok("merge_method: linear\n"
                 "models: [{model: a.h5, parameters: {weight: [1, 0]}}, {model: b.h5, "
                 "parameters: {weight: -1}}]\n");
    mpb_config_free(c);
}

static void test_missing_required_values(void **state)
{
    (void)state;
    expect_message(
        "merge_method: linear\n"
        "models:\n"
        "  - model: a.h5\n"
        "    parameters: {weight: 1}\n"
        "  - model: b.h5\n",
        "models[1] ('b.h5') has no weight; merge_method 'linear' needs one for each "
        "model (parameters.weight in the entry, or at the top level) in cfg.yaml:5:12");
    expect_message(
        "merge_method: ties\nbase_model: base.h5\nmodels: [{model: a.h5}]\n",
        "models[0] ('a.h5') has no weight; merge_method 'ties' needs one for each "
        "model (parameters.weight in the entry, or at the top level) in cfg.yaml:3:18");
    expect_message("merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n",
                   "merge_method 'interpolate' needs parameters.lambda: the result is (1 - "
                   "lambda) * first + lambda * second in cfg.yaml:1:1");
    expect_message("merge_method: slerp\nmodels: [{model: a.h5}, {model: b.h5}]\n",
                   "merge_method 'slerp' needs parameters.t: 0 gives the base end, 1 the other "
                   "model in cfg.yaml:1:1");
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    expect_message(
        "merge_method: linear\nmerge_method: ties\n",
        "duplicate key 'merge_method' in the config (first at line 1) in cfg.yaml:2:1");
    expect_message("merge_method: linear\nmodels:\n  - model: a.h5\n    model: b.h5\n",
                   "duplicate key 'model' in models[0] (first at line 3) in cfg.yaml:4:5");
    expect_message("merge_method: linear\nmodels: [{model: a.h5}]\n"
                   "parameters:\n  weight: 1\n  weight: 2\n",
                   "duplicate key 'weight' in parameters (first at line 4) in cfg.yaml:5:3");
}

static void test_out_dtype_unknown(void **state)
{
    (void)state;
    expect_message(
        "merge_method: passthrough\nmodels: [{model: a.h5}]\nout_dtype: float8\n",
        "unknown out_dtype 'float8' (use bfloat16, float16 or float32; bf16, f16, f32 "
        "and torch.bfloat16, torch.float16, torch.float32 also work) in cfg.yaml:3:12");
    expect_message("merge_method: passthrough\nmodels: [{model: a.h5}]\ndtype: int8\n",
                   "unknown dtype 'int8' (use bfloat16, float16 or float32; bf16, f16, f32 and "
                   "torch.bfloat16, torch.float16, torch.float32 also work) in cfg.yaml:3:8");
    expect_part("merge_method: passthrough\nmodels: [{model: a.h5}]\ndtype: torch.int8\n",
                "unknown dtype 'torch.int8'");
    expect_part("merge_method: passthrough\nmodels: [{model: a.h5}]\ndtype: [bf16]\n",
                "unknown dtype");
    expect_message("merge_method: passthrough\nmodels: [{model: a.h5}]\n"
                   "gradient_after_layers: 1\n",
                   "gradient_after_layers must be 'first' (mergekit's choice) or 'last' (got "
                   "'1') in cfg.yaml:3:24");
}

static void test_layer_range_errors(void **state)
{
    (void)state;
    const char *head = "merge_method: interpolate\nmodels: [{model: a.h5}, {model: b.h5}]\n"
                       "parameters: {lambda: 0.8}\n";
    char yaml[512];
    expect_message_after(head, "layer_range: [0, 11]\n",
                         "layer_range needs keep_outside: the model every tensor outside the "
                         "range is copied from in cfg.yaml:4:14");
    expect_message_after(head, "keep_outside: a.h5\n",
                         "keep_outside is only used with layer_range in cfg.yaml:4:15");
    expect_message_after(head, "layer_range: [0, 11]\nkeep_outside: c.h5\n",
                         "keep_outside 'c.h5' is not one of the models or the base_model in "
                         "cfg.yaml:5:15");
    expect_message_after(head, "layer_range: [12, 11]\nkeep_outside: a.h5\n",
                         "layer_range [12, 11] has first > last in cfg.yaml:4:14");
    /* The huge bound was found by the config fuzzer: it overflowed a cast. */
    static const char *const malformed[] = {
        "[3]",       "[-1, 3]", "[1.5, 3]", "3", "[a, b]", "[22222222222222222222224, 23]",
        "[0, 1e300]"};
    for (size_t k = 0; k < sizeof malformed / sizeof malformed[0]; k++) {
        snprintf(yaml, sizeof yaml, "%slayer_range: %s\nkeep_outside: a.h5\n", head,
                 malformed[k]);
        expect_message(yaml, "layer_range must be [first, last]: two layer numbers (from 0) in "
                             "cfg.yaml:4:14");
    }
}

/* tokenizer_source / tokenizer: {source, pad_to_multiple_of} / chat_template
 * as mergekit reads them; what mpiblend does not implement stops with a
 * clear error. */
static void test_tokenizer_keys(void **state)
{
    (void)state;
    static const char head[] = "merge_method: task_arithmetic\nbase_model: base.h5\n"
                               "models: [{model: a.h5}, {model: ./b.h5}]\n"
                               "parameters: {weight: 0.5}\n";
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%stokenizer_source: base\n", head);
    mpb_config *c = parse_ok(yaml);
    assert_int_equal(mpb_config_tokenizer_input(c), 2);
    assert_null(mpb_config_chat_template(c));
    mpb_config_free(c);
    snprintf(yaml, sizeof yaml, "%stokenizer_source: b.h5\nchat_template: chatml\n", head);
    c = parse_ok(yaml);
    assert_int_equal(mpb_config_tokenizer_input(c), 1);
    assert_string_equal(mpb_config_chat_template(c), "chatml");
    mpb_config_free(c);
    snprintf(yaml, sizeof yaml, "%stokenizer: {source: a.h5}\nchat_template: auto\n", head);
    c = parse_ok(yaml);
    assert_int_equal(mpb_config_tokenizer_input(c), 0);
    assert_string_equal(mpb_config_chat_template(c), "auto");
    mpb_config_free(c);
    snprintf(yaml, sizeof yaml,
             "%schat_template: \"{%% for m in messages %%}{{ m.content }}"
             "{%% endfor %%}\"\n",
             head);
    c = parse_ok(yaml);
    assert_int_equal(mpb_config_tokenizer_input(c), -1);
    assert_string_equal(mpb_config_chat_template(c),
                        "{% for m in messages %}{{ m.content }}{% endfor %}");
    mpb_config_free(c);

    /* union, and tokenizer: without source (mergekit's default: union). */
    const char *const unions[] = {"tokenizer_source: union\n", "tokenizer: {source: union}\n",
                                  "tokenizer: {}\n"};
    for (size_t k = 0; k < sizeof unions / sizeof *unions; k++) {
        snprintf(yaml, sizeof yaml, "%s%s", head, unions[k]);
        c = parse_ok(yaml);
        assert_true(mpb_config_tokenizer_union(c));
        assert_int_equal(mpb_config_tokenizer_input(c), -1);
        assert_int_equal(mpb_config_given_base(c), 2);
        assert_int_equal(mpb_config_tokenizer_pad(c), 0);
        mpb_config_free(c);
    }
    snprintf(yaml, sizeof yaml, "%stokenizer: {source: base, pad_to_multiple_of: 64}\n", head);
    c = parse_ok(yaml);
    assert_false(mpb_config_tokenizer_union(c));
    assert_int_equal(mpb_config_tokenizer_input(c), 2);
    assert_int_equal(mpb_config_tokenizer_pad(c), 64);
    mpb_config_free(c);
    snprintf(yaml, sizeof yaml, "%stokenizer_source: a.h5\n", head);
    c = parse_ok(yaml);
    assert_false(mpb_config_tokenizer_union(c));
    mpb_config_free(c);

    expect_message_after(head, "tokenizer_source: c.h5\n",
                         "tokenizer_source 'c.h5' is not one of the models or the base_model; "
                         "mpiblend reads a tokenizer only from an input in cfg.yaml:5:19");
    expect_message_after(head, "tokenizer_source: base\ntokenizer: {source: base}\n",
                         "give tokenizer_source or tokenizer, not both (mergekit refuses both "
                         "too) in cfg.yaml:6:12");
    snprintf(yaml, sizeof yaml,
             "%stokenizer:\n  tokens:\n    x: {source: a.h5, force: true}\n"
             "    \"<y>\": {source: {kind: zero}}\n"
             "    z: {source: {kind: model_token, model: b.h5, token: q}}\n"
             "    w: {source: {kind: model_token, model: base.h5, token_id: 7}}\n",
             head);
    c = parse_ok(yaml);
    const mpb_token_rule *rules;
    assert_int_equal(mpb_config_token_rules(c, &rules), 4);
    assert_string_equal(rules[0].token, "x");
    assert_int_equal(rules[0].kind, MPB_TOKEN_FROM_MODEL);
    assert_int_equal(rules[0].input, 0);
    assert_true(rules[0].force);
    assert_string_equal(rules[1].token, "<y>");
    assert_int_equal(rules[1].kind, MPB_TOKEN_ZERO);
    assert_false(rules[1].force);
    assert_int_equal(rules[2].kind, MPB_TOKEN_MODEL_TOKEN);
    assert_int_equal(rules[2].input, 1);
    assert_string_equal(rules[2].src_token, "q");
    assert_int_equal(rules[2].src_id, -1);
    assert_int_equal(rules[3].input, 2);
    assert_null(rules[3].src_token);
    assert_int_equal(rules[3].src_id, 7);
    mpb_config_free(c);
    expect_message_after(head, "tokenizer: {source: base, tokens: {x: {source: c.h5}}}\n",
                         "tokenizer.tokens 'x': source 'c.h5' is not one of the models or the "
                         "base_model in cfg.yaml:5:48");
    expect_message_after(head, "tokenizer: {tokens: {x: {force: true}}}\n",
                         "tokenizer.tokens 'x' needs a source in cfg.yaml:5:25");
    expect_message_after(head, "tokenizer: {tokens: {x: {source: {kind: one}}}}\n",
                         "tokenizer.tokens 'x': kind must be zero or model_token in "
                         "cfg.yaml:5:41");
    expect_message_after(head,
                         "tokenizer: {tokens: {x: {source: {kind: model_token, model: a.h5, "
                         "token: y, token_id: 3}}}}\n",
                         "tokenizer.tokens 'x': model_token needs token or token_id, not both "
                         "in cfg.yaml:5:34");
    expect_message_after(head, "tokenizer: {pad_to_multiple_of: -8}\n",
                         "tokenizer.pad_to_multiple_of must be a positive integer, not '-8' in "
                         "cfg.yaml:5:33");
    expect_message_after(head, "tokenizer: {pad_to_multiple_of: [8]}\n",
                         "tokenizer.pad_to_multiple_of must be a positive integer, not '' in "
                         "cfg.yaml:5:33");
    expect_message("merge_method: linear\nslices:\n  - sources:\n"
                   "      - {model: a.h5, layer_range: [0, 2]}\n"
                   "  - sources:\n"
                   "      - {model: b.h5, layer_range: [0, 2]}\n"
                   "tokenizer_source: union\n",
                   "tokenizer_source: union with slices needs slices[0] and the last slice to "
                   "list the same models in the same order, every model of the merge among "
                   "them, and no slice with more sources (the embedding and lm_head rows are "
                   "built for their sources' vocabularies) in cfg.yaml:7:19");
    expect_message("merge_method: linear\nslices:\n  - sources:\n"
                   "      - {model: a.h5, layer_range: [0, 2]}\n"
                   "      - {model: b.h5, layer_range: [0, 2]}\n"
                   "  - sources:\n"
                   "      - {model: b.h5, layer_range: [2, 4]}\n"
                   "      - {model: a.h5, layer_range: [2, 4]}\n"
                   "tokenizer: {pad_to_multiple_of: 8}\n",
                   "tokenizer without source (union) with slices needs slices[0] and the last "
                   "slice to list the same models in the same order, every model of the merge "
                   "among them, and no slice with more sources (the embedding and lm_head rows "
                   "are built for their sources' vocabularies) in cfg.yaml:9:12");
    expect_message_after(head, "chat_template: chatm\n",
                         "unknown chat_template 'chatm' (a name: chatml, llama3, alpaca, "
                         "mistral, auto; or a Jinja template) in cfg.yaml:5:16");
    expect_message("merge_method: linear\nmodels: [{model: a.h5, parameters: {weight: 1}}]\n"
                   "tokenizer_source: base\n",
                   "tokenizer_source: base needs a base_model in cfg.yaml:3:19");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_linear_base_among_models_is_ignored),
        cmocka_unit_test(test_interpolate),
        cmocka_unit_test(test_passthrough),
        cmocka_unit_test(test_task_family_appends_base),
        cmocka_unit_test(test_task_family_base_in_models),
        cmocka_unit_test(test_slerp),
        cmocka_unit_test(test_model_stock),
        cmocka_unit_test(test_method_names_round_trip),
        cmocka_unit_test(test_dtypes),
        cmocka_unit_test(test_dtype_sets_output),
        cmocka_unit_test(test_ignored_keys_warn),
        cmocka_unit_test(test_tokenizer_keys),
        cmocka_unit_test(test_sweep_and_layer_range),
        cmocka_unit_test(test_yaml_forms),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_document_shape),
        cmocka_unit_test(test_unknown_top_key),
        cmocka_unit_test(test_unknown_model_key),
        cmocka_unit_test(test_unknown_parameter),
        cmocka_unit_test(test_unknown_method),
        cmocka_unit_test(test_missing_models),
        cmocka_unit_test(test_missing_base_model),
        cmocka_unit_test(test_model_counts),
        cmocka_unit_test(test_too_many_models),
        cmocka_unit_test(test_density_range),
        cmocka_unit_test(test_not_a_number),
        cmocka_unit_test(test_other_value_errors),
        cmocka_unit_test(test_filter_entry_errors),
        cmocka_unit_test(test_linear_weights_sum_to_zero),
        cmocka_unit_test(test_missing_required_values),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_out_dtype_unknown),
        cmocka_unit_test(test_layer_range_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
