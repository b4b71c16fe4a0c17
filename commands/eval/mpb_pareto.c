#include "mpb_pareto.h"

#include "mpb_sweep_scores.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a beats b: at least as good everywhere, better somewhere. */
static bool dominates(const double *a, const double *b, const mpb_objective *obj, size_t k)
{
    bool better = false;
    for (size_t j = 0; j < k; j++) {
        double x = obj[j].maximize ? a[j] : -a[j], y = obj[j].maximize ? b[j] : -b[j];
        if (x < y)
            return false;
        better |= x > y;
    }
    return better;
}

void mpb_pareto_front(const double *v, size_t n, const mpb_objective *obj, size_t k,
                      bool *on_front)
{
    for (size_t i = 0; i < n; i++) {
        on_front[i] = true;
        for (size_t o = 0; o < n && on_front[i]; o++)
            if (o != i && dominates(&v[o * k], &v[i * k], obj, k))
                on_front[i] = false;
    }
}

bool mpb_constraint_parse(const char *text, mpb_constraint *c)
{
    static const char *const ops[] = {"<=", ">=", "==", "<", ">"};
    const char *at = strpbrk(text, "<>=");
    if (at == NULL || at == text || (size_t)(at - text) >= sizeof c->metric)
        return false;
    memset(c, 0, sizeof *c);
    memcpy(c->metric, text, (size_t)(at - text));
    if (!mpb_eval_metric_ok(c->metric))
        return false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t len = strlen(ops[i]);
        if (strncmp(at, ops[i], len) != 0)
            continue;
        snprintf(c->op, sizeof c->op, "%s", ops[i]);
        char *end;
        c->value = strtod(at + len, &end);
        return end != at + len && *end == '\0' && isfinite(c->value);
    }
    return false;
}

bool mpb_constraint_holds(const mpb_constraint *c, double score)
{
    if (isnan(score))
        return false;
    if (c->op[0] == '<')
        return c->op[1] == '=' ? score <= c->value : score < c->value;
    if (c->op[0] == '>')
        return c->op[1] == '=' ? score >= c->value : score > c->value;
    return score == c->value;
}
