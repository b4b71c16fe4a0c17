/* `modules:` as mergekit reads it (OutputModuleDefinition): per sub-model
 * of a modular architecture (a text decoder, a vision tower), either
 * `models:` or `slices:`, and `parameters:` between a slice's and the
 * globals.  Each module's slices join c->slices tagged with the module, so
 * the slices machinery (slots, base, the map, parameters) serves both; the
 * architecture is bound once the models' indexes and config.json are read
 * (mpb_config_modules_bind.c). */
#include "mpb_config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_module(mpb_yaml *y, yaml_node_t *key, yaml_node_t *node, const char *dir,
                        mpb_config *c, size_t m)
{
    static const char *const keys[] = {"models", "slices", "parameters", NULL};
    mpb_config_module *mod = &c->modules[m];
    char where[96];
    snprintf(where, sizeof where, "modules.%s", mpb_yaml_text(key));
    mod->line = (int)key->start_mark.line + 1;
    mod->column = (int)key->start_mark.column + 1;
    if ((mod->name = strdup(mpb_yaml_text(key))) == NULL)
        return mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    if (node->type != YAML_MAPPING_NODE)
        return mpb_yaml_fail(y, node, NULL, "%s must be a mapping like {models: [...]}", where);
    int rc = mpb_yaml_check_mapping(y, node, where);
    yaml_node_t *models = NULL, *slices = NULL, *params = NULL;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         rc == MPB_OK && p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = mpb_yaml_node(y, p->key), *value = mpb_yaml_node(y, p->value);
        const char *name = mpb_yaml_text(k);
        if (strcmp(name, "models") == 0)
            models = mpb_yaml_is_null(value) ? NULL : value;
        else if (strcmp(name, "slices") == 0)
            slices = mpb_yaml_is_null(value) ? NULL : value;
        else if (strcmp(name, "parameters") == 0)
            params = mpb_yaml_is_null(value) ? NULL : value;
        else
            rc = mpb_yaml_unknown_key(y, k, keys,
                                      "a module has models or slices, and parameters", where);
    }
    if (rc != MPB_OK)
        return rc;
    if ((models == NULL) == (slices == NULL))
        return mpb_yaml_fail(
            y, node, NULL, "%s needs exactly one of models and slices (as in mergekit)", where);
    mod->first_slice = c->n_slices;
    mod->whole = models != NULL;
    char list[112];
    snprintf(list, sizeof list, "%s.%s", where, models ? "models" : "slices");
    rc = models ? mpb_config_parse_module_models(y, models, dir, c, list, (int)m)
                : mpb_config_parse_slice_list(y, slices, dir, c, list, (int)m);
    mod->n_slices = c->n_slices - mod->first_slice;
    if (rc == MPB_OK && params != NULL) {
        snprintf(list, sizeof list, "%s.parameters", where);
        rc = mpb_config_parse_params(y, params, list, false, &mod->params);
    }
    return rc;
}

int mpb_config_parse_modules(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c)
{
    if (node->type != YAML_MAPPING_NODE ||
        node->data.mapping.pairs.top == node->data.mapping.pairs.start)
        return mpb_yaml_fail(y, node, NULL,
                             "modules must be a non-empty mapping of module names (such as "
                             "text_decoder, vision_tower) to {models: [...]} or {slices: "
                             "[...]}");
    int rc = mpb_yaml_check_mapping(y, node, "modules");
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (rc == MPB_OK && (c->modules = calloc(n, sizeof *c->modules)) == NULL)
        rc = mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    for (size_t m = 0; m < n && rc == MPB_OK; m++) {
        yaml_node_pair_t *p = &node->data.mapping.pairs.start[m];
        c->n_modules = m + 1;
        rc = parse_module(y, mpb_yaml_node(y, p->key), mpb_yaml_node(y, p->value), dir, c, m);
    }
    return rc == MPB_OK ? mpb_config_slices_slots(y, c) : rc;
}

const char *mpb_config_slice_layers(const mpb_config *c, size_t s)
{
    int m = c->slices[s].module;
    return m >= 0 && c->modules[m].def != NULL ? c->modules[m].def->layers : NULL;
}

void mpb_config_modules_free(mpb_config *c)
{
    for (size_t m = 0; m < c->n_modules; m++) {
        free(c->modules[m].name);
        for (int id = 0; id < MPB_P_COUNT; id++)
            mpb_setting_free(&c->modules[m].params.s[id]);
    }
    free(c->modules);
    mpb_arch_def_free(c->arch);
}
