/* Room left under the address-space limit (ulimit -v, RLIMIT_AS).  MPI
 * reserves much of it at start-up, and HDF5 1.10.8 crashes (SIGSEGV in
 * H5AC_create) rather than failing when an allocation inside H5Fopen is
 * refused, so too little room must be an error before any file is opened. */
#ifndef MPB_MEMORY_H
#define MPB_MEMORY_H

#include "mpb_error.h"

#include <stdint.h>

/* The room a command needs beyond what the process already maps before
 * HDF5 opens a file.  With 2 ranks of Open MPI 4.1 and HDF5 1.10.8, 6 MiB
 * sufficed and 3 MiB crashed; larger needs (slabs) fail cleanly as
 * mpiblend's own allocations. */
#define MPB_MEMORY_MIN_HEADROOM (32ull << 20)

/* Fails, naming the limit, the room left and the need, when the address
 * space left under RLIMIT_AS is below `need` bytes; no limit: fine. */
int mpb_memory_check_headroom(uint64_t need, mpb_error *err);

/* A large buffer (held inputs, gigabytes) on 2 MiB boundaries, marked for
 * transparent huge pages where the kernel offers them: first touch then
 * faults one 2 MiB page instead of 512 small ones, which cost a lot under
 * virtual machines.  NULL when out of memory; free with free(). */
void *mpb_memory_alloc_large(size_t bytes);

#endif
