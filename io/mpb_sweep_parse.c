/* Reading the sweep section: parameters, their values, the output template. */
#include "mpb_config_internal.h" /* mpb_yaml_check_limits */
#include "mpb_sweep_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mpb_sweep_fail_at(const mpb_sweep *s, const yaml_node_t *node, mpb_error *err,
                      const char *fmt, ...)
{
    char what[MPB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mpb_fail(err, MPB_EINVAL, "%s in %s:%d:%d", what, s->path,
                    (int)node->start_mark.line + 1, (int)node->start_mark.column + 1);
}

static const char *text_of(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
}

yaml_node_t *mpb_sweep_lookup(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++)
        if (strcmp(text_of(yaml_document_get_node(doc, p->key)), key) == 0)
            return yaml_document_get_node(doc, p->value);
    return NULL;
}

void mpb_sweep_format_value(double v, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return;
    if (v == 0)
        v = 0; /* no "-0" */
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static bool node_number(const yaml_node_t *n, double *out)
{
    return mpb_yaml_number(n, out); /* the config's rules for numbers */
}

static int add_value(const mpb_sweep *s, mpb_sweep_param *p, double v, const yaml_node_t *at,
                     mpb_error *err)
{
    if (p->n_values >= MPB_SWEEP_MAX_POINTS)
        return mpb_sweep_fail_at(s, at, err, "sweep parameter '%s' has more than %d values",
                                 p->key, MPB_SWEEP_MAX_POINTS);
    char text[32];
    mpb_sweep_format_value(v, text, sizeof text);
    for (size_t i = 0; i < p->n_values; i++)
        if (p->values[i] == strtod(text, NULL))
            return mpb_sweep_fail_at(s, at, err, "sweep parameter '%s' lists %s twice", p->key,
                                     text);
    double *values = realloc(p->values, (p->n_values + 1) * sizeof *values);
    if (values)
        p->values = values;
    char **texts = realloc(p->texts, (p->n_values + 1) * sizeof *texts);
    if (texts)
        p->texts = texts;
    char *copy = strdup(text);
    if (!values || !texts || !copy) {
        free(copy);
        return mpb_fail(err, MPB_ENOMEM, "out of memory reading the sweep");
    }
    p->values[p->n_values] = strtod(text, NULL);
    p->texts[p->n_values++] = copy;
    return MPB_OK;
}

static int read_list(mpb_sweep *s, mpb_sweep_param *p, yaml_node_t *list, mpb_error *err)
{
    if (list->data.sequence.items.start == list->data.sequence.items.top)
        return mpb_sweep_fail_at(s, list, err, "sweep parameter '%s' lists no values", p->key);
    for (yaml_node_item_t *i = list->data.sequence.items.start;
         i < list->data.sequence.items.top; i++) {
        yaml_node_t *item = yaml_document_get_node(&s->doc, *i);
        double v;
        if (!node_number(item, &v))
            return mpb_sweep_fail_at(s, item, err,
                                     "sweep parameter '%s': '%s' is not a plain number", p->key,
                                     text_of(item));
        int rc = add_value(s, p, v, item, err);
        if (rc)
            return rc;
    }
    return MPB_OK;
}

/* start + i*step for i = 0, 1, ..., rounded to 12 significant digits, up to
 * stop inclusive when stop is on the grid within 1e-9 of a step. */
static int read_range(mpb_sweep *s, mpb_sweep_param *p, yaml_node_t *map, mpb_error *err)
{
    static const char *const keys[] = {"start", "stop", "step"};
    double v[3];
    for (int k = 0; k < 3; k++) {
        yaml_node_t *n = mpb_sweep_lookup(&s->doc, map, keys[k]);
        if (n == NULL)
            return mpb_sweep_fail_at(s, map, err,
                                     "sweep range of '%s' needs start, stop and "
                                     "step (missing '%s')",
                                     p->key, keys[k]);
        if (!node_number(n, &v[k]))
            return mpb_sweep_fail_at(s, n, err,
                                     "sweep parameter '%s': %s '%s' is not a "
                                     "plain number",
                                     p->key, keys[k], text_of(n));
    }
    double start = v[0], stop = v[1], step = v[2];
    double span = (stop - start) / step;
    if (step == 0 || span < -1e-9 || !isfinite(span))
        return mpb_sweep_fail_at(s, map, err,
                                 "sweep range of '%s': step %g never gets from "
                                 "%g to %g",
                                 p->key, step, start, stop);
    if (span + 1 > MPB_SWEEP_MAX_POINTS)
        return mpb_sweep_fail_at(s, map, err, "sweep range of '%s' has more than %d values",
                                 p->key, MPB_SWEEP_MAX_POINTS);
    long n = (long)floor(span + 1e-9) + 1;
    for (long i = 0; i < n; i++) {
        char text[32];
        snprintf(text, sizeof text, "%.12g", start + (double)i * step);
        int rc = add_value(s, p, strtod(text, NULL), map, err);
        if (rc)
            return rc;
    }
    return MPB_OK;
}

static bool word_in(const char *w, const char *const list[])
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(w, list[i]) == 0)
            return true;
    return false;
}

