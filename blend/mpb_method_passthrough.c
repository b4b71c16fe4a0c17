/* passthrough: every tensor copied unchanged from the one input. */
#include "mpb_registry.h"

const mpb_method_def mpb_method_passthrough = {
    .name = "passthrough",
    .summary = "every tensor copied unchanged from the one input",
    .base = MPB_BASE_IGNORED,
    .exact_inputs = 1,
    .copies_first = true,
    .verifiable = true,
    .deterministic = true,
    .blend = MPB_BLEND_COEFFICIENTS,
};
