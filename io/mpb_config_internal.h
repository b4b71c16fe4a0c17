/* Shared by the mpb_config_*.c files only. */
#ifndef MPB_CONFIG_INTERNAL_H
#define MPB_CONFIG_INTERNAL_H

#include "mpb_arch_modules.h"
#include "mpb_config.h"

#include <yaml.h>

/* ---- parameters and their values ---- */

typedef enum { MPB_VAL_NUMBER, MPB_VAL_BOOL, MPB_VAL_WORD, MPB_VAL_GRADIENT } mpb_value_kind;

typedef struct mpb_value {
    mpb_value_kind kind;
    double number;  /* NUMBER */
    bool flag;      /* BOOL */
    char *word;     /* WORD */
    double *points; /* GRADIENT: values at k/(n-1) over [0, 1] */
    size_t n_points;
} mpb_value;

typedef struct mpb_condition {
    char *filter; /* NULL: matches every tensor */
    mpb_value value;
    int line, column;
} mpb_condition;

/* One parameter as written at one place (a model entry or the globals). */
typedef struct mpb_setting {
    bool present;
    bool conditional; /* a list of {filter, value} entries */
    mpb_value value;  /* when !conditional */
    mpb_condition *conds;
    size_t n_conds;
    char where[64]; /* "models[1].parameters.weight" */
    int line, column;
} mpb_setting;

typedef struct mpb_param_set {
    mpb_setting s[MPB_P_COUNT];
} mpb_param_set;

/* The value a setting gives a tensor at gradient position pos, or false when
 * no filter entry matches.  Gradients come back as NUMBER. */
bool mpb_setting_eval(const mpb_setting *s, const char *tensor, double pos, mpb_value *out);

void mpb_setting_free(mpb_setting *s);

/* ---- the parsed config ---- */

#define MPB_CONFIG_MAX_IGNORED 16

/* One entry of a slice's sources: layers [first, end) of a model. */
typedef struct mpb_slice_source {
    int model; /* index into mpb_config.models */
    int first, end;
    mpb_param_set params;
    char where[64]; /* "slices[1].sources[0]" */
    int line, column;
} mpb_slice_source;

/* One output slice: its layers are the sources' ranges blended, stacked
 * after the previous slice's. */
typedef struct mpb_slice {
    size_t n_sources;
    mpb_slice_source *sources;
    mpb_param_set params;
    int base_model; /* the slice's base_model (a model index), or -1 */
    int base_slot;  /* which source is the base, or -1 */
    int out_first;  /* its first output layer (within its module's layers) */
    int module;     /* its entry of mpb_config.modules, or -1 */
    char where[80]; /* "slices[1]", "modules.vision_tower.models" */
    int line, column;
} mpb_slice;

/* One entry of `modules:` (docs/CONFIG.md): its slices are
 * slices[first_slice, first_slice + n_slices); a `models:` module has one
 * slice whose sources span every layer (end -1 until bound). */
typedef struct mpb_config_module {
    char *name;
    mpb_param_set params;
    size_t first_slice, n_slices;
    bool whole; /* written with models: */
    int line, column;
    /* Bound to config.json's architecture (mpb_config_bind_modules): */
    const mpb_module_def *def; /* NULL: a non-modular model's 'default' */
    int out_layers;
} mpb_config_module;

