/* mpb_config_resolve and friends: filters, gradients, precedence, method
 * defaults, layer_range, coefficients, filter warnings, --dry-run lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mpb_config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QWEN_LAYERS 36

static mpb_config *parse_ok(const char *yaml)
{
    mpb_error err = {0};
    mpb_config *c = NULL;
    int rc = mpb_config_parse(yaml, strlen(yaml), "cfg.yaml", &c, &err);
    if (rc != MPB_OK)
        print_message("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, MPB_OK);
    return c;
}

static mpb_tensor_params resolve_ok(const mpb_config *c, const char *tensor, int n_layers)
{
    mpb_error err = {0};
    mpb_tensor_params p;
    int rc = mpb_config_resolve(c, tensor, n_layers, &p, &err);
    if (rc != MPB_OK)
        print_message("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, MPB_OK);
    return p;
}

static void expect_resolve_error(const mpb_config *c, const char *tensor, int n_layers,
                                 const char *message)
{
    mpb_error err = {0};
    mpb_tensor_params p;
    assert_int_equal(mpb_config_resolve(c, tensor, n_layers, &p, &err), MPB_EINVAL);
    assert_string_equal(err.msg, message);
}

static void assert_close(double got, double want)
{
    if (!(fabs(got - want) <= 1e-12))
        fail_msg("got %.17g, want %.17g", got, want);
}

/* Piecewise-linear interpolation of v[0..n-1] placed at k/(n-1) over [0, 1]. */
static double gradient(const double v[], size_t n, double x)
{
    if (n == 1)
        return v[0];
    for (size_t k = 0; k + 1 < n; k++) {
        double lo = (double)k / (double)(n - 1), hi = (double)(k + 1) / (double)(n - 1);
        if (x <= hi)
            return v[k] + (v[k + 1] - v[k]) * (x - lo) / (hi - lo);
    }
    return v[n - 1];
}

/* ---- tensor names ---- */

static void test_tensor_layer(void **state)
{
    (void)state;
    assert_int_equal(mpb_tensor_layer("model.layers.0.mlp.up_proj.weight"), 0);
    assert_int_equal(mpb_tensor_layer("model.layers.35.input_layernorm.weight"), 35);
    assert_int_equal(mpb_tensor_layer("model.layers.7.mlp.experts.12.down_proj.weight"), 7);
    assert_int_equal(mpb_tensor_layer("transformer.h.11.attn.c_attn.weight"), 11);
    assert_int_equal(mpb_tensor_layer("model.embed_tokens.weight"), -1);
    assert_int_equal(mpb_tensor_layer("model.norm.weight"), -1);
    assert_int_equal(mpb_tensor_layer("lm_head.weight"), -1);
    assert_int_equal(mpb_tensor_layer("model.xlayers.3.weight"), -1);
    assert_int_equal(mpb_tensor_layer("model.layers.weight"), -1);
    assert_int_equal(mpb_tensor_layer("model.layers.3x.weight"), -1);
    assert_int_equal(mpb_tensor_layer("layers.4"), 4);
}

/* ---- filters ---- */

static const char *const filtered_slerp = "merge_method: slerp\n"
                                          "models: [{model: a.h5}, {model: b.h5}]\n"
                                          "parameters:\n"
                                          "  t:\n"
                                          "    - filter: self_attn\n"
                                          "      value: 0.2\n"
                                          "    - filter: mlp\n"
                                          "      value: 0.7\n"
                                          "    - filter: up_proj\n"
                                          "      value: 0.9\n"
                                          "    - value: 0.5\n";

static void test_filters_first_match_and_fallback(void **state)
{
    (void)state;
    mpb_config *c = parse_ok(filtered_slerp);
    assert_true(resolve_ok(c, "model.layers.3.self_attn.q_proj.weight", 8).t == 0.2);
    assert_true(resolve_ok(c, "model.layers.3.mlp.down_proj.weight", 8).t == 0.7);
    /* Both "mlp" and "up_proj" match: the first entry wins. */
    assert_true(resolve_ok(c, "model.layers.3.mlp.up_proj.weight", 8).t == 0.7);
    /* A layer norm holds neither self_attn nor mlp: the entry without filter. */
    assert_true(resolve_ok(c, "model.layers.3.input_layernorm.weight", 8).t == 0.5);
    assert_true(resolve_ok(c, "model.embed_tokens.weight", 8).t == 0.5);
    mpb_config_free(c);
}

