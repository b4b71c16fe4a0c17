/* Inputs read in the output's vocabulary: a view over an open input store
 * whose embedding and lm_head tensors (mpb_vocab_is_embedding) hold one row
 * per output token, each the input's own row for that token (a gather by
 * token id) or, for a token the input lacks, the row mergekit gives it
 * (mpb_vocab.h), and past the vocabulary (pad_to_multiple_of) the mean of
 * the input's rows.  Other tensors pass through unchanged.  It only reads:
 * read_rows, flush and close, as its store. */
#ifndef MPB_STORE_VOCAB_H
#define MPB_STORE_VOCAB_H

#include "mpb_store.h"
#include "mpb_vocab.h"

/* Collective: replaces each of the n open stores (input i of map) by its
 * view.  idx lists the tensors as the views give them (the embeddings with
 * map->n_rows rows).  Computes the rows for missing tokens from the inputs
 * first (every rank reads the same rows, so every rank holds the same
 * bits), then, with padding, each input's mean row (each rank reads its
 * share of each input's embedding rows once more; the exact column sums
 * are added over the ranks, so every rank holds the same bits).  map and idx must outlive the views.  On
 * failure the stores are left as they were (still open). */
int mpb_store_vocab_wrap(mpb_store *stores, size_t n, const mpb_index *idx,
                         const mpb_vocab_map *map, MPI_Comm comm, mpb_error *err);

#endif
