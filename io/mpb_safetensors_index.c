/* model.safetensors.index.json: parsing, and the cross-check against the
 * shards it names (docs/SAFETENSORS.md, "Sharded folders"). */
#include "mpb_safetensors.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    const char *name, *shard; /* borrowed from the JSON tree */
};

static int by_entry_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* transformers joins the value to the folder; anything but a plain file
 * name there would reach outside it. */
static bool plain_file_name(const char *s)
{
    return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0;
}

static int parse_metadata(const char *path, const json_t *root, mpb_st_index *ix,
                          mpb_error *err)
{
    const json_t *meta = json_object_get(root, "metadata");
    if (meta == NULL)
        return MPB_OK;
    if (!json_is_object(meta))
        return mpb_fail(err, MPB_EINVAL, "%s: \"metadata\" is not an object", path);
    const json_t *total = json_object_get(meta, "total_size");
    if (total == NULL)
        return MPB_OK;
    if (!json_is_integer(total) || json_integer_value(total) < 0)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: metadata.total_size is not a non-negative integer", path);
    ix->has_total_size = true;
    ix->total_size = (uint64_t)json_integer_value(total);
    return MPB_OK;
}

static int collect_entries(const char *path, const json_t *map, struct entry *e, mpb_error *err)
{
    size_t i = 0;
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)map, name, v)
    {
        if (!json_is_string(v))
            return mpb_fail(err, MPB_EINVAL,
                            "%s: weight_map['%s'] is not a string naming a shard file", path,
                            name);
        if (!plain_file_name(json_string_value(v)))
            return mpb_fail(
                err, MPB_EINVAL,
                "%s: weight_map['%s'] = '%s' is not a file name in the index's folder", path,
                name, json_string_value(v));
        e[i].name = name;
        e[i].shard = json_string_value(v);
        i++;
    }
    qsort(e, i, sizeof *e, by_entry_name);
    return MPB_OK;
}

/* Fills names, the distinct sorted shard list, and each entry's shard. */
static int fill_index(const char *path, const struct entry *e, size_t n, mpb_st_index *ix,
                      mpb_error *err)
{
    const char **shards = malloc(n * sizeof *shards);
    ix->names = calloc(n, sizeof *ix->names);
    ix->entry_shard = calloc(n, sizeof *ix->entry_shard);
    ix->shard_files = calloc(n, sizeof *ix->shard_files);
    if (shards == NULL || ix->names == NULL || ix->entry_shard == NULL ||
        ix->shard_files == NULL) {
        free(shards);
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; i++)
        shards[i] = e[i].shard;
    qsort(shards, n, sizeof *shards, by_string);
    int rc = MPB_OK;
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        if (i > 0 && strcmp(shards[i], shards[i - 1]) == 0)
            continue;
        ix->shard_files[ix->n_shards] = strdup(shards[i]);
        if (ix->shard_files[ix->n_shards++] == NULL)
            rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        ix->names[ix->n_entries] = strdup(e[i].name);
        if (ix->names[ix->n_entries++] == NULL)
            rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
        const char **s = bsearch(&e[i].shard, ix->shard_files, ix->n_shards,
                                 sizeof *ix->shard_files, by_string);
        ix->entry_shard[i] = (size_t)(s - (const char **)ix->shard_files);
    }
    free(shards);
    return rc;
}

