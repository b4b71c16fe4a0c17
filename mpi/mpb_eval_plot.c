/* Scores against a swept parameter as a self-contained SVG: one line per
 * metric (and per combination of the other swept values). */
#include "mpb_eval_plot.h"

#include "mpb_eval_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 760.0
#define H 460.0
#define LEFT 70.0
#define RIGHT 230.0
#define TOP 40.0
#define BOTTOM 60.0

struct pt {
    double x, y;
    char series[256];
};

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};

static int cmp_pt(const void *a, const void *b)
{
    const struct pt *p = a, *q = b;
    int c = strcmp(p->series, q->series);
    return c ? c : (p->x > q->x) - (p->x < q->x);
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

/* Series name: the metric, and the other swept values when there are any. */
static void series_name(const mpb_manifest *m, const mpb_manifest_point *p, size_t param,
                        const char *metric, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "%s", metric);
    for (size_t j = 0; j < m->n_params && used < len; j++)
        if (j != param)
            used += (size_t)snprintf(buf + used, len - used, " %s=%s", m->names[j],
                                     p->values[j]);
}

static int gather(const char *dir, const mpb_manifest *m, size_t param, char **metrics,
                  size_t n_metrics, struct pt **pts, size_t *n, mpb_error *err)
{
    *pts = calloc(m->n * n_metrics + 1, sizeof **pts);
    *n = 0;
    if (*pts == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = MPB_OK;
    for (size_t k = 0; k < n_metrics && rc == MPB_OK; k++) {
        char *metric_dir = NULL;
        rc = mpb_eval_metric_dir(dir, metrics[k], false, &metric_dir, err);
        for (size_t i = 0; i < m->n && rc == MPB_OK; i++) {
            bool found, ok;
            double score;
            rc = mpb_eval_record_read(metric_dir, m->points[i].point, &found, &ok, &score, err);
            if (rc || !found || !ok)
                continue;
            struct pt *p = &(*pts)[(*n)++];
            p->x = strtod(m->points[i].values[param], NULL);
            p->y = score;
            series_name(m, &m->points[i], param, metrics[k], p->series, sizeof p->series);
        }
        free(metric_dir);
    }
    if (rc == MPB_OK && *n == 0)
        rc = mpb_fail(err, MPB_EINVAL, "no scores recorded in '%s': run mpiblend eval first",
                      dir);
    qsort(*pts, *n, sizeof **pts, cmp_pt);
    return rc;
}

static void axis_range(const struct pt *pts, size_t n, bool y, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = y ? pts[i].y : pts[i].x;
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
    if (*hi - *lo < 1e-12) {
        *lo -= 0.5;
        *hi += 0.5;
    }
    double pad = y ? 0.05 * (*hi - *lo) : 0;
    *lo -= pad;
    *hi += pad;
}

static void draw(FILE *f, const struct pt *pts, size_t n, const char *param, const char *dir)
{
    double x0, x1, y0, y1;
    axis_range(pts, n, false, &x0, &x1);
    axis_range(pts, n, true, &y0, &y1);
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define SX(v) (LEFT + ((v) - x0) / (x1 - x0) * pw)
#define SY(v) (TOP + ph - ((v) - y0) / (y1 - y0) * ph)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" "
               "height=\"100%%\" fill=\"white\"/>\n<text x=\"%.0f\" y=\"22\" "
               "font-size=\"15\">", W, H, LEFT);
    xml_text(f, dir);
    fprintf(f, ": scores against ");
    xml_text(f, param);
    fprintf(f, "</text>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"none\" stroke=\"#444\"/>\n", LEFT, TOP, pw, ph);
    for (int t = 0; t <= 5; t++) {
        double xv = x0 + (x1 - x0) * t / 5, yv = y0 + (y1 - y0) * t / 5;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>\n",
                SX(xv), TOP, SX(xv), TOP + ph, SX(xv), TOP + ph + 16, xv);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n",
                LEFT, SY(yv), LEFT + pw, SY(yv), LEFT - 6, SY(yv) + 4, yv);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", LEFT + pw / 2, H - 18);
    xml_text(f, param);
    fprintf(f, "</text>\n");
    size_t series = 0;
    for (size_t i = 0; i < n; series++) {
        size_t j = i;
        while (j < n && strcmp(pts[j].series, pts[i].series) == 0)
            j++;
        const char *color = palette[series % (sizeof palette / sizeof palette[0])];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        for (size_t k = i; k < j; k++)
            fprintf(f, "%.1f,%.1f ", SX(pts[k].x), SY(pts[k].y));
        fprintf(f, "\"/>\n");
        for (size_t k = i; k < j; k++)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%g, "
                       "%g</title></circle>\n", SX(pts[k].x), SY(pts[k].y), color, pts[k].x,
                    pts[k].y);
        double ly = TOP + 14 + 18.0 * (double)series;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\">", W - RIGHT + 12, ly,
                W - RIGHT + 36, ly, color, W - RIGHT + 42, ly + 4);
        xml_text(f, pts[i].series);
        fprintf(f, "</text>\n");
        i = j;
    }
    fprintf(f, "</svg>\n");
#undef SX
#undef SY
}

int mpb_eval_plot_run(const char *dir, const char *metric, const char *param,
                      const char *out, mpb_error *err)
{
    mpb_manifest m;
    bool found;
    int rc = mpb_manifest_read(dir, &m, &found, err);
    if (rc == MPB_OK && !found)
        rc = mpb_fail(err, MPB_EINVAL, "'%s' has no %s", dir, MPB_MANIFEST_JSON);
    if (rc)
        return rc;
    size_t j = 0;
    while (j < m.n_params && (param ? strcmp(m.names[j], param) != 0 : m.n_params != 1))
        j++;
    char **metrics = NULL;
    size_t n_metrics = 0;
    if (j == m.n_params && param)
        rc = mpb_fail(err, MPB_EINVAL, "'%s' is not swept in '%s'", param, dir);
    else if (j == m.n_params)
        rc = mpb_fail(err, MPB_EINVAL, "several parameters are swept in '%s'; name one "
                      "with --param", dir);
    else if (metric) {
        metrics = malloc(sizeof *metrics);
        if (metrics && (metrics[0] = strdup(metric)) != NULL)
            n_metrics = 1;
        else
            rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    } else {
        rc = mpb_eval_metrics(dir, &metrics, &n_metrics, err);
    }
    struct pt *pts = NULL;
    size_t n = 0;
    if (rc == MPB_OK)
        rc = gather(dir, &m, j, metrics, n_metrics, &pts, &n, err);
    char *path = out ? strdup(out) : mpb_path_join(dir, "plot.svg");
    char *svg = NULL;
    size_t len = 0;
    FILE *f = rc == MPB_OK ? open_memstream(&svg, &len) : NULL;
    if (f) {
        draw(f, pts, n, m.names[j], dir);
        fclose(f);
        rc = path ? mpb_write_file_atomic(path, svg, len, err)
                  : mpb_fail(err, MPB_ENOMEM, "out of memory");
        if (rc == MPB_OK)
            printf("plot: %zu points -> %s\n", n, path);
    }
    free(svg);
    free(path);
    free(pts);
    for (size_t k = 0; k < n_metrics; k++)
        free(metrics[k]);
    free(metrics);
    mpb_manifest_free(&m);
    return rc;
}