static void test_filter_without_match_falls_back(void **state)
{
    (void)state;
    /* No entry matches: the per-model value is unset, so the global one
     * applies; without one, a required value is an error naming the tensor. */
    mpb_config *c =
        parse_ok("merge_method: linear\n"
                 "models:\n"
                 "  - model: a.h5\n"
                 "    parameters:\n"
                 "      weight: [{filter: mlp, value: 3}]\n"
                 "  - model: b.h5\n"
                 "    parameters: {weight: 1}\n"
                 "parameters:\n"
                 "  weight: [{filter: self_attn, value: 2}, {filter: '*', value: 9}]\n");
    mpb_tensor_params p = resolve_ok(c, "model.layers.0.mlp.gate_proj.weight", 2);
    assert_true(p.weight[0] == 3 && p.weight[1] == 1);
    p = resolve_ok(c, "model.layers.0.self_attn.o_proj.weight", 2);
    assert_true(p.weight[0] == 2 && p.weight[1] == 1);
    p = resolve_ok(c, "model.norm.weight", 2);
    assert_true(p.weight[0] == 9);
    mpb_config_free(c);

    c = parse_ok("merge_method: linear\n"
                 "models:\n"
                 "  - {model: a.h5, parameters: {weight: [{filter: mlp, value: 3}]}}\n"
                 "  - {model: b.h5, parameters: {weight: 1}}\n");
    expect_resolve_error(c, "model.layers.0.self_attn.o_proj.weight", 2,
                         "no weight for models[0] ('a.h5') on tensor "
                         "'model.layers.0.self_attn.o_proj.weight': no weight filter entry "
                         "matches it in cfg.yaml");
    mpb_config_free(c);

    /* Not required: an unmatched density takes the method default (1). */
    c = parse_ok("merge_method: ties\nbase_model: base.h5\n"
                 "models: [{model: a.h5, parameters: {weight: 1, density: [{filter: mlp, "
                 "value: 0.3}]}}]\n");
    assert_true(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 4).density[0] == 0.3);
    assert_true(resolve_ok(c, "model.layers.0.self_attn.q_proj.weight", 4).density[0] == 1.0);
    mpb_config_free(c);
}

static void test_interpolate_requires_lambda_per_tensor(void **state)
{
    (void)state;
    /* The paper's module ablation: attention keeps the first model. */
    mpb_config *c = parse_ok("merge_method: interpolate\n"
                             "models: [{model: instruct.h5}, {model: thinking.h5}]\n"
                             "parameters:\n"
                             "  lambda:\n"
                             "    - {filter: self_attn, value: 0}\n"
                             "    - {filter: mlp, value: 0.8}\n");
    assert_true(resolve_ok(c, "model.layers.1.self_attn.k_proj.weight", 4).lambda == 0);
    assert_true(resolve_ok(c, "model.layers.1.mlp.down_proj.weight", 4).lambda == 0.8);
    expect_resolve_error(
        c, "model.layers.1.post_attention_layernorm.weight", 4,
        "no lambda for tensor 'model.layers.1.post_attention_layernorm.weight': "
        "no filter entry of parameters.lambda matches it in cfg.yaml");
    mpb_config_free(c);
}

/* ---- gradients ---- */

static void test_gradient_positions(void **state)
{
    (void)state;
    static const double v[] = {0.1, 0.9, 0.3, 0.7};
    mpb_config *c = parse_ok("merge_method: slerp\n"
                             "models: [{model: a.h5}, {model: b.h5}]\n"
                             "parameters: {t: [0.1, 0.9, 0.3, 0.7]}\n");
    for (int i = 0; i < QWEN_LAYERS; i++) {
        char name[96];
        snprintf(name, sizeof name, "model.layers.%d.mlp.up_proj.weight", i);
        double x = (double)i / (QWEN_LAYERS - 1);
        assert_close(resolve_ok(c, name, QWEN_LAYERS).t, gradient(v, 4, x));
    }
    /* The ends of the list are hit exactly. */
    assert_true(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", QWEN_LAYERS).t == v[0]);
    assert_true(resolve_ok(c, "model.layers.35.mlp.up_proj.weight", QWEN_LAYERS).t == v[3]);
    /* Layer 12 of 36 sits at x = 12/35, inside the second segment [1/3, 2/3]. */
    double x12 = 12.0 / 35.0;
    double expect12 = v[1] + (v[2] - v[1]) * (x12 * 3 - 1);
    assert_close(resolve_ok(c, "model.layers.12.self_attn.q_proj.weight", 36).t, expect12);
    mpb_config_free(c);
}

/* A slerp over a three-point gradient, with `extra` appended. */
static mpb_config *gradient_config(const char *extra)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "merge_method: slerp\nmodels: [{model: a.h5}, {model: b.h5}]\n"
             "parameters: {t: [0.25, 0.5, 0.75]}\n%s",
             extra);
    return parse_ok(yaml);
}

