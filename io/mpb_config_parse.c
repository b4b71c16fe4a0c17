/* The config's top level and model entries: YAML document -> mpb_config.
 * Method rules that need the whole picture are in mpb_config_validate.c. */
#include "mpb_config_internal.h"
#include "mpb_chat_templates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum top_key {
    KEY_MERGE_METHOD,
    KEY_BASE_MODEL,
    KEY_MODELS,
    KEY_SLICES,
    KEY_MODULES,
    KEY_PARAMETERS,
    KEY_DTYPE,
    KEY_OUT_DTYPE,
    KEY_LAYER_RANGE,
    KEY_KEEP_OUTSIDE,
    KEY_SWEEP,
    KEY_GRADIENT_AFTER_LAYERS,
    KEY_TOKENIZER_SOURCE,
    KEY_TOKENIZER,
    KEY_CHAT_TEMPLATE,
    KEY_COUNT
};

static const char *const top_keys[KEY_COUNT + 1] = {
    [KEY_MERGE_METHOD] = "merge_method",
    [KEY_BASE_MODEL] = "base_model",
    [KEY_MODELS] = "models",
    [KEY_SLICES] = "slices",
    [KEY_MODULES] = "modules",
    [KEY_PARAMETERS] = "parameters",
    [KEY_DTYPE] = "dtype",
    [KEY_OUT_DTYPE] = "out_dtype",
    [KEY_LAYER_RANGE] = "layer_range",
    [KEY_KEEP_OUTSIDE] = "keep_outside",
    [KEY_SWEEP] = "sweep",
    [KEY_GRADIENT_AFTER_LAYERS] = "gradient_after_layers",
    [KEY_TOKENIZER_SOURCE] = "tokenizer_source",
    [KEY_TOKENIZER] = "tokenizer",
    [KEY_CHAT_TEMPLATE] = "chat_template",
    [KEY_COUNT] = NULL,
};

typedef struct parse_state {
    mpb_yaml y;
    mpb_config *c;
    char *dir; /* the config's folder, "" for the current one */
    yaml_node_t *value[KEY_COUNT];
} parse_state;

/* Keys mergekit's config schema does not have, which it therefore ignores,
 * and which people write anyway: labels, and run options that mergekit
 * reads from its command line only.  They cannot change mergekit's result,
 * so mpiblend accepts them with a warning (docs/CONFIG.md). */
static const mpb_ignored_key ignored_top_keys[] = {
    {"name", NULL},
    {"description", NULL},
    {"license", NULL},
    {"tags", NULL},
    {"trust_remote_code", NULL},
    {"allow_crimes", NULL},
    {"lazy_unpickle", NULL},
    {"low_cpu_memory", NULL},
    {"cuda", NULL},
    {"read_to_gpu", NULL},
    {"clone_tensors", NULL},
    {"copy_tokenizer", NULL},
    {"write_model_card", NULL},
    {"safe_serialization", NULL},
    {"out_shard_size", "mpiblend's shard size is --shard-size"},
    {"random_seed", "DARE's masks take parameters: {seed: N}"},
    {NULL, NULL},
};

static const mpb_ignored_key ignored_model_keys[] = {
    {"name", NULL},
    {"layer_range", "mergekit reads layer_range only under slices: sources:"},
    {NULL, NULL},
};

/* A path value: a non-empty scalar, joined to the config's folder. */
static int parse_path(parse_state *st, yaml_node_t *node, const char *what, char **out)
{
    if (node->type != YAML_SCALAR_NODE || mpb_yaml_is_null(node))
        return mpb_yaml_fail(&st->y, node, NULL, "%s must be a model path", what);
    *out = mpb_config_join_path(st->dir, mpb_yaml_text(node));
    return *out ? MPB_OK : mpb_fail(st->y.err, MPB_ENOMEM, "out of memory");
}

