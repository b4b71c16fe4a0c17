/* A merge's inputs in the output's vocabulary (tokenizer_source: union, or
 * a source whose vocabulary the inputs do not share, docs/CONFIG.md): the
 * row maps of mpb_vocab.h, built when the recipe is, and the inputs'
 * index with the embeddings' rows the output has. */
#ifndef MPB_MERGE_VOCAB_H
#define MPB_MERGE_VOCAB_H

#include "mpb_job.h"
#include "mpb_merge_setup.h"

#include <stdbool.h>

/* True when the config chooses a tokenizer (the map may still turn out
 * empty: nothing changes). */
bool mpb_merge_vocab_wanted(const mpb_config *c);

/* Collective, in place of mpb_inputs_share_index: reads every input's
 * index, builds r->vocab on rank 0 (and r->tokenizer_files for a union)
 * from the inputs' files, shares it, and checks the inputs as
 * mpb_inputs_share_index does, with every embedding counted at the output's
 * rows; r->in_idx gets those shapes, r->own_idx the inputs' own. */
int mpb_merge_vocab_share(mpb_merge_recipe *r, const mpb_config *c, const char *const *paths,
                          size_t n, MPI_Comm comm, mpb_error *err);

/* Collective, with slices, in place of mpb_config_map_slices once the
 * models' indexes are read: when the config chooses a tokenizer and the
 * slices allow it (mpb_config_slices_vocab), r->vocab built as
 * mpb_merge_vocab_share builds it over the slots (slices[0]'s sources),
 * and the slices mapped with the embeddings at the output's rows. */
int mpb_merge_vocab_map_slices(mpb_merge_recipe *r, const mpb_config *c, MPI_Comm comm,
                               mpb_error *err);

/* The output's tokenizer fields from the recipe: tokenizer_from,
 * tokenizer_files, vocab_size, chat_template. */
void mpb_merge_vocab_output(const mpb_merge_recipe *r, const char *const *inputs,
                            mpb_job_output *out);

#endif
