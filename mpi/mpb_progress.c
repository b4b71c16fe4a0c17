#include "mpb_progress.h"

#include "mpb_comm.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double mpb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double mpb_peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

void mpb_progress_init(mpb_progress *p, const char *what, bool quiet, double interval)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    p->out = stderr;
    p->enabled = rank == 0 && !quiet;
    p->tty = isatty(STDERR_FILENO);
    p->interval = interval > 0 ? interval : 5.0;
    p->start = p->last = mpb_now();
    p->what = what;
}

void mpb_progress_update(void *ctx, uint64_t done, uint64_t total, size_t tensors_done,
                         size_t tensors_total)
{
    mpb_progress *p = ctx;
    if (!p->enabled)
        return;
    double now = mpb_now();
    double min_gap = p->tty ? 0.2 : p->interval;
    if (now - p->last < min_gap && done < total)
        return;
    p->last = now;
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    double pct = total ? 100.0 * (double)done / (double)total : 100.0;
    /* Rank 0's share stands for the whole job: the plan balances bytes. */
    if (p->tty) {
        int filled = (int)(pct / 5);
        fprintf(p->out, "\r%s [%-20.*s] %5.1f%%  %.2f GB/s  tensor %zu/%zu  ETA %.0fs ",
                p->what, filled, "####################", pct, rate / 1e9, tensors_done,
                tensors_total, eta);
    } else {
        fprintf(p->out,
                "progress: %s %.1f%% bytes=%llu/%llu rate=%.2fGB/s tensors=%zu/%zu "
                "eta=%.0fs\n",
                p->what, pct, (unsigned long long)done, (unsigned long long)total,
                rate / 1e9, tensors_done, tensors_total, eta);
    }
    fflush(p->out);
}

void mpb_progress_finish(mpb_progress *p, MPI_Comm comm, uint64_t bytes_read,
                         uint64_t bytes_written, const char *result_path)
{
    double peak = mpb_comm_max_double(mpb_peak_rss_mib(), comm);
    if (!p->enabled)
        return;
    double wall = mpb_now() - p->start;
    double moved = (double)(bytes_read + bytes_written);
    if (p->tty)
        fputc('\n', p->out);
    fprintf(p->out,
            "summary: %s wall=%.2fs read=%.3fGB written=%.3fGB rate=%.2fGB/s "
            "peak_rss_max_rank=%.0fMiB output=%s\n",
            p->what, wall, (double)bytes_read / 1e9, (double)bytes_written / 1e9,
            wall > 0 ? moved / wall / 1e9 : 0.0, peak, result_path);
    fflush(p->out);
}
