/* Atomic outputs: written under a temporary name in the destination folder,
 * renamed only after every rank agreed the write succeeded.  All functions
 * are collective; rank 0 does the file-system work and broadcasts. */
#ifndef MPB_OUTPUT_H
#define MPB_OUTPUT_H

#include "mpb_error.h"

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct mpb_output {
    char *final_path;
    char *tmp_path;
    bool force;
    bool folder; /* a folder output, replaced as a whole (mpb_output_dir.h) */
} mpb_output;

/* Checks before anything is written: an existing output needs force; a
 * symbolic link there needs follow_links too; the folder must be writable.
 * Picks the temporary name. */
int mpb_output_begin(const char *final_path, bool force, bool follow_links, MPI_Comm comm,
                     mpb_output *out, mpb_error *err);

/* The same for a file (folder = false) or a folder output: an existing
 * folder is replaced only when it looks like a Hugging Face model. */
int mpb_output_begin_as(const char *final_path, bool folder, bool force, bool follow_links,
                        MPI_Comm comm, mpb_output *out, mpb_error *err);

/* Agrees on err across ranks, then renames into place (rank 0) or removes
 * the temporary file.  Returns the agreed result. */
int mpb_output_finish(mpb_output *out, MPI_Comm comm, mpb_error *err);

/* Rank 0, before anything is written: an error naming both paths when
 * out_path (resolved through links) is one of the inputs, or a folder that
 * holds one of them. */
int mpb_output_check_inputs(const char *out_path, const char *const *inputs, size_t n,
                            mpb_error *err);

void mpb_output_free(mpb_output *out);

#endif
