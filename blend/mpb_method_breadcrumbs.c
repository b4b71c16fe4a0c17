/* breadcrumbs and breadcrumbs_ties: each task vector drops its `gamma`
 * largest magnitudes and keeps the next `density` (Model Breadcrumbs);
 * breadcrumbs_ties adds the sign election of mpb_method_task.c. */
#include "mpb_registry.h"

#define BREADCRUMBS_PARAMS MPB_SPARSE_PARAMS(0, 0), [MPB_P_GAMMA] = MPB_PARAM_DEFAULT(0.01)

const mpb_method_def mpb_method_breadcrumbs = {
    .name = "breadcrumbs",
    .summary = "drop the gamma largest magnitudes, keep the next density",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {BREADCRUMBS_PARAMS},
    .whole_tensor_stats = true,
    .sparsify = MPB_KEEP_WINDOW,
    .deterministic = true,
    .blend = MPB_BLEND_TASK,
};

const mpb_method_def mpb_method_breadcrumbs_ties = {
    .name = "breadcrumbs_ties",
    .summary = "breadcrumbs' window, then sign election",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {BREADCRUMBS_PARAMS},
    .whole_tensor_stats = true,
    .elects_sign = true,
    .sparsify = MPB_KEEP_WINDOW,
    .deterministic = true,
    .blend = MPB_BLEND_TASK,
};
