/* mpiblend: blend large-model checkpoints under MPI.  All logic lives in the
 * libraries; this only brings MPI up and down. */
#include "mpb_cli.h"
#include "mpb_launch.h"

#include <mpi.h>

int main(int argc, char **argv)
{
    mpb_launch_note_env(); /* as the launcher set it, before MPI_Init */
    MPI_Init(&argc, &argv);
    int status = mpb_cli_main(argc, argv, MPI_COMM_WORLD);
    MPI_Finalize();
    return status;
}
