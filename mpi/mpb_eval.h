/* `mpiblend eval`: a user command per sweep point, its score recorded
 * (docs/SWEEP.md, "Evaluation").  Runs on one process: not collective. */
#ifndef MPB_EVAL_H
#define MPB_EVAL_H

#include "mpb_error.h"

#include <stdbool.h>

typedef struct mpb_eval_opts {
    const char *cmd;      /* template: words with {fields} */
    bool shell;           /* run through /bin/sh -c */
    int jobs;             /* commands at once */
    const char *metric;   /* the score's name */
    const char *json_key; /* score from JSON ... */
    const char *regex;    /* ... or a regex; neither: the last number printed */
    long point;           /* only this point; -1: all */
    bool force;           /* also points already scored */
} mpb_eval_opts;

int mpb_eval_run(const char *dir, const mpb_eval_opts *o, mpb_error *err);

/* A metric name is a word of letters, digits, '_', '-' and '.'. */
bool mpb_eval_metric_ok(const char *metric);

#endif
