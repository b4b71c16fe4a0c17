/* The grid points of a sweep as merges: each point's config text, output
 * path, and merge recipe, resolved from the point's config exactly as
 * `mpiblend merge` resolves a config, for any method.
 * No MPI: every rank builds the same points from the same text. */
#ifndef MPB_SWEEP_POINTS_H
#define MPB_SWEEP_POINTS_H

#include "mpb_merge_setup.h"
#include "mpb_sweep.h"

typedef struct mpb_sweep_point {
    size_t index;      /* in the grid */
    char *name;        /* output file name */
    char *path;        /* out_dir/name */
    char *config_text; /* the point's merge config */
    char config_hash[32];
    mpb_config *config;      /* parsed from config_text */
    mpb_merge_recipe recipe; /* over the sweep config's inputs */
} mpb_sweep_point;

/* Builds all n = mpb_sweep_n_points(s) points against r, the recipe of the
 * config itself (its index and inputs). */
int mpb_sweep_points_build(const mpb_sweep *s, const mpb_merge_recipe *r,
                           const char *config_path, const char *out_dir,
                           mpb_sweep_point **points, mpb_error *err);
void mpb_sweep_points_free(mpb_sweep_point *points, size_t n);

/* "fnv1a64:0123456789abcdef" of text. */
void mpb_sweep_hash_text(const char *text, char *buf, size_t len);

/* The study a folder holds: a hash of the config without its sweep and
 * with the swept values left out (mpb_sweep_study_config), and of the swept
 * names.  A refined grid of the same study has the same hash. */
int mpb_sweep_study_hash(const mpb_sweep *s, char *buf, size_t len, mpb_error *err);

#endif
