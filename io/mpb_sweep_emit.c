/* A grid point's config: the loaded document copied node by node, the sweep
 * section left out (or replaced, for refine) and the swept values written
 * in, then emitted as YAML by libyaml. */
#include "mpb_sweep_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One swept value: either an existing scalar node takes the text, or keys
 * are added to a mapping: key1: text, or key1: {key2: text}. */
struct edit {
    int replace;
    int parent;
    const char *key1, *key2;
    const char *text;
};

struct emit {
    const mpb_sweep *s;
    yaml_document_t *src;
    yaml_document_t dst;
    struct edit *edits;
    const char *const *const *regrid; /* NULL: drop the sweep section */
    const size_t *regrid_counts;
    mpb_error *err;
};

static int node_id(yaml_document_t *doc, const yaml_node_t *n)
{
    return (int)(n - doc->nodes.start) + 1;
}

static bool is_null(const yaml_node_t *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strcmp((const char *)n->data.scalar.value, nulls[i]) == 0)
            return true;
    return false;
}

static yaml_node_t *lookup(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    yaml_node_t *n = mpb_sweep_lookup(doc, map, key);
    return n && is_null(n) ? NULL : n;
}

/* The entry of a filter list that a key's @FILTER names. */
static yaml_node_t *filter_entry(yaml_document_t *doc, yaml_node_t *list, const char *filter)
{
    for (yaml_node_item_t *i = list->data.sequence.items.start;
         i < list->data.sequence.items.top; i++) {
        yaml_node_t *entry = yaml_document_get_node(doc, *i);
        yaml_node_t *f = lookup(doc, entry, "filter");
        const char *text =
            f && f->type == YAML_SCALAR_NODE ? (const char *)f->data.scalar.value : NULL;
        bool catch_all = text == NULL || strcmp(text, "*") == 0;
        if (entry->type == YAML_MAPPING_NODE &&
            (strcmp(filter, "*") == 0 ? catch_all : text && strcmp(text, filter) == 0))
            return entry;
    }
    return NULL;
}

static int locate_filtered(const mpb_sweep *s, const mpb_sweep_param *p, yaml_node_t *v,
                           yaml_node_t *where, struct edit *e, mpb_error *err)
{
    yaml_document_t *doc = (yaml_document_t *)&s->doc;
    if (v == NULL || v->type != YAML_SEQUENCE_NODE)
        return mpb_sweep_fail_at(s, v ? v : where, err,
                                 "sweep key '%s' needs a list of "
                                 "{filter, value} entries for %s",
                                 p->key, p->param);
    yaml_node_t *entry = filter_entry(doc, v, p->filter);
    yaml_node_t *value = entry ? lookup(doc, entry, "value") : NULL;
    if (entry == NULL)
        return mpb_sweep_fail_at(
            s, v, err, "sweep key '%s': %s has no entry %s", p->key, p->param,
            strcmp(p->filter, "*") ? "with that filter" : "without a filter");
    if (value == NULL || value->type != YAML_SCALAR_NODE)
        return mpb_sweep_fail_at(s, value ? value : entry, err,
                                 "sweep key '%s': the "
                                 "entry's value must be one number to be swept",
                                 p->key);
    e->replace = node_id(doc, value);
    return MPB_OK;
}

/* Where parameter p's value lives in the config, or where it goes. */
static int locate(const mpb_sweep *s, const mpb_sweep_param *p, struct edit *e, mpb_error *err)
{
    yaml_document_t *doc = (yaml_document_t *)&s->doc;
    yaml_node_t *root = yaml_document_get_root_node(doc), *start = root;
    memset(e, 0, sizeof *e);
    if (p->model >= 0) {
        yaml_node_t *models = lookup(doc, root, "models");
        long n =
            models && models->type == YAML_SEQUENCE_NODE
                ? (long)(models->data.sequence.items.top - models->data.sequence.items.start)
                : 0;
        if (p->model >= n)
            return mpb_sweep_fail_at(s, models ? models : root, err,
                                     "sweep key '%s': the "
                                     "config lists %ld models (counted from 0)",
                                     p->key, n);
        start = yaml_document_get_node(doc, models->data.sequence.items.start[p->model]);
        if (start->type != YAML_MAPPING_NODE)
            return mpb_sweep_fail_at(s, start, err,
                                     "sweep key '%s': models[%d] is not a "
                                     "{model: ..., parameters: ...} entry",
                                     p->key, p->model);
    }
    yaml_node_t *params = lookup(doc, start, "parameters");
    yaml_node_t *v = params ? lookup(doc, params, p->param) : NULL;
    if (p->filter)
        return locate_filtered(s, p, v, params ? params : start, e, err);
    if (params && params->type != YAML_MAPPING_NODE)
        return mpb_sweep_fail_at(s, params, err, "parameters must be a mapping");
    if (v && v->type != YAML_SCALAR_NODE)
        return mpb_sweep_fail_at(s, v, err,
                                 "sweep key '%s': %s is a list in the config "
                                 "(a gradient or filters); sweep one filter entry with "
                                 "'%s@FILTER', or write one number",
                                 p->key, p->param, p->key);
    if (v) {
        e->replace = node_id(doc, v);
    } else if (params) {
        e->parent = node_id(doc, params);
        e->key1 = p->param;
    } else {
        e->parent = node_id(doc, start);
        e->key1 = "parameters";
        e->key2 = p->param;
    }
    return MPB_OK;
}

