#include "mpb_sweep_cli.h"

#include "mpb_cli.h"
#include "mpb_cli_table.h"
#include "mpb_comm.h"
#include "mpb_eval.h"
#include "mpb_eval_plot.h"
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
    s->points = 4;
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
        if (!mpb_eval_metric_ok(val)) {
            snprintf(why, n, "--metric takes a word of letters, digits, _ - and ., not '%s'",
                     val);
            return -1;
        }
        s->metric = val;
        return 0;
    case OPT_AROUND: return one_of(val, "around", "best", "steepest", &s->around, why, n);
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
        return usage("eval DIR --cmd 'COMMAND {path} ...' [--metric NAME] "
                     "[--json-key K | --regex RE] [--jobs N] [--point N] [--shell]", why, n);
    if (s->json_key && s->regex) {
        snprintf(why, n, "eval: give --json-key or --regex, not both");
        return MPB_EXIT_USAGE;
    }
    mpb_eval_opts o = {.cmd = s->cmd, .shell = s->shell, .jobs = s->jobs,
                       .metric = s->metric ? s->metric : "score", .json_key = s->json_key,
                       .regex = s->regex, .point = s->point, .force = a->run.force};
    int rc = is_root(comm) ? mpb_eval_run(a->positional[0], &o, err) : MPB_OK;
    return on_rank0(rc, comm, err);
}

int mpb_cli_run_refine(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err,
                       char *why, size_t n)
{
    const struct mpb_sweep_cli_args *s = &a->sweep;
    if (a->n_positional != 1 || s->metric == NULL)
        return usage("refine DIR --metric NAME [--param NAME] [--around best|steepest] "
                     "[--points N] [--goal max|min] [--out NEW.yaml]", why, n);
    mpb_refine_opts o = {.param = s->param, .metric = s->metric, .out = a->out,
                         .steepest = s->around && !strcmp(s->around, "steepest"),
                         .minimize = s->goal && !strcmp(s->goal, "min"),
                         .points = s->points};
    int rc = is_root(comm) ? mpb_refine_run(a->positional[0], &o, err) : MPB_OK;
    return on_rank0(rc, comm, err);
}

int mpb_cli_run_plot(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                     size_t n)
{
    if (a->n_positional != 1)
        return usage("plot DIR [--metric NAME] [--param NAME] [--out FILE.svg]", why, n);
    int rc = is_root(comm) ? mpb_eval_plot_run(a->positional[0], a->sweep.metric,
                                               a->sweep.param, a->out, err)
                           : MPB_OK;
    return on_rank0(rc, comm, err);
}
