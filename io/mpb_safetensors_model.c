/* Finds a model's safetensors files: one file, or a folder with an index
 * and its shards, a model.safetensors, or a lone *.safetensors.  The other
 * files of the folder (config, tokenizer, ...) are listed for copying. */
#include "mpb_safetensors.h"
#include "mpb_file.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Weights in other formats would be stale next to merged safetensors, and
 * other indexes would name files the output does not have. */
static const char *const not_extra_suffixes[] = {
    ".safetensors", ".index.json", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf",
};

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode); /* follows the HF cache's symlinks */
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

/* Regular files of dir (symlinks followed), sorted by name. */
static int list_files(const char *dir, char ***names, size_t *n, mpb_error *err)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return mpb_fail(err, MPB_EIO, "%s: cannot list: %s", dir, strerror(errno));
    size_t cap = 0;
    int rc = MPB_OK;
    struct dirent *de;
    while (rc == MPB_OK && (de = readdir(d)) != NULL) {
        char *path = mpb_path_join(dir, de->d_name);
        bool keep = path != NULL && is_regular(path);
        free(path);
        if (path == NULL)
            rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
        if (!keep)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(*names, cap * sizeof *grown);
            if (grown == NULL) {
                rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
                break;
            }
            *names = grown;
        }
        if (((*names)[*n] = strdup(de->d_name)) == NULL)
            rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", dir);
        else
            ++*n;
    }
    closedir(d);
    if (*n > 1)
        qsort(*names, *n, sizeof **names, by_string);
    return rc;
}

static bool listed(char **names, size_t n, const char *name)
{
    return n > 0 && bsearch(&name, names, n, sizeof *names, by_string) != NULL;
}

