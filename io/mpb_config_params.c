/* What a written parameter value gives one tensor: filters are tried in
 * order, gradients interpolated, exactly as mergekit's evaluate_setting
 * does.  Parameter names live in the registry (blend/mpb_registry.c). */
#include "mpb_config_internal.h"

#include <stdlib.h>
#include <string.h>

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
