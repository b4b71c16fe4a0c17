/* Per-tensor parameters: per-model value > global value > method default,
 * as mergekit's ConfigReader.parameter resolves them. */
#include "mpb_config_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define USES(def, id) ((def)->params[id].used)

/* Where a tensor sits for its parameters: with slices, its slice, the
 * layer each input reads, and its gradient position within the slice. */
typedef struct site {
    const char *name;              /* the output tensor */
    int slice;                     /* -1 without slices */
    int module;                    /* -1 without modules */
    const char *layers;            /* the module's layer prefix (NULL: the default rule) */
    int src_layer[MPB_MAX_INPUTS]; /* with slices, per input: the source layer, or -1 */
    double pos;
} site;

/* mergekit evaluates per-model values against the input's tensor name. */
static const char *input_name(const site *at, int input, char *buf, size_t len)
{
    if (input < 0 || at->slice < 0 || at->src_layer[input] < 0)
        return at->name;
    return mpb_tensor_with_layer_in(at->name, at->layers, at->src_layer[input], buf, len);
}

/* The value for input (or the globals when input < 0).  Precedence as
 * mergekit's ConfigReader.parameter: the slice's source entries for this
 * model (or the model entry), the slice's parameters, the module's, the
 * globals. */
static bool lookup(const mpb_config *c, const site *at, int input, mpb_param_id id,
                   mpb_value *out)
{
    bool per_model = input >= 0 && mpb_param_per_model(id);
    char buf[1024];
    const char *tensor = input_name(at, per_model ? input : -1, buf, sizeof buf);
    if (per_model && at->slice < 0 &&
        mpb_setting_eval(&c->model_params[input].s[id], tensor, at->pos, out))
        return true;
    if (at->slice >= 0) {
        const mpb_slice *sl = &c->slices[at->slice];
        for (size_t k = 0; per_model && k < sl->n_sources; k++)
            if (sl->sources[k].model == sl->sources[input].model &&
                mpb_setting_eval(&sl->sources[k].params.s[id], tensor, at->pos, out))
                return true;
        if (mpb_setting_eval(&sl->params.s[id], tensor, at->pos, out))
            return true;
    }
    if (at->module >= 0 &&
        mpb_setting_eval(&c->modules[at->module].params.s[id], tensor, at->pos, out))
        return true;
    return mpb_setting_eval(&c->global.s[id], tensor, at->pos, out);
}

static double lookup_number(const mpb_config *c, const site *at, int input, mpb_param_id id)
{
    mpb_value v;
    return lookup(c, at, input, id, &v) ? v.number : mpb_method_default(c->method, id);
}

/* Where input i of the tensor is named in the config, for messages. */
static const char *input_where(const mpb_config *c, const site *at, size_t i)
{
    return at->slice >= 0 ? c->slices[at->slice].sources[i].where : c->origin[i];
}

static const char *input_path(const mpb_config *c, const site *at, size_t i)
{
    return at->slice >= 0 ? c->models[c->slices[at->slice].sources[i].model] : c->inputs[i];
}

bool mpb_config_input_weighted(const mpb_config *c, size_t i)
{
    return mpb_method_input_weighted(c->method, i, c->base_index);
}

/* gamma and epsilon are per model in mergekit; mpiblend applies one value
 * per tensor, so differing values are an error rather than a silent pick. */
static int resolve_shared(const mpb_config *c, const site *at, mpb_param_id id, double *out,
                          mpb_error *err)
{
    const char *tensor = at->name;
    *out = lookup_number(c, at, -1, id);
    int first = -1;
    size_t n = at->slice >= 0 ? c->slices[at->slice].n_sources : c->n_inputs;
    for (size_t i = 0; i < n; i++) {
        if (!mpb_config_input_weighted(c, i))
            continue;
        double v = lookup_number(c, at, (int)i, id);
        if (first < 0) {
            first = (int)i;
            *out = v;
        } else if (v != *out && !(isnan(v) && isnan(*out)) &&
                   USES(mpb_method_get(c->method), id)) {
            return mpb_fail(err, MPB_EINVAL,
                            "%s differs between %s (%g) and %s (%g) for tensor '%s' in %s; "
                            "mpiblend applies one %s per tensor",
                            mpb_param_name(id), input_where(c, at, (size_t)first), *out,
                            input_where(c, at, i), v, tensor, c->path, mpb_param_name(id));
        }
    }
    return MPB_OK;
}

