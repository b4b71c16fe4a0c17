/* libFuzzer target for the merge-config loader (scripts/fuzz.sh config).
 *
 * Each input is taken as the YAML text of a config.  Beyond "no crash, no
 * leak, no undefined behaviour": a refusal must carry an input error and a
 * message and leave no config; an accepted config must describe itself
 * consistently and resolve the parameters of typical tensor names (Qwen3
 * names, a layer past the end, a name outside any layer) without crashing,
 * every failure again with a message. */
#include "mpb_config.h"

#include <string.h>

static const char *const names[] = {
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.17.mlp.down_proj.weight",
    "model.layers.35.input_layernorm.weight",
    "model.layers.99.mlp.experts.3.up_proj.weight",
    "model.norm.weight",
    "lm_head.weight",
};

static void check_resolved(const mpb_config *c, const mpb_tensor_params *p)
{
    /* slices whose source counts differ give a tensor its own slice's count */
    if (p->n_inputs == 0 || p->n_inputs > mpb_config_n_inputs(c) ||
        p->n_inputs > MPB_MAX_INPUTS)
        __builtin_trap();
    if (p->copy_from >= (int)p->n_inputs)
        __builtin_trap();
    mpb_method m = mpb_config_method(c);
    if (p->copy_from >= 0 || !(m == MPB_METHOD_LINEAR || m == MPB_METHOD_INTERPOLATE ||
                               m == MPB_METHOD_TASK_ARITHMETIC || m == MPB_METHOD_PASSTHROUGH))
        return;
    float coef[MPB_MAX_INPUTS];
    mpb_error err = {0};
    if (mpb_method_coefficients(m, p, coef, &err) != MPB_OK && err.msg[0] == '\0')
        __builtin_trap();
}

static void check_config(const mpb_config *c)
{
    size_t n = mpb_config_n_inputs(c);
    if (n == 0 || n > MPB_MAX_INPUTS ||
        strcmp(mpb_method_name(mpb_config_method(c)), "invalid") == 0)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (mpb_config_input_path(c, i) == NULL || mpb_config_input_origin(c, i) == NULL)
            __builtin_trap();
    if (mpb_config_base_index(c) >= (int)n)
        __builtin_trap();
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        mpb_tensor_params p;
        mpb_error err = {0};
        if (mpb_config_resolve(c, names[k], 36, &p, &err) == MPB_OK)
            check_resolved(c, &p);
        else if (err.msg[0] == '\0')
            __builtin_trap();
        char line[1024];
        if (mpb_config_describe(c, names[k], 36, line, sizeof line) == NULL)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    mpb_config *c = NULL;
    mpb_error err = {0};
    if (mpb_config_parse((const char *)data, size, "/fuzz/config.yaml", &c, &err) == MPB_OK) {
        if (c == NULL)
            __builtin_trap();
        check_config(c);
        mpb_config_free(c);
    } else if (c != NULL || (err.code != MPB_EINVAL && err.code != MPB_ENOMEM) ||
               err.msg[0] == '\0') {
        __builtin_trap();
    }
    return 0;
}
