/* `parameters:` mappings: each value a scalar, a gradient (list of numbers)
 * or a list of {filter, value} entries, type- and range-checked here so that
 * resolution never meets a malformed value. */
#include "mpb_config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { TYPE_NUMBER, TYPE_FLAG, TYPE_RESCALE, TYPE_SEED } value_type;

static value_type type_of(mpb_param_id id)
{
    switch (id) {
    case MPB_P_NORMALIZE:
    case MPB_P_NORMALIZE_WEIGHTS:
    case MPB_P_NUSLERP_FLATTEN:
    case MPB_P_NUSLERP_ROW_WISE:
    case MPB_P_FILTER_WISE:
    case MPB_P_INT8_MASK: return TYPE_FLAG;
    case MPB_P_RESCALE: return TYPE_RESCALE;
    case MPB_P_SEED: return TYPE_SEED;
    default: return TYPE_NUMBER;
    }
}

/* The allowed range of a number, as text for messages; NULL: any number. */
static const char *range_problem(mpb_param_id id, double v)
{
    if (id == MPB_P_DENSITY && !(v > 0 && v <= 1))
        return "must be in (0, 1]";
    if (id == MPB_P_GAMMA && !(v >= 0 && v <= 1))
        return "must be in [0, 1]";
    if (id == MPB_P_EPSILON && !(v >= 0 && v < 1))
        return "must be in [0, 1)";
    if (id == MPB_P_EPS && !(v >= 0 && v < 1))
        return "must be in [0, 1)";
    if (id == MPB_P_MAX_ITER && !(v >= 0 && v <= 1000000 && v == (double)(long)v))
        return "must be a whole number from 0 to 1000000";
    if (id == MPB_P_TOL && !(v >= 0 && v < 1))
        return "must be in [0, 1)";
    if (id == MPB_P_SELECT_TOPK && !(v > 0))
        return "must be above 0 (1 or more selects every element)";
    return NULL;
}

static int parse_number(mpb_yaml *y, mpb_param_id id, yaml_node_t *node, const char *where,
                        double *out)
{
    if (!mpb_yaml_number(node, out)) {
        const char *quoted = node->type == YAML_SCALAR_NODE && !mpb_yaml_is_plain(node)
                                 ? ", a quoted string"
                                 : "";
        return mpb_yaml_fail(y, node, NULL, "%s must be a number (got '%s'%s)", where,
                             mpb_yaml_text(node), quoted);
    }
    const char *problem = range_problem(id, *out);
    if (problem != NULL)
        return mpb_yaml_fail(y, node, NULL, "%s %s (got %s)", where, problem,
                             mpb_yaml_text(node));
    return MPB_OK;
}

static int parse_gradient(mpb_yaml *y, mpb_param_id id, yaml_node_t *node, const char *where,
                          mpb_value *out)
{
    yaml_node_item_t *items = node->data.sequence.items.start;
    size_t n = (size_t)(node->data.sequence.items.top - items);
    if (type_of(id) != TYPE_NUMBER)
        return mpb_yaml_fail(y, node, NULL, "%s cannot be a list: gradients are for numbers",
                             where);
    if (n == 0)
        return mpb_yaml_fail(y, node, NULL, "%s is an empty list", where);
    out->kind = MPB_VAL_GRADIENT;
    out->points = malloc(n * sizeof *out->points);
    if (out->points == NULL)
        return mpb_fail(y->err, MPB_ENOMEM, "out of memory reading %s", where);
    out->n_points = n;
    for (size_t i = 0; i < n; i++) {
        int rc = parse_number(y, id, mpb_yaml_node(y, items[i]), where, &out->points[i]);
        if (rc != MPB_OK)
            return rc;
    }
    return MPB_OK;
}