static void resolve_switches(const mpb_config *c, const site *at, mpb_tensor_params *out)
{
    mpb_value v;
    out->normalize = lookup(c, at, -1, MPB_P_NORMALIZE, &v)
                         ? v.flag
                         : mpb_method_default(c->method, MPB_P_NORMALIZE) == 1.0;
    out->normalize_weights =
        lookup(c, at, -1, MPB_P_NORMALIZE_WEIGHTS, &v)
            ? v.flag
            : mpb_method_default(c->method, MPB_P_NORMALIZE_WEIGHTS) == 1.0;
    out->nuslerp_flatten = lookup(c, at, -1, MPB_P_NUSLERP_FLATTEN, &v)
                               ? v.flag
                               : mpb_method_default(c->method, MPB_P_NUSLERP_FLATTEN) == 1.0;
    out->nuslerp_row_wise = lookup(c, at, -1, MPB_P_NUSLERP_ROW_WISE, &v)
                                ? v.flag
                                : mpb_method_default(c->method, MPB_P_NUSLERP_ROW_WISE) == 1.0;
    out->filter_wise = lookup(c, at, -1, MPB_P_FILTER_WISE, &v)
                           ? v.flag
                           : mpb_method_default(c->method, MPB_P_FILTER_WISE) == 1.0;
    out->rescale = mpb_method_default(c->method, MPB_P_RESCALE) == 1.0;
    out->rescale_l1 = true;
    if (lookup(c, at, -1, MPB_P_RESCALE, &v)) {
        out->rescale = v.kind == MPB_VAL_BOOL ? v.flag : true;
        out->rescale_l1 = !(v.kind == MPB_VAL_WORD && strcmp(v.word, "inverse") == 0);
    }
    out->seed = 0;
    if (lookup(c, at, -1, MPB_P_SEED, &v))
        out->seed = strtoull(v.word, NULL, 10);
}

static int require(const mpb_config *c, const site *at, double value, mpb_param_id id,
                   int input, mpb_error *err)
{
    const char *tensor = at->name;
    if (!isnan(value))
        return MPB_OK;
    if (input < 0)
        return mpb_fail(err, MPB_EINVAL,
                        "no %s for tensor '%s': no filter entry of parameters.%s matches it "
                        "in %s",
                        mpb_param_name(id), tensor, mpb_param_name(id), c->path);
    return mpb_fail(err, MPB_EINVAL,
                    "no %s for %s ('%s') on tensor '%s': no %s filter entry matches it in %s",
                    mpb_param_name(id), input_where(c, at, (size_t)input),
                    input_path(c, at, (size_t)input), tensor, mpb_param_name(id), c->path);
}

static int check_required(const mpb_config *c, const site *at, const mpb_tensor_params *p,
                          mpb_error *err)
{
    const char *tensor = at->name;
    const mpb_method_def *def = mpb_method_get(c->method);
    int rc = MPB_OK;
    for (size_t i = 0; def->params[MPB_P_WEIGHT].required && i < p->n_inputs && rc == MPB_OK;
         i++)
        if (mpb_config_input_weighted(c, i))
            rc = require(c, at, p->weight[i], MPB_P_WEIGHT, (int)i, err);
    for (int id = 0; id < MPB_P_COUNT && rc == MPB_OK; id++)
        if (def->params[id].required && !mpb_param_per_model((mpb_param_id)id))
            rc = require(c, at, mpb_tensor_param(p, (mpb_param_id)id), (mpb_param_id)id, -1,
                         err);
    if (rc == MPB_OK && def->check_params != NULL)
        rc = def->check_params(p, tensor, err);
    if (rc == MPB_OK && def->normalize_needs_sum && p->normalize &&
        mpb_weights_cancel(p->weight, p->n_inputs, -1))
        rc = mpb_fail(err, MPB_EINVAL,
                      "%s weights for tensor '%s' sum to 0 and normalize divides by their "
                      "sum in %s; change the weights or set normalize: false",
                      def->name, tensor, c->path);
    return rc;
}

