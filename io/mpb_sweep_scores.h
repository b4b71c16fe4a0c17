/* Scores on disk: DIR/eval/METRIC/point-N.json, one record per point and
 * metric (written by `mpiblend eval`), read back as one table for the
 * manifest, refine and plot.  Format in docs/SWEEP.md.  jansson only. */
#ifndef MPB_SWEEP_SCORES_H
#define MPB_SWEEP_SCORES_H

#include "mpb_error.h"
#include "mpb_sweep_manifest.h"

#include <stdbool.h>
#include <stddef.h>

/* A metric name is a word of letters, digits, '_', '-' and '.' that does
 * not start with '.' (folders starting with '.' are eval's own). */
bool mpb_eval_metric_ok(const char *metric);

/* DIR/eval/METRIC (created when asked) into *out; caller frees. */
int mpb_eval_metric_dir(const char *dir, const char *metric, bool create, char **out,
                        mpb_error *err);
/* "point-N" */
void mpb_eval_point_stem(size_t point, char *buf, size_t len);
/* METRIC_DIR/point-N.json, malloc'd. */
char *mpb_eval_record_path(const char *metric_dir, size_t point);
/* Reads the point's record: *found false when none; *ok and *score. */
int mpb_eval_record_read(const char *metric_dir, size_t point, bool *found, bool *ok,
                         double *score, mpb_error *err);
/* Whether the point has a successful record for the metric. */
bool mpb_eval_record_ok(const char *metric_dir, size_t point);
/* Names of the metrics recorded in DIR/eval, sorted (caller frees each and
 * the list). */
int mpb_eval_metrics(const char *dir, char ***names, size_t *n, mpb_error *err);

/* Every successful score of every metric, by manifest row. */
typedef struct mpb_scores {
    size_t n_metrics, n_rows;
    char **metrics; /* sorted by name */
    double *v;      /* v[row * n_metrics + k]; NAN: no successful score */
} mpb_scores;

/* strict: a damaged record is an error naming it; otherwise it counts as
 * no score (the manifest is rewritten on every pass and must not stop). */
int mpb_scores_load(const char *dir, const mpb_manifest *m, bool strict, mpb_scores *s,
                    mpb_error *err);
/* The metric's column, or -1. */
long mpb_scores_column(const mpb_scores *s, const char *metric);
double mpb_scores_get(const mpb_scores *s, size_t row, size_t column);
void mpb_scores_free(mpb_scores *s);

#endif
