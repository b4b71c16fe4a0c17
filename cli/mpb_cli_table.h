/* The command-line tables: every command and every option, once.  The
 * parser and the --help text are both made from them, so they cannot
 * disagree.  To add a command: a bit in enum mpb_cli_command_bit, a row in
 * mpb_cli_commands (mpb_cli_table.c) with its run function, and rows in
 * mpb_cli_options for its options. */
#ifndef MPB_CLI_TABLE_H
#define MPB_CLI_TABLE_H

#include "mpb_dtype.h"
#include "mpb_error.h"
#include "mpb_run.h"
#include "mpb_cli_sweep.h"
#include "mpb_cli_check.h"

#include <mpi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

enum mpb_cli_command_bit {
    CMD_MERGE = 1u << 0,
    CMD_SYNTH = 1u << 1,
    CMD_IMPORT = 1u << 2,
    CMD_EXPORT = 1u << 3,
    CMD_INSPECT = 1u << 4,  /* mpb_inspect.h */
    CMD_DISTANCE = 1u << 5, /* mpb_distance.h */
    /* Sweeps and their evaluation (mpb_cli_sweep.h). */
    CMD_SWEEP = 1u << 8,
    CMD_EVAL = 1u << 9,
    CMD_REFINE = 1u << 10,
    CMD_PLOT = 1u << 11,
    /* Integrity checks (mpb_cli_check.h). */
    CMD_VERIFY = 1u << 12,
    CMD_DIFF = 1u << 13,
};
#define CMD_WRITERS (CMD_MERGE | CMD_SYNTH | CMD_IMPORT | CMD_EXPORT | CMD_SWEEP)
#define CMD_ALL (~0u)

enum mpb_cli_option_id {
    OPT_HELP = 'h',
    OPT_OUT = 'o',
    OPT_FORCE = 'f',
    OPT_QUIET = 'q',
    OPT_SLAB_MIB = 256,
    OPT_SLAB_KIB,
    OPT_IO,
    OPT_AGGREGATE,
    OPT_ALIGN_KIB,
    OPT_MPI_HINT,
    OPT_MPI_HINTS_FILE,
    OPT_DRY_RUN,
    OPT_FOLLOW_LINKS,
    OPT_PROGRESS_SECS,
    OPT_ARCH,
    OPT_SEED,
    OPT_DTYPE,
    OPT_NONFINITE,
    OPT_FORMAT,
    OPT_SHARD_SIZE,
    OPT_JSON,
    OPT_CSV,
    OPT_MEMORY_MIB,
    OPT_MEMORY_KIB,
};

/* Everything any command's options can set. */
struct mpb_cli_args {
    mpb_run_opts run;
    const char *out;
    const char *arch;
    uint64_t seed;
    mpb_dtype dtype;
    int help;
    bool json, csv;                  /* inspect, distance: report for scripts */
    struct mpb_sweep_cli_args sweep; /* sweep, eval, refine, plot */
    struct mpb_check_cli_args check; /* verify, diff */
    int n_positional;
    char **positional;
};

struct mpb_cli_option {
    const char *name;
    int id;
    const char *arg; /* NULL: a flag */
    unsigned commands;
    const char *help;
};

/* Returns an exit code (mpb_cli.h); on a usage error fills `why`. */
typedef int (*mpb_cli_run_fn)(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why,
                              size_t why_len);

struct mpb_cli_command {
    const char *name;
    unsigned bit;
    const char *usage;
    const char *summary;
    mpb_cli_run_fn run;
    void (*more_help)(FILE *out); /* after the options, or NULL */
};

extern const struct mpb_cli_option mpb_cli_options[];
extern const size_t mpb_cli_n_options;
extern const struct mpb_cli_command mpb_cli_commands[];
extern const size_t mpb_cli_n_commands;

void mpb_cli_args_default(struct mpb_cli_args *a);

/* Applies one parsed option; on a bad value fills `why` and returns -1. */
int mpb_cli_apply_option(struct mpb_cli_args *a, int id, const char *val, char *why,
                         size_t why_len);

#endif
