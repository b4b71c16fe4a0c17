/* `slices:` as mergekit reads it (OutputSliceDefinition, InputSliceDefinition):
 * each slice lists sources, a model and its layers [first, end), and the
 * output's layers are the slices' layers stacked in order.  The inputs of
 * the merge are "slots": input k is the k-th source of every slice that has
 * one; a tensor reads its own slice's slots only (slices may list different
 * numbers of sources, as in mergekit). */
#include "mpb_config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Labels mergekit's slice and source definitions do not read (pydantic
 * drops unknown keys), accepted with a warning as in a model entry. */
static const mpb_ignored_key ignored_slice_keys[] = {
    {"name", NULL},
    {NULL, NULL},
};

/* The model with this resolved path, added when new; -1 on failure. */
static int find_or_add_model(mpb_yaml *y, mpb_config *c, char *path, yaml_node_t *node,
                             const char *where)
{
    for (size_t m = 0; m < c->n_models; m++)
        if (strcmp(c->models[m], path) == 0) {
            free(path);
            return (int)m;
        }
    if (c->n_models == MPB_MAX_MODELS) {
        free(path);
        mpb_yaml_fail(y, node, NULL, "slices name more than %d models", MPB_MAX_MODELS);
        return -1;
    }
    size_t m = c->n_models++;
    c->models[m] = path;
    c->models_written[m] = strdup(mpb_yaml_text(node));
    snprintf(c->models_origin[m], sizeof c->models_origin[m], "%s", where);
    if (c->models_written[m] == NULL) {
        mpb_fail(y->err, MPB_ENOMEM, "out of memory");
        return -1;
    }
    return (int)m;
}

static int parse_model(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c,
                       const char *where, int *model)
{
    if (node->type != YAML_SCALAR_NODE || mpb_yaml_is_null(node) || !*mpb_yaml_text(node))
        return mpb_yaml_fail(y, node, NULL, "%s must be a model path", where);
    char *path = mpb_config_join_path(dir, mpb_yaml_text(node));
    if (path == NULL)
        return mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    *model = find_or_add_model(y, c, path, node, where);
    return *model >= 0 ? MPB_OK : y->err->code;
}

/* A whole number a layer index can be; checked before any cast to int. */
static bool is_layer_number(double v)
{
    return v >= 0 && v <= 1e6 && v == (double)(int)v;
}

/* layer_range: [first, end), end exclusive as in mergekit. */
static int parse_range(mpb_yaml *y, yaml_node_t *node, const char *where, mpb_slice_source *src)
{
    yaml_node_item_t *items =
        node->type == YAML_SEQUENCE_NODE ? node->data.sequence.items.start : NULL;
    double b[2];
    if (items == NULL || node->data.sequence.items.top - items != 2 ||
        !mpb_yaml_number(mpb_yaml_node(y, items[0]), &b[0]) ||
        !mpb_yaml_number(mpb_yaml_node(y, items[1]), &b[1]) || !is_layer_number(b[0]) ||
        !is_layer_number(b[1]))
        return mpb_yaml_fail(y, node, NULL,
                             "%s.layer_range must be [first, end]: two layer numbers from 0, "
                             "end not included (as in mergekit)",
                             where);
    if (b[0] >= b[1])
        return mpb_yaml_fail(y, node, NULL,
                             "%s.layer_range [%d, %d] holds no layer: end is not included, so "
                             "it must be larger than first",
                             where, (int)b[0], (int)b[1]);
    src->first = (int)b[0];
    src->end = (int)b[1];
    return MPB_OK;
}

/* whole: a module's models: entry, {model, parameters}, every layer (end
 * -1 until mpb_config_bind_modules counts them). */
