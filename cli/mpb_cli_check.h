/* The command-line side of verify and diff (docs/RELIABILITY.md): their
 * option values, how options apply, and the run functions that
 * mpb_cli_commands (mpb_cli_table.c) lists. */
#ifndef MPB_CHECK_CLI_H
#define MPB_CHECK_CLI_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mpb_cli_args;
struct mpb_error;

/* Option ids of these commands, after the others (mpb_cli_option_id). */
enum mpb_check_cli_option_id {
    OPT_CONFIG = 768,
    OPT_SAMPLE,
    OPT_TOLERANCE,
};

struct mpb_check_cli_args {
    const char *config; /* verify --config */
    uint64_t sample;    /* verify --sample */
    bool has_tolerance; /* diff --tolerance */
    double tolerance;
};

void mpb_check_cli_defaults(struct mpb_check_cli_args *c);

/* Applies one of the options above; on a bad value fills `why`, returns -1. */
int mpb_check_cli_apply(struct mpb_cli_args *a, int id, const char *val, char *why,
                        size_t why_len);

int mpb_cli_run_verify(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                       size_t why_len);
int mpb_cli_run_diff(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                     size_t why_len);

#endif
