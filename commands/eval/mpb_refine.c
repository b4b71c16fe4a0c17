#include "mpb_refine.h"

#include "mpb_eval_internal.h"
#include "mpb_sweep.h"
#include "mpb_sweep_points.h"
#include "mpb_sweep_scores.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sample {
    size_t row;
    double x, score;
};

struct refine {
    const char *dir;
    const mpb_refine_opts *o;
    mpb_manifest m;
    mpb_sweep *s;
    size_t param;
    mpb_scores scores;
    const char *metric; /* the one that picks the best point */
    bool minimize;
    struct sample *all; /* points scored in every metric refine reads */
    size_t n_all;
    struct sample *line; /* those on the line through the best point */
    size_t n_line;
    size_t best; /* in line */
};

static int cmp_x(const void *a, const void *b)
{
    double x = ((const struct sample *)a)->x, y = ((const struct sample *)b)->x;
    return (x > y) - (x < y);
}

/* The folder's config, unchanged since the sweep (same study). */
static int load(struct refine *r, mpb_error *err)
{
    bool found;
    int rc = mpb_manifest_read(r->dir, &r->m, &found, err);
    if (rc == MPB_OK && !found)
        return mpb_fail(err, MPB_EINVAL, "'%s' has no %s: run mpiblend sweep into it first",
                        r->dir, MPB_MANIFEST_JSON);
    char *text = NULL;
    if (rc == MPB_OK)
        rc = mpb_file_read_text(r->m.config, "sweep config", &text, NULL, err);
    if (rc == MPB_OK)
        rc = mpb_sweep_parse(text, strlen(text), r->m.config, &r->s, err);
    free(text);
    char hash[32];
    if (rc == MPB_OK)
        rc = mpb_sweep_study_hash(r->s, hash, sizeof hash, err);
    if (rc == MPB_OK && strcmp(hash, r->m.study_hash) != 0)
        rc = mpb_fail(err, MPB_EINVAL,
                      "config '%s' changed since the sweep in '%s' was "
                      "written; refine needs the config of that sweep",
                      r->m.config, r->dir);
    if (rc)
        return rc;
    size_t n = mpb_sweep_n_params(r->s);
    for (r->param = 0; r->param < n; r->param++)
        if (r->o->param ? !strcmp(r->o->param, mpb_sweep_param_name(r->s, r->param)) : n == 1)
            break;
    if (r->param < n)
        return MPB_OK;
    if (r->o->param)
        return mpb_fail(err, MPB_EINVAL, "'%s' is not a swept parameter of '%s'", r->o->param,
                        r->dir);
    return mpb_fail(err, MPB_EINVAL, "'%s' sweeps several parameters; name one with --param",
                    r->dir);
}

static bool pareto(const struct refine *r)
{
    return strcmp(r->o->around, "pareto") == 0;
}

/* New values: per interval of the front for pareto (default 1), in all
 * otherwise (default 4). */
static int points(const struct refine *r)
{
    return r->o->points > 0 ? r->o->points : pareto(r) ? 1 : 4;
}

static long column(const struct refine *r, const char *metric, mpb_error *err)
{
    long k = mpb_scores_column(&r->scores, metric);
    if (k < 0)
        mpb_fail(err, MPB_EINVAL,
                 "no scores for metric '%s' in '%s': run mpiblend eval "
                 "--metric %s first",
                 metric, r->dir, metric);
    return k;
}

