#include "mpb_sweep_resume.h"

#include "mpb_output_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t mpb_sweep_output_bytes(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return (uint64_t)st.st_size;
    uint64_t total = 0;
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char *child = mpb_path_join(path, e->d_name);
        if (child && stat(child, &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
        free(child);
    }
    if (d)
        closedir(d);
    return total;
}

static bool output_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void remove_output(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        mpb_output_dir_remove(path);
    else
        unlink(path);
}

/* Complete and unchanged since the manifest row was written: its size,
 * and its data checksum recomputed now (intact, mpb_sweep_recheck.h). */
static bool verified(const mpb_manifest_point *row, const char *path, bool intact)
{
    return strcmp(row->status, "done") == 0 && output_exists(path) &&
           mpb_sweep_output_bytes(path) == row->bytes && intact;
}

/* Temporary files a killed run left behind: ".NAME.mpiblend-*.tmp". */
static void remove_stale_temps(const char *out_dir, const char *name)
{
    DIR *d = opendir(out_dir);
    size_t len = strlen(name);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        const char *f = e->d_name;
        size_t flen = strlen(f);
        if (f[0] == '.' && strncmp(f + 1, name, len) == 0 &&
            strncmp(f + 1 + len, ".mpiblend-", 10) == 0 && flen > 4 &&
            strcmp(f + flen - 4, ".tmp") == 0) {
            char *stale = mpb_path_join(out_dir, f);
            if (stale)
                remove_output(stale);
            free(stale);
        }
    }
    if (d)
        closedir(d);
}

static int start_manifest(const mpb_sweep *s, const char *config_path, const char *study,
                          mpb_manifest *m, mpb_error *err)
{
    mpb_manifest_free(m);
    size_t n = mpb_sweep_n_params(s);
    m->config = strdup(config_path);
    m->study_hash = strdup(study);
    m->template = strdup(mpb_sweep_template(s));
    m->keys = calloc(n + 1, sizeof *m->keys);
    m->names = calloc(n + 1, sizeof *m->names);
    bool ok = m->config && m->study_hash && m->template && m->keys && m->names;
    for (size_t j = 0; ok && j < n; j++, m->n_params = j)
        ok = (m->keys[j] = strdup(mpb_sweep_param_key(s, j))) &&
             (m->names[j] = strdup(mpb_sweep_param_name(s, j)));
    return ok ? MPB_OK : mpb_fail(err, MPB_ENOMEM, "out of memory");
}