/* Which input a tensor is copied from unchanged, or -1 to blend it;
 * *by_method: copied because the method copies (passthrough). */
static int copy_source(const mpb_config *c, const char *tensor, int n_layers, int *source,
                       bool *by_method, mpb_error *err)
{
    int layer = mpb_tensor_layer(tensor);
    *source = -1;
    if (layer >= n_layers)
        return mpb_fail(err, MPB_EINVAL,
                        "tensor '%s' is in layer %d but the model has %d layers", tensor, layer,
                        n_layers);
    if (c->has_layer_range) {
        if (c->layer_last >= n_layers)
            return mpb_fail(err, MPB_EINVAL,
                            "layer_range [%d, %d] in %s:%d:%d reaches past the last layer (%d) "
                            "of the model of tensor '%s'",
                            c->layer_first, c->layer_last, c->path, c->range_line,
                            c->range_column, n_layers - 1, tensor);
        if (layer < c->layer_first || layer > c->layer_last) {
            *source = c->keep_outside;
            return MPB_OK;
        }
    }
    if (mpb_method_get(c->method)->copies_first) {
        *source = 0;
        *by_method = true;
    }
    return MPB_OK;
}

/* passthrough's `scale`: a tensor with a scale other than 1 is blended (the
 * one input times it) instead of copied; false when it stays a copy. */
static bool scaled_copy(const mpb_config *c, const site *at, mpb_tensor_params *out)
{
    out->scale = lookup_number(c, at, 0, MPB_P_SCALE);
    if (isnan(out->scale) || out->scale == 1.0)
        return false;
    out->copy_from = -1;
    return true;
}

/* With modules: the module of an output tensor (its layers, or its lists
 * of tensors outside layers); *before says where an outside one goes. */
static int find_module(const mpb_config *c, const char *name, bool *before, mpb_error *err)
{
    for (size_t m = 0; m < c->n_modules; m++) {
        const mpb_module_def *def = c->modules[m].def;
        *before = mpb_tensor_before_layers(name);
        if (def == NULL || (def->layers && mpb_tensor_layer_in(name, def->layers) >= 0) ||
            mpb_module_owns_outside(def, name, before))
            return (int)m;
    }
    return mpb_fail(err, MPB_EINTERNAL, "tensor '%s' is in no module of %s", name, c->path);
}

/* With slices: the slice of an output tensor, the layer each input reads
 * and the position within the slice (mergekit's plan_slice: t = i/(n-1),
 * 1 for one layer); tensors outside layers take the first slice
 * (embeddings) or the last one (the rest), as mergekit's planner does;
 * with modules, among the slices of the tensor's module. */
static int slice_site(const mpb_config *c, site *at, mpb_error *err)
{
    size_t s0 = 0, s1 = c->n_slices;
    int out_layers = c->out_layers;
    bool before = mpb_tensor_before_layers(at->name), has_layers = true;
    if (c->n_modules > 0) {
        at->module = find_module(c, at->name, &before, err);
        if (at->module < 0)
            return err->code;
        const mpb_config_module *mod = &c->modules[at->module];
        s0 = mod->first_slice;
        s1 = s0 + mod->n_slices;
        out_layers = mod->out_layers;
        at->layers = mod->def ? mod->def->layers : NULL;
        has_layers = mod->def == NULL || mod->def->layers != NULL;
    }
    int layer = has_layers ? mpb_tensor_layer_in(at->name, at->layers) : -1;
    if (layer < 0) {
        at->slice = before ? (int)s0 : (int)s1 - 1;
        at->pos = before ? 0.0 : c->after_layers_position;
        return MPB_OK;
    }
    if (layer >= out_layers)
        return mpb_fail(err, MPB_EINVAL,
                        "tensor '%s' is in layer %d but the slices of %s make %d layers",
                        at->name, layer, c->path, out_layers);
    size_t s = s1 - 1;
    while (c->slices[s].out_first > layer)
        s--;
    const mpb_slice *sl = &c->slices[s];
    int offset = layer - sl->out_first, n = sl->sources[0].end - sl->sources[0].first;
    at->slice = (int)s;
    at->pos = n > 1 ? (double)offset / (double)(n - 1) : 1.0;
    for (size_t k = 0; k < sl->n_sources; k++)
        at->src_layer[k] = sl->sources[k].first + offset;
    return MPB_OK;
}