static int unknown_top_key(parse_state *st, yaml_node_t *key)
{
    const char *name = mpb_yaml_text(key);
    const char *near = mpb_suggest(name, top_keys);
    char hint[256];
    if (near != NULL)
        snprintf(hint, sizeof hint, "did you mean '%s'?", near);
    else
        snprintf(hint, sizeof hint,
                 "known keys: merge_method, base_model, models, slices, modules, parameters, "
                 "dtype, "
                 "out_dtype, "
                 "layer_range, keep_outside, sweep, gradient_after_layers, tokenizer_source, "
                 "tokenizer, chat_template");
    return mpb_yaml_fail(&st->y, key, hint, "unknown key '%s'", name);
}

static int collect_top_keys(parse_state *st, yaml_node_t *root)
{
    int rc = mpb_yaml_check_mapping(&st->y, root, "the config");
    if (rc != MPB_OK)
        return rc;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = mpb_yaml_node(&st->y, p->key);
        int k = 0;
        while (k < KEY_COUNT && strcmp(mpb_yaml_text(key), top_keys[k]) != 0)
            k++;
        if (k == KEY_COUNT &&
            mpb_config_note_ignored(&st->y, st->c, ignored_top_keys, key, NULL))
            continue;
        if (k == KEY_COUNT)
            return unknown_top_key(st, key);
        yaml_node_t *value = mpb_yaml_node(&st->y, p->value);
        /* `key:` with nothing after it is the same as leaving it out. */
        st->value[k] = mpb_yaml_is_null(value) ? NULL : value;
    }
    return MPB_OK;
}

static int parse_method(parse_state *st, yaml_node_t *root)
{
    yaml_node_t *node = st->value[KEY_MERGE_METHOD];
    if (node == NULL)
        return mpb_yaml_fail(&st->y, root, NULL, "missing key 'merge_method' (one of: %s)",
                             mpb_method_list());
    const char *name = mpb_yaml_text(node);
    if (node->type == YAML_SCALAR_NODE && mpb_method_lookup(name, &st->c->method))
        return MPB_OK;
    const char *why = node->type == YAML_SCALAR_NODE ? mpb_method_refusal(name) : NULL;
    if (why != NULL)
        return mpb_yaml_fail(&st->y, node, NULL, "merge_method '%s': %s", name, why);
    const char *names[MPB_METHOD_COUNT + 1];
    for (int m = 0; m < MPB_METHOD_COUNT; m++)
        names[m] = mpb_method_name((mpb_method)m);
    names[MPB_METHOD_COUNT] = NULL;
    const char *near = node->type == YAML_SCALAR_NODE ? mpb_suggest(name, names) : NULL;
    char hint[320];
    snprintf(hint, sizeof hint, "%s%s%sknown methods: %s", near ? "did you mean '" : "",
             near ? near : "", near ? "'? " : "", mpb_method_list());
    return mpb_yaml_fail(&st->y, node, hint, "unknown merge_method '%s'", name);
}

/* Adds an input; `origin` says where it was named, for messages. */
static int add_input(parse_state *st, char *path, const char *origin, yaml_node_t *node)
{
    mpb_config *c = st->c;
    if (c->n_inputs == MPB_MAX_INPUTS) {
        free(path);
        return mpb_yaml_fail(&st->y, node, NULL, "more than %d models", MPB_MAX_INPUTS);
    }
    size_t i = c->n_inputs++;
    c->inputs[i] = path;
    if ((c->written[i] = strdup(mpb_yaml_text(node))) == NULL)
        return mpb_fail(st->y.err, MPB_ENOMEM, "out of memory");
    snprintf(c->origin[i], sizeof c->origin[i], "%s", origin);
    c->input_line[i] = (int)node->start_mark.line + 1;
    c->input_column[i] = (int)node->start_mark.column + 1;
    return MPB_OK;
}