static int parse_source(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c,
                        mpb_slice_source *src, bool whole)
{
    static const char *const keys[] = {"model", "layer_range", "parameters", NULL};
    static const char *const model_keys[] = {"model", "parameters", NULL};
    const char *where = src->where;
    src->line = (int)node->start_mark.line + 1;
    src->column = (int)node->start_mark.column + 1;
    if (node->type != YAML_MAPPING_NODE)
        return mpb_yaml_fail(y, node, NULL,
                             "%s must be a mapping like {model: PATH, layer_range: [0, 32]}",
                             where);
    int rc = mpb_yaml_check_mapping(y, node, where);
    yaml_node_t *model = NULL, *range = NULL, *params = NULL;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         rc == MPB_OK && p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *key = mpb_yaml_node(y, p->key), *value = mpb_yaml_node(y, p->value);
        const char *name = mpb_yaml_text(key);
        if (strcmp(name, "model") == 0)
            model = value;
        else if (strcmp(name, "layer_range") == 0 && !whole)
            range = value;
        else if (strcmp(name, "parameters") == 0)
            params = mpb_yaml_is_null(value) ? NULL : value;
        else if (!mpb_config_note_ignored(y, c, ignored_slice_keys, key, where))
            rc = whole ? mpb_yaml_unknown_key(y, key, model_keys,
                                              "a model entry has model and parameters", where)
                       : mpb_yaml_unknown_key(y, key, keys,
                                              "a source has model, layer_range and parameters",
                                              where);
    }
    if (rc != MPB_OK)
        return rc;
    if (model == NULL)
        return mpb_yaml_fail(y, node, NULL, "%s has no 'model' key", where);
    if (whole) {
        src->first = 0;
        src->end = -1;
    } else if (range == NULL)
        return mpb_yaml_fail(y, node, NULL,
                             "%s has no 'layer_range' (mergekit needs one for every source)",
                             where);
    char what[96];
    snprintf(what, sizeof what, "%s.model", where);
    if ((rc = parse_model(y, model, dir, c, what, &src->model)) != MPB_OK ||
        (!whole && (rc = parse_range(y, range, where, src)) != MPB_OK) || params == NULL)
        return rc;
    snprintf(what, sizeof what, "%s.parameters", where);
    return mpb_config_parse_params(y, params, what, true, &src->params);
}

static int parse_sources(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c,
                         size_t s, const char *where, bool whole)
{
    mpb_slice *sl = &c->slices[s];
    yaml_node_item_t *items =
        node->type == YAML_SEQUENCE_NODE ? node->data.sequence.items.start : NULL;
    size_t n = items ? (size_t)(node->data.sequence.items.top - items) : 0;
    if (n == 0)
        return mpb_yaml_fail(y, node, NULL, "%s must be a non-empty list of %s entries", where,
                             whole ? "{model, parameters}" : "{model, layer_range}");
    if (n > MPB_MAX_INPUTS)
        return mpb_yaml_fail(y, node, NULL, "%s lists %zu sources; at most %d", where, n,
                             MPB_MAX_INPUTS);
    if ((sl->sources = calloc(n, sizeof *sl->sources)) == NULL)
        return mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    sl->n_sources = n;
    int rc = MPB_OK;
    for (size_t k = 0; k < n && rc == MPB_OK; k++) {
        snprintf(sl->sources[k].where, sizeof sl->sources[k].where, "%s[%zu]", where, k);
        rc = parse_source(y, mpb_yaml_node(y, items[k]), dir, c, &sl->sources[k], whole);
    }
    for (size_t k = 1; k < n && rc == MPB_OK && !whole; k++) {
        const mpb_slice_source *a = &sl->sources[0], *b = &sl->sources[k];
        if (b->end - b->first != a->end - a->first)
            rc = mpb_yaml_fail(y, mpb_yaml_node(y, items[k]), NULL,
                               "%s.layer_range [%d, %d] holds %d layers but %s's [%d, %d] "
                               "holds %d: the sources of a slice must have the same number of "
                               "layers",
                               b->where, b->first, b->end, b->end - b->first, a->where,
                               a->first, a->end, a->end - a->first);
    }
    return rc;
}

static int parse_slice(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c, size_t s,
                       const char *where)
{
    static const char *const keys[] = {"sources", "parameters", "base_model", NULL};
    mpb_slice *sl = &c->slices[s];
    sl->base_model = sl->base_slot = -1;
    snprintf(sl->where, sizeof sl->where, "%s", where);
    sl->line = (int)node->start_mark.line + 1;
    sl->column = (int)node->start_mark.column + 1;
    if (node->type != YAML_MAPPING_NODE)
        return mpb_yaml_fail(y, node, NULL, "%s must be a mapping like {sources: [...]}",
                             where);
    int rc = mpb_yaml_check_mapping(y, node, where);
    yaml_node_t *sources = NULL, *params = NULL, *base = NULL;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         rc == MPB_OK && p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *key = mpb_yaml_node(y, p->key), *value = mpb_yaml_node(y, p->value);
        const char *name = mpb_yaml_text(key);
        if (strcmp(name, "sources") == 0)
            sources = value;
        else if (strcmp(name, "parameters") == 0)
            params = mpb_yaml_is_null(value) ? NULL : value;
        else if (strcmp(name, "base_model") == 0)
            base = mpb_yaml_is_null(value) ? NULL : value;
        else if (strcmp(name, "residual_weight") == 0)
            rc = mpb_yaml_fail(y, key, NULL, "%s.residual_weight is not supported", where);
        else if (!mpb_config_note_ignored(y, c, ignored_slice_keys, key, where))
            rc = mpb_yaml_unknown_key(y, key, keys,
                                      "a slice has sources, parameters and base_model", where);
    }
    if (rc != MPB_OK)
        return rc;
    if (sources == NULL)
        return mpb_yaml_fail(y, node, NULL, "%s has no 'sources' key", where);
    char list[96];
    snprintf(list, sizeof list, "%s.sources", where);
    if ((rc = parse_sources(y, sources, dir, c, s, list, false)) != MPB_OK)
        return rc;
    if (params != NULL) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s.parameters", where);
        if ((rc = mpb_config_parse_params(y, params, prefix, false, &sl->params)) != MPB_OK)
            return rc;
    }
    if (base != NULL) {
        char what[96];
        snprintf(what, sizeof what, "%s.base_model", where);
        rc = parse_model(y, base, dir, c, what, &sl->base_model);
    }
    return rc;
}

