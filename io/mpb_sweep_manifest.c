#include "mpb_sweep_manifest.h"

#include "mpb_sweep.h"
#include "mpb_sweep_scores.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The mode open(2) would give a new file: 0666 less the umask. */
static mode_t new_file_mode(void)
{
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

static void sync_folder_of(const char *path)
{
    char *copy = strdup(path);
    char *slash = copy ? strrchr(copy, '/') : NULL;
    const char *dir = slash == NULL ? "." : slash == copy ? "/" : copy;
    if (slash > copy)
        *slash = '\0';
    int fd = copy ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/* Durable as well as atomic: the data reaches the disk before the rename,
 * and the rename before the caller goes on. */
int mpb_write_file_atomic(const char *path, const char *text, size_t len, mpb_error *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    /* A unique name: writers on other nodes may share a process id. */
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int rc = MPB_OK;
    if (f == NULL) {
        rc = mpb_fail(err, MPB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
    } else {
        bool ok = fwrite(text, 1, len, f) == len && fflush(f) == 0;
        /* mkstemp makes the file private; these files are the user's, as
         * any file they create. */
        ok = ok && fchmod(fd, new_file_mode()) == 0 && fsync(fd) == 0;
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, path) != 0) {
            rc = mpb_fail(err, MPB_EIO, "cannot write '%s': %s", path, strerror(errno));
            unlink(tmp);
        } else {
            sync_folder_of(path);
        }
    }
    free(tmp);
    return rc;
}

void mpb_csv_field(FILE *f, const char *text, bool last)
{
    if (strpbrk(text, ",\"\r\n") == NULL) {
        fputs(text, f);
    } else {
        fputc('"', f);
        for (const char *c = text; *c; c++) {
            if (*c == '"')
                fputc('"', f);
            fputc(*c, f);
        }
        fputc('"', f);
    }
    fputc(last ? '\n' : ',', f);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

int mpb_manifest_add(mpb_manifest *m, const char *path, const char *const values[],
                     const char *config_hash, size_t *pos, mpb_error *err)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        mpb_manifest_point *bigger = realloc(m->points, cap * sizeof *bigger);
        if (bigger == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory");
        m->points = bigger;
        m->cap = cap;
    }
    mpb_manifest_point *p = &m->points[m->n];
    memset(p, 0, sizeof *p);
    p->point = m->n ? m->points[m->n - 1].point + 1 : 0;
    p->path = strdup(path);
    p->values = calloc(m->n_params ? m->n_params : 1, sizeof *p->values);
    bool ok = p->path && p->values;
    for (size_t j = 0; ok && j < m->n_params; j++)
        ok = (p->values[j] = dup_or_empty(values[j])) != NULL;
    snprintf(p->status, sizeof p->status, "pending");
    snprintf(p->config_hash, sizeof p->config_hash, "%s", config_hash);
    m->n++;
    if (!ok)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    *pos = m->n - 1;
    return MPB_OK;
}

long mpb_manifest_find(const mpb_manifest *m, const char *path)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->points[i].path, path) == 0)
            return (long)i;
    return -1;
}

void mpb_manifest_free(mpb_manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        for (size_t j = 0; j < m->n_params; j++)
            free(m->points[i].values[j]);
        free(m->points[i].values);
        free(m->points[i].path);
    }
    for (size_t j = 0; j < m->n_params; j++) {
        free(m->keys[j]);
        free(m->names[j]);
    }
    free(m->keys);
    free(m->names);
    free(m->points);
    free(m->config);
    free(m->study_hash);
    free(m->template);
    memset(m, 0, sizeof *m);
}

/* ---- JSON ---- */

/* The point's successful scores, by metric name. */
static json_t *scores_json(const mpb_scores *s, size_t row)
{
    json_t *scores = json_object();
    for (size_t k = 0; scores && k < s->n_metrics; k++) {
        double v = mpb_scores_get(s, row, k);
        if (!isnan(v))
            json_object_set_new(scores, s->metrics[k], json_real(v));
    }
    return scores;
}