static int parse_seed(mpb_yaml *y, yaml_node_t *node, const char *where, mpb_value *out)
{
    const char *text = mpb_yaml_text(node);
    char *end;
    errno = 0;
    if (mpb_yaml_is_plain(node) && text[0] >= '0' && text[0] <= '9') {
        (void)strtoull(text, &end, 10);
        if (*end == '\0' && errno == 0) {
            out->kind = MPB_VAL_WORD;
            out->word = strdup(text);
            return out->word ? MPB_OK : mpb_fail(y->err, MPB_ENOMEM, "out of memory");
        }
    }
    return mpb_yaml_fail(y, node, NULL, "%s must be a whole number from 0 to 2^64-1 (got '%s')",
                         where, text);
}

static int parse_rescale(mpb_yaml *y, yaml_node_t *node, const char *where, mpb_value *out)
{
    const char *text = mpb_yaml_text(node);
    if (mpb_yaml_bool(node, &out->flag)) {
        out->kind = MPB_VAL_BOOL;
        return MPB_OK;
    }
    if (strcmp(text, "l1") == 0 || strcmp(text, "inverse") == 0) {
        out->kind = MPB_VAL_WORD;
        out->word = strdup(text);
        return out->word ? MPB_OK : mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    }
    return mpb_yaml_fail(y, node, NULL, "%s must be true, false, l1 or inverse (got '%s')",
                         where, text);
}

/* A scalar or a gradient: what a parameter, or one filter entry, gives. */
static int parse_value(mpb_yaml *y, mpb_param_id id, yaml_node_t *node, const char *where,
                       mpb_value *out)
{
    memset(out, 0, sizeof *out);
    if (mpb_yaml_is_null(node))
        return mpb_yaml_fail(y, node, NULL, "%s has no value", where);
    if (node->type == YAML_SEQUENCE_NODE)
        return parse_gradient(y, id, node, where, out);
    if (node->type == YAML_MAPPING_NODE)
        return mpb_yaml_fail(y, node, NULL,
                             "%s: a filtered value must be a list of {filter, value} entries",
                             where);
    switch (type_of(id)) {
    case TYPE_FLAG:
        out->kind = MPB_VAL_BOOL;
        if (!mpb_yaml_bool(node, &out->flag))
            return mpb_yaml_fail(y, node, NULL, "%s must be true or false (got '%s')", where,
                                 mpb_yaml_text(node));
        return MPB_OK;
    case TYPE_RESCALE: return parse_rescale(y, node, where, out);
    case TYPE_SEED: return parse_seed(y, node, where, out);
    case TYPE_NUMBER: break;
    }
    out->kind = MPB_VAL_NUMBER;
    return parse_number(y, id, node, where, &out->number);
}

static int parse_condition(mpb_yaml *y, mpb_param_id id, yaml_node_t *node, const char *where,
                           mpb_condition *cond)
{
    static const char *const keys[] = {"filter", "value", NULL};
    int rc = mpb_yaml_check_mapping(y, node, where);
    if (rc != MPB_OK)
        return rc;
    yaml_node_t *value = NULL;
    cond->line = (int)node->start_mark.line + 1;
    cond->column = (int)node->start_mark.column + 1;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = mpb_yaml_node(y, p->key), *val = mpb_yaml_node(y, p->value);
        const char *name = mpb_yaml_text(key);
        if (strcmp(name, "value") == 0) {
            value = val;
        } else if (strcmp(name, "filter") == 0) {
            if (mpb_yaml_is_null(val))
                continue; /* mergekit: no filter matches every tensor */
            if (val->type != YAML_SCALAR_NODE || mpb_yaml_text(val)[0] == '\0')
                return mpb_yaml_fail(y, val, NULL,
                                     "filter of %s must be a piece of a tensor name", where);
            cond->filter = strdup(mpb_yaml_text(val));
            if (cond->filter == NULL)
                return mpb_fail(y->err, MPB_ENOMEM, "out of memory");
        } else {
            char hint[96] = "an entry has only filter and value";
            const char *near = mpb_suggest(name, keys);
            if (near != NULL)
                snprintf(hint, sizeof hint, "did you mean '%s'?", near);
            return mpb_yaml_fail(y, key, hint, "unknown key '%s' under %s", name, where);
        }
    }
    if (value == NULL)
        return mpb_yaml_fail(y, node, NULL, "filter entry of %s has no value", where);
    return parse_value(y, id, value, where, &cond->value);
}

