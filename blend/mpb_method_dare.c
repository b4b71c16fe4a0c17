/* dare_linear and dare_ties: each task vector keeps every element with
 * probability `density` (a counter-based draw from `seed`, mpb_random.c),
 * rescaled; dare_ties adds the sign election of mpb_method_task.c. */
#include "mpb_registry.h"

#define DARE_PARAMS MPB_SPARSE_PARAMS(0, 1), [MPB_P_SEED] = MPB_PARAM_USED

const mpb_method_def mpb_method_dare_linear = {
    .name = "dare_linear",
    .summary = "random keep with probability density, rescaled (l1)",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {DARE_PARAMS},
    .whole_tensor_stats = true, /* the L1 rescale */
    .sparsify = MPB_KEEP_RANDOM,
    .blend = MPB_BLEND_TASK,
};

const mpb_method_def mpb_method_dare_ties = {
    .name = "dare_ties",
    .summary = "dare_linear's drop, then sign election",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {DARE_PARAMS},
    .whole_tensor_stats = true,
    .elects_sign = true,
    .sparsify = MPB_KEEP_RANDOM,
    .blend = MPB_BLEND_TASK,
};
