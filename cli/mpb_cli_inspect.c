/* The command-line side of inspect and distance: usage checks, then the
 * commands' collective runs. */
#include "mpb_cli_inspect.h"

#include "mpb_cli.h"
#include "mpb_cli_table.h"
#include "mpb_distance.h"
#include "mpb_inspect.h"

#include <stdio.h>

int mpb_cli_run_inspect(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why,
                        size_t why_len)
{
    if (a->n_positional != 1) {
        snprintf(why, why_len, "usage: mpiblend inspect CHECKPOINT [--json]");
        return MPB_EXIT_USAGE;
    }
    int rc = mpb_inspect_run(a->positional[0], a->json, stdout, comm, err);
    return rc == MPB_OK ? MPB_EXIT_OK : MPB_EXIT_FAILED;
}

int mpb_cli_run_distance(struct mpb_cli_args *a, MPI_Comm comm, mpb_error *err, char *why,
                         size_t why_len)
{
    if (a->n_positional < 2 || a->n_positional > MPB_DISTANCE_MAX_INPUTS) {
        snprintf(why, why_len,
                 "usage: mpiblend distance A B [C ...] [--json|--csv] (2 to %d checkpoints)",
                 MPB_DISTANCE_MAX_INPUTS);
        return MPB_EXIT_USAGE;
    }
    if (a->json && a->csv) {
        snprintf(why, why_len, "distance: --json and --csv exclude each other; pick one");
        return MPB_EXIT_USAGE;
    }
    mpb_distance_format fmt = a->json  ? MPB_DISTANCE_JSON
                              : a->csv ? MPB_DISTANCE_CSV
                                       : MPB_DISTANCE_TABLE;
    int rc = mpb_distance_run((const char *const *)a->positional, (size_t)a->n_positional, fmt,
                              &a->run, stdout, comm, err);
    return rc == MPB_OK ? MPB_EXIT_OK : MPB_EXIT_FAILED;
}
