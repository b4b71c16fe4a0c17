/* Scores against a swept parameter, one panel per metric (one line per
 * combination of the other swept values); or one metric against another
 * with the Pareto front marked. */
#include "mpb_eval_plot.h"

#include "mpb_eval_internal.h"
#include "mpb_plot_svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 760.0
#define PANEL_H 250.0
#define LEFT 80.0
#define RIGHT 230.0
#define TOP 40.0

struct plot {
    const char *dir;
    const mpb_plot_opts *o;
    mpb_manifest m;
    mpb_scores scores;
    size_t param;
};

struct pt {
    double x, y;
    char series[256];
};

static int cmp_pt(const void *a, const void *b)
{
    const struct pt *p = a, *q = b;
    int c = strcmp(p->series, q->series);
    return c ? c : (p->x > q->x) - (p->x < q->x);
}

/* The other swept values of a point, " a=1 b=2" ("" with one parameter). */
static void others(const mpb_manifest *m, const mpb_manifest_point *p, size_t param, char *buf,
                   size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < m->n_params && used < len; j++)
        if (j != param)
            used +=
                (size_t)snprintf(buf + used, len - used, " %s=%s", m->names[j], p->values[j]);
}

static long metric_column(const struct plot *p, const char *metric, mpb_error *err)
{
    long k = mpb_scores_column(&p->scores, metric);
    if (k < 0)
        mpb_fail(err, MPB_EINVAL, "no scores for metric '%s' in '%s' (recorded: %s%s)", metric,
                 p->dir, p->scores.n_metrics ? p->scores.metrics[0] : "none",
                 p->scores.n_metrics > 1 ? ", ..." : "");
    return k;
}

/* One panel: the metric's scores against the parameter. */
static void draw_panel(FILE *f, const struct plot *p, size_t k, double top)
{
    struct pt *pts = calloc(p->m.n + 1, sizeof *pts);
    double *xs = calloc(p->m.n + 1, sizeof *xs), *ys = calloc(p->m.n + 1, sizeof *ys);
    size_t n = 0;
    for (size_t i = 0; pts && xs && ys && i < p->m.n; i++) {
        double y = mpb_scores_get(&p->scores, i, k);
        if (isnan(y))
            continue;
        pts[n].x = xs[n] = strtod(p->m.points[i].values[p->param], NULL);
        pts[n].y = ys[n] = y;
        others(&p->m, &p->m.points[i], p->param, pts[n].series, sizeof pts[n].series);
        n++;
    }
    qsort(pts, n, sizeof *pts, cmp_pt);
    mpb_svg_axes a = {.left = LEFT, .top = top, .w = W - LEFT - RIGHT, .h = PANEL_H - 70};
    mpb_svg_range(xs, n, 0, &a.x0, &a.x1);
    mpb_svg_range(ys, n, 0.05, &a.y0, &a.y1);
    mpb_svg_axes_draw(f, &a, p->m.names[p->param], p->scores.metrics[k]);
    size_t series = 0;
    for (size_t i = 0; i < n; series++) {
        size_t j = i;
        while (j < n && strcmp(pts[j].series, pts[i].series) == 0)
            j++;
        const char *color = mpb_svg_palette[series % 8];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        for (size_t q = i; q < j; q++)
            fprintf(f, "%.1f,%.1f ", mpb_svg_x(&a, pts[q].x), mpb_svg_y(&a, pts[q].y));
        fprintf(f, "\"/>\n");
        for (size_t q = i; q < j; q++)
            fprintf(f,
                    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%g, "
                    "%g</title></circle>\n",
                    mpb_svg_x(&a, pts[q].x), mpb_svg_y(&a, pts[q].y), color, pts[q].x,
                    pts[q].y);
        double ly = top + 14 + 18.0 * (double)series;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\">",
                W - RIGHT + 12, ly, W - RIGHT + 36, ly, color, W - RIGHT + 42, ly + 4);
        mpb_svg_text(f, p->scores.metrics[k]);
        mpb_svg_text(f, pts[i].series);
        fprintf(f, "</text>\n");
        i = j;
    }
    free(pts);
    free(xs);
    free(ys);
}

