#include "mpb_cli_sweep.h"

#include "mpb_cli.h"
#include "mpb_cli_table.h"
#include "mpb_comm.h"
#include "mpb_eval.h"
#include "mpb_eval_plot.h"
#include "mpb_pareto.h"
#include "mpb_refine.h"
#include "mpb_sweep_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mpb_sweep_cli_defaults(struct mpb_sweep_cli_args *s)
{
    memset(s, 0, sizeof *s);
    s->jobs = 1;
    s->point = -1;
    s->points = 0; /* refine: 4, or 1 per interval for pareto */
}

static int whole_number(const char *val, const char *opt, long lo, long hi, long *out,
                        char *why, size_t n)
{
    char *end;
    long v = strtol(val, &end, 10);
    if (*val == '\0' || *end != '\0' || v < lo || v > hi) {
        snprintf(why, n, "--%s takes a whole number from %ld to %ld, not '%s'", opt, lo, hi,
                 val);
        return -1;
    }
    *out = v;
    return 0;
}

static int one_of(const char *val, const char *opt, const char *a, const char *b,
                  const char **out, char *why, size_t n)
{
    if (strcmp(val, a) && strcmp(val, b)) {
        snprintf(why, n, "--%s takes '%s' or '%s', not '%s'", opt, a, b, val);
        return -1;
    }
    *out = val;
    return 0;
}

static int push(const char **list, size_t *n, const char *val, const char *opt, char *why,
                size_t why_len)
{
    if (*n == MPB_CLI_MAX_LIST) {
        snprintf(why, why_len, "--%s is given more than %d times", opt, MPB_CLI_MAX_LIST);
        return -1;
    }
    list[(*n)++] = val;
    return 0;
}

/* Each comma-separated item of --metric: NAME, or NAME=KEY for eval. */
static int check_metrics(const char *val, char *why, size_t n)
{
    for (const char *item = val;; item += strcspn(item, ",") + 1) {
        size_t len = strcspn(item, ","), name_len = strcspn(item, ",=");
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(name_len < 255 ? name_len : 255), item);
        if (len == 0 || name_len >= sizeof name || !mpb_eval_metric_ok(name) ||
            name_len + 1 == len) {
            snprintf(why, n,
                     "--metric takes names (words of letters, digits, _ - and .), "
                     "comma separated, each NAME or NAME=KEY, not '%s'",
                     val);
            return -1;
        }
        if (item[len] == '\0')
            return 0;
    }
}

static int objective(struct mpb_sweep_cli_args *s, const char *val, bool maximize, char *why,
                     size_t n)
{
    if (!mpb_eval_metric_ok(val)) {
        snprintf(why, n, "--%s takes a metric name, not '%s'",
                 maximize ? "maximize" : "minimize", val);
        return -1;
    }
    if (s->n_objective == MPB_CLI_MAX_LIST) {
        snprintf(why, n, "at most %d --maximize and --minimize", MPB_CLI_MAX_LIST);
        return -1;
    }
    s->objective[s->n_objective].metric = val;
    s->objective[s->n_objective++].maximize = maximize;
    return 0;
}

int mpb_sweep_cli_apply(struct mpb_cli_args *a, int id, const char *val, char *why, size_t n)
{
    struct mpb_sweep_cli_args *s = &a->sweep;
    long v;
    switch (id) {
    case OPT_OUT_DIR: s->out_dir = val; return 0;
    case OPT_CMD: s->cmd = val; return 0;
    case OPT_SHELL: s->shell = true; return 0;
    case OPT_JSON_KEY: s->json_key = val; return 0;
    case OPT_REGEX: s->regex = val; return 0;
    case OPT_PARAM: s->param = val; return 0;
    case OPT_METRIC:
        if (check_metrics(val, why, n))
            return -1;
        return push(s->metric, &s->n_metric, val, "metric", why, n);
    case OPT_JSON_ALL: s->json_all = true; return 0;
    case OPT_WHERE: return push(s->where, &s->n_where, val, "where", why, n);
    case OPT_MAXIMIZE: return objective(s, val, true, why, n);
    case OPT_MINIMIZE: return objective(s, val, false, why, n);
    case OPT_X: s->x = val; return 0;
    case OPT_Y: s->y = val; return 0;
    case OPT_AROUND:
        if (strcmp(val, "pareto") == 0) {
            s->around = val;
            return 0;
        }
        return one_of(val, "around", "best", "steepest", &s->around, why, n);
    case OPT_GOAL: return one_of(val, "goal", "max", "min", &s->goal, why, n);
    case OPT_MAX_OUTPUTS:
        if (whole_number(val, "max-outputs", 1, 100000, &v, why, n))
            return -1;
        s->max_outputs = (size_t)v;
        return 0;
    case OPT_JOBS:
        if (whole_number(val, "jobs", 1, 1024, &v, why, n))
            return -1;
        s->jobs = (int)v;
        return 0;
    case OPT_POINT:
        if (whole_number(val, "point", 0, 1000000, &v, why, n))
            return -1;
        s->point = v;
        return 0;
    case OPT_POINTS:
        if (whole_number(val, "points", 1, 1000, &v, why, n))
            return -1;
        s->points = (int)v;
        return 0;
    default: snprintf(why, n, "unknown option"); return -1;
    }
}