static void test_gradient_outside_layers(void **state)
{
    (void)state;
    /* mergekit's planner (since v0.1.2) reads embeddings, final norm and
     * lm_head all at t = 0: the first value. */
    static const char *const same[] = {"", "gradient_after_layers: first\n"};
    for (size_t k = 0; k < 2; k++) {
        mpb_config *c = gradient_config(same[k]);
        assert_true(resolve_ok(c, "model.embed_tokens.weight", QWEN_LAYERS).t == 0.25);
        assert_true(resolve_ok(c, "transformer.wte.weight", 12).t == 0.25);
        assert_true(resolve_ok(c, "model.norm.weight", QWEN_LAYERS).t == 0.25);
        assert_true(resolve_ok(c, "lm_head.weight", QWEN_LAYERS).t == 0.25);
        /* A single layer sits at t = 1 in mergekit. */
        assert_true(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 1).t == 0.75);
        /* Two layers: the ends. */
        assert_true(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2).t == 0.25);
        assert_true(resolve_ok(c, "model.layers.1.mlp.up_proj.weight", 2).t == 0.75);
        mpb_config_free(c);
    }
    /* gradient_after_layers: last restores the old placement (t = 1) for
     * the tensors after the layers only. */
    mpb_config *c = gradient_config("gradient_after_layers: last\n");
    assert_true(resolve_ok(c, "model.embed_tokens.weight", QWEN_LAYERS).t == 0.25);
    assert_true(resolve_ok(c, "model.norm.weight", QWEN_LAYERS).t == 0.75);
    assert_true(resolve_ok(c, "lm_head.weight", QWEN_LAYERS).t == 0.75);
    assert_true(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2).t == 0.25);
    mpb_config_free(c);
}

static void test_gradient_in_filter_and_single_value(void **state)
{
    (void)state;
    static const double attn[] = {0, 0.5, 0.3, 0.7, 1};
    mpb_config *c = parse_ok("merge_method: slerp\n"
                             "models: [{model: a.h5}, {model: b.h5}]\n"
                             "parameters:\n"
                             "  t:\n"
                             "    - {filter: self_attn, value: [0, 0.5, 0.3, 0.7, 1]}\n"
                             "    - {filter: mlp, value: [0.4]}\n"
                             "    - {value: 0.5}\n");
    for (int i = 0; i < 28; i++) {
        char name[96];
        snprintf(name, sizeof name, "model.layers.%d.self_attn.v_proj.weight", i);
        assert_close(resolve_ok(c, name, 28).t, gradient(attn, 5, i / 27.0));
        snprintf(name, sizeof name, "model.layers.%d.mlp.gate_proj.weight", i);
        assert_true(resolve_ok(c, name, 28).t == 0.4);
    }
    mpb_config_free(c);
}

/* ---- precedence and defaults ---- */

static void test_precedence(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: dare_linear\n"
                             "base_model: base.h5\n"
                             "models:\n"
                             "  - model: a.h5\n"
                             "    parameters: {weight: 0.3, density: 0.4}\n"
                             "  - model: b.h5\n"
                             "parameters: {weight: 0.9, lambda: 0.7}\n");
    mpb_tensor_params p = resolve_ok(c, "model.layers.2.mlp.up_proj.weight", 4);
    assert_int_equal(p.n_inputs, 3);
    assert_int_equal(p.base_index, 2);
    assert_int_equal(p.copy_from, -1);
    assert_true(p.weight[0] == 0.3); /* per model beats global */
    assert_true(p.weight[1] == 0.9); /* global */
    assert_true(p.density[0] == 0.4);
    assert_true(p.density[1] == 1.0); /* method default */
    assert_true(p.lambda == 0.7);
    mpb_config_free(c);
}

static void test_method_defaults(void **state)
{
    (void)state;
    static const struct {
        mpb_method m;
        bool normalize, rescale;
        double lambda, gamma;
    } table[] = {
        {MPB_METHOD_TASK_ARITHMETIC, false, false, 1, NAN},
        {MPB_METHOD_TIES, true, false, 1, NAN},
        {MPB_METHOD_DARE_LINEAR, false, true, 1, NAN},
        {MPB_METHOD_DARE_TIES, false, true, 1, NAN},
        {MPB_METHOD_BREADCRUMBS, false, false, 1, 0.01},
        {MPB_METHOD_BREADCRUMBS_TIES, false, false, 1, 0.01},
    };
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "merge_method: %s\nbase_model: base.h5\n"
                 "models: [{model: a.h5, parameters: {weight: 1}}]\n",
                 mpb_method_name(table[k].m));
        mpb_config *c = parse_ok(yaml);
        mpb_tensor_params p = resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2);
        assert_int_equal(p.normalize, table[k].normalize);
        assert_int_equal(p.rescale, table[k].rescale);
        assert_true(p.rescale_l1);
        assert_true(p.lambda == table[k].lambda);
        assert_true(p.density[0] == 1.0);
        if (isnan(table[k].gamma))
            assert_true(isnan(p.gamma));
        else
            assert_true(p.gamma == table[k].gamma);
        assert_true(isnan(p.t));
        assert_true(isnan(p.epsilon));
        mpb_config_free(c);
    }
    mpb_config *c =
        parse_ok("merge_method: linear\nmodels: [{model: a.h5, parameters: {weight: "
                 "1}}]\n");
    mpb_tensor_params p = resolve_ok(c, "lm_head.weight", 2);
    assert_true(p.normalize);
    assert_true(isnan(p.lambda));
    mpb_config_free(c);
}

