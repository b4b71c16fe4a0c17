/* Progress on rank 0: a live bar on a terminal, a plain line every few
 * seconds in batch logs, and one summary line at the end (docs/OPERATIONS.md
 * describes the format).  Other ranks print nothing.
 *
 *   progress: merge 45.2% 0.537/1.188GB bytes=537000000/1188000000 rate=1.21GB/s
 *             tensors=140/310 elapsed=0.4s eta=0.5s
 *   summary: merge wall=1.02s read_bytes=N written_bytes=N read=2.376GB
 *            written=1.188GB rate=3.49GB/s peak_rss_max_rank=326MiB output=PATH
 *
 * (one line each).  Bytes are tensor bytes at the plan's element sizing over
 * the whole job; rank 0's share of the plan stands for the job's progress,
 * and the last line of a pass shows the exact total. */
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
    int bar_width; /* characters of the last terminal line, to clear it */
} mpb_progress;

void mpb_progress_init(mpb_progress *p, const char *what, bool quiet, double interval);

/* Matches mpb_progress_fn (mpb_driver.h). */
void mpb_progress_update(void *p, uint64_t done, uint64_t total, uint64_t plan_total,
                         size_t tensors_done, size_t tensors_total);

/* Collective: the summary needs every rank's peak memory. */
void mpb_progress_finish(mpb_progress *p, MPI_Comm comm, uint64_t bytes_read,
                         uint64_t bytes_written, const char *result_path);

/* Wall-clock seconds since an arbitrary start. */
double mpb_now(void);

/* This process's peak resident memory in MiB. */
double mpb_peak_rss_mib(void);

#endif