/* The --metric values with their comma lists split: *items points into
 * *buf; caller frees both. */
static int metric_list(const struct mpb_sweep_cli_args *s, const char ***items, size_t *n,
                       char **buf)
{
    size_t len = 1;
    for (size_t i = 0; i < s->n_metric; i++)
        len += strlen(s->metric[i]) + 1;
    *buf = calloc(len, 1);
    *items = calloc(len, sizeof **items);
    *n = 0;
    if (*buf == NULL || *items == NULL)
        return -1;
    for (size_t i = 0; i < s->n_metric; i++) {
        strcat(*buf, s->metric[i]);
        strcat(*buf, ",");
    }
    char *save = NULL;
    for (char *t = strtok_r(*buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        (*items)[(*n)++] = t;
    return 0;
}

static int usage(const char *text, char *why, size_t n)
{
    snprintf(why, n, "usage: mpiblend %s", text);
    return MPB_EXIT_USAGE;
}

static int exit_code(int rc)
{
    return rc == MPB_OK ? MPB_EXIT_OK : MPB_EXIT_FAILED;
}

int mpb_cli_run_sweep(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                      size_t n)
{
    if (a->n_positional != 1 || a->sweep.out_dir == NULL)
        return usage("sweep CONFIG.yaml --out-dir DIR [--max-outputs N] [options]", why, n);
    mpb_sweep_opts o = {.run = a->run, .max_outputs = a->sweep.max_outputs};
    return exit_code(mpb_sweep_run(a->positional[0], a->sweep.out_dir, &o, comm, err));
}

/* eval, refine and plot work on rank 0; the other ranks of an mpirun wait. */
static int on_rank0(int rc_rank0, MPI_Comm comm, struct mpb_error *err)
{
    return exit_code(mpb_comm_agree(err, comm) == MPB_OK ? rc_rank0 : err->code);
}

static bool is_root(MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    return rank == 0;
}

int mpb_cli_run_eval(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                     size_t n)
{
    const struct mpb_sweep_cli_args *s = &a->sweep;
    if (a->n_positional != 1 || s->cmd == NULL)
        return usage("eval DIR --cmd 'COMMAND {path} ...' [--metric NAME[,NAME=KEY...] | "
                     "--json-all] [--json-key K | --regex RE] [--jobs N] [--point N] [--shell]",
                     why, n);
    if (s->json_key && s->regex) {
        snprintf(why, n, "eval: give --json-key or --regex, not both");
        return MPB_EXIT_USAGE;
    }
    if (s->json_all && (s->n_metric || s->json_key || s->regex)) {
        snprintf(why, n,
                 "eval: --json-all reads every number of the JSON; it takes no "
                 "--metric, --json-key or --regex");
        return MPB_EXIT_USAGE;
    }
    const char **metrics = NULL, *fallback = "score";
    char *buf = NULL;
    size_t n_metrics = 0;
    if (metric_list(s, &metrics, &n_metrics, &buf)) {
        free(buf);
        free(metrics);
        snprintf(why, n, "eval: out of memory");
        return MPB_EXIT_FAILED;
    }
    mpb_eval_opts o = {.cmd = s->cmd,
                       .shell = s->shell,
                       .jobs = s->jobs,
                       .metrics = n_metrics ? metrics : &fallback,
                       .n_metrics = n_metrics     ? n_metrics
                                    : s->json_all ? 0
                                                  : 1,
                       .json_all = s->json_all,
                       .json_key = s->json_key,
                       .regex = s->regex,
                       .point = s->point,
                       .force = a->run.force};
    int rc = is_root(comm) ? mpb_eval_run(a->positional[0], &o, err) : MPB_OK;
    free(buf);
    free(metrics);
    return on_rank0(rc, comm, err);
}

int mpb_cli_run_refine(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                       size_t n)
{
    const struct mpb_sweep_cli_args *s = &a->sweep;
    bool pareto = s->around && !strcmp(s->around, "pareto");
    const char *metric = s->n_metric == 1 ? s->metric[0] : NULL;
    bool minimize = s->goal && !strcmp(s->goal, "min");
    if (!pareto && metric == NULL && s->n_metric == 0 && s->n_objective == 1) {
        metric = s->objective[0].metric; /* --maximize acc: --metric acc --goal max */
        minimize = !s->objective[0].maximize;
    }
    if (a->n_positional != 1 || (pareto ? s->n_objective < 2 : metric == NULL) ||
        (metric && strchr(metric, ',')))
        return usage("refine DIR --metric NAME [--param NAME] [--around best|steepest] "
                     "[--where 'METRIC<=V'] [--points N] [--goal max|min] [--out NEW.yaml]\n"
                     "       mpiblend refine DIR --around pareto --maximize M1 --minimize M2 "
                     "[--where ...] [--points N]",
                     why, n);
    mpb_constraint where[MPB_CLI_MAX_LIST];
    for (size_t i = 0; i < s->n_where; i++)
        if (!mpb_constraint_parse(s->where[i], &where[i])) {
            snprintf(why, n, "--where takes METRIC<=V (or <, >=, >, ==), not '%s'",
                     s->where[i]);
            return MPB_EXIT_USAGE;
        }
    mpb_objective objectives[MPB_CLI_MAX_LIST];
    for (size_t i = 0; i < s->n_objective; i++)
        objectives[i] = (mpb_objective){s->objective[i].metric, s->objective[i].maximize};
    mpb_refine_opts o = {.param = s->param,
                         .metric = metric,
                         .out = a->out,
                         .around = s->around ? s->around : "best",
                         .minimize = minimize,
                         .points = s->points,
                         .where = where,
                         .n_where = s->n_where,
                         .objectives = objectives,
                         .n_objectives = s->n_objective};
    int rc = is_root(comm) ? mpb_refine_run(a->positional[0], &o, err) : MPB_OK;
    return on_rank0(rc, comm, err);
}

int mpb_cli_run_plot(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                     size_t n)
{
    const struct mpb_sweep_cli_args *s = &a->sweep;
    if (a->n_positional != 1 || (s->x == NULL) != (s->y == NULL))
        return usage("plot DIR [--metric NAME,...] [--param NAME] [--out FILE.svg]\n"
                     "       mpiblend plot DIR --x METRIC --y METRIC [--maximize M] "
                     "[--minimize M] [--out FILE.svg]",
                     why, n);
    const char **metrics = NULL;
    char *buf = NULL;
    size_t n_metrics = 0;
    mpb_objective objectives[MPB_CLI_MAX_LIST];
    for (size_t i = 0; i < s->n_objective; i++)
        objectives[i] = (mpb_objective){s->objective[i].metric, s->objective[i].maximize};
    int rc = MPB_OK;
    if (metric_list(s, &metrics, &n_metrics, &buf))
        rc = mpb_fail(err, MPB_ENOMEM, "out of memory");
    mpb_plot_opts o = {.metrics = metrics,
                       .n_metrics = n_metrics,
                       .param = s->param,
                       .x = s->x,
                       .y = s->y,
                       .objectives = objectives,
                       .n_objectives = s->n_objective,
                       .out = a->out};
    if (rc == MPB_OK && is_root(comm))
        rc = mpb_eval_plot_run(a->positional[0], &o, err);
    free(buf);
    free(metrics);
    return on_rank0(rc, comm, err);
}