static void test_switches(void **state)
{
    (void)state;
    const char *head = "merge_method: dare_ties\nbase_model: base.h5\n"
                       "models: [{model: a.h5, parameters: {weight: 1, density: 0.5}}]\n";
    static const struct {
        const char *params;
        bool rescale, l1, normalize;
        unsigned long long seed;
    } cases[] = {
        {"rescale: inverse, seed: 42", true, false, false, 42},
        {"rescale: l1", true, true, false, 0},
        {"rescale: false, normalize: true", false, true, true, 0},
        {"rescale: off, seed: 18446744073709551615", false, true, false,
         18446744073709551615ull},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "%sparameters: {%s}\n", head, cases[k].params);
        mpb_config *c = parse_ok(yaml);
        mpb_tensor_params p = resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2);
        assert_int_equal(p.rescale, cases[k].rescale);
        assert_int_equal(p.rescale_l1, cases[k].l1);
        assert_int_equal(p.normalize, cases[k].normalize);
        assert_true(p.seed == cases[k].seed);
        mpb_config_free(c);
    }
    /* Switches may be filtered like any parameter (mergekit allows it). */
    mpb_config *c = parse_ok("merge_method: linear\n"
                             "models: [{model: a.h5, parameters: {weight: 2}}]\n"
                             "parameters:\n"
                             "  normalize: [{filter: norm, value: false}, {value: true}]\n");
    assert_false(resolve_ok(c, "model.norm.weight", 2).normalize);
    assert_true(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2).normalize);
    mpb_config_free(c);
}

static void test_gamma_shared_per_tensor(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: breadcrumbs\nbase_model: base.h5\n"
                             "models:\n"
                             "  - {model: a.h5, parameters: {weight: 0.5, density: 0.9, gamma: "
                             "0.02}}\n"
                             "  - {model: b.h5, parameters: {weight: 0.5, density: 0.9, gamma: "
                             "0.02}}\n");
    assert_true(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2).gamma == 0.02);
    mpb_config_free(c);
    c = parse_ok("merge_method: breadcrumbs\nbase_model: base.h5\n"
                 "models:\n"
                 "  - {model: a.h5, parameters: {weight: 0.5, gamma: 0.02}}\n"
                 "  - {model: b.h5, parameters: {weight: 0.5}}\n");
    expect_resolve_error(
        c, "model.layers.0.mlp.up_proj.weight", 2,
        "gamma differs between models[0] (0.02) and models[1] (0.01) for tensor "
        "'model.layers.0.mlp.up_proj.weight' in cfg.yaml; mpiblend applies one "
        "gamma per tensor");
    mpb_config_free(c);
}

/* ---- layer_range, passthrough, tensor positions ---- */

static void test_layer_range_keep_outside(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: interpolate\n"
                             "models: [{model: instruct.h5}, {model: thinking.h5}]\n"
                             "parameters: {lambda: 0.8}\n"
                             "layer_range: [1, 2]\n"
                             "keep_outside: instruct.h5\n");
    static const struct {
        const char *name;
        int copy_from;
    } cases[] = {
        {"model.layers.0.mlp.up_proj.weight", 0},
        {"model.layers.1.mlp.up_proj.weight", -1},
        {"model.layers.2.self_attn.q_norm.weight", -1},
        {"model.layers.3.mlp.up_proj.weight", 0},
        {"model.embed_tokens.weight", 0},
        {"model.norm.weight", 0},
        {"lm_head.weight", 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mpb_tensor_params p = resolve_ok(c, cases[k].name, 4);
        assert_int_equal(p.copy_from, cases[k].copy_from);
        if (p.copy_from < 0)
            assert_true(p.lambda == 0.8);
    }
    expect_resolve_error(
        c, "model.layers.1.mlp.up_proj.weight", 2,
        "layer_range [1, 2] in cfg.yaml:4:14 reaches past the last layer (1) of "
        "the model of tensor 'model.layers.1.mlp.up_proj.weight'");
    expect_resolve_error(
        c, "model.layers.7.mlp.up_proj.weight", 4,
        "tensor 'model.layers.7.mlp.up_proj.weight' is in layer 7 but the model "
        "has 4 layers");
    mpb_config_free(c);
}

