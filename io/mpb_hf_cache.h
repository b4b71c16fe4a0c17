/* Hugging Face model names ("ORG/NAME", "ORG/NAME@REVISION") found in the
 * local hub cache, offline: nothing here touches the network.  The cache
 * lays a model out as
 *   CACHE/models--ORG--NAME/refs/REVISION       (a file holding a commit hash)
 *   CACHE/models--ORG--NAME/snapshots/HASH/...  (symlinks into ../../blobs)
 * (docs/CONFIG.md, "Hugging Face names"). */
#ifndef MPB_HF_CACHE_H
#define MPB_HF_CACHE_H

#include "mpb_error.h"

#include <stdbool.h>
#include <stddef.h>

/* Whether text has the form of a hub name: ORG/NAME with an optional
 * @REVISION, ORG and NAME made of letters, digits, '-', '_' and '.'. */
bool mpb_hf_is_model_name(const char *text);

/* The cache folders searched, in order, without duplicates: $HF_HUB_CACHE,
 * $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, $HOME/.cache/huggingface/hub
 * (each only when its variable is set).  Returns how many were written (at
 * most max); each is malloc'd, free them with mpb_hf_cache_roots_free. */
size_t mpb_hf_cache_roots(char *roots[], size_t max);
void mpb_hf_cache_roots_free(char *roots[], size_t n);

/* The snapshot folder of a hub name: the first cache root holding the
 * model's revision (default "main"; a revision may also be a commit hash).
 * *path is malloc'd.  When it is not cached the message names the model,
 * `origin` (where it was written) and `local` (the local path tried
 * first), both optional, every cache folder searched and the command that
 * downloads it on a machine with network access. */
int mpb_hf_cache_find(const char *name, const char *origin, const char *local, char **path,
                      mpb_error *err);

#endif
