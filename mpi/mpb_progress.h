/* Progress on rank 0: a live bar on a terminal, a plain line every few
 * seconds in batch logs, and one summary line at the end. */
#ifndef MPB_PROGRESS_H
#define MPB_PROGRESS_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct mpb_progress {
    FILE *out;
    bool enabled, tty;
    double interval, start, last;
    const char *what;
} mpb_progress;

void mpb_progress_init(mpb_progress *p, const char *what, bool quiet, double interval);

/* Matches mpb_progress_fn (mpb_driver.h). */
void mpb_progress_update(void *p, uint64_t done, uint64_t total, size_t tensors_done,
                         size_t tensors_total);

/* Collective: the summary needs every rank's peak memory. */
void mpb_progress_finish(mpb_progress *p, MPI_Comm comm, uint64_t bytes_read,
                         uint64_t bytes_written, const char *result_path);

/* Wall-clock seconds since an arbitrary start. */
double mpb_now(void);

/* This process's peak resident memory in MiB. */
double mpb_peak_rss_mib(void);

#endif