static void test_keep_outside_base_model(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: task_arithmetic\n"
                             "base_model: base.h5\n"
                             "models: [{model: a.h5, parameters: {weight: 0.7}}]\n"
                             "layer_range: [0, 0]\n"
                             "keep_outside: base.h5\n");
    assert_int_equal(mpb_config_keep_outside(c), 1);
    assert_int_equal(resolve_ok(c, "model.layers.1.mlp.up_proj.weight", 2).copy_from, 1);
    assert_int_equal(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2).copy_from, -1);
    mpb_config_free(c);
}

static void test_passthrough_copies(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: passthrough\nmodels: [{model: a.h5}]\n");
    assert_int_equal(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2).copy_from, 0);
    assert_int_equal(resolve_ok(c, "lm_head.weight", 2).copy_from, 0);
    mpb_config_free(c);

    /* scale: a tensor whose scale is not 1 is blended (input 0 times it),
     * the others stay copies; a layer_range's outside stays a copy too. */
    c = parse_ok("merge_method: passthrough\n"
                 "models: [{model: a.h5, parameters: {scale: [{filter: o_proj, value: 0.5}, "
                 "{filter: mlp, value: [1, 3]}]}}]\n"
                 "parameters: {scale: 1}\n");
    mpb_tensor_params p = resolve_ok(c, "model.layers.0.self_attn.o_proj.weight", 2);
    assert_int_equal(p.copy_from, -1);
    assert_close(p.scale, 0.5);
    float coef[1];
    mpb_error err = {0};
    assert_int_equal(mpb_method_coefficients(MPB_METHOD_PASSTHROUGH, &p, coef, &err), MPB_OK);
    assert_true(coef[0] == 0.5f);
    assert_int_equal(resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2).copy_from, 0);
    p = resolve_ok(c, "model.layers.1.mlp.up_proj.weight", 2);
    assert_int_equal(p.copy_from, -1);
    assert_close(p.scale, 3);
    assert_int_equal(resolve_ok(c, "lm_head.weight", 2).copy_from, 0);
    mpb_config_free(c);
}

static void test_linear_sum_zero_per_tensor(void **state)
{
    (void)state;
    mpb_config *c =
        parse_ok("merge_method: linear\n"
                 "models:\n"
                 "  - {model: a.h5, parameters: {weight: [{filter: mlp, value: 1}, "
                 "{value: 0.5}]}}\n"
                 "  - {model: b.h5, parameters: {weight: [{filter: mlp, value: -1}, "
                 "{value: 0.5}]}}\n");
    mpb_tensor_params p = resolve_ok(c, "model.layers.0.self_attn.q_proj.weight", 2);
    assert_true(p.weight[0] == 0.5 && p.weight[1] == 0.5);
    expect_resolve_error(
        c, "model.layers.0.mlp.up_proj.weight", 2,
        "linear weights for tensor 'model.layers.0.mlp.up_proj.weight' sum to 0 "
        "and normalize divides by their sum in cfg.yaml; change the weights or "
        "set normalize: false");
    mpb_config_free(c);
}

/* ---- coefficients ---- */

