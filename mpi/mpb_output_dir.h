/* Folder outputs (Hugging Face folders) for mpb_output: which existing
 * folder may be replaced, the atomic swap into place, and removal.  Rank 0
 * only; no MPI.  Removal never recurses: mpiblend's folders hold files. */
#ifndef MPB_OUTPUT_DIR_H
#define MPB_OUTPUT_DIR_H

#include "mpb_error.h"

#include <stdbool.h>

/* A folder may be replaced when it holds only files (or links to files) and
 * is empty or holds safetensors weights: a model folder, not a user's
 * working folder. */
int mpb_output_dir_check_replaceable(const char *path, mpb_error *err);

/* Moves the finished folder tmp to final.  Without force, final must still
 * be free.  With force an existing final is swapped out atomically
 * (renameat2 RENAME_EXCHANGE, or two renames where unsupported), then
 * removed. */
void mpb_output_dir_publish(const char *tmp, const char *final, bool force, mpb_error *err);

/* Removes a folder's files and the folder; missing is fine. */
void mpb_output_dir_remove(const char *path);

#endif