static int fail_yaml(struct emit *e)
{
    return mpb_fail(e->err, MPB_ENOMEM, "out of memory building a sweep point's config");
}

static int add_text(struct emit *e, const char *text)
{
    return yaml_document_add_scalar(&e->dst, NULL, (yaml_char_t *)text, -1,
                                    YAML_PLAIN_SCALAR_STYLE);
}

static int add_pair(struct emit *e, int map, const char *key, int value)
{
    int k = add_text(e, key);
    return k && value && yaml_document_append_mapping_pair(&e->dst, map, k, value);
}

/* key1 of an insertion at this mapping whose pair the copy leaves out: an
 * empty `parameters:` that the insertion replaces. */
static bool inserted_here(const struct emit *e, int parent, const char *key)
{
    for (size_t j = 0; j < e->s->n_params; j++)
        if (e->edits[j].parent == parent && strcmp(e->edits[j].key1, key) == 0)
            return true;
    return false;
}

static int add_insertions(struct emit *e, int src_map, int dst_map)
{
    for (size_t j = 0; j < e->s->n_params; j++) {
        const struct edit *ed = &e->edits[j];
        if (ed->parent != src_map)
            continue;
        bool first = true; /* one pair per key1 */
        for (size_t i = 0; i < j; i++)
            first &= !(e->edits[i].parent == src_map && !strcmp(e->edits[i].key1, ed->key1));
        if (!first)
            continue;
        int value;
        if (ed->key2 == NULL) {
            value = add_text(e, ed->text);
        } else {
            value = yaml_document_add_mapping(&e->dst, NULL, YAML_ANY_MAPPING_STYLE);
            for (size_t i = j; i < e->s->n_params && value; i++)
                if (e->edits[i].parent == src_map && !strcmp(e->edits[i].key1, ed->key1) &&
                    !add_pair(e, value, e->edits[i].key2, add_text(e, e->edits[i].text)))
                    return fail_yaml(e);
        }
        if (!add_pair(e, dst_map, ed->key1, value))
            return fail_yaml(e);
    }
    return MPB_OK;
}

static int copy_node(struct emit *e, int src_id);

/* sweep: {output: ..., parameters: {key: [values] or {values, name}}} */
static int new_sweep(struct emit *e, int src_sweep)
{
    const mpb_sweep *s = e->s;
    int map = yaml_document_add_mapping(&e->dst, NULL, YAML_BLOCK_MAPPING_STYLE);
    yaml_node_t *out =
        mpb_sweep_lookup(e->src, yaml_document_get_node(e->src, src_sweep), "output");
    if (map && out && !add_pair(e, map, "output", copy_node(e, node_id(e->src, out))))
        return 0;
    int params = yaml_document_add_mapping(&e->dst, NULL, YAML_BLOCK_MAPPING_STYLE);
    if (!map || !add_pair(e, map, "parameters", params))
        return 0;
    for (size_t j = 0; j < s->n_params; j++) {
        int list = yaml_document_add_sequence(&e->dst, NULL, YAML_FLOW_SEQUENCE_STYLE);
        for (size_t v = 0; v < e->regrid_counts[j] && list; v++)
            if (!yaml_document_append_sequence_item(&e->dst, list,
                                                    add_text(e, e->regrid[j][v])))
                return 0;
        int value = list;
        if (list && strcmp(s->params[j].name, s->params[j].key) != 0) {
            value = yaml_document_add_mapping(&e->dst, NULL, YAML_FLOW_MAPPING_STYLE);
            if (!value || !add_pair(e, value, "values", list) ||
                !add_pair(e, value, "name", add_text(e, s->params[j].name)))
                return 0;
        }
        if (!add_pair(e, params, s->params[j].key, value))
            return 0;
    }
    return map;
}

static int copy_mapping(struct emit *e, int src_id, yaml_node_t *n)
{
    int map = yaml_document_add_mapping(&e->dst, n->tag, n->data.mapping.style);
    bool is_root = src_id == node_id(e->src, yaml_document_get_root_node(e->src));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         map && p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(e->src, p->key);
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        if (is_root && strcmp(key, "sweep") == 0) {
            if (e->regrid && !add_pair(e, map, "sweep", new_sweep(e, p->value)))
                return 0;
            continue;
        }
        if (inserted_here(e, src_id, key)) /* an empty value the insertion replaces */
            continue;
        int kc = copy_node(e, p->key), vc = kc ? copy_node(e, p->value) : 0;
        if (!vc || !yaml_document_append_mapping_pair(&e->dst, map, kc, vc))
            return 0;
    }
    return map && add_insertions(e, src_id, map) == MPB_OK ? map : 0;
}

