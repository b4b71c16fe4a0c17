/* What each merge method needs and its defaults, as mergekit defines them
 * (merge_methods/registry.py, generalized_task_arithmetic.py, linear.py,
 * slerp.py, model_stock.py, passthrough.py). */
#include "mpb_config_internal.h"

#include <math.h>
#include <string.h>

#define BIT(id) (1u << (id))
#define TASK_PARAMS (BIT(MPB_P_WEIGHT) | BIT(MPB_P_LAMBDA) | BIT(MPB_P_NORMALIZE))
#define SPARSE_PARAMS (TASK_PARAMS | BIT(MPB_P_DENSITY) | BIT(MPB_P_RESCALE))

static const mpb_method_info method_table[MPB_METHOD_COUNT] = {
    [MPB_METHOD_LINEAR] = {.name = "linear", .min_others = 1, .weight_needed = true,
                           .used = BIT(MPB_P_WEIGHT) | BIT(MPB_P_NORMALIZE),
                           .default_normalize = true},
    [MPB_METHOD_INTERPOLATE] = {.name = "interpolate", .base_is_end = true, .exact_inputs = 2,
                                .used = BIT(MPB_P_LAMBDA)},
    [MPB_METHOD_PASSTHROUGH] = {.name = "passthrough", .exact_inputs = 1},
    [MPB_METHOD_TASK_ARITHMETIC] = {.name = "task_arithmetic", .needs_base = true,
                                    .min_others = 1, .task_family = true,
                                    .weight_needed = true, .used = TASK_PARAMS},
    [MPB_METHOD_TIES] = {.name = "ties", .needs_base = true, .min_others = 1,
                         .task_family = true, .weight_needed = true, .used = SPARSE_PARAMS,
                         .default_normalize = true},
    [MPB_METHOD_DARE_LINEAR] = {.name = "dare_linear", .needs_base = true, .min_others = 1,
                                .task_family = true, .weight_needed = true,
                                .used = SPARSE_PARAMS | BIT(MPB_P_SEED),
                                .default_rescale = true},
    [MPB_METHOD_DARE_TIES] = {.name = "dare_ties", .needs_base = true, .min_others = 1,
                              .task_family = true, .weight_needed = true,
                              .used = SPARSE_PARAMS | BIT(MPB_P_SEED), .default_rescale = true},
    [MPB_METHOD_BREADCRUMBS] = {.name = "breadcrumbs", .needs_base = true, .min_others = 1,
                                .task_family = true, .weight_needed = true,
                                .used = SPARSE_PARAMS | BIT(MPB_P_GAMMA)},
    [MPB_METHOD_BREADCRUMBS_TIES] = {.name = "breadcrumbs_ties", .needs_base = true,
                                     .min_others = 1, .task_family = true,
                                     .weight_needed = true,
                                     .used = SPARSE_PARAMS | BIT(MPB_P_GAMMA)},
    [MPB_METHOD_SLERP] = {.name = "slerp", .base_is_end = true, .exact_inputs = 2,
                          .used = BIT(MPB_P_T)},
    [MPB_METHOD_MODEL_STOCK] = {.name = "model_stock", .needs_base = true, .min_others = 2},
};

const mpb_method_info *mpb_method_get(mpb_method m)
{
    return (unsigned)m < MPB_METHOD_COUNT ? &method_table[m] : NULL;
}

const char *mpb_method_name(mpb_method m)
{
    return (unsigned)m < MPB_METHOD_COUNT ? method_table[m].name : "invalid";
}

bool mpb_method_lookup(const char *name, mpb_method *out)
{
    for (int m = 0; m < MPB_METHOD_COUNT; m++) {
        if (strcmp(name, method_table[m].name) == 0) {
            *out = (mpb_method)m;
            return true;
        }
    }
    return false;
}

const char *mpb_method_list(void)
{
    /* Kept in table order; tests compare it with mpb_method_name. */
    return "linear, interpolate, passthrough, task_arithmetic, ties, dare_linear, dare_ties, "
           "breadcrumbs, breadcrumbs_ties, slerp, model_stock";
}

double mpb_method_default(mpb_method m, mpb_param_id id)
{
    const mpb_method_info *info = mpb_method_get(m);
    switch (id) {
    case MPB_P_DENSITY: return 1.0;
    case MPB_P_LAMBDA: return info->task_family ? 1.0 : NAN;
    case MPB_P_GAMMA: return (info->used & BIT(MPB_P_GAMMA)) ? 0.01 : NAN;
    default: return NAN;
    }
}
