/* Scores on disk: one JSON record per point and metric, written atomically
 * so that array jobs evaluating different points never clobber each other,
 * and DIR/results.csv rebuilt from all of them. */
#include "mpb_eval_internal.h"
#include "mpb_sweep.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESULTS_CSV "results.csv"

int mpb_eval_record_write(const char *metric_dir, const mpb_manifest *m,
                          const mpb_manifest_point *p, const char *metric,
                          const mpb_eval_record *r, mpb_error *err)
{
    json_t *values = json_object();
    for (size_t j = 0; values && j < m->n_params; j++)
        json_object_set_new(values, m->names[j], json_string(p->values[j]));
    json_t *rec = json_pack("{s:I, s:s, s:o, s:s, s:o, s:s, s:i, s:f, s:s}", "point",
                            (json_int_t)r->point, "path", p->path, "values", values, "metric",
                            metric, "score", r->ok ? json_real(r->score) : json_null(),
                            "status", r->ok ? "ok" : "failed", "exit_code", r->exit_code,
                            "wall_s", r->wall_s, "error", r->error);
    char *text = rec ? json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(rec);
    char *path = mpb_eval_record_path(metric_dir, r->point);
    int rc = text && path ? mpb_write_file_atomic(path, text, strlen(text), err)
                          : mpb_fail(err, MPB_ENOMEM, "out of memory");
    free(text);
    free(path);
    return rc;
}

static void csv_number(FILE *f, double v, bool last)
{
    char text[64];
    mpb_sweep_format_value(v, text, sizeof text);
    mpb_csv_field(f, text, last);
}

/* One row per point and metric, in point order, metrics by name. */
static void results_rows(FILE *f, const char *metric_dir, const char *metric,
                         const mpb_manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const mpb_manifest_point *p = &m->points[i];
        char *path = mpb_eval_record_path(metric_dir, p->point);
        json_t *rec = path ? json_load_file(path, 0, NULL) : NULL;
        free(path);
        if (rec == NULL)
            continue;
        char num[32];
        snprintf(num, sizeof num, "%zu", p->point);
        mpb_csv_field(f, num, false);
        for (size_t j = 0; j < m->n_params; j++)
            mpb_csv_field(f, p->values[j], false);
        mpb_csv_field(f, p->path, false);
        mpb_csv_field(f, metric, false);
        json_t *score = json_object_get(rec, "score");
        if (json_is_number(score))
            csv_number(f, json_number_value(score), false);
        else
            mpb_csv_field(f, "", false);
        const char *status = json_string_value(json_object_get(rec, "status"));
        mpb_csv_field(f, status ? status : "", false);
        snprintf(num, sizeof num, "%lld",
                 (long long)json_integer_value(json_object_get(rec, "exit_code")));
        mpb_csv_field(f, num, false);
        snprintf(num, sizeof num, "%.3f", json_number_value(json_object_get(rec, "wall_s")));
        mpb_csv_field(f, num, true);
        json_decref(rec);
    }
}

int mpb_eval_results_write(const char *dir, const mpb_manifest *m, mpb_error *err)
{
    char **metrics;
    size_t n_metrics;
    int rc = mpb_eval_metrics(dir, &metrics, &n_metrics, err);
    char *text = NULL;
    size_t len = 0;
    FILE *f = rc == MPB_OK ? open_memstream(&text, &len) : NULL;
    if (rc == MPB_OK && f == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (f) {
        mpb_csv_field(f, "point", false);
        for (size_t j = 0; j < m->n_params; j++)
            mpb_csv_field(f, m->names[j], false);
        static const char *const tail[] = {"path",   "metric",    "score",
                                           "status", "exit_code", "wall_s"};
        for (size_t c = 0; c < 6; c++)
            mpb_csv_field(f, tail[c], c == 5);
        for (size_t k = 0; k < n_metrics && rc == MPB_OK; k++) {
            char *metric_dir = NULL;
            rc = mpb_eval_metric_dir(dir, metrics[k], false, &metric_dir, err);
            if (rc == MPB_OK)
                results_rows(f, metric_dir, metrics[k], m);
            free(metric_dir);
        }
        if (fclose(f) != 0 && rc == MPB_OK)
            rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    char *path = mpb_path_join(dir, RESULTS_CSV);
    if (rc == MPB_OK)
        rc = path ? mpb_write_file_atomic(path, text, len, err)
                  : mpb_fail(err, MPB_ENOMEM, "out of memory");
    free(path);
    free(text);
    for (size_t k = 0; k < n_metrics; k++)
        free(metrics[k]);
    free(metrics);
    return rc;
}

int mpb_eval_manifest_refresh(const char *dir, mpb_error *err)
{
    mpb_manifest m;
    bool found;
    int rc = mpb_manifest_read(dir, &m, &found, err);
    if (rc == MPB_OK && found)
        rc = mpb_manifest_write(dir, &m, err);
    mpb_manifest_free(&m);
    return rc;
}