/* Returns the new node's id, 0 on failure. */
static int copy_node(struct emit *e, int src_id)
{
    yaml_node_t *n = yaml_document_get_node(e->src, src_id);
    if (n->type == YAML_SCALAR_NODE) {
        for (size_t j = 0; j < e->s->n_params; j++)
            if (e->edits[j].replace == src_id)
                return add_text(e, e->edits[j].text);
        return yaml_document_add_scalar(&e->dst, n->tag, n->data.scalar.value,
                                        (int)n->data.scalar.length, n->data.scalar.style);
    }
    if (n->type == YAML_MAPPING_NODE)
        return copy_mapping(e, src_id, n);
    int seq = yaml_document_add_sequence(&e->dst, n->tag, n->data.sequence.style);
    for (yaml_node_item_t *i = n->data.sequence.items.start;
         seq && i < n->data.sequence.items.top; i++) {
        int item = copy_node(e, *i);
        if (!item || !yaml_document_append_sequence_item(&e->dst, seq, item))
            return 0;
    }
    return seq;
}

struct text_buf {
    char *data;
    size_t len, cap;
};

static int write_text(void *data, unsigned char *bytes, size_t size)
{
    struct text_buf *b = data;
    if (b->len + size + 1 > b->cap) {
        size_t cap = 2 * (b->len + size + 1);
        char *bigger = realloc(b->data, cap);
        if (bigger == NULL)
            return 0;
        b->data = bigger;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 1;
}

/* Emits dst (and deletes it, as yaml_emitter_dump does). */
static int emit_text(struct emit *e, char **yaml)
{
    struct text_buf b = {0};
    yaml_emitter_t em;
    if (!yaml_emitter_initialize(&em)) {
        yaml_document_delete(&e->dst);
        return fail_yaml(e);
    }
    yaml_emitter_set_output(&em, write_text, &b);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_unicode(&em, 1);
    int ok = yaml_emitter_open(&em) && yaml_emitter_dump(&em, &e->dst) &&
             yaml_emitter_close(&em) && yaml_emitter_flush(&em);
    int rc = ok && b.data ? MPB_OK
                          : mpb_fail(e->err, MPB_EINTERNAL,
                                     "cannot write a sweep point's "
                                     "config as YAML: %s",
                                     em.problem ? em.problem : "?");
    if (!ok)
        yaml_document_delete(&e->dst);
    yaml_emitter_delete(&em);
    if (rc != MPB_OK) {
        free(b.data);
        return rc;
    }
    *yaml = b.data;
    return MPB_OK;
}

/* texts[j] is the text param j takes (NULL: the point's values); with
 * regrid the config's values stay as written and the sweep gets a new grid. */
static int build(const mpb_sweep *s, size_t point, const char *const *texts,
                 const char *const *const *regrid, const size_t *counts, char **yaml,
                 mpb_error *err)
{
    struct emit e = {.s = s,
                     .src = (yaml_document_t *)&s->doc,
                     .regrid = regrid,
                     .regrid_counts = counts,
                     .err = err};
    e.edits = calloc(s->n_params ? s->n_params : 1, sizeof *e.edits);
    if (e.edits == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = MPB_OK;
    for (size_t j = 0; j < s->n_params && rc == MPB_OK && regrid == NULL; j++) {
        rc = locate(s, &s->params[j], &e.edits[j], err);
        e.edits[j].text = texts ? texts[j] : mpb_sweep_value_text(s, point, j);
    }
    if (rc == MPB_OK && !yaml_document_initialize(&e.dst, NULL, NULL, NULL, 1, 1))
        rc = fail_yaml(&e);
    if (rc == MPB_OK) {
        int root = copy_node(&e, node_id(e.src, yaml_document_get_root_node(e.src)));
        if (root == 0) {
            yaml_document_delete(&e.dst);
            rc = err->code ? err->code : fail_yaml(&e);
        } else {
            rc = emit_text(&e, yaml);
        }
    }
    free(e.edits);
    return rc;
}

int mpb_sweep_point_config(const mpb_sweep *s, size_t point, char **yaml, mpb_error *err)
{
    return build(s, point, NULL, NULL, NULL, yaml, err);
}

int mpb_sweep_study_config(const mpb_sweep *s, char **yaml, mpb_error *err)
{
    const char **texts = calloc(s->n_params, sizeof *texts);
    if (texts == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    for (size_t j = 0; j < s->n_params; j++)
        texts[j] = "SWEPT";
    int rc = build(s, 0, texts, NULL, NULL, yaml, err);
    free(texts);
    return rc;
}

int mpb_sweep_regrid_config(const mpb_sweep *s, const char *const *const values[],
                            const size_t counts[], char **yaml, mpb_error *err)
{
    for (size_t j = 0; j < s->n_params; j++)
        if (counts[j] == 0)
            return mpb_fail(err, MPB_EINVAL, "a new grid needs at least one value for '%s'",
                            s->params[j].key);
    return build(s, 0, NULL, values, counts, yaml, err);
}
