/* Scores on disk: one JSON record per point and metric, written atomically
 * so that array jobs evaluating different points never clobber each other,
 * and DIR/results.csv rebuilt from all of them. */
#include "mpb_eval_internal.h"
#include "mpb_sweep.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EVAL_DIR "eval"
#define RESULTS_CSV "results.csv"

bool mpb_eval_metric_ok(const char *metric)
{
    if (metric == NULL || *metric == '\0' || *metric == '.')
        return false;
    return strspn(metric, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
           strlen(metric);
}

int mpb_eval_metric_dir(const char *dir, const char *metric, bool create, char **out,
                        mpb_error *err)
{
    char *eval = mpb_path_join(dir, EVAL_DIR);
    char *path = eval ? mpb_path_join(eval, metric) : NULL;
    int rc = path ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (rc == MPB_OK && create) {
        if ((mkdir(eval, 0777) != 0 && errno != EEXIST) ||
            (mkdir(path, 0777) != 0 && errno != EEXIST))
            rc = mpb_fail(err, MPB_EIO, "cannot create '%s': %s", path, strerror(errno));
    }
    free(eval);
    if (rc) {
        free(path);
        return rc;
    }
    *out = path;
    return MPB_OK;
}

void mpb_eval_point_stem(size_t point, char *buf, size_t len)
{
    snprintf(buf, len, "point-%zu", point);
}

static char *record_path(const char *metric_dir, size_t point)
{
    char name[64];
    mpb_eval_point_stem(point, name, sizeof name);
    strcat(name, ".json");
    return mpb_path_join(metric_dir, name);
}

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
    char *path = record_path(metric_dir, r->point);
    int rc = text && path ? mpb_write_file_atomic(path, text, strlen(text), err)
                          : mpb_fail(err, MPB_ENOMEM, "out of memory");
    free(text);
    free(path);
    return rc;
}

int mpb_eval_record_read(const char *metric_dir, size_t point, bool *found, bool *ok,
                         double *score, mpb_error *err)
{
    *found = *ok = false;
    char *path = record_path(metric_dir, point);
    if (path == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    struct stat st;
    if (stat(path, &st) != 0) {
        free(path);
        return MPB_OK;
    }
    json_error_t jerr;
    json_t *rec = json_load_file(path, 0, &jerr);
    const char *status = NULL;
    json_t *s = NULL;
    int rc = MPB_OK;
    if (rec == NULL || json_unpack(rec, "{s:s, s:o}", "status", &status, "score", &s))
        rc = mpb_fail(err, MPB_EINVAL, "damaged score record '%s'", path);
    if (rc == MPB_OK) {
        *found = true;
        *ok = strcmp(status, "ok") == 0 && json_is_number(s);
        *score = *ok ? json_number_value(s) : 0;
    }
    json_decref(rec);
    free(path);
    return rc;
}

bool mpb_eval_record_ok(const char *metric_dir, size_t point)
{
    bool found, ok;
    double score;
    mpb_error err = {0};
    return mpb_eval_record_read(metric_dir, point, &found, &ok, &score, &err) == MPB_OK &&
           found && ok;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int mpb_eval_metrics(const char *dir, char ***names, size_t *n, mpb_error *err)
{
    *names = NULL;
    *n = 0;
    char *eval = mpb_path_join(dir, EVAL_DIR);
    if (eval == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    DIR *d = opendir(eval);
    size_t cap = 0;
    int rc = MPB_OK;
    for (struct dirent *e; d && rc == MPB_OK && (e = readdir(d)) != NULL;) {
        if (!mpb_eval_metric_ok(e->d_name))
            continue;
        if (*n == cap) {
            char **bigger = realloc(*names, (cap = cap ? 2 * cap : 8) * sizeof *bigger);
            if (bigger == NULL) {
                rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
                break;
            }
            *names = bigger;
        }
        if (((*names)[*n] = strdup(e->d_name)) == NULL)
            rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
        else
            (*n)++;
    }
    if (d)
        closedir(d);
    free(eval);
    if (*n > 1)
        qsort(*names, *n, sizeof **names, cmp_names);
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
        char *path = record_path(metric_dir, p->point);
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
        static const char *const tail[] = {"path", "metric", "score", "status", "exit_code",
                                           "wall_s"};
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
