#include "mpb_plan_print.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

static int free_bytes_of_dir(const char *path, uint64_t *free_bytes)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return -1;
    struct statvfs vfs;
    int rc = statvfs(dirname(copy), &vfs);
    free(copy);
    if (rc == 0)
        *free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    return rc;
}

void mpb_plan_print(FILE *out, const mpb_plan *plan, const mpb_index *idx, size_t min_elem_size,
                    uint64_t bytes_read, uint64_t bytes_written, const char *out_path)
{
    fprintf(out, "plan: %zu tensors, %zu items of at most %.1f MiB over %d ranks\n", idx->n,
            plan->n_items, mib(plan->slab_bytes), plan->nranks);
    /* Exact byte counts too: scripts compare them with the real outputs. */
    fprintf(out, "  read %.1f MiB (%llu bytes), write %.1f MiB (%llu bytes) to %s\n",
            mib(bytes_read), (unsigned long long)bytes_read, mib(bytes_written),
            (unsigned long long)bytes_written, out_path);
    for (int r = 0; r < plan->nranks; r++)
        fprintf(out, "  rank %d: %llu items, %.1f MiB (%llu bytes)\n", r,
                (unsigned long long)plan->rank_items[r], mib(plan->rank_bytes[r]),
                (unsigned long long)plan->rank_bytes[r]);
    fprintf(out, "  largest item %.1f MiB\n",
            mib(mpb_plan_max_item_bytes(plan, idx, min_elem_size)));
    uint64_t avail;
    if (free_bytes_of_dir(out_path, &avail) == 0)
        fprintf(out, "  disk: needs %.1f MiB, %.1f MiB free there%s\n", mib(bytes_written),
                mib(avail), avail < bytes_written ? "  ** NOT ENOUGH **" : "");
    double secs = (double)(bytes_read + bytes_written) /
                  (MPB_ESTIMATE_BYTES_PER_SEC_PER_RANK * plan->nranks);
    fprintf(out, "  estimate: about %.1f s at %.1f GB/s per rank\n", secs,
            MPB_ESTIMATE_BYTES_PER_SEC_PER_RANK / 1e9);
}

void mpb_plan_print_io(FILE *out, const mpb_plan *plan, const mpb_index *idx,
                       size_t min_elem_size, const mpb_io_opts *io)
{
    size_t rounds = 0;
    mpb_error err = {0};
    bool collective = io->collective;
    if (!collective ||
        mpb_plan_rounds(plan, idx, min_elem_size, NULL, &rounds, &err) != MPB_OK) {
        fprintf(out, "  I/O: %s transfers\n", collective ? "collective" : "independent");
        return;
    }
    fprintf(out,
            "  I/O: collective transfers in %zu round%s of at most %.1f MiB per rank, %s; "
            "pieces lying elsewhere in a file move independently\n",
            rounds, rounds == 1 ? "" : "s",
            mib(mpb_plan_round_budget(plan, idx, min_elem_size)),
            io->aggregation == MPB_AGGREGATE_OFF
                ? "each rank's block in its own MPI-IO call per file per round, not "
                  "aggregated (--aggregate)"
                : "one collective MPI-IO call per file per round");
}
