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

int mpb_config_find_hub_models(mpb_config *c, mpb_error *err)
{
    for (size_t i = 0; i < c->n_inputs; i++) {
        struct stat st;
        if (!mpb_hf_is_model_name(c->written[i]) || stat(c->inputs[i], &st) == 0)
            continue; /* a local path wins */
        char origin[1100], *snapshot;
        snprintf(origin, sizeof origin, "%s %s", c->path, c->origin[i]);
        int rc = mpb_hf_cache_find(c->written[i], origin, c->inputs[i], &snapshot, err);
        if (rc != MPB_OK)
            return rc;
        free(c->inputs[i]);
        c->inputs[i] = snapshot;
    }
    return MPB_OK;
}

int mpb_config_check_files(const mpb_config *c, mpb_error *err)
{
    for (size_t i = 0; i < c->n_inputs; i++) {
        struct stat st;
        const char *path = c->inputs[i];
        /* A folder is a valid input too (Hugging Face checkpoints). */
        if (stat(path, &st) != 0)
            return mpb_fail(err, MPB_EINVAL, "model file '%s' (from %s %s) does not exist%s%s",
                            path, c->path, c->origin[i], errno == ENOENT ? "" : ": ",
                            errno == ENOENT ? "" : strerror(errno));
        if (access(path, R_OK) != 0)
            return mpb_fail(err, MPB_EINVAL, "model file '%s' (from %s %s) is not readable: %s",
                            path, c->path, c->origin[i], strerror(errno));
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