/* The points scored in every metric refine reads. */
static int collect(struct refine *r, mpb_error *err)
{
    const mpb_refine_opts *o = r->o;
    r->metric = pareto(r) ? o->objectives[0].metric : o->metric;
    r->minimize = pareto(r) ? !o->objectives[0].maximize : o->minimize;
    int rc = mpb_scores_load(r->dir, &r->m, true, &r->scores, err);
    if (rc)
        return rc;
    size_t n_need = 1 + o->n_where + (pareto(r) ? o->n_objectives : 0);
    long *need = calloc(n_need, sizeof *need);
    r->all = calloc(r->m.n + 1, sizeof *r->all);
    r->line = calloc(r->m.n + 1, sizeof *r->line);
    if (!need || !r->all || !r->line)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    size_t k = 0;
    if (rc == MPB_OK && (need[k++] = column(r, r->metric, err)) < 0)
        rc = err->code;
    for (size_t i = 0; rc == MPB_OK && i < o->n_where; i++)
        if ((need[k++] = column(r, o->where[i].metric, err)) < 0)
            rc = err->code;
    for (size_t i = 0; rc == MPB_OK && pareto(r) && i < o->n_objectives; i++)
        if ((need[k++] = column(r, o->objectives[i].metric, err)) < 0)
            rc = err->code;
    for (size_t i = 0; i < r->m.n && rc == MPB_OK; i++) {
        bool scored = true;
        for (size_t j = 0; j < n_need; j++)
            scored &= !isnan(mpb_scores_get(&r->scores, i, (size_t)need[j]));
        if (scored)
            r->all[r->n_all++] =
                (struct sample){i, strtod(r->m.points[i].values[r->param], NULL),
                                mpb_scores_get(&r->scores, i, (size_t)need[0])};
    }
    free(need);
    if (rc == MPB_OK && r->n_all == 0)
        rc = mpb_fail(err, MPB_EINVAL,
                      "no point of '%s' has scores for every metric refine "
                      "needs (%s%s)",
                      r->dir, r->metric, o->n_where ? " and --where" : "");
    return rc;
}

static bool meets_where(const struct refine *r, size_t row)
{
    for (size_t i = 0; i < r->o->n_where; i++) {
        long k = mpb_scores_column(&r->scores, r->o->where[i].metric);
        if (!mpb_constraint_holds(&r->o->where[i], mpb_scores_get(&r->scores, row, (size_t)k)))
            return false;
    }
    return true;
}

/* The best point meeting --where, and the scored points that differ from it
 * only in the refined parameter, by value. */
static int pick_line(struct refine *r, mpb_error *err)
{
    long best = -1;
    for (size_t i = 0; i < r->n_all; i++) {
        if (!meets_where(r, r->all[i].row))
            continue;
        if (best < 0 || (r->minimize ? r->all[i].score < r->all[best].score
                                     : r->all[i].score > r->all[best].score))
            best = (long)i;
    }
    if (best < 0)
        return mpb_fail(err, MPB_EINVAL, "no scored point of '%s' meets --where", r->dir);
    const mpb_manifest_point *b = &r->m.points[r->all[best].row];
    for (size_t i = 0; i < r->n_all; i++) {
        const mpb_manifest_point *p = &r->m.points[r->all[i].row];
        bool same = true;
        for (size_t j = 0; j < r->m.n_params; j++)
            same &= j == r->param || strcmp(p->values[j], b->values[j]) == 0;
        if (same)
            r->line[r->n_line++] = r->all[i];
    }
    qsort(r->line, r->n_line, sizeof *r->line, cmp_x);
    for (size_t i = 0; i < r->n_line; i++)
        if (r->line[i].row == r->all[best].row)
            r->best = i;
    return MPB_OK;
}

static bool known(const struct refine *r, const char *const *values, size_t n, double v)
{
    const mpb_manifest_point *b = &r->m.points[r->line[r->best].row];
    for (size_t i = 0; i < r->m.n; i++) {
        const mpb_manifest_point *p = &r->m.points[i];
        bool same = true;
        for (size_t j = 0; j < r->m.n_params; j++)
            same &= j == r->param || strcmp(p->values[j], b->values[j]) == 0;
        double x = strtod(p->values[r->param], NULL);
        if (same && fabs(x - v) <= 1e-12 * fmax(1, fabs(v)))
            return true;
    }
    for (size_t i = 0; i < n; i++)
        if (strtod(values[i], NULL) == v)
            return true;
    return false;
}

/* m values evenly inside (a, b), new ones only; each with the fewest
 * significant digits (at most 12) that keep it within 5% of a spacing of
 * its even position, so that names stay short: 0.417, not 0.416666666667. */
