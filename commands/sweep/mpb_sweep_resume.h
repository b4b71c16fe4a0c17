/* Which grid points a sweep still has to write, decided on rank 0 from the
 * folder's manifest (docs/SWEEP.md, "Resume"). */
#ifndef MPB_SWEEP_RESUME_H
#define MPB_SWEEP_RESUME_H

#include "mpb_sweep_manifest.h"
#include "mpb_sweep_points.h"

#include <stdbool.h>

typedef struct mpb_sweep_todo {
    size_t n;
    size_t *points; /* grid indexes to write, in grid order */
    size_t *entry;  /* per grid point: its row in the manifest */
    size_t n_done;  /* points already complete and verified */
} mpb_sweep_todo;

/* Rank 0 only: the recorded checksum of every point that the manifest
 * in out_dir lists as done for this study, with its output present at the
 * recorded size; "" for the others (all of them with force). */
int mpb_sweep_resume_expect(const mpb_sweep_point *pts, size_t n, const char *out_dir,
                            const char *study_hash, bool force, char (*expected)[32],
                            mpb_error *err);

/* Rank 0 only.  Reads or starts out_dir's manifest m for this study: a
 * manifest of another study is an error (force: start over); a point whose
 * output exists, matches its manifest row (size, config hash) and is intact
 * (intact[i]: its data checksum, recomputed, equals the row's) is kept;
 * anything else is (re)written.  Removes stale temporary files and
 * unverified outputs of the points to write. */
int mpb_sweep_resume_plan(const mpb_sweep *s, const mpb_sweep_point *pts,
                          const char *config_path, const char *out_dir, const char *study_hash,
                          bool force, const bool *intact, mpb_manifest *m, mpb_sweep_todo *todo,
                          mpb_error *err);
void mpb_sweep_todo_free(mpb_sweep_todo *todo);

/* Bytes of an output: a file's size, or the sum of a folder's files. */
uint64_t mpb_sweep_output_bytes(const char *path);

#endif