/* Input k (a slot) is the k-th source of every slice that lists one: as
 * many slots as the longest slice has sources, each named by the first
 * slice that fills it (again once the base has moved).  A tensor reads only
 * its own slice's slots. */
static int name_slots(mpb_config *c, mpb_error *err)
{
    size_t k_n = 0;
    for (size_t s = 0; s < c->n_slices; s++)
        k_n = c->slices[s].n_sources > k_n ? c->slices[s].n_sources : k_n;
    for (size_t k = 0; k < k_n; k++) {
        size_t s = 0;
        while (c->slices[s].n_sources <= k)
            s++;
        const mpb_slice_source *src = &c->slices[s].sources[k];
        free(c->inputs[k]);
        free(c->written[k]);
        c->inputs[k] = strdup(c->models[src->model]);
        c->written[k] = strdup(c->models_written[src->model]);
        if (c->inputs[k] == NULL || c->written[k] == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory");
        c->n_inputs = k + 1;
        snprintf(c->origin[k], sizeof c->origin[k], "%s", src->where);
        c->input_line[k] = src->line;
        c->input_column[k] = src->column;
    }
    return MPB_OK;
}

/* Numbers the output layers of the slices and names the slots. */
int mpb_config_slices_slots(mpb_yaml *y, mpb_config *c)
{
    int layer = 0;
    for (size_t s = 0; s < c->n_slices; s++) {
        c->slices[s].out_first = layer;
        layer += c->slices[s].sources[0].end - c->slices[s].sources[0].first;
    }
    /* modules: each module's layers are counted when bound */
    c->out_layers = c->n_modules ? 0 : layer;
    return name_slots(c, y->err);
}

/* Room for n more slices after c->n_slices, zeroed. */
static int grow_slices(mpb_yaml *y, mpb_config *c, size_t n)
{
    mpb_slice *more = realloc(c->slices, (c->n_slices + n) * sizeof *more);
    if (more == NULL)
        return mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    memset(&more[c->n_slices], 0, n * sizeof *more);
    c->slices = more;
    return MPB_OK;
}

int mpb_config_parse_slice_list(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c,
                                const char *where, int module)
{
    yaml_node_item_t *items =
        node->type == YAML_SEQUENCE_NODE ? node->data.sequence.items.start : NULL;
    size_t n = items ? (size_t)(node->data.sequence.items.top - items) : 0;
    if (n == 0)
        return mpb_yaml_fail(y, node, NULL,
                             "%s must be a non-empty list of {sources: [...]} entries", where);
    int rc = grow_slices(y, c, n);
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        size_t s = c->n_slices++;
        char at[80];
        snprintf(at, sizeof at, "%s[%zu]", where, i);
        c->slices[s].module = module;
        rc = parse_slice(y, mpb_yaml_node(y, items[i]), dir, c, s, at);
    }
    return rc;
}

int mpb_config_parse_module_models(mpb_yaml *y, yaml_node_t *node, const char *dir,
                                   mpb_config *c, const char *where, int module)
{
    int rc = grow_slices(y, c, 1);
    if (rc != MPB_OK)
        return rc;
    size_t s = c->n_slices++;
    mpb_slice *sl = &c->slices[s];
    sl->module = module;
    sl->base_model = sl->base_slot = -1;
    snprintf(sl->where, sizeof sl->where, "%s", where);
    sl->line = (int)node->start_mark.line + 1;
    sl->column = (int)node->start_mark.column + 1;
    return parse_sources(y, node, dir, c, s, where, true);
}

int mpb_config_parse_slices(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c)
{
    int rc = mpb_config_parse_slice_list(y, node, dir, c, "slices", -1);
    return rc == MPB_OK ? mpb_config_slices_slots(y, c) : rc;
}

/* mergekit finds a slice's base among its sources by model, wherever it is
 * listed; mpiblend's base is one input (slot).  The source moves from slot
 * `from` to slot `to`, the others keeping their order. */
static void move_source(mpb_slice *sl, size_t from, size_t to)
{
    mpb_slice_source moved = sl->sources[from];
    if (from < to)
        memmove(&sl->sources[from], &sl->sources[from + 1], (to - from) * sizeof moved);
    else
        memmove(&sl->sources[to + 1], &sl->sources[to], (from - to) * sizeof moved);
    sl->sources[to] = moved;
    sl->base_slot = (int)to;
}

