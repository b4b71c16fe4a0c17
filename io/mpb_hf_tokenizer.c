/* Tokenizer files and chat templates for a merge's output; see
 * mpb_hf_tokenizer.h. */
#include "mpb_hf_tokenizer.h"

#include "mpb_chat_templates.h"

#include "mpb_store.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define TOKENIZER_CONFIG "tokenizer_config.json"

static const char *const tokenizer_files[] = {
    "tokenizer.json",      TOKENIZER_CONFIG,     "special_tokens_map.json",
    "tokenizer.model",     "added_tokens.json",  "vocab.json",
    "merges.txt",          "vocab.txt",          "spiece.model",
    "chat_template.jinja", "chat_template.json", NULL};

bool mpb_hf_is_tokenizer_file(const char *name)
{
    for (size_t i = 0; tokenizer_files[i] != NULL; i++)
        if (strcmp(name, tokenizer_files[i]) == 0)
            return true;
    return false;
}

/* Removes the files for which drop(name) holds. */
static void remove_files(mpb_hf_files *set, bool (*drop)(const char *name))
{
    size_t kept = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (drop(set->files[i].name)) {
            free(set->files[i].name);
            free(set->files[i].data);
        } else {
            set->files[kept++] = set->files[i];
        }
    }
    set->n = kept;
}

int mpb_hf_files_take_tokenizer(mpb_hf_files *out, const mpb_hf_files *from,
                                const char *from_name, mpb_error *err)
{
    size_t found = 0;
    for (size_t i = 0; i < from->n; i++)
        found += mpb_hf_is_tokenizer_file(from->files[i].name);
    if (found == 0)
        return mpb_fail(err, MPB_EINVAL,
                        "tokenizer source '%s' has no tokenizer files (tokenizer.json, "
                        "tokenizer.model, tokenizer_config.json, ...)",
                        from_name);
    remove_files(out, mpb_hf_is_tokenizer_file);
    int rc = MPB_OK;
    for (size_t i = 0; i < from->n && rc == MPB_OK; i++) {
        const mpb_hf_file *f = &from->files[i];
        if (mpb_hf_is_tokenizer_file(f->name))
            rc = mpb_hf_files_add(out, f->name, f->data, f->len, err);
    }
    return rc;
}

static json_t *load_json(const mpb_hf_file *f, const char *owner, mpb_error *err)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)f->data, f->len, 0, &je);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        mpb_fail(err, MPB_EINVAL, "%s of '%s' is not a JSON object%s%s", f->name, owner,
                 root ? "" : ": ", root ? "" : je.text);
        return NULL;
    }
    return root;
}

/* {"vocab": model.vocab, "added": {content: id, ...}} of a tokenizer.json. */
static json_t *vocabulary(const mpb_hf_file *f, const char *owner, mpb_error *err)
{
    json_t *root = load_json(f, owner, err);
    if (root == NULL)
        return NULL;
    json_t *vocab = json_object_get(json_object_get(root, "model"), "vocab");
    json_t *added = json_object();
    size_t i;
    json_t *tok;
    json_array_foreach(json_object_get(root, "added_tokens"), i, tok)
    {
        const char *content = json_string_value(json_object_get(tok, "content"));
        if (content != NULL)
            json_object_set(added, content, json_object_get(tok, "id"));
    }
    json_t *out = json_pack("{s:O?, s:o}", "vocab", vocab, "added", added);
    json_decref(root);
    if (out == NULL)
        mpb_fail(err, MPB_ENOMEM, "out of memory reading the vocabulary of '%s'", owner);
    return out;
}

static int vocab_differs(const char *chosen_name, const char *other_name, const char *file,
                         mpb_error *err)
{
    return mpb_fail(
        err, MPB_EINVAL,
        "the vocabularies of tokenizer source '%s' and input '%s' differ (%s): "
        "embedding rows are built for another vocabulary only in models: configs "
        "(not slices:) whose inputs have tokenizer.json files and embedding tensors "
        "(embed_tokens, lm_head, ...)",
        chosen_name, other_name, file);
}

int mpb_hf_tokenizer_check_vocab(const mpb_hf_files *chosen, const char *chosen_name,
                                 const mpb_hf_files *other, const char *other_name,
                                 mpb_error *err)
{
    const mpb_hf_file *a = mpb_hf_files_find(chosen, "tokenizer.json");
    const mpb_hf_file *b = mpb_hf_files_find(other, "tokenizer.json");
    if (a != NULL && b != NULL) {
        json_t *va = vocabulary(a, chosen_name, err);
        json_t *vb = va ? vocabulary(b, other_name, err) : NULL;
        int rc = err->code;
        if (rc == MPB_OK && !json_equal(va, vb))
            rc = vocab_differs(chosen_name, other_name, "tokenizer.json", err);
        json_decref(va);
        json_decref(vb);
        return rc;
    }
    a = mpb_hf_files_find(chosen, "tokenizer.model");
    b = mpb_hf_files_find(other, "tokenizer.model");
    if (a != NULL && b != NULL && (a->len != b->len || memcmp(a->data, b->data, a->len) != 0))
        return vocab_differs(chosen_name, other_name, "tokenizer.model", err);
    return MPB_OK;
}

static char *trimmed_copy(const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char)*s))
        s++, len--;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    return len > 0 ? strndup(s, len) : NULL;
}

