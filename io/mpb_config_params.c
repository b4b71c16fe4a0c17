/* Parameter names, and what a written value gives one tensor: filters are
 * tried in order, gradients interpolated, exactly as mergekit's
 * evaluate_setting does. */
#include "mpb_config_internal.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    bool per_model;
} param_table[MPB_P_COUNT] = {
    [MPB_P_WEIGHT] = {"weight", true},       [MPB_P_DENSITY] = {"density", true},
    [MPB_P_GAMMA] = {"gamma", true},         [MPB_P_EPSILON] = {"epsilon", true},
    [MPB_P_LAMBDA] = {"lambda", false},      [MPB_P_T] = {"t", false},
    [MPB_P_NORMALIZE] = {"normalize", false}, [MPB_P_RESCALE] = {"rescale", false},
    [MPB_P_SEED] = {"seed", false},          [MPB_P_INT8_MASK] = {"int8_mask", false},
};

const char *mpb_param_name(mpb_param_id id)
{
    return id < MPB_P_COUNT ? param_table[id].name : "?";
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
    return id < MPB_P_COUNT && param_table[id].per_model;
}

/* mergekit: scaled = t*(n-1); i0 = int(scaled); i1 = min(n-1, i0+1);
 * (1-frac)*v[i0] + frac*v[i1], evaluated in the same order so that the
 * double result is the same. */
static double gradient_at(const mpb_value *v, double pos)
{
    size_t last = v->n_points - 1;
    double scaled = pos * (double)last;
    size_t i0 = (size_t)scaled;
    if (i0 > last)
        i0 = last;
    size_t i1 = i0 + 1 < last ? i0 + 1 : last;
    double frac = scaled - (double)i0;
    return (1 - frac) * v->points[i0] + frac * v->points[i1];
}

static void value_eval(const mpb_value *v, double pos, mpb_value *out)
{
    *out = *v;
    if (v->kind == MPB_VAL_GRADIENT) {
        out->kind = MPB_VAL_NUMBER;
        out->number = gradient_at(v, pos);
        out->points = NULL;
        out->n_points = 0;
    }
}

bool mpb_setting_eval(const mpb_setting *s, const char *tensor, double pos, mpb_value *out)
{
    if (!s->present)
        return false;
    if (!s->conditional) {
        value_eval(&s->value, pos, out);
        return true;
    }
    for (size_t i = 0; i < s->n_conds; i++) {
        const mpb_condition *cond = &s->conds[i];
        if (cond->filter == NULL || strcmp(cond->filter, "*") == 0 ||
            strstr(tensor, cond->filter) != NULL) {
            value_eval(&cond->value, pos, out);
            return true;
        }
    }
    return false;
}

static void value_free(mpb_value *v)
{
    free(v->word);
    free(v->points);
}

void mpb_setting_free(mpb_setting *s)
{
    value_free(&s->value);
    for (size_t i = 0; i < s->n_conds; i++) {
        free(s->conds[i].filter);
        value_free(&s->conds[i].value);
    }
    free(s->conds);
    memset(s, 0, sizeof *s);
}