/* mergekit's ConfigReader.base_model: the slice's base_model, else the
 * global one; the method reads it among the slice's sources.  The base is
 * one slot: its position in the first slice that has a base, or the last
 * slot of the shortest such slice when that one is shorter. */
int mpb_config_slices_base(mpb_config *c, mpb_yaml *y, yaml_node_t *node)
{
    bool uses_base = mpb_method_get(c->method)->base != MPB_BASE_IGNORED;
    size_t shortest = MPB_MAX_INPUTS;
    c->base_index = -1;
    for (size_t s = 0; s < c->n_slices; s++) {
        mpb_slice *sl = &c->slices[s];
        int base = sl->base_model >= 0 ? sl->base_model : c->base_model;
        if (base < 0)
            continue;
        c->base_given = true;
        for (size_t k = 0; k < sl->n_sources && sl->base_slot < 0; k++)
            if (sl->sources[k].model == base)
                sl->base_slot = (int)k;
        if (!uses_base)
            continue;
        if (sl->base_slot < 0)
            return mpb_fail(y->err, MPB_EINVAL,
                            "%s does not list its base_model '%s' among its sources; %s "
                            "reads the base model's layers from them in %s:%d:%d",
                            sl->where, c->models[base], mpb_method_name(c->method), y->path,
                            sl->line, sl->column);
        if (c->base_index < 0)
            c->base_index = sl->base_slot;
        shortest = sl->n_sources < shortest ? sl->n_sources : shortest;
    }
    if (uses_base && c->base_given && c->base_index < 0)
        return mpb_yaml_fail(y, node, NULL, "a slice has no base_model");
    if (c->base_index >= (int)shortest)
        c->base_index = (int)shortest - 1;
    for (size_t s = 0; uses_base && s < c->n_slices; s++)
        if (c->slices[s].base_slot >= 0 && c->slices[s].base_slot != c->base_index)
            move_source(&c->slices[s], (size_t)c->slices[s].base_slot, (size_t)c->base_index);
    /* The global base_model's slot in slices[0], for the tokenizer merge. */
    c->given_base = -1;
    for (size_t k = 0; c->base_model >= 0 && k < c->slices[0].n_sources; k++)
        if (c->slices[0].sources[k].model == c->base_model && c->given_base < 0)
            c->given_base = (int)k;
    return name_slots(c, y->err);
}

bool mpb_config_slice_copies(const mpb_config *c, const mpb_slice *sl)
{
    const mpb_method_def *def = mpb_method_get(c->method);
    if (sl->n_sources != 1)
        return false;
    bool is_base = sl->base_slot >= 0 && c->base_index >= 0 &&
                   (def->base == MPB_BASE_NEEDED || def->base == MPB_BASE_OPTIONAL);
    return def->copies_first || def->exact_inputs > 1 || (is_base ? 0 : 1) < def->min_others;
}

bool mpb_config_slices_vocab_ready(const mpb_config *c, mpb_yaml *y, yaml_node_t *node,
                                   const char *what)
{
    if (c->n_slices == 0)
        return true;
    const mpb_slice *first = &c->slices[0], *last = &c->slices[c->n_slices - 1];
    bool ready = last->n_sources == first->n_sources && c->n_inputs == first->n_sources;
    for (size_t k = 0; ready && k < first->n_sources; k++)
        ready = first->sources[k].model == last->sources[k].model;
    for (size_t m = 0; ready && m < c->n_models; m++) {
        bool listed = false;
        for (size_t k = 0; k < first->n_sources; k++)
            listed |= first->sources[k].model == (int)m;
        ready = listed;
    }
    if (!ready && y != NULL)
        mpb_yaml_fail(y, node, NULL,
                      "%s with slices needs slices[0] and the last slice to list the same "
                      "models in the same order, every model of the merge among them, and no "
                      "slice with more sources (the embedding and lm_head rows are built for "
                      "their sources' vocabularies)",
                      what);
    return ready;
}

bool mpb_config_slices_vocab(const mpb_config *c)
{
    return mpb_config_slices_vocab_ready(c, NULL, NULL, NULL);
}

void mpb_config_slices_free(mpb_config *c)
{
    for (size_t s = 0; s < c->n_slices; s++) {
        for (size_t k = 0; k < c->slices[s].n_sources; k++)
            for (int id = 0; id < MPB_P_COUNT; id++)
                mpb_setting_free(&c->slices[s].sources[k].params.s[id]);
        for (int id = 0; id < MPB_P_COUNT; id++)
            mpb_setting_free(&c->slices[s].params.s[id]);
        free(c->slices[s].sources);
    }
    free(c->slices);
    for (size_t m = 0; m < c->n_models; m++) {
        free(c->models[m]);
        free(c->models_written[m]);
    }
}