static int open_files(mpb_st_model *m, const char *const *names, size_t n, mpb_error *err)
{
    m->files = calloc(n, sizeof *m->files);
    if (m->files == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", m->dir);
    for (size_t i = 0; i < n; i++) {
        char *path = mpb_path_join(m->dir, names[i]);
        if (path == NULL)
            return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", m->dir);
        int rc = mpb_st_open(path, &m->files[i], err);
        free(path);
        if (rc != MPB_OK)
            return rc;
        m->n_files++;
    }
    return MPB_OK;
}

/* "PREFIX-00002-of-00005.safetensors": the length of PREFIX, or 0 when
 * the name is not of that form. */
static size_t series_prefix(const char *name)
{
    size_t n = strlen(name), k = strlen(".safetensors");
    if (!has_suffix(name, ".safetensors"))
        return 0;
    const char *end = name + n - k, *p = end;
    size_t digits = 0;
    while (p > name && p[-1] >= '0' && p[-1] <= '9')
        p--, digits++;
    if (digits == 0 || p - name < 4 || strncmp(p - 4, "-of-", 4) != 0)
        return 0;
    p -= 4;
    digits = 0;
    while (p > name && p[-1] >= '0' && p[-1] <= '9')
        p--, digits++;
    if (digits == 0 || p == name || p[-1] != '-')
        return 0;
    return (size_t)(p - 1 - name);
}

/* Whether name belongs to the series of the index's shards. */
static bool in_series(const mpb_st_index *ix, const char *name)
{
    size_t len = series_prefix(name);
    for (size_t s = 0; len > 0 && s < ix->n_shards; s++)
        if (series_prefix(ix->shard_files[s]) == len &&
            strncmp(ix->shard_files[s], name, len) == 0)
            return true;
    return false;
}

/* A shard of the index's own series that weight_map forgets would drop
 * its tensors: an error.  Any other *.safetensors beside the index
 * (Mistral's consolidated.safetensors) is ignored and listed. */
static int check_unlisted(mpb_st_model *m, const mpb_st_index *ix, char **names, size_t n,
                          mpb_error *err)
{
    char **shards = ix->shard_files;
    for (size_t i = 0; i < n; i++) {
        if (!has_suffix(names[i], ".safetensors") || listed(shards, ix->n_shards, names[i]))
            continue;
        if (in_series(ix, names[i]))
            return mpb_fail(err, MPB_EINVAL,
                            "%s: '%s' in %s is a shard of the index's own "
                            "series, but weight_map lists none of its tensors; its tensors "
                            "would be dropped (fix the index, or remove the file)",
                            m->index_path, names[i], m->dir);
        char **grown = realloc(m->ignored, (m->n_ignored + 1) * sizeof *grown);
        if (grown == NULL)
            return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", m->dir);
        m->ignored = grown;
        if ((m->ignored[m->n_ignored] = strdup(names[i])) == NULL)
            return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", m->dir);
        m->n_ignored++;
    }
    return MPB_OK;
}

static int open_sharded(mpb_st_model *m, mpb_st_index *ix, char **names, size_t n,
                        mpb_error *err)
{
    if ((m->index_path = mpb_path_join(m->dir, MPB_ST_INDEX_NAME)) == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", m->dir);
    int rc = mpb_st_index_load(m->index_path, ix, err);
    if (rc != MPB_OK)
        return rc;
    for (size_t s = 0; s < ix->n_shards; s++) {
        if (listed(names, n, ix->shard_files[s]))
            continue;
        size_t e = 0;
        while (ix->entry_shard[e] != s)
            e++;
        return mpb_fail(err, MPB_EINVAL,
                        "%s: weight_map names shard '%s' (for tensor '%s'), which is not a "
                        "file in %s",
                        m->index_path, ix->shard_files[s], ix->names[e], m->dir);
    }
    rc = check_unlisted(m, ix, names, n, err);
    if (rc != MPB_OK)
        return rc;
    return open_files(m, (const char *const *)ix->shard_files, ix->n_shards, err);
}

/* No index and no model.safetensors: a lone *.safetensors (an adapter, an
 * MLX checkpoint) is the model; several are ambiguous. */
static int open_lone(mpb_st_model *m, char **names, size_t n, mpb_error *err)
{
    const char *found[3] = {NULL, NULL, NULL};
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (has_suffix(names[i], ".safetensors") && count++ < 3)
            found[count - 1] = names[i];
    if (count == 0)
        return mpb_fail(err, MPB_EINVAL, "%s: no .safetensors file and no %s", m->dir,
                        MPB_ST_INDEX_NAME);
    if (count > 1)
        return mpb_fail(err, MPB_EINVAL,
                        "%s: %zu .safetensors files (%s, %s%s) but no %s; name one file as "
                        "the source",
                        m->dir, count, found[0], found[1], count > 2 ? ", ..." : "",
                        MPB_ST_INDEX_NAME);
    return open_files(m, found, 1, err);
}

static int list_extras(mpb_st_model *m, char **names, size_t n, mpb_error *err)
{
    m->extra_files = calloc(n + 1, sizeof *m->extra_files);
    if (m->extra_files == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", m->dir);
    for (size_t i = 0; i < n; i++) {
        bool skip = names[i][0] == '.'; /* .gitattributes, editor and lock files */
        for (size_t k = 0; k < sizeof not_extra_suffixes / sizeof *not_extra_suffixes; k++)
            skip = skip || has_suffix(names[i], not_extra_suffixes[k]);
        if (skip)
            continue;
        if ((m->extra_files[m->n_extra] = strdup(names[i])) == NULL)
            return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", m->dir);
        m->n_extra++;
    }
    return MPB_OK;
}

static int open_dir(mpb_st_model *m, mpb_st_index *ix, mpb_error *err)
{
    char **names;
    size_t n;
    int rc = list_files(m->dir, &names, &n, err);
    if (rc != MPB_OK) {
        free_strings(names, n);
        return rc;
    }
    bool sharded = listed(names, n, MPB_ST_INDEX_NAME);
    bool single = listed(names, n, MPB_ST_SINGLE_NAME);
    const char *single_name = MPB_ST_SINGLE_NAME;
    if (sharded && single)
        /* transformers would silently take model.safetensors; a merge
         * should not guess which of the two is current. */
        rc = mpb_fail(err, MPB_EINVAL, "%s: holds both %s and %s; remove the stale one", m->dir,
                      MPB_ST_SINGLE_NAME, MPB_ST_INDEX_NAME);
    else if (sharded)
        rc = open_sharded(m, ix, names, n, err);
    else if (single)
        rc = open_files(m, &single_name, 1, err);
    else
        rc = open_lone(m, names, n, err);
    if (rc == MPB_OK)
        rc = list_extras(m, names, n, err);
    free_strings(names, n);
    return rc;
}

static int open_file(mpb_st_model *m, const char *source, mpb_error *err)
{
    const char *slash = strrchr(source, '/');
    m->dir = slash == NULL ? strdup(".")
                           : strndup(source, (size_t)(slash - source) + (slash == source));
    m->files = calloc(1, sizeof *m->files);
    if (m->dir == NULL || m->files == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", source);
    int rc = mpb_st_open(source, &m->files[0], err);
    if (rc == MPB_OK)
        m->n_files = 1;
    return rc;
}

static int by_ref_name(const void *a, const void *b)
{
    return strcmp(((const mpb_st_ref *)a)->name, ((const mpb_st_ref *)b)->name);
}

/* One sorted list of every tensor; a name held by two files is an error. */
static int index_tensors(mpb_st_model *m, mpb_error *err)
{
    size_t n = 0;
    for (size_t f = 0; f < m->n_files; f++)
        n += m->files[f].n_tensors;
    m->tensors = calloc(n + 1, sizeof *m->tensors);
    if (m->tensors == NULL)
        return mpb_fail(err, MPB_ENOMEM, "%s: out of memory", m->dir);
    for (size_t f = 0; f < m->n_files; f++)
        for (size_t t = 0; t < m->files[f].n_tensors; t++)
            m->tensors[m->n_tensors++] = (mpb_st_ref){m->files[f].tensors[t].name, f, t};
    qsort(m->tensors, n, sizeof *m->tensors, by_ref_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(m->tensors[i].name, m->tensors[i - 1].name) == 0)
            return mpb_fail(err, MPB_EINVAL, "%s: tensor '%s' is stored in both %s and %s",
                            m->dir, m->tensors[i].name, m->files[m->tensors[i - 1].file].path,
                            m->files[m->tensors[i].file].path);
    return MPB_OK;
}

int mpb_st_model_open(const char *source, mpb_st_model *out, mpb_error *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(source, &st) != 0)
        return mpb_fail(err, MPB_EIO, "%s: cannot open: %s", source, strerror(errno));
    mpb_st_index ix = {0};
    int rc;
    if (!S_ISDIR(st.st_mode))
        rc = open_file(out, source, err);
    else if ((out->dir = strdup(source)) == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "%s: out of memory", source);
    else {
        for (size_t n = strlen(out->dir); n > 1 && out->dir[n - 1] == '/'; n--)
            out->dir[n - 1] = '\0'; /* "dir/" names files "dir/x", not "dir//x" */
        rc = open_dir(out, &ix, err);
    }
    if (rc == MPB_OK)
        rc = index_tensors(out, err);
    if (rc == MPB_OK && out->index_path != NULL)
        rc = mpb_st_index_check(&ix, out, err);
    mpb_st_index_free(&ix);
    if (rc != MPB_OK)
        mpb_st_model_free(out);
    return rc;
}

void mpb_st_model_free(mpb_st_model *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_files; i++)
        mpb_st_file_free(&m->files[i]);
    free(m->files);
    free(m->tensors);
    free_strings(m->extra_files, m->n_extra);
    free_strings(m->ignored, m->n_ignored);
    free(m->dir);
    free(m->index_path);
    memset(m, 0, sizeof *m);
}

const mpb_st_ref *mpb_st_model_find(const mpb_st_model *m, const char *name)
{
    mpb_st_ref key = {name, 0, 0};
    return bsearch(&key, m->tensors, m->n_tensors, sizeof *m->tensors, by_ref_name);
}

const mpb_st_tensor *mpb_st_model_tensor(const mpb_st_model *m, const mpb_st_ref *r)
{
    return &m->files[r->file].tensors[r->tensor];
}

int mpb_st_ignored_files(const char *source, char *buf, size_t len, mpb_error *err)
{
    buf[0] = '\0';
    struct stat st;
    if (stat(source, &st) != 0 || !S_ISDIR(st.st_mode))
        return MPB_OK;
    mpb_st_model m;
    int rc = mpb_st_model_open(source, &m, err);
    size_t used = 0;
    for (size_t i = 0; rc == MPB_OK && i < m.n_ignored && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", m.ignored[i]);
    if (rc == MPB_OK)
        mpb_st_model_free(&m);
    return rc;
}