/* The coefficients of one tensor (of a 36-layer model) under a config. */
static void coefficients_of(const char *yaml, const char *tensor, float coef[])
{
    mpb_error err = {0};
    mpb_config *c = parse_ok(yaml);
    mpb_tensor_params p = resolve_ok(c, tensor, QWEN_LAYERS);
    int rc = mpb_method_coefficients(mpb_config_method(c), &p, coef, &err);
    if (rc != MPB_OK)
        print_message("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, MPB_OK);
    mpb_config_free(c);
}

static void test_coefficients_linear(void **state)
{
    (void)state;
    float coef[MPB_MAX_INPUTS];
    coefficients_of("merge_method: linear\nparameters: {weight: 1}\n"
                    "models: [{model: a.h5}, {model: b.h5}, {model: c.h5}]\n",
                    "model.layers.0.mlp.up_proj.weight", coef);
    for (int i = 0; i < 3; i++)
        assert_true(coef[i] == (float)(1.0 / 3.0));

    coefficients_of("merge_method: linear\nparameters: {normalize: false}\n"
                    "models: [{model: a.h5, parameters: {weight: 0.3}}, {model: b.h5, "
                    "parameters: {weight: 0.9}}]\n",
                    "lm_head.weight", coef);
    assert_true(coef[0] == 0.3f && coef[1] == 0.9f);

    coefficients_of("merge_method: linear\n"
                    "models: [{model: a.h5, parameters: {weight: 0.3}}, {model: b.h5, "
                    "parameters: {weight: 0.9}}]\n",
                    "lm_head.weight", coef);
    assert_true(coef[0] == (float)(0.3 / 1.2) && coef[1] == (float)(0.9 / 1.2));
}

static void test_coefficients_interpolate(void **state)
{
    (void)state;
    float coef[MPB_MAX_INPUTS];
    coefficients_of("merge_method: interpolate\n"
                    "models: [{model: instruct.h5}, {model: thinking.h5}]\n"
                    "parameters: {lambda: 0.45}\n",
                    "model.embed_tokens.weight", coef);
    assert_true(coef[0] == (float)(1.0 - 0.45));
    assert_true(coef[1] == (float)0.45);

    /* base_model names the lambda = 0 end even when it is listed second. */
    coefficients_of("merge_method: interpolate\nbase_model: instruct.h5\n"
                    "models: [{model: thinking.h5}, {model: instruct.h5}]\n"
                    "parameters: {lambda: 0.8}\n",
                    "model.embed_tokens.weight", coef);
    assert_true(coef[1] == (float)(1.0 - 0.8));
    assert_true(coef[0] == (float)0.8);
}

static void test_coefficients_task_arithmetic(void **state)
{
    (void)state;
    float coef[MPB_MAX_INPUTS];
    /* The paper's baseline: scale 0.7 on both task vectors. */
    coefficients_of("merge_method: task_arithmetic\nbase_model: base.h5\n"
                    "models: [{model: instruct.h5}, {model: thinking.h5}]\n"
                    "parameters: {weight: 0.7}\n",
                    "model.layers.0.mlp.up_proj.weight", coef);
    assert_true(coef[0] == 0.7f && coef[1] == 0.7f);
    assert_true(coef[2] == (float)(1.0 - 0.7 - 0.7));

    coefficients_of(
        "merge_method: task_arithmetic\nbase_model: base.h5\n"
        "models: [{model: x.h5, parameters: {weight: 1}}, {model: y.h5, parameters: "
        "{weight: 3}}]\n"
        "parameters: {normalize: true, lambda: 0.5}\n",
        "model.layers.0.mlp.up_proj.weight", coef);
    double cx = 1.0 / 4.0 * 0.5, cy = 3.0 / 4.0 * 0.5;
    assert_true(coef[0] == (float)cx && coef[1] == (float)cy);
    assert_true(coef[2] == (float)(1.0 - cx - cy));
}

static void test_coefficients_copy_and_refusal(void **state)
{
    (void)state;
    mpb_error err = {0};
    float coef[MPB_MAX_INPUTS];
    mpb_config *c = parse_ok("merge_method: interpolate\n"
                             "models: [{model: instruct.h5}, {model: thinking.h5}]\n"
                             "parameters: {lambda: 0.8}\n"
                             "layer_range: [0, 0]\nkeep_outside: thinking.h5\n");
    mpb_tensor_params p = resolve_ok(c, "lm_head.weight", 2);
    assert_int_equal(p.copy_from, 1);
    assert_int_equal(mpb_method_coefficients(MPB_METHOD_INTERPOLATE, &p, coef, &err), MPB_OK);
    assert_true(coef[0] == 0.0f && coef[1] == 1.0f);
    mpb_config_free(c);

    c = parse_ok("merge_method: ties\nbase_model: base.h5\n"
                 "models: [{model: a.h5, parameters: {weight: 1, density: 0.2}}]\n");
    p = resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 2);
    assert_int_equal(mpb_method_coefficients(MPB_METHOD_TIES, &p, coef, &err), MPB_EINVAL);
    assert_string_equal(err.msg,
                        "merge_method 'ties' is not one fixed weighted sum of its inputs");
    mpb_config_free(c);
}

/* ---- filter warnings and --dry-run lines ---- */

typedef struct warnings {
    int count;
    char last[512];
} warnings;

static void collect(void *ctx, const char *msg)
{
    warnings *w = ctx;
    w->count++;
    snprintf(w->last, sizeof w->last, "%s", msg);
}

static void test_unused_filter_warnings(void **state)
{
    (void)state;
    static const char *const names[] = {
        "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
        "model.layers.0.mlp.up_proj.weight", "model.norm.weight"};
    mpb_config *c = parse_ok("merge_method: linear\n"
                             "models:\n"
                             "  - model: a.h5\n"
                             "    parameters:\n"
                             "      weight:\n"
                             "        - {filter: self_atn, value: 0.2}\n"
                             "        - {filter: mlp, value: 0.6}\n"
                             "        - {filter: '*', value: 0.5}\n"
                             "  - model: b.h5\n"
                             "    parameters: {weight: [{value: 0.5}]}\n");
    warnings w = {0};
    mpb_config_check_filters(c, names, 4, collect, &w);
    assert_int_equal(w.count, 1);
    assert_string_equal(w.last, "filter 'self_atn' of models[0].parameters.weight in "
                                "cfg.yaml:6:11 matches no tensor");
    mpb_config_free(c);

    c = parse_ok(filtered_slerp);
    w.count = 0;
    mpb_config_check_filters(c, names, 4, collect, &w);
    /* up_proj matches a tensor even though mlp always wins before it. */
    assert_int_equal(w.count, 0);
    mpb_config_check_filters(c, names, 1, collect, &w);
    assert_int_equal(w.count, 3);
    mpb_config_free(c);
}

