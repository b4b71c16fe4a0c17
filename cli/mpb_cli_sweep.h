/* The command-line side of sweep, eval, refine and plot: their option
 * values, how options apply, and the run functions that mpb_cli_commands
 * (mpb_cli_table.c) lists. */
#ifndef MPB_SWEEP_CLI_H
#define MPB_SWEEP_CLI_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

struct mpb_cli_args;
struct mpb_error;

/* Option ids of these commands, after the others (mpb_cli_option_id). */
enum mpb_sweep_cli_option_id {
    OPT_OUT_DIR = 512,
    OPT_MAX_OUTPUTS,
    OPT_CMD,
    OPT_SHELL,
    OPT_JOBS,
    OPT_METRIC,
    OPT_JSON_KEY,
    OPT_REGEX,
    OPT_POINT,
    OPT_PARAM,
    OPT_AROUND,
    OPT_POINTS,
    OPT_GOAL,
    OPT_JSON_ALL,
    OPT_WHERE,
    OPT_MAXIMIZE,
    OPT_MINIMIZE,
    OPT_X,
    OPT_Y,
};

/* Repeatable options keep at most this many values. */
#define MPB_CLI_MAX_LIST 32

struct mpb_sweep_cli_args {
    const char *out_dir;
    size_t max_outputs;
    const char *cmd, *json_key, *regex;
    /* --metric as given: each a name or a comma list (mpb_sweep_cli_list) */
    const char *metric[MPB_CLI_MAX_LIST];
    size_t n_metric;
    bool json_all;
    const char *where[MPB_CLI_MAX_LIST]; /* refine: METRIC<=V ... */
    size_t n_where;
    /* --maximize / --minimize in the order given */
    struct {
        const char *metric;
        bool maximize;
    } objective[MPB_CLI_MAX_LIST];
    size_t n_objective;
    const char *x, *y; /* plot: one metric against another */
    bool shell;
    int jobs;
    long point; /* eval --point; -1: every point */
    const char *param, *around, *goal;
    int points;
};

void mpb_sweep_cli_defaults(struct mpb_sweep_cli_args *s);

/* Applies one of the options above; on a bad value fills `why`, returns -1. */
int mpb_sweep_cli_apply(struct mpb_cli_args *a, int id, const char *val, char *why,
                        size_t why_len);

int mpb_cli_run_sweep(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                      size_t why_len);
int mpb_cli_run_eval(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                     size_t why_len);
int mpb_cli_run_refine(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                       size_t why_len);
int mpb_cli_run_plot(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                     size_t why_len);

#endif
