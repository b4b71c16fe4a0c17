/* Merge configurations: mergekit-style YAML, validated up front, and the
 * per-tensor parameters it implies (see docs/CONFIG.md).
 *
 * Every problem a config can have is reported by mpb_config_parse (and the
 * file checks by mpb_config_check_files) before any tensor is read, so a
 * typo never costs a long run. */
#ifndef MPB_CONFIG_H
#define MPB_CONFIG_H

#include "mpb_dtype.h"
#include "mpb_error.h"
#include "mpb_index.h"
#include "mpb_limits.h"
#include "mpb_registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mpb_config mpb_config; /* opaque */

/* Distinct models a `slices:` config may name. */
#define MPB_MAX_MODELS MPB_MAX_INPUTS

/* Parses and validates a config held in memory.  config_path names the
 * config in messages, and its folder is where relative model paths start;
 * the file system is not touched.  On failure *out is NULL. */
int mpb_config_parse(const char *yaml, size_t len, const char *config_path, mpb_config **out,
                     mpb_error *err);

/* Inputs named as Hugging Face models ("ORG/NAME", "ORG/NAME@REVISION")
 * where no local path of that name exists are replaced by their snapshot
 * folder in the local hub cache (mpb_hf_cache.h); offline, and an error
 * naming the cache folders searched when one is not cached. */
int mpb_config_find_hub_models(mpb_config *c, mpb_error *err);

/* Every input path must exist and be readable (a file or a folder). */
int mpb_config_check_files(const mpb_config *c, mpb_error *err);

/* Reads the file, parses it, finds Hugging Face names and checks the input
 * files. */
int mpb_config_load(const char *path, mpb_config **out, mpb_error *err);

void mpb_config_free(mpb_config *c);

mpb_method mpb_config_method(const mpb_config *c);

/* Inputs: the models in order, then base_model if it is not one of them. */
size_t mpb_config_n_inputs(const mpb_config *c);
/* Resolved path of input i (relative paths joined to the config's folder). */
const char *mpb_config_input_path(const mpb_config *c, size_t i);
/* Where input i was named: "models[2]" or "base_model". */
const char *mpb_config_input_origin(const mpb_config *c, size_t i);

/* Index of the base model among the inputs, or -1.  For a method whose
 * base is the t = 0 / lambda = 0 end (MPB_BASE_END) this is base_model when
 * given, else input 0; methods that ignore base_model get -1. */
int mpb_config_base_index(const mpb_config *c);

/* The output dtype: out_dtype, else `dtype:` (as in mergekit); MPB_DT_INVALID
 * means "same as the inputs". */
mpb_dtype mpb_config_out_dtype(const mpb_config *c);
/* mergekit's compute `dtype:` as written: mpiblend always computes in fp32,
 * and uses it only as the output dtype when out_dtype is absent.
 * MPB_DT_INVALID when absent. */
mpb_dtype mpb_config_compute_dtype(const mpb_config *c);

/* layer_range [first, last] (inclusive) if given; tensors outside it are
 * copied from input mpb_config_keep_outside (-1 without layer_range). */
bool mpb_config_layer_range(const mpb_config *c, int *first, int *last);
int mpb_config_keep_outside(const mpb_config *c);

/* The input whose tokenizer files the output takes (tokenizer_source, or
 * tokenizer: {source: ...}); -1 when not given (the carried files stay). */
int mpb_config_tokenizer_input(const mpb_config *c);
/* tokenizer_source: union (or tokenizer: {source: union}, or tokenizer:
 * without source): the output vocabulary is the union of the inputs'. */
bool mpb_config_tokenizer_union(const mpb_config *c);
/* tokenizer: {pad_to_multiple_of: N}: N, else 0. */
uint64_t mpb_config_tokenizer_pad(const mpb_config *c);
/* tokenizer: {tokens: {TOKEN: {source: ..., force: ...}}}: where a token's
 * embedding rows come from, as mergekit's TokenEmbeddingConfig says. */
typedef enum mpb_token_kind {
    MPB_TOKEN_FROM_MODEL, /* source: MODEL: that input's row for the token */
    MPB_TOKEN_ZERO,       /* source: {kind: zero} */
    MPB_TOKEN_MODEL_TOKEN /* source: {kind: model_token, model, token | token_id} */
} mpb_token_kind;

typedef struct mpb_token_rule {
    char *token; /* the output token it is for (added to the vocabulary if new) */
    mpb_token_kind kind;
    int input;       /* FROM_MODEL, MODEL_TOKEN: the input */
    char *src_token; /* MODEL_TOKEN: a token of that input's vocabulary, or NULL */
    int64_t src_id;  /* MODEL_TOKEN: a row of that input, or -1 */
    bool force;      /* every input takes this row, even one that has the token */
} mpb_token_rule;

/* The rules in the order written; *rules NULL when none. */
size_t mpb_config_token_rules(const mpb_config *c, const mpb_token_rule **rules);

/* base_model's input index when a models: config names one, else -1
 * (unlike mpb_config_base_index: also for methods that ignore it, as
 * mergekit's tokenizer merge reads it; never a method's default). */
int mpb_config_given_base(const mpb_config *c);
/* chat_template as written (a name, "auto" or a Jinja template); NULL when
 * absent.  mpb_hf_files_apply_tokenizer applies both. */
const char *mpb_config_chat_template(const mpb_config *c);

