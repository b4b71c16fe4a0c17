/* The output tensors of a `slices:` config and where each input reads
 * them, as mergekit's planner (plan_module, plan_slice) lays them out. */
#include "mpb_config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mapper {
    const mpb_config *c;
    const mpb_index *models;
    mpb_index *out;
    mpb_tensor_source *map;
    size_t cap;
    mpb_error *err;
} mapper;

int mpb_config_model_layers(const mpb_index *idx, const char *layers)
{
    int max = -1;
    for (size_t i = 0; i < idx->n; i++) {
        int layer = mpb_tensor_layer_in(idx->tensors[i].name, layers);
        max = layer > max ? layer : max;
    }
    return max + 1;
}

static int check_ranges(const mapper *m)
{
    const mpb_config *c = m->c;
    for (size_t s = 0; s < c->n_slices; s++)
        for (size_t k = 0; k < c->slices[s].n_sources; k++) {
            const mpb_slice_source *src = &c->slices[s].sources[k];
            int layers =
                mpb_config_model_layers(&m->models[src->model], mpb_config_slice_layers(c, s));
            int mod = c->slices[s].module;
            if (src->end > layers)
                return mpb_fail(m->err, MPB_EINVAL,
                                "%s.layer_range [%d, %d] in %s:%d:%d reaches past the layers "
                                "of '%s'%s%s%s, which has %d (0 to %d; end is not included)",
                                src->where, src->first, src->end, c->path, src->line,
                                src->column, c->models[src->model],
                                mod >= 0 ? " in module '" : "",
                                mod >= 0 ? c->modules[mod].name : "", mod >= 0 ? "'" : "",
                                layers, layers - 1);
        }
    return MPB_OK;
}

/* Output tensor out_name, read by input k from its source in slice s as
 * the name with layer src_layer[k] (or unchanged when it is -1). */
static int add(mapper *m, const char *out_name, size_t s, const int *src_layer)
{
    const mpb_config *c = m->c;
    const mpb_slice *sl = &c->slices[s];
    size_t n_in = c->n_inputs, t = m->out->n;
    if (t == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        mpb_tensor_source *map = realloc(m->map, cap * n_in * sizeof *map);
        if (map == NULL)
            return mpb_fail(m->err, MPB_ENOMEM, "out of memory for the slices' tensors");
        m->map = map;
        m->cap = cap;
    }
    const mpb_tensor *first = NULL;
    for (size_t k = sl->n_sources; k < n_in; k++)
        m->map[t * n_in + k] = (mpb_tensor_source){MPB_NO_SOURCE, 0};
    for (size_t k = 0; k < sl->n_sources; k++) {
        const mpb_slice_source *src = &sl->sources[k];
        const mpb_index *idx = &m->models[src->model];
        char name[1024];
        if (src_layer[k] >= 0)
            mpb_tensor_with_layer_in(out_name, mpb_config_slice_layers(c, s), src_layer[k],
                                     name, sizeof name);
        else
            snprintf(name, sizeof name, "%s", out_name);
        long at = mpb_index_find(idx, name);
        if (at < 0)
            return mpb_fail(m->err, MPB_EINVAL,
                            "tensor '%s' (for the output's '%s') is not in '%s', named by "
                            "%s in %s",
                            name, out_name, c->models[src->model], src->where, c->path);
        const mpb_tensor *tensor = &idx->tensors[at];
        if (first != NULL) {
            char a[128], b[128];
            if (tensor->dtype != first->dtype || tensor->ndim != first->ndim ||
                memcmp(tensor->shape, first->shape, sizeof tensor->shape) != 0)
                return mpb_fail(
                    m->err, MPB_EINVAL,
                    "tensor '%s' of '%s' (%s) is %s %s, but %s's is %s %s: the "
                    "sources of a slice must match in %s",
                    name, c->models[src->model], src->where, mpb_dtype_name(tensor->dtype),
                    mpb_shape_str(tensor, a, sizeof a), sl->sources[0].where,
                    mpb_dtype_name(first->dtype), mpb_shape_str(first, b, sizeof b), c->path);
        } else
            first = tensor;
        m->map[t * n_in + k] = (mpb_tensor_source){(uint32_t)src->model, (uint32_t)at};
    }
    return mpb_index_add(m->out, out_name, first->dtype, first->ndim, first->shape, m->err);
}

/* The tensors outside layers of slices [s0, s1) (all slices, or one
 * module's): before them (embeddings) from the first slice, the rest
 * after them from the last.  def: the module's definition lists them;
 * NULL: every tensor outside layers, placed by its name. */
