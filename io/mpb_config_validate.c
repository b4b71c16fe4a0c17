/* Rules that need the whole config: which inputs a method takes, its base
 * model, and the values it cannot run without. */
#include "mpb_config_internal.h"

#include <stdio.h>
#include <string.h>

static yaml_node_t *top_value(mpb_yaml *y, yaml_node_t *root, const char *key)
{
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++)
        if (strcmp(mpb_yaml_text(mpb_yaml_node(y, p->key)), key) == 0)
            return mpb_yaml_node(y, p->value);
    return root;
}

static int fail_at_input(const mpb_config *c, mpb_error *err, size_t i, const char *what)
{
    return mpb_fail(err, MPB_EINVAL, "%s ('%s') %s in %s:%d:%d", c->origin[i], c->inputs[i],
                    what, c->path, c->input_line[i], c->input_column[i]);
}

static int check_duplicates(const mpb_config *c, mpb_error *err)
{
    for (size_t i = 1; i < c->n_inputs; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->inputs[i], c->inputs[j]) == 0) {
                char what[64];
                snprintf(what, sizeof what, "is already %s", c->origin[j]);
                return fail_at_input(c, err, i, what);
            }
        }
    }
    return MPB_OK;
}

/* The base model's role per method; sets c->base_index for the accessors. */
static int check_base(mpb_config *c, mpb_yaml *y, yaml_node_t *root)
{
    const mpb_method_def *def = mpb_method_get(c->method);
    const char *name = def->name;
    if (def->base == MPB_BASE_NEEDED && !c->base_given)
        return mpb_yaml_fail(y, root, NULL,
                             "merge_method '%s' needs base_model: the model task vectors are "
                             "taken against",
                             name);
    if (def->base == MPB_BASE_IGNORED && c->base_given &&
        strcmp(c->origin[c->base_index], "base_model") == 0)
        return mpb_yaml_fail(y, top_value(y, root, "base_model"), NULL,
                             "base_model '%s' is not one of the models; %s does not use a "
                             "base model",
                             c->inputs[c->base_index], name);
    if (def->base == MPB_BASE_IGNORED)
        c->base_index = -1;
    else if (def->base == MPB_BASE_END && !c->base_given)
        c->base_index = 0;
    else if (def->base == MPB_BASE_OPTIONAL && !c->base_given)
        c->base_index = -1;
    return MPB_OK;
}

/* n inputs (has_base: one of them is the base) against what the method
 * takes; `in` names a slice when the count is that slice's. */
static int check_count(const mpb_config *c, mpb_yaml *y, yaml_node_t *node, size_t n,
                       bool has_base, const char *in)
{
    const mpb_method_def *info = mpb_method_get(c->method);
    bool base_added = c->n_slices == 0 && c->base_given &&
                      strcmp(c->origin[c->n_inputs - 1], "base_model") == 0;
    if (info->exact_inputs > 0 && n != (size_t)info->exact_inputs)
        return mpb_yaml_fail(y, node, NULL,
                             "merge_method '%s' needs exactly %d model%s, got %zu%s%s",
                             info->name, info->exact_inputs, info->exact_inputs > 1 ? "s" : "",
                             n, base_added ? " (counting base_model)" : "", in);
    size_t others =
        n - (has_base && (info->base == MPB_BASE_NEEDED || info->base == MPB_BASE_OPTIONAL)
                 ? 1
                 : 0);
    bool exact = info->max_others > 0 && info->max_others == info->min_others;
    if (others < (size_t)info->min_others)
        return mpb_yaml_fail(
            y, node, NULL,
            "merge_method '%s' needs %s %d model%s besides base_model, got %zu%s", info->name,
            exact ? "exactly" : "at least", info->min_others, info->min_others > 1 ? "s" : "",
            others, in);
    if (info->max_others > 0 && others > (size_t)info->max_others)
        return mpb_yaml_fail(
            y, node, NULL,
            "merge_method '%s' needs %s %d model%s besides base_model, got %zu%s", info->name,
            exact ? "exactly" : "at most", info->max_others, info->max_others > 1 ? "s" : "",
            others, in);
    return MPB_OK;
}

/* With slices whose source counts differ, each slice's count on its own;
 * a slice of one source is copied as it is (mpb_config_slice_copies). */
