#include "mpb_sweep_scores.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EVAL_DIR "eval"

bool mpb_eval_metric_ok(const char *metric)
{
    if (metric == NULL || *metric == '\0' || *metric == '.')
        return false;
    return strspn(metric,
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
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

char *mpb_eval_record_path(const char *metric_dir, size_t point)
{
    char name[64];
    mpb_eval_point_stem(point, name, sizeof name);
    strcat(name, ".json");
    return mpb_path_join(metric_dir, name);
}

int mpb_eval_record_read(const char *metric_dir, size_t point, bool *found, bool *ok,
                         double *score, mpb_error *err)
{
    *found = *ok = false;
    char *path = mpb_eval_record_path(metric_dir, point);
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

int mpb_scores_load(const char *dir, const mpb_manifest *m, bool strict, mpb_scores *s,
                    mpb_error *err)
{
    memset(s, 0, sizeof *s);
    int rc = mpb_eval_metrics(dir, &s->metrics, &s->n_metrics, err);
    s->n_rows = m->n;
    s->v = rc == MPB_OK ? malloc((s->n_rows * s->n_metrics + 1) * sizeof *s->v) : NULL;
    if (rc == MPB_OK && s->v == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    for (size_t k = 0; k < s->n_metrics && rc == MPB_OK; k++) {
        char *metric_dir = NULL;
        rc = mpb_eval_metric_dir(dir, s->metrics[k], false, &metric_dir, err);
        for (size_t i = 0; i < m->n && rc == MPB_OK; i++) {
            bool found, ok;
            double score = NAN;
            mpb_error rec_err = {0};
            int rrc = mpb_eval_record_read(metric_dir, m->points[i].point, &found, &ok, &score,
                                           &rec_err);
            if (rrc != MPB_OK && strict)
                rc = (*err = rec_err).code;
            s->v[i * s->n_metrics + k] = rrc == MPB_OK && found && ok ? score : NAN;
        }
        free(metric_dir);
    }
    if (rc)
        mpb_scores_free(s);
    return rc;
}

long mpb_scores_column(const mpb_scores *s, const char *metric)
{
    for (size_t k = 0; k < s->n_metrics; k++)
        if (strcmp(s->metrics[k], metric) == 0)
            return (long)k;
    return -1;
}

double mpb_scores_get(const mpb_scores *s, size_t row, size_t column)
{
    return s->v[row * s->n_metrics + column];
}

void mpb_scores_free(mpb_scores *s)
{
    for (size_t k = 0; k < s->n_metrics; k++)
        free(s->metrics[k]);
    free(s->metrics);
    free(s->v);
    memset(s, 0, sizeof *s);
}
