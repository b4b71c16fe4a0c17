/* Writes model.safetensors.index.json and names the shards as Hugging Face
 * does (huggingface_hub split_state_dict_into_shards_factory, transformers
 * save_pretrained). */
#include "mpb_safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_text(const char *path, const char *text, mpb_error *err)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return mpb_fail(err, MPB_EIO, "%s: cannot create: %s", path, strerror(errno));
    bool ok = fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
    int saved = errno;
    if (fclose(fp) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok)
        return mpb_fail(err, MPB_EIO, "%s: write failed: %s", path, strerror(saved));
    return MPB_OK;
}

int mpb_st_index_write(const char *path, uint64_t total_size, const char *const *names,
                       const char *const *shard_files, size_t n, mpb_error *err)
{
    if (total_size > INT64_MAX)
        return mpb_fail(err, MPB_EINVAL, "%s: total_size is out of range", path);
    json_t *root = json_pack("{s:{s:I}, s:{}}", "metadata", "total_size",
                             (json_int_t)total_size, "weight_map");
    if (root == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    json_t *map = json_object_get(root, "weight_map");
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        if (json_object_get(map, names[i]) != NULL)
            rc = mpb_fail(err, MPB_EINVAL, "%s: tensor '%s' is listed twice", path, names[i]);
        else if (json_object_set_new(map, names[i], json_string(shard_files[i])) != 0)
            rc = mpb_fail(err, MPB_EINVAL, "%s: tensor '%s' or its shard is not valid UTF-8",
                          path, names[i]);
    }
    /* transformers writes json.dumps(index, indent=2, sort_keys=True) + "\n". */
    char *text = rc == MPB_OK
                     ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
                     : NULL;
    if (rc == MPB_OK && text == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    if (rc == MPB_OK)
        rc = write_text(path, text, err);
    free(text);
    json_decref(root);
    return rc;
}

void mpb_st_shard_name(char *buf, size_t len, int i, int n)
{
    if (n == 1)
        snprintf(buf, len, "%s", MPB_ST_SINGLE_NAME);
    else
        snprintf(buf, len, "model-%05d-of-%05d.safetensors", i, n);
}
