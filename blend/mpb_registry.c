/* The registry's one table, and what every caller asks of it. */
#include "mpb_registry.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const mpb_method_def *const registry[MPB_METHOD_COUNT] = {
    [MPB_METHOD_LINEAR] = &mpb_method_linear,
    [MPB_METHOD_INTERPOLATE] = &mpb_method_interpolate,
    [MPB_METHOD_PASSTHROUGH] = &mpb_method_passthrough,
    [MPB_METHOD_TASK_ARITHMETIC] = &mpb_method_task_arithmetic,
    [MPB_METHOD_TIES] = &mpb_method_ties,
    [MPB_METHOD_DARE_LINEAR] = &mpb_method_dare_linear,
    [MPB_METHOD_DARE_TIES] = &mpb_method_dare_ties,
    [MPB_METHOD_BREADCRUMBS] = &mpb_method_breadcrumbs,
    [MPB_METHOD_BREADCRUMBS_TIES] = &mpb_method_breadcrumbs_ties,
    [MPB_METHOD_SLERP] = &mpb_method_slerp,
    [MPB_METHOD_MODEL_STOCK] = &mpb_method_model_stock,
    [MPB_METHOD_NEARSWAP] = &mpb_method_nearswap,
    [MPB_METHOD_MULTISLERP] = &mpb_method_multislerp,
    [MPB_METHOD_KARCHER] = &mpb_method_karcher,
    [MPB_METHOD_DELLA] = &mpb_method_della,
    [MPB_METHOD_DELLA_LINEAR] = &mpb_method_della_linear,
    [MPB_METHOD_NUSLERP] = &mpb_method_nuslerp,
    [MPB_METHOD_RAM] = &mpb_method_ram,
    [MPB_METHOD_SCE] = &mpb_method_sce,
    [MPB_METHOD_ARCEE_FUSION] = &mpb_method_arcee_fusion,
};

static const struct {
    const char *name;
    bool per_model, sweepable;
    double fallback; /* when the method gives no default */
} param_table[MPB_P_COUNT] = {
    [MPB_P_WEIGHT] = {"weight", true, true, NAN},
    [MPB_P_DENSITY] = {"density", true, true, 1.0},
    [MPB_P_GAMMA] = {"gamma", true, true, NAN},
    [MPB_P_EPSILON] = {"epsilon", true, true, NAN},
    [MPB_P_LAMBDA] = {"lambda", false, true, NAN},
    [MPB_P_T] = {"t", false, true, NAN},
    [MPB_P_NORMALIZE] = {"normalize", false, false, NAN},
    [MPB_P_RESCALE] = {"rescale", false, false, NAN},
    [MPB_P_SEED] = {"seed", false, false, NAN},
    [MPB_P_INT8_MASK] = {"int8_mask", false, false, NAN},
    [MPB_P_NORMALIZE_WEIGHTS] = {"normalize_weights", false, false, NAN},
    [MPB_P_EPS] = {"eps", false, false, NAN},
    [MPB_P_MAX_ITER] = {"max_iter", false, false, NAN},
    [MPB_P_TOL] = {"tol", false, false, NAN},
    [MPB_P_NUSLERP_FLATTEN] = {"nuslerp_flatten", false, false, NAN},
    [MPB_P_NUSLERP_ROW_WISE] = {"nuslerp_row_wise", false, false, NAN},
    [MPB_P_SELECT_TOPK] = {"select_topk", false, true, NAN},
    [MPB_P_SCALE] = {"scale", true, false, NAN},
    [MPB_P_FILTER_WISE] = {"filter_wise", false, false, NAN},
};

const char *mpb_param_name(mpb_param_id id)
{
    return (unsigned)id < MPB_P_COUNT ? param_table[id].name : "?";
}

mpb_param_id mpb_param_lookup(const char *name)
{
    for (int id = 0; id < MPB_P_COUNT; id++)
        if (strcmp(name, param_table[id].name) == 0)
            return (mpb_param_id)id;
    return MPB_P_COUNT;
}

bool mpb_param_per_model(mpb_param_id id)
{
    return (unsigned)id < MPB_P_COUNT && param_table[id].per_model;
}

bool mpb_param_sweepable(mpb_param_id id)
{
    return (unsigned)id < MPB_P_COUNT && param_table[id].sweepable;
}

double mpb_tensor_param(const mpb_tensor_params *p, mpb_param_id id)
{
    switch (id) {
    case MPB_P_LAMBDA: return p->lambda;
    case MPB_P_T: return p->t;
    case MPB_P_EPSILON: return p->epsilon;
    case MPB_P_GAMMA: return p->gamma;
    case MPB_P_EPS: return p->eps;
    case MPB_P_MAX_ITER: return p->max_iter;
    case MPB_P_TOL: return p->tol;
    case MPB_P_SELECT_TOPK: return p->select_topk;
    case MPB_P_SCALE: return p->scale;
    default: return NAN;
    }
}

const mpb_method_def *mpb_method_get(mpb_method m)
{
    return (unsigned)m < MPB_METHOD_COUNT ? registry[m] : NULL;
}

