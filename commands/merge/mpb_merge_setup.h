/* The merge's per-tensor recipe, shared by the merge command and its dry
 * run: which inputs feed each tensor and how they are blended (docs/METHODS.md). */
#ifndef MPB_MERGE_SETUP_H
#define MPB_MERGE_SETUP_H

#include "mpb_config.h"
#include "mpb_index.h"
#include "mpb_method.h"
#include "mpb_plan.h"
#include "mpb_store.h"
#include "mpb_vocab.h"

#include <mpi.h>

/* How one model of a task-family tensor is sparsified (from the config) and
 * what the statistics found out about it (mpb_merge_stats.c). */
typedef struct mpb_merge_sparse {
    uint64_t rank_lo, rank_hi; /* MPB_KEEP_WINDOW: magnitude ranks [lo, hi) are kept */
    bool rescale_l1;           /* the rescale factor comes from L1 norms */
    /* Per cut (0: hi, 1: lo) whose equal magnitudes are only partly kept:
     * the items of the plan that hold elements equal to the cut, by first
     * row ascending, and how many such elements the tensor has up to the end
     * of each (mpb_merge_stats_seen reads it). */
    size_t n_starts[2];
    uint64_t *start_row[2];
    uint64_t *start_seen[2];
} mpb_merge_sparse;

/* A tensor blended by the task-arithmetic family. */
typedef struct mpb_merge_task {
    mpb_task_spec spec;       /* spec.n_models == 0: not a task-family blend */
    mpb_merge_sparse *sparse; /* spec.n_models entries, then SCE's select cut's */
    double select_topk;       /* SCE with spec.select: the share of nonzero variances kept */
    float *fusion_kl;         /* arcee_fusion: each vector's KL, from the statistics */
} mpb_merge_task;

typedef struct mpb_merge_recipe {
    const mpb_config *config;
    char *config_text;  /* as read, for provenance */
    mpb_index in_idx;   /* the inputs' common index */
    mpb_index *own_idx; /* n_inputs: each input's own index (mpb_inputs_share_index);
                           NULL with slices */
    mpb_index out_idx;  /* same tensors, output dtypes */
    /* slices: (else 0 and NULL): the models' own indexes, sorted by name,
     * and where input k reads tensor t: sources[t * n_inputs + k]
     * (mpb_config_map_slices).  in_idx then holds the output's tensors. */
    size_t n_models;
    mpb_index *model_idx;
    mpb_tensor_source *sources;
    size_t n_inputs;
    int n_layers;
    mpb_method method;
    int *copy_from;            /* per tensor: input copied unchanged, or -1 */
    size_t *tensor_inputs;     /* per tensor: it blends inputs 0 .. this - 1 (with
                                  slices, its slice's sources; else n_inputs) */
    float *coef;               /* per tensor: n_inputs fp32 coefficients of a linear blend
                           (coefficients from statistics: filled by them;
                           an elementwise kernel: what it reads) */
    mpb_merge_task *task;      /* per tensor, task-family methods only (else NULL) */
    mpb_tensor_params *params; /* per tensor, the resolved parameters of a method
                                whose coefficients come from statistics (else NULL) */
    float **column_coef;       /* per tensor with statistics methods: NULL, or for a
                                  method with per-column coefficients (registry:
                                  columns), row length x n_inputs, by column */
    size_t min_elem_size;
    /* A chosen tokenizer whose vocabulary the inputs do not share, or a
     * union (mpb_merge_vocab.h): where each input's embedding rows come
     * from (n_tokens 0: unchanged), and on rank 0 a union's tokenizer files. */
    mpb_vocab_map vocab;
    mpb_hf_files tokenizer_files;
} mpb_merge_recipe;

/* Collective: config text and indexes read on rank 0, broadcast, then the
 * recipe resolved identically on every rank. */
int mpb_merge_recipe_build(const char *config_path, MPI_Comm comm, mpb_config **config,
                           mpb_merge_recipe *r, mpb_error *err);
/* The same from config text held by rank 0 (malloc'd; the recipe takes it
 * over, other ranks' text is ignored); config_path names the config in
 * messages and its folder is where relative model paths start. */
int mpb_merge_recipe_build_text(char *text, const char *config_path, MPI_Comm comm,
                                mpb_config **config, mpb_merge_recipe *r, mpb_error *err);
/* The recipe of another config c over like's inputs (a sweep's point):
 * like's indexes and plan sizing, c's method and parameters, resolved as
 * mpb_merge_recipe_build resolves them, so that `mpiblend merge` of c gives
 * the same tensors.  No MPI; r uses c, which must outlive it. */
int mpb_merge_recipe_derive(const mpb_merge_recipe *like, const mpb_config *c,
                            mpb_merge_recipe *r, mpb_error *err);
void mpb_merge_recipe_free(mpb_merge_recipe *r);

/* Collective: opens every input for reading the tensors of in_idx, as
 * mpb_inputs_open does; with slices each input is a view
 * (mpb_store_view.h) over the models its sources name. */
int mpb_merge_recipe_open_inputs(const mpb_merge_recipe *r, const mpb_io_opts *io,
                                 MPI_Comm comm, mpb_store *stores, mpb_error *err);

/* Bytes the merge's writing pass reads from all inputs together. */
uint64_t mpb_merge_recipe_read_bytes(const mpb_merge_recipe *r);

/* The task family's kernel spec for one tensor from its resolved parameters,
 * as mpb_merge_recipe_build makes it (for task_arithmetic and DARE without
 * `rescale: l1` it is complete; magnitude cuts and L1 rescale factors are
 * found by mpb_merge_stats_run).  Fails, naming the tensor, when a density
 * keeps no element.  *task is zeroed first; free with mpb_merge_task_free. */
int mpb_merge_task_resolve(const mpb_config *c, const mpb_tensor *tensor,
                           const mpb_tensor_params *p, mpb_merge_task *task, mpb_error *err);
void mpb_merge_task_free(mpb_merge_task *task);

/* True when tensor t is blended from all inputs (not copied). */
bool mpb_merge_recipe_blends(const mpb_merge_recipe *r, size_t t);
/* How many inputs tensor t blends: inputs 0 .. this - 1. */
size_t mpb_merge_recipe_inputs(const mpb_merge_recipe *r, size_t t);

#endif