/* ---- slices: (docs/CONFIG.md) ----
 * With slices the inputs above are "slots": input k is the k-th source of
 * every slice that lists one, named by the first such slice's; a tensor's
 * inputs are slots 0 .. n - 1 of its slice's n sources. */
bool mpb_config_has_slices(const mpb_config *c);
/* A `modules:` config (then also has_slices: each module's slices). */
bool mpb_config_has_modules(const mpb_config *c);
/* The distinct models the slices name (for a models: config, the inputs). */
size_t mpb_config_n_models(const mpb_config *c);
const char *mpb_config_model_path(const mpb_config *c, size_t m);
/* Whether a tokenizer merge can build the embedding and lm_head rows with
 * these slices: slices[0] and the last slice list the same models in the
 * same order, every model among them, no slice with more (true without
 * slices).  Its input k is then slot k, slices[0]'s k-th source. */
bool mpb_config_slices_vocab(const mpb_config *c);
/* Layers of the output: the slices' layers stacked (0 without slices). */
int mpb_config_out_layers(const mpb_config *c);

/* Where one input (slot) of an output tensor comes from. */
typedef struct mpb_tensor_source {
    uint32_t model;  /* index among mpb_config_model_path, or MPB_NO_SOURCE */
    uint32_t tensor; /* position in that model's index */
} mpb_tensor_source;
/* A slot the tensor's slice does not fill (it lists fewer sources): the
 * tensor does not read that input. */
#define MPB_NO_SOURCE UINT32_MAX

/* With slices: the output's tensors as mergekit's planner makes them, the
 * tensors before the layers (embeddings) from slices[0]'s sources, the
 * slices' layers in order and renumbered ("model.layers.N."), the other
 * tensors outside layers (final norm, lm_head) from the last slice's
 * sources.  models[m] is model m's index sorted by name (mpb_index_sort);
 * *out gets the output tensors in name order, as a checkpoint's index
 * lists them (dtype and shape of their sources), and *map
 * (malloc'd, n_inputs per tensor) where input k of tensor t is read:
 * (*map)[t * n_inputs + k], MPB_NO_SOURCE past its slice's sources.  Fails naming the key and the cause: a
 * layer_range outside a model's layers, a source tensor missing or with
 * another shape or dtype. */
int mpb_config_map_slices(const mpb_config *c, const mpb_index *models, mpb_index *out,
                          mpb_tensor_source **map, mpb_error *err);

/* ---- modules: (docs/CONFIG.md) ----
 * Binds a `modules:` config to its models once their indexes are read:
 * the architecture named by config_json (the first model's config.json,
 * NULL when it has none) picks the module definitions
 * (configs/architectures/); fails naming the key, the file and the cause
 * for an unknown architecture or module, a module not listed, models of a
 * module with differing layer counts, or a tensor of no module.  Nothing
 * without modules:.  Call before mpb_config_map_slices. */
int mpb_config_bind_modules(mpb_config *c, const mpb_index *models, const char *config_json,
                            mpb_error *err);
/* After binding: up to max config.json keys ("vision_config.depth") with
 * their modules' output layer counts, for the output's config.json. */
size_t mpb_config_layer_keys(const mpb_config *c, const char **keys, int *counts, size_t max);

/* True when the config has a `sweep:` section (reserved, not read yet). */
bool mpb_config_has_sweep(const mpb_config *c);

/* N from a "...layers.N..." or GPT-2 style "...h.N..." tensor name, else -1. */
int mpb_tensor_layer(const char *tensor_name);
/* The name with its layer number (as mpb_tensor_layer finds it) replaced
 * by `layer`, written to buf and returned; unchanged without one. */
const char *mpb_tensor_with_layer(const char *tensor_name, int layer, char *buf, size_t len);
/* The same within a module whose layers are named "<prefix>N." (a
 * module's "visual.blocks."): N right after prefix; prefix NULL is the
 * rule above. */
int mpb_tensor_layer_in(const char *tensor_name, const char *prefix);
const char *mpb_tensor_with_layer_in(const char *tensor_name, const char *prefix, int layer,
                                     char *buf, size_t len);

/* Resolves every parameter of one tensor of a model with n_layers layers:
 * per-model value > global value > method default, with filters, gradients
 * and layer_range applied exactly as mergekit does.  Fails (naming the
 * tensor) when a required value is unset for this tensor or when linear's
 * normalized weights sum to 0 here. */
int mpb_config_resolve(const mpb_config *c, const char *tensor_name, int n_layers,
                       mpb_tensor_params *out, mpb_error *err);

typedef void (*mpb_config_warn_fn)(void *ctx, const char *msg);

/* Calls warn once for each filter that matches none of the n tensor names. */
void mpb_config_check_filters(const mpb_config *c, const char *const names[], size_t n,
                              mpb_config_warn_fn warn, void *ctx);

/* Calls warn once for each key the config holds that mergekit ignores and
 * mpiblend therefore accepts (`name:`, run options such as
 * `trust_remote_code:`): "cfg.yaml:1:1: key 'name' ignored: ...". */
void mpb_config_warn_ignored(const mpb_config *c, mpb_config_warn_fn warn, void *ctx);

/* One line of resolved values for --dry-run, written to buf and returned:
 * "model.layers.0.mlp.up_proj.weight: weight=[0.3,0.7] normalize=true". */
const char *mpb_config_describe(const mpb_config *c, const char *tensor_name, int n_layers,
                                char *buf, size_t len);

#endif
