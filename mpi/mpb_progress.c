#include "mpb_progress.h"

#include "mpb_comm.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BAR_CELLS 20

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
    p->bar_width = 0;
}

/* "0.4s" below ten seconds, then "12s", "2m05s", "1h02m05s": readable in
 * a log at a glance, and still one token without spaces. */
static const char *duration(double secs, char *buf, size_t len)
{
    if (secs < 10) {
        snprintf(buf, len, "%.1fs", secs < 0 ? 0.0 : secs);
        return buf;
    }
    unsigned long long s = (unsigned long long)(secs + 0.5);
    if (s < 60)
        snprintf(buf, len, "%llus", s);
    else if (s < 3600)
        snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
    else
        snprintf(buf, len, "%lluh%02llum%02llus", s / 3600, s / 60 % 60, s % 60);
    return buf;
}

static void print_bar(mpb_progress *p, double pct, uint64_t done, uint64_t total, double rate,
                      size_t tensors_done, size_t tensors_total, double eta)
{
    char eta_text[32];
    int filled = (int)(pct / (100.0 / BAR_CELLS));
    int width = fprintf(p->out,
                        "\r%s [%-*.*s] %5.1f%% %.3f/%.3f GB %.2f GB/s tensors %zu/%zu "
                        "ETA %s",
                        p->what, BAR_CELLS, filled, "####################", pct,
                        (double)done / 1e9, (double)total / 1e9, rate / 1e9, tensors_done,
                        tensors_total, duration(eta, eta_text, sizeof eta_text));
    /* A shorter line than the last one leaves its tail on screen otherwise. */
    for (int i = width; i < p->bar_width; i++)
        fputc(' ', p->out);
    if (width > p->bar_width)
        p->bar_width = width;
}

void mpb_progress_update(void *ctx, uint64_t done, uint64_t total, uint64_t plan_total,
                         size_t tensors_done, size_t tensors_total)
{
    mpb_progress *p = ctx;
    if (!p->enabled)
        return;
    double now = mpb_now();
    double min_gap = p->tty ? 0.2 : p->interval;
    bool last = done >= total;
    if (now - p->last < min_gap && !last)
        return;
    p->last = now;
    /* Rank 0's share stands for the whole job: the plan balances bytes. */
    uint64_t job_done =
        last ? plan_total : (uint64_t)((double)done / (double)total * (double)plan_total);
    if (last)
        tensors_done = tensors_total;
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)job_done / elapsed : 0;
    double eta = rate > 0 ? (double)(plan_total - job_done) / rate : 0;
    double pct = plan_total ? 100.0 * (double)job_done / (double)plan_total : 100.0;
    if (p->tty) {
        print_bar(p, pct, job_done, plan_total, rate, tensors_done, tensors_total, eta);
    } else {
        char el[32], et[32];
        fprintf(p->out,
                "progress: %s %.1f%% %.3f/%.3fGB bytes=%llu/%llu rate=%.2fGB/s "
                "tensors=%zu/%zu elapsed=%s eta=%s\n",
                p->what, pct, (double)job_done / 1e9, (double)plan_total / 1e9,
                (unsigned long long)job_done, (unsigned long long)plan_total, rate / 1e9,
                tensors_done, tensors_total, duration(elapsed, el, sizeof el),
                duration(eta, et, sizeof et));
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
    if (p->tty && p->bar_width > 0)
        fputc('\n', p->out);
    fprintf(p->out,
            "summary: %s wall=%.2fs read_bytes=%llu written_bytes=%llu read=%.3fGB "
            "written=%.3fGB rate=%.2fGB/s peak_rss_max_rank=%.0fMiB output=%s\n",
            p->what, wall, (unsigned long long)bytes_read, (unsigned long long)bytes_written,
            (double)bytes_read / 1e9, (double)bytes_written / 1e9,
            wall > 0 ? moved / wall / 1e9 : 0.0, peak, result_path);
    fflush(p->out);
}