static json_t *point_json(const mpb_manifest *m, const mpb_scores *s, size_t row)
{
    const mpb_manifest_point *p = &m->points[row];
    json_t *values = json_object();
    for (size_t j = 0; values && j < m->n_params; j++)
        json_object_set_new(values, m->names[j], json_string(p->values[j]));
    return json_pack("{s:I, s:o, s:s, s:I, s:s, s:s, s:i, s:f, s:s, s:o}", "point",
                     (json_int_t)p->point, "values", values, "path", p->path, "bytes",
                     (json_int_t)p->bytes, "checksum", p->checksum, "status", p->status, "pass",
                     p->pass, "wall_s", p->wall_s, "config_hash", p->config_hash, "scores",
                     scores_json(s, row));
}

static char *manifest_json(const mpb_manifest *m, const mpb_scores *s)
{
    json_t *params = json_array(), *points = json_array();
    for (size_t j = 0; params && j < m->n_params; j++)
        json_array_append_new(params,
                              json_pack("{s:s, s:s}", "key", m->keys[j], "name", m->names[j]));
    json_t *metrics = json_array();
    for (size_t k = 0; metrics && k < s->n_metrics; k++)
        json_array_append_new(metrics, json_string(s->metrics[k]));
    for (size_t i = 0; points && i < m->n; i++)
        json_array_append_new(points, point_json(m, s, i));
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "mpiblend_version",
                             MPB_VERSION, "config", m->config, "study_hash", m->study_hash,
                             "template", m->template, "parameters", params, "checksum",
                             "crc32c of the tensor data, tensors in index order", "metrics",
                             metrics, "points", points);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    return text;
}