static int add_outside(mapper *m, bool before, size_t s0, size_t s1, const mpb_module_def *def)
{
    const mpb_config *c = m->c;
    size_t s = before ? s0 : s1 - 1;
    const mpb_index *ref = &m->models[c->slices[s].sources[0].model];
    int same[MPB_MAX_INPUTS];
    for (size_t k = 0; k < MPB_MAX_INPUTS; k++)
        same[k] = -1;
    int rc = MPB_OK;
    if (def != NULL) {
        char *const *names = before ? def->before : def->after;
        for (size_t i = 0; i < (before ? def->n_before : def->n_after) && rc == MPB_OK; i++)
            if (mpb_index_find(ref, names[i]) >= 0 || !mpb_module_optional(def, names[i]))
                rc = add(m, names[i], s, same);
        return rc;
    }
    for (size_t i = 0; i < ref->n && rc == MPB_OK; i++) {
        const char *name = ref->tensors[i].name;
        if (mpb_tensor_layer(name) < 0 && mpb_tensor_before_layers(name) == before)
            rc = add(m, name, s, same);
    }
    return rc;
}

/* Every layer of slice s: the tensors of its first source's layer,
 * renumbered to the output layer. */
static int add_slice(mapper *m, size_t s)
{
    const mpb_slice *sl = &m->c->slices[s];
    const mpb_index *ref = &m->models[sl->sources[0].model];
    const char *layers = mpb_config_slice_layers(m->c, s);
    int rc = MPB_OK;
    for (int o = 0; o < sl->sources[0].end - sl->sources[0].first && rc == MPB_OK; o++) {
        int src_layer[MPB_MAX_INPUTS];
        for (size_t k = 0; k < sl->n_sources; k++)
            src_layer[k] = sl->sources[k].first + o;
        for (size_t i = 0; i < ref->n && rc == MPB_OK; i++) {
            const char *name = ref->tensors[i].name;
            if (mpb_tensor_layer_in(name, layers) != src_layer[0])
                continue;
            char out_name[1024];
            mpb_tensor_with_layer_in(name, layers, sl->out_first + o, out_name,
                                     sizeof out_name);
            rc = add(m, out_name, s, src_layer);
        }
    }
    return rc;
}

/* The output in name order, as a checkpoint's index lists its tensors, so
 * that the data checksum (index order) reads the same when the output is
 * read back; the map rows move with their tensors. */
typedef struct named {
    const char *name;
    size_t t;
} named;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static int sort_by_name(mapper *m)
{
    size_t n = m->out->n, n_in = m->c->n_inputs;
    named *order = malloc((n ? n : 1) * sizeof *order);
    mpb_tensor *tensors = malloc((n ? n : 1) * sizeof *tensors);
    mpb_tensor_source *map = malloc((n ? n : 1) * n_in * sizeof *map);
    if (order == NULL || tensors == NULL || map == NULL) {
        free(order);
        free(tensors);
        free(map);
        return mpb_fail(m->err, MPB_ENOMEM, "out of memory for the slices' tensors");
    }
    for (size_t t = 0; t < n; t++)
        order[t] = (named){m->out->tensors[t].name, t};
    qsort(order, n, sizeof *order, by_name);
    for (size_t t = 0; t < n; t++) {
        tensors[t] = m->out->tensors[order[t].t];
        memcpy(&map[t * n_in], &m->map[order[t].t * n_in], n_in * sizeof *map);
    }
    memcpy(m->out->tensors, tensors, n * sizeof *tensors);
    free(m->map);
    m->map = map;
    free(tensors);
    free(order);
    return MPB_OK;
}

int mpb_config_map_slices(const mpb_config *c, const mpb_index *models, mpb_index *out,
                          mpb_tensor_source **map, mpb_error *err)
{
    mapper m = {.c = c, .models = models, .out = out, .err = err};
    *map = NULL;
    memset(out, 0, sizeof *out);
    if (c->n_slices == 0)
        return mpb_fail(err, MPB_EINTERNAL, "%s has no slices to map", c->path);
    int rc = check_ranges(&m);
    /* Without modules: one span of every slice; with them, mergekit's
     * plan_module for each module in the config's order. */
    size_t n_spans = c->n_modules ? c->n_modules : 1;
    for (size_t u = 0; u < n_spans && rc == MPB_OK; u++) {
        const mpb_config_module *mod = c->n_modules ? &c->modules[u] : NULL;
        size_t s0 = mod ? mod->first_slice : 0, s1 = mod ? s0 + mod->n_slices : c->n_slices;
        const mpb_module_def *def = mod ? mod->def : NULL;
        rc = add_outside(&m, true, s0, s1, def);
        for (size_t s = s0; s < s1 && rc == MPB_OK; s++)
            rc = add_slice(&m, s);
        if (rc == MPB_OK)
            rc = add_outside(&m, false, s0, s1, def);
    }
    if (rc == MPB_OK)
        rc = sort_by_name(&m);
    if (rc != MPB_OK) {
        free(m.map);
        mpb_index_free(out);
        return rc;
    }
    *map = m.map;
    return MPB_OK;
}
