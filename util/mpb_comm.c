#include "mpb_comm.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A rank that reaches the agreement before its partners would spin inside
 * MPI at full speed; where ranks share cores (oversubscribed, or a node
 * shared with other jobs) that spinning takes the CPU from the ranks still
 * working, once per collective round.  So after a short spin the wait
 * sleeps, in naps growing from 20 to 200 microseconds: far below a round's
 * work, and nothing at all where every rank has its own core and arrives on
 * time.  (Open MPI's mpi_yield_when_idle only calls sched_yield, which the
 * Linux scheduler mostly ignores.)  qwen3-0.6b, 2 ranks, --io collective
 * on a loaded node: 8.84 s spinning, 6.86 s napping (docs/PERFORMANCE.md). */
#define POLITE_SPINS 64
#define POLITE_NAP_MIN_NS 20000L
#define POLITE_NAP_MAX_NS 200000L

static void wait_politely(MPI_Request *req)
{
    long nap = POLITE_NAP_MIN_NS;
    for (int spins = 0;; spins++) {
        int done = 0;
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        if (spins < POLITE_SPINS)
            continue;
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        nap = nap * 2 < POLITE_NAP_MAX_NS ? nap * 2 : POLITE_NAP_MAX_NS;
    }
}

void mpb_comm_ballot_cast(mpb_comm_ballot *b, const mpb_error *err, MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    b->first_failed = err->code != MPB_OK ? rank : size;
    MPI_Iallreduce(&b->first_failed, &b->lowest, 1, MPI_INT, MPI_MIN, comm, &b->req);
}

int mpb_comm_ballot_count(mpb_comm_ballot *b, mpb_error *err, MPI_Comm comm)
{
    int size;
    MPI_Comm_size(comm, &size);
    wait_politely(&b->req);
    if (b->lowest == size)
        return MPB_OK;
    /* Ship the failing rank's code and message to everyone. */
    MPI_Bcast(err, (int)sizeof *err, MPI_BYTE, b->lowest, comm);
    return err->code;
}

int mpb_comm_agree(mpb_error *err, MPI_Comm comm)
{
    mpb_comm_ballot b;
    mpb_comm_ballot_cast(&b, err, comm);
    return mpb_comm_ballot_count(&b, err, comm);
}

int mpb_comm_bcast_bytes(unsigned char **buf, size_t *len, int root, MPI_Comm comm,
                         mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    unsigned long long n = rank == root ? (unsigned long long)*len : 0;
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, comm);
    if (rank != root) {
        *buf = malloc(n ? n : 1);
        *len = (size_t)n;
    }
    int ok = *buf != NULL, all_ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    if (!all_ok)
        return mpb_fail(err, MPB_ENOMEM, "out of memory receiving %llu bytes", n);
    /* MPI counts are ints: move anything larger in pieces. */
    for (unsigned long long off = 0; off < n; off += INT_MAX) {
        unsigned long long piece = n - off < INT_MAX ? n - off : INT_MAX;
        MPI_Bcast(*buf + off, (int)piece, MPI_BYTE, root, comm);
    }
    return MPB_OK;
}

int mpb_comm_bcast_string(char **s, int root, MPI_Comm comm, mpb_error *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int present = rank == root ? *s != NULL : 0;
    MPI_Bcast(&present, 1, MPI_INT, root, comm);
    if (!present) {
        if (rank != root)
            *s = NULL;
        return MPB_OK;
    }
    size_t len = rank == root ? strlen(*s) + 1 : 0;
    unsigned char *buf = rank == root ? (unsigned char *)*s : NULL;
    int rc = mpb_comm_bcast_bytes(&buf, &len, root, comm, err);
    if (rc == MPB_OK && rank != root)
        *s = (char *)buf;
    return rc;
}

double mpb_comm_max_double(double v, MPI_Comm comm)
{
    double max;
    MPI_Allreduce(&v, &max, 1, MPI_DOUBLE, MPI_MAX, comm);
    return max;
}
