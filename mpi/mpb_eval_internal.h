/* Shared by the mpb_eval*.c files only. */
#ifndef MPB_EVAL_INTERNAL_H
#define MPB_EVAL_INTERNAL_H

#include "mpb_eval.h"
#include "mpb_sweep_manifest.h"

#include <stddef.h>

/* ---- the command: words with fields, filled per point ---- */

typedef struct mpb_eval_cmd {
    bool shell;
    size_t n_fields;
    char **words;   /* after shell-like splitting, fields as markers */
    size_t n_words;
    char *line;     /* --shell: the whole line, fields as markers */
} mpb_eval_cmd;

/* Splits the template as a POSIX shell would (wordexp: quotes, backslashes,
 * $VARIABLES, ~; command substitution refused) unless shell is set; each
 * {field} with a name in fields[] is kept for later, {{ and }} are braces.
 * With shell, field k becomes the positional parameter ${k+1} of sh -c (a
 * field inside single quotes is refused). */
int mpb_eval_cmd_prepare(const char *tmpl, bool shell, const char *const fields[],
                         size_t n_fields, mpb_eval_cmd *c, mpb_error *err);
/* argv (NULL-terminated, caller frees with mpb_eval_argv_free) with the
 * values in place: verbatim in a word, or (--shell) as the arguments after
 * sh -c LINE, never inside the line the shell parses. */
int mpb_eval_cmd_argv(const mpb_eval_cmd *c, const char *const values[], char ***argv,
                      mpb_error *err);
void mpb_eval_argv_free(char **argv);
void mpb_eval_cmd_free(mpb_eval_cmd *c);

/* ---- the score in a command's output ---- */

/* json_key: the key's number in the JSON printed (the whole output or its
 * last line starting with '{'); regex: group 1 (else the whole match) of
 * its last match; neither: the last number.  False with a reason in why. */
bool mpb_eval_score(const char *output, const char *json_key, const char *regex,
                    double *score, char *why, size_t why_len);

/* ---- records: DIR/eval/METRIC/point-N.json, and DIR/results.csv ---- */

typedef struct mpb_eval_record {
    size_t point;
    const char *path;
    bool ok;
    double score;
    int exit_code;     /* -1: not run or killed by a signal */
    double wall_s;
    const char *error; /* why it failed, "" when ok */
} mpb_eval_record;

/* DIR/eval/METRIC (created) into *out; caller frees. */
int mpb_eval_metric_dir(const char *dir, const char *metric, bool create, char **out,
                        mpb_error *err);
/* "point-N" */
void mpb_eval_point_stem(size_t point, char *buf, size_t len);
int mpb_eval_record_write(const char *metric_dir, const mpb_manifest *m,
                          const mpb_manifest_point *p, const char *metric,
                          const mpb_eval_record *r, mpb_error *err);
/* Whether the point has a successful record for the metric. */
bool mpb_eval_record_ok(const char *metric_dir, size_t point);
/* Reads the point's record: *found false when none; *ok and *score. */
int mpb_eval_record_read(const char *metric_dir, size_t point, bool *found, bool *ok,
                         double *score, mpb_error *err);
/* DIR/results.csv from every record of every metric. */
int mpb_eval_results_write(const char *dir, const mpb_manifest *m, mpb_error *err);

/* Names of the metrics recorded in DIR/eval (caller frees each and the list). */
int mpb_eval_metrics(const char *dir, char ***names, size_t *n, mpb_error *err);

#endif
