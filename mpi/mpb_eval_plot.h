/* `mpiblend plot`: the recorded scores against a swept parameter as an SVG
 * that any browser opens.  One process. */
#ifndef MPB_EVAL_PLOT_H
#define MPB_EVAL_PLOT_H

#include "mpb_error.h"

/* metric NULL: every metric recorded; param NULL: the only swept one; out
 * NULL: DIR/plot.svg. */
int mpb_eval_plot_run(const char *dir, const char *metric, const char *param,
                      const char *out, mpb_error *err);

#endif