/* "[models[N].]PARAM[@FILTER]" */
static int parse_key(mpb_sweep *s, mpb_sweep_param *p, yaml_node_t *key, mpb_error *err)
{
    const char *k = text_of(key);
    p->key = strdup(k);
    p->model = -1;
    const char *rest = k;
    if (strncmp(k, "models[", 7) == 0) {
        char *end;
        long m = strtol(k + 7, &end, 10);
        if (end == k + 7 || k[7] == '-' || k[7] == '+' || (k[7] == '0' && end != k + 8) ||
            strncmp(end, "].", 2) != 0)
            return mpb_sweep_fail_at(s, key, err,
                                     "sweep key '%s': write a model's parameter "
                                     "as models[N].NAME",
                                     k);
        p->model = (int)m;
        rest = end + 2;
    }
    const char *at = strchr(rest, '@');
    size_t name_len = at ? (size_t)(at - rest) : strlen(rest);
    p->param = strndup(rest, name_len);
    p->filter = at ? strdup(at + 1) : NULL;
    if (!p->key || !p->param || (at && !p->filter))
        return mpb_fail(err, MPB_ENOMEM, "out of memory reading the sweep");
    if (!mpb_param_sweepable(mpb_param_lookup(p->param)))
        return mpb_sweep_fail_at(
            s, key, err,
            "sweep key '%s': '%s' is not a numeric "
            "parameter (weight, density, gamma, epsilon, lambda, t, select_topk)",
            k, p->param);
    if (p->filter && p->filter[0] == '\0')
        return mpb_sweep_fail_at(s, key, err,
                                 "sweep key '%s': empty filter after '@' "
                                 "(use @* for the entry without filter)",
                                 k);
    return MPB_OK;
}

static int read_param(mpb_sweep *s, mpb_sweep_param *p, yaml_node_t *key, yaml_node_t *val,
                      mpb_error *err)
{
    int rc = parse_key(s, p, key, err);
    if (rc)
        return rc;
    yaml_node_t *name = NULL;
    if (val->type == YAML_SEQUENCE_NODE) {
        rc = read_list(s, p, val, err);
    } else if (val->type == YAML_MAPPING_NODE) {
        static const char *const keys[] = {"values", "start", "stop", "step", "name", NULL};
        for (yaml_node_pair_t *q = val->data.mapping.pairs.start;
             q < val->data.mapping.pairs.top; q++) {
            yaml_node_t *k = yaml_document_get_node(&s->doc, q->key);
            if (!word_in(text_of(k), keys))
                return mpb_sweep_fail_at(s, k, err,
                                         "unknown key '%s' for sweep parameter "
                                         "'%s' (known: values, start, stop, step, name)",
                                         text_of(k), p->key);
        }
        yaml_node_t *values = mpb_sweep_lookup(&s->doc, val, "values");
        name = mpb_sweep_lookup(&s->doc, val, "name");
        if (values && mpb_sweep_lookup(&s->doc, val, "start"))
            return mpb_sweep_fail_at(s, val, err,
                                     "sweep parameter '%s' has both values and "
                                     "a range; give one",
                                     p->key);
        if (values && values->type != YAML_SEQUENCE_NODE)
            return mpb_sweep_fail_at(s, values, err,
                                     "sweep parameter '%s': values must be a "
                                     "list of numbers",
                                     p->key);
        rc = values ? read_list(s, p, values, err) : read_range(s, p, val, err);
    } else {
        return mpb_sweep_fail_at(s, val, err,
                                 "sweep parameter '%s' needs a list of values "
                                 "or {start, stop, step}",
                                 p->key);
    }
    if (rc)
        return rc;
    const char *n = name ? text_of(name) : p->key;
    if (name && (name->type != YAML_SCALAR_NODE || strcspn(n, "{}/") != strlen(n) || !*n))
        return mpb_sweep_fail_at(s, name, err,
                                 "sweep parameter '%s': name must be a word "
                                 "without { } or /",
                                 p->key);
    p->name = strdup(n);
    return p->name ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory reading the sweep");
}