static int parse_model_entry(parse_state *st, yaml_node_t *entry, size_t index)
{
    static const char *const keys[] = {"model", "parameters", NULL};
    char where[32];
    snprintf(where, sizeof where, "models[%zu]", index);
    if (entry->type != YAML_MAPPING_NODE)
        return mpb_yaml_fail(&st->y, entry, NULL, "%s must be a mapping like {model: PATH}",
                             where);
    int rc = mpb_yaml_check_mapping(&st->y, entry, where);
    if (rc != MPB_OK)
        return rc;
    yaml_node_t *model = NULL, *params = NULL;
    for (yaml_node_pair_t *p = entry->data.mapping.pairs.start;
         p < entry->data.mapping.pairs.top; p++) {
        yaml_node_t *key = mpb_yaml_node(&st->y, p->key);
        const char *name = mpb_yaml_text(key);
        if (strcmp(name, "model") == 0) {
            model = mpb_yaml_node(&st->y, p->value);
        } else if (strcmp(name, "parameters") == 0) {
            params = mpb_yaml_node(&st->y, p->value);
        } else if (!mpb_config_note_ignored(&st->y, st->c, ignored_model_keys, key, where)) {
            return mpb_yaml_unknown_key(&st->y, key, keys,
                                        "a model entry has only model and parameters", where);
        }
    }
    if (model == NULL)
        return mpb_yaml_fail(&st->y, entry, NULL, "%s has no 'model' key", where);
    char *path;
    char what[48];
    snprintf(what, sizeof what, "%s.model", where);
    if ((rc = parse_path(st, model, what, &path)) != MPB_OK)
        return rc;
    if ((rc = add_input(st, path, where, model)) != MPB_OK || params == NULL)
        return rc;
    char prefix[48];
    snprintf(prefix, sizeof prefix, "%s.parameters", where);
    return mpb_config_parse_params(&st->y, params, prefix, true,
                                   &st->c->model_params[st->c->n_inputs - 1]);
}

static int parse_models(parse_state *st, yaml_node_t *root)
{
    yaml_node_t *node = st->value[KEY_MODELS];
    if (node == NULL)
        return mpb_yaml_fail(&st->y, root, NULL,
                             "missing key 'models' or 'slices' (the models to merge)");
    if (node->type != YAML_SEQUENCE_NODE)
        return mpb_yaml_fail(&st->y, node, NULL,
                             "models must be a list of {model: PATH} entries");
    yaml_node_item_t *items = node->data.sequence.items.start;
    size_t n = (size_t)(node->data.sequence.items.top - items);
    if (n == 0)
        return mpb_yaml_fail(&st->y, node, NULL, "models is an empty list");
    if (n > MPB_MAX_INPUTS)
        return mpb_yaml_fail(&st->y, node, NULL,
                             "models lists %zu models; at most %d can be merged", n,
                             MPB_MAX_INPUTS);
    for (size_t i = 0; i < n; i++) {
        int rc = parse_model_entry(st, mpb_yaml_node(&st->y, items[i]), i);
        if (rc != MPB_OK)
            return rc;
    }
    return MPB_OK;
}

/* Index of the input with this resolved path, or -1. */
static int find_input(const mpb_config *c, const char *path)
{
    for (size_t i = 0; i < c->n_inputs; i++)
        if (strcmp(c->inputs[i], path) == 0)
            return (int)i;
    return -1;
}

/* With slices the base is one of the sources of each slice
 * (mpb_config_slices_base), never an input of its own. */