static int fill(const struct refine *r, double a, double b, int m, char **values, size_t *n,
                mpb_error *err)
{
    double tol = 0.05 * (b - a) / (m + 1);
    for (int i = 1; i <= m; i++) {
        char text[32];
        double exact = a + (b - a) * i / (m + 1), v = exact;
        for (int digits = 1; digits <= 12; digits++) {
            snprintf(text, sizeof text, "%.*g", digits, exact);
            v = strtod(text, NULL);
            if (fabs(v - exact) <= tol)
                break;
        }
        mpb_sweep_format_value(v, text, sizeof text);
        if (known(r, (const char *const *)values, *n, v))
            continue;
        if ((values[(*n)++] = strdup(text)) == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    return MPB_OK;
}

static int around_steepest(struct refine *r, int np, char **values, size_t *n, mpb_error *err)
{
    size_t k = 0;
    double steepest = -1;
    for (size_t i = 0; i + 1 < r->n_line; i++) {
        double dx = r->line[i + 1].x - r->line[i].x;
        double slope = fabs(r->line[i + 1].score - r->line[i].score) / dx;
        if (dx > 0 && slope > steepest) {
            steepest = slope;
            k = i;
        }
    }
    printf("refine: steepest change of %s between %s = %.6g and %.6g\n", r->metric,
           mpb_sweep_param_name(r->s, r->param), r->line[k].x, r->line[k + 1].x);
    return fill(r, r->line[k].x, r->line[k + 1].x, np, values, n, err);
}

static int around_best(struct refine *r, int np, char **values, size_t *n, mpb_error *err)
{
    size_t b = r->best;
    printf("refine: best %s = %.6g at %s = %.6g%s\n", r->metric, r->line[b].score,
           mpb_sweep_param_name(r->s, r->param), r->line[b].x,
           r->o->n_where ? " (among the points meeting --where)" : "");
    bool left = b > 0, right = b + 1 < r->n_line;
    int n_left = left && right ? (np + 1) / 2 : left ? np : 0;
    int rc = left ? fill(r, r->line[b - 1].x, r->line[b].x, n_left, values, n, err) : MPB_OK;
    if (rc == MPB_OK && right)
        rc = fill(r, r->line[b].x, r->line[b + 1].x, np - n_left, values, n, err);
    return rc;
}

/* The front among the line's points that meet --where; np values between
 * each pair of front points that are neighbours along the parameter. */
static int around_pareto(struct refine *r, int np, char **values, size_t *n, mpb_error *err)
{
    const mpb_refine_opts *o = r->o;
    size_t k = o->n_objectives, m = 0;
    double *v = calloc(r->n_line * k + 1, sizeof *v);
    size_t *idx = calloc(r->n_line + 1, sizeof *idx);
    bool *front = calloc(r->n_line + 1, sizeof *front);
    int rc = v && idx && front ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MPB_OK && i < r->n_line; i++) {
        if (!meets_where(r, r->line[i].row))
            continue;
        for (size_t j = 0; j < k; j++)
            v[m * k + j] =
                mpb_scores_get(&r->scores, r->line[i].row,
                               (size_t)mpb_scores_column(&r->scores, o->objectives[j].metric));
        idx[m++] = i;
    }
    if (rc == MPB_OK)
        mpb_pareto_front(v, m, o->objectives, k, front);
    printf("refine: Pareto front of");
    for (size_t j = 0; j < k; j++)
        printf(" %s %s%s", o->objectives[j].maximize ? "max" : "min", o->objectives[j].metric,
               j + 1 < k ? "," : "");
    printf(" at %s =", mpb_sweep_param_name(r->s, r->param));
    size_t n_front = 0, prev = 0;
    for (size_t i = 0; rc == MPB_OK && i < m; i++) {
        if (!front[i])
            continue;
        printf(" %.6g", r->line[idx[i]].x);
        if (n_front++ > 0)
            rc = fill(r, r->line[idx[prev]].x, r->line[idx[i]].x, np, values, n, err);
        prev = i;
    }
    printf("\n");
    if (rc == MPB_OK && n_front < 2)
        rc = mpb_fail(err, MPB_EINVAL,
                      "the Pareto front has %zu point%s: nothing lies "
                      "between its points (try --around best)",
                      n_front, n_front == 1 ? "" : "s");
    free(v);
    free(idx);
    free(front);
    return rc;
}

static int propose(struct refine *r, char **values, size_t *n, mpb_error *err)
{
    *n = 0;
    if (r->n_line < 2)
        return mpb_fail(err, MPB_EINVAL,
                        "refine needs at least two scored points along "
                        "'%s'",
                        mpb_sweep_param_name(r->s, r->param));
    if (strcmp(r->o->around, "steepest") == 0)
        return around_steepest(r, points(r), values, n, err);
    if (pareto(r))
        return around_pareto(r, points(r), values, n, err);
    return around_best(r, points(r), values, n, err);
}

static char *default_out(const char *config)
{
    size_t len = strlen(config) + 32;
    char *stem = strdup(config), *out = malloc(len);
    if (stem == NULL || out == NULL) {
        free(stem);
        free(out);
        return NULL;
    }
    char *dot = strrchr(stem, '.');
    if (dot && !strchr(dot, '/'))
        *dot = '\0';
    struct stat st;
    for (int k = 1; k < 1000; k++) {
        snprintf(out, len, "%s.refine-%d.yaml", stem, k);
        if (stat(out, &st) != 0)
            break;
    }
    free(stem);
    return out;
}

static int write_config(struct refine *r, char **values, size_t n, mpb_error *err)
{
    size_t np = r->m.n_params;
    const char ***grid = calloc(np, sizeof *grid);
    size_t *counts = calloc(np, sizeof *counts);
    const mpb_manifest_point *b = &r->m.points[r->line[r->best].row];
    if (grid == NULL || counts == NULL) {
        free(grid);
        free(counts);
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < np; j++) {
        grid[j] = j == r->param ? (const char **)values : (const char **)&b->values[j];
        counts[j] = j == r->param ? n : 1;
    }
    char *yaml = NULL, *out = r->o->out ? strdup(r->o->out) : default_out(r->m.config);
    int rc = out ? mpb_sweep_regrid_config(r->s, (const char *const *const *)grid, counts,
                                           &yaml, err)
                 : mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (rc == MPB_OK)
        rc = mpb_write_file_atomic(out, yaml, strlen(yaml), err);
    if (rc == MPB_OK) {
        printf("refine: %zu new value%s of %s:", n, n == 1 ? "" : "s",
               mpb_sweep_param_name(r->s, r->param));
        for (size_t i = 0; i < n; i++)
            printf(" %s", values[i]);
        printf("\nwrote %s\nnext: mpirun -np N mpiblend sweep %s --out-dir %s\n", out, out,
               r->dir);
    }
    free(yaml);
    free(out);
    free(grid);
    free(counts);
    return rc;
}

int mpb_refine_run(const char *dir, const mpb_refine_opts *o, mpb_error *err)
{
    struct refine r = {.dir = dir, .o = o};
    char **values = NULL;
    size_t n = 0;
    int rc = load(&r, err);
    if (rc == MPB_OK)
        rc = collect(&r, err);
    if (rc == MPB_OK &&
        (values = calloc(r.m.n * (size_t)points(&r) + 1, sizeof *values)) == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (rc == MPB_OK)
        rc = pick_line(&r, err);
    if (rc == MPB_OK)
        rc = propose(&r, values, &n, err);
    if (rc == MPB_OK && n == 0)
        rc = mpb_fail(err, MPB_EINVAL,
                      "every value refine would propose is sampled already "
                      "(try more --points)");
    if (rc == MPB_OK)
        rc = write_config(&r, values, n, err);
    for (size_t i = 0; values && i < n; i++)
        free(values[i]);
    free(values);
    free(r.all);
    free(r.line);
    mpb_scores_free(&r.scores);
    mpb_sweep_free(r.s);
    mpb_manifest_free(&r.m);
    fflush(stdout);
    return rc;
}
