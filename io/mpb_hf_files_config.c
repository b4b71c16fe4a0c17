/* config.json's dtype, edited with jansson so an exported folder says what
 * its tensors hold. */
#include "mpb_hf_files.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_NAME "config.json"

/* jansson prints every real with one precision: pick the smallest that
 * still reads back each real of the document exactly, so 1e-06 stays
 * 1e-06 instead of 9.9999999999999995e-07. */
static int real_precision(const json_t *v)
{
    int need = 1;
    if (json_is_real(v)) {
        double x = json_real_value(v);
        char buf[64];
        for (need = 1; need < 17; need++) {
            snprintf(buf, sizeof buf, "%.*g", need, x);
            if (strtod(buf, NULL) == x)
                break;
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            int p = real_precision(item);
            need = p > need ? p : need;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            int p = real_precision(item);
            need = p > need ? p : need;
        }
    }
    return need;
}

/* True when root[key] had to change. */
static bool set_string(json_t *root, const char *key, const char *value, bool only_if_present)
{
    json_t *v = json_object_get(root, key);
    if (v == NULL && only_if_present)
        return false;
    if (json_is_string(v) && !strcmp(json_string_value(v), value))
        return false;
    json_object_set_new(root, key, json_string(value));
    return true;
}

int mpb_hf_file_replace_json(mpb_hf_file *f, const json_t *root, mpb_error *err)
{
    size_t flags =
        JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(real_precision(root));
    char *text = json_dumps(root, flags);
    size_t len = text ? strlen(text) : 0;
    char *with_newline = text ? realloc(text, len + 2) : NULL;
    if (with_newline == NULL) {
        free(text);
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", f->name);
    }
    /* transformers ends the file with a newline (save_pretrained). */
    memcpy(with_newline + len, "\n", 2);
    free(f->data);
    f->data = (unsigned char *)with_newline;
    f->len = len + 1;
    return MPB_OK;
}

int mpb_hf_files_set_torch_dtype(mpb_hf_files *set, mpb_dtype dt, mpb_error *err)
{
    mpb_hf_file *f = (mpb_hf_file *)mpb_hf_files_find(set, CONFIG_NAME);
    if (f == NULL)
        return MPB_OK;
    const char *want = mpb_dtype_torch_name(dt);
    if (want == NULL)
        return mpb_fail(err, MPB_EINTERNAL, "%s: dtype %s has no torch name", CONFIG_NAME,
                        mpb_dtype_name(dt));
    json_error_t je;
    json_t *root = json_loadb((const char *)f->data, f->len, 0, &je);
    if (root == NULL)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: not valid JSON (%s, line %d), cannot set torch_dtype", CONFIG_NAME,
                        je.text, je.line);
    int rc = MPB_OK;
    if (!json_is_object(root))
        rc = mpb_fail(err, MPB_EINVAL, "%s: not a JSON object, cannot set torch_dtype",
                      CONFIG_NAME);
    else {
        bool changed = set_string(root, "torch_dtype", want, false);
        changed |= set_string(root, "dtype", want, true);
        if (changed)
            rc = mpb_hf_file_replace_json(f, root, err);
    }
    json_decref(root);
    return rc;
}

/* layer_types (newer transformers: one entry per layer) resized to n when
 * every entry is the same; true when it changed. */
static bool resize_layer_types(json_t *root, int n)
{
    json_t *types = json_object_get(root, "layer_types");
    size_t have = json_array_size(types);
    if (have == 0 || have == (size_t)n)
        return false;
    json_t *first = json_array_get(types, 0);
    for (size_t i = 1; i < have; i++)
        if (!json_equal(first, json_array_get(types, i)))
            return false;
    json_t *resized = json_array();
    for (int i = 0; i < n; i++)
        json_array_append(resized, first);
    json_object_set_new(root, "layer_types", resized);
    return true;
}

/* Integer keys of obj set to v; true when one changed. */
static bool set_ints(json_t *obj, const char *const *keys, json_int_t v)
{
    bool changed = false;
    for (size_t k = 0; keys[k] != NULL; k++) {
        json_t *old = json_object_get(obj, keys[k]);
        if (json_is_integer(old) && json_integer_value(old) != v) {
            json_object_set_new(obj, keys[k], json_integer(v));
            changed = true;
        }
    }
    return changed;
}

/* config.json loaded, edited by edit (true: it changed something) and
 * stored back only then; what says what for messages. */
static int edit_config(mpb_hf_files *set, const char *what,
                       bool (*edit)(json_t *, const char *, int64_t), const char *key,
                       int64_t value, mpb_error *err)
{
    mpb_hf_file *f = (mpb_hf_file *)mpb_hf_files_find(set, CONFIG_NAME);
    if (f == NULL)
        return MPB_OK;
    json_error_t je;
    json_t *root = json_loadb((const char *)f->data, f->len, 0, &je);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return mpb_fail(err, MPB_EINVAL,
                        "%s: not a valid JSON object, cannot set its %s to %lld", CONFIG_NAME,
                        what, (long long)value);
    }
    int rc = edit(root, key, value) ? mpb_hf_file_replace_json(f, root, err) : MPB_OK;
    json_decref(root);
    return rc;
}

static bool edit_layers(json_t *root, const char *key, int64_t n)
{
    (void)key;
    static const char *const keys[] = {"num_hidden_layers", "n_layer", "num_layers", NULL};
    bool changed = set_ints(root, keys, (json_int_t)n);
    return resize_layer_types(root, (int)n) || changed;
}

int mpb_hf_files_set_layers(mpb_hf_files *set, int n_layers, mpb_error *err)
{
    return edit_config(set, "layer count", edit_layers, NULL, n_layers, err);
}

/* The integer at the dotted key, in the object its segments lead to. */
static bool edit_dotted(json_t *root, const char *key, int64_t v)
{
    char path[256];
    snprintf(path, sizeof path, "%s", key);
    json_t *obj = root;
    char *seg = path, *dot;
    while (obj != NULL && (dot = strchr(seg, '.')) != NULL) {
        *dot = '\0';
        obj = json_object_get(obj, seg);
        seg = dot + 1;
    }
    const char *keys[] = {seg, NULL};
    return json_is_object(obj) && set_ints(obj, keys, (json_int_t)v);
}

int mpb_hf_files_set_int_key(mpb_hf_files *set, const char *key, int64_t v, mpb_error *err)
{
    return edit_config(set, key, edit_dotted, key, v, err);
}

static bool edit_vocab(json_t *root, const char *key, int64_t n)
{
    (void)key;
    static const char *const keys[] = {"vocab_size", NULL};
    bool changed = set_ints(root, keys, (json_int_t)n);
    return set_ints(json_object_get(root, "text_config"), keys, (json_int_t)n) || changed;
}

int mpb_hf_files_set_vocab_size(mpb_hf_files *set, uint64_t n, mpb_error *err)
{
    return edit_config(set, "vocab_size", edit_vocab, NULL, (int64_t)n, err);
}