static int parse_slices_base(parse_state *st)
{
    yaml_node_t *node = st->value[KEY_BASE_MODEL];
    mpb_config *c = st->c;
    c->base_model = -1;
    if (node != NULL) {
        char *path;
        int rc = parse_path(st, node, "base_model", &path);
        if (rc != MPB_OK)
            return rc;
        for (size_t m = 0; m < c->n_models && c->base_model < 0; m++)
            if (strcmp(c->models[m], path) == 0)
                c->base_model = (int)m;
        rc = c->base_model < 0 && mpb_method_get(c->method)->base != MPB_BASE_IGNORED
                 ? mpb_yaml_fail(&st->y, node, NULL,
                                 "base_model '%s' is not a source of any slice; with slices "
                                 "the base model's layers are read from the slices' sources",
                                 path)
                 : MPB_OK;
        free(path);
        if (rc != MPB_OK)
            return rc;
    }
    yaml_node_t *list = st->value[KEY_SLICES] ? st->value[KEY_SLICES] : st->value[KEY_MODULES];
    return mpb_config_slices_base(c, &st->y, list);
}

static int parse_base_model(parse_state *st)
{
    yaml_node_t *node = st->value[KEY_BASE_MODEL];
    mpb_config *c = st->c;
    c->base_index = -1;
    c->given_base = -1;
    if (st->value[KEY_SLICES] != NULL || st->value[KEY_MODULES] != NULL)
        return parse_slices_base(st);
    if (node == NULL)
        return MPB_OK;
    char *path;
    int rc = parse_path(st, node, "base_model", &path);
    if (rc != MPB_OK)
        return rc;
    c->base_given = true;
    c->base_index = find_input(c, path);
    if (c->base_index >= 0) {
        free(path);
        c->given_base = c->base_index;
        return MPB_OK;
    }
    c->base_index = (int)c->n_inputs;
    c->given_base = c->base_index;
    return add_input(st, path, "base_model", node);
}

/* mergekit writes dtypes as torch does too ("torch.bfloat16"). */
static const char *without_torch_prefix(const char *name)
{
    return strncmp(name, "torch.", 6) == 0 ? name + 6 : name;
}

static int parse_dtype(parse_state *st, enum top_key k, mpb_dtype *out)
{
    yaml_node_t *node = st->value[k];
    *out = MPB_DT_INVALID;
    if (node == NULL)
        return MPB_OK;
    mpb_dtype dt = node->type == YAML_SCALAR_NODE
                       ? mpb_dtype_parse(without_torch_prefix(mpb_yaml_text(node)))
                       : MPB_DT_INVALID;
    if (!mpb_dtype_is_blendable(dt))
        return mpb_yaml_fail(&st->y, node, NULL,
                             "unknown %s '%s' (use bfloat16, float16 or float32; bf16, f16, "
                             "f32 and torch.bfloat16, torch.float16, torch.float32 also work)",
                             top_keys[k], mpb_yaml_text(node));
    *out = dt;
    return MPB_OK;
}

/* Which end of a gradient the tensors after the last layer (final norm,
 * lm_head) take: mergekit's planner gives them the first value since
 * v0.1.2 (its per-module planner); `last` keeps what mpiblend (and mergekit's
 * older single-module planner) did. */
static int parse_gradient_after_layers(parse_state *st)
{
    yaml_node_t *node = st->value[KEY_GRADIENT_AFTER_LAYERS];
    st->c->after_layers_position = 0.0;
    if (node == NULL)
        return MPB_OK;
    const char *word = mpb_yaml_text(node);
    if (node->type == YAML_SCALAR_NODE && strcmp(word, "first") == 0)
        return MPB_OK;
    if (node->type == YAML_SCALAR_NODE && strcmp(word, "last") == 0) {
        st->c->after_layers_position = 1.0;
        return MPB_OK;
    }
    return mpb_yaml_fail(&st->y, node, NULL,
                         "gradient_after_layers must be 'first' (mergekit's choice) or 'last' "
                         "(got '%s')",
                         word);
}

/* A whole number a layer index can be; checked before any cast to int,
 * which would be undefined for values out of range. */
static bool is_layer_number(double v)
{
    return v >= 0 && v <= 1e6 && v == (double)(int)v;
}

