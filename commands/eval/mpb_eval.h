/* `mpiblend eval`: a user command per sweep point, its score recorded
 * (docs/SWEEP.md, "Evaluation").  Runs on one process: not collective. */
#ifndef MPB_EVAL_H
#define MPB_EVAL_H

#include "mpb_error.h"
#include "mpb_sweep_scores.h"

#include <stdbool.h>

typedef struct mpb_eval_opts {
    const char *cmd;            /* template: words with {fields} */
    bool shell;                 /* run through /bin/sh -c */
    int jobs;                   /* commands at once */
    const char *const *metrics; /* NAME or NAME=KEY each; several: read from JSON */
    size_t n_metrics;
    bool json_all;        /* every number of the JSON, named by its key */
    const char *json_key; /* one metric: score from JSON ... */
    const char *regex;    /* ... or a regex; neither: the last number printed */
    long point;           /* only this point; -1: all */
    bool force;           /* also points already scored */
} mpb_eval_opts;

int mpb_eval_run(const char *dir, const mpb_eval_opts *o, mpb_error *err);

#endif
