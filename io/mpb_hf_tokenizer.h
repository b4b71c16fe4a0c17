/* A merge's tokenizer and chat template, as mergekit's `tokenizer_source:`,
 * `tokenizer: {source: ...}` and `chat_template:` choose them
 * (docs/CONFIG.md, "Tokenizer and chat template").  Serial, rank 0. */
#ifndef MPB_HF_TOKENIZER_H
#define MPB_HF_TOKENIZER_H

#include "mpb_hf_files.h"

#include <stdbool.h>

/* Files that make up a tokenizer (tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, tokenizer.model, vocab and merges files, the
 * chat template files). */
bool mpb_hf_is_tokenizer_file(const char *name);

/* Replaces the tokenizer files of out by those of from (named from_name in
 * messages); fails when from has none. */
int mpb_hf_files_take_tokenizer(mpb_hf_files *out, const mpb_hf_files *from,
                                const char *from_name, mpb_error *err);

/* Fails, naming both, when other's vocabulary differs from chosen's: the
 * token -> id maps of tokenizer.json (vocabulary and added tokens), else
 * the bytes of tokenizer.model.  Passes when other has neither file. */
int mpb_hf_tokenizer_check_vocab(const mpb_hf_files *chosen, const char *chosen_name,
                                 const mpb_hf_files *other, const char *other_name,
                                 mpb_error *err);

/* A model's chat template: chat_template.jinja, else tokenizer_config.json's
 * "chat_template" string (or the "default" entry of a list of named ones);
 * malloc'd, surrounding white space removed; NULL when it has none. */
char *mpb_hf_chat_template_of(const mpb_hf_files *set);

/* Writes tmpl as tokenizer_config.json's "chat_template" and drops the
 * chat_template.jinja / chat_template.json files, which transformers would
 * otherwise read instead.  Fails when there is no tokenizer_config.json. */
int mpb_hf_files_set_chat_template(mpb_hf_files *set, const char *tmpl, mpb_error *err);

/* The whole step for one output: out holds the files carried so far;
 * inputs[] are the merge's inputs (paths any store reads).  tokenizer_files
 * (a union's, mpb_vocab.h), else tokenizer_from (NULL: keep out's
 * tokenizer), gives the tokenizer files; unless mapped (the embedding rows
 * were built for the output's vocabulary) every input's vocabulary is
 * first checked against tokenizer_from's.  chat_template (NULL: keep) is a
 * name above, "auto" (the template most inputs share, the first in input
 * order on a tie; unchanged when none has one) or a literal. */
int mpb_hf_files_apply_tokenizer(mpb_hf_files *out, const char *const *inputs, size_t n,
                                 const char *tokenizer_from,
                                 const mpb_hf_files *tokenizer_files, bool mapped,
                                 const char *chat_template, mpb_error *err);

#endif
