/* mpiblend: blend large-model checkpoints under MPI.  All logic lives in the
 * libraries; this only brings MPI up and down. */
#include "mpb_cli.h"

#include <mpi.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int status = mpb_cli_main(argc, argv, MPI_COMM_WORLD);
    MPI_Finalize();
    return status;
}
