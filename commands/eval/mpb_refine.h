/* `mpiblend refine`: a new sweep config that samples densely where a metric
 * peaks (under constraints), changes fastest, or where the trade-off
 * between metrics is decided (docs/SWEEP.md, "Refinement").  One process. */
#ifndef MPB_REFINE_H
#define MPB_REFINE_H

#include "mpb_error.h"
#include "mpb_pareto.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct mpb_refine_opts {
    const char *param;           /* NULL: the only swept parameter */
    const char *metric;          /* best, steepest */
    const char *out;             /* NULL: next to the config, CONFIG.refine-N.yaml */
    const char *around;          /* "best", "steepest" or "pareto" */
    bool minimize;               /* best: lower scores are better */
    int points;                  /* new values (pareto: per interval of the front) */
    const mpb_constraint *where; /* only points meeting all can be best or on the front */
    size_t n_where;
    const mpb_objective *objectives; /* pareto: two or more */
    size_t n_objectives;
} mpb_refine_opts;

int mpb_refine_run(const char *dir, const mpb_refine_opts *o, mpb_error *err);

#endif
