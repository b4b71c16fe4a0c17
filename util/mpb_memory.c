#include "mpb_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* The process's mapped size now: field 1 of /proc/self/statm, in pages. */
static uint64_t mapped_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (f != NULL) {
        if (fscanf(f, "%llu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

int mpb_memory_check_headroom(uint64_t need, mpb_error *err)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
        return MPB_OK;
    uint64_t used = mapped_bytes(), limit = (uint64_t)lim.rlim_cur;
    uint64_t left = used < limit ? limit - used : 0;
    if (used == 0 || left >= need)
        return MPB_OK;
    return mpb_fail(err, MPB_ENOMEM,
                    "the address-space limit (ulimit -v %llu KiB) leaves "
                    "%llu MiB after start-up (the process maps %llu MiB); mpiblend needs at "
                    "least %llu MiB of room (Cannot allocate memory): raise ulimit -v",
                    (unsigned long long)(limit >> 10), (unsigned long long)(left >> 20),
                    (unsigned long long)(used >> 20), (unsigned long long)(need >> 20));
}

void *mpb_memory_alloc_large(size_t bytes)
{
    const size_t huge = 2u << 20;
    size_t rounded = (bytes + huge - 1) / huge * huge;
    void *p = aligned_alloc(huge, rounded ? rounded : huge);
#ifdef MADV_HUGEPAGE
    if (p != NULL)
        (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only: fine if refused */
#endif
    return p;
}
