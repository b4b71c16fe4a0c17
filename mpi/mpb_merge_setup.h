/* The merge's per-tensor recipe, shared by the merge command and its dry
 * run: which inputs feed each tensor and with which fp32 coefficients. */
#ifndef MPB_MERGE_SETUP_H
#define MPB_MERGE_SETUP_H

#include "mpb_config.h"
#include "mpb_index.h"

#include <mpi.h>

typedef struct mpb_merge_recipe {
    const mpb_config *config;
    char *config_text;  /* as read, for provenance */
    mpb_index in_idx;   /* the inputs' common index */
    mpb_index out_idx;  /* same tensors, output dtypes */
    size_t n_inputs;
    int n_layers;
    int *copy_from;     /* per tensor: input copied unchanged, or -1 */
    float *coef;        /* per tensor: n_inputs fp32 coefficients */
    size_t min_elem_size;
} mpb_merge_recipe;

/* Collective: config text and indexes read on rank 0, broadcast, then the
 * recipe resolved identically on every rank. */
int mpb_merge_recipe_build(const char *config_path, MPI_Comm comm, mpb_config **config,
                           mpb_merge_recipe *r, mpb_error *err);
void mpb_merge_recipe_free(mpb_merge_recipe *r);

/* Bytes the merge reads from all inputs together. */
uint64_t mpb_merge_recipe_read_bytes(const mpb_merge_recipe *r);

#endif