static void test_describe(void **state)
{
    (void)state;
    char buf[256];
    mpb_config *c = parse_ok("merge_method: linear\n"
                             "models: [{model: a.h5, parameters: {weight: 0.3}}, {model: b.h5, "
                             "parameters: {weight: 0.7}}]\n");
    assert_string_equal(
        mpb_config_describe(c, "model.layers.0.mlp.up_proj.weight", 2, buf, sizeof buf),
        "model.layers.0.mlp.up_proj.weight: linear weight=[0.3,0.7] "
        "normalize=true");
    mpb_config_free(c);

    c = parse_ok("merge_method: interpolate\n"
                 "models: [{model: instruct.h5}, {model: thinking.h5}]\n"
                 "parameters: {lambda: 0.8}\n"
                 "layer_range: [0, 0]\nkeep_outside: instruct.h5\n");
    assert_string_equal(mpb_config_describe(c, "lm_head.weight", 2, buf, sizeof buf),
                        "lm_head.weight: copy from models[0] (instruct.h5)");
    assert_string_equal(
        mpb_config_describe(c, "model.layers.0.mlp.up_proj.weight", 2, buf, sizeof buf),
        "model.layers.0.mlp.up_proj.weight: interpolate base=models[0] "
        "lambda=0.8");
    assert_string_equal(mpb_config_describe(c, "model.layers.0.mlp.up_proj.weight", 2, buf, 12),
                        "model.layer");
    mpb_config_free(c);

    c = parse_ok("merge_method: dare_ties\nbase_model: base.h5\n"
                 "models: [{model: a.h5, parameters: {weight: 0.5, density: 0.3}}]\n"
                 "parameters: {seed: 7}\n");
    assert_string_equal(mpb_config_describe(c, "model.norm.weight", 2, buf, sizeof buf),
                        "model.norm.weight: dare_ties base=base_model weight=[0.5,-] "
                        "density=[0.3,1] lambda=1 normalize=false rescale=l1 seed=7");
    mpb_config_free(c);
}

/* slices: per tensor, the slice's source entries for the model beat the
 * slice's parameters, which beat the globals; per-model values see the
 * source tensor's own layer number, the gradient runs over the slice's
 * layers; embeddings take slices[0], the final norm the last slice. */
static void test_slices_precedence(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: linear\n"
                             "parameters: {weight: 9}\n"
                             "slices:\n"
                             "  - sources:\n"
                             "      - model: a.h5\n"
                             "        layer_range: [0, 4]\n"
                             "        parameters:\n"
                             "          weight: [{filter: layers.12., value: 7}, {value: 2}]\n"
                             "      - model: b.h5\n"
                             "        layer_range: [10, 14]\n"
                             "        parameters:\n"
                             "          weight: [{filter: layers.12., value: 5}]\n"
                             "  - sources:\n"
                             "      - model: b.h5\n"
                             "        layer_range: [30, 33]\n"
                             "      - model: a.h5\n"
                             "        layer_range: [1, 4]\n"
                             "    parameters: {weight: [0.5, 1.5]}\n");
    assert_true(mpb_config_has_slices(c));
    assert_int_equal(mpb_config_n_inputs(c), 2);
    assert_int_equal(mpb_config_n_models(c), 2);
    assert_int_equal(mpb_config_out_layers(c), 7);
    assert_string_equal(mpb_config_input_origin(c, 1), "slices[0].sources[1]");
    /* Output layer 2: source layers 2 (a) and 12 (b): a's filter on its own
     * name misses, b's matches. */
    mpb_tensor_params p = resolve_ok(c, "model.layers.2.mlp.up_proj.weight", 0);
    assert_close(p.weight[0], 2);
    assert_close(p.weight[1], 5);
    /* Output layer 3: b (layer 13) has no matching entry: the globals. */
    p = resolve_ok(c, "model.layers.3.mlp.up_proj.weight", 0);
    assert_close(p.weight[1], 9);
    /* Output layers 4..6: slice 1's gradient over its 3 layers. */
    p = resolve_ok(c, "model.layers.5.mlp.up_proj.weight", 0);
    assert_close(p.weight[0], 1);
    assert_close(p.weight[1], 1);
    p = resolve_ok(c, "model.layers.6.self_attn.q_proj.weight", 0);
    assert_close(p.weight[0], 1.5);
    p = resolve_ok(c, "model.embed_tokens.weight", 0);
    assert_close(p.weight[0], 2);
    p = resolve_ok(c, "model.norm.weight", 0);
    assert_close(p.weight[0], 0.5);
    expect_resolve_error(c, "model.layers.7.mlp.up_proj.weight", 0,
                         "tensor 'model.layers.7.mlp.up_proj.weight' is in layer 7 but the "
                         "slices of cfg.yaml make 7 layers");
    mpb_config_free(c);
}