static int parse_layer_range(parse_state *st)
{
    yaml_node_t *node = st->value[KEY_LAYER_RANGE];
    mpb_config *c = st->c;
    c->keep_outside = -1;
    if (node == NULL)
        return MPB_OK;
    yaml_node_item_t *items = node->data.sequence.items.start;
    double bound[2];
    if (node->type != YAML_SEQUENCE_NODE || node->data.sequence.items.top - items != 2 ||
        !mpb_yaml_number(mpb_yaml_node(&st->y, items[0]), &bound[0]) ||
        !mpb_yaml_number(mpb_yaml_node(&st->y, items[1]), &bound[1]) ||
        !is_layer_number(bound[0]) || !is_layer_number(bound[1]))
        return mpb_yaml_fail(&st->y, node, NULL,
                             "layer_range must be [first, last]: two layer numbers (from 0)");
    if (bound[0] > bound[1])
        return mpb_yaml_fail(&st->y, node, NULL, "layer_range [%d, %d] has first > last",
                             (int)bound[0], (int)bound[1]);
    c->has_layer_range = true;
    c->layer_first = (int)bound[0];
    c->layer_last = (int)bound[1];
    c->range_line = (int)node->start_mark.line + 1;
    c->range_column = (int)node->start_mark.column + 1;
    return MPB_OK;
}

static int parse_keep_outside(parse_state *st)
{
    yaml_node_t *node = st->value[KEY_KEEP_OUTSIDE];
    mpb_config *c = st->c;
    if (node == NULL)
        return c->has_layer_range
                   ? mpb_yaml_fail(&st->y, st->value[KEY_LAYER_RANGE], NULL,
                                   "layer_range needs keep_outside: the model every tensor "
                                   "outside the range is copied from")
                   : MPB_OK;
    if (!c->has_layer_range)
        return mpb_yaml_fail(&st->y, node, NULL, "keep_outside is only used with layer_range");
    char *path;
    int rc = parse_path(st, node, "keep_outside", &path);
    if (rc != MPB_OK)
        return rc;
    c->keep_outside = find_input(c, path);
    if (c->keep_outside < 0)
        rc =
            mpb_yaml_fail(&st->y, node, NULL,
                          "keep_outside '%s' is not one of the models or the base_model", path);
    free(path);
    return rc;
}

/* A tokenizer source: `base`, `union`, or a model path that is one of the
 * inputs. */
static int parse_tokenizer_source(parse_state *st, yaml_node_t *node, const char *what)
{
    mpb_config *c = st->c;
    const char *text = mpb_yaml_text(node);
    if (node->type != YAML_SCALAR_NODE || *text == '\0')
        return mpb_yaml_fail(&st->y, node, NULL, "%s must be base, union or a model", what);
    if (strcmp(text, "union") == 0) {
        char union_of[48];
        snprintf(union_of, sizeof union_of, "%s: union", what);
        if (!mpb_config_slices_vocab_ready(c, &st->y, node, union_of))
            return st->y.err->code;
        c->tokenizer_union = true;
        return MPB_OK;
    }
    if (strcmp(text, "base") == 0) {
        if (!c->base_given)
            return mpb_yaml_fail(&st->y, node, NULL, "%s: base needs a base_model", what);
        c->tokenizer_input = c->base_index;
        return MPB_OK;
    }
    char *path = mpb_config_join_path(st->dir, text);
    if (path == NULL)
        return mpb_fail(st->y.err, MPB_ENOMEM, "out of memory");
    c->tokenizer_input = find_input(c, path);
    free(path);
    if (c->tokenizer_input < 0)
        return mpb_yaml_fail(&st->y, node, NULL,
                             "%s '%s' is not one of the models or the base_model; mpiblend "
                             "reads a tokenizer only from an input",
                             what, text);
    return MPB_OK;
}