static int parse_conditions(mpb_yaml *y, mpb_param_id id, yaml_node_t *node, mpb_setting *s)
{
    yaml_node_item_t *items = node->data.sequence.items.start;
    size_t n = (size_t)(node->data.sequence.items.top - items);
    s->conditional = true;
    s->conds = calloc(n, sizeof *s->conds);
    if (s->conds == NULL)
        return mpb_fail(y->err, MPB_ENOMEM, "out of memory reading %s", s->where);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *entry = mpb_yaml_node(y, items[i]);
        s->n_conds = i + 1;
        if (entry->type != YAML_MAPPING_NODE)
            return mpb_yaml_fail(
                y, entry, NULL, "%s mixes {filter, value} entries with other values", s->where);
        int rc = parse_condition(y, id, entry, s->where, &s->conds[i]);
        if (rc != MPB_OK)
            return rc;
    }
    return MPB_OK;
}

static int parse_setting(mpb_yaml *y, mpb_param_id id, yaml_node_t *node, mpb_setting *s)
{
    s->present = true;
    s->line = (int)node->start_mark.line + 1;
    s->column = (int)node->start_mark.column + 1;
    if (node->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *items = node->data.sequence.items.start;
        if (id == MPB_P_SEED)
            return mpb_yaml_fail(y, node, NULL, "%s must be one whole number", s->where);
        if (items < node->data.sequence.items.top &&
            mpb_yaml_node(y, items[0])->type == YAML_MAPPING_NODE)
            return parse_conditions(y, id, node, s);
    }
    return parse_value(y, id, node, s->where, &s->value);
}

static const char *param_list(void)
{
    /* Kept in mpb_param_id order; tests compare it with the table. */
    return "weight, density, gamma, epsilon, lambda, t, normalize, rescale, seed, int8_mask";
}

static int unknown_param(mpb_yaml *y, yaml_node_t *key, const char *where_prefix)
{
    const char *name = mpb_yaml_text(key);
    const char *names[MPB_P_COUNT + 1];
    for (int id = 0; id < MPB_P_COUNT; id++)
        names[id] = mpb_param_name((mpb_param_id)id);
    names[MPB_P_COUNT] = NULL;
    const char *near = mpb_suggest(name, names);
    char hint[256];
    if (near != NULL)
        snprintf(hint, sizeof hint, "did you mean '%s'?", near);
    else
        snprintf(hint, sizeof hint, "known parameters: %s", param_list());
    return mpb_yaml_fail(y, key, hint, "unknown parameter '%s' under %s", name, where_prefix);
}

int mpb_config_parse_params(mpb_yaml *y, yaml_node_t *node, const char *where_prefix,
                            bool per_model, mpb_param_set *out)
{
    if (mpb_yaml_is_null(node))
        return MPB_OK;
    int rc = mpb_yaml_check_mapping(y, node, where_prefix);
    if (rc != MPB_OK)
        return rc;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = mpb_yaml_node(y, p->key);
        mpb_param_id id = mpb_param_lookup(mpb_yaml_text(key));
        if (id == MPB_P_COUNT)
            return unknown_param(y, key, where_prefix);
        if (per_model && !mpb_param_per_model(id))
            return mpb_yaml_fail(y, key, NULL,
                                 "parameter '%s' under %s applies to the whole merge (mergekit "
                                 "ignores it in a model entry); move it to the top-level "
                                 "parameters",
                                 mpb_param_name(id), where_prefix);
        mpb_setting *s = &out->s[id];
        snprintf(s->where, sizeof s->where, "%s.%s", where_prefix, mpb_param_name(id));
        rc = parse_setting(y, id, mpb_yaml_node(y, p->value), s);
        if (rc != MPB_OK)
            return rc;
    }
    return MPB_OK;
}
