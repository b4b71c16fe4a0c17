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

/* mpb_comm_agree in two halves, so ranks can go on working while the vote
 * travels: cast records every rank's state now (nonblocking), count waits
 * for the outcome and, on failure, gives every rank the lowest failing
 * rank's error.  Several ballots may be open; every rank casts and counts
 * them in the same order.  Collective rounds count each round's ballot
 * one round later, so a rank delayed for a moment does not stop the others
 * at every round (docs/PERFORMANCE.md, "Collective rounds"). */
typedef struct {
    MPI_Request req;
    int first_failed; /* this rank if it had failed, else the rank count */
    int lowest;       /* the outcome: the lowest failing rank, or the rank count */
} mpb_comm_ballot;

void mpb_comm_ballot_cast(mpb_comm_ballot *b, const mpb_error *err, MPI_Comm comm);
int mpb_comm_ballot_count(mpb_comm_ballot *b, mpb_error *err, MPI_Comm comm);

/* Broadcasts a byte buffer of any length from `root`; on other ranks *buf is
 * malloc'd (caller frees). */
int mpb_comm_bcast_bytes(unsigned char **buf, size_t *len, int root, MPI_Comm comm,
                         mpb_error *err);

/* Broadcasts a NUL-terminated string (NULL allowed) from `root`. */
int mpb_comm_bcast_string(char **s, int root, MPI_Comm comm, mpb_error *err);

/* Largest value over all ranks. */
double mpb_comm_max_double(double v, MPI_Comm comm);

#endif
