/* Parameter sweeps: the `sweep:` section of a merge config (docs/SWEEP.md).
 *
 *   sweep:
 *     output: mi-{lambda}.h5
 *     parameters:
 *       lambda: [0, 0.2, 0.4, 0.45, 0.5]
 *       models[1].weight: {start: 0, stop: 1, step: 0.25}
 *       lambda@self_attn: {values: [0, 1], name: attn}
 *
 * Several parameters form their cartesian product, the first varying
 * slowest.  Each grid point is an ordinary merge config: the config without
 * its sweep section, the swept values written in (mpb_sweep_point_config),
 * so a point merges exactly as `mpiblend merge` would merge that text.
 * libyaml only; no MPI, no HDF5. */
#ifndef MPB_SWEEP_H
#define MPB_SWEEP_H

#include "mpb_error.h"

#include <stddef.h>

/* Upper bound on grid points, so that a typo in a step cannot ask for
 * millions of checkpoints. */
#define MPB_SWEEP_MAX_POINTS 10000

typedef struct mpb_sweep mpb_sweep; /* opaque */

/* Parses the sweep section of a config held in memory; config_path names it
 * in messages.  Fails when the config has no sweep section. */
int mpb_sweep_parse(const char *yaml, size_t len, const char *config_path, mpb_sweep **out,
                    mpb_error *err);
void mpb_sweep_free(mpb_sweep *s);

size_t mpb_sweep_n_params(const mpb_sweep *s);
size_t mpb_sweep_n_points(const mpb_sweep *s);
/* The key as written ("models[1].weight@mlp"). */
const char *mpb_sweep_param_key(const mpb_sweep *s, size_t param);
/* Its field name in templates and manifests: `name:` if given, else the key. */
const char *mpb_sweep_param_name(const mpb_sweep *s, size_t param);
/* The output template as written (default "<name>-{<name>}_..." + ".h5"). */
const char *mpb_sweep_template(const mpb_sweep *s);

/* A swept value at a grid point, and its text: the shortest decimal that
 * reads back as exactly that double ("0.45", "1", "1e-05").  The text is what
 * the point's config and the output name contain. */
double mpb_sweep_value(const mpb_sweep *s, size_t point, size_t param);
const char *mpb_sweep_value_text(const mpb_sweep *s, size_t point, size_t param);

/* The point's output file name: the template with {name} fields, {index} and
 * {{ }} filled in.  Always a plain file name (no '/', no leading '.'). */
int mpb_sweep_output_name(const mpb_sweep *s, size_t point, char **name, mpb_error *err);

/* The point's merge config as YAML text (caller frees). */
int mpb_sweep_point_config(const mpb_sweep *s, size_t point, char **yaml, mpb_error *err);

/* What all points share: the config without its sweep section and with
 * every swept value written as SWEPT.  Its hash identifies a study. */
int mpb_sweep_study_config(const mpb_sweep *s, char **yaml, mpb_error *err);

/* The same config with a new grid in its sweep section: values[param] lists
 * counts[param] value texts (numbers) for each parameter; the output
 * template and names are kept.  For `mpiblend refine`. */
int mpb_sweep_regrid_config(const mpb_sweep *s, const char *const *const values[],
                            const size_t counts[], char **yaml, mpb_error *err);

/* The shortest text that reads back (strtod) as exactly v; "-0" is "0". */
void mpb_sweep_format_value(double v, char *buf, size_t len);

#endif
