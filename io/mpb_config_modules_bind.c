/* `modules:` bound to the models' architecture once their indexes and the
 * first model's config.json are read: which definition (mergekit reads
 * config.json's architectures), each module's layers, the layer count of
 * `models:` modules, and the checks that need the models. */
#include "mpb_config_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The layers of a module in one model: its highest layer number + 1. */
static int module_layers(const mpb_module_def *def, const mpb_index *idx)
{
    if (def != NULL && def->layers == NULL)
        return 0;
    return mpb_config_model_layers(idx, def ? def->layers : NULL);
}

static int fail_at(const mpb_config *c, const mpb_config_module *mod, mpb_error *err,
                   const char *what)
{
    return mpb_fail(err, MPB_EINVAL, "modules.%s in %s:%d:%d: %s", mod->name, c->path,
                    mod->line, mod->column, what);
}

/* config.json's architectures[0] and model_type, for the definition. */
static int find_arch(mpb_config *c, const char *json, const char *model, char *arch_name,
                     size_t len, mpb_error *err)
{
    snprintf(arch_name, len, "(no config.json)");
    if (json == NULL)
        return MPB_OK;
    json_error_t je;
    json_t *root = json_loads(json, 0, &je);
    if (root == NULL)
        return mpb_fail(err, MPB_EINVAL,
                        "config.json of '%s' is not valid JSON (%s, line %d); modules: reads "
                        "its architecture there",
                        model, je.text, je.line);
    const char *arch =
        json_string_value(json_array_get(json_object_get(root, "architectures"), 0));
    const char *type = json_string_value(json_object_get(root, "model_type"));
    snprintf(arch_name, len, "%s", arch ? arch : type ? type : "(none named)");
    int rc = mpb_arch_modules_find(arch, arch ? NULL : type, &c->arch, err);
    json_decref(root);
    return rc;
}

/* Each config module to its definition; every definition listed. */
static int match_modules(mpb_config *c, const char *model, const char *arch_name, bool has_json,
                         mpb_error *err)
{
    char what[1024];
    if (c->arch == NULL) {
        /* A model of one piece: mergekit's one module, 'default'. */
        if (c->n_modules == 1 && strcmp(c->modules[0].name, "default") == 0)
            return MPB_OK;
        const mpb_config_module *mod =
            &c->modules[strcmp(c->modules[0].name, "default") ? 0 : 1];
        if (!has_json)
            snprintf(what, sizeof what,
                     "'%s' has no config.json to name its architecture, whose modules "
                     "modules: lists (modular ones: %s); a model of one piece has one "
                     "module, 'default'",
                     model, mpb_arch_modules_known());
        else
            snprintf(what, sizeof what,
                     "'%s' is a %s (config.json's architectures), not a modular architecture "
                     "mpiblend knows (%s; configs/architectures/); a model of one piece has "
                     "one module, 'default'",
                     model, arch_name, mpb_arch_modules_known());
        return fail_at(c, mod, err, what);
    }
    for (size_t m = 0; m < c->n_modules; m++) {
        mpb_config_module *mod = &c->modules[m];
        mod->def = mpb_arch_module(c->arch, mod->name);
        if (mod->def != NULL)
            continue;
        size_t used = (size_t)snprintf(what, sizeof what,
                                       "unknown module '%s' for %s (config.json of '%s'); its "
                                       "modules are",
                                       mod->name, c->arch->model_type, model);
        for (size_t d = 0; d < c->arch->n_modules && used < sizeof what; d++)
            used += (size_t)snprintf(what + used, sizeof what - used, "%s %s", d ? "," : "",
                                     c->arch->modules[d].name);
        return fail_at(c, mod, err, what);
    }
    for (size_t d = 0; d < c->arch->n_modules; d++) {
        bool listed = false;
        for (size_t m = 0; m < c->n_modules; m++)
            listed = listed || c->modules[m].def == &c->arch->modules[d];
        if (!listed)
            return mpb_fail(err, MPB_EINVAL,
                            "modules in %s lacks '%s' of %s (config.json of '%s'): mergekit "
                            "would write the output without that module's tensors, a model "
                            "that does not load; list it (with models: to merge it whole)",
                            c->path, c->arch->modules[d].name, c->arch->model_type, model);
    }
    return MPB_OK;
}