static char *manifest_csv(const mpb_manifest *m, const mpb_scores *s, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (f == NULL)
        return NULL;
    mpb_csv_field(f, "point", false);
    for (size_t j = 0; j < m->n_params; j++)
        mpb_csv_field(f, m->names[j], false);
    static const char *const tail[] = {"path", "bytes",  "checksum",   "status",
                                       "pass", "wall_s", "config_hash"};
    for (size_t c = 0; c < 7; c++)
        mpb_csv_field(f, tail[c], c == 6 && s->n_metrics == 0);
    for (size_t k = 0; k < s->n_metrics; k++)
        mpb_csv_field(f, s->metrics[k], k + 1 == s->n_metrics);
    for (size_t i = 0; i < m->n; i++) {
        const mpb_manifest_point *p = &m->points[i];
        char num[64];
        snprintf(num, sizeof num, "%zu", p->point);
        mpb_csv_field(f, num, false);
        for (size_t j = 0; j < m->n_params; j++)
            mpb_csv_field(f, p->values[j], false);
        mpb_csv_field(f, p->path, false);
        snprintf(num, sizeof num, "%llu", (unsigned long long)p->bytes);
        mpb_csv_field(f, num, false);
        mpb_csv_field(f, p->checksum, false);
        mpb_csv_field(f, p->status, false);
        snprintf(num, sizeof num, "%d", p->pass);
        mpb_csv_field(f, num, false);
        snprintf(num, sizeof num, "%.3f", p->wall_s);
        mpb_csv_field(f, num, false);
        mpb_csv_field(f, p->config_hash, s->n_metrics == 0);
        for (size_t k = 0; k < s->n_metrics; k++) {
            double v = mpb_scores_get(s, i, k);
            if (!isnan(v))
                mpb_sweep_format_value(v, num, sizeof num);
            mpb_csv_field(f, isnan(v) ? "" : num, k + 1 == s->n_metrics);
        }
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

int mpb_manifest_write(const char *dir, const mpb_manifest *m, mpb_error *err)
{
    char *json_path = mpb_path_join(dir, MPB_MANIFEST_JSON);
    char *csv_path = mpb_path_join(dir, MPB_MANIFEST_CSV);
    /* The scores are read from DIR/eval each time: both sweep and eval
     * rewrite the manifest, and the records are what both agree on. */
    mpb_scores scores;
    mpb_error scores_err = {0};
    if (mpb_scores_load(dir, m, false, &scores, &scores_err) != MPB_OK)
        memset(&scores, 0, sizeof scores);
    char *json = manifest_json(m, &scores);
    size_t csv_len = 0;
    char *csv = manifest_csv(m, &scores, &csv_len);
    mpb_scores_free(&scores);
    int rc = json_path && csv_path && json && csv
                 ? MPB_OK
                 : mpb_fail(err, MPB_ENOMEM, "out of memory writing the manifest");
    if (rc == MPB_OK)
        rc = mpb_write_file_atomic(json_path, json, strlen(json), err);
    if (rc == MPB_OK)
        rc = mpb_write_file_atomic(csv_path, csv, csv_len, err);
    free(json_path);
    free(csv_path);
    free(json);
    free(csv);
    return rc;
}

static int bad(const char *path, const char *what, mpb_error *err)
{
    return mpb_fail(err, MPB_EINVAL,
                    "manifest '%s' is damaged: %s (remove the folder or "
                    "pass --force to start over)",
                    path, what);
}

static int read_params(const char *path, json_t *params, mpb_manifest *m, mpb_error *err)
{
    m->n_params = json_array_size(params);
    m->keys = calloc(m->n_params + 1, sizeof *m->keys);
    m->names = calloc(m->n_params + 1, sizeof *m->names);
    if (!m->keys || !m->names)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    for (size_t j = 0; j < m->n_params; j++) {
        const char *key = NULL, *name = NULL;
        if (json_unpack(json_array_get(params, j), "{s:s, s:s}", "key", &key, "name", &name))
            return bad(path, "a parameter lacks key or name", err);
        m->keys[j] = strdup(key);
        m->names[j] = strdup(name);
        if (!m->keys[j] || !m->names[j])
            return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    return MPB_OK;
}

static int read_point(const char *path, json_t *pj, mpb_manifest *m, mpb_error *err)
{
    json_int_t point = 0, bytes = 0;
    int pass = 0;
    double wall = 0;
    const char *file, *checksum, *status, *hash;
    json_t *values;
    if (json_unpack(pj, "{s:I, s:o, s:s, s:I, s:s, s:s, s:i, s:F, s:s}", "point", &point,
                    "values", &values, "path", &file, "bytes", &bytes, "checksum", &checksum,
                    "status", &status, "pass", &pass, "wall_s", &wall, "config_hash", &hash))
        return bad(path,
                   "a point lacks one of point, values, path, bytes, checksum, "
                   "status, pass, wall_s, config_hash",
                   err);
    const char **texts = calloc(m->n_params + 1, sizeof *texts);
    if (texts == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = MPB_OK;
    for (size_t j = 0; j < m->n_params && rc == MPB_OK; j++)
        if ((texts[j] = json_string_value(json_object_get(values, m->names[j]))) == NULL)
            rc = bad(path, "a point lacks a parameter value", err);
    size_t pos;
    if (rc == MPB_OK)
        rc = mpb_manifest_add(m, file, texts, hash, &pos, err);
    free(texts);
    if (rc)
        return rc;
    mpb_manifest_point *p = &m->points[pos];
    p->point = (size_t)point;
    p->bytes = (uint64_t)bytes;
    p->pass = pass;
    p->wall_s = wall;
    snprintf(p->checksum, sizeof p->checksum, "%s", checksum);
    snprintf(p->status, sizeof p->status, "%s", status);
    return MPB_OK;
}

int mpb_manifest_read(const char *dir, mpb_manifest *m, bool *found, mpb_error *err)
{
    memset(m, 0, sizeof *m);
    *found = false;
    char *path = mpb_path_join(dir, MPB_MANIFEST_JSON);
    if (path == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    if (access(path, F_OK) != 0) {
        free(path);
        return MPB_OK;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    const char *config, *study, *template;
    json_t *params, *points;
    int rc = MPB_OK;
    if (root == NULL)
        rc = mpb_fail(err, MPB_EINVAL, "cannot read manifest '%s': %s (line %d)", path,
                      jerr.text, jerr.line);
    else if (json_unpack(root, "{s:s, s:s, s:s, s:o, s:o}", "config", &config, "study_hash",
                         &study, "template", &template, "parameters", &params, "points",
                         &points) ||
             !json_is_array(params) || !json_is_array(points))
        rc = bad(path, "it lacks config, study_hash, template, parameters or points", err);
    if (rc == MPB_OK) {
        m->config = strdup(config);
        m->study_hash = strdup(study);
        m->template = strdup(template);
        rc = read_params(path, params, m, err);
    }
    for (size_t i = 0; rc == MPB_OK && i < json_array_size(points); i++)
        rc = read_point(path, json_array_get(points, i), m, err);
    json_decref(root);
    free(path);
    if (rc != MPB_OK)
        mpb_manifest_free(m);
    else
        *found = true;
    return rc;
}
