/* A lock on a folder that two jobs must not write at once (a sweep's
 * --out-dir), safe on NFS and Lustre: the lock file is created with link(),
 * which is atomic on every NFS version, and holds the holder's host, PID,
 * process start and wall-clock start.  docs/RELIABILITY.md, "Locks". */
#ifndef MPB_LOCK_H
#define MPB_LOCK_H

#include "mpb_error.h"

#define MPB_LOCK_NAME ".mpiblend.lock"

typedef struct mpb_lock {
    char *path; /* DIR/.mpiblend.lock while held, else NULL */
    char *text; /* what this process wrote into it */
} mpb_lock;

/* Takes dir's lock.  A lock left by a process of this host that is no
 * longer running is reclaimed, with a note through `note`; any other held
 * lock is an error naming its holder and how to break it. */
int mpb_lock_take(mpb_lock *lock, const char *dir, void (*note)(const char *msg),
                  mpb_error *err);

/* Removes the lock file if it is still this process's; idempotent. */
void mpb_lock_release(mpb_lock *lock);

#endif