/* Every tensor of every model belongs to one module of the definition. */
static int check_coverage(const mpb_config *c, const mpb_index *models, mpb_error *err)
{
    for (size_t mi = 0; c->arch != NULL && mi < c->n_models; mi++)
        for (size_t i = 0; i < models[mi].n; i++) {
            const char *name = models[mi].tensors[i].name;
            bool owned = false, before;
            for (size_t d = 0; d < c->arch->n_modules && !owned; d++) {
                const mpb_module_def *def = &c->arch->modules[d];
                owned = (def->layers && mpb_tensor_layer_in(name, def->layers) >= 0) ||
                        mpb_module_owns_outside(def, name, &before);
            }
            if (!owned)
                return mpb_fail(err, MPB_EINVAL,
                                "tensor '%s' of '%s' belongs to no module of %s "
                                "(configs/architectures/%s.json), named by modules in %s",
                                name, c->models[mi], c->arch->model_type, c->arch->model_type,
                                c->path);
        }
    return MPB_OK;
}

/* models: modules span every layer of their models, which must agree;
 * then each slice's first output layer and each module's count. */
static int count_layers(mpb_config *c, const mpb_index *models, mpb_error *err)
{
    for (size_t m = 0; m < c->n_modules; m++) {
        mpb_config_module *mod = &c->modules[m];
        int layer = 0;
        for (size_t s = mod->first_slice; s < mod->first_slice + mod->n_slices; s++) {
            mpb_slice *sl = &c->slices[s];
            for (size_t k = 0; k < sl->n_sources; k++) {
                mpb_slice_source *src = &sl->sources[k];
                int n = module_layers(mod->def, &models[src->model]);
                if (src->end < 0)
                    src->end = n;
                if (mod->def != NULL && mod->def->layers == NULL && src->end > 0) {
                    char what[512];
                    snprintf(what, sizeof what,
                             "%s.layer_range [%d, %d]: module '%s' of %s has no layers; give "
                             "it models:",
                             src->where, src->first, src->end, mod->name, c->arch->model_type);
                    return fail_at(c, mod, err, what);
                }
                if (src->end != sl->sources[0].end - sl->sources[0].first + src->first) {
                    char what[1024];
                    snprintf(what, sizeof what,
                             "'%s' (%s) has %d layers in module '%s' but '%s' (%s) has %d: "
                             "the models of a module must have as many",
                             c->models[src->model], src->where, n, mod->name,
                             c->models[sl->sources[0].model], sl->sources[0].where,
                             sl->sources[0].end);
                    return fail_at(c, mod, err, what);
                }
            }
            sl->out_first = layer;
            layer += sl->sources[0].end - sl->sources[0].first;
        }
        mod->out_layers = layer;
        if (mod->def == NULL) /* 'default': the model's own layer count key */
            c->out_layers = layer;
    }
    return MPB_OK;
}

int mpb_config_bind_modules(mpb_config *c, const mpb_index *models, const char *config_json,
                            mpb_error *err)
{
    if (c->n_modules == 0 || c->n_slices == 0)
        return MPB_OK;
    const char *model = c->models[c->slices[0].sources[0].model];
    char arch_name[256];
    int rc = find_arch(c, config_json, model, arch_name, sizeof arch_name, err);
    if (rc == MPB_OK)
        rc = match_modules(c, model, arch_name, config_json != NULL, err);
    if (rc == MPB_OK)
        rc = count_layers(c, models, err);
    return rc == MPB_OK ? check_coverage(c, models, err) : rc;
}

size_t mpb_config_layer_keys(const mpb_config *c, const char **keys, int *counts, size_t max)
{
    size_t n = 0;
    for (size_t m = 0; m < c->n_modules && n < max; m++)
        if (c->modules[m].def != NULL && c->modules[m].def->num_layers_key != NULL) {
            keys[n] = c->modules[m].def->num_layers_key;
            counts[n++] = c->modules[m].out_layers;
        }
    return n;
}
