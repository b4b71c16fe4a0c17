/* A process the launcher started as one of several ranks, but that MPI
 * sees alone: the binary was built against another MPI than the launcher's
 * (Open MPI's mpirun starting an MPICH build, or the other way round), and
 * every rank would run the whole job by itself. */
#ifndef MPB_LAUNCH_H
#define MPB_LAUNCH_H

#include "mpb_error.h"

#include <mpi.h>
#include <stdbool.h>

/* Notes the launcher's variables; call before MPI_Init, which may rewrite
 * them (otherwise mpb_launch_check reads them when it runs). */
void mpb_launch_note_env(void);

/* MPB_OK, or MPB_EINVAL with the message when the environment announces
 * more ranks than comm holds.  *report is false on the processes the
 * launcher numbered other than 0, so the message is printed once. */
int mpb_launch_check(MPI_Comm comm, bool *report, mpb_error *err);

/* True for a NAME=VALUE of the launcher's that would make a command started
 * by a rank (eval --shell) think it is one of mpiblend's ranks. */
bool mpb_launch_var(const char *assignment);

#endif