static int check_names(mpb_sweep *s, yaml_node_t *params, mpb_error *err)
{
    for (size_t i = 0; i < s->n_params; i++) {
        if (strcmp(s->params[i].name, "index") == 0)
            return mpb_sweep_fail_at(s, params, err,
                                     "sweep field name 'index' is reserved "
                                     "(it numbers the points); give '%s' another name:",
                                     s->params[i].key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->params[i].name, s->params[j].name) == 0 ||
                strcmp(s->params[i].key, s->params[j].key) == 0)
                return mpb_sweep_fail_at(s, params, err,
                                         "sweep parameters '%s' and '%s' "
                                         "have the same key or name",
                                         s->params[j].key, s->params[i].key);
    }
    return MPB_OK;
}

static int default_template(mpb_sweep *s, mpb_error *err)
{
    size_t len = 8;
    for (size_t i = 0; i < s->n_params; i++)
        len += 2 * strlen(s->params[i].name) + 5;
    s->template = malloc(len);
    if (s->template == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory reading the sweep");
    size_t used = 0;
    for (size_t i = 0; i < s->n_params; i++)
        used += (size_t)snprintf(s->template + used, len - used, "%s%s-{%s}", i ? "_" : "",
                                 s->params[i].name, s->params[i].name);
    snprintf(s->template + used, len - used, ".h5");
    return MPB_OK;
}

static int read_params(mpb_sweep *s, yaml_node_t *params, mpb_error *err)
{
    if (params == NULL || params->type != YAML_MAPPING_NODE ||
        params->data.mapping.pairs.start == params->data.mapping.pairs.top)
        return mpb_sweep_fail_at(s, params ? params : yaml_document_get_root_node(&s->doc), err,
                                 "sweep needs 'parameters:', a mapping of parameter "
                                 "keys to values");
    size_t n = (size_t)(params->data.mapping.pairs.top - params->data.mapping.pairs.start);
    s->params = calloc(n, sizeof *s->params);
    if (s->params == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory reading the sweep");
    s->n_points = 1;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *q = &params->data.mapping.pairs.start[i];
        s->n_params = i + 1;
        int rc = read_param(s, &s->params[i], yaml_document_get_node(&s->doc, q->key),
                            yaml_document_get_node(&s->doc, q->value), err);
        if (rc)
            return rc;
        s->n_points *= s->params[i].n_values;
        if (s->n_points > MPB_SWEEP_MAX_POINTS)
            return mpb_sweep_fail_at(s, params, err, "the sweep has more than %d points",
                                     MPB_SWEEP_MAX_POINTS);
    }
    return check_names(s, params, err);
}

static int read_sweep(mpb_sweep *s, mpb_error *err)
{
    yaml_node_t *root = yaml_document_get_root_node(&s->doc);
    yaml_node_t *sweep = mpb_sweep_lookup(&s->doc, root, "sweep");
    if (sweep == NULL)
        return mpb_fail(err, MPB_EINVAL, "config %s has no sweep: section (docs/SWEEP.md)",
                        s->path);
    if (sweep->type != YAML_MAPPING_NODE)
        return mpb_sweep_fail_at(s, sweep, err,
                                 "sweep must be a mapping with parameters: "
                                 "and optionally output:");
    for (yaml_node_pair_t *q = sweep->data.mapping.pairs.start;
         q < sweep->data.mapping.pairs.top; q++) {
        yaml_node_t *k = yaml_document_get_node(&s->doc, q->key);
        if (strcmp(text_of(k), "parameters") && strcmp(text_of(k), "output"))
            return mpb_sweep_fail_at(s, k, err,
                                     "unknown key '%s' in sweep (known: "
                                     "parameters, output)",
                                     text_of(k));
    }
    int rc = read_params(s, mpb_sweep_lookup(&s->doc, sweep, "parameters"), err);
    if (rc)
        return rc;
    yaml_node_t *out = mpb_sweep_lookup(&s->doc, sweep, "output");
    if (out == NULL)
        return default_template(s, err);
    if (out->type != YAML_SCALAR_NODE || !*text_of(out))
        return mpb_sweep_fail_at(s, out, err,
                                 "sweep output must be a file name template "
                                 "such as mi-{lambda}.h5");
    s->template = strdup(text_of(out));
    return s->template ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory");
}

static int load(mpb_sweep *s, const char *yaml, size_t len, mpb_error *err)
{
    if (mpb_yaml_check_limits(yaml, len, s->path, err) != MPB_OK)
        return err->code;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return mpb_fail(err, MPB_ENOMEM, "cannot set up the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    int rc = MPB_OK;
    if (!yaml_parser_load(&parser, &s->doc)) {
        memset(&s->doc, 0, sizeof s->doc);
        rc = mpb_fail(err, MPB_EINVAL, "YAML syntax error in %s:%d:%d: %s", s->path,
                      (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
                      parser.problem ? parser.problem : "unreadable input");
    } else if (yaml_document_get_root_node(&s->doc) == NULL ||
               yaml_document_get_root_node(&s->doc)->type != YAML_MAPPING_NODE) {
        rc = mpb_fail(err, MPB_EINVAL, "config %s is not a mapping of keys", s->path);
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* Every point's name, checked now so that a bad template stops the sweep
 * before anything is read. */
static int check_output_names(const mpb_sweep *s, mpb_error *err)
{
    char **names = calloc(s->n_points, sizeof *names);
    if (names == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = MPB_OK;
    for (size_t p = 0; p < s->n_points && rc == MPB_OK; p++)
        rc = mpb_sweep_output_name(s, p, &names[p], err);
    for (size_t p = 0; p < s->n_points && rc == MPB_OK; p++)
        for (size_t q = 0; q < p && rc == MPB_OK; q++)
            if (strcmp(names[p], names[q]) == 0)
                rc = mpb_fail(err, MPB_EINVAL,
                              "sweep output template '%s' in %s names points "
                              "%zu and %zu both '%s'; put every swept field in it",
                              s->template, s->path, q, p, names[p]);
    for (size_t p = 0; p < s->n_points; p++)
        free(names[p]);
    free(names);
    return rc;
}

int mpb_sweep_parse(const char *yaml, size_t len, const char *config_path, mpb_sweep **out,
                    mpb_error *err)
{
    *out = NULL;
    mpb_sweep *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(config_path)) == NULL) {
        free(s);
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    int rc = load(s, yaml, len, err);
    if (rc == MPB_OK)
        rc = read_sweep(s, err);
    if (rc == MPB_OK)
        rc = check_output_names(s, err);
    if (rc != MPB_OK) {
        mpb_sweep_free(s);
        return rc;
    }
    *out = s;
    return MPB_OK;
}

void mpb_sweep_free(mpb_sweep *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_params; i++) {
        mpb_sweep_param *p = &s->params[i];
        for (size_t v = 0; v < p->n_values; v++)
            free(p->texts[v]);
        free(p->texts);
        free(p->values);
        free(p->key);
        free(p->name);
        free(p->param);
        free(p->filter);
    }
    free(s->params);
    free(s->template);
    free(s->path);
    yaml_document_delete(&s->doc);
    free(s);
}
