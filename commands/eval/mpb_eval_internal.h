/* Shared by the mpb_eval*.c files only. */
#ifndef MPB_EVAL_INTERNAL_H
#define MPB_EVAL_INTERNAL_H

#include "mpb_eval.h"
#include "mpb_sweep_manifest.h"
#include "mpb_sweep_scores.h"

#include <stddef.h>

/* ---- the command: words with fields, filled per point ---- */

typedef struct mpb_eval_cmd {
    bool shell;
    size_t n_fields;
    char **words; /* after shell-like splitting, fields as markers */
    size_t n_words;
    char *line; /* --shell: the whole line, fields as markers */
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
bool mpb_eval_score(const char *output, const char *json_key, const char *regex, double *score,
                    char *why, size_t why_len);

/* Every number in the JSON printed, named by its key path joined with dots
 * (array elements by position); characters a metric name cannot hold
 * become '_'.  False with a reason in why when there is none (caller
 * frees *numbers either way). */
typedef struct mpb_eval_number {
    char name[256];
    double value;
} mpb_eval_number;
bool mpb_eval_json_numbers(const char *output, mpb_eval_number **numbers, size_t *n, char *why,
                           size_t why_len);

/* ---- records: DIR/eval/METRIC/point-N.json, and DIR/results.csv ---- */

typedef struct mpb_eval_record {
    size_t point;
    const char *path;
    bool ok;
    double score;
    int exit_code; /* -1: not run or killed by a signal */
    double wall_s;
    const char *error; /* why it failed, "" when ok */
} mpb_eval_record;

int mpb_eval_record_write(const char *metric_dir, const mpb_manifest *m,
                          const mpb_manifest_point *p, const char *metric,
                          const mpb_eval_record *r, mpb_error *err);
/* DIR/results.csv from every record of every metric. */
int mpb_eval_results_write(const char *dir, const mpb_manifest *m, mpb_error *err);
/* Rewrites DIR/manifest.json and .csv from the manifest on disk now, with
 * every metric's scores (re-read just before writing: a sweep adding points
 * to the folder writes it too). */
int mpb_eval_manifest_refresh(const char *dir, mpb_error *err);

#endif
