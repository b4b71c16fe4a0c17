/* ties: each task vector keeps its `density` largest magnitudes, then the
 * sign election of mpb_method_task.c (TIES-Merging). */
#include "mpb_registry.h"

const mpb_method_def mpb_method_ties = {
    .name = "ties",
    .summary = "the top density of each task vector, sign election",
    .base = MPB_BASE_NEEDED,
    .min_others = 1,
    .params = {MPB_SPARSE_PARAMS(1, 0)},
    .whole_tensor_stats = true,
    .elects_sign = true,
    .sparsify = MPB_KEEP_WINDOW,
    .deterministic = true,
    .blend = MPB_BLEND_TASK,
};