static int prepare_dir(const char *out_dir, mpb_error *err)
{
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST)
        return mpb_fail(err, MPB_EIO, "cannot create output folder '%s': %s", out_dir,
                        strerror(errno));
    struct stat st;
    if (stat(out_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return mpb_fail(err, MPB_EIO, "'%s' is not a folder", out_dir);
    return MPB_OK;
}

/* One grid point against the manifest: keep it, or (re)write it. */
static int decide(const mpb_sweep *s, const mpb_sweep_point *p, bool force, bool intact,
                  mpb_manifest *m, mpb_sweep_todo *todo, mpb_error *err)
{
    long row = mpb_manifest_find(m, p->name);
    if (row >= 0 && strcmp(m->points[row].config_hash, p->config_hash) != 0 && !force)
        return mpb_fail(err, MPB_EINVAL,
                        "'%s' in the sweep folder was written for another "
                        "grid point (its config differs); the output template must give "
                        "different points different names, or pass --force",
                        p->path);
    if (row < 0 && output_exists(p->path) && !force)
        return mpb_fail(err, MPB_EEXIST,
                        "'%s' exists but is not in the folder's manifest; "
                        "pass --force to replace it",
                        p->path);
    if (row >= 0 && !force && verified(&m->points[row], p->path, intact)) {
        todo->entry[p->index] = (size_t)row;
        todo->n_done++;
        return MPB_OK;
    }
    if (row < 0) {
        const char **values = calloc(mpb_sweep_n_params(s) + 1, sizeof *values);
        if (values == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory");
        for (size_t j = 0; j < mpb_sweep_n_params(s); j++)
            values[j] = mpb_sweep_value_text(s, p->index, j);
        size_t pos;
        int rc = mpb_manifest_add(m, p->name, values, p->config_hash, &pos, err);
        free(values);
        if (rc)
            return rc;
        row = (long)pos;
    }
    mpb_manifest_point *r = &m->points[row];
    snprintf(r->status, sizeof r->status, "pending");
    snprintf(r->config_hash, sizeof r->config_hash, "%s", p->config_hash);
    r->checksum[0] = '\0';
    r->bytes = 0;
    r->pass = 0;
    r->wall_s = 0;
    /* Ours by the manifest, and not verified: replaced, not kept. */
    if (output_exists(p->path))
        remove_output(p->path);
    todo->entry[p->index] = (size_t)row;
    todo->points[todo->n++] = p->index;
    return MPB_OK;
}

int mpb_sweep_resume_plan(const mpb_sweep *s, const mpb_sweep_point *pts,
                          const char *config_path, const char *out_dir, const char *study_hash,
                          bool force, const bool *intact, mpb_manifest *m, mpb_sweep_todo *todo,
                          mpb_error *err)
{
    size_t n = mpb_sweep_n_points(s);
    memset(todo, 0, sizeof *todo);
    todo->points = calloc(n + 1, sizeof *todo->points);
    todo->entry = calloc(n + 1, sizeof *todo->entry);
    if (todo->points == NULL || todo->entry == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    bool found = false;
    int rc = prepare_dir(out_dir, err);
    if (rc == MPB_OK)
        rc = mpb_manifest_read(out_dir, m, &found, err);
    if (rc)
        return rc;
    if (found && strcmp(m->study_hash, study_hash) != 0 && !force)
        return mpb_fail(err, MPB_EINVAL,
                        "'%s' holds a sweep of another config (the merge "
                        "config or the swept parameters changed since %s was written); use "
                        "another --out-dir, or --force to start the folder over",
                        out_dir, MPB_MANIFEST_JSON);
    if (!found || strcmp(m->study_hash, study_hash) != 0) {
        rc = start_manifest(s, config_path, study_hash, m, err);
    } else {
        /* The same study, perhaps a refined grid: rows accumulate. */
        char *template = strdup(mpb_sweep_template(s));
        if (template) {
            free(m->template);
            m->template = template;
        }
    }
    for (size_t i = 0; i < n && rc == MPB_OK; i++)
        rc = decide(s, &pts[i], force, intact[i], m, todo, err);
    for (size_t i = 0; i < todo->n && rc == MPB_OK; i++)
        remove_stale_temps(out_dir, pts[todo->points[i]].name);
    return rc;
}

int mpb_sweep_resume_expect(const mpb_sweep_point *pts, size_t n, const char *out_dir,
                            const char *study_hash, bool force, char (*expected)[32],
                            mpb_error *err)
{
    for (size_t i = 0; i < n; i++)
        expected[i][0] = '\0';
    if (force)
        return MPB_OK;
    mpb_manifest m;
    bool found = false;
    int rc = mpb_manifest_read(out_dir, &m, &found, err);
    if (rc != MPB_OK || !found)
        return rc;
    for (size_t i = 0; i < n && strcmp(m.study_hash, study_hash) == 0; i++) {
        long row = mpb_manifest_find(&m, pts[i].name);
        const mpb_manifest_point *r = row >= 0 ? &m.points[row] : NULL;
        if (r && strcmp(r->status, "done") == 0 &&
            strcmp(r->config_hash, pts[i].config_hash) == 0 && output_exists(pts[i].path) &&
            mpb_sweep_output_bytes(pts[i].path) == r->bytes)
            snprintf(expected[i], 32, "%s", r->checksum);
    }
    mpb_manifest_free(&m);
    return MPB_OK;
}

void mpb_sweep_todo_free(mpb_sweep_todo *todo)
{
    free(todo->points);
    free(todo->entry);
    memset(todo, 0, sizeof *todo);
}
