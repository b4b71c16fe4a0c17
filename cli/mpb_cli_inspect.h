/* The run functions of inspect and distance that mpb_cli_commands
 * (mpb_cli_table.c) lists. */
#ifndef MPB_CLI_INSPECT_H
#define MPB_CLI_INSPECT_H

#include <mpi.h>
#include <stddef.h>

struct mpb_cli_args;
struct mpb_error;

int mpb_cli_run_inspect(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err, char *why,
                        size_t why_len);
int mpb_cli_run_distance(struct mpb_cli_args *a, MPI_Comm comm, struct mpb_error *err,
                         char *why, size_t why_len);

#endif
