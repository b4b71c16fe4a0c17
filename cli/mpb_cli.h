/* The command-line front end.  mpb_cli_main is collective: every rank parses
 * the same argv; rank 0 alone prints results and the one error message. */
#ifndef MPB_CLI_H
#define MPB_CLI_H

#include <mpi.h>

enum { MPB_EXIT_OK = 0, MPB_EXIT_FAILED = 1, MPB_EXIT_USAGE = 2 };

int mpb_cli_main(int argc, char **argv, MPI_Comm comm);

#endif
