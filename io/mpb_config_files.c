/* The file system side: reading the config, checking the model paths. */
#include "mpb_file.h"
#include "mpb_config_internal.h"
#include "mpb_hf_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A Hugging Face name written for *path, replaced by its cached snapshot. */
static int find_hub_model(const mpb_config *c, const char *written, const char *where,
                          char **path, mpb_error *err)
{
    struct stat st;
    if (!mpb_hf_is_model_name(written) || stat(*path, &st) == 0)
        return MPB_OK; /* a local path wins */
    char origin[1100], *snapshot;
    snprintf(origin, sizeof origin, "%s %s", c->path, where);
    int rc = mpb_hf_cache_find(written, origin, *path, &snapshot, err);
    if (rc != MPB_OK)
        return rc;
    free(*path);
    *path = snapshot;
    return MPB_OK;
}

int mpb_config_find_hub_models(mpb_config *c, mpb_error *err)
{
    int rc = MPB_OK;
    for (size_t i = 0; i < c->n_inputs && rc == MPB_OK; i++)
        rc = find_hub_model(c, c->written[i], c->origin[i], &c->inputs[i], err);
    for (size_t m = 0; m < c->n_models && rc == MPB_OK; m++)
        rc = find_hub_model(c, c->models_written[m], c->models_origin[m], &c->models[m], err);
    return rc;
}

int mpb_config_check_files(const mpb_config *c, mpb_error *err)
{
    /* With slices every model a source names; else the inputs. */
    size_t n = mpb_config_n_models(c);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        const char *path = mpb_config_model_path(c, i);
        const char *origin = c->n_slices ? c->models_origin[i] : c->origin[i];
        /* A folder is a valid input too (Hugging Face checkpoints). */
        if (stat(path, &st) != 0)
            return mpb_fail(err, MPB_EINVAL, "model file '%s' (from %s %s) does not exist%s%s",
                            path, c->path, origin, errno == ENOENT ? "" : ": ",
                            errno == ENOENT ? "" : strerror(errno));
        if (access(path, R_OK) != 0)
            return mpb_fail(err, MPB_EINVAL, "model file '%s' (from %s %s) is not readable: %s",
                            path, c->path, origin, strerror(errno));
    }
    return MPB_OK;
}

int mpb_config_load(const char *path, mpb_config **out, mpb_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = mpb_file_read_text(path, "config file", &text, &len, err);
    if (rc != MPB_OK)
        return rc;
    rc = mpb_config_parse(text, len, path, out, err);
    free(text);
    if (rc == MPB_OK && ((rc = mpb_config_find_hub_models(*out, err)) != MPB_OK ||
                         (rc = mpb_config_check_files(*out, err)) != MPB_OK)) {
        mpb_config_free(*out);
        *out = NULL;
    }
    return rc;
}