char *mpb_hf_chat_template_of(const mpb_hf_files *set)
{
    const mpb_hf_file *jinja = mpb_hf_files_find(set, "chat_template.jinja");
    if (jinja != NULL)
        return trimmed_copy((const char *)jinja->data, jinja->len);
    const mpb_hf_file *cfg = mpb_hf_files_find(set, TOKENIZER_CONFIG);
    mpb_error ignored = {0};
    json_t *root = cfg ? load_json(cfg, "", &ignored) : NULL;
    json_t *t = json_object_get(root, "chat_template");
    size_t i;
    json_t *entry;
    json_array_foreach(t, i, entry)
    { /* [{"name": "default", "template": ...}, ...] */
        const char *name = json_string_value(json_object_get(entry, "name"));
        if (name != NULL && strcmp(name, "default") == 0)
            t = json_object_get(entry, "template");
    }
    char *out =
        json_is_string(t) ? trimmed_copy(json_string_value(t), json_string_length(t)) : NULL;
    json_decref(root);
    return out;
}

static bool is_template_file(const char *name)
{
    return strcmp(name, "chat_template.jinja") == 0 || strcmp(name, "chat_template.json") == 0;
}

int mpb_hf_files_set_chat_template(mpb_hf_files *set, const char *tmpl, mpb_error *err)
{
    mpb_hf_file *f = (mpb_hf_file *)mpb_hf_files_find(set, TOKENIZER_CONFIG);
    if (f == NULL)
        return mpb_fail(err, MPB_EINVAL,
                        "chat_template needs the output's %s, and no input carries one (give "
                        "tokenizer_source: a model with a tokenizer)",
                        TOKENIZER_CONFIG);
    json_t *root = load_json(f, "the output", err);
    if (root == NULL)
        return err->code;
    int rc = json_object_set_new(root, "chat_template", json_string(tmpl)) == 0
                 ? mpb_hf_file_replace_json(f, root, err)
                 : mpb_fail(err, MPB_EINVAL, "chat_template is not valid UTF-8");
    json_decref(root);
    if (rc == MPB_OK)
        remove_files(set, is_template_file);
    return rc;
}

/* The template most of the inputs' file sets share; NULL when none has one. */
static char *plurality_template(const mpb_hf_files *sets, size_t n)
{
    char **t = calloc(n ? n : 1, sizeof *t);
    if (t == NULL)
        return NULL;
    size_t best = n, best_count = 0;
    for (size_t i = 0; i < n; i++)
        t[i] = mpb_hf_chat_template_of(&sets[i]);
    for (size_t i = 0; i < n; i++) {
        size_t count = 0;
        for (size_t j = 0; j < n && t[i]; j++)
            count += t[j] != NULL && strcmp(t[i], t[j]) == 0;
        if (count > best_count)
            best = i, best_count = count;
    }
    char *out = best < n ? t[best] : NULL;
    for (size_t i = 0; i < n; i++)
        if (i != best)
            free(t[i]);
    free(t);
    return out;
}

static int read_all(const char *const *inputs, size_t n, mpb_hf_files *sets, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++)
        rc = mpb_store_for_path(inputs[i])->read_files(inputs[i], &sets[i], err);
    return rc;
}

static int apply_template(mpb_hf_files *out, const mpb_hf_files *sets, size_t n,
                          const char *chat_template, mpb_error *err)
{
    if (strcmp(chat_template, "auto") != 0) {
        const char *named = mpb_chat_template_named(chat_template);
        return mpb_hf_files_set_chat_template(out, named ? named : chat_template, err);
    }
    char *tmpl = plurality_template(sets, n);
    int rc = tmpl ? mpb_hf_files_set_chat_template(out, tmpl, err) : MPB_OK;
    free(tmpl);
    return rc;
}

int mpb_hf_files_apply_tokenizer(mpb_hf_files *out, const char *const *inputs, size_t n,
                                 const char *tokenizer_from,
                                 const mpb_hf_files *tokenizer_files, bool mapped,
                                 const char *chat_template, mpb_error *err)
{
    if (tokenizer_files != NULL) {
        int rc = mpb_hf_files_take_tokenizer(out, tokenizer_files, "the union", err);
        tokenizer_from = NULL;
        if (rc != MPB_OK)
            return rc;
    }
    if (tokenizer_from == NULL && chat_template == NULL)
        return MPB_OK;
    mpb_hf_files *sets = calloc(n ? n : 1, sizeof *sets);
    mpb_hf_files chosen = {0};
    if (sets == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = read_all(inputs, n, sets, err);
    if (rc == MPB_OK && tokenizer_from != NULL) {
        rc = mpb_store_for_path(tokenizer_from)->read_files(tokenizer_from, &chosen, err);
        for (size_t i = 0; i < n && rc == MPB_OK && !mapped; i++)
            rc =
                mpb_hf_tokenizer_check_vocab(&chosen, tokenizer_from, &sets[i], inputs[i], err);
        if (rc == MPB_OK)
            rc = mpb_hf_files_take_tokenizer(out, &chosen, tokenizer_from, err);
    }
    if (rc == MPB_OK && chat_template != NULL)
        rc = apply_template(out, sets, n, chat_template, err);
    mpb_hf_files_free(&chosen);
    for (size_t i = 0; i < n; i++)
        mpb_hf_files_free(&sets[i]);
    free(sets);
    return rc;
}
