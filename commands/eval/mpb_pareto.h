/* Trade-offs between metrics: which points no other point beats in every
 * objective (the Pareto front), and constraints such as `tokens<=500`.
 * Pure computation; refine and plot use it. */
#ifndef MPB_PARETO_H
#define MPB_PARETO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mpb_objective {
    const char *metric;
    bool maximize;
} mpb_objective;

/* v[i * k + j]: point i's score in objective j (no NaN).  on_front[i] is
 * set when no other point is at least as good in every objective and
 * better in one; points with equal scores are all on it. */
void mpb_pareto_front(const double *v, size_t n, const mpb_objective *obj, size_t k,
                      bool *on_front);

/* A constraint METRIC<=V, <, >=, > or ==. */
typedef struct mpb_constraint {
    char metric[128];
    char op[3];
    double value;
} mpb_constraint;

/* Parses "tokens<=500"; false when it is not METRIC OP NUMBER. */
bool mpb_constraint_parse(const char *text, mpb_constraint *c);
bool mpb_constraint_holds(const mpb_constraint *c, double score);

#endif