static int parse_pad_to_multiple_of(parse_state *st, yaml_node_t *node)
{
    const char *text = mpb_yaml_text(node);
    char *end = NULL;
    unsigned long long v = node->type == YAML_SCALAR_NODE ? strtoull(text, &end, 10) : 0;
    if (end == NULL || end == text || *end != '\0' || text[0] == '-' || v == 0 ||
        v > (1ull << 32))
        return mpb_yaml_fail(&st->y, node, NULL,
                             "tokenizer.pad_to_multiple_of must be a positive integer, not "
                             "'%s'",
                             text);
    st->c->tokenizer_pad = v;
    return MPB_OK;
}

/* `tokenizer:` as mergekit reads it: source (default union), tokens,
 * pad_to_multiple_of. */
static int parse_tokenizer_map(parse_state *st, yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return mpb_yaml_fail(&st->y, node, NULL,
                             "tokenizer must be a mapping like {source: base}");
    int rc = mpb_yaml_check_mapping(&st->y, node, "tokenizer");
    yaml_node_t *source = NULL, *tokens = NULL;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         rc == MPB_OK && p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *key = mpb_yaml_node(&st->y, p->key);
        const char *name = mpb_yaml_text(key);
        if (strcmp(name, "source") == 0)
            source = mpb_yaml_node(&st->y, p->value);
        else if (strcmp(name, "pad_to_multiple_of") == 0)
            rc = parse_pad_to_multiple_of(st, mpb_yaml_node(&st->y, p->value));
        else if (strcmp(name, "tokens") == 0)
            tokens = mpb_yaml_node(&st->y, p->value);
        else
            rc = mpb_yaml_fail(&st->y, key, "tokenizer has source, tokens, pad_to_multiple_of",
                               "unknown key '%s' under tokenizer", name);
    }
    if (rc == MPB_OK && tokens != NULL &&
        !mpb_config_slices_vocab_ready(st->c, &st->y, tokens, "tokenizer.tokens"))
        rc = st->y.err->code;
    if (rc == MPB_OK && tokens != NULL)
        rc = mpb_config_parse_tokens(&st->y, tokens, st->dir, st->c);
    if (rc != MPB_OK)
        return rc;
    if (source == NULL) { /* mergekit's default source is union */
        if (!mpb_config_slices_vocab_ready(st->c, &st->y, node,
                                           "tokenizer without source (union)"))
            return st->y.err->code;
        st->c->tokenizer_union = true;
        return MPB_OK;
    }
    rc = parse_tokenizer_source(st, source, "tokenizer.source");
    if (rc == MPB_OK && st->c->tokenizer_pad > 0 &&
        !mpb_config_slices_vocab_ready(st->c, &st->y, node, "tokenizer.pad_to_multiple_of"))
        rc = st->y.err->code;
    return rc;
}

static int parse_chat_template(parse_state *st)
{
    yaml_node_t *node = st->value[KEY_CHAT_TEMPLATE];
    if (node == NULL)
        return MPB_OK;
    const char *text = mpb_yaml_text(node);
    bool literal = strlen(text) >= 20 && strchr(text, '{') != NULL; /* as mergekit tells */
    if (node->type != YAML_SCALAR_NODE ||
        (!literal && strcmp(text, "auto") != 0 && mpb_chat_template_named(text) == NULL))
        return mpb_yaml_fail(&st->y, node, NULL,
                             "unknown chat_template '%s' (a name: %s, auto; or a Jinja "
                             "template)",
                             text, mpb_chat_template_names());
    st->c->chat_template = strdup(text);
    return st->c->chat_template ? MPB_OK : mpb_fail(st->y.err, MPB_ENOMEM, "out of memory");
}

static int parse_tokenizer(parse_state *st)
{
    yaml_node_t *source = st->value[KEY_TOKENIZER_SOURCE], *map = st->value[KEY_TOKENIZER];
    st->c->tokenizer_input = -1;
    if (source != NULL && map != NULL)
        return mpb_yaml_fail(&st->y, map, NULL,
                             "give tokenizer_source or tokenizer, not both (mergekit refuses "
                             "both too)");
    int rc = source ? parse_tokenizer_source(st, source, "tokenizer_source")
             : map  ? parse_tokenizer_map(st, map)
                    : MPB_OK;
    return rc == MPB_OK ? parse_chat_template(st) : rc;
}

