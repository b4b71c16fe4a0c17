/* libyaml document loading and node helpers for the config parser. */
#include "mpb_config_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libyaml counts lines and columns from 0; editors count from 1. */
#define LINE(mark) ((int)(mark).line + 1)
#define COLUMN(mark) ((int)(mark).column + 1)

int mpb_yaml_check_limits(const char *text, size_t len, const char *path, mpb_error *err)
{
    if (len > MPB_YAML_MAX_BYTES)
        return mpb_fail(err, MPB_EINVAL,
                        "config %s is %zu bytes; a config may hold at most "
                        "%d MiB",
                        path, len, MPB_YAML_MAX_BYTES >> 20);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return mpb_fail(err, MPB_ENOMEM, "cannot set up the YAML parser for %s", path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    /* Events stream as they are scanned, so the walk stops at the first
     * level too deep: libyaml's time grows faster than the depth. */
    int depth = 0, rc = MPB_OK;
    for (bool done = false; !done && rc == MPB_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break; /* the load reports syntax errors with their place */
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
            if (++depth > MPB_YAML_MAX_DEPTH)
                rc = mpb_fail(err, MPB_EINVAL,
                              "config %s nests deeper than %d levels at "
                              "%d:%d; a config needs far fewer",
                              path, MPB_YAML_MAX_DEPTH, LINE(ev.start_mark),
                              COLUMN(ev.start_mark));
        } else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int mpb_yaml_load(mpb_yaml *y, const char *text, size_t len)
{
    if (mpb_yaml_check_limits(text, len, y->path, y->err) != MPB_OK)
        return y->err->code;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return mpb_fail(y->err, MPB_ENOMEM, "cannot set up the YAML parser for %s", y->path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = MPB_OK;
    if (!yaml_parser_load(&parser, &y->doc)) {
        memset(&y->doc, 0, sizeof y->doc);
        rc = mpb_fail(y->err, MPB_EINVAL, "YAML syntax error in %s:%d:%d: %s%s%s", y->path,
                      LINE(parser.problem_mark), COLUMN(parser.problem_mark),
                      parser.problem ? parser.problem : "unreadable input",
                      parser.context ? " " : "", parser.context ? parser.context : "");
    } else if (yaml_document_get_root_node(&y->doc) == NULL) {
        rc = mpb_fail(y->err, MPB_EINVAL, "config %s is empty", y->path);
    } else {
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            rc = mpb_fail(y->err, MPB_EINVAL, "YAML syntax error in %s:%d:%d: %s", y->path,
                          LINE(parser.problem_mark), COLUMN(parser.problem_mark),
                          parser.problem ? parser.problem : "unreadable input");
        } else {
            yaml_node_t *extra = yaml_document_get_root_node(&next);
            if (extra != NULL)
                rc = mpb_fail(y->err, MPB_EINVAL,
                              "a second YAML document starts in %s:%d:%d; a config is one "
                              "document (mergekit-multi's multi-stage configs, one merge "
                              "per document, are not supported: run each stage as its own "
                              "merge and name the earlier output as a model)",
                              y->path, LINE(next.start_mark), COLUMN(next.start_mark));
            yaml_document_delete(&next);
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

void mpb_yaml_free(mpb_yaml *y)
{
    yaml_document_delete(&y->doc);
}

yaml_node_t *mpb_yaml_node(mpb_yaml *y, int index)
{
    return yaml_document_get_node(&y->doc, index);
}

int mpb_yaml_fail(mpb_yaml *y, const yaml_node_t *node, const char *hint, const char *fmt, ...)
{
    char what[MPB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mpb_fail(y->err, MPB_EINVAL, "%s in %s:%d:%d%s%s", what, y->path,
                    LINE(node->start_mark), COLUMN(node->start_mark), hint ? "; " : "",
                    hint ? hint : "");
}

const char *mpb_yaml_text(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : "";
}

bool mpb_yaml_is_plain(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool text_in(const char *text, const char *const words[])
{
    for (size_t i = 0; words[i] != NULL; i++)
        if (strcmp(text, words[i]) == 0)
            return true;
    return false;
}

bool mpb_yaml_is_null(const yaml_node_t *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    return mpb_yaml_is_plain(node) && text_in(mpb_yaml_text(node), nulls);
}

/* strtod also reads C's hex floats ("0x1p-1"), which YAML (and so
 * mergekit) reads as strings; YAML 1.1's hex integers ("0x10") stay. */
static bool hex_float(const char *text)
{
    const char *t = text + (text[0] == '-' || text[0] == '+');
    if (t[0] != '0' || (t[1] != 'x' && t[1] != 'X'))
        return false;
    for (t += 2; *t; t++)
        if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f') || (*t >= 'A' && *t <= 'F')))
            return true;
    return false;
}

bool mpb_yaml_number(const yaml_node_t *node, double *out)
{
    if (!mpb_yaml_is_plain(node))
        return false;
    const char *text = mpb_yaml_text(node);
    if (hex_float(text))
        return false;
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool mpb_yaml_bool(const yaml_node_t *node, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON",  NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no",  "No",
                                     "NO",    "off",   "Off",   "OFF", NULL};
    if (!mpb_yaml_is_plain(node))
        return false;
    const char *text = mpb_yaml_text(node);
    if (text_in(text, yes))
        *out = true;
    else if (text_in(text, no))
        *out = false;
    else
        return false;
    return true;
}

int mpb_yaml_check_mapping(mpb_yaml *y, yaml_node_t *node, const char *what)
{
    if (node->type != YAML_MAPPING_NODE)
        return mpb_yaml_fail(y, node, NULL, "%s must be a mapping of keys to values", what);
    yaml_node_pair_t *start = node->data.mapping.pairs.start;
    for (yaml_node_pair_t *p = start; p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *key = mpb_yaml_node(y, p->key);
        if (key->type != YAML_SCALAR_NODE)
            return mpb_yaml_fail(y, key, NULL, "keys of %s must be plain words", what);
        for (yaml_node_pair_t *q = start; q < p; q++) {
            yaml_node_t *earlier = mpb_yaml_node(y, q->key);
            if (strcmp(mpb_yaml_text(earlier), mpb_yaml_text(key)) == 0)
                return mpb_yaml_fail(y, key, NULL,
                                     "duplicate key '%s' in %s (first at line %d)",
                                     mpb_yaml_text(key), what, LINE(earlier->start_mark));
        }
    }
    return MPB_OK;
}

int mpb_yaml_unknown_key(mpb_yaml *y, yaml_node_t *key, const char *const *keys,
                         const char *holds, const char *where)
{
    const char *name = mpb_yaml_text(key);
    const char *near = mpb_suggest(name, keys);
    char hint[128];
    if (near != NULL)
        snprintf(hint, sizeof hint, "did you mean '%s'?", near);
    else
        snprintf(hint, sizeof hint, "%s", holds);
    return mpb_yaml_fail(y, key, hint, "unknown key '%s' under %s", name, where);
}
