/* Finding the score in what an evaluation command printed. */
#include "mpb_eval_internal.h"

#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole text must be one number (surrounding spaces allowed). */
static bool parse_number(const char *text, size_t len, double *out)
{
    char buf[128];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (end == buf || *end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static json_t *load_json(const char *output)
{
    json_t *root = json_loads(output, JSON_DECODE_ANY, NULL);
    if (root)
        return root;
    /* Logs first, the JSON on the last line that starts with '{'. */
    const char *last = NULL;
    for (const char *line = output; *line;) {
        const char *start = line + strspn(line, " \t");
        if (*start == '{')
            last = start;
        const char *nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    if (last == NULL)
        return NULL;
    size_t len = strcspn(last, "\n");
    return json_loadb(last, len, 0, NULL);
}

static bool score_json(const char *output, const char *key, double *score, char *why, size_t n)
{
    json_t *root = load_json(output);
    if (root == NULL) {
        snprintf(why, n, "the output holds no JSON object");
        return false;
    }
    json_t *v = root;
    char *path = strdup(key);
    for (char *save = NULL, *part = path ? strtok_r(path, ".", &save) : NULL; part && v;
         part = strtok_r(NULL, ".", &save))
        v = json_object_get(v, part);
    bool ok = v && json_is_number(v);
    if (ok)
        *score = json_number_value(v);
    else
        snprintf(why, n, "the JSON output has no number at key '%s'", key);
    free(path);
    json_decref(root);
    return ok;
}

/* Last match of re in text: the span of group 1 if any, else the match. */
static bool last_match(const regex_t *re, const char *text, const char **start, size_t *len)
{
    regmatch_t m[2];
    bool found = false;
    const char *at = text;
    while (*at && regexec(re, at, 2, m, at == text ? 0 : REG_NOTBOL) == 0) {
        int g = re->re_nsub >= 1 && m[1].rm_so >= 0 ? 1 : 0;
        *start = at + m[g].rm_so;
        *len = (size_t)(m[g].rm_eo - m[g].rm_so);
        found = true;
        at += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
    }
    return found;
}

static bool score_regex(const char *output, const char *pattern, bool user, double *score,
                        char *why, size_t n)
{
    regex_t re;
    int rc = regcomp(&re, pattern, REG_EXTENDED);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &re, msg, sizeof msg);
        snprintf(why, n, "--regex '%s' is not a POSIX extended regex: %s", pattern, msg);
        return false;
    }
    const char *start = NULL;
    size_t len = 0;
    bool ok = last_match(&re, output, &start, &len) && parse_number(start, len, score);
    regfree(&re);
    if (!ok)
        snprintf(why, n,
                 user ? "no match of --regex '%s' that is a number"
                      : "the output holds no number%.0s",
                 pattern);
    return ok;
}

bool mpb_eval_score(const char *output, const char *json_key, const char *regex, double *score,
                    char *why, size_t why_len)
{
    if (json_key)
        return score_json(output, json_key, score, why, why_len);
    if (regex)
        return score_regex(output, regex, true, score, why, why_len);
    static const char number[] = "[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?";
    char pattern[sizeof number + 4];
    snprintf(pattern, sizeof pattern, "(%s)", number);
    return score_regex(output, pattern, false, score, why, why_len);
}

struct numbers {
    mpb_eval_number *v;
    size_t n, cap;
    bool nomem;
};

static void add_number(struct numbers *acc, const char *name, double value)
{
    if (acc->n == acc->cap) {
        size_t cap = acc->cap ? 2 * acc->cap : 16;
        mpb_eval_number *bigger = realloc(acc->v, cap * sizeof *bigger);
        if (bigger == NULL) {
            acc->nomem = true;
            return;
        }
        acc->v = bigger;
        acc->cap = cap;
    }
    mpb_eval_number *e = &acc->v[acc->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    /* A metric name is a folder name: no '/', no leading '.'. */
    for (char *c = e->name; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", *c) ||
            (c == e->name && *c == '.'))
            *c = '_';
    e->value = value;
}

static void walk(const json_t *v, char *prefix, size_t len, struct numbers *acc)
{
    size_t used = strlen(prefix);
    if (json_is_number(v)) {
        if (used > 0 && isfinite(json_number_value(v)))
            add_number(acc, prefix, json_number_value(v));
        return;
    }
    const char *key;
    json_t *child;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child)
        {
            snprintf(prefix + used, len - used, "%s%s", used ? "." : "", key);
            walk(child, prefix, len, acc);
            prefix[used] = '\0';
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_array_foreach(v, i, child)
        {
            snprintf(prefix + used, len - used, "%s%zu", used ? "." : "", i);
            walk(child, prefix, len, acc);
            prefix[used] = '\0';
        }
    }
}

bool mpb_eval_json_numbers(const char *output, mpb_eval_number **numbers, size_t *n, char *why,
                           size_t why_len)
{
    struct numbers acc = {0};
    json_t *root = load_json(output);
    char prefix[256] = "";
    if (root)
        walk(root, prefix, sizeof prefix, &acc);
    json_decref(root);
    *numbers = acc.v;
    *n = acc.n;
    if (root == NULL)
        snprintf(why, why_len, "the output holds no JSON object");
    else if (acc.nomem)
        snprintf(why, why_len, "out of memory");
    else if (acc.n == 0)
        snprintf(why, why_len, "the JSON output holds no number");
    return root && !acc.nomem && acc.n > 0;
}
