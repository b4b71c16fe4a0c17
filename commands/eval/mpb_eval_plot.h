/* `mpiblend plot`: the recorded scores as an SVG that any browser opens
 * (and a PNG when rsvg-convert or ImageMagick's convert is on PATH).  Two
 * kinds: metrics against a swept parameter, one panel per metric; or one
 * metric against another, each point labelled by its swept values, the
 * Pareto front marked.  One process. */
#ifndef MPB_EVAL_PLOT_H
#define MPB_EVAL_PLOT_H

#include "mpb_error.h"
#include "mpb_pareto.h"

#include <stddef.h>

typedef struct mpb_plot_opts {
    const char *const *metrics; /* against the parameter; none: every metric */
    size_t n_metrics;
    const char *param;               /* NULL: the only swept one */
    const char *x, *y;               /* both set: y against x */
    const mpb_objective *objectives; /* directions of x and y for the front */
    size_t n_objectives;
    const char *out; /* NULL: DIR/plot.svg (or DIR/Y-vs-X.svg) */
} mpb_plot_opts;

int mpb_eval_plot_run(const char *dir, const mpb_plot_opts *o, mpb_error *err);

#endif
