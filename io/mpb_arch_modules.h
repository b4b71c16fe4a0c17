/* Modular architectures: models made of several sub-models (a text decoder,
 * a vision tower, a projector), as mergekit's `modules:` names them.  The
 * definitions are data, configs/architectures/NAME.json, compiled into the
 * tool (cmake/EmbedArchitectures.cmake) and read here with jansson.
 *
 * A module owns the tensors named "<weight_prefix><layers>N...." (its
 * layers, N from 0) and the tensors its before_layers and after_layers
 * lists name (each under weight_prefix); those in `optional` may be
 * absent (a tied lm_head).  num_layers_key is the dotted config.json key
 * of its layer count ("vision_config.depth"). */
#ifndef MPB_ARCH_MODULES_H
#define MPB_ARCH_MODULES_H

#include "mpb_error.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct mpb_module_def {
    char *name;
    char *layers;         /* "model.layers." with the weight prefix; NULL: no layers */
    char *num_layers_key; /* NULL: none */
    char **before, **after, **optional;
    size_t n_before, n_after, n_optional;
} mpb_module_def;

typedef struct mpb_arch_def {
    char *model_type;
    char **architectures;
    size_t n_architectures;
    mpb_module_def *modules; /* in the file's order */
    size_t n_modules;
} mpb_arch_def;

/* The JSON texts, NULL-ended (generated from configs/architectures). */
extern const char *const mpb_arch_modules_json[];

/* The definition whose architectures list `architecture` (config.json's
 * architectures[0]), else whose model_type is model_type (either may be
 * NULL); *out NULL when none is.  Fails only on a malformed definition or
 * memory.  The caller frees *out with mpb_arch_def_free. */
int mpb_arch_modules_find(const char *architecture, const char *model_type, mpb_arch_def **out,
                          mpb_error *err);
void mpb_arch_def_free(mpb_arch_def *a);

/* The known modular model_types, comma separated, for messages. */
const char *mpb_arch_modules_known(void);

const mpb_module_def *mpb_arch_module(const mpb_arch_def *a, const char *name);
/* Whether name is one of the module's tensors outside its layers (before
 * or after them); *before says which. */
bool mpb_module_owns_outside(const mpb_module_def *m, const char *name, bool *before);
bool mpb_module_optional(const mpb_module_def *m, const char *name);

#endif