const char *mpb_method_name(mpb_method m)
{
    return (unsigned)m < MPB_METHOD_COUNT ? registry[m]->name : "invalid";
}

bool mpb_method_lookup(const char *name, mpb_method *out)
{
    for (int m = 0; m < MPB_METHOD_COUNT; m++) {
        bool match = strcmp(name, registry[m]->name) == 0;
        for (const char *const *a = registry[m]->aliases; !match && a && *a; a++)
            match = strcmp(name, *a) == 0;
        if (match) {
            *out = (mpb_method)m;
            return true;
        }
    }
    return false;
}

const char *mpb_method_list(void)
{
    static char list[512];
    if (list[0] == '\0') {
        size_t at = 0;
        for (int m = 0; m < MPB_METHOD_COUNT && at < sizeof list; m++)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", m ? ", " : "",
                                   registry[m]->name);
    }
    return list;
}

const char *mpb_method_list_if(bool (*keep)(const mpb_method_def *), char *buf, size_t len)
{
    size_t n = 0, k = 0, at = 0;
    for (int m = 0; m < MPB_METHOD_COUNT; m++)
        n += keep(registry[m]);
    if (len > 0)
        buf[0] = '\0';
    for (int m = 0; m < MPB_METHOD_COUNT && at < len; m++) {
        if (!keep(registry[m]))
            continue;
        k++;
        at += (size_t)snprintf(buf + at, len - at, "%s%s",
                               k == 1   ? ""
                               : k == n ? " and "
                                        : ", ",
                               registry[m]->name);
    }
    return buf;
}

/* mergekit methods mpiblend refuses, each with its reason (docs/METHODS.md,
 * "mergekit compatibility"); the list ends with a NULL name. */
static const struct {
    const char *name, *why;
} refused[] = {
    {NULL, NULL},
};

const char *mpb_method_refusal(const char *name)
{
    for (size_t i = 0; refused[i].name != NULL; i++)
        if (strcmp(name, refused[i].name) == 0)
            return refused[i].why;
    return NULL;
}

double mpb_method_default(mpb_method m, mpb_param_id id)
{
    const mpb_method_def *def = mpb_method_get(m);
    if (def == NULL || (unsigned)id >= MPB_P_COUNT)
        return NAN;
    if (def->params[id].has_default)
        return def->params[id].fallback;
    return param_table[id].fallback;
}

bool mpb_method_input_weighted(mpb_method m, size_t i, int base_index)
{
    const mpb_method_def *def = mpb_method_get(m);
    return !((def->base == MPB_BASE_NEEDED || def->base == MPB_BASE_OPTIONAL) &&
             (int)i == base_index);
}

bool mpb_weights_cancel(const double w[], size_t n, int skip)
{
    double sum = 0, magnitude = 0;
    for (size_t i = 0; i < n; i++) {
        if ((int)i == skip)
            continue;
        sum += w[i];
        magnitude += fabs(w[i]);
    }
    /* Relative, so that 0.1 + 0.2 - 0.3 counts as the 0 it means. */
    return fabs(sum) <= 1e-12 * magnitude;
}

int mpb_coefficients_check_finite(const float coef[], const double exact[], size_t n,
                                  mpb_error *err)
{
    float sum = 0.0f, magnitude = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(coef[i]))
            return mpb_fail(err, MPB_EINVAL,
                            "the coefficient of input %zu is %g, which is "
                            "not finite in fp32 (largest magnitude %g); check the weights "
                            "and lambda",
                            i, exact[i], (double)FLT_MAX);
        sum += coef[i];
        magnitude += fabsf(coef[i]);
        if (!isfinite(sum) || !isfinite(magnitude))
            return mpb_fail(err, MPB_EINVAL,
                            "the coefficients of inputs 0 to %zu add up to "
                            "more than fp32 holds (%g); check the weights and lambda",
                            i, (double)FLT_MAX);
    }
    return MPB_OK;
}

int mpb_method_coefficients(mpb_method m, const mpb_tensor_params *p, float coef[],
                            mpb_error *err)
{
    const mpb_method_def *def = mpb_method_get(m);
    if (p->n_inputs == 0 || p->n_inputs > MPB_MAX_INPUTS)
        return mpb_fail(err, MPB_EINVAL, "coefficients for %zu inputs", p->n_inputs);
    if (p->copy_from >= (int)p->n_inputs)
        return mpb_fail(err, MPB_EINVAL, "copy from input %d of %zu", p->copy_from,
                        p->n_inputs);
    if (p->copy_from >= 0) {
        for (size_t i = 0; i < p->n_inputs; i++)
            coef[i] = (int)i == p->copy_from ? 1.0f : 0.0f;
        return MPB_OK;
    }
    if (def == NULL || def->coefficients == NULL)
        return mpb_fail(err, MPB_EINVAL,
                        "merge_method '%s' is not one fixed weighted sum of its inputs",
                        mpb_method_name(m));
    return def->coefficients(p, coef, err);
}
