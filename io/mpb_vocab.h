/* The output vocabulary of a merge whose inputs' vocabularies differ, and
 * where each input's embedding and lm_head rows come from, as mergekit's
 * tokenizer merge builds them (docs/CONFIG.md, "Tokenizer and chat
 * template").  Built serially on rank 0 from the inputs' tokenizer.json
 * files, then broadcast; mpb_store_vocab.h reads the rows. */
#ifndef MPB_VOCAB_H
#define MPB_VOCAB_H

#include "mpb_config.h"
#include "mpb_error.h"
#include "mpb_hf_files.h"
#include "mpb_index.h"

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

/* What the config asks for. */
typedef struct mpb_vocab_spec {
    int source;                  /* input whose vocabulary the output takes; -1 with union */
    bool is_union;               /* the union of every input's vocabulary */
    int lead;                    /* union: the input it extends (base_model, else input 0) */
    int base;                    /* base_model as given, else -1: lacking models take its row */
    uint64_t pad_to;             /* pad_to_multiple_of; 0: none */
    const mpb_token_rule *rules; /* tokenizer.tokens */
    size_t n_rules;
} mpb_vocab_spec;

/* How the row of a token that a model lacks is made. */
enum {
    MPB_VOCAB_FILL_NONE = 0, /* every model has the token */
    MPB_VOCAB_FILL_ZERO,     /* no model has it */
    MPB_VOCAB_FILL_ROW,      /* row `row` of input `input` */
    MPB_VOCAB_FILL_MEAN      /* mean of the rows of the inputs that have it */
};

typedef struct mpb_vocab_fill {
    int64_t kind, input, row;
    int64_t force; /* every input takes this row, even one that has the token */
} mpb_vocab_fill;

typedef struct mpb_vocab_map {
    size_t n_inputs;
    uint64_t n_tokens;    /* output vocabulary; 0: no map (rows read unchanged) */
    uint64_t n_rows;      /* n_tokens rounded up to pad_to */
    int64_t *src;         /* [i * n_tokens + t]: input i's row for token t, -1: lacks it */
    mpb_vocab_fill *fill; /* per token */
} mpb_vocab_map;

/* True for the tensors whose rows are tokens: embed_tokens, wte, embed_in,
 * word_embeddings, lm_head and embed_out weights (2-D). */
bool mpb_vocab_is_embedding(const mpb_tensor *t);

/* Rank 0: the map for inputs whose non-tensor files are sets[] (named
 * names[] in messages) and whose embeddings have rows[i] rows.  Leaves
 * map->n_tokens 0 when nothing changes (a source whose vocabulary every
 * input shares, same row counts, no union, padding or token rules), and
 * also when the source has no tokenizer.json and none of those is asked for
 * (the older check of mpb_hf_tokenizer_check_vocab then applies).
 * With union (or token rules that add tokens) and files not NULL, *files
 * gets the output's tokenizer files: the lead's (or source's), with
 * tokenizer.json's added_tokens and tokenizer_config.json's
 * added_tokens_decoder extended by the tokens the others (or the rules)
 * add, numbered as the map numbers them.  A rule naming a token or row its
 * model lacks fails, naming the rule. */
int mpb_vocab_build(const mpb_hf_files *sets, const char *const *names, size_t n,
                    const mpb_vocab_spec *spec, const uint64_t *rows, mpb_vocab_map *map,
                    mpb_hf_files *files, mpb_error *err);

/* Collective: rank root's map to every rank. */
int mpb_vocab_map_bcast(mpb_vocab_map *map, int root, MPI_Comm comm, mpb_error *err);

void mpb_vocab_map_free(mpb_vocab_map *map);

#endif