static int find_site(const mpb_config *c, const char *tensor_name, int n_layers, site *at,
                     mpb_error *err)
{
    at->name = tensor_name;
    at->slice = at->module = -1;
    at->layers = NULL;
    for (size_t k = 0; k < MPB_MAX_INPUTS; k++)
        at->src_layer[k] = -1;
    if (c->n_slices > 0)
        return slice_site(c, at, err);
    at->pos = mpb_tensor_position(tensor_name, n_layers, c->after_layers_position);
    return MPB_OK;
}

int mpb_config_resolve(const mpb_config *c, const char *tensor_name, int n_layers,
                       mpb_tensor_params *out, mpb_error *err)
{
    memset(out, 0, sizeof *out);
    out->n_inputs = c->n_inputs;
    out->base_index = c->base_index;
    out->lambda = out->t = out->epsilon = out->gamma = out->eps = out->max_iter = out->tol =
        out->select_topk = out->scale = NAN;
    for (size_t i = 0; i < MPB_MAX_INPUTS; i++)
        out->weight[i] = out->density[i] = NAN;
    site at;
    bool by_method = false;
    int rc = find_site(c, tensor_name, n_layers, &at, err);
    if (rc != MPB_OK)
        return rc;
    if (c->n_slices > 0) {
        /* The tensor's inputs are its slice's sources (slots 0 .. n - 1). */
        const mpb_slice *sl = &c->slices[at.slice];
        out->n_inputs = sl->n_sources;
        if (out->base_index >= (int)sl->n_sources)
            out->base_index = -1; /* a slice without the base (BASE_IGNORED) */
        by_method = mpb_method_get(c->method)->copies_first;
        out->copy_from = by_method || mpb_config_slice_copies(c, sl) ? 0 : -1;
    } else if ((rc = copy_source(c, tensor_name, n_layers, &out->copy_from, &by_method, err)) !=
               MPB_OK)
        return rc;
    if (out->copy_from >= 0 && !(by_method && scaled_copy(c, &at, out)))
        return MPB_OK;

    for (size_t i = 0; i < out->n_inputs; i++) {
        out->weight[i] = lookup_number(c, &at, (int)i, MPB_P_WEIGHT);
        out->density[i] = lookup_number(c, &at, (int)i, MPB_P_DENSITY);
    }
    out->lambda = lookup_number(c, &at, -1, MPB_P_LAMBDA);
    out->t = lookup_number(c, &at, -1, MPB_P_T);
    out->eps = lookup_number(c, &at, -1, MPB_P_EPS);
    out->max_iter = lookup_number(c, &at, -1, MPB_P_MAX_ITER);
    out->tol = lookup_number(c, &at, -1, MPB_P_TOL);
    out->select_topk = lookup_number(c, &at, -1, MPB_P_SELECT_TOPK);
    resolve_switches(c, &at, out);
    if ((rc = resolve_shared(c, &at, MPB_P_GAMMA, &out->gamma, err)) != MPB_OK ||
        (rc = resolve_shared(c, &at, MPB_P_EPSILON, &out->epsilon, err)) != MPB_OK)
        return rc;
    return check_required(c, &at, out, err);
}
