/* Per-tensor parameters: per-model value > global value > method default,
 * as mergekit's ConfigReader.parameter resolves them. */
#include "mpb_config_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define USES(def, id) ((def)->params[id].used)

/* The value for input (or the globals when input < 0). */
static bool lookup(const mpb_config *c, int input, mpb_param_id id, const char *tensor,
                   double pos, mpb_value *out)
{
    if (input >= 0 && mpb_param_per_model(id) &&
        mpb_setting_eval(&c->model_params[input].s[id], tensor, pos, out))
        return true;
    return mpb_setting_eval(&c->global.s[id], tensor, pos, out);
}

static double lookup_number(const mpb_config *c, int input, mpb_param_id id, const char *tensor,
                            double pos)
{
    mpb_value v;
    return lookup(c, input, id, tensor, pos, &v) ? v.number : mpb_method_default(c->method, id);
}

bool mpb_config_input_weighted(const mpb_config *c, size_t i)
{
    return mpb_method_input_weighted(c->method, i, c->base_index);
}

/* gamma and epsilon are per model in mergekit; mpiblend applies one value
 * per tensor, so differing values are an error rather than a silent pick. */
static int resolve_shared(const mpb_config *c, mpb_param_id id, const char *tensor, double pos,
                          double *out, mpb_error *err)
{
    *out = lookup_number(c, -1, id, tensor, pos);
    int first = -1;
    for (size_t i = 0; i < c->n_inputs; i++) {
        if (!mpb_config_input_weighted(c, i))
            continue;
        double v = lookup_number(c, (int)i, id, tensor, pos);
        if (first < 0) {
            first = (int)i;
            *out = v;
        } else if (v != *out && !(isnan(v) && isnan(*out)) &&
                   USES(mpb_method_get(c->method), id)) {
            return mpb_fail(err, MPB_EINVAL,
                            "%s differs between %s (%g) and %s (%g) for tensor '%s' in %s; "
                            "mpiblend applies one %s per tensor",
                            mpb_param_name(id), c->origin[first], *out, c->origin[i], v, tensor,
                            c->path, mpb_param_name(id));
        }
    }
    return MPB_OK;
}

static void resolve_switches(const mpb_config *c, const char *tensor, double pos,
                             mpb_tensor_params *out)
{
    mpb_value v;
    out->normalize = lookup(c, -1, MPB_P_NORMALIZE, tensor, pos, &v)
                         ? v.flag
                         : mpb_method_default(c->method, MPB_P_NORMALIZE) == 1.0;
    out->normalize_weights =
        lookup(c, -1, MPB_P_NORMALIZE_WEIGHTS, tensor, pos, &v)
            ? v.flag
            : mpb_method_default(c->method, MPB_P_NORMALIZE_WEIGHTS) == 1.0;
    out->nuslerp_flatten = lookup(c, -1, MPB_P_NUSLERP_FLATTEN, tensor, pos, &v)
                               ? v.flag
                               : mpb_method_default(c->method, MPB_P_NUSLERP_FLATTEN) == 1.0;
    out->nuslerp_row_wise = lookup(c, -1, MPB_P_NUSLERP_ROW_WISE, tensor, pos, &v)
                                ? v.flag
                                : mpb_method_default(c->method, MPB_P_NUSLERP_ROW_WISE) == 1.0;
    out->rescale = mpb_method_default(c->method, MPB_P_RESCALE) == 1.0;
    out->rescale_l1 = true;
    if (lookup(c, -1, MPB_P_RESCALE, tensor, pos, &v)) {
        out->rescale = v.kind == MPB_VAL_BOOL ? v.flag : true;
        out->rescale_l1 = !(v.kind == MPB_VAL_WORD && strcmp(v.word, "inverse") == 0);
    }
    out->seed = 0;
    if (lookup(c, -1, MPB_P_SEED, tensor, pos, &v))
        out->seed = strtoull(v.word, NULL, 10);
}

static int require(const mpb_config *c, const char *tensor, double value, mpb_param_id id,
                   int input, mpb_error *err)
{
    if (!isnan(value))
        return MPB_OK;
    if (input < 0)
        return mpb_fail(err, MPB_EINVAL,
                        "no %s for tensor '%s': no filter entry of parameters.%s matches it "
                        "in %s",
                        mpb_param_name(id), tensor, mpb_param_name(id), c->path);
    return mpb_fail(err, MPB_EINVAL,
                    "no %s for %s ('%s') on tensor '%s': no %s filter entry matches it in %s",
                    mpb_param_name(id), c->origin[input], c->inputs[input], tensor,
                    mpb_param_name(id), c->path);
}

static int check_required(const mpb_config *c, const char *tensor, const mpb_tensor_params *p,
                          mpb_error *err)
{
    const mpb_method_def *def = mpb_method_get(c->method);
    int rc = MPB_OK;
    for (size_t i = 0; def->params[MPB_P_WEIGHT].required && i < c->n_inputs && rc == MPB_OK;
         i++)
        if (mpb_config_input_weighted(c, i))
            rc = require(c, tensor, p->weight[i], MPB_P_WEIGHT, (int)i, err);
    for (int id = 0; id < MPB_P_COUNT && rc == MPB_OK; id++)
        if (def->params[id].required && !mpb_param_per_model((mpb_param_id)id))
            rc = require(c, tensor, mpb_tensor_param(p, (mpb_param_id)id), (mpb_param_id)id, -1,
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

/* Which input a tensor is copied from unchanged, or -1 to blend it. */
static int copy_source(const mpb_config *c, const char *tensor, int n_layers, int *source,
                       mpb_error *err)
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
    if (mpb_method_get(c->method)->copies_first)
        *source = 0;
    return MPB_OK;
}

int mpb_config_resolve(const mpb_config *c, const char *tensor_name, int n_layers,
                       mpb_tensor_params *out, mpb_error *err)
{
    memset(out, 0, sizeof *out);
    out->n_inputs = c->n_inputs;
    out->base_index = c->base_index;
    out->lambda = out->t = out->epsilon = out->gamma = out->eps = out->max_iter = out->tol =
        NAN;
    for (size_t i = 0; i < MPB_MAX_INPUTS; i++)
        out->weight[i] = out->density[i] = NAN;
    int rc = copy_source(c, tensor_name, n_layers, &out->copy_from, err);
    if (rc != MPB_OK || out->copy_from >= 0)
        return rc;

    double pos = mpb_tensor_position(tensor_name, n_layers, c->after_layers_position);
    for (size_t i = 0; i < c->n_inputs; i++) {
        out->weight[i] = lookup_number(c, (int)i, MPB_P_WEIGHT, tensor_name, pos);
        out->density[i] = lookup_number(c, (int)i, MPB_P_DENSITY, tensor_name, pos);
    }
    out->lambda = lookup_number(c, -1, MPB_P_LAMBDA, tensor_name, pos);
    out->t = lookup_number(c, -1, MPB_P_T, tensor_name, pos);
    out->eps = lookup_number(c, -1, MPB_P_EPS, tensor_name, pos);
    out->max_iter = lookup_number(c, -1, MPB_P_MAX_ITER, tensor_name, pos);
    out->tol = lookup_number(c, -1, MPB_P_TOL, tensor_name, pos);
    resolve_switches(c, tensor_name, pos, out);
    if ((rc = resolve_shared(c, MPB_P_GAMMA, tensor_name, pos, &out->gamma, err)) != MPB_OK ||
        (rc = resolve_shared(c, MPB_P_EPSILON, tensor_name, pos, &out->epsilon, err)) != MPB_OK)
        return rc;
    return check_required(c, tensor_name, out, err);
}
