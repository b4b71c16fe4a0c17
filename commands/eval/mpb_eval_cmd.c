/* The eval command line: split once into words, fields filled per point. */
#include "mpb_eval_internal.h"
#include "mpb_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wordexp.h>

/* A field's stand-in while the words are split: plain letters and digits,
 * which no quoting or expansion changes. */
#define MARK_OPEN "@@mpbfield"
#define MARK_CLOSE "@@"

struct markers {
    const char *const *fields;
    size_t n_fields;
    char mark[64];
};

/* A known field's marker, or NULL. */
static const char *marker(void *ctx, const char *name, size_t len)
{
    struct markers *m = ctx;
    for (size_t k = 0; k < m->n_fields; k++)
        if (strlen(m->fields[k]) == len && strncmp(m->fields[k], name, len) == 0) {
            snprintf(m->mark, sizeof m->mark, MARK_OPEN "%zu" MARK_CLOSE, k);
            return m->mark;
        }
    return NULL;
}

/* The template with each {field} as a marker; {{ and }} as single braces;
 * other braces (the shell's, awk's) are kept. */
static int mark_fields(const char *tmpl, const char *const fields[], size_t n_fields,
                       char **out, mpb_error *err)
{
    struct markers m = {.fields = fields, .n_fields = n_fields};
    mpb_template_problem at;
    switch (mpb_template_expand(tmpl, false, marker, &m, out, &at)) {
    case MPB_TEMPLATE_OK: return MPB_OK;
    case MPB_TEMPLATE_UNKNOWN_FIELD:
        return mpb_fail(err, MPB_EINVAL,
                        "--cmd: unknown field %.*s (fields: path, "
                        "name, point, dir, metric and the swept names; {{ }} for "
                        "braces)",
                        (int)at.len, tmpl + at.at);
    default: return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
}

static int split_words(const char *line, mpb_eval_cmd *c, mpb_error *err)
{
    wordexp_t we;
    int rc = wordexp(line, &we, WRDE_NOCMD);
    if (rc == WRDE_BADCHAR)
        return mpb_fail(err, MPB_EINVAL,
                        "--cmd has | & ; < > ( ) { } or a newline outside "
                        "quotes: quote it, or pass --shell to run a shell line");
    if (rc == WRDE_CMDSUB)
        return mpb_fail(err, MPB_EINVAL,
                        "--cmd: command substitution is not run without "
                        "--shell");
    if (rc == WRDE_SYNTAX)
        return mpb_fail(err, MPB_EINVAL, "--cmd: unbalanced quotes");
    if (rc != 0)
        return mpb_fail(err, MPB_EINVAL, "--cmd cannot be split into words (wordexp %d)", rc);
    c->words = calloc(we.we_wordc + 1, sizeof *c->words);
    bool ok = c->words != NULL;
    for (size_t i = 0; ok && i < we.we_wordc; i++, c->n_words = i)
        ok = (c->words[i] = strdup(we.we_wordv[i])) != NULL;
    wordfree(&we);
    if (!ok)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (c->n_words == 0)
        return mpb_fail(err, MPB_EINVAL, "--cmd is empty");
    return MPB_OK;
}

/* --shell: each field marker becomes a reference to positional parameter
 * k + 1: "${N}" outside quotes, ${N} inside double quotes (already one
 * word there).  Inside single quotes the shell would not expand it, so
 * such a template is refused. */
static int to_positional(const char *line, const char *tmpl, const char *const fields[],
                         mpb_eval_cmd *c, mpb_error *err)
{
    size_t used = 0, cap = strlen(line) + 64;
    char *s = malloc(cap);
    bool ok = s != NULL;
    if (ok)
        s[0] = '\0';
    char quote = 0; /* 0, '\'' or '"' */
    for (const char *w = line; ok && *w;) {
        size_t k;
        int n = 0;
        if (strncmp(w, MARK_OPEN, strlen(MARK_OPEN)) == 0 &&
            sscanf(w + strlen(MARK_OPEN), "%zu" MARK_CLOSE "%n", &k, &n) == 1 && n > 0 &&
            k < c->n_fields) {
            if (quote == '\'') {
                free(s);
                return mpb_fail(err, MPB_EINVAL,
                                "--cmd '%s': field {%s} is inside single "
                                "quotes, where the shell would not expand it; with --shell "
                                "every field reaches the shell as one quoted word, so leave "
                                "it unquoted",
                                tmpl, fields[k]);
            }
            char ref[32];
            snprintf(ref, sizeof ref, quote ? "${%zu}" : "\"${%zu}\"", k + 1);
            ok = mpb_text_append(&s, &used, &cap, ref, strlen(ref));
            w += strlen(MARK_OPEN) + (size_t)n;
            continue;
        }
        size_t len = 1;
        if (*w == '\\' && quote != '\'' && w[1] != '\0')
            len = 2; /* an escaped character changes no quoting */
        else if (*w == '\'' && quote != '"')
            quote = quote ? 0 : '\'';
        else if (*w == '"' && quote != '\'')
            quote = quote ? 0 : '"';
        ok = mpb_text_append(&s, &used, &cap, w, len);
        w += len;
    }
    if (!ok) {
        free(s);
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    c->line = s;
    return MPB_OK;
}

int mpb_eval_cmd_prepare(const char *tmpl, bool shell, const char *const fields[],
                         size_t n_fields, mpb_eval_cmd *c, mpb_error *err)
{
    memset(c, 0, sizeof *c);
    c->shell = shell;
    c->n_fields = n_fields;
    char *line = NULL;
    int rc = mark_fields(tmpl, fields, n_fields, &line, err);
    if (rc)
        return rc;
    if (shell)
        rc = to_positional(line, tmpl, fields, c, err);
    else
        rc = split_words(line, c, err);
    free(line);
    return rc;
}

static char *fill(const char *word, const char *const values[], size_t n_fields)
{
    size_t used = 0, cap = strlen(word) + 64;
    char *s = malloc(cap);
    bool ok = s != NULL;
    if (ok)
        s[0] = '\0';
    for (const char *w = word; ok && *w;) {
        size_t k;
        int n = 0;
        if (strncmp(w, MARK_OPEN, strlen(MARK_OPEN)) == 0 &&
            sscanf(w + strlen(MARK_OPEN), "%zu" MARK_CLOSE "%n", &k, &n) == 1 && n > 0 &&
            k < n_fields) {
            ok = mpb_text_append(&s, &used, &cap, values[k], strlen(values[k]));
            w += strlen(MARK_OPEN) + (size_t)n;
        } else {
            ok = mpb_text_append(&s, &used, &cap, w, 1);
            w++;
        }
    }
    if (!ok) {
        free(s);
        return NULL;
    }
    return s;
}

int mpb_eval_cmd_argv(const mpb_eval_cmd *c, const char *const values[], char ***argv,
                      mpb_error *err)
{
    /* --shell: sh -c LINE NAME VALUE... -- the values are $1, $2, ... and
     * never part of the text the shell parses. */
    size_t n = c->shell ? 4 + c->n_fields : c->n_words;
    char **v = calloc(n + 1, sizeof *v);
    bool ok = v != NULL;
    if (ok && c->shell) {
        ok = (v[0] = strdup("/bin/sh")) && (v[1] = strdup("-c")) && (v[2] = strdup(c->line)) &&
             (v[3] = strdup("mpiblend-eval"));
        for (size_t k = 0; ok && k < c->n_fields; k++)
            ok = (v[4 + k] = strdup(values[k])) != NULL;
    }
    for (size_t i = 0; ok && !c->shell && i < n; i++)
        ok = (v[i] = fill(c->words[i], values, c->n_fields)) != NULL;
    if (!ok) {
        mpb_eval_argv_free(v);
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    *argv = v;
    return MPB_OK;
}

void mpb_eval_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

void mpb_eval_cmd_free(mpb_eval_cmd *c)
{
    for (size_t i = 0; i < c->n_words; i++)
        free(c->words[i]);
    free(c->words);
    free(c->line);
    memset(c, 0, sizeof *c);
}