static int draw_lines(FILE *f, const struct plot *p, size_t *n_drawn, mpb_error *err)
{
    const mpb_plot_opts *o = p->o;
    size_t n = o->n_metrics ? o->n_metrics : p->scores.n_metrics;
    long *cols = calloc(n + 1, sizeof *cols);
    if (cols == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = n ? MPB_OK
               : mpb_fail(err, MPB_EINVAL,
                          "no scores recorded in '%s': run "
                          "mpiblend eval first",
                          p->dir);
    for (size_t i = 0; i < n && rc == MPB_OK; i++)
        if ((cols[i] = o->n_metrics ? metric_column(p, o->metrics[i], err) : (long)i) < 0)
            rc = err->code;
    *n_drawn = 0;
    for (size_t i = 0; i < n && rc == MPB_OK; i++)
        for (size_t r = 0; r < p->m.n; r++)
            *n_drawn += !isnan(mpb_scores_get(&p->scores, r, (size_t)cols[i]));
    if (rc == MPB_OK && *n_drawn == 0)
        rc = mpb_fail(err, MPB_EINVAL, "no successful scores to plot in '%s'", p->dir);
    if (rc == MPB_OK) {
        char title[512];
        snprintf(title, sizeof title, "%s: scores against %s", p->dir, p->m.names[p->param]);
        mpb_svg_begin(f, W, TOP + PANEL_H * (double)n, title);
        for (size_t i = 0; i < n; i++)
            draw_panel(f, p, (size_t)cols[i], TOP + 10 + PANEL_H * (double)i);
        mpb_svg_end(f);
    }
    free(cols);
    return rc;
}

/* The direction of a metric on the front: --maximize/--minimize, else the
 * default given (y up, x down: accuracy against tokens). */
static bool maximized(const mpb_plot_opts *o, const char *metric, bool fallback)
{
    for (size_t i = 0; i < o->n_objectives; i++)
        if (strcmp(o->objectives[i].metric, metric) == 0)
            return o->objectives[i].maximize;
    return fallback;
}

static int draw_scatter(FILE *f, const struct plot *p, size_t *n_drawn, mpb_error *err)
{
    const mpb_plot_opts *o = p->o;
    long cx = metric_column(p, o->x, err), cy = cx < 0 ? -1 : metric_column(p, o->y, err);
    if (cx < 0 || cy < 0)
        return err->code;
    size_t n = 0;
    double *v = calloc(2 * p->m.n + 1, sizeof *v), *xs = calloc(p->m.n + 1, sizeof *xs),
           *ys = calloc(p->m.n + 1, sizeof *ys);
    size_t *rows = calloc(p->m.n + 1, sizeof *rows);
    bool *front = calloc(p->m.n + 1, sizeof *front);
    int rc =
        v && xs && ys && rows && front ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MPB_OK && i < p->m.n; i++) {
        double x = mpb_scores_get(&p->scores, i, (size_t)cx);
        double y = mpb_scores_get(&p->scores, i, (size_t)cy);
        if (isnan(x) || isnan(y))
            continue;
        v[2 * n] = xs[n] = x;
        v[2 * n + 1] = ys[n] = y;
        rows[n++] = i;
    }
    if (rc == MPB_OK && n == 0)
        rc = mpb_fail(err, MPB_EINVAL, "no point of '%s' has scores for both %s and %s", p->dir,
                      o->x, o->y);
    if (rc == MPB_OK) {
        mpb_objective obj[2] = {{o->x, maximized(o, o->x, false)},
                                {o->y, maximized(o, o->y, true)}};
        mpb_pareto_front(v, n, obj, 2, front);
        char title[512];
        snprintf(title, sizeof title, "%s: %s against %s, Pareto front (%s %s, %s %s) in red",
                 p->dir, o->y, o->x, obj[1].maximize ? "max" : "min", o->y,
                 obj[0].maximize ? "max" : "min", o->x);
        mpb_svg_begin(f, W, TOP + PANEL_H + 150, title);
        mpb_svg_axes a = {
            .left = LEFT, .top = TOP + 10, .w = W - LEFT - 40, .h = PANEL_H + 150 - 80};
        mpb_svg_range(xs, n, 0.06, &a.x0, &a.x1);
        mpb_svg_range(ys, n, 0.06, &a.y0, &a.y1);
        mpb_svg_axes_draw(f, &a, o->x, o->y);
        /* The front as a line through its points in order of x. */
        fprintf(f, "<polyline class=\"front\" fill=\"none\" stroke=\"#d62728\" "
                   "stroke-width=\"1.5\" stroke-dasharray=\"5,3\" points=\"");
        for (size_t pass = 0, last = SIZE_MAX; pass < n; pass++) {
            size_t next = SIZE_MAX;
            for (size_t i = 0; i < n; i++)
                if (front[i] &&
                    (last == SIZE_MAX || xs[i] > xs[last] || (xs[i] == xs[last] && i > last)) &&
                    (next == SIZE_MAX || xs[i] < xs[next]))
                    next = i;
            if (next == SIZE_MAX)
                break;
            fprintf(f, "%.1f,%.1f ", mpb_svg_x(&a, xs[next]), mpb_svg_y(&a, ys[next]));
            last = next;
        }
        fprintf(f, "\"/>\n");
        for (size_t i = 0; i < n; i++) {
            const mpb_manifest_point *pt = &p->m.points[rows[i]];
            char label[256];
            if (p->m.n_params == 1)
                snprintf(label, sizeof label, "%s", pt->values[0]);
            else
                others(&p->m, pt, p->m.n_params, label, sizeof label);
            double x = mpb_svg_x(&a, xs[i]), y = mpb_svg_y(&a, ys[i]);
            fprintf(f,
                    "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\">"
                    "<title>",
                    front[i] ? "front" : "point", x, y, front[i] ? "5" : "3.5",
                    front[i] ? "#d62728" : "#1f77b4");
            mpb_svg_text(f, label);
            fprintf(f,
                    ": %s %g, %s %g</title></circle>\n<text class=\"label\" x=\"%.1f\" "
                    "y=\"%.1f\" font-size=\"11\">",
                    o->x, xs[i], o->y, ys[i], x + 6, y - 6);
            mpb_svg_text(f, label);
            fprintf(f, "</text>\n");
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">labels: ", LEFT,
                TOP + PANEL_H + 150 - 10);
        for (size_t j = 0; j < p->m.n_params; j++)
            fprintf(f, "%s%s", j ? ", " : "", p->m.names[j]);
        fprintf(f, "</text>\n");
        mpb_svg_end(f);
        *n_drawn = n;
    }
    free(v);
    free(xs);
    free(ys);
    free(rows);
    free(front);
    return rc;
}

