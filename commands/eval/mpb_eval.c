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
    size_t row; /* manifest row */
    double start;
};

/* One metric to read from each run: its name and where its score is. */
struct metric {
    char *name;
    const char *key; /* JSON key; NULL: --json-key, --regex or the last number */
    char *dir;       /* DIR/eval/NAME */
};

/* With --json-all the metrics are whatever the JSON holds; the run itself
 * is recorded here (its score: how many numbers it read). */
#define JSON_ALL_DIR ".json-all"

struct eval {
    const char *dir;
    const mpb_eval_opts *o;
    mpb_manifest m;
    mpb_eval_cmd cmd;
    struct metric *metrics;
    size_t n_metrics;
    char *log_dir;     /* the command's output: the first metric's folder */
    const char *field; /* {metric}: the first metric's name */
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
    return mpb_path_join(e->log_dir, name);
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

static int record_one(const struct eval *e, size_t row, const char *metric_dir,
                      const char *metric, bool ok, double score, int exit_code, double wall,
                      const char *error, mpb_error *err)
{
    const mpb_manifest_point *p = &e->m.points[row];
    mpb_eval_record r = {.point = p->point,
                         .path = p->path,
                         .ok = ok,
                         .score = score,
                         .exit_code = exit_code,
                         .wall_s = wall,
                         .error = error};
    return mpb_eval_record_write(metric_dir, &e->m, p, metric, &r, err);
}

/* A run that gave no scores: every metric's record (or the --json-all run
 * record) says why. */
static int record_failure(struct eval *e, size_t row, int exit_code, double wall,
                          const char *error, mpb_error *err)
{
    const mpb_manifest_point *p = &e->m.points[row];
    e->n_failed++;
    printf("point %zu (%s): FAILED %s\n", p->point, p->path, error);
    fflush(stdout);
    int rc = MPB_OK;
    for (size_t k = 0; k < e->n_metrics && rc == MPB_OK; k++)
        rc = record_one(e, row, e->metrics[k].dir, e->metrics[k].name, false, 0, exit_code,
                        wall, error, err);
    if (rc == MPB_OK && e->o->json_all)
        rc = record_one(e, row, e->log_dir, "json-all", false, 0, exit_code, wall, error, err);
    return rc;
}

/* Named metrics: each read from the output on its own; a metric that is
 * missing fails its record, and the point counts as failed. */
static int record_named(struct eval *e, size_t row, const char *output, double wall,
                        const char *out_path, mpb_error *err)
{
    const mpb_manifest_point *p = &e->m.points[row];
    bool all_ok = true;
    int rc = MPB_OK;
    printf("point %zu (%s):", p->point, p->path);
    for (size_t k = 0; k < e->n_metrics && rc == MPB_OK; k++) {
        const struct metric *mt = &e->metrics[k];
        char why[512] = "";
        double score = 0;
        bool ok = mpb_eval_score(output, mt->key ? mt->key : e->o->json_key,
                                 mt->key ? NULL : e->o->regex, &score, why, sizeof why);
        if (!ok)
            snprintf(why + strlen(why), sizeof why - strlen(why), " (output: %s)", out_path);
        if (ok)
            printf(" %s = %.6g", mt->name, score);
        else
            printf(" %s FAILED %s", mt->name, why);
        all_ok &= ok;
        rc = record_one(e, row, mt->dir, mt->name, ok, score, 0, wall, why, err);
    }
    printf("\n");
    fflush(stdout);
    all_ok ? e->n_ok++ : e->n_failed++;
    return rc;
}

/* --json-all: one record per number in the JSON, then the run's own. */
static int record_all(struct eval *e, size_t row, const char *output, double wall,
                      const char *out_path, mpb_error *err)
{
    const mpb_manifest_point *p = &e->m.points[row];
    mpb_eval_number *nums = NULL;
    size_t n = 0;
    char why[512] = "";
    if (!mpb_eval_json_numbers(output, &nums, &n, why, sizeof why)) {
        free(nums);
        snprintf(why + strlen(why), sizeof why - strlen(why), " (output: %s)", out_path);
        return record_failure(e, row, 0, wall, why, err);
    }
    int rc = MPB_OK;
    printf("point %zu (%s): %zu metrics:", p->point, p->path, n);
    for (size_t i = 0; i < n && rc == MPB_OK; i++) {
        char *metric_dir = NULL;
        rc = mpb_eval_metric_dir(e->dir, nums[i].name, true, &metric_dir, err);
        if (rc == MPB_OK)
            rc = record_one(e, row, metric_dir, nums[i].name, true, nums[i].value, 0, wall, "",
                            err);
        printf(" %s = %.6g", nums[i].name, nums[i].value);
        free(metric_dir);
    }
    printf("\n");
    fflush(stdout);
    if (rc == MPB_OK)
        rc = record_one(e, row, e->log_dir, "json-all", true, (double)n, 0, wall, "", err);
    e->n_ok++;
    free(nums);
    return rc;
}

static int finish(struct eval *e, const struct job *j, int status, mpb_error *err)
{
    double wall = mpb_now() - j->start;
    size_t point = e->m.points[j->row].point;
    char why[512] = "";
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char *out_path = log_path(e, point, ".out"), *err_path = log_path(e, point, ".err");
    char *output = NULL;
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "killed by signal %d (stderr: %s)", WTERMSIG(status),
                 err_path);
    else if (code != 0)
        snprintf(why, sizeof why, "exit status %d (stderr: %s)", code, err_path);
    else if ((output = out_path ? read_output(out_path) : NULL) == NULL)
        snprintf(why, sizeof why, "cannot read the output '%s'", out_path);
    int rc = output == NULL   ? record_failure(e, j->row, code, wall, why, err)
             : e->o->json_all ? record_all(e, j->row, output, wall, out_path, err)
                              : record_named(e, j->row, output, wall, out_path, err);
    free(output);
    free(out_path);
    free(err_path);
    return rc;
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
    values[4] = e->field;
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
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
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
        rc = record_failure(e, row, -1, 0, why, err);
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

/* Whether every metric of this run has a score for the point already. */
static bool scored(const struct eval *e, size_t point)
{
    if (e->o->json_all)
        return mpb_eval_record_ok(e->log_dir, point);
    for (size_t k = 0; k < e->n_metrics; k++)
        if (!mpb_eval_record_ok(e->metrics[k].dir, point))
            return false;
    return true;
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
            printf("point %zu (%s): not written (%s); skipped\n", p->point, p->path, p->status);
            continue;
        }
        if (!e->o->force && scored(e, p->point))
            continue;
        (*rows)[(*n)++] = i;
    }
    if (!found)
        return mpb_fail(err, MPB_EINVAL, "the sweep in '%s' has no point %ld", e->dir,
                        e->o->point);
    return MPB_OK;
}