static int parse_root(const char *path, const json_t *root, mpb_st_index *ix, mpb_error *err)
{
    if (!json_is_object(root))
        return mpb_fail(err, MPB_EINVAL, "%s: the index is not a JSON object", path);
    int rc = parse_metadata(path, root, ix, err);
    if (rc != MPB_OK)
        return rc;
    const json_t *map = json_object_get(root, "weight_map");
    if (!json_is_object(map))
        return mpb_fail(err, MPB_EINVAL, "%s: %s", path,
                        map == NULL ? "no \"weight_map\"" : "\"weight_map\" is not an object");
    size_t n = json_object_size(map);
    if (n == 0)
        return mpb_fail(err, MPB_EINVAL, "%s: weight_map is empty", path);
    struct entry *e = malloc(n * sizeof *e);
    if (e == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    rc = collect_entries(path, map, e, err);
    if (rc == MPB_OK)
        rc = fill_index(path, e, n, ix, err);
    free(e);
    return rc;
}

static int from_json(const char *path, json_t *root, const json_error_t *je, mpb_st_index *out,
                     mpb_error *err)
{
    int rc;
    if (root == NULL && json_error_code(je) == json_error_cannot_open_file)
        rc = mpb_fail(err, MPB_EIO, "%s: %s", path, je->text);
    else if (root == NULL)
        rc = mpb_fail(err, MPB_EINVAL, "%s: not valid JSON (%s, line %d column %d)", path,
                      je->text, je->line, je->column);
    else if ((out->path = strdup(path)) == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", path);
    else
        rc = parse_root(path, root, out, err);
    json_decref(root);
    if (rc != MPB_OK)
        mpb_st_index_free(out);
    return rc;
}

int mpb_st_index_parse(const char *path, const char *json, size_t len, mpb_st_index *out,
                       mpb_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    return from_json(path, root, &je, out, err);
}

int mpb_st_index_load(const char *path, mpb_st_index *out, mpb_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    return from_json(path, root, &je, out, err);
}

void mpb_st_index_free(mpb_st_index *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->n_entries; i++)
        free(ix->names[i]);
    for (size_t i = 0; i < ix->n_shards; i++)
        free(ix->shard_files[i]);
    free(ix->names);
    free(ix->entry_shard);
    free(ix->shard_files);
    free(ix->path);
    memset(ix, 0, sizeof *ix);
}

long mpb_st_index_find(const mpb_st_index *ix, const char *name)
{
    if (ix->n_entries == 0)
        return -1;
    char **hit = bsearch(&name, ix->names, ix->n_entries, sizeof *ix->names, by_string);
    return hit == NULL ? -1 : (long)(hit - ix->names);
}

/* m->files[i] must be the shard ix->shard_files[i], as mpb_st_model_open
 * arranges; tensors held by two shards were refused while indexing m. */
int mpb_st_index_check(const mpb_st_index *ix, const mpb_st_model *m, mpb_error *err)
{
    uint64_t sum = 0;
    bool sum_overflow = false;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const mpb_st_ref *r = &m->tensors[i];
        const mpb_st_tensor *t = mpb_st_model_tensor(m, r);
        long e = mpb_st_index_find(ix, r->name);
        if (e < 0)
            return mpb_fail(err, MPB_EINVAL,
                            "%s: shard '%s' holds tensor '%s', which weight_map does not list",
                            ix->path, ix->shard_files[r->file], r->name);
        if (ix->entry_shard[e] != r->file)
            return mpb_fail(err, MPB_EINVAL,
                            "%s: weight_map puts tensor '%s' in '%s', but it is stored in '%s'",
                            ix->path, r->name, ix->shard_files[ix->entry_shard[e]],
                            ix->shard_files[r->file]);
        sum_overflow |= sum > UINT64_MAX - (t->end - t->begin);
        sum += t->end - t->begin;
    }
    for (size_t i = 0; i < ix->n_entries; i++)
        if (mpb_st_model_find(m, ix->names[i]) == NULL)
            return mpb_fail(err, MPB_EINVAL,
                            "%s: weight_map puts tensor '%s' in '%s', but that shard has no "
                            "such tensor",
                            ix->path, ix->names[i], ix->shard_files[ix->entry_shard[i]]);
    if (ix->has_total_size && (sum_overflow || sum != ix->total_size))
        return mpb_fail(err, MPB_EINVAL,
                        "%s: metadata.total_size is %" PRIu64
                        " but the shards' tensors hold %" PRIu64 " bytes",
                        ix->path, ix->total_size, sum);
    return MPB_OK;
}
