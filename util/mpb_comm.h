/* All-ranks agreement and broadcast helpers.  Every function here is
 * collective over `comm`. */
#ifndef MPB_COMM_H
#define MPB_COMM_H

#include "mpb_error.h"

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

/* The agreement point before any rank moves on: returns MPB_OK on every
 * rank when every rank's err is clear; otherwise every rank gets the error
 * of the lowest failing rank (so rank 0 can report the root cause).  Ranks
 * that arrive early wait with short sleeps rather than spinning. */
int mpb_comm_agree(mpb_error *err, MPI_Comm comm);

/* Broadcasts a byte buffer of any length from `root`; on other ranks *buf is
 * malloc'd (caller frees). */
int mpb_comm_bcast_bytes(unsigned char **buf, size_t *len, int root, MPI_Comm comm,
                         mpb_error *err);

/* Broadcasts a NUL-terminated string (NULL allowed) from `root`. */
int mpb_comm_bcast_string(char **s, int root, MPI_Comm comm, mpb_error *err);

/* Largest value over all ranks. */
double mpb_comm_max_double(double v, MPI_Comm comm);

#endif
