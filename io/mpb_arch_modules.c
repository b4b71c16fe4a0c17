/* The modular architectures' definitions (configs/architectures/NAME.json),
 * read with jansson from the texts compiled into the tool. */
#include "mpb_arch_modules.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mpb_arch_def_free(mpb_arch_def *a)
{
    if (a == NULL)
        return;
    for (size_t m = 0; m < a->n_modules; m++) {
        mpb_module_def *d = &a->modules[m];
        for (size_t i = 0; i < d->n_before; i++)
            free(d->before[i]);
        for (size_t i = 0; i < d->n_after; i++)
            free(d->after[i]);
        for (size_t i = 0; i < d->n_optional; i++)
            free(d->optional[i]);
        free(d->before);
        free(d->after);
        free(d->optional);
        free(d->name);
        free(d->layers);
        free(d->num_layers_key);
    }
    for (size_t i = 0; i < a->n_architectures; i++)
        free(a->architectures[i]);
    free(a->architectures);
    free(a->modules);
    free(a->model_type);
    free(a);
}

static char *joined(const char *prefix, const char *name)
{
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s%s", prefix, name);
    return s;
}

/* A list of strings, each under prefix; an absent key is an empty list. */
static bool read_names(json_t *obj, const char *key, const char *prefix, char ***out, size_t *n)
{
    json_t *list = json_object_get(obj, key);
    *out = NULL;
    *n = 0;
    if (list == NULL)
        return true;
    if (!json_is_array(list))
        return false;
    *out = calloc(json_array_size(list) + 1, sizeof **out);
    if (*out == NULL)
        return false;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *name = json_string_value(json_array_get(list, i));
        if (name == NULL || ((*out)[i] = joined(prefix, name)) == NULL)
            return false;
        *n = i + 1;
    }
    return true;
}

static bool read_module(const char *name, json_t *obj, mpb_module_def *d)
{
    const char *prefix = json_string_value(json_object_get(obj, "weight_prefix"));
    const char *layers = json_string_value(json_object_get(obj, "layers"));
    const char *key = json_string_value(json_object_get(obj, "num_layers_key"));
    prefix = prefix ? prefix : "";
    if (!json_is_object(obj) || (d->name = strdup(name)) == NULL ||
        (layers != NULL && (d->layers = joined(prefix, layers)) == NULL) ||
        (key != NULL && (d->num_layers_key = strdup(key)) == NULL))
        return false;
    return read_names(obj, "before_layers", prefix, &d->before, &d->n_before) &&
           read_names(obj, "after_layers", prefix, &d->after, &d->n_after) &&
           read_names(obj, "optional", prefix, &d->optional, &d->n_optional);
}

static bool read_arch(json_t *root, mpb_arch_def *a)
{
    json_t *modules = json_object_get(root, "modules");
    const char *model_type = json_string_value(json_object_get(root, "model_type"));
    if (!json_is_object(modules) || model_type == NULL ||
        (a->model_type = strdup(model_type)) == NULL ||
        !read_names(root, "architectures", "", &a->architectures, &a->n_architectures))
        return false;
    a->modules = calloc(json_object_size(modules) + 1, sizeof *a->modules);
    if (a->modules == NULL)
        return false;
    const char *name;
    json_t *obj;
    json_object_foreach(modules, name, obj)
    {
        if (!read_module(name, obj, &a->modules[a->n_modules++]))
            return false;
    }
    return true;
}

static bool matches(json_t *root, const char *architecture, const char *model_type)
{
    json_t *list = json_object_get(root, "architectures");
    for (size_t i = 0; architecture != NULL && i < json_array_size(list); i++) {
        const char *s = json_string_value(json_array_get(list, i));
        if (s != NULL && strcmp(s, architecture) == 0)
            return true;
    }
    const char *type = json_string_value(json_object_get(root, "model_type"));
    return architecture == NULL && model_type != NULL && type != NULL &&
           strcmp(type, model_type) == 0;
}

int mpb_arch_modules_find(const char *architecture, const char *model_type, mpb_arch_def **out,
                          mpb_error *err)
{
    *out = NULL;
    /* architectures[0] decides, as in mergekit; model_type only without it. */
    for (size_t f = 0; mpb_arch_modules_json[f] != NULL; f++) {
        json_error_t je;
        json_t *root = json_loads(mpb_arch_modules_json[f], JSON_PRESERVE_ORDER, &je);
        if (root == NULL)
            return mpb_fail(err, MPB_EINTERNAL, "architecture definition %zu: %s (line %d)", f,
                            je.text, je.line);
        if (!matches(root, architecture, model_type)) {
            json_decref(root);
            continue;
        }
        mpb_arch_def *a = calloc(1, sizeof *a);
        bool ok = a != NULL && read_arch(root, a);
        json_decref(root);
        if (!ok) {
            mpb_arch_def_free(a);
            return mpb_fail(err, MPB_EINTERNAL,
                            "architecture definition for %s is malformed or out of memory",
                            architecture ? architecture : model_type);
        }
        *out = a;
        return MPB_OK;
    }
    return MPB_OK;
}

const char *mpb_arch_modules_known(void)
{
    static char list[512];
    if (list[0] != '\0')
        return list;
    size_t used = 0;
    for (size_t f = 0; mpb_arch_modules_json[f] != NULL; f++) {
        json_t *root = json_loads(mpb_arch_modules_json[f], 0, NULL);
        const char *type = json_string_value(json_object_get(root, "model_type"));
        if (type != NULL && used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                                     type);
        json_decref(root);
    }
    return list;
}

const mpb_module_def *mpb_arch_module(const mpb_arch_def *a, const char *name)
{
    for (size_t m = 0; a != NULL && m < a->n_modules; m++)
        if (strcmp(a->modules[m].name, name) == 0)
            return &a->modules[m];
    return NULL;
}

static bool listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

bool mpb_module_owns_outside(const mpb_module_def *m, const char *name, bool *before)
{
    *before = listed(m->before, m->n_before, name);
    return *before || listed(m->after, m->n_after, name);
}

bool mpb_module_optional(const mpb_module_def *m, const char *name)
{
    return listed(m->optional, m->n_optional, name);
}
