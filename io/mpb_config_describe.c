/* One line per tensor for --dry-run: what the merge will do with it. */
#include "mpb_config_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct line {
    char *buf;
    size_t len, used;
} line;

static void put(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(line *l, const char *fmt, ...)
{
    if (l->used >= l->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->used, l->len - l->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->used += (size_t)n;
}

static void put_number(line *l, double v)
{
    if (isnan(v))
        put(l, "-");
    else
        put(l, "%.6g", v);
}

static void put_list(line *l, const char *name, const double v[], size_t n)
{
    put(l, " %s=[", name);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put(l, ",");
        put_number(l, v[i]);
    }
    put(l, "]");
}

static void put_scalar(line *l, const char *name, double v)
{
    put(l, " %s=", name);
    put_number(l, v);
}

static void put_params(line *l, const mpb_method_def *def, const mpb_tensor_params *p)
{
#define USES(id) (def->params[id].used)
    if (USES(MPB_P_WEIGHT))
        put_list(l, "weight", p->weight, p->n_inputs);
    if (USES(MPB_P_DENSITY))
        put_list(l, "density", p->density, p->n_inputs);
    if (USES(MPB_P_GAMMA))
        put_scalar(l, "gamma", p->gamma);
    if (USES(MPB_P_EPSILON))
        put_scalar(l, "epsilon", p->epsilon);
    if (USES(MPB_P_LAMBDA))
        put_scalar(l, "lambda", p->lambda);
    if (USES(MPB_P_T))
        put_scalar(l, "t", p->t);
    if (USES(MPB_P_NORMALIZE))
        put(l, " normalize=%s", p->normalize ? "true" : "false");
    if (USES(MPB_P_NORMALIZE_WEIGHTS))
        put(l, " normalize_weights=%s", p->normalize_weights ? "true" : "false");
    if (USES(MPB_P_EPS))
        put_scalar(l, "eps", p->eps);
    if (USES(MPB_P_MAX_ITER))
        put_scalar(l, "max_iter", p->max_iter);
    if (USES(MPB_P_TOL))
        put_scalar(l, "tol", p->tol);
    if (USES(MPB_P_SELECT_TOPK))
        put_scalar(l, "select_topk", p->select_topk);
    if (USES(MPB_P_FILTER_WISE))
        put(l, " filter_wise=%s", p->filter_wise ? "true" : "false");
    if (USES(MPB_P_SCALE))
        put_scalar(l, "scale", p->scale);
    if (USES(MPB_P_NUSLERP_FLATTEN))
        put(l, " nuslerp_flatten=%s", p->nuslerp_flatten ? "true" : "false");
    if (USES(MPB_P_NUSLERP_ROW_WISE))
        put(l, " nuslerp_row_wise=%s", p->nuslerp_row_wise ? "true" : "false");
    if (USES(MPB_P_RESCALE))
        put(l, " rescale=%s", !p->rescale ? "false" : p->rescale_l1 ? "l1" : "inverse");
    if (USES(MPB_P_SEED))
        put(l, " seed=%llu", (unsigned long long)p->seed);
#undef USES
}

const char *mpb_config_describe(const mpb_config *c, const char *tensor_name, int n_layers,
                                char *buf, size_t len)
{
    line l = {buf, len, 0};
    mpb_tensor_params p;
    mpb_error err = {0};
    if (len == 0)
        return buf;
    buf[0] = '\0';
    put(&l, "%s:", tensor_name);
    if (mpb_config_resolve(c, tensor_name, n_layers, &p, &err) != MPB_OK) {
        put(&l, " error: %s", err.msg);
    } else if (p.copy_from >= 0) {
        put(&l, " copy from %s (%s)", c->origin[p.copy_from], c->inputs[p.copy_from]);
    } else {
        const mpb_method_def *info = mpb_method_get(c->method);
        put(&l, " %s", info->name);
        if (p.base_index >= 0)
            put(&l, " base=%s", c->origin[p.base_index]);
        put_params(&l, info, &p);
    }
    return buf;
}