/* mergekit: exactly one of models, slices and modules. */
static int parse_inputs(parse_state *st, yaml_node_t *root)
{
    yaml_node_t *slices = st->value[KEY_SLICES], *modules = st->value[KEY_MODULES];
    if (slices == NULL && modules == NULL)
        return parse_models(st, root);
    if (st->value[KEY_MODELS] != NULL || (slices != NULL && modules != NULL))
        return modules == NULL
                   ? mpb_yaml_fail(
                         &st->y, slices, NULL,
                         "give models or slices, not both (mergekit refuses both too)")
                   : mpb_yaml_fail(&st->y, modules, NULL,
                                   "give one of models, slices and modules, not several "
                                   "(mergekit refuses several too)");
    yaml_node_t *range =
        st->value[KEY_LAYER_RANGE] ? st->value[KEY_LAYER_RANGE] : st->value[KEY_KEEP_OUTSIDE];
    if (range != NULL)
        return mpb_yaml_fail(&st->y, range, NULL,
                             "layer_range and keep_outside select layers of models:; with "
                             "slices give each source its layer_range");
    if (modules != NULL)
        return mpb_config_parse_modules(&st->y, modules, st->dir, st->c);
    return mpb_config_parse_slices(&st->y, slices, st->dir, st->c);
}

static int parse_document(parse_state *st, yaml_node_t *root)
{
    int rc;
    if ((rc = collect_top_keys(st, root)) != MPB_OK ||
        (rc = parse_method(st, root)) != MPB_OK || (rc = parse_inputs(st, root)) != MPB_OK ||
        (rc = parse_base_model(st)) != MPB_OK)
        return rc;
    if (st->value[KEY_PARAMETERS] != NULL &&
        (rc = mpb_config_parse_params(&st->y, st->value[KEY_PARAMETERS], "parameters", false,
                                      &st->c->global)) != MPB_OK)
        return rc;
    if ((rc = parse_dtype(st, KEY_OUT_DTYPE, &st->c->out_dtype)) != MPB_OK ||
        (rc = parse_dtype(st, KEY_DTYPE, &st->c->compute_dtype)) != MPB_OK ||
        (rc = parse_layer_range(st)) != MPB_OK || (rc = parse_keep_outside(st)) != MPB_OK ||
        (rc = parse_gradient_after_layers(st)) != MPB_OK ||
        (rc = parse_tokenizer(st)) != MPB_OK)
        return rc;
    /* Reserved for parameter sweeps; a later module reads it. */
    st->c->has_sweep = st->value[KEY_SWEEP] != NULL;
    return mpb_config_validate(st->c, &st->y, root);
}

int mpb_config_parse(const char *yaml, size_t len, const char *config_path, mpb_config **out,
                     mpb_error *err)
{
    *out = NULL;
    if (config_path == NULL)
        config_path = "<config>";
    parse_state st = {.y = {.path = config_path, .err = err}};
    st.c = calloc(1, sizeof *st.c);
    st.dir = mpb_config_folder(config_path);
    if (st.c == NULL || st.dir == NULL || (st.c->path = strdup(config_path)) == NULL) {
        free(st.dir);
        mpb_config_free(st.c);
        return mpb_fail(err, MPB_ENOMEM, "out of memory reading %s", config_path);
    }
    int rc = mpb_yaml_load(&st.y, yaml, len);
    if (rc == MPB_OK)
        rc = parse_document(&st, yaml_document_get_root_node(&st.y.doc));
    mpb_yaml_free(&st.y);
    free(st.dir);
    if (rc != MPB_OK) {
        mpb_config_free(st.c);
        return rc;
    }
    *out = st.c;
    return MPB_OK;
}
