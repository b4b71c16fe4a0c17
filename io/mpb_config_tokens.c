/* `tokenizer: {tokens: ...}`: where chosen tokens' embedding rows come from,
 * as mergekit's TokenEmbeddingConfig reads them (docs/CONFIG.md). */
#include "mpb_config_internal.h"

#include <stdlib.h>
#include <string.h>

/* rule: the rule's name for messages; role: "source" or "model". */
static int input_named(mpb_yaml *y, yaml_node_t *node, const char *dir, const mpb_config *c,
                       const char *rule, const char *role, int *input)
{
    const char *text = mpb_yaml_text(node);
    if (node->type != YAML_SCALAR_NODE || *text == '\0')
        return mpb_yaml_fail(y, node, NULL, "%s: %s must be a model of the merge", rule, role);
    char *path = mpb_config_join_path(dir, text);
    if (path == NULL)
        return mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    *input = -1;
    for (size_t i = 0; i < c->n_inputs && *input < 0; i++)
        if (strcmp(c->inputs[i], path) == 0)
            *input = (int)i;
    free(path);
    if (*input < 0)
        return mpb_yaml_fail(y, node, NULL,
                             "%s: %s '%s' is not one of the models or the base_model", rule,
                             role, text);
    return MPB_OK;
}

/* source: {kind: zero} or {kind: model_token, model: M, token: T | token_id: N}. */
static int parse_kind(mpb_yaml *y, yaml_node_t *node, const char *dir, const mpb_config *c,
                      const char *what, mpb_token_rule *r)
{
    int rc = mpb_yaml_check_mapping(y, node, what);
    yaml_node_t *kind = NULL, *model = NULL, *token = NULL, *token_id = NULL;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         rc == MPB_OK && p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *key = mpb_yaml_node(y, p->key), *value = mpb_yaml_node(y, p->value);
        const char *name = mpb_yaml_text(key);
        if (strcmp(name, "kind") == 0)
            kind = value;
        else if (strcmp(name, "model") == 0)
            model = value;
        else if (strcmp(name, "token") == 0)
            token = value;
        else if (strcmp(name, "token_id") == 0)
            token_id = value;
        else
            rc = mpb_yaml_fail(y, key, "a source has kind, model, token, token_id",
                               "unknown key '%s' under %s", name, what);
    }
    if (rc != MPB_OK)
        return rc;
    const char *k = kind ? mpb_yaml_text(kind) : "";
    if (strcmp(k, "zero") == 0) {
        r->kind = MPB_TOKEN_ZERO;
        if (model || token || token_id)
            return mpb_yaml_fail(y, node, NULL, "%s: kind zero takes no model or token", what);
        return MPB_OK;
    }
    if (strcmp(k, "model_token") != 0)
        return mpb_yaml_fail(y, kind ? kind : node, NULL,
                             "%s: kind must be zero or model_token", what);
    r->kind = MPB_TOKEN_MODEL_TOKEN;
    if (model == NULL)
        return mpb_yaml_fail(y, node, NULL, "%s: model_token needs model", what);
    if ((token == NULL) == (token_id == NULL))
        return mpb_yaml_fail(y, node, NULL, "%s: model_token needs token or token_id, not both",
                             what);
    rc = input_named(y, model, dir, c, what, "model", &r->input);
    double id;
    if (rc == MPB_OK && token_id != NULL) {
        if (!mpb_yaml_number(token_id, &id) || id < 0 || id != (double)(int64_t)id)
            return mpb_yaml_fail(y, token_id, NULL, "%s: token_id must be a row number", what);
        r->src_id = (int64_t)id;
    }
    if (rc == MPB_OK && token != NULL && (r->src_token = strdup(mpb_yaml_text(token))) == NULL)
        rc = mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    return rc;
}

static int parse_rule(mpb_yaml *y, yaml_node_t *node, const char *dir, const mpb_config *c,
                      const char *what, mpb_token_rule *r)
{
    int rc = mpb_yaml_check_mapping(y, node, what);
    yaml_node_t *source = NULL;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         rc == MPB_OK && p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *key = mpb_yaml_node(y, p->key), *value = mpb_yaml_node(y, p->value);
        const char *name = mpb_yaml_text(key);
        if (strcmp(name, "source") == 0)
            source = value;
        else if (strcmp(name, "force") == 0) {
            if (!mpb_yaml_bool(value, &r->force))
                rc = mpb_yaml_fail(y, value, NULL, "%s.force must be true or false", what);
        } else
            rc = mpb_yaml_fail(y, key, "a token has source, force", "unknown key '%s' under %s",
                               name, what);
    }
    if (rc != MPB_OK)
        return rc;
    if (source == NULL)
        return mpb_yaml_fail(y, node, NULL, "%s needs a source", what);
    if (source->type == YAML_MAPPING_NODE)
        return parse_kind(y, source, dir, c, what, r);
    r->kind = MPB_TOKEN_FROM_MODEL;
    return input_named(y, source, dir, c, what, "source", &r->input);
}

int mpb_config_parse_tokens(mpb_yaml *y, yaml_node_t *node, const char *dir, mpb_config *c)
{
    int rc = mpb_yaml_check_mapping(y, node, "tokenizer.tokens");
    if (rc != MPB_OK)
        return rc;
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    c->token_rules = calloc(n ? n : 1, sizeof *c->token_rules);
    if (c->token_rules == NULL)
        return mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         rc == MPB_OK && p < node->data.mapping.pairs.top; p++) {
        const char *tok = mpb_yaml_text(mpb_yaml_node(y, p->key));
        mpb_token_rule *r = &c->token_rules[c->n_token_rules++];
        *r = (mpb_token_rule){.input = -1, .src_id = -1, .token = strdup(tok)};
        char what[160];
        snprintf(what, sizeof what, "tokenizer.tokens '%.120s'", tok);
        rc = r->token ? parse_rule(y, mpb_yaml_node(y, p->value), dir, c, what, r)
                      : mpb_fail(y->err, MPB_ENOMEM, "out of memory");
    }
    return rc;
}

void mpb_config_tokens_free(mpb_config *c)
{
    for (size_t i = 0; i < c->n_token_rules; i++) {
        free(c->token_rules[i].token);
        free(c->token_rules[i].src_token);
    }
    free(c->token_rules);
}

size_t mpb_config_token_rules(const mpb_config *c, const mpb_token_rule **rules)
{
    *rules = c->token_rules;
    return c->n_token_rules;
}
