#include "mpb_eval_internal.h"

#include "mpb_launch.h"
#include "mpb_progress.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

/* Fixed fields, then the swept names. */
static const char *const fixed_fields[] = {"path", "name", "point", "dir", "metric"};
#define N_FIXED 5
#define MAX_OUTPUT (64u << 20)

struct job {
    pid_t pid;
    size_t row;      /* manifest row */
    double start;
};

struct eval {
    const char *dir;
    const mpb_eval_opts *o;
    mpb_manifest m;
    mpb_eval_cmd cmd;
    char *metric_dir;
    size_t n_ok, n_failed;
};

static char **child_environ(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    for (size_t i = 0, k = 0; env && i < n; i++)
        if (!mpb_launch_var(environ[i])) /* not one of mpiblend's ranks */
            env[k++] = environ[i];
    return env;
}

static char *log_path(const struct eval *e, size_t point, const char *ext)
{
    char name[64];
    mpb_eval_point_stem(point, name, sizeof name);
    strcat(name, ext);
    return mpb_path_join(e->metric_dir, name);
}

static char *read_output(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(MAX_OUTPUT + 1);
    size_t n = buf ? fread(buf, 1, MAX_OUTPUT, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static int record(struct eval *e, size_t row, bool ok, double score, int exit_code,
                  double wall, const char *error, mpb_error *err)
{
    const mpb_manifest_point *p = &e->m.points[row];
    mpb_eval_record r = {.point = p->point, .path = p->path, .ok = ok, .score = score,
                         .exit_code = exit_code, .wall_s = wall, .error = error};
    ok ? e->n_ok++ : e->n_failed++;
    printf("point %zu (%s): %s", p->point, p->path, ok ? "" : "FAILED ");
    if (ok)
        printf("%s = %.6g\n", e->o->metric, score);
    else
        printf("%s\n", error);
    fflush(stdout);
    return mpb_eval_record_write(e->metric_dir, &e->m, p, e->o->metric, &r, err);
}

static int finish(struct eval *e, const struct job *j, int status, mpb_error *err)
{
    double wall = mpb_now() - j->start;
    size_t point = e->m.points[j->row].point;
    char why[512] = "";
    double score = 0;
    bool ok = false;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char *out_path = log_path(e, point, ".out"), *err_path = log_path(e, point, ".err");
    if (WIFSIGNALED(status)) {
        snprintf(why, sizeof why, "killed by signal %d (stderr: %s)", WTERMSIG(status),
                 err_path);
    } else if (code != 0) {
        snprintf(why, sizeof why, "exit status %d (stderr: %s)", code, err_path);
    } else {
        char *output = out_path ? read_output(out_path) : NULL;
        ok = output && mpb_eval_score(output, e->o->json_key, e->o->regex, &score, why,
                                      sizeof why);
        if (output == NULL)
            snprintf(why, sizeof why, "cannot read the output '%s'", out_path);
        else if (!ok)
            snprintf(why + strlen(why), sizeof why - strlen(why), " (output: %s)", out_path);
        free(output);
    }
    free(out_path);
    free(err_path);
    return record(e, j->row, ok, score, code, wall, why, err);
}

/* The field values of one point, in the order of the fields list. */
static void point_fields(const struct eval *e, size_t row, char *num, size_t num_len,
                         const char **values)
{
    const mpb_manifest_point *p = &e->m.points[row];
    snprintf(num, num_len, "%zu", p->point);
    values[1] = p->path;
    values[2] = num;
    values[3] = e->dir;
    values[4] = e->o->metric;
    for (size_t j = 0; j < e->m.n_params; j++)
        values[N_FIXED + j] = p->values[j];
}

static int start(struct eval *e, size_t row, struct job *j, mpb_error *err)
{
    const mpb_manifest_point *p = &e->m.points[row];
    const char **values = calloc(N_FIXED + e->m.n_params, sizeof *values);
    char *full = mpb_path_join(e->dir, p->path);
    char num[32];
    char **argv = NULL;
    if (values == NULL || full == NULL) {
        free(values);
        free(full);
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    }
    values[0] = full;
    point_fields(e, row, num, sizeof num, values);
    int rc = mpb_eval_cmd_argv(&e->cmd, values, &argv, err);
    char *out_path = log_path(e, p->point, ".out"), *err_path = log_path(e, p->point, ".err");
    char **env = child_environ();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_path && err_path) {
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    j->row = row;
    j->start = mpb_now();
    j->pid = 0;
    if (rc == MPB_OK && (!out_path || !err_path || !env))
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    int spawn_rc = rc == MPB_OK ? posix_spawnp(&j->pid, argv[0], &fa, NULL, argv, env) : 0;
    if (rc == MPB_OK && spawn_rc != 0) {
        char why[512];
        snprintf(why, sizeof why, "cannot run '%s': %s", argv[0], strerror(spawn_rc));
        j->pid = 0;
        rc = record(e, row, false, 0, -1, 0, why, err);
    }
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    free(out_path);
    free(err_path);
    mpb_eval_argv_free(argv);
    free(full);
    free(values);
    return rc;
}

/* Up to o->jobs commands at once; each is waited for by its own pid, so
 * that no child of the MPI library is reaped by mistake. */
static int run_all(struct eval *e, const size_t *rows, size_t n, mpb_error *err)
{
    int jobs = e->o->jobs > 0 ? e->o->jobs : 1;
    struct job *running = calloc((size_t)jobs, sizeof *running);
    if (running == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    size_t next = 0, busy = 0;
    int rc = MPB_OK;
    while ((next < n && rc == MPB_OK) || busy > 0) {
        for (int s = 0; s < jobs && next < n && rc == MPB_OK; s++)
            if (running[s].pid == 0) {
                rc = start(e, rows[next++], &running[s], err);
                busy += running[s].pid != 0;
            }
        bool reaped = false;
        for (int s = 0; s < jobs; s++) {
            int status;
            if (running[s].pid == 0 || waitpid(running[s].pid, &status, WNOHANG) <= 0)
                continue;
            int frc = finish(e, &running[s], status, err);
            rc = rc ? rc : frc;
            running[s].pid = 0;
            busy--;
            reaped = true;
        }
        if (!reaped && busy > 0)
            nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    free(running);
    return rc;
}

/* Manifest rows to evaluate: written points, not yet scored unless forced. */
static int pick_rows(struct eval *e, size_t **rows, size_t *n, mpb_error *err)
{
    *rows = calloc(e->m.n + 1, sizeof **rows);
    *n = 0;
    if (*rows == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    bool found = e->o->point < 0;
    for (size_t i = 0; i < e->m.n; i++) {
        const mpb_manifest_point *p = &e->m.points[i];
        if (e->o->point >= 0 && p->point != (size_t)e->o->point)
            continue;
        found = true;
        if (strcmp(p->status, "done") != 0) {
            printf("point %zu (%s): not written (%s); skipped\n", p->point, p->path,
                   p->status);
            continue;
        }
        if (!e->o->force && mpb_eval_record_ok(e->metric_dir, p->point))
            continue;
        (*rows)[(*n)++] = i;
    }
    if (!found)
        return mpb_fail(err, MPB_EINVAL, "the sweep in '%s' has no point %ld", e->dir,
                        e->o->point);
    return MPB_OK;
}

static int prepare(struct eval *e, mpb_error *err)
{
    bool found;
    int rc = mpb_manifest_read(e->dir, &e->m, &found, err);
    if (rc == MPB_OK && !found)
        rc = mpb_fail(err, MPB_EINVAL, "'%s' has no %s: run mpiblend sweep into it first",
                      e->dir, MPB_MANIFEST_JSON);
    if (rc)
        return rc;
    const char **fields = calloc(N_FIXED + e->m.n_params, sizeof *fields);
    if (fields == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    memcpy(fields, fixed_fields, sizeof fixed_fields);
    for (size_t j = 0; j < e->m.n_params; j++)
        fields[N_FIXED + j] = e->m.names[j];
    rc = mpb_eval_cmd_prepare(e->o->cmd, e->o->shell, fields, N_FIXED + e->m.n_params,
                              &e->cmd, err);
    free(fields);
    if (rc == MPB_OK)
        rc = mpb_eval_metric_dir(e->dir, e->o->metric, true, &e->metric_dir, err);
    return rc;
}

int mpb_eval_run(const char *dir, const mpb_eval_opts *o, mpb_error *err)
{
    struct eval e = {.dir = dir, .o = o};
    size_t *rows = NULL, n = 0;
    int rc = mpb_eval_metric_ok(o->metric)
                 ? prepare(&e, err)
                 : mpb_fail(err, MPB_EINVAL, "metric '%s' is not a word", o->metric);
    if (rc == MPB_OK)
        rc = pick_rows(&e, &rows, &n, err);
    if (rc == MPB_OK)
        rc = run_all(&e, rows, n, err);
    if (e.m.config != NULL) {
        mpb_error results_err = {0};
        mpb_eval_results_write(dir, &e.m, &results_err);
        if (rc == MPB_OK && results_err.code)
            *err = results_err, rc = results_err.code;
    }
    if (rc == MPB_OK)
        printf("eval: %zu scored, %zu failed, %zu already scored; results: %s/results.csv\n",
               e.n_ok, e.n_failed, e.m.n - n, dir);
    if (rc == MPB_OK && e.n_failed > 0)
        rc = mpb_fail(err, MPB_EINVAL, "%zu of %zu evaluations failed (see %s/results.csv)",
                      e.n_failed, n, dir);
    free(rows);
    free(e.metric_dir);
    mpb_eval_cmd_free(&e.cmd);
    mpb_manifest_free(&e.m);
    return rc;
}