/* Slices whose source counts differ: each tensor's inputs are its own
 * slice's sources; a slerp slice of one source is copied, the base moves
 * to the slot the shortest slice can hold. */
static void test_slices_source_counts(void **state)
{
    (void)state;
    mpb_config *c = parse_ok("merge_method: slerp\n"
                             "base_model: b.h5\n"
                             "parameters: {t: 0.3}\n"
                             "slices:\n"
                             "  - sources:\n"
                             "      - {model: a.h5, layer_range: [0, 2]}\n"
                             "      - {model: b.h5, layer_range: [0, 2]}\n"
                             "  - sources:\n"
                             "      - {model: b.h5, layer_range: [2, 3]}\n");
    assert_int_equal(mpb_config_n_inputs(c), 2);
    assert_int_equal(mpb_config_base_index(c), 0); /* b: slot 1 in slices[0], moved to 0 */
    assert_string_equal(mpb_config_input_origin(c, 0), "slices[0].sources[1]");
    mpb_tensor_params p = resolve_ok(c, "model.layers.1.mlp.up_proj.weight", 0);
    assert_int_equal(p.n_inputs, 2);
    assert_int_equal(p.copy_from, -1);
    assert_int_equal(p.base_index, 0);
    p = resolve_ok(c, "model.layers.2.mlp.up_proj.weight", 0);
    assert_int_equal(p.n_inputs, 1);
    assert_int_equal(p.copy_from, 0);
    p = resolve_ok(c, "lm_head.weight", 0); /* the last slice's */
    assert_int_equal(p.n_inputs, 1);
    assert_int_equal(p.copy_from, 0);
    p = resolve_ok(c, "model.embed_tokens.weight", 0); /* slices[0]'s */
    assert_int_equal(p.n_inputs, 2);
    mpb_config_free(c);

    c = parse_ok("merge_method: linear\n"
                 "parameters: {weight: 1}\n"
                 "slices:\n"
                 "  - sources:\n"
                 "      - {model: a.h5, layer_range: [0, 1]}\n"
                 "  - sources:\n"
                 "      - {model: a.h5, layer_range: [1, 2]}\n"
                 "      - {model: b.h5, layer_range: [1, 2]}\n"
                 "      - {model: c.h5, layer_range: [1, 2], parameters: {weight: 3}}\n");
    assert_int_equal(mpb_config_n_inputs(c), 3);
    assert_string_equal(mpb_config_input_origin(c, 2), "slices[1].sources[2]");
    p = resolve_ok(c, "model.layers.0.mlp.up_proj.weight", 0);
    assert_int_equal(p.n_inputs, 1);
    assert_int_equal(p.copy_from, -1); /* linear blends one input */
    assert_close(p.weight[0], 1);
    p = resolve_ok(c, "model.layers.1.mlp.up_proj.weight", 0);
    assert_int_equal(p.n_inputs, 3);
    assert_close(p.weight[2], 3);
    mpb_config_free(c);
}

static void test_tensor_with_layer(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(mpb_tensor_with_layer("model.layers.3.mlp.w", 12, buf, sizeof buf),
                        "model.layers.12.mlp.w");
    assert_string_equal(mpb_tensor_with_layer("transformer.h.10.attn.w", 2, buf, sizeof buf),
                        "transformer.h.2.attn.w");
    assert_string_equal(mpb_tensor_with_layer("model.norm.weight", 4, buf, sizeof buf),
                        "model.norm.weight");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_layer),
        cmocka_unit_test(test_filters_first_match_and_fallback),
        cmocka_unit_test(test_filter_without_match_falls_back),
        cmocka_unit_test(test_interpolate_requires_lambda_per_tensor),
        cmocka_unit_test(test_gradient_positions),
        cmocka_unit_test(test_gradient_outside_layers),
        cmocka_unit_test(test_gradient_in_filter_and_single_value),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_method_defaults),
        cmocka_unit_test(test_switches),
        cmocka_unit_test(test_gamma_shared_per_tensor),
        cmocka_unit_test(test_layer_range_keep_outside),
        cmocka_unit_test(test_keep_outside_base_model),
        cmocka_unit_test(test_passthrough_copies),
        cmocka_unit_test(test_linear_sum_zero_per_tensor),
        cmocka_unit_test(test_coefficients_linear),
        cmocka_unit_test(test_coefficients_interpolate),
        cmocka_unit_test(test_coefficients_task_arithmetic),
        cmocka_unit_test(test_coefficients_copy_and_refusal),
        cmocka_unit_test(test_unused_filter_warnings),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_slices_precedence),
        cmocka_unit_test(test_slices_source_counts),
        cmocka_unit_test(test_tensor_with_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