struct mpb_config {
    char *path; /* as given, for messages */
    mpb_method method;
    size_t n_inputs;
    char *inputs[MPB_MAX_INPUTS];
    char *written[MPB_MAX_INPUTS]; /* as in the config, for Hugging Face names */
    char origin[MPB_MAX_INPUTS][64];
    int input_line[MPB_MAX_INPUTS], input_column[MPB_MAX_INPUTS];
    mpb_param_set model_params[MPB_MAX_INPUTS];
    mpb_param_set global;
    bool base_given;
    int base_index;
    int given_base; /* base_model's input as written (models: configs), or -1;
                       base_index may drop it for a method that ignores it */
    mpb_dtype out_dtype, compute_dtype;
    bool has_layer_range;
    int layer_first, layer_last;
    int range_line, range_column;
    int keep_outside;
    double after_layers_position; /* gradient position of the final norm and
                                     lm_head: 0 (mergekit) or 1 */
    bool has_sweep;
    int tokenizer_input;         /* tokenizer_source / tokenizer.source; -1: none */
    bool tokenizer_union;        /* source: union (tokenizer_input is then -1) */
    uint64_t tokenizer_pad;      /* tokenizer.pad_to_multiple_of; 0: none */
    mpb_token_rule *token_rules; /* tokenizer.tokens */
    size_t n_token_rules;
    char *chat_template; /* as written: a name, "auto" or a template; NULL */
    /* slices: (docs/CONFIG.md).  Input k (a "slot") is the k-th source of
     * every slice that lists one; inputs[k] is the first such slice's.
     * models[] are the distinct models
     * the sources name, for the indexes and the file checks. */
    size_t n_slices;
    mpb_slice *slices;
    int out_layers; /* layers of the output: the slices' layers together */
    size_t n_models;
    char *models[MPB_MAX_MODELS];
    char *models_written[MPB_MAX_MODELS];
    char models_origin[MPB_MAX_MODELS][80];
    int base_model; /* base_model as a model index with slices, or -1 */
    /* modules: (docs/CONFIG.md): each module's slices among slices[]. */
    size_t n_modules;
    mpb_config_module *modules;
    mpb_arch_def *arch; /* bound after the indexes are read; NULL before */
    /* Keys mergekit ignores, accepted with these warnings. */
    char ignored[MPB_CONFIG_MAX_IGNORED][256];
    size_t ignored_offset[MPB_CONFIG_MAX_IGNORED]; /* where each key starts */
    size_t n_ignored;
};

/* ---- YAML helpers for the parser ---- */

typedef struct mpb_yaml {
    yaml_document_t doc;
    const char *path;
    mpb_error *err;
} mpb_yaml;

/* Limits that keep libyaml fast on hostile input: a config's size, and the
 * nesting of its collections. */
#define MPB_YAML_MAX_BYTES (16 << 20)
#define MPB_YAML_MAX_DEPTH 64

/* Fails when text exceeds those limits (the depth check stops at the
 * first level too deep).  Syntax errors are left to the load. */
int mpb_yaml_check_limits(const char *text, size_t len, const char *path, mpb_error *err);

/* Loads exactly one document (within the limits above); fails with
 * libyaml's line and column. */
int mpb_yaml_load(mpb_yaml *y, const char *text, size_t len);
void mpb_yaml_free(mpb_yaml *y);

yaml_node_t *mpb_yaml_node(mpb_yaml *y, int index);
/* Fails with " in <file>:<line>:<column>" after the message, then
 * "; <hint>" when hint is not NULL. */
