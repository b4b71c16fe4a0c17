/* `mpiblend refine`: a new sweep config that samples densely where a metric
 * peaks or changes fastest (docs/SWEEP.md, "Refinement").  One process. */
#ifndef MPB_REFINE_H
#define MPB_REFINE_H

#include "mpb_error.h"

#include <stdbool.h>

typedef struct mpb_refine_opts {
    const char *param;   /* NULL: the only swept parameter */
    const char *metric;
    const char *out;     /* NULL: next to the config, CONFIG.refine-N.yaml */
    bool steepest;       /* around the steepest change instead of the best */
    bool minimize;       /* lower scores are better */
    int points;          /* new values to propose */
} mpb_refine_opts;

int mpb_refine_run(const char *dir, const mpb_refine_opts *o, mpb_error *err);

#endif
