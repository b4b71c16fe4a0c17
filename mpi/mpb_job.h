/* What every writing command shares: the plan built on rank 0 and
 * broadcast, and one output written atomically through the driver.
 * Both functions are collective. */
#ifndef MPB_JOB_H
#define MPB_JOB_H

#include "mpb_driver.h"
#include "mpb_plan.h"
#include "mpb_progress.h"
#include "mpb_run.h"
#include "mpb_store.h"

#include <mpi.h>

/* Broadcasts rank root's index to every rank (idx empty on the others),
 * and any rank's failure with it. */
int mpb_job_share_index(mpb_index *idx, int root, MPI_Comm comm, mpb_error *err);

int mpb_job_share_plan(const mpb_index *idx, uint64_t slab_bytes, size_t min_elem_size,
                       MPI_Comm comm, mpb_plan *plan, mpb_error *err);

#define MPB_JOB_MAX_LAYER_KEYS 8

typedef struct mpb_job_output {
    const char *path;     /* final name */
    const mpb_index *idx; /* tensors to create */
    size_t n_attrs;       /* root attributes (provenance) */
    const char *const *attr_keys;
    const char *const *attr_values;
    mpb_store store;                     /* open while the step runs: steps write here */
    const char *const *files_from;       /* checkpoints whose non-tensor files (config, */
    size_t n_files_from;                 /* tokenizer) the output carries: the first with any */
    const char *tokenizer_from;          /* NULL, or where the tokenizer files come from */
    const mpb_hf_files *tokenizer_files; /* NULL, or the files themselves (union) */
    uint64_t vocab_size;       /* > 0: the embeddings were built for the output's vocabulary
                            (mpb_vocab.h): config.json's vocab_size */
    const char *chat_template; /* NULL, or a chat template (mpb_hf_tokenizer.h) */
    int num_layers;            /* > 0: config.json's layer count (slices) */
    size_t n_layer_keys;       /* modules: config.json keys ("vision_config.depth") set to */
    const char *layer_keys[MPB_JOB_MAX_LAYER_KEYS]; /* their modules' layer counts */
    int layer_counts[MPB_JOB_MAX_LAYER_KEYS];
    const char *const *reads; /* every checkpoint the job reads: never replaced */
    size_t n_reads;
} mpb_job_output;

/* Creates out->path (a file, or a folder for a folder backend) under a
 * temporary name with opts->out_store, runs the step over the plan, stores
 * the carried non-tensor files, and renames into place once every rank
 * succeeded. */
int mpb_job_write(mpb_job_output *out, const mpb_plan *plan, size_t min_elem_size,
                  const mpb_run_opts *opts, mpb_progress *progress, mpb_round_fn step,
                  void *ctx, MPI_Comm comm, mpb_error *err);

/* Called on every rank after the step ran over the whole plan and before
 * the outputs close: may set more attributes (collectively), such as
 * checksums of the data just written. */
typedef int (*mpb_job_seal_fn)(void *ctx, mpb_job_output *outs, size_t n_outs, mpb_error *err);

/* What moves the data once every output exists: collective, on every rank.
 * mpb_job_write_many's body drives its step over its plan once; a merge
 * whose methods need whole-tensor statistics interleaves them with several
 * drives (commands/merge/mpb_merge.c).  drive: the job's options for
 * mpb_drive, progress included. */
typedef int (*mpb_job_body_fn)(void *ctx, const mpb_drive_opts *drive, MPI_Comm comm,
                               mpb_error *err);

/* mpb_job_write_many with the data moved by body instead of one drive. */
int mpb_job_run_many(mpb_job_output *outs, size_t n_outs, const mpb_run_opts *opts,
                     mpb_progress *progress, mpb_job_body_fn body, void *body_ctx,
                     mpb_job_seal_fn seal, void *seal_ctx, MPI_Comm comm, mpb_error *err);

/* mpb_job_write for n_outs outputs of the same tensors in one drive: every
 * output is created, the step writes each of them for every item, and each
 * is renamed into place as mpb_job_write does (mpb_job_write is the case
 * n_outs = 1, plan_idx = out->idx).  plan_idx and min_elem_size: what the
 * plan was built from, which sizes the rounds.  seal may be NULL. */
int mpb_job_write_many(mpb_job_output *outs, size_t n_outs, const mpb_plan *plan,
                       const mpb_index *plan_idx, size_t min_elem_size,
                       const mpb_run_opts *opts, mpb_progress *progress, mpb_round_fn step,
                       void *ctx, mpb_job_seal_fn seal, void *seal_ctx, MPI_Comm comm,
                       mpb_error *err);

#endif