int mpb_yaml_fail(mpb_yaml *y, const yaml_node_t *node, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A mapping whose keys are distinct scalars; `what` names it in messages. */
int mpb_yaml_check_mapping(mpb_yaml *y, yaml_node_t *node, const char *what);

/* "unknown key 'K' under WHERE", hinting the closest of keys (a NULL-ended
 * list), else `holds` ("a source has model, layer_range and parameters"). */
int mpb_yaml_unknown_key(mpb_yaml *y, yaml_node_t *key, const char *const *keys,
                         const char *holds, const char *where);

const char *mpb_yaml_text(const yaml_node_t *node); /* "" for non-scalars */
bool mpb_yaml_is_plain(const yaml_node_t *node);
bool mpb_yaml_is_null(const yaml_node_t *node);
/* A plain scalar that is a finite number. */
bool mpb_yaml_number(const yaml_node_t *node, double *out);
/* A plain YAML 1.1 boolean (true/false/yes/no/on/off), as PyYAML reads it. */
bool mpb_yaml_bool(const yaml_node_t *node, bool *out);

/* A key mergekit ignores, and why it is safe to (NULL: a label or a run
 * option); a table ends with {NULL, NULL}. */
typedef struct mpb_ignored_key {
    const char *name, *hint;
} mpb_ignored_key;

/* When key's name is in table, records the warning "FILE:LINE:COL: key 'K'
 * [under WHERE] ignored: ..." in file order and returns true. */
bool mpb_config_note_ignored(mpb_yaml *y, mpb_config *c, const mpb_ignored_key *table,
                             yaml_node_t *key, const char *where);

/* ---- parser stages ---- */

/* The folder of a config path ("" for the current one); caller frees. */
char *mpb_config_folder(const char *config_path);
/* path joined to dir unless absolute, "." segments and repeated slashes
 * dropped; caller frees. */
char *mpb_config_join_path(const char *dir, const char *path);

/* Parses a `parameters:` mapping; where_prefix is "parameters" or
 * "models[i].parameters". */
int mpb_config_parse_params(mpb_yaml *y, yaml_node_t *node, const char *where_prefix,
                            bool per_model, mpb_param_set *out);

/* Parses `slices:` (mpb_config_slices.c): the slices, the models, and the
 * inputs as slots. */
int mpb_config_parse_slices(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c);

/* tokenizer: {tokens: ...} into c->token_rules (mpb_config_tokens.c). */
int mpb_config_parse_tokens(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c);
void mpb_config_tokens_free(mpb_config *c);
/* With slices: each slice's base slot, and c->base_index from them. */
int mpb_config_slices_base(mpb_config *c, mpb_yaml *y, yaml_node_t *node);
/* A slice of one source whose method needs more inputs (slerp, the task
 * family with only the base, passthrough): its tensors are that source's,
 * copied as they are, as mergekit's methods return a lone tensor. */
bool mpb_config_slice_copies(const mpb_config *c, const mpb_slice *sl);
/* Whether the output vocabulary's embedding and lm_head rows can be built
 * with these slices (always without slices): slices[0] and the last slice,
 * whose sources the embeddings and lm_head come from, list the same models
 * in the same order, every model of the merge is among them (the union
 * takes every model's vocabulary, as mergekit's does) and no slice lists
 * more sources.  Otherwise fails naming `what` at node (y not NULL) and
 * returns false. */
bool mpb_config_slices_vocab_ready(const mpb_config *c, mpb_yaml *y, yaml_node_t *node,
                                   const char *what);
void mpb_config_slices_free(mpb_config *c);
/* Parses one slices list (a top-level one, or a module's under where,
 * "modules.vision_tower.slices"), appending to c->slices with module. */
int mpb_config_parse_slice_list(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c,
                                const char *where, int module);
/* A module's `models:`: one slice of whole-model sources. */
int mpb_config_parse_module_models(mpb_yaml *y, yaml_node_t *node, const char *dir,
                                   mpb_config *c, const char *where, int module);
/* Inputs as slots from the parsed slices (after every slices list). */
int mpb_config_slices_slots(mpb_yaml *y, mpb_config *c);
/* Parses `modules:` (mpb_config_modules.c). */
int mpb_config_parse_modules(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c);
void mpb_config_modules_free(mpb_config *c);
/* A model's layers named by prefix (NULL: the default rule): its highest
 * layer number + 1 (mpb_config_slices_map.c). */
int mpb_config_model_layers(const mpb_index *idx, const char *layers);
/* The module's layer prefix for slice s (NULL: the default rule). */
const char *mpb_config_slice_layers(const mpb_config *c, size_t s);

/* Method rules that need the whole config: inputs, base, required values. */
int mpb_config_validate(mpb_config *c, mpb_yaml *y, yaml_node_t *root);

#include "mpb_suggest.h" /* closest-key suggestions */

/* ---- per-tensor resolution ---- */

/* Whether the method reads input i's own values: all inputs but the base of
 * the task-arithmetic family, which the others are taken against. */
bool mpb_config_input_weighted(const mpb_config *c, size_t i);

/* Gradient position of a tensor: layer i of L at i/(L-1) (1 when L is 1),
 * embeddings at 0, as mergekit places them, and the other non-layer tensors
 * (final norm, lm_head) at after_layers (mergekit: 0; see
 * gradient_after_layers).  Negative when the layer is outside the model. */
double mpb_tensor_position(const char *tensor_name, int n_layers, double after_layers);

/* mergekit plans embeddings before the layers and every other tensor
 * outside them after. */
bool mpb_tensor_before_layers(const char *tensor_name);

#endif