/* NAME or NAME=KEY per --metric, and the folders they are recorded in. */
static int prepare_metrics(struct eval *e, mpb_error *err)
{
    const mpb_eval_opts *o = e->o;
    if (o->json_all)
        return mpb_eval_metric_dir(e->dir, JSON_ALL_DIR, true, &e->log_dir, err);
    e->metrics = calloc(o->n_metrics + 1, sizeof *e->metrics);
    if (e->metrics == NULL)
        return mpb_fail(err, MPB_ENOMEM, "out of memory");
    int rc = MPB_OK;
    for (size_t k = 0; k < o->n_metrics && rc == MPB_OK; k++) {
        struct metric *mt = &e->metrics[e->n_metrics++];
        const char *eq = strchr(o->metrics[k], '=');
        mt->name =
            eq ? strndup(o->metrics[k], (size_t)(eq - o->metrics[k])) : strdup(o->metrics[k]);
        /* Several metrics come from one JSON: each at its own key. */
        mt->key = eq ? eq + 1 : o->n_metrics > 1 ? mt->name : NULL;
        if (mt->name == NULL)
            return mpb_fail(err, MPB_ENOMEM, "out of memory");
        if (!mpb_eval_metric_ok(mt->name) || (eq && eq[1] == '\0'))
            return mpb_fail(err, MPB_EINVAL,
                            "--metric '%s' is not NAME or NAME=KEY with "
                            "NAME a word of letters, digits, _ - and .",
                            o->metrics[k]);
        for (size_t i = 0; i + 1 < e->n_metrics; i++)
            if (strcmp(e->metrics[i].name, mt->name) == 0)
                return mpb_fail(err, MPB_EINVAL, "--metric names '%s' twice", mt->name);
        if (mt->key && (o->json_key || o->regex))
            return mpb_fail(err, MPB_EINVAL,
                            "--metric %s reads a JSON key; --json-key and "
                            "--regex go with one metric only",
                            o->metrics[k]);
        rc = mpb_eval_metric_dir(e->dir, mt->name, true, &mt->dir, err);
    }
    if (rc == MPB_OK && (e->log_dir = strdup(e->metrics[0].dir)) == NULL)
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    e->field = e->metrics[0].name;
    return rc;
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
    rc = mpb_eval_cmd_prepare(e->o->cmd, e->o->shell, fields, N_FIXED + e->m.n_params, &e->cmd,
                              err);
    free(fields);
    if (rc == MPB_OK)
        rc = prepare_metrics(e, err);
    return rc;
}

int mpb_eval_run(const char *dir, const mpb_eval_opts *o, mpb_error *err)
{
    struct eval e = {.dir = dir, .o = o, .field = "json-all"};
    size_t *rows = NULL, n = 0;
    int rc = o->json_all == (o->n_metrics > 0)
                 ? mpb_fail(err, MPB_EINVAL, "eval takes --metric or --json-all")
                 : prepare(&e, err);
    if (rc == MPB_OK)
        rc = pick_rows(&e, &rows, &n, err);
    if (rc == MPB_OK)
        rc = run_all(&e, rows, n, err);
    if (e.m.config != NULL) {
        mpb_error results_err = {0};
        if (mpb_eval_results_write(dir, &e.m, &results_err) == MPB_OK)
            mpb_eval_manifest_refresh(dir, &results_err);
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
    for (size_t k = 0; k < e.n_metrics; k++) {
        free(e.metrics[k].name);
        free(e.metrics[k].dir);
    }
    free(e.metrics);
    free(e.log_dir);
    mpb_eval_cmd_free(&e.cmd);
    mpb_manifest_free(&e.m);
    return rc;
}
