/* Accessors and release of a parsed config. */
#include "mpb_config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mpb_config_free(mpb_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_inputs; i++) {
        free(c->inputs[i]);
        free(c->written[i]);
        for (int id = 0; id < MPB_P_COUNT; id++)
            mpb_setting_free(&c->model_params[i].s[id]);
    }
    for (int id = 0; id < MPB_P_COUNT; id++)
        mpb_setting_free(&c->global.s[id]);
    mpb_config_slices_free(c);
    mpb_config_modules_free(c);
    mpb_config_tokens_free(c);
    free(c->chat_template);
    free(c->path);
    free(c);
}

mpb_method mpb_config_method(const mpb_config *c)
{
    return c->method;
}

size_t mpb_config_n_inputs(const mpb_config *c)
{
    return c->n_inputs;
}

const char *mpb_config_input_path(const mpb_config *c, size_t i)
{
    return i < c->n_inputs ? c->inputs[i] : NULL;
}

const char *mpb_config_input_origin(const mpb_config *c, size_t i)
{
    return i < c->n_inputs ? c->origin[i] : NULL;
}

int mpb_config_base_index(const mpb_config *c)
{
    return c->base_index;
}

mpb_dtype mpb_config_out_dtype(const mpb_config *c)
{
    /* mergekit: `dtype:` is also the output dtype when out_dtype is absent. */
    return c->out_dtype != MPB_DT_INVALID ? c->out_dtype : c->compute_dtype;
}

mpb_dtype mpb_config_compute_dtype(const mpb_config *c)
{
    return c->compute_dtype;
}

bool mpb_config_layer_range(const mpb_config *c, int *first, int *last)
{
    if (c->has_layer_range) {
        *first = c->layer_first;
        *last = c->layer_last;
    }
    return c->has_layer_range;
}

int mpb_config_keep_outside(const mpb_config *c)
{
    return c->has_layer_range ? c->keep_outside : -1;
}

bool mpb_config_has_sweep(const mpb_config *c)
{
    return c->has_sweep;
}

/* Records "FILE:LINE:COL: key 'K' ignored ..." when name is in the table. */
bool mpb_config_note_ignored(mpb_yaml *y, mpb_config *c, const mpb_ignored_key *table,
                             yaml_node_t *key, const char *where)
{
    const char *name = mpb_yaml_text(key);
    const mpb_ignored_key *k = table;
    while (k->name != NULL && strcmp(k->name, name) != 0)
        k++;
    if (k->name == NULL)
        return false;
    if (c->n_ignored == MPB_CONFIG_MAX_IGNORED)
        return true;
    /* Kept in file order: the top level is read before the model entries. */
    size_t at = c->n_ignored++;
    size_t offset = key->start_mark.index;
    while (at > 0 && c->ignored_offset[at - 1] > offset) {
        memcpy(c->ignored[at], c->ignored[at - 1], sizeof c->ignored[0]);
        c->ignored_offset[at] = c->ignored_offset[at - 1];
        at--;
    }
    c->ignored_offset[at] = offset;
    snprintf(c->ignored[at], sizeof c->ignored[0],
             "%s:%d:%d: key '%s'%s%s ignored: mergekit ignores it too, so it does not change "
             "the result%s%s",
             y->path, (int)key->start_mark.line + 1, (int)key->start_mark.column + 1, name,
             where ? " under " : "", where ? where : "", k->hint ? "; " : "",
             k->hint ? k->hint : "");
    return true;
}

void mpb_config_warn_ignored(const mpb_config *c, mpb_config_warn_fn warn, void *ctx)
{
    for (size_t i = 0; i < c->n_ignored; i++)
        warn(ctx, c->ignored[i]);
}

int mpb_config_tokenizer_input(const mpb_config *c)
{
    return c->tokenizer_input;
}

bool mpb_config_tokenizer_union(const mpb_config *c)
{
    return c->tokenizer_union;
}

uint64_t mpb_config_tokenizer_pad(const mpb_config *c)
{
    return c->tokenizer_pad;
}

int mpb_config_given_base(const mpb_config *c)
{
    return c->given_base;
}

const char *mpb_config_chat_template(const mpb_config *c)
{
    return c->chat_template;
}

bool mpb_config_has_modules(const mpb_config *c)
{
    return c->n_modules > 0;
}

bool mpb_config_has_slices(const mpb_config *c)
{
    return c->n_slices > 0;
}

size_t mpb_config_n_models(const mpb_config *c)
{
    return c->n_slices > 0 ? c->n_models : c->n_inputs;
}

const char *mpb_config_model_path(const mpb_config *c, size_t m)
{
    if (c->n_slices == 0)
        return mpb_config_input_path(c, m);
    return m < c->n_models ? c->models[m] : NULL;
}

int mpb_config_out_layers(const mpb_config *c)
{
    return c->out_layers;
}