static int load(struct plot *p, mpb_error *err)
{
    bool found;
    int rc = mpb_manifest_read(p->dir, &p->m, &found, err);
    if (rc == MPB_OK && !found)
        return mpb_fail(err, MPB_EINVAL, "'%s' has no %s", p->dir, MPB_MANIFEST_JSON);
    if (rc == MPB_OK)
        rc = mpb_scores_load(p->dir, &p->m, true, &p->scores, err);
    if (rc || p->o->x)
        return rc;
    const char *param = p->o->param;
    size_t j = 0;
    while (j < p->m.n_params &&
           (param ? strcmp(p->m.names[j], param) != 0 : p->m.n_params != 1))
        j++;
    p->param = j;
    if (j == p->m.n_params && param)
        return mpb_fail(err, MPB_EINVAL, "'%s' is not swept in '%s'", param, p->dir);
    if (j == p->m.n_params)
        return mpb_fail(err, MPB_EINVAL,
                        "several parameters are swept in '%s'; name one "
                        "with --param",
                        p->dir);
    return MPB_OK;
}

int mpb_eval_plot_run(const char *dir, const mpb_plot_opts *o, mpb_error *err)
{
    struct plot p = {.dir = dir, .o = o};
    int rc = load(&p, err);
    char *svg = NULL, *path = NULL;
    size_t len = 0, n = 0;
    FILE *f = rc == MPB_OK ? open_memstream(&svg, &len) : NULL;
    if (rc == MPB_OK && f == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (f) {
        rc = o->x ? draw_scatter(f, &p, &n, err) : draw_lines(f, &p, &n, err);
        fclose(f);
    }
    if (rc == MPB_OK) {
        char name[600];
        if (o->x)
            snprintf(name, sizeof name, "%s-vs-%s.svg", o->y, o->x);
        path = o->out ? strdup(o->out) : mpb_path_join(dir, o->x ? name : "plot.svg");
        rc = path ? mpb_plot_write(path, svg, len, err)
                  : mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    if (rc == MPB_OK)
        printf("plot: %zu points\n", n);
    free(svg);
    free(path);
    mpb_scores_free(&p.scores);
    mpb_manifest_free(&p.m);
    return rc;
}
