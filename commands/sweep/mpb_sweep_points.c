#include "mpb_sweep_points.h"

#include "mpb_crc32c.h"
#include "mpb_sweep_manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mpb_sweep_hash_text(const char *text, char *buf, size_t len)
{
    snprintf(buf, len, "fnv1a64:%016" PRIx64, mpb_fnv1a64(text, strlen(text)));
}

/* The inputs may not change from point to point: one pass reads them once. */
static int check_same_inputs(const mpb_config *c, const mpb_merge_recipe *r, mpb_error *err)
{
    if (mpb_config_n_inputs(c) != r->n_inputs)
        return mpb_fail(err, MPB_EINVAL, "a sweep point has %zu inputs, the config %zu",
                        mpb_config_n_inputs(c), r->n_inputs);
    for (size_t i = 0; i < r->n_inputs; i++)
        if (strcmp(mpb_config_input_path(c, i), mpb_config_input_path(r->config, i)))
            return mpb_fail(err, MPB_EINVAL,
                            "a sweep point reads '%s' where the config "
                            "reads '%s'",
                            mpb_config_input_path(c, i), mpb_config_input_path(r->config, i));
    return MPB_OK;
}

static int build_point(const mpb_sweep *s, size_t index, const mpb_merge_recipe *r,
                       const char *config_path, const char *out_dir, mpb_sweep_point *p,
                       mpb_error *err)
{
    p->index = index;
    int rc = mpb_sweep_output_name(s, index, &p->name, err);
    if (rc == MPB_OK && (p->path = mpb_path_join(out_dir, p->name)) == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (rc == MPB_OK)
        rc = mpb_sweep_point_config(s, index, &p->config_text, err);
    if (rc)
        return rc;
    mpb_sweep_hash_text(p->config_text, p->config_hash, sizeof p->config_hash);
    rc = mpb_config_parse(p->config_text, strlen(p->config_text), config_path, &p->config, err);
    if (rc == MPB_OK) /* the same snapshot paths as the recipe's inputs */
        rc = mpb_config_find_hub_models(p->config, err);
    if (rc == MPB_OK)
        rc = check_same_inputs(p->config, r, err);
    if (rc == MPB_OK)
        rc = mpb_merge_recipe_derive(r, p->config, &p->recipe, err);
    return rc;
}

int mpb_sweep_points_build(const mpb_sweep *s, const mpb_merge_recipe *r,
                           const char *config_path, const char *out_dir,
                           mpb_sweep_point **points, mpb_error *err)
{
    size_t n = mpb_sweep_n_points(s);
    mpb_sweep_point *pts = calloc(n, sizeof *pts);
    if (pts == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory for %zu sweep points", n);
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        rc = build_point(s, i, r, config_path, out_dir, &pts[i], err);
        if (rc) {
            char where[256];
            int used = snprintf(where, sizeof where, "sweep point %zu (", i);
            for (size_t j = 0; j < mpb_sweep_n_params(s) && used < (int)sizeof where; j++)
                used += snprintf(where + used, sizeof where - (size_t)used, "%s%s=%s",
                                 j ? ", " : "", mpb_sweep_param_name(s, j),
                                 mpb_sweep_value_text(s, i, j));
            mpb_error_prefix(err, "%s): ", where);
        }
    }
    if (rc) {
        mpb_sweep_points_free(pts, n);
        return rc;
    }
    *points = pts;
    return MPB_OK;
}

void mpb_sweep_points_free(mpb_sweep_point *points, size_t n)
{
    for (size_t i = 0; points && i < n; i++) {
        free(points[i].name);
        free(points[i].path);
        free(points[i].config_text);
        mpb_merge_recipe_free(&points[i].recipe);
        mpb_config_free(points[i].config);
    }
    free(points);
}

int mpb_sweep_study_hash(const mpb_sweep *s, char *buf, size_t len, mpb_error *err)
{
    char *text = NULL;
    int rc = mpb_sweep_study_config(s, &text, err);
    if (rc)
        return rc;
    size_t all_len = strlen(text) + 1;
    for (size_t j = 0; j < mpb_sweep_n_params(s); j++)
        all_len += strlen(mpb_sweep_param_name(s, j)) + 1;
    char *all = malloc(all_len);
    if (all == NULL) {
        free(text);
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    size_t used = (size_t)snprintf(all, all_len, "%s", text);
    for (size_t j = 0; j < mpb_sweep_n_params(s); j++)
        used +=
            (size_t)snprintf(all + used, all_len - used, "\n%s", mpb_sweep_param_name(s, j));
    mpb_sweep_hash_text(all, buf, len);
    free(all);
    free(text);
    return MPB_OK;
}
