/* `mpiblend inspect FILE [--json]`: what a checkpoint holds (an HDF5 file,
 * a Hugging Face folder or a .safetensors file): every tensor with dtype,
 * shape and bytes, totals per dtype, whether the embeddings are tied, the
 * model's non-tensor files and the provenance a merge recorded. */
#ifndef MPB_INSPECT_H
#define MPB_INSPECT_H

#include "mpb_error.h"
#include "mpb_h5_attrs.h"
#include "mpb_hf_files.h"
#include "mpb_index.h"

#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum mpb_embeddings {
    MPB_EMBED_NONE,   /* no *embed_tokens.weight */
    MPB_EMBED_TIED,   /* embed_tokens without lm_head: one matrix serves both */
    MPB_EMBED_UNTIED, /* both present */
} mpb_embeddings;

typedef struct mpb_inspect_info {
    const char *path;
    const char *format; /* the backend's name: "hdf5", "safetensors" */
    mpb_index idx;      /* sorted by name */
    mpb_hf_files files; /* config.json, tokenizer, ...; may be empty */
    mpb_h5_attrs prov;  /* HDF5 root attributes, or safetensors __metadata__ */
    int layers;         /* 1 + the largest layer number in a name; 0 if none */
    mpb_embeddings embeddings;
    int config_tied;    /* config.json's tie_word_embeddings: 1, 0, or -1 if unsaid */
    char *architecture; /* config.json's architectures[0], or NULL */
} mpb_inspect_info;

/* Serial: reads everything above from `path`. */
int mpb_inspect_collect(const char *path, mpb_inspect_info *info, mpb_error *err);
void mpb_inspect_free(mpb_inspect_info *info);

/* A table for people, or one JSON document for scripts (docs/OPERATIONS.md). */
void mpb_inspect_print_text(FILE *out, const mpb_inspect_info *info);
int mpb_inspect_print_json(FILE *out, const mpb_inspect_info *info, mpb_error *err);

/* Collective: rank 0 inspects and prints to `out`; the others wait and
 * share its result. */
int mpb_inspect_run(const char *path, bool json, FILE *out, MPI_Comm comm, mpb_error *err);

#endif