static int check_counts(const mpb_config *c, mpb_yaml *y, yaml_node_t *root)
{
    yaml_node_t *models = top_value(y, root,
                                    c->n_modules  ? "modules"
                                    : c->n_slices ? "slices"
                                                  : "models");
    bool same = true;
    for (size_t s = 1; s < c->n_slices; s++)
        same = same && c->slices[s].n_sources == c->slices[0].n_sources;
    if (same)
        return check_count(c, y, models, c->n_inputs, c->base_index >= 0, "");
    /* a module's slices are not items of a top-level list: point at modules */
    yaml_node_item_t *items = c->n_modules ? NULL : models->data.sequence.items.start;
    int rc = MPB_OK;
    for (size_t s = 0; s < c->n_slices && rc == MPB_OK; s++) {
        const mpb_slice *sl = &c->slices[s];
        char in[sizeof sl->where + 8];
        snprintf(in, sizeof in, " in %s", sl->where);
        if (!mpb_config_slice_copies(c, sl))
            rc = check_count(c, y, items ? mpb_yaml_node(y, items[s]) : models, sl->n_sources,
                             sl->base_slot >= 0 && c->base_index >= 0, in);
    }
    return rc;
}

static int check_required_values(const mpb_config *c, mpb_yaml *y, yaml_node_t *root)
{
    const mpb_method_def *info = mpb_method_get(c->method);
    for (size_t i = 0; info->params[MPB_P_WEIGHT].required && i < c->n_inputs; i++) {
        if (!mpb_config_input_weighted(c, i) || c->model_params[i].s[MPB_P_WEIGHT].present ||
            c->global.s[MPB_P_WEIGHT].present)
            continue;
        char what[160];
        snprintf(what, sizeof what,
                 "has no weight; merge_method '%s' needs one for each model (parameters.weight "
                 "in the entry, or at the top level)",
                 info->name);
        return fail_at_input(c, y->err, i, what);
    }
    for (int id = 0; id < MPB_P_COUNT; id++)
        if (info->params[id].required && !mpb_param_per_model((mpb_param_id)id) &&
            !c->global.s[id].present)
            return mpb_yaml_fail(y, root, NULL, "merge_method '%s' needs parameters.%s: %s",
                                 info->name, mpb_param_name((mpb_param_id)id),
                                 info->required_why ? info->required_why : "it has no default");
    return MPB_OK;
}

/* The setting input i's weight comes from, when it is one number for every
 * tensor; NULL when it varies (filters, gradients) or is missing. */
static const mpb_setting *constant_weight(const mpb_config *c, size_t i)
{
    const mpb_setting *s = &c->model_params[i].s[MPB_P_WEIGHT];
    if (!s->present)
        s = &c->global.s[MPB_P_WEIGHT];
    return s->present && !s->conditional && s->value.kind == MPB_VAL_NUMBER ? s : NULL;
}

/* Weights that cancel can be seen now when they are plain numbers; with
 * filters or gradients mpb_config_resolve checks each tensor. */
static int check_linear_sum(const mpb_config *c, mpb_yaml *y, yaml_node_t *root)
{
    const mpb_setting *normalize = &c->global.s[MPB_P_NORMALIZE];
    if (!mpb_method_get(c->method)->normalize_needs_sum || normalize->conditional ||
        (normalize->present && !normalize->value.flag))
        return MPB_OK;
    double w[MPB_MAX_INPUTS];
    for (size_t i = 0; i < c->n_inputs; i++) {
        const mpb_setting *s = constant_weight(c, i);
        if (s == NULL)
            return MPB_OK;
        w[i] = s->value.number;
    }
    if (!mpb_weights_cancel(w, c->n_inputs, -1))
        return MPB_OK;
    return mpb_yaml_fail(y, top_value(y, root, "models"), NULL,
                         "%s weights sum to 0 and normalize divides by their sum; change "
                         "the weights or set normalize: false",
                         mpb_method_name(c->method));
}

int mpb_config_validate(mpb_config *c, mpb_yaml *y, yaml_node_t *root)
{
    int rc;
    /* With slices a model may fill several inputs (slots), and values may
     * come from each slice: mpb_config_resolve checks them per tensor,
     * still before anything is read. */
    if (c->n_slices > 0)
        return (rc = check_base(c, y, root)) != MPB_OK ? rc : check_counts(c, y, root);
    if ((rc = check_duplicates(c, y->err)) != MPB_OK ||
        (rc = check_base(c, y, root)) != MPB_OK || (rc = check_counts(c, y, root)) != MPB_OK ||
        (rc = check_required_values(c, y, root)) != MPB_OK)
        return rc;
    return check_linear_sum(c, y, root);
}
