/* Shared by the mpb_sweep_*.c files of io/ only. */
#ifndef MPB_SWEEP_INTERNAL_H
#define MPB_SWEEP_INTERNAL_H

#include "mpb_sweep.h"

#include <stdbool.h>
#include <yaml.h>

typedef struct mpb_sweep_param {
    char *key;    /* as written: "models[1].weight@mlp" */
    char *name;   /* field name */
    int model;    /* index into models, or -1 for the global parameters */
    char *param;  /* "weight" */
    char *filter; /* NULL: the plain value; "*": the entry without filter */
    size_t n_values;
    double *values;
    char **texts;
} mpb_sweep_param;

struct mpb_sweep {
    char *path;
    yaml_document_t doc; /* the whole config as loaded */
    char *template;
    size_t n_params, n_points;
    mpb_sweep_param *params;
};

/* Index of param's value at a grid point (the first parameter varies
 * slowest). */
size_t mpb_sweep_value_index(const mpb_sweep *s, size_t point, size_t param);

/* Fails with " in <file>:<line>:<column>" after the message. */
int mpb_sweep_fail_at(const mpb_sweep *s, const yaml_node_t *node, mpb_error *err,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The value node of `key` in a mapping node, or NULL. */
yaml_node_t *mpb_sweep_lookup(yaml_document_t *doc, yaml_node_t *map, const char *key);

#endif
